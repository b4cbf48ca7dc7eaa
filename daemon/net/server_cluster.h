/* What the server asks of replication, when fundflowd runs as one node of a cluster: who leads,
 * the cluster's status, and membership changes. The cluster layer fills these in; without
 * --cluster-config the server has none (NULL) and behaves as a single node.
 *
 * leader and status never block (they read what the cluster layer keeps under its own lock), so
 * the network thread may call them (a write's gate, /metrics). add, remove and transfer may
 * block their calling thread (a reader thread) until the cluster answers. All return FF_OK or an
 * error from the table (FF_ERR_NOT_LEADER, with no leader named when none is known;
 * FF_ERR_REPLICATION_UNKNOWN when the outcome of a change is not known).
 *
 * The cluster layer tells the server of every entry it applies (a follower's events arrive that
 * way, not through the writer) by calling the server's applied-events notification, which is
 * safe from any thread, so that change-stream watchers and reads waiting for a minimum sequence
 * wake.
 */
#ifndef FUNDFLOW_SERVER_CLUSTER_H
#define FUNDFLOW_SERVER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"
#include "fundflow/limits.h"

typedef enum server_cluster_role {
    SERVER_CLUSTER_UNAVAILABLE,
    SERVER_CLUSTER_FOLLOWER,
    SERVER_CLUSTER_CANDIDATE,
    SERVER_CLUSTER_LEADER,
} server_cluster_role;

typedef struct server_cluster_node {
    uint64_t id;
    char raft_address[FF_CLUSTER_ADDRESS_BYTES]; /* host:port of its Raft traffic */
    char url[FF_CLUSTER_ADDRESS_BYTES];          /* its RPC base URL, http(s)://host:port */
    bool voter;
    server_cluster_role role;  /* as this node knows it; UNAVAILABLE when unknown */
    uint64_t match_index;      /* on the leader: the highest index known replicated there */
} server_cluster_node;

typedef struct server_cluster_status {
    uint64_t self_id;
    server_cluster_role role;
    uint64_t term;
    uint64_t leader_id;        /* 0 when no leader is known */
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    size_t node_count;
    server_cluster_node nodes[FF_CLUSTER_NODES_MAX];
} server_cluster_status;

typedef struct server_cluster_ops {
    void *argument;
    /* FF_OK if this node leads now; else FF_ERR_NOT_LEADER with the leader's URL in leader_url
     * ("" when no leader is known). Never blocks. */
    ff_err (*leader)(void *argument, char *leader_url, size_t leader_url_bytes);
    ff_err (*status)(void *argument, server_cluster_status *status_out);
    ff_err (*add)(void *argument, uint64_t id, const char *raft_address, const char *url,
                  bool voter);
    ff_err (*remove)(void *argument, uint64_t id);
    ff_err (*transfer)(void *argument, uint64_t id); /* 0: the library picks */
} server_cluster_ops;

#endif
