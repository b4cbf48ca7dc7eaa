/* Reads fundflow's command line against the tables in cli_flags.c with the shared flag parser
 * (tool_flags.h), and prints the help: the usage, a group's subcommands, a subcommand's flags. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_arguments.h"

#include "cli.h"
#include "cli_flags.h"
#include "cli_import.h"
#include "cli_values.h"
#include "tool_flags.h"
#include "tool_help.h"
#include "tool_text.h"
#include "tool_values.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Columns of the subcommand names in the usage lists. */
#define CLI_USAGE_NAME_COLUMNS 24
#define CLI_GROUP_USAGE_NAME_COLUMNS 6
#define CLI_GROUP_USAGE_OPERAND_COLUMNS 8

/* Help -------------------------------------------------------------------------------------- */

static void cli_exit_codes_print(FILE *out) {
    fprintf(out, "\nExit codes:\n"
                 "  0  success\n"
                 "  1  the server refused the request (the reason goes to stderr as\n"
                 "     \"error: CODE: MESSAGE\" with lines such as account and headroom), a\n"
                 "     submitted command was refused, verify found a fault, positions found\n"
                 "     too many organisations, a listing's total is too large to add up, or a\n"
                 "     report's table is too wide for --format table\n"
                 "  2  usage error: an unknown subcommand or flag, a missing or bad value (the\n"
                 "     message names the flag), or a submit file that cannot be read or holds a\n"
                 "     line that is not a Command, or a reconcile file or mapping that cannot be\n"
                 "     read or holds a bad value (the message names its line and column)\n"
                 "  3  cannot connect to the server (the message names its URL); nothing was sent\n"
                 "     or read: also when TLS fails, because the server's certificate is not\n"
                 "     trusted or does not name the host, or the server refused ours\n"
                 "  4  the request was sent but no usable reply came back (a timeout, a dropped\n"
                 "     connection, a reply that cannot be read); a write may have been recorded,\n"
                 "     so run it again unchanged (same --date, or same --key) to find out; or the\n"
                 "     output (--output) cannot be written, which leaves the file as it was\n"
                 "  5  report --fail-on: the report was written whole and a finding reached the\n"
                 "     level asked for (fail: a FAIL; warn: a WARN or a FAIL); reconcile\n"
                 "     --fail-on difference: the result was written and a line did not match\n");
}

void cli_subcommand_name(cli_subcommand_id id, char *buffer, size_t buffer_bytes) {
    const cli_subcommand *subcommand = &cli_subcommands[id];
    snprintf(buffer, buffer_bytes, "%s%s%s", subcommand->group ? subcommand->group : "",
             subcommand->group ? " " : "", subcommand->name);
}

static void cli_global_flags_print(FILE *out) {
    fprintf(out, "\nGlobal flags (before or after the subcommand):\n");
    tool_flags_help_print(out, &cli_flag_table, CLI_FOR_ALL, TOOL_FLAGS_SHOWN_GLOBAL);
}

static void cli_usage_print(FILE *out) {
    fprintf(out, "Usage: " CLI_PROGRAM " [global flags] <subcommand> [arguments] [flags]\n"
                 "       " CLI_PROGRAM " --version\n\n"
                 "Talks to a fundflowd ledger server over Twirp: registers organisations, service\n"
                 "lines and delegations; records allocations, budgets, contracts, payments,\n"
                 "outcomes, statements, period closes and reversals; and reads positions,\n"
                 "contracts, funding flows, the delegation register, account histories,\n"
                 "events and the reports of the server's reporting-rule plugins. Amounts are\n"
                 "pounds (£), years are financial years such as 2024/25, months are 1 (April)\n"
                 "to 12 (March), and dates are YYYY-MM-DD.\n\n"
                 "Subcommands:\n");
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        char name[32], usage[48];
        cli_subcommand_name((cli_subcommand_id)i, name, sizeof name);
        snprintf(usage, sizeof usage, "%s%s%s", name, cli_subcommands[i].operand ? " " : "",
                 cli_subcommands[i].operand ? cli_subcommands[i].operand : "");
        fputs("  ", out);
        tool_text_pad_write(out, usage, CLI_USAGE_NAME_COLUMNS);
        fprintf(out, " %s\n", cli_subcommands[i].summary);
    }
    cli_global_flags_print(out);
    cli_exit_codes_print(out);
    fprintf(out, "\nRun \"" CLI_PROGRAM " <subcommand> --help\" for a subcommand's own flags.\n");
}

static void cli_group_usage_print(FILE *out, const char *group) {
    fprintf(out, "Usage: " CLI_PROGRAM " %s <subcommand> [arguments] [flags]\n\nSubcommands:\n",
            group);
    /* The columns widen for a group whose names or operands are longer (cluster add's). */
    size_t name_columns = CLI_GROUP_USAGE_NAME_COLUMNS;
    size_t operand_columns = CLI_GROUP_USAGE_OPERAND_COLUMNS;
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        const cli_subcommand *subcommand = &cli_subcommands[i];
        if (subcommand->group == NULL || strcmp(subcommand->group, group) != 0) continue;
        if (strlen(subcommand->name) > name_columns) name_columns = strlen(subcommand->name);
        size_t operand = subcommand->operand ? strlen(subcommand->operand) : 0;
        if (operand > operand_columns) operand_columns = operand;
    }
    for (int i = 0; i < CLI_SUBCOMMAND_COUNT; i++) {
        const cli_subcommand *subcommand = &cli_subcommands[i];
        if (subcommand->group == NULL || strcmp(subcommand->group, group) != 0) continue;
        fputs("  ", out);
        tool_text_pad_write(out, subcommand->name, name_columns);
        fputc(' ', out);
        tool_text_pad_write(out, subcommand->operand ? subcommand->operand : "",
                            operand_columns);
        fprintf(out, " %s\n", subcommand->summary);
    }
    fprintf(out, "\nRun \"" CLI_PROGRAM " %s <subcommand> --help\" for its flags.\n", group);
}

static void cli_subcommand_help_print(FILE *out, cli_subcommand_id id) {
    const cli_subcommand *subcommand = &cli_subcommands[id];
    char name[32];
    cli_subcommand_name(id, name, sizeof name);
    fprintf(out, "Usage: " CLI_PROGRAM " %s", name);
    if (subcommand->operand) fprintf(out, " %s", subcommand->operand);
    tool_flags_synopsis_print(out, &cli_flag_table, id);
    fprintf(out, " [global flags]\n\n");
    tool_lines_print(out, subcommand->description, "");
    if (id == CLI_SUBCOMMAND_IMPORT) cli_import_fields_help_print(out);
    fprintf(out, "\nFlags:\n");
    tool_flags_help_print(out, &cli_flag_table, CLI_FOR(id), TOOL_FLAGS_SHOWN_OWN);
    cli_global_flags_print(out);
    cli_exit_codes_print(out);
}

/* Arguments --------------------------------------------------------------------------------- */

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

/* Reads every flag into options, skipping the subcommand's words and operand. */
static int cli_flags_apply(int argc, char **argv, const tool_positionals *positionals,
                           cli_options *options) {
    char name[32];
    cli_subcommand_name(options->subcommand, name, sizeof name);
    tool_flags_context context = {options->subcommand, name, positionals->count};
    return tool_flags_apply(&cli_flag_table, argc, argv, positionals, &context, options)
               ? CLI_EXIT_OK
               : CLI_EXIT_USAGE;
}

/* Checks an operand against what its name says it is: "CODE", "SEQUENCE", "NAME" and so on. */
static int cli_operand_check(cli_options *options, const char *kind, const char *word) {
    if (strcmp(kind, "SEQUENCE") == 0 || strcmp(kind, "NODE_ID") == 0) {
        return tool_number_parse(kind, word, 1, UINT64_MAX, &options->operand_number)
                   ? CLI_EXIT_OK
                   : CLI_EXIT_USAGE;
    }
    size_t bytes_max = SIZE_MAX;
    if (strcmp(kind, "CODE") == 0) bytes_max = FF_ORG_CODE_BYTES_MAX;
    if (strcmp(kind, "NAME") == 0) {
        const char *group = cli_subcommands[options->subcommand].group;
        bool principal = group && strcmp(group, "principal") == 0;
        bytes_max = principal ? FF_PRINCIPAL_NAME_BYTES_MAX : FF_PLUGIN_NAME_BYTES_MAX;
    }
    if (strcmp(kind, "ID") == 0 || strcmp(kind, "CONTRACT_ID") == 0) {
        bytes_max = FF_IDENTIFIER_BYTES_MAX;
    }
    if (strcmp(kind, "RAFT_ADDRESS") == 0 || strcmp(kind, "URL") == 0) {
        bytes_max = FF_CLUSTER_ADDRESS_BYTES - 1;
    }
    return tool_text_parse(kind, word, bytes_max) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* The index-th word of an operand's name, "[NODE_ID]" giving "NODE_ID", into kind; the number
 * of words it has ("NODE_ID RAFT_ADDRESS URL" has three). */
static size_t cli_operand_kind(const char *spec, size_t index, char *kind, size_t kind_bytes) {
    size_t count = 0;
    kind[0] = '\0';
    for (const char *word = spec; *word != '\0';) {
        word += strspn(word, " [");
        size_t length = strcspn(word, " ]");
        if (length == 0) break;
        if (count++ == index) snprintf(kind, kind_bytes, "%.*s", (int)length, word);
        word += length;
        word += strspn(word, "]");
    }
    return count;
}

/* Reads the operand the subcommand takes from what is left of the positionals. An operand
 * written "[CODE]" may be left out; the subcommand's combination check says when it is needed. */
static int cli_operand_read(cli_options *options, char **words, size_t word_count) {
    const cli_subcommand *subcommand = &cli_subcommands[options->subcommand];
    char name[32], kind[32] = "";
    cli_subcommand_name(options->subcommand, name, sizeof name);
    bool optional = subcommand->operand && subcommand->operand[0] == '[';
    size_t expected =
        subcommand->operand ? cli_operand_kind(subcommand->operand, 0, kind, sizeof kind) : 0;
    assert(expected <= CLI_OPERANDS_MAX);
    if (word_count < expected && !optional) {
        fprintf(stderr, CLI_PROGRAM ": %s needs %s; see " CLI_PROGRAM " %s --help\n", name,
                subcommand->operand, name);
        return CLI_EXIT_USAGE;
    }
    if (word_count > expected) {
        fprintf(stderr, CLI_PROGRAM ": %s: unexpected argument \"%s\"\n", name,
                words[expected]);
        return CLI_EXIT_USAGE;
    }
    if (word_count == 0) return CLI_EXIT_OK;
    options->operand = words[0];
    int code = CLI_EXIT_OK;
    for (size_t i = 0; i < word_count && code == CLI_EXIT_OK; i++) {
        cli_operand_kind(subcommand->operand, i, kind, sizeof kind);
        options->operands[i] = words[i];
        code = cli_operand_check(options, kind, words[i]);
    }
    return code;
}

static void cli_options_default(cli_options *options) {
    memset(options, 0, sizeof *options);
    options->subcommand = CLI_SUBCOMMAND_NONE;
    const char *server = getenv(CLI_SERVER_ENVIRONMENT);
    options->server_url = server && server[0] ? server : CLI_SERVER_DEFAULT;
    const char *token = getenv(CLI_TOKEN_ENVIRONMENT);
    options->token = token && token[0] ? token : NULL;
    options->tls.ca_file = getenv(CLI_CACERT_ENVIRONMENT);
    options->tls.cert_file = getenv(CLI_CERT_ENVIRONMENT);
    options->tls.key_file = getenv(CLI_CERT_KEY_ENVIRONMENT);
    options->effective_date = cli_date_today();
    options->on_date = options->effective_date;
    options->purpose = FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET;
    options->batch_size = CLI_SUBMIT_BATCH_SIZE_DEFAULT;
}

int cli_arguments_read(int argc, char **argv, cli_options *options) {
    cli_options_default(options);
    tool_positionals positionals;
    tool_positionals_collect(&cli_flag_table, argc, argv, &positionals);
    char *words[TOOL_POSITIONALS_MAX];
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
    if (code == CLI_EXIT_OK) code = cli_options_combination_check(options);
    /* The environment's TLS files are for https servers; a flag's are refused for others. */
    if (!options->tls_flag_given && strncasecmp(options->server_url, "https://", 8) != 0) {
        memset(&options->tls, 0, sizeof options->tls);
    }
    if (code != CLI_EXIT_OK) options->subcommand = CLI_SUBCOMMAND_NONE;
    return code;
}
