/* The rows the projection tables share: packed records, history, flows, padded codes and
 * periods. */
#include "projection_table.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "ledger_write.h"

ff_err projection_message_put(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessage *message,
                              store_put_mode mode) {
    assert(key_bytes > 0 && protobuf_c_message_check(message));
    size_t packed_bytes = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(packed_bytes ? packed_bytes : 1);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    size_t written = protobuf_c_message_pack(message, packed);
    assert(written == packed_bytes);
    ff_err err = ledger_put(txn, store, table, STORE_SLICE(key, key_bytes),
                            STORE_SLICE(packed, packed_bytes), mode);
    free(packed);
    return err;
}

/* Unpacks a stored record onto the heap; FF_ERR_STORAGE if the bytes are not one. */
static ff_err projection_message_decode(const ProtobufCMessageDescriptor *descriptor,
                                        store_slice value, ProtobufCMessage **message_out) {
    *message_out = protobuf_c_message_unpack(descriptor, NULL, value.bytes, value.data);
    if (*message_out == NULL) return FF_ERR_STORAGE;
    assert(protobuf_c_message_check(*message_out));
    return FF_OK;
}

ff_err projection_message_get(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessageDescriptor *descriptor,
                              ProtobufCMessage **message_out) {
    *message_out = NULL;
    store_slice value;
    ff_err err = store_get(txn, store, table, STORE_SLICE(key, key_bytes), &value);
    return err == FF_OK ? projection_message_decode(descriptor, value, message_out) : err;
}

void projection_message_kept_release(projection_message_kept *kept) {
    if (kept->message != NULL) protobuf_c_message_free_unpacked(kept->message, NULL);
    kept->message = NULL;
    kept->stored_bytes = 0;
}

/* Whether kept holds the decoding of value. */
static bool projection_message_kept_matches(const projection_message_kept *kept,
                                            const ProtobufCMessageDescriptor *descriptor,
                                            store_slice value) {
    return kept->message != NULL && kept->message->descriptor == descriptor &&
           kept->stored_bytes == value.bytes && value.bytes > 0 &&
           memcmp(kept->stored, value.data, value.bytes) == 0;
}

const ProtobufCMessage *projection_message_keep(projection_message_kept *kept,
                                                const ProtobufCMessageDescriptor *descriptor,
                                                store_slice value) {
    if (projection_message_kept_matches(kept, descriptor, value)) return kept->message;
    projection_message_kept_release(kept);
    if (projection_message_decode(descriptor, value, &kept->message) != FF_OK) return NULL;
    if (value.bytes <= sizeof kept->stored) {
        memcpy(kept->stored, value.data, value.bytes);
        kept->stored_bytes = value.bytes;
    }
    return kept->message;
}

/* projection_message_take, inlined into its callers: taking is on the write path of every
 * contract command, and most often nothing is kept. */
static inline ProtobufCMessage *projection_message_take_inline(
    projection_message_kept *kept, const ProtobufCMessageDescriptor *descriptor,
    store_slice value) {
    ProtobufCMessage *message = NULL;
    if (projection_message_kept_matches(kept, descriptor, value)) {
        message = kept->message;
        kept->message = NULL;
        kept->stored_bytes = 0;
        return message;
    }
    projection_message_decode(descriptor, value, &message);
    return message;
}

ProtobufCMessage *projection_message_take(projection_message_kept *kept,
                                          const ProtobufCMessageDescriptor *descriptor,
                                          store_slice value) {
    return projection_message_take_inline(kept, descriptor, value);
}

ff_err projection_message_get_kept(store_txn *txn, ff_store *store, store_table table,
                                   const void *key, size_t key_bytes,
                                   const ProtobufCMessageDescriptor *descriptor,
                                   projection_message_kept *kept,
                                   const ProtobufCMessage **message_out) {
    store_slice value;
    ff_err err = store_get(txn, store, table, STORE_SLICE(key, key_bytes), &value);
    *message_out = err == FF_OK ? projection_message_keep(kept, descriptor, value) : NULL;
    return err == FF_OK && *message_out == NULL ? FF_ERR_STORAGE : err;
}

ff_err projection_message_take_kept(store_txn *txn, ff_store *store, store_table table,
                                    const void *key, size_t key_bytes,
                                    const ProtobufCMessageDescriptor *descriptor,
                                    projection_message_kept *kept,
                                    ProtobufCMessage **message_out) {
    store_slice value;
    ff_err err = store_get(txn, store, table, STORE_SLICE(key, key_bytes), &value);
    *message_out = err == FF_OK ? projection_message_take_inline(kept, descriptor, value) : NULL;
    return err == FF_OK && *message_out == NULL ? FF_ERR_STORAGE : err;
}

size_t projection_history_key(const char *name, uint64_t sequence, uint8_t *key, size_t bytes) {
    size_t name_bytes = strlen(name);
    assert(name_bytes + 1 + LOG_KEY_BYTES <= bytes);
    memcpy(key, name, name_bytes);
    key[name_bytes] = 0;
    log_key_encode(sequence, key + name_bytes + 1);
    return name_bytes + 1 + LOG_KEY_BYTES;
}

ff_err projection_history_add(store_txn *txn, ff_store *store, const char *name,
                              uint64_t sequence) {
    assert(sequence >= 1 && name[0] != '\0');
    uint8_t key[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_bytes = projection_history_key(name, sequence, key, sizeof key);
    /* The event is the name's latest, so its row goes after the name's last (layout 3). */
    return ledger_put(txn, store, STORE_TABLE_HISTORY, STORE_SLICE(key, key_bytes),
                      STORE_SLICE(NULL, 0), STORE_PUT_REPLACE_LIKELY_LAST);
}

ff_err projection_history_add_names(store_txn *txn, ff_store *store, const char *const *names,
                                    size_t name_count, uint64_t sequence, ff_failure *failure) {
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < name_count; i++) {
        bool repeated = false;
        for (size_t j = 0; j < i; j++) repeated = repeated || strcmp(names[i], names[j]) == 0;
        if (!repeated) err = projection_history_add(txn, store, names[i], sequence);
    }
    return err ? failure_set(failure, err, NULL, "cannot write the history") : FF_OK;
}

/* The flow key: year ++ from (12, space padded) ++ to (12) ++ stream. */
#define PROJECTION_FLOW_KEY_BYTES (2 + 2 * FF_ORG_CODE_BYTES_MAX + 1)

void projection_code_pad(char *target, const char *code) {
    memset(target, ' ', FF_ORG_CODE_BYTES_MAX);
    memcpy(target, code, strlen(code));
}

void projection_code_unpad(const uint8_t *padded, char *code) {
    size_t length = FF_ORG_CODE_BYTES_MAX;
    while (length > 0 && padded[length - 1] == ' ') length--;
    memcpy(code, padded, length);
    code[length] = '\0';
}

/* Flow totals kept in memory across a flat batch (projection_flows_keep_begin to _end), for the
 * one transaction it was begun for: each row read at its first use, written back once when the
 * batch ends, instead of read and replaced by every transfer. Each thread has its own. */
enum { PROJECTION_FLOWS_KEPT = 16 };

typedef struct projection_flow_kept {
    uint8_t key[PROJECTION_FLOW_KEY_BYTES];
    int64_t total;
    bool changed; /* total differs from the row stored in the transaction */
} projection_flow_kept;

static _Thread_local struct {
    const store_txn *txn; /* NULL when nothing is kept */
    size_t count;
    size_t next; /* the slot given up next once all are taken */
    projection_flow_kept rows[PROJECTION_FLOWS_KEPT];
} projection_flows_kept;

static ff_err projection_flow_stored_read(store_txn *txn, ff_store *store, const uint8_t *key,
                                          int64_t *total) {
    *total = 0;
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_FLOWS,
                           STORE_SLICE(key, PROJECTION_FLOW_KEY_BYTES), &value);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    if (value.bytes != sizeof *total) return FF_ERR_STORAGE;
    memcpy(total, value.data, sizeof *total);
    return FF_OK;
}

static ff_err projection_flow_stored_write(store_txn *txn, ff_store *store, const uint8_t *key,
                                           int64_t total) {
    return ledger_put(txn, store, STORE_TABLE_FLOWS, STORE_SLICE(key, PROJECTION_FLOW_KEY_BYTES),
                      STORE_SLICE(&total, sizeof total), STORE_PUT_REPLACE);
}

/* Writes a kept row back to txn. Its change was counted as a write when it was kept, so the
 * write-back is not counted again: an allocation makes the same count of writes either way. */
static ff_err projection_flow_write_back(store_txn *txn, ff_store *store,
                                         const projection_flow_kept *row) {
    uint64_t counted = ledger_writes_made;
    ff_err err = projection_flow_stored_write(txn, store, row->key, row->total);
    ledger_writes_made = counted;
    return err;
}

void projection_flows_keep_begin(store_txn *txn) {
    assert(txn != NULL && projection_flows_kept.txn == NULL);
    memset(&projection_flows_kept, 0, sizeof projection_flows_kept);
    projection_flows_kept.txn = txn;
}

ff_err projection_flows_keep_end(store_txn *txn, ff_store *store, bool write) {
    assert(projection_flows_kept.txn == txn);
    ff_err err = FF_OK;
    for (size_t i = 0; write && err == FF_OK && i < projection_flows_kept.count; i++) {
        const projection_flow_kept *row = &projection_flows_kept.rows[i];
        if (row->changed) err = projection_flow_write_back(txn, store, row);
    }
    memset(&projection_flows_kept, 0, sizeof projection_flows_kept);
    return err;
}

/* The kept row of key, read from txn into a free slot (writing back the row it held) if it is
 * not kept yet; NULL with *err set if that fails. */
static projection_flow_kept *projection_flow_keep(store_txn *txn, ff_store *store,
                                                  const uint8_t *key, ff_err *err) {
    for (size_t i = 0; i < projection_flows_kept.count; i++) {
        projection_flow_kept *row = &projection_flows_kept.rows[i];
        if (memcmp(row->key, key, PROJECTION_FLOW_KEY_BYTES) == 0) return row;
    }
    size_t slot = projection_flows_kept.count < PROJECTION_FLOWS_KEPT
                      ? projection_flows_kept.count
                      : projection_flows_kept.next++ % PROJECTION_FLOWS_KEPT;
    projection_flow_kept *row = &projection_flows_kept.rows[slot];
    *err = FF_OK;
    if (slot < projection_flows_kept.count && row->changed) {
        *err = projection_flow_write_back(txn, store, row);
    }
    int64_t total = 0;
    if (*err == FF_OK) *err = projection_flow_stored_read(txn, store, key, &total);
    if (*err != FF_OK) return NULL;
    if (slot == projection_flows_kept.count) projection_flows_kept.count++;
    memcpy(row->key, key, PROJECTION_FLOW_KEY_BYTES);
    row->total = total;
    row->changed = false;
    return row;
}

/* Sets the flow of key to total in txn: kept during a flat batch, else stored at once. */
static ff_err projection_flow_total_set(store_txn *txn, ff_store *store, const uint8_t *key,
                                        projection_flow_kept *kept, int64_t total) {
    if (kept == NULL) return projection_flow_stored_write(txn, store, key, total);
    kept->total = total;
    kept->changed = true;
    /* Counted as a write, as ledger_put would: a command refused after it must be replayed. */
    ledger_writes_made++;
    return FF_OK;
}

ff_err projection_flow_add(store_txn *txn, ff_store *store, uint32_t year, const char *from_code,
                           const char *to_code, uint32_t stream, int64_t delta_pence,
                           ff_failure *failure) {
    uint8_t key[PROJECTION_FLOW_KEY_BYTES];
    key[0] = (uint8_t)(year >> 8), key[1] = (uint8_t)year;
    projection_code_pad((char *)key + 2, from_code);
    projection_code_pad((char *)key + 2 + FF_ORG_CODE_BYTES_MAX, to_code);
    key[PROJECTION_FLOW_KEY_BYTES - 1] = (uint8_t)stream;
    int64_t total = 0;
    ff_err err = FF_OK;
    projection_flow_kept *kept = NULL;
    if (txn != NULL && projection_flows_kept.txn == txn) {
        kept = projection_flow_keep(txn, store, key, &err);
        if (kept != NULL) total = kept->total;
    } else {
        err = projection_flow_stored_read(txn, store, key, &total);
    }
    if (err == FF_ERR_STORAGE) return failure_set(failure, FF_ERR_STORAGE, NULL, "flows");
    if (err != FF_OK) return failure_set(failure, err, NULL, "flows");
    /* A flow is what moved less what was reversed, and only what moved can be reversed. */
    assert(total >= 0);
    if (money_add(total, delta_pence, &total) != FF_OK) {
        return failure_set(failure, FF_ERR_SUM_OVERFLOW, "amount_pence",
                           "the flow from %s to %s would overflow", from_code, to_code);
    }
    assert(total >= 0);
    err = projection_flow_total_set(txn, store, key, kept, total);
    return err ? failure_set(failure, err, NULL, "cannot write a flow") : FF_OK;
}

size_t projection_period_key(const char *org_code, uint32_t year, uint32_t month, uint8_t *key) {
    projection_code_pad((char *)key, org_code);
    key[FF_ORG_CODE_BYTES_MAX] = (uint8_t)(year >> 8);
    key[FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)year;
    key[FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)month;
    return FF_ORG_CODE_BYTES_MAX + 3;
}

ff_err projection_period_open(store_txn *txn, ff_store *store, const char *org_code,
                              uint32_t year, uint32_t month) {
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 3];
    size_t key_bytes = projection_period_key(org_code, year, month, key);
    store_slice closing;
    ff_err err = store_get(txn, store, STORE_TABLE_PERIODS, STORE_SLICE(key, key_bytes), &closing);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    /* A closed period holds the sequence of the event that closed it. */
    assert(closing.bytes == LOG_KEY_BYTES && log_key_decode(closing.data) >= 1);
    return FF_ERR_PERIOD_CLOSED;
}

ff_err projection_date_in_year_check(uint32_t date, uint32_t year, ff_failure *failure) {
    uint32_t first = calendar_year_first_date(year), last = calendar_year_last_date(year);
    if (date >= first && date <= last) return FF_OK;
    char day[CALENDAR_DATE_TEXT_BYTES], from[CALENDAR_DATE_TEXT_BYTES], to[CALENDAR_DATE_TEXT_BYTES];
    char name[CALENDAR_YEAR_TEXT_BYTES];
    calendar_date_format(date, day, sizeof day);
    calendar_date_format(first, from, sizeof from);
    calendar_date_format(last, to, sizeof to);
    calendar_year_format(year, name, sizeof name);
    return failure_set(failure, FF_ERR_DATE_OUTSIDE_YEAR, "effective_date",
                       "effective_date %s is outside %s, which runs from %s to %s", day, name,
                       from, to);
}

ff_err projection_date_in_month_check(uint32_t date, uint32_t year, uint32_t month,
                                      ff_failure *failure) {
    uint32_t first = calendar_month_first_date(year, month);
    if (date >= first) return FF_OK;
    char day[CALENDAR_DATE_TEXT_BYTES], from[CALENDAR_DATE_TEXT_BYTES];
    char name[CALENDAR_YEAR_TEXT_BYTES];
    calendar_date_format(date, day, sizeof day);
    calendar_date_format(first, from, sizeof from);
    calendar_year_format(year, name, sizeof name);
    return failure_set(failure, FF_ERR_DATE_BEFORE_MONTH, "effective_date",
                       "effective_date %s is before M%u of %s, which starts on %s; a payment "
                       "made ahead of its month says paid_in_advance",
                       day, month, name, from);
}
