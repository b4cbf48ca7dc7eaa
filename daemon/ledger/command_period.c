/* The checks of the month-end events: agreement-of-balances statements and period closes. */
#include "command.h"

#include <string.h>

#include "command_field.h"
#include "ledger_write.h"

static ff_err command_statement_check(const Fundflow__V1__Event *payload,
                                      ff_failure *failure) {
    const Fundflow__V1__StatementSubmitted *event = payload->statement_submitted;
    ff_err err = command_org_code_check(event->org_code, "org_code", true, failure);
    if (!err) err = command_org_code_check(event->counterparty_code, "counterparty_code", true,
                                           failure);
    if (!err && strcmp(event->org_code, event->counterparty_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, "counterparty_code",
                          "a statement is between two different bodies");
    }
    if (!err) err = command_year_check(event->financial_year, failure);
    if (!err) err = command_month_check(event->month, failure);
    if (!err) err = command_enum_check(&fundflow__v1__statement_kind__descriptor, event->kind,
                                       "kind", failure);
    if (!err && event->amount_pence < 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence",
                          "a statement's amount is 0 or more");
    }
    return err;
}

static ff_err command_period_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__PeriodClosed *event = payload->period_closed;
    ff_err err = command_org_code_check(event->org_code, "org_code", true, failure);
    if (!err) err = command_year_check(event->financial_year, failure);
    if (!err) err = command_month_check(event->month, failure);
    return err;
}

const command_event_rule command_period_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED, command_statement_check},
    {FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED, command_period_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
