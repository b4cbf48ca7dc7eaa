/* A plugin's report as an XLSX workbook, written with libxlsxwriter: a worksheet per table and one
 * for the findings, with money, integers and percentages as numbers in Excel formats. */
#include "export.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xlsxwriter.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* The name of the findings' worksheet, which no table's worksheet may take. */
#define EXPORT_XLSX_FINDINGS_SHEET "Findings"

/* Excel keeps "History" for itself, so no worksheet may be named it. */
#define EXPORT_XLSX_HISTORY_SHEET "History"

/* The most "NAME (N)" variants tried to make a worksheet name unique. Two tables whose names agree
 * in their first 31 characters are rare; a thousand is a bound, not an expectation. */
#define EXPORT_XLSX_NAME_TRIES_MAX 1000

/* Bytes of a " (N)" suffix that makes a worksheet name unique, NUL included. */
#define EXPORT_XLSX_SUFFIX_BYTES 16

/* Bytes of a worksheet name cut to 31 UTF-8 characters of at most 4 bytes, and a NUL. */
#define EXPORT_XLSX_CUT_NAME_BYTES (LXW_SHEETNAME_MAX * 4 + 1)

/* Bytes of a worksheet name: a cut name with room the compiler can see for a suffix, which in
 * fact replaces characters cut from the end. */
#define EXPORT_XLSX_SHEET_NAME_BYTES (EXPORT_XLSX_CUT_NAME_BYTES + EXPORT_XLSX_SUFFIX_BYTES)

/* Column widths, in Excel's character units: at least the default, at most a readable line. */
#define EXPORT_XLSX_COLUMN_WIDTH_MIN 10.0
#define EXPORT_XLSX_COLUMN_WIDTH_MAX 60.0

/* Characters a column of figures is given room for: "£123,456,789.00" and a little over. */
#define EXPORT_XLSX_FIGURE_CHARACTERS 16u

typedef struct export_report_xlsx {
    lxw_workbook *workbook;
    export_xlsx_formats formats;
    char (*sheet_names)[EXPORT_XLSX_SHEET_NAME_BYTES]; /* the tables' worksheets' names so far */
    size_t sheet_count;
    const char *path; /* as messages name it */
    char *why;        /* EXPORT_WHY_BYTES, filled when a write fails */
} export_report_xlsx;

/* Sheet names ------------------------------------------------------------------------------- */

static bool export_xlsx_name_taken(const export_report_xlsx *xlsx, const char *name) {
    if (strcasecmp(name, EXPORT_XLSX_HISTORY_SHEET) == 0) return true;
    if (strcasecmp(name, EXPORT_XLSX_FINDINGS_SHEET) == 0) return true;
    if (strcasecmp(name, EXPORT_ABOUT_SHEET) == 0) return true;
    for (size_t i = 0; i < xlsx->sheet_count; i++) {
        if (strcasecmp(name, xlsx->sheet_names[i]) == 0) return true;
    }
    return false;
}

/* Copies name into cut, shortened to characters_max characters at a word boundary as
 * export_sheet_name does, to leave room for a " (N)" suffix. */
static void export_xlsx_name_cut(const char *name, size_t characters_max, char *cut) {
    size_t used = 0, characters = 0, last_space = 0;
    for (; name[used] != '\0'; used++) {
        if (((unsigned char)name[used] & 0xC0) == 0x80) continue;
        if (characters == characters_max) break;
        if (name[used] == ' ') last_space = used;
        characters++;
    }
    if (name[used] != '\0' && name[used] != ' ' && last_space > 0) used = last_space;
    while (used > 0 && name[used - 1] == ' ') used--;
    memcpy(cut, name, used);
    cut[used] = '\0';
}

/* A valid worksheet name for the table named source, the index-th: its name cut to 31 characters
 * with the characters Excel refuses replaced, made unique by a " (N)" suffix. Returns false when
 * no unique name was found within EXPORT_XLSX_NAME_TRIES_MAX tries. */
static bool export_xlsx_sheet_name(const export_report_xlsx *xlsx, const char *source, size_t index,
                                char *name) {
    char base[EXPORT_XLSX_CUT_NAME_BYTES];
    _Static_assert(EXPORT_XLSX_CUT_NAME_BYTES == EXPORT_SHEET_NAME_BYTES,
                   "a cut name holds what export_sheet_name writes");
    if (source[0] == '\0') snprintf(base, sizeof base, "Table %zu", index + 1);
    else export_sheet_name(source, base);
    snprintf(name, EXPORT_XLSX_SHEET_NAME_BYTES, "%s", base);
    for (int attempt = 2; export_xlsx_name_taken(xlsx, name); attempt++) {
        if (attempt > EXPORT_XLSX_NAME_TRIES_MAX) return false;
        char suffix[EXPORT_XLSX_SUFFIX_BYTES], cut[EXPORT_XLSX_CUT_NAME_BYTES];
        int suffix_length = snprintf(suffix, sizeof suffix, " (%d)", attempt);
        assert(suffix_length > 0 && suffix_length < LXW_SHEETNAME_MAX);
        export_xlsx_name_cut(base, LXW_SHEETNAME_MAX - (size_t)suffix_length, cut);
        snprintf(name, EXPORT_XLSX_SHEET_NAME_BYTES, "%s%s", cut, suffix);
    }
    return true;
}

/* Adds a worksheet named name, which must be unique already, and remembers the name when
 * remember says so. Returns NULL having said why. */
static lxw_worksheet *export_xlsx_sheet_add(export_report_xlsx *xlsx, const char *name, bool remember) {
    lxw_worksheet *sheet = export_xlsx_worksheet_add(xlsx->workbook, xlsx->path, name, xlsx->why);
    if (sheet == NULL) return NULL;
    if (remember) {
        snprintf(xlsx->sheet_names[xlsx->sheet_count++], EXPORT_XLSX_SHEET_NAME_BYTES, "%s", name);
    }
    worksheet_freeze_panes(sheet, 1, 0);
    return sheet;
}

/* Cells ------------------------------------------------------------------------------------- */

/* A YYYYMMDD date as an Excel date; 0 as an empty cell; a date that is not real as its number. */
static lxw_error export_xlsx_date_write(export_report_xlsx *xlsx, lxw_worksheet *sheet, lxw_row_t row,
                                     lxw_col_t column, int64_t date) {
    if (date == 0) return LXW_NO_ERROR;
    if (date < 0 || date > UINT32_MAX || !calendar_date_valid((uint32_t)date)) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, date);
        return worksheet_write_string(sheet, row, column, text, NULL);
    }
    lxw_datetime when = {.year = (int)(date / 10000), .month = (int)(date / 100 % 100),
                         .day = (int)(date % 100)};
    return worksheet_write_datetime(sheet, row, column, &when, xlsx->formats.date);
}

static lxw_error export_xlsx_cell_write(export_report_xlsx *xlsx, lxw_worksheet *sheet, lxw_row_t row,
                                     lxw_col_t column, const Fundflow__V1__ReportColumn *type,
                                     const Fundflow__V1__ReportCell *cell) {
    char exact[FF_MONEY_TEXT_BYTES];
    int64_t number = cell->number;
    switch (type->type) {
    case FUNDFLOW__V1__COLUMN_TYPE__TEXT:
        return worksheet_write_string(sheet, row, column, cell->text, NULL);
    case FUNDFLOW__V1__COLUMN_TYPE__MONEY:
        money_format_plain(number, exact, sizeof exact);
        return export_xlsx_number_write(sheet, row, column, number,
                                            EXPORT_PENCE_PER_POUND, xlsx->formats.money,
                                            exact);
    case FUNDFLOW__V1__COLUMN_TYPE__INTEGER:
        snprintf(exact, sizeof exact, "%" PRId64, number);
        return export_xlsx_number_write(sheet, row, column, number, 1.0,
                                            xlsx->formats.integer, exact);
    case FUNDFLOW__V1__COLUMN_TYPE__PERCENT:
        snprintf(exact, sizeof exact, "%" PRId64 " basis points", number);
        return export_xlsx_number_write(sheet, row, column, number,
                                            EXPORT_BASIS_POINTS_PER_WHOLE,
                                            xlsx->formats.percent, exact);
    case FUNDFLOW__V1__COLUMN_TYPE__FLAG:
        return worksheet_write_boolean(sheet, row, column, number != 0, NULL);
    case FUNDFLOW__V1__COLUMN_TYPE__DATE:
        return export_xlsx_date_write(xlsx, sheet, row, column, number);
    default:
        if (cell->text[0] != '\0') {
            return worksheet_write_string(sheet, row, column, cell->text, NULL);
        }
        snprintf(exact, sizeof exact, "%" PRId64, number);
        return export_xlsx_number_write(sheet, row, column, number, 1.0, NULL, exact);
    }
}

/* Widens each column to its heading or its longest text, within the bounds. */
static lxw_error export_xlsx_widths_set(lxw_worksheet *sheet, const size_t *characters,
                                     size_t column_count) {
    for (size_t c = 0; c < column_count; c++) {
        double width = (double)characters[c] + 2.0;
        if (width < EXPORT_XLSX_COLUMN_WIDTH_MIN) width = EXPORT_XLSX_COLUMN_WIDTH_MIN;
        if (width > EXPORT_XLSX_COLUMN_WIDTH_MAX) width = EXPORT_XLSX_COLUMN_WIDTH_MAX;
        lxw_error error = worksheet_set_column(sheet, (lxw_col_t)c, (lxw_col_t)c, width, NULL);
        if (error != LXW_NO_ERROR) return error;
    }
    return LXW_NO_ERROR;
}

static size_t export_xlsx_text_characters(const char *text) {
    size_t characters = 0;
    for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++) {
        if ((*cursor & 0xC0) != 0x80) characters++;
    }
    return characters;
}

/* Sheets ------------------------------------------------------------------------------------ */

/* Says why the cell at row and column of the worksheet named sheet was not written. Returns
 * false. */
static bool export_xlsx_error_report(const export_report_xlsx *xlsx, const char *sheet, size_t row,
                                     size_t column, lxw_error error) {
    snprintf(xlsx->why, EXPORT_WHY_BYTES,
             "%s: cannot write row %zu, column %zu of the worksheet \"%s\": %s", xlsx->path,
             row + 1, column + 1, sheet, lxw_strerror(error));
    return false;
}

/* Says memory ran out. Returns false. */
static bool export_xlsx_no_memory(const export_report_xlsx *xlsx) {
    snprintf(xlsx->why, EXPORT_WHY_BYTES, "%s: out of memory", xlsx->path);
    return false;
}

/* Writes one row of the table, row 0 being its headings. */
static lxw_error export_xlsx_row_write(export_report_xlsx *xlsx, lxw_worksheet *sheet,
                                    const Fundflow__V1__ReportTable *table, size_t row,
                                    size_t *characters, size_t *failed_column) {
    for (size_t c = 0; c < table->n_columns; c++) {
        const Fundflow__V1__ReportColumn *column = table->columns[c];
        lxw_error error;
        const char *text = row == 0 ? column->name : table->rows[row - 1]->cells[c]->text;
        if (row == 0) {
            error = worksheet_write_string(sheet, 0, (lxw_col_t)c, column->name,
                                           xlsx->formats.heading);
        } else {
            error = export_xlsx_cell_write(xlsx, sheet, (lxw_row_t)row, (lxw_col_t)c, column,
                                        table->rows[row - 1]->cells[c]);
        }
        size_t length = export_xlsx_text_characters(text);
        if (length > characters[c]) characters[c] = length;
        if (error != LXW_NO_ERROR) {
            *failed_column = c;
            return error;
        }
    }
    return LXW_NO_ERROR;
}

static bool export_xlsx_table_write(export_report_xlsx *xlsx, const Fundflow__V1__ReportTable *table,
                                size_t index) {
    char name[EXPORT_XLSX_SHEET_NAME_BYTES];
    if (!export_xlsx_sheet_name(xlsx, table->name, index, name)) {
        snprintf(xlsx->why, EXPORT_WHY_BYTES,
                 "%s: no unique worksheet name for the table \"%s\"", xlsx->path, table->name);
        return false;
    }
    lxw_worksheet *sheet = export_xlsx_sheet_add(xlsx, name, true);
    if (sheet == NULL) return false;
    size_t *characters = calloc(table->n_columns, sizeof *characters);
    if (characters == NULL) {
        return export_xlsx_no_memory(xlsx);
    }
    /* Figures have no text to measure, so their columns get room for a large amount. */
    for (size_t c = 0; c < table->n_columns; c++) {
        if (table->columns[c]->type != FUNDFLOW__V1__COLUMN_TYPE__TEXT) {
            characters[c] = EXPORT_XLSX_FIGURE_CHARACTERS;
        }
    }
    bool ok = true;
    for (size_t row = 0; row <= table->n_rows && ok; row++) {
        size_t column = 0;
        lxw_error error = export_xlsx_row_write(xlsx, sheet, table, row, characters, &column);
        if (error != LXW_NO_ERROR) ok = export_xlsx_error_report(xlsx, name, row, column, error);
    }
    lxw_error error = ok
                          ? export_xlsx_widths_set(sheet, characters, table->n_columns)
                          : LXW_NO_ERROR;
    if (error != LXW_NO_ERROR) ok = export_xlsx_error_report(xlsx, name, 0, 0, error);
    free(characters);
    return ok;
}

/* The findings worst first: level, organisation code and message. */
static bool export_xlsx_findings_write(export_report_xlsx *xlsx, const Fundflow__V1__Report *report) {
    char name[EXPORT_XLSX_SHEET_NAME_BYTES];
    snprintf(name, sizeof name, "%s", EXPORT_XLSX_FINDINGS_SHEET);
    lxw_worksheet *sheet = export_xlsx_sheet_add(xlsx, name, false);
    if (sheet == NULL) return false;
    static const char *const headings[] = {"level", "org_code", "message"};
    size_t characters[3] = {5, 8, 7};
    char level_text[16];
    const Fundflow__V1__ReportFinding **ordered =
        calloc(report->n_findings + 1, sizeof *ordered);
    if (ordered == NULL) {
        return export_xlsx_no_memory(xlsx);
    }
    export_report_findings_order(report, ordered);
    for (size_t row = 0; row <= report->n_findings; row++) {
        const char *cells[3] = {headings[0], headings[1], headings[2]};
        if (row > 0) {
            const Fundflow__V1__ReportFinding *finding = ordered[row - 1];
            const ProtobufCEnumValue *level = protobuf_c_enum_descriptor_get_value(
                &fundflow__v1__finding_level__descriptor, finding->level);
            snprintf(level_text, sizeof level_text, "%d", (int)finding->level);
            cells[0] = level && finding->level != 0 ? level->name : level_text;
            cells[1] = finding->org_code;
            cells[2] = finding->message;
        }
        for (size_t c = 0; c < 3; c++) {
            lxw_error error = worksheet_write_string(sheet, (lxw_row_t)row, (lxw_col_t)c, cells[c],
                                                     row == 0 ? xlsx->formats.heading : NULL);
            if (error != LXW_NO_ERROR) {
                free(ordered);
                return export_xlsx_error_report(xlsx, name, row, c, error);
            }
            size_t length = export_xlsx_text_characters(cells[c]);
            if (length > characters[c]) characters[c] = length;
        }
    }
    free(ordered);
    lxw_error error = export_xlsx_widths_set(sheet, characters, 3);
    return error == LXW_NO_ERROR || export_xlsx_error_report(xlsx, name, 0, 0, error);
}

/* The workbook ------------------------------------------------------------------------------ */

static bool export_xlsx_sheets_write(export_report_xlsx *xlsx, const Fundflow__V1__Report *report,
                                     export_xlsx_extra *extra, const void *context) {
    for (size_t t = 0; t < report->n_tables; t++) {
        if (!export_xlsx_table_write(xlsx, report->tables[t], t)) return false;
    }
    if (!export_xlsx_findings_write(xlsx, report)) return false;
    return extra == NULL || extra(context, xlsx->workbook, xlsx->formats.heading, xlsx->path);
}

bool export_report_xlsx_write(const Fundflow__V1__Report *report, const char *path,
                              const char *shown_path, export_xlsx_extra *extra,
                              const void *context, char *why) {
    export_report_xlsx xlsx = {.path = shown_path, .why = why};
    why[0] = '\0';
    xlsx.sheet_names = calloc(report->n_tables + 1, sizeof *xlsx.sheet_names);
    xlsx.workbook = xlsx.sheet_names ? workbook_new(path) : NULL;
    if (xlsx.workbook == NULL) {
        snprintf(why, EXPORT_WHY_BYTES, "%s: cannot start a workbook: %s", shown_path,
                 xlsx.sheet_names ? "libxlsxwriter could not create it" : "out of memory");
        free(xlsx.sheet_names);
        return false;
    }
    bool ok = false;
    if (export_xlsx_formats_add(xlsx.workbook, &xlsx.formats)) {
        ok = export_xlsx_sheets_write(&xlsx, report, extra, context);
    } else {
        snprintf(why, EXPORT_WHY_BYTES, "%s: cannot add the workbook's formats", shown_path);
    }
    ok = export_xlsx_close(xlsx.workbook, ok, shown_path, why);
    assert(xlsx.sheet_count <= report->n_tables);
    free(xlsx.sheet_names);
    return ok;
}
