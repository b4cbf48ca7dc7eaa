/* The fundflow client's reads of the funding-flow domain that take one call: a contract's
 * position (contract show), the delegation register (delegation who) and funding flows (flows). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_export.h"
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

/* Prints or exports a reply; sees the options the request came from. */
typedef int (*cli_query_print)(const cli_options *options, cli_session *session,
                               const ProtobufCMessage *message);

/* Calls method and, when it succeeds in human mode, prints the reply with print: the human
 * layout, or an export (--format, --output, --sort). With --json the reply is printed as it
 * came. */
static int cli_query_run(const cli_options *options, cli_session *session, const char *method,
                         const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *output, cli_query_print print) {
    cli_reply reply;
    int code = cli_rpc_run(session, method, request, output, &reply);
    if (code == CLI_EXIT_OK && !session->json) code = print(options, session, reply.message);
    cli_reply_release(&reply);
    return code;
}

/* Emits a document that could not be filled (memory ran out) as a failure, or else emits it. */
static int cli_query_export(cli_export_document *document, bool filled,
                            const cli_options *options, cli_session *session) {
    int code = CLI_EXIT_FAILED;
    if (filled) code = cli_export_emit(document, options, session);
    else fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    cli_export_document_free(document);
    return code;
}

static const char *cli_money_text(int64_t pence, char *buffer, size_t buffer_bytes) {
    money_format(pence, buffer, buffer_bytes);
    return buffer;
}

/* Position ----------------------------------------------------------------------------------- */

/* The position's figures under the names docs/ARCHITECTURE.md defines: held = received - passed
 * on; contract value = paid + unpaid commitment + withheld + earned; uncommitted headroom = held -
 * contract value; released sits outside every sum. A rollup adds what moved inside the group. */
static const cli_export_column cli_position_columns[] = {
    CLI_EXPORT_COLUMN("organisation", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("stream", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("year", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("received", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("passed on", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("held", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("contract value", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("paid", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("unpaid commitment", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("withheld", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("earned", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("uncommitted headroom", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("released", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("internal transfers", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("rollup of", CLI_EXPORT_TEXT)};

static bool cli_position_row_add(cli_export_table *table, const Fundflow__V1__Position *position) {
    char stream[CLI_ENUM_NAME_BYTES_MAX], year[16], included[CLI_CODES_TEXT_BYTES];
    int64_t received = 0;
    if (money_add(position->received_pence, position->funding_drawn_pence, &received) != FF_OK) {
        return false;
    }
    const cli_export_cell cells[] = {
        {.text = position->org_code},
        {.text = position->stream ? cli_enum_text(&fundflow__v1__stream__descriptor,
                                                  position->stream, stream, sizeof stream)
                                  : "all"},
        {.text = cli_year_text(position->financial_year, year, sizeof year)},
        {.number = received},
        {.number = position->passed_on_pence},
        {.number = position->held_pence},
        {.number = position->contract_value_pence},
        {.number = position->paid_pence},
        {.number = position->committed_pence},
        {.number = position->withheld_pence},
        {.number = position->earned_pence},
        {.number = position->headroom_pence},
        {.number = position->released_pence},
        {.number = position->internal_transfers_pence},
        {.text = position->rollup ? cli_codes_text(position->included_codes,
                                                   position->n_included_codes, included,
                                                   sizeof included)
                                  : ""}};
    return cli_export_row_add(table, cells);
}

static const cli_export_column cli_provider_columns[] = {
    CLI_EXPORT_COLUMN("commissioner", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("contract", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("stream", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("value", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("paid", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("earned", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("outstanding", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("of which withheld", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("released", CLI_EXPORT_MONEY)};

static bool cli_provider_rows_add(cli_export_table *table,
                                  const Fundflow__V1__Position *position) {
    for (size_t i = 0; i < position->n_contracts; i++) {
        const Fundflow__V1__ProviderContractLine *line = position->contracts[i];
        char stream[CLI_ENUM_NAME_BYTES_MAX];
        const cli_export_cell cells[] = {
            {.text = line->commissioner_code},
            {.text = line->contract_id},
            {.text = cli_enum_text(&fundflow__v1__stream__descriptor, line->stream, stream,
                                   sizeof stream)},
            {.number = line->value_pence},
            {.number = line->paid_pence},
            {.number = line->earned_pence},
            {.number = line->outstanding_pence},
            {.number = line->withheld_pence},
            {.number = line->released_pence}};
        if (!cli_export_row_add(table, cells)) return false;
    }
    return true;
}

/* One row for the position, or a row per stream when it covers every stream; then, for a
 * provider, its contracts across every commissioner. */
static int cli_position_export(const cli_options *options, cli_session *session,
                               const ProtobufCMessage *message) {
    const Fundflow__V1__Position *position = (const Fundflow__V1__Position *)message;
    cli_export_document document;
    cli_export_document_init(&document, options);
    document.provenance.financial_year = position->financial_year;
    document.provenance.as_at_sequence = position->as_at_sequence;
    document.provenance.as_at_date = position->as_at_date;
    size_t columns = sizeof cli_position_columns / sizeof cli_position_columns[0];
    cli_export_table *table = cli_export_table_add(&document, "Position", cli_position_columns,
                                                   columns, position->n_streams > 0);
    bool filled = table != NULL;
    for (size_t i = 0; filled && i < position->n_streams; i++) {
        filled = cli_position_row_add(table, position->streams[i]);
    }
    if (filled && position->n_streams == 0) filled = cli_position_row_add(table, position);
    if (filled && position->n_contracts > 0) {
        cli_export_table *contracts = cli_export_table_add(
            &document, "Contracts as provider", cli_provider_columns,
            sizeof cli_provider_columns / sizeof cli_provider_columns[0], true);
        filled = contracts != NULL && cli_provider_rows_add(contracts, position);
    }
    return cli_query_export(&document, filled, options, session);
}

int cli_position_export_run(const cli_options *options, cli_session *session,
                            const ProtobufCMessage *request) {
    return cli_query_run(options, session, "GetPosition", request,
                         &fundflow__v1__position__descriptor, cli_position_export);
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

/* The contract's terms and figures as one row of a table with no total. */
static bool cli_contract_figures_export(cli_export_document *document,
                                        const Fundflow__V1__ContractPosition *position) {
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("contract", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("commissioner", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("provider", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("type", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("year", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("stream", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("original value", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("variations", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("value", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("fixed element", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("variable element", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("withheld pot", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("pot pending", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("paid to date", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("earned", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("released", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("outstanding", CLI_EXPORT_MONEY)};
    const Fundflow__V1__ContractRecord *contract = position->contract;
    char type[CLI_ENUM_NAME_BYTES_MAX], year[16], stream[CLI_ENUM_NAME_BYTES_MAX];
    const cli_export_cell cells[] = {
        {.text = contract->contract_id},
        {.text = contract->commissioner_code},
        {.text = contract->provider_code},
        {.text = cli_enum_text(&fundflow__v1__contract_type__descriptor, contract->type, type,
                               sizeof type)},
        {.text = cli_year_text(contract->financial_year, year, sizeof year)},
        {.text = cli_enum_text(&fundflow__v1__stream__descriptor, contract->stream, stream,
                               sizeof stream)},
        {.number = contract->original_value_pence},
        {.number = contract->variations_pence},
        {.number = contract->value_pence},
        {.number = contract->fixed_value_pence},
        {.number = position->variable_value_pence},
        {.number = contract->withheld_pot_pence},
        {.number = position->withheld_pending_pence},
        {.number = contract->paid_pence},
        {.number = contract->earned_pence},
        {.number = contract->released_pence},
        {.number = position->outstanding_pence}};
    cli_export_table *table = cli_export_table_add(document, "Contract", columns,
                                                   sizeof columns / sizeof columns[0], false);
    return cli_export_row_add(table, cells);
}

static bool cli_contract_metrics_export(cli_export_document *document,
                                        const Fundflow__V1__ContractRecord *contract) {
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("metric", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("weight", CLI_EXPORT_PERCENT),
        CLI_EXPORT_COLUMN("share", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("reported", CLI_EXPORT_DATE),
        CLI_EXPORT_COLUMN("achieved", CLI_EXPORT_PERCENT),
        CLI_EXPORT_COLUMN("earned", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("released", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("description", CLI_EXPORT_TEXT)};
    cli_export_table *table = cli_export_table_add(document, "Outcome metrics", columns,
                                                   sizeof columns / sizeof columns[0], true);
    bool added = true;
    for (size_t i = 0; i < contract->n_metrics && added; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        const cli_export_cell cells[] = {
            {.text = metric->code},
            {.number = metric->weight_bp},
            {.number = metric->share_pence},
            {.number = metric->reported ? metric->reported_date : 0},
            {.number = metric->reported ? metric->achievement_bp : 0},
            {.number = metric->earned_pence},
            {.number = metric->released_pence},
            {.text = metric->description}};
        added = cli_export_row_add(table, cells);
    }
    return added;
}

static bool cli_contract_months_export(cli_export_document *document,
                                       const Fundflow__V1__ContractRecord *contract) {
    static const cli_export_column columns[] = {CLI_EXPORT_COLUMN("month", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("name", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("paid", CLI_EXPORT_MONEY)};
    cli_export_table *table = cli_export_table_add(document, "Payments by month", columns, 3,
                                                   true);
    bool added = true;
    for (uint32_t month = 1; month <= CLI_CONTRACT_MONTHS && added; month++) {
        char label[8];
        snprintf(label, sizeof label, "M%" PRIu32, month);
        const cli_export_cell cells[] = {
            {.text = label},
            {.text = cli_month_name(month)},
            {.number = month <= contract->n_paid_by_month_pence
                           ? contract->paid_by_month_pence[month - 1]
                           : 0}};
        added = cli_export_row_add(table, cells);
    }
    return added;
}

/* The contract as three tables: its terms and figures, its metrics and its months. */
static int cli_contract_position_export(const cli_options *options, cli_session *session,
                                        const Fundflow__V1__ContractPosition *position) {
    cli_export_document document;
    cli_export_document_init(&document, options);
    document.provenance.financial_year = position->contract->financial_year;
    document.provenance.as_at_sequence = position->as_at_sequence;
    bool filled = cli_contract_figures_export(&document, position) &&
                  cli_contract_metrics_export(&document, position->contract) &&
                  cli_contract_months_export(&document, position->contract);
    return cli_query_export(&document, filled, options, session);
}

static int cli_contract_position_print(const cli_options *options, cli_session *session,
                                       const ProtobufCMessage *message) {
    const Fundflow__V1__ContractPosition *position =
        (const Fundflow__V1__ContractPosition *)message;
    if (position->contract == NULL) {
        fprintf(stderr, CLI_PROGRAM ": the server's ContractPosition holds no contract\n");
        return CLI_EXIT_FAILED;
    }
    if (cli_export_rendered(options)) {
        return cli_contract_position_export(options, session, position);
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
    request.as_at_date = options->as_at_date;
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

/* The delegations as a table; the answer (who commissions the line) is in the JSON and the
 * provenance's command. */
static int cli_delegations_export(const cli_options *options, cli_session *session,
                                  const Fundflow__V1__GetDelegationsResponse *answer) {
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("delegation", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("delegate", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("mode", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("from", CLI_EXPORT_DATE),
        CLI_EXPORT_COLUMN("until", CLI_EXPORT_DATE),
        CLI_EXPORT_COLUMN("lines", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("population", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("granted", CLI_EXPORT_INTEGER),
        CLI_EXPORT_COLUMN("revoked", CLI_EXPORT_INTEGER),
        CLI_EXPORT_COLUMN("commissioner", CLI_EXPORT_TEXT)};
    cli_export_document document;
    cli_export_document_init(&document, options);
    document.provenance.as_at_date = options->on_date;
    cli_export_table *table = cli_export_table_add(&document, "Delegations", columns,
                                                   sizeof columns / sizeof columns[0], true);
    bool added = true;
    for (size_t i = 0; i < answer->n_delegations && added; i++) {
        const Fundflow__V1__DelegationRecord *delegation = answer->delegations[i];
        char mode[CLI_ENUM_NAME_BYTES_MAX], lines[CLI_CODES_TEXT_BYTES],
            population[CLI_CODES_TEXT_BYTES];
        const cli_export_cell cells[] = {
            {.text = delegation->delegation_id},
            {.text = delegation->delegate_code},
            {.text = cli_delegation_mode_text(delegation->mode, mode, sizeof mode)},
            {.number = delegation->effective_from},
            {.number = delegation->effective_to},
            {.text = cli_codes_text(delegation->service_line_codes,
                                    delegation->n_service_line_codes, lines, sizeof lines)},
            {.text = cli_codes_text(delegation->population_codes, delegation->n_population_codes,
                                    population, sizeof population)},
            {.number = (int64_t)delegation->granted_sequence},
            {.number = (int64_t)delegation->revoked_sequence},
            {.text = answer->commissioner_code}};
        added = cli_export_row_add(table, cells);
    }
    return cli_query_export(&document, added, options, session);
}

static int cli_delegations_print(const cli_options *options, cli_session *session,
                                 const ProtobufCMessage *message) {
    const Fundflow__V1__GetDelegationsResponse *answer =
        (const Fundflow__V1__GetDelegationsResponse *)message;
    if (cli_export_rendered(options)) return cli_delegations_export(options, session, answer);
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

/* The flows as a table of from, to, stream and amount, with the walk's depth. */
static int cli_flows_export(const cli_options *options, cli_session *session,
                            const Fundflow__V1__GetFundingFlowsResponse *answer) {
    static const cli_export_column columns[] = {CLI_EXPORT_COLUMN("depth", CLI_EXPORT_INTEGER),
                                                CLI_EXPORT_COLUMN("from", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("to", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("stream", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("amount", CLI_EXPORT_MONEY)};
    cli_export_document document;
    cli_export_document_init(&document, options);
    cli_export_table *table = cli_export_table_add(&document, "Funding flows", columns, 5, true);
    bool added = true;
    for (size_t i = 0; i < answer->n_flows && added; i++) {
        const Fundflow__V1__FundingFlow *flow = answer->flows[i];
        char stream[CLI_ENUM_NAME_BYTES_MAX];
        const cli_export_cell cells[] = {
            {.number = flow->depth},
            {.text = flow->from_code},
            {.text = flow->to_code},
            {.text = cli_enum_text(&fundflow__v1__stream__descriptor, flow->stream, stream,
                                   sizeof stream)},
            {.number = flow->amount_pence}};
        added = cli_export_row_add(table, cells);
    }
    if (answer->truncated) {
        fprintf(stderr, CLI_PROGRAM ": the server's limit on flows cut the walk short\n");
    }
    return cli_query_export(&document, added, options, session);
}

/* The flows' TOTAL row: every row's amount, so money passed on again below the root counts at
 * each step it took. Refuses a total that overflows 64-bit pence. */
static int cli_flows_total_add(cli_table *table,
                               const Fundflow__V1__GetFundingFlowsResponse *answer) {
    int64_t total = 0;
    for (size_t i = 0; i < answer->n_flows; i++) {
        if (money_add(total, answer->flows[i]->amount_pence, &total) != FF_OK) {
            fprintf(stderr, CLI_PROGRAM ": the total of the flows overflows 64-bit pence\n");
            return CLI_EXIT_REFUSED;
        }
    }
    char amount[FF_MONEY_TEXT_BYTES];
    const char *cells[] = {"TOTAL", "", "", cli_money_text(total, amount, sizeof amount)};
    if (cli_table_row_add(table, cells)) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    return CLI_EXIT_FAILED;
}

static int cli_flows_print(const cli_options *options, cli_session *session,
                           const ProtobufCMessage *message) {
    const Fundflow__V1__GetFundingFlowsResponse *answer =
        (const Fundflow__V1__GetFundingFlowsResponse *)message;
    if (cli_export_rendered(options)) return cli_flows_export(options, session, answer);
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
        int code = added ? cli_flows_total_add(&table, answer) : CLI_EXIT_FAILED;
        if (code == CLI_EXIT_OK) cli_table_print(&table);
        cli_table_free(&table);
        if (!added) fprintf(stderr, CLI_PROGRAM ": out of memory\n");
        if (code != CLI_EXIT_OK) return code;
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
    request.as_at_date = options->as_at_date;
    return cli_query_run(options, session, "GetFundingFlows", &request.base,
                         &fundflow__v1__get_funding_flows_response__descriptor, cli_flows_print);
}
