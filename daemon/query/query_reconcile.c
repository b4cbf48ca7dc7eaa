/* Reconcile: compares rows from outside the ledger with the ledger as at a sequence. This file
 * checks the request, adds the file's rows, groups both sides by the match keys and sorts every
 * key into matched, differences, file only and ledger only, with totals; each kind's ledger side
 * is read in query_reconcile_ledger.c. The rules are on ReconcileRequest in ledger.proto. */
#include "query.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_field.h"
#include "log.h"
#include "projection_contract.h"
#include "query_reconcile.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"

typedef Fundflow__V1__ReconcileRequest reconcile_request;
typedef Fundflow__V1__ReconcileRow reconcile_row;
typedef Fundflow__V1__ReconcileSection reconcile_section;
typedef Fundflow__V1__ReconcileLine reconcile_line;

/* A failure's field is not copied, so a field naming a row ("rows[3].org_code") is written here.
 * It stays valid until the next Reconcile on the same thread, and a handler's failure is read
 * before its thread takes another request. */
static _Thread_local char reconcile_field_text[48];

static const char *reconcile_row_field(size_t row, const char *name) {
    snprintf(reconcile_field_text, sizeof reconcile_field_text, "rows[%zu]%s%s", row,
             name[0] != '\0' ? "." : "", name);
    return reconcile_field_text;
}

/* ---- match keys ---- */

/* The key names, in the order every reply lists them. */
static const char *const reconcile_key_names[] = {"org", "stream", "measure", "contract", "month"};
#define RECONCILE_KEY_COUNT (sizeof reconcile_key_names / sizeof reconcile_key_names[0])

static bool *reconcile_key_flag(reconcile_keys *keys, size_t index) {
    bool *const flags[RECONCILE_KEY_COUNT] = {&keys->org, &keys->stream, &keys->measure,
                                              &keys->contract, &keys->month};
    return flags[index];
}

/* Every key field of a kind, and those it always matches on. */
static reconcile_keys reconcile_kind_keys(int kind, bool always) {
    switch (kind) {
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_ALLOCATIONS:
        return (reconcile_keys){.org = !always, .stream = !always};
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_POSITIONS:
        return (reconcile_keys){.org = !always, .stream = !always, .measure = true};
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_PAYMENTS:
        return (reconcile_keys){.contract = true, .month = !always};
    default:
        return (reconcile_keys){.contract = true};
    }
}

static ff_err reconcile_keys_parse(const reconcile_request *request, reconcile_keys *keys,
                                   ff_failure *failure) {
    reconcile_keys allowed = reconcile_kind_keys(request->kind, false);
    if (request->n_match_keys == 0) {
        *keys = allowed;
        return FF_OK;
    }
    *keys = reconcile_kind_keys(request->kind, true);
    for (size_t i = 0; i < request->n_match_keys; i++) {
        size_t k = 0;
        while (k < RECONCILE_KEY_COUNT && strcmp(request->match_keys[i], reconcile_key_names[k]))
            k++;
        if (k == RECONCILE_KEY_COUNT || !*reconcile_key_flag(&allowed, k)) {
            return failure_set(failure, FF_ERR_MATCH_KEY_UNKNOWN, "match_keys",
                               "match key \"%.40s\" is not a key of this kind (allocations: org, "
                               "stream; positions: org, stream, measure; payments: contract, "
                               "month; contracts: contract)",
                               request->match_keys[i]);
        }
        *reconcile_key_flag(keys, k) = true;
    }
    return FF_OK;
}

/* ---- the request ---- */

static ff_err reconcile_window_check(const reconcile_request *request, ff_failure *failure) {
    if (request->date_from != 0 && !calendar_date_valid(request->date_from)) {
        return failure_set(failure, FF_ERR_DATE_INVALID, "date_from",
                           "date_from %u is not a date YYYYMMDD", request->date_from);
    }
    if (request->date_to != 0 && !calendar_date_valid(request->date_to)) {
        return failure_set(failure, FF_ERR_DATE_INVALID, "date_to",
                           "date_to %u is not a date YYYYMMDD", request->date_to);
    }
    if (request->date_from != 0 && request->date_to != 0 && request->date_from > request->date_to) {
        return failure_set(failure, FF_ERR_WINDOW_ORDER, "date_from",
                           "date_from %u is after date_to %u", request->date_from,
                           request->date_to);
    }
    return FF_OK;
}

static ff_err reconcile_enum_check(const ProtobufCEnumDescriptor *descriptor, int value,
                                   const char *field, ff_failure *failure) {
    if (value == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    return command_enum_check(descriptor, value, field, failure);
}

/* The fields a row needs for the keys matched on, and its year. */
static ff_err reconcile_row_check(const reconcile_request *request, const reconcile_keys *keys,
                                  size_t i, ff_failure *failure) {
    const reconcile_row *row = request->rows[i];
    ff_err err = FF_OK;
    if (row->financial_year != 0 && row->financial_year != request->financial_year) {
        return failure_set(failure, FF_ERR_ROW_YEAR_MISMATCH, reconcile_row_field(i, ""),
                           "row %zu (line %u) is for %u, not the reconciliation's year %u", i,
                           row->line, row->financial_year, request->financial_year);
    }
    if (keys->org) {
        err = command_org_code_check(row->org_code, reconcile_row_field(i, "org_code"), true,
                                     failure);
    }
    if (err == FF_OK && keys->stream) {
        err = reconcile_enum_check(&fundflow__v1__stream__descriptor, row->stream,
                                   reconcile_row_field(i, "stream"), failure);
    }
    if (err == FF_OK && keys->measure) {
        err = reconcile_enum_check(&fundflow__v1__position_measure__descriptor, row->measure,
                                   reconcile_row_field(i, "measure"), failure);
    }
    if (err == FF_OK && keys->contract) {
        err = command_identifier_check(row->contract_id, reconcile_row_field(i, "contract_id"),
                                       failure);
    }
    if (err == FF_OK && keys->month && (row->month < 1 || row->month > FF_MONTHS_PER_YEAR)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, reconcile_row_field(i, "month"),
                          "month %u must be 1 (M1, April) to %d (M12, March)", row->month,
                          FF_MONTHS_PER_YEAR);
    }
    if (err == FF_OK && row->reference != NULL && strlen(row->reference) > FF_REFERENCE_BYTES_MAX) {
        err = failure_set(failure, FF_ERR_FIELD_TOO_LONG, reconcile_row_field(i, "reference"),
                          "a reference is at most %d bytes", FF_REFERENCE_BYTES_MAX);
    }
    return err;
}

static ff_err reconcile_request_check(const reconcile_request *request, reconcile_keys *keys,
                                      ff_failure *failure) {
    ff_err err = reconcile_enum_check(&fundflow__v1__reconcile_kind__descriptor, request->kind,
                                      "kind", failure);
    if (err == FF_OK) err = command_year_check(request->financial_year, failure);
    if (err == FF_OK && request->n_rows > FF_RECONCILE_ROWS_MAX) {
        err = failure_set(failure, FF_ERR_RECONCILE_TOO_MANY_ROWS, "rows",
                          "%zu rows; one reconciliation compares at most %d", request->n_rows,
                          FF_RECONCILE_ROWS_MAX);
    }
    if (err == FF_OK && request->tolerance_pence < 0) {
        err = failure_set(failure, FF_ERR_TOLERANCE_NEGATIVE, "tolerance_pence",
                          "tolerance_pence %" PRId64 " is below 0", request->tolerance_pence);
    }
    if (err == FF_OK && request->stream != 0) {
        err = command_enum_check(&fundflow__v1__stream__descriptor, request->stream, "stream",
                                 failure);
    }
    if (err == FF_OK && request->commissioner_code[0] != '\0') {
        err = command_org_code_check(request->commissioner_code, "commissioner_code", false,
                                     failure);
    }
    if (err == FF_OK && request->provider_code[0] != '\0') {
        err = command_org_code_check(request->provider_code, "provider_code", false, failure);
    }
    if (err == FF_OK) err = reconcile_window_check(request, failure);
    if (err == FF_OK) err = reconcile_keys_parse(request, keys, failure);
    for (size_t i = 0; err == FF_OK && i < request->n_rows; i++) {
        err = reconcile_row_check(request, keys, i, failure);
    }
    return err;
}

/* ---- entries ---- */

bool reconcile_in_window(const reconcile_request *request, uint32_t date) {
    return (request->date_from == 0 || date >= request->date_from) &&
           (request->date_to == 0 || date <= request->date_to);
}

ff_err reconcile_entry_add(reconcile_run *run, const char *org_code, uint32_t stream,
                           const char *contract_id, uint32_t month, uint32_t measure,
                           int64_t amount_pence, size_t row) {
    if (run->count == run->capacity) {
        size_t capacity = run->capacity != 0 ? run->capacity * 2 : 64;
        reconcile_entry *grown = realloc(run->entries, capacity * sizeof *grown);
        if (grown == NULL) return FF_ERR_NO_MEMORY;
        run->entries = grown, run->capacity = capacity;
    }
    reconcile_entry *entry = &run->entries[run->count++];
    memset(entry, 0, sizeof *entry);
    if (run->keys.org) {
        assert(strlen(org_code) <= FF_ORG_CODE_BYTES_MAX);
        strcpy(entry->org_code, org_code);
    }
    if (run->keys.contract) {
        assert(strlen(contract_id) <= FF_IDENTIFIER_BYTES_MAX);
        strcpy(entry->contract_id, contract_id);
    }
    entry->stream = run->keys.stream ? stream : 0;
    entry->month = run->keys.month ? month : 0;
    entry->measure = run->keys.measure ? measure : 0;
    entry->amount_pence = amount_pence;
    entry->row = row;
    return FF_OK;
}

static int reconcile_key_compare(const reconcile_entry *a, const reconcile_entry *b) {
    int order = strcmp(a->org_code, b->org_code);
    if (order == 0) order = (a->stream > b->stream) - (a->stream < b->stream);
    if (order == 0) order = strcmp(a->contract_id, b->contract_id);
    if (order == 0) order = (a->month > b->month) - (a->month < b->month);
    if (order == 0) order = (a->measure > b->measure) - (a->measure < b->measure);
    return order;
}

/* Key order, then the file's rows in request order, then the ledger's entries. */
static int reconcile_entry_compare(const void *left, const void *right) {
    const reconcile_entry *a = left, *b = right;
    int order = reconcile_key_compare(a, b);
    if (order == 0) order = (a->row > b->row) - (a->row < b->row);
    return order;
}

/* A row naming an organisation or contract outside the asker's scope is refused; a contract that
 * does not exist is refused the same way, so ids cannot be probed. */
static ff_err reconcile_row_scope(reconcile_run *run, size_t i) {
    const query_read *read = run->read;
    const reconcile_row *row = run->request->rows[i];
    bool covered = true;
    ff_err err = FF_OK;
    if (run->keys.org) {
        err = query_org_covered(read, row->org_code, &covered);
        if (err == FF_OK && !covered) {
            return query_out_of_scope(read, reconcile_row_field(i, "org_code"), row->org_code);
        }
    }
    if (err != FF_OK || !run->keys.contract) return err;
    Fundflow__V1__ContractRecord *contract = NULL;
    err = projection_contract_read(read->txn, read->store, row->contract_id, UINT64_MAX,
                                   &contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) {
        covered = false, err = FF_OK;
    } else if (err == FF_OK) {
        err = query_contract_in_scope(read, contract, &covered);
        fundflow__v1__contract_record__free_unpacked(contract, NULL);
    }
    if (err == FF_OK && !covered) {
        return query_out_of_scope(read, reconcile_row_field(i, "contract_id"), row->contract_id);
    }
    return err;
}

static ff_err reconcile_file_rows(reconcile_run *run, Fundflow__V1__ReconcileResponse *response) {
    const reconcile_request *request = run->request;
    bool national = access_is_national(run->read->who);
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < request->n_rows; i++) {
        const reconcile_row *row = request->rows[i];
        if (!national) err = reconcile_row_scope(run, i);
        if (err != FF_OK) break;
        if (row->date != 0 && !reconcile_in_window(request, row->date)) {
            response->rows_outside_window++;
            continue;
        }
        err = reconcile_entry_add(run, row->org_code, (uint32_t)row->stream, row->contract_id,
                                  row->month, (uint32_t)row->measure, row->amount_pence, i);
    }
    return err;
}

static ff_err reconcile_ledger_side(reconcile_run *run) {
    switch (run->request->kind) {
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_ALLOCATIONS:
        return reconcile_ledger_allocations(run);
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_POSITIONS:
        return reconcile_ledger_positions(run);
    case FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_PAYMENTS:
        return reconcile_ledger_payments(run);
    default:
        assert(run->request->kind == FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_CONTRACTS);
        return reconcile_ledger_contracts(run);
    }
}

/* ---- sections ---- */

static ff_err reconcile_sections_new(Fundflow__V1__ReconcileResponse *response) {
    reconcile_section **sections[] = {&response->matched, &response->differences,
                                      &response->file_only, &response->ledger_only};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        *sections[i] = malloc(sizeof **sections[i]);
        if (*sections[i] == NULL) return FF_ERR_NO_MEMORY;
        fundflow__v1__reconcile_section__init(*sections[i]);
    }
    return FF_OK;
}

/* Hands line to the section (freeing it if the section cannot grow) and adds it to the totals. */
static ff_err reconcile_section_take(reconcile_section *section, reconcile_line *line) {
    /* Grows by doubling: the count is a power of two whenever the array is full. */
    size_t n = section->n_lines;
    if ((n & (n - 1)) == 0) {
        reconcile_line **grown = realloc(section->lines, (n != 0 ? n * 2 : 1) * sizeof *grown);
        if (grown == NULL) {
            fundflow__v1__reconcile_line__free_unpacked(line, NULL);
            return FF_ERR_NO_MEMORY;
        }
        section->lines = grown;
    }
    section->lines[section->n_lines++] = line;
    ff_err err = money_add(section->file_pence, line->file_pence, &section->file_pence);
    if (err == FF_OK) {
        err = money_add(section->ledger_pence, line->ledger_pence, &section->ledger_pence);
    }
    if (err == FF_OK) {
        err = money_add(section->difference_pence, line->difference_pence,
                        &section->difference_pence);
    }
    return err;
}

static ff_err reconcile_line_key(reconcile_line *line, const reconcile_entry *key) {
    line->org_code = strdup(key->org_code);
    line->contract_id = strdup(key->contract_id);
    if (line->org_code == NULL || line->contract_id == NULL) return FF_ERR_NO_MEMORY;
    line->stream = (Fundflow__V1__Stream)key->stream;
    line->month = key->month;
    line->measure = (Fundflow__V1__PositionMeasure)key->measure;
    return FF_OK;
}

/* Adds up one key's entries (first to end) into line, with the file's lines and references. */
static ff_err reconcile_line_sum(const reconcile_run *run, const reconcile_entry *first,
                                 const reconcile_entry *end, reconcile_line *line,
                                 bool *in_file_out) {
    size_t file_rows = 0;
    for (const reconcile_entry *e = first; e < end; e++) file_rows += e->row != RECONCILE_LEDGER;
    *in_file_out = file_rows != 0;
    line->lines = calloc(file_rows + 1, sizeof *line->lines);
    line->references = calloc(file_rows + 1, sizeof *line->references);
    if (line->lines == NULL || line->references == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = FF_OK;
    for (const reconcile_entry *e = first; err == FF_OK && e < end; e++) {
        if (e->row == RECONCILE_LEDGER) {
            err = money_add(line->ledger_pence, e->amount_pence, &line->ledger_pence);
            continue;
        }
        const reconcile_row *row = run->request->rows[e->row];
        err = money_add(line->file_pence, e->amount_pence, &line->file_pence);
        line->lines[line->n_lines++] = row->line;
        line->references[line->n_references] = strdup(row->reference ? row->reference : "");
        if (line->references[line->n_references++] == NULL) err = FF_ERR_NO_MEMORY;
    }
    if (err == FF_OK) {
        err = money_subtract(line->file_pence, line->ledger_pence, &line->difference_pence);
    }
    return err;
}

/* The section a key belongs in (NULL: in neither side, so in no section). */
static reconcile_section *reconcile_section_of(Fundflow__V1__ReconcileResponse *response,
                                               const reconcile_line *line, bool in_file,
                                               int64_t tolerance) {
    if (!in_file) return line->ledger_pence != 0 ? response->ledger_only : NULL;
    if (line->ledger_pence == 0) return response->file_only;
    bool within = line->difference_pence >= -tolerance && line->difference_pence <= tolerance;
    return within ? response->matched : response->differences;
}

static ff_err reconcile_key_take(reconcile_run *run, Fundflow__V1__ReconcileResponse *response,
                                 const reconcile_entry *first, const reconcile_entry *end) {
    reconcile_line *line = malloc(sizeof *line);
    if (line == NULL) return FF_ERR_NO_MEMORY;
    fundflow__v1__reconcile_line__init(line);
    bool in_file = false;
    ff_err err = reconcile_line_key(line, first);
    if (err == FF_OK) err = reconcile_line_sum(run, first, end, line, &in_file);
    reconcile_section *section =
        err == FF_OK ? reconcile_section_of(response, line, in_file, run->request->tolerance_pence)
                     : NULL;
    if (section == NULL) {
        fundflow__v1__reconcile_line__free_unpacked(line, NULL);
        return err;
    }
    /* The section owns the line from here, even if its totals overflow. */
    return reconcile_section_take(section, line);
}

static ff_err reconcile_sections(reconcile_run *run, Fundflow__V1__ReconcileResponse *response) {
    ff_err err = reconcile_sections_new(response);
    if (err != FF_OK || run->count == 0) return err;
    qsort(run->entries, run->count, sizeof run->entries[0], reconcile_entry_compare);
    const reconcile_entry *first = run->entries, *end = run->entries + run->count;
    while (err == FF_OK && first < end) {
        const reconcile_entry *next = first + 1;
        while (next < end && reconcile_key_compare(first, next) == 0) next++;
        err = reconcile_key_take(run, response, first, next);
        first = next;
    }
    return err;
}

/* ---- the reply ---- */

static ff_err reconcile_head_hash(const reconcile_run *run,
                                  Fundflow__V1__ReconcileResponse *response) {
    if (run->as_at_sequence == 0) return FF_OK; /* an empty ledger: no event, no hash */
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = log_read(run->read->txn, run->read->store, run->as_at_sequence, &record);
    if (err != FF_OK) return err;
    response->head_hash.data = malloc(record->hash.len);
    if (response->head_hash.data == NULL && record->hash.len != 0) err = FF_ERR_NO_MEMORY;
    else if (record->hash.len != 0) {
        memcpy(response->head_hash.data, record->hash.data, record->hash.len);
    }
    if (err == FF_OK) response->head_hash.len = record->hash.len;
    fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

static ff_err reconcile_echo(const reconcile_run *run, Fundflow__V1__ReconcileResponse *response) {
    const reconcile_request *request = run->request;
    response->kind = request->kind;
    response->financial_year = request->financial_year;
    response->tolerance_pence = request->tolerance_pence;
    response->as_at_sequence = run->as_at_sequence;
    response->match_keys = calloc(RECONCILE_KEY_COUNT, sizeof *response->match_keys);
    if (response->match_keys == NULL) return FF_ERR_NO_MEMORY;
    reconcile_keys keys = run->keys;
    for (size_t k = 0; k < RECONCILE_KEY_COUNT; k++) {
        if (!*reconcile_key_flag(&keys, k)) continue;
        response->match_keys[response->n_match_keys] = strdup(reconcile_key_names[k]);
        if (response->match_keys[response->n_match_keys++] == NULL) return FF_ERR_NO_MEMORY;
    }
    return FF_OK;
}

static ff_err reconcile_fill(const query_read *read, const void *request,
                             ProtobufCMessage **response_message) {
    Fundflow__V1__ReconcileResponse *response =
        (Fundflow__V1__ReconcileResponse *)*response_message;
    reconcile_run run = {.read = read, .request = request};
    ff_err err = reconcile_keys_parse(request, &run.keys, read->failure);
    assert(err == FF_OK); /* checked before the read began */
    err = query_as_at_resolve(read, run.request->as_at_sequence, &run.as_at_sequence);
    if (err == FF_OK) err = reconcile_echo(&run, response);
    if (err == FF_OK) err = reconcile_head_hash(&run, response);
    if (err == FF_OK) err = reconcile_file_rows(&run, response);
    if (err == FF_OK) err = reconcile_ledger_side(&run);
    if (err == FF_OK) err = reconcile_sections(&run, response);
    free(run.entries);
    return err;
}

ff_err query_reconcile(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__reconcile_request__descriptor);
    const reconcile_request *reconcile = (const reconcile_request *)request;
    reconcile_keys keys;
    ff_err err = reconcile_request_check(reconcile, &keys, failure);
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__reconcile_response__descriptor,
                             reconcile_fill, reconcile, "cannot reconcile", response_out,
                             failure);
}
