/* The fundflow client's export of listings: the table model, its sort and totals, and its
 * renderings as a terminal table, CSV, JSON and an XLSX workbook with their provenance. */
#include "cli_export.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "cli_output.h"
#include "cli_values.h"
#include "export.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A UTF-8 byte order mark: Excel reads a CSV file as UTF-8, and so shows "£", only behind it. */
#define CLI_EXPORT_CSV_BOM "\xEF\xBB\xBF"

/* The suffix mkstemp fills in for the temporary file written beside --output. */
#define CLI_EXPORT_TEMPORARY_SUFFIX ".tmp-XXXXXX"

/* The mode of a file written with --output, less the umask. */
#define CLI_EXPORT_FILE_MODE 0666

/* Column widths in a workbook, in Excel's character units. */
#define CLI_EXPORT_XLSX_WIDTH_TEXT 24.0
#define CLI_EXPORT_XLSX_WIDTH_FIGURE 18.0
#define CLI_EXPORT_XLSX_WIDTH_ABOUT 80.0

/* Bytes of any one cell's text as a renderer writes it. */
#define CLI_EXPORT_CELL_TEXT_BYTES 64

static char cli_export_command_text[sizeof ((cli_export_provenance *)0)->command];

/* The command line --------------------------------------------------------------------------- */

/* Flags whose value is a secret, which an export names but never copies. */
static bool cli_export_secret_flag(const char *argument) {
    return strcmp(argument, "--token") == 0;
}

void cli_export_command_line_set(int argc, char *const *argv) {
    size_t used = 0;
    cli_export_command_text[0] = '\0';
    for (int i = 0; i < argc; i++) {
        bool hidden = i > 0 && cli_export_secret_flag(argv[i - 1]);
        bool secret_inline = strncmp(argv[i], "--token=", 8) == 0;
        const char *text = hidden || secret_inline ? (hidden ? "***" : "--token=***")
                                                   : (i == 0 ? CLI_PROGRAM : argv[i]);
        bool quote = strpbrk(text, " \t\"'") != NULL;
        int length = snprintf(cli_export_command_text + used, sizeof cli_export_command_text - used,
                              quote ? "%s'%s'" : "%s%s", i > 0 ? " " : "", text);
        if (length < 0 || (size_t)length >= sizeof cli_export_command_text - used) break;
        used += (size_t)length;
    }
}

/* The model ---------------------------------------------------------------------------------- */

cli_report_format cli_export_format(const cli_options *options) {
    if (options->report_format != CLI_REPORT_FORMAT_UNCHOSEN) {
        return (cli_report_format)options->report_format;
    }
    return options->json ? CLI_REPORT_FORMAT_JSON : CLI_REPORT_FORMAT_TABLE;
}

bool cli_export_wanted(const cli_options *options) {
    return options->report_format != CLI_REPORT_FORMAT_UNCHOSEN || !options->json;
}

bool cli_export_rendered(const cli_options *options) {
    return cli_export_wanted(options) &&
           (cli_export_format(options) != CLI_REPORT_FORMAT_TABLE ||
            options->output_path != NULL || options->sort_column != NULL);
}

cli_export_table *cli_export_figures_table_add(cli_export_document *document, const char *title,
                                               const char *const *headings,
                                               size_t figure_count) {
    assert(figure_count + 2 <= CLI_EXPORT_COLUMNS_MAX);
    cli_export_column columns[CLI_EXPORT_COLUMNS_MAX];
    for (size_t c = 0; c < figure_count + 2; c++) {
        columns[c] = (cli_export_column)CLI_EXPORT_COLUMN(
            headings[c], c < 2 ? CLI_EXPORT_TEXT : CLI_EXPORT_MONEY);
    }
    return cli_export_table_add(document, title, columns, figure_count + 2, true);
}

bool cli_export_figures_row_add(cli_export_table *table, const char *code, const char *name,
                                const int64_t *figures) {
    cli_export_cell cells[CLI_EXPORT_COLUMNS_MAX] = {{.text = code}, {.text = name}};
    for (size_t c = 2; c < table->column_count; c++) cells[c].number = figures[c - 2];
    return cli_export_row_add(table, cells);
}

void cli_export_document_init(cli_export_document *document, const cli_options *options) {
    memset(document, 0, sizeof *document);
    snprintf(document->provenance.command, sizeof document->provenance.command, "%s",
             cli_export_command_text[0] ? cli_export_command_text : CLI_PROGRAM);
    document->provenance.financial_year = options->financial_year;
    document->provenance.as_at_sequence = options->as_at_sequence;
    document->provenance.as_at_date = options->as_at_date;
}

cli_export_table *cli_export_table_add(cli_export_document *document, const char *title,
                                       const cli_export_column *columns, size_t column_count,
                                       bool totals) {
    assert(document->table_count < CLI_EXPORT_TABLES_MAX);
    assert(column_count > 0 && column_count <= CLI_EXPORT_COLUMNS_MAX);
    cli_export_table *table = &document->tables[document->table_count++];
    memset(table, 0, sizeof *table);
    snprintf(table->title, sizeof table->title, "%s", title);
    table->column_count = column_count;
    memcpy(table->columns, columns, column_count * sizeof *columns);
    table->totals = totals;
    return table;
}

static cli_export_cell *cli_export_row(const cli_export_table *table, size_t row) {
    return &table->cells[row * table->column_count];
}

bool cli_export_row_add(cli_export_table *table, const cli_export_cell *cells) {
    if (table->row_count == table->row_capacity) {
        if (table->row_capacity >= CLI_TABLE_ROWS_MAX) return false;
        size_t capacity = table->row_capacity ? table->row_capacity * 2 : 64;
        cli_export_cell *grown =
            realloc(table->cells, capacity * table->column_count * sizeof *grown);
        if (grown == NULL) return false;
        table->cells = grown;
        table->row_capacity = capacity;
    }
    cli_export_cell *row = &table->cells[table->row_count * table->column_count];
    for (size_t c = 0; c < table->column_count; c++) {
        row[c] = (cli_export_cell){.number = cells[c].number};
        if (table->columns[c].type != CLI_EXPORT_TEXT) continue;
        row[c].text = strdup(cells[c].text ? cells[c].text : "");
        if (row[c].text == NULL) {
            while (c > 0) free((char *)row[--c].text);
            return false;
        }
    }
    table->row_count++;
    return true;
}

void cli_export_document_free(cli_export_document *document) {
    for (size_t t = 0; t < document->table_count; t++) {
        cli_export_table *table = &document->tables[t];
        for (size_t i = 0; i < table->row_count * table->column_count; i++) {
            free((char *)table->cells[i].text);
        }
        free(table->cells);
    }
    memset(document, 0, sizeof *document);
}

/* Whether a --sort name names a heading: case aside, and '_' or '-' for a space. */
static bool cli_export_name_matches(const char *heading, const char *name) {
    for (;; heading++, name++) {
        char a = *heading, b = *name;
        if (b == '_' || b == '-') b = ' ';
        if (a == '_' || a == '-') a = ' ';
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
        if (a != b) return false;
        if (a == '\0') return true;
    }
}

int cli_export_column_find(const cli_export_table *table, const char *name) {
    for (size_t c = 0; c < table->column_count; c++) {
        if (cli_export_name_matches(table->columns[c].name, name)) return (int)c;
    }
    return -1;
}

/* Sort ------------------------------------------------------------------------------------- */

/* qsort has no context argument in C; the client is single-threaded, so the sort's column
 * rides here for the length of one cli_export_sort. */
static const cli_export_table *cli_export_sorting_table;
static size_t cli_export_sorting_column;

static int cli_export_rows_compare(const void *left, const void *right) {
    size_t a = *(const size_t *)left, b = *(const size_t *)right;
    const cli_export_table *table = cli_export_sorting_table;
    size_t c = cli_export_sorting_column;
    const cli_export_cell *x = &cli_export_row(table, a)[c], *y = &cli_export_row(table, b)[c];
    int order = 0;
    switch (table->columns[c].type) {
    case CLI_EXPORT_TEXT:
        order = strcmp(x->text, y->text);
        break;
    case CLI_EXPORT_DATE:
        order = (x->number > y->number) - (x->number < y->number);
        break;
    default: /* figures: largest first */
        order = (x->number < y->number) - (x->number > y->number);
        break;
    }
    if (order != 0) return order;
    return (a > b) - (a < b); /* ties keep their order, so the sort is stable */
}

void cli_export_sort(cli_export_table *table, size_t column) {
    assert(column < table->column_count);
    if (table->row_count < 2) return;
    size_t *order = malloc(table->row_count * sizeof *order);
    cli_export_cell *sorted = malloc(table->row_count * table->column_count * sizeof *sorted);
    if (order == NULL || sorted == NULL) {
        /* Unsorted rows are still the right rows; the caller's output says nothing false. */
        fprintf(stderr, CLI_PROGRAM ": out of memory: the rows are left unsorted\n");
        free(order);
        free(sorted);
        return;
    }
    for (size_t i = 0; i < table->row_count; i++) order[i] = i;
    cli_export_sorting_table = table;
    cli_export_sorting_column = column;
    qsort(order, table->row_count, sizeof *order, cli_export_rows_compare);
    cli_export_sorting_table = NULL;
    for (size_t i = 0; i < table->row_count; i++) {
        memcpy(&sorted[i * table->column_count], cli_export_row(table, order[i]),
               table->column_count * sizeof *sorted);
    }
    free(table->cells);
    table->cells = sorted;
    table->row_capacity = table->row_count;
    free(order);
}

/* Whether the totals row sums the column. */
static bool cli_export_summed(const cli_export_column *column) {
    return column->type == CLI_EXPORT_MONEY && !column->unsummed;
}

bool cli_export_totals(cli_export_table *table) {
    memset(table->totals_pence, 0, sizeof table->totals_pence);
    for (size_t c = 0; c < table->column_count; c++) {
        if (!cli_export_summed(&table->columns[c])) continue;
        for (size_t r = 0; r < table->row_count; r++) {
            if (money_add(table->totals_pence[c], cli_export_row(table, r)[c].number,
                          &table->totals_pence[c]) != FF_OK) {
                fprintf(stderr, CLI_PROGRAM ": the total of %s overflows 64-bit pence at row "
                                "%zu, so no total can be given\n",
                        table->columns[c].name, r + 1);
                return false;
            }
        }
    }
    return true;
}

static bool cli_export_has_money(const cli_export_table *table) {
    for (size_t c = 0; c < table->column_count; c++) {
        if (cli_export_summed(&table->columns[c])) return true;
    }
    return false;
}

/* Whether the table is written with a totals row: it asks for one and has money to sum. */
static bool cli_export_totals_shown(const cli_export_table *table) {
    return table->totals && cli_export_has_money(table) && table->row_count > 0;
}

/* Sheet names ------------------------------------------------------------------------------ */

const char *cli_export_sheet_name(const char *title, char *name) {
    return export_sheet_name(title, name);
}

/* Cells as text ------------------------------------------------------------------------------ */

const char *cli_export_cell_plain(cli_export_type type, const cli_export_cell *cell,
                                  char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 32);
    switch (type) {
    case CLI_EXPORT_TEXT:
        return cell->text;
    case CLI_EXPORT_MONEY:
        money_format_plain(cell->number, buffer, buffer_bytes);
        return buffer;
    case CLI_EXPORT_PERCENT: {
        int64_t points = cell->number;
        uint64_t magnitude = points < 0 ? 0 - (uint64_t)points : (uint64_t)points;
        snprintf(buffer, buffer_bytes, "%s%" PRIu64 ".%02" PRIu64, points < 0 ? "-" : "",
                 magnitude / 100, magnitude % 100);
        return buffer;
    }
    case CLI_EXPORT_DATE:
        if (cell->number <= 0 || cell->number > UINT32_MAX) buffer[0] = '\0';
        else cli_date_text((uint32_t)cell->number, buffer, buffer_bytes);
        return buffer;
    default:
        snprintf(buffer, buffer_bytes, "%" PRId64, cell->number);
        return buffer;
    }
}

/* The text a cell shows on a terminal: money as £1,234.56, percent as 12.34%. */
static const char *cli_export_cell_shown(cli_export_type type, const cli_export_cell *cell,
                                         char *buffer, size_t buffer_bytes) {
    if (type == CLI_EXPORT_MONEY) {
        money_format(cell->number, buffer, buffer_bytes);
        return buffer;
    }
    if (type == CLI_EXPORT_DATE && cell->number == 0) return "-";
    const char *plain = cli_export_cell_plain(type, cell, buffer, buffer_bytes);
    if (type == CLI_EXPORT_PERCENT) {
        size_t length = strlen(buffer);
        if (length + 1 < buffer_bytes) snprintf(buffer + length, buffer_bytes - length, "%%");
    }
    return plain;
}

/* Table ------------------------------------------------------------------------------------- */

static bool cli_export_table_fill(const cli_export_table *source, cli_table *table) {
    const char *headings[CLI_EXPORT_COLUMNS_MAX];
    bool right[CLI_EXPORT_COLUMNS_MAX];
    for (size_t c = 0; c < source->column_count; c++) {
        headings[c] = source->columns[c].name;
        right[c] = source->columns[c].type != CLI_EXPORT_TEXT &&
                   source->columns[c].type != CLI_EXPORT_DATE;
    }
    cli_table_init(table, source->column_count, headings, right);
    char texts[CLI_EXPORT_COLUMNS_MAX][CLI_EXPORT_CELL_TEXT_BYTES];
    const char *cells[CLI_EXPORT_COLUMNS_MAX];
    for (size_t r = 0; r < source->row_count; r++) {
        for (size_t c = 0; c < source->column_count; c++) {
            const cli_export_cell *cell = &cli_export_row(source, r)[c];
            cells[c] = source->columns[c].blank_zero && cell->number == 0
                           ? ""
                           : cli_export_cell_shown(source->columns[c].type, cell, texts[c],
                                                   sizeof texts[c]);
        }
        if (!cli_table_row_add(table, cells)) return false;
    }
    if (!cli_export_totals_shown(source)) return true;
    for (size_t c = 0; c < source->column_count; c++) {
        cells[c] = "";
        if (cli_export_summed(&source->columns[c])) {
            money_format(source->totals_pence[c], texts[c], sizeof texts[c]);
            cells[c] = texts[c];
        }
    }
    cells[0] = CLI_EXPORT_TOTAL_LABEL;
    return cli_table_row_add(table, cells);
}

void cli_export_table_write(const cli_export_document *document, FILE *out) {
    for (size_t t = 0; t < document->table_count; t++) {
        cli_table table;
        if (t > 0) fputc('\n', out);
        if (document->table_count > 1) fprintf(out, "%s\n", document->tables[t].title);
        bool filled = cli_export_table_fill(&document->tables[t], &table);
        if (filled) cli_table_write(&table, out);
        else fprintf(stderr, CLI_PROGRAM ": out of memory\n");
        cli_table_free(&table);
    }
}

/* CSV -------------------------------------------------------------------------------------- */

/* Headings, provenance and text cells are text; money, integers and percentages are numbers. */
static void cli_export_csv_field(const char *text, FILE *out) {
    export_csv_field_write(text, false, out);
}

static bool cli_export_type_is_number(cli_export_type type) {
    return type == CLI_EXPORT_MONEY || type == CLI_EXPORT_INTEGER || type == CLI_EXPORT_PERCENT;
}

static void cli_export_csv_pair(const char *key, const char *value, FILE *out) {
    cli_export_csv_field(key, out);
    fputc(',', out);
    cli_export_csv_field(value, out);
    fputs("\r\n", out);
}

void cli_export_provenance_csv_write(const cli_export_provenance *provenance, FILE *out) {
    char text[64];
    cli_export_csv_pair("# command", provenance->command, out);
    cli_export_csv_pair("# financial year",
                        provenance->financial_year
                            ? cli_year_text(provenance->financial_year, text, sizeof text)
                            : "every year",
                        out);
    snprintf(text, sizeof text, "%" PRIu64, provenance->as_at_sequence);
    cli_export_csv_pair("# as at sequence", text, out);
    cli_export_csv_pair("# as at date",
                        provenance->as_at_date
                            ? cli_date_text(provenance->as_at_date, text, sizeof text)
                            : "",
                        out);
    snprintf(text, sizeof text, "%" PRIu64, provenance->head_sequence);
    cli_export_csv_pair("# head sequence", text, out);
    cli_export_csv_pair("# head hash", provenance->head_hash, out);
    cli_export_csv_pair("# made at", provenance->made_at, out);
}

static void cli_export_csv_table(const cli_export_table *table, FILE *out) {
    char text[CLI_EXPORT_CELL_TEXT_BYTES];
    for (size_t c = 0; c < table->column_count; c++) {
        if (c > 0) fputc(',', out);
        cli_export_csv_field(table->columns[c].name, out);
    }
    fputs("\r\n", out);
    for (size_t r = 0; r < table->row_count; r++) {
        for (size_t c = 0; c < table->column_count; c++) {
            if (c > 0) fputc(',', out);
            export_csv_field_write(cli_export_cell_plain(table->columns[c].type,
                                                      &cli_export_row(table, r)[c], text,
                                                      sizeof text),
                                cli_export_type_is_number(table->columns[c].type), out);
        }
        fputs("\r\n", out);
    }
    if (!cli_export_totals_shown(table)) return;
    for (size_t c = 0; c < table->column_count; c++) {
        if (c > 0) fputc(',', out);
        if (cli_export_summed(&table->columns[c])) {
            money_format_plain(table->totals_pence[c], text, sizeof text);
            fputs(text, out);
        } else if (c == 0) {
            fputs(CLI_EXPORT_TOTAL_LABEL, out);
        }
    }
    fputs("\r\n", out);
}

/* A "# table TITLE" row, one field, as report writes it. */
static void cli_export_csv_section(const char *title, FILE *out) {
    char line[sizeof ((cli_export_table *)0)->title + 8];
    snprintf(line, sizeof line, "# table %s", title);
    cli_export_csv_field(line, out);
    fputs("\r\n", out);
}

void cli_export_csv_write(const cli_export_document *document, bool provenance, FILE *out) {
    fputs(CLI_EXPORT_CSV_BOM, out);
    if (provenance) cli_export_provenance_csv_write(&document->provenance, out);
    for (size_t t = 0; t < document->table_count; t++) {
        if (document->table_count > 1) cli_export_csv_section(document->tables[t].title, out);
        cli_export_csv_table(&document->tables[t], out);
    }
}

/* JSON ------------------------------------------------------------------------------------- */

static json_t *cli_export_json_cell(cli_export_type type, const cli_export_cell *cell) {
    char text[CLI_EXPORT_CELL_TEXT_BYTES];
    switch (type) {
    case CLI_EXPORT_INTEGER:
        return json_integer(cell->number);
    case CLI_EXPORT_DATE:
        return cell->number == 0 ? json_null()
                                 : json_string(cli_export_cell_plain(type, cell, text,
                                                                     sizeof text));
    default: /* text, and money and percent as exact decimal text */
        return json_string(cli_export_cell_plain(type, cell, text, sizeof text));
    }
}

static json_t *cli_export_json_table(const cli_export_table *table) {
    static const char *const type_names[] = {"text", "money", "integer", "date", "percent"};
    json_t *object = json_object(), *columns = json_array(), *rows = json_array();
    json_object_set_new(object, "title", json_string(table->title));
    json_object_set_new(object, "columns", columns);
    json_object_set_new(object, "rows", rows);
    for (size_t c = 0; c < table->column_count; c++) {
        json_array_append_new(columns,
                              json_pack("{s:s,s:s}", "name", table->columns[c].name, "type",
                                        type_names[table->columns[c].type]));
    }
    for (size_t r = 0; r < table->row_count; r++) {
        json_t *row = json_object();
        for (size_t c = 0; c < table->column_count; c++) {
            json_object_set_new(row, table->columns[c].name,
                                cli_export_json_cell(table->columns[c].type,
                                                     &cli_export_row(table, r)[c]));
        }
        json_array_append_new(rows, row);
    }
    if (cli_export_totals_shown(table)) {
        json_t *totals = json_object();
        for (size_t c = 0; c < table->column_count; c++) {
            if (!cli_export_summed(&table->columns[c])) continue;
            cli_export_cell total = {.number = table->totals_pence[c]};
            json_object_set_new(totals, table->columns[c].name,
                                cli_export_json_cell(CLI_EXPORT_MONEY, &total));
        }
        json_object_set_new(object, "totals", totals);
    }
    return object;
}

static json_t *cli_export_json_provenance(const cli_export_provenance *provenance) {
    char year[16], date[16];
    return json_pack("{s:s,s:s,s:I,s:s?,s:I,s:s,s:s}", "command", provenance->command,
                     "financial_year",
                     provenance->financial_year
                         ? cli_year_text(provenance->financial_year, year, sizeof year)
                         : "every year",
                     "as_at_sequence", (json_int_t)provenance->as_at_sequence, "as_at_date",
                     provenance->as_at_date
                         ? cli_date_text(provenance->as_at_date, date, sizeof date)
                         : NULL,
                     "head_sequence", (json_int_t)provenance->head_sequence, "head_hash",
                     provenance->head_hash, "made_at", provenance->made_at);
}

int cli_export_json_write(const cli_export_document *document, FILE *out) {
    json_t *root = json_object(), *tables = json_array();
    json_object_set_new(root, "provenance", cli_export_json_provenance(&document->provenance));
    json_object_set_new(root, "tables", tables);
    for (size_t t = 0; t < document->table_count; t++) {
        json_array_append_new(tables, cli_export_json_table(&document->tables[t]));
    }
    int written = json_dumpf(root, out, JSON_PRESERVE_ORDER | JSON_INDENT(1));
    json_decref(root);
    if (written != 0) {
        fprintf(stderr, CLI_PROGRAM ": cannot write the JSON document\n");
        return CLI_EXIT_FAILED;
    }
    fputc('\n', out);
    return CLI_EXIT_OK;
}

/* XLSX ------------------------------------------------------------------------------------- */

typedef struct cli_export_xlsx {
    lxw_workbook *workbook;
    export_xlsx_formats formats;
    const char *path; /* as messages name it */
} cli_export_xlsx;

/* A listing's number: beyond 2^53 it is written as the text its CSV cell has. */
static lxw_error cli_export_xlsx_scaled(lxw_worksheet *sheet, lxw_row_t row, lxw_col_t column,
                                        int64_t number, double divisor, lxw_format *format,
                                        cli_export_type type) {
    char text[CLI_EXPORT_CELL_TEXT_BYTES] = "";
    if (!export_xlsx_number_exact(number)) {
        cli_export_cell cell = {.number = number};
        cli_export_cell_plain(type, &cell, text, sizeof text);
    }
    return export_xlsx_number_write(sheet, row, column, number, divisor, format, text);
}

static lxw_error cli_export_xlsx_cell(const cli_export_xlsx *xlsx, lxw_worksheet *sheet,
                                      lxw_row_t row, lxw_col_t column, cli_export_type type,
                                      const cli_export_cell *cell) {
    switch (type) {
    case CLI_EXPORT_TEXT:
        return worksheet_write_string(sheet, row, column, cell->text, NULL);
    case CLI_EXPORT_MONEY:
        return cli_export_xlsx_scaled(sheet, row, column, cell->number,
                                      EXPORT_PENCE_PER_POUND, xlsx->formats.money, type);
    case CLI_EXPORT_PERCENT:
        return cli_export_xlsx_scaled(sheet, row, column, cell->number,
                                      EXPORT_BASIS_POINTS_PER_WHOLE, xlsx->formats.percent,
                                      type);
    case CLI_EXPORT_DATE: {
        int64_t date = cell->number;
        if (date <= 0 || date > UINT32_MAX || !calendar_date_valid((uint32_t)date)) {
            return LXW_NO_ERROR;
        }
        lxw_datetime when = {.year = (int)(date / 10000), .month = (int)(date / 100 % 100),
                             .day = (int)(date % 100)};
        return worksheet_write_datetime(sheet, row, column, &when, xlsx->formats.date);
    }
    default:
        return cli_export_xlsx_scaled(sheet, row, column, cell->number, 1.0,
                                      xlsx->formats.integer, type);
    }
}

static lxw_error cli_export_xlsx_totals(const cli_export_xlsx *xlsx, lxw_worksheet *sheet,
                                        const cli_export_table *table) {
    lxw_row_t row = (lxw_row_t)table->row_count + 1;
    lxw_error error = worksheet_write_string(sheet, row, 0, CLI_EXPORT_TOTAL_LABEL,
                                             xlsx->formats.total_label);
    for (size_t c = 0; c < table->column_count && error == LXW_NO_ERROR; c++) {
        if (!cli_export_summed(&table->columns[c])) continue;
        error = cli_export_xlsx_scaled(sheet, row, (lxw_col_t)c, table->totals_pence[c],
                                       EXPORT_PENCE_PER_POUND, xlsx->formats.total_money,
                                       CLI_EXPORT_MONEY);
    }
    return error;
}

static lxw_error cli_export_xlsx_table(const cli_export_xlsx *xlsx, lxw_worksheet *sheet,
                                       const cli_export_table *table) {
    lxw_error error = LXW_NO_ERROR;
    for (size_t c = 0; c < table->column_count && error == LXW_NO_ERROR; c++) {
        error = worksheet_write_string(sheet, 0, (lxw_col_t)c, table->columns[c].name,
                                       xlsx->formats.heading);
        if (error == LXW_NO_ERROR) {
            error = worksheet_set_column(sheet, (lxw_col_t)c, (lxw_col_t)c,
                                         table->columns[c].type == CLI_EXPORT_TEXT
                                             ? CLI_EXPORT_XLSX_WIDTH_TEXT
                                             : CLI_EXPORT_XLSX_WIDTH_FIGURE,
                                         NULL);
        }
    }
    for (size_t r = 0; r < table->row_count && error == LXW_NO_ERROR; r++) {
        for (size_t c = 0; c < table->column_count && error == LXW_NO_ERROR; c++) {
            error = cli_export_xlsx_cell(xlsx, sheet, (lxw_row_t)(r + 1), (lxw_col_t)c,
                                         table->columns[c].type, &cli_export_row(table, r)[c]);
        }
    }
    if (error == LXW_NO_ERROR && cli_export_totals_shown(table)) {
        error = cli_export_xlsx_totals(xlsx, sheet, table);
    }
    if (error == LXW_NO_ERROR) worksheet_freeze_panes(sheet, 1, 0);
    return error;
}

static lxw_error cli_export_xlsx_about(lxw_format *bold, lxw_worksheet *sheet,
                                       const cli_export_provenance *provenance) {
    char year[16], date[16], as_at[24], head[24];
    snprintf(as_at, sizeof as_at, "%" PRIu64, provenance->as_at_sequence);
    snprintf(head, sizeof head, "%" PRIu64, provenance->head_sequence);
    const char *const rows[][2] = {
        {"command", provenance->command},
        {"financial year", provenance->financial_year
                               ? cli_year_text(provenance->financial_year, year, sizeof year)
                               : "every year"},
        {"as at sequence", as_at},
        {"as at date",
         provenance->as_at_date ? cli_date_text(provenance->as_at_date, date, sizeof date) : ""},
        {"head sequence", head},
        {"head hash", provenance->head_hash},
        {"made at", provenance->made_at},
        {"money", "pounds; the figures are the ledger's pence, exactly"},
    };
    lxw_error error = worksheet_set_column(sheet, 0, 0, CLI_EXPORT_XLSX_WIDTH_TEXT, NULL);
    if (error == LXW_NO_ERROR) {
        error = worksheet_set_column(sheet, 1, 1, CLI_EXPORT_XLSX_WIDTH_ABOUT, NULL);
    }
    for (size_t r = 0; r < sizeof rows / sizeof rows[0] && error == LXW_NO_ERROR; r++) {
        error = worksheet_write_string(sheet, (lxw_row_t)r, 0, rows[r][0], bold);
        if (error == LXW_NO_ERROR) {
            error = worksheet_write_string(sheet, (lxw_row_t)r, 1, rows[r][1], NULL);
        }
    }
    return error;
}

lxw_worksheet *cli_export_worksheet_add(lxw_workbook *workbook, const char *path,
                                        const char *name) {
    char why[EXPORT_WHY_BYTES];
    lxw_worksheet *sheet = export_xlsx_worksheet_add(workbook, path, name, why);
    if (sheet == NULL) fprintf(stderr, CLI_PROGRAM ": %s\n", why);
    return sheet;
}

/* Adds a worksheet, reporting why not. */
static lxw_worksheet *cli_export_xlsx_sheet(const cli_export_xlsx *xlsx, const char *name) {
    return cli_export_worksheet_add(xlsx->workbook, xlsx->path, name);
}

static int cli_export_xlsx_sheets(const cli_export_xlsx *xlsx,
                                  const cli_export_document *document) {
    for (size_t t = 0; t < document->table_count; t++) {
        char name[CLI_EXPORT_SHEET_NAME_BYTES];
        lxw_worksheet *sheet =
            cli_export_xlsx_sheet(xlsx, cli_export_sheet_name(document->tables[t].title, name));
        if (sheet == NULL) return CLI_EXIT_FAILED;
        lxw_error error = cli_export_xlsx_table(xlsx, sheet, &document->tables[t]);
        if (error != LXW_NO_ERROR) {
            fprintf(stderr, CLI_PROGRAM ": %s: cannot write the worksheet \"%s\": %s\n",
                    xlsx->path, name, lxw_strerror(error));
            return CLI_EXIT_FAILED;
        }
    }
    return cli_export_xlsx_about_add(xlsx->workbook, xlsx->formats.heading, &document->provenance,
                                     xlsx->path);
}

int cli_export_xlsx_about_add(lxw_workbook *workbook, lxw_format *bold,
                              const cli_export_provenance *provenance, const char *shown_path) {
    const cli_export_xlsx xlsx = {.workbook = workbook, .path = shown_path};
    lxw_worksheet *about = cli_export_xlsx_sheet(&xlsx, CLI_EXPORT_ABOUT_SHEET);
    if (about == NULL) return CLI_EXIT_FAILED;
    lxw_error error = cli_export_xlsx_about(bold, about, provenance);
    if (error == LXW_NO_ERROR) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": %s: cannot write the About worksheet: %s\n", shown_path,
            lxw_strerror(error));
    return CLI_EXIT_FAILED;
}

int cli_export_xlsx_write(const cli_export_document *document, const char *path,
                          const char *shown_path) {
    cli_export_xlsx xlsx = {.workbook = workbook_new(path), .path = shown_path};
    if (xlsx.workbook == NULL) {
        fprintf(stderr, CLI_PROGRAM ": %s: cannot start a workbook\n", shown_path);
        return CLI_EXIT_FAILED;
    }
    int code = CLI_EXIT_FAILED;
    if (export_xlsx_formats_add(xlsx.workbook, &xlsx.formats)) {
        code = cli_export_xlsx_sheets(&xlsx, document);
    } else {
        fprintf(stderr, CLI_PROGRAM ": %s: cannot add the workbook's formats\n", shown_path);
    }
    return cli_export_xlsx_close(xlsx.workbook, code, shown_path);
}

int cli_export_xlsx_close(lxw_workbook *workbook, int code, const char *shown_path) {
    char why[EXPORT_WHY_BYTES];
    if (export_xlsx_close(workbook, code == CLI_EXIT_OK, shown_path, why)) return code;
    if (code == CLI_EXIT_OK) fprintf(stderr, CLI_PROGRAM ": %s\n", why);
    return CLI_EXIT_FAILED;
}

static int cli_export_provenance_fill(cli_export_provenance *provenance, cli_session *session);

/* Emitting ----------------------------------------------------------------------------------- */

int cli_export_provenance_make(cli_export_provenance *provenance, const cli_options *options,
                               cli_session *session) {
    cli_export_document document;
    cli_export_document_init(&document, options);
    *provenance = document.provenance;
    return cli_export_provenance_fill(provenance, session);
}

/* Asks the server for its head, and notes the time, for the provenance. */
static int cli_export_provenance_fill(cli_export_provenance *provenance, cli_session *session) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc) == NULL ||
        strftime(provenance->made_at, sizeof provenance->made_at, "%Y-%m-%dT%H:%M:%SZ", &utc) ==
            0) {
        snprintf(provenance->made_at, sizeof provenance->made_at, "unknown");
    }
    Fundflow__V1__ServerInfoRequest request = FUNDFLOW__V1__SERVER_INFO_REQUEST__INIT;
    cli_session asking = *session;
    asking.json = false;
    cli_reply reply;
    int code = cli_rpc_call(&asking, "ServerInfo", &request.base,
                            &fundflow__v1__server_info_response__descriptor, &reply);
    if (code == CLI_EXIT_OK && reply.http_status != 200) {
        code = cli_reply_refusal_report(&asking, &reply);
    }
    if (code == CLI_EXIT_OK) {
        const Fundflow__V1__ServerInfoResponse *info =
            (const Fundflow__V1__ServerInfoResponse *)reply.message;
        provenance->head_sequence = info->head_sequence;
        cli_hex_text(info->head_hash.data, info->head_hash.len, provenance->head_hash,
                     sizeof provenance->head_hash);
        if (provenance->as_at_sequence == 0) provenance->as_at_sequence = info->head_sequence;
    }
    cli_reply_release(&reply);
    return code;
}

/* Applies --sort to every listed table that has the column (one record's fields, such as
 * position's, have no order to change); refuses a column no table has. */
static int cli_export_sort_apply(cli_export_document *document, const char *column) {
    bool found = false;
    for (size_t t = 0; t < document->table_count; t++) {
        int index = cli_export_column_find(&document->tables[t], column);
        if (index < 0) continue;
        found = true;
        if (document->tables[t].totals) cli_export_sort(&document->tables[t], (size_t)index);
    }
    if (found) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": --sort: no column \"%s\"; the columns are", column);
    const cli_export_table *table = &document->tables[0];
    for (size_t c = 0; c < table->column_count; c++) {
        fprintf(stderr, "%s %s", c > 0 ? "," : "", table->columns[c].name);
    }
    fputc('\n', stderr);
    return CLI_EXIT_USAGE;
}

static int cli_export_stream_write(const cli_export_document *document,
                                   const cli_options *options, cli_report_format format,
                                   FILE *out) {
    switch (format) {
    case CLI_REPORT_FORMAT_CSV:
        cli_export_csv_write(document, options->provenance, out);
        return CLI_EXIT_OK;
    case CLI_REPORT_FORMAT_JSON:
        return cli_export_json_write(document, out);
    default:
        cli_export_table_write(document, out);
        return CLI_EXIT_OK;
    }
}

/* Writes into --output through a temporary file beside it, renamed over it once whole. */
static int cli_export_file_write(const cli_export_document *document, const cli_options *options,
                                 cli_report_format format) {
    char temporary[PATH_MAX];
    int length = snprintf(temporary, sizeof temporary, "%s" CLI_EXPORT_TEMPORARY_SUFFIX,
                          options->output_path);
    if (length < 0 || (size_t)length >= sizeof temporary) {
        fprintf(stderr, CLI_PROGRAM ": --output: the path is longer than %d bytes\n", PATH_MAX);
        return CLI_EXIT_FAILED;
    }
    int descriptor = mkstemp(temporary);
    if (descriptor < 0) {
        fprintf(stderr, CLI_PROGRAM ": cannot create a temporary file beside %s: %s\n",
                options->output_path, strerror(errno));
        return CLI_EXIT_FAILED;
    }
    int code = CLI_EXIT_OK;
    if (format == CLI_REPORT_FORMAT_XLSX) {
        close(descriptor);
        code = cli_export_xlsx_write(document, temporary, options->output_path);
    } else {
        FILE *out = fdopen(descriptor, "wb");
        if (out == NULL) close(descriptor);
        code = out ? cli_export_stream_write(document, options, format, out) : CLI_EXIT_FAILED;
        bool written = out && fflush(out) == 0 && !ferror(out) && fsync(fileno(out)) == 0;
        if (out != NULL && fclose(out) != 0) written = false;
        if (code == CLI_EXIT_OK && !written) {
            fprintf(stderr, CLI_PROGRAM ": cannot write %s: %s\n", temporary, strerror(errno));
            code = CLI_EXIT_FAILED;
        }
    }
    mode_t mask = umask(0);
    umask(mask);
    if (code == CLI_EXIT_OK && (chmod(temporary, CLI_EXPORT_FILE_MODE & ~mask) != 0 ||
                                rename(temporary, options->output_path) != 0)) {
        fprintf(stderr, CLI_PROGRAM ": cannot put %s in place: %s\n", options->output_path,
                strerror(errno));
        code = CLI_EXIT_FAILED;
    }
    if (code != CLI_EXIT_OK) unlink(temporary);
    return code;
}

int cli_export_emit(cli_export_document *document, const cli_options *options,
                    cli_session *session) {
    assert(document->table_count > 0);
    if (options->sort_column != NULL) {
        int code = cli_export_sort_apply(document, options->sort_column);
        if (code != CLI_EXIT_OK) return code;
    }
    for (size_t t = 0; t < document->table_count; t++) {
        if (!cli_export_totals(&document->tables[t])) return CLI_EXIT_REFUSED;
    }
    cli_report_format format = cli_export_format(options);
    bool needs_provenance = format == CLI_REPORT_FORMAT_XLSX || format == CLI_REPORT_FORMAT_JSON ||
                            (format == CLI_REPORT_FORMAT_CSV && options->provenance);
    if (needs_provenance) {
        int code = cli_export_provenance_fill(&document->provenance, session);
        if (code != CLI_EXIT_OK) return code;
    }
    if (options->output_path != NULL) return cli_export_file_write(document, options, format);
    assert(format != CLI_REPORT_FORMAT_XLSX);
    return cli_export_stream_write(document, options, format, stdout);
}
