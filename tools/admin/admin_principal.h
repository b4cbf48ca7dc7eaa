/* fundflow-admin principal add and list: creating a principal offline, with its token shown
 * once, and listing every principal, revoked ones included. */
#ifndef FUNDFLOW_ADMIN_PRINCIPAL_H
#define FUNDFLOW_ADMIN_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

/* The actor every event fundflow-admin records carries. */
#define ADMIN_PRINCIPAL_ACTOR "fundflow-admin"

typedef struct admin_principal_request {
    const char *name;
    uint32_t role;       /* a PrincipalRole other than unspecified */
    const char *scope;   /* an organisation code, or NULL for national */
    bool json;           /* print {"name":...,"token":...} instead of text */
} admin_principal_request;

/* Grants the principal through a batch of one (no principal: offline tools act without
 * restriction) and prints the token alone on the last line, or as JSON. Returns 0, or 1 with a
 * message on stderr when the ledger refuses it or fails. */
int admin_principal_add(ff_ledger *ledger, const admin_principal_request *request);

/* Prints every principal by name: role, scope, when granted and by whom, and whether revoked;
 * as JSON, a ListPrincipalsResponse. Returns 0, or 1 with a message on stderr. */
int admin_principal_list(ff_ledger *ledger, bool json);

#endif
