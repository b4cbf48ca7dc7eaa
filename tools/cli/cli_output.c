/* Tables, key/value blocks and lists of codes for the fundflow client's human output. */
#include "cli_output.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_values.h"
#include "tool_text.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Labels in a key/value block are padded to this many columns; the longest is 17. */
#define CLI_FIELD_LABEL_COLUMNS 18

/* Columns between two table columns. */
#define CLI_TABLE_GAP "  "

void cli_table_init(cli_table *table, size_t column_count, const char *const *headings,
                    const bool *right_aligned) {
    assert(column_count > 0 && column_count <= CLI_TABLE_COLUMNS_MAX);
    memset(table, 0, sizeof *table);
    table->column_count = column_count;
    for (size_t i = 0; i < column_count; i++) {
        table->headings[i] = headings[i];
        table->right_aligned[i] = right_aligned ? right_aligned[i] : false;
        table->widths[i] = tool_text_columns(headings[i]);
    }
}

static bool cli_table_grow(cli_table *table) {
    if (table->row_count < table->row_capacity) return true;
    if (table->row_capacity >= CLI_TABLE_ROWS_MAX) return false;
    size_t capacity = table->row_capacity ? table->row_capacity * 2 : 64;
    if (capacity > CLI_TABLE_ROWS_MAX) capacity = CLI_TABLE_ROWS_MAX;
    char **grown = realloc(table->cells, capacity * table->column_count * sizeof *grown);
    if (grown == NULL) return false;
    table->cells = grown;
    table->row_capacity = capacity;
    return true;
}

bool cli_table_row_add(cli_table *table, const char *const *cells) {
    if (!cli_table_grow(table)) return false;
    char **row = &table->cells[table->row_count * table->column_count];
    for (size_t i = 0; i < table->column_count; i++) {
        row[i] = strdup(cells[i]);
        if (row[i] == NULL) {
            while (i > 0) free(row[--i]);
            return false;
        }
    }
    for (size_t i = 0; i < table->column_count; i++) {
        size_t columns = tool_text_columns(row[i]);
        if (columns > table->widths[i]) table->widths[i] = columns;
    }
    table->row_count++;
    return true;
}

static void cli_table_line_write(const cli_table *table, const char *const *cells, FILE *out) {
    for (size_t i = 0; i < table->column_count; i++) {
        size_t padding = table->widths[i] - tool_text_columns(cells[i]);
        bool last = i + 1 == table->column_count;
        if (i > 0) fputs(CLI_TABLE_GAP, out);
        if (table->right_aligned[i]) fprintf(out, "%*s", (int)padding, "");
        fputs(cells[i], out);
        if (!table->right_aligned[i] && !last) fprintf(out, "%*s", (int)padding, "");
    }
    fputc('\n', out);
}

void cli_table_write(const cli_table *table, FILE *out) {
    cli_table_line_write(table, table->headings, out);
    for (size_t row = 0; row < table->row_count; row++) {
        cli_table_line_write(table, (const char *const *)&table->cells[row * table->column_count],
                             out);
    }
}

void cli_table_print(const cli_table *table) {
    cli_table_write(table, stdout);
}

void cli_table_free(cli_table *table) {
    for (size_t i = 0; i < table->row_count * table->column_count; i++) free(table->cells[i]);
    free(table->cells);
    memset(table, 0, sizeof *table);
}

void cli_field_print(const char *label, const char *format, ...) {
    size_t columns = tool_text_columns(label) + 1;
    printf("%s:%*s", label,
           (int)(columns < CLI_FIELD_LABEL_COLUMNS ? CLI_FIELD_LABEL_COLUMNS - columns : 1), "");
    va_list arguments;
    va_start(arguments, format);
    vprintf(format, arguments);
    va_end(arguments);
    fputc('\n', stdout);
}

void cli_money_field_print(const char *label, int64_t pence) {
    char money[FF_MONEY_TEXT_BYTES];
    money_format(pence, money, sizeof money);
    cli_field_print(label, "%s", money);
}

const char *cli_codes_text(char *const *codes, size_t count, char *buffer, size_t buffer_bytes) {
    static const char ellipsis[] = "...";
    assert(buffer_bytes > sizeof ellipsis);
    size_t used = 0;
    buffer[0] = '\0';
    if (count == 0) snprintf(buffer, buffer_bytes, "-");
    for (size_t i = 0; i < count; i++) {
        size_t needed = strlen(codes[i]) + (i > 0 ? 2 : 0);
        if (used + needed + sizeof ellipsis > buffer_bytes) {
            snprintf(buffer + used, buffer_bytes - used, "%s", ellipsis);
            break;
        }
        used += (size_t)snprintf(buffer + used, buffer_bytes - used, "%s%s", i > 0 ? ", " : "",
                                 codes[i]);
    }
    return buffer;
}

const char *cli_delegation_mode_text(int mode, char *buffer, size_t buffer_bytes) {
    static const char prefix[] = "delegation_";
    cli_enum_text(&fundflow__v1__delegation_mode__descriptor, mode, buffer, buffer_bytes);
    size_t prefix_bytes = sizeof prefix - 1;
    if (strncmp(buffer, prefix, prefix_bytes) == 0) {
        memmove(buffer, buffer + prefix_bytes, strlen(buffer + prefix_bytes) + 1);
    }
    return buffer;
}

