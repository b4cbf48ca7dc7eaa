/* fundflowd's log sink: lines go into a bounded buffer and a thread of their own writes them out,
 * so a log that does not drain (a full pipe nobody reads, a stuck terminal) never stalls the
 * thread that logs.
 *
 * logsink_line formats a line and either copies it whole into the buffer or, when the buffer
 * has no room, drops it and counts it (logsink_dropped). The log thread writes at most PIPE_BUF
 * bytes at a time and only once poll says the descriptor takes bytes, so it never blocks in write
 * on a pipe either, and so it can always be stopped. The descriptor's own flags are left as they
 * are: it may be shared with other processes.
 *
 * logsink_route_every_line makes the sink logline's hook (daemon/base/logline.h), so that the
 * lines every other layer logs while the server runs go through it too; logsink_stop removes the
 * hook before anything else.
 */
#ifndef FUNDFLOW_LOGSINK_H
#define FUNDFLOW_LOGSINK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

typedef struct ff_logsink ff_logsink;

/* Starts the log thread writing to fd (not owned) through a buffer of capacity bytes.
 * FF_ERR_NO_MEMORY or FF_ERR_INTERNAL (no thread). */
ff_err logsink_start(int fd, size_t capacity, ff_logsink **sink_out);

/* Formats one line (a newline is added) and queues it, or drops and counts it when the buffer is
 * full. Never waits for the log. Any thread. */
void logsink_line(ff_logsink *sink, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* logsink_line with its arguments in a va_list. */
void logsink_vline(ff_logsink *sink, const char *format, va_list arguments)
    __attribute__((format(printf, 2, 0)));

/* Makes sink take every logline_write line from now on, unless another sink already does:
 * returns whether it does. Any thread. */
bool logsink_route_every_line(ff_logsink *sink);

/* Lines dropped so far because the buffer was full or the log refused them. Any thread. */
uint64_t logsink_dropped(ff_logsink *sink);

/* Stops taking logline_write's lines (they go to stderr directly again), writes out what the
 * log takes (waiting at most FF_LOG_POLL_MILLISECONDS for it each time it is full), drops the
 * rest, joins the thread and frees the sink. NULL is allowed. */
void logsink_stop(ff_logsink *sink);

#endif
