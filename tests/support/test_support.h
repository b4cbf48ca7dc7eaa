/* Helpers shared by the core tests: scratch directories, command builders, and table dumps. */
#ifndef FUNDFLOW_TEST_SUPPORT_H
#define FUNDFLOW_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "fundflow/v1/events.pb-c.h"

/* The effective date and recording time every test command uses unless it says otherwise. */
#define TEST_EFFECTIVE_DATE 20240401u
#define TEST_RECORDED_AT_US 1711929600000000LL
#define TEST_YEAR 2024u

/* Makes an empty directory under $TMPDIR (or /tmp); test_dir_remove deletes it and its files. */
char *test_dir_make(void);
void test_dir_remove(char *directory);

/* A ledger in a scratch directory, for tests that share one setup. */
typedef struct test_fixture {
    char *directory;
    ff_ledger *ledger;
} test_fixture;

/* Opens a fresh ledger in a new scratch directory. */
test_fixture *test_fixture_open(void);

/* A CMocka teardown: closes *state's ledger and removes its directory. */
int test_fixture_teardown(void **state);

/* Marsaglia's xorshift64: the same sequence on every machine, for sweeps that must repeat. */
uint64_t test_random_next(uint64_t *state);

/* Deletes every row of table inside txn, as tampering would (the merkle table, say). */
ff_err test_table_clear(store_txn *txn, ff_store *store, store_table table);

/* Deletes one event from the log behind the log's back, as tampering or a bad disk would. */
void test_log_record_delete(ff_store *store, uint64_t sequence);
/* Replaces the stored bytes of one event behind the log's back, as an attacker or a faulty disk
 * would; and copies them (the caller frees the copy). */
void test_log_value_replace(ff_store *store, uint64_t sequence, const uint8_t *bytes,
                            size_t length);
uint8_t *test_log_value_copy(ff_store *store, uint64_t sequence, size_t *length_out);

/* Opens a ledger in directory; map_bytes 0 means the default. Fails the test on error. */
ff_ledger *test_ledger_open(const char *directory, uint64_t map_bytes);

/* Command builders. Each returns a heap command that test_submit frees. */
/* A command with key, TEST_EFFECTIVE_DATE and an empty event, for a builder to fill. */
Fundflow__V1__Command *test_command_make(const char *key);
Fundflow__V1__Command *test_org(const char *key, const char *code, const char *name,
                                Fundflow__V1__OrgKind kind, const char *parent_code);
Fundflow__V1__Command *test_allocation(const char *key, const char *funder, const char *recipient,
                                       Fundflow__V1__Stream stream, uint32_t year,
                                       int64_t amount_pence);
Fundflow__V1__Command *test_budget(const char *key, const char *from, const char *to,
                                   Fundflow__V1__Stream stream, uint32_t year,
                                   int64_t amount_pence);
/* NHS England's revenue limit for a stream and year, as a whole (RevenueLimitSet). */
Fundflow__V1__Command *test_limit(const char *key, const char *funder, Fundflow__V1__Stream stream,
                                  uint32_t year, int64_t limit_pence);
Fundflow__V1__Command *test_reversal(const char *key, uint64_t reversed_sequence,
                                     const char *reason);
void test_command_free(Fundflow__V1__Command *command);

/* Domain builders. metrics is "CODE:WEIGHT,CODE:WEIGHT" or NULL. */
Fundflow__V1__Command *test_contract(const char *key, const char *contract_id,
                                     const char *commissioner, const char *provider,
                                     Fundflow__V1__ContractType type, Fundflow__V1__Stream stream,
                                     int64_t value_pence, int64_t pot_pence, const char *metrics);
Fundflow__V1__Command *test_payment(const char *key, const char *contract_id, uint32_t month,
                                    int64_t amount_pence);
Fundflow__V1__Command *test_outcome(const char *key, const char *contract_id, const char *metric,
                                    uint32_t achievement_bp);
Fundflow__V1__Command *test_variation(const char *key, const char *contract_id,
                                      int64_t change_pence);
Fundflow__V1__Command *test_service_line(const char *key, const char *code, bool retained);
Fundflow__V1__Command *test_delegation(const char *key, const char *id, const char *delegate,
                                       const char *line, const char *population,
                                       Fundflow__V1__DelegationMode mode, uint32_t from,
                                       uint32_t to);
/* Ends delegation id early: it covers nothing after until (YYYYMMDD). */
Fundflow__V1__Command *test_revocation(const char *key, const char *id, uint32_t until);
Fundflow__V1__Command *test_period(const char *key, const char *org, uint32_t month);
/* An organisation's plan for a stream in TEST_YEAR: twelve amounts, M1 to M12, dated 1 April. */
Fundflow__V1__Command *test_plan(const char *key, const char *org, Fundflow__V1__Stream stream,
                                 const int64_t month_amounts_pence[12]);
/* Sets a command's effective date and returns it. */
Fundflow__V1__Command *test_dated(Fundflow__V1__Command *command, uint32_t effective_date);

/* Applies one command as a batch of one and frees it; returns the command's result code. */
ff_err test_submit(ff_ledger *ledger, Fundflow__V1__Command *command, ledger_result *result_out);

/* Applies commands as one batch and frees them; returns the batch's return code. */
ff_err test_submit_batch(ff_ledger *ledger, Fundflow__V1__Command **commands, size_t count,
                         bool linked, ledger_result *results);

/* The head sequence of the log. */
uint64_t test_head_sequence(ff_ledger *ledger);

/* Registers NHSE (X24), region Y61, ICBs QUE and QJG under it, places 06H and 07K under QUE,
 * and a provider collaborative PC1, then sets X24's TEST_YEAR revenue limit of every stream
 * (capital too) to TEST_WORLD_LIMIT_PENCE. Returns the head sequence afterwards. */
#define TEST_WORLD_LIMIT_PENCE INT64_C(100000000000000) /* £1,000,000,000,000.00 */
#define TEST_WORLD_EVENTS 16u /* 7 organisations and 9 limits */
uint64_t test_world_register(ff_ledger *ledger);

/* Every projection table as one byte string: for each table, each key and value with lengths. */
void test_projections_dump(ff_store *store, uint8_t **bytes_out, size_t *bytes_count_out);

/* The same for the tables from first up to (not including) end. */
void test_tables_dump(ff_store *store, store_table first, store_table end, uint8_t **bytes_out,
                      size_t *bytes_count_out);

/* The net balance of one account now (as_at UINT64_MAX) or as at a sequence. */
int64_t test_account_net(ff_ledger *ledger, const char *org, Fundflow__V1__Stream stream,
                         uint32_t year, int purpose, uint64_t as_at);

#endif
