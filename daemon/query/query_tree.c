/* The tree RPCs: the latest signed tree head, an event's inclusion proof, and the consistency
 * proof between two sizes, from the log's Merkle tree (daemon/store/tree.h) and the server's
 * signer (signing.h). Proofs are only hashes; the caller checks them (merkle/merkle.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "query.h"
#include "query_read.h"
#include "signing.h"
#include "tree.h"

void query_signed_head_view(const signed_head *head, Fundflow__V1__SignedTreeHead *view) {
    fundflow__v1__signed_tree_head__init(view);
    view->tree_size = head->tree_size;
    view->root_hash.data = (uint8_t *)head->root.bytes;
    view->root_hash.len = MERKLE_HASH_BYTES;
    view->timestamp_us = head->timestamp_us;
    view->key_id.data = (uint8_t *)head->key_id;
    view->key_id.len = SIGNED_HEAD_KEY_ID_BYTES;
    view->signature.data = (uint8_t *)head->signature;
    view->signature.len = SIGNED_HEAD_SIGNATURE_BYTES;
}

/* A heap copy of a head's message, which protobuf_c_message_free_unpacked frees. */
static Fundflow__V1__SignedTreeHead *query_signed_head_copy(const signed_head *head) {
    Fundflow__V1__SignedTreeHead view;
    query_signed_head_view(head, &view);
    uint8_t packed[SIGNED_HEAD_STORED_BYTES + 32];
    size_t bytes = fundflow__v1__signed_tree_head__get_packed_size(&view);
    assert(bytes <= sizeof packed);
    fundflow__v1__signed_tree_head__pack(&view, packed);
    return fundflow__v1__signed_tree_head__unpack(NULL, bytes, packed);
}

/* The latest signed head, or a failure saying there is none (no signer in this process). */
static ff_err query_head_latest(ff_ledger *ledger, signed_head *head, ff_failure *failure) {
    ff_signer *signer = signing_of(ledger_store(ledger));
    if (signer == NULL) {
        return failure_set(failure, FF_ERR_SIGNED_HEAD_MISSING, "", "this server signs no tree "
                                                                     "heads");
    }
    signing_head_latest(signer, head);
    return FF_OK;
}

ff_err query_signed_head_get(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure) {
    (void)who;
    assert(request->descriptor == &fundflow__v1__get_signed_head_request__descriptor);
    signed_head head;
    ff_err err = query_head_latest(ledger, &head, failure);
    if (err != FF_OK) return err;
    Fundflow__V1__SignedTreeHead *message = query_signed_head_copy(&head);
    if (message == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, "", "out of memory");
    *response_out = &message->base;
    return FF_OK;
}

/* A proof's hashes as repeated bytes, each its own allocation. */
static ff_err query_proof_fill(const merkle_proof *proof, ProtobufCBinaryData **hashes_out,
                               size_t *count_out) {
    *count_out = 0;
    *hashes_out = NULL;
    if (proof->count == 0) return FF_OK;
    ProtobufCBinaryData *hashes = calloc(proof->count, sizeof *hashes);
    if (hashes == NULL) return FF_ERR_NO_MEMORY;
    *hashes_out = hashes;
    for (size_t i = 0; i < proof->count; i++) {
        hashes[i].data = malloc(MERKLE_HASH_BYTES);
        if (hashes[i].data == NULL) return FF_ERR_NO_MEMORY;
        memcpy(hashes[i].data, proof->hashes[i].bytes, MERKLE_HASH_BYTES);
        hashes[i].len = MERKLE_HASH_BYTES;
        (*count_out)++;
    }
    return FF_OK;
}

/* A request's size (0: the latest signed head's), checked against the tree in the snapshot. */
typedef struct query_tree_ask {
    const void *request;
    bool latest;      /* the size asked was 0 */
    signed_head head; /* the latest signed head, read before the snapshot began */
} query_tree_ask;

/* Runs a proof's fill for request; with latest, the latest signed head is read first, before
 * the snapshot begins, so the snapshot's tree holds at least its size. */
static ff_err query_tree_run(ff_ledger *ledger, const access_principal *who, const void *request,
                             bool latest, const ProtobufCMessageDescriptor *response_type,
                             query_fill fill, const char *failing,
                             ProtobufCMessage **response_out, ff_failure *failure) {
    query_tree_ask ask = {request, latest, {0}};
    if (latest) {
        ff_err err = query_head_latest(ledger, &ask.head, failure);
        if (err != FF_OK) return err;
    }
    return query_read_run_as(ledger, who, response_type, fill, &ask, failing, response_out,
                             failure);
}

static ff_err query_tree_size_check(const query_read *read, const char *field, uint64_t size) {
    uint64_t tree_size = 0;
    ff_err err = tree_size_read(read->txn, read->store, &tree_size);
    if (err != FF_OK || size <= tree_size) return err;
    return failure_set(read->failure, FF_ERR_TREE_SIZE_INVALID, field,
                       "%s %llu is beyond the tree, which holds %llu events", field,
                       (unsigned long long)size, (unsigned long long)tree_size);
}

/* Hands the reply the latest signed head its size was taken from, when none was asked. */
static ff_err query_tree_head_attach(const query_tree_ask *ask,
                                     Fundflow__V1__SignedTreeHead **head_out) {
    if (!ask->latest) return FF_OK;
    *head_out = query_signed_head_copy(&ask->head);
    return *head_out != NULL ? FF_OK : FF_ERR_NO_MEMORY;
}

/* The event's stored bytes, if the event is in the caller's scope. */
static ff_err query_inclusion_event(const query_read *read, uint64_t sequence,
                                    ProtobufCBinaryData *bytes_out) {
    uint8_t key[LOG_KEY_BYTES];
    log_key_encode(sequence, key);
    store_slice value;
    ff_err err = store_get(read->txn, read->store, STORE_TABLE_LOG, STORE_SLICE(key, sizeof key),
                           &value);
    if (err != FF_OK) return err;
    Fundflow__V1__EventRecord *record =
        fundflow__v1__event_record__unpack(NULL, value.bytes, value.data);
    if (record == NULL) return FF_ERR_LOG_DECODE;
    bool covered = false;
    err = query_event_in_scope(read, record, &covered);
    fundflow__v1__event_record__free_unpacked(record, NULL);
    if (err != FF_OK) return err;
    if (!covered) {
        char text[24];
        snprintf(text, sizeof text, "%llu", (unsigned long long)sequence);
        return query_out_of_scope(read, "sequence", text);
    }
    bytes_out->data = malloc(value.bytes);
    if (bytes_out->data == NULL) return FF_ERR_NO_MEMORY;
    memcpy(bytes_out->data, value.data, value.bytes);
    bytes_out->len = value.bytes;
    return FF_OK;
}

static ff_err query_inclusion_fill(const query_read *read, const void *argument,
                                   ProtobufCMessage **response) {
    const query_tree_ask *ask = argument;
    const Fundflow__V1__GetInclusionProofRequest *get = ask->request;
    Fundflow__V1__GetInclusionProofResponse *reply =
        (Fundflow__V1__GetInclusionProofResponse *)*response;
    uint64_t size = ask->latest ? ask->head.tree_size : get->tree_size;
    ff_err err = query_tree_size_check(read, "tree_size", size);
    if (err != FF_OK) return err;
    if (get->sequence > size) {
        return failure_set(read->failure, FF_ERR_TREE_SIZE_INVALID, "sequence",
                           "event %llu is not in the tree of %llu events",
                           (unsigned long long)get->sequence, (unsigned long long)size);
    }
    err = query_inclusion_event(read, get->sequence, &reply->event_record);
    merkle_proof proof;
    if (err == FF_OK) err = tree_inclusion_proof(read->txn, read->store, get->sequence, size,
                                                 &proof);
    if (err == FF_OK) err = query_proof_fill(&proof, &reply->audit_path, &reply->n_audit_path);
    reply->sequence = get->sequence;
    reply->tree_size = size;
    return err == FF_OK ? query_tree_head_attach(ask, &reply->signed_head) : err;
}

ff_err query_inclusion_proof_get(ff_ledger *ledger, const access_principal *who,
                                 const ProtobufCMessage *request,
                                 ProtobufCMessage **response_out, ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_inclusion_proof_request__descriptor);
    const Fundflow__V1__GetInclusionProofRequest *get =
        (const Fundflow__V1__GetInclusionProofRequest *)request;
    if (get->sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "sequence", "sequence is required");
    }
    return query_tree_run(ledger, who, get, get->tree_size == 0,
                          &fundflow__v1__get_inclusion_proof_response__descriptor,
                          query_inclusion_fill, "cannot prove the event's inclusion", response_out,
                          failure);
}

static ff_err query_consistency_fill(const query_read *read, const void *argument,
                                     ProtobufCMessage **response) {
    const query_tree_ask *ask = argument;
    const Fundflow__V1__GetConsistencyProofRequest *get = ask->request;
    Fundflow__V1__GetConsistencyProofResponse *reply =
        (Fundflow__V1__GetConsistencyProofResponse *)*response;
    uint64_t second = ask->latest ? ask->head.tree_size : get->second;
    ff_err err = query_tree_size_check(read, "second", second);
    if (err != FF_OK) return err;
    if (get->first > second) {
        return failure_set(read->failure, FF_ERR_TREE_SHORTER, "first",
                           "the tree of %llu events is shorter than the first size, %llu",
                           (unsigned long long)second, (unsigned long long)get->first);
    }
    merkle_proof proof;
    err = tree_consistency_proof(read->txn, read->store, get->first, second, &proof);
    if (err == FF_OK) err = query_proof_fill(&proof, &reply->proof, &reply->n_proof);
    reply->first = get->first;
    reply->second = second;
    return err == FF_OK ? query_tree_head_attach(ask, &reply->signed_head) : err;
}

ff_err query_consistency_proof_get(ff_ledger *ledger, const access_principal *who,
                                   const ProtobufCMessage *request,
                                   ProtobufCMessage **response_out, ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_consistency_proof_request__descriptor);
    const Fundflow__V1__GetConsistencyProofRequest *get =
        (const Fundflow__V1__GetConsistencyProofRequest *)request;
    return query_tree_run(ledger, who, get, get->second == 0,
                          &fundflow__v1__get_consistency_proof_response__descriptor,
                          query_consistency_fill, "cannot prove consistency", response_out,
                          failure);
}
