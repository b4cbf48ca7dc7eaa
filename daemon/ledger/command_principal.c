/* The checks of the principal events: a name of the permitted characters, a role, an optional
 * scope organisation, and the SHA-256 of a token (never the token). */
#include "command.h"

#include <stdbool.h>
#include <string.h>

#include "command_field.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

#define COMMAND_TOKEN_SHA256_BYTES 32

static bool command_principal_char_valid(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '@' || c == '-';
}

/* A principal's name: 1 to FF_PRINCIPAL_NAME_BYTES_MAX of A-Z a-z 0-9 . _ @ -, since it is
 * recorded as the actor of every event the principal submits and keys the actor index. */
static ff_err command_principal_name_check(const char *name, ff_failure *failure) {
    ff_err err = command_text_check(name, "name", FF_PRINCIPAL_NAME_BYTES_MAX, true, failure);
    if (err != FF_OK) return err;
    for (const char *c = name; *c != '\0'; c++) {
        if (!command_principal_char_valid(*c)) {
            return failure_set(failure, FF_ERR_TEXT_INVALID, "name",
                               "a principal's name holds only letters, digits and . _ @ -");
        }
    }
    return FF_OK;
}

/* Exactly 32 bytes, and not all zero (what a failed hash would give). */
static ff_err command_token_sha256_check(ProtobufCBinaryData sha256, ff_failure *failure) {
    if (sha256.len == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "token_sha256",
                           "token_sha256 is required");
    }
    if (sha256.len > COMMAND_TOKEN_SHA256_BYTES) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, "token_sha256",
                           "token_sha256 is %zu bytes long; a SHA-256 is %d", sha256.len,
                           COMMAND_TOKEN_SHA256_BYTES);
    }
    bool zero = true;
    for (size_t i = 0; i < sha256.len; i++) zero = zero && sha256.data[i] == 0;
    if (sha256.len != COMMAND_TOKEN_SHA256_BYTES || zero) {
        return failure_set(failure, FF_ERR_ENUM_INVALID, "token_sha256",
                           "token_sha256 must be a SHA-256: 32 bytes, not all zero");
    }
    return FF_OK;
}

static ff_err command_principal_grant_check(const Fundflow__V1__Event *payload,
                                            ff_failure *failure) {
    const Fundflow__V1__PrincipalGranted *event = payload->principal_granted;
    ff_err err = command_principal_name_check(event->name, failure);
    if (!err) err = command_enum_check(&fundflow__v1__principal_role__descriptor, event->role,
                                       "role", failure);
    if (!err) err = command_org_code_check(event->scope_org_code, "scope_org_code", false,
                                           failure);
    /* An admin may grant anything and an auditor reads everything, so a scope on either would
     * promise a limit the roles do not keep. */
    bool national_role = event->role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN ||
                         event->role == FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR;
    if (!err && national_role && event->scope_org_code[0] != '\0') {
        err = failure_set(failure, FF_ERR_SCOPE_NOT_ALLOWED, "scope_org_code",
                          "admins and auditors are national; scope_org_code %s is for a writer "
                          "or a reader",
                          event->scope_org_code);
    }
    if (!err) err = command_token_sha256_check(event->token_sha256, failure);
    return err;
}

static ff_err command_principal_revoke_check(const Fundflow__V1__Event *payload,
                                             ff_failure *failure) {
    const Fundflow__V1__PrincipalRevoked *event = payload->principal_revoked;
    ff_err err = command_principal_name_check(event->name, failure);
    if (!err) err = command_text_check(event->reason, "reason", FF_REASON_BYTES_MAX, false,
                                       failure);
    return err;
}

const command_event_rule command_principal_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED, command_principal_grant_check},
    {FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED, command_principal_revoke_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
