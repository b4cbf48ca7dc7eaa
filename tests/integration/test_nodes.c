/* What a client sees of a node of a cluster, against fundflowd's server run in this process with
 * a stand-in for the cluster layer (server_cluster.h; the real Raft layer is not needed): a node
 * that does not lead refuses writes with not_leader naming the leader (meta.leader), and serves
 * reads; the cluster RPCs reach the cluster layer with the arguments asked for, and a server
 * without a cluster says it is not in one; /metrics and ServerInfo show the cluster; every reply
 * carries Fundflow-Sequence; a request with Fundflow-Min-Sequence above the head waits until a
 * write here, or an entry the cluster applied (server_events_applied, from another thread),
 * brings the head there, and past min_sequence_wait_ms is refused saying how far the head got.
 * Nothing waits for time: a parked request is known to be parked by the fundflow_sequence_waiters
 * gauge, polled a bounded number of times (test_server_metric_await). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "server.h"
#include "test_http.h"
#include "test_support.h"

/* A wait no test lets run out: the head it waits for comes first. */
#define NODES_WAIT_LONG_MS 15000

#define NODES_LEADER_URL "http://127.0.0.1:4321"

/* ---- the stand-in cluster layer ---- */

typedef struct fake_cluster {
    pthread_mutex_t lock;
    bool leads;
    char leader_url[FF_CLUSTER_ADDRESS_BYTES];
    ff_err change_result; /* what add, remove and transfer answer */
    unsigned add_calls, remove_calls, transfer_calls;
    uint64_t last_id;
    char last_raft_address[FF_CLUSTER_ADDRESS_BYTES], last_url[FF_CLUSTER_ADDRESS_BYTES];
    bool last_voter;
    server_cluster_status status;
} fake_cluster;

static ff_err fake_leader(void *argument, char *leader_url, size_t leader_url_bytes) {
    fake_cluster *fake = argument;
    pthread_mutex_lock(&fake->lock);
    ff_err err = fake->leads ? FF_OK : FF_ERR_NOT_LEADER;
    snprintf(leader_url, leader_url_bytes, "%s", fake->leads ? "" : fake->leader_url);
    pthread_mutex_unlock(&fake->lock);
    return err;
}

static ff_err fake_status(void *argument, server_cluster_status *status_out) {
    fake_cluster *fake = argument;
    pthread_mutex_lock(&fake->lock);
    *status_out = fake->status;
    pthread_mutex_unlock(&fake->lock);
    return FF_OK;
}

/* Counts a membership call (calls) with the node it names, and answers change_result. */
static ff_err fake_change(fake_cluster *fake, unsigned *calls, uint64_t id) {
    pthread_mutex_lock(&fake->lock);
    (*calls)++;
    fake->last_id = id;
    ff_err err = fake->change_result;
    pthread_mutex_unlock(&fake->lock);
    return err;
}

static ff_err fake_add(void *argument, uint64_t id, const char *raft_address, const char *url,
                       bool voter) {
    fake_cluster *fake = argument;
    pthread_mutex_lock(&fake->lock);
    snprintf(fake->last_raft_address, sizeof fake->last_raft_address, "%s", raft_address);
    snprintf(fake->last_url, sizeof fake->last_url, "%s", url);
    fake->last_voter = voter;
    pthread_mutex_unlock(&fake->lock);
    return fake_change(fake, &fake->add_calls, id);
}

static ff_err fake_remove(void *argument, uint64_t id) {
    fake_cluster *fake = argument;
    return fake_change(fake, &fake->remove_calls, id);
}

static ff_err fake_transfer(void *argument, uint64_t id) {
    fake_cluster *fake = argument;
    return fake_change(fake, &fake->transfer_calls, id);
}

static void fake_node_set(server_cluster_node *node, uint64_t id, server_cluster_role role,
                          uint64_t match_index) {
    *node = (server_cluster_node){.id = id, .voter = true, .role = role,
                                  .match_index = match_index};
    snprintf(node->raft_address, sizeof node->raft_address, "127.0.0.1:900%llu",
             (unsigned long long)id);
    snprintf(node->url, sizeof node->url, "http://127.0.0.1:800%llu", (unsigned long long)id);
}

/* Node 1 of three, leading in term 7 with last index 10: node 2 has all 10 entries, node 3 has
 * 6, so node 3 is 10 - 6 = 4 behind. */
static void fake_cluster_init(fake_cluster *fake) {
    memset(fake, 0, sizeof *fake);
    pthread_mutex_init(&fake->lock, NULL);
    fake->leads = true;
    snprintf(fake->leader_url, sizeof fake->leader_url, "%s", NODES_LEADER_URL);
    server_cluster_status *status = &fake->status;
    *status = (server_cluster_status){.self_id = 1, .role = SERVER_CLUSTER_LEADER, .term = 7,
                                      .leader_id = 1, .commit_index = 9, .applied_index = 8,
                                      .last_index = 10, .node_count = 3};
    fake_node_set(&status->nodes[0], 1, SERVER_CLUSTER_LEADER, 10);
    fake_node_set(&status->nodes[1], 2, SERVER_CLUSTER_FOLLOWER, 10);
    fake_node_set(&status->nodes[2], 3, SERVER_CLUSTER_FOLLOWER, 6);
}

static void fake_leads_set(fake_cluster *fake, bool leads, const char *leader_url) {
    pthread_mutex_lock(&fake->lock);
    fake->leads = leads;
    snprintf(fake->leader_url, sizeof fake->leader_url, "%s", leader_url);
    pthread_mutex_unlock(&fake->lock);
}

/* ---- a server in this process ---- */

typedef struct node_fixture {
    char *directory;
    ff_ledger *ledger;
    config settings;
    fake_cluster fake;
    server_cluster_ops ops;
    ff_server *server;
    pthread_t loop;
    uint16_t port;
} node_fixture;

static void *node_loop_run(void *argument) {
    node_fixture *node = argument;
    assert_int_equal(server_run(node->server), FF_OK);
    return NULL;
}

/* Starts a server on 127.0.0.1:0 over a fresh ledger; in_cluster gives it the stand-in. */
static node_fixture *node_start(bool in_cluster, uint32_t min_sequence_wait_ms) {
    node_fixture *node = calloc(1, sizeof *node);
    assert_non_null(node);
    node->directory = test_dir_make();
    node->ledger = test_ledger_open(node->directory, 0);
    char program[] = "fundflowd", data_flag[] = "--data-dir", listen_flag[] = "--listen",
         listen[] = "127.0.0.1:0";
    char *argv[] = {program, data_flag, node->directory, listen_flag, listen, NULL};
    char error[512];
    assert_int_equal(config_load(&node->settings, 5, argv, error, sizeof error), CONFIG_RUN);
    node->settings.min_sequence_wait_ms = min_sequence_wait_ms;
    fake_cluster_init(&node->fake);
    node->ops = (server_cluster_ops){.argument = &node->fake, .leader = fake_leader,
                                     .status = fake_status, .add = fake_add,
                                     .remove = fake_remove, .transfer = fake_transfer};
    if (in_cluster) node->settings.cluster = &node->ops;
    assert_int_equal(server_create(&node->settings, node->ledger, NULL, &node->server), FF_OK);
    node->port = server_port(node->server);
    assert_int_equal(pthread_create(&node->loop, NULL, node_loop_run, node), 0);
    return node;
}

static void node_stop(node_fixture *node) {
    /* The loop's SIGTERM handler (a libevent signal event) stops it, as in fundflowd. */
    kill(getpid(), SIGTERM);
    pthread_join(node->loop, NULL);
    server_free(node->server);
    ledger_close(node->ledger);
    pthread_mutex_destroy(&node->fake.lock);
    test_dir_remove(node->directory);
    free(node);
}

static int cluster_setup(void **state) {
    *state = node_start(true, NODES_WAIT_LONG_MS);
    return 0;
}

static int single_setup(void **state) {
    *state = node_start(false, NODES_WAIT_LONG_MS);
    return 0;
}

/* A short wait, for the test of a wait that runs out. */
static int short_wait_setup(void **state) {
    *state = node_start(false, 200);
    return 0;
}

static int node_teardown(void **state) {
    node_stop(*state);
    return 0;
}

/* ---- helpers ---- */

/* A field of a JSON reply (top level, or in meta when in_meta), copied; "" when absent. */
static void reply_field(const http_reply *reply, bool in_meta, const char *name, char *out,
                        size_t out_bytes) {
    json_t *root = json_loads((const char *)reply->body, 0, NULL);
    assert_non_null(root);
    json_t *object = in_meta ? json_object_get(root, "meta") : root;
    json_t *value = object ? json_object_get(object, name) : NULL;
    if (json_is_string(value)) snprintf(out, out_bytes, "%s", json_string_value(value));
    else if (json_is_integer(value)) snprintf(out, out_bytes, "%lld",
                                              (long long)json_integer_value(value));
    else if (json_is_true(value)) snprintf(out, out_bytes, "true");
    else out[0] = '\0';
    json_decref(root);
}

/* Asserts a Twirp error's code, meta.error and (when not NULL) meta.leader. */
static void error_check(const http_reply *reply, const char *code, const char *error,
                        const char *leader) {
    char text[512];
    reply_field(reply, false, "code", text, sizeof text);
    if (strcmp(text, code) != 0) fail_msg("code %s, not %s: %s", text, code, reply->body);
    reply_field(reply, true, "error", text, sizeof text);
    assert_string_equal(text, error);
    if (leader == NULL) return;
    reply_field(reply, true, "leader", text, sizeof text);
    assert_string_equal(text, leader);
}

/* Sends a JSON RPC with extra headers on a raw connection and returns the socket, the reply
 * still to be read. */
static int rpc_send(uint16_t port, const char *rpc, const char *json, const char *headers) {
    char request[2048];
    snprintf(request, sizeof request,
             "POST /twirp/fundflow.v1.Ledger/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n%s",
             rpc, strlen(json), headers, json);
    int fd = http_raw_connect(port, NULL);
    assert_true(fd >= 0);
    assert_int_equal(http_raw_send(fd, request), 0);
    return fd;
}

static void rpc_headers(uint16_t port, const char *rpc, const char *json, const char *headers,
                        http_reply *reply) {
    char path[128];
    snprintf(path, sizeof path, "/twirp/fundflow.v1.Ledger/%s", rpc);
    assert_int_equal(http_request(port, "POST", path, "application/json", json, strlen(json),
                                  headers, reply), 0);
}

#define ALLOCATE_JSON(key)                                                                     \
    "{\"commands\":[{\"idempotency_key\":\"" key "\",\"effective_date\":20240701,\"event\":"   \
    "{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\","              \
    "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"100\"}}}]}"

/* ---- the write gate ---- */

static void test_follower_refuses_writes_naming_the_leader(void **state) {
    node_fixture *node = *state;
    test_server_world_load(node->port); /* leading: events 1 to 3 */
    fake_leads_set(&node->fake, false, NODES_LEADER_URL);
    http_reply reply;
    assert_int_equal(http_twirp_json(node->port, "SubmitCommands", ALLOCATE_JSON("gate-1"),
                                     &reply), 0);
    assert_int_equal(reply.status, 503);
    error_check(&reply, "unavailable", "not_leader", NODES_LEADER_URL);
    char message[512];
    reply_field(&reply, false, "msg", message, sizeof message);
    assert_non_null(strstr(message, NODES_LEADER_URL));
    assert_int_equal(reply.sequence, 3); /* the head the refusal saw */
    http_reply_free(&reply);
    /* A principal is a write too. */
    assert_int_equal(http_twirp_json(node->port, "GrantPrincipal",
                                     "{\"name\":\"ana\",\"role\":\"AUDITOR\"}", &reply), 0);
    error_check(&reply, "unavailable", "not_leader", NODES_LEADER_URL);
    http_reply_free(&reply);
    /* No leader known: refused all the same, with no meta.leader. */
    fake_leads_set(&node->fake, false, "");
    assert_int_equal(http_twirp_json(node->port, "SubmitCommands", ALLOCATE_JSON("gate-2"),
                                     &reply), 0);
    error_check(&reply, "unavailable", "not_leader", "");
    http_reply_free(&reply);
    /* Reads are served on a follower, with the head they reflect. */
    assert_int_equal(http_twirp_json(node->port, "GetEvent", "{\"sequence\":3}", &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.sequence, 3);
    http_reply_free(&reply);
    assert_int_equal(test_server_head(node->port), 3); /* nothing was written */
    /* Leading again, the write goes through: event 4. */
    fake_leads_set(&node->fake, true, "");
    assert_int_equal(test_server_allocate(node->port, "gate-3", 100), 4);
}

/* ---- the cluster's RPCs, /metrics and ServerInfo ---- */

static void test_cluster_status_from_the_cluster_layer(void **state) {
    node_fixture *node = *state;
    http_reply reply;
    assert_int_equal(http_twirp_json(node->port, "GetClusterStatus", "{}", &reply), 0);
    assert_int_equal(reply.status, 200);
    json_t *status = json_loads((const char *)reply.body, 0, NULL);
    assert_non_null(status);
    assert_string_equal(json_string_value(json_object_get(status, "role")),
                        "CLUSTER_ROLE_LEADER");
    assert_string_equal(json_string_value(json_object_get(status, "leader_url")),
                        "http://127.0.0.1:8001");
    json_t *nodes = json_object_get(status, "nodes");
    assert_int_equal(json_array_size(nodes), 3);
    json_t *third = json_array_get(nodes, 2);
    assert_string_equal(json_string_value(json_object_get(third, "raft_address")),
                        "127.0.0.1:9003");
    /* 64-bit numbers are JSON strings (proto3's JSON mapping). Last index 10, match 6. */
    assert_string_equal(json_string_value(json_object_get(third, "behind")), "4");
    assert_string_equal(json_string_value(json_object_get(status, "term")), "7");
    json_decref(status);
    assert_true(reply.sequence >= 0);
    http_reply_free(&reply);
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_role"), 3);
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_term"), 7);
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_applied_index"), 8);
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_node_behind{node=\"3\"}"),
                     4);
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_node_behind{node=\"2\"}"),
                     0);
    assert_int_equal(http_twirp_json(node->port, "ServerInfo", "{}", &reply), 0);
    char text[64];
    reply_field(&reply, false, "cluster_node_id", text, sizeof text);
    assert_string_equal(text, "1");
    reply_field(&reply, false, "cluster_role", text, sizeof text);
    assert_string_equal(text, "CLUSTER_ROLE_LEADER");
    reply_field(&reply, false, "cluster_applied_index", text, sizeof text);
    assert_string_equal(text, "8");
    http_reply_free(&reply);
}

static void test_membership_reaches_the_cluster_layer(void **state) {
    node_fixture *node = *state;
    fake_cluster *fake = &node->fake;
    http_reply reply;
    assert_int_equal(http_twirp_json(node->port, "AddClusterNode",
                                     "{\"id\":4,\"raft_address\":\"127.0.0.1:9004\","
                                     "\"url\":\"http://127.0.0.1:8004\",\"standby\":true}",
                                     &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(fake->add_calls, 1);
    assert_int_equal(fake->last_id, 4);
    assert_string_equal(fake->last_raft_address, "127.0.0.1:9004");
    assert_string_equal(fake->last_url, "http://127.0.0.1:8004");
    assert_false(fake->last_voter);
    assert_int_equal(http_twirp_json(node->port, "RemoveClusterNode", "{\"id\":3}", &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(fake->remove_calls, 1);
    assert_int_equal(fake->last_id, 3);
    assert_int_equal(http_twirp_json(node->port, "TransferLeadership", "{\"id\":2}", &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(fake->last_id, 2);
    assert_int_equal(http_twirp_json(node->port, "TransferLeadership", "{}", &reply), 0);
    http_reply_free(&reply);
    assert_int_equal(fake->transfer_calls, 2);
    assert_int_equal(fake->last_id, 0); /* the library picks */
    /* Bad arguments never reach the cluster layer. */
    assert_int_equal(http_twirp_json(node->port, "AddClusterNode",
                                     "{\"raft_address\":\"h:1\",\"url\":\"http://h:2\"}",
                                     &reply), 0);
    error_check(&reply, "invalid_argument", "field_missing", NULL);
    char field[64];
    reply_field(&reply, true, "field", field, sizeof field);
    assert_string_equal(field, "id");
    http_reply_free(&reply);
    assert_int_equal(http_twirp_json(node->port, "AddClusterNode",
                                     "{\"id\":5,\"raft_address\":\"h:1\",\"url\":\"ftp://h:2\"}",
                                     &reply), 0);
    error_check(&reply, "invalid_argument", "enum_invalid", NULL);
    http_reply_free(&reply);
    assert_int_equal(http_twirp_json(node->port, "RemoveClusterNode", "{}", &reply), 0);
    error_check(&reply, "invalid_argument", "field_missing", NULL);
    http_reply_free(&reply);
    assert_int_equal(fake->add_calls, 1);
    assert_int_equal(fake->remove_calls, 1);
    /* A follower's cluster layer refuses a change: not_leader, naming the leader. */
    fake->change_result = FF_ERR_NOT_LEADER;
    fake_leads_set(fake, false, NODES_LEADER_URL);
    assert_int_equal(http_twirp_json(node->port, "RemoveClusterNode", "{\"id\":3}", &reply), 0);
    error_check(&reply, "unavailable", "not_leader", NODES_LEADER_URL);
    http_reply_free(&reply);
    fake->change_result = FF_ERR_REPLICATION_UNKNOWN;
    assert_int_equal(http_twirp_json(node->port, "TransferLeadership", "{}", &reply), 0);
    error_check(&reply, "unavailable", "replication_unknown", NODES_LEADER_URL);
    http_reply_free(&reply);
}

static void test_single_node_is_not_in_a_cluster(void **state) {
    node_fixture *node = *state;
    const char *methods[] = {"GetClusterStatus", "AddClusterNode", "RemoveClusterNode",
                             "TransferLeadership"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        http_reply reply;
        assert_int_equal(http_twirp_json(node->port, methods[i], "{\"id\":2}", &reply), 0);
        assert_int_equal(reply.status, 412);
        error_check(&reply, "failed_precondition", "not_in_cluster", NULL);
        char message[256];
        reply_field(&reply, false, "msg", message, sizeof message);
        assert_non_null(strstr(message, "this server is not part of a cluster"));
        http_reply_free(&reply);
    }
    assert_int_equal(test_server_metric(node->port, "fundflow_cluster_role"), UINT64_MAX);
    http_reply reply;
    assert_int_equal(http_twirp_json(node->port, "ServerInfo", "{}", &reply), 0);
    char role[64];
    reply_field(&reply, false, "cluster_role", role, sizeof role);
    assert_true(role[0] == '\0' || strcmp(role, "CLUSTER_ROLE_UNSPECIFIED") == 0);
    reply_field(&reply, false, "cluster_node_id", role, sizeof role);
    assert_true(role[0] == '\0' || strcmp(role, "0") == 0);
    http_reply_free(&reply);
    /* Writes need no leader. */
    test_server_world_load(node->port);
}

/* ---- Fundflow-Sequence ---- */

static void test_replies_carry_their_sequence(void **state) {
    node_fixture *node = *state;
    test_server_world_load(node->port);
    http_reply reply;
    assert_int_equal(http_twirp_json(node->port, "SubmitCommands", ALLOCATE_JSON("seq-1"),
                                     &reply), 0);
    assert_int_equal(reply.status, 200);
    char head[32];
    reply_field(&reply, false, "head_sequence", head, sizeof head);
    assert_string_equal(head, "4");
    assert_int_equal(reply.sequence, 4); /* the head after the write's group */
    http_reply_free(&reply);
    assert_int_equal(http_twirp_json(node->port, "ListEvents", "{}", &reply), 0);
    assert_int_equal(reply.sequence, 4);
    http_reply_free(&reply);
    /* An error reply too: event 9 does not exist at head 4. */
    assert_int_equal(http_twirp_json(node->port, "GetEvent", "{\"sequence\":9}", &reply), 0);
    assert_int_equal(reply.status, 404);
    assert_int_equal(reply.sequence, 4);
    http_reply_free(&reply);
    /* A replay of the same key changes nothing: still 4. */
    assert_int_equal(http_twirp_json(node->port, "SubmitCommands", ALLOCATE_JSON("seq-1"),
                                     &reply), 0);
    assert_int_equal(reply.sequence, 4);
    http_reply_free(&reply);
    /* Not a Twirp reply: none. */
    assert_int_equal(http_request(node->port, "GET", "/healthz", NULL, NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.sequence, -1);
    http_reply_free(&reply);
}

/* ---- Fundflow-Min-Sequence ---- */

static void test_min_sequence_waits_for_a_write(void **state) {
    node_fixture *node = *state;
    test_server_world_load(node->port); /* head 3 */
    int fd = rpc_send(node->port, "GetEvent", "{\"sequence\":4}", "Fundflow-Min-Sequence: 4\r\n");
    test_server_metric_await(node->port, "fundflow_sequence_waiters", 1);
    assert_int_equal(test_server_allocate(node->port, "min-1", 100), 4);
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    if (reply.status != 200) fail_msg("status %d: %s", reply.status, reply.body);
    assert_true(reply.sequence >= 4);
    http_reply_free(&reply);
    close(fd);
    assert_int_equal(test_server_metric(node->port, "fundflow_sequence_waiters"), 0);
    /* At or below the head it runs at once. */
    rpc_headers(node->port, "GetEvent", "{\"sequence\":4}", "Fundflow-Min-Sequence: 4\r\n",
                &reply);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
}

/* As the cluster layer does on a follower: applies an entry to the ledger itself (here event 4,
 * a £1.00 allocation), then tells the server, from its own thread. */
static void *applied_writer_run(void *argument) {
    node_fixture *node = argument;
    ledger_result result;
    Fundflow__V1__Command *command = test_allocation("applied-1", "X24", "QUE",
                                                     FUNDFLOW__V1__STREAM__CORE_SERVICES,
                                                     TEST_YEAR, 100);
    assert_int_equal(test_submit(node->ledger, command, &result), FF_OK);
    assert_int_equal(result.sequence, 4);
    server_events_applied(node->server, 4);
    return NULL;
}

static void test_min_sequence_woken_by_the_cluster(void **state) {
    node_fixture *node = *state;
    test_server_world_load(node->port); /* head 3, leading */
    fake_leads_set(&node->fake, false, NODES_LEADER_URL);
    int fd = rpc_send(node->port, "ListEvents", "{\"after_sequence\":3}",
                      "Fundflow-Min-Sequence: 4\r\n");
    test_server_metric_await(node->port, "fundflow_sequence_waiters", 1);
    pthread_t applier;
    assert_int_equal(pthread_create(&applier, NULL, applied_writer_run, node), 0);
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    pthread_join(applier, NULL);
    if (reply.status != 200) fail_msg("status %d: %s", reply.status, reply.body);
    assert_int_equal(reply.sequence, 4);
    assert_non_null(strstr((const char *)reply.body, "applied-1"));
    http_reply_free(&reply);
    close(fd);
    /* A write that waited is still gated when it runs: this node does not lead. */
    rpc_headers(node->port, "SubmitCommands", ALLOCATE_JSON("min-2"),
                "Fundflow-Min-Sequence: 4\r\n", &reply);
    error_check(&reply, "unavailable", "not_leader", NODES_LEADER_URL);
    http_reply_free(&reply);
}

static void test_min_sequence_wait_runs_out(void **state) {
    node_fixture *node = *state; /* min_sequence_wait_ms 200 */
    test_server_world_load(node->port); /* head 3 */
    http_reply reply;
    rpc_headers(node->port, "ListOrgs", "{}", "Fundflow-Min-Sequence: 100\r\n", &reply);
    assert_int_equal(reply.status, 503);
    error_check(&reply, "unavailable", "sequence_not_reached", NULL);
    char text[64];
    reply_field(&reply, true, "head_sequence", text, sizeof text);
    assert_string_equal(text, "3");
    reply_field(&reply, true, "min_sequence", text, sizeof text);
    assert_string_equal(text, "100");
    reply_field(&reply, true, "wait_ms", text, sizeof text);
    assert_string_equal(text, "200");
    assert_int_equal(reply.sequence, 3);
    http_reply_free(&reply);
    assert_int_equal(test_server_metric(node->port, "fundflow_sequence_waiters"), 0);
}

static void test_min_sequence_header_invalid(void **state) {
    node_fixture *node = *state;
    const char *values[] = {"abc", "-1", "4x", " ", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char header[128];
        snprintf(header, sizeof header, "Fundflow-Min-Sequence: %s\r\n", values[i]);
        http_reply reply;
        rpc_headers(node->port, "ListOrgs", "{}", header, &reply);
        if (reply.status != 400) fail_msg("'%s': status %d", values[i], reply.status);
        error_check(&reply, "invalid_argument", "min_sequence_invalid", NULL);
        char text[64];
        reply_field(&reply, true, "header", text, sizeof text);
        assert_string_equal(text, "Fundflow-Min-Sequence");
        http_reply_free(&reply);
    }
}

/* A client that hangs up while it waits frees its place. */
static void test_min_sequence_client_hangs_up(void **state) {
    node_fixture *node = *state;
    int fd = rpc_send(node->port, "ListOrgs", "{}", "Fundflow-Min-Sequence: 50\r\n");
    test_server_metric_await(node->port, "fundflow_sequence_waiters", 1);
    close(fd);
    test_server_metric_await(node->port, "fundflow_sequence_waiters", 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follower_refuses_writes_naming_the_leader,
                                        cluster_setup, node_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_status_from_the_cluster_layer,
                                        cluster_setup, node_teardown),
        cmocka_unit_test_setup_teardown(test_membership_reaches_the_cluster_layer,
                                        cluster_setup, node_teardown),
        cmocka_unit_test_setup_teardown(test_single_node_is_not_in_a_cluster, single_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_replies_carry_their_sequence, single_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_min_sequence_waits_for_a_write, single_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_min_sequence_woken_by_the_cluster, cluster_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_min_sequence_wait_runs_out, short_wait_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_min_sequence_header_invalid, single_setup,
                                        node_teardown),
        cmocka_unit_test_setup_teardown(test_min_sequence_client_hangs_up, single_setup,
                                        node_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
