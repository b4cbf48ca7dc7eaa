/* The one way every layer writes a log line: to stderr directly, or through the hook a log sink
 * installed (logline.h). */
#include "logline.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "fundflow/limits.h"

/* Log callers take the lock shared only to call the hook, which never blocks; install and
 * remove take it exclusively, so a removed hook's context is no longer in use once remove
 * returns. Writers are preferred, so threads that log without pause cannot hold a stop off (the
 * default prefers readers). A direct write happens outside the lock: a stalled stderr holds no
 * one else up. */
static pthread_rwlock_t logline_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static logline_hook *logline_installed;
static void *logline_context;

/* Writes the line to stderr in one write, as fprintf did; a line longer than the buffer is
 * written in pieces under stderr's lock, whole all the same. */
__attribute__((format(printf, 1, 0)))
static void logline_direct(const char *format, va_list arguments) {
    char line[FF_LOG_LINE_BYTES_MAX];
    va_list again;
    va_copy(again, arguments);
    int formatted = vsnprintf(line, sizeof line - 1, format, arguments);
    if (formatted >= 0 && (size_t)formatted < sizeof line - 1) {
        line[formatted] = '\n';
        fwrite(line, 1, (size_t)formatted + 1, stderr);
    } else {
        flockfile(stderr);
        vfprintf(stderr, format, again);
        fputc('\n', stderr);
        funlockfile(stderr);
    }
    va_end(again);
}

void logline_write(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    pthread_rwlock_rdlock(&logline_lock);
    logline_hook *hook = logline_installed;
    if (hook != NULL) hook(logline_context, format, arguments);
    pthread_rwlock_unlock(&logline_lock);
    if (hook == NULL) logline_direct(format, arguments);
    va_end(arguments);
}

bool logline_hook_install(logline_hook *hook, void *context) {
    assert(hook != NULL);
    pthread_rwlock_wrlock(&logline_lock);
    bool installed = logline_installed == NULL;
    if (installed) {
        logline_installed = hook;
        logline_context = context;
    }
    pthread_rwlock_unlock(&logline_lock);
    return installed;
}

void logline_hook_remove(const void *context) {
    pthread_rwlock_wrlock(&logline_lock);
    if (logline_installed != NULL && logline_context == context) {
        logline_installed = NULL;
        logline_context = NULL;
    }
    pthread_rwlock_unlock(&logline_lock);
}
