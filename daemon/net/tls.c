/* fundflowd's TLS: the loopback rule for plain HTTP, the server's OpenSSL context, and the
 * bufferevent_openssl each accepted connection is served through. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "logline.h"

/* TLS 1.2's suites: forward-secret key exchange and AEAD ciphers only. TLS 1.3 keeps OpenSSL's
 * defaults, which are all of that kind. */
#define TLS_CIPHERS_TLS12 "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1"

/* Names the server's sessions, so that a session resumed under mutual TLS is accepted. */
#define TLS_SESSION_CONTEXT "fundflowd"

bool tls_host_is_loopback(const char *host) {
    char bare[CONFIG_HOST_BYTES];
    size_t length = strlen(host);
    if (length >= 2 && host[0] == '[' && host[length - 1] == ']') {
        host++;
        length -= 2;
    }
    if (length >= sizeof bare) return false;
    memcpy(bare, host, length);
    bare[length] = '\0';
    if (strcasecmp(bare, "localhost") == 0) return true;
    struct in_addr v4;
    if (inet_pton(AF_INET, bare, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    struct in6_addr v6;
    if (inet_pton(AF_INET6, bare, &v6) != 1) return false;
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

ff_err tls_listen_check(const config *settings, char *error, size_t error_bytes) {
    const config_tls *tls = &settings->tls;
    if (tls->cert[0] == '\0' && (tls->key[0] != '\0' || tls->client_ca[0] != '\0')) {
        snprintf(error, error_bytes, "%s needs --tls-cert (tls_cert)",
                 tls->key[0] ? "--tls-key" : "--tls-client-ca");
        return FF_ERR_FIELD_MISSING;
    }
    if (tls->cert[0] != '\0' && tls->key[0] == '\0') {
        snprintf(error, error_bytes, "--tls-cert needs --tls-key (tls_key)");
        return FF_ERR_FIELD_MISSING;
    }
    if (tls->cert[0] != '\0' || tls_host_is_loopback(settings->listen_host)) return FF_OK;
    if (!tls->insecure_listen) {
        snprintf(error, error_bytes,
                 "refusing to listen on %s without TLS: it is not a loopback address, so "
                 "requests and the admin token would cross the network in clear; give "
                 "--tls-cert and --tls-key, or --insecure-listen to accept the risk",
                 settings->listen_host);
        return FF_ERR_PERMISSION_DENIED;
    }
    logline_write("level=warn msg=\"listening without TLS on a non-loopback address\" host=\"%s\" "
                  "reason=\"insecure_listen: requests and the admin token cross the network in "
                  "clear\"",
                  settings->listen_host);
    return FF_OK;
}

/* Writes "what FILE: reason" into error: the file's own errno if it cannot be opened, else the
 * last reason OpenSSL queued. Empties OpenSSL's error queue. */
static ff_err tls_file_error(const char *what, const char *path, char *error,
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
    return FF_ERR_IO;
}

/* Refuses every pass phrase request: a daemon must not stop to prompt on a terminal, so an
 * encrypted key fails to load. It notes that it was asked (argument, a bool, when set), so the
 * refusal can say the key is encrypted: OpenSSL's own reason then depends on what the empty pass
 * phrase happened to decrypt the key into ("bad decrypt" mostly, "unsupported" now and then). */
static int tls_no_pass_phrase(char *buffer, int size, int writing, void *argument) {
    (void)buffer, (void)size, (void)writing;
    if (argument != NULL) *(bool *)argument = true;
    return 0;
}

/* The numeric address of the connection's peer, or "-". */
static void tls_peer_name(const SSL *connection, char *name, size_t name_bytes) {
    struct sockaddr_storage address;
    socklen_t address_bytes = sizeof address;
    snprintf(name, name_bytes, "-");
    int fd = SSL_get_fd(connection);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&address, &address_bytes) != 0) return;
    const void *bytes = address.ss_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)&address)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)&address)->sin_addr;
    if (inet_ntop(address.ss_family, bytes, name, (socklen_t)name_bytes) == NULL) {
        snprintf(name, name_bytes, "-");
    }
}

/* Logs each fatal alert the server sends, so that a client refused during the handshake (no
 * certificate, one from another CA, no common protocol) leaves a line saying why. */
static void tls_alert_log(const SSL *connection, int where, int value) {
    if ((where & SSL_CB_WRITE_ALERT) == 0 || strcmp(SSL_alert_type_string(value), "F") != 0) {
        return;
    }
    char peer[INET6_ADDRSTRLEN];
    tls_peer_name(connection, peer, sizeof peer);
    int code = value & 0xff;
    /* OpenSSL 3.0 names no TLS 1.3 alert; this one is the common refusal under mutual TLS. */
    const char *name = code == TLS13_AD_CERTIFICATE_REQUIRED ? "certificate required"
                                                             : SSL_alert_desc_string_long(value);
    logline_write("level=warn msg=\"TLS handshake refused\" peer=%s alert=\"%s\" "
                  "alert_code=%d", peer, name, code);
}

/* TLS 1.2 at least, the suites above, no renegotiation or compression. */
static bool tls_protocol_set(SSL_CTX *context) {
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_default_passwd_cb(context, tls_no_pass_phrase);
    SSL_CTX_set_info_callback(context, tls_alert_log);
    return SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 &&
           SSL_CTX_set_cipher_list(context, TLS_CIPHERS_TLS12) == 1 &&
           SSL_CTX_set_session_id_context(context, (const unsigned char *)TLS_SESSION_CONTEXT,
                                          sizeof TLS_SESSION_CONTEXT - 1) == 1;
}

/* Anyone else who can read the key can pose as the server. Only a warning, as for the
 * configuration file: a group of operators may share it on purpose. */
static void tls_key_permissions_warn(const char *path) {
    struct stat status;
    if (stat(path, &status) != 0) return;
    if ((status.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) == 0) return;
    logline_write("level=warn msg=\"TLS key file is readable or writable by other users\" "
                  "path=\"%s\" mode=%04o reason=\"anyone who reads it can pose as the server; "
                  "chmod 600 it\"",
                  path, (unsigned)(status.st_mode & 07777));
}

/* The certificate chain and its key, which must match. */
static ff_err tls_identity_load(SSL_CTX *context, const config_tls *tls, char *error,
                                size_t error_bytes) {
    if (SSL_CTX_use_certificate_chain_file(context, tls->cert) != 1) {
        return tls_file_error("cannot load the certificate --tls-cert", tls->cert, error,
                              error_bytes);
    }
    /* OpenSSL checks the key against the certificate as it loads it, and again below. */
    bool pass_phrase_asked = false;
    SSL_CTX_set_default_passwd_cb_userdata(context, &pass_phrase_asked);
    int loaded = SSL_CTX_use_PrivateKey_file(context, tls->key, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(context, NULL);
    if (loaded != 1 && pass_phrase_asked) {
        return tls_file_error("the private key is encrypted (fundflowd needs it unencrypted, "
                              "mode 600, and never prompts): --tls-key",
                              tls->key, error, error_bytes);
    }
    if (loaded != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        return tls_file_error(mismatch ? "the private key does not match the certificate: "
                                         "--tls-key"
                                       : "cannot load the private key --tls-key",
                              tls->key, error, error_bytes);
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        return tls_file_error("the private key does not match the certificate: --tls-key",
                              tls->key, error, error_bytes);
    }
    tls_key_permissions_warn(tls->key);
    return FF_OK;
}

/* Mutual TLS: only clients with a certificate the CA in path signed get through the handshake. */
static ff_err tls_client_ca_load(SSL_CTX *context, const char *path, char *error,
                                 size_t error_bytes) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path);
    if (names == NULL || SSL_CTX_load_verify_locations(context, path, NULL) != 1) {
        if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
        return tls_file_error("cannot load the client CA --tls-client-ca", path, error,
                              error_bytes);
    }
    SSL_CTX_set_client_CA_list(context, names);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return FF_OK;
}

ff_err tls_context_create(const config *settings, SSL_CTX **context_out, char *error,
                          size_t error_bytes) {
    *context_out = NULL;
    const config_tls *tls = &settings->tls;
    if (tls->cert[0] == '\0') return FF_OK;
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (context == NULL || !tls_protocol_set(context)) {
        const char *reason = ERR_reason_error_string(ERR_peek_last_error());
        snprintf(error, error_bytes, "cannot set up TLS: %s", reason ? reason : "out of memory");
        ERR_clear_error();
        SSL_CTX_free(context);
        return FF_ERR_NO_MEMORY;
    }
    ff_err err = tls_identity_load(context, tls, error, error_bytes);
    if (err == FF_OK && tls->client_ca[0] != '\0') {
        err = tls_client_ca_load(context, tls->client_ca, error, error_bytes);
    }
    if (err != FF_OK) {
        SSL_CTX_free(context);
        return err;
    }
    *context_out = context;
    return FF_OK;
}

struct bufferevent *tls_bufferevent_new(struct event_base *base, SSL_CTX *context) {
    SSL *connection = SSL_new(context);
    if (connection == NULL) return NULL;
    /* Deferred callbacks: OpenSSL may finish a write inside evhttp's own call, and evhttp must
     * not be re-entered there. On failure the call frees the SSL itself. */
    struct bufferevent *bufferevent = bufferevent_openssl_socket_new(
        base, -1, connection, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    /* A client that closes without TLS's close_notify has still finished: not an error. */
    if (bufferevent != NULL) bufferevent_openssl_set_allow_dirty_shutdown(bufferevent, 1);
    return bufferevent;
}

bool tls_bufferevent_is_secure(struct bufferevent *bufferevent) {
    return bufferevent != NULL && bufferevent_openssl_get_ssl(bufferevent) != NULL;
}

void tls_context_free(SSL_CTX *context) {
    SSL_CTX_free(context);
}
