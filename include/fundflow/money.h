/* Exact money: amounts held as int64_t pence, parsed from and printed as pounds, with checked sums.
 *
 * No floating point is used anywhere. Every text that money_format or money_format_plain writes
 * parses back with money_parse to the same number of pence. Every function here is pure and may
 * be called from any thread.
 */
#ifndef FUNDFLOW_MONEY_H
#define FUNDFLOW_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

/* Parse an amount of pounds into pence.
 *
 * The accepted form is: an optional '-'; an optional '£' (UTF-8 0xC2 0xA3), which may stand
 * before or after the '-'; the pounds as decimal digits, optionally split by ',' thousands
 * separators (when any comma is used, the first group has 1 to 3 digits and every later group
 * exactly 3); then optionally '.' followed by exactly 1 or 2 digits of pence ("1234.5" is 123450
 * pence). No spaces, no '+', no exponent. Examples: "£1,234,567.89", "-0.01", "£-1.00", "1000".
 * The range is exactly that of int64_t pence, from "-92233720368547758.08" to
 * "92233720368547758.07".
 *
 * text       a NUL-terminated string, or NULL (treated as empty).
 * pence_out  receives the amount on success; must not be NULL. Untouched on any error.
 *
 * Returns FF_OK, or:
 *   FF_ERR_MONEY_EMPTY      text is NULL or "".
 *   FF_ERR_MONEY_SYNTAX     text is not of the form above (for example "1.", ".5", "1e3", " 1").
 *   FF_ERR_MONEY_GROUPING   the commas do not split the pounds into groups of three ("1,23").
 *   FF_ERR_MONEY_PRECISION  more than two digits follow the '.' ("1.234").
 *   FF_ERR_MONEY_OVERFLOW   the amount lies outside the int64_t range of pence.
 * When text breaks more than one rule, syntax is reported before grouping, grouping before
 * precision, and precision before overflow.
 *
 * Thread: any.
 */
ff_err money_parse(const char *text, int64_t *pence_out);

/* Print an amount for people, such as "£1,234,567.89", "-£0.01" or "£0.00".
 *
 * pence         any int64_t value, INT64_MIN included.
 * buffer        receives the NUL-terminated text; may be NULL only when buffer_bytes is 0.
 * buffer_bytes  the size of buffer. FF_MONEY_TEXT_BYTES (limits.h) is always enough.
 *
 * Returns the length of the full text, excluding its NUL, whether or not it fitted. When it does
 * not fit (the return value is >= buffer_bytes), buffer holds the longest prefix that fits
 * without splitting the two bytes of '£', NUL-terminated, as long as buffer_bytes is at least 1.
 *
 * Thread: any.
 */
size_t money_format(int64_t pence, char *buffer, size_t buffer_bytes);

/* Print an amount for machines (CSV and JSON), such as "1234567.89", "-0.01" or "0.00": no '£'
 * and no thousands separators, always two decimal places.
 *
 * Parameters and return value are exactly as for money_format.
 *
 * Thread: any.
 */
size_t money_format_plain(int64_t pence, char *buffer, size_t buffer_bytes);

/* Add two amounts, refusing to overflow.
 *
 * sum_pence_out  receives a_pence + b_pence on success; must not be NULL. Untouched on error.
 *
 * Returns FF_OK, or FF_ERR_SUM_OVERFLOW when the sum lies outside the int64_t range.
 *
 * Thread: any.
 */
ff_err money_add(int64_t a_pence, int64_t b_pence, int64_t *sum_pence_out);

/* Subtract one amount from another, refusing to overflow.
 *
 * difference_pence_out  receives a_pence - b_pence on success; must not be NULL. Untouched on
 *                       error.
 *
 * Returns FF_OK, or FF_ERR_SUM_OVERFLOW when the difference lies outside the int64_t range.
 *
 * Thread: any.
 */
ff_err money_subtract(int64_t a_pence, int64_t b_pence, int64_t *difference_pence_out);

#endif
