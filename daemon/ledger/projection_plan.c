/* Plans: a PlanSet's state checks (the organisation is registered, the date falls in the year)
 * and its one write, a new row in the plans table. A plan moves no money, so it posts nothing
 * and has no reverse: a revision is a new PlanSet, and every revision stays in the table. */
#include "projection_plan.h"

#include <assert.h>
#include <string.h>

#include "log.h"
#include "projection_org.h"
#include "projection_rule.h"
#include "projection_table.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static void plan_key(const char *org_code, uint32_t year, uint32_t stream, uint64_t sequence,
                     uint8_t key[PROJECTION_PLAN_KEY_BYTES]) {
    assert(year <= UINT16_MAX && stream <= UINT8_MAX);
    projection_code_pad((char *)key, org_code);
    key[FF_ORG_CODE_BYTES_MAX] = (uint8_t)(year >> 8);
    key[FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)year;
    key[FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)stream;
    log_key_encode(sequence, key + FF_ORG_CODE_BYTES_MAX + 3);
}

/* What every stored plan is: twelve amounts of 0 or more adding up to its total. */
static void plan_assert_valid(const Fundflow__V1__PlanRecord *plan) {
    assert(plan->org_code[0] != '\0' && plan->sequence >= 1);
    assert(plan->n_month_amounts_pence == FF_MONTHS_PER_YEAR);
    int64_t total = 0;
    for (size_t month = 0; month < FF_MONTHS_PER_YEAR; month++) {
        assert(plan->month_amounts_pence[month] >= 0);
        assert(plan->month_amounts_pence[month] <= INT64_MAX - total);
        total += plan->month_amounts_pence[month];
    }
    assert(total == plan->total_pence);
}

ff_err projection_plan_read(store_txn *txn, ff_store *store, const char *org_code, uint32_t year,
                            uint32_t stream, uint64_t as_at_sequence,
                            Fundflow__V1__PlanRecord **plan_out) {
    *plan_out = NULL;
    if (strlen(org_code) > FF_ORG_CODE_BYTES_MAX || year > UINT16_MAX || stream > UINT8_MAX) {
        return FF_ERR_NOT_FOUND;
    }
    uint8_t key[PROJECTION_PLAN_KEY_BYTES];
    plan_key(org_code, year, stream, as_at_sequence == UINT64_MAX ? UINT64_MAX : as_at_sequence + 1,
             key);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_PLANS, &cursor);
    if (err != FF_OK) return err;
    /* The first revision after as_at_sequence, then one back: the revision as at it, if it is
     * this organisation's, year's and stream's. */
    store_slice found = STORE_SLICE(key, sizeof key), value;
    err = store_cursor_move(cursor, STORE_SEEK, &found, &value);
    if (err == FF_OK || err == FF_ERR_NOT_FOUND) {
        err = store_cursor_move(cursor, err == FF_OK ? STORE_PREV : STORE_LAST, &found, &value);
    }
    size_t prefix = sizeof key - LOG_KEY_BYTES;
    if (err == FF_OK && found.bytes == sizeof key && memcmp(found.data, key, prefix) == 0) {
        *plan_out = fundflow__v1__plan_record__unpack(NULL, value.bytes, value.data);
        err = *plan_out ? FF_OK : FF_ERR_STORAGE;
        if (err == FF_OK) plan_assert_valid(*plan_out);
        if (err == FF_OK && as_at_sequence != UINT64_MAX) {
            assert((*plan_out)->sequence <= as_at_sequence);
        }
    } else if (err == FF_OK) {
        err = FF_ERR_NOT_FOUND;
    }
    store_cursor_close(cursor);
    return err;
}

static ff_err projection_plan_set(store_txn *txn, ff_store *store,
                                  const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__PlanSet *event = record->event->plan_set;
    ff_err err = projection_org_exists(txn, store, event->org_code, "org_code", failure);
    if (err == FF_OK) {
        err = projection_date_in_year_check(record->effective_date, event->financial_year,
                                            failure);
    }
    if (err != FF_OK) return err;
    Fundflow__V1__PlanRecord plan = FUNDFLOW__V1__PLAN_RECORD__INIT;
    plan.org_code = event->org_code;
    plan.stream = event->stream;
    plan.financial_year = event->financial_year;
    plan.n_month_amounts_pence = event->n_month_amounts_pence;
    plan.month_amounts_pence = event->month_amounts_pence;
    /* The static check has refused amounts that are negative or overflow together. */
    for (size_t month = 0; month < plan.n_month_amounts_pence; month++) {
        plan.total_pence += plan.month_amounts_pence[month];
    }
    plan.reason = event->reason;
    plan.sequence = record->sequence;
    plan.effective_date = record->effective_date;
    plan_assert_valid(&plan);
    uint8_t key[PROJECTION_PLAN_KEY_BYTES];
    plan_key(plan.org_code, plan.financial_year, (uint32_t)plan.stream, plan.sequence, key);
    err = projection_message_put(txn, store, STORE_TABLE_PLANS, key, sizeof key, &plan.base,
                                 STORE_PUT_NEW);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write the plan");
    err = projection_history_add(txn, store, event->org_code, record->sequence);
    return err ? failure_set(failure, err, NULL, "cannot write the history") : FF_OK;
}

/* No reverse: a plan moves no money, so a Reversal of it is refused as not reversible. */
const projection_event_rule projection_plan_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_PLAN_SET, projection_plan_set, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
