/* Reads flags' values for fundflow and fundflow-admin, each refusal naming the flag. */
#include "tool_values.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_help.h"
#include "fundflow/calendar.h"
#include "fundflow/error.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Months in a financial year, and basis points in one per cent. */
#define TOOL_MONTHS_PER_YEAR 12u
#define TOOL_BASIS_POINTS_PER_PERCENT 100u

/* A message needs a name even before main sets one, as in a unit test that forgets to. */
static const char *tool_program = "fundflow";

void tool_program_name_set(const char *name) { tool_program = name; }

const char *tool_program_name(void) { return tool_program; }

/* Bytes of a refusal handed to a sink. */
#define TOOL_MESSAGE_BYTES 512

static tool_message_sink tool_sink;
static void *tool_sink_context;

void tool_message_sink_set(tool_message_sink sink, void *context) {
    tool_sink = sink;
    tool_sink_context = context;
}

bool tool_value_refuse(const char *flag, const char *value, const char *problem) {
    assert(flag != NULL && value != NULL && problem != NULL);
    if (tool_sink != NULL) {
        tool_sink(tool_sink_context, flag, value, problem);
        return false;
    }
    fprintf(stderr, "%s: %s: \"%s\" %s\n", tool_program, flag, value, problem);
    return false;
}

bool tool_message_refuse(const char *format, ...) {
    char message[TOOL_MESSAGE_BYTES];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof message, format, arguments);
    va_end(arguments);
    if (tool_sink != NULL) tool_sink(tool_sink_context, NULL, NULL, message);
    else fprintf(stderr, "%s: %s\n", tool_program, message);
    return false;
}

bool tool_number_parse(const char *flag, const char *text, uint64_t minimum, uint64_t maximum,
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
        return tool_value_refuse(flag, text, problem);
    }
    *number_out = number;
    return true;
}

bool tool_enum_parse(const ProtobufCEnumDescriptor *descriptor, const char *flag,
                     const char *text, uint32_t *number_out) {
    const ProtobufCEnumValue *found = tool_enum_find(descriptor, text);
    if (found == NULL) {
        return tool_value_refuse(flag, text, "is not a known name; see --help for the list");
    }
    *number_out = (uint32_t)found->value;
    return true;
}

bool tool_date_parse(const char *flag, const char *text, uint32_t *date_out) {
    uint32_t date = 0;
    if (calendar_date_parse(text, &date) != FF_OK) {
        return tool_value_refuse(flag, text, "is not a real date written YYYY-MM-DD");
    }
    *date_out = date;
    return true;
}

bool tool_year_parse(const char *flag, const char *text, uint32_t *year_out) {
    uint32_t year = 0;
    if (calendar_year_parse(text, &year) != FF_OK) {
        char first[CALENDAR_YEAR_TEXT_BYTES], last[CALENDAR_YEAR_TEXT_BYTES], problem[96];
        calendar_year_format(FF_YEAR_FIRST, first, sizeof first);
        calendar_year_format(FF_YEAR_LAST, last, sizeof last);
        snprintf(problem, sizeof problem,
                 "is not a financial year such as 2024/25, from %s to %s", first, last);
        return tool_value_refuse(flag, text, problem);
    }
    *year_out = year;
    return true;
}

/* Reads pounds with money_parse, refusing what money_parse refuses with its reason. */
static bool tool_pounds_parse(const char *flag, const char *text, int64_t *pence_out) {
    ff_err err = money_parse(text, pence_out);
    if (err != FF_OK) return tool_value_refuse(flag, text, ff_strerror(err));
    return true;
}

bool tool_amount_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    if (!tool_pounds_parse(flag, text, &pence)) return false;
    if (pence <= 0) return tool_value_refuse(flag, text, "must be more than £0.00");
    *pence_out = pence;
    return true;
}

bool tool_change_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    if (!tool_pounds_parse(flag, text, &pence)) return false;
    if (pence == 0) return tool_value_refuse(flag, text, "must not be £0.00");
    *pence_out = pence;
    return true;
}

bool tool_amount_or_zero_parse(const char *flag, const char *text, int64_t *pence_out) {
    int64_t pence = 0;
    if (!tool_pounds_parse(flag, text, &pence)) return false;
    if (pence < 0) return tool_value_refuse(flag, text, "must be £0.00 or more");
    *pence_out = pence;
    return true;
}

bool tool_month_parse(const char *flag, const char *text, uint32_t *month_out) {
    const char *digits = text[0] == 'M' || text[0] == 'm' ? text + 1 : text;
    uint64_t month = 0;
    size_t length = strlen(digits);
    bool ok = length >= 1 && length <= 2 && strspn(digits, "0123456789") == length;
    if (ok) month = strtoull(digits, NULL, 10);
    if (!ok || month < 1 || month > TOOL_MONTHS_PER_YEAR) {
        return tool_value_refuse(flag, text,
                                 "is not a month 1 (April) to 12 (March), or M1 to M12");
    }
    *month_out = (uint32_t)month;
    return true;
}

/* Reads up to digits_max digits at *cursor into *number, moving *cursor past them. Returns
 * how many were read. */
static size_t tool_digits_read(const char **cursor, size_t digits_max, uint32_t *number) {
    size_t count = 0;
    for (; **cursor >= '0' && **cursor <= '9' && count < digits_max; (*cursor)++, count++) {
        *number = *number * 10 + (uint32_t)(**cursor - '0');
    }
    return count;
}

bool tool_percent_parse(const char *flag, const char *text, uint32_t *basis_points_out) {
    static const char problem[] =
        "is not a percentage from 0 to 100 with at most two decimal places";
    const char *cursor = text;
    uint32_t whole = 0, hundredths = 0;
    /* One digit past what is allowed is read, so that it can be refused rather than left. */
    size_t whole_digits = tool_digits_read(&cursor, 4, &whole);
    if (whole_digits == 0 || whole_digits > 3) return tool_value_refuse(flag, text, problem);
    if (*cursor == '.') {
        cursor++;
        size_t decimal_digits = tool_digits_read(&cursor, 3, &hundredths);
        if (decimal_digits == 0 || decimal_digits > 2) {
            return tool_value_refuse(flag, text, problem);
        }
        if (decimal_digits == 1) hundredths *= 10;
    }
    if (*cursor == '%') cursor++;
    uint32_t basis_points = whole * TOOL_BASIS_POINTS_PER_PERCENT + hundredths;
    if (*cursor != '\0' || basis_points > FF_BASIS_POINTS_WHOLE) {
        return tool_value_refuse(flag, text, problem);
    }
    *basis_points_out = basis_points;
    return true;
}

bool tool_basis_points_parse(const char *flag, const char *text, uint32_t *basis_points_out) {
    uint64_t number = 0;
    if (!tool_number_parse(flag, text, 0, FF_BASIS_POINTS_WHOLE, &number)) return false;
    *basis_points_out = (uint32_t)number;
    return true;
}

bool tool_text_parse(const char *flag, const char *text, size_t bytes_max) {
    if (text[0] == '\0') return tool_value_refuse(flag, text, "is empty");
    if (strlen(text) > bytes_max) {
        char problem[64];
        snprintf(problem, sizeof problem, "is longer than %zu bytes", bytes_max);
        return tool_value_refuse(flag, text, problem);
    }
    return true;
}
