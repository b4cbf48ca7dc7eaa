/* The refusals fundflowd writes, read as a finance reader reads them: dates as YYYY-MM-DD, never
 * the stored YYYYMMDD number; months as M1 to M12; financial years as 2024/25; event numbers as
 * plain integers. Each refusal is provoked through the ledger and its whole sentence checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define SPECIALISED FUNDFLOW__V1__STREAM__SPECIALISED
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define FULL FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL

/* The world (events 1 to TEST_WORLD_EVENTS = 16: 7 organisations and NHS England's 9 revenue
 * limits), then a trust RGT (17), a service line SL01 (18), a delegation of it to QUE from
 * 2024-04-01 (19), an allocation to QUE dated 2024-04-01 (20) and QUE's M1 closed (21). */
static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ledger_result result;
    assert_int_equal(test_world_register(f->ledger), TEST_WORLD_EVENTS);
    assert_int_equal(test_submit(f->ledger,
                                 test_org("m8", "RGT", "Illustrative trust",
                                          FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
                                 &result),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger, test_service_line("m9", "SL01", false), &result), FF_OK);
    assert_int_equal(test_submit(f->ledger,
                                 test_delegation("m10", "D-QUE-1", "QUE", "SL01", "QUE", FULL,
                                                 20240401, 0),
                                 &result),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger,
                                 test_allocation("m11", "X24", "QUE", CORE, TEST_YEAR, 100000),
                                 &result),
                     FF_OK);
    assert_int_equal(test_submit(f->ledger, test_dated(test_period("m12", "QUE", 1), 20240510),
                                 &result),
                     FF_OK);
    assert_int_equal(test_head_sequence(f->ledger), TEST_WORLD_EVENTS + 5);
    *state = f;
    return 0;
}

/* Whether text holds a run of eight digits starting 19 or 20: a date as the ledger stores it. */
static bool text_has_raw_date(const char *text) {
    for (size_t i = 0; text[i] != '\0'; i++) {
        size_t run = 0;
        while (isdigit((unsigned char)text[i + run])) run++;
        if (run == 8 && (strncmp(text + i, "19", 2) == 0 || strncmp(text + i, "20", 2) == 0)) {
            return true;
        }
        if (run > 0) i += run - 1;
    }
    return false;
}

/* Submits command, expects it refused with err, and checks the sentence word for word. */
static void refusal_reads(ff_ledger *ledger, Fundflow__V1__Command *command, ff_err err,
                          const char *expected) {
    ledger_result result;
    ff_err got = test_submit(ledger, command, &result);
    if (got != err) {
        fail_msg("expected %s, got %s: %s", ff_err_name(err), ff_err_name(got),
                 result.failure.detail);
    }
    assert_string_equal(result.failure.detail, expected);
    assert_false(text_has_raw_date(result.failure.detail));
}

static void test_raw_date_detector(void **state) {
    (void)state;
    assert_true(text_has_raw_date("nothing dated 20240420 may post"));
    assert_false(text_has_raw_date("nothing dated 2024-04-20 may post"));
    assert_false(text_has_raw_date("amount_pence 120000000 is too much"));
    assert_false(text_has_raw_date("event 2024041"));
}

/* account.c: a posting into a closed month names the month M1, the year 2024/25 and the date. */
static void test_closed_period_names_date_month_and_year(void **state) {
    test_fixture *f = *state;
    refusal_reads(f->ledger,
                  test_dated(test_allocation("c1", "X24", "QUE", CORE, TEST_YEAR, 1), 20240420),
                  FF_ERR_PERIOD_CLOSED,
                  "M1 of 2024/25 is closed for QUE, so nothing dated 2024-04-20 may post to it");
}

/* command_delegation.c: an end before the start reads both as dates; an end that is not a real
 * date is quoted as sent, since it cannot be written as one. */
static void test_delegation_dates_read_as_dates(void **state) {
    test_fixture *f = *state;
    refusal_reads(f->ledger,
                  test_delegation("d1", "D-QUE-2", "QUE", "SL01", "QUE", FULL, 20240401, 20240331),
                  FF_ERR_DATE_INVALID,
                  "effective_to 2024-03-31 must be on or after effective_from 2024-04-01, or 0");
    ledger_result result;
    assert_int_equal(test_submit(f->ledger,
                                 test_delegation("d2", "D-QUE-2", "QUE", "SL01", "QUE", FULL,
                                                 20240401, 20240231),
                                 &result),
                     FF_ERR_DATE_INVALID);
    assert_string_equal(result.failure.detail,
                        "effective_to 20240231 must be a real date on or after 2024-04-01, or 0");
}

/* projection_delegation.c: a revocation outside the delegation, and a contract for a line its
 * commissioner holds no delegation of on the contract's date. */
static void test_delegation_refusals_read_dates(void **state) {
    test_fixture *f = *state;
    refusal_reads(f->ledger, test_revocation("v1", "D-QUE-1", 20240301), FF_ERR_DATE_INVALID,
                  "effective_to 2024-03-01 must fall within delegation D-QUE-1 (from 2024-04-01)");
    Fundflow__V1__Command *contract =
        test_contract("v2", "C-SPEC", "QJG", "RGT", BLOCK, SPECIALISED, 100, 0, NULL);
    /* The field starts as protobuf-c's shared empty string, which is never freed. */
    contract->event->contract_agreed->service_line_code = strdup("SL01");
    refusal_reads(f->ledger, contract, FF_ERR_NOT_DELEGATED,
                  "QJG holds no delegation of service line SL01 on 2024-04-01");
}

/* command_field.c: a month out of range is told the months as M1 to M12. */
static void test_month_refusal_names_months_m1_to_m12(void **state) {
    test_fixture *f = *state;
    refusal_reads(f->ledger, test_payment("n1", "C1", 13, 1), FF_ERR_DATE_INVALID,
                  "month 13 must be M1 (April) to M12 (March)");
}

/* projection.c: event numbers are plain integers, with no thousands separator. */
static void test_event_numbers_are_plain(void **state) {
    test_fixture *f = *state;
    refusal_reads(f->ledger, test_reversal("e1", 12345, "no such event"), FF_ERR_EVENT_UNKNOWN,
                  "there is no event 12345");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_date_detector),
        cmocka_unit_test_setup_teardown(test_closed_period_names_date_month_and_year,
                                        fixture_setup, test_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delegation_dates_read_as_dates, fixture_setup,
                                        test_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delegation_refusals_read_dates, fixture_setup,
                                        test_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_month_refusal_names_months_m1_to_m12, fixture_setup,
                                        test_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_event_numbers_are_plain, fixture_setup,
                                        test_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
