/* Reading flags' values, shared by fundflow and fundflow-admin: whole numbers, enum names,
 * dates, financial years, amounts of pounds, months, percentages, basis points and free text.
 *
 * Every function takes the flag it reads for, and on a bad value prints
 * "PROGRAM: FLAG: "VALUE" PROBLEM" on stderr and returns false, leaving *out as it was.
 * PROGRAM is what tool_program_name_set last named. Single-threaded.
 */
#ifndef FUNDFLOW_TOOL_VALUES_H
#define FUNDFLOW_TOOL_VALUES_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Names the program in every message of the tools' common code; main calls it first. The
 * name is kept, not copied, so it must outlive every later call. */
void tool_program_name_set(const char *name);
const char *tool_program_name(void);

/* Prints "PROGRAM: FLAG: "VALUE" PROBLEM" on stderr, or hands it to the message sink. Returns
 * false, for `return` chains. */
bool tool_value_refuse(const char *flag, const char *value, const char *problem);

/* Where refusals go instead of stderr while a sink is set: fundflow import reads each row of a
 * file through the very flag parsers the command line uses and reports a refusal against the
 * row's line and column. flag is the flag refused (NULL for a message about flags together),
 * value the text refused (NULL likewise) and message the problem, or for flag NULL the whole
 * message without "PROGRAM: ". They are valid only during the call. */
typedef void (*tool_message_sink)(void *context, const char *flag, const char *value,
                                  const char *message);

/* Sets the sink, or with NULL sends refusals to stderr again. */
void tool_message_sink_set(tool_message_sink sink, void *context);

/* A refusal that is not about one value: "PROGRAM: MESSAGE" on stderr, or MESSAGE to the sink
 * with no flag. Returns false. */
bool tool_message_refuse(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* A whole number of digits only, from minimum to maximum: no sign, spaces or hex. */
bool tool_number_parse(const char *flag, const char *text, uint64_t minimum, uint64_t maximum,
                       uint64_t *number_out);

/* An enum value by name in any case, with '-' for '_'; the unspecified value 0 is refused. */
bool tool_enum_parse(const ProtobufCEnumDescriptor *descriptor, const char *flag,
                     const char *text, uint32_t *number_out);

/* A date written YYYY-MM-DD, as YYYYMMDD. */
bool tool_date_parse(const char *flag, const char *text, uint32_t *date_out);

/* A financial year written YYYY/YY, as the calendar year it starts in. */
bool tool_year_parse(const char *flag, const char *text, uint32_t *year_out);

/* An amount of pounds as money_parse reads it, such as 1234.56 or £1,234.56; more than zero. */
bool tool_amount_parse(const char *flag, const char *text, int64_t *pence_out);

/* An amount of pounds that is not zero but may be negative, such as -1000 or -£1,000.00, for a
 * change of value. */
bool tool_change_parse(const char *flag, const char *text, int64_t *pence_out);

/* An amount of pounds that is zero or more. */
bool tool_amount_or_zero_parse(const char *flag, const char *text, int64_t *pence_out);

/* A month of the financial year: 1 (April) to 12 (March), also written M1 to M12. */
bool tool_month_parse(const char *flag, const char *text, uint32_t *month_out);

/* A percentage from 0 to 100 with at most two decimal places, such as 75.5 or 75.5%, as basis
 * points (7550). Read digit by digit, so no floating point rounds it. */
bool tool_percent_parse(const char *flag, const char *text, uint32_t *basis_points_out);

/* Basis points as a whole number from 0 to FF_BASIS_POINTS_WHOLE (the whole, 100%). */
bool tool_basis_points_parse(const char *flag, const char *text, uint32_t *basis_points_out);

/* Free text for a field limited to bytes_max bytes; empty text is refused. */
bool tool_text_parse(const char *flag, const char *text, size_t bytes_max);

#endif
