/* Who may do what: the method table against the Ledger service, tokens and principals, scope as
 * at a date over a small world, the acting organisation of every kind of command, a scoped
 * writer's refused command leaving no trace, the actor index surviving rebuild and verify, and a
 * scope kept across a flat batch read again once an organisation changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "log.h"
#include "projection.h"
#include "verify.h"
#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
#define BLOCK FUNDFLOW__V1__CONTRACT_TYPE__BLOCK
#define ADMIN FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN
#define WRITER FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER
#define READER FUNDFLOW__V1__PRINCIPAL_ROLE__READER
#define AUDITOR FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR
#define TODAY 20240601u

/* The world's sequences: test_world_register takes 1 to TEST_WORLD_EVENTS (X24, Y61, QUE, QJG,
 * 06H under QUE, 07K under QJG, PC1, and 9 revenue limits). */
enum {
    SEQ_RGT = TEST_WORLD_EVENTS + 1, /* trust under QUE */
    SEQ_RWH = TEST_WORLD_EVENTS + 2, /* trust under QJG */
    SEQ_MHPC = TEST_WORLD_EVENTS + 3, /* collaborative of RGT and RWH, led by RGT */
    SEQ_TO_QUE = TEST_WORLD_EVENTS + 4, /* allocation X24 -> QUE */
    SEQ_TO_QJG = TEST_WORLD_EVENTS + 5, /* allocation X24 -> QJG */
    SEQ_QUE_TO_06H = TEST_WORLD_EVENTS + 6, /* budget QUE -> 06H */
    SEQ_C1 = TEST_WORLD_EVENTS + 7, /* contract C1: QUE with RGT */
    SEQ_C2 = TEST_WORLD_EVENTS + 8, /* contract C2: QJG with MHPC */
    SEQ_C1_M1 = TEST_WORLD_EVENTS + 9, /* payment on C1 */
    SEQ_C2_M1 = TEST_WORLD_EVENTS + 10, /* payment on C2 */
    SEQ_WORLD_END = SEQ_C2_M1,
};

/* ---- builders ---- */

static Fundflow__V1__Command *grant_make(const char *key, const char *name, access_role role,
                                         const char *scope, const uint8_t sha256[32]) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__PrincipalGranted *grant = malloc(sizeof *grant);
    assert_non_null(grant);
    fundflow__v1__principal_granted__init(grant);
    grant->name = strdup(name);
    grant->role = role;
    grant->scope_org_code = strdup(scope);
    grant->token_sha256.len = 32;
    grant->token_sha256.data = malloc(32);
    memcpy(grant->token_sha256.data, sha256, 32);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED;
    command->event->principal_granted = grant;
    return command;
}

static Fundflow__V1__Command *revoke_make(const char *key, const char *name) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__PrincipalRevoked *revoke = malloc(sizeof *revoke);
    assert_non_null(revoke);
    fundflow__v1__principal_revoked__init(revoke);
    revoke->name = strdup(name);
    revoke->reason = strdup("left the organisation");
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED;
    command->event->principal_revoked = revoke;
    return command;
}

static Fundflow__V1__Command *parent_change_make(const char *key, const char *code,
                                                 const char *parent, uint32_t from) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__OrgUpdated *update = malloc(sizeof *update);
    assert_non_null(update);
    fundflow__v1__org_updated__init(update);
    update->code = strdup(code);
    update->parent_code = strdup(parent);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED;
    command->event->org_updated = update;
    command->effective_date = from;
    return command;
}

static Fundflow__V1__Command *statement_make(const char *key, const char *org,
                                             const char *counterparty) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__StatementSubmitted *statement = malloc(sizeof *statement);
    assert_non_null(statement);
    fundflow__v1__statement_submitted__init(statement);
    statement->org_code = strdup(org);
    statement->counterparty_code = strdup(counterparty);
    statement->financial_year = TEST_YEAR;
    statement->month = 1;
    statement->kind = FUNDFLOW__V1__STATEMENT_KIND__RECEIVABLE;
    statement->amount_pence = 100;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED;
    command->event->statement_submitted = statement;
    return command;
}

static access_principal principal_make(const char *name, access_role role, const char *scope) {
    access_principal who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "%s", name);
    snprintf(who.scope, sizeof who.scope, "%s", scope);
    who.role = role;
    who.today = TODAY;
    return who;
}

/* Applies one command as actor, for who (NULL: unrestricted), and frees it. */
static ff_err submit_as(ff_ledger *ledger, const char *actor, const access_principal *who,
                        Fundflow__V1__Command *command, ledger_result *result) {
    ledger_batch batch = {.commands = &command, .command_count = 1, .actor = actor,
                          .principal = who, .recorded_at_us = TEST_RECORDED_AT_US};
    assert_int_equal(ledger_batch_apply(ledger, &batch, result), FF_OK);
    test_command_free(command);
    return result->failure.code;
}

static void submit_ok(ff_ledger *ledger, Fundflow__V1__Command *command, uint64_t sequence) {
    ledger_result result;
    ff_err err = test_submit(ledger, command, &result);
    if (err != FF_OK) fail_msg("%s: %s", ff_err_name(err), result.failure.detail);
    assert_int_equal(result.sequence, sequence);
}

static void world_build(ff_ledger *ledger) {
    test_world_register(ledger);
    submit_ok(ledger, test_org("a8", "RGT", "Trust one", FUNDFLOW__V1__ORG_KIND__TRUST, "QUE"),
              SEQ_RGT);
    submit_ok(ledger, test_org("a9", "RWH", "Trust two", FUNDFLOW__V1__ORG_KIND__TRUST, "QJG"),
              SEQ_RWH);
    Fundflow__V1__Command *collaborative =
        test_org("a10", "MHPC", "Collaborative", FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE,
                 NULL);
    Fundflow__V1__OrgRegistered *org = collaborative->event->org_registered;
    org->member_codes = malloc(2 * sizeof(char *));
    org->member_codes[0] = strdup("RGT"), org->member_codes[1] = strdup("RWH");
    org->n_member_codes = 2;
    org->lead_provider_code = strdup("RGT");
    submit_ok(ledger, collaborative, SEQ_MHPC);
    submit_ok(ledger, test_allocation("a11", "X24", "QUE", CORE, TEST_YEAR, 100000000),
              SEQ_TO_QUE);
    submit_ok(ledger, test_allocation("a12", "X24", "QJG", CORE, TEST_YEAR, 100000000),
              SEQ_TO_QJG);
    submit_ok(ledger, test_budget("a13", "QUE", "06H", CORE, TEST_YEAR, 1000000),
              SEQ_QUE_TO_06H);
    submit_ok(ledger, test_contract("a14", "C1", "QUE", "RGT", BLOCK, CORE, 1200000, 0, NULL),
              SEQ_C1);
    submit_ok(ledger, test_contract("a15", "C2", "QJG", "MHPC", BLOCK, CORE, 1200000, 0, NULL),
              SEQ_C2);
    submit_ok(ledger, test_payment("a16", "C1", 1, 100000), SEQ_C1_M1);
    submit_ok(ledger, test_payment("a17", "C2", 1, 100000), SEQ_C2_M1);
}

static int world_setup(void **state) {
    test_fixture *fixture = test_fixture_open();
    world_build(fixture->ledger);
    *state = fixture;
    return 0;
}

static int empty_setup(void **state) {
    *state = test_fixture_open();
    return 0;
}

/* A read transaction on the fixture's ledger for the access functions. */
typedef struct reading {
    ff_ledger *ledger;
    ff_store *store;
    store_txn *txn;
} reading;

static reading reading_begin(void **state) {
    test_fixture *fixture = *state;
    reading r = {fixture->ledger, ledger_store(fixture->ledger), NULL};
    assert_int_equal(ledger_read_txn_begin(r.ledger, &r.txn), FF_OK);
    return r;
}

static void reading_end(reading *r) { ledger_read_txn_end(r->ledger, r->txn); }

/* ---- the method table ---- */

static const access_method *method_row(const char *name) {
    for (const access_method *row = access_methods; row->name != NULL; row++) {
        if (strcmp(row->name, name) == 0) return row;
    }
    return NULL;
}

/* Every RPC of the service has a row, and every row is an RPC of the service: a new RPC fails
 * here until its need is written down. */
static void test_every_method_has_a_row(void **state) {
    (void)state;
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    for (unsigned i = 0; i < service->n_methods; i++) {
        if (method_row(service->methods[i].name) == NULL) {
            fail_msg("access_methods has no row for %s", service->methods[i].name);
        }
    }
    size_t rows = 0;
    for (const access_method *row = access_methods; row->name != NULL; row++, rows++) {
        bool found = false;
        for (unsigned i = 0; i < service->n_methods; i++) {
            found = found || strcmp(service->methods[i].name, row->name) == 0;
        }
        if (!found) fail_msg("access_methods names %s, which the service lacks", row->name);
    }
    assert_int_equal(rows, service->n_methods);
}

static void test_each_role_meets_each_need(void **state) {
    (void)state;
    /* One method per need, and for each role whether it may call it. */
    static const char *const methods[] = {"GetOrg", "GetPosition", "SubmitCommands",
                                          "VerifyLedger", "GrantPrincipal"};
    static const access_role roles[] = {ADMIN, WRITER, READER, AUDITOR};
    static const bool allowed[4][5] = {
        {true, true, true, true, true},    /* admin */
        {true, true, true, false, false},  /* writer */
        {true, true, false, false, false}, /* reader */
        {true, true, false, true, false},  /* auditor */
    };
    for (size_t r = 0; r < 4; r++) {
        access_principal who = principal_make("p", roles[r], "");
        for (size_t m = 0; m < 5; m++) {
            ff_err expected = allowed[r][m] ? FF_OK : FF_ERR_PERMISSION_DENIED;
            assert_int_equal(access_method_check(&who, methods[m]), expected);
        }
        assert_int_equal(access_method_check(&who, "NoSuchMethod"), FF_ERR_BAD_ROUTE);
    }
    access_principal nobody = principal_make("p", 0, "");
    assert_int_equal(access_method_check(&nobody, "GetOrg"), FF_ERR_PERMISSION_DENIED);
    assert_int_equal(method_row("ListPrincipals")->need, ACCESS_NEED_AUDIT);
    assert_int_equal(method_row("RevokePrincipal")->need, ACCESS_NEED_ADMIN);
    assert_int_equal(method_row("ReloadPlugins")->need, ACCESS_NEED_ADMIN);
    assert_int_equal(method_row("RunReport")->need, ACCESS_NEED_READ);
    assert_int_equal(method_row("ListPlugins")->need, ACCESS_NEED_TOKEN);
    access_principal boot;
    access_principal_bootstrap(&boot, "local-admin", TODAY);
    assert_int_equal(boot.role, ADMIN);
    assert_true(access_is_national(&boot));
    assert_string_equal(boot.name, "local-admin");
}

/* ---- tokens and principals ---- */

static void token_format_check(const char *token) {
    assert_int_equal(strlen(token), FF_TOKEN_TEXT_BYTES);
    assert_int_equal(strncmp(token, "ff_", 3), 0);
    for (size_t i = 3; i < FF_TOKEN_TEXT_BYTES; i++) {
        assert_non_null(strchr("0123456789abcdef", token[i]));
    }
}

static void test_tokens_are_random_hex_and_hash(void **state) {
    (void)state;
    char first[FF_TOKEN_TEXT_BYTES + 1], second[FF_TOKEN_TEXT_BYTES + 1];
    uint8_t first_sha[32], second_sha[32], again[32];
    assert_int_equal(access_token_new(first, first_sha), FF_OK);
    assert_int_equal(access_token_new(second, second_sha), FF_OK);
    assert_int_equal(FF_TOKEN_TEXT_BYTES, 67);
    token_format_check(first);
    token_format_check(second);
    assert_string_not_equal(first, second);
    assert_memory_not_equal(first_sha, second_sha, 32);
    access_token_hash(first, strlen(first), again);
    assert_memory_equal(first_sha, again, 32);
}

static void test_principal_found_by_token_until_revoked(void **state) {
    test_fixture *fixture = *state;
    char token[FF_TOKEN_TEXT_BYTES + 1];
    uint8_t sha[32];
    assert_int_equal(access_token_new(token, sha), FF_OK);
    reading r = reading_begin(state);
    bool exist = true;
    assert_int_equal(access_principals_exist(r.txn, r.store, &exist), FF_OK);
    assert_false(exist);
    reading_end(&r);
    ledger_result result;
    assert_int_equal(submit_as(fixture->ledger, "boot", NULL,
                               grant_make("g1", "alice@que", WRITER, "QUE", sha), &result),
                     FF_OK);
    uint64_t granted = result.sequence;
    r = reading_begin(state);
    assert_int_equal(access_principals_exist(r.txn, r.store, &exist), FF_OK);
    assert_true(exist);
    access_principal who;
    memset(&who, 0, sizeof who);
    who.today = TODAY;
    assert_int_equal(access_principal_by_token(r.txn, r.store, token, strlen(token), &who), FF_OK);
    assert_string_equal(who.name, "alice@que");
    assert_string_equal(who.scope, "QUE");
    assert_int_equal(who.role, WRITER);
    assert_int_equal(who.today, TODAY);
    char wrong[FF_TOKEN_TEXT_BYTES + 1];
    memcpy(wrong, token, sizeof wrong);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    assert_int_equal(access_principal_by_token(r.txn, r.store, wrong, strlen(wrong), &who),
                     FF_ERR_UNAUTHENTICATED);
    assert_int_equal(access_principal_by_token(r.txn, r.store, "", 0, &who),
                     FF_ERR_UNAUTHENTICATED);
    Fundflow__V1__PrincipalRecord *record = NULL;
    assert_int_equal(access_principal_read(r.txn, r.store, "alice@que", &record), FF_OK);
    assert_int_equal(record->granted_sequence, granted);
    assert_int_equal(record->granted_at_us, TEST_RECORDED_AT_US);
    assert_string_equal(record->granted_by, "boot");
    assert_memory_equal(record->token_sha256.data, sha, 32);
    fundflow__v1__principal_record__free_unpacked(record, NULL);
    assert_int_equal(access_principal_read(r.txn, r.store, "nobody", &record),
                     FF_ERR_PRINCIPAL_UNKNOWN);
    reading_end(&r);

    assert_int_equal(submit_as(fixture->ledger, "boot", NULL, revoke_make("r1", "alice@que"),
                               &result),
                     FF_OK);
    r = reading_begin(state);
    assert_int_equal(access_principal_by_token(r.txn, r.store, token, strlen(token), &who),
                     FF_ERR_UNAUTHENTICATED);
    assert_int_equal(access_principal_read(r.txn, r.store, "alice@que", &record), FF_OK);
    assert_int_equal(record->revoked_sequence, result.sequence);
    assert_string_equal(record->revoked_by, "boot");
    fundflow__v1__principal_record__free_unpacked(record, NULL);
    reading_end(&r);
}

static void refused_without_trace(ff_ledger *ledger, Fundflow__V1__Command *command,
                                  ff_err expected, const char *field) {
    uint64_t head = test_head_sequence(ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    ledger_result result;
    assert_int_equal(submit_as(ledger, "boot", NULL, command, &result), expected);
    if (field != NULL) assert_string_equal(result.failure.field, field);
    assert_int_equal(test_head_sequence(ledger), head);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
}

static void test_principal_refusals_leave_no_trace(void **state) {
    test_fixture *fixture = *state;
    ff_ledger *ledger = fixture->ledger;
    uint8_t sha[32], other[32];
    char token[FF_TOKEN_TEXT_BYTES + 1];
    assert_int_equal(access_token_new(token, sha), FF_OK);
    assert_int_equal(access_token_new(token, other), FF_OK);
    ledger_result result;
    assert_int_equal(submit_as(ledger, "boot", NULL, grant_make("g1", "bob", ADMIN, "", sha),
                               &result),
                     FF_OK);
    uint64_t granted = result.sequence;
    refused_without_trace(ledger, grant_make("g2", "bob", READER, "", other),
                          FF_ERR_PRINCIPAL_EXISTS, "name");
    refused_without_trace(ledger, grant_make("g3", "carol", READER, "", sha),
                          FF_ERR_PRINCIPAL_EXISTS, "token_sha256");
    refused_without_trace(ledger, grant_make("g4", "carol", READER, "QZZ", other),
                          FF_ERR_ORG_UNKNOWN, "scope_org_code");
    refused_without_trace(ledger, grant_make("g5", "bad name", READER, "", other),
                          FF_ERR_TEXT_INVALID, "name");
    uint8_t zero[32] = {0};
    refused_without_trace(ledger, grant_make("g6", "carol", READER, "", zero),
                          FF_ERR_ENUM_INVALID, "token_sha256");
    refused_without_trace(ledger, grant_make("g7", "carol", 0, "", other), FF_ERR_ENUM_INVALID,
                          "role");
    /* Admins and auditors are national: a scope on them would promise a limit they do not keep. */
    refused_without_trace(ledger, grant_make("g9", "carol", ADMIN, "X24", other),
                          FF_ERR_SCOPE_NOT_ALLOWED, "scope_org_code");
    refused_without_trace(ledger, grant_make("g10", "carol", AUDITOR, "X24", other),
                          FF_ERR_SCOPE_NOT_ALLOWED, "scope_org_code");
    refused_without_trace(ledger, revoke_make("r1", "nobody"), FF_ERR_PRINCIPAL_UNKNOWN, "name");
    refused_without_trace(ledger, test_reversal("v1", granted, "undo"),
                          FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence");
    assert_int_equal(submit_as(ledger, "boot", NULL, revoke_make("r2", "bob"), &result), FF_OK);
    refused_without_trace(ledger, revoke_make("r3", "bob"), FF_ERR_PRINCIPAL_REVOKED, "name");
    /* A revoked name stays taken. */
    refused_without_trace(ledger, grant_make("g8", "bob", READER, "", other),
                          FF_ERR_PRINCIPAL_EXISTS, "name");
}

/* ---- scope ---- */

static bool org_covered(reading *r, const char *scope, uint32_t today, const char *code) {
    access_principal who = principal_make("p", READER, scope);
    who.today = today;
    bool covered = false;
    assert_int_equal(access_org_covered(r->txn, r->store, &who, code, &covered), FF_OK);
    return covered;
}

static void test_scope_covers_orgs(void **state) {
    reading r = reading_begin(state);
    static const char *const everyone[] = {"X24", "Y61", "QUE", "QJG", "06H", "07K",
                                           "RGT", "RWH", "MHPC", "PC1"};
    for (size_t i = 0; i < sizeof everyone / sizeof everyone[0]; i++) {
        assert_true(org_covered(&r, "", TODAY, everyone[i]));
        assert_true(org_covered(&r, "X24", TODAY, everyone[i]));
    }
    /* A region: its ICBs and what is below them. */
    assert_true(org_covered(&r, "Y61", TODAY, "Y61"));
    assert_true(org_covered(&r, "Y61", TODAY, "QUE"));
    assert_true(org_covered(&r, "Y61", TODAY, "07K"));
    assert_true(org_covered(&r, "Y61", TODAY, "RWH"));
    assert_false(org_covered(&r, "Y61", TODAY, "X24"));
    assert_false(org_covered(&r, "Y61", TODAY, "MHPC"));
    /* An ICB: its place and trust, not another ICB's. */
    assert_true(org_covered(&r, "QUE", TODAY, "06H"));
    assert_true(org_covered(&r, "QUE", TODAY, "RGT"));
    assert_false(org_covered(&r, "QUE", TODAY, "QJG"));
    assert_false(org_covered(&r, "QUE", TODAY, "07K"));
    assert_false(org_covered(&r, "QUE", TODAY, "Y61"));
    /* A collaborative: its members. */
    assert_true(org_covered(&r, "MHPC", TODAY, "RGT"));
    assert_true(org_covered(&r, "MHPC", TODAY, "RWH"));
    assert_false(org_covered(&r, "MHPC", TODAY, "QUE"));
    /* Unregistered codes are covered by no scoped principal, and by every national one. */
    assert_false(org_covered(&r, "QUE", TODAY, "QZZ"));
    assert_true(org_covered(&r, "", TODAY, "QZZ"));
    /* A scope organisation registered nowhere covers nothing, not even its own code's kin. */
    assert_false(org_covered(&r, "QZZ", TODAY, "QUE"));
    reading_end(&r);

    access_principal who = principal_make("writer@que", WRITER, "QUE");
    ff_failure failure;
    failure_clear(&failure);
    r = reading_begin(state);
    assert_int_equal(access_org_check(r.txn, r.store, &who, "07K", "org_code", &failure),
                     FF_ERR_OUT_OF_SCOPE);
    assert_string_equal(failure.field, "org_code");
    assert_non_null(strstr(failure.detail, "QUE"));
    assert_int_equal(access_org_check(r.txn, r.store, &who, "06H", "org_code", &failure), FF_OK);
    reading_end(&r);
}

static bool contract_covered(reading *r, const char *scope, const char *contract_id) {
    Fundflow__V1__ContractRecord *contract = NULL;
    assert_int_equal(projection_contract_read(r->txn, r->store, contract_id, UINT64_MAX,
                                              &contract),
                     FF_OK);
    access_principal who = principal_make("p", READER, scope);
    bool covered = false;
    assert_int_equal(access_contract_covered(r->txn, r->store, &who, contract, &covered), FF_OK);
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return covered;
}

static void test_scope_covers_contracts(void **state) {
    reading r = reading_begin(state);
    assert_true(contract_covered(&r, "QUE", "C1"));  /* commissioner */
    assert_true(contract_covered(&r, "RGT", "C1"));  /* provider */
    assert_false(contract_covered(&r, "QJG", "C1"));
    assert_true(contract_covered(&r, "QJG", "C2"));  /* commissioner */
    assert_true(contract_covered(&r, "MHPC", "C2")); /* the collaborative itself */
    assert_true(contract_covered(&r, "RGT", "C2"));  /* the collaborative's lead provider */
    assert_false(contract_covered(&r, "RWH", "C2")); /* a member that does not lead */
    assert_true(contract_covered(&r, "QUE", "C2"));  /* the lead provider is QUE's trust */
    assert_false(contract_covered(&r, "06H", "C2"));
    reading_end(&r);
}

static void test_scope_respects_effective_dated_parents(void **state) {
    test_fixture *fixture = *state;
    /* 07K moves from QJG to QUE on 1 January 2025. */
    submit_ok(fixture->ledger, parent_change_make("m1", "07K", "QUE", 20250101),
              SEQ_WORLD_END + 1);
    reading r = reading_begin(state);
    assert_false(org_covered(&r, "QUE", 20241231, "07K"));
    assert_true(org_covered(&r, "QJG", 20241231, "07K"));
    assert_true(org_covered(&r, "QUE", 20250101, "07K"));
    assert_false(org_covered(&r, "QJG", 20250201, "07K"));
    /* Before 07K was registered it had no parent at all. */
    assert_false(org_covered(&r, "QJG", 20240331, "07K"));
    reading_end(&r);
}

static bool event_covered(reading *r, const char *scope, uint64_t sequence) {
    Fundflow__V1__EventRecord *event = NULL;
    assert_int_equal(log_read(r->txn, r->store, sequence, &event), FF_OK);
    access_principal who = principal_make("p", READER, scope);
    bool covered = false;
    assert_int_equal(access_event_covered(r->txn, r->store, &who, event, &covered), FF_OK);
    fundflow__v1__event_record__free_unpacked(event, NULL);
    return covered;
}

static void test_scope_covers_events(void **state) {
    test_fixture *fixture = *state;
    uint8_t sha[32];
    char token[FF_TOKEN_TEXT_BYTES + 1];
    assert_int_equal(access_token_new(token, sha), FF_OK);
    submit_ok(fixture->ledger, test_reversal("e1", SEQ_C2_M1, "paid twice"), SEQ_WORLD_END + 1);
    submit_ok(fixture->ledger, grant_make("e2", "dora", READER, "QUE", sha), SEQ_WORLD_END + 2);
    submit_ok(fixture->ledger, statement_make("e3", "06H", "RWH"), SEQ_WORLD_END + 3);
    submit_ok(fixture->ledger, test_period("e4", "07K", 1), SEQ_WORLD_END + 4);
    reading r = reading_begin(state);
    assert_true(event_covered(&r, "QUE", 3));                 /* a registration: reference data */
    assert_true(event_covered(&r, "QUE", SEQ_TO_QUE));
    assert_false(event_covered(&r, "QUE", SEQ_TO_QJG));
    assert_true(event_covered(&r, "06H", SEQ_QUE_TO_06H));    /* the payee */
    assert_true(event_covered(&r, "RGT", SEQ_C1));
    assert_true(event_covered(&r, "RGT", SEQ_C2_M1));         /* the lead provider's view */
    assert_false(event_covered(&r, "RWH", SEQ_C1_M1));
    assert_true(event_covered(&r, "QJG", SEQ_WORLD_END + 1)); /* a reversal: its target's */
    assert_true(event_covered(&r, "RGT", SEQ_WORLD_END + 1));
    assert_false(event_covered(&r, "06H", SEQ_WORLD_END + 1));
    assert_false(event_covered(&r, "QUE", SEQ_WORLD_END + 2)); /* principals: national only */
    assert_true(event_covered(&r, "", SEQ_WORLD_END + 2));
    assert_true(event_covered(&r, "X24", SEQ_WORLD_END + 2));
    assert_true(event_covered(&r, "QJG", SEQ_WORLD_END + 3)); /* the counterparty's ICB */
    assert_true(event_covered(&r, "QUE", SEQ_WORLD_END + 3));
    assert_false(event_covered(&r, "QUE", SEQ_WORLD_END + 4));
    assert_true(event_covered(&r, "Y61", SEQ_WORLD_END + 4));
    assert_true(event_covered(&r, "RGT", TEST_WORLD_EVENTS)); /* a limit: published, for all */
    reading_end(&r);
}

/* ---- writes ---- */

/* Checks a command for who and frees it; field is the refusal's field, NULL for none. */
static void command_expect(void **state, const access_principal *who,
                           Fundflow__V1__Command *command, ff_err expected, const char *field) {
    reading r = reading_begin(state);
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = access_command_check(r.txn, r.store, who, command, &failure);
    reading_end(&r);
    test_command_free(command);
    if (err != expected) {
        fail_msg("expected %s, got %s: %s", ff_err_name(expected), ff_err_name(err),
                 failure.detail);
    }
    assert_int_equal(failure.code, expected);
    if (field != NULL) assert_string_equal(failure.field, field);
}

static void test_acting_organisation_of_each_command(void **state) {
    access_principal que = principal_make("writer@que", WRITER, "QUE");
    const ff_err out = FF_ERR_OUT_OF_SCOPE;
    command_expect(state, &que, test_allocation("c1", "X24", "QUE", CORE, TEST_YEAR, 1), out,
                   "event.allocation_issued.funder_code");
    command_expect(state, &que, test_budget("c2", "QUE", "06H", CORE, TEST_YEAR, 1), FF_OK,
                   NULL);
    command_expect(state, &que, test_budget("c3", "QJG", "07K", CORE, TEST_YEAR, 1), out,
                   "event.budget_delegated.from_code");
    command_expect(state, &que, test_contract("c4", "C9", "QUE", "RWH", BLOCK, CORE, 1, 0, NULL),
                   FF_OK, NULL);
    command_expect(state, &que, test_contract("c5", "C9", "QJG", "RGT", BLOCK, CORE, 1, 0, NULL),
                   out, "event.contract_agreed.commissioner_code");
    command_expect(state, &que, test_payment("c6", "C1", 2, 1), FF_OK, NULL);
    command_expect(state, &que, test_payment("c7", "C2", 2, 1), out,
                   "event.payment_made.contract_id");
    /* An unknown contract is left to the projection, which says contract_unknown. */
    command_expect(state, &que, test_payment("c8", "C404", 2, 1), FF_OK, NULL);
    command_expect(state, &que, test_variation("c9", "C2", 1), out,
                   "event.contract_varied.contract_id");
    command_expect(state, &que, test_outcome("c10", "C2", "A", 1), out,
                   "event.outcome_reported.contract_id");
    command_expect(state, &que, statement_make("c11", "06H", "RWH"), FF_OK, NULL);
    command_expect(state, &que, statement_make("c12", "RWH", "06H"), out,
                   "event.statement_submitted.org_code");
    command_expect(state, &que, test_period("c13", "RGT", 1), FF_OK, NULL);
    command_expect(state, &que, test_period("c14", "QJG", 1), out, "event.period_closed.org_code");
    command_expect(state, &que, test_org("c15", "RXX", "Trust", FUNDFLOW__V1__ORG_KIND__TRUST,
                                         "QUE"),
                   out, "event");
    command_expect(state, &que, test_service_line("c16", "SL01", false), out, "event");
    command_expect(state, &que, test_reversal("c17", SEQ_QUE_TO_06H, "wrong"), FF_OK, NULL);
    command_expect(state, &que, test_reversal("c18", SEQ_TO_QJG, "wrong"), out,
                   "event.reversal.reversed_sequence");
    command_expect(state, &que, test_reversal("c19", SEQ_C2_M1, "wrong"), out,
                   "event.reversal.reversed_sequence");
    /* A reversal of an event that does not exist is left to the projection. */
    command_expect(state, &que, test_reversal("c20", 999, "wrong"), FF_OK, NULL);
    /* NHS England's revenue limit is set by NHS England: its funder acts. */
    command_expect(state, &que, test_limit("c21", "X24", CORE, TEST_YEAR, 1), out,
                   "event.revenue_limit_set.funder_code");

    /* National writers act everywhere but on principals; NHS England's scope is national. */
    uint8_t sha[32] = {1};
    access_principal national = principal_make("writer", WRITER, "");
    access_principal nhse = principal_make("writer@x24", WRITER, "X24");
    command_expect(state, &national, test_allocation("n1", "X24", "QUE", CORE, TEST_YEAR, 1),
                   FF_OK, NULL);
    command_expect(state, &nhse, test_service_line("n2", "SL01", false), FF_OK, NULL);
    command_expect(state, &national, grant_make("n3", "eve", READER, "", sha),
                   FF_ERR_PERMISSION_DENIED, "event");
    /* Principals are for admins, and only national ones. */
    access_principal admin = principal_make("admin", ADMIN, "");
    access_principal que_admin = principal_make("admin@que", ADMIN, "QUE");
    command_expect(state, &admin, grant_make("n4", "eve", READER, "", sha), FF_OK, NULL);
    command_expect(state, &que_admin, revoke_make("n5", "eve"), out, "event");
    command_expect(state, &que_admin, test_budget("n6", "QUE", "06H", CORE, TEST_YEAR, 1), FF_OK,
                   NULL);
    /* Readers and auditors record nothing. */
    access_principal reader = principal_make("reader", READER, "");
    access_principal auditor = principal_make("auditor", AUDITOR, "");
    command_expect(state, &reader, test_budget("n7", "QUE", "06H", CORE, TEST_YEAR, 1),
                   FF_ERR_PERMISSION_DENIED, NULL);
    command_expect(state, &auditor, test_period("n8", "QUE", 1), FF_ERR_PERMISSION_DENIED, NULL);
}

/* A scoped writer's refused command leaves nothing behind, not even its idempotency key, while
 * its in-scope batch-mate is recorded. */
static void test_scoped_writer_batch(void **state) {
    test_fixture *fixture = *state;
    ff_ledger *ledger = fixture->ledger;
    access_principal que = principal_make("writer@que", WRITER, "QUE");
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(ledger_store(ledger), &before, &before_bytes);
    ledger_result result;
    assert_int_equal(submit_as(ledger, "writer@que", &que,
                               test_budget("s1", "QJG", "07K", CORE, TEST_YEAR, 1), &result),
                     FF_ERR_OUT_OF_SCOPE);
    assert_string_equal(result.failure.field, "event.budget_delegated.from_code");
    assert_int_equal(test_head_sequence(ledger), SEQ_WORLD_END);
    test_projections_dump(ledger_store(ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);

    Fundflow__V1__Command *commands[] = {
        test_budget("s2", "QUE", "06H", CORE, TEST_YEAR, 5),
        test_budget("s3", "QJG", "07K", CORE, TEST_YEAR, 5),
    };
    ledger_result results[2];
    ledger_batch batch = {.commands = commands, .command_count = 2, .actor = "writer@que",
                          .principal = &que, .recorded_at_us = TEST_RECORDED_AT_US};
    assert_int_equal(ledger_batch_apply(ledger, &batch, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_OK);
    assert_int_equal(results[0].sequence, SEQ_WORLD_END + 1);
    assert_int_equal(results[1].failure.code, FF_ERR_OUT_OF_SCOPE);
    /* Linked, the refusal takes its batch-mate with it. */
    batch.linked = true;
    commands[0]->idempotency_key[1] = '4';
    assert_int_equal(ledger_batch_apply(ledger, &batch, results), FF_OK);
    assert_int_equal(results[0].failure.code, FF_ERR_LINKED_COMMAND_FAILED);
    assert_int_equal(results[1].failure.code, FF_ERR_OUT_OF_SCOPE);
    assert_int_equal(test_head_sequence(ledger), SEQ_WORLD_END + 1);
    for (size_t i = 0; i < 2; i++) test_command_free(commands[i]);
    /* The refused key is still free for someone allowed to use it. */
    submit_ok(ledger, test_budget("s1", "QJG", "07K", CORE, TEST_YEAR, 1), SEQ_WORLD_END + 2);
}

/* ---- the actor index ---- */

typedef struct actor_rows {
    const char *actor;
    uint64_t sequences[64];
    size_t count;
} actor_rows;

static ff_err actor_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)stop;
    actor_rows *rows = argument;
    size_t actor_bytes = strlen(rows->actor);
    assert_int_equal(value.bytes, 0);
    assert_int_equal(key.bytes, actor_bytes + 1 + LOG_KEY_BYTES);
    assert_int_equal(((const uint8_t *)key.data)[actor_bytes], 0);
    assert_true(rows->count < 64);
    rows->sequences[rows->count++] = log_key_decode((const uint8_t *)key.data + actor_bytes + 1);
    return FF_OK;
}

static actor_rows actor_rows_read(ff_ledger *ledger, const char *actor) {
    actor_rows rows = {.actor = actor};
    uint8_t prefix[FF_ACTOR_BYTES_MAX + 1];
    size_t actor_bytes = strlen(actor);
    memcpy(prefix, actor, actor_bytes);
    prefix[actor_bytes] = 0;
    store_txn *txn = NULL;
    assert_int_equal(ledger_read_txn_begin(ledger, &txn), FF_OK);
    assert_int_equal(store_each(txn, ledger_store(ledger), STORE_TABLE_ACTOR_EVENTS,
                                STORE_SLICE(prefix, actor_bytes + 1), actor_row, &rows),
                     FF_OK);
    ledger_read_txn_end(ledger, txn);
    return rows;
}

static void test_actor_index_survives_rebuild_and_verify(void **state) {
    test_fixture *fixture = *state;
    ff_ledger *ledger = fixture->ledger;
    access_principal que = principal_make("writer@que", WRITER, "QUE");
    ledger_result result;
    assert_int_equal(submit_as(ledger, "writer@que", &que,
                               test_budget("x1", "QUE", "06H", CORE, TEST_YEAR, 5), &result),
                     FF_OK);
    assert_int_equal(submit_as(ledger, "writer@que", &que, test_period("x2", "06H", 1), &result),
                     FF_OK);
    uint8_t sha[32];
    char token[FF_TOKEN_TEXT_BYTES + 1];
    assert_int_equal(access_token_new(token, sha), FF_OK);
    submit_ok(ledger, grant_make("x3", "writer@que", WRITER, "QUE", sha), SEQ_WORLD_END + 3);
    actor_rows rows = actor_rows_read(ledger, "writer@que");
    assert_int_equal(rows.count, 2);
    assert_int_equal(rows.sequences[0], SEQ_WORLD_END + 1);
    assert_int_equal(rows.sequences[1], SEQ_WORLD_END + 2);
    assert_int_equal(actor_rows_read(ledger, "test").count, SEQ_WORLD_END + 1);

    ff_store *store = ledger_store(ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
    assert_int_equal(actor_rows_read(ledger, "writer@que").count, 2);
    /* The principal and its token survive the rebuild. */
    store_txn *txn = NULL;
    assert_int_equal(ledger_read_txn_begin(ledger, &txn), FF_OK);
    access_principal who;
    memset(&who, 0, sizeof who);
    assert_int_equal(access_principal_by_token(txn, store, token, strlen(token), &who), FF_OK);
    assert_string_equal(who.name, "writer@que");
    ledger_read_txn_end(ledger, txn);
}

/* ---- failed reads ---- */

/* A scoped writer's batch fails whole with storage when any read fails, at each read in turn:
 * a failed read of the scope, a contract or a link is never taken for "out of scope". */
static void test_failed_reads_fail_the_batch(void **state) {
    test_fixture *fixture = *state;
    ff_ledger *ledger = fixture->ledger;
    access_principal que = principal_make("writer@que", WRITER, "QUE");
    uint64_t nth = 1;
    for (; nth <= 1000; nth++) {
        Fundflow__V1__Command *commands[] = {
            test_payment("f1", "C1", 2, 1),
            test_reversal("f2", SEQ_QUE_TO_06H, "wrong place"),
            test_budget("f3", "QJG", "07K", CORE, TEST_YEAR, 1),
        };
        ledger_result results[3];
        ledger_batch batch = {.commands = commands, .command_count = 3, .actor = "writer@que",
                              .principal = &que, .recorded_at_us = TEST_RECORDED_AT_US};
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = ledger_batch_apply(ledger, &batch, results);
        bool fired = !store_fault_pending();
        store_fault_clear();
        for (size_t i = 0; i < 3; i++) test_command_free(commands[i]);
        if (!fired) {
            assert_int_equal(err, FF_OK);
            assert_int_equal(results[0].failure.code, FF_OK);
            assert_int_equal(results[1].failure.code, FF_OK);
            assert_int_equal(results[2].failure.code, FF_ERR_OUT_OF_SCOPE);
            break;
        }
        if (err != FF_ERR_STORAGE) fail_msg("read %llu: %s", (unsigned long long)nth,
                                            ff_err_name(err));
        for (size_t i = 0; i < 3; i++) assert_int_equal(results[i].failure.code, FF_ERR_STORAGE);
        assert_int_equal(test_head_sequence(ledger), SEQ_WORLD_END);
    }
    assert_true(nth > 5 && nth < 1000);
}

/* A token lookup whose read fails says storage, never unauthenticated. */
static void test_failed_reads_fail_the_token_lookup(void **state) {
    test_fixture *fixture = *state;
    char token[FF_TOKEN_TEXT_BYTES + 1];
    uint8_t sha[32];
    assert_int_equal(access_token_new(token, sha), FF_OK);
    submit_ok(fixture->ledger, grant_make("t1", "tess", READER, "", sha), SEQ_WORLD_END + 1);
    uint64_t nth = 1;
    for (; nth <= 100; nth++) {
        store_txn *txn = NULL;
        assert_int_equal(ledger_read_txn_begin(fixture->ledger, &txn), FF_OK);
        access_principal who;
        memset(&who, 0, sizeof who);
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = access_principal_by_token(txn, ledger_store(fixture->ledger), token,
                                               strlen(token), &who);
        bool fired = !store_fault_pending();
        store_fault_clear();
        ledger_read_txn_end(fixture->ledger, txn);
        if (!fired) {
            assert_int_equal(err, FF_OK);
            assert_string_equal(who.name, "tess");
            break;
        }
        assert_int_equal(err, FF_ERR_STORAGE);
    }
    assert_true(nth > 1 && nth < 100);
}

/* A plan acts for, and concerns, the organisation planning: QUE's writer may plan for QUE and its
 * place 06H, not for QJG; a reader of 06H sees 06H's plan and not QUE's. */
static void test_plans_act_and_are_covered_by_the_organisation(void **state) {
    static const int64_t months[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    access_principal que = principal_make("writer@que", WRITER, "QUE");
    command_expect(state, &que, test_plan("p1", "QUE", CORE, months), FF_OK, NULL);
    command_expect(state, &que, test_plan("p2", "06H", CORE, months), FF_OK, NULL);
    command_expect(state, &que, test_plan("p3", "QJG", CORE, months), FF_ERR_OUT_OF_SCOPE,
                   "event.plan_set.org_code");
    test_fixture *fixture = *state;
    submit_ok(fixture->ledger, test_plan("p4", "06H", CORE, months), SEQ_WORLD_END + 1);
    submit_ok(fixture->ledger, test_plan("p5", "QUE", CORE, months), SEQ_WORLD_END + 2);
    reading r = reading_begin(state);
    assert_true(event_covered(&r, "06H", SEQ_WORLD_END + 1));
    assert_true(event_covered(&r, "QUE", SEQ_WORLD_END + 1));
    assert_false(event_covered(&r, "QJG", SEQ_WORLD_END + 1));
    assert_false(event_covered(&r, "06H", SEQ_WORLD_END + 2));
    reading_end(&r);
}

/* ---- the scope kept across a flat batch ---- */

/* MHPC's members cut to RGT alone (its lead), from 1 May 2024. */
static Fundflow__V1__Command *members_cut_make(void) {
    Fundflow__V1__Command *command = test_command_make("cut");
    Fundflow__V1__OrgUpdated *update = malloc(sizeof *update);
    assert_non_null(update);
    fundflow__v1__org_updated__init(update);
    update->code = strdup("MHPC");
    update->set_members = true;
    update->member_codes = malloc(sizeof(char *));
    update->member_codes[0] = strdup("RGT");
    update->n_member_codes = 1;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED;
    command->event->org_updated = update;
    command->effective_date = 20240501;
    return command;
}

typedef struct keep_run {
    ff_store *store;
    uint64_t head;
    ff_err before, after; /* MHPC's writer's check of a statement by RWH, before and after */
} keep_run;

/* Inside one transaction with the scope kept as a flat batch keeps it: checks a statement by RWH
 * for MHPC's writer, cuts RWH from MHPC through the projections, checks again, and abandons it
 * all. */
static ff_err keep_work(void *argument, store_txn *txn) {
    keep_run *run = argument;
    access_principal who = principal_make("writer@mhpc", WRITER, "MHPC");
    Fundflow__V1__Command *statement = statement_make("k-rwh", "RWH", "RGT");
    Fundflow__V1__Command *cut = members_cut_make();
    ff_failure failure;
    failure_clear(&failure);
    access_scope_keep_begin(txn);
    run->before = access_command_check(txn, run->store, &who, statement, &failure);
    Fundflow__V1__EventRecord record = FUNDFLOW__V1__EVENT_RECORD__INIT;
    record.sequence = run->head + 1;
    record.recorded_at_us = TEST_RECORDED_AT_US;
    record.effective_date = cut->effective_date;
    record.actor = (char *)"test";
    record.idempotency_key = cut->idempotency_key;
    record.event = cut->event;
    failure_clear(&failure);
    ff_err err = projection_apply(txn, run->store, &record, &failure);
    failure_clear(&failure);
    run->after = access_command_check(txn, run->store, &who, statement, &failure);
    access_scope_keep_end();
    test_command_free(cut);
    test_command_free(statement);
    return err == FF_OK ? FF_ERR_VETOED : err;
}

/* RWH is in MHPC's scope as a member; once the same batch has cut it from MHPC, the scope kept
 * for the batch must be read again, and RWH is then outside it (its parent QJG is not MHPC's). */
static void test_a_kept_scope_is_read_again_after_an_organisation_changes(void **state) {
    test_fixture *fixture = *state;
    keep_run run = {ledger_store(fixture->ledger), test_head_sequence(fixture->ledger),
                    FF_ERR_INTERNAL, FF_ERR_INTERNAL};
    assert_int_equal(ledger_write_run(fixture->ledger, keep_work, &run), FF_ERR_VETOED);
    assert_int_equal(run.before, FF_OK);
    assert_int_equal(run.after, FF_ERR_OUT_OF_SCOPE);
    /* The try was abandoned: the ledger still ends where the world did. */
    assert_int_equal(test_head_sequence(fixture->ledger), SEQ_WORLD_END);
}

#define WORLD_TEST(name) cmocka_unit_test_setup_teardown(name, world_setup, test_fixture_teardown)
#define EMPTY_TEST(name) cmocka_unit_test_setup_teardown(name, empty_setup, test_fixture_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_has_a_row),
        cmocka_unit_test(test_each_role_meets_each_need),
        cmocka_unit_test(test_tokens_are_random_hex_and_hash),
        WORLD_TEST(test_principal_found_by_token_until_revoked),
        EMPTY_TEST(test_principal_refusals_leave_no_trace),
        WORLD_TEST(test_scope_covers_orgs),
        WORLD_TEST(test_scope_covers_contracts),
        WORLD_TEST(test_scope_respects_effective_dated_parents),
        WORLD_TEST(test_scope_covers_events),
        WORLD_TEST(test_acting_organisation_of_each_command),
        WORLD_TEST(test_scoped_writer_batch),
        WORLD_TEST(test_actor_index_survives_rebuild_and_verify),
        WORLD_TEST(test_failed_reads_fail_the_batch),
        WORLD_TEST(test_failed_reads_fail_the_token_lookup),
        WORLD_TEST(test_plans_act_and_are_covered_by_the_organisation),
        WORLD_TEST(test_a_kept_scope_is_read_again_after_an_organisation_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
