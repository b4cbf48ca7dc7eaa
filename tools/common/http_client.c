/* A blocking HTTP/1.1 POST client over one keep-alive TCP or TLS connection, with poll-bounded
 * waits. */
#include "http_client.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http_tls.h"

/* A request is sent at most twice: the second time only when a kept connection proves stale. */
#define HTTP_CLIENT_ATTEMPTS_MAX 2

/* The longest URL accepted; a host, a port and a scheme need far less. */
#define HTTP_CLIENT_URL_BYTES_MAX 1024

/* The longest request path, such as "/twirp/fundflow.v1.Ledger/GetAccountHistory". */
#define HTTP_CLIENT_PATH_BYTES_MAX 512

/* Request headers: the request line, Host, Content-Type, Content-Length, the token and
 * Fundflow-Min-Sequence. */
#define HTTP_CLIENT_REQUEST_HEADER_BYTES_MAX (HTTP_CLIENT_TOKEN_BYTES_MAX + 2048)

/* The reply buffer's first size; it doubles as a reply needs, up to the limits. */
#define HTTP_CLIENT_BUFFER_BYTES_INITIAL (16u << 10)

/* Headers in one reply. fundflowd sends four; a peer sending hundreds is not one we know. */
#define HTTP_CLIENT_HEADER_LINES_MAX 100

struct http_client {
    char url[HTTP_CLIENT_URL_BYTES_MAX];
    char host[HTTP_CLIENT_HOST_BYTES_MAX];
    char port[8];
    char host_header[HTTP_CLIENT_HOST_BYTES_MAX + 16];
    char token[HTTP_CLIENT_TOKEN_BYTES_MAX + 1];
    uint64_t min_sequence; /* 0: no Fundflow-Min-Sequence header */
    int connect_timeout_ms;
    int request_timeout_ms;
    size_t body_bytes_max;
    int fd;
    http_tls *tls;   /* for https:// URLs, else NULL */
    SSL *session;    /* the connection's TLS session, while fd is open over https */
    bool replied;    /* the open connection has carried a whole reply */
    uint8_t *buffer;
    size_t buffer_capacity;
    size_t buffer_used;
    char request_header[HTTP_CLIENT_REQUEST_HEADER_BYTES_MAX];
    size_t request_header_bytes;
    char error[HTTP_CLIENT_ERROR_BYTES];
};

/* What the status line and headers of a reply said. */
typedef struct http_reply_head {
    size_t header_bytes;
    int status;
    bool content_length_known;
    size_t content_length;
    bool close_after;
} http_reply_head;

static http_result http_client_fail(http_client *client, http_result result, const char *format,
                                    ...) __attribute__((format(printf, 3, 4)));

static http_result http_client_fail(http_client *client, http_result result, const char *format,
                                    ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(client->error, sizeof client->error, format, arguments);
    va_end(arguments);
    return result;
}

static int64_t http_monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* URLs ------------------------------------------------------------------------------------- */

static bool http_port_parse(const char *text, size_t length, char port[8]) {
    if (length == 0 || length > 5) return false;
    unsigned number = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        number = number * 10 + (unsigned)(text[i] - '0');
    }
    if (number == 0 || number > 65535) return false;
    snprintf(port, 8, "%u", number);
    return true;
}

/* Splits the authority (what follows "http://", up to any '/') into host and port. */
static bool http_authority_parse(http_client *client, const char *authority, size_t length,
                                 const char *default_port, char *error, size_t error_bytes) {
    const char *host = authority, *port = NULL;
    size_t host_length = length;
    if (length > 0 && authority[0] == '[') {
        const char *close = memchr(authority, ']', length);
        if (close == NULL) {
            snprintf(error, error_bytes, "an IPv6 address needs its closing ']'");
            return false;
        }
        host = authority + 1;
        host_length = (size_t)(close - host);
        if (close + 1 < authority + length) {
            if (close[1] != ':') {
                snprintf(error, error_bytes, "only ':PORT' may follow the ']'");
                return false;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(authority, ':', length);
        if (colon != NULL) {
            host_length = (size_t)(colon - authority);
            port = colon + 1;
        }
    }
    if (host_length == 0 || host_length >= sizeof client->host) {
        snprintf(error, error_bytes, "the host is empty or longer than %zu bytes",
                 sizeof client->host - 1);
        return false;
    }
    memcpy(client->host, host, host_length);
    client->host[host_length] = '\0';
    size_t port_length = port ? (size_t)(authority + length - port) : 0;
    if (port == NULL) snprintf(client->port, sizeof client->port, "%s", default_port);
    else if (!http_port_parse(port, port_length, client->port)) {
        snprintf(error, error_bytes, "the port must be a number from 1 to 65535");
        return false;
    }
    bool bracketed = authority[0] == '[';
    snprintf(client->host_header, sizeof client->host_header, "%s%s%s:%s", bracketed ? "[" : "",
             client->host, bracketed ? "]" : "", client->port);
    return true;
}

/* Parses http://HOST:PORT or https://HOST:PORT; *https_out says which. */
static bool http_url_parse(http_client *client, const char *url, bool *https_out, char *error,
                           size_t error_bytes) {
    if (strlen(url) >= sizeof client->url) {
        snprintf(error, error_bytes, "the URL is longer than %zu bytes", sizeof client->url - 1);
        return false;
    }
    *https_out = strncasecmp(url, "https://", 8) == 0;
    if (!*https_out && strncasecmp(url, "http://", 7) != 0) {
        snprintf(error, error_bytes, "the URL must start with http:// or https://, as in "
                                     "https://HOST:PORT");
        return false;
    }
    const char *authority = url + (*https_out ? 8 : 7);
    size_t length = strcspn(authority, "/?#");
    const char *rest = authority + length;
    if (rest[0] != '\0' && strcmp(rest, "/") != 0) {
        snprintf(error, error_bytes, "the URL must be http(s)://HOST:PORT, with no path or query");
        return false;
    }
    if (!http_authority_parse(client, authority, length, *https_out ? "443" : "80", error,
                              error_bytes)) {
        return false;
    }
    memcpy(client->url, url, strlen(url) + 1);
    return true;
}

static bool http_tls_files_given(const http_tls_files *files) {
    return (files->ca_file && files->ca_file[0]) || (files->cert_file && files->cert_file[0]) ||
           (files->key_file && files->key_file[0]);
}

/* Loads the TLS files for an https URL. Refuses them for an http one: whoever gave them expects
 * the traffic to be protected, and it would not be. */
static http_result http_client_tls_setup(http_client *client, bool https,
                                         const http_tls_files *files, char *error,
                                         size_t error_bytes) {
    char reason[HTTP_CLIENT_ERROR_BYTES] = "";
    http_result result = HTTP_OK;
    if (!https && http_tls_files_given(files)) {
        snprintf(reason, sizeof reason, "a CA, certificate or key file was given for an "
                                        "http:// URL; use https://");
        result = HTTP_ERR_TLS_SETUP;
    } else if (https) {
        result = http_tls_create(client->host, files, &client->tls, reason, sizeof reason);
    }
    if (result != HTTP_OK && error_bytes) snprintf(error, error_bytes, "%s", reason);
    return result;
}

http_result http_client_create(const char *url, const http_client_options *options,
                               http_client **client_out, char *error, size_t error_bytes) {
    assert(url != NULL && client_out != NULL);
    assert(error != NULL || error_bytes == 0);
    *client_out = NULL;
    http_client *client = calloc(1, sizeof *client);
    if (client == NULL) {
        if (error_bytes) snprintf(error, error_bytes, "out of memory");
        return HTTP_ERR_NO_MEMORY;
    }
    client->fd = -1;
    char reason[HTTP_CLIENT_ERROR_BYTES] = "";
    bool https = false;
    if (!http_url_parse(client, url, &https, reason, sizeof reason)) {
        if (error_bytes) snprintf(error, error_bytes, "\"%s\": %s", url, reason);
        free(client);
        return HTTP_ERR_URL;
    }
    const char *token = options && options->token ? options->token : "";
    if (strlen(token) >= sizeof client->token || strpbrk(token, "\r\n") != NULL) {
        if (error_bytes) snprintf(error, error_bytes, "the token is too long or holds a newline");
        free(client);
        return HTTP_ERR_URL;
    }
    memcpy(client->token, token, strlen(token) + 1);
    client->min_sequence = options ? options->min_sequence : 0;
    client->connect_timeout_ms = options && options->connect_timeout_ms > 0
                                     ? options->connect_timeout_ms
                                     : HTTP_CLIENT_CONNECT_TIMEOUT_MS_DEFAULT;
    client->request_timeout_ms = options && options->request_timeout_ms > 0
                                     ? options->request_timeout_ms
                                     : HTTP_CLIENT_REQUEST_TIMEOUT_MS_DEFAULT;
    client->body_bytes_max = options && options->body_bytes_max > 0 ? options->body_bytes_max
                                                                     : HTTP_CLIENT_BODY_BYTES_MAX;
    http_tls_files none = {NULL, NULL, NULL};
    http_result result = http_client_tls_setup(client, https, options ? &options->tls : &none,
                                               error, error_bytes);
    if (result != HTTP_OK) {
        free(client);
        return result;
    }
    *client_out = client;
    return HTTP_OK;
}

const char *http_client_error(const http_client *client) {
    return client->error;
}

const char *http_client_url(const http_client *client) {
    return client->url;
}

static void http_client_close(http_client *client) {
    http_tls_session_free(client->session);
    client->session = NULL;
    client->replied = false;
    if (client->fd >= 0) close(client->fd);
    client->fd = -1;
}

void http_client_free(http_client *client) {
    if (client == NULL) return;
    http_client_close(client);
    http_tls_free(client->tls);
    free(client->buffer);
    free(client);
}

/* Waiting ---------------------------------------------------------------------------------- */

/* Waits until fd is ready for events or the deadline passes. */
static http_result http_wait(http_client *client, int fd, short events, int64_t deadline_ms) {
    for (;;) {
        int64_t left_ms = deadline_ms - http_monotonic_ms();
        if (left_ms <= 0) {
            return http_client_fail(client, HTTP_ERR_TIMEOUT, "no reply within %d ms",
                                    client->request_timeout_ms);
        }
        struct pollfd watched = {.fd = fd, .events = events};
        int ready = poll(&watched, 1, left_ms > INT32_MAX ? INT32_MAX : (int)left_ms);
        if (ready > 0) return HTTP_OK;
        if (ready < 0 && errno != EINTR) {
            return http_client_fail(client, HTTP_ERR_IO, "poll: %s", strerror(errno));
        }
    }
}

/* Connecting ------------------------------------------------------------------------------- */

/* Connects one socket to address within timeout_ms; returns 0 or an errno value. */
static int http_connect_one(const struct addrinfo *address, int timeout_ms, int *fd_out) {
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    address->ai_protocol);
    if (fd < 0) return errno;
    int err = 0;
    if (connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd watched = {.fd = fd, .events = POLLOUT};
            int ready = poll(&watched, 1, timeout_ms);
            socklen_t err_bytes = sizeof err;
            if (ready == 0) err = ETIMEDOUT;
            else if (ready < 0) err = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_bytes) != 0) err = errno;
        }
    }
    if (err != 0) {
        close(fd);
        return err;
    }
    /* Each request goes out in one write and waits for its reply, so Nagle's delay only adds
     * latency. */
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    *fd_out = fd;
    return 0;
}

/* The TLS handshake on the new connection, within the connect timeout. */
static http_result http_client_handshake(http_client *client) {
    client->session = http_tls_session_new(client->tls, client->fd);
    if (client->session == NULL) {
        return http_client_fail(client, HTTP_ERR_NO_MEMORY, "out of memory");
    }
    int64_t deadline_ms = http_monotonic_ms() + client->connect_timeout_ms;
    for (;;) {
        char why[HTTP_CLIENT_ERROR_BYTES] = "";
        http_tls_step step = http_tls_handshake(client->session, why, sizeof why);
        if (step == HTTP_TLS_DONE) return HTTP_OK;
        if (step != HTTP_TLS_WANT_READ && step != HTTP_TLS_WANT_WRITE) {
            return http_client_fail(client, HTTP_ERR_CONNECT, "TLS with %s failed: %s",
                                    client->host, why);
        }
        int64_t left_ms = deadline_ms - http_monotonic_ms();
        if (left_ms <= 0) {
            return http_client_fail(client, HTTP_ERR_CONNECT, "no TLS handshake within %d ms",
                                    client->connect_timeout_ms);
        }
        struct pollfd watched = {.fd = client->fd,
                                 .events = step == HTTP_TLS_WANT_READ ? POLLIN : POLLOUT};
        if (poll(&watched, 1, left_ms > INT32_MAX ? INT32_MAX : (int)left_ms) < 0 &&
            errno != EINTR) {
            return http_client_fail(client, HTTP_ERR_CONNECT, "poll: %s", strerror(errno));
        }
    }
}

static http_result http_client_connect(http_client *client) {
    assert(client->fd < 0);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *addresses = NULL;
    int rc = getaddrinfo(client->host, client->port, &hints, &addresses);
    if (rc != 0) {
        return http_client_fail(client, HTTP_ERR_CONNECT, "cannot resolve %s: %s",
                                client->host, gai_strerror(rc));
    }
    int err = ENOENT;
    for (const struct addrinfo *address = addresses; address != NULL; address = address->ai_next) {
        err = http_connect_one(address, client->connect_timeout_ms, &client->fd);
        if (err == 0) break;
    }
    freeaddrinfo(addresses);
    if (err == ETIMEDOUT) {
        return http_client_fail(client, HTTP_ERR_CONNECT, "no connection within %d ms",
                                client->connect_timeout_ms);
    }
    if (err != 0) return http_client_fail(client, HTTP_ERR_CONNECT, "%s", strerror(err));
    assert(client->fd >= 0);
    if (client->tls == NULL) return HTTP_OK;
    http_result result = http_client_handshake(client);
    if (result != HTTP_OK) http_client_close(client);
    return result;
}

/* Whether a kept connection has become readable while idle: the server has closed it, or sent
 * something nobody asked for. Either way it cannot carry the next request. */
static bool http_client_connection_stale(http_client *client) {
    if (client->session != NULL && http_tls_pending(client->session)) return true;
    struct pollfd watched = {.fd = client->fd, .events = POLLIN};
    return poll(&watched, 1, 0) > 0;
}

/* Sending ---------------------------------------------------------------------------------- */

static http_result http_client_request_build(http_client *client, const char *path,
                                             const char *content_type, size_t body_bytes) {
    if (strlen(path) > HTTP_CLIENT_PATH_BYTES_MAX || strpbrk(path, " \r\n") != NULL ||
        strlen(content_type) > HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX ||
        strpbrk(content_type, "\r\n") != NULL) {
        return http_client_fail(client, HTTP_ERR_PROTOCOL,
                                "the request path or content type is too long or malformed");
    }
    char min_sequence[64] = "";
    if (client->min_sequence != 0) {
        snprintf(min_sequence, sizeof min_sequence, "Fundflow-Min-Sequence: %llu\r\n",
                 (unsigned long long)client->min_sequence);
    }
    int length = snprintf(client->request_header, sizeof client->request_header,
                          "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                          "Content-Length: %zu\r\nAccept: %s\r\n%s%s%s%s\r\n",
                          path, client->host_header, content_type, body_bytes, content_type,
                          client->token[0] ? "Authorization: Bearer " : "", client->token,
                          client->token[0] ? "\r\n" : "", min_sequence);
    /* The limits on path, content type and token make the header always fit. */
    assert(length > 0 && (size_t)length < sizeof client->request_header);
    client->request_header_bytes = (size_t)length;
    return HTTP_OK;
}

/* Sends the header and then the body over TLS; as http_client_send. */
static http_result http_client_tls_send(http_client *client, const void *body, size_t body_bytes,
                                        int64_t deadline_ms, bool *peer_gone_out) {
    const uint8_t *parts[2] = {(const uint8_t *)client->request_header, body};
    size_t counts[2] = {client->request_header_bytes, body_bytes}, sent_in_all = 0;
    for (int i = 0; i < 2; i++) {
        for (size_t sent = 0; sent < counts[i];) {
            size_t written = 0;
            char why[HTTP_CLIENT_ERROR_BYTES] = "";
            http_tls_step step = http_tls_write(client->session, parts[i] + sent,
                                                counts[i] - sent, &written, why, sizeof why);
            if (step == HTTP_TLS_DONE) {
                sent += written;
                sent_in_all += written;
                continue;
            }
            if (step == HTTP_TLS_WANT_READ || step == HTTP_TLS_WANT_WRITE) {
                http_result result = http_wait(client, client->fd,
                                               step == HTTP_TLS_WANT_READ ? POLLIN : POLLOUT,
                                               deadline_ms);
                if (result != HTTP_OK) return result;
                continue;
            }
            *peer_gone_out = sent_in_all == 0 && step == HTTP_TLS_ENDED;
            return http_client_fail(client, HTTP_ERR_IO, "cannot send the request: %s",
                                    step == HTTP_TLS_ENDED ? "the server closed the connection"
                                                           : why);
        }
    }
    return HTTP_OK;
}

/* Sends the header and body. *peer_gone_out says whether the connection was found closed. */
static http_result http_client_send(http_client *client, const void *body, size_t body_bytes,
                                    int64_t deadline_ms, bool *peer_gone_out) {
    if (client->session != NULL) {
        return http_client_tls_send(client, body, body_bytes, deadline_ms, peer_gone_out);
    }
    struct iovec parts[2] = {{client->request_header, client->request_header_bytes},
                             {(void *)body, body_bytes}};
    size_t total = client->request_header_bytes + body_bytes, sent = 0;
    while (sent < total) {
        struct iovec left[2];
        int count = 0;
        size_t skip = sent;
        for (int i = 0; i < 2; i++) {
            if (skip >= parts[i].iov_len) {
                skip -= parts[i].iov_len;
                continue;
            }
            left[count].iov_base = (char *)parts[i].iov_base + skip;
            left[count++].iov_len = parts[i].iov_len - skip;
            skip = 0;
        }
        struct msghdr message = {.msg_iov = left, .msg_iovlen = (size_t)count};
        ssize_t written = sendmsg(client->fd, &message, MSG_NOSIGNAL);
        if (written > 0) {
            sent += (size_t)written;
            continue;
        }
        if (written < 0 && errno == EINTR) continue;
        if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            http_result result = http_wait(client, client->fd, POLLOUT, deadline_ms);
            if (result != HTTP_OK) return result;
            continue;
        }
        *peer_gone_out = sent == 0 && (errno == EPIPE || errno == ECONNRESET);
        return http_client_fail(client, HTTP_ERR_IO, "cannot send the request: %s",
                                strerror(errno));
    }
    return HTTP_OK;
}

/* Receiving -------------------------------------------------------------------------------- */

static http_result http_client_buffer_reserve(http_client *client, size_t needed) {
    if (needed <= client->buffer_capacity) return HTTP_OK;
    size_t capacity = client->buffer_capacity ? client->buffer_capacity
                                              : HTTP_CLIENT_BUFFER_BYTES_INITIAL;
    while (capacity < needed) capacity *= 2;
    uint8_t *grown = realloc(client->buffer, capacity);
    if (grown == NULL) return http_client_fail(client, HTTP_ERR_NO_MEMORY, "out of memory");
    client->buffer = grown;
    client->buffer_capacity = capacity;
    return HTTP_OK;
}

/* As http_client_receive, over TLS. A TLS alert before any reply on a new connection is the
 * server refusing the handshake (under TLS 1.3 a missing client certificate is only reported
 * then): it never read the request, so it counts as a failure to connect. */
static http_result http_client_tls_receive(http_client *client, size_t limit,
                                           int64_t deadline_ms, bool *ended) {
    for (;;) {
        size_t got = 0;
        char why[HTTP_CLIENT_ERROR_BYTES] = "";
        http_tls_step step = http_tls_read(client->session, client->buffer + client->buffer_used,
                                           limit - client->buffer_used, &got, why, sizeof why);
        if (step == HTTP_TLS_DONE) {
            client->buffer_used += got;
            return HTTP_OK;
        }
        if (step == HTTP_TLS_ENDED) {
            *ended = true;
            return HTTP_OK;
        }
        if (step == HTTP_TLS_REFUSED && !client->replied && client->buffer_used == 0) {
            return http_client_fail(client, HTTP_ERR_CONNECT,
                                    "the server refused the TLS connection: %s", why);
        }
        if (step != HTTP_TLS_WANT_READ && step != HTTP_TLS_WANT_WRITE) {
            return http_client_fail(client, HTTP_ERR_IO, "cannot read the reply: %s", why);
        }
        http_result result = http_wait(client, client->fd,
                                       step == HTTP_TLS_WANT_READ ? POLLIN : POLLOUT, deadline_ms);
        if (result != HTTP_OK) return result;
    }
}

/* Reads once into the buffer, up to limit bytes in all, waiting up to the deadline. Sets *ended
 * when the peer closed the connection instead. */
static http_result http_client_receive(http_client *client, size_t limit, int64_t deadline_ms,
                                       bool *ended) {
    assert(limit > client->buffer_used && limit < client->buffer_capacity);
    *ended = false;
    if (client->session != NULL) return http_client_tls_receive(client, limit, deadline_ms, ended);
    for (;;) {
        /* Acknowledge at once rather than after Linux's delayed-ACK pause: a server that leaves
         * Nagle's algorithm on holds the last piece of a large reply until the piece before it
         * is acknowledged, and the two waits together add about 40 ms to every such reply. The
         * option does not stick, so it is set before every read. */
        int on = 1;
        (void)setsockopt(client->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
        ssize_t got = recv(client->fd, client->buffer + client->buffer_used,
                           limit - client->buffer_used, 0);
        if (got > 0) {
            client->buffer_used += (size_t)got;
            return HTTP_OK;
        }
        if (got == 0) {
            *ended = true;
            return HTTP_OK;
        }
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) {
            *ended = true;
            return HTTP_OK;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return http_client_fail(client, HTTP_ERR_IO, "cannot read the reply: %s",
                                    strerror(errno));
        }
        http_result result = http_wait(client, client->fd, POLLIN, deadline_ms);
        if (result != HTTP_OK) return result;
    }
}

static bool http_header_is(const char *line, size_t name_length, const char *name) {
    return strlen(name) == name_length && strncasecmp(line, name, name_length) == 0;
}

/* Whether the comma-separated value holds token, in any case. */
static bool http_value_has_token(const char *value, size_t length, const char *token) {
    size_t token_length = strlen(token);
    for (size_t start = 0; start < length;) {
        while (start < length && (value[start] == ' ' || value[start] == ',')) start++;
        size_t end = start;
        while (end < length && value[end] != ',' && value[end] != ' ') end++;
        if (end - start == token_length && strncasecmp(value + start, token, token_length) == 0) {
            return true;
        }
        start = end;
    }
    return false;
}

static http_result http_content_length_parse(http_client *client, const char *value,
                                             size_t length, http_reply_head *head) {
    size_t number = 0;
    if (length == 0) return http_client_fail(client, HTTP_ERR_PROTOCOL, "empty Content-Length");
    for (size_t i = 0; i < length; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return http_client_fail(client, HTTP_ERR_PROTOCOL, "bad Content-Length");
        }
        number = number * 10 + (size_t)(value[i] - '0');
        if (number > client->body_bytes_max) {
            return http_client_fail(client, HTTP_ERR_TOO_LARGE,
                                    "the reply body is larger than %zu bytes",
                                    client->body_bytes_max);
        }
    }
    if (head->content_length_known && head->content_length != number) {
        return http_client_fail(client, HTTP_ERR_PROTOCOL, "two different Content-Lengths");
    }
    head->content_length_known = true;
    head->content_length = number;
    return HTTP_OK;
}

/* Applies one "Name: value" header line of line_length bytes. */
static http_result http_header_apply(http_client *client, const char *line, size_t line_length,
                                     http_reply_head *head, http_response *response) {
    const char *colon = memchr(line, ':', line_length);
    if (colon == NULL) return http_client_fail(client, HTTP_ERR_PROTOCOL, "a header has no ':'");
    size_t name_length = (size_t)(colon - line);
    const char *value = colon + 1, *end = line + line_length;
    while (value < end && (*value == ' ' || *value == '\t')) value++;
    while (end > value && (end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t value_length = (size_t)(end - value);
    if (http_header_is(line, name_length, "Content-Length")) {
        return http_content_length_parse(client, value, value_length, head);
    }
    if (http_header_is(line, name_length, "Connection")) {
        if (http_value_has_token(value, value_length, "close")) head->close_after = true;
        if (http_value_has_token(value, value_length, "keep-alive")) head->close_after = false;
    } else if (http_header_is(line, name_length, "Transfer-Encoding")) {
        if (!http_value_has_token(value, value_length, "identity")) {
            return http_client_fail(client, HTTP_ERR_PROTOCOL,
                                    "the reply uses a transfer coding this client cannot read");
        }
    } else if (http_header_is(line, name_length, "Fundflow-Sequence")) {
        char digits[24];
        if (value_length > 0 && value_length < sizeof digits) {
            memcpy(digits, value, value_length);
            digits[value_length] = '\0';
            char *digits_end = NULL;
            unsigned long long sequence = strtoull(digits, &digits_end, 10);
            response->sequence_known = *digits_end == '\0' && digits[0] >= '0' &&
                                       digits[0] <= '9';
            response->sequence = response->sequence_known ? sequence : 0;
        }
    } else if (http_header_is(line, name_length, "Content-Type")) {
        size_t kept = value_length < sizeof response->content_type
                          ? value_length
                          : sizeof response->content_type - 1;
        memcpy(response->content_type, value, kept);
        response->content_type[kept] = '\0';
    }
    return HTTP_OK;
}

/* Parses "HTTP/1.x SSS reason" and the headers in buffer[0..head->header_bytes). */
static http_result http_reply_head_parse(http_client *client, http_reply_head *head,
                                         http_response *response) {
    const char *text = (const char *)client->buffer;
    const char *end = text + head->header_bytes - 2; /* the blank line's CRLF */
    if (head->header_bytes < 14 || strncmp(text, "HTTP/1.", 7) != 0 ||
        (text[7] != '0' && text[7] != '1') || text[8] != ' ') {
        return http_client_fail(client, HTTP_ERR_PROTOCOL, "the reply is not HTTP/1.x");
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return http_client_fail(client, HTTP_ERR_PROTOCOL, "the status is not a number");
        }
        status = status * 10 + (text[i] - '0');
    }
    head->status = status;
    /* HTTP/1.0 closes after each reply unless it says otherwise. */
    head->close_after = text[7] == '0';
    const char *line = (const char *)memmem(text, head->header_bytes, "\r\n", 2) + 2;
    for (int count = 0; line < end; count++) {
        if (count == HTTP_CLIENT_HEADER_LINES_MAX) {
            return http_client_fail(client, HTTP_ERR_TOO_LARGE, "more than %d headers",
                                    HTTP_CLIENT_HEADER_LINES_MAX);
        }
        const char *line_end = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        assert(line_end != NULL && line_end <= end);
        http_result result = http_header_apply(client, line, (size_t)(line_end - line), head,
                                               response);
        if (result != HTTP_OK) return result;
        line = line_end + 2;
    }
    return HTTP_OK;
}

/* Reads until the blank line that ends the headers. */
static http_result http_client_head_read(http_client *client, int64_t deadline_ms,
                                         http_reply_head *head, bool *nothing_received) {
    size_t limit = HTTP_CLIENT_HEADER_BYTES_MAX;
    http_result result = http_client_buffer_reserve(client, limit + 1);
    if (result != HTTP_OK) return result;
    client->buffer_used = 0;
    size_t searched = 0;
    while (client->buffer_used < limit) {
        bool ended = false;
        result = http_client_receive(client, limit, deadline_ms, &ended);
        if (result != HTTP_OK) return result;
        if (ended) {
            *nothing_received = client->buffer_used == 0;
            return http_client_fail(client, HTTP_ERR_IO,
                                    "the server closed the connection before replying");
        }
        const uint8_t *found = memmem(client->buffer + searched, client->buffer_used - searched,
                                      "\r\n\r\n", 4);
        if (found != NULL) {
            head->header_bytes = (size_t)(found - client->buffer) + 4;
            return HTTP_OK;
        }
        searched = client->buffer_used > 3 ? client->buffer_used - 3 : 0;
    }
    return http_client_fail(client, HTTP_ERR_TOO_LARGE, "the reply headers exceed %u bytes",
                            HTTP_CLIENT_HEADER_BYTES_MAX);
}

/* Reads the body: Content-Length bytes, or everything until the server closes. */
static http_result http_client_body_read(http_client *client, http_reply_head *head,
                                         int64_t deadline_ms) {
    bool until_close = !head->content_length_known;
    /* The end of a TLS connection may come without close_notify (fundflowd's does), so it
     * cannot show that a reply ran to its end: over TLS a reply must give its length. */
    if (until_close && client->session != NULL) {
        return http_client_fail(client, HTTP_ERR_PROTOCOL,
                                "a reply over TLS gave no Content-Length");
    }
    /* A reply without a length runs to the end of the connection. */
    if (until_close) head->close_after = true;
    size_t body_max = until_close ? client->body_bytes_max : head->content_length;
    size_t limit = head->header_bytes + body_max;
    http_result result = http_client_buffer_reserve(client, limit + 2);
    if (result != HTTP_OK) return result;
    while (client->buffer_used < limit || (until_close && client->buffer_used == limit)) {
        bool ended = false;
        result = http_client_receive(client, limit + 1, deadline_ms, &ended);
        if (result != HTTP_OK) return result;
        if (ended && until_close) return HTTP_OK;
        if (ended) return http_client_fail(client, HTTP_ERR_IO, "the reply was cut short");
        if (until_close && client->buffer_used > limit) {
            return http_client_fail(client, HTTP_ERR_TOO_LARGE,
                                    "the reply body is larger than %zu bytes", body_max);
        }
    }
    if (client->buffer_used > limit) {
        return http_client_fail(client, HTTP_ERR_PROTOCOL,
                                "the server sent more than the reply's Content-Length");
    }
    return HTTP_OK;
}

static http_result http_client_exchange(http_client *client, const void *body, size_t body_bytes,
                                        int64_t deadline_ms, http_response *response,
                                        bool *peer_gone_out) {
    http_result result = http_client_send(client, body, body_bytes, deadline_ms, peer_gone_out);
    if (result != HTTP_OK) return result;
    http_reply_head head;
    memset(&head, 0, sizeof head);
    result = http_client_head_read(client, deadline_ms, &head, peer_gone_out);
    if (result == HTTP_OK) result = http_reply_head_parse(client, &head, response);
    if (result == HTTP_OK) result = http_client_body_read(client, &head, deadline_ms);
    if (result != HTTP_OK) return result;
    response->status = head.status;
    response->body = client->buffer + head.header_bytes;
    response->body_bytes = client->buffer_used - head.header_bytes;
    client->buffer[client->buffer_used] = '\0';
    client->replied = true;
    if (head.close_after) http_client_close(client);
    return HTTP_OK;
}

http_result http_client_post(http_client *client, const char *path, const char *content_type,
                             const void *body, size_t body_bytes, http_response *response) {
    assert(client != NULL && path != NULL && content_type != NULL && response != NULL);
    assert(body != NULL || body_bytes == 0);
    client->error[0] = '\0';
    memset(response, 0, sizeof *response);
    http_result result = http_client_request_build(client, path, content_type, body_bytes);
    if (result != HTTP_OK) return result;
    int64_t deadline_ms = http_monotonic_ms() + client->request_timeout_ms;
    for (int attempt = 0; attempt < HTTP_CLIENT_ATTEMPTS_MAX; attempt++) {
        bool kept = client->fd >= 0;
        if (kept && http_client_connection_stale(client)) {
            http_client_close(client);
            kept = false;
        }
        if (client->fd < 0) {
            result = http_client_connect(client);
            if (result != HTTP_OK) return result;
        }
        bool peer_gone = false;
        memset(response, 0, sizeof *response);
        result = http_client_exchange(client, body, body_bytes, deadline_ms, response,
                                      &peer_gone);
        if (result == HTTP_OK) {
            /* A stale connection's failure, recovered from, is no failure of this call. */
            client->error[0] = '\0';
            return HTTP_OK;
        }
        http_client_close(client);
        /* Only a kept connection that the server had already closed is worth a second try: the
         * request never reached it. Anything else may have been acted on. */
        if (!kept || !peer_gone) break;
    }
    assert(result != HTTP_OK);
    return result;
}
