/* Integration tests of fundflowd's reader threads and its log sink: concurrent reads answered
 * whole while writes commit, reads during long write batches answered at committed heads (and
 * some answered while a batch was still in flight), reads while fundflow-admin rebuilds another
 * data directory, a write acknowledged while a long read is still in flight, a log that never
 * drains (request lines; lines from the web view, a plugin and TLS, once written to stderr
 * directly), and a shutdown with reads in flight. A real server on 127.0.0.1:0. Nothing here
 * waits for time: order is forced with a FIFO, and polls wait only for a condition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

/* How long a poll for a condition may take at most, and how often it looks. */
#define READS_POLL_MS 10
#define READS_POLL_COUNT_MAX 6000

static const char *fundflowd_path;
static const char *admin_path;

/* ---- helpers ---- */

/* Submits commands in one request (protobuf); asserts every one was recorded. */
static void commands_submit_ok(uint16_t port, Fundflow__V1__Command **commands, size_t count) {
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = count;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "SubmitCommands", &request.base, &reply), 0);
    if (reply.status != 200) fail_msg("SubmitCommands: status %d: %s", reply.status, reply.body);
    Fundflow__V1__SubmitCommandsResponse *response =
        fundflow__v1__submit_commands_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(response);
    assert_int_equal(response->n_results, count);
    for (size_t i = 0; i < count; i++) assert_string_equal(response->results[i]->code, "ok");
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
    http_reply_free(&reply);
}

/* QUE's core services received for TEST_YEAR through GetPosition in protobuf: the reply's
 * status in *status_out (-1 if the exchange failed), the amount when it is 200, and the head the
 * answer was read at in *as_at_out (0 unless 200). */
static int64_t position_read(uint16_t port, int *status_out, uint64_t *as_at_out) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)"QUE";
    get.stream = CORE;
    get.financial_year = TEST_YEAR;
    http_reply reply;
    if (http_twirp_protobuf(port, "GetPosition", &get.base, &reply) != 0) {
        *status_out = -1;
        return -1;
    }
    *status_out = reply.status;
    *as_at_out = 0;
    int64_t received = -1;
    if (reply.status == 200) {
        Fundflow__V1__Position *position =
            fundflow__v1__position__unpack(NULL, reply.body_bytes, reply.body);
        if (position != NULL) received = position->received_pence;
        if (position != NULL) *as_at_out = position->as_at_sequence;
        if (position != NULL) fundflow__v1__position__free_unpacked(position, NULL);
    }
    http_reply_free(&reply);
    return received;
}

static int64_t position_received(uint16_t port, int *status_out) {
    uint64_t as_at = 0;
    return position_read(port, status_out, &as_at);
}

/* The GetPosition request for QUE's core services in TEST_YEAR, in JSON. */
static const char position_json[] = "{\"org_code\":\"QUE\",\"stream\":\"CORE_SERVICES\","
                                    "\"financial_year\":2024}";

/* The received amount in a JSON GetPosition reply, or -1 if it is not a 200 with the field;
 * frees the reply. */
static int64_t position_json_received(http_reply *reply) {
    int64_t received = -1;
    const char *field = strstr((const char *)reply->body, "\"received_pence\":\"");
    if (reply->status == 200 && field != NULL) {
        received = strtoll(field + strlen("\"received_pence\":\""), NULL, 10);
    }
    http_reply_free(reply);
    return received;
}

/* The same in JSON: the amount, or -1 if the reply was not a 200 with the field. */
static int64_t position_received_json(uint16_t port) {
    http_reply reply;
    if (http_twirp_json(port, "GetPosition", position_json, &reply) != 0) return -1;
    return position_json_received(&reply);
}

/* ---- many reads while writes commit ---- */

/* 200 allocations of £1.00 each: QUE receives 200 × 100 = 20,000 pence on top of nothing. */
#define CONCURRENT_WRITES 200
#define CONCURRENT_WRITE_PENCE 100
#define CONCURRENT_RECEIVED_END (CONCURRENT_WRITES * CONCURRENT_WRITE_PENCE)
#define CONCURRENT_READERS 8

typedef struct reads_shared {
    uint16_t port;
    atomic_bool writes_done;
} reads_shared;

typedef struct reads_client {
    reads_shared *shared;
    bool json;
    int reads, wrong; /* replies seen, and those not a whole, forward state */
    int64_t last;     /* the received amount the last read saw */
} reads_client;

/* Reads until the writes are done, then once more. Each answer is a state some commit left:
 * a whole number of allocations, never fewer than the reader saw before. */
static void *reads_client_run(void *argument) {
    reads_client *client = argument;
    bool last_round = false;
    client->last = 0;
    while (!last_round) {
        last_round = atomic_load(&client->shared->writes_done);
        int status = 200;
        int64_t received = client->json ? position_received_json(client->shared->port)
                                        : position_received(client->shared->port, &status);
        client->reads++;
        if (status != 200 || received < client->last || received > CONCURRENT_RECEIVED_END ||
            received % CONCURRENT_WRITE_PENCE != 0) {
            client->wrong++;
        }
        if (received > client->last) client->last = received;
    }
    return NULL;
}

static void test_concurrent_reads_see_whole_commits(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "read_workers = 4\n", &server);
    test_server_world_load(server.port);
    reads_shared shared = {.port = server.port};
    atomic_init(&shared.writes_done, false);
    reads_client clients[CONCURRENT_READERS];
    pthread_t threads[CONCURRENT_READERS];
    for (int i = 0; i < CONCURRENT_READERS; i++) {
        clients[i] = (reads_client){.shared = &shared, .json = i % 2 == 1};
        assert_int_equal(pthread_create(&threads[i], NULL, reads_client_run, &clients[i]), 0);
    }
    for (int i = 0; i < CONCURRENT_WRITES; i++) {
        char key[32];
        snprintf(key, sizeof key, "c%d", i);
        test_server_allocate(server.port, key, CONCURRENT_WRITE_PENCE);
    }
    atomic_store(&shared.writes_done, true);
    for (int i = 0; i < CONCURRENT_READERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(clients[i].wrong, 0);
        /* The last read began after the last write was acknowledged: it sees every one. */
        assert_int_equal(clients[i].last, CONCURRENT_RECEIVED_END);
    }
    /* Three world events and the allocations. */
    assert_int_equal(test_server_head(server.port), 3 + CONCURRENT_WRITES);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- reads during long write batches ---- */

/* 5 batches of 1,000 allocations of 7p: QUE receives 5 × 1,000 × 7 = 35,000 pence, within
 * X24's £10,000.00 (1,000,000 pence) limit. One client sends them one after another, so every
 * group the writer commits is one whole batch, and the committed heads are 3 (the world) and
 * 3 + 1,000 × k for k = 1 to 5. If no read was answered while a batch was in flight, up to 3 more
 * batches follow, of 2,000, 4,000 and 8,000 (within FF_BATCH_COMMANDS_MAX, 8,192): every head
 * stays 3 plus a multiple of 1,000, and at most 19,000 × 7 = 133,000 pence are allocated. */
#define LONG_BATCHES 5
#define LONG_BATCH_COMMANDS 1000
#define LONG_RETRY_BATCHES_MAX 3
#define LONG_WRITE_PENCE 7
#define LONG_READERS 4

typedef struct long_shared {
    uint16_t port;
    atomic_bool writes_done;
    atomic_int batch_in_flight;       /* 1 + the batch's number while its request is out, else 0 */
    atomic_uint_least64_t head_max;   /* the head once the batch in flight, or the last, commits */
    atomic_int reads_during;          /* reads answered while a batch was in flight (see below) */
} long_shared;

typedef struct long_reader {
    long_shared *shared;
    int reads, wrong;
    uint64_t last_as_at;
} long_reader;

/* Reads until the writes are done, then once more. Each answer must be read at a committed
 * head, hold exactly the allocations before that head (received = (head - 3) × 7), and never go
 * back to an earlier head. A read counts as during a batch when it was sent after the batch's
 * request went out, its reply came before the batch's did, and it was answered at a head before
 * the batch's end: the server answered it while the batch was still being applied or waited to
 * be, not once the batch was done. */
static void *long_reader_run(void *argument) {
    long_reader *reader = argument;
    long_shared *shared = reader->shared;
    bool last_round = false;
    while (!last_round) {
        last_round = atomic_load(&shared->writes_done);
        int batch_before = atomic_load(&shared->batch_in_flight);
        int status = 0;
        uint64_t as_at = 0;
        int64_t received = position_read(shared->port, &status, &as_at);
        if (batch_before != 0 && atomic_load(&shared->batch_in_flight) == batch_before &&
            as_at < atomic_load(&shared->head_max)) {
            atomic_fetch_add(&shared->reads_during, 1);
        }
        reader->reads++;
        bool at_a_committed_head = as_at >= 3 && as_at <= atomic_load(&shared->head_max) &&
                                   (as_at - 3) % LONG_BATCH_COMMANDS == 0;
        if (status != 200 || !at_a_committed_head || as_at < reader->last_as_at ||
            received != (int64_t)(as_at - 3) * LONG_WRITE_PENCE) {
            reader->wrong++;
        }
        if (as_at > reader->last_as_at) reader->last_as_at = as_at;
    }
    return NULL;
}

/* Sends batch number `batch` of `count` allocations with the readers told it is in flight until
 * its reply is back; returns the head after it. */
static uint64_t long_batch_run(long_shared *shared, int batch, int count, uint64_t head) {
    Fundflow__V1__Command **commands = calloc((size_t)count, sizeof *commands);
    assert_non_null(commands);
    for (int i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof key, "long-%d-%d", batch, i);
        commands[i] = test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, LONG_WRITE_PENCE);
    }
    uint64_t head_after = head + (uint64_t)count;
    atomic_store(&shared->head_max, head_after);
    int during_before = atomic_load(&shared->reads_during);
    atomic_store(&shared->batch_in_flight, batch + 1);
    commands_submit_ok(shared->port, commands, (size_t)count);
    atomic_store(&shared->batch_in_flight, 0);
    print_message("batch %d of %d commands: %d reads answered while it was in flight\n", batch,
                  count, atomic_load(&shared->reads_during) - during_before);
    for (int i = 0; i < count; i++) test_command_free(commands[i]);
    free(commands);
    return head_after;
}

static void test_reads_during_long_write_batches_see_committed_heads(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "read_workers = 2\n", &server);
    test_server_world_load(server.port);
    long_shared shared = {.port = server.port};
    atomic_init(&shared.writes_done, false);
    atomic_init(&shared.batch_in_flight, 0);
    atomic_init(&shared.head_max, 3);
    atomic_init(&shared.reads_during, 0);
    long_reader readers[LONG_READERS];
    pthread_t threads[LONG_READERS];
    for (int i = 0; i < LONG_READERS; i++) {
        readers[i] = (long_reader){.shared = &shared};
        assert_int_equal(pthread_create(&threads[i], NULL, long_reader_run, &readers[i]), 0);
    }
    uint64_t head = 3;
    int batch = 0;
    for (; batch < LONG_BATCHES; batch++) {
        head = long_batch_run(&shared, batch, LONG_BATCH_COMMANDS, head);
    }
    /* None overlapped (a machine too busy to schedule the readers): longer batches. */
    for (int retry = 1; retry <= LONG_RETRY_BATCHES_MAX && atomic_load(&shared.reads_during) == 0;
         retry++, batch++) {
        head = long_batch_run(&shared, batch, LONG_BATCH_COMMANDS << retry, head);
    }
    atomic_store(&shared.writes_done, true);
    for (int i = 0; i < LONG_READERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(readers[i].wrong, 0);
        /* The last read began after the last batch was acknowledged: it is at the final head. */
        assert_int_equal(readers[i].last_as_at, head);
    }
    /* Reads were answered while a batch was in flight, not held until it was done. */
    assert_true(atomic_load(&shared.reads_during) >= 1);
    assert_int_equal(test_server_head(server.port), head);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* ---- reads while another data directory is rebuilt ---- */

/* QUE is allocated £1,234.56 (123,456 pence) once, so every read must answer exactly that. */
#define REBUILD_RECEIVED_PENCE 123456
/* A bound on the reads made while one rebuild runs, never reached: a rebuild of the demo's
 * 6,317 events takes about 0.2 s, a read about a millisecond. */
#define REBUILD_READS_MAX 200000
/* A rebuild that ends before the first read has finished is run again, at most this often. */
#define REBUILD_ATTEMPTS_MAX 5

/* Starts fundflow-admin SUBCOMMAND --data-dir DIR with stdout and stderr in out_path. */
static pid_t admin_start(const char *subcommand, const char *data_dir, const char *out_path) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out_fd < 0) _exit(126);
        dup2(out_fd, STDOUT_FILENO);
        dup2(out_fd, STDERR_FILENO);
        execl(admin_path, admin_path, subcommand, "--data-dir", data_dir, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The exit code of a finished fundflow-admin, failing the test with its output if not 0. */
static void admin_exited_ok(int status, const char *subcommand, const char *out_path) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    char output[2048] = "";
    FILE *out = fopen(out_path, "r");
    if (out != NULL) {
        size_t got = fread(output, 1, sizeof output - 1, out);
        output[got] = '\0';
        fclose(out);
    }
    fail_msg("fundflow-admin %s: status %d: %s", subcommand, status, output);
}

/* Runs fundflow-admin SUBCOMMAND --data-dir DIR to its end; fails unless it exits 0. Its output
 * is left in out_path. */
static void admin_run_ok(const char *subcommand, const char *data_dir, const char *out_path) {
    pid_t pid = admin_start(subcommand, data_dir, out_path);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    admin_exited_ok(status, subcommand, out_path);
}

/* The first line of a file, without its line feed. */
static void first_line_read(const char *path, char *line, size_t line_bytes) {
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    if (fgets(line, (int)line_bytes, file) == NULL) line[0] = '\0';
    fclose(file);
    line[strcspn(line, "\n")] = '\0';
}

/* GetPosition in JSON on a kept-alive connection: QUE's received pence, or -1 unless a 200
 * carrying the field. */
static int64_t position_received_kept_alive(int fd) {
    char request[512];
    snprintf(request, sizeof request,
             "POST /twirp/fundflow.v1.Ledger/GetPosition HTTP/1.1\r\nHost: t\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             sizeof position_json - 1, position_json);
    http_reply reply;
    if (http_raw_send(fd, request) != 0 || http_raw_reply_read(fd, &reply) != 0) return -1;
    return position_json_received(&reply);
}

typedef struct rebuild_reads {
    int reads;           /* reads answered, each checked */
    int reads_during;    /* of them, those that ended with the rebuild still running */
    int status;          /* the rebuild's wait status */
} rebuild_reads;

/* Reads QUE's position, alternating a kept-alive JSON connection and fresh protobuf ones, until
 * the rebuild (pid) has exited, then once more. Every read must answer 200 with exactly
 * REBUILD_RECEIVED_PENCE. A read counts as during the rebuild when the rebuild, started before
 * it, had still not exited once it was answered. */
static void reads_until_exit(uint16_t port, int fd, pid_t pid, rebuild_reads *result) {
    bool exited = false, last_round = false;
    while (!last_round) {
        assert_true(result->reads < REBUILD_READS_MAX);
        last_round = exited;
        int status = 200;
        int64_t received = result->reads % 2 == 0 ? position_received_kept_alive(fd)
                                                  : position_received(port, &status);
        assert_int_equal(status, 200);
        assert_int_equal(received, REBUILD_RECEIVED_PENCE);
        result->reads++;
        if (!exited) {
            pid_t waited = waitpid(pid, &result->status, WNOHANG);
            assert_true(waited == 0 || waited == pid);
            exited = waited == pid;
            if (!exited) result->reads_during++;
        }
    }
}

/* A running fundflowd answers reads, correctly and at once, while fundflow-admin rebuilds a
 * different data directory (the demo's 6,317 events) in another process; the rebuild succeeds
 * and the directory then verifies, head unchanged. Nothing waits for time: reads go on until the
 * rebuild has exited. If a rebuild ends before the first read is answered (a machine too busy to
 * schedule the reads), it overlapped no read, so it is run again, up to REBUILD_ATTEMPTS_MAX
 * times; every attempt is checked for correctness all the same. */
static void test_reads_during_a_rebuild_of_another_directory(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "read_workers = 2\n", &server);
    test_server_world_load(server.port);
    test_server_allocate(server.port, "before-rebuild", REBUILD_RECEIVED_PENCE);
    char *other = test_dir_make();
    char data_dir[4200], out_path[4200], line[512], want[160];
    snprintf(data_dir, sizeof data_dir, "%s/data", other);
    snprintf(out_path, sizeof out_path, "%s/admin.out", other);
    admin_run_ok("demo", data_dir, out_path);
    admin_run_ok("head", data_dir, out_path);
    first_line_read(out_path, line, sizeof line);
    uint64_t head = 0;
    assert_int_equal(sscanf(line, "sequence %" SCNu64, &head), 1);
    int fd = http_raw_connect(server.port, NULL);
    assert_true(fd >= 0);
    int reads_during = 0;
    for (int attempt = 0; attempt < REBUILD_ATTEMPTS_MAX && reads_during == 0; attempt++) {
        pid_t pid = admin_start("rebuild", data_dir, out_path);
        rebuild_reads result = {0};
        reads_until_exit(server.port, fd, pid, &result);
        admin_exited_ok(result.status, "rebuild", out_path);
        reads_during = result.reads_during;
        print_message("rebuild %d: %d reads, %d of them while it ran\n", attempt + 1,
                      result.reads, result.reads_during);
        /* "Rebuilt every projection by replaying S events; head S, hash ..." */
        first_line_read(out_path, line, sizeof line);
        snprintf(want, sizeof want,
                 "Rebuilt every projection by replaying %" PRIu64 " events; head %" PRIu64 ",",
                 head, head);
        if (strncmp(line, want, strlen(want)) != 0) fail_msg("rebuild printed: %s", line);
    }
    assert_true(reads_during >= 1);
    close(fd);
    admin_run_ok("verify", data_dir, out_path);
    first_line_read(out_path, line, sizeof line);
    snprintf(want, sizeof want, "OK: %" PRIu64 " events, head %" PRIu64 ",", head, head);
    if (strncmp(line, want, strlen(want)) != 0) fail_msg("verify printed: %s", line);
    /* The server's own ledger is as it was: the world's three events and the allocation. */
    assert_int_equal(test_server_head(server.port), 4);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
    test_dir_remove(other);
}

/* ---- a write acknowledged while a long read is in flight ---- */

typedef struct report_call {
    uint16_t port;
    atomic_bool done;
    http_reply reply;
    int transport;
} report_call;

static void *report_call_run(void *argument) {
    report_call *call = argument;
    call->transport = http_twirp_json(call->port, "RunReport",
                                      "{\"plugin\":\"fixture_gate\",\"financial_year\":2024}",
                                      &call->reply);
    atomic_store(&call->done, true);
    return NULL;
}

/* Opens the gate FIFO for writing once the report has opened it for reading: until then the
 * open fails with ENXIO. Polls for that, and for nothing else. */
static int gate_open_when_report_waits(const char *gate) {
    for (int polls = 0; polls < READS_POLL_COUNT_MAX; polls++) {
        int fd = open(gate, O_WRONLY | O_NONBLOCK);
        if (fd >= 0) return fd;
        if (errno != ENXIO) fail_msg("cannot open %s: %s", gate, strerror(errno));
        usleep(READS_POLL_MS * 1000);
    }
    fail_msg("the report never opened the gate");
    return -1;
}

/* Waits for text in the server's log; fails if it never comes. */
static void log_wait(const test_server *server, const char *text) {
    char path[4200], line[2048];
    snprintf(path, sizeof path, "%s/server.log", server->directory);
    for (int polls = 0; polls < READS_POLL_COUNT_MAX; polls++) {
        FILE *log = fopen(path, "r");
        bool found = false;
        while (log != NULL && !found && fgets(line, sizeof line, log) != NULL) {
            found = strstr(line, text) != NULL;
        }
        if (log != NULL) fclose(log);
        if (found) return;
        usleep(READS_POLL_MS * 1000);
    }
    fail_msg("the server never logged %s", text);
}

/* Three reader threads: the report holds one, SIGHUP's plugin reload waits on the second for the
 * report to end (plugins run one at a time), and the third answers other reads meanwhile. */
static void test_write_is_acknowledged_while_a_long_read_is_in_flight(void **state) {
    (void)state;
    char *gate_dir = test_dir_make();
    char gate[4200], config_text[8600];
    snprintf(gate, sizeof gate, "%s/gate", gate_dir);
    assert_int_equal(mkfifo(gate, 0600), 0);
    snprintf(config_text, sizeof config_text,
             "read_workers = 3\nplugin_dir = %s\nplugin.fixture_gate.gate = %s\n",
             FF_READS_PLUGIN_DIR, gate);
    test_server server;
    test_server_start(fundflowd_path, config_text, &server);
    test_server_world_load(server.port);
    report_call report = {.port = server.port};
    atomic_init(&report.done, false);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, report_call_run, &report), 0);
    /* From here the report is on a reader thread, and stays there until the gate's byte. */
    int fd = gate_open_when_report_waits(gate);
    test_server_allocate(server.port, "during-report", 250);
    int status = 0;
    /* The other reader thread answers reads meanwhile: £2.50 received. */
    assert_int_equal(position_received(server.port, &status), 250);
    assert_int_equal(status, 200);
    assert_int_equal(test_server_head(server.port), 4);
    /* A reload of the plugins must wait for the report, but the loop does not wait with it. */
    assert_int_equal(kill(server.pid, SIGHUP), 0);
    log_wait(&server, "msg=\"configuration re-read\"");
    test_server_allocate(server.port, "during-reload", 250);
    assert_int_equal(position_received(server.port, &status), 500);
    /* The writes and the reads were answered while the report was still waiting. */
    assert_false(atomic_load(&report.done));
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    pthread_join(thread, NULL);
    assert_int_equal(report.transport, 0);
    if (report.reply.status != 200) {
        fail_msg("RunReport: status %d: %s", report.reply.status, report.reply.body);
    }
    assert_non_null(strstr((const char *)report.reply.body, "opened"));
    http_reply_free(&report.reply);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
    test_dir_remove(gate_dir);
}

/* ---- a log that never drains ---- */

/* The log pipe is shrunk to 4,096 bytes and the sink holds FF_LOG_BUFFER_BYTES (262,144); a
 * /healthz request line is over 100 bytes, so 4,000 of them (over 400,000 bytes) overflow both,
 * and lines are dropped rather than waited for. */
#define STALLED_LOG_PIPE_BYTES 4096
#define STALLED_LOG_REQUESTS 4000

typedef struct stalled_server {
    pid_t pid;
    uint16_t port;
    int log_read_fd; /* the log pipe's reading end: never read until the server is stopped */
    char *directory; /* made by stalled_server_start unless the caller made it first */
} stalled_server;

static void stalled_server_exec(const char *directory, int log_write_fd, bool configured) {
    char out_path[4200], data_dir[4200], config_path[4200];
    snprintf(out_path, sizeof out_path, "%s/server.out", directory);
    snprintf(data_dir, sizeof data_dir, "%s/data", directory);
    snprintf(config_path, sizeof config_path, "%s/config", directory);
    int out_fd = open(out_path, O_WRONLY | O_APPEND);
    if (out_fd < 0) _exit(126);
    dup2(out_fd, STDOUT_FILENO);
    dup2(log_write_fd, STDERR_FILENO);
    execl(fundflowd_path, fundflowd_path, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
          configured ? "--config" : (char *)NULL, config_path, (char *)NULL);
    _exit(127);
}

/* The port from the server's "listening on" line, once it is there; 0 until then. */
static uint16_t stalled_server_port(const char *directory) {
    char out_path[4200], line[256];
    snprintf(out_path, sizeof out_path, "%s/server.out", directory);
    FILE *file = fopen(out_path, "r");
    unsigned port = 0;
    if (file != NULL && fgets(line, sizeof line, file) != NULL && strchr(line, '\n') != NULL) {
        if (sscanf(line, "listening on 127.0.0.1:%u", &port) != 1) port = 0;
    }
    if (file != NULL) fclose(file);
    return (uint16_t)port;
}

/* The stalled server running, so that a test failing part way does not leave it behind. */
static pid_t stalled_server_running;

/* cmocka's teardown of the stalled-log tests: kills a server the test could not stop. */
static int stalled_server_teardown(void **state) {
    (void)state;
    if (stalled_server_running > 0) {
        kill(stalled_server_running, SIGKILL);
        waitpid(stalled_server_running, NULL, 0);
        stalled_server_running = 0;
    }
    return 0;
}

/* Writes config_text (if not NULL) to DIRECTORY/config, readable by its owner only. */
static void stalled_server_config_write(const char *directory, const char *config_text) {
    char config_path[4200];
    snprintf(config_path, sizeof config_path, "%s/config", directory);
    int fd = open(config_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, config_text, strlen(config_text)), (ssize_t)strlen(config_text));
    close(fd);
}

/* Starts fundflowd with config_text (or none) as its configuration file and its stderr a pipe of
 * STALLED_LOG_PIPE_BYTES that nobody reads. */
static void stalled_server_start(stalled_server *server, const char *config_text) {
    if (server->directory == NULL) server->directory = test_dir_make();
    char out_path[4200];
    snprintf(out_path, sizeof out_path, "%s/server.out", server->directory);
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(out_fd >= 0);
    close(out_fd);
    if (config_text != NULL) stalled_server_config_write(server->directory, config_text);
    int log_pipe[2];
    assert_int_equal(pipe(log_pipe), 0);
    assert_true(fcntl(log_pipe[1], F_SETPIPE_SZ, STALLED_LOG_PIPE_BYTES) >= 0);
    fflush(NULL);
    server->pid = fork();
    assert_true(server->pid >= 0);
    if (server->pid == 0) {
        close(log_pipe[0]);
        stalled_server_exec(server->directory, log_pipe[1], config_text != NULL);
    }
    close(log_pipe[1]);
    stalled_server_running = server->pid;
    server->log_read_fd = log_pipe[0];
    for (int polls = 0; polls < READS_POLL_COUNT_MAX && server->port == 0; polls++) {
        server->port = stalled_server_port(server->directory);
        if (server->port == 0) usleep(READS_POLL_MS * 1000);
    }
    if (server->port == 0) fail_msg("fundflowd printed no \"listening on\" line");
}

/* Stops the server, reading its log only now; returns the exit status, and the whole log in
 * *log_out (the caller frees it). */
static int stalled_server_stop(stalled_server *server, char **log_out) {
    kill(server->pid, SIGTERM);
    size_t capacity = 65536, length = 0;
    char *log = malloc(capacity);
    assert_non_null(log);
    ssize_t got;
    while ((got = read(server->log_read_fd, log + length, capacity - length - 1)) > 0) {
        length += (size_t)got;
        if (capacity - length == 1) log = realloc(log, capacity *= 2);
        assert_non_null(log);
    }
    log[length] = '\0';
    close(server->log_read_fd);
    int status = 0;
    waitpid(server->pid, &status, 0);
    stalled_server_running = 0;
    test_dir_remove(server->directory);
    *log_out = log;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The log's last line, without its line feed. */
static void log_last_line(const char *log, char *last_line, size_t line_bytes) {
    size_t length = strlen(log);
    while (length > 0 && log[length - 1] == '\n') length--;
    size_t start = length;
    while (start > 0 && log[start - 1] != '\n') start--;
    snprintf(last_line, line_bytes, "%.*s", (int)(length - start), log + start);
}

/* Stops the server, which must exit 0 with "stopped cleanly" as its log's last line; returns
 * the whole log (the caller frees it). */
static char *stalled_server_stop_cleanly(stalled_server *server) {
    char *log = NULL, last_line[512];
    assert_int_equal(stalled_server_stop(server, &log), 0);
    log_last_line(log, last_line, sizeof last_line);
    assert_string_equal(last_line, "level=info msg=\"stopped cleanly\"");
    return log;
}

/* How many lines of the log hold text. */
static int log_lines_holding(const char *log, const char *text) {
    int count = 0;
    for (const char *at = strstr(log, text); at != NULL; at = strstr(at + 1, text)) count++;
    return count;
}

/* Sends STALLED_LOG_REQUESTS /healthz requests on one connection: with nobody reading the log,
 * their lines fill the pipe and then the sink's buffer. */
static void stalled_log_fill(uint16_t port) {
    int connection = http_raw_connect(port, NULL);
    assert_true(connection >= 0);
    for (int i = 0; i < STALLED_LOG_REQUESTS; i++) {
        assert_int_equal(http_raw_send(connection, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        http_reply reply;
        if (http_raw_reply_read(connection, &reply) != 0) fail_msg("no reply to request %d", i);
        assert_int_equal(reply.status, 200);
        http_reply_free(&reply);
    }
    close(connection);
}

/* Writes and reads are answered too, with the log still full: £1.00 allocated and read back.
 * Each request fails the test if its reply does not come within the HTTP client's 20 s. */
static void stalled_writes_and_reads_answered(uint16_t port) {
    test_server_world_load(port);
    test_server_allocate(port, "while-stalled", 100);
    int status = 0;
    assert_int_equal(position_received(port, &status), 100);
}

static void test_a_log_that_never_drains_does_not_stall_requests(void **state) {
    (void)state;
    stalled_server server = {0};
    stalled_server_start(&server, NULL);
    stalled_log_fill(server.port);
    stalled_writes_and_reads_answered(server.port);
    uint64_t dropped = test_server_metric(server.port, "fundflow_log_lines_dropped_total");
    assert_true(dropped > 0 && dropped != UINT64_MAX);
    free(stalled_server_stop_cleanly(&server));
}

/* ---- lines from other layers with a log that never drains ---- */

/* Rounds of lines that fundflowd's layers once wrote to stderr directly from the thread that
 * served the request: each round asks for a web view file from a directory since removed
 * (ui.c's warning, on an event loop) and runs the fixture_gate report with no gate set (the
 * plugin's own warning through the host, on a reader thread). 100 rounds are far more than the
 * event loops and reader threads there are, so if any of those lines still waited for the full
 * pipe, every loop or every reader would be stuck and a later request would go unanswered. */
#define STALLED_LAYER_ROUNDS 100

/* One round: a 404 from the web view and a refused report, each answered. */
static void stalled_layer_round(uint16_t port, int round) {
    http_reply reply;
    if (http_request(port, "GET", "/ui/index.html", NULL, NULL, 0, NULL, &reply) != 0) {
        fail_msg("round %d: no reply to GET /ui/index.html within 20 s", round);
    }
    assert_int_equal(reply.status, 404);
    http_reply_free(&reply);
    if (http_twirp_json(port, "RunReport", "{\"plugin\":\"fixture_gate\",\"financial_year\":2024}",
                        &reply) != 0) {
        fail_msg("round %d: no reply to RunReport within 20 s", round);
    }
    if (reply.status == 200) fail_msg("round %d: RunReport without a gate answered 200", round);
    http_reply_free(&reply);
}

/* The log pipe and the sink's buffer are filled first, as above. Then the web view's directory
 * is removed, and STALLED_LAYER_ROUNDS rounds each log 2 request lines and 2 lines from other
 * layers; writes and reads are still answered after them. Every line since the fill is dropped
 * and counted (the buffer stays full). Request lines alone would make at most 2 × 100 + 1 drops
 * between the two /metrics reads (the rounds' and the first /metrics request's own), so more
 * than 201 shows that the other layers' lines went through the sink too (400 expected). */
static void test_lines_from_other_layers_do_not_stall_on_a_full_log(void **state) {
    (void)state;
    stalled_server server = {0};
    server.directory = test_dir_make();
    char ui_dir[4200], config_text[9000];
    snprintf(ui_dir, sizeof ui_dir, "%s/ui", server.directory);
    assert_int_equal(mkdir(ui_dir, 0700), 0);
    snprintf(config_text, sizeof config_text, "read_workers = 2\nplugin_dir = %s\nui_dir = %s\n",
             FF_READS_PLUGIN_DIR, ui_dir);
    stalled_server_start(&server, config_text);
    stalled_log_fill(server.port);
    assert_int_equal(rmdir(ui_dir), 0);
    uint64_t dropped_before = test_server_metric(server.port, "fundflow_log_lines_dropped_total");
    assert_true(dropped_before > 0 && dropped_before != UINT64_MAX);
    for (int round = 0; round < STALLED_LAYER_ROUNDS; round++) {
        stalled_layer_round(server.port, round);
    }
    uint64_t dropped_after = test_server_metric(server.port, "fundflow_log_lines_dropped_total");
    print_message("%llu lines dropped over %d rounds\n",
                  (unsigned long long)(dropped_after - dropped_before), STALLED_LAYER_ROUNDS);
    assert_true(dropped_after != UINT64_MAX);
    assert_true(dropped_after - dropped_before > 2 * STALLED_LAYER_ROUNDS + 1);
    stalled_writes_and_reads_answered(server.port);
    free(stalled_server_stop_cleanly(&server));
}

/* ---- TLS alerts with a log that never drains ---- */

/* Each refused handshake logs one "TLS handshake refused" line of about 90 bytes from the event
 * loop, so about 45 fill the 4,096-byte pipe; 500 are far more than that, so if the line still
 * waited for the pipe, every loop would be stuck long before the last handshake. */
#define STALLED_TLS_HANDSHAKES 500
#define TLS_ALERT_RECORD 0x15

/* A self-signed P-256 certificate and its key for 127.0.0.1 in DIRECTORY/cert.pem and key.pem,
 * made by the openssl command. */
static void tls_identity_make(const char *directory) {
    char cert[4200], key[4200];
    snprintf(cert, sizeof cert, "%s/cert.pem", directory);
    snprintf(key, sizeof key, "%s/key.pem", directory);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
        execlp("openssl", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
               "-keyout", key, "-out", cert, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("openssl could not make a certificate (status %d): run tools/setup.sh", status);
    }
}

/* Sends a TLS record holding a ClientHello with an empty body, which the server refuses with a
 * decode_error alert. Returns the first byte of its answer (an alert record is 0x15), or -1 if
 * none came within the HTTP client's 20 s. */
static int tls_handshake_refused(uint16_t port) {
    static const unsigned char empty_client_hello[] = {0x16, 0x03, 0x01, 0x00, 0x04,
                                                       0x01, 0x00, 0x00, 0x00};
    int fd = http_raw_connect(port, NULL);
    if (fd < 0) return -1;
    unsigned char first = 0;
    struct pollfd answered = {.fd = fd, .events = POLLIN};
    bool sent = send(fd, empty_client_hello, sizeof empty_client_hello, MSG_NOSIGNAL) ==
                (ssize_t)sizeof empty_client_hello;
    bool got = sent && poll(&answered, 1, 20000) == 1 && recv(fd, &first, 1, 0) == 1;
    close(fd);
    return got ? first : -1;
}

/* A TLS listener whose log pipe nobody reads: every refused handshake is answered with its
 * alert at once, the loops never waiting for the log, and the lines reach the log once it is
 * read at the stop. */
static void test_tls_alerts_do_not_stall_on_a_full_log(void **state) {
    (void)state;
    stalled_server server = {0};
    server.directory = test_dir_make();
    tls_identity_make(server.directory);
    char config_text[9000];
    snprintf(config_text, sizeof config_text, "tls_cert = %s/cert.pem\ntls_key = %s/key.pem\n",
             server.directory, server.directory);
    stalled_server_start(&server, config_text);
    for (int i = 0; i < STALLED_TLS_HANDSHAKES; i++) {
        int answer = tls_handshake_refused(server.port);
        if (answer != TLS_ALERT_RECORD) {
            fail_msg("handshake %d: no alert within 20 s (got %d): a loop waits for the log", i,
                     answer);
        }
    }
    char *log = stalled_server_stop_cleanly(&server);
    /* The peer is "-" when the client has already gone as the line is made. */
    int refused = log_lines_holding(log, "level=warn msg=\"TLS handshake refused\" peer=");
    int decode_errors = log_lines_holding(log, " alert=\"decode error\" alert_code=50\n");
    print_message("%d of %d refusals in the log\n", refused, STALLED_TLS_HANDSHAKES);
    /* At the stop, what the pipe does not take within FF_LOG_POLL_MILLISECONDS may be dropped,
     * so not every line is required; each one there is whole. */
    assert_true(refused >= 1 && refused <= STALLED_TLS_HANDSHAKES);
    assert_int_equal(decode_errors, refused);
    free(log);
}

/* ---- shutdown with reads in flight ---- */

#define SHUTDOWN_READERS 6
#define SHUTDOWN_READS_BEFORE_STOP 60

typedef struct shutdown_client {
    uint16_t port;
    atomic_int *answered;
    int wrong; /* a 200 with the wrong amount, or an answer neither 200 nor unavailable */
} shutdown_client;

/* Reads until the server stops answering: every 200 carries the world's £1,000.00, and the
 * read that ends the loop is refused as shutting down or finds the connection gone. */
static void *shutdown_client_run(void *argument) {
    shutdown_client *client = argument;
    for (;;) {
        int status = 0;
        int64_t received = position_received(client->port, &status);
        if (status != 200) {
            if (status != -1 && status != 503) client->wrong++;
            return NULL;
        }
        if (received != 100000) client->wrong++;
        atomic_fetch_add(client->answered, 1);
    }
}

static void test_shutdown_with_reads_in_flight_is_clean(void **state) {
    (void)state;
    test_server server;
    test_server_start(fundflowd_path, "read_workers = 2\n", &server);
    test_server_world_load(server.port);
    test_server_allocate(server.port, "before-shutdown", 100000);
    atomic_int answered;
    atomic_init(&answered, 0);
    shutdown_client clients[SHUTDOWN_READERS];
    pthread_t threads[SHUTDOWN_READERS];
    for (int i = 0; i < SHUTDOWN_READERS; i++) {
        clients[i] = (shutdown_client){.port = server.port, .answered = &answered};
        assert_int_equal(pthread_create(&threads[i], NULL, shutdown_client_run, &clients[i]), 0);
    }
    for (int polls = 0; polls < READS_POLL_COUNT_MAX; polls++) {
        if (atomic_load(&answered) >= SHUTDOWN_READS_BEFORE_STOP) break;
        usleep(READS_POLL_MS * 1000);
    }
    assert_true(atomic_load(&answered) >= SHUTDOWN_READS_BEFORE_STOP);
    /* Under the sanitizers, a leak or a use after free at exit makes this non-zero. */
    assert_int_equal(test_server_stop(&server), 0);
    for (int i = 0; i < SHUTDOWN_READERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(clients[i].wrong, 0);
    }
    char log_path[4200];
    snprintf(log_path, sizeof log_path, "%s/server.log", server.directory);
    FILE *log = fopen(log_path, "r");
    assert_non_null(log);
    char line[1024], last[1024] = "";
    while (fgets(line, sizeof line, log) != NULL) snprintf(last, sizeof last, "%s", line);
    fclose(log);
    assert_string_equal(last, "level=info msg=\"stopped cleanly\"\n");
    test_server_cleanup(&server);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_reads PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW_ADMIN\n");
        return 2;
    }
    fundflowd_path = argv[1];
    admin_path = argv[2];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_reads_see_whole_commits),
        cmocka_unit_test(test_reads_during_long_write_batches_see_committed_heads),
        cmocka_unit_test(test_reads_during_a_rebuild_of_another_directory),
        cmocka_unit_test(test_write_is_acknowledged_while_a_long_read_is_in_flight),
        cmocka_unit_test_teardown(test_a_log_that_never_drains_does_not_stall_requests, stalled_server_teardown),
        cmocka_unit_test_teardown(test_lines_from_other_layers_do_not_stall_on_a_full_log, stalled_server_teardown),
        cmocka_unit_test_teardown(test_tls_alerts_do_not_stall_on_a_full_log, stalled_server_teardown),
        cmocka_unit_test(test_shutdown_with_reads_in_flight_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
