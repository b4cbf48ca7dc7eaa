/* TLS for http_client: the client context (the CAs to trust, the certificate to show) and one
 * connection's session over a non-blocking socket, verified against the URL's host.
 *
 * The server's certificate must chain to a CA in the options' CA file, or to the system's store
 * when none is given, and name the host: a DNS name in a subjectAltName (or the common name), or
 * for an IP address URL the same address as an IP subjectAltName. TLS 1.2 at least.
 *
 * Nothing here waits: each step says whether it needs the socket readable or writable first, and
 * http_client.c polls with its own deadlines. Not thread-safe; one per client.
 */
#ifndef FUNDFLOW_TOOLS_HTTP_TLS_H
#define FUNDFLOW_TOOLS_HTTP_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "http_client.h"

typedef struct http_tls http_tls;

/* What a step of a session did. */
typedef enum http_tls_step {
    HTTP_TLS_DONE,       /* finished: bytes moved, or the handshake is complete */
    HTTP_TLS_WANT_READ,  /* wait until the socket is readable, then repeat the same call */
    HTTP_TLS_WANT_WRITE, /* wait until the socket is writable, then repeat the same call */
    HTTP_TLS_ENDED,      /* the server closed the connection (cleanly or not) */
    HTTP_TLS_REFUSED,    /* the server sent a TLS alert: it refused us (error says why) */
    HTTP_TLS_FAILED,     /* anything else; error says why */
} http_tls_step;

/* Makes the context for host, which every session checks the server's certificate against.
 * Returns HTTP_OK, HTTP_ERR_TLS_SETUP (a file cannot be loaded, or the key does not match the
 * certificate: error names the file and OpenSSL's reason) or HTTP_ERR_NO_MEMORY. */
http_result http_tls_create(const char *host, const http_tls_files *files, http_tls **tls_out,
                            char *error, size_t error_bytes);

void http_tls_free(http_tls *tls);

/* A session over the connected socket fd; NULL without memory. Free with http_tls_session_free,
 * which leaves fd open. */
SSL *http_tls_session_new(http_tls *tls, int fd);

void http_tls_session_free(SSL *session);

/* One step of the handshake; HTTP_TLS_FAILED says in error why the server was not trusted. */
http_tls_step http_tls_handshake(SSL *session, char *error, size_t error_bytes);

/* Reads up to bytes into buffer; on HTTP_TLS_DONE *got_out is at least 1. */
http_tls_step http_tls_read(SSL *session, void *buffer, size_t bytes, size_t *got_out,
                            char *error, size_t error_bytes);

/* Writes up to bytes from buffer; on HTTP_TLS_DONE *written_out is at least 1. */
http_tls_step http_tls_write(SSL *session, const void *buffer, size_t bytes,
                             size_t *written_out, char *error, size_t error_bytes);

/* Whether the session holds bytes already decrypted and not yet read. */
bool http_tls_pending(SSL *session);

#endif
