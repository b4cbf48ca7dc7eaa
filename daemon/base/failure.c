/* Filling in the reason a command was refused. */
#include "failure.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ff_err failure_set(ff_failure *failure, ff_err code, const char *field, const char *detail_format,
                   ...) {
    if (failure == NULL) return code;
    failure->code = code;
    failure->field = field;
    va_list arguments;
    va_start(arguments, detail_format);
    vsnprintf(failure->detail, sizeof failure->detail, detail_format, arguments);
    va_end(arguments);
    return code;
}

void failure_clear(ff_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->code = FF_OK;
}
