/* The tools' TLS client: a context that verifies the server against a CA file or the system
 * store and the URL's host, an optional client certificate, and non-blocking session steps. */
#include "http_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct http_tls {
    SSL_CTX *context;
    char host[HTTP_CLIENT_HOST_BYTES_MAX];
    bool host_is_address;
};

/* OpenSSL writes to the socket with write(), which raises SIGPIPE when the server has gone; the
 * plain client sends with MSG_NOSIGNAL instead. So every call that may write runs with SIGPIPE
 * blocked, and a SIGPIPE it raised is taken back before the mask is restored: the failure is
 * reported as EPIPE, and the program's own handling of SIGPIPE is left as it was. */
typedef struct http_tls_sigpipe {
    sigset_t previous;
    bool was_pending;
} http_tls_sigpipe;

static void http_tls_sigpipe_block(http_tls_sigpipe *guard) {
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &guard->previous);
    guard->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void http_tls_sigpipe_restore(http_tls_sigpipe *guard) {
    int saved_errno = errno; /* the failed call's, which the caller reads next */
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (!guard->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec now = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &now) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &guard->previous, NULL);
    errno = saved_errno;
}

/* "what FILE: reason", with the file's errno when it cannot be opened, else OpenSSL's reason. */
static http_result http_tls_file_error(const char *what, const char *path, char *error,
                                       size_t error_bytes) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_bytes, "%s %s: %s", what, path, strerror(errno));
    } else {
        fclose(file);
        /* The first reason queued is the cause; the last, where OpenSSL gave up. */
        const char *cause = ERR_reason_error_string(ERR_peek_error());
        const char *outcome = ERR_reason_error_string(ERR_peek_last_error());
        bool both = cause && outcome && strcmp(cause, outcome) != 0;
        snprintf(error, error_bytes, "%s %s: %s%s%s%s", what, path,
                 cause ? cause : "OpenSSL gives no reason", both ? " (" : "",
                 both ? outcome : "", both ? ")" : "");
    }
    ERR_clear_error();
    return HTTP_ERR_TLS_SETUP;
}

/* Refuses every pass phrase request, so an encrypted key fails with a reason instead of
 * prompting on the terminal in the middle of a command. */
static int http_tls_no_pass_phrase(char *buffer, int size, int writing, void *argument) {
    (void)buffer, (void)size, (void)writing, (void)argument;
    return 0;
}

/* Whom to trust: the CA file, or the system's store. */
static http_result http_tls_trust_load(SSL_CTX *context, const char *ca_file, char *error,
                                       size_t error_bytes) {
    if (ca_file == NULL || ca_file[0] == '\0') {
        if (SSL_CTX_set_default_verify_paths(context) == 1) return HTTP_OK;
        snprintf(error, error_bytes, "cannot load the system's CA store");
        ERR_clear_error();
        return HTTP_ERR_TLS_SETUP;
    }
    if (SSL_CTX_load_verify_locations(context, ca_file, NULL) == 1) return HTTP_OK;
    return http_tls_file_error("cannot load the CA certificates", ca_file, error, error_bytes);
}

/* The client certificate and its key, for servers that ask for one; both or neither. */
static http_result http_tls_identity_load(SSL_CTX *context, const http_tls_files *files,
                                          char *error, size_t error_bytes) {
    bool cert = files->cert_file && files->cert_file[0];
    bool key = files->key_file && files->key_file[0];
    if (!cert && !key) return HTTP_OK;
    if (cert != key) {
        snprintf(error, error_bytes, "a client certificate needs its key, and a key its "
                                     "certificate");
        return HTTP_ERR_TLS_SETUP;
    }
    if (SSL_CTX_use_certificate_chain_file(context, files->cert_file) != 1) {
        return http_tls_file_error("cannot load the client certificate", files->cert_file,
                                   error, error_bytes);
    }
    if (SSL_CTX_use_PrivateKey_file(context, files->key_file, SSL_FILETYPE_PEM) != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        return http_tls_file_error(mismatch ? "the client key does not match the certificate:"
                                            : "cannot load the client key",
                                   files->key_file, error, error_bytes);
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        return http_tls_file_error("the client key does not match the certificate:",
                                   files->key_file, error, error_bytes);
    }
    return HTTP_OK;
}

http_result http_tls_create(const char *host, const http_tls_files *files, http_tls **tls_out,
                            char *error, size_t error_bytes) {
    *tls_out = NULL;
    http_tls *tls = calloc(1, sizeof *tls);
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (tls == NULL || context == NULL ||
        SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
        snprintf(error, error_bytes, "out of memory");
        SSL_CTX_free(context);
        free(tls);
        return HTTP_ERR_NO_MEMORY;
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_passwd_cb(context, http_tls_no_pass_phrase);
    /* Only the socket's own blocking behaviour: http_client polls and repeats calls. */
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_AUTO_RETRY);
    http_result result = http_tls_trust_load(context, files->ca_file, error, error_bytes);
    if (result == HTTP_OK) result = http_tls_identity_load(context, files, error, error_bytes);
    if (result != HTTP_OK) {
        SSL_CTX_free(context);
        free(tls);
        return result;
    }
    tls->context = context;
    snprintf(tls->host, sizeof tls->host, "%s", host);
    unsigned char address[sizeof(struct in6_addr)];
    tls->host_is_address = inet_pton(AF_INET, host, address) == 1 ||
                           inet_pton(AF_INET6, host, address) == 1;
    *tls_out = tls;
    return HTTP_OK;
}

void http_tls_free(http_tls *tls) {
    if (tls == NULL) return;
    SSL_CTX_free(tls->context);
    free(tls);
}

/* The name the certificate must carry: an IP address as an IP subjectAltName, a name as a DNS
 * one (sent as SNI too). */
static bool http_tls_peer_expect(SSL *session, const http_tls *tls) {
    if (tls->host_is_address) {
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), tls->host) == 1;
    }
    return SSL_set_tlsext_host_name(session, tls->host) == 1 &&
           SSL_set1_host(session, tls->host) == 1;
}

SSL *http_tls_session_new(http_tls *tls, int fd) {
    SSL *session = SSL_new(tls->context);
    if (session == NULL || SSL_set_fd(session, fd) != 1 || !http_tls_peer_expect(session, tls)) {
        SSL_free(session);
        ERR_clear_error();
        return NULL;
    }
    return session;
}

void http_tls_session_free(SSL *session) {
    if (session == NULL) return;
    /* A courtesy close_notify, never waited for: the socket is non-blocking. */
    if (SSL_is_init_finished(session)) {
        http_tls_sigpipe guard;
        http_tls_sigpipe_block(&guard);
        (void)SSL_shutdown(session);
        http_tls_sigpipe_restore(&guard);
    }
    SSL_free(session);
    ERR_clear_error();
}

/* What a failed call's SSL_get_error means, with the reason in error. */
static http_tls_step http_tls_outcome(SSL *session, int code, char *error, size_t error_bytes) {
    int saved_errno = errno;
    unsigned long queued = ERR_peek_last_error();
    http_tls_step step = HTTP_TLS_FAILED;
    switch (SSL_get_error(session, code)) {
    case SSL_ERROR_WANT_READ: step = HTTP_TLS_WANT_READ; break;
    case SSL_ERROR_WANT_WRITE: step = HTTP_TLS_WANT_WRITE; break;
    case SSL_ERROR_ZERO_RETURN: step = HTTP_TLS_ENDED; break;
    case SSL_ERROR_SYSCALL:
        if (queued == 0 && (saved_errno == 0 || saved_errno == ECONNRESET ||
                            saved_errno == EPIPE)) {
            step = HTTP_TLS_ENDED;
        } else {
            snprintf(error, error_bytes, "%s", strerror(saved_errno));
        }
        break;
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            step = HTTP_TLS_ENDED;
        } else {
            const char *reason = ERR_reason_error_string(queued);
            snprintf(error, error_bytes, "TLS: %s", reason ? reason : "protocol error");
            /* Reasons past SSL_AD_REASON_OFFSET are alerts the server sent. */
            if (ERR_GET_REASON(queued) > SSL_AD_REASON_OFFSET) step = HTTP_TLS_REFUSED;
        }
        break;
    default:
        snprintf(error, error_bytes, "TLS: unexpected failure");
        break;
    }
    ERR_clear_error();
    return step;
}

http_tls_step http_tls_handshake(SSL *session, char *error, size_t error_bytes) {
    ERR_clear_error();
    errno = 0;
    http_tls_sigpipe guard;
    http_tls_sigpipe_block(&guard);
    int code = SSL_connect(session);
    http_tls_sigpipe_restore(&guard);
    if (code == 1) return HTTP_TLS_DONE;
    long verified = SSL_get_verify_result(session);
    http_tls_step step = http_tls_outcome(session, code, error, error_bytes);
    if (step == HTTP_TLS_WANT_READ || step == HTTP_TLS_WANT_WRITE) return step;
    if (verified != X509_V_OK) {
        snprintf(error, error_bytes, "the server's certificate is not trusted: %s",
                 X509_verify_cert_error_string(verified));
    } else if (step == HTTP_TLS_ENDED) {
        snprintf(error, error_bytes, "the server closed the connection during the TLS "
                                     "handshake");
    }
    return step == HTTP_TLS_REFUSED ? HTTP_TLS_REFUSED : HTTP_TLS_FAILED;
}

http_tls_step http_tls_read(SSL *session, void *buffer, size_t bytes, size_t *got_out,
                            char *error, size_t error_bytes) {
    ERR_clear_error();
    errno = 0;
    size_t got = 0;
    http_tls_sigpipe guard;
    http_tls_sigpipe_block(&guard);
    int code = SSL_read_ex(session, buffer, bytes, &got);
    http_tls_sigpipe_restore(&guard);
    *got_out = got;
    return code == 1 ? HTTP_TLS_DONE : http_tls_outcome(session, code, error, error_bytes);
}

http_tls_step http_tls_write(SSL *session, const void *buffer, size_t bytes,
                             size_t *written_out, char *error, size_t error_bytes) {
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    http_tls_sigpipe guard;
    http_tls_sigpipe_block(&guard);
    int code = SSL_write_ex(session, buffer, bytes, &written);
    http_tls_sigpipe_restore(&guard);
    *written_out = written;
    return code == 1 ? HTTP_TLS_DONE : http_tls_outcome(session, code, error, error_bytes);
}

bool http_tls_pending(SSL *session) {
    return SSL_pending(session) > 0;
}
