/* Applying one event to the projections: finding its rule in the lists of the files that hold
 * them, reversals of any event that moves money, and the idempotency index every event feeds. */
#include "projection.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "command.h"
#include "digest.h"
#include "log.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

static ff_err projection_reverse(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__EventRecord *record, ff_failure *failure);

/* A reversal is the ledger's own event: it undoes another through that event's rule. */
static const projection_event_rule projection_reversal_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_REVERSAL, projection_reverse, NULL},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL, NULL},
};

/* Every file's rules. A new file of projections adds its list here; a new event in an existing
 * file adds only a row to that file's list. */
static const projection_event_rule *const projection_rule_tables[] = {
    projection_org_rules,      projection_transfer_rules, projection_reversal_rules,
    projection_delegation_rules, projection_contract_rules, projection_period_rules,
    projection_principal_rules, projection_plan_rules, projection_limit_rules,
};

static const projection_event_rule *projection_rule_find(Fundflow__V1__Event__KindCase kind) {
    size_t table_count = sizeof projection_rule_tables / sizeof projection_rule_tables[0];
    for (size_t table = 0; table < table_count; table++) {
        for (const projection_event_rule *rule = projection_rule_tables[table];
             rule->kind != FUNDFLOW__V1__EVENT__KIND__NOT_SET; rule++) {
            if (rule->kind == kind) return rule;
        }
    }
    return NULL;
}

/* The event a reversal's access check read, until the reversal's projection takes it or the next
 * is read. Each thread keeps its own. */
static _Thread_local projection_message_kept projection_event_kept;

/* Decodes a logged event through projection_event_kept, kept (take false) or taken (take true),
 * as log_read would read it. */
static ff_err projection_event_decode(store_txn *txn, ff_store *store, uint64_t sequence,
                                      bool take, Fundflow__V1__EventRecord **out) {
    *out = NULL;
    store_slice value;
    ff_err err = log_read_stored(txn, store, sequence, &value);
    if (err != FF_OK) return err;
    const ProtobufCMessageDescriptor *descriptor = &fundflow__v1__event_record__descriptor;
    *out = take ? (Fundflow__V1__EventRecord *)projection_message_take(&projection_event_kept,
                                                                        descriptor, value)
                : (Fundflow__V1__EventRecord *)projection_message_keep(&projection_event_kept,
                                                                        descriptor, value);
    if (*out == NULL) return FF_ERR_LOG_DECODE;
    log_record_assert_read(*out, sequence);
    return FF_OK;
}

ff_err projection_event_read_kept(store_txn *txn, ff_store *store, uint64_t sequence,
                                  const Fundflow__V1__EventRecord **out) {
    Fundflow__V1__EventRecord *event = NULL;
    ff_err err = projection_event_decode(txn, store, sequence, false, &event);
    *out = event;
    return err;
}

void projection_kept_release(void) {
    projection_message_kept_release(&projection_event_kept);
    projection_contract_kept_release();
}

static ff_err projection_reversal_target(store_txn *txn, ff_store *store,
                                         uint64_t reversed_sequence,
                                         Fundflow__V1__EventRecord **target, ff_failure *failure) {
    ff_err err = projection_event_decode(txn, store, reversed_sequence, true, target);
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
        if (value.bytes != LOG_KEY_BYTES) {
            return failure_set(failure, FF_ERR_STORAGE, NULL, "reversals");
        }
        uint64_t reversing = log_key_decode(value.data);
        assert(reversing > reversed_sequence);
        return failure_set(failure, FF_ERR_EVENT_ALREADY_REVERSED, "reversed_sequence",
                           "event %llu was already reversed by event %llu",
                           (unsigned long long)reversed_sequence, (unsigned long long)reversing);
    }
    return err == FF_ERR_NOT_FOUND ? FF_OK : failure_set(failure, err, NULL,
                                                         "cannot read reversals");
}

static ff_err projection_reverse(store_txn *txn, ff_store *store,
                                 const Fundflow__V1__EventRecord *record, ff_failure *failure) {
    uint64_t reversed_sequence = record->event->reversal->reversed_sequence;
    Fundflow__V1__EventRecord *target = NULL;
    ff_err err = projection_reversal_target(txn, store, reversed_sequence, &target, failure);
    if (err == FF_OK) {
        const projection_event_rule *rule = projection_rule_find(target->event->kind_case);
        if (rule != NULL && rule->reverse != NULL) {
            err = rule->reverse(txn, store, record, target, failure);
        } else {
            err = failure_set(failure, FF_ERR_EVENT_NOT_REVERSIBLE, "reversed_sequence",
                              "event %llu moves no money, so there is nothing to reverse",
                              (unsigned long long)target->sequence);
        }
    }
    if (target) fundflow__v1__event_record__free_unpacked(target, NULL);
    if (err != FF_OK) return err;
    uint8_t key_bytes[LOG_KEY_BYTES], value_bytes[LOG_KEY_BYTES];
    log_key_encode(reversed_sequence, key_bytes);
    log_key_encode(record->sequence, value_bytes);
    assert(record->sequence > reversed_sequence);
    err = ledger_put(txn, store, STORE_TABLE_REVERSALS, STORE_SLICE(key_bytes, LOG_KEY_BYTES),
                     STORE_SLICE(value_bytes, LOG_KEY_BYTES), STORE_PUT_NEW);
    return err ? failure_set(failure, err, NULL, "cannot record reversal") : FF_OK;
}

/* An idempotency entry (layout 2) holds only the sequence of the event recorded under the key,
 * 8 bytes big-endian; the digest of the command's content is worked out again from that event
 * in the log when the key comes back, which is rare, instead of being stored with every event.
 * The log's record holds the command's effective date and event as they were digested. */
ff_err projection_idempotency_read(store_txn *txn, ff_store *store, const char *idempotency_key,
                                   idempotency_record *record_out) {
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_IDEMPOTENCY,
                           STORE_SLICE(idempotency_key, strlen(idempotency_key)), &value);
    if (err == FF_ERR_NOT_FOUND) return FF_ERR_EVENT_UNKNOWN;
    if (err != FF_OK) return err;
    if (value.bytes != LOG_KEY_BYTES) return FF_ERR_STORAGE;
    memset(record_out, 0, sizeof *record_out);
    record_out->sequence = log_key_decode(value.data);
    Fundflow__V1__EventRecord *recorded = NULL;
    err = log_read(txn, store, record_out->sequence, &recorded);
    /* The index names only events in the log: one missing is a broken store. */
    if (err == FF_ERR_EVENT_UNKNOWN) err = FF_ERR_STORAGE;
    if (err == FF_OK && strcmp(recorded->idempotency_key, idempotency_key) != 0) {
        err = FF_ERR_STORAGE;
    }
    if (err == FF_OK) {
        err = digest_command_content(recorded->effective_date, recorded->event,
                                     record_out->content_digest);
    }
    if (recorded != NULL) fundflow__v1__event_record__free_unpacked(recorded, NULL);
    return err;
}

static ff_err projection_idempotency_write(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__EventRecord *record,
                                           ff_failure *failure) {
    assert(record->sequence >= 1 && record->idempotency_key[0] != '\0');
    uint8_t sequence[LOG_KEY_BYTES];
    log_key_encode(record->sequence, sequence);
    ff_err err = ledger_put(txn, store, STORE_TABLE_IDEMPOTENCY,
                            STORE_SLICE(record->idempotency_key, strlen(record->idempotency_key)),
                            STORE_SLICE(sequence, sizeof sequence), STORE_PUT_NEW);
    if (err == FF_ERR_KEY_EXISTS) {
        return failure_set(failure, FF_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key",
                           "idempotency_key %.60s is already in use", record->idempotency_key);
    }
    return err ? failure_set(failure, err, NULL, "cannot write index") : FF_OK;
}

/* The actor index: actor ++ 0 ++ sequence (8 bytes big-endian), empty value, for every event, so
 * the events a principal recorded are one prefix walk. */
static ff_err projection_actor_index_write(store_txn *txn, ff_store *store,
                                           const Fundflow__V1__EventRecord *record,
                                           ff_failure *failure) {
    size_t actor_bytes = strlen(record->actor);
    assert(actor_bytes <= FF_ACTOR_BYTES_MAX && memchr(record->actor, 0, actor_bytes) == NULL);
    uint8_t key[FF_ACTOR_BYTES_MAX + 1 + LOG_KEY_BYTES];
    memcpy(key, record->actor, actor_bytes);
    key[actor_bytes] = 0;
    log_key_encode(record->sequence, key + actor_bytes + 1);
    ff_err err = ledger_put(txn, store, STORE_TABLE_ACTOR_EVENTS,
                            STORE_SLICE(key, actor_bytes + 1 + LOG_KEY_BYTES),
                            STORE_SLICE(NULL, 0), STORE_PUT_NEW_LIKELY_LAST);
    return err ? failure_set(failure, err, NULL, "cannot write the actor index") : FF_OK;
}

ff_err projection_apply(store_txn *txn, ff_store *store, const Fundflow__V1__EventRecord *record,
                        ff_failure *failure) {
    assert(record->sequence >= 1 && record->event != NULL);
    ff_err err = command_event_check_static(record->event, failure);
    if (err != FF_OK) return err;
    const projection_event_rule *rule = projection_rule_find(record->event->kind_case);
    /* The static check has refused every kind of event that no file has a rule for. */
    assert(rule != NULL && rule->apply != NULL);
    err = rule->apply(txn, store, record, failure);
    if (err == FF_OK) err = projection_idempotency_write(txn, store, record, failure);
    if (err == FF_OK) err = projection_actor_index_write(txn, store, record, failure);
    /* Every error comes back with a failure saying so, whichever write it came from. */
    if (err != FF_OK && failure->code == FF_OK) {
        failure_set(failure, err, NULL, "cannot apply the event");
    }
    return err;
}
