/* The flag parser fundflow and fundflow-admin share: a table of flags, each with its name, the
 * name of its value (or none), the subcommands that accept and that need it, its help and the
 * function that reads its value; reading argv against the table; and printing the table as
 * help.
 *
 * A command line is words and flags in any order: "--flag value" or "--flag=value", a flag
 * with no value alone. The words (positionals) are the subcommand and its operands; the
 * program reads them, then hands the rest to tool_flags_apply. "--help" or "-h" anywhere asks
 * for help. A flag may be given more than once: each is read in turn, so a list flag adds to
 * its list and any other keeps the last value. Every refusal goes to stderr as
 * "PROGRAM: ...", naming the flag, with PROGRAM from the table. Tables are constant.
 */
#ifndef FUNDFLOW_TOOL_FLAGS_H
#define FUNDFLOW_TOOL_FLAGS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A set of subcommands, one bit each, by the program's own numbering. */
typedef uint64_t tool_subcommand_set;
#define TOOL_SUBCOMMANDS_MAX 64
#define TOOL_FOR(id) ((tool_subcommand_set)1 << (id))
/* Every one of count subcommands. */
#define TOOL_FOR_ALL(count) (TOOL_FOR(count) - 1)

/* Stands for "whichever subcommand" where a subcommand is asked for. */
#define TOOL_SUBCOMMAND_ANY (-1)

/* Reads a flag's value into the program's options; on a bad value prints why, naming flag,
 * and returns false. A flag with no value is passed "". */
typedef bool (*tool_flag_parse)(void *options, const char *flag, const char *value);

/* One flag as some subcommands take it. A flag meaning different things to different
 * subcommands has one entry for each meaning, so that each subcommand's help is exact; every
 * entry of one name either takes a value or does not. */
typedef struct tool_flag {
    const char *name;               /* "--year" */
    const char *value_name;         /* "YYYY/YY", shown in help; NULL for no value */
    tool_subcommand_set subcommands; /* the subcommands that accept it */
    tool_subcommand_set required;    /* the subcommands that need it */
    tool_flag_parse parse;           /* NULL: nothing to read (--help) */
    const char *help;
    const ProtobufCEnumDescriptor *choices; /* when the value names an enum, for help */
} tool_flag;

/* The most entries a table holds, so that which were given fits on the stack. */
#define TOOL_FLAGS_MAX 160

typedef struct tool_flag_table {
    const char *program;              /* "fundflow", the start of every message */
    const tool_flag *flags;
    size_t count;                     /* at most TOOL_FLAGS_MAX */
    tool_subcommand_set every_subcommand; /* a flag for all of these is a global flag */
} tool_flag_table;

/* The most positionals looked at: "cluster add NODE_ID RAFT_ADDRESS URL" is five. */
#define TOOL_POSITIONALS_MAX 5

/* The positional arguments, by their argv index, and whether help was asked for. */
typedef struct tool_positionals {
    int indexes[TOOL_POSITIONALS_MAX];
    size_t count;
    bool too_many; /* more than TOOL_POSITIONALS_MAX */
    bool help;     /* --help or -h was given */
} tool_positionals;

/* Whether argument asks for help: "--help" or "-h". */
bool tool_help_flag_is(const char *argument);

/* Whether argument is a flag: it starts with '-' and is not "-" alone, which names standard
 * input. */
bool tool_flag_is(const char *argument);

/* The length of the flag's name in argument: up to any '='. */
size_t tool_flag_name_length(const char *argument);

/* The entry named by argument's first name_length bytes that subcommand accepts, or for
 * TOOL_SUBCOMMAND_ANY the first entry of that name; NULL if there is none. */
const tool_flag *tool_flag_find(const tool_flag_table *table, const char *argument,
                                size_t name_length, int subcommand);

/* Sorts argv[1..argc-1] into positionals and flags, skipping each flag's value. A flag takes
 * the next argument as its value when it has a value, no '=', and the next argument does not
 * start with "--"; tool_flags_apply follows the same rule, so both agree on what is a
 * positional. */
void tool_positionals_collect(const tool_flag_table *table, int argc, char **argv,
                              tool_positionals *positionals);

/* What tool_flags_apply reads for: the subcommand, its name for messages ("org add"), and how
 * many of the positionals the program read itself (the subcommand's words and operands). */
typedef struct tool_flags_context {
    int subcommand;
    const char *subcommand_name;
    size_t positionals_used;
} tool_flags_context;

/* Reads every flag in argv into options through the table's parse functions, then checks that
 * each flag the subcommand needs was given. A positional the program did not use is refused as
 * unexpected. Returns false, having printed why, at the first problem: a flag the table does
 * not know, or that the subcommand does not take; a value missing, or given to a flag that
 * takes none; a value its parse function refuses; a required flag not given. */
bool tool_flags_apply(const tool_flag_table *table, int argc, char **argv,
                      const tool_positionals *positionals, const tool_flags_context *context,
                      void *options);

/* Which flags tool_flags_help_print prints of those a set of subcommands accepts. */
typedef enum tool_flags_shown {
    TOOL_FLAGS_SHOWN_ALL,    /* every one */
    TOOL_FLAGS_SHOWN_GLOBAL, /* only those every subcommand accepts */
    TOOL_FLAGS_SHOWN_OWN,    /* only those not every subcommand accepts */
} tool_flags_shown;

/* Prints "  --flag VALUE", its help indented under it, and its choices, for each flag shown
 * that any subcommand in subcommands accepts, in table order. */
void tool_flags_help_print(FILE *out, const tool_flag_table *table,
                           tool_subcommand_set subcommands, tool_flags_shown shown);

/* Prints the subcommand's own flags as a usage line's tail: " --flag VALUE" for a required
 * flag, " [--flag VALUE]" for any other. */
void tool_flags_synopsis_print(FILE *out, const tool_flag_table *table, int subcommand);

#endif
