/* The shapes the projection tables share: packed records, history and flow rows, padded codes and
 * period keys. Every projection file writes through these; they call no other projection file.
 */
#ifndef FUNDFLOW_PROJECTION_TABLE_H
#define FUNDFLOW_PROJECTION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

/* Writes a packed record under key; FF_ERR_KEY_EXISTS if mode is STORE_PUT_NEW and it exists. */
ff_err projection_message_put(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessage *message,
                              store_put_mode mode);

/* Reads and unpacks a record; FF_ERR_NOT_FOUND if the key is absent. */
ff_err projection_message_get(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessageDescriptor *descriptor,
                              ProtobufCMessage **message_out);

/* A record decoded for one command and kept, with the bytes it was decoded from, so that a
 * second reader in the same command (the access check, then the projection) need not decode it
 * again: a reader that finds the same bytes stored takes the kept decoding, one that finds other
 * bytes decodes them afresh. Decoding depends only on the bytes, so a kept record can never be
 * stale, whatever was written, refused or rolled back since. Records larger than the slot are
 * held but never matched. */
enum { PROJECTION_MESSAGE_KEPT_BYTES = 1024 };
typedef struct projection_message_kept {
    size_t stored_bytes; /* of stored; 0 when message was not decoded from a kept copy */
    uint8_t stored[PROJECTION_MESSAGE_KEPT_BYTES];
    ProtobufCMessage *message; /* on the heap; NULL when nothing is kept */
} projection_message_kept;

/* The stored bytes value decoded into kept, unless kept already holds their decoding; the record
 * is kept's, valid until kept is next used or released. NULL if value is not a record. */
const ProtobufCMessage *projection_message_keep(projection_message_kept *kept,
                                                const ProtobufCMessageDescriptor *descriptor,
                                                store_slice value);

/* The stored bytes value decoded: kept's record, taken (kept is then empty), if it is their
 * decoding, else decoded now. The caller owns and frees it. NULL if value is not a record. */
ProtobufCMessage *projection_message_take(projection_message_kept *kept,
                                          const ProtobufCMessageDescriptor *descriptor,
                                          store_slice value);

/* projection_message_get into kept: *message_out is kept's (valid until kept is next used or
 * released), decoded now only if kept does not already hold the stored bytes' decoding. */
ff_err projection_message_get_kept(store_txn *txn, ff_store *store, store_table table,
                                   const void *key, size_t key_bytes,
                                   const ProtobufCMessageDescriptor *descriptor,
                                   projection_message_kept *kept,
                                   const ProtobufCMessage **message_out);

/* projection_message_get that takes kept's decoding when it is of the bytes stored (kept is then
 * empty); the caller owns and frees *message_out either way. */
ff_err projection_message_take_kept(store_txn *txn, ff_store *store, store_table table,
                                    const void *key, size_t key_bytes,
                                    const ProtobufCMessageDescriptor *descriptor,
                                    projection_message_kept *kept, ProtobufCMessage **message_out);

/* Frees what kept holds; kept is then empty. */
void projection_message_kept_release(projection_message_kept *kept);

/* The history key: name ++ 0 ++ sequence. */
size_t projection_history_key(const char *name, uint64_t sequence, uint8_t *key, size_t bytes);

/* Records that event sequence concerns name (an organisation code or a contract id). */
ff_err projection_history_add(store_txn *txn, ff_store *store, const char *name,
                              uint64_t sequence);

/* Records that event sequence concerns each of names, once each however often they are listed. */
ff_err projection_history_add_names(store_txn *txn, ff_store *store, const char *const *names,
                                    size_t name_count, uint64_t sequence, ff_failure *failure);

/* Adds delta_pence to the money that has flowed from one organisation to another in a stream and
 * year (negative for a reversal). */
ff_err projection_flow_add(store_txn *txn, ff_store *store, uint32_t year, const char *from_code,
                           const char *to_code, uint32_t stream, int64_t delta_pence,
                           ff_failure *failure);

/* Keeps the flows rows a flat batch adds to in memory, as tree.h keeps the tree's edge: each
 * read from txn once, at its first use, and written back once, by projection_flows_keep_end with
 * write true, only when txn goes on; with write false, or when txn is abandoned, what was kept is
 * forgotten. Nothing but projection_flow_add reads flows in a write transaction. One at a time
 * per thread. */
void projection_flows_keep_begin(store_txn *txn);
ff_err projection_flows_keep_end(store_txn *txn, ff_store *store, bool write);

/* An organisation code as keys store it: space padded to FF_ORG_CODE_BYTES_MAX, no NUL. */
void projection_code_pad(char *target, const char *code);

/* A padded code back into a NUL-terminated one; code holds FF_ORG_CODE_BYTES_MAX + 1 bytes. */
void projection_code_unpad(const uint8_t *padded, char *code);

/* The periods table's key for an organisation's month; returns its length. */
size_t projection_period_key(const char *org_code, uint32_t year, uint32_t month, uint8_t *key);

/* FF_OK if the organisation's month is open, FF_ERR_PERIOD_CLOSED if it is closed, or the
 * store's error. Fills no failure: callers word their own. */
ff_err projection_period_open(store_txn *txn, ff_store *store, const char *org_code,
                              uint32_t year, uint32_t month);

/* Checks that a money event's effective date falls inside its financial year (1 April to 31
 * March); the failure is FF_ERR_DATE_OUTSIDE_YEAR naming effective_date and the year's days. */
ff_err projection_date_in_year_check(uint32_t date, uint32_t year, ff_failure *failure);

/* Checks that a date is no earlier than the first day of a financial month of a year; the failure
 * is FF_ERR_DATE_BEFORE_MONTH naming effective_date. */
ff_err projection_date_in_month_check(uint32_t date, uint32_t year, uint32_t month,
                                      ff_failure *failure);

#endif
