/* Raft's state machine for the ledger: applies committed entries with ledger_sealed_apply at
 * their Raft index, and takes and restores snapshots of the whole store.
 *
 * A snapshot is "FFSNAP01", the ledger's applied index (8 bytes, little-endian), then the bytes
 * ledger_snapshot_write wrote (a compacted copy of the store, applied index included). Restoring
 * one whose index the ledger has already reached changes nothing: that is a restart (raft_start
 * restores the last snapshot before replaying the log) or a node seeded from a backup.
 * Everything here runs on the cluster's loop thread (or before it starts), but for the copy of a
 * snapshot, which runs in libuv's thread pool (Raft's asynchronous snapshots, fsm version 3) so
 * that a large ledger's copy does not hold up heartbeats.
 */
#ifndef FUNDFLOW_CLUSTER_FSM_H
#define FUNDFLOW_CLUSTER_FSM_H

#include <pthread.h>
#include <raft.h>

#include "cluster.h"
#include "fundflow/limits.h"

typedef struct cluster_fsm {
    ff_ledger *ledger;
    struct raft *raft;
    char snapshot_path[FF_PATH_BYTES_MAX + 1]; /* DATA_DIR/raft-snapshot.tmp */
    pthread_mutex_t notify_lock;
    cluster_applied_callback notify;
    void *notify_argument;
} cluster_fsm;

/* Raft entries are the ledger's sealed entries wrapped: their length (8 bytes, little-endian),
 * the entry, and zeros to a multiple of 8 bytes. raft_uv 0.15 stores an entry whose length is
 * not a multiple of 8 so that it reads back shifted after a restart (canonical/raft issues 180,
 * 189 and 304: the segment format assumes 8-byte alignment and does not check it). wrap gives
 * a raft_malloc'd buffer (0 or RAFT_NOMEM); unwrap finds the entry inside one
 * (FF_ERR_REPLICA_ENTRY_INVALID if its length does not fit). */
int cluster_entry_wrap(const uint8_t *entry, size_t entry_size, struct raft_buffer *out);
ff_err cluster_entry_unwrap(const void *bytes, size_t size, const uint8_t **entry_out,
                            size_t *entry_size_out);

/* Fills fsm (Raft's, version 3) to apply to ledger; raft's last applied index gives each entry's
 * index (the entry being applied is always raft_last_applied + 1). FF_OK or FF_ERR_CLUSTER_START
 * when data_dir's path is too long. */
ff_err cluster_fsm_init(cluster_fsm *state, struct raft_fsm *fsm, ff_ledger *ledger,
                        struct raft *raft, const char *data_dir);
void cluster_fsm_notify_set(cluster_fsm *state, cluster_applied_callback callback, void *argument);
void cluster_fsm_close(cluster_fsm *state);

#endif
