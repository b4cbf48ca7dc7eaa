/* The ledger's rules for each event, and the projection writes each event makes. */
#include "projection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "digest.h"
#include "log.h"
#include "fundflow/limits.h"


ff_err projection_org_read(store_txn *txn, ff_store *store, const char *code,
                           Fundflow__V1__OrgRecord **org_out) {
    ff_err err = projection_message_get(txn, store, STORE_TABLE_ORGS, code, strlen(code),
                                        &fundflow__v1__org_record__descriptor,
                                        (ProtobufCMessage **)org_out);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_ORG_UNKNOWN;
    if (err != FF_OK) return err;
    /* An organisation is stored under its own code. */
    assert(strcmp((*org_out)->code, code) == 0);
    return FF_OK;
}

const char *projection_kind_name(org_kind kind) {
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__org_kind__descriptor, (int)kind);
    return value ? value->name : "UNKNOWN";
}

/* Reads the organisation in field and checks its kind is one of allowed (a zero-terminated
 * list). On success the caller owns *org_out. */
ff_err projection_party_read(store_txn *txn, ff_store *store, const char *code,
                                    const char *field, const org_kind *allowed,
                                    Fundflow__V1__OrgRecord **org_out, ff_failure *failure) {
    ff_err err = projection_org_read(txn, store, code, org_out);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, field, "%s %s is not a registered organisation", field,
                           code);
    }
    if (err != FF_OK) return failure_set(failure, err, field, "cannot read organisation %s", code);
    for (const org_kind *kind = allowed; *kind != 0; kind++) {
        if ((*org_out)->kind == *kind) return FF_OK;
    }
    failure_set(failure, FF_ERR_ORG_KIND_NOT_ALLOWED, field, "%s %s is a %s, which cannot be %s",
                field, code, projection_kind_name((*org_out)->kind), field);
    fundflow__v1__org_record__free_unpacked(*org_out, NULL);
    *org_out = NULL;
    return FF_ERR_ORG_KIND_NOT_ALLOWED;
}

/* Fills the four legs of a transfer: the payer pays out of its budget (or, for NHS England, its
 * funding) into onward, and the payee receives into its budget. */
static void projection_transfer_postings(const Fundflow__V1__OrgRecord *payer,
                                         const Fundflow__V1__OrgRecord *payee, uint32_t stream,
                                         uint32_t year, int64_t amount_pence, posting *postings) {
    account_purpose source = payer->kind == FUNDFLOW__V1__ORG_KIND__NHSE
                                 ? ACCOUNT_PURPOSE_FUNDING
                                 : ACCOUNT_PURPOSE_BUDGET;
    memset(postings, 0, 4 * sizeof *postings);
    account_key_make(&postings[0].account, payer->code, year, stream, ACCOUNT_PURPOSE_ONWARD);
    postings[0].debit_pence = amount_pence;
    account_key_make(&postings[1].account, payer->code, year, stream, source);
    postings[1].credit_pence = amount_pence;
    account_key_make(&postings[2].account, payee->code, year, stream, ACCOUNT_PURPOSE_BUDGET);
    postings[2].debit_pence = amount_pence;
    account_key_make(&postings[3].account, payee->code, year, stream, ACCOUNT_PURPOSE_RECEIVED);
    postings[3].credit_pence = amount_pence;
}

static const org_kind projection_funders[] = {FUNDFLOW__V1__ORG_KIND__NHSE, 0};
static const org_kind projection_allocation_recipients[] = {
    FUNDFLOW__V1__ORG_KIND__ICB, FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, 0};
static const org_kind projection_budget_holders[] = {FUNDFLOW__V1__ORG_KIND__ICB, 0};
static const org_kind projection_budget_recipients[] = {
    FUNDFLOW__V1__ORG_KIND__PLACE, FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE,
    FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, 0};

static ff_err projection_transfer_parties(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__Event *event,
                                          Fundflow__V1__OrgRecord **payer,
                                          Fundflow__V1__OrgRecord **payee, ff_failure *failure) {
    bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    const char *payer_code = allocation ? event->allocation_issued->funder_code
                                        : event->budget_delegated->from_code;
    const char *payee_code = allocation ? event->allocation_issued->recipient_code
                                        : event->budget_delegated->to_code;
    const char *payee_field = allocation ? "recipient_code" : "to_code";
    ff_err err = projection_party_read(txn, store, payer_code,
                                       allocation ? "funder_code" : "from_code",
                                       allocation ? projection_funders : projection_budget_holders,
                                       payer, failure);
    if (err != FF_OK) return err;
    err = projection_party_read(txn, store, payee_code, payee_field,
                                allocation ? projection_allocation_recipients
                                           : projection_budget_recipients,
                                payee, failure);
    /* A place's budget comes from the ICB it belongs to. */
    if (err == FF_OK && (*payee)->kind == FUNDFLOW__V1__ORG_KIND__PLACE &&
        strcmp((*payee)->parent_code, payer_code) != 0) {
        err = failure_set(failure, FF_ERR_ORG_KIND_NOT_ALLOWED, payee_field,
                          "place %s belongs to %s, not %s", payee_code, (*payee)->parent_code,
                          payer_code);
    }
    return err;
}

ff_err projection_event_postings(store_txn *txn, ff_store *store, const Fundflow__V1__Event *event,
                                 posting *postings, size_t *posting_count_out,
                                 ff_failure *failure) {
    *posting_count_out = 0;
    if (event->kind_case != FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED &&
        event->kind_case != FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED) {
        return FF_OK;
    }
    Fundflow__V1__OrgRecord *payer = NULL, *payee = NULL;
    ff_err err = projection_transfer_parties(txn, store, event, &payer, &payee, failure);
    if (err == FF_OK) {
        bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
        uint32_t stream = allocation ? (uint32_t)event->allocation_issued->stream
                                     : (uint32_t)event->budget_delegated->stream;
        uint32_t year = allocation ? event->allocation_issued->financial_year
                                   : event->budget_delegated->financial_year;
        int64_t amount = allocation ? event->allocation_issued->amount_pence
                                    : event->budget_delegated->amount_pence;
        projection_transfer_postings(payer, payee, stream, year, amount, postings);
        *posting_count_out = 4;
    }
    if (payer) fundflow__v1__org_record__free_unpacked(payer, NULL);
    if (payee) fundflow__v1__org_record__free_unpacked(payee, NULL);
    return err;
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
    assert(org.registered_sequence >= 1 && org.code[0] != '\0');
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

static ff_err projection_reversal_target(store_txn *txn, ff_store *store, uint64_t reversed_sequence,
                                         Fundflow__V1__EventRecord **target, ff_failure *failure) {
    ff_err err = log_read(txn, store, reversed_sequence, target);
    if (err == FF_ERR_EVENT_UNKNOWN) {
        return failure_set(failure, err, "reversed_sequence", "there is no event %llu",
                           (unsigned long long)reversed_sequence);
    }
    if (err != FF_OK) return failure_set(failure, err, "reversed_sequence", "cannot read event");
    uint8_t key_bytes[LOG_KEY_BYTES];
    log_key_encode(reversed_sequence, key_bytes);
    store_slice value;
    err = store_get(txn, store, STORE_TABLE_REVERSALS, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                    &value);
    if (err == FF_OK) {
        if (value.bytes != LOG_KEY_BYTES) return failure_set(failure, FF_ERR_STORAGE, NULL, "reversals");
        uint64_t reversing = log_key_decode(value.data);
        assert(reversing > reversed_sequence);
        return failure_set(failure, FF_ERR_EVENT_ALREADY_REVERSED, "reversed_sequence",
                           "event %llu was already reversed by event %llu",
                           (unsigned long long)reversed_sequence, (unsigned long long)reversing);
    }
    return err == FF_ERR_NOT_FOUND ? FF_OK : failure_set(failure, err, NULL,
                                                         "cannot read reversals");
}

/* Indexes a transfer, or with sign -1 its reversal, in the history and the funding flows. */
static ff_err projection_transfer_index(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__Event *event, uint64_t sequence,
                                        int64_t sign, ff_failure *failure) {
    bool allocation = event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    const char *payer = allocation ? event->allocation_issued->funder_code
                                   : event->budget_delegated->from_code;
    const char *payee = allocation ? event->allocation_issued->recipient_code
                                   : event->budget_delegated->to_code;
    uint32_t stream = allocation ? (uint32_t)event->allocation_issued->stream
                                 : (uint32_t)event->budget_delegated->stream;
    uint32_t year = allocation ? event->allocation_issued->financial_year
                               : event->budget_delegated->financial_year;
    int64_t amount = allocation ? event->allocation_issued->amount_pence
                                : event->budget_delegated->amount_pence;
    ff_err err = projection_history_add(txn, store, payer, sequence);
    if (err == FF_OK) err = projection_history_add(txn, store, payee, sequence);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write the history");
    return projection_flow_add(txn, store, year, payer, payee, stream, sign * amount, failure);
}

static ff_err projection_transfer_reverse(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__EventRecord *record,
                                          const Fundflow__V1__EventRecord *target,
                                          ff_failure *failure) {
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t posting_count = 0;
    ff_err err = projection_event_postings(txn, store, target->event, postings, &posting_count,
                                           failure);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < posting_count; i++) {
        int64_t debit = postings[i].debit_pence;
        postings[i].debit_pence = postings[i].credit_pence;
        postings[i].credit_pence = debit;
    }
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 posting_count, failure);
    if (err != FF_OK) return err;
    return projection_transfer_index(txn, store, target->event, record->sequence, -1, failure);
}

/* Undoes the target event by its kind: transfers and contract events move money back. */
static ff_err projection_reverse_kind(store_txn *txn, ff_store *store,
                                      const Fundflow__V1__EventRecord *record,
                                      const Fundflow__V1__EventRecord *target,
                                      ff_failure *failure) {
    switch (target->event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED:
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED:
        return projection_transfer_reverse(txn, store, record, target, failure);
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        return projection_contract_event_reverse(txn, store, record, target, failure);
    default:
        return failure_set(failure, FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence",
                           "event %llu moves no money, so there is nothing to reverse",
                           (unsigned long long)target->sequence);
    }
}

static ff_err projection_reverse(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    uint64_t reversed_sequence = record->event->reversal->reversed_sequence;
    Fundflow__V1__EventRecord *target = NULL;
    ff_err err = projection_reversal_target(txn, store, reversed_sequence, &target, failure);
    if (err == FF_OK) err = projection_reverse_kind(txn, store, record, target, failure);
    if (target) fundflow__v1__event_record__free_unpacked(target, NULL);
    if (err != FF_OK) return err;
    uint8_t key_bytes[LOG_KEY_BYTES], value_bytes[LOG_KEY_BYTES];
    log_key_encode(reversed_sequence, key_bytes);
    log_key_encode(record->sequence, value_bytes);
    assert(record->sequence > reversed_sequence);
    err = store_put(txn, store, STORE_TABLE_REVERSALS, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                    STORE_SLICE(value_bytes, LOG_KEY_BYTES), STORE_PUT_NEW);
    return err ? failure_set(failure, err, NULL, "cannot record reversal") : FF_OK;
}

static ff_err projection_transfer(store_txn *txn, ff_store *store,
                                  const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t posting_count = 0;
    ff_err err = FF_OK;
    if (record->event->kind_case == FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED) {
        err = projection_allocation_delegation_check(txn, store, record->event->allocation_issued,
                                                     failure);
    }
    if (err == FF_OK) {
        err = projection_event_postings(txn, store, record->event, postings, &posting_count,
                                        failure);
    }
    if (err != FF_OK) return err;
    assert(posting_count > 0);
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 posting_count, failure);
    if (err != FF_OK) return err;
    return projection_transfer_index(txn, store, record->event, record->sequence, 1, failure);
}

ff_err projection_idempotency_read(store_txn *txn, ff_store *store, const char *idempotency_key,
                                   idempotency_record *record_out) {
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_IDEMPOTENCY,
                           STORE_SLICE(idempotency_key, strlen(idempotency_key)), &value);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_EVENT_UNKNOWN;
    if (err != FF_OK) return err;
    if (value.bytes != sizeof *record_out) return FF_ERR_STORAGE;
    memcpy(record_out, value.data, sizeof *record_out);
    assert(record_out->sequence >= 1);
    return FF_OK;
}

static ff_err projection_idempotency_write(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__EventRecord *record,
                                           ff_failure *failure) {
    idempotency_record entry;
    memset(&entry, 0, sizeof entry);
    entry.sequence = record->sequence;
    ff_err err = digest_command_content(record->effective_date, record->event,
                                        entry.content_digest);
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot digest the command");
    assert(entry.sequence >= 1 && record->idempotency_key[0] != '\0');
    err = store_put(txn, store, STORE_TABLE_IDEMPOTENCY,
                    STORE_SLICE(record->idempotency_key, strlen(record->idempotency_key)),
                    STORE_SLICE(&entry, sizeof entry), STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key",
                           "idempotency_key %.60s is already in use", record->idempotency_key);
    }
    return err ? failure_set(failure, err, NULL, "cannot write index") : FF_OK;
}

/* Indexes an event that moves no money under each organisation it names. */
static ff_err projection_domain_history(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__EventRecord *record) {
    const Fundflow__V1__Event *event = record->event;
    const char *names[FF_MEMBERS_MAX + 2];
    size_t count = 0;
    Fundflow__V1__DelegationRecord *revoked = NULL;
    if (event->kind_case == FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED) {
        /* A revocation names only its delegation: index it under the delegation's parties. */
        const char *id = event->delegation_revoked->delegation_id;
        ff_err err = projection_message_get(txn, store, STORE_TABLE_DELEGATIONS, id, strlen(id),
                                            &fundflow__v1__delegation_record__descriptor,
                                            (ProtobufCMessage **)&revoked);
        if (err != FF_OK) return err;
        names[count++] = revoked->delegate_code;
        for (size_t i = 0; i < revoked->n_population_codes; i++) {
            names[count++] = revoked->population_codes[i];
        }
    }
    switch (event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
        names[count++] = event->org_updated->code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
        names[count++] = event->delegation_granted->delegate_code;
        for (size_t i = 0; i < event->delegation_granted->n_population_codes; i++) {
            names[count++] = event->delegation_granted->population_codes[i];
        }
        break;
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        names[count++] = event->statement_submitted->org_code;
        names[count++] = event->statement_submitted->counterparty_code;
        break;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        names[count++] = event->period_closed->org_code;
        break;
    default:
        break;
    }
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < count; i++) {
        bool repeated = false;
        for (size_t j = 0; j < i; j++) repeated = repeated || strcmp(names[i], names[j]) == 0;
        if (!repeated) err = projection_history_add(txn, store, names[i], record->sequence);
    }
    if (revoked) fundflow__v1__delegation_record__free_unpacked(revoked, NULL);
    return err;
}

/* The events added with the funding-flow domain, each checked and projected in its own file. */
static ff_err projection_domain_apply(store_txn *txn, ff_store *store,
                                      const Fundflow__V1__EventRecord *record,
                                      ff_failure *failure) {
    ff_err err;
    switch (record->event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
        err = projection_org_update(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED:
        return projection_service_line_register(txn, store, record, failure);
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
        err = projection_delegation_grant(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED:
        err = projection_delegation_revoke(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        return projection_contract_agree(txn, store, record, failure);
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        return projection_contract_vary(txn, store, record, failure);
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        return projection_payment_make(txn, store, record, failure);
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        return projection_outcome_report(txn, store, record, failure);
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        err = projection_statement_submit(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        err = projection_period_close(txn, store, record, failure);
        break;
    default:
        return failure_set(failure, FF_ERR_PAYLOAD_MISSING, "event", "the event is empty");
    }
    if (err == FF_OK) err = projection_domain_history(txn, store, record);
    return err;
}

ff_err projection_apply(store_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure) {
    ff_err err = command_event_check_static(record->event, failure);
    if (err != FF_OK) return err;
    switch (record->event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED:
        err = projection_org_register(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED:
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED:
        err = projection_transfer(txn, store, record, failure);
        break;
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        err = projection_reverse(txn, store, record, failure);
        break;
    default:
        err = projection_domain_apply(txn, store, record, failure);
    }
    if (err == FF_OK) err = projection_idempotency_write(txn, store, record, failure);
    return err;
}

