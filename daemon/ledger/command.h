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

/* Shared pieces of the checks, for command.c and command_domain.c. */
ff_err command_text_check(const char *text, const char *field, size_t bytes_max, bool required,
                          ff_failure *failure);
ff_err command_enum_check(const ProtobufCEnumDescriptor *descriptor, int value, const char *field,
                          ff_failure *failure);
/* The code format each kind of organisation must have (kinds without one accept any code). */
ff_err command_org_code_kind_check(const char *code, Fundflow__V1__OrgKind kind,
                                   ff_failure *failure);
/* A client-chosen id: 2 to FF_IDENTIFIER_BYTES_MAX upper-case letters, digits or hyphens. */
ff_err command_identifier_check(const char *identifier, const char *field, ff_failure *failure);
ff_err command_members_check(Fundflow__V1__OrgKind kind, char *const *members,
                             size_t member_count, const char *lead_provider_code,
                             ff_failure *failure);
ff_err command_month_check(uint32_t month, ff_failure *failure);
ff_err command_year_check(uint32_t year, ff_failure *failure);

ff_err command_org_updated_check(const Fundflow__V1__OrgUpdated *event, ff_failure *failure);
ff_err command_service_line_check(const Fundflow__V1__ServiceLineRegistered *event,
                                  ff_failure *failure);
ff_err command_delegation_granted_check(const Fundflow__V1__DelegationGranted *event,
                                        ff_failure *failure);
ff_err command_delegation_revoked_check(const Fundflow__V1__DelegationRevoked *event,
                                        ff_failure *failure);
ff_err command_contract_agreed_check(const Fundflow__V1__ContractAgreed *event,
                                     ff_failure *failure);
ff_err command_contract_varied_check(const Fundflow__V1__ContractVaried *event,
                                     ff_failure *failure);
ff_err command_payment_check(const Fundflow__V1__PaymentMade *event, ff_failure *failure);
ff_err command_outcome_check(const Fundflow__V1__OutcomeReported *event, ff_failure *failure);
ff_err command_statement_check(const Fundflow__V1__StatementSubmitted *event,
                               ff_failure *failure);
ff_err command_period_check(const Fundflow__V1__PeriodClosed *event, ff_failure *failure);

#endif
