/* Reads a CSV file through a mapping (mapping.h): checks what the file is, takes its hash,
 * finds the mapped columns in its heading and hands out each row's named fields. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "csv.h"
#include "mapping.h"
#include "mapping_internal.h"

/* Where each field's value comes from in a record: a column index, or none for a constant. */
#define MAPPED_NO_COLUMN ((size_t)-1)

struct mapped_reader {
    const mapping *map;
    char *path;
    char *data;                  /* the whole file */
    size_t size;
    uint8_t sha256[SHA256_DIGEST_LENGTH];
    csv_reader *csv;
    size_t row_count;
    size_t column_of[MAPPING_FIELDS_MAX];
    char *column_labels[MAPPING_FIELDS_MAX];
    size_t reference_column;     /* MAPPED_NO_COLUMN without a reference */
    ff_err failed;
    char values[MAPPING_FIELDS_MAX + 1][CSV_FIELD_BYTES_MAX + 1];
    char error[MAPPING_ERROR_BYTES];
};

static ff_err mapped_fail(mapped_reader *reader, ff_err code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static ff_err mapped_fail(mapped_reader *reader, ff_err code, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reader->error, sizeof reader->error, format, arguments);
    va_end(arguments);
    reader->failed = code;
    return code;
}

/* Reads the whole file, refusing one beyond CSV_IMPORT_FILE_BYTES_MAX: it reads up to one byte
 * more than the limit, to tell a file at the limit from one beyond it. */
static ff_err mapped_file_read(mapped_reader *reader) {
    FILE *file = fopen(reader->path, "rb");
    if (file == NULL) return mapped_fail(reader, FF_ERR_IO, "%s: %s", reader->path, strerror(errno));
    const size_t most = (size_t)CSV_IMPORT_FILE_BYTES_MAX + 1;
    size_t capacity = 1 << 16;
    ff_err err = FF_OK;
    for (;;) {
        char *grown = realloc(reader->data, capacity);
        if (grown == NULL) {
            err = mapped_fail(reader, FF_ERR_NO_MEMORY, "out of memory");
            break;
        }
        reader->data = grown;
        reader->size += fread(reader->data + reader->size, 1, capacity - reader->size, file);
        if (ferror(file)) {
            err = mapped_fail(reader, FF_ERR_IO, "%s: cannot be read", reader->path);
            break;
        }
        if (reader->size == most) {
            err = mapped_fail(reader, FF_ERR_FIELD_TOO_LONG,
                              "%s: the file is larger than %u bytes, the limit for one file",
                              reader->path, CSV_IMPORT_FILE_BYTES_MAX);
            break;
        }
        if (reader->size < capacity) break;
        capacity = capacity > most / 2 ? most : capacity * 2;
    }
    fclose(file);
    return err;
}

/* The length of the UTF-8 sequence at bytes (size available), or 0 if it is not valid UTF-8:
 * no overlong forms, surrogates or code points beyond U+10FFFF. */
static size_t mapped_utf8_length(const unsigned char *bytes, size_t size) {
    unsigned char lead = bytes[0];
    if (lead < 0x80) return 1;
    size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || length > size) return 0;
    for (size_t i = 1; i < length; i++) {
        if ((bytes[i] & 0xC0) != 0x80) return 0;
    }
    if (lead == 0xE0 && bytes[1] < 0xA0) return 0;
    if (lead == 0xED && bytes[1] >= 0xA0) return 0;
    if (lead == 0xF0 && bytes[1] < 0x90) return 0;
    if (lead == 0xF4 && bytes[1] >= 0x90) return 0;
    return length;
}

/* Refuses what is not CSV in UTF-8: ZIP (XLSX), UTF-16, a NUL byte, bytes not UTF-8. */
static ff_err mapped_encoding_check(mapped_reader *reader) {
    const unsigned char *bytes = (const unsigned char *)reader->data;
    size_t size = reader->size;
    if (size >= 4 && memcmp(bytes, "PK\x03\x04", 4) == 0) {
        return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                           "%s: this is an XLSX or other ZIP file, not CSV; save it from Excel "
                           "as CSV UTF-8",
                           reader->path);
    }
    if (size >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) ||
                      (bytes[0] == 0xFE && bytes[1] == 0xFF))) {
        return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                           "%s: this is UTF-16 text (Excel's \"Unicode text\"), not UTF-8; save "
                           "it from Excel as CSV UTF-8",
                           reader->path);
    }
    size_t line = 1;
    for (size_t offset = 0; offset < size;) {
        if (bytes[offset] == '\0') {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                               "%s line %zu: a NUL byte, so this is not a CSV text file",
                               reader->path, line);
        }
        size_t length = mapped_utf8_length(bytes + offset, size - offset);
        if (length == 0) {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                               "%s line %zu: byte 0x%02X is not UTF-8 (Windows-1252's £ is the "
                               "usual one); save it from Excel as CSV UTF-8",
                               reader->path, line, bytes[offset]);
        }
        if (bytes[offset] == '\n') line++;
        offset += length;
    }
    return FF_OK;
}

/* Whether a record has nothing but empty or space-only cells, as Excel writes ",,,,". */
static bool mapped_record_blank(const csv_record *record) {
    for (size_t i = 0; i < record->field_count; i++) {
        if (strspn(record->fields[i], " \t") != strlen(record->fields[i])) return false;
    }
    return true;
}

/* Opens a CSV reader over the file's bytes. */
static ff_err mapped_csv_open(mapped_reader *reader, csv_reader **csv_out) {
    ff_err err = csv_reader_open_memory(reader->data, reader->size, reader->path, csv_out,
                                        reader->error, sizeof reader->error);
    if (err != FF_OK) return mapped_fail(reader, err, "out of memory");
    csv_reader_lines_max_set(*csv_out, CSV_IMPORT_LINES_MAX);
    return FF_OK;
}

/* Counts the data rows, up to the first malformed record (which next reports when it gets
 * there). */
static ff_err mapped_rows_count(mapped_reader *reader) {
    csv_reader *counter = NULL;
    ff_err err = mapped_csv_open(reader, &counter);
    if (err != FF_OK) return err;
    csv_record record;
    size_t records = 0;
    bool heading = reader->map->has_header;
    while (csv_reader_next(counter, &record) == FF_OK) {
        /* The heading is the first record, as mapped_columns_find reads it, even if empty. */
        if (heading) heading = false;
        else if (!mapped_record_blank(&record)) records++;
    }
    csv_reader_close(counter);
    reader->row_count = records;
    return FF_OK;
}

/* Copies text into buffer trimmed of surrounding spaces and tabs. */
static const char *mapped_trimmed_copy(char *buffer, const char *text) {
    size_t length = strlen(text);
    assert(length <= CSV_FIELD_BYTES_MAX);
    while (length > 0 && (*text == ' ' || *text == '\t')) text++, length--;
    while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t')) length--;
    memcpy(buffer, text, length);
    buffer[length] = '\0';
    return buffer;
}

/* Whether heading, trimmed, equals wanted ignoring case. */
static bool mapped_heading_matches(const char *heading, const char *wanted) {
    char trimmed[CSV_FIELD_BYTES_MAX + 1];
    mapped_trimmed_copy(trimmed, heading);
    return strcasecmp(trimmed, wanted) == 0;
}

/* Lists the file's headings in the error, after a lead sentence. */
static ff_err mapped_heading_missing(mapped_reader *reader, const csv_record *header,
                                     const char *heading, const char *field) {
    mapped_fail(reader, FF_ERR_TEXT_INVALID,
                "%s line %zu: no column headed \"%s\" (for %s); the headings are:", reader->path,
                header->line, heading, field);
    for (size_t i = 0; i < header->field_count; i++) {
        size_t used = strlen(reader->error);
        snprintf(reader->error + used, sizeof reader->error - used, "%s \"%s\"",
                 i == 0 ? "" : ",", header->fields[i]);
    }
    return reader->failed;
}

/* Finds the column for heading (a heading or #N), and its label for messages. */
static ff_err mapped_column_find(mapped_reader *reader, const csv_record *header,
                                 const char *heading, size_t position, const char *field,
                                 size_t *column_out, char **label_out) {
    if (position > 0) {
        if (header != NULL && position > header->field_count) {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                               "%s line %zu: column %s (for %s) is beyond the heading's %zu "
                               "columns",
                               reader->path, header->line, heading, field, header->field_count);
        }
        *column_out = position - 1;
        *label_out = strdup(heading);
    } else {
        if (header == NULL) {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                               "%s: the mapping says header = none, so column \"%s\" (for %s) "
                               "must be named by position, such as #1",
                               reader->path, heading, field);
        }
        int found = -1;
        for (size_t i = 0; i < header->field_count && found < 0; i++) {
            if (mapped_heading_matches(header->fields[i], heading)) found = (int)i;
        }
        if (found < 0) return mapped_heading_missing(reader, header, heading, field);
        *column_out = (size_t)found;
        char trimmed[CSV_FIELD_BYTES_MAX + 1];
        *label_out = strdup(mapped_trimmed_copy(trimmed, header->fields[found]));
    }
    if (*label_out == NULL) return mapped_fail(reader, FF_ERR_NO_MEMORY, "out of memory");
    return FF_OK;
}

/* Finds the reference column, written as a heading ("quoted" or not) or #N. */
static ff_err mapped_reference_find(mapped_reader *reader, const csv_record *header) {
    reader->reference_column = MAPPED_NO_COLUMN;
    const char *written = reader->map->directives[MAPPING_DIRECTIVE_REFERENCE];
    if (written == NULL) return FF_OK;
    char heading[MAPPING_TEXT_BYTES_MAX + 1];
    size_t length = strlen(written);
    assert(length <= MAPPING_TEXT_BYTES_MAX);
    if (length >= 2 && written[0] == '"' && written[length - 1] == '"') {
        memcpy(heading, written + 1, length - 2);
        heading[length - 2] = '\0';
    } else {
        memcpy(heading, written, length + 1);
    }
    size_t position = 0;
    if (heading[0] == '#' && heading[1] != '\0' && strspn(heading + 1, "0123456789") == strlen(heading + 1)) {
        position = strlen(heading) > 4 ? CSV_FIELDS_MAX + 1 : (size_t)atoi(heading + 1);
        if (position == 0 || position > CSV_FIELDS_MAX) {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                               "%s: reference %s is not a position from #1 to #%d", reader->path,
                               heading, CSV_FIELDS_MAX);
        }
    }
    char *label = NULL;
    ff_err err = mapped_column_find(reader, header, heading, position, "reference",
                                    &reader->reference_column, &label);
    free(label);
    return err;
}

/* Reads the heading row (unless there is none) and finds every mapped column in it. */
static ff_err mapped_columns_find(mapped_reader *reader) {
    csv_record header;
    const csv_record *heading_row = NULL;
    if (reader->map->has_header) {
        ff_err err = csv_reader_next(reader->csv, &header);
        if (err == FF_ERR_EVENT_UNKNOWN) {
            return mapped_fail(reader, FF_ERR_TEXT_INVALID, "%s: the file is empty; it has no "
                               "heading row", reader->path);
        }
        if (err != FF_OK) return mapped_fail(reader, err, "%s", csv_reader_error(reader->csv));
        heading_row = &header;
    }
    const mapping *map = reader->map;
    for (size_t i = 0; i < map->field_count; i++) {
        const mapping_field *field = &map->fields[i];
        ff_err err = FF_OK;
        reader->column_of[i] = MAPPED_NO_COLUMN;
        if (field->constant != NULL) {
            reader->column_labels[i] = strdup("set");
            if (reader->column_labels[i] == NULL) err = mapped_fail(reader, FF_ERR_NO_MEMORY, "out of memory");
        } else {
            err = mapped_column_find(reader, heading_row, field->heading, field->position,
                                     field->name, &reader->column_of[i],
                                     &reader->column_labels[i]);
        }
        if (err != FF_OK) return err;
    }
    return mapped_reference_find(reader, heading_row);
}

ff_err mapped_reader_open(const char *path, const mapping *map, mapped_reader **reader_out,
                          char *error, size_t error_bytes) {
    assert(path != NULL && map != NULL && reader_out != NULL);
    assert(error != NULL || error_bytes == 0);
    *reader_out = NULL;
    if (error_bytes > 0) error[0] = '\0';
    mapped_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL || (reader->path = strdup(path)) == NULL) {
        if (error_bytes > 0) snprintf(error, error_bytes, "out of memory");
        free(reader);
        return FF_ERR_NO_MEMORY;
    }
    reader->map = map;
    ff_err err = mapped_file_read(reader);
    if (err == FF_OK) err = mapped_encoding_check(reader);
    if (err == FF_OK) {
        SHA256((const unsigned char *)reader->data, reader->size, reader->sha256);
        err = mapped_rows_count(reader);
    }
    if (err == FF_OK) err = mapped_csv_open(reader, &reader->csv);
    if (err == FF_OK) err = mapped_columns_find(reader);
    if (err != FF_OK) {
        if (error_bytes > 0) snprintf(error, error_bytes, "%s", reader->error);
        mapped_reader_close(reader);
        return err;
    }
    *reader_out = reader;
    return FF_OK;
}

/* Reads the next record that is not blank. */
static ff_err mapped_record_next(mapped_reader *reader, csv_record *record) {
    for (;;) {
        ff_err err = csv_reader_next(reader->csv, record);
        if (err == FF_ERR_EVENT_UNKNOWN) return err;
        if (err != FF_OK) return mapped_fail(reader, err, "%s", csv_reader_error(reader->csv));
        if (!mapped_record_blank(record)) return FF_OK;
    }
}

/* The trimmed text of column for the field named what, refusing a row too short for it. */
static ff_err mapped_cell_take(mapped_reader *reader, const csv_record *record, size_t column,
                               const char *label, const char *what, char *buffer,
                               const char **value_out) {
    if (column >= record->field_count) {
        return mapped_fail(reader, FF_ERR_TEXT_INVALID,
                           "%s line %zu, column %s: the row has %zu cells, too few for %s",
                           reader->path, record->line, label, record->field_count, what);
    }
    *value_out = mapped_trimmed_copy(buffer, record->fields[column]);
    return FF_OK;
}

ff_err mapped_reader_next(mapped_reader *reader, mapped_row *row) {
    assert(reader != NULL && row != NULL);
    if (reader->failed != FF_OK) return reader->failed;
    memset(row, 0, sizeof *row);
    csv_record record;
    ff_err err = mapped_record_next(reader, &record);
    if (err != FF_OK) return err;
    const mapping *map = reader->map;
    row->line = record.line;
    row->field_count = map->field_count;
    for (size_t i = 0; i < map->field_count && err == FF_OK; i++) {
        row->names[i] = map->fields[i].name;
        row->columns[i] = reader->column_labels[i];
        if (reader->column_of[i] == MAPPED_NO_COLUMN) {
            row->values[i] = map->fields[i].constant;
        } else {
            err = mapped_cell_take(reader, &record, reader->column_of[i], row->columns[i],
                                   map->fields[i].name, reader->values[i], &row->values[i]);
        }
    }
    if (err == FF_OK && reader->reference_column != MAPPED_NO_COLUMN) {
        err = mapped_cell_take(reader, &record, reader->reference_column,
                               map->directives[MAPPING_DIRECTIVE_REFERENCE], "the reference",
                               reader->values[MAPPING_FIELDS_MAX], &row->reference);
    }
    if (err != FF_OK) memset(row, 0, sizeof *row);
    return err;
}

const char *mapped_reader_error(const mapped_reader *reader) { return reader->error; }

const uint8_t *mapped_reader_file_sha256(const mapped_reader *reader) { return reader->sha256; }

const char *mapped_reader_file_name(const mapped_reader *reader) {
    const char *slash = strrchr(reader->path, '/');
    return slash == NULL ? reader->path : slash + 1;
}

size_t mapped_reader_row_count(const mapped_reader *reader) { return reader->row_count; }

void mapped_reader_close(mapped_reader *reader) {
    if (reader == NULL) return;
    csv_reader_close(reader->csv);
    for (size_t i = 0; i < MAPPING_FIELDS_MAX; i++) free(reader->column_labels[i]);
    free(reader->data);
    free(reader->path);
    free(reader);
}
