/* fundflow's command line read into a cli_options, and its help printed, so that main has only
 * to run what was asked for. Single-threaded. */
#ifndef FUNDFLOW_TOOLS_CLI_ARGUMENTS_H
#define FUNDFLOW_TOOLS_CLI_ARGUMENTS_H

#include "cli.h"

/* Reads the command line into options, starting from the defaults (the environment's server
 * and token, today's date). Prints help on stdout when asked, or why the command line will not
 * do on stderr. Returns an exit code; CLI_EXIT_OK with the subcommand left CLI_SUBCOMMAND_NONE
 * means help was printed and there is nothing to run. */
int cli_arguments_read(int argc, char **argv, cli_options *options);

/* The subcommand's words, such as "pay" or "org add", cut short to fit buffer. */
void cli_subcommand_name(cli_subcommand_id id, char *buffer, size_t buffer_bytes);

#endif
