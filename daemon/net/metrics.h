/* fundflowd's counters and histograms, rendered in the Prometheus text format.
 *
 * Counters are C11 atomics, so the network thread (requests) and the writer thread (commits)
 * record without locks; rendering reads them without stopping either.
 */
#ifndef FUNDFLOW_METRICS_H
#define FUNDFLOW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server_cluster.h"

typedef struct ff_metrics ff_metrics;

ff_metrics *metrics_create(void);
void metrics_free(ff_metrics *metrics);

/* Counts one finished request. method is a Ledger RPC name or NULL (for anything else); code is
 * "ok" or a Twirp error code. Network thread. */
void metrics_request_record(ff_metrics *metrics, const char *method, const char *code,
                            uint64_t duration_us);

/* Counts one group commit of this many commands. Writer thread. */
void metrics_commit_record(ff_metrics *metrics, size_t commands);

typedef struct metrics_gauges {
    uint64_t events_total;
    uint64_t database_bytes;
    uint64_t queue_depth;
    uint64_t connections;
    uint64_t read_queue_depth;  /* read requests waiting for a reader thread */
    uint64_t log_lines_dropped; /* log lines (any layer's) dropped because the log did not drain */
    uint64_t watchers_parked;   /* WatchEvents requests waiting for an event */
    uint64_t sequence_waiters;  /* requests waiting for their Fundflow-Min-Sequence */
    /* The connections each event loop holds, loop_count of them (the loops' share-out). */
    const uint64_t *loop_connections;
    size_t loop_count;
    /* This node's view of its cluster; NULL when not in one (no fundflow_cluster_ lines). */
    const server_cluster_status *cluster;
} metrics_gauges;

/* The exposition text, malloc'd; NULL if memory runs out. Any thread. */
char *metrics_render(ff_metrics *metrics, const metrics_gauges *gauges);

#endif
