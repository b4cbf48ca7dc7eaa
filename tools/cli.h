/* The fundflow command-line client's shared pieces: exit codes, the parsed command line, and the
 * entry point of every subcommand.
 *
 * fundflow_cli.c reads the command line into a cli_options and calls one subcommand's run
 * function; cli_commands.c and cli_submit.c hold those functions. The client is single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_H
#define FUNDFLOW_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli_rpc.h"

#define CLI_PROGRAM "fundflow"

/* Exit codes, as --help lists them. Scripts test these numbers, so never renumber one. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_REFUSED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CONNECT 3
#define CLI_EXIT_FAILED 4

/* Bytes of a generated idempotency key: 128 random bits as 32 hex digits, and a NUL. */
#define CLI_KEY_TEXT_BYTES 33

typedef enum cli_subcommand_id {
    CLI_SUBCOMMAND_NONE = -1,
    CLI_SUBCOMMAND_ORG_ADD,
    CLI_SUBCOMMAND_ORG_SHOW,
    CLI_SUBCOMMAND_ORG_LIST,
    CLI_SUBCOMMAND_ALLOCATE,
    CLI_SUBCOMMAND_BUDGET,
    CLI_SUBCOMMAND_REVERSE,
    CLI_SUBCOMMAND_POSITION,
    CLI_SUBCOMMAND_HISTORY,
    CLI_SUBCOMMAND_EVENTS,
    CLI_SUBCOMMAND_EVENT,
    CLI_SUBCOMMAND_VERIFY,
    CLI_SUBCOMMAND_INFO,
    CLI_SUBCOMMAND_SUBMIT,
    CLI_SUBCOMMAND_COUNT
} cli_subcommand_id;

/* Everything the command line said, already checked. Strings point into argv or the
 * environment; a flag that was not given keeps the value cli_options_default set. */
typedef struct cli_options {
    cli_subcommand_id subcommand;
    const char *operand; /* the CODE, SEQUENCE or FILE after the subcommand, if it takes one */
    uint64_t operand_number; /* the operand read as a number, for SEQUENCE operands */
    const char *server_url;
    const char *token;
    bool json;
    const char *name;
    uint32_t kind;
    const char *parent_code;
    uint32_t effective_date; /* today unless --date */
    const char *key;         /* NULL: generate one */
    const char *from_code;
    const char *to_code;
    uint32_t stream;
    uint32_t financial_year;
    int64_t amount_pence;
    const char *reference;
    bool non_recurrent;
    const char *reason;
    uint64_t as_at_sequence;
    uint32_t as_at_date;
    uint32_t purpose;
    uint64_t after_sequence;
    uint64_t limit; /* rows at most; 0 means every row */
    uint64_t batch_size;
    bool linked;
} cli_options;

typedef int (*cli_run)(const cli_options *options, cli_session *session);

/* Subcommands: each returns one of the exit codes above, having printed its result or why it
 * failed. */
int cli_org_add_run(const cli_options *options, cli_session *session);
int cli_org_show_run(const cli_options *options, cli_session *session);
int cli_org_list_run(const cli_options *options, cli_session *session);
int cli_allocate_run(const cli_options *options, cli_session *session);
int cli_budget_run(const cli_options *options, cli_session *session);
int cli_reverse_run(const cli_options *options, cli_session *session);
int cli_position_run(const cli_options *options, cli_session *session);
int cli_history_run(const cli_options *options, cli_session *session);
int cli_events_run(const cli_options *options, cli_session *session);
int cli_event_run(const cli_options *options, cli_session *session);
int cli_verify_run(const cli_options *options, cli_session *session);
int cli_info_run(const cli_options *options, cli_session *session);
int cli_submit_run(const cli_options *options, cli_session *session);

#endif
