/* Tests of the store's kept read transactions (store_reader_attach): a renewed transaction reads
 * the latest commit, a nested read gets a transaction of its own, and replacing the data file
 * ends kept transactions safely; and of deferred commit flushes (store_commit_sync_defer). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "test_support.h"

#define KEY STORE_SLICE("k", 1)

typedef struct value_put {
    ff_store *store;
    const char *value;
} value_put;

/* Writes KEY = the value into the organisations table (any table serves). */
static ff_err value_put_work(void *argument, store_txn *txn) {
    value_put *put = argument;
    return store_put(txn, put->store, STORE_TABLE_ORGS, KEY,
                     STORE_SLICE(put->value, strlen(put->value)), STORE_PUT_REPLACE);
}

static void value_write(ff_store *store, const char *value) {
    value_put put = {.store = store, .value = value};
    assert_int_equal(store_write_run(store, value_put_work, &put), FF_OK);
}

/* Reads KEY through store_read_begin into out (empty string if absent). */
static void value_read(ff_store *store, char *out, size_t out_bytes) {
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(store, &txn), FF_OK);
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_ORGS, KEY, &value);
    out[0] = '\0';
    if (err == FF_OK) {
        assert_true(value.bytes < out_bytes);
        memcpy(out, value.data, value.bytes);
        out[value.bytes] = '\0';
    } else {
        assert_int_equal(err, FF_ERR_NOT_FOUND);
    }
    store_read_end(store, txn);
}

static ff_store *store_fresh(char *directory) {
    ff_store *store = NULL;
    assert_int_equal(store_open(&(store_options){.data_dir = directory}, &store), FF_OK);
    return store;
}

static void test_renewed_read_sees_a_commit_made_after_its_reset(void **state) {
    (void)state;
    char *directory = test_dir_make();
    ff_store *store = store_fresh(directory);
    assert_int_equal(store_reader_attach(store), FF_OK);
    char value[16];
    /* The first read begins the kept transaction: no renewal yet, and nothing written. */
    value_read(store, value, sizeof value);
    assert_string_equal(value, "");
    assert_int_equal(store_read_txns_renewed(store), 0);
    /* Written after the kept transaction was reset: the renewed one must see it. */
    value_write(store, "one");
    value_read(store, value, sizeof value);
    assert_string_equal(value, "one");
    assert_int_equal(store_read_txns_renewed(store), 1);
    value_write(store, "two");
    value_read(store, value, sizeof value);
    assert_string_equal(value, "two");
    assert_int_equal(store_read_txns_renewed(store), 2);
    store_reader_detach(store);
    /* Detached, the thread reads as any other: a new transaction, no renewal. */
    value_read(store, value, sizeof value);
    assert_string_equal(value, "two");
    assert_int_equal(store_read_txns_renewed(store), 2);
    store_close(store);
    test_dir_remove(directory);
}

static void test_a_nested_read_gets_its_own_transaction(void **state) {
    (void)state;
    char *directory = test_dir_make();
    ff_store *store = store_fresh(directory);
    value_write(store, "old");
    assert_int_equal(store_reader_attach(store), FF_OK);
    store_txn *outer = NULL, *inner = NULL;
    assert_int_equal(store_read_begin(store, &outer), FF_OK);
    value_write(store, "new");
    assert_int_equal(store_read_begin(store, &inner), FF_OK);
    assert_ptr_not_equal(outer, inner);
    store_slice seen;
    /* The outer snapshot predates "new"; the inner one, begun after it, sees it. */
    assert_int_equal(store_get(outer, store, STORE_TABLE_ORGS, KEY, &seen), FF_OK);
    assert_memory_equal(seen.data, "old", 3);
    assert_int_equal(store_get(inner, store, STORE_TABLE_ORGS, KEY, &seen), FF_OK);
    assert_memory_equal(seen.data, "new", 3);
    store_read_end(store, inner);
    store_read_end(store, outer);
    /* The kept one is free again and is renewed by the next read. */
    char value[16];
    value_read(store, value, sizeof value);
    assert_string_equal(value, "new");
    assert_int_equal(store_read_txns_renewed(store), 1);
    store_reader_detach(store);
    store_close(store);
    test_dir_remove(directory);
}

/* Replacing the data file closes the environment: a kept transaction must be ended before, and
 * the next read begin afresh on the new file (ASan reports a use after free otherwise). */
static void test_replacing_the_data_file_ends_kept_transactions(void **state) {
    (void)state;
    char *directory = test_dir_make();
    char *replacement_dir = test_dir_make();
    ff_store *replacement = store_fresh(replacement_dir);
    value_write(replacement, "replacement");
    store_close(replacement);
    ff_store *store = store_fresh(directory);
    value_write(store, "original");
    assert_int_equal(store_reader_attach(store), FF_OK);
    char value[16];
    value_read(store, value, sizeof value);
    assert_string_equal(value, "original");
    bool open_elsewhere = true;
    assert_int_equal(store_data_file_replace(store, replacement_dir, &open_elsewhere), FF_OK);
    assert_false(open_elsewhere);
    value_read(store, value, sizeof value);
    assert_string_equal(value, "replacement");
    value_read(store, value, sizeof value);
    assert_string_equal(value, "replacement");
    /* The first read of all began the kept transaction, and so did the first after the swap,
     * which had ended it; only the second after the swap was a renewal: 0 + 0 + 1. */
    assert_int_equal(store_read_txns_renewed(store), 1);
    store_reader_detach(store);
    store_close(store);
    test_dir_remove(replacement_dir);
    test_dir_remove(directory);
}

/* A deferred commit is visible at once, and store_sync then flushes it; opening the store
 * again finds it. (Durability against a machine crash cannot be tested here; the order of the
 * flushes is argued in docs/ARCHITECTURE.md, "Group commit".) */
static void test_a_deferred_commit_is_visible_and_synced(void **state) {
    (void)state;
    char *directory = test_dir_make();
    ff_store *store = store_fresh(directory);
    store_commit_sync_defer(true);
    value_write(store, "deferred");
    store_commit_sync_defer(false);
    char value[16];
    value_read(store, value, sizeof value);
    assert_string_equal(value, "deferred");
    assert_int_equal(store_sync(store), FF_OK);
    store_close(store);
    store = store_fresh(directory);
    value_read(store, value, sizeof value);
    assert_string_equal(value, "deferred");
    store_close(store);
    test_dir_remove(directory);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renewed_read_sees_a_commit_made_after_its_reset),
        cmocka_unit_test(test_a_nested_read_gets_its_own_transaction),
        cmocka_unit_test(test_replacing_the_data_file_ends_kept_transactions),
        cmocka_unit_test(test_a_deferred_commit_is_visible_and_synced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
