/* The log's Merkle tree in the merkle table: appending a leaf, roots and proofs at any size from
 * the stored subtrees, building a missing tree, and checking the stored one against the log. */
#include "tree.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "fundflow/limits.h"
#include "log.h"

#define TREE_K FF_TREE_STORED_HEIGHT_MIN
#define TREE_NODE_KEY_BYTES 9
#define TREE_EDGE_BYTES (8 + TREE_K * MERKLE_HASH_BYTES)
#define TREE_HEIGHTS 64

_Static_assert(TREE_K >= 1 && TREE_K < TREE_HEIGHTS, "the stored height must leave a low edge");
_Static_assert(sizeof(((tree_recount *)0)->edge) == TREE_HEIGHTS * sizeof(merkle_hash),
               "a recount holds an edge hash for every height");
_Static_assert(TREE_ROWS_PER_LEAF_MAX >= TREE_HEIGHTS - TREE_K, "a leaf completes a row a height");

static const uint8_t tree_edge_key[1] = {0x00};

/* The tree's size and its right edge below TREE_K. */
typedef struct tree_edge {
    uint64_t size;
    merkle_hash low[TREE_K];
} tree_edge;

static void tree_node_key(unsigned height, uint64_t index, uint8_t key[TREE_NODE_KEY_BYTES]) {
    assert(height >= TREE_K && height < TREE_HEIGHTS);
    key[0] = (uint8_t)height;
    log_key_encode(index, key + 1);
}

/* The edge kept in memory across a flat batch (tree_edge_keep_begin to _end), for the one
 * transaction it was begun for: read from the table at its first use, written back once at the
 * end. Each thread has its own, as each writes in its own transactions. */
static _Thread_local struct {
    const store_txn *txn; /* NULL when nothing is kept */
    bool loaded;          /* edge holds the edge as txn has it */
    bool changed;         /* edge differs from the row stored in txn */
    tree_edge edge;
} tree_edge_kept;

static bool tree_edge_is_kept(const store_txn *txn) {
    return txn != NULL && tree_edge_kept.txn == txn;
}

static ff_err tree_edge_stored_read(store_txn *txn, ff_store *store, tree_edge *edge) {
    memset(edge, 0, sizeof *edge);
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_MERKLE, STORE_SLICE(tree_edge_key, 1), &value);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    if (value.bytes != TREE_EDGE_BYTES) return FF_ERR_TREE_MISMATCH;
    edge->size = log_key_decode(value.data);
    memcpy(edge->low, (const uint8_t *)value.data + 8, TREE_K * MERKLE_HASH_BYTES);
    return FF_OK;
}

/* The edge as txn has it: the kept one during a flat batch, else the stored row. */
static ff_err tree_edge_read(store_txn *txn, ff_store *store, tree_edge *edge) {
    if (!tree_edge_is_kept(txn)) return tree_edge_stored_read(txn, store, edge);
    if (!tree_edge_kept.loaded) {
        ff_err err = tree_edge_stored_read(txn, store, &tree_edge_kept.edge);
        if (err != FF_OK) return err;
        tree_edge_kept.loaded = true;
    }
    *edge = tree_edge_kept.edge;
    return FF_OK;
}

static void tree_edge_encode(const tree_edge *edge, uint8_t value[TREE_EDGE_BYTES]) {
    log_key_encode(edge->size, value);
    memcpy(value + 8, edge->low, TREE_K * MERKLE_HASH_BYTES);
}

static ff_err tree_edge_stored_write(store_txn *txn, ff_store *store, const tree_edge *edge) {
    uint8_t value[TREE_EDGE_BYTES];
    tree_edge_encode(edge, value);
    return store_put(txn, store, STORE_TABLE_MERKLE, STORE_SLICE(tree_edge_key, 1),
                     STORE_SLICE(value, sizeof value), STORE_PUT_REPLACE);
}

/* Sets the edge in txn: kept in memory during a flat batch, else stored at once. */
static ff_err tree_edge_write(store_txn *txn, ff_store *store, const tree_edge *edge) {
    if (!tree_edge_is_kept(txn)) return tree_edge_stored_write(txn, store, edge);
    tree_edge_kept.edge = *edge;
    tree_edge_kept.loaded = true;
    tree_edge_kept.changed = true;
    return FF_OK;
}

void tree_edge_keep_begin(store_txn *txn) {
    assert(txn != NULL && tree_edge_kept.txn == NULL);
    memset(&tree_edge_kept, 0, sizeof tree_edge_kept);
    tree_edge_kept.txn = txn;
}

ff_err tree_edge_keep_end(store_txn *txn, ff_store *store, bool write) {
    assert(tree_edge_kept.txn == txn);
    bool changed = tree_edge_kept.loaded && tree_edge_kept.changed;
    tree_edge edge = tree_edge_kept.edge;
    /* Forgotten first, whatever happens next: nothing kept outlives the batch it was kept for. */
    memset(&tree_edge_kept, 0, sizeof tree_edge_kept);
    return write && changed ? tree_edge_stored_write(txn, store, &edge) : FF_OK;
}

static ff_err tree_node_read(store_txn *txn, ff_store *store, unsigned height, uint64_t index,
                             merkle_hash *out) {
    uint8_t key[TREE_NODE_KEY_BYTES];
    tree_node_key(height, index, key);
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_MERKLE, STORE_SLICE(key, sizeof key), &value);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_TREE_MISMATCH;
    if (err != FF_OK) return err;
    if (value.bytes != MERKLE_HASH_BYTES) return FF_ERR_TREE_MISMATCH;
    memcpy(out->bytes, value.data, MERKLE_HASH_BYTES);
    return FF_OK;
}

static ff_err tree_node_write(store_txn *txn, ff_store *store, unsigned height, uint64_t index,
                              const merkle_hash *hash) {
    uint8_t key[TREE_NODE_KEY_BYTES];
    tree_node_key(height, index, key);
    return store_put(txn, store, STORE_TABLE_MERKLE, STORE_SLICE(key, sizeof key),
                     STORE_SLICE(hash->bytes, MERKLE_HASH_BYTES), STORE_PUT_REPLACE);
}

ff_err tree_append(store_txn *txn, ff_store *store, uint64_t sequence, store_slice stored) {
    assert(sequence >= 1 && stored.bytes > 0);
    tree_edge edge;
    ff_err err = tree_edge_read(txn, store, &edge);
    if (err != FF_OK) return err;
    if (edge.size != sequence - 1) return FF_ERR_TREE_MISMATCH;
    const uint64_t n = edge.size;
    merkle_hash current;
    err = merkle_leaf_hash(stored.data, stored.bytes, &current);
    /* Each set low bit of n is a perfect subtree on the edge that the new leaf completes a
     * bigger one with, as a carry runs through a binary counter. */
    unsigned height = 0;
    for (; err == FF_OK && ((n >> height) & 1); height++) {
        merkle_hash left;
        if (height < TREE_K) {
            left = edge.low[height];
            memset(&edge.low[height], 0, sizeof edge.low[height]);
        } else {
            err = tree_node_read(txn, store, height, (n >> height) - 1, &left);
        }
        if (err == FF_OK) err = merkle_node_hash(&left, &current, &current);
        if (err == FF_OK && height + 1 >= TREE_K) {
            err = tree_node_write(txn, store, height + 1, ((n + 1) >> (height + 1)) - 1, &current);
        }
    }
    if (err != FF_OK) return err;
    if (height < TREE_K) edge.low[height] = current;
    edge.size = n + 1;
    return tree_edge_write(txn, store, &edge);
}

ff_err tree_size_read(store_txn *txn, ff_store *store, uint64_t *size_out) {
    tree_edge edge;
    ff_err err = tree_edge_read(txn, store, &edge);
    *size_out = edge.size;
    return err;
}

/* The subtree source over the table: stored subtrees, the right edge, or events hashed again. */
typedef struct tree_source {
    store_txn *txn;
    ff_store *store;
    tree_edge edge;
} tree_source;

static ff_err tree_leaf_hash_read(const tree_source *source, uint64_t leaf, merkle_hash *out) {
    uint8_t key[LOG_KEY_BYTES];
    log_key_encode(leaf + 1, key);
    store_slice value;
    ff_err err = store_get(source->txn, source->store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key),
                           &value);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_TREE_MISMATCH;
    if (err != FF_OK) return err;
    return merkle_leaf_hash(value.data, value.bytes, out);
}

static ff_err tree_subtree(void *context, uint64_t start, unsigned height, merkle_hash *out) {
    const tree_source *source = context;
    assert(height < TREE_HEIGHTS && start + (1ULL << height) <= source->edge.size);
    if (height >= TREE_K) return tree_node_read(source->txn, source->store, height,
                                                start >> height, out);
    uint64_t size = source->edge.size;
    if (((size >> height) & 1) && start == (size >> (height + 1)) << (height + 1)) {
        *out = source->edge.low[height];
        return FF_OK;
    }
    if (height == 0) return tree_leaf_hash_read(source, start, out);
    merkle_hash left, right;
    ff_err err = tree_subtree(context, start, height - 1, &left);
    if (err == FF_OK) err = tree_subtree(context, start + (1ULL << (height - 1)), height - 1, &right);
    if (err == FF_OK) err = merkle_node_hash(&left, &right, out);
    return err;
}

static ff_err tree_source_open(store_txn *txn, ff_store *store, uint64_t size_needed,
                               tree_source *source) {
    source->txn = txn;
    source->store = store;
    ff_err err = tree_edge_read(txn, store, &source->edge);
    if (err == FF_OK && size_needed > source->edge.size) err = FF_ERR_TREE_SIZE_INVALID;
    return err;
}

ff_err tree_root(store_txn *txn, ff_store *store, uint64_t size, merkle_hash *root_out) {
    tree_source source;
    ff_err err = tree_source_open(txn, store, size, &source);
    return err == FF_OK ? merkle_root(tree_subtree, &source, size, root_out) : err;
}

ff_err tree_inclusion_proof(store_txn *txn, ff_store *store, uint64_t sequence, uint64_t size,
                            merkle_proof *proof_out) {
    proof_out->count = 0;
    if (sequence == 0 || sequence > size) return FF_ERR_TREE_SIZE_INVALID;
    tree_source source;
    ff_err err = tree_source_open(txn, store, size, &source);
    return err == FF_OK ? merkle_inclusion_proof(tree_subtree, &source, sequence - 1, size,
                                                 proof_out)
                        : err;
}

ff_err tree_consistency_proof(store_txn *txn, ff_store *store, uint64_t first, uint64_t second,
                              merkle_proof *proof_out) {
    proof_out->count = 0;
    if (first > second) return FF_ERR_TREE_SIZE_INVALID;
    tree_source source;
    ff_err err = tree_source_open(txn, store, second, &source);
    return err == FF_OK ? merkle_consistency_proof(tree_subtree, &source, first, second,
                                                   proof_out)
                        : err;
}

typedef struct tree_catch_up_work {
    ff_store *store;
    uint64_t built;
} tree_catch_up_work;

/* Appends to the tree every event of the log after its size. */
static ff_err tree_catch_up(void *argument, store_txn *txn) {
    tree_catch_up_work *work = argument;
    work->built = 0;
    uint64_t size = 0;
    ff_err err = tree_size_read(txn, work->store, &size);
    store_cursor *cursor = NULL;
    if (err == FF_OK) err = store_cursor_open(txn, work->store, STORE_TABLE_LOG, &cursor);
    uint8_t first[LOG_KEY_BYTES];
    log_key_encode(size + 1, first);
    store_slice key = STORE_SLICE(first, sizeof first), value;
    store_move move = STORE_SEEK;
    while (err == FF_OK && (err = store_cursor_move(cursor, move, &key, &value)) == FF_OK) {
        move = STORE_NEXT;
        if (key.bytes != LOG_KEY_BYTES) err = FF_ERR_LOG_DECODE;
        if (err == FF_OK) err = tree_append(txn, work->store, log_key_decode(key.data), value);
        if (err == FF_OK) work->built++;
    }
    store_cursor_close(cursor);
    return err == FF_ERR_NOT_FOUND ? FF_OK : err;
}

ff_err tree_ensure(ff_store *store) {
    store_txn *txn = NULL;
    ff_err err = store_read_begin(store, &txn);
    if (err != FF_OK) return err;
    uint64_t size = 0;
    log_head head;
    err = tree_size_read(txn, store, &size);
    if (err == FF_OK) err = log_head_read(txn, store, &head);
    store_read_end(store, txn);
    if (err != FF_OK) return err;
    if (size > head.sequence) return FF_ERR_TREE_MISMATCH;
    if (size == head.sequence) return FF_OK;
    tree_catch_up_work work = {store, 0};
    err = store_write_run(store, tree_catch_up, &work);
    if (err == FF_OK) {
        fprintf(stderr, "level=info msg=\"built the Merkle tree from the event log\" "
                        "events=%llu data_dir=\"%s\"\n",
                (unsigned long long)work.built, store_data_dir(store));
    }
    return err;
}

void tree_recount_begin(tree_recount *recount) { memset(recount, 0, sizeof *recount); }

ff_err tree_recount_add(tree_recount *recount, const merkle_hash *leaf,
                        tree_row rows[TREE_ROWS_PER_LEAF_MAX], size_t *row_count) {
    const uint64_t n = recount->size;
    merkle_hash current = *leaf;
    unsigned height = 0;
    *row_count = 0;
    for (; (n >> height) & 1; height++) {
        ff_err err = merkle_node_hash(&recount->edge[height], &current, &current);
        if (err != FF_OK) return err;
        if (height + 1 < TREE_K) continue;
        assert(*row_count < TREE_ROWS_PER_LEAF_MAX);
        rows[(*row_count)++] = (tree_row){height + 1, ((n + 1) >> (height + 1)) - 1, current};
    }
    recount->edge[height] = current;
    recount->size = n + 1;
    return FF_OK;
}

ff_err tree_recount_push(store_txn *txn, ff_store *store, tree_recount *recount,
                         const merkle_hash *leaf, char *reason, size_t reason_bytes) {
    tree_row rows[TREE_ROWS_PER_LEAF_MAX];
    size_t count = 0;
    ff_err err = tree_recount_add(recount, leaf, rows, &count);
    for (size_t i = 0; err == FF_OK && i < count; i++) {
        merkle_hash stored;
        err = tree_node_read(txn, store, rows[i].height, rows[i].index, &stored);
        if (err == FF_OK && memcmp(stored.bytes, rows[i].hash.bytes, MERKLE_HASH_BYTES) != 0) {
            err = FF_ERR_TREE_MISMATCH;
        }
        if (err == FF_ERR_TREE_MISMATCH) {
            snprintf(reason, reason_bytes,
                     "the stored hash of events %llu to %llu is missing or differs from theirs",
                     (unsigned long long)(rows[i].index << rows[i].height) + 1,
                     (unsigned long long)((rows[i].index + 1) << rows[i].height));
        }
    }
    return err;
}

ff_err tree_rows_write(store_txn *txn, ff_store *store, const tree_row *rows, size_t count,
                       const tree_recount *recount) {
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < count; i++) {
        err = tree_node_write(txn, store, rows[i].height, rows[i].index, &rows[i].hash);
    }
    if (err != FF_OK) return err;
    /* The stored edge keeps a hash only for each set bit of the size below TREE_K. */
    tree_edge edge = {.size = recount->size};
    for (unsigned h = 0; h < TREE_K; h++) {
        if ((recount->size >> h) & 1) edge.low[h] = recount->edge[h];
    }
    return tree_edge_write(txn, store, &edge);
}

ff_err tree_recount_end(store_txn *txn, ff_store *store, const tree_recount *recount,
                        char *reason, size_t reason_bytes) {
    tree_edge edge;
    ff_err err = tree_edge_read(txn, store, &edge);
    if (err != FF_OK && err != FF_ERR_TREE_MISMATCH) return err;
    bool same = err == FF_OK && edge.size == recount->size;
    for (unsigned h = 0; same && h < TREE_K; h++) {
        if (((recount->size >> h) & 1) == 0) continue;
        same = memcmp(edge.low[h].bytes, recount->edge[h].bytes, MERKLE_HASH_BYTES) == 0;
    }
    if (same) return FF_OK;
    snprintf(reason, reason_bytes,
             "the tree's stored size or right edge (%llu events) is not the log's (%llu events)",
             (unsigned long long)edge.size, (unsigned long long)recount->size);
    return FF_ERR_TREE_MISMATCH;
}

ff_err tree_check(store_txn *txn, ff_store *store, char *reason, size_t reason_bytes) {
    tree_recount recount;
    tree_recount_begin(&recount);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_LOG, &cursor);
    store_slice key, value;
    store_move move = STORE_FIRST;
    while (err == FF_OK && (err = store_cursor_move(cursor, move, &key, &value)) == FF_OK) {
        move = STORE_NEXT;
        merkle_hash leaf;
        err = merkle_leaf_hash(value.data, value.bytes, &leaf);
        if (err == FF_OK) err = tree_recount_push(txn, store, &recount, &leaf, reason,
                                                  reason_bytes);
        /* The walk reads the whole log: its pages are handed back now and then, so the resident
         * set does not grow with the ledger (as verify's own walks do). */
        if (recount.size % FF_REPLAY_EVENTS_PER_TXN == 0) store_map_pages_release(store);
    }
    store_cursor_close(cursor);
    if (err == FF_ERR_NOT_FOUND) err = FF_OK;
    if (err == FF_OK) err = tree_recount_end(txn, store, &recount, reason, reason_bytes);
    return err;
}
