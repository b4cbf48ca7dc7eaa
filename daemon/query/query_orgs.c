/* The read RPCs about organisations: one by its code (GetOrg) and a page of them (ListOrgs).
 * Organisations are reference data, so every principal sees them all. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "projection.h"
#include "query_read.h"

static ff_err query_org_fill(const query_read *read, const void *request,
                             ProtobufCMessage **response) {
    const Fundflow__V1__GetOrgRequest *get = request;
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(read->txn, read->store, get->code, &org);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(read->failure, err, "code", "no organisation has code %s", get->code);
    }
    if (err != FF_OK) return err;
    assert(strcmp(org->code, get->code) == 0);
    *response = &org->base;
    return FF_OK;
}

ff_err query_org_get(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_org_request__descriptor);
    const Fundflow__V1__GetOrgRequest *get = (const Fundflow__V1__GetOrgRequest *)request;
    ff_err err = command_org_code_check(get->code, "code", true, failure);
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, NULL, query_org_fill, get,
                             "cannot read the organisation", response_out, failure);
}

static bool query_org_matches(const Fundflow__V1__ListOrgsRequest *list,
                              const Fundflow__V1__OrgRecord *org) {
    if (list->kind != 0 && org->kind != list->kind) return false;
    if (list->parent_code[0] != '\0' && strcmp(org->parent_code, list->parent_code) != 0) {
        return false;
    }
    return true;
}

/* A page of organisations being filled. */
typedef struct query_orgs_page {
    const Fundflow__V1__ListOrgsRequest *list;
    Fundflow__V1__ListOrgsResponse *page;
    size_t page_size;
} query_orgs_page;

/* Keeps one organisation if it matches, or ends the page with a token if the page is full. */
static ff_err query_orgs_row(void *argument, store_slice key, store_slice value, bool *stop) {
    query_orgs_page *walk = argument;
    Fundflow__V1__ListOrgsResponse *page = walk->page;
    assert(page->n_orgs <= walk->page_size);
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_ERR_STORAGE;
    /* The table is keyed by code, and page tokens are codes, so the two must agree. */
    assert(query_key_is(key, org->code));
    if (!query_org_matches(walk->list, org)) {
        fundflow__v1__org_record__free_unpacked(org, NULL);
        return FF_OK;
    }
    if (page->n_orgs == walk->page_size) {
        /* One more match exists, so the caller has a next page. */
        fundflow__v1__org_record__free_unpacked(org, NULL);
        *stop = true;
        page->next_page_token = strdup(page->orgs[walk->page_size - 1]->code);
        return page->next_page_token ? FF_OK : FF_ERR_NO_MEMORY;
    }
    page->orgs[page->n_orgs++] = org;
    return FF_OK;
}

static ff_err query_orgs_fill(const query_read *read, const void *request,
                              ProtobufCMessage **response) {
    const Fundflow__V1__ListOrgsRequest *list = request;
    query_orgs_page walk = {list, (Fundflow__V1__ListOrgsResponse *)*response,
                            query_page_size(list->page_size)};
    walk.page->orgs = calloc(walk.page_size, sizeof *walk.page->orgs);
    if (walk.page->orgs == NULL) return FF_ERR_NO_MEMORY;
    /* Organisations are reference data, so an unknown parent is not_found for everyone. */
    if (list->parent_code[0] != '\0') {
        ff_err err = projection_org_exists(read->txn, read->store, list->parent_code,
                                           "parent_code", read->failure);
        if (err != FF_OK) return err;
    }
    return query_rows_after(read->txn, read->store, STORE_TABLE_ORGS, list->page_token,
                            query_orgs_row, &walk);
}

ff_err query_orgs_list(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__list_orgs_request__descriptor);
    return query_read_run_as(ledger, who, &fundflow__v1__list_orgs_response__descriptor,
                             query_orgs_fill, request, "cannot list organisations", response_out,
                             failure);
}
