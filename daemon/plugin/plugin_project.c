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
#include "plugin_host_internal.h"

/* A plugin's mark, stored as these bytes under its name. */
typedef struct plugin_projection_mark {
    uint32_t projection_version;
    uint32_t reserved;                  /* zero */
    uint64_t through_sequence;
} plugin_projection_mark;
static_assert(sizeof(plugin_projection_mark) == 16, "marks are stored");

/* The longest namespaced key: a name, its zero byte and the plugin's own key. */
#define PLUGIN_DATA_STORED_KEY_BYTES (PLUGINS_NAME_BYTES_MAX + 1 + FF_PLUGIN_DATA_KEY_BYTES_MAX)

bool plugin_projects(const ff_plugin *plugin) {
    return plugin->size >= offsetof(ff_plugin, projection_version) + sizeof(uint32_t) &&
           plugin->project != NULL;
}

static bool plugin_error_is_storage(ff_err err) {
    return err == FF_ERR_MAP_LIMIT || err == FF_ERR_STORAGE || err == FF_ERR_NO_MEMORY;
}

/* ---- keys ---- */

/* Writes the plugin's name and a zero byte, then key, into stored; returns the length. */
static size_t plugin_data_key_make(const plugin_slot *slot, const void *key, size_t key_bytes,
                                   uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES]) {
    size_t name_bytes = strlen(slot->plugin->name);
    assert(key_bytes <= FF_PLUGIN_DATA_KEY_BYTES_MAX && name_bytes <= PLUGINS_NAME_BYTES_MAX);
    memcpy(stored, slot->plugin->name, name_bytes);
    stored[name_bytes] = 0;
    if (key_bytes > 0) memcpy(stored + name_bytes + 1, key, key_bytes);
    return name_bytes + 1 + key_bytes;
}

static bool plugin_key_has_prefix(const MDB_val *key, const uint8_t *prefix, size_t prefix_bytes) {
    return key->mv_size >= prefix_bytes && memcmp(key->mv_data, prefix, prefix_bytes) == 0;
}

static int plugin_data_refuse(ff_plugin_context *context, const char *message) {
    context->slot->host.log(&context->slot->host, FF_PLUGIN_LOG_ERROR, message);
    return FF_PLUGIN_ERROR;
}

static int plugin_data_storage_failed(ff_plugin_context *context, int mdb_rc) {
    if (context->storage_err == FF_OK) context->storage_err = store_error_from_mdb(mdb_rc);
    return plugin_data_refuse(context, mdb_strerror(mdb_rc));
}

/* ---- the host's data functions ---- */

/* Checks a plugin's key (or, with empty_allowed, a prefix) and writes it with the plugin's
 * namespace into stored and db_key; logs why, naming function, and returns false if it is
 * missing, empty where it may not be, or too long. */
static bool plugin_data_key(ff_plugin_context *context, const char *function, const void *key,
                            size_t key_bytes, bool empty_allowed,
                            uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES], MDB_val *db_key) {
    if ((key == NULL && key_bytes != 0) || (key_bytes == 0 && !empty_allowed) ||
        key_bytes > FF_PLUGIN_DATA_KEY_BYTES_MAX) {
        char message[128];
        snprintf(message, sizeof message, "%s: the %s must be %s256 bytes", function,
                 empty_allowed ? "prefix" : "key", empty_allowed ? "at most " : "1 to ");
        plugin_data_refuse(context, message);
        return false;
    }
    db_key->mv_size = plugin_data_key_make(context->slot, key, key_bytes, stored);
    db_key->mv_data = stored;
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
        if (context->storage_err == FF_OK) context->storage_err = err;
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
    MDB_val db_key;
    if (!plugin_data_key(context, "data_put", key, key_bytes, false, stored, &db_key)) {
        return FF_PLUGIN_ERROR;
    }
    if (value_bytes > FF_PLUGIN_DATA_VALUE_BYTES_MAX || (value == NULL && value_bytes != 0)) {
        return plugin_data_refuse(context, "data_put: the value must be at most 65,536 bytes");
    }
    if (plugin_data_writable(context, "data_put") != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    MDB_val db_value = {value_bytes, (void *)(uintptr_t)(value ? value : "")};
    int rc = store_mdb_put(context->txn, context->store, STORE_TABLE_PLUGIN_DATA, &db_key, &db_value,
                       0);
    return rc == MDB_SUCCESS ? FF_PLUGIN_OK : plugin_data_storage_failed(context, rc);
}

static int plugin_data_get(ff_plugin_context *context, const void *key, size_t key_bytes,
                           void *value, size_t value_bytes, size_t *found_bytes) {
    if (found_bytes) *found_bytes = 0;
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    MDB_val db_key, db_value;
    if (!plugin_data_key(context, "data_get", key, key_bytes, false, stored, &db_key)) {
        return FF_PLUGIN_ERROR;
    }
    if (value == NULL && value_bytes != 0) {
        return plugin_data_refuse(context, "data_get: no buffer for the value");
    }
    int rc = mdb_get(context->txn, store_dbi(context->store, STORE_TABLE_PLUGIN_DATA), &db_key,
                     &db_value);
    if (rc == MDB_NOTFOUND) return FF_PLUGIN_NOT_FOUND;
    if (rc != MDB_SUCCESS) return plugin_data_storage_failed(context, rc);
    size_t copied = db_value.mv_size < value_bytes ? db_value.mv_size : value_bytes;
    if (copied > 0) memcpy(value, db_value.mv_data, copied);
    if (found_bytes) *found_bytes = db_value.mv_size;
    return FF_PLUGIN_OK;
}

static int plugin_data_delete(ff_plugin_context *context, const void *key, size_t key_bytes) {
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    MDB_val db_key;
    if (!plugin_data_key(context, "data_delete", key, key_bytes, false, stored, &db_key) ||
        plugin_data_writable(context, "data_delete") != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    int rc = mdb_del(context->txn, store_dbi(context->store, STORE_TABLE_PLUGIN_DATA), &db_key,
                     NULL);
    if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) return FF_PLUGIN_OK;
    return plugin_data_storage_failed(context, rc);
}

/* Visits the rows of one namespace that start with prefix; visit gets keys without the
 * namespace. Returns the visitor's first result other than FF_PLUGIN_OK. */
typedef int (*plugin_stored_row_visit)(void *argument, store_cursor *cursor, const MDB_val *key,
                                       const MDB_val *value, size_t namespace_bytes);

static int plugin_namespace_walk(store_txn *txn, ff_store *store, const uint8_t *prefix,
                                 size_t prefix_bytes, size_t namespace_bytes,
                                 plugin_stored_row_visit visit, void *argument, int *mdb_rc) {
    store_cursor *cursor = NULL;
    *mdb_rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_PLUGIN_DATA), &cursor);
    if (*mdb_rc != MDB_SUCCESS) return FF_PLUGIN_ERROR;
    MDB_val key = {prefix_bytes, (void *)(uintptr_t)prefix}, value;
    int result = FF_PLUGIN_OK;
    int rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && result == FF_PLUGIN_OK &&
           plugin_key_has_prefix(&key, prefix, prefix_bytes)) {
        result = visit(argument, cursor, &key, &value, namespace_bytes);
        if (result == FF_PLUGIN_OK) rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    *mdb_rc = rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
    if (result == FF_PLUGIN_OK && *mdb_rc != MDB_SUCCESS) return FF_PLUGIN_ERROR;
    return result;
}

typedef struct plugin_data_walk {
    ff_plugin_data_visitor visit;
    void *argument;
} plugin_data_walk;

static int plugin_data_row(void *argument, store_cursor *cursor, const MDB_val *key,
                           const MDB_val *value, size_t namespace_bytes) {
    (void)cursor;
    const plugin_data_walk *walk = argument;
    return walk->visit(walk->argument, (const uint8_t *)key->mv_data + namespace_bytes,
                       key->mv_size - namespace_bytes, value->mv_data, value->mv_size);
}

static int plugin_data_each(ff_plugin_context *context, const void *prefix, size_t prefix_bytes,
                            ff_plugin_data_visitor visit, void *argument) {
    if (context == NULL) return FF_PLUGIN_ERROR;
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    MDB_val db_key;
    if (!plugin_data_key(context, "data_each", prefix, prefix_bytes, true, stored, &db_key)) {
        return FF_PLUGIN_ERROR;
    }
    if (visit == NULL) return plugin_data_refuse(context, "data_each: no visitor");
    size_t stored_bytes = db_key.mv_size;
    plugin_data_walk walk = {visit, argument};
    int rc = MDB_SUCCESS;
    bool was_walking = context->walking;
    context->walking = true;
    int result = plugin_namespace_walk(context->txn, context->store, stored, stored_bytes,
                                       stored_bytes - prefix_bytes, plugin_data_row, &walk, &rc);
    context->walking = was_walking;
    if (rc != MDB_SUCCESS) return plugin_data_storage_failed(context, rc);
    return result == FF_PLUGIN_STOP ? FF_PLUGIN_OK : result;
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
    MDB_val key = {strlen(plugin->name), (void *)(uintptr_t)plugin->name}, value;
    int rc = mdb_get(txn, store_dbi(store, STORE_TABLE_PLUGIN_MARKS), &key, &value);
    if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && value.mv_size != sizeof *mark_out)) {
        return FF_ERR_NOT_FOUND;
    }
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    memcpy(mark_out, value.mv_data, sizeof *mark_out);
    return FF_OK;
}

static ff_err plugin_mark_write(store_txn *txn, ff_store *store, const ff_plugin *plugin,
                                uint64_t through_sequence) {
    plugin_projection_mark mark = {plugin->projection_version, 0, through_sequence};
    MDB_val key = {strlen(plugin->name), (void *)(uintptr_t)plugin->name};
    MDB_val value = {sizeof mark, &mark};
    return store_error_from_mdb(store_mdb_put(txn, store, STORE_TABLE_PLUGIN_MARKS, &key, &value, 0));
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
    fprintf(stderr,
            "level=error msg=\"plugin projection stopped\" plugin=%s sequence=%llu "
            "reason=\"its project hook failed on this event; the event is recorded, the "
            "plugin's reports are refused until it is reloaded\"\n",
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
                                 false};
    err = plugin_project_call(&context, record);
    store_txn *child = context.txn != txn ? context.txn : NULL;
    if (child != NULL && err == FF_OK) err = store_txn_commit(child);
    else if (child != NULL) mdb_txn_abort(child);
    if (err == FF_OK) return plugin_mark_write(txn, store, slot->plugin, record->sequence);
    if (plugin_error_is_storage(err)) return err;
    plugin_projection_stopped(slot, record->sequence);
    return FF_OK;
}

ff_err plugin_host_project(void *argument, store_txn *txn, const Fundflow__V1__EventRecord *record) {
    ff_plugins *plugins = argument;
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

static int plugin_namespace_row_delete(void *argument, store_cursor *cursor, const MDB_val *key,
                                       const MDB_val *value, size_t namespace_bytes) {
    (void)argument, (void)key, (void)value, (void)namespace_bytes;
    /* LMDB leaves a cursor on the row after the one it deleted, and its next MDB_NEXT returns
     * that row rather than skipping it. */
    return mdb_cursor_del(cursor, 0) == MDB_SUCCESS ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
}

/* Removes every row of one plugin's namespace. */
static ff_err plugin_namespace_clear(store_txn *txn, ff_store *store, const plugin_slot *slot) {
    uint8_t stored[PLUGIN_DATA_STORED_KEY_BYTES];
    size_t stored_bytes = plugin_data_key_make(slot, NULL, 0, stored);
    int rc = MDB_SUCCESS;
    int result = plugin_namespace_walk(txn, store, stored, stored_bytes, stored_bytes,
                                       plugin_namespace_row_delete, NULL, &rc);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    return result == FF_PLUGIN_OK ? FF_OK : FF_ERR_STORAGE;
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
                                     false};
        if (err == FF_OK) err = plugin_project_call(&context, record);
        if (record) fundflow__v1__event_record__free_unpacked(record, NULL);
    }
    if (err == FF_OK) err = plugin_mark_write(child, store, slot->plugin, head);
    if (err == FF_OK) return store_txn_commit(child);
    if (child) mdb_txn_abort(child);
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
    fprintf(stderr,
            "level=info msg=\"plugin projection catching up\" plugin=%s from=%llu to=%llu\n",
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
