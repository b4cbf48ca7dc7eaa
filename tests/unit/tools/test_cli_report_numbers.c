/* Unit tests of how fundflow report writes a report's whole numbers: an integer column, such as
 * the delegation rules' event numbers, is never grouped with thousands separators in the table
 * or in CSV, while money is. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_report.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A report of one table: event 4409, month M6 and £12,345.67 (1,234,567 pence). */
typedef struct test_report {
    Fundflow__V1__ReportColumn columns[3];
    Fundflow__V1__ReportColumn *column_pointers[3];
    Fundflow__V1__ReportCell cells[3];
    Fundflow__V1__ReportCell *cell_pointers[3];
    Fundflow__V1__ReportRow row;
    Fundflow__V1__ReportRow *row_pointer;
    Fundflow__V1__ReportTable table;
    Fundflow__V1__ReportTable *table_pointer;
    Fundflow__V1__Report report;
} test_report;

static void test_report_init(test_report *made) {
    static const char *const names[] = {"event", "month", "amount"};
    static const Fundflow__V1__ColumnType types[] = {FUNDFLOW__V1__COLUMN_TYPE__INTEGER,
                                                     FUNDFLOW__V1__COLUMN_TYPE__TEXT,
                                                     FUNDFLOW__V1__COLUMN_TYPE__MONEY};
    for (size_t i = 0; i < 3; i++) {
        fundflow__v1__report_column__init(&made->columns[i]);
        made->columns[i].name = (char *)names[i];
        made->columns[i].type = types[i];
        made->column_pointers[i] = &made->columns[i];
        fundflow__v1__report_cell__init(&made->cells[i]);
        made->cell_pointers[i] = &made->cells[i];
    }
    made->cells[0].number = 4409;
    made->cells[1].text = (char *)"M6";
    made->cells[2].number = 1234567;
    fundflow__v1__report_row__init(&made->row);
    made->row.cells = made->cell_pointers;
    made->row.n_cells = 3;
    made->row_pointer = &made->row;
    fundflow__v1__report_table__init(&made->table);
    made->table.name = (char *)"specialised spend";
    made->table.columns = made->column_pointers;
    made->table.n_columns = 3;
    made->table.rows = &made->row_pointer;
    made->table.n_rows = 1;
    made->table_pointer = &made->table;
    fundflow__v1__report__init(&made->report);
    made->report.plugin = (char *)"test";
    made->report.financial_year = 2024;
    made->report.as_at_sequence = 4409;
    made->report.tables = &made->table_pointer;
    made->report.n_tables = 1;
}

/* What writer put in a temporary file, NUL-terminated; the caller frees it. */
static char *test_written(const test_report *made, bool table) {
    FILE *out = tmpfile();
    assert_non_null(out);
    if (table) assert_int_equal(cli_report_table_write(&made->report, NULL, out), 0);
    else cli_report_csv_write(&made->report, NULL, out);
    long length = ftell(out);
    assert_true(length > 0);
    char *text = calloc((size_t)length + 1, 1);
    assert_non_null(text);
    rewind(out);
    assert_int_equal(fread(text, 1, (size_t)length, out), (size_t)length);
    fclose(out);
    return text;
}

static void test_table_prints_event_numbers_plain(void **state) {
    (void)state;
    test_report made;
    test_report_init(&made);
    assert_true(cli_report_check(&made.report));
    char *text = test_written(&made, true);
    assert_non_null(strstr(text, "4409"));
    assert_null(strstr(text, "4,409"));
    assert_non_null(strstr(text, "M6"));
    assert_non_null(strstr(text, "£12,345.67"));
    free(text);
}

static void test_csv_prints_event_numbers_plain(void **state) {
    (void)state;
    test_report made;
    test_report_init(&made);
    char *text = test_written(&made, false);
    assert_non_null(strstr(text, "4409"));
    assert_null(strstr(text, "4,409"));
    free(text);
}

/* A report's text cell that a spreadsheet would run as a formula is written behind a ', while a
 * negative amount stays a number. */
static void test_csv_neutralises_formula_text(void **state) {
    (void)state;
    test_report made;
    test_report_init(&made);
    made.cells[1].text = (char *)"=HYPERLINK(\"x\")";
    made.cells[2].number = -500;
    char *text = test_written(&made, false);
    assert_non_null(strstr(text, "4409,\"'=HYPERLINK(\"\"x\"\")\",-5.00"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_prints_event_numbers_plain),
        cmocka_unit_test(test_csv_prints_event_numbers_plain),
        cmocka_unit_test(test_csv_neutralises_formula_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
