/* One way for every layer to write a log line: logline_write formats a logfmt line (the caller
 * gives it without its newline) and writes it to stderr directly, or, while a hook is installed,
 * hands it to the hook instead.
 *
 * fundflowd's log sink (daemon/net/logsink.c) installs itself as the hook once it runs and
 * removes itself as it stops, so that a line logged from any layer (the store's signing, the
 * plugins, TLS) while the server serves goes into the sink's bounded buffer and never waits for
 * a stalled stderr; dropped lines are counted by the sink. Before that, after that, and in the
 * tools and the unit tests, lines go to stderr directly, as fprintf did.
 */
#ifndef FUNDFLOW_LOGLINE_H
#define FUNDFLOW_LOGLINE_H

#include <stdarg.h>
#include <stdbool.h>

/* Takes a line's format (no newline) and its arguments; must not block on the log. */
typedef void logline_hook(void *context, const char *format, va_list arguments);

/* Writes one line (a newline is added): through the hook if one is installed, else to stderr
 * in one write. Any thread. */
void logline_write(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Installs hook with its context, unless a hook is installed already (a second server in one
 * process): returns whether it did. Any thread. */
bool logline_hook_install(logline_hook *hook, void *context);

/* Removes the hook if it is context's, and returns once no thread is inside it any more, so
 * context may be freed next. Otherwise does nothing. Any thread. */
void logline_hook_remove(const void *context);

#endif
