/* What the Reconcile RPC's files share: one keyed amount (a file row's or a ledger entry's), the
 * run that collects them, and the readers of each kind's ledger side (query_reconcile_ledger.c).
 * query_reconcile.c checks the request, adds the file's rows, groups both sides by key and fills
 * the four sections; the rules are on ReconcileRequest in proto/fundflow/v1/ledger.proto. */
#ifndef FUNDFLOW_QUERY_RECONCILE_H
#define FUNDFLOW_QUERY_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query_read.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Which key fields a reconciliation matches on; the others are blanked and summed over. */
typedef struct reconcile_keys {
    bool org, stream, measure, contract, month;
} reconcile_keys;

/* One amount under its key: a file row's (row is its index in the request) or a ledger entry's
 * (row is RECONCILE_LEDGER). */
#define RECONCILE_LEDGER SIZE_MAX
typedef struct reconcile_entry {
    char org_code[FF_ORG_CODE_BYTES_MAX + 1];
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    uint32_t stream, month, measure;
    int64_t amount_pence;
    size_t row;
} reconcile_entry;

typedef struct reconcile_run {
    const query_read *read;
    const Fundflow__V1__ReconcileRequest *request;
    reconcile_keys keys;
    uint64_t as_at_sequence; /* resolved: never 0 once the ledger holds an event */
    reconcile_entry *entries;
    size_t count, capacity;
} reconcile_run;

/* Adds an amount under a key, blanking the key fields the run does not match on. The strings are
 * copied; a code or id longer than its limit is a caller's error (asserted). */
ff_err reconcile_entry_add(reconcile_run *run, const char *org_code, uint32_t stream,
                           const char *contract_id, uint32_t month, uint32_t measure,
                           int64_t amount_pence, size_t row);

/* Whether a date is inside the request's window (always, when it has none). */
bool reconcile_in_window(const Fundflow__V1__ReconcileRequest *request, uint32_t date);

/* Each kind's ledger side, added to the run as ledger entries (only amounts other than 0). */
ff_err reconcile_ledger_allocations(reconcile_run *run);
ff_err reconcile_ledger_positions(reconcile_run *run);
ff_err reconcile_ledger_payments(reconcile_run *run);
ff_err reconcile_ledger_contracts(reconcile_run *run);

#endif
