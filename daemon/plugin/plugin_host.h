/* The plugin host: loads reporting-rule plugins, gives them read access to the ledger, runs
 * their reports and lets their vetoes refuse commands.
 *
 * Threads: plugins_load, plugins_reload and plugins_unload must not run while a report or a
 * write is in progress (fundflowd calls them on its event loop with the writer paused);
 * plugins_report_run may run on any reader thread; vetoes run on the writer thread.
 */
#ifndef FUNDFLOW_PLUGIN_HOST_H
#define FUNDFLOW_PLUGIN_HOST_H

#include <stddef.h>

#include "failure.h"
#include "ledger.h"
#include "fundflow/limits.h"
#include "fundflow/plugin.h"
#include "fundflow/v1/ledger.pb-c.h"

typedef struct ff_plugins ff_plugins;

/* A "plugin.NAME.KEY = value" line from fundflowd's configuration. */
typedef struct plugins_setting {
    char plugin[FF_PLUGIN_NAME_BYTES_MAX + 1];
    char key[FF_PLUGIN_SETTING_KEY_BYTES_MAX + 1];
    char value[FF_PLUGIN_SETTING_VALUE_BYTES_MAX + 1];
} plugins_setting;

typedef struct plugins_options {
    const char *const *directories;   /* every *.so in each is loaded, in name order */
    size_t directory_count;
    const plugins_setting *settings;
    size_t setting_count;
} plugins_options;

/* Loads every plugin in the directories. A plugin that fails to load (no entry symbol, a
 * different ABI major version, a name already taken, or an init that fails) is logged, recorded
 * in the load errors, and skipped; the rest load. Installs the vetoes and projection hooks on
 * ledger, then brings every projecting plugin's data up to the head of the log (replaying it).
 * Returns FF_OK even if some were skipped; FF_ERR_NO_MEMORY, or a storage error from the
 * catch-up, otherwise. */
ff_err plugins_load(ff_ledger *ledger, const plugins_options *options, ff_plugins **plugins_out);

/* Unloads every plugin (fini, dlclose) and loads the directories again, with new settings if
 * settings is not NULL, then catches up projecting plugins as plugins_load does. Waits for
 * reports, vetoes and projections in progress to finish. A plugin that is no longer in the
 * directories leaves its data behind; a rebuild of the projections removes it. */
ff_err plugins_reload(ff_plugins *plugins, const plugins_setting *settings, size_t setting_count);

/* Unloads every plugin, removes the hooks from the ledger and frees the set. NULL is allowed. */
void plugins_unload(ff_plugins *plugins);

/* How many plugins are loaded. */
size_t plugins_count(const ff_plugins *plugins);

/* The ListPlugins answer: every loaded plugin and every load error. */
ff_err plugins_list(ff_plugins *plugins, Fundflow__V1__ListPluginsResponse **response_out);

/* Runs one plugin's report for who (NULL: without restriction, for the offline tools). For a
 * scoped principal the report is of its scope: an empty org_code becomes the scope, and an
 * org_code outside it is refused with FF_ERR_OUT_OF_SCOPE (field "org_code"). Errors also:
 * FF_ERR_NOT_FOUND (no such plugin, field "plugin"), FF_ERR_YEAR_INVALID, FF_ERR_PLUGIN_FAILED
 * (the plugin failed), FF_ERR_NO_MEMORY. */
ff_err plugins_report_run(ff_plugins *plugins, const struct access_principal *who,
                          const Fundflow__V1__RunReportRequest *request,
                          Fundflow__V1__Report **report_out, ff_failure *failure);

#endif
