/* The checks of the events that move money between organisations: allocations, budgets passed
 * on, and reversals of either (or of a contract's events). */
#include "command.h"

#include <string.h>

#include "command_field.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err command_transfer_check(const char *from_code, const char *from_field,
                                     const char *to_code, const char *to_field, int stream,
                                     uint32_t financial_year, int64_t amount_pence,
                                     const char *reference, ff_failure *failure) {
    ff_err err = command_org_code_check(from_code, from_field, true, failure);
    if (!err) err = command_org_code_check(to_code, to_field, true, failure);
    if (!err && strcmp(from_code, to_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, to_field, "%s and %s are both %s", from_field,
                          to_field, to_code);
    }
    if (!err) {
        err = command_enum_check(&fundflow__v1__stream__descriptor, stream, "stream", failure);
    }
    if (!err && !calendar_year_valid(financial_year)) {
        err = failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                          "financial_year %u must start between %d and %d", financial_year,
                          FF_YEAR_FIRST, FF_YEAR_LAST);
    }
    if (!err && amount_pence <= 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence",
                          "amount_pence is %lld; it must be at least 1", (long long)amount_pence);
    }
    if (!err) err = command_text_check(reference, "reference", FF_REFERENCE_BYTES_MAX, false,
                                       failure);
    return err;
}

static ff_err command_allocation_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__AllocationIssued *allocation = payload->allocation_issued;
    ff_err err = command_transfer_check(allocation->funder_code, "funder_code",
                                        allocation->recipient_code, "recipient_code",
                                        allocation->stream, allocation->financial_year,
                                        allocation->amount_pence, allocation->reference, failure);
    if (!err && allocation->delegation_id[0] != '\0') {
        err = command_identifier_check(allocation->delegation_id, "delegation_id", failure);
    }
    return err;
}

static ff_err command_budget_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__BudgetDelegated *budget = payload->budget_delegated;
    return command_transfer_check(budget->from_code, "from_code", budget->to_code, "to_code",
                                  budget->stream, budget->financial_year, budget->amount_pence,
                                  budget->reference, failure);
}

static ff_err command_reversal_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__Reversal *event = payload->reversal;
    if (event->reversed_sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "reversed_sequence",
                           "reversed_sequence must name the event to reverse");
    }
    return command_text_check(event->reason, "reason", FF_REASON_BYTES_MAX, true, failure);
}

const command_event_rule command_transfer_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED, command_allocation_check},
    {FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED, command_budget_check},
    {FUNDFLOW__V1__EVENT__KIND_REVERSAL, command_reversal_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
