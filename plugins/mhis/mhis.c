/* mhis: a reporting rule for the Mental Health Investment Standard, under which each ICB's
 * mental health spend must grow at least as fast as its programme allocation.
 *
 * Spend is the planned value (value_pence) of the year's contracts of category MENTAL_HEALTH
 * commissioned by the ICB or by one of its places. Dementia and learning disability and autism
 * are categories of their own and so never counted; contracts on the specialised and service
 * development funding streams are left out whatever their category. The programme allocation is
 * what the ICB received on the core services stream.
 *
 * Growth is shown in basis points, (this year - last year) * FF_BASIS_POINTS_WHOLE / last year,
 * rounded half away from zero to a whole basis point. Whether the standard is met is decided on
 * the exact fractions, by cross-multiplication, so rounding can never turn a miss into a pass.
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define MHIS_NAME "mhis"

/* Numbers from proto/fundflow/v1/events.proto. */
#define MHIS_ORG_KIND_ICB 3
#define MHIS_ORG_KIND_PLACE 4
#define MHIS_STREAM_CORE_SERVICES 1
#define MHIS_STREAM_SPECIALISED 3
#define MHIS_STREAM_SERVICE_DEVELOPMENT_FUNDING 6
#define MHIS_CATEGORY_MENTAL_HEALTH 1

/* There are 42 ICBs and 106 sub-ICB locations; the bounds leave room for any reorganisation. */
#define MHIS_ICBS_MAX 256
#define MHIS_PLACES_MAX 2048

/* Index of the two years compared. */
#define MHIS_LAST_YEAR 0
#define MHIS_THIS_YEAR 1
#define MHIS_YEARS 2

/* Organisation codes are at most 12 bytes (FF_ORG_CODE_BYTES_MAX in fundflow/limits.h). */
#define MHIS_CODE_BYTES 16
#define MHIS_NAME_BYTES 168
#define MHIS_MESSAGE_BYTES_MAX 384
/* A growth such as "-12.34%", with room for any int64 number of basis points. */
#define MHIS_PERCENT_TEXT_BYTES 32

typedef struct mhis_state {
    const ff_plugin_host *host;
} mhis_state;

typedef struct mhis_icb {
    char code[MHIS_CODE_BYTES];
    char name[MHIS_NAME_BYTES];
    int64_t mental_health_pence[MHIS_YEARS];
    int64_t allocation_pence[MHIS_YEARS];
} mhis_icb;

typedef struct mhis_place {
    char code[MHIS_CODE_BYTES];
    size_t icb_index;
} mhis_place;

typedef struct mhis_run {
    const ff_plugin_host *host;
    ff_plugin_context *context;
    ff_plugin_report *report;
    const ff_plugin_report_request *request;
    mhis_icb *icbs;
    size_t icb_count;
    mhis_place *places;
    size_t place_count;
    size_t year_index; /* which year a contract walk is adding to */
} mhis_run;

/* ---- arithmetic and words ---- */

/* (now - last) * FF_BASIS_POINTS_WHOLE / last, rounded half away from zero; last must be
 * positive. __int128 keeps the product exact for any int64 amounts. */
static int mhis_growth_basis_points(const ff_plugin_host *host, int64_t last_pence,
                                    int64_t now_pence, int64_t *growth_out) {
    int64_t change_pence = 0;
    if (last_pence <= 0 ||
        ff_plugin_money_subtract(host, now_pence, last_pence, &change_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    __int128 scaled = (__int128)change_pence * FF_BASIS_POINTS_WHOLE;
    __int128 quotient = scaled / last_pence, remainder = scaled % last_pence;
    if (remainder < 0) remainder = -remainder;
    if (2 * remainder >= last_pence) quotient += scaled < 0 ? -1 : 1;
    if (quotient > INT64_MAX || quotient < INT64_MIN) return FF_PLUGIN_ERROR;
    *growth_out = (int64_t)quotient;
    return FF_PLUGIN_OK;
}

/* Mental health growth >= allocation growth, on the exact fractions:
 * (mh_now - mh_last) / mh_last >= (al_now - al_last) / al_last, both denominators positive. */
static int mhis_standard_met(const mhis_icb *icb) {
    __int128 mental_health_change = (__int128)icb->mental_health_pence[MHIS_THIS_YEAR] -
                                    icb->mental_health_pence[MHIS_LAST_YEAR];
    __int128 allocation_change = (__int128)icb->allocation_pence[MHIS_THIS_YEAR] -
                                 icb->allocation_pence[MHIS_LAST_YEAR];
    return mental_health_change * icb->allocation_pence[MHIS_LAST_YEAR] >=
           allocation_change * icb->mental_health_pence[MHIS_LAST_YEAR];
}

static int mhis_code_compare(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* ---- organisations ---- */

static int mhis_icb_collect(void *argument, const ff_plugin_org *org) {
    mhis_run *run = argument;
    if (run->icb_count == MHIS_ICBS_MAX || strlen(org->code) >= MHIS_CODE_BYTES) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "more ICBs than the mhis report's limit, or an overlong code");
        return FF_PLUGIN_ERROR;
    }
    mhis_icb *icb = &run->icbs[run->icb_count++];
    memset(icb, 0, sizeof *icb);
    strcpy(icb->code, org->code);
    snprintf(icb->name, sizeof icb->name, "%s", org->name ? org->name : "");
    return FF_PLUGIN_OK;
}

static mhis_icb *mhis_icb_find(const mhis_run *run, const char *code) {
    return bsearch(code, run->icbs, run->icb_count, sizeof *run->icbs, mhis_code_compare);
}

/* A place counts towards the ICB it sits under; one under no ICB is left out. */
static int mhis_place_collect(void *argument, const ff_plugin_org *org) {
    mhis_run *run = argument;
    const mhis_icb *icb = mhis_icb_find(run, org->parent_code ? org->parent_code : "");
    if (icb == NULL) return FF_PLUGIN_OK;
    if (run->place_count == MHIS_PLACES_MAX || strlen(org->code) >= MHIS_CODE_BYTES) {
        run->host->log(run->host, FF_PLUGIN_LOG_ERROR,
                       "more places than the mhis report's limit, or an overlong code");
        return FF_PLUGIN_ERROR;
    }
    mhis_place *place = &run->places[run->place_count++];
    strcpy(place->code, org->code);
    place->icb_index = (size_t)(icb - run->icbs);
    return FF_PLUGIN_OK;
}

/* Sorted by code, whatever order the host walks in, so both can be searched. */
static int mhis_orgs_read(mhis_run *run) {
    const ff_plugin_host *host = run->host;
    if (host->orgs_each(run->context, MHIS_ORG_KIND_ICB, mhis_icb_collect, run) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    qsort(run->icbs, run->icb_count, sizeof *run->icbs, mhis_code_compare);
    if (host->orgs_each(run->context, MHIS_ORG_KIND_PLACE, mhis_place_collect, run) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    qsort(run->places, run->place_count, sizeof *run->places, mhis_code_compare);
    return FF_PLUGIN_OK;
}

/* ---- spend and allocations ---- */

static int mhis_contract_counts(const ff_plugin_contract *contract) {
    return contract->service_category == MHIS_CATEGORY_MENTAL_HEALTH &&
           contract->stream != MHIS_STREAM_SPECIALISED &&
           contract->stream != MHIS_STREAM_SERVICE_DEVELOPMENT_FUNDING;
}

static int mhis_contract_visit(void *argument, const ff_plugin_contract *contract) {
    mhis_run *run = argument;
    if (!mhis_contract_counts(contract)) return FF_PLUGIN_OK;
    mhis_icb *icb = mhis_icb_find(run, contract->commissioner_code);
    if (icb == NULL) {
        const mhis_place *place = bsearch(contract->commissioner_code, run->places,
                                          run->place_count, sizeof *run->places,
                                          mhis_code_compare);
        if (place == NULL) return FF_PLUGIN_OK;
        icb = &run->icbs[place->icb_index];
    }
    int64_t *spend = &icb->mental_health_pence[run->year_index];
    return run->host->money_add(*spend, contract->value_pence, spend);
}

static int mhis_figures_read(mhis_run *run) {
    uint32_t years[MHIS_YEARS] = {run->request->financial_year - 1,
                                  run->request->financial_year};
    for (size_t y = 0; y < MHIS_YEARS; y++) {
        run->year_index = y;
        if (run->host->contracts_each(run->context, years[y], mhis_contract_visit, run) !=
            FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
        for (size_t i = 0; i < run->icb_count; i++) {
            ff_plugin_position position;
            if (run->host->position_get(run->context, run->icbs[i].code,
                                        MHIS_STREAM_CORE_SERVICES, years[y], 0,
                                        &position) != FF_PLUGIN_OK) {
                return FF_PLUGIN_ERROR;
            }
            run->icbs[i].allocation_pence[y] = position.received_pence;
        }
    }
    return FF_PLUGIN_OK;
}

/* ---- the report ---- */

static int mhis_finding(const mhis_run *run, const mhis_icb *icb, int comparable, int met,
                        int64_t mental_health_growth, int64_t allocation_growth) {
    char message[MHIS_MESSAGE_BYTES_MAX], spend[FF_MONEY_TEXT_BYTES],
        mental_health[MHIS_PERCENT_TEXT_BYTES], allocation[MHIS_PERCENT_TEXT_BYTES];
    uint32_t year = run->request->financial_year;
    if (!comparable) {
        snprintf(message, sizeof message,
                 "no %u/%02u mental health spend or core services allocation to compare "
                 "%u/%02u with",
                 year - 1, year % 100u, year, (year + 1u) % 100u);
        return run->host->report_finding(run->report, FF_PLUGIN_FINDING_WARN, icb->code,
                                         message);
    }
    run->host->money_format(icb->mental_health_pence[MHIS_THIS_YEAR], spend, sizeof spend);
    ff_plugin_percent_format(mental_health_growth, mental_health, sizeof mental_health);
    ff_plugin_percent_format(allocation_growth, allocation, sizeof allocation);
    snprintf(message, sizeof message,
             "mental health spend of %s grows %s against programme allocation growth of %s: "
             "the standard is %s",
             spend, mental_health, allocation, met ? "met" : "not met");
    return run->host->report_finding(run->report,
                                     met ? FF_PLUGIN_FINDING_PASS : FF_PLUGIN_FINDING_FAIL,
                                     icb->code, message);
}

static int mhis_icb_report(const mhis_run *run, const mhis_icb *icb) {
    int64_t mental_health_growth = 0, allocation_growth = 0;
    int comparable = icb->mental_health_pence[MHIS_LAST_YEAR] > 0 &&
                     icb->allocation_pence[MHIS_LAST_YEAR] > 0;
    if (comparable &&
        (mhis_growth_basis_points(run->host, icb->mental_health_pence[MHIS_LAST_YEAR],
                                  icb->mental_health_pence[MHIS_THIS_YEAR],
                                  &mental_health_growth) != FF_PLUGIN_OK ||
         mhis_growth_basis_points(run->host, icb->allocation_pence[MHIS_LAST_YEAR],
                                  icb->allocation_pence[MHIS_THIS_YEAR],
                                  &allocation_growth) != FF_PLUGIN_OK)) {
        return FF_PLUGIN_ERROR;
    }
    int met = comparable && mhis_standard_met(icb);
    const ff_plugin_cell cells[] = {
        {icb->code, 0},
        {icb->name, 0},
        {NULL, icb->mental_health_pence[MHIS_LAST_YEAR]},
        {NULL, icb->mental_health_pence[MHIS_THIS_YEAR]},
        {NULL, mental_health_growth},
        {NULL, icb->allocation_pence[MHIS_LAST_YEAR]},
        {NULL, icb->allocation_pence[MHIS_THIS_YEAR]},
        {NULL, allocation_growth},
        {NULL, met}};
    if (run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells)) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return mhis_finding(run, icb, comparable, met, mental_health_growth, allocation_growth);
}

static int mhis_table(const mhis_run *run) {
    static const char *const names[] = {
        "ICB",        "name",          "mental health last year", "mental health",
        "growth",     "allocation last year", "allocation",       "allocation growth",
        "met"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,    FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_MONEY,   FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_PERCENT, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY,   FF_PLUGIN_COLUMN_PERCENT,
                                FF_PLUGIN_COLUMN_FLAG};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "mental health investment standard", names,
                               types) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    const char *only = run->request->org_code ? run->request->org_code : "";
    for (size_t i = 0; i < run->icb_count; i++) {
        if (only[0] != '\0' && strcmp(only, run->icbs[i].code) != 0) continue;
        if (mhis_icb_report(run, &run->icbs[i]) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- callbacks ---- */

static int mhis_report(void *state, ff_plugin_context *context,
                       const ff_plugin_report_request *request, ff_plugin_report *report) {
    const mhis_state *mhis = state;
    mhis_run run = {.host = mhis->host, .context = context, .report = report,
                    .request = request};
    run.icbs = calloc(MHIS_ICBS_MAX, sizeof *run.icbs);
    run.places = calloc(MHIS_PLACES_MAX, sizeof *run.places);
    int result = run.icbs && run.places ? FF_PLUGIN_OK : FF_PLUGIN_ERROR;
    if (result == FF_PLUGIN_OK) result = mhis_orgs_read(&run);
    if (result == FF_PLUGIN_OK) result = mhis_figures_read(&run);
    if (result == FF_PLUGIN_OK) result = mhis_table(&run);
    free(run.icbs);
    free(run.places);
    return result;
}

static int mhis_init(const ff_plugin_host *host, void **state) {
    mhis_state *mhis = calloc(1, sizeof *mhis);
    if (mhis == NULL) return FF_PLUGIN_ERROR;
    mhis->host = host;
    *state = mhis;
    return FF_PLUGIN_OK;
}

static void mhis_fini(void *state) { free(state); }

static const uint32_t mhis_financial_years[] = {2023, 2024};

static const ff_plugin mhis_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = MHIS_NAME,
    .version = "1.0.0",
    .description = "Mental Health Investment Standard: each ICB's mental health contract value "
                   "must grow at least as fast as its core services allocation.",
    .financial_years = mhis_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(mhis_financial_years),
    .init = mhis_init,
    .fini = mhis_fini,
    .report = mhis_report,
    .veto = NULL,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(mhis_plugin)
