/* The fundflow client's tables: every subcommand with its help, and every flag with the
 * subcommands that take it, its help text and the function that reads its value.
 *
 * fundflow_cli.c walks these tables to read a command line and to print help; nothing else uses
 * them. The tables are constant, so any thread may read them.
 */
#ifndef FUNDFLOW_TOOLS_CLI_FLAGS_H
#define FUNDFLOW_TOOLS_CLI_FLAGS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define CLI_SERVER_ENVIRONMENT "FUNDFLOW_SERVER"
#define CLI_TOKEN_ENVIRONMENT "FUNDFLOW_TOKEN"
#define CLI_SERVER_DEFAULT "http://127.0.0.1:7460"

/* Commands per SubmitCommands request when submit is not told otherwise: big enough that a
 * file of demo size goes in one or two requests, small enough that a refusal is found early. */
#define CLI_SUBMIT_BATCH_SIZE_DEFAULT 500

/* A set of subcommands, one bit each. */
typedef uint64_t cli_subcommand_set;
_Static_assert(CLI_SUBCOMMAND_COUNT < 64, "a cli_subcommand_set has a bit for each subcommand");

#define CLI_FOR(id) ((cli_subcommand_set)1 << (id))
#define CLI_FOR_ALL ((CLI_FOR(CLI_SUBCOMMAND_COUNT)) - 1)

/* Reads a flag's value into options; on a bad value prints why, naming the flag, and returns
 * false. */
typedef bool (*cli_flag_parse)(cli_options *options, const char *flag, const char *value);

/* One flag as some subcommands take it. A flag meaning different things to different
 * subcommands has one entry for each meaning, so that each subcommand's help is exact; every
 * entry of one name either takes a value or does not. */
typedef struct cli_flag {
    const char *name;
    const char *value_name;         /* shown in help; NULL for a flag that takes no value */
    cli_subcommand_set subcommands; /* the subcommands that accept it */
    cli_subcommand_set required;    /* the subcommands that need it */
    cli_flag_parse parse;
    const char *help;
    const ProtobufCEnumDescriptor *choices; /* when the value names an enum, for help */
} cli_flag;

typedef struct cli_subcommand {
    const char *group; /* "org" for "org add", or NULL */
    const char *name;
    const char *operand; /* "CODE", "ID", "CONTRACT_ID", "NAME", "SEQUENCE" or "FILE", or NULL */
    const char *summary;
    const char *description;
    cli_run run;
} cli_subcommand;

/* The most entries the flag table holds; cli_flags.c checks it at compile time. */
#define CLI_FLAGS_MAX 128

extern const cli_subcommand cli_subcommands[CLI_SUBCOMMAND_COUNT];
extern const cli_flag cli_flags[];
extern const size_t cli_flag_count;

/* Checks what one flag at a time cannot: flags that exclude or need each other. Prints why and
 * returns CLI_EXIT_USAGE, or returns CLI_EXIT_OK. */
int cli_options_combination_check(const cli_options *options);

#endif
