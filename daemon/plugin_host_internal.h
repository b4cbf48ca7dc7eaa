/* What the plugin host's files share: the loaded set, a plugin's slot, and the per-call
 * context and report a plugin works through. */
#ifndef FUNDFLOW_PLUGIN_HOST_INTERNAL_H
#define FUNDFLOW_PLUGIN_HOST_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

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
    plugin_slot *slots[PLUGINS_MAX];
    size_t count;
    char *errors[PLUGINS_MAX * 2];
    size_t error_count;
};

/* A read view of the ledger for one report or veto call. */
struct ff_plugin_context {
    ff_plugins *plugins;
    MDB_txn *txn;
    ff_store *store;
    uint64_t as_at_sequence;
};

/* A report being built, straight into the reply message. */
struct ff_plugin_report {
    Fundflow__V1__Report *message;
    bool failed;
};

/* Fills the read and report-builder functions of the host table. */
void plugin_host_reads_fill(ff_plugin_host *host);

/* Summarises an event for plugins; *contract (freed by the caller) holds the contract a
 * variation or payment names, whose parties and stream fill the summary. */
void plugin_command_from(MDB_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                         ff_plugin_command *command, Fundflow__V1__ContractRecord **contract);

/* The ledger veto that asks every plugin with a veto hook. */
ff_err plugin_host_veto(void *argument, MDB_txn *txn, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure);

#endif
