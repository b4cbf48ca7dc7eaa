/* The shared leaf of the read RPCs: the read-transaction wrapper, page sizes, the walk after a
 * page token, the as-at event and named organisations, and scope checks with a fast path for
 * national principals. */
#include "query_read.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "projection.h"
#include "fundflow/limits.h"

static ff_err query_fill_in_snapshot(ff_ledger *ledger, const access_principal *who,
                                     query_fill fill, const void *request, const char *failing,
                                     ProtobufCMessage **response, ff_failure *failure) {
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the ledger");
    query_read read = {txn, ledger_store(ledger), who, failure};
    err = fill(&read, request, response);
    ledger_read_txn_end(ledger, txn);
    /* A fill that knows the field at fault says so; any other failure gets the RPC's sentence. */
    if (err != FF_OK && failure->code != err) failure_set(failure, err, NULL, "%s", failing);
    return err;
}

ff_err query_read_run_as(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessageDescriptor *response_type, query_fill fill,
                         const void *request, const char *failing,
                         ProtobufCMessage **response_out, ff_failure *failure) {
    assert(ledger != NULL && who != NULL && fill != NULL && request != NULL && failing != NULL);
    assert(response_out != NULL && failure != NULL);
    ProtobufCMessage *response = NULL;
    if (response_type != NULL) {
        response = malloc(response_type->sizeof_message);
        if (response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
        response_type->message_init(response);
    }
    ff_err err = query_fill_in_snapshot(ledger, who, fill, request, failing, &response, failure);
    if (err != FF_OK) {
        if (response != NULL) protobuf_c_message_free_unpacked(response, NULL);
        return err;
    }
    /* A fill without a type must have made a response, and one with a type must keep it. */
    assert(response != NULL);
    assert(response_type == NULL || response->descriptor == response_type);
    *response_out = response;
    return FF_OK;
}

ff_err query_read_run(ff_ledger *ledger, const ProtobufCMessageDescriptor *response_type,
                      query_fill fill, const void *request, const char *failing,
                      ProtobufCMessage **response_out, ff_failure *failure) {
    access_principal national;
    access_principal_bootstrap(&national, "fundflow", 0);
    return query_read_run_as(ledger, &national, response_type, fill, request, failing,
                             response_out, failure);
}

size_t query_page_size(uint32_t asked) {
    if (asked == 0) return FF_PAGE_SIZE_DEFAULT;
    return asked > FF_PAGE_SIZE_MAX ? FF_PAGE_SIZE_MAX : asked;
}

bool query_key_is(store_slice key, const char *text) {
    size_t text_bytes = strlen(text);
    return key.bytes == text_bytes && memcmp(key.data, text, text_bytes) == 0;
}

/* Places the cursor on the first row after token, or the first row if token is empty. */
static ff_err query_cursor_after(store_cursor *cursor, const char *token, store_slice *key,
                                 store_slice *value) {
    if (token[0] == '\0') return store_cursor_move(cursor, STORE_FIRST, key, value);
    *key = STORE_SLICE(token, strlen(token));
    ff_err err = store_cursor_move(cursor, STORE_SEEK, key, value);
    if (err == FF_OK && query_key_is(*key, token)) {
        err = store_cursor_move(cursor, STORE_NEXT, key, value);
    }
    return err;
}

ff_err query_rows_after(store_txn *txn, ff_store *store, store_table table, const char *token,
                        store_visit visit, void *argument) {
    assert(token != NULL && visit != NULL);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, table, &cursor);
    if (err != FF_OK) return err;
    store_slice key, value;
    bool stop = false;
    /* Only the cursor's "no more rows" ends the walk quietly; a visitor's own not_found is an
     * answer and goes back to the caller. */
    ff_err move_err = query_cursor_after(cursor, token, &key, &value);
    err = FF_OK;
    while (move_err == FF_OK && !stop) {
        err = visit(argument, key, value, &stop);
        if (err != FF_OK) break;
        if (!stop) move_err = store_cursor_move(cursor, STORE_NEXT, &key, &value);
    }
    store_cursor_close(cursor);
    if (err != FF_OK) return err;
    return move_err == FF_ERR_NOT_FOUND ? FF_OK : move_err;
}

/* ---- what a request names ---- */

ff_err query_as_at_resolve(const query_read *read, uint64_t asked, uint64_t *as_at_out) {
    log_head head;
    ff_err err = log_head_read(read->txn, read->store, &head);
    if (err != FF_OK) return failure_set(read->failure, err, NULL, "cannot read the log's head");
    if (asked > head.sequence) {
        return failure_set(read->failure, FF_ERR_AS_AT_BEYOND_HEAD, "as_at_sequence",
                           "as_at_sequence %llu is beyond the ledger's head, event %llu",
                           (unsigned long long)asked, (unsigned long long)head.sequence);
    }
    *as_at_out = asked != 0 ? asked : head.sequence;
    return FF_OK;
}

ff_err query_as_at_check(const query_read *read, uint64_t asked) {
    uint64_t as_at = 0;
    return query_as_at_resolve(read, asked, &as_at);
}

ff_err query_org_named(const query_read *read, const char *org_code, const char *field) {
    assert(org_code != NULL && org_code[0] != '\0' && field != NULL);
    if (!access_is_national(read->who)) return query_org_in_scope(read, org_code, field);
    return projection_org_exists(read->txn, read->store, org_code, field, read->failure);
}

/* ---- scope ---- */

ff_err query_out_of_scope(const query_read *read, const char *field, const char *value) {
    return failure_set(read->failure, FF_ERR_OUT_OF_SCOPE, field,
                       "%s %s is outside the scope of %s (%s)", field, value, read->who->name,
                       read->who->scope);
}

ff_err query_org_in_scope(const query_read *read, const char *org_code, const char *field) {
    if (access_is_national(read->who)) return FF_OK;
    return access_org_check(read->txn, read->store, read->who, org_code, field, read->failure);
}

ff_err query_org_covered(const query_read *read, const char *org_code, bool *covered_out) {
    *covered_out = true;
    if (access_is_national(read->who)) return FF_OK;
    return access_org_covered(read->txn, read->store, read->who, org_code, covered_out);
}

ff_err query_contract_in_scope(const query_read *read,
                               const Fundflow__V1__ContractRecord *contract, bool *covered_out) {
    *covered_out = true;
    if (access_is_national(read->who)) return FF_OK;
    return access_contract_covered(read->txn, read->store, read->who, contract, covered_out);
}

ff_err query_event_in_scope(const query_read *read, const Fundflow__V1__EventRecord *event,
                            bool *covered_out) {
    *covered_out = true;
    if (access_is_national(read->who)) return FF_OK;
    return access_event_covered(read->txn, read->store, read->who, event, covered_out);
}
