/* The fundflow client's export of a listing: a small model of one or more tables (a title,
 * typed columns, rows of cells and a totals row) and its renderings as a terminal table, CSV,
 * JSON and an XLSX workbook, each carrying what produced it (its provenance).
 *
 * A listing fills a cli_export_document from the server's reply and hands it to
 * cli_export_emit, which sorts it (--sort), sums its money columns, asks the server for its head
 * (ServerInfo) and writes the chosen format (--format) to stdout or through a temporary file
 * into --output. Money is int64 pence throughout; it becomes pounds only as it is written: plain
 * decimal text (1234.56) in CSV and JSON, and a number in a £ format in a workbook.
 *
 * To export a new listing (outturn, say): cli_export_document_init, cli_export_table_add with its
 * columns, cli_export_row_add per row, set as_at_sequence, as_at_date and financial_year, then
 * cli_export_emit and cli_export_document_free. Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_EXPORT_H
#define FUNDFLOW_TOOLS_CLI_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xlsxwriter.h>

#include "cli.h"
#include "cli_report.h"
#include "export.h"

/* Tables in one document: reconcile has its comparison, a summary and four sections. */
#define CLI_EXPORT_TABLES_MAX 6

/* Columns in one table: the widest (contract show's terms and figures) has seventeen. */
#define CLI_EXPORT_COLUMNS_MAX 24

/* Excel's limit on a worksheet's name, in characters, and the bytes of one (export.h). */
#define CLI_EXPORT_SHEET_NAME_CHARACTERS_MAX EXPORT_SHEET_NAME_CHARACTERS_MAX
#define CLI_EXPORT_SHEET_NAME_BYTES EXPORT_SHEET_NAME_BYTES

/* The name of the workbook's provenance sheet. */
#define CLI_EXPORT_ABOUT_SHEET EXPORT_ABOUT_SHEET

/* The first cell of a totals row. */
#define CLI_EXPORT_TOTAL_LABEL "TOTAL"

/* What a column holds, and so how each format writes it. MONEY is pence, PERCENT basis points,
 * DATE YYYYMMDD (0 for none), INTEGER a count or sequence (never summed); TEXT uses the text. */
typedef enum cli_export_type {
    CLI_EXPORT_TEXT = 0,
    CLI_EXPORT_MONEY,
    CLI_EXPORT_INTEGER,
    CLI_EXPORT_DATE,
    CLI_EXPORT_PERCENT,
} cli_export_type;

typedef struct cli_export_column {
    const char *name; /* as headings show it, "passed on"; --sort takes "passed_on" too */
    cli_export_type type;
    bool blank_zero; /* the terminal table leaves a 0 empty (a ledger's debit or credit) */
    bool unsummed;   /* money with no total: a running balance */
} cli_export_column;

/* A column that neither blanks zeros nor goes unsummed: most of them. */
#define CLI_EXPORT_COLUMN(name, type) {(name), (type), false, false}

/* One cell: text for TEXT columns, number for the others. */
typedef struct cli_export_cell {
    const char *text;
    int64_t number;
} cli_export_cell;

typedef struct cli_export_table {
    char title[CLI_EXPORT_SHEET_NAME_BYTES * 2]; /* a heading, and the worksheet's name */
    size_t column_count;
    cli_export_column columns[CLI_EXPORT_COLUMNS_MAX];
    /* Rows of column_count cells; TEXT cells own a copy of their text. */
    cli_export_cell *cells;
    size_t row_count;
    size_t row_capacity;
    bool totals; /* a totals row after the rows: false for a table of one record's fields */
    int64_t totals_pence[CLI_EXPORT_COLUMNS_MAX]; /* set by cli_export_totals */
} cli_export_table;

/* What produced an export, as it is written into it. */
struct cli_export_provenance {
    char command[1024];      /* the command line, filters and all */
    uint32_t financial_year; /* 0: the listing spans years */
    uint64_t as_at_sequence; /* 0: the head when it was made */
    uint32_t as_at_date;     /* 0: none asked */
    uint64_t head_sequence;
    char head_hash[65];      /* hex, or "" if the server did not say */
    char made_at[32];        /* UTC, YYYY-MM-DDTHH:MM:SSZ */
};

typedef struct cli_export_document {
    cli_export_table tables[CLI_EXPORT_TABLES_MAX];
    size_t table_count;
    cli_export_provenance provenance;
} cli_export_document;

/* Keeps argv as the command line every export names. fundflow_cli.c calls it once. */
void cli_export_command_line_set(int argc, char *const *argv);

/* The format the command line chose: --format, or json with --json, or table. */
cli_report_format cli_export_format(const cli_options *options);

/* Whether the listing is rendered from an export document rather than printed as the server's
 * JSON (--json without --format). */
bool cli_export_wanted(const cli_options *options);

/* Whether a command with a human layout of its own (position, contract show, delegation who)
 * renders an export instead: --format other than table, --output or --sort. */
bool cli_export_rendered(const cli_options *options);

/* A table of two text columns (code and name, say) then figure_count money columns, headed by
 * headings; and a row of it. For positions, whose columns are a list of figures. */
cli_export_table *cli_export_figures_table_add(cli_export_document *document, const char *title,
                                               const char *const *headings,
                                               size_t figure_count);
bool cli_export_figures_row_add(cli_export_table *table, const char *code, const char *name,
                                const int64_t *figures);

void cli_export_document_init(cli_export_document *document, const cli_options *options);

/* Adds a table with column_count columns and returns it. */
cli_export_table *cli_export_table_add(cli_export_document *document, const char *title,
                                       const cli_export_column *columns, size_t column_count,
                                       bool totals);

/* Adds a row of column_count cells. Returns false if memory runs out or the table is full. */
bool cli_export_row_add(cli_export_table *table, const cli_export_cell *cells);

void cli_export_document_free(cli_export_document *document);

/* The column named name (case aside, '_' matching ' '), or -1. */
int cli_export_column_find(const cli_export_table *table, const char *name);

/* Orders the rows by the column: money, integer and percent largest first, text and dates in
 * order; rows that tie keep their order. */
void cli_export_sort(cli_export_table *table, size_t column);

/* Sums every money column into totals_pence. Returns false, naming the column on stderr, when a
 * sum overflows 64-bit pence. */
bool cli_export_totals(cli_export_table *table);

/* The worksheet name for a title: at most 31 characters, cut at the last word boundary that
 * fits (never mid-word unless a single word is longer), with []:*?/\ replaced by '_'. Returns
 * name, which holds CLI_EXPORT_SHEET_NAME_BYTES. */
const char *cli_export_sheet_name(const char *title, char *name);

/* Adds a worksheet named name to the workbook being written to path, or says on stderr why it
 * cannot (a name libxlsxwriter refuses, or no memory) and returns NULL. */
lxw_worksheet *cli_export_worksheet_add(lxw_workbook *workbook, const char *path,
                                        const char *name);

/* Closes (writes and frees) the workbook written to shown_path, whatever code says: code is the
 * exit code of writing its sheets. Returns code, or 4 having said why the file could not be
 * written when code was 0. */
int cli_export_xlsx_close(lxw_workbook *workbook, int code, const char *shown_path);


/* Renderers. Each writes every table, totals row included (cli_export_totals first). */
void cli_export_table_write(const cli_export_document *document, FILE *out);
/* RFC 4180, CRLF line ends, a UTF-8 byte order mark; with provenance, leading rows whose first
 * field starts "# " say what produced it. A document of several tables puts "# table TITLE"
 * before each, as one field. */
void cli_export_csv_write(const cli_export_document *document, bool provenance, FILE *out);
/* One JSON object: {"provenance":{...},"tables":[{"title","columns","rows","totals"}]}. */
int cli_export_json_write(const cli_export_document *document, FILE *out);
/* A worksheet per table and one named About with the provenance. Returns 0 or 4. */
int cli_export_xlsx_write(const cli_export_document *document, const char *path,
                          const char *shown_path);

/* The text a cell shows in CSV: money as plain pounds "1234.56", percent "12.34", dates
 * YYYY-MM-DD. Returns buffer. */
const char *cli_export_cell_plain(cli_export_type type, const cli_export_cell *cell,
                                  char *buffer, size_t buffer_bytes);

/* Starts a provenance from the command line and options, then asks the server for its head
 * (ServerInfo) and notes the time. An as-at sequence of 0 becomes the head. Returns an exit
 * code, having reported a failure. */
int cli_export_provenance_make(cli_export_provenance *provenance, const cli_options *options,
                               cli_session *session);

/* The provenance's leading CSV rows, as cli_export_csv_write writes them. */
void cli_export_provenance_csv_write(const cli_export_provenance *provenance, FILE *out);

/* Adds the About worksheet holding the provenance, its labels in bold. Returns 0, or 4 having
 * said why. */
int cli_export_xlsx_about_add(lxw_workbook *workbook, lxw_format *bold,
                              const cli_export_provenance *provenance, const char *shown_path);

/* Sorts (--sort), totals and writes the document in the chosen format to stdout or --output,
 * having asked the server for its head for the provenance. Returns an exit code. */
int cli_export_emit(cli_export_document *document, const cli_options *options,
                    cli_session *session);

/* position rendered as an export (cli_export_rendered): calls GetPosition with request and
 * emits the position as one row. cli_queries.c. */
int cli_position_export_run(const cli_options *options, cli_session *session,
                            const ProtobufCMessage *request);

#endif
