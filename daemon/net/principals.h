/* The network layer's side of principals: who a request is (its bearer token, or the bootstrap
 * rules while no principal exists), and the commands GrantPrincipal and RevokePrincipal send to
 * the writer. The rules themselves (roles, scopes, tokens) are access.h's.
 *
 * Bootstrap. While no principal exists, a request presenting the configured admin_token is the
 * national admin "admin", and, when no admin_token is configured, a loopback client without a
 * token is the national admin "local-admin". Once any principal exists both are refused: every
 * request needs a principal's token (fail closed).
 */
#ifndef FUNDFLOW_PRINCIPALS_H
#define FUNDFLOW_PRINCIPALS_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "config.h"
#include "failure.h"
#include "ledger.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The bootstrap principals' names. */
#define PRINCIPALS_ADMIN_TOKEN_NAME "admin"
#define PRINCIPALS_LOOPBACK_NAME "local-admin"

/* Today's date in UTC as YYYYMMDD: what a principal's scope is judged at, and the date principal
 * events take effect. */
uint32_t principals_today(void);

/* Who the request is. authorization is its Authorization header or NULL; loopback says whether
 * the peer is on this machine. Fills *who (with today's date) on FF_OK. Errors:
 * FF_ERR_UNAUTHENTICATED (no token where one is needed, a malformed header, an unknown or
 * revoked token), or a storage error. */
ff_err principals_authenticate(ff_ledger *ledger, const config *settings,
                               const char *authorization, bool loopback, access_principal *who);

/* Logs level=warn when admin_token is configured but principals exist, so it is ignored. */
void principals_admin_token_warn(ff_ledger *ledger, const config *settings);

/* The one command of a GrantPrincipal, as a request a writer job owns (free it with
 * fundflow__v1__submit_commands_request__free_unpacked), with a new token written to token.
 * Errors: FF_ERR_STORAGE (no random bytes), FF_ERR_NO_MEMORY. The name, role and scope are the
 * ledger's to check (command_check_static, then the projection), as for any command. */
ff_err principals_grant_request(const Fundflow__V1__GrantPrincipalRequest *grant, uint32_t today,
                                char token[FF_TOKEN_TEXT_BYTES + 1],
                                Fundflow__V1__SubmitCommandsRequest **request_out,
                                ff_failure *failure);

/* The one command of a RevokePrincipal, as principals_grant_request makes it. */
ff_err principals_revoke_request(const Fundflow__V1__RevokePrincipalRequest *revoke,
                                 uint32_t today, Fundflow__V1__SubmitCommandsRequest **request_out,
                                 ff_failure *failure);

/* Reads a principal's record as the ledger holds it now, without its token's hash. The caller
 * frees it with fundflow__v1__principal_record__free_unpacked. */
ff_err principals_record_read(ff_ledger *ledger, const char *name,
                              Fundflow__V1__PrincipalRecord **record_out, ff_failure *failure);

#endif
