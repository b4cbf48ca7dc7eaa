/* Verifying the hash chain, comparing projections with a replay, and rebuilding projections. */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "log.h"
#include "projection.h"

static ff_err verify_fail(verify_report *report, ff_err code, uint64_t sequence,
                          const char *reason) {
    report->code = code;
    report->sequence = sequence;
    snprintf(report->reason, sizeof report->reason, "%s", reason);
    return code;
}

/* Calls visit for every record in the log of txn, in order, after checking its hash and links.
 * Stops at the first failure. */
typedef ff_err (*verify_visit)(void *context, uint64_t sequence, store_slice value,
                               const Fundflow__V1__EventRecord *record, verify_report *report);

/* Checks one log row and hands it to visit. */
static ff_err verify_log_row(store_slice key, store_slice value, log_head *previous,
                             verify_visit visit, void *context, verify_report *report) {
    uint64_t sequence = key.bytes == LOG_KEY_BYTES ? log_key_decode(key.data) : 0;
    Fundflow__V1__EventRecord *record = NULL;
    char reason[sizeof report->reason];
    ff_err err = log_record_check(sequence, value, previous, &record, reason, sizeof reason);
    if (err != FF_OK) {
        return verify_fail(report, err, sequence ? sequence : previous->sequence + 1, reason);
    }
    report->events_checked++;
    if (visit != NULL) err = visit(context, sequence, value, record, report);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static ff_err verify_log_walk(store_txn *txn, ff_store *store, verify_visit visit, void *context,
                              verify_report *report) {
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_LOG, &cursor);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot open a cursor on the log");
    log_head previous;
    memset(&previous, 0, sizeof previous);
    store_slice key, value;
    ff_err move_err;
    for (move_err = store_cursor_move(cursor, STORE_FIRST, &key, &value);
         move_err == FF_OK && err == FF_OK;
         move_err = store_cursor_move(cursor, STORE_NEXT, &key, &value)) {
        err = verify_log_row(key, value, &previous, visit, context, report);
    }
    store_cursor_close(cursor);
    /* The walk ends cleanly only when the cursor runs off the end of the log. */
    if (err == FF_OK && move_err != FF_ERR_NOT_FOUND) {
        err = verify_fail(report, move_err, previous.sequence + 1, "cannot read the log");
    }
    return err;
}

ff_err verify_chain(ff_store *store, verify_report *report) {
    memset(report, 0, sizeof *report);
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(store, NULL, STORE_TXN_READ, &txn);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot begin a read transaction");
    err = verify_log_walk(txn, store, NULL, NULL, report);
    store_txn_abort(txn);
    return err;
}

typedef struct verify_replay {
    store_txn *txn;
    ff_store *store;
    bool copy_log;
} verify_replay;

static ff_err verify_replay_one(void *context, uint64_t sequence, store_slice value,
                                const Fundflow__V1__EventRecord *record, verify_report *report) {
    verify_replay *replay = context;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = FF_OK;
    if (replay->copy_log) err = log_append_raw(replay->txn, replay->store, sequence, value);
    if (err != FF_OK) return verify_fail(report, err, sequence, "cannot copy the event");
    err = projection_apply(replay->txn, replay->store, record, &failure);
    if (err == FF_OK) return FF_OK;
    /* A store that cannot be read or written says nothing about the projections: its error
     * stands. Any other failure means the log no longer replays as it was recorded. */
    verify_fail(report, store_error_is_failure(err) ? err : FF_ERR_PROJECTION_MISMATCH, sequence,
                "replaying the event failed: ");
    size_t used = strlen(report->reason);
    snprintf(report->reason + used, sizeof report->reason - used, "%s: %.160s", ff_err_name(err),
             failure.detail);
    return report->code;
}

/* The event a projection row was last written by, where the row records it; 0 otherwise. */
static uint64_t verify_row_sequence(store_table table, store_slice key, store_slice value) {
    if (table == STORE_TABLE_POSTINGS && key.bytes == sizeof(posting_key)) {
        return log_key_decode(((const posting_key *)key.data)->sequence_big_endian);
    }
    if (table == STORE_TABLE_BALANCES && value.bytes == sizeof(account_balance)) {
        account_balance balance;
        memcpy(&balance, value.data, sizeof balance);
        return balance.last_sequence;
    }
    if (table == STORE_TABLE_IDEMPOTENCY && value.bytes == sizeof(idempotency_record)) {
        idempotency_record record;
        memcpy(&record, value.data, sizeof record);
        return record.sequence;
    }
    return 0;
}

static bool verify_slices_equal(store_slice left, store_slice right) {
    return left.bytes == right.bytes && (left.bytes == 0 ||
                                         memcmp(left.data, right.data, left.bytes) == 0);
}

/* Names the first row where a table and its replay part, with the event that wrote it. */
static ff_err verify_row_mismatch(store_table table, uint64_t row, bool live_found,
                                  store_slice live_key, store_slice live_value,
                                  verify_report *report) {
    char reason[sizeof report->reason];
    snprintf(reason, sizeof reason, "table %s differs from a replay at row %llu",
             store_table_name(table), (unsigned long long)row);
    uint64_t sequence = live_found ? verify_row_sequence(table, live_key, live_value) : 0;
    return verify_fail(report, FF_ERR_PROJECTION_MISMATCH, sequence, reason);
}

/* Compares one table in two transactions, key by key and byte by byte. */
static ff_err verify_table_compare(store_txn *live_txn, ff_store *live, store_txn *replay_txn,
                                   ff_store *replayed, store_table table, verify_report *report) {
    store_cursor *live_cursor = NULL, *replay_cursor = NULL;
    ff_err err = store_cursor_open(live_txn, live, table, &live_cursor);
    if (err == FF_OK) err = store_cursor_open(replay_txn, replayed, table, &replay_cursor);
    if (err != FF_OK) verify_fail(report, err, 0, "cannot open a cursor to compare tables");
    store_slice live_key, live_value, replay_key, replay_value;
    uint64_t row = 0;
    while (err == FF_OK) {
        store_move move = row == 0 ? STORE_FIRST : STORE_NEXT;
        ff_err live_err = store_cursor_move(live_cursor, move, &live_key, &live_value);
        ff_err replay_err = store_cursor_move(replay_cursor, move, &replay_key, &replay_value);
        /* A failed read is not a difference: it is an error of its own. */
        ff_err read_err = live_err != FF_OK && live_err != FF_ERR_NOT_FOUND ? live_err : replay_err;
        if (read_err != FF_OK && read_err != FF_ERR_NOT_FOUND) {
            err = verify_fail(report, read_err, 0, "cannot read a table to compare it");
            break;
        }
        if (live_err == FF_ERR_NOT_FOUND && replay_err == FF_ERR_NOT_FOUND) break;
        row++;
        bool same = live_err == FF_OK && replay_err == FF_OK &&
                    verify_slices_equal(live_key, replay_key) &&
                    verify_slices_equal(live_value, replay_value);
        if (!same) {
            err = verify_row_mismatch(table, row, live_err == FF_OK, live_key, live_value,
                                      report);
        }
    }
    store_cursor_close(live_cursor);
    store_cursor_close(replay_cursor);
    return err;
}

/* The replay into the scratch store, as store_write_run's work: it starts over if the scratch
 * map fills. */
typedef struct verify_scratch_work_context {
    ff_store *live;
    store_txn *live_txn;
    ff_store *scratch;
    verify_report *report;
} verify_scratch_work_context;

static ff_err verify_scratch_work(void *argument, store_txn *scratch_txn) {
    verify_scratch_work_context *work = argument;
    memset(work->report, 0, sizeof *work->report);
    verify_replay replay = {scratch_txn, work->scratch, true};
    return verify_log_walk(work->live_txn, work->live, verify_replay_one, &replay, work->report);
}

static ff_err verify_scratch_replay(ff_store *live, store_txn *live_txn, ff_store *scratch,
                                    verify_report *report) {
    verify_scratch_work_context work = {live, live_txn, scratch, report};
    ff_err err = store_write_run(scratch, verify_scratch_work, &work);
    if (err != FF_OK && report->code == FF_OK) {
        verify_fail(report, err, 0, "cannot write the replay into the scratch store");
    }
    return err;
}

static ff_err verify_tables_compare(ff_store *live, store_txn *live_txn, ff_store *scratch,
                                    verify_report *report) {
    store_txn *scratch_txn = NULL;
    ff_err err = store_txn_begin(scratch, NULL, STORE_TXN_READ, &scratch_txn);
    for (int table = STORE_TABLE_FIRST_PROJECTION; err == FF_OK && table < STORE_TABLE_FIRST_PLUGIN;
         table++) {
        err = verify_table_compare(live_txn, live, scratch_txn, scratch, (store_table)table,
                                   report);
    }
    if (err != FF_OK && report->code == FF_OK) {
        verify_fail(report, err, 0, "cannot read the scratch store");
    }
    store_txn_abort(scratch_txn);
    return err;
}

ff_err verify_projections(ff_store *store, const char *scratch_parent_dir, verify_report *report) {
    memset(report, 0, sizeof *report);
    const char *parent = scratch_parent_dir ? scratch_parent_dir : getenv("TMPDIR");
    char scratch_dir[4096];
    snprintf(scratch_dir, sizeof scratch_dir, "%s/fundflow-verify-XXXXXX",
             parent ? parent : "/tmp");
    if (mkdtemp(scratch_dir) == NULL) {
        return verify_fail(report, FF_ERR_IO, 0, "cannot create a scratch directory");
    }
    struct ff_store *scratch = NULL;
    store_options options = {.data_dir = scratch_dir, .map_bytes = store_used_bytes(store) * 2};
    ff_err err = store_open(&options, &scratch);
    store_txn *live_txn = NULL;
    if (err == FF_OK) err = store_txn_begin(store, NULL, STORE_TXN_READ, &live_txn);
    if (err != FF_OK) {
        verify_fail(report, err, 0, scratch ? "cannot begin a read transaction on the ledger"
                                            : "cannot open the scratch store");
    }
    if (err == FF_OK) err = verify_scratch_replay(store, live_txn, scratch, report);
    if (err == FF_OK) err = verify_tables_compare(store, live_txn, scratch, report);
    store_txn_abort(live_txn);
    store_close(scratch);
    store_remove(scratch_dir);
    return err;
}

ff_err verify_ledger(ff_store *store, const char *scratch_parent_dir, verify_report *report) {
    ff_err err = verify_chain(store, report);
    if (err != FF_OK) return err;
    uint64_t events_checked = report->events_checked;
    err = verify_projections(store, scratch_parent_dir, report);
    report->events_checked = events_checked;
    return err;
}

typedef struct verify_rebuild_work_context {
    ff_store *store;
    verify_report *report;
} verify_rebuild_work_context;

static ff_err verify_rebuild_work(void *argument, store_txn *txn) {
    verify_rebuild_work_context *work = argument;
    memset(work->report, 0, sizeof *work->report);
    ff_err err = store_projections_drop(txn, work->store);
    if (err != FF_OK) return verify_fail(work->report, err, 0, "cannot drop the projections");
    verify_replay replay = {txn, work->store, false};
    /* Within one write transaction the log is read through the same txn it replays into; the
     * walk only reads the log table and the replay only writes projection tables. */
    return verify_log_walk(txn, work->store, verify_replay_one, &replay, work->report);
}

ff_err verify_rebuild_projections(ff_store *store, verify_report *report) {
    memset(report, 0, sizeof *report);
    verify_rebuild_work_context work = {store, report};
    /* The store grows the map and runs the rebuild again if the map fills. */
    ff_err err = store_write_run(store, verify_rebuild_work, &work);
    if (err != FF_OK && report->code == FF_OK) {
        verify_fail(report, err, 0, "cannot commit the rebuild");
    }
    return err;
}
