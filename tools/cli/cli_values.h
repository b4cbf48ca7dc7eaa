/* The fundflow client's values written out for people: enum names, dates, years, basis points,
 * months, hex and times; and the values it makes up itself, today's date and an idempotency key
 * derived from a command's content. Flags' values are read by the shared tool_values.h. Any
 * thread may call these.
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

/* An optional text flag as a message field wants it: "" when it was not given. */
char *cli_text_or_empty(const char *text);

/* Today's date in local time, as YYYYMMDD. */
uint32_t cli_date_today(void);

/* Bytes of a derived idempotency key: "cli-", 32 hex digits and a NUL. */
#define CLI_KEY_TEXT_BYTES 37

/* Writes the idempotency key of a command: "cli-" and the first 128 bits, in lower-case hex, of
 * the SHA-256 of the subcommand (such as "pay" or "org add"), the effective date and the event
 * as protobuf packs it, so every field that goes into the event counts. The same command with
 * the same date always gets the same key, and so is recorded once however often it is sent;
 * change any field, the reference included, or the date, and the key changes. key_bytes is at
 * least CLI_KEY_TEXT_BYTES. Returns false, having said why on stderr, if the digest fails. */
bool cli_key_derive(const char *subcommand, uint32_t effective_date,
                    const ProtobufCMessage *event, char *key, size_t key_bytes);

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
