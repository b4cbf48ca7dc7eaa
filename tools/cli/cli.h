/* The fundflow command-line client's shared pieces: exit codes, the parsed command line, and the
 * entry point of every subcommand.
 *
 * cli_arguments.c reads the command line into a cli_options, using the tables in cli_flags.c, and
 * fundflow_cli.c calls one subcommand's run function; cli_commands.c, cli_domain.c, cli_queries.c,
 * cli_listing.c, cli_positions.c, cli_plugins.c, cli_principals.c, cli_plans.c, cli_submit.c and
 * cli_reconcile.c hold those functions. The client is single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_H
#define FUNDFLOW_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_rpc.h"
#include "fundflow/limits.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

#define CLI_PROGRAM "fundflow"

/* NHS England's organisation code, the funder limit set names unless --funder is given. */
#define CLI_NHS_ENGLAND_CODE "X24"

/* Exit codes, as --help lists them. Scripts test these numbers, so never renumber one. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_REFUSED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CONNECT 3
#define CLI_EXIT_FAILED 4
#define CLI_EXIT_FINDINGS 5 /* report --fail-on: a finding reached the level; reconcile
                              * --fail-on difference: something did not match */

/* The most organisations positions reads, one GetPosition call each. Ten thousand is a few
 * seconds of calls and already far more rows than anyone reads on a screen (England has 42 ICBs
 * and a few hundred trusts); a kind with more wants a report of its own rather than a walk that
 * never ends. positions says so and exits 1 rather than print part of a total. */
#ifndef CLI_POSITIONS_ORGS_MAX
#define CLI_POSITIONS_ORGS_MAX 10000
#endif


/* The most operands a subcommand takes: cluster add NODE_ID RAFT_ADDRESS URL. */
#define CLI_OPERANDS_MAX 3

/* Subcommands in the order help lists them. The numbers are never stored or sent. */
typedef enum cli_subcommand_id {
    CLI_SUBCOMMAND_NONE = -1,
    CLI_SUBCOMMAND_ORG_ADD,
    CLI_SUBCOMMAND_ORG_UPDATE,
    CLI_SUBCOMMAND_ORG_SHOW,
    CLI_SUBCOMMAND_ORG_LIST,
    CLI_SUBCOMMAND_SERVICE_LINE_ADD,
    CLI_SUBCOMMAND_DELEGATION_GRANT,
    CLI_SUBCOMMAND_DELEGATION_REVOKE,
    CLI_SUBCOMMAND_DELEGATION_WHO,
    CLI_SUBCOMMAND_LIMIT_SET,
    CLI_SUBCOMMAND_ALLOCATE,
    CLI_SUBCOMMAND_BUDGET,
    CLI_SUBCOMMAND_REVERSE,
    CLI_SUBCOMMAND_CONTRACT_AGREE,
    CLI_SUBCOMMAND_CONTRACT_VARY,
    CLI_SUBCOMMAND_CONTRACT_SHOW,
    CLI_SUBCOMMAND_CONTRACT_LIST,
    CLI_SUBCOMMAND_PAY,
    CLI_SUBCOMMAND_OUTCOME,
    CLI_SUBCOMMAND_STATEMENT,
    CLI_SUBCOMMAND_CLOSE_PERIOD,
    CLI_SUBCOMMAND_POSITION,
    CLI_SUBCOMMAND_POSITIONS,
    CLI_SUBCOMMAND_FLOWS,
    CLI_SUBCOMMAND_HISTORY,
    CLI_SUBCOMMAND_EVENTS,
    CLI_SUBCOMMAND_EVENT,
    CLI_SUBCOMMAND_VERIFY,
    CLI_SUBCOMMAND_INFO,
    CLI_SUBCOMMAND_PLUGINS,
    CLI_SUBCOMMAND_REPORT,
    CLI_SUBCOMMAND_SUBMIT,
    CLI_SUBCOMMAND_PRINCIPAL_ADD,
    CLI_SUBCOMMAND_PRINCIPAL_LIST,
    CLI_SUBCOMMAND_PRINCIPAL_REVOKE,
    CLI_SUBCOMMAND_PLAN_SET,
    CLI_SUBCOMMAND_OUTTURN,
    CLI_SUBCOMMAND_IMPORT,
    CLI_SUBCOMMAND_RECONCILE,
    CLI_SUBCOMMAND_HEAD_SAVE,
    CLI_SUBCOMMAND_PROVE,
    CLI_SUBCOMMAND_BACKUP,
    CLI_SUBCOMMAND_CLUSTER_STATUS,
    CLI_SUBCOMMAND_CLUSTER_ADD,
    CLI_SUBCOMMAND_CLUSTER_REMOVE,
    CLI_SUBCOMMAND_CLUSTER_TRANSFER,
    CLI_SUBCOMMAND_COUNT
} cli_subcommand_id;

/* The most codes one list flag holds: a delegation's service lines are the longest list. */
#define CLI_CODE_LIST_MAX FF_DELEGATION_LINES_MAX

/* Codes from a comma-separated flag (--lines A,B) or a repeated one (--member A --member B),
 * copied out of argv so that splitting them changes nothing the caller owns. */
typedef struct cli_code_list {
    char *codes[CLI_CODE_LIST_MAX];
    size_t count;
    char text[CLI_CODE_LIST_MAX * (FF_ORG_CODE_BYTES_MAX + 1)];
    size_t text_used;
} cli_code_list;

/* One --metric CODE:WEIGHT_BP[:DESCRIPTION] of contract agree. */
typedef struct cli_metric {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    uint32_t weight_bp;
    char description[FF_DESCRIPTION_BYTES_MAX + 1];
} cli_metric;

/* Everything the command line said, already checked. Strings point into argv or the
 * environment, or into the lists here; a flag that was not given keeps the value
 * cli_options_default set. */
typedef struct cli_options {
    cli_subcommand_id subcommand;
    const char *operand; /* the CODE, ID, SEQUENCE or FILE after the subcommand, if any */
    uint64_t operand_number; /* the operand read as a number, for SEQUENCE and NODE_ID */
    /* Every operand, for a subcommand that takes several (cluster add NODE_ID RAFT_ADDRESS
     * URL); operands[0] is operand. */
    const char *operands[CLI_OPERANDS_MAX];
    uint64_t min_sequence; /* --min-sequence: sent as Fundflow-Min-Sequence; 0 for none */
    bool standby;          /* cluster add --standby */
    const char *server_url;
    const char *token;
    /* --cacert, --cert and --cert-key, or FUNDFLOW_CACERT, FUNDFLOW_CERT and FUNDFLOW_KEY. */
    http_tls_files tls;
    bool tls_flag_given; /* one of them came from a flag, not the environment */
    bool json;
    const char *name;
    uint32_t kind;
    const char *parent_code;
    uint32_t effective_date; /* today unless --date */
    bool effective_date_given; /* --date was given */
    const char *key;         /* NULL: derive one from the command */
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
    bool follow; /* events --follow */
    /* Organisations' links. */
    cli_code_list members;
    bool members_given; /* --member or --members: the members are set, perhaps to none */
    bool no_members;
    const char *lead_code;
    /* Service lines and delegations. */
    const char *delegation_id; /* allocate --delegation */
    uint32_t category;
    bool retained;
    cli_code_list lines;
    cli_code_list population;
    uint32_t mode;
    uint32_t from_date;
    uint32_t until_date;
    const char *line_code;
    const char *icb_code;
    uint32_t on_date; /* today unless --on */
    /* Contracts. */
    const char *commissioner_code;
    const char *provider_code;
    const char *collaborative_code;
    uint32_t contract_type;
    int64_t value_pence;
    int64_t fixed_pence;
    uint32_t cquin_bp;
    int64_t pot_pence;
    cli_metric metrics[FF_METRICS_MAX];
    size_t metric_count;
    int64_t change_pence;
    uint32_t month;
    const char *metric_code;
    uint32_t achievement_bp;
    unsigned achievement_given; /* how many of --achievement and --achievement-bp were given */
    /* Statements, positions, flows and histories. */
    const char *org_code;
    const char *counterparty_code;
    uint32_t statement_kind;
    bool rollup;
    const char *root_code;
    uint32_t depth;
    const char *contract_id; /* events --contract */
    /* Plugins and reports. */
    bool reload;
    uint32_t report_format; /* a cli_report_format; 0 until --format is given */
    const char *output_path; /* --output; NULL for stdout */
    const char *sort_column; /* --sort COLUMN of a listing; NULL for the server's order */
    bool provenance;         /* --provenance: CSV starts with rows saying what produced it */
    uint32_t fail_on_level;  /* report --fail-on: a FindingLevel, WARN or FAIL; 0 for none */
    /* Principals. */
    uint32_t role;       /* principal add --role */
    const char *actor;   /* history --actor: the principal whose events to list */
    /* Plans and outturns (cli_plans.c). */
    int64_t month_amounts_pence[FF_MONTHS_PER_YEAR]; /* plan set --month-amounts */
    bool month_amounts_given;
    int64_t amount_each_pence; /* plan set --amount-each */
    bool amount_each_given;
    uint32_t to_month; /* outturn --to */
    /* import (cli_import.c). */
    uint32_t import_kind;     /* a cli_import_kind_id + 1; 0 until --kind is given */
    const char *mapping_path; /* --mapping */
    bool independent;         /* --independent: record the good rows, report the bad */
    bool dry_run;             /* --dry-run: check every row against the ledger, record none */
    /* Reconcile (cli_reconcile.c); --mapping is mapping_path, as for import. */
    uint32_t reconcile_kind;   /* --against: a ReconcileKind, 0 until given */
    int64_t tolerance_pence;   /* --tolerance */
    bool tolerance_given;
    bool fail_on_difference;   /* --fail-on difference */
    /* Signed tree heads (cli_tree.c). */
    const char *since_path; /* verify --since FILE, prove --since FILE: a saved head */
    const char *key_path;   /* --key FILE of head save, verify and prove: the pinned key */
} cli_options;

typedef int (*cli_run)(const cli_options *options, cli_session *session);

/* Sends event as one SubmitCommands command under options' --key (or a key derived from the
 * subcommand, the event and the date, cli_key_derive) and --date, and prints what became of it:
 * "recorded as event N" or "already recorded as event N", the key and the head, or in JSON mode
 * the server's reply. Returns an exit code. cli_commands.c. */
int cli_command_send(const cli_options *options, cli_session *session,
                     Fundflow__V1__Event *event);

/* fundflow import's hook (cli_import.c): while a collector is set, cli_command_send hands the
 * Command it built, key and date and all, to collect instead of sending it, prints nothing and
 * returns what collect returns. command is valid only during the call. cli_commands.c. */
typedef int (*cli_command_collect)(void *context, const Fundflow__V1__Command *command);
void cli_command_collector_set(cli_command_collect collect, void *context);

/* Receives the organisations cli_orgs_fetch found, count of them in code order, and returns an
 * exit code. They stay valid only until it returns. */
typedef int (*cli_orgs_use)(void *context, const Fundflow__V1__OrgRecord *const *orgs,
                            size_t count);

/* Fetches the organisations of kind (0 for every kind) from ListOrgs, following its page tokens,
 * and stops once it has rows_max of them; then hands them all to use and returns use's exit code.
 * A caller that must refuse more than N organisations passes N + 1 and looks at count. If a page
 * cannot be fetched, nothing is handed over and the exit code of that failure is returned, having
 * been reported as every listing reports it. cli_listing.c. */
int cli_orgs_fetch(cli_session *session, uint32_t kind, uint64_t rows_max, cli_orgs_use use,
                   void *context);

/* Subcommands: each returns one of the exit codes above, having printed its result or why it
 * failed. */
int cli_org_add_run(const cli_options *options, cli_session *session);
int cli_org_update_run(const cli_options *options, cli_session *session);
int cli_org_show_run(const cli_options *options, cli_session *session);
int cli_org_list_run(const cli_options *options, cli_session *session);
int cli_service_line_add_run(const cli_options *options, cli_session *session);
int cli_delegation_grant_run(const cli_options *options, cli_session *session);
int cli_delegation_revoke_run(const cli_options *options, cli_session *session);
int cli_delegation_who_run(const cli_options *options, cli_session *session);
int cli_allocate_run(const cli_options *options, cli_session *session);
int cli_limit_set_run(const cli_options *options, cli_session *session);
int cli_budget_run(const cli_options *options, cli_session *session);
int cli_reverse_run(const cli_options *options, cli_session *session);
int cli_contract_agree_run(const cli_options *options, cli_session *session);
int cli_contract_vary_run(const cli_options *options, cli_session *session);
int cli_contract_show_run(const cli_options *options, cli_session *session);
int cli_contract_list_run(const cli_options *options, cli_session *session);
int cli_pay_run(const cli_options *options, cli_session *session);
int cli_outcome_run(const cli_options *options, cli_session *session);
int cli_statement_run(const cli_options *options, cli_session *session);
int cli_close_period_run(const cli_options *options, cli_session *session);
int cli_position_run(const cli_options *options, cli_session *session);
int cli_positions_run(const cli_options *options, cli_session *session);
int cli_flows_run(const cli_options *options, cli_session *session);
int cli_history_run(const cli_options *options, cli_session *session);
int cli_events_run(const cli_options *options, cli_session *session);
/* events --follow (cli_follow.c): prints events as they commit until SIGINT or SIGTERM. */
int cli_events_follow_run(const cli_options *options, cli_session *session);
int cli_event_run(const cli_options *options, cli_session *session);
int cli_verify_run(const cli_options *options, cli_session *session);
int cli_info_run(const cli_options *options, cli_session *session);
/* cli_tree.c: head save, verify --since (cli_verify_run hands over to it) and prove. */
int cli_head_save_run(const cli_options *options, cli_session *session);
int cli_verify_since_run(const cli_options *options, cli_session *session);
int cli_prove_run(const cli_options *options, cli_session *session);
int cli_plugins_run(const cli_options *options, cli_session *session);
int cli_report_run(const cli_options *options, cli_session *session);
int cli_submit_run(const cli_options *options, cli_session *session);
int cli_principal_add_run(const cli_options *options, cli_session *session);
int cli_principal_list_run(const cli_options *options, cli_session *session);
int cli_principal_revoke_run(const cli_options *options, cli_session *session);
int cli_plan_set_run(const cli_options *options, cli_session *session);
int cli_outturn_run(const cli_options *options, cli_session *session);
int cli_import_run(const cli_options *options, cli_session *session);
int cli_reconcile_run(const cli_options *options, cli_session *session);
int cli_backup_run(const cli_options *options, cli_session *session);
/* cli_cluster.c: the cluster's status and membership, and a role as people read it
 * ("leader", "follower", ...). */
const char *cli_cluster_role_text(int role);
int cli_cluster_status_run(const cli_options *options, cli_session *session);
int cli_cluster_add_run(const cli_options *options, cli_session *session);
int cli_cluster_remove_run(const cli_options *options, cli_session *session);
int cli_cluster_transfer_run(const cli_options *options, cli_session *session);

#endif
