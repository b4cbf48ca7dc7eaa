/* The writer: one thread that applies every write, committing many requests' batches together,
 * and one that makes each commit durable before its replies go.
 *
 * The network thread queues a job per SubmitCommands request. The apply thread drains as many
 * jobs as fit in one group (FF_GROUP_COMMIT_COMMANDS_MAX commands) and applies them with
 * ledger_batches_apply in one transaction and passes the group to the sync thread, which hands
 * each group's jobs, in commit order, to the done callback; it runs on the sync thread and must
 * only queue them for the network thread. No reply leaves before its commit is durable.
 * By default (commit_overlap false) the commit is durable when it returns, as LMDB's default
 * makes it, so no reader ever sees a commit that is not durable. With commit_overlap, the commit
 * flushes its data pages and writes, without flushing, the meta page (store_commit_sync_defer);
 * the apply thread takes the next group at once, and the sync thread flushes the file once for
 * every group committed so far (store_sync) before handing them back. Group N's last flush then
 * overlaps group N+1's work, but a read may see a commit up to one flush before it is durable.
 * In both settings the sync thread signs the tree's head, at the size of the last group it hands
 * back, before the replies go (a signed head never covers a commit that is not durable). See
 * docs/ARCHITECTURE.md, "Group commit".
 * A dry-run job (batch.dry_run, from SubmitCommandsRequest.dry_run) joins a group like any
 * other; the ledger abandons its changes alone, so its neighbours commit as if it were absent.
 */
#ifndef FUNDFLOW_WRITER_H
#define FUNDFLOW_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "fundflow/v1/ledger.pb-c.h"

typedef struct writer_job {
    struct writer_job *next;
    Fundflow__V1__SubmitCommandsRequest *request; /* owned by the job */
    ledger_batch batch;                           /* points into request */
    ledger_result *results;                       /* batch.command_count of them */
    ff_err group_err;                             /* what ledger_batches_apply returned */
    uint64_t head_sequence;                       /* the head after the group committed */
    void *context;                                /* the server's, untouched here */
    /* The writer's own, on a group's first job: the next group waiting for its flush, and this
     * group's size. */
    struct writer_job *group_next;
    size_t group_job_count, group_command_count;
} writer_job;

typedef struct ff_writer ff_writer;

/* How the writer hands a sealed group to a cluster (daemon/cluster fills it in); without one the
 * writer commits groups itself, as a single node. With one, the apply thread calls ready, seals
 * the group (ledger_batches_seal), calls replicate with the entry, and replies only once
 * replicate has returned FF_OK: the entry is committed by a majority and applied here. */
typedef struct writer_replicator {
    void *argument;
    /* Before sealing a group: FF_OK once this node leads and has applied every entry committed
     * before its term; FF_ERR_NOT_LEADER otherwise (the group's jobs are refused with it). */
    ff_err (*ready)(void *argument);
    /* Replicates one entry and returns once it is applied here: FF_OK if its events were
     * recorded, FF_ERR_REPLICATION_UNKNOWN if leadership was lost first or the entry was skipped
     * as stale (the clients retry with their idempotency keys). */
    ff_err (*replicate)(void *argument, const uint8_t *entry, size_t entry_size);
} writer_replicator;

/* Receives one group's finished jobs as a list linked through next, and the number of commands
 * the group committed. Runs on the writer's sync thread. */
typedef void (*writer_done_callback)(void *argument, writer_job *jobs, size_t group_commands);

/* Starts the writer's threads; commit_overlap as above. replicator NULL: a single node, exactly
 * as above. With one (it must outlive the writer), each group goes through ready, seal and
 * replicate; FF_ERR_NOT_LEADER or FF_ERR_REPLICATION_UNKNOWN (or any error they return) becomes
 * the group_err of every job of the group, and every result carries it. commit_overlap is then
 * ignored: the entry is made durable where it is applied (ledger_sealed_apply). Returns FF_OK,
 * FF_ERR_NO_MEMORY or FF_ERR_INTERNAL. */
ff_err writer_start(ff_ledger *ledger, size_t queue_depth_max, bool commit_overlap,
                    const writer_replicator *replicator, writer_done_callback done,
                    void *done_argument, ff_writer **writer_out);

/* Queues a job. FF_ERR_QUEUE_FULL if queue_depth_max jobs already wait; FF_ERR_SHUTTING_DOWN once
 * writer_stop has begun. Network thread. */
ff_err writer_submit(ff_writer *writer, writer_job *job);

/* How many jobs wait now. Any thread. */
size_t writer_queue_depth(ff_writer *writer);

/* Refuses new jobs, lets the writer finish every queued one, and joins its thread. */
void writer_stop(ff_writer *writer);

/* Frees a job and everything it owns. */
void writer_job_free(writer_job *job);

#endif
