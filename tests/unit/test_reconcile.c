/* Tests of the Reconcile RPC (query_reconcile*.c): a worked example of each kind with every
 * section non-empty and its totals worked by hand, a tolerance turning a difference into a match,
 * reconciliations as at earlier sequences (a later allocation, payment and variation ignored),
 * a reversed allocation and a reversed payment, date windows, match keys that drop stream, a
 * scoped principal, and every refusal of a bad request with the field it names. */
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
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define ALLOCATIONS FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_ALLOCATIONS
#define POSITIONS FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_POSITIONS
#define PAYMENTS FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_PAYMENTS
#define CONTRACTS FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_CONTRACTS
#define RECEIVED FUNDFLOW__V1__POSITION_MEASURE__MEASURE_RECEIVED
#define PASSED_ON FUNDFLOW__V1__POSITION_MEASURE__MEASURE_PASSED_ON
#define PAID FUNDFLOW__V1__POSITION_MEASURE__MEASURE_PAID

/* Sequences of the scenario (fixture_setup), W = TEST_WORLD_EVENTS = 16 on. */
#define W TEST_WORLD_EVENTS
enum {
    SEQ_QJG_PRIMARY = W + 6,     /* 22: the allocation reversed at 23 */
    SEQ_REVERSAL = W + 7,        /* 23 */
    SEQ_QUE_CORE_LATER = W + 8,  /* 24: £250.00 more to QUE, dated 2024-10-01 */
    SEQ_PAY_QJG_M1 = W + 14,     /* 30 */
    SEQ_PAY_QUE_M3 = W + 15,     /* 31 */
    SEQ_VARIATION = W + 16,      /* 32 */
    SEQ_C06H = W + 17,           /* 33 */
    SEQ_LAST = W + 19,           /* 35 */
};

static void submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command) {
    ledger_result result;
    assert_int_equal(test_submit(ledger, command, &result), FF_OK);
    if (result.failure.code != FF_OK) fail_msg("refused: %s", result.failure.detail);
}

/* The world (1 to W = 16: X24, Y61, ICBs QUE and QJG, places 06H and 07K, PC1, NHS England's
 * limits), then:
 *  17, 18  trusts RGT and RGM
 *  19      X24 allocates £1,000.00 core services to QUE
 *  20      X24 allocates £2,000.00 core services to QJG
 *  21      X24 allocates £500.00 primary medical care to QUE
 *  22      X24 allocates £300.00 primary medical care to QJG ...
 *  23      ... reversed
 *  24      X24 allocates £250.00 more core services to QUE, dated 2024-10-01
 *  25      QUE passes £400.00 core services on to its place 06H
 *  26      QUE contracts C-QUE with RGT for £600.00
 *  27      QJG contracts C-QJG with RGM for £900.00
 *  28, 29  QUE pays £50.00 on C-QUE for M1 (1 April) and M2 (1 May)
 *  30      QJG pays £75.00 on C-QJG for M1
 *  31      QUE pays £50.00 on C-QUE for M3 (1 June)
 *  32      C-QJG varied up by £100.00 to £1,000.00
 *  33      06H contracts C-06H with RGM for £200.00
 *  34      06H pays £10.00 on C-06H for M1, dated 2024-07-15
 *  35      C-06H varied up by £50.00 to £250.00, dated 2024-08-01 */
static int fixture_setup(void **state) {
    test_fixture *f = test_fixture_open();
    ff_ledger *l = f->ledger;
    test_world_register(l);
    submit_ok(l, test_org("o-rgt", "RGT", "Illustrative acute trust",
                          FUNDFLOW__V1__ORG_KIND__TRUST, NULL));
    submit_ok(l, test_org("o-rgm", "RGM", "Illustrative community trust",
                          FUNDFLOW__V1__ORG_KIND__TRUST, NULL));
    submit_ok(l, test_allocation("a1", "X24", "QUE", CORE, TEST_YEAR, 100000));
    submit_ok(l, test_allocation("a2", "X24", "QJG", CORE, TEST_YEAR, 200000));
    submit_ok(l, test_allocation("a3", "X24", "QUE", PRIMARY, TEST_YEAR, 50000));
    submit_ok(l, test_allocation("a4", "X24", "QJG", PRIMARY, TEST_YEAR, 30000));
    submit_ok(l, test_reversal("r4", SEQ_QJG_PRIMARY, "entered twice"));
    submit_ok(l, test_dated(test_allocation("a5", "X24", "QUE", CORE, TEST_YEAR, 25000),
                            20241001));
    submit_ok(l, test_budget("b1", "QUE", "06H", CORE, TEST_YEAR, 40000));
    submit_ok(l, test_contract("c1", "C-QUE", "QUE", "RGT", BLOCK, CORE, 60000, 0, NULL));
    submit_ok(l, test_contract("c2", "C-QJG", "QJG", "RGM", BLOCK, CORE, 90000, 0, NULL));
    submit_ok(l, test_payment("p1", "C-QUE", 1, 5000));
    submit_ok(l, test_dated(test_payment("p2", "C-QUE", 2, 5000), 20240501));
    submit_ok(l, test_payment("p3", "C-QJG", 1, 7500));
    assert_int_equal(test_head_sequence(l), SEQ_PAY_QJG_M1);
    submit_ok(l, test_dated(test_payment("p4", "C-QUE", 3, 5000), 20240601));
    submit_ok(l, test_variation("v1", "C-QJG", 10000));
    submit_ok(l, test_contract("c3", "C-06H", "06H", "RGM", BLOCK, CORE, 20000, 0, NULL));
    assert_int_equal(test_head_sequence(l), SEQ_C06H);
    submit_ok(l, test_dated(test_payment("p5", "C-06H", 1, 1000), 20240715));
    submit_ok(l, test_dated(test_variation("v2", "C-06H", 5000), 20240801));
    assert_int_equal(test_head_sequence(l), SEQ_LAST);
    *state = f;
    return 0;
}

/* ---- requests ---- */

static const access_principal *national(void) {
    static access_principal who;
    access_principal_bootstrap(&who, "test", TEST_EFFECTIVE_DATE);
    return &who;
}

static access_principal scoped(const char *name, const char *scope) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "%s", name);
    snprintf(who.scope, sizeof who.scope, "%s", scope);
    who.role = FUNDFLOW__V1__PRINCIPAL_ROLE__READER;
    who.today = TEST_EFFECTIVE_DATE;
    return who;
}

#define ROWS_MAX 8
typedef struct request {
    Fundflow__V1__ReconcileRequest message;
    Fundflow__V1__ReconcileRow rows[ROWS_MAX];
    Fundflow__V1__ReconcileRow *pointers[ROWS_MAX];
    char *keys[4];
} request;

static void request_init(request *r, Fundflow__V1__ReconcileKind kind) {
    memset(r, 0, sizeof *r);
    fundflow__v1__reconcile_request__init(&r->message);
    r->message.kind = kind;
    r->message.financial_year = TEST_YEAR;
    r->message.rows = r->pointers;
    r->message.match_keys = r->keys;
}

static Fundflow__V1__ReconcileRow *row_add(request *r, uint32_t line, int64_t amount_pence) {
    assert_true(r->message.n_rows < ROWS_MAX);
    Fundflow__V1__ReconcileRow *row = &r->rows[r->message.n_rows];
    fundflow__v1__reconcile_row__init(row);
    row->line = line;
    row->amount_pence = amount_pence;
    r->pointers[r->message.n_rows++] = row;
    return row;
}

static void org_row(request *r, uint32_t line, const char *org, Fundflow__V1__Stream stream,
                    int64_t amount_pence) {
    Fundflow__V1__ReconcileRow *row = row_add(r, line, amount_pence);
    row->org_code = (char *)org;
    row->stream = stream;
}

static void position_row(request *r, uint32_t line, const char *org, Fundflow__V1__Stream stream,
                         Fundflow__V1__PositionMeasure measure, int64_t amount_pence) {
    org_row(r, line, org, stream, amount_pence);
    r->rows[r->message.n_rows - 1].measure = measure;
}

static void contract_row(request *r, uint32_t line, const char *contract, uint32_t month,
                         int64_t amount_pence) {
    Fundflow__V1__ReconcileRow *row = row_add(r, line, amount_pence);
    row->contract_id = (char *)contract;
    row->month = month;
}

static void key_add(request *r, const char *key) {
    r->keys[r->message.n_match_keys++] = (char *)key;
}

static Fundflow__V1__ReconcileResponse *reconcile_as(ff_ledger *ledger,
                                                     const access_principal *who, request *r) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_handler_find("Reconcile")(ledger, who, &r->message.base, &response,
                                                 &failure);
    if (err != FF_OK) fail_msg("refused: %s (%s)", failure.detail, failure.field);
    assert_non_null(response);
    return (Fundflow__V1__ReconcileResponse *)response;
}

static Fundflow__V1__ReconcileResponse *reconcile(ff_ledger *ledger, request *r) {
    return reconcile_as(ledger, national(), r);
}

static void refused_as(ff_ledger *ledger, const access_principal *who, request *r, ff_err code,
                       const char *field) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(query_reconcile(ledger, who, &r->message.base, &response, &failure), code);
    assert_null(response);
    assert_int_equal(failure.code, code);
    assert_non_null(failure.field);
    assert_string_equal(failure.field, field);
}

static void refused(ff_ledger *ledger, request *r, ff_err code, const char *field) {
    refused_as(ledger, national(), r, code, field);
}

static void response_free(Fundflow__V1__ReconcileResponse *response) {
    protobuf_c_message_free_unpacked(&response->base, NULL);
}

/* ---- checks ---- */

static void section_check(const Fundflow__V1__ReconcileSection *section, size_t lines,
                          int64_t file_pence, int64_t ledger_pence, int64_t difference_pence) {
    assert_non_null(section);
    assert_int_equal(section->n_lines, lines);
    assert_int_equal(section->file_pence, file_pence);
    assert_int_equal(section->ledger_pence, ledger_pence);
    assert_int_equal(section->difference_pence, difference_pence);
}

static void line_check(const Fundflow__V1__ReconcileLine *line, const char *org, int stream,
                       int64_t file_pence, int64_t ledger_pence) {
    assert_string_equal(line->org_code, org);
    assert_int_equal(line->stream, stream);
    assert_int_equal(line->file_pence, file_pence);
    assert_int_equal(line->ledger_pence, ledger_pence);
    assert_int_equal(line->difference_pence, file_pence - ledger_pence);
}

static void contract_line_check(const Fundflow__V1__ReconcileLine *line, const char *contract,
                                uint32_t month, int64_t file_pence, int64_t ledger_pence) {
    assert_string_equal(line->contract_id, contract);
    assert_int_equal(line->month, month);
    assert_int_equal(line->file_pence, file_pence);
    assert_int_equal(line->ledger_pence, ledger_pence);
}

/* ---- allocations ---- */

/* The schedule: QUE core £1,250.00 (line 2), QJG core £1,500.00 + £400.00 (lines 3, 4), QJG
 * primary £300.00 (line 5). */
static void allocation_schedule(request *r) {
    request_init(r, ALLOCATIONS);
    org_row(r, 2, "QUE", CORE, 125000);
    org_row(r, 3, "QJG", CORE, 150000);
    r->rows[1].reference = (char *)"J-3";
    org_row(r, 4, "QJG", CORE, 40000);
    r->rows[2].reference = (char *)"J-4";
    org_row(r, 5, "QJG", PRIMARY, 30000);
}

/* Ledger: QUE core 100000 + 25000 = 125000; QJG core 200000; QUE primary 50000; QJG primary
 * 30000 reversed, so 0.
 *   matched      QUE core      file 125000  ledger 125000  difference 0
 *   differences  QJG core      file 190000  ledger 200000  difference -10000
 *   file only    QJG primary   file  30000  ledger      0  difference 30000 (the reversal)
 *   ledger only  QUE primary   file      0  ledger  50000  difference -50000 */
static void test_allocations_worked(void **state) {
    test_fixture *f = *state;
    request r;
    allocation_schedule(&r);
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->as_at_sequence, SEQ_LAST);
    assert_int_equal(res->head_hash.len, 32);
    assert_int_equal(res->n_match_keys, 2);
    assert_string_equal(res->match_keys[0], "org");
    assert_string_equal(res->match_keys[1], "stream");
    section_check(res->matched, 1, 125000, 125000, 0);
    line_check(res->matched->lines[0], "QUE", CORE, 125000, 125000);
    section_check(res->differences, 1, 190000, 200000, -10000);
    const Fundflow__V1__ReconcileLine *qjg = res->differences->lines[0];
    line_check(qjg, "QJG", CORE, 190000, 200000);
    assert_int_equal(qjg->n_lines, 2);
    assert_int_equal(qjg->lines[0], 3);
    assert_int_equal(qjg->lines[1], 4);
    assert_string_equal(qjg->references[0], "J-3");
    assert_string_equal(qjg->references[1], "J-4");
    section_check(res->file_only, 1, 30000, 0, 30000);
    line_check(res->file_only->lines[0], "QJG", PRIMARY, 30000, 0);
    section_check(res->ledger_only, 1, 0, 50000, -50000);
    line_check(res->ledger_only->lines[0], "QUE", PRIMARY, 0, 50000);
    response_free(res);
}

/* A tolerance of £100.00 takes QJG core's -10000 into matched, the difference still shown:
 * matched file 125000 + 190000 = 315000, ledger 125000 + 200000 = 325000, difference -10000.
 * One penny less leaves it a difference. */
static void test_allocations_tolerance(void **state) {
    test_fixture *f = *state;
    request r;
    allocation_schedule(&r);
    r.message.tolerance_pence = 10000;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->tolerance_pence, 10000);
    section_check(res->matched, 2, 315000, 325000, -10000);
    line_check(res->matched->lines[0], "QJG", CORE, 190000, 200000);
    section_check(res->differences, 0, 0, 0, 0);
    response_free(res);
    r.message.tolerance_pence = 9999;
    res = reconcile(f->ledger, &r);
    section_check(res->differences, 1, 190000, 200000, -10000);
    response_free(res);
}

/* As at 22, before the reversal and the later £250.00 to QUE:
 *   matched      QJG primary   30000 = 30000
 *   differences  QUE core      125000 - 100000 = 25000;  QJG core 190000 - 200000 = -10000
 *                totals file 315000, ledger 300000, difference 15000
 *   ledger only  QUE primary   50000 */
static void test_allocations_as_at(void **state) {
    test_fixture *f = *state;
    request r;
    allocation_schedule(&r);
    r.message.as_at_sequence = SEQ_QJG_PRIMARY;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->as_at_sequence, SEQ_QJG_PRIMARY);
    section_check(res->matched, 1, 30000, 30000, 0);
    line_check(res->matched->lines[0], "QJG", PRIMARY, 30000, 30000);
    section_check(res->differences, 2, 315000, 300000, 15000);
    line_check(res->differences->lines[0], "QJG", CORE, 190000, 200000);
    line_check(res->differences->lines[1], "QUE", CORE, 125000, 100000);
    section_check(res->file_only, 0, 0, 0, 0);
    section_check(res->ledger_only, 1, 0, 50000, -50000);
    /* Each as-at has its own hash: the head's differs from event 22's. */
    r.message.as_at_sequence = 0;
    Fundflow__V1__ReconcileResponse *head = reconcile(f->ledger, &r);
    assert_int_equal(head->head_hash.len, res->head_hash.len);
    assert_memory_not_equal(head->head_hash.data, res->head_hash.data, res->head_hash.len);
    response_free(head);
    response_free(res);
}

/* A window of 2024-04-01 to 2024-09-30 leaves out the £250.00 dated 2024-10-01 (ledger QUE core
 * 100000) and the file's line 6, dated 2024-10-02 (counted in rows_outside_window):
 *   differences QUE core 125000 - 100000 = 25000 and QJG core -10000: 315000, 300000, 15000 */
static void test_allocations_window(void **state) {
    test_fixture *f = *state;
    request r;
    allocation_schedule(&r);
    org_row(&r, 6, "QUE", CORE, 99);
    r.rows[4].date = 20241002;
    r.rows[0].date = 20240930;
    r.message.date_from = 20240401;
    r.message.date_to = 20240930;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->rows_outside_window, 1);
    section_check(res->matched, 0, 0, 0, 0);
    section_check(res->differences, 2, 315000, 300000, 15000);
    line_check(res->differences->lines[1], "QUE", CORE, 125000, 100000);
    response_free(res);
}

/* Matching on org alone sums the streams on both sides:
 *   QJG  file 190000 + 30000 = 220000, ledger 200000 + 0 = 200000: difference 20000
 *   QUE  file 125000, ledger 125000 + 50000 = 175000: difference -50000 */
static void test_allocations_without_stream(void **state) {
    test_fixture *f = *state;
    request r;
    allocation_schedule(&r);
    key_add(&r, "org");
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->n_match_keys, 1);
    assert_string_equal(res->match_keys[0], "org");
    section_check(res->differences, 2, 345000, 375000, -30000);
    line_check(res->differences->lines[0], "QJG", 0, 220000, 200000);
    assert_int_equal(res->differences->lines[0]->n_lines, 3);
    line_check(res->differences->lines[1], "QUE", 0, 125000, 175000);
    section_check(res->matched, 0, 0, 0, 0);
    section_check(res->ledger_only, 0, 0, 0, 0);
    response_free(res);
}

/* A reader scoped to QUE: its ledger side holds QUE's allocations only (QJG's core £2,000.00 is
 * not ledger only), and a row naming QJG is refused naming the row. */
static void test_allocations_scoped(void **state) {
    test_fixture *f = *state;
    access_principal que = scoped("que", "QUE");
    request r;
    request_init(&r, ALLOCATIONS);
    org_row(&r, 2, "QUE", CORE, 125000);
    Fundflow__V1__ReconcileResponse *res = reconcile_as(f->ledger, &que, &r);
    section_check(res->matched, 1, 125000, 125000, 0);
    section_check(res->ledger_only, 1, 0, 50000, -50000);
    line_check(res->ledger_only->lines[0], "QUE", PRIMARY, 0, 50000);
    response_free(res);
    org_row(&r, 3, "QJG", CORE, 1);
    refused_as(f->ledger, &que, &r, FF_ERR_OUT_OF_SCOPE, "rows[1].org_code");
    request_init(&r, CONTRACTS);
    contract_row(&r, 2, "C-QJG", 0, 1);
    refused_as(f->ledger, &que, &r, FF_ERR_OUT_OF_SCOPE, "rows[0].contract_id");
    request_init(&r, CONTRACTS);
    contract_row(&r, 2, "C-NONE", 0, 1);
    refused_as(f->ledger, &que, &r, FF_ERR_OUT_OF_SCOPE, "rows[0].contract_id");
}

/* ---- positions ---- */

/* GetPosition's figures: QUE core received 125000, passed on 40000 (to 06H), paid 15000; QUE
 * primary received 50000; QJG core received 200000, paid 7500; QJG primary 0 (reversed). The
 * file names QUE, an ICB, so QJG (the other ICB) is compared too; 06H (a place) is not.
 *   matched      QUE core received 125000, QUE core passed on 40000: 165000 each side
 *   differences  QUE core paid file 10000, ledger 15000: -5000
 *   file only    QUE primary paid 100
 *   ledger only  QUE primary received 50000, QJG core received 200000, QJG core paid 7500:
 *                ledger 257500 */
static void test_positions_worked(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, POSITIONS);
    position_row(&r, 2, "QUE", CORE, RECEIVED, 125000);
    position_row(&r, 3, "QUE", CORE, PAID, 10000);
    position_row(&r, 4, "QUE", CORE, PASSED_ON, 40000);
    position_row(&r, 5, "QUE", PRIMARY, PAID, 100);
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->n_match_keys, 3);
    section_check(res->matched, 2, 165000, 165000, 0);
    assert_int_equal(res->matched->lines[0]->measure, RECEIVED);
    assert_int_equal(res->matched->lines[1]->measure, PASSED_ON);
    section_check(res->differences, 1, 10000, 15000, -5000);
    assert_int_equal(res->differences->lines[0]->measure, PAID);
    section_check(res->file_only, 1, 100, 0, 100);
    section_check(res->ledger_only, 3, 0, 257500, -257500);
    line_check(res->ledger_only->lines[0], "QJG", CORE, 0, 200000);
    assert_int_equal(res->ledger_only->lines[0]->measure, RECEIVED);
    line_check(res->ledger_only->lines[1], "QJG", CORE, 0, 7500);
    assert_int_equal(res->ledger_only->lines[1]->measure, PAID);
    line_check(res->ledger_only->lines[2], "QUE", PRIMARY, 0, 50000);
    response_free(res);
}

/* As at 30, before QUE's M3 payment: QUE core paid 10000 matches the file. */
static void test_positions_as_at(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, POSITIONS);
    position_row(&r, 3, "QUE", CORE, PAID, 10000);
    r.message.stream = CORE;
    r.message.as_at_sequence = SEQ_PAY_QJG_M1;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    section_check(res->matched, 1, 10000, 10000, 0);
    section_check(res->differences, 0, 0, 0, 0);
    /* Core services only: QUE received 125000 and passed on 40000, QJG received 200000 and paid
     * 7500. */
    section_check(res->ledger_only, 4, 0, 372500, -372500);
    response_free(res);
}

/* ---- payments ---- */

/* Ledger: C-QUE M1 5000, M2 5000, M3 5000; C-QJG M1 7500; C-06H M1 1000.
 *   matched      C-QUE M1 5000
 *   differences  C-QUE M2 file 4000, ledger 5000: -1000
 *   file only    C-QJG M2 7500
 *   ledger only  C-06H M1 1000, C-QJG M1 7500, C-QUE M3 5000: 13500 */
static void test_payments_worked(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, PAYMENTS);
    contract_row(&r, 2, "C-QUE", 1, 5000);
    contract_row(&r, 3, "C-QUE", 2, 4000);
    contract_row(&r, 4, "C-QJG", 2, 7500);
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    assert_int_equal(res->n_match_keys, 2);
    assert_string_equal(res->match_keys[0], "contract");
    assert_string_equal(res->match_keys[1], "month");
    section_check(res->matched, 1, 5000, 5000, 0);
    contract_line_check(res->matched->lines[0], "C-QUE", 1, 5000, 5000);
    section_check(res->differences, 1, 4000, 5000, -1000);
    contract_line_check(res->differences->lines[0], "C-QUE", 2, 4000, 5000);
    section_check(res->file_only, 1, 7500, 0, 7500);
    contract_line_check(res->file_only->lines[0], "C-QJG", 2, 7500, 0);
    section_check(res->ledger_only, 3, 0, 13500, -13500);
    contract_line_check(res->ledger_only->lines[0], "C-06H", 1, 0, 1000);
    contract_line_check(res->ledger_only->lines[1], "C-QJG", 1, 0, 7500);
    contract_line_check(res->ledger_only->lines[2], "C-QUE", 3, 0, 5000);
    response_free(res);
}

/* As at 30 the M3 payment (and C-06H) were not made: ledger only is C-QJG M1 7500 alone. A
 * window of 2024-05-01 to 2024-12-31 keeps months M2 on: ledger only is C-QUE M3 5000 alone (C-06H
 * and C-QJG paid M1), and M1 is not matched. A window of 2024-04-01 to 2024-06-30 holds M1 to M3,
 * but C-06H's M1 payment is dated 2024-07-15, outside it: ledger only is C-QJG M1 7500 and C-QUE
 * M3 5000. A commissioner of QJG narrows the ledger to C-QJG. Matching on contract alone sums the
 * months: C-QUE file 9000, ledger 15000; ledger only C-06H 1000 and C-QJG 7500. */
static void test_payments_as_at_window_filters(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, PAYMENTS);
    contract_row(&r, 2, "C-QUE", 1, 5000);
    contract_row(&r, 3, "C-QUE", 2, 4000);
    r.message.as_at_sequence = SEQ_PAY_QJG_M1;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    section_check(res->ledger_only, 1, 0, 7500, -7500);
    response_free(res);
    r.message.as_at_sequence = 0;
    r.message.date_from = 20240501, r.message.date_to = 20241231;
    res = reconcile(f->ledger, &r);
    section_check(res->matched, 0, 0, 0, 0);
    section_check(res->file_only, 1, 5000, 0, 5000);
    section_check(res->ledger_only, 1, 0, 5000, -5000);
    contract_line_check(res->ledger_only->lines[0], "C-QUE", 3, 0, 5000);
    response_free(res);
    r.message.date_from = 20240401, r.message.date_to = 20240630;
    res = reconcile(f->ledger, &r);
    section_check(res->matched, 1, 5000, 5000, 0);
    section_check(res->differences, 1, 4000, 5000, -1000);
    section_check(res->ledger_only, 2, 0, 12500, -12500);
    contract_line_check(res->ledger_only->lines[0], "C-QJG", 1, 0, 7500);
    response_free(res);
    r.message.date_from = 0, r.message.date_to = 0;
    r.message.commissioner_code = (char *)"QJG";
    res = reconcile(f->ledger, &r);
    section_check(res->file_only, 2, 9000, 0, 9000);
    section_check(res->ledger_only, 1, 0, 7500, -7500);
    response_free(res);
    r.message.commissioner_code = (char *)"";
    key_add(&r, "contract");
    res = reconcile(f->ledger, &r);
    section_check(res->differences, 1, 9000, 15000, -6000);
    section_check(res->ledger_only, 2, 0, 8500, -8500);
    response_free(res);
}

/* ---- contracts ---- */

/* Ledger: C-QUE 60000, C-QJG 90000 + 10000 = 100000, C-06H 20000 + 5000 = 25000.
 *   matched      C-QUE 60000
 *   differences  C-QJG file 90000, ledger 100000: -10000
 *   file only    C-XYZ 5000
 *   ledger only  C-06H 25000
 * As at 31, before the variation, C-QJG matches and C-06H does not exist yet. In a window of
 * 2024-04-01 to 2024-07-31, C-06H's variation dated 2024-08-01 is left out: ledger only 20000. */
static void test_contracts_worked(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, CONTRACTS);
    contract_row(&r, 2, "C-QUE", 0, 60000);
    contract_row(&r, 3, "C-QJG", 0, 90000);
    contract_row(&r, 4, "C-XYZ", 0, 5000);
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    section_check(res->matched, 1, 60000, 60000, 0);
    section_check(res->differences, 1, 90000, 100000, -10000);
    contract_line_check(res->differences->lines[0], "C-QJG", 0, 90000, 100000);
    section_check(res->file_only, 1, 5000, 0, 5000);
    section_check(res->ledger_only, 1, 0, 25000, -25000);
    contract_line_check(res->ledger_only->lines[0], "C-06H", 0, 0, 25000);
    response_free(res);
    r.message.date_from = 20240401, r.message.date_to = 20240731;
    res = reconcile(f->ledger, &r);
    section_check(res->differences, 1, 90000, 100000, -10000);
    section_check(res->ledger_only, 1, 0, 20000, -20000);
    response_free(res);
    r.message.date_from = 0, r.message.date_to = 0;
    r.message.as_at_sequence = SEQ_PAY_QUE_M3;
    res = reconcile(f->ledger, &r);
    section_check(res->matched, 2, 150000, 150000, 0);
    section_check(res->ledger_only, 0, 0, 0, 0);
    response_free(res);
}

/* Runs last: it adds to the scenario. A payment of £20.00 on C-QJG for M2 (36), then reversed
 * (37): as at 36 it is in the ledger side (C-QJG M2 file 7500, ledger 2000); at the head it is
 * not (file only), with a window as without. */
static void test_payments_reversed(void **state) {
    test_fixture *f = *state;
    submit_ok(f->ledger, test_dated(test_payment("p6", "C-QJG", 2, 2000), 20240501));
    submit_ok(f->ledger, test_reversal("r6", SEQ_LAST + 1, "paid in error"));
    request r;
    request_init(&r, PAYMENTS);
    contract_row(&r, 4, "C-QJG", 2, 7500);
    r.message.as_at_sequence = SEQ_LAST + 1;
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    section_check(res->differences, 1, 7500, 2000, 5500);
    response_free(res);
    r.message.as_at_sequence = 0;
    res = reconcile(f->ledger, &r);
    section_check(res->differences, 0, 0, 0, 0);
    section_check(res->file_only, 1, 7500, 0, 7500);
    response_free(res);
    r.message.date_from = 20240401, r.message.date_to = 20250331;
    res = reconcile(f->ledger, &r);
    section_check(res->file_only, 1, 7500, 0, 7500);
    response_free(res);
}

/* ---- refusals ---- */

static void test_refusals(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_KIND_UNSPECIFIED);
    refused(f->ledger, &r, FF_ERR_FIELD_MISSING, "kind");
    request_init(&r, 9);
    refused(f->ledger, &r, FF_ERR_ENUM_INVALID, "kind");
    request_init(&r, ALLOCATIONS);
    r.message.financial_year = 1999;
    refused(f->ledger, &r, FF_ERR_YEAR_INVALID, "financial_year");
    request_init(&r, ALLOCATIONS);
    r.message.tolerance_pence = -1;
    refused(f->ledger, &r, FF_ERR_TOLERANCE_NEGATIVE, "tolerance_pence");
    request_init(&r, ALLOCATIONS);
    r.message.stream = 99;
    refused(f->ledger, &r, FF_ERR_ENUM_INVALID, "stream");
    request_init(&r, ALLOCATIONS);
    r.message.date_from = 20240230;
    refused(f->ledger, &r, FF_ERR_DATE_INVALID, "date_from");
    request_init(&r, ALLOCATIONS);
    r.message.date_from = 20240701, r.message.date_to = 20240630;
    refused(f->ledger, &r, FF_ERR_WINDOW_ORDER, "date_from");
    request_init(&r, ALLOCATIONS);
    key_add(&r, "month"); /* a key of payments, not of allocations */
    refused(f->ledger, &r, FF_ERR_MATCH_KEY_UNKNOWN, "match_keys");
    request_init(&r, PAYMENTS);
    key_add(&r, "colour");
    refused(f->ledger, &r, FF_ERR_MATCH_KEY_UNKNOWN, "match_keys");
    request_init(&r, ALLOCATIONS);
    r.message.as_at_sequence = SEQ_LAST + 1;
    refused(f->ledger, &r, FF_ERR_AS_AT_BEYOND_HEAD, "as_at_sequence");
}

static void test_row_refusals(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, ALLOCATIONS);
    org_row(&r, 2, "QUE", CORE, 1);
    org_row(&r, 3, "", CORE, 1);
    refused(f->ledger, &r, FF_ERR_FIELD_MISSING, "rows[1].org_code");
    request_init(&r, ALLOCATIONS);
    org_row(&r, 2, "QUE", 0, 1);
    refused(f->ledger, &r, FF_ERR_FIELD_MISSING, "rows[0].stream");
    key_add(&r, "org"); /* stream left out: a row without one is fine */
    response_free(reconcile(f->ledger, &r));
    request_init(&r, POSITIONS);
    org_row(&r, 2, "QUE", CORE, 1);
    refused(f->ledger, &r, FF_ERR_FIELD_MISSING, "rows[0].measure");
    request_init(&r, PAYMENTS);
    contract_row(&r, 2, "C-QUE", 13, 1);
    refused(f->ledger, &r, FF_ERR_DATE_INVALID, "rows[0].month");
    request_init(&r, PAYMENTS);
    contract_row(&r, 2, "", 1, 1);
    refused(f->ledger, &r, FF_ERR_FIELD_MISSING, "rows[0].contract_id");
    request_init(&r, CONTRACTS);
    contract_row(&r, 2, "C-QUE", 0, 1);
    r.rows[0].financial_year = TEST_YEAR - 1;
    refused(f->ledger, &r, FF_ERR_ROW_YEAR_MISMATCH, "rows[0]");
    r.rows[0].financial_year = TEST_YEAR;
    char reference[FF_REFERENCE_BYTES_MAX + 2];
    memset(reference, 'R', sizeof reference - 1);
    reference[sizeof reference - 1] = '\0';
    r.rows[0].reference = reference;
    refused(f->ledger, &r, FF_ERR_FIELD_TOO_LONG, "rows[0].reference");
}

/* One row more than FF_RECONCILE_ROWS_MAX is refused before any is read. */
static void test_too_many_rows(void **state) {
    test_fixture *f = *state;
    request r;
    request_init(&r, CONTRACTS);
    contract_row(&r, 2, "C-QUE", 0, 1);
    size_t count = FF_RECONCILE_ROWS_MAX + 1;
    Fundflow__V1__ReconcileRow **many = malloc(count * sizeof *many);
    assert_non_null(many);
    for (size_t i = 0; i < count; i++) many[i] = &r.rows[0];
    r.message.rows = many, r.message.n_rows = count;
    refused(f->ledger, &r, FF_ERR_RECONCILE_TOO_MANY_ROWS, "rows");
    r.message.n_rows = FF_RECONCILE_ROWS_MAX; /* at the limit: C-QUE 100000 × 1p = £1,000.00 */
    Fundflow__V1__ReconcileResponse *res = reconcile(f->ledger, &r);
    section_check(res->differences, 1, FF_RECONCILE_ROWS_MAX, 60000,
                  FF_RECONCILE_ROWS_MAX - 60000);
    response_free(res);
    free(many);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocations_worked),
        cmocka_unit_test(test_allocations_tolerance),
        cmocka_unit_test(test_allocations_as_at),
        cmocka_unit_test(test_allocations_window),
        cmocka_unit_test(test_allocations_without_stream),
        cmocka_unit_test(test_allocations_scoped),
        cmocka_unit_test(test_positions_worked),
        cmocka_unit_test(test_positions_as_at),
        cmocka_unit_test(test_payments_worked),
        cmocka_unit_test(test_payments_as_at_window_filters),
        cmocka_unit_test(test_contracts_worked),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_row_refusals),
        cmocka_unit_test(test_too_many_rows),
        cmocka_unit_test(test_payments_reversed), /* last: it adds events */
    };
    return cmocka_run_group_tests(tests, fixture_setup, test_fixture_teardown);
}
