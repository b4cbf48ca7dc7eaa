/* NHS England's revenue limits: setting or varying the limit for a stream and year posts the
 * difference from the limit as it stood into NHS England's budget, so its allocations meet the
 * same headroom rule as any other body's budget passed on.
 *
 *     limit raised by D:   debit NHSE BUDGET D,   credit NHSE RECEIVED D
 *     limit lowered by D:  debit NHSE RECEIVED D, credit NHSE BUDGET D  (refused below allocated)
 *
 * NHS England's RECEIVED is therefore its limit, ONWARD what it has allocated, and BUDGET the
 * headroom left. revenue_limits keeps each limit as it stands, keyed by
 * year (2 bytes big-endian) ++ stream (1 byte) ++ NHS England's code (12 bytes, space padded). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "projection_org.h"
#include "projection_rule.h"
#include "projection_table.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "ledger_write.h"

typedef struct revenue_limit_record {
    int64_t limit_pence;
    uint64_t sequence; /* the event that set it */
} revenue_limit_record;
static_assert(sizeof(revenue_limit_record) == 16, "revenue_limit_record is stored as is");

typedef struct revenue_limit_key {
    uint8_t year_big_endian[2];
    uint8_t stream;
    char funder_code[FF_ORG_CODE_BYTES_MAX];
} revenue_limit_key;
static_assert(sizeof(revenue_limit_key) == 3 + FF_ORG_CODE_BYTES_MAX, "no padding in the key");

static const org_kind projection_limit_funders[] = {FUNDFLOW__V1__ORG_KIND__NHSE, 0};

static void revenue_limit_key_make(revenue_limit_key *key,
                                   const Fundflow__V1__RevenueLimitSet *limit) {
    assert(limit->financial_year <= UINT16_MAX && (uint32_t)limit->stream <= UINT8_MAX);
    key->year_big_endian[0] = (uint8_t)(limit->financial_year >> 8);
    key->year_big_endian[1] = (uint8_t)(limit->financial_year & 0xFF);
    key->stream = (uint8_t)limit->stream;
    projection_code_pad(key->funder_code, limit->funder_code);
}

/* The limit as it stands before this event: 0 when none was ever set. */
static ff_err revenue_limit_read(store_txn *txn, ff_store *store, const revenue_limit_key *key,
                                 int64_t *limit_out, ff_failure *failure) {
    *limit_out = 0;
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_REVENUE_LIMITS, STORE_SLICE(key, sizeof *key),
                           &value);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err == FF_OK && value.bytes != sizeof(revenue_limit_record)) err = FF_ERR_STORAGE;
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read revenue_limits");
    revenue_limit_record record;
    memcpy(&record, value.data, sizeof record);
    assert(record.limit_pence >= 0 && record.sequence >= 1);
    *limit_out = record.limit_pence;
    return FF_OK;
}

static ff_err revenue_limit_write(store_txn *txn, ff_store *store, const revenue_limit_key *key,
                                  int64_t limit_pence, uint64_t sequence, ff_failure *failure) {
    assert(limit_pence >= 0 && sequence >= 1);
    revenue_limit_record record;
    memset(&record, 0, sizeof record);
    record.limit_pence = limit_pence;
    record.sequence = sequence;
    ff_err err = ledger_put(txn, store, STORE_TABLE_REVENUE_LIMITS, STORE_SLICE(key, sizeof *key),
                            STORE_SLICE(&record, sizeof record), STORE_PUT_REPLACE);
    return err != FF_OK ? failure_set(failure, err, NULL, "cannot write revenue_limits") : FF_OK;
}

/* Refuses a lower limit that would leave less than NHS England has already allocated, naming
 * what is allocated and the headroom left, as any refusal for headroom does. */
static ff_err revenue_limit_lowering_check(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__RevenueLimitSet *limit,
                                           int64_t current_pence, ff_failure *failure) {
    int64_t decrease = current_pence - limit->limit_pence; /* both in 0..INT64_MAX */
    if (decrease <= 0) return FF_OK;
    account_key budget;
    account_balance balance;
    int64_t headroom = 0;
    account_key_make(&budget, limit->funder_code, limit->financial_year, (uint32_t)limit->stream,
                     ACCOUNT_PURPOSE_BUDGET);
    ff_err err = account_balance_read(txn, store, &budget, &balance);
    if (err == FF_OK) err = account_balance_net(&budget, &balance, &headroom);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read NHS England's budget");
    if (decrease <= headroom) return FF_OK;
    char year[CALENDAR_YEAR_TEXT_BYTES], from[FF_MONEY_TEXT_BYTES], to[FF_MONEY_TEXT_BYTES];
    char allocated[FF_MONEY_TEXT_BYTES], left[FF_MONEY_TEXT_BYTES];
    calendar_year_format(limit->financial_year, year, sizeof year);
    money_format(current_pence, from, sizeof from);
    money_format(limit->limit_pence, to, sizeof to);
    money_format(current_pence - headroom, allocated, sizeof allocated);
    money_format(headroom, left, sizeof left);
    account_key_describe(&budget, failure->account, sizeof failure->account);
    failure->headroom_pence = headroom;
    return failure_set(failure, FF_ERR_INSUFFICIENT_HEADROOM, "limit_pence",
                       "the %s revenue limit cannot fall from %s to %s: %s of it is allocated, "
                       "leaving headroom of %s in %s",
                       year, from, to, allocated, left, failure->account);
}

/* The two legs that move the limit from current_pence to the event's limit; none if equal. */
static size_t revenue_limit_postings(const Fundflow__V1__RevenueLimitSet *limit,
                                     int64_t current_pence, posting *postings) {
    int64_t change = limit->limit_pence - current_pence; /* both in 0..INT64_MAX: no overflow */
    if (change == 0) return 0;
    int64_t size = change > 0 ? change : -change;
    memset(postings, 0, 2 * sizeof *postings);
    account_key_make(&postings[0].account, limit->funder_code, limit->financial_year,
                     (uint32_t)limit->stream, ACCOUNT_PURPOSE_BUDGET);
    account_key_make(&postings[1].account, limit->funder_code, limit->financial_year,
                     (uint32_t)limit->stream, ACCOUNT_PURPOSE_RECEIVED);
    postings[change > 0 ? 0 : 1].debit_pence = size;
    postings[change > 0 ? 1 : 0].credit_pence = size;
    return 2;
}

static ff_err projection_limit_set(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__RevenueLimitSet *limit = record->event->revenue_limit_set;
    assert(limit->limit_pence >= 0); /* the static check refuses a negative limit */
    Fundflow__V1__OrgRecord *funder = NULL;
    ff_err err = projection_party_read(txn, store, limit->funder_code, "funder_code",
                                       projection_limit_funders, &funder, failure);
    if (funder) fundflow__v1__org_record__free_unpacked(funder, NULL);
    if (err == FF_OK) {
        err = projection_date_in_year_check(record->effective_date, limit->financial_year,
                                            failure);
    }
    revenue_limit_key key;
    memset(&key, 0, sizeof key);
    revenue_limit_key_make(&key, limit);
    int64_t current = 0;
    if (err == FF_OK) err = revenue_limit_read(txn, store, &key, &current, failure);
    if (err == FF_OK) err = revenue_limit_lowering_check(txn, store, limit, current, failure);
    if (err != FF_OK) return err;
    posting postings[2];
    size_t posting_count = revenue_limit_postings(limit, current, postings);
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 posting_count, failure);
    if (err == FF_OK) {
        err = revenue_limit_write(txn, store, &key, limit->limit_pence, record->sequence, failure);
    }
    if (err != FF_OK) return err;
    err = projection_history_add(txn, store, limit->funder_code, record->sequence);
    return err != FF_OK ? failure_set(failure, err, NULL, "cannot write the history") : FF_OK;
}

/* A limit set later would be left standing on a difference that no longer holds, so a limit is
 * corrected by setting it again instead. */
static ff_err projection_limit_reverse(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__EventRecord *record,
                                       const Fundflow__V1__EventRecord *target,
                                       ff_failure *failure) {
    (void)txn;
    (void)store;
    (void)record;
    return failure_set(failure, FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence",
                       "event %llu sets a revenue limit; correct it by setting the limit again",
                       (unsigned long long)target->sequence);
}

const projection_event_rule projection_limit_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET, projection_limit_set, projection_limit_reverse},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
