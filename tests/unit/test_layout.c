/* The storage layout: data directories made by earlier layouts (fixtures kept in the tree: layout
 * 1's and layout 2's) open, migrate, verify and answer as they did; a fresh one records the
 * current layout; and an allocation makes the number of projection writes the layout promises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "log.h"
#include "test_support.h"
#include "verify.h"
#include "ledger_write.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

/* Copies a fixture's data.mdb into directory, so the test never changes the tree's copy. */
static void layout_fixture_copy(const char *fixture_dir, const char *directory) {
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/data.mdb", fixture_dir);
    snprintf(to, sizeof to, "%s/data.mdb", directory);
    FILE *source = fopen(from, "rb"), *target = fopen(to, "wb");
    assert_non_null(source);
    assert_non_null(target);
    char buffer[65536];
    size_t bytes;
    while ((bytes = fread(buffer, 1, sizeof buffer, source)) > 0) {
        assert_int_equal(fwrite(buffer, 1, bytes, target), bytes);
    }
    assert_int_equal(ferror(source), 0);
    fclose(source);
    assert_int_equal(fclose(target), 0);
}

/* The heads the fixtures' READMEs recorded when layout 1's and layout 2's code made them. */
static const char layout_fixture_head_hash[] =
    "4b31ca0c6d5df9d3b5dfeb9112f337cfc242c36b1ac21dd903cd5dd7ede81b38";
static const char layout2_fixture_head_hash[] =
    "009bd4f752132f7e64f6ab9462b98e9c8ff53dabc2cfbd89104afc98b42d8c44";

static void layout_head_check(ff_ledger *ledger, const char *head_hash) {
    log_head head;
    assert_int_equal(ledger_head_read(ledger, &head), FF_OK);
    assert_int_equal(head.sequence, 303);
    char hex[2 * DIGEST_BYTES + 1];
    for (size_t i = 0; i < DIGEST_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", head.hash[i]);
    assert_string_equal(hex, head_hash);
}

/* Both fixtures are fundflow-bench-core's: events 1 to 3 register X24, set its 2024/25 core
 * services limit to INT64_MAX and register QUE; events 4 to 303 are three batches of 100
 * allocations X24 -> QUE of 100 + i pence, i = 0..99. One batch is 100 x 100 + (0 + ... + 99)
 * = 10,000 + 4,950 = 14,950 pence, so QUE has received 14,950 as at event 103 and 3 x 14,950 =
 * 44,850 at the head, what fundflow-admin positions printed (£149.50 and £448.50). */
static void layout_positions_check(ff_ledger *ledger) {
    ledger_position position;
    assert_int_equal(ledger_position_read(ledger, "QUE", CORE, TEST_YEAR, UINT64_MAX, &position),
                     FF_OK);
    assert_int_equal(position.received_pence, 44850);
    assert_int_equal(position.passed_on_pence, 0);
    assert_int_equal(position.headroom_pence, 44850);
    assert_int_equal(ledger_position_read(ledger, "QUE", CORE, TEST_YEAR, 103, &position), FF_OK);
    assert_int_equal(position.received_pence, 14950);
    assert_int_equal(position.headroom_pence, 14950);
    /* X24: received its limit INT64_MAX = 9,223,372,036,854,775,807; passed on 44,850, so its
     * headroom is 9,223,372,036,854,730,957 (£92,233,720,368,547,309.57 as printed). */
    assert_int_equal(ledger_position_read(ledger, "X24", CORE, TEST_YEAR, UINT64_MAX, &position),
                     FF_OK);
    assert_int_equal(position.received_pence, INT64_MAX);
    assert_int_equal(position.passed_on_pence, 44850);
    assert_int_equal(position.headroom_pence, 9223372036854730957LL);
    assert_int_equal(ledger_position_read(ledger, "X24", CORE, TEST_YEAR, 103, &position), FF_OK);
    assert_int_equal(position.passed_on_pence, 14950);
}

static bool layout_posting_count(void *context, uint64_t sequence, const posting_record *record) {
    (void)sequence;
    (*(uint64_t *)context)++;
    return record->credit_pence > 0; /* QUE's received takes credits only */
}

/* QUE's received account: 300 postings, events 4 to 303, the last with 300 postings counted. */
static void layout_account_check(ff_ledger *ledger) {
    ff_store *store = ledger_store(ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(store, &txn), FF_OK);
    account_key key;
    account_key_make(&key, "QUE", TEST_YEAR, CORE, ACCOUNT_PURPOSE_RECEIVED);
    account_balance balance;
    assert_int_equal(account_balance_read(txn, store, &key, &balance), FF_OK);
    assert_int_equal(balance.credits_posted_pence, 44850);
    assert_int_equal(balance.debits_posted_pence, 0);
    assert_int_equal(balance.last_sequence, 303);
    assert_int_equal(balance.posting_count, 300);
    assert_int_equal(account_balance_read_at(txn, store, &key, 4, &balance), FF_OK);
    assert_int_equal(balance.credits_posted_pence, 100);
    assert_int_equal(balance.posting_count, 1);
    assert_int_equal(account_balance_read_at(txn, store, &key, 3, &balance), FF_OK);
    assert_int_equal(balance.posting_count, 0);
    uint64_t postings = 0;
    assert_int_equal(account_postings_visit(txn, store, &key, 0, layout_posting_count, &postings),
                     FF_OK);
    assert_int_equal(postings, 300);
    store_read_end(store, txn);
}

/* Opens a copy of the fixture, which migrates to the current layout, and checks it verifies
 * and answers as it did when it was made, goes on taking writes, and opens again unmigrated. */
static void layout_fixture_migrate_check(const char *fixture_dir, const char *head_hash) {
    char *directory = test_dir_make();
    layout_fixture_copy(fixture_dir, directory);
    ff_ledger *ledger = test_ledger_open(directory, 0);
    assert_int_equal(store_layout_version(ledger_store(ledger)), STORE_LAYOUT_VERSION);
    layout_head_check(ledger, head_hash);
    verify_report report;
    assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
    assert_int_equal(report.events_checked, 303);
    layout_positions_check(ledger);
    layout_account_check(ledger);
    /* It goes on taking writes in the new layout: one more allocation of 5 pence. */
    assert_int_equal(test_submit(ledger, test_allocation("after", "X24", "QUE", CORE, TEST_YEAR,
                                                         5), NULL), FF_OK);
    ledger_position position;
    assert_int_equal(ledger_position_read(ledger, "QUE", CORE, TEST_YEAR, UINT64_MAX, &position),
                     FF_OK);
    assert_int_equal(position.received_pence, 44855);
    ledger_close(ledger);
    /* Opened again, it is of the current layout already, so nothing migrates, and it verifies. */
    ledger = test_ledger_open(directory, 0);
    assert_int_equal(store_layout_version(ledger_store(ledger)), STORE_LAYOUT_VERSION);
    assert_int_equal(verify_ledger(ledger_store(ledger), NULL, &report), FF_OK);
    ledger_close(ledger);
    test_dir_remove(directory);
}

static void test_a_layout_1_directory_migrates_and_answers_as_before(void **state) {
    (void)state;
    layout_fixture_migrate_check(FF_LAYOUT_FIXTURE_DIR, layout_fixture_head_hash);
}

/* Layout 2's tables are plain: they open as plain tables (never as layout 3's duplicate tables)
 * for the migration to read, and the rebuilt file has layout 3's. */
static void test_a_layout_2_directory_migrates_and_answers_as_before(void **state) {
    (void)state;
    char *directory = test_dir_make();
    layout_fixture_copy(FF_LAYOUT2_FIXTURE_DIR, directory);
    ff_store *store = NULL;
    assert_int_equal(store_open(&(store_options){.data_dir = directory}, &store), FF_OK);
    assert_int_equal(store_layout_version(store), 2);
    store_close(store);
    test_dir_remove(directory);
    layout_fixture_migrate_check(FF_LAYOUT2_FIXTURE_DIR, layout2_fixture_head_hash);
}

static void test_a_fresh_directory_records_the_current_layout(void **state) {
    (void)state;
    test_fixture *fixture = test_fixture_open();
    assert_int_equal(store_layout_version(ledger_store(fixture->ledger)), STORE_LAYOUT_VERSION);
    void *fixture_state = fixture;
    test_fixture_teardown(&fixture_state);
}

/* Rewrites the layout a closed data file records, in place: LMDB stores the key "layout" and its
 * 4-byte value side by side in the meta table's page and keeps no checksum, so the bytes
 * "layout" 0 0 0 <from> occur once in the file and can be changed as a newer fundflow would. */
static void layout_file_rewrite(const char *directory, uint8_t from, uint8_t to) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", directory);
    FILE *file = fopen(path, "r+b");
    assert_non_null(file);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    long size = ftell(file);
    assert_true(size > 0);
    uint8_t *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    rewind(file);
    assert_int_equal(fread(bytes, 1, (size_t)size, file), (size_t)size);
    const uint8_t pattern[] = {'l', 'a', 'y', 'o', 'u', 't', 0, 0, 0, from};
    long found = -1;
    int occurrences = 0;
    for (long i = 0; i + (long)sizeof pattern <= size; i++) {
        if (memcmp(bytes + i, pattern, sizeof pattern) == 0) found = i, occurrences++;
    }
    assert_int_equal(occurrences, 1);
    assert_int_equal(fseek(file, found + (long)sizeof pattern - 1, SEEK_SET), 0);
    assert_int_equal(fputc(to, file), to);
    assert_int_equal(fclose(file), 0);
    free(bytes);
}

static void test_a_directory_of_a_newer_layout_is_refused(void **state) {
    (void)state;
    char *directory = test_dir_make();
    ledger_close(test_ledger_open(directory, 0));
    layout_file_rewrite(directory, STORE_LAYOUT_VERSION, STORE_LAYOUT_VERSION + 1);
    store_options options = {.data_dir = directory};
    ff_ledger *ledger = NULL;
    assert_int_equal(ledger_open(&options, &ledger), FF_ERR_LAYOUT_NEWER);
    assert_null(ledger);
    /* Put back, it opens: the refusal changed nothing. */
    layout_file_rewrite(directory, STORE_LAYOUT_VERSION + 1, STORE_LAYOUT_VERSION);
    ledger_close(test_ledger_open(directory, 0));
    test_dir_remove(directory);
}

/* The B-tree writes of an allocation between accounts that already exist, counted through
 * ledger_write.h (the log's own append is the store's and is not counted): four postings, the
 * payer's and payee's history rows, the flow, the idempotency entry and the actor index = 9.
 * Layout 1 also wrote the four balances: 13. */
static void test_an_allocation_makes_nine_projection_writes(void **state) {
    (void)state;
    test_fixture *fixture = test_fixture_open();
    test_world_register(fixture->ledger);
    assert_int_equal(test_submit(fixture->ledger, test_allocation("first", "X24", "QUE", CORE,
                                                                  TEST_YEAR, 1000), NULL), FF_OK);
    uint64_t before = ledger_writes_made;
    assert_int_equal(test_submit(fixture->ledger, test_allocation("second", "X24", "QUE", CORE,
                                                                  TEST_YEAR, 1000), NULL), FF_OK);
    assert_int_equal(ledger_writes_made - before, 9);
    void *fixture_state = fixture;
    test_fixture_teardown(&fixture_state);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_layout_1_directory_migrates_and_answers_as_before),
        cmocka_unit_test(test_a_layout_2_directory_migrates_and_answers_as_before),
        cmocka_unit_test(test_a_fresh_directory_records_the_current_layout),
        cmocka_unit_test(test_a_directory_of_a_newer_layout_is_refused),
        cmocka_unit_test(test_an_allocation_makes_nine_projection_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
