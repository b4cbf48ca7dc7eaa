/* A raw HTTP/1.1 client and a fundflowd launcher for the integration tests. */
#ifndef FUNDFLOW_TEST_HTTP_H
#define FUNDFLOW_TEST_HTTP_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct http_reply {
    int status;
    char content_type[128];
    uint8_t *body;  /* NUL-terminated for convenience; free with http_reply_free */
    size_t body_bytes;
    int64_t sequence; /* its Fundflow-Sequence header, or -1 without one */
} http_reply;

/* Sends one request on a fresh connection and reads the whole reply. extra_headers is NULL or
 * "Name: value\r\n" lines. Returns 0, or -1 if the exchange failed at the transport level. */
int http_request(uint16_t port, const char *method, const char *path, const char *content_type,
                 const void *body, size_t body_bytes, const char *extra_headers,
                 http_reply *reply);
void http_reply_free(http_reply *reply);

/* POSTs a message to /twirp/fundflow.v1.Ledger/<rpc> as protobuf. */
int http_twirp_protobuf(uint16_t port, const char *rpc, const ProtobufCMessage *request,
                        http_reply *reply);

/* POSTs JSON text to /twirp/fundflow.v1.Ledger/<rpc>. */
int http_twirp_json(uint16_t port, const char *rpc, const char *json, http_reply *reply);

/* http_twirp_json with "Authorization: Bearer TOKEN", or no such header when token is NULL. */
int http_twirp_json_token(uint16_t port, const char *rpc, const char *json, const char *token,
                          http_reply *reply);

/* Raw connections, for tests of how the server treats the connection itself. */

/* Connects to 127.0.0.1:port from source_address (an address of the loopback network, such as
 * "127.0.0.2", or NULL for the kernel's choice). Returns the socket, or -1. */
int http_raw_connect(uint16_t port, const char *source_address);

/* Sends all of text. Returns 0, or -1 if the server has closed the connection. */
int http_raw_send(int fd, const char *text);

/* Reads one reply, whose length its Content-Length gives, leaving the connection open.
 * Returns 0, or -1 if the connection ended first or no reply came within the test timeout. */
int http_raw_reply_read(int fd, http_reply *reply);

/* Waits at most timeout_ms for the server to close the connection, discarding anything it
 * sends first. Returns 0 once closed (end of stream or reset), -1 if still open. */
int http_raw_wait_closed(int fd, int timeout_ms);

typedef struct test_server {
    pid_t pid;
    uint16_t port;
    char *directory;       /* the scratch directory: data/, config, server.log */
    char data_dir[4096];
} test_server;

/* Starts fundflowd on 127.0.0.1:0 in a new scratch directory, with config_text (or none) as its
 * configuration file, its stdout in server.out and stderr in server.log there, and waits (at
 * most 60 s, polling) for its own "listening on" line; fails the test with the server's output if
 * it exits first or the line never comes. */
void test_server_start(const char *binary, const char *config_text, test_server *server);

/* Sends SIGTERM and waits (at most 60 s) for the exit; returns the exit status, or -1 if the
 * server had to be killed. Leaves the
 * directory in place for inspection; test_server_cleanup removes it. */
int test_server_stop(test_server *server);

/* Waits as test_server_stop does, without sending anything: for a server already told to stop.
 * (A second SIGTERM may reach a server after it has put back the default handler on its way
 * out, and end it by the signal instead of its own exit.) */
int test_server_wait(test_server *server);
void test_server_cleanup(test_server *server);

/* Sends WatchEvents as JSON (after after_sequence, waiting at most wait_ms) on a raw connection of
 * its own and returns the socket, the reply still to be read (http_raw_reply_read). */
int test_server_watch_send(uint16_t port, uint64_t after, uint32_t wait_ms);

/* The head sequence from ServerInfo. */
uint64_t test_server_head(uint16_t port);

/* SubmitCommands in JSON, failing the test unless it answers 200. */
void test_server_submit_json(uint16_t port, const char *json);

/* Registers X24 and QUE and sets X24's £10,000.00 core services limit for TEST_YEAR: events 1
 * to 3 of a fresh server. */
void test_server_world_load(uint16_t port);

/* Allocates amount_pence of core services for TEST_YEAR from X24 to QUE under key, failing the
 * test unless it is recorded; returns the event's sequence. */
uint64_t test_server_allocate(uint16_t port, const char *key, int64_t amount_pence);

/* A gauge or counter in the /metrics text, or UINT64_MAX if it is not there. */
uint64_t test_server_metric(uint16_t port, const char *name);

/* Polls the gauge until it reads wanted, every 10 ms and at most 1,000 times (about 10 s), and
 * fails the test if it never does: how a test knows a request is parked without waiting for
 * time. */
void test_server_metric_await(uint16_t port, const char *name, uint64_t wanted);

#endif
