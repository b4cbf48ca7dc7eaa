/* The authorization matrix of a real fundflowd: every RPC of the Ledger service, called as an
 * admin, a writer and a reader scoped to one ICB, a national auditor, without a token and with a
 * revoked token, once about that ICB (in scope) and once about another (out of scope), answers
 * exactly the Twirp code the table below gives. The table is checked against the service
 * descriptor, so a new RPC without a row fails the test until someone decides who may call it.
 * Also: the bootstrap (a loopback client is local-admin only until the first principal exists),
 * that a 401 or 403 closes the connection, and that every event's actor is its principal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The callers, in the order of each row's expectations. */
enum { AS_ADMIN, AS_WRITER, AS_READER, AS_AUDITOR, AS_NOBODY, AS_REVOKED, AS_COUNT };
static const char *const matrix_caller_names[AS_COUNT] = {"admin",   "writer",  "reader",
                                                          "auditor", "no token", "revoked"};

/* Expectations are written one letter per caller: O ok, D permission_denied, U unauthenticated,
 * P failed_precondition (let through to a method that cannot run here: the cluster RPCs on a
 * server without a cluster). */
#define EVERYONE "OOOOUU"
#define WRITERS "OODDUU"
#define AUDITORS "ODDOUU"
#define ADMINS "ODDDUU"
#define CLUSTER_AUDITORS "PDDPUU"
#define CLUSTER_ADMINS "PDDDUU"
/* A read about another ICB: the scoped writer and reader are refused. */
#define NATIONAL_READERS "ODDOUU"
/* "{N}" in a body becomes a number never used before, for keys and names that must be new. */
#define UNIQUE "{N}"

typedef struct matrix_row {
    const char *method;
    const char *in_scope_body;     /* about QUE, the scoped principals' ICB */
    const char *out_of_scope_body; /* about QF7, another ICB */
    const char *in_scope;          /* one letter per caller */
    const char *out_of_scope;
} matrix_row;

#define BUDGET(key, from, to)                                                                   \
    "{\"commands\":[{\"idempotency_key\":\"" key "-" UNIQUE "\",\"effective_date\":20240701,"   \
    "\"event\":{\"budget_delegated\":{\"from_code\":\"" from "\",\"to_code\":\"" to "\","        \
    "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"100\"}}}]}"
#define POSITION(org) "{\"org_code\":\"" org "\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024}"
#define ACCOUNT(org)                                                                            \
    "{\"org_code\":\"" org "\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"           \
    "\"purpose\":\"BUDGET\"}"
#define OUTTURN(org)                                                                            \
    "{\"org_code\":\"" org "\",\"financial_year\":2024,\"to_month\":6,\"rollup\":true}"
/* A row naming an organisation out of scope is refused, not left out of the comparison. */
#define RECONCILE(org)                                                                          \
    "{\"kind\":\"RECONCILE_ALLOCATIONS\",\"financial_year\":2024,\"rows\":[{\"line\":2,"       \
    "\"org_code\":\"" org "\",\"stream\":\"CORE_SERVICES\",\"amount_pence\":\"100\"}]}"
#define DELEGATIONS(icb)                                                                        \
    "{\"service_line_code\":\"NCBPS\",\"icb_code\":\"" icb "\",\"date\":20240701}"
#define GRANT(scope)                                                                            \
    "{\"name\":\"granted-" UNIQUE "\",\"role\":\"READER\",\"scope_org_code\":\"" scope "\"}"

/* Sequences of the world's events (world_load): 9 sets NHS England's limit, 10 allocates to QUE,
 * 11 to QF7. */
static const matrix_row matrix_rows[] = {
    {"GetOrg", "{\"code\":\"QUE\"}", "{\"code\":\"QF7\"}", EVERYONE, EVERYONE},
    {"ListOrgs", "{}", "{\"parent_code\":\"QF7\"}", EVERYONE, EVERYONE},
    {"GetDelegations", DELEGATIONS("QUE"), DELEGATIONS("QF7"), EVERYONE, EVERYONE},
    {"ServerInfo", "{}", "{}", EVERYONE, EVERYONE},
    {"ListPlugins", "{}", "{}", EVERYONE, EVERYONE},
    {"GetPosition", POSITION("QUE"), POSITION("QF7"), EVERYONE, NATIONAL_READERS},
    {"GetAccountHistory", ACCOUNT("QUE"), ACCOUNT("QF7"), EVERYONE, NATIONAL_READERS},
    {"ListEvents", "{}", "{\"after_sequence\":10}", EVERYONE, EVERYONE},
    {"GetEvent", "{\"sequence\":10}", "{\"sequence\":11}", EVERYONE, NATIONAL_READERS},
    {"GetContractPosition", "{\"contract_id\":\"QUE-C1\"}", "{\"contract_id\":\"QF7-C1\"}",
     EVERYONE, NATIONAL_READERS},
    /* A filter naming an organisation out of scope is refused, not answered empty. */
    {"ListContracts", "{\"commissioner_code\":\"QUE\"}", "{\"commissioner_code\":\"QF7\"}",
     EVERYONE, NATIONAL_READERS},
    {"GetFundingFlows", "{\"financial_year\":2024,\"root_code\":\"QUE\"}",
     "{\"financial_year\":2024,\"root_code\":\"QF7\"}", EVERYONE, NATIONAL_READERS},
    {"GetHistory", "{\"name\":\"QUE\"}", "{\"name\":\"QF7\"}", EVERYONE, NATIONAL_READERS},
    {"RunReport", "{\"plugin\":\"aob\",\"financial_year\":2024,\"org_code\":\"QUE\"}",
     "{\"plugin\":\"aob\",\"financial_year\":2024,\"org_code\":\"QF7\"}", EVERYONE,
     NATIONAL_READERS},
    /* RunReport's rules exactly, since it is RunReport's report as a file. */
    {"ExportReport",
     "{\"report\":{\"plugin\":\"aob\",\"financial_year\":2024,\"org_code\":\"QUE\"},"
     "\"format\":\"EXPORT_FORMAT_CSV\"}",
     "{\"report\":{\"plugin\":\"aob\",\"financial_year\":2024,\"org_code\":\"QF7\"},"
     "\"format\":\"EXPORT_FORMAT_CSV\"}",
     EVERYONE, NATIONAL_READERS},
    {"SubmitCommands", BUDGET("in", "QUE", "06H"), BUDGET("out", "QF7", "02P"), WRITERS, ADMINS},
    {"VerifyLedger", "{}", "{}", AUDITORS, AUDITORS},
    {"ListPrincipals", "{}", "{}", AUDITORS, AUDITORS},
    {"ReloadPlugins", "{}", "{}", ADMINS, ADMINS},
    {"GetOutturn", OUTTURN("QUE"), OUTTURN("QF7"), EVERYONE, NATIONAL_READERS},
    {"Reconcile", RECONCILE("QUE"), RECONCILE("QF7"), EVERYONE, NATIONAL_READERS},
    /* Tree heads and consistency proofs are hashes only; an inclusion proof carries the event,
     * so it is GetEvent's scope. */
    {"GetSignedHead", "{}", "{}", EVERYONE, EVERYONE},
    {"GetInclusionProof", "{\"sequence\":10}", "{\"sequence\":11}", EVERYONE,
     NATIONAL_READERS},
    {"GetConsistencyProof", "{\"first\":5}", "{\"first\":9}", EVERYONE, EVERYONE},
    {"GrantPrincipal", GRANT("QUE"), GRANT("QF7"), ADMINS, ADMINS},
    {"RevokePrincipal", "{\"name\":\"victim-que\"}", "{\"name\":\"victim-qf7\"}", ADMINS, ADMINS},
    /* As ListEvents: only covered events are listed; wait_ms 0 answers at once. */
    {"WatchEvents", "{}", "{\"after_sequence\":10}", EVERYONE, EVERYONE},
    {"BackupLedger", "{}", "{}", ADMINS, ADMINS},
    /* This server has no cluster: whoever may call them learns that (not_in_cluster). */
    {"GetClusterStatus", "{}", "{}", CLUSTER_AUDITORS, CLUSTER_AUDITORS},
    {"AddClusterNode", "{\"id\":4,\"raft_address\":\"127.0.0.1:1\",\"url\":\"http://127.0.0.1:1\"}",
     "{\"id\":4}", CLUSTER_ADMINS, CLUSTER_ADMINS},
    {"RemoveClusterNode", "{\"id\":2}", "{\"id\":3}", CLUSTER_ADMINS, CLUSTER_ADMINS},
    {"TransferLeadership", "{}", "{\"id\":2}", CLUSTER_ADMINS, CLUSTER_ADMINS},
};

static const char *fundflowd_path;
static const char *plugin_dir;

typedef struct matrix_fixture {
    test_server server;
    char *backup_dir; /* the server's backup_dir, for BackupLedger */
    char tokens[AS_COUNT][128]; /* empty for AS_NOBODY */
    unsigned unique;
} matrix_fixture;

/* ---- calls ---- */

/* The Twirp code of a reply: "ok" for a 200, else the error's code. */
static void reply_code(const http_reply *reply, char *code, size_t code_bytes) {
    if (reply->status == 200) {
        snprintf(code, code_bytes, "ok");
        return;
    }
    json_error_t error;
    json_t *document = json_loadb((const char *)reply->body, reply->body_bytes, 0, &error);
    const char *text = document ? json_string_value(json_object_get(document, "code")) : NULL;
    snprintf(code, code_bytes, "%s", text ? text : "(not a Twirp error)");
    json_decref(document);
}

/* Calls rpc as token (NULL: none) and returns the parsed 200 reply, failing otherwise. */
static json_t *call_ok(uint16_t port, const char *rpc, const char *json, const char *token) {
    http_reply reply;
    assert_int_equal(http_twirp_json_token(port, rpc, json, token, &reply), 0);
    if (reply.status != 200) fail_msg("%s: status %d: %s", rpc, reply.status, reply.body);
    json_error_t error;
    json_t *document = json_loadb((const char *)reply.body, reply.body_bytes, 0, &error);
    if (document == NULL) fail_msg("%s: not JSON: %s", rpc, reply.body);
    http_reply_free(&reply);
    return document;
}

/* Grants a principal as token (NULL: the loopback bootstrap) and keeps its token. */
static void principal_grant(uint16_t port, const char *token, const char *name, const char *role,
                            const char *scope, char *token_out, size_t token_bytes) {
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"%s\",\"scope_org_code\":\"%s\"}",
             name, role, scope);
    json_t *document = call_ok(port, "GrantPrincipal", body, token);
    json_t *principal = json_object_get(document, "principal");
    assert_string_equal(json_string_value(json_object_get(principal, "name")), name);
    /* The record goes back without its token's hash. */
    json_t *hash = json_object_get(principal, "token_sha256");
    assert_true(hash == NULL || strcmp(json_string_value(hash), "") == 0);
    const char *granted = json_string_value(json_object_get(document, "token"));
    assert_non_null(granted);
    assert_true(strncmp(granted, "ff_", 3) == 0);
    if (token_out) snprintf(token_out, token_bytes, "%s", granted);
    json_decref(document);
}

/* The body with each "{N}" replaced by a number never used before. */
static void body_make(matrix_fixture *fixture, const char *pattern, char *body, size_t bytes) {
    size_t used = 0;
    for (const char *cursor = pattern; *cursor && used + 1 < bytes;) {
        if (strncmp(cursor, UNIQUE, strlen(UNIQUE)) == 0) {
            int written = snprintf(body + used, bytes - used, "%u", ++fixture->unique);
            assert_true(written > 0 && (size_t)written < bytes - used);
            used += (size_t)written;
            cursor += strlen(UNIQUE);
        } else {
            body[used++] = *cursor++;
        }
    }
    body[used] = '\0';
}

static const char *expected_code(char letter) {
    switch (letter) {
    case 'O': return "ok";
    case 'D': return "permission_denied";
    case 'U': return "unauthenticated";
    case 'P': return "failed_precondition";
    default: fail_msg("unknown expectation '%c'", letter);
    }
    return NULL;
}

/* ---- the world ---- */

/* Two ICBs under NHS England, each with a place, a trust, an allocation and a contract. */
static void world_load(uint16_t port) {
    static const char *const orgs[] = {
        "{\"code\":\"X24\",\"name\":\"NHS England\",\"kind\":\"NHSE\"}",
        "{\"code\":\"QUE\",\"name\":\"Cambridgeshire ICB\",\"kind\":\"ICB\",\"parent_code\":\"X24\"}",
        "{\"code\":\"06H\",\"name\":\"Cambridgeshire place\",\"kind\":\"PLACE\",\"parent_code\":\"QUE\"}",
        "{\"code\":\"QF7\",\"name\":\"South Yorkshire ICB\",\"kind\":\"ICB\",\"parent_code\":\"X24\"}",
        "{\"code\":\"02P\",\"name\":\"Barnsley place\",\"kind\":\"PLACE\",\"parent_code\":\"QF7\"}",
        "{\"code\":\"RGT\",\"name\":\"Cambridge University Hospitals\",\"kind\":\"TRUST\"}",
        "{\"code\":\"RHQ\",\"name\":\"Sheffield Teaching Hospitals\",\"kind\":\"TRUST\"}",
    };
    json_decref(call_ok(port, "SubmitCommands",
                        "{\"commands\":[{\"idempotency_key\":\"line\",\"effective_date\":"
                        "20240401,\"event\":{\"service_line_registered\":{\"code\":\"NCBPS\","
                        "\"name\":\"Specialised services\",\"category\":\"RENAL\"}}}]}",
                        NULL));
    char body[1024];
    for (size_t i = 0; i < sizeof orgs / sizeof orgs[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"commands\":[{\"idempotency_key\":\"org-%zu\",\"effective_date\":20240401,"
                 "\"event\":{\"org_registered\":%s}}]}", i, orgs[i]);
        json_decref(call_ok(port, "SubmitCommands", body, NULL));
    }
    /* Event 9: NHS England's £2,000,000.00 core services limit, which the two allocations use. */
    json_decref(call_ok(port, "SubmitCommands",
                        "{\"commands\":[{\"idempotency_key\":\"limit\",\"effective_date\":"
                        "20240401,\"event\":{\"revenue_limit_set\":{\"funder_code\":\"X24\","
                        "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
                        "\"limit_pence\":\"200000000\"}}}]}",
                        NULL));
    static const char *const icbs[] = {"QUE", "QF7"};
    static const char *const trusts[] = {"RGT", "RHQ"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"commands\":[{\"idempotency_key\":\"alloc-%s\",\"effective_date\":20240401,"
                 "\"event\":{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":"
                 "\"%s\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
                 "\"amount_pence\":\"100000000\",\"recurrent\":true}}}]}", icbs[i], icbs[i]);
        json_decref(call_ok(port, "SubmitCommands", body, NULL));
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"commands\":[{\"idempotency_key\":\"contract-%s\",\"effective_date\":"
                 "20240401,\"event\":{\"contract_agreed\":{\"contract_id\":\"%s-C1\","
                 "\"commissioner_code\":\"%s\",\"provider_code\":\"%s\",\"type\":\"BLOCK\","
                 "\"financial_year\":2024,\"stream\":\"CORE_SERVICES\","
                 "\"annual_value_pence\":\"1000000\"}}}]}",
                 icbs[i], icbs[i], icbs[i], trusts[i]);
        json_decref(call_ok(port, "SubmitCommands", body, NULL));
    }
    assert_int_equal(test_server_head(port), 13);
}

/* Loads the world as the loopback bootstrap, then makes the principals: after the first, the
 * bootstrap is over and the admin's token makes the rest. */
static int matrix_setup(void **state) {
    matrix_fixture *fixture = calloc(1, sizeof *fixture);
    char config[2 * 4096 + 64];
    fixture->backup_dir = test_dir_make();
    snprintf(config, sizeof config, "plugin_dir = %s\nbackup_dir = %s\n", plugin_dir,
             fixture->backup_dir);
    test_server_start(fundflowd_path, config, &fixture->server);
    uint16_t port = fixture->server.port;
    world_load(port);
    char (*tokens)[128] = fixture->tokens;
    principal_grant(port, NULL, "boss", "ADMIN", "", tokens[AS_ADMIN], sizeof tokens[AS_ADMIN]);
    const char *admin = tokens[AS_ADMIN];
    principal_grant(port, admin, "que-writer", "WRITER", "QUE", tokens[AS_WRITER], 128);
    principal_grant(port, admin, "que-reader", "READER", "QUE", tokens[AS_READER], 128);
    principal_grant(port, admin, "auditor", "AUDITOR", "", tokens[AS_AUDITOR], 128);
    principal_grant(port, admin, "gone", "READER", "QUE", tokens[AS_REVOKED], 128);
    principal_grant(port, admin, "victim-que", "READER", "QUE", NULL, 0);
    principal_grant(port, admin, "victim-qf7", "READER", "QF7", NULL, 0);
    json_decref(call_ok(port, "RevokePrincipal", "{\"name\":\"gone\",\"reason\":\"left\"}",
                        admin));
    *state = fixture;
    return 0;
}

static int matrix_teardown(void **state) {
    matrix_fixture *fixture = *state;
    if (fixture == NULL) return 0; /* the setup failed and said why */
    assert_int_equal(test_server_stop(&fixture->server), 0);
    test_server_cleanup(&fixture->server);
    test_dir_remove(fixture->backup_dir);
    free(fixture);
    return 0;
}

/* ---- the tests ---- */

static const matrix_row *matrix_row_find(const char *method) {
    for (size_t i = 0; i < sizeof matrix_rows / sizeof matrix_rows[0]; i++) {
        if (strcmp(matrix_rows[i].method, method) == 0) return &matrix_rows[i];
    }
    return NULL;
}

/* Every row names an RPC of the service, and every RPC has a row. */
static void test_table_covers_the_service(void **state) {
    (void)state;
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    for (unsigned i = 0; i < service->n_methods; i++) {
        if (matrix_row_find(service->methods[i].name) == NULL) {
            fail_msg("RPC %s has no row in the authorization matrix: decide who may call it",
                     service->methods[i].name);
        }
    }
    for (size_t i = 0; i < sizeof matrix_rows / sizeof matrix_rows[0]; i++) {
        bool found = false;
        for (unsigned j = 0; j < service->n_methods; j++) {
            if (strcmp(service->methods[j].name, matrix_rows[i].method) == 0) found = true;
        }
        if (!found) fail_msg("row %s names no RPC of the service", matrix_rows[i].method);
        assert_int_equal(strlen(matrix_rows[i].in_scope), AS_COUNT);
        assert_int_equal(strlen(matrix_rows[i].out_of_scope), AS_COUNT);
    }
}

static void matrix_cell_check(matrix_fixture *fixture, const matrix_row *row, bool in_scope,
                              int caller, size_t *failures) {
    char body[2048], code[64];
    body_make(fixture, in_scope ? row->in_scope_body : row->out_of_scope_body, body,
              sizeof body);
    const char *token = caller == AS_NOBODY ? NULL : fixture->tokens[caller];
    http_reply reply;
    assert_int_equal(http_twirp_json_token(fixture->server.port, row->method, body, token,
                                           &reply), 0);
    reply_code(&reply, code, sizeof code);
    const char *expected = expected_code((in_scope ? row->in_scope : row->out_of_scope)[caller]);
    if (strcmp(code, expected) != 0) {
        fprintf(stderr, "MISMATCH %s as %s %s: %s, expected %s: %s\n", row->method,
                matrix_caller_names[caller], in_scope ? "in scope" : "out of scope", code,
                expected, reply.status == 200 ? "" : (char *)reply.body);
        (*failures)++;
    }
    http_reply_free(&reply);
}

/* Every RPC of the descriptor × every caller × in and out of scope. Mismatches are all listed
 * before the test fails, so one run shows the whole difference. */
static void test_every_rpc_as_every_caller(void **state) {
    matrix_fixture *fixture = *state;
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    size_t failures = 0, cells = 0;
    for (unsigned i = 0; i < service->n_methods; i++) {
        const matrix_row *row = matrix_row_find(service->methods[i].name);
        if (row == NULL) fail_msg("RPC %s has no row", service->methods[i].name);
        for (int scope = 0; scope < 2; scope++) {
            for (int caller = 0; caller < AS_COUNT; caller++, cells++) {
                matrix_cell_check(fixture, row, scope == 0, caller, &failures);
            }
        }
    }
    if (failures != 0) fail_msg("%zu of %zu cells differ from the matrix", failures, cells);
}

/* Once a principal exists, a loopback client without a token is refused, and the connection of
 * a refused client is closed. */
static void test_loopback_fails_closed(void **state) {
    matrix_fixture *fixture = *state;
    int fd = http_raw_connect(fixture->server.port, NULL);
    assert_true(fd >= 0);
    assert_int_equal(http_raw_send(fd, "POST /twirp/fundflow.v1.Ledger/ServerInfo HTTP/1.1\r\n"
                                       "Host: x\r\nContent-Type: application/json\r\n"
                                       "Content-Length: 2\r\n\r\n{}"), 0);
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    assert_int_equal(reply.status, 401);
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(fd, 30000), 0);
    close(fd);
}

/* A principal refused a method (403) loses its connection too, as for a 401. */
static void test_denied_connection_closed(void **state) {
    matrix_fixture *fixture = *state;
    int fd = http_raw_connect(fixture->server.port, NULL);
    assert_true(fd >= 0);
    char request[512];
    snprintf(request, sizeof request,
             "POST /twirp/fundflow.v1.Ledger/VerifyLedger HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
             "Content-Length: 2\r\n\r\n{}",
             fixture->tokens[AS_READER]);
    assert_int_equal(http_raw_send(fd, request), 0);
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    assert_int_equal(reply.status, 403);
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(fd, 30000), 0);
    close(fd);
}

/* The actor of every event is the principal's name; history by actor lists exactly its own. */
static void test_actor_is_the_principal(void **state) {
    matrix_fixture *fixture = *state;
    json_t *document = call_ok(fixture->server.port, "GetHistory", "{\"actor\":\"boss\"}",
                               fixture->tokens[AS_AUDITOR]);
    json_t *events = json_object_get(document, "events");
    assert_true(json_array_size(events) >= 6); /* five grants and a revocation at least */
    size_t index;
    json_t *event;
    json_array_foreach(events, index, event) {
        assert_string_equal(json_string_value(json_object_get(event, "actor")), "boss");
    }
    json_decref(document);
    /* The first principal was granted by the loopback bootstrap. */
    document = call_ok(fixture->server.port, "GetHistory", "{\"actor\":\"local-admin\"}",
                       fixture->tokens[AS_ADMIN]);
    assert_int_equal(json_array_size(json_object_get(document, "events")), 14);
    json_decref(document);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PATH_TO_FUNDFLOWD PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    plugin_dir = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_the_service),
        cmocka_unit_test(test_every_rpc_as_every_caller),
        cmocka_unit_test(test_loopback_fails_closed),
        cmocka_unit_test(test_denied_connection_closed),
        cmocka_unit_test(test_actor_is_the_principal),
    };
    return cmocka_run_group_tests(tests, matrix_setup, matrix_teardown);
}
