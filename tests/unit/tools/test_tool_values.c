/* Unit tests for tool_values.c, the readers of flags' values both tools share: whole numbers,
 * enum names, dates, financial years, pounds, months, percentages, basis points and text. Each
 * refusal is checked to name the flag and the value, and to leave the output as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tool_test_support.h"
#include "tool_values.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/v1/events.pb-c.h"

/* A value no reader produces, so a write to an output that should be untouched is seen. */
#define TEST_SENTINEL 0x5A5A5A5Au

/* Runs a reader with stderr caught; returns what it said. */
#define TEST_QUIETLY(ok_out, call)                                                              \
    do {                                                                                      \
        tool_test_capture capture;                                                            \
        tool_test_capture_begin(&capture, stderr);                                            \
        *(ok_out) = (call);                                                                   \
        test_errors = tool_test_capture_end(&capture);                                        \
    } while (0)

/* What the last TEST_QUIETLY caught; each test frees it through test_errors_expect. */
static char *test_errors;

/* Checks that the caught message is exactly "test: FLAG: "VALUE" problem\n". */
static void test_errors_expect(const char *flag, const char *value, const char *problem) {
    char expected[512];
    snprintf(expected, sizeof expected, "test: %s: \"%s\" %s\n", flag, value, problem);
    assert_string_equal(test_errors, expected);
    free(test_errors);
    test_errors = NULL;
}

static void test_errors_none(void) {
    assert_string_equal(test_errors, "");
    free(test_errors);
    test_errors = NULL;
}

static void test_number_expect(const char *text, uint64_t minimum, uint64_t maximum,
                               uint64_t expected) {
    uint64_t number = TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_number_parse("--n", text, minimum, maximum, &number));
    assert_true(ok);
    assert_int_equal(number, expected);
    test_errors_none();
}

static void test_number_refused(const char *text, uint64_t minimum, uint64_t maximum,
                                const char *problem) {
    uint64_t number = TEST_SENTINEL;
    bool ok = true;
    TEST_QUIETLY(&ok, tool_number_parse("--n", text, minimum, maximum, &number));
    assert_false(ok);
    assert_int_equal(number, TEST_SENTINEL);
    test_errors_expect("--n", text, problem);
}

static void test_numbers(void **state) {
    (void)state;
    test_number_expect("0", 0, 10, 0);
    test_number_expect("10", 0, 10, 10);
    test_number_expect("007", 0, 10, 7);
    test_number_expect("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
    static const char range[] = "is not a whole number from 1 to 10";
    test_number_refused("11", 1, 10, range);
    test_number_refused("0", 1, 10, range);
    test_number_refused("", 1, 10, range);
    test_number_refused("-1", 1, 10, range);
    test_number_refused("+1", 1, 10, range);
    test_number_refused(" 1", 1, 10, range);
    test_number_refused("1 ", 1, 10, range);
    test_number_refused("0x5", 1, 10, range);
    test_number_refused("18446744073709551616", 0, UINT64_MAX,
                        "is not a whole number from 0 to 18446744073709551615");
}

static void test_enum_names(void **state) {
    (void)state;
    const ProtobufCEnumDescriptor *streams = &fundflow__v1__stream__descriptor;
    uint32_t stream = TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_enum_parse(streams, "--stream", "core_services", &stream));
    assert_true(ok);
    assert_int_equal(stream, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    test_errors_none();
    /* Any case, and '-' for '_'. */
    stream = TEST_SENTINEL;
    TEST_QUIETLY(&ok, tool_enum_parse(streams, "--stream", "Core-Services", &stream));
    assert_true(ok);
    assert_int_equal(stream, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    test_errors_none();
    static const char problem[] = "is not a known name; see --help for the list";
    const char *refused[] = {"nonsense", "", "stream_unspecified", "core services"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        stream = TEST_SENTINEL;
        TEST_QUIETLY(&ok, tool_enum_parse(streams, "--stream", refused[i], &stream));
        assert_false(ok);
        assert_int_equal(stream, TEST_SENTINEL);
        test_errors_expect("--stream", refused[i], problem);
    }
}

static void test_dates(void **state) {
    (void)state;
    uint32_t date = TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_date_parse("--date", "2024-02-29", &date));
    assert_true(ok);
    assert_int_equal(date, 20240229);
    test_errors_none();
    const char *refused[] = {"2023-02-29", "2024-02-30", "2024-13-01", "2024-4-1",
                             "20240401", "2024-04-01x", ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        date = TEST_SENTINEL;
        TEST_QUIETLY(&ok, tool_date_parse("--date", refused[i], &date));
        assert_false(ok);
        assert_int_equal(date, TEST_SENTINEL);
        test_errors_expect("--date", refused[i], "is not a real date written YYYY-MM-DD");
    }
}

static void test_years(void **state) {
    (void)state;
    uint32_t year = TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_year_parse("--year", "2024/25", &year));
    assert_true(ok);
    assert_int_equal(year, 2024);
    test_errors_none();
    /* The first and last years the ledger takes are read; those either side are refused with
     * the range named. */
    char first[CALENDAR_YEAR_TEXT_BYTES], last[CALENDAR_YEAR_TEXT_BYTES];
    char before[CALENDAR_YEAR_TEXT_BYTES], after[CALENDAR_YEAR_TEXT_BYTES], problem[128];
    calendar_year_format(FF_YEAR_FIRST, first, sizeof first);
    calendar_year_format(FF_YEAR_LAST, last, sizeof last);
    calendar_year_format(FF_YEAR_FIRST - 1, before, sizeof before);
    calendar_year_format(FF_YEAR_LAST + 1, after, sizeof after);
    snprintf(problem, sizeof problem, "is not a financial year such as 2024/25, from %s to %s",
             first, last);
    TEST_QUIETLY(&ok, tool_year_parse("--year", first, &year));
    assert_true(ok);
    assert_int_equal(year, FF_YEAR_FIRST);
    test_errors_none();
    TEST_QUIETLY(&ok, tool_year_parse("--year", last, &year));
    assert_true(ok);
    assert_int_equal(year, FF_YEAR_LAST);
    test_errors_none();
    TEST_QUIETLY(&ok, tool_year_parse("--year", before, &year));
    assert_false(ok);
    test_errors_expect("--year", before, problem);
    TEST_QUIETLY(&ok, tool_year_parse("--year", after, &year));
    assert_false(ok);
    test_errors_expect("--year", after, problem);
    const char *refused[] = {"2024", "2024/26", "2024-25", "2024/2025", "24/25", ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        year = TEST_SENTINEL;
        TEST_QUIETLY(&ok, tool_year_parse("--year", refused[i], &year));
        assert_false(ok);
        assert_int_equal(year, TEST_SENTINEL);
        test_errors_expect("--year", refused[i], problem);
    }
}

typedef bool (*test_pounds_reader)(const char *flag, const char *text, int64_t *pence_out);

static void test_pounds_expect(test_pounds_reader reader, const char *text, int64_t pence) {
    int64_t read = (int64_t)TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, reader("--amount", text, &read));
    assert_true(ok);
    assert_int_equal(read, pence);
    test_errors_none();
}

static void test_pounds_refused(test_pounds_reader reader, const char *text,
                                const char *problem) {
    int64_t read = (int64_t)TEST_SENTINEL;
    bool ok = true;
    TEST_QUIETLY(&ok, reader("--amount", text, &read));
    assert_false(ok);
    assert_int_equal(read, (int64_t)TEST_SENTINEL);
    if (problem) {
        test_errors_expect("--amount", text, problem);
    } else {
        assert_non_null(strstr(test_errors, "test: --amount: \""));
        free(test_errors);
    }
}

static void test_amounts(void **state) {
    (void)state;
    test_pounds_expect(tool_amount_parse, "1234.56", 123456);
    test_pounds_expect(tool_amount_parse, "1,234.56", 123456);
    test_pounds_expect(tool_amount_parse, "£1,234.56", 123456);
    test_pounds_expect(tool_amount_parse, "0.01", 1);
    test_pounds_expect(tool_amount_parse, "1000", 100000);
    test_pounds_refused(tool_amount_parse, "0", "must be more than £0.00");
    test_pounds_refused(tool_amount_parse, "-5", "must be more than £0.00");
    /* money_parse's own reasons are passed on as they are. */
    test_pounds_refused(tool_amount_parse, "1.234", NULL);
    test_pounds_refused(tool_amount_parse, "12a", NULL);
    test_pounds_refused(tool_amount_parse, "", NULL);
    test_pounds_expect(tool_change_parse, "-1000", -100000);
    test_pounds_expect(tool_change_parse, "-£1,000.00", -100000);
    test_pounds_expect(tool_change_parse, "2.50", 250);
    test_pounds_refused(tool_change_parse, "0.00", "must not be £0.00");
    test_pounds_expect(tool_amount_or_zero_parse, "0", 0);
    test_pounds_expect(tool_amount_or_zero_parse, "£7.00", 700);
    test_pounds_refused(tool_amount_or_zero_parse, "-0.01", "must be £0.00 or more");
}

static void test_months(void **state) {
    (void)state;
    const char *read[] = {"1", "12", "M1", "m12", "09", "M07"};
    const uint32_t months[] = {1, 12, 1, 12, 9, 7};
    for (size_t i = 0; i < sizeof read / sizeof read[0]; i++) {
        uint32_t month = TEST_SENTINEL;
        bool ok = false;
        TEST_QUIETLY(&ok, tool_month_parse("--month", read[i], &month));
        assert_true(ok);
        assert_int_equal(month, months[i]);
        test_errors_none();
    }
    const char *refused[] = {"0", "13", "M0", "M13", "M", "", "012", "1.5", "-1", "MM1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint32_t month = TEST_SENTINEL;
        bool ok = true;
        TEST_QUIETLY(&ok, tool_month_parse("--month", refused[i], &month));
        assert_false(ok);
        assert_int_equal(month, TEST_SENTINEL);
        test_errors_expect("--month", refused[i],
                           "is not a month 1 (April) to 12 (March), or M1 to M12");
    }
}

static void test_percentages(void **state) {
    (void)state;
    const char *read[] = {"0", "75.5", "75.55", "75.5%", "100", "100.00", "0.01", "7%"};
    const uint32_t points[] = {0, 7550, 7555, 7550, 10000, 10000, 1, 700};
    for (size_t i = 0; i < sizeof read / sizeof read[0]; i++) {
        uint32_t basis_points = TEST_SENTINEL;
        bool ok = false;
        TEST_QUIETLY(&ok, tool_percent_parse("--achievement", read[i], &basis_points));
        assert_true(ok);
        assert_int_equal(basis_points, points[i]);
        test_errors_none();
    }
    const char *refused[] = {"100.01", "75.555", "1000", "", ".5", "5.", "-1", "5%%", "5 %",
                             "1e2"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint32_t basis_points = TEST_SENTINEL;
        bool ok = true;
        TEST_QUIETLY(&ok, tool_percent_parse("--achievement", refused[i], &basis_points));
        assert_false(ok);
        assert_int_equal(basis_points, TEST_SENTINEL);
        test_errors_expect("--achievement", refused[i],
                           "is not a percentage from 0 to 100 with at most two decimal places");
    }
}

static void test_basis_points(void **state) {
    (void)state;
    uint32_t basis_points = TEST_SENTINEL;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_basis_points_parse("--cquin-bp", "250", &basis_points));
    assert_true(ok);
    assert_int_equal(basis_points, 250);
    test_errors_none();
    TEST_QUIETLY(&ok, tool_basis_points_parse("--cquin-bp", "10000", &basis_points));
    assert_true(ok);
    assert_int_equal(basis_points, FF_BASIS_POINTS_WHOLE);
    test_errors_none();
    basis_points = TEST_SENTINEL;
    TEST_QUIETLY(&ok, tool_basis_points_parse("--cquin-bp", "10001", &basis_points));
    assert_false(ok);
    assert_int_equal(basis_points, TEST_SENTINEL);
    test_errors_expect("--cquin-bp", "10001", "is not a whole number from 0 to 10000");
}

static void test_text(void **state) {
    (void)state;
    bool ok = false;
    TEST_QUIETLY(&ok, tool_text_parse("--code", "QUE", FF_ORG_CODE_BYTES_MAX));
    assert_true(ok);
    test_errors_none();
    TEST_QUIETLY(&ok, tool_text_parse("--code", "ABCDEFGHIJKL", FF_ORG_CODE_BYTES_MAX));
    assert_true(ok);
    test_errors_none();
    TEST_QUIETLY(&ok, tool_text_parse("--code", "ABCDEFGHIJKLM", FF_ORG_CODE_BYTES_MAX));
    assert_false(ok);
    test_errors_expect("--code", "ABCDEFGHIJKLM", "is longer than 12 bytes");
    TEST_QUIETLY(&ok, tool_text_parse("--code", "", FF_ORG_CODE_BYTES_MAX));
    assert_false(ok);
    test_errors_expect("--code", "", "is empty");
    /* Bytes, not characters: "£" is two. */
    TEST_QUIETLY(&ok, tool_text_parse("--name", "££", 3));
    assert_false(ok);
    test_errors_expect("--name", "££", "is longer than 3 bytes");
}

static void test_program_name(void **state) {
    (void)state;
    assert_string_equal(tool_program_name(), "test");
    tool_program_name_set("fundflow-admin");
    bool ok = true;
    TEST_QUIETLY(&ok, tool_value_refuse("--seed", "-1", "is bad"));
    assert_false(ok);
    assert_string_equal(test_errors, "fundflow-admin: --seed: \"-1\" is bad\n");
    free(test_errors);
    tool_program_name_set("test");
}

int main(void) {
    tool_program_name_set("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_dates),       cmocka_unit_test(test_years),
        cmocka_unit_test(test_amounts),     cmocka_unit_test(test_months),
        cmocka_unit_test(test_percentages), cmocka_unit_test(test_basis_points),
        cmocka_unit_test(test_text),        cmocka_unit_test(test_program_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
