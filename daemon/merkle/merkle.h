/* RFC 9162 Merkle tree hashing, inclusion and consistency proofs: generated from any source of
 * perfect-subtree hashes, and verified with nothing but hashes, so that the server's store and
 * the command-line client (which trusts only a public key) share one definition.
 *
 *     leaf hash  = SHA-256(0x00 || leaf bytes)
 *     node hash  = SHA-256(0x01 || left || right)
 *     MTH({})    = SHA-256()                       (the empty tree)
 *     MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))  k the largest power of two below n
 *
 * Leaves are numbered from 0; the ledger's event with sequence s is leaf s - 1, and the tree of
 * size n holds events 1..n. Needs only libcrypto; any thread.
 */
#ifndef FUNDFLOW_MERKLE_H
#define FUNDFLOW_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

#define MERKLE_HASH_BYTES 32
/* A proof for a tree of up to 2^64 leaves has at most 64 hashes on its path, and a consistency
 * proof one more at the bottom of its recursion. A longer one is refused before it is read. */
#define MERKLE_PROOF_HASHES_MAX 65

typedef struct merkle_hash {
    uint8_t bytes[MERKLE_HASH_BYTES];
} merkle_hash;

typedef struct merkle_proof {
    size_t count;
    merkle_hash hashes[MERKLE_PROOF_HASHES_MAX];
} merkle_proof;

ff_err merkle_leaf_hash(const void *leaf, size_t leaf_bytes, merkle_hash *out);
ff_err merkle_node_hash(const merkle_hash *left, const merkle_hash *right, merkle_hash *out);
/* SHA-256 of nothing: the root of the empty tree. */
ff_err merkle_empty_root(merkle_hash *out);

/* The largest power of two strictly below n (n >= 2). */
uint64_t merkle_split(uint64_t n);

/* Gives the hash of the perfect subtree of 2^height leaves starting at leaf start (a multiple of
 * 2^height). Errors are passed up unchanged. */
typedef ff_err (*merkle_subtree_source)(void *context, uint64_t start, unsigned height,
                                        merkle_hash *out);

/* A source over leaf hashes held in memory: context is a merkle_leaves. Each subtree is hashed
 * from its leaves, so it suits small trees (tests, fuzzing) rather than a ledger. */
typedef struct merkle_leaves {
    const merkle_hash *hashes;
    uint64_t count;
} merkle_leaves;
ff_err merkle_leaves_subtree(void *context, uint64_t start, unsigned height, merkle_hash *out);

/* MTH(D[start:end]) for start < end, asking source only for the perfect subtrees that the RFC's
 * split makes of the range (start must be a multiple of the largest power of two <= end-start,
 * which every range met in a proof is). */
ff_err merkle_range_hash(merkle_subtree_source source, void *context, uint64_t start,
                         uint64_t end, merkle_hash *out);

/* The root of the tree of size leaves (size 0: the empty tree's). */
ff_err merkle_root(merkle_subtree_source source, void *context, uint64_t size, merkle_hash *out);

/* PATH(leaf, D[size]) of RFC 9162 §2.1.3.1. FF_ERR_TREE_SIZE_INVALID unless leaf < size. */
ff_err merkle_inclusion_proof(merkle_subtree_source source, void *context, uint64_t leaf,
                              uint64_t size, merkle_proof *proof_out);

/* PROOF(first, D[second]) of RFC 9162 §2.1.4.1: empty when first is 0 or equals second.
 * FF_ERR_TREE_SIZE_INVALID when first > second. */
ff_err merkle_consistency_proof(merkle_subtree_source source, void *context, uint64_t first,
                                uint64_t second, merkle_proof *proof_out);

/* RFC 9162 §2.1.3.2. FF_OK; FF_ERR_TREE_SIZE_INVALID (leaf >= size); FF_ERR_PROOF_MALFORMED
 * (too many or too few hashes); FF_ERR_PROOF_ROOT_MISMATCH. why (if not NULL) gets a sentence. */
ff_err merkle_inclusion_verify(uint64_t leaf, uint64_t size, const merkle_hash *leaf_hash,
                               const merkle_proof *proof, const merkle_hash *root,
                               const char **why);

/* RFC 9162 §2.1.4.2, with its edge cases made explicit: first > second is FF_ERR_TREE_SHORTER;
 * first == second needs an empty proof and equal roots; first == 0 needs an empty proof (the
 * empty tree is a prefix of every tree). Otherwise FF_ERR_PROOF_MALFORMED or
 * FF_ERR_PROOF_ROOT_MISMATCH, why saying which root did not match. */
ff_err merkle_consistency_verify(uint64_t first, uint64_t second, const merkle_hash *first_root,
                                 const merkle_hash *second_root, const merkle_proof *proof,
                                 const char **why);

#endif
