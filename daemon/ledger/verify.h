/* Checking a ledger: the hash chain, and the projections against a fresh replay of the log; and
 * rebuilding the projections from the log.
 *
 * Both read the log through one read transaction, so they see a consistent snapshot and do not
 * hold up writers. verify_projections replays into a scratch store in a temporary directory and
 * compares every projection table byte for byte.
 */
#ifndef FUNDFLOW_VERIFY_H
#define FUNDFLOW_VERIFY_H

#include <stdint.h>

#include "store.h"

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

/* Both checks: the chain, then the projections. Returns report->code. The live store is read
 * through transactions of its own that do not take the map lock: a caller running beside a writer
 * holds it around the call (ledger_read_begin). A store that cannot be read is its error (such as
 * FF_ERR_STORAGE), never FF_OK. */
ff_err verify_ledger(ff_store *store, const char *scratch_parent_dir, verify_report *report);

/* Drops every projection and replays the log into them, in one write transaction. On failure the
 * transaction is aborted and the projections are as they were. Grows the map if it must, so the
 * caller must not hold the map (ledger_read_begin) while it runs. */
ff_err verify_rebuild_projections(ff_store *store, verify_report *report);

#endif
