/* The event log's RFC 9162 Merkle tree, kept in the merkle table in the same write transaction
 * as every append (log.c calls tree_append), so that the root at any size, and any inclusion or
 * consistency proof, comes without replaying the log.
 *
 * Leaf i (from 0) is the event with sequence i + 1, and its leaf hash is SHA-256(0x00 || the
 * event's stored bytes), hash trailer included. The table holds:
 *
 *     key 0x00                       -> size (8 bytes big-endian) ++ FF_TREE_STORED_HEIGHT_MIN
 *                                       hashes: the tree's right edge below that height (the
 *                                       perfect subtree of 2^h leaves at the end of the tree for
 *                                       each set bit h of size; zeros for clear bits)
 *     key height (1) ++ index (8 BE) -> the hash of perfect subtree index at that height, for
 *                                       every height >= FF_TREE_STORED_HEIGHT_MIN
 *
 * A lower subtree of an older size is hashed again from its events (at most 2^3 - 1 of them).
 */
#ifndef FUNDFLOW_TREE_H
#define FUNDFLOW_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "merkle.h"
#include "store.h"

/* Adds the event stored at sequence (its stored bytes) as the tree's next leaf. The tree must
 * hold sequence - 1 leaves, else FF_ERR_TREE_MISMATCH. */
ff_err tree_append(store_txn *txn, ff_store *store, uint64_t sequence, store_slice stored);

/* Keeps the tree's size and right edge in memory while a flat batch appends to txn: read from
 * the table once, at its first use, and written back once, by tree_edge_keep_end, instead of at
 * every append. Every read of the tree in txn in between sees the kept edge. End it whenever the
 * batch ends, with write true only when txn goes on (to be committed, or to hold the next
 * batch): with write false, or when txn is abandoned, what was kept is simply forgotten, so that
 * no other try or transaction ever sees it. One at a time per thread. */
void tree_edge_keep_begin(store_txn *txn);
ff_err tree_edge_keep_end(store_txn *txn, ff_store *store, bool write);

/* How many leaves the tree holds (0 for none or no tree yet). */
ff_err tree_size_read(store_txn *txn, ff_store *store, uint64_t *size_out);

/* The root of the tree of the first size events; FF_ERR_TREE_SIZE_INVALID past the tree. */
ff_err tree_root(store_txn *txn, ff_store *store, uint64_t size, merkle_hash *root_out);

/* The inclusion proof of event sequence in the tree of size events. */
ff_err tree_inclusion_proof(store_txn *txn, ff_store *store, uint64_t sequence, uint64_t size,
                            merkle_proof *proof_out);

/* The consistency proof from the tree of first events to the tree of second. */
ff_err tree_consistency_proof(store_txn *txn, ff_store *store, uint64_t first, uint64_t second,
                              merkle_proof *proof_out);

/* Gives an existing data directory whose tree is missing or behind its log (made before the
 * tree existed) its tree, built from the log in one write transaction, and says so on stderr.
 * FF_ERR_TREE_MISMATCH if the tree is longer than the log. Called once by ledger_open. */
ff_err tree_ensure(ff_store *store);

/* Recomputes the tree from the log in txn and compares every stored hash and the right edge.
 * FF_ERR_TREE_MISMATCH naming the first difference in reason. */
ff_err tree_check(store_txn *txn, ff_store *store, char *reason, size_t reason_bytes);

/* tree_check a leaf at a time, for a walk of the log made for other checks too (verify's chain
 * thread): begin, push each event's leaf hash in order (each stored subtree the leaf completes is
 * compared as it is made), and end by comparing the stored size and right edge. txn is the one
 * the log is walked in. Errors and reasons as tree_check's. */
typedef struct tree_recount {
    uint64_t size;
    merkle_hash edge[64];
} tree_recount;
void tree_recount_begin(tree_recount *recount);

/* A stored subtree's row: its height (>= FF_TREE_STORED_HEIGHT_MIN), index and hash. */
typedef struct tree_row {
    unsigned height;
    uint64_t index;
    merkle_hash hash;
} tree_row;
/* The most rows one leaf completes (one a height). */
#define TREE_ROWS_PER_LEAF_MAX 64

/* The tree built in memory, for a rebuild: adds a leaf to recount and gives the rows of the
 * stored subtrees it completes, which tree_rows_write writes in a batch, with the tree's size
 * and right edge as recount has them then. A tree built so has the same rows as tree_append
 * would have written, and the store's tree must hold exactly the leaves before the batch. */
ff_err tree_recount_add(tree_recount *recount, const merkle_hash *leaf,
                        tree_row rows[TREE_ROWS_PER_LEAF_MAX], size_t *row_count);
ff_err tree_rows_write(store_txn *txn, ff_store *store, const tree_row *rows, size_t count,
                       const tree_recount *recount);
ff_err tree_recount_push(store_txn *txn, ff_store *store, tree_recount *recount,
                         const merkle_hash *leaf, char *reason, size_t reason_bytes);
ff_err tree_recount_end(store_txn *txn, ff_store *store, const tree_recount *recount,
                        char *reason, size_t reason_bytes);

#endif
