/* Integration tests of the change stream, WatchEvents, against a real fundflowd on 127.0.0.1:0:
 * a watcher parked before a write gets that write's event; one behind the head is answered at
 * once; a wait that ends is an empty page with the head; the limit on parked watchers refuses the
 * next one naming the limit; a client that hangs up while parked is freed (its watcher slot and
 * its connection); shutdown answers parked watchers; and a consumer following from 0 while
 * several clients write receives every event once, in order, with a chain that verifies and
 * equals ListEvents'. Nothing waits for time: a watcher is known to be parked by the
 * fundflow_watchers_parked gauge, polled a bounded number of times. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A wait no test lets run out: the event it waits for comes first. A watcher whose wait runs out
 * is answered with an empty page, which fails the test. Below the raw client's own 20 s reply
 * timeout. */
#define WATCH_WAIT_LONG_MS 15000

/* The longest wait, for watchers that hang up: a poll gives up long before it ends. */
#define WATCH_WAIT_MAX_MS 30000

static const char *fundflowd_path;

/* ---- helpers ---- */

/* Calls WatchEvents in protobuf and returns its decoded page, failing on anything but 200. */
static Fundflow__V1__WatchEventsResponse *watch_call(uint16_t port, uint64_t after,
                                                    uint32_t max_events, uint32_t wait_ms) {
    Fundflow__V1__WatchEventsRequest request = FUNDFLOW__V1__WATCH_EVENTS_REQUEST__INIT;
    request.after_sequence = after;
    request.max_events = max_events;
    request.wait_ms = wait_ms;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "WatchEvents", &request.base, &reply), 0);
    if (reply.status != 200) fail_msg("WatchEvents: status %d: %s", reply.status, reply.body);
    Fundflow__V1__WatchEventsResponse *page =
        fundflow__v1__watch_events_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(page);
    http_reply_free(&reply);
    return page;
}

/* One event's hash, from GetEvent. */
static void event_hash(uint16_t port, uint64_t sequence, uint8_t hash[32]) {
    Fundflow__V1__GetEventRequest request = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    request.sequence = sequence;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "GetEvent", &request.base, &reply), 0);
    assert_int_equal(reply.status, 200);
    Fundflow__V1__EventRecord *record =
        fundflow__v1__event_record__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(record);
    assert_int_equal(record->hash.len, 32);
    memcpy(hash, record->hash.data, 32);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    http_reply_free(&reply);
}

/* ---- fixtures: a fresh server holding the world's events 1 to 3 ---- */

static int server_begin(void **state, const char *config_text) {
    test_server *server = calloc(1, sizeof *server);
    assert_non_null(server);
    test_server_start(fundflowd_path, config_text, server);
    test_server_world_load(server->port);
    *state = server;
    return 0;
}

static int server_setup(void **state) {
    return server_begin(state, NULL);
}

/* max_connections 8: a quarter, 2, may wait at once (one peer may hold 4 connections). */
#define WATCH_LIMITED_CONFIG "max_connections = 8\n"
#define WATCH_LIMIT 2

static int limited_server_setup(void **state) {
    return server_begin(state, WATCH_LIMITED_CONFIG);
}

/* Stops the server unless the test did, and fails unless it exited 0: under ASan a leak fails
 * the exit status. */
static int server_teardown(void **state) {
    test_server *server = *state;
    int status = server->pid > 0 ? test_server_stop(server) : 0;
    test_server_cleanup(server);
    free(server);
    assert_int_equal(status, 0);
    return 0;
}

/* ---- a parked watcher, a watcher behind the head, a wait that ends ---- */

static void test_parked_watcher_gets_the_write(void **state) {
    test_server *server = *state;
    int fd = test_server_watch_send(server->port, 3, WATCH_WAIT_LONG_MS);
    test_server_metric_await(server->port, "fundflow_watchers_parked", 1);
    /* Event 4: £1.00 from X24 to QUE. */
    assert_int_equal(test_server_allocate(server->port, "parked-1", 100), 4);
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    close(fd);
    assert_int_equal(reply.status, 200);
    const char *body = (const char *)reply.body;
    assert_non_null(strstr(body, "\"sequence\":\"4\""));
    assert_null(strstr(body, "\"sequence\":\"3\""));
    assert_non_null(strstr(body, "\"head_sequence\":\"4\""));
    assert_non_null(strstr(body, "\"next_after_sequence\":\"4\""));
    assert_non_null(strstr(body, "\"amount_pence\":\"100\""));
    http_reply_free(&reply);
    assert_int_equal(test_server_metric(server->port, "fundflow_watchers_parked"), 0);
}

static void test_watcher_behind_the_head_returns_at_once(void **state) {
    test_server *server = *state;
    uint8_t hash_1[32];
    event_hash(server->port, 1, hash_1);
    /* After event 1 there are 2 and 3: both come back, nothing waits. */
    Fundflow__V1__WatchEventsResponse *page = watch_call(server->port, 1, 0, WATCH_WAIT_LONG_MS);
    assert_int_equal(page->n_events, 2);
    assert_int_equal(page->events[0]->sequence, 2);
    assert_int_equal(page->events[1]->sequence, 3);
    assert_int_equal(page->head_sequence, 3);
    assert_int_equal(page->next_after_sequence, 3);
    /* Each event carries what the chain needs: 2's previous hash is 1's hash, 3's is 2's. */
    assert_memory_equal(page->events[0]->previous_hash.data, hash_1, 32);
    assert_memory_equal(page->events[1]->previous_hash.data, page->events[0]->hash.data, 32);
    assert_true(page->events[0]->recorded_at_us > 0);
    assert_int_equal(page->events[0]->effective_date, 20240401);
    assert_string_equal(page->events[0]->actor, "local-admin");
    fundflow__v1__watch_events_response__free_unpacked(page, NULL);
    /* max_events 1: one event, and next_after_sequence says where to go on. */
    page = watch_call(server->port, 0, 1, WATCH_WAIT_LONG_MS);
    assert_int_equal(page->n_events, 1);
    assert_int_equal(page->events[0]->sequence, 1);
    assert_int_equal(page->next_after_sequence, 1);
    fundflow__v1__watch_events_response__free_unpacked(page, NULL);
}

static void test_a_wait_that_ends_is_an_empty_page_with_the_head(void **state) {
    test_server *server = *state;
    /* wait_ms 1: parked, and the timer answers with nothing new and the head, 3. */
    Fundflow__V1__WatchEventsResponse *page = watch_call(server->port, 3, 0, 1);
    assert_int_equal(page->n_events, 0);
    assert_int_equal(page->head_sequence, 3);
    assert_int_equal(page->next_after_sequence, 3);
    fundflow__v1__watch_events_response__free_unpacked(page, NULL);
    /* wait_ms 0 answers at once; a sequence beyond the head is kept as where to go on. */
    page = watch_call(server->port, 7, 0, 0);
    assert_int_equal(page->n_events, 0);
    assert_int_equal(page->head_sequence, 3);
    assert_int_equal(page->next_after_sequence, 7);
    fundflow__v1__watch_events_response__free_unpacked(page, NULL);
    assert_int_equal(test_server_metric(server->port, "fundflow_watchers_parked"), 0);
}

/* ---- the limit, hang-ups and shutdown ---- */

static void test_the_limit_refuses_the_next_watcher_naming_it(void **state) {
    test_server *server = *state;
    int fds[WATCH_LIMIT];
    for (int i = 0; i < WATCH_LIMIT; i++) {
        fds[i] = test_server_watch_send(server->port, 3, WATCH_WAIT_LONG_MS);
    }
    test_server_metric_await(server->port, "fundflow_watchers_parked", WATCH_LIMIT);
    http_reply reply;
    assert_int_equal(http_twirp_json(server->port, "WatchEvents",
                                     "{\"after_sequence\":3,\"wait_ms\":15000}", &reply), 0);
    assert_int_equal(reply.status, 429);
    const char *body = (const char *)reply.body;
    assert_non_null(strstr(body, "\"code\":\"resource_exhausted\""));
    assert_non_null(strstr(body, "\"error\":\"watchers_full\""));
    assert_non_null(strstr(body, "\"limit\":\"2\""));
    http_reply_free(&reply);
    /* The refusal took nothing: the two parked still get event 4. */
    assert_int_equal(test_server_allocate(server->port, "limit-1", 100), 4);
    for (int i = 0; i < WATCH_LIMIT; i++) {
        assert_int_equal(http_raw_reply_read(fds[i], &reply), 0);
        close(fds[i]);
        assert_int_equal(reply.status, 200);
        assert_non_null(strstr((const char *)reply.body, "\"sequence\":\"4\""));
        http_reply_free(&reply);
    }
}

static void test_a_client_that_hangs_up_while_parked_is_freed(void **state) {
    test_server *server = *state;
    /* Three rounds of two watchers that hang up: without the clean-up the second round would
     * find both watcher slots, and the third every one of the peer's 4 connections, taken. */
    for (int round = 0; round < 3; round++) {
        int fds[WATCH_LIMIT];
        for (int i = 0; i < WATCH_LIMIT; i++) {
            fds[i] = test_server_watch_send(server->port, 3, WATCH_WAIT_MAX_MS);
        }
        test_server_metric_await(server->port, "fundflow_watchers_parked", WATCH_LIMIT);
        for (int i = 0; i < WATCH_LIMIT; i++) close(fds[i]);
        test_server_metric_await(server->port, "fundflow_watchers_parked", 0);
        /* Only the connection asking for the metrics is left. */
        test_server_metric_await(server->port, "fundflow_connections", 1);
    }
    /* The server still serves watchers, and stops cleanly: under ASan a leaked request or
     * connection fails the exit status. */
    Fundflow__V1__WatchEventsResponse *page = watch_call(server->port, 2, 0, 0);
    assert_int_equal(page->n_events, 1);
    fundflow__v1__watch_events_response__free_unpacked(page, NULL);
}

static void test_shutdown_answers_parked_watchers(void **state) {
    test_server *server = *state;
    int fd = test_server_watch_send(server->port, 3, WATCH_WAIT_LONG_MS);
    test_server_metric_await(server->port, "fundflow_watchers_parked", 1);
    assert_int_equal(kill(server->pid, SIGTERM), 0);
    /* Answered at once with what there is, the head, and the connection closed. */
    http_reply reply;
    assert_int_equal(http_raw_reply_read(fd, &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_non_null(strstr((const char *)reply.body, "\"events\":[]"));
    assert_non_null(strstr((const char *)reply.body, "\"head_sequence\":\"3\""));
    http_reply_free(&reply);
    assert_int_equal(http_raw_wait_closed(fd, 10000), 0);
    close(fd);
    assert_int_equal(test_server_wait(server), 0);
}

/* ---- a consumer following while several clients write ---- */

/* 4 writers × 25 allocations of £1.00: QUE receives 100 × 100 = 10,000 pence, within X24's
 * £10,000.00 limit; with the world's 3 events the log ends at 103. */
#define FOLLOW_WRITERS 4
#define FOLLOW_WRITES_EACH 25
#define FOLLOW_EVENTS_END (3 + FOLLOW_WRITERS * FOLLOW_WRITES_EACH)

typedef struct follow_writer {
    uint16_t port;
    int index;
} follow_writer;

static void *follow_writer_run(void *argument) {
    follow_writer *writer = argument;
    for (int i = 0; i < FOLLOW_WRITES_EACH; i++) {
        char key[64];
        snprintf(key, sizeof key, "follow-%d-%d", writer->index, i);
        test_server_allocate(writer->port, key, 100);
    }
    return NULL;
}

/* What the consumer saw: each sequence's hash, by sequence. */
typedef struct follow_seen {
    uint8_t hashes[FOLLOW_EVENTS_END + 1][32];
    int times[FOLLOW_EVENTS_END + 1];
} follow_seen;

/* Follows from 0 until the last event, as a consumer does: each page's events must go on from
 * the one before, each previous_hash must be the hash before it. */
static void follow_consume(uint16_t port, follow_seen *seen) {
    uint64_t after = 0;
    uint8_t previous[32] = {0}; /* event 1's previous hash is 32 zero bytes */
    for (int calls = 0; after < FOLLOW_EVENTS_END; calls++) {
        assert_true(calls < 10 * FOLLOW_EVENTS_END);
        Fundflow__V1__WatchEventsResponse *page = watch_call(port, after, 7, WATCH_WAIT_LONG_MS);
        assert_true(page->n_events <= 7);
        for (size_t i = 0; i < page->n_events; i++) {
            const Fundflow__V1__EventRecord *record = page->events[i];
            assert_int_equal(record->sequence, after + 1);
            assert_int_equal(record->previous_hash.len, 32);
            assert_memory_equal(record->previous_hash.data, previous, 32);
            memcpy(previous, record->hash.data, 32);
            memcpy(seen->hashes[record->sequence], record->hash.data, 32);
            seen->times[record->sequence]++;
            after = record->sequence;
        }
        assert_int_equal(page->next_after_sequence, after);
        fundflow__v1__watch_events_response__free_unpacked(page, NULL);
    }
}

static void test_a_consumer_following_from_zero_sees_every_event_once(void **state) {
    test_server *server = *state;
    follow_writer writers[FOLLOW_WRITERS];
    pthread_t threads[FOLLOW_WRITERS];
    for (int i = 0; i < FOLLOW_WRITERS; i++) {
        writers[i] = (follow_writer){server->port, i};
        assert_int_equal(pthread_create(&threads[i], NULL, follow_writer_run, &writers[i]), 0);
    }
    follow_seen *seen = calloc(1, sizeof *seen);
    assert_non_null(seen);
    follow_consume(server->port, seen);
    for (int i = 0; i < FOLLOW_WRITERS; i++) pthread_join(threads[i], NULL);
    assert_int_equal(test_server_head(server->port), FOLLOW_EVENTS_END);
    /* Every event once, and the same hashes as ListEvents gives. */
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    list.page_size = 1000;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(server->port, "ListEvents", &list.base, &reply), 0);
    assert_int_equal(reply.status, 200);
    Fundflow__V1__ListEventsResponse *listed =
        fundflow__v1__list_events_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(listed);
    assert_int_equal(listed->n_events, FOLLOW_EVENTS_END);
    for (size_t i = 0; i < listed->n_events; i++) {
        uint64_t sequence = listed->events[i]->sequence;
        assert_int_equal(sequence, i + 1);
        assert_int_equal(seen->times[sequence], 1);
        assert_memory_equal(seen->hashes[sequence], listed->events[i]->hash.data, 32);
    }
    fundflow__v1__list_events_response__free_unpacked(listed, NULL);
    http_reply_free(&reply);
    free(seen);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_watch PATH_TO_FUNDFLOWD\n");
        return 2;
    }
    fundflowd_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parked_watcher_gets_the_write, server_setup,
                                        server_teardown),
        cmocka_unit_test_setup_teardown(test_watcher_behind_the_head_returns_at_once,
                                        server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_a_wait_that_ends_is_an_empty_page_with_the_head,
                                        server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_the_limit_refuses_the_next_watcher_naming_it,
                                        limited_server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_a_client_that_hangs_up_while_parked_is_freed,
                                        limited_server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_answers_parked_watchers, server_setup,
                                        server_teardown),
        cmocka_unit_test_setup_teardown(test_a_consumer_following_from_zero_sees_every_event_once,
                                        server_setup, server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
