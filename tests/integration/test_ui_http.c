/* Integration tests of the web view's static files: a real fundflowd on 127.0.0.1:0 serving a
 * fresh UI directory, driven over raw sockets. Content types, caching (ETag, 304), HEAD, 404s,
 * 405, redirects, the security headers, path traversal of every kind, no UI directory, and a
 * UI directory that will not do refused at start. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/limits.h"

#define UI_TOKEN "ui-test-token"
#define UI_CSP                                                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "           \
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "                 \
    "frame-ancestors 'none'; form-action 'self'"

/* What sits beside the UI directory, where a path that escaped it would land. */
#define OUTSIDE_SECRET "SECRET-LEDGER-BYTES"

/* No reply takes longer than this on however loaded a machine; reads end as soon as it comes. */
#define REPLY_WAIT_MS 20000
#define RESPONSE_BYTES_MAX (1 << 20)

static const char *fundflowd_path;

/* ---- a raw HTTP exchange that keeps the whole head ---- */

typedef struct response {
    int status;
    char head[8192]; /* the status line and headers, without the blank line */
    char *body;      /* NUL-terminated */
    size_t body_bytes;
} response;

static void response_free(response *reply) {
    free(reply->body);
    memset(reply, 0, sizeof *reply);
}

/* The value of header name in the head, copied into value; false if the head has none. */
static bool response_header(const response *reply, const char *name, char *value,
                            size_t value_bytes) {
    char wanted[128];
    snprintf(wanted, sizeof wanted, "\r\n%s:", name);
    const char *found = strcasestr(reply->head, wanted);
    if (found == NULL) return false;
    found += strlen(wanted);
    found += strspn(found, " ");
    size_t length = strcspn(found, "\r");
    if (length >= value_bytes) length = value_bytes - 1;
    memcpy(value, found, length);
    value[length] = '\0';
    return true;
}

static void assert_header(const response *reply, const char *name, const char *expected) {
    char value[1024];
    if (!response_header(reply, name, value, sizeof value)) {
        fail_msg("no %s header in:\n%s", name, reply->head);
    }
    if (strcmp(value, expected) != 0) fail_msg("%s is '%s', expected '%s'", name, value, expected);
}

/* Reads into buffer until it holds at least wanted bytes or the peer closes; the length. */
static size_t receive_at_least(int fd, char *buffer, size_t length, size_t wanted) {
    while (length < wanted && length < RESPONSE_BYTES_MAX) {
        struct pollfd wait = {.fd = fd, .events = POLLIN};
        if (poll(&wait, 1, REPLY_WAIT_MS) <= 0) break;
        ssize_t got = recv(fd, buffer + length, RESPONSE_BYTES_MAX - length, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        length += (size_t)got;
        buffer[length] = '\0';
    }
    return length;
}

/* Sends one request on fd and reads its one reply: the head, then as many body bytes as its
 * Content-Length gives, none for HEAD or a 304. The connection stays open. */
static void exchange(int fd, const char *method, const char *path, const char *extra_headers,
                     response *reply) {
    memset(reply, 0, sizeof *reply);
    char request[4096];
    snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
             extra_headers ? extra_headers : "");
    assert_int_equal(http_raw_send(fd, request), 0);
    char *buffer = calloc(1, RESPONSE_BYTES_MAX + 1);
    size_t length = 0;
    char *head_end = NULL;
    while (head_end == NULL) {
        size_t before = length;
        length = receive_at_least(fd, buffer, length, length + 1);
        if (length == before) fail_msg("no reply head to %s %s", method, path);
        head_end = strstr(buffer, "\r\n\r\n");
    }
    size_t head_bytes = (size_t)(head_end - buffer);
    assert_true(head_bytes < sizeof reply->head);
    memcpy(reply->head, buffer, head_bytes);
    assert_int_equal(sscanf(reply->head, "HTTP/1.1 %d", &reply->status), 1);
    char length_text[32] = "0";
    response_header(reply, "Content-Length", length_text, sizeof length_text);
    bool bodiless = strcmp(method, "HEAD") == 0 || reply->status == 304;
    size_t body_bytes = bodiless ? 0 : strtoul(length_text, NULL, 10);
    length = receive_at_least(fd, buffer, length, head_bytes + 4 + body_bytes);
    assert_true(length >= head_bytes + 4 + body_bytes);
    /* Nothing may follow a bodiless reply's head but the next reply. */
    assert_int_equal(length, head_bytes + 4 + body_bytes);
    reply->body = malloc(body_bytes + 1);
    memcpy(reply->body, head_end + 4, body_bytes);
    reply->body[body_bytes] = '\0';
    reply->body_bytes = body_bytes;
    free(buffer);
}

/* One request on a connection of its own. */
static void fetch(uint16_t port, const char *method, const char *path,
                  const char *extra_headers, response *reply) {
    int fd = http_raw_connect(port, NULL);
    assert_true(fd >= 0);
    exchange(fd, method, path, extra_headers, reply);
    close(fd);
}

/* A whole file as a NUL-terminated string, malloc'd. */
static char *text_file_read(const char *path) {
    FILE *file = fopen(path, "r");
    if (file == NULL) fail_msg("cannot read %s", path);
    char *text = calloc(1, RESPONSE_BYTES_MAX + 1);
    size_t got = fread(text, 1, RESPONSE_BYTES_MAX, file);
    text[got] = '\0';
    fclose(file);
    return text;
}

/* Whether the file holds text, looking again every 10 ms, at most 6,000 times (a minute): for a
 * line the server's log thread writes out after the request that caused it is answered. */
static bool log_holds_soon(const char *path, const char *text) {
    for (int polls = 0; polls < 6000; polls++) {
        char *log = text_file_read(path);
        bool found = strstr(log, text) != NULL;
        free(log);
        if (found) return true;
        usleep(10000);
    }
    return false;
}

/* ---- the UI directory ---- */

typedef struct ui_fixture {
    char *root;     /* scratch: ui/ and what lies outside it */
    char ui[4200];  /* the UI directory */
    char config[4400];
    test_server server;
} ui_fixture;

typedef struct ui_file {
    const char *name;
    const char *content;
    const char *type;
} ui_file;

/* A file of each kind the table knows, one it does not, and folders' index files. */
static const ui_file ui_files[] = {
    {"index.html", "<!doctype html><title>fundflow</title>\n", "text/html; charset=utf-8"},
    {"app.js", "export const answer = 42;\n", "text/javascript; charset=utf-8"},
    {"pages.mjs", "export default 1;\n", "text/javascript; charset=utf-8"},
    {"style.css", "body { margin: 0; }\n", "text/css; charset=utf-8"},
    {"logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", "image/svg+xml"},
    {"logo.png", "\x89PNG fake", "image/png"},
    {"favicon.ico", "ICO fake", "image/x-icon"},
    {"font.woff2", "wOF2 fake", "font/woff2"},
    {"font.woff", "wOFF fake", "font/woff"},
    {"data.json", "{\"a\":1}\n", "application/json"},
    {"app.js.map", "{\"version\":3}\n", "application/json"},
    {"notes.txt", "plain words\n", "text/plain; charset=utf-8"},
    {"UPPER.CSS", "p {}\n", "text/css; charset=utf-8"},
    {"blob.bin", "unknown bytes", "application/octet-stream"},
    {"README", "no extension", "application/octet-stream"},
    {"sub/index.html", "<p>sub</p>\n", "text/html; charset=utf-8"},
    {"sub/deeper/page.html", "<p>deeper</p>\n", "text/html; charset=utf-8"},
};
#define UI_FILE_COUNT (sizeof ui_files / sizeof ui_files[0])

static void file_write(const char *directory, const char *name, const char *content) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(content, file);
    assert_int_equal(fclose(file), 0);
}

static void link_make(const char *directory, const char *name, const char *target) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    assert_int_equal(symlink(target, path), 0);
}

/* root/ui holds ui_files, a FIFO, a hidden file, one with a backslash, and symbolic links: to a
 * file outside, to the folder above, to a folder outside by full path, and to a file inside.
 * root/data.mdb and root/secret.txt hold OUTSIDE_SECRET, where an escaped path would land. */
static void ui_tree_make(ui_fixture *fixture) {
    fixture->root = test_dir_make();
    snprintf(fixture->ui, sizeof fixture->ui, "%s/ui", fixture->root);
    char sub[4400], deeper[4400], fifo[4400];
    snprintf(sub, sizeof sub, "%s/sub", fixture->ui);
    snprintf(deeper, sizeof deeper, "%s/sub/deeper", fixture->ui);
    assert_int_equal(mkdir(fixture->ui, 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(deeper, 0755), 0);
    for (size_t i = 0; i < UI_FILE_COUNT; i++) {
        file_write(fixture->ui, ui_files[i].name, ui_files[i].content);
    }
    file_write(fixture->ui, ".hidden", OUTSIDE_SECRET);
    /* A name with a backslash is refused even where such a file exists. */
    file_write(fixture->ui, "back\\slash.txt", OUTSIDE_SECRET);
    file_write(fixture->root, "data.mdb", OUTSIDE_SECRET);
    file_write(fixture->root, "secret.txt", OUTSIDE_SECRET);
    link_make(fixture->ui, "link.txt", "../secret.txt");
    link_make(fixture->ui, "absolute.txt", fixture->root); /* a folder outside, by full path */
    link_make(fixture->ui, "up", "..");
    link_make(fixture->ui, "alias.js", "app.js");
    snprintf(fifo, sizeof fifo, "%s/fifo", fixture->ui);
    assert_int_equal(mkfifo(fifo, 0644), 0);
}

/* Starts fundflowd with the UI directory, and admin_token set so that Twirp needs a token. */
static void ui_server_start(ui_fixture *fixture) {
    snprintf(fixture->config, sizeof fixture->config, "admin_token = " UI_TOKEN "\nui_dir = %s\n",
             fixture->ui);
    test_server_start(fundflowd_path, fixture->config, &fixture->server);
}

static int ui_setup(void **state) {
    ui_fixture *fixture = calloc(1, sizeof *fixture);
    ui_tree_make(fixture);
    ui_server_start(fixture);
    *state = fixture;
    return 0;
}

static int ui_teardown(void **state) {
    ui_fixture *fixture = *state;
    assert_int_equal(test_server_stop(&fixture->server), 0);
    test_server_cleanup(&fixture->server);
    test_dir_remove(fixture->root);
    free(fixture);
    return 0;
}

static void assert_security_headers(const response *reply) {
    assert_header(reply, "Content-Security-Policy", UI_CSP);
    assert_header(reply, "X-Content-Type-Options", "nosniff");
    assert_header(reply, "Referrer-Policy", "no-referrer");
    assert_header(reply, "Cache-Control", "no-cache");
}

/* A 404 for a file the web view does not have, and never a byte from outside. */
static void assert_not_found(uint16_t port, const char *path) {
    response reply;
    fetch(port, "GET", path, NULL, &reply);
    if (reply.status != 404) fail_msg("%s: status %d, expected 404", path, reply.status);
    assert_header(&reply, "Content-Type", "text/plain; charset=utf-8");
    assert_string_equal(reply.body, "Not found: the web view has no file at this address.\n");
    assert_security_headers(&reply);
    assert_null(strstr(reply.body, OUTSIDE_SECRET));
    response_free(&reply);
}

/* ---- files ---- */

static void test_every_file_is_served_with_its_content_type_and_headers(void **state) {
    ui_fixture *fixture = *state;
    for (size_t i = 0; i < UI_FILE_COUNT; i++) {
        char path[256];
        snprintf(path, sizeof path, "/ui/%s", ui_files[i].name);
        response reply;
        fetch(fixture->server.port, "GET", path, NULL, &reply);
        if (reply.status != 200) fail_msg("%s: status %d: %s", path, reply.status, reply.body);
        assert_header(&reply, "Content-Type", ui_files[i].type);
        assert_int_equal(reply.body_bytes, strlen(ui_files[i].content));
        assert_memory_equal(reply.body, ui_files[i].content, reply.body_bytes);
        assert_security_headers(&reply);
        char etag[128];
        assert_true(response_header(&reply, "ETag", etag, sizeof etag));
        assert_int_equal(etag[0], '"');
        response_free(&reply);
    }
}

static void test_a_folder_serves_its_index_and_the_root_redirects(void **state) {
    ui_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    response reply;
    fetch(port, "GET", "/ui/", NULL, &reply);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, ui_files[0].content);
    assert_header(&reply, "Content-Type", "text/html; charset=utf-8");
    response_free(&reply);
    fetch(port, "GET", "/ui/sub/", NULL, &reply);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "<p>sub</p>\n");
    response_free(&reply);
    /* A query string does not change the file. */
    fetch(port, "GET", "/ui/app.js?v=../../data.mdb", NULL, &reply);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "export const answer = 42;\n");
    response_free(&reply);
    const char *redirected[][2] = {{"GET", "/"}, {"GET", "/ui"}, {"HEAD", "/"}, {"HEAD", "/ui"}};
    for (size_t i = 0; i < sizeof redirected / sizeof redirected[0]; i++) {
        fetch(port, redirected[i][0], redirected[i][1], NULL, &reply);
        assert_int_equal(reply.status, 302);
        assert_header(&reply, "Location", "/ui/");
        assert_security_headers(&reply);
        response_free(&reply);
    }
}

/* ---- caching ---- */

static void assert_status_with(uint16_t port, const char *if_none_match, int status) {
    char header[512];
    snprintf(header, sizeof header, "If-None-Match: %s\r\n", if_none_match);
    response reply;
    fetch(port, "GET", "/ui/app.js", header, &reply);
    if (reply.status != status) {
        fail_msg("If-None-Match %s: status %d, expected %d", if_none_match, reply.status, status);
    }
    response_free(&reply);
}

static void etag_of(uint16_t port, const char *path, char *etag, size_t etag_bytes) {
    response reply;
    fetch(port, "GET", path, NULL, &reply);
    assert_int_equal(reply.status, 200);
    assert_true(response_header(&reply, "ETag", etag, etag_bytes));
    response_free(&reply);
}

static void test_a_current_copy_is_answered_304_and_a_changed_file_200(void **state) {
    ui_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    char etag[128], list[512], weak[256];
    etag_of(port, "/ui/app.js", etag, sizeof etag);
    /* The same ETag twice: it depends on the file, not on the request. */
    char again[128];
    etag_of(port, "/ui/app.js", again, sizeof again);
    assert_string_equal(etag, again);
    response reply;
    char header[512];
    snprintf(header, sizeof header, "If-None-Match: %s\r\n", etag);
    fetch(port, "GET", "/ui/app.js", header, &reply);
    assert_int_equal(reply.status, 304);
    assert_int_equal(reply.body_bytes, 0);
    assert_header(&reply, "ETag", etag);
    assert_security_headers(&reply);
    response_free(&reply);
    snprintf(list, sizeof list, "\"other\", %s", etag);
    snprintf(weak, sizeof weak, "W/%s", etag);
    assert_status_with(port, list, 304);
    assert_status_with(port, weak, 304);
    assert_status_with(port, "*", 304);
    assert_status_with(port, "\"other\"", 200);
    /* Another file's ETag is not this one's. */
    char other[128];
    etag_of(port, "/ui/notes.txt", other, sizeof other);
    assert_string_not_equal(etag, other);
    assert_status_with(port, other, 200);
    /* Rewritten with the same size and its old modification time put back, as npm leaves every
     * file it unpacks: the change time still moves, so the ETag does. */
    char path[4400];
    struct stat before;
    snprintf(path, sizeof path, "%s/app.js", fixture->ui);
    assert_int_equal(stat(path, &before), 0);
    file_write(fixture->ui, "app.js", "export const answer = 43;\n");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    assert_status_with(port, etag, 200);
    fetch(port, "GET", "/ui/app.js", NULL, &reply);
    assert_string_equal(reply.body, "export const answer = 43;\n");
    response_free(&reply);
}

/* ---- HEAD, methods, keep-alive ---- */

static void test_head_gives_the_headers_of_get_without_the_body(void **state) {
    ui_fixture *fixture = *state;
    int fd = http_raw_connect(fixture->server.port, NULL);
    assert_true(fd >= 0);
    /* On one kept-alive connection: a HEAD reply carries no body, so the next reply follows
     * its head directly (exchange asserts nothing else came). */
    response head, get;
    exchange(fd, "HEAD", "/ui/style.css", NULL, &head);
    exchange(fd, "GET", "/ui/style.css", NULL, &get);
    assert_int_equal(head.status, 200);
    assert_int_equal(head.body_bytes, 0);
    assert_header(&head, "Content-Type", "text/css; charset=utf-8");
    assert_header(&head, "Content-Length", "20"); /* "body { margin: 0; }\n" */
    assert_security_headers(&head);
    char head_etag[128], get_etag[128];
    assert_true(response_header(&head, "ETag", head_etag, sizeof head_etag));
    assert_true(response_header(&get, "ETag", get_etag, sizeof get_etag));
    assert_string_equal(head_etag, get_etag);
    assert_string_equal(get.body, "body { margin: 0; }\n");
    response_free(&head);
    response_free(&get);
    /* A 404 to HEAD has no body either, and says how long the GET's would be. */
    exchange(fd, "HEAD", "/ui/missing.js", NULL, &head);
    assert_int_equal(head.status, 404);
    assert_header(&head, "Content-Length", "53");
    response_free(&head);
    exchange(fd, "GET", "/ui/notes.txt", NULL, &get);
    assert_string_equal(get.body, "plain words\n");
    response_free(&get);
    close(fd);
}

static void test_other_methods_are_refused_with_allow(void **state) {
    ui_fixture *fixture = *state;
    const char *refused[][2] = {{"POST", "/ui/app.js"}, {"PUT", "/ui/new.js"},
                                {"DELETE", "/ui/index.html"}, {"OPTIONS", "/ui/"},
                                {"PATCH", "/ui/app.js"}, {"POST", "/"}, {"POST", "/ui"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        response reply;
        fetch(fixture->server.port, refused[i][0], refused[i][1], "Content-Length: 0\r\n",
              &reply);
        if (reply.status != 405) {
            fail_msg("%s %s: status %d", refused[i][0], refused[i][1], reply.status);
        }
        assert_header(&reply, "Allow", "GET, HEAD");
        assert_security_headers(&reply);
        response_free(&reply);
    }
    /* Nothing was written or deleted. */
    char path[4400];
    snprintf(path, sizeof path, "%s/new.js", fixture->ui);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/index.html", fixture->ui);
    assert_int_equal(access(path, F_OK), 0);
}

/* ---- what is not served ---- */

static void test_unknown_files_folders_and_special_files_are_404(void **state) {
    ui_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    assert_not_found(port, "/ui/missing.html");
    assert_not_found(port, "/ui/sub/missing.js");
    assert_not_found(port, "/ui/sub");         /* a folder without its trailing '/' */
    assert_not_found(port, "/ui/sub/deeper/"); /* a folder without index.html */
    assert_not_found(port, "/ui/fifo");        /* answered at once: the open does not block */
    assert_not_found(port, "/ui/.hidden");
    assert_not_found(port, "/ui/app.js/");     /* a file is no folder */
}

static void test_no_path_reaches_outside_the_directory(void **state) {
    ui_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    static const char *const escapes[] = {
        "/ui/../data.mdb",
        "/ui/%2e%2e/data.mdb",
        "/ui/%2E%2E/data.mdb",
        "/ui/.%2e/data.mdb",
        "/ui/..%2fdata.mdb",
        "/ui/..%2Fsecret.txt",
        "/ui/%2e%2e%2fsecret.txt",
        "/ui/sub/../../data.mdb",
        "/ui/sub/%2e%2e/%2e%2e/data.mdb",
        "/ui/./index.html",
        "/ui/..\\data.mdb",
        "/ui/..%5cdata.mdb",
        "/ui/%5c..%5cdata.mdb",
        "/ui/back%5cslash.txt",
        "/ui/index.html%00.png",
        "/ui/%00",
        "/ui/%",
        "/ui/%2",
        "/ui/%zz",
        "/ui//etc/passwd",
        "/ui/%2fetc%2fpasswd",
        "/ui/sub//index.html",
        "/ui/link.txt",            /* a symbolic link to a file outside */
        "/ui/up/data.mdb",         /* a symbolic link to the folder above */
        "/ui/up/ui/index.html",
        "/ui/absolute.txt/data.mdb", /* a symbolic link by full path */
        "/ui/alias.js",            /* no symbolic link is followed, even one inside */
        "/ui/%0a",
    };
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        assert_not_found(port, escapes[i]);
    }
    /* A path longer than the limit, made of allowed names, is refused as well. */
    char long_path[FF_UI_PATH_BYTES_MAX + 64] = "/ui/";
    while (strlen(long_path) < FF_UI_PATH_BYTES_MAX + 8) strcat(long_path, "sub/");
    strcat(long_path, "index.html");
    assert_not_found(port, long_path);
    /* The absolute form of the request target is routed by its path, and refused the same. */
    assert_not_found(port, "http://127.0.0.1/ui/../data.mdb");
}

static void test_a_file_over_the_limit_is_refused_and_logged(void **state) {
    ui_fixture *fixture = *state;
    char path[4400];
    snprintf(path, sizeof path, "%s/huge.js", fixture->ui);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    /* A sparse file one byte past the limit: nothing is written to disk. */
    assert_int_equal(ftruncate(fd, (off_t)FF_UI_FILE_BYTES_MAX + 1), 0);
    close(fd);
    response reply;
    fetch(fixture->server.port, "GET", "/ui/huge.js", NULL, &reply);
    assert_int_equal(reply.status, 500);
    assert_header(&reply, "Content-Type", "text/plain; charset=utf-8");
    assert_true(reply.body_bytes < 200);
    response_free(&reply);
    /* At the limit it is served. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)FF_UI_FILE_BYTES_MAX), 0);
    close(fd);
    int connection = http_raw_connect(fixture->server.port, NULL);
    assert_true(connection >= 0);
    exchange(connection, "HEAD", "/ui/huge.js", NULL, &reply);
    assert_int_equal(reply.status, 200);
    char length[32];
    snprintf(length, sizeof length, "%u", FF_UI_FILE_BYTES_MAX);
    assert_header(&reply, "Content-Length", length);
    response_free(&reply);
    close(connection);
    char log_path[4400];
    snprintf(log_path, sizeof log_path, "%s/server.log", fixture->server.directory);
    /* The line goes through the server's log sink, whose thread writes it out a moment later. */
    assert_true(log_holds_soon(log_path,
                               "msg=\"web view file over the size limit\" path=\"huge.js\""));
}

/* ---- the rest of the server ---- */

static void test_the_api_is_unchanged_and_still_needs_its_token(void **state) {
    ui_fixture *fixture = *state;
    uint16_t port = fixture->server.port;
    http_reply reply;
    /* The files needed no token above; the API still does. */
    assert_int_equal(http_twirp_json_token(port, "ServerInfo", "{}", NULL, &reply), 0);
    assert_int_equal(reply.status, 401);
    http_reply_free(&reply);
    assert_int_equal(http_twirp_json_token(port, "ServerInfo", "{}", UI_TOKEN, &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "application/json");
    http_reply_free(&reply);
    assert_int_equal(http_request(port, "GET", "/twirp/fundflow.v1.Ledger/ServerInfo", NULL,
                                  NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 404);
    assert_non_null(strstr((char *)reply.body, "\"bad_route\""));
    http_reply_free(&reply);
    /* Outside / and /ui/ nothing changed: a path near the web view's is Twirp's bad_route. */
    assert_int_equal(http_request(port, "GET", "/uix", NULL, NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 404);
    assert_non_null(strstr((char *)reply.body, "\"bad_route\""));
    http_reply_free(&reply);
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, NULL, &reply), 0);
    assert_int_equal(reply.status, 200);
    http_reply_free(&reply);
    /* The web view's requests are counted with the rest, under method "other". */
    response file;
    fetch(port, "GET", "/ui/missing.css", NULL, &file);
    response_free(&file);
    assert_int_equal(http_request(port, "GET", "/metrics", NULL, NULL, 0, NULL, &reply), 0);
    assert_non_null(strstr((char *)reply.body,
                           "fundflow_requests_total{method=\"other\",code=\"not_found\"}"));
    http_reply_free(&reply);
}

static void test_the_start_names_the_web_view_url(void **state) {
    ui_fixture *fixture = *state;
    char out_path[4400], expected[128];
    snprintf(out_path, sizeof out_path, "%s/server.out", fixture->server.directory);
    snprintf(expected, sizeof expected,
             "listening on 127.0.0.1:%u\nweb view: http://127.0.0.1:%u/ui/\n",
             fixture->server.port, fixture->server.port);
    char *out = text_file_read(out_path);
    assert_string_equal(out, expected);
    free(out);
}

/* ---- without a UI directory ---- */

static void test_without_a_ui_directory_the_view_says_how_to_enable_it(void **state) {
    (void)state;
    struct stat status;
    /* The installed UI is the default; where one is installed this case cannot arise. */
    if (stat(FUNDFLOW_UI_DIR_DEFAULT, &status) == 0) skip();
    test_server server;
    test_server_start(fundflowd_path, NULL, &server);
    response reply;
    fetch(server.port, "GET", "/ui/", NULL, &reply);
    assert_int_equal(reply.status, 404);
    assert_header(&reply, "Content-Type", "text/plain; charset=utf-8");
    assert_non_null(strstr(reply.body, "The web view is not installed on this server."));
    assert_non_null(strstr(reply.body, "--ui-dir DIR"));
    assert_non_null(strstr(reply.body, FUNDFLOW_UI_DIR_DEFAULT));
    assert_security_headers(&reply);
    response_free(&reply);
    fetch(server.port, "GET", "/ui/../data/data.mdb", NULL, &reply);
    assert_int_equal(reply.status, 404);
    response_free(&reply);
    fetch(server.port, "GET", "/", NULL, &reply);
    assert_int_equal(reply.status, 302);
    response_free(&reply);
    /* No web view line at start. */
    char out_path[4400];
    snprintf(out_path, sizeof out_path, "%s/server.out", server.directory);
    char *out = text_file_read(out_path);
    assert_null(strstr(out, "web view"));
    free(out);
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
}

/* Runs fundflowd with these arguments after --data-dir, expecting it to refuse to start: its
 * exit status, and its stderr in error. */
static int fundflowd_refusal(const char *scratch, const char *const *arguments, char *error,
                             size_t error_bytes) {
    char data_dir[4400], error_path[4400];
    snprintf(data_dir, sizeof data_dir, "%s/data", scratch);
    snprintf(error_path, sizeof error_path, "%s/refusal.err", scratch);
    const char *argv[16] = {fundflowd_path, "--listen", "127.0.0.1:0", "--data-dir", data_dir};
    size_t count = 5;
    for (size_t i = 0; arguments[i] != NULL && count < 15; i++) argv[count++] = arguments[i];
    argv[count] = NULL;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd = open(error_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) _exit(126);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execv(fundflowd_path, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    char *text = text_file_read(error_path);
    snprintf(error, error_bytes, "%s", text);
    free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_a_ui_directory_that_will_not_do_is_refused_at_start(void **state) {
    (void)state;
    char *scratch = test_dir_make();
    char missing[4400], file[4400], config[4400], error[8192];
    snprintf(missing, sizeof missing, "%s/no-such-ui", scratch);
    snprintf(file, sizeof file, "%s/plain-file", scratch);
    file_write(scratch, "plain-file", "not a folder\n");
    char expected[16384];
    const char *missing_flag[] = {"--ui-dir", missing, NULL};
    assert_int_equal(fundflowd_refusal(scratch, missing_flag, error, sizeof error), 2);
    snprintf(expected, sizeof expected,
             "fundflowd: --ui-dir: the UI directory %s cannot be used: No such file or "
             "directory\n", missing);
    assert_string_equal(error, expected);
    const char *file_flag[] = {"--ui-dir", file, NULL};
    assert_int_equal(fundflowd_refusal(scratch, file_flag, error, sizeof error), 2);
    snprintf(expected, sizeof expected,
             "fundflowd: --ui-dir: the UI directory %s is not a directory\n", file);
    assert_string_equal(error, expected);
    /* In the configuration file, the file and line are named. */
    char line[4500];
    snprintf(line, sizeof line, "# the web view\nui_dir = %s\n", missing);
    file_write(scratch, "config", line);
    snprintf(config, sizeof config, "%s/config", scratch);
    const char *config_flag[] = {"--config", config, NULL};
    assert_int_equal(fundflowd_refusal(scratch, config_flag, error, sizeof error), 2);
    snprintf(expected, sizeof expected,
             "fundflowd: %s line 2: the UI directory %s cannot be used: No such file or "
             "directory\n", config, missing);
    assert_string_equal(error, expected);
    /* Refused before the ledger is opened: no data directory was made. */
    char data_dir[4400];
    snprintf(data_dir, sizeof data_dir, "%s/data", scratch);
    assert_int_equal(access(data_dir, F_OK), -1);
    /* --help names the flag. */
    const char *help[] = {"--help", NULL};
    assert_int_equal(fundflowd_refusal(scratch, help, error, sizeof error), 0);
    assert_non_null(strstr(error, "--ui-dir DIR"));
    assert_non_null(strstr(error, FUNDFLOW_UI_DIR_DEFAULT));
    test_dir_remove(scratch);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH_TO_FUNDFLOWD\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    /* Each test of the first group gets a fresh UI directory and server. */
#define SERVED(test) cmocka_unit_test_setup_teardown(test, ui_setup, ui_teardown)
    const struct CMUnitTest served[] = {
        SERVED(test_every_file_is_served_with_its_content_type_and_headers),
        SERVED(test_a_folder_serves_its_index_and_the_root_redirects),
        SERVED(test_a_current_copy_is_answered_304_and_a_changed_file_200),
        SERVED(test_head_gives_the_headers_of_get_without_the_body),
        SERVED(test_other_methods_are_refused_with_allow),
        SERVED(test_unknown_files_folders_and_special_files_are_404),
        SERVED(test_no_path_reaches_outside_the_directory),
        SERVED(test_a_file_over_the_limit_is_refused_and_logged),
        SERVED(test_the_api_is_unchanged_and_still_needs_its_token),
        SERVED(test_the_start_names_the_web_view_url),
    };
#undef SERVED
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_without_a_ui_directory_the_view_says_how_to_enable_it),
        cmocka_unit_test(test_a_ui_directory_that_will_not_do_is_refused_at_start),
    };
    int failed = cmocka_run_group_tests_name("web view, served", served, NULL, NULL);
    failed += cmocka_run_group_tests_name("web view, started without or refused", alone, NULL,
                                          NULL);
    return failed;
}
