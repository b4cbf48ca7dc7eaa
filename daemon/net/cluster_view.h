/* The cluster as clients see it: the cluster layer's status (server_cluster.h) turned into the
 * ClusterStatus message and its Prometheus gauges, and the membership RPCs (AddClusterNode,
 * RemoveClusterNode, TransferLeadership) checked and passed to the cluster layer. Knows nothing
 * of Raft; every function here may run on any thread, and the membership calls may block theirs
 * until the cluster answers (so the server runs them on a reader thread).
 */
#ifndef FUNDFLOW_CLUSTER_VIEW_H
#define FUNDFLOW_CLUSTER_VIEW_H

#include <stdbool.h>

#include "failure.h"
#include "server_cluster.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The ClusterRole of a role the cluster layer reports. */
Fundflow__V1__ClusterRole cluster_view_role(server_cluster_role role);

/* How many entries a node is behind the leader's last index: known only on the leader (from the
 * node's match index), else 0. */
uint64_t cluster_view_behind(const server_cluster_status *status,
                             const server_cluster_node *node);

/* The leader's RPC URL as status names it, or "" when no leader is known. */
const char *cluster_view_leader_url(const server_cluster_status *status);

/* True for the Ledger RPCs this file answers. */
bool cluster_view_method_is(const char *method);

/* Answers one of those RPCs: the change asked for (none for GetClusterStatus), then the
 * status after it, malloc'd (free with protobuf_c_message_free_unpacked). ops NULL: the server is
 * not in a cluster, FF_ERR_NOT_IN_CLUSTER. A bad argument: FF_ERR_FIELD_MISSING,
 * FF_ERR_FIELD_TOO_LONG or FF_ERR_ENUM_INVALID (a URL not http:// or https://) naming it.
 * Otherwise what the cluster layer returned (FF_ERR_NOT_LEADER, FF_ERR_REPLICATION_UNKNOWN, ...),
 * with failure saying which change it refused. */
ff_err cluster_view_answer(const server_cluster_ops *ops, const char *method,
                           const ProtobufCMessage *request, ProtobufCMessage **response_out,
                           ff_failure *failure);

#endif
