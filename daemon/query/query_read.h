/* What every read RPC shares: one read transaction around filling a response, the page size a
 * request may ask for, a walk of a table's rows after a page token, the event a read is as at,
 * the organisations a filter names, and the scope checks of the principal asking.
 *
 * This is the query layer's leaf: each query_*.c file calls it and no other query file.
 */
#ifndef FUNDFLOW_QUERY_READ_H
#define FUNDFLOW_QUERY_READ_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "access.h"
#include "failure.h"
#include "ledger.h"

/* The prefix every key starts with, for store_each walks of a whole table. Its data is not NULL
 * because store_each compares prefixes with memcmp, which must not be given NULL even for no
 * bytes. */
#define QUERY_EVERY_KEY STORE_SLICE("", 0)

/* The snapshot a response is filled from, who asks (never NULL), and where a fill records why
 * it failed. */
typedef struct query_read {
    store_txn *txn;
    ff_store *store;
    const access_principal *who;
    ff_failure *failure;
} query_read;

/* Fills a response from one snapshot. *response is the message query_read_run allocated, or
 * NULL when it was given no type, in which case the fill sets *response to a message of its own.
 * A fill that fails may leave *response allocated: query_read_run frees it. */
typedef ff_err (*query_fill)(const query_read *read, const void *request,
                             ProtobufCMessage **response);

/* Runs a read RPC for who: allocates a response of response_type (unless it is NULL), begins a
 * read transaction, calls fill, ends the transaction, and hands the response to *response_out. On
 * failure it frees the response and, unless fill recorded this error itself, sets failure to
 * the error with the sentence failing. */
ff_err query_read_run_as(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessageDescriptor *response_type, query_fill fill,
                         const void *request, const char *failing,
                         ProtobufCMessage **response_out, ff_failure *failure);

/* query_read_run_as for a national principal, for callers whose fills filter nothing by scope
 * (the plugin host's listings and reports). */
ff_err query_read_run(ff_ledger *ledger, const ProtobufCMessageDescriptor *response_type,
                      query_fill fill, const void *request, const char *failing,
                      ProtobufCMessage **response_out, ff_failure *failure);

/* The rows a page holds: FF_PAGE_SIZE_DEFAULT when asked for 0, never more than
 * FF_PAGE_SIZE_MAX. */
size_t query_page_size(uint32_t asked);

/* Calls visit for each row of table whose key sorts after token (every row if token is empty),
 * in key order, until visit sets *stop or fails. A page token is the key of the last row of the
 * page before, so the row with exactly that key is skipped. */
ff_err query_rows_after(store_txn *txn, ff_store *store, store_table table, const char *token,
                        store_visit visit, void *argument);

/* Whether a stored key is exactly the text, as keys made from codes and ids are. */
bool query_key_is(store_slice key, const char *text);

/* ---- what a request names ---- */

/* The event a read is as at: asked, or the head of the log when asked is 0. An event beyond the
 * head is refused with FF_ERR_AS_AT_BEYOND_HEAD recorded in read->failure, naming
 * as_at_sequence and the head, rather than quietly read as the head. */
ff_err query_as_at_resolve(const query_read *read, uint64_t asked, uint64_t *as_at_out);

/* query_as_at_resolve for a handler that only needs the refusal. */
ff_err query_as_at_check(const query_read *read, uint64_t asked);

/* An organisation a filter names (field): for a national principal it must be registered, or
 * FF_ERR_ORG_UNKNOWN (not_found) naming field and code; for a scoped principal it must be in
 * scope, and an unknown code is out of scope like another's, so that scope cannot be used to
 * find out which codes exist. */
ff_err query_org_named(const query_read *read, const char *org_code, const char *field);

/* ---- scope (national principals pass each of these without a read) ---- */

/* FF_OK when the organisation is in the asker's scope; otherwise FF_ERR_OUT_OF_SCOPE recorded in
 * read->failure naming field (or a storage error). */
ff_err query_org_in_scope(const query_read *read, const char *org_code, const char *field);

/* Whether the asker's scope covers an organisation, a contract, or an event. */
ff_err query_org_covered(const query_read *read, const char *org_code, bool *covered_out);
ff_err query_contract_in_scope(const query_read *read,
                               const Fundflow__V1__ContractRecord *contract, bool *covered_out);
ff_err query_event_in_scope(const query_read *read, const Fundflow__V1__EventRecord *event,
                            bool *covered_out);

/* Records FF_ERR_OUT_OF_SCOPE in read->failure for a value of field, and returns it. */
ff_err query_out_of_scope(const query_read *read, const char *field, const char *value);

#endif
