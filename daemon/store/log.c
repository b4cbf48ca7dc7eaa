/* Appending to, reading from and checking the hash-chained event log. */
#include "log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

_Static_assert(LOG_KEY_BYTES == sizeof(uint64_t), "a log key is one big-endian uint64_t");

/* A uint64_t between host and big-endian order: one byte swap on the usual little-endian host,
 * instead of a loop of shifts (every key of every table the write path touches goes through it). */
static uint64_t log_big_endian(uint64_t value) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return value;
#else
    return __builtin_bswap64(value);
#endif
}

void log_key_encode(uint64_t sequence, uint8_t key[LOG_KEY_BYTES]) {
    uint64_t big_endian = log_big_endian(sequence);
    memcpy(key, &big_endian, LOG_KEY_BYTES);
}

uint64_t log_key_decode(const uint8_t key[LOG_KEY_BYTES]) {
    uint64_t big_endian;
    memcpy(&big_endian, key, LOG_KEY_BYTES);
    return log_big_endian(big_endian);
}

static bool log_trailer_valid(store_slice value) {
    if (value.bytes < LOG_HASH_TRAILER_BYTES) return false;
    const uint8_t *trailer = (const uint8_t *)value.data + value.bytes - LOG_HASH_TRAILER_BYTES;
    return trailer[0] == ((15 << 3) | 2) && trailer[1] == DIGEST_BYTES;
}

/* What every record must be as it goes into the log: the next sequence, chained to the head, with
 * a whole hash trailer. Checked before the bytes are written. */
static void log_record_assert_valid(const Fundflow__V1__EventRecord *record, const log_head *head,
                                    store_slice stored) {
    assert(record->sequence >= 1 && record->sequence == head->sequence + 1);
    assert(record->event != NULL && record->idempotency_key != NULL && record->actor != NULL);
    assert(stored.bytes > LOG_HASH_TRAILER_BYTES && log_trailer_valid(stored));
}

ff_err log_head_read(store_txn *txn, ff_store *store, log_head *head_out) {
    memset(head_out, 0, sizeof *head_out);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_LOG, &cursor);
    if (err != FF_OK) return err;
    store_slice key, value;
    err = store_cursor_move(cursor, STORE_LAST, &key, &value);
    store_cursor_close(cursor);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    if (key.bytes != LOG_KEY_BYTES || !log_trailer_valid(value)) return FF_ERR_LOG_DECODE;
    head_out->sequence = log_key_decode(key.data);
    assert(head_out->sequence >= 1);
    memcpy(head_out->hash, (const uint8_t *)value.data + value.bytes - DIGEST_BYTES, DIGEST_BYTES);
    return FF_OK;
}

/* Packs record after head into stored bytes with the hash trailer; *stored_out is the caller's
 * to free. */
static ff_err log_record_pack(Fundflow__V1__EventRecord *record, const log_head *head,
                              uint8_t **stored_out, size_t *stored_bytes_out) {
    record->previous_hash.data = (uint8_t *)head->hash;
    record->previous_hash.len = DIGEST_BYTES;
    size_t canonical_bytes = fundflow__v1__event_record__get_packed_size(record);
    uint8_t *stored = malloc(canonical_bytes + LOG_HASH_TRAILER_BYTES);
    ff_err err = stored ? FF_OK : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        fundflow__v1__event_record__pack(record, stored);
        uint8_t *trailer = stored + canonical_bytes;
        trailer[0] = (15 << 3) | 2;
        trailer[1] = DIGEST_BYTES;
        err = digest_two_parts(head->hash, DIGEST_BYTES, stored, canonical_bytes, trailer + 2);
    }
    record->previous_hash.data = NULL;
    record->previous_hash.len = 0;
    if (err != FF_OK) {
        free(stored);
        return err;
    }
    *stored_out = stored;
    *stored_bytes_out = canonical_bytes + LOG_HASH_TRAILER_BYTES;
    return FF_OK;
}

/* Writes a record's bytes at the end of the log, only. */
static ff_err log_record_put_untreed(store_txn *txn, ff_store *store, uint64_t sequence,
                                     store_slice value) {
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    return store_put(txn, store, STORE_TABLE_LOG, STORE_SLICE(key_bytes, LOG_KEY_BYTES), value,
                     STORE_PUT_APPEND);
}

/* Writes a record's bytes at the end of the log, and adds them to the log's Merkle tree in the
 * same transaction. */
static ff_err log_record_put(store_txn *txn, ff_store *store, uint64_t sequence,
                             store_slice value) {
    ff_err err = log_record_put_untreed(txn, store, sequence, value);
    return err == FF_OK ? tree_append(txn, store, sequence, value) : err;
}

ff_err log_append(store_txn *txn, ff_store *store, Fundflow__V1__EventRecord *record, log_head *head) {
    assert(record->sequence == head->sequence + 1);
    assert(record->hash.len == 0);
    uint8_t *stored = NULL;
    size_t stored_bytes = 0;
    ff_err err = log_record_pack(record, head, &stored, &stored_bytes);
    if (err != FF_OK) return err;
    store_slice value = STORE_SLICE(stored, stored_bytes);
    log_record_assert_valid(record, head, value);
    err = log_record_put(txn, store, record->sequence, value);
    if (err == FF_OK) {
        head->sequence = record->sequence;
        memcpy(head->hash, stored + stored_bytes - DIGEST_BYTES, DIGEST_BYTES);
    }
    free(stored);
    return err;
}

ff_err log_append_raw(store_txn *txn, ff_store *store, uint64_t sequence, store_slice value) {
    /* Only records that have passed log_record_check are copied, so the trailer is there. */
    assert(sequence >= 1 && log_trailer_valid(value));
    return log_record_put(txn, store, sequence, value);
}

ff_err log_append_raw_without_tree(store_txn *txn, ff_store *store, uint64_t sequence,
                                   store_slice value) {
    assert(sequence >= 1 && log_trailer_valid(value));
    return log_record_put_untreed(txn, store, sequence, value);
}

ff_err log_read_stored(store_txn *txn, ff_store *store, uint64_t sequence, store_slice *value_out) {
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(sequence, key_bytes);
    ff_err err = store_get(txn, store, STORE_TABLE_LOG, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                           value_out);
    return err == FF_ERR_NOT_FOUND ? FF_ERR_EVENT_UNKNOWN : err;
}

void log_record_assert_read(const Fundflow__V1__EventRecord *record, uint64_t sequence) {
    /* Read back, a record is what log_append wrote: its own sequence and two whole hashes. */
    assert(record->sequence == sequence);
    assert(record->hash.len == DIGEST_BYTES);
    assert(record->previous_hash.len == DIGEST_BYTES);
    (void)record;
    (void)sequence;
}

ff_err log_read(store_txn *txn, ff_store *store, uint64_t sequence,
                Fundflow__V1__EventRecord **record_out) {
    *record_out = NULL;
    store_slice value;
    ff_err err = log_read_stored(txn, store, sequence, &value);
    if (err != FF_OK) return err;
    *record_out = fundflow__v1__event_record__unpack(NULL, value.bytes, value.data);
    if (*record_out == NULL) return FF_ERR_LOG_DECODE;
    log_record_assert_read(*record_out, sequence);
    return FF_OK;
}

static ff_err log_record_check_hash(store_slice value, const log_head *previous,
                                    char *reason, size_t reason_bytes) {
    if (!log_trailer_valid(value)) {
        snprintf(reason, reason_bytes, "the record does not end with a 32-byte hash field");
        return FF_ERR_LOG_NOT_CANONICAL;
    }
    size_t canonical_bytes = value.bytes - LOG_HASH_TRAILER_BYTES;
    uint8_t computed[DIGEST_BYTES];
    ff_err err = digest_two_parts(previous->hash, DIGEST_BYTES, value.data, canonical_bytes,
                                  computed);
    if (err != FF_OK) return err;
    if (memcmp(computed, (const uint8_t *)value.data + canonical_bytes + 2, DIGEST_BYTES)) {
        snprintf(reason, reason_bytes,
                 "SHA-256 of the previous hash and the stored bytes differs from the stored hash");
        return FF_ERR_HASH_MISMATCH;
    }
    return FF_OK;
}

static ff_err log_record_check_links(uint64_t key_sequence, const Fundflow__V1__EventRecord *record,
                                     const log_head *previous, char *reason,
                                     size_t reason_bytes) {
    if (record->sequence != key_sequence) {
        snprintf(reason, reason_bytes, "the record says sequence %llu but is stored at %llu",
                 (unsigned long long)record->sequence, (unsigned long long)key_sequence);
        return FF_ERR_CHAIN_BROKEN;
    }
    if (record->previous_hash.len != DIGEST_BYTES ||
        memcmp(record->previous_hash.data, previous->hash, DIGEST_BYTES) != 0) {
        snprintf(reason, reason_bytes, "previous_hash is not the hash of event %llu",
                 (unsigned long long)previous->sequence);
        return FF_ERR_CHAIN_BROKEN;
    }
    return FF_OK;
}

ff_err log_record_check_chain(uint64_t key_sequence, store_slice value, log_head *previous,
                              char *reason, size_t reason_bytes) {
    /* A gap is named as such before the hash is tried, since the hash would fail too. */
    if (key_sequence != previous->sequence + 1) {
        snprintf(reason, reason_bytes, "expected sequence %llu after %llu",
                 (unsigned long long)previous->sequence + 1,
                 (unsigned long long)previous->sequence);
        return FF_ERR_CHAIN_BROKEN;
    }
    ff_err err = log_record_check_hash(value, previous, reason, reason_bytes);
    if (err != FF_OK) return err;
    /* The trailer is the record's last field, so it is the hash the record decodes to. */
    previous->sequence = key_sequence;
    memcpy(previous->hash, (const uint8_t *)value.data + value.bytes - DIGEST_BYTES, DIGEST_BYTES);
    return FF_OK;
}

ff_err log_record_check_decoded(uint64_t key_sequence, store_slice value, log_head *previous,
                                ProtobufCAllocator *allocator,
                                Fundflow__V1__EventRecord **record_out, char *reason,
                                size_t reason_bytes) {
    Fundflow__V1__EventRecord *record =
        fundflow__v1__event_record__unpack(allocator, value.bytes, value.data);
    if (record == NULL) {
        snprintf(reason, reason_bytes, "the record is not a valid EventRecord");
        return FF_ERR_LOG_DECODE;
    }
    ff_err err = log_record_check_links(key_sequence, record, previous, reason, reason_bytes);
    if (err == FF_OK) {
        previous->sequence = key_sequence;
        memcpy(previous->hash, record->hash.data, DIGEST_BYTES);
    }
    if (err == FF_OK && record_out != NULL) {
        *record_out = record;
    } else {
        fundflow__v1__event_record__free_unpacked(record, allocator);
    }
    return err;
}

ff_err log_record_check(uint64_t key_sequence, store_slice value, log_head *previous,
                        Fundflow__V1__EventRecord **record_out, char *reason,
                        size_t reason_bytes) {
    log_head chained = *previous;
    ff_err err = log_record_check_chain(key_sequence, value, &chained, reason, reason_bytes);
    if (err != FF_OK) return err;
    return log_record_check_decoded(key_sequence, value, previous, NULL, record_out, reason,
                                    reason_bytes);
}
