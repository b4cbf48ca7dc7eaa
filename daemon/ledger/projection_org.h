/* Organisations as the projections hold them: reading them, the kinds an event's parties must be,
 * and the registrations and updates that write them. */
#ifndef FUNDFLOW_PROJECTION_ORG_H
#define FUNDFLOW_PROJECTION_ORG_H

#include <stdalign.h>
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

/* An organisation record decoded once and kept while its stored bytes stay the same: a transfer
 * reads the same two parties in nearly every command of a batch, and decoding them is most of
 * what reading them costs. Decoding depends only on the bytes, so a kept record is right in any
 * transaction, on any store; each thread keeps its own. Records small enough are decoded into the
 * slot's own memory; a larger one goes to the heap until projection_org_kept_release. */
enum { PROJECTION_ORG_KEPT_STORED_BYTES = 512, PROJECTION_ORG_KEPT_ARENA_BYTES = 2048 };
typedef struct projection_org_kept {
    size_t stored_bytes; /* of stored; 0 when nothing is kept */
    uint8_t stored[PROJECTION_ORG_KEPT_STORED_BYTES];
    Fundflow__V1__OrgRecord *org;  /* decoded from stored, in arena */
    Fundflow__V1__OrgRecord *heap; /* a record too large to keep, until released */
    size_t arena_used;
    _Alignas(max_align_t) uint8_t arena[PROJECTION_ORG_KEPT_ARENA_BYTES];
} projection_org_kept;

/* projection_party_read through kept: *org_out is kept's, valid until kept is next used or
 * released. Call projection_org_kept_release(kept) when done with it, whatever the result. */
ff_err projection_party_read_kept(store_txn *txn, ff_store *store, const char *code,
                                  const char *field, const org_kind *allowed,
                                  projection_org_kept *kept,
                                  const Fundflow__V1__OrgRecord **org_out, ff_failure *failure);
void projection_org_kept_release(projection_org_kept *kept);

/* How many times this thread has started to write an organisation or its links (only
 * differences count): what is worked out from them and kept, such as a principal's scope
 * (access.c), is worked out again after any. */
uint64_t projection_org_writes(void);

/* Checks that the organisation in field is registered; the failure names the field. */
ff_err projection_org_exists(store_txn *txn, ff_store *store, const char *code, const char *field,
                             ff_failure *failure);

/* Checks that each member is registered and of a kind a grouping of kind may hold. */
ff_err projection_org_members_check(store_txn *txn, ff_store *store, org_kind kind,
                                    char *const *members, size_t member_count,
                                    ff_failure *failure);

#endif
