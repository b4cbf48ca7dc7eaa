/* Helpers shared by the core tests: scratch directories, command builders, and table dumps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"

char *test_dir_make(void) {
    const char *parent = getenv("TMPDIR");
    char *directory = NULL;
    assert_true(asprintf(&directory, "%s/fundflow-test-XXXXXX", parent ? parent : "/tmp") > 0);
    assert_non_null(mkdtemp(directory));
    return directory;
}

static int test_dir_remove_entry(const char *path, const struct stat *status, int type,
                                 struct FTW *walk) {
    (void)status, (void)type, (void)walk;
    return remove(path);
}

void test_dir_remove(char *directory) {
    if (directory == NULL) return;
    nftw(directory, test_dir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(directory);
}

ff_ledger *test_ledger_open(const char *directory, uint64_t map_bytes) {
    store_options options = {.data_dir = directory, .map_bytes = map_bytes};
    ff_ledger *ledger = NULL;
    assert_int_equal(ledger_open(&options, &ledger), FF_OK);
    return ledger;
}

test_fixture *test_fixture_open(void) {
    test_fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    fixture->directory = test_dir_make();
    fixture->ledger = test_ledger_open(fixture->directory, 0);
    return fixture;
}

int test_fixture_teardown(void **state) {
    test_fixture *fixture = *state;
    ledger_close(fixture->ledger);
    test_dir_remove(fixture->directory);
    free(fixture);
    return 0;
}

uint64_t test_random_next(uint64_t *state) {
    uint64_t value = *state;
    value ^= value << 13;
    value ^= value >> 7;
    value ^= value << 17;
    return *state = value;
}

void test_log_record_delete(ff_store *store, uint64_t sequence) {
    MDB_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, 0, &txn), FF_OK);
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    MDB_val key = {LOG_KEY_BYTES, key_bytes};
    assert_int_equal(mdb_del(txn, store_dbi(store, STORE_TABLE_LOG), &key, NULL), 0);
    assert_int_equal(store_txn_commit(txn), FF_OK);
}

static Fundflow__V1__Command *test_command_make(const char *key) {
    Fundflow__V1__Command *command = malloc(sizeof *command);
    Fundflow__V1__Event *event = malloc(sizeof *event);
    assert_non_null(command);
    assert_non_null(event);
    fundflow__v1__command__init(command);
    fundflow__v1__event__init(event);
    command->idempotency_key = strdup(key);
    command->effective_date = TEST_EFFECTIVE_DATE;
    command->event = event;
    return command;
}

Fundflow__V1__Command *test_org(const char *key, const char *code, const char *name,
                                Fundflow__V1__OrgKind kind, const char *parent_code) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__OrgRegistered *org = malloc(sizeof *org);
    assert_non_null(org);
    fundflow__v1__org_registered__init(org);
    org->code = strdup(code);
    org->name = strdup(name);
    org->kind = kind;
    if (parent_code) org->parent_code = strdup(parent_code);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    command->event->org_registered = org;
    return command;
}

Fundflow__V1__Command *test_allocation(const char *key, const char *funder, const char *recipient,
                                       Fundflow__V1__Stream stream, uint32_t year,
                                       int64_t amount_pence) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__AllocationIssued *allocation = malloc(sizeof *allocation);
    assert_non_null(allocation);
    fundflow__v1__allocation_issued__init(allocation);
    allocation->funder_code = strdup(funder);
    allocation->recipient_code = strdup(recipient);
    allocation->stream = stream;
    allocation->financial_year = year;
    allocation->amount_pence = amount_pence;
    allocation->recurrent = true;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    command->event->allocation_issued = allocation;
    return command;
}

Fundflow__V1__Command *test_budget(const char *key, const char *from, const char *to,
                                   Fundflow__V1__Stream stream, uint32_t year,
                                   int64_t amount_pence) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__BudgetDelegated *budget = malloc(sizeof *budget);
    assert_non_null(budget);
    fundflow__v1__budget_delegated__init(budget);
    budget->from_code = strdup(from);
    budget->to_code = strdup(to);
    budget->stream = stream;
    budget->financial_year = year;
    budget->amount_pence = amount_pence;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED;
    command->event->budget_delegated = budget;
    return command;
}

Fundflow__V1__Command *test_reversal(const char *key, uint64_t reversed_sequence,
                                     const char *reason) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__Reversal *reversal = malloc(sizeof *reversal);
    assert_non_null(reversal);
    fundflow__v1__reversal__init(reversal);
    reversal->reversed_sequence = reversed_sequence;
    reversal->reason = strdup(reason);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_REVERSAL;
    command->event->reversal = reversal;
    return command;
}

void test_command_free(Fundflow__V1__Command *command) {
    fundflow__v1__command__free_unpacked(command, NULL);
}

ff_err test_submit_batch(ff_ledger *ledger, Fundflow__V1__Command **commands, size_t count,
                         bool linked, ledger_result *results) {
    ledger_batch batch = {.commands = commands, .command_count = count, .linked = linked,
                          .actor = "test", .recorded_at_us = TEST_RECORDED_AT_US};
    ff_err err = ledger_batch_apply(ledger, &batch, results);
    for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
    return err;
}

ff_err test_submit(ff_ledger *ledger, Fundflow__V1__Command *command, ledger_result *result_out) {
    ledger_result result;
    assert_int_equal(test_submit_batch(ledger, &command, 1, false, &result), FF_OK);
    if (result_out) *result_out = result;
    return result.failure.code;
}

uint64_t test_head_sequence(ff_ledger *ledger) {
    log_head head;
    assert_int_equal(ledger_head_read(ledger, &head), FF_OK);
    return head.sequence;
}

uint64_t test_world_register(ff_ledger *ledger) {
    Fundflow__V1__Command *commands[] = {
        test_org("org-x24", "X24", "NHS England", FUNDFLOW__V1__ORG_KIND__NHSE, NULL),
        test_org("org-y61", "Y61", "East of England", FUNDFLOW__V1__ORG_KIND__REGION, "X24"),
        test_org("org-que", "QUE", "NHS Cambridgeshire and Peterborough ICB",
                 FUNDFLOW__V1__ORG_KIND__ICB, "Y61"),
        test_org("org-qjg", "QJG", "NHS Suffolk and North East Essex ICB",
                 FUNDFLOW__V1__ORG_KIND__ICB, "Y61"),
        test_org("org-06h", "06H", "Cambridgeshire and Peterborough place",
                 FUNDFLOW__V1__ORG_KIND__PLACE, "QUE"),
        test_org("org-07k", "07K", "Suffolk place (illustrative)", FUNDFLOW__V1__ORG_KIND__PLACE,
                 "QJG"),
        test_org("org-pc1", "PC1", "Illustrative mental health provider collaborative",
                 FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, NULL),
    };
    size_t count = sizeof commands / sizeof commands[0];
    ledger_result results[sizeof commands / sizeof commands[0]];
    assert_int_equal(test_submit_batch(ledger, commands, count, true, results), FF_OK);
    for (size_t i = 0; i < count; i++) assert_int_equal(results[i].failure.code, FF_OK);
    return test_head_sequence(ledger);
}

static void test_bytes_append(uint8_t **bytes, size_t *count, size_t *capacity, const void *data,
                              size_t length) {
    if (*count + length + sizeof length > *capacity) {
        *capacity = (*capacity + length + sizeof length) * 2;
        *bytes = realloc(*bytes, *capacity);
        assert_non_null(*bytes);
    }
    memcpy(*bytes + *count, &length, sizeof length);
    memcpy(*bytes + *count + sizeof length, data, length);
    *count += length + sizeof length;
}

void test_projections_dump(ff_store *store, uint8_t **bytes_out, size_t *bytes_count_out) {
    uint8_t *bytes = NULL;
    size_t count = 0, capacity = 0;
    MDB_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, MDB_RDONLY, &txn), FF_OK);
    for (int table = STORE_TABLE_FIRST_PROJECTION; table < STORE_TABLE_COUNT; table++) {
        const char *name = store_table_name((store_table)table);
        test_bytes_append(&bytes, &count, &capacity, name, strlen(name));
        MDB_cursor *cursor = NULL;
        assert_int_equal(mdb_cursor_open(txn, store_dbi(store, (store_table)table), &cursor), 0);
        MDB_val key, value;
        for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
            test_bytes_append(&bytes, &count, &capacity, key.mv_data, key.mv_size);
            test_bytes_append(&bytes, &count, &capacity, value.mv_data, value.mv_size);
        }
        mdb_cursor_close(cursor);
    }
    mdb_txn_abort(txn);
    *bytes_out = bytes;
    *bytes_count_out = count;
}

int64_t test_account_net(ff_ledger *ledger, const char *org, Fundflow__V1__Stream stream,
                         uint32_t year, int purpose, uint64_t as_at) {
    ff_store *store = ledger_store(ledger);
    MDB_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, MDB_RDONLY, &txn), FF_OK);
    account_key key;
    account_balance balance;
    account_key_make(&key, org, year, (uint32_t)stream, (account_purpose)purpose);
    assert_int_equal(account_balance_read_at(txn, store, &key, as_at, &balance), FF_OK);
    mdb_txn_abort(txn);
    int64_t net = 0;
    assert_int_equal(account_balance_net(&key, &balance, &net), FF_OK);
    return net;
}
