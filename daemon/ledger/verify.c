/* Verifying the hash chain, comparing projections with a replay, and rebuilding projections. */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
typedef ff_err (*verify_visit)(void *context, uint64_t sequence, const MDB_val *value,
                               const Fundflow__V1__EventRecord *record, verify_report *report);

static ff_err verify_log_walk(store_txn *txn, ff_store *store, verify_visit visit, void *context,
                              verify_report *report) {
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_LOG), &cursor);
    if (rc != MDB_SUCCESS) return verify_fail(report, store_error_from_mdb(rc), 0, "cursor");
    log_head previous;
    memset(&previous, 0, sizeof previous);
    MDB_val key, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS && err == FF_OK;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        uint64_t sequence = key.mv_size == LOG_KEY_BYTES ? log_key_decode(key.mv_data) : 0;
        Fundflow__V1__EventRecord *record = NULL;
        char reason[sizeof report->reason];
        err = log_record_check(sequence, &value, &previous, &record, reason, sizeof reason);
        if (err != FF_OK) {
            verify_fail(report, err, sequence ? sequence : previous.sequence + 1, reason);
            break;
        }
        report->events_checked++;
        if (visit != NULL) err = visit(context, sequence, &value, record, report);
        fundflow__v1__event_record__free_unpacked(record, NULL);
    }
    mdb_cursor_close(cursor);
    if (err == FF_OK && rc != MDB_NOTFOUND) {
        err = verify_fail(report, store_error_from_mdb(rc), previous.sequence + 1, "log read");
    }
    return err;
}

ff_err verify_chain(ff_store *store, verify_report *report) {
    memset(report, 0, sizeof *report);
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(store, NULL, STORE_TXN_READ, &txn);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot begin a read transaction");
    err = verify_log_walk(txn, store, NULL, NULL, report);
    mdb_txn_abort(txn);
    return err;
}

typedef struct verify_replay {
    store_txn *txn;
    ff_store *store;
    bool copy_log;
} verify_replay;

static ff_err verify_replay_one(void *context, uint64_t sequence, const MDB_val *value,
                                const Fundflow__V1__EventRecord *record, verify_report *report) {
    verify_replay *replay = context;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = FF_OK;
    if (replay->copy_log) err = log_append_raw(replay->txn, replay->store, sequence, value);
    if (err != FF_OK) return verify_fail(report, err, sequence, "cannot copy the event");
    err = projection_apply(replay->txn, replay->store, record, &failure);
    if (err == FF_OK) return FF_OK;
    verify_fail(report, err == FF_ERR_MAP_LIMIT ? err : FF_ERR_PROJECTION_MISMATCH, sequence,
                "replaying the event failed: ");
    size_t used = strlen(report->reason);
    snprintf(report->reason + used, sizeof report->reason - used, "%s: %.160s", ff_err_name(err),
             failure.detail);
    return report->code;
}

/* The event a projection row was last written by, where the row records it; 0 otherwise. */
static uint64_t verify_row_sequence(store_table table, const MDB_val *key, const MDB_val *value) {
    if (key == NULL) return 0;
    if (table == STORE_TABLE_POSTINGS && key->mv_size == sizeof(posting_key)) {
        return log_key_decode(((const posting_key *)key->mv_data)->sequence_big_endian);
    }
    if (table == STORE_TABLE_BALANCES && value->mv_size == sizeof(account_balance)) {
        account_balance balance;
        memcpy(&balance, value->mv_data, sizeof balance);
        return balance.last_sequence;
    }
    if (table == STORE_TABLE_IDEMPOTENCY && value->mv_size == sizeof(idempotency_record)) {
        idempotency_record record;
        memcpy(&record, value->mv_data, sizeof record);
        return record.sequence;
    }
    return 0;
}

/* Compares one table in two transactions, key by key and byte by byte. */
static ff_err verify_table_compare(store_txn *live_txn, ff_store *live, store_txn *replay_txn,
                                   ff_store *replayed, store_table table, verify_report *report) {
    store_cursor *live_cursor = NULL, *replay_cursor = NULL;
    int rc = mdb_cursor_open(live_txn, store_dbi(live, table), &live_cursor);
    if (rc == MDB_SUCCESS) rc = mdb_cursor_open(replay_txn, store_dbi(replayed, table),
                                                &replay_cursor);
    ff_err err = store_error_from_mdb(rc);
    MDB_val live_key, live_value, replay_key, replay_value;
    uint64_t row = 0;
    while (err == FF_OK) {
        MDB_cursor_op op = row == 0 ? MDB_FIRST : MDB_NEXT;
        int live_rc = mdb_cursor_get(live_cursor, &live_key, &live_value, op);
        int replay_rc = mdb_cursor_get(replay_cursor, &replay_key, &replay_value, op);
        if (live_rc == MDB_NOTFOUND && replay_rc == MDB_NOTFOUND) break;
        row++;
        bool same = live_rc == MDB_SUCCESS && replay_rc == MDB_SUCCESS &&
                    live_key.mv_size == replay_key.mv_size &&
                    live_value.mv_size == replay_value.mv_size &&
                    memcmp(live_key.mv_data, replay_key.mv_data, live_key.mv_size) == 0 &&
                    memcmp(live_value.mv_data, replay_value.mv_data, live_value.mv_size) == 0;
        if (!same) {
            char reason[sizeof report->reason];
            snprintf(reason, sizeof reason, "table %s differs from a replay at row %llu",
                     store_table_name(table), (unsigned long long)row);
            uint64_t sequence = verify_row_sequence(table, live_rc == MDB_SUCCESS ? &live_key : NULL,
                                                    live_rc == MDB_SUCCESS ? &live_value : NULL);
            err = verify_fail(report, FF_ERR_PROJECTION_MISMATCH, sequence, reason);
        }
    }
    if (live_cursor) mdb_cursor_close(live_cursor);
    if (replay_cursor) mdb_cursor_close(replay_cursor);
    return err;
}

static ff_err verify_scratch_replay(ff_store *live, store_txn *live_txn, ff_store *scratch,
                                    verify_report *report) {
    for (;;) {
        store_txn *scratch_txn = NULL;
        ff_err err = store_txn_begin(scratch, NULL, STORE_TXN_WRITE, &scratch_txn);
        if (err != FF_OK) return verify_fail(report, err, 0, "cannot begin the replay");
        verify_replay replay = {scratch_txn, scratch, true};
        report->events_checked = 0;
        err = verify_log_walk(live_txn, live, verify_replay_one, &replay, report);
        if (err == FF_OK) err = store_txn_commit(scratch_txn);
        else mdb_txn_abort(scratch_txn);
        if (err != FF_ERR_MAP_LIMIT) return err;
        memset(report, 0, sizeof *report);
        err = store_map_grow(scratch);
        if (err != FF_OK) return verify_fail(report, err, 0, "the scratch map is full");
    }
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
    if (scratch_txn) mdb_txn_abort(scratch_txn);
    return err;
}

static void verify_scratch_remove(const char *directory) {
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int length = snprintf(path, sizeof path, "%s/%s", directory, files[i]);
        if (length > 0 && (size_t)length < sizeof path) unlink(path);
    }
    rmdir(directory);
}

ff_err verify_projections(ff_store *store, const char *scratch_parent_dir, verify_report *report) {
    memset(report, 0, sizeof *report);
    const char *parent = scratch_parent_dir ? scratch_parent_dir : getenv("TMPDIR");
    char scratch_dir[4096];
    snprintf(scratch_dir, sizeof scratch_dir, "%s/fundflow-verify-XXXXXX", parent ? parent : "/tmp");
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
    if (live_txn) mdb_txn_abort(live_txn);
    store_close(scratch);
    verify_scratch_remove(scratch_dir);
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

ff_err verify_rebuild_projections(ff_store *store, verify_report *report) {
    for (;;) {
        memset(report, 0, sizeof *report);
        store_txn *txn = NULL;
        ff_err err = store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn);
        if (err != FF_OK) return verify_fail(report, err, 0, "cannot begin the rebuild");
        err = store_projections_drop(txn, store);
        if (err != FF_OK) verify_fail(report, err, 0, "cannot drop the projections");
        verify_replay replay = {txn, store, false};
        /* Within one write transaction the log is read through the same txn it replays into;
         * the walk only reads the log table and the replay only writes projection tables. */
        if (err == FF_OK) err = verify_log_walk(txn, store, verify_replay_one, &replay, report);
        if (err == FF_OK) err = store_txn_commit(txn);
        else mdb_txn_abort(txn);
        if (err != FF_ERR_MAP_LIMIT) return err;
        err = store_map_grow(store);
        if (err != FF_OK) return verify_fail(report, err, 0, "the map is at its maximum");
    }
}
