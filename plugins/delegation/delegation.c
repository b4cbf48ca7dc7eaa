/* delegation: a reporting rule for delegated specialised commissioning. It lists the delegation
 * register, sets each delegate's specialised budget against what it has committed, and fails
 * every specialised payment made when its commissioner held no delegation of the contract's
 * service line in force on the payment's date: spend after a delegation ended or was revoked.
 * NHS England's own specialised contracts need no delegation and are never flagged.
 *
 * The ledger checks a delegation when a specialised contract is agreed, but not when it is paid,
 * and the read functions give a payment no date. So the plugin keeps a projection of its own
 * (ABI 1.2): every specialised payment's date, month, amount and contract, keyed by its
 * sequence, and every reversal of one, so that a report as at any sequence sees exactly the
 * payments that stood then.
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define DELEGATION_NAME "delegation"

/* OrgKind.NHSE, Stream.SPECIALISED and DelegationMode in proto/fundflow/v1/events.proto. */
#define DELEGATION_ORG_KIND_NHSE 1
#define DELEGATION_STREAM_SPECIALISED 3
#define DELEGATION_MODE_JOINT_COMMITTEE 1
#define DELEGATION_MODE_FULL 2

/* 1 April, as the MMDD part of a YYYYMMDD date: the start of every financial year. */
#define DELEGATION_YEAR_START_MONTH_DAY 401u
#define DELEGATION_DATE_YEAR_FACTOR 10000u

/* Distinct delegates: NHS England delegates to ICBs and joint committees, of which there are
 * about fifty; 1,024 leaves room for any reorganisation. */
#define DELEGATION_DELEGATES_MAX 1024

/* The projection's keys: 'p' or 'x', then a sequence as 8 big-endian bytes. Change
 * DELEGATION_PROJECTION_VERSION whenever delegation_spend or the keys change. */
#define DELEGATION_PROJECTION_VERSION 1
#define DELEGATION_KEY_PAYMENT 'p'
#define DELEGATION_KEY_REVERSAL 'x'
#define DELEGATION_KEY_BYTES 9

/* Organisation codes are at most 12 bytes and identifiers (contract ids, service line codes) at
 * most 32 (fundflow/limits.h); longer ones are refused as a broken host. */
#define DELEGATION_CODE_BYTES 16
#define DELEGATION_IDENTIFIER_BYTES 40
/* A list of service lines or population codes in one cell; a longer list ends in "...". */
#define DELEGATION_LIST_TEXT_BYTES 2048
#define DELEGATION_MESSAGE_BYTES_MAX 384

typedef struct delegation_state {
    const ff_plugin_host *host;
} delegation_state;

typedef struct delegation_code {
    char code[DELEGATION_CODE_BYTES];
} delegation_code;

/* The contract a payment was made under, as the report needs it. */
typedef struct delegation_contract {
    char contract_id[DELEGATION_IDENTIFIER_BYTES];
    char commissioner_code[DELEGATION_CODE_BYTES];
    char provider_code[DELEGATION_CODE_BYTES];
    char service_line_code[DELEGATION_IDENTIFIER_BYTES];
    uint32_t financial_year;
} delegation_contract;

/* A specialised payment as projected, under 'p' and its sequence. A reversal of it is projected
 * under 'x' and the payment's sequence, holding the reversal's sequence. */
typedef struct delegation_spend {
    uint32_t effective_date;
    uint32_t month;
    int64_t amount_pence;
    char contract_id[DELEGATION_IDENTIFIER_BYTES];
} delegation_spend;

/* One report's working set: the delegates seen in the register, and the payments checked. */
typedef struct delegation_run {
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
    const char *org_code;
    delegation_code *delegates;
    size_t delegate_count;
    size_t payments_checked;
    size_t payments_flagged;
} delegation_run;

/* ---- helpers ---- */

/* Copies text into a fixed field; 0 if it does not fit, which only a broken host could cause. */
static int delegation_copy(char *field, size_t field_bytes, const char *text) {
    size_t length = strlen(text);
    if (length >= field_bytes) return 0;
    memcpy(field, text, length + 1);
    return 1;
}

/* Joins codes with ", ", ending with "..." where the cell's bound cuts the list short. */
static void delegation_list_join(const char *const *codes, size_t count, char *text,
                                 size_t text_bytes) {
    static const char ellipsis[] = "...";
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t need = strlen(codes[i]) + (i ? 2 : 0);
        if (used + need + sizeof ellipsis > text_bytes) {
            memcpy(text + used, ellipsis, sizeof ellipsis);
            return;
        }
        used += (size_t)snprintf(text + used, text_bytes - used, "%s%s", i ? ", " : "", codes[i]);
    }
}

static int delegation_listed(const char *const *codes, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(codes[i], code) == 0) return 1;
    }
    return 0;
}

static uint32_t delegation_year_start(uint32_t financial_year) {
    return financial_year * DELEGATION_DATE_YEAR_FACTOR + DELEGATION_YEAR_START_MONTH_DAY;
}

static int delegation_in_force_on(const ff_plugin_delegation *delegation, uint32_t date) {
    return delegation->effective_from <= date &&
           (delegation->effective_to == 0 || delegation->effective_to >= date);
}

static const char *delegation_mode_name(int mode) {
    switch (mode) {
    case DELEGATION_MODE_JOINT_COMMITTEE: return "joint committee";
    case DELEGATION_MODE_FULL: return "full";
    default: return "unknown";
    }
}

/* ---- the register ---- */

static int delegation_delegate_note(delegation_run *run, const char *code) {
    for (size_t i = 0; i < run->delegate_count; i++) {
        if (strcmp(run->delegates[i].code, code) == 0) return FF_PLUGIN_OK;
    }
    if (run->delegate_count == DELEGATION_DELEGATES_MAX) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "the register has more delegates than the delegation report's limit");
        return FF_PLUGIN_ERROR;
    }
    delegation_code *slot = &run->delegates[run->delegate_count];
    if (!delegation_copy(slot->code, sizeof slot->code, code)) return FF_PLUGIN_ERROR;
    run->delegate_count++;
    return FF_PLUGIN_OK;
}

static int delegation_register_visit(void *argument, const ff_plugin_delegation *delegation) {
    delegation_run *run = argument;
    if (run->org_code[0] != '\0' && strcmp(delegation->delegate_code, run->org_code) != 0 &&
        !delegation_listed(delegation->population_codes, delegation->population_count,
                           run->org_code)) {
        return FF_PLUGIN_OK;
    }
    char lines[DELEGATION_LIST_TEXT_BYTES], population[DELEGATION_LIST_TEXT_BYTES];
    delegation_list_join(delegation->service_line_codes, delegation->service_line_count, lines,
                         sizeof lines);
    delegation_list_join(delegation->population_codes, delegation->population_count, population,
                         sizeof population);
    uint32_t year_start = delegation_year_start(run->request->financial_year);
    const ff_plugin_cell cells[] = {
        {delegation->delegation_id, 0},
        {delegation->delegate_code, 0},
        {delegation_mode_name(delegation->mode), 0},
        {NULL, (int64_t)delegation->service_line_count},
        {lines, 0},
        {population, 0},
        {NULL, delegation->effective_from},
        {NULL, delegation->effective_to},
        {NULL, delegation_in_force_on(delegation, year_start)}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return delegation_delegate_note(run, delegation->delegate_code);
}

static int delegation_register_table(delegation_run *run) {
    static const char *const names[] = {
        "delegation", "delegate",     "mode",         "service lines",       "lines",
        "population", "effective from", "effective to", "in force on 1 April"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_INTEGER,
                                FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_DATE, FF_PLUGIN_COLUMN_DATE,
                                FF_PLUGIN_COLUMN_FLAG};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "delegations", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return run->host->delegations_each(run->context, delegation_register_visit, run);
}

/* ---- budgets ---- */

/* A delegate's specialised budget: received, against what it passed on and committed (outcome
 * pots still withheld count as committed, since the contract holds them until released). */
static int delegation_budget_row(delegation_run *run, const char *code) {
    const ff_plugin_host *host = run->host;
    ff_plugin_position position;
    if (host->position_get(run->context, code, DELEGATION_STREAM_SPECIALISED,
                           run->request->financial_year, 0, &position) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    int64_t commitments_pence = 0, headroom_pence = 0;
    if (host->money_add(position.committed_pence, position.withheld_pence,
                        &commitments_pence) != FF_PLUGIN_OK ||
        host->money_add(commitments_pence, position.paid_pence, &commitments_pence) !=
            FF_PLUGIN_OK ||
        host->money_add(commitments_pence, position.earned_pence, &commitments_pence) !=
            FF_PLUGIN_OK ||
        ff_plugin_money_subtract(host, position.received_pence, position.passed_on_pence,
                                 &headroom_pence) != FF_PLUGIN_OK ||
        ff_plugin_money_subtract(host, headroom_pence, commitments_pence, &headroom_pence) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {{code, 0},
                                    {NULL, position.received_pence},
                                    {NULL, position.passed_on_pence},
                                    {NULL, commitments_pence},
                                    {NULL, headroom_pence}};
    if (host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[DELEGATION_MESSAGE_BYTES_MAX], received[FF_MONEY_TEXT_BYTES],
        headroom[FF_MONEY_TEXT_BYTES];
    run->host->money_format(position.received_pence, received, sizeof received);
    run->host->money_format(headroom_pence, headroom, sizeof headroom);
    snprintf(message, sizeof message,
             "specialised budget of %s for %u/%02u leaves %s once passed on and committed%s",
             received, run->request->financial_year, (run->request->financial_year + 1u) % 100u,
             headroom, headroom_pence < 0 ? ": it is overcommitted" : "");
    int level = headroom_pence < 0 ? FF_PLUGIN_FINDING_FAIL : FF_PLUGIN_FINDING_PASS;
    return host->report_finding(run->report, level, code, message);
}

static int delegation_budgets_table(delegation_run *run) {
    static const char *const names[] = {"delegate", "specialised received", "passed on",
                                        "commitments", "headroom"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "specialised budgets", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->delegate_count; i++) {
        const char *code = run->delegates[i].code;
        if (run->org_code[0] != '\0' && strcmp(code, run->org_code) != 0) continue;
        if (delegation_budget_row(run, code) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- the projection ---- */

static void delegation_sequence_write(uint64_t sequence, uint8_t bytes[8]) {
    for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(sequence >> (56 - 8 * i));
}

static void delegation_key_make(char prefix, uint64_t sequence,
                                uint8_t key[DELEGATION_KEY_BYTES]) {
    key[0] = (uint8_t)prefix;
    delegation_sequence_write(sequence, key + 1);
}

static uint64_t delegation_sequence_read(const uint8_t bytes[8]) {
    uint64_t sequence = 0;
    for (int i = 0; i < 8; i++) sequence = sequence << 8 | bytes[i];
    return sequence;
}

/* A reversal of a projected payment is noted under the payment; others are not ours. */
static int delegation_project_reversal(const ff_plugin_host *host, ff_plugin_context *context,
                                       const ff_plugin_event *event) {
    uint8_t key[DELEGATION_KEY_BYTES], by[8];
    delegation_key_make(DELEGATION_KEY_PAYMENT, event->summary->reversed_sequence, key);
    int found = host->data_get(context, key, sizeof key, NULL, 0, NULL);
    if (found != FF_PLUGIN_OK) return found == FF_PLUGIN_NOT_FOUND ? FF_PLUGIN_OK : found;
    delegation_key_make(DELEGATION_KEY_REVERSAL, event->summary->reversed_sequence, key);
    delegation_sequence_write(event->sequence, by);
    return host->data_put(context, key, sizeof key, by, sizeof by);
}

static int delegation_project(void *state, ff_plugin_context *context,
                              const ff_plugin_event *event) {
    const ff_plugin_host *host = ((const delegation_state *)state)->host;
    const ff_plugin_command *command = event->summary;
    if (strcmp(command->kind, "reversal") == 0) {
        return delegation_project_reversal(host, context, event);
    }
    if (strcmp(command->kind, "payment_made") != 0 ||
        command->stream != DELEGATION_STREAM_SPECIALISED) {
        return FF_PLUGIN_OK;
    }
    delegation_spend spend;
    memset(&spend, 0, sizeof spend);
    spend.effective_date = command->effective_date;
    spend.month = command->month;
    spend.amount_pence = command->amount_pence;
    if (!delegation_copy(spend.contract_id, sizeof spend.contract_id, command->contract_id)) {
        return FF_PLUGIN_ERROR;
    }
    uint8_t key[DELEGATION_KEY_BYTES];
    delegation_key_make(DELEGATION_KEY_PAYMENT, event->sequence, key);
    return host->data_put(context, key, sizeof key, &spend, sizeof spend);
}

/* ---- spend without a delegation ---- */

static int delegation_contract_copy(void *argument, const ff_plugin_contract *contract) {
    delegation_contract *copy = argument;
    const char *line = contract->service_line_code ? contract->service_line_code : "";
    if (!delegation_copy(copy->contract_id, sizeof copy->contract_id, contract->contract_id) ||
        !delegation_copy(copy->commissioner_code, sizeof copy->commissioner_code,
                         contract->commissioner_code) ||
        !delegation_copy(copy->provider_code, sizeof copy->provider_code,
                         contract->provider_code) ||
        !delegation_copy(copy->service_line_code, sizeof copy->service_line_code, line)) {
        return FF_PLUGIN_ERROR;
    }
    copy->financial_year = contract->financial_year;
    return FF_PLUGIN_OK;
}

/* Whether a delegation covers one payment: held by its commissioner, listing its line, in force
 * on its date. */
typedef struct delegation_cover {
    const delegation_contract *contract;
    uint32_t date;
    int covered;
} delegation_cover;

static int delegation_cover_visit(void *argument, const ff_plugin_delegation *delegation) {
    delegation_cover *cover = argument;
    if (strcmp(delegation->delegate_code, cover->contract->commissioner_code) == 0 &&
        delegation_in_force_on(delegation, cover->date) &&
        delegation_listed(delegation->service_line_codes, delegation->service_line_count,
                          cover->contract->service_line_code)) {
        cover->covered = 1;
        return FF_PLUGIN_STOP;
    }
    return FF_PLUGIN_OK;
}

static int delegation_commissioner_kind_visit(void *argument, const ff_plugin_org *org) {
    *(int *)argument = org->kind;
    return FF_PLUGIN_OK;
}

/* NHS England commissions what it has not delegated, so its contracts need no delegation. */
static int delegation_commissioner_is_nhse(delegation_run *run, const char *code) {
    int kind = 0;
    if (run->host->org_get(run->context, code, delegation_commissioner_kind_visit, &kind) !=
        FF_PLUGIN_OK) {
        return 0;
    }
    return kind == DELEGATION_ORG_KIND_NHSE;
}

/* Writes a YYYYMMDD date as "15 January 2025". */
static void delegation_date_format(uint32_t date, char *text, size_t text_bytes) {
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    uint32_t month = date / 100u % 100u;
    snprintf(text, text_bytes, "%u %s %u", date % 100u,
             month >= 1 && month <= 12 ? months[month - 1] : "?",
             date / DELEGATION_DATE_YEAR_FACTOR);
}

static int delegation_flag(delegation_run *run, uint64_t sequence, const delegation_spend *spend,
                           const delegation_contract *contract) {
    char month[16];
    snprintf(month, sizeof month, "M%u", spend->month);
    const ff_plugin_cell cells[] = {{NULL, (int64_t)sequence},
                                    {NULL, spend->effective_date},
                                    {month, 0},
                                    {contract->contract_id, 0},
                                    {contract->commissioner_code, 0},
                                    {contract->provider_code, 0},
                                    {contract->service_line_code, 0},
                                    {NULL, spend->amount_pence}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[DELEGATION_MESSAGE_BYTES_MAX], amount[FF_MONEY_TEXT_BYTES], date[48];
    run->host->money_format(spend->amount_pence, amount, sizeof amount);
    delegation_date_format(spend->effective_date, date, sizeof date);
    snprintf(message, sizeof message,
             "payment of %s on %s (event %llu, M%u) under specialised contract %s is for service "
             "line \"%s\", but %s held no delegation of it in force on that date",
             amount, date, (unsigned long long)sequence, spend->month, contract->contract_id,
             contract->service_line_code, contract->commissioner_code);
    run->payments_flagged++;
    return run->host->report_finding(run->report, FF_PLUGIN_FINDING_FAIL,
                                     contract->commissioner_code, message);
}

/* Whether a payment stood as at the report: made by then and not reversed by then. */
static int delegation_payment_stood(delegation_run *run, uint64_t sequence, int *stood) {
    *stood = 0;
    if (sequence > run->request->as_at_sequence) return FF_PLUGIN_OK;
    uint8_t key[DELEGATION_KEY_BYTES], by[8];
    size_t found_bytes = 0;
    delegation_key_make(DELEGATION_KEY_REVERSAL, sequence, key);
    int found = run->host->data_get(run->context, key, sizeof key, by, sizeof by, &found_bytes);
    if (found == FF_PLUGIN_NOT_FOUND) {
        *stood = 1;
        return FF_PLUGIN_OK;
    }
    if (found != FF_PLUGIN_OK || found_bytes != sizeof by) return FF_PLUGIN_ERROR;
    *stood = delegation_sequence_read(by) > run->request->as_at_sequence;
    return FF_PLUGIN_OK;
}

static int delegation_spend_visit(void *argument, const void *key, size_t key_bytes,
                                  const void *value, size_t value_bytes) {
    delegation_run *run = argument;
    delegation_spend spend;
    if (key_bytes != DELEGATION_KEY_BYTES || value_bytes != sizeof spend) return FF_PLUGIN_ERROR;
    memcpy(&spend, value, sizeof spend);
    uint64_t sequence = delegation_sequence_read((const uint8_t *)key + 1);
    int stood = 0;
    if (delegation_payment_stood(run, sequence, &stood) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    delegation_contract contract;
    memset(&contract, 0, sizeof contract);
    if (!stood) return FF_PLUGIN_OK;
    if (run->host->contract_get(run->context, spend.contract_id, delegation_contract_copy,
                                &contract) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (contract.financial_year != run->request->financial_year ||
        (run->org_code[0] != '\0' && strcmp(contract.commissioner_code, run->org_code) != 0 &&
         strcmp(contract.provider_code, run->org_code) != 0) ||
        delegation_commissioner_is_nhse(run, contract.commissioner_code)) {
        return FF_PLUGIN_OK;
    }
    run->payments_checked++;
    delegation_cover cover = {&contract, spend.effective_date, 0};
    if (run->host->delegations_each(run->context, delegation_cover_visit, &cover) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return cover.covered ? FF_PLUGIN_OK : delegation_flag(run, sequence, &spend, &contract);
}

static int delegation_spend_table(delegation_run *run) {
    static const char *const names[] = {"event", "date", "month", "contract", "commissioner",
                                        "provider", "service line", "amount"};
    static const int types[] = {FF_PLUGIN_COLUMN_INTEGER, FF_PLUGIN_COLUMN_DATE,
                                FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_MONEY};
    const char prefix = DELEGATION_KEY_PAYMENT;
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "specialised spend without a delegation",
                               names, types) != FF_PLUGIN_OK ||
        run->host->data_each(run->context, &prefix, 1, delegation_spend_visit, run) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (run->payments_flagged != 0) return FF_PLUGIN_OK;
    char message[DELEGATION_MESSAGE_BYTES_MAX];
    snprintf(message, sizeof message,
             "every one of the %zu specialised payments was made under a delegation in force on "
             "its date",
             run->payments_checked);
    return run->host->report_finding(run->report, FF_PLUGIN_FINDING_PASS, run->org_code, message);
}

/* ---- callbacks ---- */

static int delegation_report(void *state, ff_plugin_context *context,
                             const ff_plugin_report_request *request, ff_plugin_report *report) {
    const delegation_state *delegation = state;
    delegation_run run = {.host = delegation->host, .context = context, .report = report,
                          .request = request,
                          .org_code = request->org_code ? request->org_code : ""};
    run.delegates = calloc(DELEGATION_DELEGATES_MAX, sizeof *run.delegates);
    int result = run.delegates ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
    if (result == FF_PLUGIN_OK) result = delegation_register_table(&run);
    if (result == FF_PLUGIN_OK) result = delegation_budgets_table(&run);
    if (result == FF_PLUGIN_OK) result = delegation_spend_table(&run);
    free(run.delegates);
    return result;
}

static int delegation_init(const ff_plugin_host *host, void **state) {
    delegation_state *delegation = calloc(1, sizeof *delegation);
    if (delegation == NULL) return FF_PLUGIN_ERROR;
    delegation->host = host;
    *state = delegation;
    return FF_PLUGIN_OK;
}

static void delegation_fini(void *state) { free(state); }

static const uint32_t delegation_financial_years[] = {2023, 2024};

static const ff_plugin delegation_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = DELEGATION_NAME,
    .version = "1.1.0",
    .description = "Delegated specialised commissioning: the register, each delegate's "
                   "specialised budget against its commitments, and specialised payments made "
                   "when the commissioner held no delegation of the service line on that date.",
    .financial_years = delegation_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(delegation_financial_years),
    .init = delegation_init,
    .fini = delegation_fini,
    .report = delegation_report,
    .veto = NULL,
    .project = delegation_project,
    .projection_version = DELEGATION_PROJECTION_VERSION,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(delegation_plugin)
