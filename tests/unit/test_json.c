/* Unit tests for json_codec.c: exact output, round trips through protobuf bytes, accepted input
 * forms, every refusal with the path it names, and the nesting limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/ledger.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"
#include "json_codec.h"

#include <jansson.h>

/* Room for any decode error the codec writes, with space to spare so truncation is not tested by
 * accident. */
#define TEST_ERROR_BYTES 512

/* Room for the small documents the refusal tests build around one value. */
#define TEST_DOCUMENT_BYTES 512

/* ---- Helpers ---- */

/* Lets a test point a message's char * field at a literal: the encoder only reads it. */
static char *test_text(const char *literal) {
    return (char *)literal;
}

static void test_pack(const ProtobufCMessage *message, uint8_t **bytes_out, size_t *size_out) {
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *bytes = malloc(size > 0 ? size : 1);
    assert_non_null(bytes);
    assert_int_equal(protobuf_c_message_pack(message, bytes), size);
    *bytes_out = bytes;
    *size_out = size;
}

/* Decodes text as a message of descriptor's type and fails the test unless it succeeds. */
static ProtobufCMessage *test_decode(const ProtobufCMessageDescriptor *descriptor, const char *text) {
    char error[TEST_ERROR_BYTES] = "";
    ProtobufCMessage *message = NULL;
    ff_err rc = json_codec_decode(descriptor, text, strlen(text), &message, error, sizeof error);
    if (rc != FF_OK) print_error("decoding %s gave %s: %s\n", text, ff_err_name(rc), error);
    assert_int_equal(rc, FF_OK);
    assert_non_null(message);
    assert_true(protobuf_c_message_check(message));
    return message;
}

/* Encodes message, decodes the text, and checks both pack to the same bytes and the decoded
 * message encodes to the same text. Returns the text for the caller to inspect and free. */
static char *test_round_trip(const ProtobufCMessage *message) {
    char *text = NULL;
    size_t length = 0;
    assert_int_equal(json_codec_encode(message, &text, &length), FF_OK);
    assert_int_equal(strlen(text), length);
    ProtobufCMessage *decoded = test_decode(message->descriptor, text);

    uint8_t *expected = NULL, *actual = NULL;
    size_t expected_size = 0, actual_size = 0;
    test_pack(message, &expected, &expected_size);
    test_pack(decoded, &actual, &actual_size);
    if (expected_size != actual_size || memcmp(expected, actual, expected_size) != 0) {
        print_error("%s did not round trip through %s\n", message->descriptor->name, text);
    }
    assert_int_equal(expected_size, actual_size);
    assert_memory_equal(expected, actual, expected_size);

    char *text_again = NULL;
    size_t length_again = 0;
    assert_int_equal(json_codec_encode(decoded, &text_again, &length_again), FF_OK);
    assert_string_equal(text, text_again);
    free(text_again);
    free(expected);
    free(actual);
    protobuf_c_message_free_unpacked(decoded, NULL);
    return text;
}

static void test_encode_expect(const ProtobufCMessage *message, const char *expected) {
    char *text = NULL;
    size_t length = 0;
    assert_int_equal(json_codec_encode(message, &text, &length), FF_OK);
    assert_string_equal(text, expected);
    assert_int_equal(length, strlen(expected));
    free(text);
}

/* Decodes text expecting FF_ERR_MALFORMED with fragment somewhere in the error. */
static void test_refuse(const ProtobufCMessageDescriptor *descriptor, const char *text,
                        const char *fragment) {
    char error[TEST_ERROR_BYTES] = "";
    ProtobufCMessage *message = (ProtobufCMessage *)&error;
    ff_err rc = json_codec_decode(descriptor, text, strlen(text), &message, error, sizeof error);
    if (rc != FF_ERR_MALFORMED || strstr(error, fragment) == NULL) {
        print_error("decoding %s as %s gave %s: \"%s\"; expected malformed with \"%s\"\n", text,
                    descriptor->name, ff_err_name(rc), error, fragment);
    }
    assert_int_equal(rc, FF_ERR_MALFORMED);
    assert_null(message);
    assert_non_null(strstr(error, fragment));
}

/* Refuses {"field": value} as a message of descriptor's type. */
static void test_refuse_value(const ProtobufCMessageDescriptor *descriptor, const char *field,
                              const char *value, const char *fragment) {
    char text[TEST_DOCUMENT_BYTES];
    snprintf(text, sizeof text, "{\"%s\":%s}", field, value);
    test_refuse(descriptor, text, fragment);
}

/* ---- Encoding ---- */

static void test_encode_position_exact(void **state) {
    (void)state;
    Fundflow__V1__Position position = FUNDFLOW__V1__POSITION__INIT;
    position.org_code = test_text("QUE");
    position.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    position.financial_year = 2024;
    position.received_pence = 123456;
    position.funding_drawn_pence = -5;
    test_encode_expect(&position.base,
                       "{\"org_code\":\"QUE\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
                       "\"as_at_sequence\":\"0\",\"as_at_date\":0,\"received_pence\":\"123456\","
                       "\"passed_on_pence\":\"0\",\"headroom_pence\":\"0\","
                       "\"funding_drawn_pence\":\"-5\","
                       "\"committed_pence\":\"0\",\"paid_pence\":\"0\",\"withheld_pence\":\"0\",\"earned_pence\":\"0\",\"released_pence\":\"0\",\"rollup\":false,\"included_codes\":[],"
                       "\"held_pence\":\"0\",\"contract_value_pence\":\"0\",\"internal_transfers_pence\":\"0\","
                       "\"internal_contract_value_pence\":\"0\",\"internal_contract_paid_pence\":\"0\","
                       "\"streams\":[],\"contracts\":[],\"commissioner_totals\":[]}");

    /* An enum number with no name is written as the number. */
    position.stream = (Fundflow__V1__Stream)42;
    position.org_code = test_text("");
    position.funding_drawn_pence = INT64_MIN;
    test_encode_expect(&position.base,
                       "{\"org_code\":\"\",\"stream\":42,\"financial_year\":2024,"
                       "\"as_at_sequence\":\"0\",\"as_at_date\":0,\"received_pence\":\"123456\","
                       "\"passed_on_pence\":\"0\",\"headroom_pence\":\"0\","
                       "\"funding_drawn_pence\":\"-9223372036854775808\","
                       "\"committed_pence\":\"0\",\"paid_pence\":\"0\",\"withheld_pence\":\"0\",\"earned_pence\":\"0\",\"released_pence\":\"0\",\"rollup\":false,\"included_codes\":[],"
                       "\"held_pence\":\"0\",\"contract_value_pence\":\"0\",\"internal_transfers_pence\":\"0\","
                       "\"internal_contract_value_pence\":\"0\",\"internal_contract_paid_pence\":\"0\","
                       "\"streams\":[],\"contracts\":[],\"commissioner_totals\":[]}");
}

static void test_encode_server_info_exact(void **state) {
    (void)state;
    uint8_t hash[] = {0xFB, 0xFF};
    Fundflow__V1__ServerInfoResponse info = FUNDFLOW__V1__SERVER_INFO_RESPONSE__INIT;
    info.version = test_text("0.1.0 \"beta\"\n\xC2\xA3");
    info.head_sequence = UINT64_MAX;
    info.head_hash.data = hash;
    info.head_hash.len = sizeof hash;
    info.started_at_us = 1711929600000000LL;
    test_encode_expect(&info.base,
                       "{\"version\":\"0.1.0 \\\"beta\\\"\\n\xC2\xA3\",\"head_sequence\":"
                       "\"18446744073709551615\",\"head_hash\":\"+/8=\",\"event_count\":\"0\","
                       "\"uptime_seconds\":\"0\",\"started_at_us\":\"1711929600000000\","
                       "\"signing_public_key\":\"\",\"signing_key_id\":\"\",\"plugins\":[],"
                       "\"cluster_node_id\":\"0\",\"cluster_role\":\"CLUSTER_ROLE_UNSPECIFIED\","
                       "\"cluster_leader_url\":\"\",\"cluster_applied_index\":\"0\"}");

    info.version = test_text("");
    info.head_sequence = 0;
    info.head_hash.data = NULL;
    info.head_hash.len = 0;
    info.started_at_us = 0;
    test_encode_expect(&info.base,
                       "{\"version\":\"\",\"head_sequence\":\"0\",\"head_hash\":\"\",\"event_count\":"
                       "\"0\",\"uptime_seconds\":\"0\",\"started_at_us\":\"0\","
                       "\"signing_public_key\":\"\",\"signing_key_id\":\"\",\"plugins\":[],"
                       "\"cluster_node_id\":\"0\",\"cluster_role\":\"CLUSTER_ROLE_UNSPECIFIED\","
                       "\"cluster_leader_url\":\"\",\"cluster_applied_index\":\"0\"}");
}

static void test_encode_omits_unset_messages(void **state) {
    (void)state;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    test_encode_expect(&event.base, "{}");

    Fundflow__V1__Command command = FUNDFLOW__V1__COMMAND__INIT;
    command.idempotency_key = test_text("k");
    command.effective_date = 20240401;
    test_encode_expect(&command.base, "{\"idempotency_key\":\"k\",\"effective_date\":20240401}");

    Fundflow__V1__Reversal reversal = FUNDFLOW__V1__REVERSAL__INIT;
    reversal.reversed_sequence = 7;
    reversal.reason = test_text("duplicate");
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVERSAL;
    event.reversal = &reversal;
    command.event = &event;
    test_encode_expect(&command.base,
                       "{\"idempotency_key\":\"k\",\"effective_date\":20240401,\"event\":{\"reversal\":"
                       "{\"reversed_sequence\":\"7\",\"reason\":\"duplicate\"}}}");

    Fundflow__V1__ListOrgsResponse orgs = FUNDFLOW__V1__LIST_ORGS_RESPONSE__INIT;
    test_encode_expect(&orgs.base, "{\"orgs\":[],\"next_page_token\":\"\"}");
}

static void test_encode_replaces_invalid_utf8(void **state) {
    (void)state;
    Fundflow__V1__GetOrgRequest request = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
    request.code = test_text("a\xFF" "b\xED\xA0\x80" "c\xC3");
    test_encode_expect(&request.base,
                       "{\"code\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                       "c\xEF\xBF\xBD\"}");
}

/* ---- Round trips ---- */

static void test_round_trip_submit_commands(void **state) {
    (void)state;
    Fundflow__V1__OrgRegistered org = FUNDFLOW__V1__ORG_REGISTERED__INIT;
    org.code = test_text("QUE");
    org.name = test_text("NHS Cambridgeshire and Peterborough ICB \xE2\x80\x94 \"test\" \\ /");
    org.kind = FUNDFLOW__V1__ORG_KIND__ICB;
    org.parent_code = test_text("Y61");
    Fundflow__V1__AllocationIssued allocation = FUNDFLOW__V1__ALLOCATION_ISSUED__INIT;
    allocation.funder_code = test_text("X24");
    allocation.recipient_code = test_text("QUE");
    allocation.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    allocation.financial_year = UINT32_MAX;
    allocation.amount_pence = INT64_MAX;
    allocation.recurrent = 1;
    allocation.reference = test_text("AL/2024/001");
    Fundflow__V1__BudgetDelegated budget = FUNDFLOW__V1__BUDGET_DELEGATED__INIT;
    budget.from_code = test_text("QUE");
    budget.to_code = test_text("06H");
    budget.stream = FUNDFLOW__V1__STREAM__BETTER_CARE_FUND;
    budget.financial_year = 2024;
    budget.amount_pence = -1;
    Fundflow__V1__Reversal reversal = FUNDFLOW__V1__REVERSAL__INIT;
    reversal.reversed_sequence = UINT64_MAX;
    reversal.reason = test_text("entered twice\tby mistake");

    Fundflow__V1__Event events[6];
    Fundflow__V1__Command commands[6];
    Fundflow__V1__Command *command_pointers[6];
    for (size_t i = 0; i < 6; i++) {
        fundflow__v1__event__init(&events[i]);
        fundflow__v1__command__init(&commands[i]);
        commands[i].idempotency_key = test_text("key");
        commands[i].effective_date = (uint32_t)(20240401 + i);
        commands[i].event = &events[i];
        command_pointers[i] = &commands[i];
    }
    events[0].kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    events[0].org_registered = &org;
    events[1].kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    events[1].allocation_issued = &allocation;
    events[2].kind_case = FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED;
    events[2].budget_delegated = &budget;
    events[3].kind_case = FUNDFLOW__V1__EVENT__KIND_REVERSAL;
    events[3].reversal = &reversal;
    /* The fifth command's event has no kind chosen, and the sixth command has no event. */
    commands[5].event = NULL;

    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.n_commands = 6;
    request.commands = command_pointers;
    request.linked = 1;
    free(test_round_trip(&request.base));

    request.n_commands = 0;
    request.commands = NULL;
    request.linked = 0;
    char *text = test_round_trip(&request.base);
    assert_string_equal(text, "{\"commands\":[],\"linked\":false,\"dry_run\":false}");
    free(text);
    request.dry_run = 1;
    text = test_round_trip(&request.base);
    assert_string_equal(text, "{\"commands\":[],\"linked\":false,\"dry_run\":true}");
    free(text);
}

static void test_round_trip_records(void **state) {
    (void)state;
    Fundflow__V1__OrgRecord org = FUNDFLOW__V1__ORG_RECORD__INIT;
    org.code = test_text("X24");
    org.name = test_text("NHS England");
    org.kind = FUNDFLOW__V1__ORG_KIND__NHSE;
    org.registered_sequence = 1;
    org.registered_date = 20240401;
    free(test_round_trip(&org.base));

    Fundflow__V1__OrgRecord *org_pointers[] = {&org, &org};
    Fundflow__V1__ListOrgsResponse orgs = FUNDFLOW__V1__LIST_ORGS_RESPONSE__INIT;
    orgs.n_orgs = 2;
    orgs.orgs = org_pointers;
    orgs.next_page_token = test_text("X24");
    free(test_round_trip(&orgs.base));

    Fundflow__V1__Position position = FUNDFLOW__V1__POSITION__INIT;
    position.org_code = test_text("QUE");
    position.stream = FUNDFLOW__V1__STREAM__CAPITAL;
    position.as_at_sequence = UINT64_MAX;
    position.received_pence = INT64_MIN;
    position.passed_on_pence = INT64_MAX;
    free(test_round_trip(&position.base));

    Fundflow__V1__AccountPosting postings[3];
    Fundflow__V1__AccountPosting *posting_pointers[3];
    for (size_t i = 0; i < 3; i++) {
        fundflow__v1__account_posting__init(&postings[i]);
        postings[i].sequence = i * 1000000007ULL;
        postings[i].debit_pence = (int64_t)i * -100;
        postings[i].balance_pence = (int64_t)i << 40;
        posting_pointers[i] = &postings[i];
    }
    Fundflow__V1__GetAccountHistoryResponse history = FUNDFLOW__V1__GET_ACCOUNT_HISTORY_RESPONSE__INIT;
    history.n_postings = 3;
    history.postings = posting_pointers;
    history.next_after_sequence = 2;
    free(test_round_trip(&history.base));

    Fundflow__V1__VerifyLedgerResponse verify = FUNDFLOW__V1__VERIFY_LEDGER_RESPONSE__INIT;
    verify.code = test_text("hash_mismatch");
    verify.sequence = 12;
    verify.reason = test_text("bytes differ");
    free(test_round_trip(&verify.base));

    Fundflow__V1__VerifyLedgerRequest empty = FUNDFLOW__V1__VERIFY_LEDGER_REQUEST__INIT;
    char *text = test_round_trip(&empty.base);
    assert_string_equal(text, "{}");
    free(text);
}

static void test_round_trip_bytes(void **state) {
    (void)state;
    uint8_t hash[33];
    for (size_t i = 0; i < sizeof hash; i++) hash[i] = (uint8_t)(i * 37 + 250);
    Fundflow__V1__ServerInfoResponse info = FUNDFLOW__V1__SERVER_INFO_RESPONSE__INIT;
    info.version = test_text("0.1.0");
    info.head_hash.data = hash;
    /* Every length up to 33 covers each amount of padding many times over. */
    for (size_t length = 0; length <= sizeof hash; length++) {
        info.head_hash.len = length;
        info.uptime_seconds = length;
        free(test_round_trip(&info.base));
    }
}

static void test_round_trip_event_records(void **state) {
    (void)state;
    uint8_t previous[32] = {0};
    uint8_t hash[32];
    for (size_t i = 0; i < sizeof hash; i++) hash[i] = (uint8_t)(0xFF - i);
    Fundflow__V1__AllocationIssued allocation = FUNDFLOW__V1__ALLOCATION_ISSUED__INIT;
    allocation.funder_code = test_text("X24");
    allocation.recipient_code = test_text("QUE");
    allocation.stream = FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE;
    allocation.financial_year = 2024;
    allocation.amount_pence = 150000000000;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    event.allocation_issued = &allocation;

    Fundflow__V1__EventRecord records[2];
    Fundflow__V1__EventRecord *record_pointers[2];
    for (size_t i = 0; i < 2; i++) {
        fundflow__v1__event_record__init(&records[i]);
        records[i].sequence = i + 1;
        records[i].recorded_at_us = 1711929600000000LL + (int64_t)i;
        records[i].effective_date = 20240401;
        records[i].actor = test_text("admin");
        records[i].idempotency_key = test_text("550e8400-e29b-41d4-a716-446655440000");
        records[i].event = &event;
        records[i].previous_hash.data = i == 0 ? previous : hash;
        records[i].previous_hash.len = 32;
        records[i].hash.data = hash;
        records[i].hash.len = 32;
        record_pointers[i] = &records[i];
    }
    Fundflow__V1__ListEventsResponse events = FUNDFLOW__V1__LIST_EVENTS_RESPONSE__INIT;
    events.n_events = 2;
    events.events = record_pointers;
    events.next_after_sequence = 2;
    free(test_round_trip(&events.base));
    free(test_round_trip(&records[0].base));

    Fundflow__V1__CommandResult results[2];
    Fundflow__V1__CommandResult *result_pointers[] = {&results[0], &results[1]};
    fundflow__v1__command_result__init(&results[0]);
    fundflow__v1__command_result__init(&results[1]);
    results[0].code = test_text("ok");
    results[0].sequence = 3;
    results[1].code = test_text("insufficient_headroom");
    results[1].twirp_code = test_text("failed_precondition");
    results[1].field = test_text("amount_pence");
    results[1].message = test_text("QUE holds \xC2\xA3" "1.00");
    results[1].account = test_text("QUE/CORE_SERVICES/2024/BUDGET");
    results[1].headroom_pence = 100;
    Fundflow__V1__SubmitCommandsResponse response = FUNDFLOW__V1__SUBMIT_COMMANDS_RESPONSE__INIT;
    response.n_results = 2;
    response.results = result_pointers;
    response.head_sequence = 3;
    free(test_round_trip(&response.base));
}

/* ---- Decoding: accepted forms ---- */

static void test_decode_camel_case(void **state) {
    (void)state;
    const char *text =
        "{\"commands\":[{\"idempotencyKey\":\"k1\",\"effectiveDate\":20240401,\"event\":"
        "{\"allocationIssued\":{\"funderCode\":\"X24\",\"recipientCode\":\"QUE\",\"stream\":"
        "\"CORE_SERVICES\",\"financialYear\":2024,\"amountPence\":\"1000\",\"recurrent\":true}}},"
        "{\"idempotency_key\":\"k2\",\"event\":{\"budget_delegated\":{\"from_code\":\"QUE\","
        "\"toCode\":\"06H\",\"amount_pence\":250}}}],\"linked\":true}";
    Fundflow__V1__SubmitCommandsRequest *request = (Fundflow__V1__SubmitCommandsRequest *)test_decode(
        &fundflow__v1__submit_commands_request__descriptor, text);
    assert_true(request->linked);
    assert_int_equal(request->n_commands, 2);
    Fundflow__V1__Command *first = request->commands[0];
    assert_string_equal(first->idempotency_key, "k1");
    assert_int_equal(first->effective_date, 20240401);
    assert_int_equal(first->event->kind_case, FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED);
    Fundflow__V1__AllocationIssued *allocation = first->event->allocation_issued;
    assert_string_equal(allocation->funder_code, "X24");
    assert_string_equal(allocation->recipient_code, "QUE");
    assert_int_equal(allocation->stream, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    assert_int_equal(allocation->financial_year, 2024);
    assert_true(allocation->amount_pence == 1000);
    assert_true(allocation->recurrent);
    /* Absent strings keep protobuf-c's shared empty default, as its unpacker leaves them. */
    assert_ptr_equal(allocation->reference, protobuf_c_empty_string);
    Fundflow__V1__Command *second = request->commands[1];
    assert_int_equal(second->effective_date, 0);
    assert_int_equal(second->event->kind_case, FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED);
    assert_string_equal(second->event->budget_delegated->to_code, "06H");
    assert_true(second->event->budget_delegated->amount_pence == 250);
    protobuf_c_message_free_unpacked(&request->base, NULL);
}

static void test_decode_integer_forms(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int64_t amount_pence;
    } cases[] = {
        {"{\"amount_pence\":1000}", 1000},
        {"{\"amount_pence\":\"1000\"}", 1000},
        {"{\"amount_pence\":0}", 0},
        {"{\"amount_pence\":\"0\"}", 0},
        {"{\"amount_pence\":-0}", 0},
        {"{\"amount_pence\":\"-0\"}", 0},
        {"{\"amount_pence\":\"-42\"}", -42},
        {"{\"amount_pence\":9223372036854775807}", INT64_MAX},
        {"{\"amount_pence\":\"9223372036854775807\"}", INT64_MAX},
        {"{\"amount_pence\":-9223372036854775808}", INT64_MIN},
        {"{\"amountPence\":\"-9223372036854775808\"}", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Fundflow__V1__AllocationIssued *allocation = (Fundflow__V1__AllocationIssued *)test_decode(
            &fundflow__v1__allocation_issued__descriptor, cases[i].text);
        assert_true(allocation->amount_pence == cases[i].amount_pence);
        protobuf_c_message_free_unpacked(&allocation->base, NULL);
    }

    Fundflow__V1__GetEventRequest *request = (Fundflow__V1__GetEventRequest *)test_decode(
        &fundflow__v1__get_event_request__descriptor, "{\"sequence\":\"18446744073709551615\"}");
    assert_true(request->sequence == UINT64_MAX);
    protobuf_c_message_free_unpacked(&request->base, NULL);

    Fundflow__V1__AllocationIssued *allocation = (Fundflow__V1__AllocationIssued *)test_decode(
        &fundflow__v1__allocation_issued__descriptor,
        "{\"financial_year\":\"4294967295\",\"stream\":3}");
    assert_true(allocation->financial_year == UINT32_MAX);
    assert_int_equal(allocation->stream, FUNDFLOW__V1__STREAM__SPECIALISED);
    protobuf_c_message_free_unpacked(&allocation->base, NULL);
}

static void test_decode_enum_forms(void **state) {
    (void)state;
    Fundflow__V1__OrgRegistered *org = (Fundflow__V1__OrgRegistered *)test_decode(
        &fundflow__v1__org_registered__descriptor, "{\"kind\":\"TRUST\"}");
    assert_int_equal(org->kind, FUNDFLOW__V1__ORG_KIND__TRUST);
    protobuf_c_message_free_unpacked(&org->base, NULL);
    org = (Fundflow__V1__OrgRegistered *)test_decode(&fundflow__v1__org_registered__descriptor,
                                                     "{\"kind\":10}");
    assert_int_equal(org->kind, FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE);
    protobuf_c_message_free_unpacked(&org->base, NULL);
    org = (Fundflow__V1__OrgRegistered *)test_decode(&fundflow__v1__org_registered__descriptor,
                                                     "{\"kind\":0}");
    assert_int_equal(org->kind, FUNDFLOW__V1__ORG_KIND__ORG_KIND_UNSPECIFIED);
    protobuf_c_message_free_unpacked(&org->base, NULL);
}

static void test_decode_bytes_forms(void **state) {
    (void)state;
    static const char *const spellings[] = {"+/8=", "+/8", "-_8=", "-_8"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char text[TEST_DOCUMENT_BYTES];
        snprintf(text, sizeof text, "{\"head_hash\":\"%s\"}", spellings[i]);
        Fundflow__V1__ServerInfoResponse *info = (Fundflow__V1__ServerInfoResponse *)test_decode(
            &fundflow__v1__server_info_response__descriptor, text);
        assert_int_equal(info->head_hash.len, 2);
        assert_memory_equal(info->head_hash.data, "\xFB\xFF", 2);
        protobuf_c_message_free_unpacked(&info->base, NULL);
    }
    Fundflow__V1__ServerInfoResponse *info = (Fundflow__V1__ServerInfoResponse *)test_decode(
        &fundflow__v1__server_info_response__descriptor, "{\"headHash\":\"\"}");
    assert_int_equal(info->head_hash.len, 0);
    assert_null(info->head_hash.data);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    info = (Fundflow__V1__ServerInfoResponse *)test_decode(
        &fundflow__v1__server_info_response__descriptor, "{\"head_hash\":\"YWJjZA\"}");
    assert_int_equal(info->head_hash.len, 4);
    assert_memory_equal(info->head_hash.data, "abcd", 4);
    protobuf_c_message_free_unpacked(&info->base, NULL);
}

static void test_decode_null_means_absent(void **state) {
    (void)state;
    Fundflow__V1__Command *command = (Fundflow__V1__Command *)test_decode(
        &fundflow__v1__command__descriptor,
        "{\"idempotency_key\":null,\"effectiveDate\":null,\"event\":null}");
    assert_ptr_equal(command->idempotency_key, protobuf_c_empty_string);
    assert_int_equal(command->effective_date, 0);
    assert_null(command->event);
    protobuf_c_message_free_unpacked(&command->base, NULL);

    Fundflow__V1__Event *event = (Fundflow__V1__Event *)test_decode(
        &fundflow__v1__event__descriptor, "{\"org_registered\":null,\"reversal\":{\"reason\":\"r\"}}");
    assert_int_equal(event->kind_case, FUNDFLOW__V1__EVENT__KIND_REVERSAL);
    assert_string_equal(event->reversal->reason, "r");
    protobuf_c_message_free_unpacked(&event->base, NULL);

    Fundflow__V1__SubmitCommandsRequest *request = (Fundflow__V1__SubmitCommandsRequest *)test_decode(
        &fundflow__v1__submit_commands_request__descriptor, "{\"commands\":null,\"linked\":null}");
    assert_int_equal(request->n_commands, 0);
    assert_null(request->commands);
    protobuf_c_message_free_unpacked(&request->base, NULL);
}

static void test_decode_ignores_unknown_fields(void **state) {
    (void)state;
    Fundflow__V1__GetOrgRequest *request = (Fundflow__V1__GetOrgRequest *)test_decode(
        &fundflow__v1__get_org_request__descriptor,
        "{\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"code\":\"QUE\",\"Code\":5,\"code_\":[]}");
    assert_string_equal(request->code, "QUE");
    assert_int_equal(request->base.n_unknown_fields, 0);
    protobuf_c_message_free_unpacked(&request->base, NULL);
}

/* The text need not end in a NUL: only length bytes are read. */
static void test_decode_reads_only_length(void **state) {
    (void)state;
    const char text[] = "{\"code\":\"QUE\"} and then anything";
    char error[TEST_ERROR_BYTES] = "";
    ProtobufCMessage *message = NULL;
    assert_int_equal(json_codec_decode(&fundflow__v1__get_org_request__descriptor, text, 14,
                                       &message, error, sizeof error),
                     FF_OK);
    assert_string_equal(((Fundflow__V1__GetOrgRequest *)message)->code, "QUE");
    protobuf_c_message_free_unpacked(message, NULL);

    char *unterminated = malloc(2);
    assert_non_null(unterminated);
    memcpy(unterminated, "{}", 2);
    assert_int_equal(json_codec_decode(&fundflow__v1__get_org_request__descriptor, unterminated, 2,
                                       &message, error, sizeof error),
                     FF_OK);
    protobuf_c_message_free_unpacked(message, NULL);
    free(unterminated);
}

/* ---- Decoding: refusals ---- */

static void test_refuse_exact_path(void **state) {
    (void)state;
    const char *text = "{\"commands\":[{},{},{\"event\":{\"allocation_issued\":{\"amount_pence\":"
                       "\"12x\"}}}]}";
    char error[TEST_ERROR_BYTES] = "";
    ProtobufCMessage *message = NULL;
    assert_int_equal(json_codec_decode(&fundflow__v1__submit_commands_request__descriptor, text,
                                       strlen(text), &message, error, sizeof error),
                     FF_ERR_MALFORMED);
    assert_null(message);
    assert_string_equal(error,
                        "commands[2].event.allocation_issued.amount_pence: \"12x\" is not an integer");
}

static void test_refuse_integers(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *allocation = &fundflow__v1__allocation_issued__descriptor;
    static const char *const not_integers[] = {
        "\"1.0\"", "\"1e3\"", "\" 1\"", "\"1 \"", "\"+1\"", "\"\"", "\"01\"", "\"-01\"", "\"00\"",
        "\"-\"", "\"--1\"", "\"0x10\"", "\"1,000\"", "\"\\u0661\"", "1.0", "1e3", "1.5", "-0.0",
    };
    for (size_t i = 0; i < sizeof not_integers / sizeof not_integers[0]; i++) {
        test_refuse_value(allocation, "amount_pence", not_integers[i],
                          "amount_pence: ");
        test_refuse_value(allocation, "amount_pence", not_integers[i], " is not an integer");
        test_refuse_value(allocation, "financialYear", not_integers[i],
                          "financial_year: ");
    }
    test_refuse_value(allocation, "amount_pence", "true", "amount_pence: expected an integer, given true");
    test_refuse_value(allocation, "amount_pence", "[]", "amount_pence: expected an integer, given an array");
    test_refuse_value(allocation, "amount_pence", "{}", "expected an integer, given an object");
    test_refuse_value(allocation, "amount_pence", "\"9223372036854775808\"",
                      "amount_pence: \"9223372036854775808\" is out of range for int64");
    test_refuse_value(allocation, "amount_pence", "\"-9223372036854775809\"", "out of range for int64");
    test_refuse_value(allocation, "amount_pence", "\"99999999999999999999999\"",
                      "out of range for int64");
    test_refuse_value(allocation, "financial_year", "4294967296",
                      "financial_year: 4294967296 is out of range for uint32");
    test_refuse_value(allocation, "financial_year", "\"4294967296\"", "out of range for uint32");
    test_refuse_value(allocation, "financial_year", "-1", "financial_year: -1 is out of range");
    const ProtobufCMessageDescriptor *reversal = &fundflow__v1__reversal__descriptor;
    test_refuse_value(reversal, "reversed_sequence", "-1", "-1 is out of range for uint64");
    test_refuse_value(reversal, "reversedSequence", "\"-1\"", "reversed_sequence: \"-1\" is out of range");
    test_refuse_value(reversal, "reversed_sequence", "\"18446744073709551616\"", "out of range for uint64");
    /* jansson holds JSON integers in a long long, so larger ones must come as strings. */
    test_refuse_value(reversal, "reversed_sequence", "18446744073709551615", "not valid JSON");
}

static void test_refuse_enums_bools_strings(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *allocation = &fundflow__v1__allocation_issued__descriptor;
    test_refuse_value(allocation, "stream", "\"NOPE\"",
                      "stream: \"NOPE\" is not a value of fundflow.v1.Stream");
    test_refuse_value(allocation, "stream", "\"core_services\"", "is not a value of");
    test_refuse_value(allocation, "stream", "\"3\"", "stream: \"3\" is not a value of");
    test_refuse_value(allocation, "stream", "42", "stream: 42 is not a value of fundflow.v1.Stream");
    test_refuse_value(allocation, "stream", "-1", "-1 is not a value of");
    test_refuse_value(allocation, "stream", "4294967299", "4294967299 is not a value of");
    test_refuse_value(allocation, "stream", "1.0", "stream: expected the name or number");
    test_refuse_value(allocation, "stream", "true", "given true");
    test_refuse_value(allocation, "recurrent", "\"true\"", "recurrent: expected true or false, given a string");
    test_refuse_value(allocation, "recurrent", "1", "recurrent: expected true or false, given an integer");
    test_refuse_value(allocation, "recurrent", "0", "expected true or false");
    test_refuse_value(allocation, "funderCode", "5", "funder_code: expected a string, given an integer");
    test_refuse_value(allocation, "funder_code", "false", "funder_code: expected a string, given false");
    test_refuse_value(allocation, "reference", "{}", "reference: expected a string, given an object");
    test_refuse_value(allocation, "reference", "[\"a\"]", "reference: expected a string, given an array");
}

static void test_refuse_bytes(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *info = &fundflow__v1__server_info_response__descriptor;
    static const char *const not_base64[] = {
        "\"A\"",    "\"AB=\"",   "\"AB===\"", "\"A===\"", "\"====\"", "\"QR==\"", "\"QUJ=\"",
        "\"QUJ*\"", "\"QQ=A\"",  "\"Q Q=\"",  "\"QQ\\n\"", "\"QUJD=\"", "\"Q=Q=\"", "\"\\u00e9AAA\"",
    };
    for (size_t i = 0; i < sizeof not_base64 / sizeof not_base64[0]; i++) {
        test_refuse_value(info, "head_hash", not_base64[i], "head_hash: ");
        test_refuse_value(info, "headHash", not_base64[i], " is not base64");
    }
    test_refuse_value(info, "head_hash", "5", "head_hash: expected a base64 string, given an integer");
    test_refuse_value(info, "head_hash", "[1]", "expected a base64 string, given an array");
}

static void test_refuse_messages_and_lists(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *command = &fundflow__v1__command__descriptor;
    test_refuse_value(command, "event", "\"x\"", "event: expected an object, given a string");
    test_refuse_value(command, "event", "[]", "event: expected an object, given an array");
    test_refuse_value(command, "event", "{\"reversal\":3}", "event.reversal: expected an object");
    const ProtobufCMessageDescriptor *request = &fundflow__v1__submit_commands_request__descriptor;
    test_refuse_value(request, "commands", "{}", "commands: expected an array, given an object");
    test_refuse_value(request, "commands", "\"x\"", "commands: expected an array, given a string");
    test_refuse_value(request, "commands", "[null]", "commands[0]: null is not allowed");
    test_refuse_value(request, "commands", "[1]", "commands[0]: expected an object, given an integer");
    test_refuse_value(request, "commands", "[{},{\"effective_date\":\"x\"}]",
                      "commands[1].effective_date: \"x\" is not an integer");
    test_refuse_value(request, "commands", "[[]]", "commands[0]: expected an object, given an array");
    test_refuse_value(request, "linked", "\"yes\"", "linked: expected true or false");
}

static void test_refuse_twice_and_oneof(void **state) {
    (void)state;
    test_refuse(&fundflow__v1__command__descriptor,
                "{\"idempotency_key\":\"a\",\"idempotencyKey\":\"b\"}",
                "idempotency_key: given twice, as \"idempotency_key\" and \"idempotencyKey\"");
    /* Even a null under one name and a value under the other is two spellings of one field. */
    test_refuse(&fundflow__v1__command__descriptor,
                "{\"effectiveDate\":null,\"effective_date\":1}", "effective_date: given twice");
    test_refuse(&fundflow__v1__event__descriptor, "{\"org_registered\":{},\"reversal\":{}}",
                "reversal: cannot be set together with org_registered");
    test_refuse(&fundflow__v1__event__descriptor,
                "{\"allocationIssued\":{\"amountPence\":\"1\"},\"budget_delegated\":{}}",
                "budget_delegated: cannot be set together with allocation_issued");
    test_refuse(&fundflow__v1__submit_commands_request__descriptor,
                "{\"commands\":[{\"event\":{\"orgRegistered\":{},\"org_registered\":{}}}]}",
                "commands[0].event.org_registered: given twice");
}

static void test_refuse_documents(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *request = &fundflow__v1__get_org_request__descriptor;
    test_refuse(request, "[]", "the body must be a JSON object, not an array");
    test_refuse(request, "\"x\"", "must be a JSON object, not a string");
    test_refuse(request, "3", "must be a JSON object, not an integer");
    test_refuse(request, "null", "must be a JSON object, not null");
    test_refuse(request, "", "not valid JSON");
    test_refuse(request, "{", "not valid JSON");
    test_refuse(request, "{} x", "not valid JSON");
    test_refuse(request, "{}{}", "not valid JSON");
    test_refuse(request, "{\"code\":\"a\",\"code\":\"b\"}", "not valid JSON");
    test_refuse(request, "{\"code\":\"a\\u0000b\"}", "not valid JSON");
    test_refuse(request, "{\"code\":\"\xFF\"}", "not valid JSON");
    test_refuse(request, "{\"code\":'a'}", "not valid JSON");
    test_refuse(request, "{\"code\":\"QUE\",}", "not valid JSON");
    test_refuse(request, "{\"code\":NaN}", "not valid JSON");
}

/* Builds {"x":{"x":...{}...}} nested depth levels deep, the outer object being level 1. */
static char *test_nested_document(size_t depth) {
    size_t length = (depth - 1) * 6 + 2;
    char *text = malloc(length + 1);
    assert_non_null(text);
    size_t written = 0;
    for (size_t i = 1; i < depth; i++) {
        memcpy(text + written, "{\"x\":", 5);
        written += 5;
    }
    memcpy(text + written, "{}", 2);
    written += 2;
    for (size_t i = 1; i < depth; i++) text[written++] = '}';
    text[written] = '\0';
    assert_int_equal(written, length);
    return text;
}

static void test_depth_limit(void **state) {
    (void)state;
    char *text = test_nested_document(JSON_CODEC_DEPTH_MAX);
    ProtobufCMessage *message = test_decode(&fundflow__v1__get_org_request__descriptor, text);
    protobuf_c_message_free_unpacked(message, NULL);
    free(text);

    char fragment[TEST_DOCUMENT_BYTES];
    snprintf(fragment, sizeof fragment, "nests deeper than %d levels", (int)JSON_CODEC_DEPTH_MAX);
    text = test_nested_document(JSON_CODEC_DEPTH_MAX + 1);
    test_refuse(&fundflow__v1__get_org_request__descriptor, text, "x.x.x.x");
    test_refuse(&fundflow__v1__get_org_request__descriptor, text, fragment);
    free(text);

    /* Arrays count as levels too, and the limit holds inside known fields. */
    char document[TEST_DOCUMENT_BYTES] = "{\"commands\":[";
    size_t length = strlen(document);
    assert_true(length + 2 * JSON_CODEC_DEPTH_MAX + 3 <= sizeof document);
    for (size_t i = 2; i <= JSON_CODEC_DEPTH_MAX; i++) document[length++] = '[';
    for (size_t i = 2; i <= JSON_CODEC_DEPTH_MAX; i++) document[length++] = ']';
    memcpy(document + length, "]}", 3);
    test_refuse(&fundflow__v1__submit_commands_request__descriptor, document,
                "commands[0][0][0]");
    test_refuse(&fundflow__v1__submit_commands_request__descriptor, document, "nests deeper");
}

static void test_error_buffer_small(void **state) {
    (void)state;
    const char *text = "{\"code\":5}";
    char error[8];
    memset(error, 'z', sizeof error);
    ProtobufCMessage *message = NULL;
    assert_int_equal(json_codec_decode(&fundflow__v1__get_org_request__descriptor, text,
                                       strlen(text), &message, error, sizeof error),
                     FF_ERR_MALFORMED);
    assert_string_equal(error, "code: e");
    assert_int_equal(json_codec_decode(&fundflow__v1__get_org_request__descriptor, text,
                                       strlen(text), &message, NULL, 0),
                     FF_ERR_MALFORMED);
    assert_null(message);

    /* A cut never splits a character, and bytes jansson quotes from bad input become '?'. */
    const char *accented = "{\"amount_pence\":\"\xC3\xA9\xC3\xA9\"}";
    char small[17];
    assert_int_equal(json_codec_decode(&fundflow__v1__allocation_issued__descriptor, accented,
                                       strlen(accented), &message, small, sizeof small),
                     FF_ERR_MALFORMED);
    assert_string_equal(small, "amount_pence: \"");
    char larger[18];
    assert_int_equal(json_codec_decode(&fundflow__v1__allocation_issued__descriptor, accented,
                                       strlen(accented), &message, larger, sizeof larger),
                     FF_ERR_MALFORMED);
    assert_string_equal(larger, "amount_pence: \"\xC3\xA9");
    const char *bad_token = "{\"code\":tru\xC3";
    char error_text[TEST_ERROR_BYTES];
    assert_int_equal(json_codec_decode(&fundflow__v1__get_org_request__descriptor, bad_token,
                                       strlen(bad_token), &message, error_text, sizeof error_text),
                     FF_ERR_MALFORMED);
    for (const unsigned char *cursor = (const unsigned char *)error_text; *cursor; cursor++) {
        assert_true(*cursor >= 0x20 && *cursor < 0x7F);
    }
}

static void test_refuse_long_value_quoted_briefly(void **state) {
    (void)state;
    char text[TEST_DOCUMENT_BYTES];
    int written = snprintf(text, sizeof text, "{\"amount_pence\":\"%0300d\"}", 7);
    assert_true(written > 0 && (size_t)written < sizeof text);
    char error[TEST_ERROR_BYTES] = "";
    ProtobufCMessage *message = NULL;
    assert_int_equal(json_codec_decode(&fundflow__v1__allocation_issued__descriptor, text,
                                       strlen(text), &message, error, sizeof error),
                     FF_ERR_MALFORMED);
    assert_non_null(strstr(error, "amount_pence: \"000"));
    assert_non_null(strstr(error, "... is not an integer"));
    assert_true(strlen(error) < 100);
}

/* ---- Out of memory ---- */

/* jansson allocations left before the next one fails; SIZE_MAX means none fail. The codec's own
 * allocations must come from the system malloc that protobuf-c frees with, so only jansson's
 * can be failed from here. */
static size_t test_jansson_allocations_left = SIZE_MAX;

/* The upper bound on the fault loops: far more allocations than any one test document makes. */
#define TEST_ALLOCATIONS_MAX 2000

static void *test_jansson_malloc(size_t size) {
    if (test_jansson_allocations_left == 0) return NULL;
    if (test_jansson_allocations_left != SIZE_MAX) test_jansson_allocations_left--;
    return malloc(size);
}

static void test_jansson_free(void *pointer) {
    free(pointer);
}

/* A teardown that gives jansson back the system allocator, even after a failed assertion. */
static int test_jansson_allocator_restore(void **state) {
    (void)state;
    test_jansson_allocations_left = SIZE_MAX;
    json_set_alloc_funcs(malloc, free);
    return 0;
}

static const char test_fault_document[] =
    "{\"commands\":[{\"idempotency_key\":\"k1\",\"effective_date\":20240401,\"event\":"
    "{\"allocation_issued\":{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\",\"stream\":"
    "\"CORE_SERVICES\",\"financial_year\":2024,\"amount_pence\":\"1000\",\"recurrent\":true}}},"
    "{\"idempotency_key\":\"k2\",\"event\":{\"reversal\":{\"reversed_sequence\":\"3\","
    "\"reason\":\"twice\"}}}],\"linked\":true,\"unknown\":[1,{\"a\":\"b\"}]}";

/* Every jansson allocation in turn fails while decoding and then encoding a request: each must
 * give FF_ERR_NO_MEMORY (or, where only an error's quoted value was lost, the same result as
 * without the fault) and leak nothing, which the sanitizer build checks. */
static void test_out_of_memory(void **state) {
    (void)state;
    json_set_alloc_funcs(test_jansson_malloc, test_jansson_free);
    const ProtobufCMessageDescriptor *descriptor = &fundflow__v1__submit_commands_request__descriptor;
    ProtobufCMessage *message = NULL;
    char error[TEST_ERROR_BYTES];
    size_t failures = 0;
    for (size_t allowed = 0; allowed < TEST_ALLOCATIONS_MAX; allowed++) {
        test_jansson_allocations_left = allowed;
        ff_err rc = json_codec_decode(descriptor, test_fault_document, strlen(test_fault_document),
                                      &message, error, sizeof error);
        if (rc == FF_OK) break;
        assert_null(message);
        /* jansson reports some allocation failures inside its parser as syntax errors. */
        if (rc == FF_ERR_MALFORMED) {
            assert_non_null(strstr(error, "not valid JSON"));
            continue;
        }
        assert_int_equal(rc, FF_ERR_NO_MEMORY);
        assert_non_null(strstr(error, "out of memory"));
        failures++;
    }
    assert_non_null(message);
    assert_true(failures > 0);

    char *text = NULL;
    size_t length = 0;
    failures = 0;
    for (size_t allowed = 0; allowed < TEST_ALLOCATIONS_MAX; allowed++) {
        test_jansson_allocations_left = allowed;
        ff_err rc = json_codec_encode(message, &text, &length);
        if (rc == FF_OK) break;
        assert_int_equal(rc, FF_ERR_NO_MEMORY);
        assert_null(text);
        assert_int_equal(length, 0);
        failures++;
    }
    test_jansson_allocations_left = SIZE_MAX;
    assert_non_null(text);
    assert_true(failures > 0);
    free(text);
    protobuf_c_message_free_unpacked(message, NULL);

    /* A refusal whose quoted value cannot be allocated still names the path. */
    const char *bad = "{\"amount_pence\":\"12x\"}";
    for (size_t allowed = 0; allowed < TEST_ALLOCATIONS_MAX; allowed++) {
        test_jansson_allocations_left = allowed;
        ff_err rc = json_codec_decode(&fundflow__v1__allocation_issued__descriptor, bad,
                                      strlen(bad), &message, error, sizeof error);
        assert_null(message);
        if (rc == FF_ERR_MALFORMED && strstr(error, "not valid JSON") != NULL) continue;
        if (rc == FF_ERR_MALFORMED) {
            assert_non_null(strstr(error, "amount_pence: "));
            if (strstr(error, "\"12x\" is not an integer") != NULL) break;
        } else {
            assert_int_equal(rc, FF_ERR_NO_MEMORY);
        }
    }
}

/* ---- Field kinds fundflow's .proto files do not use yet ---- */

/* A message built by hand, as protoc-c would generate it, with floating point, a proto3
 * `optional` int32, repeated scalars, strings, bytes and enums, and a oneof of a string and an
 * int64, so that the codec's handling of these is tested before a .proto needs it. */
typedef enum test_sample_choice {
    TEST_SAMPLE_CHOICE_NOT_SET = 0,
    TEST_SAMPLE_CHOICE_LABEL = 8,
    TEST_SAMPLE_CHOICE_TOTAL = 9,
} test_sample_choice;

typedef struct test_sample {
    ProtobufCMessage base;
    float ratio;
    double weight;
    protobuf_c_boolean has_count;
    int32_t count;
    size_t n_tags;
    char **tags;
    size_t n_levels;
    int32_t *levels;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    size_t n_kinds;
    Fundflow__V1__OrgKind *kinds;
    test_sample_choice choice_case;
    union {
        char *label;
        int64_t total;
    };
} test_sample;

static const ProtobufCMessageDescriptor test_sample_descriptor;

static void test_sample_init(ProtobufCMessage *message) {
    memset(message, 0, sizeof(test_sample));
    message->descriptor = &test_sample_descriptor;
}

#define TEST_SAMPLE_FIELD(name, id, label, type, quantifier, descriptor, flags)                    \
    {#name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, quantifier,                      \
     offsetof(test_sample, name), descriptor, NULL, flags, 0, NULL, NULL}

static const ProtobufCFieldDescriptor test_sample_fields[] = {
    TEST_SAMPLE_FIELD(ratio, 1, NONE, FLOAT, 0, NULL, 0),
    TEST_SAMPLE_FIELD(weight, 2, NONE, DOUBLE, 0, NULL, 0),
    TEST_SAMPLE_FIELD(count, 3, OPTIONAL, INT32, offsetof(test_sample, has_count), NULL, 0),
    TEST_SAMPLE_FIELD(tags, 4, REPEATED, STRING, offsetof(test_sample, n_tags), NULL, 0),
    TEST_SAMPLE_FIELD(levels, 5, REPEATED, SINT32, offsetof(test_sample, n_levels), NULL,
                      PROTOBUF_C_FIELD_FLAG_PACKED),
    TEST_SAMPLE_FIELD(blobs, 6, REPEATED, BYTES, offsetof(test_sample, n_blobs), NULL, 0),
    TEST_SAMPLE_FIELD(kinds, 7, REPEATED, ENUM, offsetof(test_sample, n_kinds),
                      &fundflow__v1__org_kind__descriptor, PROTOBUF_C_FIELD_FLAG_PACKED),
    TEST_SAMPLE_FIELD(label, 8, NONE, STRING, offsetof(test_sample, choice_case), NULL,
                      PROTOBUF_C_FIELD_FLAG_ONEOF),
    TEST_SAMPLE_FIELD(total, 9, NONE, SFIXED64, offsetof(test_sample, choice_case), NULL,
                      PROTOBUF_C_FIELD_FLAG_ONEOF),
};
/* Indices into test_sample_fields in order of field name. */
static const unsigned test_sample_fields_by_name[] = {5, 2, 6, 7, 4, 0, 3, 8, 1};
static const ProtobufCIntRange test_sample_number_ranges[] = {{1, 0}, {0, 9}};

static const ProtobufCMessageDescriptor test_sample_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Sample", "Sample", "Test__Sample", "test",
    sizeof(test_sample), 9, test_sample_fields, test_sample_fields_by_name, 1,
    test_sample_number_ranges, test_sample_init, NULL, NULL, NULL};

static void test_sample_exact_and_round_trip(void **state) {
    (void)state;
    char *tags[] = {test_text("a"), test_text(""), test_text("\xE2\x82\xAC")};
    int32_t levels[] = {INT32_MIN, -1, 0, INT32_MAX};
    uint8_t blob_bytes[] = {1, 2, 3};
    ProtobufCBinaryData blobs[] = {{0, NULL}, {3, blob_bytes}};
    Fundflow__V1__OrgKind kinds[] = {FUNDFLOW__V1__ORG_KIND__ICB,
                                     FUNDFLOW__V1__ORG_KIND__ORG_KIND_UNSPECIFIED};
    test_sample sample;
    test_sample_init(&sample.base);
    sample.ratio = 0.5f;
    sample.weight = -2.25;
    sample.has_count = 1;
    sample.count = -7;
    sample.n_tags = 3;
    sample.tags = tags;
    sample.n_levels = 4;
    sample.levels = levels;
    sample.n_blobs = 2;
    sample.blobs = blobs;
    sample.n_kinds = 2;
    sample.kinds = kinds;
    sample.choice_case = TEST_SAMPLE_CHOICE_LABEL;
    sample.label = test_text("hello");
    char *text = test_round_trip(&sample.base);
    assert_string_equal(text, "{\"ratio\":0.5,\"weight\":-2.25,\"count\":-7,\"tags\":[\"a\",\"\","
                              "\"\xE2\x82\xAC\"],\"levels\":[-2147483648,-1,0,2147483647],"
                              "\"blobs\":[\"\",\"AQID\"],\"kinds\":[\"ICB\",\"ORG_KIND_UNSPECIFIED\"],"
                              "\"label\":\"hello\"}");
    free(text);

    test_sample_init(&sample.base);
    sample.ratio = NAN;
    sample.weight = -INFINITY;
    sample.choice_case = TEST_SAMPLE_CHOICE_TOTAL;
    sample.total = INT64_MIN;
    text = test_round_trip(&sample.base);
    assert_string_equal(text, "{\"ratio\":\"NaN\",\"weight\":\"-Infinity\",\"tags\":[],\"levels\":[],"
                              "\"blobs\":[],\"kinds\":[],\"total\":\"-9223372036854775808\"}");
    free(text);

    sample.ratio = 0.1f;
    sample.weight = 1e300;
    sample.has_count = 1;
    sample.count = 0;
    sample.choice_case = TEST_SAMPLE_CHOICE_NOT_SET;
    free(test_round_trip(&sample.base));
}

static void test_sample_decode(void **state) {
    (void)state;
    test_sample *sample = (test_sample *)test_decode(
        &test_sample_descriptor,
        "{\"ratio\":\"Infinity\",\"weight\":3,\"count\":\"-2147483648\",\"tags\":[\"x\"],"
        "\"levels\":[\"5\",-5],\"blobs\":[\"AQID\",\"\"],\"kinds\":[3,\"NHSE\"],\"label\":null,"
        "\"total\":\"12\"}");
    assert_true(isinf(sample->ratio) && sample->ratio > 0);
    assert_true(sample->weight == 3.0);
    assert_true(sample->has_count && sample->count == INT32_MIN);
    assert_int_equal(sample->n_tags, 1);
    assert_string_equal(sample->tags[0], "x");
    assert_int_equal(sample->n_levels, 2);
    assert_int_equal(sample->levels[0], 5);
    assert_int_equal(sample->levels[1], -5);
    assert_int_equal(sample->n_blobs, 2);
    assert_int_equal(sample->blobs[0].len, 3);
    assert_null(sample->blobs[1].data);
    assert_int_equal(sample->kinds[0], FUNDFLOW__V1__ORG_KIND__ICB);
    assert_int_equal(sample->kinds[1], FUNDFLOW__V1__ORG_KIND__NHSE);
    assert_int_equal(sample->choice_case, TEST_SAMPLE_CHOICE_TOTAL);
    assert_true(sample->total == 12);
    protobuf_c_message_free_unpacked(&sample->base, NULL);

    sample = (test_sample *)test_decode(&test_sample_descriptor, "{\"label\":\"l\"}");
    assert_false(sample->has_count);
    assert_int_equal(sample->choice_case, TEST_SAMPLE_CHOICE_LABEL);
    assert_string_equal(sample->label, "l");
    protobuf_c_message_free_unpacked(&sample->base, NULL);
}

static void test_sample_refusals(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *sample = &test_sample_descriptor;
    test_refuse_value(sample, "count", "2147483648", "count: 2147483648 is out of range for int32");
    test_refuse_value(sample, "count", "\"-2147483649\"", "out of range for int32");
    test_refuse_value(sample, "levels", "[1,\"x\"]", "levels[1]: \"x\" is not an integer");
    test_refuse_value(sample, "levels", "[2147483648]", "levels[0]: 2147483648 is out of range for sint32");
    test_refuse_value(sample, "ratio", "1e39", "is out of range for float");
    test_refuse_value(sample, "ratio", "\"1.5\"", "ratio: expected a number");
    test_refuse_value(sample, "weight", "\"nan\"", "weight: expected a number");
    test_refuse_value(sample, "weight", "true", "weight: expected a number");
    test_refuse_value(sample, "tags", "[\"a\",\"b\",5]", "tags[2]: expected a string");
    test_refuse_value(sample, "tags", "[\"a\",null]", "tags[1]: null is not allowed");
    test_refuse_value(sample, "blobs", "[\"QQ\",\"x\"]", "blobs[1]: \"x\" is not base64");
    test_refuse_value(sample, "kinds", "[\"ICB\",99]", "kinds[1]: 99 is not a value of fundflow.v1.OrgKind");
    test_refuse(sample, "{\"total\":\"1\",\"label\":\"x\"}", "total: cannot be set together with label");

    /* An enum number the descriptor does not name is written, but reading it back is refused. */
    Fundflow__V1__OrgKind unnamed = (Fundflow__V1__OrgKind)99;
    test_sample unknown;
    test_sample_init(&unknown.base);
    unknown.n_kinds = 1;
    unknown.kinds = &unnamed;
    char *text = NULL;
    size_t length = 0;
    assert_int_equal(json_codec_encode(&unknown.base, &text, &length), FF_OK);
    assert_non_null(strstr(text, "\"kinds\":[99]"));
    test_refuse(sample, text, "kinds[0]: 99 is not a value");
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_position_exact),
        cmocka_unit_test(test_encode_server_info_exact),
        cmocka_unit_test(test_encode_omits_unset_messages),
        cmocka_unit_test(test_encode_replaces_invalid_utf8),
        cmocka_unit_test(test_round_trip_submit_commands),
        cmocka_unit_test(test_round_trip_records),
        cmocka_unit_test(test_round_trip_bytes),
        cmocka_unit_test(test_round_trip_event_records),
        cmocka_unit_test(test_decode_camel_case),
        cmocka_unit_test(test_decode_integer_forms),
        cmocka_unit_test(test_decode_enum_forms),
        cmocka_unit_test(test_decode_bytes_forms),
        cmocka_unit_test(test_decode_null_means_absent),
        cmocka_unit_test(test_decode_ignores_unknown_fields),
        cmocka_unit_test(test_decode_reads_only_length),
        cmocka_unit_test(test_refuse_exact_path),
        cmocka_unit_test(test_refuse_integers),
        cmocka_unit_test(test_refuse_enums_bools_strings),
        cmocka_unit_test(test_refuse_bytes),
        cmocka_unit_test(test_refuse_messages_and_lists),
        cmocka_unit_test(test_refuse_twice_and_oneof),
        cmocka_unit_test(test_refuse_documents),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_error_buffer_small),
        cmocka_unit_test(test_refuse_long_value_quoted_briefly),
        cmocka_unit_test_teardown(test_out_of_memory, test_jansson_allocator_restore),
        cmocka_unit_test(test_sample_exact_and_round_trip),
        cmocka_unit_test(test_sample_decode),
        cmocka_unit_test(test_sample_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
