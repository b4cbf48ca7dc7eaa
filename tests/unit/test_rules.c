/* Tests of the reporting-rule plugins (outcomes, running_costs, aob, delegation, mhis,
 * system_balance and bcf) loaded into the plugin host: each builds a small ledger, runs the report
 * and checks every cell and finding against figures worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_host.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define W TEST_WORLD_EVENTS
#define SPECIALISED FUNDFLOW__V1__STREAM__SPECIALISED
#define RUNNING_COSTS FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE
#define DEVELOPMENT FUNDFLOW__V1__STREAM__SERVICE_DEVELOPMENT_FUNDING
#define CAPITAL FUNDFLOW__V1__STREAM__CAPITAL
#define BETTER_CARE FUNDFLOW__V1__STREAM__BETTER_CARE_FUND
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define OUTCOME FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED
#define MENTAL_HEALTH FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH
#define DEMENTIA FUNDFLOW__V1__SERVICE_CATEGORY__DEMENTIA
#define OTHER FUNDFLOW__V1__SERVICE_CATEGORY__OTHER_SERVICES
#define RECEIVABLE FUNDFLOW__V1__STATEMENT_KIND__RECEIVABLE
#define PAYABLE FUNDFLOW__V1__STATEMENT_KIND__PAYABLE
#define INCOME FUNDFLOW__V1__STATEMENT_KIND__INCOME
#define EXPENDITURE FUNDFLOW__V1__STATEMENT_KIND__EXPENDITURE
#define FULL FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL

#define PASS FF_PLUGIN_FINDING_PASS
#define WARN FF_PLUGIN_FINDING_WARN
#define FAIL FF_PLUGIN_FINDING_FAIL

static const char *plugins_dir = FF_PLUGINS_DIR;

static const char QUE_NAME[] = "NHS Cambridgeshire and Peterborough ICB";
static const char QJG_NAME[] = "NHS Suffolk and North East Essex ICB";

/* ---- building the ledger ---- */

static uint64_t submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command) {
    ledger_result result;
    ff_err err = test_submit(ledger, command, &result);
    if (err != FF_OK) fail_msg("%s: %s", ff_err_name(err), result.failure.detail);
    return result.sequence;
}

/* The world of test_support (X24, Y61, QUE, QJG, 06H, 07K, PC1 and X24's 2024/25 revenue
 * limits, sequences 1 to W) and two trusts, RGT under QUE (W+1) and RWH under QJG (W+2). */
static void world_with_trusts(ff_ledger *ledger) {
    test_world_register(ledger);
    submit_ok(ledger, test_org("t8", "RGT", "Illustrative trust one", FUNDFLOW__V1__ORG_KIND__TRUST,
                               "QUE"));
    submit_ok(ledger, test_org("t9", "RWH", "Illustrative trust two", FUNDFLOW__V1__ORG_KIND__TRUST,
                               "QJG"));
}

/* An allocation from NHS England for a year, dated 1 April of that year. */
static uint64_t allocate(ff_ledger *ledger, const char *key, const char *icb,
                         Fundflow__V1__Stream stream, uint32_t year, int64_t pence) {
    return submit_ok(ledger, test_dated(test_allocation(key, "X24", icb, stream, year, pence),
                                        year * 10000 + 401));
}

/* NHS England's revenue limit for a stream and a year other than TEST_YEAR (whose limits the
 * world sets), dated 1 April of that year. */
static uint64_t limit(ff_ledger *ledger, const char *key, Fundflow__V1__Stream stream,
                      uint32_t year, int64_t pence) {
    return submit_ok(ledger, test_dated(test_limit(key, "X24", stream, year, pence),
                                        year * 10000 + 401));
}

static uint64_t budget(ff_ledger *ledger, const char *key, const char *from, const char *to,
                       Fundflow__V1__Stream stream, uint32_t year, int64_t pence) {
    return submit_ok(ledger, test_dated(test_budget(key, from, to, stream, year, pence),
                                        year * 10000 + 401));
}

/* A contract with no pot, of any year, stream and category, dated 1 April of its year. */
static Fundflow__V1__Command *contract(const char *key, const char *id, const char *commissioner,
                                       const char *provider, Fundflow__V1__Stream stream,
                                       uint32_t year, Fundflow__V1__ServiceCategory category,
                                       int64_t value_pence) {
    Fundflow__V1__Command *command =
        test_contract(key, id, commissioner, provider, BLOCK, stream, value_pence, 0, NULL);
    command->event->contract_agreed->financial_year = year;
    command->event->contract_agreed->service_category = category;
    return test_dated(command, year * 10000 + 401);
}

static Fundflow__V1__Command *specialised(const char *key, const char *id,
                                          const char *commissioner, const char *provider,
                                          const char *line, int64_t value_pence) {
    Fundflow__V1__Command *command = contract(key, id, commissioner, provider, SPECIALISED,
                                              TEST_YEAR, OTHER, value_pence);
    command->event->contract_agreed->service_line_code = strdup(line);
    return command;
}

/* An Agreement of Balances statement for 2024/25, built the way test_support builds commands. */
static Fundflow__V1__Command *statement(const char *key, const char *org,
                                        const char *counterparty, uint32_t month,
                                        Fundflow__V1__StatementKind kind, int64_t amount_pence) {
    Fundflow__V1__Command *command = malloc(sizeof *command);
    Fundflow__V1__Event *event = malloc(sizeof *event);
    Fundflow__V1__StatementSubmitted *submitted = malloc(sizeof *submitted);
    assert_non_null(command);
    assert_non_null(event);
    assert_non_null(submitted);
    fundflow__v1__command__init(command);
    fundflow__v1__event__init(event);
    fundflow__v1__statement_submitted__init(submitted);
    submitted->org_code = strdup(org);
    submitted->counterparty_code = strdup(counterparty);
    submitted->financial_year = TEST_YEAR;
    submitted->month = month;
    submitted->kind = kind;
    submitted->amount_pence = amount_pence;
    event->kind_case = FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED;
    event->statement_submitted = submitted;
    command->idempotency_key = strdup(key);
    /* Submitted in the month after the one it states: M6 in October, M12 in April 2025. */
    command->effective_date = month == 12 ? 20250415u : 20241015u;
    command->event = event;
    return command;
}

/* ---- loading plugins and running reports ---- */

/* A set of plugins copied into a scratch directory of their own and loaded from it. */
typedef struct rules {
    char *directory;
    ff_plugins *plugins;
} rules;

static rules rules_load(ff_ledger *ledger, const char *name, const plugins_setting *settings,
                        size_t setting_count) {
    rules loaded = {test_dir_make(), NULL};
    char command[9000];
    snprintf(command, sizeof command, "cp '%s/%s.so' '%s/%s.so'", plugins_dir, name,
             loaded.directory, name);
    assert_int_equal(system(command), 0);
    const char *directories[] = {loaded.directory};
    plugins_options options = {directories, 1, settings, setting_count};
    assert_int_equal(plugins_load(ledger, &options, &loaded.plugins), FF_OK);
    return loaded;
}

static void rules_unload(rules *loaded) {
    plugins_unload(loaded->plugins);
    test_dir_remove(loaded->directory);
}

static Fundflow__V1__Report *report_as_at(const rules *loaded, const char *name, uint32_t year,
                                          const char *org, uint64_t as_at, ff_err expected) {
    Fundflow__V1__RunReportRequest request = FUNDFLOW__V1__RUN_REPORT_REQUEST__INIT;
    request.plugin = (char *)name;
    request.financial_year = year;
    request.org_code = (char *)org;
    request.as_at_sequence = as_at;
    Fundflow__V1__Report *report = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = plugins_report_run(loaded->plugins, NULL, &request, &report, &failure);
    if (err != expected) {
        fail_msg("%s %u: expected %s, got %s: %s", name, year, ff_err_name(expected),
                 ff_err_name(err), failure.detail);
    }
    if (expected != FF_OK) {
        assert_null(report);
        return NULL;
    }
    assert_non_null(report);
    assert_string_equal(report->plugin, name);
    assert_int_equal(report->financial_year, year);
    return report;
}

static Fundflow__V1__Report *report(const rules *loaded, const char *name, uint32_t year,
                                    const char *org) {
    return report_as_at(loaded, name, year, org, 0, FF_OK);
}

/* ---- checking reports ---- */

/* The table at index, which must have this name and this many columns and rows. */
static const Fundflow__V1__ReportTable *table_at(const Fundflow__V1__Report *report, size_t index,
                                                 const char *name, size_t column_count,
                                                 size_t row_count) {
    assert_true(index < report->n_tables);
    const Fundflow__V1__ReportTable *table = report->tables[index];
    assert_string_equal(table->name, name);
    assert_int_equal(table->n_columns, column_count);
    if (table->n_rows != row_count) {
        fail_msg("table \"%s\" has %zu rows, not %zu", name, table->n_rows, row_count);
    }
    return table;
}

/* An expected cell: text for a TEXT column, number (NULL text) for every other. */
typedef struct cell_expected {
    const char *text;
    int64_t number;
} cell_expected;

#define T(text) {(text), 0}
#define N(number) {NULL, (number)}
#define ROW(table, index, ...)                                                                    \
    row_expect((table), (index), (const cell_expected[]){__VA_ARGS__},                           \
               sizeof((const cell_expected[]){__VA_ARGS__}) / sizeof(cell_expected))

static void row_expect(const Fundflow__V1__ReportTable *table, size_t index,
                       const cell_expected *cells, size_t count) {
    assert_true(index < table->n_rows);
    const Fundflow__V1__ReportRow *row = table->rows[index];
    assert_int_equal(row->n_cells, count);
    for (size_t i = 0; i < count; i++) {
        bool text = table->columns[i]->type == FUNDFLOW__V1__COLUMN_TYPE__TEXT;
        if (text != (cells[i].text != NULL)) {
            fail_msg("table \"%s\" row %zu column \"%s\": expected a %s", table->name, index,
                     table->columns[i]->name, cells[i].text ? "text" : "number");
        }
        if (text && strcmp(row->cells[i]->text, cells[i].text) != 0) {
            fail_msg("table \"%s\" row %zu column \"%s\": \"%s\", not \"%s\"", table->name, index,
                     table->columns[i]->name, row->cells[i]->text, cells[i].text);
        }
        if (!text && row->cells[i]->number != cells[i].number) {
            fail_msg("table \"%s\" row %zu column \"%s\": %lld, not %lld", table->name, index,
                     table->columns[i]->name, (long long)row->cells[i]->number,
                     (long long)cells[i].number);
        }
    }
}

static void finding_expect(const Fundflow__V1__Report *report, size_t index, int level,
                           const char *org, const char *message) {
    assert_true(index < report->n_findings);
    const Fundflow__V1__ReportFinding *finding = report->findings[index];
    if ((int)finding->level != level || strcmp(finding->org_code, org) != 0 ||
        (message && strcmp(finding->message, message) != 0)) {
        fail_msg("finding %zu is level %d for \"%s\": \"%s\"; expected level %d for \"%s\": "
                 "\"%s\"", index, (int)finding->level, finding->org_code, finding->message, level,
                 org, message ? message : "(any)");
    }
}

static void report_free(Fundflow__V1__Report *report) {
    fundflow__v1__report__free_unpacked(report, NULL);
}

static void fixture_close(test_fixture *fixture) {
    void *state = fixture;
    test_fixture_teardown(&state);
}

/* ======== outcomes ======== */

/* C1, QUE with RGT: value 120,000,000, pot 12,345,679 split MA 60% and MB 40%:
 *   share MA = floor(12,345,679 x 6000 / 10000) = floor(7,407,407.4) = 7,407,407
 *   share MB = 12,345,679 - 7,407,407 = 4,938,272 (the last metric takes the rest)
 * MA reported at 33.33%: earned = floor(7,407,407 x 3333 / 10000) = floor(2,468,888.75)
 *   = 2,468,888; released = 7,407,407 - 2,468,888 = 4,938,519.
 * Pending = 12,345,679 - 2,468,888 - 4,938,519 = 4,938,272, which is £49,382.72 (MB's share).
 * Paid M1 to M3 and M8, so paid past M6, but a metric is reported: PASS.
 *
 * C2, QJG with RWH: value 10,000,000, pot 1,000,000: MA = floor(1,000,000 x 0.6) = 600,000,
 * MB = 400,000. Paid for M7 and nothing reported: WARN, with £10,000.00 still withheld.
 *
 * C3, a block contract, is not outcome-based and is left out. */
static void outcomes_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    allocate(ledger, "o1", "QUE", CORE, TEST_YEAR, 1000000000);
    allocate(ledger, "o2", "QJG", CORE, TEST_YEAR, 50000000);
    submit_ok(ledger, test_contract("o3", "C1", "QUE", "RGT", OUTCOME, CORE, 120000000, 12345679,
                                    "MA:6000,MB:4000"));
    submit_ok(ledger, test_contract("o4", "C2", "QJG", "RWH", OUTCOME, CORE, 10000000, 1000000,
                                    "MA:6000,MB:4000"));
    submit_ok(ledger, contract("o5", "C3", "QUE", "RWH", CORE, TEST_YEAR, OTHER, 5000000));
    submit_ok(ledger, test_payment("o6", "C1", 1, 8971193));
    submit_ok(ledger, test_payment("o7", "C1", 2, 8971193));
    submit_ok(ledger, test_payment("o8", "C1", 3, 8971193));
    submit_ok(ledger, test_dated(test_outcome("o9", "C1", "MA", 3333), 20240701));
    submit_ok(ledger, test_payment("o10", "C1", 8, 8971193));
    submit_ok(ledger, test_payment("o11", "C2", 7, 750000));
}

static const char OUTCOMES_C1_PASS[] =
    "contract C1: 1 of 2 outcome metrics reported; £49,382.72 of its pot withheld";
static const char OUTCOMES_C2_WARN[] =
    "contract C2 is paid to M7 but none of its 2 outcome metrics is reported; £10,000.00 of its "
    "pot is still withheld";

static void test_outcomes_pots_and_late_reporting(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    outcomes_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "outcomes", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "outcomes", TEST_YEAR, "");
    assert_int_equal(r->n_tables, 2);
    const Fundflow__V1__ReportTable *contracts = table_at(r, 0, "outcome contracts", 7, 2);
    ROW(contracts, 0, T("C1"), T("QUE"), T("RGT"), N(12345679), N(4938272), N(2468888),
        N(4938519));
    ROW(contracts, 1, T("C2"), T("QJG"), T("RWH"), N(1000000), N(1000000), N(0), N(0));
    const Fundflow__V1__ReportTable *metrics = table_at(r, 1, "outcome metrics", 8, 4);
    ROW(metrics, 0, T("C1"), T("MA"), N(6000), N(7407407), N(1), N(3333), N(2468888), N(4938519));
    ROW(metrics, 1, T("C1"), T("MB"), N(4000), N(4938272), N(0), N(0), N(0), N(0));
    ROW(metrics, 2, T("C2"), T("MA"), N(6000), N(600000), N(0), N(0), N(0), N(0));
    ROW(metrics, 3, T("C2"), T("MB"), N(4000), N(400000), N(0), N(0), N(0), N(0));
    assert_int_equal(r->n_findings, 2);
    /* Worst first: the warning, then the pass. */
    finding_expect(r, 0, WARN, "QJG", OUTCOMES_C2_WARN);
    finding_expect(r, 1, PASS, "QUE", OUTCOMES_C1_PASS);
    report_free(r);
    rules_unload(&loaded);
    fixture_close(f);
}

/* The filter keeps contracts where the organisation is commissioner or provider; the finding is
 * still the commissioner's. Years outside 2023 and 2024 are refused; 2023 has no contracts. */
static void test_outcomes_filter_and_years(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    outcomes_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "outcomes", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "outcomes", TEST_YEAR, "RWH");
    ROW(table_at(r, 0, "outcome contracts", 7, 1), 0, T("C2"), T("QJG"), T("RWH"), N(1000000),
        N(1000000), N(0), N(0));
    table_at(r, 1, "outcome metrics", 8, 2);
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, WARN, "QJG", OUTCOMES_C2_WARN);
    report_free(r);
    r = report(&loaded, "outcomes", TEST_YEAR, "06H");
    table_at(r, 0, "outcome contracts", 7, 0);
    assert_int_equal(r->n_findings, 0);
    report_free(r);
    /* As at the C1 outcome report (sequence W+11), C2 had been agreed but not yet paid: both
     * pass. */
    r = report_as_at(&loaded, "outcomes", TEST_YEAR, "", W + 11, FF_OK);
    assert_int_equal(r->as_at_sequence, W + 11);
    finding_expect(r, 1, PASS, "QJG",
                   "contract C2: 0 of 2 outcome metrics reported; £10,000.00 of its pot withheld");
    report_free(r);
    r = report(&loaded, "outcomes", 2023, "");
    table_at(r, 0, "outcome contracts", 7, 0);
    report_free(r);
    report_as_at(&loaded, "outcomes", 2022, "", 0, FF_ERR_YEAR_INVALID);
    report_as_at(&loaded, "outcomes", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== running_costs ======== */

/* QUE receives £1,000.00 (100,000p) of running cost allowance; QJG none.
 *   W+4: R1 agreed at 90,000            used 90,000  = 90.00%            PASS
 *   W+5: R1 paid 10,000 for M1          used 90,000 (committed 80,000 + paid 10,000)
 *   W+6: R1 varied +5,000               used 95,000  = 95.00% exactly, not above: PASS
 *   W+7: R1 varied +1                      used 95,001: 950,010,000 / 100,000 = 9500.1,
 *           shown rounded down as 95.00%, but 95,001 x 10000 > 100,000 x 9500: WARN
 * QJG has no allowance at all: WARN. */
enum { RC_AGREED = W + 4, RC_PAID = W + 5, RC_AT_95 = W + 6, RC_OVER_95 = W + 7 };

static void running_costs_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    assert_int_equal(allocate(ledger, "r10", "QUE", RUNNING_COSTS, TEST_YEAR, 100000), W + 3);
    assert_int_equal(submit_ok(ledger, contract("r11", "R1", "QUE", "RGT", RUNNING_COSTS,
                                                TEST_YEAR, OTHER, 90000)), RC_AGREED);
    assert_int_equal(submit_ok(ledger, test_payment("r12", "R1", 1, 10000)), RC_PAID);
    assert_int_equal(submit_ok(ledger, test_variation("r13", "R1", 5000)), RC_AT_95);
    assert_int_equal(submit_ok(ledger, test_variation("r14", "R1", 1)), RC_OVER_95);
}

static void running_costs_qjg_expect(const Fundflow__V1__Report *r,
                                     const Fundflow__V1__ReportTable *table) {
    ROW(table, 0, T("QJG"), T(QJG_NAME), N(0), N(0), N(0), N(0), N(0), N(0));
    /* The sentence reads "used £0.00, with no its running cost allowance of £0.00": see the
     * report. Only its start is checked here. */
    finding_expect(r, 0, WARN, "QJG", NULL);
    assert_non_null(strstr(r->findings[0]->message, "QJG has used £0.00"));
}

static void test_running_costs_allowance_levels(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    running_costs_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "running_costs", NULL, 0);
    Fundflow__V1__Report *r = report_as_at(&loaded, "running_costs", TEST_YEAR, "", RC_AGREED,
                                           FF_OK);
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "running cost allowance", 8, 2);
    running_costs_qjg_expect(r, t);
    ROW(t, 1, T("QUE"), T(QUE_NAME), N(100000), N(90000), N(0), N(90000), N(10000), N(9000));
    finding_expect(r, 1, PASS, "QUE",
                   "QUE has used £900.00, within its running cost allowance of £1,000.00 for "
                   "2024/25");
    report_free(r);
    r = report_as_at(&loaded, "running_costs", TEST_YEAR, "", RC_AT_95, FF_OK);
    t = table_at(r, 0, "running cost allowance", 8, 2);
    ROW(t, 1, T("QUE"), T(QUE_NAME), N(100000), N(85000), N(10000), N(95000), N(5000), N(9500));
    finding_expect(r, 1, PASS, "QUE",
                   "QUE has used £950.00, within its running cost allowance of £1,000.00 for "
                   "2024/25");
    report_free(r);
    r = report(&loaded, "running_costs", TEST_YEAR, "");
    t = table_at(r, 0, "running cost allowance", 8, 2);
    running_costs_qjg_expect(r, t);
    ROW(t, 1, T("QUE"), T(QUE_NAME), N(100000), N(85001), N(10000), N(95001), N(4999), N(9500));
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 1, WARN, "QUE",
                   "QUE has used £950.01, above 95% of its running cost allowance of £1,000.00 "
                   "for 2024/25");
    report_free(r);
    r = report(&loaded, "running_costs", TEST_YEAR, "QUE");
    ROW(table_at(r, 0, "running cost allowance", 8, 1), 0, T("QUE"), T(QUE_NAME), N(100000),
        N(85001), N(10000), N(95001), N(4999), N(9500));
    assert_int_equal(r->n_findings, 1);
    report_free(r);
    report_as_at(&loaded, "running_costs", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* Submits a command that must be refused, and checks that nothing of the ledger changed. */
static ledger_result refused(ff_ledger *ledger, Fundflow__V1__Command *command, ff_err expected) {
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
    assert_int_equal(test_head_sequence(ledger), head);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
    return result;
}

static const plugins_setting VETO_ON = {"running_costs", "veto", "on"};
static const plugins_setting VETO_OFF = {"running_costs", "veto", "off"};

/* QUE holds £1,000.00 of allowance and R1 uses £900.00 of it, so £100.00 more fits and £100.01
 * does not: 90,000 + 10,001 = 100,001 > 100,000. */
static void test_running_costs_veto(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    world_with_trusts(f->ledger);
    allocate(f->ledger, "v10", "QUE", RUNNING_COSTS, TEST_YEAR, 100000);
    rules loaded = rules_load(f->ledger, "running_costs", &VETO_ON, 1);
    assert_int_equal(plugins_count(loaded.plugins), 1);
    submit_ok(f->ledger, contract("v11", "R1", "QUE", "RGT", RUNNING_COSTS, TEST_YEAR, OTHER,
                                  90000));
    ledger_result result = refused(f->ledger, contract("v12", "R2", "QUE", "RWH", RUNNING_COSTS,
                                                       TEST_YEAR, OTHER, 10001), FF_ERR_VETOED);
    assert_string_equal(result.failure.plugin, "running_costs");
    assert_string_equal(result.failure.detail,
                        "plugin running_costs refused it: QUE's running cost allowance for "
                        "2024/25 is £1,000.00 and £900.00 of it is already committed or paid; "
                        "£100.01 more would take it past the allowance");
    /* Without the veto the ledger's own headroom rule refuses it, since QUE's budget on the
     * stream (100,000 - 90,000 = 10,000) is exactly what the veto compares against. */
    assert_int_equal(plugins_reload(loaded.plugins, &VETO_OFF, 1), FF_OK);
    result = refused(f->ledger, contract("v13", "R2", "QUE", "RWH", RUNNING_COSTS, TEST_YEAR,
                                         OTHER, 10001), FF_ERR_INSUFFICIENT_HEADROOM);
    assert_string_equal(result.failure.plugin, "");
    /* Exactly the allowance is not past it, and a payment moves money without using more. */
    assert_int_equal(plugins_reload(loaded.plugins, &VETO_ON, 1), FF_OK);
    submit_ok(f->ledger, contract("v14", "R2", "QUE", "RWH", RUNNING_COSTS, TEST_YEAR, OTHER,
                                  10000));
    submit_ok(f->ledger, test_payment("v15", "R1", 1, 10000));
    /* A variation up by a penny is vetoed too; other streams are none of its business. */
    result = refused(f->ledger, test_variation("v16", "R1", 1), FF_ERR_VETOED);
    assert_non_null(strstr(result.failure.detail, "£1,000.00 of it is already committed or paid; "
                                                  "£0.01 more"));
    allocate(f->ledger, "v17", "QUE", CORE, TEST_YEAR, 500000);
    submit_ok(f->ledger, contract("v18", "K1", "QUE", "RGT", CORE, TEST_YEAR, OTHER, 500000));
    rules_unload(&loaded);
    fixture_close(f);
}

static void test_running_costs_refuses_a_bad_veto_setting(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    const plugins_setting maybe = {"running_costs", "veto", "maybe"};
    rules loaded = rules_load(f->ledger, "running_costs", &maybe, 1);
    assert_int_equal(plugins_count(loaded.plugins), 0);
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_list(loaded.plugins, &list), FF_OK);
    assert_int_equal(list->n_load_errors, 1);
    assert_non_null(strstr(list->load_errors[0], "running_costs.so"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== aob ======== */

/* Statements for 2024/25 (amounts in pence; thresholds £300,000 and £3,000,000 to agree, £2,500
 * and £2,000,000 to require a statement).
 *   M12 RGT receivable from QUE 80,000,000 (replacing an earlier 10,000,000); QUE payable to RGT
 *       50,000,000: they differ by 30,000,000, exactly £300,000.00, not above: PASS.
 *   M12 RWH receivable from QJG 50,000,001; QJG payable to RWH 20,000,000: 30,000,001 apart,
 *       £300,000.01 above the threshold: FAIL.
 *   M12 QUE income from RGT and RGT expenditure with QUE, both 500,000,000: agreed, PASS.
 *   M12 QJG income from RWH 200,000,001 with no mirror: above £2,000,000.00, so RWH owes one: WARN.
 *   M12 QUE payable to RWH 250,000 with no M12 mirror: exactly £2,500.00, not above: PASS.
 *   M6  RWH receivable from QUE 250,000; QJG receivable from QUE 1,000; QUE payable to QJG 899.
 *       Left out by default, since M12 is the latest month with statements. */
static void aob_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    Fundflow__V1__Command *commands[] = {
        statement("a1", "RGT", "QUE", 12, RECEIVABLE, 10000000),
        statement("a2", "RGT", "QUE", 12, RECEIVABLE, 80000000),
        statement("a3", "QUE", "RGT", 12, PAYABLE, 50000000),
        statement("a4", "RWH", "QJG", 12, RECEIVABLE, 50000001),
        statement("a5", "QJG", "RWH", 12, PAYABLE, 20000000),
        statement("a6", "QUE", "RGT", 12, INCOME, 500000000),
        statement("a7", "RGT", "QUE", 12, EXPENDITURE, 500000000),
        statement("a8", "QJG", "RWH", 12, INCOME, 200000001),
        statement("a9", "QUE", "RWH", 12, PAYABLE, 250000),
        statement("a10", "RWH", "QUE", 6, RECEIVABLE, 250000),
        statement("a11", "QJG", "QUE", 6, RECEIVABLE, 1000),
        statement("a12", "QUE", "QJG", 6, PAYABLE, 899),
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        submit_ok(ledger, commands[i]);
    }
}

/* month is as the table writes it: "M6", "M9" or "M12". */
static void aob_thresholds_expect(const Fundflow__V1__Report *r, const char *month,
                                  const char *source, int64_t agree_receivable_pence) {
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "thresholds", 5, 2);
    ROW(t, 0, T(month), T(source), T("receivable and payable"), N(agree_receivable_pence),
        N(250000));
    ROW(t, 1, T(month), T(source), T("income and expenditure"), N(300000000), N(200000000));
}

/* Sorted by body, counterparty and kind, each pair shown once from its receivable or income
 * side: QJG-RWH income, QUE-RGT income, QUE-RWH payable, RGT-QUE receivable, RWH-QJG
 * receivable. */
static void test_aob_pairs_and_thresholds(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    aob_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "aob", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "aob", TEST_YEAR, "");
    assert_int_equal(r->n_tables, 2);
    aob_thresholds_expect(r, "M12", "latest with statements", 30000000);
    const Fundflow__V1__ReportTable *t = table_at(r, 1, "agreement of balances", 7, 5);
    ROW(t, 0, T("QJG"), T("RWH"), T("income"), N(200000001), N(0), N(200000001),
        T("counterpart missing"));
    ROW(t, 1, T("QUE"), T("RGT"), T("income"), N(500000000), N(500000000), N(0), T("agreed"));
    ROW(t, 2, T("QUE"), T("RWH"), T("payable"), N(250000), N(0), N(250000),
        T("counterpart not required"));
    ROW(t, 3, T("RGT"), T("QUE"), T("receivable"), N(80000000), N(50000000), N(30000000),
        T("agreed within threshold"));
    ROW(t, 4, T("RWH"), T("QJG"), T("receivable"), N(50000001), N(20000000), N(30000001),
        T("mismatch"));
    /* Worst first: the failure, the warning, then the passes in the plugin's order. */
    assert_int_equal(r->n_findings, 5);
    finding_expect(r, 0, FAIL, "RWH",
                   "M12 receivable with QJG (QJG payable): differ by £300,000.01, above the "
                   "£300,000.00 threshold");
    finding_expect(r, 1, WARN, "RWH",
                   "M12: RWH has no expenditure statement with QJG, whose income is "
                   "£2,000,000.01, above the £2,000,000.00 statement threshold");
    finding_expect(r, 2, PASS, "QUE",
                   "M12 income with RGT (RGT expenditure): differ by £0.00, within the "
                   "£3,000,000.00 threshold");
    finding_expect(r, 3, PASS, "RWH",
                   "M12: RWH has no receivable statement with QUE, whose payable is £2,500.00, "
                   "within the £2,500.00 statement threshold");
    finding_expect(r, 4, PASS, "RGT",
                   "M12 receivable with QUE (QUE payable): differ by £300,000.00, within the "
                   "£300,000.00 threshold");
    report_free(r);
    /* QJG is a party to the QJG-RWH income and the RWH-QJG pair only. */
    r = report(&loaded, "aob", TEST_YEAR, "QJG");
    t = table_at(r, 1, "agreement of balances", 7, 2);
    ROW(t, 0, T("QJG"), T("RWH"), T("income"), N(200000001), N(0), N(200000001),
        T("counterpart missing"));
    ROW(t, 1, T("RWH"), T("QJG"), T("receivable"), N(50000001), N(20000000), N(30000001),
        T("mismatch"));
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, FAIL, "RWH", NULL);
    report_free(r);
    report_as_at(&loaded, "aob", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* Configured for M6 with a £1.00 agreement threshold for 2024 only:
 *   QJG receivable from QUE 1,000 against QUE's payable 899: 101 apart, £1.01 above £1.00: FAIL.
 *   RWH receivable from QUE 250,000 with no M6 mirror: £2,500.00 is not above £2,500.00: PASS.
 * 2023 has no statements at all: one WARN, and the year-less threshold of £300,000.00. */
static void test_aob_configured_month_and_year_threshold(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    aob_ledger(f->ledger);
    const plugins_setting settings[] = {{"aob", "month", "6"},
                                        {"aob", "agree_receivable_pence.2024", "100"}};
    rules loaded = rules_load(f->ledger, "aob", settings, 2);
    Fundflow__V1__Report *r = report(&loaded, "aob", TEST_YEAR, "");
    aob_thresholds_expect(r, "M6", "configured", 100);
    const Fundflow__V1__ReportTable *t = table_at(r, 1, "agreement of balances", 7, 2);
    ROW(t, 0, T("QJG"), T("QUE"), T("receivable"), N(1000), N(899), N(101), T("mismatch"));
    ROW(t, 1, T("RWH"), T("QUE"), T("receivable"), N(250000), N(0), N(250000),
        T("counterpart not required"));
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, FAIL, "QJG",
                   "M6 receivable with QUE (QUE payable): differ by £1.01, above the £1.00 "
                   "threshold");
    finding_expect(r, 1, PASS, "QUE",
                   "M6: QUE has no payable statement with RWH, whose receivable is £2,500.00, "
                   "within the £2,500.00 statement threshold");
    report_free(r);
    r = report(&loaded, "aob", 2023, "");
    aob_thresholds_expect(r, "M6", "configured", 30000000);
    table_at(r, 1, "agreement of balances", 7, 0);
    /* The host's warning that the year holds no money comes first, then the plugin's own. */
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, WARN, "",
                   "no money events recorded for 2023/24 as at event 30: there is nothing to "
                   "judge, so nothing passes");
    finding_expect(r, 1, WARN, "", "no Agreement of Balances statements for the month");
    report_free(r);
    rules_unload(&loaded);
    /* A month other than 6, 9 or 12 stops the plugin loading. */
    const plugins_setting bad = {"aob", "month", "7"};
    loaded = rules_load(f->ledger, "aob", &bad, 1);
    assert_int_equal(plugins_count(loaded.plugins), 0);
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== delegation ======== */

/* Service lines SL01 and SL02. D-QUE-1 gives QUE SL01 from 1 April 2024, open-ended; D-QJG-1
 * gives QJG SL01 and SL02 from 1 July 2024 to 31 March 2025, so not on 1 April 2024, and is then
 * revoked from 1 January 2025 (effective_to 31 December 2024).
 * Specialised allocations: QUE 10,000,000, QJG 5,000,000.
 *   S1, QUE with RGT, SL01, 6,000,000, paid 1,000,000 for M1 (15 April 2024): covered by D-QUE-1.
 *     QUE's commitments 5,000,000 committed + 1,000,000 paid = 6,000,000; headroom 4,000,000.
 *   S2, QJG with RWH, SL02, 4,000,000, agreed 1 August 2024 while D-QJG-1 is in force.
 *     Paid 500,000 for M5 (15 August 2024): covered.
 *     After the revocation, paid 300,000 for M10 (15 January 2025): FAIL.
 *     Paid 200,000 for M11 (15 February 2025): FAIL, until that payment is reversed.
 *     QJG's commitments stay 4,000,000 (paying moves committed to paid); headroom 1,000,000. */
typedef struct delegation_sequences {
    uint64_t before_revocation, m10, m11, reversal;
} delegation_sequences;

static delegation_sequences delegation_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    submit_ok(ledger, test_service_line("d10", "SL01", false));
    submit_ok(ledger, test_service_line("d11", "SL02", false));
    submit_ok(ledger, test_delegation("d12", "D-QUE-1", "QUE", "SL01", "QUE", FULL, 20240401, 0));
    submit_ok(ledger, test_delegation("d13", "D-QJG-1", "QJG", "SL01,SL02", "QJG", FULL, 20240701,
                                      20250331));
    allocate(ledger, "d14", "QUE", SPECIALISED, TEST_YEAR, 10000000);
    allocate(ledger, "d15", "QJG", SPECIALISED, TEST_YEAR, 5000000);
    submit_ok(ledger, specialised("d16", "S1", "QUE", "RGT", "SL01", 6000000));
    submit_ok(ledger, test_payment("d17", "S1", 1, 1000000));
    submit_ok(ledger, test_dated(specialised("d18", "S2", "QJG", "RWH", "SL02", 4000000),
                                 20240801));
    delegation_sequences at;
    at.before_revocation = submit_ok(ledger, test_payment("d19", "S2", 5, 500000));
    submit_ok(ledger, test_revocation("d20", "D-QJG-1", 20241231));
    at.m10 = submit_ok(ledger, test_payment("d21", "S2", 10, 300000));
    at.m11 = submit_ok(ledger, test_payment("d22", "S2", 11, 200000));
    at.reversal = submit_ok(ledger, test_reversal("d23", at.m11, "paid in error"));
    return at;
}

/* The register and budget tables, and the budgets' two passes from finding first_pass on (the
 * failures, worst first, come before them). */
static void delegation_register_and_budgets_expect(const Fundflow__V1__Report *r,
                                                   size_t first_pass) {
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "delegations", 9, 2);
    ROW(t, 0, T("D-QJG-1"), T("QJG"), T("full"), N(2), T("SL01, SL02"), T("QJG"), N(20240701),
        N(20241231), N(0));
    ROW(t, 1, T("D-QUE-1"), T("QUE"), T("full"), N(1), T("SL01"), T("QUE"), N(20240401), N(0),
        N(1));
    t = table_at(r, 1, "specialised budgets", 5, 2);
    ROW(t, 0, T("QJG"), N(5000000), N(0), N(4000000), N(1000000));
    ROW(t, 1, T("QUE"), N(10000000), N(0), N(6000000), N(4000000));
    finding_expect(r, first_pass, PASS, "QJG",
                   "specialised budget of £50,000.00 for 2024/25 leaves £10,000.00 once passed "
                   "on and committed");
    finding_expect(r, first_pass + 1, PASS, "QUE",
                   "specialised budget of £100,000.00 for 2024/25 leaves £40,000.00 once passed "
                   "on and committed");
}

#define SPEND_TABLE "specialised spend without a delegation"

static void test_delegation_register_budgets_and_spend(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    delegation_sequences at = delegation_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "delegation", NULL, 0);
    /* Now: the M11 payment was reversed, so only M10 is flagged. */
    Fundflow__V1__Report *r = report(&loaded, "delegation", TEST_YEAR, "");
    assert_int_equal(r->n_tables, 3);
    delegation_register_and_budgets_expect(r, 1);
    const Fundflow__V1__ReportTable *t = table_at(r, 2, SPEND_TABLE, 8, 1);
    ROW(t, 0, N((int64_t)at.m10), N(20250115), T("M10"), T("S2"), T("QJG"), T("RWH"), T("SL02"),
        N(300000));
    assert_int_equal(r->n_findings, 3);
    char expected[384];
    snprintf(expected, sizeof expected,
             "payment of £3,000.00 on 15 January 2025 (event %llu, M10) under specialised "
             "contract S2 is for service line \"SL02\", but QJG held no delegation of it in "
             "force on that date",
             (unsigned long long)at.m10);
    finding_expect(r, 0, FAIL, "QJG", expected);
    report_free(r);
    /* As at the M11 payment, before its reversal, both are flagged. */
    r = report_as_at(&loaded, "delegation", TEST_YEAR, "", at.reversal - 1, FF_OK);
    t = table_at(r, 2, SPEND_TABLE, 8, 2);
    ROW(t, 1, N((int64_t)at.m11), N(20250215), T("M11"), T("S2"), T("QJG"), T("RWH"), T("SL02"),
        N(200000));
    report_free(r);
    /* As at the M5 payment, before the revocation, D-QJG-1 still ran to 31 March and both
     * payments made by then were covered. */
    r = report_as_at(&loaded, "delegation", TEST_YEAR, "", at.before_revocation, FF_OK);
    ROW(table_at(r, 0, "delegations", 9, 2), 0, T("D-QJG-1"), T("QJG"), T("full"), N(2),
        T("SL01, SL02"), T("QJG"), N(20240701), N(20250331), N(0));
    table_at(r, 2, SPEND_TABLE, 8, 0);
    finding_expect(r, 2, PASS, "",
                   "every one of the 2 specialised payments was made under a delegation in force "
                   "on its date");
    report_free(r);
    /* QUE alone: its delegation, its budget and its one payment, which is covered. */
    r = report(&loaded, "delegation", TEST_YEAR, "QUE");
    table_at(r, 0, "delegations", 9, 1);
    ROW(table_at(r, 1, "specialised budgets", 5, 1), 0, T("QUE"), N(10000000), N(0), N(6000000),
        N(4000000));
    table_at(r, 2, SPEND_TABLE, 8, 0);
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 1, PASS, "QUE",
                   "every one of the 1 specialised payments was made under a delegation in force "
                   "on its date");
    report_free(r);
    report_as_at(&loaded, "delegation", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== mhis ======== */

/* Core services allocations and mental health contract values (pence), 2023/24 and 2024/25.
 * Growth is (now - last) x 10000 / last, rounded half away from zero; met is decided exactly.
 *
 * QJG: allocation 800,000,000 -> 830,000,000: 30,000,000 x 10000 / 800,000,000 = 375 exactly.
 *      MH 60,000,000 -> 62,403,000: 2,403,000 x 10000 / 60,000,000 = 400.5, half rounds up: 401.
 *      4.01% >= 3.75%: met, PASS. Left out: a 2024 dementia contract (7,000,000) and a 2024
 *      mental health contract on service development funding (1,000,000).
 * QKS: registered for 2024 only (allocation 300,000,000, MH 10,000,000): nothing to compare, WARN.
 * QMM: allocation 400,000,000 -> 420,000,000: 500 bp.
 *      MH 20,000,000 -> 20,000,000 varied by -1,000 = 19,999,000: -1,000 x 10000 / 20,000,000
 *      = -0.5, half rounds away from zero: -1 bp, "-0.01%". Not met, FAIL.
 * QUE: allocation 1,000,000,000 -> 1,057,000,000: 570 bp exactly.
 *      MH, QUE's own and its place 06H's: 90,000,000 + 10,000,000 = 100,000,000 ->
 *      95,000,000 + 10,699,999 = 105,699,999: 5,699,999 x 10000 / 100,000,000 = 569.9999 -> 570.
 *      Both show 5.70%, but 5,699,999 / 100,000,000 < 57,000,000 / 1,000,000,000 exactly:
 *      not met, FAIL. */
static void mhis_orgs(ff_ledger *ledger) {
    world_with_trusts(ledger);
    submit_ok(ledger, test_org("m10", "QMM", "Illustrative ICB three", FUNDFLOW__V1__ORG_KIND__ICB,
                               "Y61"));
    submit_ok(ledger, test_org("m11", "QKS", "Illustrative ICB four", FUNDFLOW__V1__ORG_KIND__ICB,
                               "Y61"));
}

static void mhis_last_year(ff_ledger *ledger) {
    limit(ledger, "m19", CORE, 2023, 2200000000); /* 1,000,000,000 + 800,000,000 + 400,000,000 */
    allocate(ledger, "m20", "QUE", CORE, 2023, 1000000000);
    allocate(ledger, "m21", "QJG", CORE, 2023, 800000000);
    allocate(ledger, "m22", "QMM", CORE, 2023, 400000000);
    budget(ledger, "m23", "QUE", "06H", CORE, 2023, 50000000);
    submit_ok(ledger, contract("m24", "MH23-QUE", "QUE", "RGT", CORE, 2023, MENTAL_HEALTH,
                               90000000));
    submit_ok(ledger, contract("m25", "MH23-06H", "06H", "RGT", CORE, 2023, MENTAL_HEALTH,
                               10000000));
    submit_ok(ledger, contract("m26", "MH23-QJG", "QJG", "RWH", CORE, 2023, MENTAL_HEALTH,
                               60000000));
    submit_ok(ledger, contract("m27", "MH23-QMM", "QMM", "RWH", CORE, 2023, MENTAL_HEALTH,
                               20000000));
}

static void mhis_this_year(ff_ledger *ledger) {
    allocate(ledger, "m30", "QUE", CORE, 2024, 1057000000);
    allocate(ledger, "m31", "QJG", CORE, 2024, 830000000);
    allocate(ledger, "m32", "QMM", CORE, 2024, 420000000);
    allocate(ledger, "m33", "QKS", CORE, 2024, 300000000);
    allocate(ledger, "m34", "QJG", DEVELOPMENT, 2024, 2000000);
    budget(ledger, "m35", "QUE", "06H", CORE, 2024, 20000000);
    submit_ok(ledger, contract("m36", "MH24-QUE", "QUE", "RGT", CORE, 2024, MENTAL_HEALTH,
                               95000000));
    submit_ok(ledger, contract("m37", "MH24-06H", "06H", "RGT", CORE, 2024, MENTAL_HEALTH,
                               10699999));
    submit_ok(ledger, contract("m38", "MH24-QJG", "QJG", "RWH", CORE, 2024, MENTAL_HEALTH,
                               62403000));
    submit_ok(ledger, contract("m39", "DEM24-QJG", "QJG", "RWH", CORE, 2024, DEMENTIA, 7000000));
    submit_ok(ledger, contract("m40", "SDF24-QJG", "QJG", "RWH", DEVELOPMENT, 2024, MENTAL_HEALTH,
                               1000000));
    submit_ok(ledger, contract("m41", "MH24-QMM", "QMM", "RWH", CORE, 2024, MENTAL_HEALTH,
                               20000000));
    submit_ok(ledger, test_variation("m42", "MH24-QMM", -1000));
    submit_ok(ledger, contract("m43", "MH24-QKS", "QKS", "RWH", CORE, 2024, MENTAL_HEALTH,
                               10000000));
}

static const char MHIS_QUE_FAIL[] =
    "mental health spend of £1,056,999.99 grows 5.70% against programme allocation growth of "
    "5.70%: the standard is not met";

static void test_mhis_growth_to_the_basis_point(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    mhis_orgs(f->ledger);
    mhis_last_year(f->ledger);
    mhis_this_year(f->ledger);
    rules loaded = rules_load(f->ledger, "mhis", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "mhis", TEST_YEAR, "");
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "mental health investment standard", 9, 4);
    ROW(t, 0, T("QJG"), T(QJG_NAME), N(60000000), N(62403000), N(401), N(800000000),
        N(830000000), N(375), N(1));
    ROW(t, 1, T("QKS"), T("Illustrative ICB four"), N(0), N(10000000), N(0), N(0), N(300000000),
        N(0), N(0));
    ROW(t, 2, T("QMM"), T("Illustrative ICB three"), N(20000000), N(19999000), N(-1),
        N(400000000), N(420000000), N(500), N(0));
    ROW(t, 3, T("QUE"), T(QUE_NAME), N(100000000), N(105699999), N(570), N(1000000000),
        N(1057000000), N(570), N(0));
    /* Worst first, each level in ICB order. */
    assert_int_equal(r->n_findings, 4);
    finding_expect(r, 0, FAIL, "QMM",
                   "mental health spend of £199,990.00 grows -0.01% against programme allocation "
                   "growth of 5.00%: the standard is not met");
    finding_expect(r, 1, FAIL, "QUE", MHIS_QUE_FAIL);
    finding_expect(r, 2, WARN, "QKS",
                   "no 2023/24 mental health spend or core services allocation to compare "
                   "2024/25 with");
    finding_expect(r, 3, PASS, "QJG",
                   "mental health spend of £624,030.00 grows 4.01% against programme allocation "
                   "growth of 3.75%: the standard is met");
    report_free(r);
    r = report(&loaded, "mhis", TEST_YEAR, "QUE");
    table_at(r, 0, "mental health investment standard", 9, 1);
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, FAIL, "QUE", MHIS_QUE_FAIL);
    report_free(r);
    report_as_at(&loaded, "mhis", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* One penny more of mental health spend at 06H (105,700,000) makes QUE's growth exactly equal to
 * its allocation's, 570 bp each, and equal growth meets the standard. */
static void test_mhis_equal_growth_is_met(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    mhis_orgs(f->ledger);
    mhis_last_year(f->ledger);
    mhis_this_year(f->ledger);
    submit_ok(f->ledger, test_variation("m50", "MH24-06H", 1));
    rules loaded = rules_load(f->ledger, "mhis", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "mhis", TEST_YEAR, "QUE");
    ROW(table_at(r, 0, "mental health investment standard", 9, 1), 0, T("QUE"), T(QUE_NAME),
        N(100000000), N(105700000), N(570), N(1000000000), N(1057000000), N(570), N(1));
    finding_expect(r, 0, PASS, "QUE",
                   "mental health spend of £1,057,000.00 grows 5.70% against programme "
                   "allocation growth of 5.70%: the standard is met");
    report_free(r);
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== system_balance ======== */

/* 2024/25, every revenue stream added up, capital left out:
 *   QUE receives core 1,000,000,000 and running costs 10,000,000 (received 1,010,000,000; its
 *     capital 30,000,000 is not counted); passes 200,000,000 to its place 06H and 50,000,000 to
 *     the collaborative PC1 (passed on 250,000,000); commits 700,000,000 to RGT (50,000,000 of it
 *     paid) and 9,000,000 of running costs: commitments 709,000,000.
 *     Surplus 1,010,000,000 - 250,000,000 - 709,000,000 = 51,000,000.
 *   06H: received 200,000,000; an outcome contract of 150,000,000 with a pot of 10,000,000 (MA
 *     60%, MB 40%): MA at 50% earns floor(6,000,000 x 0.5) = 3,000,000 and releases 3,000,000.
 *     Commitments: committed 140,000,000 + withheld 4,000,000 + earned 3,000,000 = 147,000,000.
 *     Surplus 200,000,000 - 147,000,000 = 53,000,000.
 *   QUE system: received 1,010,000,000; passed outside 250,000,000 - 200,000,000 = 50,000,000;
 *     commitments 709,000,000 + 147,000,000 = 856,000,000; surplus 104,000,000 (51M + 53M).
 *   QJG: received 100,000,000, all contracted to RWH: a balance of 0. 07K: nothing.
 * No body has a plan, so each one's forecast expenditure is its contract value. */
static void system_balance_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    allocate(ledger, "s10", "QUE", CORE, TEST_YEAR, 1000000000);
    allocate(ledger, "s11", "QUE", RUNNING_COSTS, TEST_YEAR, 10000000);
    allocate(ledger, "s12", "QUE", CAPITAL, TEST_YEAR, 30000000);
    allocate(ledger, "s13", "QJG", CORE, TEST_YEAR, 100000000);
    budget(ledger, "s14", "QUE", "06H", CORE, TEST_YEAR, 200000000);
    budget(ledger, "s15", "QUE", "PC1", CORE, TEST_YEAR, 50000000);
    submit_ok(ledger, contract("s16", "B1", "QUE", "RGT", CORE, TEST_YEAR, OTHER, 700000000));
    submit_ok(ledger, test_payment("s17", "B1", 1, 50000000));
    submit_ok(ledger, contract("s18", "B2", "QUE", "RGT", RUNNING_COSTS, TEST_YEAR, OTHER,
                               9000000));
    submit_ok(ledger, test_contract("s19", "B3", "06H", "RGT", OUTCOME, CORE, 150000000, 10000000,
                                    "MA:6000,MB:4000"));
    submit_ok(ledger, test_outcome("s20", "B3", "MA", 5000));
    submit_ok(ledger, contract("s21", "B4", "QJG", "RWH", CORE, TEST_YEAR, OTHER, 100000000));
}

/* 2026/27: QUE receives 500,000,000, passes 100,000,000 to 06H and contracts 400,000,000, a
 * balance; 06H contracts 60,000,000 and keeps a surplus of 40,000,000. QUE's system: received
 * 500,000,000, nothing passed outside, commitments 460,000,000, surplus 40,000,000. */
static void system_balance_2026(ff_ledger *ledger) {
    limit(ledger, "s29", CORE, 2026, 500000000);
    allocate(ledger, "s30", "QUE", CORE, 2026, 500000000);
    budget(ledger, "s31", "QUE", "06H", CORE, 2026, 100000000);
    submit_ok(ledger, contract("s32", "B26-QUE", "QUE", "RGT", CORE, 2026, OTHER, 400000000));
    submit_ok(ledger, contract("s33", "B26-06H", "06H", "RGT", CORE, 2026, OTHER, 60000000));
}

/* The rule every finding states after its figure. */
#define SYSTEM_BALANCE_RULE                                                                      \
    " (received less passed on less forecast expenditure, the larger of contract value and plan)"

static const char SYSTEM_QUE_2024[] =
    "QUE system (the ICB with its places) for 2024/25 forecasts a surplus of £1,040,000.00"
    SYSTEM_BALANCE_RULE "; up to 2025/26 each system must balance as a whole";

static void test_system_balance_systems_up_to_2025(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    system_balance_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "system_balance", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "system_balance", TEST_YEAR, "");
    assert_int_equal(r->n_tables, 2);
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "systems", 7, 2);
    ROW(t, 0, T("QJG"), T(QJG_NAME), N(1), N(100000000), N(0), N(100000000), N(0));
    ROW(t, 1, T("QUE"), T(QUE_NAME), N(1), N(1010000000), N(50000000), N(856000000),
        N(104000000));
    t = table_at(r, 1, "bodies", 8, 4);
    ROW(t, 0, T("QJG"), T(QJG_NAME), T("ICB"), T("QJG"), N(100000000), N(0), N(100000000), N(0));
    ROW(t, 1, T("QUE"), T(QUE_NAME), T("ICB"), T("QUE"), N(1010000000), N(250000000),
        N(709000000), N(51000000));
    ROW(t, 2, T("06H"), T("Cambridgeshire and Peterborough place"), T("place"), T("QUE"),
        N(200000000), N(0), N(147000000), N(53000000));
    ROW(t, 3, T("07K"), T("Suffolk place (illustrative)"), T("place"), T("QJG"), N(0), N(0), N(0),
        N(0));
    /* Up to 2025/26 only systems are judged. */
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, PASS, "QJG",
                   "QJG system (the ICB with its places) for 2024/25 forecasts a balance of £0.00"
                   SYSTEM_BALANCE_RULE "; up to 2025/26 each system must balance as a whole");
    finding_expect(r, 1, PASS, "QUE", SYSTEM_QUE_2024);
    report_free(r);
    /* Asked for a place: the place and its system. */
    r = report(&loaded, "system_balance", TEST_YEAR, "06H");
    table_at(r, 0, "systems", 7, 1);
    ROW(table_at(r, 1, "bodies", 8, 1), 0, T("06H"), T("Cambridgeshire and Peterborough place"),
        T("place"), T("QUE"), N(200000000), N(0), N(147000000), N(53000000));
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, PASS, "QUE", SYSTEM_QUE_2024);
    report_free(r);
    report_as_at(&loaded, "system_balance", 2022, "", 0, FF_ERR_YEAR_INVALID);
    report_as_at(&loaded, "system_balance", 2027, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

static void test_system_balance_bodies_from_2026(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    system_balance_ledger(f->ledger);
    system_balance_2026(f->ledger);
    rules loaded = rules_load(f->ledger, "system_balance", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "system_balance", 2026, "QUE");
    ROW(table_at(r, 0, "systems", 7, 1), 0, T("QUE"), T(QUE_NAME), N(1), N(500000000), N(0),
        N(460000000), N(40000000));
    const Fundflow__V1__ReportTable *t = table_at(r, 1, "bodies", 8, 2);
    ROW(t, 0, T("QUE"), T(QUE_NAME), T("ICB"), T("QUE"), N(500000000), N(100000000),
        N(400000000), N(0));
    ROW(t, 1, T("06H"), T("Cambridgeshire and Peterborough place"), T("place"), T("QUE"),
        N(100000000), N(0), N(60000000), N(40000000));
    /* From 2026/27 each body is judged and the systems are not. */
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, PASS, "QUE",
                   "QUE ICB for 2026/27 forecasts a balance of £0.00" SYSTEM_BALANCE_RULE
                   "; from 2026/27 each body must break even on its own");
    finding_expect(r, 1, PASS, "06H",
                   "06H place for 2026/27 forecasts a surplus of £400,000.00" SYSTEM_BALANCE_RULE
                   "; from 2026/27 each body must break even on its own");
    report_free(r);
    rules_unload(&loaded);
    fixture_close(f);
}

/* Plans: forecast expenditure is, per stream, the larger of contract value and the full-year
 * plan. On system_balance's ledger (events up to W+14):
 *   W+15: QJG plans 8,500,000 a month of core services: 12 x 8,500,000 = 102,000,000, above its
 *     contract value of 100,000,000. QJG holds received 100,000,000 - passed on 0 = 100,000,000,
 *     so it forecasts 102,000,000 and a deficit of 100,000,000 - 102,000,000 = -2,000,000, plan
 *     less held; its system (07K has nothing) the same: FAIL.
 *   W+16: 06H plans 10,000,000 a month: 120,000,000, below its contract value 147,000,000, so
 *     it changes nothing: 06H still forecasts 147,000,000 and a surplus of 53,000,000.
 *   QUE has no plan: its figures are unchanged (709,000,000; surplus 51,000,000), and its system
 *     still 856,000,000 and 104,000,000.
 * As at W+14, before either plan, QJG balances as before.
 *   W+17: QJG revises its plan to 8,000,000 a month, 96,000,000, below its contract value: at the
 *     head the latest revision wins and QJG balances again; as at W+16 it is still in deficit. */
static void test_system_balance_forecasts_the_larger_of_contracts_and_plan(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    system_balance_ledger(f->ledger);
    static const int64_t qjg_plan[12] = {8500000, 8500000, 8500000, 8500000, 8500000, 8500000,
                                         8500000, 8500000, 8500000, 8500000, 8500000, 8500000};
    static const int64_t place_plan[12] = {10000000, 10000000, 10000000, 10000000,
                                           10000000, 10000000, 10000000, 10000000,
                                           10000000, 10000000, 10000000, 10000000};
    submit_ok(f->ledger, test_plan("s40", "QJG", CORE, qjg_plan));
    submit_ok(f->ledger, test_plan("s41", "06H", CORE, place_plan));
    assert_int_equal(test_head_sequence(f->ledger), W + 16);
    rules loaded = rules_load(f->ledger, "system_balance", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "system_balance", TEST_YEAR, "");
    const Fundflow__V1__ReportTable *t = table_at(r, 0, "systems", 7, 2);
    ROW(t, 0, T("QJG"), T(QJG_NAME), N(1), N(100000000), N(0), N(102000000), N(-2000000));
    ROW(t, 1, T("QUE"), T(QUE_NAME), N(1), N(1010000000), N(50000000), N(856000000),
        N(104000000));
    t = table_at(r, 1, "bodies", 8, 4);
    ROW(t, 0, T("QJG"), T(QJG_NAME), T("ICB"), T("QJG"), N(100000000), N(0), N(102000000),
        N(-2000000));
    ROW(t, 1, T("QUE"), T(QUE_NAME), T("ICB"), T("QUE"), N(1010000000), N(250000000),
        N(709000000), N(51000000));
    ROW(t, 2, T("06H"), T("Cambridgeshire and Peterborough place"), T("place"), T("QUE"),
        N(200000000), N(0), N(147000000), N(53000000));
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 0, FAIL, "QJG",
                   "QJG system (the ICB with its places) for 2024/25 forecasts a deficit of "
                   "-£20,000.00" SYSTEM_BALANCE_RULE
                   "; up to 2025/26 each system must balance as a whole");
    finding_expect(r, 1, PASS, "QUE", SYSTEM_QUE_2024);
    report_free(r);
    r = report_as_at(&loaded, "system_balance", TEST_YEAR, "QJG", W + 14, FF_OK);
    ROW(table_at(r, 0, "systems", 7, 1), 0, T("QJG"), T(QJG_NAME), N(1), N(100000000), N(0),
        N(100000000), N(0));
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, PASS, "QJG",
                   "QJG system (the ICB with its places) for 2024/25 forecasts a balance of £0.00"
                   SYSTEM_BALANCE_RULE "; up to 2025/26 each system must balance as a whole");
    report_free(r);
    static const int64_t qjg_revised[12] = {8000000, 8000000, 8000000, 8000000,
                                            8000000, 8000000, 8000000, 8000000,
                                            8000000, 8000000, 8000000, 8000000};
    submit_ok(f->ledger, test_plan("s42", "QJG", CORE, qjg_revised));
    r = report(&loaded, "system_balance", TEST_YEAR, "QJG");
    ROW(table_at(r, 0, "systems", 7, 1), 0, T("QJG"), T(QJG_NAME), N(1), N(100000000), N(0),
        N(100000000), N(0));
    report_free(r);
    r = report_as_at(&loaded, "system_balance", TEST_YEAR, "QJG", W + 16, FF_OK);
    ROW(table_at(r, 0, "systems", 7, 1), 0, T("QJG"), T(QJG_NAME), N(1), N(100000000), N(0),
        N(102000000), N(-2000000));
    report_free(r);
    rules_unload(&loaded);
    fixture_close(f);
}

/* The host's rules on every report, shown on system_balance's ledger: world and trusts 1 to
 * W+2 = 18, the first money event is W+3 = 19 (QUE's 2024/25 allocation) and the last is
 * W+14 = 30.
 *   2025/26 holds no money: the plugin still builds its rows of £0.00 (systems QJG and QUE,
 *   bodies QJG, QUE, 06H, 07K) and would pass both systems on a balance of £0.00; instead the
 *   passes go and one WARN says the year has no money.
 *   2024/25 as at event 18, before the first allocation, is just as empty: NHS England's
 *   limits (events 8 to 16) are set, but a limit moves no money.
 *   2024/25 now keeps its two passes and gets no warning.
 * An unknown organisation is not_found, and an event beyond the head is refused. */
static void test_host_warns_of_a_year_without_money(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    system_balance_ledger(f->ledger);
    assert_int_equal(test_head_sequence(f->ledger), W + 14);
    rules loaded = rules_load(f->ledger, "system_balance", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "system_balance", 2025, "");
    ROW(table_at(r, 0, "systems", 7, 2), 0, T("QJG"), T(QJG_NAME), N(1), N(0), N(0), N(0), N(0));
    table_at(r, 1, "bodies", 8, 4);
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, WARN, "",
                   "no money events recorded for 2025/26 as at event 30: there is nothing to "
                   "judge, so nothing passes");
    report_free(r);
    r = report_as_at(&loaded, "system_balance", TEST_YEAR, "QUE", W + 2, FF_OK);
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, WARN, "QUE",
                   "no money events recorded for 2024/25 as at event 18: there is nothing to "
                   "judge, so nothing passes");
    report_free(r);
    r = report(&loaded, "system_balance", TEST_YEAR, "");
    assert_int_equal(r->n_findings, 2);
    finding_expect(r, 1, PASS, "QUE", SYSTEM_QUE_2024);
    report_free(r);
    report_as_at(&loaded, "system_balance", TEST_YEAR, "NOPE", 0, FF_ERR_ORG_UNKNOWN);
    report_as_at(&loaded, "system_balance", TEST_YEAR, "", W + 15, FF_ERR_AS_AT_BEYOND_HEAD);
    report_free(report_as_at(&loaded, "system_balance", TEST_YEAR, "", W + 14, FF_OK));
    rules_unload(&loaded);
    fixture_close(f);
}

/* ======== bcf ======== */

/* Local authorities: E10000003 under QUE, E10000029 under QJG, E06000031 under no ICB.
 *   QUE's core allocation 1,000,000,001: 4% is 40,000,000.04, rounded up to 40,000,001.
 *     E10000003 receives 30,000,000 of Better Care Fund and 10,000,001 of core budget from QUE:
 *     40,000,001, exactly the minimum: PASS. It is also paid 2,000,000 as a provider under a
 *     core contract, which lands in its core receipts and is taken off again.
 *   QJG's core allocation 500,000,000: 4% is 20,000,000. E10000029 receives 19,999,999: a
 *     shortfall of 1, FAIL.
 *   E06000031 receives 1,000,000 from QUE but has no ICB and no configured minimum: WARN. */
static void bcf_ledger(ff_ledger *ledger) {
    world_with_trusts(ledger);
    submit_ok(ledger, test_org("b10", "E10000003", "Cambridgeshire County Council",
                               FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, "QUE"));
    submit_ok(ledger, test_org("b11", "E10000029", "Suffolk County Council",
                               FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, "QJG"));
    submit_ok(ledger, test_org("b12", "E06000031", "Peterborough City Council",
                               FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, NULL));
    allocate(ledger, "b13", "QUE", CORE, TEST_YEAR, 1000000001);
    allocate(ledger, "b14", "QUE", BETTER_CARE, TEST_YEAR, 30000000);
    allocate(ledger, "b15", "QJG", CORE, TEST_YEAR, 500000000);
    budget(ledger, "b16", "QUE", "E10000003", BETTER_CARE, TEST_YEAR, 30000000);
    budget(ledger, "b17", "QUE", "E10000003", CORE, TEST_YEAR, 10000001);
    budget(ledger, "b18", "QJG", "E10000029", CORE, TEST_YEAR, 19999999);
    budget(ledger, "b19", "QUE", "E06000031", CORE, TEST_YEAR, 1000000);
    submit_ok(ledger, contract("b20", "LA1", "QUE", "E10000003", CORE, TEST_YEAR, OTHER, 5000000));
    submit_ok(ledger, test_payment("b21", "LA1", 1, 2000000));
}

static void test_bcf_minimum_contribution(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    bcf_ledger(f->ledger);
    rules loaded = rules_load(f->ledger, "bcf", NULL, 0);
    Fundflow__V1__Report *r = report(&loaded, "bcf", TEST_YEAR, "");
    const Fundflow__V1__ReportTable *t =
        table_at(r, 0, "better care fund (illustrative minimum)", 9, 3);
    ROW(t, 0, T("E06000031"), T("Peterborough City Council"), T(""), N(1000000), N(0), N(0), T(""),
        N(0), N(0));
    ROW(t, 1, T("E10000003"), T("Cambridgeshire County Council"), T("QUE"), N(40000001),
        N(1000000001), N(40000001), T("share of ICB core"), N(0), N(1));
    ROW(t, 2, T("E10000029"), T("Suffolk County Council"), T("QJG"), N(19999999), N(500000000),
        N(20000000), T("share of ICB core"), N(1), N(0));
    /* Worst first. */
    assert_int_equal(r->n_findings, 3);
    finding_expect(r, 0, FAIL, "E10000029",
                   "NHS contribution of £199,999.99 is below the illustrative minimum of "
                   "£200,000.00 (share of ICB core)");
    finding_expect(r, 1, WARN, "E06000031",
                   "NHS contribution of £10,000.00, but no minimum: the authority has no ICB and "
                   "none is configured");
    finding_expect(r, 2, PASS, "E10000003",
                   "NHS contribution of £400,000.01 is at or above the illustrative minimum of "
                   "£400,000.01 (share of ICB core)");
    report_free(r);
    r = report(&loaded, "bcf", TEST_YEAR, "E10000029");
    table_at(r, 0, "better care fund (illustrative minimum)", 9, 1);
    assert_int_equal(r->n_findings, 1);
    finding_expect(r, 0, FAIL, "E10000029", NULL);
    report_free(r);
    report_as_at(&loaded, "bcf", 2025, "", 0, FF_ERR_YEAR_INVALID);
    rules_unload(&loaded);
    fixture_close(f);
}

/* Configured: 5% by default, and 1,000,000 for E06000031.
 *   E06000031: 1,000,000 against a configured 1,000,000: PASS; its ICB core column stays 0.
 *   E10000003: 5% of 1,000,000,001 = 50,000,000.05, rounded up to 50,000,001; shortfall
 *     50,000,001 - 40,000,001 = 10,000,000: FAIL.
 *   E10000029: 5% of 500,000,000 = 25,000,000; shortfall 5,000,001: FAIL. */
static void test_bcf_configured_minimums(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    bcf_ledger(f->ledger);
    const plugins_setting settings[] = {{"bcf", "default_minimum_bp", "500"},
                                        {"bcf", "minimum_pence.E06000031", "1000000"}};
    rules loaded = rules_load(f->ledger, "bcf", settings, 2);
    Fundflow__V1__Report *r = report(&loaded, "bcf", TEST_YEAR, "");
    const Fundflow__V1__ReportTable *t =
        table_at(r, 0, "better care fund (illustrative minimum)", 9, 3);
    ROW(t, 0, T("E06000031"), T("Peterborough City Council"), T(""), N(1000000), N(0), N(1000000),
        T("configured"), N(0), N(1));
    ROW(t, 1, T("E10000003"), T("Cambridgeshire County Council"), T("QUE"), N(40000001),
        N(1000000001), N(50000001), T("share of ICB core"), N(10000000), N(0));
    ROW(t, 2, T("E10000029"), T("Suffolk County Council"), T("QJG"), N(19999999), N(500000000),
        N(25000000), T("share of ICB core"), N(5000001), N(0));
    /* Worst first: the two failures, then the pass. */
    finding_expect(r, 0, FAIL, "E10000003",
                   "NHS contribution of £400,000.01 is below the illustrative minimum of "
                   "£500,000.01 (share of ICB core)");
    finding_expect(r, 1, FAIL, "E10000029", NULL);
    finding_expect(r, 2, PASS, "E06000031",
                   "NHS contribution of £10,000.00 is at or above the illustrative minimum of "
                   "£10,000.00 (configured)");
    report_free(r);
    rules_unload(&loaded);
    fixture_close(f);
}

int main(void) {
    if (access(plugins_dir, R_OK) != 0) {
        fprintf(stderr, "plugin directory missing: %s\n", plugins_dir);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcomes_pots_and_late_reporting),
        cmocka_unit_test(test_outcomes_filter_and_years),
        cmocka_unit_test(test_running_costs_allowance_levels),
        cmocka_unit_test(test_running_costs_veto),
        cmocka_unit_test(test_running_costs_refuses_a_bad_veto_setting),
        cmocka_unit_test(test_aob_pairs_and_thresholds),
        cmocka_unit_test(test_aob_configured_month_and_year_threshold),
        cmocka_unit_test(test_delegation_register_budgets_and_spend),
        cmocka_unit_test(test_mhis_growth_to_the_basis_point),
        cmocka_unit_test(test_mhis_equal_growth_is_met),
        cmocka_unit_test(test_system_balance_systems_up_to_2025),
        cmocka_unit_test(test_system_balance_bodies_from_2026),
        cmocka_unit_test(test_system_balance_forecasts_the_larger_of_contracts_and_plan),
        cmocka_unit_test(test_host_warns_of_a_year_without_money),
        cmocka_unit_test(test_bcf_minimum_contribution),
        cmocka_unit_test(test_bcf_configured_minimums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
