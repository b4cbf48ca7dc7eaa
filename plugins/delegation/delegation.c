/* delegation: a reporting rule for delegated specialised commissioning. It lists the delegation
 * register, sets each delegate's specialised budget against what it has committed, and fails
 * every specialised contract whose commissioner held no delegation of the contract's service
 * line.
 *
 * The ABI gives a contract no effective date, so a contract counts as covered when its
 * commissioner held a delegation of its service line in force on 1 April of the contract's
 * financial year: effective_from on or before that day and effective_to open (0) or on or after
 * it. NHS England's own specialised contracts need no delegation and are never flagged.
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
/* Specialised contracts in one year: a few per delegate today; 100,000 bounds the report. */
#define DELEGATION_CONTRACTS_MAX 100000
#define DELEGATION_CONTRACTS_INITIAL 64

/* Organisation codes are at most 12 bytes and identifiers (contract ids, service line codes) at
 * most 32 (fundflow/limits.h); longer ones are refused as a broken host. */
#define DELEGATION_CODE_BYTES 16
#define DELEGATION_IDENTIFIER_BYTES 40
/* A list of service lines or population codes in one cell; a longer list ends in "...". */
#define DELEGATION_LIST_TEXT_BYTES 2048
#define DELEGATION_MESSAGE_BYTES_MAX 384
/* "-£92,233,720,368,547,758.08" and its terminator, the longest amount of pence there is. */
#define DELEGATION_MONEY_TEXT_BYTES 40

typedef struct delegation_state {
    const ff_plugin_host *host;
} delegation_state;

typedef struct delegation_code {
    char code[DELEGATION_CODE_BYTES];
} delegation_code;

typedef struct delegation_contract {
    char contract_id[DELEGATION_IDENTIFIER_BYTES];
    char commissioner_code[DELEGATION_CODE_BYTES];
    char provider_code[DELEGATION_CODE_BYTES];
    char service_line_code[DELEGATION_IDENTIFIER_BYTES];
    uint32_t financial_year;
    int64_t value_pence;
    int covered;
} delegation_contract;

/* One report's working set: the delegates seen in the register and the specialised contracts. */
typedef struct delegation_run {
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
    const char *org_code;
    delegation_code *delegates;
    size_t delegate_count;
    delegation_contract *contracts;
    size_t contract_count;
    size_t contract_capacity;
} delegation_run;

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);

/* ---- helpers ---- */

static int delegation_money_subtract(const ff_plugin_host *host, int64_t a_pence,
                                     int64_t b_pence, int64_t *difference_pence) {
    if (b_pence == INT64_MIN) return FF_PLUGIN_ERROR;
    return host->money_add(a_pence, -b_pence, difference_pence);
}

/* The host formats amounts, so every report words them the same way. */
static const ff_plugin_host *delegation_host;

static void delegation_money_format(int64_t pence, char *text, size_t text_bytes) {
    delegation_host->money_format(pence, text, text_bytes);
}

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
    if (run->host->report_row(run->report, cells, sizeof cells / sizeof cells[0]) !=
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
    _Static_assert(sizeof names / sizeof names[0] == sizeof types / sizeof types[0],
                   "a type for every column");
    if (run->host->report_table(run->report, "delegations", sizeof types / sizeof types[0], names,
                                types) != FF_PLUGIN_OK) {
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
        delegation_money_subtract(host, position.received_pence, position.passed_on_pence,
                                  &headroom_pence) != FF_PLUGIN_OK ||
        delegation_money_subtract(host, headroom_pence, commitments_pence, &headroom_pence) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {{code, 0},
                                    {NULL, position.received_pence},
                                    {NULL, position.passed_on_pence},
                                    {NULL, commitments_pence},
                                    {NULL, headroom_pence}};
    if (host->report_row(run->report, cells, sizeof cells / sizeof cells[0]) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[DELEGATION_MESSAGE_BYTES_MAX], received[DELEGATION_MONEY_TEXT_BYTES],
        headroom[DELEGATION_MONEY_TEXT_BYTES];
    delegation_money_format(position.received_pence, received, sizeof received);
    delegation_money_format(headroom_pence, headroom, sizeof headroom);
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
    _Static_assert(sizeof names / sizeof names[0] == sizeof types / sizeof types[0],
                   "a type for every column");
    if (run->host->report_table(run->report, "specialised budgets",
                                sizeof types / sizeof types[0], names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->delegate_count; i++) {
        const char *code = run->delegates[i].code;
        if (run->org_code[0] != '\0' && strcmp(code, run->org_code) != 0) continue;
        if (delegation_budget_row(run, code) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- contracts without a delegation ---- */

static int delegation_contracts_grow(delegation_run *run) {
    if (run->contract_capacity >= DELEGATION_CONTRACTS_MAX) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "the year has more specialised contracts than the delegation report's "
                       "limit of 100,000");
        return FF_PLUGIN_ERROR;
    }
    size_t capacity =
        run->contract_capacity ? run->contract_capacity * 2 : DELEGATION_CONTRACTS_INITIAL;
    if (capacity > DELEGATION_CONTRACTS_MAX) capacity = DELEGATION_CONTRACTS_MAX;
    delegation_contract *contracts = realloc(run->contracts, capacity * sizeof *contracts);
    if (contracts == NULL) return FF_PLUGIN_ERROR;
    run->contracts = contracts;
    run->contract_capacity = capacity;
    return FF_PLUGIN_OK;
}

static int delegation_contract_collect(void *argument, const ff_plugin_contract *contract) {
    delegation_run *run = argument;
    if (contract->stream != DELEGATION_STREAM_SPECIALISED) return FF_PLUGIN_OK;
    if (run->org_code[0] != '\0' && strcmp(contract->commissioner_code, run->org_code) != 0 &&
        strcmp(contract->provider_code, run->org_code) != 0) {
        return FF_PLUGIN_OK;
    }
    if (run->contract_count == run->contract_capacity &&
        delegation_contracts_grow(run) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    delegation_contract *copy = &run->contracts[run->contract_count];
    memset(copy, 0, sizeof *copy);
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
    copy->value_pence = contract->value_pence;
    run->contract_count++;
    return FF_PLUGIN_OK;
}

/* Marks every collected contract that this delegation covers. */
static int delegation_cover_visit(void *argument, const ff_plugin_delegation *delegation) {
    delegation_run *run = argument;
    for (size_t i = 0; i < run->contract_count; i++) {
        delegation_contract *contract = &run->contracts[i];
        if (contract->covered || strcmp(contract->commissioner_code, delegation->delegate_code)) {
            continue;
        }
        if (delegation_in_force_on(delegation, delegation_year_start(contract->financial_year)) &&
            delegation_listed(delegation->service_line_codes, delegation->service_line_count,
                              contract->service_line_code)) {
            contract->covered = 1;
        }
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

static int delegation_uncovered_row(delegation_run *run, const delegation_contract *contract) {
    const ff_plugin_cell cells[] = {{contract->contract_id, 0},
                                    {contract->commissioner_code, 0},
                                    {contract->provider_code, 0},
                                    {contract->service_line_code, 0},
                                    {NULL, contract->value_pence}};
    if (run->host->report_row(run->report, cells, sizeof cells / sizeof cells[0]) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[DELEGATION_MESSAGE_BYTES_MAX], value[DELEGATION_MONEY_TEXT_BYTES];
    delegation_money_format(contract->value_pence, value, sizeof value);
    snprintf(message, sizeof message,
             "specialised contract %s (%s) names service line \"%s\", but %s held no delegation "
             "of it in force on 1 April %u",
             contract->contract_id, value, contract->service_line_code,
             contract->commissioner_code, contract->financial_year);
    return run->host->report_finding(run->report, FF_PLUGIN_FINDING_FAIL,
                                     contract->commissioner_code, message);
}

static int delegation_uncovered_rows(delegation_run *run) {
    size_t flagged = 0;
    for (size_t i = 0; i < run->contract_count; i++) {
        const delegation_contract *contract = &run->contracts[i];
        if (contract->covered ||
            delegation_commissioner_is_nhse(run, contract->commissioner_code)) {
            continue;
        }
        if (delegation_uncovered_row(run, contract) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
        flagged++;
    }
    if (flagged != 0) return FF_PLUGIN_OK;
    char message[DELEGATION_MESSAGE_BYTES_MAX];
    snprintf(message, sizeof message,
             "every one of the %zu specialised contracts is covered by a delegation",
             run->contract_count);
    return run->host->report_finding(run->report, FF_PLUGIN_FINDING_PASS, run->org_code, message);
}

static int delegation_uncovered_table(delegation_run *run) {
    static const char *const names[] = {"contract", "commissioner", "provider", "service line",
                                        "value"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_MONEY};
    _Static_assert(sizeof names / sizeof names[0] == sizeof types / sizeof types[0],
                   "a type for every column");
    const ff_plugin_host *host = run->host;
    if (host->contracts_each(run->context, run->request->financial_year,
                             delegation_contract_collect, run) != FF_PLUGIN_OK ||
        host->delegations_each(run->context, delegation_cover_visit, run) != FF_PLUGIN_OK ||
        host->report_table(run->report, "specialised contracts without a delegation",
                           sizeof types / sizeof types[0], names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return delegation_uncovered_rows(run);
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
    if (result == FF_PLUGIN_OK) result = delegation_uncovered_table(&run);
    free(run.delegates);
    free(run.contracts);
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
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR,
    .abi_minor = FF_PLUGIN_ABI_MINOR,
    .name = DELEGATION_NAME,
    .version = "1.0.0",
    .description = "Delegated specialised commissioning: the register, each delegate's "
                   "specialised budget against its commitments, and specialised contracts "
                   "whose commissioner held no delegation of the service line on 1 April.",
    .financial_years = delegation_financial_years,
    .financial_year_count =
        sizeof delegation_financial_years / sizeof delegation_financial_years[0],
    .init = delegation_init,
    .fini = delegation_fini,
    .report = delegation_report,
    .veto = NULL,
};

/* Refuses a host whose table is older than this plugin's header, since every function above is
 * called without a further check. */
const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    if (host == NULL || host->abi_major != FF_PLUGIN_ABI_MAJOR ||
        host->size < sizeof(ff_plugin_host)) {
        return NULL;
    }
    /* Checked above: the host is whole, so its money_format is there. */
    delegation_host = host;
    return &delegation_plugin;
}
