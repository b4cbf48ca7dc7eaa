/* Tests of dry runs (ledger_batch.dry_run): a batch checked exactly as it would be applied, with
 * the same results, yet leaving the head, the log and the projections as they were, and leaving
 * the other batches of a group undisturbed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    *state = f;
    return 0;
}

static void assert_position(ff_ledger *ledger, const char *org, int64_t received,
                            int64_t passed_on) {
    ledger_position position;
    assert_int_equal(ledger_position_read(ledger, org, CORE, TEST_YEAR, UINT64_MAX, &position),
                     FF_OK);
    assert_int_equal(position.received_pence, received);
    assert_int_equal(position.passed_on_pence, passed_on);
}

static log_head head_of(ff_ledger *ledger) {
    log_head head;
    assert_int_equal(ledger_head_read(ledger, &head), FF_OK);
    return head;
}

static void assert_head_unchanged(ff_ledger *ledger, const log_head *before) {
    log_head now = head_of(ledger);
    assert_int_equal(now.sequence, before->sequence);
    assert_memory_equal(now.hash, before->hash, sizeof now.hash);
}

/* Applies commands as one batch, dry or not, and frees them. */
static void batch_run(ff_ledger *ledger, Fundflow__V1__Command **commands, size_t count,
                      bool linked, bool dry_run, ledger_result *results) {
    ledger_batch batch = {.commands = commands, .command_count = count, .linked = linked,
                          .actor = "test", .recorded_at_us = TEST_RECORDED_AT_US,
                          .dry_run = dry_run};
    assert_int_equal(ledger_batch_apply(ledger, &batch, results), FF_OK);
    for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
}

/* QUE receives £10.00, an allocation to the unknown QZZ is refused, and QUE passes £4.00 on to
 * 06H, which it can only do because the first command (in the same batch) gave it the money. */
static void independent_batch_make(Fundflow__V1__Command **commands) {
    commands[0] = test_allocation("d-1", "X24", "QUE", CORE, TEST_YEAR, 1000);
    commands[1] = test_allocation("d-2", "X24", "QZZ", CORE, TEST_YEAR, 1000);
    commands[2] = test_budget("d-3", "QUE", "06H", CORE, TEST_YEAR, 400);
}

static void test_dry_run_answers_as_the_real_run_and_records_nothing(void **state) {
    test_fixture *f = *state;
    log_head before = head_of(f->ledger);
    Fundflow__V1__Command *commands[3];
    ledger_result dry[3], real[3];
    independent_batch_make(commands);
    batch_run(f->ledger, commands, 3, false, true, dry);
    assert_int_equal(dry[0].failure.code, FF_OK);
    assert_int_equal(dry[0].sequence, before.sequence + 1);
    assert_int_equal(dry[1].failure.code, FF_ERR_ORG_UNKNOWN);
    assert_string_equal(dry[1].failure.field, "recipient_code");
    assert_int_equal(dry[2].failure.code, FF_OK);
    assert_int_equal(dry[2].sequence, before.sequence + 2);
    assert_head_unchanged(f->ledger, &before);
    assert_position(f->ledger, "QUE", 0, 0);
    assert_position(f->ledger, "06H", 0, 0);
    /* The keys are still free: the real run records them, with the results the dry run gave. */
    independent_batch_make(commands);
    batch_run(f->ledger, commands, 3, false, false, real);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(real[i].failure.code, dry[i].failure.code);
        assert_int_equal(real[i].sequence, dry[i].sequence);
        assert_false(real[i].idempotent_replay);
    }
    assert_int_equal(head_of(f->ledger).sequence, before.sequence + 2);
    assert_position(f->ledger, "QUE", 1000, 400);
}

/* A linked dry run is refused as the real one would be: £10.00 received, £10.01 passed on. */
static void test_linked_dry_run_is_refused(void **state) {
    test_fixture *f = *state;
    log_head before = head_of(f->ledger);
    Fundflow__V1__Command *commands[] = {
        test_allocation("l-1", "X24", "QUE", CORE, TEST_YEAR, 1000),
        test_budget("l-2", "QUE", "06H", CORE, TEST_YEAR, 1001),
    };
    ledger_result results[2];
    batch_run(f->ledger, commands, 2, true, true, results);
    assert_int_equal(results[0].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_equal(results[1].failure.code, FF_ERR_INSUFFICIENT_HEADROOM);
    assert_head_unchanged(f->ledger, &before);
    assert_position(f->ledger, "QUE", 0, 0);
}

/* A command already recorded is reported as a replay of its event, and a changed one under the
 * same key as a conflict, exactly as a real submission would hear. */
static void test_dry_run_reports_idempotent_replays(void **state) {
    test_fixture *f = *state;
    ledger_result first;
    assert_int_equal(test_submit(f->ledger, test_allocation("r-1", "X24", "QUE", CORE, TEST_YEAR,
                                                            700), &first), FF_OK);
    log_head before = head_of(f->ledger);
    Fundflow__V1__Command *commands[] = {
        test_allocation("r-1", "X24", "QUE", CORE, TEST_YEAR, 700),
        test_allocation("r-1", "X24", "QUE", CORE, TEST_YEAR, 701),
        test_allocation("r-2", "X24", "QUE", CORE, TEST_YEAR, 300),
    };
    ledger_result results[3];
    batch_run(f->ledger, commands, 3, false, true, results);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_true(results[0].idempotent_replay);
    assert_int_equal(results[0].sequence, first.sequence);
    assert_int_equal(results[1].failure.code, FF_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(results[2].failure.code, FF_OK);
    assert_false(results[2].idempotent_replay);
    assert_int_equal(results[2].sequence, before.sequence + 1);
    assert_head_unchanged(f->ledger, &before);
    assert_position(f->ledger, "QUE", 700, 0);
}

/* A dry run between two real batches of one group: the first lands at head+1, the dry run
 * would have recorded head+2, and the third lands at head+2 as if the dry run were absent. */
static void test_dry_run_in_a_group_leaves_its_neighbours_alone(void **state) {
    test_fixture *f = *state;
    uint64_t head = head_of(f->ledger).sequence;
    Fundflow__V1__Command *first[] = {test_allocation("g-1", "X24", "QUE", CORE, TEST_YEAR, 900)};
    Fundflow__V1__Command *dry[] = {test_allocation("g-2", "X24", "QJG", CORE, TEST_YEAR, 50)};
    Fundflow__V1__Command *third[] = {test_budget("g-3", "QUE", "06H", CORE, TEST_YEAR, 300)};
    ledger_batch batches[] = {
        {.commands = first, .command_count = 1, .actor = "client-1"},
        {.commands = dry, .command_count = 1, .actor = "client-2", .dry_run = true},
        {.commands = third, .command_count = 1, .actor = "client-3"},
    };
    ledger_result first_results[1], dry_results[1], third_results[1];
    ledger_result *const results[] = {first_results, dry_results, third_results};
    assert_int_equal(ledger_batches_apply(f->ledger, batches, 3, results), FF_OK);
    assert_int_equal(first_results[0].failure.code, FF_OK);
    assert_int_equal(first_results[0].sequence, head + 1);
    assert_int_equal(dry_results[0].failure.code, FF_OK);
    assert_int_equal(dry_results[0].sequence, head + 2);
    assert_int_equal(third_results[0].failure.code, FF_OK);
    assert_int_equal(third_results[0].sequence, head + 2);
    assert_int_equal(head_of(f->ledger).sequence, head + 2);
    assert_position(f->ledger, "QUE", 900, 300);
    assert_position(f->ledger, "QJG", 0, 0);
    test_command_free(first[0]), test_command_free(dry[0]), test_command_free(third[0]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define DRY_RUN_TEST(name)                                                                     \
    cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        DRY_RUN_TEST(test_dry_run_answers_as_the_real_run_and_records_nothing),
        DRY_RUN_TEST(test_linked_dry_run_is_refused),
        DRY_RUN_TEST(test_dry_run_reports_idempotent_replays),
        DRY_RUN_TEST(test_dry_run_in_a_group_leaves_its_neighbours_alone),
#undef DRY_RUN_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
