/* Putting fundflowd's log file in place of stderr, at start and on each SIGHUP (logfile.h). */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

ff_err logfile_open(const char *path, char *error, size_t error_bytes) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0) {
        snprintf(error, error_bytes, "log_file: cannot open %s: %s", path, strerror(errno));
        return FF_ERR_IO;
    }
    fflush(stderr);
    int placed = dup2(fd, STDERR_FILENO);
    int saved_errno = errno;
    close(fd);
    if (placed < 0) {
        snprintf(error, error_bytes, "log_file: cannot put %s in place of stderr: %s", path,
                 strerror(saved_errno));
        return FF_ERR_IO;
    }
    return FF_OK;
}
