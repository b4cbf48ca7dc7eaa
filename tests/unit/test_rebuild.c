/* Tests that projections rebuilt from the log are byte-for-byte identical to the live ones, that
 * verify notices a projection that has drifted from the log, and that verify and rebuild work in
 * bounded transactions: a rebuild does not grow the data file, and one cut short leaves the
 * ledger as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "account.h"
#include "log.h"
#include "fundflow/limits.h"
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

/* More allocations than one replay transaction takes, so verify's replay and rebuild commit at
 * least twice and the second transaction must carry on where the first stopped. */
enum { LONG_HISTORY_ALLOCATIONS = FF_REPLAY_EVENTS_PER_TXN + 300, LONG_HISTORY_BATCH = 1000 };

/* Appends LONG_HISTORY_ALLOCATIONS allocations of £1.00 from X24 to QUE and QJG in turn. */
static void long_history_record(ff_ledger *ledger) {
    Fundflow__V1__Command *commands[LONG_HISTORY_BATCH];
    ledger_result *results = calloc(LONG_HISTORY_BATCH, sizeof *results);
    assert_non_null(results);
    for (size_t done = 0; done < LONG_HISTORY_ALLOCATIONS;) {
        size_t count = LONG_HISTORY_ALLOCATIONS - done < LONG_HISTORY_BATCH
                           ? LONG_HISTORY_ALLOCATIONS - done
                           : LONG_HISTORY_BATCH;
        for (size_t i = 0; i < count; i++) {
            char key[32];
            snprintf(key, sizeof key, "long-%zu", done + i);
            commands[i] = test_allocation(key, "X24", (done + i) % 2 ? "QJG" : "QUE", CORE,
                                          TEST_YEAR, 100);
        }
        assert_int_equal(test_submit_batch(ledger, commands, count, false, results), FF_OK);
        for (size_t i = 0; i < count; i++) assert_int_equal(results[i].failure.code, FF_OK);
        done += count;
    }
    free(results);
}

static uint64_t data_file_bytes(const char *directory) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", directory);
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    return (uint64_t)status.st_size;
}

/* A rebuild swaps in a file written afresh by the same replay, so three in a row leave the data
 * file the size the first left it, give or take LMDB's free-list pages. Rebuilding in one write
 * transaction, as before, kept the old projections' pages until the commit and so grew the file
 * by about the size of the projections each time: here some 8,600 events' balances, postings and
 * idempotency rows, far more than the 16 pages (64 KiB at LMDB's 4 KiB page) allowed. */
enum { REBUILD_GROWTH_BYTES_MAX = 16 * 4096 };

static void test_three_rebuilds_leave_the_data_file_its_size(void **state) {
    test_fixture *f = *state;
    long_history_record(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    uint64_t sizes[4] = {data_file_bytes(f->directory)};
    verify_report report;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
        assert_int_equal(report.events_checked, test_head_sequence(f->ledger));
        sizes[i] = data_file_bytes(f->directory);
    }
    print_message("data.mdb: %llu bytes, then %llu, %llu and %llu after three rebuilds\n",
                  (unsigned long long)sizes[0], (unsigned long long)sizes[1],
                  (unsigned long long)sizes[2], (unsigned long long)sizes[3]);
    assert_true(sizes[1] <= sizes[0] + REBUILD_GROWTH_BYTES_MAX);
    assert_true(sizes[2] <= sizes[1] + REBUILD_GROWTH_BYTES_MAX);
    assert_true(sizes[3] <= sizes[1] + REBUILD_GROWTH_BYTES_MAX);
    /* The projections are the same bytes, and the ledger still verifies and takes writes. */
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    assert_int_equal(report.events_checked, test_head_sequence(f->ledger));
    assert_int_equal(test_submit(f->ledger, test_allocation("after", "X24", "QUE", CORE,
                                                            TEST_YEAR, 100), NULL), FF_OK);
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    free(before);
    free(after);
}

/* A drift in an event replayed by the second of verify's transactions is still found. */
static void test_verify_finds_a_drift_past_the_first_replay_transaction(void **state) {
    test_fixture *f = *state;
    long_history_record(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    /* The last allocation (to QJG or QUE) is past event FF_REPLAY_EVENTS_PER_TXN; drop its
     * idempotency row. */
    char key[32];
    snprintf(key, sizeof key, "long-%d", LONG_HISTORY_ALLOCATIONS - 1);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    assert_int_equal(store_delete(txn, store, STORE_TABLE_IDEMPOTENCY,
                                  STORE_SLICE(key, strlen(key))), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
    assert_int_equal(verify_ledger(store, NULL, &report), FF_ERR_PROJECTION_MISMATCH);
    assert_non_null(strstr(report.reason, "idempotency"));
}

/* Gives event sequence a wrong previous_hash and a hash that is right for its new bytes: the
 * hash checks out but the links do not (CHAIN_BROKEN, found on the replay's thread), and the
 * next event's hash no longer does (HASH_MISMATCH, found on the chain thread). */
static void log_link_break(ff_store *store, uint64_t sequence) {
    size_t before_bytes = 0, length = 0;
    uint8_t *before = test_log_value_copy(store, sequence - 1, &before_bytes);
    uint8_t *value = test_log_value_copy(store, sequence, &length);
    const uint8_t *previous_hash = before + before_bytes - DIGEST_BYTES;
    size_t canonical = length - LOG_HASH_TRAILER_BYTES;
    uint8_t *field = memmem(value, canonical, previous_hash, DIGEST_BYTES);
    assert_non_null(field);
    field[0] ^= 0x01;
    assert_int_equal(digest_two_parts(previous_hash, DIGEST_BYTES, value, canonical,
                                      value + length - DIGEST_BYTES), FF_OK);
    test_log_value_replace(store, sequence, value, length);
    free(before);
    free(value);
}

/* What verify_chain (one thread, event by event) reports, which verify_ledger (and a rebuild,
 * if rebuild_too) must report too: the same code, sequence, count and reason. */
static void verify_reports_match_the_chain_walk(ff_store *store, ff_err expected,
                                                uint64_t sequence, bool rebuild_too) {
    verify_report chain, reports[2];
    assert_int_equal(verify_chain(store, &chain), expected);
    assert_int_equal(chain.sequence, sequence);
    assert_int_equal(verify_ledger(store, NULL, &reports[0]), expected);
    if (rebuild_too) assert_int_equal(verify_rebuild_projections(store, &reports[1]), expected);
    for (size_t i = 0; i < (rebuild_too ? 2 : 1); i++) {
        assert_int_equal(reports[i].code, chain.code);
        assert_int_equal(reports[i].sequence, chain.sequence);
        assert_int_equal(reports[i].events_checked, chain.events_checked);
        assert_string_equal(reports[i].reason, chain.reason);
    }
}

/* Every single changed byte of the newest event is reported by verify, whose hashes are checked
 * on another thread, exactly as the one-thread walk of the chain reports it. (A rebuild reads the
 * log's head before it replays, so a spoilt trailer on the newest event stops it there.) */
static void test_every_changed_byte_is_reported_as_the_chain_walk_reports_it(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    uint64_t head = test_head_sequence(f->ledger);
    size_t length = 0;
    uint8_t *original = test_log_value_copy(store, head, &length);
    uint8_t *tampered = malloc(length);
    assert_non_null(tampered);
    for (size_t position = 0; position < length; position++) {
        memcpy(tampered, original, length);
        tampered[position] ^= 0x01;
        test_log_value_replace(store, head, tampered, length);
        verify_report report;
        ff_err err = verify_chain(store, &report);
        assert_int_not_equal(err, FF_OK);
        verify_reports_match_the_chain_walk(store, err, head, false);
    }
    test_log_value_replace(store, head, original, length);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    free(tampered);
    free(original);
}

/* Two failures, one found by each thread, in either order and across the boundary between the
 * chain thread's pieces (FF_REPLAY_EVENTS_PER_TXN events each): the first in sequence order is
 * reported, as when one thread did both. */
static void test_of_two_failures_the_first_in_sequence_order_is_reported(void **state) {
    test_fixture *f = *state;
    long_history_record(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    /* A broken link at the last event of the first piece: CHAIN_BROKEN there (the replay's
     * thread) comes before the HASH_MISMATCH the chain thread finds at the next, in the next
     * piece. */
    const uint64_t boundary = FF_REPLAY_EVENTS_PER_TXN;
    log_link_break(store, boundary);
    verify_reports_match_the_chain_walk(store, FF_ERR_CHAIN_BROKEN, boundary, true);
    /* A changed byte earlier, in the first piece: its HASH_MISMATCH (the chain thread) comes
     * first, though the other thread's failure is in the same piece. */
    const uint64_t earlier = 100;
    size_t length = 0;
    uint8_t *value = test_log_value_copy(store, earlier, &length);
    value[length / 2] ^= 0x40;
    test_log_value_replace(store, earlier, value, length);
    verify_reports_match_the_chain_walk(store, FF_ERR_HASH_MISMATCH, earlier, true);
    free(value);
}

/* A broken link at the first event of a piece, found by the replay's thread while the chain
 * thread has already stopped at the next event's hash. */
static void test_a_broken_link_at_a_piece_start_is_reported_there(void **state) {
    test_fixture *f = *state;
    long_history_record(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    log_link_break(store, FF_REPLAY_EVENTS_PER_TXN + 1);
    verify_reports_match_the_chain_walk(store, FF_ERR_CHAIN_BROKEN, FF_REPLAY_EVENTS_PER_TXN + 1,
                                        true);
}

/* A rebuild that stopped before its swap (a crash) leaves its store in VERIFY_REBUILD_DIR_NAME
 * and the ledger as it was; the next rebuild starts that store afresh and removes it. */
static void test_a_rebuild_cut_short_leaves_the_ledger_as_it_was(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    char leftover[4096];
    snprintf(leftover, sizeof leftover, "%s/" VERIFY_REBUILD_DIR_NAME, f->directory);
    /* What a crash part way through the replay leaves: a store holding part of the log. */
    ff_store *partial = NULL;
    store_options options = {.data_dir = leftover};
    assert_int_equal(store_open(&options, &partial), FF_OK);
    store_txn *live = NULL, *txn = NULL;
    store_slice value;
    uint8_t first[LOG_KEY_BYTES];
    log_key_encode(1, first);
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &live), FF_OK);
    assert_int_equal(store_get(live, store, STORE_TABLE_LOG, STORE_SLICE(first, sizeof first),
                               &value), FF_OK);
    assert_int_equal(store_txn_begin(partial, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    assert_int_equal(log_append_raw(txn, partial, 1, value), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
    store_txn_abort(live);
    store_close(partial);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    struct stat status;
    assert_int_not_equal(stat(leftover, &status), 0);
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
}

/* While another process has the data directory open, rebuild refuses and changes nothing: its
 * swap would leave that process on the old file. The child opens the store, says so on a pipe
 * and holds it until the parent closes the other pipe. */
static void test_rebuild_refuses_while_another_process_has_the_store_open(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    int opened[2], finished[2];
    assert_int_equal(pipe(opened), 0);
    assert_int_equal(pipe(finished), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(opened[0]);
        close(finished[1]);
        ff_store *other = NULL;
        store_options options = {.data_dir = f->directory};
        char ok = store_open(&options, &other) == FF_OK ? 'y' : 'n';
        if (write(opened[1], &ok, 1) != 1) _exit(2);
        char ignored;
        while (read(finished[0], &ignored, 1) > 0) continue;
        store_close(other);
        _exit(0);
    }
    close(opened[1]);
    close(finished[0]);
    char ok = 0;
    assert_int_equal(read(opened[0], &ok, 1), 1);
    assert_int_equal(ok, 'y');
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    uint64_t size_before = data_file_bytes(f->directory);
    verify_report report;
    assert_int_equal(verify_rebuild_projections(store, &report), FF_ERR_STORAGE);
    assert_non_null(strstr(report.reason, "another process"));
    close(finished[1]);
    int status = -1;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(opened[0]);
    /* The store is still open here, on the old file, and still right. */
    assert_int_equal(data_file_bytes(f->directory), size_before);
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    free(before);
    free(after);
}

/* What a progress reporter was told last for each stage, and how often. */
typedef struct progress_seen {
    uint64_t calls[3];
    uint64_t done[3];
    uint64_t total[3];
} progress_seen;

static void progress_record(void *context, verify_stage stage, uint64_t done, uint64_t total) {
    progress_seen *seen = context;
    assert_true(stage <= VERIFY_STAGE_COMPARE);
    assert_true(done <= total);
    seen->calls[stage]++;
    seen->done[stage] = done;
    seen->total[stage] = total;
}

static void test_progress_ends_at_the_totals(void **state) {
    test_fixture *f = *state;
    ff_store *store = ledger_store(f->ledger);
    uint64_t head = test_head_sequence(f->ledger);
    progress_seen seen;
    memset(&seen, 0, sizeof seen);
    verify_progress progress = {progress_record, &seen};
    verify_report report;
    assert_int_equal(verify_ledger_watched(store, NULL, &progress, &report), FF_OK);
    /* The replay checks the chain as it goes: one pass over the log, reported as the replay. */
    assert_int_equal(seen.calls[VERIFY_STAGE_CHAIN], 0);
    assert_true(seen.calls[VERIFY_STAGE_REPLAY] >= 1);
    assert_int_equal(seen.done[VERIFY_STAGE_REPLAY], head);
    assert_int_equal(seen.total[VERIFY_STAGE_REPLAY], head);
    /* One call per projection table compared, from orgs to plans. */
    uint64_t tables = STORE_TABLE_FIRST_PLUGIN - STORE_TABLE_FIRST_PROJECTION;
    assert_int_equal(seen.calls[VERIFY_STAGE_COMPARE], tables);
    assert_int_equal(seen.done[VERIFY_STAGE_COMPARE], tables);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(verify_rebuild_watched(store, &progress, &report), FF_OK);
    assert_int_equal(seen.calls[VERIFY_STAGE_CHAIN], 0);
    assert_int_equal(seen.done[VERIFY_STAGE_REPLAY], head);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define REBUILD_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        REBUILD_TEST(test_rebuild_is_byte_identical),
        REBUILD_TEST(test_rebuild_restores_dropped_projections),
        REBUILD_TEST(test_verify_catches_a_drifted_balance_and_rebuild_mends_it),
        REBUILD_TEST(test_verify_catches_a_missing_idempotency_entry),
        REBUILD_TEST(test_three_rebuilds_leave_the_data_file_its_size),
        REBUILD_TEST(test_verify_finds_a_drift_past_the_first_replay_transaction),
        REBUILD_TEST(test_a_rebuild_cut_short_leaves_the_ledger_as_it_was),
        REBUILD_TEST(test_rebuild_refuses_while_another_process_has_the_store_open),
        REBUILD_TEST(test_progress_ends_at_the_totals),
        REBUILD_TEST(test_every_changed_byte_is_reported_as_the_chain_walk_reports_it),
        REBUILD_TEST(test_of_two_failures_the_first_in_sequence_order_is_reported),
        REBUILD_TEST(test_a_broken_link_at_a_piece_start_is_reported_there),
#undef REBUILD_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
