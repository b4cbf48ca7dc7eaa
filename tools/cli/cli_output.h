/* The fundflow client's human output: aligned tables, key/value blocks and lists of codes.
 * Events are described by cli_output_events.h, which builds on these. Machine output (--json)
 * never comes through here. Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_OUTPUT_H
#define FUNDFLOW_TOOLS_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fundflow/v1/events.pb-c.h"

/* The most columns a table has. The client's own tables have ten at most (positions); a plugin's
 * report table may have more, and report refuses a table wider than this in its table format,
 * since rows that wide wrap on any terminal and CSV or XLSX serve them better. */
#define CLI_TABLE_COLUMNS_MAX 32

/* The most rows a table holds. Listings stop at CLI_LISTING_ROWS_MAX rows (cli_commands.c), so
 * this is only a backstop against a bug growing a table without end. */
#define CLI_TABLE_ROWS_MAX (4u << 20)

/* Bytes of a list of codes printed "A, B, C": a delegation's 128 lines of up to 12 bytes. */
#define CLI_CODES_TEXT_BYTES 2048

/* A table built row by row and printed once, so every column can be as wide as its widest
 * cell. Cells are copied. */
typedef struct cli_table {
    size_t column_count;
    const char *headings[CLI_TABLE_COLUMNS_MAX];
    bool right_aligned[CLI_TABLE_COLUMNS_MAX]; /* amounts and numbers line up on the right */
    size_t widths[CLI_TABLE_COLUMNS_MAX];
    char **cells; /* row after row of column_count cells */
    size_t row_count;
    size_t row_capacity;
} cli_table;

/* headings holds column_count names; right_aligned may be NULL for all left. */
void cli_table_init(cli_table *table, size_t column_count, const char *const *headings,
                    const bool *right_aligned);

/* Adds a row of column_count cells. Returns false if memory runs out or the table is full. */
bool cli_table_row_add(cli_table *table, const char *const *cells);

/* Prints the headings and every row on stdout. */
void cli_table_print(const cli_table *table);

/* Writes the headings and every row to out, as cli_table_print does to stdout. */
void cli_table_write(const cli_table *table, FILE *out);

void cli_table_free(cli_table *table);

/* Prints "  label     value" on stdout, with every label padded to one width. */
void cli_field_print(const char *label, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "  label     £1,234.56" on stdout, as cli_field_print does. */
void cli_money_field_print(const char *label, int64_t pence);

/* Codes joined by ", ", or "-" for none; cut short with "..." if buffer is too small. Returns
 * buffer. */
const char *cli_codes_text(char *const *codes, size_t count, char *buffer, size_t buffer_bytes);

/* A delegation mode as people write it, "full" or "joint_committee", or its number. Returns
 * buffer. */
const char *cli_delegation_mode_text(int mode, char *buffer, size_t buffer_bytes);

#endif
