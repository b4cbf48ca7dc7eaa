/* Reads flag values for the fundflow client and writes values back out for people. */
#include "cli_values.h"
#include "tool_help.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fundflow/calendar.h"
#include "fundflow/error.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Months in a financial year, and basis points in one per cent and in the whole. */
#define CLI_MONTHS_PER_YEAR 12u
#define CLI_BASIS_POINTS_PER_PERCENT 100u
#define CLI_BASIS_POINTS_MAX 10000u

/* The random bytes in a generated idempotency key: 128 bits, as the UUIDs clients often use. */
#define CLI_KEY_RANDOM_BYTES 16

static const char cli_hex_digits[] = "0123456789abcdef";

bool cli_value_refuse(const char *flag, const char *value, const char *problem) {
    fprintf(stderr, CLI_PROGRAM ": %s: \"%s\" %s\n", flag, value, problem);
    return false;
}

bool cli_number_parse(const char *flag, const char *text, uint64_t minimum, uint64_t maximum,
                      uint64_t *number_out) {
    assert(minimum <= maximum);
    uint64_t number = 0;
    const char *cursor = text;
    for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
        uint64_t digit = (uint64_t)(*cursor - '0');
        if (number > (UINT64_MAX - digit) / 10) break;
        number = number * 10 + digit;
    }
    if (cursor == text || *cursor != '\0' || number < minimum || number > maximum) {
        char problem[96];
        snprintf(problem, sizeof problem, "is not a whole number from %llu to %llu",
                 (unsigned long long)minimum, (unsigned long long)maximum);
        return cli_value_refuse(flag, text, problem);
    }
    *number_out = number;
    return true;
}

char *cli_text_or_empty(const char *text) { return (char *)(text ? text : ""); }

bool cli_enum_parse(const ProtobufCEnumDescriptor *descriptor, const char *flag,
                    const char *text, uint32_t *number_out) {
    const ProtobufCEnumValue *found = tool_enum_find(descriptor, text);
    if (found == NULL) {
        return cli_value_refuse(flag, text, "is not a known name; see --help for the list");
    }
    *number_out = (uint32_t)found->value;
    return true;
}

bool cli_date_parse(const char *flag, const char *text, uint32_t *date_out) {
    if (calendar_date_parse(text, date_out) != FF_OK) {
        return cli_value_refuse(flag, text, "is not a real date written YYYY-MM-DD");
    }
    return true;
}

bool cli_year_parse(const char *flag, const char *text, uint32_t *year_out) {
    if (calendar_year_parse(text, year_out) != FF_OK) {
        char first[CALENDAR_YEAR_TEXT_BYTES], last[CALENDAR_YEAR_TEXT_BYTES], problem[96];
        calendar_year_format(FF_YEAR_FIRST, first, sizeof first);
        calendar_year_format(FF_YEAR_LAST, last, sizeof last);
        snprintf(problem, sizeof problem,
                 "is not a financial year such as 2024/25, from %s to %s", first, last);
        return cli_value_refuse(flag, text, problem);
    }
    return true;
}

bool cli_amount_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    ff_err err = money_parse(text, &pence);
    if (err != FF_OK) return cli_value_refuse(flag, text, ff_strerror(err));
    if (pence <= 0) return cli_value_refuse(flag, text, "must be more than £0.00");
    *pence_out = pence;
    return true;
}

bool cli_change_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    ff_err err = money_parse(text, &pence);
    if (err != FF_OK) return cli_value_refuse(flag, text, ff_strerror(err));
    if (pence == 0) return cli_value_refuse(flag, text, "must not be £0.00");
    *pence_out = pence;
    return true;
}

bool cli_amount_or_zero_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    ff_err err = money_parse(text, &pence);
    if (err != FF_OK) return cli_value_refuse(flag, text, ff_strerror(err));
    if (pence < 0) return cli_value_refuse(flag, text, "must be £0.00 or more");
    *pence_out = pence;
    return true;
}

bool cli_month_parse(const char *flag, const char *text, uint32_t *month_out) {
    const char *digits = text[0] == 'M' || text[0] == 'm' ? text + 1 : text;
    uint64_t month = 0;
    size_t length = strlen(digits);
    bool ok = length >= 1 && length <= 2 && strspn(digits, "0123456789") == length;
    if (ok) month = strtoull(digits, NULL, 10);
    if (!ok || month < 1 || month > CLI_MONTHS_PER_YEAR) {
        return cli_value_refuse(flag, text, "is not a month 1 (April) to 12 (March), or M1 to M12");
    }
    *month_out = (uint32_t)month;
    return true;
}

bool cli_percent_parse(const char *flag, const char *text, uint32_t *basis_points_out) {
    static const char problem[] =
        "is not a percentage from 0 to 100 with at most two decimal places";
    const char *cursor = text;
    uint32_t whole = 0, hundredths = 0;
    size_t whole_digits = 0, decimal_digits = 0;
    for (; *cursor >= '0' && *cursor <= '9' && whole_digits < 4; cursor++, whole_digits++) {
        whole = whole * 10 + (uint32_t)(*cursor - '0');
    }
    if (whole_digits == 0) return cli_value_refuse(flag, text, problem);
    if (*cursor == '.') {
        for (cursor++; *cursor >= '0' && *cursor <= '9' && decimal_digits < 3;
             cursor++, decimal_digits++) {
            hundredths = hundredths * 10 + (uint32_t)(*cursor - '0');
        }
        if (decimal_digits == 0 || decimal_digits > 2) return cli_value_refuse(flag, text, problem);
        if (decimal_digits == 1) hundredths *= 10;
    }
    if (*cursor == '%') cursor++;
    uint32_t basis_points = whole * CLI_BASIS_POINTS_PER_PERCENT + hundredths;
    if (*cursor != '\0' || whole_digits > 3 || basis_points > CLI_BASIS_POINTS_MAX) {
        return cli_value_refuse(flag, text, problem);
    }
    *basis_points_out = basis_points;
    return true;
}

bool cli_text_parse(const char *flag, const char *text, size_t bytes_max) {
    if (text[0] == '\0') return cli_value_refuse(flag, text, "is empty");
    if (strlen(text) > bytes_max) {
        char problem[64];
        snprintf(problem, sizeof problem, "is longer than %zu bytes", bytes_max);
        return cli_value_refuse(flag, text, problem);
    }
    return true;
}

uint32_t cli_date_today(void) {
    time_t now = time(NULL);
    struct tm local;
    if (localtime_r(&now, &local) == NULL) return 0;
    uint32_t date = (uint32_t)(local.tm_year + 1900) * 10000u +
                    (uint32_t)(local.tm_mon + 1) * 100u + (uint32_t)local.tm_mday;
    assert(calendar_date_valid(date));
    return date;
}

bool cli_key_generate(char *key, size_t key_bytes) {
    assert(key_bytes >= 2 * CLI_KEY_RANDOM_BYTES + 1);
    uint8_t random[CLI_KEY_RANDOM_BYTES];
    FILE *source = fopen("/dev/urandom", "rb");
    size_t got = source ? fread(random, 1, sizeof random, source) : 0;
    if (source != NULL) fclose(source);
    if (got != sizeof random) {
        fprintf(stderr, CLI_PROGRAM ": cannot read /dev/urandom for an idempotency key; "
                                    "pass one with --key\n");
        return false;
    }
    cli_hex_text(random, sizeof random, key, key_bytes);
    return true;
}

const char *cli_enum_text(const ProtobufCEnumDescriptor *descriptor, int value, char *buffer,
                          size_t buffer_bytes) {
    assert(buffer_bytes > 0);
    const ProtobufCEnumValue *found = protobuf_c_enum_descriptor_get_value(descriptor, value);
    if (found == NULL) {
        snprintf(buffer, buffer_bytes, "%d", value);
        return buffer;
    }
    size_t i = 0;
    for (; found->name[i] != '\0' && i + 1 < buffer_bytes; i++) {
        buffer[i] = (char)tolower((unsigned char)found->name[i]);
    }
    buffer[i] = '\0';
    return buffer;
}

const char *cli_date_text(uint32_t date, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    if (date == 0) snprintf(buffer, buffer_bytes, "-");
    else if (!calendar_date_valid(date)) snprintf(buffer, buffer_bytes, "%u", date);
    else calendar_date_format(date, buffer, buffer_bytes);
    return buffer;
}

const char *cli_year_text(uint32_t start_year, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    if (start_year < 1900 || start_year > 9999) snprintf(buffer, buffer_bytes, "%u", start_year);
    else calendar_year_format(start_year, buffer, buffer_bytes);
    return buffer;
}

const char *cli_basis_points_text(uint32_t basis_points, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    snprintf(buffer, buffer_bytes, "%u.%02u%%", basis_points / CLI_BASIS_POINTS_PER_PERCENT,
             basis_points % CLI_BASIS_POINTS_PER_PERCENT);
    return buffer;
}

const char *cli_month_name(uint32_t month) {
    static const char *const names[CLI_MONTHS_PER_YEAR] = {
        "April",   "May",      "June",     "July",    "August",   "September",
        "October", "November", "December", "January", "February", "March"};
    return month >= 1 && month <= CLI_MONTHS_PER_YEAR ? names[month - 1] : "?";
}

const char *cli_hex_text(const uint8_t *bytes, size_t count, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes > 0);
    size_t i = 0;
    for (; i < count && 2 * i + 2 < buffer_bytes; i++) {
        buffer[2 * i] = cli_hex_digits[bytes[i] >> 4];
        buffer[2 * i + 1] = cli_hex_digits[bytes[i] & 0x0F];
    }
    buffer[2 * i] = '\0';
    return buffer;
}

const char *cli_time_text(int64_t time_us, char *buffer, size_t buffer_bytes) {
    time_t seconds = (time_t)(time_us / 1000000);
    struct tm utc;
    if (gmtime_r(&seconds, &utc) == NULL ||
        strftime(buffer, buffer_bytes, "%Y-%m-%d %H:%M:%S UTC", &utc) == 0) {
        snprintf(buffer, buffer_bytes, "%lld us", (long long)time_us);
    }
    return buffer;
}
