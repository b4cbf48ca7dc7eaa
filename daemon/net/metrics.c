/* Counting requests and commits, and writing them out for Prometheus. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_view.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Requests are counted by the Ledger service's methods, named from its descriptor so that every
 * RPC is counted under its own name as soon as it is added, and by "other" (unknown routes and
 * paths outside Twirp) in the slot after them. */
static const ProtobufCServiceDescriptor *const metrics_service = &fundflow__v1__ledger__descriptor;
#define METRICS_METHOD_SLOTS (FF_RPC_METHODS_MAX + 1)

/* The name of counting slot m: a method's, or "other" for the last. */
static const char *metrics_method_name(size_t m) {
    return m < metrics_service->n_methods ? metrics_service->methods[m].name : "other";
}

static const char *const metrics_codes[] = {
    "ok",          "canceled",        "unknown",           "invalid_argument",
    "malformed",   "deadline_exceeded", "not_found",       "bad_route",
    "already_exists", "permission_denied", "unauthenticated", "resource_exhausted",
    "failed_precondition", "aborted", "out_of_range",      "unimplemented",
    "internal",    "unavailable",     "data_loss",
};
#define METRICS_CODE_COUNT (sizeof metrics_codes / sizeof metrics_codes[0])

/* Upper bounds of the latency buckets in microseconds, and of the commit-size buckets. */
static const uint64_t metrics_latency_bounds_us[] = {250,   500,    1000,   2500,   5000,
                                                     10000, 25000,  50000,  100000, 250000,
                                                     500000, 1000000, 2500000};
#define METRICS_LATENCY_BUCKETS (sizeof metrics_latency_bounds_us / sizeof(uint64_t))
static const uint64_t metrics_commit_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000,
                                                 5000, 10000};
#define METRICS_COMMIT_BUCKETS (sizeof metrics_commit_bounds / sizeof(uint64_t))

struct ff_metrics {
    atomic_uint_fast64_t requests[METRICS_METHOD_SLOTS][METRICS_CODE_COUNT];
    atomic_uint_fast64_t latency_buckets[METRICS_LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t latency_count;
    atomic_uint_fast64_t commit_buckets[METRICS_COMMIT_BUCKETS + 1];
    atomic_uint_fast64_t commit_commands_sum;
    atomic_uint_fast64_t commit_count;
};

ff_metrics *metrics_create(void) {
    if (metrics_service->n_methods > FF_RPC_METHODS_MAX) return NULL;
    return calloc(1, sizeof(ff_metrics));
}

void metrics_free(ff_metrics *metrics) { free(metrics); }

static size_t metrics_index(const char *const *names, size_t count, const char *name,
                            size_t fallback) {
    for (size_t i = 0; name != NULL && i < count; i++) {
        if (strcmp(names[i], name) == 0) return i;
    }
    return fallback;
}

static size_t metrics_bucket(const uint64_t *bounds, size_t count, uint64_t value) {
    size_t bucket = 0;
    while (bucket < count && value > bounds[bucket]) bucket++;
    return bucket;
}

void metrics_request_record(ff_metrics *metrics, const char *method, const char *code,
                            uint64_t duration_us) {
    size_t method_index = metrics_service->n_methods; /* "other" */
    for (size_t m = 0; method != NULL && m < metrics_service->n_methods; m++) {
        if (strcmp(metrics_service->methods[m].name, method) == 0) method_index = m;
    }
    size_t code_index = metrics_index(metrics_codes, METRICS_CODE_COUNT, code, 2);
    atomic_fetch_add(&metrics->requests[method_index][code_index], 1);
    size_t bucket = metrics_bucket(metrics_latency_bounds_us, METRICS_LATENCY_BUCKETS,
                                   duration_us);
    atomic_fetch_add(&metrics->latency_buckets[bucket], 1);
    atomic_fetch_add(&metrics->latency_sum_us, duration_us);
    atomic_fetch_add(&metrics->latency_count, 1);
}

void metrics_commit_record(ff_metrics *metrics, size_t commands) {
    size_t bucket = metrics_bucket(metrics_commit_bounds, METRICS_COMMIT_BUCKETS, commands);
    atomic_fetch_add(&metrics->commit_buckets[bucket], 1);
    atomic_fetch_add(&metrics->commit_commands_sum, commands);
    atomic_fetch_add(&metrics->commit_count, 1);
}

/* A growing text buffer; on allocation failure it stops growing and text becomes NULL. */
typedef struct metrics_text {
    char *text;
    size_t length, capacity;
} metrics_text;

__attribute__((format(printf, 2, 3))) static void metrics_append(metrics_text *out,
                                                                  const char *format, ...) {
    if (out->text == NULL) return;
    va_list arguments;
    va_start(arguments, format);
    int needed = vsnprintf(out->text + out->length, out->capacity - out->length, format,
                           arguments);
    va_end(arguments);
    if (needed < 0) return;
    if (out->length + (size_t)needed >= out->capacity) {
        out->capacity = (out->capacity + (size_t)needed) * 2;
        char *grown = realloc(out->text, out->capacity);
        if (grown == NULL) {
            free(out->text);
            out->text = NULL;
            return;
        }
        out->text = grown;
        va_start(arguments, format);
        vsnprintf(out->text + out->length, out->capacity - out->length, format, arguments);
        va_end(arguments);
    }
    out->length += (size_t)needed;
}

static void metrics_requests_render(ff_metrics *metrics, metrics_text *out) {
    metrics_append(out, "# HELP fundflow_requests_total Requests by RPC method and outcome.\n"
                        "# TYPE fundflow_requests_total counter\n");
    for (size_t m = 0; m <= metrics_service->n_methods; m++) {
        for (size_t c = 0; c < METRICS_CODE_COUNT; c++) {
            uint64_t count = atomic_load(&metrics->requests[m][c]);
            if (count == 0) continue;
            metrics_append(out, "fundflow_requests_total{method=\"%s\",code=\"%s\"} %llu\n",
                           metrics_method_name(m), metrics_codes[c], (unsigned long long)count);
        }
    }
}

static void metrics_histogram_render(metrics_text *out, const char *name, const char *help,
                                     const uint64_t *bounds, size_t bound_count,
                                     atomic_uint_fast64_t *buckets, double bound_scale,
                                     double sum, uint64_t count) {
    metrics_append(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bound_count; i++) {
        cumulative += atomic_load(&buckets[i]);
        metrics_append(out, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] * bound_scale,
                       (unsigned long long)cumulative);
    }
    cumulative += atomic_load(&buckets[bound_count]);
    metrics_append(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %g\n%s_count %llu\n", name,
                   (unsigned long long)cumulative, name, sum, name, (unsigned long long)count);
}

/* The cluster's gauges: this node's role, term and indexes, and on the leader how far behind
 * each node is (0 elsewhere, where it is not known). */
static void metrics_cluster_render(metrics_text *out, const server_cluster_status *cluster) {
    metrics_append(out,
                   "# HELP fundflow_cluster_role This node's role: 0 unavailable, 1 follower, "
                   "2 candidate, 3 leader.\n"
                   "# TYPE fundflow_cluster_role gauge\nfundflow_cluster_role %u\n"
                   "# HELP fundflow_cluster_term The Raft term this node is in.\n"
                   "# TYPE fundflow_cluster_term gauge\nfundflow_cluster_term %llu\n"
                   "# HELP fundflow_cluster_commit_index The highest Raft index known committed."
                   "\n# TYPE fundflow_cluster_commit_index gauge\n"
                   "fundflow_cluster_commit_index %llu\n"
                   "# HELP fundflow_cluster_applied_index The highest Raft index applied to this "
                   "node's ledger.\n# TYPE fundflow_cluster_applied_index gauge\n"
                   "fundflow_cluster_applied_index %llu\n"
                   "# HELP fundflow_cluster_node_behind Entries a node is behind the leader's "
                   "log, as the leader knows it (0 on other nodes).\n"
                   "# TYPE fundflow_cluster_node_behind gauge\n",
                   (unsigned)cluster->role, (unsigned long long)cluster->term,
                   (unsigned long long)cluster->commit_index,
                   (unsigned long long)cluster->applied_index);
    for (size_t i = 0; i < cluster->node_count && i < FF_CLUSTER_NODES_MAX; i++) {
        const server_cluster_node *node = &cluster->nodes[i];
        metrics_append(out, "fundflow_cluster_node_behind{node=\"%llu\"} %llu\n",
                       (unsigned long long)node->id,
                       (unsigned long long)cluster_view_behind(cluster, node));
    }
}

char *metrics_render(ff_metrics *metrics, const metrics_gauges *gauges) {
    metrics_text out = {malloc(4096), 0, 4096};
    metrics_requests_render(metrics, &out);
    metrics_histogram_render(&out, "fundflow_request_duration_seconds",
                             "Time from a request's arrival to its reply.",
                             metrics_latency_bounds_us, METRICS_LATENCY_BUCKETS,
                             metrics->latency_buckets, 1e-6,
                             (double)atomic_load(&metrics->latency_sum_us) / 1e6,
                             atomic_load(&metrics->latency_count));
    metrics_histogram_render(&out, "fundflow_commit_batch_commands",
                             "Commands in each group commit (one transaction, one fsync).",
                             metrics_commit_bounds, METRICS_COMMIT_BUCKETS,
                             metrics->commit_buckets, 1.0,
                             (double)atomic_load(&metrics->commit_commands_sum),
                             atomic_load(&metrics->commit_count));
    metrics_append(&out,
                   "# HELP fundflow_events_total Events in the log.\n"
                   "# TYPE fundflow_events_total gauge\nfundflow_events_total %llu\n"
                   "# HELP fundflow_database_bytes Bytes of the LMDB data file in use.\n"
                   "# TYPE fundflow_database_bytes gauge\nfundflow_database_bytes %llu\n"
                   "# HELP fundflow_write_queue_depth Write requests waiting for the writer.\n"
                   "# TYPE fundflow_write_queue_depth gauge\nfundflow_write_queue_depth %llu\n"
                   "# HELP fundflow_connections Open client connections.\n"
                   "# TYPE fundflow_connections gauge\nfundflow_connections %llu\n"
                   "# HELP fundflow_read_queue_depth Read requests waiting for a reader thread.\n"
                   "# TYPE fundflow_read_queue_depth gauge\nfundflow_read_queue_depth %llu\n"
                   "# HELP fundflow_log_lines_dropped_total Log lines dropped because the log "
                   "did not drain.\n"
                   "# TYPE fundflow_log_lines_dropped_total counter\n"
                   "fundflow_log_lines_dropped_total %llu\n"
                   "# HELP fundflow_watchers_parked WatchEvents requests waiting for an event.\n"
                   "# TYPE fundflow_watchers_parked gauge\nfundflow_watchers_parked %llu\n"
                   "# HELP fundflow_sequence_waiters Requests waiting for this node to reach "
                   "their Fundflow-Min-Sequence.\n"
                   "# TYPE fundflow_sequence_waiters gauge\nfundflow_sequence_waiters %llu\n",
                   (unsigned long long)gauges->events_total,
                   (unsigned long long)gauges->database_bytes,
                   (unsigned long long)gauges->queue_depth,
                   (unsigned long long)gauges->connections,
                   (unsigned long long)gauges->read_queue_depth,
                   (unsigned long long)gauges->log_lines_dropped,
                   (unsigned long long)gauges->watchers_parked,
                   (unsigned long long)gauges->sequence_waiters);
    metrics_append(&out, "# HELP fundflow_event_loop_connections Connections each event loop "
                         "holds.\n# TYPE fundflow_event_loop_connections gauge\n");
    for (size_t l = 0; l < gauges->loop_count; l++) {
        metrics_append(&out, "fundflow_event_loop_connections{loop=\"%zu\"} %llu\n", l,
                       (unsigned long long)gauges->loop_connections[l]);
    }
    if (gauges->cluster != NULL) metrics_cluster_render(&out, gauges->cluster);
    return out.text;
}
