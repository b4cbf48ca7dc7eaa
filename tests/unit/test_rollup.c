/* Positions under the one set of definitions: rollups that take out the flows inside the group
 * (an ICB and its place, a region and its ICBs and places, a collaborative and its members),
 * now and as at a sequence and a date; an ICB across every stream; and a provider's contracts
 * across its commissioners. Every figure is worked by hand below. */
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
#define PRIMARY FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE
#define ALL_STREAMS FUNDFLOW__V1__STREAM__STREAM_UNSPECIFIED
#define OUTCOME FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define READER FUNDFLOW__V1__PRINCIPAL_ROLE__READER

/* The scenario, in pence (£1 = 100). The world (W = TEST_WORLD_EVENTS = 16 events: 7 organisations,
 * then NHS England's 9 revenue limits) is NHS England X24, region Y61, ICBs QUE and QJG under
 * it, places 06H under QUE and 07K under QJG, and collaborative PC1; X24's limit for every
 * stream is L = TEST_WORLD_LIMIT_PENCE. The scenario's events follow it, numbered W+n:
 *
 * W+1 trust RGT (under QUE)          W+2 trust RWH (under QJG)
 * W+3 collaborative MHPC, members RGT and RWH
 * W+4 X24 -> QUE core     £3,450     W+5 X24 -> QJG core £1,000   W+6 X24 -> QUE primary £500
 * W+7 QUE -> 06H core     £1,350     W+8 QJG -> 07K core £200     W+9 QUE -> MHPC core £100
 * W+10 QUE -> 06H core     £100, dated 2024-06-01
 * W+11 reversal of W+10, dated 2024-07-01
 * W+12 C1 QUE -> RGT core, outcome based, £1,200 with a £100 pot (metric MA)
 * W+13 C2 06H -> RGT core, block, £600     W+14 C3 QUE -> RGT primary, block, £400
 * W+15 C1 M1 paid £300                     W+16 C2 M1 paid £50
 * W+17 C1 MA achieved 50%, dated 2024-08-01: earned £50, released £50
 * Everything else is dated 2024-04-01.
 *
 * One organisation, core services:
 *   QUE  received 3,450; passed on 1,350 + 100 = 1,450; held 2,000;
 *        C1: paid 300, unpaid (1,200 - 100 - 300) 800, withheld 0, earned 50 -> value 1,150;
 *        released 50; uncommitted headroom 2,000 - 1,150 = 850.
 *   06H  received 1,350; held 1,350; C2: paid 50, unpaid 550 -> value 600; headroom 750.
 *   QJG  received 1,000; passed on 200; held 800; headroom 800.     07K  held 200.
 * Rollup QUE (QUE + 06H): received from outside 3,450 (06H's 1,350 came from QUE);
 *   passed on outside 100 (to MHPC); internal 1,350; held 3,350; value 1,150 + 600 = 1,750;
 *   headroom 3,350 - 1,750 = 1,600 = 850 + 750.
 * Rollup Y61 (Y61, QUE, QJG, 06H, 07K): received 3,450 + 1,000 = 4,450; passed on outside 100;
 *   internal 1,350 + 200 = 1,550; held 4,350; value 1,750; headroom 2,600
 *   = 850 + 750 + 800 + 200.
 * Rollup MHPC (MHPC, RGT, RWH): MHPC received 100 from QUE; RGT received its payments 300 + 50
 *   and its earned 50; nothing flows between them: received 500, internal 0, headroom 500. */
#define W TEST_WORLD_EVENTS
enum {
    SEQ_BUDGET_TO_PLACE = W + 7,
    SEQ_EXTRA_BUDGET = W + 10,
    SEQ_EXTRA_REVERSED = W + 11,
    SEQ_C1_AGREED = W + 12,
    SEQ_LAST = W + 17,
};

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

static Fundflow__V1__Command *collaborative(void) {
    Fundflow__V1__Command *command =
        test_org("r10", "MHPC", "Illustrative collaborative",
                 FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, NULL);
    Fundflow__V1__OrgRegistered *org = command->event->org_registered;
    org->member_codes = malloc(2 * sizeof(char *));
    org->member_codes[0] = strdup("RGT"), org->member_codes[1] = strdup("RWH");
    org->n_member_codes = 2;
    org->lead_provider_code = strdup("RGT");
    return command;
}

static void scenario_record(ff_ledger *l) {
    assert_int_equal(test_world_register(l), W);
    submit_ok(l, test_org("r8", "RGT", "Trust one", FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"), W + 1);
    submit_ok(l, test_org("r9", "RWH", "Trust two", FUNDFLOW__V1__ORG_KIND__TRUST, "QJG"), W + 2);
    submit_ok(l, collaborative(), W + 3);
    submit_ok(l, test_allocation("r11", "X24", "QUE", CORE, TEST_YEAR, 345000), W + 4);
    submit_ok(l, test_allocation("r12", "X24", "QJG", CORE, TEST_YEAR, 100000), W + 5);
    submit_ok(l, test_allocation("r13", "X24", "QUE", PRIMARY, TEST_YEAR, 50000), W + 6);
    submit_ok(l, test_budget("r14", "QUE", "06H", CORE, TEST_YEAR, 135000), SEQ_BUDGET_TO_PLACE);
    submit_ok(l, test_budget("r15", "QJG", "07K", CORE, TEST_YEAR, 20000), W + 8);
    submit_ok(l, test_budget("r16", "QUE", "MHPC", CORE, TEST_YEAR, 10000), W + 9);
    submit_ok(l, test_dated(test_budget("r17", "QUE", "06H", CORE, TEST_YEAR, 10000), 20240601),
              SEQ_EXTRA_BUDGET);
    submit_ok(l, test_dated(test_reversal("r18", SEQ_EXTRA_BUDGET, "sent twice"), 20240701),
              SEQ_EXTRA_REVERSED);
    submit_ok(l, test_contract("r19", "C1", "QUE", "RGT", OUTCOME, CORE, 120000, 10000, "MA:10000"),
              SEQ_C1_AGREED);
    submit_ok(l, test_contract("r20", "C2", "06H", "RGT", BLOCK, CORE, 60000, 0, NULL), W + 13);
    submit_ok(l, test_contract("r21", "C3", "QUE", "RGT", BLOCK, PRIMARY, 40000, 0, NULL), W + 14);
    submit_ok(l, test_payment("r22", "C1", 1, 30000), W + 15);
    submit_ok(l, test_payment("r23", "C2", 1, 5000), W + 16);
    submit_ok(l, test_dated(test_outcome("r24", "C1", "MA", 5000), 20240801), SEQ_LAST);
}

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    scenario_record(f->ledger);
    *state = f;
    return 0;
}

typedef struct position_ask {
    const char *org;
    Fundflow__V1__Stream stream;
    bool rollup;
    bool contracts;
    uint64_t as_at;
    uint32_t as_at_date;
} position_ask;

static Fundflow__V1__Position *position_as(ff_ledger *ledger, const access_principal *who,
                                           position_ask ask) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)ask.org;
    get.stream = ask.stream;
    get.financial_year = TEST_YEAR;
    get.as_at_sequence = ask.as_at;
    get.as_at_date = ask.as_at_date;
    get.rollup = ask.rollup;
    get.provider_contracts = ask.contracts;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    if (query_position_get(ledger, who, &get.base, &response, &failure) != FF_OK) {
        fail_msg("position of %s: %s", ask.org, failure.detail);
    }
    return (Fundflow__V1__Position *)response;
}

static Fundflow__V1__Position *position(ff_ledger *ledger, position_ask ask) {
    return position_as(ledger, national(), ask);
}

/* The definitions hold on every position: received + funding drawn - passed on = held;
 * paid + unpaid + withheld + earned = contract value; held - contract value = headroom. */
static void assert_adds_up(const Fundflow__V1__Position *p) {
    assert_int_equal(p->received_pence + p->funding_drawn_pence - p->passed_on_pence,
                     p->held_pence);
    assert_int_equal(p->paid_pence + p->committed_pence + p->withheld_pence + p->earned_pence,
                     p->contract_value_pence);
    assert_int_equal(p->held_pence - p->contract_value_pence, p->headroom_pence);
}

/* received, passed on, held, contract value, headroom, internal transfers. */
static void assert_figures(const Fundflow__V1__Position *p, int64_t received, int64_t passed_on,
                           int64_t held, int64_t value, int64_t headroom, int64_t internal) {
    assert_adds_up(p);
    assert_int_equal(p->received_pence, received);
    assert_int_equal(p->passed_on_pence, passed_on);
    assert_int_equal(p->held_pence, held);
    assert_int_equal(p->contract_value_pence, value);
    assert_int_equal(p->headroom_pence, headroom);
    assert_int_equal(p->internal_transfers_pence, internal);
}

static void test_one_organisation_adds_up(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *que = position(f->ledger, (position_ask){"QUE", CORE, false, false, 0, 0});
    assert_figures(que, 345000, 145000, 200000, 115000, 85000, 0);
    assert_int_equal(que->paid_pence, 30000);
    assert_int_equal(que->committed_pence, 80000);
    assert_int_equal(que->withheld_pence, 0);
    assert_int_equal(que->earned_pence, 5000);
    assert_int_equal(que->released_pence, 5000);
    fundflow__v1__position__free_unpacked(que, NULL);
    Fundflow__V1__Position *place = position(f->ledger, (position_ask){"06H", CORE, false, false, 0, 0});
    assert_figures(place, 135000, 0, 135000, 60000, 75000, 0);
    fundflow__v1__position__free_unpacked(place, NULL);
    /* NHS England allocates from its revenue limit: received L, funding drawn 0, passed on
     * 3,450 + 1,000 = 4,450; it holds, and has as headroom, L - 4,450. */
    Fundflow__V1__Position *nhse = position(f->ledger, (position_ask){"X24", CORE, false, false, 0, 0});
    assert_figures(nhse, TEST_WORLD_LIMIT_PENCE, 445000, TEST_WORLD_LIMIT_PENCE - 445000, 0,
                   TEST_WORLD_LIMIT_PENCE - 445000, 0);
    assert_int_equal(nhse->funding_drawn_pence, 0);
    fundflow__v1__position__free_unpacked(nhse, NULL);
}

static void test_an_icb_rollup_takes_out_its_budget_to_its_place(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *group = position(f->ledger, (position_ask){"QUE", CORE, true, false, 0, 0});
    assert_int_equal(group->n_included_codes, 2);
    assert_figures(group, 345000, 10000, 335000, 175000, 160000, 135000);
    assert_int_equal(group->internal_contract_value_pence, 0);
    assert_int_equal(group->internal_contract_paid_pence, 0);
    fundflow__v1__position__free_unpacked(group, NULL);
}

static void test_a_rollup_as_at_a_sequence_and_a_date(void **state) {
    test_fixture *f = *state;
    /* Before the budget to 06H: nothing internal, nothing passed on, no contracts. */
    Fundflow__V1__Position *p =
        position(f->ledger, (position_ask){"QUE", CORE, true, false, SEQ_BUDGET_TO_PLACE - 1, 0});
    assert_figures(p, 345000, 0, 345000, 0, 345000, 0);
    fundflow__v1__position__free_unpacked(p, NULL);
    /* Once the extra £100 reached 06H and before its reversal: internal 1,350 + 100 = 1,450,
     * received still 3,450 and passed on outside 100 (to MHPC). */
    p = position(f->ledger, (position_ask){"QUE", CORE, true, false, SEQ_EXTRA_BUDGET, 0});
    assert_figures(p, 345000, 10000, 335000, 0, 335000, 145000);
    fundflow__v1__position__free_unpacked(p, NULL);
    /* By date, now: on 2024-05-01 the extra budget (2024-06-01) had not taken effect; on
     * 2024-06-15 it had and its reversal (2024-07-01) had not. C1's outcome (2024-08-01) had
     * not been reported either: C1 was then paid 300, unpaid 800, withheld 100 = 1,200. */
    p = position(f->ledger, (position_ask){"QUE", CORE, true, false, 0, 20240501});
    assert_figures(p, 345000, 10000, 335000, 120000 + 60000, 335000 - 180000, 135000);
    fundflow__v1__position__free_unpacked(p, NULL);
    p = position(f->ledger, (position_ask){"QUE", CORE, true, false, 0, 20240615});
    assert_figures(p, 345000, 10000, 335000, 180000, 155000, 145000);
    fundflow__v1__position__free_unpacked(p, NULL);
}

static void test_a_region_rollup_takes_out_every_flow_inside_it(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *region = position(f->ledger, (position_ask){"Y61", CORE, true, false, 0, 0});
    assert_int_equal(region->n_included_codes, 5); /* Y61, QUE, QJG, 06H, 07K */
    assert_figures(region, 445000, 10000, 435000, 175000, 260000, 155000);
    fundflow__v1__position__free_unpacked(region, NULL);
}

static void test_a_collaborative_rollup_has_nothing_internal(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *group = position(f->ledger, (position_ask){"MHPC", CORE, true, false, 0, 0});
    assert_int_equal(group->n_included_codes, 3);
    assert_figures(group, 50000, 0, 50000, 0, 50000, 0);
    fundflow__v1__position__free_unpacked(group, NULL);
}

/* QUE across every stream: core as above; primary received 500, C3 unpaid 400, headroom 100. */
static void test_every_stream_one_row_each_and_a_total(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *all = position(f->ledger, (position_ask){"QUE", ALL_STREAMS, false, false, 0, 0});
    assert_int_equal(all->n_streams, 2);
    assert_int_equal(all->streams[0]->stream, CORE);
    assert_figures(all->streams[0], 345000, 145000, 200000, 115000, 85000, 0);
    assert_int_equal(all->streams[1]->stream, PRIMARY);
    assert_figures(all->streams[1], 50000, 0, 50000, 40000, 10000, 0);
    assert_figures(all, 395000, 145000, 250000, 155000, 95000, 0);
    assert_int_equal(all->n_included_codes, 1);
    fundflow__v1__position__free_unpacked(all, NULL);
}

static void assert_line(const Fundflow__V1__ProviderContractLine *line, const char *commissioner,
                        const char *contract, int64_t value, int64_t paid, int64_t earned,
                        int64_t withheld, int64_t outstanding) {
    assert_string_equal(line->commissioner_code, commissioner);
    assert_string_equal(line->contract_id, contract);
    assert_int_equal(line->value_pence, value);
    assert_int_equal(line->paid_pence, paid);
    assert_int_equal(line->earned_pence, earned);
    assert_int_equal(line->withheld_pence, withheld);
    assert_int_equal(line->outstanding_pence, outstanding);
    /* value = paid + earned + outstanding, outstanding holding the withheld pot. */
    assert_int_equal(line->value_pence, line->paid_pence + line->earned_pence +
                                            line->outstanding_pence);
}

/* RGT's contracts, by commissioner (06H sorts before QUE):
 *   06H C2  value 600, paid 50, outstanding 550
 *   QUE C1  value 1,200 - released 50 = 1,150, paid 300, earned 50, outstanding 800
 *   QUE C3  value 400, outstanding 400
 *   totals  06H 600 / 50 / 0 / 550; QUE 1,550 / 300 / 50 / 1,200; all 2,150 / 350 / 50 / 1,750 */
static void test_a_provider_sees_every_contract_across_its_commissioners(void **state) {
    test_fixture *f = *state;
    Fundflow__V1__Position *p =
        position(f->ledger, (position_ask){"RGT", ALL_STREAMS, false, true, 0, 0});
    assert_int_equal(p->n_contracts, 3);
    assert_line(p->contracts[0], "06H", "C2", 60000, 5000, 0, 0, 55000);
    assert_line(p->contracts[1], "QUE", "C1", 115000, 30000, 5000, 0, 80000);
    assert_int_equal(p->contracts[1]->released_pence, 5000);
    assert_line(p->contracts[2], "QUE", "C3", 40000, 0, 0, 0, 40000);
    assert_int_equal(p->n_commissioner_totals, 2);
    assert_line(p->commissioner_totals[0], "06H", "", 60000, 5000, 0, 0, 55000);
    assert_line(p->commissioner_totals[1], "QUE", "", 155000, 30000, 5000, 0, 120000);
    assert_line(p->contracts_total, "", "", 215000, 35000, 5000, 0, 175000);
    /* RGT's own accounts: it received 300 + 50 + 50 in core and holds it. */
    assert_figures(p, 40000, 0, 40000, 0, 40000, 0);
    fundflow__v1__position__free_unpacked(p, NULL);
    /* One stream: core only, C3 left out. */
    p = position(f->ledger, (position_ask){"RGT", CORE, false, true, 0, 0});
    assert_int_equal(p->n_contracts, 2);
    assert_line(p->contracts_total, "", "", 175000, 35000, 5000, 0, 135000);
    fundflow__v1__position__free_unpacked(p, NULL);
    /* As at 2024-07-01, before MA was reported: C1's pot is still withheld. */
    p = position(f->ledger, (position_ask){"RGT", CORE, false, true, 0, 20240701});
    assert_line(p->contracts[1], "QUE", "C1", 120000, 30000, 0, 10000, 90000);
    fundflow__v1__position__free_unpacked(p, NULL);
    /* As at the sequence before C2 was agreed, only C1 existed, unpaid: outstanding is its
     * unpaid 1,100 and its withheld pot 100. */
    p = position(f->ledger, (position_ask){"RGT", ALL_STREAMS, false, true, SEQ_C1_AGREED, 0});
    assert_int_equal(p->n_contracts, 1);
    assert_line(p->contracts[0], "QUE", "C1", 120000, 0, 0, 10000, 120000);
    fundflow__v1__position__free_unpacked(p, NULL);
}

static void test_a_provider_view_is_scoped(void **state) {
    test_fixture *f = *state;
    access_principal rgt, rwh;
    memset(&rgt, 0, sizeof rgt), memset(&rwh, 0, sizeof rwh);
    snprintf(rgt.name, sizeof rgt.name, "rgt"), snprintf(rgt.scope, sizeof rgt.scope, "RGT");
    snprintf(rwh.name, sizeof rwh.name, "rwh"), snprintf(rwh.scope, sizeof rwh.scope, "RWH");
    rgt.role = rwh.role = READER;
    rgt.today = rwh.today = 20250101;
    Fundflow__V1__Position *p = position_as(f->ledger, &rgt,
                                            (position_ask){"RGT", ALL_STREAMS, false, true, 0, 0});
    assert_int_equal(p->n_contracts, 3); /* a provider sees every contract it is party to */
    fundflow__v1__position__free_unpacked(p, NULL);
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)"RGT";
    get.financial_year = TEST_YEAR;
    get.provider_contracts = true;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_position_get(f->ledger, &rwh, &get.base, &response, &failure),
                     FF_ERR_OUT_OF_SCOPE);
    assert_null(response);
    assert_string_equal(failure.field, "org_code");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_organisation_adds_up),
        cmocka_unit_test(test_an_icb_rollup_takes_out_its_budget_to_its_place),
        cmocka_unit_test(test_a_rollup_as_at_a_sequence_and_a_date),
        cmocka_unit_test(test_a_region_rollup_takes_out_every_flow_inside_it),
        cmocka_unit_test(test_a_collaborative_rollup_has_nothing_internal),
        cmocka_unit_test(test_every_stream_one_row_each_and_a_total),
        cmocka_unit_test(test_a_provider_sees_every_contract_across_its_commissioners),
        cmocka_unit_test(test_a_provider_view_is_scoped),
    };
    return cmocka_run_group_tests(tests, fixture_setup, test_fixture_teardown);
}
