/* The table of read RPCs that a server dispatches through: each name with its handler, which
 * lives in the query_*.c file for what it answers. */
#include "query.h"

#include <assert.h>
#include <string.h>

#include "account.h"

static_assert((int)FUNDFLOW__V1__ACCOUNT_PURPOSE__FUNDING == (int)ACCOUNT_PURPOSE_FUNDING &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__BUDGET == (int)ACCOUNT_PURPOSE_BUDGET &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__RECEIVED == (int)ACCOUNT_PURPOSE_RECEIVED &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__ONWARD == (int)ACCOUNT_PURPOSE_ONWARD &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__COMMITTED == (int)ACCOUNT_PURPOSE_COMMITTED &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__WITHHELD == (int)ACCOUNT_PURPOSE_WITHHELD &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__PAID == (int)ACCOUNT_PURPOSE_PAID &&
                  (int)FUNDFLOW__V1__ACCOUNT_PURPOSE__EARNED == (int)ACCOUNT_PURPOSE_EARNED,
              "the RPC schema numbers account purposes as the ledger stores them");

const query_method query_methods[] = {
    {"GetOrg", query_org_get},
    {"ListOrgs", query_orgs_list},
    {"GetPosition", query_position_get},
    {"GetAccountHistory", query_account_history},
    {"ListEvents", query_events_list},
    {"GetEvent", query_event_get},
    {"VerifyLedger", query_verify_handler},
    {"GetContractPosition", query_contract_position},
    {"ListContracts", query_contracts_list},
    {"GetFundingFlows", query_funding_flows},
    {"GetDelegations", query_delegations},
    {"GetHistory", query_history},
    {"ListPrincipals", query_principals_list},
    {"GetOutturn", query_outturn},
    {"Reconcile", query_reconcile},
    {"WatchEvents", query_events_watch},
    {"GetSignedHead", query_signed_head_get},
    {"GetInclusionProof", query_inclusion_proof_get},
    {"GetConsistencyProof", query_consistency_proof_get},
    {NULL, NULL},
};

query_handler query_handler_find(const char *name) {
    for (const query_method *method = query_methods; method->name != NULL; method++) {
        if (strcmp(method->name, name) == 0) return method->handler;
    }
    return NULL;
}
