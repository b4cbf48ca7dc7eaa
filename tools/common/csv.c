/* Reads comma-separated files record by record: quoted fields, doubled quotes, LF or CRLF. */
#include "csv.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
    FILE *file;           /* NULL when reading from memory */
    const char *memory;   /* the bytes read by csv_reader_open_memory, not owned */
    size_t memory_size;
    size_t memory_offset;
    size_t lines_max;     /* CSV_LINES_MAX unless csv_reader_lines_max_set says otherwise */
    char *path;
    size_t line;          /* the line the next byte belongs to, counting from 1 */
    size_t records_read;  /* so the byte order mark is looked for only in the first */
    ff_err failed;        /* once set, every later call returns it */
    size_t text_used;     /* bytes of text taken by the record being read */
    char text[CSV_RECORD_BYTES_MAX];
    char error[CSV_ERROR_BYTES];
};

/* What ended a field: a comma, the end of a line, or the end of the file. */
typedef enum csv_field_end {
    CSV_FIELD_END_COMMA,
    CSV_FIELD_END_LINE,
    CSV_FIELD_END_FILE,
} csv_field_end;

static ff_err csv_reader_fail(csv_reader *reader, ff_err code, size_t line, const char *format,
                              ...) __attribute__((format(printf, 4, 5)));

static ff_err csv_reader_fail(csv_reader *reader, ff_err code, size_t line, const char *format,
                              ...) {
    assert(code != FF_OK);
    /* The message is cut short rather than refused if a long path leaves too little room. */
    int prefix_length = snprintf(reader->error, sizeof reader->error, "%s line %zu: ",
                                 reader->path, line);
    size_t used = prefix_length < 0 ? 0 : (size_t)prefix_length;
    if (used < sizeof reader->error) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(reader->error + used, sizeof reader->error - used, format, arguments);
        va_end(arguments);
    }
    reader->failed = code;
    return code;
}

ff_err csv_reader_open(const char *path, csv_reader **reader_out, char *error,
                       size_t error_bytes) {
    assert(path != NULL && reader_out != NULL);
    assert(error != NULL || error_bytes == 0);
    *reader_out = NULL;
    if (error_bytes > 0) error[0] = '\0';
    csv_reader *reader = calloc(1, sizeof *reader);
    ff_err err = FF_ERR_NO_MEMORY;
    if (reader == NULL) goto fail;
    reader->path = strdup(path);
    if (reader->path == NULL) goto fail;
    reader->file = fopen(path, "rb");
    if (reader->file == NULL) {
        err = FF_ERR_IO;
        if (error_bytes > 0) snprintf(error, error_bytes, "%s: %s", path, strerror(errno));
        goto fail;
    }
    reader->line = 1;
    reader->lines_max = CSV_LINES_MAX;
    *reader_out = reader;
    return FF_OK;
fail:
    if (err == FF_ERR_NO_MEMORY && error_bytes > 0) snprintf(error, error_bytes, "out of memory");
    csv_reader_close(reader);
    return err;
}

ff_err csv_reader_open_memory(const char *data, size_t size, const char *name,
                              csv_reader **reader_out, char *error, size_t error_bytes) {
    assert(name != NULL && reader_out != NULL && (data != NULL || size == 0));
    assert(error != NULL || error_bytes == 0);
    *reader_out = NULL;
    if (error_bytes > 0) error[0] = '\0';
    csv_reader *reader = calloc(1, sizeof *reader);
    if (reader != NULL) reader->path = strdup(name);
    if (reader == NULL || reader->path == NULL) {
        if (error_bytes > 0) snprintf(error, error_bytes, "out of memory");
        csv_reader_close(reader);
        return FF_ERR_NO_MEMORY;
    }
    reader->memory = data;
    reader->memory_size = size;
    reader->line = 1;
    reader->lines_max = CSV_LINES_MAX;
    *reader_out = reader;
    return FF_OK;
}

void csv_reader_lines_max_set(csv_reader *reader, size_t lines_max) {
    assert(reader != NULL && lines_max >= 1);
    reader->lines_max = lines_max;
}

void csv_reader_close(csv_reader *reader) {
    if (reader == NULL) return;
    if (reader->file != NULL) fclose(reader->file);
    free(reader->path);
    free(reader);
}

const char *csv_reader_error(const csv_reader *reader) { return reader->error; }

const char *csv_reader_path(const csv_reader *reader) { return reader->path; }

int csv_record_column_find(const csv_record *header, const char *name) {
    assert(header->field_count <= CSV_FIELDS_MAX);
    for (size_t i = 0; i < header->field_count; i++) {
        if (strcmp(header->fields[i], name) == 0) return (int)i;
    }
    return -1;
}

/* Adds one byte to the field that began at field_start, refusing to pass either limit. The
 * record's final terminator needs a byte of its own, so the last byte of text is never used. */
static ff_err csv_byte_append(csv_reader *reader, size_t field_start, int byte) {
    assert(field_start <= reader->text_used);
    if (byte == '\0') {
        return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, reader->line,
                               "a field holds a NUL byte, so this is not a text file");
    }
    if (reader->text_used - field_start >= CSV_FIELD_BYTES_MAX) {
        return csv_reader_fail(reader, FF_ERR_FIELD_TOO_LONG, reader->line,
                               "a field is longer than %d bytes", CSV_FIELD_BYTES_MAX);
    }
    if (reader->text_used + 1 >= sizeof reader->text) {
        return csv_reader_fail(reader, FF_ERR_FIELD_TOO_LONG, reader->line,
                               "a record is longer than %d bytes", CSV_RECORD_BYTES_MAX);
    }
    reader->text[reader->text_used++] = (char)byte;
    return FF_OK;
}

/* Moves on to the next line, refusing to read past the line limit. */
static ff_err csv_line_advance(csv_reader *reader) {
    if (reader->line >= reader->lines_max) {
        return csv_reader_fail(reader, FF_ERR_FIELD_TOO_LONG, reader->line,
                               "the file has more than %zu lines", reader->lines_max);
    }
    reader->line++;
    return FF_OK;
}

/* The next raw byte from the file or the memory, or EOF. */
static int csv_raw_byte_get(csv_reader *reader) {
    if (reader->file != NULL) return getc(reader->file);
    if (reader->memory_offset >= reader->memory_size) return EOF;
    return (unsigned char)reader->memory[reader->memory_offset++];
}

/* Reads a byte as it is, or EOF, refusing a file that cannot be read. */
static ff_err csv_byte_read_verbatim(csv_reader *reader, int *byte_out) {
    int byte = csv_raw_byte_get(reader);
    if (byte == EOF && reader->file != NULL && ferror(reader->file)) {
        return csv_reader_fail(reader, FF_ERR_IO, reader->line, "cannot read: %s",
                               strerror(errno));
    }
    *byte_out = byte;
    return FF_OK;
}

/* Reads a byte outside quotes, turning CRLF into LF. A carriage return on its own is refused
 * there, since it would hide a line break from anyone reading the file on another system. */
static ff_err csv_byte_read(csv_reader *reader, int *byte_out) {
    ff_err err = csv_byte_read_verbatim(reader, byte_out);
    if (err != FF_OK || *byte_out != '\r') return err;
    err = csv_byte_read_verbatim(reader, byte_out);
    if (err == FF_OK && *byte_out != '\n') {
        return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, reader->line,
                               "a carriage return is not followed by a line feed");
    }
    return err;
}

/* Says what the byte after a field means: a comma, a line end or the file's end. */
static ff_err csv_field_end_classify(csv_reader *reader, int byte, csv_field_end *end_out) {
    if (byte == ',') *end_out = CSV_FIELD_END_COMMA;
    else if (byte == '\n') *end_out = CSV_FIELD_END_LINE;
    else if (byte == EOF) *end_out = CSV_FIELD_END_FILE;
    else if (byte >= 0x20 && byte < 0x7F) {
        return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, reader->line,
                               "a closing quote is followed by '%c' rather than a comma or the "
                               "end of the line",
                               byte);
    } else {
        return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, reader->line,
                               "a closing quote is followed by byte 0x%02X rather than a comma "
                               "or the end of the line",
                               (unsigned)byte);
    }
    return FF_OK;
}

/* Reads the rest of a quoted field, after its opening quote, up to the byte after its closing
 * quote. Line breaks inside the quotes belong to the field byte for byte, as RFC 4180 allows: a
 * carriage return, alone or before a line feed, is kept (the CLI's writer quotes a cell holding
 * one); only a line feed starts a new line in the reader's count. */
static ff_err csv_quoted_field_read(csv_reader *reader, size_t field_start, int *next_out) {
    size_t opened_line = reader->line;
    for (;;) {
        int byte = 0;
        ff_err err = csv_byte_read_verbatim(reader, &byte);
        if (err != FF_OK) return err;
        if (byte == EOF) {
            return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, opened_line,
                                   "a quoted field is not closed before the end of the file");
        }
        if (byte == '"') {
            err = csv_byte_read(reader, &byte);
            if (err != FF_OK) return err;
            /* A doubled quote stands for one quote; anything else closes the field. */
            if (byte != '"') {
                *next_out = byte;
                return FF_OK;
            }
        } else if (byte == '\n') {
            err = csv_line_advance(reader);
            if (err != FF_OK) return err;
        }
        err = csv_byte_append(reader, field_start, byte);
        if (err != FF_OK) return err;
    }
}

/* Reads an unquoted field starting with first, up to the byte that ends it. */
static ff_err csv_plain_field_read(csv_reader *reader, size_t field_start, int first,
                                   int *next_out) {
    int byte = first;
    while (byte != ',' && byte != '\n' && byte != EOF) {
        if (byte == '"') {
            return csv_reader_fail(reader, FF_ERR_TEXT_INVALID, reader->line,
                                   "a quote inside an unquoted field; quote the whole field "
                                   "and double the quote");
        }
        ff_err err = csv_byte_append(reader, field_start, byte);
        if (err == FF_OK) err = csv_byte_read(reader, &byte);
        if (err != FF_OK) return err;
    }
    *next_out = byte;
    return FF_OK;
}

/* Reads one field into the record's text, NUL-terminated, and says what ended it. */
static ff_err csv_field_read(csv_reader *reader, int first, csv_field_end *end_out) {
    size_t field_start = reader->text_used;
    int next = 0;
    ff_err err = first == '"' ? csv_quoted_field_read(reader, field_start, &next)
                              : csv_plain_field_read(reader, field_start, first, &next);
    if (err == FF_OK) err = csv_field_end_classify(reader, next, end_out);
    if (err != FF_OK) return err;
    /* csv_byte_append always leaves a byte free for this terminator. */
    assert(reader->text_used < sizeof reader->text);
    reader->text[reader->text_used++] = '\0';
    return FF_OK;
}

/* Skips blank lines and returns the first byte of the next record, or EOF. */
static ff_err csv_blank_lines_skip(csv_reader *reader, int *first_out) {
    for (;;) {
        int byte = 0;
        ff_err err = csv_byte_read(reader, &byte);
        if (err != FF_OK) return err;
        if (byte != '\n') {
            *first_out = byte;
            return FF_OK;
        }
        err = csv_line_advance(reader);
        if (err != FF_OK) return err;
    }
}

/* Removes a UTF-8 byte order mark from the start of the file's first field. */
static void csv_byte_order_mark_strip(csv_reader *reader, csv_record *record) {
    static const char mark[] = "\xEF\xBB\xBF";
    if (reader->records_read != 0 || strncmp(record->fields[0], mark, 3) != 0) return;
    record->fields[0] += 3;
}

ff_err csv_reader_next(csv_reader *reader, csv_record *record) {
    assert(reader != NULL && record != NULL);
    if (reader->failed != FF_OK) return reader->failed;
    memset(record, 0, sizeof *record);
    reader->text_used = 0;
    int byte = 0;
    ff_err err = csv_blank_lines_skip(reader, &byte);
    if (err != FF_OK) return err;
    if (byte == EOF) return FF_ERR_EVENT_UNKNOWN;
    record->line = reader->line;
    csv_field_end end = CSV_FIELD_END_COMMA;
    while (end == CSV_FIELD_END_COMMA) {
        if (record->field_count == CSV_FIELDS_MAX) {
            return csv_reader_fail(reader, FF_ERR_FIELD_TOO_LONG, record->line,
                                   "a record has more than %d fields", CSV_FIELDS_MAX);
        }
        record->fields[record->field_count++] = reader->text + reader->text_used;
        err = csv_field_read(reader, byte, &end);
        if (err == FF_OK && end == CSV_FIELD_END_COMMA) err = csv_byte_read(reader, &byte);
        if (err != FF_OK) return err;
    }
    if (end == CSV_FIELD_END_LINE) {
        err = csv_line_advance(reader);
        if (err != FF_OK) return err;
    }
    csv_byte_order_mark_strip(reader, record);
    reader->records_read++;
    assert(record->field_count >= 1 && record->field_count <= CSV_FIELDS_MAX);
    return FF_OK;
}
