/* Who may do what: the role each RPC needs, tokens and the principals that hold them,
 * organisation scope as at a date, and the acting organisation of every command (access.h has
 * the rules). */
#include "access.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "digest.h"
#include "log.h"
#include "projection.h"
#include "projection_contract.h"
#include "projection_link.h"
#include "projection_org.h"
#include "projection_principal.h"
#include "ledger_write.h"

#define ACCESS_ROOTS_MAX (1 + FF_MEMBERS_MAX)

const access_method access_methods[] = {
    {"GetOrg", ACCESS_NEED_TOKEN},
    {"ListOrgs", ACCESS_NEED_TOKEN},
    {"GetDelegations", ACCESS_NEED_TOKEN},
    {"ServerInfo", ACCESS_NEED_TOKEN},
    {"ListPlugins", ACCESS_NEED_TOKEN},
    {"GetPosition", ACCESS_NEED_READ},
    {"GetAccountHistory", ACCESS_NEED_READ},
    {"ListEvents", ACCESS_NEED_READ},
    {"GetEvent", ACCESS_NEED_READ},
    {"GetContractPosition", ACCESS_NEED_READ},
    {"ListContracts", ACCESS_NEED_READ},
    {"GetFundingFlows", ACCESS_NEED_READ},
    {"GetHistory", ACCESS_NEED_READ},
    {"RunReport", ACCESS_NEED_READ},
    {"ExportReport", ACCESS_NEED_READ},
    {"GetOutturn", ACCESS_NEED_READ},
    {"Reconcile", ACCESS_NEED_READ},
    {"WatchEvents", ACCESS_NEED_READ},
    {"GetSignedHead", ACCESS_NEED_READ},
    {"GetInclusionProof", ACCESS_NEED_READ},
    {"GetConsistencyProof", ACCESS_NEED_READ},
    {"SubmitCommands", ACCESS_NEED_WRITE},
    {"VerifyLedger", ACCESS_NEED_AUDIT},
    {"ListPrincipals", ACCESS_NEED_AUDIT},
    {"ReloadPlugins", ACCESS_NEED_ADMIN},
    {"GrantPrincipal", ACCESS_NEED_ADMIN},
    {"RevokePrincipal", ACCESS_NEED_ADMIN},
    {"BackupLedger", ACCESS_NEED_ADMIN},
    {"GetClusterStatus", ACCESS_NEED_AUDIT},
    {"AddClusterNode", ACCESS_NEED_ADMIN},
    {"RemoveClusterNode", ACCESS_NEED_ADMIN},
    {"TransferLeadership", ACCESS_NEED_ADMIN},
    {NULL, 0},
};

/* ---- roles ---- */

static bool access_role_valid(access_role role) {
    return role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN ||
           role == FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER ||
           role == FUNDFLOW__V1__PRINCIPAL_ROLE__READER ||
           role == FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR;
}

static bool access_role_meets(access_role role, access_need need) {
    if (!access_role_valid(role)) return false;
    switch (need) {
    case ACCESS_NEED_TOKEN:
    case ACCESS_NEED_READ:
        return true;
    case ACCESS_NEED_WRITE:
        return role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN ||
               role == FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER;
    case ACCESS_NEED_AUDIT:
        return role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN ||
               role == FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR;
    case ACCESS_NEED_ADMIN:
        return role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN;
    }
    return false;
}

static const char *access_role_name(access_role role) {
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__principal_role__descriptor, (int)role);
    return value ? value->name : "UNSPECIFIED";
}

ff_err access_method_check(const access_principal *who, const char *method) {
    assert(who != NULL);
    if (method == NULL) return FF_ERR_BAD_ROUTE;
    for (const access_method *row = access_methods; row->name != NULL; row++) {
        if (strcmp(row->name, method) != 0) continue;
        return access_role_meets(who->role, row->need) ? FF_OK : FF_ERR_PERMISSION_DENIED;
    }
    return FF_ERR_BAD_ROUTE;
}

void access_principal_bootstrap(access_principal *who, const char *name, uint32_t today) {
    assert(name != NULL && name[0] != '\0' && strlen(name) <= FF_PRINCIPAL_NAME_BYTES_MAX);
    memset(who, 0, sizeof *who);
    memcpy(who->name, name, strlen(name));
    who->role = FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN;
    who->today = today;
}

bool access_is_national(const access_principal *who) { return who->scope[0] == '\0'; }

/* ---- tokens and principals ---- */

/* Fills bytes from the kernel's random source, going on after interrupts and short reads. */
static ff_err access_random_fill(uint8_t *bytes, size_t count) {
    size_t filled = 0;
    while (filled < count) {
        ssize_t got = getrandom(bytes + filled, count - filled, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return FF_ERR_STORAGE;
        filled += (size_t)got;
    }
    return FF_OK;
}

ff_err access_token_new(char token[FF_TOKEN_TEXT_BYTES + 1], uint8_t sha256[32]) {
    static const char hex[] = "0123456789abcdef";
    uint8_t random[FF_TOKEN_RANDOM_BYTES];
    ff_err err = access_random_fill(random, sizeof random);
    if (err != FF_OK) return err;
    size_t prefix_bytes = sizeof FF_TOKEN_PREFIX - 1;
    memcpy(token, FF_TOKEN_PREFIX, prefix_bytes);
    for (size_t i = 0; i < sizeof random; i++) {
        token[prefix_bytes + 2 * i] = hex[random[i] >> 4];
        token[prefix_bytes + 2 * i + 1] = hex[random[i] & 0xF];
    }
    token[FF_TOKEN_TEXT_BYTES] = '\0';
    memset(random, 0, sizeof random);
    access_token_hash(token, FF_TOKEN_TEXT_BYTES, sha256);
    return FF_OK;
}

/* A hash that cannot be computed comes out all zero, which no grant may hold (command_principal.c
 * refuses it), so the token is then simply not found. */
void access_token_hash(const char *token, size_t token_bytes, uint8_t sha256[32]) {
    if (digest_two_parts((const uint8_t *)token, token_bytes, NULL, 0, sha256) != FF_OK) {
        memset(sha256, 0, DIGEST_BYTES);
    }
}

/* A store error is passed on as it is when the store says it failed; any other answer than
 * "found" or "not there" is damage, so storage. */
static ff_err access_store_failure(ff_err err) {
    return store_error_is_failure(err) ? err : FF_ERR_STORAGE;
}

static void access_principal_fill(const Fundflow__V1__PrincipalRecord *record,
                                  access_principal *who) {
    uint32_t today = who->today;
    memset(who, 0, sizeof *who);
    assert(strlen(record->name) <= FF_PRINCIPAL_NAME_BYTES_MAX);
    assert(strlen(record->scope_org_code) <= FF_ORG_CODE_BYTES_MAX);
    memcpy(who->name, record->name, strlen(record->name));
    memcpy(who->scope, record->scope_org_code, strlen(record->scope_org_code));
    who->role = record->role;
    who->today = today;
}

ff_err access_principal_by_token(store_txn *txn, ff_store *store, const char *token,
                                 size_t token_bytes, access_principal *who) {
    if (token == NULL || token_bytes == 0 || token_bytes > FF_TOKEN_BYTES_MAX) {
        return FF_ERR_UNAUTHENTICATED;
    }
    uint8_t sha256[DIGEST_BYTES];
    access_token_hash(token, token_bytes, sha256);
    char name[FF_PRINCIPAL_NAME_BYTES_MAX + 1];
    ff_err err = projection_principal_token_name(txn, store, sha256, name);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_UNAUTHENTICATED;
    if (err != FF_OK) return access_store_failure(err);
    Fundflow__V1__PrincipalRecord *record = NULL;
    err = projection_principal_read(txn, store, name, &record);
    /* The index names only principals that exist: one that does not means a damaged table. */
    if (err != FF_OK) return err == FF_ERR_PRINCIPAL_UNKNOWN ? FF_ERR_STORAGE
                                                             : access_store_failure(err);
    if (memcmp(record->token_sha256.data, sha256, DIGEST_BYTES) != 0) {
        err = FF_ERR_STORAGE;
    } else if (record->revoked_sequence != 0) {
        err = FF_ERR_UNAUTHENTICATED;
    } else {
        access_principal_fill(record, who);
    }
    fundflow__v1__principal_record__free_unpacked(record, NULL);
    return err;
}

ff_err access_principals_exist(store_txn *txn, ff_store *store, bool *exist_out) {
    *exist_out = false;
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_PRINCIPALS, &cursor);
    if (err != FF_OK) return access_store_failure(err);
    err = store_cursor_move(cursor, STORE_FIRST, NULL, NULL);
    store_cursor_close(cursor);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    *exist_out = true;
    return FF_OK;
}

ff_err access_principal_read(store_txn *txn, ff_store *store, const char *name,
                             Fundflow__V1__PrincipalRecord **record_out) {
    ff_err err = projection_principal_read(txn, store, name, record_out);
    return err == FF_OK || err == FF_ERR_PRINCIPAL_UNKNOWN ? err : access_store_failure(err);
}

/* ---- scope ---- */

/* A scope as it stood on the principal's today: everything, or the organisations whose
 * descendants it covers (its own organisation and, for a grouping, the members). */
typedef struct access_scope {
    bool everything;
    uint32_t date;
    size_t root_count;
    char roots[ACCESS_ROOTS_MAX][FF_ORG_CODE_BYTES_MAX + 1];
} access_scope;

static void access_scope_root_add(access_scope *scope, const char *code) {
    assert(scope->root_count < ACCESS_ROOTS_MAX && strlen(code) <= FF_ORG_CODE_BYTES_MAX);
    memcpy(scope->roots[scope->root_count], code, strlen(code) + 1);
    scope->root_count++;
}

/* The members of a provider collaborative or joint committee as at the scope's date. */
static ff_err access_scope_members_add(store_txn *txn, ff_store *store, access_scope *scope,
                                       const char *code) {
    Fundflow__V1__OrgLinkRecord *links = NULL;
    ff_err err = projection_org_links_at(txn, store, code, scope->date, &links);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    for (size_t i = 0; i < links->n_member_codes; i++) {
        access_scope_root_add(scope, links->member_codes[i]);
    }
    fundflow__v1__org_link_record__free_unpacked(links, NULL);
    return FF_OK;
}

static ff_err access_scope_load(store_txn *txn, ff_store *store, const access_principal *who,
                                access_scope *scope) {
    memset(scope, 0, sizeof *scope);
    scope->date = who->today != 0 ? who->today : UINT32_MAX;
    if (access_is_national(who)) {
        scope->everything = true;
        return FF_OK;
    }
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(txn, store, who->scope, &org);
    /* A scope organisation that is not registered covers nothing. */
    if (err == FF_ERR_ORG_UNKNOWN) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    org_kind kind = org->kind;
    fundflow__v1__org_record__free_unpacked(org, NULL);
    if (kind == FUNDFLOW__V1__ORG_KIND__NHSE) {
        scope->everything = true;
        return FF_OK;
    }
    access_scope_root_add(scope, who->scope);
    if (kind == FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE ||
        kind == FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE) {
        return access_scope_members_add(txn, store, scope, who->scope);
    }
    return FF_OK;
}

static bool access_scope_is_root(const access_scope *scope, const char *code) {
    for (size_t i = 0; i < scope->root_count; i++) {
        if (strcmp(scope->roots[i], code) == 0) return true;
    }
    return false;
}

/* Walks up from code through its parents as at the scope's date, at most FF_SCOPE_DEPTH_MAX
 * steps, looking for one of the scope's roots. */
static ff_err access_scope_covers(store_txn *txn, ff_store *store, const access_scope *scope,
                                  const char *code, bool *covered_out) {
    *covered_out = scope->everything;
    if (scope->everything || code == NULL || code[0] == '\0') return FF_OK;
    char current[FF_ORG_CODE_BYTES_MAX + 1];
    if (strlen(code) > FF_ORG_CODE_BYTES_MAX) return FF_OK;
    memcpy(current, code, strlen(code) + 1);
    for (int step = 0;; step++) {
        if (access_scope_is_root(scope, current)) {
            *covered_out = true;
            return FF_OK;
        }
        if (step == FF_SCOPE_DEPTH_MAX) return FF_OK;
        Fundflow__V1__OrgLinkRecord *links = NULL;
        ff_err err = projection_org_links_at(txn, store, current, scope->date, &links);
        if (err == FF_ERR_NOT_FOUND) return FF_OK;
        if (err != FF_OK) return access_store_failure(err);
        size_t parent_bytes = strlen(links->parent_code);
        assert(parent_bytes <= FF_ORG_CODE_BYTES_MAX);
        memcpy(current, links->parent_code, parent_bytes + 1);
        fundflow__v1__org_link_record__free_unpacked(links, NULL);
        if (parent_bytes == 0) return FF_OK;
    }
}

ff_err access_org_covered(store_txn *txn, ff_store *store, const access_principal *who,
                          const char *org_code, bool *covered_out) {
    *covered_out = true;
    if (access_is_national(who)) return FF_OK;
    access_scope scope;
    ff_err err = access_scope_load(txn, store, who, &scope);
    if (err == FF_OK) err = access_scope_covers(txn, store, &scope, org_code, covered_out);
    if (err != FF_OK) *covered_out = false;
    return err;
}

static ff_err access_out_of_scope(const access_principal *who, const char *org_code,
                                  const char *field, ff_failure *failure) {
    return failure_set(failure, FF_ERR_OUT_OF_SCOPE, field,
                       "%s is outside the scope of principal %s, which is %s and what it covers",
                       org_code, who->name, who->scope);
}

ff_err access_org_check(store_txn *txn, ff_store *store, const access_principal *who,
                        const char *org_code, const char *field, ff_failure *failure) {
    bool covered = false;
    ff_err err = access_org_covered(txn, store, who, org_code, &covered);
    if (err != FF_OK) return failure_set(failure, err, field, "cannot read the scope");
    return covered ? FF_OK : access_out_of_scope(who, org_code, field, failure);
}

/* A contract under a scope: its commissioner, its provider, or its provider's lead provider as at
 * the scope's date. */
static ff_err access_scope_covers_contract(store_txn *txn, ff_store *store,
                                           const access_scope *scope, const char *commissioner,
                                           const char *provider, bool *covered_out) {
    ff_err err = access_scope_covers(txn, store, scope, commissioner, covered_out);
    if (err != FF_OK || *covered_out) return err;
    err = access_scope_covers(txn, store, scope, provider, covered_out);
    if (err != FF_OK || *covered_out) return err;
    Fundflow__V1__OrgLinkRecord *links = NULL;
    err = projection_org_links_at(txn, store, provider, scope->date, &links);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    err = access_scope_covers(txn, store, scope, links->lead_provider_code, covered_out);
    fundflow__v1__org_link_record__free_unpacked(links, NULL);
    return err;
}

ff_err access_contract_covered(store_txn *txn, ff_store *store, const access_principal *who,
                               const Fundflow__V1__ContractRecord *contract, bool *covered_out) {
    *covered_out = true;
    if (access_is_national(who)) return FF_OK;
    access_scope scope;
    ff_err err = access_scope_load(txn, store, who, &scope);
    if (err == FF_OK) {
        err = access_scope_covers_contract(txn, store, &scope, contract->commissioner_code,
                                           contract->provider_code, covered_out);
    }
    if (err != FF_OK) *covered_out = false;
    return err;
}

/* ---- events ---- */

/* What an event concerns: up to two organisations, or a contract, or everyone (reference data),
 * or only national principals (principals themselves). */
typedef struct access_concern {
    const char *orgs[2];
    const char *commissioner; /* a contract's parties, for ContractAgreed */
    const char *provider;
    const char *contract_id;  /* a contract to read */
    bool everyone;
    uint64_t reversed_sequence;
} access_concern;

static void access_concern_find(const Fundflow__V1__Event *event, access_concern *concern) {
    memset(concern, 0, sizeof *concern);
    switch (event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED:
        concern->orgs[0] = event->allocation_issued->funder_code;
        concern->orgs[1] = event->allocation_issued->recipient_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED:
        concern->orgs[0] = event->budget_delegated->from_code;
        concern->orgs[1] = event->budget_delegated->to_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        concern->commissioner = event->contract_agreed->commissioner_code;
        concern->provider = event->contract_agreed->provider_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        concern->contract_id = event->contract_varied->contract_id;
        break;
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        concern->contract_id = event->payment_made->contract_id;
        break;
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        concern->contract_id = event->outcome_reported->contract_id;
        break;
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        concern->orgs[0] = event->statement_submitted->org_code;
        concern->orgs[1] = event->statement_submitted->counterparty_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        concern->orgs[0] = event->period_closed->org_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_PLAN_SET:
        concern->orgs[0] = event->plan_set->org_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED:
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
    case FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED:
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED:
    case FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET: /* NHS England's limits are published */
        concern->everyone = true;
        break;
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        concern->reversed_sequence = event->reversal->reversed_sequence;
        break;
    default: /* principal events, and anything newer: national principals only */
        break;
    }
}

static ff_err access_scope_covers_stored_contract(store_txn *txn, ff_store *store,
                                                  const access_scope *scope,
                                                  const char *contract_id, bool *covered_out) {
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(txn, store, contract_id, UINT64_MAX, &contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    err = access_scope_covers_contract(txn, store, scope, contract->commissioner_code,
                                       contract->provider_code, covered_out);
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err access_scope_covers_event(store_txn *txn, ff_store *store, const access_scope *scope,
                                        const Fundflow__V1__Event *event, bool reversed,
                                        bool *covered_out);

/* A reversal concerns what the event it reverses concerns (a reversal is never reversed). */
static ff_err access_scope_covers_reversal(store_txn *txn, ff_store *store,
                                           const access_scope *scope, uint64_t sequence,
                                           bool *covered_out) {
    Fundflow__V1__EventRecord *target = NULL;
    ff_err err = log_read(txn, store, sequence, &target);
    if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err == FF_ERR_LOG_DECODE ? err : access_store_failure(err);
    err = access_scope_covers_event(txn, store, scope, target->event, true, covered_out);
    fundflow__v1__event_record__free_unpacked(target, NULL);
    return err;
}

static ff_err access_scope_covers_event(store_txn *txn, ff_store *store, const access_scope *scope,
                                        const Fundflow__V1__Event *event, bool reversed,
                                        bool *covered_out) {
    *covered_out = scope->everything;
    if (scope->everything || event == NULL) return FF_OK;
    access_concern concern;
    access_concern_find(event, &concern);
    ff_err err = FF_OK;
    *covered_out = concern.everyone;
    for (size_t i = 0; err == FF_OK && !*covered_out && i < 2; i++) {
        err = access_scope_covers(txn, store, scope, concern.orgs[i], covered_out);
    }
    if (err == FF_OK && !*covered_out && concern.commissioner != NULL) {
        err = access_scope_covers_contract(txn, store, scope, concern.commissioner,
                                           concern.provider, covered_out);
    }
    if (err == FF_OK && !*covered_out && concern.contract_id != NULL) {
        err = access_scope_covers_stored_contract(txn, store, scope, concern.contract_id,
                                                  covered_out);
    }
    if (err == FF_OK && !*covered_out && concern.reversed_sequence != 0 && !reversed) {
        err = access_scope_covers_reversal(txn, store, scope, concern.reversed_sequence,
                                           covered_out);
    }
    return err;
}

ff_err access_event_covered(store_txn *txn, ff_store *store, const access_principal *who,
                            const Fundflow__V1__EventRecord *event, bool *covered_out) {
    *covered_out = true;
    if (access_is_national(who)) return FF_OK;
    access_scope scope;
    ff_err err = access_scope_load(txn, store, who, &scope);
    if (err == FF_OK) {
        err = access_scope_covers_event(txn, store, &scope, event->event, false, covered_out);
    }
    if (err != FF_OK) *covered_out = false;
    return err;
}

/* ---- writes ---- */

/* Who acts in a command: an organisation named in field, or NHS England (national), or nobody
 * to check here (an unknown contract or event, which the projection refuses). */
typedef struct access_acting {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    const char *field;
    bool national;
} access_acting;

static void access_acting_set(access_acting *acting, const char *code, const char *field) {
    size_t bytes = strlen(code);
    assert(bytes <= FF_ORG_CODE_BYTES_MAX);
    memcpy(acting->code, code, bytes + 1);
    acting->field = field;
}

/* The commissioner of a stored contract acts for its variations, payments and reports. The
 * contract is read through the thread's kept contract, so that the command's projection takes
 * this decoding rather than decoding the contract a second time. */
static ff_err access_acting_contract(store_txn *txn, ff_store *store, const char *contract_id,
                                     const char *field, access_acting *acting) {
    const Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read_kept(txn, store, contract_id, &contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return access_store_failure(err);
    access_acting_set(acting, contract->commissioner_code, field);
    return FF_OK;
}

static ff_err access_acting_find(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__Event *event, bool reversed,
                                 access_acting *acting);

/* The reversed event is read through the thread's kept event, so that the reversal's projection
 * takes this decoding rather than decoding the event a second time. */
static ff_err access_acting_reversal(store_txn *txn, ff_store *store, uint64_t sequence,
                                     access_acting *acting) {
    const Fundflow__V1__EventRecord *target = NULL;
    ff_err err = projection_event_read_kept(txn, store, sequence, &target);
    if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err == FF_ERR_LOG_DECODE ? err : access_store_failure(err);
    err = access_acting_find(txn, store, target->event, true, acting);
    acting->field = "event.reversal.reversed_sequence";
    return err;
}

static ff_err access_acting_find(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__Event *event, bool reversed,
                                 access_acting *acting) {
    switch (event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED:
        access_acting_set(acting, event->allocation_issued->funder_code,
                          "event.allocation_issued.funder_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED:
        access_acting_set(acting, event->budget_delegated->from_code,
                          "event.budget_delegated.from_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        access_acting_set(acting, event->contract_agreed->commissioner_code,
                          "event.contract_agreed.commissioner_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        return access_acting_contract(txn, store, event->contract_varied->contract_id,
                                      "event.contract_varied.contract_id", acting);
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        return access_acting_contract(txn, store, event->payment_made->contract_id,
                                      "event.payment_made.contract_id", acting);
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        return access_acting_contract(txn, store, event->outcome_reported->contract_id,
                                      "event.outcome_reported.contract_id", acting);
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        access_acting_set(acting, event->statement_submitted->org_code,
                          "event.statement_submitted.org_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        access_acting_set(acting, event->period_closed->org_code, "event.period_closed.org_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_PLAN_SET: /* the organisation planning */
        access_acting_set(acting, event->plan_set->org_code, "event.plan_set.org_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET:
        access_acting_set(acting, event->revenue_limit_set->funder_code,
                          "event.revenue_limit_set.funder_code");
        return FF_OK;
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        /* A reversal of a reversal is refused by the projection; nothing to check here. */
        if (reversed) return FF_OK;
        return access_acting_reversal(txn, store, event->reversal->reversed_sequence, acting);
    default: /* registrations, service lines, delegations, principals: NHS England's */
        acting->national = true;
        acting->field = "event";
        return FF_OK;
    }
}

/* The scope of the principal a flat batch is applied as, worked out at the first of its commands
 * that needs it and kept until access_scope_keep_end: it is read only from organisations and
 * their links, which only organisation events write (projection_org_writes counts them), and
 * after any such write it is worked out again. Each thread keeps its own. */
static _Thread_local struct {
    const store_txn *txn; /* NULL when no batch keeps */
    bool held;
    uint64_t org_writes; /* projection_org_writes() when it was worked out */
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    uint32_t today;
    access_scope scope;
} access_scope_kept;

void access_scope_keep_begin(store_txn *txn) {
    assert(txn != NULL);
    access_scope_kept.txn = txn;
    access_scope_kept.held = false;
}

void access_scope_keep_end(void) {
    access_scope_kept.txn = NULL;
    access_scope_kept.held = false;
}

/* The principal's scope for a command in txn: the kept one if it still stands, else read now
 * into *scratch (and kept, if a batch on txn keeps it). */
static ff_err access_scope_load_kept(store_txn *txn, ff_store *store, const access_principal *who,
                                     access_scope *scratch, const access_scope **scope_out) {
    bool keeping = access_scope_kept.txn == txn && txn != NULL;
    if (keeping && access_scope_kept.held &&
        access_scope_kept.org_writes == projection_org_writes() &&
        access_scope_kept.today == who->today && strcmp(access_scope_kept.code, who->scope) == 0) {
        *scope_out = &access_scope_kept.scope;
        return FF_OK;
    }
    access_scope *scope = keeping ? &access_scope_kept.scope : scratch;
    access_scope_kept.held = false;
    ff_err err = access_scope_load(txn, store, who, scope);
    if (err != FF_OK) return err;
    if (keeping) {
        access_scope_kept.held = true;
        access_scope_kept.org_writes = projection_org_writes();
        access_scope_kept.today = who->today;
        memcpy(access_scope_kept.code, who->scope, sizeof access_scope_kept.code);
    }
    *scope_out = scope;
    return FF_OK;
}

static ff_err access_acting_check(store_txn *txn, ff_store *store, const access_principal *who,
                                  const access_acting *acting, ff_failure *failure) {
    if (!acting->national && acting->code[0] == '\0') return FF_OK;
    access_scope scratch;
    const access_scope *scope = NULL;
    ff_err err = access_scope_load_kept(txn, store, who, &scratch, &scope);
    if (err != FF_OK) return failure_set(failure, err, acting->field, "cannot read the scope");
    if (acting->national) {
        if (scope->everything) return FF_OK;
        return failure_set(failure, FF_ERR_OUT_OF_SCOPE, acting->field,
                           "only NHS England may record this, and principal %s is scoped to %s",
                           who->name, who->scope);
    }
    bool covered = false;
    err = access_scope_covers(txn, store, scope, acting->code, &covered);
    if (err != FF_OK) return failure_set(failure, err, acting->field, "cannot read the scope");
    return covered ? FF_OK : access_out_of_scope(who, acting->code, acting->field, failure);
}

ff_err access_command_check(store_txn *txn, ff_store *store, const access_principal *who,
                            const Fundflow__V1__Command *command, ff_failure *failure) {
    assert(who != NULL && command != NULL);
    if (!access_role_meets(who->role, ACCESS_NEED_WRITE)) {
        return failure_set(failure, FF_ERR_PERMISSION_DENIED, NULL,
                           "principal %s is a %s, which may not record commands", who->name,
                           access_role_name(who->role));
    }
    const Fundflow__V1__Event *event = command->event;
    if (event == NULL) return FF_OK; /* the static check refuses it */
    bool principal_event = event->kind_case == FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_GRANTED ||
                           event->kind_case == FUNDFLOW__V1__EVENT__KIND_PRINCIPAL_REVOKED;
    if (principal_event && who->role != FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN) {
        return failure_set(failure, FF_ERR_PERMISSION_DENIED, "event",
                           "only an admin may grant or revoke principals; %s is a %s",
                           who->name, access_role_name(who->role));
    }
    /* A national principal acts everywhere: no reads on the write path. */
    if (access_is_national(who)) return FF_OK;
    access_acting acting;
    memset(&acting, 0, sizeof acting);
    ff_err err = access_acting_find(txn, store, event, false, &acting);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot find the acting organisation");
    return access_acting_check(txn, store, who, &acting, failure);
}
