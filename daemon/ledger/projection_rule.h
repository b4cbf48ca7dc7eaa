/* What each projection file lists for the events it holds: how to apply one, and how to undo one
 * for a reversal. projection.c finds an event's rule through these lists, so adding an event type
 * means adding its functions and a row to its file's list, and touching nothing else here.
 */
#ifndef FUNDFLOW_PROJECTION_RULE_H
#define FUNDFLOW_PROJECTION_RULE_H

#include "failure.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"

/* Checks record's event against the projections and writes its effects, history included. */
typedef ff_err (*projection_event_apply)(store_txn *txn, ff_store *store,
                                         const Fundflow__V1__EventRecord *record,
                                         ff_failure *failure);

/* Undoes target, an event of this kind, as record (a reversal) says. */
typedef ff_err (*projection_event_reverse)(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__EventRecord *record,
                                           const Fundflow__V1__EventRecord *target,
                                           ff_failure *failure);

typedef struct projection_event_rule {
    Fundflow__V1__Event__KindCase kind;
    projection_event_apply apply;
    projection_event_reverse reverse; /* NULL for an event that moves no money */
} projection_event_rule;

/* Each list ends with a row whose kind is FUNDFLOW__V1__EVENT__KIND__NOT_SET. */
extern const projection_event_rule projection_org_rules[];
extern const projection_event_rule projection_transfer_rules[];
extern const projection_event_rule projection_delegation_rules[];
extern const projection_event_rule projection_contract_rules[];
extern const projection_event_rule projection_period_rules[];
extern const projection_event_rule projection_principal_rules[];
extern const projection_event_rule projection_plan_rules[];
extern const projection_event_rule projection_limit_rules[];

#endif
