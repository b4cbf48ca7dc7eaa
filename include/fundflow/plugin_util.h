/* Small helpers every reporting-rule plugin needs, written once: checked differences of money,
 * the wording of percentages, whole numbers from configuration, and report tables whose column
 * names and types cannot drift apart.
 *
 * fundflow/plugin.h includes this header, so a plugin includes only that. Everything here is
 * static inline and uses only libc, so a plugin built outside fundflow's tree against the
 * installed include directory still links nothing of fundflowd's. Nothing here is part of the
 * ABI: a helper may change between releases without a plugin built earlier noticing.
 */
#ifndef FUNDFLOW_PLUGIN_UTIL_H
#define FUNDFLOW_PLUGIN_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fundflow/limits.h"
#include "fundflow/plugin.h"

/* The number of elements of an array (an array, not a pointer to one). */
#define FF_PLUGIN_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- money ---- */

/* a - b through the host's checked addition. The one b that cannot be negated, INT64_MIN, is
 * refused rather than wrapped, like any other overflow. */
static inline int ff_plugin_money_subtract(const ff_plugin_host *host, int64_t a_pence,
                                           int64_t b_pence, int64_t *difference_pence) {
    if (b_pence == INT64_MIN) return FF_PLUGIN_ERROR;
    return host->money_add(a_pence, -b_pence, difference_pence);
}

/* The size of an amount, which cannot overflow even for INT64_MIN. */
static inline uint64_t ff_plugin_magnitude(int64_t number) {
    return number < 0 ? (uint64_t)0 - (uint64_t)number : (uint64_t)number;
}

/* ---- basis points ---- */

/* Basis points in one percent, for wording a share as "12.34%". */
#define FF_PLUGIN_BASIS_POINTS_PER_PERCENT (FF_BASIS_POINTS_WHOLE / 100)

/* basis_points as a percentage with two decimals, such as "-1.05%", cut to fit like snprintf. */
static inline void ff_plugin_percent_format(int64_t basis_points, char *text,
                                            size_t text_bytes) {
    uint64_t magnitude = ff_plugin_magnitude(basis_points);
    snprintf(text, text_bytes, "%s%llu.%02u%%", basis_points < 0 ? "-" : "",
             (unsigned long long)(magnitude / FF_PLUGIN_BASIS_POINTS_PER_PERCENT),
             (unsigned)(magnitude % FF_PLUGIN_BASIS_POINTS_PER_PERCENT));
}

/* ---- configuration ---- */

/* A whole, non-negative number no greater than maximum from a configuration value: 1 and
 * *number_out set, or 0 (and *number_out untouched) if the text is anything else, so a typo is
 * refused rather than read as 0. A sign, spaces or trailing text are refused too. */
static inline int ff_plugin_whole_number_parse(const char *text, int64_t maximum,
                                               int64_t *number_out) {
    if (text[0] < '0' || text[0] > '9') return 0;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > maximum) return 0;
    *number_out = (int64_t)value;
    return 1;
}

/* ---- report tables ---- */

/* A compile-time 0 that fails to compile unless the two arrays have as many elements. (C11 has
 * no static assertion usable inside an expression, but one may stand in a struct.) */
#define FF_PLUGIN_SAME_COUNT_(a, b)                                                              \
    (0 * sizeof(struct {                                                                         \
         _Static_assert(FF_PLUGIN_COUNT(a) == FF_PLUGIN_COUNT(b), "a type for every column");  \
         char unused;                                                                            \
     }))

/* host->report_table for a table whose column names and types are two arrays, counted here and
 * checked at compile time to be as long as each other. */
#define FF_PLUGIN_REPORT_TABLE(host, report, name, column_names, column_types)                   \
    ((host)->report_table((report), (name),                                                      \
                          FF_PLUGIN_COUNT(column_types) +                                        \
                              FF_PLUGIN_SAME_COUNT_(column_names, column_types),                 \
                          (column_names), (column_types)))

#endif
