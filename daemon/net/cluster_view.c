/* The cluster's status as a ClusterStatus message, and the membership RPCs handed to the
 * cluster layer (cluster_view.h). */
#include "cluster_view.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

Fundflow__V1__ClusterRole cluster_view_role(server_cluster_role role) {
    switch (role) {
    case SERVER_CLUSTER_FOLLOWER: return FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_FOLLOWER;
    case SERVER_CLUSTER_CANDIDATE: return FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_CANDIDATE;
    case SERVER_CLUSTER_LEADER: return FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_LEADER;
    case SERVER_CLUSTER_UNAVAILABLE: break;
    }
    return FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_UNAVAILABLE;
}

uint64_t cluster_view_behind(const server_cluster_status *status,
                             const server_cluster_node *node) {
    if (status->role != SERVER_CLUSTER_LEADER || node->id == status->self_id) return 0;
    return node->match_index < status->last_index ? status->last_index - node->match_index : 0;
}

const char *cluster_view_leader_url(const server_cluster_status *status) {
    if (status->leader_id == 0) return "";
    for (size_t i = 0; i < status->node_count; i++) {
        if (status->nodes[i].id == status->leader_id) return status->nodes[i].url;
    }
    return "";
}

bool cluster_view_method_is(const char *method) {
    return strcmp(method, "GetClusterStatus") == 0 || strcmp(method, "AddClusterNode") == 0 ||
           strcmp(method, "RemoveClusterNode") == 0 || strcmp(method, "TransferLeadership") == 0;
}

/* The message of a status, with every string copied, so that protobuf-c's free frees it. */
static ff_err cluster_view_message(const server_cluster_status *status,
                                   Fundflow__V1__ClusterStatus **message_out) {
    assert(status->node_count <= FF_CLUSTER_NODES_MAX);
    Fundflow__V1__ClusterStatus *message = malloc(sizeof *message);
    Fundflow__V1__ClusterNode **nodes = calloc(status->node_count + 1, sizeof *nodes);
    if (message == NULL || nodes == NULL) {
        free(message), free(nodes);
        return FF_ERR_NO_MEMORY;
    }
    fundflow__v1__cluster_status__init(message);
    *message = (Fundflow__V1__ClusterStatus){
        .base = message->base, .self_id = status->self_id,
        .role = cluster_view_role(status->role), .term = status->term,
        .leader_id = status->leader_id, .leader_url = strdup(cluster_view_leader_url(status)),
        .commit_index = status->commit_index, .applied_index = status->applied_index,
        .last_index = status->last_index, .nodes = nodes};
    bool complete = message->leader_url != NULL;
    for (size_t i = 0; i < status->node_count && complete; i++) {
        const server_cluster_node *node = &status->nodes[i];
        Fundflow__V1__ClusterNode *view = malloc(sizeof *view);
        if (view == NULL) break;
        fundflow__v1__cluster_node__init(view);
        nodes[message->n_nodes++] = view;
        view->id = node->id;
        view->raft_address = strdup(node->raft_address);
        view->url = strdup(node->url);
        view->voter = node->voter;
        view->role = cluster_view_role(node->role);
        view->match_index = status->role == SERVER_CLUSTER_LEADER ? node->match_index : 0;
        view->behind = cluster_view_behind(status, node);
        complete = view->raft_address != NULL && view->url != NULL;
    }
    if (!complete || message->n_nodes != status->node_count) {
        /* protobuf-c frees every string but the empty default, which stands in for those
         * strdup could not copy. */
        char *empty = (char *)protobuf_c_empty_string;
        if (message->leader_url == NULL) message->leader_url = empty;
        for (size_t i = 0; i < message->n_nodes; i++) {
            if (nodes[i]->raft_address == NULL) nodes[i]->raft_address = empty;
            if (nodes[i]->url == NULL) nodes[i]->url = empty;
        }
        fundflow__v1__cluster_status__free_unpacked(message, NULL);
        return FF_ERR_NO_MEMORY;
    }
    *message_out = message;
    return FF_OK;
}

/* An address or URL the cluster can be given: present, within FF_CLUSTER_ADDRESS_BYTES. */
static ff_err cluster_view_address_check(const char *value, const char *field,
                                         ff_failure *failure) {
    if (value == NULL || value[0] == '\0') {
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is empty", field);
    }
    if (strlen(value) >= FF_CLUSTER_ADDRESS_BYTES) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, field,
                           "%s is longer than %d bytes", field, FF_CLUSTER_ADDRESS_BYTES - 1);
    }
    return FF_OK;
}

static ff_err cluster_view_add(const server_cluster_ops *ops,
                               const Fundflow__V1__AddClusterNodeRequest *add,
                               ff_failure *failure) {
    if (add->id == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "id", "id is 0: give the node's ID");
    }
    ff_err err = cluster_view_address_check(add->raft_address, "raft_address", failure);
    if (err == FF_OK) err = cluster_view_address_check(add->url, "url", failure);
    if (err != FF_OK) return err;
    if (strncmp(add->url, "http://", 7) != 0 && strncmp(add->url, "https://", 8) != 0) {
        return failure_set(failure, FF_ERR_ENUM_INVALID, "url",
                           "url must start http:// or https://, as http://HOST:PORT");
    }
    err = ops->add(ops->argument, add->id, add->raft_address, add->url, !add->standby);
    if (err != FF_OK) {
        failure_set(failure, err, NULL, "node %llu was not added: %s", (unsigned long long)add->id,
                    ff_strerror(err));
    }
    return err;
}

/* The change a membership RPC asks for; GetClusterStatus asks none. */
static ff_err cluster_view_change(const server_cluster_ops *ops, const char *method,
                                  const ProtobufCMessage *request, ff_failure *failure) {
    if (strcmp(method, "AddClusterNode") == 0) {
        return cluster_view_add(ops, (const Fundflow__V1__AddClusterNodeRequest *)request,
                                failure);
    }
    ff_err err = FF_OK;
    uint64_t id = 0;
    if (strcmp(method, "RemoveClusterNode") == 0) {
        id = ((const Fundflow__V1__RemoveClusterNodeRequest *)request)->id;
        if (id == 0) {
            return failure_set(failure, FF_ERR_FIELD_MISSING, "id",
                               "id is 0: give the ID of the node to remove");
        }
        err = ops->remove(ops->argument, id);
    } else if (strcmp(method, "TransferLeadership") == 0) {
        id = ((const Fundflow__V1__TransferLeadershipRequest *)request)->id;
        err = ops->transfer(ops->argument, id);
    }
    if (err != FF_OK) {
        failure_set(failure, err, NULL, "%s of node %llu was refused: %s", method,
                    (unsigned long long)id, ff_strerror(err));
    }
    return err;
}

ff_err cluster_view_answer(const server_cluster_ops *ops, const char *method,
                           const ProtobufCMessage *request, ProtobufCMessage **response_out,
                           ff_failure *failure) {
    assert(cluster_view_method_is(method));
    *response_out = NULL;
    if (ops == NULL) {
        return failure_set(failure, FF_ERR_NOT_IN_CLUSTER, NULL,
                           "this server is not part of a cluster (it runs without "
                           "--cluster-config)");
    }
    ff_err err = cluster_view_change(ops, method, request, failure);
    if (err != FF_OK) return err;
    server_cluster_status status;
    memset(&status, 0, sizeof status);
    err = ops->status(ops->argument, &status);
    if (err != FF_OK) {
        return failure_set(failure, err, NULL, "cannot read the cluster's status: %s",
                           ff_strerror(err));
    }
    Fundflow__V1__ClusterStatus *message = NULL;
    err = cluster_view_message(&status, &message);
    if (err != FF_OK) return failure_set(failure, err, NULL, "no memory for the cluster's status");
    *response_out = &message->base;
    return FF_OK;
}
