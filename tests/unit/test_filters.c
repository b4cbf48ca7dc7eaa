/* Tests of what the read RPCs refuse in what a request names: an organisation, contract or
 * service line that does not exist is not_found naming the field and the code, for a national
 * principal, while a scoped one is told out_of_scope as for another's (so that it cannot probe
 * which codes exist); and an as_at_sequence beyond the head is refused naming the head rather
 * than read as the head. Each refusal here was an empty answer, or the head, before. */
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
#define READER FUNDFLOW__V1__PRINCIPAL_ROLE__READER
#define TODAY 20250101u

/* The world (events 1 to TEST_WORLD_EVENTS = 16: X24, Y61, QUE, QJG, 06H, 07K, PC1, then X24's
 * 9 revenue limits), then: 17 trust RGT under QUE; 18 X24 allocates £1,000.00 to QUE; 19 QUE
 * contracts C1 with RGT for £120.00; 20 service line SL01. The head is event 20. */
#define HEAD (TEST_WORLD_EVENTS + 4u)
static_assert(HEAD == 20, "the refusals below name events 20 and 21");

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    assert_int_equal(test_submit(f->ledger, test_org("f8", "RGT", "Provider A",
                                                     FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
                                 NULL),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger, test_allocation("f9", "X24", "QUE", CORE, TEST_YEAR,
                                                            100000),
                                 NULL),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger, test_contract("f10", "C1", "QUE", "RGT", BLOCK, CORE,
                                                          12000, 0, NULL),
                                 NULL),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger, test_service_line("f11", "SL01", false), NULL),
                     FF_OK);
    assert_int_equal(test_head_sequence(f->ledger), HEAD);
    *state = f;
    return 0;
}

static access_principal principal(const char *scope) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "%s", scope[0] ? "reader" : "admin");
    snprintf(who.scope, sizeof who.scope, "%s", scope);
    who.role = scope[0] ? READER : FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN;
    who.today = TODAY;
    return who;
}

static void ask_ok(ff_ledger *ledger, const access_principal *who, const char *method,
                   const ProtobufCMessage *request) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_handler_find(method)(ledger, who, request, &response, &failure);
    if (err != FF_OK) fail_msg("%s as %s: %s", method, who->name, failure.detail);
    assert_non_null(response);
    protobuf_c_message_free_unpacked(response, NULL);
}

/* Asserts a refusal with this code, naming field, whose sentence holds words. */
static void assert_refused(ff_ledger *ledger, const access_principal *who, const char *method,
                           const ProtobufCMessage *request, ff_err code, const char *field,
                           const char *words) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_handler_find(method)(ledger, who, request, &response, &failure);
    assert_null(response);
    if (err != code || failure.code != code) {
        fail_msg("%s as %s: expected %s, got %s: %s", method, who->name, ff_err_name(code),
                 ff_err_name(err), failure.detail);
    }
    assert_string_equal(failure.field, field);
    if (strstr(failure.detail, words) == NULL) {
        fail_msg("%s: \"%s\" does not say \"%s\"", method, failure.detail, words);
    }
}

/* ---- unknown codes ---- */

static void test_contract_filters_name_the_unknown_code(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal(""), que = principal("QUE");
    Fundflow__V1__ListContractsRequest list = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    list.commissioner_code = (char *)"QUE";
    ask_ok(f->ledger, &admin, "ListContracts", &list.base);
    list.commissioner_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "ListContracts", &list.base, FF_ERR_ORG_UNKNOWN,
                   "commissioner_code", "NOPE");
    /* A scoped principal cannot tell an unknown code from another's. */
    assert_refused(f->ledger, &que, "ListContracts", &list.base, FF_ERR_OUT_OF_SCOPE,
                   "commissioner_code", "NOPE");
    list.commissioner_code = (char *)"";
    list.provider_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "ListContracts", &list.base, FF_ERR_ORG_UNKNOWN,
                   "provider_code", "NOPE");
    list.provider_code = (char *)"";
    list.collaborative_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "ListContracts", &list.base, FF_ERR_ORG_UNKNOWN,
                   "collaborative_code", "NOPE");
}

static void test_flows_root_names_the_unknown_code(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal(""), que = principal("QUE");
    Fundflow__V1__GetFundingFlowsRequest get = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    get.financial_year = TEST_YEAR;
    get.root_code = (char *)"QUE";
    ask_ok(f->ledger, &admin, "GetFundingFlows", &get.base);
    get.root_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "GetFundingFlows", &get.base, FF_ERR_ORG_UNKNOWN,
                   "root_code", "NOPE");
    assert_refused(f->ledger, &que, "GetFundingFlows", &get.base, FF_ERR_OUT_OF_SCOPE,
                   "root_code", "NOPE");
}

static void test_history_name_must_exist(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal(""), que = principal("QUE");
    Fundflow__V1__GetHistoryRequest get = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    get.name = (char *)"QUE";
    ask_ok(f->ledger, &admin, "GetHistory", &get.base);
    get.name = (char *)"C1";
    ask_ok(f->ledger, &admin, "GetHistory", &get.base);
    get.name = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "GetHistory", &get.base, FF_ERR_NOT_FOUND, "name", "NOPE");
    assert_refused(f->ledger, &que, "GetHistory", &get.base, FF_ERR_OUT_OF_SCOPE, "name", "NOPE");
}

static void test_org_list_parent_must_exist(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal(""), que = principal("QUE");
    Fundflow__V1__ListOrgsRequest list = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    list.parent_code = (char *)"QUE";
    ask_ok(f->ledger, &admin, "ListOrgs", &list.base);
    list.parent_code = (char *)"NOPE";
    /* Organisations are reference data: not_found for everyone. */
    assert_refused(f->ledger, &admin, "ListOrgs", &list.base, FF_ERR_ORG_UNKNOWN, "parent_code",
                   "NOPE");
    assert_refused(f->ledger, &que, "ListOrgs", &list.base, FF_ERR_ORG_UNKNOWN, "parent_code",
                   "NOPE");
}

static void test_delegation_register_names_the_unknown_code(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("");
    Fundflow__V1__GetDelegationsRequest get = FUNDFLOW__V1__GET_DELEGATIONS_REQUEST__INIT;
    get.service_line_code = (char *)"SL01";
    get.icb_code = (char *)"QUE";
    get.date = TEST_EFFECTIVE_DATE;
    ask_ok(f->ledger, &admin, "GetDelegations", &get.base);
    get.icb_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "GetDelegations", &get.base, FF_ERR_ORG_UNKNOWN,
                   "icb_code", "NOPE");
    get.icb_code = (char *)"QUE";
    get.service_line_code = (char *)"NOPE";
    assert_refused(f->ledger, &admin, "GetDelegations", &get.base, FF_ERR_SERVICE_LINE_UNKNOWN,
                   "service_line_code", "NOPE");
}

/* ---- as at beyond the head ---- */

static void test_contract_position_as_at_beyond_the_head(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("");
    Fundflow__V1__GetContractPositionRequest get =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    get.contract_id = (char *)"C1";
    get.as_at_sequence = HEAD;
    ask_ok(f->ledger, &admin, "GetContractPosition", &get.base);
    get.as_at_sequence = HEAD + 1;
    assert_refused(f->ledger, &admin, "GetContractPosition", &get.base,
                   FF_ERR_AS_AT_BEYOND_HEAD, "as_at_sequence",
                   "as_at_sequence 21 is beyond the ledger's head, event 20");
    get.as_at_sequence = UINT64_MAX;
    assert_refused(f->ledger, &admin, "GetContractPosition", &get.base,
                   FF_ERR_AS_AT_BEYOND_HEAD, "as_at_sequence", "event 20");
}

static void test_position_as_at_beyond_the_head(void **state) {
    test_fixture *f = *state;
    access_principal admin = principal("");
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)"QUE";
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.as_at_sequence = HEAD;
    ask_ok(f->ledger, &admin, "GetPosition", &get.base);
    get.as_at_sequence = HEAD + 1;
    assert_refused(f->ledger, &admin, "GetPosition", &get.base, FF_ERR_AS_AT_BEYOND_HEAD,
                   "as_at_sequence", "as_at_sequence 21 is beyond the ledger's head, event 20");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_filters_name_the_unknown_code),
        cmocka_unit_test(test_flows_root_names_the_unknown_code),
        cmocka_unit_test(test_history_name_must_exist),
        cmocka_unit_test(test_org_list_parent_must_exist),
        cmocka_unit_test(test_delegation_register_names_the_unknown_code),
        cmocka_unit_test(test_contract_position_as_at_beyond_the_head),
        cmocka_unit_test(test_position_as_at_beyond_the_head),
    };
    return cmocka_run_group_tests(tests, fixture_setup, test_fixture_teardown);
}
