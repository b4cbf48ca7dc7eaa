/* Static checks on the domain events: organisations' links, service lines, delegations,
 * contracts, payments, outcomes, statements and period closes. */
#include "command.h"

#include <stdio.h>
#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"

/* The code each kind of organisation must have, as a pattern the checker below reads: a literal
 * upper-case letter, 'a' for a letter or digit, 'd' for a digit; min_length lets the last
 * 'a's be optional. */
static const struct {
    Fundflow__V1__OrgKind kind;
    const char *pattern;
    size_t min_length;
    const char *example;
} command_code_formats[] = {
    {FUNDFLOW__V1__ORG_KIND__NHSE, "Xaa", 3, "X followed by two letters or digits, such as X24"},
    {FUNDFLOW__V1__ORG_KIND__REGION, "Ydd", 3, "Y followed by two digits, such as Y61"},
    {FUNDFLOW__V1__ORG_KIND__ICB, "Qaa", 3, "Q followed by two letters or digits, such as QWE"},
    {FUNDFLOW__V1__ORG_KIND__PLACE, "aaaaa", 3,
     "three to five letters or digits (a sub-ICB location code), such as 06H or M2L0M"},
    {FUNDFLOW__V1__ORG_KIND__TRUST, "Raaaa", 3, "R followed by two to four letters or digits"},
    {FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE, "?aaaaa", 6,
     "a letter followed by five letters or digits, such as A81001"},
    {FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, "?aaaa", 3,
     "a letter followed by two to four letters or digits"},
    {FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, "Edddddddd", 9,
     "an ONS code: E followed by eight digits"},
};

static bool command_code_matches(const char *code, const char *pattern, size_t min_length) {
    size_t length = strlen(code);
    if (length < min_length || length > strlen(pattern)) return false;
    for (size_t i = 0; i < length; i++) {
        char want = pattern[i], c = code[i];
        bool digit = c >= '0' && c <= '9', letter = c >= 'A' && c <= 'Z';
        bool ok = want == 'a' ? digit || letter : want == 'd' ? digit : want == '?' ? letter
                                                                                    : c == want;
        if (!ok) return false;
    }
    return true;
}

ff_err command_org_code_kind_check(const char *code, Fundflow__V1__OrgKind kind,
                                   ff_failure *failure) {
    for (size_t i = 0; i < sizeof command_code_formats / sizeof command_code_formats[0]; i++) {
        if (command_code_formats[i].kind != kind) continue;
        if (command_code_matches(code, command_code_formats[i].pattern,
                                 command_code_formats[i].min_length)) {
            return FF_OK;
        }
        const ProtobufCEnumValue *name =
            protobuf_c_enum_descriptor_get_value(&fundflow__v1__org_kind__descriptor, kind);
        return failure_set(failure, FF_ERR_CODE_INVALID, "code", "code %s: a %s code is %s", code,
                           name ? name->name : "", command_code_formats[i].example);
    }
    return FF_OK;
}

ff_err command_identifier_check(const char *identifier, const char *field, ff_failure *failure) {
    size_t length = identifier ? strlen(identifier) : 0;
    if (length == 0) return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    bool ok = length >= 2 && length <= FF_IDENTIFIER_BYTES_MAX;
    for (size_t i = 0; ok && i < length; i++) {
        char c = identifier[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    }
    if (ok) return FF_OK;
    return failure_set(failure, FF_ERR_CODE_INVALID, field,
                       "%s \"%.40s\" must be 2 to %d upper-case letters, digits or hyphens", field,
                       identifier, FF_IDENTIFIER_BYTES_MAX);
}

/* Checks a list of organisation codes: each well formed, none twice, at most limit. */
static ff_err command_code_list_check(char *const *codes, size_t count, const char *field,
                                      size_t limit, ff_failure *failure) {
    if (count > limit) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, field,
                           "%s lists %zu organisations; the limit is %zu", field, count, limit);
    }
    for (size_t i = 0; i < count; i++) {
        ff_err err = command_org_code_check(codes[i], field, true, failure);
        if (err != FF_OK) return err;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(codes[i], codes[j]) == 0) {
                return failure_set(failure, FF_ERR_MEMBER_INVALID, field, "%s lists %s twice",
                                   field, codes[i]);
            }
        }
    }
    return FF_OK;
}

static bool command_code_listed(const char *code, char *const *codes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(code, codes[i]) == 0) return true;
    }
    return false;
}

ff_err command_members_check(Fundflow__V1__OrgKind kind, char *const *members,
                             size_t member_count, const char *lead_provider_code,
                             ff_failure *failure) {
    bool has_lead = lead_provider_code != NULL && lead_provider_code[0] != '\0';
    bool grouping = kind == FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE ||
                    kind == FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE;
    if ((member_count > 0 || has_lead) && !grouping) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "member_codes",
                           "only provider collaboratives and joint committees have members");
    }
    ff_err err = command_code_list_check(members, member_count, "member_codes", FF_MEMBERS_MAX,
                                         failure);
    if (err != FF_OK) return err;
    if (has_lead && kind != FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "lead_provider_code",
                           "only a provider collaborative has a lead provider");
    }
    if (has_lead && !command_code_listed(lead_provider_code, members, member_count)) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "lead_provider_code",
                           "lead provider %s must be one of the members", lead_provider_code);
    }
    if (kind == FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE && member_count > 0 && !has_lead) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "lead_provider_code",
                           "a provider collaborative with members needs a lead provider");
    }
    return FF_OK;
}

ff_err command_month_check(uint32_t month, ff_failure *failure) {
    if (month >= 1 && month <= 12) return FF_OK;
    return failure_set(failure, FF_ERR_DATE_INVALID, "month",
                       "month %u must be 1 (April) to 12 (March)", month);
}

ff_err command_year_check(uint32_t year, ff_failure *failure) {
    if (calendar_year_valid(year)) return FF_OK;
    return failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                       "financial_year %u must start between %d and %d", year, FF_YEAR_FIRST,
                       FF_YEAR_LAST);
}

ff_err command_org_updated_check(const Fundflow__V1__OrgUpdated *event, ff_failure *failure) {
    ff_err err = command_org_code_check(event->code, "code", true, failure);
    if (!err && event->name[0] != '\0') {
        err = command_text_check(event->name, "name", FF_ORG_NAME_BYTES_MAX, true, failure);
    }
    if (!err) err = command_org_code_check(event->parent_code, "parent_code", false, failure);
    if (!err && strcmp(event->code, event->parent_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, "parent_code",
                          "an organisation cannot be its own parent");
    }
    if (!err) {
        err = command_code_list_check(event->member_codes, event->n_member_codes, "member_codes",
                                      FF_MEMBERS_MAX, failure);
    }
    if (!err && !event->set_members && event->n_member_codes > 0) {
        err = failure_set(failure, FF_ERR_MEMBER_INVALID, "set_members",
                          "member_codes is only read when set_members is true");
    }
    if (!err) {
        err = command_org_code_check(event->lead_provider_code, "lead_provider_code", false,
                                     failure);
    }
    return err;
}

ff_err command_service_line_check(const Fundflow__V1__ServiceLineRegistered *event,
                                  ff_failure *failure) {
    ff_err err = command_org_code_check(event->code, "code", true, failure);
    if (!err) err = command_text_check(event->name, "name", FF_ORG_NAME_BYTES_MAX, true, failure);
    if (!err) {
        err = command_enum_check(&fundflow__v1__service_category__descriptor, event->category,
                                 "category", failure);
    }
    return err;
}

ff_err command_delegation_granted_check(const Fundflow__V1__DelegationGranted *event,
                                        ff_failure *failure) {
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
    if (!err && event->effective_to != 0 &&
        (!calendar_date_valid(event->effective_to) || event->effective_to < event->effective_from)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                          "effective_to %u must be a real date on or after %u, or 0",
                          event->effective_to, event->effective_from);
    }
    return err;
}

ff_err command_delegation_revoked_check(const Fundflow__V1__DelegationRevoked *event,
                                        ff_failure *failure) {
    ff_err err = command_identifier_check(event->delegation_id, "delegation_id", failure);
    if (!err && !calendar_date_valid(event->effective_to)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                          "effective_to %u is not a real date", event->effective_to);
    }
    return err;
}

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
        if (metric->weight_bp == 0 || metric->weight_bp > 10000) {
            return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics.weight_bp",
                               "metric %s weighs %u basis points; each weighs 1 to 10000",
                               metric->code, metric->weight_bp);
        }
        weights += metric->weight_bp;
    }
    if (weights == 10000) return FF_OK;
    return failure_set(failure, FF_ERR_TERMS_INVALID, "metrics.weight_bp",
                       "the metrics' weights add to %u basis points, not 10000", weights);
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
    if (event->cquin_share_bp > 10000) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "cquin_share_bp",
                           "cquin_share_bp %u is more than 10000", event->cquin_share_bp);
    }
    bool specialised = event->stream == FUNDFLOW__V1__STREAM__SPECIALISED;
    if (specialised && event->service_line_code[0] == '\0') {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "service_line_code",
                           "a specialised contract names its service line");
    }
    return command_metrics_check(event, failure);
}

ff_err command_contract_agreed_check(const Fundflow__V1__ContractAgreed *event,
                                     ff_failure *failure) {
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

ff_err command_contract_varied_check(const Fundflow__V1__ContractVaried *event,
                                     ff_failure *failure) {
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

ff_err command_payment_check(const Fundflow__V1__PaymentMade *event, ff_failure *failure) {
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

ff_err command_outcome_check(const Fundflow__V1__OutcomeReported *event, ff_failure *failure) {
    ff_err err = command_identifier_check(event->contract_id, "contract_id", failure);
    if (!err) err = command_org_code_check(event->metric_code, "metric_code", true, failure);
    if (!err && event->achievement_bp > 10000) {
        err = failure_set(failure, FF_ERR_TERMS_INVALID, "achievement_bp",
                          "achievement_bp %u is more than 10000", event->achievement_bp);
    }
    return err;
}

ff_err command_statement_check(const Fundflow__V1__StatementSubmitted *event,
                               ff_failure *failure) {
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

ff_err command_period_check(const Fundflow__V1__PeriodClosed *event, ff_failure *failure) {
    ff_err err = command_org_code_check(event->org_code, "org_code", true, failure);
    if (!err) err = command_year_check(event->financial_year, failure);
    if (!err) err = command_month_check(event->month, failure);
    return err;
}
