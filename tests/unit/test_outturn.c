/* Tests of plans (PlanSet) and of GetOutturn: a scenario worked by hand month by month, with a
 * plan revision read as at before and after it, a rollup of an ICB and its place with a budget
 * passed between them (a flow inside the group), a region with its ICBs and their places, the M12
 * accrual, every stream at once, and the refusals of bad plans and bad requests. */
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
#include "verify.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define PRIMARY FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK

/* Sequences of the scenario (fixture_setup), W = TEST_WORLD_EVENTS = 16 on. */
#define W TEST_WORLD_EVENTS
enum {
    SEQ_PLAN_QUE = W + 5,
    SEQ_PLAN_06H = W + 6,
    SEQ_BEFORE_REVISION = W + 21,
    SEQ_REVISION = W + 22,
    SEQ_PLAN_PRIMARY = W + 23,
};

static const int64_t que_plan[12] = {80000, 80000, 80000, 80000, 80000, 80000,
                                     80000, 80000, 80000, 80000, 80000, 80000};
static const int64_t que_revised[12] = {80000, 80000, 80000, 80000, 80000, 80000,
                                        70000, 70000, 70000, 70000, 70000, 70000};
static const int64_t place_plan[12] = {20000, 20000, 20000, 20000, 20000, 20000,
                                       20000, 20000, 20000, 20000, 20000, 20000};
static const int64_t primary_plan[12] = {10000, 10000, 10000, 10000, 10000, 10000,
                                         10000, 10000, 10000, 10000, 10000, 10000};
static const int64_t que_paid[7] = {75000, 75000, 75000, 90000, 75000, 60000, 75000};

static void submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command) {
    ledger_result result;
    assert_int_equal(test_submit(ledger, command, &result), FF_OK);
    if (result.failure.code != FF_OK) fail_msg("refused: %s", result.failure.detail);
}

/* The world (1 to W = 16: X24, Y61, QUE, QJG, 06H under QUE, 07K under QJG, PC1, then NHS
 * England's 9 revenue limits for the year), then:
 *  17, 18  trusts RGT and RGM
 *  19      NHS England allocates £12,000.00 of core services to QUE
 *  20      QUE passes £3,000.00 on to its place 06H: a flow inside the QUE group, not spending
 *  21      QUE plans £800.00 a month (£9,600.00 for the year)
 *  22      06H plans £200.00 a month (£2,400.00)
 *  23      QUE contracts with RGT for £8,100.05
 *  24      06H contracts with RGM for £2,700.00
 *  25-30   QUE pays RGT for M1..M6: £750, £750, £750, £900, £750, £600 (£4,500.00)
 *  31      QUE pays RGT £750.00 for M7 (after to_month M6: not actual to M6)
 *  32-37   06H pays RGM £225.00 for each of M1..M6 (£1,350.00)
 *  38      QUE revises its plan: £800.00 for M1..M6, £700.00 for M7..M12 (£9,000.00)
 *  39      QUE plans £100.00 a month of primary medical care (£1,200.00) */
static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ff_ledger *l = f->ledger;
    test_world_register(l);
    submit_ok(l, test_org("o-rgt", "RGT", "Illustrative acute trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                          NULL));
    submit_ok(l, test_org("o-rgm", "RGM", "Illustrative community trust",
                          FUNDFLOW__V1__ORG_KIND__TRUST, NULL));
    submit_ok(l, test_allocation("a", "X24", "QUE", CORE, TEST_YEAR, 1200000));
    submit_ok(l, test_budget("b", "QUE", "06H", CORE, TEST_YEAR, 300000));
    submit_ok(l, test_plan("p-que", "QUE", CORE, que_plan));
    submit_ok(l, test_plan("p-06h", "06H", CORE, place_plan));
    submit_ok(l, test_contract("c-que", "C-QUE", "QUE", "RGT", BLOCK, CORE, 810005, 0, NULL));
    submit_ok(l, test_contract("c-06h", "C-06H", "06H", "RGM", BLOCK, CORE, 270000, 0, NULL));
    char key[32];
    for (uint32_t month = 1; month <= 7; month++) {
        snprintf(key, sizeof key, "pay-que-%u", month);
        submit_ok(l, test_payment(key, "C-QUE", month, que_paid[month - 1]));
    }
    for (uint32_t month = 1; month <= 6; month++) {
        snprintf(key, sizeof key, "pay-06h-%u", month);
        submit_ok(l, test_payment(key, "C-06H", month, 22500));
    }
    assert_int_equal(test_head_sequence(l), SEQ_BEFORE_REVISION);
    submit_ok(l, test_dated(test_plan("p-que-2", "QUE", CORE, que_revised), 20240915));
    submit_ok(l, test_plan("p-que-pmc", "QUE", PRIMARY, primary_plan));
    assert_int_equal(test_head_sequence(l), SEQ_PLAN_PRIMARY);
    *state = f;
    return 0;
}

static const access_principal *national(void) {
    static access_principal who;
    access_principal_bootstrap(&who, "test", TEST_EFFECTIVE_DATE);
    return &who;
}

static Fundflow__V1__Outturn *outturn_get(ff_ledger *ledger, const char *org, int stream,
                                          uint32_t to_month, bool rollup, uint64_t as_at) {
    Fundflow__V1__GetOutturnRequest get = FUNDFLOW__V1__GET_OUTTURN_REQUEST__INIT;
    get.org_code = (char *)org;
    get.stream = stream;
    get.financial_year = TEST_YEAR;
    get.to_month = to_month;
    get.rollup = rollup;
    get.as_at_sequence = as_at;
    query_handler handler = query_handler_find("GetOutturn");
    assert_non_null(handler);
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(handler(ledger, national(), &get.base, &response, &failure), FF_OK);
    assert_non_null(response);
    Fundflow__V1__Outturn *outturn = (Fundflow__V1__Outturn *)response;
    assert_int_equal(outturn->n_months, 12);
    return outturn;
}

static ff_failure outturn_refused_at(ff_ledger *ledger, const char *org, uint32_t to_month,
                                     int stream, uint64_t as_at) {
    Fundflow__V1__GetOutturnRequest get = FUNDFLOW__V1__GET_OUTTURN_REQUEST__INIT;
    get.org_code = (char *)org;
    get.stream = stream;
    get.financial_year = TEST_YEAR;
    get.to_month = to_month;
    get.as_at_sequence = as_at;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_not_equal(query_outturn(ledger, national(), &get.base, &response, &failure),
                         FF_OK);
    assert_null(response);
    return failure;
}

static ff_failure outturn_refused(ff_ledger *ledger, const char *org, uint32_t to_month,
                                  int stream) {
    return outturn_refused_at(ledger, org, to_month, stream, 0);
}

/* Each month's plan, actual, variance, committed and forecast, against the expected rows. */
static void months_check(const Fundflow__V1__Outturn *outturn, const int64_t expected[12][5]) {
    for (size_t m = 0; m < 12; m++) {
        const Fundflow__V1__OutturnMonth *row = outturn->months[m];
        assert_int_equal(row->month, m + 1);
        assert_int_equal(row->plan_pence, expected[m][0]);
        assert_int_equal(row->actual_pence, expected[m][1]);
        assert_int_equal(row->variance_pence, expected[m][2]);
        assert_int_equal(row->committed_pence, expected[m][3]);
        assert_int_equal(row->forecast_pence, expected[m][4]);
    }
}

/* QUE alone to M6, now (after the revision).
 * Plan: £800 M1..M6, £700 M7..M12; full year 4,800 + 4,200 = £9,000.00.
 * Actual: 750, 750, 750, 900, 750, 600 = £4,500.00; YTD plan £4,800.00; YTD variance −£300.00.
 * Remaining commitment: value 8,100.05 − released 0 − actual to M6 4,500.00 = £3,600.05 (the
 * £750 paid for M7 is in it: it is not actual to M6). Spread over M7..M12: floor(360005 / 6) =
 * 60000 each, M12 takes 360005 − 5 × 60000 = 60005.
 * Forecast M7..M12: max(70000, 60000) = 70000 each, M12 max(70000, 60005) = 70000: £4,200.00.
 * Uncommitted plan: 5 × (70000 − 60000) + (70000 − 60005) = 50000 + 9995 = £599.95.
 * Forecast outturn: 4,500.00 + 4,200.00 = £8,700.00; forecast variance 8,700 − 9,000 = −£300.00. */
static void test_outturn_after_the_revision(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", CORE, 6, false, 0);
    static const int64_t expected[12][5] = {
        {80000, 75000, -5000, 0, 75000},  {80000, 75000, -5000, 0, 75000},
        {80000, 75000, -5000, 0, 75000},  {80000, 90000, 10000, 0, 90000},
        {80000, 75000, -5000, 0, 75000},  {80000, 60000, -20000, 0, 60000},
        {70000, 0, 0, 60000, 70000},      {70000, 0, 0, 60000, 70000},
        {70000, 0, 0, 60000, 70000},      {70000, 0, 0, 60000, 70000},
        {70000, 0, 0, 60000, 70000},      {70000, 0, 0, 60005, 70000},
    };
    months_check(o, expected);
    assert_int_equal(o->as_at_sequence, SEQ_PLAN_PRIMARY);
    assert_int_equal(o->n_included_codes, 1);
    assert_string_equal(o->included_codes[0], "QUE");
    assert_int_equal(o->ytd_plan_pence, 480000);
    assert_int_equal(o->ytd_actual_pence, 450000);
    assert_int_equal(o->ytd_variance_pence, -30000);
    assert_int_equal(o->full_year_plan_pence, 900000);
    assert_int_equal(o->remaining_commitment_pence, 360005);
    assert_int_equal(o->uncommitted_plan_pence, 59995);
    assert_int_equal(o->forecast_outturn_pence, 870000);
    assert_int_equal(o->forecast_variance_pence, -30000);
    assert_int_equal(o->internal_pence, 0);
    assert_int_equal(o->n_plan_sequences, 1);
    assert_int_equal(o->plan_sequences[0], SEQ_REVISION);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* The same as at 37, before the revision: the first plan, £800 every month (£9,600.00), and the
 * same actuals and commitment. Forecast M7..M12: max(80000, 60000 or 60005) = 80000 each,
 * £4,800.00; uncommitted 5 × 20000 + 19995 = £1,199.95; forecast outturn 4,500 + 4,800 =
 * £9,300.00; forecast variance 9,300 − 9,600 = −£300.00. */
static void test_outturn_before_the_revision(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", CORE, 6, false, SEQ_BEFORE_REVISION);
    assert_int_equal(o->as_at_sequence, SEQ_BEFORE_REVISION);
    for (size_t m = 0; m < 12; m++) assert_int_equal(o->months[m]->plan_pence, 80000);
    assert_int_equal(o->months[6]->forecast_pence, 80000);
    assert_int_equal(o->months[11]->committed_pence, 60005);
    assert_int_equal(o->ytd_plan_pence, 480000);
    assert_int_equal(o->ytd_actual_pence, 450000);
    assert_int_equal(o->ytd_variance_pence, -30000);
    assert_int_equal(o->full_year_plan_pence, 960000);
    assert_int_equal(o->remaining_commitment_pence, 360005);
    assert_int_equal(o->uncommitted_plan_pence, 119995);
    assert_int_equal(o->forecast_outturn_pence, 930000);
    assert_int_equal(o->forecast_variance_pence, -30000);
    assert_int_equal(o->n_plan_sequences, 1);
    assert_int_equal(o->plan_sequences[0], SEQ_PLAN_QUE);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    /* As at 21, the plan stands but nothing is contracted or paid yet: forecast = plan. */
    o = outturn_get(f->ledger, "QUE", CORE, 6, false, SEQ_PLAN_QUE);
    assert_int_equal(o->ytd_actual_pence, 0);
    assert_int_equal(o->ytd_variance_pence, -480000);
    assert_int_equal(o->remaining_commitment_pence, 0);
    assert_int_equal(o->forecast_outturn_pence, 480000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* QUE rolled up with its place 06H, to M6, now. 07K (QJG's place) is not in it. The £3,000.00
 * QUE passed to 06H is a flow inside the group and no one's spending, so it appears nowhere.
 * Plan: QUE 800 + 06H 200 = £1,000 M1..M6; 700 + 200 = £900 M7..M12; 6,000 + 5,400 = £11,400.
 * Actual: QUE's + 225 a month: 975, 975, 975, 1,125, 975, 825 = £5,850.00 (= 4,500 + 1,350);
 * YTD plan £6,000.00; YTD variance −£150.00.
 * Remaining: 3,600.05 + (2,700 − 1,350) = £4,950.05; floor(495005 / 6) = 82500 each, M12 82505.
 * Forecast M7..M12: max(90000, 82500 or 82505) = 90000 each: £5,400.00. Uncommitted:
 * 5 × 7500 + 7495 = £449.95. Forecast outturn 5,850 + 5,400 = £11,250.00; variance −£150.00. */
static void test_outturn_rollup_of_an_icb_and_its_place(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", CORE, 6, true, 0);
    static const int64_t expected[12][5] = {
        {100000, 97500, -2500, 0, 97500},   {100000, 97500, -2500, 0, 97500},
        {100000, 97500, -2500, 0, 97500},   {100000, 112500, 12500, 0, 112500},
        {100000, 97500, -2500, 0, 97500},   {100000, 82500, -17500, 0, 82500},
        {90000, 0, 0, 82500, 90000},        {90000, 0, 0, 82500, 90000},
        {90000, 0, 0, 82500, 90000},        {90000, 0, 0, 82500, 90000},
        {90000, 0, 0, 82500, 90000},        {90000, 0, 0, 82505, 90000},
    };
    months_check(o, expected);
    assert_int_equal(o->n_included_codes, 2);
    assert_string_equal(o->included_codes[0], "QUE");
    assert_string_equal(o->included_codes[1], "06H");
    assert_int_equal(o->ytd_plan_pence, 600000);
    assert_int_equal(o->ytd_actual_pence, 585000);
    assert_int_equal(o->ytd_variance_pence, -15000);
    assert_int_equal(o->full_year_plan_pence, 1140000);
    assert_int_equal(o->remaining_commitment_pence, 495005);
    assert_int_equal(o->uncommitted_plan_pence, 44995);
    assert_int_equal(o->forecast_outturn_pence, 1125000);
    assert_int_equal(o->forecast_variance_pence, -15000);
    assert_int_equal(o->internal_pence, 0);
    assert_int_equal(o->n_plan_sequences, 2);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    /* The place alone: its £1,350.00 to M6 once, not again through the ICB's budget. */
    o = outturn_get(f->ledger, "06H", CORE, 6, false, 0);
    assert_int_equal(o->ytd_actual_pence, 135000);
    assert_int_equal(o->full_year_plan_pence, 240000);
    assert_int_equal(o->remaining_commitment_pence, 135000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* QUE to M12: actual is every month paid, 4,500 + 750 (M7) = £5,250.00; the rest of the
 * contract, 8,100.05 − 5,250.00 = £2,850.05, is still owed and accrued into M12, so the forecast
 * outturn is the contract's value, £8,100.05, and its variance 8,100.05 − 9,000 = −£899.95. */
static void test_outturn_at_m12_accrues_what_is_owed(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", CORE, 12, false, 0);
    assert_int_equal(o->ytd_actual_pence, 525000);
    assert_int_equal(o->months[6]->actual_pence, 75000);
    assert_int_equal(o->months[6]->variance_pence, 5000);
    assert_int_equal(o->months[7]->actual_pence, 0);
    assert_int_equal(o->months[7]->variance_pence, -70000);
    assert_int_equal(o->ytd_variance_pence, 525000 - 900000);
    assert_int_equal(o->remaining_commitment_pence, 285005);
    assert_int_equal(o->months[11]->committed_pence, 285005);
    assert_int_equal(o->months[11]->forecast_pence, 285005);
    assert_int_equal(o->uncommitted_plan_pence, 0);
    assert_int_equal(o->forecast_outturn_pence, 810005);
    assert_int_equal(o->forecast_variance_pence, -89995);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* Every stream at once: core £9,000.00 + primary medical care £1,200.00 = £10,200.00 of plan;
 * the only contracts are core, so actual and commitment are as for core. Forecast M7..M12:
 * max(70000 + 10000, 60000 or 60005) = 80000 each, £4,800.00; outturn 4,500 + 4,800 = £9,300.00. */
static void test_outturn_of_every_stream(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", 0, 6, false, 0);
    assert_int_equal(o->full_year_plan_pence, 1020000);
    assert_int_equal(o->ytd_actual_pence, 450000);
    assert_int_equal(o->forecast_outturn_pence, 930000);
    assert_int_equal(o->forecast_variance_pence, 930000 - 1020000);
    assert_int_equal(o->n_plan_sequences, 2);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    /* A stream with no plan and no contracts is all zeros, not an error. */
    o = outturn_get(f->ledger, "QJG", FUNDFLOW__V1__STREAM__CAPITAL, 6, true, 0);
    assert_int_equal(o->full_year_plan_pence, 0);
    assert_int_equal(o->forecast_outturn_pence, 0);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

static void test_outturn_refusals(void **state) {
    test_fixture *f = *state;
    ff_failure failure = outturn_refused(f->ledger, "QUE", 13, CORE);
    assert_int_equal(failure.code, FF_ERR_DATE_INVALID);
    assert_string_equal(failure.field, "to_month");
    failure = outturn_refused(f->ledger, "QUE", 0, CORE);
    assert_string_equal(failure.field, "to_month");
    failure = outturn_refused(f->ledger, "NOPE", 6, CORE);
    assert_int_equal(failure.code, FF_ERR_ORG_UNKNOWN);
    assert_string_equal(failure.field, "org_code");
    failure = outturn_refused(f->ledger, "QUE", 6, 99);
    assert_int_equal(failure.code, FF_ERR_ENUM_INVALID);
    assert_string_equal(failure.field, "stream");
    /* Beyond the head (39) is refused, not read as now, as every other query refuses it. */
    failure = outturn_refused_at(f->ledger, "QUE", 6, CORE, SEQ_PLAN_PRIMARY + 1);
    assert_int_equal(failure.code, FF_ERR_AS_AT_BEYOND_HEAD);
    assert_string_equal(failure.field, "as_at_sequence");
    assert_string_equal(failure.detail, "as_at_sequence 40 is beyond the ledger's head, event 39");
}

static void plan_refused(ff_ledger *ledger, Fundflow__V1__Command *command, ff_err code,
                         const char *field) {
    uint64_t head = test_head_sequence(ledger);
    ledger_result result;
    test_submit(ledger, command, &result);
    assert_int_equal(result.failure.code, code);
    assert_string_equal(result.failure.field, field);
    assert_int_equal(test_head_sequence(ledger), head);
}

/* Bad plans leave no trace; a plan cannot be reversed (a revision is a new PlanSet). */
static void test_plan_refusals(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Command *eleven = test_plan("bad-1", "QUE", CORE, que_plan);
    eleven->event->plan_set->n_month_amounts_pence = 11;
    plan_refused(f->ledger, eleven, FF_ERR_PLAN_MONTHS_INVALID, "month_amounts_pence");
    int64_t negative[12] = {1, 2, 3, 4, 5, -6, 7, 8, 9, 10, 11, 12};
    plan_refused(f->ledger, test_plan("bad-2", "QUE", CORE, negative), FF_ERR_PLAN_MONTHS_INVALID,
                 "month_amounts_pence");
    int64_t huge[12] = {INT64_MAX, 1};
    plan_refused(f->ledger, test_plan("bad-3", "QUE", CORE, huge), FF_ERR_SUM_OVERFLOW,
                 "month_amounts_pence");
    plan_refused(f->ledger, test_plan("bad-4", "NOPE", CORE, que_plan), FF_ERR_ORG_UNKNOWN,
                 "org_code");
    plan_refused(f->ledger, test_dated(test_plan("bad-5", "QUE", CORE, que_plan), 20250401),
                 FF_ERR_DATE_OUTSIDE_YEAR, "effective_date");
    plan_refused(f->ledger, test_plan("bad-6", "QUE", 0, que_plan), FF_ERR_ENUM_INVALID,
                 "stream");
    plan_refused(f->ledger, test_reversal("bad-7", SEQ_REVISION, "wrong plan"),
                 FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence");
}

static ff_err outturn_as(ff_ledger *ledger, const access_principal *who, const char *org,
                         bool rollup, Fundflow__V1__Outturn **outturn_out, ff_failure *failure) {
    Fundflow__V1__GetOutturnRequest get = FUNDFLOW__V1__GET_OUTTURN_REQUEST__INIT;
    get.org_code = (char *)org;
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.to_month = 6;
    get.rollup = rollup;
    failure_clear(failure);
    ProtobufCMessage *response = NULL;
    ff_err err = query_outturn(ledger, who, &get.base, &response, failure);
    *outturn_out = (Fundflow__V1__Outturn *)response;
    return err;
}

static access_principal reader_of(const char *scope) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "reader-%s", scope);
    snprintf(who.scope, sizeof who.scope, "%s", scope);
    who.role = FUNDFLOW__V1__PRINCIPAL_ROLE__READER;
    who.today = 20240901;
    return who;
}

/* A reader of QUE sees QUE's outturn, rolled up whole; a reader of its place 06H sees 06H's but
 * not QUE's; a reader of QJG sees neither. */
static void test_outturn_scope(void **state) {
    test_fixture *f = *state;
    access_principal que = reader_of("QUE"), place = reader_of("06H"), qjg = reader_of("QJG");
    Fundflow__V1__Outturn *o = NULL;
    ff_failure failure;
    assert_int_equal(outturn_as(f->ledger, &que, "QUE", true, &o, &failure), FF_OK);
    assert_int_equal(o->forecast_outturn_pence, 1125000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    assert_int_equal(outturn_as(f->ledger, &place, "06H", false, &o, &failure), FF_OK);
    assert_int_equal(o->ytd_actual_pence, 135000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    assert_int_equal(outturn_as(f->ledger, &place, "QUE", true, &o, &failure), FF_ERR_OUT_OF_SCOPE);
    assert_null(o);
    assert_string_equal(failure.field, "org_code");
    assert_int_equal(outturn_as(f->ledger, &qjg, "QUE", false, &o, &failure), FF_ERR_OUT_OF_SCOPE);
    assert_null(o);
}

/* Fails the nth store read of a rolled-up outturn for every n until none is left to fail: each
 * failure is a refusal with a reason and no response (the sanitizer build sees any leak). */
static void test_outturn_failed_reads_refuse(void **state) {
    test_fixture *f = *state;
    bool answered = false;
    size_t refused = 0;
    for (uint64_t nth = 1; nth <= 400 && !answered; nth++) {
        Fundflow__V1__Outturn *o = NULL;
        ff_failure failure;
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = outturn_as(f->ledger, national(), "QUE", true, &o, &failure);
        store_fault_clear();
        if (err == FF_OK) {
            assert_non_null(o);
            assert_int_equal(o->forecast_outturn_pence, 1125000);
            fundflow__v1__outturn__free_unpacked(o, NULL);
            answered = true;
            continue;
        }
        assert_null(o);
        assert_int_equal(failure.code, err);
        assert_true(failure.detail[0] != '\0');
        refused++;
    }
    assert_true(answered && refused > 10);
}

/* An outcome-based contract: QJG contracts with RGT for £1,000.00 with a £200.00 pot on metrics MA
 * (60%) and MB (40%); pays £100.00 for M1 and M2; MA is reported at 50% on 10 June (M3).
 * MA's share is floor(20000 × 6000 / 10000) = 12000; it earns floor(12000 × 5000 / 10000) = 6000
 * (£60.00, actual in M3) and releases the other 6000 to QJG's budget.
 * Outturn to M3, no plan: actual 10000 + 10000 + 6000 = £260.00. Remaining commitment:
 * value 100000 − released 6000 − 26000 = £680.00 (MB's £80.00 pot still awaiting its report is in
 * it); spread over 9 months: floor(68000 / 9) = 7555 each, M12 68000 − 8 × 7555 = 7560.
 * Forecast outturn 26000 + 68000 = £940.00, the contract's value less what was released. */
static int outcome_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ff_ledger *l = f->ledger;
    test_world_register(l);
    submit_ok(l, test_org("o-rgt", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                          NULL));
    submit_ok(l, test_allocation("a", "X24", "QJG", CORE, TEST_YEAR, 500000));
    submit_ok(l, test_contract("c", "C-OUT", "QJG", "RGT",
                               FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED, CORE, 100000, 20000,
                               "MA:6000,MB:4000"));
    submit_ok(l, test_payment("m1", "C-OUT", 1, 10000));
    submit_ok(l, test_payment("m2", "C-OUT", 2, 10000));
    submit_ok(l, test_dated(test_outcome("o", "C-OUT", "MA", 5000), 20240610));
    *state = f;
    return 0;
}

static void test_outturn_counts_outcome_earnings_in_their_month(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QJG", CORE, 3, false, 0);
    assert_int_equal(o->months[0]->actual_pence, 10000);
    assert_int_equal(o->months[1]->actual_pence, 10000);
    assert_int_equal(o->months[2]->actual_pence, 6000);
    assert_int_equal(o->months[2]->variance_pence, 6000);
    assert_int_equal(o->ytd_actual_pence, 26000);
    assert_int_equal(o->remaining_commitment_pence, 68000);
    assert_int_equal(o->months[3]->committed_pence, 7555);
    assert_int_equal(o->months[10]->committed_pence, 7555);
    assert_int_equal(o->months[11]->committed_pence, 7560);
    assert_int_equal(o->months[11]->forecast_pence, 7560);
    assert_int_equal(o->uncommitted_plan_pence, 0);
    assert_int_equal(o->forecast_outturn_pence, 94000);
    assert_int_equal(o->forecast_variance_pence, 94000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    /* To M2 the report (dated in M3) is not yet actual: 20000 to date, and 100000 − 6000 −
     * 20000 = 74000 remaining; the forecast outturn is the same £940.00. */
    o = outturn_get(f->ledger, "QJG", CORE, 2, false, 0);
    assert_int_equal(o->ytd_actual_pence, 20000);
    assert_int_equal(o->remaining_commitment_pence, 74000);
    assert_int_equal(o->forecast_outturn_pence, 94000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* The plans table is a projection: verify replays it byte for byte, and a rebuild gives the
 * same outturn. */
static void test_plans_rebuild_identically(void **state) {
    test_fixture *f = *state;
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(f->ledger), NULL, &report), FF_OK);
    assert_int_equal(verify_rebuild_projections(ledger_store(f->ledger), &report), FF_OK);
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "QUE", CORE, 6, true, 0);
    assert_int_equal(o->forecast_outturn_pence, 1125000);
    assert_int_equal(o->months[0]->plan_pence, 100000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}


/* A region's rollup: region Y61 with its ICBs QUE and QJG and their places 06H and 07K, each ICB
 * passing a budget to its place (flows inside the group, no one's spending):
 *  17      trust RGT
 *  18, 19  NHS England allocates core services: £12,000.00 to QUE, £6,000.00 to QJG
 *  20, 21  budgets QUE -> 06H £3,000.00 and QJG -> 07K £1,000.00
 *  22-24   plans a month: QUE £800.00, QJG £300.00, 07K £100.00 (06H and Y61 plan nothing)
 *  25-27   contracts with RGT: QUE £6,000.00, QJG £2,400.00, 07K £900.00
 *  28-30   QUE pays £500.00 for each of M1..M3
 *  31-33   QJG pays £200.00 for each of M1..M3
 *  34-36   07K pays £100.00 for M1 and M2 and £150.00 for M3 */
static int region_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ff_ledger *l = f->ledger;
    test_world_register(l);
    submit_ok(l, test_org("o-rgt", "RGT", "Illustrative trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                          NULL));
    submit_ok(l, test_allocation("a-que", "X24", "QUE", CORE, TEST_YEAR, 1200000));
    submit_ok(l, test_allocation("a-qjg", "X24", "QJG", CORE, TEST_YEAR, 600000));
    submit_ok(l, test_budget("b-06h", "QUE", "06H", CORE, TEST_YEAR, 300000));
    submit_ok(l, test_budget("b-07k", "QJG", "07K", CORE, TEST_YEAR, 100000));
    static const int64_t qjg_plan[12] = {30000, 30000, 30000, 30000, 30000, 30000,
                                         30000, 30000, 30000, 30000, 30000, 30000};
    static const int64_t k07_plan[12] = {10000, 10000, 10000, 10000, 10000, 10000,
                                         10000, 10000, 10000, 10000, 10000, 10000};
    submit_ok(l, test_plan("p-que", "QUE", CORE, que_plan));
    submit_ok(l, test_plan("p-qjg", "QJG", CORE, qjg_plan));
    submit_ok(l, test_plan("p-07k", "07K", CORE, k07_plan));
    submit_ok(l, test_contract("c-que", "C-QUE", "QUE", "RGT", BLOCK, CORE, 600000, 0, NULL));
    submit_ok(l, test_contract("c-qjg", "C-QJG", "QJG", "RGT", BLOCK, CORE, 240000, 0, NULL));
    submit_ok(l, test_contract("c-07k", "C-07K", "07K", "RGT", BLOCK, CORE, 90000, 0, NULL));
    static const int64_t k07_paid[3] = {10000, 10000, 15000};
    char key[32];
    for (uint32_t month = 1; month <= 3; month++) {
        snprintf(key, sizeof key, "pay-que-%u", month);
        submit_ok(l, test_payment(key, "C-QUE", month, 50000));
        snprintf(key, sizeof key, "pay-qjg-%u", month);
        submit_ok(l, test_payment(key, "C-QJG", month, 20000));
        snprintf(key, sizeof key, "pay-07k-%u", month);
        submit_ok(l, test_payment(key, "C-07K", month, k07_paid[month - 1]));
    }
    assert_int_equal(test_head_sequence(l), W + 20);
    *state = f;
    return 0;
}

static bool outturn_includes(const Fundflow__V1__Outturn *outturn, const char *code) {
    for (size_t i = 0; i < outturn->n_included_codes; i++) {
        if (strcmp(outturn->included_codes[i], code) == 0) return true;
    }
    return false;
}

/* Y61 rolled up to M3: the group is Y61, QUE, QJG, 06H and 07K (not PC1, RGT or X24).
 * Plan a month: QUE 800 + QJG 300 + 07K 100 = £1,200.00; full year 12 × 1,200 = £14,400.00.
 * Actual: M1 500 + 200 + 100 = £800.00, M2 £800.00, M3 500 + 200 + 150 = £850.00; YTD £2,450.00
 * against a YTD plan of £3,600.00: variance −£1,150.00 (−400, −400, −350 a month).
 * The budgets (£3,000.00 and £1,000.00) are flows inside the group and appear nowhere; RGT is
 * outside the group, so nothing is internal.
 * Remaining: QUE 6,000 − 1,500 = 4,500; QJG 2,400 − 600 = 1,800; 07K 900 − 350 = 550: £6,850.00.
 * Spread over M4..M12: floor(685000 / 9) = 76111 each, M12 685000 − 8 × 76111 = 76112.
 * Forecast M4..M12: max(120000, 76111 or 76112) = 120000 each: £10,800.00. Uncommitted:
 * 8 × 43889 + 43888 = £3,950.00 (= 10,800 − 6,850). Forecast outturn 2,450 + 10,800 =
 * £13,250.00; variance 13,250 − 14,400 = −£1,150.00.
 * The ICBs' own rollups add up to it with nothing counted twice: QUE with 06H has plan £9,600.00,
 * actual £1,500.00, remaining £4,500.00; QJG with 07K £4,800.00, £950.00, £2,350.00. */
static void test_outturn_rollup_of_a_region(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "Y61", CORE, 3, true, 0);
    assert_int_equal(o->n_included_codes, 5);
    assert_string_equal(o->included_codes[0], "Y61");
    const char *members[] = {"QUE", "QJG", "06H", "07K"};
    for (size_t i = 0; i < 4; i++) assert_true(outturn_includes(o, members[i]));
    assert_false(outturn_includes(o, "PC1"));
    static const int64_t expected[12][5] = {
        {120000, 80000, -40000, 0, 80000},  {120000, 80000, -40000, 0, 80000},
        {120000, 85000, -35000, 0, 85000},  {120000, 0, 0, 76111, 120000},
        {120000, 0, 0, 76111, 120000},      {120000, 0, 0, 76111, 120000},
        {120000, 0, 0, 76111, 120000},      {120000, 0, 0, 76111, 120000},
        {120000, 0, 0, 76111, 120000},      {120000, 0, 0, 76111, 120000},
        {120000, 0, 0, 76111, 120000},      {120000, 0, 0, 76112, 120000},
    };
    months_check(o, expected);
    assert_int_equal(o->ytd_plan_pence, 360000);
    assert_int_equal(o->ytd_actual_pence, 245000);
    assert_int_equal(o->ytd_variance_pence, -115000);
    assert_int_equal(o->full_year_plan_pence, 1440000);
    assert_int_equal(o->remaining_commitment_pence, 685000);
    assert_int_equal(o->uncommitted_plan_pence, 395000);
    assert_int_equal(o->forecast_outturn_pence, 1325000);
    assert_int_equal(o->forecast_variance_pence, -115000);
    assert_int_equal(o->internal_pence, 0);
    assert_int_equal(o->n_plan_sequences, 3);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    /* The region alone plans and pays nothing. */
    o = outturn_get(f->ledger, "Y61", CORE, 3, false, 0);
    assert_int_equal(o->n_included_codes, 1);
    assert_int_equal(o->full_year_plan_pence, 0);
    assert_int_equal(o->ytd_actual_pence, 0);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    o = outturn_get(f->ledger, "QUE", CORE, 3, true, 0);
    assert_int_equal(o->full_year_plan_pence, 960000);
    assert_int_equal(o->ytd_actual_pence, 150000);
    assert_int_equal(o->remaining_commitment_pence, 450000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
    o = outturn_get(f->ledger, "QJG", CORE, 3, true, 0);
    assert_int_equal(o->full_year_plan_pence, 480000);
    assert_int_equal(o->ytd_actual_pence, 95000);
    assert_int_equal(o->remaining_commitment_pence, 235000);
    fundflow__v1__outturn__free_unpacked(o, NULL);
}

/* The outturn's group is the position rollup's on the same date (the year's last day). */
static void test_outturn_group_is_the_positions(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)"Y61";
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    get.as_at_date = 20250331;
    get.rollup = true;
    query_handler handler = query_handler_find("GetPosition");
    assert_non_null(handler);
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(handler(f->ledger, national(), &get.base, &response, &failure), FF_OK);
    Fundflow__V1__Position *position = (Fundflow__V1__Position *)response;
    Fundflow__V1__Outturn *o = outturn_get(f->ledger, "Y61", CORE, 3, true, 0);
    assert_int_equal(position->n_included_codes, o->n_included_codes);
    for (size_t i = 0; i < o->n_included_codes; i++) {
        assert_string_equal(position->included_codes[i], o->included_codes[i]);
    }
    fundflow__v1__outturn__free_unpacked(o, NULL);
    fundflow__v1__position__free_unpacked(position, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outturn_after_the_revision),
        cmocka_unit_test(test_outturn_before_the_revision),
        cmocka_unit_test(test_outturn_rollup_of_an_icb_and_its_place),
        cmocka_unit_test(test_outturn_at_m12_accrues_what_is_owed),
        cmocka_unit_test(test_outturn_of_every_stream),
        cmocka_unit_test(test_outturn_refusals),
        cmocka_unit_test(test_plan_refusals),
        cmocka_unit_test(test_outturn_scope),
        cmocka_unit_test(test_outturn_failed_reads_refuse),
        cmocka_unit_test(test_plans_rebuild_identically),
    };
    int failed = cmocka_run_group_tests(tests, fixture_setup, test_fixture_teardown);
    const struct CMUnitTest outcome_tests[] = {
        cmocka_unit_test(test_outturn_counts_outcome_earnings_in_their_month),
    };
    failed += cmocka_run_group_tests(outcome_tests, outcome_setup, test_fixture_teardown);
    const struct CMUnitTest region_tests[] = {
        cmocka_unit_test(test_outturn_rollup_of_a_region),
        cmocka_unit_test(test_outturn_group_is_the_positions),
    };
    return failed + cmocka_run_group_tests(region_tests, region_setup, test_fixture_teardown);
}
