/* Replicated apply: sealing a group into one entry of stored event records, applying entries at
 * replicated indexes on every node, the applied index, and snapshots of the whole store.
 *
 * Entry format, version 1 (integers big-endian):
 *
 *     offset  bytes
 *     0       4      magic "FFRE"
 *     4       2      version (1)
 *     6       2      reserved, zero
 *     8       4      count: the events in the entry, at most FF_REPLICA_ENTRY_EVENTS_MAX
 *     12      32     previous hash: the hash of the head the entry follows (zero: the empty log)
 *     44      32     SHA-256 of the 44 bytes before it and of every byte from offset 76 on
 *     76      ...    count records, each a length (4 bytes) and that many stored bytes: the
 *                    record exactly as the log holds it, hash trailer included (log.h)
 *
 * The digest makes a damaged entry refused as a whole (FF_ERR_REPLICA_ENTRY_INVALID) before its
 * previous hash is believed, so damage can never pass for staleness and be skipped on one node
 * only. Each record is checked again with log_record_check against the running head as it is
 * applied, so an entry that is well formed but does not chain writes nothing either.
 */
#include "ledger_replica.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "ledger_group.h"
#include "logline.h"
#include "tree.h"
#include "verify.h"
#include "fundflow/limits.h"

#define REPLICA_MAGIC "FFRE"
#define REPLICA_MAGIC_BYTES 4
#define REPLICA_VERSION 1
#define REPLICA_COUNT_OFFSET 8
#define REPLICA_PREVIOUS_OFFSET 12
#define REPLICA_DIGEST_OFFSET (REPLICA_PREVIOUS_OFFSET + DIGEST_BYTES)
#define REPLICA_HEADER_BYTES (REPLICA_DIGEST_OFFSET + DIGEST_BYTES)
#define REPLICA_LENGTH_BYTES 4
/* The smallest stored record: at least one byte of record before the hash trailer. */
#define REPLICA_RECORD_BYTES_MIN (LOG_HASH_TRAILER_BYTES + 1)

/* The meta table's key for the last replicated index applied: 8 bytes big-endian. */
static const char replica_applied_key[] = "replica_applied_index";

_Static_assert(FF_REPLICA_ENTRY_EVENTS_MAX >= FF_GROUP_COMMIT_COMMANDS_MAX &&
                   FF_REPLICA_ENTRY_EVENTS_MAX >= FF_BATCH_COMMANDS_MAX,
               "a sealed group of the largest size fits one entry");

static void replica_u32_put(uint8_t *at, uint32_t value) {
    for (int i = 3; i >= 0; i--, value >>= 8) at[i] = (uint8_t)(value & 0xFF);
}

static uint32_t replica_u32_get(const uint8_t *at) {
    return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
}

/* ---- sealing ---- */

void ledger_sealed_group_free(ledger_sealed_group *group) {
    if (group == NULL) return;
    free(group->bytes);
    memset(group, 0, sizeof *group);
}

/* Grows an entry being built to hold more bytes. */
static ff_err replica_bytes_reserve(ledger_sealed_group *group, size_t *capacity, size_t more) {
    if (group->size + more <= *capacity) return FF_OK;
    size_t wanted = (group->size + more) * 2;
    uint8_t *grown = realloc(group->bytes, wanted);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    group->bytes = grown;
    *capacity = wanted;
    return FF_OK;
}

/* Appends one stored record, with its length, to an entry being built. */
static ff_err replica_record_add(ledger_sealed_group *group, size_t *capacity, store_slice value) {
    /* What goes into an entry is what the log accepted: a record with its whole hash trailer. */
    assert(value.bytes >= REPLICA_RECORD_BYTES_MIN && value.bytes <= UINT32_MAX);
    ff_err err = replica_bytes_reserve(group, capacity, REPLICA_LENGTH_BYTES + value.bytes);
    if (err != FF_OK) return err;
    replica_u32_put(group->bytes + group->size, (uint32_t)value.bytes);
    memcpy(group->bytes + group->size + REPLICA_LENGTH_BYTES, value.data, value.bytes);
    group->size += REPLICA_LENGTH_BYTES + value.bytes;
    return FF_OK;
}

/* The digest of a whole entry of size bytes (at least a header's), all but the digest itself. */
static ff_err replica_entry_digest(const uint8_t *bytes, size_t size,
                                   uint8_t digest_out[DIGEST_BYTES]) {
    assert(size >= REPLICA_HEADER_BYTES);
    return digest_two_parts(bytes, REPLICA_DIGEST_OFFSET, bytes + REPLICA_HEADER_BYTES,
                            size - REPLICA_HEADER_BYTES, digest_out);
}

/* Writes the header, the records being in place after it. */
static ff_err replica_header_write(ledger_sealed_group *group, const log_head *before,
                                   uint32_t count) {
    uint8_t *header = group->bytes;
    memcpy(header, REPLICA_MAGIC, REPLICA_MAGIC_BYTES);
    header[4] = 0;
    header[5] = REPLICA_VERSION;
    header[6] = header[7] = 0;
    replica_u32_put(header + REPLICA_COUNT_OFFSET, count);
    memcpy(header + REPLICA_PREVIOUS_OFFSET, before->hash, DIGEST_BYTES);
    return replica_entry_digest(group->bytes, group->size, header + REPLICA_DIGEST_OFFSET);
}

/* ledger_group_seal: the group's new events, read back from its transaction, as one entry. */
static ff_err replica_group_seal(void *argument, store_txn *txn, ff_store *store,
                                 const log_head *before, const log_head *after) {
    ledger_sealed_group *group = argument;
    ledger_sealed_group_free(group); /* a try after the map grew starts afresh */
    uint64_t count = after->sequence - before->sequence;
    if (count == 0) return FF_OK;
    assert(after->sequence > before->sequence && count <= FF_REPLICA_ENTRY_EVENTS_MAX);
    size_t capacity = 0;
    ff_err err = replica_bytes_reserve(group, &capacity, REPLICA_HEADER_BYTES);
    if (err == FF_OK) group->size = REPLICA_HEADER_BYTES;
    store_cursor *cursor = NULL;
    if (err == FF_OK) err = store_cursor_open(txn, store, STORE_TABLE_LOG, &cursor);
    uint8_t first[LOG_KEY_BYTES];
    log_key_encode(before->sequence + 1, first);
    store_slice key = STORE_SLICE(first, sizeof first), value;
    for (uint64_t sequence = before->sequence + 1; err == FF_OK && sequence <= after->sequence;
         sequence++) {
        err = store_cursor_move(cursor, sequence == before->sequence + 1 ? STORE_SEEK : STORE_NEXT,
                                &key, &value);
        /* The group has just appended every one of these events in this transaction. */
        assert(err != FF_OK ||
               (key.bytes == LOG_KEY_BYTES && log_key_decode(key.data) == sequence));
        if (err == FF_OK) err = replica_record_add(group, &capacity, value);
    }
    store_cursor_close(cursor);
    if (err == FF_OK) err = replica_header_write(group, before, (uint32_t)count);
    if (err != FF_OK) {
        ledger_sealed_group_free(group);
        return err == FF_ERR_NOT_FOUND ? FF_ERR_STORAGE : err;
    }
    group->first_sequence = before->sequence + 1;
    group->last_sequence = after->sequence;
    return FF_OK;
}

ff_err ledger_batches_seal(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                           ledger_result *const *results, ledger_sealed_group *group_out) {
    assert(group_out != NULL);
    memset(group_out, 0, sizeof *group_out);
    ff_err err = ledger_batches_run(ledger, batches, batch_count, results, replica_group_seal,
                                    group_out);
    if (err != FF_OK) ledger_sealed_group_free(group_out);
    return err;
}

/* ---- applying ---- */

/* An entry's header, checked, and its records' bytes. */
typedef struct replica_entry {
    uint32_t count;
    const uint8_t *previous_hash;
    const uint8_t *records;
    size_t records_bytes;
} replica_entry;

static ff_err replica_entry_refuse(char *reason, size_t reason_bytes, const char *why) {
    snprintf(reason, reason_bytes, "%s", why);
    return FF_ERR_REPLICA_ENTRY_INVALID;
}

/* Checks that each of the entry's count records has a length that fits, and that they fill the
 * entry exactly. */
static ff_err replica_entry_lengths_check(const replica_entry *entry, char *reason,
                                          size_t reason_bytes) {
    size_t offset = 0;
    for (uint32_t i = 0; i < entry->count; i++) {
        if (entry->records_bytes - offset < REPLICA_LENGTH_BYTES) {
            return replica_entry_refuse(reason, reason_bytes, "a record's length is cut short");
        }
        uint32_t length = replica_u32_get(entry->records + offset);
        offset += REPLICA_LENGTH_BYTES;
        if (length < REPLICA_RECORD_BYTES_MIN || length > entry->records_bytes - offset) {
            return replica_entry_refuse(reason, reason_bytes,
                                        "a record's length is too small or runs past the entry");
        }
        offset += length;
    }
    if (offset != entry->records_bytes) {
        return replica_entry_refuse(reason, reason_bytes, "bytes follow the last record");
    }
    return FF_OK;
}

/* Reads and checks an entry's header, digest and record lengths. */
static ff_err replica_entry_decode(const uint8_t *bytes, size_t size, replica_entry *entry,
                                   char *reason, size_t reason_bytes) {
    if (bytes == NULL || size < REPLICA_HEADER_BYTES) {
        return replica_entry_refuse(reason, reason_bytes, "shorter than an entry's header");
    }
    if (memcmp(bytes, REPLICA_MAGIC, REPLICA_MAGIC_BYTES) != 0) {
        return replica_entry_refuse(reason, reason_bytes, "not an entry (no FFRE magic)");
    }
    if (bytes[4] != 0 || bytes[5] != REPLICA_VERSION || bytes[6] != 0 || bytes[7] != 0) {
        return replica_entry_refuse(reason, reason_bytes, "an entry version this node lacks");
    }
    *entry = (replica_entry){.count = replica_u32_get(bytes + REPLICA_COUNT_OFFSET),
                             .previous_hash = bytes + REPLICA_PREVIOUS_OFFSET,
                             .records = bytes + REPLICA_HEADER_BYTES,
                             .records_bytes = size - REPLICA_HEADER_BYTES};
    if (entry->count > FF_REPLICA_ENTRY_EVENTS_MAX) {
        return replica_entry_refuse(reason, reason_bytes, "more events than an entry may hold");
    }
    uint8_t digest[DIGEST_BYTES];
    ff_err err = replica_entry_digest(bytes, size, digest);
    if (err != FF_OK) return err;
    if (memcmp(digest, bytes + REPLICA_DIGEST_OFFSET, DIGEST_BYTES) != 0) {
        return replica_entry_refuse(reason, reason_bytes, "the entry's digest does not match");
    }
    return replica_entry_lengths_check(entry, reason, reason_bytes);
}

static ff_err replica_applied_get(store_txn *txn, ff_store *store, uint64_t *index_out) {
    store_slice value;
    ff_err err = store_meta_get(txn, store, replica_applied_key, &value);
    *index_out = 0;
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    if (value.bytes != LOG_KEY_BYTES) return FF_ERR_STORAGE;
    *index_out = log_key_decode(value.data);
    return FF_OK;
}

static ff_err replica_applied_put(store_txn *txn, ff_store *store, uint64_t index) {
    uint8_t value[LOG_KEY_BYTES];
    log_key_encode(index, value);
    return store_meta_put(txn, store, replica_applied_key, STORE_SLICE(value, sizeof value));
}

/* One entry being applied, as store_write_run's work: it may run more than once. */
typedef struct replica_apply {
    ff_ledger *ledger;
    uint64_t index;
    const replica_entry *entry;
    bool recorded;
    char reason[256];
} replica_apply;

/* Checks one record against the running head and replays it: the log, the tree, the
 * projections and the projection hook. */
static ff_err replica_record_apply(replica_apply *apply, store_txn *txn, store_slice value,
                                   log_head *head) {
    ff_store *store = ledger_store(apply->ledger);
    uint64_t sequence = head->sequence + 1;
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = log_record_check(sequence, value, head, &record, apply->reason,
                                  sizeof apply->reason);
    if (err != FF_OK) return store_error_is_failure(err) ? err : FF_ERR_LOG_DECODE;
    ff_failure failure;
    failure_clear(&failure);
    bool copied = false;
    err = verify_event_replay(txn, store, sequence, value, record, &failure, &copied);
    if (err == FF_OK) err = ledger_project_run(apply->ledger, txn, record);
    if (err != FF_OK) {
        snprintf(apply->reason, sizeof apply->reason, "event %llu does not replay: %s %.160s",
                 (unsigned long long)sequence, ff_err_name(err), failure.detail);
    }
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static ff_err replica_apply_work(void *argument, store_txn *txn) {
    replica_apply *apply = argument;
    ff_store *store = ledger_store(apply->ledger);
    apply->recorded = false;
    apply->reason[0] = '\0';
    uint64_t applied = 0;
    ff_err err = replica_applied_get(txn, store, &applied);
    if (err != FF_OK || apply->index <= applied) return err; /* nothing written */
    log_head head;
    err = log_head_read(txn, store, &head);
    if (err != FF_OK) return err;
    const replica_entry *entry = apply->entry;
    /* Sealed after a head this log has moved past: skipped alike on every node. */
    if (memcmp(entry->previous_hash, head.hash, DIGEST_BYTES) != 0) {
        return replica_applied_put(txn, store, apply->index);
    }
    size_t offset = 0;
    for (uint32_t i = 0; err == FF_OK && i < entry->count; i++) {
        uint32_t length = replica_u32_get(entry->records + offset);
        offset += REPLICA_LENGTH_BYTES;
        err = replica_record_apply(apply, txn, STORE_SLICE(entry->records + offset, length),
                                   &head);
        offset += length;
    }
    if (err == FF_OK) err = replica_applied_put(txn, store, apply->index);
    apply->recorded = err == FF_OK && entry->count > 0;
    return err;
}

ff_err ledger_sealed_apply(ff_ledger *ledger, uint64_t index, const uint8_t *bytes, size_t size,
                           bool *recorded_out) {
    assert(ledger != NULL && recorded_out != NULL && index >= 1);
    *recorded_out = false;
    replica_entry entry;
    replica_apply apply = {.ledger = ledger, .index = index, .entry = &entry};
    ff_err err = replica_entry_decode(bytes, size, &entry, apply.reason, sizeof apply.reason);
    if (err == FF_OK) err = store_write_run(ledger_store(ledger), replica_apply_work, &apply);
    if (err != FF_OK) {
        logline_write("level=error msg=\"replicated entry not applied\" index=%llu error=%s "
                      "reason=\"%s\"", (unsigned long long)index, ff_err_name(err), apply.reason);
        return err;
    }
    *recorded_out = apply.recorded;
    return FF_OK;
}

ff_err ledger_applied_index_read(ff_ledger *ledger, uint64_t *index_out) {
    *index_out = 0;
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    err = replica_applied_get(txn, ledger_store(ledger), index_out);
    ledger_read_txn_end(ledger, txn);
    return err;
}

/* ---- snapshots ---- */

ff_err ledger_snapshot_write(ff_ledger *ledger, const char *path) {
    assert(ledger != NULL && path != NULL);
    return store_copy_compact(ledger_store(ledger), path);
}

/* Opens the snapshot file at path as a store of its own: hard-linked as the data file of a
 * scratch directory made beside it (so on the same file system), which *dir_out names. */
static ff_err replica_snapshot_open(const char *path, char *dir, size_t dir_bytes,
                                    ff_store **snapshot_out) {
    int length = snprintf(dir, dir_bytes, "%s.open-XXXXXX", path);
    if (length < 0 || (size_t)length >= dir_bytes || mkdtemp(dir) == NULL) return FF_ERR_IO;
    char data_file[4200];
    length = snprintf(data_file, sizeof data_file, "%s/data.mdb", dir);
    if (length < 0 || (size_t)length >= sizeof data_file || link(path, data_file) != 0) {
        rmdir(dir);
        return FF_ERR_IO;
    }
    store_options options = {.data_dir = dir};
    ff_err err = store_open(&options, snapshot_out);
    if (err != FF_OK) store_remove(dir);
    return err;
}

/* Checks a snapshot before it replaces anything: this node's layout, a whole hash chain, and a
 * tree that holds exactly its log. */
static ff_err replica_snapshot_check(ff_store *live, ff_store *snapshot, store_txn *txn) {
    if (store_layout_version(snapshot) != store_layout_version(live)) {
        return FF_ERR_SNAPSHOT_INVALID;
    }
    verify_report report;
    ff_err err = verify_chain(snapshot, &report);
    char reason[256];
    if (err == FF_OK) err = tree_check(txn, snapshot, reason, sizeof reason);
    if (err != FF_OK) {
        logline_write("level=error msg=\"snapshot refused\" error=%s reason=\"%s\"",
                      ff_err_name(err), report.code != FF_OK ? report.reason : reason);
    }
    return err;
}

/* Replacing the live content with the snapshot's, as store_write_run's work. */
typedef struct replica_restore {
    ff_store *live;
    ff_store *snapshot;
    store_txn *snapshot_txn;
} replica_restore;

static ff_err replica_restore_work(void *argument, store_txn *txn) {
    replica_restore *restore = argument;
    return store_content_copy(txn, restore->live, restore->snapshot_txn, restore->snapshot);
}

ff_err ledger_snapshot_restore(ff_ledger *ledger, const char *path) {
    assert(ledger != NULL && path != NULL);
    char dir[4096];
    ff_store *snapshot = NULL;
    ff_err err = replica_snapshot_open(path, dir, sizeof dir, &snapshot);
    if (err != FF_OK) return err;
    replica_restore restore = {.live = ledger_store(ledger), .snapshot = snapshot};
    err = store_txn_begin(snapshot, NULL, STORE_TXN_READ, &restore.snapshot_txn);
    if (err == FF_OK) err = replica_snapshot_check(restore.live, snapshot, restore.snapshot_txn);
    /* One write transaction: a reader of the live store sees the old content or the new. */
    if (err == FF_OK) err = store_write_run(restore.live, replica_restore_work, &restore);
    store_txn_abort(restore.snapshot_txn);
    store_close(snapshot);
    store_remove(dir);
    return err;
}
