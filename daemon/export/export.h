/* The export both fundflow and fundflowd use: a plugin's Report as RFC 4180 CSV and as an XLSX
 * workbook, and the cell pieces every fundflow workbook and CSV file share (one set of cell
 * formats, one pence-to-double writer, one guard against text a spreadsheet would run).
 *
 * A report's cell reads by its column's type: MONEY is pence, PERCENT basis points, FLAG 0 or 1
 * (any other number counts as 1), DATE YYYYMMDD; TEXT cells use their text. A column of a type
 * this code does not know shows its text, or its number when the text is empty. Money is int64
 * pence throughout; it becomes pounds only as it is written: plain decimal text (1234.56) in
 * CSV, and a number in a £ format in a workbook.
 *
 * Nothing here prints: a failure fills why (at least EXPORT_WHY_BYTES) with a sentence the
 * caller shows. Call export_report_check first: every writer asserts what it checks. The
 * functions keep no state, so any thread may call them.
 */
#ifndef FUNDFLOW_EXPORT_H
#define FUNDFLOW_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xlsxwriter.h>

#include "failure.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Bytes of a failure's sentence. */
#define EXPORT_WHY_BYTES 512

/* The name of the sheet the CLI adds with its provenance, which no table may take. */
#define EXPORT_ABOUT_SHEET "About"

/* Excel's limit on a worksheet's name, in characters, and the bytes of one: 31 UTF-8 characters
 * of at most 4 bytes, and a NUL. */
#define EXPORT_SHEET_NAME_CHARACTERS_MAX 31
#define EXPORT_SHEET_NAME_BYTES (EXPORT_SHEET_NAME_CHARACTERS_MAX * 4 + 1)

/* Pence in a pound, and basis points in the whole, as Excel's formats divide them. */
#define EXPORT_PENCE_PER_POUND 100.0
#define EXPORT_BASIS_POINTS_PER_WHOLE ((double)FF_BASIS_POINTS_WHOLE)

/* CSV ends each line with CRLF (RFC 4180 section 2.1), after a UTF-8 byte order mark, so that
 * Excel reads the file as UTF-8 and shows "£". */
#define EXPORT_CSV_LINE_END "\r\n"
#define EXPORT_CSV_BOM "\xEF\xBB\xBF"

/* Cells ------------------------------------------------------------------------------------- */

/* Writes one CSV field: quoted when it holds a comma, a double quote, CR or LF, its double
 * quotes doubled. Text (number false) that a spreadsheet would run as a formula, starting =,
 * +, -, @, a tab or a CR, is quoted and written behind a ', as OWASP's advice on CSV injection
 * says; a number field is written as it is, so -300.00 stays a number Excel can sum. */
void export_csv_field_write(const char *text, bool number, FILE *out);

/* The worksheet name for a title: at most 31 characters, cut at the last word boundary that
 * fits (never mid-word unless a single word is longer), with []:*?/\ replaced by '_'. Returns
 * name, which holds EXPORT_SHEET_NAME_BYTES. */
const char *export_sheet_name(const char *title, char *name);

/* The cell formats of every fundflow workbook: listings' and reports' alike. */
typedef struct export_xlsx_formats {
    lxw_format *heading, *money, *integer, *percent, *date, *total_money, *total_label;
} export_xlsx_formats;

/* Adds the formats to the workbook: money "£#,##0.00", integers without separators, percent
 * "0.00%", dates yyyy-mm-dd, headings and totals bold. False if libxlsxwriter cannot. */
bool export_xlsx_formats_add(lxw_workbook *workbook, export_xlsx_formats *formats);

/* Whether number (pence, basis points or a count) converts to a double exactly: its magnitude
 * is at most 2^53. */
bool export_xlsx_number_exact(int64_t number);

/* Writes number / divisor in format. This is the only place fundflow turns pence (or basis
 * points) into floating point, at the boundary of the output, because Excel holds every number
 * as an IEEE double: an integer up to 2^53 (in pence, about £90 trillion) converts exactly, and
 * dividing it by 100 or 10000 gives the double nearest the exact decimal, which Excel's 15
 * significant digits show exactly. Nothing is summed or rounded. A number that is not
 * export_xlsx_number_exact is written as exact_text instead. */
lxw_error export_xlsx_number_write(lxw_worksheet *sheet, lxw_row_t row, lxw_col_t column,
                                   int64_t number, double divisor, lxw_format *format,
                                   const char *exact_text);

/* Adds a worksheet named name to the workbook being written to shown_path, or fills why (a name
 * libxlsxwriter refuses, or no memory) and returns NULL. */
lxw_worksheet *export_xlsx_worksheet_add(lxw_workbook *workbook, const char *shown_path,
                                         const char *name, char *why);

/* Closes (writes and frees) the workbook, whatever ok says: ok is whether its sheets were
 * written. Returns ok, or false having filled why when ok was true but the file could not be
 * written. */
bool export_xlsx_close(lxw_workbook *workbook, bool ok, const char *shown_path, char *why);

/* Reports ----------------------------------------------------------------------------------- */

/* Whether the report can be rendered: every table has at least one column and every row one cell
 * per column. Otherwise fills why with the table and row at fault. */
bool export_report_check(const Fundflow__V1__Report *report, char *why);

/* Who a cell's text is written for: people at a terminal, or programs reading CSV. */
typedef enum export_cell_reader { EXPORT_CELL_FOR_PEOPLE, EXPORT_CELL_FOR_PROGRAMS } export_cell_reader;

/* Bytes a cell's text is formatted into: holds any money, integer, percentage or date. */
#define EXPORT_CELL_BYTES 256

/* The cell's text for reader, written into buffer (at least 32 bytes and FF_MONEY_TEXT_BYTES) or,
 * for text, perhaps the cell's own. For people money is £1,234.56, percent 12.34%, flags yes or
 * no, dates YYYY-MM-DD or - for none, and text has control characters made spaces (cut to the
 * buffer only then); for programs money is plain pounds, percent plain, flags true or false,
 * dates empty for none. */
const char *export_report_cell_text(const Fundflow__V1__ReportColumn *column,
                                    const Fundflow__V1__ReportCell *cell,
                                    export_cell_reader reader, char *buffer, size_t buffer_bytes);

/* Text for a terminal: control characters (a line break would split a table's row) become
 * spaces. Text without any is returned as it is; other text is cut to the buffer without
 * splitting a UTF-8 character. */
const char *export_text_clean(const char *text, char *buffer, size_t buffer_bytes);

/* Whether the column's figures line up on the right: money, integers and percentages. */
bool export_report_column_is_figure(const Fundflow__V1__ReportColumn *column);

/* "FAIL", "WARN" or "PASS", or the level's number. */
const char *export_report_level_text(Fundflow__V1__FindingLevel level, char *buffer,
                                     size_t buffer_bytes);

/* The groups findings are listed in, worst first: FAIL, WARN, PASS, then every other level. */
#define EXPORT_FINDING_GROUPS 4
bool export_report_finding_in_group(const Fundflow__V1__ReportFinding *finding, size_t group);
Fundflow__V1__FindingLevel export_report_group_level(size_t group); /* group < 3 */

/* Fills ordered with the report's n_findings findings worst first, each level in the server's
 * order. Every format lists them so. */
void export_report_findings_order(const Fundflow__V1__Report *report,
                                  const Fundflow__V1__ReportFinding **ordered);

/* Writes the caller's leading lines (the CLI's provenance rows) after the byte order mark. */
typedef void export_csv_preamble(const void *context, FILE *out);

/* Writes the report as RFC 4180 CSV: a byte order mark, then preamble (when not NULL), then for
 * each table a line "# table NAME", the column names, then a line per row; then "# findings"
 * and the lines "level,org_code,message", worst first. Money is plain pounds (1234.56),
 * percent plain (12.34), flags true or false, dates YYYY-MM-DD (empty for 0). Write errors are
 * left in out's error flag. */
void export_report_csv_write(const Fundflow__V1__Report *report, export_csv_preamble *preamble,
                             const void *context, FILE *out);

/* Adds the caller's sheets after the findings (the CLI's About sheet), its labels in bold.
 * Returns false having reported the failure itself. */
typedef bool export_xlsx_extra(const void *context, lxw_workbook *workbook, lxw_format *bold,
                               const char *shown_path);

/* Writes the report as an XLSX workbook at path; messages name it shown_path. A worksheet per
 * table, named after it (cut to 31 characters at a word boundary, with []:*?/\ replaced and a
 * " (N)" suffix when names clash), then one named "Findings", worst first, then extra's.
 * Money, integers and percentages are numbers with Excel formats, flags booleans, dates Excel
 * dates, and text is always a string cell, never a formula. Returns true; or false having
 * filled why (empty when extra failed and said why itself); path may then hold part of a
 * workbook, which the caller removes. */
bool export_report_xlsx_write(const Fundflow__V1__Report *report, const char *path,
                              const char *shown_path, export_xlsx_extra *extra,
                              const void *context, char *why);

/* ExportReport ------------------------------------------------------------------------------- */

/* Whether the request can be answered: it has a report and a format of CSV or XLSX. Otherwise
 * fills failure naming the field (report, format). */
ff_err export_report_request_check(const Fundflow__V1__ExportReportRequest *request,
                                   ff_failure *failure);

/* The reply for a checked request and the report RunReport's code built for it: the file's
 * bytes, media type, a name to save it under and the report's as-at sequence. The CSV has no
 * provenance rows and the workbook no About sheet (the CLI adds those); otherwise the bytes are
 * the CLI's. A workbook is written through a temporary file in $TMPDIR (or /tmp), removed at
 * once. Returns FF_OK and a reply to free with protobuf_c_message_free_unpacked, or fills
 * failure. */
ff_err export_report_reply(const Fundflow__V1__ExportReportRequest *request,
                           const Fundflow__V1__Report *report,
                           Fundflow__V1__ExportReportResponse **reply_out, ff_failure *failure);

#endif
