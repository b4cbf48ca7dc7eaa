/* fixture_veto: a plugin for the host's tests whose veto refuses one recognisable command (an
 * allocation of exactly 1313 pence, "13.13") and whose report is a single known row. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fundflow/plugin.h"

#define FIXTURE_VETO_NAME "fixture_veto"
/* The amount the veto refuses: unlikely in real data, easy to type in a test. */
#define FIXTURE_VETO_AMOUNT_PENCE 1313
#define FIXTURE_VETO_REASON "fixture refuses 13.13"

typedef struct fixture_veto_state {
    const ff_plugin_host *host;
} fixture_veto_state;

/* The host calls one plugin from one thread at a time and loads it once, so one static state
 * is enough and leaves nothing for fini to free. */
static fixture_veto_state fixture_veto_the_state;

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);

static int fixture_veto_init(const ff_plugin_host *host, void **state) {
    fixture_veto_the_state.host = host;
    *state = &fixture_veto_the_state;
    return FF_PLUGIN_OK;
}

static void fixture_veto_fini(void *state) { ((fixture_veto_state *)state)->host = NULL; }

/* Counts the events a walk sees, and the allocations among them. */
typedef struct fixture_event_count {
    int64_t events;
    int64_t allocations;
} fixture_event_count;

static int fixture_event_visit(void *argument, const ff_plugin_event *event) {
    fixture_event_count *count = argument;
    count->events++;
    if (strcmp(event->summary->kind, "allocation_issued") == 0 && event->payload_bytes > 0) {
        count->allocations++;
    }
    return FF_PLUGIN_OK;
}

/* A second table from the ABI 1.1 reads: events seen, allocations among them, and QUE's core
 * services budget for the year through account_get (purpose 2). */
static int fixture_veto_reads_table(const ff_plugin_host *host, ff_plugin_context *context,
                                    const ff_plugin_report_request *request,
                                    ff_plugin_report *report) {
    static const char *const names[] = {"events", "allocations", "QUE budget"};
    static const int types[] = {FF_PLUGIN_COLUMN_INTEGER, FF_PLUGIN_COLUMN_INTEGER,
                                FF_PLUGIN_COLUMN_MONEY};
    fixture_event_count count = {0, 0};
    ff_plugin_account budget;
    if (host->abi_minor < 1 || host->events_each(context, 0, fixture_event_visit, &count) ||
        host->account_get(context, "QUE", 1, request->financial_year, 2, 0, &budget) ||
        host->report_table(report, "reads", 3, names, types)) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {{NULL, count.events}, {NULL, count.allocations},
                                    {NULL, budget.balance_pence}};
    return host->report_row(report, cells, 3);
}

/* One table, "fixture", with one row of each of three column types the tests can check; then
 * the "reads" table. */
static int fixture_veto_report(void *state, ff_plugin_context *context,
                               const ff_plugin_report_request *request,
                               ff_plugin_report *report) {
    static const char *const names[] = {"name", "amount", "financial year"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_INTEGER};
    const fixture_veto_state *fixture = state;
    if (fixture->host->report_table(report, "fixture", 3, names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {{FIXTURE_VETO_NAME, 0},
                                    {NULL, FIXTURE_VETO_AMOUNT_PENCE},
                                    {NULL, (int64_t)request->financial_year}};
    if (fixture->host->report_row(report, cells, 3) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    return fixture_veto_reads_table(fixture->host, context, request, report);
}

static int fixture_veto_veto(void *state, ff_plugin_context *context,
                             const ff_plugin_command *command, char *reason,
                             size_t reason_bytes) {
    (void)state, (void)context;
    if (strcmp(command->kind, "allocation_issued") != 0 ||
        command->amount_pence != FIXTURE_VETO_AMOUNT_PENCE) {
        return FF_PLUGIN_OK;
    }
    snprintf(reason, reason_bytes, "%s", FIXTURE_VETO_REASON);
    return FF_PLUGIN_ERROR;
}

static const uint32_t fixture_veto_financial_years[] = {2023, 2024, 2025, 2026};

static const ff_plugin fixture_veto_plugin = {
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR,
    .abi_minor = FF_PLUGIN_ABI_MINOR,
    .name = FIXTURE_VETO_NAME,
    .version = "1.0.0",
    .description = "A test fixture that vetoes any allocation of exactly 13.13 and reports one "
                   "row.",
    .financial_years = fixture_veto_financial_years,
    .financial_year_count =
        sizeof fixture_veto_financial_years / sizeof fixture_veto_financial_years[0],
    .init = fixture_veto_init,
    .fini = fixture_veto_fini,
    .report = fixture_veto_report,
    .veto = fixture_veto_veto,
};

const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    (void)host;
    return &fixture_veto_plugin;
}
