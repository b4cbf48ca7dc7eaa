/* A plugin's report in the client: the terminal table, and CSV and XLSX through the shared
 * export (daemon/export/export.h) with the client's provenance added. Every number is written
 * from its integer, so no floating point rounds a figure. */
#include "cli_report.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_values.h"
#include "export.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

static const char *const cli_report_format_names[] = {
    [CLI_REPORT_FORMAT_TABLE] = "table",
    [CLI_REPORT_FORMAT_CSV] = "csv",
    [CLI_REPORT_FORMAT_JSON] = "json",
    [CLI_REPORT_FORMAT_XLSX] = "xlsx",
};

bool cli_report_format_find(const char *name, cli_report_format *format_out) {
    for (int i = CLI_REPORT_FORMAT_TABLE; i <= CLI_REPORT_FORMAT_XLSX; i++) {
        if (strcasecmp(name, cli_report_format_names[i]) == 0) {
            *format_out = (cli_report_format)i;
            return true;
        }
    }
    return false;
}

const char *cli_report_format_name(cli_report_format format) {
    assert(format >= CLI_REPORT_FORMAT_TABLE && format <= CLI_REPORT_FORMAT_XLSX);
    return cli_report_format_names[format];
}

bool cli_report_check(const Fundflow__V1__Report *report) {
    char why[EXPORT_WHY_BYTES];
    if (export_report_check(report, why)) return true;
    fprintf(stderr, CLI_PROGRAM ": %s\n", why);
    return false;
}

/* The table --------------------------------------------------------------------------------- */

/* Whether every table fits a cli_table; otherwise says which does not and what to use. */
static bool cli_report_widths_check(const Fundflow__V1__Report *report) {
    for (size_t t = 0; t < report->n_tables; t++) {
        const Fundflow__V1__ReportTable *table = report->tables[t];
        if (table->n_columns <= CLI_TABLE_COLUMNS_MAX) continue;
        fprintf(stderr, CLI_PROGRAM ": the report's table \"%s\" has %zu columns and the table "
                        "format shows at most %d; use --format csv, json or xlsx\n",
                table->name, table->n_columns, CLI_TABLE_COLUMNS_MAX);
        return false;
    }
    return true;
}

/* Fills a cli_table with the report table's rows. Returns 0, or 4 when memory runs out. */
static int cli_report_table_fill(const Fundflow__V1__ReportTable *source, cli_table *table) {
    assert(source->n_columns > 0 && source->n_columns <= CLI_TABLE_COLUMNS_MAX);
    const char *headings[CLI_TABLE_COLUMNS_MAX];
    bool right[CLI_TABLE_COLUMNS_MAX];
    char heading_texts[CLI_TABLE_COLUMNS_MAX][EXPORT_CELL_BYTES];
    for (size_t c = 0; c < source->n_columns; c++) {
        headings[c] = export_text_clean(source->columns[c]->name, heading_texts[c],
                                            sizeof heading_texts[c]);
        right[c] = export_report_column_is_figure(source->columns[c]);
    }
    cli_table_init(table, source->n_columns, headings, right);
    for (size_t r = 0; r < source->n_rows; r++) {
        const Fundflow__V1__ReportRow *row = source->rows[r];
        char texts[CLI_TABLE_COLUMNS_MAX][EXPORT_CELL_BYTES];
        const char *cells[CLI_TABLE_COLUMNS_MAX];
        assert(row->n_cells == source->n_columns);
        for (size_t c = 0; c < source->n_columns; c++) {
            cells[c] = export_report_cell_text(source->columns[c], row->cells[c],
                                            EXPORT_CELL_FOR_PEOPLE, texts[c], sizeof texts[c]);
        }
        if (!cli_table_row_add(table, cells)) {
            fprintf(stderr, CLI_PROGRAM ": out of memory at row %zu of the report's table "
                            "\"%s\"\n",
                    r + 1, source->name);
            return CLI_EXIT_FAILED;
        }
    }
    return CLI_EXIT_OK;
}

static int cli_report_one_table_write(const Fundflow__V1__ReportTable *source, FILE *out) {
    char name[EXPORT_CELL_BYTES];
    cli_table table;
    memset(&table, 0, sizeof table);
    int code = cli_report_table_fill(source, &table);
    if (code == CLI_EXIT_OK) {
        fprintf(out, "\n%s: %zu row%s\n", export_text_clean(source->name, name, sizeof name),
                source->n_rows, source->n_rows == 1 ? "" : "s");
        cli_table_write(&table, out);
    }
    cli_table_free(&table);
    return code;
}

/* "findings: 2 FAIL, 1 WARN, 9 PASS", with ", 1 of another level" when the server sent one. */
static void cli_report_finding_counts_write(const Fundflow__V1__Report *report, FILE *out) {
    fprintf(out, "\nfindings:");
    for (size_t group = 0; group < EXPORT_FINDING_GROUPS; group++) {
        size_t count = 0;
        for (size_t i = 0; i < report->n_findings; i++) {
            if (export_report_finding_in_group(report->findings[i], group)) count++;
        }
        if (group + 1 == EXPORT_FINDING_GROUPS) {
            if (count > 0) fprintf(out, ", %zu of another level", count);
        } else {
            char level[16];
            fprintf(out, "%s %zu %s", group > 0 ? "," : "", count,
                    export_report_level_text(export_report_group_level(group), level, sizeof level));
        }
    }
    fputc('\n', out);
}

/* The findings as one table, FAIL first, then WARN, then PASS, each in the server's order. */
static int cli_report_findings_write(const Fundflow__V1__Report *report, FILE *out) {
    cli_report_finding_counts_write(report, out);
    if (report->n_findings == 0) return CLI_EXIT_OK;
    static const char *const headings[] = {"level", "org", "message"};
    cli_table table;
    cli_table_init(&table, 3, headings, NULL);
    bool added = true;
    for (size_t group = 0; group < EXPORT_FINDING_GROUPS && added; group++) {
        for (size_t i = 0; i < report->n_findings && added; i++) {
            const Fundflow__V1__ReportFinding *finding = report->findings[i];
            if (!export_report_finding_in_group(finding, group)) continue;
            char level[16], org[EXPORT_CELL_BYTES], message[EXPORT_CELL_BYTES * 4];
            const char *cells[] = {
                export_report_level_text(finding->level, level, sizeof level),
                finding->org_code[0] ? export_text_clean(finding->org_code, org, sizeof org)
                                     : "-",
                export_text_clean(finding->message, message, sizeof message)};
            added = cli_table_row_add(&table, cells);
        }
    }
    if (added) cli_table_write(&table, out);
    else fprintf(stderr, CLI_PROGRAM ": out of memory listing the report's findings\n");
    cli_table_free(&table);
    return added ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cli_report_table_write(const Fundflow__V1__Report *report, const char *org_code, FILE *out) {
    if (!cli_report_widths_check(report)) return CLI_EXIT_REFUSED;
    char name[EXPORT_CELL_BYTES], version[EXPORT_CELL_BYTES], year[16];
    fprintf(out, "report %s %s for %s as at event %" PRIu64 ", %s%s\n",
            export_text_clean(report->plugin, name, sizeof name),
            export_text_clean(report->plugin_version, version, sizeof version),
            cli_year_text(report->financial_year, year, sizeof year), report->as_at_sequence,
            org_code ? "organisation " : "every organisation", org_code ? org_code : "");
    if (report->n_tables == 0) fprintf(out, "\nno tables\n");
    for (size_t t = 0; t < report->n_tables; t++) {
        int code = cli_report_one_table_write(report->tables[t], out);
        if (code != CLI_EXIT_OK) return code;
    }
    return cli_report_findings_write(report, out);
}

/* CSV and XLSX, through the export fundflowd's ExportReport uses too --------------------------- */

/* The provenance rows, as export_csv_preamble. */
static void cli_report_csv_preamble(const void *provenance, FILE *out) {
    cli_export_provenance_csv_write(provenance, out);
}

void cli_report_csv_write(const Fundflow__V1__Report *report,
                          const cli_export_provenance *provenance, FILE *out) {
    export_report_csv_write(report, provenance ? cli_report_csv_preamble : NULL, provenance, out);
}

/* The About worksheet, as export_xlsx_extra. */
static bool cli_report_xlsx_about(const void *provenance, lxw_workbook *workbook, lxw_format *bold,
                                  const char *shown_path) {
    return cli_export_xlsx_about_add(workbook, bold, provenance, shown_path) == CLI_EXIT_OK;
}

int cli_report_xlsx_write(const Fundflow__V1__Report *report,
                          const cli_export_provenance *provenance, const char *path,
                          const char *shown_path) {
    char why[EXPORT_WHY_BYTES];
    if (export_report_xlsx_write(report, path, shown_path,
                                 provenance ? cli_report_xlsx_about : NULL, provenance, why)) {
        return CLI_EXIT_OK;
    }
    if (why[0] != '\0') fprintf(stderr, CLI_PROGRAM ": %s\n", why);
    return CLI_EXIT_FAILED;
}
