/* Calendar dates held as YYYYMMDD numbers, and NHS financial years and months.
 *
 * A date is a uint32_t such as 20240401 for 1 April 2024, in years 1900 to 9999. A financial year
 * is named by the calendar year it starts in: 2024 is "2024/25", from 1 April 2024 to 31 March
 * 2025. Financial months run from 1 (April) to 12 (March). Every function here is pure and may be
 * called from any thread.
 */
#ifndef FUNDFLOW_CALENDAR_H
#define FUNDFLOW_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

/* Bytes that hold "YYYY-MM-DD" and its NUL. */
#define CALENDAR_DATE_TEXT_BYTES 11

/* Bytes that hold "YYYY/YY" and its NUL. */
#define CALENDAR_YEAR_TEXT_BYTES 8

/* Parse a date written exactly "YYYY-MM-DD".
 *
 * text      a NUL-terminated string, or NULL (refused).
 * date_out  receives the date as YYYYMMDD on success; must not be NULL. Untouched on error.
 *
 * Returns FF_OK, or FF_ERR_DATE_INVALID when text is not of that form, is not a real date (leap
 * years follow the Gregorian rules, so 2000-02-29 is real and 2100-02-29 is not) or its year is
 * outside 1900 to 9999.
 *
 * Thread: any.
 */
ff_err calendar_date_parse(const char *text, uint32_t *date_out);

/* Whether date, as YYYYMMDD, is a real calendar date in years 1900 to 9999.
 *
 * Thread: any.
 */
bool calendar_date_valid(uint32_t date);

/* Print a date as "YYYY-MM-DD".
 *
 * date          must satisfy calendar_date_valid (asserted).
 * buffer        receives the NUL-terminated text; may be NULL only when buffer_bytes is 0.
 * buffer_bytes  the size of buffer. CALENDAR_DATE_TEXT_BYTES is always enough.
 *
 * Returns the length of the full text (10), excluding its NUL, whether or not it fitted. When it
 * does not fit, buffer holds as much as fits, NUL-terminated, as long as buffer_bytes is at
 * least 1, as snprintf does.
 *
 * Thread: any.
 */
size_t calendar_date_format(uint32_t date, char *buffer, size_t buffer_bytes);

/* Parse a financial year written exactly "YYYY/YY", such as "2024/25" or "1999/00".
 *
 * text            a NUL-terminated string, or NULL (refused).
 * start_year_out  receives the year the financial year starts in (2024 for "2024/25") on
 *                 success; must not be NULL. Untouched on error.
 *
 * Returns FF_OK, or FF_ERR_YEAR_INVALID when text is not of that form, its last two digits are
 * not those of the following year, or the start year is outside FF_YEAR_FIRST to FF_YEAR_LAST
 * (limits.h).
 *
 * Thread: any.
 */
ff_err calendar_year_parse(const char *text, uint32_t *start_year_out);

/* Whether start_year lies within FF_YEAR_FIRST to FF_YEAR_LAST (limits.h).
 *
 * Thread: any.
 */
bool calendar_year_valid(uint32_t start_year);

/* Print a financial year as "YYYY/YY", such as "2024/25".
 *
 * start_year    the year it starts in; at most 9999 (asserted). Years outside FF_YEAR_FIRST to
 *               FF_YEAR_LAST print, but calendar_year_parse refuses them.
 * buffer        receives the NUL-terminated text; may be NULL only when buffer_bytes is 0.
 * buffer_bytes  the size of buffer. CALENDAR_YEAR_TEXT_BYTES is always enough.
 *
 * Returns the length of the full text (7), excluding its NUL, with the same truncation
 * behaviour as calendar_date_format.
 *
 * Thread: any.
 */
size_t calendar_year_format(uint32_t start_year, char *buffer, size_t buffer_bytes);

/* The financial year containing date: 20250331 gives 2024 and 20250401 gives 2025.
 *
 * date  must satisfy calendar_date_valid (asserted).
 *
 * Thread: any.
 */
uint32_t calendar_year_of_date(uint32_t date);

/* The financial month containing date, from 1 (April) to 12 (March).
 *
 * date  must satisfy calendar_date_valid (asserted).
 *
 * Thread: any.
 */
uint32_t calendar_month_of_date(uint32_t date);

/* The first day (1 April) and the last day (31 March) of a financial year, as YYYYMMDD.
 *
 * start_year  the year it starts in; at most 9998 (asserted).
 *
 * Thread: any.
 */
uint32_t calendar_year_first_date(uint32_t start_year);
uint32_t calendar_year_last_date(uint32_t start_year);

/* The first day of a financial month of a financial year, as YYYYMMDD: month 1 of 2024 gives
 * 20240401 and month 12 gives 20250301.
 *
 * start_year  at most 9998 (asserted); month  1 to 12 (asserted).
 *
 * Thread: any.
 */
uint32_t calendar_month_first_date(uint32_t start_year, uint32_t month);

#endif
