/* What plugins can read and build: the ledger through a read view, reports, vetoes; and the
 * ListPlugins and RunReport answers. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "log.h"
#include "plugin_events.h"
#include "plugin_host_internal.h"
#include "projection.h"
#include "projection_plan.h"
#include "query.h"
#include "query_position_parts.h"
#include "fundflow/calendar.h"

/* ---- walking a table ---- */

/* What a walk passes each row: the caller's visitor and filter. */
typedef struct plugin_walk {
    /* The plugin's visitor, stored as C's generic function pointer and cast back by the row
     * function to the type it expects. */
    void (*visit)(void);
    void *argument;
    int filter;        /* a kind or a financial year; 0 for none */
} plugin_walk;

typedef int (*plugin_row_visit)(ff_plugin_context *context, store_slice key, store_slice value,
                                const plugin_walk *walk);

/* One table walk in progress: where each row goes, and what the last row answered. */
typedef struct plugin_table_walk_state {
    ff_plugin_context *context;
    plugin_row_visit row;
    const plugin_walk *walk;
    int result;
} plugin_table_walk_state;

/* A read the plugin asked for failed: keeps the first failure of the store itself, which
 * outranks whatever the plugin makes of it, and answers the plugin FF_PLUGIN_ERROR. */
static int plugin_read_failed(ff_plugin_context *context, ff_err err) {
    assert(err != FF_OK);
    plugin_context_storage_failed(context, err);
    return FF_PLUGIN_ERROR;
}

static ff_err plugin_table_row(void *argument, store_slice key, store_slice value, bool *stop) {
    plugin_table_walk_state *state = argument;
    state->result = state->row(state->context, key, value, state->walk);
    *stop = state->result != FF_PLUGIN_OK;
    return FF_OK;
}

/* Hands every row of table to row, in key order, until row returns anything but
 * FF_PLUGIN_OK. A visitor's FF_PLUGIN_STOP ends the walk without error; a table that cannot be
 * read is the plugin's FF_PLUGIN_ERROR. */
static int plugin_table_walk(ff_plugin_context *context, store_table table, plugin_row_visit row,
                             const plugin_walk *walk) {
    plugin_table_walk_state state = {context, row, walk, FF_PLUGIN_OK};
    /* A write inside the walk would begin a nested transaction under the walk's cursor, which
     * LMDB forbids; data_put and data_delete refuse while walking, as inside data_each. */
    bool was_walking = context->walking;
    context->walking = true;
    ff_err err = store_each(context->txn, context->store, table, STORE_SLICE("", 0),
                            plugin_table_row, &state);
    context->walking = was_walking;
    if (err != FF_OK) return plugin_read_failed(context, err);
    return state.result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : state.result;
}

/* ---- organisations ---- */

static int plugin_org_visit(const Fundflow__V1__OrgRecord *record, ff_plugin_org_visitor visit,
                            void *argument) {
    ff_plugin_org org = {
        .size = sizeof org, .abi_major = FF_PLUGIN_ABI_MAJOR, .abi_minor = FF_PLUGIN_ABI_MINOR,
        .code = record->code, .name = record->name, .kind = record->kind,
        .parent_code = record->parent_code, .member_count = record->n_member_codes,
        .member_codes = (const char *const *)record->member_codes,
        .lead_provider_code = record->lead_provider_code};
    return visit(argument, &org);
}

static int plugin_org_row(ff_plugin_context *context, store_slice key, store_slice value,
                          const plugin_walk *walk) {
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_PLUGIN_ERROR;
    /* The orgs table is keyed by code: a record under another key is not the one asked for. */
    assert(strlen(org->code) == key.bytes && memcmp(org->code, key.data, key.bytes) == 0);
    int result = FF_PLUGIN_OK;
    /* An organisation registered after the context's sequence did not exist then. */
    if (org->registered_sequence <= context->as_at_sequence &&
        (walk->filter == 0 || (int)org->kind == walk->filter)) {
        result = plugin_org_visit(org, (ff_plugin_org_visitor)walk->visit, walk->argument);
    }
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return result;
}

static int plugin_orgs_each(ff_plugin_context *context, int kind, ff_plugin_org_visitor visit,
                            void *argument) {
    plugin_walk walk = {(void (*)(void))visit, argument, kind};
    return plugin_table_walk(context, STORE_TABLE_ORGS, plugin_org_row, &walk);
}

static int plugin_org_get(ff_plugin_context *context, const char *code,
                          ff_plugin_org_visitor visit, void *argument) {
    Fundflow__V1__OrgRecord *org = NULL;
    if (code == NULL) return FF_PLUGIN_ERROR;
    ff_err err = projection_org_read(context->txn, context->store, code, &org);
    if (err != FF_OK) return plugin_read_failed(context, err);
    int result = plugin_org_visit(org, visit, argument);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : result;
}

/* ---- as at an effective date ---- */

/* The effective date a read is as at: the earlier of the plugin's own (0: none) and the
 * report's (0: none). */
static uint32_t plugin_read_date(const ff_plugin_context *context, uint32_t asked) {
    if (asked == 0) return context->as_at_date;
    if (context->as_at_date == 0) return asked;
    return asked < context->as_at_date ? asked : context->as_at_date;
}

/* Whether the event at sequence is dated after the report's effective date, so that a report
 * as at a date does not see it. */
static ff_err plugin_event_dated_later(ff_plugin_context *context, uint64_t sequence,
                                       bool *later_out) {
    *later_out = false;
    if (context->as_at_date == 0) return FF_OK;
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = log_read(context->txn, context->store, sequence, &record);
    if (err != FF_OK) return err;
    *later_out = record->effective_date > context->as_at_date;
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return FF_OK;
}

/* Narrows a contract read as at the report's sequence to its effective date, if it has one. A
 * contract agreed after the date is FF_ERR_CONTRACT_UNKNOWN, and freed. */
static ff_err plugin_contract_dated(ff_plugin_context *context,
                                    Fundflow__V1__ContractRecord **contract) {
    if (context->as_at_date == 0) return FF_OK;
    ff_failure ignored;
    ff_err err = query_contract_dated_narrow(context->txn, context->store, *contract,
                                             context->as_at_sequence, context->as_at_date,
                                             &ignored);
    if (err != FF_OK) {
        fundflow__v1__contract_record__free_unpacked(*contract, NULL);
        *contract = NULL;
    }
    return err;
}

/* ---- positions ---- */

static int plugin_position_get(ff_plugin_context *context, const char *org_code, int stream,
                               uint32_t financial_year, uint32_t as_at_date,
                               ff_plugin_position *out) {
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    out->abi_major = FF_PLUGIN_ABI_MAJOR;
    out->abi_minor = FF_PLUGIN_ABI_MINOR;
    if (org_code == NULL || !command_org_code_valid(org_code)) return FF_PLUGIN_ERROR;
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)org_code;
    get.stream = (Fundflow__V1__Stream)stream;
    get.financial_year = financial_year;
    get.as_at_sequence = context->as_at_sequence;
    as_at_date = plugin_read_date(context, as_at_date);
    get.as_at_date = as_at_date;
    Fundflow__V1__Position position = FUNDFLOW__V1__POSITION__INIT;
    position.org_code = (char *)org_code;
    position.stream = get.stream;
    position.financial_year = financial_year;
    position.as_at_date = as_at_date;
    ff_failure failure;
    failure_clear(&failure);
    ff_err err = query_position_read(context->txn, context->store, &get, &position, &failure);
    for (size_t i = 0; i < position.n_included_codes; i++) free(position.included_codes[i]);
    free(position.included_codes);
    if (err != FF_OK) return plugin_read_failed(context, err);
    *out = (ff_plugin_position){
        .size = sizeof *out, .abi_major = FF_PLUGIN_ABI_MAJOR, .abi_minor = FF_PLUGIN_ABI_MINOR,
        .as_at_sequence = position.as_at_sequence,
        .received_pence = position.received_pence, .passed_on_pence = position.passed_on_pence,
        .committed_pence = position.committed_pence, .paid_pence = position.paid_pence,
        .withheld_pence = position.withheld_pence, .earned_pence = position.earned_pence,
        .released_pence = position.released_pence, .headroom_pence = position.headroom_pence};
    return FF_PLUGIN_OK;
}

/* ---- contracts ---- */

static int plugin_contract_visit(const Fundflow__V1__ContractRecord *record,
                                 ff_plugin_contract_visitor visit, void *argument) {
    ff_plugin_metric metrics[FF_METRICS_MAX];
    size_t metric_count = record->n_metrics < FF_METRICS_MAX ? record->n_metrics : FF_METRICS_MAX;
    for (size_t i = 0; i < metric_count; i++) {
        const Fundflow__V1__MetricState *metric = record->metrics[i];
        metrics[i] = (ff_plugin_metric){metric->code, metric->weight_bp, metric->share_pence,
                                        metric->reported, metric->achievement_bp,
                                        metric->earned_pence, metric->released_pence};
    }
    ff_plugin_contract contract = {
        .size = sizeof contract, .abi_major = FF_PLUGIN_ABI_MAJOR,
        .abi_minor = FF_PLUGIN_ABI_MINOR, .contract_id = record->contract_id,
        .commissioner_code = record->commissioner_code, .provider_code = record->provider_code,
        .type = record->type, .financial_year = record->financial_year, .stream = record->stream,
        .service_category = record->service_category,
        .service_line_code = record->service_line_code, .value_pence = record->value_pence,
        .fixed_value_pence = record->fixed_value_pence,
        .withheld_pot_pence = record->withheld_pot_pence, .paid_pence = record->paid_pence,
        .earned_pence = record->earned_pence, .released_pence = record->released_pence,
        .metric_count = metric_count, .metrics = metrics};
    for (size_t month = 0; month < 12 && month < record->n_paid_by_month_pence; month++) {
        contract.paid_by_month_pence[month] = record->paid_by_month_pence[month];
    }
    return visit(argument, &contract);
}

static int plugin_contract_row(ff_plugin_context *context, store_slice key, store_slice value,
                               const plugin_walk *walk) {
    (void)value;
    char id[FF_IDENTIFIER_BYTES_MAX + 1];
    if (key.bytes > FF_IDENTIFIER_BYTES_MAX) return FF_PLUGIN_OK;
    memcpy(id, key.data, key.bytes);
    id[key.bytes] = '\0';
    /* As at the report's sequence (and date): a contract agreed later is left out, but one that
     * cannot be read fails the walk rather than vanish from the report. */
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(context->txn, context->store, id,
                                          context->as_at_sequence, &contract);
    if (err == FF_OK) err = plugin_contract_dated(context, &contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_PLUGIN_OK;
    if (err != FF_OK) return plugin_read_failed(context, err);
    int result = FF_PLUGIN_OK;
    if (walk->filter == 0 || contract->financial_year == (uint32_t)walk->filter) {
        result = plugin_contract_visit(contract, (ff_plugin_contract_visitor)walk->visit,
                                       walk->argument);
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return result;
}

static int plugin_contracts_each(ff_plugin_context *context, uint32_t financial_year,
                                 ff_plugin_contract_visitor visit, void *argument) {
    plugin_walk walk = {(void (*)(void))visit, argument, (int)financial_year};
    return plugin_table_walk(context, STORE_TABLE_CONTRACTS, plugin_contract_row, &walk);
}

/* ---- statements and delegations ---- */

static int plugin_statement_row(ff_plugin_context *context, store_slice key, store_slice value,
                                const plugin_walk *walk) {
    const uint8_t *bytes = key.data;
    int64_t stored[2];
    if (key.bytes != 2 * FF_ORG_CODE_BYTES_MAX + 4 || value.bytes != sizeof stored) {
        return FF_PLUGIN_OK;
    }
    memcpy(stored, value.data, sizeof stored);
    uint32_t year = ((uint32_t)bytes[24] << 8) | bytes[25];
    if ((walk->filter != 0 && year != (uint32_t)walk->filter) ||
        (uint64_t)stored[1] > context->as_at_sequence) {
        return FF_PLUGIN_OK;
    }
    bool later = false;
    ff_err err = plugin_event_dated_later(context, (uint64_t)stored[1], &later);
    if (err != FF_OK) return plugin_read_failed(context, err);
    if (later) return FF_PLUGIN_OK;
    char org[FF_ORG_CODE_BYTES_MAX + 1], counterparty[FF_ORG_CODE_BYTES_MAX + 1];
    projection_code_unpad(bytes, org);
    projection_code_unpad(bytes + FF_ORG_CODE_BYTES_MAX, counterparty);
    ff_plugin_statement statement = {.size = sizeof statement, .abi_major = FF_PLUGIN_ABI_MAJOR,
                                     .abi_minor = FF_PLUGIN_ABI_MINOR, .org_code = org,
                                     .counterparty_code = counterparty, .financial_year = year,
                                     .month = bytes[26], .kind = bytes[27],
                                     .amount_pence = stored[0], .sequence = (uint64_t)stored[1]};
    return ((ff_plugin_statement_visitor)walk->visit)(walk->argument, &statement);
}

static int plugin_statements_each(ff_plugin_context *context, uint32_t financial_year,
                                  ff_plugin_statement_visitor visit, void *argument) {
    plugin_walk walk = {(void (*)(void))visit, argument, (int)financial_year};
    return plugin_table_walk(context, STORE_TABLE_STATEMENTS, plugin_statement_row, &walk);
}

/* The end date a delegation had as at a sequence: the last one set by then. */
static uint32_t plugin_delegation_end_at(const Fundflow__V1__DelegationRecord *record,
                                         uint64_t as_at_sequence) {
    uint32_t effective_to = record->effective_to;
    for (size_t i = 0; i < record->n_ends; i++) {
        if (record->ends[i]->sequence <= as_at_sequence) {
            effective_to = record->ends[i]->effective_to;
        }
    }
    return effective_to;
}

static int plugin_delegation_row(ff_plugin_context *context, store_slice key, store_slice value,
                                 const plugin_walk *walk) {
    Fundflow__V1__DelegationRecord *record =
        fundflow__v1__delegation_record__unpack(NULL, value.bytes, value.data);
    if (record == NULL) return FF_PLUGIN_ERROR;
    /* The register is keyed by delegation id. */
    assert(strlen(record->delegation_id) == key.bytes &&
           memcmp(record->delegation_id, key.data, key.bytes) == 0);
    ff_plugin_delegation delegation = {
            .size = sizeof delegation, .abi_major = FF_PLUGIN_ABI_MAJOR,
            .abi_minor = FF_PLUGIN_ABI_MINOR, .delegation_id = record->delegation_id,
            .delegate_code = record->delegate_code,
            .service_line_count = record->n_service_line_codes,
            .service_line_codes = (const char *const *)record->service_line_codes,
            .population_count = record->n_population_codes,
            .population_codes = (const char *const *)record->population_codes,
            .mode = record->mode, .effective_from = record->effective_from,
            .effective_to = plugin_delegation_end_at(record, context->as_at_sequence)};
    int result = FF_PLUGIN_OK;
    if (record->granted_sequence <= context->as_at_sequence) {
        result = ((ff_plugin_delegation_visitor)walk->visit)(walk->argument, &delegation);
    }
    fundflow__v1__delegation_record__free_unpacked(record, NULL);
    return result;
}

static int plugin_delegations_each(ff_plugin_context *context,
                                   ff_plugin_delegation_visitor visit, void *argument) {
    plugin_walk walk = {(void (*)(void))visit, argument, 0};
    return plugin_table_walk(context, STORE_TABLE_DELEGATIONS, plugin_delegation_row, &walk);
}

/* ---- the report builder ---- */

static Fundflow__V1__ReportTable *plugin_report_current(ff_plugin_report *report) {
    Fundflow__V1__Report *message = report->message;
    return message->n_tables ? message->tables[message->n_tables - 1] : NULL;
}

static int plugin_report_table(ff_plugin_report *report, const char *name, size_t column_count,
                               const char *const *column_names, const int *column_types) {
    Fundflow__V1__Report *message = report->message;
    if (column_count == 0 || column_count > FF_PLUGIN_REPORT_COLUMNS_MAX || name == NULL) {
        return FF_PLUGIN_ERROR;
    }
    Fundflow__V1__ReportTable **tables = realloc(message->tables,
                                                 (message->n_tables + 1) * sizeof *tables);
    Fundflow__V1__ReportTable *table = calloc(1, sizeof *table);
    if (tables) message->tables = tables;
    if (tables == NULL || table == NULL) goto fail;
    fundflow__v1__report_table__init(table);
    message->tables[message->n_tables++] = table;
    table->name = strdup(name);
    table->columns = calloc(column_count, sizeof *table->columns);
    if (table->name == NULL || table->columns == NULL) goto fail;
    for (size_t i = 0; i < column_count; i++) {
        Fundflow__V1__ReportColumn *column = malloc(sizeof *column);
        if (column == NULL) goto fail;
        fundflow__v1__report_column__init(column);
        table->columns[table->n_columns++] = column;
        column->name = strdup(column_names[i] ? column_names[i] : "");
        column->type = (Fundflow__V1__ColumnType)column_types[i];
        if (column->name == NULL || column_types[i] < FF_PLUGIN_COLUMN_TEXT ||
            column_types[i] > FF_PLUGIN_COLUMN_DATE) {
            goto fail;
        }
    }
    return FF_PLUGIN_OK;
fail:
    if (table && (tables == NULL)) free(table);
    report->failed = true;
    return FF_PLUGIN_ERROR;
}


static int plugin_report_row(ff_plugin_report *report, const ff_plugin_cell *cells,
                             size_t cell_count) {
    Fundflow__V1__ReportTable *table = plugin_report_current(report);
    if (table == NULL || cell_count != table->n_columns ||
        table->n_rows >= FF_PLUGIN_REPORT_ROWS_MAX) {
        report->failed = true;
        return FF_PLUGIN_ERROR;
    }
    Fundflow__V1__ReportRow **rows = realloc(table->rows, (table->n_rows + 1) * sizeof *rows);
    Fundflow__V1__ReportRow *row = calloc(1, sizeof *row);
    if (rows) table->rows = rows;
    if (rows == NULL || row == NULL) {
        free(row);
        report->failed = true;
        return FF_PLUGIN_ERROR;
    }
    fundflow__v1__report_row__init(row);
    table->rows[table->n_rows++] = row;
    row->cells = calloc(cell_count, sizeof *row->cells);
    for (size_t i = 0; row->cells && i < cell_count; i++) {
        Fundflow__V1__ReportCell *cell = malloc(sizeof *cell);
        if (cell == NULL) break;
        fundflow__v1__report_cell__init(cell);
        row->cells[row->n_cells++] = cell;
        bool text = table->columns[i]->type == FUNDFLOW__V1__COLUMN_TYPE__TEXT;
        if (text) cell->text = strdup(cells[i].text ? cells[i].text : "");
        cell->number = text ? 0 : cells[i].number;
    }
    if (row->n_cells != cell_count) report->failed = true;
    return report->failed ? FF_PLUGIN_ERROR : FF_PLUGIN_OK;
}

Fundflow__V1__ReportFinding *plugin_report_finding_insert(Fundflow__V1__Report *message,
                                                          size_t index) {
    assert(index <= message->n_findings);
    Fundflow__V1__ReportFinding **findings =
        realloc(message->findings, (message->n_findings + 1) * sizeof *findings);
    Fundflow__V1__ReportFinding *finding = malloc(sizeof *finding);
    if (findings) message->findings = findings;
    if (findings == NULL || finding == NULL) {
        free(finding);
        return NULL;
    }
    fundflow__v1__report_finding__init(finding);
    memmove(message->findings + index + 1, message->findings + index,
            (message->n_findings - index) * sizeof *message->findings);
    message->findings[index] = finding;
    message->n_findings++;
    return finding;
}

static int plugin_report_finding(ff_plugin_report *report, int level, const char *org_code,
                                 const char *message_text) {
    Fundflow__V1__Report *message = report->message;
    if (level < FF_PLUGIN_FINDING_PASS || level > FF_PLUGIN_FINDING_FAIL ||
        message->n_findings >= FF_PLUGIN_REPORT_ROWS_MAX) {
        report->failed = true;
        return FF_PLUGIN_ERROR;
    }
    Fundflow__V1__ReportFinding *finding =
        plugin_report_finding_insert(message, message->n_findings);
    if (finding == NULL) {
        report->failed = true;
        return FF_PLUGIN_ERROR;
    }
    finding->level = (Fundflow__V1__FindingLevel)level;
    finding->org_code = strdup(org_code ? org_code : "");
    finding->message = strdup(message_text ? message_text : "");
    return FF_PLUGIN_OK;
}

/* ---- added in ABI 1.1 ---- */

static int plugin_events_each(ff_plugin_context *context, uint64_t after_sequence,
                              ff_plugin_event_visitor visit, void *argument) {
    int result = FF_PLUGIN_OK;
    for (uint64_t sequence = after_sequence + 1;
         result == FF_PLUGIN_OK && sequence <= context->as_at_sequence; sequence++) {
        Fundflow__V1__EventRecord *record = NULL;
        ff_err err = log_read(context->txn, context->store, sequence, &record);
        if (err != FF_OK) return plugin_read_failed(context, err);
        /* As at a date, events dated after it are not handed over. */
        if (context->as_at_date == 0 || record->effective_date <= context->as_at_date) {
            result = plugin_event_deliver(context, record, visit, argument);
        }
        fundflow__v1__event_record__free_unpacked(record, NULL);
    }
    return result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : result;
}

static int plugin_contract_get(ff_plugin_context *context, const char *contract_id,
                               ff_plugin_contract_visitor visit, void *argument) {
    Fundflow__V1__ContractRecord *contract = NULL;
    if (contract_id == NULL) return FF_PLUGIN_ERROR;
    ff_err err = projection_contract_read(context->txn, context->store, contract_id,
                                          context->as_at_sequence, &contract);
    if (err == FF_OK) err = plugin_contract_dated(context, &contract);
    if (err != FF_OK) return plugin_read_failed(context, err);
    int result = plugin_contract_visit(contract, visit, argument);
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : result;
}

static int plugin_account_get(ff_plugin_context *context, const char *org_code, int stream,
                              uint32_t financial_year, int purpose, uint32_t as_at_date,
                              ff_plugin_account *out) {
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    out->abi_major = FF_PLUGIN_ABI_MAJOR;
    out->abi_minor = FF_PLUGIN_ABI_MINOR;
    if (org_code == NULL || !command_org_code_valid(org_code) || stream < 1 || stream > 255 ||
        purpose < ACCOUNT_PURPOSE_FUNDING || purpose > ACCOUNT_PURPOSE_LAST ||
        financial_year > UINT16_MAX) {
        return FF_PLUGIN_ERROR;
    }
    account_key key;
    account_balance balance;
    account_key_make(&key, org_code, financial_year, (uint32_t)stream, (account_purpose)purpose);
    as_at_date = plugin_read_date(context, as_at_date);
    ff_err err = as_at_date != 0
                     ? account_balance_read_by_date(context->txn, context->store, &key,
                                                    context->as_at_sequence, as_at_date, &balance)
                     : account_balance_read_at(context->txn, context->store, &key,
                                               context->as_at_sequence, &balance);
    if (err == FF_OK) err = account_balance_net(&key, &balance, &out->balance_pence);
    if (err != FF_OK) return plugin_read_failed(context, err);
    out->debits_pence = balance.debits_posted_pence;
    out->credits_pence = balance.credits_posted_pence;
    out->posting_count = balance.posting_count;
    out->last_sequence = balance.last_sequence;
    return FF_PLUGIN_OK;
}

/* ---- plans ---- */

static int plugin_plan_get(ff_plugin_context *context, const char *org_code, int stream,
                           uint32_t financial_year, int64_t months_pence[12], int *found) {
    if (months_pence == NULL || found == NULL) return FF_PLUGIN_ERROR;
    memset(months_pence, 0, FF_MONTHS_PER_YEAR * sizeof *months_pence);
    *found = 0;
    if (org_code == NULL || !command_org_code_valid(org_code) || stream < 1 || stream > 255 ||
        financial_year > UINT16_MAX) {
        return FF_PLUGIN_ERROR;
    }
    Fundflow__V1__PlanRecord *plan = NULL;
    ff_err err = query_plan_read_dated(context->txn, context->store, org_code, financial_year,
                                       (uint32_t)stream, context->as_at_sequence,
                                       context->as_at_date, &plan);
    if (err == FF_ERR_NOT_FOUND) return FF_PLUGIN_OK;
    if (err != FF_OK) return plugin_read_failed(context, err);
    assert(plan->n_month_amounts_pence == FF_MONTHS_PER_YEAR);
    for (size_t month = 0; month < FF_MONTHS_PER_YEAR; month++) {
        months_pence[month] = plan->month_amounts_pence[month];
    }
    *found = 1;
    fundflow__v1__plan_record__free_unpacked(plan, NULL);
    return FF_PLUGIN_OK;
}

void plugin_host_reads_fill(ff_plugin_host *host) {
    host->orgs_each = plugin_orgs_each;
    host->org_get = plugin_org_get;
    host->position_get = plugin_position_get;
    host->contracts_each = plugin_contracts_each;
    host->statements_each = plugin_statements_each;
    host->delegations_each = plugin_delegations_each;
    host->report_table = plugin_report_table;
    host->report_row = plugin_report_row;
    host->report_finding = plugin_report_finding;
    host->events_each = plugin_events_each;
    host->contract_get = plugin_contract_get;
    host->account_get = plugin_account_get;
    host->plan_get = plugin_plan_get;
}
