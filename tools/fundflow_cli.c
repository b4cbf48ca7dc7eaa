/* fundflow: the command-line client of fundflowd, which registers organisations, records
 * allocations, budgets and reversals, and reads positions, histories and events over Twirp. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tool_help.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

#define CLI_SERVER_ENVIRONMENT "FUNDFLOW_SERVER"
#define CLI_TOKEN_ENVIRONMENT "FUNDFLOW_TOKEN"
#define CLI_SERVER_DEFAULT "http://127.0.0.1:7460"

/* Commands per SubmitCommands request when submit is not told otherwise: big enough that a
 * file of demo size goes in one or two requests, small enough that a refusal is found early. */
#define CLI_SUBMIT_BATCH_SIZE_DEFAULT 500

/* The most positional arguments looked at: "org add CODE" is three. More is a usage error. */
#define CLI_POSITIONALS_MAX 4

#define CLI_FOR(id) (1u << (id))
#define CLI_FOR_ALL ((1u << CLI_SUBCOMMAND_COUNT) - 1)
#define CLI_FOR_WRITES                                                                          \
    (CLI_FOR(CLI_SUBCOMMAND_ORG_ADD) | CLI_FOR(CLI_SUBCOMMAND_ALLOCATE) |                       \
     CLI_FOR(CLI_SUBCOMMAND_BUDGET) | CLI_FOR(CLI_SUBCOMMAND_REVERSE))
#define CLI_FOR_TRANSFERS (CLI_FOR(CLI_SUBCOMMAND_ALLOCATE) | CLI_FOR(CLI_SUBCOMMAND_BUDGET))
#define CLI_FOR_ACCOUNTS                                                                        \
    (CLI_FOR_TRANSFERS | CLI_FOR(CLI_SUBCOMMAND_POSITION) | CLI_FOR(CLI_SUBCOMMAND_HISTORY))

/* Reads a flag's value into options; on a bad value prints why, naming the flag, and returns
 * false. */
typedef bool (*cli_flag_parse)(cli_options *options, const char *flag, const char *value);

/* One flag as some subcommands take it. A flag meaning different things to different
 * subcommands has one entry for each meaning, so that each subcommand's help is exact. */
typedef struct cli_flag {
    const char *name;
    const char *value_name; /* shown in help; NULL for a flag that takes no value */
    unsigned subcommands;   /* CLI_FOR bits of the subcommands that accept it */
    unsigned required;      /* CLI_FOR bits of the subcommands that need it */
    cli_flag_parse parse;
    const char *help;
    const ProtobufCEnumDescriptor *choices; /* when the value names an enum, for help */
} cli_flag;

typedef struct cli_subcommand {
    const char *group; /* "org" for "org add", or NULL */
    const char *name;
    const char *operand; /* "CODE", "SEQUENCE" or "FILE", or NULL for none */
    const char *summary;
    const char *description;
    cli_run run;
} cli_subcommand;

/* Values ------------------------------------------------------------------------------------ */

static bool cli_server_parse(cli_options *options, const char *flag, const char *value) {
    if (value[0] == '\0') return cli_value_refuse(flag, value, "is empty");
    options->server_url = value;
    return true;
}

static bool cli_token_parse(cli_options *options, const char *flag, const char *value) {
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

static bool cli_json_parse(cli_options *options, const char *flag, const char *value) {
    (void)flag, (void)value;
    options->json = true;
    return true;
}

static bool cli_name_parse(cli_options *options, const char *flag, const char *value) {
    options->name = value;
    return cli_text_parse(flag, value, FF_ORG_NAME_BYTES_MAX);
}

static bool cli_kind_parse(cli_options *options, const char *flag, const char *value) {
    return cli_enum_parse(&fundflow__v1__org_kind__descriptor, flag, value, &options->kind);
}

static bool cli_code_text_parse(const char *flag, const char *value, const char **code_out) {
    *code_out = value;
    return cli_text_parse(flag, value, FF_ORG_CODE_BYTES_MAX);
}

static bool cli_parent_parse(cli_options *options, const char *flag, const char *value) {
    return cli_code_text_parse(flag, value, &options->parent_code);
}

static bool cli_from_parse(cli_options *options, const char *flag, const char *value) {
    return cli_code_text_parse(flag, value, &options->from_code);
}

static bool cli_to_parse(cli_options *options, const char *flag, const char *value) {
    return cli_code_text_parse(flag, value, &options->to_code);
}

static bool cli_effective_date_parse(cli_options *options, const char *flag, const char *value) {
    return cli_date_parse(flag, value, &options->effective_date);
}

static bool cli_key_parse(cli_options *options, const char *flag, const char *value) {
    options->key = value;
    return cli_text_parse(flag, value, FF_IDEMPOTENCY_KEY_BYTES_MAX);
}

static bool cli_stream_parse(cli_options *options, const char *flag, const char *value) {
    return cli_enum_parse(&fundflow__v1__stream__descriptor, flag, value, &options->stream);
}

static bool cli_financial_year_parse(cli_options *options, const char *flag, const char *value) {
    return cli_year_parse(flag, value, &options->financial_year);
}

static bool cli_amount_flag_parse(cli_options *options, const char *flag, const char *value) {
    return cli_amount_parse(flag, value, &options->amount_pence);
}

static bool cli_reference_parse(cli_options *options, const char *flag, const char *value) {
    options->reference = value;
    return cli_text_parse(flag, value, FF_REFERENCE_BYTES_MAX);
}

static bool cli_non_recurrent_parse(cli_options *options, const char *flag, const char *value) {
    (void)flag, (void)value;
    options->non_recurrent = true;
    return true;
}

static bool cli_reason_parse(cli_options *options, const char *flag, const char *value) {
    options->reason = value;
    return cli_text_parse(flag, value, FF_REASON_BYTES_MAX);
}

static bool cli_as_at_parse(cli_options *options, const char *flag, const char *value) {
    return cli_number_parse(flag, value, 1, UINT64_MAX, &options->as_at_sequence);
}

static bool cli_as_at_date_parse(cli_options *options, const char *flag, const char *value) {
    return cli_date_parse(flag, value, &options->as_at_date);
}

static bool cli_purpose_parse(cli_options *options, const char *flag, const char *value) {
    return cli_enum_parse(&fundflow__v1__account_purpose__descriptor, flag, value,
                          &options->purpose);
}

static bool cli_after_parse(cli_options *options, const char *flag, const char *value) {
    return cli_number_parse(flag, value, 0, UINT64_MAX - 1, &options->after_sequence);
}

static bool cli_limit_parse(cli_options *options, const char *flag, const char *value) {
    return cli_number_parse(flag, value, 1, UINT64_MAX, &options->limit);
}

static bool cli_batch_size_parse(cli_options *options, const char *flag, const char *value) {
    return cli_number_parse(flag, value, 1, FF_BATCH_COMMANDS_MAX, &options->batch_size);
}

static bool cli_linked_parse(cli_options *options, const char *flag, const char *value) {
    (void)flag, (void)value;
    options->linked = true;
    return true;
}

/* Tables ------------------------------------------------------------------------------------ */

static const cli_subcommand cli_subcommands[CLI_SUBCOMMAND_COUNT] = {
    [CLI_SUBCOMMAND_ORG_ADD] = {
        "org", "add", "CODE", "register an organisation",
        "Registers the organisation CODE (2 to 12 upper-case letters or digits, such as an ODS\n"
        "code). Codes are permanent: a second registration of a code is refused.",
        cli_org_add_run},
    [CLI_SUBCOMMAND_ORG_SHOW] = {
        "org", "show", "CODE", "show one organisation",
        "Prints the organisation CODE: its name, kind, parent, and the event and date that\n"
        "registered it.",
        cli_org_show_run},
    [CLI_SUBCOMMAND_ORG_LIST] = {
        "org", "list", NULL, "list organisations",
        "Lists organisations in code order, following the server's pages to the end unless\n"
        "--limit stops it sooner.",
        cli_org_list_run},
    [CLI_SUBCOMMAND_ALLOCATE] = {
        NULL, "allocate", NULL, "allocate funding from NHS England to an ICB",
        "Records an AllocationIssued event: the funder (an organisation of kind nhse) allocates\n"
        "an amount of one stream and financial year to a recipient (an ICB or joint\n"
        "committee). Allocations are recurrent unless --non-recurrent.",
        cli_allocate_run},
    [CLI_SUBCOMMAND_BUDGET] = {
        NULL, "budget", NULL, "pass a budget on from an ICB",
        "Records a BudgetDelegated event: an ICB passes part of what it holds in one stream\n"
        "and year on to a place (one of its own), provider collaborative, joint committee or\n"
        "local authority. The ICB's headroom must cover the amount, or the server refuses it\n"
        "with failed_precondition and says what the ICB holds.",
        cli_budget_run},
    [CLI_SUBCOMMAND_REVERSE] = {
        NULL, "reverse", "SEQUENCE", "reverse an allocation or budget",
        "Records a Reversal of event SEQUENCE, undoing its postings. An event can be reversed\n"
        "once, a reversal cannot itself be reversed, and events that move no money (such as\n"
        "registrations) cannot be reversed.",
        cli_reverse_run},
    [CLI_SUBCOMMAND_POSITION] = {
        NULL, "position", "CODE", "show an organisation's position",
        "Prints what the organisation CODE received, passed on and holds (its headroom) in one\n"
        "stream and financial year, now or as the ledger stood at an earlier event or date.",
        cli_position_run},
    [CLI_SUBCOMMAND_HISTORY] = {
        NULL, "history", "CODE", "list the postings to one of an organisation's accounts",
        "Lists every posting to one account of the organisation CODE, in one stream and year:\n"
        "the event, its date, the debit or credit, and the balance after it. Follows the\n"
        "server's pages to the end unless --limit stops it sooner.",
        cli_history_run},
    [CLI_SUBCOMMAND_EVENTS] = {
        NULL, "events", NULL, "list events",
        "Lists events in sequence order, each described on one line. Follows the server's\n"
        "pages to the end unless --limit stops it sooner.",
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
        "large ledger makes everyone wait.",
        cli_verify_run},
    [CLI_SUBCOMMAND_INFO] = {
        NULL, "info", NULL, "show the server's version and head",
        "Prints the server's version, the head sequence and hash, the number of events, and\n"
        "how long the server has been running.",
        cli_info_run},
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
};

#define CLI_DATE_HELP "The date the event takes effect, YYYY-MM-DD. Default: today."
#define CLI_KEY_HELP                                                                            \
    "The idempotency key, up to 128 bytes. Default: 128 random bits in hex, printed with\n"      \
    "the result. Sending the same command again with the same key records nothing new."

static const cli_flag cli_flags[] = {
    {"--server", "URL", CLI_FOR_ALL, 0, cli_server_parse,
     "The server, as http://HOST:PORT. Default: $" CLI_SERVER_ENVIRONMENT ", or else\n"
     CLI_SERVER_DEFAULT ".", NULL},
    {"--token", "TOKEN", CLI_FOR_ALL, 0, cli_token_parse,
     "The bearer token the server's admin_token asks for. Default: $" CLI_TOKEN_ENVIRONMENT
     ".\nA server without a token serves only clients on the same machine.", NULL},
    {"--json", NULL, CLI_FOR_ALL, 0, cli_json_parse,
     "Machine output: send the request as application/json and print the server's JSON\n"
     "reply exactly as received, one document ending in a newline, on stdout. Refusals\n"
     "too, still with exit code 1. A listing of several pages prints one document holding\n"
     "every row, and submit one holding every result, written as the server writes them.",
     NULL},
    {"--name", "NAME", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), CLI_FOR(CLI_SUBCOMMAND_ORG_ADD),
     cli_name_parse, "The organisation's name, up to 160 bytes. Required.", NULL},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), CLI_FOR(CLI_SUBCOMMAND_ORG_ADD),
     cli_kind_parse, "What the organisation is, by name in any case. Required.",
     &fundflow__v1__org_kind__descriptor},
    {"--kind", "KIND", CLI_FOR(CLI_SUBCOMMAND_ORG_LIST), 0, cli_kind_parse,
     "Only organisations of this kind, by name in any case. Default: every kind.",
     &fundflow__v1__org_kind__descriptor},
    {"--parent", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_ADD), 0, cli_parent_parse,
     "The organisation this one sits under: an ICB's region, a place's ICB. It must be\n"
     "registered already. Default: none.", NULL},
    {"--parent", "CODE", CLI_FOR(CLI_SUBCOMMAND_ORG_LIST), 0, cli_parent_parse,
     "Only organisations under this one. Default: any.", NULL},
    {"--from", "CODE", CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), CLI_FOR(CLI_SUBCOMMAND_ALLOCATE),
     cli_from_parse, "The funder: an organisation of kind nhse. Required.", NULL},
    {"--from", "CODE", CLI_FOR(CLI_SUBCOMMAND_BUDGET), CLI_FOR(CLI_SUBCOMMAND_BUDGET),
     cli_from_parse, "The ICB passing the budget on. Required.", NULL},
    {"--to", "CODE", CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), CLI_FOR(CLI_SUBCOMMAND_ALLOCATE),
     cli_to_parse, "The recipient: an ICB or joint committee. Required.", NULL},
    {"--to", "CODE", CLI_FOR(CLI_SUBCOMMAND_BUDGET), CLI_FOR(CLI_SUBCOMMAND_BUDGET), cli_to_parse,
     "The recipient: a place of the ICB's own, a provider collaborative, a joint\n"
     "committee or a local authority. Required.", NULL},
    {"--stream", "STREAM", CLI_FOR_ACCOUNTS, CLI_FOR_ACCOUNTS, cli_stream_parse,
     "The allocation stream, by name in any case. Required.", &fundflow__v1__stream__descriptor},
    {"--year", "YYYY/YY", CLI_FOR_ACCOUNTS, CLI_FOR_ACCOUNTS, cli_financial_year_parse,
     "The financial year, such as 2024/25. Required.", NULL},
    {"--amount", "POUNDS", CLI_FOR_TRANSFERS, CLI_FOR_TRANSFERS, cli_amount_flag_parse,
     "The amount in pounds, such as 1234.56, 1,234.56 or £1,234.56: at most two decimal\n"
     "places, and more than zero. Required.", NULL},
    {"--reference", "TEXT", CLI_FOR_TRANSFERS, 0, cli_reference_parse,
     "A reference such as an allocation letter's number, up to 64 bytes. Default: none.",
     NULL},
    {"--non-recurrent", NULL, CLI_FOR(CLI_SUBCOMMAND_ALLOCATE), 0, cli_non_recurrent_parse,
     "Marks the allocation non-recurrent (one-off). Default: recurrent.", NULL},
    {"--reason", "TEXT", CLI_FOR(CLI_SUBCOMMAND_REVERSE), CLI_FOR(CLI_SUBCOMMAND_REVERSE),
     cli_reason_parse, "Why the event is reversed, up to 240 bytes. Required.", NULL},
    {"--date", "YYYY-MM-DD", CLI_FOR_WRITES, 0, cli_effective_date_parse, CLI_DATE_HELP, NULL},
    {"--key", "KEY", CLI_FOR_WRITES, 0, cli_key_parse, CLI_KEY_HELP, NULL},
    {"--as-at", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_POSITION), 0, cli_as_at_parse,
     "The position as the ledger stood once event SEQUENCE was recorded. Default: now.",
     NULL},
    {"--as-at-date", "YYYY-MM-DD", CLI_FOR(CLI_SUBCOMMAND_POSITION), 0, cli_as_at_date_parse,
     "Count only what took effect on or before this date. Default: every date.", NULL},
    {"--purpose", "PURPOSE", CLI_FOR(CLI_SUBCOMMAND_HISTORY), 0, cli_purpose_parse,
     "The account: budget (held, to pass on), received, onward (passed on) or funding\n"
     "(NHS England's funding drawn). Default: budget.",
     &fundflow__v1__account_purpose__descriptor},
    {"--after", "SEQUENCE", CLI_FOR(CLI_SUBCOMMAND_HISTORY) | CLI_FOR(CLI_SUBCOMMAND_EVENTS), 0,
     cli_after_parse, "Start after event SEQUENCE. Default: 0, from the first.", NULL},
    {"--limit", "N",
     CLI_FOR(CLI_SUBCOMMAND_ORG_LIST) | CLI_FOR(CLI_SUBCOMMAND_HISTORY) |
         CLI_FOR(CLI_SUBCOMMAND_EVENTS),
     0, cli_limit_parse,
     "Stop after N rows. Default: every row, up to a million; past that, page on with\n"
     "--after where the subcommand takes it.", NULL},
    {"--batch-size", "N", CLI_FOR(CLI_SUBCOMMAND_SUBMIT), 0, cli_batch_size_parse,
     "Commands per SubmitCommands request, from 1 to 8192. Default: 500.", NULL},
    {"--linked", NULL, CLI_FOR(CLI_SUBCOMMAND_SUBMIT), 0, cli_linked_parse,
     "Send each batch all-or-nothing: a refused command refuses its whole batch, and no\n"
     "later batch is sent. Default: each command stands alone.", NULL},
    {"--help", NULL, CLI_FOR_ALL, 0, NULL, "Print this help and exit.", NULL},
};

#define CLI_FLAG_COUNT (sizeof cli_flags / sizeof cli_flags[0])

/* Help -------------------------------------------------------------------------------------- */

static void cli_flag_print(FILE *out, const cli_flag *flag) {
    if (flag->value_name) fprintf(out, "  %s %s\n", flag->name, flag->value_name);
    else fprintf(out, "  %s\n", flag->name);
    tool_lines_print(out, flag->help, "      ");
    if (flag->choices) tool_choices_print(out, flag->choices);
}

static void cli_exit_codes_print(FILE *out) {
    fprintf(out, "\nExit codes:\n"
                 "  0  success\n"
                 "  1  the server refused the request (the reason goes to stderr as\n"
                 "     \"error: CODE: MESSAGE\" with lines such as account and headroom), a\n"
                 "     submitted command was refused, or verify found a fault\n"
                 "  2  usage error: an unknown subcommand or flag, a missing or bad value (the\n"
                 "     message names the flag), or a submit file that cannot be read or holds a\n"
                 "     line that is not a Command\n"
                 "  3  cannot connect to the server (the message names its URL); nothing was sent\n"
                 "  4  the request was sent but no usable reply came back (a timeout, a dropped\n"
                 "     connection, a reply that cannot be read); a write may have been recorded,\n"
                 "     so retry it with the same --key\n");
}

static void cli_subcommand_name(cli_subcommand_id id, char *buffer, size_t buffer_bytes) {
    const cli_subcommand *subcommand = &cli_subcommands[id];
    snprintf(buffer, buffer_bytes, "%s%s%s", subcommand->group ? subcommand->group : "",
             subcommand->group ? " " : "", subcommand->name);
}

static void cli_global_flags_print(FILE *out) {
    fprintf(out, "\nGlobal flags (before or after the subcommand):\n");
    for (size_t i = 0; i < CLI_FLAG_COUNT; i++) {
        if (cli_flags[i].subcommands == CLI_FOR_ALL) cli_flag_print(out, &cli_flags[i]);
    }
}

static void cli_usage_print(FILE *out) {
    fprintf(out, "Usage: " CLI_PROGRAM " [global flags] <subcommand> [arguments] [flags]\n\n"
                 "Talks to a fundflowd ledger server over Twirp: registers organisations,\n"
                 "records allocations, budgets and reversals, and reads positions, account\n"
                 "histories and events. Amounts are pounds (£), years are financial years such\n"
                 "as 2024/25, and dates are YYYY-MM-DD.\n\nSubcommands:\n");
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        char name[32], usage[48];
        cli_subcommand_name((cli_subcommand_id)i, name, sizeof name);
        snprintf(usage, sizeof usage, "%s%s%s", name, cli_subcommands[i].operand ? " " : "",
                 cli_subcommands[i].operand ? cli_subcommands[i].operand : "");
        fprintf(out, "  %-20s %s\n", usage, cli_subcommands[i].summary);
    }
    cli_global_flags_print(out);
    cli_exit_codes_print(out);
    fprintf(out, "\nRun \"" CLI_PROGRAM " <subcommand> --help\" for a subcommand's own flags.\n");
}

static void cli_group_usage_print(FILE *out, const char *group) {
    fprintf(out, "Usage: " CLI_PROGRAM " %s <subcommand> [arguments] [flags]\n\nSubcommands:\n",
            group);
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        const cli_subcommand *subcommand = &cli_subcommands[i];
        if (subcommand->group == NULL || strcmp(subcommand->group, group) != 0) continue;
        fprintf(out, "  %-6s %-8s %s\n", subcommand->name,
                subcommand->operand ? subcommand->operand : "", subcommand->summary);
    }
    fprintf(out, "\nRun \"" CLI_PROGRAM " %s <subcommand> --help\" for its flags.\n", group);
}

static void cli_subcommand_help_print(FILE *out, cli_subcommand_id id) {
    const cli_subcommand *subcommand = &cli_subcommands[id];
    char name[32];
    cli_subcommand_name(id, name, sizeof name);
    fprintf(out, "Usage: " CLI_PROGRAM " %s", name);
    if (subcommand->operand) fprintf(out, " %s", subcommand->operand);
    for (size_t i = 0; i < CLI_FLAG_COUNT; i++) {
        const cli_flag *flag = &cli_flags[i];
        if (flag->subcommands == CLI_FOR_ALL || (flag->subcommands & CLI_FOR(id)) == 0) continue;
        bool required = (flag->required & CLI_FOR(id)) != 0;
        fprintf(out, " %s%s%s%s%s", required ? "" : "[", flag->name, flag->value_name ? " " : "",
                flag->value_name ? flag->value_name : "", required ? "" : "]");
    }
    fprintf(out, " [global flags]\n\n");
    tool_lines_print(out, subcommand->description, "");
    fprintf(out, "\nFlags:\n");
    for (size_t i = 0; i < CLI_FLAG_COUNT; i++) {
        const cli_flag *flag = &cli_flags[i];
        if (flag->subcommands != CLI_FOR_ALL && (flag->subcommands & CLI_FOR(id)) != 0) {
            cli_flag_print(out, flag);
        }
    }
    cli_global_flags_print(out);
    cli_exit_codes_print(out);
}

/* Arguments --------------------------------------------------------------------------------- */

/* The positional arguments: the subcommand's words and its operand, by their argv index. */
typedef struct cli_positionals {
    int indexes[CLI_POSITIONALS_MAX];
    size_t count;
    bool too_many;
    bool help;
} cli_positionals;

static bool cli_help_flag_is(const char *argument) {
    return strcmp(argument, "--help") == 0 || strcmp(argument, "-h") == 0;
}

/* "-" alone names standard input, so it is an operand rather than a flag. */
static bool cli_flag_is(const char *argument) {
    return argument[0] == '-' && argument[1] != '\0';
}

static size_t cli_flag_name_length(const char *argument) {
    const char *equals = strchr(argument, '=');
    return equals ? (size_t)(equals - argument) : strlen(argument);
}

/* The entry for the flag named by argument's first name_length bytes that subcommand id takes,
 * or, for CLI_SUBCOMMAND_NONE, the first entry of that name; NULL if there is none. */
static const cli_flag *cli_flag_find(const char *argument, size_t name_length,
                                     cli_subcommand_id id) {
    for (size_t i = 0; i < CLI_FLAG_COUNT; i++) {
        const cli_flag *flag = &cli_flags[i];
        if (strlen(flag->name) != name_length || strncmp(argument, flag->name, name_length)) {
            continue;
        }
        if (id == CLI_SUBCOMMAND_NONE || (flag->subcommands & CLI_FOR(id)) != 0) return flag;
    }
    return NULL;
}

/* Whether the flag at argv[index] takes the next argument as its value. The same rule decides
 * in both passes over the arguments, so they always agree on what is a positional. */
static bool cli_flag_takes_next(int argc, char **argv, int index, const cli_flag *flag) {
    return flag != NULL && flag->value_name != NULL && strchr(argv[index], '=') == NULL &&
           index + 1 < argc && strncmp(argv[index + 1], "--", 2) != 0;
}

static void cli_positionals_collect(int argc, char **argv, cli_positionals *positionals) {
    memset(positionals, 0, sizeof *positionals);
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (cli_help_flag_is(argument)) {
            positionals->help = true;
        } else if (cli_flag_is(argument)) {
            const cli_flag *flag = cli_flag_find(argument, cli_flag_name_length(argument),
                                                 CLI_SUBCOMMAND_NONE);
            if (cli_flag_takes_next(argc, argv, i, flag)) i++;
        } else if (positionals->count < CLI_POSITIONALS_MAX) {
            positionals->indexes[positionals->count++] = i;
        } else {
            positionals->too_many = true;
        }
    }
}

static bool cli_positional_is(const cli_positionals *positionals, int index) {
    for (size_t i = 0; i < positionals->count; i++) {
        if (positionals->indexes[i] == index) return true;
    }
    return false;
}

/* Finds the subcommand named by one word, or by a group's name and one word. */
static cli_subcommand_id cli_subcommand_find(const char *group, const char *name) {
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        const cli_subcommand *subcommand = &cli_subcommands[i];
        bool same_group = group == NULL ? subcommand->group == NULL
                                        : subcommand->group && !strcmp(subcommand->group, group);
        if (same_group && strcmp(subcommand->name, name) == 0) return (cli_subcommand_id)i;
    }
    return CLI_SUBCOMMAND_NONE;
}

static bool cli_group_is(const char *word) {
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        if (cli_subcommands[i].group && strcmp(cli_subcommands[i].group, word) == 0) return true;
    }
    return false;
}

/* Reads the subcommand from the words, leaving in *words_used how many it took. Prints why and
 * returns CLI_SUBCOMMAND_NONE if they name none; *help_printed says help was printed instead. */
static cli_subcommand_id cli_subcommand_identify(char **words, size_t word_count, bool help,
                                                 size_t *words_used, bool *help_printed) {
    *help_printed = false;
    const char *group = cli_group_is(words[0]) ? words[0] : NULL;
    *words_used = group ? 2 : 1;
    if (group && word_count < 2) {
        cli_group_usage_print(help ? stdout : stderr, group);
        *help_printed = help;
        return CLI_SUBCOMMAND_NONE;
    }
    cli_subcommand_id id = cli_subcommand_find(group, words[*words_used - 1]);
    if (id == CLI_SUBCOMMAND_NONE) {
        fprintf(stderr, CLI_PROGRAM ": unknown subcommand \"%s%s%s\"; run " CLI_PROGRAM
                        " --help for the list\n",
                group ? group : "", group ? " " : "", words[*words_used - 1]);
    }
    return id;
}

/* Handles "fundflow help [subcommand]", which prints the same help as --help. */
static int cli_help_words_print(char **words, size_t word_count) {
    if (word_count == 0) {
        cli_usage_print(stdout);
        return CLI_EXIT_OK;
    }
    size_t used = 0;
    bool help_printed = false;
    cli_subcommand_id id = cli_subcommand_identify(words, word_count, true, &used, &help_printed);
    if (help_printed) return CLI_EXIT_OK;
    if (id == CLI_SUBCOMMAND_NONE) return CLI_EXIT_USAGE;
    cli_subcommand_help_print(stdout, id);
    return CLI_EXIT_OK;
}

/* The value of the flag at argv[*index], from "--flag=value" or the next argument. */
static const char *cli_flag_value(int argc, char **argv, int *index, const cli_flag *flag) {
    const char *equals = strchr(argv[*index], '=');
    if (equals != NULL) return equals + 1;
    if (!cli_flag_takes_next(argc, argv, *index, flag)) return NULL;
    *index += 1;
    return argv[*index];
}

static int cli_flag_apply(int argc, char **argv, int *index, cli_options *options) {
    const char *argument = argv[*index];
    size_t name_length = cli_flag_name_length(argument);
    const cli_flag *flag = cli_flag_find(argument, name_length, options->subcommand);
    if (flag == NULL) {
        char name[32];
        cli_subcommand_name(options->subcommand, name, sizeof name);
        bool known = cli_flag_find(argument, name_length, CLI_SUBCOMMAND_NONE) != NULL;
        fprintf(stderr, CLI_PROGRAM ": %s %.*s%s; see " CLI_PROGRAM " %s --help\n",
                known ? "there is no" : "unknown flag", (int)name_length, argument,
                known ? " flag for this subcommand" : "", name);
        return CLI_EXIT_USAGE;
    }
    if (flag->value_name == NULL) {
        if (strchr(argument, '=') == NULL) {
            return flag->parse(options, flag->name, "") ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        fprintf(stderr, CLI_PROGRAM ": %s takes no value\n", flag->name);
        return CLI_EXIT_USAGE;
    }
    const char *value = cli_flag_value(argc, argv, index, flag);
    if (value == NULL) {
        fprintf(stderr, CLI_PROGRAM ": %s needs a value: %s %s\n", flag->name, flag->name,
                flag->value_name);
        return CLI_EXIT_USAGE;
    }
    return flag->parse(options, flag->name, value) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int cli_required_check(const cli_options *options, const bool *given) {
    for (size_t i = 0; i < CLI_FLAG_COUNT; i++) {
        const cli_flag *flag = &cli_flags[i];
        if ((flag->required & CLI_FOR(options->subcommand)) == 0 || given[i]) continue;
        char name[32];
        cli_subcommand_name(options->subcommand, name, sizeof name);
        fprintf(stderr, CLI_PROGRAM ": %s needs %s %s\n", name, flag->name, flag->value_name);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Applies every flag, skipping the positionals, then checks the required ones were given. */
static int cli_flags_apply(int argc, char **argv, const cli_positionals *positionals,
                           cli_options *options) {
    bool given[CLI_FLAG_COUNT] = {false};
    for (int i = 1; i < argc; i++) {
        if (cli_positional_is(positionals, i) || cli_help_flag_is(argv[i])) continue;
        const cli_flag *flag =
            cli_flag_find(argv[i], cli_flag_name_length(argv[i]), options->subcommand);
        int code = cli_flag_apply(argc, argv, &i, options);
        if (code != CLI_EXIT_OK) return code;
        assert(flag != NULL);
        given[flag - cli_flags] = true;
    }
    return cli_required_check(options, given);
}

/* Reads the operand the subcommand takes from what is left of the positionals. */
static int cli_operand_read(cli_options *options, char **words, size_t word_count) {
    const cli_subcommand *subcommand = &cli_subcommands[options->subcommand];
    char name[32];
    cli_subcommand_name(options->subcommand, name, sizeof name);
    size_t expected = subcommand->operand ? 1 : 0;
    if (word_count < expected) {
        fprintf(stderr, CLI_PROGRAM ": %s needs %s; see " CLI_PROGRAM " %s --help\n", name,
                subcommand->operand, name);
        return CLI_EXIT_USAGE;
    }
    if (word_count > expected) {
        fprintf(stderr, CLI_PROGRAM ": %s: unexpected argument \"%s\"\n", name,
                words[expected]);
        return CLI_EXIT_USAGE;
    }
    if (expected == 0) return CLI_EXIT_OK;
    options->operand = words[0];
    if (strcmp(subcommand->operand, "SEQUENCE") == 0) {
        return cli_number_parse(subcommand->operand, words[0], 1, UINT64_MAX,
                                &options->operand_number)
                   ? CLI_EXIT_OK
                   : CLI_EXIT_USAGE;
    }
    if (strcmp(subcommand->operand, "CODE") == 0) {
        return cli_text_parse(subcommand->operand, words[0], FF_ORG_CODE_BYTES_MAX)
                   ? CLI_EXIT_OK
                   : CLI_EXIT_USAGE;
    }
    return cli_text_parse(subcommand->operand, words[0], SIZE_MAX) ? CLI_EXIT_OK
                                                                   : CLI_EXIT_USAGE;
}

static void cli_options_default(cli_options *options) {
    memset(options, 0, sizeof *options);
    options->subcommand = CLI_SUBCOMMAND_NONE;
    const char *server = getenv(CLI_SERVER_ENVIRONMENT);
    options->server_url = server && server[0] ? server : CLI_SERVER_DEFAULT;
    const char *token = getenv(CLI_TOKEN_ENVIRONMENT);
    options->token = token && token[0] ? token : NULL;
    options->effective_date = cli_date_today();
    options->purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET;
    options->batch_size = CLI_SUBMIT_BATCH_SIZE_DEFAULT;
}

/* Reads the command line into options. Returns an exit code; CLI_EXIT_OK with the subcommand
 * left CLI_SUBCOMMAND_NONE means help was printed and there is nothing to run. */
static int cli_arguments_read(int argc, char **argv, cli_options *options) {
    cli_options_default(options);
    cli_positionals positionals;
    cli_positionals_collect(argc, argv, &positionals);
    char *words[CLI_POSITIONALS_MAX];
    for (size_t i = 0; i < positionals.count; i++) words[i] = argv[positionals.indexes[i]];
    if (positionals.count == 0) {
        cli_usage_print(positionals.help ? stdout : stderr);
        return positionals.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (strcmp(words[0], "help") == 0) {
        return cli_help_words_print(words + 1, positionals.count - 1);
    }
    size_t used = 0;
    bool help_printed = false;
    cli_subcommand_id id = cli_subcommand_identify(words, positionals.count, positionals.help,
                                                   &used, &help_printed);
    if (id == CLI_SUBCOMMAND_NONE) return help_printed ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (positionals.help) {
        cli_subcommand_help_print(stdout, id);
        return CLI_EXIT_OK;
    }
    if (positionals.too_many) {
        fprintf(stderr, CLI_PROGRAM ": too many arguments; see " CLI_PROGRAM " --help\n");
        return CLI_EXIT_USAGE;
    }
    options->subcommand = id;
    int code = cli_operand_read(options, words + used, positionals.count - used);
    if (code == CLI_EXIT_OK) code = cli_flags_apply(argc, argv, &positionals, options);
    if (code != CLI_EXIT_OK) options->subcommand = CLI_SUBCOMMAND_NONE;
    return code;
}

int main(int argc, char **argv) {
    cli_options options;
    int code = cli_arguments_read(argc, argv, &options);
    if (code != CLI_EXIT_OK || options.subcommand == CLI_SUBCOMMAND_NONE) {
        return code;
    }
    cli_session session;
    code = cli_session_open(&session, options.server_url, options.token, options.json);
    if (code != CLI_EXIT_OK) return code;
    code = cli_subcommands[options.subcommand].run(&options, &session);
    cli_session_close(&session);
    /* A full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, CLI_PROGRAM ": cannot write the output: %s\n", strerror(errno));
        if (code == CLI_EXIT_OK) code = CLI_EXIT_FAILED;
    }
    return code;
}
