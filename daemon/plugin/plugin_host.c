/* Loading and unloading reporting-rule plugins, and the host's function table they call. */
#include "plugin_host.h"

#include <assert.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logline.h"
#include "plugin_host_internal.h"
#include "fundflow/money.h"

/* ---- the host table ---- */

/* The host table is a slot's first member, so a plugin's table pointer is its slot's address. */
static_assert(offsetof(plugin_slot, host) == 0, "the host table must open the slot");

static plugin_slot *plugin_slot_of(const ff_plugin_host *host) {
    return (plugin_slot *)(uintptr_t)host;
}

static void plugin_host_log(const ff_plugin_host *host, int level, const char *message) {
    const plugin_slot *slot = plugin_slot_of(host);
    const char *name = level == FF_PLUGIN_LOG_ERROR ? "error"
                       : level == FF_PLUGIN_LOG_WARN ? "warn"
                                                     : "info";
    logline_write("level=%s msg=\"%s\" plugin=%s", name, message ? message : "",
                  slot->plugin ? slot->plugin->name : slot->path);
}

static const char *plugin_host_config_get(const ff_plugin_host *host, const char *plugin_name,
                                          const char *key) {
    const ff_plugins *plugins = plugin_slot_of(host)->plugins;
    for (size_t i = 0; i < plugins->setting_count; i++) {
        const plugins_setting *setting = &plugins->settings[i];
        if (strcmp(setting->plugin, plugin_name) == 0 && strcmp(setting->key, key) == 0) {
            return setting->value;
        }
    }
    return NULL;
}

static int plugin_host_money_add(int64_t a_pence, int64_t b_pence, int64_t *sum_pence) {
    return money_add(a_pence, b_pence, sum_pence) == FF_OK ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
}

static void plugin_host_table_fill(ff_plugin_host *host) {
    memset(host, 0, sizeof *host);
    host->size = sizeof *host;
    host->abi_major = FF_PLUGIN_ABI_MAJOR;
    host->abi_minor = FF_PLUGIN_ABI_MINOR;
    host->log = plugin_host_log;
    host->config_get = plugin_host_config_get;
    host->money_add = plugin_host_money_add;
    host->money_format = money_format;
    plugin_host_reads_fill(host);
    plugin_host_data_fill(host);
}

/* ---- loading ---- */

static void plugins_error_add(ff_plugins *plugins, const char *path, const char *reason) {
    logline_write("level=warn msg=\"plugin skipped\" path=\"%s\" reason=\"%s\"", path, reason);
    if (plugins->error_count == FF_PLUGINS_MAX * 2) return;
    char *line = NULL;
    if (asprintf(&line, "%s: %s", path, reason) > 0) plugins->errors[plugins->error_count++] = line;
}

static bool plugins_name_taken(const ff_plugins *plugins, const char *name) {
    for (size_t i = 0; i < plugins->count; i++) {
        if (strcmp(plugins->slots[i]->plugin->name, name) == 0) return true;
    }
    return false;
}

/* Names are lower case letters, digits and '_', since they key the plugin's data and config. */
static bool plugins_name_valid(const char *name) {
    size_t length = strlen(name);
    if (length == 0 || length > FF_PLUGIN_NAME_BYTES_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

/* Checks what the entry returned; writes why not into reason. */
static bool plugins_description_check(const ff_plugins *plugins, const ff_plugin *plugin,
                                      char *reason, size_t reason_bytes) {
    if (plugin == NULL) {
        snprintf(reason, reason_bytes, "its entry returned no plugin");
    } else if (plugin->abi_major != FF_PLUGIN_ABI_MAJOR) {
        snprintf(reason, reason_bytes, "it was built for plugin ABI %u.%u; this host speaks %d.%d",
                 plugin->abi_major, plugin->abi_minor, FF_PLUGIN_ABI_MAJOR, FF_PLUGIN_ABI_MINOR);
    } else if (plugin->size < offsetof(ff_plugin, veto) || plugin->name == NULL ||
               plugin->name[0] == '\0' || plugin->report == NULL || plugin->init == NULL) {
        snprintf(reason, reason_bytes, "its description lacks a name, init or report");
    } else if (!plugins_name_valid(plugin->name)) {
        snprintf(reason, reason_bytes,
                 "its name is not 1 to %d lower case letters, digits and '_'",
                 FF_PLUGIN_NAME_BYTES_MAX);
    } else if (plugins_name_taken(plugins, plugin->name)) {
        snprintf(reason, reason_bytes, "a plugin named %s is already loaded", plugin->name);
    } else {
        return true;
    }
    return false;
}

/* A plugin runs with the server's rights, so whoever can replace it, or the directory it sits
 * in, can run code as the server. Only root and the server's own user may: the file or
 * directory must be owned by one of them and not writable by everyone. (Group write is left to
 * the operator, as a group of administrators may share a plugin directory.) Checks what status
 * describes; writes why not into reason. */
static bool plugins_ownership_trusted(const struct stat *status, const char *what, char *reason,
                                      size_t reason_bytes) {
    uid_t server_user = geteuid();
    if ((status->st_mode & S_IWOTH) != 0) {
        snprintf(reason, reason_bytes, "the %s is writable by every user (mode %04o)", what,
                 (unsigned)(status->st_mode & 07777));
    } else if (status->st_uid != 0 && status->st_uid != server_user) {
        snprintf(reason, reason_bytes,
                 "the %s is owned by uid %u, neither root nor the server's user (uid %u)", what,
                 (unsigned)status->st_uid, (unsigned)server_user);
    } else {
        return true;
    }
    return false;
}

/* Whether a plugin file may be loaded; writes why not into reason. The directory was checked
 * first, so only root or the server's user could swap the file between this check and dlopen. */
static bool plugins_file_trusted(const char *path, char *reason, size_t reason_bytes) {
    struct stat status;
    if (stat(path, &status) != 0) {
        snprintf(reason, reason_bytes, "it cannot be examined: %s", strerror(errno));
        return false;
    }
    if (!S_ISREG(status.st_mode)) {
        snprintf(reason, reason_bytes, "it is not a regular file");
        return false;
    }
    return plugins_ownership_trusted(&status, "file", reason, reason_bytes);
}

/* Whether the plugins of an open directory may be loaded; writes why not into reason. It is
 * examined through the open listing, so the check is of the directory that is listed. */
static bool plugins_directory_trusted(DIR *listing, char *reason, size_t reason_bytes) {
    struct stat status;
    if (fstat(dirfd(listing), &status) != 0) {
        snprintf(reason, reason_bytes, "the directory cannot be examined: %s", strerror(errno));
        return false;
    }
    return plugins_ownership_trusted(&status, "directory", reason, reason_bytes);
}

/* Loads one shared object into a new slot, or records why not. */
static void plugins_file_load(ff_plugins *plugins, const char *path) {
    char reason[512];
    plugin_slot *slot = calloc(1, sizeof *slot);
    if (slot == NULL || plugins->count == FF_PLUGINS_MAX) {
        plugins_error_add(plugins, path, slot ? "too many plugins" : "out of memory");
        free(slot);
        return;
    }
    snprintf(slot->path, sizeof slot->path, "%s", path);
    slot->plugins = plugins;
    plugin_host_table_fill(&slot->host);
    if (!plugins_file_trusted(path, reason, sizeof reason)) goto refuse;
    slot->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void *symbol = slot->handle ? dlsym(slot->handle, FF_PLUGIN_ENTRY_SYMBOL) : NULL;
    if (slot->handle == NULL || symbol == NULL) {
        const char *error = dlerror();
        snprintf(reason, sizeof reason, "%s", slot->handle ? "it exports no " FF_PLUGIN_ENTRY_SYMBOL
                                                           : (error ? error : "dlopen failed"));
        goto refuse;
    }
    ff_plugin_entry entry;
    memcpy(&entry, &symbol, sizeof entry);
    slot->plugin = entry(&slot->host);
    if (!plugins_description_check(plugins, slot->plugin, reason, sizeof reason)) goto refuse;
    if (slot->plugin->init(&slot->host, &slot->state) != FF_PLUGIN_OK) {
        snprintf(reason, sizeof reason, "its init failed");
        goto refuse;
    }
    plugins->slots[plugins->count++] = slot;
    logline_write("level=info msg=\"plugin loaded\" plugin=%s version=%s path=\"%s\"",
                  slot->plugin->name, slot->plugin->version ? slot->plugin->version : "", path);
    return;
refuse:
    plugins_error_add(plugins, path, reason);
    if (slot->handle) dlclose(slot->handle);
    free(slot);
}

static int plugins_name_compare(const void *left, const void *right) {
    return strcmp(*(char *const *)left, *(char *const *)right);
}

/* Loads every *.so in one directory, in name order so that loading is repeatable. */
static void plugins_directory_load(ff_plugins *plugins, const char *directory) {
    DIR *listing = opendir(directory);
    if (listing == NULL) {
        plugins_error_add(plugins, directory, "the directory cannot be read");
        return;
    }
    char reason[256];
    if (!plugins_directory_trusted(listing, reason, sizeof reason)) {
        plugins_error_add(plugins, directory, reason);
        closedir(listing);
        return;
    }
    char *names[FF_PLUGINS_MAX * 4];
    size_t count = 0;
    for (struct dirent *entry = readdir(listing); entry && count < FF_PLUGINS_MAX * 4;
         entry = readdir(listing)) {
        size_t length = strlen(entry->d_name);
        if (length > 3 && strcmp(entry->d_name + length - 3, ".so") == 0) {
            names[count] = strdup(entry->d_name);
            if (names[count]) count++;
        }
    }
    closedir(listing);
    qsort(names, count, sizeof *names, plugins_name_compare);
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", directory, names[i]);
        plugins_file_load(plugins, path);
        free(names[i]);
    }
}

static void plugins_all_load(ff_plugins *plugins) {
    for (size_t i = 0; i < plugins->directory_count; i++) {
        plugins_directory_load(plugins, plugins->directories[i]);
    }
}

static void plugins_all_unload(ff_plugins *plugins) {
    for (size_t i = 0; i < plugins->count; i++) {
        plugin_slot *slot = plugins->slots[i];
        if (slot->plugin->fini) slot->plugin->fini(slot->state);
        dlclose(slot->handle);
        free(slot);
    }
    plugins->count = 0;
    for (size_t i = 0; i < plugins->error_count; i++) free(plugins->errors[i]);
    plugins->error_count = 0;
}

static ff_err plugins_options_copy(ff_plugins *plugins, const plugins_options *options) {
    plugins->directories = calloc(options->directory_count + 1, sizeof *plugins->directories);
    plugins->settings = calloc(options->setting_count + 1, sizeof *plugins->settings);
    if (plugins->directories == NULL || plugins->settings == NULL) return FF_ERR_NO_MEMORY;
    for (size_t i = 0; i < options->directory_count; i++) {
        plugins->directories[i] = strdup(options->directories[i]);
        if (plugins->directories[i] == NULL) return FF_ERR_NO_MEMORY;
        plugins->directory_count++;
    }
    if (options->setting_count > 0) {
        memcpy(plugins->settings, options->settings,
               options->setting_count * sizeof *plugins->settings);
    }
    plugins->setting_count = options->setting_count;
    return FF_OK;
}

ff_err plugins_load(ff_ledger *ledger, const plugins_options *options, ff_plugins **plugins_out) {
    *plugins_out = NULL;
    ff_plugins *plugins = calloc(1, sizeof *plugins);
    if (plugins == NULL) return FF_ERR_NO_MEMORY;
    plugins->ledger = ledger;
    pthread_rwlock_init(&plugins->lock, NULL);
    ff_err err = plugins_options_copy(plugins, options);
    if (err != FF_OK) {
        plugins_unload(plugins);
        return err;
    }
    plugins_all_load(plugins);
    ledger_veto_set(ledger, plugin_host_veto, plugins);
    ledger_project_set(ledger, plugin_host_project, plugins);
    err = plugins_projections_catch_up(plugins);
    if (err != FF_OK) {
        plugins_unload(plugins);
        return err;
    }
    *plugins_out = plugins;
    return FF_OK;
}

ff_err plugins_reload(ff_plugins *plugins, const plugins_setting *settings, size_t setting_count) {
    pthread_rwlock_wrlock(&plugins->lock);
    plugins_all_unload(plugins);
    if (settings != NULL) {
        plugins_setting *copy = calloc(setting_count + 1, sizeof *copy);
        if (copy != NULL) {
            if (setting_count > 0) memcpy(copy, settings, setting_count * sizeof *copy);
            free(plugins->settings);
            plugins->settings = copy;
            plugins->setting_count = setting_count;
        }
    }
    plugins_all_load(plugins);
    pthread_rwlock_unlock(&plugins->lock);
    /* Outside the plugins' lock: the catch-up takes the ledger's write lock first, as the
     * writer does, so that neither waits on the other holding what it needs. */
    return plugins_projections_catch_up(plugins);
}

void plugins_unload(ff_plugins *plugins) {
    if (plugins == NULL) return;
    if (plugins->ledger) {
        ledger_veto_set(plugins->ledger, NULL, NULL);
        ledger_project_set(plugins->ledger, NULL, NULL);
    }
    plugins_all_unload(plugins);
    for (size_t i = 0; i < plugins->directory_count; i++) free(plugins->directories[i]);
    free(plugins->directories);
    free(plugins->settings);
    pthread_rwlock_destroy(&plugins->lock);
    free(plugins);
}

size_t plugins_count(const ff_plugins *plugins) { return plugins ? plugins->count : 0; }
