/* Mapping files: how the columns of someone else's spreadsheet (saved as CSV) become the named
 * fields fundflow's import and reconcile read, in the spirit of hledger's CSV rules but smaller.
 *
 * A mapping file is UTF-8 text, one statement per line; blank lines and lines starting with #
 * are ignored, and a # after a statement starts a comment. A statement is NAME = VALUE, with
 * spaces around either side trimmed. NAME is one of the directives below, or else the heading of
 * a column in the CSV file, compared without regard to case or surrounding spaces. A heading that
 * reads like a directive is written in double quotes ("Kind" = kind). A column may also be named
 * by position, #1 for the first. (So a '#' followed by a digit starts a statement, not a comment,
 * and a comment after a statement starts at a '#' after a space that no digit follows.)
 *
 *   Contract Ref = contract       the column headed "Contract Ref" holds the field "contract"
 *   #3 = amount                   the third column holds "amount"
 *   kind = payments               what the file holds (import's --kind or reconcile's --against)
 *   date format = DD/MM/YYYY      how dates are written (DATE_FORMAT names below)
 *   amount format = pounds        pounds (1,234.50, £1,234.50, -12.5) or pence (123450)
 *   amount sign = negate          "negate" turns -1,234.50 into 1,234.50, for ledgers that
 *                                 export money paid out as negative; default "as is"
 *   set stream = core             a constant: every row's field "stream" is "core"
 *   reference = Invoice No        the column that names each row in its source (an invoice or
 *                                 journal number), shown in results and kept on the command
 *   header = none                 the file has no heading row (columns only by #N); default
 *                                 "first line"
 *   match = contract, month       reconcile: the fields whose values must agree for a match
 *   tolerance = 1.00              reconcile: a difference up to this many pounds still matches
 *   date window = 2024-04-01 to 2024-09-30   reconcile: only rows and entries dated inside
 *
 * The parser knows no field names: import and reconcile check the fields against the kind they
 * read, and say which fields a kind has. It refuses, naming the mapping file and line: a line
 * without '=', an unknown date or amount format, two columns for one field, a field both mapped
 * and set, a directive given twice, and more than MAPPING_FIELDS_MAX fields.
 *
 * Threads: a mapping and a reader belong to one thread at a time; a loaded mapping is not
 * changed by reading rows with it.
 */
#ifndef FUNDFLOW_TOOLS_MAPPING_H
#define FUNDFLOW_TOOLS_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

/* The most fields a mapping can name, columns and constants together. */
#define MAPPING_FIELDS_MAX 32

/* The longest mapping file accepted, in bytes, and the longest line. */
#define MAPPING_FILE_BYTES_MAX (64u << 10)
#define MAPPING_LINE_BYTES_MAX 1024u

/* The longest field name, column heading or constant, in bytes. */
#define MAPPING_TEXT_BYTES_MAX 128u

/* Bytes for an error message from this module. */
#define MAPPING_ERROR_BYTES 512u

/* How a file writes its dates. Every one becomes YYYY-MM-DD. */
typedef enum mapping_date_format {
    MAPPING_DATE_ISO,         /* YYYY-MM-DD (the default) */
    MAPPING_DATE_DMY_SLASH,   /* DD/MM/YYYY, also D/M/YYYY */
    MAPPING_DATE_DMY_DASH,    /* DD-MM-YYYY */
    MAPPING_DATE_DMY_DOT,     /* DD.MM.YYYY */
    MAPPING_DATE_DMON_YYYY,   /* DD-MON-YYYY, Oracle's: 01-APR-2024, any case */
    MAPPING_DATE_COMPACT,     /* YYYYMMDD */
} mapping_date_format;

typedef enum mapping_amount_format {
    MAPPING_AMOUNT_POUNDS,    /* as money_parse reads it: 1234.5, 1,234.50, £1,234.50 */
    MAPPING_AMOUNT_PENCE,     /* a whole number of pence, optionally signed: 123450 */
} mapping_amount_format;

typedef struct mapping mapping;

/* Parses a mapping from text (length bytes, not necessarily NUL-terminated). name is used in
 * messages, such as "receipts.map line 4: ...". Errors: FF_ERR_TEXT_INVALID with a message,
 * FF_ERR_FIELD_TOO_LONG (a line, name or the file beyond its limit), FF_ERR_NO_MEMORY. */
ff_err mapping_parse(const char *text, size_t length, const char *name, mapping **mapping_out,
                     char *error, size_t error_bytes);

/* Reads and parses the file at path (FF_ERR_IO if it cannot be read). */
ff_err mapping_load(const char *path, mapping **mapping_out, char *error, size_t error_bytes);

void mapping_free(mapping *map);

/* A directive's value as written, trimmed, or NULL if it was not given: "kind", "match",
 * "tolerance", "date window", "reference". (Formats, sign and header have accessors below.) */
const char *mapping_directive(const mapping *map, const char *directive);

mapping_date_format mapping_date_format_get(const mapping *map);
mapping_amount_format mapping_amount_format_get(const mapping *map);
bool mapping_amount_negated(const mapping *map);
bool mapping_has_header(const mapping *map);

/* The fields the mapping names, columns first in the order written, then constants. */
size_t mapping_field_count(const mapping *map);
const char *mapping_field_name(const mapping *map, size_t index);

/* Dates and amounts in a file's format, turned into the form the CLI's own parsers read, so
 * every value goes through the same exact parser as a flag would. The text is not otherwise
 * checked here: a bad date or amount is left for that parser to refuse.
 *   date:   "01/04/2024" with DD/MM/YYYY -> "2024-04-01"; out needs 11 bytes.
 *   amount: "123450" with pence -> "1234.50"; "-1,234.50" negated -> "1,234.50". Refuses (false)
 *           only text it cannot carry over, such as pence that are not digits.
 * Both return false with a short reason in problem (which may be NULL) when they cannot. */
bool mapping_date_to_iso(const mapping *map, const char *text, char *out, size_t out_bytes,
                         const char **problem);
bool mapping_amount_to_pounds(const mapping *map, const char *text, char *out,
                              size_t out_bytes, const char **problem);

/* ---- reading a CSV file through a mapping ---- */

typedef struct mapped_reader mapped_reader;

/* One data row: every field the mapping names, with the text of its cell (trimmed of
 * surrounding spaces) or its constant. Texts belong to the reader until the next call. */
typedef struct mapped_row {
    size_t line;                    /* the file line the row starts on, from 1 */
    size_t field_count;             /* mapping_field_count */
    const char *names[MAPPING_FIELDS_MAX];
    const char *values[MAPPING_FIELDS_MAX];
    /* The column each value came from, as the file heads it (or "#N", or "set" for a
     * constant), for messages such as "line 12, column Amount". */
    const char *columns[MAPPING_FIELDS_MAX];
    const char *reference;          /* the reference column's text, or NULL without one */
} mapped_row;

/* Opens a CSV file (RFC 4180: quotes, doubled quotes, line breaks in quotes, LF or CRLF, a
 * UTF-8 byte order mark skipped) to read through map. It reads the whole file once first to
 * take its SHA-256 and to refuse, naming the file, what is not CSV in UTF-8:
 *   - an XLSX or other ZIP file ("save it from Excel as CSV UTF-8");
 *   - UTF-16 (a FF FE or FE FF byte order mark, as Excel's "Unicode text" writes);
 *   - bytes that are not UTF-8 (naming the line; Windows-1252's £ is the usual one);
 *   - a NUL byte.
 * It then reads the heading row (unless the mapping says header = none) and refuses a mapped
 * column that the heading lacks, listing the headings it has. Errors: FF_ERR_IO,
 * FF_ERR_TEXT_INVALID, FF_ERR_FIELD_TOO_LONG, FF_ERR_NO_MEMORY, with a message in error. */
ff_err mapped_reader_open(const char *path, const mapping *map, mapped_reader **reader_out,
                          char *error, size_t error_bytes);

/* The next data row, skipping blank lines. FF_OK with a row; FF_ERR_EVENT_UNKNOWN at the end;
 * on a malformed record, a row with too few cells for a mapped column, a cell beyond the
 * field limit or a file beyond the row limit, an error, after which every call returns it and
 * mapped_reader_error names the file, the line and the problem. */
ff_err mapped_reader_next(mapped_reader *reader, mapped_row *row);

const char *mapped_reader_error(const mapped_reader *reader);

/* The file's SHA-256 (32 bytes) and its name without directories, for idempotency keys. */
const uint8_t *mapped_reader_file_sha256(const mapped_reader *reader);
const char *mapped_reader_file_name(const mapped_reader *reader);

/* The number of data rows in the file, counted when it was opened, for progress. */
size_t mapped_reader_row_count(const mapped_reader *reader);

void mapped_reader_close(mapped_reader *reader);

#endif
