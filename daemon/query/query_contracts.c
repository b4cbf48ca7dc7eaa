/* The read RPCs about contracts: one contract's position as at an event and an effective date
 * (GetContractPosition) and a filtered page of contracts (ListContracts), each within the
 * asker's scope. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "projection.h"
#include "query_position_parts.h"
#include "query_read.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"

/* ---- contract positions ---- */

ff_err query_contract_dated_narrow(store_txn *txn, ff_store *store,
                                   Fundflow__V1__ContractRecord *contract, uint64_t as_at,
                                   uint32_t date, ff_failure *failure) {
    if (contract->agreed_date > date) {
        return failure_set(failure, FF_ERR_CONTRACT_UNKNOWN, "as_at_date",
                           "contract %s was agreed on %u, after as_at_date %u",
                           contract->contract_id, contract->agreed_date, date);
    }
    query_contract_dated_sums sums;
    ff_err err = query_contract_dated_read(txn, store, contract->contract_id, as_at, date, &sums);
    if (err != FF_OK) return err;
    assert(contract->n_paid_by_month_pence == 12);
    memcpy(contract->paid_by_month_pence, sums.paid_by_month_pence,
           sizeof sums.paid_by_month_pence);
    contract->paid_pence = sums.paid_pence;
    contract->variations_pence = sums.variations_pence;
    err = money_add(contract->original_value_pence, sums.variations_pence, &contract->value_pence);
    contract->earned_pence = 0;
    contract->released_pence = 0;
    for (size_t i = 0; err == FF_OK && i < contract->n_metrics; i++) {
        Fundflow__V1__MetricState *metric = contract->metrics[i];
        if (metric->reported && metric->reported_date > date) {
            metric->reported = false;
            metric->achievement_bp = 0;
            metric->earned_pence = 0;
            metric->released_pence = 0;
            metric->reported_sequence = 0;
            metric->reported_date = 0;
        }
        err = money_add(contract->earned_pence, metric->earned_pence, &contract->earned_pence);
        if (err == FF_OK) {
            err = money_add(contract->released_pence, metric->released_pence,
                            &contract->released_pence);
        }
    }
    return err;
}

static ff_err query_contract_position_fill(const query_read *read, const void *request,
                                           ProtobufCMessage **response) {
    const Fundflow__V1__GetContractPositionRequest *get = request;
    Fundflow__V1__ContractPosition *position = (Fundflow__V1__ContractPosition *)*response;
    uint64_t as_at = 0;
    ff_err err = query_as_at_resolve(read, get->as_at_sequence, &as_at);
    if (err != FF_OK) return err;
    Fundflow__V1__ContractRecord *contract = NULL;
    err = projection_contract_read(read->txn, read->store, get->contract_id, as_at, &contract);
    /* A scoped principal is told the same of a contract that is not there as of one that is not
     * its own, so that it cannot find out which ids exist. */
    if (err == FF_ERR_CONTRACT_UNKNOWN && !access_is_national(read->who)) {
        return query_out_of_scope(read, "contract_id", get->contract_id);
    }
    if (err != FF_OK) {
        return failure_set(read->failure, err, "contract_id", "no contract %s as at event %llu",
                           get->contract_id, (unsigned long long)as_at);
    }
    assert(strcmp(contract->contract_id, get->contract_id) == 0);
    position->contract = contract;
    bool covered = false;
    err = query_contract_in_scope(read, contract, &covered);
    if (err == FF_OK && !covered) err = query_out_of_scope(read, "contract_id", get->contract_id);
    if (err == FF_OK && get->as_at_date != 0) {
        err = query_contract_dated_narrow(read->txn, read->store, contract, as_at,
                                          get->as_at_date, read->failure);
    }
    if (err != FF_OK) return err;
    position->as_at_sequence = as_at;
    position->as_at_date = get->as_at_date;
    position->variable_value_pence = contract->value_pence - contract->fixed_value_pence;
    position->withheld_pending_pence =
        contract->withheld_pot_pence - contract->earned_pence - contract->released_pence;
    position->outstanding_pence = contract->value_pence - contract->paid_pence -
                                  contract->earned_pence - contract->released_pence;
    return FF_OK;
}

ff_err query_contract_position(ff_ledger *ledger, const access_principal *who,
                               const ProtobufCMessage *request, ProtobufCMessage **response_out,
                               ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_contract_position_request__descriptor);
    const Fundflow__V1__GetContractPositionRequest *get =
        (const Fundflow__V1__GetContractPositionRequest *)request;
    ff_err err = command_identifier_check(get->contract_id, "contract_id", failure);
    if (err == FF_OK && get->as_at_date != 0 && !calendar_date_valid(get->as_at_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                          "as_at_date %u is not a real date in YYYYMMDD form", get->as_at_date);
    }
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__contract_position__descriptor,
                             query_contract_position_fill, get, "cannot read the contract",
                             response_out, failure);
}

/* ---- contract listings ----
 *
 * Contracts outside the asker's scope are skipped like those the filters leave out, and the walk
 * goes on past them, so a page is full unless it is the last. */

typedef struct query_contract_page {
    const query_read *read;
    const Fundflow__V1__ListContractsRequest *filter;
    char *const *collaborative_members;
    size_t collaborative_member_count;
    Fundflow__V1__ListContractsResponse *response;
    size_t page_size;
} query_contract_page;

static bool query_contract_matches(const query_contract_page *page,
                                   const Fundflow__V1__ContractRecord *contract) {
    const Fundflow__V1__ListContractsRequest *filter = page->filter;
    if (filter->commissioner_code[0] && strcmp(filter->commissioner_code,
                                               contract->commissioner_code)) {
        return false;
    }
    if (filter->provider_code[0] && strcmp(filter->provider_code, contract->provider_code)) {
        return false;
    }
    if (filter->collaborative_code[0] && strcmp(filter->collaborative_code,
                                                contract->provider_code)) {
        bool member = false;
        for (size_t i = 0; i < page->collaborative_member_count && !member; i++) {
            member = strcmp(page->collaborative_members[i], contract->provider_code) == 0;
        }
        if (!member) return false;
    }
    if (filter->type != 0 && filter->type != contract->type) return false;
    if (filter->financial_year != 0 && filter->financial_year != contract->financial_year) {
        return false;
    }
    return filter->stream == 0 || filter->stream == contract->stream;
}

/* Keeps one contract if it matches, or ends the page with a token if the page is full. */
static ff_err query_contract_row(void *argument, store_slice key, store_slice value, bool *stop) {
    query_contract_page *page = argument;
    Fundflow__V1__ListContractsResponse *response = page->response;
    assert(response->n_contracts <= page->page_size);
    Fundflow__V1__ContractRecord *contract =
        fundflow__v1__contract_record__unpack(NULL, value.bytes, value.data);
    if (contract == NULL) return FF_ERR_STORAGE;
    /* Page tokens are contract ids, so the table's key must be the record's id. */
    assert(query_key_is(key, contract->contract_id));
    bool keep = query_contract_matches(page, contract);
    ff_err err = keep ? query_contract_in_scope(page->read, contract, &keep) : FF_OK;
    if (err != FF_OK || !keep) {
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
        return err;
    }
    if (response->n_contracts == page->page_size) {
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
        *stop = true;
        response->next_page_token = strdup(response->contracts[page->page_size - 1]->contract_id);
        return response->next_page_token ? FF_OK : FF_ERR_NO_MEMORY;
    }
    response->contracts[response->n_contracts++] = contract;
    return FF_OK;
}

/* Refuses a filter naming an organisation that is not registered, or outside the asker's
 * scope. */
static ff_err query_contract_filter_check(const query_read *read,
                                          const Fundflow__V1__ListContractsRequest *filter) {
    const struct {
        const char *code, *field;
    } named[] = {{filter->commissioner_code, "commissioner_code"},
                 {filter->provider_code, "provider_code"},
                 {filter->collaborative_code, "collaborative_code"}};
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < sizeof named / sizeof named[0]; i++) {
        if (named[i].code[0]) err = query_org_named(read, named[i].code, named[i].field);
    }
    return err;
}

static ff_err query_contracts_fill(const query_read *read, const void *request,
                                   ProtobufCMessage **response) {
    query_contract_page page = {.read = read, .filter = request,
                                .response = (Fundflow__V1__ListContractsResponse *)*response};
    page.page_size = query_page_size(page.filter->page_size);
    page.response->contracts = calloc(page.page_size, sizeof *page.response->contracts);
    if (page.response->contracts == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = query_contract_filter_check(read, page.filter);
    if (err != FF_OK) return err;
    Fundflow__V1__OrgRecord *collaborative = NULL;
    if (page.filter->collaborative_code[0]) {
        static const org_kind collaboratives[] = {FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE,
                                                  0};
        err = projection_party_read(read->txn, read->store, page.filter->collaborative_code,
                                    "collaborative_code", collaboratives, &collaborative,
                                    read->failure);
        if (err != FF_OK) return err;
        page.collaborative_members = collaborative->member_codes;
        page.collaborative_member_count = collaborative->n_member_codes;
    }
    err = query_rows_after(read->txn, read->store, STORE_TABLE_CONTRACTS,
                                  page.filter->page_token, query_contract_row, &page);
    if (collaborative) fundflow__v1__org_record__free_unpacked(collaborative, NULL);
    return err;
}

ff_err query_contracts_list(ff_ledger *ledger, const access_principal *who,
                            const ProtobufCMessage *request, ProtobufCMessage **response_out,
                            ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__list_contracts_request__descriptor);
    return query_read_run_as(ledger, who, &fundflow__v1__list_contracts_response__descriptor,
                             query_contracts_fill, request, "cannot list contracts",
                             response_out, failure);
}
