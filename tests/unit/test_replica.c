/* Tests of replicated apply (ledger_replica.h): a leader seals groups into entries, and a leader
 * and a follower apply each entry at increasing replicated indexes, ending byte-identical; stale,
 * repeated and damaged entries; snapshots; and the writer driven through a fake replicator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "fundflow/limits.h"
#include "ledger.h"
#include "ledger_replica.h"
#include "verify.h"
#include "writer.h"
#include "test_support.h"
#include "test_writer_job.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
/* Where the entry's records begin, and its digest of them lies (ledger_replica.c's format). */
#define ENTRY_DIGEST_OFFSET 44
#define ENTRY_HEADER_BYTES 76

/* A leader and a follower, each a ledger in a fresh directory, and the last index applied. */
typedef struct pair {
    char *leader_dir, *follower_dir;
    ff_ledger *leader, *follower;
    uint64_t index;
} pair;

/* Both ledgers hold the test world, registered alike (its records are byte-identical: the same
 * commands, actor and recording time), before anything is replicated. map_bytes 0: the
 * default map. */
static pair *pair_open_mapped(uint64_t map_bytes) {
    pair *p = calloc(1, sizeof *p);
    p->leader_dir = test_dir_make();
    p->follower_dir = test_dir_make();
    p->leader = test_ledger_open(p->leader_dir, map_bytes);
    p->follower = test_ledger_open(p->follower_dir, map_bytes);
    assert_int_equal(test_world_register(p->leader), TEST_WORLD_EVENTS);
    assert_int_equal(test_world_register(p->follower), TEST_WORLD_EVENTS);
    return p;
}

static pair *pair_open(void) { return pair_open_mapped(0); }

static void pair_close(pair *p) {
    ledger_close(p->leader);
    ledger_close(p->follower);
    test_dir_remove(p->leader_dir);
    test_dir_remove(p->follower_dir);
    free(p);
}

/* Seals one batch of commands on ledger (freeing them) into group; returns the seal's code. */
static ff_err seal_batch(ff_ledger *ledger, Fundflow__V1__Command **commands, size_t count,
                         bool linked, ledger_result *results, ledger_sealed_group *group) {
    ledger_batch batch = {.commands = commands, .command_count = count, .linked = linked,
                          .actor = "replica-test", .recorded_at_us = TEST_RECORDED_AT_US};
    ledger_result *result_lists[] = {results};
    ff_err err = ledger_batches_seal(ledger, &batch, 1, result_lists, group);
    for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
    return err;
}

/* Applies an entry on both ledgers at the next index; both must record it, or both not. */
static bool pair_apply(pair *p, const ledger_sealed_group *group) {
    p->index++;
    bool leader_recorded = false, follower_recorded = false;
    assert_int_equal(ledger_sealed_apply(p->leader, p->index, group->bytes, group->size,
                                         &leader_recorded),
                     FF_OK);
    assert_int_equal(ledger_sealed_apply(p->follower, p->index, group->bytes, group->size,
                                         &follower_recorded),
                     FF_OK);
    assert_int_equal(leader_recorded, follower_recorded);
    return leader_recorded;
}

/* Seals one batch on the leader and applies its entry on both. */
static void pair_submit(pair *p, Fundflow__V1__Command **commands, size_t count, bool linked,
                        ledger_result *results) {
    ledger_sealed_group group;
    assert_int_equal(seal_batch(p->leader, commands, count, linked, results, &group), FF_OK);
    if (group.size > 0) assert_true(pair_apply(p, &group));
    ledger_sealed_group_free(&group);
}

/* Every table of a store, the log and its tree included, as one byte string. */
typedef struct dump {
    uint8_t *bytes;
    size_t size;
} dump;

static dump dump_of(ff_ledger *ledger) {
    dump d;
    test_tables_dump(ledger_store(ledger), STORE_TABLE_LOG, STORE_TABLE_COUNT, &d.bytes, &d.size);
    return d;
}

static void assert_dump_equal(dump left, dump right) {
    assert_int_equal(left.size, right.size);
    assert_memory_equal(left.bytes, right.bytes, left.size);
}

static void assert_unchanged(ff_ledger *ledger, dump before) {
    dump now = dump_of(ledger);
    assert_dump_equal(before, now);
    free(now.bytes);
}

static uint64_t applied_of(ff_ledger *ledger) {
    uint64_t index = 99;
    assert_int_equal(ledger_applied_index_read(ledger, &index), FF_OK);
    return index;
}

static log_head head_of(ff_ledger *ledger) {
    log_head head;
    assert_int_equal(ledger_head_read(ledger, &head), FF_OK);
    return head;
}

static void assert_verified(ff_ledger *ledger) {
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
}

/* The leader and the follower hold the same bytes in every table, the same head and index. */
static void assert_pair_identical(pair *p) {
    dump leader = dump_of(p->leader), follower = dump_of(p->follower);
    assert_dump_equal(leader, follower);
    free(leader.bytes);
    free(follower.bytes);
    log_head leader_head = head_of(p->leader), follower_head = head_of(p->follower);
    assert_int_equal(leader_head.sequence, follower_head.sequence);
    assert_memory_equal(leader_head.hash, follower_head.hash, DIGEST_BYTES);
    assert_int_equal(applied_of(p->leader), p->index);
    assert_int_equal(applied_of(p->follower), p->index);
    assert_verified(p->leader);
    assert_verified(p->follower);
}

/* Three groups (allocations, budgets passed on, a reversal) applied on both at indexes 1..3.
 * World: 16 events; then allocations X24->QUE £1,000.00 (17) and X24->QJG £500.00 (18); QUE's
 * budget to 06H £250.00 (19); the reversal of 18 (20). QUE: received £1,000.00, passed on
 * £250.00; QJG: received 0 after the reversal. */
static void test_sealed_groups_apply_identically_on_leader_and_follower(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result results[2];
    Fundflow__V1__Command *allocations[] = {
        test_allocation("a-que", "X24", "QUE", CORE, TEST_YEAR, 100000),
        test_allocation("a-qjg", "X24", "QJG", CORE, TEST_YEAR, 50000)};
    pair_submit(p, allocations, 2, false, results);
    assert_int_equal(results[0].sequence, 17);
    assert_int_equal(results[1].sequence, 18);
    Fundflow__V1__Command *budget[] = {test_budget("b-06h", "QUE", "06H", CORE, TEST_YEAR, 25000)};
    pair_submit(p, budget, 1, false, results);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_int_equal(results[0].sequence, 19);
    Fundflow__V1__Command *reversal[] = {test_reversal("r-qjg", 18, "sent to the wrong ICB")};
    pair_submit(p, reversal, 1, false, results);
    assert_int_equal(results[0].sequence, 20);
    assert_int_equal(p->index, 3);
    assert_int_equal(test_head_sequence(p->follower), 20);
    assert_pair_identical(p);
    ff_ledger *both[] = {p->leader, p->follower};
    for (int i = 0; i < 2; i++) {
        ledger_position que, qjg;
        assert_int_equal(ledger_position_read(both[i], "QUE", CORE, TEST_YEAR, UINT64_MAX, &que),
                         FF_OK);
        assert_int_equal(que.received_pence, 100000);
        assert_int_equal(que.passed_on_pence, 25000);
        assert_int_equal(ledger_position_read(both[i], "QJG", CORE, TEST_YEAR, UINT64_MAX, &qjg),
                         FF_OK);
        assert_int_equal(qjg.received_pence, 0);
    }
    pair_close(p);
}

/* An entry at an index at or below the one applied changes nothing, on either ledger. */
static void test_an_index_already_applied_changes_nothing(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result result;
    Fundflow__V1__Command *first[] = {test_allocation("a1", "X24", "QUE", CORE, TEST_YEAR, 100)};
    pair_submit(p, first, 1, false, &result);
    ledger_sealed_group group;
    Fundflow__V1__Command *second[] = {test_allocation("a2", "X24", "QUE", CORE, TEST_YEAR, 200)};
    assert_int_equal(seal_batch(p->leader, second, 1, false, &result, &group), FF_OK);
    dump before = dump_of(p->follower);
    for (uint64_t index = 1; index >= 1 && index <= p->index; index--) {
        bool recorded = true;
        assert_int_equal(ledger_sealed_apply(p->follower, index, group.bytes, group.size,
                                             &recorded),
                         FF_OK);
        assert_false(recorded);
    }
    assert_unchanged(p->follower, before);
    assert_int_equal(applied_of(p->follower), 1);
    free(before.bytes);
    /* At the next index it is recorded, as sequence 18. */
    assert_true(pair_apply(p, &group));
    assert_int_equal(test_head_sequence(p->follower), 18);
    ledger_sealed_group_free(&group);
    assert_pair_identical(p);
    pair_close(p);
}

/* Two entries sealed from the same head (a deposed leader's and its successor's): the first
 * applied is recorded, the second skipped on both ledgers, with its index recorded. */
static void test_a_stale_entry_is_skipped_and_its_index_recorded(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result result;
    ledger_sealed_group old_group, new_group;
    Fundflow__V1__Command *old[] = {test_allocation("old", "X24", "QUE", CORE, TEST_YEAR, 100)};
    assert_int_equal(seal_batch(p->leader, old, 1, false, &result, &old_group), FF_OK);
    Fundflow__V1__Command *new[] = {test_allocation("new", "X24", "QJG", CORE, TEST_YEAR, 300)};
    assert_int_equal(seal_batch(p->leader, new, 1, false, &result, &new_group), FF_OK);
    /* Both follow the world's head, so both would be event 17. */
    assert_int_equal(old_group.first_sequence, 17);
    assert_int_equal(new_group.first_sequence, 17);
    assert_true(pair_apply(p, &new_group));
    dump leader_before = dump_of(p->leader);
    assert_false(pair_apply(p, &old_group));
    assert_int_equal(applied_of(p->leader), 2);
    assert_int_equal(test_head_sequence(p->leader), 17);
    ledger_position qjg;
    assert_int_equal(ledger_position_read(p->follower, "QJG", CORE, TEST_YEAR, UINT64_MAX, &qjg),
                     FF_OK);
    assert_int_equal(qjg.received_pence, 300);
    /* Only the applied index moved: every table but the meta table is as it was. */
    assert_unchanged(p->leader, leader_before);
    free(leader_before.bytes);
    ledger_sealed_group_free(&old_group);
    ledger_sealed_group_free(&new_group);
    assert_pair_identical(p);
    pair_close(p);
}

/* Applies a damaged copy of an entry on the follower: refused, nothing written. */
static void assert_damaged_entry_refused(pair *p, const uint8_t *bytes, size_t size,
                                         const dump *before, ff_err expected) {
    bool recorded = true;
    ff_err err = ledger_sealed_apply(p->follower, p->index + 1, bytes, size, &recorded);
    assert_int_equal(err, expected);
    assert_false(recorded);
    assert_unchanged(p->follower, *before);
    assert_int_equal(applied_of(p->follower), p->index);
}

/* Every byte of an entry flipped in turn, the entry cut short or lengthened: each is refused
 * whole (the digest, or the header, says so) and writes nothing, not even its index. A record
 * damaged under a digest worked out again gets past the digest but not log_record_check. */
static void test_a_corrupted_entry_writes_nothing(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result results[2];
    ledger_sealed_group group;
    Fundflow__V1__Command *commands[] = {
        test_allocation("c1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("c2", "X24", "QJG", CORE, TEST_YEAR, 200)};
    assert_int_equal(seal_batch(p->leader, commands, 2, false, results, &group), FF_OK);
    dump before = dump_of(p->follower);
    uint8_t *damaged = malloc(group.size + 1);
    for (size_t at = 0; at < group.size; at++) {
        memcpy(damaged, group.bytes, group.size);
        damaged[at] ^= 0x01;
        assert_damaged_entry_refused(p, damaged, group.size, &before,
                                     FF_ERR_REPLICA_ENTRY_INVALID);
    }
    memcpy(damaged, group.bytes, group.size);
    assert_damaged_entry_refused(p, damaged, group.size - 1, &before,
                                 FF_ERR_REPLICA_ENTRY_INVALID);
    assert_damaged_entry_refused(p, damaged, ENTRY_HEADER_BYTES - 1, &before,
                                 FF_ERR_REPLICA_ENTRY_INVALID);
    /* The second record's last hash byte changed and the digest made to match: the first record
     * replays, the second fails its hash, and the whole entry is abandoned. */
    damaged[group.size - 1] ^= 0x01;
    assert_int_equal(digest_two_parts(damaged, ENTRY_DIGEST_OFFSET, damaged + ENTRY_HEADER_BYTES,
                                      group.size - ENTRY_HEADER_BYTES,
                                      damaged + ENTRY_DIGEST_OFFSET),
                     FF_OK);
    assert_damaged_entry_refused(p, damaged, group.size, &before, FF_ERR_LOG_DECODE);
    free(damaged);
    free(before.bytes);
    /* The undamaged entry still applies. */
    assert_true(pair_apply(p, &group));
    ledger_sealed_group_free(&group);
    assert_pair_identical(p);
    pair_close(p);
}

/* A group sealed and never applied (its leader lost before replicating it) leaves no trace. */
static void test_a_sealed_group_never_applied_leaves_no_trace(void **state) {
    (void)state;
    pair *p = pair_open();
    dump before = dump_of(p->leader);
    ledger_result result;
    ledger_sealed_group group;
    Fundflow__V1__Command *commands[] = {test_org("o1", "QXX", "A new ICB",
                                                  FUNDFLOW__V1__ORG_KIND__ICB, "Y61")};
    assert_int_equal(seal_batch(p->leader, commands, 1, false, &result, &group), FF_OK);
    assert_int_equal(result.failure.code, FF_OK);
    assert_int_equal(result.sequence, 17);
    assert_int_equal(group.first_sequence, 17);
    assert_int_equal(group.last_sequence, 17);
    ledger_sealed_group_free(&group);
    assert_unchanged(p->leader, before);
    assert_int_equal(applied_of(p->leader), 0);
    free(before.bytes);
    pair_close(p);
}

/* A command replayed under its idempotency key, once its entry is applied, is answered with the
 * original sequence, and a group of nothing but replays needs no entry. */
static void test_idempotent_replays_return_the_original_sequence(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result result;
    Fundflow__V1__Command *first[] = {test_allocation("same", "X24", "QUE", CORE, TEST_YEAR, 700)};
    pair_submit(p, first, 1, false, &result);
    assert_int_equal(result.sequence, 17);
    ledger_sealed_group group;
    Fundflow__V1__Command *again[] = {test_allocation("same", "X24", "QUE", CORE, TEST_YEAR, 700)};
    assert_int_equal(seal_batch(p->leader, again, 1, false, &result, &group), FF_OK);
    assert_int_equal(result.failure.code, FF_OK);
    assert_true(result.idempotent_replay);
    assert_int_equal(result.sequence, 17);
    assert_int_equal(group.size, 0);
    assert_null(group.bytes);
    assert_int_equal(group.first_sequence, 0);
    pair_close(p);
}

/* A group of two batches: a linked one whose second command is refused (an unknown
 * organisation) records nothing, and its neighbour's one event is the entry. A dry run in the
 * same group gets its would-be sequence and adds nothing. */
static void test_a_linked_batch_refused_midway_and_a_dry_run_add_nothing(void **state) {
    (void)state;
    pair *p = pair_open();
    Fundflow__V1__Command *linked[] = {
        test_allocation("l1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("l2", "X24", "ZZZ", CORE, TEST_YEAR, 200)};
    Fundflow__V1__Command *dry[] = {test_allocation("d1", "X24", "QJG", CORE, TEST_YEAR, 300)};
    Fundflow__V1__Command *plain[] = {test_allocation("p1", "X24", "QJG", CORE, TEST_YEAR, 400)};
    ledger_batch batches[] = {
        {.commands = linked, .command_count = 2, .linked = true, .actor = "replica-test",
         .recorded_at_us = TEST_RECORDED_AT_US},
        {.commands = dry, .command_count = 1, .dry_run = true, .actor = "replica-test"},
        {.commands = plain, .command_count = 1, .actor = "replica-test"}};
    ledger_result linked_results[2], dry_result, plain_result;
    ledger_result *results[] = {linked_results, &dry_result, &plain_result};
    ledger_sealed_group group;
    assert_int_equal(ledger_batches_seal(p->leader, batches, 3, results, &group), FF_OK);
    assert_int_equal(linked_results[0].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_not_equal(linked_results[1].failure.code, FF_OK);
    assert_int_equal(dry_result.failure.code, FF_OK);
    assert_int_equal(dry_result.sequence, 17);
    assert_int_equal(plain_result.sequence, 17);
    assert_int_equal(group.first_sequence, 17);
    assert_int_equal(group.last_sequence, 17);
    assert_true(pair_apply(p, &group));
    ledger_sealed_group_free(&group);
    for (size_t i = 0; i < 2; i++) test_command_free(linked[i]);
    test_command_free(dry[0]);
    test_command_free(plain[0]);
    assert_int_equal(test_head_sequence(p->follower), 17);
    assert_pair_identical(p);
    pair_close(p);
}

/* A projection hook (what plugins install) counting the events it sees and keeping a row. */
typedef struct hook_seen {
    uint64_t events, last_sequence;
} hook_seen;

static ff_err hook_count(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record) {
    (void)txn;
    hook_seen *seen = argument;
    seen->events++;
    seen->last_sequence = record->sequence;
    return FF_OK;
}

/* The hook runs on apply, on the follower as on the leader, for each event of the entry. */
static void test_the_projection_hook_runs_on_apply(void **state) {
    (void)state;
    pair *p = pair_open();
    hook_seen seen = {0};
    ledger_project_set(p->follower, hook_count, &seen);
    ledger_result results[3];
    Fundflow__V1__Command *commands[] = {
        test_allocation("h1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("h2", "X24", "QUE", CORE, TEST_YEAR, 200),
        test_allocation("h3", "X24", "QJG", CORE, TEST_YEAR, 300)};
    pair_submit(p, commands, 3, false, results);
    assert_int_equal(seen.events, 3);
    assert_int_equal(seen.last_sequence, 19);
    ledger_project_set(p->follower, NULL, NULL);
    pair_close(p);
}

/* A snapshot written by the leader, restored into a fresh third ledger and into one with other
 * content while a read transaction stays open across the restore: every table, the head and the
 * applied index match the leader's; the open reader still sees the old content. */
static void test_a_snapshot_restores_identically(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result results[2];
    Fundflow__V1__Command *commands[] = {
        test_allocation("s1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("s2", "X24", "QJG", CORE, TEST_YEAR, 200)};
    pair_submit(p, commands, 2, false, results);
    char *snapshot_dir = test_dir_make();
    char path[4200];
    snprintf(path, sizeof path, "%s/snapshot.mdb", snapshot_dir);
    assert_int_equal(ledger_snapshot_write(p->leader, path), FF_OK);
    dump leader = dump_of(p->leader);

    char *fresh_dir = test_dir_make();
    ff_ledger *fresh = test_ledger_open(fresh_dir, 0);
    assert_int_equal(ledger_snapshot_restore(fresh, path), FF_OK);
    assert_unchanged(fresh, leader);
    assert_int_equal(applied_of(fresh), 1);
    assert_int_equal(test_head_sequence(fresh), 18);
    assert_verified(fresh);
    ledger_close(fresh);
    test_dir_remove(fresh_dir);

    /* The other ledger holds the world and one event of its own: 17, £9.99 to QUE. */
    char *other_dir = test_dir_make();
    ff_ledger *other = test_ledger_open(other_dir, 0);
    test_world_register(other);
    ledger_result result;
    assert_int_equal(test_submit(other,
                                 test_allocation("own", "X24", "QUE", CORE, TEST_YEAR, 999),
                                 &result),
                     FF_OK);
    log_head other_head = head_of(other);
    store_txn *reader = NULL;
    assert_int_equal(ledger_read_txn_begin(other, &reader), FF_OK);
    assert_int_equal(ledger_snapshot_restore(other, path), FF_OK);
    log_head seen;
    assert_int_equal(log_head_read(reader, ledger_store(other), &seen), FF_OK);
    assert_int_equal(seen.sequence, 17);
    assert_memory_equal(seen.hash, other_head.hash, DIGEST_BYTES);
    ledger_read_txn_end(other, reader);
    assert_unchanged(other, leader);
    assert_int_equal(applied_of(other), 1);
    assert_verified(other);
    /* It follows the log from there: the leader's next entry applies at index 2. */
    ledger_sealed_group group;
    Fundflow__V1__Command *next[] = {test_allocation("s3", "X24", "QUE", CORE, TEST_YEAR, 300)};
    assert_int_equal(seal_batch(p->leader, next, 1, false, &result, &group), FF_OK);
    bool recorded = false;
    assert_int_equal(ledger_sealed_apply(other, 2, group.bytes, group.size, &recorded), FF_OK);
    assert_true(recorded);
    assert_int_equal(test_head_sequence(other), 19);
    ledger_sealed_group_free(&group);
    ledger_close(other);
    test_dir_remove(other_dir);
    free(leader.bytes);
    test_dir_remove(snapshot_dir);
    pair_close(p);
}

/* The key the leader's projection hook refuses after projection_apply has written: the flat
 * try is abandoned and the group sealed again nested, as ledger_batches_apply would commit it. */
static const char *const late_refusal_key = "refuse-late";

static ff_err hook_refuse_late(void *argument, store_txn *txn,
                               const Fundflow__V1__EventRecord *record) {
    (void)argument, (void)txn;
    return strcmp(record->idempotency_key, late_refusal_key) == 0 ? FF_ERR_VETOED : FF_OK;
}

/* A batch of three whose middle command is refused after it wrote: the seal replays the group
 * nested, and the entry holds the other two, as events 17 and 18. */
static void test_a_group_replayed_nested_seals_what_it_would_commit(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_project_set(p->leader, hook_refuse_late, NULL);
    ledger_result results[3];
    Fundflow__V1__Command *commands[] = {
        test_allocation("n1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation(late_refusal_key, "X24", "QUE", CORE, TEST_YEAR, 200),
        test_allocation("n3", "X24", "QJG", CORE, TEST_YEAR, 300)};
    uint64_t replays = ledger_nested_replay_count(p->leader);
    pair_submit(p, commands, 3, false, results);
    assert_int_equal(ledger_nested_replay_count(p->leader), replays + 1);
    assert_int_equal(results[0].sequence, 17);
    assert_int_equal(results[1].failure.code, FF_ERR_VETOED);
    assert_int_equal(results[2].sequence, 18);
    assert_int_equal(test_head_sequence(p->follower), 18);
    ledger_project_set(p->leader, NULL, NULL);
    assert_pair_identical(p);
    pair_close(p);
}

/* Ledgers with the smallest map: sealing 300 allocations and applying them grows each map, the
 * seal trying its group again (and encoding it afresh) each time the map fills. 300 allocations
 * of 1p..300p: QUE receives 300 * 301 / 2 = 45,150p = £451.50. */
static void test_the_map_grows_while_sealing_and_applying(void **state) {
    (void)state;
    pair *p = pair_open_mapped(FF_MAP_BYTES_MIN);
    enum { ALLOCATIONS = 300 };
    Fundflow__V1__Command *commands[ALLOCATIONS];
    ledger_result results[ALLOCATIONS];
    for (int i = 0; i < ALLOCATIONS; i++) {
        char key[32];
        snprintf(key, sizeof key, "grow-%d", i);
        commands[i] = test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, 1 + i);
    }
    uint64_t leader_growths = ledger_map_growth_count(p->leader);
    uint64_t follower_growths = ledger_map_growth_count(p->follower);
    pair_submit(p, commands, ALLOCATIONS, false, results);
    assert_true(ledger_map_growth_count(p->leader) > leader_growths);
    assert_true(ledger_map_growth_count(p->follower) > follower_growths);
    assert_int_equal(results[ALLOCATIONS - 1].sequence, TEST_WORLD_EVENTS + ALLOCATIONS);
    ledger_position que;
    assert_int_equal(ledger_position_read(p->follower, "QUE", CORE, TEST_YEAR, UINT64_MAX, &que),
                     FF_OK);
    assert_int_equal(que.received_pence, 45150);
    assert_pair_identical(p);
    pair_close(p);
}

/* Every read and write of an apply failed in turn: each failure writes nothing, not even the
 * index, and the apply goes through once no fault is left to fire. */
static void test_a_storage_failure_while_applying_writes_nothing(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result results[2];
    ledger_sealed_group group;
    Fundflow__V1__Command *commands[] = {
        test_allocation("f1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_budget("f2", "QUE", "06H", CORE, TEST_YEAR, 50)};
    assert_int_equal(seal_batch(p->leader, commands, 2, false, results, &group), FF_OK);
    dump before = dump_of(p->follower);
    uint64_t failures = 0;
    for (uint64_t nth = 1;; nth++) {
        bool recorded = false;
        store_fault_inject(STORE_FAULT_READS | STORE_FAULT_WRITES, nth, FF_ERR_STORAGE, false);
        ff_err err = ledger_sealed_apply(p->follower, 1, group.bytes, group.size, &recorded);
        bool fired = !store_fault_pending();
        store_fault_clear();
        if (!fired) {
            assert_int_equal(err, FF_OK);
            assert_true(recorded);
            break;
        }
        assert_int_equal(err, FF_ERR_STORAGE);
        assert_false(recorded);
        assert_unchanged(p->follower, before);
        assert_int_equal(applied_of(p->follower), 0);
        failures++;
    }
    print_message("%llu store calls failed in turn\n", (unsigned long long)failures);
    assert_true(failures >= 5);
    free(before.bytes);
    bool recorded = false;
    assert_int_equal(ledger_sealed_apply(p->leader, 1, group.bytes, group.size, &recorded), FF_OK);
    p->index = 1;
    ledger_sealed_group_free(&group);
    assert_pair_identical(p);
    pair_close(p);
}

/* A snapshot whose chain is broken (event 17 deleted behind the log's back), a file that is not
 * a data file, and a path with nothing there are refused, and the ledger is left as it was. */
static void test_a_bad_snapshot_is_refused_and_changes_nothing(void **state) {
    (void)state;
    pair *p = pair_open();
    ledger_result results[2];
    Fundflow__V1__Command *commands[] = {
        test_allocation("b1", "X24", "QUE", CORE, TEST_YEAR, 100),
        test_allocation("b2", "X24", "QJG", CORE, TEST_YEAR, 200)};
    pair_submit(p, commands, 2, false, results);
    test_log_record_delete(ledger_store(p->leader), 17);
    char *snapshot_dir = test_dir_make();
    char broken[4200], garbage[4200], missing[4200];
    snprintf(broken, sizeof broken, "%s/broken.mdb", snapshot_dir);
    snprintf(garbage, sizeof garbage, "%s/garbage.mdb", snapshot_dir);
    snprintf(missing, sizeof missing, "%s/missing.mdb", snapshot_dir);
    assert_int_equal(ledger_snapshot_write(p->leader, broken), FF_OK);
    FILE *file = fopen(garbage, "w");
    assert_non_null(file);
    for (int i = 0; i < 8192; i++) fputc('x', file);
    fclose(file);
    dump before = dump_of(p->follower);
    assert_int_equal(ledger_snapshot_restore(p->follower, broken), FF_ERR_CHAIN_BROKEN);
    assert_int_not_equal(ledger_snapshot_restore(p->follower, garbage), FF_OK);
    assert_int_equal(ledger_snapshot_restore(p->follower, missing), FF_ERR_IO);
    assert_unchanged(p->follower, before);
    /* A good snapshot whose copy fails part way (each of the tables' copies in turn, then the
     * commit) leaves the ledger as it was too. */
    char good[4200];
    snprintf(good, sizeof good, "%s/good.mdb", snapshot_dir);
    assert_int_equal(ledger_snapshot_write(p->follower, good), FF_OK);
    for (uint64_t nth = 1; nth <= STORE_TABLE_COUNT + 1; nth++) {
        store_fault_inject(STORE_FAULT_WRITES, nth, FF_ERR_STORAGE, false);
        assert_int_equal(ledger_snapshot_restore(p->follower, good), FF_ERR_STORAGE);
        store_fault_clear();
        assert_unchanged(p->follower, before);
    }
    /* With no fault left to fire, the same restore goes through. */
    assert_int_equal(ledger_snapshot_restore(p->follower, good), FF_OK);
    assert_unchanged(p->follower, before);
    assert_int_equal(applied_of(p->follower), 1);
    free(before.bytes);
    test_dir_remove(snapshot_dir);
    pair_close(p);
}

/* ---- the writer with a replicator ---- */

enum { WRITER_JOBS = 40 };

/* A fake cluster: ready unless refusing; replicate applies each entry to the pair (leader and
 * follower) at the next index, or fails without applying. */
typedef struct fake_cluster {
    pair *p;
    ff_err ready_answer;
    ff_err replicate_answer; /* FF_OK: apply; else return it without applying */
    pthread_mutex_t lock;
    uint64_t replicated_last_sequence; /* the last event any replicate call returned after */
    size_t replicate_calls;
} fake_cluster;

static ff_err fake_ready(void *argument) { return ((fake_cluster *)argument)->ready_answer; }

static ff_err fake_replicate(void *argument, const uint8_t *entry, size_t entry_size) {
    fake_cluster *cluster = argument;
    pthread_mutex_lock(&cluster->lock);
    cluster->replicate_calls++;
    pthread_mutex_unlock(&cluster->lock);
    if (cluster->replicate_answer != FF_OK) return cluster->replicate_answer;
    ledger_sealed_group group = {.bytes = (uint8_t *)entry, .size = entry_size};
    if (!pair_apply(cluster->p, &group)) return FF_ERR_REPLICATION_UNKNOWN;
    pthread_mutex_lock(&cluster->lock);
    cluster->replicated_last_sequence = test_head_sequence(cluster->p->leader);
    pthread_mutex_unlock(&cluster->lock);
    return FF_OK;
}

/* Collects finished jobs, checking that each reply comes only after its entry was replicated. */
typedef struct done_list {
    fake_cluster *cluster;
    pthread_mutex_t lock;
    writer_job *jobs[WRITER_JOBS];
    size_t job_count;
} done_list;

static void done_collect(void *argument, writer_job *jobs, size_t group_commands) {
    (void)group_commands;
    done_list *done = argument;
    pthread_mutex_lock(&done->lock);
    for (writer_job *job = jobs; job != NULL;) {
        writer_job *next = job->next;
        job->next = NULL;
        if (job->group_err == FF_OK) {
            pthread_mutex_lock(&done->cluster->lock);
            assert_true(job->results[0].sequence <= done->cluster->replicated_last_sequence);
            pthread_mutex_unlock(&done->cluster->lock);
        }
        done->jobs[done->job_count++] = job;
        job = next;
    }
    pthread_mutex_unlock(&done->lock);
}

/* Runs WRITER_JOBS jobs through a writer with the fake cluster; every job comes back with
 * expected as its group's error and its result's code. */
static void writer_run(fake_cluster *cluster, ff_err expected) {
    const writer_replicator replicator = {cluster, fake_ready, fake_replicate};
    done_list done = {.cluster = cluster, .lock = PTHREAD_MUTEX_INITIALIZER};
    ff_writer *writer = NULL;
    /* commit_overlap asked for, and ignored: the entry is durable where it is applied. */
    assert_int_equal(writer_start(cluster->p->leader, WRITER_JOBS, true, &replicator,
                                  done_collect, &done, &writer),
                     FF_OK);
    for (int i = 0; i < WRITER_JOBS; i++) {
        assert_int_equal(writer_submit(writer, test_writer_job_make(i)), FF_OK);
    }
    writer_stop(writer);
    assert_int_equal(done.job_count, WRITER_JOBS);
    for (size_t i = 0; i < done.job_count; i++) {
        assert_int_equal(done.jobs[i]->group_err, expected);
        assert_int_equal(done.jobs[i]->results[0].failure.code, expected);
        writer_job_free(done.jobs[i]);
    }
}

/* Every job is recorded through an entry applied on both ledgers, which end identical: the
 * world's 16 events and 40 allocations, 56 in all; QUE received 1 + 2 + ... + 40 = 820 pence. */
static void test_the_writer_replies_after_replicate_returned(void **state) {
    (void)state;
    fake_cluster cluster = {.p = pair_open(), .lock = PTHREAD_MUTEX_INITIALIZER};
    /* commit_overlap is ignored with a replicator: the sync thread never flushes, so a flush
     * armed to fail is never reached. */
    store_fault_inject(STORE_FAULT_SYNC, 1, FF_ERR_STORAGE, false);
    writer_run(&cluster, FF_OK);
    assert_true(store_fault_pending());
    store_fault_clear();
    assert_true(cluster.replicate_calls >= 1 && cluster.replicate_calls <= WRITER_JOBS);
    assert_int_equal(test_head_sequence(cluster.p->follower), TEST_WORLD_EVENTS + WRITER_JOBS);
    ledger_position que;
    assert_int_equal(ledger_position_read(cluster.p->follower, "QUE", CORE, TEST_YEAR, UINT64_MAX,
                                          &que),
                     FF_OK);
    assert_int_equal(que.received_pence, 820);
    assert_pair_identical(cluster.p);
    pair_close(cluster.p);
}

/* A node that does not lead refuses every job with not_leader, sealing nothing. */
static void test_the_writer_refuses_when_not_ready(void **state) {
    (void)state;
    fake_cluster cluster = {.p = pair_open(), .ready_answer = FF_ERR_NOT_LEADER,
                            .lock = PTHREAD_MUTEX_INITIALIZER};
    writer_run(&cluster, FF_ERR_NOT_LEADER);
    assert_int_equal(cluster.replicate_calls, 0);
    assert_int_equal(test_head_sequence(cluster.p->leader), TEST_WORLD_EVENTS);
    pair_close(cluster.p);
}

/* Leadership lost while replicating: every job gets replication_unknown, and the leader has
 * recorded nothing (its seal was abandoned and the entry never applied). */
static void test_the_writer_passes_on_replication_unknown(void **state) {
    (void)state;
    fake_cluster cluster = {.p = pair_open(), .replicate_answer = FF_ERR_REPLICATION_UNKNOWN,
                            .lock = PTHREAD_MUTEX_INITIALIZER};
    dump before = dump_of(cluster.p->leader);
    writer_run(&cluster, FF_ERR_REPLICATION_UNKNOWN);
    assert_true(cluster.replicate_calls >= 1);
    assert_unchanged(cluster.p->leader, before);
    free(before.bytes);
    pair_close(cluster.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_groups_apply_identically_on_leader_and_follower),
        cmocka_unit_test(test_an_index_already_applied_changes_nothing),
        cmocka_unit_test(test_a_stale_entry_is_skipped_and_its_index_recorded),
        cmocka_unit_test(test_a_corrupted_entry_writes_nothing),
        cmocka_unit_test(test_a_sealed_group_never_applied_leaves_no_trace),
        cmocka_unit_test(test_idempotent_replays_return_the_original_sequence),
        cmocka_unit_test(test_a_linked_batch_refused_midway_and_a_dry_run_add_nothing),
        cmocka_unit_test(test_the_projection_hook_runs_on_apply),
        cmocka_unit_test(test_a_snapshot_restores_identically),
        cmocka_unit_test(test_a_group_replayed_nested_seals_what_it_would_commit),
        cmocka_unit_test(test_the_map_grows_while_sealing_and_applying),
        cmocka_unit_test(test_a_storage_failure_while_applying_writes_nothing),
        cmocka_unit_test(test_a_bad_snapshot_is_refused_and_changes_nothing),
        cmocka_unit_test(test_the_writer_replies_after_replicate_returned),
        cmocka_unit_test(test_the_writer_refuses_when_not_ready),
        cmocka_unit_test(test_the_writer_passes_on_replication_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
