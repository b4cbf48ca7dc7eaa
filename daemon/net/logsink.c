/* The log sink: a bounded byte ring that the event loop appends lines to and a log thread
 * writes out with poll and short writes, so that a stalled log never stalls a request. */
#include "logsink.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fundflow/limits.h"
#include "logline.h"

struct ff_logsink {
    int fd;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char *ring;
    size_t capacity, start, length; /* the bytes waiting: length of them from start, wrapping */
    bool stopping;
    atomic_uint_least64_t dropped;
};

static size_t logsink_newlines(const ff_logsink *sink, size_t from, size_t bytes) {
    size_t count = 0;
    for (size_t i = 0; i < bytes; i++) {
        if (sink->ring[(from + i) % sink->capacity] == '\n') count++;
    }
    return count;
}

/* Copies the next contiguous run of waiting bytes, at most PIPE_BUF, into chunk. Lock held. */
static size_t logsink_chunk_take(const ff_logsink *sink, char *chunk) {
    size_t contiguous = sink->capacity - sink->start;
    size_t bytes = sink->length < contiguous ? sink->length : contiguous;
    if (bytes > PIPE_BUF) bytes = PIPE_BUF;
    memcpy(chunk, sink->ring + sink->start, bytes);
    return bytes;
}

/* Forgets bytes written (or dropped, counting their lines then). Lock held. */
static void logsink_consume(ff_logsink *sink, size_t bytes, bool dropped) {
    assert(bytes <= sink->length);
    if (dropped) atomic_fetch_add(&sink->dropped, logsink_newlines(sink, sink->start, bytes));
    sink->start = (sink->start + bytes) % sink->capacity;
    sink->length -= bytes;
}

/* Writes chunk if the descriptor takes bytes within the poll interval. Returns the bytes
 * written, 0 if it did not take any in time, or -1 if it refuses them for good. */
static ssize_t logsink_write_ready(int fd, const char *chunk, size_t bytes) {
    struct pollfd watched = {.fd = fd, .events = POLLOUT};
    int ready = poll(&watched, 1, FF_LOG_POLL_MILLISECONDS);
    if (ready == 0 || (ready < 0 && errno == EINTR)) return 0;
    if (ready < 0 || (watched.revents & (POLLERR | POLLNVAL))) return -1;
    ssize_t written = write(fd, chunk, bytes);
    if (written < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    return written;
}

static void *logsink_run(void *argument) {
    ff_logsink *sink = argument;
    char chunk[PIPE_BUF];
    pthread_mutex_lock(&sink->lock);
    for (;;) {
        bool waited = false;
        while (sink->length == 0 && !sink->stopping) {
            pthread_cond_wait(&sink->wake, &sink->lock);
            waited = true;
        }
        if (sink->length == 0) break;
        if (waited && !sink->stopping) {
            /* Woken by a line on an empty ring: let the lines of the next moment gather, so that
             * a busy server's lines cost one wake-up and one write per batch, not per line.
             * Nobody waits for this thread: lines arriving meanwhile only append. */
            pthread_mutex_unlock(&sink->lock);
            struct timespec gather = {0, FF_LOG_GATHER_MICROSECONDS * 1000L};
            nanosleep(&gather, NULL);
            pthread_mutex_lock(&sink->lock);
        }
        size_t bytes = logsink_chunk_take(sink, chunk);
        pthread_mutex_unlock(&sink->lock);
        ssize_t written = logsink_write_ready(sink->fd, chunk, bytes);
        pthread_mutex_lock(&sink->lock);
        if (written > 0) {
            logsink_consume(sink, (size_t)written, false);
        } else if (written < 0 || sink->stopping) {
            /* A log that refuses bytes, or will not take them while we stop, loses the rest. */
            logsink_consume(sink, sink->length, true);
        }
    }
    pthread_mutex_unlock(&sink->lock);
    return NULL;
}

ff_err logsink_start(int fd, size_t capacity, ff_logsink **sink_out) {
    assert(capacity >= FF_LOG_LINE_BYTES_MAX);
    *sink_out = NULL;
    ff_logsink *sink = calloc(1, sizeof *sink);
    char *ring = malloc(capacity);
    if (sink == NULL || ring == NULL) {
        free(sink), free(ring);
        return FF_ERR_NO_MEMORY;
    }
    sink->fd = fd;
    sink->ring = ring;
    sink->capacity = capacity;
    atomic_init(&sink->dropped, 0);
    pthread_mutex_init(&sink->lock, NULL);
    pthread_cond_init(&sink->wake, NULL);
    if (pthread_create(&sink->thread, NULL, logsink_run, sink) != 0) {
        pthread_cond_destroy(&sink->wake);
        pthread_mutex_destroy(&sink->lock);
        free(ring), free(sink);
        return FF_ERR_INTERNAL;
    }
    *sink_out = sink;
    return FF_OK;
}

/* Appends bytes at the ring's end, wrapping. Lock held, room checked. */
static void logsink_append(ff_logsink *sink, const char *bytes, size_t count) {
    assert(sink->length + count <= sink->capacity);
    size_t end = (sink->start + sink->length) % sink->capacity;
    size_t first = sink->capacity - end < count ? sink->capacity - end : count;
    memcpy(sink->ring + end, bytes, first);
    memcpy(sink->ring, bytes + first, count - first);
    sink->length += count;
}

void logsink_vline(ff_logsink *sink, const char *format, va_list arguments) {
    char line[FF_LOG_LINE_BYTES_MAX];
    int formatted = vsnprintf(line, sizeof line - 1, format, arguments);
    if (formatted < 0) formatted = 0;
    /* A line cut at the limit still ends where it should. */
    size_t bytes = (size_t)formatted < sizeof line - 1 ? (size_t)formatted : sizeof line - 2;
    line[bytes++] = '\n';
    pthread_mutex_lock(&sink->lock);
    bool room = !sink->stopping && sink->length + bytes <= sink->capacity;
    /* The log thread waits only on an empty ring: with bytes waiting it is writing them and
     * looks again before it waits, so only the line that finds the ring empty wakes it (one
     * futex wake-up per batch of lines, not per request). */
    bool wake = sink->length == 0;
    if (room) {
        logsink_append(sink, line, bytes);
        if (wake) pthread_cond_signal(&sink->wake);
    }
    pthread_mutex_unlock(&sink->lock);
    if (!room) atomic_fetch_add(&sink->dropped, 1);
}

void logsink_line(ff_logsink *sink, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    logsink_vline(sink, format, arguments);
    va_end(arguments);
}

/* logline's hook: every layer's lines into the sink. */
__attribute__((format(printf, 2, 0)))
static void logsink_hook(void *sink, const char *format, va_list arguments) {
    logsink_vline(sink, format, arguments);
}

bool logsink_route_every_line(ff_logsink *sink) {
    return logline_hook_install(logsink_hook, sink);
}

uint64_t logsink_dropped(ff_logsink *sink) {
    return atomic_load(&sink->dropped);
}

void logsink_stop(ff_logsink *sink) {
    if (sink == NULL) return;
    /* Once this returns no thread is in the hook, and new lines go to stderr directly. */
    logline_hook_remove(sink);
    pthread_mutex_lock(&sink->lock);
    sink->stopping = true;
    pthread_cond_signal(&sink->wake);
    pthread_mutex_unlock(&sink->lock);
    pthread_join(sink->thread, NULL);
    assert(sink->length == 0);
    pthread_cond_destroy(&sink->wake);
    pthread_mutex_destroy(&sink->lock);
    free(sink->ring);
    free(sink);
}
