/* The static checks of NHS England's revenue limits (RevenueLimitSet): who sets it, for which
 * stream and year, and that the limit is a whole number of pence no lower than zero. */
#include "command.h"

#include "command_field.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err command_limit_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__RevenueLimitSet *limit = payload->revenue_limit_set;
    ff_err err = command_org_code_check(limit->funder_code, "funder_code", true, failure);
    if (!err) {
        err = command_enum_check(&fundflow__v1__stream__descriptor, limit->stream, "stream",
                                 failure);
    }
    if (!err) err = command_year_check(limit->financial_year, failure);
    if (!err && limit->limit_pence < 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "limit_pence",
                          "limit_pence is %lld; a revenue limit is at least 0",
                          (long long)limit->limit_pence);
    }
    if (!err) {
        err = command_text_check(limit->reference, "reference", FF_REFERENCE_BYTES_MAX, false,
                                 failure);
    }
    return err;
}

const command_event_rule command_limit_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET, command_limit_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
