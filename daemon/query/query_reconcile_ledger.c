/* The ledger side of each kind of reconciliation, as at the run's sequence and inside the asker's
 * scope, read from the projections that keep history (the funders' history index and the
 * reversals table, positions as GetPosition reads them, contract states), never by a scan of the
 * whole log. Each adds only amounts other than 0; query_reconcile.c groups them. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "projection_contract.h"
#include "projection_org.h"
#include "projection_table.h"
#include "query_reconcile.h"
#include "fundflow/calendar.h"

typedef Fundflow__V1__ReconcileRequest reconcile_request;

/* ---- one name's events from the history index ---- */

/* Called for each event concerning name, recorded by the as-at sequence, dated inside the window
 * and not reversed by an event recorded by the sequence. */
typedef ff_err (*history_visit)(reconcile_run *run, const char *name,
                                const Fundflow__V1__EventRecord *record);

typedef struct history_walk {
    reconcile_run *run;
    const char *name;
    size_t prefix_bytes;
    history_visit visit;
} history_walk;

/* Whether the event was reversed by an event recorded by the as-at sequence. */
static ff_err event_reversed(const reconcile_run *run, uint64_t sequence, bool *reversed) {
    uint8_t key[LOG_KEY_BYTES];
    log_key_encode(sequence, key);
    store_slice value;
    ff_err err = store_get(run->read->txn, run->read->store, STORE_TABLE_REVERSALS,
                           STORE_SLICE(key, sizeof key), &value);
    *reversed = false;
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    if (value.bytes != LOG_KEY_BYTES) return FF_ERR_STORAGE;
    uint64_t reversing = log_key_decode(value.data);
    assert(reversing > sequence);
    *reversed = reversing <= run->as_at_sequence;
    return FF_OK;
}

static ff_err history_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value;
    history_walk *walk = argument;
    if (key.bytes != walk->prefix_bytes + LOG_KEY_BYTES) return FF_ERR_STORAGE;
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + walk->prefix_bytes);
    if (sequence > walk->run->as_at_sequence) {
        *stop = true; /* the index is in sequence order: the rest came later */
        return FF_OK;
    }
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = log_read(walk->run->read->txn, walk->run->read->store, sequence, &record);
    if (err != FF_OK) return err;
    bool reversed = false;
    if (reconcile_in_window(walk->run->request, record->effective_date)) {
        err = event_reversed(walk->run, sequence, &reversed);
        if (err == FF_OK && !reversed) err = walk->visit(walk->run, walk->name, record);
    }
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static ff_err history_walk_run(reconcile_run *run, const char *name, history_visit visit) {
    uint8_t prefix[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t bytes = projection_history_key(name, 0, prefix, sizeof prefix);
    history_walk walk = {.run = run, .name = name, .prefix_bytes = bytes - LOG_KEY_BYTES,
                         .visit = visit};
    return store_each(run->read->txn, run->read->store, STORE_TABLE_HISTORY,
                      STORE_SLICE(prefix, walk.prefix_bytes), history_row, &walk);
}

/* ---- allocations ---- */

/* An allocation the funder issued, for the year and stream, to a covered recipient. */
static ff_err allocation_visit(reconcile_run *run, const char *funder,
                               const Fundflow__V1__EventRecord *record) {
    if (record->event->kind_case != FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED) return FF_OK;
    const reconcile_request *request = run->request;
    const Fundflow__V1__AllocationIssued *allocation = record->event->allocation_issued;
    bool counts = strcmp(allocation->funder_code, funder) == 0 &&
                  allocation->financial_year == request->financial_year &&
                  (request->stream == 0 || allocation->stream == request->stream);
    ff_err err = FF_OK;
    if (counts) err = query_org_covered(run->read, allocation->recipient_code, &counts);
    if (err != FF_OK || !counts) return err;
    return reconcile_entry_add(run, allocation->recipient_code, (uint32_t)allocation->stream, "",
                               0, 0, allocation->amount_pence, RECONCILE_LEDGER);
}

/* The payers of the year's flows that are NHS England (the only funder an allocation may have),
 * each once: every funder of an allocation in the year is one of them, since a flow's row
 * outlives its reversal. Budgets passed on are flows too; their payers are not funders. */
typedef struct funder_list {
    const query_read *read;
    char (*codes)[FF_ORG_CODE_BYTES_MAX + 1];
    size_t count;
    char last[FF_ORG_CODE_BYTES_MAX + 1];
} funder_list;

static ff_err funder_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value, (void)stop;
    funder_list *list = argument;
    if (key.bytes < 2 + 2 * FF_ORG_CODE_BYTES_MAX + 1) return FF_ERR_STORAGE;
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    projection_code_unpad((const uint8_t *)key.data + 2, code);
    /* Keys sort by payer, so a payer seen before is the last one seen. */
    if (strcmp(list->last, code) == 0) return FF_OK;
    memcpy(list->last, code, sizeof code);
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(list->read->txn, list->read->store, code, &org);
    if (err != FF_OK) return err;
    bool funder = org->kind == FUNDFLOW__V1__ORG_KIND__NHSE;
    fundflow__v1__org_record__free_unpacked(org, NULL);
    if (!funder) return FF_OK;
    void *grown = realloc(list->codes, (list->count + 1) * sizeof *list->codes);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    list->codes = grown;
    memcpy(list->codes[list->count++], code, sizeof code);
    return FF_OK;
}

ff_err reconcile_ledger_allocations(reconcile_run *run) {
    uint32_t year = run->request->financial_year;
    uint8_t prefix[2] = {(uint8_t)(year >> 8), (uint8_t)year};
    funder_list funders = {.read = run->read};
    ff_err err = store_each(run->read->txn, run->read->store, STORE_TABLE_FLOWS,
                            STORE_SLICE(prefix, sizeof prefix), funder_row, &funders);
    for (size_t i = 0; err == FF_OK && i < funders.count; i++) {
        err = history_walk_run(run, funders.codes[i], allocation_visit);
    }
    free(funders.codes);
    return err;
}

/* ---- positions ---- */

/* The organisations the file names (sorted, each once), and the kinds they are of. */
typedef struct position_walk {
    reconcile_run *run;
    const char **named;
    size_t n_named;
    bool kinds[64];
} position_walk;

static int position_code_compare(const void *left, const void *right) {
    return strcmp(*(const char *const *)left, *(const char *const *)right);
}

static ff_err position_named_list(position_walk *walk) {
    const reconcile_request *request = walk->run->request;
    walk->named = malloc((request->n_rows + 1) * sizeof *walk->named);
    if (walk->named == NULL) return FF_ERR_NO_MEMORY;
    for (size_t i = 0; i < request->n_rows; i++) walk->named[i] = request->rows[i]->org_code;
    qsort(walk->named, request->n_rows, sizeof *walk->named, position_code_compare);
    for (size_t i = 0; i < request->n_rows; i++) {
        if (walk->n_named == 0 || strcmp(walk->named[walk->n_named - 1], walk->named[i]) != 0) {
            walk->named[walk->n_named++] = walk->named[i];
        }
    }
    return FF_OK;
}

static bool position_named(const position_walk *walk, const char *code) {
    return bsearch(&code, walk->named, walk->n_named, sizeof *walk->named,
                   position_code_compare) != NULL;
}

static ff_err position_measures_add(reconcile_run *run, const Fundflow__V1__Position *position) {
    const int64_t figures[] = {position->received_pence, position->passed_on_pence,
                               position->paid_pence};
    const uint32_t measures[] = {FUNDFLOW__V1__POSITION_MEASURE__MEASURE_RECEIVED,
                                 FUNDFLOW__V1__POSITION_MEASURE__MEASURE_PASSED_ON,
                                 FUNDFLOW__V1__POSITION_MEASURE__MEASURE_PAID};
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < sizeof figures / sizeof figures[0]; i++) {
        if (figures[i] == 0) continue;
        err = reconcile_entry_add(run, position->org_code, (uint32_t)position->stream, "", 0,
                                  measures[i], figures[i], RECONCILE_LEDGER);
    }
    return err;
}

/* GetPosition's figures for one organisation and stream, as at the sequence and date_to. */
static ff_err position_add(reconcile_run *run, const char *code, Fundflow__V1__Stream stream) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)code;
    get.stream = stream;
    get.financial_year = run->request->financial_year;
    get.as_at_sequence = run->as_at_sequence;
    get.as_at_date = run->request->date_to;
    Fundflow__V1__Position position = FUNDFLOW__V1__POSITION__INIT;
    position.org_code = (char *)code;
    position.stream = stream;
    position.financial_year = get.financial_year;
    position.as_at_date = get.as_at_date;
    ff_err err = query_position_read(run->read->txn, run->read->store, &get, &position,
                                     run->read->failure);
    if (err == FF_OK) err = position_measures_add(run, &position);
    for (size_t i = 0; i < position.n_included_codes; i++) free(position.included_codes[i]);
    free(position.included_codes);
    return err;
}

static ff_err position_org_add(reconcile_run *run, const char *code) {
    const ProtobufCEnumDescriptor *streams = &fundflow__v1__stream__descriptor;
    if (run->request->stream != 0) return position_add(run, code, run->request->stream);
    ff_err err = FF_OK;
    for (unsigned v = 0; err == FF_OK && v < streams->n_values; v++) {
        if (streams->values[v].value == 0) continue;
        err = position_add(run, code, (Fundflow__V1__Stream)streams->values[v].value);
    }
    return err;
}

static ff_err position_org_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)key, (void)stop;
    position_walk *walk = argument;
    Fundflow__V1__OrgRecord *org =
        fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_ERR_STORAGE;
    bool wanted = position_named(walk, org->code);
    ff_err err = FF_OK;
    bool kind_named = org->kind >= 0 && (size_t)org->kind < sizeof walk->kinds &&
                      walk->kinds[org->kind];
    if (!wanted && kind_named) {
        err = query_org_covered(walk->run->read, org->code, &wanted);
    }
    if (err == FF_OK && wanted) err = position_org_add(walk->run, org->code);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err;
}

/* The kinds of the organisations the file names that are registered. */
static ff_err position_kinds(position_walk *walk) {
    const query_read *read = walk->run->read;
    for (size_t i = 0; i < walk->n_named; i++) {
        const char *code = walk->named[i];
        if (code[0] == '\0') continue;
        store_slice value;
        ff_err err = store_get(read->txn, read->store, STORE_TABLE_ORGS,
                               STORE_SLICE(code, strlen(code)), &value);
        if (err == FF_ERR_NOT_FOUND) continue;
        if (err != FF_OK) return err;
        Fundflow__V1__OrgRecord *org =
            fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
        if (org == NULL) return FF_ERR_STORAGE;
        if (org->kind >= 0 && (size_t)org->kind < sizeof walk->kinds) walk->kinds[org->kind] = true;
        fundflow__v1__org_record__free_unpacked(org, NULL);
    }
    return FF_OK;
}

ff_err reconcile_ledger_positions(reconcile_run *run) {
    position_walk walk = {.run = run};
    ff_err err = position_named_list(&walk);
    if (err == FF_OK) err = position_kinds(&walk);
    if (err == FF_OK) {
        err = store_each(run->read->txn, run->read->store, STORE_TABLE_ORGS, QUERY_EVERY_KEY,
                         position_org_row, &walk);
    }
    free(walk.named);
    return err;
}

/* ---- payments and contracts ---- */

typedef ff_err (*contract_add)(reconcile_run *run, const Fundflow__V1__ContractRecord *contract);

typedef struct contract_walk {
    reconcile_run *run;
    contract_add add;
} contract_walk;

/* Whether a contract as at the sequence is the request's: its year, stream, commissioner and
 * provider, and inside the asker's scope. */
static ff_err contract_wanted(const reconcile_run *run,
                              const Fundflow__V1__ContractRecord *contract, bool *wanted) {
    const reconcile_request *request = run->request;
    *wanted = contract->financial_year == request->financial_year &&
              (request->stream == 0 || contract->stream == request->stream) &&
              (request->commissioner_code[0] == '\0' ||
               strcmp(contract->commissioner_code, request->commissioner_code) == 0) &&
              (request->provider_code[0] == '\0' ||
               strcmp(contract->provider_code, request->provider_code) == 0);
    if (!*wanted) return FF_OK;
    return query_contract_in_scope(run->read, contract, wanted);
}

static ff_err contract_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value, (void)stop;
    contract_walk *walk = argument;
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    if (key.bytes == 0 || key.bytes > FF_IDENTIFIER_BYTES_MAX) return FF_ERR_STORAGE;
    memcpy(contract_id, key.data, key.bytes);
    contract_id[key.bytes] = '\0';
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->run->read->txn, walk->run->read->store,
                                          contract_id, walk->run->as_at_sequence, &contract);
    /* A contract agreed after the as-at sequence did not exist then. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    bool wanted = false;
    err = contract_wanted(walk->run, contract, &wanted);
    if (err == FF_OK && wanted) err = walk->add(walk->run, contract);
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err contracts_walk(reconcile_run *run, contract_add add) {
    contract_walk walk = {.run = run, .add = add};
    return store_each(run->read->txn, run->read->store, STORE_TABLE_CONTRACTS, QUERY_EVERY_KEY,
                      contract_row, &walk);
}

static bool reconcile_windowed(const reconcile_request *request) {
    return request->date_from != 0 || request->date_to != 0;
}

/* A payment on the contract, dated in the window (history_row checked), for a month whose first
 * day is in it too. */
static ff_err payment_visit(reconcile_run *run, const char *contract_id,
                            const Fundflow__V1__EventRecord *record) {
    if (record->event->kind_case != FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE) return FF_OK;
    const Fundflow__V1__PaymentMade *payment = record->event->payment_made;
    uint32_t first_day = calendar_month_first_date(run->request->financial_year, payment->month);
    if (strcmp(payment->contract_id, contract_id) != 0 ||
        !reconcile_in_window(run->request, first_day)) {
        return FF_OK;
    }
    return reconcile_entry_add(run, "", 0, contract_id, payment->month, 0, payment->amount_pence,
                               RECONCILE_LEDGER);
}

/* Paid per month (payments less reversed payments). With a window, the contract's own payments
 * dated in it, for months whose first day is in it; without, the state's paid_by_month. */
static ff_err payments_add(reconcile_run *run, const Fundflow__V1__ContractRecord *contract) {
    if (reconcile_windowed(run->request)) {
        return history_walk_run(run, contract->contract_id, payment_visit);
    }
    assert(contract->n_paid_by_month_pence == FF_MONTHS_PER_YEAR);
    ff_err err = FF_OK;
    for (uint32_t m = 1; err == FF_OK && m <= FF_MONTHS_PER_YEAR; m++) {
        int64_t paid = contract->paid_by_month_pence[m - 1];
        uint32_t first_day = calendar_month_first_date(contract->financial_year, m);
        if (paid == 0 || !reconcile_in_window(run->request, first_day)) continue;
        err = reconcile_entry_add(run, "", 0, contract->contract_id, m, 0, paid,
                                  RECONCILE_LEDGER);
    }
    return err;
}

/* The contract's agreement and variations dated in the window (history_row checked). */
static ff_err contract_event_visit(reconcile_run *run, const char *contract_id,
                                   const Fundflow__V1__EventRecord *record) {
    int64_t amount = 0;
    if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED &&
        strcmp(record->event->contract_agreed->contract_id, contract_id) == 0) {
        amount = record->event->contract_agreed->annual_value_pence;
    } else if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED &&
               strcmp(record->event->contract_varied->contract_id, contract_id) == 0) {
        amount = record->event->contract_varied->change_pence;
    }
    if (amount == 0) return FF_OK;
    return reconcile_entry_add(run, "", 0, contract_id, 0, 0, amount, RECONCILE_LEDGER);
}

/* The value as agreed and varied: with a window, the agreement and variations dated in it;
 * without, the state's value. */
static ff_err contract_value_add(reconcile_run *run, const Fundflow__V1__ContractRecord *contract) {
    if (reconcile_windowed(run->request)) {
        return history_walk_run(run, contract->contract_id, contract_event_visit);
    }
    if (contract->value_pence == 0) return FF_OK;
    return reconcile_entry_add(run, "", 0, contract->contract_id, 0, 0, contract->value_pence,
                               RECONCILE_LEDGER);
}

ff_err reconcile_ledger_payments(reconcile_run *run) {
    return contracts_walk(run, payments_add);
}

ff_err reconcile_ledger_contracts(reconcile_run *run) {
    return contracts_walk(run, contract_value_add);
}
