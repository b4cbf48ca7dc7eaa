/* fixture_project: a plugin for the host's tests that keeps projected data: a count of the events
 * it has seen, one row per event naming its kind, and each allocation recipient's running total.
 * Its configuration can make project fail on one event ("fail_at_sequence") and change its
 * projection_version ("projection_version"), so tests can stop, resume and replay it.
 *
 * Keys: "count" -> uint64; "e" ++ sequence (8 bytes, big-endian) -> the event's kind;
 * "a" ++ recipient code -> int64 pence. On the event it fails it first writes "poison", which
 * the host must discard.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define FIXTURE_PROJECT_NAME "fixture_project"
#define FIXTURE_PROJECT_CODE_BYTES 16

typedef struct fixture_project_state {
    const ff_plugin_host *host;
    uint64_t fail_at_sequence;          /* 0 for never */
} fixture_project_state;

/* Loaded once at a time, so one static state is enough. */
static fixture_project_state fixture_project_the_state;

FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);

static uint64_t fixture_project_setting(const ff_plugin_host *host, const char *key) {
    const char *value = host->config_get(host, FIXTURE_PROJECT_NAME, key);
    return value ? strtoull(value, NULL, 10) : 0;
}

static int fixture_project_init(const ff_plugin_host *host, void **state) {
    if (host->abi_minor < 2) return FF_PLUGIN_ERROR;
    fixture_project_the_state.host = host;
    fixture_project_the_state.fail_at_sequence = fixture_project_setting(host, "fail_at_sequence");
    *state = &fixture_project_the_state;
    return FF_PLUGIN_OK;
}

/* ---- projecting ---- */

static int fixture_project_count(const ff_plugin_host *host, ff_plugin_context *context) {
    uint64_t count = 0;
    size_t found = 0;
    int result = host->data_get(context, "count", 5, &count, sizeof count, &found);
    if (result == FF_PLUGIN_ERROR || (result == FF_PLUGIN_OK && found != sizeof count)) {
        return FF_PLUGIN_ERROR;
    }
    count++;
    return host->data_put(context, "count", 5, &count, sizeof count);
}

static int fixture_project_event_row(const ff_plugin_host *host, ff_plugin_context *context,
                                     const ff_plugin_event *event) {
    uint8_t key[9] = {'e'};
    for (int i = 0; i < 8; i++) key[1 + i] = (uint8_t)(event->sequence >> (56 - 8 * i));
    const char *kind = event->summary->kind;
    return host->data_put(context, key, sizeof key, kind, strlen(kind));
}

static int fixture_project_allocation(const ff_plugin_host *host, ff_plugin_context *context,
                                      const ff_plugin_command *command) {
    char key[1 + FIXTURE_PROJECT_CODE_BYTES] = {'a'};
    size_t code_bytes = strlen(command->to_code);
    if (code_bytes > FIXTURE_PROJECT_CODE_BYTES) return FF_PLUGIN_ERROR;
    memcpy(key + 1, command->to_code, code_bytes);
    int64_t total = 0;
    int result = host->data_get(context, key, 1 + code_bytes, &total, sizeof total, NULL);
    if (result == FF_PLUGIN_ERROR ||
        host->money_add(total, command->amount_pence, &total) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return host->data_put(context, key, 1 + code_bytes, &total, sizeof total);
}

static int fixture_project_project(void *state, ff_plugin_context *context,
                                   const ff_plugin_event *event) {
    const fixture_project_state *fixture = state;
    const ff_plugin_host *host = fixture->host;
    if (event->sequence == fixture->fail_at_sequence) {
        host->data_put(context, "poison", 6, "x", 1);
        return FF_PLUGIN_ERROR;
    }
    if (fixture_project_count(host, context) != FF_PLUGIN_OK ||
        fixture_project_event_row(host, context, event) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (strcmp(event->summary->kind, "allocation_issued") != 0) return FF_PLUGIN_OK;
    return fixture_project_allocation(host, context, event->summary);
}

/* ---- the report ---- */

typedef struct fixture_project_rows {
    const ff_plugin_host *host;
    ff_plugin_report *report;
    int64_t count;
} fixture_project_rows;

static int fixture_project_row_count(void *argument, const void *key, size_t key_bytes,
                                     const void *value, size_t value_bytes) {
    (void)key, (void)key_bytes, (void)value, (void)value_bytes;
    ((fixture_project_rows *)argument)->count++;
    return FF_PLUGIN_OK;
}

static int fixture_project_total_row(void *argument, const void *key, size_t key_bytes,
                                     const void *value, size_t value_bytes) {
    fixture_project_rows *rows = argument;
    char code[FIXTURE_PROJECT_CODE_BYTES + 1];
    int64_t total = 0;
    if (key_bytes < 2 || key_bytes - 1 > FIXTURE_PROJECT_CODE_BYTES ||
        value_bytes != sizeof total) {
        return FF_PLUGIN_ERROR;
    }
    memcpy(code, (const char *)key + 1, key_bytes - 1);
    code[key_bytes - 1] = '\0';
    memcpy(&total, value, sizeof total);
    const ff_plugin_cell cells[] = {{code, 0}, {NULL, total}};
    return rows->host->report_row(rows->report, cells, 2);
}

/* Table "projection": events counted, event rows, every row of the namespace, whether a write
 * from a report was refused, whether a walk with a length but no prefix was refused. Table "allocations": each recipient's total. */
static int fixture_project_report(void *state, ff_plugin_context *context,
                                  const ff_plugin_report_request *request,
                                  ff_plugin_report *report) {
    (void)request;
    const ff_plugin_host *host = ((const fixture_project_state *)state)->host;
    static const char *const names[] = {"events counted", "event rows", "rows", "write refused",
                                        "bad prefix refused"};
    static const int types[] = {FF_PLUGIN_COLUMN_INTEGER, FF_PLUGIN_COLUMN_INTEGER,
                                FF_PLUGIN_COLUMN_INTEGER, FF_PLUGIN_COLUMN_FLAG,
                                FF_PLUGIN_COLUMN_FLAG};
    uint64_t count = 0;
    fixture_project_rows events = {host, report, 0}, all = {host, report, 0};
    if (host->data_get(context, "count", 5, &count, sizeof count, NULL) == FF_PLUGIN_ERROR ||
        host->data_each(context, "e", 1, fixture_project_row_count, &events) != FF_PLUGIN_OK ||
        host->data_each(context, NULL, 0, fixture_project_row_count, &all) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    int refused = host->data_put(context, "report", 6, "x", 1) == FF_PLUGIN_ERROR;
    /* A prefix length with no prefix is refused, not read. */
    int bad_prefix = host->data_each(context, NULL, 3, fixture_project_row_count, &all) ==
                     FF_PLUGIN_ERROR;
    const ff_plugin_cell cells[] = {{NULL, (int64_t)count}, {NULL, events.count},
                                    {NULL, all.count},      {NULL, refused},
                                    {NULL, bad_prefix}};
    if (host->report_table(report, "projection", 5, names, types) != FF_PLUGIN_OK ||
        host->report_row(report, cells, 5) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    static const char *const total_names[] = {"recipient", "allocated"};
    static const int total_types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_MONEY};
    if (host->report_table(report, "allocations", 2, total_names, total_types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    fixture_project_rows totals = {host, report, 0};
    return host->data_each(context, "a", 1, fixture_project_total_row, &totals);
}

static const uint32_t fixture_project_financial_years[] = {2023, 2024, 2025, 2026};

/* Not const: the entry sets projection_version from the configuration. */
static ff_plugin fixture_project_plugin = {
    .size = sizeof(ff_plugin),
    .abi_major = FF_PLUGIN_ABI_MAJOR,
    .abi_minor = FF_PLUGIN_ABI_MINOR,
    .name = FIXTURE_PROJECT_NAME,
    .version = "1.0.0",
    .description = "A test fixture that projects a count of events and allocation totals.",
    .financial_years = fixture_project_financial_years,
    .financial_year_count =
        sizeof fixture_project_financial_years / sizeof fixture_project_financial_years[0],
    .init = fixture_project_init,
    .report = fixture_project_report,
    .project = fixture_project_project,
    .projection_version = 1,
};

const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {
    uint64_t version = fixture_project_setting(host, "projection_version");
    fixture_project_plugin.projection_version = version ? (uint32_t)version : 1;
    return &fixture_project_plugin;
}
