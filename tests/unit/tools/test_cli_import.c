/* Unit tests for cli_import_rows.c: a mapped CSV row made into a command by the write
 * subcommand's own flag parsers, its refusals naming the line and the column, and a mapping's
 * fields checked against the kind. Nothing is sent: the rows are only parsed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli_import.h"
#include "tool_test_support.h"
#include "tool_values.h"

static const char test_payments_mapping[] = "kind = payments\n"
                                            "Contract Ref = contract\n"
                                            "Period = month\n"
                                            "Amount Paid = amount\n"
                                            "Paid On = date\n"
                                            "date format = DD/MM/YYYY\n"
                                            "reference = Invoice\n";

static mapping *test_mapping(const char *text) {
    mapping *map = NULL;
    char error[MAPPING_ERROR_BYTES];
    if (mapping_parse(text, strlen(text), "test.map", &map, error, sizeof error) != FF_OK) {
        fail_msg("mapping: %s", error);
    }
    return map;
}

/* A row of the payments file at line 12, as the reader would give it. */
static mapped_row test_payment_row(const char *amount, const char *date) {
    mapped_row row = {.line = 12, .field_count = 4, .reference = "INV-12"};
    const char *names[] = {"contract", "month", "amount", "date"};
    const char *columns[] = {"Contract Ref", "Period", "Amount Paid", "Paid On"};
    const char *values[] = {"QUE-BLK-1", "M1", amount, date};
    for (size_t i = 0; i < 4; i++) {
        row.names[i] = names[i], row.columns[i] = columns[i], row.values[i] = values[i];
    }
    return row;
}

static bool test_parse(const char *amount, const char *date, cli_import_parsed *parsed) {
    mapping *map = test_mapping(test_payments_mapping);
    mapped_row row = test_payment_row(amount, date);
    cli_session session = {0};
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stderr);
    bool ok = cli_import_row_parse(cli_import_kind_find("payments"), map, &row, "import-key-12",
                                   &session, parsed);
    char *errors = tool_test_capture_end(&capture);
    /* Every refusal goes into the row's result, none to stderr. */
    assert_string_equal(errors, "");
    free(errors);
    mapping_free(map);
    return ok;
}

/* £1,234.50 is 123,450p; 30/04/2024 is 2024-04-30; the reference column fills --reference. */
static void test_a_row_becomes_the_pay_command(void **state) {
    (void)state;
    cli_import_parsed parsed;
    assert_true(test_parse("£1,234.50", "30/04/2024", &parsed));
    Fundflow__V1__Command *command = parsed.command;
    assert_non_null(command);
    assert_string_equal(command->idempotency_key, "import-key-12");
    assert_int_equal(command->effective_date, 20240430);
    assert_int_equal(command->event->kind_case, FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE);
    assert_string_equal(command->event->payment_made->contract_id, "QUE-BLK-1");
    assert_int_equal(command->event->payment_made->amount_pence, 123450);
    assert_int_equal(command->event->payment_made->month, 1);
    assert_string_equal(command->event->payment_made->reference, "INV-12");
    fundflow__v1__command__free_unpacked(command, NULL);
}

static bool test_starts(const char *text, const char *prefix) {
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void test_refusals_name_line_and_column(void **state) {
    (void)state;
    cli_import_parsed parsed;
    assert_false(test_parse("1e3", "30/04/2024", &parsed));
    assert_null(parsed.command);
    assert_string_equal(parsed.field, "Amount Paid");
    assert_true(test_starts(parsed.reason, "line 12, column \"Amount Paid\": \"1e3\" "));
    assert_false(test_parse("1.234", "30/04/2024", &parsed));
    assert_true(test_starts(parsed.reason, "line 12, column \"Amount Paid\": \"1.234\" "));
    assert_false(test_parse("1,234.5", "31/02/2024", &parsed));
    assert_string_equal(parsed.field, "Paid On");
    assert_false(test_parse("", "30/04/2024", &parsed));
    assert_string_equal(parsed.reason,
                        "line 12, column \"Amount Paid\": is empty, and every row needs it");
    assert_true(test_parse("1,234.5", "30/04/2024", &parsed));
    fundflow__v1__command__free_unpacked(parsed.command, NULL);
}

static void test_mapping_fields_are_checked_against_the_kind(void **state) {
    (void)state;
    mapping *map = test_mapping("Contract Ref = contract\nAmount Paid = amount\n");
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stderr);
    assert_false(cli_import_mapping_check(cli_import_kind_find("payments"), map, "short.map"));
    char *errors = tool_test_capture_end(&capture);
    assert_non_null(strstr(errors, "short.map maps no column to month"));
    free(errors);
    mapping_free(map);
    map = test_mapping(test_payments_mapping);
    assert_true(cli_import_mapping_check(cli_import_kind_find("payments"), map, "test.map"));
    tool_test_capture_begin(&capture, stderr);
    assert_false(cli_import_mapping_check(cli_import_kind_find("budgets"), map, "test.map"));
    errors = tool_test_capture_end(&capture);
    assert_non_null(
        strstr(errors, "\"contract\" is not a field of budgets; its fields are: from, to"));
    free(errors);
    mapping_free(map);
    assert_non_null(cli_import_kind_find("outcome reports"));
    assert_null(cli_import_kind_find("receipts"));
}

/* A long text is cut between characters: 10 bytes hold 6 of text, "…" (3) and the NUL; the
 * 6th byte would be the first of a "£" (2 bytes, at 5 and 6), so 5 bytes are kept. */
static void test_long_text_is_shortened_between_characters(void **state) {
    (void)state;
    char shown[10];
    assert_string_equal(cli_import_text_shorten("short", shown, sizeof shown), "short");
    assert_string_equal(cli_import_text_shorten("123456789", shown, sizeof shown), "123456789");
    assert_string_equal(cli_import_text_shorten("12345\xc2\xa3" "789", shown, sizeof shown),
                        "12345\xe2\x80\xa6");
    assert_string_equal(cli_import_text_shorten("1234567890", shown, sizeof shown),
                        "123456\xe2\x80\xa6");
}

int main(void) {
    tool_program_name_set("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_row_becomes_the_pay_command),
        cmocka_unit_test(test_refusals_name_line_and_column),
        cmocka_unit_test(test_mapping_fields_are_checked_against_the_kind),
        cmocka_unit_test(test_long_text_is_shortened_between_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
