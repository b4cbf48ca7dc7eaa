/* Principals as the projections hold them: the principals table (name -> PrincipalRecord) and
 * the token index (SHA-256 of a token -> name), written by PrincipalGranted and PrincipalRevoked.
 * Neither event moves money, so neither can be reversed. */
#ifndef FUNDFLOW_PROJECTION_PRINCIPAL_H
#define FUNDFLOW_PROJECTION_PRINCIPAL_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "projection_rule.h"
#include "store.h"
#include "fundflow/v1/projections.pb-c.h"

/* Reads a principal by name. The caller frees *record_out with
 * fundflow__v1__principal_record__free_unpacked. Errors: FF_ERR_PRINCIPAL_UNKNOWN, or the
 * store's failure (never taken for "not there"). */
ff_err projection_principal_read(store_txn *txn, ff_store *store, const char *name,
                                 Fundflow__V1__PrincipalRecord **record_out);

/* The name the token index holds for a token's SHA-256, copied into name (which holds
 * FF_PRINCIPAL_NAME_BYTES_MAX + 1 bytes). FF_ERR_NOT_FOUND if no live principal holds it. */
ff_err projection_principal_token_name(store_txn *txn, ff_store *store, const uint8_t sha256[DIGEST_BYTES],
                                       char *name);

#endif
