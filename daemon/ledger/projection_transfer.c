/* Allocations and budgets passed on: who may pay whom, the four legs of a transfer, the history
 * and flows it feeds, and its reversal. */
#include "projection_transfer.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "projection_delegation.h"
#include "projection_org.h"
#include "projection_table.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"
#include "ledger_write.h"

/* Fills the four legs of a transfer: the payer pays out of its budget into onward, and the payee
 * receives into its budget. NHS England's budget is its revenue limit (projection_limit.c). */
static void projection_transfer_postings(const Fundflow__V1__OrgRecord *payer,
                                         const Fundflow__V1__OrgRecord *payee, uint32_t stream,
                                         uint32_t year, int64_t amount_pence, posting *postings) {
    memset(postings, 0, 4 * sizeof *postings);
    account_key_make(&postings[0].account, payer->code, year, stream, ACCOUNT_PURPOSE_ONWARD);
    postings[0].debit_pence = amount_pence;
    account_key_make(&postings[1].account, payer->code, year, stream, ACCOUNT_PURPOSE_BUDGET);
    postings[1].credit_pence = amount_pence;
    account_key_make(&postings[2].account, payee->code, year, stream, ACCOUNT_PURPOSE_BUDGET);
    postings[2].debit_pence = amount_pence;
    account_key_make(&postings[3].account, payee->code, year, stream, ACCOUNT_PURPOSE_RECEIVED);
    postings[3].credit_pence = amount_pence;
}

static const org_kind projection_funders[] = {FUNDFLOW__V1__ORG_KIND__NHSE, 0};
static const org_kind projection_allocation_recipients[] = {
    FUNDFLOW__V1__ORG_KIND__ICB, FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, 0};
static const org_kind projection_budget_holders[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};
static const org_kind projection_budget_recipients[] = {
    FUNDFLOW__V1__ORG_KIND__PLACE, FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE,
    FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, 0};

/* The two parties of the transfer this thread is working out, kept decoded between commands. */
static _Thread_local projection_org_kept projection_transfer_payer, projection_transfer_payee;

/* Reads and checks a transfer's two parties into the thread's kept payer and payee; release both
 * with projection_transfer_parties_release whatever the result. */
static ff_err projection_transfer_parties(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__Event *event,
                                          const Fundflow__V1__OrgRecord **payer,
                                          const Fundflow__V1__OrgRecord **payee,
                                          ff_failure *failure) {
    bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    const char *payer_code = allocation ? event->allocation_issued->funder_code
                                        : event->budget_delegated->from_code;
    const char *payee_code = allocation ? event->allocation_issued->recipient_code
                                        : event->budget_delegated->to_code;
    const char *payee_field = allocation ? "recipient_code" : "to_code";
    ff_err err = projection_party_read_kept(
        txn, store, payer_code, allocation ? "funder_code" : "from_code",
        allocation ? projection_funders : projection_budget_holders, &projection_transfer_payer,
        payer, failure);
    if (err != FF_OK) return err;
    err = projection_party_read_kept(txn, store, payee_code, payee_field,
                                     allocation ? projection_allocation_recipients
                                                : projection_budget_recipients,
                                     &projection_transfer_payee, payee, failure);
    /* A place's budget comes from the ICB it belongs to. */
    if (err == FF_OK && (*payee)->kind == FUNDFLOW__V1__ORG_KIND__PLACE &&
        strcmp((*payee)->parent_code, payer_code) != 0) {
        err = failure_set(failure, FF_ERR_ORG_KIND_NOT_ALLOWED, payee_field,
                          "place %s belongs to %s, not %s", payee_code, (*payee)->parent_code,
                          payer_code);
    }
    return err;
}

static void projection_transfer_parties_release(void) {
    projection_org_kept_release(&projection_transfer_payer);
    projection_org_kept_release(&projection_transfer_payee);
}

ff_err projection_event_postings(store_txn *txn, ff_store *store, const Fundflow__V1__Event *event,
                                 posting *postings, size_t *posting_count_out,
                                 ff_failure *failure) {
    *posting_count_out = 0;
    if (event->kind_case != FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED &&
        event->kind_case != FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED) {
        return FF_OK;
    }
    const Fundflow__V1__OrgRecord *payer = NULL, *payee = NULL;
    ff_err err = projection_transfer_parties(txn, store, event, &payer, &payee, failure);
    if (err == FF_OK) {
        bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
        uint32_t stream = allocation ? (uint32_t)event->allocation_issued->stream
                                     : (uint32_t)event->budget_delegated->stream;
        uint32_t year = allocation ? event->allocation_issued->financial_year
                                   : event->budget_delegated->financial_year;
        int64_t amount = allocation ? event->allocation_issued->amount_pence
                                    : event->budget_delegated->amount_pence;
        projection_transfer_postings(payer, payee, stream, year, amount, postings);
        *posting_count_out = 4;
    }
    projection_transfer_parties_release();
    return err;
}

/* Indexes a transfer, or with sign -1 its reversal, in the history and the funding flows. */
static ff_err projection_transfer_index(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__Event *event, uint64_t sequence,
                                        int64_t sign, ff_failure *failure) {
    assert(sign == 1 || sign == -1);
    assert(sequence >= 1);
    bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    const char *payer = allocation ? event->allocation_issued->funder_code
                                   : event->budget_delegated->from_code;
    const char *payee = allocation ? event->allocation_issued->recipient_code
                                   : event->budget_delegated->to_code;
    uint32_t stream = allocation ? (uint32_t)event->allocation_issued->stream
                                 : (uint32_t)event->budget_delegated->stream;
    uint32_t year = allocation ? event->allocation_issued->financial_year
                               : event->budget_delegated->financial_year;
    int64_t amount = allocation ? event->allocation_issued->amount_pence
                                : event->budget_delegated->amount_pence;
    ff_err err = projection_history_add(txn, store, payer, sequence);
    if (err == FF_OK) err = projection_history_add(txn, store, payee, sequence);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write the history");
    return projection_flow_add(txn, store, year, payer, payee, stream, sign * amount, failure);
}

static ff_err projection_transfer_reverse(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__EventRecord *record,
                                          const Fundflow__V1__EventRecord *target,
                                          ff_failure *failure) {
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t posting_count = 0;
    ff_err err = projection_event_postings(txn, store, target->event, postings, &posting_count,
                                           failure);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < posting_count; i++) {
        int64_t debit = postings[i].debit_pence;
        postings[i].debit_pence = postings[i].credit_pence;
        postings[i].credit_pence = debit;
    }
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 posting_count, failure);
    if (err != FF_OK) return err;
    return projection_transfer_index(txn, store, target->event, record->sequence, -1, failure);
}

/* Says, for an allocation the funder's budget cannot cover, that the budget is its revenue
 * limit left unallocated; the account and headroom stay as the headroom check set them. */
static ff_err projection_allocation_beyond_limit(const Fundflow__V1__AllocationIssued *allocation,
                                                 ff_failure *failure) {
    char year[CALENDAR_YEAR_TEXT_BYTES], left[FF_MONEY_TEXT_BYTES], asked[FF_MONEY_TEXT_BYTES];
    calendar_year_format(allocation->financial_year, year, sizeof year);
    money_format(failure->headroom_pence, left, sizeof left);
    money_format(allocation->amount_pence, asked, sizeof asked);
    return failure_set(failure, FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence",
                       "%s's %s revenue limit leaves %s unallocated in %s, which cannot cover %s; "
                       "set or raise the limit first",
                       allocation->funder_code, year, left, failure->account, asked);
}

static ff_err projection_transfer(store_txn *txn, ff_store *store,
                                  const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t posting_count = 0;
    bool allocation = record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    uint32_t year = allocation ? record->event->allocation_issued->financial_year
                               : record->event->budget_delegated->financial_year;
    ff_err err = projection_date_in_year_check(record->effective_date, year, failure);
    if (err == FF_OK && allocation) {
        err = projection_allocation_delegation_check(txn, store, record->event->allocation_issued,
                                                     failure);
    }
    if (err == FF_OK) {
        err = projection_event_postings(txn, store, record->event, postings, &posting_count,
                                        failure);
    }
    if (err != FF_OK) return err;
    assert(posting_count > 0);
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 posting_count, failure);
    if (err == FF_ERR_INSUFFICIENT_HEADROOM && allocation) {
        return projection_allocation_beyond_limit(record->event->allocation_issued, failure);
    }
    if (err != FF_OK) return err;
    return projection_transfer_index(txn, store, record->event, record->sequence, 1, failure);
}

const projection_event_rule projection_transfer_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED, projection_transfer, projection_transfer_reverse},
    {FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED, projection_transfer, projection_transfer_reverse},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
