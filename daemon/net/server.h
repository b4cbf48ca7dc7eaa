/* fundflowd's network layer: Twirp over libevent's evhttp on one event loop per core
 * (event_loops), with one writer thread and a pool of reader threads behind them.
 *
 * Each loop thread accepts connections on the shared listening socket, routes their requests and
 * checks who asks, answers the cheap reads itself (GetPosition of one organisation, GetOrg,
 * GetEvent), queues other reads for the reader threads (readers.h: they decode, query and
 * encode) and writes for the writer. Both hand their finished work back, through event_active,
 * to the loop the request came on, which sends every reply of its connections. Its log lines go through a log sink (logsink.h) that never waits for stderr. "/", "/ui"
 * and "/ui/..." are the web view's static files (ui.h), which need no token.
 *
 * In a cluster (settings->cluster, server_cluster.h) a node that does not lead refuses writes
 * with not_leader and the leader's URL in meta.leader. Every Twirp reply to an authorized caller
 * carries Fundflow-Sequence: N, the head it reflects; a request carrying Fundflow-Min-Sequence: N
 * waits (min_sequence_wait_ms at most) until this node's head reaches N.
 */
#ifndef FUNDFLOW_SERVER_H
#define FUNDFLOW_SERVER_H

#include "config.h"
#include "ledger.h"
#include "plugin_host.h"
#include "tls.h"

typedef struct ff_server ff_server;

/* Creates the server and binds its listening socket. On success prints "listening on HOST:PORT"
 * to stdout. Errors: FF_ERR_IO (cannot bind), FF_ERR_NO_MEMORY, FF_ERR_INTERNAL. */
ff_err server_create(config *settings, ff_ledger *ledger, ff_plugins *plugins,
                     ff_server **server_out);

/* Serves every connection over TLS with context (tls.h), which must outlive the server. Call
 * before server_run: connections are accepted only once it runs. */
void server_tls_use(ff_server *server, SSL_CTX *context);

/* Runs until SIGTERM or SIGINT, then stops accepting, finishes the requests in flight, and
 * returns. With a UI directory it first prints "web view: http://HOST:PORT/ui/" (https with TLS)
 * to stdout, after the "listening on" line. */
ff_err server_run(ff_server *server);

/* The port the server listens on (the one chosen when the setting was 0). */
uint16_t server_port(const ff_server *server);

/* Tells the server that the log's head (the last event's sequence, not a Raft index) is now
 * head_sequence because the cluster applied an entry (a follower's events arrive that way, not
 * through the writer). Call it once the entry's transaction has committed, so that a reader
 * woken by it sees the events. Safe from any thread, between server_create and server_free: the
 * loop then wakes the WatchEvents requests and the requests waiting for a Fundflow-Min-Sequence
 * that the head has passed. A head at or below one already reported changes nothing; calling it
 * on the leader too (for groups the writer also reports) is harmless. */
void server_events_applied(ff_server *server, uint64_t head_sequence);

/* Stops the writer (committing anything queued) and frees everything but the ledger. */
void server_free(ff_server *server);

#endif
