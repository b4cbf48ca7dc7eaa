/* Tests of NHS England's revenue limits (RevenueLimitSet): allocations within and beyond a limit,
 * none without one, variations up and down, reversals, refusals that leave no trace, and a
 * rebuild that reproduces them. They use 2025/26, for which the world sets no limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "ledger.h"
#include "test_support.h"
#include "verify.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define YEAR (TEST_YEAR + 1)   /* 2025/26 */
#define IN_YEAR 20250401u      /* its first day */

static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    *state = f;
    return 0;
}

static Fundflow__V1__Command *limit(const char *key, int64_t pence) {
    return test_dated(test_limit(key, "X24", CORE, YEAR, pence), IN_YEAR);
}

static Fundflow__V1__Command *allocation(const char *key, const char *icb, int64_t pence) {
    return test_dated(test_allocation(key, "X24", icb, CORE, YEAR, pence), IN_YEAR);
}

static uint64_t submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command) {
    ledger_result result;
    ff_err err = test_submit(ledger, command, &result);
    if (err != FF_OK) fail_msg("%s: %s", ff_err_name(err), result.failure.detail);
    return result.sequence;
}

/* Submits command, expects it refused with code on field, and checks that nothing changed; the
 * refusal is left in *result_out. */
static void refused(ff_ledger *ledger, Fundflow__V1__Command *command, ff_err code,
                    const char *field, ledger_result *result_out) {
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    uint64_t head = test_head_sequence(ledger);
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    ledger_result result;
    assert_int_equal(test_submit(ledger, command, &result), code);
    assert_string_equal(result.failure.field, field);
    assert_int_equal(test_head_sequence(ledger), head);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
    if (result_out) *result_out = result;
}

/* X24's 2025/26 core services position: its limit (received), what it allocated (passed on)
 * and what is left (headroom). */
static void assert_nhse(ff_ledger *ledger, int64_t limit_pence, int64_t allocated_pence,
                        int64_t headroom_pence) {
    ledger_position position;
    assert_int_equal(ledger_position_read(ledger, "X24", CORE, YEAR, UINT64_MAX, &position),
                     FF_OK);
    assert_int_equal(position.received_pence, limit_pence);
    assert_int_equal(position.passed_on_pence, allocated_pence);
    assert_int_equal(position.headroom_pence, headroom_pence);
    assert_int_equal(position.funding_drawn_pence, 0);
}

static void assert_headroom_refusal(const ledger_result *result, int64_t headroom_pence) {
    assert_string_equal(result->failure.account, "X24 2025/26 CORE_SERVICES budget");
    assert_int_equal(result->failure.headroom_pence, headroom_pence);
}

/* With no limit set, NHS England has nothing to allocate: even 1p is refused, naming its budget
 * and a headroom of £0.00. */
static void test_no_limit_no_allocation(void **state) {
    test_fixture *f = *state;
    ledger_result result;
    refused(f->ledger, allocation("none", "QUE", 1), FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence",
            &result);
    assert_headroom_refusal(&result, 0);
    assert_non_null(strstr(result.failure.detail, "£0.00"));
    assert_non_null(strstr(result.failure.detail, "set or raise the limit first"));
    assert_nhse(f->ledger, 0, 0, 0);
}

/* Limit £1,000.00 (100,000p). QUE gets 60,000: headroom 100,000 - 60,000 = 40,000. QJG's
 * 40,001 is 1p too many and is refused naming 40,000; 40,000 exactly fits, leaving 0. */
static void test_allocations_within_and_beyond_the_limit(void **state) {
    test_fixture *f = *state;
    submit_ok(f->ledger, limit("l1", 100000));
    assert_nhse(f->ledger, 100000, 0, 100000);
    submit_ok(f->ledger, allocation("a1", "QUE", 60000));
    assert_nhse(f->ledger, 100000, 60000, 40000);
    ledger_result result;
    refused(f->ledger, allocation("a2", "QJG", 40001), FF_ERR_INSUFFICIENT_HEADROOM,
            "amount_pence", &result);
    assert_headroom_refusal(&result, 40000);
    assert_non_null(strstr(result.failure.detail, "£400.00"));
    submit_ok(f->ledger, allocation("a3", "QJG", 40000));
    assert_nhse(f->ledger, 100000, 100000, 0);
    assert_int_equal(test_account_net(f->ledger, "QJG", CORE, YEAR, ACCOUNT_PURPOSE_BUDGET,
                                      UINT64_MAX), 40000);
}

/* Limit 100,000, allocated 60,000 + 40,000 = 100,000. Lowering it to 99,999 would leave less
 * than is allocated: refused on limit_pence with headroom 0. Raising it to 150,000 posts the
 * difference, 50,000, as headroom. Reversing QJG's 40,000 gives it back: headroom 90,000.
 * Lowering to 60,000 (exactly what stays allocated) then leaves 0, and received is 60,000. */
static void test_limit_varied_up_and_down(void **state) {
    test_fixture *f = *state;
    submit_ok(f->ledger, limit("l1", 100000));
    submit_ok(f->ledger, allocation("a1", "QUE", 60000));
    uint64_t to_qjg = submit_ok(f->ledger, allocation("a2", "QJG", 40000));
    ledger_result result;
    refused(f->ledger, limit("down", 99999), FF_ERR_INSUFFICIENT_HEADROOM, "limit_pence",
            &result);
    assert_headroom_refusal(&result, 0);
    assert_non_null(strstr(result.failure.detail, "£1,000.00 of it is allocated"));
    submit_ok(f->ledger, limit("up", 150000));
    assert_nhse(f->ledger, 150000, 100000, 50000);
    submit_ok(f->ledger, test_dated(test_reversal("undo", to_qjg, "allocated twice"), IN_YEAR));
    assert_nhse(f->ledger, 150000, 60000, 90000);
    refused(f->ledger, limit("too-low", 59999), FF_ERR_INSUFFICIENT_HEADROOM, "limit_pence",
            &result);
    assert_headroom_refusal(&result, 90000);
    submit_ok(f->ledger, limit("exact", 60000));
    assert_nhse(f->ledger, 60000, 60000, 0);
    /* Setting the limit it already has posts nothing and changes nothing. */
    submit_ok(f->ledger, limit("same", 60000));
    assert_nhse(f->ledger, 60000, 60000, 0);
}

/* A limit is not reversed, may not be negative, is NHS England's alone and is dated in its
 * year; each refusal leaves no trace. */
static void test_limit_refusals(void **state) {
    test_fixture *f = *state;
    uint64_t set = submit_ok(f->ledger, limit("l1", 100000));
    refused(f->ledger, test_dated(test_reversal("undo", set, "wrong"), IN_YEAR),
            FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence", NULL);
    refused(f->ledger, limit("negative", -1), FF_ERR_AMOUNT_NOT_POSITIVE, "limit_pence", NULL);
    refused(f->ledger, test_dated(test_limit("icb", "QUE", CORE, YEAR, 5), IN_YEAR),
            FF_ERR_ORG_KIND_NOT_ALLOWED, "funder_code", NULL);
    refused(f->ledger, test_dated(test_limit("nobody", "XZZ", CORE, YEAR, 5), IN_YEAR),
            FF_ERR_ORG_UNKNOWN, "funder_code", NULL);
    refused(f->ledger, test_dated(test_limit("early", "X24", CORE, YEAR, 5), 20250331),
            FF_ERR_DATE_OUTSIDE_YEAR, "effective_date", NULL);
    refused(f->ledger, test_dated(test_limit("stream", "X24", 99, YEAR, 5), IN_YEAR),
            FF_ERR_ENUM_INVALID, "stream", NULL);
    assert_nhse(f->ledger, 100000, 0, 100000);
}

/* The limits, allocations, a variation and a reversal replay byte for byte, and verify passes. */
static void test_rebuild_reproduces_the_limits(void **state) {
    test_fixture *f = *state;
    submit_ok(f->ledger, limit("l1", 100000));
    uint64_t to_que = submit_ok(f->ledger, allocation("a1", "QUE", 60000));
    submit_ok(f->ledger, limit("l2", 70000));
    submit_ok(f->ledger, test_dated(test_reversal("undo", to_que, "withdrawn"), IN_YEAR));
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
    /* 70,000 limit, 60,000 allocated and reversed: all of it headroom. */
    assert_nhse(f->ledger, 70000, 0, 70000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define LIMIT_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
        LIMIT_TEST(test_no_limit_no_allocation),
        LIMIT_TEST(test_allocations_within_and_beyond_the_limit),
        LIMIT_TEST(test_limit_varied_up_and_down),
        LIMIT_TEST(test_limit_refusals),
        LIMIT_TEST(test_rebuild_reproduces_the_limits),
#undef LIMIT_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
