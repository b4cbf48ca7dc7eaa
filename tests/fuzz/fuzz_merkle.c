/* libFuzzer target: hostile proofs and signed heads fed to the verifiers the CLI trusts
 * (merkle/merkle.h, signed_head.h). Neither may crash, read out of bounds or accept what the
 * tree does not prove. The input is read as:
 *
 *   byte 0        what to check: even an inclusion proof, odd a consistency proof
 *   bytes 1-16    two sizes, 8 bytes big-endian each (the leaf and tree size, or first and
 *                 second), reduced below 2^20 half the time so that proofs can be near-valid
 *   then          32-byte hashes: two roots (or a leaf hash and a root), then the proof
 *
 * and the whole input is also decoded as a stored signed head and checked with a fixed key.
 * As an oracle, each input's sizes are also proven over a real tree of up to 64 leaves: the
 * genuine proof must verify and the same proof with the fuzzer's first hash swapped in must
 * not, unless it is the same hash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "signed_head.h"

#define FUZZ_TREE_LEAVES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_u64(const uint8_t *bytes) {
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = (value << 8) | bytes[i];
    return value;
}

typedef struct fuzz_tree {
    merkle_hash leaves[FUZZ_TREE_LEAVES];
} fuzz_tree;

static const fuzz_tree *fuzz_tree_get(void) {
    static fuzz_tree tree;
    static int made;
    if (!made) {
        for (uint32_t i = 0; i < FUZZ_TREE_LEAVES; i++) merkle_leaf_hash(&i, sizeof i, &tree.leaves[i]);
        made = 1;
    }
    return &tree;
}

/* A genuine proof over the real tree verifies, and one hash changed to the fuzzer's does not. */
static void fuzz_oracle(bool consistency, uint64_t a, uint64_t b, const merkle_hash *hostile) {
    const fuzz_tree *tree = fuzz_tree_get();
    merkle_leaves leaves = {tree->leaves, FUZZ_TREE_LEAVES};
    uint64_t second = b % FUZZ_TREE_LEAVES + 1, first = a % second;
    merkle_proof proof;
    merkle_hash first_root, second_root;
    merkle_root(merkle_leaves_subtree, &leaves, first, &first_root);
    merkle_root(merkle_leaves_subtree, &leaves, second, &second_root);
    if (consistency) {
        if (first == 0) first = 1;
        merkle_root(merkle_leaves_subtree, &leaves, first, &first_root);
        merkle_consistency_proof(merkle_leaves_subtree, &leaves, first, second, &proof);
        if (merkle_consistency_verify(first, second, &first_root, &second_root, &proof, NULL) !=
            FF_OK) {
            abort();
        }
        if (proof.count == 0 || memcmp(&proof.hashes[0], hostile, sizeof *hostile) == 0) return;
        proof.hashes[0] = *hostile;
        if (merkle_consistency_verify(first, second, &first_root, &second_root, &proof, NULL) ==
            FF_OK) {
            abort();
        }
        return;
    }
    merkle_inclusion_proof(merkle_leaves_subtree, &leaves, first, second, &proof);
    if (merkle_inclusion_verify(first, second, &tree->leaves[first], &proof, &second_root,
                                NULL) != FF_OK) {
        abort();
    }
    if (proof.count == 0 || memcmp(&proof.hashes[0], hostile, sizeof *hostile) == 0) return;
    proof.hashes[0] = *hostile;
    if (merkle_inclusion_verify(first, second, &tree->leaves[first], &proof, &second_root,
                                NULL) == FF_OK) {
        abort();
    }
}

static void fuzz_head(const uint8_t *data, size_t size) {
    static const uint8_t key[SIGNED_HEAD_KEY_BYTES] = {
        0x53, 0x4e, 0xae, 0x0d, 0x5e, 0xab, 0x8e, 0xc3, 0xd8, 0xff, 0xcd, 0x85, 0xf6, 0x0f,
        0x7e, 0xeb, 0xe7, 0xfc, 0x7e, 0x40, 0x7f, 0xd7, 0x5b, 0x11, 0x2b, 0x69, 0xe7, 0xa9,
        0x8a, 0x35, 0x49, 0x51};
    signed_head head;
    if (signed_head_decode(data, size, &head) == FF_OK) signed_head_verify(&head, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_head(data, size);
    if (size < 17 + 2 * MERKLE_HASH_BYTES) return 0;
    bool consistency = data[0] & 1;
    uint64_t a = fuzz_u64(data + 1), b = fuzz_u64(data + 9);
    if (data[0] & 2) {
        a &= (1u << 20) - 1;
        b &= (1u << 20) - 1;
    }
    merkle_hash first, second;
    memcpy(first.bytes, data + 17, MERKLE_HASH_BYTES);
    memcpy(second.bytes, data + 17 + MERKLE_HASH_BYTES, MERKLE_HASH_BYTES);
    size_t offset = 17 + 2 * MERKLE_HASH_BYTES;
    merkle_proof proof = {0};
    while (proof.count < MERKLE_PROOF_HASHES_MAX && offset + MERKLE_HASH_BYTES <= size) {
        memcpy(proof.hashes[proof.count++].bytes, data + offset, MERKLE_HASH_BYTES);
        offset += MERKLE_HASH_BYTES;
    }
    if (consistency) {
        merkle_consistency_verify(a, b, &first, &second, &proof, NULL);
    } else {
        merkle_inclusion_verify(a, b, &first, &proof, &second, NULL);
    }
    fuzz_oracle(consistency, a, b, &first);
    return 0;
}
