/* The funding flows out of one organisation as at an effective date (GetFundingFlows'
 * as_at_date): its history walked event by event, each flow it paid counted when its effective
 * date is on or before the date, and a reversal counted against it on the reversal's own date,
 * as positions count them. The same flows as the flows table, which holds only today's totals. */
#include "query_flows_dated.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "projection.h"
#include "projection_table.h"
#include "fundflow/money.h"

typedef struct query_flow_dated_walk {
    store_txn *txn;
    ff_store *store;
    const char *from;
    uint32_t year;
    uint32_t as_at_date;
    size_t prefix_bytes;
    query_flow_sums *sums;
} query_flow_dated_walk;

/* Adds amount to the flow to `to` in `stream`, making it if it is new. */
static ff_err query_flow_sum_add(query_flow_sums *sums, const char *to, uint32_t stream,
                                 int64_t amount) {
    assert(strlen(to) <= FF_ORG_CODE_BYTES_MAX);
    for (size_t i = 0; i < sums->count; i++) {
        query_flow_sum *sum = &sums->items[i];
        if (sum->stream == stream && strcmp(sum->to, to) == 0) {
            return money_add(sum->amount_pence, amount, &sum->amount_pence);
        }
    }
    if (sums->count == FF_FLOWS_MAX) return FF_OK; /* the walk's own limit truncates later */
    if (sums->count == sums->capacity) {
        size_t capacity = sums->capacity ? 2 * sums->capacity : 16;
        query_flow_sum *items = realloc(sums->items, capacity * sizeof *items);
        if (items == NULL) return FF_ERR_NO_MEMORY;
        sums->items = items;
        sums->capacity = capacity;
    }
    query_flow_sum *sum = &sums->items[sums->count++];
    strcpy(sum->to, to);
    sum->stream = stream;
    sum->amount_pence = amount;
    return FF_OK;
}

/* What an outcome report paid its provider: the metric's earned share as the report left it. */
static ff_err query_flow_outcome_earned(const query_flow_dated_walk *walk,
                                        const Fundflow__V1__OutcomeReported *outcome,
                                        uint64_t sequence, int64_t *earned_out) {
    *earned_out = 0;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->txn, walk->store, outcome->contract_id, sequence,
                                          &contract);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < contract->n_metrics; i++) {
        if (strcmp(contract->metrics[i]->code, outcome->metric_code) == 0) {
            *earned_out = contract->metrics[i]->earned_pence;
        }
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return FF_OK;
}

/* Counts one event (sign 1) or its reversal (sign -1) if it is a flow out of walk->from in the
 * year. `sequence` is the event's own, for reading a contract as it left it. */
static ff_err query_flow_dated_event(const query_flow_dated_walk *walk,
                                     const Fundflow__V1__Event *event, uint64_t sequence,
                                     int64_t sign) {
    switch (event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *a = event->allocation_issued;
        if (a->financial_year != walk->year || strcmp(a->funder_code, walk->from) != 0) break;
        return query_flow_sum_add(walk->sums, a->recipient_code, (uint32_t)a->stream,
                                  sign * a->amount_pence);
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *b = event->budget_delegated;
        if (b->financial_year != walk->year || strcmp(b->from_code, walk->from) != 0) break;
        return query_flow_sum_add(walk->sums, b->to_code, (uint32_t)b->stream,
                                  sign * b->amount_pence);
    }
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED: {
        bool payment = event->kind_case == FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
        const char *id = payment ? event->payment_made->contract_id
                                 : event->outcome_reported->contract_id;
        Fundflow__V1__ContractRecord *contract = NULL;
        ff_err err = projection_contract_read(walk->txn, walk->store, id, sequence, &contract);
        if (err != FF_OK) return err;
        int64_t amount = payment ? event->payment_made->amount_pence : 0;
        if (!payment) {
            err = query_flow_outcome_earned(walk, event->outcome_reported, sequence, &amount);
        }
        if (err == FF_OK && contract->financial_year == walk->year &&
            strcmp(contract->commissioner_code, walk->from) == 0) {
            err = query_flow_sum_add(walk->sums, contract->provider_code,
                                     (uint32_t)contract->stream, sign * amount);
        }
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
        return err;
    }
    default:
        break;
    }
    return FF_OK;
}

static ff_err query_flow_dated_row(void *argument, store_slice key, store_slice value,
                                   bool *stop) {
    (void)value, (void)stop;
    query_flow_dated_walk *walk = argument;
    assert(key.bytes == walk->prefix_bytes + LOG_KEY_BYTES);
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + walk->prefix_bytes);
    Fundflow__V1__EventRecord *record = NULL, *target = NULL;
    ff_err err = log_read(walk->txn, walk->store, sequence, &record);
    if (err != FF_OK) return err;
    if (record->effective_date <= walk->as_at_date) {
        if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_REVERSAL) {
            uint64_t reversed = record->event->reversal->reversed_sequence;
            err = log_read(walk->txn, walk->store, reversed, &target);
            if (err == FF_OK) err = query_flow_dated_event(walk, target->event, reversed, -1);
        } else {
            err = query_flow_dated_event(walk, record->event, sequence, 1);
        }
    }
    if (target) fundflow__v1__event_record__free_unpacked(target, NULL);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static int query_flow_sum_order(const void *a, const void *b) {
    const query_flow_sum *x = a, *y = b;
    int by_code = strcmp(x->to, y->to);
    if (by_code != 0) return by_code;
    return (x->stream > y->stream) - (x->stream < y->stream);
}

ff_err query_flows_dated_read(store_txn *txn, ff_store *store, const char *from, uint32_t year,
                              uint32_t as_at_date, query_flow_sums *out) {
    assert(as_at_date != 0);
    memset(out, 0, sizeof *out);
    uint8_t prefix[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_bytes = projection_history_key(from, 0, prefix, sizeof prefix);
    assert(key_bytes > LOG_KEY_BYTES && key_bytes <= sizeof prefix);
    query_flow_dated_walk walk = {txn, store, from, year, as_at_date, key_bytes - LOG_KEY_BYTES,
                                  out};
    ff_err err = store_each(txn, store, STORE_TABLE_HISTORY,
                            STORE_SLICE(prefix, walk.prefix_bytes), query_flow_dated_row, &walk);
    /* Codes padded with spaces sort as the plain codes do, so this is the flows table's order. */
    if (err == FF_OK && out->count > 1) {
        qsort(out->items, out->count, sizeof *out->items, query_flow_sum_order);
    }
    if (err != FF_OK) query_flow_sums_free(out);
    return err;
}

void query_flow_sums_free(query_flow_sums *sums) {
    free(sums->items);
    memset(sums, 0, sizeof *sums);
}
