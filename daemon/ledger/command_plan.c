/* The checks of a plan's own fields: the organisation, stream and year, and twelve monthly
 * amounts of expenditure, each 0 or more, whose sum fits in int64 pence. */
#include "command.h"

#include "command_field.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "ledger_write.h"

static ff_err command_plan_months_check(const Fundflow__V1__PlanSet *plan, ff_failure *failure) {
    if (plan->n_month_amounts_pence != FF_MONTHS_PER_YEAR) {
        return failure_set(failure, FF_ERR_PLAN_MONTHS_INVALID, "month_amounts_pence",
                           "a plan has %d monthly amounts (M1 to M12), not %zu",
                           FF_MONTHS_PER_YEAR, plan->n_month_amounts_pence);
    }
    int64_t total = 0;
    for (size_t month = 0; month < plan->n_month_amounts_pence; month++) {
        int64_t amount = plan->month_amounts_pence[month];
        if (amount < 0) {
            return failure_set(failure, FF_ERR_PLAN_MONTHS_INVALID, "month_amounts_pence",
                               "M%zu's amount is %lld pence; a planned amount is 0 or more",
                               month + 1, (long long)amount);
        }
        if (money_add(total, amount, &total) != FF_OK) {
            return failure_set(failure, FF_ERR_SUM_OVERFLOW, "month_amounts_pence",
                               "the twelve amounts add up to more than int64 pence can hold");
        }
    }
    return FF_OK;
}

static ff_err command_plan_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__PlanSet *plan = payload->plan_set;
    ff_err err = command_org_code_check(plan->org_code, "org_code", true, failure);
    if (!err) err = command_enum_check(&fundflow__v1__stream__descriptor, plan->stream, "stream",
                                       failure);
    if (!err) err = command_year_check(plan->financial_year, failure);
    if (!err) err = command_plan_months_check(plan, failure);
    if (!err) err = command_text_check(plan->reason, "reason", FF_REASON_BYTES_MAX, false,
                                       failure);
    return err;
}

const command_event_rule command_plan_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_PLAN_SET, command_plan_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
