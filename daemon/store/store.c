/* The LMDB environment behind a data directory: opening it, its tables, and keeping its map big
 * enough. */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fundflow/limits.h"

struct ff_store {
    MDB_env *env;
    MDB_dbi dbis[STORE_TABLE_COUNT];
    uint64_t map_bytes_max;
    int stale_readers_cleared_at_open;
    char *data_dir;
};

static const char *const store_table_names[STORE_TABLE_COUNT] = {
    [STORE_TABLE_LOG] = "log",
    [STORE_TABLE_ORGS] = "orgs",
    [STORE_TABLE_ACCOUNTS] = "accounts",
    [STORE_TABLE_BALANCES] = "balances",
    [STORE_TABLE_POSTINGS] = "postings",
    [STORE_TABLE_IDEMPOTENCY] = "idempotency",
    [STORE_TABLE_REVERSALS] = "reversals",
    [STORE_TABLE_ORG_LINKS] = "org_links",
    [STORE_TABLE_SERVICE_LINES] = "service_lines",
    [STORE_TABLE_DELEGATIONS] = "delegations",
    [STORE_TABLE_CONTRACTS] = "contracts",
    [STORE_TABLE_CONTRACT_STATES] = "contract_states",
    [STORE_TABLE_PARTY_CONTRACTS] = "party_contracts",
    [STORE_TABLE_PERIODS] = "periods",
    [STORE_TABLE_STATEMENTS] = "statements",
    [STORE_TABLE_HISTORY] = "history",
    [STORE_TABLE_FLOWS] = "flows",
    [STORE_TABLE_PLUGIN_DATA] = "plugin_data",
    [STORE_TABLE_PLUGIN_MARKS] = "plugin_marks",
};

const char *store_table_name(store_table table) {
    assert(table < STORE_TABLE_COUNT);
    return store_table_names[table];
}

ff_err store_error_from_mdb(int mdb_rc) {
    if (mdb_rc == MDB_SUCCESS) return FF_OK;
    if (mdb_rc == MDB_MAP_FULL) return FF_ERR_MAP_LIMIT;
    if (mdb_rc == ENOMEM) return FF_ERR_NO_MEMORY;
    return FF_ERR_STORAGE;
}

static ff_err store_directory_ensure(const char *path) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat status;
        if (stat(path, &status) == 0 && S_ISDIR(status.st_mode)) return FF_OK;
    }
    return FF_ERR_IO;
}

static ff_err store_tables_open(ff_store *store) {
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    for (int table = 0; table < STORE_TABLE_COUNT; table++) {
        rc = mdb_dbi_open(txn, store_table_names[table], MDB_CREATE, &store->dbis[table]);
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            return store_error_from_mdb(rc);
        }
    }
    return store_error_from_mdb(mdb_txn_commit(txn));
}

static ff_err store_env_open(ff_store *store, const store_options *options) {
    uint64_t map_bytes = options->map_bytes ? options->map_bytes : FF_MAP_BYTES_DEFAULT;
    if (map_bytes < FF_MAP_BYTES_MIN) map_bytes = FF_MAP_BYTES_MIN;
    if (map_bytes > store->map_bytes_max) map_bytes = store->map_bytes_max;
    int rc = mdb_env_create(&store->env);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(store->env, STORE_TABLE_COUNT + 8);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(store->env, FF_READERS_MAX);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(store->env, (size_t)map_bytes);
    /* MDB_NOTLS ties reader slots to transactions, not threads, so a server's readers can move
     * between threads. Sync stays at LMDB's default: every commit is fsynced before it returns. */
    if (rc == MDB_SUCCESS) rc = mdb_env_open(store->env, options->data_dir, MDB_NOTLS, 0600);
    return store_error_from_mdb(rc);
}

ff_err store_open(const store_options *options, ff_store **store_out) {
    assert(options != NULL && store_out != NULL);
    *store_out = NULL;
    if (options->data_dir == NULL || options->data_dir[0] == '\0') return FF_ERR_FIELD_MISSING;
    ff_err err = store_directory_ensure(options->data_dir);
    if (err != FF_OK) return err;
    ff_store *opened = calloc(1, sizeof *opened);
    if (opened == NULL) return FF_ERR_NO_MEMORY;
    opened->map_bytes_max = options->map_bytes_max ? options->map_bytes_max : FF_MAP_BYTES_MAX;
    opened->data_dir = strdup(options->data_dir);
    err = opened->data_dir ? store_env_open(opened, options) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        opened->stale_readers_cleared_at_open = store_reader_check(opened);
        err = store_tables_open(opened);
    }
    if (err != FF_OK) {
        store_close(opened);
        return err;
    }
    *store_out = opened;
    return FF_OK;
}

void store_close(ff_store *store) {
    if (store == NULL) return;
    if (store->env != NULL) mdb_env_close(store->env);
    free(store->data_dir);
    free(store);
}

MDB_env *store_env(ff_store *store) { return store->env; }

MDB_dbi store_dbi(const ff_store *store, store_table table) {
    assert(table < STORE_TABLE_COUNT);
    return store->dbis[table];
}

const char *store_data_dir(const ff_store *store) { return store->data_dir; }

ff_err store_txn_begin(ff_store *store, MDB_txn *parent, unsigned flags, MDB_txn **txn_out) {
    assert(flags == 0 || flags == MDB_RDONLY);
    int rc = mdb_txn_begin(store->env, parent, flags, txn_out);
    if (rc == MDB_MAP_RESIZED && parent == NULL) {
        /* Another process grew the map: adopt its size (0 means "as the file says") and retry. */
        rc = mdb_env_set_mapsize(store->env, 0);
        if (rc == MDB_SUCCESS) rc = mdb_txn_begin(store->env, NULL, flags, txn_out);
    }
    return store_error_from_mdb(rc);
}

/* The fault plan: when armed, the countdown'th counted call fails with fault_rc. */
static struct {
    bool armed;
    bool persistent;
    uint64_t countdown;
    int fault_rc;
} store_fault;

void store_fault_inject(uint64_t nth_call, int mdb_rc, bool persistent) {
    assert(nth_call >= 1 && mdb_rc != MDB_SUCCESS);
    store_fault.armed = true;
    store_fault.persistent = persistent;
    store_fault.countdown = nth_call;
    store_fault.fault_rc = mdb_rc;
}

void store_fault_clear(void) { memset(&store_fault, 0, sizeof store_fault); }

/* True when the fault plan says this call must fail. */
static bool store_fault_due(void) {
    if (!store_fault.armed) return false;
    if (store_fault.countdown > 1) {
        store_fault.countdown--;
        return false;
    }
    store_fault.countdown = 0;
    store_fault.armed = store_fault.persistent;
    return true;
}

int store_put(MDB_txn *txn, ff_store *store, store_table table, MDB_val *key, MDB_val *value,
              unsigned flags) {
    if (store_fault_due()) return store_fault.fault_rc;
    return mdb_put(txn, store_dbi(store, table), key, value, flags);
}

ff_err store_txn_commit(MDB_txn *txn) {
    if (store_fault_due()) {
        mdb_txn_abort(txn);
        return store_error_from_mdb(store_fault.fault_rc);
    }
    return store_error_from_mdb(mdb_txn_commit(txn));
}

uint64_t store_map_bytes(ff_store *store) {
    MDB_envinfo info;
    mdb_env_info(store->env, &info);
    return (uint64_t)info.me_mapsize;
}

uint64_t store_used_bytes(ff_store *store) {
    MDB_envinfo info;
    MDB_stat status;
    mdb_env_info(store->env, &info);
    mdb_env_stat(store->env, &status);
    return ((uint64_t)info.me_last_pgno + 1) * status.ms_psize;
}

ff_err store_map_grow(ff_store *store) {
    uint64_t current = store_map_bytes(store);
    if (current >= store->map_bytes_max) return FF_ERR_MAP_LIMIT;
    uint64_t grown = current > store->map_bytes_max / 2 ? store->map_bytes_max : current * 2;
    return store_error_from_mdb(mdb_env_set_mapsize(store->env, (size_t)grown));
}

int store_reader_check(ff_store *store) {
    int cleared = 0;
    if (mdb_reader_check(store->env, &cleared) != MDB_SUCCESS) return -1;
    return cleared;
}

int store_stale_readers_cleared_at_open(const ff_store *store) {
    return store->stale_readers_cleared_at_open;
}

ff_err store_projections_drop(ff_store *store, MDB_txn *txn) {
    for (int table = STORE_TABLE_FIRST_PROJECTION; table < STORE_TABLE_COUNT; table++) {
        int rc = mdb_drop(txn, store->dbis[table], 0);
        if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    }
    return FF_OK;
}
