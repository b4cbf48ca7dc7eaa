/* The month end: agreement-of-balances statements between two bodies, and period closes, after
 * which nothing dated in the month may post to the organisation. */
#include "projection_rule.h"

#include <assert.h>
#include <string.h>

#include "log.h"
#include "projection_org.h"
#include "projection_table.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err projection_statement_submit(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__EventRecord *record,
                                          ff_failure *failure) {
    const Fundflow__V1__StatementSubmitted *statement = record->event->statement_submitted;
    ff_err err = projection_org_exists(txn, store, statement->org_code, "org_code", failure);
    if (err == FF_OK) {
        err = projection_org_exists(txn, store, statement->counterparty_code, "counterparty_code",
                                    failure);
    }
    if (err != FF_OK) return err;
    uint8_t key[2 * FF_ORG_CODE_BYTES_MAX + 4];
    projection_code_pad((char *)key, statement->org_code);
    projection_code_pad((char *)key + FF_ORG_CODE_BYTES_MAX, statement->counterparty_code);
    key[2 * FF_ORG_CODE_BYTES_MAX] = (uint8_t)(statement->financial_year >> 8);
    key[2 * FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)statement->financial_year;
    key[2 * FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)statement->month;
    key[2 * FF_ORG_CODE_BYTES_MAX + 3] = (uint8_t)statement->kind;
    /* The latest statement for a period and kind replaces earlier ones; the log keeps them all. */
    int64_t stored[2] = {statement->amount_pence, (int64_t)record->sequence};
    assert(stored[0] >= 0 && stored[1] >= 1);
    err = ledger_put(txn, store, STORE_TABLE_STATEMENTS, STORE_SLICE(key, sizeof key),
                     STORE_SLICE(stored, sizeof stored), STORE_PUT_REPLACE);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write");
    const char *names[] = {statement->org_code, statement->counterparty_code};
    return projection_history_add_names(txn, store, names, 2, record->sequence, failure);
}

static ff_err projection_period_close(store_txn *txn, ff_store *store,
                                      const Fundflow__V1__EventRecord *record,
                                      ff_failure *failure) {
    const Fundflow__V1__PeriodClosed *period = record->event->period_closed;
    ff_err err = projection_org_exists(txn, store, period->org_code, "org_code", failure);
    if (err != FF_OK) return err;
    assert(record->sequence >= 1);
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 3], sequence[LOG_KEY_BYTES];
    log_key_encode(record->sequence, sequence);
    size_t key_bytes = projection_period_key(period->org_code, period->financial_year,
                                             period->month, key);
    err = ledger_put(txn, store, STORE_TABLE_PERIODS, STORE_SLICE(key, key_bytes),
                     STORE_SLICE(sequence, sizeof sequence), STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_PERIOD_ALREADY_CLOSED, "month",
                           "M%u of %u/%02u is already closed for %s", period->month,
                           period->financial_year, (period->financial_year + 1) % 100,
                           period->org_code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write");
    err = projection_history_add(txn, store, period->org_code, record->sequence);
    return err ? failure_set(failure, err, NULL, "cannot write the history") : FF_OK;
}

const projection_event_rule projection_period_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED, projection_statement_submit, NULL},
    {FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED, projection_period_close, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
