/* Organisations as the projections hold them: reading them, the kinds an event's parties must be,
 * and the registrations and updates that write them. */
#ifndef FUNDFLOW_PROJECTION_ORG_H
#define FUNDFLOW_PROJECTION_ORG_H

#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "projection_rule.h"
#include "store.h"
#include "fundflow/v1/projections.pb-c.h"

typedef Fundflow__V1__OrgKind org_kind;

/* Reads an organisation. The caller frees *org_out with fundflow__v1__org_record__free_unpacked.
 * Errors: FF_ERR_ORG_UNKNOWN, FF_ERR_STORAGE. */
ff_err projection_org_read(store_txn *txn, ff_store *store, const char *code,
                           Fundflow__V1__OrgRecord **org_out);

/* The name of an organisation kind, such as "ICB". */
const char *projection_kind_name(org_kind kind);

/* Reads the organisation in field and checks its kind is one of allowed (a list ending in 0).
 * On success the caller frees *org_out. */
ff_err projection_party_read(store_txn *txn, ff_store *store, const char *code, const char *field,
                             const org_kind *allowed, Fundflow__V1__OrgRecord **org_out,
                             ff_failure *failure);

/* Checks that the organisation in field is registered; the failure names the field. */
ff_err projection_org_exists(store_txn *txn, ff_store *store, const char *code, const char *field,
                             ff_failure *failure);

/* Checks that each member is registered and of a kind a grouping of kind may hold. */
ff_err projection_org_members_check(store_txn *txn, ff_store *store, org_kind kind,
                                    char *const *members, size_t member_count,
                                    ff_failure *failure);

#endif
