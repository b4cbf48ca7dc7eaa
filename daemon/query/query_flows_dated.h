/* The funding flows out of one organisation as at an effective date, summed from its history,
 * for GetFundingFlows' as_at_date (the flows table holds only the totals now). Only
 * query_flows.c uses it. */
#ifndef FUNDFLOW_QUERY_FLOWS_DATED_H
#define FUNDFLOW_QUERY_FLOWS_DATED_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "fundflow/error.h"
#include "fundflow/limits.h"

/* What one organisation passed to another in one stream. */
typedef struct query_flow_sum {
    char to[FF_ORG_CODE_BYTES_MAX + 1];
    uint32_t stream;
    int64_t amount_pence;
} query_flow_sum;

typedef struct query_flow_sums {
    query_flow_sum *items;
    size_t count;
    size_t capacity;
} query_flow_sums;

/* The flows out of `from` in financial year `year` that took effect on or before as_at_date:
 * allocations and budgets it passed on, payments under contracts it commissions and outcome
 * pots its providers earned, less those reversed by then; in the flows table's order (recipient,
 * then stream). Free with query_flow_sums_free. */
ff_err query_flows_dated_read(store_txn *txn, ff_store *store, const char *from, uint32_t year,
                              uint32_t as_at_date, query_flow_sums *out);

void query_flow_sums_free(query_flow_sums *sums);

#endif
