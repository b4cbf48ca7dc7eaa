/* The checks a command must pass before the ledger looks at any stored state.
 *
 * These need nothing but the command itself, so a server can run them on its network thread and
 * refuse a bad command before it reaches the writer. The ledger runs them again when it applies
 * the command, and when it replays the log.
 */
#ifndef FUNDFLOW_COMMAND_H
#define FUNDFLOW_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "failure.h"
#include "fundflow/v1/events.pb-c.h"

/* Checks the envelope (idempotency key, effective date, an event is present) and the event's
 * own fields: codes, names, enums, years, positive amounts and text limits. Any thread. */
ff_err command_check_static(const Fundflow__V1__Command *command, ff_failure *failure);

/* Checks an event's own fields, as command_check_static does for a command's event. */
ff_err command_event_check_static(const Fundflow__V1__Event *event, ff_failure *failure);

/* True if text is valid UTF-8 without control characters. */
bool command_text_valid(const char *text);

/* Checks an organisation code in field: present (if required) and well formed. Any thread. */
ff_err command_org_code_check(const char *code, const char *field, bool required,
                              ff_failure *failure);

/* True if code is 2 to 12 upper-case ASCII letters or digits. */
bool command_org_code_valid(const char *code);

#endif
