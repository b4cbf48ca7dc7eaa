/* A libFuzzer target for the CSV writer's escaping (export_csv_field_write, every export's and
 * report's CSV cells): each input, as a cell's text, is written as one field of one record, as
 * text and as a number, and read back with fundflow's own RFC 4180 reader (csv.c).
 *
 * Beyond "no crash, no undefined behaviour", it checks the writer's promises: the record reads as
 * one field holding exactly the text, with a text cell that a spreadsheet would take for a
 * formula (starting =, +, -, @, tab or CR) behind a "'" (a number cell is never changed), so that
 * no text can split a cell, start a record, or run as a formula. Inside the quotes the reader
 * keeps every byte, carriage returns too (alone or before a line feed), so the text comes back
 * exactly.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Within the reader's bounds with room for the quote and "'" the writer may add. */
#define FUZZ_CELL_BYTES_MAX (CSV_FIELD_BYTES_MAX / 2)

static void fuzz_cell(const char *text, bool number) {
    char *written = NULL;
    size_t written_bytes = 0;
    FILE *out = open_memstream(&written, &written_bytes);
    assert(out != NULL);
    export_csv_field_write(text, number, out);
    fputs("\r\n", out);
    assert(fclose(out) == 0);

    bool neutralised = !number && text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
    /* What the reader gives back: the text itself, behind the "'" if the writer added one. */
    char expected[FUZZ_CELL_BYTES_MAX + 2];
    snprintf(expected, sizeof expected, "%s%s", neutralised ? "'" : "", text);

    csv_reader *reader = NULL;
    char error[CSV_ERROR_BYTES];
    assert(csv_reader_open_memory(written, written_bytes, "fuzz.csv", &reader, error,
                                  sizeof error) == FF_OK);
    csv_record record;
    ff_err rc = csv_reader_next(reader, &record);
    if (expected[0] == '\0') {
        /* An empty cell is a blank line, which the reader skips. */
        assert(rc == FF_ERR_EVENT_UNKNOWN);
    } else {
        assert(rc == FF_OK);
        assert(record.field_count == 1);
        assert(strcmp(record.fields[0], expected) == 0);
        assert(csv_reader_next(reader, &record) == FF_ERR_EVENT_UNKNOWN);
    }
    csv_reader_close(reader);
    free(written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char text[FUZZ_CELL_BYTES_MAX + 1];
    size_t length = size < FUZZ_CELL_BYTES_MAX ? size : FUZZ_CELL_BYTES_MAX;
    memcpy(text, data, length);
    text[length] = '\0';
    /* The reader skips a UTF-8 byte order mark at the start of a file, as Excel writes one; the
     * writer puts one before the whole file, never in a cell, so a cell starting so is left out. */
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) return 0;
    fuzz_cell(text, false);
    fuzz_cell(text, true);
    return 0;
}
