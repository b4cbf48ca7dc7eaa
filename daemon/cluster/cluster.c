/* The cluster engine (cluster.h): raft and raft_uv on a libuv loop in a thread of their own, the
 * ledger as Raft's state machine, and the hand-over of other threads' requests to that loop. */
#include "cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cluster_fsm.h"
#include "ledger_replica.h"
#include "logline.h"

typedef enum op_kind { OP_APPLY, OP_ADD, OP_REMOVE, OP_TRANSFER } op_kind;

/* One request of another thread, living on that thread's stack until done is set. */
typedef struct cluster_op {
    op_kind kind;
    struct cluster_op *next;
    ff_cluster *cluster;
    union {
        struct raft_apply apply;
        struct raft_change change;
        struct raft_transfer transfer;
    } request;
    struct raft_buffer buffer; /* OP_APPLY: the entry, owned by Raft once raft_apply succeeds */
    uint64_t id;
    const char *raft_address;
    bool voter;
    bool assigning; /* OP_ADD: the node is added, now being made a voter */
    bool done;
    ff_err result;
} cluster_op;

/* What this node knows of each node's RPC URL: the configuration file's, and those given to
 * cluster_add here. Raft's configuration carries only IDs and Raft addresses. */
typedef struct cluster_url {
    uint64_t id;
    char url[FF_CLUSTER_ADDRESS_BYTES];
} cluster_url;

struct ff_cluster {
    cluster_config config;
    ff_ledger *ledger;
    char raft_dir[FF_PATH_BYTES_MAX + 1];
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t tick;
    uv_check_t settle; /* stopping: after each turn of the loop, whether Raft may close yet */
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    cluster_fsm fsm_state;
    struct raft raft;
    /* Loop thread only: the barrier a new leader applies before it takes writes. */
    struct raft_barrier barrier;
    uint64_t barrier_term;
    uint64_t barrier_done_term;
    bool barrier_in_flight;
    bool draining; /* stopping: ops refused, Raft closed once its log is settled */
    unsigned settle_ticks;
    bool closing;  /* raft_close called */
    pthread_t thread;
    /* lock guards everything below. */
    pthread_mutex_t lock;
    pthread_cond_t answered;
    cluster_op *queue_head;
    cluster_op *queue_tail;
    unsigned callers; /* threads inside op_run, which cluster_stop waits out before freeing */
    bool stopping;
    bool ready;
    cluster_status status;
    cluster_url urls[FF_CLUSTER_NODES_MAX * 2];
    size_t url_count;
};

static cluster_role role_from_raft(int state) {
    switch (state) {
    case RAFT_FOLLOWER: return CLUSTER_ROLE_FOLLOWER;
    case RAFT_CANDIDATE: return CLUSTER_ROLE_CANDIDATE;
    case RAFT_LEADER: return CLUSTER_ROLE_LEADER;
    default: return CLUSTER_ROLE_UNAVAILABLE;
    }
}

/* A Raft error code as the error table's. */
static ff_err err_from_raft(int rv) {
    switch (rv) {
    case 0: return FF_OK;
    case RAFT_NOTLEADER: return FF_ERR_NOT_LEADER;
    case RAFT_BADID:
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
    case RAFT_BADROLE:
    case RAFT_NOTFOUND: return FF_ERR_CLUSTER_MEMBER;
    case RAFT_CANTCHANGE:
    case RAFT_BUSY: return FF_ERR_CLUSTER_BUSY;
    default: return FF_ERR_REPLICATION_UNKNOWN;
    }
}

/* Under lock. The URL known for id, or NULL. */
static const char *url_find(const ff_cluster *cluster, uint64_t id) {
    for (size_t i = 0; i < cluster->url_count; i++) {
        if (cluster->urls[i].id == id) return cluster->urls[i].url;
    }
    return NULL;
}

/* Under lock. Records (or replaces) the URL of id; silently keeps the oldest when full. */
static void url_remember(ff_cluster *cluster, uint64_t id, const char *url) {
    for (size_t i = 0; i < cluster->url_count; i++) {
        if (cluster->urls[i].id == id) {
            snprintf(cluster->urls[i].url, sizeof cluster->urls[i].url, "%s", url);
            return;
        }
    }
    if (cluster->url_count == sizeof cluster->urls / sizeof cluster->urls[0]) return;
    cluster->urls[cluster->url_count].id = id;
    snprintf(cluster->urls[cluster->url_count].url, FF_CLUSTER_ADDRESS_BYTES, "%s", url);
    cluster->url_count++;
}

/* ---- The loop thread: status, barrier, requests. ---- */

static void node_status_fill(ff_cluster *cluster, size_t index, uint64_t leader_id,
                             cluster_node_status *node) {
    struct raft *raft = &cluster->raft;
    const struct raft_server *server = &raft->configuration.servers[index];
    node->id = server->id;
    snprintf(node->raft_address, sizeof node->raft_address, "%s", server->address);
    const char *url = url_find(cluster, server->id);
    snprintf(node->url, sizeof node->url, "%s", url != NULL ? url : "");
    node->voter = server->role == RAFT_VOTER;
    node->role = CLUSTER_ROLE_UNAVAILABLE;
    node->match_index = 0;
    if (server->id == raft->id) {
        node->role = role_from_raft(raft_state(raft));
        node->match_index = raft->last_stored;
    } else if (raft_state(raft) == RAFT_LEADER) {
        const struct raft_progress *progress = &raft->leader_state.progress[index];
        node->role = progress->recent_recv ? CLUSTER_ROLE_FOLLOWER : CLUSTER_ROLE_UNAVAILABLE;
        node->match_index = progress->match_index;
    } else if (server->id == leader_id) {
        node->role = CLUSTER_ROLE_LEADER;
    }
}

/* Copies Raft's state where other threads can read it. */
static void status_refresh(ff_cluster *cluster) {
    struct raft *raft = &cluster->raft;
    raft_id leader_id = 0;
    const char *leader_address = NULL;
    raft_leader(raft, &leader_id, &leader_address);
    pthread_mutex_lock(&cluster->lock);
    cluster_status *status = &cluster->status;
    status->self_id = raft->id;
    status->role = role_from_raft(raft_state(raft));
    status->term = raft->current_term;
    status->leader_id = leader_id;
    status->commit_index = raft->commit_index;
    status->applied_index = raft_last_applied(raft);
    status->last_index = raft_last_index(raft);
    status->node_count = 0;
    for (size_t i = 0; i < raft->configuration.n && i < FF_CLUSTER_NODES_MAX; i++) {
        node_status_fill(cluster, i, leader_id, &status->nodes[i]);
        status->node_count++;
    }
    cluster->ready = raft_state(raft) == RAFT_LEADER &&
                     cluster->barrier_done_term == raft->current_term;
    pthread_mutex_unlock(&cluster->lock);
}

static void barrier_done(struct raft_barrier *request, int status) {
    ff_cluster *cluster = request->data;
    cluster->barrier_in_flight = false;
    if (status == 0 && raft_state(&cluster->raft) == RAFT_LEADER &&
        cluster->raft.current_term == cluster->barrier_term) {
        cluster->barrier_done_term = cluster->barrier_term;
        logline_write("level=info msg=\"cluster: leading, ready for writes\" term=%" PRIu64,
                      cluster->barrier_term);
    }
    if (!cluster->draining) status_refresh(cluster);
}

/* A new leader first commits a barrier of its own term, so that every entry committed before
 * it is applied to the ledger before the writer seals anything on top of it. */
static void barrier_start_if_needed(ff_cluster *cluster) {
    struct raft *raft = &cluster->raft;
    if (raft_state(raft) != RAFT_LEADER || cluster->barrier_in_flight ||
        cluster->barrier_done_term == raft->current_term) {
        return;
    }
    cluster->barrier.data = cluster;
    cluster->barrier_term = raft->current_term;
    if (raft_barrier(raft, &cluster->barrier, barrier_done) == 0) cluster->barrier_in_flight = true;
}

static void close_when_settled(ff_cluster *cluster);

static void tick_run(uv_timer_t *timer) {
    ff_cluster *cluster = timer->data;
    if (cluster->draining) {
        cluster->settle_ticks++;
        close_when_settled(cluster);
        return;
    }
    barrier_start_if_needed(cluster);
    status_refresh(cluster);
}

static void op_finish(cluster_op *op, ff_err result) {
    ff_cluster *cluster = op->cluster;
    pthread_mutex_lock(&cluster->lock);
    op->result = result;
    op->done = true; /* the waiting thread may free op from here on */
    pthread_cond_broadcast(&cluster->answered);
    pthread_mutex_unlock(&cluster->lock);
}

static void apply_done(struct raft_apply *request, int status, void *result) {
    cluster_op *op = request->data;
    /* result is the state machine's: non-NULL when the entry recorded events. */
    op_finish(op, status == 0 && result != NULL ? FF_OK : FF_ERR_REPLICATION_UNKNOWN);
}

static void change_done(struct raft_change *request, int status) {
    cluster_op *op = request->data;
    ff_cluster *cluster = op->cluster;
    /* raft_add adds a spare, which copies nothing: then it becomes a voter or a standby. */
    if (status == 0 && op->kind == OP_ADD && !op->assigning) {
        op->assigning = true;
        int role = op->voter ? RAFT_VOTER : RAFT_STANDBY;
        int rv = raft_assign(&cluster->raft, &op->request.change, op->id, role, change_done);
        if (rv == 0) return;
        status = rv;
    }
    op_finish(op, err_from_raft(status));
}

static void transfer_done(struct raft_transfer *request) {
    cluster_op *op = request->data;
    raft_id leader_id = 0;
    const char *leader_address = NULL;
    raft_leader(&op->cluster->raft, &leader_id, &leader_address);
    bool moved = op->id != 0 ? leader_id == op->id
                             : leader_id != 0 && leader_id != op->cluster->raft.id;
    op_finish(op, moved ? FF_OK : FF_ERR_REPLICATION_UNKNOWN);
}

static int op_begin_apply(ff_cluster *cluster, cluster_op *op) {
    if (raft_state(&cluster->raft) != RAFT_LEADER) return RAFT_NOTLEADER;
    return raft_apply(&cluster->raft, &op->request.apply, &op->buffer, 1, apply_done);
}

/* Starts op on Raft; answers it at once if Raft refuses. */
static void op_begin(ff_cluster *cluster, cluster_op *op) {
    struct raft *raft = &cluster->raft;
    op->request.apply.data = op; /* data is the first member of every request */
    int rv = 0;
    switch (op->kind) {
    case OP_APPLY:
        rv = op_begin_apply(cluster, op);
        if (rv == RAFT_NOTLEADER) raft_free(op->buffer.base); /* not taken: Raft refused first */
        if (rv != 0) {
            op_finish(op, FF_ERR_REPLICATION_UNKNOWN);
            return;
        }
        break;
    case OP_ADD:
        op->request.change.data = op;
        rv = raft_add(raft, &op->request.change, op->id, op->raft_address, change_done);
        break;
    case OP_REMOVE:
        op->request.change.data = op;
        rv = raft_remove(raft, &op->request.change, op->id, change_done);
        break;
    case OP_TRANSFER:
        op->request.transfer.data = op;
        rv = raft_transfer(raft, &op->request.transfer, op->id, transfer_done);
        break;
    }
    if (rv != 0) op_finish(op, err_from_raft(rv));
}

/* Raft and raft_uv have closed every handle and request of theirs: closing this layer's three
 * ends the loop. */
static void raft_closed(struct raft *raft) {
    ff_cluster *cluster = raft->data;
    uv_close((uv_handle_t *)&cluster->wake, NULL);
    uv_close((uv_handle_t *)&cluster->tick, NULL);
    uv_close((uv_handle_t *)&cluster->settle, NULL);
}

/* raft_uv 0.15 must not be closed while it truncates the log on disk (on libuv's thread pool):
 * closing calls the truncation's barrier callback a second time, which frees the request the
 * pool is still using, and the pool's completion then writes through the freed request
 * (uvTruncateAfterWorkCb; a SIGSEGV at stop, seen as 1 run in 30 of test_cluster_minority;
 * canonical/raft fixed it after 0.15, commit 5319cd9). A follower truncates only to replace
 * conflicting entries by an AppendEntries' own, which it appends at once, and raft_uv starts
 * that append only once the truncation has finished. So while every entry of the log is stored
 * (last_stored at the last index), no truncation runs; Raft's other disk work, which raft_uv
 * does wait for when closing, has finished then too. */
static bool raft_log_settled(ff_cluster *cluster) {
    return cluster->raft.last_stored >= raft_last_index(&cluster->raft);
}

/* Stopping, on the loop: closes Raft once its log is settled, or after
 * FF_CLUSTER_STOP_SETTLE_TICKS ticks of waiting (a disk failing every write never settles). */
static void close_when_settled(ff_cluster *cluster) {
    if (cluster->closing) return;
    bool settled = raft_log_settled(cluster);
    if (!settled && cluster->settle_ticks < FF_CLUSTER_STOP_SETTLE_TICKS) return;
    if (!settled) {
        fprintf(stderr, "level=warn msg=\"cluster: closing Raft with log writes still in "
                "flight\" last_stored=%" PRIu64 " last_index=%" PRIu64 "\n",
                (uint64_t)cluster->raft.last_stored, (uint64_t)raft_last_index(&cluster->raft));
    }
    cluster->closing = true;
    uv_check_stop(&cluster->settle);
    uv_timer_stop(&cluster->tick);
    raft_close(&cluster->raft, raft_closed);
}

static void settle_run(uv_check_t *check) {
    close_when_settled(check->data);
}

/* Runs the queued requests, or, once stopping, answers them and closes Raft. */
static void wake_run(uv_async_t *async) {
    ff_cluster *cluster = async->data;
    pthread_mutex_lock(&cluster->lock);
    cluster_op *queued = cluster->queue_head;
    cluster->queue_head = cluster->queue_tail = NULL;
    bool stopping = cluster->stopping;
    pthread_mutex_unlock(&cluster->lock);
    while (queued != NULL) {
        cluster_op *op = queued;
        queued = op->next;
        if (stopping || cluster->draining) {
            if (op->kind == OP_APPLY) raft_free(op->buffer.base);
            op_finish(op, FF_ERR_REPLICATION_UNKNOWN);
        } else {
            op_begin(cluster, op);
        }
    }
    if (stopping && !cluster->draining) {
        cluster->draining = true;
        uv_check_start(&cluster->settle, settle_run);
        close_when_settled(cluster);
    }
}

static void *loop_thread(void *argument) {
    ff_cluster *cluster = argument;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
    uv_run(&cluster->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- Other threads. ---- */

/* Queues op for the loop and waits for its answer. */
static ff_err op_run(ff_cluster *cluster, cluster_op *op) {
    op->cluster = cluster;
    op->next = NULL;
    op->done = false;
    pthread_mutex_lock(&cluster->lock);
    if (cluster->stopping) {
        pthread_mutex_unlock(&cluster->lock);
        if (op->kind == OP_APPLY) raft_free(op->buffer.base);
        return FF_ERR_REPLICATION_UNKNOWN;
    }
    if (cluster->queue_tail != NULL) {
        cluster->queue_tail->next = op;
    } else {
        cluster->queue_head = op;
    }
    cluster->queue_tail = op;
    cluster->callers++;
    /* Under the lock: the loop closes wake only after it has seen stopping, which the lock holds
     * off until this send is made. */
    uv_async_send(&cluster->wake);
    while (!op->done) pthread_cond_wait(&cluster->answered, &cluster->lock);
    ff_err result = op->result;
    cluster->callers--;
    pthread_cond_broadcast(&cluster->answered); /* cluster_stop may be waiting for callers */
    pthread_mutex_unlock(&cluster->lock);
    return result;
}

ff_err cluster_replicate(ff_cluster *cluster, const uint8_t *entry, size_t entry_size) {
    cluster_op op = {.kind = OP_APPLY};
    if (cluster_entry_wrap(entry, entry_size, &op.buffer) != 0) return FF_ERR_NO_MEMORY;
    return op_run(cluster, &op);
}

ff_err cluster_ready(ff_cluster *cluster) {
    pthread_mutex_lock(&cluster->lock);
    bool ready = cluster->ready;
    pthread_mutex_unlock(&cluster->lock);
    return ready ? FF_OK : FF_ERR_NOT_LEADER;
}

ff_err cluster_leader(ff_cluster *cluster, char *leader_url, size_t leader_url_bytes) {
    pthread_mutex_lock(&cluster->lock);
    bool leads = cluster->status.role == CLUSTER_ROLE_LEADER;
    const char *url = cluster->status.leader_id != 0 ? url_find(cluster, cluster->status.leader_id)
                                                     : NULL;
    if (leader_url_bytes > 0) snprintf(leader_url, leader_url_bytes, "%s", url ? url : "");
    pthread_mutex_unlock(&cluster->lock);
    return leads ? FF_OK : FF_ERR_NOT_LEADER;
}

void cluster_status_read(ff_cluster *cluster, cluster_status *status_out) {
    pthread_mutex_lock(&cluster->lock);
    *status_out = cluster->status;
    pthread_mutex_unlock(&cluster->lock);
}

ff_err cluster_add(ff_cluster *cluster, uint64_t id, const char *raft_address, const char *url,
                   bool voter) {
    if (id == 0 || raft_address == NULL || raft_address[0] == '\0') return FF_ERR_CLUSTER_MEMBER;
    pthread_mutex_lock(&cluster->lock);
    if (url != NULL && url[0] != '\0') url_remember(cluster, id, url);
    pthread_mutex_unlock(&cluster->lock);
    cluster_op op = {.kind = OP_ADD, .id = id, .raft_address = raft_address, .voter = voter};
    return op_run(cluster, &op);
}

ff_err cluster_remove(ff_cluster *cluster, uint64_t id) {
    cluster_op op = {.kind = OP_REMOVE, .id = id};
    return op_run(cluster, &op);
}

ff_err cluster_transfer(ff_cluster *cluster, uint64_t id) {
    cluster_op op = {.kind = OP_TRANSFER, .id = id};
    return op_run(cluster, &op);
}

void cluster_applied_callback_set(ff_cluster *cluster, cluster_applied_callback callback,
                                  void *argument) {
    cluster_fsm_notify_set(&cluster->fsm_state, callback, argument);
}

/* ---- Start and stop. ---- */


static ff_err start_fail(char *error, size_t error_bytes, const char *what, const char *detail) {
    snprintf(error, error_bytes, "cannot start the cluster: %s: %s", what, detail);
    return FF_ERR_CLUSTER_START;
}

/* The file's nodes, all voters, as a Raft configuration (0 or a Raft error). */
static int configuration_of_file(const cluster_config *config,
                                 struct raft_configuration *configuration) {
    raft_configuration_init(configuration);
    int rv = 0;
    for (size_t i = 0; i < config->node_count && rv == 0; i++) {
        const cluster_node_config *node = &config->nodes[i];
        rv = raft_configuration_add(configuration, node->id, node->raft_address, RAFT_VOTER);
    }
    return rv;
}

/* True if this node's Raft directory holds no state yet (raft_uv's metadata files). */
static bool raft_state_missing(const ff_cluster *cluster) {
    char path[sizeof cluster->raft_dir + 16];
    struct stat info;
    for (int i = 1; i <= 2; i++) {
        snprintf(path, sizeof path, "%s/metadata%d", cluster->raft_dir, i);
        if (stat(path, &info) == 0) return false;
    }
    return true;
}

/* A new cluster starts its log at index 1, so it must not start over a ledger that recorded an
 * index of another cluster's log: every entry up to that index would be taken as applied. (A
 * ledger copied from a node of this cluster, to seed a joining node, is fine: join = yes.) */
static ff_err ledger_fits_new_log(ff_cluster *cluster, char *error, size_t error_bytes) {
    uint64_t applied = 0;
    if (cluster->config.join || !raft_state_missing(cluster)) return FF_OK;
    if (ledger_applied_index_read(cluster->ledger, &applied) != FF_OK || applied == 0) {
        return FF_OK;
    }
    snprintf(error, error_bytes, "cannot start the cluster: the ledger in this data directory "
             "applied Raft index %" PRIu64 " of another cluster's log, and %s holds no Raft "
             "state: a new cluster cannot start on it; to start one from this ledger, run "
             "fundflow-admin rebuild on it first (docs/CLUSTER.md: restoring when a majority is "
             "lost)", applied, cluster->raft_dir);
    return FF_ERR_CLUSTER_START;
}

static ff_err recover_if_asked(ff_cluster *cluster, char *error, size_t error_bytes) {
    if (!cluster->config.recover) return FF_OK;
    struct raft_configuration configuration;
    int rv = configuration_of_file(&cluster->config, &configuration);
    if (rv == 0) rv = raft_recover(&cluster->raft, &configuration);
    raft_configuration_close(&configuration);
    if (rv != 0) return start_fail(error, error_bytes, "recover", raft_errmsg(&cluster->raft));
    fprintf(stderr, "level=warn msg=\"cluster: recovered with the configuration file's nodes; "
            "remove 'recover = yes' before the next start\" nodes=%zu\n",
            cluster->config.node_count);
    return FF_OK;
}

static ff_err bootstrap_if_new(ff_cluster *cluster, char *error, size_t error_bytes) {
    if (cluster->config.join) return FF_OK;
    ff_err err = ledger_fits_new_log(cluster, error, error_bytes);
    if (err != FF_OK) return err;
    struct raft_configuration configuration;
    int rv = configuration_of_file(&cluster->config, &configuration);
    if (rv == 0) rv = raft_bootstrap(&cluster->raft, &configuration);
    raft_configuration_close(&configuration);
    if (rv == 0) {
        fprintf(stderr, "level=info msg=\"cluster: bootstrapped\" nodes=%zu\n",
                cluster->config.node_count);
    }
    if (rv == 0 || rv == RAFT_CANTBOOTSTRAP) return FF_OK; /* CANTBOOTSTRAP: state exists */
    return start_fail(error, error_bytes, "bootstrap", raft_errmsg(&cluster->raft));
}

static void raft_closed_quietly(struct raft *raft) {
    (void)raft;
}

/* Undoes raft_init after a failed start: Raft closes on the loop, which then ends. */
static void raft_abandon(ff_cluster *cluster) {
    raft_close(&cluster->raft, raft_closed_quietly);
    uv_run(&cluster->loop, UV_RUN_DEFAULT);
}

/* Frees what cluster_start made before Raft: the state machine, the lock, the struct. */
static void cluster_shell_free(ff_cluster *cluster) {
    cluster_fsm_close(&cluster->fsm_state);
    pthread_cond_destroy(&cluster->answered);
    pthread_mutex_destroy(&cluster->lock);
    free(cluster);
}

static void cluster_free(ff_cluster *cluster) {
    raft_uv_close(&cluster->io);
    raft_uv_tcp_close(&cluster->transport);
    uv_run(&cluster->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&cluster->loop) != 0) {
        fprintf(stderr, "level=warn msg=\"cluster: loop closed with handles open\"\n");
    }
    cluster_shell_free(cluster);
}

/* raft_uv and raft: the data directory, the transport, the timings. */
static ff_err raft_open(ff_cluster *cluster, const char *data_dir, char *error,
                        size_t error_bytes) {
    int written = snprintf(cluster->raft_dir, sizeof cluster->raft_dir, "%s/raft", data_dir);
    if (written < 0 || (size_t)written >= sizeof cluster->raft_dir) {
        return start_fail(error, error_bytes, "data directory", "path too long");
    }
    if (mkdir(cluster->raft_dir, 0700) != 0 && errno != EEXIST) {
        return start_fail(error, error_bytes, cluster->raft_dir, strerror(errno));
    }
    if (raft_uv_tcp_init(&cluster->transport, &cluster->loop) != 0) {
        return start_fail(error, error_bytes, "transport", "cannot initialise");
    }
    if (raft_uv_init(&cluster->io, &cluster->loop, cluster->raft_dir, &cluster->transport) != 0) {
        ff_err err = start_fail(error, error_bytes, cluster->raft_dir, cluster->io.errmsg);
        raft_uv_tcp_close(&cluster->transport);
        return err;
    }
    /* raft_uv 0.15 implements async_work (the thread pool asynchronous snapshots need) but
     * still says io->version 1, which raft_init then refuses for them: say 2, which is what it
     * provides. */
    if (cluster->io.version < 2 && cluster->io.async_work != NULL) cluster->io.version = 2;
    const cluster_node_config *self = cluster_config_self(&cluster->config);
    if (raft_init(&cluster->raft, &cluster->io, &cluster->fsm, self->id, self->raft_address) != 0) {
        /* The I/O backend probes the directory here: a file system without O_DIRECT or
         * asynchronous I/O that raft_uv does not know fails now, saying so. */
        ff_err err = start_fail(error, error_bytes, cluster->raft_dir, cluster->io.errmsg[0] ?
                                cluster->io.errmsg : raft_errmsg(&cluster->raft));
        raft_uv_close(&cluster->io);
        raft_uv_tcp_close(&cluster->transport);
        return err;
    }
    cluster->raft.data = cluster;
    raft_set_election_timeout(&cluster->raft, cluster->config.election_timeout_ms);
    raft_set_heartbeat_timeout(&cluster->raft, cluster->config.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&cluster->raft, cluster->config.snapshot_threshold);
    raft_set_snapshot_trailing(&cluster->raft, cluster->config.snapshot_trailing);
    raft_set_pre_vote(&cluster->raft, true);
    return FF_OK;
}

/* raft 0.15 reports a Raft address it cannot listen on only as "I/O error": try it first, as
 * libuv will bind it (SO_REUSEADDR), to say why. 0, or the errno of the failure. */
static int raft_address_bind_try(const char *address) {
    char host[FF_CLUSTER_ADDRESS_BYTES];
    snprintf(host, sizeof host, "%s", address);
    char *colon = strrchr(host, ':');
    if (colon == NULL) return EINVAL;
    *colon = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &found) != 0) return EADDRNOTAVAIL;
    int result = 0;
    int descriptor = socket(found->ai_family, SOCK_STREAM, 0);
    int on = 1;
    if (descriptor < 0 ||
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(descriptor, found->ai_addr, found->ai_addrlen) != 0) {
        result = errno;
    }
    if (descriptor >= 0) close(descriptor);
    freeaddrinfo(found);
    return result;
}

static ff_err raft_run(ff_cluster *cluster, char *error, size_t error_bytes) {
    const char *address = cluster_config_self(&cluster->config)->raft_address;
    int bind_error = raft_address_bind_try(address);
    if (bind_error != 0) {
        snprintf(error, error_bytes, "cannot start the cluster: cannot listen for Raft on %s: %s "
                 "(is another fundflowd using it? the node's line in the cluster file names it)",
                 address, strerror(bind_error));
        return FF_ERR_CLUSTER_START;
    }
    ff_err err = bootstrap_if_new(cluster, error, error_bytes);
    if (err == FF_OK) err = recover_if_asked(cluster, error, error_bytes);
    int rv = err == FF_OK ? raft_start(&cluster->raft) : 0;
    if (rv != 0) {
        char why[2 * RAFT_ERRMSG_BUF_SIZE + 64];
        snprintf(why, sizeof why, "%s%s%s", raft_strerror(rv),
                 raft_errmsg(&cluster->raft)[0] ? ": " : "", raft_errmsg(&cluster->raft));
        err = start_fail(error, error_bytes, address, why);
    }
    if (err != FF_OK) return err;
    uv_async_init(&cluster->loop, &cluster->wake, wake_run);
    cluster->wake.data = cluster;
    uv_timer_init(&cluster->loop, &cluster->tick);
    cluster->tick.data = cluster;
    uv_timer_start(&cluster->tick, tick_run, 0, FF_CLUSTER_TICK_MS);
    uv_check_init(&cluster->loop, &cluster->settle);
    cluster->settle.data = cluster;
    status_refresh(cluster);
    if (pthread_create(&cluster->thread, NULL, loop_thread, cluster) != 0) {
        uv_close((uv_handle_t *)&cluster->wake, NULL);
        uv_close((uv_handle_t *)&cluster->tick, NULL);
        uv_close((uv_handle_t *)&cluster->settle, NULL);
        return start_fail(error, error_bytes, "thread", "cannot create");
    }
    return FF_OK;
}

ff_err cluster_start(const cluster_config *config, const char *data_dir, ff_ledger *ledger,
                     ff_cluster **cluster_out, char *error, size_t error_bytes) {
    *cluster_out = NULL;
    ff_cluster *cluster = calloc(1, sizeof *cluster);
    if (cluster == NULL) return FF_ERR_NO_MEMORY;
    cluster->config = *config;
    cluster->ledger = ledger;
    pthread_mutex_init(&cluster->lock, NULL);
    pthread_cond_init(&cluster->answered, NULL);
    for (size_t i = 0; i < config->node_count; i++) {
        url_remember(cluster, config->nodes[i].id, config->nodes[i].url);
    }
    ff_err err = cluster_fsm_init(&cluster->fsm_state, &cluster->fsm, ledger, &cluster->raft,
                                  data_dir);
    if (err != FF_OK) {
        err = start_fail(error, error_bytes, data_dir, "path too long");
    } else if (uv_loop_init(&cluster->loop) != 0) {
        err = start_fail(error, error_bytes, "libuv", "no loop");
    } else {
        err = raft_open(cluster, data_dir, error, error_bytes);
        if (err != FF_OK) uv_loop_close(&cluster->loop);
    }
    if (err != FF_OK) {
        cluster_shell_free(cluster);
        return err;
    }
    err = raft_run(cluster, error, error_bytes);
    if (err != FF_OK) {
        raft_abandon(cluster);
        cluster_free(cluster);
        return err;
    }
    *cluster_out = cluster;
    return FF_OK;
}

/* The order: no more callbacks out or ops in; the loop answers the queued ops, waits until
 * Raft's log is settled, closes Raft (which answers the ops inside it) and, once Raft's close
 * callback has run, its own handles, so the loop ends with none; the thread is joined; the
 * callers answered leave op_run; then raft_uv, the transport and the loop are freed. */
void cluster_stop(ff_cluster *cluster) {
    if (cluster == NULL) return;
    cluster_fsm_notify_set(&cluster->fsm_state, NULL, NULL);
    pthread_mutex_lock(&cluster->lock);
    cluster->stopping = true;
    uv_async_send(&cluster->wake);
    pthread_mutex_unlock(&cluster->lock);
    pthread_join(cluster->thread, NULL);
    pthread_mutex_lock(&cluster->lock);
    while (cluster->callers > 0) pthread_cond_wait(&cluster->answered, &cluster->lock);
    pthread_mutex_unlock(&cluster->lock);
    cluster_free(cluster);
}
