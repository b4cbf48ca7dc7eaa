/* Unit tests for tool_flags.c, the flag parser fundflow and fundflow-admin share: finding flags,
 * sorting positionals from flags, reading values in both forms, every refusal and its message,
 * help and synopsis; and the consistency of fundflow's own flag table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli_flags.h"
#include "tool_flags.h"
#include "tool_test_support.h"
#include "tool_values.h"

/* A program of two subcommands, "add" (needs --name) and "list", and flags of every kind. */
enum { TEST_ADD, TEST_LIST, TEST_SUBCOMMAND_COUNT };
#define TEST_FOR_ALL TOOL_FOR_ALL(TEST_SUBCOMMAND_COUNT)

typedef struct test_options {
    const char *name;
    uint64_t limit;
    bool verbose;
    size_t tag_count;
    const char *tags[4];
} test_options;

static bool test_name_parse(void *context, const char *flag, const char *value) {
    test_options *options = context;
    options->name = value;
    return tool_text_parse(flag, value, 8);
}

static bool test_limit_parse(void *context, const char *flag, const char *value) {
    test_options *options = context;
    return tool_number_parse(flag, value, 1, 100, &options->limit);
}

static bool test_verbose_parse(void *context, const char *flag, const char *value) {
    test_options *options = context;
    assert_string_equal(flag, "--verbose");
    assert_string_equal(value, "");
    options->verbose = true;
    return true;
}

static bool test_tag_parse(void *context, const char *flag, const char *value) {
    test_options *options = context;
    (void)flag;
    if (options->tag_count < 4) options->tags[options->tag_count++] = value;
    return true;
}

static const tool_flag test_flags[] = {
    {"--name", "NAME", TOOL_FOR(TEST_ADD), TOOL_FOR(TEST_ADD), test_name_parse,
     "The name.\nUp to 8 bytes.", NULL},
    {"--limit", "N", TOOL_FOR(TEST_LIST), 0, test_limit_parse, "At most N rows.", NULL},
    {"--tag", "TAG", TOOL_FOR(TEST_ADD), 0,
     test_tag_parse, "A tag; repeat it for more.", NULL},
    {"--verbose", NULL, TEST_FOR_ALL, 0, test_verbose_parse, "Say more.", NULL},
    {"--help", NULL, TEST_FOR_ALL, 0, NULL, "Print this help and exit.", NULL},
};

static const tool_flag_table test_table = {"test", test_flags,
                                           sizeof test_flags / sizeof test_flags[0],
                                           TEST_FOR_ALL};

static const char *const test_subcommand_names[TEST_SUBCOMMAND_COUNT] = {"add", "list"};

/* Reads argv as the programs do: positionals first, the first being the subcommand, then the
 * flags. Leaves stderr's text in *errors_out (freed by the caller). */
static bool test_read(int argc, char **argv, test_options *options, char **errors_out) {
    memset(options, 0, sizeof *options);
    tool_positionals positionals;
    tool_positionals_collect(&test_table, argc, argv, &positionals);
    assert_true(positionals.count >= 1);
    const char *word = argv[positionals.indexes[0]];
    int subcommand = strcmp(word, "add") == 0 ? TEST_ADD : TEST_LIST;
    tool_flags_context context = {subcommand, test_subcommand_names[subcommand], 1};
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stderr);
    bool ok = tool_flags_apply(&test_table, argc, argv, &positionals, &context, options);
    *errors_out = tool_test_capture_end(&capture);
    return ok;
}

/* Expects argv to be refused with exactly message on stderr. */
static void test_refused(int argc, char **argv, const char *message) {
    test_options options;
    char *errors = NULL;
    assert_false(test_read(argc, argv, &options, &errors));
    assert_string_equal(errors, message);
    free(errors);
}

/* Expects argv to be read with nothing on stderr. */
static void test_accepted(int argc, char **argv, test_options *options) {
    char *errors = NULL;
    assert_true(test_read(argc, argv, options, &errors));
    assert_string_equal(errors, "");
    free(errors);
}

static void test_argument_shapes(void **state) {
    (void)state;
    assert_true(tool_help_flag_is("--help"));
    assert_true(tool_help_flag_is("-h"));
    assert_false(tool_help_flag_is("--help=1"));
    assert_false(tool_help_flag_is("help"));
    assert_true(tool_flag_is("--name"));
    assert_true(tool_flag_is("-x"));
    assert_false(tool_flag_is("-"));
    assert_false(tool_flag_is("name"));
    assert_int_equal(tool_flag_name_length("--name=N=M"), 6);
    assert_int_equal(tool_flag_name_length("--name"), 6);
    assert_int_equal(tool_flag_name_length("--name="), 6);
}

static void test_find(void **state) {
    (void)state;
    assert_ptr_equal(tool_flag_find(&test_table, "--name", 6, TEST_ADD), &test_flags[0]);
    assert_null(tool_flag_find(&test_table, "--name", 6, TEST_LIST));
    assert_ptr_equal(tool_flag_find(&test_table, "--name", 6, TOOL_SUBCOMMAND_ANY),
                     &test_flags[0]);
    assert_ptr_equal(tool_flag_find(&test_table, "--name=x", 6, TEST_ADD), &test_flags[0]);
    /* A prefix of a name is not the name. */
    assert_null(tool_flag_find(&test_table, "--nam", 5, TOOL_SUBCOMMAND_ANY));
    assert_null(tool_flag_find(&test_table, "--names", 7, TOOL_SUBCOMMAND_ANY));
}

static void test_positionals(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "--verbose", "add", "--name", "N", "-", "--name=X", "word");
    tool_positionals positionals;
    tool_positionals_collect(&test_table, args.argc, args.argv, &positionals);
    /* "N" is --name's value, "X" is inside its argument; "-" names stdin, so it is a word. */
    assert_int_equal(positionals.count, 3);
    assert_int_equal(positionals.indexes[0], 2);
    assert_int_equal(positionals.indexes[1], 5);
    assert_int_equal(positionals.indexes[2], 7);
    assert_false(positionals.help);
    assert_false(positionals.too_many);
}

static void test_positionals_help_and_too_many(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "a", "b", "-h", "c", "d", "e", "f");
    tool_positionals positionals;
    tool_positionals_collect(&test_table, args.argc, args.argv, &positionals);
    assert_int_equal(positionals.count, TOOL_POSITIONALS_MAX);
    assert_true(positionals.too_many);
    assert_true(positionals.help);
}

/* A value that starts with "--" is the next flag, not the value. */
static void test_positionals_value_left_out(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--name", "--verbose", "word");
    tool_positionals positionals;
    tool_positionals_collect(&test_table, args.argc, args.argv, &positionals);
    assert_int_equal(positionals.count, 2);
    assert_int_equal(positionals.indexes[1], 4);
}

static void test_both_value_forms(void **state) {
    (void)state;
    test_options options;
    tool_test_args spaced;
    TOOL_TEST_ARGS_SET(&spaced, "test", "add", "--name", "Ada", "--verbose");
    test_accepted(spaced.argc, spaced.argv, &options);
    assert_string_equal(options.name, "Ada");
    assert_true(options.verbose);
    tool_test_args joined;
    TOOL_TEST_ARGS_SET(&joined, "test", "--name=Ada=B", "add");
    test_accepted(joined.argc, joined.argv, &options);
    assert_string_equal(options.name, "Ada=B");
    assert_false(options.verbose);
    /* A value may start with a single '-', as negative amounts do. */
    tool_test_args dashed;
    TOOL_TEST_ARGS_SET(&dashed, "test", "add", "--name", "-5");
    test_accepted(dashed.argc, dashed.argv, &options);
    assert_string_equal(options.name, "-5");
}

/* Help was handled before the flags are read, so --help and -h are passed over. */
static void test_help_passed_over(void **state) {
    (void)state;
    test_options options;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "list", "--help", "-h", "--limit", "7");
    test_accepted(args.argc, args.argv, &options);
    assert_int_equal(options.limit, 7);
}

/* A repeated flag is read each time: a list grows, and any other keeps its last value. */
static void test_repeated_flag(void **state) {
    (void)state;
    test_options options;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--tag", "a", "--name", "X", "--tag=b", "--name", "Y");
    test_accepted(args.argc, args.argv, &options);
    assert_int_equal(options.tag_count, 2);
    assert_string_equal(options.tags[0], "a");
    assert_string_equal(options.tags[1], "b");
    assert_string_equal(options.name, "Y");
}

static void test_unknown_flag(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--name", "X", "--bogus=3");
    test_refused(args.argc, args.argv, "test: unknown flag --bogus; see test add --help\n");
}

static void test_flag_of_another_subcommand(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "list", "--name", "X");
    test_refused(args.argc, args.argv,
                 "test: there is no --name flag for this subcommand; see test list --help\n");
}

static void test_missing_value(void **state) {
    (void)state;
    tool_test_args at_end;
    TOOL_TEST_ARGS_SET(&at_end, "test", "list", "--limit");
    test_refused(at_end.argc, at_end.argv, "test: --limit needs a value: --limit N\n");
    tool_test_args before_flag;
    TOOL_TEST_ARGS_SET(&before_flag, "test", "list", "--limit", "--verbose");
    test_refused(before_flag.argc, before_flag.argv,
                 "test: --limit needs a value: --limit N\n");
}

static void test_value_for_valueless_flag(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "list", "--verbose=yes");
    test_refused(args.argc, args.argv, "test: --verbose takes no value\n");
    tool_test_args help;
    TOOL_TEST_ARGS_SET(&help, "test", "list", "--help=1");
    test_refused(help.argc, help.argv, "test: --help takes no value\n");
}

static void test_bad_value(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "list", "--limit", "101");
    test_refused(args.argc, args.argv,
                 "test: --limit: \"101\" is not a whole number from 1 to 100\n");
    tool_test_args empty;
    TOOL_TEST_ARGS_SET(&empty, "test", "add", "--name=");
    test_refused(empty.argc, empty.argv, "test: --name: \"\" is empty\n");
}

static void test_required_flag(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--verbose");
    test_refused(args.argc, args.argv, "test: add needs --name NAME\n");
}

static void test_unexpected_argument(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--name", "X", "extra");
    test_refused(args.argc, args.argv,
                 "test: unexpected argument \"extra\"; flags start with --\n");
}

/* Refusals come in argv's order: the first problem is the one reported. */
static void test_first_problem_reported(void **state) {
    (void)state;
    tool_test_args args;
    TOOL_TEST_ARGS_SET(&args, "test", "add", "--bogus", "--verbose=1");
    test_refused(args.argc, args.argv, "test: unknown flag --bogus; see test add --help\n");
}

static char *test_help_text(tool_subcommand_set subcommands, tool_flags_shown shown) {
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stdout);
    tool_flags_help_print(stdout, &test_table, subcommands, shown);
    return tool_test_capture_end(&capture);
}

static void test_help(void **state) {
    (void)state;
    char *global = test_help_text(TEST_FOR_ALL, TOOL_FLAGS_SHOWN_GLOBAL);
    assert_string_equal(global, "  --verbose\n      Say more.\n"
                                "  --help\n      Print this help and exit.\n");
    free(global);
    char *own = test_help_text(TOOL_FOR(TEST_ADD), TOOL_FLAGS_SHOWN_OWN);
    assert_string_equal(own, "  --name NAME\n      The name.\n      Up to 8 bytes.\n"
                             "  --tag TAG\n      A tag; repeat it for more.\n");
    free(own);
    char *all = test_help_text(TOOL_FOR(TEST_LIST), TOOL_FLAGS_SHOWN_ALL);
    assert_string_equal(all, "  --limit N\n      At most N rows.\n"
                             "  --verbose\n      Say more.\n"
                             "  --help\n      Print this help and exit.\n");
    free(all);
}

static void test_synopsis(void **state) {
    (void)state;
    tool_test_capture capture;
    tool_test_capture_begin(&capture, stdout);
    tool_flags_synopsis_print(stdout, &test_table, TEST_ADD);
    char *synopsis = tool_test_capture_end(&capture);
    assert_string_equal(synopsis, " --name NAME [--tag TAG]");
    free(synopsis);
}

/* fundflow's own table keeps the rules tool_flags.h sets: entries of one name agree on taking
 * a value, a flag is needed only where it is accepted, and every flag has help. */
static void test_cli_table_consistent(void **state) {
    (void)state;
    const tool_flag_table *table = &cli_flag_table;
    assert_true(table->count <= TOOL_FLAGS_MAX);
    for (size_t i = 0; i < table->count; i++) {
        const tool_flag *flag = &table->flags[i];
        assert_true(strncmp(flag->name, "--", 2) == 0);
        assert_int_equal(flag->required & ~flag->subcommands, 0);
        assert_true(flag->help != NULL && flag->help[0] != '\0');
        assert_true(flag->parse != NULL || strcmp(flag->name, "--help") == 0);
        const tool_flag *first = tool_flag_find(table, flag->name, strlen(flag->name),
                                                TOOL_SUBCOMMAND_ANY);
        assert_int_equal(first->value_name == NULL, flag->value_name == NULL);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(table->flags[j].name, flag->name) == 0) {
                /* Two meanings of one name never share a subcommand. */
                assert_int_equal(table->flags[j].subcommands & flag->subcommands, 0);
            }
        }
    }
}

int main(void) {
    tool_program_name_set("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argument_shapes),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_positionals),
        cmocka_unit_test(test_positionals_help_and_too_many),
        cmocka_unit_test(test_positionals_value_left_out),
        cmocka_unit_test(test_both_value_forms),
        cmocka_unit_test(test_help_passed_over),
        cmocka_unit_test(test_repeated_flag),
        cmocka_unit_test(test_unknown_flag),
        cmocka_unit_test(test_flag_of_another_subcommand),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_value_for_valueless_flag),
        cmocka_unit_test(test_bad_value),
        cmocka_unit_test(test_required_flag),
        cmocka_unit_test(test_unexpected_argument),
        cmocka_unit_test(test_first_problem_reported),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_synopsis),
        cmocka_unit_test(test_cli_table_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
