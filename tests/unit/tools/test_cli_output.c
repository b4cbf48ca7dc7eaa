/* Unit tests for the fundflow client's output formatting: the display width of UTF-8 text,
 * tables whose columns line up whatever the text, key/value fields, amounts in pounds with
 * thousands separators, the small value writers, events in a line, and reports as CSV with
 * RFC 4180 quoting, read back by the tools' own CSV reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_output.h"
#include "cli_output_events.h"
#include "cli_report.h"
#include "cli_values.h"
#include "csv.h"
#include "export.h"
#include "tool_test_support.h"
#include "tool_text.h"

static void test_text_columns(void **state) {
    (void)state;
    assert_int_equal(tool_text_columns(""), 0);
    assert_int_equal(tool_text_columns("QUE"), 3);
    assert_int_equal(tool_text_columns("£1,000.00"), 9);
    assert_int_equal(tool_text_columns("Café"), 4);
    assert_int_equal(tool_text_columns("Ysbyty Gwynedd – Bangor"), 23);
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stdout);
    tool_text_pad_write(stdout, "£5", 4);
    fputs("|", stdout);
    tool_text_pad_write(stdout, "toolong", 3);
    fputs("|", stdout);
    char *padded = tool_test_capture_end(&capture);
    assert_string_equal(padded, "£5  |toolong|");
    free(padded);
}

/* Writes table through a memory stream and returns what it wrote. */
static char *test_table_text(const cli_table *table) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    cli_table_write(table, out);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* Columns are as wide as their widest cell counted in characters, not bytes, so "£" and "é"
 * take one column each; amounts line up on the right, and the last column has no padding. */
static void test_table_alignment(void **state) {
    (void)state;
    static const char *const headings[] = {"code", "name", "amount"};
    static const bool right[] = {false, false, true};
    cli_table table;
    cli_table_init(&table, 3, headings, right);
    static const char *const first[] = {"QUE", "Café Trust", "£1,000.00"};
    static const char *const second[] = {"RGT1", "NHS", "£12.00"};
    assert_true(cli_table_row_add(&table, first));
    assert_true(cli_table_row_add(&table, second));
    char *text = test_table_text(&table);
    assert_string_equal(text, "code  name           amount\n"
                              "QUE   Café Trust  £1,000.00\n"
                              "RGT1  NHS            £12.00\n");
    free(text);
    cli_table_free(&table);
}

static void test_table_left_last_column(void **state) {
    (void)state;
    static const char *const headings[] = {"name", "note"};
    cli_table table;
    cli_table_init(&table, 2, headings, NULL);
    static const char *const row[] = {"Ánna", "x"};
    assert_true(cli_table_row_add(&table, row));
    char *text = test_table_text(&table);
    assert_string_equal(text, "name  note\n"
                              "Ánna  x\n");
    free(text);
    cli_table_free(&table);
}

/* Labels pad to one column by characters, so values line up under a label with "£" in it. */
static void test_fields(void **state) {
    (void)state;
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stdout);
    cli_money_field_print("amount", 123456789);
    cli_money_field_print("change", -100000);
    cli_field_print("in £", "%d", 7);
    cli_field_print("a label longer than the column", "%s", "x");
    char *text = tool_test_capture_end(&capture);
    assert_string_equal(text, "amount:           £1,234,567.89\n"
                              "change:           -£1,000.00\n"
                              "in £:             7\n"
                              "a label longer than the column: x\n");
    free(text);
}

static void test_codes_text(void **state) {
    (void)state;
    char buffer[32];
    char *codes[] = {NULL, NULL, NULL};
    char a[] = "QUE", b[] = "QWE", c[] = "QHM";
    codes[0] = a, codes[1] = b, codes[2] = c;
    assert_string_equal(cli_codes_text(codes, 0, buffer, sizeof buffer), "-");
    assert_string_equal(cli_codes_text(codes, 1, buffer, sizeof buffer), "QUE");
    assert_string_equal(cli_codes_text(codes, 3, buffer, sizeof buffer), "QUE, QWE, QHM");
    char small[12];
    assert_string_equal(cli_codes_text(codes, 3, small, sizeof small), "QUE, QWE...");
}

static void test_value_writers(void **state) {
    (void)state;
    char buffer[64];
    assert_string_equal(cli_basis_points_text(7550, buffer, sizeof buffer), "75.50%");
    assert_string_equal(cli_basis_points_text(1, buffer, sizeof buffer), "0.01%");
    assert_string_equal(cli_basis_points_text(10000, buffer, sizeof buffer), "100.00%");
    assert_string_equal(cli_year_text(2024, buffer, sizeof buffer), "2024/25");
    assert_string_equal(cli_year_text(1999, buffer, sizeof buffer), "1999/00");
    assert_string_equal(cli_year_text(12, buffer, sizeof buffer), "12");
    assert_string_equal(cli_date_text(20240401, buffer, sizeof buffer), "2024-04-01");
    assert_string_equal(cli_date_text(0, buffer, sizeof buffer), "-");
    assert_string_equal(cli_date_text(20240230, buffer, sizeof buffer), "20240230");
    assert_string_equal(cli_month_name(1), "April");
    assert_string_equal(cli_month_name(12), "March");
    assert_string_equal(cli_month_name(13), "?");
    assert_string_equal(cli_enum_text(&fundflow__v1__stream__descriptor,
                                      FUNDFLOW__V1__STREAM__CORE_SERVICES, buffer,
                                      sizeof buffer),
                        "core_services");
    assert_string_equal(cli_enum_text(&fundflow__v1__stream__descriptor, 999, buffer,
                                      sizeof buffer),
                        "999");
    assert_string_equal(cli_delegation_mode_text(FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL,
                                                 buffer, sizeof buffer),
                        "full");
    static const uint8_t bytes[] = {0x00, 0xAB, 0xFF};
    assert_string_equal(cli_hex_text(bytes, sizeof bytes, buffer, sizeof buffer), "00abff");
    assert_string_equal(cli_hex_text(bytes, sizeof bytes, buffer, 5), "00ab");
}

static void test_event_line(void **state) {
    (void)state;
    char funder[] = "X24", recipient[] = "QUE";
    Fundflow__V1__AllocationIssued allocation = FUNDFLOW__V1__ALLOCATION_ISSUED__INIT;
    allocation.funder_code = funder;
    allocation.recipient_code = recipient;
    allocation.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    allocation.financial_year = 2024;
    allocation.amount_pence = 123456789012;
    allocation.recurrent = true;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    event.allocation_issued = &allocation;
    char line[CLI_EVENT_LINE_BYTES];
    cli_event_line(&event, line, sizeof line);
    assert_string_equal(line, "allocate X24 -> QUE core_services 2024/25 £1,234,567,890.12");
    assert_string_equal(cli_event_kind_text(&event), "allocation_issued");
    cli_event_line(NULL, line, sizeof line);
    assert_string_equal(line, "(no event)");
    assert_string_equal(cli_event_kind_text(NULL), "none");
}

/* A report of one table with a column of each type, and one finding, for the CSV test. The
 * message types hold char *, so the text lives in arrays here rather than in literals. */
typedef struct test_report {
    char table_name[32], text_name[8], money_name[8], percent_name[8], flag_name[8],
        date_name[8];
    char first_text[32], second_text[32], empty[1], level_org[8], message[32];
    Fundflow__V1__ReportColumn columns[5];
    Fundflow__V1__ReportColumn *column_list[5];
    Fundflow__V1__ReportCell cells[2][5];
    Fundflow__V1__ReportCell *cell_lists[2][5];
    Fundflow__V1__ReportRow rows[2];
    Fundflow__V1__ReportRow *row_list[2];
    Fundflow__V1__ReportTable table;
    Fundflow__V1__ReportTable *table_list[1];
    Fundflow__V1__ReportFinding finding;
    Fundflow__V1__ReportFinding *finding_list[1];
    Fundflow__V1__Report report;
} test_report;

static void test_report_columns_build(test_report *built) {
    static const Fundflow__V1__ColumnType types[5] = {
        FUNDFLOW__V1__COLUMN_TYPE__TEXT, FUNDFLOW__V1__COLUMN_TYPE__MONEY,
        FUNDFLOW__V1__COLUMN_TYPE__PERCENT, FUNDFLOW__V1__COLUMN_TYPE__FLAG,
        FUNDFLOW__V1__COLUMN_TYPE__DATE};
    char *names[5] = {built->text_name, built->money_name, built->percent_name,
                      built->flag_name, built->date_name};
    for (size_t c = 0; c < 5; c++) {
        Fundflow__V1__ReportColumn column = FUNDFLOW__V1__REPORT_COLUMN__INIT;
        column.name = names[c];
        column.type = types[c];
        built->columns[c] = column;
        built->column_list[c] = &built->columns[c];
    }
}

static void test_report_rows_build(test_report *built) {
    static const int64_t numbers[2][5] = {{0, 123456, 7550, 1, 20240401}, {0, -5, 0, 0, 0}};
    char *texts[2] = {built->first_text, built->second_text};
    for (size_t r = 0; r < 2; r++) {
        for (size_t c = 0; c < 5; c++) {
            Fundflow__V1__ReportCell cell = FUNDFLOW__V1__REPORT_CELL__INIT;
            cell.text = c == 0 ? texts[r] : built->empty;
            cell.number = numbers[r][c];
            built->cells[r][c] = cell;
            built->cell_lists[r][c] = &built->cells[r][c];
        }
        Fundflow__V1__ReportRow row = FUNDFLOW__V1__REPORT_ROW__INIT;
        row.n_cells = 5;
        row.cells = built->cell_lists[r];
        built->rows[r] = row;
        built->row_list[r] = &built->rows[r];
    }
}

static void test_report_build(test_report *built) {
    memset(built, 0, sizeof *built);
    snprintf(built->table_name, sizeof built->table_name, "Flows, 2024\nand on");
    snprintf(built->text_name, sizeof built->text_name, "org");
    snprintf(built->money_name, sizeof built->money_name, "amount");
    snprintf(built->percent_name, sizeof built->percent_name, "share");
    snprintf(built->flag_name, sizeof built->flag_name, "ok");
    snprintf(built->date_name, sizeof built->date_name, "on");
    snprintf(built->first_text, sizeof built->first_text, "Trust \"A\", North");
    snprintf(built->second_text, sizeof built->second_text, "Line\r\nbreak");
    snprintf(built->level_org, sizeof built->level_org, "QUE");
    snprintf(built->message, sizeof built->message, "short, by £5");
    test_report_columns_build(built);
    test_report_rows_build(built);
    Fundflow__V1__ReportTable table = FUNDFLOW__V1__REPORT_TABLE__INIT;
    table.name = built->table_name;
    table.n_columns = 5;
    table.columns = built->column_list;
    table.n_rows = 2;
    table.rows = built->row_list;
    built->table = table;
    built->table_list[0] = &built->table;
    Fundflow__V1__ReportFinding finding = FUNDFLOW__V1__REPORT_FINDING__INIT;
    finding.level = FUNDFLOW__V1__FINDING_LEVEL__WARN;
    finding.org_code = built->level_org;
    finding.message = built->message;
    built->finding = finding;
    built->finding_list[0] = &built->finding;
    Fundflow__V1__Report report = FUNDFLOW__V1__REPORT__INIT;
    report.n_tables = 1;
    report.tables = built->table_list;
    report.n_findings = 1;
    report.findings = built->finding_list;
    built->report = report;
}

/* Fields holding a comma, a double quote, CR or LF are quoted with quotes doubled; others are
 * not. Figures are plain for programs: pounds without £ or separators, percentages without %,
 * flags true or false, dates ISO or empty. A line break in a table's name becomes a space. The
 * file starts with a UTF-8 byte order mark so that Excel shows "£". */
static void test_report_csv(void **state) {
    (void)state;
    test_report built;
    test_report_build(&built);
    assert_true(cli_report_check(&built.report));
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    cli_report_csv_write(&built.report, NULL, out);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(text, "\xEF\xBB\xBF# table Flows, 2024 and on\r\n"
                              "org,amount,share,ok,on\r\n"
                              "\"Trust \"\"A\"\", North\",1234.56,75.50,true,2024-04-01\r\n"
                              "\"Line\r\nbreak\",-0.05,0.00,false,\r\n"
                              "# findings\r\n"
                              "level,org_code,message\r\n"
                              "WARN,QUE,\"short, by £5\"\r\n");
    free(text);
}

/* Cells holding carriage returns, as the CSV writer quotes them, read back by the tools' CSV reader
 * exactly: "a\rb", a CRLF inside a cell, and a text cell starting with CR behind its "'". */
static void test_csv_carriage_return_round_trip(void **state) {
    (void)state;
    static const char *const cells[] = {"a\rb", "c\r\nd", "\rx"};
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    for (size_t i = 0; i < 3; i++) {
        if (i > 0) fputc(',', out);
        export_csv_field_write(cells[i], false, out);
    }
    fputs("\r\n", out);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(text, "\"a\rb\",\"c\r\nd\",\"'\rx\"\r\n");
    csv_reader *reader = NULL;
    char error[CSV_ERROR_BYTES];
    assert_int_equal(csv_reader_open_memory(text, size, "out.csv", &reader, error, sizeof error),
                     FF_OK);
    csv_record record;
    assert_int_equal(csv_reader_next(reader, &record), FF_OK);
    assert_int_equal(record.field_count, 3);
    assert_string_equal(record.fields[0], "a\rb");
    assert_string_equal(record.fields[1], "c\r\nd");
    assert_string_equal(record.fields[2], "'\rx");
    assert_int_equal(csv_reader_next(reader, &record), FF_ERR_EVENT_UNKNOWN);
    csv_reader_close(reader);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_columns),
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_table_left_last_column),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_codes_text),
        cmocka_unit_test(test_value_writers),
        cmocka_unit_test(test_event_line),
        cmocka_unit_test(test_report_csv),
        cmocka_unit_test(test_csv_carriage_return_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
