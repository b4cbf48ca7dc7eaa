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

/* Reads a contract as it stands into this thread's kept contract, for the access check of the
 * command at hand; the command's projection then takes that decoding instead of decoding the
 * contract again, if the contract's stored bytes are still the same (projection_table.h).
 * Only one is kept: *out is valid until the next read, the projection's taking it or
 * projection_kept_release. Errors as
 * projection_contract_read's. */
ff_err projection_contract_read_kept(store_txn *txn, ff_store *store, const char *contract_id,
                                     const Fundflow__V1__ContractRecord **out);

/* Frees the thread's kept contract (projection_kept_release calls it). */
void projection_contract_kept_release(void);

#endif
