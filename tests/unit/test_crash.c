/* Crash safety: a child process writes batches and is killed with SIGKILL at random moments.
 * After each kill the ledger is reopened and must hold every acknowledged event, verify, and
 * rebuild to identical projections. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verify.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

/* Bounds, so the test ends whatever happens. */
enum { CRASH_ROUNDS = 12, CRASH_BATCHES_PER_CHILD_MAX = 5000, CRASH_BATCH_COMMANDS_MAX = 24 };

/* What the child reports after each commit returns: the last sequence of an acknowledged batch. */
typedef struct crash_acknowledgement {
    uint64_t sequence;
    uint32_t round;
    uint32_t batch;
} crash_acknowledgement;

static void crash_key(char *key, size_t key_bytes, uint32_t round, uint32_t batch, uint32_t index) {
    snprintf(key, key_bytes, "crash-%u-%u-%u", round, batch, index);
}

/* The child's whole life: write batches until killed, acknowledging each after its commit. */
static void crash_child_run(const char *directory, uint32_t round, uint64_t seed, int ack_fd) {
    store_options options = {.data_dir = directory};
    ff_ledger *ledger = NULL;
    if (ledger_open(&options, &ledger) != FF_OK) _exit(3);
    uint64_t random_state = seed;
    Fundflow__V1__Command *commands[CRASH_BATCH_COMMANDS_MAX];
    ledger_result results[CRASH_BATCH_COMMANDS_MAX];
    for (uint32_t batch = 0; batch < CRASH_BATCHES_PER_CHILD_MAX; batch++) {
        size_t count = 1 + test_random_next(&random_state) % CRASH_BATCH_COMMANDS_MAX;
        for (size_t i = 0; i < count; i++) {
            char key[64];
            crash_key(key, sizeof key, round, batch, (uint32_t)i);
            int64_t amount = 1 + (int64_t)(test_random_next(&random_state) % 100000);
            commands[i] = i % 3 == 2 ? test_budget(key, "QUE", "06H", CORE, TEST_YEAR, amount / 2)
                                     : test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, amount);
        }
        ledger_batch request = {.commands = commands, .command_count = count, .actor = "crash"};
        ff_err err = ledger_batch_apply(ledger, &request, results);
        for (size_t i = 0; i < count; i++) test_command_free(commands[i]);
        if (err != FF_OK) _exit(4);
        crash_acknowledgement ack = {results[count - 1].sequence, round, batch};
        if (results[count - 1].failure.code != FF_OK) continue;
        if (write(ack_fd, &ack, sizeof ack) != sizeof ack) _exit(5);
    }
    _exit(0);
}

/* Reads every acknowledgement the child managed to send; returns the last one. */
static crash_acknowledgement crash_acknowledgements_read(int fd, size_t *count_out) {
    crash_acknowledgement last = {0, 0, 0}, ack;
    *count_out = 0;
    while (read(fd, &ack, sizeof ack) == sizeof ack) {
        assert_true(ack.sequence > last.sequence);
        last = ack;
        (*count_out)++;
    }
    return last;
}

static void crash_ledger_check(const char *directory, const crash_acknowledgement *last) {
    ff_ledger *ledger = test_ledger_open(directory, 0);
    ff_store *store = ledger_store(ledger);
    assert_true(test_head_sequence(ledger) >= last->sequence);
    if (last->sequence > 0) {
        /* The last acknowledged event is present, and is the one the child wrote. */
        store_txn *txn = NULL;
        Fundflow__V1__EventRecord *record = NULL;
        assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
        assert_int_equal(log_read(txn, store, last->sequence, &record), FF_OK);
        assert_string_equal(record->actor, "crash");
        assert_non_null(strstr(record->idempotency_key, "crash-"));
        fundflow__v1__event_record__free_unpacked(record, NULL);
        store_txn_abort(txn);
    }
    verify_report report;
    assert_int_equal(verify_ledger(store, NULL, &report), FF_OK);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(store, &before, &before_bytes);
    assert_int_equal(verify_rebuild_projections(store, &report), FF_OK);
    test_projections_dump(store, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    free(before);
    free(after);
    ledger_close(ledger);
}

static void test_sigkill_loses_no_acknowledged_event(void **state) {
    (void)state;
    char *directory = test_dir_make();
    ff_ledger *ledger = test_ledger_open(directory, 0);
    test_world_register(ledger);
    ledger_close(ledger);
    uint64_t seed = (uint64_t)time(NULL) | 1;
    print_message("crash test seed %llu\n", (unsigned long long)seed);
    uint64_t random_state = seed;
    size_t acknowledged_total = 0;
    for (uint32_t round = 0; round < CRASH_ROUNDS; round++) {
        int ack_pipe[2];
        assert_int_equal(pipe(ack_pipe), 0);
        uint64_t child_seed = test_random_next(&random_state);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            close(ack_pipe[0]);
            crash_child_run(directory, round, child_seed, ack_pipe[1]);
        }
        close(ack_pipe[1]);
        useconds_t delay_us = (useconds_t)(2000 + test_random_next(&random_state) % 60000);
        usleep(delay_us);
        kill(child, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(child, &status, 0), child);
        size_t acknowledged = 0;
        crash_acknowledgement last = crash_acknowledgements_read(ack_pipe[0], &acknowledged);
        close(ack_pipe[0]);
        acknowledged_total += acknowledged;
        crash_ledger_check(directory, &last);
    }
    print_message("%zu batches acknowledged across %d kills\n", acknowledged_total, CRASH_ROUNDS);
    assert_true(acknowledged_total > 0);
    test_dir_remove(directory);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_loses_no_acknowledged_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
