/* The read RPC over the principals (ListPrincipals): every principal by name, revoked ones
 * included, without the SHA-256 of its token, which is for the server alone. The method table
 * lets only admins and auditors call it. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "query_read.h"
#include "fundflow/limits.h"

/* The principals found so far, in a list that grows as the walk goes. */
typedef struct query_principals_walk {
    Fundflow__V1__ListPrincipalsResponse *response;
    size_t capacity;
} query_principals_walk;

static ff_err query_principals_grow(query_principals_walk *walk) {
    size_t capacity = walk->capacity == 0 ? 16 : walk->capacity * 2;
    if (capacity > FF_PRINCIPALS_MAX) capacity = FF_PRINCIPALS_MAX;
    Fundflow__V1__PrincipalRecord **grown =
        realloc(walk->response->principals, capacity * sizeof *grown);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    walk->response->principals = grown;
    walk->capacity = capacity;
    return FF_OK;
}

/* Drops the token's hash from a record before it leaves the server. */
static void query_principal_hash_clear(Fundflow__V1__PrincipalRecord *record) {
    if (record->token_sha256.data != NULL) {
        memset(record->token_sha256.data, 0, record->token_sha256.len);
        free(record->token_sha256.data);
    }
    record->token_sha256.data = NULL;
    record->token_sha256.len = 0;
}

/* Keeps one principal, until FF_PRINCIPALS_MAX of them are kept. */
static ff_err query_principal_row(void *argument, store_slice key, store_slice value,
                                  bool *stop) {
    query_principals_walk *walk = argument;
    Fundflow__V1__ListPrincipalsResponse *response = walk->response;
    if (response->n_principals == FF_PRINCIPALS_MAX) {
        *stop = true;
        return FF_OK;
    }
    if (response->n_principals == walk->capacity && query_principals_grow(walk) != FF_OK) {
        return FF_ERR_NO_MEMORY;
    }
    Fundflow__V1__PrincipalRecord *record =
        fundflow__v1__principal_record__unpack(NULL, value.bytes, value.data);
    if (record == NULL) return FF_ERR_STORAGE;
    /* The table is keyed by name, so the two must agree. */
    assert(query_key_is(key, record->name));
    query_principal_hash_clear(record);
    response->principals[response->n_principals++] = record;
    return FF_OK;
}

static ff_err query_principals_fill(const query_read *read, const void *request,
                                    ProtobufCMessage **response) {
    (void)request;
    query_principals_walk walk = {(Fundflow__V1__ListPrincipalsResponse *)*response, 0};
    return store_each(read->txn, read->store, STORE_TABLE_PRINCIPALS, QUERY_EVERY_KEY,
                      query_principal_row, &walk);
}

ff_err query_principals_list(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__list_principals_request__descriptor);
    return query_read_run_as(ledger, who, &fundflow__v1__list_principals_response__descriptor,
                             query_principals_fill, request, "cannot list the principals",
                             response_out, failure);
}
