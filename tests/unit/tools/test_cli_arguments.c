/* Unit tests for cli_arguments.c: fundflow's command lines read against its real tables, from
 * the words and operand through every flag to the checks of flags that need each other, with
 * the messages a user sees when a command line will not do. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_arguments.h"
#include "tool_test_support.h"
#include "cli_values.h"
#include "tool_values.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"

/* What one read of a command line gave: its exit code and what it printed. */
typedef struct test_read {
    int code;
    char *out;
    char *errors;
} test_read;

static test_read test_arguments_read(tool_test_args *args, cli_options *options) {
    test_read read;
    tool_test_capture out, errors;
    tool_test_capture_begin(&out, stdout);
    tool_test_capture_begin(&errors, stderr);
    read.code = cli_arguments_read(args->argc, args->argv, options);
    read.errors = tool_test_capture_end(&errors);
    read.out = tool_test_capture_end(&out);
    return read;
}

static void test_read_free(test_read *read) {
    free(read->out);
    free(read->errors);
}

/* Expects the command line to be refused as a usage error with exactly message on stderr. */
static void test_refused(tool_test_args *args, const char *message) {
    cli_options options;
    test_read read = test_arguments_read(args, &options);
    assert_int_equal(read.code, CLI_EXIT_USAGE);
    assert_int_equal(options.subcommand, CLI_SUBCOMMAND_NONE);
    assert_string_equal(read.errors, message);
    assert_string_equal(read.out, "");
    test_read_free(&read);
}

/* Expects the command line to be read into options with nothing printed. */
static void test_accepted(tool_test_args *args, cli_options *options, cli_subcommand_id id) {
    test_read read = test_arguments_read(args, options);
    assert_string_equal(read.errors, "");
    assert_string_equal(read.out, "");
    assert_int_equal(read.code, CLI_EXIT_OK);
    assert_int_equal(options->subcommand, id);
    test_read_free(&read);
}

static void test_org_add(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "add", "QUE", "--name", "NHS Café ICB",
                       "--kind=icb", "--parent", "Y61", "--date", "2024-04-01");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_ORG_ADD);
    assert_string_equal(options.operand, "QUE");
    assert_string_equal(options.name, "NHS Café ICB");
    assert_int_equal(options.kind, FUNDFLOW__V1__ORG_KIND__ICB);
    assert_string_equal(options.parent_code, "Y61");
    assert_int_equal(options.effective_date, 20240401);
}

/* Global flags come before the subcommand as well as after; amounts in any written form. */
static void test_allocate(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "--json", "allocate", "--from", "X24", "--to", "QUE",
                       "--stream", "Core-Services", "--year", "2024/25", "--amount=£1,000.50",
                       "--non-recurrent", "--date", "2024-05-01");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_ALLOCATE);
    assert_true(options.json);
    assert_int_equal(options.amount_pence, 100050);
    assert_int_equal(options.financial_year, 2024);
    assert_int_equal(options.stream, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    assert_true(options.non_recurrent);
    assert_int_equal(options.effective_date, 20240501);
}

/* Without --date a write for a year takes today only when today falls in that year; otherwise it
 * asks for --date, naming the year's first and last days. */
static void test_date_defaults_only_inside_the_year(void **state) {
    (void)state;
    uint32_t today = cli_date_today();
    uint32_t this_year = calendar_year_of_date(today);
    char year[CALENDAR_YEAR_TEXT_BYTES], other[CALENDAR_YEAR_TEXT_BYTES];
    calendar_year_format(this_year, year, sizeof year);
    calendar_year_format(this_year - 1, other, sizeof other);
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "budget", "--from", "QUE", "--to", "06H", "--stream",
                       "core_services", "--year", year, "--amount", "1");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_BUDGET);
    assert_int_equal(options.effective_date, today);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "budget", "--from", "QUE", "--to", "06H", "--stream",
                       "core_services", "--year", other, "--amount", "1");
    char today_text[CALENDAR_DATE_TEXT_BYTES], first[CALENDAR_DATE_TEXT_BYTES];
    char last[CALENDAR_DATE_TEXT_BYTES], expected[256];
    calendar_date_format(today, today_text, sizeof today_text);
    calendar_date_format(calendar_year_first_date(this_year - 1), first, sizeof first);
    calendar_date_format(calendar_year_last_date(this_year - 1), last, sizeof last);
    snprintf(expected, sizeof expected,
             "fundflow: budget needs --date: today (%s) is outside %s; give a date from %s to "
             "%s\n",
             today_text, other, first, last);
    test_refused(&args, expected);
}

/* A value may start with one '-', so a decrease is written as "--change -1000". */
static void test_negative_value(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "contract", "vary", "C-1", "--change", "-1000",
                       "--reason", "smaller");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_CONTRACT_VARY);
    assert_int_equal(options.change_pence, -100000);
}

/* Repeated list flags add up; repeated metrics each add a metric. */
static void test_repeated_flags(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "add", "PC1", "--name", "P", "--kind",
                       "provider_collaborative", "--member", "RA1", "--member=RB2,RC3",
                       "--lead", "RA1");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_ORG_ADD);
    assert_int_equal(options.members.count, 3);
    assert_string_equal(options.members.codes[2], "RC3");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "contract", "agree", "C-1", "--commissioner", "QUE",
                       "--provider", "RGT", "--type", "block", "--value", "100", "--stream",
                       "core_services", "--year", "2024/25", "--pot", "10", "--metric",
                       "A:4000", "--metric", "B:6000:with: colons", "--date", "2024-04-01");
    test_accepted(&args, &options, CLI_SUBCOMMAND_CONTRACT_AGREE);
    assert_int_equal(options.metric_count, 2);
    assert_int_equal(options.metrics[1].weight_bp, 6000);
    assert_string_equal(options.metrics[1].description, "with: colons");
}

static void test_required_flag(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "allocate", "--from", "X24");
    test_refused(&args, "fundflow: allocate needs --to CODE\n");
}

static void test_combination(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "update", "QUE");
    test_refused(&args, "fundflow: org update needs at least one of --name, --parent, "
                        "--members, --no-members and --lead; see fundflow org update --help\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "events", "--org", "QUE", "--contract", "C-1");
    test_refused(&args, "fundflow: events takes --org or --contract, not both; see fundflow "
                        "events --help\n");
}

static void test_operands(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "reverse", "--reason", "x");
    test_refused(&args, "fundflow: reverse needs SEQUENCE; see fundflow reverse --help\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "event", "4", "5");
    test_refused(&args, "fundflow: event: unexpected argument \"5\"\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "event", "four");
    test_refused(&args, "fundflow: SEQUENCE: \"four\" is not a whole number from 1 to "
                        "18446744073709551615\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "show", "ABCDEFGHIJKLM");
    test_refused(&args, "fundflow: CODE: \"ABCDEFGHIJKLM\" is longer than 12 bytes\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "a", "b", "c", "d", "e");
    test_refused(&args, "fundflow: unknown subcommand \"a\"; run fundflow --help for the list\n");
}

static void test_unknown_words_and_flags(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "frobnicate");
    test_refused(&args, "fundflow: unknown subcommand \"frobnicate\"; run fundflow --help for "
                        "the list\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "events", "--frobnicate");
    test_refused(&args, "fundflow: unknown flag --frobnicate; see fundflow events --help\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "show", "QTI", "--amount", "5");
    test_refused(&args, "fundflow: there is no --amount flag for this subcommand; see fundflow "
                        "org show --help\n");
}

/* The client's bounds are the server's, from fundflow/limits.h. */
static void test_bounds_from_limits(void **state) {
    (void)state;
    char message[256];
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "flows", "--year", "2024/25", "--depth", "99");
    snprintf(message, sizeof message,
             "fundflow: --depth: \"99\" is not a whole number from 1 to %d\n", FF_FLOW_DEPTH_MAX);
    test_refused(&args, message);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "submit", "x", "--batch-size", "99999");
    snprintf(message, sizeof message,
             "fundflow: --batch-size: \"99999\" is not a whole number from 1 to %d\n",
             FF_BATCH_COMMANDS_MAX);
    test_refused(&args, message);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "outcome", "C-1", "--metric", "A", "--achievement-bp",
                       "10001");
    snprintf(message, sizeof message,
             "fundflow: --achievement-bp: \"10001\" is not a whole number from 0 to %d\n",
             FF_BASIS_POINTS_WHOLE);
    test_refused(&args, message);
}

/* Help goes to stdout with exit 0 and leaves nothing to run. */
static void test_help(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "add", "--help");
    cli_options options;
    test_read read = test_arguments_read(&args, &options);
    assert_int_equal(read.code, CLI_EXIT_OK);
    assert_int_equal(options.subcommand, CLI_SUBCOMMAND_NONE);
    assert_string_equal(read.errors, "");
    static const char usage[] = "Usage: fundflow org add CODE --name NAME --kind KIND "
                                "[--parent CODE] [--member CODE] [--lead CODE] [--date "
                                "YYYY-MM-DD] [--key KEY] [global flags]\n";
    assert_memory_equal(read.out, usage, sizeof usage - 1);
    assert_non_null(strstr(read.out, "\nGlobal flags (before or after the subcommand):\n"));
    assert_non_null(strstr(read.out, "\nExit codes:\n"));
    test_read_free(&read);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "help", "contract");
    read = test_arguments_read(&args, &options);
    assert_int_equal(read.code, CLI_EXIT_OK);
    assert_non_null(strstr(read.out, "\n  agree  ID       agree a contract for a financial year\n"));
    test_read_free(&read);
}

/* principal add takes a role and an optional scope; its NAME may be as long as an actor. */
static void test_principal_add(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "principal", "add", "que-writer", "--role", "Writer",
                       "--org", "QUE");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_PRINCIPAL_ADD);
    assert_string_equal(options.operand, "que-writer");
    assert_int_equal(options.role, FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER);
    assert_string_equal(options.org_code, "QUE");
    char name[FF_PRINCIPAL_NAME_BYTES_MAX + 1];
    memset(name, 'n', FF_PRINCIPAL_NAME_BYTES_MAX);
    name[FF_PRINCIPAL_NAME_BYTES_MAX] = '\0';
    TOOL_TEST_ARGS_SET(&args, "fundflow", "principal", "add", name, "--role", "auditor");
    test_accepted(&args, &options, CLI_SUBCOMMAND_PRINCIPAL_ADD);
    assert_null(options.org_code);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "principal", "add", "x", "--role", "superuser");
    cli_options refused;
    test_read read = test_arguments_read(&args, &refused);
    assert_int_equal(read.code, CLI_EXIT_USAGE);
    assert_non_null(strstr(read.errors, "--role"));
    test_read_free(&read);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "principal", "revoke", "x", "--reason", "left");
    test_accepted(&args, &options, CLI_SUBCOMMAND_PRINCIPAL_REVOKE);
    assert_string_equal(options.reason, "left");
}

/* history is an account's postings (CODE, --stream, --year) or a principal's events (--actor). */
static void test_history_forms(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "history", "--actor", "que-writer", "--limit", "5");
    cli_options options;
    test_accepted(&args, &options, CLI_SUBCOMMAND_HISTORY);
    assert_string_equal(options.actor, "que-writer");
    assert_null(options.operand);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "history", "QUE", "--stream", "core_services",
                       "--year", "2024/25");
    test_accepted(&args, &options, CLI_SUBCOMMAND_HISTORY);
    assert_string_equal(options.operand, "QUE");
    assert_null(options.actor);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "history");
    test_refused(&args, "fundflow: history needs CODE or --actor; see fundflow history --help\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "history", "QUE", "--year", "2024/25");
    test_refused(&args, "fundflow: history needs --stream; see fundflow history --help\n");
    TOOL_TEST_ARGS_SET(&args, "fundflow", "history", "QUE", "--actor", "boss");
    test_refused(&args, "fundflow: history takes --actor NAME or CODE with --stream, --year and "
                        "--purpose, not both; see fundflow history --help\n");
}

/* The TLS files: flags for any server, the environment's only for an https one. */
static void test_tls_files(void **state) {
    (void)state;
    tool_test_args args;
    cli_options options;
    TOOL_TEST_ARGS_SET(&args, "fundflow", "info", "--server", "https://127.0.0.1:7460",
                       "--cacert", "ca.crt", "--cert", "client.crt", "--cert-key", "client.key");
    test_accepted(&args, &options, CLI_SUBCOMMAND_INFO);
    assert_string_equal(options.tls.ca_file, "ca.crt");
    assert_string_equal(options.tls.cert_file, "client.crt");
    assert_string_equal(options.tls.key_file, "client.key");
    assert_true(options.tls_flag_given);
    assert_int_equal(setenv("FUNDFLOW_CACERT", "env-ca.crt", 1), 0);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "info", "--server", "http://127.0.0.1:7460");
    test_accepted(&args, &options, CLI_SUBCOMMAND_INFO);
    assert_null(options.tls.ca_file);
    TOOL_TEST_ARGS_SET(&args, "fundflow", "info", "--server", "HTTPS://127.0.0.1:7460");
    test_accepted(&args, &options, CLI_SUBCOMMAND_INFO);
    assert_string_equal(options.tls.ca_file, "env-ca.crt");
    assert_false(options.tls_flag_given);
    assert_int_equal(unsetenv("FUNDFLOW_CACERT"), 0);
}

int main(void) {
    tool_program_name_set("fundflow");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_org_add),         cmocka_unit_test(test_allocate),
        cmocka_unit_test(test_date_defaults_only_inside_the_year),
        cmocka_unit_test(test_principal_add),   cmocka_unit_test(test_history_forms),
        cmocka_unit_test(test_negative_value),  cmocka_unit_test(test_repeated_flags),
        cmocka_unit_test(test_required_flag),   cmocka_unit_test(test_combination),
        cmocka_unit_test(test_operands),        cmocka_unit_test(test_unknown_words_and_flags),
        cmocka_unit_test(test_bounds_from_limits), cmocka_unit_test(test_help),
        cmocka_unit_test(test_tls_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
