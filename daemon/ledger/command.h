/* The checks a command must pass before the ledger looks at any stored state.
 *
 * These need nothing but the command itself, so a server can run them on its network thread and
 * refuse a bad command before it reaches the writer. The ledger runs them again when it applies
 * the command, and when it replays the log.
 *
 * Each event's own checks live with its neighbours in one file (command_org.c, command_transfer.c,
 * command_delegation.c, command_contract.c, command_period.c), built on the field checks of
 * command_field.c, and are listed in that file's table of rules. command.c reads the tables and
 * calls no file but them, so adding an event type means adding its check and a row to its file's
 * table.
 */
#ifndef FUNDFLOW_COMMAND_H
#define FUNDFLOW_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "command_field.h"
#include "failure.h"
#include "fundflow/v1/events.pb-c.h"

/* Checks the envelope (idempotency key, effective date, an event is present) and the event's
 * own fields: codes, names, enums, years, positive amounts and text limits. Any thread. */
ff_err command_check_static(const Fundflow__V1__Command *command, ff_failure *failure);

/* Checks an event's own fields, as command_check_static does for a command's event. */
ff_err command_event_check_static(const Fundflow__V1__Event *event, ff_failure *failure);

/* ---- the rules each file of checks lists ---- */

/* One kind of event and the check of its own fields. */
typedef ff_err (*command_event_check)(const Fundflow__V1__Event *event, ff_failure *failure);
typedef struct command_event_rule {
    Fundflow__V1__Event__KindCase kind;
    command_event_check check;
} command_event_rule;

/* Each ends with a row whose kind is FUNDFLOW__V1__EVENT__KIND__NOT_SET. */
extern const command_event_rule command_org_rules[];
extern const command_event_rule command_transfer_rules[];
extern const command_event_rule command_delegation_rules[];
extern const command_event_rule command_contract_rules[];
extern const command_event_rule command_period_rules[];
extern const command_event_rule command_principal_rules[];
extern const command_event_rule command_plan_rules[];
extern const command_event_rule command_limit_rules[];

/* ---- organisations (command_org.c), which projections also need ---- */

/* The code format each kind of organisation must have (kinds without one accept any code). */
ff_err command_org_code_kind_check(const char *code, Fundflow__V1__OrgKind kind,
                                   ff_failure *failure);

/* Who may be a member, and the lead provider, of an organisation of kind. */
ff_err command_members_check(Fundflow__V1__OrgKind kind, char *const *members,
                             size_t member_count, const char *lead_provider_code,
                             ff_failure *failure);

#endif
