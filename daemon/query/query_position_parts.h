/* The parts of a position that need more than an account balance: one contract's figures as at
 * a sequence and date, and the flows inside a rollup's group. The query_position*.c files use
 * it, and query_contracts.c its dated sums. */
#ifndef FUNDFLOW_QUERY_POSITION_PARTS_H
#define FUNDFLOW_QUERY_POSITION_PARTS_H

#include <stdbool.h>
#include <stdint.h>

#include "query_read.h"
#include "store.h"
#include "fundflow/v1/ledger.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

/* One contract's figures, as its commissioner's accounts would hold them for it:
 * value = unpaid + paid + withheld + earned; released pots are no longer part of it. */
typedef struct query_contract_figures {
    int64_t unpaid_pence;
    int64_t paid_pence;
    int64_t withheld_pence;
    int64_t earned_pence;
    int64_t released_pence;
} query_contract_figures;

/* The contract's figures counting what was recorded by as_at_sequence (the contract as read at
 * it) and, if as_at_date is not 0, took effect on or before as_at_date. */
ff_err query_contract_figures_at(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__ContractRecord *contract,
                                 uint64_t as_at_sequence, uint32_t as_at_date,
                                 query_contract_figures *out);

/* A contract's variations and payments (in all and by month, M1 first) recorded by
 * as_at_sequence that took effect on or before as_at_date, reversals taken away. Also used by
 * query_contracts.c for GetContractPosition's as_at_date. */
typedef struct query_contract_dated_sums {
    int64_t variations_pence;
    int64_t paid_pence;
    int64_t paid_by_month_pence[12];
} query_contract_dated_sums;

ff_err query_contract_dated_read(store_txn *txn, ff_store *store, const char *contract_id,
                                 uint64_t as_at_sequence, uint32_t as_at_date,
                                 query_contract_dated_sums *out);

/* Narrows a contract read as at a sequence to what took effect on or before date: variations,
 * payments (in all and by month) and outcome reports dated later are left out, so its value,
 * paid, earned and released are the ones the ledger knew on that date. A contract agreed after
 * date is FF_ERR_CONTRACT_UNKNOWN, failure naming as_at_date. GetContractPosition, GetOutturn
 * and the plugins' contract reads share it. */
ff_err query_contract_dated_narrow(store_txn *txn, ff_store *store,
                                   Fundflow__V1__ContractRecord *contract, uint64_t as_at,
                                   uint32_t date, ff_failure *failure);

/* The latest plan for the organisation, year and stream set by as_at_sequence whose PlanSet is
 * dated on or before as_at_date (0: any date), as projection_plan_read: FF_ERR_NOT_FOUND when
 * there was none. */
ff_err query_plan_read_dated(store_txn *txn, ff_store *store, const char *org_code, uint32_t year,
                             uint32_t stream, uint64_t as_at_sequence, uint32_t as_at_date,
                             Fundflow__V1__PlanRecord **plan_out);

/* unpaid + paid + withheld + earned, overflow-checked. */
ff_err query_contract_figures_value(const query_contract_figures *figures, int64_t *value_out);

/* Adds each figure of add to *sum, overflow-checked. */
ff_err query_contract_figures_add(query_contract_figures *sum, const query_contract_figures *add);

/* The flows between members of a rollup's group (position->included_codes) in its stream and
 * year, as at its sequence and date. */
typedef struct query_group_internal {
    int64_t transfers_pence;         /* allocations and budgets from one member to another */
    query_contract_figures contracts; /* contracts whose both parties are members */
} query_group_internal;

ff_err query_group_internal_read(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__Position *position,
                                 query_group_internal *out);

/* Fills position->contracts, commissioner_totals and contracts_total with the contracts on which
 * position->org_code is the provider in its year (and stream, unless unspecified) that the
 * asker's scope covers, as at the position's sequence and date. */
ff_err query_provider_contracts_fill(const query_read *read, Fundflow__V1__Position *position);

#endif
