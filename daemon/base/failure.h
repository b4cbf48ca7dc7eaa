/* Why a command was refused: an error code, the field at fault, and a sentence for people.
 *
 * Every check in the ledger fills one of these through failure_set, so a refusal always names
 * the field and, where there is one, the limit or value that was broken.
 */
#ifndef FUNDFLOW_FAILURE_H
#define FUNDFLOW_FAILURE_H

#include <stdint.h>

#include "fundflow/error.h"

#define FF_FAILURE_DETAIL_BYTES 256
#define FF_ACCOUNT_TEXT_BYTES 64

typedef struct ff_failure {
    ff_err code;
    /* The command field at fault, such as "amount_pence"; NULL when no one field is. */
    const char *field;
    char detail[FF_FAILURE_DETAIL_BYTES];
    /* For insufficient headroom: the account that would go below zero, and what it holds. */
    char account[FF_ACCOUNT_TEXT_BYTES];
    int64_t headroom_pence;
    /* For a veto: the plugin that refused. */
    char plugin[64];
} ff_failure;

/* Records a failure and returns its code, so checks can end with `return failure_set(...)`.
 * detail_format is printf-style; the detail is truncated to fit. failure may be NULL. */
ff_err failure_set(ff_failure *failure, ff_err code, const char *field, const char *detail_format,
                   ...) __attribute__((format(printf, 4, 5)));

/* Clears a failure to FF_OK with no field or detail. */
void failure_clear(ff_failure *failure);

#endif
