/* fundflow: the command-line client of fundflowd, which registers organisations, service lines
 * and delegations, records allocations, budgets, contracts, payments and outcomes, and reads
 * positions, contracts, funding flows, histories, events and plugins' reports over Twirp. This
 * file reads the command line (cli_arguments.c), opens a session with the server and runs the
 * subcommand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_arguments.h"
#include "cli_export.h"
#include "cli_flags.h"
#include "tool_help.h"
#include "tool_values.h"

int main(int argc, char **argv) {
    tool_program_name_set(CLI_PROGRAM);
    if (tool_version_print_if_asked(CLI_PROGRAM, argc, argv)) return CLI_EXIT_OK;
    cli_export_command_line_set(argc, argv);
    cli_options options;
    int code = cli_arguments_read(argc, argv, &options);
    if (code != CLI_EXIT_OK || options.subcommand == CLI_SUBCOMMAND_NONE) {
        return code;
    }
    cli_session session;
    code = cli_session_open(&session, options.server_url, options.token, &options.tls,
                            options.json, options.min_sequence);
    if (code != CLI_EXIT_OK) return code;
    session.date_defaulted = !options.effective_date_given;
    code = cli_subcommands[options.subcommand].run(&options, &session);
    cli_session_close(&session);
    /* A full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, CLI_PROGRAM ": cannot write the output: %s\n", strerror(errno));
        if (code == CLI_EXIT_OK || code == CLI_EXIT_FINDINGS) code = CLI_EXIT_FAILED;
    }
    return code;
}
