/* fundflowd's event loops: connections and their limits, routing, the authorization point,
 * replies, and the hand-offs to and from the writer thread and the reader threads. One loop per
 * core (event_loops), each on its own thread with its own connections; the web view's files
 * are ui.c's. */
#include "server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "backup.h"
#include "cluster_view.h"
#include "command.h"
#include "export.h"
#include "health.h"
#include "logfile.h"
#include "logline.h"
#include "logsink.h"
#include "metrics.h"
#include "principals.h"
#include "query.h"
#include "readers.h"
#include "signing.h"
#include "tls.h"
#include "twirp.h"
#include "ui.h"
#include "watch.h"
#include "writer.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

#define SERVER_TWIRP_PREFIX "/twirp/fundflow.v1.Ledger/"

/* A peer's numeric address as libevent gives it: an IPv6 address is at most 45 characters. */
#define SERVER_PEER_BYTES 64

typedef struct server_loop server_loop;

/* Every accepted connection, from its accept until libevent has let it go, so that a request
 * that takes too long to arrive can be cut off: libevent 2.1's own timeout restarts at every byte.
 * Holds a reference on the bufferevent, so a deadline that fires after libevent has closed the
 * connection finds the bufferevent still allocated, with its callbacks cleared. */
typedef struct server_arrival {
    server_loop *loop;
    struct bufferevent *bufferevent;
    struct evbuffer_cb_entry *bytes_watch;
    struct event *deadline;
    bool tracked; /* a server_connection owns it, and releases it when the connection closes */
    bool waiting; /* no request is being served: the next byte starts the deadline */
    struct server_arrival *previous, *next;
} server_arrival;

/* A client connection we have seen a request on. Freed once closed and no job refers to it. */
typedef struct server_connection {
    struct evhttp_connection *connection;
    server_loop *loop; /* the loop that accepted it: every request on it is served there */
    server_arrival *arrival; /* NULL if the connection could not be watched */
    char peer[SERVER_PEER_BYTES];
    uint32_t jobs_pending;
    bool awaiting_reply;
    bool closed;
} server_connection;

/* What a write queued for the writer was asked for, and so how to answer it. */
typedef enum server_write {
    SERVER_WRITE_COMMANDS,  /* SubmitCommands */
    SERVER_WRITE_GRANT,     /* GrantPrincipal: the token goes back with the record */
    SERVER_WRITE_REVOKE,    /* RevokePrincipal */
} server_write;

/* One request from arrival to reply. */
typedef struct server_call {
    struct ff_server *server;
    server_loop *loop; /* the loop its connection belongs to, which sends its reply */
    struct evhttp_request *request;
    server_connection *connection;
    const char *method; /* the RPC name, or NULL for other routes */
    twirp_content content;
    uint64_t started_us;
    size_t batch_commands;
    access_principal who; /* who asks: its name is every event's actor */
    bool authorized;      /* passed the authorization point: its reply names a sequence */
    bool sequence_known;  /* sequence is the head the answer reflects; else read when replying */
    uint64_t sequence;
    server_write write;
    char subject[FF_PRINCIPAL_NAME_BYTES_MAX + 1]; /* the principal granted or revoked */
    char token[FF_TOKEN_TEXT_BYTES + 1];            /* the granted token, wiped once sent */
} server_call;

/* A long task on a thread of its own: a verification replays the whole log, a backup copies it.
 * One of each kind at a time; the loop thread replies when its done_event fires. */
typedef struct server_task server_task;
typedef void (*server_task_work)(server_task *task);
struct server_task {
    server_call call;
    server_task_work work;
    server_task **slot; /* the server's field that holds it while it runs */
    pthread_t thread;
    struct event *done_event;
    ProtobufCMessage *response;
    ff_failure failure;
    ff_err err;
};

/* A reply built off the loop thread, for the loop to send: status, code and content type are
 * static strings, the body is the answer's own (malloc'd; NULL sends an empty body). */
typedef struct server_answer {
    int status;
    const char *code; /* "ok" or a Twirp error code */
    const char *content_type;
    uint8_t *body;
    size_t body_bytes;
} server_answer;

/* A read RPC on its way through a reader thread: the body to decode there, what to run, and the
 * reply it built. job comes first, so the pool's job is the read. */
typedef struct server_read {
    reader_job job;
    server_call call;
    const ProtobufCMessageDescriptor *input;
    query_handler handler; /* NULL: a plugins method (RunReport, ListPlugins, ReloadPlugins) */
    ProtobufCMessage *decoded; /* decoded on the loop already (server_read_on_loop), or NULL */
    uint8_t *body;
    size_t body_bytes;
    server_answer answer;
    /* WatchEvents only: the request, kept across its waits (its after_sequence moves past
     * events the scope does not cover), when the wait ends, and its place while parked. */
    Fundflow__V1__WatchEventsRequest *watch;
    uint64_t watch_deadline_us; /* server_monotonic_us */
    bool watch_park;            /* the page was empty: park it rather than answer */
    watch_waiter waiter;
} server_read;

/* SIGHUP's plugin reload, run on a reader thread, so that the loop never waits under the plugins
 * lock for a long report to end. */
typedef struct server_reload {
    reader_job job;
    struct ff_server *server;
    plugins_setting *settings; /* a copy of the settings re-read, or NULL: keep the current ones */
    size_t setting_count;
} server_reload;

/* One event loop and everything only its thread touches: its connections, the requests parked
 * on them, and the queues the writer and the reader threads hand its finished work back on. */
struct server_loop {
    struct ff_server *server;
    size_t index; /* 0 is the first loop, which also takes the signals; it runs on server_run's
                     thread, each other on a thread of its own */
    pthread_t thread;
    bool thread_started;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound; /* the listening socket (a duplicate of the first's) */
    struct event *done_event, *read_done_event, *head_event, *shutdown_event, *grace_event;
    struct event *balance_event; /* another loop's count of connections changed */
    /* Connections libevent holds on this loop (atomic: the others read it), and whether this
     * loop's listener is taking new ones (server_loop_balance). */
    size_t arrivals_open;
    bool accepting;
    watch_hub *watch; /* parked WatchEvents requests */
    /* Requests parked until the head reaches their Fundflow-Min-Sequence (same machinery). */
    watch_hub *sequence_waits;
    pthread_mutex_t done_lock;
    writer_job *done_head, *done_tail;
    /* Reads handed back by the reader threads, linked through job.next, under read_done_lock. */
    pthread_mutex_t read_done_lock;
    reader_job *read_done_head, *read_done_tail;
    /* This loop's connections: changed by this loop under the server's connections_lock, read
     * by this loop without it and by the others under it. */
    server_connection **connections;
    size_t connection_count;
    server_arrival *arrivals; /* every connection libevent holds, tracked or not */
    uint64_t in_flight;       /* atomic: read by the shutdown's log line on another loop */
    uint64_t jobs_pending;
    bool stopping; /* this loop has begun to shut down (server_loop_shutdown) */
};

struct ff_server {
    config *settings;
    ff_ledger *ledger;
    ff_plugins *plugins;
    ff_writer *writer;
    ff_readers *readers;
    ff_logsink *log; /* every line this file logs once serving, the request log first */
    ff_metrics *metrics;
    server_loop *loops[FF_EVENT_LOOPS_MAX];
    size_t loop_count;
    SSL_CTX *tls; /* NULL: plain HTTP. Not owned (server_tls_use). */
    struct event *reader_check_event; /* on the first loop */
    /* One verification and one backup at a time, whichever loop asked: under tasks_lock. */
    pthread_mutex_t tasks_lock;
    server_task *verify; /* the verification in progress, or NULL */
    server_task *backup; /* the backup in progress, or NULL */
    struct event *signal_events[3]; /* on the first loop */
    /* SIGHUP re-reads the admin token and metrics_role (config_reload) on the first loop while
     * every loop authenticates: the re-read holds this alone, authentication shared. */
    pthread_rwlock_t settings_lock;
    /* The parked requests of every loop's hubs, counted together against one limit. */
    size_t watchers_parked, sequence_waiters_parked;
    /* max_connections and the share of one peer hold across every loop's connections. */
    pthread_mutex_t connections_lock;
    size_t connection_count; /* every loop's, under connections_lock */
    /* The in-memory head: the highest head a commit (server_writer_done) or an applied entry
     * (server_events_applied) has reported, raised from any thread and never lowered. Every
     * event up to it is committed, so a read begun after loading it sees it at least: that is
     * the Fundflow-Sequence of a read's reply, with no transaction to learn it. */
    uint64_t head_known; /* atomic */
    /* Plugins run one call at a time: a plugin's report callback is never called from two
     * threads at once (plugin.h), and a reload must not meet a report. */
    pthread_mutex_t plugins_lock;
    /* The plugins loaded, as ListPlugins lists them, for ServerInfo: refreshed under
     * plugins_lock after every load and reload, and read under a lock of its own, so that
     * ServerInfo never waits for a report. NULL: none listed. */
    pthread_mutex_t plugins_listed_lock;
    Fundflow__V1__ListPluginsResponse *plugins_listed;
    bool shutting_down; /* atomic: set by the signal, read by every loop */
    int64_t started_at_us;
    uint64_t started_monotonic_us;
    uint16_t port; /* the port listened on, as chosen when the setting was 0 */
};

static uint64_t server_monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* Raises the in-memory head to head (a commit or an applied entry); a lower one changes
 * nothing. Any thread. */
static void server_head_raise(ff_server *server, uint64_t head) {
    /* Sequentially consistent, as server_any_parked and server_parked_head_check need. */
    uint64_t known = __atomic_load_n(&server->head_known, __ATOMIC_SEQ_CST);
    while (known < head &&
           !__atomic_compare_exchange_n(&server->head_known, &known, head, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
}

/* The in-memory head: every event up to it is committed. Any thread. */
static uint64_t server_head_known(const ff_server *server) {
    return __atomic_load_n(&server->head_known, __ATOMIC_SEQ_CST);
}

static bool server_shutting_down(const ff_server *server) {
    return __atomic_load_n(&server->shutting_down, __ATOMIC_ACQUIRE);
}

static void server_in_flight_add(server_loop *loop, int64_t change) {
    __atomic_add_fetch(&loop->in_flight, (uint64_t)change, __ATOMIC_RELAXED);
}

static uint64_t server_in_flight(const server_loop *loop) {
    return __atomic_load_n(&loop->in_flight, __ATOMIC_RELAXED);
}

static void server_exit_if_idle(server_loop *loop) {
    if (loop->stopping && server_in_flight(loop) == 0 && loop->jobs_pending == 0) {
        event_base_loopexit(loop->base, NULL);
    }
}

/* ---- sharing connections out between the loops ----
 *
 * Every loop polls the one listening socket, and libevent's listener accepts every connection
 * waiting when it wakes, so a burst of connections would all go to the loop that woke first and
 * stay there. A loop therefore takes new connections only while it holds at most
 * FF_LOOP_CONNECTIONS_AHEAD_MAX more than the loop holding fewest: past that it disables its
 * listener (libevent then stops accepting at once) until its share is open again. The loop with
 * fewest is always open, so some loop always accepts. */

static size_t server_loop_arrivals(const server_loop *loop) {
    return __atomic_load_n(&loop->arrivals_open, __ATOMIC_RELAXED);
}

static bool server_loop_share_open(const server_loop *loop) {
    const ff_server *server = loop->server;
    size_t fewest = SIZE_MAX;
    for (size_t l = 0; l < server->loop_count; l++) {
        size_t held = server_loop_arrivals(server->loops[l]);
        if (held < fewest) fewest = held;
    }
    return server_loop_arrivals(loop) <= fewest + FF_LOOP_CONNECTIONS_AHEAD_MAX;
}

/* On loop's thread: opens or closes its listener to match its share. */
static void server_loop_balance(server_loop *loop) {
    if (loop->bound == NULL) return;
    bool open = server_loop_share_open(loop);
    if (open == loop->accepting) return;
    struct evconnlistener *listener = evhttp_bound_socket_get_listener(loop->bound);
    if (open) evconnlistener_enable(listener);
    else evconnlistener_disable(listener);
    loop->accepting = open;
}

static void server_balance_drain(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop_balance(argument);
}

/* loop's count changed by change: it judges its own share now, the others on their threads. */
static void server_loop_arrivals_add(server_loop *loop, int change) {
    __atomic_add_fetch(&loop->arrivals_open, (size_t)(ptrdiff_t)change, __ATOMIC_RELAXED);
    ff_server *server = loop->server;
    if (server->loop_count == 1 || server_shutting_down(server)) return;
    server_loop_balance(loop);
    for (size_t l = 0; l < server->loop_count; l++) {
        if (server->loops[l] != loop) event_active(server->loops[l]->balance_event, EV_READ, 0);
    }
}

/* ---- how long a request may take to arrive ---- */

static void server_arrival_release(server_arrival *arrival) {
    server_loop *loop = arrival->loop;
    if (arrival->previous) arrival->previous->next = arrival->next;
    else loop->arrivals = arrival->next;
    if (arrival->next) arrival->next->previous = arrival->previous;
    evbuffer_remove_cb_entry(bufferevent_get_input(arrival->bufferevent), arrival->bytes_watch);
    event_free(arrival->deadline);
    bufferevent_decref(arrival->bufferevent);
    free(arrival);
    server_loop_arrivals_add(loop, -1);
}

static void server_arrival_arm(server_arrival *arrival) {
    uint32_t seconds = arrival->loop->server->settings->request_timeout_seconds;
    if (seconds > FF_REQUEST_ARRIVAL_SECONDS_MAX) seconds = FF_REQUEST_ARRIVAL_SECONDS_MAX;
    struct timeval deadline = {(time_t)seconds, 0};
    evtimer_add(arrival->deadline, &deadline);
}

/* The request did not arrive in time: libevent closes the connection as for its own timeout.
 * If libevent has closed it already, its callbacks are gone and the trigger does nothing. */
static void server_arrival_expired(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_arrival *arrival = argument;
    bool tracked = arrival->tracked;
    bufferevent_trigger_event(arrival->bufferevent, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
    /* A tracked connection's close released the arrival inside the trigger. */
    if (!tracked) server_arrival_release(arrival);
}

/* Bytes came in; the first of a new request on a kept-alive connection starts its deadline. */
static void server_arrival_bytes(struct evbuffer *input, const struct evbuffer_cb_info *info,
                                 void *argument) {
    (void)input;
    server_arrival *arrival = argument;
    if (info->n_added == 0 || !arrival->waiting || evtimer_pending(arrival->deadline, NULL)) {
        return;
    }
    server_arrival_arm(arrival);
}

/* libevent asks for each accepted connection's bufferevent; the deadline starts now. Without
 * memory for the watch the connection is served unwatched, as libevent would by itself. */
static struct bufferevent *server_arrival_begin(struct event_base *base, void *argument) {
    server_loop *loop = argument;
    ff_server *server = loop->server;
    server_arrival *arrival = calloc(1, sizeof *arrival);
    /* No options: libevent closes the socket itself, as for the bufferevents it makes. A TLS
     * bufferevent closes it when freed, since only that frees its SSL: after the reference the
     * arrival holds is dropped, at the deadline at the latest. */
    struct bufferevent *bufferevent = server->tls ? tls_bufferevent_new(base, server->tls)
                                                  : bufferevent_socket_new(base, -1, 0);
    struct event *deadline = evtimer_new(base, server_arrival_expired, arrival);
    struct evbuffer_cb_entry *watch =
        bufferevent && arrival ? evbuffer_add_cb(bufferevent_get_input(bufferevent),
                                                 server_arrival_bytes, arrival)
                               : NULL;
    if (arrival == NULL || bufferevent == NULL || deadline == NULL || watch == NULL) {
        if (watch) evbuffer_remove_cb_entry(bufferevent_get_input(bufferevent), watch);
        if (deadline) event_free(deadline);
        free(arrival);
        return bufferevent;
    }
    *arrival = (server_arrival){.loop = loop, .bufferevent = bufferevent,
                                .bytes_watch = watch, .deadline = deadline, .waiting = true,
                                .next = loop->arrivals};
    if (loop->arrivals) loop->arrivals->previous = arrival;
    loop->arrivals = arrival;
    bufferevent_incref(bufferevent);
    server_arrival_arm(arrival);
    server_loop_arrivals_add(loop, 1);
    return bufferevent;
}

static server_arrival *server_arrival_find(server_loop *loop,
                                           struct evhttp_connection *connection) {
    struct bufferevent *bufferevent = evhttp_connection_get_bufferevent(connection);
    for (server_arrival *arrival = loop->arrivals; arrival; arrival = arrival->next) {
        if (arrival->bufferevent == bufferevent) return arrival;
    }
    return NULL;
}

/* A request has arrived whole and is being served: no deadline until its reply is sent. */
static void server_arrival_served(server_arrival *arrival) {
    if (arrival == NULL) return;
    arrival->waiting = false;
    evtimer_del(arrival->deadline);
}

/* The reply is sent; bytes of the next request may be waiting already. */
static void server_arrival_wait(server_arrival *arrival) {
    if (arrival == NULL) return;
    arrival->waiting = true;
    if (evbuffer_get_length(bufferevent_get_input(arrival->bufferevent)) > 0) {
        server_arrival_arm(arrival);
    }
}

/* ---- connections ---- */

static void server_connection_release(server_connection *tracked) {
    if (tracked->closed && tracked->jobs_pending == 0) free(tracked);
}

static void server_connection_closed(struct evhttp_connection *connection, void *argument) {
    (void)connection;
    server_connection *tracked = argument;
    server_loop *loop = tracked->loop;
    ff_server *server = loop->server;
    pthread_mutex_lock(&server->connections_lock);
    for (size_t i = 0; i < loop->connection_count; i++) {
        if (loop->connections[i] == tracked) {
            loop->connections[i] = loop->connections[--loop->connection_count];
            assert(server->connection_count > 0);
            server->connection_count--;
            break;
        }
    }
    pthread_mutex_unlock(&server->connections_lock);
    /* The request it was serving dies with it, and no reply will complete. */
    if (tracked->awaiting_reply) server_in_flight_add(loop, -1);
    tracked->awaiting_reply = false;
    tracked->closed = true;
    watch_hub_owner_gone(loop->watch, tracked);
    if (tracked->arrival) server_arrival_release(tracked->arrival);
    tracked->arrival = NULL;
    server_connection_release(tracked);
    server_exit_if_idle(loop);
}

/* The most connections one peer address may hold: FF_CONNECTIONS_PER_PEER_MAX, and never more
 * than half the table, so that one address can never take every slot from the others. */
static size_t server_peer_connections_max(const ff_server *server) {
    size_t half = server->settings->connections_max / 2;
    if (half < 1) half = 1;
    return half < FF_CONNECTIONS_PER_PEER_MAX ? half : FF_CONNECTIONS_PER_PEER_MAX;
}

/* The connections peer holds on every loop. connections_lock held. */
static size_t server_peer_connections(const ff_server *server, const char *peer) {
    size_t count = 0;
    for (size_t l = 0; l < server->loop_count; l++) {
        const server_loop *loop = server->loops[l];
        for (size_t i = 0; i < loop->connection_count; i++) {
            if (strcmp(loop->connections[i]->peer, peer) == 0) count++;
        }
    }
    return count;
}

/* Takes a place for a new connection of peer's in loop's table, within max_connections and the
 * peer's share, both counted over every loop. False when there is none. */
static bool server_connection_admit(server_loop *loop, server_connection *tracked) {
    ff_server *server = loop->server;
    pthread_mutex_lock(&server->connections_lock);
    bool admitted = server->connection_count < server->settings->connections_max &&
                    server_peer_connections(server, tracked->peer) <
                        server_peer_connections_max(server);
    if (admitted) {
        loop->connections[loop->connection_count++] = tracked;
        server->connection_count++;
    }
    pthread_mutex_unlock(&server->connections_lock);
    return admitted;
}

/* Finds or starts tracking the request's connection; NULL when the table is full or the peer
 * already holds its share of it. */
static server_connection *server_connection_track(server_loop *loop,
                                                  struct evhttp_request *request) {
    struct evhttp_connection *connection = evhttp_request_get_connection(request);
    for (size_t i = 0; i < loop->connection_count; i++) {
        if (loop->connections[i]->connection == connection) return loop->connections[i];
    }
    char *address = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(connection, &address, &port);
    server_connection *tracked = calloc(1, sizeof *tracked);
    if (tracked == NULL) return NULL;
    snprintf(tracked->peer, sizeof tracked->peer, "%s", address ? address : "");
    tracked->connection = connection;
    tracked->loop = loop;
    if (!server_connection_admit(loop, tracked)) {
        free(tracked);
        return NULL;
    }
    tracked->arrival = server_arrival_find(loop, connection);
    if (tracked->arrival) tracked->arrival->tracked = true;
    /* Replies are written whole, so Nagle's algorithm only delays them behind delayed ACKs. */
    int no_delay = 1;
    evutil_socket_t socket_fd = bufferevent_getfd(evhttp_connection_get_bufferevent(connection));
    setsockopt(socket_fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
    evhttp_connection_set_closecb(connection, server_connection_closed, tracked);
    return tracked;
}

/* ---- replies ---- */

static void server_reply_completed(struct evhttp_request *request, void *argument) {
    (void)request;
    server_connection *tracked = argument;
    if (tracked->awaiting_reply) {
        tracked->awaiting_reply = false;
        server_in_flight_add(tracked->loop, -1);
    }
    server_arrival_wait(tracked->arrival);
    server_exit_if_idle(tracked->loop);
}

static void server_log(const server_call *call, int status, const char *code) {
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->request);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    /* Milliseconds with three decimals, as whole microseconds: no floating-point formatting. */
    uint64_t duration_us = server_monotonic_us() - call->started_us;
    logsink_line(call->server->log,
                 "level=info msg=request method=%s path=\"%s\" status=%d code=%s "
                 "duration_ms=%" PRIu64 ".%03u batch=%zu principal=%s",
            call->method ? call->method : "-", path ? path : "-", status, code,
            duration_us / 1000u, (unsigned)(duration_us % 1000u), call->batch_commands,
            call->who.name[0] ? call->who.name : "-");
}

/* Fundflow-Sequence: N on every reply to a caller that passed the authorization point: the
 * answer reflects the log up to event N at least (docs/ARCHITECTURE.md, "Sequences in replies").
 * A read's N is noted where it ran; a write's is the head after its group; any other reply's is
 * the head as the reply leaves. */
static void server_sequence_header_add(server_call *call) {
    if (!call->authorized) return;
    if (!call->sequence_known) call->sequence = server_head_known(call->server);
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, call->sequence);
    evhttp_add_header(evhttp_request_get_output_headers(call->request), "Fundflow-Sequence", text);
}

/* Counts, logs and sends a reply whose headers are set; body may be NULL. */
static void server_reply_finish(server_call *call, int status, const char *reason,
                                const char *code, struct evbuffer *body) {
    /* A refused client must not keep its connection: idle, it would hold a slot that others
     * need, so refusals of who the client is end the connection as shutdown does. */
    if (server_shutting_down(call->server) || status == 401 || status == 403) {
        evhttp_add_header(evhttp_request_get_output_headers(call->request), "Connection",
                          "close");
    }
    server_sequence_header_add(call);
    metrics_request_record(call->server->metrics, call->method, code,
                           server_monotonic_us() - call->started_us);
    server_log(call, status, code);
    evhttp_send_reply(call->request, status, reason, body);
}

static void server_reply_send(server_call *call, int status, const char *code,
                              const char *content_type, const uint8_t *body, size_t body_bytes) {
    evhttp_add_header(evhttp_request_get_output_headers(call->request), "Content-Type",
                      content_type);
    /* Straight into the request's own output buffer, which evhttp_send_reply sends when it is
     * given no other: no evbuffer of our own to make, fill, move from and free per reply. */
    evbuffer_add(evhttp_request_get_output_buffer(call->request), body, body_bytes);
    server_reply_finish(call, status, status == 200 ? "OK" : "Error", code, NULL);
}

/* Sends an answer built off the loop and frees its body. */
static void server_answer_send(server_call *call, server_answer *answer) {
    server_reply_send(call, answer->status, answer->code, answer->content_type, answer->body,
                      answer->body ? answer->body_bytes : 0);
    free(answer->body);
    answer->body = NULL;
}

/* Every error carries meta.error, the error table's name for it, so clients can tell a refused
 * command from a refusal of the whole request. Any thread. */
#define SERVER_META_MAX 8

static void server_answer_error(ff_err err, const char *message, const twirp_meta *meta,
                                size_t meta_count, server_answer *answer) {
    const char *twirp_code = ff_err_twirp_code(err);
    if (twirp_code[0] == '\0') twirp_code = "internal";
    twirp_meta all[SERVER_META_MAX + 1] = {{"error", ff_err_name(err)}};
    assert(meta_count <= SERVER_META_MAX);
    for (size_t i = 0; i < meta_count; i++) all[i + 1] = meta[i];
    char *body = twirp_error_json(twirp_code, message ? message : ff_strerror(err), all,
                                  meta_count + 1);
    if (body == NULL) {
        body = strdup("{\"code\":\"internal\",\"msg\":\"out of memory\",\"meta\":{}}");
        twirp_code = NULL;
    }
    *answer = (server_answer){.status = twirp_code ? twirp_http_status(twirp_code) : 500,
                              .code = twirp_code ? twirp_code : "internal",
                              .content_type = "application/json", .body = (uint8_t *)body,
                              .body_bytes = body ? strlen(body) : 0};
}

static void server_reply_error(server_call *call, ff_err err, const char *message,
                               const twirp_meta *meta, size_t meta_count) {
    server_answer answer;
    server_answer_error(err, message, meta, meta_count, &answer);
    server_answer_send(call, &answer);
}

/* A refusal for a change of leader (not_leader, replication_unknown) names the leader's RPC URL
 * in meta.leader when the cluster knows one, so that a client can send the request there; the
 * message says where, or that no leader is known. Other errors as server_answer_error. Any
 * thread: the cluster's leader call never blocks. */
static void server_answer_cluster_error(const server_cluster_ops *ops, ff_err err,
                                        const char *message, server_answer *answer) {
    char leader[FF_CLUSTER_ADDRESS_BYTES] = "";
    bool leadership = err == FF_ERR_NOT_LEADER || err == FF_ERR_REPLICATION_UNKNOWN;
    if (!leadership || ops == NULL) {
        server_answer_error(err, message, NULL, 0, answer);
        return;
    }
    if (ops->leader(ops->argument, leader, sizeof leader) == FF_OK) leader[0] = '\0';
    leader[sizeof leader - 1] = '\0';
    char text[FF_CLUSTER_ADDRESS_BYTES + 160];
    if (message == NULL && err == FF_ERR_NOT_LEADER) {
        if (leader[0] != '\0') {
            snprintf(text, sizeof text,
                     "this node does not lead the cluster; send writes to the leader, %s", leader);
        } else {
            snprintf(text, sizeof text,
                     "this node does not lead the cluster, and no leader is known now; retry "
                     "shortly");
        }
        message = text;
    }
    twirp_meta meta[] = {{"leader", leader}};
    server_answer_error(err, message, meta, leader[0] != '\0' ? 1 : 0, answer);
}

static void server_reply_cluster_error(server_call *call, ff_err err, const char *message) {
    server_answer answer;
    server_answer_cluster_error(call->server->settings->cluster, err, message, &answer);
    server_answer_send(call, &answer);
}

/* The write gate: in a cluster, a node that does not lead refuses a write before it is queued
 * (not_leader, naming the leader). Replies and returns true if it refused. */
static bool server_write_refused(server_call *call) {
    const server_cluster_ops *ops = call->server->settings->cluster;
    if (ops == NULL) return false;
    char leader[FF_CLUSTER_ADDRESS_BYTES];
    ff_err err = ops->leader(ops->argument, leader, sizeof leader);
    if (err == FF_OK) return false;
    server_reply_cluster_error(call, err, NULL);
    return true;
}

/* A refused command as a Twirp error, with what the refusal knows in meta. Any thread. */
static void server_answer_failure(const ff_failure *failure, size_t index,
                                  server_answer *answer) {
    char index_text[24], headroom_pence[24], headroom[FF_MONEY_TEXT_BYTES];
    twirp_meta meta[6];
    size_t count = 0;
    if (failure->plugin[0]) meta[count++] = (twirp_meta){"plugin", failure->plugin};
    if (failure->field) meta[count++] = (twirp_meta){"field", failure->field};
    if (index != SIZE_MAX) {
        snprintf(index_text, sizeof index_text, "%zu", index);
        meta[count++] = (twirp_meta){"index", index_text};
    }
    if (failure->code == FF_ERR_INSUFFICIENT_HEADROOM) {
        snprintf(headroom_pence, sizeof headroom_pence, "%" PRId64, failure->headroom_pence);
        money_format(failure->headroom_pence, headroom, sizeof headroom);
        meta[count++] = (twirp_meta){"account", failure->account};
        meta[count++] = (twirp_meta){"headroom_pence", headroom_pence};
        meta[count++] = (twirp_meta){"headroom", headroom};
    }
    server_answer_error(failure->code, failure->detail[0] ? failure->detail : NULL, meta, count,
                        answer);
}

static void server_reply_failure(server_call *call, const ff_failure *failure, size_t index) {
    server_answer answer;
    server_answer_failure(failure, index, &answer);
    server_answer_send(call, &answer);
}

/* A response message in the request's encoding, or the error saying it could not be. Any
 * thread. */
static void server_answer_message(twirp_content content, const ProtobufCMessage *message,
                                  server_answer *answer) {
    uint8_t *body = NULL;
    size_t body_bytes = 0;
    ff_err err = twirp_message_encode(content, message, &body, &body_bytes);
    if (err != FF_OK) {
        server_answer_error(err, "cannot encode the reply", NULL, 0, answer);
        return;
    }
    *answer = (server_answer){.status = 200, .code = "ok",
                              .content_type = twirp_content_name(content), .body = body,
                              .body_bytes = body_bytes};
}

static void server_reply_message(server_call *call, const ProtobufCMessage *message) {
    uint8_t *body = NULL;
    size_t body_bytes = 0;
    ff_err err = twirp_message_encode(call->content, message, &body, &body_bytes);
    if (err != FF_OK) {
        server_reply_error(call, err, "cannot encode the reply", NULL, 0);
        return;
    }
    server_reply_send(call, 200, "ok", twirp_content_name(call->content), body, body_bytes);
    /* A GrantPrincipal reply carries the token: leave no copy of it in freed memory. */
    if (call->token[0] != '\0') OPENSSL_cleanse(body, body_bytes);
    free(body);
}

/* ---- the authorization point ---- */

static bool server_peer_is_loopback(struct evhttp_request *request) {
    char *address = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(evhttp_request_get_connection(request), &address, &port);
    if (address == NULL) return false;
    return strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0 ||
           strcmp(address, "::ffff:127.0.0.1") == 0;
}

/* Who the request is: a principal's bearer token, or while no principal exists the bootstrap
 * rules (principals.h). Any thread may change the ledger's principals, so this is decided afresh
 * for every request. */
static ff_err server_authenticate(ff_server *server, server_call *call) {
    const char *authorization = evhttp_find_header(
        evhttp_request_get_input_headers(call->request), "Authorization");
    bool loopback = server_peer_is_loopback(call->request);
    /* SIGHUP may change the admin token on the first loop meanwhile. */
    pthread_rwlock_rdlock(&server->settings_lock);
    ff_err err = principals_authenticate(server->ledger, server->settings, authorization,
                                         loopback, &call->who);
    pthread_rwlock_unlock(&server->settings_lock);
    return err;
}

/* Every Twirp request passes here with the method it asks for: first who it is, then whether
 * its role may call the method at all (access_methods). What the call touches is checked
 * against the principal's scope later, by the ledger, the queries and the reports. */
static ff_err server_authorize(ff_server *server, server_call *call) {
    ff_err err = server_authenticate(server, call);
    if (err != FF_OK) return err;
    err = access_method_check(&call->who, call->method);
    /* A method without a row in the access table is refused to everyone (fail closed). */
    return err == FF_ERR_BAD_ROUTE ? FF_ERR_PERMISSION_DENIED : err;
}

/* ---- writes: SubmitCommands ---- */

/* Frees a call kept for the writer, wiping any token it holds. */
static void server_call_free(server_call *kept) {
    OPENSSL_cleanse(kept->token, sizeof kept->token);
    free(kept);
}

static ff_err server_submit_check(server_call *call, Fundflow__V1__SubmitCommandsRequest *submit) {
    if (submit->n_commands == 0) {
        server_reply_error(call, FF_ERR_FIELD_MISSING, "commands is empty: send at least one",
                           (twirp_meta[]){{"field", "commands"}}, 1);
        return FF_ERR_FIELD_MISSING;
    }
    if (submit->n_commands > FF_BATCH_COMMANDS_MAX) {
        char limit[24];
        snprintf(limit, sizeof limit, "%d", FF_BATCH_COMMANDS_MAX);
        server_reply_error(call, FF_ERR_BATCH_TOO_LARGE,
                           "the batch holds more commands than the limit",
                           (twirp_meta[]){{"field", "commands"}, {"limit", limit}}, 2);
        return FF_ERR_BATCH_TOO_LARGE;
    }
    /* An all-or-nothing batch with a command that cannot pass is refused here, before it costs
     * the writer anything. Independent batches go on: the writer reports each command. */
    if (!submit->linked && submit->n_commands > 1) return FF_OK;
    for (size_t i = 0; i < submit->n_commands; i++) {
        ff_failure failure;
        failure_clear(&failure);
        if (command_check_static(submit->commands[i], &failure) != FF_OK) {
            server_reply_failure(call, &failure, submit->n_commands > 1 ? i : SIZE_MAX);
            return failure.code;
        }
    }
    return FF_OK;
}

/* Queues a batch for the writer, which takes it over; the reply is sent when it comes back. The
 * call is copied, since the job outlives it, and the copy is who the ledger checks each command
 * against. */
static void server_job_queue(server_call *call, Fundflow__V1__SubmitCommandsRequest *submit) {
    ff_server *server = call->server;
    writer_job *job = calloc(1, sizeof *job);
    server_call *kept = malloc(sizeof *kept);
    ledger_result *results = calloc(submit->n_commands, sizeof *results);
    if (job == NULL || kept == NULL || results == NULL) {
        free(job), free(kept), free(results);
        protobuf_c_message_free_unpacked(&submit->base, NULL);
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return;
    }
    *kept = *call;
    job->request = submit;
    job->results = results;
    job->batch = (ledger_batch){.commands = submit->commands, .command_count = submit->n_commands,
                                .linked = submit->linked, .actor = kept->who.name,
                                .principal = &kept->who, .dry_run = submit->dry_run};
    job->context = kept;
    ff_err err = writer_submit(server->writer, job);
    if (err != FF_OK) {
        writer_job_free(job);
        server_call_free(kept);
        server_reply_error(call, err, NULL, NULL, 0);
        return;
    }
    call->loop->jobs_pending++;
    call->connection->jobs_pending++;
}

static void server_submit(server_call *call, ProtobufCMessage *decoded) {
    Fundflow__V1__SubmitCommandsRequest *submit = (Fundflow__V1__SubmitCommandsRequest *)decoded;
    call->batch_commands = submit->n_commands;
    if (server_submit_check(call, submit) != FF_OK) {
        protobuf_c_message_free_unpacked(decoded, NULL);
        return;
    }
    server_job_queue(call, submit);
}

/* ---- writes: GrantPrincipal and RevokePrincipal ---- */

/* Sends a principal event through the writer as a batch of one, as SubmitCommands would: the
 * ledger checks it (an admin may record it; the name is new, or held and not revoked) and
 * records the caller as its actor. */
static void server_principal_write(server_call *call, ProtobufCMessage *decoded) {
    ff_failure failure;
    failure_clear(&failure);
    Fundflow__V1__SubmitCommandsRequest *submit = NULL;
    ff_err err;
    if (strcmp(call->method, "GrantPrincipal") == 0) {
        Fundflow__V1__GrantPrincipalRequest *grant = (Fundflow__V1__GrantPrincipalRequest *)decoded;
        call->write = SERVER_WRITE_GRANT;
        snprintf(call->subject, sizeof call->subject, "%s", grant->name);
        err = principals_grant_request(grant, call->who.today, call->token, &submit, &failure);
    } else {
        Fundflow__V1__RevokePrincipalRequest *revoke =
            (Fundflow__V1__RevokePrincipalRequest *)decoded;
        call->write = SERVER_WRITE_REVOKE;
        snprintf(call->subject, sizeof call->subject, "%s", revoke->name);
        err = principals_revoke_request(revoke, call->who.today, &submit, &failure);
    }
    protobuf_c_message_free_unpacked(decoded, NULL);
    if (err == FF_OK) {
        call->batch_commands = 1;
        failure_clear(&failure);
        err = command_check_static(submit->commands[0], &failure);
    }
    if (err != FF_OK) {
        OPENSSL_cleanse(call->token, sizeof call->token);
        if (submit) fundflow__v1__submit_commands_request__free_unpacked(submit, NULL);
        server_reply_failure(call, &failure, SIZE_MAX);
        return;
    }
    server_job_queue(call, submit);
    OPENSSL_cleanse(call->token, sizeof call->token);
}

/* The reply to a principal event the writer recorded: the record as the ledger now holds it,
 * and for a grant the token, which appears nowhere else. */
static void server_principal_reply(server_call *call) {
    ff_failure failure;
    failure_clear(&failure);
    Fundflow__V1__PrincipalRecord *record = NULL;
    if (principals_record_read(call->server->ledger, call->subject, &record, &failure) != FF_OK) {
        server_reply_failure(call, &failure, SIZE_MAX);
        return;
    }
    if (call->write == SERVER_WRITE_GRANT) {
        Fundflow__V1__GrantPrincipalResponse granted =
            FUNDFLOW__V1__GRANT_PRINCIPAL_RESPONSE__INIT;
        granted.principal = record;
        granted.token = call->token;
        server_reply_message(call, &granted.base);
    } else {
        server_reply_message(call, &record->base);
    }
    fundflow__v1__principal_record__free_unpacked(record, NULL);
}

/* The first command that was refused on its own account, not for a neighbour's failure. */
static size_t server_first_refusal(const writer_job *job) {
    for (size_t i = 0; i < job->batch.command_count; i++) {
        ff_err code = job->results[i].failure.code;
        if (code != FF_OK && code != FF_ERR_LINKED_COMMAND_FAILED) return i;
    }
    return SIZE_MAX;
}

static void server_submit_results_reply(server_call *call, const writer_job *job) {
    size_t count = job->batch.command_count;
    Fundflow__V1__SubmitCommandsResponse response = FUNDFLOW__V1__SUBMIT_COMMANDS_RESPONSE__INIT;
    Fundflow__V1__CommandResult *results = calloc(count, sizeof *results);
    Fundflow__V1__CommandResult **pointers = calloc(count, sizeof *pointers);
    if (results == NULL || pointers == NULL) {
        free(results), free(pointers);
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const ledger_result *result = &job->results[i];
        fundflow__v1__command_result__init(&results[i]);
        results[i].code = (char *)ff_err_name(result->failure.code);
        results[i].twirp_code = (char *)ff_err_twirp_code(result->failure.code);
        results[i].sequence = result->sequence;
        results[i].idempotent_replay = result->idempotent_replay;
        results[i].field = (char *)(result->failure.field ? result->failure.field : "");
        results[i].message = (char *)result->failure.detail;
        results[i].account = (char *)result->failure.account;
        results[i].headroom_pence = result->failure.headroom_pence;
        pointers[i] = &results[i];
    }
    response.results = pointers;
    response.n_results = count;
    response.head_sequence = job->head_sequence;
    /* The head signed after this group's commit (signing_after_commit: the writer's, or in a
     * cluster the state machine's when it applied the group's entry). */
    signed_head head;
    Fundflow__V1__SignedTreeHead head_view;
    ff_signer *signer = signing_of(ledger_store(call->server->ledger));
    if (signer != NULL) {
        signing_head_latest(signer, &head);
        query_signed_head_view(&head, &head_view);
        response.signed_head = &head_view;
    }
    server_reply_message(call, &response.base);
    free(results);
    free(pointers);
}

static void server_submit_reply(server_call *call, const writer_job *job) {
    if (job->group_err == FF_ERR_NOT_LEADER || job->group_err == FF_ERR_REPLICATION_UNKNOWN) {
        /* Leadership moved: refused before sealing, or not known to have committed. */
        server_reply_cluster_error(call, job->group_err, NULL);
        return;
    }
    if (job->group_err != FF_OK) {
        /* A full disk is the operator's to fix; say so, not only that nothing was kept. */
        const char *message = job->group_err == FF_ERR_STORAGE_FULL
                                  ? "the batch was not recorded: storage is full"
                                  : "the batch was not recorded";
        server_reply_error(call, job->group_err, message, NULL, 0);
        return;
    }
    size_t refused = server_first_refusal(job);
    bool all_or_nothing = job->batch.linked || job->batch.command_count == 1;
    if (all_or_nothing && refused != SIZE_MAX) {
        server_reply_failure(call, &job->results[refused].failure,
                             job->batch.command_count > 1 ? refused : SIZE_MAX);
        return;
    }
    if (call->write != SERVER_WRITE_COMMANDS) {
        server_principal_reply(call);
        return;
    }
    server_submit_results_reply(call, job);
}

/* The log's head is now head (a commit here, or an entry the cluster applied): wakes the
 * WatchEvents requests and the requests waiting for a minimum sequence it has passed. Loop. */
static void server_head_advanced(server_loop *loop, uint64_t head) {
    watch_hub_head_advanced(loop->watch, head);
    watch_hub_head_advanced(loop->sequence_waits, head);
}

/* On a loop: a head was reported that this loop's parked requests may be waiting for. */
static void server_head_drain(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop *loop = argument;
    server_head_advanced(loop, server_head_known(loop->server));
}

/* Parked requests of any loop: a new head must reach every loop. Read after the head was
 * raised; a loop adds to this count before it reads the head (server_parked_head_check), so
 * either the loop sees the new head or this sees its request (both sequentially consistent). */
static bool server_any_parked(const ff_server *server) {
    return watch_hub_parked(server->loops[0]->watch) > 0 ||
           watch_hub_parked(server->loops[0]->sequence_waits) > 0;
}

/* A request was just parked on loop: if the head passed it meanwhile without this loop hearing
 * of it, it is handed back at once. */
static void server_parked_head_check(server_loop *loop) {
    server_head_advanced(loop, server_head_known(loop->server));
}

void server_events_applied(ff_server *server, uint64_t head_sequence) {
    server_head_raise(server, head_sequence);
    for (size_t l = 0; l < server->loop_count; l++) {
        event_active(server->loops[l]->head_event, EV_READ, 0);
    }
}

/* Appends a list of finished jobs to loop's done queue and wakes the loop. Writer thread. */
static void server_done_queue(server_loop *loop, writer_job *first, writer_job *last) {
    pthread_mutex_lock(&loop->done_lock);
    assert((loop->done_head == NULL) == (loop->done_tail == NULL));
    if (loop->done_tail) loop->done_tail->next = first;
    else loop->done_head = first;
    loop->done_tail = last;
    pthread_mutex_unlock(&loop->done_lock);
    event_active(loop->done_event, EV_READ, 0);
}

/* Runs on the writer thread: hands each finished job to the loop its request came on, in the
 * group's order, and wakes that loop; tells the other loops of the head if any request waits. */
static void server_writer_done(void *argument, writer_job *jobs, size_t group_commands) {
    ff_server *server = argument;
    /* A group is one batch alone or several within the group bound. */
    assert(jobs != NULL);
    assert(group_commands <= FF_GROUP_COMMIT_COMMANDS_MAX ||
           group_commands <= FF_BATCH_COMMANDS_MAX);
    metrics_commit_record(server->metrics, group_commands);
    writer_job *firsts[FF_EVENT_LOOPS_MAX] = {0}, *lasts[FF_EVENT_LOOPS_MAX] = {0};
    for (writer_job *job = jobs, *next; job != NULL; job = next) {
        next = job->next;
        job->next = NULL;
        /* Raised before any reply leaves: a client that has its write's reply reads at least
         * its head in every later reply's Fundflow-Sequence. */
        if (job->group_err == FF_OK) server_head_raise(server, job->head_sequence);
        size_t l = ((server_call *)job->context)->loop->index;
        assert(l < server->loop_count);
        if (lasts[l]) lasts[l]->next = job;
        else firsts[l] = job;
        lasts[l] = job;
    }
    bool parked = server->loop_count > 1 && server_any_parked(server);
    for (size_t l = 0; l < server->loop_count; l++) {
        if (firsts[l]) server_done_queue(server->loops[l], firsts[l], lasts[l]);
        else if (parked) event_active(server->loops[l]->head_event, EV_READ, 0);
    }
}

/* Sends the replies of finished jobs, at most FF_REPLIES_PER_WAKEUP_MAX per wake-up. */
static void server_done_drain(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop *loop = argument;
    pthread_mutex_lock(&loop->done_lock);
    writer_job *jobs = loop->done_head, *last = NULL;
    size_t taken = 0;
    for (writer_job *job = jobs; job && taken < FF_REPLIES_PER_WAKEUP_MAX; job = job->next) {
        last = job, taken++;
    }
    loop->done_head = last ? last->next : NULL;
    if (loop->done_head == NULL) loop->done_tail = NULL;
    if (last) last->next = NULL;
    bool more = loop->done_head != NULL;
    pthread_mutex_unlock(&loop->done_lock);
    while (jobs != NULL) {
        writer_job *job = jobs;
        jobs = job->next;
        server_call *call = job->context;
        server_connection *tracked = call->connection;
        /* A job handed back twice would reply twice and count its connection down past zero. */
        assert(tracked->jobs_pending > 0 && loop->jobs_pending > 0 && call->loop == loop);
        tracked->jobs_pending--;
        loop->jobs_pending--;
        server_head_advanced(loop, job->head_sequence);
        if (job->group_err == FF_OK) {
            call->sequence = job->head_sequence;
            call->sequence_known = true;
        }
        if (!tracked->closed) server_submit_reply(call, job);
        server_connection_release(tracked);
        server_call_free(call);
        writer_job_free(job);
    }
    if (more) event_active(loop->done_event, EV_READ, 0);
    server_exit_if_idle(loop);
}

/* ---- reads ---- */

/* Lists the plugins again for ServerInfo. Called with plugins_lock held, or before any reader
 * thread runs; a list that cannot be made leaves the last one. */
static void server_plugins_listed_refresh(ff_server *server) {
    Fundflow__V1__ListPluginsResponse *list = NULL;
    if (server->plugins == NULL || plugins_list(server->plugins, &list) != FF_OK) return;
    pthread_mutex_lock(&server->plugins_listed_lock);
    Fundflow__V1__ListPluginsResponse *old = server->plugins_listed;
    server->plugins_listed = list;
    pthread_mutex_unlock(&server->plugins_listed_lock);
    if (old) protobuf_c_message_free_unpacked(&old->base, NULL);
}

/* ServerInfo's cluster fields, when this node is in a cluster. */
static void server_info_cluster(const server_cluster_ops *ops,
                                Fundflow__V1__ServerInfoResponse *info, char *leader_url,
                                size_t leader_url_bytes) {
    server_cluster_status *status = ops ? calloc(1, sizeof *status) : NULL;
    if (status == NULL || ops->status(ops->argument, status) != FF_OK) {
        info->cluster_role = ops ? FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_UNAVAILABLE
                                 : FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_UNSPECIFIED;
        free(status);
        return;
    }
    info->cluster_node_id = status->self_id;
    info->cluster_role = cluster_view_role(status->role);
    info->cluster_applied_index = status->applied_index;
    snprintf(leader_url, leader_url_bytes, "%s", cluster_view_leader_url(status));
    info->cluster_leader_url = leader_url;
    free(status);
}

/* ServerInfo, on a reader thread, with the plugins as last listed (never waiting for a
 * report). */
static void server_info_answer(server_read *read) {
    ff_server *server = read->call.server;
    log_head head;
    ff_err err = ledger_head_read(server->ledger, &head);
    if (err != FF_OK) {
        server_answer_error(err, "cannot read the head of the log", NULL, 0, &read->answer);
        return;
    }
    read->call.sequence = head.sequence;
    read->call.sequence_known = true;
    Fundflow__V1__ServerInfoResponse info = FUNDFLOW__V1__SERVER_INFO_RESPONSE__INIT;
    info.version = (char *)FUNDFLOW_VERSION;
    info.head_sequence = head.sequence;
    info.head_hash.data = head.hash;
    info.head_hash.len = sizeof head.hash;
    info.event_count = head.sequence;
    info.uptime_seconds = (server_monotonic_us() - server->started_monotonic_us) / 1000000u;
    info.started_at_us = server->started_at_us;
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES], key_id[SIGNED_HEAD_KEY_ID_BYTES];
    ff_signer *signer = signing_of(ledger_store(server->ledger));
    if (signer != NULL) {
        signing_public_key(signer, public_key, key_id);
        info.signing_public_key = (ProtobufCBinaryData){sizeof public_key, public_key};
        info.signing_key_id = (ProtobufCBinaryData){sizeof key_id, key_id};
    }
    char leader_url[FF_CLUSTER_ADDRESS_BYTES];
    server_info_cluster(server->settings->cluster, &info, leader_url, sizeof leader_url);
    pthread_mutex_lock(&server->plugins_listed_lock);
    if (server->plugins_listed != NULL) {
        info.plugins = server->plugins_listed->plugins;
        info.n_plugins = server->plugins_listed->n_plugins;
    }
    server_answer_message(read->call.content, &info.base, &read->answer);
    pthread_mutex_unlock(&server->plugins_listed_lock);
}

/* A cluster RPC on a reader thread: the membership calls may block it until the cluster
 * answers. A refusal for a change of leader names the leader. */
static void server_cluster_answer(server_read *read, ProtobufCMessage *decoded) {
    const server_cluster_ops *ops = read->call.server->settings->cluster;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = cluster_view_answer(ops, read->call.method, decoded, &response, &failure);
    if (err == FF_OK) {
        server_answer_message(read->call.content, response, &read->answer);
        protobuf_c_message_free_unpacked(response, NULL);
    } else if (err == FF_ERR_NOT_LEADER || err == FF_ERR_REPLICATION_UNKNOWN) {
        server_answer_cluster_error(ops, err, failure.detail, &read->answer);
    } else {
        server_answer_failure(&failure, SIZE_MAX, &read->answer);
    }
}

/* Runs a query handler on a reader thread and builds its answer. */
static void server_query_answer(server_read *read, ProtobufCMessage *decoded) {
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    if (read->handler(read->call.server->ledger, &read->call.who, decoded, &response, &failure) ==
        FF_OK) {
        /* A handler that succeeds hands over a response; one that fails has said why. */
        assert(response != NULL);
        server_answer_message(read->call.content, response, &read->answer);
        protobuf_c_message_free_unpacked(response, NULL);
    } else {
        assert(failure.code != FF_OK);
        server_answer_failure(&failure, SIZE_MAX, &read->answer);
    }
}

static void server_plugins_answer(server_read *read, ProtobufCMessage *decoded);

/* Decodes a read's body on its reader thread; NULL, with the answer saying why, if it cannot. */
static ProtobufCMessage *server_read_decode(server_read *read) {
    ProtobufCMessage *decoded = read->decoded;
    read->decoded = NULL;
    if (decoded != NULL) return decoded;
    char error[512];
    ff_err err = twirp_message_decode(read->call.content, read->input,
                                      read->body ? read->body : (const uint8_t *)"",
                                      read->body_bytes, &decoded, error, sizeof error);
    free(read->body);
    read->body = NULL;
    if (err != FF_OK) server_answer_error(FF_ERR_MALFORMED, error, NULL, 0, &read->answer);
    return decoded;
}

/* Notes the head as a read begins: its answer reflects the log up to it at least, since every
 * event up to the in-memory head was committed before the read's own transactions begin. */
static void server_call_sequence_note(server_call *call) {
    call->sequence = server_head_known(call->server);
    call->sequence_known = true;
}

static void server_read_sequence_note(server_read *read) {
    server_call_sequence_note(&read->call);
}

/* A reader thread's whole part of a read: decode, run, encode. */
static void server_read_run(reader_job *job) {
    server_read *read = (server_read *)job;
    server_read_sequence_note(read);
    ProtobufCMessage *decoded = server_read_decode(read);
    if (decoded == NULL) return;
    const char *method = read->call.method;
    if (read->handler != NULL) server_query_answer(read, decoded);
    else if (cluster_view_method_is(method)) server_cluster_answer(read, decoded);
    else if (strcmp(method, "ServerInfo") == 0) server_info_answer(read);
    else server_plugins_answer(read, decoded);
    protobuf_c_message_free_unpacked(decoded, NULL);
}

/* Each reader thread keeps one read transaction for its life, renewed for every read instead of
 * begun afresh. Without memory for it, the thread reads as other threads do. */
static void server_reader_thread_begin(void *argument) {
    ff_server *server = argument;
    (void)store_reader_attach(ledger_store(server->ledger));
}

static void server_reader_thread_end(void *argument) {
    ff_server *server = argument;
    store_reader_detach(ledger_store(server->ledger));
}

/* Runs on a reader thread: queue the finished read for the loop and wake it. Only the read that
 * finds the queue empty wakes the loop: a queue that was not empty has a wake-up pending, or a
 * drain that wakes itself again for what it leaves, so one wake-up (a lock of libevent's base
 * and a write to its notify descriptor) serves every read that joins the queue meanwhile. */
static void server_plugins_reload_run(reader_job *job);
static void server_reload_free(server_reload *reload);

static void server_read_handed_back(void *argument, reader_job *job) {
    ff_server *server = argument;
    assert(job != NULL && job->next == NULL);
    /* A read goes back to the loop its request came on; a plugin reload to the first loop,
     * which took the signal. */
    server_loop *loop = job->run == server_plugins_reload_run ? server->loops[0]
                                                               : ((server_read *)job)->call.loop;
    pthread_mutex_lock(&loop->read_done_lock);
    assert((loop->read_done_head == NULL) == (loop->read_done_tail == NULL));
    bool wake = loop->read_done_head == NULL;
    if (loop->read_done_tail) loop->read_done_tail->next = job;
    else loop->read_done_head = job;
    loop->read_done_tail = job;
    pthread_mutex_unlock(&loop->read_done_lock);
    if (wake) event_active(loop->read_done_event, EV_READ, 0);
}

static void server_read_free(server_read *read) {
    if (read->decoded) protobuf_c_message_free_unpacked(read->decoded, NULL);
    free(read->body);
    free(read->answer.body);
    if (read->watch) fundflow__v1__watch_events_request__free_unpacked(read->watch, NULL);
    free(read);
}

/* A read is over: its connection no longer waits on it, and its answer goes out if the client is
 * still there. */
static void server_read_finish(server_read *read) {
    server_loop *loop = read->call.loop;
    server_connection *tracked = read->call.connection;
    /* A read handed back twice would reply twice and count its connection past zero. */
    assert(tracked->jobs_pending > 0 && loop->jobs_pending > 0);
    tracked->jobs_pending--;
    loop->jobs_pending--;
    if (!tracked->closed) server_answer_send(&read->call, &read->answer);
    server_connection_release(tracked);
    server_read_free(read);
}

static void server_watch_park(server_loop *loop, server_read *read);

/* Sends the replies of finished reads, at most FF_REPLIES_PER_WAKEUP_MAX per wake-up. */
static void server_read_done_drain(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop *loop = argument;
    pthread_mutex_lock(&loop->read_done_lock);
    reader_job *jobs = loop->read_done_head, *last = NULL;
    size_t taken = 0;
    for (reader_job *job = jobs; job && taken < FF_REPLIES_PER_WAKEUP_MAX; job = job->next) {
        last = job, taken++;
    }
    loop->read_done_head = last ? last->next : NULL;
    if (loop->read_done_head == NULL) loop->read_done_tail = NULL;
    if (last) last->next = NULL;
    bool more = loop->read_done_head != NULL;
    pthread_mutex_unlock(&loop->read_done_lock);
    while (jobs != NULL) {
        reader_job *job = jobs;
        jobs = jobs->next;
        if (job->run == server_plugins_reload_run) {
            server_reload_free((server_reload *)job);
            continue;
        }
        server_read *read = (server_read *)job;
        if (read->watch_park) server_watch_park(loop, read);
        else server_read_finish(read);
    }
    if (more) event_active(loop->read_done_event, EV_READ, 0);
    server_exit_if_idle(loop);
}

static bool server_body_within_limit(server_call *call);
static void server_watch_run(reader_job *job);

/* Hands a read to the reader threads with a copy of its body, or the request decoded on the
 * loop already (decoded, which it takes over); the reply is sent when it comes back. The call
 * is copied, since the job outlives it; who it holds is who the read is for. */
static void server_read_queue(server_call *call, const ProtobufCMessageDescriptor *input,
                              query_handler handler, ProtobufCMessage *decoded) {
    ff_server *server = call->server;
    if (decoded == NULL && !server_body_within_limit(call)) return;
    struct evbuffer *body = evhttp_request_get_input_buffer(call->request);
    size_t body_bytes = decoded ? 0 : evbuffer_get_length(body);
    server_read *read = calloc(1, sizeof *read);
    uint8_t *copy = body_bytes ? malloc(body_bytes) : NULL;
    if (read == NULL || (body_bytes > 0 && copy == NULL)) {
        free(read), free(copy);
        if (decoded) protobuf_c_message_free_unpacked(decoded, NULL);
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return;
    }
    if (body_bytes > 0) evbuffer_copyout(body, copy, body_bytes);
    reader_job job = {.run = handler == query_events_watch ? server_watch_run : server_read_run};
    *read = (server_read){.job = job, .call = *call, .input = input, .handler = handler,
                          .decoded = decoded, .body = copy, .body_bytes = body_bytes};
    ff_err err = readers_submit(server->readers, &read->job);
    if (err != FF_OK) {
        server_read_free(read);
        server_reply_error(call, err,
                           err == FF_ERR_QUEUE_FULL ? "the read queue is full; retry shortly"
                                                    : NULL,
                           NULL, 0);
        return;
    }
    call->loop->jobs_pending++;
    call->connection->jobs_pending++;
}

/* ---- WatchEvents: the change stream's long-poll ----
 *
 * A reader thread reads the page after after_sequence (query_events_watch). With events, or once
 * the wait is over, that is the answer. With none, the loop parks the read in the watch hub
 * (watch.h) with the last sequence the page examined; the hub holds no thread and no transaction.
 * A commit past it queues the read again. The end of the wait, or shutdown, answers on the loop
 * with an empty page and the head. Its client's close frees it. */

static void server_watch_run(reader_job *job) {
    server_read *read = (server_read *)job;
    server_read_sequence_note(read);
    if (read->watch == NULL) {
        ProtobufCMessage *decoded = server_read_decode(read);
        if (decoded == NULL) return;
        read->watch = (Fundflow__V1__WatchEventsRequest *)decoded;
        uint32_t wait_ms = read->watch->wait_ms;
        if (wait_ms > FF_WATCH_WAIT_MS_MAX) wait_ms = FF_WATCH_WAIT_MS_MAX;
        read->watch_deadline_us = read->call.started_us + (uint64_t)wait_ms * 1000u;
    }
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    if (query_events_watch(read->call.server->ledger, &read->call.who, &read->watch->base,
                           &response, &failure) != FF_OK) {
        server_answer_failure(&failure, SIZE_MAX, &read->answer);
        return;
    }
    const Fundflow__V1__WatchEventsResponse *page =
        (const Fundflow__V1__WatchEventsResponse *)response;
    read->watch_park = page->n_events == 0 && server_monotonic_us() < read->watch_deadline_us;
    /* Events the scope leaves out are not looked at again. */
    if (read->watch_park) read->watch->after_sequence = page->next_after_sequence;
    else server_answer_message(read->call.content, response, &read->answer);
    protobuf_c_message_free_unpacked(response, NULL);
}

/* Queues a read the head has passed again. */
static void server_watch_requeue(server_read *read) {
    read->job.next = NULL;
    ff_err err = readers_submit(read->call.server->readers, &read->job);
    if (err == FF_OK) return;
    server_answer_error(err, NULL, NULL, 0, &read->answer);
    server_read_finish(read);
}

/* The wait is over with nothing new: an empty page, the head, and where to go on from. */
static void server_watch_answer_empty(server_read *read) {
    log_head head;
    ff_err err = ledger_head_read(read->call.server->ledger, &head);
    if (err != FF_OK) {
        server_answer_error(err, "cannot read the head of the log", NULL, 0, &read->answer);
    } else {
        Fundflow__V1__WatchEventsResponse page = FUNDFLOW__V1__WATCH_EVENTS_RESPONSE__INIT;
        page.head_sequence = head.sequence;
        read->call.sequence = head.sequence;
        read->call.sequence_known = true;
        page.next_after_sequence = read->watch->after_sequence;
        server_answer_message(read->call.content, &page.base, &read->answer);
    }
    server_read_finish(read);
}

/* On the loop: an empty page waits in the hub for the rest of its wait. */
static void server_watch_park(server_loop *loop, server_read *read) {
    read->watch_park = false;
    if (read->call.connection->closed) {
        server_read_finish(read);
        return;
    }
    uint64_t now = server_monotonic_us();
    uint64_t left_ms = read->watch_deadline_us > now
                           ? (read->watch_deadline_us - now + 999u) / 1000u : 0;
    assert(left_ms <= FF_WATCH_WAIT_MS_MAX);
    struct bufferevent *bufferevent =
        evhttp_connection_get_bufferevent(read->call.connection->connection);
    ff_err err = watch_hub_park(loop->watch, &read->waiter, read->watch->after_sequence,
                                (uint32_t)left_ms, read->call.connection,
                                (int)bufferevent_getfd(bufferevent));
    if (err == FF_OK) {
        server_parked_head_check(loop);
        return;
    }
    if (err == FF_ERR_SHUTTING_DOWN) {
        server_watch_answer_empty(read);
        return;
    }
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", watch_hub_limit(loop->watch));
    twirp_meta meta[] = {{"limit", limit}};
    server_answer_error(err,
                        err == FF_ERR_WATCHERS_FULL
                            ? "too many WatchEvents requests are waiting (the limit is the "
                              "lower of FF_WATCHERS_MAX and a quarter of max_connections); retry "
                              "shortly"
                            : NULL,
                        meta, err == FF_ERR_WATCHERS_FULL ? 1 : 0, &read->answer);
    server_read_finish(read);
}

/* A parked read whose connection is closed: nothing to answer. libevent has let go of a
 * request it took off a failed connection, so that one is freed here. */
static void server_parked_drop(server_call *call) {
    server_connection *tracked = call->connection;
    assert(tracked->closed && tracked->jobs_pending > 0 && call->loop->jobs_pending > 0);
    tracked->jobs_pending--;
    call->loop->jobs_pending--;
    if (evhttp_request_get_connection(call->request) == NULL) evhttp_request_free(call->request);
}

static void server_watch_drop(server_read *read) {
    server_parked_drop(&read->call);
    server_read_free(read);
}

/* A parked request's client hung up: libevent closes the connection as for an end of file it
 * read itself. The request holds the connection until it is dropped, and then releases it. */
static void server_parked_hung_up(server_connection *tracked) {
    bufferevent_trigger_event(evhttp_connection_get_bufferevent(tracked->connection),
                              BEV_EVENT_READING | BEV_EVENT_EOF, 0);
}

/* The hub hands a parked read back: read again, answer, or free it for a client gone. */
static void server_watch_wake(void *argument, watch_waiter *waiter, watch_wake why) {
    server_loop *loop = argument;
    server_read *read = (server_read *)((char *)waiter - offsetof(server_read, waiter));
    server_connection *tracked = read->call.connection;
    switch (why) {
    case WATCH_WAKE_HEAD:
        server_watch_requeue(read);
        return;
    case WATCH_WAKE_TIMER:
    case WATCH_WAKE_SHUTDOWN:
        server_watch_answer_empty(read);
        return;
    case WATCH_WAKE_GONE:
        /* The connection is closing, and releases itself once this read no longer holds it. */
        server_watch_drop(read);
        return;
    case WATCH_WAKE_HUNG_UP:
        server_parked_hung_up(tracked);
        server_watch_drop(read);
        server_connection_release(tracked);
        server_exit_if_idle(loop);
        return;
    }
}

/* At most FF_WATCHERS_MAX, and never more than a quarter of the connections, wait at once. */
static size_t server_watchers_max(const config *settings) {
    size_t quarter = settings->connections_max / 4;
    if (quarter < 1) quarter = 1;
    return quarter < FF_WATCHERS_MAX ? quarter : FF_WATCHERS_MAX;
}

/* ---- verification and backup, off the event loop ---- */

static void *server_task_run(void *argument) {
    server_task *task = argument;
    task->work(task);
    event_active(task->done_event, EV_READ, 0);
    return NULL;
}

static void server_task_free(server_task *task) {
    if (task->response) protobuf_c_message_free_unpacked(task->response, NULL);
    if (task->done_event) event_free(task->done_event);
    free(task);
}

static void server_task_done(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_task *task = argument;
    ff_server *server = task->call.server;
    server_loop *loop = task->call.loop;
    pthread_join(task->thread, NULL);
    pthread_mutex_lock(&server->tasks_lock);
    *task->slot = NULL;
    pthread_mutex_unlock(&server->tasks_lock);
    loop->jobs_pending--;
    server_connection *tracked = task->call.connection;
    tracked->jobs_pending--;
    if (!tracked->closed && task->err == FF_OK) server_reply_message(&task->call, task->response);
    if (!tracked->closed && task->err != FF_OK) {
        server_reply_failure(&task->call, &task->failure, SIZE_MAX);
    }
    server_connection_release(tracked);
    server_task_free(task);
    server_exit_if_idle(loop);
}

/* Starts work on a thread of its own, unless a task of its kind (slot) is running already: a
 * busy server is not asked to replay or copy its log twice over. */
static void server_task_start(server_call *call, server_task **slot, server_task_work work,
                              ff_err busy) {
    ff_server *server = call->server;
    server_task *task = calloc(1, sizeof *task);
    if (task != NULL) {
        task->done_event = event_new(call->loop->base, -1, 0, server_task_done, task);
    }
    if (task == NULL || task->done_event == NULL) {
        free(task);
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return;
    }
    *task = (server_task){.call = *call, .work = work, .slot = slot,
                          .done_event = task->done_event};
    failure_clear(&task->failure);
    /* The slot is the server's, so one task of a kind runs whichever loop asked. */
    pthread_mutex_lock(&server->tasks_lock);
    bool free_slot = *slot == NULL;
    if (free_slot) *slot = task;
    bool started = free_slot && pthread_create(&task->thread, NULL, server_task_run, task) == 0;
    if (free_slot && !started) *slot = NULL;
    pthread_mutex_unlock(&server->tasks_lock);
    if (!started) {
        server_task_free(task);
        if (free_slot) {
            server_reply_error(call, FF_ERR_INTERNAL, "cannot start a thread for the task", NULL,
                               0);
        } else {
            server_reply_error(call, busy, NULL, NULL, 0);
        }
        return;
    }
    call->loop->jobs_pending++;
    call->connection->jobs_pending++;
}

static void server_verify_work(server_task *task) {
    task->err = query_verify(task->call.server->ledger, NULL, &task->response, &task->failure);
}

/* A backup into backup_dir (backup.h); the reply names the file and the head it holds. */
static void server_backup_work(server_task *task) {
    ff_server *server = task->call.server;
    uint64_t started_us = server_monotonic_us();
    char name[BACKUP_NAME_BYTES], reason[512];
    backup_head head;
    task->err = backup_to_directory(ledger_store(server->ledger), server->settings->backup_dir,
                                    name, sizeof name, &head, reason, sizeof reason);
    if (task->err != FF_OK) {
        failure_set(&task->failure, task->err, "backup_dir", "%s", reason);
        return;
    }
    Fundflow__V1__BackupLedgerResponse *response = malloc(sizeof *response);
    char path[CONFIG_PATH_BYTES + BACKUP_NAME_BYTES + 1];
    snprintf(path, sizeof path, "%s/%s", server->settings->backup_dir, name);
    struct stat status;
    uint8_t *hash = malloc(sizeof head.log.hash);
    char *file_name = strdup(name);
    if (response == NULL || hash == NULL || file_name == NULL) {
        free(response), free(hash), free(file_name);
        task->err = failure_set(&task->failure, FF_ERR_NO_MEMORY, NULL, "no memory for the reply");
        return;
    }
    fundflow__v1__backup_ledger_response__init(response);
    memcpy(hash, head.log.hash, sizeof head.log.hash);
    response->file_name = file_name;
    response->head_sequence = head.log.sequence;
    response->head_hash = (ProtobufCBinaryData){sizeof head.log.hash, hash};
    response->file_bytes = stat(path, &status) == 0 ? (uint64_t)status.st_size : 0;
    response->elapsed_us = server_monotonic_us() - started_us;
    task->response = &response->base;
}

static void server_backup_start(server_call *call) {
    if (call->server->settings->backup_dir[0] == '\0') {
        server_reply_error(call, FF_ERR_BACKUP_NOT_CONFIGURED, NULL, NULL, 0);
        return;
    }
    server_task_start(call, &call->server->backup, server_backup_work, FF_ERR_BACKUP_BUSY);
}

/* ---- plugins ---- */

/* A plugins method on a reader thread, one at a time (plugins_lock). */
static void server_plugins_answer(server_read *read, ProtobufCMessage *decoded) {
    ff_server *server = read->call.server;
    const char *method = read->call.method;
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = FF_OK;
    bool export = strcmp(method, "ExportReport") == 0;
    const Fundflow__V1__ExportReportRequest *asked =
        export ? (const Fundflow__V1__ExportReportRequest *)decoded : NULL;
    if (export) err = export_report_request_check(asked, &failure);
    pthread_mutex_lock(&server->plugins_lock);
    if (err == FF_OK && (export || strcmp(method, "RunReport") == 0)) {
        Fundflow__V1__Report *report = NULL;
        err = plugins_report_run(server->plugins, &read->call.who,
                                 export ? asked->report
                                        : (const Fundflow__V1__RunReportRequest *)decoded,
                                 &report, &failure);
        response = report ? &report->base : NULL;
    } else if (err == FF_OK) {
        if (strcmp(method, "ReloadPlugins") == 0) {
            plugins_reload(server->plugins, NULL, 0);
            server_plugins_listed_refresh(server);
        }
        Fundflow__V1__ListPluginsResponse *list = NULL;
        err = plugins_list(server->plugins, &list);
        if (err != FF_OK) failure_set(&failure, err, NULL, "cannot list the plugins");
        response = list ? &list->base : NULL;
    }
    pthread_mutex_unlock(&server->plugins_lock);
    if (export && err == FF_OK) { /* the file is written outside the plugins lock */
        Fundflow__V1__ExportReportResponse *file = NULL;
        err = export_report_reply(asked, (const Fundflow__V1__Report *)response, &file, &failure);
        protobuf_c_message_free_unpacked(response, NULL);
        response = file ? &file->base : NULL;
    }
    if (err != FF_OK) {
        server_answer_failure(&failure, SIZE_MAX, &read->answer);
        if (response) protobuf_c_message_free_unpacked(response, NULL);
        return;
    }
    server_answer_message(read->call.content, response, &read->answer);
    protobuf_c_message_free_unpacked(response, NULL);
}

static bool server_method_is_plugins(const char *method) {
    return strcmp(method, "ListPlugins") == 0 || strcmp(method, "RunReport") == 0 ||
           strcmp(method, "ReloadPlugins") == 0 || strcmp(method, "ExportReport") == 0;
}

/* ---- routing ---- */

static const ProtobufCMethodDescriptor *server_method_find(const char *path) {
    if (strncmp(path, SERVER_TWIRP_PREFIX, strlen(SERVER_TWIRP_PREFIX)) != 0) return NULL;
    const char *name = path + strlen(SERVER_TWIRP_PREFIX);
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    for (unsigned i = 0; i < service->n_methods; i++) {
        if (strcmp(service->methods[i].name, name) == 0) return &service->methods[i];
    }
    return NULL;
}

/* /metrics is open unless metrics_role is set; then it needs a principal of that role or an
 * admin. Replies and returns the refusal when the caller may not read it. */
static ff_err server_metrics_authorize(server_call *call) {
    pthread_rwlock_rdlock(&call->server->settings_lock);
    Fundflow__V1__PrincipalRole role = call->server->settings->metrics_role;
    pthread_rwlock_unlock(&call->server->settings_lock);
    if (role == FUNDFLOW__V1__PRINCIPAL_ROLE__PRINCIPAL_ROLE_UNSPECIFIED) return FF_OK;
    ff_err err = server_authenticate(call->server, call);
    if (err == FF_OK && call->who.role != role &&
        call->who.role != FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN) {
        err = FF_ERR_PERMISSION_DENIED;
    }
    if (err != FF_OK) server_reply_error(call, err, NULL, NULL, 0);
    return err;
}

static void server_plain_routes(server_call *call, const char *path) {
    ff_server *server = call->server;
    if (strcmp(path, "/healthz") == 0) {
        char reason[FF_PATH_BYTES_MAX + 256];
        bool healthy = health_check(ledger_store(server->ledger), reason, sizeof reason - 1);
        strcat(reason, "\n");
        server_reply_send(call, healthy ? 200 : 503, healthy ? "ok" : "unavailable",
                          "text/plain; charset=utf-8", (const uint8_t *)reason, strlen(reason));
        return;
    }
    if (server_metrics_authorize(call) != FF_OK) return;
    log_head head = {0};
    ledger_head_read(server->ledger, &head);
    pthread_mutex_lock(&server->connections_lock);
    size_t connections = server->connection_count;
    pthread_mutex_unlock(&server->connections_lock);
    uint64_t loop_connections[FF_EVENT_LOOPS_MAX];
    for (size_t l = 0; l < server->loop_count; l++) {
        loop_connections[l] = server_loop_arrivals(server->loops[l]);
    }
    /* The hubs of every loop share their counts, so the first loop's give the totals. */
    metrics_gauges gauges = {.events_total = head.sequence,
                             .database_bytes = store_used_bytes(ledger_store(server->ledger)),
                             .queue_depth = writer_queue_depth(server->writer),
                             .connections = connections,
                             .read_queue_depth = readers_queue_depth(server->readers),
                             .log_lines_dropped = logsink_dropped(server->log),
                             .watchers_parked = watch_hub_parked(server->loops[0]->watch),
                             .sequence_waiters =
                                 watch_hub_parked(server->loops[0]->sequence_waits),
                             .loop_connections = loop_connections,
                             .loop_count = server->loop_count};
    /* The cluster's status is read where it is kept, without blocking (server_cluster.h). */
    const server_cluster_ops *ops = server->settings->cluster;
    server_cluster_status *cluster = ops ? calloc(1, sizeof *cluster) : NULL;
    if (cluster != NULL && ops->status(ops->argument, cluster) == FF_OK) gauges.cluster = cluster;
    char *text = metrics_render(server->metrics, &gauges);
    free(cluster);
    if (text == NULL) {
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return;
    }
    server_reply_send(call, 200, "ok", "text/plain; version=0.0.4", (const uint8_t *)text,
                      strlen(text));
    free(text);
}

/* The web view: public files, so no token is asked for (ui.h). */
static void server_ui_route(server_call *call, const char *path) {
    ui_reply reply;
    ui_answer(call->server->settings->ui_dir, call->request, path, &reply);
    server_reply_finish(call, reply.status, reply.reason, reply.code, reply.body);
    if (reply.body != NULL) evbuffer_free(reply.body);
}

/* True if the body is within max_body_bytes; replies and returns false if not. */
static bool server_body_within_limit(server_call *call) {
    size_t body_bytes = evbuffer_get_length(evhttp_request_get_input_buffer(call->request));
    if (body_bytes <= call->server->settings->body_bytes_max) return true;
    char limit[24];
    snprintf(limit, sizeof limit, "%" PRIu64, call->server->settings->body_bytes_max);
    server_reply_error(call, FF_ERR_TOO_LARGE, "the request body is larger than the limit",
                       (twirp_meta[]){{"limit_bytes", limit}}, 1);
    return false;
}

/* Decodes the body; replies and returns NULL if it cannot. */
static ProtobufCMessage *server_body_decode(server_call *call,
                                            const ProtobufCMessageDescriptor *input) {
    if (!server_body_within_limit(call)) return NULL;
    struct evbuffer *body = evhttp_request_get_input_buffer(call->request);
    size_t body_bytes = evbuffer_get_length(body);
    const uint8_t *bytes = body_bytes ? evbuffer_pullup(body, -1) : (const uint8_t *)"";
    ProtobufCMessage *decoded = NULL;
    char error[512];
    ff_err err = twirp_message_decode(call->content, input, bytes, body_bytes, &decoded, error,
                                      sizeof error);
    if (err != FF_OK) {
        server_reply_error(call, FF_ERR_MALFORMED, error, NULL, 0);
        return NULL;
    }
    return decoded;
}

/* Everything a Twirp call must pass before its method runs; replies on failure. */
static const ProtobufCMethodDescriptor *server_twirp_admit(server_call *call, const char *path) {
    const ProtobufCMethodDescriptor *method = server_method_find(path);
    if (method == NULL || evhttp_request_get_command(call->request) != EVHTTP_REQ_POST) {
        server_reply_error(call, FF_ERR_BAD_ROUTE,
                           method ? "Twirp methods take POST" : "no such method",
                           (twirp_meta[]){{"path", path}}, 1);
        return NULL;
    }
    call->method = method->name;
    const char *content_type = evhttp_find_header(
        evhttp_request_get_input_headers(call->request), "Content-Type");
    call->content = twirp_content_parse(content_type);
    if (call->content == TWIRP_CONTENT_UNKNOWN) {
        server_reply_error(call, FF_ERR_BAD_ROUTE,
                           "unexpected Content-Type: use application/protobuf or application/json",
                           (twirp_meta[]){{"content_type", content_type ? content_type : ""}}, 1);
        return NULL;
    }
    if (server_shutting_down(call->server)) {
        server_reply_error(call, FF_ERR_SHUTTING_DOWN, NULL, NULL, 0);
        return NULL;
    }
    ff_err err = server_authorize(call->server, call);
    if (err != FF_OK) {
        server_reply_error(call, err, NULL, NULL, 0);
        return NULL;
    }
    call->authorized = true;
    return method;
}

/* The methods that write: the write gate (server_write_refused) stands before each. */
static bool server_method_writes(const char *method) {
    return strcmp(method, "SubmitCommands") == 0 || strcmp(method, "GrantPrincipal") == 0 ||
           strcmp(method, "RevokePrincipal") == 0;
}

/* The methods the loop answers itself or hands to the writer or the verification thread; every
 * other read goes to the reader threads. */
static bool server_method_is_on_loop(const char *method) {
    return server_method_writes(method) || strcmp(method, "VerifyLedger") == 0 ||
           strcmp(method, "BackupLedger") == 0;
}

/* The reads that are not queries: plugins (when loaded), the cluster's RPCs and ServerInfo. */
static bool server_method_is_read_of_server(ff_server *server, const char *method) {
    return (server_method_is_plugins(method) && server->plugins != NULL) ||
           cluster_view_method_is(method) || strcmp(method, "ServerInfo") == 0;
}

/* ---- reads answered on the loop ----
 *
 * A read whose work is a bounded number of key look-ups, whatever the ledger's size, is answered
 * on the loop that received it, with no hand-off to a reader thread and back (two thread
 * wake-ups, more than the read itself costs): GetOrg (one organisation), GetEvent (one event),
 * and GetPosition of one organisation without rollup, provider_contracts or as_at_date (each
 * stream's balance is one seek; as_at_sequence is one seek too), and only with a body of at most
 * FF_LOOP_READ_BODY_BYTES_MAX. Everything else that reads (pages, histories, reports, exports,
 * reconciles, proofs, plugins, the cluster's RPCs, WatchEvents) goes to the reader threads, so
 * that no long read holds up the loop and the writes' replies it sends. */

static bool server_method_may_be_cheap(const char *method) {
    return strcmp(method, "GetPosition") == 0 || strcmp(method, "GetOrg") == 0 ||
           strcmp(method, "GetEvent") == 0;
}

/* Whether a decoded request of a method that may be cheap is: GetOrg and GetEvent always are. */
static bool server_read_is_cheap(const char *method, const ProtobufCMessage *decoded) {
    assert(server_method_may_be_cheap(method));
    if (strcmp(method, "GetPosition") != 0) return true;
    const Fundflow__V1__GetPositionRequest *get =
        (const Fundflow__V1__GetPositionRequest *)decoded;
    return !get->rollup && !get->provider_contracts && get->as_at_date == 0;
}

/* Answers a cheap read here, or hands it to the reader threads decoded. False: not a read that
 * may be cheap, and nothing was done. */
static bool server_read_on_loop(server_call *call, const ProtobufCMethodDescriptor *method,
                                query_handler handler) {
    if (!server_method_may_be_cheap(method->name)) return false;
    size_t body_bytes = evbuffer_get_length(evhttp_request_get_input_buffer(call->request));
    if (body_bytes > FF_LOOP_READ_BODY_BYTES_MAX) return false;
    ProtobufCMessage *decoded = server_body_decode(call, method->input);
    if (decoded == NULL) return true;
    if (!server_read_is_cheap(method->name, decoded)) {
        server_read_queue(call, method->input, handler, decoded);
        return true;
    }
    server_call_sequence_note(call);
    ProtobufCMessage *response = NULL;
    ff_failure failure;
    failure_clear(&failure);
    server_answer answer;
    if (handler(call->server->ledger, &call->who, decoded, &response, &failure) == FF_OK) {
        assert(response != NULL);
        server_answer_message(call->content, response, &answer);
        protobuf_c_message_free_unpacked(response, NULL);
    } else {
        assert(failure.code != FF_OK);
        server_answer_failure(&failure, SIZE_MAX, &answer);
    }
    protobuf_c_message_free_unpacked(decoded, NULL);
    server_answer_send(call, &answer);
    return true;
}

/* Runs an admitted call, now or once the head reached its minimum sequence. */
static void server_twirp_dispatch(server_call *call, const ProtobufCMethodDescriptor *method) {
    if (!server_method_is_on_loop(method->name)) {
        bool of_server = server_method_is_read_of_server(call->server, method->name);
        query_handler handler = of_server ? NULL : query_handler_find(method->name);
        if (handler != NULL && server_read_on_loop(call, method, handler)) return;
        if (of_server || handler != NULL) {
            server_read_queue(call, method->input, handler, NULL);
            return;
        }
    }
    if (server_method_writes(method->name) && server_write_refused(call)) return;
    ProtobufCMessage *decoded = server_body_decode(call, method->input);
    if (decoded == NULL) return;
    if (strcmp(method->name, "SubmitCommands") == 0) {
        server_submit(call, decoded);
    } else if (strcmp(method->name, "GrantPrincipal") == 0 ||
               strcmp(method->name, "RevokePrincipal") == 0) {
        server_principal_write(call, decoded);
    } else if (strcmp(method->name, "VerifyLedger") == 0) {
        protobuf_c_message_free_unpacked(decoded, NULL);
        server_task_start(call, &call->server->verify, server_verify_work, FF_ERR_BUSY);
    } else if (strcmp(method->name, "BackupLedger") == 0) {
        protobuf_c_message_free_unpacked(decoded, NULL);
        server_backup_start(call);
    } else {
        protobuf_c_message_free_unpacked(decoded, NULL);
        server_reply_error(call, FF_ERR_BAD_ROUTE, "this method is not served here", NULL, 0);
    }
}

/* ---- Fundflow-Min-Sequence: requests that wait for this node's head ----
 *
 * A request may ask that this node have the log up to event N before it runs (a client reading
 * its own write on a follower). Below it, the request parks in the sequence_waits hub (watch.h:
 * a timer and a place in a list, no thread, no transaction) until a commit or an entry the
 * cluster applied brings the head to N; then it runs as if it had just arrived. After
 * min_sequence_wait_ms it is refused with sequence_not_reached. */

#define SERVER_MIN_SEQUENCE_HEADER "Fundflow-Min-Sequence"

typedef struct server_sequence_wait {
    server_call call;
    const ProtobufCMethodDescriptor *method;
    uint64_t min_sequence;
    watch_waiter waiter;
} server_sequence_wait;

/* The request's minimum sequence, 0 without the header. Replies min_sequence_invalid and returns
 * false when the header is not a whole number. */
static bool server_min_sequence_read(server_call *call, uint64_t *min_sequence) {
    *min_sequence = 0;
    const char *text = evhttp_find_header(evhttp_request_get_input_headers(call->request),
                                          SERVER_MIN_SEQUENCE_HEADER);
    if (text == NULL) return true;
    char *end = NULL;
    errno = 0;
    unsigned long long value = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    if (end != NULL && *end == '\0' && errno == 0) {
        *min_sequence = value;
        return true;
    }
    char shown[41];
    snprintf(shown, sizeof shown, "%s", text);
    server_reply_error(call, FF_ERR_MIN_SEQUENCE_INVALID,
                       "the Fundflow-Min-Sequence header must be a whole number of 0 or more, "
                       "such as 1234",
                       (twirp_meta[]){{"header", SERVER_MIN_SEQUENCE_HEADER}, {"value", shown}},
                       2);
    return false;
}

/* The wait ended below the sequence asked for: unavailable, with both in meta. */
static void server_sequence_refuse(server_call *call, uint64_t head, uint64_t min_sequence) {
    char head_text[24], asked[24], wait_ms[24], message[256];
    snprintf(head_text, sizeof head_text, "%" PRIu64, head);
    snprintf(asked, sizeof asked, "%" PRIu64, min_sequence);
    snprintf(wait_ms, sizeof wait_ms, "%" PRIu32, call->server->settings->min_sequence_wait_ms);
    snprintf(message, sizeof message,
             "this node's head is at %s, below the Fundflow-Min-Sequence %s asked for, after "
             "waiting %s ms (min_sequence_wait_ms); retry, or ask another node",
             head_text, asked, wait_ms);
    server_reply_error(call, FF_ERR_SEQUENCE_NOT_REACHED, message,
                       (twirp_meta[]){{"head_sequence", head_text},
                                      {"min_sequence", asked},
                                      {"wait_ms", wait_ms}},
                       3);
}

/* Parks the call unless the head has reached min_sequence. True when the call was parked or
 * answered; false: run it now. */
static bool server_sequence_wait_begin(server_call *call, const ProtobufCMethodDescriptor *method,
                                       uint64_t min_sequence) {
    ff_server *server = call->server;
    log_head head;
    ff_err err = ledger_head_read(server->ledger, &head);
    if (err != FF_OK) {
        server_reply_error(call, err, "cannot read the head of the log", NULL, 0);
        return true;
    }
    if (head.sequence >= min_sequence) return false;
    server_sequence_wait *wait = calloc(1, sizeof *wait);
    if (wait == NULL) {
        server_reply_error(call, FF_ERR_NO_MEMORY, NULL, NULL, 0);
        return true;
    }
    *wait = (server_sequence_wait){.call = *call, .method = method, .min_sequence = min_sequence};
    struct bufferevent *bufferevent =
        evhttp_connection_get_bufferevent(call->connection->connection);
    err = watch_hub_park(call->loop->sequence_waits, &wait->waiter, min_sequence - 1,
                         server->settings->min_sequence_wait_ms, call->connection,
                         (int)bufferevent_getfd(bufferevent));
    if (err != FF_OK) {
        free(wait);
        server_reply_error(call, err,
                           err == FF_ERR_WATCHERS_FULL
                               ? "too many requests are waiting for a minimum sequence; retry "
                                 "shortly"
                               : NULL,
                           NULL, 0);
        return true;
    }
    call->loop->jobs_pending++;
    call->connection->jobs_pending++;
    server_parked_head_check(call->loop);
    return true;
}

/* The hub hands a waiting request back: run it, refuse it, or free it for a client gone. */
static void server_sequence_wake(void *argument, watch_waiter *waiter, watch_wake why) {
    server_loop *loop = argument;
    ff_server *server = loop->server;
    server_sequence_wait *wait =
        (server_sequence_wait *)((char *)waiter - offsetof(server_sequence_wait, waiter));
    server_call *call = &wait->call;
    server_connection *tracked = call->connection;
    if (why == WATCH_WAKE_GONE || why == WATCH_WAKE_HUNG_UP) {
        if (why == WATCH_WAKE_HUNG_UP) server_parked_hung_up(tracked);
        server_parked_drop(call);
        free(wait);
        if (why == WATCH_WAKE_HUNG_UP) server_connection_release(tracked);
        server_exit_if_idle(loop);
        return;
    }
    tracked->jobs_pending--;
    loop->jobs_pending--;
    log_head head = {0};
    /* The head may have come without a report (the timer looks only at heads reported). */
    bool reached = why == WATCH_WAKE_HEAD ||
                   (ledger_head_read(server->ledger, &head) == FF_OK &&
                    head.sequence >= wait->min_sequence);
    if (why == WATCH_WAKE_SHUTDOWN) server_reply_error(call, FF_ERR_SHUTTING_DOWN, NULL, NULL, 0);
    else if (reached) server_twirp_dispatch(call, wait->method);
    else server_sequence_refuse(call, head.sequence, wait->min_sequence);
    free(wait);
    server_exit_if_idle(loop);
}

static void server_twirp_route(server_call *call, const char *path) {
    const ProtobufCMethodDescriptor *method = server_twirp_admit(call, path);
    if (method == NULL) return;
    uint64_t min_sequence;
    if (!server_min_sequence_read(call, &min_sequence)) return;
    if (min_sequence > 0 && server_sequence_wait_begin(call, method, min_sequence)) return;
    server_twirp_dispatch(call, method);
}

/* True when the request names its body's length more than once or in two ways (two
 * Content-Length, two Transfer-Encoding, or both). libevent reads the first Content-Length, or
 * chunks if Transfer-Encoding is chunked; a proxy in front may have read the other, and then the
 * rest of the stream is a request the proxy never saw. */
static bool server_framing_is_ambiguous(struct evhttp_request *request) {
    size_t lengths = 0, encodings = 0;
    struct evkeyval *header;
    TAILQ_FOREACH(header, evhttp_request_get_input_headers(request), next) {
        if (evutil_ascii_strcasecmp(header->key, "Content-Length") == 0) lengths++;
        if (evutil_ascii_strcasecmp(header->key, "Transfer-Encoding") == 0) encodings++;
    }
    return lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0);
}

/* Answers without taking a connection slot, and closes the connection after the reply. */
static void server_request_untracked(server_call *call, const char *path, ff_err refusal,
                                     const char *message) {
    evhttp_add_header(evhttp_request_get_output_headers(call->request), "Connection", "close");
    if (refusal == FF_OK) {
        server_plain_routes(call, path);
    } else {
        server_reply_error(call, refusal, message, NULL, 0);
    }
}

static void server_request_handle(struct evhttp_request *request, void *argument) {
    server_loop *loop = argument;
    ff_server *server = loop->server;
    server_call call = {.server = server, .loop = loop, .request = request,
                        .started_us = server_monotonic_us(), .content = TWIRP_CONTENT_JSON};
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(request);
    const char *path = uri && evhttp_uri_get_path(uri) ? evhttp_uri_get_path(uri) : "";
    bool is_get = evhttp_request_get_command(request) == EVHTTP_REQ_GET;
    /* TLS never falls back to plain HTTP: libevent makes a plain connection when there was no
     * memory for a TLS one, and such a connection is refused, not served. */
    struct evhttp_connection *connection = evhttp_request_get_connection(request);
    if (server->tls != NULL &&
        !tls_bufferevent_is_secure(evhttp_connection_get_bufferevent(connection))) {
        server_request_untracked(&call, path, FF_ERR_NO_MEMORY, "TLS is required");
        return;
    }
    if (server_framing_is_ambiguous(request)) {
        server_request_untracked(&call, path, FF_ERR_MALFORMED,
                                 "the request gives its body's length more than once or in two "
                                 "ways (Content-Length, Transfer-Encoding)");
        return;
    }
    call.connection = server_connection_track(loop, request);
    if (call.connection == NULL) {
        /* A health check is answered even when every slot is taken, so that a load balancer
         * does not take a busy server for a dead one. */
        bool health = is_get && strcmp(path, "/healthz") == 0;
        server_request_untracked(&call, path, health ? FF_OK : FF_ERR_CONNECTIONS_FULL, NULL);
        return;
    }
    server_arrival_served(call.connection->arrival);
    call.connection->awaiting_reply = true;
    server_in_flight_add(loop, 1);
    evhttp_request_set_on_complete_cb(request, server_reply_completed, call.connection);
    bool plain = strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0;
    if (plain && is_get) {
        server_plain_routes(&call, path);
    } else if (ui_route_is(path)) {
        server_ui_route(&call, path);
    } else {
        server_twirp_route(&call, path);
    }
}

/* ---- lifecycle ---- */

static void server_shutdown_grace_expired(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop *loop = argument;
    logsink_line(loop->server->log,
                 "level=warn msg=\"shutdown grace expired\" loop=%zu in_flight=%" PRIu64,
                 loop->index, server_in_flight(loop));
    event_base_loopexit(loop->base, NULL);
}

/* On each loop once the server is shutting down: answers its parked requests, stops accepting
 * on its listening socket, and ends when its requests are answered or the grace is over. */
static void server_loop_shutdown(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    server_loop *loop = argument;
    if (loop->stopping) return;
    loop->stopping = true;
    watch_hub_close(loop->watch);
    watch_hub_close(loop->sequence_waits);
    if (loop->bound) evhttp_del_accept_socket(loop->http, loop->bound);
    loop->bound = NULL;
    struct timeval grace = {FF_SHUTDOWN_GRACE_SECONDS, 0};
    loop->grace_event = evtimer_new(loop->base, server_shutdown_grace_expired, loop);
    if (loop->grace_event) evtimer_add(loop->grace_event, &grace);
    server_exit_if_idle(loop);
}

/* On the first loop, which takes the signals: every loop refuses new requests at once (the
 * flag) and shuts down on its own thread. */
static void server_shutdown_begin(ff_server *server, int signal_number) {
    if (server_shutting_down(server)) return;
    __atomic_store_n(&server->shutting_down, true, __ATOMIC_RELEASE);
    uint64_t in_flight = 0;
    for (size_t l = 0; l < server->loop_count; l++) in_flight += server_in_flight(server->loops[l]);
    logsink_line(server->log, "level=info msg=\"shutting down\" signal=%d in_flight=%" PRIu64,
                 signal_number, in_flight);
    server_loop_shutdown(-1, 0, server->loops[0]);
    for (size_t l = 1; l < server->loop_count; l++) {
        event_active(server->loops[l]->shutdown_event, EV_READ, 0);
    }
}

static void server_plugins_reload_run(reader_job *job) {
    server_reload *reload = (server_reload *)job;
    ff_server *server = reload->server;
    pthread_mutex_lock(&server->plugins_lock);
    plugins_reload(server->plugins, reload->settings, reload->setting_count);
    server_plugins_listed_refresh(server);
    size_t count = plugins_count(server->plugins);
    pthread_mutex_unlock(&server->plugins_lock);
    logsink_line(server->log, "level=info msg=\"plugins reloaded\" count=%zu", count);
}

static void server_reload_free(server_reload *reload) {
    free(reload->settings);
    free(reload);
}

/* Hands the reload to a reader thread with a copy of the settings, which the next SIGHUP may
 * change under it; reloads here, as before, if it cannot. */
static void server_plugins_reload_queue(ff_server *server, bool reread) {
    const config *settings = server->settings;
    server_reload *reload = calloc(1, sizeof *reload);
    size_t count = settings->plugin_setting_count;
    /* Re-read with no plugin settings still means "now none": the copy is never NULL then. */
    plugins_setting *copy = reread ? malloc((count ? count : 1) * sizeof *copy) : NULL;
    if (reload != NULL && (copy != NULL || !reread)) {
        if (copy) memcpy(copy, settings->plugin_settings, count * sizeof *copy);
        *reload = (server_reload){.job = {.run = server_plugins_reload_run}, .server = server,
                                  .settings = copy, .setting_count = count};
        if (readers_submit(server->readers, &reload->job) == FF_OK) return;
        server_plugins_reload_run(&reload->job);
    } else {
        pthread_mutex_lock(&server->plugins_lock);
        plugins_reload(server->plugins, reread ? settings->plugin_settings : NULL,
                       settings->plugin_setting_count);
        server_plugins_listed_refresh(server);
        pthread_mutex_unlock(&server->plugins_lock);
    }
    if (reload) server_reload_free(reload);
    else free(copy);
}

static void server_signal(evutil_socket_t signal_number, short what, void *argument) {
    (void)what;
    ff_server *server = argument;
    if (signal_number != SIGHUP) {
        server_shutdown_begin(server, (int)signal_number);
        return;
    }
    char error[512];
    /* First, so that what follows is logged to the new file after a rotation. */
    if (server->settings->log_file[0] != '\0' &&
        logfile_open(server->settings->log_file, error, sizeof error) != FF_OK) {
        logsink_line(server->log, "level=error msg=\"log file not reopened\" reason=\"%s\"",
                     error);
    }
    /* The other loops read the admin token and metrics_role as they authenticate. */
    pthread_rwlock_wrlock(&server->settings_lock);
    bool reread = config_reload(server->settings, error, sizeof error) == FF_OK;
    pthread_rwlock_unlock(&server->settings_lock);
    if (reread) {
        logsink_line(server->log, "level=info msg=\"configuration re-read\" path=\"%s\"",
                     server->settings->config_path);
        principals_admin_token_warn(server->ledger, server->settings);
    } else {
        logsink_line(server->log, "level=warn msg=\"configuration not re-read\" reason=\"%s\"",
                     error);
    }
    if (server->plugins != NULL) server_plugins_reload_queue(server, reread);
}

static void server_reader_check(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    ff_server *server = argument;
    int cleared = store_reader_check(ledger_store(server->ledger));
    if (cleared != 0) {
        logsink_line(server->log, "level=warn msg=\"stale LMDB readers cleared\" count=%d",
                     cleared);
    }
}

/* The first loop binds the listening socket; every other loop accepts on a duplicate of it
 * (the same socket: closing one duplicate leaves the others listening), so whichever loop is
 * free takes the next connection, and serves it to its end. */
static ff_err server_listen(ff_server *server) {
    config *settings = server->settings;
    server_loop *first = server->loops[0];
    first->bound = evhttp_bind_socket_with_handle(first->http, settings->listen_host,
                                                  settings->listen_port);
    if (first->bound == NULL) {
        /* libevent keeps the socket call's errno across closing the socket it made. */
        int error = errno;
        if (error == EADDRINUSE) {
            fprintf(stderr, "fundflowd: cannot listen on %s:%u: the address is already in use: "
                            "another program, perhaps another fundflowd, is listening there; "
                            "stop it or choose another address with --listen\n",
                    settings->listen_host, settings->listen_port);
            return FF_ERR_ADDRESS_IN_USE;
        }
        fprintf(stderr, "fundflowd: cannot listen on %s:%u: %s\n", settings->listen_host,
                settings->listen_port, error != 0 ? strerror(error) : "the address is refused");
        return FF_ERR_LISTEN_FAILED;
    }
    struct sockaddr_storage address;
    socklen_t address_bytes = sizeof address;
    evutil_socket_t socket_fd = evhttp_bound_socket_get_fd(first->bound);
    if (getsockname(socket_fd, (struct sockaddr *)&address, &address_bytes) != 0) return FF_ERR_IO;
    uint16_t port = ntohs(address.ss_family == AF_INET6
                              ? ((struct sockaddr_in6 *)&address)->sin6_port
                              : ((struct sockaddr_in *)&address)->sin_port);
    server->port = port;
    for (size_t l = 1; l < server->loop_count; l++) {
        server_loop *loop = server->loops[l];
        int duplicate = fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
        loop->bound = duplicate >= 0 ? evhttp_accept_socket_with_handle(loop->http, duplicate)
                                     : NULL;
        if (loop->bound == NULL) {
            if (duplicate >= 0) close(duplicate);
            fprintf(stderr, "fundflowd: cannot listen on %s:%u on event loop %zu: %s\n",
                    settings->listen_host, port, l, strerror(errno));
            return FF_ERR_LISTEN_FAILED;
        }
    }
    return FF_OK;
}

/* The signals and the stale-reader check, on the first loop. */
static ff_err server_signals_add(ff_server *server) {
    struct event_base *base = server->loops[0]->base;
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        server->signal_events[i] = evsignal_new(base, signals[i], server_signal, server);
        if (server->signal_events[i] == NULL || evsignal_add(server->signal_events[i], NULL)) {
            return FF_ERR_INTERNAL;
        }
    }
    struct timeval every = {FF_READER_CHECK_SECONDS, 0};
    server->reader_check_event = event_new(base, -1, EV_PERSIST, server_reader_check, server);
    if (server->reader_check_event == NULL || event_add(server->reader_check_event, &every) != 0) {
        return FF_ERR_INTERNAL;
    }
    return FF_OK;
}

/* The events other threads activate to hand a loop its work. */
static ff_err server_loop_events_add(server_loop *loop) {
    loop->done_event = event_new(loop->base, -1, 0, server_done_drain, loop);
    loop->read_done_event = event_new(loop->base, -1, 0, server_read_done_drain, loop);
    loop->head_event = event_new(loop->base, -1, 0, server_head_drain, loop);
    loop->shutdown_event = event_new(loop->base, -1, 0, server_loop_shutdown, loop);
    loop->balance_event = event_new(loop->base, -1, 0, server_balance_drain, loop);
    return loop->done_event && loop->read_done_event && loop->head_event &&
                   loop->shutdown_event && loop->balance_event
               ? FF_OK
               : FF_ERR_NO_MEMORY;
}

static ff_err server_http_create(server_loop *loop) {
    const config *settings = loop->server->settings;
    loop->http = evhttp_new(loop->base);
    if (loop->http == NULL) return FF_ERR_NO_MEMORY;
    /* libevent cuts off bodies past twice the limit before reading them; bodies between the
     * limit and that are read and refused with a Twirp error by server_body_decode. */
    evhttp_set_max_body_size(loop->http, (ev_ssize_t)(settings->body_bytes_max * 2));
    evhttp_set_max_headers_size(loop->http, FF_REQUEST_HEADER_BYTES_MAX);
    evhttp_set_timeout(loop->http, (int)settings->request_timeout_seconds);
    evhttp_set_allowed_methods(loop->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                               EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(loop->http, server_request_handle, loop);
    evhttp_set_bevcb(loop->http, server_arrival_begin, loop);
    return FF_OK;
}

/* One loop: its base, its HTTP server, its events and its hubs (sharing the server's counts). */
static ff_err server_loop_create(ff_server *server, size_t index) {
    server_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL) return FF_ERR_NO_MEMORY;
    server->loops[index] = loop;
    loop->server = server;
    loop->index = index;
    loop->accepting = true; /* libevent's listener starts enabled */
    pthread_mutex_init(&loop->done_lock, NULL);
    pthread_mutex_init(&loop->read_done_lock, NULL);
    const config *settings = server->settings;
    loop->connections = calloc(settings->connections_max, sizeof *loop->connections);
    loop->base = event_base_new();
    if (loop->connections == NULL || loop->base == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = server_http_create(loop);
    if (err == FF_OK) err = server_loop_events_add(loop);
    if (err == FF_OK) {
        err = watch_hub_create(loop->base, server_watchers_max(settings),
                               &server->watchers_parked, server_watch_wake, loop, &loop->watch);
    }
    if (err == FF_OK) {
        err = watch_hub_create(loop->base, server_watchers_max(settings),
                               &server->sequence_waiters_parked, server_sequence_wake, loop,
                               &loop->sequence_waits);
    }
    return err;
}

/* libevent's warnings (an accept that fails, say) in libevent's own format, "[warn] ...", but
 * through logline_write, so that they too never wait for a stalled stderr while serving. */
static void server_libevent_log(int severity, const char *message) {
    const char *name = severity == EVENT_LOG_DEBUG ? "debug"
                       : severity == EVENT_LOG_MSG ? "msg"
                       : severity == EVENT_LOG_WARN ? "warn"
                       : severity == EVENT_LOG_ERR ? "err"
                                                   : "???";
    logline_write("[%s] %s", name, message);
}

/* event_loops = 0: one per online core, within FF_EVENT_LOOPS_MAX. */
static size_t server_loop_count(const config *settings) {
    if (settings->event_loops != 0) return settings->event_loops;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    return (size_t)cores < FF_EVENT_LOOPS_MAX ? (size_t)cores : FF_EVENT_LOOPS_MAX;
}

ff_err server_create(config *settings, ff_ledger *ledger, ff_plugins *plugins,
                     ff_server **server_out) {
    *server_out = NULL;
    if (evthread_use_pthreads() != 0) return FF_ERR_INTERNAL;
    ff_server *created = calloc(1, sizeof *created);
    if (created == NULL) return FF_ERR_NO_MEMORY;
    created->settings = settings;
    created->ledger = ledger;
    created->plugins = plugins;
    created->started_monotonic_us = server_monotonic_us();
    created->started_at_us = (int64_t)time(NULL) * 1000000;
    pthread_mutex_init(&created->plugins_lock, NULL);
    pthread_mutex_init(&created->plugins_listed_lock, NULL);
    pthread_mutex_init(&created->tasks_lock, NULL);
    pthread_mutex_init(&created->connections_lock, NULL);
    pthread_rwlock_init(&created->settings_lock, NULL);
    server_plugins_listed_refresh(created);
    created->metrics = metrics_create();
    ff_err err = created->metrics ? FF_OK : FF_ERR_NO_MEMORY;
    if (err == FF_OK) err = logsink_start(STDERR_FILENO, FF_LOG_BUFFER_BYTES, &created->log);
    /* From here every layer's lines (logline_write) and libevent's go through the sink too. A
     * second server in one process (the tests' nodes) logs through the first one's. */
    if (err == FF_OK) (void)logsink_route_every_line(created->log);
    event_set_log_callback(server_libevent_log);
    created->loop_count = server_loop_count(settings);
    assert(created->loop_count >= 1 && created->loop_count <= FF_EVENT_LOOPS_MAX);
    for (size_t l = 0; err == FF_OK && l < created->loop_count; l++) {
        err = server_loop_create(created, l);
    }
    if (err == FF_OK) err = server_signals_add(created);
    /* The reader threads start before the server announces itself (server_run), so a client
     * that waits for "listening on" finds reads served. */
    if (err == FF_OK) {
        size_t threads = settings->read_workers ? settings->read_workers : readers_default_count();
        const readers_thread_hooks kept_read_txn = {
            .begin = server_reader_thread_begin,
            .end = server_reader_thread_end,
            .argument = created,
        };
        err = readers_start(threads, FF_READ_QUEUE_DEPTH_MAX, &kept_read_txn,
                            server_read_handed_back, created, &created->readers);
    }
    if (err == FF_OK) err = server_listen(created);
    if (err == FF_OK) {
        log_head head;
        err = ledger_head_read(ledger, &head);
        if (err == FF_OK) server_head_raise(created, head.sequence);
    }
    if (err == FF_OK) principals_admin_token_warn(ledger, settings);
    if (err == FF_OK) {
        err = writer_start(ledger, settings->queue_depth_max, settings->commit_overlap,
                           settings->replicator, server_writer_done, created, &created->writer);
    }
    if (err != FF_OK) {
        server_free(created);
        return err;
    }
    *server_out = created;
    return FF_OK;
}

uint16_t server_port(const ff_server *server) {
    return server->port;
}

void server_tls_use(ff_server *server, SSL_CTX *context) {
    server->tls = context;
}

/* Prints "listening on HOST:PORT" and, when there is one, where the web view is, in one flush
 * once TLS is known: whoever waits for the first line (scripts, tests) then has both. */
static void server_announce(const ff_server *server) {
    const config *settings = server->settings;
    printf("listening on %s:%u\n", settings->listen_host, server->port);
    if (settings->ui_dir[0] != '\0') {
        bool bracketed = strchr(settings->listen_host, ':') != NULL; /* an IPv6 address */
        printf("web view: %s://%s%s%s:%u/ui/\n", server->tls ? "https" : "http",
               bracketed ? "[" : "", settings->listen_host, bracketed ? "]" : "", server->port);
        logsink_line(server->log, "level=info msg=\"serving the web view\" ui_dir=\"%s\"",
                     settings->ui_dir);
    }
    fflush(stdout);
}

/* Runs one loop until it ends. Each loop answers cheap reads itself and authenticates every
 * request in a read, so its thread keeps one read transaction, as the reader threads do. Only
 * event_base_loopexit ends a loop: one with nothing to wait for still waits to be handed work. */
static int server_loop_run(server_loop *loop) {
    ff_store *store = ledger_store(loop->server->ledger);
    (void)store_reader_attach(store);
    int result = event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
    store_reader_detach(store);
    return result;
}

static void *server_loop_thread(void *argument) {
    server_loop *loop = argument;
    if (server_loop_run(loop) == -1) {
        logsink_line(loop->server->log, "level=error msg=\"event loop failed\" loop=%zu",
                     loop->index);
    }
    return NULL;
}

ff_err server_run(ff_server *server) {
    /* The other loops' threads block the signals, so they reach the first loop's thread. */
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM), sigaddset(&blocked, SIGINT), sigaddset(&blocked, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    for (size_t l = 1; l < server->loop_count; l++) {
        server_loop *loop = server->loops[l];
        loop->thread_started = pthread_create(&loop->thread, NULL, server_loop_thread, loop) == 0;
        if (!loop->thread_started) {
            /* Its listening socket is never polled, so the others take every connection. */
            logsink_line(server->log, "level=error msg=\"cannot start an event loop\" loop=%zu",
                         l);
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    server_announce(server);
    int result = server_loop_run(server->loops[0]);
    /* The first loop ends only once shutting down, unless libevent failed: then the others are
     * told to shut down too. Each ends when its requests are answered or its grace is over. */
    if (result == -1) server_shutdown_begin(server, 0);
    for (size_t l = 1; l < server->loop_count; l++) {
        server_loop *loop = server->loops[l];
        if (!loop->thread_started) continue;
        pthread_join(loop->thread, NULL);
        loop->thread_started = false;
    }
    return result == -1 ? FF_ERR_INTERNAL : FF_OK;
}

/* Reads the readers handed back after the loop stopped: their replies cannot be sent. */
static void server_leftover_reads_free(server_loop *loop) {
    for (reader_job *job = loop->read_done_head; job != NULL;) {
        reader_job *next = job->next;
        if (job->run == server_plugins_reload_run) {
            server_reload_free((server_reload *)job);
            job = next;
            continue;
        }
        server_read *read = (server_read *)job;
        read->call.connection->jobs_pending--;
        server_connection_release(read->call.connection);
        server_read_free(read);
        job = next;
    }
    loop->read_done_head = loop->read_done_tail = NULL;
}

static void server_leftover_jobs_free(server_loop *loop) {
    for (writer_job *job = loop->done_head; job != NULL;) {
        writer_job *next = job->next;
        server_call *call = job->context;
        call->connection->jobs_pending--;
        server_connection_release(call->connection);
        server_call_free(call);
        writer_job_free(job);
        job = next;
    }
    loop->done_head = loop->done_tail = NULL;
}

/* Frees a loop once its thread has ended and the writer and readers are stopped. */
static void server_loop_free(server_loop *loop) {
    if (loop == NULL) return;
    assert(!loop->thread_started);
    if (loop->http) evhttp_free(loop->http);
    watch_hub_free(loop->watch);
    watch_hub_free(loop->sequence_waits);
    /* libevent has closed every connection; what is left are untracked ones' watches. */
    while (loop->arrivals) server_arrival_release(loop->arrivals);
    for (size_t i = 0; i < loop->connection_count; i++) free(loop->connections[i]);
    struct event *events[] = {loop->done_event, loop->read_done_event, loop->head_event,
                              loop->shutdown_event, loop->grace_event, loop->balance_event};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        if (events[i]) event_free(events[i]);
    }
    if (loop->base) event_base_free(loop->base);
    pthread_mutex_destroy(&loop->done_lock);
    pthread_mutex_destroy(&loop->read_done_lock);
    free(loop->connections);
    free(loop);
}

void server_free(ff_server *server) {
    if (server == NULL) return;
    /* No loop runs now: what is released below must not wake another. */
    __atomic_store_n(&server->shutting_down, true, __ATOMIC_RELEASE);
    /* The writer commits whatever is still queued before it stops; those replies cannot be sent,
     * so those commands were never acknowledged. */
    writer_stop(server->writer);
    for (size_t l = 0; l < server->loop_count; l++) {
        if (server->loops[l]) server_leftover_jobs_free(server->loops[l]);
    }
    /* The reader threads finish the reads still queued; their replies are dropped likewise. */
    readers_stop(server->readers);
    for (size_t l = 0; l < server->loop_count; l++) {
        if (server->loops[l]) server_leftover_reads_free(server->loops[l]);
    }
    server_task *tasks[] = {server->verify, server->backup};
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        if (tasks[i] == NULL) continue;
        pthread_join(tasks[i]->thread, NULL);
        server_task_free(tasks[i]);
    }
    for (size_t i = 0; i < 3; i++) {
        if (server->signal_events[i]) event_free(server->signal_events[i]);
    }
    if (server->reader_check_event) event_free(server->reader_check_event);
    for (size_t l = 0; l < server->loop_count; l++) server_loop_free(server->loops[l]);
    metrics_free(server->metrics);
    pthread_mutex_destroy(&server->plugins_lock);
    pthread_mutex_destroy(&server->tasks_lock);
    pthread_mutex_destroy(&server->connections_lock);
    pthread_rwlock_destroy(&server->settings_lock);
    if (server->plugins_listed) {
        protobuf_c_message_free_unpacked(&server->plugins_listed->base, NULL);
    }
    pthread_mutex_destroy(&server->plugins_listed_lock);
    /* Last: everything above may still log. Lines go to stderr directly from here. */
    logsink_stop(server->log);
    free(server);
}
