/* The fundflow client's descriptions of events, in a line for the events table and as a
 * key/value block for "fundflow event": first the funding-flow domain's events, then the core's
 * (registrations, allocations, budgets and reversals), which fall back on the domain's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_output_events.h"

#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Bytes of a token's SHA-256 shown: enough to tell two principals' tokens apart by eye, never
 * the whole hash. */
#define CLI_TOKEN_HASH_SHOWN_BYTES 4
#define CLI_TOKEN_HASH_TEXT_BYTES (2 * CLI_TOKEN_HASH_SHOWN_BYTES + sizeof "…")

/* "ab12cd34…": the start of a token's hash, or "-" when there is none. */
static const char *cli_token_hash_text(ProtobufCBinaryData sha256, char *text) {
    if (sha256.len < CLI_TOKEN_HASH_SHOWN_BYTES) return "-";
    for (size_t i = 0; i < CLI_TOKEN_HASH_SHOWN_BYTES; i++) {
        snprintf(text + 2 * i, 3, "%02x", sha256.data[i]);
    }
    memcpy(text + 2 * CLI_TOKEN_HASH_SHOWN_BYTES, "…", sizeof "…");
    return text;
}

/* Lines -------------------------------------------------------------------------------------- */

static void cli_principal_granted_line(const Fundflow__V1__PrincipalGranted *grant,
                                       char *buffer, size_t buffer_bytes) {
    char role[CLI_ENUM_NAME_BYTES_MAX], hash[CLI_TOKEN_HASH_TEXT_BYTES];
    snprintf(buffer, buffer_bytes, "grant %s %s scope %s token sha256 %s", grant->name,
             cli_enum_text(&fundflow__v1__principal_role__descriptor, grant->role, role,
                           sizeof role),
             grant->scope_org_code[0] ? grant->scope_org_code : "national",
             cli_token_hash_text(grant->token_sha256, hash));
}

static void cli_org_updated_line(const Fundflow__V1__OrgUpdated *update, char *buffer,
                                 size_t buffer_bytes) {
    char members[CLI_CODES_TEXT_BYTES];
    cli_codes_text(update->member_codes, update->n_member_codes, members, sizeof members);
    snprintf(buffer, buffer_bytes, "update %s%s%s%s%s%s%s%s%s%s", update->code,
             update->name[0] ? " name \"" : "", update->name, update->name[0] ? "\"" : "",
             update->parent_code[0] ? " parent " : "", update->parent_code,
             update->set_members ? " members " : "", update->set_members ? members : "",
             update->lead_provider_code[0] ? " lead " : "", update->lead_provider_code);
}

static void cli_delegation_granted_line(const Fundflow__V1__DelegationGranted *grant,
                                        char *buffer, size_t buffer_bytes) {
    char mode[CLI_ENUM_NAME_BYTES_MAX], lines[CLI_CODES_TEXT_BYTES],
        population[CLI_CODES_TEXT_BYTES], from[16], until[16];
    snprintf(buffer, buffer_bytes, "delegate %s to %s (%s) lines %s for %s from %s until %s",
             grant->delegation_id, grant->delegate_code,
             cli_delegation_mode_text(grant->mode, mode, sizeof mode),
             cli_codes_text(grant->service_line_codes, grant->n_service_line_codes, lines,
                            sizeof lines),
             cli_codes_text(grant->population_codes, grant->n_population_codes, population,
                            sizeof population),
             cli_date_text(grant->effective_from, from, sizeof from),
             grant->effective_to ? cli_date_text(grant->effective_to, until, sizeof until)
                                 : "open-ended");
}

static void cli_contract_agreed_line(const Fundflow__V1__ContractAgreed *terms, char *buffer,
                                     size_t buffer_bytes) {
    char type[CLI_ENUM_NAME_BYTES_MAX], stream[CLI_ENUM_NAME_BYTES_MAX], year[16],
        value[FF_MONEY_TEXT_BYTES];
    money_format(terms->annual_value_pence, value, sizeof value);
    snprintf(buffer, buffer_bytes, "contract %s %s -> %s %s %s %s %s", terms->contract_id,
             terms->commissioner_code, terms->provider_code,
             cli_enum_text(&fundflow__v1__contract_type__descriptor, terms->type, type,
                           sizeof type),
             cli_enum_text(&fundflow__v1__stream__descriptor, terms->stream, stream,
                           sizeof stream),
             cli_year_text(terms->financial_year, year, sizeof year),
             value);
}

static void cli_statement_line(const Fundflow__V1__StatementSubmitted *statement, char *buffer,
                               size_t buffer_bytes) {
    char kind[CLI_ENUM_NAME_BYTES_MAX], year[16], amount[FF_MONEY_TEXT_BYTES];
    money_format(statement->amount_pence, amount, sizeof amount);
    snprintf(buffer, buffer_bytes, "statement %s with %s %s %s M%u %s", statement->org_code,
             statement->counterparty_code,
             cli_enum_text(&fundflow__v1__statement_kind__descriptor, statement->kind, kind,
                           sizeof kind),
             cli_year_text(statement->financial_year, year, sizeof year), statement->month,
             amount);
}

/* The total of a plan's months; the ledger refused plans whose sum overflows, so a sum that
 * does not fit is shown as 0 rather than trusted. */
static int64_t cli_plan_total(const Fundflow__V1__PlanSet *plan) {
    int64_t total = 0;
    for (size_t month = 0; month < plan->n_month_amounts_pence; month++) {
        if (money_add(total, plan->month_amounts_pence[month], &total) != FF_OK) return 0;
    }
    return total;
}

static void cli_plan_line(const Fundflow__V1__PlanSet *plan, char *buffer, size_t buffer_bytes) {
    char stream[CLI_ENUM_NAME_BYTES_MAX], money[FF_MONEY_TEXT_BYTES], year[16];
    money_format(cli_plan_total(plan), money, sizeof money);
    snprintf(buffer, buffer_bytes, "plan %s %s %s: %s for the year%s%s", plan->org_code,
             cli_enum_text(&fundflow__v1__stream__descriptor, plan->stream, stream,
                           sizeof stream),
             cli_year_text(plan->financial_year, year, sizeof year), money,
             plan->reason[0] ? ": " : "", plan->reason);
}

/* The line of an event the funding-flow domain added; false, doing nothing, for any other. */
static bool cli_domain_event_line(const Fundflow__V1__Event *event, char *buffer,
                                  size_t buffer_bytes) {
    char text[CLI_ENUM_NAME_BYTES_MAX], money[FF_MONEY_TEXT_BYTES], date[16], year[16];
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
        cli_org_updated_line(event->org_updated, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED: {
        const Fundflow__V1__ServiceLineRegistered *line = event->service_line_registered;
        snprintf(buffer, buffer_bytes, "service line %s (%s) \"%s\"%s", line->code,
                 cli_enum_text(&fundflow__v1__service_category__descriptor, line->category, text,
                               sizeof text),
                 line->name, line->retained_nationally ? " retained nationally" : "");
        return true;
    }
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
        cli_delegation_granted_line(event->delegation_granted, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED:
        snprintf(buffer, buffer_bytes, "revoke delegation %s: it ends on %s",
                 event->delegation_revoked->delegation_id,
                 cli_date_text(event->delegation_revoked->effective_to, date, sizeof date));
        return true;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        cli_contract_agreed_line(event->contract_agreed, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        money_format(event->contract_varied->change_pence, money, sizeof money);
        snprintf(buffer, buffer_bytes, "vary %s by %s: %s", event->contract_varied->contract_id,
                 money, event->contract_varied->reason);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        money_format(event->payment_made->amount_pence, money, sizeof money);
        snprintf(buffer, buffer_bytes, "pay %s M%u (%s) %s", event->payment_made->contract_id,
                 event->payment_made->month, cli_month_name(event->payment_made->month), money);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        snprintf(buffer, buffer_bytes, "outcome %s metric %s achieved %s",
                 event->outcome_reported->contract_id, event->outcome_reported->metric_code,
                 cli_basis_points_text(event->outcome_reported->achievement_bp, text,
                                       sizeof text));
        return true;
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        cli_statement_line(event->statement_submitted, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        snprintf(buffer, buffer_bytes, "close M%u (%s) of %s for %s",
                 event->period_closed->month, cli_month_name(event->period_closed->month),
                 cli_year_text(event->period_closed->financial_year, year, sizeof year),
                 event->period_closed->org_code);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PLAN_SET:
        cli_plan_line(event->plan_set, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED:
        cli_principal_granted_line(event->principal_granted, buffer, buffer_bytes);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED:
        snprintf(buffer, buffer_bytes, "revoke %s%s%s", event->principal_revoked->name,
                 event->principal_revoked->reason[0] ? ": " : "",
                 event->principal_revoked->reason);
        return true;
    default:
        return false;
    }
}

/* Fields ------------------------------------------------------------------------------------- */

static void cli_principal_granted_fields_print(const Fundflow__V1__PrincipalGranted *grant) {
    char role[CLI_ENUM_NAME_BYTES_MAX], hash[CLI_TOKEN_HASH_TEXT_BYTES];
    cli_field_print("principal", "%s", grant->name);
    cli_field_print("role", "%s", cli_enum_text(&fundflow__v1__principal_role__descriptor,
                                                grant->role, role, sizeof role));
    cli_field_print("scope", "%s", grant->scope_org_code[0] ? grant->scope_org_code : "national");
    cli_field_print("token", "sha256 %s", cli_token_hash_text(grant->token_sha256, hash));
}

static void cli_enum_field_print(const char *label, const ProtobufCEnumDescriptor *descriptor,
                                 int value) {
    char text[CLI_ENUM_NAME_BYTES_MAX];
    cli_field_print(label, "%s", cli_enum_text(descriptor, value, text, sizeof text));
}

static void cli_codes_field_print(const char *label, char *const *codes, size_t count) {
    char text[CLI_CODES_TEXT_BYTES];
    cli_field_print(label, "%s", cli_codes_text(codes, count, text, sizeof text));
}

static void cli_date_field_print(const char *label, uint32_t date) {
    char text[16];
    cli_field_print(label, "%s", cli_date_text(date, text, sizeof text));
}

static void cli_year_field_print(uint32_t financial_year) {
    char text[16];
    cli_field_print("year", "%s", cli_year_text(financial_year, text, sizeof text));
}

static void cli_month_field_print(uint32_t month) {
    cli_field_print("month", "M%u (%s)", month, cli_month_name(month));
}

static void cli_org_updated_fields_print(const Fundflow__V1__OrgUpdated *update) {
    cli_field_print("code", "%s", update->code);
    cli_field_print("name", "%s", update->name[0] ? update->name : "(unchanged)");
    cli_field_print("parent", "%s", update->parent_code[0] ? update->parent_code : "(unchanged)");
    if (update->set_members) {
        cli_codes_field_print("members", update->member_codes, update->n_member_codes);
    } else {
        cli_field_print("members", "(unchanged)");
    }
    cli_field_print("lead provider", "%s",
                    update->lead_provider_code[0] ? update->lead_provider_code : "(unchanged)");
}

static void cli_delegation_granted_fields_print(const Fundflow__V1__DelegationGranted *grant) {
    char mode[CLI_ENUM_NAME_BYTES_MAX];
    cli_field_print("delegation", "%s", grant->delegation_id);
    cli_field_print("delegate", "%s", grant->delegate_code);
    cli_field_print("mode", "%s", cli_delegation_mode_text(grant->mode, mode, sizeof mode));
    cli_codes_field_print("service lines", grant->service_line_codes,
                          grant->n_service_line_codes);
    cli_codes_field_print("population", grant->population_codes, grant->n_population_codes);
    cli_date_field_print("from", grant->effective_from);
    if (grant->effective_to) cli_date_field_print("until", grant->effective_to);
    else cli_field_print("until", "open-ended");
}

static void cli_contract_agreed_fields_print(const Fundflow__V1__ContractAgreed *terms) {
    char share[16];
    cli_field_print("contract", "%s", terms->contract_id);
    cli_field_print("commissioner", "%s", terms->commissioner_code);
    cli_field_print("provider", "%s", terms->provider_code);
    cli_enum_field_print("type", &fundflow__v1__contract_type__descriptor, terms->type);
    cli_year_field_print(terms->financial_year);
    cli_enum_field_print("stream", &fundflow__v1__stream__descriptor, terms->stream);
    cli_money_field_print("annual value", terms->annual_value_pence);
    cli_money_field_print("fixed element", terms->fixed_value_pence);
    cli_enum_field_print("category", &fundflow__v1__service_category__descriptor,
                         terms->service_category);
    cli_field_print("service line", "%s",
                    terms->service_line_code[0] ? terms->service_line_code : "-");
    cli_field_print("CQUIN share", "%s",
                    cli_basis_points_text(terms->cquin_share_bp, share, sizeof share));
    cli_money_field_print("withheld pot", terms->withheld_pot_pence);
    for (size_t i = 0; i < terms->n_metrics; i++) {
        const Fundflow__V1__OutcomeMetric *metric = terms->metrics[i];
        cli_field_print("metric", "%s weight %s%s%s", metric->code,
                        cli_basis_points_text(metric->weight_bp, share, sizeof share),
                        metric->description[0] ? ": " : "", metric->description);
    }
}

static void cli_statement_fields_print(const Fundflow__V1__StatementSubmitted *statement) {
    cli_field_print("organisation", "%s", statement->org_code);
    cli_field_print("counterparty", "%s", statement->counterparty_code);
    cli_year_field_print(statement->financial_year);
    cli_month_field_print(statement->month);
    cli_enum_field_print("kind", &fundflow__v1__statement_kind__descriptor, statement->kind);
    cli_money_field_print("amount", statement->amount_pence);
}

static void cli_plan_fields_print(const Fundflow__V1__PlanSet *plan) {
    cli_field_print("organisation", "%s", plan->org_code);
    cli_enum_field_print("stream", &fundflow__v1__stream__descriptor, plan->stream);
    cli_year_field_print(plan->financial_year);
    for (size_t month = 0; month < plan->n_month_amounts_pence; month++) {
        char name[24];
        snprintf(name, sizeof name, "M%zu", month + 1);
        cli_money_field_print(name, plan->month_amounts_pence[month]);
    }
    cli_money_field_print("total", cli_plan_total(plan));
    cli_field_print("reason", "%s", plan->reason[0] ? plan->reason : "-");
}

/* The fields of an event the funding-flow domain added; false, doing nothing, for any other. */
static bool cli_domain_event_fields_print(const Fundflow__V1__Event *event) {
    char text[CLI_ENUM_NAME_BYTES_MAX];
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
        cli_org_updated_fields_print(event->org_updated);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED: {
        const Fundflow__V1__ServiceLineRegistered *line = event->service_line_registered;
        cli_field_print("code", "%s", line->code);
        cli_field_print("name", "%s", line->name);
        cli_enum_field_print("category", &fundflow__v1__service_category__descriptor,
                             line->category);
        cli_field_print("retained", "%s", line->retained_nationally ? "yes, nationally" : "no");
        return true;
    }
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
        cli_delegation_granted_fields_print(event->delegation_granted);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED:
        cli_field_print("delegation", "%s", event->delegation_revoked->delegation_id);
        cli_date_field_print("until", event->delegation_revoked->effective_to);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        cli_contract_agreed_fields_print(event->contract_agreed);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        cli_field_print("contract", "%s", event->contract_varied->contract_id);
        cli_money_field_print("change", event->contract_varied->change_pence);
        cli_field_print("reason", "%s", event->contract_varied->reason);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        cli_field_print("contract", "%s", event->payment_made->contract_id);
        cli_month_field_print(event->payment_made->month);
        cli_money_field_print("amount", event->payment_made->amount_pence);
        cli_field_print("reference", "%s",
                        event->payment_made->reference[0] ? event->payment_made->reference : "-");
        return true;
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        cli_field_print("contract", "%s", event->outcome_reported->contract_id);
        cli_field_print("metric", "%s", event->outcome_reported->metric_code);
        cli_field_print("achievement", "%s (%" PRIu32 " bp)",
                        cli_basis_points_text(event->outcome_reported->achievement_bp, text,
                                              sizeof text),
                        event->outcome_reported->achievement_bp);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        cli_statement_fields_print(event->statement_submitted);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PLAN_SET:
        cli_plan_fields_print(event->plan_set);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        cli_field_print("organisation", "%s", event->period_closed->org_code);
        cli_year_field_print(event->period_closed->financial_year);
        cli_month_field_print(event->period_closed->month);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED:
        cli_principal_granted_fields_print(event->principal_granted);
        return true;
    case FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED:
        cli_field_print("principal", "%s", event->principal_revoked->name);
        cli_field_print("reason", "%s", event->principal_revoked->reason[0]
                                            ? event->principal_revoked->reason : "-");
        return true;
    default:
        return false;
    }
}

/* Every event ---------------------------------------------------------------------------- */

/* The oneof's member names are the kinds' names, so new kinds need nothing here. */
const char *cli_event_kind_text(const Fundflow__V1__Event *event) {
    if (event == NULL || event->kind_case == FUNDFLOW__V1__EVENT__KIND__NOT_SET) return "none";
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(&fundflow__v1__event__descriptor,
                                                (unsigned)event->kind_case);
    return field != NULL ? field->name : "unknown";
}

/* "FROM -> TO stream year £amount", the part allocations and budgets share. */
static void cli_transfer_line(const char *verb, const char *from, const char *to, int stream,
                              uint32_t year, int64_t amount_pence, char *buffer,
                              size_t buffer_bytes) {
    char stream_text[CLI_ENUM_NAME_BYTES_MAX], year_text[16], money[FF_MONEY_TEXT_BYTES];
    cli_enum_text(&fundflow__v1__stream__descriptor, stream, stream_text, sizeof stream_text);
    cli_year_text(year, year_text, sizeof year_text);
    money_format(amount_pence, money, sizeof money);
    snprintf(buffer, buffer_bytes, "%s %s -> %s %s %s %s", verb, from, to, stream_text,
             year_text, money);
}

void cli_event_line(const Fundflow__V1__Event *event, char *buffer, size_t buffer_bytes) {
    char kind[CLI_ENUM_NAME_BYTES_MAX];
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED: {
        const Fundflow__V1__OrgRegistered *org = event->org_registered;
        char members[CLI_CODES_TEXT_BYTES];
        cli_enum_text(&fundflow__v1__org_kind__descriptor, org->kind, kind, sizeof kind);
        cli_codes_text(org->member_codes, org->n_member_codes, members, sizeof members);
        snprintf(buffer, buffer_bytes, "register %s (%s) \"%s\"%s%s%s%s%s%s", org->code, kind,
                 org->name, org->parent_code[0] ? " under " : "", org->parent_code,
                 org->n_member_codes ? " members " : "", org->n_member_codes ? members : "",
                 org->lead_provider_code[0] ? " lead " : "", org->lead_provider_code);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        cli_transfer_line(allocation->recurrent ? "allocate" : "allocate non-recurrent",
                          allocation->funder_code, allocation->recipient_code,
                          allocation->stream, allocation->financial_year,
                          allocation->amount_pence, buffer, buffer_bytes);
        if (allocation->delegation_id[0] != '\0') {
            size_t used = strlen(buffer);
            snprintf(buffer + used, buffer_bytes - used, " under delegation %s",
                     allocation->delegation_id);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        cli_transfer_line("budget", budget->from_code, budget->to_code, budget->stream,
                          budget->financial_year, budget->amount_pence, buffer, buffer_bytes);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET: {
        const Fundflow__V1__RevenueLimitSet *limit = event->revenue_limit_set;
        char stream_text[CLI_ENUM_NAME_BYTES_MAX], year_text[16], money[FF_MONEY_TEXT_BYTES];
        cli_enum_text(&fundflow__v1__stream__descriptor, limit->stream, stream_text,
                      sizeof stream_text);
        cli_year_text(limit->financial_year, year_text, sizeof year_text);
        money_format(limit->limit_pence, money, sizeof money);
        snprintf(buffer, buffer_bytes, "limit %s %s %s set to %s", limit->funder_code,
                 stream_text, year_text, money);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        snprintf(buffer, buffer_bytes, "reverse event %" PRIu64 ": %s",
                 event->reversal->reversed_sequence, event->reversal->reason);
        return;
    default:
        if (!cli_domain_event_line(event, buffer, buffer_bytes)) {
            snprintf(buffer, buffer_bytes, "(no event)");
        }
    }
}

static void cli_transfer_fields_print(const char *from_label, const char *from,
                                      const char *to_label, const char *to, int stream,
                                      uint32_t year, int64_t amount_pence,
                                      const char *reference) {
    char stream_text[CLI_ENUM_NAME_BYTES_MAX], year_text[16], money[FF_MONEY_TEXT_BYTES];
    cli_field_print(from_label, "%s", from);
    cli_field_print(to_label, "%s", to);
    cli_field_print("stream", "%s", cli_enum_text(&fundflow__v1__stream__descriptor, stream,
                                                  stream_text, sizeof stream_text));
    cli_field_print("year", "%s", cli_year_text(year, year_text, sizeof year_text));
    money_format(amount_pence, money, sizeof money);
    cli_field_print("amount", "%s", money);
    cli_field_print("reference", "%s", reference[0] ? reference : "-");
}

void cli_event_fields_print(const Fundflow__V1__Event *event) {
    char kind[CLI_ENUM_NAME_BYTES_MAX];
    cli_field_print("event", "%s", cli_event_kind_text(event));
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED: {
        const Fundflow__V1__OrgRegistered *org = event->org_registered;
        cli_field_print("code", "%s", org->code);
        cli_field_print("name", "%s", org->name);
        cli_field_print("kind", "%s", cli_enum_text(&fundflow__v1__org_kind__descriptor,
                                                    org->kind, kind, sizeof kind));
        cli_field_print("parent", "%s", org->parent_code[0] ? org->parent_code : "-");
        if (org->n_member_codes > 0) {
            char members[CLI_CODES_TEXT_BYTES];
            cli_field_print("members", "%s", cli_codes_text(org->member_codes,
                                                            org->n_member_codes, members,
                                                            sizeof members));
        }
        if (org->lead_provider_code[0] != '\0') {
            cli_field_print("lead provider", "%s", org->lead_provider_code);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        cli_transfer_fields_print("funder", allocation->funder_code, "recipient",
                                  allocation->recipient_code, allocation->stream,
                                  allocation->financial_year, allocation->amount_pence,
                                  allocation->reference);
        cli_field_print("recurrent", "%s", allocation->recurrent ? "yes" : "no");
        if (allocation->delegation_id[0] != '\0') {
            cli_field_print("delegation", "%s", allocation->delegation_id);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        cli_transfer_fields_print("from", budget->from_code, "to", budget->to_code,
                                  budget->stream, budget->financial_year, budget->amount_pence,
                                  budget->reference);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET: {
        const Fundflow__V1__RevenueLimitSet *limit = event->revenue_limit_set;
        char money[FF_MONEY_TEXT_BYTES];
        cli_field_print("funder", "%s", limit->funder_code);
        cli_enum_field_print("stream", &fundflow__v1__stream__descriptor, limit->stream);
        cli_year_field_print(limit->financial_year);
        money_format(limit->limit_pence, money, sizeof money);
        cli_field_print("limit", "%s", money);
        cli_field_print("reference", "%s", limit->reference[0] ? limit->reference : "-");
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        cli_field_print("reverses event", "%" PRIu64, event->reversal->reversed_sequence);
        cli_field_print("reason", "%s", event->reversal->reason);
        return;
    default:
        cli_domain_event_fields_print(event);
        return;
    }
}
