/* The writer's two threads: one drains queued write requests into group commits, the other
 * hands each group back once its commit is durable (with commit_overlap, after the one flush that
 * overlaps the next group's work). */
#include "writer.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_replica.h"
#include "logline.h"
#include "fundflow/limits.h"
#include "signing.h"

struct ff_writer {
    ff_ledger *ledger;
    pthread_t thread, sync_thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    writer_job *head, *tail;
    size_t depth, depth_max;
    /* Every job queued is handed back to done exactly once: these count both, under the lock. */
    uint64_t jobs_queued, jobs_handed_back;
    bool stopping;
    writer_done_callback done;
    void *done_argument;
    /* Groups applied and not yet made durable, oldest first, linked through their first jobs'
     * group_next; under the lock. */
    writer_job *committed_head, *committed_tail;
    pthread_cond_t committed_wake;
    bool applying_stopped; /* the apply thread has ended: the sync thread ends once drained */
    /* Commits leave the meta page's flush to the sync thread (writer.h); read-only once started. */
    bool commit_overlap;
    /* NULL for a single node; else how groups are replicated (writer.h). Read-only. */
    const writer_replicator *replicator;
};

void writer_job_free(writer_job *job) {
    if (job == NULL) return;
    if (job->request) fundflow__v1__submit_commands_request__free_unpacked(job->request, NULL);
    free(job->results);
    free(job);
}

/* The queue's shape, checked with the lock held: empty at both ends or at neither, the tail
 * last, and no more jobs waiting than the bound or than were ever queued and not handed back. */
static void writer_queue_check(const ff_writer *writer) {
    assert(writer->depth <= writer->depth_max);
    assert((writer->head == NULL) == (writer->tail == NULL));
    assert((writer->head == NULL) == (writer->depth == 0));
    assert(writer->tail == NULL || writer->tail->next == NULL);
    assert(writer->depth != 1 || writer->head == writer->tail);
    assert(writer->jobs_handed_back + writer->depth <= writer->jobs_queued);
}

/* Takes jobs off the queue until the group would pass FF_GROUP_COMMIT_COMMANDS_MAX commands;
 * the first job is always taken. Called with the lock held. */
static writer_job *writer_group_take(ff_writer *writer, size_t *job_count, size_t *commands) {
    writer_queue_check(writer);
    assert(writer->head != NULL);
    writer_job *first = writer->head, *last = NULL;
    *job_count = 0;
    *commands = 0;
    for (writer_job *job = writer->head; job != NULL; job = job->next) {
        if (*job_count > 0 &&
            *commands + job->batch.command_count > FF_GROUP_COMMIT_COMMANDS_MAX) {
            break;
        }
        *commands += job->batch.command_count;
        (*job_count)++;
        last = job;
    }
    /* One job may pass the group bound alone (a batch is at most FF_BATCH_COMMANDS_MAX), but a
     * group of several never does. */
    assert(*job_count >= 1 && *job_count <= writer->depth);
    assert(*job_count == 1 || *commands <= FF_GROUP_COMMIT_COMMANDS_MAX);
    writer->head = last->next;
    if (writer->head == NULL) writer->tail = NULL;
    writer->depth -= *job_count;
    last->next = NULL;
    first->group_next = NULL;
    first->group_job_count = *job_count;
    first->group_command_count = *commands;
    writer_queue_check(writer);
    return first;
}

/* A full disk is the operator's to fix, and every client of the group hears only
 * resource_exhausted; so the log names the directory to free space in, once per failed group. */
static void writer_group_failure_log(const ff_writer *writer, ff_err err) {
    if (err != FF_ERR_STORAGE_FULL) return;
    logline_write("level=error msg=\"storage full\" data_dir=\"%s\" error=%s",
            store_data_dir(ledger_store(writer->ledger)), ff_err_name(err));
}

/* A replicated group: sealed once this node may lead, and recorded only through its entry, which
 * replicate returns from once it is committed and applied here. A group with no new event (all
 * refused, dry runs or replays) needs no entry. */
static ff_err writer_group_replicate(ff_writer *writer, const ledger_batch *batches,
                                     size_t job_count, ledger_result *const *results) {
    const writer_replicator *replicator = writer->replicator;
    ff_err err = replicator->ready(replicator->argument);
    if (err != FF_OK) return err;
    ledger_sealed_group group;
    err = ledger_batches_seal(writer->ledger, batches, job_count, results, &group);
    if (err == FF_OK && group.size > 0) {
        assert(group.first_sequence >= 1 && group.last_sequence >= group.first_sequence);
        err = replicator->replicate(replicator->argument, group.bytes, group.size);
    }
    ledger_sealed_group_free(&group);
    return err;
}

/* Every result of a group that was not recorded carries the group's error, as the ledger's own
 * do when ledger_batches_apply fails. */
static void writer_results_fail(writer_job *jobs, ff_err err) {
    for (writer_job *job = jobs; job != NULL; job = job->next) {
        for (size_t i = 0; i < job->batch.command_count; i++) {
            memset(&job->results[i], 0, sizeof job->results[i]);
            failure_set(&job->results[i].failure, err, NULL, "the batch was not recorded: %s",
                        ff_strerror(err));
        }
    }
}

static void writer_group_apply(ff_writer *writer, writer_job *jobs, size_t job_count) {
    ledger_batch *batches = calloc(job_count, sizeof *batches);
    ledger_result **results = calloc(job_count, sizeof *results);
    size_t i = 0;
    for (writer_job *job = jobs; job != NULL; job = job->next, i++) {
        assert(i < job_count && job->results != NULL);
        if (batches) batches[i] = job->batch;
        if (results) results[i] = job->results;
    }
    /* The list taken is exactly the group counted: no job lost or seen twice. */
    assert(i == job_count);
    ff_err err = FF_ERR_NO_MEMORY;
    if (batches && results) {
        err = writer->replicator
                  ? writer_group_replicate(writer, batches, job_count, results)
                  : ledger_batches_apply(writer->ledger, batches, job_count, results);
    }
    if (err != FF_OK && writer->replicator) writer_results_fail(jobs, err);
    writer_group_failure_log(writer, err);
    log_head head = {0};
    if (err == FF_OK) ledger_head_read(writer->ledger, &head);
    for (writer_job *job = jobs; job != NULL; job = job->next) {
        job->group_err = err;
        job->head_sequence = head.sequence;
    }
    free(batches);
    free(results);
}

/* Queues an applied group for the sync thread. Called with the lock held. */
static void writer_committed_push(ff_writer *writer, writer_job *group) {
    assert(group->group_next == NULL && group->group_job_count >= 1);
    if (writer->committed_tail) writer->committed_tail->group_next = group;
    else writer->committed_head = group;
    writer->committed_tail = group;
    pthread_cond_signal(&writer->committed_wake);
}

/* The apply thread: takes a group, applies and commits it (with commit_overlap, without the meta
 * page's flush: store_commit_sync_defer), and passes it on; then takes the next group at once. */
static void *writer_thread_run(void *argument) {
    ff_writer *writer = argument;
    store_commit_sync_defer(writer->commit_overlap);
    pthread_mutex_lock(&writer->lock);
    for (;;) {
        while (writer->head == NULL && !writer->stopping) {
            pthread_cond_wait(&writer->wake, &writer->lock);
        }
        if (writer->head == NULL && writer->stopping) break;
        size_t job_count = 0, commands = 0;
        writer_job *jobs = writer_group_take(writer, &job_count, &commands);
        pthread_mutex_unlock(&writer->lock);
        writer_group_apply(writer, jobs, job_count);
        pthread_mutex_lock(&writer->lock);
        writer_committed_push(writer, jobs);
    }
    writer->applying_stopped = true;
    pthread_cond_signal(&writer->committed_wake);
    pthread_mutex_unlock(&writer->lock);
    return NULL;
}

/* Makes every group in the list durable with one flush, begun after all of them committed, or
 * fails the ones that committed if the flush fails (their outcome is then unknown to their
 * clients, who retry under the same idempotency keys). */
static void writer_groups_sync(ff_writer *writer, writer_job *groups) {
    if (!writer->commit_overlap) return; /* each commit was durable when it returned */
    bool any_committed = false;
    for (writer_job *group = groups; group != NULL; group = group->group_next) {
        any_committed = any_committed || group->group_err == FF_OK;
    }
    if (!any_committed) return;
    ff_err err = store_sync(ledger_store(writer->ledger));
    if (err == FF_OK) return;
    logline_write("level=error msg=\"flush after commit failed\" data_dir=\"%s\" error=%s",
            store_data_dir(ledger_store(writer->ledger)), ff_err_name(err));
    for (writer_job *group = groups; group != NULL; group = group->group_next) {
        if (group->group_err != FF_OK) continue;
        for (writer_job *job = group; job != NULL; job = job->next) job->group_err = err;
    }
}

/* Signs the tree's head once for the groups about to be handed back, at the size the last of them
 * committed with that is durable: off the apply thread, so the next group's work overlaps the
 * signature and the signed_head file's rename, and before any reply, which carries the head. A
 * replicated group's head was signed where its entry was applied (the cluster's state machine
 * signs after every entry it applies, before replicate returns). */
static void writer_groups_sign(ff_writer *writer, const writer_job *groups) {
    if (writer->replicator) return;
    uint64_t tree_size = 0;
    for (const writer_job *group = groups; group != NULL; group = group->group_next) {
        if (group->group_err != FF_OK) continue;
        assert(group->head_sequence >= tree_size); /* groups in commit order */
        tree_size = group->head_sequence;
    }
    if (tree_size > 0) signing_after_commit(ledger_store(writer->ledger), tree_size);
}

/* The sync thread: takes every group applied so far, flushes once, and hands them back in the
 * order they committed. A reply therefore never leaves before its commit is durable. */
static void *writer_sync_thread_run(void *argument) {
    ff_writer *writer = argument;
    pthread_mutex_lock(&writer->lock);
    for (;;) {
        while (writer->committed_head == NULL && !writer->applying_stopped) {
            pthread_cond_wait(&writer->committed_wake, &writer->lock);
        }
        if (writer->committed_head == NULL) break;
        writer_job *groups = writer->committed_head;
        writer->committed_head = writer->committed_tail = NULL;
        pthread_mutex_unlock(&writer->lock);
        writer_groups_sync(writer, groups);
        writer_groups_sign(writer, groups);
        size_t jobs_handed_back = 0;
        while (groups != NULL) {
            writer_job *group = groups;
            groups = group->group_next;
            group->group_next = NULL;
            jobs_handed_back += group->group_job_count;
            writer->done(writer->done_argument, group, group->group_command_count);
        }
        pthread_mutex_lock(&writer->lock);
        writer->jobs_handed_back += jobs_handed_back;
        writer_queue_check(writer);
    }
    pthread_mutex_unlock(&writer->lock);
    return NULL;
}

static void writer_free(ff_writer *writer) {
    pthread_cond_destroy(&writer->committed_wake);
    pthread_cond_destroy(&writer->wake);
    pthread_mutex_destroy(&writer->lock);
    free(writer);
}

ff_err writer_start(ff_ledger *ledger, size_t queue_depth_max, bool commit_overlap,
                    const writer_replicator *replicator, writer_done_callback done,
                    void *done_argument, ff_writer **writer_out) {
    assert(replicator == NULL || (replicator->ready != NULL && replicator->replicate != NULL));
    ff_writer *started = calloc(1, sizeof *started);
    if (started == NULL) return FF_ERR_NO_MEMORY;
    started->ledger = ledger;
    started->depth_max = queue_depth_max;
    /* A replicated entry is applied, durably, by the cluster's apply (ledger_sealed_apply). */
    started->commit_overlap = commit_overlap && replicator == NULL;
    started->replicator = replicator;
    started->done = done;
    started->done_argument = done_argument;
    pthread_mutex_init(&started->lock, NULL);
    pthread_cond_init(&started->wake, NULL);
    pthread_cond_init(&started->committed_wake, NULL);
    if (pthread_create(&started->sync_thread, NULL, writer_sync_thread_run, started) != 0) {
        writer_free(started);
        return FF_ERR_INTERNAL;
    }
    if (pthread_create(&started->thread, NULL, writer_thread_run, started) != 0) {
        /* The sync thread ends once it sees nothing will be applied. */
        pthread_mutex_lock(&started->lock);
        started->applying_stopped = true;
        pthread_cond_signal(&started->committed_wake);
        pthread_mutex_unlock(&started->lock);
        pthread_join(started->sync_thread, NULL);
        writer_free(started);
        return FF_ERR_INTERNAL;
    }
    *writer_out = started;
    return FF_OK;
}

ff_err writer_submit(ff_writer *writer, writer_job *job) {
    /* A job comes in alone, with a result for each of its commands. */
    assert(job != NULL && job->next == NULL);
    assert(job->results != NULL && job->batch.command_count <= FF_BATCH_COMMANDS_MAX);
    pthread_mutex_lock(&writer->lock);
    ff_err err = writer->stopping                   ? FF_ERR_SHUTTING_DOWN
                 : writer->depth >= writer->depth_max ? FF_ERR_QUEUE_FULL
                                                      : FF_OK;
    if (err == FF_OK) {
        assert(job != writer->tail && job != writer->head);
        if (writer->tail) writer->tail->next = job;
        else writer->head = job;
        writer->tail = job;
        writer->depth++;
        writer->jobs_queued++;
        writer_queue_check(writer);
        pthread_cond_signal(&writer->wake);
    }
    pthread_mutex_unlock(&writer->lock);
    return err;
}

size_t writer_queue_depth(ff_writer *writer) {
    pthread_mutex_lock(&writer->lock);
    size_t depth = writer->depth;
    pthread_mutex_unlock(&writer->lock);
    return depth;
}

void writer_stop(ff_writer *writer) {
    if (writer == NULL) return;
    pthread_mutex_lock(&writer->lock);
    writer->stopping = true;
    pthread_cond_signal(&writer->wake);
    pthread_mutex_unlock(&writer->lock);
    pthread_join(writer->thread, NULL);
    pthread_join(writer->sync_thread, NULL);
    /* The apply thread drains the queue before it ends and the sync thread every group after
     * it, so every job queued has been handed back. */
    assert(writer->head == NULL && writer->depth == 0 && writer->committed_head == NULL);
    assert(writer->jobs_handed_back == writer->jobs_queued);
    writer_free(writer);
}
