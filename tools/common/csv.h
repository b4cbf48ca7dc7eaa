/* A small reader for comma-separated files (the demo's reference files, and files imported or
 * reconciled through a mapping), one record at a time, with every size
 * bounded.
 *
 * It reads the RFC 4180 form: fields separated by commas, records ended by LF or CRLF, and a
 * field may be wrapped in double quotes, inside which commas, line breaks (LF, CRLF or a carriage
 * return alone, kept byte for byte) and doubled quotes ("") stand for themselves. Outside quotes a
 * carriage return must be followed by a line feed. A UTF-8 byte order mark at the start is skipped, and blank lines are
 * ignored. Anything else that is not well formed is refused with a message naming the file and
 * the line, such as "icbs.csv line 4: a quoted field is not closed".
 *
 * Threads: a reader belongs to one thread at a time.
 */
#ifndef FUNDFLOW_TOOLS_CSV_H
#define FUNDFLOW_TOOLS_CSV_H

#include <stddef.h>

#include "fundflow/error.h"

/* The longest field accepted, in bytes. Reference names are under 100 bytes; this leaves room
 * for longer ones while keeping a broken file (a quote never closed) from eating memory. */
#ifndef CSV_FIELD_BYTES_MAX
#define CSV_FIELD_BYTES_MAX 1024
#endif

/* The most fields in one record. The reference files have five at most; a general-ledger
 * export saved from Excel may have a few dozen columns, of which a mapping reads some. */
#ifndef CSV_FIELDS_MAX
#define CSV_FIELDS_MAX 64
#endif

/* The most bytes one record may hold, fields and their terminators together. */
#ifndef CSV_RECORD_BYTES_MAX
#define CSV_RECORD_BYTES_MAX 8192
#endif

/* The most lines a file may have, so a runaway file is refused rather than read forever. */
#ifndef CSV_LINES_MAX
#define CSV_LINES_MAX 100000
#endif

/* The most lines an imported or reconciled file may have (csv_reader_lines_max_set): a year of
 * an ICB's ledger lines or a provider's receipts is a few hundred thousand. */
#define CSV_IMPORT_LINES_MAX 2000000

/* The largest imported or reconciled file, in bytes. It is read whole into memory once to take
 * its hash and check its encoding, so it is bounded: 2,000,000 lines of about 100 bytes. */
#define CSV_IMPORT_FILE_BYTES_MAX (256u << 20)

/* Bytes for a reader's error message. */
#define CSV_ERROR_BYTES 512

typedef struct csv_reader csv_reader;

/* One record. The field texts belong to the reader and last until the next csv_reader_next or
 * csv_reader_close. */
typedef struct csv_record {
    size_t line;         /* the line the record starts on, counting from 1 */
    size_t field_count;  /* at least 1 */
    const char *fields[CSV_FIELDS_MAX];
} csv_record;

/* Opens path for reading. On success *reader_out owns the file until csv_reader_close. Errors:
 * FF_ERR_IO (the file cannot be opened; the message in error says why), FF_ERR_NO_MEMORY.
 * error receives a message on failure and may be NULL only when error_bytes is 0. */
ff_err csv_reader_open(const char *path, csv_reader **reader_out, char *error,
                       size_t error_bytes);

/* Opens size bytes at data for reading, as if they were a file called name (used in messages).
 * The bytes are not copied and must outlive the reader. Errors: FF_ERR_NO_MEMORY. */
ff_err csv_reader_open_memory(const char *data, size_t size, const char *name,
                              csv_reader **reader_out, char *error, size_t error_bytes);

/* Lets the reader read up to lines_max lines rather than CSV_LINES_MAX, before the first
 * csv_reader_next. */
void csv_reader_lines_max_set(csv_reader *reader, size_t lines_max);

/* Closes the file. NULL is allowed. */
void csv_reader_close(csv_reader *reader);

/* Reads the next record into *record. Returns FF_OK with a record, FF_ERR_EVENT_UNKNOWN at the
 * end of the file (no record), or on a malformed or oversized file FF_ERR_TEXT_INVALID or
 * FF_ERR_FIELD_TOO_LONG, and FF_ERR_IO if reading fails. After an error every later call
 * returns the same error, and csv_reader_error says what went wrong. */
ff_err csv_reader_next(csv_reader *reader, csv_record *record);

/* The message for the last error, such as "icbs.csv line 4: a quoted field is not closed";
 * empty when there has been none. */
const char *csv_reader_error(const csv_reader *reader);

/* The path the reader was opened on, for callers' own messages. */
const char *csv_reader_path(const csv_reader *reader);

/* The index of the field in header whose text is name, or -1 if there is none. */
int csv_record_column_find(const csv_record *header, const char *name);

#endif
