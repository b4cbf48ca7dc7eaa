/* The ledger's read RPCs as plain functions: each takes the principal asking and a request
 * message, and builds a response message, with no network code.
 *
 * Every handler has the same shape, so a server can dispatch through query_methods. A response is
 * freed with protobuf_c_message_free_unpacked(response, NULL). Handlers read through
 * ledger_read_txn_begin, so they may run on any thread while a writer commits.
 *
 * Scope. who is never NULL: a transport passes the principal it authenticated, and offline
 * callers one made by access_principal_bootstrap. Whether who may call the RPC at all is the
 * transport's check (access_method_check); what the answer may hold is the handler's, by
 * access.h's rules. A national principal is never filtered and costs no extra reads. For a
 * scoped one:
 *   - GetOrg, ListOrgs and GetDelegations are reference data and answer in full.
 *   - GetPosition and GetAccountHistory refuse an organisation outside the scope with
 *     FF_ERR_OUT_OF_SCOPE (field org_code); a rollup of a covered organisation is answered.
 *   - GetContractPosition refuses a contract outside the scope (field contract_id); a contract
 *     that does not exist is refused the same way, so ids cannot be probed.
 *   - ListContracts refuses a commissioner_code, provider_code or collaborative_code outside the
 *     scope (that field), and lists only covered contracts. Its pages stay full: the walk goes on
 *     past contracts it leaves out, so a page is short only when it is the last.
 *   - GetFundingFlows refuses a root_code outside the scope; an empty root means the scope's own
 *     organisation (not NHS England). The walk follows money only out of covered organisations.
 *   - GetEvent refuses an event outside the scope (field sequence). ListEvents and GetHistory list
 *     only covered events, examining at most FF_SCAN_ROWS_MAX events per reply: a page can then
 *     be short, even empty, and still carry next_after_sequence; a client pages on until it is 0.
 *   - GetHistory by name refuses an organisation or contract outside the scope (field name). By
 *     actor it needs an admin, an auditor or the actor itself (else FF_ERR_PERMISSION_DENIED).
 *   - Reconcile refuses a row naming an organisation or contract outside the scope (field
 *     rows[i].org_code or rows[i].contract_id; a contract that does not exist likewise), and its
 *     ledger side holds only what the scope covers.
 *   - VerifyLedger and ListPrincipals are for admins and auditors, whom the method table
 *     (access_methods) alone lets in; they do not look at who.
 */
#ifndef FUNDFLOW_QUERY_H
#define FUNDFLOW_QUERY_H

#include <protobuf-c/protobuf-c.h>

#include "access.h"
#include "failure.h"
#include "ledger.h"
#include "signed_head.h"
#include "fundflow/v1/ledger.pb-c.h"

typedef ff_err (*query_handler)(ff_ledger *ledger, const access_principal *who,
                                const ProtobufCMessage *request, ProtobufCMessage **response_out,
                                ff_failure *failure);

typedef struct query_method {
    const char *name;  /* the RPC's name in the Ledger service, such as "GetOrg" */
    query_handler handler;
} query_method;

/* The read RPCs, ending with an entry whose name is NULL. */
extern const query_method query_methods[];

/* The handler for an RPC name, or NULL if it is not a read RPC. */
query_handler query_handler_find(const char *name);

/* The handlers, one per read RPC (see query_methods for which is which). */
ff_err query_org_get(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure);
ff_err query_orgs_list(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure);
ff_err query_position_get(ff_ledger *ledger, const access_principal *who,
                          const ProtobufCMessage *request, ProtobufCMessage **response_out,
                          ff_failure *failure);
ff_err query_account_history(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure);
ff_err query_events_list(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessage *request, ProtobufCMessage **response_out,
                         ff_failure *failure);
/* WatchEvents without its wait: the page after after_sequence at once (query_events_list's
 * rules), with the head and next_after_sequence, the last sequence examined. */
ff_err query_events_watch(ff_ledger *ledger, const access_principal *who,
                          const ProtobufCMessage *request, ProtobufCMessage **response_out,
                          ff_failure *failure);
ff_err query_event_get(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure);
ff_err query_verify_handler(ff_ledger *ledger, const access_principal *who,
                            const ProtobufCMessage *request, ProtobufCMessage **response_out,
                            ff_failure *failure);
ff_err query_contract_position(ff_ledger *ledger, const access_principal *who,
                               const ProtobufCMessage *request, ProtobufCMessage **response_out,
                               ff_failure *failure);
ff_err query_contracts_list(ff_ledger *ledger, const access_principal *who,
                            const ProtobufCMessage *request, ProtobufCMessage **response_out,
                            ff_failure *failure);
ff_err query_funding_flows(ff_ledger *ledger, const access_principal *who,
                           const ProtobufCMessage *request, ProtobufCMessage **response_out,
                           ff_failure *failure);
ff_err query_delegations(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessage *request, ProtobufCMessage **response_out,
                         ff_failure *failure);
ff_err query_history(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure);
ff_err query_principals_list(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure);
ff_err query_outturn(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure);
ff_err query_reconcile(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure);

/* Verifies the ledger (VerifyLedger) for a caller that has already let the principal in, such as
 * a server running it off its event loop; request may be NULL. query_verify_handler is this in
 * the handlers' shape. */
ff_err query_verify(ff_ledger *ledger, const ProtobufCMessage *request,
                    ProtobufCMessage **response_out, ff_failure *failure);

/* Fills a position inside the caller's read transaction. position must be initialised with the
 * request's org code, stream, year, as-at date and rollup flag. It checks no scope: a caller
 * acting for a principal checks the organisation first. */
ff_err query_position_read(store_txn *txn, ff_store *store,
                           const Fundflow__V1__GetPositionRequest *get,
                           Fundflow__V1__Position *position, ff_failure *failure);

/* The tree RPCs (query_tree.c): GetSignedHead, GetInclusionProof, GetConsistencyProof. */
ff_err query_signed_head_get(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure);
ff_err query_inclusion_proof_get(ff_ledger *ledger, const access_principal *who,
                                 const ProtobufCMessage *request,
                                 ProtobufCMessage **response_out, ff_failure *failure);
ff_err query_consistency_proof_get(ff_ledger *ledger, const access_principal *who,
                                   const ProtobufCMessage *request,
                                   ProtobufCMessage **response_out, ff_failure *failure);

/* A signed head as a message whose fields point into head (nothing to free). */
void query_signed_head_view(const signed_head *head, Fundflow__V1__SignedTreeHead *view);

#endif
