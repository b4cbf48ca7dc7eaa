/* Applying one event to the projections: the state checks an event must pass, and the writes
 * that follow from it.
 *
 * The same function serves new commands and replays of the log, so a replay re-checks every rule
 * that held when the event was first recorded. Callers run it inside a write transaction and
 * abort that transaction (or its nested child) if it fails.
 *
 * The projections are split by what they hold, each file calling only those listed before it:
 *
 *     projection_table.c       packed records, history, flows, padded codes, periods (a leaf)
 *     projection_org.c         organisations and their kinds
 *     projection_delegation.c  service lines and delegations
 *     projection_transfer.c    allocations and budgets passed on
 *     projection_contract.c    contracts, payments and outcomes
 *     projection_period.c      statements and period closes
 *     projection.c             finding an event's rule, reversals, the idempotency index
 *
 * This header includes the others, so that one include gives a caller all of them.
 */
#ifndef FUNDFLOW_PROJECTION_H
#define FUNDFLOW_PROJECTION_H

#include <assert.h>
#include <stdint.h>

#include "account.h"
#include "command.h"
#include "failure.h"
#include "projection_contract.h"
#include "projection_delegation.h"
#include "projection_org.h"
#include "projection_rule.h"
#include "projection_table.h"
#include "projection_transfer.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

/* Checks record's event against the projections in txn and, if it passes, writes its effects:
 * organisations, accounts, balances, postings, reversals and the idempotency index. record's
 * sequence must be the next one in the log. The log itself is not written here. */
ff_err projection_apply(store_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure);

/* Reads logged event sequence into this thread's kept event, for the access check of a reversal;
 * the reversal's projection then takes that decoding instead of decoding the event again, if its
 * stored bytes are still the same (projection_table.h). Only one is kept: *out is valid until the
 * next read, the projection's taking it or projection_kept_release. Errors as log_read's. */
ff_err projection_event_read_kept(store_txn *txn, ff_store *store, uint64_t sequence,
                                  const Fundflow__V1__EventRecord **out);

/* Frees what this thread keeps for a command's projection: the event and the contract an access
 * check read. The ledger calls it as each group's try ends. */
void projection_kept_release(void);

/* What the idempotency index says of a key: the event recorded under it and the digest of the
 * command's content. Layout 1 stored these 40 bytes; layout 2 stores the sequence alone and
 * works the digest out from the logged event when it is read. */
typedef struct idempotency_record {
    uint64_t sequence;
    uint8_t content_digest[32];
} idempotency_record;
static_assert(sizeof(idempotency_record) == 40, "layout 1 stored idempotency records as they are");

/* Looks up an idempotency key. Returns FF_OK and fills *record_out if the key is known (reading
 * and digesting the event it names), FF_ERR_EVENT_UNKNOWN if it is not, FF_ERR_STORAGE if the
 * entry or the event it names is not what the index holds. */
ff_err projection_idempotency_read(store_txn *txn, ff_store *store, const char *idempotency_key,
                                   idempotency_record *record_out);

#endif
