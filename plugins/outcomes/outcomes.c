/* outcomes: a reporting rule that lists a year's outcome-based contracts, what each has withheld,
 * earned and released metric by metric, and warns about contracts past month 6 whose outcomes
 * are still unreported.
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define OUTCOMES_NAME "outcomes"

/* ContractType.OUTCOME_BASED in proto/fundflow/v1/events.proto. */
#define OUTCOMES_CONTRACT_TYPE_OUTCOME_BASED 5

/* Outcomes are expected by the half year: a contract paid for any month after M6 should have
 * reported at least one metric by then. */
#define OUTCOMES_REPORTING_MONTH_DUE 6
#define OUTCOMES_MONTHS_PER_YEAR 12

/* A finding's message: a contract id, three amounts and some words fit easily. */
#define OUTCOMES_MESSAGE_BYTES_MAX 320

typedef struct outcomes_state {
    const ff_plugin_host *host;
} outcomes_state;

/* What one walk over the contracts needs: where its rows go and which organisation it is for. */
typedef struct outcomes_walk {
    const ff_plugin_host *host;
    ff_plugin_report *report;
    const char *org_code;   /* "" for every organisation */
} outcomes_walk;

/* ---- the contracts table ---- */

static int outcomes_contract_wanted(const outcomes_walk *walk, const ff_plugin_contract *contract) {
    if (contract->type != OUTCOMES_CONTRACT_TYPE_OUTCOME_BASED) return 0;
    if (walk->org_code[0] == '\0') return 1;
    return strcmp(contract->commissioner_code, walk->org_code) == 0 ||
           strcmp(contract->provider_code, walk->org_code) == 0;
}

/* The last month after M6 with a payment, or 0 if every payment so far is for M1 to M6. */
static unsigned outcomes_month_paid_after_due(const ff_plugin_contract *contract) {
    unsigned latest = 0;
    for (unsigned month = OUTCOMES_REPORTING_MONTH_DUE + 1; month <= OUTCOMES_MONTHS_PER_YEAR;
         month++) {
        if (contract->paid_by_month_pence[month - 1] != 0) latest = month;
    }
    return latest;
}

static size_t outcomes_metrics_reported(const ff_plugin_contract *contract) {
    size_t reported = 0;
    for (size_t i = 0; i < contract->metric_count; i++) {
        if (contract->metrics[i].reported) reported++;
    }
    return reported;
}

/* Warns about a contract paid past M6 that has reported nothing, and passes every other. */
static int outcomes_contract_finding(const outcomes_walk *walk,
                                     const ff_plugin_contract *contract, int64_t pending_pence) {
    char message[OUTCOMES_MESSAGE_BYTES_MAX], pending[FF_MONEY_TEXT_BYTES];
    walk->host->money_format(pending_pence, pending, sizeof pending);
    unsigned late_month = outcomes_month_paid_after_due(contract);
    size_t reported = outcomes_metrics_reported(contract);
    int level = FF_PLUGIN_FINDING_PASS;
    if (late_month != 0 && reported == 0) {
        level = FF_PLUGIN_FINDING_WARN;
        snprintf(message, sizeof message,
                 "contract %s is paid to M%u but none of its %zu outcome metrics is reported; "
                 "%s of its pot is still withheld",
                 contract->contract_id, late_month, contract->metric_count, pending);
    } else {
        snprintf(message, sizeof message,
                 "contract %s: %zu of %zu outcome metrics reported; %s of its pot withheld",
                 contract->contract_id, reported, contract->metric_count, pending);
    }
    return walk->host->report_finding(walk->report, level, contract->commissioner_code, message);
}

static int outcomes_contract_visit(void *argument, const ff_plugin_contract *contract) {
    const outcomes_walk *walk = argument;
    if (!outcomes_contract_wanted(walk, contract)) return FF_PLUGIN_OK;
    /* The pot still pending is what neither an outcome report has earned nor released. */
    int64_t pending_pence = 0;
    if (ff_plugin_money_subtract(walk->host, contract->withheld_pot_pence, contract->earned_pence,
                                 &pending_pence) != FF_PLUGIN_OK ||
        ff_plugin_money_subtract(walk->host, pending_pence, contract->released_pence,
                                 &pending_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {
        {contract->contract_id, 0}, {contract->commissioner_code, 0},
        {contract->provider_code, 0}, {NULL, contract->withheld_pot_pence},
        {NULL, pending_pence},      {NULL, contract->earned_pence},
        {NULL, contract->released_pence}};
    if (walk->host->report_row(walk->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return outcomes_contract_finding(walk, contract, pending_pence);
}

static int outcomes_contracts_table(outcomes_walk *walk, ff_plugin_context *context,
                                    uint32_t financial_year) {
    static const char *const names[] = {"contract", "commissioner", "provider", "pot",
                                        "withheld pending", "earned", "released"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(walk->host, walk->report, "outcome contracts", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return walk->host->contracts_each(context, financial_year, outcomes_contract_visit, walk);
}

/* ---- the metrics table ---- */

static int outcomes_metric_row(const outcomes_walk *walk, const ff_plugin_contract *contract,
                               const ff_plugin_metric *metric) {
    const ff_plugin_cell cells[] = {
        {contract->contract_id, 0},        {metric->code, 0},
        {NULL, (int64_t)metric->weight_bp}, {NULL, metric->share_pence},
        {NULL, metric->reported ? 1 : 0},  {NULL, (int64_t)metric->achievement_bp},
        {NULL, metric->earned_pence},      {NULL, metric->released_pence}};
    return walk->host->report_row(walk->report, cells, FF_PLUGIN_COUNT(cells));
}

static int outcomes_metrics_visit(void *argument, const ff_plugin_contract *contract) {
    const outcomes_walk *walk = argument;
    if (!outcomes_contract_wanted(walk, contract)) return FF_PLUGIN_OK;
    for (size_t i = 0; i < contract->metric_count; i++) {
        if (outcomes_metric_row(walk, contract, &contract->metrics[i]) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    return FF_PLUGIN_OK;
}

static int outcomes_metrics_table(outcomes_walk *walk, ff_plugin_context *context,
                                  uint32_t financial_year) {
    static const char *const names[] = {"contract", "metric",      "weight", "share",
                                        "reported", "achievement", "earned", "released"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_PERCENT, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_FLAG,    FF_PLUGIN_COLUMN_PERCENT,
                                FF_PLUGIN_COLUMN_MONEY,   FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(walk->host, walk->report, "outcome metrics", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return walk->host->contracts_each(context, financial_year, outcomes_metrics_visit, walk);
}

/* ---- callbacks ---- */

/* The builder takes one table at a time, so the contracts are walked once per table. */
static int outcomes_report(void *state, ff_plugin_context *context,
                           const ff_plugin_report_request *request, ff_plugin_report *report) {
    const outcomes_state *outcomes = state;
    outcomes_walk walk = {outcomes->host, report, request->org_code ? request->org_code : ""};
    if (outcomes_contracts_table(&walk, context, request->financial_year) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return outcomes_metrics_table(&walk, context, request->financial_year);
}

static int outcomes_init(const ff_plugin_host *host, void **state) {
    outcomes_state *outcomes = calloc(1, sizeof *outcomes);
    if (outcomes == NULL) return FF_PLUGIN_ERROR;
    outcomes->host = host;
    *state = outcomes;
    return FF_PLUGIN_OK;
}

static void outcomes_fini(void *state) { free(state); }

static const uint32_t outcomes_financial_years[] = {2023, 2024};

static const ff_plugin outcomes_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = OUTCOMES_NAME,
    .version = "1.0.0",
    .description = "Outcome-based contracts: each pot withheld, earned and released metric by "
                   "metric, warning where a contract paid past M6 has reported no outcome.",
    .financial_years = outcomes_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(outcomes_financial_years),
    .init = outcomes_init,
    .fini = outcomes_fini,
    .report = outcomes_report,
    .veto = NULL,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(outcomes_plugin)
