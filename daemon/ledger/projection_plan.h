/* Organisations' expenditure plans (PlanSet) as the plans table keeps them: every revision, keyed
 * so that the plan in force as at a sequence is one seek. */
#ifndef FUNDFLOW_PROJECTION_PLAN_H
#define FUNDFLOW_PROJECTION_PLAN_H

#include <stdint.h>

#include "store.h"
#include "fundflow/limits.h"
#include "fundflow/v1/projections.pb-c.h"

/* The plans table's key: org code padded to FF_ORG_CODE_BYTES_MAX, year (2 bytes), stream
 * (1 byte), sequence (8 bytes), big-endian. */
#define PROJECTION_PLAN_KEY_BYTES (FF_ORG_CODE_BYTES_MAX + 2 + 1 + 8)

/* Reads the latest revision of the organisation's plan for a stream and year recorded at or
 * before as_at_sequence (UINT64_MAX for now). The caller frees *plan_out with
 * fundflow__v1__plan_record__free_unpacked. FF_ERR_NOT_FOUND if no plan had been set by then;
 * another error if the table cannot be read. */
ff_err projection_plan_read(store_txn *txn, ff_store *store, const char *org_code, uint32_t year,
                            uint32_t stream, uint64_t as_at_sequence,
                            Fundflow__V1__PlanRecord **plan_out);

#endif
