/* GetOutturn: an organisation's (or a group's) plan against actual month by month to a month,
 * and its forecast outturn for the year, as at an event and, optionally, an effective date (plans,
 * contracts, variations, payments and outcome reports dated later are left out). The rules (what counts as actual, how the remaining
 * commitment is spread, what a rollup eliminates) are stated on the Outturn message in
 * proto/fundflow/v1/ledger.proto and in docs/ARCHITECTURE.md; this file follows them. */
#include "query.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "projection.h"
#include "projection_contract.h"
#include "projection_org.h"
#include "projection_plan.h"
#include "query_group.h"
#include "query_position_parts.h"
#include "query_read.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* What the walks add up before the months are filled in. */
typedef struct outturn_sums {
    int64_t plan[FF_MONTHS_PER_YEAR];
    int64_t actual[FF_MONTHS_PER_YEAR]; /* to to_month only */
    int64_t remaining_commitment;
    int64_t internal;
} outturn_sums;

typedef struct outturn_walk {
    store_txn *txn;
    ff_store *store;
    const Fundflow__V1__GetOutturnRequest *get;
    Fundflow__V1__Outturn *outturn;
    outturn_sums sums;
    const char *member;  /* the group member whose contracts are being walked */
    size_t prefix_bytes; /* of the party_contracts key before the contract id */
} outturn_walk;

/* ---- the group ---- */

static query_group outturn_group_of(Fundflow__V1__Outturn *outturn) {
    return (query_group){&outturn->included_codes, &outturn->n_included_codes};
}

static bool outturn_in_group(Fundflow__V1__Outturn *outturn, const char *code) {
    return query_group_includes(outturn_group_of(outturn), code);
}

/* The organisation and, for a rollup, the same group as GetPosition's (query_group.h), as it
 * stood on the year's last day. */
static ff_err outturn_group(outturn_walk *walk, const Fundflow__V1__OrgRecord *org) {
    return query_group_form(walk->txn, walk->store, org, walk->get->rollup,
                            calendar_year_last_date(walk->get->financial_year),
                            outturn_group_of(walk->outturn));
}

/* ---- plans ---- */

static ff_err outturn_sequence_add(Fundflow__V1__Outturn *outturn, uint64_t sequence) {
    uint64_t *grown = realloc(outturn->plan_sequences,
                              (outturn->n_plan_sequences + 1) * sizeof *grown);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    outturn->plan_sequences = grown;
    outturn->plan_sequences[outturn->n_plan_sequences++] = sequence;
    return FF_OK;
}

ff_err query_plan_read_dated(store_txn *txn, ff_store *store, const char *org_code, uint32_t year,
                             uint32_t stream, uint64_t as_at_sequence, uint32_t as_at_date,
                             Fundflow__V1__PlanRecord **plan_out) {
    /* Each revision dated after as_at_date steps back to the one recorded before it. */
    for (uint64_t as_at = as_at_sequence;;) {
        ff_err err = projection_plan_read(txn, store, org_code, year, stream, as_at, plan_out);
        if (err != FF_OK || as_at_date == 0) return err;
        Fundflow__V1__EventRecord *record = NULL;
        uint64_t sequence = (*plan_out)->sequence;
        err = log_read(txn, store, sequence, &record);
        if (err != FF_OK) {
            fundflow__v1__plan_record__free_unpacked(*plan_out, NULL);
            *plan_out = NULL;
            return err;
        }
        bool dated_later = record->effective_date > as_at_date;
        fundflow__v1__event_record__free_unpacked(record, NULL);
        if (!dated_later) return FF_OK;
        fundflow__v1__plan_record__free_unpacked(*plan_out, NULL);
        *plan_out = NULL;
        assert(sequence > 0 && sequence <= as_at);
        if (sequence == 1) return FF_ERR_NOT_FOUND;
        as_at = sequence - 1;
    }
}

static ff_err outturn_plan_add(outturn_walk *walk, const char *code, uint32_t stream) {
    Fundflow__V1__PlanRecord *plan = NULL;
    ff_err err = query_plan_read_dated(walk->txn, walk->store, code, walk->get->financial_year,
                                       stream, walk->outturn->as_at_sequence,
                                       walk->get->as_at_date, &plan);
    if (err == FF_ERR_NOT_FOUND) return FF_OK; /* no plan: 0 each month */
    if (err != FF_OK) return err;
    assert(plan->n_month_amounts_pence == FF_MONTHS_PER_YEAR);
    for (size_t m = 0; err == FF_OK && m < FF_MONTHS_PER_YEAR; m++) {
        err = money_add(walk->sums.plan[m], plan->month_amounts_pence[m], &walk->sums.plan[m]);
    }
    if (err == FF_OK) err = outturn_sequence_add(walk->outturn, plan->sequence);
    fundflow__v1__plan_record__free_unpacked(plan, NULL);
    return err;
}

/* Each included organisation's plan for the stream asked for, or for every stream. */
static ff_err outturn_plans(outturn_walk *walk) {
    const ProtobufCEnumDescriptor *streams = &fundflow__v1__stream__descriptor;
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < walk->outturn->n_included_codes; i++) {
        const char *code = walk->outturn->included_codes[i];
        if (walk->get->stream != 0) {
            err = outturn_plan_add(walk, code, (uint32_t)walk->get->stream);
            continue;
        }
        for (unsigned v = 0; err == FF_OK && v < streams->n_values; v++) {
            if (streams->values[v].value == 0) continue;
            err = outturn_plan_add(walk, code, (uint32_t)streams->values[v].value);
        }
    }
    return err;
}

/* ---- actuals and commitments ---- */

/* The month (index 0 to 11) an outcome report's earnings count in: its date's month, held to
 * the year's months. */
static size_t outturn_report_month(uint32_t reported_date, uint32_t year) {
    if (reported_date < calendar_year_first_date(year)) return 0;
    if (reported_date > calendar_year_last_date(year)) return FF_MONTHS_PER_YEAR - 1;
    return calendar_month_of_date(reported_date) - 1;
}

/* A contract's actual, month by month to to_month; the rest of the array is left alone. */
static ff_err outturn_contract_actual(const Fundflow__V1__ContractRecord *contract,
                                      uint32_t to_month, int64_t actual[FF_MONTHS_PER_YEAR]) {
    assert(contract->n_paid_by_month_pence == FF_MONTHS_PER_YEAR);
    for (size_t m = 0; m < to_month; m++) actual[m] = contract->paid_by_month_pence[m];
    for (size_t i = 0; i < contract->n_metrics; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        if (!metric->reported) continue;
        size_t m = outturn_report_month(metric->reported_date, contract->financial_year);
        if (m >= to_month) continue;
        ff_err err = money_add(actual[m], metric->earned_pence, &actual[m]);
        if (err != FF_OK) return err;
    }
    return FF_OK;
}

/* Adds one contract the member commissions: its actual to to_month and its remaining
 * commitment, or, for a provider inside the group, its actual as internal. */
static ff_err outturn_contract_add(outturn_walk *walk,
                                   const Fundflow__V1__ContractRecord *contract) {
    uint32_t to_month = walk->get->to_month;
    int64_t actual[FF_MONTHS_PER_YEAR] = {0}, to_date = 0;
    ff_err err = outturn_contract_actual(contract, to_month, actual);
    for (size_t m = 0; err == FF_OK && m < to_month; m++) {
        err = money_add(to_date, actual[m], &to_date);
    }
    if (err != FF_OK) return err;
    if (outturn_in_group(walk->outturn, contract->provider_code)) {
        return money_add(walk->sums.internal, to_date, &walk->sums.internal);
    }
    for (size_t m = 0; err == FF_OK && m < to_month; m++) {
        err = money_add(walk->sums.actual[m], actual[m], &walk->sums.actual[m]);
    }
    int64_t remaining = 0;
    if (err == FF_OK) {
        err = money_subtract(contract->value_pence, contract->released_pence, &remaining);
    }
    if (err == FF_OK) err = money_subtract(remaining, to_date, &remaining);
    /* value ≥ paid + pot and pot ≥ earned + released, so nothing counted to date exceeds it. */
    assert(err != FF_OK || remaining >= 0);
    if (err == FF_OK) {
        err = money_add(walk->sums.remaining_commitment, remaining,
                        &walk->sums.remaining_commitment);
    }
    return err;
}

static ff_err outturn_contract_row(void *argument, store_slice key, store_slice value,
                                   bool *stop) {
    (void)value, (void)stop;
    outturn_walk *walk = argument;
    assert(key.bytes >= walk->prefix_bytes);
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    size_t id_bytes = key.bytes - walk->prefix_bytes;
    if (id_bytes == 0 || id_bytes > FF_IDENTIFIER_BYTES_MAX) return FF_OK;
    memcpy(contract_id, (const uint8_t *)key.data + walk->prefix_bytes, id_bytes);
    contract_id[id_bytes] = '\0';
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->txn, walk->store, contract_id,
                                          walk->outturn->as_at_sequence, &contract);
    /* As at a date, later variations, payments and outcome reports are left out. */
    if (err == FF_OK && walk->get->as_at_date != 0) {
        ff_failure ignored;
        err = query_contract_dated_narrow(walk->txn, walk->store, contract,
                                          walk->outturn->as_at_sequence, walk->get->as_at_date,
                                          &ignored);
        if (err != FF_OK) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    }
    /* A contract agreed after the as-at sequence or date did not exist then. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    assert(strcmp(contract->contract_id, contract_id) == 0);
    if (strcmp(contract->commissioner_code, walk->member) == 0 &&
        contract->financial_year == walk->get->financial_year &&
        (walk->get->stream == 0 || contract->stream == walk->get->stream)) {
        err = outturn_contract_add(walk, contract);
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

/* Every contract each included organisation commissions for the year. */
static ff_err outturn_contracts(outturn_walk *walk) {
    ff_err err = FF_OK;
    uint32_t year = walk->get->financial_year;
    for (size_t i = 0; err == FF_OK && i < walk->outturn->n_included_codes; i++) {
        walk->member = walk->outturn->included_codes[i];
        uint8_t prefix[FF_ORG_CODE_BYTES_MAX + 3];
        size_t code_bytes = strlen(walk->member);
        assert(code_bytes <= FF_ORG_CODE_BYTES_MAX);
        memcpy(prefix, walk->member, code_bytes);
        prefix[code_bytes] = 0;
        prefix[code_bytes + 1] = (uint8_t)(year >> 8), prefix[code_bytes + 2] = (uint8_t)year;
        walk->prefix_bytes = code_bytes + 3;
        err = store_each(walk->txn, walk->store, STORE_TABLE_PARTY_CONTRACTS,
                         STORE_SLICE(prefix, walk->prefix_bytes), outturn_contract_row, walk);
    }
    return err;
}

/* ---- the months and the forecast ---- */

/* The remaining commitment spread over the months after to_month: floor(total / months) each,
 * the last taking the remainder; at M12, all of it in M12. */
static void outturn_spread(int64_t total, uint32_t to_month,
                           int64_t committed[FF_MONTHS_PER_YEAR]) {
    memset(committed, 0, FF_MONTHS_PER_YEAR * sizeof committed[0]);
    assert(total >= 0 && to_month >= 1 && to_month <= FF_MONTHS_PER_YEAR);
    if (to_month == FF_MONTHS_PER_YEAR) {
        committed[FF_MONTHS_PER_YEAR - 1] = total;
        return;
    }
    int64_t months = FF_MONTHS_PER_YEAR - (int64_t)to_month, share = total / months;
    for (size_t m = to_month; m < FF_MONTHS_PER_YEAR; m++) committed[m] = share;
    committed[FF_MONTHS_PER_YEAR - 1] = total - share * (months - 1);
}

static ff_err outturn_month_fill(Fundflow__V1__OutturnMonth *row, const outturn_sums *sums,
                                 const int64_t committed[FF_MONTHS_PER_YEAR], uint32_t to_month,
                                 size_t m) {
    row->month = (uint32_t)m + 1;
    row->plan_pence = sums->plan[m];
    ff_err err = FF_OK;
    if (row->month <= to_month) {
        row->actual_pence = sums->actual[m];
        err = money_subtract(row->actual_pence, row->plan_pence, &row->variance_pence);
        row->forecast_pence = row->actual_pence;
        /* At M12, what is still owed on the year's contracts is accrued into M12. */
        if (err == FF_OK && committed[m] != 0) {
            assert(row->month == FF_MONTHS_PER_YEAR);
            row->committed_pence = committed[m];
            err = money_add(row->forecast_pence, committed[m], &row->forecast_pence);
        }
        return err;
    }
    row->committed_pence = committed[m];
    row->forecast_pence = committed[m] > row->plan_pence ? committed[m] : row->plan_pence;
    return FF_OK;
}

static ff_err outturn_totals(Fundflow__V1__Outturn *outturn, const outturn_sums *sums) {
    ff_err err = FF_OK;
    for (size_t m = 0; err == FF_OK && m < FF_MONTHS_PER_YEAR; m++) {
        const Fundflow__V1__OutturnMonth *row = outturn->months[m];
        err = money_add(outturn->full_year_plan_pence, row->plan_pence,
                        &outturn->full_year_plan_pence);
        if (err == FF_OK) {
            err = money_add(outturn->forecast_outturn_pence, row->forecast_pence,
                            &outturn->forecast_outturn_pence);
        }
        if (err != FF_OK || row->month > outturn->to_month) {
            if (err == FF_OK && row->plan_pence > row->committed_pence) {
                err = money_add(outturn->uncommitted_plan_pence,
                                row->plan_pence - row->committed_pence,
                                &outturn->uncommitted_plan_pence);
            }
            continue;
        }
        err = money_add(outturn->ytd_plan_pence, row->plan_pence, &outturn->ytd_plan_pence);
        if (err == FF_OK) {
            err = money_add(outturn->ytd_actual_pence, row->actual_pence,
                            &outturn->ytd_actual_pence);
        }
    }
    outturn->remaining_commitment_pence = sums->remaining_commitment;
    outturn->internal_pence = sums->internal;
    if (err == FF_OK) {
        err = money_subtract(outturn->ytd_actual_pence, outturn->ytd_plan_pence,
                             &outturn->ytd_variance_pence);
    }
    if (err == FF_OK) {
        err = money_subtract(outturn->forecast_outturn_pence, outturn->full_year_plan_pence,
                             &outturn->forecast_variance_pence);
    }
    return err;
}

static ff_err outturn_months(Fundflow__V1__Outturn *outturn, const outturn_sums *sums) {
    outturn->months = calloc(FF_MONTHS_PER_YEAR, sizeof *outturn->months);
    if (outturn->months == NULL) return FF_ERR_NO_MEMORY;
    int64_t committed[FF_MONTHS_PER_YEAR];
    outturn_spread(sums->remaining_commitment, outturn->to_month, committed);
    ff_err err = FF_OK;
    for (size_t m = 0; err == FF_OK && m < FF_MONTHS_PER_YEAR; m++) {
        Fundflow__V1__OutturnMonth *row = malloc(sizeof *row);
        if (row == NULL) return FF_ERR_NO_MEMORY;
        fundflow__v1__outturn_month__init(row);
        outturn->months[outturn->n_months++] = row;
        err = outturn_month_fill(row, sums, committed, outturn->to_month, m);
    }
    return err == FF_OK ? outturn_totals(outturn, sums) : err;
}

/* ---- the RPC ---- */

static ff_err outturn_read(outturn_walk *walk, ff_failure *failure) {
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(walk->txn, walk->store, walk->get->org_code, &org);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, "org_code", "no organisation has code %s",
                           walk->get->org_code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the organisation");
    log_head head;
    err = log_head_read(walk->txn, walk->store, &head);
    uint64_t asked = walk->get->as_at_sequence;
    if (err == FF_OK && asked > head.sequence) {
        fundflow__v1__org_record__free_unpacked(org, NULL);
        /* A figure as at an event not yet recorded would silently be today's. */
        return failure_set(failure, FF_ERR_AS_AT_BEYOND_HEAD, "as_at_sequence",
                           "as_at_sequence %" PRIu64 " is beyond the ledger's head, event %" PRIu64,
                           asked, head.sequence);
    }
    if (err == FF_OK) {
        walk->outturn->as_at_sequence = asked != 0 ? asked : head.sequence;
        err = outturn_group(walk, org);
    }
    fundflow__v1__org_record__free_unpacked(org, NULL);
    if (err == FF_OK) err = outturn_plans(walk);
    if (err == FF_OK) err = outturn_contracts(walk);
    if (err == FF_OK) err = outturn_months(walk->outturn, &walk->sums);
    return err != FF_OK ? failure_set(failure, err, NULL, "cannot read the outturn") : FF_OK;
}

static ff_err outturn_fill(const query_read *read, const void *request,
                           ProtobufCMessage **response) {
    const Fundflow__V1__GetOutturnRequest *get = request;
    Fundflow__V1__Outturn *outturn = (Fundflow__V1__Outturn *)*response;
    outturn->org_code = strdup(get->org_code);
    if (outturn->org_code == NULL) return FF_ERR_NO_MEMORY;
    outturn->stream = get->stream;
    outturn->financial_year = get->financial_year;
    outturn->to_month = get->to_month;
    outturn->rollup = get->rollup;
    /* A rollup of a covered organisation is answered whole, as GetPosition's is. */
    ff_err err = query_org_in_scope(read, get->org_code, "org_code");
    if (err != FF_OK) return err;
    outturn_walk walk = {.txn = read->txn, .store = read->store, .get = get, .outturn = outturn};
    return outturn_read(&walk, read->failure);
}

static ff_err outturn_request_check(const Fundflow__V1__GetOutturnRequest *get,
                                    ff_failure *failure) {
    ff_err err = command_org_code_check(get->org_code, "org_code", true, failure);
    if (err == FF_OK && get->stream != 0 &&
        !protobuf_c_enum_descriptor_get_value(&fundflow__v1__stream__descriptor, get->stream)) {
        err = failure_set(failure, FF_ERR_ENUM_INVALID, "stream",
                          "stream %d is not valid (0 means every stream)", get->stream);
    }
    if (err == FF_OK) err = command_year_check(get->financial_year, failure);
    if (err == FF_OK && (get->to_month < 1 || get->to_month > FF_MONTHS_PER_YEAR)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "to_month",
                          "to_month %u must be 1 (M1, April) to %d (M12, March)", get->to_month,
                          FF_MONTHS_PER_YEAR);
    }
    if (err == FF_OK && get->as_at_date != 0 && !calendar_date_valid(get->as_at_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                          "as_at_date %u is not a real date in YYYYMMDD form", get->as_at_date);
    }
    return err;
}

ff_err query_outturn(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_outturn_request__descriptor);
    const Fundflow__V1__GetOutturnRequest *get = (const Fundflow__V1__GetOutturnRequest *)request;
    ff_err err = outturn_request_check(get, failure);
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__outturn__descriptor, outturn_fill, get,
                             "cannot read the outturn", response_out, failure);
}
