/* Reads command lines against a table of flags and prints the table as help, for fundflow and
 * fundflow-admin alike. */
#include "tool_flags.h"

#include <assert.h>
#include <string.h>

#include "tool_help.h"

/* Help under a flag starts this far in, beneath the flag's value. */
#define TOOL_FLAG_HELP_INDENT "      "

bool tool_help_flag_is(const char *argument) {
    return strcmp(argument, "--help") == 0 || strcmp(argument, "-h") == 0;
}

bool tool_flag_is(const char *argument) {
    return argument[0] == '-' && argument[1] != '\0';
}

size_t tool_flag_name_length(const char *argument) {
    const char *equals = strchr(argument, '=');
    return equals ? (size_t)(equals - argument) : strlen(argument);
}

const tool_flag *tool_flag_find(const tool_flag_table *table, const char *argument,
                                size_t name_length, int subcommand) {
    for (size_t i = 0; i < table->count; i++) {
        const tool_flag *flag = &table->flags[i];
        if (strlen(flag->name) != name_length || strncmp(argument, flag->name, name_length)) {
            continue;
        }
        if (subcommand == TOOL_SUBCOMMAND_ANY || (flag->subcommands & TOOL_FOR(subcommand))) {
            return flag;
        }
    }
    return NULL;
}

/* Whether the flag at argv[index] takes the next argument as its value. A next argument that
 * starts with "--" is a flag, so the value was left out. */
static bool tool_flag_takes_next(int argc, char **argv, int index, const tool_flag *flag) {
    return flag != NULL && flag->value_name != NULL && strchr(argv[index], '=') == NULL &&
           index + 1 < argc && strncmp(argv[index + 1], "--", 2) != 0;
}

void tool_positionals_collect(const tool_flag_table *table, int argc, char **argv,
                              tool_positionals *positionals) {
    memset(positionals, 0, sizeof *positionals);
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (tool_help_flag_is(argument)) {
            positionals->help = true;
        } else if (tool_flag_is(argument)) {
            const tool_flag *flag = tool_flag_find(table, argument,
                                                   tool_flag_name_length(argument),
                                                   TOOL_SUBCOMMAND_ANY);
            if (tool_flag_takes_next(argc, argv, i, flag)) i++;
        } else if (positionals->count < TOOL_POSITIONALS_MAX) {
            positionals->indexes[positionals->count++] = i;
        } else {
            positionals->too_many = true;
        }
    }
}

/* Whether argv[index] is one of the positionals the program used. */
static bool tool_positional_used(const tool_positionals *positionals, size_t used, int index) {
    for (size_t i = 0; i < positionals->count && i < used; i++) {
        if (positionals->indexes[i] == index) return true;
    }
    return false;
}

/* Says that the flag named by argument's first name_length bytes is not for the subcommand:
 * no flag of that name at all, or only for other subcommands. */
static void tool_flag_unknown_report(const tool_flag_table *table, const char *argument,
                                     size_t name_length, const tool_flags_context *context) {
    bool known = tool_flag_find(table, argument, name_length, TOOL_SUBCOMMAND_ANY) != NULL;
    fprintf(stderr, "%s: %s %.*s%s; see %s %s --help\n", table->program,
            known ? "there is no" : "unknown flag", (int)name_length, argument,
            known ? " flag for this subcommand" : "", table->program, context->subcommand_name);
}

/* Reads the flag at argv[*index], and its value if it takes one, moving *index past the
 * value. Leaves the table's entry in *flag_out. */
static bool tool_flag_apply(const tool_flag_table *table, int argc, char **argv, int *index,
                            const tool_flags_context *context, void *options,
                            const tool_flag **flag_out) {
    const char *argument = argv[*index];
    size_t name_length = tool_flag_name_length(argument);
    const tool_flag *flag = tool_flag_find(table, argument, name_length, context->subcommand);
    if (flag == NULL) {
        tool_flag_unknown_report(table, argument, name_length, context);
        return false;
    }
    *flag_out = flag;
    const char *equals = strchr(argument, '=');
    const char *value = "";
    if (flag->value_name == NULL && equals != NULL) {
        fprintf(stderr, "%s: %s takes no value\n", table->program, flag->name);
        return false;
    }
    if (flag->value_name != NULL) {
        if (equals != NULL) {
            value = equals + 1;
        } else if (tool_flag_takes_next(argc, argv, *index, flag)) {
            *index += 1;
            value = argv[*index];
        } else {
            fprintf(stderr, "%s: %s needs a value: %s %s\n", table->program, flag->name,
                    flag->name, flag->value_name);
            return false;
        }
    }
    return flag->parse == NULL || flag->parse(options, flag->name, value);
}

static bool tool_required_check(const tool_flag_table *table, const tool_flags_context *context,
                                const bool *given) {
    for (size_t i = 0; i < table->count; i++) {
        const tool_flag *flag = &table->flags[i];
        if ((flag->required & TOOL_FOR(context->subcommand)) == 0 || given[i]) continue;
        fprintf(stderr, "%s: %s needs %s%s%s\n", table->program, context->subcommand_name,
                flag->name, flag->value_name ? " " : "", flag->value_name ? flag->value_name : "");
        return false;
    }
    return true;
}

bool tool_flags_apply(const tool_flag_table *table, int argc, char **argv,
                      const tool_positionals *positionals, const tool_flags_context *context,
                      void *options) {
    bool given[TOOL_FLAGS_MAX] = {false};
    assert(table->count <= TOOL_FLAGS_MAX);
    assert(context->subcommand >= 0 && context->subcommand < TOOL_SUBCOMMANDS_MAX);
    for (int i = 1; i < argc; i++) {
        if (tool_help_flag_is(argv[i]) ||
            tool_positional_used(positionals, context->positionals_used, i)) {
            continue;
        }
        if (!tool_flag_is(argv[i])) {
            fprintf(stderr, "%s: unexpected argument \"%s\"; flags start with --\n",
                    table->program, argv[i]);
            return false;
        }
        const tool_flag *flag = NULL;
        if (!tool_flag_apply(table, argc, argv, &i, context, options, &flag)) return false;
        given[flag - table->flags] = true;
    }
    return tool_required_check(table, context, given);
}

static void tool_flag_help_print(FILE *out, const tool_flag *flag) {
    if (flag->value_name) fprintf(out, "  %s %s\n", flag->name, flag->value_name);
    else fprintf(out, "  %s\n", flag->name);
    tool_lines_print(out, flag->help, TOOL_FLAG_HELP_INDENT);
    if (flag->choices) tool_choices_print(out, flag->choices);
}

void tool_flags_help_print(FILE *out, const tool_flag_table *table,
                           tool_subcommand_set subcommands, tool_flags_shown shown) {
    for (size_t i = 0; i < table->count; i++) {
        const tool_flag *flag = &table->flags[i];
        bool global = flag->subcommands == table->every_subcommand;
        if ((flag->subcommands & subcommands) == 0) continue;
        if (shown == TOOL_FLAGS_SHOWN_GLOBAL && !global) continue;
        if (shown == TOOL_FLAGS_SHOWN_OWN && global) continue;
        tool_flag_help_print(out, flag);
    }
}

void tool_flags_synopsis_print(FILE *out, const tool_flag_table *table, int subcommand) {
    for (size_t i = 0; i < table->count; i++) {
        const tool_flag *flag = &table->flags[i];
        if (flag->subcommands == table->every_subcommand ||
            (flag->subcommands & TOOL_FOR(subcommand)) == 0) {
            continue;
        }
        bool required = (flag->required & TOOL_FOR(subcommand)) != 0;
        fprintf(out, " %s%s%s%s%s", required ? "" : "[", flag->name, flag->value_name ? " " : "",
                flag->value_name ? flag->value_name : "", required ? "" : "]");
    }
}
