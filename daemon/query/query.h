/* The ledger's read RPCs as plain functions: each takes a request message and builds a response
 * message, with no network code.
 *
 * Every handler has the same shape, so a server can dispatch through query_methods. A response is
 * freed with protobuf_c_message_free_unpacked(response, NULL). Handlers read through
 * ledger_read_txn_begin, so they may run on any thread while a writer commits.
 */
#ifndef FUNDFLOW_QUERY_H
#define FUNDFLOW_QUERY_H

#include <protobuf-c/protobuf-c.h>

#include "failure.h"
#include "ledger.h"
#include "fundflow/v1/ledger.pb-c.h"

typedef ff_err (*query_handler)(ff_ledger *ledger, const ProtobufCMessage *request,
                                ProtobufCMessage **response_out, ff_failure *failure);

typedef struct query_method {
    const char *name;  /* the RPC's name in the Ledger service, such as "GetOrg" */
    query_handler handler;
} query_method;

/* The read RPCs, ending with an entry whose name is NULL. */
extern const query_method query_methods[];

/* The handler for an RPC name, or NULL if it is not a read RPC. */
query_handler query_handler_find(const char *name);

ff_err query_org_get(ff_ledger *ledger, const ProtobufCMessage *request,
                     ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_orgs_list(ff_ledger *ledger, const ProtobufCMessage *request,
                       ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_position_get(ff_ledger *ledger, const ProtobufCMessage *request,
                          ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_account_history(ff_ledger *ledger, const ProtobufCMessage *request,
                             ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_events_list(ff_ledger *ledger, const ProtobufCMessage *request,
                         ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_event_get(ff_ledger *ledger, const ProtobufCMessage *request,
                       ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_verify(ff_ledger *ledger, const ProtobufCMessage *request,
                    ProtobufCMessage **response_out, ff_failure *failure);

ff_err query_contract_position(ff_ledger *ledger, const ProtobufCMessage *request,
                               ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_contracts_list(ff_ledger *ledger, const ProtobufCMessage *request,
                            ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_funding_flows(ff_ledger *ledger, const ProtobufCMessage *request,
                           ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_delegations(ff_ledger *ledger, const ProtobufCMessage *request,
                         ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_history(ff_ledger *ledger, const ProtobufCMessage *request,
                     ProtobufCMessage **response_out, ff_failure *failure);

/* Fills a position inside the caller's read transaction. position must be initialised with the
 * request's org code, stream, year, as-at date and rollup flag. */
ff_err query_position_read(store_txn *txn, ff_store *store,
                           const Fundflow__V1__GetPositionRequest *get,
                           Fundflow__V1__Position *position, ff_failure *failure);

#endif
