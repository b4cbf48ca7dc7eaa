/* Who may do what: principals and their tokens, the role each RPC needs, organisation scope, and
 * the acting organisation of every command. These are the rules every transport enforces; a
 * transport only finds the principal (from a bearer token, or the bootstrap rules) and passes it
 * down to the ledger, the queries and the reports.
 *
 * Principals are ledger events (PrincipalGranted, PrincipalRevoked), projected into the
 * principals table (name -> PrincipalRecord) and principal_tokens (SHA-256 of token -> name).
 * A token is FF_TOKEN_PREFIX and FF_TOKEN_RANDOM_BYTES random bytes in hex; only its SHA-256 is
 * ever stored.
 *
 * Scope. A principal with an empty scope is national. One scoped to organisation X covers, as at
 * principal->today: X itself; every organisation whose parent chain reaches X (a region's ICBs,
 * an ICB's places); the members of X when X is a provider collaborative or joint committee; and
 * everyone when X is of kind NHSE. A contract is covered when its commissioner or its provider
 * is covered, or when its provider is a collaborative whose lead provider is covered. An event
 * is covered when any organisation or contract it concerns is covered.
 */
#ifndef FUNDFLOW_ACCESS_H
#define FUNDFLOW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "store.h"
#include "fundflow/limits.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

typedef Fundflow__V1__PrincipalRole access_role;

/* The principal a request acts as. Filled by access_principal_by_token or
 * access_principal_bootstrap; the caller sets today. */
typedef struct access_principal {
    char name[FF_PRINCIPAL_NAME_BYTES_MAX + 1];
    access_role role;
    char scope[FF_ORG_CODE_BYTES_MAX + 1]; /* empty: national */
    uint32_t today;                        /* YYYYMMDD: scope is judged as at this date */
} access_principal;

/* What an RPC needs of its caller. */
typedef enum access_need {
    ACCESS_NEED_TOKEN = 1, /* any principal: reference data, server info, the plugin list */
    ACCESS_NEED_READ,      /* any principal; the handler answers only within scope */
    ACCESS_NEED_WRITE,     /* admin or writer; each command's acting organisation in scope */
    ACCESS_NEED_AUDIT,     /* admin or auditor */
    ACCESS_NEED_ADMIN,     /* admin only */
} access_need;

typedef struct access_method {
    const char *name; /* the RPC's name in the Ledger service, such as "GetOrg" */
    access_need need;
} access_method;

/* Every RPC of the Ledger service with what it needs, ending with a NULL name. An RPC without a
 * row is refused to everyone (fail closed). */
extern const access_method access_methods[];

/* Whether the principal may call the method at all: FF_OK, FF_ERR_PERMISSION_DENIED, or
 * FF_ERR_BAD_ROUTE for a method with no row. Scope is checked later, by what the call touches. */
ff_err access_method_check(const access_principal *who, const char *method);

/* The principal of the bootstrap rules (a loopback client while no principal exists, or an
 * offline tool): a national admin with the given name. */
void access_principal_bootstrap(access_principal *who, const char *name, uint32_t today);

/* True when the principal is national (no scope), so nothing it reads needs filtering. */
bool access_is_national(const access_principal *who);

/* ---- tokens and principals ---- */

/* Makes a new token (NUL-terminated, FF_TOKEN_TEXT_BYTES characters) from the system's random
 * source, and its SHA-256. Errors: FF_ERR_STORAGE if no random bytes could be had. */
ff_err access_token_new(char token[FF_TOKEN_TEXT_BYTES + 1], uint8_t sha256[32]);

/* The SHA-256 of a presented token. */
void access_token_hash(const char *token, size_t token_bytes, uint8_t sha256[32]);

/* Finds the principal holding a token and not revoked, and fills *who (who->today is left as
 * the caller set it). Errors: FF_ERR_UNAUTHENTICATED for an unknown or revoked token,
 * FF_ERR_STORAGE. */
ff_err access_principal_by_token(store_txn *txn, ff_store *store, const char *token,
                                 size_t token_bytes, access_principal *who);

/* Whether any principal was ever granted. Once one was, no request is served without a token. */
ff_err access_principals_exist(store_txn *txn, ff_store *store, bool *exist_out);

/* Reads a principal's record by name; the caller frees it with
 * fundflow__v1__principal_record__free_unpacked. Errors: FF_ERR_PRINCIPAL_UNKNOWN,
 * FF_ERR_STORAGE. */
ff_err access_principal_read(store_txn *txn, ff_store *store, const char *name,
                             Fundflow__V1__PrincipalRecord **record_out);

/* ---- scope ---- */

/* Whether the principal's scope covers an organisation. A national principal covers every code,
 * registered or not. An unregistered code is covered by no scoped principal. */
ff_err access_org_covered(store_txn *txn, ff_store *store, const access_principal *who,
                          const char *org_code, bool *covered_out);

/* FF_OK when the organisation is covered; otherwise FF_ERR_OUT_OF_SCOPE with failure naming
 * field and the principal's scope. */
ff_err access_org_check(store_txn *txn, ff_store *store, const access_principal *who,
                        const char *org_code, const char *field, ff_failure *failure);

ff_err access_contract_covered(store_txn *txn, ff_store *store, const access_principal *who,
                               const Fundflow__V1__ContractRecord *contract, bool *covered_out);

ff_err access_event_covered(store_txn *txn, ff_store *store, const access_principal *who,
                            const Fundflow__V1__EventRecord *event, bool *covered_out);

/* ---- writes ---- */

/* Keeps the scope of the principal a flat batch on txn is applied as, from the first of its
 * commands that needs it until access_scope_keep_end, instead of reading it for every command;
 * any write of an organisation or its links in between has it read again. Call end when the
 * batch ends, whatever happened to txn. One at a time per thread. */
void access_scope_keep_begin(store_txn *txn);
void access_scope_keep_end(void);

/* Checks that the principal may record the command, inside the batch's write transaction: the
 * role may write, and the command's acting organisation is in scope (the payer of an allocation
 * or budget; the commissioner of a contract, variation, payment or outcome report; the
 * submitting body of a statement; the organisation of a period close; NHS England for
 * registrations, service lines and delegations; for a reversal, the acting organisation of the
 * event it reverses). Principal events need an admin. On refusal: FF_ERR_PERMISSION_DENIED or
 * FF_ERR_OUT_OF_SCOPE, with failure naming the field. */
ff_err access_command_check(store_txn *txn, ff_store *store, const access_principal *who,
                            const Fundflow__V1__Command *command, ff_failure *failure);

#endif
