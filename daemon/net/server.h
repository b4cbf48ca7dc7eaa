/* fundflowd's network layer: Twirp over libevent's evhttp, with one writer thread behind it.
 *
 * The event-loop thread accepts connections, routes and decodes requests, checks them, answers
 * reads from LMDB read transactions, and queues writes for the writer. The writer's finished
 * groups come back through event_active, and the loop thread sends their replies. "/", "/ui" and
 * "/ui/..." are the web view's static files (ui.h), which need no token.
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

/* Stops the writer (committing anything queued) and frees everything but the ledger. */
void server_free(ff_server *server);

#endif
