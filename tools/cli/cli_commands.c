/* The fundflow client's first single-call subcommands: the writes org add, allocate, budget and
 * reverse, with the sending every write shares, and the reads of one record (org show, position,
 * event, verify, info). The domain's writes are in cli_domain.c. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_arguments.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_output_events.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Seconds in the units info prints uptime in. */
#define CLI_SECONDS_PER_MINUTE 60u
#define CLI_SECONDS_PER_HOUR 3600u
#define CLI_SECONDS_PER_DAY 86400u

/* Writes ------------------------------------------------------------------------------------ */

static int cli_write_result_print(const ProtobufCMessage *message, const char *key,
                                  bool key_derived) {
    const Fundflow__V1__SubmitCommandsResponse *response =
        (const Fundflow__V1__SubmitCommandsResponse *)message;
    if (response->n_results != 1 || strcmp(response->results[0]->code, "ok") != 0) {
        fprintf(stderr, CLI_PROGRAM ": the server answered one command with %zu results\n",
                response->n_results);
        return CLI_EXIT_FAILED;
    }
    const Fundflow__V1__CommandResult *result = response->results[0];
    if (result->idempotent_replay) {
        printf("already recorded as event %" PRIu64 "; nothing new was recorded%s\n",
               result->sequence,
               key_derived ? " (to record the same again, give a distinct --reference or --key)"
                           : "");
    } else {
        printf("recorded as event %" PRIu64 "\n", result->sequence);
    }
    cli_field_print("idempotency key", "%s", key);
    cli_field_print("head sequence", "%" PRIu64, response->head_sequence);
    return CLI_EXIT_OK;
}

static cli_command_collect cli_collector;
static void *cli_collector_context;

void cli_command_collector_set(cli_command_collect collect, void *context) {
    cli_collector = collect;
    cli_collector_context = context;
}

int cli_command_send(const cli_options *options, cli_session *session,
                     Fundflow__V1__Event *event) {
    char derived[CLI_KEY_TEXT_BYTES], name[64];
    const char *key = options->key;
    if (key == NULL) {
        assert(options->subcommand > CLI_SUBCOMMAND_NONE &&
               options->subcommand < CLI_SUBCOMMAND_COUNT);
        cli_subcommand_name(options->subcommand, name, sizeof name);
        if (!cli_key_derive(name, options->effective_date, &event->base, derived,
                            sizeof derived)) {
            return CLI_EXIT_FAILED;
        }
        key = derived;
    }
    Fundflow__V1__Command command = FUNDFLOW__V1__COMMAND__INIT;
    command.idempotency_key = (char *)key;
    command.effective_date = options->effective_date;
    command.event = event;
    if (cli_collector != NULL) return cli_collector(cli_collector_context, &command);
    Fundflow__V1__Command *commands[1] = {&command};
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = 1;
    cli_reply reply;
    int code = cli_rpc_run(session, "SubmitCommands", &request.base,
                           &fundflow__v1__submit_commands_response__descriptor, &reply);
    if (code == CLI_EXIT_OK && !session->json) {
        code = cli_write_result_print(reply.message, key, options->key == NULL);
    }
    if (code == CLI_EXIT_FAILED) {
        fprintf(stderr, CLI_PROGRAM ": the command may or may not have been recorded; run it "
                        "again with --key %s (and the same --date) to find out without recording "
                        "it twice\n",
                key);
    }
    cli_reply_release(&reply);
    return code;
}

int cli_org_add_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__OrgRegistered org = FUNDFLOW__V1__ORG_REGISTERED__INIT;
    org.code = (char *)options->operand;
    org.name = (char *)options->name;
    org.kind = (Fundflow__V1__OrgKind)options->kind;
    org.parent_code = cli_text_or_empty(options->parent_code);
    org.member_codes = (char **)options->members.codes;
    org.n_member_codes = options->members.count;
    org.lead_provider_code = cli_text_or_empty(options->lead_code);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    event.org_registered = &org;
    return cli_command_send(options, session, &event);
}

int cli_allocate_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__AllocationIssued allocation = FUNDFLOW__V1__ALLOCATION_ISSUED__INIT;
    allocation.funder_code = (char *)options->from_code;
    allocation.recipient_code = (char *)options->to_code;
    allocation.stream = (Fundflow__V1__Stream)options->stream;
    allocation.financial_year = options->financial_year;
    allocation.amount_pence = options->amount_pence;
    allocation.recurrent = !options->non_recurrent;
    allocation.reference = cli_text_or_empty(options->reference);
    allocation.delegation_id = cli_text_or_empty(options->delegation_id);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    event.allocation_issued = &allocation;
    return cli_command_send(options, session, &event);
}

int cli_budget_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__BudgetDelegated budget = FUNDFLOW__V1__BUDGET_DELEGATED__INIT;
    budget.from_code = (char *)options->from_code;
    budget.to_code = (char *)options->to_code;
    budget.stream = (Fundflow__V1__Stream)options->stream;
    budget.financial_year = options->financial_year;
    budget.amount_pence = options->amount_pence;
    budget.reference = cli_text_or_empty(options->reference);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED;
    event.budget_delegated = &budget;
    return cli_command_send(options, session, &event);
}

int cli_reverse_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__Reversal reversal = FUNDFLOW__V1__REVERSAL__INIT;
    reversal.reversed_sequence = options->operand_number;
    reversal.reason = (char *)options->reason;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVERSAL;
    event.reversal = &reversal;
    return cli_command_send(options, session, &event);
}

/* Reads --------------------------------------------------------------------------------------- */

static int cli_org_print(const ProtobufCMessage *message) {
    const Fundflow__V1__OrgRecord *org = (const Fundflow__V1__OrgRecord *)message;
    char kind[CLI_ENUM_NAME_BYTES_MAX], date[16];
    cli_field_print("code", "%s", org->code);
    cli_field_print("name", "%s", org->name);
    cli_field_print("kind", "%s", cli_enum_text(&fundflow__v1__org_kind__descriptor, org->kind,
                                                kind, sizeof kind));
    cli_field_print("parent", "%s", org->parent_code[0] ? org->parent_code : "-");
    if (org->n_member_codes > 0) {
        char members[CLI_CODES_TEXT_BYTES];
        cli_field_print("members", "%s", cli_codes_text(org->member_codes, org->n_member_codes,
                                                        members, sizeof members));
    }
    if (org->lead_provider_code[0] != '\0') {
        cli_field_print("lead provider", "%s", org->lead_provider_code);
    }
    cli_field_print("registered", "event %" PRIu64, org->registered_sequence);
    cli_field_print("registered date", "%s",
                    cli_date_text(org->registered_date, date, sizeof date));
    return CLI_EXIT_OK;
}

int cli_org_show_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetOrgRequest request = FUNDFLOW__V1__GET_ORG_REQUEST__INIT;
    request.code = (char *)options->operand;
    return cli_rpc_read(session, "GetOrg", &request.base, &fundflow__v1__org_record__descriptor,
                        cli_org_print);
}

static int cli_event_print(const ProtobufCMessage *message) {
    const Fundflow__V1__EventRecord *record = (const Fundflow__V1__EventRecord *)message;
    char date[16], time_text[CLI_TIME_TEXT_BYTES], hash[CLI_HASH_TEXT_BYTES];
    cli_field_print("sequence", "%" PRIu64, record->sequence);
    cli_field_print("recorded at", "%s",
                    cli_time_text(record->recorded_at_us, time_text, sizeof time_text));
    cli_field_print("effective date", "%s",
                    cli_date_text(record->effective_date, date, sizeof date));
    cli_field_print("actor", "%s", record->actor);
    cli_field_print("idempotency key", "%s", record->idempotency_key);
    cli_field_print("previous hash", "%s", cli_hex_text(record->previous_hash.data,
                                                        record->previous_hash.len, hash,
                                                        sizeof hash));
    cli_field_print("hash", "%s",
                    cli_hex_text(record->hash.data, record->hash.len, hash, sizeof hash));
    cli_event_fields_print(record->event);
    return CLI_EXIT_OK;
}

int cli_event_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetEventRequest request = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    request.sequence = options->operand_number;
    return cli_rpc_read(session, "GetEvent", &request.base,
                        &fundflow__v1__event_record__descriptor, cli_event_print);
}

static int cli_verify_print(const ProtobufCMessage *message) {
    const Fundflow__V1__VerifyLedgerResponse *verified =
        (const Fundflow__V1__VerifyLedgerResponse *)message;
    if (verified->ok) {
        printf("OK: %" PRIu64 " events checked; the hash chain and every projection agree\n",
               verified->events_checked);
        return CLI_EXIT_OK;
    }
    printf("FAILED at sequence %" PRIu64 ": %s: %s\n", verified->sequence, verified->code,
           verified->reason);
    return CLI_EXIT_REFUSED;
}

int cli_verify_run(const cli_options *options, cli_session *session) {
    if (options->since_path) return cli_verify_since_run(options, session);
    Fundflow__V1__VerifyLedgerRequest request = FUNDFLOW__V1__VERIFY_LEDGER_REQUEST__INIT;
    cli_reply reply;
    int code = cli_rpc_run(session, "VerifyLedger", &request.base,
                           &fundflow__v1__verify_ledger_response__descriptor, &reply);
    if (code == CLI_EXIT_OK && !session->json) code = cli_verify_print(reply.message);
    /* A ledger that fails verification fails the command in JSON mode too. */
    if (code == CLI_EXIT_OK && session->json &&
        !((const Fundflow__V1__VerifyLedgerResponse *)reply.message)->ok) {
        code = CLI_EXIT_REFUSED;
    }
    cli_reply_release(&reply);
    return code;
}

static int cli_backup_print(const ProtobufCMessage *message) {
    const Fundflow__V1__BackupLedgerResponse *backup =
        (const Fundflow__V1__BackupLedgerResponse *)message;
    char hash[CLI_HASH_TEXT_BYTES];
    cli_field_print("backup", "%s", backup->file_name);
    cli_field_print("bytes", "%" PRIu64, backup->file_bytes);
    cli_field_print("head sequence", "%" PRIu64, backup->head_sequence);
    cli_field_print("head hash", "%s",
                    cli_hex_text(backup->head_hash.data, backup->head_hash.len, hash, sizeof hash));
    cli_field_print("took", "%" PRIu64 " ms", backup->elapsed_us / 1000);
    return CLI_EXIT_OK;
}

int cli_backup_run(const cli_options *options, cli_session *session) {
    (void)options;
    Fundflow__V1__BackupLedgerRequest request = FUNDFLOW__V1__BACKUP_LEDGER_REQUEST__INIT;
    return cli_rpc_read(session, "BackupLedger", &request.base,
                        &fundflow__v1__backup_ledger_response__descriptor, cli_backup_print);
}

static int cli_info_print(const ProtobufCMessage *message) {
    const Fundflow__V1__ServerInfoResponse *info =
        (const Fundflow__V1__ServerInfoResponse *)message;
    char hash[CLI_HASH_TEXT_BYTES], started[CLI_TIME_TEXT_BYTES];
    uint64_t seconds = info->uptime_seconds;
    cli_field_print("version", "%s", info->version);
    cli_field_print("head sequence", "%" PRIu64, info->head_sequence);
    cli_field_print("head hash", "%s",
                    cli_hex_text(info->head_hash.data, info->head_hash.len, hash, sizeof hash));
    cli_field_print("events", "%" PRIu64, info->event_count);
    cli_field_print("uptime", "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s",
                    seconds / CLI_SECONDS_PER_DAY,
                    seconds % CLI_SECONDS_PER_DAY / CLI_SECONDS_PER_HOUR,
                    seconds % CLI_SECONDS_PER_HOUR / CLI_SECONDS_PER_MINUTE,
                    seconds % CLI_SECONDS_PER_MINUTE);
    cli_field_print("started at", "%s",
                    cli_time_text(info->started_at_us, started, sizeof started));
    if (info->signing_public_key.len > 0) {
        cli_field_print("signing key", "%s", cli_hex_text(info->signing_public_key.data,
                                                          info->signing_public_key.len, hash,
                                                          sizeof hash));
        cli_field_print("signing key ID", "%s",
                        cli_hex_text(info->signing_key_id.data, info->signing_key_id.len, hash,
                                     sizeof hash));
    }
    for (size_t i = 0; i < info->n_plugins; i++) {
        cli_field_print(i == 0 ? "plugins" : "", "%s %s", info->plugins[i]->name,
                        info->plugins[i]->version);
    }
    if (info->cluster_role != FUNDFLOW__V1__CLUSTER_ROLE__CLUSTER_ROLE_UNSPECIFIED) {
        cli_field_print("cluster node", "%" PRIu64 " (%s)", info->cluster_node_id,
                        cli_cluster_role_text((int)info->cluster_role));
        cli_field_print("cluster leader", "%s",
                        info->cluster_leader_url[0] ? info->cluster_leader_url
                                                    : "this node, or none known");
        cli_field_print("applied index", "%" PRIu64, info->cluster_applied_index);
    }
    return CLI_EXIT_OK;
}

int cli_info_run(const cli_options *options, cli_session *session) {
    (void)options;
    Fundflow__V1__ServerInfoRequest request = FUNDFLOW__V1__SERVER_INFO_REQUEST__INIT;
    return cli_rpc_read(session, "ServerInfo", &request.base,
                        &fundflow__v1__server_info_response__descriptor, cli_info_print);
}
