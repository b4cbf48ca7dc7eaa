/* Unit tests for the fundflow client's export of listings (cli_export.c): CSV quoting, its byte
 * order mark and provenance rows, totals and their overflow, --sort, worksheet names cut at a
 * word boundary, the terminal table's TOTAL row, JSON rows and a workbook written to disk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_export.h"

/* A document of one table: a contract's id, its type, its value and its withheld pot. The
 * figures are chosen so that the sort by withheld differs from the sort by value. */
static const cli_export_column test_columns[] = {
    CLI_EXPORT_COLUMN("contract", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("agreed", CLI_EXPORT_DATE),
    CLI_EXPORT_COLUMN("value", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("withheld pot", CLI_EXPORT_MONEY)};

static cli_export_table *test_document(cli_export_document *document) {
    cli_options options;
    memset(&options, 0, sizeof options);
    cli_export_document_init(document, &options);
    cli_export_table *table = cli_export_table_add(document, "Contracts", test_columns, 4, true);
    /* value £1,234.56 + £500.00 + £0.05 = £1,734.61; withheld £10.00 + £250.00 + £10.00 =
     * £270.00. */
    const cli_export_cell rows[3][4] = {
        {{.text = "A-1, \"north\""}, {.number = 20240401}, {.number = 123456}, {.number = 1000}},
        {{.text = "B-2"}, {.number = 20240501}, {.number = 50000}, {.number = 25000}},
        {{.text = "C-3\nline"}, {.number = 0}, {.number = 5}, {.number = 1000}}};
    for (size_t r = 0; r < 3; r++) assert_true(cli_export_row_add(table, rows[r]));
    return table;
}

/* Writes the document as CSV through a memory stream and returns what it wrote. */
static char *test_csv(const cli_export_document *document, bool provenance) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    cli_export_csv_write(document, provenance, out);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* RFC 4180: a field with a comma, a double quote or a line break is quoted, its quotes doubled;
 * lines end CRLF; a UTF-8 byte order mark comes first; money is plain pounds; dates ISO, empty
 * for none; the TOTAL row sums the money columns. */
static void test_csv_quoting_bom_totals(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    assert_true(cli_export_totals(table));
    assert_int_equal(table->totals_pence[2], 173461);
    assert_int_equal(table->totals_pence[3], 27000);
    char *text = test_csv(&document, false);
    assert_string_equal(text, "\xEF\xBB\xBF"
                              "contract,agreed,value,withheld pot\r\n"
                              "\"A-1, \"\"north\"\"\",2024-04-01,1234.56,10.00\r\n"
                              "B-2,2024-05-01,500.00,250.00\r\n"
                              "\"C-3\nline\",,0.05,10.00\r\n"
                              "TOTAL,,1734.61,270.00\r\n");
    free(text);
    cli_export_document_free(&document);
}

/* CSV injection: a text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first)
 * is written quoted behind a ', so it opens as text; a negative amount stays a number. */
static void test_csv_formula_cells_are_neutralised(void **state) {
    (void)state;
    cli_options options;
    memset(&options, 0, sizeof options);
    cli_export_document document;
    cli_export_document_init(&document, &options);
    cli_export_table *table = cli_export_table_add(&document, "Contracts", test_columns, 4, false);
    const cli_export_cell rows[5][4] = {
        {{.text = "=cmd|' /C calc'!A0"}, {.number = 0}, {.number = -30000}, {.number = 0}},
        {{.text = "+1+1"}, {.number = 0}, {.number = 1}, {.number = 0}},
        {{.text = "-2"}, {.number = 0}, {.number = 1}, {.number = 0}},
        {{.text = "@SUM(A1)"}, {.number = 0}, {.number = 1}, {.number = 0}},
        {{.text = "\tX"}, {.number = 0}, {.number = 1}, {.number = 0}}};
    for (size_t r = 0; r < 5; r++) assert_true(cli_export_row_add(table, rows[r]));
    char *text = test_csv(&document, false);
    assert_string_equal(text, "\xEF\xBB\xBF"
                              "contract,agreed,value,withheld pot\r\n"
                              "\"'=cmd|' /C calc'!A0\",,-300.00,0.00\r\n"
                              "\"'+1+1\",,0.01,0.00\r\n"
                              "\"'-2\",,0.01,0.00\r\n"
                              "\"'@SUM(A1)\",,0.01,0.00\r\n"
                              "\"'\tX\",,0.01,0.00\r\n");
    free(text);
    cli_export_document_free(&document);
}

/* With provenance, rows whose first field starts "# " come before the header row. */
static void test_csv_provenance(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    assert_true(cli_export_totals(table));
    document.provenance.financial_year = 2024;
    document.provenance.as_at_sequence = 17;
    document.provenance.as_at_date = 20240630;
    document.provenance.head_sequence = 21;
    snprintf(document.provenance.command, sizeof document.provenance.command,
             "fundflow contract list --format csv");
    snprintf(document.provenance.head_hash, sizeof document.provenance.head_hash, "ab12");
    snprintf(document.provenance.made_at, sizeof document.provenance.made_at,
             "2024-07-01T09:00:00Z");
    char *text = test_csv(&document, true);
    const char *expected = "\xEF\xBB\xBF"
                           "# command,fundflow contract list --format csv\r\n"
                           "# financial year,2024/25\r\n"
                           "# as at sequence,17\r\n"
                           "# as at date,2024-06-30\r\n"
                           "# head sequence,21\r\n"
                           "# head hash,ab12\r\n"
                           "# made at,2024-07-01T09:00:00Z\r\n"
                           "contract,agreed,value,withheld pot\r\n";
    assert_memory_equal(text, expected, strlen(expected));
    free(text);
    cli_export_document_free(&document);
}

/* A money sum past INT64_MAX is refused, not wrapped. */
static void test_totals_overflow(void **state) {
    (void)state;
    cli_options options;
    memset(&options, 0, sizeof options);
    cli_export_document document;
    cli_export_document_init(&document, &options);
    cli_export_table *table = cli_export_table_add(&document, "Big", test_columns, 4, true);
    const cli_export_cell big[4] = {{.text = "X"}, {.number = 0}, {.number = INT64_MAX},
                                    {.number = 0}};
    const cli_export_cell one[4] = {{.text = "Y"}, {.number = 0}, {.number = 1}, {.number = 0}};
    assert_true(cli_export_row_add(table, big));
    assert_true(cli_export_totals(table));
    assert_true(cli_export_row_add(table, one));
    assert_false(cli_export_totals(table));
    cli_export_document_free(&document);
}

/* --sort: money largest first, ties keeping their order; text in order; names with '_' for
 * spaces and in any case. */
static void test_sort(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    int withheld = cli_export_column_find(table, "WITHHELD_POT");
    assert_int_equal(withheld, 3);
    assert_int_equal(cli_export_column_find(table, "nope"), -1);
    cli_export_sort(table, (size_t)withheld);
    /* £250.00 first, then the two £10.00 rows in their first order, A-1 before C-3. */
    assert_string_equal(table->cells[0 * 4].text, "B-2");
    assert_string_equal(table->cells[1 * 4].text, "A-1, \"north\"");
    assert_string_equal(table->cells[2 * 4].text, "C-3\nline");
    cli_export_sort(table, 2);
    assert_int_equal(table->cells[0 * 4 + 2].number, 123456);
    assert_int_equal(table->cells[2 * 4 + 2].number, 5);
    cli_export_sort(table, 0);
    assert_string_equal(table->cells[0].text, "A-1, \"north\"");
    cli_export_document_free(&document);
}

/* Names longer than 31 characters are cut at the last space that fits, never mid-word unless
 * one word is longer than the limit; Excel's forbidden characters become '_'. */
static void test_sheet_names(void **state) {
    (void)state;
    char name[CLI_EXPORT_SHEET_NAME_BYTES];
    assert_string_equal(cli_export_sheet_name("Contracts", name), "Contracts");
    /* "Outcome-based contracts withholding the most": 23 characters to "contracts", 35 to
     * "withholding", so the cut falls after "contracts". */
    assert_string_equal(cli_export_sheet_name("Outcome-based contracts withholding the most",
                                              name),
                        "Outcome-based contracts");
    /* The limit falls inside "commissioner" (characters 22 to 33), so the cut follows "and". */
    assert_string_equal(cli_export_sheet_name("Payments by month and commissioner x", name),
                        "Payments by month and");
    /* Exactly 31 characters, then a space: every word of them is kept. */
    assert_string_equal(cli_export_sheet_name("Positions of every ICB and more today", name),
                        "Positions of every ICB and more");
    assert_string_equal(cli_export_sheet_name("abcdefghijklmnopqrstuvwxyz0123456789", name),
                        "abcdefghijklmnopqrstuvwxyz01234");
    assert_string_equal(cli_export_sheet_name("Plan/actual: M1-M6", name), "Plan_actual_ M1-M6");
    assert_string_equal(cli_export_sheet_name("'quoted'", name), "_quoted_");
    /* 30 characters then "é": 31 characters, 32 bytes, kept whole. */
    assert_string_equal(cli_export_sheet_name("Positions of every ICB in 2024\xC3\xA9", name),
                        "Positions of every ICB in 2024\xC3\xA9");
    assert_true(strlen(cli_export_sheet_name("a b c d e f g h i j k l m n o p q r", name)) <= 31);
}

/* The terminal table shows money as £ with separators, and a TOTAL row. */
static void test_table_total_row(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    assert_true(cli_export_totals(table));
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    cli_export_table_write(&document, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "£1,234.56"));
    assert_non_null(strstr(text, "TOTAL"));
    assert_non_null(strstr(text, "£1,734.61"));
    assert_non_null(strstr(text, "£270.00"));
    free(text);
    cli_export_document_free(&document);
}

/* JSON rows: money as exact decimal text, dates ISO or null, totals and provenance. */
static void test_json(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    assert_true(cli_export_totals(table));
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    assert_int_equal(cli_export_json_write(&document, out), 0);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "\"value\": \"1234.56\""));
    assert_non_null(strstr(text, "\"agreed\": null"));
    assert_non_null(strstr(text, "\"agreed\": \"2024-04-01\""));
    assert_non_null(strstr(text, "\"totals\""));
    assert_non_null(strstr(text, "\"value\": \"1734.61\""));
    assert_non_null(strstr(text, "\"provenance\""));
    free(text);
    cli_export_document_free(&document);
}

/* A workbook is written: a zip file, so it starts "PK". */
static void test_xlsx(void **state) {
    (void)state;
    cli_export_document document;
    cli_export_table *table = test_document(&document);
    assert_true(cli_export_totals(table));
    char path[] = "/tmp/test_cli_export_XXXXXX";
    int descriptor = mkstemp(path);
    assert_true(descriptor >= 0);
    close(descriptor);
    assert_int_equal(cli_export_xlsx_write(&document, path, path), 0);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char magic[2] = {0, 0};
    assert_int_equal(fread(magic, 1, 2, in), 2);
    fclose(in);
    unlink(path);
    assert_memory_equal(magic, "PK", 2);
    cli_export_document_free(&document);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting_bom_totals),
        cmocka_unit_test(test_csv_provenance),
        cmocka_unit_test(test_csv_formula_cells_are_neutralised),
        cmocka_unit_test(test_totals_overflow),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_sheet_names),
        cmocka_unit_test(test_table_total_row),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_xlsx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
