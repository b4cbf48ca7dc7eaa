/* Serving the web view's static files under /ui/ so that no request can reach outside the UI
 * directory: strict path checks, then one openat with O_NOFOLLOW per name. */
#include "ui.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logline.h"
#include "fundflow/limits.h"

#define UI_PREFIX "/ui/"
#define UI_INDEX "index.html"

/* Room for a decoded path (never longer than its encoding) with "index.html" after it. */
#define UI_DECODED_BYTES (FF_UI_PATH_BYTES_MAX + sizeof UI_INDEX)

/* "size-mtime.ns-ctime.ns" in hex, quoted: at most 3 × 16 + 2 × 8 + 6 characters. */
#define UI_ETAG_BYTES 96

static const char ui_not_installed[] =
    "The web view is not installed on this server. Start fundflowd with --ui-dir DIR (or ui_dir "
    "in its configuration file) naming the built UI directory, or install fundflow so that "
    FUNDFLOW_UI_DIR_DEFAULT " exists.\n";

/* Content types by extension; anything else is application/octet-stream, which nosniff keeps
 * a browser from running. */
static const struct {
    const char *extension;
    const char *type;
} ui_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
};

bool ui_route_is(const char *path) {
    return strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 ||
           strncmp(path, UI_PREFIX, strlen(UI_PREFIX)) == 0;
}

static const char *ui_content_type(const char *path) {
    const char *name = strrchr(path, '/');
    const char *dot = strrchr(name ? name + 1 : path, '.');
    if (dot == NULL) return "application/octet-stream";
    for (size_t i = 0; i < sizeof ui_types / sizeof ui_types[0]; i++) {
        if (evutil_ascii_strcasecmp(dot + 1, ui_types[i].extension) == 0) return ui_types[i].type;
    }
    return "application/octet-stream";
}

/* ---- the path ---- */

static int ui_hex_value(char digit) {
    if (digit >= '0' && digit <= '9') return digit - '0';
    if (digit >= 'a' && digit <= 'f') return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F') return digit - 'A' + 10;
    return -1;
}

/* Percent-decodes encoded into decoded. False for a malformed escape, a path over the limit, or
 * a byte no file name here has: a control byte (NUL included) or a backslash. */
static bool ui_path_unescape(const char *encoded, char *decoded, size_t decoded_bytes) {
    size_t length = strlen(encoded);
    if (length > FF_UI_PATH_BYTES_MAX || length >= decoded_bytes) return false;
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        int byte = (unsigned char)encoded[i];
        if (byte == '%') {
            /* The terminator is no digit, so neither read passes it. */
            int high = ui_hex_value(encoded[i + 1]);
            int low = high >= 0 ? ui_hex_value(encoded[i + 2]) : -1;
            if (low < 0) return false;
            byte = high * 16 + low;
            i += 2;
        }
        if (byte < 0x20 || byte == 0x7f || byte == '\\') return false;
        decoded[out++] = (char)byte;
    }
    decoded[out] = '\0';
    return true;
}

/* True when every name of path (split at '/') is one a UI file may have: not empty, and not
 * starting with '.', which rules out ".", ".." and hidden files. path is not empty. */
static bool ui_path_names_allowed(const char *path) {
    for (const char *name = path;;) {
        size_t length = strcspn(name, "/");
        if (length == 0 || name[0] == '.') return false;
        if (name[length] == '\0') return true;
        name += length + 1;
    }
}

/* The file a path under /ui/ names, relative to the UI directory: decoded and checked, with
 * index.html after a trailing '/' (or for /ui/ itself). False if it may name no file. */
static bool ui_path_resolve(const char *encoded, char *path, size_t path_bytes) {
    if (!ui_path_unescape(encoded, path, path_bytes - (sizeof UI_INDEX - 1))) return false;
    size_t length = strlen(path);
    if (length == 0 || path[length - 1] == '/') memcpy(path + length, UI_INDEX, sizeof UI_INDEX);
    return ui_path_names_allowed(path);
}

/* Opens path (checked names joined by '/') under directory one name at a time, none followed if
 * it is a symbolic link, every one before the last a directory. -1 if any name fails. path is
 * cut at its slashes. The last name is opened without blocking, so that a FIFO cannot hold the
 * loop; the caller serves only regular files. */
static int ui_file_open(const char *directory, char *path) {
    int parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
        logline_write("level=warn msg=\"web view directory cannot be opened\" path=\"%s\" "
                      "reason=\"%s\"", directory, strerror(errno));
        return -1;
    }
    char *name = path;
    for (char *slash = strchr(name, '/'); slash != NULL; slash = strchr(name, '/')) {
        *slash = '\0';
        int child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(parent);
        if (child < 0) return -1;
        parent = child;
        name = slash + 1;
    }
    int file = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    close(parent);
    return file;
}

/* ---- caching ---- */

/* From the size, the modification time and the change time. npm unpacks every file with the
 * same fixed modification time, so an upgraded file of the same size would keep its ETag by
 * those two alone; the change time is the kernel's and moves whenever the file is rewritten. */
static void ui_etag(const struct stat *status, char *etag, size_t etag_bytes) {
    snprintf(etag, etag_bytes, "\"%jx-%jx.%jx-%jx.%jx\"", (uintmax_t)status->st_size,
             (uintmax_t)status->st_mtim.tv_sec, (uintmax_t)status->st_mtim.tv_nsec,
             (uintmax_t)status->st_ctim.tv_sec, (uintmax_t)status->st_ctim.tv_nsec);
}

/* If-None-Match: "*", or a comma-separated list of entity tags, weak ones ("W/...") compared as
 * strong, as RFC 9110 asks for this header. */
static bool ui_etag_matches(const char *if_none_match, const char *etag) {
    if (if_none_match == NULL) return false;
    size_t etag_length = strlen(etag);
    for (const char *cursor = if_none_match; *cursor != '\0';) {
        cursor += strspn(cursor, " \t,");
        size_t length = strcspn(cursor, ",");
        const char *next = cursor + length;
        while (length > 0 && (cursor[length - 1] == ' ' || cursor[length - 1] == '\t')) length--;
        if (length == 1 && cursor[0] == '*') return true;
        if (length > 2 && strncmp(cursor, "W/", 2) == 0) cursor += 2, length -= 2;
        if (length == etag_length && memcmp(cursor, etag, length) == 0) return true;
        cursor = next;
    }
    return false;
}

/* ---- replies ---- */

static void ui_reply_set(ui_reply *reply, int status, const char *reason, const char *code) {
    reply->status = status;
    reply->reason = reason;
    reply->code = code;
}

/* A reply whose body is a sentence for people. */
static void ui_reply_text(ui_reply *reply, struct evkeyvalq *headers, int status,
                          const char *reason, const char *code, const char *text) {
    ui_reply_set(reply, status, reason, code);
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    reply->body = evbuffer_new();
    if (reply->body != NULL) evbuffer_add(reply->body, text, strlen(text));
}

static void ui_reply_not_found(ui_reply *reply, struct evkeyvalq *headers) {
    ui_reply_text(reply, headers, 404, "Not Found", "not_found",
                  "Not found: the web view has no file at this address.\n");
}

/* Reads size bytes of file into body. A file that shrank meanwhile is served as far as it goes;
 * libevent's Content-Length counts what was read. */
static bool ui_file_read(int file, size_t size, struct evbuffer *body) {
    struct evbuffer_iovec space;
    if (size == 0) return true;
    if (evbuffer_reserve_space(body, (ev_ssize_t)size, &space, 1) != 1) return false;
    size_t got = 0;
    while (got < size) {
        ssize_t read_bytes = read(file, (char *)space.iov_base + got, size - got);
        if (read_bytes < 0 && errno == EINTR) continue;
        if (read_bytes < 0) return false;
        if (read_bytes == 0) break;
        got += (size_t)read_bytes;
    }
    space.iov_len = got;
    return evbuffer_commit_space(body, &space, 1) == 0;
}

/* Answers for a regular file opened and checked: 304 when the client's copy is current, else
 * its headers, and its bytes unless the request is HEAD. Closes file. */
static void ui_file_send(struct evhttp_request *request, const char *path, int file,
                         const struct stat *status, ui_reply *reply) {
    struct evkeyvalq *headers = evhttp_request_get_output_headers(request);
    char etag[UI_ETAG_BYTES];
    ui_etag(status, etag, sizeof etag);
    evhttp_add_header(headers, "ETag", etag);
    const char *if_none_match = evhttp_find_header(evhttp_request_get_input_headers(request),
                                                   "If-None-Match");
    if (ui_etag_matches(if_none_match, etag)) {
        ui_reply_set(reply, 304, "Not Modified", "ok");
    } else if (evhttp_request_get_command(request) == EVHTTP_REQ_HEAD) {
        char length[24];
        snprintf(length, sizeof length, "%jd", (intmax_t)status->st_size);
        evhttp_add_header(headers, "Content-Type", ui_content_type(path));
        evhttp_add_header(headers, "Content-Length", length);
        ui_reply_set(reply, 200, "OK", "ok");
    } else {
        reply->body = evbuffer_new();
        if (reply->body == NULL || !ui_file_read(file, (size_t)status->st_size, reply->body)) {
            logline_write("level=error msg=\"web view file cannot be read\" path=\"%s\" "
                          "reason=\"%s\"", path, strerror(errno));
            evhttp_remove_header(headers, "ETag");
            if (reply->body != NULL) evbuffer_free(reply->body);
            reply->body = NULL;
            ui_reply_text(reply, headers, 500, "Internal Server Error", "internal",
                          "The web view's file cannot be read; the server log says why.\n");
        } else {
            evhttp_add_header(headers, "Content-Type", ui_content_type(path));
            ui_reply_set(reply, 200, "OK", "ok");
        }
    }
    close(file);
}

/* Answers for the file that encoded (the path after /ui/, as the request gives it) names. */
static void ui_file_answer(const char *directory, struct evhttp_request *request,
                           const char *encoded, ui_reply *reply) {
    struct evkeyvalq *headers = evhttp_request_get_output_headers(request);
    char path[UI_DECODED_BYTES], opened[UI_DECODED_BYTES];
    if (!ui_path_resolve(encoded, path, sizeof path)) {
        ui_reply_not_found(reply, headers);
        return;
    }
    memcpy(opened, path, sizeof opened);
    int file = ui_file_open(directory, opened);
    struct stat status;
    if (file < 0 || fstat(file, &status) != 0 || !S_ISREG(status.st_mode)) {
        if (file >= 0) close(file);
        ui_reply_not_found(reply, headers);
        return;
    }
    if ((uintmax_t)status.st_size > FF_UI_FILE_BYTES_MAX) {
        logline_write("level=error msg=\"web view file over the size limit\" path=\"%s\" "
                      "bytes=%jd limit=%u", path, (intmax_t)status.st_size,
                      FF_UI_FILE_BYTES_MAX);
        close(file);
        ui_reply_text(reply, headers, 500, "Internal Server Error", "internal",
                      "The web view's file is larger than the server serves; the server log "
                      "names it and the limit.\n");
        return;
    }
    ui_file_send(request, path, file, &status, reply);
}

/* HEAD gets the headers GET would, with the length of the body it would have had. */
static void ui_body_drop(struct evkeyvalq *headers, ui_reply *reply) {
    if (reply->body == NULL) return;
    char length[24];
    snprintf(length, sizeof length, "%zu", evbuffer_get_length(reply->body));
    evhttp_add_header(headers, "Content-Length", length);
    evbuffer_free(reply->body);
    reply->body = NULL;
}

void ui_answer(const char *directory, struct evhttp_request *request, const char *path,
               ui_reply *reply) {
    assert(ui_route_is(path));
    *reply = (ui_reply){0};
    struct evkeyvalq *headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Security-Policy", UI_CONTENT_SECURITY_POLICY);
    evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(headers, "Referrer-Policy", "no-referrer");
    evhttp_add_header(headers, "Cache-Control", "no-cache");
    enum evhttp_cmd_type command = evhttp_request_get_command(request);
    if (command != EVHTTP_REQ_GET && command != EVHTTP_REQ_HEAD) {
        evhttp_add_header(headers, "Allow", "GET, HEAD");
        ui_reply_text(reply, headers, 405, "Method Not Allowed", "bad_route",
                      "The web view answers GET and HEAD only.\n");
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0) {
        evhttp_add_header(headers, "Location", UI_PREFIX);
        ui_reply_text(reply, headers, 302, "Found", "ok", "The web view is at /ui/.\n");
    } else if (directory[0] == '\0') {
        ui_reply_text(reply, headers, 404, "Not Found", "not_found", ui_not_installed);
    } else {
        ui_file_answer(directory, request, path + strlen(UI_PREFIX), reply);
    }
    if (command == EVHTTP_REQ_HEAD) ui_body_drop(headers, reply);
}
