/* The fundflow client's renderings of a plugin's Report: a terminal table, CSV and XLSX. JSON
 * needs no rendering, since report prints the server's reply as it came. CSV and XLSX are
 * written by the export fundflowd's ExportReport uses too (daemon/export/export.h), with the
 * client's provenance added; failures are reported on stderr.
 *
 * Every rendering shows the same content: each table's columns and rows, then the findings. A
 * cell's column type says how its number reads: MONEY is pence, PERCENT basis points, FLAG 0 or 1
 * (any other number counts as 1), DATE YYYYMMDD; TEXT cells use their text. A column of a type
 * this client does not know shows its text, or its number when the text is empty.
 *
 * Call cli_report_check first: every writer asserts what it checks. Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_REPORT_H
#define FUNDFLOW_TOOLS_CLI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "fundflow/v1/ledger.pb-c.h"

/* What produced a rendering (cli_export.h). */
typedef struct cli_export_provenance cli_export_provenance;

/* How report writes its result. The numbers are never stored or sent; 0 means not chosen. */
typedef enum cli_report_format {
    CLI_REPORT_FORMAT_UNCHOSEN = 0,
    CLI_REPORT_FORMAT_TABLE,
    CLI_REPORT_FORMAT_CSV,
    CLI_REPORT_FORMAT_JSON,
    CLI_REPORT_FORMAT_XLSX,
} cli_report_format;

/* A format by name in any case ("table", "csv", "json", "xlsx"); false for any other text. */
bool cli_report_format_find(const char *name, cli_report_format *format_out);

/* The name of a chosen format, such as "csv". */
const char *cli_report_format_name(cli_report_format format);

/* Whether the report can be rendered: every table has at least one column and every row one cell
 * per column. Otherwise prints on stderr which table and row are at fault and returns false. */
bool cli_report_check(const Fundflow__V1__Report *report);

/* Writes the report for people: a line naming the plugin, its version, the year, the event it was
 * read as at and org_code (NULL for every organisation); each table under a title line, with
 * aligned columns; then the findings, FAIL first, then WARN, then PASS, with their counts.
 * Returns 0; 1 when a table has more columns than CLI_TABLE_COLUMNS_MAX (cli_output.h), having
 * said to use another format; or 4 when memory runs out. Write errors are left in out's error
 * flag for the caller. */
int cli_report_table_write(const Fundflow__V1__Report *report, const char *org_code, FILE *out);

/* Writes the report as RFC 4180 CSV, each line ended by CRLF, after a UTF-8 byte order mark and,
 * when provenance is not NULL, the rows "# command,..." and so on that cli_export_csv_write
 * writes (cli_export.h): for each table a line
 * "# table NAME", the column names, then a line per row; then "# findings" and the lines
 * "level,org_code,message", worst first. A field holding a comma, a double quote, CR or LF is quoted, with its
 * double quotes doubled. Money is plain pounds (1234.56), percent plain (12.34), flags true or
 * false, dates YYYY-MM-DD (empty for 0). Write errors are left in out's error flag. */
void cli_report_csv_write(const Fundflow__V1__Report *report,
                          const cli_export_provenance *provenance, FILE *out);

/* Writes the report as an XLSX workbook at path, a temporary file that report renames into place;
 * messages call it shown_path, the file the user asked for. A worksheet per table, named after
 * it (cut to 31 characters at a word boundary, with []:*?/\ replaced and a " (N)" suffix when
 * names clash), then one named "Findings", worst first, then with provenance one named "About". Money, integers and percentages are numbers with Excel formats, flags
 * booleans and dates Excel dates. Returns 0, or 4 having printed libxlsxwriter's reason on
 * stderr; path may then hold part of a workbook, which the caller removes. */
int cli_report_xlsx_write(const Fundflow__V1__Report *report,
                          const cli_export_provenance *provenance, const char *path,
                          const char *shown_path);

#endif
