/* Inside the ledger: what ledger.c lends ledger_replica.c, so that a sealed group is applied by
 * exactly the code that commits a group, and a replicated event meets the same projection hook.
 * Not for other layers: they use ledger.h and ledger_replica.h.
 */
#ifndef FUNDFLOW_LEDGER_GROUP_H
#define FUNDFLOW_LEDGER_GROUP_H

#include "ledger.h"

/* Called inside a group's write transaction once every batch has been applied, with the head
 * before the group and after it; it may read txn. It may be called more than once for one group
 * (when the map is grown and the group tried again): each call starts afresh. */
typedef ff_err (*ledger_group_seal)(void *argument, store_txn *txn, ff_store *store,
                                    const log_head *before, const log_head *after);

/* ledger_batches_apply, except that with seal not NULL the group's transaction is abandoned
 * instead of committed, after seal has been called in it. */
ff_err ledger_batches_run(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                          ledger_result *const *results, ledger_group_seal seal,
                          void *seal_argument);

/* Runs the projection hook (ledger_project_set), if one is installed, for an event already
 * applied to the projections inside txn. */
ff_err ledger_project_run(ff_ledger *ledger, store_txn *txn,
                          const Fundflow__V1__EventRecord *record);

#endif
