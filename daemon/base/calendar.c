/* Parsing, checking and printing of YYYYMMDD dates and of NHS financial years and months. */
#include "fundflow/calendar.h"

#include <assert.h>
#include <stdio.h>

#include "fundflow/limits.h"

/* Dates before 1900 have no place in a ledger, and after 9999 the year needs a fifth digit. */
#define CALENDAR_DATE_YEAR_MIN 1900u
#define CALENDAR_DATE_YEAR_MAX 9999u

/* A financial year starts on 1 April. */
#define CALENDAR_YEAR_START_MONTH 4u

#define CALENDAR_MONTHS_PER_YEAR 12u

static_assert(FF_YEAR_FIRST >= CALENDAR_DATE_YEAR_MIN && FF_YEAR_LAST < CALENDAR_DATE_YEAR_MAX,
              "every supported financial year must have dates that calendar_date_valid accepts");

static bool calendar_leap_year_is(uint32_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static uint32_t calendar_month_days(uint32_t year, uint32_t month) {
    static const uint8_t days_in_month[CALENDAR_MONTHS_PER_YEAR] = {31, 28, 31, 30, 31, 30,
                                                                    31, 31, 30, 31, 30, 31};
    assert(month >= 1 && month <= CALENDAR_MONTHS_PER_YEAR);
    if (month == 2 && calendar_leap_year_is(year)) {
        return 29;
    }
    return days_in_month[month - 1];
}

/* Reads exactly digit_count digits. It stops at the first byte that is not a digit, so it never
 * reads past the NUL of a string that is too short. */
static bool calendar_digits_read(const char *text, size_t digit_count, uint32_t *value_out) {
    uint32_t value = 0;
    for (size_t index = 0; index < digit_count; index++) {
        if (text[index] < '0' || text[index] > '9') {
            return false;
        }
        value = value * 10 + (uint32_t)(text[index] - '0');
    }
    *value_out = value;
    return true;
}

bool calendar_date_valid(uint32_t date) {
    uint32_t year = date / 10000;
    uint32_t month = date / 100 % 100;
    uint32_t day = date % 100;
    if (year < CALENDAR_DATE_YEAR_MIN || year > CALENDAR_DATE_YEAR_MAX) {
        return false;
    }
    if (month < 1 || month > CALENDAR_MONTHS_PER_YEAR) {
        return false;
    }
    return day >= 1 && day <= calendar_month_days(year, month);
}

ff_err calendar_date_parse(const char *text, uint32_t *date_out) {
    assert(date_out != NULL);
    uint32_t year = 0;
    uint32_t month = 0;
    uint32_t day = 0;
    /* Each check runs only when the ones before it passed, so no byte past the NUL is read. */
    bool shape_fits = text != NULL && calendar_digits_read(text, 4, &year) && text[4] == '-' &&
                      calendar_digits_read(text + 5, 2, &month) && text[7] == '-' &&
                      calendar_digits_read(text + 8, 2, &day) && text[10] == '\0';
    if (!shape_fits) {
        return FF_ERR_DATE_INVALID;
    }
    uint32_t date = year * 10000 + month * 100 + day;
    if (!calendar_date_valid(date)) {
        return FF_ERR_DATE_INVALID;
    }
    *date_out = date;
    return FF_OK;
}

/* snprintf already has exactly the truncation contract the header promises. */
static size_t calendar_text_length(int printed_bytes) {
    assert(printed_bytes >= 0);
    return (size_t)printed_bytes;
}

size_t calendar_date_format(uint32_t date, char *buffer, size_t buffer_bytes) {
    assert(calendar_date_valid(date));
    assert(buffer != NULL || buffer_bytes == 0);
    int printed_bytes = snprintf(buffer, buffer_bytes, "%04u-%02u-%02u", (unsigned)(date / 10000),
                                 (unsigned)(date / 100 % 100), (unsigned)(date % 100));
    size_t length = calendar_text_length(printed_bytes);
    assert(length == CALENDAR_DATE_TEXT_BYTES - 1);
    return length;
}

bool calendar_year_valid(uint32_t start_year) {
    return start_year >= FF_YEAR_FIRST && start_year <= FF_YEAR_LAST;
}

ff_err calendar_year_parse(const char *text, uint32_t *start_year_out) {
    assert(start_year_out != NULL);
    uint32_t start_year = 0;
    uint32_t end_year_digits = 0;
    bool shape_fits = text != NULL && calendar_digits_read(text, 4, &start_year) &&
                      text[4] == '/' && calendar_digits_read(text + 5, 2, &end_year_digits) &&
                      text[7] == '\0';
    if (!shape_fits) {
        return FF_ERR_YEAR_INVALID;
    }
    /* The second part must name the year the first one ends in, so "2024/26" is a typing slip. */
    if (end_year_digits != (start_year + 1) % 100 || !calendar_year_valid(start_year)) {
        return FF_ERR_YEAR_INVALID;
    }
    *start_year_out = start_year;
    return FF_OK;
}

size_t calendar_year_format(uint32_t start_year, char *buffer, size_t buffer_bytes) {
    assert(start_year <= CALENDAR_DATE_YEAR_MAX);
    assert(buffer != NULL || buffer_bytes == 0);
    int printed_bytes = snprintf(buffer, buffer_bytes, "%04u/%02u", (unsigned)start_year,
                                 (unsigned)((start_year + 1) % 100));
    size_t length = calendar_text_length(printed_bytes);
    assert(length == CALENDAR_YEAR_TEXT_BYTES - 1);
    return length;
}

uint32_t calendar_year_of_date(uint32_t date) {
    assert(calendar_date_valid(date));
    uint32_t year = date / 10000;
    uint32_t month = date / 100 % 100;
    return month >= CALENDAR_YEAR_START_MONTH ? year : year - 1;
}

uint32_t calendar_month_of_date(uint32_t date) {
    assert(calendar_date_valid(date));
    uint32_t month = date / 100 % 100;
    uint32_t financial_month = month >= CALENDAR_YEAR_START_MONTH
                                   ? month - CALENDAR_YEAR_START_MONTH + 1
                                   : month + CALENDAR_MONTHS_PER_YEAR - CALENDAR_YEAR_START_MONTH + 1;
    assert(financial_month >= 1 && financial_month <= CALENDAR_MONTHS_PER_YEAR);
    return financial_month;
}

uint32_t calendar_year_first_date(uint32_t start_year) {
    return calendar_month_first_date(start_year, 1);
}

uint32_t calendar_year_last_date(uint32_t start_year) {
    assert(start_year <= 9998);
    return (start_year + 1) * 10000 + (CALENDAR_YEAR_START_MONTH - 1) * 100 + 31;
}

uint32_t calendar_month_first_date(uint32_t start_year, uint32_t month) {
    assert(start_year <= 9998);
    assert(month >= 1 && month <= CALENDAR_MONTHS_PER_YEAR);
    uint32_t calendar_month = month + CALENDAR_YEAR_START_MONTH - 1;
    uint32_t year = start_year;
    if (calendar_month > CALENDAR_MONTHS_PER_YEAR) {
        calendar_month -= CALENDAR_MONTHS_PER_YEAR;
        year++;
    }
    return year * 10000 + calendar_month * 100 + 1;
}
