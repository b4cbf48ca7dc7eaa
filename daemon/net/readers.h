/* fundflowd's reader threads: a fixed pool that runs read requests off the event loop.
 *
 * The event loop decodes nothing itself for a read: it queues a job, a reader thread runs it (the
 * job's run function decodes, queries through ledger_read_txn_begin and encodes the reply), and
 * hands it to the done callback, which runs on the reader thread and must only queue the job for
 * the loop, as the writer's callback does. The queue is bounded; a job never waits for a write,
 * and a write never waits for a job, since the writer is a thread of its own.
 */
#ifndef FUNDFLOW_READERS_H
#define FUNDFLOW_READERS_H

#include <stddef.h>

#include "fundflow/error.h"

typedef struct reader_job {
    struct reader_job *next;
    void (*run)(struct reader_job *job); /* runs on a reader thread */
} reader_job;

typedef struct ff_readers ff_readers;

/* Receives one finished job. Runs on the reader thread that ran it. */
typedef void (*readers_done_callback)(void *argument, reader_job *job);

/* What each reader thread runs first and last, on itself: fundflowd keeps one read transaction
 * per thread (store_reader_attach and store_reader_detach). Either may be NULL. */
typedef struct readers_thread_hooks {
    void (*begin)(void *argument);
    void (*end)(void *argument);
    void *argument;
} readers_thread_hooks;

/* Starts thread_count threads (1 to FF_READ_WORKERS_MAX), each running hooks (NULL for none)
 * around its jobs. FF_ERR_NO_MEMORY or FF_ERR_INTERNAL. */
ff_err readers_start(size_t thread_count, size_t depth_max, const readers_thread_hooks *hooks,
                     readers_done_callback done, void *done_argument, ff_readers **readers_out);

/* Queues a job. FF_ERR_QUEUE_FULL when depth_max jobs wait; FF_ERR_SHUTTING_DOWN once stopping. */
ff_err readers_submit(ff_readers *readers, reader_job *job);

/* Jobs queued and not yet taken by a thread. Any thread. */
size_t readers_queue_depth(ff_readers *readers);

/* Refuses new jobs, lets the threads run and hand back every queued job, and joins them.
 * NULL is allowed. */
void readers_stop(ff_readers *readers);

/* The thread count read_workers = 0 means: one per online core, within FF_READ_WORKERS_MAX. */
size_t readers_default_count(void);

#endif
