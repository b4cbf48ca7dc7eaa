/* fixture_abi_mismatch: a plugin for the host's tests that claims the next major ABI version,
 * which the host must refuse with a message naming both versions. */
#include <stdint.h>
#include <stdlib.h>

#include "fundflow/plugin.h"

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);

static int fixture_abi_mismatch_init(const ff_plugin_host *host, void **state) {
    (void)host;
    *state = NULL;
    return FF_PLUGIN_OK;
}

static int fixture_abi_mismatch_report(void *state, ff_plugin_context *context,
                                       const ff_plugin_report_request *request,
                                       ff_plugin_report *report) {
    (void)state, (void)context, (void)request, (void)report;
    return FF_PLUGIN_OK;
}

static const uint32_t fixture_abi_mismatch_financial_years[] = {2024};

/* Everything else is well formed, so the version is the only reason to refuse it. */
static const ff_plugin fixture_abi_mismatch_plugin = {
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "fixture_abi_mismatch",
    .version = "1.0.0",
    .description = "A test fixture built against a future major version of the plugin ABI.",
    .financial_years = fixture_abi_mismatch_financial_years,
    .financial_year_count = 1,
    .init = fixture_abi_mismatch_init,
    .fini = NULL,
    .report = fixture_abi_mismatch_report,
    .veto = NULL,
};

const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    (void)host;
    return &fixture_abi_mismatch_plugin;
}
