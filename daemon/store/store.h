/* The LMDB environment that holds the event log and every projection, and the operations on it.
 *
 * One store is one data directory. Tables are LMDB named databases opened once at store_open.
 * Other layers see only this header: an opaque transaction, an opaque cursor and byte slices.
 * Every LMDB error becomes an ff_err here, and every call can be made to fail by the fault
 * injector below, so that tests can reach every error path above the store.
 *
 * Threads: read transactions may be used by any thread (the environment is opened with
 * MDB_NOTLS). Write transactions come from one thread at a time. Map growth needs every
 * transaction in the process closed, so readers take the map lock through store_read_begin and
 * writers run through store_write_run, which grows the map and retries when it fills.
 */
#ifndef FUNDFLOW_STORE_H
#define FUNDFLOW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

typedef struct ff_store ff_store;

/* A transaction and a cursor: opaque handles. Only store.c knows they are LMDB's. */
typedef struct store_txn store_txn;
typedef struct store_cursor store_cursor;

typedef enum store_table {
    STORE_TABLE_LOG,         /* sequence (8 bytes big-endian) -> packed EventRecord */
    STORE_TABLE_MERKLE,      /* the log's Merkle tree, kept with it by log.c (see tree.h) */
    STORE_TABLE_ORGS,        /* organisation code -> packed OrgRecord */
    STORE_TABLE_ACCOUNTS,    /* account key (16 bytes) -> account_record */
    STORE_TABLE_BALANCES,    /* layout 1: account key -> account_balance; layout 2: empty */
    STORE_TABLE_POSTINGS,    /* account key ++ sequence -> posting, stored compact (account.c);
                              * layout 3: a duplicate table (below) */
    STORE_TABLE_IDEMPOTENCY, /* idempotency key -> sequence (layout 1: idempotency_record) */
    STORE_TABLE_REVERSALS,   /* reversed sequence -> reversing sequence */
    STORE_TABLE_ORG_LINKS,   /* code ++ 0 ++ effective date ++ sequence -> packed OrgLinkRecord */
    STORE_TABLE_SERVICE_LINES, /* code -> packed ServiceLineRecord */
    STORE_TABLE_DELEGATIONS, /* delegation id -> packed DelegationRecord */
    STORE_TABLE_CONTRACTS,   /* contract id -> packed ContractRecord, as it stands */
    STORE_TABLE_CONTRACT_STATES, /* contract id ++ 0 ++ sequence -> packed ContractRecord */
    STORE_TABLE_PARTY_CONTRACTS, /* org code ++ 0 ++ year ++ contract id -> nothing */
    STORE_TABLE_PERIODS,     /* org code (12) ++ year ++ month -> closing sequence */
    STORE_TABLE_STATEMENTS,  /* org (12) ++ counterparty (12) ++ year ++ month ++ kind -> amount */
    STORE_TABLE_HISTORY,     /* org code or contract id ++ 0 ++ sequence -> nothing; layout 3:
                              * a duplicate table */
    STORE_TABLE_FLOWS,       /* year ++ from (12) ++ to (12) ++ stream -> int64 pence */
    STORE_TABLE_PRINCIPALS,  /* principal name -> packed PrincipalRecord */
    STORE_TABLE_PRINCIPAL_TOKENS, /* SHA-256 of a token (32 bytes) -> principal name */
    STORE_TABLE_ACTOR_EVENTS, /* actor ++ 0 ++ sequence (8 bytes big-endian) -> nothing; layout
                               * 3: a duplicate table */
    STORE_TABLE_REVENUE_LIMITS, /* year ++ stream ++ NHSE code (12) -> limit and its sequence */
    STORE_TABLE_PLANS,       /* org code (12) ++ year ++ stream ++ sequence -> packed plan */
    STORE_TABLE_PLUGIN_DATA, /* plugin name ++ 0 ++ the plugin's key -> the plugin's value */
    STORE_TABLE_PLUGIN_MARKS, /* plugin name -> plugin_projection_mark */
    STORE_TABLE_COUNT
} store_table;

/* The first projection table; every table from here to STORE_TABLE_COUNT is derived from the log. */
#define STORE_TABLE_FIRST_PROJECTION STORE_TABLE_ORGS
/* The first table that plugins project. Those depend on which plugins are loaded as well as on
 * the log, so verification's replay (which loads none) compares only the tables before it. */
#define STORE_TABLE_FIRST_PLUGIN STORE_TABLE_PLUGIN_DATA

typedef struct store_options {
    const char *data_dir;    /* created if missing; must be on a local file system */
    uint64_t map_bytes;      /* initial map size; 0 means FF_MAP_BYTES_DEFAULT */
    uint64_t map_bytes_max;  /* growth never passes this; 0 means FF_MAP_BYTES_MAX */
} store_options;

/* Opens or creates the store in options->data_dir and clears reader slots left by dead
 * processes. On success *store_out owns the environment until store_close. Errors:
 * FF_ERR_FIELD_MISSING (no directory), FF_ERR_IO (directory cannot be created), FF_ERR_STORAGE. */
ff_err store_open(const store_options *options, ff_store **store_out);

/* The layout of the projection tables this code reads and writes. A data file records its layout
 * when it is made; one made before layouts were recorded is layout 1. The log's bytes are the
 * same in every layout: only the projections change, and they can be rebuilt from the log.
 *   1: balances in their own table; postings of 72 bytes.
 *   2: an account's balance is its last posting (the balances table stays, always empty);
 *      postings stored compact; an idempotency entry holds only its event's sequence.
 *   3: postings, history and actor_events are duplicate tables. Each of their keys ends in an
 *      8-byte sequence after a main part: the 16-byte account key (STORE_POSTING_MAIN_BYTES) in
 *      postings, the name through its zero byte in the other two. LMDB keeps one node per main
 *      part and the rest as its sorted duplicates (MDB_DUPSORT): postings' duplicates are the
 *      sequence and the value, history's and actor_events' only the sequence (MDB_DUPFIXED: 8
 *      bytes a row, no node header; their values are always empty). Rows under one main part
 *      are appended in sequence order, so their pages fill instead of splitting in the middle.
 *      Every caller still sees the whole key and the value, in the same order as a plain table
 *      would keep them: the split is store.c's alone. */
#define STORE_LAYOUT_VERSION 3

/* The main part of a posting's key in layout 3: the account key (account.h). */
#define STORE_POSTING_MAIN_BYTES 16

/* The layout of the open data file. store_open refuses a file of a newer layout than
 * STORE_LAYOUT_VERSION with FF_ERR_LAYOUT_NEWER; an older one opens, for the ledger to migrate
 * (ledger_open rebuilds its projections into a fresh file, which has the current layout). */
uint32_t store_layout_version(const ff_store *store);

/* Closes the environment. No transaction may be open. NULL is allowed. */
void store_close(ff_store *store);

/* Deletes a closed store's files and then its directory, for scratch stores such as verify's.
 * Files the store did not make are left, and so then is the directory. */
void store_remove(const char *data_dir);

const char *store_table_name(store_table table);

/* ---- bytes ---- */

/* A key or a value. What the store hands out points into the map and stays valid until the
 * transaction that read it ends or writes anything (a write may move pages of any table), so
 * copy or unpack what must outlive the next write. The one exception: a key a cursor reads from
 * a duplicate table is in the cursor's own buffer (see store_cursor_move). */
typedef struct store_slice {
    const void *data;
    size_t bytes;
} store_slice;

#define STORE_SLICE(data_, bytes_) ((store_slice){.data = (data_), .bytes = (bytes_)})

/* ---- transactions ---- */

typedef enum store_txn_mode {
    STORE_TXN_READ,  /* a snapshot; never blocks or is blocked by the writer */
    STORE_TXN_WRITE, /* the one writer; nested inside parent when parent is not NULL */
} store_txn_mode;

/* Begins a transaction, nested in parent if parent is not NULL (writes only). Prefer
 * store_read_begin for reads and store_write_run for writes: they hold the map lock. */
ff_err store_txn_begin(ff_store *store, store_txn *parent, store_txn_mode mode,
                       store_txn **txn_out);

/* Commits a transaction; a top-level commit is durable once this returns FF_OK (its data pages
 * and then its meta page are flushed), unless the calling thread deferred the meta page's flush
 * with store_commit_sync_defer. On any failure the transaction is gone. FF_ERR_MAP_LIMIT means the map is full;
 * FF_ERR_STORAGE_FULL that the file system refused the bytes (ENOSPC, EDQUOT, or EFBIG past the
 * process's file-size limit). */
ff_err store_txn_commit(store_txn *txn);

/* Ends a transaction without keeping its writes. NULL is allowed. */
void store_txn_abort(store_txn *txn);

/* Begins a read transaction holding the map lock shared, so the map cannot grow under it. End
 * it with store_read_end on the same thread: the map lock is a pthread read-write lock, which
 * only its holder may release. */
ff_err store_read_begin(ff_store *store, store_txn **txn_out);
void store_read_end(ff_store *store, store_txn *txn);

/* Kept read transactions. A thread that reads often (fundflowd's reader threads) attaches once:
 * from then on its store_read_begin renews one read transaction kept for it (mdb_txn_renew)
 * instead of beginning a new one, and store_read_end resets it (mdb_txn_reset), releasing its
 * snapshot but keeping its reader slot. A renewed transaction reads the latest commit, exactly as
 * a new one would. Each attached thread holds one of the FF_READERS_MAX reader slots for as long
 * as it stays attached. Detach on the same thread before it ends and before store_close; a read
 * begun while the thread's kept transaction is in use (a nested read) gets a transaction of its
 * own. store_data_file_replace ends kept transactions; their threads begin afresh. */
ff_err store_reader_attach(ff_store *store);
void store_reader_detach(ff_store *store);

/* How many reads a kept transaction served by renewal since the store opened, for tests. */
uint64_t store_read_txns_renewed(ff_store *store);

/* Deferred durability, for a writer that overlaps one commit's final flush with the next
 * group's work. With deferred set, a top-level write transaction begun on the calling thread runs
 * with the environment's MDB_NOMETASYNC on, so its commit returns once its data pages are flushed
 * and its meta page written but not flushed: the commit is visible to readers, and a crash of the
 * process keeps it (the page cache holds it), but a crash of the machine may lose it (never half
 * of it). store_sync, from any thread, flushes the file: every commit that returned before it
 * began is then durable. A caller that defers must call it before it acknowledges a commit. Per
 * thread; off by default, and then a commit is durable when it returns, as LMDB's default. */
void store_commit_sync_defer(bool deferred);
ff_err store_sync(ff_store *store);

/* Holds the map lock shared without a transaction, for a caller that opens several read
 * transactions with store_txn_begin (such as verify) and must keep the map from growing across
 * all of them. Release it with store_map_release on the same thread. */
void store_map_hold(ff_store *store);
void store_map_release(ff_store *store);

/* What store_write_run runs inside its write transaction. */
typedef ff_err (*store_write_work)(void *argument, store_txn *txn);

/* Runs work in a top-level write transaction and commits it if work returns FF_OK; otherwise
 * aborts it and returns work's error. If the map fills (in work or at commit), the transaction
 * is aborted, the map grown and work called again from the start, so work must depend only on
 * what it reads. FF_ERR_MAP_LIMIT once the map is at its maximum. */
ff_err store_write_run(ff_store *store, store_write_work work, void *argument);

/* Runs work as store_write_run does, growing the map and starting again if it fills, and then
 * abandons the transaction whatever work returned: for a caller that wants what work works out
 * inside the transaction, not its writes (a sealed group, ledger_replica.h). Returns work's
 * error. */
ff_err store_write_try(ff_store *store, store_write_work work, void *argument);

/* How many times this store's map has grown since it was opened. */
uint64_t store_map_growth_count(ff_store *store);

/* True for the errors that say the store itself failed (full map or disk, a failed read or
 * write, no memory, a key that should have been new), as opposed to an answer such as
 * FF_ERR_NOT_FOUND. They fail a whole write group, whichever layer meets them. */
bool store_error_is_failure(ff_err err);

/* ---- reads and writes ---- */

/* Reads one key. FF_ERR_NOT_FOUND if it is absent. */
ff_err store_get(store_txn *txn, ff_store *store, store_table table, store_slice key,
                 store_slice *value_out);

typedef enum store_put_mode {
    STORE_PUT_REPLACE, /* write the key whether or not it exists */
    STORE_PUT_NEW,     /* FF_ERR_KEY_EXISTS if the key exists */
    STORE_PUT_APPEND,  /* the key sorts after every key in the table (the log) */
    STORE_PUT_NEW_LIKELY_LAST, /* as STORE_PUT_NEW, for a key that usually sorts after every
                                * key in the table (in a duplicate table, after every key with
                                * its main part): appended without a search when it does */
    STORE_PUT_REPLACE_LIKELY_LAST, /* as STORE_PUT_REPLACE, appended as the one above */
} store_put_mode;

/* Writes one key. FF_ERR_MAP_LIMIT when the map is full. */
ff_err store_put(store_txn *txn, ff_store *store, store_table table, store_slice key,
                 store_slice value, store_put_mode mode);

/* Deletes one key. FF_ERR_NOT_FOUND if it is absent. */
ff_err store_delete(store_txn *txn, ff_store *store, store_table table, store_slice key);

/* The meta table: small records about the file rather than the ledger's data, each under a key
 * of its own (the replicated index applied, say; the layout's key is the store's and refused).
 * Not a projection: verify neither compares nor rebuilds it, and a rebuild starts it afresh.
 * store_meta_get: FF_ERR_NOT_FOUND if the key is absent. */
ff_err store_meta_get(store_txn *txn, ff_store *store, const char *key, store_slice *value_out);
ff_err store_meta_put(store_txn *txn, ff_store *store, const char *key, store_slice value);

/* Empties every projection table inside txn, leaving the log untouched. */
ff_err store_projections_drop(store_txn *txn, ff_store *store);

/* ---- cursors ---- */

typedef enum store_move {
    STORE_FIRST,
    STORE_LAST,
    STORE_NEXT,
    STORE_PREV,
    STORE_SEEK, /* the first key at or after *key */
    STORE_SEEK_AT_OR_BEFORE, /* the last key at or before *key (a balance as at a sequence) */
} store_move;

/* Opens a cursor on a table; close it before its transaction ends. */
ff_err store_cursor_open(store_txn *txn, ff_store *store, store_table table,
                         store_cursor **cursor_out);

/* Closes a cursor. NULL is allowed. */
void store_cursor_close(store_cursor *cursor);

/* Moves the cursor and reads where it lands. For the seeks, *key is what to seek and is
 * replaced by the key found. FF_ERR_NOT_FOUND when there is no such row. key or value may be
 * NULL when the caller does not need it (except key for the seeks). A key read from a duplicate
 * table (layout 3) is put together in a buffer the cursor owns: it stays valid only until the
 * cursor's next move or close, so copy what must outlive that. */
ff_err store_cursor_move(store_cursor *cursor, store_move move, store_slice *key,
                         store_slice *value);

/* Deletes the row under the cursor. */
ff_err store_cursor_delete(store_cursor *cursor);

/* What store_each calls for each row. Set *stop to end the walk early without an error. */
typedef ff_err (*store_visit)(void *argument, store_slice key, store_slice value, bool *stop);

/* Calls visit for every row whose key starts with prefix (every row if prefix.bytes is 0), in
 * key order. Stops at visit's first error and returns it. */
ff_err store_each(store_txn *txn, ff_store *store, store_table table, store_slice prefix,
                  store_visit visit, void *argument);

/* ---- the environment ---- */

/* The current map size in bytes. */
uint64_t store_map_bytes(ff_store *store);

/* The largest the map may grow to (store_options.map_bytes_max, or FF_MAP_BYTES_MAX). */
uint64_t store_map_bytes_max(const ff_store *store);

/* Clears reader slots held by processes that have died, returning how many it cleared (or -1
 * on failure). store_open calls it once; long-running servers also call it on a timer. */
int store_reader_check(ff_store *store);

/* How many stale reader slots store_open cleared. */
int store_stale_readers_cleared_at_open(const ff_store *store);

/* The data directory this store was opened on. */
const char *store_data_dir(const ff_store *store);

/* Bytes in use by the data file, for metrics and tests. */
uint64_t store_used_bytes(ff_store *store);

/* ---- replacing the data file (rebuild) ---- */

/* Swaps in the data file of replacement_dir, a store made by store_open in a directory on the
 * same file system and closed since, for this store's, and opens the environment again on it;
 * the handle stays valid. rename(2) replaces data.mdb in one step and the directory is synced
 * after it, and the new file is already durable (LMDB syncs every commit), so a crash at any
 * point leaves the old file or the new one, never a mix. No transaction may be open in this
 * process. With the environment closed, it takes LMDB's lock file exclusively for the rename, as
 * LMDB's first opener does: if another process has the store open, it sets *open_elsewhere,
 * keeps the old file and returns FF_ERR_STORAGE. If the rename fails the old file stays; if
 * opening again fails, the store is unusable until reopened. */
ff_err store_data_file_replace(ff_store *store, const char *replacement_dir,
                               bool *open_elsewhere);

/* Lets the kernel take back this process's resident pages of the map: they stay in the page
 * cache and come back on the next touch, and pointers into the map stay valid. A walk over a
 * whole file that calls this now and then keeps its resident set bounded. Linux only; does
 * nothing where the map cannot be found. */
void store_map_pages_release(ff_store *store);

/* ---- hot backup ---- */

/* Writes a compacted copy of the whole environment, as one consistent snapshot (LMDB's own read
 * transaction), to a new file at path (created 0600; FF_ERR_IO if it exists), and syncs it. Runs
 * beside writers, which it never holds up, but holds the map lock shared, so the map cannot grow
 * until the copy ends. The file is a data.mdb: store_open on a directory holding it under that
 * name opens the copy. Errors: FF_ERR_IO (cannot create), FF_ERR_STORAGE_FULL, FF_ERR_STORAGE. */
ff_err store_copy_compact(ff_store *store, const char *path);

/* Replaces everything to holds, inside its write transaction to_txn, with what from holds as
 * from_txn sees it: every table, the meta table included, is emptied and each row of from's
 * copied in. Readers of to keep the content they began with until their next transaction. Both
 * stores must have the same layout. FF_ERR_MAP_LIMIT as any write (store_write_run grows). */
ff_err store_content_copy(store_txn *to_txn, ff_store *to, store_txn *from_txn, ff_store *from);

/* ---- fault injection, for tests ---- */

typedef enum store_fault_kind {
    STORE_FAULT_WRITES = 1, /* put, delete, cursor delete, drop, commit */
    STORE_FAULT_READS = 2,  /* begin, get, cursor open and move */
    STORE_FAULT_SYNC = 4,   /* store_sync */
} store_fault_kind;

/* After SQLite's: the nth call from now among the kinds given (a mask of store_fault_kind)
 * fails with err instead of running. If persistent, every later call of those kinds fails too
 * until store_fault_clear; if not, the fault fires once. A failing commit aborts its
 * transaction. Process-wide and not thread-safe: tests only. */
void store_fault_inject(unsigned kinds, uint64_t nth_call, ff_err err, bool persistent);
void store_fault_clear(void);
/* True while an injected fault is still to fire, or is persistent: a test that injects one fault
 * asks this afterwards to learn whether the run it made reached the nth call. */
bool store_fault_pending(void);

#endif
