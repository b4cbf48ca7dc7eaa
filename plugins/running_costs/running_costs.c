/* running_costs: a reporting rule that sets each ICB's running cost allowance for a year against
 * what it has committed and paid from it, and, when configured to, vetoes running-cost contracts
 * that would take an ICB's commitments past its allowance.
 *
 * Configuration (fundflowd's configuration file):
 *     plugin.running_costs.veto = on     refuse such contracts and variations (default off)
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define RUNNING_COSTS_NAME "running_costs"

/* OrgKind.ICB and Stream.RUNNING_COST_ALLOWANCE in proto/fundflow/v1/events.proto. */
#define RUNNING_COSTS_ORG_KIND_ICB 3
#define RUNNING_COSTS_STREAM 5

/* The share of the allowance, in basis points, above which an ICB is warned that it is close
 * to spending all of it. */
#define RUNNING_COSTS_WARN_ABOVE_BASIS_POINTS 9500

#define RUNNING_COSTS_MESSAGE_BYTES_MAX 320
/* "2024/25" and its terminator, with room to spare for any uint32_t year. */
#define RUNNING_COSTS_YEAR_TEXT_BYTES 16

typedef struct running_costs_state {
    const ff_plugin_host *host;
    int veto_on;
} running_costs_state;

typedef struct running_costs_walk {
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
} running_costs_walk;

/* One ICB's figures for the stream and year. */
typedef struct running_costs_figures {
    int64_t allowance_pence;
    int64_t committed_pence; /* agreed and not yet paid, outcome pots included */
    int64_t paid_pence;      /* paid, outcome pots earned included */
    int64_t used_pence;
    int64_t headroom_pence;
    int64_t used_basis_points;
} running_costs_figures;

/* ---- money and years ---- */

static void running_costs_year_format(uint32_t financial_year, char *text, size_t text_bytes) {
    snprintf(text, text_bytes, "%u/%02u", financial_year, (financial_year + 1u) % 100u);
}

/* What an organisation has used of a stream: committed, withheld, paid and earned. An outcome
 * pot still withheld counts, because the contract has spoken for it until it is released. */
static int running_costs_used(const ff_plugin_host *host, const ff_plugin_position *position,
                              running_costs_figures *figures) {
    if (host->money_add(position->committed_pence, position->withheld_pence,
                        &figures->committed_pence) != FF_PLUGIN_OK ||
        host->money_add(position->paid_pence, position->earned_pence, &figures->paid_pence) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return host->money_add(figures->committed_pence, figures->paid_pence, &figures->used_pence);
}

/* The share of the allowance used, in basis points, rounded down so that a figure shown as
 * 95.00% is never in fact below it. __int128 keeps the product exact for any int64 amounts. */
static int64_t running_costs_basis_points(int64_t part_pence, int64_t whole_pence) {
    if (whole_pence <= 0) return 0;
    __int128 scaled = (__int128)part_pence * FF_BASIS_POINTS_WHOLE;
    __int128 quotient = scaled / whole_pence;
    if (scaled < 0 && scaled % whole_pence != 0) quotient -= 1;
    if (quotient > INT64_MAX) return INT64_MAX;
    if (quotient < INT64_MIN) return INT64_MIN;
    return (int64_t)quotient;
}

/* ---- the report ---- */

static int running_costs_figures_read(const running_costs_walk *walk, const char *icb_code,
                                      running_costs_figures *figures) {
    ff_plugin_position position;
    if (walk->host->position_get(walk->context, icb_code, RUNNING_COSTS_STREAM,
                                 walk->request->financial_year, 0, &position) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    figures->allowance_pence = position.received_pence;
    if (running_costs_used(walk->host, &position, figures) != FF_PLUGIN_OK ||
        ff_plugin_money_subtract(walk->host, figures->allowance_pence, figures->used_pence,
                                 &figures->headroom_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    figures->used_basis_points =
        running_costs_basis_points(figures->used_pence, figures->allowance_pence);
    return FF_PLUGIN_OK;
}

/* Compares exactly rather than through the rounded percentage. */
static int running_costs_finding(const running_costs_walk *walk, const char *icb_code,
                                 const running_costs_figures *figures) {
    char message[RUNNING_COSTS_MESSAGE_BYTES_MAX], allowance[FF_MONEY_TEXT_BYTES],
        used[FF_MONEY_TEXT_BYTES], year[RUNNING_COSTS_YEAR_TEXT_BYTES];
    walk->host->money_format(figures->allowance_pence, allowance, sizeof allowance);
    walk->host->money_format(figures->used_pence, used, sizeof used);
    running_costs_year_format(walk->request->financial_year, year, sizeof year);
    __int128 used_scaled = (__int128)figures->used_pence * FF_BASIS_POINTS_WHOLE;
    __int128 warn_scaled =
        (__int128)figures->allowance_pence * RUNNING_COSTS_WARN_ABOVE_BASIS_POINTS;
    int level = FF_PLUGIN_FINDING_PASS;
    const char *verdict = "within";
    if (figures->used_pence > figures->allowance_pence) {
        level = FF_PLUGIN_FINDING_FAIL, verdict = "over";
    } else if (figures->allowance_pence == 0) {
        level = FF_PLUGIN_FINDING_WARN, verdict = "with no";
    } else if (used_scaled > warn_scaled) {
        level = FF_PLUGIN_FINDING_WARN, verdict = "above 95% of";
    }
    if (figures->allowance_pence == 0 && level == FF_PLUGIN_FINDING_WARN) {
        snprintf(message, sizeof message,
                 "%s has used %s and has no running cost allowance for %s", icb_code, used, year);
    } else {
        snprintf(message, sizeof message,
                 "%s has used %s, %s its running cost allowance of %s for %s", icb_code, used,
                 verdict, allowance, year);
    }
    return walk->host->report_finding(walk->report, level, icb_code, message);
}

static int running_costs_icb_visit(void *argument, const ff_plugin_org *icb) {
    const running_costs_walk *walk = argument;
    const char *only = walk->request->org_code;
    if (only != NULL && only[0] != '\0' && strcmp(only, icb->code) != 0) return FF_PLUGIN_OK;
    running_costs_figures figures;
    if (running_costs_figures_read(walk, icb->code, &figures) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const ff_plugin_cell cells[] = {
        {icb->code, 0},
        {icb->name, 0},
        {NULL, figures.allowance_pence},
        {NULL, figures.committed_pence},
        {NULL, figures.paid_pence},
        {NULL, figures.used_pence},
        {NULL, figures.headroom_pence},
        {NULL, figures.used_basis_points}};
    if (walk->host->report_row(walk->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return running_costs_finding(walk, icb->code, &figures);
}

static int running_costs_report(void *state, ff_plugin_context *context,
                                const ff_plugin_report_request *request,
                                ff_plugin_report *report) {
    static const char *const names[] = {"ICB",  "name", "allowance", "committed",
                                        "paid", "used", "headroom",  "used %"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_PERCENT};
    const running_costs_state *running_costs = state;
    running_costs_walk walk = {running_costs->host, context, report, request};
    if (FF_PLUGIN_REPORT_TABLE(walk.host, report, "running cost allowance", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return walk.host->orgs_each(context, RUNNING_COSTS_ORG_KIND_ICB, running_costs_icb_visit,
                                &walk);
}

/* ---- the veto ---- */

static int running_costs_command_in_scope(const ff_plugin_command *command) {
    if (command->stream != RUNNING_COSTS_STREAM || command->amount_pence <= 0) return 0;
    if (command->from_code == NULL || command->from_code[0] == '\0') return 0;
    return strcmp(command->kind, "contract_agreed") == 0 ||
           strcmp(command->kind, "contract_varied") == 0;
}

static void running_costs_veto_reason(const ff_plugin_host *host, const ff_plugin_command *command,
                                      int64_t allowance_pence, int64_t used_pence, char *reason,
                                      size_t reason_bytes) {
    char allowance[FF_MONEY_TEXT_BYTES], amount[FF_MONEY_TEXT_BYTES],
        used[FF_MONEY_TEXT_BYTES], year[RUNNING_COSTS_YEAR_TEXT_BYTES];
    host->money_format(allowance_pence, allowance, sizeof allowance);
    host->money_format(command->amount_pence, amount, sizeof amount);
    host->money_format(used_pence, used, sizeof used);
    running_costs_year_format(command->financial_year, year, sizeof year);
    snprintf(reason, reason_bytes,
             "%s's running cost allowance for %s is %s and %s of it is already committed or "
             "paid; %s more would take it past the allowance",
             command->from_code, year, allowance, used, amount);
}

/* Refuses a running-cost contract, or an increase to one, that would commit more than the
 * commissioner's allowance. The position is read before the command applies, so it holds
 * everything but the command itself. An unreadable position is let through: the ledger's own
 * checks refuse an unknown commissioner with a better message. */
static int running_costs_veto(void *state, ff_plugin_context *context,
                              const ff_plugin_command *command, char *reason,
                              size_t reason_bytes) {
    const running_costs_state *running_costs = state;
    if (!running_costs->veto_on || !running_costs_command_in_scope(command)) return FF_PLUGIN_OK;
    const ff_plugin_host *host = running_costs->host;
    ff_plugin_position position;
    running_costs_figures figures;
    if (host->position_get(context, command->from_code, RUNNING_COSTS_STREAM,
                           command->financial_year, 0, &position) != FF_PLUGIN_OK) {
        return FF_PLUGIN_OK;
    }
    int64_t after_pence = 0;
    if (running_costs_used(host, &position, &figures) != FF_PLUGIN_OK ||
        host->money_add(figures.used_pence, command->amount_pence, &after_pence) !=
            FF_PLUGIN_OK ||
        after_pence > position.received_pence) {
        running_costs_veto_reason(host, command, position.received_pence, figures.used_pence,
                                  reason, reason_bytes);
        return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- loading ---- */

static int running_costs_init(const ff_plugin_host *host, void **state) {
    const char *veto = host->config_get(host, RUNNING_COSTS_NAME, "veto");
    if (veto != NULL && strcmp(veto, "on") != 0 && strcmp(veto, "off") != 0) {
        host->log(host, FF_PLUGIN_LOG_ERROR,
                  "plugin.running_costs.veto must be \"on\" or \"off\"");
        return FF_PLUGIN_ERROR;
    }
    running_costs_state *running_costs = calloc(1, sizeof *running_costs);
    if (running_costs == NULL) return FF_PLUGIN_ERROR;
    running_costs->host = host;
    running_costs->veto_on = veto != NULL && strcmp(veto, "on") == 0;
    if (running_costs->veto_on) {
        host->log(host, FF_PLUGIN_LOG_INFO,
                  "refusing running-cost contracts that would exceed an allowance");
    }
    *state = running_costs;
    return FF_PLUGIN_OK;
}

static void running_costs_fini(void *state) { free(state); }

static const uint32_t running_costs_financial_years[] = {2023, 2024};

static const ff_plugin running_costs_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = RUNNING_COSTS_NAME,
    .version = "1.0.0",
    .description = "Each ICB's running cost allowance against what it has committed and paid "
                   "from it, failing an ICB over its allowance and warning above 95%.",
    .financial_years = running_costs_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(running_costs_financial_years),
    .init = running_costs_init,
    .fini = running_costs_fini,
    .report = running_costs_report,
    .veto = running_costs_veto,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(running_costs_plugin)
