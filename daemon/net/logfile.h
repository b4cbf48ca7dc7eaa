/* fundflowd's log file (log_file, --log-file): the file opened onto stderr, so that every line,
 * the log sink's and the direct ones alike, goes to it; and reopened on SIGHUP, so that
 * logrotate can move the file away and the next lines go to a new one at the same path. */
#ifndef FUNDFLOW_LOGFILE_H
#define FUNDFLOW_LOGFILE_H

#include <stddef.h>

#include "fundflow/error.h"

/* Opens path for appending (created 0640) and puts it in place of stderr (dup2, which swaps the
 * descriptor in one step, so a line being written goes wholly to the old file or the new).
 * FF_ERR_IO with error naming the path and why; stderr is then left as it was. */
ff_err logfile_open(const char *path, char *error, size_t error_bytes);

#endif
