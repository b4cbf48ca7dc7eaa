/* The domain's read RPCs: contract positions and listings, funding flows, the delegation
 * register and history; and the parts of a position that come from contracts and rollups. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "command.h"
#include "log.h"
#include "projection.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"


static size_t query_domain_page_size(uint32_t asked) {
    if (asked == 0) return FF_PAGE_SIZE_DEFAULT;
    return asked > FF_PAGE_SIZE_MAX ? FF_PAGE_SIZE_MAX : asked;
}

/* ---- contract positions ---- */

ff_err query_contract_position(ff_ledger *ledger, const ProtobufCMessage *request,
                               ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetContractPositionRequest *get =
        (const Fundflow__V1__GetContractPositionRequest *)request;
    ff_err err = command_identifier_check(get->contract_id, "contract_id", failure);
    if (err != FF_OK) return err;
    store_txn *txn = NULL;
    err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the ledger");
    log_head head;
    Fundflow__V1__ContractRecord *contract = NULL;
    err = log_head_read(txn, ledger_store(ledger), &head);
    uint64_t as_at = get->as_at_sequence != 0 && get->as_at_sequence < head.sequence
                         ? get->as_at_sequence
                         : head.sequence;
    if (err == FF_OK) {
        err = projection_contract_read(txn, ledger_store(ledger), get->contract_id, as_at,
                                       &contract);
    }
    ledger_read_txn_end(ledger, txn);
    if (err != FF_OK) {
        return failure_set(failure, err, "contract_id", "no contract %s as at event %llu",
                           get->contract_id, (unsigned long long)as_at);
    }
    Fundflow__V1__ContractPosition *position = malloc(sizeof *position);
    if (position == NULL) {
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
        return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    }
    fundflow__v1__contract_position__init(position);
    position->contract = contract;
    position->as_at_sequence = as_at;
    position->variable_value_pence = contract->value_pence - contract->fixed_value_pence;
    position->withheld_pending_pence =
        contract->withheld_pot_pence - contract->earned_pence - contract->released_pence;
    position->outstanding_pence = contract->value_pence - contract->paid_pence -
                                  contract->earned_pence - contract->released_pence;
    *response_out = &position->base;
    return FF_OK;
}

/* ---- contract listings ---- */

typedef struct query_contract_page {
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

/* Walks every contract in id order after the page token, keeping the matches. */
static ff_err query_contracts_walk(store_txn *txn, ff_store *store, query_contract_page *page) {
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_CONTRACTS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    const char *token = page->filter->page_token;
    MDB_val key = {strlen(token), (void *)token}, value;
    rc = mdb_cursor_get(cursor, &key, &value, token[0] ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == MDB_SUCCESS && token[0] && key.mv_size == strlen(token) &&
        memcmp(key.mv_data, token, key.mv_size) == 0) {
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    ff_err err = FF_OK;
    Fundflow__V1__ListContractsResponse *response = page->response;
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        Fundflow__V1__ContractRecord *contract =
            fundflow__v1__contract_record__unpack(NULL, value.mv_size, value.mv_data);
        if (contract == NULL) {
            err = FF_ERR_STORAGE;
            break;
        }
        if (!query_contract_matches(page, contract)) {
            fundflow__v1__contract_record__free_unpacked(contract, NULL);
            continue;
        }
        if (response->n_contracts == page->page_size) {
            fundflow__v1__contract_record__free_unpacked(contract, NULL);
            response->next_page_token =
                strdup(response->contracts[page->page_size - 1]->contract_id);
            break;
        }
        response->contracts[response->n_contracts++] = contract;
    }
    mdb_cursor_close(cursor);
    return err;
}

ff_err query_contracts_list(ff_ledger *ledger, const ProtobufCMessage *request,
                            ProtobufCMessage **response_out, ff_failure *failure) {
    query_contract_page page = {.filter = (const Fundflow__V1__ListContractsRequest *)request};
    page.page_size = query_domain_page_size(page.filter->page_size);
    page.response = malloc(sizeof *page.response);
    if (page.response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "no memory");
    fundflow__v1__list_contracts_response__init(page.response);
    page.response->contracts = calloc(page.page_size, sizeof *page.response->contracts);
    store_txn *txn = NULL;
    ff_err err = page.response->contracts ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    Fundflow__V1__OrgRecord *collaborative = NULL;
    if (err == FF_OK && page.filter->collaborative_code[0]) {
        static const org_kind collaboratives[] = {FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, 0};
        err = projection_party_read(txn, ledger_store(ledger), page.filter->collaborative_code,
                                    "collaborative_code", collaboratives, &collaborative, failure);
        if (err == FF_OK) {
            page.collaborative_members = collaborative->member_codes;
            page.collaborative_member_count = collaborative->n_member_codes;
        }
    }
    if (err == FF_OK) err = query_contracts_walk(txn, ledger_store(ledger), &page);
    if (txn) ledger_read_txn_end(ledger, txn);
    if (collaborative) fundflow__v1__org_record__free_unpacked(collaborative, NULL);
    if (err != FF_OK) {
        fundflow__v1__list_contracts_response__free_unpacked(page.response, NULL);
        if (failure->code == FF_OK) failure_set(failure, err, NULL, "cannot list contracts");
        return err;
    }
    *response_out = &page.response->base;
    return FF_OK;
}

/* ---- funding flows ---- */

#define QUERY_FLOW_KEY_BYTES (2 + 2 * FF_ORG_CODE_BYTES_MAX + 1)

typedef struct query_flow_walk {
    const Fundflow__V1__GetFundingFlowsRequest *request;
    Fundflow__V1__GetFundingFlowsResponse *response;
    char visited[FF_FLOWS_MAX + 1][FF_ORG_CODE_BYTES_MAX + 1];
    uint32_t visited_depth[FF_FLOWS_MAX + 1];
    size_t visited_count;
} query_flow_walk;

static bool query_flow_visit(query_flow_walk *walk, const char *code, uint32_t depth) {
    for (size_t i = 0; i < walk->visited_count; i++) {
        if (strcmp(walk->visited[i], code) == 0) return false;
    }
    if (walk->visited_count > FF_FLOWS_MAX) return false;
    strcpy(walk->visited[walk->visited_count], code);
    walk->visited_depth[walk->visited_count++] = depth;
    return true;
}

static ff_err query_flow_edge_add(query_flow_walk *walk, const char *from, const char *to,
                                  int stream, int64_t amount, uint32_t depth) {
    Fundflow__V1__GetFundingFlowsResponse *response = walk->response;
    if (response->n_flows == FF_FLOWS_MAX) {
        response->truncated = true;
        return FF_OK;
    }
    Fundflow__V1__FundingFlow *flow = malloc(sizeof *flow);
    if (flow == NULL) return FF_ERR_NO_MEMORY;
    fundflow__v1__funding_flow__init(flow);
    flow->from_code = strdup(from);
    flow->to_code = strdup(to);
    flow->stream = (Fundflow__V1__Stream)stream;
    flow->amount_pence = amount;
    flow->depth = depth;
    response->flows[response->n_flows++] = flow;
    return flow->from_code && flow->to_code ? FF_OK : FF_ERR_NO_MEMORY;
}

/* Adds every non-zero flow out of one organisation, and queues the recipients. */
static ff_err query_flows_from(store_txn *txn, ff_store *store, query_flow_walk *walk,
                               const char *from, uint32_t depth) {
    uint8_t prefix[2 + FF_ORG_CODE_BYTES_MAX];
    uint32_t year = walk->request->financial_year;
    prefix[0] = (uint8_t)(year >> 8), prefix[1] = (uint8_t)year;
    memset(prefix + 2, ' ', FF_ORG_CODE_BYTES_MAX);
    memcpy(prefix + 2, from, strlen(from));
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_FLOWS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key = {sizeof prefix, prefix}, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == MDB_SUCCESS && err == FF_OK && key.mv_size == QUERY_FLOW_KEY_BYTES &&
         memcmp(key.mv_data, prefix, sizeof prefix) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        const uint8_t *bytes = key.mv_data;
        int stream = bytes[QUERY_FLOW_KEY_BYTES - 1];
        int64_t amount = 0;
        if (value.mv_size == sizeof amount) memcpy(&amount, value.mv_data, sizeof amount);
        if (amount == 0 || (walk->request->stream != 0 && (int)walk->request->stream != stream)) {
            continue;
        }
        char to[FF_ORG_CODE_BYTES_MAX + 1];
        projection_code_unpad(bytes + 2 + FF_ORG_CODE_BYTES_MAX, to);
        err = query_flow_edge_add(walk, from, to, stream, amount, depth);
        query_flow_visit(walk, to, depth);
    }
    mdb_cursor_close(cursor);
    return err;
}

/* Seeds the walk with the root, or with every organisation of kind NHSE. */
static ff_err query_flow_roots(store_txn *txn, ff_store *store, query_flow_walk *walk) {
    if (walk->request->root_code[0]) {
        Fundflow__V1__OrgRecord *root = NULL;
        ff_err err = projection_org_read(txn, store, walk->request->root_code, &root);
        if (err != FF_OK) return err;
        fundflow__v1__org_record__free_unpacked(root, NULL);
        query_flow_visit(walk, walk->request->root_code, 0);
        return FF_OK;
    }
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_ORGS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key, value;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        Fundflow__V1__OrgRecord *org =
            fundflow__v1__org_record__unpack(NULL, value.mv_size, value.mv_data);
        if (org && org->kind == FUNDFLOW__V1__ORG_KIND__NHSE) query_flow_visit(walk, org->code, 0);
        if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
    }
    mdb_cursor_close(cursor);
    return FF_OK;
}

ff_err query_funding_flows(ff_ledger *ledger, const ProtobufCMessage *request,
                           ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetFundingFlowsRequest *get =
        (const Fundflow__V1__GetFundingFlowsRequest *)request;
    ff_err err = command_year_check(get->financial_year, failure);
    if (err == FF_OK) err = command_org_code_check(get->root_code, "root_code", false, failure);
    if (err == FF_OK && get->depth > FF_FLOW_DEPTH_MAX) {
        err = failure_set(failure, FF_ERR_FIELD_TOO_LONG, "depth",
                          "depth %u is deeper than the limit of %d", get->depth,
                          FF_FLOW_DEPTH_MAX);
    }
    if (err != FF_OK) return err;
    uint32_t depth_max = get->depth == 0 ? FF_FLOW_DEPTH_DEFAULT : get->depth;
    query_flow_walk *walk = calloc(1, sizeof *walk);
    Fundflow__V1__GetFundingFlowsResponse *response = malloc(sizeof *response);
    if (walk == NULL || response == NULL) {
        free(walk), free(response);
        return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    }
    fundflow__v1__get_funding_flows_response__init(response);
    response->flows = calloc(FF_FLOWS_MAX, sizeof *response->flows);
    walk->request = get;
    walk->response = response;
    store_txn *txn = NULL;
    err = response->flows ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) err = query_flow_roots(txn, ledger_store(ledger), walk);
    /* Breadth first: the visited list grows as the walk finds recipients. */
    for (size_t i = 0; err == FF_OK && i < walk->visited_count; i++) {
        if (walk->visited_depth[i] >= depth_max) continue;
        err = query_flows_from(txn, ledger_store(ledger), walk, walk->visited[i],
                               walk->visited_depth[i] + 1);
    }
    if (txn) ledger_read_txn_end(ledger, txn);
    free(walk);
    if (err != FF_OK) {
        fundflow__v1__get_funding_flows_response__free_unpacked(response, NULL);
        return failure_set(failure, err, err == FF_ERR_ORG_UNKNOWN ? "root_code" : NULL,
                           "cannot walk the funding flows");
    }
    *response_out = &response->base;
    return FF_OK;
}

/* ---- the delegation register ---- */

static bool query_listed(char *const *codes, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(codes[i], code) == 0) return true;
    }
    return false;
}

/* Finds NHS England's code: the first organisation of kind NHSE, or "NHSE" if none is registered. */
static char *query_nhse_code(store_txn *txn, ff_store *store) {
    store_cursor *cursor = NULL;
    char *code = NULL;
    if (mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_ORGS), &cursor) == MDB_SUCCESS) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS && !code;
             rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
            Fundflow__V1__OrgRecord *org =
                fundflow__v1__org_record__unpack(NULL, value.mv_size, value.mv_data);
            if (org && org->kind == FUNDFLOW__V1__ORG_KIND__NHSE) code = strdup(org->code);
            if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
        }
        mdb_cursor_close(cursor);
    }
    return code ? code : strdup("NHSE");
}

/* Lists the delegations of the line covering the ICB, and notes the one in force on the date. */
static ff_err query_delegations_scan(store_txn *txn, ff_store *store,
                                     const Fundflow__V1__GetDelegationsRequest *get,
                                     Fundflow__V1__GetDelegationsResponse *response,
                                     const Fundflow__V1__DelegationRecord **in_force) {
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_DELEGATIONS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        Fundflow__V1__DelegationRecord *delegation =
            fundflow__v1__delegation_record__unpack(NULL, value.mv_size, value.mv_data);
        if (delegation == NULL) {
            err = FF_ERR_STORAGE;
            break;
        }
        bool covers = query_listed(delegation->service_line_codes,
                                   delegation->n_service_line_codes, get->service_line_code) &&
                      query_listed(delegation->population_codes, delegation->n_population_codes,
                                   get->icb_code);
        if (!covers || response->n_delegations == FF_PAGE_SIZE_MAX) {
            fundflow__v1__delegation_record__free_unpacked(delegation, NULL);
            continue;
        }
        uint32_t end = delegation->effective_to == 0 ? UINT32_MAX : delegation->effective_to;
        if (get->date >= delegation->effective_from && get->date <= end) *in_force = delegation;
        response->delegations[response->n_delegations++] = delegation;
    }
    mdb_cursor_close(cursor);
    return err;
}

static ff_err query_delegations_answer(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__GetDelegationsRequest *get,
                                       Fundflow__V1__GetDelegationsResponse *response,
                                       ff_failure *failure) {
    static const org_kind icbs[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};
    Fundflow__V1__OrgRecord *icb = NULL;
    ff_err err = projection_party_read(txn, store, get->icb_code, "icb_code", icbs, &icb, failure);
    if (err != FF_OK) return err;
    fundflow__v1__org_record__free_unpacked(icb, NULL);
    Fundflow__V1__ServiceLineRecord *line = NULL;
    err = projection_message_get(txn, store, STORE_TABLE_SERVICE_LINES,
                                        get->service_line_code, strlen(get->service_line_code),
                                        &fundflow__v1__service_line_record__descriptor,
                                        (ProtobufCMessage **)&line);
    if (err == FF_ERR_NOT_FOUND) {
        return failure_set(failure, FF_ERR_SERVICE_LINE_UNKNOWN, "service_line_code",
                           "no service line has code %s", get->service_line_code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the service line");
    response->retained_nationally = line->retained_nationally;
    fundflow__v1__service_line_record__free_unpacked(line, NULL);
    const Fundflow__V1__DelegationRecord *in_force = NULL;
    err = query_delegations_scan(txn, store, get, response, &in_force);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the delegations");
    if (in_force != NULL && !response->retained_nationally) {
        response->commissioner_code = strdup(in_force->delegate_code);
        response->delegation_id = strdup(in_force->delegation_id);
        response->mode = in_force->mode;
    } else {
        response->commissioner_code = query_nhse_code(txn, store);
    }
    return response->commissioner_code ? FF_OK
                                       : failure_set(failure, FF_ERR_NO_MEMORY, NULL, "memory");
}

ff_err query_delegations(ff_ledger *ledger, const ProtobufCMessage *request,
                         ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetDelegationsRequest *get =
        (const Fundflow__V1__GetDelegationsRequest *)request;
    ff_err err = command_org_code_check(get->service_line_code, "service_line_code", true,
                                        failure);
    if (err == FF_OK) err = command_org_code_check(get->icb_code, "icb_code", true, failure);
    if (err == FF_OK && !calendar_date_valid(get->date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "date", "date %u is not a real date",
                          get->date);
    }
    if (err != FF_OK) return err;
    Fundflow__V1__GetDelegationsResponse *response = malloc(sizeof *response);
    if (response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__get_delegations_response__init(response);
    response->delegations = calloc(FF_PAGE_SIZE_MAX, sizeof *response->delegations);
    store_txn *txn = NULL;
    err = response->delegations ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        err = query_delegations_answer(txn, ledger_store(ledger), get, response, failure);
        ledger_read_txn_end(ledger, txn);
    } else {
        failure_set(failure, err, NULL, "cannot read the ledger");
    }
    if (err != FF_OK) {
        fundflow__v1__get_delegations_response__free_unpacked(response, NULL);
        return err;
    }
    *response_out = &response->base;
    return FF_OK;
}

/* ---- history ---- */

static ff_err query_history_page(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__GetHistoryRequest *get, size_t page_size,
                                 Fundflow__V1__GetHistoryResponse *page) {
    uint8_t key_bytes[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_length = projection_history_key(get->name, get->after_sequence + 1, key_bytes,
                                               sizeof key_bytes);
    size_t prefix = key_length - LOG_KEY_BYTES;
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_HISTORY), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key = {key_length, key_bytes}, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == MDB_SUCCESS && err == FF_OK && key.mv_size == key_length &&
         memcmp(key.mv_data, key_bytes, prefix) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        uint64_t sequence = log_key_decode((const uint8_t *)key.mv_data + prefix);
        if (page->n_events == page_size) {
            page->next_after_sequence = page->events[page_size - 1]->sequence;
            break;
        }
        err = log_read(txn, store, sequence, &page->events[page->n_events]);
        if (err == FF_OK) page->n_events++;
    }
    mdb_cursor_close(cursor);
    return err;
}

ff_err query_history(ff_ledger *ledger, const ProtobufCMessage *request,
                     ProtobufCMessage **response_out, ff_failure *failure) {
    const Fundflow__V1__GetHistoryRequest *get = (const Fundflow__V1__GetHistoryRequest *)request;
    ff_err err = command_identifier_check(get->name, "name", failure);
    if (err != FF_OK) return err;
    size_t page_size = query_domain_page_size(get->page_size);
    Fundflow__V1__GetHistoryResponse *page = malloc(sizeof *page);
    if (page == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__get_history_response__init(page);
    page->events = calloc(page_size, sizeof *page->events);
    store_txn *txn = NULL;
    err = page->events ? ledger_read_txn_begin(ledger, &txn) : FF_ERR_NO_MEMORY;
    if (err == FF_OK) {
        if (get->after_sequence < UINT64_MAX) {
            err = query_history_page(txn, ledger_store(ledger), get, page_size, page);
        }
        ledger_read_txn_end(ledger, txn);
    }
    if (err != FF_OK) {
        fundflow__v1__get_history_response__free_unpacked(page, NULL);
        return failure_set(failure, err, NULL, "cannot read the history");
    }
    *response_out = &page->base;
    return FF_OK;
}

/* ---- positions: releases and rollups ---- */

static int64_t query_contract_released(const Fundflow__V1__ContractRecord *contract,
                                       uint32_t as_at_date) {
    if (as_at_date == 0) return contract->released_pence;
    int64_t released = 0;
    for (size_t i = 0; i < contract->n_metrics; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        if (metric->reported && metric->reported_date <= as_at_date) {
            released += metric->released_pence;
        }
    }
    return released;
}

ff_err query_position_released(store_txn *txn, ff_store *store, const char *org_code,
                               uint32_t stream, uint32_t year, uint64_t as_at_sequence,
                               uint32_t as_at_date, int64_t *released_pence) {
    uint8_t prefix[FF_ORG_CODE_BYTES_MAX + 3];
    size_t code_bytes = strlen(org_code);
    memcpy(prefix, org_code, code_bytes);
    prefix[code_bytes] = 0;
    prefix[code_bytes + 1] = (uint8_t)(year >> 8), prefix[code_bytes + 2] = (uint8_t)year;
    size_t prefix_bytes = code_bytes + 3;
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_PARTY_CONTRACTS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key = {prefix_bytes, prefix}, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == MDB_SUCCESS && err == FF_OK && key.mv_size > prefix_bytes &&
         memcmp(key.mv_data, prefix, prefix_bytes) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
        size_t id_bytes = key.mv_size - prefix_bytes;
        if (id_bytes > FF_IDENTIFIER_BYTES_MAX) continue;
        memcpy(contract_id, (const uint8_t *)key.mv_data + prefix_bytes, id_bytes);
        contract_id[id_bytes] = '\0';
        Fundflow__V1__ContractRecord *contract = NULL;
        if (projection_contract_read(txn, store, contract_id, as_at_sequence, &contract) != FF_OK) {
            continue;
        }
        if (strcmp(contract->commissioner_code, org_code) == 0 &&
            (uint32_t)contract->stream == stream) {
            err = money_add(*released_pence, query_contract_released(contract, as_at_date),
                            released_pence);
        }
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
    }
    mdb_cursor_close(cursor);
    return err;
}

/* An organisation's links as they stood on a date: the latest record effective by then. */
static ff_err query_org_links_at(store_txn *txn, ff_store *store, const char *code, uint32_t date,
                                 Fundflow__V1__OrgLinkRecord **links) {
    uint8_t seek[FF_ORG_CODE_BYTES_MAX + 5];
    size_t code_bytes = strlen(code);
    memcpy(seek, code, code_bytes);
    seek[code_bytes] = 0;
    uint32_t after = date + 1;
    for (int i = 0; i < 4; i++) seek[code_bytes + 1 + i] = (uint8_t)(after >> (24 - 8 * i));
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_ORG_LINKS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key = {code_bytes + 5, seek}, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    rc = mdb_cursor_get(cursor, &key, &value, rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
    ff_err err = FF_ERR_NOT_FOUND;
    if (rc == MDB_SUCCESS && key.mv_size > code_bytes + 1 &&
        memcmp(key.mv_data, seek, code_bytes + 1) == 0) {
        *links = fundflow__v1__org_link_record__unpack(NULL, value.mv_size, value.mv_data);
        err = *links ? FF_OK : FF_ERR_STORAGE;
    }
    mdb_cursor_close(cursor);
    return err;
}

static ff_err query_rollup_add(Fundflow__V1__Position *position, const char *code) {
    char **grown = realloc(position->included_codes,
                           (position->n_included_codes + 1) * sizeof *grown);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    position->included_codes = grown;
    position->included_codes[position->n_included_codes] = strdup(code);
    if (position->included_codes[position->n_included_codes] == NULL) return FF_ERR_NO_MEMORY;
    position->n_included_codes++;
    return FF_OK;
}

/* The places whose parent was the ICB on the date (today's parent if no date). */
static ff_err query_rollup_places(store_txn *txn, ff_store *store, const char *icb, uint32_t date,
                                  Fundflow__V1__Position *position) {
    store_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, store_dbi(store, STORE_TABLE_ORGS), &cursor);
    if (rc != MDB_SUCCESS) return store_error_from_mdb(rc);
    MDB_val key, value;
    ff_err err = FF_OK;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS && err == FF_OK;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        Fundflow__V1__OrgRecord *org =
            fundflow__v1__org_record__unpack(NULL, value.mv_size, value.mv_data);
        if (org == NULL) return FF_ERR_STORAGE;
        bool child = false;
        if (org->kind == FUNDFLOW__V1__ORG_KIND__PLACE) {
            Fundflow__V1__OrgLinkRecord *links = NULL;
            if (date == 0) child = strcmp(org->parent_code, icb) == 0;
            else if (query_org_links_at(txn, store, org->code, date, &links) == FF_OK) {
                child = strcmp(links->parent_code, icb) == 0;
                fundflow__v1__org_link_record__free_unpacked(links, NULL);
            }
        }
        if (child) err = query_rollup_add(position, org->code);
        fundflow__v1__org_record__free_unpacked(org, NULL);
    }
    mdb_cursor_close(cursor);
    return err;
}

ff_err query_position_rollup_codes(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__OrgRecord *org, uint32_t as_at_date,
                                   Fundflow__V1__Position *position) {
    ff_err err = query_rollup_add(position, org->code);
    if (err != FF_OK || !position->rollup) return err;
    if (org->kind == FUNDFLOW__V1__ORG_KIND__ICB) {
        return query_rollup_places(txn, store, org->code, as_at_date, position);
    }
    if (org->kind != FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE) return FF_OK;
    Fundflow__V1__OrgLinkRecord *links = NULL;
    if (as_at_date != 0 && query_org_links_at(txn, store, org->code, as_at_date, &links) == FF_OK) {
        for (size_t i = 0; err == FF_OK && i < links->n_member_codes; i++) {
            err = query_rollup_add(position, links->member_codes[i]);
        }
        fundflow__v1__org_link_record__free_unpacked(links, NULL);
        return err;
    }
    for (size_t i = 0; err == FF_OK && as_at_date == 0 && i < org->n_member_codes; i++) {
        err = query_rollup_add(position, org->member_codes[i]);
    }
    return err;
}
