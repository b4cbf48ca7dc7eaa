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

ff_err test_table_clear(store_txn *txn, ff_store *store, store_table table) {
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, table, &cursor);
    while (err == FF_OK && store_cursor_move(cursor, STORE_FIRST, NULL, NULL) == FF_OK) {
        err = store_cursor_delete(cursor);
    }
    store_cursor_close(cursor);
    return err;
}

void test_log_value_replace(ff_store *store, uint64_t sequence, const uint8_t *bytes,
                            size_t length) {
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    assert_int_equal(store_put(txn, store, STORE_TABLE_LOG, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                               STORE_SLICE(bytes, length), STORE_PUT_REPLACE), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
}

uint8_t *test_log_value_copy(ff_store *store, uint64_t sequence, size_t *length_out) {
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    store_slice value;
    assert_int_equal(store_get(txn, store, STORE_TABLE_LOG, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                               &value), FF_OK);
    uint8_t *copy = malloc(value.bytes);
    assert_non_null(copy);
    memcpy(copy, value.data, value.bytes);
    *length_out = value.bytes;
    store_txn_abort(txn);
    return copy;
}

void test_log_record_delete(ff_store *store, uint64_t sequence) {
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    assert_int_equal(store_delete(txn, store, STORE_TABLE_LOG,
                                  STORE_SLICE(key_bytes, LOG_KEY_BYTES)), FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
}

Fundflow__V1__Command *test_command_make(const char *key) {
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

Fundflow__V1__Command *test_limit(const char *key, const char *funder, Fundflow__V1__Stream stream,
                                  uint32_t year, int64_t limit_pence) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__RevenueLimitSet *limit = malloc(sizeof *limit);
    assert_non_null(limit);
    fundflow__v1__revenue_limit_set__init(limit);
    limit->funder_code = strdup(funder);
    limit->stream = stream;
    limit->financial_year = year;
    limit->limit_pence = limit_pence;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET;
    command->event->revenue_limit_set = limit;
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

#define TEST_WORLD_LIMIT(stream)                                                               \
    test_limit("limit-" #stream, "X24", FUNDFLOW__V1__STREAM__##stream, TEST_YEAR,          \
               TEST_WORLD_LIMIT_PENCE)

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
        TEST_WORLD_LIMIT(CORE_SERVICES),       TEST_WORLD_LIMIT(PRIMARY_MEDICAL_CARE),
        TEST_WORLD_LIMIT(SPECIALISED),         TEST_WORLD_LIMIT(POD),
        TEST_WORLD_LIMIT(RUNNING_COST_ALLOWANCE), TEST_WORLD_LIMIT(SERVICE_DEVELOPMENT_FUNDING),
        TEST_WORLD_LIMIT(ELECTIVE_RECOVERY_FUND), TEST_WORLD_LIMIT(BETTER_CARE_FUND),
        TEST_WORLD_LIMIT(CAPITAL),
    };
    static_assert(sizeof commands / sizeof commands[0] == TEST_WORLD_EVENTS, "the world's events");
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
    test_tables_dump(store, STORE_TABLE_FIRST_PROJECTION, STORE_TABLE_COUNT, bytes_out,
                     bytes_count_out);
}

/* A growing byte string that test_tables_dump appends every row to. */
typedef struct test_dump {
    uint8_t *bytes;
    size_t count;
    size_t capacity;
} test_dump;

static ff_err test_dump_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)stop;
    test_dump *dump = argument;
    test_bytes_append(&dump->bytes, &dump->count, &dump->capacity, key.data, key.bytes);
    test_bytes_append(&dump->bytes, &dump->count, &dump->capacity, value.data, value.bytes);
    return FF_OK;
}

void test_tables_dump(ff_store *store, store_table first, store_table end, uint8_t **bytes_out,
                      size_t *bytes_count_out) {
    test_dump dump = {NULL, 0, 0};
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
    for (int table = (int)first; table < (int)end; table++) {
        const char *name = store_table_name((store_table)table);
        test_bytes_append(&dump.bytes, &dump.count, &dump.capacity, name, strlen(name));
        assert_int_equal(store_each(txn, store, (store_table)table, STORE_SLICE(NULL, 0),
                                    test_dump_row, &dump), FF_OK);
    }
    store_txn_abort(txn);
    *bytes_out = dump.bytes;
    *bytes_count_out = dump.count;
}

int64_t test_account_net(ff_ledger *ledger, const char *org, Fundflow__V1__Stream stream,
                         uint32_t year, int purpose, uint64_t as_at) {
    ff_store *store = ledger_store(ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
    account_key key;
    account_balance balance;
    account_key_make(&key, org, year, (uint32_t)stream, (account_purpose)purpose);
    assert_int_equal(account_balance_read_at(txn, store, &key, as_at, &balance), FF_OK);
    store_txn_abort(txn);
    int64_t net = 0;
    assert_int_equal(account_balance_net(&key, &balance, &net), FF_OK);
    return net;
}

Fundflow__V1__Command *test_dated(Fundflow__V1__Command *command, uint32_t effective_date) {
    command->effective_date = effective_date;
    return command;
}

/* Parses "A:6000,B:4000" into metrics. */
static void test_metrics_parse(Fundflow__V1__ContractAgreed *contract, const char *metrics) {
    char *copy = strdup(metrics), *cursor = copy, *item;
    while ((item = strsep(&cursor, ",")) != NULL) {
        char *colon = strchr(item, ':');
        assert_non_null(colon);
        *colon = '\0';
        Fundflow__V1__OutcomeMetric *metric = malloc(sizeof *metric);
        fundflow__v1__outcome_metric__init(metric);
        metric->code = strdup(item);
        metric->description = strdup("illustrative outcome");
        metric->weight_bp = (uint32_t)atoi(colon + 1);
        contract->metrics = realloc(contract->metrics, (contract->n_metrics + 1) * sizeof(void *));
        contract->metrics[contract->n_metrics++] = metric;
    }
    free(copy);
}

Fundflow__V1__Command *test_contract(const char *key, const char *contract_id,
                                     const char *commissioner, const char *provider,
                                     Fundflow__V1__ContractType type, Fundflow__V1__Stream stream,
                                     int64_t value_pence, int64_t pot_pence, const char *metrics) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__ContractAgreed *contract = malloc(sizeof *contract);
    fundflow__v1__contract_agreed__init(contract);
    contract->contract_id = strdup(contract_id);
    contract->commissioner_code = strdup(commissioner);
    contract->provider_code = strdup(provider);
    contract->type = type;
    contract->financial_year = TEST_YEAR;
    contract->stream = stream;
    contract->annual_value_pence = value_pence;
    contract->service_category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH;
    contract->withheld_pot_pence = pot_pence;
    if (metrics) test_metrics_parse(contract, metrics);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED;
    command->event->contract_agreed = contract;
    return command;
}

Fundflow__V1__Command *test_payment(const char *key, const char *contract_id, uint32_t month,
                                    int64_t amount_pence) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__PaymentMade *payment = malloc(sizeof *payment);
    fundflow__v1__payment_made__init(payment);
    payment->contract_id = strdup(contract_id);
    payment->month = month;
    payment->amount_pence = amount_pence;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
    command->event->payment_made = payment;
    /* Dated on the 15th of the month it pays for: M1 is April 2024. */
    uint32_t calendar_month = month <= 9 ? month + 3 : month - 9;
    uint32_t calendar_year = month <= 9 ? TEST_YEAR : TEST_YEAR + 1;
    command->effective_date = calendar_year * 10000 + calendar_month * 100 + 15;
    return command;
}

Fundflow__V1__Command *test_plan(const char *key, const char *org, Fundflow__V1__Stream stream,
                                 const int64_t month_amounts_pence[12]) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__PlanSet *plan = malloc(sizeof *plan);
    assert_non_null(plan);
    fundflow__v1__plan_set__init(plan);
    plan->org_code = strdup(org);
    plan->stream = stream;
    plan->financial_year = TEST_YEAR;
    plan->n_month_amounts_pence = 12;
    plan->month_amounts_pence = malloc(12 * sizeof *plan->month_amounts_pence);
    assert_non_null(plan->month_amounts_pence);
    memcpy(plan->month_amounts_pence, month_amounts_pence, 12 * sizeof *month_amounts_pence);
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_PLAN_SET;
    command->event->plan_set = plan;
    return command;
}

Fundflow__V1__Command *test_outcome(const char *key, const char *contract_id, const char *metric,
                                    uint32_t achievement_bp) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__OutcomeReported *outcome = malloc(sizeof *outcome);
    fundflow__v1__outcome_reported__init(outcome);
    outcome->contract_id = strdup(contract_id);
    outcome->metric_code = strdup(metric);
    outcome->achievement_bp = achievement_bp;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED;
    command->event->outcome_reported = outcome;
    return command;
}

Fundflow__V1__Command *test_variation(const char *key, const char *contract_id,
                                      int64_t change_pence) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__ContractVaried *variation = malloc(sizeof *variation);
    fundflow__v1__contract_varied__init(variation);
    variation->contract_id = strdup(contract_id);
    variation->change_pence = change_pence;
    variation->reason = strdup("activity above plan");
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED;
    command->event->contract_varied = variation;
    return command;
}

Fundflow__V1__Command *test_service_line(const char *key, const char *code, bool retained) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__ServiceLineRegistered *line = malloc(sizeof *line);
    fundflow__v1__service_line_registered__init(line);
    line->code = strdup(code);
    line->name = strdup("Illustrative specialised service");
    line->category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH;
    line->retained_nationally = retained;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED;
    command->event->service_line_registered = line;
    return command;
}

static char **test_codes_split(const char *codes, size_t *count) {
    char **list = NULL, *copy = strdup(codes), *cursor = copy, *item;
    *count = 0;
    while ((item = strsep(&cursor, ",")) != NULL) {
        list = realloc(list, (*count + 1) * sizeof *list);
        list[(*count)++] = strdup(item);
    }
    free(copy);
    return list;
}

Fundflow__V1__Command *test_delegation(const char *key, const char *id, const char *delegate,
                                       const char *line, const char *population,
                                       Fundflow__V1__DelegationMode mode, uint32_t from,
                                       uint32_t to) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__DelegationGranted *grant = malloc(sizeof *grant);
    fundflow__v1__delegation_granted__init(grant);
    grant->delegation_id = strdup(id);
    grant->delegate_code = strdup(delegate);
    grant->service_line_codes = test_codes_split(line, &grant->n_service_line_codes);
    grant->population_codes = test_codes_split(population, &grant->n_population_codes);
    grant->mode = mode;
    grant->effective_from = from;
    grant->effective_to = to;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED;
    command->event->delegation_granted = grant;
    return command;
}

Fundflow__V1__Command *test_revocation(const char *key, const char *id, uint32_t until) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__DelegationRevoked *revoke = malloc(sizeof *revoke);
    fundflow__v1__delegation_revoked__init(revoke);
    revoke->delegation_id = strdup(id);
    revoke->effective_to = until;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED;
    command->event->delegation_revoked = revoke;
    return command;
}

Fundflow__V1__Command *test_period(const char *key, const char *org, uint32_t month) {
    Fundflow__V1__Command *command = test_command_make(key);
    Fundflow__V1__PeriodClosed *period = malloc(sizeof *period);
    fundflow__v1__period_closed__init(period);
    period->org_code = strdup(org);
    period->financial_year = TEST_YEAR;
    period->month = month;
    command->event->kind_case = FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED;
    command->event->period_closed = period;
    return command;
}
