/* A libFuzzer target for the tabular readers: the mapping-file parser, the CSV reader, and the
 * reader of CSV files through a mapping with its date and amount conversions.
 *
 * An input is a mapping and a CSV file separated by a line "%%" (without one, the whole input
 * is tried as both). Beyond "no crash, no leak, no undefined behaviour", it checks the readers'
 * promises: every refusal has a message, every row has the mapping's field count, and once the
 * reader has failed it keeps returning the same error.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csv.h"
#include "mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every record of the CSV bytes with the plain reader. */
static void fuzz_csv(const char *csv, size_t size) {
    csv_reader *reader = NULL;
    char error[CSV_ERROR_BYTES];
    ff_err rc = csv_reader_open_memory(csv, size, "fuzz.csv", &reader, error, sizeof error);
    assert(rc == FF_OK);
    csv_record record;
    size_t last_line = 0;
    while ((rc = csv_reader_next(reader, &record)) == FF_OK) {
        assert(record.field_count >= 1 && record.field_count <= CSV_FIELDS_MAX);
        assert(record.line > last_line);
        last_line = record.line;
        for (size_t i = 0; i < record.field_count; i++) {
            assert(strlen(record.fields[i]) <= CSV_FIELD_BYTES_MAX);
        }
    }
    if (rc != FF_ERR_EVENT_UNKNOWN) {
        assert(csv_reader_error(reader)[0] != '\0');
        assert(csv_reader_next(reader, &record) == rc);
    }
    csv_reader_close(reader);
}

/* Converts a cell as a date and as an amount, checking the outputs are terminated. */
static void fuzz_conversions(const mapping *map, const char *value) {
    char date[11];
    if (mapping_date_to_iso(map, value, date, sizeof date, NULL)) assert(strlen(date) == 10);
    char amount[64];
    const char *problem = NULL;
    if (mapping_amount_to_pounds(map, value, amount, sizeof amount, &problem)) {
        assert(strlen(amount) < sizeof amount);
    } else {
        assert(problem != NULL);
    }
}

/* The CSV bytes in a memory file, reachable by path, so the mapped reader opens them as a
 * file without touching the disk. */
static int fuzz_memory_file = -1;

static void fuzz_mapped_reader(const mapping *map, const char *csv, size_t size) {
    if (fuzz_memory_file < 0) {
        fuzz_memory_file = memfd_create("fuzz_mapping", 0);
        assert(fuzz_memory_file >= 0);
    }
    int rc_truncate = ftruncate(fuzz_memory_file, 0);
    assert(rc_truncate == 0);
    ssize_t written = size > 0 ? pwrite(fuzz_memory_file, csv, size, 0) : 0;
    assert(written == (ssize_t)size);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fuzz_memory_file);
    mapped_reader *reader = NULL;
    char error[MAPPING_ERROR_BYTES];
    ff_err rc = mapped_reader_open(path, map, &reader, error, sizeof error);
    if (rc != FF_OK) {
        assert(reader == NULL && error[0] != '\0');
        return;
    }
    mapped_row row;
    size_t rows = 0;
    while ((rc = mapped_reader_next(reader, &row)) == FF_OK) {
        assert(row.field_count == mapping_field_count(map));
        for (size_t i = 0; i < row.field_count; i++) {
            assert(row.names[i] != NULL && row.values[i] != NULL && row.columns[i] != NULL);
            fuzz_conversions(map, row.values[i]);
        }
        rows++;
    }
    assert(rows <= mapped_reader_row_count(reader));
    if (rc != FF_ERR_EVENT_UNKNOWN) {
        assert(mapped_reader_error(reader)[0] != '\0');
        assert(mapped_reader_next(reader, &row) == rc);
    } else {
        assert(rows == mapped_reader_row_count(reader));
    }
    mapped_reader_close(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *csv = text;
    size_t mapping_size = size, csv_size = size;
    const char *separator = memmem(text, size, "\n%%\n", 4);
    if (separator != NULL) {
        mapping_size = (size_t)(separator - text) + 1;
        csv = separator + 4;
        csv_size = size - mapping_size - 3;
    }
    fuzz_csv(csv, csv_size);
    mapping *map = NULL;
    char error[MAPPING_ERROR_BYTES];
    ff_err rc = mapping_parse(text, mapping_size, "fuzz.map", &map, error, sizeof error);
    if (rc != FF_OK) {
        assert(map == NULL && error[0] != '\0');
        return 0;
    }
    for (size_t i = 0; i < mapping_field_count(map); i++) {
        assert(mapping_field_name(map, i)[0] != '\0');
    }
    fuzz_mapped_reader(map, csv, csv_size);
    mapping_free(map);
    return 0;
}
