/* The rules and projections of the domain events that move no money: organisations' links,
 * service lines, delegations, statements and period closes; and the history and flow indexes
 * every event feeds. */
#include "projection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* ---- storage helpers ---- */

ff_err projection_message_put(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessage *message,
                              store_put_mode mode) {
    assert(key_bytes > 0 && protobuf_c_message_check(message));
    size_t packed_bytes = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(packed_bytes ? packed_bytes : 1);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    size_t written = protobuf_c_message_pack(message, packed);
    assert(written == packed_bytes);
    ff_err err = store_put(txn, store, table, STORE_SLICE(key, key_bytes),
                           STORE_SLICE(packed, packed_bytes), mode);
    free(packed);
    return err;
}

ff_err projection_message_get(store_txn *txn, ff_store *store, store_table table, const void *key,
                              size_t key_bytes, const ProtobufCMessageDescriptor *descriptor,
                              ProtobufCMessage **message_out) {
    *message_out = NULL;
    store_slice value;
    ff_err err = store_get(txn, store, table, STORE_SLICE(key, key_bytes), &value);
    if (err != FF_OK) return err;
    *message_out = protobuf_c_message_unpack(descriptor, NULL, value.bytes, value.data);
    if (*message_out == NULL) return FF_ERR_STORAGE;
    assert(protobuf_c_message_check(*message_out));
    return FF_OK;
}

size_t projection_history_key(const char *name, uint64_t sequence, uint8_t *key, size_t bytes) {
    size_t name_bytes = strlen(name);
    assert(name_bytes + 1 + LOG_KEY_BYTES <= bytes);
    memcpy(key, name, name_bytes);
    key[name_bytes] = 0;
    log_key_encode(sequence, key + name_bytes + 1);
    return name_bytes + 1 + LOG_KEY_BYTES;
}

ff_err projection_history_add(store_txn *txn, ff_store *store, const char *name,
                              uint64_t sequence) {
    assert(sequence >= 1 && name[0] != '\0');
    uint8_t key[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t key_bytes = projection_history_key(name, sequence, key, sizeof key);
    return store_put(txn, store, STORE_TABLE_HISTORY, STORE_SLICE(key, key_bytes),
                     STORE_SLICE(NULL, 0), STORE_PUT_REPLACE);
}

/* The flow key: year ++ from (12, space padded) ++ to (12) ++ stream. */
#define PROJECTION_FLOW_KEY_BYTES (2 + 2 * FF_ORG_CODE_BYTES_MAX + 1)

static void projection_code_pad(char *target, const char *code) {
    memset(target, ' ', FF_ORG_CODE_BYTES_MAX);
    memcpy(target, code, strlen(code));
}

void projection_code_unpad(const uint8_t *padded, char *code) {
    size_t length = FF_ORG_CODE_BYTES_MAX;
    while (length > 0 && padded[length - 1] == ' ') length--;
    memcpy(code, padded, length);
    code[length] = '\0';
}

ff_err projection_flow_add(store_txn *txn, ff_store *store, uint32_t year, const char *from_code,
                           const char *to_code, uint32_t stream, int64_t delta_pence,
                           ff_failure *failure) {
    uint8_t key[PROJECTION_FLOW_KEY_BYTES];
    key[0] = (uint8_t)(year >> 8), key[1] = (uint8_t)year;
    projection_code_pad((char *)key + 2, from_code);
    projection_code_pad((char *)key + 2 + FF_ORG_CODE_BYTES_MAX, to_code);
    key[PROJECTION_FLOW_KEY_BYTES - 1] = (uint8_t)stream;
    store_slice value;
    int64_t total = 0;
    ff_err err = store_get(txn, store, STORE_TABLE_FLOWS, STORE_SLICE(key, sizeof key), &value);
    if (err == FF_OK && value.bytes == sizeof total) memcpy(&total, value.data, sizeof total);
    else if (err == FF_OK) return failure_set(failure, FF_ERR_STORAGE, NULL, "flows");
    else if (err != FF_ERR_NOT_FOUND) return failure_set(failure, err, NULL, "flows");
    if (money_add(total, delta_pence, &total) != FF_OK) {
        return failure_set(failure, FF_ERR_SUM_OVERFLOW, "amount_pence",
                           "the flow from %s to %s would overflow", from_code, to_code);
    }
    err = store_put(txn, store, STORE_TABLE_FLOWS, STORE_SLICE(key, sizeof key),
                    STORE_SLICE(&total, sizeof total), STORE_PUT_REPLACE);
    return err ? failure_set(failure, err, NULL, "cannot write a flow") : FF_OK;
}

/* ---- organisations' links ---- */

ff_err projection_org_exists(store_txn *txn, ff_store *store, const char *code,
                                    const char *field, ff_failure *failure) {
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(txn, store, code, &org);
    if (err == FF_OK) fundflow__v1__org_record__free_unpacked(org, NULL);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, field, "%s %s is not a registered organisation", field,
                           code);
    }
    return err ? failure_set(failure, err, field, "cannot read %s", code) : FF_OK;
}


ff_err projection_org_links_write(store_txn *txn, ff_store *store, const char *code,
                                  const Fundflow__V1__OrgRecord *org, uint32_t effective_from,
                                  uint64_t sequence) {
    Fundflow__V1__OrgLinkRecord link = FUNDFLOW__V1__ORG_LINK_RECORD__INIT;
    link.parent_code = org->parent_code;
    link.member_codes = org->member_codes;
    link.n_member_codes = org->n_member_codes;
    link.lead_provider_code = org->lead_provider_code;
    link.effective_from = effective_from;
    link.sequence = sequence;
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 1 + 4 + LOG_KEY_BYTES];
    size_t code_bytes = strlen(code);
    memcpy(key, code, code_bytes);
    key[code_bytes] = 0;
    for (int i = 0; i < 4; i++) key[code_bytes + 1 + i] = (uint8_t)(effective_from >> (24 - 8 * i));
    log_key_encode(sequence, key + code_bytes + 5);
    return projection_message_put(txn, store, STORE_TABLE_ORG_LINKS, key,
                                  code_bytes + 5 + LOG_KEY_BYTES, &link.base, STORE_PUT_REPLACE);
}

static const org_kind projection_providers[] = {
    FUNDFLOW__V1__ORG_KIND__TRUST, FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE,
    FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, 0};
static const org_kind projection_icbs[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};

ff_err projection_org_members_check(store_txn *txn, ff_store *store, org_kind kind,
                                     char *const *members, size_t member_count,
                                     ff_failure *failure) {
    const org_kind *allowed = kind == FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE ? projection_icbs
                                                                              : projection_providers;
    for (size_t i = 0; i < member_count; i++) {
        Fundflow__V1__OrgRecord *member = NULL;
        ff_err err = projection_party_read(txn, store, members[i], "member_codes", allowed,
                                           &member, failure);
        if (err != FF_OK) return err;
        fundflow__v1__org_record__free_unpacked(member, NULL);
    }
    return FF_OK;
}

/* Applies an update's changes to a copy of the organisation's record. */
static ff_err projection_org_update_fields(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__OrgUpdated *update,
                                           Fundflow__V1__OrgRecord *org, ff_failure *failure) {
    if (update->name[0] != '\0') org->name = update->name;
    if (update->parent_code[0] != '\0') {
        ff_err err = projection_org_exists(txn, store, update->parent_code, "parent_code", failure);
        if (err != FF_OK) return err;
        org->parent_code = update->parent_code;
    }
    if (update->set_members) {
        ff_err err = projection_org_members_check(txn, store, org->kind, update->member_codes,
                                                  update->n_member_codes, failure);
        if (err != FF_OK) return err;
        org->member_codes = update->member_codes;
        org->n_member_codes = update->n_member_codes;
    }
    if (update->lead_provider_code[0] != '\0') org->lead_provider_code = update->lead_provider_code;
    return command_members_check(org->kind, org->member_codes, org->n_member_codes,
                                 org->lead_provider_code, failure);
}

ff_err projection_org_update(store_txn *txn, ff_store *store,
                             const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__OrgUpdated *update = record->event->org_updated;
    Fundflow__V1__OrgRecord *stored = NULL;
    ff_err err = projection_org_read(txn, store, update->code, &stored);
    if (err != FF_OK) {
        return failure_set(failure, err, "code", "code %s is not registered", update->code);
    }
    Fundflow__V1__OrgRecord changed = *stored;
    err = projection_org_update_fields(txn, store, update, &changed, failure);
    if (err == FF_OK) {
        err = projection_message_put(txn, store, STORE_TABLE_ORGS, update->code,
                                     strlen(update->code), &changed.base, STORE_PUT_REPLACE);
        if (err == FF_OK) {
            err = projection_org_links_write(txn, store, update->code, &changed,
                                             record->effective_date, record->sequence);
        }
        if (err != FF_OK) failure_set(failure, err, NULL, "cannot write the organisation");
    }
    fundflow__v1__org_record__free_unpacked(stored, NULL);
    return err;
}

/* ---- service lines ---- */

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
    return err ? failure_set(failure, err, field, "cannot read service line %s", code) : FF_OK;
}

ff_err projection_service_line_register(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__EventRecord *record,
                                        ff_failure *failure) {
    const Fundflow__V1__ServiceLineRegistered *event = record->event->service_line_registered;
    Fundflow__V1__ServiceLineRecord line = FUNDFLOW__V1__SERVICE_LINE_RECORD__INIT;
    line.code = event->code;
    line.name = event->name;
    line.category = event->category;
    line.retained_nationally = event->retained_nationally;
    line.registered_sequence = record->sequence;
    ff_err err = projection_message_put(txn, store, STORE_TABLE_SERVICE_LINES, event->code,
                                        strlen(event->code), &line.base, STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_SERVICE_LINE_EXISTS, "code",
                           "service line %s is already registered", event->code);
    }
    return err ? failure_set(failure, err, NULL, "cannot write") : FF_OK;
}

/* ---- delegations ---- */

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

ff_err projection_delegation_grant(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__EventRecord *record, ff_failure *failure) {
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
    err = projection_message_put(txn, store, STORE_TABLE_DELEGATIONS, grant->delegation_id,
                                 strlen(grant->delegation_id), &delegation.base, STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_DELEGATION_EXISTS, "delegation_id",
                           "delegation %s already exists", grant->delegation_id);
    }
    return err ? failure_set(failure, err, NULL, "cannot write") : FF_OK;
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
    return err ? failure_set(failure, err, NULL, "cannot read delegation %s", id) : FF_OK;
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

ff_err projection_delegation_revoke(store_txn *txn, ff_store *store,
                                    const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__DelegationRevoked *revoke = record->event->delegation_revoked;
    Fundflow__V1__DelegationRecord *delegation = NULL;
    ff_err err = projection_delegation_read(txn, store, revoke->delegation_id, &delegation,
                                            failure);
    if (err != FF_OK) return err;
    if (revoke->effective_to < delegation->effective_from ||
        revoke->effective_to > projection_date_end(delegation->effective_to)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_to",
                          "effective_to %u must fall within delegation %s (from %u)",
                          revoke->effective_to, delegation->delegation_id,
                          delegation->effective_from);
    } else if ((err = projection_delegation_end_add(delegation, record->sequence,
                                                    revoke->effective_to, failure)) == FF_OK) {
        delegation->effective_to = revoke->effective_to;
        delegation->revoked_sequence = record->sequence;
        err = projection_message_put(txn, store, STORE_TABLE_DELEGATIONS,
                                     revoke->delegation_id, strlen(revoke->delegation_id),
                                     &delegation->base, STORE_PUT_REPLACE);
        if (err) failure_set(failure, err, NULL, "cannot write");
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
    return failure_set(failure, FF_ERR_NOT_DELEGATED, "service_line_code",
                       "%s holds no delegation of service line %s on %u", commissioner,
                       service_line, date);
}

/* ---- statements and period closes ---- */

ff_err projection_statement_submit(store_txn *txn, ff_store *store,
                                   const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__StatementSubmitted *statement = record->event->statement_submitted;
    ff_err err = projection_org_exists(txn, store, statement->org_code, "org_code", failure);
    if (err == FF_OK) {
        err = projection_org_exists(txn, store, statement->counterparty_code, "counterparty_code",
                                    failure);
    }
    if (err != FF_OK) return err;
    uint8_t key[2 * FF_ORG_CODE_BYTES_MAX + 4];
    projection_code_pad((char *)key, statement->org_code);
    projection_code_pad((char *)key + FF_ORG_CODE_BYTES_MAX, statement->counterparty_code);
    key[2 * FF_ORG_CODE_BYTES_MAX] = (uint8_t)(statement->financial_year >> 8);
    key[2 * FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)statement->financial_year;
    key[2 * FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)statement->month;
    key[2 * FF_ORG_CODE_BYTES_MAX + 3] = (uint8_t)statement->kind;
    /* The latest statement for a period and kind replaces earlier ones; the log keeps them all. */
    int64_t stored[2] = {statement->amount_pence, (int64_t)record->sequence};
    assert(stored[0] >= 0 && stored[1] >= 1);
    err = store_put(txn, store, STORE_TABLE_STATEMENTS, STORE_SLICE(key, sizeof key),
                    STORE_SLICE(stored, sizeof stored), STORE_PUT_REPLACE);
    return err ? failure_set(failure, err, NULL, "cannot write") : FF_OK;
}

size_t projection_period_key(const char *org_code, uint32_t year, uint32_t month, uint8_t *key) {
    projection_code_pad((char *)key, org_code);
    key[FF_ORG_CODE_BYTES_MAX] = (uint8_t)(year >> 8);
    key[FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)year;
    key[FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)month;
    return FF_ORG_CODE_BYTES_MAX + 3;
}

ff_err projection_period_close(store_txn *txn, ff_store *store,
                               const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    const Fundflow__V1__PeriodClosed *period = record->event->period_closed;
    ff_err err = projection_org_exists(txn, store, period->org_code, "org_code", failure);
    if (err != FF_OK) return err;
    assert(record->sequence >= 1);
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 3], sequence[LOG_KEY_BYTES];
    log_key_encode(record->sequence, sequence);
    size_t key_bytes = projection_period_key(period->org_code, period->financial_year,
                                             period->month, key);
    err = store_put(txn, store, STORE_TABLE_PERIODS, STORE_SLICE(key, key_bytes),
                    STORE_SLICE(sequence, sizeof sequence), STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_PERIOD_ALREADY_CLOSED, "month",
                           "M%u of %u/%02u is already closed for %s", period->month,
                           period->financial_year, (period->financial_year + 1) % 100,
                           period->org_code);
    }
    return err ? failure_set(failure, err, NULL, "cannot write") : FF_OK;
}
