/* The checks of service lines and of the delegations of commissioning that cover them. */
#include "command.h"

#include <assert.h>

#include "command_field.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err command_service_line_check(const Fundflow__V1__Event *payload,
                                         ff_failure *failure) {
    const Fundflow__V1__ServiceLineRegistered *event = payload->service_line_registered;
    ff_err err = command_org_code_check(event->code, "code", true, failure);
    if (!err) err = command_text_check(event->name, "name", FF_ORG_NAME_BYTES_MAX, true, failure);
    if (!err) {
        err = command_enum_check(&fundflow__v1__service_category__descriptor, event->category,
                                 "category", failure);
    }
    return err;
}

/* Refuses an end date that is not real, or falls before the start: a real date reads YYYY-MM-DD,
 * one that is not real as the number sent. */
static ff_err command_delegation_end_refuse(uint32_t effective_to, uint32_t effective_from,
                                            ff_failure *failure) {
    assert(calendar_date_valid(effective_from));
    char from[CALENDAR_DATE_TEXT_BYTES];
    calendar_date_format(effective_from, from, sizeof from);
    if (!calendar_date_valid(effective_to)) {
        return failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                           "effective_to %u must be a real date on or after %s, or 0",
                           effective_to, from);
    }
    char to[CALENDAR_DATE_TEXT_BYTES];
    calendar_date_format(effective_to, to, sizeof to);
    return failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                       "effective_to %s must be on or after effective_from %s, or 0", to, from);
}

static ff_err command_delegation_granted_check(const Fundflow__V1__Event *payload,
                                               ff_failure *failure) {
    const Fundflow__V1__DelegationGranted *event = payload->delegation_granted;
    ff_err err = command_identifier_check(event->delegation_id, "delegation_id", failure);
    if (!err) err = command_org_code_check(event->delegate_code, "delegate_code", true, failure);
    if (!err && event->n_service_line_codes == 0) {
        err = failure_set(failure, FF_ERR_FIELD_MISSING, "service_line_codes",
                          "a delegation names at least one service line");
    }
    if (!err) {
        err = command_code_list_check(event->service_line_codes, event->n_service_line_codes,
                                      "service_line_codes", FF_DELEGATION_LINES_MAX, failure);
    }
    if (!err && event->n_population_codes == 0) {
        err = failure_set(failure, FF_ERR_FIELD_MISSING, "population_codes",
                          "a delegation covers at least one ICB's population");
    }
    if (!err) {
        err = command_code_list_check(event->population_codes, event->n_population_codes,
                                      "population_codes", FF_MEMBERS_MAX, failure);
    }
    if (!err) {
        err = command_enum_check(&fundflow__v1__delegation_mode__descriptor, event->mode, "mode",
                                 failure);
    }
    if (!err && !calendar_date_valid(event->effective_from)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_from",
                          "effective_from %u is not a real date", event->effective_from);
    }
    bool ends = event->effective_to != 0;
    if (!err && ends && (!calendar_date_valid(event->effective_to) ||
                         event->effective_to < event->effective_from)) {
        err = command_delegation_end_refuse(event->effective_to, event->effective_from, failure);
    }
    return err;
}

static ff_err command_delegation_revoked_check(const Fundflow__V1__Event *payload,
                                               ff_failure *failure) {
    const Fundflow__V1__DelegationRevoked *event = payload->delegation_revoked;
    ff_err err = command_identifier_check(event->delegation_id, "delegation_id", failure);
    if (!err && !calendar_date_valid(event->effective_to)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                          "effective_to %u is not a real date", event->effective_to);
    }
    return err;
}

const command_event_rule command_delegation_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED, command_service_line_check},
    {FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED, command_delegation_granted_check},
    {FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED, command_delegation_revoked_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
