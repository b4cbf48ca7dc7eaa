/* Integration tests of fundflowd's event loops against a real server on 127.0.0.1:0: with four
 * loops, connections are shared out so that every loop holds some; a write on one connection
 * wakes WatchEvents requests parked on every other, whichever loop holds them, and SIGTERM
 * answers those parked on every loop and ends the server cleanly; a cheap read answered on its
 * loop carries a Fundflow-Sequence at least the head of the write acknowledged before it; one
 * loop (event_loops = 1) serves as before; and event_loops past FF_EVENT_LOOPS_MAX is refused at
 * start. Nothing waits for time: a parked request is known by the fundflow_watchers_parked
 * gauge, polled a bounded number of times. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A wait no test lets run out (below the raw client's own 20 s reply timeout). */
#define LOOPS_WAIT_LONG_MS 15000

#define LOOPS_COUNT 4
/* Eight connections over four loops: a loop stops accepting once it holds two more than the loop
 * holding fewest (FF_LOOP_CONNECTIONS_AHEAD_MAX is 1, and it may accept while at one more), so
 * with none the others hold at most two each, six in all, fewer than eight: every loop holds at
 * least one. */
#define LOOPS_CONNECTIONS 8

static const char *fundflowd_path;

static int loops_server_setup(void **state) {
    test_server *server = calloc(1, sizeof *server);
    assert_non_null(server);
    test_server_start(fundflowd_path, "event_loops = 4\n", server);
    test_server_world_load(server->port);
    *state = server;
    return 0;
}

/* Stops the server unless the test did, and fails unless it exited 0 (under ASan a leak fails
 * the exit status). */
static int loops_server_teardown(void **state) {
    test_server *server = *state;
    int status = server->pid > 0 ? test_server_stop(server) : 0;
    test_server_cleanup(server);
    free(server);
    assert_int_equal(status, 0);
    return 0;
}

static uint64_t loop_connections(uint16_t port, int loop) {
    char name[64];
    snprintf(name, sizeof name, "fundflow_event_loop_connections{loop=\"%d\"}", loop);
    return test_server_metric(port, name);
}

static void test_connections_are_shared_out_between_the_loops(void **state) {
    test_server *server = *state;
    static const char ask[] =
        "POST /twirp/fundflow.v1.Ledger/GetOrg HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"code\":\"QUE\"}";
    int fds[LOOPS_CONNECTIONS];
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) {
        fds[i] = http_raw_connect(server->port, NULL);
        assert_true(fds[i] >= 0);
        assert_int_equal(http_raw_send(fds[i], ask), 0);
        http_reply reply;
        assert_int_equal(http_raw_reply_read(fds[i], &reply), 0);
        assert_int_equal(reply.status, 200);
        assert_non_null(strstr((const char *)reply.body, "\"code\":\"QUE\""));
        http_reply_free(&reply);
    }
    uint64_t total = 0;
    for (int loop = 0; loop < LOOPS_COUNT; loop++) {
        uint64_t held = loop_connections(server->port, loop);
        if (held == 0 || held == UINT64_MAX) fail_msg("loop %d holds %llu connections", loop,
                                                      (unsigned long long)held);
        total += held;
    }
    /* The eight kept open (each /metrics request, on a connection of its own, may add one). */
    assert_true(total >= LOOPS_CONNECTIONS);
    assert_int_equal(loop_connections(server->port, LOOPS_COUNT), UINT64_MAX);
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) close(fds[i]);
}

/* Reads a parked watcher's reply: 200, head_sequence `head`, and holding event `event` or none. */
static void watch_reply_check(int fd, uint64_t head, uint64_t event) {
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    close(fd);
    assert_int_equal(reply.status, 200);
    const char *body = (const char *)reply.body;
    char text[64];
    snprintf(text, sizeof text, "\"head_sequence\":\"%llu\"", (unsigned long long)head);
    assert_non_null(strstr(body, text));
    snprintf(text, sizeof text, "\"sequence\":\"%llu\"", (unsigned long long)event);
    if (event != 0) assert_non_null(strstr(body, text));
    else assert_null(strstr(body, "\"events\":[{"));
    http_reply_free(&reply);
}

static void test_a_write_wakes_watchers_on_every_loop_and_sigterm_answers_them(void **state) {
    test_server *server = *state;
    /* Eight watchers after event 3, on eight connections: every loop holds at least one. */
    int fds[LOOPS_CONNECTIONS];
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) {
        fds[i] = test_server_watch_send(server->port, 3, LOOPS_WAIT_LONG_MS);
    }
    test_server_metric_await(server->port, "fundflow_watchers_parked", LOOPS_CONNECTIONS);
    for (int loop = 0; loop < LOOPS_COUNT; loop++) {
        assert_true(loop_connections(server->port, loop) >= 1);
    }
    /* Event 4, on a ninth connection, whichever loop takes it: all eight get it. */
    assert_int_equal(test_server_allocate(server->port, "loops-1", 100), 4);
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) watch_reply_check(fds[i], 4, 4);
    assert_int_equal(test_server_metric(server->port, "fundflow_watchers_parked"), 0);
    /* Eight more after 4; SIGTERM answers every one with an empty page and the head, and the
     * server exits 0 (each loop ends once its replies are sent). */
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) {
        fds[i] = test_server_watch_send(server->port, 4, LOOPS_WAIT_LONG_MS);
    }
    test_server_metric_await(server->port, "fundflow_watchers_parked", LOOPS_CONNECTIONS);
    assert_int_equal(kill(server->pid, SIGTERM), 0);
    for (int i = 0; i < LOOPS_CONNECTIONS; i++) watch_reply_check(fds[i], 4, 0);
    assert_int_equal(test_server_wait(server), 0);
    server->pid = 0;
}

static int64_t position_received(uint16_t port, int64_t *sequence_out) {
    http_reply reply;
    assert_int_equal(http_twirp_json(port, "GetPosition",
                                     "{\"org_code\":\"QUE\",\"stream\":\"CORE_SERVICES\","
                                     "\"financial_year\":2024}",
                                     &reply),
                     0);
    assert_int_equal(reply.status, 200);
    const char *field = strstr((const char *)reply.body, "\"received_pence\":\"");
    int64_t received = field ? strtoll(field + strlen("\"received_pence\":\""), NULL, 10) : 0;
    *sequence_out = reply.sequence;
    http_reply_free(&reply);
    return received;
}

static void test_a_read_on_its_loop_reflects_the_write_acknowledged_before_it(void **state) {
    test_server *server = *state;
    /* Each write's reply comes before the read is sent, on another connection (perhaps another
     * loop): the read sees it, and its Fundflow-Sequence is at least the write's event. */
    int64_t expected = 0;
    for (int i = 1; i <= 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "loops-read-%d", i);
        uint64_t event = test_server_allocate(server->port, key, i);
        expected += i; /* 1p + 2p + ... + 10p = 55p in all */
        int64_t sequence = -1;
        assert_int_equal(position_received(server->port, &sequence), expected);
        assert_true(sequence >= (int64_t)event);
    }
    assert_int_equal(expected, 55);
}

static void test_one_loop_serves_as_before(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "event_loops = 1\n", &server);
    test_server_world_load(server.port);
    /* Event 4: £2.50 from X24 to QUE. */
    assert_int_equal(test_server_allocate(server.port, "one-loop", 250), 4);
    int64_t sequence = -1;
    assert_int_equal(position_received(server.port, &sequence), 250);
    assert_int_equal(sequence, 4);
    assert_true(loop_connections(server.port, 0) >= 1);
    assert_int_equal(loop_connections(server.port, 1), UINT64_MAX);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

static void test_too_many_loops_are_refused_at_start(void **state) {
    (void)state;
    char *directory = test_dir_make();
    char config_path[4096], data_dir[4096], log_path[4096], command[16384];
    snprintf(config_path, sizeof config_path, "%s/fundflowd.conf", directory);
    snprintf(data_dir, sizeof data_dir, "%s/data", directory);
    snprintf(log_path, sizeof log_path, "%s/server.log", directory);
    FILE *config = fopen(config_path, "w");
    assert_non_null(config);
    fprintf(config, "event_loops = %d\n", FF_EVENT_LOOPS_MAX + 1);
    fclose(config);
    snprintf(command, sizeof command,
             "'%s' --config '%s' --data-dir '%s' --listen 127.0.0.1:0 >'%s' 2>&1",
             fundflowd_path, config_path, data_dir, log_path);
    int status = system(command);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    char log[4096] = "";
    FILE *output = fopen(log_path, "r");
    assert_non_null(output);
    size_t read = fread(log, 1, sizeof log - 1, output);
    fclose(output);
    log[read] = '\0';
    assert_non_null(strstr(log, "event_loops"));
    test_dir_remove(directory);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FUNDFLOWD\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connections_are_shared_out_between_the_loops,
                                        loops_server_setup, loops_server_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_write_wakes_watchers_on_every_loop_and_sigterm_answers_them,
            loops_server_setup, loops_server_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_read_on_its_loop_reflects_the_write_acknowledged_before_it,
            loops_server_setup, loops_server_teardown),
        cmocka_unit_test(test_one_loop_serves_as_before),
        cmocka_unit_test(test_too_many_loops_are_refused_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
