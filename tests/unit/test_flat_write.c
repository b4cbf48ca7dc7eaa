/* The flat write path against the nested one: the same commands, applied to two fresh ledgers,
 * one flat (the default) and one forced nested, must give the same results and the same bytes in
 * the log and in every projection table, whatever is refused, wherever it sits in the group, and
 * whether the batch is unrestricted or a scoped principal's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "projection.h"
#include "projection_table.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK

enum { FLAT_BATCH_BASE = 6, FLAT_COMMANDS_MAX = 16 };

/* The key of the command the test hooks refuse: the veto before anything is written, the
 * projection hook after projection_apply has written the event's projections. */
static const char *const flat_veto_key = "refuse-by-veto";
static const char *const flat_late_key = "refuse-late";

static ff_err flat_veto(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure) {
    (void)argument, (void)txn;
    if (strcmp(record->idempotency_key, flat_veto_key) != 0) return FF_OK;
    return failure_set(failure, FF_ERR_VETOED, "event", "the test's veto refused it");
}

static ff_err flat_project(void *argument, store_txn *txn,
                           const Fundflow__V1__EventRecord *record) {
    (void)argument, (void)txn;
    return strcmp(record->idempotency_key, flat_late_key) == 0 ? FF_ERR_VETOED : FF_OK;
}

/* A ledger with the world, one allocation (event TEST_WORLD_EVENTS + 1) for the batches'
 * reversal to undo, and the test hooks, on the write path given. */
static test_fixture *flat_fixture_open(ledger_write_path path) {
    test_fixture *fixture = test_fixture_open();
    test_world_register(fixture->ledger);
    assert_int_equal(test_submit(fixture->ledger, test_allocation("first", "X24", "QUE", CORE,
                                                                  TEST_YEAR, 1000), NULL), FF_OK);
    ledger_veto_set(fixture->ledger, flat_veto, NULL);
    ledger_project_set(fixture->ledger, flat_project, NULL);
    ledger_write_path_set(fixture->ledger, path);
    return fixture;
}

/* Commands of several kinds, every one of which is recorded when nothing else is refused. */
static Fundflow__V1__Command *flat_base_command(size_t index) {
    switch (index) {
    case 0: return test_org("b-org", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                            "QUE");
    case 1: return test_allocation("b-alloc", "X24", "QUE", CORE, TEST_YEAR, 500000);
    case 2: return test_budget("b-budget", "QUE", "06H", CORE, TEST_YEAR, 200000);
    case 3: return test_reversal("b-rev", TEST_WORLD_EVENTS + 1, "reversing the first");
    case 4: return test_service_line("b-line", "SL01", false);
    default: return test_allocation("b-alloc2", "X24", "QJG", CORE, TEST_YEAR, 700000);
    }
}

/* The ways a command is refused. Only the last writes before it is refused. */
typedef enum flat_refusal {
    FLAT_REFUSED_UNKNOWN_ORG, /* an allocation to an organisation nobody registered */
    FLAT_REFUSED_HEADROOM,    /* a budget beyond what QUE holds, refused at its second leg */
    FLAT_REFUSED_CODE_TAKEN,  /* a code registered twice, refused by the put that finds it */
    FLAT_REFUSED_BY_VETO,     /* the veto, before anything is written */
    FLAT_REFUSED_LATE,        /* the projection hook, after the projections were written */
    FLAT_REFUSAL_KINDS
} flat_refusal;

static const ff_err flat_refusal_codes[FLAT_REFUSAL_KINDS] = {
    FF_ERR_ORG_UNKNOWN, FF_ERR_INSUFFICIENT_HEADROOM, FF_ERR_ORG_EXISTS, FF_ERR_VETOED,
    FF_ERR_VETOED};

static Fundflow__V1__Command *flat_refused_command(flat_refusal kind) {
    switch (kind) {
    case FLAT_REFUSED_UNKNOWN_ORG:
        return test_allocation("bad-org", "X24", "QZZ", CORE, TEST_YEAR, 1);
    case FLAT_REFUSED_HEADROOM:
        /* QUE holds at most 1,000 + 500,000 pence of core budget here: £5,010.00; it is asked
         * to pass on £1,000,000.00. */
        return test_budget("bad-headroom", "QUE", "06H", CORE, TEST_YEAR, 100000000);
    case FLAT_REFUSED_CODE_TAKEN:
        return test_org("bad-code", "QUE", "A second QUE", FUNDFLOW__V1__ORG_KIND__ICB, "Y61");
    case FLAT_REFUSED_BY_VETO:
        return test_allocation(flat_veto_key, "X24", "QUE", CORE, TEST_YEAR, 5);
    default:
        return test_allocation(flat_late_key, "X24", "QUE", CORE, TEST_YEAR, 7);
    }
}

/* The base batch with a refused command of kind at position (0 to FLAT_BATCH_BASE). */
static size_t flat_batch_make(flat_refusal kind, size_t position,
                              Fundflow__V1__Command **commands) {
    size_t count = 0;
    for (size_t i = 0; i <= FLAT_BATCH_BASE; i++) {
        if (i == position) commands[count++] = flat_refused_command(kind);
        if (i < FLAT_BATCH_BASE) commands[count++] = flat_base_command(i);
    }
    return count;
}

/* What one ledger made of a scenario: its results and every table, the log's included. */
typedef struct flat_outcome {
    ledger_result results[FLAT_COMMANDS_MAX];
    size_t result_count;
    uint8_t *tables;
    size_t table_bytes;
    uint64_t replays;
} flat_outcome;

typedef size_t (*flat_scenario)(ff_ledger *ledger, const void *argument,
                                ledger_result *results);

static void flat_outcome_take(ledger_write_path path, flat_scenario scenario,
                              const void *argument, flat_outcome *outcome) {
    test_fixture *fixture = flat_fixture_open(path);
    memset(outcome, 0, sizeof *outcome);
    outcome->result_count = scenario(fixture->ledger, argument, outcome->results);
    assert_true(outcome->result_count <= FLAT_COMMANDS_MAX);
    test_tables_dump(ledger_store(fixture->ledger), STORE_TABLE_LOG, STORE_TABLE_COUNT,
                     &outcome->tables, &outcome->table_bytes);
    outcome->replays = ledger_nested_replay_count(fixture->ledger);
    test_fixture_teardown((void **)&fixture);
}

/* Runs scenario flat and nested and checks both came out byte for byte the same; returns how
 * many times the flat ledger had to replay a group nested. */
static uint64_t flat_same_as_nested(flat_scenario scenario, const void *argument) {
    flat_outcome flat, nested;
    flat_outcome_take(LEDGER_WRITE_FLAT, scenario, argument, &flat);
    flat_outcome_take(LEDGER_WRITE_NESTED, scenario, argument, &nested);
    assert_int_equal(nested.replays, 0);
    assert_int_equal(flat.result_count, nested.result_count);
    for (size_t i = 0; i < flat.result_count; i++) {
        const ledger_result *a = &flat.results[i], *b = &nested.results[i];
        assert_int_equal(a->failure.code, b->failure.code);
        assert_string_equal(a->failure.detail, b->failure.detail);
        assert_int_equal(a->sequence, b->sequence);
        assert_int_equal(a->idempotent_replay, b->idempotent_replay);
    }
    assert_int_equal(flat.table_bytes, nested.table_bytes);
    assert_memory_equal(flat.tables, nested.tables, flat.table_bytes);
    free(flat.tables);
    free(nested.tables);
    return flat.replays;
}

typedef struct flat_placed {
    flat_refusal kind;
    size_t position;
    bool linked;
} flat_placed;

static size_t flat_placed_run(ff_ledger *ledger, const void *argument, ledger_result *results) {
    const flat_placed *placed = argument;
    Fundflow__V1__Command *commands[FLAT_COMMANDS_MAX];
    size_t count = flat_batch_make(placed->kind, placed->position, commands);
    assert_int_equal(test_submit_batch(ledger, commands, count, placed->linked, results), FF_OK);
    return count;
}

static void test_a_refused_command_in_every_position_matches_the_nested_path(void **state) {
    (void)state;
    for (int kind = 0; kind < FLAT_REFUSAL_KINDS; kind++) {
        for (size_t position = 0; position <= FLAT_BATCH_BASE; position++) {
            flat_placed placed = {(flat_refusal)kind, position, false};
            uint64_t replays = flat_same_as_nested(flat_placed_run, &placed);
            /* Only the command refused after it wrote sends the group back to the nested path. */
            assert_int_equal(replays, kind == FLAT_REFUSED_LATE ? 1 : 0);
            /* The results themselves: the refused command alone failed, the rest recorded. */
            flat_outcome outcome;
            flat_outcome_take(LEDGER_WRITE_FLAT, flat_placed_run, &placed, &outcome);
            for (size_t i = 0; i < outcome.result_count; i++) {
                ff_err expected = i == position ? flat_refusal_codes[kind] : FF_OK;
                if (outcome.results[i].failure.code != expected) {
                    fail_msg("kind %d at %zu, command %zu: %s", kind, position, i,
                             outcome.results[i].failure.detail);
                }
            }
            free(outcome.tables);
        }
    }
}

static void test_a_linked_batch_refused_anywhere_matches_the_nested_path(void **state) {
    (void)state;
    for (int kind = 0; kind < FLAT_REFUSAL_KINDS; kind++) {
        for (size_t position = 0; position <= FLAT_BATCH_BASE; position++) {
            flat_placed placed = {(flat_refusal)kind, position, true};
            uint64_t replays = flat_same_as_nested(flat_placed_run, &placed);
            /* Refused first, nothing was written and the flat try stands; refused later, the
             * commands before it wrote, and only the nested replay can undo them. */
            assert_int_equal(replays, position == 0 && kind != FLAT_REFUSED_LATE ? 0 : 1);
        }
    }
}

static void test_a_linked_batch_refused_at_its_last_command_leaves_no_trace(void **state) {
    (void)state;
    test_fixture *fixture = flat_fixture_open(LEDGER_WRITE_FLAT);
    ff_ledger *ledger = fixture->ledger;
    uint64_t head = test_head_sequence(ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_tables_dump(ledger_store(ledger), STORE_TABLE_LOG, STORE_TABLE_COUNT, &before,
                     &before_bytes);
    Fundflow__V1__Command *commands[FLAT_COMMANDS_MAX];
    ledger_result results[FLAT_COMMANDS_MAX];
    size_t count = flat_batch_make(FLAT_REFUSED_UNKNOWN_ORG, FLAT_BATCH_BASE, commands);
    assert_int_equal(test_submit_batch(ledger, commands, count, true, results), FF_OK);
    for (size_t i = 0; i + 1 < count; i++) {
        assert_int_equal(results[i].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    }
    assert_int_equal(results[count - 1].failure.code, FF_ERR_ORG_UNKNOWN);
    assert_int_equal(ledger_nested_replay_count(ledger), 1);
    assert_int_equal(test_head_sequence(ledger), head);
    test_tables_dump(ledger_store(ledger), STORE_TABLE_LOG, STORE_TABLE_COUNT, &after,
                     &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
    test_fixture_teardown((void **)&fixture);
}

/* One group of three batches: the first records k1 and k2; the second, a dry run, repeats k1
 * and refuses a key of its own late; the third repeats k1 (the same content: a replay of the
 * first batch's event), reuses k2 for another amount (a conflict) and repeats its own new key
 * k3 within the batch. Then, as a separate group, a batch that repeats k3 again. */
/* Some commands of a batch. */
typedef struct flat_commands {
    Fundflow__V1__Command **commands;
    size_t count;
} flat_commands;

/* Applies one group of three batches, the middle one a dry run, with their results one after
 * another in results, and frees the commands. */
static void flat_dry_run_between_apply(ff_ledger *ledger, flat_commands first, flat_commands dry,
                                       flat_commands last, ledger_result *results) {
    flat_commands parts[] = {first, dry, last};
    ledger_batch batches[3];
    ledger_result *group_results[3];
    size_t offset = 0;
    for (size_t b = 0; b < 3; b++) {
        batches[b] = (ledger_batch){.commands = parts[b].commands,
                                    .command_count = parts[b].count, .actor = "test",
                                    .recorded_at_us = TEST_RECORDED_AT_US, .dry_run = b == 1};
        group_results[b] = results + offset;
        offset += parts[b].count;
    }
    assert_int_equal(ledger_batches_apply(ledger, batches, 3, group_results), FF_OK);
    for (size_t b = 0; b < 3; b++) {
        for (size_t i = 0; i < parts[b].count; i++) test_command_free(parts[b].commands[i]);
    }
}

static size_t flat_repeated_keys_run(ff_ledger *ledger, const void *argument,
                                     ledger_result *results) {
    (void)argument;
    Fundflow__V1__Command *first[] = {
        test_allocation("k1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("k2", "X24", "QJG", CORE, TEST_YEAR, 200),
    };
    Fundflow__V1__Command *dry[] = {
        test_allocation("k1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation(flat_late_key, "X24", "QUE", CORE, TEST_YEAR, 7),
        test_allocation("k4", "X24", "QUE", CORE, TEST_YEAR, 400),
    };
    Fundflow__V1__Command *third[] = {
        test_allocation("k1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("k2", "X24", "QJG", CORE, TEST_YEAR, 999),
        test_allocation("k3", "X24", "QUE", CORE, TEST_YEAR, 300),
        test_allocation("k3", "X24", "QUE", CORE, TEST_YEAR, 300),
    };
    flat_dry_run_between_apply(ledger, (flat_commands){first, 2}, (flat_commands){dry, 3},
                               (flat_commands){third, 4}, results);
    Fundflow__V1__Command *again[] = {test_allocation("k3", "X24", "QUE", CORE, TEST_YEAR, 300)};
    assert_int_equal(test_submit_batch(ledger, again, 1, false, results + 9), FF_OK);
    return 10;
}

static void test_keys_repeated_within_a_group_match_the_nested_path(void **state) {
    (void)state;
    assert_int_equal(flat_same_as_nested(flat_repeated_keys_run, NULL), 0);
    flat_outcome outcome;
    flat_outcome_take(LEDGER_WRITE_FLAT, flat_repeated_keys_run, NULL, &outcome);
    const ledger_result *r = outcome.results;
    /* The fixture's head is TEST_WORLD_EVENTS + 1 = 17: k1 is 18, k2 19. */
    uint64_t k1 = TEST_WORLD_EVENTS + 2;
    assert_int_equal(r[0].failure.code, FF_OK);
    assert_int_equal(r[0].sequence, k1);
    assert_int_equal(r[1].sequence, k1 + 1);
    /* The dry run: k1 answered from the index, its late refusal alone refused, k4 would be 20. */
    assert_true(r[2].idempotent_replay && r[2].sequence == k1);
    assert_int_equal(r[3].failure.code, FF_ERR_VETOED);
    assert_int_equal(r[4].failure.code, FF_OK);
    assert_int_equal(r[4].sequence, k1 + 2);
    /* The third batch: k1 replayed; k2 with another amount a conflict; k3 recorded as 20 (the
     * dry run left nothing), then answered from the index within the same batch. */
    assert_true(r[5].idempotent_replay && r[5].sequence == k1);
    assert_int_equal(r[6].failure.code, FF_ERR_IDEMPOTENCY_CONFLICT);
    assert_true(!r[7].idempotent_replay && r[7].sequence == k1 + 2);
    assert_true(r[8].idempotent_replay && r[8].sequence == k1 + 2);
    assert_true(r[9].idempotent_replay && r[9].sequence == k1 + 2);
    free(outcome.tables);
}

/* Applies a group of batches with their results one after another in results, and frees their
 * commands. */
enum { FLAT_GROUP_BATCHES_MAX = 4 };
static void flat_group_apply(ff_ledger *ledger, const ledger_batch *batches, size_t count,
                             ledger_result *results) {
    assert_true(count <= FLAT_GROUP_BATCHES_MAX);
    ledger_result *group_results[FLAT_GROUP_BATCHES_MAX];
    size_t offset = 0;
    for (size_t b = 0; b < count; b++) {
        group_results[b] = results + offset;
        offset += batches[b].command_count;
    }
    assert_int_equal(ledger_batches_apply(ledger, batches, count, group_results), FF_OK);
    for (size_t b = 0; b < count; b++) {
        for (size_t i = 0; i < batches[b].command_count; i++) {
            test_command_free(batches[b].commands[i]);
        }
    }
}

/* A group of batches in which a later batch's late refusal sends the whole group, a dry run and
 * a linked batch included, back to the nested path. */
static size_t flat_group_replayed_run(ff_ledger *ledger, const void *argument,
                                      ledger_result *results) {
    (void)argument;
    Fundflow__V1__Command *first[] = {
        test_allocation("g1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("g-bad", "X24", "QZZ", CORE, TEST_YEAR, 1),
    };
    Fundflow__V1__Command *dry[] = {test_allocation("g2", "X24", "QUE", CORE, TEST_YEAR, 200)};
    Fundflow__V1__Command *linked[] = {
        test_allocation("g3", "X24", "QJG", CORE, TEST_YEAR, 300),
        test_budget("g4", "QJG", "PC1", CORE, TEST_YEAR, 300),
    };
    Fundflow__V1__Command *last[] = {
        test_allocation("g5", "X24", "QUE", CORE, TEST_YEAR, 500),
        test_allocation(flat_late_key, "X24", "QUE", CORE, TEST_YEAR, 7),
        test_allocation("g6", "X24", "QUE", CORE, TEST_YEAR, 600),
    };
    ledger_batch batches[] = {
        {.commands = first, .command_count = 2, .actor = "test",
         .recorded_at_us = TEST_RECORDED_AT_US},
        {.commands = dry, .command_count = 1, .actor = "test",
         .recorded_at_us = TEST_RECORDED_AT_US, .dry_run = true},
        {.commands = linked, .command_count = 2, .actor = "test", .linked = true,
         .recorded_at_us = TEST_RECORDED_AT_US},
        {.commands = last, .command_count = 3, .actor = "other",
         .recorded_at_us = TEST_RECORDED_AT_US},
    };
    flat_group_apply(ledger, batches, 4, results);
    return 8;
}

/* Checks each result of outcome has the code expected of it. */
static void flat_codes_expect(const flat_outcome *outcome, const ff_err *expected) {
    for (size_t i = 0; i < outcome->result_count; i++) {
        if (outcome->results[i].failure.code != expected[i]) {
            fail_msg("command %zu: %s", i, outcome->results[i].failure.detail);
        }
    }
}

static void test_a_group_replayed_nested_matches_the_nested_path(void **state) {
    (void)state;
    assert_int_equal(flat_same_as_nested(flat_group_replayed_run, NULL), 1);
    flat_outcome outcome;
    flat_outcome_take(LEDGER_WRITE_FLAT, flat_group_replayed_run, NULL, &outcome);
    static const ff_err expected[] = {FF_OK, FF_ERR_ORG_UNKNOWN, FF_OK, FF_OK, FF_OK,
                                      FF_OK, FF_ERR_VETOED, FF_OK};
    flat_codes_expect(&outcome, expected);
    /* Head 17; g1 18, the dry run's g2 would be 19, g3 19, g4 20, g5 21, g6 22. */
    assert_int_equal(outcome.results[2].sequence, TEST_WORLD_EVENTS + 3);
    assert_int_equal(outcome.results[7].sequence, TEST_WORLD_EVENTS + 6);
    free(outcome.tables);
}

/* A flat batch keeps the tree's edge and its flows in memory and writes them back when it ends:
 * the dry run after it (nested) appends to the tree and adds to the flows as stored, and the flat
 * batch after that reads them again, so a batch that did not write them back, or kept them into
 * the next one, would make the dry run or the last batch find the tree one size off
 * (tree_mismatch) or store a different edge or flow. No group is replayed here, so only the flat
 * path runs on the flat ledger. */
static size_t flat_dry_run_between_run(ff_ledger *ledger, const void *argument,
                                       ledger_result *results) {
    (void)argument;
    Fundflow__V1__Command *first[] = {
        test_allocation("d1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("d2", "X24", "QJG", CORE, TEST_YEAR, 200),
    };
    Fundflow__V1__Command *dry[] = {test_allocation("d3", "X24", "QUE", CORE, TEST_YEAR, 300)};
    Fundflow__V1__Command *last[] = {test_allocation("d4", "X24", "QUE", CORE, TEST_YEAR, 400)};
    flat_dry_run_between_apply(ledger, (flat_commands){first, 2}, (flat_commands){dry, 1},
                               (flat_commands){last, 1}, results);
    return 4;
}

static void test_a_dry_run_between_flat_batches_matches_the_nested_path(void **state) {
    (void)state;
    assert_int_equal(flat_same_as_nested(flat_dry_run_between_run, NULL), 0);
    flat_outcome outcome;
    flat_outcome_take(LEDGER_WRITE_FLAT, flat_dry_run_between_run, NULL, &outcome);
    /* Head 17: d1 18, d2 19; the dry run's d3 would be 20, and d4 is 20. */
    static const uint64_t expected[] = {TEST_WORLD_EVENTS + 2, TEST_WORLD_EVENTS + 3,
                                        TEST_WORLD_EVENTS + 4, TEST_WORLD_EVENTS + 4};
    for (size_t i = 0; i < outcome.result_count; i++) {
        assert_int_equal(outcome.results[i].failure.code, FF_OK);
        assert_int_equal(outcome.results[i].sequence, expected[i]);
    }
    free(outcome.tables);
}

/* Flows kept by a flat batch beyond the 16 it keeps at once: the oldest is written back when a
 * new one comes, and read again if it comes back. Forty additions over twenty flows, made once
 * with the flows kept and once stored at once, must leave the same flows table. */
enum { FLOWS_DISTINCT = 20, FLOWS_ADDED = 40 };

static ff_err flows_add_all(store_txn *txn, ff_store *store, bool kept) {
    if (kept) projection_flows_keep_begin(txn);
    ff_err err = FF_OK;
    for (int i = 0; err == FF_OK && i < FLOWS_ADDED; i++) {
        char from[8];
        snprintf(from, sizeof from, "F%02d", i % FLOWS_DISTINCT);
        ff_failure failure;
        failure_clear(&failure);
        err = projection_flow_add(txn, store, TEST_YEAR, from, "QUE", CORE, 100 + i, &failure);
    }
    if (kept) {
        ff_err end_err = projection_flows_keep_end(txn, store, err == FF_OK);
        if (err == FF_OK) err = end_err;
    }
    return err;
}

typedef struct flows_run {
    ff_store *store;
    bool kept;
} flows_run;

static ff_err flows_run_work(void *argument, store_txn *txn) {
    const flows_run *run = argument;
    return flows_add_all(txn, run->store, run->kept);
}

/* Counts the flows rows and sums their totals. */
typedef struct flows_sum {
    size_t rows;
    int64_t total;
} flows_sum;

static ff_err flows_row_sum(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)key, (void)stop;
    flows_sum *sum = argument;
    int64_t total = 0;
    assert_int_equal(value.bytes, sizeof total);
    memcpy(&total, value.data, sizeof total);
    sum->rows++;
    sum->total += total;
    return FF_OK;
}

static void flows_table_take(bool kept, uint8_t **bytes, size_t *count) {
    test_fixture *fixture = test_fixture_open();
    flows_run run = {ledger_store(fixture->ledger), kept};
    assert_int_equal(ledger_write_run(fixture->ledger, flows_run_work, &run), FF_OK);
    test_tables_dump(run.store, STORE_TABLE_FLOWS, STORE_TABLE_FLOWS + 1, bytes, count);
    /* Twenty rows; in all 100 + 101 + ... + 139 = 40 * 100 + (0 + ... + 39) = 4,780 pence. */
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(run.store, &txn), FF_OK);
    flows_sum sum = {0, 0};
    assert_int_equal(store_each(txn, run.store, STORE_TABLE_FLOWS, STORE_SLICE(NULL, 0),
                                flows_row_sum, &sum), FF_OK);
    store_read_end(run.store, txn);
    assert_int_equal(sum.rows, FLOWS_DISTINCT);
    assert_int_equal(sum.total, 4780);
    test_fixture_teardown((void **)&fixture);
}

static void test_flows_kept_beyond_their_slots_are_stored_as_at_once(void **state) {
    (void)state;
    uint8_t *kept = NULL, *stored = NULL;
    size_t kept_bytes = 0, stored_bytes = 0;
    flows_table_take(true, &kept, &kept_bytes);
    flows_table_take(false, &stored, &stored_bytes);
    assert_int_equal(kept_bytes, stored_bytes);
    assert_memory_equal(kept, stored, kept_bytes);
    free(kept);
    free(stored);
}

/* The writes of a batch whose late refusal sends it back to the nested path: a storage fault at
 * each in turn, in the flat try or in the replay, fails the batch whole and leaves no trace; a
 * full map at each in turn is grown and the batch lands as the nested path lands it. */
enum { FLAT_FAULT_CALLS_MAX = 1000, FLAT_FAULT_POSITION = 3 };

static void flat_tables_take(ff_ledger *ledger, uint8_t **bytes, size_t *count) {
    test_tables_dump(ledger_store(ledger), STORE_TABLE_LOG, STORE_TABLE_COUNT, bytes, count);
}

static void test_a_fault_at_any_write_of_a_replayed_batch_leaves_no_trace(void **state) {
    (void)state;
    test_fixture *fixture = flat_fixture_open(LEDGER_WRITE_FLAT);
    ff_ledger *ledger = fixture->ledger;
    uint8_t *before = NULL;
    size_t before_bytes = 0;
    flat_tables_take(ledger, &before, &before_bytes);
    Fundflow__V1__Command *commands[FLAT_COMMANDS_MAX];
    ledger_result results[FLAT_COMMANDS_MAX];
    uint64_t nth = 1;
    for (; nth <= FLAT_FAULT_CALLS_MAX; nth++) {
        size_t count = flat_batch_make(FLAT_REFUSED_LATE, FLAT_FAULT_POSITION, commands);
        store_fault_inject(STORE_FAULT_WRITES, nth, FF_ERR_STORAGE, true);
        ff_err err = test_submit_batch(ledger, commands, count, false, results);
        store_fault_clear();
        if (err == FF_OK) break;
        assert_int_equal(err, FF_ERR_STORAGE);
        for (size_t i = 0; i < count; i++) {
            assert_int_equal(results[i].failure.code, FF_ERR_STORAGE);
        }
        uint8_t *after = NULL;
        size_t after_bytes = 0;
        flat_tables_take(ledger, &after, &after_bytes);
        assert_int_equal(before_bytes, after_bytes);
        assert_memory_equal(before, after, before_bytes);
        free(after);
    }
    /* The flat try's writes, then the replay's (its nested commits among them), each failed. */
    assert_true(nth > 40 && nth <= FLAT_FAULT_CALLS_MAX);
    for (size_t i = 0; i <= FLAT_BATCH_BASE; i++) {
        assert_int_equal(results[i].failure.code, i == FLAT_FAULT_POSITION ? FF_ERR_VETOED : FF_OK);
    }
    free(before);
    test_fixture_teardown((void **)&fixture);
}

static size_t flat_map_full_run(ff_ledger *ledger, const void *argument, ledger_result *results) {
    const uint64_t *nth = argument;
    Fundflow__V1__Command *commands[FLAT_COMMANDS_MAX];
    size_t count = flat_batch_make(FLAT_REFUSED_LATE, FLAT_FAULT_POSITION, commands);
    store_fault_inject(STORE_FAULT_WRITES, *nth, FF_ERR_MAP_LIMIT, false);
    assert_int_equal(test_submit_batch(ledger, commands, count, false, results), FF_OK);
    store_fault_clear();
    assert_int_equal(ledger_map_growth_count(ledger), 1);
    return count;
}

static void test_a_full_map_at_any_write_of_a_replayed_batch_is_grown_and_retried(void **state) {
    (void)state;
    /* The nested ledger runs the same scenario with the same fault; the map grows once in each
     * (whether the fault meets the flat try or its replay), and both land the same bytes. */
    for (uint64_t nth = 1; nth <= 60; nth += 7) {
        assert_int_equal(flat_same_as_nested(flat_map_full_run, &nth), 1);
    }
}

/* ---- a scoped principal's batches ----
 *
 * A principal scoped to QUE keeps its scope across a flat batch, and the contract or event its
 * access check reads is handed to the command's projection instead of being decoded again. Its
 * batches must still come out as the nested path lands them, whatever is refused where, and each
 * command must see what the commands before it in the group changed. */

/* The world of flat_fixture_open (head TEST_WORLD_EVENTS + 1 = 17), then, unrestricted: the trust
 * RGT under QUE (18), £50,000.00 to QUE (19) and £10,000.00 to QJG (20), QUE's contract C1 with
 * RGT for £12,000.00 (21) and QJG's contract C9 with RGT for £1,000.00 (22). */
enum {
    SCOPED_TO_QJG = TEST_WORLD_EVENTS + 4,
    SCOPED_HEAD = TEST_WORLD_EVENTS + 6,
    SCOPED_BATCH_BASE = 7,
};

static void scoped_world_add(ff_ledger *ledger) {
    Fundflow__V1__Command *commands[] = {
        test_org("s-rgt", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
        test_allocation("s-que", "X24", "QUE", CORE, TEST_YEAR, 5000000),
        test_allocation("s-qjg", "X24", "QJG", CORE, TEST_YEAR, 1000000),
        test_contract("s-c1", "C1", "QUE", "RGT", BLOCK, CORE, 1200000, 0, NULL),
        test_contract("s-c9", "C9", "QJG", "RGT", BLOCK, CORE, 100000, 0, NULL),
    };
    ledger_result results[5];
    assert_int_equal(test_submit_batch(ledger, commands, 5, false, results), FF_OK);
    for (size_t i = 0; i < 5; i++) assert_int_equal(results[i].failure.code, FF_OK);
    assert_int_equal(test_head_sequence(ledger), SCOPED_HEAD);
}

/* The writer for QUE, as at 1 June 2024. */
static access_principal scoped_writer(void) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "writer@que");
    snprintf(who.scope, sizeof who.scope, "QUE");
    who.role = FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER;
    who.today = 20240601;
    return who;
}

/* Commands QUE's writer may make, each recorded when nothing else is refused; the first is event
 * SCOPED_HEAD + 1 = 23, whatever is refused before it. The payment of £12,500.00 fits in C1 only
 * once the variation before it is seen: with the first payment's £1,000.00 it makes £13,500.00,
 * more than £12,000.00 but within £12,000.00 + £2,000.00 = £14,000.00. The reversal undoes that
 * first payment, an event of this very batch; C2 is agreed and then paid within it. */
static Fundflow__V1__Command *scoped_base_command(size_t index) {
    switch (index) {
    case 0: return test_payment("q-pay1", "C1", 1, 100000);
    case 1: return test_variation("q-vary", "C1", 200000);
    case 2: return test_budget("q-budget", "QUE", "06H", CORE, TEST_YEAR, 10000);
    case 3: return test_payment("q-pay2", "C1", 2, 1250000);
    case 4: return test_reversal("q-rev", SCOPED_HEAD + 1, "paid twice");
    case 5: return test_contract("q-c2", "C2", "QUE", "RGT", BLOCK, CORE, 50000, 0, NULL);
    default: return test_payment("q-pay3", "C2", 1, 50000);
    }
}

/* How QUE's writer is refused. The first three read a contract or an event for the access check
 * or the projection and are refused before they write; the last writes first. */
typedef enum scoped_refusal {
    SCOPED_REFUSED_CONTRACT_OUT_OF_SCOPE, /* a payment on QJG's contract */
    SCOPED_REFUSED_REVERSAL_OUT_OF_SCOPE, /* the reversal of X24's allocation to QJG */
    SCOPED_REFUSED_OVERPAYMENT,           /* £1,000,000.00 on C1, worth £14,000.00 at most */
    SCOPED_REFUSED_LATE,                  /* the projection hook, after 7p on C1 was written */
    SCOPED_REFUSAL_KINDS
} scoped_refusal;

static const ff_err scoped_refusal_codes[SCOPED_REFUSAL_KINDS] = {
    FF_ERR_OUT_OF_SCOPE, FF_ERR_OUT_OF_SCOPE, FF_ERR_OVERPAYMENT, FF_ERR_VETOED};

static Fundflow__V1__Command *scoped_refused_command(scoped_refusal kind) {
    switch (kind) {
    case SCOPED_REFUSED_CONTRACT_OUT_OF_SCOPE: return test_payment("bad-c9", "C9", 1, 100);
    case SCOPED_REFUSED_REVERSAL_OUT_OF_SCOPE:
        return test_reversal("bad-rev", SCOPED_TO_QJG, "not QUE's");
    case SCOPED_REFUSED_OVERPAYMENT: return test_payment("bad-pay", "C1", 3, 100000000);
    default: return test_payment(flat_late_key, "C1", 1, 7);
    }
}

/* Applies commands as QUE's writer in one batch, and frees them. */
static void scoped_submit(ff_ledger *ledger, Fundflow__V1__Command **commands, size_t count,
                          ledger_result *results) {
    access_principal who = scoped_writer();
    ledger_batch batch = {.commands = commands, .command_count = count, .actor = "writer@que",
                          .principal = &who, .recorded_at_us = TEST_RECORDED_AT_US};
    assert_int_equal(ledger_batch_apply(ledger, &batch, results), FF_OK);
    for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
}

typedef struct scoped_placed {
    scoped_refusal kind;
    size_t position;
} scoped_placed;

static size_t scoped_placed_run(ff_ledger *ledger, const void *argument,
                                ledger_result *results) {
    const scoped_placed *placed = argument;
    scoped_world_add(ledger);
    Fundflow__V1__Command *commands[FLAT_COMMANDS_MAX];
    size_t count = 0;
    for (size_t i = 0; i <= SCOPED_BATCH_BASE; i++) {
        if (i == placed->position) commands[count++] = scoped_refused_command(placed->kind);
        if (i < SCOPED_BATCH_BASE) commands[count++] = scoped_base_command(i);
    }
    scoped_submit(ledger, commands, count, results);
    return count;
}

/* A contract as it stands in the ledger: its value and what it has paid. */
static void scoped_contract_expect(ff_ledger *ledger, const char *contract_id, int64_t value,
                                   int64_t paid) {
    store_txn *txn = NULL;
    assert_int_equal(ledger_read_txn_begin(ledger, &txn), FF_OK);
    Fundflow__V1__ContractRecord *contract = NULL;
    assert_int_equal(projection_contract_read(txn, ledger_store(ledger), contract_id, UINT64_MAX,
                                              &contract), FF_OK);
    assert_int_equal(contract->value_pence, value);
    assert_int_equal(contract->paid_pence, paid);
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    ledger_read_txn_end(ledger, txn);
}

static void test_a_scoped_batch_refused_anywhere_matches_the_nested_path(void **state) {
    (void)state;
    for (int kind = 0; kind < SCOPED_REFUSAL_KINDS; kind++) {
        for (size_t position = 0; position <= SCOPED_BATCH_BASE; position++) {
            scoped_placed placed = {(scoped_refusal)kind, position};
            uint64_t replays = flat_same_as_nested(scoped_placed_run, &placed);
            assert_int_equal(replays, kind == SCOPED_REFUSED_LATE ? 1 : 0);
            flat_outcome outcome;
            flat_outcome_take(LEDGER_WRITE_FLAT, scoped_placed_run, &placed, &outcome);
            for (size_t i = 0; i < outcome.result_count; i++) {
                ff_err expected = i == position ? scoped_refusal_codes[kind] : FF_OK;
                if (outcome.results[i].failure.code != expected) {
                    fail_msg("kind %d at %zu, command %zu: %s", kind, position, i,
                             outcome.results[i].failure.detail);
                }
            }
            /* The base commands are events 23 to 29 in order, the refused one taking none. */
            size_t first = position == 0 ? 1 : 0;
            size_t last = position == SCOPED_BATCH_BASE ? SCOPED_BATCH_BASE - 1
                                                        : SCOPED_BATCH_BASE;
            assert_int_equal(outcome.results[first].sequence, SCOPED_HEAD + 1);
            assert_int_equal(outcome.results[last].sequence, SCOPED_HEAD + SCOPED_BATCH_BASE);
            free(outcome.tables);
        }
    }
}

/* A scoped batch with nothing refused: C1 is worth £12,000.00 + £2,000.00 = £14,000.00 and has
 * paid £1,000.00 + £12,500.00 - £1,000.00 reversed = £12,500.00; C2 has paid its £500.00. */
static void test_a_scoped_batch_sees_what_its_earlier_commands_changed(void **state) {
    (void)state;
    test_fixture *fixture = flat_fixture_open(LEDGER_WRITE_FLAT);
    ff_ledger *ledger = fixture->ledger;
    scoped_world_add(ledger);
    Fundflow__V1__Command *commands[SCOPED_BATCH_BASE];
    ledger_result results[SCOPED_BATCH_BASE];
    for (size_t i = 0; i < SCOPED_BATCH_BASE; i++) commands[i] = scoped_base_command(i);
    scoped_submit(ledger, commands, SCOPED_BATCH_BASE, results);
    for (size_t i = 0; i < SCOPED_BATCH_BASE; i++) {
        if (results[i].failure.code != FF_OK) fail_msg("%zu: %s", i, results[i].failure.detail);
        assert_int_equal(results[i].sequence, SCOPED_HEAD + 1 + i);
    }
    assert_int_equal(ledger_nested_replay_count(ledger), 0);
    scoped_contract_expect(ledger, "C1", 1400000, 1250000);
    scoped_contract_expect(ledger, "C2", 50000, 50000);
    test_fixture_teardown((void **)&fixture);
}

/* One group: an unrestricted batch registers the place 08X under QUE and 09Y under QJG and agrees
 * QJG's contract C8 with RGT; then QUE's writer closes M1 for 08X (in scope only through the link
 * just written), for 09Y (out of scope through its link), pays on C8 (out of scope through the
 * contract just agreed) and on C1, and closes 08X's M1 again (already closed by its batch-mate). */
static size_t scoped_group_run(ff_ledger *ledger, const void *argument, ledger_result *results) {
    (void)argument;
    scoped_world_add(ledger);
    Fundflow__V1__Command *national[] = {
        test_org("n-08x", "08X", "A new place", FUNDFLOW__V1__ORG_KIND__PLACE, "QUE"),
        test_org("n-09y", "09Y", "Another place", FUNDFLOW__V1__ORG_KIND__PLACE, "QJG"),
        test_contract("n-c8", "C8", "QJG", "RGT", BLOCK, CORE, 100000, 0, NULL),
    };
    Fundflow__V1__Command *scoped[] = {
        test_period("q-08x", "08X", 1),
        test_period("q-09y", "09Y", 1),
        test_payment("q-c8", "C8", 1, 100),
        test_payment("q-c1", "C1", 1, 100),
        test_period("q-08x-again", "08X", 1),
    };
    access_principal who = scoped_writer();
    ledger_batch batches[] = {
        {.commands = national, .command_count = 3, .actor = "test",
         .recorded_at_us = TEST_RECORDED_AT_US},
        {.commands = scoped, .command_count = 5, .actor = "writer@que", .principal = &who,
         .recorded_at_us = TEST_RECORDED_AT_US},
    };
    flat_group_apply(ledger, batches, 2, results);
    return 8;
}

static void test_a_scoped_batch_sees_what_its_group_changed(void **state) {
    (void)state;
    assert_int_equal(flat_same_as_nested(scoped_group_run, NULL), 0);
    flat_outcome outcome;
    flat_outcome_take(LEDGER_WRITE_FLAT, scoped_group_run, NULL, &outcome);
    static const ff_err expected[] = {FF_OK, FF_OK, FF_OK, FF_OK, FF_ERR_OUT_OF_SCOPE,
                                      FF_ERR_OUT_OF_SCOPE, FF_OK, FF_ERR_PERIOD_ALREADY_CLOSED};
    flat_codes_expect(&outcome, expected);
    /* Head 22: the national batch 23 to 25, the close of 08X 26, the payment on C1 27. */
    assert_int_equal(outcome.results[3].sequence, SCOPED_HEAD + 4);
    assert_int_equal(outcome.results[6].sequence, SCOPED_HEAD + 5);
    free(outcome.tables);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_refused_command_in_every_position_matches_the_nested_path),
        cmocka_unit_test(test_a_linked_batch_refused_anywhere_matches_the_nested_path),
        cmocka_unit_test(test_a_linked_batch_refused_at_its_last_command_leaves_no_trace),
        cmocka_unit_test(test_keys_repeated_within_a_group_match_the_nested_path),
        cmocka_unit_test(test_a_group_replayed_nested_matches_the_nested_path),
        cmocka_unit_test(test_a_dry_run_between_flat_batches_matches_the_nested_path),
        cmocka_unit_test(test_flows_kept_beyond_their_slots_are_stored_as_at_once),
        cmocka_unit_test(test_a_fault_at_any_write_of_a_replayed_batch_leaves_no_trace),
        cmocka_unit_test(test_a_full_map_at_any_write_of_a_replayed_batch_is_grown_and_retried),
        cmocka_unit_test(test_a_scoped_batch_refused_anywhere_matches_the_nested_path),
        cmocka_unit_test(test_a_scoped_batch_sees_what_its_earlier_commands_changed),
        cmocka_unit_test(test_a_scoped_batch_sees_what_its_group_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
