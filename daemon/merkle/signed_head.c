/* Signing and checking tree heads with Ed25519 through OpenSSL, over the encoding in
 * signed_head.h. */
#include "signed_head.h"

#include <string.h>

static void signed_head_put_u64(uint8_t *out, uint64_t value) {
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(value & 0xFF);
        value >>= 8;
    }
}

static uint64_t signed_head_get_u64(const uint8_t *in) {
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = (value << 8) | in[i];
    return value;
}

void signed_head_message(const signed_head *head, uint8_t message[SIGNED_HEAD_MESSAGE_BYTES]) {
    uint8_t *at = message;
    memcpy(at, SIGNED_HEAD_LABEL, SIGNED_HEAD_LABEL_BYTES);
    at += SIGNED_HEAD_LABEL_BYTES;
    signed_head_put_u64(at, head->tree_size);
    signed_head_put_u64(at + 8, head->timestamp_us);
    at += 16;
    memcpy(at, head->root.bytes, MERKLE_HASH_BYTES);
    memcpy(at + MERKLE_HASH_BYTES, head->key_id, SIGNED_HEAD_KEY_ID_BYTES);
}

void signed_head_encode(const signed_head *head, uint8_t stored[SIGNED_HEAD_STORED_BYTES]) {
    signed_head_message(head, stored);
    memcpy(stored + SIGNED_HEAD_MESSAGE_BYTES, head->signature, SIGNED_HEAD_SIGNATURE_BYTES);
}

ff_err signed_head_decode(const uint8_t *stored, size_t stored_bytes, signed_head *head_out) {
    memset(head_out, 0, sizeof *head_out);
    if (stored_bytes != SIGNED_HEAD_STORED_BYTES ||
        memcmp(stored, SIGNED_HEAD_LABEL, SIGNED_HEAD_LABEL_BYTES) != 0) {
        return FF_ERR_PROOF_MALFORMED;
    }
    const uint8_t *at = stored + SIGNED_HEAD_LABEL_BYTES;
    head_out->tree_size = signed_head_get_u64(at);
    head_out->timestamp_us = signed_head_get_u64(at + 8);
    at += 16;
    memcpy(head_out->root.bytes, at, MERKLE_HASH_BYTES);
    memcpy(head_out->key_id, at + MERKLE_HASH_BYTES, SIGNED_HEAD_KEY_ID_BYTES);
    memcpy(head_out->signature, stored + SIGNED_HEAD_MESSAGE_BYTES, SIGNED_HEAD_SIGNATURE_BYTES);
    return FF_OK;
}

ff_err signed_head_key_id(const uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                          uint8_t key_id_out[SIGNED_HEAD_KEY_ID_BYTES]) {
    return EVP_Digest(public_key, SIGNED_HEAD_KEY_BYTES, key_id_out, NULL, EVP_sha256(), NULL) == 1
               ? FF_OK
               : FF_ERR_INTERNAL;
}

ff_err signed_head_public_key(EVP_PKEY *key, uint8_t public_key_out[SIGNED_HEAD_KEY_BYTES]) {
    size_t bytes = SIGNED_HEAD_KEY_BYTES;
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(key, public_key_out, &bytes) != 1 ||
        bytes != SIGNED_HEAD_KEY_BYTES) {
        return FF_ERR_SIGNING_KEY_UNUSABLE;
    }
    return FF_OK;
}

ff_err signed_head_sign(signed_head *head, EVP_PKEY *key) {
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    ff_err err = signed_head_public_key(key, public_key);
    if (err == FF_OK) err = signed_head_key_id(public_key, head->key_id);
    if (err != FF_OK) return err;
    uint8_t message[SIGNED_HEAD_MESSAGE_BYTES];
    signed_head_message(head, message);
    size_t signature_bytes = SIGNED_HEAD_SIGNATURE_BYTES;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(context, head->signature, &signature_bytes, message,
                            sizeof message) == 1 &&
             signature_bytes == SIGNED_HEAD_SIGNATURE_BYTES;
    EVP_MD_CTX_free(context);
    return ok ? FF_OK : FF_ERR_INTERNAL;
}

ff_err signed_head_verify(const signed_head *head,
                          const uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES];
    ff_err err = signed_head_key_id(public_key, key_id);
    if (err != FF_OK) return err;
    if (memcmp(key_id, head->key_id, sizeof key_id) != 0) return FF_ERR_KEY_MISMATCH;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key,
                                                SIGNED_HEAD_KEY_BYTES);
    if (key == NULL) return FF_ERR_SIGNATURE_INVALID;
    uint8_t message[SIGNED_HEAD_MESSAGE_BYTES];
    signed_head_message(head, message);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(context, head->signature, SIGNED_HEAD_SIGNATURE_BYTES, message,
                              sizeof message) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok ? FF_OK : FF_ERR_SIGNATURE_INVALID;
}
