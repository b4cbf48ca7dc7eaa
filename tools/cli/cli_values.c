/* Writes the fundflow client's values out for people, and makes the values it sends unasked:
 * today's date and a fresh idempotency key. */
#include "cli_values.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fundflow/calendar.h"

/* Months in a financial year, and basis points in one per cent. */
#define CLI_MONTHS_PER_YEAR 12u
#define CLI_BASIS_POINTS_PER_PERCENT 100u

/* The random bytes in a generated idempotency key: 128 bits, as the UUIDs clients often use. */
#define CLI_KEY_RANDOM_BYTES 16

static const char cli_hex_digits[] = "0123456789abcdef";

char *cli_text_or_empty(const char *text) { return (char *)(text ? text : ""); }

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
