/* Tests of the ledger's accounting: balances worked out by hand, as-at reads, refusals that
 * leave no trace, idempotency, and batches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "fundflow/limits.h"
#include "ledger.h"
#include "projection_org.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define W TEST_WORLD_EVENTS

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    *state = f;
    return 0;
}

static ledger_position position_of(ff_ledger *ledger, const char *org, uint64_t as_at) {
    ledger_position position;
    assert_int_equal(ledger_position_read(ledger, org, CORE, TEST_YEAR, as_at, &position), FF_OK);
    return position;
}

static void assert_position(ff_ledger *ledger, const char *org, uint64_t as_at,
                            int64_t received, int64_t passed_on, int64_t headroom) {
    ledger_position position = position_of(ledger, org, as_at);
    assert_int_equal(position.received_pence, received);
    assert_int_equal(position.passed_on_pence, passed_on);
    assert_int_equal(position.headroom_pence, headroom);
}

/* Events W+1 to W+7 of the worked example; the world takes 1 to W (TEST_WORLD_EVENTS). */
static void worked_example_record(ff_ledger *ledger) {
    assert_int_equal(test_submit(ledger, test_allocation("a8", "X24", "QUE", CORE, TEST_YEAR,
                                                         100000000), NULL), FF_OK);
    assert_int_equal(test_submit(ledger, test_allocation("a9", "X24", "QJG", CORE, TEST_YEAR,
                                                         50000000), NULL), FF_OK);
    assert_int_equal(test_submit(ledger, test_budget("b10", "QUE", "06H", CORE, TEST_YEAR,
                                                     30000000), NULL), FF_OK);
    assert_int_equal(test_submit(ledger, test_allocation("a11", "X24", "QUE", CORE, TEST_YEAR,
                                                         25000050), NULL), FF_OK);
    assert_int_equal(test_submit(ledger, test_budget("b12", "QUE", "PC1", CORE, TEST_YEAR,
                                                     10000000), NULL), FF_OK);
    assert_int_equal(test_submit(ledger, test_reversal("r13", W + 4, "top-up withdrawn"), NULL),
                     FF_OK);
    assert_int_equal(test_submit(ledger, test_budget("b14", "QUE", "06H", CORE, TEST_YEAR,
                                                     5000025), NULL), FF_OK);
    assert_int_equal(test_head_sequence(ledger), W + 7);
}

/* QUE receives £1,000,000.00 (W+1) and a £250,000.50 top-up (W+4) that is then reversed (W+6). It
 * passes on £300,000.00 (W+3) and £50,000.25 (W+7) to place 06H and £100,000.00 to PC1 (W+5). So
 * QUE has received 100,000,000p, passed on 30,000,000 + 10,000,000 + 5,000,025 = 45,000,025p,
 * and holds 100,000,000 - 45,000,025 = 54,999,975p. */
static void test_balances_worked_by_hand(void **state) {
    test_fixture *f = *state;
    worked_example_record(f->ledger);
    assert_position(f->ledger, "QUE", UINT64_MAX, 100000000, 45000025, 54999975);
    assert_position(f->ledger, "06H", UINT64_MAX, 35000025, 0, 35000025);
    assert_position(f->ledger, "PC1", UINT64_MAX, 10000000, 0, 10000000);
    assert_position(f->ledger, "QJG", UINT64_MAX, 50000000, 0, 50000000);
    /* NHSE has allocated 100,000,000 + 50,000,000 + 25,000,050 - 25,000,050 = 150,000,000p of
     * its TEST_WORLD_LIMIT_PENCE limit (received), leaving that less 150,000,000p as headroom. */
    ledger_position nhse = position_of(f->ledger, "X24", UINT64_MAX);
    assert_int_equal(nhse.funding_drawn_pence, 0);
    assert_int_equal(nhse.received_pence, TEST_WORLD_LIMIT_PENCE);
    assert_int_equal(nhse.passed_on_pence, 150000000);
    assert_int_equal(nhse.headroom_pence, TEST_WORLD_LIMIT_PENCE - 150000000);
    assert_int_equal(nhse.as_at_sequence, W + 7);
}

static void test_balances_as_at_earlier_sequences(void **state) {
    test_fixture *f = *state;
    worked_example_record(f->ledger);
    assert_position(f->ledger, "QUE", W, 0, 0, 0);
    assert_position(f->ledger, "QUE", W + 1, 100000000, 0, 100000000);
    assert_position(f->ledger, "QUE", W + 2, 100000000, 0, 100000000);
    assert_position(f->ledger, "QUE", W + 3, 100000000, 30000000, 70000000);
    /* With the top-up: 125,000,050 received less 30,000,000 passed on. */
    assert_position(f->ledger, "QUE", W + 4, 125000050, 30000000, 95000050);
    assert_position(f->ledger, "QUE", W + 5, 125000050, 40000000, 85000050);
    assert_position(f->ledger, "QUE", W + 6, 100000000, 40000000, 60000000);
    assert_position(f->ledger, "06H", W + 6, 30000000, 0, 30000000);
    assert_int_equal(position_of(f->ledger, "QUE", W + 5).as_at_sequence, W + 5);
    assert_int_equal(position_of(f->ledger, "QUE", 1000).as_at_sequence, W + 7);
}

static void assert_refused_without_trace(ff_ledger *ledger, Fundflow__V1__Command *command,
                                         ff_err expected, const char *field) {
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    uint64_t head_before = test_head_sequence(ledger);
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    ledger_result result;
    assert_int_equal(test_submit(ledger, command, &result), expected);
    if (field) assert_string_equal(result.failure.field, field);
    assert_true(strlen(result.failure.detail) > 0);
    assert_int_equal(result.sequence, 0);
    assert_int_equal(test_head_sequence(ledger), head_before);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
}

static void test_over_allocation_refused_and_leaves_no_trace(void **state) {
    test_fixture *f = *state;
    worked_example_record(f->ledger);
    ledger_result result;
    uint64_t head = test_head_sequence(f->ledger);
    assert_int_equal(test_submit(f->ledger, test_budget("over", "QUE", "06H", CORE, TEST_YEAR,
                                                        54999976), &result),
                     FF_ERR_INSUFFICIENT_HEADROOM);
    assert_string_equal(result.failure.field, "amount_pence");
    assert_int_equal(result.failure.headroom_pence, 54999975);
    assert_string_equal(result.failure.account, "QUE 2024/25 CORE_SERVICES budget");
    assert_non_null(strstr(result.failure.detail, "£549,999.75"));
    assert_int_equal(test_head_sequence(f->ledger), head);
    assert_refused_without_trace(f->ledger, test_budget("over2", "QUE", "06H", CORE, TEST_YEAR,
                                                        54999976),
                                 FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence");
    assert_position(f->ledger, "QUE", UINT64_MAX, 100000000, 45000025, 54999975);
    /* Exactly the headroom is allowed and leaves nothing. */
    assert_int_equal(test_submit(f->ledger, test_budget("exact", "QUE", "06H", CORE, TEST_YEAR,
                                                        54999975), NULL), FF_OK);
    assert_position(f->ledger, "QUE", UINT64_MAX, 100000000, 100000000, 0);
    /* Reversing the £1m allocation would take QUE below zero, so it is refused too. */
    assert_refused_without_trace(f->ledger, test_reversal("rev8", W + 1, "withdrawn"),
                                 FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence");
}

static void test_refusals_name_the_field_and_leave_no_trace(void **state) {
    test_fixture *f = *state;
    worked_example_record(f->ledger);
    ff_ledger *l = f->ledger;
    assert_refused_without_trace(l, test_org("dup", "QUE", "Again", FUNDFLOW__V1__ORG_KIND__ICB,
                                             "Y61"), FF_ERR_ORG_EXISTS, "code");
    assert_refused_without_trace(l, test_org("orphan", "QXX", "Orphan",
                                             FUNDFLOW__V1__ORG_KIND__ICB, "Y99"),
                                 FF_ERR_ORG_UNKNOWN, "parent_code");
    assert_refused_without_trace(l, test_allocation("unknown", "X24", "QZZ", CORE, TEST_YEAR, 1),
                                 FF_ERR_ORG_UNKNOWN, "recipient_code");
    assert_refused_without_trace(l, test_allocation("icb-funder", "QUE", "QJG", CORE, TEST_YEAR,
                                                    1), FF_ERR_ORG_KIND_NOT_ALLOWED,
                                 "funder_code");
    assert_refused_without_trace(l, test_budget("place-from", "06H", "PC1", CORE, TEST_YEAR, 1),
                                 FF_ERR_ORG_KIND_NOT_ALLOWED, "from_code");
    assert_refused_without_trace(l, test_budget("other-place", "QUE", "07K", CORE, TEST_YEAR, 1),
                                 FF_ERR_ORG_KIND_NOT_ALLOWED, "to_code");
    assert_refused_without_trace(l, test_budget("self", "QUE", "QUE", CORE, TEST_YEAR, 1),
                                 FF_ERR_SAME_ORG, "to_code");
    assert_refused_without_trace(l, test_allocation("zero", "X24", "QUE", CORE, TEST_YEAR, 0),
                                 FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence");
    assert_refused_without_trace(l, test_allocation("negative", "X24", "QUE", CORE, TEST_YEAR,
                                                    -5), FF_ERR_AMOUNT_NOT_POSITIVE,
                                 "amount_pence");
    assert_refused_without_trace(l, test_allocation("stream", "X24", "QUE", 99, TEST_YEAR, 1),
                                 FF_ERR_ENUM_INVALID, "stream");
    assert_refused_without_trace(l, test_allocation("year", "X24", "QUE", CORE, 1999, 1),
                                 FF_ERR_YEAR_INVALID, "financial_year");
    assert_refused_without_trace(l, test_allocation("code", "X24", "qu e", CORE, TEST_YEAR, 1),
                                 FF_ERR_CODE_INVALID, "recipient_code");
    Fundflow__V1__Command *bad_date = test_allocation("date", "X24", "QUE", CORE, TEST_YEAR, 1);
    bad_date->effective_date = 20230229;
    assert_refused_without_trace(l, bad_date, FF_ERR_DATE_INVALID, "effective_date");
    assert_refused_without_trace(l, test_allocation("", "X24", "QUE", CORE, TEST_YEAR, 1),
                                 FF_ERR_FIELD_MISSING, "idempotency_key");
}

static void test_reversal_refusals(void **state) {
    test_fixture *f = *state;
    worked_example_record(f->ledger);
    assert_refused_without_trace(f->ledger, test_reversal("r-unknown", 999, "typo"),
                                 FF_ERR_EVENT_UNKNOWN, "reversed_sequence");
    assert_refused_without_trace(f->ledger, test_reversal("r-again", W + 4, "twice"),
                                 FF_ERR_EVENT_ALREADY_REVERSED, "reversed_sequence");
    assert_refused_without_trace(f->ledger, test_reversal("r-org", 3, "not money"),
                                 FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence");
    assert_refused_without_trace(f->ledger, test_reversal("r-rev", W + 6, "undo the undo"),
                                 FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence");
    assert_refused_without_trace(f->ledger, test_reversal("r-noreason", W + 2, ""),
                                 FF_ERR_FIELD_MISSING, "reason");
}

static void test_sum_overflow_is_refused(void **state) {
    test_fixture *f = *state;
    assert_int_equal(test_submit(f->ledger, test_limit("max-limit", "X24", CORE, TEST_YEAR,
                                                       INT64_MAX), NULL), FF_OK);
    assert_int_equal(test_submit(f->ledger, test_allocation("max", "X24", "QUE", CORE, TEST_YEAR,
                                                            INT64_MAX), NULL), FF_OK);
    assert_refused_without_trace(f->ledger, test_allocation("one-more", "X24", "QJG", CORE,
                                                            TEST_YEAR, 1),
                                 FF_ERR_SUM_OVERFLOW, "amount_pence");
    assert_position(f->ledger, "QUE", UINT64_MAX, INT64_MAX, 0, INT64_MAX);
}

static void test_idempotent_retry_returns_the_original(void **state) {
    test_fixture *f = *state;
    ledger_result first, retry;
    assert_int_equal(test_submit(f->ledger, test_allocation("key-1", "X24", "QUE", CORE,
                                                            TEST_YEAR, 12345), &first), FF_OK);
    assert_false(first.idempotent_replay);
    uint64_t head = test_head_sequence(f->ledger);
    assert_int_equal(test_submit(f->ledger, test_allocation("key-1", "X24", "QUE", CORE,
                                                            TEST_YEAR, 12345), &retry), FF_OK);
    assert_true(retry.idempotent_replay);
    assert_int_equal(retry.sequence, first.sequence);
    assert_int_equal(test_head_sequence(f->ledger), head);
    assert_position(f->ledger, "QUE", UINT64_MAX, 12345, 0, 12345);
    assert_refused_without_trace(f->ledger, test_allocation("key-1", "X24", "QUE", CORE,
                                                            TEST_YEAR, 12346),
                                 FF_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key");
}

static void test_idempotent_retry_inside_one_batch(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Command *commands[] = {
        test_allocation("same", "X24", "QUE", CORE, TEST_YEAR, 500),
        test_allocation("same", "X24", "QUE", CORE, TEST_YEAR, 500),
        test_allocation("same", "X24", "QUE", CORE, TEST_YEAR, 501),
    };
    ledger_result results[3];
    assert_int_equal(test_submit_batch(f->ledger, commands, 3, false, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_int_equal(results[1].failure.code, FF_OK);
    assert_true(results[1].idempotent_replay);
    assert_int_equal(results[1].sequence, results[0].sequence);
    assert_int_equal(results[2].failure.code, FF_ERR_IDEMPOTENCY_CONFLICT);
    assert_position(f->ledger, "QUE", UINT64_MAX, 500, 0, 500);
}

static void test_batch_with_one_bad_command_lands_the_others(void **state) {
    test_fixture *f = *state;
    uint64_t head = test_head_sequence(f->ledger);
    Fundflow__V1__Command *commands[] = {
        test_allocation("g1", "X24", "QUE", CORE, TEST_YEAR, 1000),
        test_allocation("bad", "X24", "QZZ", CORE, TEST_YEAR, 1000),
        test_budget("g2", "QUE", "06H", CORE, TEST_YEAR, 400),
    };
    ledger_result results[3];
    assert_int_equal(test_submit_batch(f->ledger, commands, 3, false, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_int_equal(results[0].sequence, head + 1);
    assert_int_equal(results[1].failure.code, FF_ERR_ORG_UNKNOWN);
    assert_string_equal(results[1].failure.field, "recipient_code");
    assert_int_equal(results[2].failure.code, FF_OK);
    assert_int_equal(results[2].sequence, head + 2);
    assert_int_equal(test_head_sequence(f->ledger), head + 2);
    assert_position(f->ledger, "QUE", UINT64_MAX, 1000, 400, 600);
}

static void test_linked_batch_is_all_or_nothing(void **state) {
    test_fixture *f = *state;
    uint64_t head = test_head_sequence(f->ledger);
    Fundflow__V1__Command *commands[] = {
        test_allocation("l1", "X24", "QUE", CORE, TEST_YEAR, 1000),
        test_budget("l2", "QUE", "06H", CORE, TEST_YEAR, 1001),
        test_allocation("l3", "X24", "QJG", CORE, TEST_YEAR, 1000),
    };
    ledger_result results[3];
    assert_int_equal(test_submit_batch(f->ledger, commands, 3, true, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_equal(results[1].failure.code, FF_ERR_INSUFFICIENT_HEADROOM);
    assert_int_equal(results[2].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_equal(test_head_sequence(f->ledger), head);
    assert_position(f->ledger, "QUE", UINT64_MAX, 0, 0, 0);
    /* The same keys are free for the corrected batch, since nothing was recorded. */
    Fundflow__V1__Command *fixed[] = {
        test_allocation("l1", "X24", "QUE", CORE, TEST_YEAR, 1000),
        test_budget("l2", "QUE", "06H", CORE, TEST_YEAR, 1000),
    };
    assert_int_equal(test_submit_batch(f->ledger, fixed, 2, true, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_int_equal(results[1].failure.code, FF_OK);
    assert_position(f->ledger, "QUE", UINT64_MAX, 1000, 1000, 0);
}

/* Three clients' batches committed as one group: a linked batch that fails leaves no trace and
 * its neighbours land, with sequences following on without a gap. */
static void test_group_of_batches_keeps_each_batch_semantics(void **state) {
    test_fixture *f = *state;
    uint64_t head = test_head_sequence(f->ledger);
    Fundflow__V1__Command *first[] = {test_allocation("g-a", "X24", "QUE", CORE, TEST_YEAR, 900)};
    Fundflow__V1__Command *linked[] = {
        test_allocation("g-b", "X24", "QJG", CORE, TEST_YEAR, 100),
        test_budget("g-c", "QJG", "07K", CORE, TEST_YEAR, 101),
    };
    Fundflow__V1__Command *third[] = {
        test_budget("g-d", "QUE", "06H", CORE, TEST_YEAR, 300),
        test_allocation("g-e", "X24", "QZZ", CORE, TEST_YEAR, 5),
    };
    ledger_batch batches[] = {
        {.commands = first, .command_count = 1, .actor = "client-1"},
        {.commands = linked, .command_count = 2, .linked = true, .actor = "client-2"},
        {.commands = third, .command_count = 2, .actor = "client-3"},
    };
    ledger_result first_results[1], linked_results[2], third_results[2];
    ledger_result *const results[] = {first_results, linked_results, third_results};
    assert_int_equal(ledger_batches_apply(f->ledger, batches, 3, results), FF_OK);
    assert_int_equal(first_results[0].failure.code, FF_OK);
    assert_int_equal(first_results[0].sequence, head + 1);
    assert_int_equal(linked_results[0].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_equal(linked_results[1].failure.code, FF_ERR_INSUFFICIENT_HEADROOM);
    assert_int_equal(third_results[0].failure.code, FF_OK);
    assert_int_equal(third_results[0].sequence, head + 2);
    assert_int_equal(third_results[1].failure.code, FF_ERR_ORG_UNKNOWN);
    assert_int_equal(test_head_sequence(f->ledger), head + 2);
    assert_position(f->ledger, "QUE", UINT64_MAX, 900, 300, 600);
    assert_position(f->ledger, "QJG", UINT64_MAX, 0, 0, 0);
    test_command_free(first[0]);
    for (size_t i = 0; i < 2; i++) test_command_free(linked[i]), test_command_free(third[i]);
}

/* A batch malformed as a whole (here, without an actor) is refused alone in a group: none of its
 * commands is recorded, and its neighbours land as if it were not there. */
static void test_group_refuses_a_malformed_batch_alone(void **state) {
    test_fixture *f = *state;
    uint64_t head = test_head_sequence(f->ledger);
    Fundflow__V1__Command *anonymous[] = {test_allocation("m-a", "X24", "QUE", CORE, TEST_YEAR, 7)};
    Fundflow__V1__Command *signed_off[] = {test_allocation("m-b", "X24", "QJG", CORE, TEST_YEAR, 9)};
    ledger_batch batches[] = {
        {.commands = anonymous, .command_count = 1, .actor = ""},
        {.commands = signed_off, .command_count = 1, .actor = "client-2"},
    };
    ledger_result anonymous_results[1], signed_results[1];
    ledger_result *const results[] = {anonymous_results, signed_results};
    assert_int_equal(ledger_batches_apply(f->ledger, batches, 2, results), FF_OK);
    assert_int_equal(anonymous_results[0].failure.code, FF_ERR_FIELD_MISSING);
    assert_int_equal(signed_results[0].failure.code, FF_OK);
    assert_int_equal(signed_results[0].sequence, head + 1);
    assert_int_equal(test_head_sequence(f->ledger), head + 1);
    assert_position(f->ledger, "QUE", UINT64_MAX, 0, 0, 0);
    assert_position(f->ledger, "QJG", UINT64_MAX, 9, 0, 9);
    test_command_free(anonymous[0]);
    test_command_free(signed_off[0]);
}

static void test_batch_limits(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Command *command = test_allocation("x", "X24", "QUE", CORE, TEST_YEAR, 1);
    ledger_result result;
    ledger_batch no_actor = {.commands = &command, .command_count = 1, .actor = ""};
    assert_int_equal(ledger_batch_apply(f->ledger, &no_actor, &result), FF_ERR_FIELD_MISSING);
    assert_int_equal(result.failure.code, FF_ERR_FIELD_MISSING);
    size_t too_many_count = FF_BATCH_COMMANDS_MAX + 1;
    Fundflow__V1__Command **commands = calloc(too_many_count, sizeof *commands);
    ledger_result *results = calloc(too_many_count, sizeof *results);
    for (size_t i = 0; i < too_many_count; i++) commands[i] = command;
    ledger_batch too_many = {.commands = commands, .command_count = too_many_count, .actor = "t"};
    assert_int_equal(ledger_batch_apply(f->ledger, &too_many, results), FF_ERR_BATCH_TOO_LARGE);
    assert_int_equal(results[0].failure.code, FF_ERR_BATCH_TOO_LARGE);
    assert_int_equal(results[too_many_count - 1].failure.code, FF_ERR_BATCH_TOO_LARGE);
    free(commands);
    free(results);
    test_command_free(command);
    assert_int_equal(test_head_sequence(f->ledger), W);
}

static void test_unbalanced_postings_are_refused(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    posting legs[2];
    memset(legs, 0, sizeof legs);
    account_key_make(&legs[0].account, "QUE", TEST_YEAR, CORE, ACCOUNT_PURPOSE_BUDGET);
    legs[0].debit_pence = 100;
    account_key_make(&legs[1].account, "QUE", TEST_YEAR, CORE, ACCOUNT_PURPOSE_RECEIVED);
    legs[1].credit_pence = 99;
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(account_postings_apply(txn, store, 8, TEST_EFFECTIVE_DATE, legs, 2, &failure),
                     FF_ERR_UNBALANCED);
    assert_non_null(strstr(failure.detail, "100"));
    store_txn_abort(txn);
}

static void test_position_of_unknown_org(void **state) {
    test_fixture *f = *state;
    ledger_position position;
    assert_int_equal(ledger_position_read(f->ledger, "QZZ", CORE, TEST_YEAR, UINT64_MAX,
                                          &position), FF_ERR_ORG_UNKNOWN);
    assert_int_equal(ledger_position_read(f->ledger, "bad code", CORE, TEST_YEAR, UINT64_MAX,
                                          &position), FF_ERR_CODE_INVALID);
}

/* A provider collaborative of 64 member trusts (codes RA000 to RA063, seven bytes each as
 * stored) with a 160-byte name: its stored record is over PROJECTION_ORG_KEPT_STORED_BYTES, so a
 * transfer reads it into the heap instead of keeping it decoded. QUE receives 1,000p and passes
 * the collaborative 100p, place 06H (kept) 200p between, then the collaborative 300p: it has
 * received 100 + 300 = 400p and holds 400p, and QUE has passed on 600p and holds 400p. */
static void test_a_party_too_large_to_keep_decoded_posts_the_same(void **state) {
    test_fixture *f = *state;
    enum { MEMBERS = FF_MEMBERS_MAX, CODE_BYTES = 6 };
    for (int i = 0; i < MEMBERS; i++) {
        char key[16], code[CODE_BYTES];
        snprintf(key, sizeof key, "org-ra%03d", i);
        snprintf(code, sizeof code, "RA%03d", i);
        assert_int_equal(test_submit(f->ledger, test_org(key, code, "member trust",
                                                         FUNDFLOW__V1__ORG_KIND__TRUST, NULL),
                                     NULL),
                         FF_OK);
    }
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    memset(name, 'n', FF_ORG_NAME_BYTES_MAX);
    name[FF_ORG_NAME_BYTES_MAX] = '\0';
    Fundflow__V1__Command *collaborative = test_org(
        "org-pcx", "PCX", name, FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, NULL);
    Fundflow__V1__OrgRegistered *registered = collaborative->event->org_registered;
    registered->member_codes = calloc(MEMBERS, sizeof *registered->member_codes);
    assert_non_null(registered->member_codes);
    registered->n_member_codes = MEMBERS;
    for (int i = 0; i < MEMBERS; i++) {
        registered->member_codes[i] = malloc(CODE_BYTES);
        assert_non_null(registered->member_codes[i]);
        snprintf(registered->member_codes[i], CODE_BYTES, "RA%03d", i);
    }
    registered->lead_provider_code = strdup("RA000");
    assert_int_equal(test_submit(f->ledger, collaborative, NULL), FF_OK);
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(ledger_store(f->ledger), &txn), FF_OK);
    store_slice stored;
    assert_int_equal(store_get(txn, ledger_store(f->ledger), STORE_TABLE_ORGS,
                               STORE_SLICE("PCX", 3), &stored),
                     FF_OK);
    assert_true(stored.bytes > PROJECTION_ORG_KEPT_STORED_BYTES);
    store_read_end(ledger_store(f->ledger), txn);
    assert_int_equal(test_submit(f->ledger, test_allocation("px0", "X24", "QUE", CORE, TEST_YEAR,
                                                            1000), NULL), FF_OK);
    assert_int_equal(test_submit(f->ledger, test_budget("px1", "QUE", "PCX", CORE, TEST_YEAR, 100),
                                 NULL), FF_OK);
    assert_int_equal(test_submit(f->ledger, test_budget("px2", "QUE", "06H", CORE, TEST_YEAR, 200),
                                 NULL), FF_OK);
    assert_int_equal(test_submit(f->ledger, test_budget("px3", "QUE", "PCX", CORE, TEST_YEAR, 300),
                                 NULL), FF_OK);
    assert_position(f->ledger, "PCX", UINT64_MAX, 400, 0, 400);
    assert_position(f->ledger, "QUE", UINT64_MAX, 1000, 600, 400);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define LEDGER_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        LEDGER_TEST(test_balances_worked_by_hand),
        LEDGER_TEST(test_balances_as_at_earlier_sequences),
        LEDGER_TEST(test_over_allocation_refused_and_leaves_no_trace),
        LEDGER_TEST(test_refusals_name_the_field_and_leave_no_trace),
        LEDGER_TEST(test_reversal_refusals),
        LEDGER_TEST(test_sum_overflow_is_refused),
        LEDGER_TEST(test_idempotent_retry_returns_the_original),
        LEDGER_TEST(test_idempotent_retry_inside_one_batch),
        LEDGER_TEST(test_batch_with_one_bad_command_lands_the_others),
        LEDGER_TEST(test_linked_batch_is_all_or_nothing),
        LEDGER_TEST(test_group_of_batches_keeps_each_batch_semantics),
        LEDGER_TEST(test_group_refuses_a_malformed_batch_alone),
        LEDGER_TEST(test_batch_limits),
        LEDGER_TEST(test_unbalanced_postings_are_refused),
        LEDGER_TEST(test_position_of_unknown_org),
        LEDGER_TEST(test_a_party_too_large_to_keep_decoded_posts_the_same),
#undef LEDGER_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
