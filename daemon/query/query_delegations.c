/* The read RPC over the delegation register (GetDelegations): who commissions a service line for
 * an ICB's population on a date, and every delegation that covers the pair. The register is
 * reference data, so every principal sees it whole. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "projection.h"
#include "query_read.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"

static bool query_listed(char *const *codes, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(codes[i], code) == 0) return true;
    }
    return false;
}

static ff_err query_nhse_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)key;
    char **code = argument;
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_ERR_STORAGE;
    ff_err err = FF_OK;
    if (org->kind == FUNDFLOW__V1__ORG_KIND__NHSE) {
        *code = strdup(org->code);
        *stop = true;
        if (*code == NULL) err = FF_ERR_NO_MEMORY;
    }
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err;
}

/* Finds NHS England's code: the first organisation of kind NHSE, or "NHSE" if none is
 * registered. */
static ff_err query_nhse_code(store_txn *txn, ff_store *store, char **code_out) {
    char *code = NULL;
    ff_err err = store_each(txn, store, STORE_TABLE_ORGS, QUERY_EVERY_KEY, query_nhse_row, &code);
    if (err != FF_OK) {
        free(code);
        return err;
    }
    *code_out = code ? code : strdup("NHSE");
    return *code_out ? FF_OK : FF_ERR_NO_MEMORY;
}

/* Listing the delegations that cover one service line and ICB. */
typedef struct query_delegation_scan {
    const Fundflow__V1__GetDelegationsRequest *get;
    Fundflow__V1__GetDelegationsResponse *response;
    const Fundflow__V1__DelegationRecord *in_force; /* the one in force on the date, if any */
} query_delegation_scan;

static ff_err query_delegation_row(void *argument, store_slice key, store_slice value,
                                   bool *stop) {
    (void)stop;
    query_delegation_scan *scan = argument;
    Fundflow__V1__GetDelegationsResponse *response = scan->response;
    assert(response->n_delegations <= FF_PAGE_SIZE_MAX);
    Fundflow__V1__DelegationRecord *delegation =
        fundflow__v1__delegation_record__unpack(NULL, value.bytes, value.data);
    if (delegation == NULL) return FF_ERR_STORAGE;
    assert(query_key_is(key, delegation->delegation_id));
    bool covers = query_listed(delegation->service_line_codes, delegation->n_service_line_codes,
                               scan->get->service_line_code) &&
                  query_listed(delegation->population_codes, delegation->n_population_codes,
                               scan->get->icb_code);
    if (!covers || response->n_delegations == FF_PAGE_SIZE_MAX) {
        fundflow__v1__delegation_record__free_unpacked(delegation, NULL);
        return FF_OK;
    }
    uint32_t end = delegation->effective_to == 0 ? UINT32_MAX : delegation->effective_to;
    if (scan->get->date >= delegation->effective_from && scan->get->date <= end) {
        scan->in_force = delegation;
    }
    response->delegations[response->n_delegations++] = delegation;
    return FF_OK;
}

/* Reads whether the service line is retained nationally; refuses an unknown line. */
static ff_err query_service_line_retained(const query_read *read, const char *code,
                                          bool *retained_out) {
    Fundflow__V1__ServiceLineRecord *line = NULL;
    ff_err err = projection_message_get(read->txn, read->store, STORE_TABLE_SERVICE_LINES, code,
                                        strlen(code),
                                        &fundflow__v1__service_line_record__descriptor,
                                        (ProtobufCMessage **)&line);
    if (err == FF_ERR_NOT_FOUND) {
        return failure_set(read->failure, FF_ERR_SERVICE_LINE_UNKNOWN, "service_line_code",
                           "no service line has code %s", code);
    }
    if (err != FF_OK) return failure_set(read->failure, err, NULL, "cannot read the service line");
    assert(strcmp(line->code, code) == 0);
    *retained_out = line->retained_nationally;
    fundflow__v1__service_line_record__free_unpacked(line, NULL);
    return FF_OK;
}

static ff_err query_delegations_fill(const query_read *read, const void *request,
                                     ProtobufCMessage **response_message) {
    static const org_kind icbs[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};
    const Fundflow__V1__GetDelegationsRequest *get = request;
    Fundflow__V1__GetDelegationsResponse *response =
        (Fundflow__V1__GetDelegationsResponse *)*response_message;
    response->delegations = calloc(FF_PAGE_SIZE_MAX, sizeof *response->delegations);
    if (response->delegations == NULL) return FF_ERR_NO_MEMORY;
    Fundflow__V1__OrgRecord *icb = NULL;
    ff_err err = projection_party_read(read->txn, read->store, get->icb_code, "icb_code", icbs,
                                       &icb, read->failure);
    if (err != FF_OK) return err;
    fundflow__v1__org_record__free_unpacked(icb, NULL);
    bool retained = false;
    err = query_service_line_retained(read, get->service_line_code, &retained);
    if (err != FF_OK) return err;
    response->retained_nationally = retained;
    query_delegation_scan scan = {get, response, NULL};
    err = store_each(read->txn, read->store, STORE_TABLE_DELEGATIONS, QUERY_EVERY_KEY,
                     query_delegation_row, &scan);
    if (err != FF_OK) return failure_set(read->failure, err, NULL, "cannot read the delegations");
    if (scan.in_force == NULL || response->retained_nationally) {
        return query_nhse_code(read->txn, read->store, &response->commissioner_code);
    }
    response->commissioner_code = strdup(scan.in_force->delegate_code);
    response->delegation_id = strdup(scan.in_force->delegation_id);
    response->mode = scan.in_force->mode;
    return response->commissioner_code && response->delegation_id ? FF_OK : FF_ERR_NO_MEMORY;
}

ff_err query_delegations(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessage *request, ProtobufCMessage **response_out,
                         ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_delegations_request__descriptor);
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
    return query_read_run_as(ledger, who, &fundflow__v1__get_delegations_response__descriptor,
                             query_delegations_fill, get, "cannot read the delegations",
                             response_out, failure);
}
