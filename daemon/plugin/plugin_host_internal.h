/* What the plugin host's files share: the loaded set, a plugin's slot, and the per-call
 * context and report a plugin works through. */
#ifndef FUNDFLOW_PLUGIN_HOST_INTERNAL_H
#define FUNDFLOW_PLUGIN_HOST_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "plugin_host.h"

typedef struct plugin_slot {
    /* Each plugin gets its own copy of the host table, so the host can tell who is calling. */
    ff_plugin_host host;
    struct ff_plugins *plugins;
    void *handle;
    const ff_plugin *plugin;
    void *state;
    char path[4096];
} plugin_slot;

struct ff_plugins {
    ff_ledger *ledger;
    /* Reports and vetoes hold it shared; loading and unloading hold it alone. */
    pthread_rwlock_t lock;
    char **directories;
    size_t directory_count;
    plugins_setting *settings;
    size_t setting_count;
    plugin_slot *slots[FF_PLUGINS_MAX];
    size_t count;
    char *errors[FF_PLUGINS_MAX * 2];
    size_t error_count;
};

/* A view of the ledger for one report, veto or project call. */
struct ff_plugin_context {
    ff_plugins *plugins;
    store_txn *txn;
    ff_store *store;
    uint64_t as_at_sequence;
    /* The plugin being called, whose namespace data_* functions use. */
    const plugin_slot *slot;
    /* Set for project calls only: data_put and data_delete refuse otherwise. */
    bool writable;
    /* The first storage failure of a data_* call, which outranks whatever the plugin returns. */
    ff_err storage_err;
    /* For a live projection: the event's transaction, in which the first write begins a nested
     * transaction that becomes txn, so a plugin that writes nothing for an event costs none. */
    store_txn *lazy_parent;
    /* Set while data_each walks, when writes are refused: its cursor is on txn. */
    bool walking;
    /* YYYYMMDD, 0 for none: a report as at an effective date (RunReportRequest.as_at_date).
     * Positions, account totals and contracts are read as at it, and statements and events
     * dated after it are left out (plugin_reads.c). */
    uint32_t as_at_date;
};

/* A report being built, straight into the reply message. */
struct ff_plugin_report {
    Fundflow__V1__Report *message;
    bool failed;
};

/* Fills the read and report-builder functions of the host table. */
void plugin_host_reads_fill(ff_plugin_host *host);

/* Makes room for one more finding in message at index (0 to n_findings; the findings from there
 * move down one) and puts there a new, initialised finding, which it returns; NULL when memory
 * runs out, with message as it was. */
Fundflow__V1__ReportFinding *plugin_report_finding_insert(Fundflow__V1__Report *message,
                                                          size_t index);

/* Fills the projected-data functions of the host table. */
void plugin_host_data_fill(ff_plugin_host *host);

/* Whether a plugin has a project hook. */
bool plugin_projects(const ff_plugin *plugin);

/* The event a plugin's projection has reached, if the plugin projects: FF_OK and *through_out
 * when its data is complete for its projection_version, FF_ERR_NOT_FOUND when it has none or
 * holds data of another version. */
ff_err plugin_projection_through(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                                 uint64_t *through_out);

/* The ledger's projection hook that keeps every projecting plugin's data in step. */
ff_err plugin_host_project(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record);

/* Brings every projecting plugin's data up to the head of the log, clearing and replaying it
 * from the first event when its projection_version has changed. Takes the ledger's write lock
 * and then the plugins' lock shared, the writer's order; call it holding neither. */
ff_err plugins_projections_catch_up(ff_plugins *plugins);

/* Errors of the store itself, as opposed to what a plugin asked for not being there: they fail
 * the whole call (and a write group), whatever the plugin makes of them. */
static inline bool plugin_error_is_storage(ff_err err) {
    return store_error_is_failure(err) || err == FF_ERR_LOG_DECODE;
}

/* Keeps the first failure of the store in a plugin call, which outranks whatever the plugin
 * makes of it. */
static inline void plugin_context_storage_failed(ff_plugin_context *context, ff_err err) {
    if (plugin_error_is_storage(err) && context->storage_err == FF_OK) {
        context->storage_err = err;
    }
}

/* The ledger veto that asks every plugin with a veto hook. */
ff_err plugin_host_veto(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure);

#endif
