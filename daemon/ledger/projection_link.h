/* An organisation's links (parent, members, lead provider) as they stood on a date, read from the
 * effective-dated org_links table, for the ledger's scope rules and the query layer's
 * rollups. */
#ifndef FUNDFLOW_PROJECTION_LINK_H
#define FUNDFLOW_PROJECTION_LINK_H

#include <stdint.h>

#include "store.h"
#include "fundflow/v1/projections.pb-c.h"

/* Reads the links of code in force on date (YYYYMMDD): the latest version effective on or
 * before it. The caller frees *links_out with fundflow__v1__org_link_record__free_unpacked.
 * FF_ERR_NOT_FOUND if the organisation had no links by then (it is unregistered, or registered
 * later); FF_ERR_STORAGE (or another store failure) if the table cannot be read. */
ff_err projection_org_links_at(store_txn *txn, ff_store *store, const char *code, uint32_t date,
                               Fundflow__V1__OrgLinkRecord **links_out);

#endif
