/* Unit tests for money.c: parsing, printing, round trips and checked sums of int64_t pence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "test_support.h"

/* A value no test expects, so a write to an output that should be untouched is seen. */
#define TEST_SENTINEL_PENCE ((int64_t)0x5A5A5A5A5A5A5A5A)

/* Enough random values to reach every digit count many times over, yet run in well under a
 * second under the sanitizers. */
#define TEST_SWEEP_COUNT 5000

typedef struct test_parse_case {
    const char *text;
    int64_t pence;
} test_parse_case;

typedef struct test_refuse_case {
    const char *text;
    ff_err error;
} test_refuse_case;

typedef struct test_format_case {
    int64_t pence;
    const char *text;
    const char *plain_text;
} test_format_case;

static void test_parse_expect(const char *text, int64_t expected_pence) {
    int64_t pence = TEST_SENTINEL_PENCE;
    ff_err error = money_parse(text, &pence);
    if (error != FF_OK || pence != expected_pence) {
        print_error("money_parse(\"%s\") gave %s and %lld, expected %lld\n", text,
                    ff_err_name(error), (long long)pence, (long long)expected_pence);
    }
    assert_int_equal(error, FF_OK);
    assert_true(pence == expected_pence);
}

static void test_refuse_expect(const char *text, ff_err expected_error) {
    int64_t pence = TEST_SENTINEL_PENCE;
    ff_err error = money_parse(text, &pence);
    if (error != expected_error) {
        print_error("money_parse(\"%s\") gave %s, expected %s\n", text ? text : "(null)",
                    ff_err_name(error), ff_err_name(expected_error));
    }
    assert_int_equal(error, expected_error);
    assert_true(pence == TEST_SENTINEL_PENCE);
}

/* Both formats must give text of the length they report, and parse back to the same pence. */
static void test_round_trip_expect(int64_t pence) {
    char text[FF_MONEY_TEXT_BYTES];
    size_t length = money_format(pence, text, sizeof text);
    assert_true(length < sizeof text);
    assert_int_equal(length, strlen(text));
    test_parse_expect(text, pence);

    length = money_format_plain(pence, text, sizeof text);
    assert_true(length < sizeof text);
    assert_int_equal(length, strlen(text));
    assert_null(strchr(text, ','));
    test_parse_expect(text, pence);
}

static void test_parse_accepts_examples(void **state) {
    (void)state;
    static const test_parse_case cases[] = {
        {"£1,234,567.89", 123456789},
        {"1234.5", 123450},
        {"-0.01", -1},
        {"0", 0},
        {"-0", 0},
        {"£0.10", 10},
        {"1,000", 100000},
        {"1000", 100000},
        {"-£1.00", -100},
        {"£-1.00", -100},
        {"-1", -100},
        {"£1", 100},
        {"0.5", 50},
        {"0.05", 5},
        {"12.34", 1234},
        {"999", 99900},
        {"1,000,000.00", 100000000},
        {"123,456", 12345600},
        {"007", 700},
        {"92233720368547758.07", INT64_MAX},
        {"-92233720368547758.08", INT64_MIN},
        {"£92,233,720,368,547,758.07", INT64_MAX},
        {"-£92,233,720,368,547,758.08", INT64_MIN},
        {"£-92,233,720,368,547,758.08", INT64_MIN},
        {"92233720368547758", INT64_C(9223372036854775800)},
        {"-92233720368547758", INT64_C(-9223372036854775800)},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        test_parse_expect(cases[index].text, cases[index].pence);
    }
}

static void test_parse_refuses_empty(void **state) {
    (void)state;
    test_refuse_expect(NULL, FF_ERR_MONEY_EMPTY);
    test_refuse_expect("", FF_ERR_MONEY_EMPTY);
}

static void test_parse_refuses_precision(void **state) {
    (void)state;
    test_refuse_expect("1.234", FF_ERR_MONEY_PRECISION);
    test_refuse_expect("0.001", FF_ERR_MONEY_PRECISION);
    test_refuse_expect("£1,000.999", FF_ERR_MONEY_PRECISION);
    test_refuse_expect("9,223,372,036,854,775.807", FF_ERR_MONEY_PRECISION);
}

static void test_parse_refuses_grouping(void **state) {
    (void)state;
    static const char *const texts[] = {
        "1,23", "1,2345", ",100", "1,,000", "1000,000", "1,", "1,000,00", "£1,000,0000.00",
    };
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        test_refuse_expect(texts[index], FF_ERR_MONEY_GROUPING);
    }
}

static void test_parse_refuses_syntax(void **state) {
    (void)state;
    static const char *const texts[] = {
        "1e3", "abc", " 1",   "1 ",       "+1",     "1.",   ".5", "--1",   "££1",  "1-",
        "0x10", "1.2.3", "1,000.5x", "£", "-", "-£-1", "£-£1", "1£", "\xC2" "1", "\xA3" "1",
        "-.5", "1.-5", "1._5", "1\n", "£ 1", ",", "£,",
    };
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        test_refuse_expect(texts[index], FF_ERR_MONEY_SYNTAX);
    }
}

static void test_parse_refuses_overflow(void **state) {
    (void)state;
    static const char *const texts[] = {
        "92233720368547758.08",  "-92233720368547758.09", "99999999999999999999",
        "-99999999999999999999", "92233720368547758.1",   "92233720368547759",
        "£92,233,720,368,547,758.08", "100000000000000000000000000000000000000000",
    };
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        test_refuse_expect(texts[index], FF_ERR_MONEY_OVERFLOW);
    }
}

static void test_format_examples(void **state) {
    (void)state;
    static const test_format_case cases[] = {
        {123456789, "£1,234,567.89", "1234567.89"},
        {-1, "-£0.01", "-0.01"},
        {0, "£0.00", "0.00"},
        {10, "£0.10", "0.10"},
        {99, "£0.99", "0.99"},
        {100, "£1.00", "1.00"},
        {-100, "-£1.00", "-1.00"},
        {99999, "£999.99", "999.99"},
        {100000, "£1,000.00", "1000.00"},
        {-12345678, "-£123,456.78", "-123456.78"},
        {INT64_MAX, "£92,233,720,368,547,758.07", "92233720368547758.07"},
        {INT64_MIN, "-£92,233,720,368,547,758.08", "-92233720368547758.08"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char text[FF_MONEY_TEXT_BYTES];
        size_t length = money_format(cases[index].pence, text, sizeof text);
        assert_string_equal(text, cases[index].text);
        assert_int_equal(length, strlen(cases[index].text));
        length = money_format_plain(cases[index].pence, text, sizeof text);
        assert_string_equal(text, cases[index].plain_text);
        assert_int_equal(length, strlen(cases[index].plain_text));
    }
}

static void test_round_trip_boundaries(void **state) {
    (void)state;
    static const int64_t values[] = {
        INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0,    1,     -1,     99,
        -99,       100,           -100,      101,           -101, 999,   1000,   100000,
        -100000,   99999,         -99999,    100099,        -1001, 100001, -100001,
    };
    for (size_t index = 0; index < sizeof values / sizeof values[0]; index++) {
        test_round_trip_expect(values[index]);
    }
}

static void test_round_trip_powers_of_ten(void **state) {
    (void)state;
    int64_t power = 1;
    for (int exponent = 0; exponent <= 18; exponent++) {
        test_round_trip_expect(power);
        test_round_trip_expect(-power);
        test_round_trip_expect(power - 1);
        test_round_trip_expect(1 - power);
        test_round_trip_expect(power + 1);
        test_round_trip_expect(-power - 1);
        if (exponent < 18) {
            power *= 10;
        }
    }
}

/* Shifting each random value right by a random amount spreads the sweep over every length of
 * amount rather than crowding it into the largest ones. */
static void test_round_trip_sweep(void **state) {
    (void)state;
    uint64_t random_state = UINT64_C(0x9E3779B97F4A7C15);
    for (int index = 0; index < TEST_SWEEP_COUNT; index++) {
        uint64_t bits = test_random_next(&random_state);
        unsigned shift = (unsigned)(test_random_next(&random_state) % 64);
        int64_t pence = (int64_t)(bits >> shift);
        if (bits & 1) {
            pence = pence == INT64_MIN ? pence : -pence;
        }
        test_round_trip_expect(pence);
    }
}

/* The text a format function reports must match what a big buffer gets, and a small buffer
 * must hold a NUL-terminated prefix of it that never ends in half a '£'. */
static void test_small_buffer_expect(size_t (*format)(int64_t, char *, size_t), int64_t pence) {
    char full[FF_MONEY_TEXT_BYTES];
    size_t needed = format(pence, full, sizeof full);
    assert_int_equal(format(pence, NULL, 0), needed);
    for (size_t buffer_bytes = 1; buffer_bytes <= needed + 1; buffer_bytes++) {
        char buffer[FF_MONEY_TEXT_BYTES + 1];
        memset(buffer, 'Z', sizeof buffer);
        assert_int_equal(format(pence, buffer, buffer_bytes), needed);
        size_t written = strlen(buffer);
        assert_true(written < buffer_bytes);
        assert_memory_equal(buffer, full, written);
        assert_int_equal(buffer[buffer_bytes], 'Z');
        if (written > 0) {
            assert_true((unsigned char)buffer[written - 1] != 0xC2);
        }
        /* Only a split '£' may cost a byte beyond the terminator. */
        size_t expected = buffer_bytes - 1 < needed ? buffer_bytes - 1 : needed;
        if (written != expected) {
            assert_int_equal(written + 1, expected);
            assert_true((unsigned char)full[written] == 0xC2);
        }
    }
}

static void test_format_small_buffer(void **state) {
    (void)state;
    static const int64_t values[] = {0, -1, 100, 123456789, INT64_MAX, INT64_MIN};
    for (size_t index = 0; index < sizeof values / sizeof values[0]; index++) {
        test_small_buffer_expect(money_format, values[index]);
        test_small_buffer_expect(money_format_plain, values[index]);
    }
    char buffer[8];
    assert_int_equal(money_format(100, buffer, 2), 6);
    assert_string_equal(buffer, "");
    assert_int_equal(money_format(100, buffer, 3), 6);
    assert_string_equal(buffer, "£");
    assert_int_equal(money_format(-1, buffer, 3), 7);
    assert_string_equal(buffer, "-");
    assert_int_equal(money_format_plain(123456789, buffer, 5), 10);
    assert_string_equal(buffer, "1234");
    assert_int_equal(money_format_plain(-1, buffer, 1), 5);
    assert_string_equal(buffer, "");
}

static void test_format_text_bytes_enough(void **state) {
    (void)state;
    assert_int_equal(money_format(INT64_MIN, NULL, 0), strlen("-£92,233,720,368,547,758.08"));
    assert_true(money_format(INT64_MIN, NULL, 0) < FF_MONEY_TEXT_BYTES);
    assert_true(money_format(INT64_MAX, NULL, 0) < FF_MONEY_TEXT_BYTES);
    assert_true(money_format_plain(INT64_MIN, NULL, 0) < FF_MONEY_TEXT_BYTES);
}

static void test_add(void **state) {
    (void)state;
    int64_t sum = TEST_SENTINEL_PENCE;
    assert_int_equal(money_add(150, -250, &sum), FF_OK);
    assert_true(sum == -100);
    assert_int_equal(money_add(INT64_MAX, 0, &sum), FF_OK);
    assert_true(sum == INT64_MAX);
    assert_int_equal(money_add(INT64_MAX, INT64_MIN, &sum), FF_OK);
    assert_true(sum == -1);
    assert_int_equal(money_add(INT64_MIN + 1, -1, &sum), FF_OK);
    assert_true(sum == INT64_MIN);

    sum = TEST_SENTINEL_PENCE;
    assert_int_equal(money_add(INT64_MAX, 1, &sum), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_add(INT64_MIN, -1, &sum), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_add(INT64_MAX, INT64_MAX, &sum), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_add(INT64_MIN, INT64_MIN, &sum), FF_ERR_SUM_OVERFLOW);
    assert_true(sum == TEST_SENTINEL_PENCE);
}

static void test_subtract(void **state) {
    (void)state;
    int64_t difference = TEST_SENTINEL_PENCE;
    assert_int_equal(money_subtract(150, 250, &difference), FF_OK);
    assert_true(difference == -100);
    assert_int_equal(money_subtract(-1, INT64_MAX, &difference), FF_OK);
    assert_true(difference == INT64_MIN);
    assert_int_equal(money_subtract(0, INT64_MAX, &difference), FF_OK);
    assert_true(difference == INT64_MIN + 1);
    assert_int_equal(money_subtract(INT64_MIN, INT64_MIN, &difference), FF_OK);
    assert_true(difference == 0);

    difference = TEST_SENTINEL_PENCE;
    assert_int_equal(money_subtract(0, INT64_MIN, &difference), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_subtract(INT64_MIN, 1, &difference), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_subtract(INT64_MAX, -1, &difference), FF_ERR_SUM_OVERFLOW);
    assert_int_equal(money_subtract(-2, INT64_MAX, &difference), FF_ERR_SUM_OVERFLOW);
    assert_true(difference == TEST_SENTINEL_PENCE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_examples),
        cmocka_unit_test(test_parse_refuses_empty),
        cmocka_unit_test(test_parse_refuses_precision),
        cmocka_unit_test(test_parse_refuses_grouping),
        cmocka_unit_test(test_parse_refuses_syntax),
        cmocka_unit_test(test_parse_refuses_overflow),
        cmocka_unit_test(test_format_examples),
        cmocka_unit_test(test_round_trip_boundaries),
        cmocka_unit_test(test_round_trip_powers_of_ten),
        cmocka_unit_test(test_round_trip_sweep),
        cmocka_unit_test(test_format_small_buffer),
        cmocka_unit_test(test_format_text_bytes_enough),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_subtract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
