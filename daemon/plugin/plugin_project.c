/* Plugins' projections: the data each plugin keeps in a namespace of its own, written by its
 * project hook inside the transaction of every event, and replayed from the log when a plugin is
 * loaded behind it.
 *
 * A plugin's rows live in the plugin_data table under its name, a zero byte and its own key. Its
 * mark in plugin_marks records the projection_version the data was written with and the last
 * event it holds. The mark is written in the same transaction as the data, so the two always
 * agree: the writer projects an event only for a plugin whose mark is at the event before it,
 * and a plugin that fails or is loaded late stays behind until a catch-up brings it to the head.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logline.h"
#include "plugin_events.h"
#include "plugin_host_internal.h"

/* A plugin's mark, stored as these bytes under its name. */
typedef struct plugin_projection_mark {
    uint32_t projection_version;
    uint32_t reserved;                  /* zero */
    uint64_t through_sequence;
} plugin_projection_mark;
static_assert(sizeof(plugin_projection_mark) == 16, "marks are stored");

/* The longest namespaced key: a name, its zero byte and the plugin's own key. */
#define PLUGIN_DATA_STORED_KEY_BYTES (FF_PLUGIN_NAME_BYTES_MAX + 1 + FF_PLUGIN_DATA_KEY_BYTES_MAX)

bool plugin_projects(const ff_plugin *plugin) {
    return plugin->size >= offsetof(ff_plugin, projection_version) + sizeof(uint32_t) &&
           plugin->project != NULL;
}

/* ---- keys ---- */

/* Writes the plugin's name and a zero byte, then key, into stored; returns the length. */
static size_t plugin_data_key_make(const plugin_slot *slot, const void *key, size_t key_bytes,
                                   uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES]) {
    size_t name_bytes = strlen(slot->plugin->name);
    assert(key_bytes <= FF_PLUGIN_DATA_KEY_BYTES_MAX && name_bytes <= FF_PLUGIN_NAME_BYTES_MAX);
    memcpy(stored, slot->plugin->name, name_bytes);
    stored[name_bytes] = 0;
    if (key_bytes > 0) memcpy(stored + name_bytes + 1, key, key_bytes);
    return name_bytes + 1 + key_bytes;
}

static bool plugin_key_has_prefix(store_slice key, store_slice prefix) {
    return key.bytes >= prefix.bytes && memcmp(key.data, prefix.data, prefix.bytes) == 0;
}

static int plugin_data_refuse(ff_plugin_context *context, const char *message) {
    context->slot->host.log(&context->slot->host, FF_PLUGIN_LOG_ERROR, message);
    return FF_PLUGIN_ERROR;
}

/* Keeps the first storage failure, which outranks whatever the plugin makes of it. */
static int plugin_data_storage_failed(ff_plugin_context *context, ff_err err) {
    /* Only the store's own calls come here, so every error is one of its failures. */
    assert(plugin_error_is_storage(err));
    plugin_context_storage_failed(context, err);
    char message[96];
    snprintf(message, sizeof message, "the plugin data table failed: %s", ff_err_name(err));
    return plugin_data_refuse(context, message);
}

/* ---- the host's data functions ---- */

/* Checks a plugin's key (or, with empty_allowed, a prefix) and writes it with the plugin's
 * namespace into stored and stored_key; logs why, naming function, and returns false if it is
 * missing, empty where it may not be, or too long. */
static bool plugin_data_key(ff_plugin_context *context, const char *function, const void *key,
                            size_t key_bytes, bool empty_allowed,
                            uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES],
                            store_slice *stored_key) {
    if ((key == NULL && key_bytes != 0) || (key_bytes == 0 && !empty_allowed) ||
        key_bytes > FF_PLUGIN_DATA_KEY_BYTES_MAX) {
        char message[128];
        snprintf(message, sizeof message, "%s: the %s must be %s256 bytes", function,
                 empty_allowed ? "prefix" : "key", empty_allowed ? "at most " : "1 to ");
        plugin_data_refuse(context, message);
        return false;
    }
    *stored_key = STORE_SLICE(stored, plugin_data_key_make(context->slot, key, key_bytes, stored));
    return true;
}

/* Readies context for a write: refuses one outside project or inside a walk, and in a live
 * projection begins the nested transaction at the first write. */
static int plugin_data_writable(ff_plugin_context *context, const char *function) {
    char message[128];
    if (!context->writable || context->walking) {
        snprintf(message, sizeof message, "%s works in project only, and not inside data_each",
                 function);
        return plugin_data_refuse(context, message);
    }
    if (context->lazy_parent == NULL) return FF_PLUGIN_OK;
    store_txn *child = NULL;
    ff_err err = store_txn_begin(context->store, context->lazy_parent, STORE_TXN_WRITE, &child);
    if (err != FF_OK) {
        plugin_context_storage_failed(context, err);
        return plugin_data_refuse(context, "cannot begin the projection's transaction");
    }
    context->txn = child;
    context->lazy_parent = NULL;
    return FF_PLUGIN_OK;
}

static int plugin_data_put(ff_plugin_context *context, const void *key, size_t key_bytes,
                           const void *value, size_t value_bytes) {
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    store_slice stored_key;
    if (!plugin_data_key(context, "data_put", key, key_bytes, false, stored, &stored_key)) {
        return FF_PLUGIN_ERROR;
    }
    if (value_bytes > FF_PLUGIN_DATA_VALUE_BYTES_MAX || (value == NULL && value_bytes != 0)) {
        return plugin_data_refuse(context, "data_put: the value must be at most 65,536 bytes");
    }
    if (plugin_data_writable(context, "data_put") != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    ff_err err = store_put(context->txn, context->store, STORE_TABLE_PLUGIN_DATA, stored_key,
                           STORE_SLICE(value ? value : "", value_bytes), STORE_PUT_REPLACE);
    return err == FF_OK ? FF_PLUGIN_OK : plugin_data_storage_failed(context, err);
}

static int plugin_data_get(ff_plugin_context *context, const void *key, size_t key_bytes,
                           void *value, size_t value_bytes, size_t *found_bytes) {
    if (found_bytes) *found_bytes = 0;
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    store_slice stored_key, stored_value;
    if (!plugin_data_key(context, "data_get", key, key_bytes, false, stored, &stored_key)) {
        return FF_PLUGIN_ERROR;
    }
    if (value == NULL && value_bytes != 0) {
        return plugin_data_refuse(context, "data_get: no buffer for the value");
    }
    ff_err err = store_get(context->txn, context->store, STORE_TABLE_PLUGIN_DATA, stored_key,
                           &stored_value);
    if (err == FF_ERR_NOT_FOUND) return FF_PLUGIN_NOT_FOUND;
    if (err != FF_OK) return plugin_data_storage_failed(context, err);
    /* Only data_put writes this namespace, and it refuses values past the limit. */
    assert(stored_value.bytes <= FF_PLUGIN_DATA_VALUE_BYTES_MAX);
    size_t copied = stored_value.bytes < value_bytes ? stored_value.bytes : value_bytes;
    if (copied > 0) memcpy(value, stored_value.data, copied);
    if (found_bytes) *found_bytes = stored_value.bytes;
    return FF_PLUGIN_OK;
}

static int plugin_data_delete(ff_plugin_context *context, const void *key, size_t key_bytes) {
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    store_slice stored_key;
    if (!plugin_data_key(context, "data_delete", key, key_bytes, false, stored, &stored_key) ||
        plugin_data_writable(context, "data_delete") != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    ff_err err = store_delete(context->txn, context->store, STORE_TABLE_PLUGIN_DATA, stored_key);
    if (err == FF_OK || err == FF_ERR_NOT_FOUND) return FF_PLUGIN_OK;
    return plugin_data_storage_failed(context, err);
}

/* A data_each walk: the plugin's visitor, what it is given, and what it last answered. */
typedef struct plugin_data_walk {
    ff_plugin_data_visitor visit;
    void *argument;
    size_t namespace_bytes; /* the name and zero byte that start every stored key */
    int result;
} plugin_data_walk;

static ff_err plugin_data_row(void *argument, store_slice key, store_slice value, bool *stop) {
    plugin_data_walk *walk = argument;
    /* store_each hands out only keys that start with the namespaced prefix. */
    assert(key.bytes >= walk->namespace_bytes);
    assert(value.bytes <= FF_PLUGIN_DATA_VALUE_BYTES_MAX);
    walk->result = walk->visit(walk->argument, (const uint8_t *)key.data + walk->namespace_bytes,
                               key.bytes - walk->namespace_bytes, value.data, value.bytes);
    *stop = walk->result != FF_PLUGIN_OK;
    return FF_OK;
}

static int plugin_data_each(ff_plugin_context *context, const void *prefix, size_t prefix_bytes,
                            ff_plugin_data_visitor visit, void *argument) {
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    store_slice stored_prefix;
    if (!plugin_data_key(context, "data_each", prefix, prefix_bytes, true, stored,
                         &stored_prefix)) {
        return FF_PLUGIN_ERROR;
    }
    if (visit == NULL) return plugin_data_refuse(context, "data_each: no visitor");
    plugin_data_walk walk = {visit, argument, stored_prefix.bytes - prefix_bytes, FF_PLUGIN_OK};
    bool was_walking = context->walking;
    context->walking = true;
    ff_err err = store_each(context->txn, context->store, STORE_TABLE_PLUGIN_DATA, stored_prefix,
                            plugin_data_row, &walk);
    context->walking = was_walking;
    if (err != FF_OK) return plugin_data_storage_failed(context, err);
    return walk.result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : walk.result;
}

void plugin_host_data_fill(ff_plugin_host *host) {
    host->data_put = plugin_data_put;
    host->data_get = plugin_data_get;
    host->data_delete = plugin_data_delete;
    host->data_each = plugin_data_each;
}

/* ---- marks ---- */

static ff_err plugin_mark_read(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                               plugin_projection_mark *mark_out) {
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_PLUGIN_MARKS,
                           STORE_SLICE(plugin->name, strlen(plugin->name)), &value);
    /* A mark of another size is not one this host wrote: treat the data as absent. */
    if (err == FF_OK && value.bytes != sizeof *mark_out) return FF_ERR_NOT_FOUND;
    if (err != FF_OK) return err;
    memcpy(mark_out, value.data, sizeof *mark_out);
    assert(mark_out->reserved == 0);
    return FF_OK;
}

static ff_err plugin_mark_write(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                                uint64_t through_sequence) {
    plugin_projection_mark mark = {plugin->projection_version, 0, through_sequence};
    return store_put(txn, store, STORE_TABLE_PLUGIN_MARKS,
                     STORE_SLICE(plugin->name, strlen(plugin->name)),
                     STORE_SLICE(&mark, sizeof mark), STORE_PUT_REPLACE);
}

ff_err plugin_projection_through(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                                 uint64_t *through_out) {
    plugin_projection_mark mark;
    ff_err err = plugin_mark_read(txn, store, plugin, &mark);
    if (err == FF_OK && mark.projection_version != plugin->projection_version) {
        err = FF_ERR_NOT_FOUND;
    }
    if (err == FF_OK) *through_out = mark.through_sequence;
    return err;
}

/* ---- projecting events ---- */

static int plugin_project_visit(void *argument, const ff_plugin_event *event) {
    ff_plugin_context *context = argument;
    const plugin_slot *slot = context->slot;
    return slot->plugin->project(slot->state, context, event);
}

/* Calls the plugin's project hook through a prepared context. Returns FF_OK, a storage error, or
 * FF_ERR_PLUGIN_FAILED when the plugin itself failed. */
static ff_err plugin_project_call(ff_plugin_context *context,
                                  const Fundflow__V1__EventRecord *record) {
    int result = plugin_event_deliver(context, record, plugin_project_visit, context);
    if (context->storage_err != FF_OK) return context->storage_err;
    return result == FF_PLUGIN_OK ? FF_OK : FF_ERR_PLUGIN_FAILED;
}

static void plugin_projection_stopped(const plugin_slot *slot, uint64_t sequence) {
    logline_write("level=error msg=\"plugin projection stopped\" plugin=%s sequence=%llu "
                  "reason=\"its project hook failed on this event; the event is recorded, the "
                  "plugin's reports are refused until it is reloaded\"",
                  slot->plugin->name, (unsigned long long)sequence);
}

/* Runs one plugin's project hook for a new event, if its data is at the event before. Its writes
 * go to a nested transaction begun at its first write, kept only if the hook succeeds. */
static ff_err plugin_project_live(ff_plugins *plugins, const plugin_slot *slot, store_txn *txn,
                                  const Fundflow__V1__EventRecord *record) {
    ff_store *store = ledger_store(plugins->ledger);
    uint64_t through = 0;
    ff_err err = plugin_projection_through(txn, store, slot->plugin, &through);
    if (err == FF_ERR_NOT_FOUND || (err == FF_OK && through + 1 != record->sequence)) {
        return FF_OK; /* behind: a catch-up brings it forward */
    }
    if (err != FF_OK) return err;
    ff_plugin_context context = {plugins, txn, store, record->sequence, slot, true, FF_OK, txn,
                                 false, 0};
    err = plugin_project_call(&context, record);
    store_txn *child = context.txn != txn ? context.txn : NULL;
    if (child != NULL && err == FF_OK) err = store_txn_commit(child);
    else if (child != NULL) store_txn_abort(child);
    if (err == FF_OK) return plugin_mark_write(txn, store, slot->plugin, record->sequence);
    if (plugin_error_is_storage(err)) return err;
    plugin_projection_stopped(slot, record->sequence);
    return FF_OK;
}

ff_err plugin_host_project(void *argument, store_txn *txn,
                           const Fundflow__V1__EventRecord *record) {
    ff_plugins *plugins = argument;
    assert(txn != NULL && record->sequence >= 1);
    pthread_rwlock_rdlock(&plugins->lock);
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < plugins->count; i++) {
        const plugin_slot *slot = plugins->slots[i];
        if (plugin_projects(slot->plugin)) err = plugin_project_live(plugins, slot, txn, record);
    }
    pthread_rwlock_unlock(&plugins->lock);
    return err;
}

/* ---- catching up ---- */

/* Removes every row of one plugin's namespace. Each row is found by seeking the namespace
 * afresh, so the walk never depends on where a cursor stands after a delete. */
static ff_err plugin_namespace_clear(store_txn *txn, ff_store *store, const plugin_slot *slot) {
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    store_slice prefix = STORE_SLICE(stored, plugin_data_key_make(slot, NULL, 0, stored));
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_PLUGIN_DATA, &cursor);
    while (err == FF_OK) {
        store_slice key = prefix;
        err = store_cursor_move(cursor, STORE_SEEK, &key, NULL);
        if (err == FF_OK && !plugin_key_has_prefix(key, prefix)) err = FF_ERR_NOT_FOUND;
        if (err == FF_OK) err = store_cursor_delete(cursor);
    }
    store_cursor_close(cursor);
    return err == FF_ERR_NOT_FOUND ? FF_OK : err;
}

/* Replays events after through up to head into one plugin's data, in a nested transaction that
 * is kept only if every event projects. */
static ff_err plugin_replay(ff_plugins *plugins, const plugin_slot *slot, store_txn *txn,
                            uint64_t through, uint64_t head) {
    ff_store *store = ledger_store(plugins->ledger);
    store_txn *child = NULL;
    ff_err err = store_txn_begin(store, txn, STORE_TXN_WRITE, &child);
    uint64_t sequence = through + 1;
    for (; err == FF_OK && sequence <= head; sequence++) {
        Fundflow__V1__EventRecord *record = NULL;
        err = log_read(child, store, sequence, &record);
        ff_plugin_context context = {plugins, child, store, sequence, slot, true, FF_OK, NULL,
                                     false, 0};
        if (err == FF_OK) err = plugin_project_call(&context, record);
        if (record) fundflow__v1__event_record__free_unpacked(record, NULL);
    }
    if (err == FF_OK) err = plugin_mark_write(child, store, slot->plugin, head);
    if (err == FF_OK) return store_txn_commit(child);
    store_txn_abort(child);
    if (plugin_error_is_storage(err)) return err;
    plugin_projection_stopped(slot, sequence - 1);
    return FF_OK;
}

/* Brings one plugin's data to head, starting again from nothing if it holds none, data of
 * another projection_version, or a mark past the head (the log was replaced). */
static ff_err plugin_catch_up(ff_plugins *plugins, const plugin_slot *slot, store_txn *txn,
                              uint64_t head) {
    ff_store *store = ledger_store(plugins->ledger);
    uint64_t through = 0;
    ff_err err = plugin_projection_through(txn, store, slot->plugin, &through);
    if (err == FF_OK && through == head) return FF_OK;
    if (err != FF_OK && err != FF_ERR_NOT_FOUND) return err;
    if (err == FF_ERR_NOT_FOUND || through > head) {
        through = 0;
        err = plugin_namespace_clear(txn, store, slot);
        if (err != FF_OK) return err;
    }
    logline_write("level=info msg=\"plugin projection catching up\" plugin=%s from=%llu to=%llu",
                  slot->plugin->name, (unsigned long long)through + 1, (unsigned long long)head);
    return plugin_replay(plugins, slot, txn, through, head);
}

static ff_err plugin_catch_up_work(void *argument, store_txn *txn) {
    ff_plugins *plugins = argument;
    log_head head;
    ff_err err = log_head_read(txn, ledger_store(plugins->ledger), &head);
    pthread_rwlock_rdlock(&plugins->lock);
    for (size_t i = 0; err == FF_OK && i < plugins->count; i++) {
        const plugin_slot *slot = plugins->slots[i];
        if (plugin_projects(slot->plugin)) err = plugin_catch_up(plugins, slot, txn, head.sequence);
    }
    pthread_rwlock_unlock(&plugins->lock);
    return err;
}

static bool plugins_any_projects(ff_plugins *plugins) {
    pthread_rwlock_rdlock(&plugins->lock);
    bool any = false;
    for (size_t i = 0; !any && i < plugins->count; i++) {
        any = plugin_projects(plugins->slots[i]->plugin);
    }
    pthread_rwlock_unlock(&plugins->lock);
    return any;
}

ff_err plugins_projections_catch_up(ff_plugins *plugins) {
    /* Without a projecting plugin there is nothing to replay, so no reason to wait for the
     * writer's lock at every start and reload. */
    if (!plugins_any_projects(plugins)) return FF_OK;
    return ledger_write_run(plugins->ledger, plugin_catch_up_work, plugins);
}
