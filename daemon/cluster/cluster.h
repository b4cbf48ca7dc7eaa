/* The cluster engine: one node of a Raft cluster (canonical raft with its libuv I/O, raft_uv)
 * that replicates the ledger's sealed entries. Everything Raft-specific lives in this layer; the
 * ledger sees only ledger_replica.h, and the network layer only the calls below (which
 * daemon/net binds to writer_replicator and server_cluster_ops).
 *
 * A thread runs a libuv loop with raft on it; Raft's data lives in DATA_DIR/raft. The state
 * machine applies each committed entry with ledger_sealed_apply at its Raft index, writes
 * snapshots with ledger_snapshot_write and restores them with ledger_snapshot_restore (skipping
 * one the ledger has already passed, as after a restart). Other threads hand requests to the
 * loop and wait for Raft's callbacks; the status they read is a copy the loop refreshes every
 * FF_CLUSTER_TICK_MS and after every change.
 */
#ifndef FUNDFLOW_CLUSTER_H
#define FUNDFLOW_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_config.h"
#include "ledger.h"

typedef struct ff_cluster ff_cluster;

typedef enum cluster_role {
    CLUSTER_ROLE_UNAVAILABLE,
    CLUSTER_ROLE_FOLLOWER,
    CLUSTER_ROLE_CANDIDATE,
    CLUSTER_ROLE_LEADER,
} cluster_role;

typedef struct cluster_node_status {
    uint64_t id;
    char raft_address[FF_CLUSTER_ADDRESS_BYTES];
    char url[FF_CLUSTER_ADDRESS_BYTES]; /* "" when this node has not been told it */
    bool voter;
    cluster_role role;    /* as this node knows it */
    uint64_t match_index; /* on the leader: the highest index known replicated there */
} cluster_node_status;

typedef struct cluster_status {
    uint64_t self_id;
    cluster_role role;
    uint64_t term;
    uint64_t leader_id;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    size_t node_count;
    cluster_node_status nodes[FF_CLUSTER_NODES_MAX];
} cluster_status;

/* Called after each entry this node applies that recorded events; from the cluster's thread. */
typedef void (*cluster_applied_callback)(void *argument);

/* Starts this node: Raft's data in data_dir/raft (bootstrapped with the configuration's nodes on
 * the first start unless config->join), the loop thread running. ledger must outlive the
 * cluster. FF_OK, or FF_ERR_CLUSTER_START / FF_ERR_NO_MEMORY with a sentence in error (a Raft
 * address in use says "address already in use"). */
ff_err cluster_start(const cluster_config *config, const char *data_dir, ff_ledger *ledger,
                     ff_cluster **cluster_out, char *error, size_t error_bytes);

/* Sets (or with NULL clears) the callback told of applied entries. Once it returns, the old
 * callback is not running and will not be called again. Any thread. */
void cluster_applied_callback_set(ff_cluster *cluster, cluster_applied_callback callback,
                                  void *argument);

/* FF_OK once this node leads and a barrier of its term has been applied (every entry committed
 * before it is in the ledger); FF_ERR_NOT_LEADER otherwise. Never blocks. */
ff_err cluster_ready(ff_cluster *cluster);

/* Replicates one sealed entry and waits until it is applied here: FF_OK if it recorded events,
 * FF_ERR_REPLICATION_UNKNOWN if leadership was lost, the node is stopping, or the entry was
 * skipped as stale. Blocks its caller (the writer's thread). */
ff_err cluster_replicate(ff_cluster *cluster, const uint8_t *entry, size_t entry_size);

/* FF_OK if this node leads; else FF_ERR_NOT_LEADER with the leader's URL ("" if unknown). */
ff_err cluster_leader(ff_cluster *cluster, char *leader_url, size_t leader_url_bytes);

/* The latest status copy. Never blocks beyond a short lock. */
void cluster_status_read(ff_cluster *cluster, cluster_status *status_out);

/* Membership and leadership, run on the leader; each blocks until Raft answers. FF_OK,
 * FF_ERR_NOT_LEADER, FF_ERR_CLUSTER_MEMBER, FF_ERR_CLUSTER_BUSY or FF_ERR_REPLICATION_UNKNOWN. */
ff_err cluster_add(ff_cluster *cluster, uint64_t id, const char *raft_address, const char *url,
                   bool voter);
ff_err cluster_remove(ff_cluster *cluster, uint64_t id);
ff_err cluster_transfer(ff_cluster *cluster, uint64_t id); /* 0: Raft picks a voter */

/* Stops the applied callback, answers every waiting caller (FF_ERR_REPLICATION_UNKNOWN), closes
 * Raft once the writes of its log in flight have finished, joins the thread, waits until the
 * callers answered have returned and frees everything. Other calls (cluster_ready, _leader,
 * _status_read) must have returned before it starts. The ledger is untouched. NULL is
 * ignored. */
void cluster_stop(ff_cluster *cluster);

#endif
