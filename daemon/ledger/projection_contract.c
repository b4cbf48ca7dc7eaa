/* Contracts: agreement, variation, payments and outcome reports, their postings and reversals.
 *
 * Rounding rule for outcome pots: each metric's share of the pot is
 * floor(pot × weight / FF_BASIS_POINTS_WHOLE), except the last metric listed, which takes what is
 * left, so the shares add up to the pot exactly. A report earns
 * floor(share × achievement / FF_BASIS_POINTS_WHOLE); the rest of the share is released
 * to the commissioner. All of it is integer arithmetic in 128 bits.
 */
#include "projection_contract.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "log.h"
#include "projection_delegation.h"
#include "projection_org.h"
#include "projection_table.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "ledger_write.h"

#define CONTRACT_STATE_KEY_BYTES (FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES)

static const org_kind contract_commissioners[] = {
    FUNDFLOW__V1__ORG_KIND__ICB, FUNDFLOW__V1__ORG_KIND__PLACE,
    FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE, 0};
static const org_kind contract_providers[] = {
    FUNDFLOW__V1__ORG_KIND__TRUST, FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE,
    FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY,
    FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE, 0};

/* What every stored contract state is: money that adds up. Checked before a state is written and
 * after it is read back. */
static void contract_assert_valid(const Fundflow__V1__ContractRecord *contract) {
    assert(contract->contract_id[0] != '\0' && contract->agreed_sequence >= 1);
    assert(contract->last_sequence >= contract->agreed_sequence);
    assert(contract->original_value_pence > 0 && contract->value_pence >= 0);
    assert(contract->withheld_pot_pence >= 0 && contract->paid_pence >= 0);
    assert(contract->paid_pence + contract->withheld_pot_pence <= contract->value_pence);
    assert(contract->earned_pence >= 0 && contract->released_pence >= 0);
    assert(contract->earned_pence + contract->released_pence <= contract->withheld_pot_pence);
    assert(contract->n_paid_by_month_pence == 12);
}

ff_err projection_contract_read(store_txn *txn, ff_store *store, const char *contract_id,
                                uint64_t as_at_sequence, Fundflow__V1__ContractRecord **out) {
    *out = NULL;
    if (as_at_sequence == UINT64_MAX) {
        ff_err err = projection_message_get(txn, store, STORE_TABLE_CONTRACTS, contract_id,
                                            strlen(contract_id),
                                            &fundflow__v1__contract_record__descriptor,
                                            (ProtobufCMessage **)out);
        if (err == FF_OK) contract_assert_valid(*out);
        return err == FF_ERR_NOT_FOUND ? FF_ERR_CONTRACT_UNKNOWN : err;
    }
    uint8_t key[CONTRACT_STATE_KEY_BYTES];
    size_t key_bytes = projection_history_key(contract_id, as_at_sequence + 1, key, sizeof key);
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_CONTRACT_STATES, &cursor);
    if (err != FF_OK) return err;
    /* The first state after as_at_sequence, then one back: the state as at it, if it is this
     * contract's. */
    store_slice found = STORE_SLICE(key, key_bytes), value;
    err = store_cursor_move(cursor, STORE_SEEK, &found, &value);
    if (err == FF_OK || err == FF_ERR_NOT_FOUND) {
        err = store_cursor_move(cursor, err == FF_OK ? STORE_PREV : STORE_LAST, &found, &value);
    }
    size_t prefix = key_bytes - LOG_KEY_BYTES;
    if (err == FF_OK && found.bytes == key_bytes && memcmp(found.data, key, prefix) == 0) {
        *out = fundflow__v1__contract_record__unpack(NULL, value.bytes, value.data);
        err = *out ? FF_OK : FF_ERR_STORAGE;
        if (err == FF_OK) contract_assert_valid(*out);
    } else if (err == FF_OK || err == FF_ERR_NOT_FOUND) {
        err = FF_ERR_CONTRACT_UNKNOWN;
    }
    store_cursor_close(cursor);
    return err;
}

/* The contract the command at hand read for its access check, until its projection takes it or
 * the command ends. Each thread keeps its own. */
static _Thread_local projection_message_kept contract_kept;

ff_err projection_contract_read_kept(store_txn *txn, ff_store *store, const char *contract_id,
                                     const Fundflow__V1__ContractRecord **out) {
    *out = NULL;
    ff_err err = projection_message_get_kept(txn, store, STORE_TABLE_CONTRACTS, contract_id,
                                             strlen(contract_id),
                                             &fundflow__v1__contract_record__descriptor,
                                             &contract_kept, (const ProtobufCMessage **)out);
    if (err == FF_OK) contract_assert_valid(*out);
    return err == FF_ERR_NOT_FOUND ? FF_ERR_CONTRACT_UNKNOWN : err;
}

void projection_contract_kept_release(void) { projection_message_kept_release(&contract_kept); }

/* The contract as it stands, for a projection to change: the kept one if it is of the bytes
 * stored, else decoded now. The caller frees *contract. With nothing kept, as on an unrestricted
 * batch, it is read as it always was. */
static ff_err contract_current_take(store_txn *txn, ff_store *store, const char *contract_id,
                                    Fundflow__V1__ContractRecord **contract) {
    if (contract_kept.message == NULL) {
        return projection_contract_read(txn, store, contract_id, UINT64_MAX, contract);
    }
    ff_err err = projection_message_take_kept(txn, store, STORE_TABLE_CONTRACTS, contract_id,
                                              strlen(contract_id),
                                              &fundflow__v1__contract_record__descriptor,
                                              &contract_kept, (ProtobufCMessage **)contract);
    if (err == FF_OK) contract_assert_valid(*contract);
    return err == FF_ERR_NOT_FOUND ? FF_ERR_CONTRACT_UNKNOWN : err;
}

static ff_err contract_read_for(store_txn *txn, ff_store *store, const char *contract_id,
                                Fundflow__V1__ContractRecord **contract, ff_failure *failure) {
    ff_err err = contract_current_take(txn, store, contract_id, contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) {
        return failure_set(failure, err, "contract_id", "no contract has id %s", contract_id);
    }
    return err ? failure_set(failure, err, NULL, "cannot read contract %s", contract_id) : FF_OK;
}

/* Writes the contract as it now stands, and its state as at this event. */
static ff_err contract_store(store_txn *txn, ff_store *store,
                             Fundflow__V1__ContractRecord *contract,
                             uint64_t sequence, ff_failure *failure) {
    contract->last_sequence = sequence;
    contract_assert_valid(contract);
    ff_err err = projection_message_put(txn, store, STORE_TABLE_CONTRACTS, contract->contract_id,
                                        strlen(contract->contract_id), &contract->base,
                                        STORE_PUT_REPLACE);
    uint8_t key[CONTRACT_STATE_KEY_BYTES];
    size_t key_bytes = projection_history_key(contract->contract_id, sequence, key, sizeof key);
    if (err == FF_OK) {
        err = projection_message_put(txn, store, STORE_TABLE_CONTRACT_STATES, key, key_bytes,
                                     &contract->base, STORE_PUT_NEW);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write the contract");
    const char *names[] = {contract->contract_id, contract->commissioner_code,
                           contract->provider_code};
    return projection_history_add_names(txn, store, names, 3, sequence, failure);
}

/* Indexes the contract under each party and year, for listings and positions. */
static ff_err contract_party_index(store_txn *txn, ff_store *store, const char *party,
                                   const Fundflow__V1__ContractRecord *contract) {
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 3 + FF_IDENTIFIER_BYTES_MAX];
    size_t party_bytes = strlen(party), id_bytes = strlen(contract->contract_id);
    memcpy(key, party, party_bytes);
    key[party_bytes] = 0;
    key[party_bytes + 1] = (uint8_t)(contract->financial_year >> 8);
    key[party_bytes + 2] = (uint8_t)contract->financial_year;
    memcpy(key + party_bytes + 3, contract->contract_id, id_bytes);
    assert(party_bytes > 0 && id_bytes > 0);
    return ledger_put(txn, store, STORE_TABLE_PARTY_CONTRACTS,
                      STORE_SLICE(key, party_bytes + 3 + id_bytes), STORE_SLICE(NULL, 0),
                      STORE_PUT_REPLACE);
}

/* Appends a leg on one of an organisation's accounts for the contract's stream and year; legs of
 * nothing are left out. */
static void contract_leg(posting *postings, size_t *count, const char *org,
                         const Fundflow__V1__ContractRecord *contract, account_purpose purpose,
                         int64_t debit_pence, int64_t credit_pence) {
    if (debit_pence == 0 && credit_pence == 0) return;
    assert(*count < ACCOUNT_POSTINGS_PER_EVENT_MAX);
    posting *leg = &postings[(*count)++];
    memset(leg, 0, sizeof *leg);
    account_key_make(&leg->account, org, contract->financial_year, (uint32_t)contract->stream,
                     purpose);
    leg->debit_pence = debit_pence;
    leg->credit_pence = credit_pence;
}

static void contract_legs_swap(posting *postings, size_t count) {
    for (size_t i = 0; i < count; i++) {
        int64_t debit = postings[i].debit_pence;
        postings[i].debit_pence = postings[i].credit_pence;
        postings[i].credit_pence = debit;
    }
}

static size_t contract_payment_legs(const Fundflow__V1__ContractRecord *contract,
                                    int64_t amount_pence, posting *postings) {
    size_t count = 0;
    contract_leg(postings, &count, contract->commissioner_code, contract, ACCOUNT_PURPOSE_PAID,
                 amount_pence, 0);
    contract_leg(postings, &count, contract->commissioner_code, contract,
                 ACCOUNT_PURPOSE_COMMITTED, 0, amount_pence);
    contract_leg(postings, &count, contract->provider_code, contract, ACCOUNT_PURPOSE_BUDGET,
                 amount_pence, 0);
    contract_leg(postings, &count, contract->provider_code, contract, ACCOUNT_PURPOSE_RECEIVED, 0,
                 amount_pence);
    return count;
}

static size_t contract_outcome_legs(const Fundflow__V1__ContractRecord *contract,
                                    int64_t earned_pence, int64_t released_pence,
                                    posting *postings) {
    size_t count = 0;
    const char *commissioner = contract->commissioner_code, *provider = contract->provider_code;
    contract_leg(postings, &count, commissioner, contract, ACCOUNT_PURPOSE_EARNED, earned_pence, 0);
    contract_leg(postings, &count, commissioner, contract, ACCOUNT_PURPOSE_BUDGET, released_pence,
                 0);
    contract_leg(postings, &count, commissioner, contract, ACCOUNT_PURPOSE_WITHHELD, 0,
                 earned_pence + released_pence);
    contract_leg(postings, &count, provider, contract, ACCOUNT_PURPOSE_BUDGET, earned_pence, 0);
    contract_leg(postings, &count, provider, contract, ACCOUNT_PURPOSE_RECEIVED, 0, earned_pence);
    return count;
}

static size_t contract_variation_legs(const Fundflow__V1__ContractRecord *contract,
                                      int64_t change_pence, posting *postings) {
    size_t count = 0;
    int64_t up = change_pence > 0 ? change_pence : 0, down = change_pence < 0 ? -change_pence : 0;
    contract_leg(postings, &count, contract->commissioner_code, contract,
                 ACCOUNT_PURPOSE_COMMITTED, up, down);
    contract_leg(postings, &count, contract->commissioner_code, contract, ACCOUNT_PURPOSE_BUDGET,
                 down, up);
    return count;
}

/* Fills metric states with their shares of the pot, under the rounding rule above. */
static void contract_metric_shares(const Fundflow__V1__ContractAgreed *terms,
                                   Fundflow__V1__MetricState *states,
                                   Fundflow__V1__MetricState **pointers) {
    int64_t assigned = 0;
    for (size_t i = 0; i < terms->n_metrics; i++) {
        fundflow__v1__metric_state__init(&states[i]);
        states[i].code = terms->metrics[i]->code;
        states[i].description = terms->metrics[i]->description;
        states[i].weight_bp = terms->metrics[i]->weight_bp;
        bool last = i + 1 == terms->n_metrics;
        __int128 share = (__int128)terms->withheld_pot_pence * terms->metrics[i]->weight_bp /
                         FF_BASIS_POINTS_WHOLE;
        states[i].share_pence = last ? terms->withheld_pot_pence - assigned : (int64_t)share;
        assigned += states[i].share_pence;
        pointers[i] = &states[i];
    }
}

static void contract_record_from_terms(const Fundflow__V1__EventRecord *record,
                                       Fundflow__V1__ContractRecord *contract,
                                       Fundflow__V1__MetricState **metrics, int64_t *months) {
    const Fundflow__V1__ContractAgreed *terms = record->event->contract_agreed;
    fundflow__v1__contract_record__init(contract);
    contract->contract_id = terms->contract_id;
    contract->commissioner_code = terms->commissioner_code;
    contract->provider_code = terms->provider_code;
    contract->type = terms->type;
    contract->financial_year = terms->financial_year;
    contract->stream = terms->stream;
    contract->original_value_pence = terms->annual_value_pence;
    contract->value_pence = terms->annual_value_pence;
    contract->fixed_value_pence = terms->fixed_value_pence;
    contract->service_category = terms->service_category;
    contract->service_line_code = terms->service_line_code;
    contract->cquin_share_bp = terms->cquin_share_bp;
    contract->withheld_pot_pence = terms->withheld_pot_pence;
    contract->metrics = metrics;
    contract->n_metrics = terms->n_metrics;
    memset(months, 0, 12 * sizeof *months);
    contract->paid_by_month_pence = months;
    contract->n_paid_by_month_pence = 12;
    contract->agreed_sequence = record->sequence;
    contract->agreed_date = record->effective_date;
}

static ff_err contract_parties_check(store_txn *txn, ff_store *store,
                                     const Fundflow__V1__EventRecord *record,
                                     ff_failure *failure) {
    const Fundflow__V1__ContractAgreed *terms = record->event->contract_agreed;
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_party_read(txn, store, terms->commissioner_code, "commissioner_code",
                                       contract_commissioners, &org, failure);
    if (org) fundflow__v1__org_record__free_unpacked(org, NULL), org = NULL;
    if (err == FF_OK) {
        err = projection_party_read(txn, store, terms->provider_code, "provider_code",
                                    contract_providers, &org, failure);
    }
    if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
    if (err == FF_OK && terms->stream == FUNDFLOW__V1__STREAM__SPECIALISED) {
        err = projection_delegation_held(txn, store, terms->commissioner_code,
                                         terms->service_line_code, record->effective_date,
                                         failure);
    }
    if (err != FF_OK) return err;
    Fundflow__V1__ContractRecord *existing = NULL;
    err = projection_contract_read(txn, store, terms->contract_id, UINT64_MAX, &existing);
    if (err == FF_OK) {
        fundflow__v1__contract_record__free_unpacked(existing, NULL);
        return failure_set(failure, FF_ERR_CONTRACT_EXISTS, "contract_id",
                           "contract %s already exists", terms->contract_id);
    }
    /* Only a contract that is not there lets the agreement go on; a failed read stops it. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    return failure_set(failure, err, "contract_id", "cannot read contract %s", terms->contract_id);
}

static ff_err projection_contract_agree(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__EventRecord *record,
                                        ff_failure *failure) {
    const Fundflow__V1__ContractAgreed *terms = record->event->contract_agreed;
    ff_err err = projection_date_in_year_check(record->effective_date, terms->financial_year,
                                               failure);
    if (err == FF_OK) err = contract_parties_check(txn, store, record, failure);
    if (err != FF_OK) return err;
    Fundflow__V1__ContractRecord contract;
    Fundflow__V1__MetricState states[FF_METRICS_MAX], *pointers[FF_METRICS_MAX];
    int64_t months[12];
    contract_metric_shares(terms, states, pointers);
    contract_record_from_terms(record, &contract, pointers, months);
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t count = 0;
    int64_t pot = terms->withheld_pot_pence, value = terms->annual_value_pence;
    contract_leg(postings, &count, terms->commissioner_code, &contract, ACCOUNT_PURPOSE_COMMITTED,
                 value - pot, 0);
    contract_leg(postings, &count, terms->commissioner_code, &contract, ACCOUNT_PURPOSE_WITHHELD,
                 pot, 0);
    contract_leg(postings, &count, terms->commissioner_code, &contract, ACCOUNT_PURPOSE_BUDGET, 0,
                 value);
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 count, failure);
    if (err == FF_OK) err = contract_store(txn, store, &contract, record->sequence, failure);
    if (err == FF_OK) err = contract_party_index(txn, store, terms->commissioner_code, &contract);
    if (err == FF_OK) err = contract_party_index(txn, store, terms->provider_code, &contract);
    return err;
}

/* Checks that a value still covers what has been paid and what is withheld. */
static ff_err contract_value_check(const Fundflow__V1__ContractRecord *contract, int64_t value,
                                   const char *field, ff_failure *failure) {
    int64_t floor_pence = 0;
    if (money_add(contract->paid_pence, contract->withheld_pot_pence, &floor_pence) == FF_OK &&
        value >= floor_pence) {
        return FF_OK;
    }
    char value_text[FF_MONEY_TEXT_BYTES], floor_text[FF_MONEY_TEXT_BYTES];
    money_format(value, value_text, sizeof value_text);
    money_format(floor_pence, floor_text, sizeof floor_text);
    return failure_set(failure, FF_ERR_VALUE_BELOW_COMMITTED, field,
                       "contract %s would be worth %s, less than the %s paid and withheld",
                       contract->contract_id, value_text, floor_text);
}

/* Applies a change of value, up or down, for a variation or the reversal of one. */
static ff_err contract_value_change(store_txn *txn, ff_store *store,
                                    const Fundflow__V1__EventRecord *record,
                                    Fundflow__V1__ContractRecord *contract, int64_t change_pence,
                                    ff_failure *failure) {
    assert(change_pence != 0 && change_pence != INT64_MIN);
    int64_t value = 0, variations = 0;
    if (money_add(contract->value_pence, change_pence, &value) != FF_OK ||
        money_add(contract->variations_pence, change_pence, &variations) != FF_OK) {
        return failure_set(failure, FF_ERR_SUM_OVERFLOW, "change_pence", "the value overflows");
    }
    ff_err err = contract_value_check(contract, value, "change_pence", failure);
    if (err != FF_OK) return err;
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t count = contract_variation_legs(contract, change_pence, postings);
    err = account_postings_apply(txn, store, record->sequence, record->effective_date, postings,
                                 count, failure);
    contract->value_pence = value;
    contract->variations_pence = variations;
    return err == FF_OK ? contract_store(txn, store, contract, record->sequence, failure) : err;
}

static ff_err projection_contract_vary(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__EventRecord *record,
                                       ff_failure *failure) {
    const Fundflow__V1__ContractVaried *variation = record->event->contract_varied;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, variation->contract_id, &contract, failure);
    if (err == FF_OK) {
        err = projection_date_in_year_check(record->effective_date, contract->financial_year,
                                            failure);
    }
    if (err == FF_OK) {
        err = contract_value_change(txn, store, record, contract, variation->change_pence,
                                    failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

/* Pays (amount > 0) or un-pays (a reversal, amount < 0) month's amount on the contract. */
static ff_err contract_payment_apply(store_txn *txn, ff_store *store,
                                     const Fundflow__V1__EventRecord *record,
                                     Fundflow__V1__ContractRecord *contract, uint32_t month,
                                     int64_t amount_pence, ff_failure *failure) {
    /* The command's checks allow only real months and amounts; a reversal negates one. */
    assert(month >= 1 && month <= 12 && amount_pence != 0);
    assert(contract->n_paid_by_month_pence == 12);
    int64_t paid = 0, limit = contract->value_pence - contract->withheld_pot_pence;
    if (money_add(contract->paid_pence, amount_pence, &paid) != FF_OK || paid > limit) {
        char limit_text[FF_MONEY_TEXT_BYTES], paid_text[FF_MONEY_TEXT_BYTES];
        money_format(limit, limit_text, sizeof limit_text);
        money_format(contract->paid_pence, paid_text, sizeof paid_text);
        return failure_set(failure, FF_ERR_OVERPAYMENT, "amount_pence",
                           "contract %s may pay %s in all (its value less its pot) and has paid "
                           "%s", contract->contract_id, limit_text, paid_text);
    }
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t count = contract_payment_legs(contract, amount_pence > 0 ? amount_pence : -amount_pence,
                                         postings);
    if (amount_pence < 0) contract_legs_swap(postings, count);
    ff_err err = account_postings_apply(txn, store, record->sequence, record->effective_date,
                                        postings, count, failure);
    if (err == FF_OK) {
        err = projection_flow_add(txn, store, contract->financial_year,
                                  contract->commissioner_code, contract->provider_code,
                                  (uint32_t)contract->stream, amount_pence, failure);
    }
    if (err != FF_OK) return err;
    contract->paid_pence = paid;
    contract->paid_by_month_pence[month - 1] += amount_pence;
    return contract_store(txn, store, contract, record->sequence, failure);
}

/* A payment for a closed month is refused whatever its date, for either party. */
static ff_err contract_payment_month_open(store_txn *txn, ff_store *store,
                                          const Fundflow__V1__ContractRecord *contract,
                                          uint32_t month, ff_failure *failure) {
    const char *parties[] = {contract->commissioner_code, contract->provider_code};
    for (size_t i = 0; i < 2; i++) {
        ff_err err = projection_period_open(txn, store, parties[i], contract->financial_year,
                                            month);
        if (err == FF_ERR_PERIOD_CLOSED) {
            return failure_set(failure, FF_ERR_PERIOD_CLOSED, "month",
                               "M%u of %u/%02u is closed for %s", month, contract->financial_year,
                               (contract->financial_year + 1) % 100, parties[i]);
        }
        if (err != FF_OK) return failure_set(failure, err, NULL, "periods");
    }
    return FF_OK;
}

static ff_err projection_payment_make(store_txn *txn, ff_store *store,
                                      const Fundflow__V1__EventRecord *record,
                                      ff_failure *failure) {
    const Fundflow__V1__PaymentMade *payment = record->event->payment_made;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, payment->contract_id, &contract, failure);
    if (err == FF_OK) {
        err = projection_date_in_year_check(record->effective_date, contract->financial_year,
                                            failure);
    }
    if (err == FF_OK && !payment->paid_in_advance) {
        err = projection_date_in_month_check(record->effective_date, contract->financial_year,
                                             payment->month, failure);
    }
    if (err == FF_OK) {
        err = contract_payment_month_open(txn, store, contract, payment->month, failure);
    }
    if (err == FF_OK) {
        err = contract_payment_apply(txn, store, record, contract, payment->month,
                                     payment->amount_pence, failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static Fundflow__V1__MetricState *contract_metric_find(Fundflow__V1__ContractRecord *contract,
                                                       const char *code, ff_failure *failure) {
    for (size_t i = 0; i < contract->n_metrics; i++) {
        if (strcmp(contract->metrics[i]->code, code) == 0) return contract->metrics[i];
    }
    failure_set(failure, FF_ERR_METRIC_UNKNOWN, "metric_code", "contract %s has no metric %s",
                contract->contract_id, code);
    return NULL;
}

/* Reports (reverse false) or withdraws the report of (reverse true) a metric. */
static ff_err contract_outcome_apply(store_txn *txn, ff_store *store,
                                     const Fundflow__V1__EventRecord *record,
                                     Fundflow__V1__ContractRecord *contract,
                                     Fundflow__V1__MetricState *metric, bool reverse,
                                     ff_failure *failure) {
    int64_t earned = reverse ? metric->earned_pence
                             : (int64_t)((__int128)metric->share_pence * metric->achievement_bp /
                                         FF_BASIS_POINTS_WHOLE);
    int64_t released = reverse ? metric->released_pence : metric->share_pence - earned;
    /* A share is split whole between what the provider earned and what returns to the budget. */
    assert(earned >= 0 && released >= 0 && earned + released == metric->share_pence);
    posting postings[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    size_t count = contract_outcome_legs(contract, earned, released, postings);
    if (reverse) contract_legs_swap(postings, count);
    ff_err err = account_postings_apply(txn, store, record->sequence, record->effective_date,
                                        postings, count, failure);
    if (err == FF_OK) {
        err = projection_flow_add(txn, store, contract->financial_year,
                                  contract->commissioner_code, contract->provider_code,
                                  (uint32_t)contract->stream, reverse ? -earned : earned, failure);
    }
    if (err != FF_OK) return err;
    int64_t sign = reverse ? -1 : 1;
    contract->earned_pence += sign * earned;
    contract->released_pence += sign * released;
    metric->reported = !reverse;
    metric->earned_pence = reverse ? 0 : earned;
    metric->released_pence = reverse ? 0 : released;
    metric->reported_sequence = reverse ? 0 : record->sequence;
    metric->reported_date = reverse ? 0 : record->effective_date;
    if (reverse) metric->achievement_bp = 0;
    return contract_store(txn, store, contract, record->sequence, failure);
}

static ff_err projection_outcome_report(store_txn *txn, ff_store *store,
                                        const Fundflow__V1__EventRecord *record,
                                        ff_failure *failure) {
    const Fundflow__V1__OutcomeReported *report = record->event->outcome_reported;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, report->contract_id, &contract, failure);
    if (err == FF_OK) {
        err = projection_date_in_year_check(record->effective_date, contract->financial_year,
                                            failure);
    }
    Fundflow__V1__MetricState *metric = NULL;
    if (err == FF_OK) {
        metric = contract_metric_find(contract, report->metric_code, failure);
        if (metric == NULL) err = FF_ERR_METRIC_UNKNOWN;
    }
    if (err == FF_OK && metric->reported) {
        err = failure_set(failure, FF_ERR_OUTCOME_ALREADY_REPORTED, "metric_code",
                          "metric %s of contract %s was reported by event %llu", metric->code,
                          contract->contract_id, (unsigned long long)metric->reported_sequence);
    }
    if (err == FF_OK) {
        metric->achievement_bp = report->achievement_bp;
        err = contract_outcome_apply(txn, store, record, contract, metric, false, failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err contract_agreement_reverse(store_txn *txn, ff_store *store,
                                         const Fundflow__V1__EventRecord *record,
                                         const Fundflow__V1__EventRecord *target,
                                         ff_failure *failure) {
    (void)txn, (void)store, (void)record, (void)target;
    return failure_set(failure, FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence",
                       "an agreed contract is corrected by varying it, not by reversal");
}

static ff_err contract_variation_reverse(store_txn *txn, ff_store *store,
                                         const Fundflow__V1__EventRecord *record,
                                         const Fundflow__V1__EventRecord *target,
                                         ff_failure *failure) {
    const Fundflow__V1__ContractVaried *variation = target->event->contract_varied;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, variation->contract_id, &contract,
                                            failure);
    if (err == FF_OK) {
        err = contract_value_change(txn, store, record, contract, -variation->change_pence,
                                    failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err contract_payment_reverse(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__EventRecord *record,
                                       const Fundflow__V1__EventRecord *target,
                                       ff_failure *failure) {
    const Fundflow__V1__PaymentMade *payment = target->event->payment_made;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, payment->contract_id, &contract, failure);
    if (err == FF_OK) {
        err = contract_payment_apply(txn, store, record, contract, payment->month,
                                     -payment->amount_pence, failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static ff_err contract_outcome_reverse(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__EventRecord *record,
                                       const Fundflow__V1__EventRecord *target,
                                       ff_failure *failure) {
    const Fundflow__V1__OutcomeReported *report = target->event->outcome_reported;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = contract_read_for(txn, store, report->contract_id, &contract, failure);
    Fundflow__V1__MetricState *metric = NULL;
    if (err == FF_OK) {
        metric = contract_metric_find(contract, report->metric_code, failure);
        if (metric == NULL) err = FF_ERR_METRIC_UNKNOWN;
    }
    if (err == FF_OK) {
        err = contract_outcome_apply(txn, store, record, contract, metric, true, failure);
    }
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

const projection_event_rule projection_contract_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED, projection_contract_agree,
     contract_agreement_reverse},
    {FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED, projection_contract_vary,
     contract_variation_reverse},
    {FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE, projection_payment_make, contract_payment_reverse},
    {FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED, projection_outcome_report,
     contract_outcome_reverse},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};
