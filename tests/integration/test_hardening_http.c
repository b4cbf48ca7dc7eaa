/* Integration tests of how fundflowd treats connections that misbehave: ambiguous body framing,
 * requests that arrive too slowly, and clients that would hold every connection slot. A real
 * server on 127.0.0.1:0, driven over raw sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"

#define HARDENING_TOKEN "hardening-token"
#define SERVER_INFO_PATH "/twirp/fundflow.v1.Ledger/ServerInfo"

/* However loaded the machine, the server closes a connection it means to close well within
 * this; the waits end as soon as it does. */
#define CLOSE_WAIT_MS 30000

static const char *fundflowd_path;

/* ---- helpers ---- */

/* Asserts a Twirp error reply with this status and code. */
static void assert_twirp_code(const http_reply *reply, int status, const char *code) {
    if (reply->status != status) {
        fail_msg("status %d, expected %d: %s", reply->status, status, (char *)reply->body);
    }
    json_error_t error;
    json_t *document = json_loadb((const char *)reply->body, reply->body_bytes, 0, &error);
    if (document == NULL) fail_msg("reply is not JSON: %s: %s", error.text, reply->body);
    json_t *value = json_object_get(document, "code");
    assert_true(json_is_string(value));
    assert_string_equal(json_string_value(value), code);
    json_decref(document);
}

/* Sends a raw request on a new connection from source_address and reads its one reply,
 * leaving the connection open; returns the socket. */
static int raw_exchange(uint16_t port, const char *source_address, const char *request,
                        http_reply *reply) {
    int fd = http_raw_connect(port, source_address);
    assert_true(fd >= 0);
    assert_int_equal(http_raw_send(fd, request), 0);
    assert_int_equal(http_raw_reply_read(fd, reply), 0);
    return fd;
}

/* A keep-alive ServerInfo, with the bearer token or without. */
static const char *server_info_request(bool with_token) {
    return with_token ? "POST " SERVER_INFO_PATH " HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " HARDENING_TOKEN "\r\n"
                        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                      : "POST " SERVER_INFO_PATH " HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
}

/* Sends a request whose framing is ambiguous and expects a 400, then the close. code is the
 * Twirp code when fundflowd refuses it, or NULL when libevent already refuses it with a bare 400
 * and fundflowd never sees it. */
static void assert_framing_refused(uint16_t port, const char *framing_and_body,
                                   const char *code) {
    char request[1024];
    snprintf(request, sizeof request,
             "POST " SERVER_INFO_PATH " HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\n%s",
             framing_and_body);
    http_reply reply;
    int fd = raw_exchange(port, NULL, request, &reply);
    if (code) assert_twirp_code(&reply, 400, code);
    assert_int_equal(reply.status, 400);
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(fd, CLOSE_WAIT_MS), 0);
    close(fd);
}

/* ---- body framing ---- */

static void test_ambiguous_body_framing_is_refused_and_closed(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, NULL, &server);
    /* libevent reads the first Content-Length; a proxy may have read the second. Both reach
     * fundflowd, which refuses them. */
    assert_framing_refused(server.port, "Content-Length: 2\r\nContent-Length: 10\r\n\r\n{}",
                           "malformed");
    assert_framing_refused(server.port, "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
                           "malformed");
    /* Transfer-Encoding with a length, or twice: Debian's libevent 2.1.12 (with its security
     * patches) refuses these itself; fundflowd refuses them too should they reach it. */
    assert_framing_refused(server.port, "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
                                        "2\r\n{}\r\n0\r\n\r\n", NULL);
    assert_framing_refused(server.port, "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "2\r\n{}\r\n0\r\n\r\n", NULL);
    assert_framing_refused(server.port, "Transfer-Encoding: chunked\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                           NULL);
    /* A list of lengths in one header never reaches fundflowd: libevent refuses it itself. */
    http_reply reply;
    int fd = raw_exchange(server.port, NULL,
                          "POST " SERVER_INFO_PATH " HTTP/1.1\r\nHost: x\r\n"
                          "Content-Type: application/json\r\nContent-Length: 2, 2\r\n\r\n{}",
                          &reply);
    assert_int_equal(reply.status, 400);
    http_reply_free(&reply);
    close(fd);
    /* One length alone is served as before. */
    assert_int_equal(test_server_head(server.port), 0);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- a request that arrives too slowly ---- */

/* Header lines sent at most, one per DRIBBLE_INTERVAL_MS: far past the 2 s deadline below, and
 * still under the 16 KiB the head may hold. */
enum { DRIBBLE_LINES_MAX = 600, DRIBBLE_INTERVAL_MS = 100 };

static void test_a_request_head_sent_a_line_at_a_time_is_cut_off(void **state) {
    (void)state;
    test_server server;
    /* The request timeout restarts at every byte; the arrival deadline, which it lowers to
     * 2 s here, does not. */
    test_server_start(fundflowd_path, "request_timeout_seconds = 2\n", &server);
    int fd = http_raw_connect(server.port, NULL);
    assert_true(fd >= 0);
    assert_int_equal(http_raw_send(fd, "POST " SERVER_INFO_PATH " HTTP/1.1\r\nHost: x\r\n"), 0);
    bool closed = false;
    int lines = 0;
    for (; lines < DRIBBLE_LINES_MAX && !closed; lines++) {
        closed = http_raw_send(fd, "X-Slow: 1\r\n") != 0 ||
                 http_raw_wait_closed(fd, DRIBBLE_INTERVAL_MS) == 0;
    }
    if (!closed) fail_msg("still open after %d header lines", lines);
    close(fd);
    /* A request that arrives at once is served as before. */
    assert_int_equal(test_server_head(server.port), 0);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- connection slots ---- */

/* The table has 8 slots, so one address may hold 4. An hour's request timeout keeps idle
 * connections open, so a connection that closes was closed for what it did, not for idling. */
#define SLOTS_CONFIG \
    "admin_token = " HARDENING_TOKEN "\nmax_connections = 8\nrequest_timeout_seconds = 3600\n"
enum { SLOTS_MAX = 8, SLOTS_PER_PEER = 4, UNAUTHENTICATED_CLIENTS = 3 * SLOTS_MAX };

static void assert_authorised_request_served(uint16_t port) {
    http_reply reply;
    assert_int_equal(http_request(port, "POST", SERVER_INFO_PATH, "application/json", "{}", 2,
                                  "Authorization: Bearer " HARDENING_TOKEN "\r\n", &reply),
                     0);
    if (reply.status != 200) fail_msg("status %d: %s", reply.status, (char *)reply.body);
    http_reply_free(&reply);
}

static void assert_health_served(uint16_t port) {
    http_reply reply;
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
}

static void test_unauthenticated_clients_cannot_lock_out_the_admin(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, SLOTS_CONFIG, &server);
    /* Each client keeps its end open; only the server's close frees the slot for the next. */
    int fds[UNAUTHENTICATED_CLIENTS];
    for (int i = 0; i < UNAUTHENTICATED_CLIENTS; i++) {
        http_reply reply;
        fds[i] = raw_exchange(server.port, NULL, server_info_request(false), &reply);
        assert_twirp_code(&reply, 401, "unauthenticated");
        http_reply_free(&reply);
        assert_int_equal(http_raw_wait_closed(fds[i], CLOSE_WAIT_MS), 0);
    }
    assert_health_served(server.port);
    assert_authorised_request_served(server.port);
    for (int i = 0; i < UNAUTHENTICATED_CLIENTS; i++) close(fds[i]);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* Holds SLOTS_PER_PEER authorised keep-alive connections from source_address. */
static void slots_fill(uint16_t port, const char *source_address, int *fds) {
    for (int i = 0; i < SLOTS_PER_PEER; i++) {
        http_reply reply;
        fds[i] = raw_exchange(port, source_address, server_info_request(true), &reply);
        if (reply.status != 200) fail_msg("status %d: %s", reply.status, (char *)reply.body);
        http_reply_free(&reply);
    }
}

static void test_one_address_cannot_take_every_slot(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, SLOTS_CONFIG, &server);
    int first[SLOTS_PER_PEER], second[SLOTS_PER_PEER];
    slots_fill(server.port, "127.0.0.1", first);
    /* 127.0.0.1 holds its share: its next connection is refused and closed... */
    http_reply reply;
    int refused = raw_exchange(server.port, "127.0.0.1", server_info_request(true), &reply);
    assert_twirp_code(&reply, 429, "resource_exhausted");
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(refused, CLOSE_WAIT_MS), 0);
    close(refused);
    /* ...while another address of the loopback network still gets in. */
    slots_fill(server.port, "127.0.0.2", second);
    /* Every slot is taken now; a health check is still answered, and closed. */
    int health = raw_exchange(server.port, "127.0.0.3", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                              &reply);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(health, CLOSE_WAIT_MS), 0);
    close(health);
    for (int i = 0; i < SLOTS_PER_PEER; i++) close(first[i]), close(second[i]);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_TO_FUNDFLOWD\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ambiguous_body_framing_is_refused_and_closed),
        cmocka_unit_test(test_a_request_head_sent_a_line_at_a_time_is_cut_off),
        cmocka_unit_test(test_unauthenticated_clients_cannot_lock_out_the_admin),
        cmocka_unit_test(test_one_address_cannot_take_every_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
