/* Principals: grants write a principal's record and its token's index row; revocations mark the
 * record and delete the index row, so the token stops working from the next request on. */
#include "projection_principal.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "digest.h"
#include "projection_org.h"
#include "projection_table.h"
#include "fundflow/limits.h"
#include "ledger_write.h"


/* What every stored principal is: under its own name, of a role, holding a token's hash, granted
 * by an event and revoked by a later one if at all. Checked before it is written and after it is
 * read back. */
static void projection_principal_assert_valid(const Fundflow__V1__PrincipalRecord *record,
                                              const char *name) {
    assert(record->name != NULL && strcmp(record->name, name) == 0);
    assert(strlen(name) >= 1 && strlen(name) <= FF_PRINCIPAL_NAME_BYTES_MAX);
    assert(record->role != FUNDFLOW__V1__PRINCIPAL_ROLE__PRINCIPAL_ROLE_UNSPECIFIED);
    assert(strlen(record->scope_org_code) <= FF_ORG_CODE_BYTES_MAX);
    assert(record->token_sha256.len == DIGEST_BYTES);
    assert(record->granted_sequence >= 1);
    assert(record->revoked_sequence == 0 || record->revoked_sequence > record->granted_sequence);
}

ff_err projection_principal_read(store_txn *txn, ff_store *store, const char *name,
                                 Fundflow__V1__PrincipalRecord **record_out) {
    *record_out = NULL;
    size_t name_bytes = strlen(name);
    if (name_bytes == 0 || name_bytes > FF_PRINCIPAL_NAME_BYTES_MAX) {
        return FF_ERR_PRINCIPAL_UNKNOWN;
    }
    ff_err err = projection_message_get(txn, store, STORE_TABLE_PRINCIPALS, name, name_bytes,
                                        &fundflow__v1__principal_record__descriptor,
                                        (ProtobufCMessage **)record_out);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_PRINCIPAL_UNKNOWN;
    if (err != FF_OK) return err;
    projection_principal_assert_valid(*record_out, name);
    return FF_OK;
}

ff_err projection_principal_token_name(store_txn *txn, ff_store *store, const uint8_t sha256[32],
                                       char *name) {
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_PRINCIPAL_TOKENS,
                           STORE_SLICE(sha256, DIGEST_BYTES), &value);
    if (err != FF_OK) return err;
    /* The index holds names the grant checked; anything else means the table is damaged. */
    if (value.bytes == 0 || value.bytes > FF_PRINCIPAL_NAME_BYTES_MAX ||
        memchr(value.data, 0, value.bytes) != NULL) {
        return FF_ERR_STORAGE;
    }
    memcpy(name, value.data, value.bytes);
    name[value.bytes] = '\0';
    return FF_OK;
}

/* A grant's state checks: the name never used, the scope a registered organisation. */
static ff_err projection_principal_grant_check(store_txn *txn, ff_store *store,
                                               const Fundflow__V1__PrincipalGranted *grant,
                                               ff_failure *failure) {
    Fundflow__V1__PrincipalRecord *earlier = NULL;
    ff_err err = projection_principal_read(txn, store, grant->name, &earlier);
    if (err == FF_OK) {
        bool revoked = earlier->revoked_sequence != 0;
        fundflow__v1__principal_record__free_unpacked(earlier, NULL);
        return failure_set(failure, FF_ERR_PRINCIPAL_EXISTS, "name",
                           "principal %s %s; names are never reused", grant->name,
                           revoked ? "existed and was revoked" : "already exists");
    }
    if (err != FF_ERR_PRINCIPAL_UNKNOWN) {
        return failure_set(failure, err, "name", "cannot read principal %s", grant->name);
    }
    if (grant->scope_org_code[0] == '\0') return FF_OK;
    return projection_org_exists(txn, store, grant->scope_org_code, "scope_org_code", failure);
}

static ff_err projection_principal_grant(store_txn *txn, ff_store *store,
                                         const Fundflow__V1__EventRecord *record,
                                         ff_failure *failure) {
    const Fundflow__V1__PrincipalGranted *grant = record->event->principal_granted;
    ff_err err = projection_principal_grant_check(txn, store, grant, failure);
    if (err != FF_OK) return err;
    assert(grant->token_sha256.len == DIGEST_BYTES);
    err = ledger_put(txn, store, STORE_TABLE_PRINCIPAL_TOKENS,
                     STORE_SLICE(grant->token_sha256.data, DIGEST_BYTES),
                     STORE_SLICE(grant->name, strlen(grant->name)), STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_PRINCIPAL_EXISTS, "token_sha256",
                           "another principal holds a token with this SHA-256");
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write the token index");
    Fundflow__V1__PrincipalRecord principal = FUNDFLOW__V1__PRINCIPAL_RECORD__INIT;
    principal.name = grant->name;
    principal.role = grant->role;
    principal.scope_org_code = grant->scope_org_code;
    principal.token_sha256 = grant->token_sha256;
    principal.granted_sequence = record->sequence;
    principal.granted_at_us = record->recorded_at_us;
    principal.granted_by = record->actor;
    projection_principal_assert_valid(&principal, grant->name);
    err = projection_message_put(txn, store, STORE_TABLE_PRINCIPALS, grant->name,
                                 strlen(grant->name), &principal.base, STORE_PUT_NEW);
    return err ? failure_set(failure, err, NULL, "cannot write the principal") : FF_OK;
}

/* Marks the record revoked and deletes its token's index row. */
static ff_err projection_principal_revoke_write(store_txn *txn, ff_store *store,
                                                const Fundflow__V1__EventRecord *record,
                                                Fundflow__V1__PrincipalRecord *principal) {
    principal->revoked_sequence = record->sequence;
    principal->revoked_at_us = record->recorded_at_us;
    char *revoked_by = principal->revoked_by;
    principal->revoked_by = record->actor;
    projection_principal_assert_valid(principal, principal->name);
    ff_err err = projection_message_put(txn, store, STORE_TABLE_PRINCIPALS, principal->name,
                                        strlen(principal->name), &principal->base,
                                        STORE_PUT_REPLACE);
    principal->revoked_by = revoked_by;
    if (err != FF_OK) return err;
    err = ledger_delete(txn, store, STORE_TABLE_PRINCIPAL_TOKENS,
                        STORE_SLICE(principal->token_sha256.data, DIGEST_BYTES));
    /* A live principal's token is always indexed: a missing row means a damaged table. */
    return err == FF_ERR_NOT_FOUND ? FF_ERR_STORAGE : err;
}

static ff_err projection_principal_revoke(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__EventRecord *record,
                                          ff_failure *failure) {
    const Fundflow__V1__PrincipalRevoked *revoke = record->event->principal_revoked;
    Fundflow__V1__PrincipalRecord *principal = NULL;
    ff_err err = projection_principal_read(txn, store, revoke->name, &principal);
    if (err == FF_ERR_PRINCIPAL_UNKNOWN) {
        return failure_set(failure, err, "name", "no principal is named %s", revoke->name);
    }
    if (err != FF_OK) return failure_set(failure, err, "name", "cannot read principal");
    if (principal->revoked_sequence != 0) {
        err = failure_set(failure, FF_ERR_PRINCIPAL_REVOKED, "name",
                          "principal %s was revoked by event %llu", revoke->name,
                          (unsigned long long)principal->revoked_sequence);
    } else {
        err = projection_principal_revoke_write(txn, store, record, principal);
        if (err != FF_OK) failure_set(failure, err, NULL, "cannot write the principal");
    }
    fundflow__v1__principal_record__free_unpacked(principal, NULL);
    return err;
}

const projection_event_rule projection_principal_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED, projection_principal_grant, NULL},
    {FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED, projection_principal_revoke, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
