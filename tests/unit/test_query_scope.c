/* Tests of scope in the read RPCs: what principals scoped to a provider, another provider and an
 * ICB may read, against a national admin and an auditor, on one small ledger; history by actor;
 * ListPrincipals without token hashes; and a failed read at every step of scoped reads. Each
 * assertion about a scoped principal would fail if its filter or refusal were taken away. */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "query.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define ADMIN FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN
#define WRITER FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER
#define READER FUNDFLOW__V1__PRINCIPAL_ROLE__READER
#define AUDITOR FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR
#define TODAY 20250101u

/* The world (1 to TEST_WORLD_EVENTS: 7 organisations and 9 revenue limits), then
 * the events below. Every event is recorded by "test" except the two payments by "alice". */
enum {
    SEQ_RGT = TEST_WORLD_EVENTS + 1, /* trust RGT under QUE: provider A */
    SEQ_RWH = TEST_WORLD_EVENTS + 2, /* trust RWH under QJG: provider B */
    SEQ_MHPC = TEST_WORLD_EVENTS + 3, /* collaborative MHPC of RGT and RWH, led by RWH */
    SEQ_JC1 = TEST_WORLD_EVENTS + 4, /* joint committee JC1 of QUE and QJG, under Y61 */
    SEQ_TO_QUE = TEST_WORLD_EVENTS + 5, /* X24 allocates to QUE */
    SEQ_TO_QJG = TEST_WORLD_EVENTS + 6, /* X24 allocates to QJG */
    SEQ_TO_06H = TEST_WORLD_EVENTS + 7, /* QUE passes a budget to 06H */
    SEQ_TO_JC1 = TEST_WORLD_EVENTS + 8, /* QUE passes a budget to JC1 */
    SEQ_C1 = TEST_WORLD_EVENTS + 9, /* contract C1: QUE with RGT */
    SEQ_C2 = TEST_WORLD_EVENTS + 10, /* contract C2: QJG with RWH */
    SEQ_C3 = TEST_WORLD_EVENTS + 11, /* contract C3: QUE with MHPC */
    SEQ_C4 = TEST_WORLD_EVENTS + 12, /* contract C4: JC1 with RWH */
    SEQ_PAY_C1 = TEST_WORLD_EVENTS + 13, /* by alice */
    SEQ_PAY_C2 = TEST_WORLD_EVENTS + 14, /* by alice */
    SEQ_PAY_C4 = TEST_WORLD_EVENTS + 15,
    SEQ_GRANT_ALICE = TEST_WORLD_EVENTS + 16,
    SEQ_GRANT_AUDREY = TEST_WORLD_EVENTS + 17,
    SEQ_LAST = SEQ_GRANT_AUDREY,
};

/* ---- the ledger ---- */

static void submit_as(ff_ledger *ledger, const char *actor, Fundflow__V1__Command *command,
                      uint64_t sequence) {
    ledger_batch batch = {.commands = &command, .command_count = 1, .actor = actor,
                          .recorded_at_us = TEST_RECORDED_AT_US};
    ledger_result result;
    assert_int_equal(ledger_batch_apply(ledger, &batch, &result), FF_OK);
    test_command_free(command);
    if (result.failure.code != FF_OK) {
        fail_msg("event %llu: %s", (unsigned long long)sequence, result.failure.detail);
    }
    assert_int_equal(result.sequence, sequence);
}

static Fundflow__V1__Command *grouping(const char *key, const char *code,
                                       Fundflow__V1__OrgKind kind, const char *parent,
                                       const char *first, const char *second, const char *lead) {
    Fundflow__V1__Command *command = test_org(key, code, "Illustrative grouping", kind, parent);
    Fundflow__V1__OrgRegistered *org = command->event->org_registered;
    org->member_codes = malloc(2 * sizeof(char *));
    assert_non_null(org->member_codes);
    org->member_codes[0] = strdup(first), org->member_codes[1] = strdup(second);
    org->n_member_codes = 2;
    if (lead) org->lead_provider_code = strdup(lead);
    return command;
}

/* A PrincipalGranted command; fill makes each grant's token hash its own. */
static Fundflow__V1__Command *grant(const char *key, const char *name, access_role role,
                                    const char *scope, uint8_t fill) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__Event *event = command->event;
    Fundflow__V1__PrincipalGranted *granted = malloc(sizeof *granted);
    assert_non_null(granted);
    fundflow__v1__principal_granted__init(granted);
    event->kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED;
    event->principal_granted = granted;
    granted->name = strdup(name);
    granted->role = role;
    granted->scope_org_code = strdup(scope);
    granted->token_sha256.data = malloc(32);
    assert_non_null(granted->token_sha256.data);
    memset(granted->token_sha256.data, fill, 32);
    granted->token_sha256.len = 32;
    return command;
}

static Fundflow__V1__Command *block(const char *key, const char *id, const char *commissioner,
                                    const char *provider) {
    return test_contract(key, id, commissioner, provider, BLOCK, CORE, 1200000, 0, NULL);
}

static void orgs_record(ff_ledger *ledger) {
    test_world_register(ledger);
    submit_as(ledger, "test", test_org("s8", "RGT", "Provider A", FUNDFLOW__V1__ORG_KIND__TRUST,
                                       "QUE"), SEQ_RGT);
    submit_as(ledger, "test", test_org("s9", "RWH", "Provider B", FUNDFLOW__V1__ORG_KIND__TRUST,
                                       "QJG"), SEQ_RWH);
    submit_as(ledger, "test",
              grouping("s10", "MHPC", FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, NULL, "RGT",
                       "RWH", "RWH"), SEQ_MHPC);
    submit_as(ledger, "test",
              grouping("s11", "JC1", FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, "Y61", "QUE", "QJG",
                       NULL), SEQ_JC1);
}

static void money_record(ff_ledger *ledger) {
    submit_as(ledger, "test", test_allocation("s12", "X24", "QUE", CORE, TEST_YEAR, 100000000),
              SEQ_TO_QUE);
    submit_as(ledger, "test", test_allocation("s13", "X24", "QJG", CORE, TEST_YEAR, 100000000),
              SEQ_TO_QJG);
    submit_as(ledger, "test", test_budget("s14", "QUE", "06H", CORE, TEST_YEAR, 3000000),
              SEQ_TO_06H);
    submit_as(ledger, "test", test_budget("s15", "QUE", "JC1", CORE, TEST_YEAR, 5000000),
              SEQ_TO_JC1);
    submit_as(ledger, "test", block("s16", "C1", "QUE", "RGT"), SEQ_C1);
    submit_as(ledger, "test", block("s17", "C2", "QJG", "RWH"), SEQ_C2);
    submit_as(ledger, "test", block("s18", "C3", "QUE", "MHPC"), SEQ_C3);
    submit_as(ledger, "test", block("s19", "C4", "JC1", "RWH"), SEQ_C4);
    submit_as(ledger, "alice", test_payment("s20", "C1", 1, 100000), SEQ_PAY_C1);
    submit_as(ledger, "alice", test_payment("s21", "C2", 1, 100000), SEQ_PAY_C2);
    submit_as(ledger, "test", test_payment("s22", "C4", 1, 100000), SEQ_PAY_C4);
    submit_as(ledger, "test", grant("s23", "alice", READER, "RGT", 0xA1), SEQ_GRANT_ALICE);
    submit_as(ledger, "test", grant("s24", "audrey", AUDITOR, "", 0xA2), SEQ_GRANT_AUDREY);
}

static int group_setup(void **state) {
    test_fixture *f = test_fixture_open();
    orgs_record(f->ledger);
    money_record(f->ledger);
    *state = f;
    return 0;
}

/* ---- principals and calls ---- */

static access_principal principal(const char *name, access_role role, const char *scope) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "%s", name);
    snprintf(who.scope, sizeof who.scope, "%s", scope);
    who.role = role;
    who.today = TODAY;
    return who;
}

static ProtobufCMessage *ask_ok(ff_ledger *ledger, const access_principal *who,
                                const char *method, const ProtobufCMessage *request) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_handler_find(method)(ledger, who, request, &response, &failure);
    if (err != FF_OK) fail_msg("%s as %s: %s", method, who->name, failure.detail);
    assert_non_null(response);
    return response;
}

static ff_failure ask_refused(ff_ledger *ledger, const access_principal *who, const char *method,
                              const ProtobufCMessage *request) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_handler_find(method)(ledger, who, request, &response, &failure);
    assert_int_not_equal(err, FF_OK);
    assert_int_equal(failure.code, err);
    assert_null(response);
    return failure;
}

/* Asserts a refusal with this code naming this field. */
static void assert_refused(ff_ledger *ledger, const access_principal *who, const char *method,
                           const ProtobufCMessage *request, ff_err code, const char *field) {
    ff_failure failure = ask_refused(ledger, who, method, request);
    assert_int_equal(failure.code, code);
    assert_non_null(failure.field);
    assert_string_equal(failure.field, field);
}

/* ---- reference data ---- */

static void test_reference_data_is_for_everyone(void **state) {
    test_fixture *f = *state;
    access_principal everyone[] = {principal("rgt", READER, "RGT"),
                                   principal("que", READER, "QUE"),
                                   principal("audrey", AUDITOR, "")};
    for (size_t i = 0; i < sizeof everyone / sizeof everyone[0]; i++) {
        Fundflow__V1__GetOrgRequest get = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
        get.code = (char *)"QJG";
        Fundflow__V1__OrgRecord *org =
            (Fundflow__V1__OrgRecord *)ask_ok(f->ledger, &everyone[i], "GetOrg", &get.base);
        assert_string_equal(org->code, "QJG");
        fundflow__v1__org_record__free_unpacked(org, NULL);
        Fundflow__V1__ListOrgsRequest list = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
        Fundflow__V1__ListOrgsResponse *orgs =
            (Fundflow__V1__ListOrgsResponse *)ask_ok(f->ledger, &everyone[i], "ListOrgs",
                                                     &list.base);
        assert_int_equal(orgs->n_orgs, 7 + SEQ_JC1 - TEST_WORLD_EVENTS); /* and 9 limits */
        fundflow__v1__list_orgs_response__free_unpacked(orgs, NULL);
    }
}

/* ---- contracts ---- */

static void contract_position_check(ff_ledger *ledger, const access_principal *who,
                                    const char *contract_id, bool covered) {
    Fundflow__V1__GetContractPositionRequest get =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    get.contract_id = (char *)contract_id;
    if (!covered) {
        assert_refused(ledger, who, "GetContractPosition", &get.base, FF_ERR_OUT_OF_SCOPE,
                       "contract_id");
        return;
    }
    Fundflow__V1__ContractPosition *position =
        (Fundflow__V1__ContractPosition *)ask_ok(ledger, who, "GetContractPosition", &get.base);
    assert_string_equal(position->contract->contract_id, contract_id);
    fundflow__v1__contract_position__free_unpacked(position, NULL);
}

static void test_contract_positions_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal rgt = principal("rgt", READER, "RGT");
    access_principal rwh = principal("rwh", READER, "RWH");
    access_principal que = principal("que", READER, "QUE");
    contract_position_check(f->ledger, &rgt, "C1", true);
    contract_position_check(f->ledger, &rgt, "C2", false);
    contract_position_check(f->ledger, &rgt, "C3", false); /* MHPC is led by RWH, not RGT */
    contract_position_check(f->ledger, &rwh, "C2", true);
    contract_position_check(f->ledger, &rwh, "C3", true);  /* through MHPC's lead provider */
    contract_position_check(f->ledger, &rwh, "C4", true);  /* RWH is C4's provider */
    contract_position_check(f->ledger, &rwh, "C1", false);
    contract_position_check(f->ledger, &que, "C1", true);
    contract_position_check(f->ledger, &que, "C3", true);
    contract_position_check(f->ledger, &que, "C4", false); /* JC1 is not under QUE */
    /* A contract that does not exist looks the same to a scoped principal as another's. */
    contract_position_check(f->ledger, &rgt, "C9", false);
    access_principal admin = principal("admin", ADMIN, "");
    Fundflow__V1__GetContractPositionRequest get =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    get.contract_id = (char *)"C9";
    assert_refused(f->ledger, &admin, "GetContractPosition", &get.base, FF_ERR_CONTRACT_UNKNOWN,
                   "contract_id");
}

/* Lists contracts page by page as who, and checks the ids and the page boundaries. */
static void contracts_list_check(ff_ledger *ledger, const access_principal *who,
                                 uint32_t page_size, const char *const *expected,
                                 size_t expected_count) {
    Fundflow__V1__ListContractsRequest list = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    list.page_size = page_size;
    char token[FF_IDENTIFIER_BYTES_MAX + 1] = "";
    size_t seen = 0;
    do {
        list.page_token = token;
        Fundflow__V1__ListContractsResponse *page =
            (Fundflow__V1__ListContractsResponse *)ask_ok(ledger, who, "ListContracts",
                                                          &list.base);
        /* Pages stay full: only the last may be short. */
        bool last = page->next_page_token[0] == '\0';
        assert_true(last || page->n_contracts == page_size);
        for (size_t i = 0; i < page->n_contracts; i++) {
            assert_true(seen < expected_count);
            assert_string_equal(page->contracts[i]->contract_id, expected[seen++]);
        }
        snprintf(token, sizeof token, "%s", page->next_page_token);
        fundflow__v1__list_contracts_response__free_unpacked(page, NULL);
    } while (token[0] != '\0');
    assert_int_equal(seen, expected_count);
}

static void test_list_contracts_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("admin", ADMIN, "");
    access_principal rgt = principal("rgt", READER, "RGT");
    access_principal rwh = principal("rwh", READER, "RWH");
    access_principal que = principal("que", READER, "QUE");
    static const char *const all[] = {"C1", "C2", "C3", "C4"};
    static const char *const rgt_own[] = {"C1"};
    static const char *const rwh_own[] = {"C2", "C3", "C4"};
    static const char *const que_own[] = {"C1", "C3"};
    contracts_list_check(f->ledger, &admin, 0, all, 4);
    contracts_list_check(f->ledger, &rgt, 0, rgt_own, 1);
    contracts_list_check(f->ledger, &rgt, 1, rgt_own, 1);
    contracts_list_check(f->ledger, &rwh, 1, rwh_own, 3);
    contracts_list_check(f->ledger, &rwh, 2, rwh_own, 3);
    contracts_list_check(f->ledger, &que, 1, que_own, 2);
    Fundflow__V1__ListContractsRequest list = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    list.commissioner_code = (char *)"QJG";
    assert_refused(f->ledger, &rgt, "ListContracts", &list.base, FF_ERR_OUT_OF_SCOPE,
                   "commissioner_code");
    list.commissioner_code = (char *)"";
    list.provider_code = (char *)"RWH";
    assert_refused(f->ledger, &rgt, "ListContracts", &list.base, FF_ERR_OUT_OF_SCOPE,
                   "provider_code");
    list.provider_code = (char *)"";
    list.collaborative_code = (char *)"MHPC";
    assert_refused(f->ledger, &rgt, "ListContracts", &list.base, FF_ERR_OUT_OF_SCOPE,
                   "collaborative_code");
    /* A filter within the scope answers. */
    list.collaborative_code = (char *)"";
    list.provider_code = (char *)"RGT";
    Fundflow__V1__ListContractsResponse *page =
        (Fundflow__V1__ListContractsResponse *)ask_ok(f->ledger, &que, "ListContracts",
                                                      &list.base);
    assert_int_equal(page->n_contracts, 1);
    assert_string_equal(page->contracts[0]->contract_id, "C1");
    fundflow__v1__list_contracts_response__free_unpacked(page, NULL);
}

/* ---- positions and flows ---- */

static void test_positions_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal rgt = principal("rgt", READER, "RGT");
    access_principal que = principal("que", READER, "QUE");
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.org_code = (char *)"RGT";
    protobuf_c_message_free_unpacked(ask_ok(f->ledger, &rgt, "GetPosition", &get.base), NULL);
    get.org_code = (char *)"QUE";
    assert_refused(f->ledger, &rgt, "GetPosition", &get.base, FF_ERR_OUT_OF_SCOPE, "org_code");
    get.rollup = true;
    Fundflow__V1__Position *position =
        (Fundflow__V1__Position *)ask_ok(f->ledger, &que, "GetPosition", &get.base);
    assert_int_equal(position->n_included_codes, 2); /* QUE and its place 06H */
    /* A consolidation: QUE's 100,000,000 from X24 is received from outside; its 3,000,000 to
     * 06H is internal, so neither received nor passed on. */
    assert_int_equal(position->received_pence, 100000000);
    assert_int_equal(position->internal_transfers_pence, 3000000);
    fundflow__v1__position__free_unpacked(position, NULL);
    get.org_code = (char *)"QJG";
    assert_refused(f->ledger, &que, "GetPosition", &get.base, FF_ERR_OUT_OF_SCOPE, "org_code");
    /* An organisation that is not registered is out of scope, not unknown. */
    get.org_code = (char *)"QXX";
    assert_refused(f->ledger, &que, "GetPosition", &get.base, FF_ERR_OUT_OF_SCOPE, "org_code");
    Fundflow__V1__GetAccountHistoryRequest history =
        FUNDFLOW__V1__GET_ACCOUNT_HISTORY_REQUEST__INIT;
    history.stream = CORE;
    history.financial_year = TEST_YEAR;
    history.purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__RECEIVED;
    history.org_code = (char *)"QUE";
    Fundflow__V1__GetAccountHistoryResponse *postings =
        (Fundflow__V1__GetAccountHistoryResponse *)ask_ok(f->ledger, &que, "GetAccountHistory",
                                                          &history.base);
    assert_int_equal(postings->n_postings, 1);
    fundflow__v1__get_account_history_response__free_unpacked(postings, NULL);
    history.org_code = (char *)"QJG";
    assert_refused(f->ledger, &que, "GetAccountHistory", &history.base, FF_ERR_OUT_OF_SCOPE,
                   "org_code");
}

/* The edges of a funding-flow walk as "FROM>TO" joined by spaces, in the walk's order. */
static void flows_walk(ff_ledger *ledger, const access_principal *who, const char *root,
                       char *edges, size_t edges_bytes) {
    Fundflow__V1__GetFundingFlowsRequest get = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    get.financial_year = TEST_YEAR;
    get.root_code = (char *)root;
    Fundflow__V1__GetFundingFlowsResponse *flows =
        (Fundflow__V1__GetFundingFlowsResponse *)ask_ok(ledger, who, "GetFundingFlows",
                                                        &get.base);
    edges[0] = '\0';
    for (size_t i = 0; i < flows->n_flows; i++) {
        size_t used = strlen(edges);
        snprintf(edges + used, edges_bytes - used, "%s%s>%s", used ? " " : "",
                 flows->flows[i]->from_code, flows->flows[i]->to_code);
    }
    fundflow__v1__get_funding_flows_response__free_unpacked(flows, NULL);
}

static void test_funding_flows_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("admin", ADMIN, "");
    access_principal que = principal("que", READER, "QUE");
    access_principal rwh = principal("rwh", READER, "RWH");
    char edges[512];
    flows_walk(f->ledger, &admin, "", edges, sizeof edges);
    assert_string_equal(edges, "X24>QJG X24>QUE QJG>RWH QUE>06H QUE>JC1 QUE>RGT JC1>RWH");
    /* National from QUE follows JC1's money on; QUE's own scope does not cover JC1. */
    flows_walk(f->ledger, &admin, "QUE", edges, sizeof edges);
    assert_string_equal(edges, "QUE>06H QUE>JC1 QUE>RGT JC1>RWH");
    flows_walk(f->ledger, &que, "QUE", edges, sizeof edges);
    assert_string_equal(edges, "QUE>06H QUE>JC1 QUE>RGT");
    /* An empty root is the scope's own organisation, not NHS England. */
    flows_walk(f->ledger, &que, "", edges, sizeof edges);
    assert_string_equal(edges, "QUE>06H QUE>JC1 QUE>RGT");
    flows_walk(f->ledger, &rwh, "", edges, sizeof edges);
    assert_string_equal(edges, "");
    Fundflow__V1__GetFundingFlowsRequest get = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    get.financial_year = TEST_YEAR;
    get.root_code = (char *)"QJG";
    assert_refused(f->ledger, &que, "GetFundingFlows", &get.base, FF_ERR_OUT_OF_SCOPE,
                   "root_code");
    get.root_code = (char *)"X24";
    assert_refused(f->ledger, &que, "GetFundingFlows", &get.base, FF_ERR_OUT_OF_SCOPE,
                   "root_code");
}

/* ---- events ---- */

/* Every event who may list, paged page_size at a time, as a bitmap of sequences; the count. */
static size_t events_list(ff_ledger *ledger, const access_principal *who, uint32_t page_size,
                          bool listed[SEQ_LAST + 1]) {
    memset(listed, 0, (SEQ_LAST + 1) * sizeof listed[0]);
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    list.page_size = page_size;
    size_t count = 0;
    do {
        Fundflow__V1__ListEventsResponse *page =
            (Fundflow__V1__ListEventsResponse *)ask_ok(ledger, who, "ListEvents", &list.base);
        assert_true(page->n_events <= page_size);
        for (size_t i = 0; i < page->n_events; i++) {
            uint64_t sequence = page->events[i]->sequence;
            assert_true(sequence > list.after_sequence && sequence <= SEQ_LAST);
            assert_false(listed[sequence]);
            listed[sequence] = true;
            count++;
        }
        assert_true(page->next_after_sequence == 0 ||
                    page->next_after_sequence > list.after_sequence);
        list.after_sequence = page->next_after_sequence;
        fundflow__v1__list_events_response__free_unpacked(page, NULL);
    } while (list.after_sequence != 0);
    return count;
}

static void test_list_events_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("admin", ADMIN, "");
    access_principal rgt = principal("rgt", READER, "RGT");
    access_principal que = principal("que", READER, "QUE");
    bool listed[SEQ_LAST + 1];
    assert_int_equal(events_list(f->ledger, &admin, 100, listed), SEQ_LAST);
    /* RGT: the registrations (reference data), C1 and its payment. */
    assert_int_equal(events_list(f->ledger, &rgt, 100, listed), SEQ_JC1 + 2);
    for (uint64_t sequence = 1; sequence <= SEQ_JC1; sequence++) assert_true(listed[sequence]);
    assert_true(listed[SEQ_C1] && listed[SEQ_PAY_C1]);
    assert_false(listed[SEQ_C2] || listed[SEQ_PAY_C2] || listed[SEQ_TO_QUE]);
    assert_false(listed[SEQ_GRANT_ALICE] || listed[SEQ_GRANT_AUDREY]);
    /* Small pages page past what is left out and list the same events. */
    assert_int_equal(events_list(f->ledger, &rgt, 5, listed), SEQ_JC1 + 2);
    assert_int_equal(events_list(f->ledger, &rgt, 1, listed), SEQ_JC1 + 2);
    /* QUE: the registrations, its allocation, both its budgets, C1, C3 and C1's payment. */
    assert_int_equal(events_list(f->ledger, &que, 3, listed), SEQ_JC1 + 6);
    assert_true(listed[SEQ_TO_QUE] && listed[SEQ_TO_06H] && listed[SEQ_TO_JC1]);
    assert_true(listed[SEQ_C1] && listed[SEQ_C3] && listed[SEQ_PAY_C1]);
    assert_false(listed[SEQ_C4] || listed[SEQ_PAY_C4] || listed[SEQ_TO_QJG]);
}

static void test_get_event_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal rgt = principal("rgt", READER, "RGT");
    access_principal audrey = principal("audrey", AUDITOR, "");
    Fundflow__V1__GetEventRequest get = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    get.sequence = SEQ_PAY_C1;
    protobuf_c_message_free_unpacked(ask_ok(f->ledger, &rgt, "GetEvent", &get.base), NULL);
    get.sequence = SEQ_PAY_C2;
    assert_refused(f->ledger, &rgt, "GetEvent", &get.base, FF_ERR_OUT_OF_SCOPE, "sequence");
    get.sequence = SEQ_GRANT_ALICE;
    assert_refused(f->ledger, &rgt, "GetEvent", &get.base, FF_ERR_OUT_OF_SCOPE, "sequence");
    protobuf_c_message_free_unpacked(ask_ok(f->ledger, &audrey, "GetEvent", &get.base), NULL);
    get.sequence = SEQ_LAST + 1;
    assert_refused(f->ledger, &rgt, "GetEvent", &get.base, FF_ERR_EVENT_UNKNOWN, "sequence");
}

/* ---- history ---- */

/* A history, by name or by actor, paged page_size at a time; its sequences in order. */
static size_t history_read(ff_ledger *ledger, const access_principal *who, const char *name,
                           const char *actor, uint32_t page_size, uint64_t *sequences,
                           size_t sequences_max) {
    Fundflow__V1__GetHistoryRequest get = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    get.name = (char *)name;
    get.actor = (char *)actor;
    get.page_size = page_size;
    size_t count = 0;
    do {
        Fundflow__V1__GetHistoryResponse *page =
            (Fundflow__V1__GetHistoryResponse *)ask_ok(ledger, who, "GetHistory", &get.base);
        for (size_t i = 0; i < page->n_events; i++) {
            assert_true(count < sequences_max);
            sequences[count++] = page->events[i]->sequence;
        }
        get.after_sequence = page->next_after_sequence;
        fundflow__v1__get_history_response__free_unpacked(page, NULL);
    } while (get.after_sequence != 0);
    return count;
}

static void test_history_by_name_in_scope(void **state) {
    test_fixture *f = *state;
    access_principal rgt = principal("rgt", READER, "RGT");
    uint64_t sequences[SEQ_LAST];
    assert_int_equal(history_read(f->ledger, &rgt, "C1", "", 0, sequences, SEQ_LAST), 2);
    assert_int_equal(sequences[0], SEQ_C1);
    assert_int_equal(sequences[1], SEQ_PAY_C1);
    size_t count = history_read(f->ledger, &rgt, "RGT", "", 1, sequences, SEQ_LAST);
    assert_true(count >= 3);
    assert_int_equal(sequences[0], SEQ_RGT);
    assert_int_equal(sequences[count - 1], SEQ_PAY_C1);
    Fundflow__V1__GetHistoryRequest get = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    get.name = (char *)"C2";
    assert_refused(f->ledger, &rgt, "GetHistory", &get.base, FF_ERR_OUT_OF_SCOPE, "name");
    get.name = (char *)"QJG";
    assert_refused(f->ledger, &rgt, "GetHistory", &get.base, FF_ERR_OUT_OF_SCOPE, "name");
    get.name = (char *)"NOSUCH";
    assert_refused(f->ledger, &rgt, "GetHistory", &get.base, FF_ERR_OUT_OF_SCOPE, "name");
    get.name = (char *)"C1";
    get.actor = (char *)"alice";
    assert_refused(f->ledger, &rgt, "GetHistory", &get.base, FF_ERR_ENUM_INVALID, "actor");
}

static void test_history_by_actor(void **state) {
    test_fixture *f = *state;
    access_principal audrey = principal("audrey", AUDITOR, "");
    access_principal admin = principal("admin", ADMIN, "");
    access_principal alice = principal("alice", READER, "RGT");
    access_principal bob = principal("bob", WRITER, "QUE");
    access_principal rgt = principal("rgt", READER, "RGT");
    uint64_t sequences[SEQ_LAST];
    assert_int_equal(history_read(f->ledger, &audrey, "", "alice", 0, sequences, SEQ_LAST), 2);
    assert_int_equal(sequences[0], SEQ_PAY_C1);
    assert_int_equal(sequences[1], SEQ_PAY_C2);
    assert_int_equal(history_read(f->ledger, &admin, "", "alice", 1, sequences, SEQ_LAST), 2);
    /* alice may read her own, but only within her scope: not C2's payment. */
    assert_int_equal(history_read(f->ledger, &alice, "", "alice", 1, sequences, SEQ_LAST), 1);
    assert_int_equal(sequences[0], SEQ_PAY_C1);
    size_t count = history_read(f->ledger, &audrey, "", "test", 7, sequences, SEQ_LAST);
    assert_int_equal(count, SEQ_LAST - 2);
    Fundflow__V1__GetHistoryRequest get = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    get.actor = (char *)"alice";
    assert_refused(f->ledger, &bob, "GetHistory", &get.base, FF_ERR_PERMISSION_DENIED, "actor");
    assert_refused(f->ledger, &rgt, "GetHistory", &get.base, FF_ERR_PERMISSION_DENIED, "actor");
}

/* ---- principals ---- */

static void test_list_principals_without_hashes(void **state) {
    test_fixture *f = *state;
    access_principal audrey = principal("audrey", AUDITOR, "");
    Fundflow__V1__ListPrincipalsRequest list = FUNDFLOW__V1__LIST_PRINCIPALS_REQUEST__INIT;
    Fundflow__V1__ListPrincipalsResponse *principals =
        (Fundflow__V1__ListPrincipalsResponse *)ask_ok(f->ledger, &audrey, "ListPrincipals",
                                                       &list.base);
    assert_int_equal(principals->n_principals, 2);
    assert_string_equal(principals->principals[0]->name, "alice");
    assert_int_equal(principals->principals[0]->role, READER);
    assert_string_equal(principals->principals[0]->scope_org_code, "RGT");
    assert_int_equal(principals->principals[0]->granted_sequence, SEQ_GRANT_ALICE);
    assert_string_equal(principals->principals[1]->name, "audrey");
    for (size_t i = 0; i < principals->n_principals; i++) {
        assert_int_equal(principals->principals[i]->token_sha256.len, 0);
        assert_null(principals->principals[i]->token_sha256.data);
    }
    fundflow__v1__list_principals_response__free_unpacked(principals, NULL);
    /* The ledger holds the hash; only the reply goes without it. */
    store_txn *txn = NULL;
    assert_int_equal(ledger_read_txn_begin(f->ledger, &txn), FF_OK);
    Fundflow__V1__PrincipalRecord *record = NULL;
    assert_int_equal(access_principal_read(txn, ledger_store(f->ledger), "alice", &record), FF_OK);
    ledger_read_txn_end(f->ledger, txn);
    assert_int_equal(record->token_sha256.len, 32);
    assert_int_equal(record->token_sha256.data[0], 0xA1);
    fundflow__v1__principal_record__free_unpacked(record, NULL);
}

/* ---- the scan budget ---- */

/* A ledger where a principal scoped to RGT is covered by the world's registrations, then by
 * nothing for FF_SCAN_ROWS_MAX events, then by RGT's registration. */
static int sparse_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    enum { BATCH = 5000 };
    static_assert(FF_SCAN_ROWS_MAX % BATCH == 0, "the allocations come in whole batches");
    Fundflow__V1__Command **commands = calloc(BATCH, sizeof *commands);
    ledger_result *results = calloc(BATCH, sizeof *results);
    assert_true(commands && results);
    for (size_t done = 0; done < FF_SCAN_ROWS_MAX; done += BATCH) {
        for (size_t i = 0; i < BATCH; i++) {
            char key[32];
            snprintf(key, sizeof key, "a%zu", done + i);
            commands[i] = test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, 1);
        }
        assert_int_equal(test_submit_batch(f->ledger, commands, BATCH, true, results), FF_OK);
    }
    free(commands);
    free(results);
    assert_int_equal(test_submit(f->ledger, test_org("last", "RGT", "Provider A",
                                                     FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
                                 NULL), FF_OK);
    *state = f;
    return 0;
}

/* One reply looks at FF_SCAN_ROWS_MAX events at most: past the world's events, the first page
 * ends short with a token, and the next finds RGT's registration. */
static void test_a_sparse_scope_pages_within_the_scan_budget(void **state) {
    test_fixture *f = *state;
    access_principal rgt = principal("test", READER, "RGT");
    const uint64_t world = TEST_WORLD_EVENTS, last = world + FF_SCAN_ROWS_MAX + 1;
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    Fundflow__V1__ListEventsResponse *events =
        (Fundflow__V1__ListEventsResponse *)ask_ok(f->ledger, &rgt, "ListEvents", &list.base);
    assert_int_equal(events->n_events, world);
    assert_int_equal(events->next_after_sequence, FF_SCAN_ROWS_MAX);
    list.after_sequence = events->next_after_sequence;
    fundflow__v1__list_events_response__free_unpacked(events, NULL);
    events = (Fundflow__V1__ListEventsResponse *)ask_ok(f->ledger, &rgt, "ListEvents",
                                                        &list.base);
    assert_int_equal(events->n_events, 1);
    assert_int_equal(events->events[0]->sequence, last);
    assert_int_equal(events->next_after_sequence, 0);
    fundflow__v1__list_events_response__free_unpacked(events, NULL);
    /* The same by actor: every event here was recorded by "test", reading its own. */
    Fundflow__V1__GetHistoryRequest get = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    get.actor = (char *)"test";
    Fundflow__V1__GetHistoryResponse *history =
        (Fundflow__V1__GetHistoryResponse *)ask_ok(f->ledger, &rgt, "GetHistory", &get.base);
    assert_int_equal(history->n_events, world);
    assert_int_equal(history->next_after_sequence, FF_SCAN_ROWS_MAX);
    get.after_sequence = history->next_after_sequence;
    fundflow__v1__get_history_response__free_unpacked(history, NULL);
    history = (Fundflow__V1__GetHistoryResponse *)ask_ok(f->ledger, &rgt, "GetHistory",
                                                         &get.base);
    assert_int_equal(history->n_events, 1);
    assert_int_equal(history->events[0]->sequence, last);
    assert_int_equal(history->next_after_sequence, 0);
    fundflow__v1__get_history_response__free_unpacked(history, NULL);
}

/* ---- failed reads ---- */

/* Fails the nth store read of one scoped RPC, for every n until it has no read left to fail:
 * each failure must be a refusal with a reason and no response (the sanitizer build catches a
 * leak on the way), and the RPC must answer once no read fails. */
static void scoped_read_faults_sweep(ff_ledger *ledger, const access_principal *who,
                                     const char *method, const ProtobufCMessage *request) {
    query_handler handler = query_handler_find(method);
    bool answered = false;
    size_t refused = 0;
    for (uint64_t nth = 1; nth <= 2000 && !answered; nth++) {
        ProtobufCMessage *response = NULL;
        ff_failure failure;
        failure_clear(&failure);
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = handler(ledger, who, request, &response, &failure);
        store_fault_clear();
        if (err == FF_OK) {
            assert_non_null(response);
            protobuf_c_message_free_unpacked(response, NULL);
            answered = nth > 1;
            continue;
        }
        assert_null(response);
        assert_int_equal(failure.code, err);
        assert_true(failure.detail[0] != '\0');
        refused++;
    }
    assert_true(answered && refused > 0);
}

static void test_a_failed_scoped_read_refuses_and_frees_the_response(void **state) {
    test_fixture *f = *state;
    access_principal rwh = principal("rwh", READER, "RWH");
    access_principal alice = principal("alice", READER, "RGT");
    Fundflow__V1__ListEventsRequest events = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    events.page_size = 4;
    scoped_read_faults_sweep(f->ledger, &rwh, "ListEvents", &events.base);
    Fundflow__V1__ListContractsRequest contracts = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    contracts.page_size = 2;
    scoped_read_faults_sweep(f->ledger, &rwh, "ListContracts", &contracts.base);
    Fundflow__V1__GetContractPositionRequest contract =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    contract.contract_id = (char *)"C3";
    scoped_read_faults_sweep(f->ledger, &rwh, "GetContractPosition", &contract.base);
    Fundflow__V1__GetFundingFlowsRequest flows = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    flows.financial_year = TEST_YEAR;
    scoped_read_faults_sweep(f->ledger, &rwh, "GetFundingFlows", &flows.base);
    Fundflow__V1__GetPositionRequest position = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    position.org_code = (char *)"RWH";
    position.stream = CORE;
    position.financial_year = TEST_YEAR;
    scoped_read_faults_sweep(f->ledger, &rwh, "GetPosition", &position.base);
    Fundflow__V1__GetHistoryRequest named = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    named.name = (char *)"C3";
    scoped_read_faults_sweep(f->ledger, &rwh, "GetHistory", &named.base);
    Fundflow__V1__GetHistoryRequest own = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    own.actor = (char *)"alice";
    scoped_read_faults_sweep(f->ledger, &alice, "GetHistory", &own.base);
    Fundflow__V1__GetEventRequest event = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    event.sequence = SEQ_PAY_C2;
    scoped_read_faults_sweep(f->ledger, &rwh, "GetEvent", &event.base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_data_is_for_everyone),
        cmocka_unit_test(test_contract_positions_in_scope),
        cmocka_unit_test(test_list_contracts_in_scope),
        cmocka_unit_test(test_positions_in_scope),
        cmocka_unit_test(test_funding_flows_in_scope),
        cmocka_unit_test(test_list_events_in_scope),
        cmocka_unit_test(test_get_event_in_scope),
        cmocka_unit_test(test_history_by_name_in_scope),
        cmocka_unit_test(test_history_by_actor),
        cmocka_unit_test(test_list_principals_without_hashes),
        cmocka_unit_test(test_a_failed_scoped_read_refuses_and_frees_the_response),
    };
    const struct CMUnitTest sparse[] = {
        cmocka_unit_test_setup_teardown(test_a_sparse_scope_pages_within_the_scan_budget,
                                        sparse_setup, test_fixture_teardown),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, test_fixture_teardown);
    return failed + cmocka_run_group_tests(sparse, NULL, NULL);
}
