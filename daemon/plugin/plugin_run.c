/* Running plugins: their vetoes on the writer thread, their reports on readers, and the list of
 * what is loaded. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "command.h"
#include "log.h"
#include "plugin_events.h"
#include "plugin_host_internal.h"
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
                                 record->sequence - 1, NULL, false, FF_OK, NULL, false};
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
 * reads. */
static ff_err plugin_report_scope_check(const query_read *read, const plugin_report_job *job) {
    if (job->who == NULL || access_is_national(job->who)) return FF_OK;
    return access_org_check(read->txn, read->store, job->who, job->request->org_code, "org_code",
                            read->failure);
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
    ff_err err = plugin_report_scope_check(read, job);
    if (err != FF_OK) return err;
    log_head head;
    err = log_head_read(read->txn, read->store, &head);
    if (err != FF_OK) return err;
    if (plugin_projects(plugin)) {
        err = plugin_projection_ready(read->txn, read->store, plugin, head.sequence, read->failure);
        if (err != FF_OK) return err;
    }
    uint64_t asked_sequence = job->request->as_at_sequence;
    ff_plugin_context context = {job->plugins, read->txn, read->store,
                                 asked_sequence != 0 && asked_sequence < head.sequence
                                     ? asked_sequence
                                     : head.sequence,
                                 job->slot, false, FF_OK, NULL, false};
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
    return FF_OK;
}

ff_err plugins_report_run(ff_plugins *plugins, const access_principal *who,
                          const Fundflow__V1__RunReportRequest *request,
                          Fundflow__V1__Report **report_out, ff_failure *failure) {
    *report_out = NULL;
    if (request->org_code[0] != '\0' && !command_org_code_valid(request->org_code)) {
        return failure_set(failure, FF_ERR_CODE_INVALID, "org_code", "org_code is not a code");
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
