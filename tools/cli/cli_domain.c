/* The fundflow client's writes for the funding-flow domain: organisations' updates, service
 * lines, delegations, contracts and their variations, payments, outcome reports, statements and
 * period closes. Each builds one event from the checked options and sends it with
 * cli_command_send. */
#include <assert.h>
#include <string.h>

#include "cli.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/v1/events.pb-c.h"

int cli_org_update_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__OrgUpdated update = FUNDFLOW__V1__ORG_UPDATED__INIT;
    update.code = (char *)options->operand;
    update.name = cli_text_or_empty(options->name);
    update.parent_code = cli_text_or_empty(options->parent_code);
    update.set_members = options->members_given || options->no_members;
    update.member_codes = (char **)options->members.codes;
    update.n_member_codes = options->members.count;
    update.lead_provider_code = cli_text_or_empty(options->lead_code);
    assert(!options->no_members || options->members.count == 0);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED;
    event.org_updated = &update;
    return cli_command_send(options, session, &event);
}

int cli_service_line_add_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__ServiceLineRegistered line = FUNDFLOW__V1__SERVICE_LINE_REGISTERED__INIT;
    line.code = (char *)options->operand;
    line.name = (char *)options->name;
    line.category = (Fundflow__V1__ServiceCategory)options->category;
    line.retained_nationally = options->retained;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED;
    event.service_line_registered = &line;
    return cli_command_send(options, session, &event);
}

int cli_delegation_grant_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__DelegationGranted grant = FUNDFLOW__V1__DELEGATION_GRANTED__INIT;
    grant.delegation_id = (char *)options->operand;
    grant.delegate_code = (char *)options->to_code;
    grant.service_line_codes = (char **)options->lines.codes;
    grant.n_service_line_codes = options->lines.count;
    grant.population_codes = (char **)options->population.codes;
    grant.n_population_codes = options->population.count;
    grant.mode = (Fundflow__V1__DelegationMode)options->mode;
    grant.effective_from = options->from_date;
    grant.effective_to = options->until_date;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED;
    event.delegation_granted = &grant;
    return cli_command_send(options, session, &event);
}

int cli_delegation_revoke_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__DelegationRevoked revoke = FUNDFLOW__V1__DELEGATION_REVOKED__INIT;
    revoke.delegation_id = (char *)options->operand;
    revoke.effective_to = options->until_date;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED;
    event.delegation_revoked = &revoke;
    return cli_command_send(options, session, &event);
}

int cli_contract_agree_run(const cli_options *options, cli_session *session) {
    assert(options->metric_count <= FF_METRICS_MAX);
    Fundflow__V1__OutcomeMetric metrics[FF_METRICS_MAX], *metric_pointers[FF_METRICS_MAX];
    for (size_t i = 0; i < options->metric_count; i++) {
        fundflow__v1__outcome_metric__init(&metrics[i]);
        metrics[i].code = (char *)options->metrics[i].code;
        metrics[i].description = (char *)options->metrics[i].description;
        metrics[i].weight_bp = options->metrics[i].weight_bp;
        metric_pointers[i] = &metrics[i];
    }
    Fundflow__V1__ContractAgreed terms = FUNDFLOW__V1__CONTRACT_AGREED__INIT;
    terms.contract_id = (char *)options->operand;
    terms.commissioner_code = (char *)options->commissioner_code;
    terms.provider_code = (char *)options->provider_code;
    terms.type = (Fundflow__V1__ContractType)options->contract_type;
    terms.financial_year = options->financial_year;
    terms.stream = (Fundflow__V1__Stream)options->stream;
    terms.annual_value_pence = options->value_pence;
    terms.fixed_value_pence = options->fixed_pence;
    terms.service_category = (Fundflow__V1__ServiceCategory)options->category;
    terms.service_line_code = cli_text_or_empty(options->line_code);
    terms.cquin_share_bp = options->cquin_bp;
    terms.withheld_pot_pence = options->pot_pence;
    terms.metrics = metric_pointers;
    terms.n_metrics = options->metric_count;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED;
    event.contract_agreed = &terms;
    return cli_command_send(options, session, &event);
}

int cli_contract_vary_run(const cli_options *options, cli_session *session) {
    assert(options->change_pence != 0);
    Fundflow__V1__ContractVaried variation = FUNDFLOW__V1__CONTRACT_VARIED__INIT;
    variation.contract_id = (char *)options->operand;
    variation.change_pence = options->change_pence;
    variation.reason = (char *)options->reason;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED;
    event.contract_varied = &variation;
    return cli_command_send(options, session, &event);
}

int cli_pay_run(const cli_options *options, cli_session *session) {
    assert(options->month >= 1 && options->month <= 12);
    Fundflow__V1__PaymentMade payment = FUNDFLOW__V1__PAYMENT_MADE__INIT;
    payment.contract_id = (char *)options->operand;
    payment.month = options->month;
    payment.amount_pence = options->amount_pence;
    payment.reference = cli_text_or_empty(options->reference);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
    event.payment_made = &payment;
    return cli_command_send(options, session, &event);
}

int cli_outcome_run(const cli_options *options, cli_session *session) {
    assert(options->achievement_given == 1 && options->achievement_bp <= FF_BASIS_POINTS_WHOLE);
    Fundflow__V1__OutcomeReported report = FUNDFLOW__V1__OUTCOME_REPORTED__INIT;
    report.contract_id = (char *)options->operand;
    report.metric_code = (char *)options->metric_code;
    report.achievement_bp = options->achievement_bp;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED;
    event.outcome_reported = &report;
    return cli_command_send(options, session, &event);
}

int cli_statement_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__StatementSubmitted statement = FUNDFLOW__V1__STATEMENT_SUBMITTED__INIT;
    statement.org_code = (char *)options->org_code;
    statement.counterparty_code = (char *)options->counterparty_code;
    statement.financial_year = options->financial_year;
    statement.month = options->month;
    statement.kind = (Fundflow__V1__StatementKind)options->statement_kind;
    statement.amount_pence = options->amount_pence;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED;
    event.statement_submitted = &statement;
    return cli_command_send(options, session, &event);
}

int cli_close_period_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__PeriodClosed period = FUNDFLOW__V1__PERIOD_CLOSED__INIT;
    period.org_code = (char *)options->operand;
    period.financial_year = options->financial_year;
    period.month = options->month;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED;
    event.period_closed = &period;
    return cli_command_send(options, session, &event);
}
