/* Builds the demo's illustrative England from the reference files and a seed, and loads it. */
#include "demo_data.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "csv.h"
#include "json_codec.h"
#include "projection.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

static_assert(DEMO_BATCH_COMMANDS >= 1 && DEMO_BATCH_COMMANDS <= FF_BATCH_COMMANDS_MAX,
              "a demo batch must be one the ledger accepts");
static_assert(DEMO_CORE_SERVICES_TOTAL_PENCE >= DEMO_ICBS_MAX &&
                  DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE >= DEMO_ICBS_MAX &&
                  DEMO_PREVIOUS_CORE_SERVICES_TOTAL_PENCE >= DEMO_ICBS_MAX &&
                  DEMO_PREVIOUS_PRIMARY_MEDICAL_CARE_TOTAL_PENCE >= DEMO_ICBS_MAX,
              "every ICB must be able to receive at least a penny");
static_assert(DEMO_PREVIOUS_FINANCIAL_YEAR + 1 == DEMO_FINANCIAL_YEAR &&
                  DEMO_PREVIOUS_EFFECTIVE_DATE == DEMO_PREVIOUS_FINANCIAL_YEAR * 10000u + 401u &&
                  DEMO_EFFECTIVE_DATE == DEMO_FINANCIAL_YEAR * 10000u + 401u,
              "the demo's two years follow each other, each taking effect on its 1 April");
static_assert(DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MIN <=
                      DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MAX &&
                  DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MAX < FF_BASIS_POINTS_WHOLE,
              "2023/24 allocations are a positive share of 2024/25's");
static_assert(FUNDFLOW__V1__EVENT__KIND_PLAN_SET + 1 == DEMO_EVENT_KIND_SLOTS,
              "demo_summary counts every kind of event, and only those");

#define DEMO_NHSE_CODE "X24"
#define DEMO_NHSE_NAME "NHS England"
#define DEMO_PLACE_NAME_SUFFIX " place"

/* Every invented organisation, service line and metric says so in its name. */
#define DEMO_ILLUSTRATIVE " (illustrative)"

/* Illustrative weights: a population-like size per ICB, a per-stream need factor around 100,
 * and a size per place. Their ranges only shape how uneven the made-up split looks. */
#define DEMO_POPULATION_WEIGHT_MIN 600u
#define DEMO_POPULATION_WEIGHT_MAX 1400u
#define DEMO_NEED_FACTOR_MIN 90u
#define DEMO_NEED_FACTOR_MAX 110u
#define DEMO_PLACE_WEIGHT_MIN 500u
#define DEMO_PLACE_WEIGHT_MAX 1500u

/* Running cost allowances, and several contract values, are drawn in whole thousands of pounds,
 * which read as budgets do. */
#define DEMO_RUNNING_COST_STEP_PENCE 100000LL
#define DEMO_THOUSAND_POUNDS_PENCE 100000LL

/* The longest reason a row check gives, before the file and line are put in front of it. */
#define DEMO_REASON_BYTES 256

/* Organisations the demo invents around the real ones. Each ICB hosts an acute trust, a mental
 * health trust, a GP practice and a local authority, and every other ICB a community trust; each
 * region hosts an ambulance trust. A few independent providers are spread across the ICBs. */
#define DEMO_INDEPENDENTS_COUNT 8u
#define DEMO_PROVIDERS_MAX (5 * DEMO_ICBS_MAX + DEMO_REGIONS_MAX + DEMO_INDEPENDENTS_COUNT)

/* Members of a joint committee (a region's ICBs) or of the provider collaborative. England's
 * largest region has 11 ICBs. */
#define DEMO_MEMBERS_MAX 32
static_assert(DEMO_MEMBERS_MAX <= FF_MEMBERS_MAX, "the ledger must accept every member list");

/* The provider collaborative: the mental health trusts of the first few ICBs of one region,
 * led by the first of them. NHS-led specialised mental health collaboratives have 3 to 6. */
#define DEMO_COLLABORATIVE_CODE "PCMH01"
#define DEMO_COLLABORATIVE_REGION "Y60"
#define DEMO_COLLABORATIVE_MEMBERS 4u
#define DEMO_COLLABORATIVE_MEMBERS_MIN 2u

/* The regions whose ICBs took full delegation of specialised services in April 2024, and those
 * whose ICBs held them in a joint committee with NHS England until April 2025. */
static const char *const demo_full_delegation_regions[] = {"Y60", "Y61", "Y62"};
static const char *const demo_joint_committee_regions[] = {"Y56", "Y58", "Y59", "Y63"};
#define DEMO_JOINT_COMMITTEES_MAX \
    (sizeof demo_joint_committee_regions / sizeof demo_joint_committee_regions[0])
#define DEMO_DELEGATIONS_MAX (DEMO_ICBS_MAX + DEMO_JOINT_COMMITTEES_MAX)

/* When things take effect. Delegations start with the year; joint committees ended with it.
 * Contract payments fall on the 15th of their month, as monthly payments usually do; month 1
 * closes on the fifth working day of May; month 6 statements are due in mid-October; variations
 * and outcome reports come late in the first half. */
#define DEMO_JOINT_COMMITTEE_END_DATE 20250331u
#define DEMO_PAYMENT_DAY 15u
#define DEMO_CLOSE_DATE 20240508u
#define DEMO_VARIATION_DATE 20240930u
#define DEMO_STATEMENT_DATE 20241010u
#define DEMO_OUTCOME_DATE 20241031u
/* The first ICB's own delegation of specialised services is revoked on 20 August to end on
 * 31 August 2024, yet its September (month 6) specialised payments are still made under it: the
 * spend the delegation rule exists to catch. */
#define DEMO_REVOCATION_DATE 20240820u
#define DEMO_REVOKED_FROM_END 20240831u

/* Months: 2024/25 payments run from month 1 (April) to DEMO_MONTHS_PAID (September), statements
 * are for month 6, and month 1 is closed for the first DEMO_CLOSED_ICBS ICBs and their acute
 * trusts. 2023/24 is paid in full, all twelve months. */
#define DEMO_MONTHS_IN_YEAR 12u
#define DEMO_MONTHS_PAID 6u
#define DEMO_STATEMENT_MONTH 6u
#define DEMO_CLOSED_MONTH 1u
#define DEMO_CLOSED_ICBS 3u
static_assert(DEMO_STATEMENT_MONTH <= DEMO_MONTHS_PAID && DEMO_CLOSED_MONTH <= DEMO_MONTHS_PAID,
              "statements and closes follow the payments they cover");

/* The two years the demo plans: DEMO_PREVIOUS_FINANCIAL_YEAR, then DEMO_FINANCIAL_YEAR. */
#define DEMO_YEARS 2u

/* 2023/24's amounts come from a generator of their own, seeded from the demo's seed with these
 * bits flipped, so that adding the year left every 2024/25 amount drawn as before, bar the
 * mental health spend that grows from it. */
#define DEMO_PREVIOUS_YEAR_SEED_BITS UINT64_C(0x2023202320232023)

/* Contract values, as shares of the commissioner's allocation in basis points. Together with
 * the onward budgets they stay inside the allocation, as the static_assert below checks: an
 * acute trust's aligned payment and incentive contract takes a quarter or so, mental health a
 * tenth (the Mental Health Investment Standard keeps it near there), and the rest is small. The
 * mental health share is drawn for 2023/24; 2024/25's spend grows from it (see below). */
#define DEMO_ACUTE_SHARE_BASIS_POINTS_MIN 2200u
#define DEMO_ACUTE_SHARE_BASIS_POINTS_MAX 3200u
#define DEMO_MENTAL_HEALTH_SHARE_BASIS_POINTS_MIN 800u
#define DEMO_MENTAL_HEALTH_SHARE_BASIS_POINTS_MAX 1000u
#define DEMO_NEURODIVERSITY_SHARE_BASIS_POINTS_MIN 50u
#define DEMO_NEURODIVERSITY_SHARE_BASIS_POINTS_MAX 100u
#define DEMO_ELECTIVE_SHARE_BASIS_POINTS_MIN 50u
#define DEMO_ELECTIVE_SHARE_BASIS_POINTS_MAX 150u
#define DEMO_COMMUNITY_SHARE_BASIS_POINTS_MIN 200u
#define DEMO_COMMUNITY_SHARE_BASIS_POINTS_MAX 400u
#define DEMO_COLLABORATIVE_SHARE_BASIS_POINTS_MIN 50u
#define DEMO_COLLABORATIVE_SHARE_BASIS_POINTS_MAX 100u
/* The NHS contribution to the Better Care Fund, pooled with the local authority: about 4.5% of
 * core services nationally. */
#define DEMO_BETTER_CARE_FUND_SHARE_BASIS_POINTS_MIN 400u
#define DEMO_BETTER_CARE_FUND_SHARE_BASIS_POINTS_MAX 500u
/* The Mental Health Investment Standard: an ICB's mental health spend must grow at least as fast
 * as its core services allocation. The published record is 41 of 42 ICBs meeting it in 2022/23
 * and 42 of 42 in 2023/24. In the demo an ICB's 2024/25 mental health spend (its block and any
 * collaborative contract together) is its 2023/24 block grown as fast as its core services
 * allocation, then by a seeded margin more, in basis points of the grown figure, so that it
 * meets the standard; the ICBs in demo_mental_health_misses instead fall a seeded shortfall
 * below it. */
#define DEMO_MENTAL_HEALTH_MARGIN_BASIS_POINTS_MIN 50u
#define DEMO_MENTAL_HEALTH_MARGIN_BASIS_POINTS_MAX 300u
/* A 2024/25 mental health share can reach the 2023/24 maximum grown by the largest margin. */
#define DEMO_MENTAL_HEALTH_CURRENT_SHARE_BASIS_POINTS_MAX                                         \
    (DEMO_MENTAL_HEALTH_SHARE_BASIS_POINTS_MAX *                                                   \
         (FF_BASIS_POINTS_WHOLE + DEMO_MENTAL_HEALTH_MARGIN_BASIS_POINTS_MAX) /                  \
         FF_BASIS_POINTS_WHOLE + 1)
/* An in-year increase to some acute contracts for elective activity above plan, and a cut to
 * some independent sector contracts for activity below it, as shares of the contract. */
#define DEMO_ELECTIVE_INCREASE_BASIS_POINTS 150u
#define DEMO_ELECTIVE_DECREASE_BASIS_POINTS 500u
static_assert(DEMO_ONWARD_SHARE_BASIS_POINTS_MAX + DEMO_BETTER_CARE_FUND_SHARE_BASIS_POINTS_MAX +
                      DEMO_ACUTE_SHARE_BASIS_POINTS_MAX +
                      DEMO_ACUTE_SHARE_BASIS_POINTS_MAX * DEMO_ELECTIVE_INCREASE_BASIS_POINTS /
                          FF_BASIS_POINTS_WHOLE + 1 +
                      DEMO_MENTAL_HEALTH_CURRENT_SHARE_BASIS_POINTS_MAX +
                      DEMO_NEURODIVERSITY_SHARE_BASIS_POINTS_MAX +
                      DEMO_ELECTIVE_SHARE_BASIS_POINTS_MAX +
                      DEMO_COMMUNITY_SHARE_BASIS_POINTS_MAX +
                      DEMO_COLLABORATIVE_SHARE_BASIS_POINTS_MAX <=
                  FF_BASIS_POINTS_WHOLE,
              "an ICB's onward budgets and contracts must fit inside its core allocation");

/* The fixed element of an acute contract, as a share of its value; the rest pays for activity. */
#define DEMO_FIXED_SHARE_BASIS_POINTS_MIN 8500u
#define DEMO_FIXED_SHARE_BASIS_POINTS_MAX 9000u
/* The pot an outcome-based contract withholds, as a share of its value. */
#define DEMO_POT_SHARE_BASIS_POINTS_MIN 500u
#define DEMO_POT_SHARE_BASIS_POINTS_MAX 1000u
/* A place's alliance contract, as a share of the budget its ICB passed to it. */
#define DEMO_ALLIANCE_SHARE_BASIS_POINTS_MIN 1000u
#define DEMO_ALLIANCE_SHARE_BASIS_POINTS_MAX 2000u
/* A fully delegated ICB's two specialised contracts, and the share of a joint committee's
 * allocation it contracts out across its members' acute trusts. */
#define DEMO_SPECIALISED_FIRST_SHARE_BASIS_POINTS_MIN 3000u
#define DEMO_SPECIALISED_FIRST_SHARE_BASIS_POINTS_MAX 4000u
#define DEMO_SPECIALISED_SECOND_SHARE_BASIS_POINTS_MIN 2000u
#define DEMO_SPECIALISED_SECOND_SHARE_BASIS_POINTS_MAX 3000u
#define DEMO_JOINT_COMMITTEE_SHARE_BASIS_POINTS_MIN 6000u
#define DEMO_JOINT_COMMITTEE_SHARE_BASIS_POINTS_MAX 8000u
static_assert(DEMO_SPECIALISED_FIRST_SHARE_BASIS_POINTS_MAX +
                      DEMO_SPECIALISED_SECOND_SHARE_BASIS_POINTS_MAX <=
                  FF_BASIS_POINTS_WHOLE,
              "a delegated ICB's specialised contracts must fit inside its allocation");

/* Contract values drawn in thousands of pounds: low-volume activity stays under the £0.5m a
 * year threshold of 2023/25, and a GP practice holds £1m to £3m. */
#define DEMO_LOW_VOLUME_THOUSANDS_MIN 100u
#define DEMO_LOW_VOLUME_THOUSANDS_MAX 499u
#define DEMO_PRACTICE_THOUSANDS_MIN 1000u
#define DEMO_PRACTICE_THOUSANDS_MAX 3000u

/* CQUIN: 1.25% of the fixed value of contracts of £10m or more, as the 2023/25 payment scheme
 * set it. NHS England paused the national scheme for 2024/25, so a real 2024/25 contract would
 * carry 0; the demo keeps the published rate so that the field is exercised. */
#define DEMO_CQUIN_SHARE_BASIS_POINTS 125u
#define DEMO_CQUIN_VALUE_MIN_PENCE 1000000000LL /* £10,000,000.00 */

/* A month's activity against plan on activity-paid elements, and an outcome metric's
 * achievement, in basis points. Activity never runs far enough over plan, in six months, to
 * pay more than the year's value. */
#define DEMO_ACTIVITY_BASIS_POINTS_MIN 9200u
#define DEMO_ACTIVITY_BASIS_POINTS_MAX 10400u
#define DEMO_ACHIEVEMENT_BASIS_POINTS_MIN 5000u
#define DEMO_ACHIEVEMENT_BASIS_POINTS_MAX 9500u
static_assert(DEMO_ACTIVITY_BASIS_POINTS_MAX * DEMO_MONTHS_PAID <
                  FF_BASIS_POINTS_WHOLE * DEMO_MONTHS_IN_YEAR,
              "half a year's payments must stay within the year's value");

/* Agreement of Balances at month 6, in thousands of pounds: what a trust has invoiced and not
 * been paid, and the disputes behind the deliberate mismatches. Every DEMO_MISMATCH_CYCLE-th
 * pair, from two different starting points, disagrees on income or on the balance. */
#define DEMO_RECEIVABLE_THOUSANDS_MIN 50u
#define DEMO_RECEIVABLE_THOUSANDS_MAX 2500u
#define DEMO_DISPUTED_INCOME_THOUSANDS_MIN 1500u
#define DEMO_DISPUTED_INCOME_THOUSANDS_MAX 4000u
#define DEMO_DISPUTED_BALANCE_THOUSANDS_MIN 300u
#define DEMO_DISPUTED_BALANCE_THOUSANDS_MAX 900u
#define DEMO_MISMATCH_CYCLE 10u
#define DEMO_MISMATCH_INCOME_AT 4u
#define DEMO_MISMATCH_BALANCE_AT 7u
static_assert(DEMO_DISPUTED_BALANCE_THOUSANDS_MAX <= DEMO_RECEIVABLE_THOUSANDS_MAX,
              "a disputed balance fits inside the receivable it disputes");

/* Which ICBs vary contracts and report outcomes: every so many, by position in icbs.csv. */
#define DEMO_INCREASE_CYCLE 6u
#define DEMO_DECREASE_CYCLE 7u
#define DEMO_DECREASE_AT 3u
#define DEMO_OUTCOME_REPORT_CYCLE 4u

/* The ICBs whose 2024/25 mental health spend grows more slowly than their core services
 * allocation, so that they miss the Mental Health Investment Standard against 2023/24, and by
 * how much, in basis points of the spend that would just have met it. They are there so that the
 * report shows its fail path; the choice of ICBs and the stories behind them are illustrative and
 * say nothing about the real ICBs' records, which met the standard in 2023/24.
 *
 * - QSL (Somerset) misses narrowly: its 2024/25 block was agreed before its allocation was
 *   final and was not uplifted when the allocation grew by more than planned.
 * - QOQ (Humber and North Yorkshire) misses clearly: its 2023/24 block carried a one-off sum for
 *   clearing out-of-area placements, so 2024/25 grows from a raised base.
 *
 * An ICB listed here but missing from the reference files is simply not planned. */
typedef struct demo_mental_health_miss {
    const char *icb_code;
    uint32_t shortfall_basis_points_min;
    uint32_t shortfall_basis_points_max;
} demo_mental_health_miss;

static const demo_mental_health_miss demo_mental_health_misses[] = {
    {"QSL", 20u, 60u},
    {"QOQ", 150u, 250u},
};
#define DEMO_MENTAL_HEALTH_MISSES_COUNT \
    (sizeof demo_mental_health_misses / sizeof demo_mental_health_misses[0])

/* A specialised service line. The codes and names are invented; the split between lines
 * delegated and lines retained nationally follows 2024/25, when highly specialised services and
 * specialised mental health stayed with NHS England. */
typedef struct demo_service_line {
    const char *code;
    const char *name;
    Fundflow__V1__ServiceCategory category;
    bool retained_nationally;
} demo_service_line;

static const demo_service_line demo_service_lines[] = {
    {"SPCARD", "Adult specialised cardiac services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__CARDIAC, false},
    {"SPRENAL", "Specialised renal services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__RENAL, false},
    {"SPCANRT", "Radiotherapy" DEMO_ILLUSTRATIVE, FUNDFLOW__V1__SERVICE_CATEGORY__CANCER, false},
    {"SPCANCHEMO", "Specialised cancer chemotherapy" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__CANCER, false},
    {"SPNEURO", "Specialised neurosciences" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__OTHER_SERVICES, false},
    {"SPPAED", "Specialised paediatric services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__CHILDRENS, false},
    {"SPNEONATAL", "Neonatal critical care" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__CHILDRENS, false},
    {"SPFETAL", "Fetal medicine" DEMO_ILLUSTRATIVE, FUNDFLOW__V1__SERVICE_CATEGORY__MATERNITY,
     false},
    {"SPVASC", "Specialised vascular services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__CARDIAC, false},
    {"SPTRAUMA", "Major trauma services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__ACUTE_CARE, false},
    {"SPHSS", "Highly specialised services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__OTHER_SERVICES, true},
    {"SPMHSECURE", "Adult secure mental health services" DEMO_ILLUSTRATIVE,
     FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH, true},
};
#define DEMO_SERVICE_LINES_COUNT (sizeof demo_service_lines / sizeof demo_service_lines[0])
static_assert(DEMO_SERVICE_LINES_COUNT <= FF_DELEGATION_LINES_MAX,
              "one delegation must be able to name every line");

/* An outcome-based community contract's metrics: the first two, three or four of these. */
typedef struct demo_metric {
    const char *code;
    const char *description;
} demo_metric;

static const demo_metric demo_metrics[] = {
    {"ADMAVOID", "Fewer avoidable emergency admissions of people on the caseload" DEMO_ILLUSTRATIVE},
    {"HOMEFIRST", "People home within a day of being ready to leave hospital" DEMO_ILLUSTRATIVE},
    {"UCR2HR", "Urgent community response visits within two hours" DEMO_ILLUSTRATIVE},
    {"CARERS", "Carers who say they feel supported" DEMO_ILLUSTRATIVE},
};
#define DEMO_METRICS_MAX (sizeof demo_metrics / sizeof demo_metrics[0])
#define DEMO_METRICS_MIN 2u
static_assert(DEMO_METRICS_MAX <= FF_METRICS_MAX, "the ledger must accept every metric");

/* Invented independent providers, hosted by ICBs spread through icbs.csv. */
static const char *const demo_independent_names[DEMO_INDEPENDENTS_COUNT] = {
    "Beacon Elective Hospitals", "Meridian Surgical Centres", "Harbour Diagnostics",
    "Northgate Orthopaedic Centre", "Oakfield Day Surgery", "Riverside Eye Care",
    "Summit Endoscopy Services", "Valley Community Clinics",
};

typedef struct demo_org {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    char parent_code[FF_ORG_CODE_BYTES_MAX + 1];
    Fundflow__V1__OrgKind kind;
    /* A joint committee's or collaborative's members, pointing at their codes in the world. */
    char *member_codes[DEMO_MEMBERS_MAX];
    size_t member_count;
    const char *lead_provider_code; /* a collaborative's lead; NULL for none */
} demo_org;

/* A delegation of every delegable line, to an ICB for itself or to a joint committee for its
 * member ICBs. Its lists point at codes in the world and in demo_service_lines. */
typedef struct demo_delegation {
    char identifier[FF_IDENTIFIER_BYTES_MAX + 1];
    const demo_org *delegate;
    char *line_codes[DEMO_SERVICE_LINES_COUNT];
    size_t line_count;
    char *population_codes[DEMO_MEMBERS_MAX];
    size_t population_count;
    Fundflow__V1__DelegationMode mode;
    uint32_t effective_to; /* 0: open-ended */
} demo_delegation;

/* The invented bodies an ICB works with. */
typedef struct demo_icb_links {
    const demo_org *acute;
    const demo_org *mental_health;
    const demo_org *community;       /* its own, or the previous ICB's when it has none */
    const demo_org *practice;
    const demo_org *local_authority;
    const demo_org *independent;
    const demo_org *neighbour_acute; /* another ICB's acute trust, for low-volume activity */
    const demo_org *first_place;     /* NULL when the ICB has no places */
    const demo_delegation *delegation;  /* its full delegation, or NULL */
    bool commissions_collaborative;  /* its mental health trust is a collaborative member */
} demo_icb_links;

typedef struct demo_world {
    demo_org nhse;
    demo_org regions[DEMO_REGIONS_MAX];
    size_t region_count;
    demo_org icbs[DEMO_ICBS_MAX];
    size_t icb_count;
    demo_org places[DEMO_PLACES_MAX];
    size_t place_count;
    demo_org providers[DEMO_PROVIDERS_MAX];
    size_t provider_count;
    demo_org collaborative;
    bool has_collaborative;
    demo_org joint_committees[DEMO_JOINT_COMMITTEES_MAX];
    const demo_delegation *joint_committee_delegations[DEMO_JOINT_COMMITTEES_MAX];
    size_t joint_committee_count;
    demo_delegation delegations[DEMO_DELEGATIONS_MAX];
    size_t delegation_count;
    demo_icb_links links[DEMO_ICBS_MAX];
} demo_world;

/* One command and everything it points at, so a whole plan is one allocation. Its strings point
 * into the world, which outlives the plan, or into the command itself. */
typedef struct demo_command {
    Fundflow__V1__Command command;
    Fundflow__V1__Event event;
    union {
        Fundflow__V1__OrgRegistered org;
        Fundflow__V1__AllocationIssued allocation;
        Fundflow__V1__BudgetDelegated budget;
        Fundflow__V1__ServiceLineRegistered line;
        Fundflow__V1__DelegationGranted delegation;
        Fundflow__V1__DelegationRevoked revocation;
        Fundflow__V1__ContractAgreed contract;
        Fundflow__V1__ContractVaried variation;
        Fundflow__V1__PaymentMade payment;
        Fundflow__V1__OutcomeReported outcome;
        Fundflow__V1__StatementSubmitted statement;
        Fundflow__V1__PeriodClosed close;
        Fundflow__V1__RevenueLimitSet limit;
        Fundflow__V1__PlanSet plan;
    } payload;
    int64_t month_amounts_pence[DEMO_MONTHS_IN_YEAR]; /* a plan's twelve months */
    Fundflow__V1__OutcomeMetric metrics[DEMO_METRICS_MAX];
    Fundflow__V1__OutcomeMetric *metric_pointers[DEMO_METRICS_MAX];
    char identifier[FF_IDENTIFIER_BYTES_MAX + 1]; /* a contract's id */
    bool registers_org;
    char idempotency_key[FF_IDEMPOTENCY_KEY_BYTES_MAX + 1];
} demo_command;

/* A planned contract, for the payments, variations, outcomes and statements that follow it. */
typedef struct demo_contract {
    const demo_command *agreed;
    const demo_org *commissioner;
    const demo_org *provider;
    Fundflow__V1__ContractType type;
    Fundflow__V1__Stream stream;
    uint32_t financial_year;
    int64_t value_pence;
    int64_t fixed_pence;
    int64_t pot_pence;
    int64_t paid_pence;
} demo_contract;

/* What a commissioner still holds in a stream and year, tracked as the plan grows so that a
 * plan the ledger would refuse for want of headroom fails an assertion here instead. */
typedef struct demo_budget {
    const char *org_code;
    Fundflow__V1__Stream stream;
    uint32_t financial_year;
    int64_t headroom_pence;
} demo_budget;

/* In 2024/25 each ICB's specialised stream, its core, primary care and running cost streams,
 * each place and local authority's core stream, and each joint committee's specialised stream;
 * in 2023/24 each ICB's core, primary care and running cost streams. */
#define DEMO_BUDGETS_MAX (8 * DEMO_ICBS_MAX + DEMO_PLACES_MAX + DEMO_JOINT_COMMITTEES_MAX)

/* The amounts drawn for each ICB and place, which later parts of the plan are sized from, and
 * the contracts that later parts vary or report on. The previous_ figures are 2023/24's. */
typedef struct demo_figures {
    uint32_t population[DEMO_ICBS_MAX];
    int64_t core_pence[DEMO_ICBS_MAX];
    int64_t primary_pence[DEMO_ICBS_MAX];
    int64_t running_cost_pence[DEMO_ICBS_MAX];
    int64_t previous_core_pence[DEMO_ICBS_MAX];
    int64_t previous_mental_health_pence[DEMO_ICBS_MAX];
    int64_t specialised_pence[DEMO_ICBS_MAX]; /* 0 for an ICB without full delegation */
    int64_t place_pence[DEMO_PLACES_MAX];
    int64_t joint_committee_pence[DEMO_JOINT_COMMITTEES_MAX];
    demo_contract *acute_contracts[DEMO_ICBS_MAX];
    demo_contract *elective_contracts[DEMO_ICBS_MAX];
    demo_contract *outcome_contracts[DEMO_ICBS_MAX];
} demo_figures;

typedef struct demo_plan {
    demo_command *commands;
    size_t command_count;
    size_t command_capacity;
    demo_contract *contracts;
    size_t contract_count;
    size_t contract_capacity;
    demo_budget *budgets;
    size_t budget_count;
    const demo_org *funder; /* NHS England, which issues every allocation */
    char reference[FF_REFERENCE_BYTES_MAX + 1];
    /* "2023/24 month 1 payment (illustrative)": by year, 2023/24 first, then by month. */
    char payment_references[DEMO_YEARS][DEMO_MONTHS_IN_YEAR][FF_REFERENCE_BYTES_MAX + 1];
} demo_plan;

/* splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
 * tiny, fast, and the same on every platform, which is all an illustrative split needs. */
typedef struct demo_random {
    uint64_t state;
} demo_random;

static uint64_t demo_random_next(demo_random *random) {
    random->state += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t mixed = random->state;
    mixed = (mixed ^ (mixed >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    mixed = (mixed ^ (mixed >> 27)) * UINT64_C(0x94D049BB133111EB);
    return mixed ^ (mixed >> 31);
}

/* A number from low to high inclusive. The modulo's bias is below span / 2^64, far too small to
 * show in made-up figures. */
static uint32_t demo_random_between(demo_random *random, uint32_t low, uint32_t high) {
    assert(low <= high);
    uint64_t span = (uint64_t)high - low + 1;
    uint32_t drawn = low + (uint32_t)(demo_random_next(random) % span);
    assert(drawn >= low && drawn <= high);
    return drawn;
}

ff_err demo_amount_split(int64_t total_pence, const uint32_t *weights, size_t count,
                         int64_t *shares_pence) {
    assert(weights != NULL && shares_pence != NULL);
    assert(count <= SIZE_MAX / UINT32_MAX);
    if (count == 0 || total_pence < 0 || (uint64_t)total_pence < count) {
        return FF_ERR_AMOUNT_NOT_POSITIVE;
    }
    uint64_t weight_total = 0;
    for (size_t i = 0; i < count; i++) {
        /* A zero weight would ask for a zero share, which no command may carry. */
        if (weights[i] == 0) return FF_ERR_AMOUNT_NOT_POSITIVE;
        weight_total += weights[i];
    }
    /* The products reach total_pence times a 32-bit weight, past 64 bits, so they are taken in
     * 128 bits; each floor is at most total_pence, so it fits back into 64. */
    int64_t allotted_pence = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned __int128 product = (unsigned __int128)(uint64_t)total_pence * weights[i];
        shares_pence[i] = (int64_t)(product / weight_total);
        allotted_pence += shares_pence[i];
    }
    int64_t left_over_pence = total_pence - allotted_pence;
    assert(left_over_pence >= 0 && (uint64_t)left_over_pence < count);
    for (size_t i = 0; i < (size_t)left_over_pence; i++) shares_pence[i] += 1;
    for (size_t i = 0; i < count; i++) {
        if (shares_pence[i] <= 0) return FF_ERR_AMOUNT_NOT_POSITIVE;
    }
    return FF_OK;
}

/* Reference files ------------------------------------------------------------------------- */

static ff_err demo_reason_set(char *reason, size_t reason_bytes, ff_err code, const char *format,
                              ...) __attribute__((format(printf, 4, 5)));

static ff_err demo_reason_set(char *reason, size_t reason_bytes, ff_err code, const char *format,
                              ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, reason_bytes, format, arguments);
    va_end(arguments);
    return code;
}

static const demo_org *demo_org_find(const demo_org *orgs, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(orgs[i].code, code) == 0) return &orgs[i];
    }
    return NULL;
}

static bool demo_code_taken(const demo_world *world, const char *code) {
    return strcmp(world->nhse.code, code) == 0 ||
           demo_org_find(world->regions, world->region_count, code) != NULL ||
           demo_org_find(world->icbs, world->icb_count, code) != NULL ||
           demo_org_find(world->places, world->place_count, code) != NULL ||
           demo_org_find(world->providers, world->provider_count, code) != NULL ||
           demo_org_find(world->joint_committees, world->joint_committee_count, code) != NULL ||
           (world->has_collaborative && strcmp(world->collaborative.code, code) == 0);
}

/* Checks a code read from column and copies it into target, which holds
 * FF_ORG_CODE_BYTES_MAX + 1 bytes. */
static ff_err demo_code_copy(char *target, const char *code, const char *column, char *reason,
                             size_t reason_bytes) {
    if (!command_org_code_valid(code)) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_CODE_INVALID,
                               "%s \"%.40s\" is not an organisation code (%d to %d upper-case "
                               "letters or digits)",
                               column, code, FF_ORG_CODE_BYTES_MIN, FF_ORG_CODE_BYTES_MAX);
    }
    size_t length = strlen(code);
    assert(length <= FF_ORG_CODE_BYTES_MAX);
    memcpy(target, code, length + 1);
    return FF_OK;
}

/* Checks a name as the ledger will, so a bad file is refused here, naming its line. */
static ff_err demo_name_check(const char *name, const char *column, char *reason,
                              size_t reason_bytes) {
    size_t length = strlen(name);
    if (length == 0) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_MISSING, "%s is empty", column);
    }
    if (length > FF_ORG_NAME_BYTES_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "%s is %zu bytes long; the limit is %d", column, length,
                               FF_ORG_NAME_BYTES_MAX);
    }
    if (!command_text_valid(name)) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_TEXT_INVALID,
                               "%s is not UTF-8 text without control characters", column);
    }
    return FF_OK;
}

/* Fills org's code and name, refusing a code some other row already holds. */
static ff_err demo_org_fill(const demo_world *world, demo_org *org, const char *code,
                            const char *code_column, const char *name, const char *name_column,
                            char *reason, size_t reason_bytes) {
    memset(org, 0, sizeof *org);
    ff_err err = demo_code_copy(org->code, code, code_column, reason, reason_bytes);
    if (err == FF_OK && demo_code_taken(world, org->code)) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_EXISTS,
                              "%s %s appears more than once", code_column, org->code);
    }
    if (err == FF_OK) err = demo_name_check(name, name_column, reason, reason_bytes);
    if (err != FF_OK) return err;
    memcpy(org->name, name, strlen(name) + 1);
    return FF_OK;
}

/* Columns: region_code, name. */
static ff_err demo_region_add(demo_world *world, const char *const *values, char *reason,
                              size_t reason_bytes) {
    if (world->region_count == DEMO_REGIONS_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "more than %d regions", DEMO_REGIONS_MAX);
    }
    demo_org *region = &world->regions[world->region_count];
    ff_err err = demo_org_fill(world, region, values[0], "region_code", values[1], "name", reason,
                               reason_bytes);
    if (err != FF_OK) return err;
    memcpy(region->parent_code, world->nhse.code, sizeof region->parent_code);
    region->kind = FUNDFLOW__V1__ORG_KIND__REGION;
    world->region_count++;
    return FF_OK;
}

/* Columns: icb_code, name, region_code. */
static ff_err demo_icb_add(demo_world *world, const char *const *values, char *reason,
                           size_t reason_bytes) {
    if (world->icb_count == DEMO_ICBS_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG, "more than %d ICBs",
                               DEMO_ICBS_MAX);
    }
    demo_org *icb = &world->icbs[world->icb_count];
    ff_err err = demo_org_fill(world, icb, values[0], "icb_code", values[1], "name", reason,
                               reason_bytes);
    if (err == FF_OK) err = demo_code_copy(icb->parent_code, values[2], "region_code", reason,
                                           reason_bytes);
    if (err == FF_OK &&
        demo_org_find(world->regions, world->region_count, icb->parent_code) == NULL) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_UNKNOWN,
                              "region_code %s is not in " DEMO_REGIONS_FILE, icb->parent_code);
    }
    if (err != FF_OK) return err;
    icb->kind = FUNDFLOW__V1__ORG_KIND__ICB;
    world->icb_count++;
    return FF_OK;
}

/* Names a place after the area it covers: "NHS Halton CCG" becomes "Halton place", since the
 * prefix and suffix named the old statutory body rather than the area. Without a former CCG
 * name, the sub-ICB location's own name is used. The result is cut short, at a whole UTF-8
 * character, to fit FF_ORG_NAME_BYTES_MAX. */
static void demo_place_name_make(const char *former_ccg_name, const char *sub_icb_name,
                                 char *name, size_t name_bytes) {
    static const char prefix[] = "NHS ", suffix[] = " CCG";
    bool from_former = former_ccg_name[0] != '\0';
    const char *base = from_former ? former_ccg_name : sub_icb_name;
    size_t length = strlen(base);
    if (from_former && length > sizeof prefix - 1 &&
        strncmp(base, prefix, sizeof prefix - 1) == 0) {
        base += sizeof prefix - 1;
        length -= sizeof prefix - 1;
    }
    if (from_former && length > sizeof suffix - 1 &&
        strcmp(base + length - (sizeof suffix - 1), suffix) == 0) {
        length -= sizeof suffix - 1;
    }
    size_t room = name_bytes - sizeof DEMO_PLACE_NAME_SUFFIX;
    if (length > room) {
        length = room;
        while (length > 0 && ((unsigned char)base[length] & 0xC0) == 0x80) length--;
    }
    memcpy(name, base, length);
    memcpy(name + length, DEMO_PLACE_NAME_SUFFIX, sizeof DEMO_PLACE_NAME_SUFFIX);
}

/* Columns: sub_icb_code, name, icb_code, former_ccg_name. */
static ff_err demo_place_add(demo_world *world, const char *const *values, char *reason,
                             size_t reason_bytes) {
    if (world->place_count == DEMO_PLACES_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "more than %d sub-ICB locations", DEMO_PLACES_MAX);
    }
    if (values[1][0] == '\0' && values[3][0] == '\0') {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_MISSING,
                               "both name and former_ccg_name are empty");
    }
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    demo_place_name_make(values[3], values[1], name, sizeof name);
    demo_org *place = &world->places[world->place_count];
    ff_err err = demo_org_fill(world, place, values[0], "sub_icb_code", name,
                               "the place name made from name or former_ccg_name", reason,
                               reason_bytes);
    if (err == FF_OK) err = demo_code_copy(place->parent_code, values[2], "icb_code", reason,
                                           reason_bytes);
    if (err == FF_OK && demo_org_find(world->icbs, world->icb_count, place->parent_code) == NULL) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_UNKNOWN,
                              "icb_code %s is not in " DEMO_ICBS_FILE, place->parent_code);
    }
    if (err != FF_OK) return err;
    place->kind = FUNDFLOW__V1__ORG_KIND__PLACE;
    world->place_count++;
    return FF_OK;
}

#define DEMO_TABLE_COLUMNS_MAX 4

typedef ff_err (*demo_row_add)(demo_world *world, const char *const *values, char *reason,
                               size_t reason_bytes);

/* A reference file: its name, the columns the demo reads (found by header, in any order), and
 * what to do with each row. */
typedef struct demo_table {
    const char *file_name;
    const char *columns[DEMO_TABLE_COLUMNS_MAX];
    size_t column_count;
    demo_row_add row_add;
} demo_table;

/* In this order, so each file's parents are already known when it is read. */
static const demo_table demo_tables[] = {
    {DEMO_REGIONS_FILE, {"region_code", "name"}, 2, demo_region_add},
    {DEMO_ICBS_FILE, {"icb_code", "name", "region_code"}, 3, demo_icb_add},
    {DEMO_PLACES_FILE, {"sub_icb_code", "name", "icb_code", "former_ccg_name"}, 4,
     demo_place_add},
};

/* Reads the header and finds each wanted column in it. */
static ff_err demo_header_read(csv_reader *reader, const demo_table *table, size_t *indexes,
                               size_t *field_count_out, char *error, size_t error_bytes) {
    csv_record header;
    ff_err err = csv_reader_next(reader, &header);
    if (err == FF_ERR_EVENT_UNKNOWN) {
        snprintf(error, error_bytes, "%s: the file is empty; it needs a header line",
                 csv_reader_path(reader));
        return FF_ERR_TEXT_INVALID;
    }
    if (err != FF_OK) {
        snprintf(error, error_bytes, "%s", csv_reader_error(reader));
        return err;
    }
    for (size_t i = 0; i < table->column_count; i++) {
        int index = csv_record_column_find(&header, table->columns[i]);
        if (index < 0) {
            snprintf(error, error_bytes, "%s line %zu: the header has no column named %s",
                     csv_reader_path(reader), header.line, table->columns[i]);
            return FF_ERR_TEXT_INVALID;
        }
        indexes[i] = (size_t)index;
    }
    *field_count_out = header.field_count;
    return FF_OK;
}

/* Reads every row after the header, handing the wanted columns to the table's row_add. */
static ff_err demo_rows_read(csv_reader *reader, const demo_table *table, const size_t *indexes,
                             size_t field_count, demo_world *world, char *error,
                             size_t error_bytes) {
    for (;;) {
        csv_record record;
        ff_err err = csv_reader_next(reader, &record);
        if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
        if (err != FF_OK) {
            snprintf(error, error_bytes, "%s", csv_reader_error(reader));
            return err;
        }
        if (record.field_count != field_count) {
            snprintf(error, error_bytes, "%s line %zu: %zu fields, where the header has %zu",
                     csv_reader_path(reader), record.line, record.field_count, field_count);
            return FF_ERR_TEXT_INVALID;
        }
        const char *values[DEMO_TABLE_COLUMNS_MAX];
        for (size_t i = 0; i < table->column_count; i++) values[i] = record.fields[indexes[i]];
        char reason[DEMO_REASON_BYTES];
        err = table->row_add(world, values, reason, sizeof reason);
        if (err != FF_OK) {
            snprintf(error, error_bytes, "%s line %zu: %s", csv_reader_path(reader),
                     record.line, reason);
            return err;
        }
    }
}

static ff_err demo_table_read(demo_world *world, const char *reference_dir,
                              const demo_table *table, char *error, size_t error_bytes) {
    assert(table->column_count <= DEMO_TABLE_COLUMNS_MAX);
    char path[4096];
    int length = snprintf(path, sizeof path, "%s/%s", reference_dir, table->file_name);
    if (length < 0 || (size_t)length >= sizeof path) {
        snprintf(error, error_bytes, "the reference directory's path is too long");
        return FF_ERR_FIELD_TOO_LONG;
    }
    csv_reader *reader = NULL;
    size_t indexes[DEMO_TABLE_COLUMNS_MAX] = {0}, field_count = 0;
    ff_err err = csv_reader_open(path, &reader, error, error_bytes);
    if (err != FF_OK) goto done;
    err = demo_header_read(reader, table, indexes, &field_count, error, error_bytes);
    if (err != FF_OK) goto done;
    err = demo_rows_read(reader, table, indexes, field_count, world, error, error_bytes);
done:
    csv_reader_close(reader);
    return err;
}

/* The invented world ------------------------------------------------------------------------ */

/* The area an ICB covers, from its name: "NHS Devon Integrated Care Board" gives "Devon". A name
 * without that prefix or suffix is used as it is. */
static void demo_area_name_make(const char *icb_name, char *area, size_t area_bytes) {
    static const char prefix[] = "NHS ", suffix[] = " Integrated Care Board";
    const char *base = icb_name;
    size_t length = strlen(base);
    if (length > sizeof prefix - 1 && strncmp(base, prefix, sizeof prefix - 1) == 0) {
        base += sizeof prefix - 1;
        length -= sizeof prefix - 1;
    }
    if (length > sizeof suffix - 1 && strcmp(base + length - (sizeof suffix - 1), suffix) == 0) {
        length -= sizeof suffix - 1;
    }
    /* ICB names were checked against FF_ORG_NAME_BYTES_MAX when they were read. */
    assert(length < area_bytes);
    memcpy(area, base, length);
    area[length] = '\0';
}

/* Writes area followed by suffix into name, which holds FF_ORG_NAME_BYTES_MAX + 1 bytes. The
 * area is cut short, at a whole UTF-8 character, so that the suffix, which says what the body is
 * and that it is illustrative, always survives. */
static void demo_name_compose(char *name, const char *area, const char *suffix) {
    size_t suffix_length = strlen(suffix);
    assert(suffix_length < FF_ORG_NAME_BYTES_MAX);
    size_t room = FF_ORG_NAME_BYTES_MAX - suffix_length;
    size_t length = strlen(area);
    if (length > room) {
        length = room;
        while (length > 0 && ((unsigned char)area[length] & 0xC0) == 0x80) length--;
    }
    memcpy(name, area, length);
    memcpy(name + length, suffix, suffix_length + 1);
    assert(strlen(name) <= FF_ORG_NAME_BYTES_MAX);
}

/* Fills org as an invented body under parent, refusing a code that some other body holds. */
static ff_err demo_org_invent(const demo_world *world, demo_org *org, Fundflow__V1__OrgKind kind,
                              const char *code, const char *area, const char *suffix,
                              const demo_org *parent, char *error, size_t error_bytes) {
    if (!command_org_code_valid(code)) {
        snprintf(error, error_bytes, "the invented code \"%.40s\" is not an organisation code",
                 code);
        return FF_ERR_CODE_INVALID;
    }
    if (demo_code_taken(world, code)) {
        snprintf(error, error_bytes,
                 "the invented code %s is already taken by a body in the reference files", code);
        return FF_ERR_ORG_EXISTS;
    }
    memset(org, 0, sizeof *org);
    memcpy(org->code, code, strlen(code) + 1);
    demo_name_compose(org->name, area, suffix);
    memcpy(org->parent_code, parent->code, sizeof org->parent_code);
    org->kind = kind;
    return FF_OK;
}

static ff_err demo_provider_add(demo_world *world, Fundflow__V1__OrgKind kind, const char *code,
                                const char *area, const char *suffix, const demo_org *parent,
                                const demo_org **added, char *error, size_t error_bytes) {
    if (world->provider_count == DEMO_PROVIDERS_MAX) {
        snprintf(error, error_bytes, "more than %d invented providers", DEMO_PROVIDERS_MAX);
        return FF_ERR_FIELD_TOO_LONG;
    }
    demo_org *org = &world->providers[world->provider_count];
    ff_err err = demo_org_invent(world, org, kind, code, area, suffix, parent, error, error_bytes);
    if (err != FF_OK) return err;
    world->provider_count++;
    *added = org;
    return FF_OK;
}

/* Invents the bodies an ICB hosts, with codes made from its own so that a reader can tell whose
 * they are: QWE hosts trusts RWEA (acute), RWEM (mental health) and, at every other ICB, RWEC
 * (community); GP practice PWE001; and local authority E99000nnn, numbered by the ICB's row,
 * since ONS codes are digits only and ONS uses no E99 codes. */
static ff_err demo_icb_providers_invent(demo_world *world, size_t index, char *error,
                                        size_t error_bytes) {
    const demo_org *icb = &world->icbs[index];
    demo_icb_links *links = &world->links[index];
    if (strlen(icb->code) != 3 || icb->code[0] != 'Q') {
        snprintf(error, error_bytes,
                 "ICB code %s is not Q followed by two letters or digits, which the demo's "
                 "invented codes are made from",
                 icb->code);
        return FF_ERR_CODE_INVALID;
    }
    const char *tail = icb->code + 1;
    char area[FF_ORG_NAME_BYTES_MAX + 1], code[FF_ORG_CODE_BYTES_MAX + 1];
    demo_area_name_make(icb->name, area, sizeof area);
    snprintf(code, sizeof code, "R%.2sA", tail);
    ff_err err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__TRUST, code, area,
                                   " Hospitals NHS Foundation Trust" DEMO_ILLUSTRATIVE, icb,
                                   &links->acute, error, error_bytes);
    snprintf(code, sizeof code, "R%.2sM", tail);
    if (err == FF_OK) err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__TRUST, code, area,
                                              " Mental Health NHS Foundation Trust"
                                              DEMO_ILLUSTRATIVE, icb, &links->mental_health,
                                              error, error_bytes);
    snprintf(code, sizeof code, "R%.2sC", tail);
    if (err == FF_OK && index % 2 == 0) {
        err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__TRUST, code, area,
                                " Community Health NHS Trust" DEMO_ILLUSTRATIVE, icb,
                                &links->community, error, error_bytes);
    }
    snprintf(code, sizeof code, "P%.2s001", tail);
    if (err == FF_OK) err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE, code,
                                              area, " Medical Practice" DEMO_ILLUSTRATIVE, icb,
                                              &links->practice, error, error_bytes);
    /* Six digits number a million ICBs; DEMO_ICBS_MAX is far below that. */
    static_assert(DEMO_ICBS_MAX < 1000000, "local authority codes number the ICBs in six digits");
    snprintf(code, sizeof code, "E99%06u", (unsigned)((index + 1) % 1000000));
    if (err == FF_OK) err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, code,
                                              area, " councils" DEMO_ILLUSTRATIVE, icb,
                                              &links->local_authority, error, error_bytes);
    return err;
}

static const demo_org *demo_region_first_icb(const demo_world *world, const demo_org *region) {
    for (size_t i = 0; i < world->icb_count; i++) {
        if (strcmp(world->icbs[i].parent_code, region->code) == 0) return &world->icbs[i];
    }
    return NULL;
}

static size_t demo_icb_index(const demo_world *world, const char *code) {
    const demo_org *icb = demo_org_find(world->icbs, world->icb_count, code);
    assert(icb != NULL);
    return (size_t)(icb - world->icbs);
}

/* Invents an ambulance trust per region, hosted by the region's first ICB, coded R and the
 * region's code (RY56), and the independent providers, spread along icbs.csv. */
static ff_err demo_regional_providers_invent(demo_world *world, char *error, size_t error_bytes) {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    const demo_org *added = NULL;
    for (size_t i = 0; i < world->region_count; i++) {
        const demo_org *region = &world->regions[i];
        const demo_org *host = demo_region_first_icb(world, region);
        if (host == NULL) continue;
        snprintf(code, sizeof code, "R%.11s", region->code);
        ff_err err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__TRUST, code, region->name,
                                       " Ambulance Service NHS Trust" DEMO_ILLUSTRATIVE, host,
                                       &added, error, error_bytes);
        if (err != FF_OK) return err;
    }
    const demo_org *independents[DEMO_INDEPENDENTS_COUNT];
    for (size_t i = 0; i < DEMO_INDEPENDENTS_COUNT; i++) {
        const demo_org *host = &world->icbs[i * world->icb_count / DEMO_INDEPENDENTS_COUNT];
        snprintf(code, sizeof code, "NZ%02u", (unsigned)((i + 1) % 100));
        ff_err err = demo_provider_add(world, FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, code,
                                       demo_independent_names[i], DEMO_ILLUSTRATIVE, host,
                                       &independents[i], error, error_bytes);
        if (err != FF_OK) return err;
    }
    for (size_t i = 0; i < world->icb_count; i++) {
        world->links[i].independent = independents[i % DEMO_INDEPENDENTS_COUNT];
    }
    return FF_OK;
}

/* Invents the specialised mental health provider collaborative: the mental health trusts of the
 * first DEMO_COLLABORATIVE_MEMBERS ICBs of its region, led by the first, whose ICB hosts it.
 * Without the region, or with too few ICBs in it, there is none. */
static ff_err demo_collaborative_invent(demo_world *world, char *error, size_t error_bytes) {
    const demo_org *region =
        demo_org_find(world->regions, world->region_count, DEMO_COLLABORATIVE_REGION);
    if (region == NULL) return FF_OK;
    size_t indexes[DEMO_COLLABORATIVE_MEMBERS], count = 0;
    for (size_t i = 0; i < world->icb_count && count < DEMO_COLLABORATIVE_MEMBERS; i++) {
        if (strcmp(world->icbs[i].parent_code, region->code) == 0) indexes[count++] = i;
    }
    if (count < DEMO_COLLABORATIVE_MEMBERS_MIN) return FF_OK;
    demo_org *collaborative = &world->collaborative;
    ff_err err = demo_org_invent(world, collaborative,
                                 FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE,
                                 DEMO_COLLABORATIVE_CODE, region->name,
                                 " Specialised Mental Health Provider Collaborative"
                                 DEMO_ILLUSTRATIVE,
                                 &world->icbs[indexes[0]], error, error_bytes);
    if (err != FF_OK) return err;
    for (size_t k = 0; k < count; k++) {
        demo_icb_links *links = &world->links[indexes[k]];
        collaborative->member_codes[k] = (char *)links->mental_health->code;
        links->commissions_collaborative = true;
    }
    collaborative->member_count = count;
    collaborative->lead_provider_code = collaborative->member_codes[0];
    world->has_collaborative = true;
    return FF_OK;
}

/* Adds a delegation of every line not retained nationally, named after its delegate. */
static demo_delegation *demo_delegation_add(demo_world *world, const demo_org *delegate,
                                            Fundflow__V1__DelegationMode mode,
                                            uint32_t effective_to) {
    assert(world->delegation_count < DEMO_DELEGATIONS_MAX);
    demo_delegation *delegation = &world->delegations[world->delegation_count++];
    memset(delegation, 0, sizeof *delegation);
    int length = snprintf(delegation->identifier, sizeof delegation->identifier, "DEL-%u-%s",
                          DEMO_FINANCIAL_YEAR, delegate->code);
    assert(length > 0 && (size_t)length < sizeof delegation->identifier);
    (void)length;
    delegation->delegate = delegate;
    delegation->mode = mode;
    delegation->effective_to = effective_to;
    for (size_t i = 0; i < DEMO_SERVICE_LINES_COUNT; i++) {
        if (demo_service_lines[i].retained_nationally) continue;
        delegation->line_codes[delegation->line_count++] = (char *)demo_service_lines[i].code;
    }
    assert(delegation->line_count > 0);
    return delegation;
}

static bool demo_region_listed(const char *region_code, const char *const *list, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(region_code, list[i]) == 0) return true;
    }
    return false;
}

/* Gives each ICB of a fully delegated region its own open-ended delegation from April 2024. */
static void demo_full_delegations_invent(demo_world *world) {
    size_t region_count = sizeof demo_full_delegation_regions / sizeof demo_full_delegation_regions[0];
    for (size_t i = 0; i < world->icb_count; i++) {
        const demo_org *icb = &world->icbs[i];
        if (!demo_region_listed(icb->parent_code, demo_full_delegation_regions, region_count)) {
            continue;
        }
        demo_delegation *delegation =
            demo_delegation_add(world, icb, FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL, 0);
        delegation->population_codes[0] = (char *)icb->code;
        delegation->population_count = 1;
        world->links[i].delegation = delegation;
    }
}

/* Invents a joint committee for each joint committee region, its members the region's ICBs,
 * coded JC and the region's code (JCY56), with a delegation for the members' populations that
 * ends with 2024/25. */
static ff_err demo_joint_committees_invent(demo_world *world, char *error, size_t error_bytes) {
    for (size_t r = 0; r < DEMO_JOINT_COMMITTEES_MAX; r++) {
        const demo_org *region = demo_org_find(world->regions, world->region_count,
                                               demo_joint_committee_regions[r]);
        if (region == NULL || demo_region_first_icb(world, region) == NULL) continue;
        demo_org *committee = &world->joint_committees[world->joint_committee_count];
        char code[FF_ORG_CODE_BYTES_MAX + 1];
        snprintf(code, sizeof code, "JC%.10s", region->code);
        ff_err err = demo_org_invent(world, committee, FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE,
                                     code, region->name,
                                     " Specialised Commissioning Joint Committee" DEMO_ILLUSTRATIVE,
                                     region, error, error_bytes);
        if (err != FF_OK) return err;
        for (size_t i = 0; i < world->icb_count; i++) {
            if (strcmp(world->icbs[i].parent_code, region->code) != 0) continue;
            if (committee->member_count == DEMO_MEMBERS_MAX) {
                snprintf(error, error_bytes, "region %s has more than %d ICBs", region->code,
                         DEMO_MEMBERS_MAX);
                return FF_ERR_FIELD_TOO_LONG;
            }
            committee->member_codes[committee->member_count++] = (char *)world->icbs[i].code;
        }
        demo_delegation *delegation = demo_delegation_add(
            world, committee, FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_JOINT_COMMITTEE,
            DEMO_JOINT_COMMITTEE_END_DATE);
        memcpy(delegation->population_codes, committee->member_codes,
               committee->member_count * sizeof committee->member_codes[0]);
        delegation->population_count = committee->member_count;
        world->joint_committee_delegations[world->joint_committee_count++] = delegation;
    }
    return FF_OK;
}

/* Fills the links that depend on other ICBs: an ICB without a community trust shares the
 * previous ICB's, and low-volume activity goes to the next ICB of the same region (or, alone in
 * its region, the next ICB in the file). */
static void demo_icb_links_complete(demo_world *world) {
    size_t count = world->icb_count;
    for (size_t i = 0; i < count; i++) {
        demo_icb_links *links = &world->links[i];
        if (links->community == NULL) links->community = world->links[i - 1].community;
        assert(links->community != NULL);
        for (size_t step = 1; step < count && links->neighbour_acute == NULL; step++) {
            size_t other = (i + step) % count;
            if (strcmp(world->icbs[other].parent_code, world->icbs[i].parent_code) == 0) {
                links->neighbour_acute = world->links[other].acute;
            }
        }
        if (links->neighbour_acute == NULL && count > 1) {
            links->neighbour_acute = world->links[(i + 1) % count].acute;
        }
        for (size_t p = 0; p < world->place_count && links->first_place == NULL; p++) {
            if (strcmp(world->places[p].parent_code, world->icbs[i].code) == 0) {
                links->first_place = &world->places[p];
            }
        }
    }
}

static ff_err demo_world_derive(demo_world *world, char *error, size_t error_bytes) {
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < world->icb_count; i++) {
        err = demo_icb_providers_invent(world, i, error, error_bytes);
    }
    if (err == FF_OK) err = demo_regional_providers_invent(world, error, error_bytes);
    if (err == FF_OK) err = demo_collaborative_invent(world, error, error_bytes);
    if (err != FF_OK) return err;
    demo_full_delegations_invent(world);
    err = demo_joint_committees_invent(world, error, error_bytes);
    if (err != FF_OK) return err;
    demo_icb_links_complete(world);
    return FF_OK;
}

static ff_err demo_world_load(demo_world *world, const char *reference_dir, char *error,
                              size_t error_bytes) {
    memset(world, 0, sizeof *world);
    memcpy(world->nhse.code, DEMO_NHSE_CODE, sizeof DEMO_NHSE_CODE);
    memcpy(world->nhse.name, DEMO_NHSE_NAME, sizeof DEMO_NHSE_NAME);
    world->nhse.kind = FUNDFLOW__V1__ORG_KIND__NHSE;
    for (size_t i = 0; i < sizeof demo_tables / sizeof demo_tables[0]; i++) {
        ff_err err = demo_table_read(world, reference_dir, &demo_tables[i], error, error_bytes);
        if (err != FF_OK) return err;
    }
    if (world->icb_count == 0) {
        snprintf(error, error_bytes, "%s/%s holds no ICBs", reference_dir, DEMO_ICBS_FILE);
        return FF_ERR_TEXT_INVALID;
    }
    return demo_world_derive(world, error, error_bytes);
}

/* Commands -------------------------------------------------------------------------------- */

static demo_command *demo_command_add(demo_plan *plan, uint32_t effective_date,
                                      const char *key_format, ...)
    __attribute__((format(printf, 3, 4)));

static demo_command *demo_command_add(demo_plan *plan, uint32_t effective_date,
                                      const char *key_format, ...) {
    /* The plan's capacity is counted from the world before any command is added. */
    assert(plan->command_count < plan->command_capacity);
    demo_command *added = &plan->commands[plan->command_count++];
    memset(added, 0, sizeof *added);
    va_list arguments;
    va_start(arguments, key_format);
    int length = vsnprintf(added->idempotency_key, sizeof added->idempotency_key, key_format,
                           arguments);
    va_end(arguments);
    /* Codes and identifiers are short, so every demo key fits with room over. */
    assert(length > 0 && (size_t)length < sizeof added->idempotency_key);
    (void)length;
    fundflow__v1__command__init(&added->command);
    fundflow__v1__event__init(&added->event);
    added->command.idempotency_key = added->idempotency_key;
    added->command.effective_date = effective_date;
    added->command.event = &added->event;
    return added;
}

static void demo_org_command_add(demo_plan *plan, const demo_org *org) {
    demo_command *added =
        demo_command_add(plan, DEMO_PREVIOUS_EFFECTIVE_DATE, "demo-org-%s", org->code);
    Fundflow__V1__OrgRegistered *registered = &added->payload.org;
    fundflow__v1__org_registered__init(registered);
    registered->code = (char *)org->code;
    registered->name = (char *)org->name;
    registered->kind = org->kind;
    registered->parent_code = (char *)org->parent_code;
    if (org->member_count > 0) {
        registered->n_member_codes = org->member_count;
        registered->member_codes = (char **)org->member_codes;
    }
    if (org->lead_provider_code != NULL) {
        registered->lead_provider_code = (char *)org->lead_provider_code;
    }
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    added->event.org_registered = registered;
    added->registers_org = true;
}

/* Budgets: the plan's own account of headroom --------------------------------------------- */

static demo_budget *demo_budget_find(demo_plan *plan, const char *org_code,
                                     Fundflow__V1__Stream stream, uint32_t financial_year) {
    for (size_t i = 0; i < plan->budget_count; i++) {
        demo_budget *budget = &plan->budgets[i];
        if (budget->stream == stream && budget->financial_year == financial_year &&
            strcmp(budget->org_code, org_code) == 0) {
            return budget;
        }
    }
    return NULL;
}

static void demo_budget_credit(demo_plan *plan, const char *org_code, Fundflow__V1__Stream stream,
                               uint32_t financial_year, int64_t amount_pence) {
    assert(amount_pence > 0);
    demo_budget *budget = demo_budget_find(plan, org_code, stream, financial_year);
    if (budget == NULL) {
        assert(plan->budget_count < DEMO_BUDGETS_MAX);
        budget = &plan->budgets[plan->budget_count++];
        *budget = (demo_budget){.org_code = org_code, .stream = stream,
                                .financial_year = financial_year, .headroom_pence = 0};
    }
    budget->headroom_pence += amount_pence;
}

/* Takes amount_pence from a commissioner's headroom in a stream and year. Running short is a bug
 * in the plan's shares, which the static_asserts on them are meant to rule out. */
static void demo_budget_debit(demo_plan *plan, const char *org_code, Fundflow__V1__Stream stream,
                              uint32_t financial_year, int64_t amount_pence) {
    assert(amount_pence > 0);
    demo_budget *budget = demo_budget_find(plan, org_code, stream, financial_year);
    assert(budget != NULL && budget->headroom_pence >= amount_pence);
    budget->headroom_pence -= amount_pence;
}

/* Amounts --------------------------------------------------------------------------------- */

/* share_basis_points of amount_pence, rounded down. Taken in 128 bits so that no amount,
 * however large, can overflow the product. */
static int64_t demo_share_pence(int64_t amount_pence, uint32_t share_basis_points) {
    assert(amount_pence >= 0 && share_basis_points <= 2 * FF_BASIS_POINTS_WHOLE);
    int64_t share_pence =
        (int64_t)((__int128)amount_pence * share_basis_points / FF_BASIS_POINTS_WHOLE);
    assert(share_pence >= 0);
    return share_pence;
}

static int64_t demo_share_draw_pence(demo_random *random, int64_t amount_pence,
                                     uint32_t share_basis_points_min,
                                     uint32_t share_basis_points_max) {
    uint32_t share_basis_points =
        demo_random_between(random, share_basis_points_min, share_basis_points_max);
    return demo_share_pence(amount_pence, share_basis_points);
}

static int64_t demo_thousands_draw_pence(demo_random *random, uint32_t thousands_min,
                                         uint32_t thousands_max) {
    return (int64_t)demo_random_between(random, thousands_min, thousands_max) *
           DEMO_THOUSAND_POUNDS_PENCE;
}

/* The date of a day in month 1 (April) to 12 (March) of a financial year. */
static uint32_t demo_month_date(uint32_t financial_year, uint32_t month, uint32_t day) {
    assert(month >= 1 && month <= DEMO_MONTHS_IN_YEAR && day >= 1 && day <= 28);
    assert(financial_year == DEMO_PREVIOUS_FINANCIAL_YEAR || financial_year == DEMO_FINANCIAL_YEAR);
    uint32_t calendar_month = month + 3, year = financial_year;
    if (calendar_month > 12) {
        calendar_month -= 12;
        year++;
    }
    return year * 10000u + calendar_month * 100u + day;
}

/* Organisations, service lines and delegations --------------------------------------------- */

/* Registers every organisation, each after its parent and a collaborative after its members. */
static void demo_orgs_plan(const demo_world *world, demo_plan *plan) {
    demo_org_command_add(plan, &world->nhse);
    for (size_t i = 0; i < world->region_count; i++) {
        demo_org_command_add(plan, &world->regions[i]);
    }
    for (size_t i = 0; i < world->icb_count; i++) demo_org_command_add(plan, &world->icbs[i]);
    for (size_t i = 0; i < world->place_count; i++) {
        demo_org_command_add(plan, &world->places[i]);
    }
    for (size_t i = 0; i < world->provider_count; i++) {
        demo_org_command_add(plan, &world->providers[i]);
    }
    if (world->has_collaborative) demo_org_command_add(plan, &world->collaborative);
    for (size_t i = 0; i < world->joint_committee_count; i++) {
        demo_org_command_add(plan, &world->joint_committees[i]);
    }
}

static void demo_service_lines_plan(demo_plan *plan) {
    for (size_t i = 0; i < DEMO_SERVICE_LINES_COUNT; i++) {
        const demo_service_line *line = &demo_service_lines[i];
        demo_command *added =
            demo_command_add(plan, DEMO_EFFECTIVE_DATE, "demo-line-%s", line->code);
        Fundflow__V1__ServiceLineRegistered *registered = &added->payload.line;
        fundflow__v1__service_line_registered__init(registered);
        registered->code = (char *)line->code;
        registered->name = (char *)line->name;
        registered->category = line->category;
        registered->retained_nationally = line->retained_nationally;
        added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED;
        added->event.service_line_registered = registered;
    }
}

static void demo_delegations_plan(const demo_world *world, demo_plan *plan) {
    for (size_t i = 0; i < world->delegation_count; i++) {
        const demo_delegation *delegation = &world->delegations[i];
        demo_command *added = demo_command_add(plan, DEMO_EFFECTIVE_DATE, "demo-delegation-%s",
                                               delegation->identifier);
        Fundflow__V1__DelegationGranted *granted = &added->payload.delegation;
        fundflow__v1__delegation_granted__init(granted);
        granted->delegation_id = (char *)delegation->identifier;
        granted->delegate_code = (char *)delegation->delegate->code;
        granted->n_service_line_codes = delegation->line_count;
        granted->service_line_codes = (char **)delegation->line_codes;
        granted->n_population_codes = delegation->population_count;
        granted->population_codes = (char **)delegation->population_codes;
        granted->mode = delegation->mode;
        granted->effective_from = DEMO_EFFECTIVE_DATE;
        granted->effective_to = delegation->effective_to;
        added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED;
        added->event.delegation_granted = granted;
    }
}

/* Ends the first full delegation early; see DEMO_REVOCATION_DATE. */
static void demo_revocation_plan(const demo_world *world, demo_plan *plan) {
    const demo_delegation *delegation = NULL;
    for (size_t i = 0; i < world->delegation_count && delegation == NULL; i++) {
        if (world->delegations[i].mode == FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL) {
            delegation = &world->delegations[i];
        }
    }
    if (delegation == NULL) return;
    demo_command *added = demo_command_add(plan, DEMO_REVOCATION_DATE, "demo-revocation-%s",
                                           delegation->identifier);
    Fundflow__V1__DelegationRevoked *revoked = &added->payload.revocation;
    fundflow__v1__delegation_revoked__init(revoked);
    revoked->delegation_id = (char *)delegation->identifier;
    revoked->effective_to = DEMO_REVOKED_FROM_END;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED;
    added->event.delegation_revoked = revoked;
}

/* Allocations and onward budgets ----------------------------------------------------------- */

/* An allocation from NHS England for a financial year, taking effect on the year's 1 April. */
static void demo_allocation_command_add(demo_plan *plan, uint32_t financial_year,
                                        const char *stream_label, Fundflow__V1__Stream stream,
                                        const demo_org *recipient, int64_t amount_pence,
                                        const char *delegation_id) {
    assert(amount_pence > 0);
    uint32_t effective_date = financial_year == DEMO_FINANCIAL_YEAR ? DEMO_EFFECTIVE_DATE
                                                                    : DEMO_PREVIOUS_EFFECTIVE_DATE;
    demo_command *added = demo_command_add(plan, effective_date, "demo-%u-%s-%s", financial_year,
                                           stream_label, recipient->code);
    Fundflow__V1__AllocationIssued *allocation = &added->payload.allocation;
    fundflow__v1__allocation_issued__init(allocation);
    allocation->funder_code = (char *)plan->funder->code;
    allocation->recipient_code = (char *)recipient->code;
    allocation->stream = stream;
    allocation->financial_year = financial_year;
    allocation->amount_pence = amount_pence;
    allocation->recurrent = true;
    allocation->reference = plan->reference;
    if (delegation_id != NULL) allocation->delegation_id = (char *)delegation_id;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    added->event.allocation_issued = allocation;
    demo_budget_credit(plan, recipient->code, stream, financial_year, amount_pence);
}

/* NHS England's revenue limit for a stream and financial year, set on the year's 1 April before
 * any allocation of the stream: the demo's limits are exactly what it allocates, its published
 * totals where there are some, so NHS England ends each year with no headroom. */
static void demo_limit_command_add(demo_plan *plan, uint32_t financial_year,
                                   const char *stream_label, Fundflow__V1__Stream stream,
                                   int64_t limit_pence) {
    assert(limit_pence > 0);
    uint32_t effective_date = financial_year == DEMO_FINANCIAL_YEAR ? DEMO_EFFECTIVE_DATE
                                                                    : DEMO_PREVIOUS_EFFECTIVE_DATE;
    demo_command *added = demo_command_add(plan, effective_date, "demo-%u-%s-limit",
                                           financial_year, stream_label);
    Fundflow__V1__RevenueLimitSet *limit = &added->payload.limit;
    fundflow__v1__revenue_limit_set__init(limit);
    limit->funder_code = (char *)plan->funder->code;
    limit->stream = stream;
    limit->financial_year = financial_year;
    limit->limit_pence = limit_pence;
    limit->reference = plan->reference;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET;
    added->event.revenue_limit_set = limit;
}

/* The sum of count amounts, each positive; the demo's totals are far below overflow. */
static int64_t demo_amounts_total(const int64_t *amounts_pence, size_t count) {
    int64_t total_pence = 0;
    for (size_t i = 0; i < count; i++) {
        ff_err err = money_add(total_pence, amounts_pence[i], &total_pence);
        assert(err == FF_OK && amounts_pence[i] > 0);
        (void)err;
    }
    return total_pence;
}

/* A core services budget from an ICB to a body it hosts: a place or its local authority. */
static void demo_budget_command_add(demo_plan *plan, const demo_org *icb, const demo_org *to,
                                    int64_t amount_pence) {
    assert(amount_pence > 0);
    assert(strcmp(to->parent_code, icb->code) == 0);
    demo_command *added = demo_command_add(plan, DEMO_EFFECTIVE_DATE, "demo-%u-core-%s-to-%s",
                                           DEMO_FINANCIAL_YEAR, icb->code, to->code);
    Fundflow__V1__BudgetDelegated *budget = &added->payload.budget;
    fundflow__v1__budget_delegated__init(budget);
    budget->from_code = (char *)icb->code;
    budget->to_code = (char *)to->code;
    budget->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    budget->financial_year = DEMO_FINANCIAL_YEAR;
    budget->amount_pence = amount_pence;
    budget->reference = plan->reference;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED;
    added->event.budget_delegated = budget;
    demo_budget_debit(plan, icb->code, FUNDFLOW__V1__STREAM__CORE_SERVICES, DEMO_FINANCIAL_YEAR,
                      amount_pence);
    demo_budget_credit(plan, to->code, FUNDFLOW__V1__STREAM__CORE_SERVICES, DEMO_FINANCIAL_YEAR,
                       amount_pence);
}

/* Weights for one stream: each ICB's population-like size times a need factor near 100. */
static void demo_stream_weights_draw(demo_random *random, const uint32_t *population,
                                     size_t count, uint32_t *weights) {
    for (size_t i = 0; i < count; i++) {
        weights[i] = population[i] *
                     demo_random_between(random, DEMO_NEED_FACTOR_MIN, DEMO_NEED_FACTOR_MAX);
    }
}

/* Draws the three 2024/25 allocations to every ICB, with each one's population-like size, into
 * figures, before anything is planned: 2023/24, planned first, is drawn from them. */
static ff_err demo_allocations_draw(const demo_world *world, demo_random *random,
                                    demo_figures *figures) {
    uint32_t weights[DEMO_ICBS_MAX] = {0};
    size_t count = world->icb_count;
    for (size_t i = 0; i < count; i++) {
        figures->population[i] = demo_random_between(random, DEMO_POPULATION_WEIGHT_MIN,
                                                     DEMO_POPULATION_WEIGHT_MAX);
    }
    demo_stream_weights_draw(random, figures->population, count, weights);
    ff_err err = demo_amount_split(DEMO_CORE_SERVICES_TOTAL_PENCE, weights, count,
                                   figures->core_pence);
    if (err != FF_OK) return err;
    demo_stream_weights_draw(random, figures->population, count, weights);
    err = demo_amount_split(DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE, weights, count,
                            figures->primary_pence);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < count; i++) {
        uint32_t thousands = demo_random_between(
            random, (uint32_t)(DEMO_RUNNING_COST_MIN_PENCE / DEMO_RUNNING_COST_STEP_PENCE),
            (uint32_t)(DEMO_RUNNING_COST_MAX_PENCE / DEMO_RUNNING_COST_STEP_PENCE));
        figures->running_cost_pence[i] = (int64_t)thousands * DEMO_RUNNING_COST_STEP_PENCE;
        assert(figures->running_cost_pence[i] >= DEMO_RUNNING_COST_MIN_PENCE &&
               figures->running_cost_pence[i] <= DEMO_RUNNING_COST_MAX_PENCE);
    }
    return FF_OK;
}

/* Plans NHS England's three 2024/25 limits and the three allocations to every ICB, as drawn. */
static void demo_allocations_plan(const demo_world *world, demo_plan *plan,
                                  const demo_figures *figures) {
    size_t count = world->icb_count;
    demo_limit_command_add(plan, DEMO_FINANCIAL_YEAR, "core", FUNDFLOW__V1__STREAM__CORE_SERVICES,
                           DEMO_CORE_SERVICES_TOTAL_PENCE);
    demo_limit_command_add(plan, DEMO_FINANCIAL_YEAR, "pmc",
                           FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE,
                           DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE);
    demo_limit_command_add(plan, DEMO_FINANCIAL_YEAR, "rca",
                           FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE,
                           demo_amounts_total(figures->running_cost_pence, count));
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_FINANCIAL_YEAR, "core",
                                    FUNDFLOW__V1__STREAM__CORE_SERVICES, &world->icbs[i],
                                    figures->core_pence[i], NULL);
    }
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_FINANCIAL_YEAR, "pmc",
                                    FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE, &world->icbs[i],
                                    figures->primary_pence[i], NULL);
    }
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_FINANCIAL_YEAR, "rca",
                                    FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE, &world->icbs[i],
                                    figures->running_cost_pence[i], NULL);
    }
}

/* Plans the specialised allocations: the published £5.3bn split among the fully delegated ICBs,
 * and the invented joint committee total among the committees, both by population, each citing
 * the delegation it funds. */
static ff_err demo_specialised_plan(const demo_world *world, demo_plan *plan,
                                    demo_figures *figures) {
    uint32_t weights[DEMO_ICBS_MAX] = {0};
    int64_t shares_pence[DEMO_ICBS_MAX] = {0};
    size_t indexes[DEMO_ICBS_MAX], count = 0;
    for (size_t i = 0; i < world->icb_count; i++) {
        if (world->links[i].delegation == NULL) continue;
        indexes[count] = i;
        weights[count++] = figures->population[i];
    }
    /* The limit is both totals, £11.1bn, when there are delegated ICBs and joint committees. */
    int64_t limit_pence = (count > 0 ? DEMO_SPECIALISED_DELEGATED_TOTAL_PENCE : 0) +
                          (world->joint_committee_count > 0
                               ? DEMO_SPECIALISED_JOINT_COMMITTEE_TOTAL_PENCE
                               : 0);
    if (limit_pence > 0) {
        demo_limit_command_add(plan, DEMO_FINANCIAL_YEAR, "spec",
                               FUNDFLOW__V1__STREAM__SPECIALISED, limit_pence);
    }
    ff_err err = FF_OK;
    if (count > 0) {
        err = demo_amount_split(DEMO_SPECIALISED_DELEGATED_TOTAL_PENCE, weights, count,
                                shares_pence);
    }
    for (size_t k = 0; err == FF_OK && k < count; k++) {
        const demo_icb_links *links = &world->links[indexes[k]];
        figures->specialised_pence[indexes[k]] = shares_pence[k];
        demo_allocation_command_add(plan, DEMO_FINANCIAL_YEAR, "spec",
                                    FUNDFLOW__V1__STREAM__SPECIALISED, &world->icbs[indexes[k]],
                                    shares_pence[k], links->delegation->identifier);
    }
    count = world->joint_committee_count;
    for (size_t j = 0; j < count; j++) {
        const demo_org *committee = &world->joint_committees[j];
        weights[j] = 0;
        for (size_t m = 0; m < committee->member_count; m++) {
            weights[j] += figures->population[demo_icb_index(world, committee->member_codes[m])];
        }
    }
    if (err == FF_OK && count > 0) {
        err = demo_amount_split(DEMO_SPECIALISED_JOINT_COMMITTEE_TOTAL_PENCE, weights, count,
                                figures->joint_committee_pence);
    }
    for (size_t j = 0; err == FF_OK && j < count; j++) {
        demo_allocation_command_add(plan, DEMO_FINANCIAL_YEAR, "spec",
                                    FUNDFLOW__V1__STREAM__SPECIALISED, &world->joint_committees[j],
                                    figures->joint_committee_pence[j],
                                    world->joint_committee_delegations[j]->identifier);
    }
    return err;
}

/* Plans one ICB's budgets to its places: a seeded share of its core services allocation, split
 * among them by seeded weights. An ICB without places passes nothing on. */
static ff_err demo_icb_budgets_plan(const demo_world *world, size_t index, demo_random *random,
                                    demo_plan *plan, demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    size_t places[DEMO_PLACES_MAX];
    uint32_t weights[DEMO_PLACES_MAX];
    int64_t shares_pence[DEMO_PLACES_MAX];
    size_t count = 0;
    for (size_t i = 0; i < world->place_count; i++) {
        if (strcmp(world->places[i].parent_code, icb->code) == 0) {
            places[count] = i;
            weights[count++] = demo_random_between(random, DEMO_PLACE_WEIGHT_MIN,
                                                   DEMO_PLACE_WEIGHT_MAX);
        }
    }
    if (count == 0) return FF_OK;
    int64_t onward_pence =
        demo_share_draw_pence(random, figures->core_pence[index],
                              DEMO_ONWARD_SHARE_BASIS_POINTS_MIN, DEMO_ONWARD_SHARE_BASIS_POINTS_MAX);
    assert(onward_pence <= figures->core_pence[index]);
    ff_err err = demo_amount_split(onward_pence, weights, count, shares_pence);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < count; i++) {
        figures->place_pence[places[i]] = shares_pence[i];
        demo_budget_command_add(plan, icb, &world->places[places[i]], shares_pence[i]);
    }
    return FF_OK;
}

/* Plans each ICB's NHS contribution to the Better Care Fund, pooled with its local authority. */
static void demo_local_authority_budgets_plan(const demo_world *world, demo_random *random,
                                              demo_plan *plan, const demo_figures *figures) {
    for (size_t i = 0; i < world->icb_count; i++) {
        int64_t amount_pence = demo_share_draw_pence(
            random, figures->core_pence[i], DEMO_BETTER_CARE_FUND_SHARE_BASIS_POINTS_MIN,
            DEMO_BETTER_CARE_FUND_SHARE_BASIS_POINTS_MAX);
        demo_budget_command_add(plan, &world->icbs[i], world->links[i].local_authority,
                                amount_pence);
    }
}

/* Contracts -------------------------------------------------------------------------------- */

/* What a planned contract is: the id is "<commissioner>-<year>-<tag>", such as QWE-2024-AIP. */
typedef struct demo_contract_terms {
    const char *tag;
    uint32_t financial_year;       /* DEMO_FINANCIAL_YEAR or DEMO_PREVIOUS_FINANCIAL_YEAR */
    const demo_org *commissioner;
    const demo_org *provider;
    Fundflow__V1__ContractType type;
    Fundflow__V1__Stream stream;
    Fundflow__V1__ServiceCategory category;
    int64_t value_pence;
    int64_t fixed_pence;           /* aligned payment and incentive contracts only */
    int64_t pot_pence;             /* outcome-based contracts only */
    const char *service_line_code; /* specialised contracts only */
    size_t metric_count;           /* outcome-based contracts only */
} demo_contract_terms;

/* Gives an outcome-based contract its first metric_count metrics, weighted by seeded quarters
 * and split so that the weights add to exactly 10000 basis points. */
static void demo_contract_metrics_fill(demo_command *added, size_t metric_count,
                                       demo_random *random) {
    assert(metric_count >= DEMO_METRICS_MIN && metric_count <= DEMO_METRICS_MAX);
    uint32_t weights[DEMO_METRICS_MAX];
    int64_t shares[DEMO_METRICS_MAX];
    for (size_t i = 0; i < metric_count; i++) weights[i] = demo_random_between(random, 1, 4);
    ff_err err = demo_amount_split(FF_BASIS_POINTS_WHOLE, weights, metric_count, shares);
    assert(err == FF_OK);
    (void)err;
    for (size_t i = 0; i < metric_count; i++) {
        Fundflow__V1__OutcomeMetric *metric = &added->metrics[i];
        fundflow__v1__outcome_metric__init(metric);
        metric->code = (char *)demo_metrics[i].code;
        metric->description = (char *)demo_metrics[i].description;
        metric->weight_bp = (uint32_t)shares[i];
        added->metric_pointers[i] = metric;
    }
    added->payload.contract.n_metrics = metric_count;
    added->payload.contract.metrics = added->metric_pointers;
}

static demo_contract *demo_contract_add(demo_plan *plan, const demo_contract_terms *terms,
                                        demo_random *random) {
    assert(terms->value_pence > 0 && terms->fixed_pence >= 0 && terms->pot_pence >= 0);
    assert(terms->fixed_pence <= terms->value_pence && terms->pot_pence < terms->value_pence);
    uint32_t year = terms->financial_year;
    assert(year == DEMO_FINANCIAL_YEAR || year == DEMO_PREVIOUS_FINANCIAL_YEAR);
    uint32_t effective_date =
        year == DEMO_FINANCIAL_YEAR ? DEMO_EFFECTIVE_DATE : DEMO_PREVIOUS_EFFECTIVE_DATE;
    demo_command *added = demo_command_add(plan, effective_date, "demo-contract-%s-%u-%s",
                                           terms->commissioner->code, year, terms->tag);
    int length = snprintf(added->identifier, sizeof added->identifier, "%s-%u-%s",
                          terms->commissioner->code, year, terms->tag);
    assert(length > 0 && (size_t)length < sizeof added->identifier);
    (void)length;
    Fundflow__V1__ContractAgreed *contract = &added->payload.contract;
    fundflow__v1__contract_agreed__init(contract);
    contract->contract_id = added->identifier;
    contract->commissioner_code = (char *)terms->commissioner->code;
    contract->provider_code = (char *)terms->provider->code;
    contract->type = terms->type;
    contract->financial_year = year;
    contract->stream = terms->stream;
    contract->annual_value_pence = terms->value_pence;
    contract->fixed_value_pence = terms->fixed_pence;
    contract->service_category = terms->category;
    if (terms->service_line_code != NULL) {
        contract->service_line_code = (char *)terms->service_line_code;
    }
    bool cquin = terms->type == FUNDFLOW__V1__CONTRACT_TYPE__AIP &&
                 terms->value_pence >= DEMO_CQUIN_VALUE_MIN_PENCE;
    contract->cquin_share_bp = cquin ? DEMO_CQUIN_SHARE_BASIS_POINTS : 0;
    contract->withheld_pot_pence = terms->pot_pence;
    if (terms->metric_count > 0) demo_contract_metrics_fill(added, terms->metric_count, random);
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED;
    added->event.contract_agreed = contract;
    demo_budget_debit(plan, terms->commissioner->code, terms->stream, year, terms->value_pence);
    assert(plan->contract_count < plan->contract_capacity);
    demo_contract *planned = &plan->contracts[plan->contract_count++];
    *planned = (demo_contract){.agreed = added, .commissioner = terms->commissioner,
                               .provider = terms->provider, .type = terms->type,
                               .stream = terms->stream, .financial_year = year,
                               .value_pence = terms->value_pence,
                               .fixed_pence = terms->fixed_pence, .pot_pence = terms->pot_pence};
    return planned;
}

/* An ICB's hospital contracts: its acute trust on aligned payment and incentive terms, another
 * ICB's acute trust for low-volume activity, and an independent provider paid by activity. */
static void demo_icb_hospital_contracts_plan(const demo_world *world, size_t index,
                                             demo_random *random, demo_plan *plan,
                                             demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    const demo_icb_links *links = &world->links[index];
    int64_t core_pence = figures->core_pence[index];
    int64_t acute_pence = demo_share_draw_pence(random, core_pence, DEMO_ACUTE_SHARE_BASIS_POINTS_MIN,
                                                DEMO_ACUTE_SHARE_BASIS_POINTS_MAX);
    figures->acute_contracts[index] = demo_contract_add(
        plan,
        &(demo_contract_terms){
            .tag = "AIP", .financial_year = DEMO_FINANCIAL_YEAR,
            .commissioner = icb, .provider = links->acute,
            .type = FUNDFLOW__V1__CONTRACT_TYPE__AIP, .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
            .category = FUNDFLOW__V1__SERVICE_CATEGORY__ACUTE_CARE, .value_pence = acute_pence,
            .fixed_pence = demo_share_draw_pence(random, acute_pence,
                                                 DEMO_FIXED_SHARE_BASIS_POINTS_MIN,
                                                 DEMO_FIXED_SHARE_BASIS_POINTS_MAX)},
        random);
    if (links->neighbour_acute != NULL) {
        demo_contract_add(
            plan,
            &(demo_contract_terms){
                .tag = "LVA", .financial_year = DEMO_FINANCIAL_YEAR,
                .commissioner = icb, .provider = links->neighbour_acute,
                .type = FUNDFLOW__V1__CONTRACT_TYPE__LOW_VOLUME_ACTIVITY,
                .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
                .category = FUNDFLOW__V1__SERVICE_CATEGORY__ACUTE_CARE,
                .value_pence = demo_thousands_draw_pence(random, DEMO_LOW_VOLUME_THOUSANDS_MIN,
                                                         DEMO_LOW_VOLUME_THOUSANDS_MAX)},
            random);
    }
    figures->elective_contracts[index] = demo_contract_add(
        plan,
        &(demo_contract_terms){
            .tag = "ELEC", .financial_year = DEMO_FINANCIAL_YEAR,
            .commissioner = icb, .provider = links->independent,
            .type = FUNDFLOW__V1__CONTRACT_TYPE__ACTIVITY_BASED,
            .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
            .category = FUNDFLOW__V1__SERVICE_CATEGORY__ACUTE_CARE,
            .value_pence = demo_share_draw_pence(random, core_pence,
                                                 DEMO_ELECTIVE_SHARE_BASIS_POINTS_MIN,
                                                 DEMO_ELECTIVE_SHARE_BASIS_POINTS_MAX)},
        random);
}

static const demo_mental_health_miss *demo_mental_health_miss_find(const char *icb_code) {
    for (size_t i = 0; i < DEMO_MENTAL_HEALTH_MISSES_COUNT; i++) {
        if (strcmp(demo_mental_health_misses[i].icb_code, icb_code) == 0) {
            return &demo_mental_health_misses[i];
        }
    }
    return NULL;
}

/* Draws an ICB's 2024/25 mental health spend from its 2023/24 spend: grown as fast as its core
 * services allocation, then by a seeded margin, or for an ICB that misses the standard a seeded
 * shortfall. Either way it is one draw, taking the place of the share once drawn for the block,
 * so the amounts drawn after it are those the demo drew before it had a 2023/24. */
static int64_t demo_mental_health_spend_draw_pence(const demo_world *world, size_t index,
                                                   demo_random *random,
                                                   const demo_figures *figures) {
    const demo_mental_health_miss *miss = demo_mental_health_miss_find(world->icbs[index].code);
    uint32_t factor_basis_points =
        miss == NULL ? FF_BASIS_POINTS_WHOLE +
                           demo_random_between(random, DEMO_MENTAL_HEALTH_MARGIN_BASIS_POINTS_MIN,
                                               DEMO_MENTAL_HEALTH_MARGIN_BASIS_POINTS_MAX)
                     : FF_BASIS_POINTS_WHOLE -
                           demo_random_between(random, miss->shortfall_basis_points_min,
                                               miss->shortfall_basis_points_max);
    int64_t last_spend_pence = figures->previous_mental_health_pence[index];
    int64_t last_core_pence = figures->previous_core_pence[index];
    int64_t core_pence = figures->core_pence[index];
    assert(last_spend_pence > 0 && last_core_pence > 0 && core_pence > 0);
    /* Each amount is at most a national total, below 2^44 pence, and the factor below 2^14, so
     * the product stays far inside 128 bits. */
    __int128 grown = (__int128)last_spend_pence * core_pence * factor_basis_points;
    int64_t spend_pence = (int64_t)(grown / ((__int128)last_core_pence * FF_BASIS_POINTS_WHOLE));
    /* The standard is met when spend / last spend >= core / last core, on the exact fractions,
     * as the mhis report decides it. */
    bool met = (__int128)spend_pence * last_core_pence >= (__int128)core_pence * last_spend_pence;
    assert(met == (miss == NULL));
    (void)met;
    return spend_pence;
}

/* An ICB's mental health block (which every ICB has, for the Mental Health Investment
 * Standard), a learning disability and autism or a dementia block that the standard leaves out,
 * and, where its trust is a member, a lead provider contract with the collaborative. The block is
 * what is left of the ICB's mental health spend once the collaborative contract is taken out.
 * The amounts are drawn in the order the contracts were once drawn and added. */
static void demo_icb_mental_health_contracts_plan(const demo_world *world, size_t index,
                                                  demo_random *random, demo_plan *plan,
                                                  const demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    const demo_icb_links *links = &world->links[index];
    int64_t core_pence = figures->core_pence[index];
    int64_t spend_pence = demo_mental_health_spend_draw_pence(world, index, random, figures);
    int64_t neurodiversity_pence = demo_share_draw_pence(
        random, core_pence, DEMO_NEURODIVERSITY_SHARE_BASIS_POINTS_MIN,
        DEMO_NEURODIVERSITY_SHARE_BASIS_POINTS_MAX);
    int64_t collaborative_pence = 0;
    if (links->commissions_collaborative) {
        collaborative_pence = demo_share_draw_pence(random, core_pence,
                                                    DEMO_COLLABORATIVE_SHARE_BASIS_POINTS_MIN,
                                                    DEMO_COLLABORATIVE_SHARE_BASIS_POINTS_MAX);
    }
    assert(spend_pence > collaborative_pence);
    demo_contract_terms terms = {
        .tag = "MH", .financial_year = DEMO_FINANCIAL_YEAR,
        .commissioner = icb, .provider = links->mental_health,
        .type = FUNDFLOW__V1__CONTRACT_TYPE__BLOCK, .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
        .category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH,
        .value_pence = spend_pence - collaborative_pence};
    demo_contract_add(plan, &terms, random);
    bool learning_disability = index % 2 == 0;
    terms.tag = learning_disability ? "LDA" : "DEM";
    terms.category = learning_disability
                         ? FUNDFLOW__V1__SERVICE_CATEGORY__LEARNING_DISABILITY_AUTISM
                         : FUNDFLOW__V1__SERVICE_CATEGORY__DEMENTIA;
    terms.value_pence = neurodiversity_pence;
    demo_contract_add(plan, &terms, random);
    if (!links->commissions_collaborative) return;
    terms.tag = "PCMH";
    terms.provider = &world->collaborative;
    terms.type = FUNDFLOW__V1__CONTRACT_TYPE__LEAD_PROVIDER;
    terms.category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH;
    terms.value_pence = collaborative_pence;
    demo_contract_add(plan, &terms, random);
}

/* An ICB's community services paid partly on outcomes, its GP practice from the primary
 * medical care allocation, and its first place's alliance contract with the local authority. */
static void demo_icb_community_contracts_plan(const demo_world *world, size_t index,
                                              demo_random *random, demo_plan *plan,
                                              demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    const demo_icb_links *links = &world->links[index];
    int64_t value_pence = demo_share_draw_pence(random, figures->core_pence[index],
                                                DEMO_COMMUNITY_SHARE_BASIS_POINTS_MIN,
                                                DEMO_COMMUNITY_SHARE_BASIS_POINTS_MAX);
    demo_contract_terms terms = {
        .tag = "OUT", .financial_year = DEMO_FINANCIAL_YEAR,
        .commissioner = icb, .provider = links->community,
        .type = FUNDFLOW__V1__CONTRACT_TYPE__OUTCOME_BASED,
        .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
        .category = FUNDFLOW__V1__SERVICE_CATEGORY__COMMUNITY_CARE, .value_pence = value_pence,
        .pot_pence = demo_share_draw_pence(random, value_pence, DEMO_POT_SHARE_BASIS_POINTS_MIN,
                                           DEMO_POT_SHARE_BASIS_POINTS_MAX),
        .metric_count = DEMO_METRICS_MIN + index % (DEMO_METRICS_MAX - DEMO_METRICS_MIN + 1)};
    figures->outcome_contracts[index] = demo_contract_add(plan, &terms, random);
    terms = (demo_contract_terms){
        .tag = "GP", .financial_year = DEMO_FINANCIAL_YEAR,
        .commissioner = icb, .provider = links->practice,
        .type = FUNDFLOW__V1__CONTRACT_TYPE__BLOCK,
        .stream = FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE,
        .category = FUNDFLOW__V1__SERVICE_CATEGORY__PRIMARY_CARE_SERVICES,
        .value_pence = demo_thousands_draw_pence(random, DEMO_PRACTICE_THOUSANDS_MIN,
                                                 DEMO_PRACTICE_THOUSANDS_MAX)};
    demo_contract_add(plan, &terms, random);
    const demo_org *place = links->first_place;
    if (place == NULL) return;
    int64_t place_pence = figures->place_pence[place - world->places];
    terms = (demo_contract_terms){
        .tag = "ALLIANCE", .financial_year = DEMO_FINANCIAL_YEAR,
        .commissioner = place, .provider = links->local_authority,
        .type = FUNDFLOW__V1__CONTRACT_TYPE__ALLIANCE,
        .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
        .category = FUNDFLOW__V1__SERVICE_CATEGORY__COMMUNITY_CARE,
        .value_pence = demo_share_draw_pence(random, place_pence,
                                             DEMO_ALLIANCE_SHARE_BASIS_POINTS_MIN,
                                             DEMO_ALLIANCE_SHARE_BASIS_POINTS_MAX)};
    demo_contract_add(plan, &terms, random);
}

static const demo_service_line *demo_service_line_find(const char *code) {
    for (size_t i = 0; i < DEMO_SERVICE_LINES_COUNT; i++) {
        if (strcmp(demo_service_lines[i].code, code) == 0) return &demo_service_lines[i];
    }
    assert(false && "a delegation names only the demo's own service lines");
    return NULL;
}

/* A specialised contract under delegation for line number line_number of its lines. */
static void demo_specialised_contract_add(demo_plan *plan, const demo_org *delegate,
                                          const demo_delegation *delegation, size_t line_number,
                                          const char *tag, const demo_org *provider,
                                          int64_t value_pence, demo_random *random) {
    const char *line_code = delegation->line_codes[line_number % delegation->line_count];
    demo_contract_terms terms = {
        .tag = tag, .financial_year = DEMO_FINANCIAL_YEAR,
        .commissioner = delegate, .provider = provider,
        .type = FUNDFLOW__V1__CONTRACT_TYPE__AIP, .stream = FUNDFLOW__V1__STREAM__SPECIALISED,
        .category = demo_service_line_find(line_code)->category, .value_pence = value_pence,
        .fixed_pence = demo_share_draw_pence(random, value_pence, DEMO_FIXED_SHARE_BASIS_POINTS_MIN,
                                             DEMO_FIXED_SHARE_BASIS_POINTS_MAX),
        .service_line_code = line_code};
    demo_contract_add(plan, &terms, random);
}

/* A fully delegated ICB's two specialised contracts: with its own acute trust, and with another
 * ICB's, each for a line of its delegation. */
static void demo_icb_specialised_contracts_plan(const demo_world *world, size_t index,
                                                demo_random *random, demo_plan *plan,
                                                const demo_figures *figures) {
    const demo_icb_links *links = &world->links[index];
    if (links->delegation == NULL) return;
    const demo_org *icb = &world->icbs[index];
    int64_t specialised_pence = figures->specialised_pence[index];
    const demo_org *second = links->neighbour_acute ? links->neighbour_acute : links->acute;
    demo_specialised_contract_add(
        plan, icb, links->delegation, index, "SPEC-1", links->acute,
        demo_share_draw_pence(random, specialised_pence,
                              DEMO_SPECIALISED_FIRST_SHARE_BASIS_POINTS_MIN,
                              DEMO_SPECIALISED_FIRST_SHARE_BASIS_POINTS_MAX),
        random);
    demo_specialised_contract_add(
        plan, icb, links->delegation, index + 1, "SPEC-2", second,
        demo_share_draw_pence(random, specialised_pence,
                              DEMO_SPECIALISED_SECOND_SHARE_BASIS_POINTS_MIN,
                              DEMO_SPECIALISED_SECOND_SHARE_BASIS_POINTS_MAX),
        random);
}

/* A joint committee contracts a seeded share of its allocation out to its members' acute
 * trusts, split by the members' populations. */
static ff_err demo_joint_committee_contracts_plan(const demo_world *world, size_t index,
                                                  demo_random *random, demo_plan *plan,
                                                  const demo_figures *figures) {
    const demo_org *committee = &world->joint_committees[index];
    uint32_t weights[DEMO_MEMBERS_MAX];
    int64_t shares_pence[DEMO_MEMBERS_MAX];
    for (size_t m = 0; m < committee->member_count; m++) {
        weights[m] = figures->population[demo_icb_index(world, committee->member_codes[m])];
    }
    int64_t contracted_pence = demo_share_draw_pence(
        random, figures->joint_committee_pence[index], DEMO_JOINT_COMMITTEE_SHARE_BASIS_POINTS_MIN,
        DEMO_JOINT_COMMITTEE_SHARE_BASIS_POINTS_MAX);
    ff_err err = demo_amount_split(contracted_pence, weights, committee->member_count,
                                   shares_pence);
    if (err != FF_OK) return err;
    for (size_t m = 0; m < committee->member_count; m++) {
        char tag[sizeof "SPEC-" + 2];
        snprintf(tag, sizeof tag, "SPEC-%02u", (unsigned)((m + 1) % 100));
        size_t member = demo_icb_index(world, committee->member_codes[m]);
        demo_specialised_contract_add(plan, committee, world->joint_committee_delegations[index],
                                      m, tag, world->links[member].acute, shares_pence[m], random);
    }
    return FF_OK;
}

static ff_err demo_contracts_plan(const demo_world *world, demo_random *random, demo_plan *plan,
                                  demo_figures *figures) {
    for (size_t i = 0; i < world->icb_count; i++) {
        demo_icb_hospital_contracts_plan(world, i, random, plan, figures);
        demo_icb_mental_health_contracts_plan(world, i, random, plan, figures);
        demo_icb_community_contracts_plan(world, i, random, plan, figures);
        demo_icb_specialised_contracts_plan(world, i, random, plan, figures);
    }
    for (size_t j = 0; j < world->joint_committee_count; j++) {
        ff_err err = demo_joint_committee_contracts_plan(world, j, random, plan, figures);
        if (err != FF_OK) return err;
    }
    return FF_OK;
}

/* Payments, closes, variations, statements and outcomes ------------------------------------ */

/* Month month's twelfth of total_pence, the pence left over going one each to the first months,
 * so that twelve instalments add up to the total exactly. */
static int64_t demo_instalment_pence(int64_t total_pence, uint32_t month) {
    assert(total_pence >= 0 && month >= 1 && month <= DEMO_MONTHS_IN_YEAR);
    int64_t left_over_pence = total_pence % DEMO_MONTHS_IN_YEAR;
    return total_pence / DEMO_MONTHS_IN_YEAR + (month <= left_over_pence ? 1 : 0);
}

/* What a contract pays for a month: a twelfth of its fixed part, plus a twelfth of its
 * activity-paid part scaled by the month's activity against plan. Aligned payment and incentive
 * contracts pay activity on the variable element and activity-based ones on everything; the
 * rest pay a twelfth of what they do not withhold. */
static int64_t demo_payment_amount_pence(const demo_contract *contract, uint32_t month,
                                         demo_random *random) {
    int64_t payable_pence = contract->value_pence - contract->pot_pence;
    int64_t fixed_pence = payable_pence;
    if (contract->type == FUNDFLOW__V1__CONTRACT_TYPE__AIP) fixed_pence = contract->fixed_pence;
    if (contract->type == FUNDFLOW__V1__CONTRACT_TYPE__ACTIVITY_BASED) fixed_pence = 0;
    int64_t variable_pence = payable_pence - fixed_pence;
    int64_t amount_pence = demo_instalment_pence(fixed_pence, month);
    if (variable_pence > 0) {
        uint32_t activity = demo_random_between(random, DEMO_ACTIVITY_BASIS_POINTS_MIN,
                                                DEMO_ACTIVITY_BASIS_POINTS_MAX);
        amount_pence += demo_share_pence(demo_instalment_pence(variable_pence, month), activity);
    }
    return amount_pence;
}

static void demo_payment_command_add(demo_plan *plan, demo_contract *contract, uint32_t month,
                                     int64_t amount_pence) {
    assert(amount_pence > 0 && month >= 1 && month <= DEMO_MONTHS_IN_YEAR);
    const char *contract_id = contract->agreed->identifier;
    uint32_t year_index = contract->financial_year - DEMO_PREVIOUS_FINANCIAL_YEAR;
    assert(year_index < DEMO_YEARS);
    demo_command *added =
        demo_command_add(plan, demo_month_date(contract->financial_year, month, DEMO_PAYMENT_DAY),
                         "demo-payment-%s-M%02u", contract_id, month);
    Fundflow__V1__PaymentMade *payment = &added->payload.payment;
    fundflow__v1__payment_made__init(payment);
    payment->contract_id = (char *)contract_id;
    payment->month = month;
    payment->amount_pence = amount_pence;
    payment->reference = plan->payment_references[year_index][month - 1];
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
    added->event.payment_made = payment;
    contract->paid_pence += amount_pence;
    /* The ledger refuses payments past the value less the pot; the activity limits keep the
     * first half-year well inside it, and a year paid in full pays exactly its twelfths. */
    assert(contract->paid_pence <= contract->value_pence - contract->pot_pence);
}

/* System balance and plans ----------------------------------------------------------------- */

/* A share of the rest of a system's figures, drawn from a generator of its own (seeded from the
 * demo's seed with these bits flipped) so that adding them left every earlier figure as it was.
 * Every contract below is a block contract, whose payments draw nothing. */
#define DEMO_BALANCE_SEED_BITS UINT64_C(0x2024BA1A2024BA1A)
/* A place commissions this share of its budget under contracts, its alliance contract
 * included: what it keeps is a small contingency. */
#define DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MIN 9850u
#define DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MAX 9950u
/* An ICB's running costs: a year's commitment for its staff and hosted corporate services
 * (payroll, estates, IT) near, but below the 95% the running_costs report warns above. */
#define DEMO_RUNNING_COST_COMMITTED_BASIS_POINTS_MIN 9000u
#define DEMO_RUNNING_COST_COMMITTED_BASIS_POINTS_MAX 9400u
/* What an ICB keeps uncommitted of its primary medical care and specialised allocations. */
#define DEMO_STREAM_KEPT_BASIS_POINTS 20u
/* A system's surplus, in basis points of its ICB's income: most finish within 1% of break-even;
 * DEMO_SURPLUS_SYSTEMS of them, the ICB whose specialised delegation is revoked among them,
 * finish with a surplus of 1.5% to 3%. No body may commit beyond what it holds, so commitments
 * alone never make a deficit; the DEMO_DEFICIT_SYSTEMS below plan one. */
#define DEMO_BREAK_EVEN_BASIS_POINTS_MIN 20u
#define DEMO_BREAK_EVEN_BASIS_POINTS_MAX 80u
#define DEMO_SURPLUS_BASIS_POINTS_MIN 150u
#define DEMO_SURPLUS_BASIS_POINTS_MAX 300u
#define DEMO_SURPLUS_SYSTEMS 3u
#define DEMO_SURPLUS_CYCLE 17u
#define DEMO_SURPLUS_AT 9u
/* Every ICB plans its core services spend month by month at the year's commitments; every
 * DEMO_OVERSPEND_CYCLE-th ICB from DEMO_OVERSPEND_AT planned that much less than it has
 * committed, so that its actuals run this many basis points over plan. */
#define DEMO_OVERSPEND_CYCLE 10u
#define DEMO_OVERSPEND_AT 3u
#define DEMO_OVERSPEND_BASIS_POINTS_MIN 300u
#define DEMO_OVERSPEND_BASIS_POINTS_MAX 400u
/* DEMO_DEFICIT_SYSTEMS ICBs, the first by code that neither plan less than they committed nor
 * finish in surplus, plan to spend more than their systems hold: the ICB's core services plan is
 * its core contracts' value, plus what the ICB and its places still hold of core services, plus
 * DEMO_DEFICIT_BASIS_POINTS_MIN to _MAX of its core income (fixed by the ICB's index, drawing
 * nothing, so every other figure stays as it was). system_balance forecasts each body's spending
 * at the larger of contract value and plan, so the system's core services run that share of its
 * core income beyond it, a deficit its other streams' small surpluses do not cover. */
#define DEMO_DEFICIT_SYSTEMS 3u
#define DEMO_DEFICIT_BASIS_POINTS_MIN 150u
#define DEMO_DEFICIT_BASIS_POINTS_MAX 200u
#define DEMO_PLAN_REASON "2024/25 operating plan" DEMO_ILLUSTRATIVE
static_assert(DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MIN >= 9000u &&
                  DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MAX <= FF_BASIS_POINTS_WHOLE &&
                  DEMO_RUNNING_COST_COMMITTED_BASIS_POINTS_MAX < 9500u &&
                  DEMO_BREAK_EVEN_BASIS_POINTS_MAX < 100u && DEMO_SURPLUS_BASIS_POINTS_MIN > 100u,
              "places commission at least 90%, running costs stay below the 95% warning, and "
              "break-even systems keep under 1% of their income, surplus ones over it");

/* What org_code still holds of a stream in 2024/25; 0 for a stream it never received. */
static int64_t demo_headroom_pence(demo_plan *plan, const char *org_code,
                                   Fundflow__V1__Stream stream) {
    const demo_budget *budget = demo_budget_find(plan, org_code, stream, DEMO_FINANCIAL_YEAR);
    return budget == NULL ? 0 : budget->headroom_pence;
}

/* A 2024/25 block contract, paid in twelfths, for whatever is left after keeping kept_pence. */
static int64_t demo_block_contract_add(demo_plan *plan, const demo_contract_terms *pattern,
                                       int64_t kept_pence, demo_random *random) {
    int64_t headroom_pence =
        demo_headroom_pence(plan, pattern->commissioner->code, pattern->stream);
    if (kept_pence < 0) kept_pence = 0;
    if (headroom_pence - kept_pence <= 0) return headroom_pence;
    demo_contract_terms terms = *pattern;
    terms.financial_year = DEMO_FINANCIAL_YEAR;
    terms.type = FUNDFLOW__V1__CONTRACT_TYPE__BLOCK;
    terms.value_pence = headroom_pence - kept_pence;
    demo_contract_add(plan, &terms, random);
    return kept_pence;
}

/* Commissions most of each of an ICB's places' budgets from its community trust; returns what
 * the places keep. */
static int64_t demo_places_commission_plan(const demo_world *world, size_t index,
                                           demo_random *random, demo_plan *plan,
                                           const demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    int64_t kept_total_pence = 0;
    for (size_t p = 0; p < world->place_count; p++) {
        const demo_org *place = &world->places[p];
        if (strcmp(place->parent_code, icb->code) != 0) continue;
        int64_t budget_pence = figures->place_pence[p];
        int64_t kept_pence =
            budget_pence - demo_share_draw_pence(random, budget_pence,
                                                 DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MIN,
                                                 DEMO_PLACE_COMMISSIONED_BASIS_POINTS_MAX);
        kept_total_pence += demo_block_contract_add(
            plan,
            &(demo_contract_terms){.tag = "CARE", .commissioner = place,
                                   .provider = world->links[index].community,
                                   .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
                                   .category = FUNDFLOW__V1__SERVICE_CATEGORY__COMMUNITY_CARE},
            kept_pence, random);
    }
    return kept_total_pence;
}

/* The ICB whose specialised delegation demo_revocation_plan revokes, or NULL. */
static const demo_org *demo_revoked_icb(const demo_world *world) {
    for (size_t i = 0; i < world->delegation_count; i++) {
        if (world->delegations[i].mode == FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL) {
            return world->delegations[i].delegate;
        }
    }
    return NULL;
}

static bool demo_surplus_system(const demo_world *world, size_t index) {
    if (&world->icbs[index] == demo_revoked_icb(world)) return true;
    return index % DEMO_SURPLUS_CYCLE == DEMO_SURPLUS_AT &&
           index / DEMO_SURPLUS_CYCLE < DEMO_SURPLUS_SYSTEMS - 1;
}

/* What an ICB keeps of its core services now so that, after demo_variations_plan raises its
 * acute contract or cuts its independent sector contract, it holds target_kept_pence; never less
 * than the raise. */
static int64_t demo_core_kept_pence(size_t index, const demo_figures *figures,
                                    int64_t target_kept_pence) {
    int64_t raise_pence = 0, cut_pence = 0;
    if (index % DEMO_INCREASE_CYCLE == 0) {
        raise_pence = demo_share_pence(figures->acute_contracts[index]->value_pence,
                                       DEMO_ELECTIVE_INCREASE_BASIS_POINTS);
    }
    if (index % DEMO_DECREASE_CYCLE == DEMO_DECREASE_AT) {
        cut_pence = demo_share_pence(figures->elective_contracts[index]->value_pence,
                                     DEMO_ELECTIVE_DECREASE_BASIS_POINTS);
    }
    int64_t kept_pence = target_kept_pence + raise_pence - cut_pence;
    return kept_pence > raise_pence ? kept_pence : raise_pence;
}

/* Commits one ICB's system to within its target surplus: its places' contracts, its running
 * costs, the rest of its primary medical care and specialised allocations (bar the revoked
 * delegation's, whose M6 payments must stay the only ones after it ended), and last a core
 * services block for urgent and emergency care that leaves the system its target. */
static void demo_system_balance_plan(const demo_world *world, size_t index, demo_random *random,
                                     demo_plan *plan, const demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    const demo_icb_links *links = &world->links[index];
    int64_t income_pence = figures->core_pence[index] + figures->primary_pence[index] +
                           figures->running_cost_pence[index] + figures->specialised_pence[index];
    uint32_t target_basis_points =
        demo_surplus_system(world, index)
            ? demo_random_between(random, DEMO_SURPLUS_BASIS_POINTS_MIN,
                                  DEMO_SURPLUS_BASIS_POINTS_MAX)
            : demo_random_between(random, DEMO_BREAK_EVEN_BASIS_POINTS_MIN,
                                  DEMO_BREAK_EVEN_BASIS_POINTS_MAX);
    int64_t kept_pence = demo_places_commission_plan(world, index, random, plan, figures);
    int64_t allowance_pence = figures->running_cost_pence[index];
    kept_pence += demo_block_contract_add(
        plan,
        &(demo_contract_terms){.tag = "RC", .commissioner = icb, .provider = links->community,
                               .stream = FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE,
                               .category = FUNDFLOW__V1__SERVICE_CATEGORY__OTHER_SERVICES},
        allowance_pence - demo_share_draw_pence(random, allowance_pence,
                                                DEMO_RUNNING_COST_COMMITTED_BASIS_POINTS_MIN,
                                                DEMO_RUNNING_COST_COMMITTED_BASIS_POINTS_MAX),
        random);
    kept_pence += demo_block_contract_add(
        plan,
        &(demo_contract_terms){.tag = "GMS", .commissioner = icb, .provider = links->practice,
                               .stream = FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE,
                               .category = FUNDFLOW__V1__SERVICE_CATEGORY__PRIMARY_CARE_SERVICES},
        demo_share_pence(figures->primary_pence[index], DEMO_STREAM_KEPT_BASIS_POINTS), random);
    if (links->delegation != NULL && icb != demo_revoked_icb(world)) {
        kept_pence += demo_block_contract_add(
            plan,
            &(demo_contract_terms){
                .tag = "SPEC-3", .commissioner = icb, .provider = links->acute,
                .stream = FUNDFLOW__V1__STREAM__SPECIALISED,
                .category = demo_service_line_find(
                                links->delegation->line_codes[0])->category,
                .service_line_code = links->delegation->line_codes[0]},
            demo_share_pence(figures->specialised_pence[index], DEMO_STREAM_KEPT_BASIS_POINTS),
            random);
    } else {
        kept_pence += demo_headroom_pence(plan, icb->code, FUNDFLOW__V1__STREAM__SPECIALISED);
    }
    demo_block_contract_add(
        plan,
        &(demo_contract_terms){.tag = "UEC", .commissioner = icb, .provider = links->acute,
                               .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
                               .category = FUNDFLOW__V1__SERVICE_CATEGORY__ACUTE_CARE},
        demo_core_kept_pence(index, figures,
                             demo_share_pence(income_pence, target_basis_points) - kept_pence),
        random);
}

/* Whether the ICB at index plans less than it committed, so that its actuals run over plan. */
static bool demo_overspend_icb(size_t index) {
    return index % DEMO_OVERSPEND_CYCLE == DEMO_OVERSPEND_AT;
}

/* Whether the ICB at index is one of the DEMO_DEFICIT_SYSTEMS that plan beyond their income. */
static bool demo_deficit_system(const demo_world *world, size_t index) {
    size_t earlier = 0;
    for (size_t i = 0; i < index; i++) {
        if (!demo_overspend_icb(i) && !demo_surplus_system(world, i)) earlier++;
    }
    return !demo_overspend_icb(index) && !demo_surplus_system(world, index) &&
           earlier < DEMO_DEFICIT_SYSTEMS;
}

/* What a deficit system's ICB plans beyond its core contracts' payable value: their outcome
 * pots, what the ICB and its places still hold of core services, and a share of its core
 * income, so that the system's core services forecast runs that share beyond what it holds. */
static int64_t demo_deficit_plan_pence(const demo_world *world, size_t index, demo_plan *plan,
                                       const demo_figures *figures) {
    const demo_org *icb = &world->icbs[index];
    int64_t extra_pence = demo_headroom_pence(plan, icb->code, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    for (size_t p = 0; p < world->place_count; p++) {
        if (strcmp(world->places[p].parent_code, icb->code) != 0) continue;
        extra_pence +=
            demo_headroom_pence(plan, world->places[p].code, FUNDFLOW__V1__STREAM__CORE_SERVICES);
    }
    for (size_t c = 0; c < plan->contract_count; c++) {
        const demo_contract *contract = &plan->contracts[c];
        if (contract->commissioner == icb && contract->financial_year == DEMO_FINANCIAL_YEAR &&
            contract->stream == FUNDFLOW__V1__STREAM__CORE_SERVICES) {
            extra_pence += contract->pot_pence;
        }
    }
    uint32_t deficit_basis_points =
        DEMO_DEFICIT_BASIS_POINTS_MIN +
        (uint32_t)(index * 7u % (DEMO_DEFICIT_BASIS_POINTS_MAX - DEMO_DEFICIT_BASIS_POINTS_MIN + 1u));
    return extra_pence + demo_share_pence(figures->core_pence[index], deficit_basis_points);
}

/* A 2024/25 core services plan for an ICB or a place: each month what its own core contracts
 * pay at plan (a twelfth of each one's payable value), cut by overspend_basis_points for a body
 * that planned less than it committed, plus a twelfth of extra_pence for one that planned more. */
static void demo_core_plan_command_add(demo_plan *plan, const demo_org *body,
                                       uint32_t overspend_basis_points, int64_t extra_pence) {
    demo_command *added = demo_command_add(plan, DEMO_EFFECTIVE_DATE, "demo-plan-%u-core-%s",
                                           DEMO_FINANCIAL_YEAR, body->code);
    uint32_t scale_basis_points =
        (uint32_t)((uint64_t)FF_BASIS_POINTS_WHOLE * FF_BASIS_POINTS_WHOLE /
                   (FF_BASIS_POINTS_WHOLE + overspend_basis_points));
    for (uint32_t month = 1; month <= DEMO_MONTHS_IN_YEAR; month++) {
        int64_t month_pence = 0;
        for (size_t c = 0; c < plan->contract_count; c++) {
            const demo_contract *contract = &plan->contracts[c];
            if (contract->commissioner != body ||
                contract->financial_year != DEMO_FINANCIAL_YEAR ||
                contract->stream != FUNDFLOW__V1__STREAM__CORE_SERVICES) {
                continue;
            }
            month_pence +=
                demo_instalment_pence(contract->value_pence - contract->pot_pence, month);
        }
        added->month_amounts_pence[month - 1] =
            demo_share_pence(month_pence, scale_basis_points) +
            demo_instalment_pence(extra_pence, month);
    }
    Fundflow__V1__PlanSet *set = &added->payload.plan;
    fundflow__v1__plan_set__init(set);
    set->org_code = (char *)body->code;
    set->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    set->financial_year = DEMO_FINANCIAL_YEAR;
    set->n_month_amounts_pence = DEMO_MONTHS_IN_YEAR;
    set->month_amounts_pence = added->month_amounts_pence;
    set->reason = (char *)DEMO_PLAN_REASON;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_PLAN_SET;
    added->event.plan_set = set;
}

/* Every ICB's and place's core services plan; every DEMO_OVERSPEND_CYCLE-th ICB planned less,
 * and DEMO_DEFICIT_SYSTEMS ICBs more than their systems hold. */
static void demo_core_plans_plan(const demo_world *world, demo_random *random, demo_plan *plan,
                                 const demo_figures *figures) {
    for (size_t i = 0; i < world->icb_count; i++) {
        uint32_t overspend_basis_points = 0;
        int64_t extra_pence = 0;
        if (demo_overspend_icb(i)) {
            overspend_basis_points = demo_random_between(random, DEMO_OVERSPEND_BASIS_POINTS_MIN,
                                                         DEMO_OVERSPEND_BASIS_POINTS_MAX);
        } else if (demo_deficit_system(world, i)) {
            extra_pence = demo_deficit_plan_pence(world, i, plan, figures);
        }
        demo_core_plan_command_add(plan, &world->icbs[i], overspend_basis_points, extra_pence);
    }
    for (size_t p = 0; p < world->place_count; p++) {
        demo_core_plan_command_add(plan, &world->places[p], 0, 0);
    }
}

static void demo_balance_and_plans_plan(const demo_world *world, uint64_t seed, demo_plan *plan,
                                        const demo_figures *figures) {
    demo_random random = {seed ^ DEMO_BALANCE_SEED_BITS};
    for (size_t i = 0; i < world->icb_count; i++) {
        demo_system_balance_plan(world, i, &random, plan, figures);
    }
    demo_core_plans_plan(world, &random, plan, figures);
}

static void demo_close_command_add(demo_plan *plan, const demo_org *org, uint32_t month) {
    demo_command *added = demo_command_add(plan, DEMO_CLOSE_DATE, "demo-close-%u-M%02u-%s",
                                           DEMO_FINANCIAL_YEAR, month, org->code);
    Fundflow__V1__PeriodClosed *close = &added->payload.close;
    fundflow__v1__period_closed__init(close);
    close->org_code = (char *)org->code;
    close->financial_year = DEMO_FINANCIAL_YEAR;
    close->month = month;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED;
    added->event.period_closed = close;
}

/* Pays every contract of financial_year for one month. */
static void demo_month_payments_plan(demo_plan *plan, uint32_t financial_year, uint32_t month,
                                     demo_random *random) {
    for (size_t i = 0; i < plan->contract_count; i++) {
        demo_contract *contract = &plan->contracts[i];
        if (contract->financial_year != financial_year) continue;
        int64_t amount_pence = demo_payment_amount_pence(contract, month, random);
        if (amount_pence > 0) demo_payment_command_add(plan, contract, month, amount_pence);
    }
}

/* Pays every 2024/25 contract month by month. Month DEMO_CLOSED_MONTH is closed for the first
 * few ICBs and their acute trusts straight after its payments: a close must follow everything
 * dated in the month that posts to the body, since nothing dated inside a closed month may post
 * to it. 2023/24's postings are dated in 2023/24, so they never meet a 2024/25 close. */
static void demo_payments_plan(const demo_world *world, demo_random *random, demo_plan *plan) {
    static_assert(DEMO_CLOSE_DATE > DEMO_EFFECTIVE_DATE, "a close follows the month's postings");
    for (uint32_t month = 1; month <= DEMO_MONTHS_PAID; month++) {
        demo_month_payments_plan(plan, DEMO_FINANCIAL_YEAR, month, random);
        if (month != DEMO_CLOSED_MONTH) continue;
        for (size_t i = 0; i < world->icb_count && i < DEMO_CLOSED_ICBS; i++) {
            demo_close_command_add(plan, &world->icbs[i], month);
            demo_close_command_add(plan, world->links[i].acute, month);
        }
    }
}

static void demo_variation_command_add(demo_plan *plan, demo_contract *contract,
                                       int64_t change_pence, const char *reason) {
    assert(change_pence != 0);
    const char *contract_id = contract->agreed->identifier;
    demo_command *added =
        demo_command_add(plan, DEMO_VARIATION_DATE, "demo-variation-%s", contract_id);
    Fundflow__V1__ContractVaried *variation = &added->payload.variation;
    fundflow__v1__contract_varied__init(variation);
    variation->contract_id = (char *)contract_id;
    variation->change_pence = change_pence;
    variation->reason = (char *)reason;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED;
    added->event.contract_varied = variation;
    if (change_pence > 0) {
        demo_budget_debit(plan, contract->commissioner->code, contract->stream,
                          contract->financial_year, change_pence);
    } else {
        demo_budget_credit(plan, contract->commissioner->code, contract->stream,
                           contract->financial_year, -change_pence);
    }
    contract->value_pence += change_pence;
    /* A cut may not take the value below what is paid plus the pot. */
    assert(contract->value_pence >= contract->paid_pence + contract->pot_pence);
}

/* Some acute contracts grow for elective work above plan, and some independent sector contracts
 * shrink for activity below it. */
static void demo_variations_plan(const demo_world *world, demo_plan *plan,
                                 const demo_figures *figures) {
    for (size_t i = 0; i < world->icb_count; i++) {
        if (i % DEMO_INCREASE_CYCLE == 0) {
            demo_contract *contract = figures->acute_contracts[i];
            demo_variation_command_add(
                plan, contract,
                demo_share_pence(contract->value_pence, DEMO_ELECTIVE_INCREASE_BASIS_POINTS),
                "Elective activity above plan" DEMO_ILLUSTRATIVE);
        }
        if (i % DEMO_DECREASE_CYCLE == DEMO_DECREASE_AT) {
            demo_contract *contract = figures->elective_contracts[i];
            demo_variation_command_add(
                plan, contract,
                -demo_share_pence(contract->value_pence, DEMO_ELECTIVE_DECREASE_BASIS_POINTS),
                "Independent sector activity below plan" DEMO_ILLUSTRATIVE);
        }
    }
}

static void demo_statement_command_add(demo_plan *plan, const demo_org *org,
                                       const demo_org *counterparty,
                                       Fundflow__V1__StatementKind kind, int64_t amount_pence) {
    assert(amount_pence >= 0);
    const ProtobufCEnumValue *kind_value =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__statement_kind__descriptor, (int)kind);
    assert(kind_value != NULL);
    demo_command *added = demo_command_add(
        plan, DEMO_STATEMENT_DATE, "demo-aob-%u-M%02u-%s-%s-%s", DEMO_FINANCIAL_YEAR,
        DEMO_STATEMENT_MONTH, org->code, counterparty->code, kind_value->name);
    Fundflow__V1__StatementSubmitted *statement = &added->payload.statement;
    fundflow__v1__statement_submitted__init(statement);
    statement->org_code = (char *)org->code;
    statement->counterparty_code = (char *)counterparty->code;
    statement->financial_year = DEMO_FINANCIAL_YEAR;
    statement->month = DEMO_STATEMENT_MONTH;
    statement->kind = kind;
    statement->amount_pence = amount_pence;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED;
    added->event.statement_submitted = statement;
}

/* What the commissioner's 2024/25 contracts with the provider have paid it. */
static int64_t demo_paid_between(const demo_plan *plan, const demo_org *commissioner,
                                 const demo_org *provider) {
    int64_t paid_pence = 0;
    for (size_t i = 0; i < plan->contract_count; i++) {
        const demo_contract *contract = &plan->contracts[i];
        if (contract->financial_year == DEMO_FINANCIAL_YEAR &&
            contract->commissioner == commissioner && contract->provider == provider) {
            paid_pence += contract->paid_pence;
        }
    }
    return paid_pence;
}

/* Month 6 Agreement of Balances between each ICB and its acute trust: the ICB's expenditure and
 * payable against the trust's income and receivable. Expenditure is what the ICB's contracts
 * paid the trust; the receivable, an invoice not yet paid, is made up. A few trusts claim
 * income the ICB does not recognise, and a few a larger balance than the ICB owns to. */
static void demo_statements_plan(const demo_world *world, demo_random *random, demo_plan *plan) {
    for (size_t i = 0; i < world->icb_count; i++) {
        const demo_org *icb = &world->icbs[i], *trust = world->links[i].acute;
        int64_t expenditure_pence = demo_paid_between(plan, icb, trust);
        int64_t payable_pence = demo_thousands_draw_pence(random, DEMO_RECEIVABLE_THOUSANDS_MIN,
                                                          DEMO_RECEIVABLE_THOUSANDS_MAX);
        int64_t income_pence = expenditure_pence, receivable_pence = payable_pence;
        if (i % DEMO_MISMATCH_CYCLE == DEMO_MISMATCH_INCOME_AT) {
            income_pence += demo_thousands_draw_pence(random, DEMO_DISPUTED_INCOME_THOUSANDS_MIN,
                                                      DEMO_DISPUTED_INCOME_THOUSANDS_MAX);
        }
        if (i % DEMO_MISMATCH_CYCLE == DEMO_MISMATCH_BALANCE_AT) {
            receivable_pence += demo_thousands_draw_pence(
                random, DEMO_DISPUTED_BALANCE_THOUSANDS_MIN, DEMO_DISPUTED_BALANCE_THOUSANDS_MAX);
        }
        demo_statement_command_add(plan, icb, trust, FUNDFLOW__V1__STATEMENT_KIND__EXPENDITURE,
                                   expenditure_pence);
        demo_statement_command_add(plan, icb, trust, FUNDFLOW__V1__STATEMENT_KIND__PAYABLE,
                                   payable_pence);
        demo_statement_command_add(plan, trust, icb, FUNDFLOW__V1__STATEMENT_KIND__INCOME,
                                   income_pence);
        demo_statement_command_add(plan, trust, icb, FUNDFLOW__V1__STATEMENT_KIND__RECEIVABLE,
                                   receivable_pence);
    }
}

/* Reports every metric of some outcome-based contracts, each partly achieved. */
static void demo_outcomes_plan(const demo_world *world, demo_random *random, demo_plan *plan,
                               const demo_figures *figures) {
    for (size_t i = 0; i < world->icb_count; i += DEMO_OUTCOME_REPORT_CYCLE) {
        const demo_contract *contract = figures->outcome_contracts[i];
        const Fundflow__V1__ContractAgreed *agreed = &contract->agreed->payload.contract;
        for (size_t m = 0; m < agreed->n_metrics; m++) {
            const char *metric_code = agreed->metrics[m]->code;
            demo_command *added = demo_command_add(plan, DEMO_OUTCOME_DATE, "demo-outcome-%s-%s",
                                                   agreed->contract_id, metric_code);
            Fundflow__V1__OutcomeReported *outcome = &added->payload.outcome;
            fundflow__v1__outcome_reported__init(outcome);
            outcome->contract_id = agreed->contract_id;
            outcome->metric_code = (char *)metric_code;
            outcome->achievement_bp = demo_random_between(
                random, DEMO_ACHIEVEMENT_BASIS_POINTS_MIN, DEMO_ACHIEVEMENT_BASIS_POINTS_MAX);
            added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED;
            added->event.outcome_reported = outcome;
        }
    }
}

/* The year before: 2023/24 ------------------------------------------------------------------ */

static_assert(DEMO_CORE_SERVICES_TOTAL_PENCE / DEMO_THOUSAND_POUNDS_PENCE <= UINT32_MAX &&
                  DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE / DEMO_THOUSAND_POUNDS_PENCE <= UINT32_MAX,
              "an ICB's allocation in thousands of pounds is a weight demo_amount_split takes");

/* Splits total_pence among the ICBs as their 2024/25 amounts would be after each was cut by a
 * seeded DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MIN to _MAX. Splitting, rather than cutting,
 * makes the total exact; it moves every ICB's cut by the same small fraction. The weights are
 * in thousands of pounds, fine enough for figures of hundreds of millions. */
static ff_err demo_previous_split(demo_random *random, const int64_t *current_pence, size_t count,
                                  int64_t total_pence, int64_t *previous_pence) {
    uint32_t weights[DEMO_ICBS_MAX];
    assert(count <= DEMO_ICBS_MAX);
    for (size_t i = 0; i < count; i++) {
        uint32_t reduction = demo_random_between(random, DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MIN,
                                                 DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MAX);
        int64_t cut_pence =
            demo_share_pence(current_pence[i], FF_BASIS_POINTS_WHOLE - reduction);
        weights[i] = (uint32_t)(cut_pence / DEMO_THOUSAND_POUNDS_PENCE);
    }
    return demo_amount_split(total_pence, weights, count, previous_pence);
}

/* Plans 2023/24's three allocations to every ICB: core services and primary medical care split
 * to their exact totals, and running cost allowances cut in whole thousands of pounds. */
static ff_err demo_previous_allocations_plan(const demo_world *world, demo_random *random,
                                             demo_plan *plan, demo_figures *figures) {
    size_t count = world->icb_count;
    int64_t primary_pence[DEMO_ICBS_MAX];
    ff_err err = demo_previous_split(random, figures->core_pence, count,
                                     DEMO_PREVIOUS_CORE_SERVICES_TOTAL_PENCE,
                                     figures->previous_core_pence);
    if (err == FF_OK) {
        err = demo_previous_split(random, figures->primary_pence, count,
                                  DEMO_PREVIOUS_PRIMARY_MEDICAL_CARE_TOTAL_PENCE, primary_pence);
    }
    if (err != FF_OK) return err;
    /* Drawn before anything is planned, in the same order as ever, so the limit can lead. */
    int64_t running_cost_pence[DEMO_ICBS_MAX];
    for (size_t i = 0; i < count; i++) {
        uint32_t reduction = demo_random_between(random, DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MIN,
                                                 DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MAX);
        running_cost_pence[i] =
            demo_share_pence(figures->running_cost_pence[i], FF_BASIS_POINTS_WHOLE - reduction);
        running_cost_pence[i] -= running_cost_pence[i] % DEMO_RUNNING_COST_STEP_PENCE;
        assert(running_cost_pence[i] > 0 &&
               running_cost_pence[i] < figures->running_cost_pence[i]);
    }
    demo_limit_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "core",
                           FUNDFLOW__V1__STREAM__CORE_SERVICES,
                           DEMO_PREVIOUS_CORE_SERVICES_TOTAL_PENCE);
    demo_limit_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "pmc",
                           FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE,
                           DEMO_PREVIOUS_PRIMARY_MEDICAL_CARE_TOTAL_PENCE);
    demo_limit_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "rca",
                           FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE,
                           demo_amounts_total(running_cost_pence, count));
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "core",
                                    FUNDFLOW__V1__STREAM__CORE_SERVICES, &world->icbs[i],
                                    figures->previous_core_pence[i], NULL);
    }
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "pmc",
                                    FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE, &world->icbs[i],
                                    primary_pence[i], NULL);
    }
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, "rca",
                                    FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE, &world->icbs[i],
                                    running_cost_pence[i], NULL);
    }
    return FF_OK;
}

/* Plans each ICB's 2023/24 mental health block with its mental health trust, a seeded share of
 * its core services allocation, and pays every block in full, month by month, in 2023/24. */
static void demo_previous_mental_health_plan(const demo_world *world, demo_random *random,
                                             demo_plan *plan, demo_figures *figures) {
    size_t first_contract = plan->contract_count;
    for (size_t i = 0; i < world->icb_count; i++) {
        int64_t value_pence = demo_share_draw_pence(random, figures->previous_core_pence[i],
                                                    DEMO_MENTAL_HEALTH_SHARE_BASIS_POINTS_MIN,
                                                    DEMO_MENTAL_HEALTH_SHARE_BASIS_POINTS_MAX);
        figures->previous_mental_health_pence[i] = value_pence;
        demo_contract_terms terms = {
            .tag = "MH", .financial_year = DEMO_PREVIOUS_FINANCIAL_YEAR,
            .commissioner = &world->icbs[i], .provider = world->links[i].mental_health,
            .type = FUNDFLOW__V1__CONTRACT_TYPE__BLOCK,
            .stream = FUNDFLOW__V1__STREAM__CORE_SERVICES,
            .category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH,
            .value_pence = value_pence};
        demo_contract_add(plan, &terms, random);
    }
    for (uint32_t month = 1; month <= DEMO_MONTHS_IN_YEAR; month++) {
        demo_month_payments_plan(plan, DEMO_PREVIOUS_FINANCIAL_YEAR, month, random);
    }
    for (size_t i = first_contract; i < plan->contract_count; i++) {
        assert(plan->contracts[i].paid_pence == plan->contracts[i].value_pence);
    }
}

/* Plans 2023/24, straight after the organisations and before anything of 2024/25, from the
 * 2024/25 allocations already drawn into figures; leaves its core services allocations and
 * mental health spend in figures for 2024/25's mental health contracts to grow from. */
static ff_err demo_previous_year_plan(const demo_world *world, demo_random *random,
                                      demo_plan *plan, demo_figures *figures) {
    ff_err err = demo_previous_allocations_plan(world, random, plan, figures);
    if (err != FF_OK) return err;
    demo_previous_mental_health_plan(world, random, plan, figures);
    return FF_OK;
}

/* The whole plan -------------------------------------------------------------------------- */

/* Counts the most commands and contracts the plan can hold, from the world, so that one
 * allocation holds every command and no pointer into the plan ever moves. */
static void demo_plan_capacity_count(const demo_world *world, size_t *commands_out,
                                     size_t *contracts_out) {
    size_t icbs = world->icb_count, committees = world->joint_committee_count;
    size_t organisations = 1 + world->region_count + icbs + world->place_count +
                           world->provider_count + (world->has_collaborative ? 1 : 0) + committees;
    /* Per ICB at most: acute, low volume, elective, mental health, learning disability or
     * dementia, collaborative, outcome-based, GP, alliance, two specialised, and a joint
     * committee contract with its acute trust. */
    size_t contracts = 12 * icbs;
    /* Then, for system balance, each place's contract and an ICB's running cost, primary
     * medical care, specialised and urgent and emergency care blocks, and each body's plan. */
    size_t balance_contracts = world->place_count + 4 * icbs, plans = icbs + world->place_count;
    contracts += balance_contracts;
    size_t allocations = 4 /* limits */ + 4 * icbs + committees, budgets = world->place_count + icbs;
    size_t after_contracts = 2 * DEMO_CLOSED_ICBS + 2 * icbs /* variations */ +
                             DEMO_METRICS_MAX * icbs /* outcomes */ + 4 * icbs /* statements */;
    /* 2023/24: three limits, three allocations and a mental health block per ICB, paid every
     * month. */
    size_t previous_contracts = icbs;
    size_t previous_year = 3 + 3 * icbs + previous_contracts * (1 + DEMO_MONTHS_IN_YEAR);
    *contracts_out = contracts + previous_contracts;
    *commands_out = organisations + previous_year + DEMO_SERVICE_LINES_COUNT +
                    world->delegation_count + 1 /* revocation */ + allocations + budgets +
                    contracts * (1 + DEMO_MONTHS_PAID) + after_contracts + plans;
}

static ff_err demo_plan_allocate(const demo_world *world, uint64_t seed, demo_plan *plan,
                                 char *error, size_t error_bytes) {
    demo_plan_capacity_count(world, &plan->command_capacity, &plan->contract_capacity);
    plan->commands = calloc(plan->command_capacity, sizeof *plan->commands);
    plan->contracts = calloc(plan->contract_capacity, sizeof *plan->contracts);
    plan->budgets = calloc(DEMO_BUDGETS_MAX, sizeof *plan->budgets);
    if (plan->commands == NULL || plan->contracts == NULL || plan->budgets == NULL) {
        snprintf(error, error_bytes, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    snprintf(plan->reference, sizeof plan->reference, "illustrative demo figure, seed %llu",
             (unsigned long long)seed);
    for (uint32_t year_index = 0; year_index < DEMO_YEARS; year_index++) {
        uint32_t year = DEMO_PREVIOUS_FINANCIAL_YEAR + year_index;
        for (uint32_t month = 1; month <= DEMO_MONTHS_IN_YEAR; month++) {
            char *reference = plan->payment_references[year_index][month - 1];
            snprintf(reference, sizeof plan->payment_references[0][0],
                     "%u/%02u month %u payment" DEMO_ILLUSTRATIVE, year, (year + 1) % 100,
                     month);
        }
    }
    plan->funder = &world->nhse;
    return FF_OK;
}

static void demo_plan_free(demo_plan *plan) {
    free(plan->commands);
    free(plan->contracts);
    free(plan->budgets);
    memset(plan, 0, sizeof *plan);
}

/* Plans everything in the order the ledger needs it: organisations first, then all of 2023/24,
 * then 2024/25: service lines and delegations before the allocations that cite them, budgets
 * before the contracts they fund, contracts before their payments, and each month's payments in
 * turn. 2024/25's allocations are drawn first, from random, since 2023/24's are drawn, from
 * previous_random, as cuts of them. */
static ff_err demo_plan_fill(const demo_world *world, uint64_t seed, demo_random *random,
                             demo_random *previous_random, demo_plan *plan,
                             demo_figures *figures) {
    ff_err err = demo_allocations_draw(world, random, figures);
    if (err != FF_OK) return err;
    demo_orgs_plan(world, plan);
    err = demo_previous_year_plan(world, previous_random, plan, figures);
    if (err != FF_OK) return err;
    demo_service_lines_plan(plan);
    demo_delegations_plan(world, plan);
    demo_allocations_plan(world, plan, figures);
    err = demo_specialised_plan(world, plan, figures);
    for (size_t i = 0; err == FF_OK && i < world->icb_count; i++) {
        err = demo_icb_budgets_plan(world, i, random, plan, figures);
    }
    if (err != FF_OK) return err;
    demo_local_authority_budgets_plan(world, random, plan, figures);
    err = demo_contracts_plan(world, random, plan, figures);
    if (err != FF_OK) return err;
    demo_balance_and_plans_plan(world, seed, plan, figures);
    demo_payments_plan(world, random, plan);
    demo_variations_plan(world, plan, figures);
    demo_statements_plan(world, random, plan);
    demo_outcomes_plan(world, random, plan, figures);
    demo_revocation_plan(world, plan);
    assert(plan->command_count <= plan->command_capacity);
    return FF_OK;
}

static ff_err demo_plan_build(const demo_world *world, uint64_t seed, demo_plan *plan,
                              char *error, size_t error_bytes) {
    ff_err err = demo_plan_allocate(world, seed, plan, error, error_bytes);
    if (err != FF_OK) return err;
    demo_figures *figures = calloc(1, sizeof *figures);
    if (figures == NULL) {
        snprintf(error, error_bytes, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    demo_random random = {seed}, previous_random = {seed ^ DEMO_PREVIOUS_YEAR_SEED_BITS};
    err = demo_plan_fill(world, seed, &random, &previous_random, plan, figures);
    if (err != FF_OK) {
        snprintf(error, error_bytes, "cannot split the illustrative amounts: %s",
                 ff_strerror(err));
    }
    free(figures);
    return err;
}

static void demo_plan_kinds_count(const demo_plan *plan, demo_summary *summary) {
    for (size_t i = 0; i < plan->command_count; i++) {
        size_t kind = (size_t)plan->commands[i].event.kind_case;
        assert(kind > 0 && kind < DEMO_EVENT_KIND_SLOTS);
        summary->commands_by_kind[kind]++;
    }
}

bool demo_summary_kinds_write(const demo_summary *summary, FILE *out) {
    assert(summary != NULL && out != NULL);
    /* Wide enough for "Commands of kind service_line_registered:" so the counts line up. */
    enum { DEMO_KIND_LABEL_WIDTH = 42 };
    for (unsigned kind = 1; kind < DEMO_EVENT_KIND_SLOTS; kind++) {
        if (summary->commands_by_kind[kind] == 0) continue;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(&fundflow__v1__event__descriptor, kind);
        assert(field != NULL);
        int length = fprintf(out, "Commands of kind %s:", field->name);
        if (length < 0) return false;
        int padding = length < DEMO_KIND_LABEL_WIDTH ? DEMO_KIND_LABEL_WIDTH - length : 1;
        if (fprintf(out, "%*s%llu\n", padding, "",
                    (unsigned long long)summary->commands_by_kind[kind]) < 0) {
            return false;
        }
    }
    return true;
}

/* Submitting ------------------------------------------------------------------------------ */

static void demo_refusal_describe(FILE *out, const demo_command *command,
                                  const ledger_result *result) {
    if (out == NULL) return;
    const ff_failure *failure = &result->failure;
    fprintf(out, "refused %s: %s, field %s: %s\n", command->idempotency_key,
            ff_err_name(failure->code), failure->field ? failure->field : "(none)",
            failure->detail[0] != '\0' ? failure->detail : ff_strerror(failure->code));
}

static void demo_results_count(const demo_command *commands, const ledger_result *results,
                               size_t count, const demo_options *options,
                               demo_summary *summary) {
    for (size_t i = 0; i < count; i++) {
        if (results[i].failure.code != FF_OK) {
            summary->commands_refused++;
            demo_refusal_describe(options->refusals, &commands[i], &results[i]);
            continue;
        }
        if (results[i].idempotent_replay) {
            summary->events_already_present++;
        } else {
            summary->events_recorded++;
            if (commands[i].registers_org) summary->organisations_new++;
        }
        if (commands[i].registers_org) summary->organisations++;
    }
}

static ff_err demo_plan_submit(ff_ledger *ledger, const demo_plan *plan,
                               const demo_options *options, demo_summary *summary) {
    ledger_result *results = calloc(DEMO_BATCH_COMMANDS, sizeof *results);
    if (results == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    ff_err err = FF_OK;
    Fundflow__V1__Command *batch_commands[DEMO_BATCH_COMMANDS];
    for (size_t start = 0; start < plan->command_count; start += DEMO_BATCH_COMMANDS) {
        size_t left = plan->command_count - start;
        size_t count = left < DEMO_BATCH_COMMANDS ? left : DEMO_BATCH_COMMANDS;
        for (size_t i = 0; i < count; i++) batch_commands[i] = &plan->commands[start + i].command;
        ledger_batch batch = {.commands = batch_commands, .command_count = count, .linked = false,
                              .actor = DEMO_ACTOR, .recorded_at_us = DEMO_RECORDED_AT_US};
        err = ledger_batch_apply(ledger, &batch, results);
        if (err != FF_OK) {
            snprintf(summary->error, sizeof summary->error,
                     "commands %zu to %zu were not applied: %s: %s", start + 1, start + count,
                     ff_err_name(err), ff_strerror(err));
            goto done;
        }
        demo_results_count(&plan->commands[start], results, count, options, summary);
    }
    assert(summary->events_recorded + summary->events_already_present +
               summary->commands_refused ==
           plan->command_count);
done:
    free(results);
    return err;
}

ff_err demo_load(ff_ledger *ledger, const demo_options *options, demo_summary *summary) {
    assert(ledger != NULL && options != NULL && summary != NULL);
    assert(options->reference_dir != NULL);
    memset(summary, 0, sizeof *summary);
    demo_plan plan;
    memset(&plan, 0, sizeof plan);
    ff_err err = FF_ERR_NO_MEMORY;
    demo_world *world = calloc(1, sizeof *world);
    if (world == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        goto done;
    }
    err = demo_world_load(world, options->reference_dir, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_build(world, options->seed, &plan, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    summary->commands = plan.command_count;
    demo_plan_kinds_count(&plan, summary);
    err = demo_plan_submit(ledger, &plan, options, summary);
    if (err != FF_OK) goto done;
    err = ledger_head_read(ledger, &summary->head);
    if (err != FF_OK) {
        snprintf(summary->error, sizeof summary->error, "cannot read the log's head: %s",
                 ff_strerror(err));
    }
done:
    demo_plan_free(&plan);
    free(world);
    return err;
}

/* Writes each planned command as a line of JSON. */
static ff_err demo_plan_ndjson_write(const demo_plan *plan, FILE *out, demo_summary *summary) {
    for (size_t i = 0; i < plan->command_count; i++) {
        char *text = NULL;
        size_t length = 0;
        ff_err err = json_codec_encode(&plan->commands[i].command.base, &text, &length);
        if (err != FF_OK) {
            snprintf(summary->error, sizeof summary->error, "cannot encode command %s: %s",
                     plan->commands[i].idempotency_key, ff_strerror(err));
            return err;
        }
        bool written = fwrite(text, 1, length, out) == length && fputc('\n', out) != EOF;
        free(text);
        if (!written) {
            snprintf(summary->error, sizeof summary->error, "cannot write the commands: %s",
                     strerror(errno));
            return FF_ERR_IO;
        }
        summary->commands++;
    }
    assert(summary->commands == plan->command_count);
    return FF_OK;
}

ff_err demo_ndjson_write(const demo_options *options, FILE *out, demo_summary *summary) {
    assert(options != NULL && out != NULL && summary != NULL);
    assert(options->reference_dir != NULL);
    memset(summary, 0, sizeof *summary);
    demo_plan plan;
    memset(&plan, 0, sizeof plan);
    ff_err err = FF_ERR_NO_MEMORY;
    demo_world *world = calloc(1, sizeof *world);
    if (world == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        goto done;
    }
    err = demo_world_load(world, options->reference_dir, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_build(world, options->seed, &plan, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_ndjson_write(&plan, out, summary);
    if (err == FF_OK) demo_plan_kinds_count(&plan, summary);
done:
    demo_plan_free(&plan);
    free(world);
    return err;
}

ff_err demo_presence_read(ff_ledger *ledger, bool *present_out) {
    assert(ledger != NULL && present_out != NULL);
    *present_out = false;
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    idempotency_record record;
    err = projection_idempotency_read(txn, ledger_store(ledger), "demo-org-" DEMO_NHSE_CODE,
                                      &record);
    ledger_read_txn_end(ledger, txn);
    if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
    if (err == FF_OK) *present_out = true;
    return err;
}
