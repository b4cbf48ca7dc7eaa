/* Tests that projections rebuilt from the log are byte-for-byte identical to the live ones, and
 * that verify notices a projection that has drifted from the log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define PRIMARY FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE

/* A ledger touching every projection: organisations, several streams and years, onward budgets,
 * a reversal, refusals and idempotent retries. */
static void varied_history_record(ff_ledger *ledger) {
    test_world_register(ledger);
    Fundflow__V1__Command *commands[] = {
        test_allocation("h1", "X24", "QUE", CORE, TEST_YEAR, 900000000),
        test_allocation("h2", "X24", "QJG", CORE, TEST_YEAR, 700000000),
        test_allocation("h3", "X24", "QUE", PRIMARY, TEST_YEAR, 80000000),
        test_allocation("h4", "X24", "QUE", CORE, TEST_YEAR + 1, 950000000),
        test_budget("h5", "QUE", "06H", CORE, TEST_YEAR, 250000000),
        test_budget("h6", "QJG", "07K", CORE, TEST_YEAR, 150000000),
        test_budget("h7", "QUE", "PC1", PRIMARY, TEST_YEAR, 90000000), /* refused */
        test_budget("h8", "QUE", "PC1", PRIMARY, TEST_YEAR, 30000000),
        test_allocation("h1", "X24", "QUE", CORE, TEST_YEAR, 900000000), /* a retry */
    };
    size_t count = sizeof commands / sizeof commands[0];
    ledger_result results[sizeof commands / sizeof commands[0]];
    assert_int_equal(test_submit_batch(ledger, commands, count, false, results), FF_OK);
    assert_int_equal(results[6].failure.code, FF_ERR_INSUFFICIENT_HEADROOM);
    assert_true(results[8].idempotent_replay);
    assert_int_equal(test_submit(ledger, test_reversal("h9", results[5].sequence, "re-keyed"),
                                 NULL), FF_OK);
}

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    varied_history_record(f->ledger);
    *state = f;
    return 0;
}

static void test_rebuild_is_byte_identical(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    verify_report report;
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    assert_int_equal(report.events_checked, test_head_sequence(f->ledger));
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    /* The dump is not trivially small: every table holds rows. */
    assert_true(before_bytes > 2000);
    free(before);
    free(after);
}

static void test_rebuild_restores_dropped_projections(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    assert_int_equal(store_projections_drop(txn, store), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
    ledger_position position;
    assert_int_equal(ledger_position_read(f->ledger, "QUE", CORE, TEST_YEAR, UINT64_MAX,
                                          &position), FF_ERR_ORG_UNKNOWN);
    verify_report report;
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    assert_int_equal(ledger_position_read(f->ledger, "QUE", CORE, TEST_YEAR, UINT64_MAX,
                                          &position), FF_OK);
    assert_int_equal(position.headroom_pence, 900000000 - 250000000);
    free(before);
    free(after);
}

static void balance_tamper(ff_store *store, const char *org, int64_t extra_debit_pence) {
    account_key key;
    account_key_make(&key, org, TEST_YEAR, CORE, ACCOUNT_PURPOSE_BUDGET);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    account_balance balance;
    assert_int_equal(account_balance_read(txn, store, &key, &balance), FF_OK);
    balance.debits_posted_pence += extra_debit_pence;
    assert_int_equal(store_put(txn, store, STORE_TABLE_BALANCES, STORE_SLICE(&key, sizeof key),
                               STORE_SLICE(&balance, sizeof balance), STORE_PUT_REPLACE), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
}

static void test_verify_catches_a_drifted_balance_and_rebuild_mends_it(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    verify_report report;
    assert_int_equal(verify_projections(store, NULL, &report), FF_OK);
    balance_tamper(store, "QUE", 1);
    assert_int_equal(verify_projections(store, NULL, &report), FF_ERR_PROJECTION_MISMATCH);
    assert_non_null(strstr(report.reason, "balances"));
    assert_true(report.sequence > 7);
    /* The hash chain is untouched: only the derived table drifted. */
    assert_int_equal(verify_chain(store, &report), FF_OK);
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
}

static void test_verify_catches_a_missing_idempotency_entry(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    char key_text[] = "h3";
    assert_int_equal(store_delete(txn, store, STORE_TABLE_IDEMPOTENCY, STORE_SLICE(key_text, 2)),
                     FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_ERR_PROJECTION_MISMATCH);
    assert_non_null(strstr(report.reason, "idempotency"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define REBUILD_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        REBUILD_TEST(test_rebuild_is_byte_identical),
        REBUILD_TEST(test_rebuild_restores_dropped_projections),
        REBUILD_TEST(test_verify_catches_a_drifted_balance_and_rebuild_mends_it),
        REBUILD_TEST(test_verify_catches_a_missing_idempotency_entry),
#undef REBUILD_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
