/* The cell pieces every fundflow CSV file and workbook share: the CSV field with its formula
 * guard, worksheet names, the workbook's cell formats, the one pence-to-double writer, and
 * adding a worksheet and closing a workbook with a sentence when libxlsxwriter cannot. */
#include "export.h"

#include <stdio.h>
#include <string.h>

/* Every integer of magnitude up to 2^53 is exactly a double. */
#define EXPORT_EXACT_INTEGER_MAX (INT64_C(1) << 53)

/* Whether a spreadsheet would take text starting so as a formula (or a formula's start). */
static bool export_text_is_formula_like(const char *text) {
    return text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
}

void export_csv_field_write(const char *text, bool number, FILE *out) {
    bool neutralise = !number && export_text_is_formula_like(text);
    if (!neutralise && text[strcspn(text, ",\"\r\n")] == '\0') {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    if (neutralise) fputc('\'', out);
    for (const char *cursor = text; *cursor != '\0'; cursor++) {
        if (*cursor == '"') fputc('"', out);
        fputc(*cursor, out);
    }
    fputc('"', out);
}

static bool export_utf8_start(unsigned char byte) {
    return (byte & 0xC0) != 0x80;
}

const char *export_sheet_name(const char *title, char *name) {
    size_t used = 0, characters = 0, cut = 0, last_space = 0;
    bool cut_found = false;
    for (const unsigned char *cursor = (const unsigned char *)title; *cursor; cursor++) {
        if (export_utf8_start(*cursor)) {
            if (characters == EXPORT_SHEET_NAME_CHARACTERS_MAX) {
                cut_found = true;
                cut = *cursor == ' ' ? used : last_space;
                break;
            }
            characters++;
        }
        if (used + 1 == EXPORT_SHEET_NAME_BYTES) break;
        bool invalid = strchr("[]:*?/\\", *cursor) != NULL || *cursor < 0x20 || *cursor == 0x7F;
        if (*cursor == ' ') last_space = used;
        name[used++] = invalid ? '_' : (char)*cursor;
    }
    /* A single word longer than the limit is cut where the limit falls. */
    if (cut_found && cut > 0) used = cut;
    while (used > 0 && strchr(" -,(", name[used - 1]) != NULL) used--;
    name[used] = '\0';
    if (used == 0) snprintf(name, EXPORT_SHEET_NAME_BYTES, "Sheet");
    /* Excel refuses a name that starts or ends with an apostrophe. */
    if (name[0] == '\'') name[0] = '_';
    if (name[strlen(name) - 1] == '\'') name[strlen(name) - 1] = '_';
    return name;
}

bool export_xlsx_formats_add(lxw_workbook *workbook, export_xlsx_formats *formats) {
    lxw_format **each[] = {&formats->heading, &formats->money,       &formats->integer,
                           &formats->percent, &formats->date,        &formats->total_money,
                           &formats->total_label};
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        *each[i] = workbook_add_format(workbook);
        if (*each[i] == NULL) return false;
    }
    format_set_bold(formats->heading);
    format_set_bold(formats->total_label);
    format_set_bold(formats->total_money);
    format_set_num_format(formats->money, "£#,##0.00");
    format_set_num_format(formats->total_money, "£#,##0.00");
    format_set_num_format(formats->integer, "0"); /* counts and event numbers: no separators */
    format_set_num_format(formats->percent, "0.00%");
    format_set_num_format(formats->date, "yyyy-mm-dd");
    return true;
}

bool export_xlsx_number_exact(int64_t number) {
    return number <= EXPORT_EXACT_INTEGER_MAX && number >= -EXPORT_EXACT_INTEGER_MAX;
}

lxw_error export_xlsx_number_write(lxw_worksheet *sheet, lxw_row_t row, lxw_col_t column,
                                   int64_t number, double divisor, lxw_format *format,
                                   const char *exact_text) {
    if (!export_xlsx_number_exact(number)) {
        return worksheet_write_string(sheet, row, column, exact_text, NULL);
    }
    return worksheet_write_number(sheet, row, column, (double)number / divisor, format);
}

lxw_worksheet *export_xlsx_worksheet_add(lxw_workbook *workbook, const char *shown_path,
                                         const char *name, char *why) {
    lxw_error error = workbook_validate_sheet_name(workbook, name);
    lxw_worksheet *sheet = error == LXW_NO_ERROR ? workbook_add_worksheet(workbook, name) : NULL;
    if (sheet == NULL) {
        snprintf(why, EXPORT_WHY_BYTES, "%s: cannot add the worksheet \"%s\": %s", shown_path,
                 name, error != LXW_NO_ERROR ? lxw_strerror(error) : "libxlsxwriter refused it");
    }
    return sheet;
}

bool export_xlsx_close(lxw_workbook *workbook, bool ok, const char *shown_path, char *why) {
    /* workbook_close frees the workbook whatever happens, so it runs on the failure path too. */
    lxw_error error = workbook_close(workbook);
    if (error != LXW_NO_ERROR && ok) {
        snprintf(why, EXPORT_WHY_BYTES, "%s: cannot write the workbook: %s", shown_path,
                 lxw_strerror(error));
        return false;
    }
    return ok;
}
