/* Applying one event to the projections: the state checks an event must pass, and the writes
 * that follow from it.
 *
 * The same function serves new commands and replays of the log, so a replay re-checks every rule
 * that held when the event was first recorded. Callers run it inside a write transaction and
 * abort that transaction (or its nested child) if it fails.
 */
#ifndef FUNDFLOW_PROJECTION_H
#define FUNDFLOW_PROJECTION_H

#include "account.h"
#include "command.h"
#include "failure.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

/* Checks record's event against the projections in txn and, if it passes, writes its effects:
 * organisations, accounts, balances, postings, reversals and the idempotency index. record's
 * sequence must be the next one in the log. The log itself is not written here. */
ff_err projection_apply(store_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure);

/* Reads an organisation. The caller frees *org_out with fundflow__v1__org_record__free_unpacked.
 * Errors: FF_ERR_ORG_UNKNOWN, FF_ERR_STORAGE. */
ff_err projection_org_read(store_txn *txn, ff_store *store, const char *code,
                           Fundflow__V1__OrgRecord **org_out);

/* The postings an event makes, for events that move money; *posting_count_out is 0 for others.
 * Reads organisations to tell NHS England's funding apart from a budget. */
ff_err projection_event_postings(store_txn *txn, ff_store *store, const Fundflow__V1__Event *event,
                                 posting *postings, size_t *posting_count_out,
                                 ff_failure *failure);

/* The idempotency index's entry for a key: the event recorded under it and the digest of the
 * command's content. */
typedef struct idempotency_record {
    uint64_t sequence;
    uint8_t content_digest[32];
} idempotency_record;
static_assert(sizeof(idempotency_record) == 40, "idempotency records are stored");

/* Looks up an idempotency key. Returns FF_OK and fills *record_out if the key is known,
 * FF_ERR_EVENT_UNKNOWN if it is not. */
ff_err projection_idempotency_read(store_txn *txn, ff_store *store, const char *idempotency_key,
                                   idempotency_record *record_out);

/* ---- shared by the projection files ---- */

typedef Fundflow__V1__OrgKind org_kind;

/* The name of an organisation kind, such as "ICB". */
const char *projection_kind_name(org_kind kind);

/* Reads the organisation in field and checks its kind is one of allowed (a list ending in 0).
 * On success the caller frees *org_out. */
ff_err projection_party_read(store_txn *txn, ff_store *store, const char *code, const char *field,
                             const org_kind *allowed, Fundflow__V1__OrgRecord **org_out,
                             ff_failure *failure);

/* Checks that the organisation in field is registered; the failure names the field. */
ff_err projection_org_exists(store_txn *txn, ff_store *store, const char *code, const char *field,
                             ff_failure *failure);

/* Records that event sequence concerns name (an organisation code or a contract id). */
ff_err projection_history_add(store_txn *txn, ff_store *store, const char *name,
                              uint64_t sequence);

/* Adds delta_pence to the money that has flowed from one organisation to another in a stream and
 * year (negative for a reversal). */
ff_err projection_flow_add(store_txn *txn, ff_store *store, uint32_t year, const char *from_code,
                           const char *to_code, uint32_t stream, int64_t delta_pence,
                           ff_failure *failure);

/* Writes a packed record under key; FF_ERR_KEY_EXISTS if mode is STORE_PUT_NEW and it exists. */
ff_err projection_message_put(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessage *message,
                              store_put_mode mode);

/* Reads and unpacks a record; FF_ERR_NOT_FOUND if the key is absent. */
ff_err projection_message_get(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessageDescriptor *descriptor,
                              ProtobufCMessage **message_out);

/* The domain events (projection_domain.c and projection_contract.c). */
ff_err projection_org_links_write(store_txn *txn, ff_store *store, const char *code,
                                  const Fundflow__V1__OrgRecord *org, uint32_t effective_from,
                                  uint64_t sequence);
ff_err projection_org_members_check(store_txn *txn, ff_store *store, org_kind kind,
                                     char *const *members, size_t member_count,
                                     ff_failure *failure);
ff_err projection_org_update(store_txn *txn, ff_store *store,
                             const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_service_line_register(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__EventRecord *record,
                                        ff_failure *failure);
ff_err projection_delegation_grant(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_delegation_revoke(store_txn *txn, ff_store *store,
                                    const Fundflow__V1__EventRecord *record, ff_failure *failure);
/* Checks an allocation's delegation_id: a delegation of the specialised stream's recipient. */
ff_err projection_allocation_delegation_check(store_txn *txn, ff_store *store,
                                              const Fundflow__V1__AllocationIssued *allocation,
                                              ff_failure *failure);
/* True (FF_OK) if commissioner holds a delegation of service_line on date. */
ff_err projection_delegation_held(store_txn *txn, ff_store *store, const char *commissioner,
                                  const char *service_line, uint32_t date, ff_failure *failure);
ff_err projection_statement_submit(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_period_close(store_txn *txn, ff_store *store,
                               const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_contract_agree(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_contract_vary(store_txn *txn, ff_store *store,
                                const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_payment_make(store_txn *txn, ff_store *store,
                               const Fundflow__V1__EventRecord *record, ff_failure *failure);
ff_err projection_outcome_report(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__EventRecord *record, ff_failure *failure);
/* Reverses a contract event (variation, payment or outcome report). */
ff_err projection_contract_event_reverse(store_txn *txn, ff_store *store,
                                         const Fundflow__V1__EventRecord *record,
                                         const Fundflow__V1__EventRecord *target,
                                         ff_failure *failure);
/* Reads a contract as it stands, or as at a sequence (UINT64_MAX: now). FF_ERR_CONTRACT_UNKNOWN
 * if there is none (then). */
ff_err projection_contract_read(store_txn *txn, ff_store *store, const char *contract_id,
                                uint64_t as_at_sequence, Fundflow__V1__ContractRecord **out);
/* An organisation code as keys store it (space padded to FF_ORG_CODE_BYTES_MAX) back into a
 * NUL-terminated code; code holds FF_ORG_CODE_BYTES_MAX + 1 bytes. */
void projection_code_unpad(const uint8_t *padded, char *code);

/* The periods table's key for an organisation's month; returns its length. */
size_t projection_period_key(const char *org_code, uint32_t year, uint32_t month, uint8_t *key);

/* The history key: name ++ 0 ++ sequence. */
size_t projection_history_key(const char *name, uint64_t sequence, uint8_t *key, size_t bytes);

#endif
