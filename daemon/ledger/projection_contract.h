/* Contracts between commissioners and providers: their agreement, variations, payments and
 * outcome reports, as the projections hold them. */
#ifndef FUNDFLOW_PROJECTION_CONTRACT_H
#define FUNDFLOW_PROJECTION_CONTRACT_H

#include <stdint.h>

#include "projection_rule.h"
#include "store.h"
#include "fundflow/v1/projections.pb-c.h"

/* Reads a contract as it stands, or as at a sequence (UINT64_MAX: now). FF_ERR_CONTRACT_UNKNOWN
 * if there is none (then). The caller frees *out with
 * fundflow__v1__contract_record__free_unpacked. */
ff_err projection_contract_read(store_txn *txn, ff_store *store, const char *contract_id,
                                uint64_t as_at_sequence, Fundflow__V1__ContractRecord **out);

#endif
