/* Who a request is, by its bearer token or the bootstrap rules, and the commands that grant and
 * revoke principals. */
#include "principals.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"

#define PRINCIPALS_BEARER "Bearer "
#define PRINCIPALS_GRANT_KEY "principal-grant/"
#define PRINCIPALS_REVOKE_KEY "principal-revoke/"

_Static_assert(sizeof PRINCIPALS_REVOKE_KEY - 1 + FF_PRINCIPAL_NAME_BYTES_MAX <=
                   FF_IDEMPOTENCY_KEY_BYTES_MAX,
               "a principal event's idempotency key fits");

uint32_t principals_today(void) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc) == NULL) return 0;
    return (uint32_t)(utc.tm_year + 1900) * 10000u + (uint32_t)(utc.tm_mon + 1) * 100u +
           (uint32_t)utc.tm_mday;
}

static bool principals_admin_token_matches(const config *settings, const char *token,
                                           size_t token_bytes) {
    size_t configured_bytes = strlen(settings->admin_token);
    return configured_bytes != 0 && token_bytes == configured_bytes &&
           CRYPTO_memcmp(token, settings->admin_token, token_bytes) == 0;
}

/* The rules, inside one read transaction. authorization is the Authorization header, or NULL
 * when there is none; a header that is not a bearer token is refused, never ignored. */
static ff_err principals_identify(store_txn *txn, ff_store *store, const config *settings,
                                  const char *authorization, bool loopback,
                                  access_principal *who) {
    bool exist = true;
    ff_err err = access_principals_exist(txn, store, &exist);
    if (err != FF_OK) return err;
    if (authorization == NULL) {
        if (exist || settings->admin_token[0] != '\0' || !loopback) return FF_ERR_UNAUTHENTICATED;
        access_principal_bootstrap(who, PRINCIPALS_LOOPBACK_NAME, who->today);
        return FF_OK;
    }
    size_t prefix_bytes = strlen(PRINCIPALS_BEARER);
    if (strncmp(authorization, PRINCIPALS_BEARER, prefix_bytes) != 0) {
        return FF_ERR_UNAUTHENTICATED;
    }
    const char *token = authorization + prefix_bytes;
    size_t token_bytes = strlen(token);
    if (token_bytes == 0) return FF_ERR_UNAUTHENTICATED;
    if (!exist && principals_admin_token_matches(settings, token, token_bytes)) {
        access_principal_bootstrap(who, PRINCIPALS_ADMIN_TOKEN_NAME, who->today);
        return FF_OK;
    }
    return access_principal_by_token(txn, store, token, token_bytes, who);
}

ff_err principals_authenticate(ff_ledger *ledger, const config *settings,
                               const char *authorization, bool loopback, access_principal *who) {
    memset(who, 0, sizeof *who);
    who->today = principals_today();
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    err = principals_identify(txn, ledger_store(ledger), settings, authorization, loopback, who);
    ledger_read_txn_end(ledger, txn);
    if (err != FF_OK) memset(who->name, 0, sizeof who->name);
    return err;
}

void principals_admin_token_warn(ff_ledger *ledger, const config *settings) {
    if (settings->admin_token[0] == '\0') return;
    store_txn *txn = NULL;
    bool exist = false;
    if (ledger_read_txn_begin(ledger, &txn) != FF_OK) return;
    ff_err err = access_principals_exist(txn, ledger_store(ledger), &exist);
    ledger_read_txn_end(ledger, txn);
    if (err == FF_OK && exist) {
        logline_write("level=warn msg=\"admin_token is ignored: principals exist; remove it\" "
                      "path=\"%s\"",
                      settings->config_path[0] ? settings->config_path : "-");
    }
}

/* ---- the commands ---- */

/* Packs a request built on the stack and unpacks it on the heap, so that a writer job owns
 * every byte of it and frees it as it frees any SubmitCommands request. */
static ff_err principals_request_own(const char *key_prefix, const char *name, uint32_t today,
                                     Fundflow__V1__Event *event,
                                     Fundflow__V1__SubmitCommandsRequest **request_out) {
    char key[FF_IDEMPOTENCY_KEY_BYTES_MAX + 1];
    snprintf(key, sizeof key, "%s%s", key_prefix, name);
    Fundflow__V1__Command command = FUNDFLOW__V1__COMMAND__INIT;
    command.idempotency_key = key;
    command.effective_date = today;
    command.event = event;
    Fundflow__V1__Command *commands[1] = {&command};
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = 1;
    request.linked = true;
    size_t bytes = fundflow__v1__submit_commands_request__get_packed_size(&request);
    uint8_t *packed = malloc(bytes ? bytes : 1);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    fundflow__v1__submit_commands_request__pack(&request, packed);
    *request_out = fundflow__v1__submit_commands_request__unpack(NULL, bytes, packed);
    OPENSSL_cleanse(packed, bytes);
    free(packed);
    return *request_out ? FF_OK : FF_ERR_NO_MEMORY;
}

ff_err principals_grant_request(const Fundflow__V1__GrantPrincipalRequest *grant, uint32_t today,
                                char token[FF_TOKEN_TEXT_BYTES + 1],
                                Fundflow__V1__SubmitCommandsRequest **request_out,
                                ff_failure *failure) {
    *request_out = NULL;
    uint8_t sha256[32];
    ff_err err = access_token_new(token, sha256);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot make a token");
    Fundflow__V1__PrincipalGranted granted = FUNDFLOW__V1__PRINCIPAL_GRANTED__INIT;
    granted.name = grant->name;
    granted.role = grant->role;
    granted.scope_org_code = grant->scope_org_code;
    granted.token_sha256.data = sha256;
    granted.token_sha256.len = sizeof sha256;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED;
    event.principal_granted = &granted;
    err = principals_request_own(PRINCIPALS_GRANT_KEY, grant->name, today, &event, request_out);
    OPENSSL_cleanse(sha256, sizeof sha256);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot build the command");
    return FF_OK;
}

ff_err principals_revoke_request(const Fundflow__V1__RevokePrincipalRequest *revoke,
                                 uint32_t today, Fundflow__V1__SubmitCommandsRequest **request_out,
                                 ff_failure *failure) {
    *request_out = NULL;
    Fundflow__V1__PrincipalRevoked revoked = FUNDFLOW__V1__PRINCIPAL_REVOKED__INIT;
    revoked.name = revoke->name;
    revoked.reason = revoke->reason;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED;
    event.principal_revoked = &revoked;
    ff_err err = principals_request_own(PRINCIPALS_REVOKE_KEY, revoke->name, today, &event,
                                        request_out);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot build the command");
    return FF_OK;
}

ff_err principals_record_read(ff_ledger *ledger, const char *name,
                              Fundflow__V1__PrincipalRecord **record_out, ff_failure *failure) {
    *record_out = NULL;
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err == FF_OK) {
        err = access_principal_read(txn, ledger_store(ledger), name, record_out);
        ledger_read_txn_end(ledger, txn);
    }
    if (err != FF_OK) return failure_set(failure, err, "name", "cannot read the principal");
    /* Only the token's owner needs to know it; its hash is no one else's business either. */
    Fundflow__V1__PrincipalRecord *record = *record_out;
    if (record->token_sha256.data) OPENSSL_cleanse(record->token_sha256.data,
                                                   record->token_sha256.len);
    record->token_sha256.len = 0;
    return FF_OK;
}
