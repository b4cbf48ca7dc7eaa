/* Fault injection: a storage failure at every write of a batch in turn must leave the ledger
 * exactly as it was, and a map that fills at any write must be grown and the batch retried. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

/* The bound on the fault loop: far more writes than the batch makes. */
enum { FAULT_CALLS_MAX = 400, FAULT_BATCH_COMMANDS = 6 };

static size_t fault_batch_make(Fundflow__V1__Command **commands) {
    commands[0] = test_allocation("f-a", "X24", "QUE", CORE, TEST_YEAR, 500000);
    commands[1] = test_budget("f-b", "QUE", "06H", CORE, TEST_YEAR, 200000);
    commands[2] = test_allocation("f-bad", "X24", "QZZ", CORE, TEST_YEAR, 1);
    commands[3] = test_reversal("f-r", 8, "reversing the earlier allocation");
    commands[4] = test_org("f-o", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST, "");
    commands[5] = test_allocation("f-c", "X24", "QJG", CORE, TEST_YEAR, 700000);
    return FAULT_BATCH_COMMANDS;
}

/* The world, plus event 8: an allocation the batch's reversal can reverse. */
static test_fixture *fault_fixture_open(void) {
    test_fixture *fixture = test_fixture_open();
    test_world_register(fixture->ledger);
    assert_int_equal(test_submit(fixture->ledger, test_allocation("f-first", "X24", "QUE", CORE,
                                                                  TEST_YEAR, 1000), NULL), FF_OK);
    return fixture;
}

static void fault_results_check_committed(const ledger_result *results) {
    for (size_t i = 0; i < FAULT_BATCH_COMMANDS; i++) {
        ff_err expected = i == 2 ? FF_ERR_ORG_UNKNOWN : FF_OK;
        assert_int_equal(results[i].failure.code, expected);
    }
}

static void test_a_storage_fault_at_any_write_leaves_no_trace(void **state) {
    (void)state;
    test_fixture *fixture = fault_fixture_open();
    ff_ledger *ledger = fixture->ledger;
    uint64_t head = test_head_sequence(ledger);
    uint8_t *before = NULL;
    size_t before_bytes = 0;
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    Fundflow__V1__Command *commands[FAULT_BATCH_COMMANDS];
    ledger_result results[FAULT_BATCH_COMMANDS];
    uint64_t nth = 1;
    for (; nth <= FAULT_CALLS_MAX; nth++) {
        size_t count = fault_batch_make(commands);
        store_fault_inject(STORE_FAULT_WRITES, nth, FF_ERR_STORAGE, true);
        ff_err err = test_submit_batch(ledger, commands, count, false, results);
        store_fault_clear();
        if (err == FF_OK) break;
        assert_int_equal(err, FF_ERR_STORAGE);
        assert_int_equal(results[0].failure.code, FF_ERR_STORAGE);
        assert_int_equal(test_head_sequence(ledger), head);
        uint8_t *after = NULL;
        size_t after_bytes = 0;
        test_projections_dump(ledger_store(ledger), &after, &after_bytes);
        assert_int_equal(before_bytes, after_bytes);
        assert_memory_equal(before, after, before_bytes);
        free(after);
    }
    /* The batch makes dozens of writes; each was failed in turn before one run got through. */
    print_message("the batch landed once its first %llu writes had each been failed in turn\n",
                  (unsigned long long)(nth - 1));
    assert_true(nth > 20 && nth <= FAULT_CALLS_MAX);
    fault_results_check_committed(results);
    assert_int_equal(test_head_sequence(ledger), head + 5);
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
    free(before);
    test_fixture_teardown((void **)&fixture);
}

static void test_a_full_map_at_any_write_is_grown_and_retried(void **state) {
    (void)state;
    for (uint64_t nth = 1; nth <= 40; nth += 3) {
        test_fixture *fixture = fault_fixture_open();
        ff_ledger *ledger = fixture->ledger;
        uint64_t head = test_head_sequence(ledger);
        uint64_t map_before = store_map_bytes(ledger_store(ledger));
        Fundflow__V1__Command *commands[FAULT_BATCH_COMMANDS];
        ledger_result results[FAULT_BATCH_COMMANDS];
        size_t count = fault_batch_make(commands);
        store_fault_inject(STORE_FAULT_WRITES, nth, FF_ERR_MAP_LIMIT, false);
        assert_int_equal(test_submit_batch(ledger, commands, count, false, results), FF_OK);
        store_fault_clear();
        fault_results_check_committed(results);
        assert_int_equal(test_head_sequence(ledger), head + 5);
        assert_int_equal(ledger_map_growth_count(ledger), 1);
        assert_int_equal(store_map_bytes(ledger_store(ledger)), map_before * 2);
        verify_report report;
        assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
        test_fixture_teardown((void **)&fixture);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_storage_fault_at_any_write_leaves_no_trace),
        cmocka_unit_test(test_a_full_map_at_any_write_is_grown_and_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
