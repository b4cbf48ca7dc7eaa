/* Checks on single fields of a command, which every event's own checks are built from.
 *
 * Each takes the field's name for the failure it fills, and returns the failure's code or FF_OK.
 * They read nothing but their arguments, so any thread may call them.
 */
#ifndef FUNDFLOW_COMMAND_FIELD_H
#define FUNDFLOW_COMMAND_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "fundflow/v1/events.pb-c.h"

/* True if text is valid UTF-8 without control characters. */
bool command_text_valid(const char *text);

/* Text in field: present (if required), at most bytes_max bytes, and valid. NULL reads as "". */
ff_err command_text_check(const char *text, const char *field, size_t bytes_max, bool required,
                          ff_failure *failure);

/* True if code is 2 to 12 upper-case ASCII letters or digits. */
bool command_org_code_valid(const char *code);

/* Checks an organisation code in field: present (if required) and well formed. */
ff_err command_org_code_check(const char *code, const char *field, bool required,
                              ff_failure *failure);

/* A list of organisation codes in field: each well formed, none twice, at most limit of them. */
ff_err command_code_list_check(char *const *codes, size_t count, const char *field, size_t limit,
                               ff_failure *failure);

/* A value of an enum other than 0 (unspecified). */
ff_err command_enum_check(const ProtobufCEnumDescriptor *descriptor, int value, const char *field,
                          ff_failure *failure);

/* A client-chosen id: 2 to FF_IDENTIFIER_BYTES_MAX upper-case letters, digits or hyphens. */
ff_err command_identifier_check(const char *identifier, const char *field, ff_failure *failure);

/* A month of the financial year, 1 (April) to 12 (March). */
ff_err command_month_check(uint32_t month, ff_failure *failure);

/* A financial year's first calendar year, within the years the ledger accepts. */
ff_err command_year_check(uint32_t year, ff_failure *failure);

#endif
