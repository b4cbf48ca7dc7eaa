/* The benchmarks' anchor: raw LMDB appends, the fastest the store's disk and LMDB can take
 * records, measured the same way as the ledger (a fresh environment opened as store_open opens
 * one, batches each one commit with full sync), so a benchmark can say what fraction of it the
 * ledger reaches in the same run. Nothing else calls it. */
#include "store_anchor.h"

#include <lmdb.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static double store_anchor_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Appends records [first, first + count) in one transaction and commits it. */
static int store_anchor_batch(MDB_env *env, MDB_dbi dbi, uint64_t first, uint64_t count,
                              uint8_t *record, size_t record_bytes) {
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    for (uint64_t i = 0; rc == MDB_SUCCESS && i < count; i++) {
        uint8_t key_bytes[LOG_KEY_BYTES];
        log_key_encode(first + i, key_bytes);
        memcpy(record, key_bytes, LOG_KEY_BYTES); /* so no two records are alike */
        MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
        MDB_val value = {.mv_size = record_bytes, .mv_data = record};
        rc = mdb_put(txn, dbi, &key, &value, MDB_APPEND);
    }
    if (rc == MDB_SUCCESS) return mdb_txn_commit(txn);
    mdb_txn_abort(txn);
    return rc;
}

ff_err store_anchor_appends_run(const char *data_dir, uint64_t count, uint64_t batch,
                                size_t record_bytes, double *seconds_out) {
    *seconds_out = 0;
    if (count == 0 || batch == 0 || record_bytes < LOG_KEY_BYTES) return FF_ERR_FIELD_MISSING;
    uint8_t *record = calloc(1, record_bytes);
    MDB_env *env = NULL;
    int rc = record != NULL ? mdb_env_create(&env) : ENOMEM;
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(env, 1);
    /* The map is sized for the records with room to spare, so it never has to grow. */
    if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env, (size_t)(count * (record_bytes + 64) * 2 +
                                                                  (64u << 20)));
    if (rc == MDB_SUCCESS) rc = mdb_env_open(env, data_dir, MDB_NOTLS | MDB_NOMEMINIT, 0600);
    MDB_txn *txn = NULL;
    MDB_dbi dbi = 0;
    if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, "log", MDB_CREATE, &dbi);
    if (rc == MDB_SUCCESS) rc = mdb_txn_commit(txn);
    double started = store_anchor_now();
    for (uint64_t done = 0; rc == MDB_SUCCESS && done < count; done += batch) {
        uint64_t size = count - done < batch ? count - done : batch;
        rc = store_anchor_batch(env, dbi, done + 1, size, record, record_bytes);
    }
    *seconds_out = store_anchor_now() - started;
    if (env != NULL) mdb_env_close(env);
    free(record);
    return rc == MDB_SUCCESS ? FF_OK : FF_ERR_STORAGE;
}
