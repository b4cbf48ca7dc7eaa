/* The read RPCs: organisations, positions, account history, events and verification. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "command.h"
#include "log.h"
#include "projection.h"
#include "verify.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

static_assert((int)FUNDFLOW__V1__ACCOUNT_PURPOSE__FUNDING == (int)ACCOUNT_PURPOSE_FUNDING &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET == (int)ACCOUNT_PURPOSE_BUDGET &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__RECEIVED == (int)ACCOUNT_PURPOSE_RECEIVED &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__ONWARD == (int)ACCOUNT_PURPOSE_ONWARD &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__COMMITTED == (int)ACCOUNT_PURPOSE_COMMITTED &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__WITHHELD == (int)ACCOUNT_PURPOSE_WITHHELD &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__PAID == (int)ACCOUNT_PURPOSE_PAID &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__EARNED == (int)ACCOUNT_PURPOSE_EARNED,
              "the RPC schema numbers account purposes as the ledger stores them");

const query_method query_methods[] = {
    {"GetOrg", query_org_get},
    {"ListOrgs", query_orgs_list},
    {"GetPosition", query_position_get},
    {"GetAccountHistory", query_account_history},
    {"ListEvents", query_events_list},
    {"GetEvent", query_event_get},
    {"VerifyLedger", query_verify},
    {"GetContractPosition", query_contract_position},
    {"ListContracts", query_contracts_list},
    {"GetFundingFlows", query_funding_flows},
    {"GetDelegations", query_delegations},
    {"GetHistory", query_history},
    {NULL, NULL},
};

query_handler query_handler_find(const char *name) {
    for (const query_method *method = query_methods; method->name != NULL; method++) {
        if (strcmp(method->name, name) == 0) return method->handler;
    }
    return NULL;
}

static size_t query_page_size(uint32_t asked) {
    if (asked == 0) return FF_PAGE_SIZE_DEFAULT;
    return asked > FF_PAGE_SIZE_MAX ? FF_PAGE_SIZE_MAX : asked;
}

static ff_err query_account_check(const char *org_code, int stream, uint32_t year,
                                  ff_failure *failure) {
    ff_err err = command_org_code_check(org_code, "org_code", true, failure);
    if (err == FF_OK &&
        (stream == 0 ||
         !protobuf_c_enum_descriptor_get_value(&fundflow__v1__stream__descriptor, stream))) {
        err = failure_set(failure, FF_ERR_ENUM_INVALID, "stream", "stream %d is not valid",
                          stream);
    }
    if (err == FF_OK && !calendar_year_valid(year)) {
        err = failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                          "financial_year %u must start between %d and %d", year, FF_YEAR_FIRST,
                          FF_YEAR_LAST);
    }
    return err;
}

ff_err query_org_get(ff_ledger *ledger, const ProtobufCMessage *request,
                     ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetOrgRequest *get = (const Fundflow__V1__GetOrgRequest *)request;
    ff_err err = command_org_code_check(get->code, "code", true, failure);
    if (err != FF_OK) return err;
    store_txn *txn = NULL;
    err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the ledger");
    Fundflow__V1__OrgRecord *org = NULL;
    err = projection_org_read(txn, ledger_store(ledger), get->code, &org);
    ledger_read_txn_end(ledger, txn);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, "code", "no organisation has code %s", get->code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the organisation");
    *response_out = &org->base;
    return FF_OK;
}

static bool query_org_matches(const Fundflow__V1__ListOrgsRequest *list,
                              const Fundflow__V1__OrgRecord *org) {
    if (list->kind != 0 && org->kind != list->kind) return false;
    if (list->parent_code[0] != '\0' && strcmp(org->parent_code, list->parent_code) != 0) {
        return false;
    }
    return true;
}

/* Appends to the page each matching organisation after the page token, up to page_size. */
static ff_err query_orgs_page(store_txn *txn, ff_store *store,
                              const Fundflow__V1__ListOrgsRequest *list, size_t page_size,
                              Fundflow__V1__ListOrgsResponse *page) {
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_ORGS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    size_t token_bytes = strlen(list->page_token);
    MDB_val key = {token_bytes, list->page_token}, value;
    rc = mdb_cursor_get(cursor, &key, &value, token_bytes ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == MDB_SUCCESS && token_bytes && key.mv_size == token_bytes &&
        memcmp(key.mv_data, list->page_token, token_bytes) == 0) {
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    ff_err err = FF_OK;
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        Fundflow__V1__OrgRecord *org =
            fundflow__v1__org_record__unpack(NULL, value.mv_size, value.mv_data);
        if (org == NULL) {
            err = FF_ERR_STORAGE;
            break;
        }
        if (!query_org_matches(list, org)) {
            fundflow__v1__org_record__free_unpacked(org, NULL);
            continue;
        }
        if (page->n_orgs == page_size) {
            /* One more match exists, so the caller has a next page. */
            fundflow__v1__org_record__free_unpacked(org, NULL);
            page->next_page_token = strdup(page->orgs[page_size - 1]->code);
            if (page->next_page_token == NULL) err = FF_ERR_NO_MEMORY;
            break;
        }
        page->orgs[page->n_orgs++] = org;
    }
    mdb_cursor_close(cursor);
    return err;
}

ff_err query_orgs_list(ff_ledger *ledger, const ProtobufCMessage *request,
                       ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__ListOrgsRequest *list = (const Fundflow__V1__ListOrgsRequest *)request;
    size_t page_size = query_page_size(list->page_size);
    Fundflow__V1__ListOrgsResponse *page = malloc(sizeof *page);
    if (page == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__list_orgs_response__init(page);
    page->orgs = calloc(page_size, sizeof *page->orgs);
    store_txn *txn = NULL;
    ff_err err = page->orgs ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        err = query_orgs_page(txn, ledger_store(ledger), list, page_size, page);
        ledger_read_txn_end(ledger, txn);
    }
    if (err != FF_OK) {
        fundflow__v1__list_orgs_response__free_unpacked(page, NULL);
        return failure_set(failure, err, NULL, "cannot list organisations");
    }
    *response_out = &page->base;
    return FF_OK;
}

/* The four purposes a position reads, and where each lands in the response. */
static int64_t *query_position_target(Fundflow__V1__Position *position, account_purpose purpose) {
    switch (purpose) {
    case ACCOUNT_PURPOSE_RECEIVED: return &position->received_pence;
    case ACCOUNT_PURPOSE_ONWARD: return &position->passed_on_pence;
    case ACCOUNT_PURPOSE_BUDGET: return &position->headroom_pence;
    case ACCOUNT_PURPOSE_FUNDING: return &position->funding_drawn_pence;
    case ACCOUNT_PURPOSE_COMMITTED: return &position->committed_pence;
    case ACCOUNT_PURPOSE_WITHHELD: return &position->withheld_pence;
    case ACCOUNT_PURPOSE_PAID: return &position->paid_pence;
    case ACCOUNT_PURPOSE_EARNED: return &position->earned_pence;
    }
    assert(0 && "every purpose is listed");
    return NULL;
}

/* Adds one organisation's figures to the position, as at its sequence and date. */
static ff_err query_position_fill_one(store_txn *txn, ff_store *store, const char *code,
                                      Fundflow__V1__Position *position) {
    for (int purpose = ACCOUNT_PURPOSE_FUNDING; purpose <= ACCOUNT_PURPOSE_LAST; purpose++) {
        account_key key;
        account_balance balance;
        account_key_make(&key, code, position->financial_year, (uint32_t)position->stream,
                         (account_purpose)purpose);
        ff_err err = position->as_at_date != 0
                         ? account_balance_read_by_date(txn, store, &key,
                                                        position->as_at_sequence,
                                                        position->as_at_date, &balance)
                         : account_balance_read_at(txn, store, &key, position->as_at_sequence,
                                                   &balance);
        int64_t net = 0;
        if (err == FF_OK) err = account_balance_net(&key, &balance, &net);
        int64_t *target = query_position_target(position, (account_purpose)purpose);
        if (err == FF_OK) err = money_add(*target, net, target);
        if (err != FF_OK) return err;
    }
    return query_position_released(txn, store, code, (uint32_t)position->stream,
                                   position->financial_year, position->as_at_sequence,
                                   position->as_at_date, &position->released_pence);
}

ff_err query_position_read(store_txn *txn, ff_store *store,
                                  const Fundflow__V1__GetPositionRequest *get,
                                  Fundflow__V1__Position *position, ff_failure *failure) {
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(txn, store, get->org_code, &org);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, "org_code", "no organisation has code %s",
                           get->org_code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the organisation");
    log_head head;
    err = log_head_read(txn, store, &head);
    if (err == FF_OK) {
        position->as_at_sequence = get->as_at_sequence != 0 && get->as_at_sequence < head.sequence
                                       ? get->as_at_sequence
                                       : head.sequence;
        err = query_position_rollup_codes(txn, store, org, get->as_at_date, position);
    }
    for (size_t i = 0; err == FF_OK && i < position->n_included_codes; i++) {
        err = query_position_fill_one(txn, store, position->included_codes[i], position);
    }
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err != FF_OK ? failure_set(failure, err, NULL, "cannot read the position") : FF_OK;
}

ff_err query_position_get(ff_ledger *ledger, const ProtobufCMessage *request,
                          ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetPositionRequest *get =
        (const Fundflow__V1__GetPositionRequest *)request;
    ff_err err = query_account_check(get->org_code, get->stream, get->financial_year, failure);
    if (err == FF_OK && get->as_at_date != 0 && !calendar_date_valid(get->as_at_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                          "as_at_date %u is not a real date in YYYYMMDD form", get->as_at_date);
    }
    if (err != FF_OK) return err;
    Fundflow__V1__Position *position = malloc(sizeof *position);
    if (position == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__position__init(position);
    position->org_code = strdup(get->org_code);
    position->stream = get->stream;
    position->financial_year = get->financial_year;
    position->as_at_date = get->as_at_date;
    position->rollup = get->rollup;
    store_txn *txn = NULL;
    err = position->org_code ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        err = query_position_read(txn, ledger_store(ledger), get, position, failure);
        ledger_read_txn_end(ledger, txn);
    } else {
        failure_set(failure, err, NULL, "cannot read the ledger");
    }
    if (err != FF_OK) {
        fundflow__v1__position__free_unpacked(position, NULL);
        return err;
    }
    *response_out = &position->base;
    return FF_OK;
}

typedef struct query_history_page {
    account_key key;
    Fundflow__V1__GetAccountHistoryResponse *response;
    size_t page_size;
    ff_err err;
} query_history_page;

static bool query_history_visit(void *context, uint64_t sequence, const posting_record *record) {
    query_history_page *page = context;
    Fundflow__V1__GetAccountHistoryResponse *response = page->response;
    if (response->n_postings == page->page_size) {
        response->next_after_sequence = response->postings[page->page_size - 1]->sequence;
        return false;
    }
    Fundflow__V1__AccountPosting *row = malloc(sizeof *row);
    if (row == NULL) {
        page->err = FF_ERR_NO_MEMORY;
        return false;
    }
    fundflow__v1__account_posting__init(row);
    row->sequence = sequence;
    row->effective_date = record->effective_date;
    row->debit_pence = record->debit_pence;
    row->credit_pence = record->credit_pence;
    page->err = account_balance_net(&page->key, &record->balance_after, &row->balance_pence);
    response->postings[response->n_postings++] = row;
    return page->err == FF_OK;
}

ff_err query_account_history(ff_ledger *ledger, const ProtobufCMessage *request,
                             ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetAccountHistoryRequest *get =
        (const Fundflow__V1__GetAccountHistoryRequest *)request;
    ff_err err = query_account_check(get->org_code, get->stream, get->financial_year, failure);
    if (err == FF_OK && ((int)get->purpose < (int)ACCOUNT_PURPOSE_FUNDING ||
                         (int)get->purpose > (int)ACCOUNT_PURPOSE_LAST)) {
        err = failure_set(failure, FF_ERR_ENUM_INVALID, "purpose", "purpose %d is not valid",
                          get->purpose);
    }
    if (err != FF_OK) return err;
    query_history_page page = {.page_size = query_page_size(get->page_size)};
    account_key_make(&page.key, get->org_code, get->financial_year, (uint32_t)get->stream,
                     (account_purpose)get->purpose);
    page.response = malloc(sizeof *page.response);
    if (page.response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "no memory");
    fundflow__v1__get_account_history_response__init(page.response);
    page.response->postings = calloc(page.page_size, sizeof *page.response->postings);
    store_txn *txn = NULL;
    err = page.response->postings ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        err = account_postings_visit(txn, ledger_store(ledger), &page.key, get->after_sequence,
                                     query_history_visit, &page);
        ledger_read_txn_end(ledger, txn);
    }
    if (err == FF_OK) err = page.err;
    if (err != FF_OK) {
        fundflow__v1__get_account_history_response__free_unpacked(page.response, NULL);
        return failure_set(failure, err, NULL, "cannot read the account's postings");
    }
    *response_out = &page.response->base;
    return FF_OK;
}

static ff_err query_events_page(store_txn *txn, ff_store *store, uint64_t after_sequence,
                                size_t page_size, Fundflow__V1__ListEventsResponse *page) {
    log_head head;
    ff_err err = log_head_read(txn, store, &head);
    for (uint64_t sequence = after_sequence + 1; err == FF_OK && sequence <= head.sequence;
         sequence++) {
        if (page->n_events == page_size) {
            page->next_after_sequence = sequence - 1;
            break;
        }
        err = log_read(txn, store, sequence, &page->events[page->n_events]);
        if (err == FF_OK) page->n_events++;
    }
    return err;
}

ff_err query_events_list(ff_ledger *ledger, const ProtobufCMessage *request,
                         ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__ListEventsRequest *list = (const Fundflow__V1__ListEventsRequest *)request;
    size_t page_size = query_page_size(list->page_size);
    Fundflow__V1__ListEventsResponse *page = malloc(sizeof *page);
    if (page == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__list_events_response__init(page);
    page->events = calloc(page_size, sizeof *page->events);
    store_txn *txn = NULL;
    ff_err err = page->events ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        if (list->after_sequence < UINT64_MAX) {
            err = query_events_page(txn, ledger_store(ledger), list->after_sequence, page_size,
                                    page);
        }
        ledger_read_txn_end(ledger, txn);
    }
    if (err != FF_OK) {
        fundflow__v1__list_events_response__free_unpacked(page, NULL);
        return failure_set(failure, err, NULL, "cannot read the log");
    }
    *response_out = &page->base;
    return FF_OK;
}

ff_err query_event_get(ff_ledger *ledger, const ProtobufCMessage *request,
                       ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetEventRequest *get = (const Fundflow__V1__GetEventRequest *)request;
    if (get->sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "sequence", "sequence is required");
    }
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the ledger");
    Fundflow__V1__EventRecord *record = NULL;
    err = log_read(txn, ledger_store(ledger), get->sequence, &record);
    ledger_read_txn_end(ledger, txn);
    if (err == FF_ERR_EVENT_UNKNOWN) {
        return failure_set(failure, err, "sequence", "there is no event %llu",
                           (unsigned long long)get->sequence);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the event");
    *response_out = &record->base;
    return FF_OK;
}

ff_err query_verify(ff_ledger *ledger, const ProtobufCMessage *request,
                    ProtobufCMessage **response_out, ff_failure *failure) {
    (void)request;
    Fundflow__V1__VerifyLedgerResponse *response = malloc(sizeof *response);
    if (response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__verify_ledger_response__init(response);
    verify_report report;
    ledger_read_begin(ledger);
    ff_err err = verify_ledger(ledger_store(ledger), NULL, &report);
    ledger_read_end(ledger);
    response->ok = err == FF_OK;
    response->code = strdup(ff_err_name(err));
    response->sequence = report.sequence;
    response->reason = strdup(report.reason);
    response->events_checked = report.events_checked;
    if (response->code == NULL || response->reason == NULL) {
        fundflow__v1__verify_ledger_response__free_unpacked(response, NULL);
        return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    }
    *response_out = &response->base;
    return FF_OK;
}
