/* A small blocking HTTP/1.1 client for Twirp calls: POST to http://HOST:PORT over plain TCP, or
 * to https://HOST:PORT over TLS (http_tls.h), with one keep-alive connection reused across calls
 * and every wait bounded by poll.
 *
 * There is no chunked transfer coding and no redirects: fundflowd needs neither. A client is not
 * thread-safe; give each thread its own.
 */
#ifndef FUNDFLOW_TOOLS_HTTP_CLIENT_H
#define FUNDFLOW_TOOLS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reply's status line and headers together. fundflowd's replies carry four short headers, so
 * 16 KiB is generous, and a peer that sends more is not a server we understand. */
#ifndef HTTP_CLIENT_HEADER_BYTES_MAX
#define HTTP_CLIENT_HEADER_BYTES_MAX (16u << 10)
#endif

/* A reply body, unless the options set a lower limit. The largest fundflow replies, a page of
 * 1000 events in JSON or the results of a batch of 8192 commands, stay well under 8 MiB. */
#ifndef HTTP_CLIENT_BODY_BYTES_MAX
#define HTTP_CLIENT_BODY_BYTES_MAX (64u << 20)
#endif

/* The longest host name in a URL; DNS names stop at 253 bytes. */
#define HTTP_CLIENT_HOST_BYTES_MAX 256

/* The longest Content-Type kept from a reply; longer values are cut short. */
#define HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX 128

/* The longest bearer token sent; fundflowd accepts at most FF_TOKEN_BYTES_MAX (128). */
#define HTTP_CLIENT_TOKEN_BYTES_MAX 1024

/* Bytes of the sentence saying why a call failed. */
#define HTTP_CLIENT_ERROR_BYTES 512

/* Defaults for the timeouts in http_client_options. */
#define HTTP_CLIENT_CONNECT_TIMEOUT_MS_DEFAULT 5000
#define HTTP_CLIENT_REQUEST_TIMEOUT_MS_DEFAULT 60000

typedef enum http_result {
    HTTP_OK = 0,
    HTTP_ERR_URL,       /* the URL is not of the form http://HOST:PORT or https://HOST:PORT */
    HTTP_ERR_CONNECT,   /* the host cannot be resolved, or no address accepts a connection */
    HTTP_ERR_TIMEOUT,   /* the request was sent or the reply read too slowly */
    HTTP_ERR_IO,        /* the connection broke during the exchange */
    HTTP_ERR_PROTOCOL,  /* the reply is not HTTP/1.x as this client reads it */
    HTTP_ERR_TOO_LARGE, /* the reply's headers or body exceed their limits */
    HTTP_ERR_NO_MEMORY,
    HTTP_ERR_TLS_SETUP, /* a TLS file cannot be loaded, or TLS files were given for http:// */
} http_result;

/* PEM files for https:// URLs; NULL or "" for none. Without ca_file the system's CA store is
 * trusted. cert_file and key_file, together, are the client certificate for mutual TLS. */
typedef struct http_tls_files {
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
} http_tls_files;

typedef struct http_client_options {
    const char *token;         /* sent as "Authorization: Bearer TOKEN"; NULL or "" for none */
    int connect_timeout_ms;    /* per connection attempt; 0 means the default */
    int request_timeout_ms;    /* for sending a request and reading its reply; 0: default */
    size_t body_bytes_max;     /* the largest reply body accepted; 0 means the default */
    http_tls_files tls;        /* only for https:// URLs */
    /* Sent as "Fundflow-Min-Sequence: N" with every request when not 0: the server answers
     * once its log reaches event N (a read of one's own write on another node). */
    uint64_t min_sequence;
} http_client_options;

/* A reply. body points into the client and stays valid until the client's next call or until it
 * is freed; it is followed by a NUL byte that body_bytes does not count, so text replies can be
 * read as strings. */
typedef struct http_response {
    int status;
    char content_type[HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX];
    const uint8_t *body;
    size_t body_bytes;
    /* fundflowd's Fundflow-Sequence header: the log's head the reply reflects, if it sent one. */
    bool sequence_known;
    uint64_t sequence;
} http_response;

typedef struct http_client http_client;

/* Parses url and makes a client for it without connecting yet.
 *
 * url      "http://HOST:PORT" or "https://HOST:PORT", optionally with a trailing '/'; HOST may
 *          be a name, an IPv4 address or an IPv6 address in brackets. PORT defaults to 80 or 443
 *          when left out.
 * options  may be NULL for every default; the token is copied. For https the TLS files are
 *          loaded here; giving any of them with an http:// URL is HTTP_ERR_TLS_SETUP.
 *
 * Returns HTTP_OK with *client_out set, HTTP_ERR_URL (error says what is wrong with the URL),
 * HTTP_ERR_TLS_SETUP (error names the file and why) or HTTP_ERR_NO_MEMORY. error may be NULL
 * when error_bytes is 0. Any thread. */
http_result http_client_create(const char *url, const http_client_options *options,
                               http_client **client_out, char *error, size_t error_bytes);

/* Sends one POST and reads its reply, connecting first if no connection is open.
 *
 * path          the request target, such as "/twirp/fundflow.v1.Ledger/GetOrg".
 * content_type  sent as Content-Type.
 * body          body_bytes bytes; may be NULL when body_bytes is 0.
 *
 * A connection kept from an earlier call that turns out to have been closed by the server (the
 * request cannot be sent, or the connection ends before any byte of the reply) is replaced once
 * and the request sent again. After a reply with "Connection: close", or an HTTP/1.0 reply, the
 * connection is closed and the next call opens a new one.
 *
 * Returns HTTP_OK with *response filled, whatever the status; otherwise the connection is closed,
 * and http_client_error says why: HTTP_ERR_CONNECT when no connection could be opened (nothing
 * was sent; over TLS also when the server was not trusted, or refused the handshake, which under
 * TLS 1.3 it may only say after the request went out: then it never read the request),
 * HTTP_ERR_TIMEOUT, HTTP_ERR_IO, HTTP_ERR_PROTOCOL, HTTP_ERR_TOO_LARGE or HTTP_ERR_NO_MEMORY. After any of those but HTTP_ERR_CONNECT the server may have acted on the
 * request. The thread that owns the client only. */
http_result http_client_post(http_client *client, const char *path, const char *content_type,
                             const void *body, size_t body_bytes, http_response *response);

/* The sentence saying why the last call failed; "" after a success. Never NULL. */
const char *http_client_error(const http_client *client);

/* The URL the client was made for, as given. */
const char *http_client_url(const http_client *client);

/* Closes the connection and frees the client. NULL is ignored. */
void http_client_free(http_client *client);

#endif
