/* The fundflow client's tables: every subcommand with its help, and every flag with the
 * subcommands that take it, its help text and the function that reads its value.
 *
 * cli_arguments.c reads a command line against these tables with the shared flag parser
 * (tool_flags.h) and prints help from them; nothing else in the client uses them. The tables
 * are constant, so any thread may read them.
 */
#ifndef FUNDFLOW_TOOLS_CLI_FLAGS_H
#define FUNDFLOW_TOOLS_CLI_FLAGS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "tool_flags.h"

#define CLI_SERVER_ENVIRONMENT "FUNDFLOW_SERVER"
#define CLI_TOKEN_ENVIRONMENT "FUNDFLOW_TOKEN"
#define CLI_CACERT_ENVIRONMENT "FUNDFLOW_CACERT"
#define CLI_CERT_ENVIRONMENT "FUNDFLOW_CERT"
#define CLI_CERT_KEY_ENVIRONMENT "FUNDFLOW_KEY"
#define CLI_SERVER_DEFAULT "http://127.0.0.1:7460"

/* Commands per SubmitCommands request when submit is not told otherwise: big enough that a
 * file of demo size goes in one or two requests, small enough that a refusal is found early. */
#define CLI_SUBMIT_BATCH_SIZE_DEFAULT 500

#define CLI_FOR(id) TOOL_FOR(id)
#define CLI_FOR_ALL TOOL_FOR_ALL(CLI_SUBCOMMAND_COUNT)
_Static_assert(CLI_SUBCOMMAND_COUNT < TOOL_SUBCOMMANDS_MAX,
               "a tool_subcommand_set has a bit for each subcommand");

typedef struct cli_subcommand {
    const char *group; /* "org" for "org add", or NULL */
    const char *name;
    const char *operand; /* "CODE", "ID", "CONTRACT_ID", "NAME", "SEQUENCE" or "FILE", or NULL */
    const char *summary;
    const char *description;
    cli_run run;
} cli_subcommand;

extern const cli_subcommand cli_subcommands[CLI_SUBCOMMAND_COUNT];

/* Every flag, as the shared parser reads them (tool_flags.h); its parse functions take a
 * cli_options. */
extern const tool_flag_table cli_flag_table;

/* Checks what one flag at a time cannot: flags that exclude or need each other. Prints why and
 * returns CLI_EXIT_USAGE, or returns CLI_EXIT_OK. */
int cli_options_combination_check(const cli_options *options);

#endif
