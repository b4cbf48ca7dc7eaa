/* A libFuzzer target for the parsers of people's values: money (money_parse), dates
 * (calendar_date_parse) and financial years (calendar_year_parse).
 *
 * The input is one NUL-free text (cut at the first NUL). Beyond "no crash, no undefined
 * behaviour", it checks their promises: a refusal leaves the output untouched; an amount that
 * parses prints (plain and for people) as text that parses to the same pence; a date or year that
 * parses is valid and prints as exactly the text given, since each has one written form.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEXT_BYTES_MAX 256
#define FUZZ_UNTOUCHED_PENCE INT64_C(0x5a5a5a5a5a5a5a5a)
#define FUZZ_UNTOUCHED_DATE UINT32_C(0x5a5a5a5a)

static void fuzz_money(const char *text) {
    int64_t pence = FUZZ_UNTOUCHED_PENCE;
    if (money_parse(text, &pence) != FF_OK) {
        assert(pence == FUZZ_UNTOUCHED_PENCE);
        return;
    }
    char plain[FF_MONEY_TEXT_BYTES], shown[FF_MONEY_TEXT_BYTES];
    assert(money_format_plain(pence, plain, sizeof plain) < sizeof plain);
    assert(money_format(pence, shown, sizeof shown) < sizeof shown);
    int64_t again = 0;
    assert(money_parse(plain, &again) == FF_OK && again == pence);
    assert(money_parse(shown, &again) == FF_OK && again == pence);
}

static void fuzz_date(const char *text) {
    uint32_t date = FUZZ_UNTOUCHED_DATE;
    if (calendar_date_parse(text, &date) != FF_OK) {
        assert(date == FUZZ_UNTOUCHED_DATE);
        return;
    }
    assert(calendar_date_valid(date));
    char shown[CALENDAR_DATE_TEXT_BYTES];
    assert(calendar_date_format(date, shown, sizeof shown) == 10);
    assert(strcmp(shown, text) == 0);
    uint32_t year = calendar_year_of_date(date), month = calendar_month_of_date(date);
    assert(month >= 1 && month <= FF_MONTHS_PER_YEAR);
    /* A year's first and last days are asked only of the years the ledger supports (the
     * calendar asserts the start year is at most 9998: year 9999's last day, 10000-03-31, has no
     * YYYYMMDD); a date such as 9999-12-21 parses, but its year is never one a command names. */
    if (!calendar_year_valid(year)) return;
    assert(calendar_year_first_date(year) <= date && date <= calendar_year_last_date(year));
}

static void fuzz_year(const char *text) {
    uint32_t year = FUZZ_UNTOUCHED_DATE;
    if (calendar_year_parse(text, &year) != FF_OK) {
        assert(year == FUZZ_UNTOUCHED_DATE);
        return;
    }
    assert(calendar_year_valid(year));
    char shown[16];
    assert(calendar_year_format(year, shown, sizeof shown) < sizeof shown);
    assert(strcmp(shown, text) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char text[FUZZ_TEXT_BYTES_MAX + 1];
    size_t length = size < FUZZ_TEXT_BYTES_MAX ? size : FUZZ_TEXT_BYTES_MAX;
    memcpy(text, data, length);
    text[length] = '\0';
    fuzz_money(text);
    fuzz_date(text);
    fuzz_year(text);
    return 0;
}
