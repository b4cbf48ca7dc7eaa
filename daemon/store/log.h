/* The append-only event log: a hash-chained sequence of packed EventRecords.
 *
 * Keys are 8-byte big-endian sequence numbers starting at 1, written with STORE_PUT_APPEND, so
 * the log is ordered by sequence and a gap or a rewrite is impossible through this interface.
 * Each value is a packed EventRecord whose last field is its hash:
 *
 *     stored bytes = canonical bytes ++ 0x7A 0x20 ++ hash
 *     hash         = SHA-256(previous hash ++ canonical bytes)
 *
 * The hash covers exactly the bytes on disk, so checking it never depends on how protobuf-c would
 * pack the record today.
 */
#ifndef FUNDFLOW_LOG_H
#define FUNDFLOW_LOG_H

#include <stdint.h>

#include "digest.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

typedef struct log_head {
    uint64_t sequence;           /* 0 for an empty log */
    uint8_t hash[DIGEST_BYTES];  /* all zero for an empty log */
} log_head;

#define LOG_KEY_BYTES 8
/* The tag byte and length byte of field 15 (hash), length-delimited, 32 bytes long. */
#define LOG_HASH_TRAILER_BYTES (2 + DIGEST_BYTES)

void log_key_encode(uint64_t sequence, uint8_t key[LOG_KEY_BYTES]);
uint64_t log_key_decode(const uint8_t key[LOG_KEY_BYTES]);

/* Reads the last event's sequence and hash. An empty log gives sequence 0 and a zero hash. */
ff_err log_head_read(store_txn *txn, ff_store *store, log_head *head_out);

/* Appends record after head. record->sequence must already be head->sequence + 1; this sets
 * previous_hash, computes the hash, writes the record and advances *head. The record's hash field
 * is left empty on return. Errors: FF_ERR_NO_MEMORY, FF_ERR_MAP_LIMIT, FF_ERR_STORAGE. */
ff_err log_append(store_txn *txn, ff_store *store, Fundflow__V1__EventRecord *record, log_head *head);

/* Copies an already-stored record's bytes to the end of another store's log, for replays. */
ff_err log_append_raw(store_txn *txn, ff_store *store, uint64_t sequence, store_slice value);

/* log_append_raw without the Merkle tree, for a copy that is thrown away unread (verify's scratch
 * store), or whose tree is written in batches (rebuild, tree_rows_write): the copy's tree is left
 * as it was, so it must be completed before it is kept or served. */
ff_err log_append_raw_without_tree(store_txn *txn, ff_store *store, uint64_t sequence,
                                   store_slice value);

/* Reads and decodes one event. The caller frees *record_out with
 * fundflow__v1__event_record__free_unpacked. Errors: FF_ERR_EVENT_UNKNOWN, FF_ERR_LOG_DECODE. */
ff_err log_read(store_txn *txn, ff_store *store, uint64_t sequence,
                Fundflow__V1__EventRecord **record_out);

/* log_read's halves, for a reader that decodes the bytes its own way (keeping the decoding, say):
 * the stored bytes of one event, valid for txn (FF_ERR_EVENT_UNKNOWN if there is none), and the
 * check, asserted, that a record decoded from them is what log_append wrote. */
ff_err log_read_stored(store_txn *txn, ff_store *store, uint64_t sequence, store_slice *value_out);
void log_record_assert_read(const Fundflow__V1__EventRecord *record, uint64_t sequence);

/* Checks one stored record against the head before it: the hash trailer is present, the hash
 * matches the bytes, the record decodes, its sequence is the key's and the one after previous,
 * and its previous_hash is previous's hash. On success advances *previous to this record and, if
 * record_out is not NULL, hands over the decoded record. On failure writes why into reason. */
ff_err log_record_check(uint64_t key_sequence, store_slice value, log_head *previous,
                        Fundflow__V1__EventRecord **record_out, char *reason, size_t reason_bytes);

/* log_record_check in two halves that may run on different threads, as verify and rebuild run
 * them. The first checks what needs no decoding: the sequence follows previous, the hash
 * trailer is whole and the hash matches the bytes; on success it advances *previous to this
 * record (its hash from the trailer). The second decodes the record (with allocator, NULL for
 * malloc) and checks its sequence and previous_hash against *previous, advancing it and handing
 * over the record (free it with the same allocator) on success; it assumes the first half passed.
 * Both write why into reason on failure. */
ff_err log_record_check_chain(uint64_t key_sequence, store_slice value, log_head *previous,
                              char *reason, size_t reason_bytes);
ff_err log_record_check_decoded(uint64_t key_sequence, store_slice value, log_head *previous,
                                ProtobufCAllocator *allocator,
                                Fundflow__V1__EventRecord **record_out, char *reason,
                                size_t reason_bytes);

#endif
