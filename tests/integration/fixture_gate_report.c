/* fixture_gate: a plugin for fundflowd's read tests whose report stays in flight until the test
 * lets it finish. The report opens the FIFO named by "plugin.fixture_gate.gate" for reading,
 * which waits for the test to open it for writing (so the test knows the report is running), then
 * reads one byte, which waits for the test to write it. Its report is then one known row. With no
 * gate set, the report logs a warning through the host and fails. */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "fundflow/plugin.h"

#define FIXTURE_GATE_NAME "fixture_gate"

/* The host calls one plugin from one thread at a time and loads it once. */
static const ff_plugin_host *fixture_gate_host;

static int fixture_gate_init(const ff_plugin_host *host, void **state) {
    fixture_gate_host = host;
    *state = NULL;
    return FF_PLUGIN_OK;
}

static void fixture_gate_fini(void *state) {
    (void)state;
    fixture_gate_host = NULL;
}

/* Waits at the gate: returns FF_PLUGIN_OK once the test has written a byte to it. */
static int fixture_gate_wait(void) {
    const char *gate = fixture_gate_host->config_get(fixture_gate_host, FIXTURE_GATE_NAME, "gate");
    if (gate == NULL) {
        /* A log line from a reader thread, for the test of a log that never drains. */
        fixture_gate_host->log(fixture_gate_host, FF_PLUGIN_LOG_WARN,
                               "no gate: plugin.fixture_gate.gate is not set");
        return FF_PLUGIN_ERROR;
    }
    int fd = open(gate, O_RDONLY);
    if (fd < 0) return FF_PLUGIN_ERROR;
    char byte = 0;
    ssize_t got = read(fd, &byte, 1);
    close(fd);
    return got == 1 ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
}

static int fixture_gate_report(void *state, ff_plugin_context *context,
                               const ff_plugin_report_request *request,
                               ff_plugin_report *report) {
    (void)state, (void)context;
    static const char *const names[] = {"gate", "financial year"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_INTEGER};
    if (fixture_gate_wait() != FF_PLUGIN_OK ||
        FF_PLUGIN_REPORT_TABLE(fixture_gate_host, report, "gate", names, types) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {{"opened", 0}, {NULL, (int64_t)request->financial_year}};
    return fixture_gate_host->report_row(report, cells, FF_PLUGIN_COUNT(cells));
}

static const uint32_t fixture_gate_financial_years[] = {2024};

static const ff_plugin fixture_gate_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = FIXTURE_GATE_NAME,
    .version = "1.0.0",
    .description = "A test fixture whose report waits at a FIFO until the test opens it.",
    .financial_years = fixture_gate_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(fixture_gate_financial_years),
    .init = fixture_gate_init,
    .fini = fixture_gate_fini,
    .report = fixture_gate_report,
};

FF_PLUGIN_ENTRY(fixture_gate_plugin)
