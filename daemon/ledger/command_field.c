/* Checks on single fields of a command: text, codes, identifiers, enums, months and years. They
 * call nothing else in the ledger, so every event's own checks can stand on them. */
#include "command_field.h"

#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

bool command_org_code_valid(const char *code) {
    size_t length = strlen(code);
    if (length < FF_ORG_CODE_BYTES_MIN || length > FF_ORG_CODE_BYTES_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

/* The length of the UTF-8 sequence starting at text, or 0 if it is not a valid one. */
static size_t command_utf8_sequence_bytes(const unsigned char *text) {
    unsigned char lead = text[0];
    size_t bytes = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                                 : (lead >> 3) == 0x1E ? 4 : 0;
    if (bytes == 0 || (bytes == 2 && lead < 0xC2) || (bytes == 4 && lead > 0xF4)) return 0;
    for (size_t i = 1; i < bytes; i++) {
        if ((text[i] >> 6) != 0x2) return 0;
    }
    /* Refuse overlong three- and four-byte forms, surrogates and code points past U+10FFFF. */
    if (bytes == 3 && lead == 0xE0 && text[1] < 0xA0) return 0;
    if (bytes == 3 && lead == 0xED && text[1] >= 0xA0) return 0;
    if (bytes == 4 && lead == 0xF0 && text[1] < 0x90) return 0;
    if (bytes == 4 && lead == 0xF4 && text[1] >= 0x90) return 0;
    return bytes;
}

bool command_text_valid(const char *text) {
    const unsigned char *cursor = (const unsigned char *)text;
    while (*cursor != '\0') {
        if (*cursor < 0x20 || *cursor == 0x7F) return false;
        size_t bytes = command_utf8_sequence_bytes(cursor);
        if (bytes == 0) return false;
        cursor += bytes;
    }
    return true;
}

ff_err command_text_check(const char *text, const char *field, size_t bytes_max,
                          bool required, ff_failure *failure) {
    if (text == NULL) text = "";
    size_t length = strlen(text);
    if (required && length == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    if (length > bytes_max) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, field,
                           "%s is %zu bytes long; the limit is %zu", field, length, bytes_max);
    }
    if (!command_text_valid(text)) {
        return failure_set(failure, FF_ERR_TEXT_INVALID, field,
                           "%s must be UTF-8 text without control characters", field);
    }
    return FF_OK;
}

ff_err command_org_code_check(const char *code, const char *field, bool required,
                              ff_failure *failure) {
    if (code == NULL || code[0] == '\0') {
        if (!required) return FF_OK;
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    if (!command_org_code_valid(code)) {
        return failure_set(failure, FF_ERR_CODE_INVALID, field,
                           "%s \"%.40s\" must be %d to %d upper-case letters or digits", field,
                           code, FF_ORG_CODE_BYTES_MIN, FF_ORG_CODE_BYTES_MAX);
    }
    return FF_OK;
}

ff_err command_enum_check(const ProtobufCEnumDescriptor *descriptor, int value,
                          const char *field, ff_failure *failure) {
    if (value != 0 && protobuf_c_enum_descriptor_get_value(descriptor, value) != NULL) {
        return FF_OK;
    }
    return failure_set(failure, FF_ERR_ENUM_INVALID, field, "%s %d is not a valid %s", field,
                       value, descriptor->short_name);
}

ff_err command_identifier_check(const char *identifier, const char *field, ff_failure *failure) {
    size_t length = identifier ? strlen(identifier) : 0;
    if (length == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    bool ok = length >= 2 && length <= FF_IDENTIFIER_BYTES_MAX;
    for (size_t i = 0; ok && i < length; i++) {
        char c = identifier[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    }
    if (ok) return FF_OK;
    return failure_set(failure, FF_ERR_CODE_INVALID, field,
                       "%s \"%.40s\" must be 2 to %d upper-case letters, digits or hyphens", field,
                       identifier, FF_IDENTIFIER_BYTES_MAX);
}

/* Checks a list of organisation codes: each well formed, none twice, at most limit. */
ff_err command_code_list_check(char *const *codes, size_t count, const char *field,
                               size_t limit, ff_failure *failure) {
    if (count > limit) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, field,
                           "%s lists %zu organisations; the limit is %zu", field, count, limit);
    }
    for (size_t i = 0; i < count; i++) {
        ff_err err = command_org_code_check(codes[i], field, true, failure);
        if (err != FF_OK) return err;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(codes[i], codes[j]) == 0) {
                return failure_set(failure, FF_ERR_MEMBER_INVALID, field, "%s lists %s twice",
                                   field, codes[i]);
            }
        }
    }
    return FF_OK;
}

ff_err command_month_check(uint32_t month, ff_failure *failure) {
    if (month >= 1 && month <= 12) return FF_OK;
    return failure_set(failure, FF_ERR_DATE_INVALID, "month",
                       "month %u must be M1 (April) to M12 (March)", month);
}

ff_err command_year_check(uint32_t year, ff_failure *failure) {
    if (calendar_year_valid(year)) return FF_OK;
    return failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                       "financial_year %u must start between %d and %d", year, FF_YEAR_FIRST,
                       FF_YEAR_LAST);
}
