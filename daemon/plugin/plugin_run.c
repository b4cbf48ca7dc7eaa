/* Running plugins: their vetoes on the writer thread, their reports on readers, and the list of
 * what is loaded. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "account.h"
#include "command.h"
#include "log.h"
#include "plugin_events.h"
#include "plugin_host_internal.h"
#include "projection.h"
#include "query_read.h"
#include "fundflow/calendar.h"

/* ---- vetoes ---- */

ff_err plugin_host_veto(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure) {
    ff_plugins *plugins = argument;
    /* A veto sees the ledger as it stood before this event, so the event has a predecessor. */
    assert(record->sequence >= 1 && record->event != NULL);
    pthread_rwlock_rdlock(&plugins->lock);
    ff_plugin_context context = {plugins, txn, ledger_store(plugins->ledger),
                                 record->sequence - 1, NULL, false, FF_OK, NULL, false, 0};
    ff_plugin_command command;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = plugin_command_from(txn, context.store, record, &command, &contract);
    for (size_t i = 0; err == FF_OK && i < plugins->count; i++) {
        plugin_slot *slot = plugins->slots[i];
        if (slot->plugin->veto == NULL) continue;
        context.slot = slot;
        char reason[FF_FAILURE_DETAIL_BYTES - 64] = "";
        if (slot->plugin->veto(slot->state, &context, &command, reason, sizeof reason) ==
            FF_PLUGIN_OK) {
            continue;
        }
        err = failure_set(failure, FF_ERR_VETOED, "event", "plugin %s refused it: %s",
                          slot->plugin->name, reason[0] ? reason : "no reason given");
        snprintf(failure->plugin, sizeof failure->plugin, "%s", slot->plugin->name);
    }
    /* A read that failed under a plugin's veto fails the group, as any storage error does,
     * whatever the plugin answered. */
    if (context.storage_err != FF_OK) err = context.storage_err;
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    pthread_rwlock_unlock(&plugins->lock);
    return err;
}

/* ---- ListPlugins ---- */

static ff_err plugin_info_fill(store_txn *txn, ff_store *store, const plugin_slot *slot,
                               Fundflow__V1__PluginInfo *info) {
    const ff_plugin *plugin = slot->plugin;
    fundflow__v1__plugin_info__init(info);
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", plugin->abi_major, plugin->abi_minor);
    info->name = strdup(plugin->name);
    info->version = strdup(plugin->version ? plugin->version : "");
    info->abi_version = strdup(abi);
    info->description = strdup(plugin->description ? plugin->description : "");
    info->path = strdup(slot->path);
    info->financial_years = calloc(plugin->financial_year_count + 1, sizeof(uint32_t));
    info->hooks = calloc(3, sizeof(char *));
    if (!info->name || !info->version || !info->abi_version || !info->description ||
        !info->path || !info->financial_years || !info->hooks) {
        return FF_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < plugin->financial_year_count; i++) {
        info->financial_years[info->n_financial_years++] = plugin->financial_years[i];
    }
    info->hooks[info->n_hooks++] = strdup("report");
    if (plugin->size > offsetof(ff_plugin, veto) && plugin->veto) {
        info->hooks[info->n_hooks++] = strdup("veto");
    }
    if (plugin_projects(plugin)) {
        info->hooks[info->n_hooks++] = strdup("project");
        info->projection_version = plugin->projection_version;
        uint64_t through = 0;
        ff_err err = plugin_projection_through(txn, store, plugin, &through);
        if (err != FF_OK && err != FF_ERR_NOT_FOUND) return err;
        info->projected_through_sequence = through;
    }
    return FF_OK;
}

/* Fills the ListPlugins answer from one snapshot, under the plugins' lock. */
static ff_err plugins_list_fill(const query_read *read, const void *request,
                                ProtobufCMessage **response_message) {
    const ff_plugins *plugins = request;
    Fundflow__V1__ListPluginsResponse *response =
        (Fundflow__V1__ListPluginsResponse *)*response_message;
    assert(plugins->count <= FF_PLUGINS_MAX && plugins->error_count <= FF_PLUGINS_MAX * 2);
    response->plugins = calloc(plugins->count + 1, sizeof *response->plugins);
    response->load_errors = calloc(plugins->error_count + 1, sizeof *response->load_errors);
    if (response->plugins == NULL || response->load_errors == NULL) return FF_ERR_NO_MEMORY;
    log_head head;
    ff_err err = log_head_read(read->txn, read->store, &head);
    if (err == FF_OK) response->head_sequence = head.sequence;
    for (size_t i = 0; err == FF_OK && i < plugins->count; i++) {
        Fundflow__V1__PluginInfo *info = malloc(sizeof *info);
        if (info == NULL) return FF_ERR_NO_MEMORY;
        response->plugins[response->n_plugins++] = info;
        err = plugin_info_fill(read->txn, read->store, plugins->slots[i], info);
    }
    for (size_t i = 0; err == FF_OK && i < plugins->error_count; i++) {
        response->load_errors[response->n_load_errors] = strdup(plugins->errors[i]);
        if (response->load_errors[response->n_load_errors++] == NULL) err = FF_ERR_NO_MEMORY;
    }
    return err;
}

ff_err plugins_list(ff_plugins *plugins, Fundflow__V1__ListPluginsResponse **response_out) {
    ff_failure failure;
    failure_clear(&failure);
    ProtobufCMessage *response = NULL;
    pthread_rwlock_rdlock(&plugins->lock);
    ff_err err = query_read_run(plugins->ledger, &fundflow__v1__list_plugins_response__descriptor,
                                plugins_list_fill, plugins, "cannot list the plugins", &response,
                                &failure);
    pthread_rwlock_unlock(&plugins->lock);
    if (err == FF_OK) *response_out = (Fundflow__V1__ListPluginsResponse *)response;
    return err;
}

/* ---- RunReport ---- */

static plugin_slot *plugin_find(ff_plugins *plugins, const char *name) {
    for (size_t i = 0; i < plugins->count; i++) {
        if (strcmp(plugins->slots[i]->plugin->name, name) == 0) return plugins->slots[i];
    }
    return NULL;
}

static ff_err plugin_year_check(const ff_plugin *plugin, uint32_t year, ff_failure *failure) {
    char known[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < plugin->financial_year_count; i++) {
        if (plugin->financial_years[i] == year) return FF_OK;
        char text[CALENDAR_YEAR_TEXT_BYTES];
        calendar_year_format(plugin->financial_years[i], text, sizeof text);
        int written = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", text);
        if (written > 0 && (size_t)written < sizeof known - used) used += (size_t)written;
    }
    return failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                       "plugin %s knows the rules of %s only", plugin->name,
                       used ? known : "no year");
}

/* Refuses a report from a plugin whose projected data does not reach the head of the log. */
static ff_err plugin_projection_ready(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                                      uint64_t head_sequence, ff_failure *failure) {
    uint64_t through = 0;
    ff_err err = plugin_projection_through(txn, store, plugin, &through);
    if (err == FF_OK && through == head_sequence) return FF_OK;
    if (err != FF_OK && err != FF_ERR_NOT_FOUND) {
        return failure_set(failure, err, NULL, "cannot read plugin %s's projection", plugin->name);
    }
    return failure_set(failure, FF_ERR_PLUGIN_FAILED, "plugin",
                       "plugin %s's projected data stops at event %llu but the ledger is at %llu; "
                       "see the server log, then reload the plugins to resume it",
                       plugin->name, (unsigned long long)through,
                       (unsigned long long)head_sequence);
}

/* What a report is run for: the loaded set, the plugin asked for, and the request. */
typedef struct plugin_report_job {
    ff_plugins *plugins;
    const plugin_slot *slot;
    const Fundflow__V1__RunReportRequest *request;
    const access_principal *who; /* NULL: no restriction */
} plugin_report_job;

/* A scoped principal's report names an organisation it covers, as at the same view the report
 * reads, and an unknown code is out of scope like another's; anyone else's names a registered
 * organisation, or is not_found naming org_code, rather than a report on nobody. */
static ff_err plugin_report_org_check(const query_read *read, const plugin_report_job *job) {
    if (job->who != NULL && !access_is_national(job->who)) {
        return access_org_check(read->txn, read->store, job->who, job->request->org_code,
                                "org_code", read->failure);
    }
    if (job->request->org_code[0] == '\0') return FF_OK;
    return projection_org_exists(read->txn, read->store, job->request->org_code, "org_code",
                                 read->failure);
}

/* ---- findings the host adds and orders ---- */

/* Looking for an account of one financial year opened by the report's event. */
typedef struct plugin_year_money_scan {
    uint32_t financial_year;
    uint64_t as_at_sequence;
    bool found;
} plugin_year_money_scan;

static ff_err plugin_year_money_row(void *argument, store_slice key, store_slice value,
                                    bool *stop) {
    plugin_year_money_scan *scan = argument;
    account_key account;
    account_record record;
    /* The accounts table holds only fixed-size keys and records. */
    assert(key.bytes == sizeof account && value.bytes == sizeof record);
    memcpy(&account, key.data, sizeof account);
    memcpy(&record, value.data, sizeof record);
    /* BUDGET and RECEIVED alone are not money moved: NHS England's revenue limits post only
     * there, and every other money event also posts to ONWARD, COMMITTED, WITHHELD, PAID or
     * EARNED. Counting them would let a year with only its limits set pass on rows of £0.00. */
    bool moved = account.purpose != ACCOUNT_PURPOSE_BUDGET &&
                 account.purpose != ACCOUNT_PURPOSE_RECEIVED;
    if (moved && account_key_year(&account) == scan->financial_year &&
        record.opened_sequence <= scan->as_at_sequence) {
        scan->found = *stop = true;
    }
    return FF_OK;
}

/* A statements row: org (12) ++ counterparty (12) ++ year (2) ++ month ++ kind, holding the
 * amount and the sequence of the statement that stands, as plugins see it. */
static ff_err plugin_year_statement_row(void *argument, store_slice key, store_slice value,
                                        bool *stop) {
    plugin_year_money_scan *scan = argument;
    const uint8_t *bytes = key.data;
    int64_t stored[2];
    if (key.bytes != 2 * FF_ORG_CODE_BYTES_MAX + 4 || value.bytes != sizeof stored) return FF_OK;
    memcpy(stored, value.data, sizeof stored);
    uint32_t year = ((uint32_t)bytes[2 * FF_ORG_CODE_BYTES_MAX] << 8) |
                    bytes[2 * FF_ORG_CODE_BYTES_MAX + 1];
    if (year == scan->financial_year && (uint64_t)stored[1] <= scan->as_at_sequence) {
        scan->found = *stop = true;
    }
    return FF_OK;
}

/* Whether any event up to as_at_sequence is about money in the financial year: one that posted
 * to an account of the year other than a BUDGET or RECEIVED one (an account is opened by its
 * first posting; NHS England's revenue limits alone are not money moved), or an Agreement of
 * Balances statement for the year. */
static ff_err plugin_year_has_money(const query_read *read, uint32_t financial_year,
                                    uint64_t as_at_sequence, bool *has_money_out) {
    plugin_year_money_scan scan = {financial_year, as_at_sequence, false};
    ff_err err = store_each(read->txn, read->store, STORE_TABLE_ACCOUNTS, QUERY_EVERY_KEY,
                            plugin_year_money_row, &scan);
    if (err == FF_OK && !scan.found) {
        err = store_each(read->txn, read->store, STORE_TABLE_STATEMENTS, QUERY_EVERY_KEY,
                         plugin_year_statement_row, &scan);
    }
    *has_money_out = scan.found;
    return err;
}

/* Keeps only the findings wanted: every one, or all but the passes. */
static void plugin_findings_keep(Fundflow__V1__Report *message, bool passes) {
    size_t kept = 0;
    for (size_t i = 0; i < message->n_findings; i++) {
        Fundflow__V1__ReportFinding *finding = message->findings[i];
        if (passes || finding->level != FUNDFLOW__V1__FINDING_LEVEL__PASS) {
            message->findings[kept++] = finding;
        } else {
            fundflow__v1__report_finding__free_unpacked(finding, NULL);
        }
    }
    message->n_findings = kept;
}

/* A year without money has nothing to judge: a pass on rows of £0.00 would be a clean bill of
 * health for a typo'd year. So the passes go, the warnings and failures stay, and one warning,
 * put first, says why. The tables stay as the plugin built them. */
static ff_err plugin_report_no_money_warn(const plugin_report_job *job, uint64_t as_at_sequence,
                                          Fundflow__V1__Report *message) {
    plugin_findings_keep(message, false);
    Fundflow__V1__ReportFinding *finding = plugin_report_finding_insert(message, 0);
    if (finding == NULL) return FF_ERR_NO_MEMORY;
    char year[CALENDAR_YEAR_TEXT_BYTES], text[FF_FAILURE_DETAIL_BYTES];
    calendar_year_format(job->request->financial_year, year, sizeof year);
    snprintf(text, sizeof text,
             "no money events recorded for %s as at event %llu: there is nothing to judge, so "
             "nothing passes",
             year, (unsigned long long)as_at_sequence);
    finding->level = FUNDFLOW__V1__FINDING_LEVEL__WARN;
    finding->org_code = strdup(job->request->org_code);
    finding->message = strdup(text);
    return finding->org_code && finding->message ? FF_OK : FF_ERR_NO_MEMORY;
}

/* Orders the findings worst first, FAIL, then WARN, then PASS, each level in the order the
 * plugin gave them, so every rendering of the report reads the same. */
static ff_err plugin_findings_order(Fundflow__V1__Report *message) {
    static const Fundflow__V1__FindingLevel worst_first[] = {
        FUNDFLOW__V1__FINDING_LEVEL__FAIL, FUNDFLOW__V1__FINDING_LEVEL__WARN,
        FUNDFLOW__V1__FINDING_LEVEL__PASS};
    if (message->n_findings < 2) return FF_OK;
    Fundflow__V1__ReportFinding **ordered = malloc(message->n_findings * sizeof *ordered);
    if (ordered == NULL) return FF_ERR_NO_MEMORY;
    size_t placed = 0;
    for (size_t level = 0; level < sizeof worst_first / sizeof worst_first[0]; level++) {
        for (size_t i = 0; i < message->n_findings; i++) {
            if (message->findings[i]->level == worst_first[level]) {
                ordered[placed++] = message->findings[i];
            }
        }
    }
    /* The builder accepts only these three levels. */
    assert(placed == message->n_findings);
    memcpy(message->findings, ordered, placed * sizeof *ordered);
    free(ordered);
    return FF_OK;
}

/* What the host does to every report a plugin built: the warning for a year without money, and
 * the order of the findings. */
static ff_err plugin_report_finish(const query_read *read, const plugin_report_job *job,
                                   uint64_t as_at_sequence, Fundflow__V1__Report *message) {
    bool has_money = false;
    ff_err err = plugin_year_has_money(read, job->request->financial_year, as_at_sequence,
                                       &has_money);
    if (err != FF_OK) {
        return failure_set(read->failure, err, NULL, "cannot read the year's accounts");
    }
    if (!has_money) err = plugin_report_no_money_warn(job, as_at_sequence, message);
    return err == FF_OK ? plugin_findings_order(message) : err;
}

/* Runs the plugin's report over one read view of the ledger. */
static ff_err plugin_report_fill(const query_read *read, const void *argument,
                                 ProtobufCMessage **response) {
    const plugin_report_job *job = argument;
    const ff_plugin *plugin = job->slot->plugin;
    Fundflow__V1__Report *message = (Fundflow__V1__Report *)*response;
    message->plugin = strdup(plugin->name);
    message->plugin_version = strdup(plugin->version ? plugin->version : "");
    message->financial_year = job->request->financial_year;
    if (message->plugin == NULL || message->plugin_version == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = plugin_report_org_check(read, job);
    uint64_t as_at_sequence = 0;
    if (err == FF_OK) {
        err = query_as_at_resolve(read, job->request->as_at_sequence, &as_at_sequence);
    }
    if (err != FF_OK) return err;
    log_head head;
    err = log_head_read(read->txn, read->store, &head);
    if (err != FF_OK) return err;
    if (plugin_projects(plugin)) {
        err = plugin_projection_ready(read->txn, read->store, plugin, head.sequence, read->failure);
        if (err != FF_OK) return err;
    }
    ff_plugin_context context = {job->plugins, read->txn, read->store, as_at_sequence,
                                 job->slot, false, FF_OK, NULL, false,
                                 job->request->as_at_date};
    ff_plugin_report report = {message, false};
    ff_plugin_report_request asked = {sizeof asked, FF_PLUGIN_ABI_MAJOR, FF_PLUGIN_ABI_MINOR,
                                      job->request->financial_year, job->request->org_code,
                                      context.as_at_sequence};
    int result = plugin->report(job->slot->state, &context, &asked, &report);
    message->as_at_sequence = context.as_at_sequence;
    if (context.storage_err != FF_OK) {
        return failure_set(read->failure, context.storage_err, NULL,
                           "the ledger could not be read for plugin %s's report", plugin->name);
    }
    if (result != FF_PLUGIN_OK || report.failed) {
        return failure_set(read->failure, FF_ERR_PLUGIN_FAILED, "plugin",
                           "plugin %s could not build its report; see the server log",
                           plugin->name);
    }
    return plugin_report_finish(read, job, context.as_at_sequence, message);
}

ff_err plugins_report_run(ff_plugins *plugins, const access_principal *who,
                          const Fundflow__V1__RunReportRequest *request,
                          Fundflow__V1__Report **report_out, ff_failure *failure) {
    *report_out = NULL;
    if (request->org_code[0] != '\0' && !command_org_code_valid(request->org_code)) {
        return failure_set(failure, FF_ERR_CODE_INVALID, "org_code", "org_code is not a code");
    }
    if (request->as_at_date != 0 && !calendar_date_valid(request->as_at_date)) {
        return failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                           "as_at_date %u is not a real date in YYYYMMDD form",
                           request->as_at_date);
    }
    /* A scoped principal asking for every organisation gets those of its scope. */
    Fundflow__V1__RunReportRequest scoped = *request;
    if (who != NULL && !access_is_national(who) && request->org_code[0] == '\0') {
        scoped.org_code = (char *)who->scope;
    }
    pthread_rwlock_rdlock(&plugins->lock);
    plugin_report_job job = {plugins, plugin_find(plugins, request->plugin), &scoped, who};
    ff_err err = job.slot ? plugin_year_check(job.slot->plugin, request->financial_year, failure)
                          : failure_set(failure, FF_ERR_NOT_FOUND, "plugin",
                                        "no plugin named \"%.64s\" is loaded", request->plugin);
    ProtobufCMessage *message = NULL;
    if (err == FF_OK) {
        err = query_read_run(plugins->ledger, &fundflow__v1__report__descriptor,
                             plugin_report_fill, &job, "cannot read the ledger", &message,
                             failure);
    }
    pthread_rwlock_unlock(&plugins->lock);
    if (err == FF_OK) *report_out = (Fundflow__V1__Report *)message;
    return err;
}
