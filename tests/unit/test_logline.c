/* Unit tests of logline_write, the one way every layer logs a line: straight to stderr with no
 * hook, through the hook once one is installed, and straight to stderr again once it is removed;
 * one hook at a time; no line lost or doubled while a hook comes and goes under logging threads;
 * and fundflowd's log sink as the hook, which takes lines without waiting for a log that never
 * drains and counts the ones it drops. stderr is pointed at a scratch file for each test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logline.h"
#include "logsink.h"
#include "test_support.h"
#include "fundflow/limits.h"

/* ---- stderr into a scratch file ---- */

typedef struct captured_stderr {
    char *directory;
    char path[4200];
    int saved; /* the real stderr, put back at the end */
} captured_stderr;

static void stderr_capture(captured_stderr *capture) {
    capture->directory = test_dir_make();
    snprintf(capture->path, sizeof capture->path, "%s/stderr", capture->directory);
    int fd = open(capture->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    capture->saved = dup(STDERR_FILENO);
    assert_true(capture->saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

static void stderr_restore(captured_stderr *capture) {
    fflush(stderr);
    assert_int_equal(dup2(capture->saved, STDERR_FILENO), STDERR_FILENO);
    close(capture->saved);
    test_dir_remove(capture->directory);
}

/* What stderr has received so far; the caller frees it. */
static char *stderr_text(const captured_stderr *capture) {
    FILE *file = fopen(capture->path, "r");
    assert_non_null(file);
    size_t capacity = 4096, length = 0;
    char *text = malloc(capacity);
    assert_non_null(text);
    size_t got;
    while ((got = fread(text + length, 1, capacity - length - 1, file)) > 0) {
        length += got;
        if (capacity - length == 1) text = realloc(text, capacity *= 2);
        assert_non_null(text);
    }
    fclose(file);
    text[length] = '\0';
    return text;
}

static off_t file_size(const char *path) {
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    return status.st_size;
}

static size_t newlines_count(const char *text) {
    size_t count = 0;
    for (const char *c = text; *c != '\0'; c++) count += *c == '\n';
    return count;
}

/* ---- a recording hook ---- */

typedef struct recorder {
    char last[FF_LOG_LINE_BYTES_MAX];
    atomic_int lines;
} recorder;

static void recorder_hook(void *context, const char *format, va_list arguments) {
    recorder *record = context;
    vsnprintf(record->last, sizeof record->last, format, arguments);
    atomic_fetch_add(&record->lines, 1);
}

static void recorder_reset(recorder *record) {
    record->last[0] = '\0';
    atomic_init(&record->lines, 0);
}

/* ---- the tests ---- */

static void test_lines_go_direct_then_through_the_hook_then_direct_again(void **state) {
    (void)state;
    captured_stderr capture;
    stderr_capture(&capture);
    recorder record;
    recorder_reset(&record);

    /* No hook: the line and its newline, on stderr at once, as fprintf wrote it. */
    logline_write("level=info msg=\"before\" count=%d", 1);
    char *text = stderr_text(&capture);
    assert_string_equal(text, "level=info msg=\"before\" count=1\n");
    free(text);

    /* A hook: the formatted line reaches it (without the newline), and stderr gets nothing. */
    assert_true(logline_hook_install(recorder_hook, &record));
    logline_write("level=warn msg=\"during\" peer=%s alert_code=%d", "127.0.0.1", 116);
    assert_int_equal(atomic_load(&record.lines), 1);
    assert_string_equal(record.last, "level=warn msg=\"during\" peer=127.0.0.1 alert_code=116");
    text = stderr_text(&capture);
    assert_string_equal(text, "level=info msg=\"before\" count=1\n");
    free(text);

    /* Removed: direct again, and the hook sees no more. */
    logline_hook_remove(&record);
    logline_write("level=info msg=\"after\"");
    assert_int_equal(atomic_load(&record.lines), 1);
    text = stderr_text(&capture);
    assert_string_equal(text, "level=info msg=\"before\" count=1\nlevel=info msg=\"after\"\n");
    free(text);
    stderr_restore(&capture);
}

static void test_one_hook_at_a_time(void **state) {
    (void)state;
    captured_stderr capture;
    stderr_capture(&capture);
    recorder first, second;
    recorder_reset(&first);
    recorder_reset(&second);
    assert_true(logline_hook_install(recorder_hook, &first));
    /* A second server's sink is refused, and removing it leaves the first one's in place. */
    assert_false(logline_hook_install(recorder_hook, &second));
    logline_hook_remove(&second);
    logline_write("level=info msg=\"to the first\"");
    assert_int_equal(atomic_load(&first.lines), 1);
    assert_int_equal(atomic_load(&second.lines), 0);
    logline_hook_remove(&first);
    /* With none installed, the second may now install. */
    assert_true(logline_hook_install(recorder_hook, &second));
    logline_write("level=info msg=\"to the second\"");
    assert_int_equal(atomic_load(&second.lines), 1);
    logline_hook_remove(&second);
    char *text = stderr_text(&capture);
    assert_string_equal(text, "");
    free(text);
    stderr_restore(&capture);
}

/* A line longer than FF_LOG_LINE_BYTES_MAX (2,048 bytes) is written whole when direct: 3,000
 * 'x's and the newline, 3,001 bytes. */
#define LONG_LINE_BYTES 3000

static void test_a_long_direct_line_is_written_whole(void **state) {
    (void)state;
    captured_stderr capture;
    stderr_capture(&capture);
    char *long_text = malloc(LONG_LINE_BYTES + 1);
    assert_non_null(long_text);
    memset(long_text, 'x', LONG_LINE_BYTES);
    long_text[LONG_LINE_BYTES] = '\0';
    logline_write("%s", long_text);
    char *text = stderr_text(&capture);
    assert_int_equal(strlen(text), LONG_LINE_BYTES + 1);
    assert_int_equal(strncmp(text, long_text, LONG_LINE_BYTES), 0);
    assert_int_equal(text[LONG_LINE_BYTES], '\n');
    free(text);
    free(long_text);
    stderr_restore(&capture);
}

/* 4 threads log 20,000 lines each (80,000 in all) while the hook is installed and removed over
 * and over until they are done, each time once a line has gone the other way: every line lands
 * exactly once, on stderr or in the hook, so the two counts add up to 80,000. */
#define RACE_THREADS 4
#define RACE_LINES_EACH 20000

static atomic_int race_loggers_done;

static void *race_logger_run(void *argument) {
    (void)argument;
    for (int i = 0; i < RACE_LINES_EACH; i++) logline_write("level=info msg=\"race\" i=%d", i);
    atomic_fetch_add(&race_loggers_done, 1);
    return NULL;
}

static void test_no_line_lost_while_the_hook_comes_and_goes(void **state) {
    (void)state;
    captured_stderr capture;
    stderr_capture(&capture);
    recorder record;
    recorder_reset(&record);
    atomic_store(&race_loggers_done, 0);
    pthread_t threads[RACE_THREADS];
    for (int t = 0; t < RACE_THREADS; t++) {
        assert_int_equal(pthread_create(&threads[t], NULL, race_logger_run, NULL), 0);
    }
    /* Each phase lasts until a line has landed its way (or the loggers are done). */
    int switches = 0;
    while (atomic_load(&race_loggers_done) < RACE_THREADS) {
        off_t direct_before = file_size(capture.path);
        while (file_size(capture.path) == direct_before &&
               atomic_load(&race_loggers_done) < RACE_THREADS) {
            sched_yield();
        }
        int hooked_before = atomic_load(&record.lines);
        assert_true(logline_hook_install(recorder_hook, &record));
        while (atomic_load(&record.lines) == hooked_before &&
               atomic_load(&race_loggers_done) < RACE_THREADS) {
            sched_yield();
        }
        logline_hook_remove(&record);
        switches++;
    }
    for (int t = 0; t < RACE_THREADS; t++) pthread_join(threads[t], NULL);
    char *text = stderr_text(&capture);
    size_t direct = newlines_count(text);
    print_message("%zu lines direct, %d through the hook, %d switches\n", direct,
                  atomic_load(&record.lines), switches);
    assert_int_equal(direct + (size_t)atomic_load(&record.lines), RACE_THREADS * RACE_LINES_EACH);
    free(text);
    stderr_restore(&capture);
}

/* Reads what the pipe holds now, waiting at most 10 s for the first byte. */
static size_t pipe_read(int fd, char *text, size_t text_bytes) {
    struct pollfd ready = {.fd = fd, .events = POLLIN};
    if (poll(&ready, 1, 10000) != 1) return 0;
    ssize_t got = read(fd, text, text_bytes - 1);
    assert_true(got > 0);
    text[got] = '\0';
    return (size_t)got;
}

/* The log sink as the hook: a line from any layer reaches the sink's descriptor (a pipe), not
 * stderr. Then the pipe is left full (shrunk to 4,096 bytes, never read again) and the sink's
 * buffer is the smallest allowed, FF_LOG_LINE_BYTES_MAX (2,048): 2,000 lines of over 30 bytes
 * (over 60,000 bytes) cannot all fit in both, so some are dropped and counted, and
 * logline_write returns for every one. Once the sink stops, lines go to stderr again. */
#define SINK_PIPE_BYTES 4096
#define SINK_FLOOD_LINES 2000

static void test_the_log_sink_takes_every_layers_lines_and_counts_drops(void **state) {
    (void)state;
    captured_stderr capture;
    stderr_capture(&capture);
    int log_pipe[2];
    assert_int_equal(pipe(log_pipe), 0);
    assert_true(fcntl(log_pipe[1], F_SETPIPE_SZ, SINK_PIPE_BYTES) >= 0);
    ff_logsink *sink = NULL;
    assert_int_equal(logsink_start(log_pipe[1], FF_LOG_LINE_BYTES_MAX, &sink), FF_OK);
    assert_true(logsink_route_every_line(sink));

    logline_write("level=error msg=\"cannot sign the tree head\" error=%s", "io");
    char text[8192];
    assert_true(pipe_read(log_pipe[0], text, sizeof text) > 0);
    assert_string_equal(text, "level=error msg=\"cannot sign the tree head\" error=io\n");

    for (int i = 0; i < SINK_FLOOD_LINES; i++) {
        logline_write("level=warn msg=\"flood\" line=%04d", i);
    }
    uint64_t dropped = logsink_dropped(sink);
    print_message("%llu of %d lines dropped\n", (unsigned long long)dropped, SINK_FLOOD_LINES);
    assert_true(dropped > 0 && dropped <= SINK_FLOOD_LINES);
    char *direct = stderr_text(&capture);
    assert_string_equal(direct, "");
    free(direct);

    logsink_stop(sink);
    logline_write("level=info msg=\"stopped cleanly\"");
    direct = stderr_text(&capture);
    assert_string_equal(direct, "level=info msg=\"stopped cleanly\"\n");
    free(direct);
    close(log_pipe[0]);
    close(log_pipe[1]);
    stderr_restore(&capture);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_go_direct_then_through_the_hook_then_direct_again),
        cmocka_unit_test(test_one_hook_at_a_time),
        cmocka_unit_test(test_a_long_direct_line_is_written_whole),
        cmocka_unit_test(test_no_line_lost_while_the_hook_comes_and_goes),
        cmocka_unit_test(test_the_log_sink_takes_every_layers_lines_and_counts_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
