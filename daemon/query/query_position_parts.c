/* A contract's figures as at a sequence and date, and the flows inside a rollup's group: what a
 * rollup takes out of its members' sums so that nothing is counted twice. */
#include "query_position_parts.h"

#include <assert.h>
#include <string.h>

#include "log.h"
#include "projection.h"
#include "projection_table.h"
#include "query_group.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* ---- one contract ---- */

ff_err query_contract_figures_add(query_contract_figures *sum, const query_contract_figures *add) {
    ff_err err = money_add(sum->unpaid_pence, add->unpaid_pence, &sum->unpaid_pence);
    if (err == FF_OK) err = money_add(sum->paid_pence, add->paid_pence, &sum->paid_pence);
    if (err == FF_OK) {
        err = money_add(sum->withheld_pence, add->withheld_pence, &sum->withheld_pence);
    }
    if (err == FF_OK) err = money_add(sum->earned_pence, add->earned_pence, &sum->earned_pence);
    if (err == FF_OK) {
        err = money_add(sum->released_pence, add->released_pence, &sum->released_pence);
    }
    return err;
}

ff_err query_contract_figures_value(const query_contract_figures *figures, int64_t *value_out) {
    int64_t value = 0;
    ff_err err = money_add(figures->unpaid_pence, figures->paid_pence, &value);
    if (err == FF_OK) err = money_add(value, figures->withheld_pence, &value);
    if (err == FF_OK) err = money_add(value, figures->earned_pence, &value);
    *value_out = value;
    return err;
}

/* Variations and payments that took effect by a date, summed from the contract's events. */
typedef struct query_contract_dated {
    store_txn *txn;
    ff_store *store;
    uint64_t as_at_sequence;
    uint32_t as_at_date;
    size_t prefix_bytes;
    query_contract_dated_sums *sums;
} query_contract_dated;

/* Adds (sign 1) or takes away (sign -1, for a reversal of it) one contract event's amount. */
static ff_err query_contract_dated_add(query_contract_dated *dated, const Fundflow__V1__Event *event,
                                       int64_t sign) {
    query_contract_dated_sums *sums = dated->sums;
    if (event->kind_case == FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED) {
        return money_add(sums->variations_pence, sign * event->contract_varied->change_pence,
                         &sums->variations_pence);
    }
    if (event->kind_case == FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE) {
        const Fundflow__V1__PaymentMade *payment = event->payment_made;
        /* The ledger accepted the payment, so its month is M1 to M12. */
        assert(payment->month >= 1 && payment->month <= 12);
        int64_t *month = &sums->paid_by_month_pence[payment->month - 1];
        ff_err err = money_add(*month, sign * payment->amount_pence, month);
        if (err != FF_OK) return err;
        return money_add(sums->paid_pence, sign * payment->amount_pence, &sums->paid_pence);
    }
    return FF_OK;
}

static ff_err query_contract_dated_row(void *argument, store_slice key, store_slice value,
                                       bool *stop) {
    (void)value;
    query_contract_dated *dated = argument;
    assert(key.bytes == dated->prefix_bytes + LOG_KEY_BYTES);
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + dated->prefix_bytes);
    if (sequence > dated->as_at_sequence) {
        *stop = true;
        return FF_OK;
    }
    Fundflow__V1__EventRecord *record = NULL, *target = NULL;
    ff_err err = log_read(dated->txn, dated->store, sequence, &record);
    if (err != FF_OK) return err;
    if (record->effective_date <= dated->as_at_date) {
        if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_REVERSAL) {
            err = log_read(dated->txn, dated->store, record->event->reversal->reversed_sequence,
                           &target);
            if (err == FF_OK) err = query_contract_dated_add(dated, target->event, -1);
        } else {
            err = query_contract_dated_add(dated, record->event, 1);
        }
    }
    if (target) fundflow__v1__event_record__free_unpacked(target, NULL);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

ff_err query_contract_figures_at(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__ContractRecord *contract,
                                 uint64_t as_at_sequence, uint32_t as_at_date,
                                 query_contract_figures *out) {
    memset(out, 0, sizeof *out);
    int64_t pot = contract->withheld_pot_pence;
    if (as_at_date == 0) {
        out->paid_pence = contract->paid_pence;
        out->earned_pence = contract->earned_pence;
        out->released_pence = contract->released_pence;
        out->withheld_pence = pot - contract->earned_pence - contract->released_pence;
        out->unpaid_pence = contract->value_pence - pot - contract->paid_pence;
        return FF_OK;
    }
    if (contract->agreed_date > as_at_date) return FF_OK;
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < contract->n_metrics; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        if (!metric->reported || metric->reported_date > as_at_date) continue;
        err = money_add(out->earned_pence, metric->earned_pence, &out->earned_pence);
        if (err == FF_OK) {
            err = money_add(out->released_pence, metric->released_pence, &out->released_pence);
        }
    }
    if (err != FF_OK) return err;
    query_contract_dated_sums sums;
    err = query_contract_dated_read(txn, store, contract->contract_id, as_at_sequence, as_at_date,
                                    &sums);
    out->paid_pence = sums.paid_pence;
    int64_t settled = 0, fixed = 0;
    if (err == FF_OK) err = money_add(out->earned_pence, out->released_pence, &settled);
    if (err == FF_OK) err = money_subtract(pot, settled, &out->withheld_pence);
    if (err == FF_OK) {
        err = money_add(contract->original_value_pence - pot, sums.variations_pence, &fixed);
    }
    if (err == FF_OK) err = money_subtract(fixed, sums.paid_pence, &out->unpaid_pence);
    return err;
}

ff_err query_contract_dated_read(store_txn *txn, ff_store *store, const char *contract_id,
                                 uint64_t as_at_sequence, uint32_t as_at_date,
                                 query_contract_dated_sums *out) {
    memset(out, 0, sizeof *out);
    uint8_t prefix[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_bytes = projection_history_key(contract_id, 0, prefix, sizeof prefix);
    assert(key_bytes > LOG_KEY_BYTES && key_bytes <= sizeof prefix);
    query_contract_dated dated = {txn, store, as_at_sequence, as_at_date,
                                  key_bytes - LOG_KEY_BYTES, out};
    return store_each(txn, store, STORE_TABLE_HISTORY, STORE_SLICE(prefix, dated.prefix_bytes),
                      query_contract_dated_row, &dated);
}

/* ---- a group's internal flows ---- */

static bool query_group_has(const Fundflow__V1__Position *position, const char *code) {
    return query_codes_include(position->included_codes, position->n_included_codes, code);
}

/* Walking one member's events for the transfers it made to another member. */
typedef struct query_transfer_walk {
    store_txn *txn;
    ff_store *store;
    const Fundflow__V1__Position *position;
    const char *payer;
    size_t prefix_bytes;
    int64_t *transfers_pence;
} query_transfer_walk;

/* The amount of a transfer from the walk's payer to a member in the position's stream and year;
 * 0 for any other event. */
static int64_t query_transfer_internal(const query_transfer_walk *walk,
                                       const Fundflow__V1__Event *event) {
    const char *payer, *payee;
    uint32_t stream, year;
    int64_t amount;
    if (event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED) {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        payer = allocation->funder_code, payee = allocation->recipient_code;
        stream = (uint32_t)allocation->stream, year = allocation->financial_year;
        amount = allocation->amount_pence;
    } else if (event->kind_case == FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED) {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        payer = budget->from_code, payee = budget->to_code;
        stream = (uint32_t)budget->stream, year = budget->financial_year;
        amount = budget->amount_pence;
    } else {
        return 0;
    }
    const Fundflow__V1__Position *position = walk->position;
    bool internal = strcmp(payer, walk->payer) == 0 && query_group_has(position, payee) &&
                    stream == (uint32_t)position->stream && year == position->financial_year;
    return internal ? amount : 0;
}

static ff_err query_transfer_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value;
    query_transfer_walk *walk = argument;
    assert(key.bytes == walk->prefix_bytes + LOG_KEY_BYTES);
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + walk->prefix_bytes);
    if (sequence > walk->position->as_at_sequence) {
        *stop = true;
        return FF_OK;
    }
    Fundflow__V1__EventRecord *record = NULL, *target = NULL;
    ff_err err = log_read(walk->txn, walk->store, sequence, &record);
    if (err != FF_OK) return err;
    uint32_t date = walk->position->as_at_date;
    if (date == 0 || record->effective_date <= date) {
        int64_t amount = 0;
        if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_REVERSAL) {
            err = log_read(walk->txn, walk->store, record->event->reversal->reversed_sequence,
                           &target);
            if (err == FF_OK) amount = -query_transfer_internal(walk, target->event);
        } else {
            amount = query_transfer_internal(walk, record->event);
        }
        if (err == FF_OK) err = money_add(*walk->transfers_pence, amount, walk->transfers_pence);
    }
    if (target) fundflow__v1__event_record__free_unpacked(target, NULL);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static ff_err query_group_transfers(store_txn *txn, ff_store *store,
                                    const Fundflow__V1__Position *position, const char *payer,
                                    int64_t *transfers_pence) {
    uint8_t prefix[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_bytes = projection_history_key(payer, 0, prefix, sizeof prefix);
    assert(key_bytes > LOG_KEY_BYTES && key_bytes <= sizeof prefix);
    query_transfer_walk walk = {txn,   store, position, payer, key_bytes - LOG_KEY_BYTES,
                                transfers_pence};
    return store_each(txn, store, STORE_TABLE_HISTORY, STORE_SLICE(prefix, walk.prefix_bytes),
                      query_transfer_row, &walk);
}

/* Walking one member's contracts as commissioner for those with a member as provider. */
typedef struct query_internal_contract_walk {
    store_txn *txn;
    ff_store *store;
    const Fundflow__V1__Position *position;
    const char *commissioner;
    size_t prefix_bytes;
    query_contract_figures *sum;
} query_internal_contract_walk;

static ff_err query_internal_contract_row(void *argument, store_slice key, store_slice value,
                                          bool *stop) {
    (void)value, (void)stop;
    const query_internal_contract_walk *walk = argument;
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    size_t id_bytes = key.bytes - walk->prefix_bytes;
    if (id_bytes == 0 || id_bytes > FF_IDENTIFIER_BYTES_MAX) return FF_OK;
    memcpy(contract_id, (const uint8_t *)key.data + walk->prefix_bytes, id_bytes);
    contract_id[id_bytes] = '\0';
    const Fundflow__V1__Position *position = walk->position;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->txn, walk->store, contract_id,
                                          position->as_at_sequence, &contract);
    /* A contract agreed after the as-at sequence did not exist then. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    if (strcmp(contract->commissioner_code, walk->commissioner) == 0 &&
        (uint32_t)contract->stream == (uint32_t)position->stream &&
        query_group_has(position, contract->provider_code)) {
        query_contract_figures figures;
        err = query_contract_figures_at(walk->txn, walk->store, contract,
                                        position->as_at_sequence, position->as_at_date, &figures);
        if (err == FF_OK) err = query_contract_figures_add(walk->sum, &figures);
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err query_group_contracts(store_txn *txn, ff_store *store,
                                    const Fundflow__V1__Position *position,
                                    const char *commissioner, query_contract_figures *sum) {
    uint8_t prefix[FF_ORG_CODE_BYTES_MAX + 3];
    size_t code_bytes = strlen(commissioner);
    assert(code_bytes <= FF_ORG_CODE_BYTES_MAX);
    uint32_t year = position->financial_year;
    memcpy(prefix, commissioner, code_bytes);
    prefix[code_bytes] = 0;
    prefix[code_bytes + 1] = (uint8_t)(year >> 8), prefix[code_bytes + 2] = (uint8_t)year;
    query_internal_contract_walk walk = {txn, store, position, commissioner, code_bytes + 3, sum};
    return store_each(txn, store, STORE_TABLE_PARTY_CONTRACTS,
                      STORE_SLICE(prefix, code_bytes + 3), query_internal_contract_row, &walk);
}

ff_err query_group_internal_read(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__Position *position,
                                 query_group_internal *out) {
    memset(out, 0, sizeof *out);
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < position->n_included_codes; i++) {
        const char *member = position->included_codes[i];
        err = query_group_transfers(txn, store, position, member, &out->transfers_pence);
        if (err == FF_OK) {
            err = query_group_contracts(txn, store, position, member, &out->contracts);
        }
    }
    return err;
}
