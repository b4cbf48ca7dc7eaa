/* RFC 9162 Merkle tree hashing and proofs: generation over a source of subtree hashes, and the
 * RFC's verification algorithms, which need nothing but hashes. */
#include "merkle.h"

#include <assert.h>
#include <string.h>

#include "sha256.h"

enum { MERKLE_LEAF_PREFIX = 0x00, MERKLE_NODE_PREFIX = 0x01 };

/* SHA-256 of prefix ++ first ++ second (second may be empty). */
static ff_err merkle_digest(uint8_t prefix, const void *first, size_t first_bytes,
                            const void *second, size_t second_bytes, merkle_hash *out) {
    const sha256_part parts[] = {{&prefix, 1}, {first, first_bytes}, {second, second_bytes}};
    return sha256_parts(parts, sizeof parts / sizeof parts[0], out->bytes);
}

ff_err merkle_leaf_hash(const void *leaf, size_t leaf_bytes, merkle_hash *out) {
    return merkle_digest(MERKLE_LEAF_PREFIX, leaf, leaf_bytes, NULL, 0, out);
}

ff_err merkle_node_hash(const merkle_hash *left, const merkle_hash *right, merkle_hash *out) {
    return merkle_digest(MERKLE_NODE_PREFIX, left->bytes, MERKLE_HASH_BYTES, right->bytes,
                         MERKLE_HASH_BYTES, out);
}

ff_err merkle_empty_root(merkle_hash *out) { return sha256_parts(NULL, 0, out->bytes); }

uint64_t merkle_split(uint64_t n) {
    assert(n >= 2);
    uint64_t k = 1;
    while (k < n - k) k <<= 1;
    /* k < n <= 2k */
    assert(k < n && n - k <= k);
    return k;
}

static bool merkle_is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

static unsigned merkle_log2(uint64_t power) {
    unsigned height = 0;
    while (power > 1) {
        power >>= 1;
        height++;
    }
    return height;
}

ff_err merkle_leaves_subtree(void *context, uint64_t start, unsigned height, merkle_hash *out) {
    const merkle_leaves *leaves = context;
    assert(height < 64 && start % (1ULL << height) == 0);
    assert(start < leaves->count && (1ULL << height) <= leaves->count - start);
    if (height == 0) {
        *out = leaves->hashes[start];
        return FF_OK;
    }
    merkle_hash left, right;
    ff_err err = merkle_leaves_subtree(context, start, height - 1, &left);
    if (err == FF_OK) {
        err = merkle_leaves_subtree(context, start + (1ULL << (height - 1)), height - 1, &right);
    }
    return err == FF_OK ? merkle_node_hash(&left, &right, out) : err;
}

ff_err merkle_range_hash(merkle_subtree_source source, void *context, uint64_t start,
                         uint64_t end, merkle_hash *out) {
    assert(start < end);
    uint64_t n = end - start;
    if (merkle_is_power_of_two(n)) {
        /* Every range the split makes starts on a multiple of its own perfect size. */
        assert(start % n == 0);
        return source(context, start, merkle_log2(n), out);
    }
    uint64_t k = merkle_split(n);
    merkle_hash left, right;
    ff_err err = merkle_range_hash(source, context, start, start + k, &left);
    if (err == FF_OK) err = merkle_range_hash(source, context, start + k, end, &right);
    if (err == FF_OK) err = merkle_node_hash(&left, &right, out);
    return err;
}

ff_err merkle_root(merkle_subtree_source source, void *context, uint64_t size, merkle_hash *out) {
    if (size == 0) return merkle_empty_root(out);
    return merkle_range_hash(source, context, 0, size, out);
}

static ff_err merkle_proof_push(merkle_proof *proof, merkle_subtree_source source, void *context,
                                uint64_t start, uint64_t end) {
    assert(proof->count < MERKLE_PROOF_HASHES_MAX);
    ff_err err = merkle_range_hash(source, context, start, end, &proof->hashes[proof->count]);
    if (err == FF_OK) proof->count++;
    return err;
}

/* PATH(leaf, D[start:end]): the inner path first, then the sibling at this level. */
static ff_err merkle_path(merkle_subtree_source source, void *context, uint64_t leaf,
                          uint64_t start, uint64_t end, merkle_proof *proof) {
    assert(start <= leaf && leaf < end);
    if (end - start == 1) return FF_OK;
    uint64_t k = merkle_split(end - start);
    if (leaf < start + k) {
        ff_err err = merkle_path(source, context, leaf, start, start + k, proof);
        return err == FF_OK ? merkle_proof_push(proof, source, context, start + k, end) : err;
    }
    ff_err err = merkle_path(source, context, leaf, start + k, end, proof);
    return err == FF_OK ? merkle_proof_push(proof, source, context, start, start + k) : err;
}

ff_err merkle_inclusion_proof(merkle_subtree_source source, void *context, uint64_t leaf,
                              uint64_t size, merkle_proof *proof_out) {
    proof_out->count = 0;
    if (leaf >= size) return FF_ERR_TREE_SIZE_INVALID;
    return merkle_path(source, context, leaf, 0, size, proof_out);
}

/* SUBPROOF(first, D[start:end], whole): first counts leaves from start. */
static ff_err merkle_subproof(merkle_subtree_source source, void *context, uint64_t first,
                              uint64_t start, uint64_t end, bool whole, merkle_proof *proof) {
    assert(first >= 1 && start + first <= end);
    if (start + first == end) {
        return whole ? FF_OK : merkle_proof_push(proof, source, context, start, end);
    }
    uint64_t k = merkle_split(end - start);
    if (first <= k) {
        ff_err err = merkle_subproof(source, context, first, start, start + k, whole, proof);
        return err == FF_OK ? merkle_proof_push(proof, source, context, start + k, end) : err;
    }
    ff_err err = merkle_subproof(source, context, first - k, start + k, end, false, proof);
    return err == FF_OK ? merkle_proof_push(proof, source, context, start, start + k) : err;
}

ff_err merkle_consistency_proof(merkle_subtree_source source, void *context, uint64_t first,
                                uint64_t second, merkle_proof *proof_out) {
    proof_out->count = 0;
    if (first > second) return FF_ERR_TREE_SIZE_INVALID;
    if (first == 0 || first == second) return FF_OK;
    return merkle_subproof(source, context, first, 0, second, true, proof_out);
}

static void merkle_why(const char **why, const char *sentence) {
    if (why != NULL) *why = sentence;
}

/* Shifts fn and sn right together until fn's lowest bit is set or fn is 0. */
static void merkle_shift_to_set_bit(uint64_t *fn, uint64_t *sn) {
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

ff_err merkle_inclusion_verify(uint64_t leaf, uint64_t size, const merkle_hash *leaf_hash,
                               const merkle_proof *proof, const merkle_hash *root,
                               const char **why) {
    merkle_why(why, "the proof checks out");
    if (leaf >= size) {
        merkle_why(why, "the leaf is not inside the tree");
        return FF_ERR_TREE_SIZE_INVALID;
    }
    if (proof->count > MERKLE_PROOF_HASHES_MAX) {
        merkle_why(why, "the proof has more hashes than any tree needs");
        return FF_ERR_PROOF_MALFORMED;
    }
    uint64_t fn = leaf, sn = size - 1;
    merkle_hash r = *leaf_hash;
    for (size_t i = 0; i < proof->count; i++) {
        if (sn == 0) {
            merkle_why(why, "the proof has more hashes than the tree's height");
            return FF_ERR_PROOF_MALFORMED;
        }
        ff_err err;
        if ((fn & 1) || fn == sn) {
            err = merkle_node_hash(&proof->hashes[i], &r, &r);
            if (!(fn & 1)) merkle_shift_to_set_bit(&fn, &sn);
        } else {
            err = merkle_node_hash(&r, &proof->hashes[i], &r);
        }
        if (err != FF_OK) return err;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        merkle_why(why, "the proof has fewer hashes than the tree's height");
        return FF_ERR_PROOF_MALFORMED;
    }
    if (memcmp(r.bytes, root->bytes, MERKLE_HASH_BYTES) != 0) {
        merkle_why(why, "the event's hash and the proof do not lead to the head's root");
        return FF_ERR_PROOF_ROOT_MISMATCH;
    }
    return FF_OK;
}

/* The edge cases RFC 9162 leaves to the caller: a shrunk tree, the empty tree, one size twice.
 * Sets *decided when the answer is known without walking a proof. */
static ff_err merkle_consistency_edges(uint64_t first, uint64_t second,
                                       const merkle_hash *first_root,
                                       const merkle_hash *second_root, const merkle_proof *proof,
                                       const char **why, bool *decided) {
    *decided = true;
    if (first > second) {
        merkle_why(why, "the tree is shorter than the head it must extend");
        return FF_ERR_TREE_SHORTER;
    }
    if ((first == 0 || first == second) && proof->count != 0) {
        merkle_why(why, "a proof between these sizes must be empty");
        return FF_ERR_PROOF_MALFORMED;
    }
    if (first == 0) return FF_OK;
    if (first == second) {
        if (memcmp(first_root->bytes, second_root->bytes, MERKLE_HASH_BYTES) == 0) return FF_OK;
        merkle_why(why, "two heads of the same size have different roots");
        return FF_ERR_PROOF_ROOT_MISMATCH;
    }
    if (proof->count == 0 || proof->count > MERKLE_PROOF_HASHES_MAX) {
        merkle_why(why, proof->count == 0 ? "the proof is empty"
                                          : "the proof has more hashes than any tree needs");
        return FF_ERR_PROOF_MALFORMED;
    }
    *decided = false;
    return FF_OK;
}

ff_err merkle_consistency_verify(uint64_t first, uint64_t second, const merkle_hash *first_root,
                                 const merkle_hash *second_root, const merkle_proof *proof,
                                 const char **why) {
    merkle_why(why, "the proof checks out");
    bool decided;
    ff_err err = merkle_consistency_edges(first, second, first_root, second_root, proof, why,
                                          &decided);
    if (decided) return err;
    /* A first size that is a power of two is a whole subtree of the second tree: its root
     * starts the path, as though prepended to the proof. */
    bool prepended = merkle_is_power_of_two(first);
    size_t count = proof->count + (prepended ? 1 : 0);
#define MERKLE_PATH_AT(i) (prepended ? ((i) == 0 ? first_root : &proof->hashes[(i) - 1]) \
                                     : &proof->hashes[(i)])
    uint64_t fn = first - 1, sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    merkle_hash fr = *MERKLE_PATH_AT(0), sr = fr;
    for (size_t i = 1; i < count && err == FF_OK; i++) {
        const merkle_hash *c = MERKLE_PATH_AT(i);
        if (sn == 0) {
            merkle_why(why, "the proof has more hashes than the sizes need");
            return FF_ERR_PROOF_MALFORMED;
        }
        if ((fn & 1) || fn == sn) {
            err = merkle_node_hash(c, &fr, &fr);
            if (err == FF_OK) err = merkle_node_hash(c, &sr, &sr);
            if (!(fn & 1)) merkle_shift_to_set_bit(&fn, &sn);
        } else {
            err = merkle_node_hash(&sr, c, &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef MERKLE_PATH_AT
    if (err != FF_OK) return err;
    if (sn != 0) {
        merkle_why(why, "the proof has fewer hashes than the sizes need");
        return FF_ERR_PROOF_MALFORMED;
    }
    if (memcmp(fr.bytes, first_root->bytes, MERKLE_HASH_BYTES) != 0) {
        merkle_why(why, "the older head's root does not match the consistency proof: the events "
                        "it covered are no longer the same");
        return FF_ERR_PROOF_ROOT_MISMATCH;
    }
    if (memcmp(sr.bytes, second_root->bytes, MERKLE_HASH_BYTES) != 0) {
        merkle_why(why, "the newer head's root does not match the consistency proof");
        return FF_ERR_PROOF_ROOT_MISMATCH;
    }
    return FF_OK;
}
