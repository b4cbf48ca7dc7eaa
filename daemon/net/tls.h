/* TLS for fundflowd: the rule that plain HTTP stays on loopback, the OpenSSL context built from
 * the certificate, key and client CA, and the bufferevents that carry connections over it.
 *
 * The context is made once at start and kept for the server's life: SIGHUP does not reload it,
 * so a reload can never turn TLS off. Through libevent's bufferevent_openssl, every route
 * (/healthz, /metrics and Twirp) is served over TLS when it is on.
 */
#ifndef FUNDFLOW_TLS_H
#define FUNDFLOW_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "fundflow/error.h"

struct bufferevent;
struct event_base;

/* Whether host, as given to --listen, is loopback: 127.0.0.0/8, ::1 (also in brackets and as
 * ::ffff:127.x.y.z) or the name localhost, in any case. A wildcard (0.0.0.0, ::) or any other
 * name is not: a name is not resolved here, so it is taken as reachable from other machines. */
bool tls_host_is_loopback(const char *host);

/* Checks that the listen address and the TLS settings go together. Plain HTTP on an address
 * that is not loopback is refused (FF_ERR_PERMISSION_DENIED) unless insecure_listen is set,
 * which logs a level=warn line on stderr instead. --tls-key or --tls-client-ca without
 * --tls-cert, or a certificate without its key, is FF_ERR_FIELD_MISSING. error says why. */
ff_err tls_listen_check(const config *settings, char *error, size_t error_bytes);

/* Builds the server's context from settings->tls, or sets *context_out to NULL when TLS is off.
 * Loads the certificate chain and the key, checks that they match, and with a client CA asks
 * every client for a certificate that CA signed. Errors (FF_ERR_IO, FF_ERR_NO_MEMORY) name the
 * file and OpenSSL's reason. */
ff_err tls_context_create(const config *settings, SSL_CTX **context_out, char *error,
                          size_t error_bytes);

/* A bufferevent that accepts one TLS connection with context, for evhttp_set_bevcb; libevent
 * gives it its socket. It owns its SSL and closes the socket when freed. NULL without memory. */
struct bufferevent *tls_bufferevent_new(struct event_base *base, SSL_CTX *context);

/* Whether bufferevent is one of tls_bufferevent_new's. When the bevcb gives libevent none,
 * libevent makes a plain one instead, so a TLS server checks each connection with this. */
bool tls_bufferevent_is_secure(struct bufferevent *bufferevent);

/* Frees the context; NULL is ignored. */
void tls_context_free(SSL_CTX *context);

#endif
