/* Parsing, printing and checked arithmetic for amounts of money held as int64_t pence. */
#include "fundflow/money.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "fundflow/limits.h"

/* The pound sign in UTF-8. */
#define MONEY_POUND_SIGN "\xC2\xA3"
#define MONEY_POUND_SIGN_BYTES 2
#define MONEY_POUND_SIGN_LEAD_BYTE 0xC2
#define MONEY_POUND_SIGN_TRAIL_BYTE 0xA3

/* Pence are written as at most two digits after the point. */
#define MONEY_PENCE_DIGITS_MAX 2

/* Digits between thousands separators. */
#define MONEY_GROUP_DIGITS 3

/* "-£92,233,720,368,547,758.08", the longest text, takes 28 bytes and its NUL one more. */
static_assert(FF_MONEY_TEXT_BYTES >= 29, "FF_MONEY_TEXT_BYTES cannot hold INT64_MIN pence");

/* The pieces of an amount's text, found before any of them is judged, so that a syntax error is
 * always reported ahead of a grouping, precision or overflow error. */
typedef struct money_parts {
    bool negative;
    const char *pounds;
    size_t pounds_bytes;
    const char *pence;
    size_t pence_digits;
} money_parts;

static bool money_digit_is(char character) {
    return character >= '0' && character <= '9';
}

/* Reading text[1] is safe: when text[0] is the lead byte it is not the NUL. */
static bool money_pound_sign_is(const char *text) {
    return (unsigned char)text[0] == MONEY_POUND_SIGN_LEAD_BYTE &&
           (unsigned char)text[1] == MONEY_POUND_SIGN_TRAIL_BYTE;
}

/* People write both "-£1.00" and "£-1.00", so the '-' may come on either side of the '£', but
 * only once. */
static const char *money_parse_sign(const char *cursor, bool *negative_out) {
    bool negative = false;
    bool pound_sign = false;
    if (*cursor == '-') {
        negative = true;
        cursor++;
    }
    if (money_pound_sign_is(cursor)) {
        pound_sign = true;
        cursor += MONEY_POUND_SIGN_BYTES;
    }
    if (pound_sign && !negative && *cursor == '-') {
        negative = true;
        cursor++;
    }
    *negative_out = negative;
    return cursor;
}

/* Commas are taken into the pounds here and judged later, so that ",100" is reported as bad
 * grouping, which is what its writer got wrong, rather than as bad syntax. */
static ff_err money_parse_scan(const char *text, money_parts *parts) {
    const char *cursor = money_parse_sign(text, &parts->negative);
    bool digit_seen = false;
    parts->pounds = cursor;
    while (money_digit_is(*cursor) || *cursor == ',') {
        digit_seen = digit_seen || money_digit_is(*cursor);
        cursor++;
    }
    parts->pounds_bytes = (size_t)(cursor - parts->pounds);
    if (!digit_seen) {
        return FF_ERR_MONEY_SYNTAX;
    }
    parts->pence = cursor;
    parts->pence_digits = 0;
    if (*cursor == '.') {
        cursor++;
        parts->pence = cursor;
        while (money_digit_is(*cursor)) {
            cursor++;
        }
        parts->pence_digits = (size_t)(cursor - parts->pence);
        if (parts->pence_digits == 0) {
            return FF_ERR_MONEY_SYNTAX;
        }
    }
    return *cursor == '\0' ? FF_OK : FF_ERR_MONEY_SYNTAX;
}

/* Separators are optional, but when present they must be in the right places, because a
 * misplaced comma more often means a typing slip than a deliberate amount. */
static ff_err money_parse_grouping(const char *pounds, size_t pounds_bytes) {
    bool comma_seen = false;
    size_t group_digits = 0;
    for (size_t index = 0; index < pounds_bytes; index++) {
        if (pounds[index] != ',') {
            group_digits++;
            continue;
        }
        bool group_fits = comma_seen ? group_digits == MONEY_GROUP_DIGITS
                                     : group_digits >= 1 && group_digits <= MONEY_GROUP_DIGITS;
        if (!group_fits) {
            return FF_ERR_MONEY_GROUPING;
        }
        comma_seen = true;
        group_digits = 0;
    }
    if (comma_seen && group_digits != MONEY_GROUP_DIGITS) {
        return FF_ERR_MONEY_GROUPING;
    }
    return FF_OK;
}

/* The total is kept negative while digits are added, because int64_t holds one more negative
 * value than positive and INT64_MIN pence must parse. */
static bool money_parse_digit_append(int64_t *negated_total, char digit) {
    assert(money_digit_is(digit));
    int64_t next = 0;
    if (__builtin_mul_overflow(*negated_total, 10, &next)) {
        return false;
    }
    if (__builtin_sub_overflow(next, (int64_t)(digit - '0'), &next)) {
        return false;
    }
    *negated_total = next;
    return true;
}

static ff_err money_parse_value(const money_parts *parts, int64_t *pence_out) {
    assert(parts->pence_digits <= MONEY_PENCE_DIGITS_MAX);
    int64_t negated_total = 0;
    for (size_t index = 0; index < parts->pounds_bytes; index++) {
        char character = parts->pounds[index];
        if (character != ',' && !money_parse_digit_append(&negated_total, character)) {
            return FF_ERR_MONEY_OVERFLOW;
        }
    }
    for (size_t index = 0; index < MONEY_PENCE_DIGITS_MAX; index++) {
        char digit = index < parts->pence_digits ? parts->pence[index] : '0';
        if (!money_parse_digit_append(&negated_total, digit)) {
            return FF_ERR_MONEY_OVERFLOW;
        }
    }
    if (!parts->negative) {
        if (negated_total == INT64_MIN) {
            return FF_ERR_MONEY_OVERFLOW;
        }
        negated_total = -negated_total;
    }
    *pence_out = negated_total;
    return FF_OK;
}

ff_err money_parse(const char *text, int64_t *pence_out) {
    assert(pence_out != NULL);
    if (text == NULL || text[0] == '\0') {
        return FF_ERR_MONEY_EMPTY;
    }
    money_parts parts;
    ff_err error = money_parse_scan(text, &parts);
    if (error == FF_OK) {
        error = money_parse_grouping(parts.pounds, parts.pounds_bytes);
    }
    if (error == FF_OK && parts.pence_digits > MONEY_PENCE_DIGITS_MAX) {
        error = FF_ERR_MONEY_PRECISION;
    }
    if (error == FF_OK) {
        error = money_parse_value(&parts, pence_out);
    }
    return error;
}

/* The text is built backwards from the end of scratch, since digits come out of division least
 * significant first. Returns the offset of the text's first byte; the text runs to the end. */
static size_t money_format_build(int64_t pence, bool decorated, char *scratch) {
    /* Negation is done on the unsigned magnitude, where it is defined even for INT64_MIN. */
    uint64_t magnitude = pence < 0 ? 0u - (uint64_t)pence : (uint64_t)pence;
    uint64_t pounds = magnitude / 100;
    uint64_t pence_part = magnitude % 100;
    size_t start = FF_MONEY_TEXT_BYTES;
    scratch[--start] = (char)('0' + pence_part % 10);
    scratch[--start] = (char)('0' + pence_part / 10);
    scratch[--start] = '.';
    size_t pound_digits = 0;
    do {
        if (decorated && pound_digits > 0 && pound_digits % MONEY_GROUP_DIGITS == 0) {
            scratch[--start] = ',';
        }
        scratch[--start] = (char)('0' + pounds % 10);
        pounds /= 10;
        pound_digits++;
    } while (pounds > 0);
    if (decorated) {
        start -= MONEY_POUND_SIGN_BYTES;
        memcpy(scratch + start, MONEY_POUND_SIGN, MONEY_POUND_SIGN_BYTES);
    }
    if (pence < 0) {
        scratch[--start] = '-';
    }
    /* At least one byte must be left over, so the text and its NUL fit FF_MONEY_TEXT_BYTES. */
    assert(start >= 1);
    return start;
}

/* Truncation never leaves the lead byte of '£' on its own, since that would be invalid UTF-8
 * in whatever log or terminal the text ends up in. */
static size_t money_format_copy(const char *text, size_t text_bytes, char *buffer,
                                size_t buffer_bytes) {
    assert(buffer != NULL || buffer_bytes == 0);
    if (buffer_bytes == 0) {
        return text_bytes;
    }
    size_t copy_bytes = text_bytes < buffer_bytes ? text_bytes : buffer_bytes - 1;
    if (copy_bytes > 0 && copy_bytes < text_bytes &&
        (unsigned char)text[copy_bytes - 1] == MONEY_POUND_SIGN_LEAD_BYTE) {
        copy_bytes--;
    }
    memcpy(buffer, text, copy_bytes);
    buffer[copy_bytes] = '\0';
    return text_bytes;
}

size_t money_format(int64_t pence, char *buffer, size_t buffer_bytes) {
    char scratch[FF_MONEY_TEXT_BYTES];
    size_t start = money_format_build(pence, true, scratch);
    return money_format_copy(scratch + start, FF_MONEY_TEXT_BYTES - start, buffer, buffer_bytes);
}

size_t money_format_plain(int64_t pence, char *buffer, size_t buffer_bytes) {
    char scratch[FF_MONEY_TEXT_BYTES];
    size_t start = money_format_build(pence, false, scratch);
    return money_format_copy(scratch + start, FF_MONEY_TEXT_BYTES - start, buffer, buffer_bytes);
}

ff_err money_add(int64_t a_pence, int64_t b_pence, int64_t *sum_pence_out) {
    assert(sum_pence_out != NULL);
    int64_t sum_pence = 0;
    if (__builtin_add_overflow(a_pence, b_pence, &sum_pence)) {
        return FF_ERR_SUM_OVERFLOW;
    }
    *sum_pence_out = sum_pence;
    return FF_OK;
}

ff_err money_subtract(int64_t a_pence, int64_t b_pence, int64_t *difference_pence_out) {
    assert(difference_pence_out != NULL);
    int64_t difference_pence = 0;
    if (__builtin_sub_overflow(a_pence, b_pence, &difference_pence)) {
        return FF_ERR_SUM_OVERFLOW;
    }
    *difference_pence_out = difference_pence;
    return FF_OK;
}
