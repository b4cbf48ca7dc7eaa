/* Allocations and budgets passed on: the postings a transfer makes between two organisations. */
#ifndef FUNDFLOW_PROJECTION_TRANSFER_H
#define FUNDFLOW_PROJECTION_TRANSFER_H

#include <stddef.h>

#include "account.h"
#include "failure.h"
#include "projection_rule.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

/* The postings an event makes, for events that move money; *posting_count_out is 0 for others.
 * Reads organisations to tell NHS England's funding apart from a budget. */
ff_err projection_event_postings(store_txn *txn, ff_store *store, const Fundflow__V1__Event *event,
                                 posting *postings, size_t *posting_count_out,
                                 ff_failure *failure);

#endif
