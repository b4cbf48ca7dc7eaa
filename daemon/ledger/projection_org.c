/* Organisations: reading them and their kinds, and the registrations and updates that write them
 * with their links over time. */
#include "projection_org.h"

#include <assert.h>
#include <stdalign.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "projection_table.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

/* What every stored organisation is: under its own code, registered by an event, of a kind, with
 * no more members than a grouping may have. Checked before it is written and after it is read. */
static void projection_org_assert_valid(const Fundflow__V1__OrgRecord *org, const char *code) {
    assert(org->code != NULL && strcmp(org->code, code) == 0);
    assert(org->registered_sequence >= 1 && org->kind != 0);
    assert(org->n_member_codes <= FF_MEMBERS_MAX);
}

ff_err projection_org_read(store_txn *txn, ff_store *store, const char *code,
                           Fundflow__V1__OrgRecord **org_out) {
    ff_err err = projection_message_get(txn, store, STORE_TABLE_ORGS, code, strlen(code),
                                        &fundflow__v1__org_record__descriptor,
                                        (ProtobufCMessage **)org_out);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_ORG_UNKNOWN;
    if (err != FF_OK) return err;
    projection_org_assert_valid(*org_out, code);
    return FF_OK;
}

const char *projection_kind_name(org_kind kind) {
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__org_kind__descriptor, (int)kind);
    return value ? value->name : "UNKNOWN";
}

/* The failure for an organisation in field that could not be read. */
static ff_err projection_party_read_failure(ff_err err, const char *code, const char *field,
                                            ff_failure *failure) {
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, field, "%s %s is not a registered organisation", field,
                           code);
    }
    return failure_set(failure, err, field, "cannot read organisation %s", code);
}

/* Checks that org, read for field, is of a kind in allowed (a zero-terminated list). */
static ff_err projection_party_kind_check(const Fundflow__V1__OrgRecord *org, const char *code,
                                          const char *field, const org_kind *allowed,
                                          ff_failure *failure) {
    for (const org_kind *kind = allowed; *kind != 0; kind++) {
        if (org->kind == *kind) return FF_OK;
    }
    return failure_set(failure, FF_ERR_ORG_KIND_NOT_ALLOWED, field,
                       "%s %s is a %s, which cannot be %s", field, code,
                       projection_kind_name(org->kind), field);
}

/* Reads the organisation in field and checks its kind is one of allowed (a zero-terminated
 * list). On success the caller owns *org_out. */
ff_err projection_party_read(store_txn *txn, ff_store *store, const char *code,
                             const char *field, const org_kind *allowed,
                             Fundflow__V1__OrgRecord **org_out, ff_failure *failure) {
    ff_err err = projection_org_read(txn, store, code, org_out);
    if (err != FF_OK) return projection_party_read_failure(err, code, field, failure);
    err = projection_party_kind_check(*org_out, code, field, allowed, failure);
    if (err != FF_OK) {
        fundflow__v1__org_record__free_unpacked(*org_out, NULL);
        *org_out = NULL;
    }
    return err;
}

/* protobuf-c's allocator over a kept slot's arena: a bump allocation, freed all at once by the
 * next decode into the slot. NULL when the arena is used up, which fails the decode. */
static void *projection_org_arena_alloc(void *data, size_t bytes) {
    projection_org_kept *kept = data;
    size_t start = (kept->arena_used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (start > sizeof kept->arena || bytes > sizeof kept->arena - start) return NULL;
    kept->arena_used = start + bytes;
    return kept->arena + start;
}

static void projection_org_arena_free(void *data, void *pointer) {
    (void)data;
    (void)pointer;
}

/* Decodes stored into kept, or, when it does not fit, into the heap; NULL if it is not a record. */
static const Fundflow__V1__OrgRecord *projection_org_kept_decode(projection_org_kept *kept,
                                                                 store_slice stored) {
    if (stored.bytes > 0 && kept->stored_bytes == stored.bytes &&
        memcmp(kept->stored, stored.data, stored.bytes) == 0) {
        return kept->org;
    }
    kept->stored_bytes = 0;
    kept->arena_used = 0;
    kept->org = NULL;
    if (stored.bytes > 0 && stored.bytes <= sizeof kept->stored) {
        ProtobufCAllocator arena = {projection_org_arena_alloc, projection_org_arena_free, kept};
        kept->org = fundflow__v1__org_record__unpack(&arena, stored.bytes, stored.data);
    }
    if (kept->org != NULL) {
        memcpy(kept->stored, stored.data, stored.bytes);
        kept->stored_bytes = stored.bytes;
        return kept->org;
    }
    kept->heap = fundflow__v1__org_record__unpack(NULL, stored.bytes, stored.data);
    return kept->heap;
}

ff_err projection_party_read_kept(store_txn *txn, ff_store *store, const char *code,
                                  const char *field, const org_kind *allowed,
                                  projection_org_kept *kept,
                                  const Fundflow__V1__OrgRecord **org_out, ff_failure *failure) {
    assert(kept->heap == NULL);
    *org_out = NULL;
    store_slice stored;
    ff_err err = store_get(txn, store, STORE_TABLE_ORGS, STORE_SLICE(code, strlen(code)), &stored);
    if (err == FF_ERR_NOT_FOUND) err = FF_ERR_ORG_UNKNOWN;
    const Fundflow__V1__OrgRecord *org = err == FF_OK ? projection_org_kept_decode(kept, stored)
                                                      : NULL;
    if (err == FF_OK && org == NULL) err = FF_ERR_STORAGE;
    if (err != FF_OK) return projection_party_read_failure(err, code, field, failure);
    assert(protobuf_c_message_check(&org->base));
    projection_org_assert_valid(org, code);
    err = projection_party_kind_check(org, code, field, allowed, failure);
    if (err == FF_OK) *org_out = org;
    return err;
}

void projection_org_kept_release(projection_org_kept *kept) {
    if (kept->heap != NULL) fundflow__v1__org_record__free_unpacked(kept->heap, NULL);
    kept->heap = NULL;
}

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

static const org_kind projection_providers[] = {
    FUNDFLOW__V1__ORG_KIND__TRUST, FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE,
    FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, 0};
static const org_kind projection_icbs[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};

ff_err projection_org_members_check(store_txn *txn, ff_store *store, org_kind kind,
                                    char *const *members, size_t member_count,
                                    ff_failure *failure) {
    bool joint = kind == FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE;
    const org_kind *allowed = joint ? projection_icbs : projection_providers;
    for (size_t i = 0; i < member_count; i++) {
        Fundflow__V1__OrgRecord *member = NULL;
        ff_err err = projection_party_read(txn, store, members[i], "member_codes", allowed,
                                           &member, failure);
        if (err != FF_OK) return err;
        fundflow__v1__org_record__free_unpacked(member, NULL);
    }
    return FF_OK;
}

/* Counted before every write of the organisations or their links, whether it then succeeds or
 * not; nothing else writes those tables. */
static _Thread_local uint64_t projection_org_writes_made;

uint64_t projection_org_writes(void) { return projection_org_writes_made; }

static ff_err projection_org_links_write(store_txn *txn, ff_store *store, const char *code,
                                         const Fundflow__V1__OrgRecord *org,
                                         uint32_t effective_from, uint64_t sequence) {
    assert(sequence >= 1 && code[0] != '\0');
    assert(org->n_member_codes <= FF_MEMBERS_MAX);
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

static ff_err projection_org_register(store_txn *txn, ff_store *store,
                                      const Fundflow__V1__EventRecord *record,
                                      ff_failure *failure) {
    const Fundflow__V1__OrgRegistered *event = record->event->org_registered;
    if (event->parent_code[0] != '\0') {
        ff_err err = projection_org_exists(txn, store, event->parent_code, "parent_code", failure);
        if (err != FF_OK) return err;
    }
    ff_err members_err = projection_org_members_check(txn, store, event->kind, event->member_codes,
                                                      event->n_member_codes, failure);
    if (members_err != FF_OK) return members_err;
    Fundflow__V1__OrgRecord org = FUNDFLOW__V1__ORG_RECORD__INIT;
    org.code = event->code;
    org.name = event->name;
    org.kind = event->kind;
    org.parent_code = event->parent_code;
    org.registered_sequence = record->sequence;
    org.registered_date = record->effective_date;
    org.member_codes = event->member_codes;
    org.n_member_codes = event->n_member_codes;
    org.lead_provider_code = event->lead_provider_code;
    projection_org_assert_valid(&org, event->code);
    projection_org_writes_made++;
    ff_err err = projection_message_put(txn, store, STORE_TABLE_ORGS, event->code,
                                        strlen(event->code), &org.base, STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_ORG_EXISTS, "code",
                           "organisation %s is already registered", event->code);
    }
    if (err == FF_OK) {
        err = projection_org_links_write(txn, store, event->code, &org, record->effective_date,
                                         record->sequence);
    }
    if (err == FF_OK) err = projection_history_add(txn, store, event->code, record->sequence);
    return err ? failure_set(failure, err, NULL, "cannot write organisation") : FF_OK;
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

static ff_err projection_org_update(store_txn *txn, ff_store *store,
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
        projection_org_assert_valid(&changed, update->code);
        projection_org_writes_made++;
        err = projection_message_put(txn, store, STORE_TABLE_ORGS, update->code,
                                     strlen(update->code), &changed.base, STORE_PUT_REPLACE);
        if (err == FF_OK) {
            err = projection_org_links_write(txn, store, update->code, &changed,
                                             record->effective_date, record->sequence);
        }
        if (err == FF_OK) err = projection_history_add(txn, store, update->code, record->sequence);
        if (err != FF_OK) failure_set(failure, err, NULL, "cannot write the organisation");
    }
    fundflow__v1__org_record__free_unpacked(stored, NULL);
    return err;
}

const projection_event_rule projection_org_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED, projection_org_register, NULL},
    {FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED, projection_org_update, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
