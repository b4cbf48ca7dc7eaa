/* An attacker's tool for test_integrity.sh: rewrites a stopped server's data directory the way
 * anyone able to write the data file could, then empties the merkle table so that the next
 * open builds a tree of the rewritten log (as an attacker's rebuild would). Test-only.
 *
 *   ledger_tamper truncate DIR N          drops the newest N events
 *   ledger_tamper forge DIR SEQUENCE PENCE sets the amount of allocation SEQUENCE to PENCE and
 *                                          recomputes the hash chain from it to the head
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "log.h"
#include "store.h"
#include "test_support.h"

typedef struct tamper {
    ff_store *store;
    const char *what;
    uint64_t number;
    int64_t pence;
} tamper;

static ff_err tamper_truncate(tamper *job, store_txn *txn, uint64_t head) {
    ff_err err = FF_OK;
    for (uint64_t sequence = head; err == FF_OK && sequence > head - job->number; sequence--) {
        uint8_t key[LOG_KEY_BYTES];
        log_key_encode(sequence, key);
        err = store_delete(txn, job->store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key));
    }
    return err;
}

/* Rewrites one record after previous_hash, changing the amount if it is the forged one. */
static ff_err tamper_rechain(tamper *job, store_txn *txn, uint64_t sequence,
                             uint8_t previous_hash[DIGEST_BYTES]) {
    uint8_t key[LOG_KEY_BYTES];
    log_key_encode(sequence, key);
    store_slice value;
    ff_err err = store_get(txn, job->store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key), &value);
    if (err != FF_OK) return err;
    Fundflow__V1__EventRecord *record =
        fundflow__v1__event_record__unpack(NULL, value.bytes, value.data);
    if (record == NULL) return FF_ERR_LOG_DECODE;
    if (sequence == job->number) {
        if (record->event->allocation_issued == NULL) {
            fundflow__v1__event_record__free_unpacked(record, NULL);
            return FF_ERR_NOT_FOUND;
        }
        record->event->allocation_issued->amount_pence = job->pence;
    }
    /* The unpacked record owns its hashes' bytes: they are put back before it is freed. */
    ProtobufCBinaryData saved_hash = record->hash, saved_previous = record->previous_hash;
    record->hash = (ProtobufCBinaryData){0, NULL};
    uint8_t previous[DIGEST_BYTES];
    memcpy(previous, previous_hash, DIGEST_BYTES);
    record->previous_hash = (ProtobufCBinaryData){DIGEST_BYTES, previous};
    size_t canonical = fundflow__v1__event_record__get_packed_size(record);
    uint8_t *stored = malloc(canonical + LOG_HASH_TRAILER_BYTES);
    fundflow__v1__event_record__pack(record, stored);
    record->previous_hash = saved_previous;
    record->hash = saved_hash;
    fundflow__v1__event_record__free_unpacked(record, NULL);
    stored[canonical] = (15 << 3) | 2;
    stored[canonical + 1] = DIGEST_BYTES;
    err = digest_two_parts(previous, DIGEST_BYTES, stored, canonical, stored + canonical + 2);
    if (err == FF_OK) {
        memcpy(previous_hash, stored + canonical + 2, DIGEST_BYTES);
        err = store_put(txn, job->store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key),
                        STORE_SLICE(stored, canonical + LOG_HASH_TRAILER_BYTES),
                        STORE_PUT_REPLACE);
    }
    free(stored);
    return err;
}

static ff_err tamper_forge(tamper *job, store_txn *txn, uint64_t head) {
    uint8_t previous_hash[DIGEST_BYTES] = {0};
    if (job->number > 1) {
        Fundflow__V1__EventRecord *before = NULL;
        ff_err err = log_read(txn, job->store, job->number - 1, &before);
        if (err != FF_OK) return err;
        memcpy(previous_hash, before->hash.data, DIGEST_BYTES);
        fundflow__v1__event_record__free_unpacked(before, NULL);
    }
    ff_err err = FF_OK;
    for (uint64_t sequence = job->number; err == FF_OK && sequence <= head; sequence++) {
        err = tamper_rechain(job, txn, sequence, previous_hash);
    }
    return err;
}

static ff_err tamper_run(void *argument, store_txn *txn) {
    tamper *job = argument;
    log_head head;
    ff_err err = log_head_read(txn, job->store, &head);
    if (err == FF_OK && (job->number == 0 || job->number > head.sequence)) {
        err = FF_ERR_NOT_FOUND;
    }
    if (err == FF_OK) {
        err = strcmp(job->what, "truncate") == 0 ? tamper_truncate(job, txn, head.sequence)
                                                 : tamper_forge(job, txn, head.sequence);
    }
    if (err == FF_OK) err = test_table_clear(txn, job->store, STORE_TABLE_MERKLE);
    return err;
}

int main(int argc, char **argv) {
    bool truncate = argc == 4 && strcmp(argv[1], "truncate") == 0;
    bool forge = argc == 5 && strcmp(argv[1], "forge") == 0;
    if (!truncate && !forge) {
        fprintf(stderr, "usage: %s truncate DIR N | forge DIR SEQUENCE PENCE\n", argv[0]);
        return 2;
    }
    tamper job = {NULL, argv[1], strtoull(argv[3], NULL, 10), forge ? strtoll(argv[4], NULL, 10) : 0};
    store_options options = {.data_dir = argv[2]};
    ff_err err = store_open(&options, &job.store);
    if (err == FF_OK) err = store_write_run(job.store, tamper_run, &job);
    store_close(job.store);
    if (err != FF_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], ff_strerror(err));
        return 1;
    }
    return 0;
}
