/* writer_replicator and server_cluster_ops over the cluster engine (cluster_bind.h). */
#include "cluster_bind.h"

#include <string.h>

static ff_err bound_ready(void *argument) {
    return cluster_ready(argument);
}

static ff_err bound_replicate(void *argument, const uint8_t *entry, size_t entry_size) {
    return cluster_replicate(argument, entry, entry_size);
}

static ff_err bound_leader(void *argument, char *leader_url, size_t leader_url_bytes) {
    return cluster_leader(argument, leader_url, leader_url_bytes);
}

static server_cluster_role role_for_server(cluster_role role) {
    switch (role) {
    case CLUSTER_ROLE_FOLLOWER: return SERVER_CLUSTER_FOLLOWER;
    case CLUSTER_ROLE_CANDIDATE: return SERVER_CLUSTER_CANDIDATE;
    case CLUSTER_ROLE_LEADER: return SERVER_CLUSTER_LEADER;
    case CLUSTER_ROLE_UNAVAILABLE: break;
    }
    return SERVER_CLUSTER_UNAVAILABLE;
}

static ff_err bound_status(void *argument, server_cluster_status *status_out) {
    cluster_status status;
    cluster_status_read(argument, &status);
    memset(status_out, 0, sizeof *status_out);
    status_out->self_id = status.self_id;
    status_out->role = role_for_server(status.role);
    status_out->term = status.term;
    status_out->leader_id = status.leader_id;
    status_out->commit_index = status.commit_index;
    status_out->applied_index = status.applied_index;
    status_out->last_index = status.last_index;
    status_out->node_count = status.node_count;
    for (size_t i = 0; i < status.node_count; i++) {
        const cluster_node_status *from = &status.nodes[i];
        server_cluster_node *to = &status_out->nodes[i];
        to->id = from->id;
        memcpy(to->raft_address, from->raft_address, sizeof to->raft_address);
        memcpy(to->url, from->url, sizeof to->url);
        to->voter = from->voter;
        to->role = role_for_server(from->role);
        to->match_index = from->match_index;
    }
    return FF_OK;
}

static ff_err bound_add(void *argument, uint64_t id, const char *raft_address, const char *url,
                        bool voter) {
    return cluster_add(argument, id, raft_address, url, voter);
}

static ff_err bound_remove(void *argument, uint64_t id) {
    return cluster_remove(argument, id);
}

static ff_err bound_transfer(void *argument, uint64_t id) {
    return cluster_transfer(argument, id);
}

void cluster_bind(ff_cluster *cluster, cluster_binding *binding) {
    binding->replicator = (writer_replicator){cluster, bound_ready, bound_replicate};
    binding->ops = (server_cluster_ops){cluster,     bound_leader, bound_status, bound_add,
                                        bound_remove, bound_transfer};
}
