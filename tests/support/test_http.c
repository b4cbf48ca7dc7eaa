/* A raw HTTP/1.1 client and a fundflowd launcher for the integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

/* No test request waits longer than this for a reply. */
#define HTTP_REPLY_TIMEOUT_MS 20000

static int http_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int http_write_all(int fd, const void *data, size_t bytes) {
    const uint8_t *cursor = data;
    while (bytes > 0) {
        ssize_t written = send(fd, cursor, bytes, MSG_NOSIGNAL);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        cursor += written;
        bytes -= (size_t)written;
    }
    return 0;
}

/* Reads until the server closes the connection. */
static int http_read_all(int fd, uint8_t **data_out, size_t *bytes_out) {
    size_t capacity = 65536, length = 0;
    uint8_t *data = malloc(capacity + 1);
    for (;;) {
        struct pollfd wait = {.fd = fd, .events = POLLIN};
        if (poll(&wait, 1, HTTP_REPLY_TIMEOUT_MS) <= 0) break;
        if (length == capacity) data = realloc(data, (capacity *= 2) + 1);
        ssize_t got = recv(fd, data + length, capacity - length, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        length += (size_t)got;
    }
    data[length] = '\0';
    *data_out = data;
    *bytes_out = length;
    return length > 0 ? 0 : -1;
}

static int http_reply_parse(uint8_t *raw, size_t raw_bytes, http_reply *reply) {
    char *headers_end = strstr((char *)raw, "\r\n\r\n");
    if (headers_end == NULL || sscanf((char *)raw, "HTTP/1.1 %d", &reply->status) != 1) return -1;
    *headers_end = '\0';
    const char *type = strcasestr((char *)raw, "\r\nContent-Type: ");
    if (type) sscanf(type + 16, "%127[^\r]", reply->content_type);
    const char *sequence = strcasestr((char *)raw, "\r\nFundflow-Sequence: ");
    reply->sequence = sequence ? (int64_t)strtoll(sequence + 21, NULL, 10) : -1;
    size_t header_bytes = (size_t)(headers_end - (char *)raw) + 4;
    reply->body_bytes = raw_bytes - header_bytes;
    reply->body = malloc(reply->body_bytes + 1);
    memcpy(reply->body, raw + header_bytes, reply->body_bytes);
    reply->body[reply->body_bytes] = '\0';
    return 0;
}

int http_request(uint16_t port, const char *method, const char *path, const char *content_type,
                 const void *body, size_t body_bytes, const char *extra_headers,
                 http_reply *reply) {
    memset(reply, 0, sizeof *reply);
    int fd = http_connect(port);
    if (fd < 0) return -1;
    char head[2048];
    int head_bytes = snprintf(head, sizeof head,
                              "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "%s%s%sContent-Length: %zu\r\n%s\r\n",
                              method, path, content_type ? "Content-Type: " : "",
                              content_type ? content_type : "", content_type ? "\r\n" : "",
                              body_bytes, extra_headers ? extra_headers : "");
    uint8_t *raw = NULL;
    size_t raw_bytes = 0;
    int rc = http_write_all(fd, head, (size_t)head_bytes);
    if (rc == 0 && body_bytes) rc = http_write_all(fd, body, body_bytes);
    if (rc == 0) rc = http_read_all(fd, &raw, &raw_bytes);
    if (rc == 0) rc = http_reply_parse(raw, raw_bytes, reply);
    free(raw);
    close(fd);
    return rc;
}

void http_reply_free(http_reply *reply) {
    free(reply->body);
    memset(reply, 0, sizeof *reply);
}

int http_twirp_protobuf(uint16_t port, const char *rpc, const ProtobufCMessage *request,
                        http_reply *reply) {
    size_t bytes = protobuf_c_message_get_packed_size(request);
    uint8_t *packed = malloc(bytes ? bytes : 1);
    protobuf_c_message_pack(request, packed);
    char path[256];
    snprintf(path, sizeof path, "/twirp/fundflow.v1.Ledger/%s", rpc);
    int rc = http_request(port, "POST", path, "application/protobuf", packed, bytes, NULL, reply);
    free(packed);
    return rc;
}

int http_twirp_json(uint16_t port, const char *rpc, const char *json, http_reply *reply) {
    char path[256];
    snprintf(path, sizeof path, "/twirp/fundflow.v1.Ledger/%s", rpc);
    return http_request(port, "POST", path, "application/json", json, strlen(json), NULL, reply);
}

int http_twirp_json_token(uint16_t port, const char *rpc, const char *json, const char *token,
                          http_reply *reply) {
    char path[256], header[512];
    snprintf(path, sizeof path, "/twirp/fundflow.v1.Ledger/%s", rpc);
    if (token) snprintf(header, sizeof header, "Authorization: Bearer %s\r\n", token);
    return http_request(port, "POST", path, "application/json", json, strlen(json),
                        token ? header : NULL, reply);
}

int http_raw_connect(uint16_t port, const char *source_address) {
    if (source_address == NULL) return http_connect(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in source = {.sin_family = AF_INET};
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (inet_pton(AF_INET, source_address, &source.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&source, sizeof source) != 0 ||
        connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int http_raw_send(int fd, const char *text) {
    return http_write_all(fd, text, strlen(text));
}

/* Receives into data[*length..capacity), waiting at most the reply timeout; the bytes got, 0
 * at the end of the stream, -1 on an error or no data in time. */
static ssize_t http_raw_receive(int fd, uint8_t *data, size_t *length, size_t capacity) {
    for (int attempt = 0; attempt < 100; attempt++) {
        struct pollfd wait = {.fd = fd, .events = POLLIN};
        if (poll(&wait, 1, HTTP_REPLY_TIMEOUT_MS) <= 0) return -1;
        ssize_t got = recv(fd, data + *length, capacity - *length, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got > 0) *length += (size_t)got;
        return got;
    }
    return -1;
}

/* The length a reply head gives its body, or 0 if it gives none. */
static size_t http_raw_body_bytes(const char *head) {
    const char *length = strcasestr(head, "\r\nContent-Length:");
    return length ? (size_t)strtoul(length + 17, NULL, 10) : 0;
}

int http_raw_reply_read(int fd, http_reply *reply) {
    enum { RAW_REPLY_BYTES_MAX = 1 << 20 };
    memset(reply, 0, sizeof *reply);
    uint8_t *data = malloc(RAW_REPLY_BYTES_MAX + 1);
    size_t length = 0, wanted = 0;
    int rc = -1;
    while (length < RAW_REPLY_BYTES_MAX) {
        if (http_raw_receive(fd, data, &length, RAW_REPLY_BYTES_MAX) <= 0) break;
        data[length] = '\0';
        char *head_end = strstr((char *)data, "\r\n\r\n");
        if (head_end == NULL) continue;
        size_t head_bytes = (size_t)(head_end - (char *)data) + 4;
        wanted = head_bytes + http_raw_body_bytes((char *)data);
        if (length >= wanted) {
            rc = http_reply_parse(data, wanted, reply);
            break;
        }
    }
    free(data);
    return rc;
}

int http_raw_wait_closed(int fd, int timeout_ms) {
    uint8_t discard[4096];
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        struct pollfd wait = {.fd = fd, .events = POLLIN};
        int ready = poll(&wait, 1, 10);
        if (ready < 0 && errno != EINTR) return -1;
        if (ready <= 0) continue;
        ssize_t got = recv(fd, discard, sizeof discard, 0);
        if (got == 0 || (got < 0 && errno == ECONNRESET)) return 0;
    }
    return -1;
}

/* How long a server may take to print its "listening on" line, or to exit after SIGTERM. Generous
 * because sanitizer builds on a loaded machine are slow; the waits end as soon as the server is
 * ready or gone. Polls are bounded in count as well as in time. */
#define TEST_SERVER_WAIT_MS 60000
#define TEST_SERVER_POLL_MS 10

static int64_t test_server_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void test_server_path(const test_server *server, const char *name, char *path,
                             size_t path_bytes) {
    snprintf(path, path_bytes, "%s/%s", server->directory, name);
}

/* In the child: stdout and stderr go to server.out and server.log, which the parent created
 * empty before the fork, so only this server's lines are ever in them. A file rather than a
 * pipe: nothing the server writes later can meet a closed reader. */
static void test_server_exec(const char *binary, const test_server *server, bool with_config) {
    char out_path[4200], log_path[4200], config_path[4200];
    test_server_path(server, "server.out", out_path, sizeof out_path);
    test_server_path(server, "server.log", log_path, sizeof log_path);
    test_server_path(server, "config", config_path, sizeof config_path);
    int out_fd = open(out_path, O_WRONLY | O_APPEND);
    int log_fd = open(log_path, O_WRONLY | O_APPEND);
    if (out_fd < 0 || log_fd < 0) _exit(126);
    dup2(out_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    if (with_config) {
        execl(binary, binary, "--listen", "127.0.0.1:0", "--data-dir", server->data_dir,
              "--config", config_path, (char *)NULL);
    } else {
        execl(binary, binary, "--listen", "127.0.0.1:0", "--data-dir", server->data_dir,
              (char *)NULL);
    }
    _exit(127);
}

/* Creates (or empties) one of the server's output files. */
static void test_server_file_create(const test_server *server, const char *name) {
    char path[4200];
    test_server_path(server, name, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
}

/* Prints what the server wrote, for a failure message. */
static void test_server_dump(const test_server *server, const char *name) {
    char path[4200], text[8192];
    test_server_path(server, name, path, sizeof path);
    FILE *file = fopen(path, "r");
    fprintf(stderr, "---- %s ----\n", path);
    if (file == NULL) return;
    size_t got;
    while ((got = fread(text, 1, sizeof text, file)) > 0) fwrite(text, 1, got, stderr);
    fclose(file);
    fprintf(stderr, "---- end of %s ----\n", name);
}

/* The port from a whole "listening on 127.0.0.1:PORT\n" line in server.out; 0 if none yet. A
 * line without its newline may still be being written, so it does not count. */
static uint16_t test_server_port_find(const test_server *server) {
    char path[4200], line[512];
    test_server_path(server, "server.out", path, sizeof path);
    FILE *file = fopen(path, "r");
    if (file == NULL) return 0;
    unsigned port = 0;
    while (port == 0 && fgets(line, sizeof line, file) != NULL) {
        size_t length = strlen(line);
        if (length == 0 || line[length - 1] != '\n') break;
        char end = '\0';
        if (sscanf(line, "listening on 127.0.0.1:%u%c", &port, &end) != 2 || end != '\n' ||
            port == 0 || port > 65535) {
            port = 0;
        }
    }
    fclose(file);
    return (uint16_t)port;
}

/* Waits for this server's "listening on" line; fails the test, with the server's output, if the
 * server exits first or the line does not come within TEST_SERVER_WAIT_MS. */
static uint16_t test_server_port_wait(test_server *server) {
    int64_t deadline = test_server_now_ms() + TEST_SERVER_WAIT_MS;
    for (int poll_count = 0; poll_count < TEST_SERVER_WAIT_MS / TEST_SERVER_POLL_MS;
         poll_count++) {
        uint16_t port = test_server_port_find(server);
        if (port != 0) return port;
        int status = 0;
        if (waitpid(server->pid, &status, WNOHANG) == server->pid) {
            server->pid = 0;
            test_server_dump(server, "server.out");
            test_server_dump(server, "server.log");
            fail_msg("fundflowd exited (%s %d) before printing \"listening on\"",
                     WIFEXITED(status) ? "status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
        if (test_server_now_ms() > deadline) break;
        usleep(TEST_SERVER_POLL_MS * 1000);
    }
    test_server_dump(server, "server.out");
    test_server_dump(server, "server.log");
    kill(server->pid, SIGKILL);
    waitpid(server->pid, NULL, 0);
    server->pid = 0;
    fail_msg("fundflowd printed no \"listening on\" line within %d ms", TEST_SERVER_WAIT_MS);
    return 0;
}

void test_server_start(const char *binary, const char *config_text, test_server *server) {
    memset(server, 0, sizeof *server);
    server->directory = test_dir_make();
    snprintf(server->data_dir, sizeof server->data_dir, "%s/data", server->directory);
    if (config_text) {
        char path[4200];
        test_server_path(server, "config", path, sizeof path);
        FILE *file = fopen(path, "w");
        assert_non_null(file);
        fputs(config_text, file);
        fclose(file);
    }
    test_server_file_create(server, "server.out");
    test_server_file_create(server, "server.log");
    fflush(NULL); /* nothing buffered in the parent is written twice by the child */
    server->pid = fork();
    assert_true(server->pid >= 0);
    if (server->pid == 0) test_server_exec(binary, server, config_text != NULL);
    server->port = test_server_port_wait(server);
}

int test_server_stop(test_server *server) {
    if (server->pid <= 0) return -1;
    kill(server->pid, SIGTERM);
    return test_server_wait(server);
}

int test_server_wait(test_server *server) {
    if (server->pid <= 0) return -1;
    int status = 0;
    int64_t deadline = test_server_now_ms() + TEST_SERVER_WAIT_MS;
    for (int poll_count = 0; poll_count < TEST_SERVER_WAIT_MS / TEST_SERVER_POLL_MS;
         poll_count++) {
        pid_t reaped = waitpid(server->pid, &status, WNOHANG);
        if (reaped == server->pid || (reaped < 0 && errno != EINTR)) {
            server->pid = 0;
            if (reaped < 0) return -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (test_server_now_ms() > deadline) break;
        usleep(TEST_SERVER_POLL_MS * 1000);
    }
    fprintf(stderr, "fundflowd (pid %d) did not exit within %d ms of SIGTERM\n", (int)server->pid,
            TEST_SERVER_WAIT_MS);
    test_server_dump(server, "server.log");
    kill(server->pid, SIGKILL);
    waitpid(server->pid, &status, 0);
    server->pid = 0;
    return -1;
}

void test_server_cleanup(test_server *server) {
    if (server->pid > 0) test_server_stop(server);
    test_dir_remove(server->directory);
    server->directory = NULL;
}

int test_server_watch_send(uint16_t port, uint64_t after, uint32_t wait_ms) {
    char body[128], request[512];
    int body_bytes = snprintf(body, sizeof body, "{\"after_sequence\":%llu,\"wait_ms\":%u}",
                              (unsigned long long)after, wait_ms);
    snprintf(request, sizeof request,
             "POST /twirp/fundflow.v1.Ledger/WatchEvents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
             body_bytes, body);
    int fd = http_raw_connect(port, NULL);
    assert_true(fd >= 0);
    assert_int_equal(http_raw_send(fd, request), 0);
    return fd;
}

uint64_t test_server_head(uint16_t port) {
    Fundflow__V1__ServerInfoRequest request = FUNDFLOW__V1__SERVER_INFO_REQUEST__INIT;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "ServerInfo", &request.base, &reply), 0);
    assert_int_equal(reply.status, 200);
    Fundflow__V1__ServerInfoResponse *info =
        fundflow__v1__server_info_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(info);
    uint64_t head = info->head_sequence;
    fundflow__v1__server_info_response__free_unpacked(info, NULL);
    http_reply_free(&reply);
    return head;
}

void test_server_submit_json(uint16_t port, const char *json) {
    http_reply reply;
    assert_int_equal(http_twirp_json(port, "SubmitCommands", json, &reply), 0);
    if (reply.status != 200) fail_msg("status %d: %s", reply.status, reply.body);
    http_reply_free(&reply);
}

void test_server_world_load(uint16_t port) {
    test_server_submit_json(
        port, "{\"linked\":true,\"commands\":["
              "{\"idempotency_key\":\"w1\",\"effective_date\":20240401,\"event\":"
              "{\"org_registered\":{\"code\":\"X24\",\"name\":\"NHS England\","
              "\"kind\":\"NHSE\"}}},"
              "{\"idempotency_key\":\"w2\",\"effective_date\":20240401,\"event\":"
              "{\"org_registered\":{\"code\":\"QUE\",\"name\":\"NHS Cambridgeshire and "
              "Peterborough ICB\",\"kind\":3,\"parent_code\":\"X24\"}}},"
              "{\"idempotency_key\":\"w3\",\"effective_date\":20240401,\"event\":"
              "{\"revenue_limit_set\":{\"funder_code\":\"X24\",\"stream\":\"CORE_SERVICES\","
              "\"financial_year\":2024,\"limit_pence\":\"1000000\"}}}]}");
}

uint64_t test_server_allocate(uint16_t port, const char *key, int64_t amount_pence) {
    Fundflow__V1__Command *command = test_allocation(
        key, "X24", "QUE", FUNDFLOW__V1__STREAM__CORE_SERVICES, TEST_YEAR, amount_pence);
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = &command;
    request.n_commands = 1;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(port, "SubmitCommands", &request.base, &reply), 0);
    if (reply.status != 200) fail_msg("SubmitCommands: status %d: %s", reply.status, reply.body);
    Fundflow__V1__SubmitCommandsResponse *response =
        fundflow__v1__submit_commands_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(response);
    assert_string_equal(response->results[0]->code, "ok");
    uint64_t sequence = response->results[0]->sequence;
    fundflow__v1__submit_commands_response__free_unpacked(response, NULL);
    http_reply_free(&reply);
    test_command_free(command);
    return sequence;
}

uint64_t test_server_metric(uint16_t port, const char *name) {
    http_reply reply;
    assert_int_equal(http_request(port, "GET", "/metrics", NULL, NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 200);
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\n%s ", name);
    const char *line = strstr((const char *)reply.body, pattern);
    uint64_t value = line ? strtoull(line + strlen(pattern), NULL, 10) : UINT64_MAX;
    http_reply_free(&reply);
    return value;
}

void test_server_metric_await(uint16_t port, const char *name, uint64_t wanted) {
    enum { METRIC_POLL_MS = 10, METRIC_POLL_COUNT_MAX = 1000 };
    uint64_t value = UINT64_MAX;
    for (int i = 0; i < METRIC_POLL_COUNT_MAX; i++) {
        value = test_server_metric(port, name);
        if (value == wanted) return;
        usleep(METRIC_POLL_MS * 1000);
    }
    fail_msg("%s stayed %llu, never %llu", name, (unsigned long long)value,
             (unsigned long long)wanted);
}
