/* contract_count: an example reporting rule, built outside fundflow's tree against the installed
 * header alone. It counts each commissioner's contracts and their value for a year, and warns
 * about a commissioner with more than a configurable number of contracts. docs/PLUGINS.md walks
 * through it line by line. */
#include <fundflow/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most commissioners one report counts; more are summed into the last row. */
#define COUNT_ROWS_MAX 512

typedef struct commissioner_total {
    char code[16];
    int64_t contracts;
    int64_t value_pence;
} commissioner_total;

typedef struct count_state {
    const ff_plugin_host *host;
    int64_t warn_above;
} count_state;

typedef struct count_walk {
    const ff_plugin_host *host;
    const char *only_org;
    commissioner_total rows[COUNT_ROWS_MAX];
    size_t row_count;
    int failed;
} count_walk;

static commissioner_total *count_row(count_walk *walk, const char *code) {
    for (size_t i = 0; i < walk->row_count; i++) {
        if (strcmp(walk->rows[i].code, code) == 0) return &walk->rows[i];
    }
    if (walk->row_count == COUNT_ROWS_MAX) return &walk->rows[COUNT_ROWS_MAX - 1];
    commissioner_total *row = &walk->rows[walk->row_count++];
    snprintf(row->code, sizeof row->code, "%s", code);
    return row;
}

static int count_contract(void *argument, const ff_plugin_contract *contract) {
    count_walk *walk = argument;
    if (walk->only_org[0] && strcmp(walk->only_org, contract->commissioner_code) != 0) {
        return FF_PLUGIN_OK;
    }
    commissioner_total *row = count_row(walk, contract->commissioner_code);
    row->contracts++;
    /* Every sum goes through the host's checked addition: money never overflows silently. */
    if (walk->host->money_add(row->value_pence, contract->value_pence, &row->value_pence) !=
        FF_PLUGIN_OK) {
        walk->failed = 1;
        return FF_PLUGIN_STOP;
    }
    return FF_PLUGIN_OK;
}

static int count_init(const ff_plugin_host *host, void **state) {
    count_state *counts = calloc(1, sizeof *counts);
    if (counts == NULL) return FF_PLUGIN_ERROR;
    counts->host = host;
    const char *limit = host->config_get(host, "contract_count", "warn_above");
    counts->warn_above = limit ? atoll(limit) : 10;
    *state = counts;
    return FF_PLUGIN_OK;
}

static void count_fini(void *state) { free(state); }

static int count_report(void *state, ff_plugin_context *context,
                        const ff_plugin_report_request *request, ff_plugin_report *report) {
    count_state *counts = state;
    const ff_plugin_host *host = counts->host;
    count_walk *walk = calloc(1, sizeof *walk);
    if (walk == NULL) return FF_PLUGIN_ERROR;
    walk->host = host;
    walk->only_org = request->org_code;
    int result = host->contracts_each(context, request->financial_year, count_contract, walk);
    static const char *const columns[] = {"commissioner", "contracts", "value"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_INTEGER,
                                FF_PLUGIN_COLUMN_MONEY};
    if (result == FF_PLUGIN_OK && !walk->failed) {
        result = host->report_table(report, "contracts by commissioner", 3, columns, types);
    }
    for (size_t i = 0; result == FF_PLUGIN_OK && !walk->failed && i < walk->row_count; i++) {
        const commissioner_total *row = &walk->rows[i];
        ff_plugin_cell cells[] = {{row->code, 0}, {NULL, row->contracts}, {NULL, row->value_pence}};
        result = host->report_row(report, cells, 3);
        char message[160];
        int busy = row->contracts > counts->warn_above;
        snprintf(message, sizeof message, "%lld contracts%s", (long long)row->contracts,
                 busy ? ", more than the configured warn_above" : "");
        if (result == FF_PLUGIN_OK) {
            result = host->report_finding(report, busy ? FF_PLUGIN_FINDING_WARN
                                                       : FF_PLUGIN_FINDING_PASS,
                                          row->code, message);
        }
    }
    int failed = walk->failed;
    free(walk);
    return failed ? FF_PLUGIN_ERROR : result;
}

static const uint32_t count_years[] = {2023, 2024, 2025};

static const ff_plugin count_plugin = {
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR,
    .abi_minor = FF_PLUGIN_ABI_MINOR,
    .name = "contract_count",
    .version = "1.0.0",
    .description = "Counts each commissioner's contracts and their value for a year.",
    .financial_years = count_years,
    .financial_year_count = sizeof count_years / sizeof count_years[0],
    .init = count_init,
    .fini = count_fini,
    .report = count_report,
    .veto = NULL,
};

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    /* Refuse to load into a host that speaks another major version of the ABI. */
    return host->abi_major == FF_PLUGIN_ABI_MAJOR ? &count_plugin : NULL;
}
