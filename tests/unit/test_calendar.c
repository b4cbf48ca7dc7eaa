/* Unit tests for calendar.c: dates, leap years, financial years and financial months. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"

/* A value no test expects, so a write to an output that should be untouched is seen. */
#define TEST_SENTINEL 0xA5A5A5A5u

static void test_date_accept_expect(const char *text, uint32_t expected_date) {
    uint32_t date = TEST_SENTINEL;
    if (calendar_date_parse(text, &date) != FF_OK) {
        print_error("calendar_date_parse(\"%s\") refused\n", text);
    }
    assert_int_equal(calendar_date_parse(text, &date), FF_OK);
    assert_int_equal(date, expected_date);
    assert_true(calendar_date_valid(date));
}

static void test_date_refuse_expect(const char *text) {
    uint32_t date = TEST_SENTINEL;
    if (calendar_date_parse(text, &date) != FF_ERR_DATE_INVALID) {
        print_error("calendar_date_parse(\"%s\") accepted\n", text ? text : "(null)");
    }
    assert_int_equal(calendar_date_parse(text, &date), FF_ERR_DATE_INVALID);
    assert_int_equal(date, TEST_SENTINEL);
}

static void test_year_refuse_expect(const char *text) {
    uint32_t start_year = TEST_SENTINEL;
    if (calendar_year_parse(text, &start_year) != FF_ERR_YEAR_INVALID) {
        print_error("calendar_year_parse(\"%s\") accepted\n", text ? text : "(null)");
    }
    assert_int_equal(calendar_year_parse(text, &start_year), FF_ERR_YEAR_INVALID);
    assert_int_equal(start_year, TEST_SENTINEL);
}

static void test_date_parse_accepts(void **state) {
    (void)state;
    test_date_accept_expect("2024-04-01", 20240401);
    test_date_accept_expect("2024-02-29", 20240229);
    test_date_accept_expect("2000-02-29", 20000229);
    test_date_accept_expect("2400-02-29", 24000229);
    test_date_accept_expect("2025-03-31", 20250331);
    test_date_accept_expect("2023-12-31", 20231231);
    test_date_accept_expect("1900-01-01", 19000101);
    test_date_accept_expect("9999-12-31", 99991231);
}

static void test_date_parse_refuses(void **state) {
    (void)state;
    static const char *const texts[] = {
        "2023-02-29",  "2100-02-29",  "1900-02-29", "2024-02-30", "2024-04-31", "2024-06-31",
        "2024-09-31",  "2024-11-31",  "2024-01-32", "2024-13-01", "2024-00-10", "2024-04-00",
        "1899-12-31",  "0000-01-01",  "2024-4-01",  "2024-04-1",  "2024/04/01", "20240401",
        "2024-04-01 ", " 2024-04-01", "2024-04-011", "10000-01-01", "2024-0a-01", "+024-04-01",
        "2024-04",     "2024",        "",           "2024-04-0",  "2024--04-01", "24-04-01",
    };
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        test_date_refuse_expect(texts[index]);
    }
    test_date_refuse_expect(NULL);
}

static void test_date_valid_leap_years(void **state) {
    (void)state;
    assert_true(calendar_date_valid(20240229));
    assert_true(calendar_date_valid(20040229));
    assert_true(calendar_date_valid(20000229));
    assert_true(calendar_date_valid(24000229));
    assert_false(calendar_date_valid(20230229));
    assert_false(calendar_date_valid(19000229));
    assert_false(calendar_date_valid(21000229));
    assert_false(calendar_date_valid(22000229));
    assert_false(calendar_date_valid(20240230));
}

static void test_date_valid_ranges(void **state) {
    (void)state;
    assert_false(calendar_date_valid(0));
    assert_false(calendar_date_valid(18991231));
    assert_true(calendar_date_valid(19000101));
    assert_true(calendar_date_valid(99991231));
    assert_false(calendar_date_valid(100000101));
    assert_false(calendar_date_valid(20241301));
    assert_false(calendar_date_valid(20240001));
    assert_false(calendar_date_valid(20240100));
    assert_false(calendar_date_valid(UINT32_MAX));
}

/* Each month's last day must be valid and the day after it not, in a common and a leap year. */
static void test_date_valid_month_lengths(void **state) {
    (void)state;
    static const uint32_t common_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    static const uint32_t years[] = {2023, 2024};
    for (size_t year_index = 0; year_index < 2; year_index++) {
        for (uint32_t month = 1; month <= 12; month++) {
            uint32_t last_day = common_days[month - 1];
            if (month == 2 && years[year_index] == 2024) {
                last_day = 29;
            }
            uint32_t first = years[year_index] * 10000 + month * 100;
            assert_true(calendar_date_valid(first + 1));
            assert_true(calendar_date_valid(first + last_day));
            assert_false(calendar_date_valid(first + last_day + 1));
        }
    }
}

static void test_date_format(void **state) {
    (void)state;
    char text[CALENDAR_DATE_TEXT_BYTES];
    assert_int_equal(calendar_date_format(20240401, text, sizeof text), 10);
    assert_string_equal(text, "2024-04-01");
    assert_int_equal(calendar_date_format(19000101, text, sizeof text), 10);
    assert_string_equal(text, "1900-01-01");
    assert_int_equal(calendar_date_format(99991231, text, sizeof text), 10);
    assert_string_equal(text, "9999-12-31");
}

static void test_date_format_small_buffer(void **state) {
    (void)state;
    char text[CALENDAR_DATE_TEXT_BYTES + 1];
    assert_int_equal(calendar_date_format(20240401, NULL, 0), 10);
    for (size_t buffer_bytes = 1; buffer_bytes <= CALENDAR_DATE_TEXT_BYTES; buffer_bytes++) {
        memset(text, 'Z', sizeof text);
        assert_int_equal(calendar_date_format(20240401, text, buffer_bytes), 10);
        assert_int_equal(strlen(text), buffer_bytes - 1);
        assert_memory_equal(text, "2024-04-01", buffer_bytes - 1);
        assert_int_equal(text[buffer_bytes], 'Z');
    }
}

/* Every candidate day in a span around two century years must parse exactly when it is valid,
 * and every valid one must print back to the text it came from. */
static void test_date_round_trip(void **state) {
    (void)state;
    static const uint32_t first_years[] = {1900, 1999, 2099, 2399};
    for (size_t span = 0; span < sizeof first_years / sizeof first_years[0]; span++) {
        for (uint32_t year = first_years[span]; year < first_years[span] + 3; year++) {
            for (uint32_t month = 1; month <= 12; month++) {
                for (uint32_t day = 1; day <= 31; day++) {
                    uint32_t date = year * 10000 + month * 100 + day;
                    char text[CALENDAR_DATE_TEXT_BYTES];
                    if (!calendar_date_valid(date)) {
                        continue;
                    }
                    assert_int_equal(calendar_date_format(date, text, sizeof text), 10);
                    test_date_accept_expect(text, date);
                }
            }
        }
    }
}

static void test_year_parse_accepts(void **state) {
    (void)state;
    uint32_t start_year = TEST_SENTINEL;
    assert_int_equal(calendar_year_parse("2024/25", &start_year), FF_OK);
    assert_int_equal(start_year, 2024);
    assert_int_equal(calendar_year_parse("2099/00", &start_year), FF_OK);
    assert_int_equal(start_year, 2099);
    assert_int_equal(calendar_year_parse("2009/10", &start_year), FF_OK);
    assert_int_equal(start_year, 2009);
}

static void test_year_parse_refuses(void **state) {
    (void)state;
    static const char *const texts[] = {
        "2024/26", "2024-25", "2024",     "24/25",    "2024/2025", "2024/24", "2024/25 ",
        " 2024/25", "2024/5", "2O24/25", "2024/2a", "", "2099/99", "2099/01", "2024/025",
    };
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        test_year_refuse_expect(texts[index]);
    }
    test_year_refuse_expect(NULL);
}

/* The supported range comes from limits.h, so these follow it if it is overridden. */
static void test_year_parse_range(void **state) {
    (void)state;
    char text[CALENDAR_YEAR_TEXT_BYTES];
    uint32_t start_year = TEST_SENTINEL;
    calendar_year_format(FF_YEAR_FIRST, text, sizeof text);
    assert_int_equal(calendar_year_parse(text, &start_year), FF_OK);
    assert_int_equal(start_year, FF_YEAR_FIRST);
    calendar_year_format(FF_YEAR_LAST, text, sizeof text);
    assert_int_equal(calendar_year_parse(text, &start_year), FF_OK);
    assert_int_equal(start_year, FF_YEAR_LAST);
    calendar_year_format(FF_YEAR_FIRST - 1, text, sizeof text);
    test_year_refuse_expect(text);
    calendar_year_format(FF_YEAR_LAST + 1, text, sizeof text);
    test_year_refuse_expect(text);
    test_year_refuse_expect("1999/00");
}

static void test_year_valid(void **state) {
    (void)state;
    assert_true(calendar_year_valid(FF_YEAR_FIRST));
    assert_true(calendar_year_valid(FF_YEAR_LAST));
    assert_true(calendar_year_valid(2024));
    assert_false(calendar_year_valid(FF_YEAR_FIRST - 1));
    assert_false(calendar_year_valid(FF_YEAR_LAST + 1));
    assert_false(calendar_year_valid(0));
    assert_false(calendar_year_valid(UINT32_MAX));
}

static void test_year_format(void **state) {
    (void)state;
    char text[CALENDAR_YEAR_TEXT_BYTES + 1];
    assert_int_equal(calendar_year_format(2024, text, CALENDAR_YEAR_TEXT_BYTES), 7);
    assert_string_equal(text, "2024/25");
    assert_int_equal(calendar_year_format(1999, text, CALENDAR_YEAR_TEXT_BYTES), 7);
    assert_string_equal(text, "1999/00");
    assert_int_equal(calendar_year_format(2099, text, CALENDAR_YEAR_TEXT_BYTES), 7);
    assert_string_equal(text, "2099/00");
    assert_int_equal(calendar_year_format(2009, text, CALENDAR_YEAR_TEXT_BYTES), 7);
    assert_string_equal(text, "2009/10");

    assert_int_equal(calendar_year_format(2024, NULL, 0), 7);
    for (size_t buffer_bytes = 1; buffer_bytes <= CALENDAR_YEAR_TEXT_BYTES; buffer_bytes++) {
        memset(text, 'Z', sizeof text);
        assert_int_equal(calendar_year_format(2024, text, buffer_bytes), 7);
        assert_int_equal(strlen(text), buffer_bytes - 1);
        assert_memory_equal(text, "2024/25", buffer_bytes - 1);
        assert_int_equal(text[buffer_bytes], 'Z');
    }
}

static void test_year_round_trip(void **state) {
    (void)state;
    for (uint32_t year = FF_YEAR_FIRST; year <= FF_YEAR_LAST; year++) {
        char text[CALENDAR_YEAR_TEXT_BYTES];
        uint32_t start_year = TEST_SENTINEL;
        assert_int_equal(calendar_year_format(year, text, sizeof text), 7);
        assert_int_equal(calendar_year_parse(text, &start_year), FF_OK);
        assert_int_equal(start_year, year);
    }
}

static void test_year_of_date(void **state) {
    (void)state;
    assert_int_equal(calendar_year_of_date(20250331), 2024);
    assert_int_equal(calendar_year_of_date(20250401), 2025);
    assert_int_equal(calendar_year_of_date(20240401), 2024);
    assert_int_equal(calendar_year_of_date(20240331), 2023);
    assert_int_equal(calendar_year_of_date(20241231), 2024);
    assert_int_equal(calendar_year_of_date(20250101), 2024);
    assert_int_equal(calendar_year_of_date(20000229), 1999);
    assert_int_equal(calendar_year_of_date(19000101), 1899);
    assert_int_equal(calendar_year_of_date(99991231), 9999);
}

static void test_month_of_date(void **state) {
    (void)state;
    assert_int_equal(calendar_month_of_date(20240401), 1);
    assert_int_equal(calendar_month_of_date(20240430), 1);
    assert_int_equal(calendar_month_of_date(20240501), 2);
    assert_int_equal(calendar_month_of_date(20240930), 6);
    assert_int_equal(calendar_month_of_date(20241231), 9);
    assert_int_equal(calendar_month_of_date(20250101), 10);
    assert_int_equal(calendar_month_of_date(20250228), 11);
    assert_int_equal(calendar_month_of_date(20250301), 12);
    assert_int_equal(calendar_month_of_date(20250331), 12);
}

/* Walking every day of 2024/25 in order, the year never changes and the month climbs from 1 to 12
 * one step at a time, changing exactly on the first of each calendar month. */
static void test_year_and_month_walk(void **state) {
    (void)state;
    uint32_t expected_month = 1;
    uint32_t days_seen = 0;
    for (uint32_t calendar_year = 2024; calendar_year <= 2025; calendar_year++) {
        for (uint32_t month = 1; month <= 12; month++) {
            for (uint32_t day = 1; day <= 31; day++) {
                uint32_t date = calendar_year * 10000 + month * 100 + day;
                if (!calendar_date_valid(date) || date < 20240401 || date > 20250331) {
                    continue;
                }
                if (day == 1 && date != 20240401) {
                    expected_month++;
                }
                assert_int_equal(calendar_year_of_date(date), 2024);
                assert_int_equal(calendar_month_of_date(date), expected_month);
                days_seen++;
            }
        }
    }
    assert_int_equal(expected_month, 12);
    assert_int_equal(days_seen, 365);
}

/* The first and last days of a year, and the first day of each of its months. */
static void test_year_and_month_bounds(void **state) {
    (void)state;
    assert_int_equal(calendar_year_first_date(2024), 20240401);
    assert_int_equal(calendar_year_last_date(2024), 20250331);
    assert_int_equal(calendar_year_last_date(1999), 20000331);
    static const uint32_t firsts[12] = {20240401, 20240501, 20240601, 20240701, 20240801,
                                        20240901, 20241001, 20241101, 20241201, 20250101,
                                        20250201, 20250301};
    for (uint32_t month = 1; month <= 12; month++) {
        uint32_t first = calendar_month_first_date(2024, month);
        assert_int_equal(first, firsts[month - 1]);
        assert_int_equal(calendar_month_of_date(first), month);
        assert_int_equal(calendar_year_of_date(first), 2024);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_parse_accepts),
        cmocka_unit_test(test_date_parse_refuses),
        cmocka_unit_test(test_date_valid_leap_years),
        cmocka_unit_test(test_date_valid_ranges),
        cmocka_unit_test(test_date_valid_month_lengths),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_format_small_buffer),
        cmocka_unit_test(test_date_round_trip),
        cmocka_unit_test(test_year_parse_accepts),
        cmocka_unit_test(test_year_parse_refuses),
        cmocka_unit_test(test_year_parse_range),
        cmocka_unit_test(test_year_valid),
        cmocka_unit_test(test_year_format),
        cmocka_unit_test(test_year_round_trip),
        cmocka_unit_test(test_year_of_date),
        cmocka_unit_test(test_month_of_date),
        cmocka_unit_test(test_year_and_month_walk),
        cmocka_unit_test(test_year_and_month_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
