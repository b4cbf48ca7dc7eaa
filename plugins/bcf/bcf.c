/* bcf: a reporting rule for the Better Care Fund, which sets each local authority's NHS
 * contribution for a year against a minimum.
 *
 * The contribution is the budget the local authority received from the NHS on the core services
 * stream (where the demo passes it) and on the Better Care Fund stream, less what it was paid as
 * a provider under contracts on those streams, since a payment posts to the provider's receipts
 * too and is no part of the pooled fund.
 *
 * The minimum is illustrative, not the published national condition: a figure configured for
 * the authority, or else a share of its ICB's core services allocation, rounded up to the next
 * penny so that a contribution a fraction of a penny short is never counted as meeting it.
 *
 * Configuration (fundflowd's configuration file):
 *     plugin.bcf.minimum_pence.E99000001 = 4000000000   one authority's minimum, whole pence
 *     plugin.bcf.default_minimum_bp = 400               the share, in basis points (default 4%)
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define BCF_NAME "bcf"

/* Numbers from proto/fundflow/v1/events.proto. */
#define BCF_ORG_KIND_LOCAL_AUTHORITY 8
#define BCF_STREAM_CORE_SERVICES 1
#define BCF_STREAM_BETTER_CARE_FUND 9

/* An illustrative default share of the ICB's core services allocation: 4%. */
#define BCF_DEFAULT_MINIMUM_BASIS_POINTS 400

/* One local authority per ICB in the demo, and about 150 with social care duties in England;
 * 1,024 leaves room to spare. */
#define BCF_AUTHORITIES_MAX 1024

/* Organisation codes are at most 12 bytes (FF_ORG_CODE_BYTES_MAX in fundflow/limits.h). */
#define BCF_CODE_BYTES 16
#define BCF_NAME_BYTES 168
#define BCF_KEY_BYTES_MAX 64
#define BCF_MESSAGE_BYTES_MAX 384

typedef struct bcf_state {
    const ff_plugin_host *host;
    int64_t default_minimum_basis_points;
} bcf_state;

typedef struct bcf_authority {
    char code[BCF_CODE_BYTES];
    char name[BCF_NAME_BYTES];
    char icb_code[BCF_CODE_BYTES];
    int64_t contract_income_pence; /* paid and earned as a provider on the two streams */
} bcf_authority;

/* One authority's figures, as shown in its row. */
typedef struct bcf_figures {
    int64_t contribution_pence;
    int64_t icb_core_pence;
    int64_t minimum_pence;
    int64_t shortfall_pence;
    const char *basis;   /* how the minimum was set; "" when it could not be */
} bcf_figures;

typedef struct bcf_run {
    const bcf_state *bcf;
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
    bcf_authority *authorities;
    size_t authority_count;
} bcf_run;

/* ---- money and configuration ---- */

/* The share of whole, rounded up to the next penny; __int128 keeps the product exact. */
static int64_t bcf_share_rounded_up(int64_t whole_pence, int64_t basis_points) {
    if (whole_pence <= 0) return 0;
    __int128 scaled = (__int128)whole_pence * basis_points;
    return (int64_t)((scaled + FF_BASIS_POINTS_WHOLE - 1) / FF_BASIS_POINTS_WHOLE);
}

/* ---- collecting ---- */

static int bcf_authority_collect(void *argument, const ff_plugin_org *org) {
    bcf_run *run = argument;
    const char *only = run->request->org_code ? run->request->org_code : "";
    if (only[0] != '\0' && strcmp(only, org->code) != 0) return FF_PLUGIN_OK;
    const char *parent = org->parent_code ? org->parent_code : "";
    if (run->authority_count == BCF_AUTHORITIES_MAX || strlen(org->code) >= BCF_CODE_BYTES ||
        strlen(parent) >= BCF_CODE_BYTES) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "more local authorities than the bcf report's limit, or an overlong code");
        return FF_PLUGIN_ERROR;
    }
    bcf_authority *authority = &run->authorities[run->authority_count++];
    memset(authority, 0, sizeof *authority);
    strcpy(authority->code, org->code);
    strcpy(authority->icb_code, parent);
    snprintf(authority->name, sizeof authority->name, "%s", org->name ? org->name : "");
    return FF_PLUGIN_OK;
}

static int bcf_contract_visit(void *argument, const ff_plugin_contract *contract) {
    bcf_run *run = argument;
    if (contract->stream != BCF_STREAM_CORE_SERVICES &&
        contract->stream != BCF_STREAM_BETTER_CARE_FUND) {
        return FF_PLUGIN_OK;
    }
    for (size_t i = 0; i < run->authority_count; i++) {
        bcf_authority *authority = &run->authorities[i];
        if (strcmp(authority->code, contract->provider_code) != 0) continue;
        int64_t *income = &authority->contract_income_pence;
        if (run->host->money_add(*income, contract->paid_pence, income) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
        return run->host->money_add(*income, contract->earned_pence, income);
    }
    return FF_PLUGIN_OK;
}

/* ---- one authority ---- */

static int bcf_received(const bcf_run *run, const char *code, int stream, int64_t *pence_out) {
    ff_plugin_position position;
    if (run->host->position_get(run->context, code, stream, run->request->financial_year, 0,
                                &position) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    *pence_out = position.received_pence;
    return FF_PLUGIN_OK;
}

static int bcf_contribution(const bcf_run *run, const bcf_authority *authority,
                            int64_t *contribution_pence) {
    int64_t core_pence = 0, better_care_pence = 0;
    if (bcf_received(run, authority->code, BCF_STREAM_CORE_SERVICES, &core_pence) !=
            FF_PLUGIN_OK ||
        bcf_received(run, authority->code, BCF_STREAM_BETTER_CARE_FUND, &better_care_pence) !=
            FF_PLUGIN_OK ||
        run->host->money_add(core_pence, better_care_pence, contribution_pence) !=
            FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return ff_plugin_money_subtract(run->host, *contribution_pence,
                                    authority->contract_income_pence, contribution_pence);
}

/* A configured minimum wins; otherwise the default share of the ICB's core allocation, which is
 * read (and shown) either way so a configured figure can be compared with it. */
static int bcf_minimum(const bcf_run *run, const bcf_authority *authority,
                       bcf_figures *figures) {
    if (authority->icb_code[0] != '\0' &&
        bcf_received(run, authority->icb_code, BCF_STREAM_CORE_SERVICES,
                     &figures->icb_core_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char key[BCF_KEY_BYTES_MAX];
    snprintf(key, sizeof key, "minimum_pence.%s", authority->code);
    const char *configured = run->host->config_get(run->host, BCF_NAME, key);
    if (configured != NULL) {
        figures->basis = "configured";
        if (ff_plugin_whole_number_parse(configured, INT64_MAX, &figures->minimum_pence)) {
            return FF_PLUGIN_OK;
        }
        char message[BCF_MESSAGE_BYTES_MAX];
        snprintf(message, sizeof message,
                 "plugin.bcf.%s must be a whole, non-negative number of pence, not \"%s\"", key,
                 configured);
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR, message);
        return FF_PLUGIN_ERROR;
    }
    figures->basis = authority->icb_code[0] != '\0' ? "share of ICB core" : "";
    figures->minimum_pence =
        bcf_share_rounded_up(figures->icb_core_pence, run->bcf->default_minimum_basis_points);
    return FF_PLUGIN_OK;
}

static int bcf_figures_read(const bcf_run *run, const bcf_authority *authority,
                            bcf_figures *figures) {
    memset(figures, 0, sizeof *figures);
    if (bcf_contribution(run, authority, &figures->contribution_pence) != FF_PLUGIN_OK ||
        bcf_minimum(run, authority, figures) != FF_PLUGIN_OK ||
        ff_plugin_money_subtract(run->host, figures->minimum_pence, figures->contribution_pence,
                                 &figures->shortfall_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (figures->shortfall_pence < 0) figures->shortfall_pence = 0;
    return FF_PLUGIN_OK;
}

static int bcf_finding(const bcf_run *run, const bcf_authority *authority,
                       const bcf_figures *figures) {
    char message[BCF_MESSAGE_BYTES_MAX], contribution[FF_MONEY_TEXT_BYTES],
        minimum[FF_MONEY_TEXT_BYTES];
    run->host->money_format(figures->contribution_pence, contribution, sizeof contribution);
    run->host->money_format(figures->minimum_pence, minimum, sizeof minimum);
    if (figures->basis[0] == '\0') {
        snprintf(message, sizeof message,
                 "NHS contribution of %s, but no minimum: the authority has no ICB and none is "
                 "configured",
                 contribution);
        return run->host->report_finding(run->report, FF_PLUGIN_FINDING_WARN, authority->code,
                                         message);
    }
    int short_of_minimum = figures->shortfall_pence > 0;
    snprintf(message, sizeof message,
             "NHS contribution of %s is %s the illustrative minimum of %s (%s)", contribution,
             short_of_minimum ? "below" : "at or above", minimum, figures->basis);
    return run->host->report_finding(
        run->report, short_of_minimum ? FF_PLUGIN_FINDING_FAIL : FF_PLUGIN_FINDING_PASS,
        authority->code, message);
}

static int bcf_authority_report(const bcf_run *run, const bcf_authority *authority) {
    bcf_figures figures;
    if (bcf_figures_read(run, authority, &figures) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    int met = figures.basis[0] != '\0' && figures.shortfall_pence == 0;
    const ff_plugin_cell cells[] = {{authority->code, 0},
                                    {authority->name, 0},
                                    {authority->icb_code, 0},
                                    {NULL, figures.contribution_pence},
                                    {NULL, figures.icb_core_pence},
                                    {NULL, figures.minimum_pence},
                                    {figures.basis, 0},
                                    {NULL, figures.shortfall_pence},
                                    {NULL, met}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return bcf_finding(run, authority, &figures);
}

/* ---- callbacks ---- */

static int bcf_table(bcf_run *run) {
    static const char *const names[] = {"local authority", "name",    "ICB",
                                        "NHS contribution", "ICB core allocation",
                                        "minimum",          "minimum basis",
                                        "shortfall",        "met"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_FLAG};
    const ff_plugin_host *host = run->host;
    if (host->orgs_each(run->context, BCF_ORG_KIND_LOCAL_AUTHORITY, bcf_authority_collect, run) !=
            FF_PLUGIN_OK ||
        host->contracts_each(run->context, run->request->financial_year, bcf_contract_visit,
                             run) != FF_PLUGIN_OK ||
        FF_PLUGIN_REPORT_TABLE(host, run->report, "better care fund (illustrative minimum)",
                               names, types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < run->authority_count; i++) {
        if (bcf_authority_report(run, &run->authorities[i]) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    return FF_PLUGIN_OK;
}

static int bcf_report(void *state, ff_plugin_context *context,
                      const ff_plugin_report_request *request, ff_plugin_report *report) {
    const bcf_state *bcf = state;
    bcf_run run = {.bcf = bcf, .host = bcf->host, .context = context, .report = report,
                   .request = request};
    run.authorities = calloc(BCF_AUTHORITIES_MAX, sizeof *run.authorities);
    int result = run.authorities ? bcf_table(&run) : FF_PLUGIN_ERROR;
    free(run.authorities);
    return result;
}

static int bcf_init(const ff_plugin_host *host, void **state) {
    int64_t basis_points = BCF_DEFAULT_MINIMUM_BASIS_POINTS;
    const char *text = host->config_get(host, BCF_NAME, "default_minimum_bp");
    if (text != NULL &&
        !ff_plugin_whole_number_parse(text, FF_BASIS_POINTS_WHOLE, &basis_points)) {
        char message[BCF_MESSAGE_BYTES_MAX];
        snprintf(message, sizeof message,
                 "plugin.bcf.default_minimum_bp must be a whole number from 0 to %d",
                 FF_BASIS_POINTS_WHOLE);
        host->log(host, FF_PLUGIN_LOG_ERROR, message);
        return FF_PLUGIN_ERROR;
    }
    bcf_state *bcf = calloc(1, sizeof *bcf);
    if (bcf == NULL) return FF_PLUGIN_ERROR;
    bcf->host = host;
    bcf->default_minimum_basis_points = basis_points;
    *state = bcf;
    return FF_PLUGIN_OK;
}

static void bcf_fini(void *state) { free(state); }

static const uint32_t bcf_financial_years[] = {2023, 2024};

static const ff_plugin bcf_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = BCF_NAME,
    .version = "1.0.0",
    .description = "Better Care Fund: each local authority's NHS contribution against a minimum "
                   "that is illustrative only (configured, or by default 4% of its ICB's core "
                   "services allocation).",
    .financial_years = bcf_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(bcf_financial_years),
    .init = bcf_init,
    .fini = bcf_fini,
    .report = bcf_report,
    .veto = NULL,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(bcf_plugin)
