/* The fundflow client's values: reading flags' text into numbers, names, dates, years and amounts,
 * and writing the same kinds of value back out for people.
 *
 * Every parse function takes the flag it reads for, and on a bad value prints
 * "fundflow: FLAG: "VALUE" PROBLEM" on stderr and returns false. Single-threaded, since the
 * random key reads /dev/urandom through stdio.
 */
#ifndef FUNDFLOW_TOOLS_CLI_VALUES_H
#define FUNDFLOW_TOOLS_CLI_VALUES_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest enum name accepted or printed, such as service_development_funding. */
#define CLI_ENUM_NAME_BYTES_MAX 64

/* Bytes of a 32-byte hash in hex, and its NUL. */
#define CLI_HASH_TEXT_BYTES 65

/* Bytes of a time printed as "2024-04-01 09:00:00 UTC". */
#define CLI_TIME_TEXT_BYTES 32

/* Prints "fundflow: FLAG: "VALUE" PROBLEM" on stderr. Returns false, for `return` chains. */
bool cli_value_refuse(const char *flag, const char *value, const char *problem);

/* A whole number of digits only, from minimum to maximum. */
bool cli_number_parse(const char *flag, const char *text, uint64_t minimum, uint64_t maximum,
                      uint64_t *number_out);

/* An enum value by name in any case, with '-' for '_'; the unspecified value 0 is refused. */
/* An optional text flag as a message field wants it: "" when it was not given. */
char *cli_text_or_empty(const char *text);

bool cli_enum_parse(const ProtobufCEnumDescriptor *descriptor, const char *flag,
                    const char *text, uint32_t *number_out);

/* A date written YYYY-MM-DD, as YYYYMMDD. */
bool cli_date_parse(const char *flag, const char *text, uint32_t *date_out);

/* A financial year written YYYY/YY, as the calendar year it starts in. */
bool cli_year_parse(const char *flag, const char *text, uint32_t *year_out);

/* An amount of pounds as money_parse reads it, such as 1234.56 or £1,234.56; more than zero. */
bool cli_amount_parse(const char *flag, const char *text, int64_t *pence_out);

/* An amount of pounds as money_parse reads it that is not zero but may be negative, such as
 * -1000 or -£1,000.00, for a change of value. */
bool cli_change_parse(const char *flag, const char *text, int64_t *pence_out);

/* An amount of pounds as money_parse reads it that is zero or more. */
bool cli_amount_or_zero_parse(const char *flag, const char *text, int64_t *pence_out);

/* A month of the financial year: 1 (April) to 12 (March), also written M1 to M12. */
bool cli_month_parse(const char *flag, const char *text, uint32_t *month_out);

/* A percentage from 0 to 100 with at most two decimal places, such as 75.5 or 75.5%, as basis
 * points (7550). Read digit by digit, so no floating point rounds it. */
bool cli_percent_parse(const char *flag, const char *text, uint32_t *basis_points_out);

/* Free text for a field the server limits to bytes_max bytes; empty text is refused. */
bool cli_text_parse(const char *flag, const char *text, size_t bytes_max);

/* Today's date in local time, as YYYYMMDD. */
uint32_t cli_date_today(void);

/* Writes 128 bits from /dev/urandom as 32 lower-case hex digits. Returns false, having said why
 * on stderr, if the random bytes cannot be read. */
bool cli_key_generate(char *key, size_t key_bytes);

/* An enum value's name in lower case, such as "core_services", or its number when the value
 * is not one the descriptor knows. Returns buffer. */
const char *cli_enum_text(const ProtobufCEnumDescriptor *descriptor, int value, char *buffer,
                          size_t buffer_bytes);

/* A YYYYMMDD date as YYYY-MM-DD, or "-" for 0 and the bare number for a date that is not real.
 * Returns buffer, which must hold at least 16 bytes. */
const char *cli_date_text(uint32_t date, char *buffer, size_t buffer_bytes);

/* A financial year as "2024/25", or the bare number outside 1900 to 9999. Returns buffer, which
 * must hold at least 16 bytes. */
const char *cli_year_text(uint32_t start_year, char *buffer, size_t buffer_bytes);

/* Basis points as a percentage with two decimal places, such as "75.50%". Returns buffer, which
 * must hold at least 16 bytes. */
const char *cli_basis_points_text(uint32_t basis_points, char *buffer, size_t buffer_bytes);

/* The name of month 1 (April) to 12 (March) of a financial year, or "?" for any other number. */
const char *cli_month_name(uint32_t month);

/* Bytes as lower-case hex, cut short to fit. Returns buffer. */
const char *cli_hex_text(const uint8_t *bytes, size_t count, char *buffer, size_t buffer_bytes);

/* Microseconds since 1970 as "YYYY-MM-DD HH:MM:SS UTC". Returns buffer. */
const char *cli_time_text(int64_t time_us, char *buffer, size_t buffer_bytes);

#endif
