/* Service lines and delegations: registering lines, granting and revoking delegations of them,
 * and answering whether a delegation covers an allocation or a contract. */
#include "projection_delegation.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projection_org.h"
#include "projection_table.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static const org_kind projection_icbs[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};

/* What every stored service line is: under its own code, registered by an event, of a category.
 * Checked before it is written and after it is read. */
static void service_line_assert_valid(const Fundflow__V1__ServiceLineRecord *line,
                                      const char *code) {
    assert(line->code != NULL && strcmp(line->code, code) == 0);
    assert(line->registered_sequence >= 1 && line->category != 0);
}

static ff_err projection_service_line_read(store_txn *txn, ff_store *store, const char *code,
                                           const char *field,
                                           Fundflow__V1__ServiceLineRecord **line,
                                           ff_failure *failure) {
    ff_err err = projection_message_get(txn, store, STORE_TABLE_SERVICE_LINES, code, strlen(code),
                                        &fundflow__v1__service_line_record__descriptor,
                                        (ProtobufCMessage **)line);
    if (err == FF_ERR_NOT_FOUND) {
        return failure_set(failure, FF_ERR_SERVICE_LINE_UNKNOWN, field,
                           "no service line has code %s", code);
    }
    if (err != FF_OK) return failure_set(failure, err, field, "cannot read service line %s", code);
    service_line_assert_valid(*line, code);
    return FF_OK;
}

static ff_err projection_service_line_register(store_txn *txn, ff_store *store,
                                               const Fundflow__V1__EventRecord *record,
                                               ff_failure *failure) {
    const Fundflow__V1__ServiceLineRegistered *event = record->event->service_line_registered;
    Fundflow__V1__ServiceLineRecord line = FUNDFLOW__V1__SERVICE_LINE_RECORD__INIT;
    line.code = event->code;
    line.name = event->name;
    line.category = event->category;
    line.retained_nationally = event->retained_nationally;
    line.registered_sequence = record->sequence;
    service_line_assert_valid(&line, event->code);
    ff_err err = projection_message_put(txn, store, STORE_TABLE_SERVICE_LINES, event->code,
                                        strlen(event->code), &line.base, STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_SERVICE_LINE_EXISTS, "code",
                           "service line %s is already registered", event->code);
    }
    return err ? failure_set(failure, err, NULL, "cannot write") : FF_OK;
}

/* What every stored delegation is: granted by an event, to a delegate, of at least one line for
 * at least one population, and ending no earlier than it starts; each end it has had is recorded.
 * Checked before it is written and after it is read. */
static void delegation_assert_valid(const Fundflow__V1__DelegationRecord *delegation) {
    assert(delegation->delegation_id[0] != '\0' && delegation->delegate_code[0] != '\0');
    assert(delegation->granted_sequence >= 1 && delegation->n_ends >= 1);
    assert(delegation->n_service_line_codes >= 1 && delegation->n_population_codes >= 1);
    assert(delegation->effective_to == 0 ||
           delegation->effective_to >= delegation->effective_from);
}

/* Indexes a delegation's event under the delegate and every population it covers. */
static ff_err delegation_history_add(store_txn *txn, ff_store *store,
                                     const Fundflow__V1__DelegationRecord *delegation,
                                     uint64_t sequence, ff_failure *failure) {
    const char *names[FF_MEMBERS_MAX + 1];
    size_t count = 0;
    names[count++] = delegation->delegate_code;
    for (size_t i = 0; i < delegation->n_population_codes && count < FF_MEMBERS_MAX + 1; i++) {
        names[count++] = delegation->population_codes[i];
    }
    return projection_history_add_names(txn, store, names, count, sequence, failure);
}

static bool projection_lists_share(char *const *left, size_t left_count, char *const *right,
                                   size_t right_count) {
    for (size_t i = 0; i < left_count; i++) {
        for (size_t j = 0; j < right_count; j++) {
            if (strcmp(left[i], right[j]) == 0) return true;
        }
    }
    return false;
}

static uint32_t projection_date_end(uint32_t effective_to) {
    return effective_to == 0 ? UINT32_MAX : effective_to;
}

/* Refuses a delegation that overlaps an existing one for a shared line and population. */
static ff_err projection_delegation_overlap_check(store_txn *txn, ff_store *store,
                                                  const Fundflow__V1__DelegationGranted *grant,
                                                  ff_failure *failure) {
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_DELEGATIONS, &cursor);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cursor");
    store_slice value;
    ff_err move_err;
    for (move_err = store_cursor_move(cursor, STORE_FIRST, NULL, &value);
         move_err == FF_OK && err == FF_OK;
         move_err = store_cursor_move(cursor, STORE_NEXT, NULL, &value)) {
        Fundflow__V1__DelegationRecord *other =
            fundflow__v1__delegation_record__unpack(NULL, value.bytes, value.data);
        if (other == NULL) {
            err = failure_set(failure, FF_ERR_STORAGE, NULL, "cannot read a delegation");
            break;
        }
        bool overlap = grant->effective_from <= projection_date_end(other->effective_to) &&
                       other->effective_from <= projection_date_end(grant->effective_to) &&
                       projection_lists_share(grant->service_line_codes,
                                              grant->n_service_line_codes,
                                              other->service_line_codes,
                                              other->n_service_line_codes) &&
                       projection_lists_share(grant->population_codes, grant->n_population_codes,
                                              other->population_codes, other->n_population_codes);
        if (overlap) {
            err = failure_set(failure, FF_ERR_DELEGATION_OVERLAP, "service_line_codes",
                              "delegation %s already covers one of these lines for one of these "
                              "ICBs over the same dates", other->delegation_id);
        }
        fundflow__v1__delegation_record__free_unpacked(other, NULL);
    }
    store_cursor_close(cursor);
    if (err == FF_OK && move_err != FF_ERR_NOT_FOUND && move_err != FF_OK) {
        err = failure_set(failure, move_err, NULL, "cannot read the delegations");
    }
    return err;
}

static ff_err projection_delegation_parties_check(store_txn *txn, ff_store *store,
                                                  const Fundflow__V1__DelegationGranted *grant,
                                                  ff_failure *failure) {
    static const org_kind full[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};
    static const org_kind joint[] = {FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, 0};
    Fundflow__V1__OrgRecord *delegate = NULL;
    bool is_full = grant->mode == FUNDFLOW__V1__DELEGATION_MODE__DELEGATION_FULL;
    ff_err err = projection_party_read(txn, store, grant->delegate_code, "delegate_code",
                                       is_full ? full : joint, &delegate, failure);
    if (err != FF_OK) return err;
    fundflow__v1__org_record__free_unpacked(delegate, NULL);
    for (size_t i = 0; err == FF_OK && i < grant->n_population_codes; i++) {
        Fundflow__V1__OrgRecord *icb = NULL;
        err = projection_party_read(txn, store, grant->population_codes[i], "population_codes",
                                    projection_icbs, &icb, failure);
        if (icb) fundflow__v1__org_record__free_unpacked(icb, NULL);
    }
    for (size_t i = 0; err == FF_OK && i < grant->n_service_line_codes; i++) {
        Fundflow__V1__ServiceLineRecord *line = NULL;
        err = projection_service_line_read(txn, store, grant->service_line_codes[i],
                                           "service_line_codes", &line, failure);
        if (err == FF_OK && line->retained_nationally) {
            err = failure_set(failure, FF_ERR_SERVICE_LINE_RETAINED, "service_line_codes",
                              "service line %s is retained nationally", line->code);
        }
        if (line) fundflow__v1__service_line_record__free_unpacked(line, NULL);
    }
    return err;
}

static ff_err projection_delegation_grant(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__EventRecord *record,
                                          ff_failure *failure) {
    const Fundflow__V1__DelegationGranted *grant = record->event->delegation_granted;
    ff_err err = projection_delegation_parties_check(txn, store, grant, failure);
    if (err == FF_OK) err = projection_delegation_overlap_check(txn, store, grant, failure);
    if (err != FF_OK) return err;
    Fundflow__V1__DelegationRecord delegation = FUNDFLOW__V1__DELEGATION_RECORD__INIT;
    delegation.delegation_id = grant->delegation_id;
    delegation.delegate_code = grant->delegate_code;
    delegation.service_line_codes = grant->service_line_codes;
    delegation.n_service_line_codes = grant->n_service_line_codes;
    delegation.population_codes = grant->population_codes;
    delegation.n_population_codes = grant->n_population_codes;
    delegation.mode = grant->mode;
    delegation.effective_from = grant->effective_from;
    delegation.effective_to = grant->effective_to;
    delegation.granted_sequence = record->sequence;
    Fundflow__V1__DelegationEnd end = FUNDFLOW__V1__DELEGATION_END__INIT;
    Fundflow__V1__DelegationEnd *ends[] = {&end};
    end.sequence = record->sequence;
    end.effective_to = grant->effective_to;
    delegation.ends = ends;
    delegation.n_ends = 1;
    delegation_assert_valid(&delegation);
    err = projection_message_put(txn, store, STORE_TABLE_DELEGATIONS, grant->delegation_id,
                                 strlen(grant->delegation_id), &delegation.base, STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_DELEGATION_EXISTS, "delegation_id",
                           "delegation %s already exists", grant->delegation_id);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write");
    return delegation_history_add(txn, store, &delegation, record->sequence, failure);
}

static ff_err projection_delegation_read(store_txn *txn, ff_store *store, const char *id,
                                         Fundflow__V1__DelegationRecord **delegation,
                                         ff_failure *failure) {
    ff_err err = projection_message_get(txn, store, STORE_TABLE_DELEGATIONS, id, strlen(id),
                                        &fundflow__v1__delegation_record__descriptor,
                                        (ProtobufCMessage **)delegation);
    if (err == FF_ERR_NOT_FOUND) {
        return failure_set(failure, FF_ERR_DELEGATION_UNKNOWN, "delegation_id",
                           "no delegation has id %s", id);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read delegation %s", id);
    delegation_assert_valid(*delegation);
    return FF_OK;
}

/* Appends an end date to an unpacked delegation's history; free_unpacked frees it with the rest,
 * since protobuf-c's default allocator is malloc's. */
static ff_err projection_delegation_end_add(Fundflow__V1__DelegationRecord *delegation,
                                            uint64_t sequence, uint32_t effective_to,
                                            ff_failure *failure) {
    Fundflow__V1__DelegationEnd **ends =
        realloc(delegation->ends, (delegation->n_ends + 1) * sizeof *ends);
    if (ends == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    delegation->ends = ends;
    Fundflow__V1__DelegationEnd *end = malloc(sizeof *end);
    if (end == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__delegation_end__init(end);
    end->sequence = sequence;
    end->effective_to = effective_to;
    ends[delegation->n_ends++] = end;
    return FF_OK;
}

static ff_err projection_delegation_revoke(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__EventRecord *record,
                                           ff_failure *failure) {
    const Fundflow__V1__DelegationRevoked *revoke = record->event->delegation_revoked;
    Fundflow__V1__DelegationRecord *delegation = NULL;
    ff_err err = projection_delegation_read(txn, store, revoke->delegation_id, &delegation,
                                            failure);
    if (err != FF_OK) return err;
    if (revoke->effective_to < delegation->effective_from ||
        revoke->effective_to > projection_date_end(delegation->effective_to)) {
        char to[CALENDAR_DATE_TEXT_BYTES], from[CALENDAR_DATE_TEXT_BYTES];
        calendar_date_format(revoke->effective_to, to, sizeof to);
        calendar_date_format(delegation->effective_from, from, sizeof from);
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                          "effective_to %s must fall within delegation %s (from %s)", to,
                          delegation->delegation_id, from);
    } else if ((err = projection_delegation_end_add(delegation, record->sequence,
                                                    revoke->effective_to, failure)) == FF_OK) {
        delegation->effective_to = revoke->effective_to;
        delegation->revoked_sequence = record->sequence;
        delegation_assert_valid(delegation);
        err = projection_message_put(txn, store, STORE_TABLE_DELEGATIONS,
                                     revoke->delegation_id, strlen(revoke->delegation_id),
                                     &delegation->base, STORE_PUT_REPLACE);
        if (err) failure_set(failure, err, NULL, "cannot write");
    }
    if (err == FF_OK) {
        err = delegation_history_add(txn, store, delegation, record->sequence, failure);
    }
    fundflow__v1__delegation_record__free_unpacked(delegation, NULL);
    return err;
}

ff_err projection_allocation_delegation_check(store_txn *txn, ff_store *store,
                                              const Fundflow__V1__AllocationIssued *allocation,
                                              ff_failure *failure) {
    if (allocation->delegation_id[0] == '\0') return FF_OK;
    if (allocation->stream != FUNDFLOW__V1__STREAM__SPECIALISED) {
        return failure_set(failure, FF_ERR_TERMS_INVALID, "delegation_id",
                           "only a specialised allocation cites a delegation");
    }
    Fundflow__V1__DelegationRecord *delegation = NULL;
    ff_err err = projection_delegation_read(txn, store, allocation->delegation_id, &delegation,
                                            failure);
    if (err != FF_OK) return err;
    if (strcmp(delegation->delegate_code, allocation->recipient_code) != 0) {
        err = failure_set(failure, FF_ERR_NOT_DELEGATED, "delegation_id",
                          "delegation %s is held by %s, not %s", delegation->delegation_id,
                          delegation->delegate_code, allocation->recipient_code);
    }
    fundflow__v1__delegation_record__free_unpacked(delegation, NULL);
    return err;
}

static bool projection_delegation_covers(const Fundflow__V1__DelegationRecord *delegation,
                                         const char *holder, const char *line, uint32_t date) {
    if (strcmp(delegation->delegate_code, holder) != 0) return false;
    if (date < delegation->effective_from || date > projection_date_end(delegation->effective_to)) {
        return false;
    }
    for (size_t i = 0; i < delegation->n_service_line_codes; i++) {
        if (strcmp(delegation->service_line_codes[i], line) == 0) return true;
    }
    return false;
}

ff_err projection_delegation_held(store_txn *txn, ff_store *store, const char *commissioner,
                                  const char *service_line, uint32_t date, ff_failure *failure) {
    Fundflow__V1__ServiceLineRecord *line = NULL;
    ff_err err = projection_service_line_read(txn, store, service_line, "service_line_code", &line,
                                              failure);
    if (err != FF_OK) return err;
    fundflow__v1__service_line_record__free_unpacked(line, NULL);
    store_cursor *cursor = NULL;
    err = store_cursor_open(txn, store, STORE_TABLE_DELEGATIONS, &cursor);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cursor");
    bool held = false;
    store_slice value;
    for (err = store_cursor_move(cursor, STORE_FIRST, NULL, &value); err == FF_OK && !held;
         err = store_cursor_move(cursor, STORE_NEXT, NULL, &value)) {
        Fundflow__V1__DelegationRecord *delegation =
            fundflow__v1__delegation_record__unpack(NULL, value.bytes, value.data);
        if (delegation == NULL) break;
        held = projection_delegation_covers(delegation, commissioner, service_line, date);
        fundflow__v1__delegation_record__free_unpacked(delegation, NULL);
    }
    store_cursor_close(cursor);
    if (held) return FF_OK;
    /* A read that failed is not a missing delegation: the batch must stop, not refuse. */
    if (err != FF_OK && err != FF_ERR_NOT_FOUND) return failure_set(failure, err, NULL, "cursor");
    char day[CALENDAR_DATE_TEXT_BYTES];
    if (calendar_date_valid(date)) calendar_date_format(date, day, sizeof day);
    else snprintf(day, sizeof day, "%u", date);
    return failure_set(failure, FF_ERR_NOT_DELEGATED, "service_line_code",
                       "%s holds no delegation of service line %s on %s", commissioner,
                       service_line, day);
}

const projection_event_rule projection_delegation_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED, projection_service_line_register, NULL},
    {FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED, projection_delegation_grant, NULL},
    {FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED, projection_delegation_revoke, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
