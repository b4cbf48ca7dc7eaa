/* The checks of contracts' events: agreement and its terms, variations, payments and outcome
 * reports. */
#include "command.h"

#include <string.h>

#include "command_field.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err command_metrics_check(const Fundflow__V1__ContractAgreed *event,
                                    ff_failure *failure) {
    bool outcome = event->type == FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED;
    if (!outcome) {
        if (event->withheld_pot_pence == 0 && event->n_metrics == 0) return FF_OK;
        return failure_set(failure, FF_ERR_TERMS_INVALID, "withheld_pot_pence",
                           "only an outcome-based contract withholds a pot or has metrics");
    }
    if (event->withheld_pot_pence <= 0 || event->withheld_pot_pence > event->annual_value_pence) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "withheld_pot_pence",
                           "an outcome-based contract withholds a pot of 1p up to its value");
    }
    if (event->n_metrics == 0 || event->n_metrics > FF_METRICS_MAX) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics",
                           "an outcome-based contract has 1 to %d metrics", FF_METRICS_MAX);
    }
    uint32_t weights = 0;
    for (size_t i = 0; i < event->n_metrics; i++) {
        const Fundflow__V1__OutcomeMetric *metric = event->metrics[i];
        ff_err err = command_org_code_check(metric->code, "metrics.code", true, failure);
        if (!err) err = command_text_check(metric->description, "metrics.description",
                                           FF_DESCRIPTION_BYTES_MAX, false, failure);
        if (err) return err;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(metric->code, event->metrics[j]->code) == 0) {
                return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics.code",
                                   "metric %s is listed twice", metric->code);
            }
        }
        if (metric->weight_bp == 0 || metric->weight_bp > FF_BASIS_POINTS_WHOLE) {
            return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics.weight_bp",
                               "metric %s weighs %u basis points; each weighs 1 to %d",
                               metric->code, metric->weight_bp, FF_BASIS_POINTS_WHOLE);
        }
        weights += metric->weight_bp;
    }
    if (weights == FF_BASIS_POINTS_WHOLE) return FF_OK;
    return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics.weight_bp",
                       "the metrics' weights add to %u basis points, not %d", weights,
                       FF_BASIS_POINTS_WHOLE);
}

static ff_err command_contract_terms_check(const Fundflow__V1__ContractAgreed *event,
                                           ff_failure *failure) {
    if (event->annual_value_pence <= 0) {
        return failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "annual_value_pence",
                           "annual_value_pence is %lld; it must be at least 1",
                           (long long)event->annual_value_pence);
    }
    if (event->fixed_value_pence < 0 || event->fixed_value_pence > event->annual_value_pence) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "fixed_value_pence",
                           "the fixed element must lie between 0 and the annual value");
    }
    if (event->cquin_share_bp > FF_BASIS_POINTS_WHOLE) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "cquin_share_bp",
                           "cquin_share_bp %u is more than %d", event->cquin_share_bp,
                           FF_BASIS_POINTS_WHOLE);
    }
    bool specialised = event->stream == FUNDFLOW__V1__STREAM__SPECIALISED;
    if (specialised && event->service_line_code[0] == '\0') {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "service_line_code",
                           "a specialised contract names its service line");
    }
    return command_metrics_check(event, failure);
}

static ff_err command_contract_agreed_check(const Fundflow__V1__Event *payload,
                                            ff_failure *failure) {
    const Fundflow__V1__ContractAgreed *event = payload->contract_agreed;
    ff_err err = command_identifier_check(event->contract_id, "contract_id", failure);
    if (!err) err = command_org_code_check(event->commissioner_code, "commissioner_code", true,
                                           failure);
    if (!err) err = command_org_code_check(event->provider_code, "provider_code", true, failure);
    if (!err && strcmp(event->commissioner_code, event->provider_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, "provider_code",
                          "an organisation cannot contract with itself");
    }
    if (!err) err = command_enum_check(&fundflow__v1__contract_type__descriptor, event->type,
                                       "type", failure);
    if (!err) err = command_year_check(event->financial_year, failure);
    if (!err) err = command_enum_check(&fundflow__v1__stream__descriptor, event->stream, "stream",
                                       failure);
    if (!err && event->service_category != 0) {
        err = command_enum_check(&fundflow__v1__service_category__descriptor,
                                 event->service_category, "service_category", failure);
    }
    if (!err) err = command_org_code_check(event->service_line_code, "service_line_code", false,
                                           failure);
    if (!err) err = command_contract_terms_check(event, failure);
    return err;
}

static ff_err command_contract_varied_check(const Fundflow__V1__Event *payload,
                                            ff_failure *failure) {
    const Fundflow__V1__ContractVaried *event = payload->contract_varied;
    ff_err err = command_identifier_check(event->contract_id, "contract_id", failure);
    if (!err && event->change_pence == 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "change_pence",
                          "change_pence must not be 0");
    }
    if (!err && event->change_pence == INT64_MIN) {
        err = failure_set(failure, FF_ERR_SUM_OVERFLOW, "change_pence", "change_pence is too low");
    }
    if (!err) err = command_text_check(event->reason, "reason", FF_REASON_BYTES_MAX, true, failure);
    return err;
}

static ff_err command_payment_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__PaymentMade *event = payload->payment_made;
    ff_err err = command_identifier_check(event->contract_id, "contract_id", failure);
    if (!err) err = command_month_check(event->month, failure);
    if (!err && event->amount_pence <= 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence",
                          "amount_pence is %lld; it must be at least 1",
                          (long long)event->amount_pence);
    }
    if (!err) err = command_text_check(event->reference, "reference", FF_REFERENCE_BYTES_MAX, false,
                                       failure);
    return err;
}

static ff_err command_outcome_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__OutcomeReported *event = payload->outcome_reported;
    ff_err err = command_identifier_check(event->contract_id, "contract_id", failure);
    if (!err) err = command_org_code_check(event->metric_code, "metric_code", true, failure);
    if (!err && event->achievement_bp > FF_BASIS_POINTS_WHOLE) {
        err = failure_set(failure, FF_ERR_TERMS_INVALID, "achievement_bp",
                          "achievement_bp %u is more than %d", event->achievement_bp,
                          FF_BASIS_POINTS_WHOLE);
    }
    return err;
}

const command_event_rule command_contract_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED, command_contract_agreed_check},
    {FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED, command_contract_varied_check},
    {FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE, command_payment_check},
    {FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED, command_outcome_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
