/* fundflow cluster status, add, remove and transfer: the cluster as the server knows it
 * (GetClusterStatus), and its membership (AddClusterNode, RemoveClusterNode,
 * TransferLeadership), each printed as the status after the change. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"

enum {
    CLI_CLUSTER_NODE,
    CLI_CLUSTER_ROLE,
    CLI_CLUSTER_VOTES,
    CLI_CLUSTER_RAFT_ADDRESS,
    CLI_CLUSTER_URL,
    CLI_CLUSTER_MATCH_INDEX,
    CLI_CLUSTER_BEHIND,
    CLI_CLUSTER_COLUMNS
};

static const cli_export_column cli_cluster_columns[CLI_CLUSTER_COLUMNS] = {
    CLI_EXPORT_COLUMN("node", CLI_EXPORT_INTEGER),
    CLI_EXPORT_COLUMN("role", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("votes", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("raft address", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("url", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("match index", CLI_EXPORT_INTEGER),
    CLI_EXPORT_COLUMN("behind", CLI_EXPORT_INTEGER),
};

const char *cli_cluster_role_text(int role) {
    switch (role) {
    case FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_FOLLOWER: return "follower";
    case FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_CANDIDATE: return "candidate";
    case FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_LEADER: return "leader";
    case FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_UNSPECIFIED: return "not in a cluster";
    default: return "unavailable";
    }
}

/* What this node knows of the cluster, above the table of nodes. */
static void cli_cluster_summary_print(const Fundflow__V1__ClusterStatus *status) {
    cli_field_print("this node", "%" PRIu64 " (%s)", status->self_id,
                    cli_cluster_role_text(status->role));
    cli_field_print("term", "%" PRIu64, status->term);
    if (status->leader_id != 0) {
        cli_field_print("leader", "%" PRIu64 " %s", status->leader_id, status->leader_url);
    } else {
        cli_field_print("leader", "none known");
    }
    cli_field_print("commit index", "%" PRIu64, status->commit_index);
    cli_field_print("applied index", "%" PRIu64, status->applied_index);
    cli_field_print("last index", "%" PRIu64, status->last_index);
    printf("\n");
}

static bool cli_cluster_row_add(cli_export_table *table, const Fundflow__V1__ClusterNode *node) {
    cli_export_cell cells[CLI_CLUSTER_COLUMNS] = {
        [CLI_CLUSTER_NODE] = {.number = (int64_t)node->id},
        [CLI_CLUSTER_ROLE] = {.text = cli_cluster_role_text(node->role)},
        [CLI_CLUSTER_VOTES] = {.text = node->voter ? "voter" : "standby"},
        [CLI_CLUSTER_RAFT_ADDRESS] = {.text = node->raft_address},
        [CLI_CLUSTER_URL] = {.text = node->url},
        [CLI_CLUSTER_MATCH_INDEX] = {.number = (int64_t)node->match_index},
        [CLI_CLUSTER_BEHIND] = {.number = (int64_t)node->behind}};
    return cli_export_row_add(table, cells);
}

/* The status in the chosen format: for people, the summary and a table of nodes; else the rows
 * exported (--format csv, json or xlsx). */
static int cli_cluster_status_print(const cli_options *options, cli_session *session,
                                    const Fundflow__V1__ClusterStatus *status) {
    if (!cli_export_rendered(options)) cli_cluster_summary_print(status);
    cli_export_document document;
    cli_export_document_init(&document, options);
    cli_export_table *table = cli_export_table_add(&document, "Cluster", cli_cluster_columns,
                                                   CLI_CLUSTER_COLUMNS, false);
    bool filled = table != NULL;
    for (size_t i = 0; filled && i < status->n_nodes; i++) {
        filled = cli_cluster_row_add(table, status->nodes[i]);
    }
    int code = CLI_EXIT_FAILED;
    if (filled) code = cli_export_emit(&document, options, session);
    else fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    cli_export_document_free(&document);
    return code;
}

/* Calls one of the cluster's RPCs; on success prints done (NULL for none) and the status it
 * returned, or in JSON mode the server's reply. */
static int cli_cluster_call(const cli_options *options, cli_session *session,
                            const char *method, const ProtobufCMessage *request,
                            const char *done) {
    cli_reply reply;
    int code = cli_export_wanted(options)
                   ? cli_rpc_call(session, method, request,
                                  &fundflow__v1__cluster_status__descriptor, &reply)
                   : cli_rpc_run(session, method, request,
                                 &fundflow__v1__cluster_status__descriptor, &reply);
    if (code == CLI_EXIT_OK && reply.http_status != 200) {
        code = cli_reply_refusal_report(session, &reply);
    } else if (code == CLI_EXIT_OK && cli_export_wanted(options)) {
        if (done != NULL) printf("%s\n\n", done);
        code = cli_cluster_status_print(options, session,
                                        (const Fundflow__V1__ClusterStatus *)reply.message);
    }
    cli_reply_release(&reply);
    return code;
}

int cli_cluster_status_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetClusterStatusRequest request =
        FUNDFLOW__V1__GET_CLUSTER_STATUS_REQUEST__INIT;
    return cli_cluster_call(options, session, "GetClusterStatus", &request.base, NULL);
}

int cli_cluster_add_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__AddClusterNodeRequest request = FUNDFLOW__V1__ADD_CLUSTER_NODE_REQUEST__INIT;
    request.id = options->operand_number;
    request.raft_address = (char *)options->operands[1];
    request.url = (char *)options->operands[2];
    request.standby = options->standby;
    char done[64];
    snprintf(done, sizeof done, "added node %" PRIu64 " as a %s", request.id,
             request.standby ? "standby" : "voter");
    return cli_cluster_call(options, session, "AddClusterNode", &request.base, done);
}

int cli_cluster_remove_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__RemoveClusterNodeRequest request =
        FUNDFLOW__V1__REMOVE_CLUSTER_NODE_REQUEST__INIT;
    request.id = options->operand_number;
    char done[64];
    snprintf(done, sizeof done, "removed node %" PRIu64, request.id);
    return cli_cluster_call(options, session, "RemoveClusterNode", &request.base, done);
}

int cli_cluster_transfer_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__TransferLeadershipRequest request =
        FUNDFLOW__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    request.id = options->operand ? options->operand_number : 0;
    char done[80];
    if (request.id != 0) {
        snprintf(done, sizeof done, "asked the leader to hand leadership to node %" PRIu64,
                 request.id);
    } else {
        snprintf(done, sizeof done, "asked the leader to hand leadership to the readiest voter");
    }
    return cli_cluster_call(options, session, "TransferLeadership", &request.base, done);
}
