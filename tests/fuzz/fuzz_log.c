/* A libFuzzer target for reading stored events: log_record_check (the decoding and check of one
 * stored record, which verify and every read of the log rely on) fed the input as a record's
 * bytes; and verify_chain over a small real log one of whose records the input corrupts.
 *
 * The log is made once, in a scratch store: FUZZ_LOG_EVENTS events. For each input, the first
 * byte picks a record; the rest is XORed over that record's stored bytes (cycling, so a short
 * input flips bytes all along it), or, when the second byte is odd, replaces them whole. Beyond
 * "no crash, no leak, no undefined behaviour", it checks the promise every backup and restore
 * relies on: a log whose bytes differ in record S fails verify_chain naming sequence S exactly,
 * with a reason; an unchanged log passes. The record is put back after each input.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LOG_EVENTS 4
#define FUZZ_RECORD_BYTES_MAX 4096

static ff_store *fuzz_store;
/* In memory where there is a tmpfs, so that each commit's fsync costs nothing. */
static char fuzz_directory[64];
static uint8_t fuzz_originals[FUZZ_LOG_EVENTS][FUZZ_RECORD_BYTES_MAX];
static size_t fuzz_original_bytes[FUZZ_LOG_EVENTS];

/* Appends FUZZ_LOG_EVENTS organisations' registrations, chained as the ledger chains them. */
static ff_err fuzz_log_write(void *argument, store_txn *txn) {
    (void)argument;
    log_head head = {0};
    for (int i = 0; i < FUZZ_LOG_EVENTS; i++) {
        char code[8], key[16], name[] = "A trust", actor[] = "fuzz";
        snprintf(code, sizeof code, "RZZ%d", i);
        snprintf(key, sizeof key, "fuzz-%d", i);
        Fundflow__V1__OrgRegistered org = FUNDFLOW__V1__ORG_REGISTERED__INIT;
        org.code = code;
        org.name = name;
        org.kind = FUNDFLOW__V1__ORG_KIND__TRUST;
        Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
        event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
        event.org_registered = &org;
        Fundflow__V1__EventRecord record = FUNDFLOW__V1__EVENT_RECORD__INIT;
        record.sequence = head.sequence + 1;
        record.recorded_at_us = INT64_C(1711929600000000);
        record.effective_date = 20240401;
        record.actor = actor;
        record.idempotency_key = key;
        record.event = &event;
        ff_err err = log_append(txn, fuzz_store, &record, &head);
        if (err != FF_OK) return err;
    }
    return FF_OK;
}

static void fuzz_key(uint64_t sequence, uint8_t key[LOG_KEY_BYTES]) { log_key_encode(sequence, key); }

typedef struct fuzz_put {
    uint64_t sequence;
    const uint8_t *bytes;
    size_t size;
} fuzz_put;

static ff_err fuzz_record_put(void *argument, store_txn *txn) {
    const fuzz_put *put = argument;
    uint8_t key[LOG_KEY_BYTES];
    fuzz_key(put->sequence, key);
    return store_put(txn, fuzz_store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key),
                     STORE_SLICE(put->bytes, put->size), STORE_PUT_REPLACE);
}

/* Keeps each stored record's bytes, to corrupt copies of and to put back. */
static void fuzz_originals_read(void) {
    store_txn *txn = NULL;
    assert(store_txn_begin(fuzz_store, NULL, STORE_TXN_READ, &txn) == FF_OK);
    for (int i = 0; i < FUZZ_LOG_EVENTS; i++) {
        uint8_t key[LOG_KEY_BYTES];
        fuzz_key((uint64_t)i + 1, key);
        store_slice value;
        assert(store_get(txn, fuzz_store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key), &value) ==
               FF_OK);
        assert(value.bytes <= FUZZ_RECORD_BYTES_MAX);
        memcpy(fuzz_originals[i], value.data, value.bytes);
        fuzz_original_bytes[i] = value.bytes;
    }
    store_txn_abort(txn);
}

static void fuzz_store_remove(void) {
    store_close(fuzz_store);
    store_remove(fuzz_directory);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    struct stat status;
    bool shm = stat("/dev/shm", &status) == 0 && S_ISDIR(status.st_mode) &&
               access("/dev/shm", W_OK) == 0;
    snprintf(fuzz_directory, sizeof fuzz_directory, "%s/fundflow-fuzz-log-XXXXXX",
             shm ? "/dev/shm" : "/tmp");
    assert(mkdtemp(fuzz_directory) != NULL);
    store_options options = {.data_dir = fuzz_directory};
    assert(store_open(&options, &fuzz_store) == FF_OK);
    assert(store_write_run(fuzz_store, fuzz_log_write, NULL) == FF_OK);
    fuzz_originals_read();
    atexit(fuzz_store_remove);
    verify_report report;
    assert(verify_chain(fuzz_store, &report) == FF_OK && report.events_checked == FUZZ_LOG_EVENTS);
    return 0;
}

/* log_record_check on the input as the record after an empty log, and after the real first. */
static void fuzz_record_check(const uint8_t *data, size_t size) {
    Fundflow__V1__EventRecord *record = NULL;
    char reason[256] = "";
    log_head previous = {0};
    store_slice value = STORE_SLICE(data, size);
    if (log_record_check(1, value, &previous, &record, reason, sizeof reason) == FF_OK) {
        assert(record != NULL && record->sequence == 1 && previous.sequence == 1);
        fundflow__v1__event_record__free_unpacked(record, NULL);
    } else {
        assert(reason[0] != '\0' && previous.sequence == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_record_check(data, size);
    if (size < 2) return 0;
    int index = data[0] % FUZZ_LOG_EVENTS;
    bool replace = (data[1] & 1) != 0;
    const uint8_t *pattern = data + 2;
    size_t pattern_bytes = size - 2;
    uint8_t corrupted[FUZZ_RECORD_BYTES_MAX];
    size_t corrupted_bytes = fuzz_original_bytes[index];
    if (replace) {
        corrupted_bytes = pattern_bytes < FUZZ_RECORD_BYTES_MAX ? pattern_bytes : FUZZ_RECORD_BYTES_MAX;
        memcpy(corrupted, pattern, corrupted_bytes);
    } else {
        memcpy(corrupted, fuzz_originals[index], corrupted_bytes);
        for (size_t i = 0; pattern_bytes > 0 && i < corrupted_bytes; i++) {
            corrupted[i] ^= pattern[i % pattern_bytes];
        }
    }
    /* LMDB refuses an empty value as readily as any other; a record is never empty. */
    if (corrupted_bytes == 0) return 0;
    bool same = corrupted_bytes == fuzz_original_bytes[index] &&
                memcmp(corrupted, fuzz_originals[index], corrupted_bytes) == 0;
    fuzz_put put = {(uint64_t)index + 1, corrupted, corrupted_bytes};
    assert(store_write_run(fuzz_store, fuzz_record_put, &put) == FF_OK);

    verify_report report;
    ff_err err = verify_chain(fuzz_store, &report);
    if (same) {
        assert(err == FF_OK && report.events_checked == FUZZ_LOG_EVENTS);
    } else {
        assert(err != FF_OK && err == report.code);
        assert(report.sequence == (uint64_t)index + 1 && report.reason[0] != '\0');
    }
    fuzz_put back = {(uint64_t)index + 1, fuzz_originals[index], fuzz_original_bytes[index]};
    assert(store_write_run(fuzz_store, fuzz_record_put, &back) == FF_OK);
    return 0;
}
