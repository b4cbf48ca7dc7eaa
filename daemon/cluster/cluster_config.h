/* The cluster configuration file that `fundflowd --cluster-config FILE` reads: which node this is
 * and every node's ID, Raft address and RPC URL, with the Raft timings as optional settings.
 *
 * Format (docs/CLUSTER.md): `key = value` lines, `#` starts a comment, blank lines are ignored.
 *   self = ID                          this node's ID (required; a node line must name it)
 *   node = ID RAFT_HOST:PORT URL        one line per node of the initial configuration
 *   election_timeout_ms = N            optional, default 1000
 *   heartbeat_timeout_ms = N           optional, default 100; below election_timeout_ms
 *   snapshot_threshold = N             optional, default 1024 entries between snapshots
 *   snapshot_trailing = N              optional, default 256 entries kept after a snapshot
 *   join = yes|no                      optional, default no: yes for a node added later with
 *                                      `fundflow cluster add`, which must not bootstrap
 *   recover = yes|no                   optional, default no: yes, once, on the one surviving
 *                                      node after a majority is lost: its Raft log is given
 *                                      the configuration of the node lines (raft_recover)
 * Errors name the file, the line and the setting.
 */
#ifndef FUNDFLOW_CLUSTER_CONFIG_H
#define FUNDFLOW_CLUSTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"
#include "fundflow/limits.h"

typedef struct cluster_node_config {
    uint64_t id;
    char raft_address[FF_CLUSTER_ADDRESS_BYTES];
    char url[FF_CLUSTER_ADDRESS_BYTES];
} cluster_node_config;

typedef struct cluster_config {
    uint64_t self_id;
    cluster_node_config nodes[FF_CLUSTER_NODES_MAX];
    size_t node_count;
    unsigned election_timeout_ms;
    unsigned heartbeat_timeout_ms;
    unsigned snapshot_threshold;
    unsigned snapshot_trailing;
    bool join;
    bool recover;
} cluster_config;

/* Reads and checks the file at path into config_out. FF_OK, or FF_ERR_CLUSTER_CONFIG with a
 * sentence naming the file, line and setting in error (or FF_ERR_IO when it cannot be read). */
ff_err cluster_config_load(const char *path, cluster_config *config_out, char *error,
                           size_t error_bytes);

/* This node's entry in config (always present once cluster_config_load has succeeded). */
const cluster_node_config *cluster_config_self(const cluster_config *config);

#endif
