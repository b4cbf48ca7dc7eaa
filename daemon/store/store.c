/* The LMDB environment behind a data directory: opening it, its tables, and keeping its map big
 * enough. */
#include "store.h"

#include <lmdb.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fundflow/limits.h"

struct ff_store {
    MDB_env *env;
    MDB_dbi dbis[STORE_TABLE_COUNT];
    uint64_t map_bytes_max;
    int stale_readers_cleared_at_open;
    char *data_dir;
    /* Readers hold it shared for the life of their transactions; map growth holds it alone. */
    pthread_rwlock_t map_lock;
    uint64_t map_growth_count;
    uint32_t layout_version; /* of the open data file; see STORE_LAYOUT_VERSION */
    /* Whether the environment's MDB_NOMETASYNC is on now: set for each top-level write
     * transaction to what its thread asked for, under LMDB's writer lock. */
    bool meta_sync_deferred;
    /* Kept read transactions of attached threads (store_reader_attach), under readers_lock. */
    pthread_mutex_t readers_lock;
    struct store_reader *readers_kept;
    uint64_t read_txns_renewed; /* atomic */
    MDB_dbi meta_dbi; /* the meta table (store_meta_table_name) */
    /* How each duplicate table's keys split (layout 3); NULL for a plain table, and for every
     * table of a file of an older layout, whose tables are all plain. */
    const struct store_split *splits[STORE_TABLE_COUNT];
};

/* The table outside store_table that records the file's layout, under store_layout_key, as 4
 * bytes big-endian. Not a projection: verify neither compares nor rebuilds it; a fresh file
 * gets the current layout when it is made. */
static const char store_meta_table_name[] = "meta";
static const char store_layout_key[] = "layout";

/* A read transaction one thread keeps between its reads: reset while the thread is idle, so it
 * pins no snapshot and the writer may reuse pages, and renewed by its next store_read_begin. */
typedef struct store_reader {
    ff_store *store;
    MDB_txn *txn;                /* NULL, or reset and ready to renew */
    bool in_use;                 /* between store_read_begin and store_read_end */
    struct store_reader *next;   /* in store->readers_kept */
} store_reader;

/* The calling thread's kept read transaction, if it attached one. */
static _Thread_local store_reader *store_thread_reader;

/* Whether top-level commits on the calling thread leave their final flush to store_sync. */
static _Thread_local bool store_thread_sync_deferred;

static const char *const store_table_names[STORE_TABLE_COUNT] = {
    [STORE_TABLE_LOG] = "log",
    [STORE_TABLE_MERKLE] = "merkle",
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
    [STORE_TABLE_PRINCIPALS] = "principals",
    [STORE_TABLE_PRINCIPAL_TOKENS] = "principal_tokens",
    [STORE_TABLE_ACTOR_EVENTS] = "actor_events",
    [STORE_TABLE_REVENUE_LIMITS] = "revenue_limits",
    [STORE_TABLE_PLANS] = "plans",
    [STORE_TABLE_PLUGIN_DATA] = "plugin_data",
    [STORE_TABLE_PLUGIN_MARKS] = "plugin_marks",
};

/* ---- duplicate tables (layout 3) ---- */

/* memcmp's order of two byte strings, the shorter first when one begins the other: LMDB's
 * default order of keys. */
static int store_bytes_compare(const void *left, size_t left_bytes, const void *right,
                               size_t right_bytes) {
    size_t common = left_bytes < right_bytes ? left_bytes : right_bytes;
    int order = common > 0 ? memcmp(left, right, common) : 0;
    if (order != 0) return order;
    return (left_bytes > right_bytes) - (left_bytes < right_bytes);
}

/* How a duplicate table's key splits into LMDB's main key and duplicate. The main part is
 * main_bytes long, or, when main_bytes is 0, runs through the key's first zero byte; after it
 * come exactly STORE_SUFFIX_BYTES (a sequence), which lead the duplicate, followed there by the
 * value unless values_empty (an MDB_DUPFIXED table, whose duplicate is the suffix alone). Main
 * parts are prefix-free (of one length, or ending at their only zero byte), so ordering rows by
 * (main part, duplicate) orders them by their whole keys, as a plain table would. */
typedef struct store_split {
    size_t main_bytes;
    bool values_empty;
} store_split;

enum { STORE_SUFFIX_BYTES = 8 };

static const store_split store_splits[STORE_TABLE_COUNT] = {
    [STORE_TABLE_POSTINGS] = {.main_bytes = STORE_POSTING_MAIN_BYTES, .values_empty = false},
    [STORE_TABLE_HISTORY] = {.main_bytes = 0, .values_empty = true},
    [STORE_TABLE_ACTOR_EVENTS] = {.main_bytes = 0, .values_empty = true},
};

static bool store_table_has_duplicates(store_table table) {
    return table == STORE_TABLE_POSTINGS || table == STORE_TABLE_HISTORY ||
           table == STORE_TABLE_ACTOR_EVENTS;
}

/* The LMDB flags of a table in a file of the given layout. */
static unsigned store_table_flags(store_table table, uint32_t layout) {
    if (layout < 3 || !store_table_has_duplicates(table)) return 0;
    return store_splits[table].values_empty ? MDB_DUPSORT | MDB_DUPFIXED : MDB_DUPSORT;
}

/* Orders a table's duplicates that carry a value after their suffix (postings) by the suffix
 * alone, so that a row's identity is its whole key, as in a plain table: a put of an existing
 * key meets it (MDB_NODUPDATA refuses it) whatever the two values, and a get or delete finds a
 * row by its key without knowing its value. A probe shorter than the suffix (a seek) sorts
 * before the rows it is a prefix of. Stored duplicates all hold the suffix, so this order is
 * also memcmp's, which LMDB's tools assume. */
static int store_suffix_compare(const MDB_val *left, const MDB_val *right) {
    size_t left_bytes = left->mv_size < STORE_SUFFIX_BYTES ? left->mv_size : STORE_SUFFIX_BYTES;
    size_t right_bytes = right->mv_size < STORE_SUFFIX_BYTES ? right->mv_size : STORE_SUFFIX_BYTES;
    return store_bytes_compare(left->mv_data, left_bytes, right->mv_data, right_bytes);
}

const char *store_table_name(store_table table) {
    assert(table < STORE_TABLE_COUNT);
    return store_table_names[table];
}

/* LMDB's return code as an ff_err. */
static ff_err store_error_of(int mdb_rc) {
    if (mdb_rc == MDB_SUCCESS) return FF_OK;
    if (mdb_rc == MDB_MAP_FULL) return FF_ERR_MAP_LIMIT;
    if (mdb_rc == ENOMEM) return FF_ERR_NO_MEMORY;
    /* LMDB passes the file system's errno through: a full disk, a spent quota or a file-size
     * limit are the operator's to fix, not a fault in the ledger, so they are told apart. */
    if (mdb_rc == ENOSPC || mdb_rc == EDQUOT || mdb_rc == EFBIG) return FF_ERR_STORAGE_FULL;
    return FF_ERR_STORAGE;
}

/* The store's transactions and cursors are LMDB's. Casting here, and only here, lets their types
 * be opaque to every other file. */
static MDB_txn *store_mdb_txn(store_txn *txn) { return (MDB_txn *)txn; }

static ff_err store_directory_ensure(const char *path) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat status;
        if (stat(path, &status) == 0 && S_ISDIR(status.st_mode)) return FF_OK;
    }
    return FF_ERR_IO;
}

/* Reads the file's layout inside txn, recording the current one in a file just made (fresh: it
 * had no log table before this open). A file with tables but no record is layout 1. */
static int store_layout_settle(ff_store *store, MDB_txn *txn, bool fresh) {
    int rc = mdb_dbi_open(txn, store_meta_table_name, MDB_CREATE, &store->meta_dbi);
    MDB_dbi meta = store->meta_dbi;
    MDB_val key = {.mv_size = sizeof store_layout_key - 1, .mv_data = (void *)store_layout_key};
    MDB_val value;
    if (rc == MDB_SUCCESS) rc = mdb_get(txn, meta, &key, &value);
    if (rc == MDB_NOTFOUND && !fresh) {
        store->layout_version = 1;
        return MDB_SUCCESS;
    }
    if (rc == MDB_NOTFOUND) {
        uint8_t bytes[4] = {0, 0, 0, STORE_LAYOUT_VERSION};
        static_assert(STORE_LAYOUT_VERSION < 256, "the layout is written as its last byte");
        value = (MDB_val){.mv_size = sizeof bytes, .mv_data = bytes};
        store->layout_version = STORE_LAYOUT_VERSION;
        return mdb_put(txn, meta, &key, &value, 0);
    }
    if (rc != MDB_SUCCESS) return rc;
    if (value.mv_size != 4) return MDB_CORRUPTED;
    const uint8_t *bytes = value.mv_data;
    store->layout_version = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
                            (uint32_t)bytes[2] << 8 | bytes[3];
    return store->layout_version >= 1 ? MDB_SUCCESS : MDB_CORRUPTED;
}

/* Opens one table with the flags the file's layout made it with: an older layout's tables are
 * plain and are never read as duplicate tables. A table whose stored flags differ is refused. */
static int store_table_open(ff_store *store, MDB_txn *txn, store_table table) {
    unsigned flags = store_table_flags(table, store->layout_version);
    int rc = mdb_dbi_open(txn, store_table_names[table], MDB_CREATE | flags, &store->dbis[table]);
    unsigned found = 0;
    if (rc == MDB_SUCCESS) rc = mdb_dbi_flags(txn, store->dbis[table], &found);
    if (rc == MDB_SUCCESS && (found & (MDB_DUPSORT | MDB_DUPFIXED)) != flags) {
        rc = MDB_INCOMPATIBLE;
    }
    if (rc == MDB_SUCCESS && flags != 0 && !store_splits[table].values_empty) {
        rc = mdb_set_dupsort(txn, store->dbis[table], store_suffix_compare);
    }
    store->splits[table] = rc == MDB_SUCCESS && flags != 0 ? &store_splits[table] : NULL;
    return rc;
}

static ff_err store_tables_open(ff_store *store) {
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS) return store_error_of(rc);
    MDB_dbi probe;
    int log_rc = mdb_dbi_open(txn, store_table_names[STORE_TABLE_LOG], 0, &probe);
    bool fresh = log_rc == MDB_NOTFOUND;
    rc = log_rc == MDB_SUCCESS || fresh ? MDB_SUCCESS : log_rc;
    if (rc == MDB_SUCCESS) rc = store_layout_settle(store, txn, fresh);
    /* A newer layout's file is left exactly as it is: not even a missing table is added. */
    bool newer = rc == MDB_SUCCESS && store->layout_version > STORE_LAYOUT_VERSION;
    for (int table = 0; rc == MDB_SUCCESS && !newer && table < STORE_TABLE_COUNT; table++) {
        rc = store_table_open(store, txn, (store_table)table);
    }
    if (rc != MDB_SUCCESS || newer) {
        mdb_txn_abort(txn);
        return newer ? FF_ERR_LAYOUT_NEWER : store_error_of(rc);
    }
    return store_error_of(mdb_txn_commit(txn));
}

uint32_t store_layout_version(const ff_store *store) { return store->layout_version; }

static ff_err store_env_open(ff_store *store, const store_options *options) {
    uint64_t map_bytes = options->map_bytes ? options->map_bytes : FF_MAP_BYTES_DEFAULT;
    if (map_bytes < FF_MAP_BYTES_MIN) map_bytes = FF_MAP_BYTES_MIN;
    if (map_bytes > store->map_bytes_max) map_bytes = store->map_bytes_max;
    int rc = mdb_env_create(&store->env);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(store->env, STORE_TABLE_COUNT + 8);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(store->env, FF_READERS_MAX);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(store->env, (size_t)map_bytes);
    /* MDB_NOTLS ties reader slots to transactions, not threads, so a server's readers can move
     * between threads, and lets one thread keep a reset transaction (store_reader_attach).
     * Sync stays at LMDB's default, every commit flushed before it returns, except the top-level
     * commits of a thread that deferred its meta page's flush (store_meta_sync_choose).
     * MDB_NOMEMINIT skips zeroing each page LMDB mallocs for a write, which was nearly half of a
     * command's instructions. LMDB never reads a page's unused bytes, so the data stay exact;
     * but those bytes go to the file as the heap left them, so data.mdb may hold fragments of
     * this process's freed memory. The file is 0600 and holds the ledger itself; see
     * docs/BENCHMARKS.md, "The write path's cost". */
    unsigned flags = MDB_NOTLS | MDB_NOMEMINIT;
    if (rc == MDB_SUCCESS) rc = mdb_env_open(store->env, options->data_dir, flags, 0600);
    /* Duplicate tables' keys and duplicates are sized by LMDB's largest key. */
    int key_bytes_max = rc == MDB_SUCCESS ? mdb_env_get_maxkeysize(store->env) : 0;
    if (rc == MDB_SUCCESS && key_bytes_max < FF_STORE_DUPLICATE_KEY_BYTES_MAX) {
        rc = MDB_INCOMPATIBLE;
    }
    store->meta_sync_deferred = false;
    return store_error_of(rc);
}

ff_err store_open(const store_options *options, ff_store **store_out) {
    assert(options != NULL && store_out != NULL);
    *store_out = NULL;
    if (options->data_dir == NULL || options->data_dir[0] == '\0') return FF_ERR_FIELD_MISSING;
    ff_err err = store_directory_ensure(options->data_dir);
    if (err != FF_OK) return err;
    ff_store *opened = calloc(1, sizeof *opened);
    if (opened == NULL) return FF_ERR_NO_MEMORY;
    pthread_rwlock_init(&opened->map_lock, NULL);
    pthread_mutex_init(&opened->readers_lock, NULL);
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
    /* Every thread that kept a read transaction detached before the store closes. */
    assert(store->readers_kept == NULL);
    if (store->env != NULL) mdb_env_close(store->env);
    free(store->data_dir);
    pthread_rwlock_destroy(&store->map_lock);
    pthread_mutex_destroy(&store->readers_lock);
    free(store);
}

static ff_err store_map_double(ff_store *store);

static MDB_dbi store_table_dbi(const ff_store *store, store_table table) {
    assert(table < STORE_TABLE_COUNT);
    return store->dbis[table];
}

const char *store_data_dir(const ff_store *store) { return store->data_dir; }

void store_remove(const char *data_dir) {
    /* The two files LMDB keeps in a directory opened without MDB_NOSUBDIR. */
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int length = snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
        if (length > 0 && (size_t)length < sizeof path) unlink(path);
    }
    rmdir(data_dir);
}

/* The fault plan: when armed, the countdown'th counted call of the armed kinds fails with err.
 * A test arms it on one thread while the store may be used on several (verify reads on a chain
 * thread of its own too), so armed is read atomically, the one cheap check every call makes
 * when no fault is planned, and the plan is read and changed only under store_fault_lock. The
 * error of a fault that fired is the firing thread's own copy, store_fault_fired. */
static struct {
    bool armed; /* atomic */
    bool persistent;
    unsigned kinds;
    uint64_t countdown;
    ff_err err;
} store_fault;
static pthread_mutex_t store_fault_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local ff_err store_fault_fired;

void store_fault_inject(unsigned kinds, uint64_t nth_call, ff_err err, bool persistent) {
    assert(nth_call >= 1 && err != FF_OK && err != FF_ERR_NOT_FOUND);
    assert(kinds != 0 &&
           (kinds & ~(unsigned)(STORE_FAULT_WRITES | STORE_FAULT_READS | STORE_FAULT_SYNC)) == 0);
    pthread_mutex_lock(&store_fault_lock);
    store_fault.persistent = persistent;
    store_fault.kinds = kinds;
    store_fault.countdown = nth_call;
    store_fault.err = err;
    __atomic_store_n(&store_fault.armed, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&store_fault_lock);
}

void store_fault_clear(void) {
    pthread_mutex_lock(&store_fault_lock);
    __atomic_store_n(&store_fault.armed, false, __ATOMIC_RELEASE);
    store_fault.persistent = false;
    store_fault.kinds = 0;
    store_fault.countdown = 0;
    store_fault.err = FF_OK;
    pthread_mutex_unlock(&store_fault_lock);
}

bool store_fault_pending(void) { return __atomic_load_n(&store_fault.armed, __ATOMIC_ACQUIRE); }

/* True when the fault plan says this call, of the given kind, must fail (its error then in
 * store_fault_fired). */
static bool store_fault_due(store_fault_kind kind) {
    if (!__atomic_load_n(&store_fault.armed, __ATOMIC_ACQUIRE)) return false;
    bool due = false;
    pthread_mutex_lock(&store_fault_lock);
    if (__atomic_load_n(&store_fault.armed, __ATOMIC_RELAXED) && (store_fault.kinds & kind) != 0) {
        if (store_fault.countdown > 1) {
            store_fault.countdown--;
        } else {
            store_fault.countdown = 0;
            __atomic_store_n(&store_fault.armed, store_fault.persistent, __ATOMIC_RELEASE);
            store_fault_fired = store_fault.err;
            due = true;
        }
    }
    pthread_mutex_unlock(&store_fault_lock);
    return due;
}

/* Sets the environment's MDB_NOMETASYNC to what the calling thread asked for
 * (store_commit_sync_defer), for the top-level write transaction it has just begun. LMDB allows
 * the flag to change at any time and reads it at the commit, when it writes the meta page: with
 * it, through the data file's ordinary descriptor, flushed by the next flush of the file; without
 * it, through the descriptor opened with O_DSYNC. LMDB's writer lock, held from the begin to the
 * commit or abort, keeps one writer's choice from another's. */
static int store_meta_sync_choose(ff_store *store) {
    bool deferred = store_thread_sync_deferred;
    if (store->meta_sync_deferred == deferred) return MDB_SUCCESS;
    int rc = mdb_env_set_flags(store->env, MDB_NOMETASYNC, deferred ? 1 : 0);
    if (rc == MDB_SUCCESS) store->meta_sync_deferred = deferred;
    return rc;
}

/* store_txn_begin without its fault injection point. */
static ff_err store_txn_begin_mdb(ff_store *store, store_txn *parent, store_txn_mode mode,
                                  store_txn **txn_out) {
    unsigned flags = mode == STORE_TXN_READ ? MDB_RDONLY : 0;
    MDB_txn *begun = NULL;
    int rc = mdb_txn_begin(store->env, store_mdb_txn(parent), flags, &begun);
    if (rc == MDB_MAP_RESIZED && parent == NULL) {
        /* Another process grew the map: adopt its size (0 means "as the file says") and retry. */
        rc = mdb_env_set_mapsize(store->env, 0);
        if (rc == MDB_SUCCESS) rc = mdb_txn_begin(store->env, NULL, flags, &begun);
    }
    if (rc == MDB_SUCCESS && mode == STORE_TXN_WRITE && parent == NULL) {
        rc = store_meta_sync_choose(store);
        if (rc != MDB_SUCCESS) mdb_txn_abort(begun);
    }
    if (rc == MDB_SUCCESS) *txn_out = (store_txn *)begun;
    return store_error_of(rc);
}

ff_err store_txn_begin(ff_store *store, store_txn *parent, store_txn_mode mode,
                       store_txn **txn_out) {
    assert(store != NULL && txn_out != NULL);
    assert(mode == STORE_TXN_WRITE || parent == NULL);
    *txn_out = NULL;
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    return store_txn_begin_mdb(store, parent, mode, txn_out);
}

void store_txn_abort(store_txn *txn) {
    if (txn != NULL) mdb_txn_abort(store_mdb_txn(txn));
}

/* Renews the thread's kept transaction, or begins it if there is none (the first read, or after
 * store_data_file_replace closed it). A renewed transaction reads the latest commit, as a new
 * one would. Called with the map lock held shared. */
static ff_err store_reader_renew(store_reader *kept, store_txn **txn_out) {
    assert(!kept->in_use);
    *txn_out = NULL;
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    if (kept->txn != NULL && mdb_txn_renew(kept->txn) == MDB_SUCCESS) {
        __atomic_add_fetch(&kept->store->read_txns_renewed, 1, __ATOMIC_RELAXED);
    } else {
        /* A renewal that failed (another process grew the map, say) leaves nothing to keep. */
        if (kept->txn != NULL) mdb_txn_abort(kept->txn);
        kept->txn = NULL;
        store_txn *begun = NULL;
        ff_err err = store_txn_begin_mdb(kept->store, NULL, STORE_TXN_READ, &begun);
        if (err != FF_OK) return err;
        kept->txn = store_mdb_txn(begun);
    }
    kept->in_use = true;
    *txn_out = (store_txn *)kept->txn;
    return FF_OK;
}

ff_err store_read_begin(ff_store *store, store_txn **txn_out) {
    pthread_rwlock_rdlock(&store->map_lock);
    store_reader *kept = store_thread_reader;
    ff_err err = kept != NULL && kept->store == store && !kept->in_use
                     ? store_reader_renew(kept, txn_out)
                     : store_txn_begin(store, NULL, STORE_TXN_READ, txn_out);
    if (err != FF_OK) pthread_rwlock_unlock(&store->map_lock);
    return err;
}

void store_read_end(ff_store *store, store_txn *txn) {
    assert(txn != NULL);
    store_reader *kept = store_thread_reader;
    if (kept != NULL && kept->in_use && (store_txn *)kept->txn == txn) {
        /* Releases the snapshot and keeps the reader slot and the handle for the next read. */
        mdb_txn_reset(kept->txn);
        kept->in_use = false;
    } else {
        mdb_txn_abort(store_mdb_txn(txn));
    }
    pthread_rwlock_unlock(&store->map_lock);
}

ff_err store_reader_attach(ff_store *store) {
    assert(store != NULL && store_thread_reader == NULL);
    store_reader *kept = calloc(1, sizeof *kept);
    if (kept == NULL) return FF_ERR_NO_MEMORY;
    kept->store = store;
    pthread_mutex_lock(&store->readers_lock);
    kept->next = store->readers_kept;
    store->readers_kept = kept;
    pthread_mutex_unlock(&store->readers_lock);
    store_thread_reader = kept;
    return FF_OK;
}

void store_reader_detach(ff_store *store) {
    store_reader *kept = store_thread_reader;
    if (kept == NULL) return;
    assert(kept->store == store && !kept->in_use);
    pthread_mutex_lock(&store->readers_lock);
    store_reader **link = &store->readers_kept;
    while (*link != kept) link = &(*link)->next;
    *link = kept->next;
    if (kept->txn != NULL) mdb_txn_abort(kept->txn);
    pthread_mutex_unlock(&store->readers_lock);
    free(kept);
    store_thread_reader = NULL;
}

uint64_t store_read_txns_renewed(ff_store *store) {
    return __atomic_load_n(&store->read_txns_renewed, __ATOMIC_RELAXED);
}

/* Ends every kept read transaction, before the environment closes. Called with the map lock held
 * exclusively, so none of them is in use; their threads begin afresh on their next read. */
static void store_readers_kept_close(ff_store *store) {
    pthread_mutex_lock(&store->readers_lock);
    for (store_reader *kept = store->readers_kept; kept != NULL; kept = kept->next) {
        assert(!kept->in_use);
        if (kept->txn != NULL) mdb_txn_abort(kept->txn);
        kept->txn = NULL;
    }
    pthread_mutex_unlock(&store->readers_lock);
}

void store_commit_sync_defer(bool deferred) { store_thread_sync_deferred = deferred; }

ff_err store_sync(ff_store *store) {
    if (store_fault_due(STORE_FAULT_SYNC)) return store_fault_fired;
    /* Flushes the file: every commit that returned before this began is then durable. */
    return store_error_of(mdb_env_sync(store->env, 1));
}

void store_map_hold(ff_store *store) { pthread_rwlock_rdlock(&store->map_lock); }

void store_map_release(ff_store *store) { pthread_rwlock_unlock(&store->map_lock); }

/* Whether the data file has less than FF_STORAGE_ROOM_BYTES_MIN left to grow into, on its file
 * system or below this process's file-size limit. */
static bool store_room_short(MDB_env *env) {
    const char *path = NULL;
    struct statvfs file_system;
    if (mdb_env_get_path(env, &path) == MDB_SUCCESS && statvfs(path, &file_system) == 0) {
        /* Root may also use the blocks the file system keeps back from other users. */
        uint64_t blocks = geteuid() == 0 ? file_system.f_bfree : file_system.f_bavail;
        if (blocks * file_system.f_frsize < FF_STORAGE_ROOM_BYTES_MIN) return true;
    }
    struct rlimit size_limit;
    mdb_filehandle_t fd;
    struct stat status;
    if (getrlimit(RLIMIT_FSIZE, &size_limit) != 0 || size_limit.rlim_cur == RLIM_INFINITY ||
        mdb_env_get_fd(env, &fd) != MDB_SUCCESS || fstat(fd, &status) != 0) {
        return false;
    }
    return (uint64_t)status.st_size + FF_STORAGE_ROOM_BYTES_MIN > size_limit.rlim_cur;
}

ff_err store_txn_commit(store_txn *txn) {
    assert(txn != NULL);
    if (store_fault_due(STORE_FAULT_WRITES)) {
        mdb_txn_abort(store_mdb_txn(txn));
        return store_fault_fired;
    }
    MDB_env *env = mdb_txn_env(store_mdb_txn(txn));
    int rc = mdb_txn_commit(store_mdb_txn(txn));
    /* LMDB turns a short write into EIO: on a file system with no room, that is a full disk. */
    if (rc == EIO && store_room_short(env)) return FF_ERR_STORAGE_FULL;
    return store_error_of(rc);
}

static MDB_val store_val(store_slice slice) {
    return (MDB_val){.mv_size = slice.bytes, .mv_data = (void *)slice.data};
}

static store_slice store_slice_of(MDB_val value) {
    return (store_slice){.data = value.mv_data, .bytes = value.mv_size};
}

/* LMDB's answer as an ff_err, with "no such key" kept apart from failures. */
static ff_err store_result(int mdb_rc) {
    if (mdb_rc == MDB_NOTFOUND) return FF_ERR_NOT_FOUND;
    if (mdb_rc == MDB_KEYEXIST) return FF_ERR_KEY_EXISTS;
    return store_error_of(mdb_rc);
}

static bool store_val_equal(MDB_val left, MDB_val right) {
    return store_bytes_compare(left.mv_data, left.mv_size, right.mv_data, right.mv_size) == 0;
}

/* ---- a duplicate table's rows (layout 3) ---- */

/* The longest whole key of a duplicate table's row, which a cursor puts together. */
#define STORE_ROW_KEY_BYTES_MAX (FF_STORE_DUPLICATE_KEY_BYTES_MAX + STORE_SUFFIX_BYTES)

/* The length of key's main part in a duplicate table, or 0 if key holds no whole main part
 * (shorter than a fixed one, or with no zero byte). */
static size_t store_split_main_bytes(const store_split *split, store_slice key) {
    if (split->main_bytes > 0) return key.bytes >= split->main_bytes ? split->main_bytes : 0;
    const uint8_t *zero = key.bytes > 0 ? memchr(key.data, 0, key.bytes) : NULL;
    return zero != NULL ? (size_t)(zero - (const uint8_t *)key.data) + 1 : 0;
}

/* Splits a row's whole key (a main part, then exactly the suffix) into LMDB's main key and the
 * suffix. False if key is not of that shape, when no row can have it. */
static bool store_split_row_key(const store_split *split, store_slice key, MDB_val *main,
                                MDB_val *suffix) {
    size_t main_bytes = store_split_main_bytes(split, key);
    if (main_bytes == 0 || main_bytes > FF_STORE_DUPLICATE_KEY_BYTES_MAX ||
        key.bytes != main_bytes + STORE_SUFFIX_BYTES) {
        return false;
    }
    *main = (MDB_val){.mv_size = main_bytes, .mv_data = (void *)key.data};
    *suffix = (MDB_val){.mv_size = STORE_SUFFIX_BYTES,
                        .mv_data = (uint8_t *)key.data + main_bytes};
    return true;
}

/* A row to write into a duplicate table, as LMDB stores it: the main key, and the duplicate
 * (the suffix, then the value) put together in buffer. The caller's key and value cross into
 * the store here, so their shape is asserted. */
static void store_split_row(const store_split *split, store_slice key, store_slice value,
                            uint8_t buffer[FF_STORE_DUPLICATE_KEY_BYTES_MAX], MDB_val *main,
                            MDB_val *duplicate) {
    MDB_val suffix;
    bool whole = store_split_row_key(split, key, main, &suffix);
    assert(whole && "a duplicate table's key is a main part and an 8-byte sequence");
    (void)whole;
    assert(!split->values_empty || value.bytes == 0);
    assert(value.bytes <= FF_STORE_DUPLICATE_KEY_BYTES_MAX - STORE_SUFFIX_BYTES);
    memcpy(buffer, suffix.mv_data, STORE_SUFFIX_BYTES);
    if (value.bytes > 0) memcpy(buffer + STORE_SUFFIX_BYTES, value.data, value.bytes);
    *duplicate = (MDB_val){.mv_size = STORE_SUFFIX_BYTES + value.bytes, .mv_data = buffer};
}

static int store_get_duplicate(MDB_txn *txn, MDB_dbi dbi, const store_split *split,
                               store_slice key, store_slice *value_out) {
    MDB_val main, duplicate;
    if (!store_split_row_key(split, key, &main, &duplicate)) return MDB_NOTFOUND;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cursor);
    /* The duplicate found replaces the suffix sought (LMDB returns the stored one). */
    if (rc == MDB_SUCCESS) rc = mdb_cursor_get(cursor, &main, &duplicate, MDB_GET_BOTH);
    mdb_cursor_close(cursor);
    if (rc != MDB_SUCCESS) return rc;
    if (duplicate.mv_size < STORE_SUFFIX_BYTES) return MDB_CORRUPTED;
    *value_out = STORE_SLICE((uint8_t *)duplicate.mv_data + STORE_SUFFIX_BYTES,
                             duplicate.mv_size - STORE_SUFFIX_BYTES);
    return MDB_SUCCESS;
}

/* STORE_PUT_APPEND in a duplicate table: the row must sort after every row, so its main key
 * after every main key (MDB_APPEND), or equal to the last one and its duplicate after that
 * key's last (MDB_APPENDDUP). */
static int store_put_duplicate_append(MDB_txn *txn, MDB_dbi dbi, MDB_val *main,
                                      MDB_val *duplicate) {
    int rc = mdb_put(txn, dbi, main, duplicate, MDB_APPEND);
    if (rc != MDB_KEYEXIST) return rc;
    MDB_cursor *cursor = NULL;
    MDB_val last_main, last_duplicate;
    rc = mdb_cursor_open(txn, dbi, &cursor);
    if (rc == MDB_SUCCESS) rc = mdb_cursor_get(cursor, &last_main, &last_duplicate, MDB_LAST);
    bool last = rc == MDB_SUCCESS && store_val_equal(last_main, *main);
    mdb_cursor_close(cursor);
    if (rc != MDB_SUCCESS) return rc;
    return last ? mdb_put(txn, dbi, main, duplicate, MDB_APPENDDUP) : MDB_KEYEXIST;
}

static int store_put_duplicate(MDB_txn *txn, MDB_dbi dbi, const store_split *split,
                               store_slice key, store_slice value, store_put_mode mode) {
    uint8_t buffer[FF_STORE_DUPLICATE_KEY_BYTES_MAX];
    MDB_val main, duplicate;
    store_split_row(split, key, value, buffer, &main, &duplicate);
    if (mode == STORE_PUT_APPEND) return store_put_duplicate_append(txn, dbi, &main, &duplicate);
    if (mode == STORE_PUT_NEW_LIKELY_LAST || mode == STORE_PUT_REPLACE_LIKELY_LAST) {
        /* Appended after the main key's last duplicate, without searching its duplicates, and so
         * filling their pages. LMDB refuses (MDB_KEYEXIST) a duplicate that does not sort after
         * the last one, or equals a single one, before it changes a row (it may have given the
         * main key's node a larger sub-page of the same rows), and the put below runs. */
        int rc = mdb_put(txn, dbi, &main, &duplicate, MDB_APPENDDUP);
        if (rc != MDB_KEYEXIST) return rc;
    }
    if (mode == STORE_PUT_NEW || mode == STORE_PUT_NEW_LIKELY_LAST) {
        return mdb_put(txn, dbi, &main, &duplicate, MDB_NODUPDATA);
    }
    /* Replacing: the row with this key goes first, whatever its value, since LMDB keeps a
     * duplicate it finds equal as it was. */
    MDB_val suffix = {.mv_size = STORE_SUFFIX_BYTES, .mv_data = buffer};
    int rc = mdb_del(txn, dbi, &main, &suffix);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return rc;
    return mdb_put(txn, dbi, &main, &duplicate, MDB_NODUPDATA);
}

/* ---- reads and writes ---- */

ff_err store_get(store_txn *txn, ff_store *store, store_table table, store_slice key,
                 store_slice *value_out) {
    assert(txn != NULL && value_out != NULL && key.bytes > 0);
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    MDB_dbi dbi = store_table_dbi(store, table);
    if (store->splits[table] != NULL) {
        return store_result(store_get_duplicate(store_mdb_txn(txn), dbi, store->splits[table],
                                                key, value_out));
    }
    MDB_val mdb_key = store_val(key), mdb_value;
    int rc = mdb_get(store_mdb_txn(txn), dbi, &mdb_key, &mdb_value);
    if (rc == MDB_SUCCESS) *value_out = store_slice_of(mdb_value);
    return store_result(rc);
}

ff_err store_put(store_txn *txn, ff_store *store, store_table table, store_slice key,
                 store_slice value, store_put_mode mode) {
    static const unsigned flags[] = {[STORE_PUT_REPLACE] = 0,
                                     [STORE_PUT_NEW] = MDB_NOOVERWRITE,
                                     [STORE_PUT_APPEND] = MDB_APPEND,
                                     [STORE_PUT_NEW_LIKELY_LAST] = MDB_NOOVERWRITE,
                                     [STORE_PUT_REPLACE_LIKELY_LAST] = 0};
    assert(txn != NULL && key.bytes > 0 && (value.bytes == 0 || value.data != NULL));
    assert(mode <= STORE_PUT_REPLACE_LIKELY_LAST);
    if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
    MDB_txn *mdb_txn = store_mdb_txn(txn);
    MDB_dbi dbi = store_table_dbi(store, table);
    if (store->splits[table] != NULL) {
        return store_result(
            store_put_duplicate(mdb_txn, dbi, store->splits[table], key, value, mode));
    }
    MDB_val mdb_key = store_val(key), mdb_value = store_val(value);
    /* LMDB refuses an append whose key does not sort after the last (MDB_KEYEXIST) before it
     * touches a page, so the ordinary put that follows finds the table as it was. */
    if (mode == STORE_PUT_NEW_LIKELY_LAST || mode == STORE_PUT_REPLACE_LIKELY_LAST) {
        int rc = mdb_put(mdb_txn, dbi, &mdb_key, &mdb_value, MDB_APPEND);
        if (rc != MDB_KEYEXIST) return store_result(rc);
    }
    return store_result(mdb_put(mdb_txn, dbi, &mdb_key, &mdb_value, flags[mode]));
}

ff_err store_delete(store_txn *txn, ff_store *store, store_table table, store_slice key) {
    assert(txn != NULL && key.bytes > 0);
    if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
    MDB_dbi dbi = store_table_dbi(store, table);
    MDB_val mdb_key = store_val(key), suffix;
    /* In a duplicate table, the row is the duplicate its suffix names. */
    if (store->splits[table] != NULL &&
        !store_split_row_key(store->splits[table], key, &mdb_key, &suffix)) {
        return FF_ERR_NOT_FOUND;
    }
    return store_result(
        mdb_del(store_mdb_txn(txn), dbi, &mdb_key, store->splits[table] ? &suffix : NULL));
}

/* ---- cursors ---- */

struct store_cursor {
    MDB_cursor *mdb;
    const store_split *split; /* NULL for a plain table */
    /* A duplicate table's cursor puts the key of the row it is on together here. */
    uint8_t key[];
};

ff_err store_cursor_open(store_txn *txn, ff_store *store, store_table table,
                         store_cursor **cursor_out) {
    assert(txn != NULL && cursor_out != NULL);
    *cursor_out = NULL;
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    const store_split *split = store->splits[table];
    store_cursor *opened = malloc(sizeof *opened + (split ? STORE_ROW_KEY_BYTES_MAX : 0));
    if (opened == NULL) return FF_ERR_NO_MEMORY;
    opened->split = split;
    int rc = mdb_cursor_open(store_mdb_txn(txn), store_table_dbi(store, table), &opened->mdb);
    if (rc == MDB_SUCCESS) *cursor_out = opened;
    else free(opened);
    return store_result(rc);
}

void store_cursor_close(store_cursor *cursor) {
    if (cursor == NULL) return;
    mdb_cursor_close(cursor->mdb);
    free(cursor);
}

/* The last row at or before *key in a plain table. */
static int store_plain_at_or_before(MDB_cursor *cursor, MDB_val *key, MDB_val *value) {
    MDB_val sought = *key;
    int rc = mdb_cursor_get(cursor, key, value, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return mdb_cursor_get(cursor, key, value, MDB_LAST);
    if (rc != MDB_SUCCESS || store_val_equal(*key, sought)) return rc;
    return mdb_cursor_get(cursor, key, value, MDB_PREV);
}

/* Puts together the row of a duplicate table the cursor is on: its key in the cursor's buffer,
 * its value where it lies in the map. What the map holds crosses into the store here: a row of
 * another shape is a damaged file. */
static ff_err store_row_compose(store_cursor *cursor, MDB_val main, MDB_val duplicate,
                                store_slice *key_out, store_slice *value_out) {
    const store_split *split = cursor->split;
    bool main_whole = split->main_bytes > 0
                          ? main.mv_size == split->main_bytes
                          : main.mv_size > 0 && main.mv_size <= FF_STORE_DUPLICATE_KEY_BYTES_MAX &&
                                ((const uint8_t *)main.mv_data)[main.mv_size - 1] == 0;
    if (!main_whole || duplicate.mv_size < STORE_SUFFIX_BYTES ||
        (split->values_empty && duplicate.mv_size != STORE_SUFFIX_BYTES)) {
        return FF_ERR_STORAGE;
    }
    memcpy(cursor->key, main.mv_data, main.mv_size);
    memcpy(cursor->key + main.mv_size, duplicate.mv_data, STORE_SUFFIX_BYTES);
    *key_out = STORE_SLICE(cursor->key, main.mv_size + STORE_SUFFIX_BYTES);
    *value_out = STORE_SLICE((uint8_t *)duplicate.mv_data + STORE_SUFFIX_BYTES,
                             duplicate.mv_size - STORE_SUFFIX_BYTES);
    return FF_OK;
}

/* Lands a duplicate table's cursor on the first row at or after sought, or, for a sought key
 * longer than a row's whose suffix a row matches, on that row, one short of it. */
static int store_duplicate_land_after(MDB_cursor *cursor, const store_split *split,
                                      store_slice sought, MDB_val *main, MDB_val *duplicate) {
    size_t main_bytes = store_split_main_bytes(split, sought);
    *main = store_val(sought);
    if (main_bytes == 0 || main_bytes == sought.bytes) {
        /* Main parts are prefix-free, so every row under a main part at or after sought comes
         * after it, and every other row before it. */
        return mdb_cursor_get(cursor, main, duplicate, MDB_SET_RANGE);
    }
    main->mv_size = main_bytes;
    MDB_val wanted = *main;
    *duplicate = (MDB_val){.mv_size = sought.bytes - main_bytes,
                           .mv_data = (uint8_t *)sought.data + main_bytes};
    int rc = mdb_cursor_get(cursor, main, duplicate, MDB_GET_BOTH_RANGE);
    if (rc != MDB_NOTFOUND) return rc;
    /* No row under that main part from there on: the first row of the next main part. */
    *main = wanted;
    rc = mdb_cursor_get(cursor, main, duplicate, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && store_val_equal(*main, wanted)) {
        rc = mdb_cursor_get(cursor, main, duplicate, MDB_NEXT_NODUP);
    }
    return rc;
}

/* Lands a duplicate table's cursor on the last row at or before sought, or on a row just after
 * it, one short of it. An account's balance now is the common case: its main part's last row. */
static int store_duplicate_land_before(MDB_cursor *cursor, const store_split *split,
                                       store_slice sought, MDB_val *main, MDB_val *duplicate) {
    size_t main_bytes = store_split_main_bytes(split, sought);
    MDB_val wanted = store_val(sought);
    if (main_bytes > 0) wanted.mv_size = main_bytes;
    *main = wanted;
    int rc = mdb_cursor_get(cursor, main, duplicate, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return mdb_cursor_get(cursor, main, duplicate, MDB_LAST);
    if (rc != MDB_SUCCESS) return rc;
    /* Rows under a later main part, and under the one sought when nothing follows it in
     * sought, all come after sought: the answer is the row before them. */
    if (main_bytes == 0 || main_bytes == sought.bytes || !store_val_equal(*main, wanted)) {
        return mdb_cursor_get(cursor, main, duplicate, MDB_PREV);
    }
    rc = mdb_cursor_get(cursor, main, duplicate, MDB_LAST_DUP);
    MDB_val rest = {.mv_size = sought.bytes - main_bytes,
                    .mv_data = (uint8_t *)sought.data + main_bytes};
    if (rc != MDB_SUCCESS || duplicate->mv_size < STORE_SUFFIX_BYTES ||
        store_bytes_compare(duplicate->mv_data, STORE_SUFFIX_BYTES, rest.mv_data, rest.mv_size) <=
            0) {
        return rc;
    }
    /* The last row comes after sought, so some row at or after sought's rest exists. */
    *duplicate = rest;
    return mdb_cursor_get(cursor, main, duplicate, MDB_GET_BOTH_RANGE);
}

/* STORE_SEEK and STORE_SEEK_AT_OR_BEFORE in a duplicate table: land, then step to the answer
 * while the row landed on is on the wrong side of sought (at most one step). */
static ff_err store_duplicate_seek(store_cursor *cursor, store_move move, store_slice *key,
                                   store_slice *value) {
    uint8_t copy[STORE_ROW_KEY_BYTES_MAX];
    store_slice sought = *key;
    /* The key sought may be one this cursor handed out, in the buffer a landing overwrites. */
    uintptr_t at = (uintptr_t)sought.data, buffer = (uintptr_t)cursor->key;
    if (at >= buffer && at < buffer + STORE_ROW_KEY_BYTES_MAX) {
        assert(sought.bytes <= sizeof copy);
        memcpy(copy, sought.data, sought.bytes);
        sought.data = copy;
    }
    bool after = move == STORE_SEEK;
    MDB_val main = {0, NULL}, duplicate = {0, NULL};
    int rc = after ? store_duplicate_land_after(cursor->mdb, cursor->split, sought, &main,
                                                &duplicate)
                   : store_duplicate_land_before(cursor->mdb, cursor->split, sought, &main,
                                                 &duplicate);
    store_slice found_key, found_value;
    ff_err err = rc == MDB_SUCCESS
                     ? store_row_compose(cursor, main, duplicate, &found_key, &found_value)
                     : store_result(rc);
    while (err == FF_OK) {
        int order = store_bytes_compare(found_key.data, found_key.bytes, sought.data,
                                        sought.bytes);
        if (after ? order >= 0 : order <= 0) break;
        rc = mdb_cursor_get(cursor->mdb, &main, &duplicate, after ? MDB_NEXT : MDB_PREV);
        err = rc == MDB_SUCCESS
                  ? store_row_compose(cursor, main, duplicate, &found_key, &found_value)
                  : store_result(rc);
    }
    if (err != FF_OK) return err;
    *key = found_key;
    if (value != NULL) *value = found_value;
    return FF_OK;
}

static ff_err store_duplicate_move(store_cursor *cursor, store_move move, store_slice *key,
                                   store_slice *value) {
    static const MDB_cursor_op ops[] = {[STORE_FIRST] = MDB_FIRST, [STORE_LAST] = MDB_LAST,
                                        [STORE_NEXT] = MDB_NEXT, [STORE_PREV] = MDB_PREV};
    if (move == STORE_SEEK || move == STORE_SEEK_AT_OR_BEFORE) {
        return store_duplicate_seek(cursor, move, key, value);
    }
    MDB_val main = {0, NULL}, duplicate = {0, NULL};
    int rc = mdb_cursor_get(cursor->mdb, &main, &duplicate, ops[move]);
    if (rc != MDB_SUCCESS) return store_result(rc);
    store_slice found_key, found_value;
    ff_err err = store_row_compose(cursor, main, duplicate, &found_key, &found_value);
    if (err != FF_OK) return err;
    if (key != NULL) *key = found_key;
    if (value != NULL) *value = found_value;
    return FF_OK;
}

ff_err store_cursor_move(store_cursor *cursor, store_move move, store_slice *key,
                         store_slice *value) {
    static const MDB_cursor_op ops[] = {[STORE_FIRST] = MDB_FIRST, [STORE_LAST] = MDB_LAST,
                                        [STORE_NEXT] = MDB_NEXT, [STORE_PREV] = MDB_PREV,
                                        [STORE_SEEK] = MDB_SET_RANGE};
    assert(cursor != NULL && move <= STORE_SEEK_AT_OR_BEFORE);
    bool seek = move == STORE_SEEK || move == STORE_SEEK_AT_OR_BEFORE;
    assert(!seek || (key != NULL && key->bytes > 0));
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    if (cursor->split != NULL) return store_duplicate_move(cursor, move, key, value);
    MDB_val mdb_key = seek ? store_val(*key) : (MDB_val){0, NULL};
    MDB_val mdb_value = {0, NULL};
    int rc = move == STORE_SEEK_AT_OR_BEFORE
                 ? store_plain_at_or_before(cursor->mdb, &mdb_key, &mdb_value)
                 : mdb_cursor_get(cursor->mdb, &mdb_key, &mdb_value, ops[move]);
    if (rc != MDB_SUCCESS) return store_result(rc);
    if (key != NULL) *key = store_slice_of(mdb_key);
    if (value != NULL) *value = store_slice_of(mdb_value);
    return FF_OK;
}

ff_err store_cursor_delete(store_cursor *cursor) {
    assert(cursor != NULL);
    if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
    /* In a duplicate table, only the duplicate under the cursor goes. */
    return store_result(mdb_cursor_del(cursor->mdb, 0));
}

/* A meta key of another layer: never the layout's, which only this file writes. */
static MDB_val store_meta_key(const char *key) {
    assert(key != NULL && key[0] != '\0' && strcmp(key, store_layout_key) != 0);
    return (MDB_val){.mv_size = strlen(key), .mv_data = (void *)key};
}

ff_err store_meta_get(store_txn *txn, ff_store *store, const char *key, store_slice *value_out) {
    assert(txn != NULL && value_out != NULL);
    if (store_fault_due(STORE_FAULT_READS)) return store_fault_fired;
    MDB_val mdb_key = store_meta_key(key), mdb_value;
    int rc = mdb_get(store_mdb_txn(txn), store->meta_dbi, &mdb_key, &mdb_value);
    if (rc == MDB_SUCCESS) *value_out = store_slice_of(mdb_value);
    return store_result(rc);
}

ff_err store_meta_put(store_txn *txn, ff_store *store, const char *key, store_slice value) {
    assert(txn != NULL && (value.bytes == 0 || value.data != NULL));
    if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
    MDB_val mdb_key = store_meta_key(key), mdb_value = store_val(value);
    return store_result(mdb_put(store_mdb_txn(txn), store->meta_dbi, &mdb_key, &mdb_value, 0));
}

static bool store_slice_has_prefix(store_slice key, store_slice prefix) {
    /* An empty prefix may have no data at all, which memcmp must never be given. */
    if (prefix.bytes == 0) return true;
    return key.bytes >= prefix.bytes && memcmp(key.data, prefix.data, prefix.bytes) == 0;
}

ff_err store_each(store_txn *txn, ff_store *store, store_table table, store_slice prefix,
                  store_visit visit, void *argument) {
    assert(visit != NULL);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, table, &cursor);
    if (err != FF_OK) return err;
    store_slice key = prefix, value;
    bool stop = false;
    /* Only the cursor's "no more rows" ends the walk quietly; a visitor's own not_found is an
     * answer and goes back to the caller. */
    ff_err move_err =
        store_cursor_move(cursor, prefix.bytes > 0 ? STORE_SEEK : STORE_FIRST, &key, &value);
    err = FF_OK;
    while (move_err == FF_OK && store_slice_has_prefix(key, prefix)) {
        err = visit(argument, key, value, &stop);
        if (err != FF_OK || stop) break;
        move_err = store_cursor_move(cursor, STORE_NEXT, &key, &value);
    }
    store_cursor_close(cursor);
    if (err != FF_OK) return err;
    return move_err == FF_ERR_NOT_FOUND ? FF_OK : move_err;
}

/* Doubles the map while no reader holds a transaction, as LMDB requires. */
static ff_err store_map_grow_locked(ff_store *store, uint64_t map_bytes_seen) {
    pthread_rwlock_wrlock(&store->map_lock);
    /* Two writers that filled the same map both come here; only the first doubles it. */
    ff_err err = FF_OK;
    if (store_map_bytes(store) == map_bytes_seen) {
        err = store_map_double(store);
        if (err == FF_OK) store->map_growth_count++;
    }
    pthread_rwlock_unlock(&store->map_lock);
    return err;
}

/* store_write_run, and store_write_try when keep is false. */
static ff_err store_write_loop(ff_store *store, store_write_work work, void *argument,
                               bool keep) {
    assert(store != NULL && work != NULL);
    for (;;) {
        /* Held shared like a reader's, so that no other thread grows the map under this
         * transaction; LMDB's own lock keeps write transactions apart. */
        pthread_rwlock_rdlock(&store->map_lock);
        uint64_t map_bytes_seen = store_map_bytes(store);
        store_txn *txn = NULL;
        ff_err err = store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn);
        if (err == FF_OK) err = work(argument, txn);
        if (err == FF_OK && keep) err = store_txn_commit(txn);
        else store_txn_abort(txn);
        pthread_rwlock_unlock(&store->map_lock);
        if (err != FF_ERR_MAP_LIMIT) return err;
        /* The map filled part way through: nothing was committed, so grow it and start over. */
        err = store_map_grow_locked(store, map_bytes_seen);
        if (err != FF_OK) return err;
    }
}

ff_err store_write_run(ff_store *store, store_write_work work, void *argument) {
    return store_write_loop(store, work, argument, true);
}

ff_err store_write_try(ff_store *store, store_write_work work, void *argument) {
    return store_write_loop(store, work, argument, false);
}

bool store_error_is_failure(ff_err err) {
    return err == FF_ERR_MAP_LIMIT || err == FF_ERR_STORAGE || err == FF_ERR_NO_MEMORY ||
           err == FF_ERR_KEY_EXISTS || err == FF_ERR_STORAGE_FULL;
}

uint64_t store_map_growth_count(ff_store *store) { return store->map_growth_count; }

uint64_t store_map_bytes(ff_store *store) {
    MDB_envinfo info;
    mdb_env_info(store->env, &info);
    return (uint64_t)info.me_mapsize;
}

uint64_t store_map_bytes_max(const ff_store *store) { return store->map_bytes_max; }

uint64_t store_used_bytes(ff_store *store) {
    MDB_envinfo info;
    MDB_stat status;
    mdb_env_info(store->env, &info);
    mdb_env_stat(store->env, &status);
    return ((uint64_t)info.me_last_pgno + 1) * status.ms_psize;
}

/* Doubles the map, up to the store's maximum. No transaction may be open in this process. */
static ff_err store_map_double(ff_store *store) {
    uint64_t current = store_map_bytes(store);
    if (current >= store->map_bytes_max) return FF_ERR_MAP_LIMIT;
    uint64_t grown = current > store->map_bytes_max / 2 ? store->map_bytes_max : current * 2;
    return store_error_of(mdb_env_set_mapsize(store->env, (size_t)grown));
}

int store_reader_check(ff_store *store) {
    int cleared = 0;
    if (mdb_reader_check(store->env, &cleared) != MDB_SUCCESS) return -1;
    return cleared;
}

int store_stale_readers_cleared_at_open(const ff_store *store) {
    return store->stale_readers_cleared_at_open;
}

ff_err store_projections_drop(store_txn *txn, ff_store *store) {
    for (int table = STORE_TABLE_FIRST_PROJECTION; table < STORE_TABLE_COUNT; table++) {
        if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
        int rc = mdb_drop(store_mdb_txn(txn), store->dbis[table], 0);
        if (rc != MDB_SUCCESS) return store_error_of(rc);
    }
    return FF_OK;
}

/* Empties one table of to and copies every row of the same table of from into it. Both stores
 * sort keys alike, so each row is appended: in a duplicate table, a new main key after every
 * main key (MDB_APPEND) and each further duplicate of it after its last (MDB_APPENDDUP). */
static int store_table_copy(MDB_txn *to_txn, MDB_dbi to_dbi, MDB_txn *from_txn, MDB_dbi from_dbi,
                            bool duplicates) {
    MDB_cursor *cursor = NULL;
    int rc = mdb_drop(to_txn, to_dbi, 0);
    if (rc == MDB_SUCCESS) rc = mdb_cursor_open(from_txn, from_dbi, &cursor);
    MDB_val key, value, previous = {0, NULL};
    if (rc == MDB_SUCCESS) rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
        bool same_main = duplicates && previous.mv_data != NULL && store_val_equal(key, previous);
        previous = key;
        rc = mdb_put(to_txn, to_dbi, &key, &value, same_main ? MDB_APPENDDUP : MDB_APPEND);
        if (rc == MDB_SUCCESS) rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

ff_err store_content_copy(store_txn *to_txn, ff_store *to, store_txn *from_txn, ff_store *from) {
    assert(to_txn != NULL && from_txn != NULL && to != from);
    assert(to->layout_version == from->layout_version);
    int rc = MDB_SUCCESS;
    for (int table = 0; rc == MDB_SUCCESS && table < STORE_TABLE_COUNT; table++) {
        if (store_fault_due(STORE_FAULT_WRITES)) return store_fault_fired;
        rc = store_table_copy(store_mdb_txn(to_txn), to->dbis[table], store_mdb_txn(from_txn),
                              from->dbis[table], to->splits[table] != NULL);
    }
    if (rc == MDB_SUCCESS) {
        rc = store_table_copy(store_mdb_txn(to_txn), to->meta_dbi, store_mdb_txn(from_txn),
                              from->meta_dbi, false);
    }
    return store_error_of(rc);
}

/* Takes LMDB's lock file's first byte exclusively, as LMDB's first opener does, so that no
 * other process has the environment open or can open it until the descriptor is closed (an
 * opener waits for the byte). Returns the descriptor, or -1 if another process holds it. Only
 * while this process has the environment closed: closing the descriptor drops every fcntl lock
 * this process holds on the file. */
static int store_lock_file_take(const char *data_dir) {
    char path[4096];
    int length = snprintf(path, sizeof path, "%s/lock.mdb", data_dir);
    if (length < 0 || (size_t)length >= sizeof path) return -1;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &whole) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Syncs a directory, so that a rename in it is durable. */
static ff_err store_directory_sync(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return FF_ERR_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? FF_OK : FF_ERR_IO;
}

ff_err store_data_file_replace(ff_store *store, const char *replacement_dir,
                               bool *open_elsewhere) {
    *open_elsewhere = false;
    char from[4096], to[4096];
    int from_length = snprintf(from, sizeof from, "%s/data.mdb", replacement_dir);
    int to_length = snprintf(to, sizeof to, "%s/data.mdb", store->data_dir);
    if (from_length < 0 || (size_t)from_length >= sizeof from || to_length < 0 ||
        (size_t)to_length >= sizeof to) {
        return FF_ERR_IO;
    }
    pthread_rwlock_wrlock(&store->map_lock);
    store_options options = {.data_dir = store->data_dir, .map_bytes = store_map_bytes(store)};
    store_readers_kept_close(store);
    mdb_env_close(store->env);
    store->env = NULL;
    int lock_fd = store_lock_file_take(store->data_dir);
    *open_elsewhere = lock_fd < 0;
    ff_err err = FF_ERR_STORAGE;
    if (lock_fd >= 0) {
        err = rename(from, to) == 0 ? store_directory_sync(store->data_dir) : FF_ERR_IO;
        close(lock_fd);
    }
    /* Open again whether or not the rename happened: on the new file, or on the old one. */
    ff_err open_err = store_env_open(store, &options);
    if (open_err == FF_OK) open_err = store_tables_open(store);
    pthread_rwlock_unlock(&store->map_lock);
    return open_err != FF_OK ? open_err : err;
}

ff_err store_copy_compact(ff_store *store, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno == ENOSPC || errno == EDQUOT ? FF_ERR_STORAGE_FULL : FF_ERR_IO;
    pthread_rwlock_rdlock(&store->map_lock);
    int rc = mdb_env_copyfd2(store->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&store->map_lock);
    if (rc == MDB_SUCCESS && fsync(fd) != 0) rc = errno;
    if (close(fd) != 0 && rc == MDB_SUCCESS) rc = errno;
    if (rc != MDB_SUCCESS) unlink(path);
    return store_error_of(rc);
}

void store_map_pages_release(ff_store *store) {
    mdb_filehandle_t fd;
    struct stat status;
    if (mdb_env_get_fd(store->env, &fd) != MDB_SUCCESS || fstat(fd, &status) != 0) return;
    /* LMDB does not say where it mapped the file, so find the mapping of the file's inode. */
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return;
    char line[4352];
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long long start = 0, end = 0, inode = 0;
        unsigned device_major = 0, device_minor = 0;
        char permissions[8] = "";
        if (sscanf(line, "%llx-%llx %7s %*s %x:%x %llu", &start, &end, permissions,
                   &device_major, &device_minor, &inode) != 6) {
            continue;
        }
        /* Only a shared mapping of this very file: a private one could hold changed pages. */
        if (inode != (unsigned long long)status.st_ino || device_major != major(status.st_dev) ||
            device_minor != minor(status.st_dev) || permissions[3] != 's' || end <= start) {
            continue;
        }
        /* The map is a shared, read-only mapping of the file: dropping its pages loses nothing. */
        madvise((void *)(uintptr_t)start, (size_t)(end - start), MADV_DONTNEED);
    }
    fclose(maps);
}
