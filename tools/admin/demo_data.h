/* The demo generator: an illustrative England for 2024/25, with the year before it, 2023/24, built
 * from the reference files and a seed, and loaded into a ledger through ledger_batch_apply.
 *
 * NHS England, its 7 regions, the 42 ICBs and the 106 sub-ICB locations (as places) are real;
 * everything else is invented and named "(illustrative)": about 200 providers (an acute and a
 * mental health trust per ICB, a community trust for every other ICB, an ambulance trust per
 * region, a GP practice and a local authority per ICB and a few independent providers), one
 * specialised mental health provider collaborative, a specialised commissioning joint committee
 * for each of London, the South West, the South East and North East and Yorkshire, and 12
 * specialised service lines, 2 of them retained nationally.
 *
 * Only the national totals follow published 2024/25 figures: core services sum to exactly
 * £107.6bn and primary medical care to exactly £11.2bn across the ICBs, each ICB's running cost
 * allowance lies between £15.5m and £48.3m, and the specialised allocations to the ICBs of the
 * East of England, the Midlands and the North West, which took full delegation in April 2024,
 * sum to exactly £5.3bn. The joint committees' £5.8bn is made up, sized like the delegated ICBs.
 *
 * 2023/24 is there so that reports comparing a year with the one before (the Mental Health
 * Investment Standard's) have something to compare with, and it is made up too: each ICB's core
 * services, primary medical care and running cost allowances are a seeded 4.3% to 5.7% below its
 * 2024/25 ones, with the core services and primary medical care totals rescaled to exactly
 * £102.22bn and £10.64bn (5% below 2024/25), and each ICB has one mental health block with its
 * mental health trust, paid in full from April 2023 to March 2024. Each ICB's 2024/25 mental
 * health spend grows faster than its core services allocation, except at the ICBs that
 * demo_data.c lists as missing the standard, to show the report's fail path.
 *
 * On top of the 2024/25 allocations the demo plans what an ICB does with them: budgets to its
 * places and to its local authority (the NHS contribution to the Better Care Fund), contracts of
 * every type (with a mental health contract for every ICB), specialised contracts by each
 * delegate, monthly payments for April to September, a few variations and outcome reports, month
 * 6 Agreement of Balances statements between each ICB and its acute trust (mostly agreeing, a few
 * not), and month 1 closed for a few organisations once their April postings are in. Every
 * figure is whole pence, split with integer arithmetic and a seeded generator, so one seed always
 * gives the same commands, the same events and the same head hash. Only the amounts depend on the
 * seed: the commands' keys, kinds and order do not, so with the reference files as shipped every
 * seed plans the same 4,404 commands (tests/test_admin.sh lists them by kind).
 *
 * Every command carries a fixed idempotency key, such as "demo-org-QWE", "demo-2024-core-QWE",
 * "demo-2023-core-QWE", "demo-2024-core-QWE-to-08T", "demo-contract-QWE-2024-AIP" or
 * "demo-payment-QWE-2023-MH-M12", the year telling 2023/24 keys from 2024/25 ones, so loading
 * the demo again changes nothing; loading it with another seed into the same ledger is refused
 * as an idempotency conflict.
 *
 * Threads: demo_load applies batches, so it follows ledger_batch_apply's rule of one writer.
 */
#ifndef FUNDFLOW_TOOLS_DEMO_DATA_H
#define FUNDFLOW_TOOLS_DEMO_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "log.h"
#include "fundflow/error.h"

/* The financial year the demo is about (2024/25), the date its allocations, service lines,
 * delegations and contracts take effect, and the time every demo event is recorded at,
 * 2024-04-01T09:00:00Z, 2023/24's included. The time is fixed because it is hashed: a clock
 * reading would give every run a different head hash. Later events (payments, statements) carry
 * their own dates within the year. */
#define DEMO_FINANCIAL_YEAR 2024u
#define DEMO_EFFECTIVE_DATE 20240401u
#define DEMO_RECORDED_AT_US 1711962000000000LL

/* The year before (2023/24) and the date its allocations and contracts take effect. The
 * organisations are registered from this date too, since they receive its money. */
#define DEMO_PREVIOUS_FINANCIAL_YEAR 2023u
#define DEMO_PREVIOUS_EFFECTIVE_DATE 20230401u

/* The seed used when none is given. */
#define DEMO_SEED_DEFAULT 2024u

/* The actor recorded on every demo event. */
#define DEMO_ACTOR "demo"

/* National totals across the ICBs for 2024/25, from the published allocations. */
#define DEMO_CORE_SERVICES_TOTAL_PENCE 10760000000000LL        /* £107,600,000,000.00 */
#define DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE 1120000000000LL  /* £11,200,000,000.00 */

/* National totals across the ICBs for 2023/24: not published figures but illustrative ones, 5%
 * below 2024/25, so that 2024/25 shows growth of about 5.3%. */
#define DEMO_PREVIOUS_CORE_SERVICES_TOTAL_PENCE 10222000000000LL       /* £102,220,000,000.00 */
#define DEMO_PREVIOUS_PRIMARY_MEDICAL_CARE_TOTAL_PENCE 1064000000000LL /* £10,640,000,000.00 */

/* How far below its 2024/25 allocation an ICB's 2023/24 one is drawn, in basis points of the
 * 2024/25 amount. Rescaling core services and primary medical care to their exact totals moves
 * every ICB's figure by the same small fraction, so the range is kept inside 4% to 6%. */
#define DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MIN 430u
#define DEMO_PREVIOUS_REDUCTION_BASIS_POINTS_MAX 570u

/* Specialised services: the published value of the 59 services fully delegated in April 2024 to
 * the ICBs of the East of England, the Midlands and the North West, and an invented total for
 * the four joint committees that held them elsewhere, sized at about the same amount per ICB. */
#define DEMO_SPECIALISED_DELEGATED_TOTAL_PENCE 530000000000LL        /* £5,300,000,000.00 */
#define DEMO_SPECIALISED_JOINT_COMMITTEE_TOTAL_PENCE 580000000000LL  /* £5,800,000,000.00 */

/* The published range of an ICB's running cost allowance for 2024/25. */
#define DEMO_RUNNING_COST_MIN_PENCE 1550000000LL  /* £15,500,000.00 */
#define DEMO_RUNNING_COST_MAX_PENCE 4830000000LL  /* £48,300,000.00 */

/* The share of its core services allocation an ICB passes on to its places, in basis points. */
#define DEMO_ONWARD_SHARE_BASIS_POINTS_MIN 2000u
#define DEMO_ONWARD_SHARE_BASIS_POINTS_MAX 4000u

/* Commands per batch. Small enough that one batch holds the writer only briefly; the whole demo
 * takes about eighteen commits. */
#ifndef DEMO_BATCH_COMMANDS
#define DEMO_BATCH_COMMANDS 256
#endif

/* The most rows each reference file may hold. England has 7 regions, 42 ICBs and 106 sub-ICB
 * locations; the limits leave room for reorganisations without letting a wrong file through. */
#ifndef DEMO_REGIONS_MAX
#define DEMO_REGIONS_MAX 32
#endif
#ifndef DEMO_ICBS_MAX
#define DEMO_ICBS_MAX 128
#endif
#ifndef DEMO_PLACES_MAX
#define DEMO_PLACES_MAX 512
#endif

/* The reference files demo_load reads from its reference directory. */
#define DEMO_REGIONS_FILE "regions.csv"
#define DEMO_ICBS_FILE "icbs.csv"
#define DEMO_PLACES_FILE "sub_icb_locations.csv"

/* Bytes for demo_load's error message. */
#define DEMO_ERROR_BYTES 768

/* Slots in demo_summary's count of commands by event kind: one past the highest member number of
 * the Event oneof, so that a kind's number indexes its slot. demo_data.c checks it still is. */
#define DEMO_EVENT_KIND_SLOTS 19

typedef struct demo_options {
    const char *reference_dir; /* holds the three reference files; required */
    uint64_t seed;             /* chooses the illustrative split; DEMO_SEED_DEFAULT by default */
    FILE *refusals;            /* each refused command is described here; NULL for nowhere */
} demo_options;

typedef struct demo_summary {
    size_t organisations;            /* the demo's organisations now registered, new or not */
    size_t organisations_new;        /* of those, registered by this run */
    uint64_t commands;               /* commands the demo submitted */
    uint64_t events_recorded;        /* commands recorded as new events by this run */
    uint64_t events_already_present; /* commands answered as idempotent replays */
    uint64_t commands_refused;       /* commands the ledger refused */
    /* The commands planned, by the Event oneof's member number (FUNDFLOW__V1__EVENT__KIND_...). */
    uint64_t commands_by_kind[DEMO_EVENT_KIND_SLOTS];
    log_head head;                   /* the log's head once the demo has run */
    char error[DEMO_ERROR_BYTES];    /* why demo_load failed, when it returns an error */
} demo_summary;

/* Reads the reference files, builds the demo's commands from options->seed and applies them in
 * non-linked batches of DEMO_BATCH_COMMANDS, then reads the head.
 *
 * Returns FF_OK when every batch was applied, even if the ledger refused some commands: each
 * refusal is counted in summary->commands_refused and described on options->refusals with its
 * idempotency key, error name, field and detail. Any other return means the demo stopped, and
 * summary->error says why: a reference file cannot be read (FF_ERR_IO) or is malformed, too long
 * or inconsistent (FF_ERR_TEXT_INVALID, FF_ERR_FIELD_TOO_LONG, FF_ERR_CODE_INVALID,
 * FF_ERR_ORG_EXISTS, FF_ERR_ORG_UNKNOWN), or a batch failed as a whole (as ledger_batch_apply).
 * Batches applied before a failure stay recorded. */
ff_err demo_load(ff_ledger *ledger, const demo_options *options, demo_summary *summary);

/* Reads the reference files and builds the demo's commands from options->seed exactly as
 * demo_load does, but writes them to out instead of applying them: one Command per line, in the
 * proto3 JSON mapping of json_codec_encode, for a server's SubmitCommands to load. No ledger is
 * opened. On FF_OK summary->commands counts the lines written and summary->commands_by_kind
 * their kinds; the other counts stay 0. Errors are those of demo_load's reading and planning,
 * with summary->error saying why, and FF_ERR_IO when out cannot be written. options->refusals is
 * not used. Any thread. */
ff_err demo_ndjson_write(const demo_options *options, FILE *out, demo_summary *summary);

/* Writes one line per event kind the demo planned, "Commands of kind contract_agreed: 402", in
 * the Event oneof's order, leaving out kinds it did not plan. For a tool's summary after
 * demo_load or demo_ndjson_write. Returns false if out could not be written. Any thread. */
bool demo_summary_kinds_write(const demo_summary *summary, FILE *out);

/* Whether the ledger holds the demo, judged by the idempotency key of its first command. Tools
 * use it to label figures as illustrative wherever they show them. Errors: FF_ERR_STORAGE. */
ff_err demo_presence_read(ff_ledger *ledger, bool *present_out);

/* Splits total_pence into count whole-pence shares in proportion to weights, so the shares sum
 * to total_pence exactly. Each share is the floor of its exact proportion; the pence that the
 * floors leave over, fewer than count, go one each to the first shares.
 *
 * total_pence  at least count, so that every share can be at least one penny.
 * weights      count weights, each at least 1.
 * count        at least 1.
 *
 * Returns FF_OK, or FF_ERR_AMOUNT_NOT_POSITIVE when count is 0, total_pence is below count, a
 * weight is 0 or a share would come to zero. Pure; any thread. */
ff_err demo_amount_split(int64_t total_pence, const uint32_t *weights, size_t count,
                         int64_t *shares_pence);

#endif
