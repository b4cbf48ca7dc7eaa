/* Tests of the read RPCs' handlers: organisations with paging and filters, positions now, as at
 * a sequence and as at an effective date, account history, events and verification, and a
 * failed read at every step of each. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define W TEST_WORLD_EVENTS

/* The world (events 1 to W), then: W+1 NHSE allocates £1,000.00 to QUE on 1 April; W+2 QUE
 * passes £300.00 to 06H on 1 July; W+3 NHSE allocates £50.00 more to QUE on 1 October. */
static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    assert_int_equal(test_submit(f->ledger, test_allocation("q8", "X24", "QUE", CORE, TEST_YEAR,
                                                            100000), NULL), FF_OK);
    Fundflow__V1__Command *july = test_budget("q9", "QUE", "06H", CORE, TEST_YEAR, 30000);
    july->effective_date = 20240701;
    assert_int_equal(test_submit(f->ledger, july, NULL), FF_OK);
    Fundflow__V1__Command *october = test_allocation("q10", "X24", "QUE", CORE, TEST_YEAR, 5000);
    october->effective_date = 20241001;
    assert_int_equal(test_submit(f->ledger, october, NULL), FF_OK);
    *state = f;
    return 0;
}

/* The principal every read here asks as: a national admin, as offline callers are. Scope has
 * its own tests (test_query_scope.c). */
static const access_principal *national(void) {
    static access_principal who;
    access_principal_bootstrap(&who, "test", TEST_EFFECTIVE_DATE);
    return &who;
}

static ProtobufCMessage *query_ok(ff_ledger *ledger, const char *method,
                                  const ProtobufCMessage *request) {
    query_handler handler = query_handler_find(method);
    assert_non_null(handler);
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(handler(ledger, national(), request, &response, &failure), FF_OK);
    assert_non_null(response);
    return response;
}

static ff_failure query_refused(ff_ledger *ledger, const char *method,
                                const ProtobufCMessage *request) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    query_handler handler = query_handler_find(method);
    assert_int_not_equal(handler(ledger, national(), request, &response, &failure), FF_OK);
    assert_null(response);
    return failure;
}

static void test_get_org(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetOrgRequest get = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
    get.code = (char *)"06H";
    Fundflow__V1__OrgRecord *org = (Fundflow__V1__OrgRecord *)query_ok(f->ledger, "GetOrg",
                                                                       &get.base);
    assert_string_equal(org->parent_code, "QUE");
    assert_int_equal(org->kind, FUNDFLOW__V1__ORG_KIND__PLACE);
    assert_int_equal(org->registered_sequence, 5);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    get.code = (char *)"QZZ";
    ff_failure failure = query_refused(f->ledger, "GetOrg", &get.base);
    assert_int_equal(failure.code, FF_ERR_ORG_UNKNOWN);
    assert_string_equal(failure.field, "code");
    get.code = (char *)"bad code";
    assert_int_equal(query_refused(f->ledger, "GetOrg", &get.base).code, FF_ERR_CODE_INVALID);
}

static void test_list_orgs_pages_and_filters(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__ListOrgsRequest list = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    list.page_size = 3;
    /* Codes in byte order: 06H 07K PC1 QJG QUE X24 Y61. */
    const char *expected[] = {"06H", "07K", "PC1", "QJG", "QUE", "X24", "Y61"};
    size_t seen = 0;
    char token[16] = "";
    for (int page_number = 0; page_number < 5; page_number++) {
        list.page_token = token;
        Fundflow__V1__ListOrgsResponse *page =
            (Fundflow__V1__ListOrgsResponse *)query_ok(f->ledger, "ListOrgs", &list.base);
        for (size_t i = 0; i < page->n_orgs; i++) {
            assert_string_equal(page->orgs[i]->code, expected[seen++]);
        }
        snprintf(token, sizeof token, "%s", page->next_page_token);
        fundflow__v1__list_orgs_response__free_unpacked(page, NULL);
        if (token[0] == '\0') break;
    }
    assert_int_equal(seen, 7);
    list.page_token = (char *)"";
    list.kind = FUNDFLOW__V1__ORG_KIND__ICB;
    Fundflow__V1__ListOrgsResponse *icbs =
        (Fundflow__V1__ListOrgsResponse *)query_ok(f->ledger, "ListOrgs", &list.base);
    assert_int_equal(icbs->n_orgs, 2);
    assert_string_equal(icbs->next_page_token, "");
    fundflow__v1__list_orgs_response__free_unpacked(icbs, NULL);
    list.kind = 0;
    list.parent_code = (char *)"QUE";
    Fundflow__V1__ListOrgsResponse *places =
        (Fundflow__V1__ListOrgsResponse *)query_ok(f->ledger, "ListOrgs", &list.base);
    assert_int_equal(places->n_orgs, 1);
    assert_string_equal(places->orgs[0]->code, "06H");
    fundflow__v1__list_orgs_response__free_unpacked(places, NULL);
}

static Fundflow__V1__Position *position_query(ff_ledger *ledger, const char *org,
                                              uint64_t as_at_sequence, uint32_t as_at_date) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)org;
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.as_at_sequence = as_at_sequence;
    get.as_at_date = as_at_date;
    return (Fundflow__V1__Position *)query_ok(ledger, "GetPosition", &get.base);
}

static void test_positions_now_as_at_sequence_and_as_at_date(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *now = position_query(f->ledger, "QUE", 0, 0);
    assert_int_equal(now->as_at_sequence, W + 3);
    assert_int_equal(now->received_pence, 105000);
    assert_int_equal(now->passed_on_pence, 30000);
    assert_int_equal(now->headroom_pence, 75000);
    fundflow__v1__position__free_unpacked(now, NULL);
    Fundflow__V1__Position *at_nine = position_query(f->ledger, "QUE", W + 2, 0);
    assert_int_equal(at_nine->received_pence, 100000);
    assert_int_equal(at_nine->headroom_pence, 70000);
    fundflow__v1__position__free_unpacked(at_nine, NULL);
    /* By 30 June only the April allocation had taken effect; by 30 September the July budget
     * too; the October allocation counts from 1 October. */
    Fundflow__V1__Position *june = position_query(f->ledger, "QUE", 0, 20240630);
    assert_int_equal(june->received_pence, 100000);
    assert_int_equal(june->passed_on_pence, 0);
    assert_int_equal(june->headroom_pence, 100000);
    fundflow__v1__position__free_unpacked(june, NULL);
    Fundflow__V1__Position *september = position_query(f->ledger, "QUE", 0, 20240930);
    assert_int_equal(september->passed_on_pence, 30000);
    assert_int_equal(september->headroom_pence, 70000);
    fundflow__v1__position__free_unpacked(september, NULL);
    Fundflow__V1__Position *both = position_query(f->ledger, "QUE", W + 1, 20241231);
    assert_int_equal(both->received_pence, 100000);
    assert_int_equal(both->passed_on_pence, 0);
    fundflow__v1__position__free_unpacked(both, NULL);
    Fundflow__V1__Position *nhse = position_query(f->ledger, "X24", 0, 0);
    /* NHS England: its limit received, 100,000 + 5,000 = 105,000p of it allocated, and the rest
     * headroom. */
    assert_int_equal(nhse->funding_drawn_pence, 0);
    assert_int_equal(nhse->received_pence, TEST_WORLD_LIMIT_PENCE);
    assert_int_equal(nhse->passed_on_pence, 105000);
    assert_int_equal(nhse->headroom_pence, TEST_WORLD_LIMIT_PENCE - 105000);
    fundflow__v1__position__free_unpacked(nhse, NULL);
    Fundflow__V1__GetPositionRequest bad = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    bad.org_code = (char *)"QUE";
    bad.stream = CORE;
    bad.financial_year = TEST_YEAR;
    bad.as_at_date = 20240231;
    assert_int_equal(query_refused(f->ledger, "GetPosition", &bad.base).code,
                     FF_ERR_DATE_INVALID);
    bad.as_at_date = 0;
    bad.stream = 99; /* 0 asks for every stream; 99 is none */
    assert_string_equal(query_refused(f->ledger, "GetPosition", &bad.base).field, "stream");
}

static void test_account_history_pages(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetAccountHistoryRequest get = FUNDFLOW__V1__GET_ACCOUNT_HISTORY_REQUEST__INIT;
    get.org_code = (char *)"QUE";
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET;
    get.page_size = 2;
    Fundflow__V1__GetAccountHistoryResponse *first =
        (Fundflow__V1__GetAccountHistoryResponse *)query_ok(f->ledger, "GetAccountHistory",
                                                            &get.base);
    assert_int_equal(first->n_postings, 2);
    assert_int_equal(first->postings[0]->sequence, W + 1);
    assert_int_equal(first->postings[0]->debit_pence, 100000);
    assert_int_equal(first->postings[0]->balance_pence, 100000);
    assert_int_equal(first->postings[1]->sequence, W + 2);
    assert_int_equal(first->postings[1]->credit_pence, 30000);
    assert_int_equal(first->postings[1]->balance_pence, 70000);
    assert_int_equal(first->postings[1]->effective_date, 20240701);
    assert_int_equal(first->next_after_sequence, W + 2);
    get.after_sequence = first->next_after_sequence;
    fundflow__v1__get_account_history_response__free_unpacked(first, NULL);
    Fundflow__V1__GetAccountHistoryResponse *second =
        (Fundflow__V1__GetAccountHistoryResponse *)query_ok(f->ledger, "GetAccountHistory",
                                                            &get.base);
    assert_int_equal(second->n_postings, 1);
    assert_int_equal(second->postings[0]->balance_pence, 75000);
    assert_int_equal(second->next_after_sequence, 0);
    fundflow__v1__get_account_history_response__free_unpacked(second, NULL);
    get.purpose = 0;
    assert_string_equal(query_refused(f->ledger, "GetAccountHistory", &get.base).field,
                        "purpose");
    /* A code nobody registered is not_found, not an empty history. */
    get.purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET;
    get.org_code = (char *)"NOPE";
    ff_failure unknown = query_refused(f->ledger, "GetAccountHistory", &get.base);
    assert_int_equal(unknown.code, FF_ERR_ORG_UNKNOWN);
    assert_string_equal(unknown.field, "org_code");
}

static void test_events_list_get_and_verify(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    list.after_sequence = W - 1;
    list.page_size = 3;
    Fundflow__V1__ListEventsResponse *page =
        (Fundflow__V1__ListEventsResponse *)query_ok(f->ledger, "ListEvents", &list.base);
    assert_int_equal(page->n_events, 3);
    assert_int_equal(page->events[0]->sequence, W);
    assert_string_equal(page->events[2]->idempotency_key, "q9");
    assert_int_equal(page->next_after_sequence, W + 2);
    fundflow__v1__list_events_response__free_unpacked(page, NULL);
    list.after_sequence = W + 2;
    page = (Fundflow__V1__ListEventsResponse *)query_ok(f->ledger, "ListEvents", &list.base);
    assert_int_equal(page->n_events, 1);
    assert_int_equal(page->next_after_sequence, 0);
    fundflow__v1__list_events_response__free_unpacked(page, NULL);
    Fundflow__V1__GetEventRequest get = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    get.sequence = W + 3;
    Fundflow__V1__EventRecord *record =
        (Fundflow__V1__EventRecord *)query_ok(f->ledger, "GetEvent", &get.base);
    assert_int_equal(record->effective_date, 20241001);
    assert_int_equal(record->event->allocation_issued->amount_pence, 5000);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    get.sequence = W + 4;
    assert_int_equal(query_refused(f->ledger, "GetEvent", &get.base).code, FF_ERR_EVENT_UNKNOWN);
    Fundflow__V1__VerifyLedgerRequest verify = FUNDFLOW__V1__VERIFY_LEDGER_REQUEST__INIT;
    Fundflow__V1__VerifyLedgerResponse *report =
        (Fundflow__V1__VerifyLedgerResponse *)query_ok(f->ledger, "VerifyLedger", &verify.base);
    assert_true(report->ok);
    assert_string_equal(report->code, "ok");
    assert_int_equal(report->events_checked, W + 3);
    fundflow__v1__verify_ledger_response__free_unpacked(report, NULL);
    assert_null(query_handler_find("SubmitCommands"));
}

/* Fails the nth store read of one RPC, for every n until the RPC has no read left to fail. Each
 * failure must come back as a refusal with a reason and no response (the sanitizer build would
 * see a response leaked on the way), and the RPC must answer once no read fails. */
static void query_read_faults_sweep(ff_ledger *ledger, const char *method,
                                    const ProtobufCMessage *request) {
    query_handler handler = query_handler_find(method);
    bool answered = false;
    size_t refused = 0;
    for (uint64_t nth = 1; nth <= 200 && !answered; nth++) {
        ProtobufCMessage *response = NULL;
        ff_failure failure;
        failure_clear(&failure);
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = handler(ledger, national(), request, &response, &failure);
        store_fault_clear();
        if (err == FF_OK) {
            /* The fault came after the last read, or fell on one the RPC may do without. */
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
    /* At least the read transaction's own begin can fail. */
    assert_true(answered && refused > 0);
    print_message("%s: refused at %zu of its reads\n", method, refused);
}

static void test_a_failed_read_refuses_and_frees_the_response(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetOrgRequest org = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
    org.code = (char *)"06H";
    query_read_faults_sweep(f->ledger, "GetOrg", &org.base);
    Fundflow__V1__ListOrgsRequest orgs = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    orgs.page_size = 3;
    query_read_faults_sweep(f->ledger, "ListOrgs", &orgs.base);
    Fundflow__V1__GetPositionRequest position = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    position.org_code = (char *)"QUE";
    position.stream = CORE;
    position.financial_year = TEST_YEAR;
    position.rollup = true;
    position.as_at_date = 20240801;
    query_read_faults_sweep(f->ledger, "GetPosition", &position.base);
    Fundflow__V1__GetAccountHistoryRequest history =
        FUNDFLOW__V1__GET_ACCOUNT_HISTORY_REQUEST__INIT;
    history.org_code = (char *)"QUE";
    history.stream = CORE;
    history.financial_year = TEST_YEAR;
    history.purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__RECEIVED;
    query_read_faults_sweep(f->ledger, "GetAccountHistory", &history.base);
    Fundflow__V1__ListEventsRequest events = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    events.page_size = 4;
    query_read_faults_sweep(f->ledger, "ListEvents", &events.base);
    Fundflow__V1__GetFundingFlowsRequest flows = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    flows.financial_year = TEST_YEAR;
    query_read_faults_sweep(f->ledger, "GetFundingFlows", &flows.base);
    Fundflow__V1__ListContractsRequest contracts = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    query_read_faults_sweep(f->ledger, "ListContracts", &contracts.base);
    Fundflow__V1__GetHistoryRequest named = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    named.name = (char *)"QUE";
    query_read_faults_sweep(f->ledger, "GetHistory", &named.base);
}

/* A contract world for the domain RPCs: QUE funds trust RGT under an outcome-based contract,
 * pays its first month and reports one outcome, and holds service line SL01 by delegation. */
static int domain_fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ff_ledger *ledger = f->ledger;
    test_world_register(ledger);
    Fundflow__V1__Command *commands[] = {
        test_org("d8", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
        test_service_line("d9", "SL01", false),
        test_delegation("d10", "D-QUE-1", "QUE", "SL01", "QUE",
                        FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL, 20240401, 0),
        test_allocation("d11", "X24", "QUE", CORE, TEST_YEAR, 120000000),
        test_contract("d12", "C1", "QUE", "RGT", FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED, CORE,
                      12000000, 600000, "MA:6000,MB:4000"),
        test_payment("d13", "C1", 1, 1000000),
        test_dated(test_outcome("d14", "C1", "MA", 5000), 20240701),
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        ledger_result result;
        ff_err err = test_submit(ledger, commands[i], &result);
        if (err != FF_OK) fail_msg("command %zu: %s", i, result.failure.detail);
    }
    *state = f;
    return 0;
}

static void test_a_failed_domain_read_refuses_and_frees_the_response(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetContractPositionRequest contract =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    contract.contract_id = (char *)"C1";
    query_read_faults_sweep(f->ledger, "GetContractPosition", &contract.base);
    Fundflow__V1__ListContractsRequest contracts = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    contracts.commissioner_code = (char *)"QUE";
    query_read_faults_sweep(f->ledger, "ListContracts", &contracts.base);
    Fundflow__V1__GetDelegationsRequest delegations = FUNDFLOW__V1__GET_DELEGATIONS_REQUEST__INIT;
    delegations.service_line_code = (char *)"SL01";
    delegations.icb_code = (char *)"QUE";
    delegations.date = 20240601;
    query_read_faults_sweep(f->ledger, "GetDelegations", &delegations.base);
    delegations.date = 20230601;
    query_read_faults_sweep(f->ledger, "GetDelegations", &delegations.base);
    Fundflow__V1__GetPositionRequest position = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    position.org_code = (char *)"QUE";
    position.stream = CORE;
    position.financial_year = TEST_YEAR;
    query_read_faults_sweep(f->ledger, "GetPosition", &position.base);
    position.as_at_date = 20240801;
    query_read_faults_sweep(f->ledger, "GetPosition", &position.base);
    Fundflow__V1__GetHistoryRequest named = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    named.name = (char *)"C1";
    query_read_faults_sweep(f->ledger, "GetHistory", &named.base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define QUERY_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        QUERY_TEST(test_get_org),
        QUERY_TEST(test_list_orgs_pages_and_filters),
        QUERY_TEST(test_positions_now_as_at_sequence_and_as_at_date),
        QUERY_TEST(test_account_history_pages),
        QUERY_TEST(test_events_list_get_and_verify),
        QUERY_TEST(test_a_failed_read_refuses_and_frees_the_response),
        cmocka_unit_test_setup_teardown(test_a_failed_domain_read_refuses_and_frees_the_response,
                                        domain_fixture_setup, test_fixture_teardown),
#undef QUERY_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
