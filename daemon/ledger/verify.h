/* Checking a ledger: the hash chain, and the projections against a fresh replay of the log; and
 * rebuilding the projections from the log.
 *
 * Both read the log through one read transaction, so they see a consistent snapshot and do not
 * hold up writers. verify_projections replays into a scratch store in a temporary directory and
 * compares every projection table byte for byte, walking both with cursors. The replay commits
 * every FF_REPLAY_EVENTS_PER_TXN events, so memory does not grow with the ledger. Rebuild makes
 * the same replay into a fresh store inside the data directory and swaps its file in whole.
 *
 * The replay runs on the calling thread; a second thread, with a read transaction of its own
 * begun after the replay's, checks every event's hash, decodes it and checks its links (and
 * works out the Merkle tree's rows for a rebuild) a bounded number of pieces ahead. A failure
 * either finds is reported in sequence order, with the code, sequence and reason one thread
 * doing both would give.
 */
#ifndef FUNDFLOW_VERIFY_H
#define FUNDFLOW_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "failure.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

/* The directory inside the data directory that a rebuild replays into before the swap. */
#define VERIFY_REBUILD_DIR_NAME "rebuild.tmp"

/* What a long check is doing, for progress on a terminal. */
typedef enum verify_stage {
    VERIFY_STAGE_CHAIN,   /* done and total are events */
    VERIFY_STAGE_REPLAY,  /* done and total are events */
    VERIFY_STAGE_COMPARE, /* done and total are projection tables */
} verify_stage;

/* Called every FF_PROGRESS_EVERY events (or each table) and when a stage ends. */
typedef void (*verify_progress_report)(void *context, verify_stage stage, uint64_t done,
                                       uint64_t total);
typedef struct verify_progress {
    verify_progress_report report;
    void *context;
} verify_progress;

typedef struct verify_report {
    ff_err code;              /* FF_OK when everything checked out */
    uint64_t sequence;        /* the first bad sequence, or 0 if none can be named */
    uint64_t events_checked;  /* events whose hash and links were checked */
    char reason[256];         /* why, for people */
} verify_report;

/* Recomputes the hash chain from the first event to the last. Returns report->code. */
ff_err verify_chain(ff_store *store, verify_report *report);

/* Replays the log into a scratch store under scratch_parent_dir (NULL means $TMPDIR or /tmp) and
 * compares each projection table with the store's. Returns report->code. */
ff_err verify_projections(ff_store *store, const char *scratch_parent_dir, verify_report *report);

/* Both checks in one pass: the replay checks the chain as it goes, then the tables compare. Returns report->code. The live store is read
 * through transactions of its own that do not take the map lock: a caller running beside a writer
 * holds it around the call (ledger_read_begin). A store that cannot be read is its error (such as
 * FF_ERR_STORAGE), never FF_OK. */
ff_err verify_ledger(ff_store *store, const char *scratch_parent_dir, verify_report *report);

/* verify_ledger, reporting progress through progress (NULL for none). */
ff_err verify_ledger_watched(ff_store *store, const char *scratch_parent_dir,
                             const verify_progress *progress, verify_report *report);

/* What the chain thread found of the live store's Merkle tree (tree_check's verdict, a leaf at a
 * time, in the same walk of the log as the hash chain's check). */
typedef struct verify_tree_report {
    bool checked; /* the walk reached the log's end, so code is the tree's verdict */
    ff_err code;  /* FF_OK, or tree_check's error */
    char reason[512];
} verify_tree_report;

/* verify_ledger_watched that also checks the live store's Merkle tree, as tree_check would,
 * on the chain thread (fundflow-admin verify). tree->checked is false when the walk stopped
 * early, which it does only when verify fails. */
ff_err verify_ledger_tree_watched(ff_store *store, const char *scratch_parent_dir,
                                  const verify_progress *progress, verify_report *report,
                                  verify_tree_report *tree);

/* Replays one event whose stored bytes have passed log_record_check (record is their decoding)
 * inside txn: copies the bytes to the end of store's log, and its tree, and applies the event to
 * the projections. *copied_out says whether the copy was made; a projection's refusal is in
 * failure. Verify's replay and replicated apply (ledger_replica.c) both go through it. */
ff_err verify_event_replay(store_txn *txn, ff_store *store, uint64_t sequence, store_slice value,
                          const Fundflow__V1__EventRecord *record, ff_failure *failure,
                          bool *copied_out);

/* Rebuilds every projection (plugins' included, which are left empty) from the log: replays it
 * into a fresh store in the data directory's VERIFY_REBUILD_DIR_NAME, in bounded transactions, and
 * swaps that store's file in for the data file (store_data_file_replace), so the data file ends
 * no bigger than the ledger needs and a crash leaves the old projections or the new ones. On
 * failure the store is as it was. The caller must not hold the map (ledger_read_begin) while it
 * runs, no other process may have the store open, and no write may come in meanwhile. */
ff_err verify_rebuild_projections(ff_store *store, verify_report *report);

/* verify_rebuild_projections, reporting progress through progress (NULL for none). */
ff_err verify_rebuild_watched(ff_store *store, const verify_progress *progress,
                              verify_report *report);

#endif
