/* Integration tests of fundflowd: a real server on 127.0.0.1:0, driven over raw HTTP in protobuf
 * and JSON, through every RPC, every error path, concurrency, limits and a shutdown under load. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "verify.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

static const char *fundflowd_path;

/* ---- helpers ---- */

static json_t *reply_json(const http_reply *reply) {
    json_error_t error;
    json_t *document = json_loadb((const char *)reply->body, reply->body_bytes, 0, &error);
    if (document == NULL) fail_msg("reply is not JSON: %s: %s", error.text, reply->body);
    return document;
}

static const char *json_text(json_t *document, const char *key) {
    json_t *value = json_object_get(document, key);
    if (!json_is_string(value)) fail_msg("%s is not a string", key);
    return json_string_value(value);
}

/* Asserts a Twirp error reply: status, JSON content type, code, and optionally a meta entry. */
static void assert_twirp_error(const http_reply *reply, int status, const char *code,
                               const char *meta_key, const char *meta_value) {
    if (reply->status != status) fail_msg("status %d, expected %d: %s", reply->status, status,
                                          reply->body);
    assert_string_equal(reply->content_type, "application/json");
    json_t *document = reply_json(reply);
    assert_string_equal(json_text(document, "code"), code);
    assert_true(strlen(json_text(document, "msg")) > 0);
    json_t *meta = json_object_get(document, "meta");
    assert_true(json_is_object(meta));
    /* Every error names itself from the error table, whole-request refusals included. */
    assert_true(strlen(json_text(meta, "error")) > 0);
    if (meta_key) assert_string_equal(json_text(meta, meta_key), meta_value);
    json_decref(document);
}

static void json_submit_expect(uint16_t port, const char *json, int status, const char *code) {
    http_reply reply;
    assert_int_equal(http_twirp_json(port, "SubmitCommands", json, &reply), 0);
    if (status == 200) {
        if (reply.status != 200) fail_msg("status %d: %s", reply.status, reply.body);
    } else {
        assert_twirp_error(&reply, status, code, NULL, NULL);
    }
    http_reply_free(&reply);
}

static Fundflow__V1__SubmitCommandsResponse *protobuf_submit(uint16_t port,
                                                             Fundflow__V1__Command **commands,
                                                             size_t count, bool linked) {
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = count;
    request.linked = linked;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "SubmitCommands", &request.base, &reply), 0);
    if (reply.status != 200) fail_msg("status %d: %s", reply.status, reply.body);
    assert_string_equal(reply.content_type, "application/protobuf");
    Fundflow__V1__SubmitCommandsResponse *response =
        fundflow__v1__submit_commands_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(response);
    http_reply_free(&reply);
    for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
    return response;
}

/* A protobuf RPC that must answer 200; returns the decoded reply. */
static ProtobufCMessage *protobuf_call(uint16_t port, const char *rpc,
                                       const ProtobufCMessage *request,
                                       const ProtobufCMessageDescriptor *reply_type) {
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, rpc, request, &reply), 0);
    if (reply.status != 200) fail_msg("%s: status %d: %s", rpc, reply.status, reply.body);
    ProtobufCMessage *decoded = protobuf_c_message_unpack(reply_type, NULL, reply.body_bytes,
                                                          reply.body);
    assert_non_null(decoded);
    http_reply_free(&reply);
    return decoded;
}

/* A JSON RPC that must answer 200; returns the parsed document. */
static json_t *json_call(uint16_t port, const char *rpc, const char *json) {
    http_reply reply;
    assert_int_equal(http_twirp_json(port, rpc, json, &reply), 0);
    if (reply.status != 200) fail_msg("%s: status %d: %s", rpc, reply.status, reply.body);
    assert_string_equal(reply.content_type, "application/json");
    json_t *document = reply_json(&reply);
    http_reply_free(&reply);
    return document;
}

/* Registers X24, QUE and 06H and sets X24's £10,000.00 core services limit (event 4) through
 * JSON, and allocates £1,000.00 to QUE (event 5) through protobuf. */
static void world_load(uint16_t port) {
    json_submit_expect(
        port,
        "{\"linked\":true,\"commands\":["
        "{\"idempotency_key\":\"w1\",\"effective_date\":20240401,\"event\":{\"org_registered\":"
        "{\"code\":\"X24\",\"name\":\"NHS England\",\"kind\":\"NHSE\"}}},"
        "{\"idempotencyKey\":\"w2\",\"effectiveDate\":20240401,\"event\":{\"orgRegistered\":"
        "{\"code\":\"QUE\",\"name\":\"NHS Cambridgeshire and Peterborough ICB\",\"kind\":3,"
        "\"parentCode\":\"X24\"}}},"
        "{\"idempotency_key\":\"w3\",\"effective_date\":\"20240401\",\"event\":{\"org_registered\":"
        "{\"code\":\"06H\",\"name\":\"Cambridgeshire place\",\"kind\":\"PLACE\","
        "\"parent_code\":\"QUE\"}}},"
        "{\"idempotency_key\":\"w4\",\"effective_date\":20240401,\"event\":"
        "{\"revenue_limit_set\":{\"funder_code\":\"X24\",\"stream\":\"CORE_SERVICES\","
        "\"financial_year\":2024,\"limit_pence\":\"1000000\"}}}]}",
        200, NULL);
    Fundflow__V1__Command *allocation[] = {
        test_allocation("w5", "X24", "QUE", CORE, TEST_YEAR, 100000)};
    Fundflow__V1__SubmitCommandsResponse *response = protobuf_submit(port, allocation, 1, false);
    assert_int_equal(response->n_results, 1);
    assert_string_equal(response->results[0]->code, "ok");
    assert_int_equal(response->results[0]->sequence, 5);
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
}

typedef struct server_fixture {
    test_server server;
} server_fixture;

static int server_fixture_setup(void **state) {
    server_fixture *fixture = calloc(1, sizeof *fixture);
    test_server_start(fundflowd_path, "max_body_bytes = 1048576\n", &fixture->server);
    world_load(fixture->server.port);
    *state = fixture;
    return 0;
}

static int server_fixture_teardown(void **state) {
    server_fixture *fixture = *state;
    assert_int_equal(test_server_stop(&fixture->server), 0);
    test_server_cleanup(&fixture->server);
    free(fixture);
    return 0;
}

/* ---- every RPC, both encodings ---- */

static void test_writes_in_both_encodings(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    /* JSON: QUE passes £300.00 to 06H (event 6). */
    json_t *document = json_call(
        port, "SubmitCommands",
        "{\"commands\":[{\"idempotency_key\":\"j5\",\"effective_date\":20240701,\"event\":"
        "{\"budget_delegated\":{\"from_code\":\"QUE\",\"to_code\":\"06H\",\"stream\":"
        "\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"30000\"}}}]}");
    json_t *result = json_array_get(json_object_get(document, "results"), 0);
    assert_string_equal(json_text(result, "code"), "ok");
    assert_string_equal(json_text(result, "sequence"), "6");
    assert_string_equal(json_text(document, "head_sequence"), "6");
    json_decref(document);
    /* Protobuf: reverse it (event 7), then retry the same key: the original comes back. */
    Fundflow__V1__Command *reversal[] = {test_reversal("p6", 6, "keyed to the wrong place")};
    Fundflow__V1__SubmitCommandsResponse *response = protobuf_submit(port, reversal, 1, false);
    assert_int_equal(response->results[0]->sequence, 7);
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
    Fundflow__V1__Command *retry[] = {test_reversal("p6", 6, "keyed to the wrong place")};
    response = protobuf_submit(port, retry, 1, false);
    assert_int_equal(response->results[0]->sequence, 7);
    assert_true(response->results[0]->idempotent_replay);
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
    assert_int_equal(test_server_head(port), 7);
}

static void test_orgs_in_both_encodings(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    Fundflow__V1__GetOrgRequest get = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
    get.code = (char *)"06H";
    Fundflow__V1__OrgRecord *org = (Fundflow__V1__OrgRecord *)protobuf_call(
        port, "GetOrg", &get.base, &fundflow__v1__org_record__descriptor);
    assert_string_equal(org->parent_code, "QUE");
    assert_int_equal(org->kind, FUNDFLOW__V1__ORG_KIND__PLACE);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    json_t *document = json_call(port, "GetOrg", "{\"code\":\"QUE\"}");
    assert_string_equal(json_text(document, "kind"), "ICB");
    assert_string_equal(json_text(document, "registered_sequence"), "2");
    json_decref(document);
    Fundflow__V1__ListOrgsRequest list = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    list.page_size = 2;
    Fundflow__V1__ListOrgsResponse *page = (Fundflow__V1__ListOrgsResponse *)protobuf_call(
        port, "ListOrgs", &list.base, &fundflow__v1__list_orgs_response__descriptor);
    assert_int_equal(page->n_orgs, 2);
    assert_string_equal(page->next_page_token, "QUE");
    fundflow__v1__list_orgs_response__free_unpacked(page, NULL);
    document = json_call(port, "ListOrgs", "{\"pageToken\":\"QUE\"}");
    json_t *orgs = json_object_get(document, "orgs");
    assert_int_equal(json_array_size(orgs), 1);
    assert_string_equal(json_text(json_array_get(orgs, 0), "code"), "X24");
    json_decref(document);
}

static void test_positions_and_history_in_both_encodings(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)"QUE";
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    Fundflow__V1__Position *position = (Fundflow__V1__Position *)protobuf_call(
        port, "GetPosition", &get.base, &fundflow__v1__position__descriptor);
    assert_int_equal(position->received_pence, 100000);
    assert_int_equal(position->headroom_pence, 100000);
    fundflow__v1__position__free_unpacked(position, NULL);
    json_t *document = json_call(port, "GetPosition",
                                 "{\"orgCode\":\"X24\",\"stream\":\"CORE_SERVICES\","
                                 "\"financialYear\":2024,\"asAtSequence\":\"3\"}");
    assert_string_equal(json_text(document, "funding_drawn_pence"), "0");
    assert_string_equal(json_text(document, "as_at_sequence"), "3");
    json_decref(document);
    Fundflow__V1__GetAccountHistoryRequest history =
        FUNDFLOW__V1__GET_ACCOUNT_HISTORY_REQUEST__INIT;
    history.org_code = (char *)"QUE";
    history.stream = CORE;
    history.financial_year = TEST_YEAR;
    history.purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__RECEIVED;
    Fundflow__V1__GetAccountHistoryResponse *postings =
        (Fundflow__V1__GetAccountHistoryResponse *)protobuf_call(
            port, "GetAccountHistory", &history.base,
            &fundflow__v1__get_account_history_response__descriptor);
    assert_int_equal(postings->n_postings, 1);
    assert_int_equal(postings->postings[0]->credit_pence, 100000);
    fundflow__v1__get_account_history_response__free_unpacked(postings, NULL);
    document = json_call(port, "GetAccountHistory",
                         "{\"org_code\":\"X24\",\"stream\":1,\"financial_year\":2024,"
                         "\"purpose\":\"RECEIVED\"}");
    json_t *first = json_array_get(json_object_get(document, "postings"), 0);
    assert_string_equal(json_text(first, "balance_pence"), "1000000");
    json_decref(document);
}

static void test_events_verify_and_info_in_both_encodings(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    list.page_size = 3;
    Fundflow__V1__ListEventsResponse *events = (Fundflow__V1__ListEventsResponse *)protobuf_call(
        port, "ListEvents", &list.base, &fundflow__v1__list_events_response__descriptor);
    assert_int_equal(events->n_events, 3);
    assert_string_equal(events->events[1]->actor, "local-admin");
    assert_int_equal(events->next_after_sequence, 3);
    fundflow__v1__list_events_response__free_unpacked(events, NULL);
    json_t *document = json_call(port, "ListEvents", "{\"after_sequence\":\"3\"}");
    json_t *event = json_array_get(json_object_get(document, "events"), 0);
    assert_string_equal(json_text(event, "idempotency_key"), "w4");
    assert_int_equal(json_string_length(json_object_get(event, "hash")), 44);
    json_decref(document);
    Fundflow__V1__GetEventRequest get = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    get.sequence = 5;
    Fundflow__V1__EventRecord *record = (Fundflow__V1__EventRecord *)protobuf_call(
        port, "GetEvent", &get.base, &fundflow__v1__event_record__descriptor);
    assert_int_equal(record->event->allocation_issued->amount_pence, 100000);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    document = json_call(port, "GetEvent", "{\"sequence\":1}");
    assert_string_equal(json_text(json_object_get(json_object_get(document, "event"),
                                                  "org_registered"), "kind"), "NHSE");
    json_decref(document);
    Fundflow__V1__VerifyLedgerRequest verify = FUNDFLOW__V1__VERIFY_LEDGER_REQUEST__INIT;
    Fundflow__V1__VerifyLedgerResponse *report = (Fundflow__V1__VerifyLedgerResponse *)
        protobuf_call(port, "VerifyLedger", &verify.base,
                      &fundflow__v1__verify_ledger_response__descriptor);
    assert_true(report->ok);
    assert_int_equal(report->events_checked, 5);
    fundflow__v1__verify_ledger_response__free_unpacked(report, NULL);
    document = json_call(port, "VerifyLedger", "{}");
    assert_true(json_is_true(json_object_get(document, "ok")));
    json_decref(document);
    assert_int_equal(test_server_head(port), 5);
    document = json_call(port, "ServerInfo", "{}");
    assert_string_equal(json_text(document, "event_count"), "5");
    assert_string_equal(json_text(document, "version"), FUNDFLOW_VERSION);
    json_decref(document);
}

static void test_domain_queries_are_routed(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    json_t *document = json_call(port, "GetFundingFlows", "{\"financialYear\":2024}");
    json_t *flow = json_array_get(json_object_get(document, "flows"), 0);
    assert_string_equal(json_text(flow, "from_code"), "X24");
    assert_string_equal(json_text(flow, "to_code"), "QUE");
    assert_string_equal(json_text(flow, "amount_pence"), "100000");
    json_decref(document);
    document = json_call(port, "GetHistory", "{\"name\":\"QUE\"}");
    assert_int_equal(json_array_size(json_object_get(document, "events")), 2);
    json_decref(document);
    http_reply reply;
    assert_int_equal(http_twirp_json(port, "GetContractPosition", "{\"contract_id\":\"NONE\"}",
                                     &reply), 0);
    assert_twirp_error(&reply, 404, "not_found", "error", "contract_unknown");
    http_reply_free(&reply);
}

/* ---- error paths ---- */

typedef struct error_case {
    const char *name;
    const char *method;
    const char *path;
    const char *content_type;
    const char *body;
    int status;
    const char *code;
    const char *meta_key, *meta_value;
} error_case;

#define LEDGER "/twirp/fundflow.v1.Ledger/"
#define ONE_COMMAND(event) "{\"commands\":[{\"idempotency_key\":\"e1\",\"effective_date\":" \
                           "20240401,\"event\":" event "}]}"

static const error_case error_cases[] = {
    {"unknown method", "POST", LEDGER "Nope", "application/json", "{}", 404, "bad_route",
     "path", LEDGER "Nope"},
    {"unknown service", "POST", "/twirp/other.Service/GetOrg", "application/json", "{}", 404,
     "bad_route", NULL, NULL},
    {"GET on a method", "GET", LEDGER "ServerInfo", NULL, "", 404, "bad_route", NULL, NULL},
    {"wrong content type", "POST", LEDGER "ServerInfo", "text/plain", "{}", 404, "bad_route",
     "content_type", "text/plain"},
    {"malformed protobuf", "POST", LEDGER "SubmitCommands", "application/protobuf",
     "\x0a\xff\xff\xff\xff\x0f", 400, "malformed", NULL, NULL},
    {"malformed JSON", "POST", LEDGER "SubmitCommands", "application/json", "{\"commands\":[",
     400, "malformed", NULL, NULL},
    {"JSON of the wrong shape", "POST", LEDGER "SubmitCommands", "application/json",
     "{\"commands\":5}", 400, "malformed", NULL, NULL},
    {"no commands", "POST", LEDGER "SubmitCommands", "application/json", "{\"commands\":[]}",
     400, "invalid_argument", "field", "commands"},
    {"unknown organisation", "POST", LEDGER "SubmitCommands", "application/json",
     ONE_COMMAND("{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":\"QZZ\","
                 "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":1}}"),
     404, "not_found", "field", "recipient_code"},
    {"over-allocation", "POST", LEDGER "SubmitCommands", "application/json",
     ONE_COMMAND("{\"budget_delegated\":{\"from_code\":\"QUE\",\"to_code\":\"06H\",\"stream\":"
                 "\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"100001\"}}"),
     412, "failed_precondition", "headroom_pence", "100000"},
    {"a bad amount caught before the writer", "POST", LEDGER "SubmitCommands",
     "application/json",
     ONE_COMMAND("{\"budget_delegated\":{\"from_code\":\"QUE\",\"to_code\":\"06H\",\"stream\":"
                 "\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"0\"}}"),
     400, "invalid_argument", "field", "amount_pence"},
    {"idempotency conflict", "POST", LEDGER "SubmitCommands", "application/json",
     "{\"commands\":[{\"idempotency_key\":\"w4\",\"effective_date\":20240401,\"event\":"
     "{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\",\"stream\":"
     "\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"99\"}}}]}",
     409, "already_exists", "error", "idempotency_conflict"},
    {"linked batch with a refusal", "POST", LEDGER "SubmitCommands", "application/json",
     "{\"linked\":true,\"commands\":[{\"idempotency_key\":\"l1\",\"effective_date\":20240401,"
     "\"event\":{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\","
     "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"5\"}}},"
     "{\"idempotency_key\":\"l2\",\"effective_date\":20240401,\"event\":{\"reversal\":"
     "{\"reversed_sequence\":\"99\",\"reason\":\"no such event\"}}}]}",
     404, "not_found", "index", "1"},
    {"unknown event", "POST", LEDGER "GetEvent", "application/json", "{\"sequence\":99}", 404,
     "not_found", "field", "sequence"},
    {"unknown organisation read", "POST", LEDGER "GetOrg", "application/protobuf", "\x0a\x03QZZ",
     404, "not_found", "field", "code"},
};

static void test_error_paths_have_exact_twirp_codes(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    uint64_t head = test_server_head(port);
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const error_case *c = &error_cases[i];
        print_message("error path: %s\n", c->name);
        size_t body_bytes = strlen(c->body);
        http_reply reply;
        assert_int_equal(http_request(port, c->method, c->path, c->content_type, c->body,
                                      body_bytes, NULL, &reply), 0);
        assert_twirp_error(&reply, c->status, c->code, c->meta_key, c->meta_value);
        http_reply_free(&reply);
        assert_int_equal(test_server_head(port), head);
    }
}

static void test_independent_batch_reports_each_command(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    Fundflow__V1__Command *commands[] = {
        test_allocation("i1", "X24", "QUE", CORE, TEST_YEAR, 10),
        test_allocation("i2", "X24", "QZZ", CORE, TEST_YEAR, 10),
        test_budget("i3", "QUE", "06H", CORE, TEST_YEAR, 5),
    };
    Fundflow__V1__SubmitCommandsResponse *response = protobuf_submit(port, commands, 3, false);
    assert_int_equal(response->n_results, 3);
    assert_string_equal(response->results[0]->code, "ok");
    assert_string_equal(response->results[1]->code, "org_unknown");
    assert_string_equal(response->results[1]->twirp_code, "not_found");
    assert_string_equal(response->results[1]->field, "recipient_code");
    assert_string_equal(response->results[2]->code, "ok");
    assert_int_equal(response->results[2]->sequence, response->results[0]->sequence + 1);
    assert_int_equal(response->head_sequence, 7);
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
}

/* A dry run over HTTP answers what a real submission would (QUE's £0.10 from X24 would be event
 * 6, QZZ is unknown, QUE's £0.05 on to 06H would be event 7), records nothing, and a linked dry
 * run that fails is refused with the index of the command, as a real one is. */
static void test_dry_run_answers_without_recording(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    uint64_t head = test_server_head(port);
    json_t *reply = json_call(
        port, "SubmitCommands",
        "{\"dry_run\":true,\"commands\":["
        "{\"idempotency_key\":\"d1\",\"effective_date\":20240401,\"event\":{\"allocation_issued\":"
        "{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\",\"stream\":\"CORE_SERVICES\","
        "\"financial_year\":2024,\"amount_pence\":\"10\"}}},"
        "{\"idempotency_key\":\"d2\",\"effective_date\":20240401,\"event\":{\"allocation_issued\":"
        "{\"funder_code\":\"X24\",\"recipient_code\":\"QZZ\",\"stream\":\"CORE_SERVICES\","
        "\"financial_year\":2024,\"amount_pence\":\"10\"}}},"
        "{\"idempotency_key\":\"w5\",\"effective_date\":20240401,\"event\":{\"budget_delegated\":"
        "{\"from_code\":\"QUE\",\"to_code\":\"06H\",\"stream\":\"CORE_SERVICES\","
        "\"financial_year\":2024,\"amount_pence\":\"5\"}}}]}");
    json_t *results = json_object_get(reply, "results");
    assert_int_equal(json_array_size(results), 3);
    assert_string_equal(json_text(json_array_get(results, 0), "code"), "ok");
    assert_string_equal(json_text(json_array_get(results, 0), "sequence"), "6");
    assert_string_equal(json_text(json_array_get(results, 1), "code"), "org_unknown");
    assert_string_equal(json_text(json_array_get(results, 2), "code"), "idempotency_conflict");
    json_decref(reply);
    assert_int_equal(test_server_head(port), head);
    http_reply error;
    assert_int_equal(http_twirp_json(
                         port, "SubmitCommands",
                         "{\"dry_run\":true,\"linked\":true,\"commands\":["
                         "{\"idempotency_key\":\"d3\",\"effective_date\":20240401,\"event\":"
                         "{\"budget_delegated\":{\"from_code\":\"QUE\",\"to_code\":\"06H\","
                         "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
                         "\"amount_pence\":\"5\"}}},"
                         "{\"idempotency_key\":\"d4\",\"effective_date\":20240401,\"event\":"
                         "{\"budget_delegated\":{\"from_code\":\"QUE\",\"to_code\":\"06H\","
                         "\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
                         "\"amount_pence\":\"99996\"}}}]}",
                         &error),
                     0);
    assert_twirp_error(&error, 412, "failed_precondition", "index", "1");
    http_reply_free(&error);
    assert_int_equal(test_server_head(port), head);
}

static void test_limits_on_body_and_batch(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    uint64_t head = test_server_head(port);
    /* 1.5 MiB against a 1 MiB limit. */
    size_t oversized_bytes = 3u << 19;
    char *oversized = malloc(oversized_bytes);
    memset(oversized, ' ', oversized_bytes);
    oversized[0] = '{', oversized[oversized_bytes - 1] = '}';
    http_reply reply;
    assert_int_equal(http_request(port, "POST", LEDGER "SubmitCommands", "application/json",
                                  oversized, oversized_bytes, NULL, &reply), 0);
    assert_twirp_error(&reply, 429, "resource_exhausted", "limit_bytes", "1048576");
    http_reply_free(&reply);
    free(oversized);
    /* One command more than a batch may hold. */
    size_t count = FF_BATCH_COMMANDS_MAX + 1;
    Fundflow__V1__Command **commands = calloc(count, sizeof *commands);
    Fundflow__V1__Command tiny = FUNDFLOW__V1__COMMAND__INIT;
    for (size_t i = 0; i < count; i++) commands[i] = &tiny;
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = count;
    assert_int_equal(http_twirp_protobuf(port, "SubmitCommands", &request.base, &reply), 0);
    assert_twirp_error(&reply, 429, "resource_exhausted", "limit", "8192");
    http_reply_free(&reply);
    free(commands);
    assert_int_equal(test_server_head(port), head);
}

static void test_health_and_metrics(void **state) {
    server_fixture *fixture = *state;
    http_reply reply;
    assert_int_equal(http_request(fixture->server.port, "GET", "/healthz", NULL, "", 0, NULL,
                                  &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_string_equal((char *)reply.body, "ok\n");
    http_reply_free(&reply);
    /* Every RPC is counted under its own name, the newest too (the names come from the
     * service's descriptor, not from a list kept by hand). */
    assert_int_equal(http_twirp_json(fixture->server.port, "GetSignedHead", "{}", &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(http_request(fixture->server.port, "GET", "/metrics", NULL, "", 0, NULL,
                                  &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_non_null(strstr((char *)reply.body,
                           "fundflow_requests_total{method=\"SubmitCommands\",code=\"ok\"} 2"));
    assert_non_null(strstr((char *)reply.body,
                           "fundflow_requests_total{method=\"GetSignedHead\",code=\"ok\"} 1"));
    assert_non_null(strstr((char *)reply.body, "fundflow_events_total 5\n"));
    assert_non_null(strstr((char *)reply.body, "fundflow_commit_batch_commands_count"));
    assert_non_null(strstr((char *)reply.body, "fundflow_database_bytes "));
    assert_non_null(strstr((char *)reply.body, "fundflow_request_duration_seconds_bucket"));
    http_reply_free(&reply);
}

/* ---- authentication ---- */

static void test_bearer_token_is_required_when_configured(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "admin_token = s3cret-token-for-tests\n", &server);
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, "ServerInfo", "{}", &reply), 0);
    assert_twirp_error(&reply, 401, "unauthenticated", NULL, NULL);
    http_reply_free(&reply);
    const char *path = LEDGER "ServerInfo";
    assert_int_equal(http_request(server.port, "POST", path, "application/json", "{}", 2,
                                  "Authorization: Bearer wrong-token\r\n", &reply), 0);
    assert_twirp_error(&reply, 401, "unauthenticated", NULL, NULL);
    http_reply_free(&reply);
    assert_int_equal(http_request(server.port, "POST", path, "application/json", "{}", 2,
                                  "Authorization: Bearer s3cret-token-for-tests\r\n", &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(http_request(server.port, "GET", "/healthz", NULL, "", 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

static int token_status(uint16_t port, const char *token) {
    char header[128];
    snprintf(header, sizeof header, "Authorization: Bearer %s\r\n", token);
    http_reply reply;
    assert_int_equal(http_request(port, "POST", LEDGER "ServerInfo", "application/json", "{}", 2,
                                  header, &reply), 0);
    int status = reply.status;
    http_reply_free(&reply);
    return status;
}

static void test_sighup_rereads_the_admin_token(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "admin_token = first-token\n", &server);
    assert_int_equal(token_status(server.port, "first-token"), 200);
    char path[4200];
    snprintf(path, sizeof path, "%s/config", server.directory);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("admin_token = second-token\n", file);
    fclose(file);
    assert_int_equal(kill(server.pid, SIGHUP), 0);
    int status = 0;
    for (int attempt = 0; attempt < 6000 && status != 200; attempt++) {
        usleep(10000);
        status = token_status(server.port, "second-token");
    }
    assert_int_equal(status, 200);
    assert_int_equal(token_status(server.port, "first-token"), 401);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- plugins ---- */

static size_t plugins_listed_count(uint16_t port) {
    json_t *document = json_call(port, "ListPlugins", "{}");
    size_t count = json_array_size(json_object_get(document, "plugins"));
    json_decref(document);
    return count;
}

static void test_sighup_reloads_plugins_and_vetoes_answer_412(void **state) {
    (void)state;
    char *plugin_dir = test_dir_make();
    char config_text[4200], command[9000];
    snprintf(config_text, sizeof config_text, "plugin_dir = %s\n", plugin_dir);
    test_server server;
    test_server_start(fundflowd_path, config_text, &server);
    world_load(server.port);
    assert_int_equal(plugins_listed_count(server.port), 0);
    snprintf(command, sizeof command, "cp '%s/fixture_veto.so' '%s/'", FF_PLUGIN_FIXTURES_DIR,
             plugin_dir);
    assert_int_equal(system(command), 0);
    assert_int_equal(kill(server.pid, SIGHUP), 0);
    size_t count = 0;
    for (int attempt = 0; attempt < 6000 && count == 0; attempt++) {
        usleep(10000);
        count = plugins_listed_count(server.port);
    }
    assert_int_equal(count, 1);
    /* ServerInfo names the loaded plugins with their versions: every node of a cluster must run
     * the same ones. */
    json_t *info = json_call(server.port, "ServerInfo", "{}");
    json_t *listed = json_array_get(json_object_get(info, "plugins"), 0);
    assert_non_null(listed);
    assert_string_equal(json_string_value(json_object_get(listed, "name")), "fixture_veto");
    assert_true(strlen(json_string_value(json_object_get(listed, "version"))) > 0);
    json_decref(info);
    uint64_t head = test_server_head(server.port);
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, "SubmitCommands",
                                     ONE_COMMAND("{\"allocation_issued\":{\"funder_code\":\"X24\","
                                                 "\"recipient_code\":\"QUE\",\"stream\":"
                                                 "\"CORE_SERVICES\",\"financial_year\":2024,"
                                                 "\"amount_pence\":1313}}"),
                                     &reply), 0);
    assert_twirp_error(&reply, 412, "failed_precondition", "plugin", "fixture_veto");
    http_reply_free(&reply);
    assert_int_equal(test_server_head(server.port), head);
    json_t *report = json_call(server.port, "RunReport",
                               "{\"plugin\":\"fixture_veto\",\"financial_year\":2024}");
    assert_string_equal(json_text(report, "plugin"), "fixture_veto");
    json_decref(report);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
    test_dir_remove(plugin_dir);
}

/* ---- the connection limit ---- */

static int raw_keepalive_request(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    const char *request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    char reply[512] = {0};
    assert_true(recv(fd, reply, sizeof reply - 1, 0) > 0);
    assert_non_null(strstr(reply, "200 OK"));
    return fd;
}

static void test_connection_limit_refuses_the_extra_connection(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "max_connections = 2\n", &server);
    int first = raw_keepalive_request(server.port);
    int second = raw_keepalive_request(server.port);
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, "ServerInfo", "{}", &reply), 0);
    assert_twirp_error(&reply, 429, "resource_exhausted", NULL, NULL);
    http_reply_free(&reply);
    close(first);
    /* Once a connection closes, its slot is free again. */
    int served = 0;
    for (int attempt = 0; attempt < 6000 && !served; attempt++) {
        usleep(10000);
        assert_int_equal(http_twirp_json(server.port, "ServerInfo", "{}", &reply), 0);
        served = reply.status == 200;
        http_reply_free(&reply);
    }
    assert_true(served);
    close(second);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- many clients at once ---- */

enum { LOAD_THREADS = 16, LOAD_REQUESTS_PER_THREAD = 40, LOAD_ACKS_MAX = 100000 };

typedef struct load_client {
    uint16_t port;
    int thread_index;
    int requests_max;           /* 0 means until the server stops answering */
    volatile int *stop;
    uint64_t acknowledged[LOAD_ACKS_MAX / LOAD_THREADS];
    int acknowledged_count;
    int failures;
} load_client;

/* Sends single allocations of 1p with keys "load-T-N" until done; records acknowledged
 * sequences. Runs on its own thread, so it records and never asserts. */
static void *load_client_run(void *argument) {
    load_client *client = argument;
    int limit = client->requests_max ? client->requests_max
                                     : (int)(sizeof client->acknowledged / sizeof(uint64_t));
    for (int n = 0; n < limit && !*client->stop; n++) {
        char key[48];
        snprintf(key, sizeof key, "load-%d-%d", client->thread_index, n);
        Fundflow__V1__Command *command = test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, 1);
        Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
        request.commands = &command;
        request.n_commands = 1;
        http_reply reply;
        int rc = http_twirp_protobuf(client->port, "SubmitCommands", &request.base, &reply);
        test_command_free(command);
        if (rc != 0 || reply.status != 200) {
            client->failures++;
            if (rc == 0) http_reply_free(&reply);
            if (client->requests_max == 0) break;
            continue;
        }
        Fundflow__V1__SubmitCommandsResponse *response =
            fundflow__v1__submit_commands_response__unpack(NULL, reply.body_bytes, reply.body);
        if (response && response->n_results == 1 && strcmp(response->results[0]->code, "ok") == 0) {
            client->acknowledged[client->acknowledged_count++] = response->results[0]->sequence;
        } else {
            client->failures++;
        }
        if (response) fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
        http_reply_free(&reply);
    }
    return NULL;
}

static int sequence_compare(const void *left, const void *right) {
    uint64_t a = *(const uint64_t *)left, b = *(const uint64_t *)right;
    return (a > b) - (a < b);
}

static void load_run(uint16_t port, load_client *clients, int requests_max, volatile int *stop) {
    pthread_t threads[LOAD_THREADS];
    for (int i = 0; i < LOAD_THREADS; i++) {
        clients[i] = (load_client){.port = port, .thread_index = i, .requests_max = requests_max,
                                   .stop = stop};
        assert_int_equal(pthread_create(&threads[i], NULL, load_client_run, &clients[i]), 0);
    }
    if (requests_max == 0) {
        usleep(400000);
        *stop = 1;
    }
    for (int i = 0; i < LOAD_THREADS; i++) pthread_join(threads[i], NULL);
}

/* Reads a Prometheus sample such as fundflow_commit_batch_commands_bucket{le="1"}. */
static uint64_t metrics_sample(const char *text, const char *name) {
    const char *found = strstr(text, name);
    if (found == NULL) fail_msg("metric %s missing", name);
    return strtoull(found + strlen(name) + 1, NULL, 10);
}

static void test_concurrent_clients_get_gapless_sequences_and_group_commit(void **state) {
    server_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    uint64_t head_before = test_server_head(port);
    static load_client clients[LOAD_THREADS];
    volatile int stop = 0;
    load_run(port, clients, LOAD_REQUESTS_PER_THREAD, &stop);
    size_t total = 0;
    uint64_t *sequences = calloc(LOAD_THREADS * LOAD_REQUESTS_PER_THREAD, sizeof *sequences);
    for (int i = 0; i < LOAD_THREADS; i++) {
        assert_int_equal(clients[i].failures, 0);
        for (int n = 0; n < clients[i].acknowledged_count; n++) {
            sequences[total++] = clients[i].acknowledged[n];
        }
    }
    assert_int_equal(total, LOAD_THREADS * LOAD_REQUESTS_PER_THREAD);
    qsort(sequences, total, sizeof *sequences, sequence_compare);
    for (size_t i = 0; i < total; i++) assert_int_equal(sequences[i], head_before + 1 + i);
    assert_int_equal(test_server_head(port), head_before + total);
    free(sequences);
    http_reply reply;
    assert_int_equal(http_request(port, "GET", "/metrics", NULL, "", 0, NULL, &reply), 0);
    uint64_t single = metrics_sample((char *)reply.body,
                                     "fundflow_commit_batch_commands_bucket{le=\"1\"}");
    uint64_t commits = metrics_sample((char *)reply.body, "fundflow_commit_batch_commands_count");
    print_message("%llu commits, %llu of them of a single command\n",
                  (unsigned long long)commits, (unsigned long long)single);
    assert_true(commits > single);
    http_reply_free(&reply);
}

/* ---- reloading a projecting plugin under load ---- */

typedef struct load_job {
    uint16_t port;
    load_client *clients;
    volatile int *stop;
} load_job;

static void *load_job_run(void *argument) {
    load_job *job = argument;
    load_run(job->port, job->clients, LOAD_REQUESTS_PER_THREAD, job->stop);
    return NULL;
}

/* A reload catches a projecting plugin up in a write transaction of its own while the writer
 * keeps committing: neither may wait on the other, and no event may be missed or projected
 * twice. */
static void test_reloads_under_load_keep_a_projection_whole(void **state) {
    (void)state;
    char *plugin_dir = test_dir_make();
    char config_text[4200], command[9000];
    snprintf(config_text, sizeof config_text, "plugin_dir = %s\n", plugin_dir);
    snprintf(command, sizeof command, "cp '%s/fixture_project.so' '%s/'", FF_PLUGIN_FIXTURES_DIR,
             plugin_dir);
    assert_int_equal(system(command), 0);
    test_server server;
    test_server_start(fundflowd_path, config_text, &server);
    world_load(server.port);
    static load_client clients[LOAD_THREADS];
    volatile int stop = 0;
    load_job job = {server.port, clients, &stop};
    pthread_t loader;
    assert_int_equal(pthread_create(&loader, NULL, load_job_run, &job), 0);
    for (int i = 0; i < 12; i++) {
        if (i % 3 == 2) {
            assert_int_equal(kill(server.pid, SIGHUP), 0);
        } else {
            json_decref(json_call(server.port, "ReloadPlugins", "{}"));
        }
        usleep(20000);
    }
    pthread_join(loader, NULL);
    for (int i = 0; i < LOAD_THREADS; i++) assert_int_equal(clients[i].failures, 0);
    uint64_t head = test_server_head(server.port);
    char expected[32];
    snprintf(expected, sizeof expected, "%llu", (unsigned long long)head);
    json_t *list = json_call(server.port, "ListPlugins", "{}");
    json_t *plugin = json_array_get(json_object_get(list, "plugins"), 0);
    assert_string_equal(json_text(plugin, "projected_through_sequence"), expected);
    json_decref(list);
    /* The fixture counted every event exactly once. */
    json_t *report = json_call(server.port, "RunReport",
                               "{\"plugin\":\"fixture_project\",\"financial_year\":2024}");
    json_t *row = json_array_get(
        json_object_get(json_array_get(json_object_get(report, "tables"), 0), "rows"), 0);
    json_t *counted = json_array_get(json_object_get(row, "cells"), 0);
    assert_string_equal(json_text(counted, "number"), expected);
    json_decref(report);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
    test_dir_remove(plugin_dir);
}

/* ---- shutdown under load ---- */

static void acknowledged_check(const char *data_dir, const load_client *clients) {
    ff_ledger *ledger = test_ledger_open(data_dir, 0);
    store_txn *txn = NULL;
    ff_store *store = ledger_store(ledger);
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
    size_t checked = 0;
    for (int i = 0; i < LOAD_THREADS; i++) {
        for (int n = 0; n < clients[i].acknowledged_count; n++) {
            Fundflow__V1__EventRecord *record = NULL;
            assert_int_equal(log_read(txn, store, clients[i].acknowledged[n], &record), FF_OK);
            char key[48];
            snprintf(key, sizeof key, "load-%d-%d", i, n);
            assert_string_equal(record->idempotency_key, key);
            fundflow__v1__event_record__free_unpacked(record, NULL);
            checked++;
        }
    }
    store_txn_abort(txn);
    print_message("%zu acknowledged commands all present after shutdown\n", checked);
    assert_true(checked > 0);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    ledger_close(ledger);
}

static void *shutdown_after_delay(void *argument) {
    test_server *server = argument;
    usleep(200000);
    kill(server->pid, SIGTERM);
    return NULL;
}

static void test_graceful_shutdown_under_load_loses_nothing_acknowledged(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, NULL, &server);
    world_load(server.port);
    static load_client clients[LOAD_THREADS];
    volatile int stop = 0;
    pthread_t stopper;
    assert_int_equal(pthread_create(&stopper, NULL, shutdown_after_delay, &server), 0);
    load_run(server.port, clients, 0, &stop);
    pthread_join(stopper, NULL);
    assert_int_equal(test_server_wait(&server), 0);
    acknowledged_check(server.data_dir, clients);
    test_server_cleanup(&server);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_TO_FUNDFLOWD\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    const struct CMUnitTest tests[] = {
#define SERVER_TEST(name) \
    cmocka_unit_test_setup_teardown(name, server_fixture_setup, server_fixture_teardown)
        SERVER_TEST(test_writes_in_both_encodings),
        SERVER_TEST(test_orgs_in_both_encodings),
        SERVER_TEST(test_positions_and_history_in_both_encodings),
        SERVER_TEST(test_events_verify_and_info_in_both_encodings),
        SERVER_TEST(test_domain_queries_are_routed),
        SERVER_TEST(test_error_paths_have_exact_twirp_codes),
        SERVER_TEST(test_independent_batch_reports_each_command),
        SERVER_TEST(test_dry_run_answers_without_recording),
        SERVER_TEST(test_limits_on_body_and_batch),
        SERVER_TEST(test_health_and_metrics),
        SERVER_TEST(test_concurrent_clients_get_gapless_sequences_and_group_commit),
        cmocka_unit_test(test_reloads_under_load_keep_a_projection_whole),
#undef SERVER_TEST
        cmocka_unit_test(test_bearer_token_is_required_when_configured),
        cmocka_unit_test(test_sighup_rereads_the_admin_token),
        cmocka_unit_test(test_sighup_reloads_plugins_and_vetoes_answer_412),
        cmocka_unit_test(test_connection_limit_refuses_the_extra_connection),
        cmocka_unit_test(test_graceful_shutdown_under_load_loses_nothing_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
