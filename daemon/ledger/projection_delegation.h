/* Service lines and the delegations of commissioning that cover them: what allocations and
 * specialised contracts must check before they move money under a delegation. */
#ifndef FUNDFLOW_PROJECTION_DELEGATION_H
#define FUNDFLOW_PROJECTION_DELEGATION_H

#include <stdint.h>

#include "failure.h"
#include "projection_rule.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

/* Checks an allocation's delegation_id: a delegation of the specialised stream's recipient. */
ff_err projection_allocation_delegation_check(store_txn *txn, ff_store *store,
                                              const Fundflow__V1__AllocationIssued *allocation,
                                              ff_failure *failure);

/* FF_OK if commissioner holds a delegation of service_line on date; FF_ERR_NOT_DELEGATED if not. */
ff_err projection_delegation_held(store_txn *txn, ff_store *store, const char *commissioner,
                                  const char *service_line, uint32_t date, ff_failure *failure);

#endif
