/* system_balance: a reporting rule for financial balance. Up to 2025/26 each integrated care
 * system (an ICB with its places) must balance as a whole; from 2026/27 each body, the ICB and
 * every place, must break even on its own. Both views are always shown; the year decides which
 * one the findings judge.
 *
 * A body's figures add up every revenue stream; capital is left out because it is controlled
 * separately, against capital limits, not revenue balance. Its surplus is what it received less
 * what it passed on and its forecast expenditure. In each stream the forecast expenditure is the
 * larger of its contract value (what it committed: unpaid commitments, outcome pots withheld,
 * payments and earned outcomes) and its full-year plan (the sum of the twelve months of the
 * latest plan, PlanSet, as at the report's sequence); with no plan it is the contract value. So a
 * body that plans to spend more than it received forecasts a deficit, while one that planned
 * less than it committed forecasts what it committed. A system's income is its ICB's receipts,
 * on the assumption that a place is funded only by its own ICB, so the budgets an ICB passes to
 * its places stay inside the system; whatever the places pass on, and whatever the ICB passes on
 * beyond its places, leaves it.
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define SYSTEM_BALANCE_NAME "system_balance"

/* OrgKind numbers from proto/fundflow/v1/events.proto. */
#define SYSTEM_BALANCE_ORG_KIND_ICB 3
#define SYSTEM_BALANCE_ORG_KIND_PLACE 4

/* The last financial year judged by system balance; from the next, each body breaks even. */
#define SYSTEM_BALANCE_SYSTEM_RULE_YEAR_LAST 2025u

/* There are 42 ICBs and 106 sub-ICB locations; the bounds leave room for any reorganisation. */
#define SYSTEM_BALANCE_ICBS_MAX 256
#define SYSTEM_BALANCE_PLACES_MAX 2048

/* Organisation codes are at most 12 bytes (FF_ORG_CODE_BYTES_MAX in fundflow/limits.h). */
#define SYSTEM_BALANCE_CODE_BYTES 16
#define SYSTEM_BALANCE_NAME_BYTES 168
#define SYSTEM_BALANCE_MESSAGE_BYTES_MAX 384

/* Stream numbers of the revenue streams: every stream but CAPITAL (8). */
static const int system_balance_revenue_streams[] = {1, 2, 3, 4, 5, 6, 7, 9};

typedef struct system_balance_state {
    const ff_plugin_host *host;
} system_balance_state;

typedef struct system_balance_figures {
    int64_t received_pence;
    int64_t passed_on_pence;
    int64_t forecast_pence;  /* forecast expenditure: per stream max(contract value, plan) */
    int64_t surplus_pence;   /* negative for a deficit */
} system_balance_figures;

typedef struct system_balance_body {
    char code[SYSTEM_BALANCE_CODE_BYTES];
    char name[SYSTEM_BALANCE_NAME_BYTES];
    size_t icb_index;         /* a place's ICB; an ICB's own index */
    system_balance_figures figures;
} system_balance_body;

typedef struct system_balance_run {
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
    const char *org_code;
    system_balance_body *icbs;
    size_t icb_count;
    system_balance_body *places;
    size_t place_count;
} system_balance_run;

/* ---- money ---- */

/* Adds each field of b into a, every sum checked. */
static int system_balance_figures_add(const ff_plugin_host *host, system_balance_figures *a,
                                      const system_balance_figures *b) {
    if (host->money_add(a->received_pence, b->received_pence, &a->received_pence) !=
            FF_PLUGIN_OK ||
        host->money_add(a->passed_on_pence, b->passed_on_pence, &a->passed_on_pence) !=
            FF_PLUGIN_OK ||
        host->money_add(a->forecast_pence, b->forecast_pence, &a->forecast_pence) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return host->money_add(a->surplus_pence, b->surplus_pence, &a->surplus_pence);
}

/* received - passed on - forecast expenditure. */
static int system_balance_surplus(const ff_plugin_host *host, system_balance_figures *figures) {
    int64_t surplus_pence = 0;
    if (ff_plugin_money_subtract(host, figures->received_pence, figures->passed_on_pence,
                                 &surplus_pence) != FF_PLUGIN_OK ||
        ff_plugin_money_subtract(host, surplus_pence, figures->forecast_pence,
                                 &surplus_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    figures->surplus_pence = surplus_pence;
    return FF_PLUGIN_OK;
}

/* ---- reading ---- */

/* The body's full-year plan for the stream (the sum of its twelve months), or -1 if it has none. */
static int system_balance_plan_read(const system_balance_run *run, const char *code, int stream,
                                    int64_t *plan_pence) {
    const ff_plugin_host *host = run->host;
    int64_t months_pence[12];
    int found = 0;
    *plan_pence = -1;
    if (host->plan_get(run->context, code, stream, run->request->financial_year, months_pence,
                       &found) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (!found) return FF_PLUGIN_OK;
    int64_t total_pence = 0;
    for (size_t month = 0; month < FF_PLUGIN_COUNT(months_pence); month++) {
        if (host->money_add(total_pence, months_pence[month], &total_pence) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    *plan_pence = total_pence;
    return FF_PLUGIN_OK;
}

static int system_balance_stream_add(const system_balance_run *run, const char *code, int stream,
                                     system_balance_figures *figures) {
    const ff_plugin_host *host = run->host;
    ff_plugin_position position;
    if (host->position_get(run->context, code, stream, run->request->financial_year, 0,
                           &position) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    /* Outcome pots still withheld count as committed: the contract holds them until released. */
    system_balance_figures stream_figures = {position.received_pence, position.passed_on_pence,
                                             position.committed_pence, 0};
    int64_t plan_pence = -1;
    if (host->money_add(stream_figures.forecast_pence, position.withheld_pence,
                        &stream_figures.forecast_pence) != FF_PLUGIN_OK ||
        host->money_add(stream_figures.forecast_pence, position.paid_pence,
                        &stream_figures.forecast_pence) != FF_PLUGIN_OK ||
        host->money_add(stream_figures.forecast_pence, position.earned_pence,
                        &stream_figures.forecast_pence) != FF_PLUGIN_OK ||
        system_balance_plan_read(run, code, stream, &plan_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    /* Spending runs to the larger of what is committed and what is planned. */
    if (plan_pence > stream_figures.forecast_pence) stream_figures.forecast_pence = plan_pence;
    return system_balance_figures_add(host, figures, &stream_figures);
}

static int system_balance_body_read(const system_balance_run *run, system_balance_body *body) {
    memset(&body->figures, 0, sizeof body->figures);
    size_t stream_count =
        FF_PLUGIN_COUNT(system_balance_revenue_streams);
    for (size_t i = 0; i < stream_count; i++) {
        if (system_balance_stream_add(run, body->code, system_balance_revenue_streams[i],
                                      &body->figures) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    return system_balance_surplus(run->host, &body->figures);
}

static int system_balance_body_fill(system_balance_body *body, const ff_plugin_org *org,
                                    size_t icb_index) {
    if (strlen(org->code) >= sizeof body->code) return FF_PLUGIN_ERROR;
    memset(body, 0, sizeof *body);
    strcpy(body->code, org->code);
    snprintf(body->name, sizeof body->name, "%s", org->name ? org->name : "");
    body->icb_index = icb_index;
    return FF_PLUGIN_OK;
}

static int system_balance_icb_collect(void *argument, const ff_plugin_org *org) {
    system_balance_run *run = argument;
    if (run->icb_count == SYSTEM_BALANCE_ICBS_MAX) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "more ICBs than the system_balance report's limit");
        return FF_PLUGIN_ERROR;
    }
    size_t index = run->icb_count++;
    return system_balance_body_fill(&run->icbs[index], org, index);
}

/* A place under no ICB belongs to no system and is left out. */
static int system_balance_place_collect(void *argument, const ff_plugin_org *org) {
    system_balance_run *run = argument;
    const char *parent = org->parent_code ? org->parent_code : "";
    for (size_t i = 0; i < run->icb_count; i++) {
        if (strcmp(run->icbs[i].code, parent) != 0) continue;
        if (run->place_count == SYSTEM_BALANCE_PLACES_MAX) {
            run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                           "more places than the system_balance report's limit");
            return FF_PLUGIN_ERROR;
        }
        return system_balance_body_fill(&run->places[run->place_count++], org, i);
    }
    return FF_PLUGIN_OK;
}

static int system_balance_bodies_read(system_balance_run *run) {
    const ff_plugin_host *host = run->host;
    if (host->orgs_each(run->context, SYSTEM_BALANCE_ORG_KIND_ICB, system_balance_icb_collect,
                        run) != FF_PLUGIN_OK ||
        host->orgs_each(run->context, SYSTEM_BALANCE_ORG_KIND_PLACE,
                        system_balance_place_collect, run) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->icb_count; i++) {
        if (system_balance_body_read(run, &run->icbs[i]) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->place_count; i++) {
        if (system_balance_body_read(run, &run->places[i]) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    return FF_PLUGIN_OK;
}

/* ---- filtering ---- */

/* Asked for an ICB, its whole system shows; asked for a place, the place and its system. */
static int system_balance_system_wanted(const system_balance_run *run, size_t icb_index) {
    if (run->org_code[0] == '\0' || strcmp(run->org_code, run->icbs[icb_index].code) == 0) {
        return 1;
    }
    for (size_t i = 0; i < run->place_count; i++) {
        if (run->places[i].icb_index == icb_index &&
            strcmp(run->places[i].code, run->org_code) == 0) {
            return 1;
        }
    }
    return 0;
}

static int system_balance_body_wanted(const system_balance_run *run,
                                      const system_balance_body *body) {
    return run->org_code[0] == '\0' || strcmp(run->org_code, body->code) == 0 ||
           strcmp(run->org_code, run->icbs[body->icb_index].code) == 0;
}

static int system_balance_judges_systems(const system_balance_run *run) {
    return run->request->financial_year <= SYSTEM_BALANCE_SYSTEM_RULE_YEAR_LAST;
}

/* ---- the systems table ---- */

/* A system's figures: its ICB's receipts; what leaves it; every body's forecast expenditure. */
static int system_balance_system_figures(const system_balance_run *run, size_t icb_index,
                                         system_balance_figures *system, size_t *place_count) {
    const ff_plugin_host *host = run->host;
    const system_balance_body *icb = &run->icbs[icb_index];
    system_balance_figures places = {0, 0, 0, 0};
    *place_count = 0;
    for (size_t i = 0; i < run->place_count; i++) {
        if (run->places[i].icb_index != icb_index) continue;
        if (system_balance_figures_add(host, &places, &run->places[i].figures) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
        (*place_count)++;
    }
    *system = (system_balance_figures){icb->figures.received_pence, 0, 0, 0};
    if (ff_plugin_money_subtract(host, icb->figures.passed_on_pence, places.received_pence,
                                 &system->passed_on_pence) != FF_PLUGIN_OK ||
        host->money_add(system->passed_on_pence, places.passed_on_pence,
                        &system->passed_on_pence) != FF_PLUGIN_OK ||
        host->money_add(icb->figures.forecast_pence, places.forecast_pence,
                        &system->forecast_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return system_balance_surplus(host, system);
}

static int system_balance_finding(const system_balance_run *run, const char *code,
                                  const char *what, int64_t surplus_pence) {
    char message[SYSTEM_BALANCE_MESSAGE_BYTES_MAX], amount[FF_MONEY_TEXT_BYTES];
    uint32_t year = run->request->financial_year;
    run->host->money_format(surplus_pence, amount, sizeof amount);
    const char *result = surplus_pence < 0 ? "deficit" : surplus_pence > 0 ? "surplus" : "balance";
    snprintf(message, sizeof message,
             "%s %s for %u/%02u forecasts a %s of %s (received less passed on less forecast "
             "expenditure, the larger of contract value and plan); %s",
             code, what, year, (year + 1u) % 100u, result, amount,
             system_balance_judges_systems(run)
                 ? "up to 2025/26 each system must balance as a whole"
                 : "from 2026/27 each body must break even on its own");
    return run->host->report_finding(run->report,
                                     surplus_pence < 0 ? FF_PLUGIN_FINDING_FAIL
                                                       : FF_PLUGIN_FINDING_PASS,
                                     code, message);
}

static int system_balance_system_row(const system_balance_run *run, size_t icb_index) {
    system_balance_figures system;
    size_t place_count = 0;
    if (system_balance_system_figures(run, icb_index, &system, &place_count) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const system_balance_body *icb = &run->icbs[icb_index];
    const ff_plugin_cell cells[] = {{icb->code, 0},
                                    {icb->name, 0},
                                    {NULL, (int64_t)place_count},
                                    {NULL, system.received_pence},
                                    {NULL, system.passed_on_pence},
                                    {NULL, system.forecast_pence},
                                    {NULL, system.surplus_pence}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (!system_balance_judges_systems(run)) return FF_PLUGIN_OK;
    return system_balance_finding(run, icb->code, "system (the ICB with its places)",
                                  system.surplus_pence);
}

static int system_balance_systems_table(const system_balance_run *run) {
    static const char *const names[] = {
        "ICB",         "name",        "places", "received", "passed on outside the system",
        "forecast expenditure", "surplus (deficit)"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_INTEGER, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY,   FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "systems", names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->icb_count; i++) {
        if (!system_balance_system_wanted(run, i)) continue;
        if (system_balance_system_row(run, i) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- the bodies table ---- */

static int system_balance_body_row(const system_balance_run *run,
                                   const system_balance_body *body, const char *kind) {
    if (!system_balance_body_wanted(run, body)) return FF_PLUGIN_OK;
    const ff_plugin_cell cells[] = {{body->code, 0},
                                    {body->name, 0},
                                    {kind, 0},
                                    {run->icbs[body->icb_index].code, 0},
                                    {NULL, body->figures.received_pence},
                                    {NULL, body->figures.passed_on_pence},
                                    {NULL, body->figures.forecast_pence},
                                    {NULL, body->figures.surplus_pence}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (system_balance_judges_systems(run)) return FF_PLUGIN_OK;
    return system_balance_finding(run, body->code, kind, body->figures.surplus_pence);
}

static int system_balance_bodies_table(const system_balance_run *run) {
    static const char *const names[] = {"body",        "name",     "kind",
                                        "system",      "received", "passed on",
                                        "forecast expenditure", "surplus (deficit)"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "bodies", names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->icb_count; i++) {
        if (system_balance_body_row(run, &run->icbs[i], "ICB") != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    for (size_t i = 0; i < run->place_count; i++) {
        if (system_balance_body_row(run, &run->places[i], "place") != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    return FF_PLUGIN_OK;
}

/* ---- callbacks ---- */

static int system_balance_report(void *state, ff_plugin_context *context,
                                 const ff_plugin_report_request *request,
                                 ff_plugin_report *report) {
    const system_balance_state *system_balance = state;
    system_balance_run run = {.host = system_balance->host, .context = context,
                              .report = report, .request = request,
                              .org_code = request->org_code ? request->org_code : ""};
    run.icbs = calloc(SYSTEM_BALANCE_ICBS_MAX, sizeof *run.icbs);
    run.places = calloc(SYSTEM_BALANCE_PLACES_MAX, sizeof *run.places);
    int result = run.icbs && run.places ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
    if (result == FF_PLUGIN_OK) result = system_balance_bodies_read(&run);
    if (result == FF_PLUGIN_OK) result = system_balance_systems_table(&run);
    if (result == FF_PLUGIN_OK) result = system_balance_bodies_table(&run);
    free(run.icbs);
    free(run.places);
    return result;
}

static int system_balance_init(const ff_plugin_host *host, void **state) {
    system_balance_state *system_balance = calloc(1, sizeof *system_balance);
    if (system_balance == NULL) return FF_PLUGIN_ERROR;
    system_balance->host = host;
    *state = system_balance;
    return FF_PLUGIN_OK;
}

static void system_balance_fini(void *state) { free(state); }

static const uint32_t system_balance_financial_years[] = {2023, 2024, 2025, 2026};

static const ff_plugin system_balance_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = SYSTEM_BALANCE_NAME,
    .version = "1.0.0",
    .description = "Financial balance: received less passed on less forecast expenditure (the "
                   "larger of contract value and plan, per stream); up to 2025/26 each ICB with "
                   "its places must balance as a system; from 2026/27 each body must break even "
                   "on its own.",
    .financial_years = system_balance_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(system_balance_financial_years),
    .init = system_balance_init,
    .fini = system_balance_fini,
    .report = system_balance_report,
    .veto = NULL,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(system_balance_plugin)
