/* Replicating the ledger: a leader seals a group of commands into one entry of sealed event
 * records without committing it, and every node (the leader included) applies such entries, in
 * the replicated log's order, recording the replicated index it has applied in the same write
 * transaction. The ledger does not know which engine carries the entries between nodes.
 *
 * Entry format (versioned, stable across nodes of one release): see ledger_replica.c.
 */
#ifndef FUNDFLOW_LEDGER_REPLICA_H
#define FUNDFLOW_LEDGER_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* One sealed group: the stored bytes of each new event, in sequence order, and the head they
 * follow. bytes is owned by the caller of ledger_batches_seal and freed with
 * ledger_sealed_group_free. */
typedef struct ledger_sealed_group {
    uint8_t *bytes;
    size_t size;
    uint64_t first_sequence; /* 0 when the group recorded no new event */
    uint64_t last_sequence;
} ledger_sealed_group;

/* Leader: applies batches exactly as ledger_batches_apply would (access, checks, idempotency,
 * each command seeing those before it, one result per command with the sequence its event will
 * have), then abandons the write transaction and returns the group's new events as one entry.
 * Nothing is committed. Returns as ledger_batches_apply does. One thread at a time, the same rule
 * as ledger_batches_apply. */
ff_err ledger_batches_seal(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                           ledger_result *const *results, ledger_sealed_group *group_out);
void ledger_sealed_group_free(ledger_sealed_group *group);

/* Every node: applies the entry found at replicated index `index`, in one durable write
 * transaction: appends each event's stored bytes to the log (the chain and the Merkle tree),
 * runs the projections and the projection hook (plugins), and records index as applied.
 * An index at or below the one already applied changes nothing (*recorded_out false, FF_OK).
 * An entry whose previous hash is not the head (sealed by a leader that was deposed before it
 * could be applied) is skipped, deterministically on every node: its index is recorded, no event
 * is, *recorded_out false. A record that does not decode or replay is FF_ERR_LOG_DECODE or the
 * projection's error, and nothing is written. Any thread; serialised with the ledger's writes. */
ff_err ledger_sealed_apply(ff_ledger *ledger, uint64_t index, const uint8_t *bytes, size_t size,
                           bool *recorded_out);

/* The last replicated index applied, 0 if none. Any thread. */
ff_err ledger_applied_index_read(ff_ledger *ledger, uint64_t *index_out);

/* Snapshot: writes a compacted copy of the whole store (which holds the applied index) to path,
 * consistent as at one read transaction. Any thread. */
ff_err ledger_snapshot_write(ff_ledger *ledger, const char *path);

/* Replaces the ledger's whole content with a snapshot written by ledger_snapshot_write, while
 * readers keep reading (they see the old content until their next transaction). The snapshot's
 * chain is checked before anything is replaced. Serialised with the ledger's writes. */
ff_err ledger_snapshot_restore(ff_ledger *ledger, const char *path);

#endif
