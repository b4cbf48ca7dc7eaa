/* The fundflow client's subcommand and flag tables, and the functions that read each flag's
 * value into a cli_options. */
#include "cli_flags.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli_import.h"
#include "cli_reconcile.h"
#include "cli_report.h"
#include "cli_values.h"
#include "tool_help.h"
#include "tool_values.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A number macro's value as a string literal, for help that quotes a limit: the limits come
 * from fundflow/limits.h, so the help says what the server holds to. */
#define CLI_NUMBER_TEXT_EXPANDED(number) #number
#define CLI_NUMBER_TEXT(number) CLI_NUMBER_TEXT_EXPANDED(number)

#define CLI_FOR_WRITES                                                                          \
    (CLI_FOR(CLI_SUBCOMMAND_ORG_ADD) | CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE) |                     \
     CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD) | CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT) |       \
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_REVOKE) | CLI_FOR(CLI_SUBCOMMAND_ALLOCATE) |             \
     CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET) |                                                        \
     CLI_FOR(CLI_SUBCOMMAND_BUDGET) | CLI_FOR(CLI_SUBCOMMAND_REVERSE) |                         \
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE) | CLI_FOR(CLI_SUBCOMMAND_CONTRACT_VARY) |           \
     CLI_FOR(CLI_SUBCOMMAND_PAY) | CLI_FOR(CLI_SUBCOMMAND_OUTCOME) |                            \
     CLI_FOR(CLI_SUBCOMMAND_STATEMENT) | CLI_FOR(CLI_SUBCOMMAND_CLOSE_PERIOD) |                 \
     CLI_FOR(CLI_SUBCOMMAND_PLAN_SET))
#define CLI_FOR_TRANSFERS (CLI_FOR(CLI_SUBCOMMAND_ALLOCATE) | CLI_FOR(CLI_SUBCOMMAND_BUDGET))
#define CLI_FOR_ACCOUNTS                                                                        \
    (CLI_FOR_TRANSFERS | CLI_FOR(CLI_SUBCOMMAND_POSITION) | CLI_FOR(CLI_SUBCOMMAND_POSITIONS) | \
     CLI_FOR(CLI_SUBCOMMAND_HISTORY))
#define CLI_FOR_YEARS                                                                           \
    (CLI_FOR_ACCOUNTS | CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE) | CLI_FOR(CLI_SUBCOMMAND_FLOWS) | \
     CLI_FOR(CLI_SUBCOMMAND_STATEMENT) | CLI_FOR(CLI_SUBCOMMAND_CLOSE_PERIOD) |                 \
     CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET))
/* history needs --stream and --year only for an account, not with --actor: it checks them in
 * cli_options_combination_check. */
#define CLI_FOR_ACCOUNTS_REQUIRED (CLI_FOR_ACCOUNTS & ~CLI_FOR(CLI_SUBCOMMAND_HISTORY))
#define CLI_FOR_YEARS_REQUIRED (CLI_FOR_YEARS & ~CLI_FOR(CLI_SUBCOMMAND_HISTORY))
/* The listings that export: --format, --output, --sort and --provenance. */
#define CLI_FOR_LISTINGS                                                                        \
    (CLI_FOR(CLI_SUBCOMMAND_POSITIONS) | CLI_FOR(CLI_SUBCOMMAND_POSITION) |                     \
     CLI_FOR(CLI_SUBCOMMAND_FLOWS) | CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST) |                    \
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_SHOW) | CLI_FOR(CLI_SUBCOMMAND_EVENTS) |                   \
     CLI_FOR(CLI_SUBCOMMAND_HISTORY) | CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO) |                \
     CLI_FOR(CLI_SUBCOMMAND_OUTTURN) | CLI_FOR(CLI_SUBCOMMAND_CLUSTER_STATUS))
#define CLI_FOR_EXPORTS                                                                         \
    (CLI_FOR_LISTINGS | CLI_FOR(CLI_SUBCOMMAND_REPORT) | CLI_FOR(CLI_SUBCOMMAND_IMPORT) |      \
     CLI_FOR(CLI_SUBCOMMAND_RECONCILE))
#define CLI_FOR_MONTHS                                                                          \
    (CLI_FOR(CLI_SUBCOMMAND_PAY) | CLI_FOR(CLI_SUBCOMMAND_STATEMENT) |                          \
     CLI_FOR(CLI_SUBCOMMAND_CLOSE_PERIOD))

/* Values of the first flags ------------------------------------------------------------------------------------ */

static bool cli_server_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (value[0] == '\0') return tool_value_refuse(flag, value, "is empty");
    options->server_url = value;
    return true;
}

static bool cli_token_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    /* The token is a secret, so the message never repeats it. */
    if (value[0] == '\0' || strlen(value) > FF_TOKEN_BYTES_MAX ||
        value[strcspn(value, "\r\n")] != '\0') {
        fprintf(stderr, CLI_PROGRAM ": %s: the token must be 1 to %d bytes on one line\n", flag,
                FF_TOKEN_BYTES_MAX);
        return false;
    }
    options->token = value;
    return true;
}

/* --cacert, --cert or --cert-key: a PEM file, read when the session opens. */
static bool cli_tls_file_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (value[0] == '\0') return tool_value_refuse(flag, value, "is empty");
    if (strcmp(flag, "--cacert") == 0) options->tls.ca_file = value;
    else if (strcmp(flag, "--cert") == 0) options->tls.cert_file = value;
    else options->tls.key_file = value;
    options->tls_flag_given = true;
    return true;
}

static bool cli_json_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->json = true;
    return true;
}

static bool cli_name_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->name = value;
    return tool_text_parse(flag, value, FF_ORG_NAME_BYTES_MAX);
}

static bool cli_kind_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__org_kind__descriptor, flag, value, &options->kind);
}

static bool cli_code_text_parse(const char *flag, const char *value, const char **code_out) {
    *code_out = value;
    return tool_text_parse(flag, value, FF_ORG_CODE_BYTES_MAX);
}

static bool cli_parent_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->parent_code);
}

static bool cli_from_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->from_code);
}

static bool cli_to_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->to_code);
}

static bool cli_effective_date_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->effective_date_given = true;
    return tool_date_parse(flag, value, &options->effective_date);
}

static bool cli_key_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->key = value;
    return tool_text_parse(flag, value, FF_IDEMPOTENCY_KEY_BYTES_MAX);
}

static bool cli_since_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->since_path = value;
    return value[0] != '\0' || tool_value_refuse(flag, value, "is empty");
}

static bool cli_key_path_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->key_path = value;
    return value[0] != '\0' || tool_value_refuse(flag, value, "is empty");
}

static bool cli_stream_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__stream__descriptor, flag, value, &options->stream);
}

/* A stream, or "all" (any case) for every stream: the stream left unspecified. */
static bool cli_stream_or_all_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (strcasecmp(value, "all") == 0) {
        options->stream = 0;
        return true;
    }
    return tool_enum_parse(&fundflow__v1__stream__descriptor, flag, value, &options->stream);
}

static bool cli_financial_year_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_year_parse(flag, value, &options->financial_year);
}

static bool cli_amount_flag_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_amount_parse(flag, value, &options->amount_pence);
}

static bool cli_reference_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->reference = value;
    return tool_text_parse(flag, value, FF_REFERENCE_BYTES_MAX);
}

static bool cli_non_recurrent_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->non_recurrent = true;
    return true;
}

static bool cli_reason_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->reason = value;
    return tool_text_parse(flag, value, FF_REASON_BYTES_MAX);
}

static bool cli_as_at_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_number_parse(flag, value, 1, UINT64_MAX, &options->as_at_sequence);
}

static bool cli_as_at_date_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_date_parse(flag, value, &options->as_at_date);
}

static bool cli_purpose_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__account_purpose__descriptor, flag, value,
                          &options->purpose);
}

static bool cli_after_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_number_parse(flag, value, 0, UINT64_MAX - 1, &options->after_sequence);
}

static bool cli_limit_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_number_parse(flag, value, 1, UINT64_MAX, &options->limit);
}

static bool cli_batch_size_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_number_parse(flag, value, 1, FF_BATCH_COMMANDS_MAX, &options->batch_size);
}

static bool cli_linked_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->linked = true;
    return true;
}


/* Values of the domain's flags ---------------------------------------------------------------- */

/* Adds the comma-separated codes in value to list, each 1 to 12 bytes, no more than count_max
 * in all. */
static bool cli_code_list_add(cli_code_list *list, const char *flag, const char *value,
                              size_t count_max) {
    assert(count_max <= CLI_CODE_LIST_MAX);
    const char *cursor = value;
    for (;;) {
        size_t length = strcspn(cursor, ",");
        if (length == 0 || length > FF_ORG_CODE_BYTES_MAX) {
            return tool_value_refuse(flag, value, "must list codes of 1 to "
                                                 CLI_NUMBER_TEXT(FF_ORG_CODE_BYTES_MAX)
                                                 " bytes, split by "
                                                 "commas");
        }
        if (list->count == count_max) {
            char problem[64];
            snprintf(problem, sizeof problem, "lists more than %zu codes", count_max);
            return tool_value_refuse(flag, value, problem);
        }
        /* count_max codes of at most 12 bytes and a NUL each always fit in text. */
        assert(list->text_used + length + 1 <= sizeof list->text);
        char *code = &list->text[list->text_used];
        memcpy(code, cursor, length);
        code[length] = '\0';
        list->text_used += length + 1;
        list->codes[list->count++] = code;
        if (cursor[length] == '\0') return true;
        cursor += length + 1;
    }
}

static bool cli_member_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->members_given = true;
    return cli_code_list_add(&options->members, flag, value, FF_MEMBERS_MAX);
}

static bool cli_no_members_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->no_members = true;
    return true;
}

static bool cli_lead_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->lead_code);
}

static bool cli_identifier_text_parse(const char *flag, const char *value,
                                      const char **identifier_out) {
    *identifier_out = value;
    return tool_text_parse(flag, value, FF_IDENTIFIER_BYTES_MAX);
}

static bool cli_delegation_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_identifier_text_parse(flag, value, &options->delegation_id);
}

static bool cli_category_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__service_category__descriptor, flag, value,
                          &options->category);
}

static bool cli_retained_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->retained = true;
    return true;
}

static bool cli_lines_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_list_add(&options->lines, flag, value, FF_DELEGATION_LINES_MAX);
}

static bool cli_population_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_list_add(&options->population, flag, value, FF_MEMBERS_MAX);
}

/* The modes are named DELEGATION_FULL and DELEGATION_JOINT_COMMITTEE; people write full and
 * joint-committee, so the prefix is optional. */
static bool cli_mode_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    static const char prefix[] = "delegation_";
    const ProtobufCEnumValue *found =
        tool_enum_find(&fundflow__v1__delegation_mode__descriptor, value);
    char prefixed[TOOL_ENUM_NAME_BYTES_MAX + 1];
    if (found == NULL && strlen(value) + sizeof prefix <= sizeof prefixed) {
        snprintf(prefixed, sizeof prefixed, "%s%s", prefix, value);
        found = tool_enum_find(&fundflow__v1__delegation_mode__descriptor, prefixed);
    }
    if (found == NULL) return tool_value_refuse(flag, value, "is not full or joint-committee");
    options->mode = (uint32_t)found->value;
    return true;
}

static bool cli_from_date_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_date_parse(flag, value, &options->from_date);
}

static bool cli_until_date_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_date_parse(flag, value, &options->until_date);
}

static bool cli_line_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->line_code);
}

static bool cli_icb_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->icb_code);
}

static bool cli_on_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_date_parse(flag, value, &options->on_date);
}

static bool cli_commissioner_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->commissioner_code);
}

static bool cli_provider_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->provider_code);
}

static bool cli_collaborative_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->collaborative_code);
}

static bool cli_type_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__contract_type__descriptor, flag, value,
                          &options->contract_type);
}

static bool cli_value_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_amount_parse(flag, value, &options->value_pence);
}

static bool cli_fixed_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_amount_or_zero_parse(flag, value, &options->fixed_pence);
}

static bool cli_cquin_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_basis_points_parse(flag, value, &options->cquin_bp);
}

static bool cli_pot_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_amount_parse(flag, value, &options->pot_pence);
}

/* Reads one --metric CODE:WEIGHT_BP[:DESCRIPTION]. The description is everything after the
 * second colon, so it may hold colons of its own. */
static bool cli_metric_terms_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    static const char problem[] =
        "is not CODE:WEIGHT_BP or CODE:WEIGHT_BP:DESCRIPTION, with a code of 1 to "
        CLI_NUMBER_TEXT(FF_ORG_CODE_BYTES_MAX) " bytes";
    if (options->metric_count == FF_METRICS_MAX) {
        char limit[64];
        snprintf(limit, sizeof limit, "is one metric more than the %d a contract has",
                 FF_METRICS_MAX);
        return tool_value_refuse(flag, value, limit);
    }
    cli_metric *metric = &options->metrics[options->metric_count];
    size_t code_bytes = strcspn(value, ":");
    if (code_bytes == 0 || code_bytes > FF_ORG_CODE_BYTES_MAX || value[code_bytes] != ':') {
        return tool_value_refuse(flag, value, problem);
    }
    const char *weight = value + code_bytes + 1;
    size_t weight_bytes = strcspn(weight, ":");
    char weight_text[8];
    if (weight_bytes == 0 || weight_bytes >= sizeof weight_text) {
        return tool_value_refuse(flag, value, problem);
    }
    memcpy(weight_text, weight, weight_bytes);
    weight_text[weight_bytes] = '\0';
    uint64_t weight_bp = 0;
    if (!tool_number_parse(flag, weight_text, 1, FF_BASIS_POINTS_WHOLE, &weight_bp)) return false;
    const char *description = weight[weight_bytes] == ':' ? weight + weight_bytes + 1 : "";
    if (strlen(description) > FF_DESCRIPTION_BYTES_MAX) {
        return tool_value_refuse(flag, value, "has a description longer than "
                                                 CLI_NUMBER_TEXT(FF_DESCRIPTION_BYTES_MAX) " bytes");
    }
    memcpy(metric->code, value, code_bytes);
    metric->code[code_bytes] = '\0';
    metric->weight_bp = (uint32_t)weight_bp;
    snprintf(metric->description, sizeof metric->description, "%s", description);
    options->metric_count++;
    return true;
}

static bool cli_change_flag_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_change_parse(flag, value, &options->change_pence);
}

static bool cli_month_flag_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_month_parse(flag, value, &options->month);
}

static bool cli_metric_code_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->metric_code);
}

static bool cli_achievement_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->achievement_given++;
    return tool_percent_parse(flag, value, &options->achievement_bp);
}

static bool cli_achievement_bp_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->achievement_given++;
    return tool_basis_points_parse(flag, value, &options->achievement_bp);
}

static bool cli_org_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->org_code);
}

static bool cli_counterparty_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->counterparty_code);
}

static bool cli_statement_kind_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__statement_kind__descriptor, flag, value,
                          &options->statement_kind);
}

static bool cli_statement_amount_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_amount_or_zero_parse(flag, value, &options->amount_pence);
}

static bool cli_rollup_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->rollup = true;
    return true;
}

static bool cli_min_sequence_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_number_parse(flag, value, 0, UINT64_MAX, &options->min_sequence);
}

static bool cli_standby_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->standby = true;
    return true;
}

static bool cli_follow_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->follow = true;
    return true;
}

static bool cli_root_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_code_text_parse(flag, value, &options->root_code);
}

static bool cli_depth_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    uint64_t depth = 0;
    if (!tool_number_parse(flag, value, 1, FF_FLOW_DEPTH_MAX, &depth)) return false;
    options->depth = (uint32_t)depth;
    return true;
}

static bool cli_contract_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_identifier_text_parse(flag, value, &options->contract_id);
}

/* Values of the plugins' flags --------------------------------------------------------------- */

static bool cli_reload_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->reload = true;
    return true;
}

static bool cli_format_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    cli_report_format format = CLI_REPORT_FORMAT_UNCHOSEN;
    /* events --follow prints text or JSON lines; text is its name for the table format. */
    if (strcasecmp(value, "text") == 0) format = CLI_REPORT_FORMAT_TABLE;
    else if (!cli_report_format_find(value, &format)) {
        return tool_value_refuse(flag, value, "is not table, csv, json or xlsx");
    }
    options->report_format = (uint32_t)format;
    return true;
}

static bool cli_sort_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->sort_column = value;
    return tool_text_parse(flag, value, FF_DESCRIPTION_BYTES_MAX);
}

static bool cli_provenance_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->provenance = true;
    return true;
}

static bool cli_fail_on_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (strcasecmp(value, "fail") == 0) {
        options->fail_on_level = FUNDFLOW__V1__FINDING_LEVEL__FAIL;
    } else if (strcasecmp(value, "warn") == 0) {
        options->fail_on_level = FUNDFLOW__V1__FINDING_LEVEL__WARN;
    } else {
        return tool_value_refuse(flag, value, "is not fail or warn");
    }
    return true;
}

static bool cli_output_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->output_path = value;
    return tool_text_parse(flag, value, PATH_MAX - 1);
}

/* Values of the principals' flags ------------------------------------------------------------ */

static bool cli_role_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_enum_parse(&fundflow__v1__principal_role__descriptor, flag, value,
                          &options->role);
}

static bool cli_actor_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->actor = value;
    return tool_text_parse(flag, value, FF_PRINCIPAL_NAME_BYTES_MAX);
}

/* Values of the plans' and outturns' flags ---------------------------------------------------- */

/* --month-amounts: twelve amounts of pounds, M1 to M12, split by commas, each 0 or more. */
static bool cli_month_amounts_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    char amount[FF_MONEY_TEXT_BYTES];
    size_t count = 0;
    for (const char *start = value;; count++) {
        size_t bytes = strcspn(start, ",");
        if (count == FF_MONTHS_PER_YEAR) {
            return tool_value_refuse(flag, value, "holds more than " CLI_NUMBER_TEXT(
                FF_MONTHS_PER_YEAR) " amounts; write each without thousands separators");
        }
        if (bytes == 0 || bytes >= sizeof amount) {
            return tool_value_refuse(flag, value, "needs an amount of pounds for each of M1 to "
                                                  "M12, split by commas");
        }
        memcpy(amount, start, bytes);
        amount[bytes] = '\0';
        if (!tool_amount_or_zero_parse(flag, amount, &options->month_amounts_pence[count])) {
            return false;
        }
        if (start[bytes] == '\0') break;
        start += bytes + 1;
    }
    if (count + 1 != FF_MONTHS_PER_YEAR) {
        return tool_value_refuse(flag, value, "needs " CLI_NUMBER_TEXT(FF_MONTHS_PER_YEAR)
                                              " amounts, M1 to M12, split by commas");
    }
    options->month_amounts_given = true;
    return true;
}

static bool cli_amount_each_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->amount_each_given = true;
    return tool_amount_or_zero_parse(flag, value, &options->amount_each_pence);
}

static bool cli_to_month_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return tool_month_parse(flag, value, &options->to_month);
}

/* Values of reconcile's flags ---------------------------------------------------------------- */

static bool cli_against_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    const cli_reconcile_kind *kind = cli_reconcile_kind_find(value);
    if (kind == NULL) {
        return tool_value_refuse(flag, value, "is not allocations, positions, payments or "
                                              "contracts");
    }
    options->reconcile_kind = (uint32_t)kind->kind;
    return true;
}

static bool cli_tolerance_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    options->tolerance_given = true;
    return tool_amount_or_zero_parse(flag, value, &options->tolerance_pence);
}

static bool cli_fail_on_difference_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (strcasecmp(value, "difference") != 0) {
        return tool_value_refuse(flag, value, "is not difference");
    }
    options->fail_on_difference = true;
    return true;
}

/* Subcommands -------------------------------------------------------------------------------- */

const cli_subcommand cli_subcommands[CLI_SUBCOMMAND_COUNT] = {
    [CLI_SUBCOMMAND_ORG_ADD] = {
        "org", "add", "CODE", "register an organisation",
        "Registers the organisation CODE. Codes are permanent: a second registration of a code\n"
        "is refused. Each kind has its own form of code: NHS England X and two letters or\n"
        "digits (X24), a region Y and two digits (Y61), an ICB Q and two (QUE), a place three\n"
        "to five letters or digits (06H), a trust R and two to four (RGT), a primary care\n"
        "provider a letter and five (A81001), an independent provider a letter and two to\n"
        "four, a local authority E and eight digits; other kinds take 2 to 12 upper-case\n"
        "letters or digits. A provider collaborative lists its member providers with --member\n"
        "and names one of them with --lead; a joint committee lists its member ICBs.",
        cli_org_add_run},
    [CLI_SUBCOMMAND_ORG_UPDATE] = {
        "org", "update", "CODE", "change an organisation's name, parent or members",
        "Records an OrgUpdated event: from its date (--date) the organisation CODE takes the\n"
        "new name, parent, members or lead provider given; whatever is not given stays as it\n"
        "was. Links are effective-dated, so positions and listings as at an earlier date still\n"
        "see the earlier parent and members. At least one change is needed.",
        cli_org_update_run},
    [CLI_SUBCOMMAND_ORG_SHOW] = {
        "org", "show", "CODE", "show one organisation",
        "Prints the organisation CODE: its name, kind, parent, members and lead provider, and\n"
        "the event and date that registered it.",
        cli_org_show_run},
    [CLI_SUBCOMMAND_ORG_LIST] = {
        "org", "list", NULL, "list organisations",
        "Lists organisations in code order, following the server's pages to the end unless\n"
        "--limit stops it sooner.",
        cli_org_list_run},
    [CLI_SUBCOMMAND_SERVICE_LINE_ADD] = {
        "service-line", "add", "CODE", "register a specialised service line",
        "Records a ServiceLineRegistered event: a specialised service line CODE (2 to 12\n"
        "upper-case letters or digits) that NHS England commissions, or delegates to ICBs. A\n"
        "line marked --retained stays with NHS England and can never be delegated.",
        cli_service_line_add_run},
    [CLI_SUBCOMMAND_DELEGATION_GRANT] = {
        "delegation", "grant", "ID", "delegate service lines to an ICB or joint committee",
        "Records a DelegationGranted event: NHS England delegates commissioning of the service\n"
        "lines listed, for the populations of the ICBs listed, to an ICB (mode full) or a\n"
        "joint committee (mode joint-committee), from one date to another, both inclusive.\n"
        "ID is 2 to 32 upper-case letters, digits or hyphens, such as DEL-QUE-2024. Two\n"
        "delegations of one line for one ICB's population may not overlap in time; lines\n"
        "retained nationally cannot be delegated.",
        cli_delegation_grant_run},
    [CLI_SUBCOMMAND_DELEGATION_REVOKE] = {
        "delegation", "revoke", "ID", "end a delegation",
        "Records a DelegationRevoked event: delegation ID ends on the --until date\n"
        "(inclusive), which must fall within it. From the next day NHS England commissions\n"
        "its lines again.",
        cli_delegation_revoke_run},
    [CLI_SUBCOMMAND_DELEGATION_WHO] = {
        "delegation", "who", NULL, "show who commissions a service line for an ICB",
        "Asks the delegation register who commissions a service line for an ICB's population\n"
        "on a date: the delegate and the delegation that makes it so, with its mode, or NHS\n"
        "England when no delegation covers the date or the line is retained nationally. Then\n"
        "lists every delegation of the line whose population includes the ICB, whatever its\n"
        "dates.",
        cli_delegation_who_run},
    [CLI_SUBCOMMAND_LIMIT_SET] = {
        "limit", "set", NULL, "set or vary NHS England's limit for a stream and year",
        "Records a RevenueLimitSet event: NHS England's revenue limit for one stream and\n"
        "financial year (its capital limit for the capital stream), the most it may\n"
        "allocate. --amount is the whole limit, not a change: setting it again varies it.\n"
        "An allocation beyond what the limit leaves unallocated, or with no limit set, is\n"
        "refused with failed_precondition (insufficient_headroom), and so is a limit lower\n"
        "than what is already allocated. A limit is corrected by setting it again, not by\n"
        "reverse. `fundflow position X24 --stream S --year Y` shows the limit as received,\n"
        "what is allocated as passed on, and what is left unallocated as held.",
        cli_limit_set_run},
    [CLI_SUBCOMMAND_ALLOCATE] = {
        NULL, "allocate", NULL, "allocate funding from NHS England to an ICB",
        "Records an AllocationIssued event: the funder (an organisation of kind nhse) allocates\n"
        "an amount of one stream and financial year to a recipient (an ICB or joint\n"
        "committee). Allocations are recurrent unless --non-recurrent. A specialised\n"
        "allocation may cite the delegation it funds, which the recipient must hold.",
        cli_allocate_run},
    [CLI_SUBCOMMAND_BUDGET] = {
        NULL, "budget", NULL, "pass a budget on from an ICB",
        "Records a BudgetDelegated event: an ICB passes part of what it holds in one stream\n"
        "and year on to a place (one of its own), provider collaborative, joint committee or\n"
        "local authority. The ICB's headroom must cover the amount, or the server refuses it\n"
        "with failed_precondition and says what the ICB holds.",
        cli_budget_run},
    [CLI_SUBCOMMAND_REVERSE] = {
        NULL, "reverse", "SEQUENCE", "reverse an event that moved money",
        "Records a Reversal of event SEQUENCE, undoing its postings: an allocation, a budget,\n"
        "a contract variation, a payment or an outcome report. An event can be reversed\n"
        "once, a reversal cannot itself be reversed, and events that move no money (such as\n"
        "registrations) cannot be reversed; an agreed contract is corrected by varying it.",
        cli_reverse_run},
    [CLI_SUBCOMMAND_CONTRACT_AGREE] = {
        "contract", "agree", "ID", "agree a contract for a financial year",
        "Records a ContractAgreed event: a commissioner (an ICB, place or joint committee)\n"
        "contracts with a provider (a trust, primary care or independent provider, local\n"
        "authority or provider collaborative) for one stream and financial year. The whole\n"
        "value is committed from the commissioner's budget, whose headroom must cover it. A\n"
        "specialised contract names its service line, which the commissioner must hold a\n"
        "delegation for on the contract's date. An outcome-based contract withholds a pot of\n"
        "its value (--pot), earned by outcome metrics (--metric, repeated) whose weights add\n"
        "to 10000 basis points: each metric's share is the pot times its weight, rounded\n"
        "down, and the last metric takes what is left. ID is 2 to 32 upper-case letters,\n"
        "digits or hyphens.",
        cli_contract_agree_run},
    [CLI_SUBCOMMAND_CONTRACT_VARY] = {
        "contract", "vary", "ID", "change a contract's value",
        "Records a ContractVaried event: the value of contract ID goes up or down by --change.\n"
        "An increase is committed from the commissioner's budget, whose headroom must cover\n"
        "it; a decrease returns to it. The value may not fall below what has been paid and\n"
        "withheld. Write a decrease as --change -1000 or --change=-1000.00.",
        cli_contract_vary_run},
    [CLI_SUBCOMMAND_CONTRACT_SHOW] = {
        "contract", "show", "ID", "show a contract's position",
        "Prints contract ID: its terms; its value as agreed, the variations and the value now;\n"
        "the fixed and variable elements; the withheld pot and what of it awaits reports;\n"
        "what has been paid, earned and released; and what is still to flow (the value less\n"
        "payments, earnings and releases). Then a table of its outcome metrics, and one of\n"
        "the months M1 (April) to M12 (March) with what was paid in each.",
        cli_contract_show_run},
    [CLI_SUBCOMMAND_CONTRACT_LIST] = {
        "contract", "list", NULL, "list contracts",
        "Lists contracts in id order, each with its parties, type, year, stream, value, what\n"
        "has been paid, its withheld pot, and what the pot has earned and released, keeping\n"
        "only those that match every filter given, then a TOTAL row. Follows the server's\n"
        "pages to the end unless --limit stops it sooner. --sort withheld ranks them by pot.",
        cli_contract_list_run},
    [CLI_SUBCOMMAND_PAY] = {
        NULL, "pay", "CONTRACT_ID", "record a payment under a contract",
        "Records a PaymentMade event: the commissioner pays the provider an amount under\n"
        "contract CONTRACT_ID for one month of its year. Payments may not add up to more than\n"
        "the contract's value less its withheld pot; the server refuses an overpayment with\n"
        "failed_precondition. Nothing may be dated (--date) in a month closed for either\n"
        "party.",
        cli_pay_run},
    [CLI_SUBCOMMAND_OUTCOME] = {
        NULL, "outcome", "CONTRACT_ID", "report an outcome metric's achievement",
        "Records an OutcomeReported event: the achievement of one metric of outcome-based\n"
        "contract CONTRACT_ID for its year. The provider earns the metric's share of the pot\n"
        "times the achievement, rounded down to the penny; the rest of the share is released\n"
        "to the commissioner's budget. Each metric is reported once; to correct a report,\n"
        "reverse it and report again. Give the achievement as a percentage or in basis\n"
        "points, not both.",
        cli_outcome_run},
    [CLI_SUBCOMMAND_STATEMENT] = {
        NULL, "statement", NULL, "submit an Agreement of Balances statement",
        "Records a StatementSubmitted event: one body's view of its balance with a\n"
        "counterparty for a month of a financial year, as a receivable, payable, income or\n"
        "expenditure. A later statement for the same period and kind replaces the earlier.",
        cli_statement_run},
    [CLI_SUBCOMMAND_CLOSE_PERIOD] = {
        NULL, "close-period", "CODE", "close a month for an organisation",
        "Records a PeriodClosed event: month --month of --year is closed for the organisation\n"
        "CODE, and from then on nothing dated inside that month may post to its accounts.\n"
        "A month closes once.",
        cli_close_period_run},
    [CLI_SUBCOMMAND_POSITION] = {
        NULL, "position", "CODE", "show an organisation's position",
        "Prints the position of the organisation CODE in one stream (or, without --stream or\n"
        "with --stream all, every stream: one row each and a TOTAL) and financial year, now or\n"
        "as the ledger stood at an earlier event or date. The figures add up:\n"
        "  received              allocations and budgets received, and for a provider what\n"
        "                        its contracts paid it (NHS England: funding drawn)\n"
        "  passed on             allocations and budgets passed on\n"
        "  held                  = received - passed on\n"
        "  contract value        = paid + unpaid commitment + withheld + earned: what its\n"
        "                        contracts as commissioner cost\n"
        "  uncommitted headroom  = held - contract value: what it may still commit or pass on\n"
        "  released              outcome pots returned to it; not part of contract value\n"
        "For a provider it then lists every contract on which it is the provider, across all\n"
        "its commissioners and streams: value = paid + earned + outstanding (outstanding is\n"
        "the unpaid commitment and the withheld pot), with a total per commissioner and a\n"
        "TOTAL. With --rollup the figures are those of the group (an ICB and its places, a\n"
        "region and its ICBs and their places, a collaborative and its members) as one body:\n"
        "money between members is neither received nor passed on nor contract value, and is\n"
        "shown as internal transfers, internal contracts and internal paid.",
        cli_position_run},
    [CLI_SUBCOMMAND_POSITIONS] = {
        NULL, "positions", NULL, "show the positions of every organisation of a kind",
        "Lists every organisation of one kind (ICBs unless --kind says otherwise), following\n"
        "the server's pages, and prints the position of each in one stream and financial year\n"
        "as one table, with the figures position prints: received (NHS England: funding\n"
        "drawn), passed on, held = received - passed on, contract value = paid + unpaid\n"
        "commitment + withheld + earned, uncommitted headroom = held - contract value, and\n"
        "released (pots returned, in no other column); then a TOTAL row. With --rollup each\n"
        "row is a group with the money between its members taken out, so rows of different\n"
        "groups add up but a group's row is not the sum of its members' rows. Every position\n"
        "is read as at the same event, --as-at or else the head when\n"
        "the first is read, which the line under the table names. With --json, prints one\n"
        "document {\"positions\":[...]} holding each GetPosition reply as the server wrote it.\n"
        "Reads at most " CLI_NUMBER_TEXT(CLI_POSITIONS_ORGS_MAX) " organisations; with more, or "
        "with a total too large for 64-bit\n"
        "pence, it says so, prints nothing and exits 1.",
        cli_positions_run},
    [CLI_SUBCOMMAND_FLOWS] = {
        NULL, "flows", NULL, "show how money flowed between organisations in a year",
        "Prints the money that flowed in a financial year, from NHS England (or --root) down\n"
        "through ICBs and places to providers: each flow from one organisation to another in\n"
        "one stream, with its total, indented by its steps from the root. Says so when the\n"
        "server's limit on flows cut the walk short.",
        cli_flows_run},
    [CLI_SUBCOMMAND_HISTORY] = {
        NULL, "history", "[CODE]", "list an account's postings, or a principal's events",
        "Lists every posting to one account of the organisation CODE, in one stream and year\n"
        "(--stream and --year are then required): the event, its date, the debit or credit,\n"
        "and the balance after it. With --actor NAME instead of CODE, lists every event the\n"
        "principal NAME recorded, with its date, kind, actor and what it records; that needs\n"
        "an admin or auditor token. Follows the server's pages to the end unless --limit\n"
        "stops it sooner.",
        cli_history_run},
    [CLI_SUBCOMMAND_EVENTS] = {
        NULL, "events", NULL, "list events",
        "Lists events in sequence order, each described on one line: every event, or with\n"
        "--org or --contract only those that concern one organisation or one contract.\n"
        "Follows the server's pages to the end unless --limit stops it sooner. With --follow,\n"
        "keeps printing events as they are recorded until stopped.",
        cli_events_run},
    [CLI_SUBCOMMAND_EVENT] = {
        NULL, "event", "SEQUENCE", "show one event in full",
        "Prints event SEQUENCE: when it was recorded and by whom, its date, idempotency key and\n"
        "hashes, and every field of what it records.",
        cli_event_run},
    [CLI_SUBCOMMAND_VERIFY] = {
        NULL, "verify", NULL, "have the server check the ledger",
        "Asks the server to recompute the hash chain and compare every projection with a\n"
        "replay of the log. Prints \"OK: N events checked\", or \"FAILED at sequence S: CODE:\n"
        "REASON\" and exits 1. The server does this work while it answers nothing else, so a\n"
        "large ledger makes everyone wait.\n"
        "With --since FILE (a head saved by fundflow head save) the client checks instead,\n"
        "trusting only the public key in FILE (or --key): the saved head's signature, the\n"
        "server's current signed head, and a consistency proof that the log then is the start\n"
        "of the log now. Prints \"OK: the log has only grown...\", or \"FAILED: \" and what\n"
        "failed (a shorter log, a changed event, a bad signature or another key), exit 1.",
        cli_verify_run},
    [CLI_SUBCOMMAND_INFO] = {
        NULL, "info", NULL, "show the server's version, head and signing key",
        "Prints the server's version, the head sequence and hash, the number of events, how\n"
        "long the server has been running, and the Ed25519 public key that signs its tree\n"
        "heads with its key ID (SHA-256 of the key).",
        cli_info_run},
    [CLI_SUBCOMMAND_PLUGINS] = {
        NULL, "plugins", NULL, "list the server's reporting-rule plugins",
        "Lists the reporting-rule plugins the server has loaded: each one's name, version, the\n"
        "plugin ABI it was built against, the financial years whose rules it knows, its hooks\n"
        "(report; veto if it can refuse commands; project if it keeps data of its own), whether\n"
        "that data is up to date or where it stopped, and what it does. Then any shared object\n"
        "the server skipped, with why. With --reload the server first unloads every plugin and\n"
        "loads its plugin directories again, as SIGHUP does; a plugin whose data stopped\n"
        "resumes from there.",
        cli_plugins_run},
    [CLI_SUBCOMMAND_REPORT] = {
        NULL, "report", "NAME", "run a plugin's report",
        "Runs the report of the plugin NAME for a financial year, of every organisation or one,\n"
        "now or as the ledger stood at an earlier event; the server answers not_found for a\n"
        "plugin it has not loaded or an organisation it does not know. A report is tables of\n"
        "typed columns and findings (PASS, WARN or FAIL, each with an organisation and a\n"
        "message), worst first in every format. A year with no money events recorded gets a\n"
        "WARN saying so, and no PASS. --format table prints each table under its name with\n"
        "money as £1,234.56, then the findings with their counts. csv writes RFC 4180 CSV\n"
        "with CRLF line ends: for each table a line \"# table NAME\", its column names and its\n"
        "rows, with money in plain pounds (1234.56), percentages plain (12.34), flags true or\n"
        "false and dates YYYY-MM-DD; then \"# findings\" and lines of level,org_code,message.\n"
        "json prints the server's reply exactly. xlsx writes a workbook with a worksheet per\n"
        "table and one of findings, and needs --output. With --output the result goes to a\n"
        "temporary file beside FILE, renamed over it only once whole, so a failure leaves FILE\n"
        "as it was. With --fail-on, exits 5 once the report is written if a finding reached\n"
        "the level given.",
        cli_report_run},
    [CLI_SUBCOMMAND_SUBMIT] = {
        NULL, "submit", "FILE", "send a file of commands",
        "Sends the commands in FILE ('-' for standard input): newline-delimited JSON with one\n"
        "Command per line, as fundflow-admin demo --ndjson writes them (fields\n"
        "idempotency_key, effective_date as YYYYMMDD, and event). Blank lines are skipped.\n"
        "Every line is read and checked first: a line that is not a Command is named with its\n"
        "number and nothing is sent (exit 2). Then the commands go in SubmitCommands batches,\n"
        "and a summary says how many were sent, recorded, already present (sent before under\n"
        "the same key) and refused, listing each refusal with its line number, code, field and\n"
        "message. Exits 1 if any command was refused. Progress goes to stderr when it is a\n"
        "terminal. A batch the server is too busy for is sent again after a pause, up to five\n"
        "times. With --json, prints one SubmitCommandsResponse holding every result in order.",
        cli_submit_run},
    [CLI_SUBCOMMAND_PRINCIPAL_ADD] = {
        "principal", "add", "NAME", "create a principal and its bearer token",
        "Asks the server to grant a new principal NAME (1 to "
        CLI_NUMBER_TEXT(FF_PRINCIPAL_NAME_BYTES_MAX) " bytes; a name is never\n"
        "reused, even once revoked) a role: admin (everything), writer (commands whose acting\n"
        "organisation is in scope, and reads in scope), reader (reads in scope) or auditor\n"
        "(reads everything, verifies, histories by actor; never writes). --org scopes it to\n"
        "an organisation and everything under it; without --org it is national. Needs an\n"
        "admin token (or, on a server with no principal yet, a client on the same machine).\n"
        "Prints the principal, then the token alone on the last line: it is shown once and\n"
        "stored nowhere, so keep it. With --json, prints {\"name\": ..., \"token\": ...}.",
        cli_principal_add_run},
    [CLI_SUBCOMMAND_PRINCIPAL_LIST] = {
        "principal", "list", NULL, "list principals",
        "Lists every principal, revoked ones included, by name: its role, its scope (or\n"
        "national), the date it was created and by whom, and the date it was revoked (or -).\n"
        "Needs an admin or auditor token.",
        cli_principal_list_run},
    [CLI_SUBCOMMAND_PRINCIPAL_REVOKE] = {
        "principal", "revoke", "NAME", "revoke a principal's token",
        "Asks the server to revoke the principal NAME: its token is refused from the next\n"
        "request on. The principal stays listed, with the date it was revoked, and its name\n"
        "is never granted again. Needs an admin token.",
        cli_principal_revoke_run},
    [CLI_SUBCOMMAND_PLAN_SET] = {
        "plan", "set", "CODE", "set or revise an organisation's monthly expenditure plan",
        "Records a PlanSet event: the organisation CODE plans to spend, under the contracts it\n"
        "commissions, these amounts in M1 (April) to M12 (March) of --year in --stream, given\n"
        "month by month (--month-amounts) or the same each month (--amount-each). Setting it\n"
        "again revises it: the latest plan recorded wins, and every revision stays in the\n"
        "ledger (outturn --as-at reads an earlier one). A plan moves no money and cannot be\n"
        "reversed; to correct one, set it again.",
        cli_plan_set_run},
    [CLI_SUBCOMMAND_OUTTURN] = {
        NULL, "outturn", "CODE", "show plan against actual and the forecast outturn",
        "Prints, for the organisation CODE in --year (every stream unless --stream), one table\n"
        "of M1 to M12: the plan; to month --to, the actual (payments under the contracts it\n"
        "commissions, in the month they pay for, and outcome earnings in the month reported),\n"
        "the variance (actual - plan: positive is over plan) and the year to date; after --to,\n"
        "the commitment still to be paid, spread evenly over the months left; and each month's\n"
        "forecast: the actual, or after --to the larger of plan and commitment. TOTAL adds\n"
        "them up. Then the forecast outturn (actual to date + remaining commitment + the plan\n"
        "beyond what is committed; at M12, actual + what is still owed) and the forecast\n"
        "variance against the full-year plan. With --rollup, an ICB's places, a region's ICBs\n"
        "and their places, or a collaborative's members are added in (the same group as\n"
        "position --rollup); budgets passed between them are not spending, and payments between\n"
        "them are left out and shown as internal. --format csv, xlsx or json exports the month\n"
        "table (--output FILE writes it to a file; --sort orders the months by a money column;\n"
        "--provenance heads a CSV with what produced it). Where the table shows \"-\" (actual,\n"
        "variance and year to date after --to; committed to --to), an export has 0.00.",
        cli_outturn_run},
    [CLI_SUBCOMMAND_IMPORT] = {
        NULL, "import", "FILE", "record the rows of a CSV file as commands",
        "Reads FILE, a CSV file in UTF-8 (as Excel's \"CSV UTF-8\" saves it), through the\n"
        "mapping file --mapping, which says which column holds which field (see\n"
        "docs/RECONCILE.md), and records each row as one command of --kind: allocations as\n"
        "allocate would, budgets as budget, contracts as contract agree, payments as pay,\n"
        "outcomes as outcome, statements as statement and plans as plan set. Every value goes\n"
        "through the same parser as that subcommand's flag, so 1,234.5 and £1,234.50 are\n"
        "amounts and 1.234 and 1e3 are not. A row's idempotency key comes from the file's name,\n"
        "its SHA-256 and the row's line, so importing the same file again records nothing new.\n"
        "Every row is read and checked before anything is sent. By default the rows are one\n"
        "all-or-nothing batch of at most " CLI_NUMBER_TEXT(FF_BATCH_COMMANDS_MAX)
        " rows: one bad row records none.\n"
        "--independent records the good rows and reports the bad ones.\n"
        "--dry-run checks every row against the ledger and records nothing. Prints a row by\n"
        "row result (line, reference, result, event, field and reason) in --format, then a\n"
        "summary. XLSX files are refused: no C reader of them is packaged in Debian, so save\n"
        "the sheet as CSV UTF-8. Exits 0 if every row was recorded or already was (or would\n"
        "be, with --dry-run), 1 if any row was refused, 2 for a bad file or mapping.",
        cli_import_run},
    [CLI_SUBCOMMAND_RECONCILE] = {
        NULL, "reconcile", "FILE", "compare a file kept outside fundflow with the ledger",
        "Reads FILE, a CSV file (UTF-8; save a workbook from Excel as \"CSV UTF-8\"; an .xlsx\n"
        "is refused) through the mapping file --mapping, which says which column holds which\n"
        "field, and asks the server to compare its rows with the ledger, writing nothing:\n"
        "  allocations  per recipient (org) and stream: a published allocation schedule\n"
        "  positions    per org, stream and measure (received, passed on or paid)\n"
        "  payments     per contract and month: a general ledger's export, receipts\n"
        "  contracts    per contract: its value, from a contract tracker\n"
        "Rows with the same key are added up, and so is the ledger's side, which is what\n"
        "your token's scope covers in the year, as at --as-at. Every key falls into one of\n"
        "four sections, each with a TOTAL (and a Summary of all four):\n"
        "  matched                    in both, the difference within the tolerance\n"
        "  matched with a difference  in both, the difference beyond it: file, ledger and\n"
        "                             difference (file - ledger)\n"
        "  in the file only           not in the ledger (or 0 there)\n"
        "  in the ledger only         not in the file\n"
        "with the as-at sequence and that event's hash, so it says what the ledger held. A\n"
        "mapping is lines of \"Column Heading = field\" (or \"#3 = field\") and directives:\n"
        "kind = KIND, date format = DD/MM/YYYY (YYYY-MM-DD, DD-MM-YYYY, DD.MM.YYYY,\n"
        "DD-MON-YYYY, YYYYMMDD), amount format = pounds|pence, amount sign = negate,\n"
        "reference = Column, header = none, match = contract, month (keys to match on),\n"
        "tolerance = 1.00 (pounds), date window = 2024-04-01 to 2024-09-30, and constants\n"
        "set FIELD = VALUE; set year, and set provider, set commissioner or set stream to\n"
        "narrow the ledger's side. The fields: org, stream, measure, contract, month (or a\n"
        "date, whose month is taken), amount (any sign), date, year. Every value is read by\n"
        "the parsers the flags use; the first bad one is refused naming its line and column\n"
        "(exit 2), and nothing is sent. docs/RECONCILE.md explains it all, with examples.\n"
        "--format csv, json or xlsx exports it (xlsx: a worksheet per section, a Summary, the\n"
        "Comparison and an About sheet). With --fail-on difference, exits 5 once it is\n"
        "written if any key is in the last three sections, for a monthly job to alert on.",
        cli_reconcile_run},
    [CLI_SUBCOMMAND_HEAD_SAVE] = {
        "head", "save", "FILE", "save the server's signed tree head",
        "Fetches the server's latest signed tree head (the number of events, the root of the\n"
        "Merkle tree over them, when it was signed, and the signature), checks its signature,\n"
        "and writes it with the public key to FILE. Keep FILE: fundflow verify --since FILE\n"
        "later proves that the ledger has only grown since. The key is the server's own\n"
        "unless --key FILE pins one, which the head must then be signed with.",
        cli_head_save_run},
    [CLI_SUBCOMMAND_PROVE] = {
        NULL, "prove", "SEQUENCE", "prove that an event is in the signed log",
        "Fetches event SEQUENCE as stored, its inclusion proof and the latest signed tree\n"
        "head, and checks them itself: the head's signature with the pinned key (--key FILE,\n"
        "or the one in a saved head given with --since FILE; else the server's own, said so)\n"
        "and that the event's hash and the proof lead to the head's root. Prints \"OK: event\n"
        "N is in the signed tree of M events\", or \"FAILED: \" and why, exit 1.",
        cli_prove_run},
    [CLI_SUBCOMMAND_BACKUP] = {
        NULL, "backup", NULL, "have the server back the ledger up (admins)",
        "Asks the server for a hot backup (BackupLedger): a compacted copy of the ledger,\n"
        "taken while it goes on writing, in its backup directory (backup_dir), with the head\n"
        "the copy holds recorded beside it in NAME.head. Prints the file's name and size and\n"
        "that head. Refused (exit 1) unless your token is an admin's, or when the server has\n"
        "no backup directory. \"fundflow-admin restore\" puts a backup back, verified.",
        cli_backup_run},
    [CLI_SUBCOMMAND_CLUSTER_STATUS] = {
        "cluster", "status", NULL, "show the cluster's nodes, roles and how far behind they are",
        "Asks the server for the cluster as it knows it (GetClusterStatus): its own node ID and\n"
        "role, the Raft term, the leader, and its commit, applied and last indexes; then one\n"
        "row per node: ID, role, voter or standby, Raft address, URL, match index and how many\n"
        "entries it is behind the leader's log (known only when asked of the leader; ask the\n"
        "leader's URL for them). --format csv, json or xlsx exports the rows. Admins and\n"
        "auditors; refused (exit 1, failed_precondition) by a server not in a cluster.",
        cli_cluster_status_run},
    [CLI_SUBCOMMAND_CLUSTER_ADD] = {
        "cluster", "add", "NODE_ID RAFT_ADDRESS URL", "add a node to the cluster (admins)",
        "Adds node NODE_ID (a number not used in the cluster) whose Raft traffic arrives at\n"
        "RAFT_ADDRESS (HOST:PORT) and whose clients are served at URL (http://HOST:PORT or\n"
        "https://HOST:PORT), as a voter, or with --standby as a standby that copies the log\n"
        "but does not vote. Start the new node's fundflowd first, with its --cluster-config\n"
        "naming the cluster. Sent to the leader (a follower's refusal is followed to it).\n"
        "Prints the cluster's status after the change.",
        cli_cluster_add_run},
    [CLI_SUBCOMMAND_CLUSTER_REMOVE] = {
        "cluster", "remove", "NODE_ID", "remove a node from the cluster (admins)",
        "Removes node NODE_ID from the cluster's configuration; it stops taking part in votes\n"
        "and no longer receives the log. Sent to the leader, as cluster add. Prints the\n"
        "cluster's status after the change. To replace a dead node: remove it, then add the\n"
        "new one (docs/CLUSTER.md).",
        cli_cluster_remove_run},
    [CLI_SUBCOMMAND_CLUSTER_TRANSFER] = {
        "cluster", "transfer", "[NODE_ID]", "hand leadership to another node (admins)",
        "Asks the leader to hand leadership to voter NODE_ID, or without it to the voter\n"
        "whose log is most up to date; for example before restarting the leader's machine.\n"
        "Writes pause for the hand-over (an election's time). Prints the cluster's status\n"
        "after the change, as this node then knows it.",
        cli_cluster_transfer_run},
};

/* Flags -------------------------------------------------------------------------------------- */

#define CLI_DATE_HELP                                                                          \
    "The date the event takes effect, YYYY-MM-DD, inside the financial year (and for a\n"       \
    "payment, no earlier than its month). Default: today, where today is in the year."
#define CLI_KEY_HELP                                                                            \
    "The idempotency key, up to " CLI_NUMBER_TEXT(FF_IDEMPOTENCY_KEY_BYTES_MAX) " bytes. Default: "  \
    "\"cli-\" and 32 hex digits of a\n"                                                       \
    "SHA-256 of the command: the subcommand, every value that goes into the event (the\n"      \
    "--reference too) and the effective date. So re-running the same command on the same\n"     \
    "day, or with the same --date, is a no-op that says \"already recorded as event N\". To\n"  \
    "record the same again on purpose, such as a second identical payment, give a distinct\n"  \
    "--reference or a --key of your own."
#define CLI_AMOUNT_HELP                                                                         \
    "in pounds, such as 1234.56, 1,234.56 or £1,234.56, with at most\ntwo decimal places"

_Static_assert(CLI_SUBMIT_BATCH_SIZE_DEFAULT <= FF_BATCH_COMMANDS_MAX,
               "submit's default batch is one the server takes");

/* Values of import's flags. */

static bool cli_import_kind_flag_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    return cli_import_kind_parse(flag, value, &options->import_kind);
}

static bool cli_mapping_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    if (value[0] == '\0') return tool_value_refuse(flag, value, "is empty");
    options->mapping_path = value;
    return true;
}

static bool cli_independent_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->independent = true;
    return true;
}

static bool cli_dry_run_parse(void *context, const char *flag, const char *value) {
    cli_options *options = context;
    (void)flag, (void)value;
    options->dry_run = true;
    return true;
}

const tool_flag cli_flags[] = {
    {"--server", "URL", CLI_FOR_ALL, 0, cli_server_parse,
     "The server, as http://HOST:PORT, or https://HOST:PORT for TLS. Default:\n"
     "$" CLI_SERVER_ENVIRONMENT ", or else " CLI_SERVER_DEFAULT ".", NULL},
    {"--cacert", "FILE", CLI_FOR_ALL, 0, cli_tls_file_parse,
     "For https: trust the CA certificates in FILE (PEM) instead of the system's store.\n"
     "The server's certificate must also name the URL's host (an IP address URL needs an\n"
     "IP subjectAltName). Default: $" CLI_CACERT_ENVIRONMENT ". --cacert, --cert and\n"
     "--cert-key are refused with an http:// URL; the environment's are ignored.", NULL},
    {"--cert", "FILE", CLI_FOR_ALL, 0, cli_tls_file_parse,
     "For https with mutual TLS: the client certificate (PEM), with --cert-key. Default:\n"
     "$" CLI_CERT_ENVIRONMENT ".", NULL},
    {"--cert-key", "FILE", CLI_FOR_ALL, 0, cli_tls_file_parse,
     "The private key (PEM) of --cert. Default: $" CLI_CERT_KEY_ENVIRONMENT ".\n"
     "(--key is the idempotency key.)", NULL},
    {"--token", "TOKEN", CLI_FOR_ALL, 0, cli_token_parse,
     "A principal's bearer token, as principal add printed it (or the server's\n"
     "admin_token while it has no principal). Default: $" CLI_TOKEN_ENVIRONMENT ". Without\n"
     "one, only a server with no principal yet serves clients on the same machine.", NULL},
    {"--json", NULL, CLI_FOR_ALL, 0, cli_json_parse,
     "Machine output: send the request as application/json and print the server's JSON\n"
     "reply exactly as received, one document ending in a newline, on stdout. Refusals\n"
     "too, still with exit code 1. A listing of several pages prints one document holding\n"
     "every row, submit one holding every result, and positions one holding every\n"
     "position, written as the server writes them.",
     NULL},
    {"--min-sequence", "N", CLI_FOR_ALL, 0, cli_min_sequence_parse,
     "Ask the server to answer only once its log holds event N (the Fundflow-Min-Sequence\n"
     "header), waiting up to its min_sequence_wait_ms (default 5 s), or be refused with\n"
     "unavailable (sequence_not_reached). On a follower of a cluster, N from a write's \"head\n"
     "sequence\" reads that write. Default 0: no wait.", NULL},
    /* Organisations. */
    {"--name", "NAME", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), CLI_FOR(CLI_SUBCOMMAND_ORG_ADD),
     cli_name_parse, "The organisation's name, up to "
     CLI_NUMBER_TEXT(FF_ORG_NAME_BYTES_MAX) " bytes. Required.", NULL},
    {"--name", "NAME", CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE), 0, cli_name_parse,
     "A new name, up to " CLI_NUMBER_TEXT(FF_ORG_NAME_BYTES_MAX) " bytes. Default: unchanged.", NULL},
    {"--name", "NAME", CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD),
     CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD), cli_name_parse,
     "The service line's name, up to " CLI_NUMBER_TEXT(FF_ORG_NAME_BYTES_MAX)
     " bytes. Required.", NULL},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), CLI_FOR(CLI_SUBCOMMAND_ORG_ADD),
     cli_kind_parse, "What the organisation is, by name in any case. Required.",
     &fundflow__v1__org_kind__descriptor},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_ORG_LIST), 0, cli_kind_parse,
     "Only organisations of this kind, by name in any case. Default: every kind.",
     &fundflow__v1__org_kind__descriptor},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_POSITIONS), 0, cli_kind_parse,
     "Which organisations to list, by name in any case. Default: icb.",
     &fundflow__v1__org_kind__descriptor},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_STATEMENT), CLI_FOR(CLI_SUBCOMMAND_STATEMENT),
     cli_statement_kind_parse,
     "Which side of the balance the statement gives, by name in any case. Required.",
     &fundflow__v1__statement_kind__descriptor},
    {"--parent", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), 0, cli_parent_parse,
     "The organisation this one sits under: an ICB's region, a place's ICB. It must be\n"
     "registered already. Default: none.", NULL},
    {"--parent", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE), 0, cli_parent_parse,
     "A new parent, registered already. Default: unchanged.", NULL},
    {"--parent", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_LIST), 0, cli_parent_parse,
     "Only organisations under this one. Default: any.", NULL},
    {"--member", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), 0, cli_member_parse,
     "A member: a provider of a provider collaborative, or an ICB of a joint committee.\n"
     "Repeat the flag for each member, up to " CLI_NUMBER_TEXT(FF_MEMBERS_MAX) "; each must be registered already.\n"
     "Default: none.", NULL},
    {"--members", "A,B,C", CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE), 0, cli_member_parse,
     "The members from the update's date on, replacing the earlier list: codes split by\n"
     "commas, up to " CLI_NUMBER_TEXT(FF_MEMBERS_MAX) ". Default: unchanged.", NULL},
    {"--no-members", NULL, CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE), 0, cli_no_members_parse,
     "Leave the organisation with no members from the update's date on. Not with\n"
     "--members.", NULL},
    {"--lead", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), 0, cli_lead_parse,
     "A provider collaborative's lead provider, one of its members. Needed when a\n"
     "collaborative has members. Default: none.", NULL},
    {"--lead", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_UPDATE), 0, cli_lead_parse,
     "A new lead provider, one of the members. Default: unchanged.", NULL},
    /* Service lines and delegations. */
    {"--category", "CATEGORY", CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD),
     CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD), cli_category_parse,
     "What the service line pays for, by name in any case. Required.",
     &fundflow__v1__service_category__descriptor},
    {"--retained", NULL, CLI_FOR(CLI_SUBCOMMAND_SERVICE_LINE_ADD), 0, cli_retained_parse,
     "The line is retained nationally: NHS England commissions it and it cannot be\n"
     "delegated. Default: it may be delegated.", NULL},
    {"--to", "CODE", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), cli_to_parse,
     "The delegate: an ICB for mode full, a joint committee for mode joint-committee.\n"
     "Required.", NULL},
    {"--lines", "A,B", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), cli_lines_parse,
     "The service lines delegated, registered already and not retained nationally: codes\n"
     "split by commas, up to " CLI_NUMBER_TEXT(FF_DELEGATION_LINES_MAX) ". Required.", NULL},
    {"--population", "Q1,Q2", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), cli_population_parse,
     "The ICBs whose populations the delegation covers: codes split by commas, up to "
     CLI_NUMBER_TEXT(FF_MEMBERS_MAX) ".\n"
     "Required.", NULL},
    {"--mode", "MODE", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), cli_mode_parse,
     "full (delegated to an ICB) or joint-committee (held by a joint committee of ICBs and\n"
     "NHS England). Required.", NULL},
    {"--from", "YYYY-MM-DD", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), cli_from_date_parse,
     "The first day the delegation covers. Required.", NULL},
    {"--until", "YYYY-MM-DD", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_GRANT), 0, cli_until_date_parse,
     "The last day the delegation covers, on or after --from. Default: open-ended.", NULL},
    {"--until", "YYYY-MM-DD", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_REVOKE),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_REVOKE), cli_until_date_parse,
     "The delegation's new last day, within its dates. Required.", NULL},
    {"--line", "CODE", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO), cli_line_parse, "The service line. Required.",
     NULL},
    {"--icb", "CODE", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO),
     CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO), cli_icb_parse,
     "The ICB whose population is asked about. Required.", NULL},
    {"--on", "YYYY-MM-DD", CLI_FOR(CLI_SUBCOMMAND_DELEGATION_WHO), 0, cli_on_parse,
     "The date asked about. Default: today.", NULL},
    /* Revenue limits. */
    {"--funder", "CODE", CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET), 0, cli_from_parse,
     "NHS England's code, an organisation of kind nhse. Default: " CLI_NHS_ENGLAND_CODE ".",
     NULL},
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET), CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET),
     cli_stream_parse, "The stream the limit is for, by name in any case. Required.",
     &fundflow__v1__stream__descriptor},
    {"--amount", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET), CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET),
     cli_statement_amount_parse,
     "The whole limit " CLI_AMOUNT_HELP ", zero or more. Required.", NULL},
    {"--reference", "TEXT", CLI_FOR(CLI_SUBCOMMAND_LIMIT_SET), 0, cli_reference_parse,
     "A reference such as the allocation letter's, up to "
     CLI_NUMBER_TEXT(FF_REFERENCE_BYTES_MAX) " bytes. Default: none.", NULL},
    /* Transfers. */
    {"--from", "CODE", CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), CLI_FOR(CLI_SUBCOMMAND_ALLOCATE),
     cli_from_parse, "The funder: an organisation of kind nhse. Required.", NULL},
    {"--from", "CODE", CLI_FOR(CLI_SUBCOMMAND_BUDGET), CLI_FOR(CLI_SUBCOMMAND_BUDGET),
     cli_from_parse, "The ICB passing the budget on. Required.", NULL},
    {"--to", "CODE", CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), CLI_FOR(CLI_SUBCOMMAND_ALLOCATE),
     cli_to_parse, "The recipient: an ICB or joint committee. Required.", NULL},
    {"--to", "CODE", CLI_FOR(CLI_SUBCOMMAND_BUDGET), CLI_FOR(CLI_SUBCOMMAND_BUDGET), cli_to_parse,
     "The recipient: a place of the ICB's own, a provider collaborative, a joint\n"
     "committee or a local authority. Required.", NULL},
    {"--delegation", "ID", CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), 0, cli_delegation_parse,
     "For the specialised stream: the delegation this allocation funds, which the\n"
     "recipient must hold. Default: none.", NULL},
    {"--stream", "STREAM", CLI_FOR_ACCOUNTS & ~CLI_FOR(CLI_SUBCOMMAND_POSITION),
     CLI_FOR_ACCOUNTS_REQUIRED & ~CLI_FOR(CLI_SUBCOMMAND_POSITION), cli_stream_parse,
     "The allocation stream, by name in any case. Required.", &fundflow__v1__stream__descriptor},
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_POSITION), 0, cli_stream_or_all_parse,
     "The allocation stream, by name in any case, or all. Default: all, one row per stream\n"
     "with any figure and a TOTAL row.", &fundflow__v1__stream__descriptor},
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), cli_stream_parse,
     "The stream the contract is paid from, by name in any case. Required.",
     &fundflow__v1__stream__descriptor},
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST) | CLI_FOR(CLI_SUBCOMMAND_FLOWS),
     0, cli_stream_parse, "Only this stream, by name in any case. Default: every stream.",
     &fundflow__v1__stream__descriptor},
    {"--year", "YYYY/YY", CLI_FOR_YEARS, CLI_FOR_YEARS_REQUIRED, cli_financial_year_parse,
     "The financial year, such as 2024/25. Required.", NULL},
    {"--year", "YYYY/YY", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST), 0, cli_financial_year_parse,
     "Only contracts for this financial year, such as 2024/25. Default: every year.", NULL},
    {"--amount", "POUNDS", CLI_FOR_TRANSFERS, CLI_FOR_TRANSFERS, cli_amount_flag_parse,
     "The amount " CLI_AMOUNT_HELP ", more than zero. Required.", NULL},
    {"--amount", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_PAY), CLI_FOR(CLI_SUBCOMMAND_PAY),
     cli_amount_flag_parse, "The payment " CLI_AMOUNT_HELP ", more than zero. Required.", NULL},
    {"--amount", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_STATEMENT), CLI_FOR(CLI_SUBCOMMAND_STATEMENT),
     cli_statement_amount_parse,
     "The balance " CLI_AMOUNT_HELP ", zero or more. Required.", NULL},
    {"--reference", "TEXT", CLI_FOR_TRANSFERS, 0, cli_reference_parse,
     "A reference such as an allocation letter's number, up to "
     CLI_NUMBER_TEXT(FF_REFERENCE_BYTES_MAX) " bytes. Default: none.",
     NULL},
    {"--reference", "TEXT", CLI_FOR(CLI_SUBCOMMAND_PAY), 0, cli_reference_parse,
     "A reference such as an invoice number, up to " CLI_NUMBER_TEXT(FF_REFERENCE_BYTES_MAX)
     " bytes. Default: none.", NULL},
    {"--non-recurrent", NULL, CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), 0, cli_non_recurrent_parse,
     "Marks the allocation non-recurrent (one-off). Default: recurrent.", NULL},
    {"--reason", "TEXT", CLI_FOR(CLI_SUBCOMMAND_REVERSE), CLI_FOR(CLI_SUBCOMMAND_REVERSE),
     cli_reason_parse, "Why the event is reversed, up to "
     CLI_NUMBER_TEXT(FF_REASON_BYTES_MAX) " bytes. Required.", NULL},
    /* Contracts. */
    {"--commissioner", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), cli_commissioner_parse,
     "The commissioner: an ICB, place or joint committee. Required.", NULL},
    {"--commissioner", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST), 0, cli_commissioner_parse,
     "Only contracts this organisation commissions. Default: any.", NULL},
    {"--provider", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), cli_provider_parse,
     "The provider: a trust, primary care or independent provider, local authority, or a\n"
     "provider collaborative (or its lead provider). Required.", NULL},
    {"--provider", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST), 0, cli_provider_parse,
     "Only contracts with this provider. Default: any.", NULL},
    {"--collaborative", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST), 0,
     cli_collaborative_parse,
     "Only contracts held by this provider collaborative or any of its members.\n"
     "Default: any.", NULL},
    {"--type", "TYPE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), cli_type_parse,
     "How the contract pays, by name in any case. Required.",
     &fundflow__v1__contract_type__descriptor},
    {"--type", "TYPE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST), 0, cli_type_parse,
     "Only contracts of this type, by name in any case. Default: every type.",
     &fundflow__v1__contract_type__descriptor},
    {"--value", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), cli_value_parse,
     "The annual value " CLI_AMOUNT_HELP ", more than zero. Required.", NULL},
    {"--fixed", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0, cli_fixed_parse,
     "The fixed element of an aligned payment and incentive contract, no more than the\n"
     "value; the rest is variable. Default: £0.00.", NULL},
    {"--category", "CATEGORY", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0, cli_category_parse,
     "What the contract pays for, by name in any case (mental_health counts towards the\n"
     "Mental Health Investment Standard). Default: none given.",
     &fundflow__v1__service_category__descriptor},
    {"--line", "CODE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0, cli_line_parse,
     "The service line; needed for the specialised stream, where the commissioner must\n"
     "hold a delegation of it on the contract's date. Default: none.", NULL},
    {"--cquin-bp", "N", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0, cli_cquin_parse,
     "The CQUIN share of the value in basis points, 0 to " CLI_NUMBER_TEXT(FF_BASIS_POINTS_WHOLE)
     " (250 is 2.5%). Default: 0.",
     NULL},
    {"--pot", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0, cli_pot_parse,
     "For an outcome-based contract: the part of the value withheld until outcomes are\n"
     "reported, more than zero and no more than the value. Needs --metric. Default: none.",
     NULL},
    {"--metric", "CODE:WEIGHT_BP[:DESCRIPTION]", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_AGREE), 0,
     cli_metric_terms_parse,
     "An outcome metric: its code (2 to 12 upper-case letters or digits), its weight in\n"
     "basis points (1 to " CLI_NUMBER_TEXT(FF_BASIS_POINTS_WHOLE) "), and optionally a description of up to "
     CLI_NUMBER_TEXT(FF_DESCRIPTION_BYTES_MAX) " bytes, which\n"
     "may hold colons. Repeat the flag for each metric, up to " CLI_NUMBER_TEXT(FF_METRICS_MAX)
     "; the weights add to\n" CLI_NUMBER_TEXT(FF_BASIS_POINTS_WHOLE) ". Needs --pot.", NULL},
    {"--change", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_VARY),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_VARY), cli_change_flag_parse,
     "The change of value " CLI_AMOUNT_HELP ": more than zero to increase the value,\n"
     "less than zero to decrease it (--change -1000 or --change=-1,000.00). Required.",
     NULL},
    {"--reason", "TEXT", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_VARY),
     CLI_FOR(CLI_SUBCOMMAND_CONTRACT_VARY), cli_reason_parse,
     "Why the value changes, up to " CLI_NUMBER_TEXT(FF_REASON_BYTES_MAX) " bytes. Required.", NULL},
    {"--month", "N", CLI_FOR(CLI_SUBCOMMAND_PAY), CLI_FOR(CLI_SUBCOMMAND_PAY),
     cli_month_flag_parse,
     "The month of the contract's year paid for: 1 (April) to 12 (March), or M1 to M12.\n"
     "Required.", NULL},
    {"--metric", "CODE", CLI_FOR(CLI_SUBCOMMAND_OUTCOME), CLI_FOR(CLI_SUBCOMMAND_OUTCOME),
     cli_metric_code_parse, "The metric reported, one of the contract's. Required.", NULL},
    {"--achievement", "PERCENT", CLI_FOR(CLI_SUBCOMMAND_OUTCOME), 0, cli_achievement_parse,
     "The achievement as a percentage from 0 to 100 with at most two decimal places, such\n"
     "as 75.5 (7550 basis points). This or --achievement-bp is required.", NULL},
    {"--achievement-bp", "N", CLI_FOR(CLI_SUBCOMMAND_OUTCOME), 0, cli_achievement_bp_parse,
     "The achievement in basis points, 0 to " CLI_NUMBER_TEXT(FF_BASIS_POINTS_WHOLE) ". This or --achievement is required.",
     NULL},
    /* Statements and periods. */
    {"--org", "CODE", CLI_FOR(CLI_SUBCOMMAND_STATEMENT), CLI_FOR(CLI_SUBCOMMAND_STATEMENT),
     cli_org_parse, "The body whose statement this is. Required.", NULL},
    {"--counterparty", "CODE", CLI_FOR(CLI_SUBCOMMAND_STATEMENT),
     CLI_FOR(CLI_SUBCOMMAND_STATEMENT), cli_counterparty_parse,
     "The other body, not the same as --org. Required.", NULL},
    {"--month", "N", CLI_FOR(CLI_SUBCOMMAND_STATEMENT) | CLI_FOR(CLI_SUBCOMMAND_CLOSE_PERIOD),
     CLI_FOR(CLI_SUBCOMMAND_STATEMENT) | CLI_FOR(CLI_SUBCOMMAND_CLOSE_PERIOD),
     cli_month_flag_parse,
     "The month of the financial year: 1 (April) to 12 (March), or M1 to M12. Required.",
     NULL},
    /* Every write. */
    {"--date", "YYYY-MM-DD", CLI_FOR_WRITES, 0, cli_effective_date_parse, CLI_DATE_HELP, NULL},
    {"--key", "KEY", CLI_FOR_WRITES, 0, cli_key_parse, CLI_KEY_HELP, NULL},
    /* Signed tree heads. */
    {"--since", "FILE", CLI_FOR(CLI_SUBCOMMAND_VERIFY) | CLI_FOR(CLI_SUBCOMMAND_PROVE), 0,
     cli_since_parse,
     "A head saved by fundflow head save: verify checks the log against it; its public key\n"
     "is the one trusted unless --key is given.", NULL},
    {"--key", "FILE",
     CLI_FOR(CLI_SUBCOMMAND_VERIFY) | CLI_FOR(CLI_SUBCOMMAND_PROVE) |
         CLI_FOR(CLI_SUBCOMMAND_HEAD_SAVE), 0, cli_key_path_parse,
     "The Ed25519 public key to trust: a PEM public key, a line of 64 hex digits (as\n"
     "fundflow info prints it), or a saved head's file. Overrides a saved head's key.", NULL},
    /* Reads. */
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_POSITION), 0, cli_as_at_parse,
     "The position as the ledger stood once event SEQUENCE was recorded. Default: now.",
     NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_CONTRACT_SHOW), 0, cli_as_at_parse,
     "The contract as the ledger stood once event SEQUENCE was recorded. Default: now.",
     NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_POSITIONS), 0, cli_as_at_parse,
     "Every position as the ledger stood once event SEQUENCE was recorded. Default: the\n"
     "head when the first position is read, kept for every other row.", NULL},
    {"--as-at-date", "YYYY-MM-DD",
     CLI_FOR(CLI_SUBCOMMAND_POSITION) | CLI_FOR(CLI_SUBCOMMAND_POSITIONS) |
         CLI_FOR(CLI_SUBCOMMAND_CONTRACT_SHOW) | CLI_FOR(CLI_SUBCOMMAND_FLOWS) |
         CLI_FOR(CLI_SUBCOMMAND_OUTTURN) | CLI_FOR(CLI_SUBCOMMAND_REPORT), 0,
     cli_as_at_date_parse,
     "Count only what took effect on or before this date (for a contract: its variations,\n"
     "payments and outcome reports; a contract agreed later is not found; for outturn, also\n"
     "the latest plan dated by then; for report, the plugin reads positions, account totals\n"
     "and contracts as they stood then and sees no statements or events dated later).\n"
     "Default: every date.", NULL},
    {"--rollup", NULL, CLI_FOR(CLI_SUBCOMMAND_POSITION), 0, cli_rollup_parse,
     "Show the organisation with those under it as one group: an ICB with its places, a\n"
     "region with its ICBs and their places, a provider collaborative with its members (as\n"
     "they stood on --as-at-date, or now). Money between members is left out of received,\n"
     "passed on and contract value and shown as internal. Default: the organisation alone.",
     NULL},
    {"--rollup", NULL, CLI_FOR(CLI_SUBCOMMAND_POSITIONS), 0, cli_rollup_parse,
     "Add up each organisation with those under it, as position --rollup does. The TOTAL\n"
     "then counts twice an organisation that sits under two of those listed (a provider\n"
     "in two collaboratives). Default: each organisation alone.", NULL},
    {"--root", "CODE", CLI_FOR(CLI_SUBCOMMAND_FLOWS), 0, cli_root_parse,
     "Where the walk starts. Default: every organisation of kind nhse.", NULL},
    {"--depth", "N", CLI_FOR(CLI_SUBCOMMAND_FLOWS), 0, cli_depth_parse,
     "How many steps down from the root to go, 1 or more; the server may go less far.\n"
     "Default: " CLI_NUMBER_TEXT(FF_FLOW_DEPTH_DEFAULT) ".", NULL},
    {"--purpose", "PURPOSE", CLI_FOR(CLI_SUBCOMMAND_HISTORY), 0, cli_purpose_parse,
     "The account: budget (held, to pass on), received, onward (passed on), funding (NHS\n"
     "England's funding drawn), committed (to contracts, not yet paid), withheld (outcome\n"
     "pots), paid (under contracts) or earned (outcome pots earned). Default: budget.",
     &fundflow__v1__account_purpose__descriptor},
    {"--org", "CODE", CLI_FOR(CLI_SUBCOMMAND_EVENTS), 0, cli_org_parse,
     "Only the events that concern this organisation. Not with --contract. Default: every\n"
     "event.", NULL},
    {"--contract", "ID", CLI_FOR(CLI_SUBCOMMAND_EVENTS), 0, cli_contract_parse,
     "Only the events of this contract. Not with --org. Default: every event.", NULL},
    {"--standby", NULL, CLI_FOR(CLI_SUBCOMMAND_CLUSTER_ADD), 0, cli_standby_parse,
     "Add the node as a standby, which copies the log but does not vote (it counts toward\n"
     "no majority). Default: a voter.", NULL},
    {"--follow", NULL, CLI_FOR(CLI_SUBCOMMAND_EVENTS), 0, cli_follow_parse,
     "Keep printing events as they are recorded, like tail -f, one line each (--format text,\n"
     "the default) or one EventRecord in JSON per line (--format json), from --after on.\n"
     "Checks the hash chain as it reads: each event's previous hash must be the hash of the\n"
     "event before it, or it says where the chain broke and exits 1. Reconnects up to "
     CLI_NUMBER_TEXT(FF_FOLLOW_RECONNECTS_MAX) "\n"
     "times in a row, resuming after the last event printed. SIGINT (Ctrl-C) or SIGTERM ends\n"
     "it with exit 0. Not with --org, --contract, --limit, --output, --sort or --provenance.",
     NULL},
    {"--after", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_HISTORY) | CLI_FOR(CLI_SUBCOMMAND_EVENTS), 0,
     cli_after_parse, "Start after event SEQUENCE. Default: 0, from the first.", NULL},
    {"--limit", "N",
     CLI_FOR(CLI_SUBCOMMAND_ORG_LIST) | CLI_FOR(CLI_SUBCOMMAND_HISTORY) |
         CLI_FOR(CLI_SUBCOMMAND_EVENTS) | CLI_FOR(CLI_SUBCOMMAND_CONTRACT_LIST),
     0, cli_limit_parse,
     "Stop after N rows. Default: every row, up to a million; past that, page on with\n"
     "--after where the subcommand takes it.", NULL},
    {"--batch-size", "N", CLI_FOR(CLI_SUBCOMMAND_SUBMIT), 0, cli_batch_size_parse,
     "Commands per SubmitCommands request, from 1 to " CLI_NUMBER_TEXT(FF_BATCH_COMMANDS_MAX)
     ". Default: " CLI_NUMBER_TEXT(CLI_SUBMIT_BATCH_SIZE_DEFAULT) ".", NULL},
    {"--linked", NULL, CLI_FOR(CLI_SUBCOMMAND_SUBMIT), 0, cli_linked_parse,
     "Send each batch all-or-nothing: a refused command refuses its whole batch, and no\n"
     "later batch is sent. Default: each command stands alone.", NULL},
    /* Plugins and reports. */
    {"--reload", NULL, CLI_FOR(CLI_SUBCOMMAND_PLUGINS), 0, cli_reload_parse,
     "Have the server unload every plugin and load its plugin directories again, then list\n"
     "what loaded. Default: list the plugins loaded now.", NULL},
    {"--year", "YYYY/YY", CLI_FOR(CLI_SUBCOMMAND_REPORT), 0, cli_financial_year_parse,
     "The financial year reported on, such as 2024/25. Default: the financial year of\n"
     "today's date.", NULL},
    {"--org", "CODE", CLI_FOR(CLI_SUBCOMMAND_REPORT), 0, cli_org_parse,
     "Only this organisation. Default: every organisation.", NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_REPORT), 0, cli_as_at_parse,
     "The report as the ledger stood once event SEQUENCE was recorded. Default: now.", NULL},
    {"--format", "FORMAT", CLI_FOR_EXPORTS, 0, cli_format_parse,
     "table, csv, json or xlsx, in any case. Default: table, or the server's JSON with --json.\n"
     "csv is RFC 4180 in UTF-8 with a byte order mark, so Excel shows \"£\" and names\n"
     "rightly; money is plain pounds (1234.56), numbers Excel can sum, never \"£1,234.56\".\n"
     "json is the rows, typed, with their totals and provenance (report: the server's JSON).\n"
     "xlsx is a workbook with a sheet per table, money as numbers in a £ format, dates as\n"
     "dates, and an About sheet saying what produced it; it needs --output. Every listing ends\n"
     "with a TOTAL row of its money columns.", NULL},
    {"--output", "FILE", CLI_FOR_EXPORTS, 0, cli_output_parse,
     "Write to FILE, replacing it once whole, rather than to stdout. Required for xlsx.\n"
     "Default: stdout.", NULL},
    {"--sort", "COLUMN", CLI_FOR_LISTINGS, 0, cli_sort_parse,
     "Order the rows by COLUMN, named as its heading is (passed_on for \"passed on\"): money\n"
     "and numbers largest first, text and dates in order. Default: the server's order.", NULL},
    {"--provenance", NULL, CLI_FOR_EXPORTS, 0, cli_provenance_parse,
     "With --format csv, start with rows whose first field begins \"# \" giving the command,\n"
     "the year, the as-at sequence and date, the head sequence and hash, and the time made.\n"
     "json and xlsx always carry them. Default: the header row first.", NULL},
    {"--fail-on", "LEVEL", CLI_FOR(CLI_SUBCOMMAND_REPORT), 0, cli_fail_on_parse,
     "fail or warn: once the report is written, exit 5 if any finding is at this level or\n"
     "worse (warn counts FAIL and WARN), so that a script or scheduler can act on it.\n"
     "Default: exit 0 whatever the findings.", NULL},
    /* Principals. */
    {"--role", "ROLE", CLI_FOR(CLI_SUBCOMMAND_PRINCIPAL_ADD),
     CLI_FOR(CLI_SUBCOMMAND_PRINCIPAL_ADD), cli_role_parse,
     "What the principal may do, by name in any case. Required.",
     &fundflow__v1__principal_role__descriptor},
    {"--org", "CODE", CLI_FOR(CLI_SUBCOMMAND_PRINCIPAL_ADD), 0, cli_org_parse,
     "The organisation a writer or reader is scoped to: it and every organisation under\n"
     "it. Admins and auditors are national. Default: national (no scope).", NULL},
    {"--reason", "TEXT", CLI_FOR(CLI_SUBCOMMAND_PRINCIPAL_REVOKE), 0, cli_reason_parse,
     "Why the principal is revoked, up to " CLI_NUMBER_TEXT(FF_REASON_BYTES_MAX)
     " bytes. Default: none.", NULL},
    {"--actor", "NAME", CLI_FOR(CLI_SUBCOMMAND_HISTORY), 0, cli_actor_parse,
     "List the events the principal NAME recorded rather than an account's postings.\n"
     "Not with CODE, --stream, --year or --purpose.", NULL},
    /* Plans and outturns. */
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_PLAN_SET), CLI_FOR(CLI_SUBCOMMAND_PLAN_SET),
     cli_stream_parse, "The stream the plan is for, by name in any case. Required.",
     &fundflow__v1__stream__descriptor},
    {"--year", "YYYY/YY", CLI_FOR(CLI_SUBCOMMAND_PLAN_SET) | CLI_FOR(CLI_SUBCOMMAND_OUTTURN),
     CLI_FOR(CLI_SUBCOMMAND_PLAN_SET) | CLI_FOR(CLI_SUBCOMMAND_OUTTURN),
     cli_financial_year_parse, "The financial year, such as 2024/25. Required.", NULL},
    {"--month-amounts", "A1,...,A12", CLI_FOR(CLI_SUBCOMMAND_PLAN_SET), 0,
     cli_month_amounts_parse,
     "Twelve amounts of pounds, M1 (April) to M12 (March), split by commas and each 0 or\n"
     "more, written without thousands separators (1000000.50). This or --amount-each is\n"
     "required.", NULL},
    {"--amount-each", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_PLAN_SET), 0, cli_amount_each_parse,
     "The same amount " CLI_AMOUNT_HELP " for every month, 0 or more. This or\n"
     "--month-amounts is required.", NULL},
    {"--reason", "TEXT", CLI_FOR(CLI_SUBCOMMAND_PLAN_SET), 0, cli_reason_parse,
     "Why the plan is set or revised, up to " CLI_NUMBER_TEXT(FF_REASON_BYTES_MAX)
     " bytes. Default: none.", NULL},
    {"--to", "MONTH", CLI_FOR(CLI_SUBCOMMAND_OUTTURN), CLI_FOR(CLI_SUBCOMMAND_OUTTURN),
     cli_to_month_parse,
     "The last month of actuals: M1 (April) to M12 (March), or 1 to 12. Required.", NULL},
    {"--stream", "STREAM", CLI_FOR(CLI_SUBCOMMAND_OUTTURN), 0, cli_stream_parse,
     "Only this stream, by name in any case. Default: every stream added together.",
     &fundflow__v1__stream__descriptor},
    {"--rollup", NULL, CLI_FOR(CLI_SUBCOMMAND_OUTTURN), 0, cli_rollup_parse,
     "Add up the organisation with those under it: an ICB with its places, a region with\n"
     "its ICBs and their places, a provider collaborative with its members, as they stood on\n"
     "the year's last day. Default: the organisation alone.", NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_OUTTURN), 0, cli_as_at_parse,
     "The outturn as the ledger stood once event SEQUENCE was recorded: the plans, contracts\n"
     "and payments recorded by then; beyond the head it is refused. Default: now.", NULL},
    /* Import. */
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_IMPORT), 0, cli_import_kind_flag_parse,
     "What the file holds: allocations, budgets, contracts, payments, outcomes, statements\n"
     "or plans. Default: the mapping's \"kind =\" line; if both are given they must agree.",
     NULL},
    {"--mapping", "FILE", CLI_FOR(CLI_SUBCOMMAND_IMPORT), CLI_FOR(CLI_SUBCOMMAND_IMPORT),
     cli_mapping_parse, "The mapping file: which column holds which field. Required.", NULL},
    {"--independent", NULL, CLI_FOR(CLI_SUBCOMMAND_IMPORT), 0, cli_independent_parse,
     "Record the good rows and report the bad ones, in batches of up to\n"
     CLI_NUMBER_TEXT(FF_BATCH_COMMANDS_MAX) " rows. Default: all rows or none.", NULL},
    {"--dry-run", NULL, CLI_FOR(CLI_SUBCOMMAND_IMPORT), 0, cli_dry_run_parse,
     "Check every row against the ledger as the import would, and record nothing.", NULL},
    /* Reconciliation. */
    {"--against", "KIND", CLI_FOR(CLI_SUBCOMMAND_RECONCILE), 0, cli_against_parse,
     "What FILE is compared with: allocations, positions, payments or contracts. Required\n"
     "unless the mapping says kind = KIND (they must then agree).", NULL},
    {"--mapping", "MAPFILE", CLI_FOR(CLI_SUBCOMMAND_RECONCILE),
     CLI_FOR(CLI_SUBCOMMAND_RECONCILE), cli_mapping_parse,
     "The mapping file: which column holds which field, the formats, and the matching\n"
     "rules (docs/RECONCILE.md). Required.", NULL},
    {"--year", "YYYY/YY", CLI_FOR(CLI_SUBCOMMAND_RECONCILE), 0, cli_financial_year_parse,
     "The financial year compared, such as 2024/25. Default: the mapping's year (set year =\n"
     "2024/25, or a year column's first value); one of them is needed.", NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_RECONCILE), 0, cli_as_at_parse,
     "Compare with the ledger as it stood once event SEQUENCE was recorded; beyond the head\n"
     "it is refused. Default: now (the head, which the result names).", NULL},
    {"--tolerance", "POUNDS", CLI_FOR(CLI_SUBCOMMAND_RECONCILE), 0, cli_tolerance_parse,
     "The largest difference that still counts as matched, 0 or more: an amount\n"
     CLI_AMOUNT_HELP ". Default: the mapping's tolerance, or else\n"
     "£0.00 (exact to the penny).", NULL},
    {"--fail-on", "difference", CLI_FOR(CLI_SUBCOMMAND_RECONCILE), 0,
     cli_fail_on_difference_parse,
     "Once the result is written, exit 5 if any key is matched with a difference, in the\n"
     "file only or in the ledger only. Default: exit 0 whatever the result.", NULL},
    {"--help", NULL, CLI_FOR_ALL, 0, NULL, "Print this help and exit.", NULL},
};

_Static_assert(sizeof cli_flags / sizeof cli_flags[0] <= TOOL_FLAGS_MAX,
               "TOOL_FLAGS_MAX holds every flag");

const tool_flag_table cli_flag_table = {CLI_PROGRAM, cli_flags,
                                        sizeof cli_flags / sizeof cli_flags[0], CLI_FOR_ALL};

/* Combinations ------------------------------------------------------------------------------- */

static int cli_combination_refuse(const char *subcommand, const char *problem) {
    tool_message_refuse("%s %s; see " CLI_PROGRAM " %s --help", subcommand, problem, subcommand);
    return CLI_EXIT_USAGE;
}

/* events --follow reads every event, and prints lines as they come: no filter, no file. */
static int cli_follow_combination_check(const cli_options *options) {
    if (options->org_code || options->contract_id || options->limit || options->output_path ||
        options->sort_column || options->provenance) {
        return cli_combination_refuse("events --follow", "takes no --org, --contract, --limit, "
                                                         "--output, --sort or --provenance");
    }
    if (options->report_format != CLI_REPORT_FORMAT_UNCHOSEN &&
        options->report_format != CLI_REPORT_FORMAT_TABLE &&
        options->report_format != CLI_REPORT_FORMAT_JSON) {
        return cli_combination_refuse("events --follow", "prints --format text or json");
    }
    return CLI_EXIT_OK;
}

/* history lists an account's postings (CODE, --stream, --year) or a principal's events
 * (--actor), never both. */
static int cli_history_combination_check(const cli_options *options) {
    if (options->actor != NULL) {
        if (options->operand || options->stream || options->financial_year ||
            options->purpose != FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET) {
            return cli_combination_refuse("history", "takes --actor NAME or CODE with --stream, "
                                                     "--year and --purpose, not both");
        }
        return CLI_EXIT_OK;
    }
    if (options->operand == NULL) return cli_combination_refuse("history", "needs CODE or --actor");
    if (options->stream == 0) return cli_combination_refuse("history", "needs --stream");
    if (options->financial_year == 0) return cli_combination_refuse("history", "needs --year");
    return CLI_EXIT_OK;
}

/* A write for a financial year takes today as its date only when today falls in that year;
 * otherwise the date must be given, since the ledger refuses a date outside the year. */
static int cli_date_in_year_check(const cli_options *options, const char *subcommand) {
    if (options->effective_date_given || options->financial_year == 0 ||
        calendar_year_of_date(options->effective_date) == options->financial_year) {
        return CLI_EXIT_OK;
    }
    char today[CALENDAR_DATE_TEXT_BYTES], year[CALENDAR_YEAR_TEXT_BYTES];
    char first[CALENDAR_DATE_TEXT_BYTES], last[CALENDAR_DATE_TEXT_BYTES];
    calendar_date_format(options->effective_date, today, sizeof today);
    calendar_year_format(options->financial_year, year, sizeof year);
    calendar_date_format(calendar_year_first_date(options->financial_year), first, sizeof first);
    calendar_date_format(calendar_year_last_date(options->financial_year), last, sizeof last);
    tool_message_refuse("%s needs --date: today (%s) is outside %s; give a date from %s to %s",
                        subcommand, today, year, first, last);
    return CLI_EXIT_USAGE;
}

/* A listing prints the server's JSON with --json, or renders --format; not both. */
static int cli_export_combination_check(const cli_options *options, const char *subcommand) {
    bool listing = options->subcommand != CLI_SUBCOMMAND_REPORT;
    if (listing && options->json && options->report_format != CLI_REPORT_FORMAT_UNCHOSEN) {
        return cli_combination_refuse(subcommand, "takes --json (the server's reply) or --format "
                                                  "FORMAT, not both");
    }
    if (listing && options->json && options->sort_column != NULL) {
        return cli_combination_refuse(subcommand, "sorts with --format, not --json");
    }
    if (listing && options->json && options->output_path != NULL) {
        return cli_combination_refuse(subcommand, "writes --output with --format, not --json");
    }
    if (options->report_format == CLI_REPORT_FORMAT_XLSX && options->output_path == NULL) {
        return cli_combination_refuse(subcommand, "--format xlsx needs --output FILE");
    }
    return CLI_EXIT_OK;
}

static int cli_subcommand_combination_check(const cli_options *options) {
    switch (options->subcommand) {
    case CLI_SUBCOMMAND_ALLOCATE:
        return cli_date_in_year_check(options, "allocate");
    case CLI_SUBCOMMAND_LIMIT_SET:
        return cli_date_in_year_check(options, "limit set");
    case CLI_SUBCOMMAND_BUDGET:
        return cli_date_in_year_check(options, "budget");
    case CLI_SUBCOMMAND_PLAN_SET:
        if (options->month_amounts_given == options->amount_each_given) {
            return cli_combination_refuse("plan set", "needs one of --month-amounts A1,...,A12 "
                                                      "and --amount-each POUNDS");
        }
        return cli_date_in_year_check(options, "plan set");
    case CLI_SUBCOMMAND_ORG_UPDATE:
        if (options->members_given && options->no_members) {
            return cli_combination_refuse("org update", "takes --members or --no-members, not "
                                                        "both");
        }
        if (!options->name && !options->parent_code && !options->members_given &&
            !options->no_members && !options->lead_code) {
            return cli_combination_refuse("org update", "needs at least one of --name, --parent, "
                                                        "--members, --no-members and --lead");
        }
        return CLI_EXIT_OK;
    case CLI_SUBCOMMAND_CONTRACT_AGREE:
        if ((options->pot_pence != 0) != (options->metric_count != 0)) {
            return cli_combination_refuse("contract agree", "takes --pot and --metric together");
        }
        return cli_date_in_year_check(options, "contract agree");
    case CLI_SUBCOMMAND_OUTCOME:
        if (options->achievement_given != 1) {
            return cli_combination_refuse("outcome", "needs one of --achievement PERCENT and "
                                                     "--achievement-bp N");
        }
        return CLI_EXIT_OK;
    case CLI_SUBCOMMAND_HISTORY:
        return cli_history_combination_check(options);
    case CLI_SUBCOMMAND_EVENTS:
        if (options->org_code && options->contract_id) {
            return cli_combination_refuse("events", "takes --org or --contract, not both");
        }
        return options->follow ? cli_follow_combination_check(options) : CLI_EXIT_OK;
    case CLI_SUBCOMMAND_REPORT:
        if (options->json && options->report_format != CLI_REPORT_FORMAT_UNCHOSEN &&
            options->report_format != CLI_REPORT_FORMAT_JSON) {
            return cli_combination_refuse("report", "takes --json or --format FORMAT, not both");
        }
        return CLI_EXIT_OK;
    default:
        return CLI_EXIT_OK;
    }
}

int cli_options_combination_check(const cli_options *options) {
    int code = cli_subcommand_combination_check(options);
    if (code != CLI_EXIT_OK || options->subcommand == CLI_SUBCOMMAND_NONE) return code;
    const cli_subcommand *subcommand = &cli_subcommands[options->subcommand];
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", subcommand->group ? subcommand->group : "",
             subcommand->group ? " " : "", subcommand->name);
    return cli_export_combination_check(options, name);
}
