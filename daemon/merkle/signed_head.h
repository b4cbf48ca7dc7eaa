/* Signed tree heads: a tree size, its root, a timestamp and the signing key's ID, signed with
 * Ed25519 over a fixed byte encoding; and the key ID, SHA-256 of the 32-byte public key.
 *
 * The signed bytes (SIGNED_HEAD_MESSAGE_BYTES, all integers big-endian):
 *
 *     "fundflow-sth-v1\n"  16 bytes, the label (so no other message can pass for a head)
 *     tree_size             8 bytes, events 1..tree_size are in the tree
 *     timestamp_us          8 bytes, microseconds since 1970-01-01 UTC when it was signed
 *     root                 32 bytes, the RFC 9162 root of the tree of tree_size events
 *     key_id               32 bytes, SHA-256 of the signer's public key
 *
 * The signature is PureEdDSA (RFC 8032) over exactly those 96 bytes. A stored head (the data
 * directory's signed_head file) is those 96 bytes followed by the 64-byte signature.
 * Needs only libcrypto; any thread.
 */
#ifndef FUNDFLOW_SIGNED_HEAD_H
#define FUNDFLOW_SIGNED_HEAD_H

#include <openssl/evp.h>

#include "merkle.h"

#define SIGNED_HEAD_LABEL "fundflow-sth-v1\n"
#define SIGNED_HEAD_LABEL_BYTES 16
#define SIGNED_HEAD_KEY_BYTES 32       /* an Ed25519 public key */
#define SIGNED_HEAD_KEY_ID_BYTES 32    /* SHA-256 of the public key */
#define SIGNED_HEAD_SIGNATURE_BYTES 64 /* an Ed25519 signature */
#define SIGNED_HEAD_MESSAGE_BYTES (SIGNED_HEAD_LABEL_BYTES + 8 + 8 + MERKLE_HASH_BYTES + \
                                   SIGNED_HEAD_KEY_ID_BYTES)
#define SIGNED_HEAD_STORED_BYTES (SIGNED_HEAD_MESSAGE_BYTES + SIGNED_HEAD_SIGNATURE_BYTES)

typedef struct signed_head {
    uint64_t tree_size;
    uint64_t timestamp_us;
    merkle_hash root;
    uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES];
    uint8_t signature[SIGNED_HEAD_SIGNATURE_BYTES];
} signed_head;

/* The bytes a head's signature covers. */
void signed_head_message(const signed_head *head, uint8_t message[SIGNED_HEAD_MESSAGE_BYTES]);

/* The stored form (message ++ signature), and back. Decoding fails with FF_ERR_PROOF_MALFORMED
 * for a wrong length or label. */
void signed_head_encode(const signed_head *head, uint8_t stored[SIGNED_HEAD_STORED_BYTES]);
ff_err signed_head_decode(const uint8_t *stored, size_t stored_bytes, signed_head *head_out);

ff_err signed_head_key_id(const uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                          uint8_t key_id_out[SIGNED_HEAD_KEY_ID_BYTES]);

/* The raw 32-byte public key of an Ed25519 key. FF_ERR_SIGNING_KEY_UNUSABLE if not Ed25519. */
ff_err signed_head_public_key(EVP_PKEY *key, uint8_t public_key_out[SIGNED_HEAD_KEY_BYTES]);

/* Sets head->key_id from key and signs the head. */
ff_err signed_head_sign(signed_head *head, EVP_PKEY *key);

/* Checks that head names the key's ID (FF_ERR_KEY_MISMATCH) and that its signature verifies
 * with the key (FF_ERR_SIGNATURE_INVALID). */
ff_err signed_head_verify(const signed_head *head,
                          const uint8_t public_key[SIGNED_HEAD_KEY_BYTES]);

#endif
