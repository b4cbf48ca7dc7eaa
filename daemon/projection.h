/* Applying one event to the projections: the state checks an event must pass, and the writes
 * that follow from it.
 *
 * The same function serves new commands and replays of the log, so a replay re-checks every rule
 * that held when the event was first recorded. Callers run it inside a write transaction and
 * abort that transaction (or its nested child) if it fails.
 */
#ifndef FUNDFLOW_PROJECTION_H
#define FUNDFLOW_PROJECTION_H

#include <lmdb.h>

#include "account.h"
#include "failure.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

/* Checks record's event against the projections in txn and, if it passes, writes its effects:
 * organisations, accounts, balances, postings, reversals and the idempotency index. record's
 * sequence must be the next one in the log. The log itself is not written here. */
ff_err projection_apply(MDB_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure);

/* Reads an organisation. The caller frees *org_out with fundflow__v1__org_record__free_unpacked.
 * Errors: FF_ERR_ORG_UNKNOWN, FF_ERR_STORAGE. */
ff_err projection_org_read(MDB_txn *txn, ff_store *store, const char *code,
                           Fundflow__V1__OrgRecord **org_out);

/* The postings an event makes, for events that move money; *posting_count_out is 0 for others.
 * Reads organisations to tell NHS England's funding apart from a budget. */
ff_err projection_event_postings(MDB_txn *txn, ff_store *store, const Fundflow__V1__Event *event,
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
ff_err projection_idempotency_read(MDB_txn *txn, ff_store *store, const char *idempotency_key,
                                   idempotency_record *record_out);

#endif
