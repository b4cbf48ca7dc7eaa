/* fundflow-admin principal add and list: a PrincipalGranted event recorded offline with a new
 * token, whose SHA-256 alone the ledger keeps; and the principals table printed. */
#include "admin_principal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "json_codec.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

#define ADMIN_PROGRAM "fundflow-admin"
/* How much of the token's hash names the grant's idempotency key: a re-run makes a new token,
 * so a new key, and is refused for the name rather than as a conflict. */
#define ADMIN_KEY_HASH_BYTES 8

static uint32_t admin_today(void) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc) == NULL) return 0;
    return (uint32_t)(utc.tm_year + 1900) * 10000u + (uint32_t)(utc.tm_mon + 1) * 100u +
           (uint32_t)utc.tm_mday;
}

static const char *admin_role_name(uint32_t role) {
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__principal_role__descriptor, (int)role);
    return value ? value->name : "UNSPECIFIED";
}

/* Records the grant; fills why it was refused into failure. */
static ff_err admin_grant_record(ff_ledger *ledger, const admin_principal_request *request,
                                 uint8_t sha256[32], ff_failure *failure) {
    char key[32];
    int written = snprintf(key, sizeof key, "principal-");
    for (size_t i = 0; i < ADMIN_KEY_HASH_BYTES; i++) {
        written += snprintf(key + written, sizeof key - (size_t)written, "%02x", sha256[i]);
    }
    Fundflow__V1__PrincipalGranted grant = FUNDFLOW__V1__PRINCIPAL_GRANTED__INIT;
    grant.name = (char *)request->name;
    grant.role = (Fundflow__V1__PrincipalRole)request->role;
    grant.scope_org_code = (char *)(request->scope ? request->scope : "");
    grant.token_sha256.data = sha256;
    grant.token_sha256.len = 32;
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED;
    event.principal_granted = &grant;
    Fundflow__V1__Command command = FUNDFLOW__V1__COMMAND__INIT;
    command.idempotency_key = key;
    command.effective_date = admin_today();
    command.event = &event;
    Fundflow__V1__Command *commands[] = {&command};
    ledger_batch batch = {.commands = commands, .command_count = 1,
                          .actor = ADMIN_PRINCIPAL_ACTOR, .principal = NULL};
    ledger_result result;
    ff_err err = ledger_batch_apply(ledger, &batch, &result);
    *failure = result.failure;
    return err != FF_OK ? err : result.failure.code;
}

int admin_principal_add(ff_ledger *ledger, const admin_principal_request *request) {
    char token[FF_TOKEN_TEXT_BYTES + 1];
    uint8_t sha256[32];
    ff_err err = access_token_new(token, sha256);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " principal add: cannot make a token: %s\n",
                ff_strerror(err));
        return 1;
    }
    ff_failure failure;
    failure_clear(&failure);
    err = admin_grant_record(ledger, request, sha256, &failure);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " principal add: %s%s%s: %s\n", ff_err_name(err),
                failure.field ? " " : "", failure.field ? failure.field : "",
                failure.detail[0] ? failure.detail : ff_strerror(err));
        memset(token, 0, sizeof token);
        return 1;
    }
    /* The name holds only letters, digits and . _ @ - and the token hex, so neither needs
     * escaping in JSON. */
    if (request->json) {
        printf("{\"name\":\"%s\",\"token\":\"%s\"}\n", request->name, token);
    } else {
        printf("Granted principal %s, role %s, scope %s.\n", request->name,
               admin_role_name(request->role),
               request->scope && request->scope[0] ? request->scope : "national");
        printf("Its token is shown only now; keep it secret:\n%s\n", token);
    }
    memset(token, 0, sizeof token);
    return 0;
}

/* Principals as read for the list, into a ListPrincipalsResponse. */
typedef struct admin_principal_list_walk {
    Fundflow__V1__ListPrincipalsResponse *list;
} admin_principal_list_walk;

static ff_err admin_principal_row(void *argument, store_slice key, store_slice value,
                                  bool *stop) {
    (void)key, (void)stop;
    admin_principal_list_walk *walk = argument;
    Fundflow__V1__ListPrincipalsResponse *list = walk->list;
    if (list->n_principals == FF_PRINCIPALS_MAX) return FF_ERR_TOO_LARGE;
    Fundflow__V1__PrincipalRecord *record =
        fundflow__v1__principal_record__unpack(NULL, value.bytes, value.data);
    if (record == NULL) return FF_ERR_STORAGE;
    /* The token's hash is no one's business: it stays in the ledger. */
    record->token_sha256.len = 0;
    Fundflow__V1__PrincipalRecord **grown =
        realloc(list->principals, (list->n_principals + 1) * sizeof *grown);
    if (grown == NULL) {
        fundflow__v1__principal_record__free_unpacked(record, NULL);
        return FF_ERR_NO_MEMORY;
    }
    list->principals = grown;
    list->principals[list->n_principals++] = record;
    return FF_OK;
}

static void admin_principal_list_free(Fundflow__V1__ListPrincipalsResponse *list) {
    for (size_t i = 0; i < list->n_principals; i++) {
        fundflow__v1__principal_record__free_unpacked(list->principals[i], NULL);
    }
    free(list->principals);
}

static ff_err admin_principals_read(ff_ledger *ledger,
                                    Fundflow__V1__ListPrincipalsResponse *list) {
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    admin_principal_list_walk walk = {list};
    err = store_each(txn, ledger_store(ledger), STORE_TABLE_PRINCIPALS, STORE_SLICE(NULL, 0),
                     admin_principal_row, &walk);
    ledger_read_txn_end(ledger, txn);
    return err;
}

static void admin_principals_print(const Fundflow__V1__ListPrincipalsResponse *list) {
    printf("%-24s %-8s %-12s %-10s %s\n", "name", "role", "scope", "granted", "status");
    for (size_t i = 0; i < list->n_principals; i++) {
        const Fundflow__V1__PrincipalRecord *p = list->principals[i];
        char granted[32], status[96];
        snprintf(granted, sizeof granted, "event %" PRIu64, p->granted_sequence);
        if (p->revoked_sequence != 0) {
            snprintf(status, sizeof status, "revoked by %s, event %" PRIu64, p->revoked_by,
                     p->revoked_sequence);
        } else {
            snprintf(status, sizeof status, "active (granted by %s)", p->granted_by);
        }
        printf("%-24s %-8s %-12s %-10s %s\n", p->name, admin_role_name(p->role),
               p->scope_org_code[0] ? p->scope_org_code : "national", granted, status);
    }
    printf("%zu principal%s\n", list->n_principals, list->n_principals == 1 ? "" : "s");
}

static int admin_principals_json_print(const Fundflow__V1__ListPrincipalsResponse *list) {
    char *text = NULL;
    size_t length = 0;
    ff_err err = json_codec_encode(&list->base, &text, &length);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " principal list: %s\n", ff_strerror(err));
        return 1;
    }
    fwrite(text, 1, length, stdout);
    fputc('\n', stdout);
    free(text);
    return 0;
}

int admin_principal_list(ff_ledger *ledger, bool json) {
    Fundflow__V1__ListPrincipalsResponse list = FUNDFLOW__V1__LIST_PRINCIPALS_RESPONSE__INIT;
    ff_err err = admin_principals_read(ledger, &list);
    int code = 0;
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " principal list: cannot read the principals: %s\n",
                ff_strerror(err));
        code = 1;
    } else if (json) {
        code = admin_principals_json_print(&list);
    } else {
        admin_principals_print(&list);
    }
    admin_principal_list_free(&list);
    return code;
}
