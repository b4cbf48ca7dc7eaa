/* The funding-flow domain end to end: an allocation, an onward budget, an outcome-based contract
 * with a withheld pot, monthly payments, a partly achieved metric, a variation and a reversed
 * payment, checked to the penny after each step and as at earlier points; then every refusal,
 * rollups, funding flows and the delegation register. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "query.h"
#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define SPECIALISED FUNDFLOW__V1__STREAM__SPECIALISED
#define OUTCOME FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define FULL FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL

/* The figures of the scenario, in pence, worked out by hand.
 *
 * Contract C1: value 120,000,000 with a pot of 12,345,679 split between metrics A (60%) and B:
 *   share A = floor(12,345,679 x 6000 / 10000) = floor(7,407,407.4) = 7,407,407
 *   share B = 12,345,679 - 7,407,407           = 4,938,272 (the last metric takes the rest)
 * Monthly payment: floor((120,000,000 - 12,345,679) / 12) = floor(8,971,193.4) = 8,971,193.
 * Metric A achieved 33.33%: earned = floor(7,407,407 x 3333 / 10000) = floor(2,468,888.7531)
 *   = 2,468,888; released = 7,407,407 - 2,468,888 = 4,938,519. */
enum {
    ALLOCATED = 1000000000,
    PASSED_TO_PLACE = 200000000,
    VALUE = 120000000,
    POT = 12345679,
    SHARE_A = 7407407,
    SHARE_B = 4938272,
    MONTHLY = 8971193,
    EARNED_A = 2468888,
    RELEASED_A = 4938519,
    VARIATION = 10000000,
};

/* Sequences of the scenario's events; the world takes 1 to TEST_WORLD_EVENTS. */
enum {
    W = TEST_WORLD_EVENTS,
    SEQ_TRUSTS = W + 2, SEQ_COLLABORATIVE = W + 3, SEQ_DELEGATION = W + 6, SEQ_ALLOCATION = W + 7,
    SEQ_BUDGET = W + 8, SEQ_CONTRACT = W + 9, SEQ_M1 = W + 10, SEQ_M2 = W + 11, SEQ_M3 = W + 12,
    SEQ_OUTCOME = W + 13, SEQ_VARIATION = W + 14, SEQ_REVERSAL = W + 15,
};

/* The principal every read here asks as: a national admin, as offline callers are. */
static const access_principal *national(void) {
    static access_principal who;
    access_principal_bootstrap(&who, "test", TEST_EFFECTIVE_DATE);
    return &who;
}

static void submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command, uint64_t sequence) {
    ledger_result result;
    ff_err err = test_submit(ledger, command, &result);
    if (err != FF_OK) fail_msg("%s: %s", ff_err_name(err), result.failure.detail);
    assert_int_equal(result.sequence, sequence);
}

static void world_extend(ff_ledger *ledger) {
    test_world_register(ledger);
    submit_ok(ledger, test_org("d8", "RGT", "Illustrative trust one", FUNDFLOW__V1__ORG_KIND__TRUST,
                               "QUE"), W + 1);
    submit_ok(ledger, test_org("d9", "RWH", "Illustrative trust two", FUNDFLOW__V1__ORG_KIND__TRUST,
                               "QJG"), SEQ_TRUSTS);
    Fundflow__V1__Command *collaborative =
        test_org("d10", "MHPC", "Illustrative mental health provider collaborative",
                 FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, NULL);
    Fundflow__V1__OrgRegistered *org = collaborative->event->org_registered;
    org->member_codes = malloc(2 * sizeof(char *));
    org->member_codes[0] = strdup("RGT"), org->member_codes[1] = strdup("RWH");
    org->n_member_codes = 2;
    org->lead_provider_code = strdup("RGT");
    submit_ok(ledger, collaborative, SEQ_COLLABORATIVE);
    submit_ok(ledger, test_service_line("d11", "SL01", false), W + 4);
    submit_ok(ledger, test_service_line("d12", "SL99", true), W + 5);
    submit_ok(ledger, test_delegation("d13", "D-QUE-1", "QUE", "SL01", "QUE", FULL, 20240401, 0),
              SEQ_DELEGATION);
}

static void scenario_record(ff_ledger *ledger) {
    world_extend(ledger);
    submit_ok(ledger, test_allocation("s14", "X24", "QUE", CORE, TEST_YEAR, ALLOCATED),
              SEQ_ALLOCATION);
    submit_ok(ledger, test_budget("s15", "QUE", "06H", CORE, TEST_YEAR, PASSED_TO_PLACE),
              SEQ_BUDGET);
    submit_ok(ledger, test_contract("s16", "C1", "QUE", "RGT", OUTCOME, CORE, VALUE, POT,
                                    "MA:6000,MB:4000"), SEQ_CONTRACT);
    submit_ok(ledger, test_payment("s17", "C1", 1, MONTHLY), SEQ_M1);
    submit_ok(ledger, test_payment("s18", "C1", 2, MONTHLY), SEQ_M2);
    submit_ok(ledger, test_payment("s19", "C1", 3, MONTHLY), SEQ_M3);
    submit_ok(ledger, test_dated(test_outcome("s20", "C1", "MA", 3333), 20240701), SEQ_OUTCOME);
    submit_ok(ledger, test_dated(test_variation("s21", "C1", VARIATION), 20240801), SEQ_VARIATION);
    submit_ok(ledger, test_dated(test_reversal("s22", SEQ_M2, "paid twice in error"), 20240901),
              SEQ_REVERSAL);
}

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    scenario_record(f->ledger);
    *state = f;
    return 0;
}

static Fundflow__V1__Position *position_at(ff_ledger *ledger, const char *org, uint64_t as_at,
                                           uint32_t as_at_date, bool rollup) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)org;
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.as_at_sequence = as_at;
    get.as_at_date = as_at_date;
    get.rollup = rollup;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    if (query_position_get(ledger, national(), &get.base, &response, &failure) != FF_OK) {
        fail_msg("position: %s", failure.detail);
    }
    return (Fundflow__V1__Position *)response;
}

typedef struct expected_position {
    int64_t received, passed_on, committed, paid, withheld, earned, released, headroom;
} expected_position;

static void assert_commissioner(ff_ledger *ledger, uint64_t as_at, expected_position expected) {
    Fundflow__V1__Position *p = position_at(ledger, "QUE", as_at, 0, false);
    assert_int_equal(p->received_pence, expected.received);
    assert_int_equal(p->passed_on_pence, expected.passed_on);
    assert_int_equal(p->committed_pence, expected.committed);
    assert_int_equal(p->paid_pence, expected.paid);
    assert_int_equal(p->withheld_pence, expected.withheld);
    assert_int_equal(p->earned_pence, expected.earned);
    assert_int_equal(p->released_pence, expected.released);
    assert_int_equal(p->headroom_pence, expected.headroom);
    fundflow__v1__position__free_unpacked(p, NULL);
}

static int64_t provider_received(ff_ledger *ledger, uint64_t as_at) {
    Fundflow__V1__Position *p = position_at(ledger, "RGT", as_at, 0, false);
    int64_t received = p->received_pence;
    assert_int_equal(p->headroom_pence, received);
    fundflow__v1__position__free_unpacked(p, NULL);
    return received;
}

/* After every step of the scenario, and so also as at every earlier point. */
static void test_positions_after_each_step(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    int64_t headroom = ALLOCATED - PASSED_TO_PLACE;
    assert_commissioner(l, SEQ_BUDGET, (expected_position){ALLOCATED, PASSED_TO_PLACE, 0, 0, 0,
                                                           0, 0, headroom});
    /* Agreeing C1 commits 120,000,000: 107,654,321 committed and 12,345,679 withheld. */
    headroom -= VALUE;
    assert_commissioner(l, SEQ_CONTRACT, (expected_position){ALLOCATED, PASSED_TO_PLACE,
                                                             VALUE - POT, 0, POT, 0, 0, headroom});
    /* Three payments of 8,971,193 = 26,913,579 move from committed to paid. */
    assert_commissioner(l, SEQ_M3, (expected_position){ALLOCATED, PASSED_TO_PLACE,
                                                       VALUE - POT - 3 * MONTHLY, 3 * MONTHLY,
                                                       POT, 0, 0, headroom});
    assert_int_equal(provider_received(l, SEQ_M3), 26913579);
    /* Metric A: 2,468,888 earned by the provider, 4,938,519 released back to QUE's budget. */
    headroom += RELEASED_A;
    assert_commissioner(l, SEQ_OUTCOME, (expected_position){ALLOCATED, PASSED_TO_PLACE,
                                                            VALUE - POT - 3 * MONTHLY,
                                                            3 * MONTHLY, SHARE_B, EARNED_A,
                                                            RELEASED_A, headroom});
    assert_int_equal(headroom, 684938519);
    assert_int_equal(provider_received(l, SEQ_OUTCOME), 29382467);
    /* Varying by +10,000,000 commits more and leaves 674,938,519 of headroom. */
    headroom -= VARIATION;
    assert_commissioner(l, SEQ_VARIATION, (expected_position){ALLOCATED, PASSED_TO_PLACE,
                                                              90740742, 3 * MONTHLY, SHARE_B,
                                                              EARNED_A, RELEASED_A, headroom});
    /* Reversing the M2 payment returns 8,971,193 from paid to committed. */
    assert_commissioner(l, SEQ_REVERSAL, (expected_position){ALLOCATED, PASSED_TO_PLACE,
                                                             99711935, 2 * MONTHLY, SHARE_B,
                                                             EARNED_A, RELEASED_A, 674938519});
    /* Now (as at 0, the head): an event beyond the head is refused, not read as the head. */
    assert_int_equal(provider_received(l, 0), 20411274);
}

static Fundflow__V1__ContractPosition *contract_at(ff_ledger *ledger, uint64_t as_at) {
    Fundflow__V1__GetContractPositionRequest get =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    get.contract_id = (char *)"C1";
    get.as_at_sequence = as_at;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(
        query_contract_position(ledger, national(), &get.base, &response, &failure), FF_OK);
    return (Fundflow__V1__ContractPosition *)response;
}

static void test_contract_position_month_by_month(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__ContractPosition *now = contract_at(f->ledger, 0);
    const Fundflow__V1__ContractRecord *c = now->contract;
    assert_int_equal(c->original_value_pence, VALUE);
    assert_int_equal(c->variations_pence, VARIATION);
    assert_int_equal(c->value_pence, VALUE + VARIATION);
    assert_int_equal(c->paid_pence, 2 * MONTHLY);
    assert_int_equal(c->paid_by_month_pence[0], MONTHLY);
    assert_int_equal(c->paid_by_month_pence[1], 0);
    assert_int_equal(c->paid_by_month_pence[2], MONTHLY);
    assert_int_equal(c->n_metrics, 2);
    assert_int_equal(c->metrics[0]->share_pence, SHARE_A);
    assert_int_equal(c->metrics[1]->share_pence, SHARE_B);
    assert_int_equal(c->metrics[0]->earned_pence, EARNED_A);
    assert_int_equal(c->metrics[0]->released_pence, RELEASED_A);
    assert_false(c->metrics[1]->reported);
    assert_int_equal(now->withheld_pending_pence, SHARE_B);
    /* Outstanding: 130,000,000 - 17,942,386 paid - 2,468,888 earned - 4,938,519 released. */
    assert_int_equal(now->outstanding_pence, 104650207);
    fundflow__v1__contract_position__free_unpacked(now, NULL);
    Fundflow__V1__ContractPosition *before = contract_at(f->ledger, SEQ_M3);
    assert_int_equal(before->contract->paid_by_month_pence[1], MONTHLY);
    assert_int_equal(before->contract->earned_pence, 0);
    assert_int_equal(before->withheld_pending_pence, POT);
    assert_int_equal(before->as_at_sequence, SEQ_M3);
    fundflow__v1__contract_position__free_unpacked(before, NULL);
}

static Fundflow__V1__ContractPosition *contract_on(ff_ledger *ledger, uint32_t as_at_date,
                                                    ff_err expected, const char *field) {
    Fundflow__V1__GetContractPositionRequest get =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    get.contract_id = (char *)"C1";
    get.as_at_date = as_at_date;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_contract_position(ledger, national(), &get.base, &response, &failure),
                     expected);
    if (field) assert_string_equal(failure.field, field);
    return (Fundflow__V1__ContractPosition *)response;
}

/* GetContractPosition's as_at_date: C1 as the ledger knew it on a date. The outcome is dated
 * 1 July, the variation 1 August and the M2 payment's reversal 1 September. */
static void test_contract_position_as_at_an_effective_date(void **state) {
    test_fixture *f = *state;
    /* 30 June: M1 to M3 paid, no variation, nothing reported; the whole pot withheld. */
    Fundflow__V1__ContractPosition *june = contract_on(f->ledger, 20240630, FF_OK, NULL);
    const Fundflow__V1__ContractRecord *c = june->contract;
    assert_int_equal(june->as_at_date, 20240630);
    assert_int_equal(c->value_pence, VALUE);
    assert_int_equal(c->variations_pence, 0);
    assert_int_equal(c->paid_pence, 3 * MONTHLY);
    for (int m = 0; m < 3; m++) assert_int_equal(c->paid_by_month_pence[m], MONTHLY);
    assert_int_equal(c->paid_by_month_pence[3], 0);
    assert_int_equal(c->earned_pence, 0);
    assert_int_equal(c->released_pence, 0);
    assert_false(c->metrics[0]->reported);
    assert_int_equal(june->withheld_pending_pence, POT);
    assert_int_equal(june->outstanding_pence, VALUE - 3 * MONTHLY);
    fundflow__v1__contract_position__free_unpacked(june, NULL);
    /* 31 July: MA reported, so its earned and released shares count; still no variation. */
    Fundflow__V1__ContractPosition *july = contract_on(f->ledger, 20240731, FF_OK, NULL);
    assert_true(july->contract->metrics[0]->reported);
    assert_int_equal(july->contract->earned_pence, EARNED_A);
    assert_int_equal(july->contract->released_pence, RELEASED_A);
    assert_int_equal(july->contract->value_pence, VALUE);
    assert_int_equal(july->withheld_pending_pence, SHARE_B);
    fundflow__v1__contract_position__free_unpacked(july, NULL);
    /* 31 August: the variation; 30 September: M2 reversed, as the contract stands now. */
    Fundflow__V1__ContractPosition *august = contract_on(f->ledger, 20240831, FF_OK, NULL);
    assert_int_equal(august->contract->value_pence, VALUE + VARIATION);
    assert_int_equal(august->contract->paid_by_month_pence[1], MONTHLY);
    fundflow__v1__contract_position__free_unpacked(august, NULL);
    Fundflow__V1__ContractPosition *september = contract_on(f->ledger, 20240930, FF_OK, NULL);
    Fundflow__V1__ContractPosition *now = contract_at(f->ledger, 0);
    assert_int_equal(september->contract->paid_by_month_pence[1], 0);
    assert_int_equal(september->contract->paid_pence, now->contract->paid_pence);
    assert_int_equal(september->outstanding_pence, now->outstanding_pence);
    fundflow__v1__contract_position__free_unpacked(september, NULL);
    fundflow__v1__contract_position__free_unpacked(now, NULL);
    /* Before the contract was agreed it is not there; a date that is not one is refused. */
    assert_null(contract_on(f->ledger, 20240331, FF_ERR_CONTRACT_UNKNOWN, "as_at_date"));
    assert_null(contract_on(f->ledger, 20240231, FF_ERR_DATE_INVALID, "as_at_date"));
}

static void test_positions_as_at_an_effective_date(void **state) {
    test_fixture *f = *state;
    /* By 30 June: M1 to M3 paid (the M2 reversal is dated September), nothing reported yet
     * (the report is dated 1 July). */
    Fundflow__V1__Position *june = position_at(f->ledger, "QUE", 0, 20240630, false);
    assert_int_equal(june->paid_pence, 3 * MONTHLY);
    assert_int_equal(june->earned_pence, 0);
    assert_int_equal(june->released_pence, 0);
    fundflow__v1__position__free_unpacked(june, NULL);
    Fundflow__V1__Position *july = position_at(f->ledger, "QUE", 0, 20240731, false);
    assert_int_equal(july->earned_pence, EARNED_A);
    assert_int_equal(july->released_pence, RELEASED_A);
    fundflow__v1__position__free_unpacked(july, NULL);
    Fundflow__V1__Position *september = position_at(f->ledger, "QUE", 0, 20240930, false);
    assert_int_equal(september->paid_pence, 2 * MONTHLY);
    fundflow__v1__position__free_unpacked(september, NULL);
}

/* A refused command leaves the log and every projection byte as they were. */
static void refused(ff_ledger *ledger, Fundflow__V1__Command *command, ff_err expected,
                    const char *field) {
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    uint64_t head = test_head_sequence(ledger);
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    ledger_result result;
    ff_err err = test_submit(ledger, command, &result);
    if (err != expected) {
        fail_msg("expected %s, got %s: %s", ff_err_name(expected), ff_err_name(err),
                 result.failure.detail);
    }
    if (field) assert_string_equal(result.failure.field, field);
    assert_int_equal(test_head_sequence(ledger), head);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
}

static void test_refusals_leave_no_trace(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    /* Over-commitment: QUE holds 674,938,519. */
    refused(l, test_contract("r1", "C2", "QUE", "RWH", BLOCK, CORE, 674938520, 0, NULL),
            FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence");
    /* Overpayment: 130,000,000 - 12,345,679 may be paid and 17,942,386 has been. */
    refused(l, test_payment("r2", "C1", 4, 99711936), FF_ERR_OVERPAYMENT, "amount_pence");
    refused(l, test_delegation("r3", "D-QUE-2", "QUE", "SL01", "QUE", FULL, 20250101, 0),
            FF_ERR_DELEGATION_OVERLAP, "service_line_codes");
    Fundflow__V1__Command *specialised = test_contract("r4", "C3", "QJG", "RWH", BLOCK,
                                                       SPECIALISED, 100, 0, NULL);
    specialised->event->contract_agreed->service_line_code = strdup("SL01");
    refused(l, specialised, FF_ERR_NOT_DELEGATED, "service_line_code");
    refused(l, test_outcome("r5", "C1", "MA", 5000), FF_ERR_OUTCOME_ALREADY_REPORTED,
            "metric_code");
    refused(l, test_reversal("r6", SEQ_M2, "again"), FF_ERR_EVENT_ALREADY_REVERSED,
            "reversed_sequence");
    refused(l, test_delegation("r7", "D-RET", "QUE", "SL99", "QUE", FULL, 20240401, 0),
            FF_ERR_SERVICE_LINE_RETAINED, "service_line_codes");
    refused(l, test_contract("r8", "C4", "QUE", "RWH", OUTCOME, CORE, 1000, 100, "MA:5000,MB:4000"),
            FF_ERR_TERMS_INVALID, "metrics.weight_bp");
    refused(l, test_reversal("r9", SEQ_CONTRACT, "wrong provider"), FF_ERR_EVENT_NOT_REVERSIBLE,
            "reversed_sequence");
    /* Paid 17,942,386 and withheld 12,345,679 leave room to cut the value to 30,288,065. */
    refused(l, test_variation("r10", "C1", -(VALUE + VARIATION - 30288064)),
            FF_ERR_VALUE_BELOW_COMMITTED, "change_pence");
    refused(l, test_org("r11", "ABC", "Not an ICB code", FUNDFLOW__V1__ORG_KIND__ICB, "Y61"),
            FF_ERR_CODE_INVALID, "code");
    refused(l, test_payment("r12", "C9", 1, 1), FF_ERR_CONTRACT_UNKNOWN, "contract_id");
    refused(l, test_outcome("r13", "C1", "MZ", 1), FF_ERR_METRIC_UNKNOWN, "metric_code");
    /* The smallest cut that still covers paid and withheld is allowed. */
    submit_ok(l, test_variation("ok1", "C1", -(VALUE + VARIATION - 30288065)), W + 16);
}

/* Every money event is dated inside its financial year (1 April to 31 March), and a payment no
 * earlier than the month it pays for unless it says it was paid in advance. */
static void test_effective_dates_fall_in_their_year(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    uint64_t head = test_head_sequence(l);
    refused(l, test_dated(test_allocation("y1", "X24", "QUE", CORE, TEST_YEAR, 1), 20190101),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    refused(l, test_dated(test_allocation("y2", "X24", "QUE", CORE, TEST_YEAR, 1), 20250401),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    refused(l, test_dated(test_budget("y3", "QUE", "06H", CORE, TEST_YEAR, 1), 20261203),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    refused(l, test_dated(test_contract("y4", "C5", "QUE", "RWH", BLOCK, CORE, 100, 0, NULL),
                          20240331),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    refused(l, test_dated(test_payment("y5", "C1", 8, 1), 20261203), FF_ERR_DATE_OUTSIDE_YEAR,
            "effective_date");
    refused(l, test_dated(test_payment("y6", "C1", 8, 1), 20241031), FF_ERR_DATE_BEFORE_MONTH,
            "effective_date");
    refused(l, test_dated(test_outcome("y7", "C1", "MB", 5000), 20250501),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    refused(l, test_dated(test_variation("y8", "C1", 1), 20230401), FF_ERR_DATE_OUTSIDE_YEAR,
            "effective_date");
    /* The edges of the year, and a payment flagged as made ahead of its month, are accepted. */
    submit_ok(l, test_dated(test_allocation("y9", "X24", "QUE", CORE, TEST_YEAR, 1), 20250331),
              head + 1);
    submit_ok(l, test_dated(test_budget("y10", "QUE", "06H", CORE, TEST_YEAR, 1), 20240401),
              head + 2);
    submit_ok(l, test_dated(test_payment("y11", "C1", 8, 1), 20241101), head + 3);
    Fundflow__V1__Command *ahead = test_dated(test_payment("y12", "C1", 9, 1), 20241031);
    ahead->event->payment_made->paid_in_advance = true;
    submit_ok(l, ahead, head + 4);
}

static void test_a_closed_month_refuses_postings_into_it(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    submit_ok(l, test_dated(test_period("p1", "RGT", 1), 20240510), W + 16);
    /* A payment dated in April posts to RGT's accounts, so it is refused; May is open. */
    refused(l, test_payment("p2", "C1", 1, 5), FF_ERR_PERIOD_CLOSED, "month");
    refused(l, test_dated(test_reversal("p3", SEQ_M1, "late correction"), 20240420),
            FF_ERR_PERIOD_CLOSED, "effective_date");
    submit_ok(l, test_payment("p4", "C1", 2, 5), W + 17);
    refused(l, test_dated(test_period("p5", "RGT", 1), 20240601), FF_ERR_PERIOD_ALREADY_CLOSED,
            "month");
    /* A payment for M1 dated in May is still a payment for a closed month. */
    refused(l, test_dated(test_payment("p7", "C1", 1, 5), 20240515), FF_ERR_PERIOD_CLOSED, "month");
    /* QUE's own April is still open: an allocation dated in April to QUE is fine. */
    submit_ok(l, test_allocation("p6", "X24", "QUE", CORE, TEST_YEAR, 1), W + 18);
}

static void test_rollups_add_up_their_members(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    Fundflow__V1__Position *icb = position_at(l, "QUE", 0, 0, false);
    Fundflow__V1__Position *place = position_at(l, "06H", 0, 0, false);
    Fundflow__V1__Position *rolled = position_at(l, "QUE", 0, 0, true);
    assert_int_equal(rolled->n_included_codes, 2);
    assert_string_equal(rolled->included_codes[0], "QUE");
    assert_string_equal(rolled->included_codes[1], "06H");
    /* A consolidation: QUE's budget to its place 06H is inside the group, so it is neither
     * received nor passed on, and is shown as internal. Neither commissions the other. */
    assert_int_equal(rolled->received_pence,
                     icb->received_pence + place->received_pence - PASSED_TO_PLACE);
    assert_int_equal(rolled->passed_on_pence,
                     icb->passed_on_pence + place->passed_on_pence - PASSED_TO_PLACE);
    assert_int_equal(rolled->internal_transfers_pence, PASSED_TO_PLACE);
    assert_int_equal(rolled->headroom_pence, icb->headroom_pence + place->headroom_pence);
    assert_int_equal(rolled->committed_pence, icb->committed_pence + place->committed_pence);
    assert_int_equal(rolled->received_pence, ALLOCATED);
    fundflow__v1__position__free_unpacked(icb, NULL);
    fundflow__v1__position__free_unpacked(place, NULL);
    fundflow__v1__position__free_unpacked(rolled, NULL);
    Fundflow__V1__Position *collaborative = position_at(l, "MHPC", 0, 0, true);
    Fundflow__V1__Position *first = position_at(l, "RGT", 0, 0, false);
    Fundflow__V1__Position *second = position_at(l, "RWH", 0, 0, false);
    assert_int_equal(collaborative->n_included_codes, 3);
    assert_int_equal(collaborative->received_pence,
                     first->received_pence + second->received_pence);
    assert_int_equal(collaborative->received_pence, 20411274);
    fundflow__v1__position__free_unpacked(collaborative, NULL);
    fundflow__v1__position__free_unpacked(first, NULL);
    fundflow__v1__position__free_unpacked(second, NULL);
    /* Before the collaborative existed its rollup as at that date includes only itself. */
    Fundflow__V1__Position *early = position_at(l, "MHPC", 0, 20240331, true);
    assert_int_equal(early->n_included_codes, 1);
    fundflow__v1__position__free_unpacked(early, NULL);
}

static void test_funding_flows_conserve_money(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetFundingFlowsRequest get = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    get.financial_year = TEST_YEAR;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(
        query_funding_flows(f->ledger, national(), &get.base, &response, &failure), FF_OK);
    Fundflow__V1__GetFundingFlowsResponse *flows = (Fundflow__V1__GetFundingFlowsResponse *)response;
    /* X24 -> QUE 1,000,000,000; QUE -> 06H 200,000,000; QUE -> RGT 17,942,386 paid + 2,468,888
     * earned = 20,411,274. */
    assert_int_equal(flows->n_flows, 3);
    int64_t into_que = 0, out_of_que = 0;
    for (size_t i = 0; i < flows->n_flows; i++) {
        const Fundflow__V1__FundingFlow *flow = flows->flows[i];
        if (strcmp(flow->to_code, "QUE") == 0) into_que += flow->amount_pence;
        if (strcmp(flow->from_code, "QUE") == 0) out_of_que += flow->amount_pence;
        if (strcmp(flow->to_code, "RGT") == 0) {
            assert_int_equal(flow->amount_pence, 20411274);
            assert_int_equal(flow->depth, 2);
        }
    }
    assert_int_equal(into_que, ALLOCATED);
    assert_int_equal(out_of_que, PASSED_TO_PLACE + 20411274);
    assert_true(out_of_que <= into_que);
    fundflow__v1__get_funding_flows_response__free_unpacked(flows, NULL);
    get.depth = 1;
    assert_int_equal(
        query_funding_flows(f->ledger, national(), &get.base, &response, &failure), FF_OK);
    assert_int_equal(((Fundflow__V1__GetFundingFlowsResponse *)response)->n_flows, 1);
    protobuf_c_message_free_unpacked(response, NULL);
}

static Fundflow__V1__GetFundingFlowsResponse *flows_on(ff_ledger *ledger, uint32_t as_at_date) {
    Fundflow__V1__GetFundingFlowsRequest get = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    get.financial_year = TEST_YEAR;
    get.as_at_date = as_at_date;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_funding_flows(ledger, national(), &get.base, &response, &failure),
                     FF_OK);
    return (Fundflow__V1__GetFundingFlowsResponse *)response;
}

static int64_t flow_between(const Fundflow__V1__GetFundingFlowsResponse *flows, const char *from,
                            const char *to) {
    for (size_t i = 0; i < flows->n_flows; i++) {
        const Fundflow__V1__FundingFlow *flow = flows->flows[i];
        if (strcmp(flow->from_code, from) == 0 && strcmp(flow->to_code, to) == 0) {
            return flow->amount_pence;
        }
    }
    return 0;
}

/* GetFundingFlows' as_at_date: the flows as they stood on a date. The allocation and budget are
 * dated 1 April; C1's payments for M1, M2 and M3 the 15th of April, May and June; its outcome
 * (2,468,888 earned) 1 July; the M2 payment's reversal 1 September. */
static void test_funding_flows_as_at_an_effective_date(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetFundingFlowsResponse *before = flows_on(f->ledger, 20240331);
    assert_int_equal(before->n_flows, 0);
    fundflow__v1__get_funding_flows_response__free_unpacked(before, NULL);
    Fundflow__V1__GetFundingFlowsResponse *april = flows_on(f->ledger, 20240430);
    assert_int_equal(flow_between(april, "X24", "QUE"), ALLOCATED);
    assert_int_equal(flow_between(april, "QUE", "06H"), PASSED_TO_PLACE);
    assert_int_equal(flow_between(april, "QUE", "RGT"), MONTHLY);
    fundflow__v1__get_funding_flows_response__free_unpacked(april, NULL);
    /* 30 June: three payments, 26,913,579; 31 July: and the earned 2,468,888, 29,382,467. */
    Fundflow__V1__GetFundingFlowsResponse *june = flows_on(f->ledger, 20240630);
    assert_int_equal(flow_between(june, "QUE", "RGT"), 3 * MONTHLY);
    fundflow__v1__get_funding_flows_response__free_unpacked(june, NULL);
    Fundflow__V1__GetFundingFlowsResponse *july = flows_on(f->ledger, 20240731);
    assert_int_equal(flow_between(july, "QUE", "RGT"), 29382467);
    fundflow__v1__get_funding_flows_response__free_unpacked(july, NULL);
    /* From 1 September, without the reversed M2 payment, every flow is the table's own. */
    Fundflow__V1__GetFundingFlowsResponse *year_end = flows_on(f->ledger, 20250331);
    Fundflow__V1__GetFundingFlowsResponse *now = flows_on(f->ledger, 0);
    assert_int_equal(flow_between(year_end, "QUE", "RGT"), 20411274);
    assert_int_equal(year_end->n_flows, now->n_flows);
    for (size_t i = 0; i < now->n_flows; i++) {
        assert_string_equal(year_end->flows[i]->from_code, now->flows[i]->from_code);
        assert_string_equal(year_end->flows[i]->to_code, now->flows[i]->to_code);
        assert_int_equal(year_end->flows[i]->stream, now->flows[i]->stream);
        assert_int_equal(year_end->flows[i]->amount_pence, now->flows[i]->amount_pence);
        assert_int_equal(year_end->flows[i]->depth, now->flows[i]->depth);
    }
    fundflow__v1__get_funding_flows_response__free_unpacked(year_end, NULL);
    fundflow__v1__get_funding_flows_response__free_unpacked(now, NULL);
}

static const char *who_commissions(ff_ledger *ledger, const char *line, const char *icb,
                                   uint32_t date, char *buffer, size_t buffer_bytes) {
    Fundflow__V1__GetDelegationsRequest get = FUNDFLOW__V1__GET_DELEGATIONS_REQUEST__INIT;
    get.service_line_code = (char *)line;
    get.icb_code = (char *)icb;
    get.date = date;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_delegations(ledger, national(), &get.base, &response, &failure), FF_OK);
    snprintf(buffer, buffer_bytes, "%s",
             ((Fundflow__V1__GetDelegationsResponse *)response)->commissioner_code);
    protobuf_c_message_free_unpacked(response, NULL);
    return buffer;
}

static void test_delegation_register_either_side_of_its_dates(void **state) {
    test_fixture *f = *state;
    ff_ledger *l = f->ledger;
    char who[32];
    submit_ok(l, test_delegation("g1", "D-QJG-1", "QJG", "SL01", "QJG", FULL, 20240401, 20250331),
              W + 16);
    assert_string_equal(who_commissions(l, "SL01", "QUE", 20240331, who, sizeof who), "X24");
    assert_string_equal(who_commissions(l, "SL01", "QUE", 20240401, who, sizeof who), "QUE");
    assert_string_equal(who_commissions(l, "SL01", "QJG", 20250331, who, sizeof who), "QJG");
    assert_string_equal(who_commissions(l, "SL01", "QJG", 20250401, who, sizeof who), "X24");
    /* A retained line is NHS England's whatever the date. */
    assert_string_equal(who_commissions(l, "SL99", "QUE", 20240601, who, sizeof who), "X24");
    /* Revoking QUE's delegation from 30 September hands the line back the day after. */
    Fundflow__V1__Command *revoke = test_revocation("g2", "D-QUE-1", 20240930);
    submit_ok(l, revoke, W + 17);
    assert_string_equal(who_commissions(l, "SL01", "QUE", 20240930, who, sizeof who), "QUE");
    assert_string_equal(who_commissions(l, "SL01", "QUE", 20241001, who, sizeof who), "X24");
    /* The revocation is in the delegate's history. */
    Fundflow__V1__GetHistoryRequest history = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    history.name = (char *)"QUE";
    history.after_sequence = W + 16;
    ProtobufCMessage *events = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_history(l, national(), &history.base, &events, &failure), FF_OK);
    assert_int_equal(((Fundflow__V1__GetHistoryResponse *)events)->n_events, 1);
    assert_int_equal(((Fundflow__V1__GetHistoryResponse *)events)->events[0]->sequence, W + 17);
    protobuf_c_message_free_unpacked(events, NULL);
    /* Asking about a trust as if it were an ICB is refused. */
    Fundflow__V1__GetDelegationsRequest wrong = FUNDFLOW__V1__GET_DELEGATIONS_REQUEST__INIT;
    wrong.service_line_code = (char *)"SL01";
    wrong.icb_code = (char *)"RGT";
    wrong.date = 20240601;
    assert_int_equal(query_delegations(l, national(), &wrong.base, &events, &failure),
                     FF_ERR_ORG_KIND_NOT_ALLOWED);
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(l), NULL, &report), FF_OK);
}

/* An outcome achieved at 0 earns the provider nothing and releases the whole share to the
 * commissioner; reversing it puts the share back in the pot. Both replay identically. */
static void test_an_outcome_that_earned_nothing_releases_its_share(void **state) {
    test_fixture *f = *state;
    submit_ok(f->ledger, test_dated(test_outcome("z23", "C1", "MB", 0), 20240801),
              SEQ_REVERSAL + 1);
    Fundflow__V1__ContractPosition *reported = contract_at(f->ledger, 0);
    const Fundflow__V1__MetricState *metric = reported->contract->metrics[1];
    assert_true(metric->reported);
    assert_int_equal(metric->earned_pence, 0);
    assert_int_equal(metric->released_pence, SHARE_B);
    assert_int_equal(reported->withheld_pending_pence, 0);
    fundflow__v1__contract_position__free_unpacked(reported, NULL);
    submit_ok(f->ledger, test_dated(test_reversal("z24", SEQ_REVERSAL + 1, "reported too early"),
                                    20240801), SEQ_REVERSAL + 2);
    Fundflow__V1__ContractPosition *reversed = contract_at(f->ledger, 0);
    assert_false(reversed->contract->metrics[1]->reported);
    assert_int_equal(reversed->contract->metrics[1]->released_pence, 0);
    assert_int_equal(reversed->withheld_pending_pence, SHARE_B);
    fundflow__v1__contract_position__free_unpacked(reversed, NULL);
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(f->ledger), NULL, &report), FF_OK);
}

static void test_rebuild_replays_the_domain_identically(void **state) {
    test_fixture *f = *state;
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(ledger_store(f->ledger), &before, &before_bytes);
    verify_report report;
    assert_int_equal(verify_rebuild_projections(ledger_store(f->ledger), &report), FF_OK);
    test_projections_dump(ledger_store(f->ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    assert_int_equal(verify_ledger(ledger_store(f->ledger), NULL, &report), FF_OK);
    free(before);
    free(after);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define DOMAIN_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        DOMAIN_TEST(test_positions_after_each_step),
        DOMAIN_TEST(test_contract_position_month_by_month),
        DOMAIN_TEST(test_positions_as_at_an_effective_date),
        DOMAIN_TEST(test_contract_position_as_at_an_effective_date),
        DOMAIN_TEST(test_refusals_leave_no_trace),
        DOMAIN_TEST(test_effective_dates_fall_in_their_year),
        DOMAIN_TEST(test_a_closed_month_refuses_postings_into_it),
        DOMAIN_TEST(test_rollups_add_up_their_members),
        DOMAIN_TEST(test_funding_flows_conserve_money),
        DOMAIN_TEST(test_funding_flows_as_at_an_effective_date),
        DOMAIN_TEST(test_delegation_register_either_side_of_its_dates),
        DOMAIN_TEST(test_an_outcome_that_earned_nothing_releases_its_share),
        DOMAIN_TEST(test_rebuild_replays_the_domain_identically),
#undef DOMAIN_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
