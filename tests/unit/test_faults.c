/* Fault injection: a storage failure (or a full disk) at every write, or every read, of a batch
 * in turn must leave the ledger exactly as it was; a map that fills at any write must be grown
 * and the batch retried; and a read that fails while verifying must make verification fail,
 * never pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

/* The bound on the fault loop: far more writes than the batch makes. */
enum { FAULT_CALLS_MAX = 1000, FAULT_BATCH_COMMANDS = 6 };

static size_t fault_batch_make(Fundflow__V1__Command **commands) {
    commands[0] = test_allocation("f-a", "X24", "QUE", CORE, TEST_YEAR, 500000);
    commands[1] = test_budget("f-b", "QUE", "06H", CORE, TEST_YEAR, 200000);
    commands[2] = test_allocation("f-bad", "X24", "QZZ", CORE, TEST_YEAR, 1);
    commands[3] = test_reversal("f-r", TEST_WORLD_EVENTS + 1, "reversing the earlier allocation");
    commands[4] = test_org("f-o", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST, "");
    commands[5] = test_allocation("f-c", "X24", "QJG", CORE, TEST_YEAR, 700000);
    return FAULT_BATCH_COMMANDS;
}

/* The world, plus event TEST_WORLD_EVENTS + 1: an allocation the batch's reversal can reverse. */
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

/* Checks that the ledger is as it was before a batch that failed: the same head and the same bytes
 * in every projection table. */
static void fault_no_trace_check(ff_ledger *ledger, uint64_t head, const uint8_t *before,
                                 size_t before_bytes) {
    assert_int_equal(test_head_sequence(ledger), head);
    uint8_t *after = NULL;
    size_t after_bytes = 0;
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(after);
}

/* Fails the batch at its first write, then its second, and so on, with fault, until a run gets
 * through; each failed run must fail whole with fault and leave no trace. */
static void fault_every_write_check(ff_err fault) {
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
        store_fault_inject(STORE_FAULT_WRITES, nth, fault, true);
        ff_err err = test_submit_batch(ledger, commands, count, false, results);
        store_fault_clear();
        if (err == FF_OK) break;
        assert_int_equal(err, fault);
        assert_int_equal(results[0].failure.code, fault);
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

static void test_a_storage_fault_at_any_write_leaves_no_trace(void **state) {
    (void)state;
    fault_every_write_check(FF_ERR_STORAGE);
}

/* A full disk is fatal to the group as a storage fault is, whichever write meets it. */
static void test_storage_full_at_any_write_fails_the_batch_whole_and_leaves_no_trace(void **state) {
    (void)state;
    fault_every_write_check(FF_ERR_STORAGE_FULL);
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

/* A second batch, of the domain's events: a trust, an allocation, a service line and its
 * delegation, an outcome-based contract, a payment, an outcome, the payment's reversal, a
 * period close and the delegation's revocation. Every one of them is recorded. */
enum { FAULT_DOMAIN_COMMANDS = 10, FAULT_COMMANDS_MAX = 10 };

static size_t fault_domain_batch_make(Fundflow__V1__Command **commands) {
    commands[0] = test_org("g-t", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                           "QUE");
    commands[1] = test_allocation("g-a", "X24", "QUE", CORE, TEST_YEAR, 500000);
    commands[2] = test_service_line("g-l", "SL01", false);
    commands[3] = test_delegation("g-d", "D-QUE-1", "QUE", "SL01", "QUE",
                                  FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL, 20240401, 0);
    commands[4] = test_contract("g-c", "C1", "QUE", "RGT",
                                FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED, CORE, 100000, 10000,
                                "MA:6000,MB:4000");
    commands[5] = test_payment("g-p", "C1", 1, 20000);
    commands[6] = test_outcome("g-o", "C1", "MA", 5000);
    commands[7] = test_reversal("g-r", TEST_WORLD_EVENTS + 7, "paid in error");
    commands[8] = test_period("g-m", "06H", 1);
    commands[9] = test_revocation("g-v", "D-QUE-1", 20250331);
    return FAULT_DOMAIN_COMMANDS;
}

/* A batch a sweep submits again and again, and what it records when it lands. */
typedef struct fault_batch {
    size_t (*make)(Fundflow__V1__Command **commands);
    uint64_t events_recorded;
    ff_err refused_code; /* the code of the one refused command, or FF_OK */
    size_t refused_index;
} fault_batch;

static const fault_batch fault_core_batch = {fault_batch_make, 5, FF_ERR_ORG_UNKNOWN, 2};
static const fault_batch fault_domain_batch = {fault_domain_batch_make, FAULT_DOMAIN_COMMANDS,
                                               FF_OK, 0};

static void fault_batch_check_committed(const fault_batch *batch, const ledger_result *results,
                                        size_t count) {
    for (size_t i = 0; i < count; i++) {
        bool refused = batch->refused_code != FF_OK && i == batch->refused_index;
        if (!refused && results[i].failure.code != FF_OK) {
            fail_msg("command %zu: %s: %s", i, ff_err_name(results[i].failure.code),
                     results[i].failure.detail);
        }
        assert_int_equal(results[i].failure.code, refused ? batch->refused_code : FF_OK);
    }
}

/* Fails the batch's reads from the nth on (persistent) or its nth read alone (not persistent).
 * Returns true once a run got through without the fault firing, which ends the sweep. */
static bool fault_read_run(ff_ledger *ledger, const fault_batch *batch, uint64_t nth,
                           bool persistent, uint64_t head, const uint8_t *before,
                           size_t before_bytes) {
    Fundflow__V1__Command *commands[FAULT_COMMANDS_MAX];
    ledger_result results[FAULT_COMMANDS_MAX];
    size_t count = batch->make(commands);
    store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, persistent);
    ff_err err = test_submit_batch(ledger, commands, count, false, results);
    bool fired = !store_fault_pending() || persistent;
    store_fault_clear();
    if (err == FF_OK) {
        /* Whatever read failed, a batch that committed must have done exactly its work. */
        fault_batch_check_committed(batch, results, count);
        assert_int_equal(test_head_sequence(ledger), head + batch->events_recorded);
        return !fired || persistent;
    }
    assert_true(fired);
    assert_int_equal(err, FF_ERR_STORAGE);
    for (size_t i = 0; i < count; i++) assert_int_equal(results[i].failure.code, FF_ERR_STORAGE);
    fault_no_trace_check(ledger, head, before, before_bytes);
    return false;
}

/* Sweeps a read fault over every read of the batch in turn; returns how many reads failed it. */
static uint64_t fault_read_sweep(const fault_batch *batch, bool persistent) {
    test_fixture *fixture = fault_fixture_open();
    ff_ledger *ledger = fixture->ledger;
    uint64_t head = test_head_sequence(ledger);
    uint8_t *before = NULL;
    size_t before_bytes = 0;
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    uint64_t nth = 1;
    while (nth <= FAULT_CALLS_MAX &&
           !fault_read_run(ledger, batch, nth, persistent, head, before, before_bytes)) {
        nth++;
    }
    assert_true(nth <= FAULT_CALLS_MAX);
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
    free(before);
    test_fixture_teardown((void **)&fixture);
    return nth - 1;
}

static void test_a_storage_fault_at_any_read_leaves_no_trace(void **state) {
    (void)state;
    uint64_t reads = fault_read_sweep(&fault_core_batch, true);
    /* Reads begin the transaction, find the head, look up keys, organisations and balances: each
     * of them was failed in turn, from the first on, before a run got through. */
    print_message("the batch landed once its first %llu reads had each been failed in turn\n",
                  (unsigned long long)reads);
    assert_true(reads > 20);
}

static void test_a_single_failed_read_anywhere_fails_the_batch_or_changes_nothing(void **state) {
    (void)state;
    /* With one read failed and the rest answered, no failure may pass for an answer: the batch
     * either fails whole or commits exactly what it would have. */
    uint64_t reads = fault_read_sweep(&fault_core_batch, false);
    assert_true(reads > 20);
}

static void test_a_storage_fault_at_any_read_of_the_domain_leaves_no_trace(void **state) {
    (void)state;
    /* Delegations are found by walking their table, contracts by seeking their states: failing
     * any of those reads must fail the batch, never pass for "none there". */
    uint64_t reads = fault_read_sweep(&fault_domain_batch, true);
    print_message("the domain batch landed once its first %llu reads had each been failed\n",
                  (unsigned long long)reads);
    assert_true(reads > 50);
    assert_true(fault_read_sweep(&fault_domain_batch, false) == reads);
}

/* The reads a verification makes: of the ledger's log and tables, and of its scratch replay. */
enum { FAULT_VERIFY_READS_MAX = 4000 };

static void test_a_failed_read_while_verifying_is_an_error_not_a_pass(void **state) {
    (void)state;
    test_fixture *fixture = fault_fixture_open();
    ff_store *store = ledger_store(fixture->ledger);
    verify_report report;
    uint64_t nth = 1;
    for (; nth <= FAULT_VERIFY_READS_MAX; nth++) {
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = verify_ledger(store, NULL, &report);
        bool fired = !store_fault_pending();
        store_fault_clear();
        if (!fired) {
            assert_int_equal(err, FF_OK);
            break;
        }
        assert_int_equal(err, FF_ERR_STORAGE);
        assert_int_equal(report.code, FF_ERR_STORAGE);
        assert_true(strlen(report.reason) > 0);
    }
    print_message("verification failed at each of its %llu reads in turn\n",
                  (unsigned long long)(nth - 1));
    assert_true(nth > 20 && nth <= FAULT_VERIFY_READS_MAX);
    test_fixture_teardown((void **)&fixture);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_storage_fault_at_any_write_leaves_no_trace),
        cmocka_unit_test(test_storage_full_at_any_write_fails_the_batch_whole_and_leaves_no_trace),
        cmocka_unit_test(test_a_full_map_at_any_write_is_grown_and_retried),
        cmocka_unit_test(test_a_storage_fault_at_any_read_leaves_no_trace),
        cmocka_unit_test(test_a_single_failed_read_anywhere_fails_the_batch_or_changes_nothing),
        cmocka_unit_test(test_a_storage_fault_at_any_read_of_the_domain_leaves_no_trace),
        cmocka_unit_test(test_a_failed_read_while_verifying_is_an_error_not_a_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
