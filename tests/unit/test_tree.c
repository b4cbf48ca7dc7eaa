/* Tests of the log's Merkle tree in the store (daemon/store/tree.c): kept with every append,
 * its roots and proofs at every size equal those of the same leaves held in memory, an old data
 * directory without a tree gets one on open, and a tampered stored hash is found. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tree.h"
#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES
/* 16 world events and 29 allocations: 45 events, so the tree has stored subtrees of 8, 16 and
 * 32 leaves (45 = 32 + 8 + 4 + 1) and a right edge below 8 of 4 + 1. */
#define ALLOCATIONS 29
#define EVENTS (TEST_WORLD_EVENTS + ALLOCATIONS)

typedef struct memory_leaves {
    merkle_hash hashes[EVENTS];
    uint64_t count;
} memory_leaves;

static void ledger_fill(ff_ledger *ledger) {
    test_world_register(ledger);
    for (int i = 0; i < ALLOCATIONS; i++) {
        char key[16];
        snprintf(key, sizeof key, "a%d", i);
        assert_int_equal(test_submit(ledger, test_allocation(key, "X24", "QUE", CORE, TEST_YEAR,
                                                             100 + i), NULL), FF_OK);
    }
    assert_int_equal(test_head_sequence(ledger), EVENTS);
}

/* The leaf hashes of the stored events, read straight from the log. */
static void leaves_read(ff_store *store, store_txn *txn, memory_leaves *leaves) {
    leaves->count = 0;
    for (uint64_t sequence = 1; sequence <= EVENTS; sequence++) {
        uint8_t key[LOG_KEY_BYTES];
        log_key_encode(sequence, key);
        store_slice value;
        assert_int_equal(store_get(txn, store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key),
                                   &value), FF_OK);
        merkle_leaf_hash(value.data, value.bytes, &leaves->hashes[leaves->count++]);
    }
}

static void tree_matches_memory(ff_store *store) {
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(store, &txn), FF_OK);
    memory_leaves leaves;
    leaves_read(store, txn, &leaves);
    merkle_leaves source = {leaves.hashes, leaves.count};
    uint64_t size = 0;
    assert_int_equal(tree_size_read(txn, store, &size), FF_OK);
    assert_int_equal(size, EVENTS);
    for (uint64_t n = 0; n <= EVENTS; n++) {
        merkle_hash stored_root, memory_root;
        assert_int_equal(tree_root(txn, store, n, &stored_root), FF_OK);
        assert_int_equal(merkle_root(merkle_leaves_subtree, &source, n, &memory_root), FF_OK);
        assert_memory_equal(stored_root.bytes, memory_root.bytes, MERKLE_HASH_BYTES);
        for (uint64_t sequence = 1; sequence <= n; sequence++) {
            merkle_proof proof;
            assert_int_equal(tree_inclusion_proof(txn, store, sequence, n, &proof), FF_OK);
            assert_int_equal(merkle_inclusion_verify(sequence - 1, n,
                                                     &leaves.hashes[sequence - 1], &proof,
                                                     &memory_root, NULL), FF_OK);
        }
        for (uint64_t first = 0; first <= n; first++) {
            merkle_proof proof;
            merkle_hash first_root;
            assert_int_equal(merkle_root(merkle_leaves_subtree, &source, first, &first_root),
                             FF_OK);
            assert_int_equal(tree_consistency_proof(txn, store, first, n, &proof), FF_OK);
            assert_int_equal(merkle_consistency_verify(first, n, &first_root, &memory_root,
                                                       &proof, NULL), FF_OK);
        }
    }
    merkle_hash root;
    merkle_proof proof;
    assert_int_equal(tree_root(txn, store, EVENTS + 1, &root), FF_ERR_TREE_SIZE_INVALID);
    assert_int_equal(tree_inclusion_proof(txn, store, 0, EVENTS, &proof),
                     FF_ERR_TREE_SIZE_INVALID);
    assert_int_equal(tree_inclusion_proof(txn, store, EVENTS, EVENTS + 1, &proof),
                     FF_ERR_TREE_SIZE_INVALID);
    char reason[256] = "";
    assert_int_equal(tree_check(txn, store, reason, sizeof reason), FF_OK);
    store_read_end(store, txn);
}

static void test_tree_kept_with_the_log(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    tree_matches_memory(ledger_store(f->ledger));
}

/* Stored rows: 45 events hold 45 >> 3 = 5 subtrees of 8, 2 of 16 and 1 of 32, 8 nodes of 32
 * bytes under 9-byte keys, and the edge (8 + 3 * 32 = 104 bytes under a 1-byte key). */
typedef struct row_count {
    size_t nodes, edges;
} row_count;

static ff_err row_counted(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)stop;
    row_count *count = argument;
    if (key.bytes == 9 && value.bytes == MERKLE_HASH_BYTES) count->nodes++;
    if (key.bytes == 1 && value.bytes == 104) count->edges++;
    return FF_OK;
}

static void test_tree_rows(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(store, &txn), FF_OK);
    row_count count = {0, 0};
    assert_int_equal(store_each(txn, store, STORE_TABLE_MERKLE, STORE_SLICE(NULL, 0), row_counted,
                                &count), FF_OK);
    store_read_end(store, txn);
    assert_int_equal(count.nodes, 5 + 2 + 1);
    assert_int_equal(count.edges, 1);
}

static ff_err merkle_clear(void *argument, store_txn *txn) {
    return test_table_clear(txn, argument, STORE_TABLE_MERKLE);
}

/* A data directory made before the tree (its merkle table empty) gets the same tree on open. */
static void test_tree_built_on_open(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_count = 0, after_count = 0;
    ff_store *store = ledger_store(f->ledger);
    test_tables_dump(store, STORE_TABLE_MERKLE, STORE_TABLE_MERKLE + 1, &before, &before_count);
    assert_int_equal(store_write_run(store, merkle_clear, store), FF_OK);
    ledger_close(f->ledger);
    f->ledger = test_ledger_open(f->directory, 0);
    store = ledger_store(f->ledger);
    test_tables_dump(store, STORE_TABLE_MERKLE, STORE_TABLE_MERKLE + 1, &after, &after_count);
    assert_int_equal(after_count, before_count);
    assert_memory_equal(after, before, before_count);
    free(before);
    free(after);
    tree_matches_memory(store);
    /* And appends go on from it. */
    assert_int_equal(test_submit(f->ledger, test_allocation("more", "X24", "QUE", CORE,
                                                            TEST_YEAR, 7), NULL), FF_OK);
}

typedef struct node_spoil {
    ff_store *store;
    uint8_t key[9];
} node_spoil;

static ff_err node_spoil_run(void *argument, store_txn *txn) {
    node_spoil *spoil = argument;
    uint8_t hash[MERKLE_HASH_BYTES];
    memset(hash, 0x5A, sizeof hash);
    return store_put(txn, spoil->store, STORE_TABLE_MERKLE, STORE_SLICE(spoil->key, 9),
                     STORE_SLICE(hash, sizeof hash), STORE_PUT_REPLACE);
}

/* A changed stored subtree (height 4, index 1: events 17 to 32) is named by tree_check. */
static void test_tree_tamper_found(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    node_spoil spoil = {ledger_store(f->ledger), {4, 0, 0, 0, 0, 0, 0, 0, 1}};
    assert_int_equal(store_write_run(spoil.store, node_spoil_run, &spoil), FF_OK);
    store_txn *txn = NULL;
    assert_int_equal(store_read_begin(spoil.store, &txn), FF_OK);
    char reason[256] = "";
    assert_int_equal(tree_check(txn, spoil.store, reason, sizeof reason), FF_ERR_TREE_MISMATCH);
    assert_string_equal(reason,
                        "the stored hash of events 17 to 32 is missing or differs from theirs");
    store_read_end(spoil.store, txn);
}

/* fundflow-admin verify checks the tree on verify's chain thread, in the same walk as the hash
 * chain: it finds the same changed subtree, with the same reason, as tree_check; and an intact
 * tree passes. */
static void test_verify_checks_the_tree_as_tree_check_does(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    verify_report report;
    verify_tree_report tree;
    assert_int_equal(verify_ledger_tree_watched(store, NULL, NULL, &report, &tree), FF_OK);
    assert_true(tree.checked);
    assert_int_equal(tree.code, FF_OK);
    node_spoil spoil = {store, {4, 0, 0, 0, 0, 0, 0, 0, 1}};
    assert_int_equal(store_write_run(spoil.store, node_spoil_run, &spoil), FF_OK);
    /* The projections and the chain are untouched, so verify itself passes. */
    assert_int_equal(verify_ledger_tree_watched(store, NULL, NULL, &report, &tree), FF_OK);
    assert_true(tree.checked);
    assert_int_equal(tree.code, FF_ERR_TREE_MISMATCH);
    assert_string_equal(tree.reason,
                        "the stored hash of events 17 to 32 is missing or differs from theirs");
}

/* A rebuild replays the log into a new file, tree and all: the same tree comes back. */
static void test_tree_survives_rebuild(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    verify_report report;
    assert_int_equal(verify_rebuild_projections(ledger_store(f->ledger), &report), FF_OK);
    tree_matches_memory(ledger_store(f->ledger));
}

/* A log shorter than its tree (the newest event deleted behind the ledger's back) is refused on
 * open rather than given a tree that forgets the event. */
static void test_tree_longer_than_log_refused(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    test_log_record_delete(ledger_store(f->ledger), EVENTS);
    ledger_close(f->ledger);
    f->ledger = NULL;
    store_options options = {.data_dir = f->directory};
    assert_int_equal(ledger_open(&options, &f->ledger), FF_ERR_TREE_MISMATCH);
    assert_null(f->ledger);
}

/* The edge kept in memory across a flat batch (tree_edge_keep_begin/_end): three leaves appended
 * to it in a try that is then abandoned must leave nothing behind, neither in the table nor in
 * the next transaction's kept edge, which starts again from the stored 45 events. */
enum { KEPT_ABANDONED_LEAVES = 3 };

typedef struct kept_try {
    ff_store *store;
    uint64_t size_seen; /* tree_size_read in the try, while the edge is kept */
} kept_try;

static ff_err kept_leaves_appended_then_abandoned(void *argument, store_txn *txn) {
    kept_try *try = argument;
    static const uint8_t stored[] = "not an event: the tree hashes any bytes";
    tree_edge_keep_begin(txn);
    ff_err err = FF_OK;
    for (uint64_t i = 1; err == FF_OK && i <= KEPT_ABANDONED_LEAVES; i++) {
        err = tree_append(txn, try->store, EVENTS + i, STORE_SLICE(stored, sizeof stored));
    }
    if (err == FF_OK) err = tree_size_read(txn, try->store, &try->size_seen);
    ff_err end_err = tree_edge_keep_end(txn, try->store, false);
    if (err == FF_OK) err = end_err;
    /* Any refusal makes store_write_run abort the transaction. */
    return err == FF_OK ? FF_ERR_VETOED : err;
}

static ff_err kept_size_read(void *argument, store_txn *txn) {
    kept_try *try = argument;
    tree_edge_keep_begin(txn);
    ff_err err = tree_size_read(txn, try->store, &try->size_seen);
    ff_err end_err = tree_edge_keep_end(txn, try->store, true);
    return err == FF_OK ? end_err : err;
}

static void test_tree_edge_kept_in_an_abandoned_try_is_forgotten(void **state) {
    test_fixture *f = *state;
    ledger_fill(f->ledger);
    ff_store *store = ledger_store(f->ledger);
    kept_try try = {store, 0};
    assert_int_equal(store_write_run(store, kept_leaves_appended_then_abandoned, &try),
                     FF_ERR_VETOED);
    /* Inside the try, the kept edge was the tree's: 45 + 3 leaves. */
    assert_int_equal(try.size_seen, EVENTS + KEPT_ABANDONED_LEAVES);
    try.size_seen = 0;
    assert_int_equal(store_write_run(store, kept_size_read, &try), FF_OK);
    assert_int_equal(try.size_seen, EVENTS);
    tree_matches_memory(store);
}

static int fixture_setup(void **state) {
    *state = test_fixture_open();
    return 0;
}

int main(void) {
#define TREE_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, test_fixture_teardown)
    const struct CMUnitTest tests[] = {
        TREE_TEST(test_tree_kept_with_the_log), TREE_TEST(test_tree_rows),
        TREE_TEST(test_tree_built_on_open),     TREE_TEST(test_tree_tamper_found),
        TREE_TEST(test_tree_survives_rebuild),  TREE_TEST(test_tree_longer_than_log_refused),
        TREE_TEST(test_verify_checks_the_tree_as_tree_check_does),
        TREE_TEST(test_tree_edge_kept_in_an_abandoned_try_is_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
