/* The reader threads: a bounded queue of read jobs and a fixed pool of threads draining it. */
#include "readers.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fundflow/limits.h"

/* Each reader thread and each event-loop thread may keep a read transaction, and so an LMDB
 * reader slot, for its life; the slots left must cover verify and other processes' readers. */
_Static_assert(FF_READ_WORKERS_MAX + FF_EVENT_LOOPS_MAX + 16 <= FF_READERS_MAX,
               "reader and loop threads must leave at least 16 of LMDB's reader slots to others");

struct ff_readers {
    pthread_t threads[FF_READ_WORKERS_MAX];
    size_t thread_count;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    reader_job *head, *tail;
    size_t depth, depth_max;
    /* Every job queued is handed back exactly once: these count both, under the lock. */
    uint64_t jobs_queued, jobs_handed_back;
    bool stopping;
    readers_thread_hooks hooks;
    readers_done_callback done;
    void *done_argument;
};

static void readers_queue_check(const ff_readers *readers) {
    assert(readers->depth <= readers->depth_max);
    assert((readers->head == NULL) == (readers->tail == NULL));
    assert((readers->head == NULL) == (readers->depth == 0));
    assert(readers->tail == NULL || readers->tail->next == NULL);
    assert(readers->jobs_handed_back + readers->depth <= readers->jobs_queued);
}

static void *readers_thread_run(void *argument) {
    ff_readers *readers = argument;
    if (readers->hooks.begin) readers->hooks.begin(readers->hooks.argument);
    pthread_mutex_lock(&readers->lock);
    for (;;) {
        while (readers->head == NULL && !readers->stopping) {
            pthread_cond_wait(&readers->wake, &readers->lock);
        }
        if (readers->head == NULL) break;
        reader_job *job = readers->head;
        readers->head = job->next;
        if (readers->head == NULL) readers->tail = NULL;
        readers->depth--;
        job->next = NULL;
        readers_queue_check(readers);
        pthread_mutex_unlock(&readers->lock);
        job->run(job);
        readers->done(readers->done_argument, job);
        pthread_mutex_lock(&readers->lock);
        readers->jobs_handed_back++;
    }
    pthread_mutex_unlock(&readers->lock);
    if (readers->hooks.end) readers->hooks.end(readers->hooks.argument);
    return NULL;
}

size_t readers_default_count(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    return (size_t)cores < FF_READ_WORKERS_MAX ? (size_t)cores : FF_READ_WORKERS_MAX;
}

static void readers_free(ff_readers *readers) {
    pthread_cond_destroy(&readers->wake);
    pthread_mutex_destroy(&readers->lock);
    free(readers);
}

ff_err readers_start(size_t thread_count, size_t depth_max, const readers_thread_hooks *hooks,
                     readers_done_callback done, void *done_argument, ff_readers **readers_out) {
    assert(thread_count >= 1 && thread_count <= FF_READ_WORKERS_MAX && depth_max >= 1);
    *readers_out = NULL;
    ff_readers *readers = calloc(1, sizeof *readers);
    if (readers == NULL) return FF_ERR_NO_MEMORY;
    readers->depth_max = depth_max;
    if (hooks) readers->hooks = *hooks;
    readers->done = done;
    readers->done_argument = done_argument;
    pthread_mutex_init(&readers->lock, NULL);
    pthread_cond_init(&readers->wake, NULL);
    for (size_t i = 0; i < thread_count; i++) {
        if (pthread_create(&readers->threads[i], NULL, readers_thread_run, readers) != 0) {
            readers_stop(readers);
            return FF_ERR_INTERNAL;
        }
        readers->thread_count++;
    }
    *readers_out = readers;
    return FF_OK;
}

ff_err readers_submit(ff_readers *readers, reader_job *job) {
    assert(job != NULL && job->next == NULL && job->run != NULL);
    pthread_mutex_lock(&readers->lock);
    ff_err err = readers->stopping                       ? FF_ERR_SHUTTING_DOWN
                 : readers->depth >= readers->depth_max ? FF_ERR_QUEUE_FULL
                                                        : FF_OK;
    if (err == FF_OK) {
        if (readers->tail) readers->tail->next = job;
        else readers->head = job;
        readers->tail = job;
        readers->depth++;
        readers->jobs_queued++;
        readers_queue_check(readers);
        pthread_cond_signal(&readers->wake);
    }
    pthread_mutex_unlock(&readers->lock);
    return err;
}

size_t readers_queue_depth(ff_readers *readers) {
    pthread_mutex_lock(&readers->lock);
    size_t depth = readers->depth;
    pthread_mutex_unlock(&readers->lock);
    return depth;
}

void readers_stop(ff_readers *readers) {
    if (readers == NULL) return;
    pthread_mutex_lock(&readers->lock);
    readers->stopping = true;
    pthread_cond_broadcast(&readers->wake);
    pthread_mutex_unlock(&readers->lock);
    for (size_t i = 0; i < readers->thread_count; i++) pthread_join(readers->threads[i], NULL);
    /* The threads drain the queue before they end: every job queued has been handed back. */
    assert(readers->head == NULL && readers->depth == 0);
    assert(readers->jobs_handed_back == readers->jobs_queued);
    readers_free(readers);
}
