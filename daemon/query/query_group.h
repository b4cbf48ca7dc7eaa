/* A rollup's group: the organisation and those under it (an ICB's places, a region's ICBs and
 * joint committees and the ICBs' places, a collaborative's members) as they stood on a date.
 * GetPosition and GetOutturn form their groups with it, so the two always add up the same
 * organisations. */
#ifndef FUNDFLOW_QUERY_GROUP_H
#define FUNDFLOW_QUERY_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "fundflow/v1/projections.pb-c.h"

/* A list of organisation codes, as a response message holds them (its included_codes). */
typedef struct query_group {
    char ***codes;   /* grown with realloc; each code strdup'd; the message frees them */
    size_t *n_codes;
} query_group;

/* Adds to group org's code and, if rollup, the organisations under org on date (YYYYMMDD; today's
 * links if 0): for an ICB its places; for a region the organisations whose parent it was and the
 * places whose ICB's parent it was; for a provider collaborative its members. A code already in
 * the group is not added again. */
ff_err query_group_form(store_txn *txn, ff_store *store, const Fundflow__V1__OrgRecord *org,
                        bool rollup, uint32_t date, query_group group);

/* Whether code is one of count codes, such as a response's included_codes. */
bool query_codes_include(char *const *codes, size_t count, const char *code);

/* Whether code is in the group. */
bool query_group_includes(query_group group, const char *code);

#endif
