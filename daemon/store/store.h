/* The LMDB environment that holds the event log and every projection, and the operations on it.
 *
 * One store is one data directory. Tables are LMDB named databases opened once at store_open.
 * Transactions are plain LMDB transactions: callers begin them through store_txn_begin so that
 * every LMDB error becomes an ff_err in one place.
 *
 * Threads: the store is created with MDB_NOTLS, so read transactions may be used by any thread.
 * Write transactions and store_map_grow must come from one thread at a time, and store_map_grow
 * requires that no transaction is open in this process.
 */
#ifndef FUNDFLOW_STORE_H
#define FUNDFLOW_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "fundflow/error.h"

typedef struct ff_store ff_store;

typedef enum store_table {
    STORE_TABLE_LOG,         /* sequence (8 bytes big-endian) -> packed EventRecord */
    STORE_TABLE_ORGS,        /* organisation code -> packed OrgRecord */
    STORE_TABLE_ACCOUNTS,    /* account key (16 bytes) -> account_record */
    STORE_TABLE_BALANCES,    /* account key -> account_balance */
    STORE_TABLE_POSTINGS,    /* account key ++ sequence -> posting_record */
    STORE_TABLE_IDEMPOTENCY, /* idempotency key -> idempotency_record */
    STORE_TABLE_REVERSALS,   /* reversed sequence -> reversing sequence */
    STORE_TABLE_ORG_LINKS,   /* code ++ 0 ++ effective date ++ sequence -> packed OrgLinkRecord */
    STORE_TABLE_SERVICE_LINES, /* code -> packed ServiceLineRecord */
    STORE_TABLE_DELEGATIONS, /* delegation id -> packed DelegationRecord */
    STORE_TABLE_CONTRACTS,   /* contract id -> packed ContractRecord, as it stands */
    STORE_TABLE_CONTRACT_STATES, /* contract id ++ 0 ++ sequence -> packed ContractRecord */
    STORE_TABLE_PARTY_CONTRACTS, /* org code ++ 0 ++ year ++ contract id -> nothing */
    STORE_TABLE_PERIODS,     /* org code (12) ++ year ++ month -> closing sequence */
    STORE_TABLE_STATEMENTS,  /* org (12) ++ counterparty (12) ++ year ++ month ++ kind -> amount */
    STORE_TABLE_HISTORY,     /* org code or contract id ++ 0 ++ sequence -> nothing */
    STORE_TABLE_FLOWS,       /* year ++ from (12) ++ to (12) ++ stream -> int64 pence */
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

/* Closes the environment. No transaction may be open. NULL is allowed. */
void store_close(ff_store *store);

MDB_env *store_env(ff_store *store);
MDB_dbi store_dbi(const ff_store *store, store_table table);
const char *store_table_name(store_table table);

/* Begins a transaction, nested in parent if parent is not NULL. flags is 0 or MDB_RDONLY. */
ff_err store_txn_begin(ff_store *store, MDB_txn *parent, unsigned flags, MDB_txn **txn_out);

/* Commits a transaction; LMDB's full sync means it is durable once this returns FF_OK. On any
 * failure the transaction is gone. FF_ERR_MAP_LIMIT means the map is full: grow and retry. */
ff_err store_txn_commit(MDB_txn *txn);

/* Turns an LMDB return code into an ff_err: MDB_MAP_FULL becomes FF_ERR_MAP_LIMIT and every other
 * failure FF_ERR_STORAGE. */
ff_err store_error_from_mdb(int mdb_rc);

/* The current map size in bytes. */
uint64_t store_map_bytes(ff_store *store);

/* Doubles the map, up to the store's maximum. No transaction may be open in this process.
 * Returns FF_ERR_MAP_LIMIT when the map is already at its maximum. */
ff_err store_map_grow(ff_store *store);

/* Clears reader slots held by processes that have died, returning how many it cleared (or -1
 * on failure). store_open calls it once; long-running servers also call it on a timer. */
int store_reader_check(ff_store *store);

/* How many stale reader slots store_open cleared. */
int store_stale_readers_cleared_at_open(const ff_store *store);

/* The data directory this store was opened on. */
const char *store_data_dir(const ff_store *store);

/* Bytes in use by the data file, for metrics and tests. */
uint64_t store_used_bytes(ff_store *store);

/* Writes one key in a table: mdb_put, counted for fault injection. Returns LMDB's code, so
 * callers can tell MDB_KEYEXIST apart; turn others into ff_err with store_error_from_mdb. */
int store_put(MDB_txn *txn, ff_store *store, store_table table, MDB_val *key, MDB_val *value,
              unsigned flags);

/* Fault injection for tests, after SQLite's: the nth call from now to store_put or
 * store_txn_commit fails with mdb_rc instead of running. If persistent, every call after it fails
 * too until store_fault_clear; if not, the fault fires once. Process-wide and not thread-safe:
 * tests only. */
void store_fault_inject(uint64_t nth_call, int mdb_rc, bool persistent);
void store_fault_clear(void);

/* Empties every projection table inside txn, leaving the log untouched. */
ff_err store_projections_drop(ff_store *store, MDB_txn *txn);

#endif
