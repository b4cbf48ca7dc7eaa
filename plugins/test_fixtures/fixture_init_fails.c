/* fixture_init_fails: a plugin for the host's tests whose init always fails, so the host must
 * skip it, record why, and load the rest. */
#include <stdint.h>
#include <stdlib.h>

#include "fundflow/plugin.h"

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);

static int fixture_init_fails_init(const ff_plugin_host *host, void **state) {
    host->log(host, FF_PLUGIN_LOG_ERROR, "fixture_init_fails refuses to start, as designed");
    *state = NULL;
    return FF_PLUGIN_ERROR;
}

/* Never called: the host must not run a plugin whose init failed. */
static int fixture_init_fails_report(void *state, ff_plugin_context *context,
                                     const ff_plugin_report_request *request,
                                     ff_plugin_report *report) {
    (void)state, (void)context, (void)request, (void)report;
    return FF_PLUGIN_ERROR;
}

static const uint32_t fixture_init_fails_financial_years[] = {2024};

static const ff_plugin fixture_init_fails_plugin = {
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR,
    .abi_minor = FF_PLUGIN_ABI_MINOR,
    .name = "fixture_init_fails",
    .version = "1.0.0",
    .description = "A test fixture whose init always fails.",
    .financial_years = fixture_init_fails_financial_years,
    .financial_year_count = 1,
    .init = fixture_init_fails_init,
    .fini = NULL,
    .report = fixture_init_fails_report,
    .veto = NULL,
};

const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    (void)host;
    return &fixture_init_fails_plugin;
}
