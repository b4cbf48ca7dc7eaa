/* The fundflow client's reads of the funding-flow domain that take one call: a contract's
 * position (contract show), the delegation register (delegation who) and funding flows (flows). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Months in a contract's year, M1 (April) to M12 (March). */
#define CLI_CONTRACT_MONTHS 12u

/* Spaces a funding flow is indented by for each step below the root. */
#define CLI_FLOW_INDENT_COLUMNS 2u

/* The deepest indentation printed; deeper flows line up with it. */
#define CLI_FLOW_INDENT_STEPS_MAX 16u

/* Calls method and, when it succeeds in human mode, prints the reply with print, which also sees
 * the options the request came from. */
static int cli_query_run(const cli_options *options, cli_session *session, const char *method,
                         const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *output,
                         int (*print)(const cli_options *options,
                                      const ProtobufCMessage *message)) {
    cli_reply reply;
    int code = cli_rpc_run(session, method, request, output, &reply);
    if (code == CLI_EXIT_OK && !session->json) code = print(options, reply.message);
    cli_reply_release(&reply);
    return code;
}

static const char *cli_money_text(int64_t pence, char *buffer, size_t buffer_bytes) {
    money_format(pence, buffer, buffer_bytes);
    return buffer;
}

/* Contract show ------------------------------------------------------------------------------ */

static void cli_contract_terms_print(const Fundflow__V1__ContractRecord *contract,
                                     uint64_t as_at_sequence) {
    char text[CLI_ENUM_NAME_BYTES_MAX], year[16], date[16];
    cli_field_print("contract", "%s", contract->contract_id);
    cli_field_print("commissioner", "%s", contract->commissioner_code);
    cli_field_print("provider", "%s", contract->provider_code);
    cli_field_print("type", "%s", cli_enum_text(&fundflow__v1__contract_type__descriptor,
                                                contract->type, text, sizeof text));
    cli_field_print("year", "%s", cli_year_text(contract->financial_year, year, sizeof year));
    cli_field_print("stream", "%s", cli_enum_text(&fundflow__v1__stream__descriptor,
                                                  contract->stream, text, sizeof text));
    cli_field_print("category", "%s",
                    contract->service_category
                        ? cli_enum_text(&fundflow__v1__service_category__descriptor,
                                        contract->service_category, text, sizeof text)
                        : "-");
    cli_field_print("service line", "%s",
                    contract->service_line_code[0] ? contract->service_line_code : "-");
    cli_field_print("CQUIN share", "%s",
                    cli_basis_points_text(contract->cquin_share_bp, text, sizeof text));
    cli_field_print("agreed", "event %" PRIu64 " on %s", contract->agreed_sequence,
                    cli_date_text(contract->agreed_date, date, sizeof date));
    cli_field_print("as at sequence", "%" PRIu64, as_at_sequence);
}

static void cli_contract_figures_print(const Fundflow__V1__ContractPosition *position) {
    const Fundflow__V1__ContractRecord *contract = position->contract;
    cli_money_field_print("original value", contract->original_value_pence);
    cli_money_field_print("variations", contract->variations_pence);
    cli_money_field_print("value", contract->value_pence);
    cli_money_field_print("fixed element", contract->fixed_value_pence);
    cli_money_field_print("variable element", position->variable_value_pence);
    cli_money_field_print("withheld pot", contract->withheld_pot_pence);
    cli_money_field_print("pot pending", position->withheld_pending_pence);
    cli_money_field_print("paid to date", contract->paid_pence);
    cli_money_field_print("earned", contract->earned_pence);
    cli_money_field_print("released", contract->released_pence);
    cli_money_field_print("outstanding", position->outstanding_pence);
}

static int cli_contract_metrics_print(const Fundflow__V1__ContractRecord *contract) {
    static const char *const headings[] = {"metric", "weight", "share",  "reported",
                                           "achieved", "earned", "released", "description"};
    static const bool right[] = {false, true, true, false, true, true, true, false};
    cli_table table;
    cli_table_init(&table, 8, headings, right);
    bool added = true;
    for (size_t i = 0; i < contract->n_metrics && added; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        char weight[16], share[FF_MONEY_TEXT_BYTES], reported[48], date[16], achieved[16],
            earned[FF_MONEY_TEXT_BYTES], released[FF_MONEY_TEXT_BYTES];
        snprintf(reported, sizeof reported, "event %" PRIu64 " on %s", metric->reported_sequence,
                 cli_date_text(metric->reported_date, date, sizeof date));
        const char *cells[] = {
            metric->code,
            cli_basis_points_text(metric->weight_bp, weight, sizeof weight),
            cli_money_text(metric->share_pence, share, sizeof share),
            metric->reported ? reported : "not yet",
            metric->reported ? cli_basis_points_text(metric->achievement_bp, achieved,
                                                     sizeof achieved)
                             : "-",
            cli_money_text(metric->earned_pence, earned, sizeof earned),
            cli_money_text(metric->released_pence, released, sizeof released),
            metric->description[0] ? metric->description : "-"};
        added = cli_table_row_add(&table, cells);
    }
    if (added) {
        printf("\n");
        cli_table_print(&table);
    }
    cli_table_free(&table);
    return added ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int cli_contract_months_print(const Fundflow__V1__ContractRecord *contract) {
    static const char *const headings[] = {"month", "name", "paid"};
    static const bool right[] = {false, false, true};
    cli_table table;
    cli_table_init(&table, 3, headings, right);
    bool added = true;
    for (uint32_t month = 1; month <= CLI_CONTRACT_MONTHS && added; month++) {
        char label[8], paid[FF_MONEY_TEXT_BYTES];
        int64_t pence = month <= contract->n_paid_by_month_pence
                            ? contract->paid_by_month_pence[month - 1]
                            : 0;
        snprintf(label, sizeof label, "M%" PRIu32, month);
        const char *cells[] = {label, cli_month_name(month),
                               cli_money_text(pence, paid, sizeof paid)};
        added = cli_table_row_add(&table, cells);
    }
    char total[FF_MONEY_TEXT_BYTES];
    const char *total_cells[] = {"total", "",
                                 cli_money_text(contract->paid_pence, total, sizeof total)};
    if (added) added = cli_table_row_add(&table, total_cells);
    if (added) {
        printf("\n");
        cli_table_print(&table);
    }
    cli_table_free(&table);
    return added ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int cli_contract_position_print(const cli_options *options,
                                       const ProtobufCMessage *message) {
    (void)options;
    const Fundflow__V1__ContractPosition *position =
        (const Fundflow__V1__ContractPosition *)message;
    if (position->contract == NULL) {
        fprintf(stderr, CLI_PROGRAM ": the server's ContractPosition holds no contract\n");
        return CLI_EXIT_FAILED;
    }
    cli_contract_terms_print(position->contract, position->as_at_sequence);
    cli_contract_figures_print(position);
    int code = CLI_EXIT_OK;
    if (position->contract->n_metrics > 0) code = cli_contract_metrics_print(position->contract);
    if (code == CLI_EXIT_OK) code = cli_contract_months_print(position->contract);
    if (code != CLI_EXIT_OK) fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    return code;
}

int cli_contract_show_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetContractPositionRequest request =
        FUNDFLOW__V1__GET_CONTRACT_POSITION_REQUEST__INIT;
    request.contract_id = (char *)options->operand;
    request.as_at_sequence = options->as_at_sequence;
    return cli_query_run(options, session, "GetContractPosition", &request.base,
                         &fundflow__v1__contract_position__descriptor,
                         cli_contract_position_print);
}

/* Delegation who ----------------------------------------------------------------------------- */

static bool cli_delegation_row_add(cli_table *table,
                                   const Fundflow__V1__DelegationRecord *delegation) {
    char mode[CLI_ENUM_NAME_BYTES_MAX], from[16], until[16], lines[CLI_CODES_TEXT_BYTES],
        population[CLI_CODES_TEXT_BYTES], events[64];
    int length = snprintf(events, sizeof events, "granted %" PRIu64, delegation->granted_sequence);
    if (delegation->revoked_sequence != 0 && length > 0 && (size_t)length < sizeof events) {
        snprintf(events + length, sizeof events - (size_t)length, ", revoked %" PRIu64,
                 delegation->revoked_sequence);
    }
    const char *cells[] = {
        delegation->delegation_id,
        delegation->delegate_code,
        cli_delegation_mode_text(delegation->mode, mode, sizeof mode),
        cli_date_text(delegation->effective_from, from, sizeof from),
        delegation->effective_to ? cli_date_text(delegation->effective_to, until, sizeof until)
                                 : "open-ended",
        cli_codes_text(delegation->service_line_codes, delegation->n_service_line_codes, lines,
                       sizeof lines),
        cli_codes_text(delegation->population_codes, delegation->n_population_codes,
                       population, sizeof population),
        events};
    return cli_table_row_add(table, cells);
}

static int cli_delegations_print(const cli_options *options, const ProtobufCMessage *message) {
    const Fundflow__V1__GetDelegationsResponse *answer =
        (const Fundflow__V1__GetDelegationsResponse *)message;
    char date[16], mode[CLI_ENUM_NAME_BYTES_MAX];
    cli_field_print("service line", "%s", options->line_code);
    cli_field_print("ICB", "%s", options->icb_code);
    cli_field_print("on", "%s", cli_date_text(options->on_date, date, sizeof date));
    cli_field_print("commissioner", "%s", answer->commissioner_code);
    if (answer->delegation_id[0] != '\0') {
        cli_field_print("delegation", "%s (%s)", answer->delegation_id,
                        cli_delegation_mode_text(answer->mode, mode, sizeof mode));
    } else {
        cli_field_print("delegation", "none: NHS England commissions the line");
    }
    cli_field_print("retained", "%s", answer->retained_nationally ? "yes, nationally" : "no");
    if (answer->n_delegations == 0) {
        printf("\nno delegation of the line covers the ICB's population\n");
        return CLI_EXIT_OK;
    }
    static const char *const headings[] = {"delegation", "delegate", "mode", "from",
                                           "until", "lines", "population", "events"};
    static const bool right[] = {false, false, false, false, false, false, false, false};
    cli_table table;
    cli_table_init(&table, 8, headings, right);
    bool added = true;
    for (size_t i = 0; i < answer->n_delegations && added; i++) {
        added = cli_delegation_row_add(&table, answer->delegations[i]);
    }
    if (added) {
        printf("\n");
        cli_table_print(&table);
    } else {
        fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    }
    cli_table_free(&table);
    return added ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cli_delegation_who_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetDelegationsRequest request = FUNDFLOW__V1__GET_DELEGATIONS_REQUEST__INIT;
    request.service_line_code = (char *)options->line_code;
    request.icb_code = (char *)options->icb_code;
    request.date = options->on_date;
    return cli_query_run(options, session, "GetDelegations", &request.base,
                         &fundflow__v1__get_delegations_response__descriptor,
                         cli_delegations_print);
}

/* Flows -------------------------------------------------------------------------------------- */

static bool cli_flow_row_add(cli_table *table, const Fundflow__V1__FundingFlow *flow) {
    char depth[16], path[CLI_FLOW_INDENT_COLUMNS * CLI_FLOW_INDENT_STEPS_MAX +
                         2 * FF_ORG_CODE_BYTES_MAX + 8];
    char stream[CLI_ENUM_NAME_BYTES_MAX], amount[FF_MONEY_TEXT_BYTES];
    uint32_t steps = flow->depth > 1 ? flow->depth - 1 : 0;
    if (steps > CLI_FLOW_INDENT_STEPS_MAX) steps = CLI_FLOW_INDENT_STEPS_MAX;
    snprintf(depth, sizeof depth, "%" PRIu32, flow->depth);
    snprintf(path, sizeof path, "%*s%.12s -> %.12s", (int)(steps * CLI_FLOW_INDENT_COLUMNS), "",
             flow->from_code, flow->to_code);
    const char *cells[] = {depth, path,
                           cli_enum_text(&fundflow__v1__stream__descriptor, flow->stream, stream,
                                         sizeof stream),
                           cli_money_text(flow->amount_pence, amount, sizeof amount)};
    return cli_table_row_add(table, cells);
}

static int cli_flows_print(const cli_options *options, const ProtobufCMessage *message) {
    const Fundflow__V1__GetFundingFlowsResponse *answer =
        (const Fundflow__V1__GetFundingFlowsResponse *)message;
    char year[16], stream[CLI_ENUM_NAME_BYTES_MAX];
    printf("funding flows in %s from %s, %s\n\n",
           cli_year_text(options->financial_year, year, sizeof year),
           options->root_code ? options->root_code : "NHS England",
           options->stream ? cli_enum_text(&fundflow__v1__stream__descriptor,
                                           (int)options->stream, stream, sizeof stream)
                           : "every stream");
    if (answer->n_flows == 0) {
        printf("no flows\n");
    } else {
        static const char *const headings[] = {"depth", "from -> to", "stream", "amount"};
        static const bool right[] = {true, false, false, true};
        cli_table table;
        cli_table_init(&table, 4, headings, right);
        bool added = true;
        for (size_t i = 0; i < answer->n_flows && added; i++) {
            added = cli_flow_row_add(&table, answer->flows[i]);
        }
        if (added) cli_table_print(&table);
        cli_table_free(&table);
        if (!added) {
            fprintf(stderr, CLI_PROGRAM ": out of memory\n");
            return CLI_EXIT_FAILED;
        }
    }
    printf("\ntruncated: %s\n",
           answer->truncated ? "yes: the server's limit on flows cut the walk short" : "no");
    return CLI_EXIT_OK;
}

int cli_flows_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetFundingFlowsRequest request = FUNDFLOW__V1__GET_FUNDING_FLOWS_REQUEST__INIT;
    request.financial_year = options->financial_year;
    request.root_code = cli_text_or_empty(options->root_code);
    request.depth = options->depth;
    request.stream = (Fundflow__V1__Stream)options->stream;
    return cli_query_run(options, session, "GetFundingFlows", &request.base,
                         &fundflow__v1__get_funding_flows_response__descriptor, cli_flows_print);
}
