/* Tests of RFC 9162 tree hashing and proofs (merkle/merkle.c) and of signed tree heads
 * (merkle/signed_head.c): known answers on small trees, every proof up to 64 leaves generated
 * and verified, and tampered proofs and heads refused.
 *
 * Known answers. The eight leaves are Certificate Transparency's published test leaves, and
 * their roots for sizes 1 to 8 are the published ones (an independent check of the hashing).
 * The tables of proofs below are worked from RFC 9162's definitions; each hash of a proof is
 * written as the range [a, b) of leaves it is MTH of. Two worked by hand, with the RFC's
 * split k = the largest power of two below n:
 *
 *   PATH(2, D[7]): k = 4, 2 < 4, so PATH(2, D[0:4]) : MTH(D[4:7]);
 *                  PATH(2, D[0:4]): k = 2, 2 >= 2, so PATH(0, D[2:4]) : MTH(D[0:2]);
 *                  PATH(0, D[2:4]): k = 1, 0 < 1, so PATH(0, D[2:3]) : MTH(D[3:4]) = {} : [3,4).
 *                  The path is [3,4) [0,2) [4,7): the row {2, 7, 3, ...} below.
 *   PROOF(3, D[7]) = SUBPROOF(3, D[7], true): k = 4, 3 <= 4, so SUBPROOF(3, D[0:4], true) :
 *                  [4,7); SUBPROOF(3, D[0:4], true): k = 2, 3 > 2, so SUBPROOF(1, D[2:4], false)
 *                  : [0,2); SUBPROOF(1, D[2:4], false): k = 1, 1 <= 1, so SUBPROOF(1, D[2:3],
 *                  false) : [3,4) = [2,3) : [3,4). The proof is [2,3) [3,4) [0,2) [4,7).
 *
 * The RFC's own example (§2.1.5, seven leaves a..j) is in the tables: the inclusion proof of d0
 * is [b, h, l] = [1,2) [2,4) [4,7), of d3 [c, g, l] = [2,3) [0,2) [4,7), of d4 [f, j, k] =
 * [5,6) [6,7) [0,4), of d6 [i, k] = [4,6) [0,4); the consistency proof from 3 leaves is
 * [c, d, g, l], from 4 [l] = [4,7), from 6 [i, j, k] = [4,6) [6,7) [0,4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"
#include "signed_head.h"

#define EXHAUSTIVE_LEAVES 64

typedef struct kat_range {
    uint64_t start, end;
} kat_range;

typedef struct kat_inclusion {
    uint64_t leaf, size;
    size_t count;
    kat_range path[3];
} kat_inclusion;

typedef struct kat_consistency {
    uint64_t first, second;
    size_t count;
    kat_range proof[4];
} kat_consistency;

/* Inclusion proofs for every leaf of every tree of 1 to 8 leaves, and consistency proofs for
 * every pair of sizes 1 <= first <= second <= 8 (empty when first == second). */
static const kat_inclusion kat_inclusions[] = {
    {0, 1, 0, {{0, 0}}},
    {0, 2, 1, {{1, 2}}},
    {1, 2, 1, {{0, 1}}},
    {0, 3, 2, {{1, 2}, {2, 3}}},
    {1, 3, 2, {{0, 1}, {2, 3}}},
    {2, 3, 1, {{0, 2}}},
    {0, 4, 2, {{1, 2}, {2, 4}}},
    {1, 4, 2, {{0, 1}, {2, 4}}},
    {2, 4, 2, {{3, 4}, {0, 2}}},
    {3, 4, 2, {{2, 3}, {0, 2}}},
    {0, 5, 3, {{1, 2}, {2, 4}, {4, 5}}},
    {1, 5, 3, {{0, 1}, {2, 4}, {4, 5}}},
    {2, 5, 3, {{3, 4}, {0, 2}, {4, 5}}},
    {3, 5, 3, {{2, 3}, {0, 2}, {4, 5}}},
    {4, 5, 1, {{0, 4}}},
    {0, 6, 3, {{1, 2}, {2, 4}, {4, 6}}},
    {1, 6, 3, {{0, 1}, {2, 4}, {4, 6}}},
    {2, 6, 3, {{3, 4}, {0, 2}, {4, 6}}},
    {3, 6, 3, {{2, 3}, {0, 2}, {4, 6}}},
    {4, 6, 2, {{5, 6}, {0, 4}}},
    {5, 6, 2, {{4, 5}, {0, 4}}},
    {0, 7, 3, {{1, 2}, {2, 4}, {4, 7}}},
    {1, 7, 3, {{0, 1}, {2, 4}, {4, 7}}},
    {2, 7, 3, {{3, 4}, {0, 2}, {4, 7}}},
    {3, 7, 3, {{2, 3}, {0, 2}, {4, 7}}},
    {4, 7, 3, {{5, 6}, {6, 7}, {0, 4}}},
    {5, 7, 3, {{4, 5}, {6, 7}, {0, 4}}},
    {6, 7, 2, {{4, 6}, {0, 4}}},
    {0, 8, 3, {{1, 2}, {2, 4}, {4, 8}}},
    {1, 8, 3, {{0, 1}, {2, 4}, {4, 8}}},
    {2, 8, 3, {{3, 4}, {0, 2}, {4, 8}}},
    {3, 8, 3, {{2, 3}, {0, 2}, {4, 8}}},
    {4, 8, 3, {{5, 6}, {6, 8}, {0, 4}}},
    {5, 8, 3, {{4, 5}, {6, 8}, {0, 4}}},
    {6, 8, 3, {{7, 8}, {4, 6}, {0, 4}}},
    {7, 8, 3, {{6, 7}, {4, 6}, {0, 4}}},
};
static const kat_consistency kat_consistencies[] = {
    {1, 1, 0, {{0, 0}}},
    {1, 2, 1, {{1, 2}}},
    {2, 2, 0, {{0, 0}}},
    {1, 3, 2, {{1, 2}, {2, 3}}},
    {2, 3, 1, {{2, 3}}},
    {3, 3, 0, {{0, 0}}},
    {1, 4, 2, {{1, 2}, {2, 4}}},
    {2, 4, 1, {{2, 4}}},
    {3, 4, 3, {{2, 3}, {3, 4}, {0, 2}}},
    {4, 4, 0, {{0, 0}}},
    {1, 5, 3, {{1, 2}, {2, 4}, {4, 5}}},
    {2, 5, 2, {{2, 4}, {4, 5}}},
    {3, 5, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 5}}},
    {4, 5, 1, {{4, 5}}},
    {5, 5, 0, {{0, 0}}},
    {1, 6, 3, {{1, 2}, {2, 4}, {4, 6}}},
    {2, 6, 2, {{2, 4}, {4, 6}}},
    {3, 6, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 6}}},
    {4, 6, 1, {{4, 6}}},
    {5, 6, 3, {{4, 5}, {5, 6}, {0, 4}}},
    {6, 6, 0, {{0, 0}}},
    {1, 7, 3, {{1, 2}, {2, 4}, {4, 7}}},
    {2, 7, 2, {{2, 4}, {4, 7}}},
    {3, 7, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 7}}},
    {4, 7, 1, {{4, 7}}},
    {5, 7, 4, {{4, 5}, {5, 6}, {6, 7}, {0, 4}}},
    {6, 7, 3, {{4, 6}, {6, 7}, {0, 4}}},
    {7, 7, 0, {{0, 0}}},
    {1, 8, 3, {{1, 2}, {2, 4}, {4, 8}}},
    {2, 8, 2, {{2, 4}, {4, 8}}},
    {3, 8, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 8}}},
    {4, 8, 1, {{4, 8}}},
    {5, 8, 4, {{4, 5}, {5, 6}, {6, 8}, {0, 4}}},
    {6, 8, 3, {{4, 6}, {6, 8}, {0, 4}}},
    {7, 8, 4, {{6, 7}, {7, 8}, {4, 6}, {0, 4}}},
    {8, 8, 0, {{0, 0}}},
};

/* A tree held in memory: its leaf hashes. */
typedef struct memory_tree {
    merkle_hash leaves[EXHAUSTIVE_LEAVES];
    size_t count;
    unsigned source_calls;
} memory_tree;

/* The library's in-memory source, counting what it is asked and checking every ask is a
 * perfect, aligned subtree inside the tree. */
static ff_err memory_subtree(void *context, uint64_t start, unsigned height, merkle_hash *out) {
    memory_tree *tree = context;
    tree->source_calls++;
    assert_true(start % (1ULL << height) == 0);
    assert_true(start + (1ULL << height) <= tree->count);
    merkle_leaves leaves = {tree->leaves, tree->count};
    return merkle_leaves_subtree(&leaves, start, height, out);
}

static void hex_decode(const char *hex, uint8_t *out, size_t bytes) {
    assert_int_equal(strlen(hex), bytes * 2);
    for (size_t i = 0; i < bytes; i++) {
        unsigned value;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &value), 1);
        out[i] = (uint8_t)value;
    }
}

/* Certificate Transparency's eight test leaves. */
static void ct_tree(memory_tree *tree) {
    static const char *const leaves[8] = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"};
    memset(tree, 0, sizeof *tree);
    for (size_t i = 0; i < 8; i++) {
        uint8_t bytes[16];
        size_t length = strlen(leaves[i]) / 2;
        hex_decode(leaves[i], bytes, length);
        assert_int_equal(merkle_leaf_hash(bytes, length, &tree->leaves[i]), FF_OK);
    }
    tree->count = 8;
}

/* Leaves 0..count-1 whose bytes are their own index, four bytes big-endian. */
static void counted_tree(memory_tree *tree, size_t count) {
    memset(tree, 0, sizeof *tree);
    for (size_t i = 0; i < count; i++) {
        uint8_t bytes[4] = {0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        assert_int_equal(merkle_leaf_hash(bytes, sizeof bytes, &tree->leaves[i]), FF_OK);
    }
    tree->count = count;
}

static void range_hash(memory_tree *tree, kat_range range, merkle_hash *out) {
    assert_int_equal(merkle_range_hash(memory_subtree, tree, range.start, range.end, out), FF_OK);
}

static void root_of(memory_tree *tree, uint64_t size, merkle_hash *out) {
    assert_int_equal(merkle_root(memory_subtree, tree, size, out), FF_OK);
}

static void test_ct_roots(void **state) {
    (void)state;
    static const char *const roots[9] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* SHA-256("") */
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
    memory_tree tree;
    ct_tree(&tree);
    for (uint64_t size = 0; size <= 8; size++) {
        merkle_hash expected, root;
        hex_decode(roots[size], expected.bytes, MERKLE_HASH_BYTES);
        root_of(&tree, size, &root);
        assert_memory_equal(root.bytes, expected.bytes, MERKLE_HASH_BYTES);
    }
}

/* The split by hand: 5 leaves are node(node(node(L0, L1), node(L2, L3)), L4), 6 leaves
 * node(N0123, node(L4, L5)), 7 leaves node(N0123, node(N45, L6)). */
static void test_shapes_by_hand(void **state) {
    (void)state;
    memory_tree tree;
    ct_tree(&tree);
    const merkle_hash *l = tree.leaves;
    merkle_hash n01, n23, n0123, n45, n456, want, got;
    merkle_node_hash(&l[0], &l[1], &n01);
    merkle_node_hash(&l[2], &l[3], &n23);
    merkle_node_hash(&n01, &n23, &n0123);
    merkle_node_hash(&n0123, &l[4], &want);
    root_of(&tree, 5, &got);
    assert_memory_equal(got.bytes, want.bytes, MERKLE_HASH_BYTES);
    merkle_node_hash(&l[4], &l[5], &n45);
    merkle_node_hash(&n0123, &n45, &want);
    root_of(&tree, 6, &got);
    assert_memory_equal(got.bytes, want.bytes, MERKLE_HASH_BYTES);
    merkle_node_hash(&n45, &l[6], &n456);
    merkle_node_hash(&n0123, &n456, &want);
    root_of(&tree, 7, &got);
    assert_memory_equal(got.bytes, want.bytes, MERKLE_HASH_BYTES);
    assert_int_equal(merkle_split(2), 1);
    assert_int_equal(merkle_split(5), 4);
    assert_int_equal(merkle_split(8), 4);
    assert_int_equal(merkle_split(9), 8);
}

static void test_inclusion_known_answers(void **state) {
    (void)state;
    memory_tree tree;
    ct_tree(&tree);
    for (size_t i = 0; i < sizeof kat_inclusions / sizeof kat_inclusions[0]; i++) {
        const kat_inclusion *kat = &kat_inclusions[i];
        merkle_proof proof;
        assert_int_equal(merkle_inclusion_proof(memory_subtree, &tree, kat->leaf, kat->size,
                                                &proof), FF_OK);
        assert_int_equal(proof.count, kat->count);
        for (size_t h = 0; h < kat->count; h++) {
            merkle_hash expected;
            range_hash(&tree, kat->path[h], &expected);
            assert_memory_equal(proof.hashes[h].bytes, expected.bytes, MERKLE_HASH_BYTES);
        }
        merkle_hash root;
        root_of(&tree, kat->size, &root);
        assert_int_equal(merkle_inclusion_verify(kat->leaf, kat->size, &tree.leaves[kat->leaf],
                                                 &proof, &root, NULL), FF_OK);
    }
}

static void test_consistency_known_answers(void **state) {
    (void)state;
    memory_tree tree;
    ct_tree(&tree);
    for (size_t i = 0; i < sizeof kat_consistencies / sizeof kat_consistencies[0]; i++) {
        const kat_consistency *kat = &kat_consistencies[i];
        merkle_proof proof;
        assert_int_equal(merkle_consistency_proof(memory_subtree, &tree, kat->first, kat->second,
                                                  &proof), FF_OK);
        assert_int_equal(proof.count, kat->count);
        for (size_t h = 0; h < kat->count; h++) {
            merkle_hash expected;
            range_hash(&tree, kat->proof[h], &expected);
            assert_memory_equal(proof.hashes[h].bytes, expected.bytes, MERKLE_HASH_BYTES);
        }
        merkle_hash first_root, second_root;
        root_of(&tree, kat->first, &first_root);
        root_of(&tree, kat->second, &second_root);
        assert_int_equal(merkle_consistency_verify(kat->first, kat->second, &first_root,
                                                   &second_root, &proof, NULL), FF_OK);
    }
}

/* Every way of spoiling one valid inclusion proof is refused: a bit of each byte of each hash,
 * a hash dropped or added, the wrong leaf, the wrong size. */
static void inclusion_tampered_refused(uint64_t leaf, uint64_t size, const merkle_hash *leaf_hash,
                                       const merkle_proof *proof, const merkle_hash *root) {
    merkle_proof bad = *proof;
    for (size_t h = 0; h < proof->count; h++) {
        for (size_t b = 0; b < MERKLE_HASH_BYTES; b++) {
            bad.hashes[h].bytes[b] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(merkle_inclusion_verify(leaf, size, leaf_hash, &bad, root, NULL),
                             FF_ERR_PROOF_ROOT_MISMATCH);
            bad.hashes[h].bytes[b] = proof->hashes[h].bytes[b];
        }
    }
    if (proof->count > 0) {
        bad.count = proof->count - 1;
        assert_int_equal(merkle_inclusion_verify(leaf, size, leaf_hash, &bad, root, NULL),
                         FF_ERR_PROOF_MALFORMED);
    }
    bad.count = proof->count + 1;
    bad.hashes[proof->count] = *root;
    assert_int_equal(merkle_inclusion_verify(leaf, size, leaf_hash, &bad, root, NULL),
                     FF_ERR_PROOF_MALFORMED);
    if (size > 1) {
        assert_int_not_equal(merkle_inclusion_verify(leaf ^ 1, size, leaf_hash, proof, root,
                                                     NULL), FF_OK);
        assert_int_not_equal(merkle_inclusion_verify(leaf, size * 2, leaf_hash, proof, root,
                                                     NULL), FF_OK);
    }
    assert_int_equal(merkle_inclusion_verify(size, size, leaf_hash, proof, root, NULL),
                     FF_ERR_TREE_SIZE_INVALID);
}

static void test_inclusion_exhaustive(void **state) {
    (void)state;
    memory_tree tree;
    counted_tree(&tree, EXHAUSTIVE_LEAVES);
    for (uint64_t size = 1; size <= EXHAUSTIVE_LEAVES; size++) {
        merkle_hash root;
        root_of(&tree, size, &root);
        for (uint64_t leaf = 0; leaf < size; leaf++) {
            merkle_proof proof;
            assert_int_equal(merkle_inclusion_proof(memory_subtree, &tree, leaf, size, &proof),
                             FF_OK);
            assert_int_equal(merkle_inclusion_verify(leaf, size, &tree.leaves[leaf], &proof,
                                                     &root, NULL), FF_OK);
            /* Another leaf's hash at this position fails. */
            uint64_t other = (leaf + 1) % EXHAUSTIVE_LEAVES;
            assert_int_equal(merkle_inclusion_verify(leaf, size, &tree.leaves[other], &proof,
                                                     &root, NULL), FF_ERR_PROOF_ROOT_MISMATCH);
            inclusion_tampered_refused(leaf, size, &tree.leaves[leaf], &proof, &root);
        }
    }
    merkle_proof proof;
    assert_int_equal(merkle_inclusion_proof(memory_subtree, &tree, 5, 5, &proof),
                     FF_ERR_TREE_SIZE_INVALID);
}

static void consistency_tampered_refused(uint64_t first, uint64_t second,
                                         const merkle_hash *first_root,
                                         const merkle_hash *second_root,
                                         const merkle_proof *proof) {
    merkle_proof bad = *proof;
    for (size_t h = 0; h < proof->count; h++) {
        for (size_t b = 0; b < MERKLE_HASH_BYTES; b += 7) {
            bad.hashes[h].bytes[b] ^= 0x80;
            assert_int_equal(merkle_consistency_verify(first, second, first_root, second_root,
                                                       &bad, NULL),
                             FF_ERR_PROOF_ROOT_MISMATCH);
            bad.hashes[h].bytes[b] = proof->hashes[h].bytes[b];
        }
    }
    bad.count = proof->count > 0 ? proof->count - 1 : 1;
    assert_int_not_equal(merkle_consistency_verify(first, second, first_root, second_root, &bad,
                                                   NULL), FF_OK);
    merkle_hash wrong = *first_root;
    wrong.bytes[0] ^= 1;
    assert_int_equal(merkle_consistency_verify(first, second, &wrong, second_root, proof, NULL),
                     FF_ERR_PROOF_ROOT_MISMATCH);
    wrong = *second_root;
    wrong.bytes[31] ^= 1;
    assert_int_equal(merkle_consistency_verify(first, second, first_root, &wrong, proof, NULL),
                     FF_ERR_PROOF_ROOT_MISMATCH);
    /* The sizes swapped: a shorter tree than the head it must extend. */
    if (first != second) {
        assert_int_equal(merkle_consistency_verify(second, first, second_root, first_root, proof,
                                                   NULL), FF_ERR_TREE_SHORTER);
    }
}

static void test_consistency_exhaustive(void **state) {
    (void)state;
    memory_tree tree;
    counted_tree(&tree, EXHAUSTIVE_LEAVES);
    merkle_hash roots[EXHAUSTIVE_LEAVES + 1];
    for (uint64_t size = 0; size <= EXHAUSTIVE_LEAVES; size++) root_of(&tree, size, &roots[size]);
    for (uint64_t second = 1; second <= EXHAUSTIVE_LEAVES; second++) {
        for (uint64_t first = 0; first <= second; first++) {
            merkle_proof proof;
            assert_int_equal(merkle_consistency_proof(memory_subtree, &tree, first, second,
                                                      &proof), FF_OK);
            assert_int_equal(merkle_consistency_verify(first, second, &roots[first],
                                                       &roots[second], &proof, NULL), FF_OK);
            if (first == 0) continue;
            consistency_tampered_refused(first, second, &roots[first], &roots[second], &proof);
            /* The root of another size in place of the first fails. */
            uint64_t other = first - 1;
            if (other > 0) {
                assert_int_not_equal(merkle_consistency_verify(first, second, &roots[other],
                                                               &roots[second], &proof, NULL),
                                     FF_OK);
            }
        }
    }
    merkle_proof proof;
    assert_int_equal(merkle_consistency_proof(memory_subtree, &tree, 9, 8, &proof),
                     FF_ERR_TREE_SIZE_INVALID);
}

/* A range is asked of the source only as perfect, aligned subtrees within the tree (checked in
 * memory_subtree), one per set bit of its size: 7 leaves as 4 + 2 + 1, three asks; 8 leaves, a
 * perfect tree, as one. */
static void test_source_calls(void **state) {
    (void)state;
    memory_tree tree;
    ct_tree(&tree);
    merkle_hash root;
    tree.source_calls = 0;
    assert_int_equal(merkle_range_hash(memory_subtree, &tree, 0, 7, &root), FF_OK);
    assert_int_equal(tree.source_calls, 3);
    tree.source_calls = 0;
    assert_int_equal(merkle_range_hash(memory_subtree, &tree, 0, 8, &root), FF_OK);
    assert_int_equal(tree.source_calls, 1);
}

static EVP_PKEY *key_generate(void) {
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(key);
    return key;
}

static void test_signed_head(void **state) {
    (void)state;
    EVP_PKEY *key = key_generate(), *other = key_generate();
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES], other_public[SIGNED_HEAD_KEY_BYTES];
    assert_int_equal(signed_head_public_key(key, public_key), FF_OK);
    assert_int_equal(signed_head_public_key(other, other_public), FF_OK);
    signed_head head = {.tree_size = 40, .timestamp_us = 1733000000000000ULL};
    memset(head.root.bytes, 0xAB, MERKLE_HASH_BYTES);
    assert_int_equal(signed_head_sign(&head, key), FF_OK);
    assert_int_equal(signed_head_verify(&head, public_key), FF_OK);
    /* The encoding: the label, then size 40 = 0x28 in the last of eight bytes. */
    uint8_t stored[SIGNED_HEAD_STORED_BYTES];
    signed_head_encode(&head, stored);
    assert_memory_equal(stored, "fundflow-sth-v1\n", 16);
    assert_int_equal(stored[16 + 7], 0x28);
    signed_head decoded;
    assert_int_equal(signed_head_decode(stored, sizeof stored, &decoded), FF_OK);
    assert_int_equal(signed_head_verify(&decoded, public_key), FF_OK);
    /* Any changed byte of the stored head fails: in the label as malformed, in the key ID
     * (bytes 64 to 95) as another key's, anywhere else as a bad signature. */
    for (size_t i = 0; i < sizeof stored; i++) {
        stored[i] ^= 0x01;
        ff_err err = signed_head_decode(stored, sizeof stored, &decoded);
        if (i < SIGNED_HEAD_LABEL_BYTES) {
            assert_int_equal(err, FF_ERR_PROOF_MALFORMED);
        } else {
            bool in_key_id = i >= 64 && i < SIGNED_HEAD_MESSAGE_BYTES;
            assert_int_equal(signed_head_verify(&decoded, public_key),
                             in_key_id ? FF_ERR_KEY_MISMATCH : FF_ERR_SIGNATURE_INVALID);
        }
        stored[i] ^= 0x01;
    }
    assert_int_equal(signed_head_decode(stored, sizeof stored - 1, &decoded),
                     FF_ERR_PROOF_MALFORMED);
    assert_int_equal(signed_head_verify(&head, other_public), FF_ERR_KEY_MISMATCH);
    /* A head signed by another key but claiming this key's ID does not verify. */
    signed_head forged = head;
    assert_int_equal(signed_head_sign(&forged, other), FF_OK);
    memcpy(forged.key_id, head.key_id, sizeof forged.key_id);
    assert_int_equal(signed_head_verify(&forged, public_key), FF_ERR_SIGNATURE_INVALID);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_roots),
        cmocka_unit_test(test_shapes_by_hand),
        cmocka_unit_test(test_inclusion_known_answers),
        cmocka_unit_test(test_consistency_known_answers),
        cmocka_unit_test(test_inclusion_exhaustive),
        cmocka_unit_test(test_consistency_exhaustive),
        cmocka_unit_test(test_source_calls),
        cmocka_unit_test(test_signed_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
