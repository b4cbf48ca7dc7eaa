/* Tests of the writer thread: a full queue refuses at once, queued jobs are all committed and
 * handed back with their results, a job is answered with the flush's failure when the flush
 * that makes its commit durable fails, each reply finds the tree's head signed at least as far
 * as its group, and a group that was never made durable is not signed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "signing.h"
#include "writer.h"
#include "test_support.h"
#include "test_writer_job.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

enum { WRITER_JOBS = 200 };

typedef struct done_list {
    pthread_mutex_t lock;
    writer_job *jobs[WRITER_JOBS];
    size_t job_count, group_count, group_commands;
} done_list;

static void done_collect(void *argument, writer_job *jobs, size_t group_commands) {
    done_list *done = argument;
    pthread_mutex_lock(&done->lock);
    for (writer_job *job = jobs; job != NULL;) {
        writer_job *next = job->next;
        job->next = NULL;
        done->jobs[done->job_count++] = job;
        job = next;
    }
    done->group_count++;
    done->group_commands += group_commands;
    pthread_mutex_unlock(&done->lock);
}

static void test_a_full_queue_refuses_at_once(void **state) {
    (void)state;
    test_fixture *fixture = test_fixture_open();
    done_list done = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ff_writer *writer = NULL;
    assert_int_equal(writer_start(fixture->ledger, 0, false, NULL, done_collect, &done, &writer),
                     FF_OK);
    writer_job *job = test_writer_job_make(0);
    assert_int_equal(writer_submit(writer, job), FF_ERR_QUEUE_FULL);
    assert_int_equal(writer_queue_depth(writer), 0);
    writer_stop(writer);
    assert_int_equal(done.job_count, 0);
    writer_job_free(job);
    assert_int_equal(test_head_sequence(fixture->ledger), 0);
    void *state_pointer = fixture;
    test_fixture_teardown(&state_pointer);
}

static void test_every_queued_job_is_committed_and_returned(void **state) {
    (void)state;
    test_fixture *fixture = test_fixture_open();
    uint64_t head = test_world_register(fixture->ledger);
    done_list done = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ff_writer *writer = NULL;
    assert_int_equal(writer_start(fixture->ledger, WRITER_JOBS, true, NULL, done_collect, &done,
                                  &writer),
                     FF_OK);
    for (int i = 0; i < WRITER_JOBS; i++) {
        assert_int_equal(writer_submit(writer, test_writer_job_make(i)), FF_OK);
    }
    /* Stopping waits for the queue to drain, so every job has come back afterwards. */
    writer_stop(writer);
    assert_int_equal(done.job_count, WRITER_JOBS);
    assert_int_equal(done.group_commands, WRITER_JOBS);
    assert_true(done.group_count >= 1 && done.group_count <= WRITER_JOBS);
    bool seen[WRITER_JOBS] = {false};
    for (size_t i = 0; i < done.job_count; i++) {
        writer_job *job = done.jobs[i];
        assert_int_equal(job->group_err, FF_OK);
        assert_int_equal(job->results[0].failure.code, FF_OK);
        uint64_t offset = job->results[0].sequence - head - 1;
        assert_true(offset < WRITER_JOBS && !seen[offset]);
        seen[offset] = true;
        assert_true(job->head_sequence >= job->results[0].sequence);
        writer_job_free(job);
    }
    print_message("%d jobs committed in %zu groups\n", WRITER_JOBS, done.group_count);
    assert_int_equal(test_head_sequence(fixture->ledger), head + WRITER_JOBS);
    void *state_pointer = fixture;
    test_fixture_teardown(&state_pointer);
}

/* Runs one job through a writer with commit_overlap as given while the next store_sync is armed
 * to fail, and checks whether the flush was reached and what the job came back with. */
static void one_job_with_a_failing_flush(bool commit_overlap, bool flush_reached,
                                         ff_err expected) {
    test_fixture *fixture = test_fixture_open();
    uint64_t head = test_world_register(fixture->ledger);
    done_list done = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ff_writer *writer = NULL;
    store_fault_inject(STORE_FAULT_SYNC, 1, FF_ERR_STORAGE, false);
    assert_int_equal(writer_start(fixture->ledger, 1, commit_overlap, NULL, done_collect, &done,
                                  &writer),
                     FF_OK);
    assert_int_equal(writer_submit(writer, test_writer_job_make(0)), FF_OK);
    writer_stop(writer);
    assert_int_equal(store_fault_pending(), !flush_reached);
    store_fault_clear();
    assert_int_equal(done.job_count, 1);
    assert_int_equal(done.jobs[0]->group_err, expected);
    writer_job_free(done.jobs[0]);
    assert_int_equal(test_head_sequence(fixture->ledger), head + 1);
    void *state_pointer = fixture;
    test_fixture_teardown(&state_pointer);
}

/* With commit_overlap, the sync thread's flush fails once: the job's group was committed and is
 * visible, but it was never durable, so the job is not acknowledged: it comes back with the
 * flush's error, and a retry under the same key would get the recorded result. */
static void test_a_failed_flush_fails_the_groups_it_would_have_made_durable(void **state) {
    (void)state;
    one_job_with_a_failing_flush(true, true, FF_ERR_STORAGE);
}

/* Without commit_overlap (the default) each commit is durable when it returns: the sync thread
 * never flushes, so the armed fault never fires and the job is acknowledged. */
static void test_without_overlap_the_commit_itself_is_durable(void **state) {
    (void)state;
    one_job_with_a_failing_flush(false, false, FF_OK);
}

/* What the done callback saw of the signed head: it must cover each job handed back, whose
 * reply carries it. */
typedef struct signed_seen {
    done_list done;
    ff_signer *signer;
    bool covered; /* every callback's check held */
} signed_seen;

static void done_check_signed(void *argument, writer_job *jobs, size_t group_commands) {
    signed_seen *seen = argument;
    signed_head head;
    signing_head_latest(seen->signer, &head);
    for (writer_job *job = jobs; job != NULL; job = job->next) {
        if (job->group_err != FF_OK) continue;
        seen->covered = seen->covered && head.tree_size >= job->head_sequence;
    }
    done_collect(&seen->done, jobs, group_commands);
}

/* Starts a writer with a signer for the fixture's store; the signed head starts at the head. */
static ff_writer *signed_writer_start(test_fixture *fixture, bool commit_overlap,
                                      signed_seen *seen) {
    char reason[256];
    assert_int_equal(signing_open(ledger_store(fixture->ledger), NULL, &seen->signer, reason,
                                  sizeof reason),
                     FF_OK);
    ff_writer *writer = NULL;
    assert_int_equal(writer_start(fixture->ledger, WRITER_JOBS, commit_overlap, NULL,
                                  done_check_signed, seen, &writer),
                     FF_OK);
    return writer;
}

static void signed_writer_finish(test_fixture *fixture, signed_seen *seen) {
    for (size_t i = 0; i < seen->done.job_count; i++) writer_job_free(seen->done.jobs[i]);
    signing_close(seen->signer);
    void *state_pointer = fixture;
    test_fixture_teardown(&state_pointer);
}

static void jobs_signed_before_their_replies(bool commit_overlap) {
    test_fixture *fixture = test_fixture_open();
    uint64_t head = test_world_register(fixture->ledger);
    signed_seen seen = {.done = {.lock = PTHREAD_MUTEX_INITIALIZER}, .covered = true};
    ff_writer *writer = signed_writer_start(fixture, commit_overlap, &seen);
    for (int i = 0; i < WRITER_JOBS; i++) {
        assert_int_equal(writer_submit(writer, test_writer_job_make(i)), FF_OK);
    }
    writer_stop(writer);
    assert_int_equal(seen.done.job_count, WRITER_JOBS);
    assert_true(seen.covered);
    signed_head latest;
    signing_head_latest(seen.signer, &latest);
    assert_int_equal(latest.tree_size, head + WRITER_JOBS);
    signed_writer_finish(fixture, &seen);
}

/* The head is signed off the apply thread, on the sync thread before it hands a group back. */
static void test_each_reply_finds_its_group_signed(void **state) {
    (void)state;
    jobs_signed_before_their_replies(false);
}

static void test_with_overlap_each_reply_finds_its_group_signed(void **state) {
    (void)state;
    jobs_signed_before_their_replies(true);
}

/* With commit_overlap, a group whose flush failed is committed in the file but was never made
 * durable: it is not signed, although a snapshot of the store shows it (signing at the size a
 * snapshot shows would sign it). The next group that is flushed is signed with it. */
static void test_with_overlap_a_group_not_made_durable_is_not_signed(void **state) {
    (void)state;
    test_fixture *fixture = test_fixture_open();
    uint64_t head = test_world_register(fixture->ledger);
    signed_seen seen = {.done = {.lock = PTHREAD_MUTEX_INITIALIZER}, .covered = true};
    store_fault_inject(STORE_FAULT_SYNC, 1, FF_ERR_STORAGE, false);
    ff_writer *writer = signed_writer_start(fixture, true, &seen);
    assert_int_equal(writer_submit(writer, test_writer_job_make(0)), FF_OK);
    writer_stop(writer);
    store_fault_clear();
    assert_int_equal(seen.done.job_count, 1);
    assert_int_equal(seen.done.jobs[0]->group_err, FF_ERR_STORAGE);
    assert_int_equal(test_head_sequence(fixture->ledger), head + 1);
    signed_head latest;
    signing_head_latest(seen.signer, &latest);
    assert_int_equal(latest.tree_size, head);
    ff_writer *again = NULL;
    assert_int_equal(writer_start(fixture->ledger, 1, true, NULL, done_check_signed, &seen,
                                  &again),
                     FF_OK);
    assert_int_equal(writer_submit(again, test_writer_job_make(1)), FF_OK);
    writer_stop(again);
    assert_int_equal(seen.done.job_count, 2);
    assert_int_equal(seen.done.jobs[1]->group_err, FF_OK);
    signing_head_latest(seen.signer, &latest);
    assert_int_equal(latest.tree_size, head + 2);
    assert_true(seen.covered);
    signed_writer_finish(fixture, &seen);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_full_queue_refuses_at_once),
        cmocka_unit_test(test_every_queued_job_is_committed_and_returned),
        cmocka_unit_test(test_a_failed_flush_fails_the_groups_it_would_have_made_durable),
        cmocka_unit_test(test_without_overlap_the_commit_itself_is_durable),
        cmocka_unit_test(test_each_reply_finds_its_group_signed),
        cmocka_unit_test(test_with_overlap_each_reply_finds_its_group_signed),
        cmocka_unit_test(test_with_overlap_a_group_not_made_durable_is_not_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
