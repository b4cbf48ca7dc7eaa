/* The read RPCs about the event log: a page of events (ListEvents), one event (GetEvent), the
 * events that touched an organisation or contract (GetHistory), and verification
 * (VerifyLedger). */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "projection.h"
#include "query_read.h"
#include "verify.h"
#include "fundflow/limits.h"

/* Reads one event for a page, checking the log handed back the event asked for. */
static ff_err query_event_read(store_txn *txn, ff_store *store, uint64_t sequence,
                               Fundflow__V1__EventRecord **record_out) {
    ff_err err = log_read(txn, store, sequence, record_out);
    assert(err != FF_OK || (*record_out)->sequence == sequence);
    return err;
}

static ff_err query_events_fill(const query_read *read, const void *request,
                                ProtobufCMessage **response) {
    const Fundflow__V1__ListEventsRequest *list = request;
    Fundflow__V1__ListEventsResponse *page = (Fundflow__V1__ListEventsResponse *)*response;
    size_t page_size = query_page_size(list->page_size);
    page->events = calloc(page_size, sizeof *page->events);
    if (page->events == NULL) return FF_ERR_NO_MEMORY;
    /* No event follows the largest sequence, and adding one to it would wrap to the first. */
    if (list->after_sequence == UINT64_MAX) return FF_OK;
    log_head head;
    ff_err err = log_head_read(read->txn, read->store, &head);
    for (uint64_t sequence = list->after_sequence + 1; err == FF_OK && sequence <= head.sequence;
         sequence++) {
        if (page->n_events == page_size) {
            page->next_after_sequence = sequence - 1;
            break;
        }
        err = query_event_read(read->txn, read->store, sequence, &page->events[page->n_events]);
        if (err == FF_OK) page->n_events++;
    }
    return err;
}

ff_err query_events_list(ff_ledger *ledger, const ProtobufCMessage *request,
                         ProtobufCMessage **response_out, ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__list_events_request__descriptor);
    return query_read_run(ledger, &fundflow__v1__list_events_response__descriptor,
                          query_events_fill, request, "cannot read the log", response_out,
                          failure);
}

static ff_err query_event_fill(const query_read *read, const void *request,
                               ProtobufCMessage **response) {
    const Fundflow__V1__GetEventRequest *get = request;
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = query_event_read(read->txn, read->store, get->sequence, &record);
    if (err == FF_ERR_EVENT_UNKNOWN) {
        return failure_set(read->failure, err, "sequence", "there is no event %llu",
                           (unsigned long long)get->sequence);
    }
    if (err == FF_OK) *response = &record->base;
    return err;
}

ff_err query_event_get(ff_ledger *ledger, const ProtobufCMessage *request,
                       ProtobufCMessage **response_out, ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_event_request__descriptor);
    const Fundflow__V1__GetEventRequest *get = (const Fundflow__V1__GetEventRequest *)request;
    if (get->sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "sequence", "sequence is required");
    }
    return query_read_run(ledger, NULL, query_event_fill, get, "cannot read the event",
                          response_out, failure);
}

/* ---- history ---- */

/* A page of one name's history being filled from its history rows. */
typedef struct query_history_walk {
    store_txn *txn;
    ff_store *store;
    size_t prefix_bytes;
    size_t page_size;
    Fundflow__V1__GetHistoryResponse *page;
} query_history_walk;

static ff_err query_history_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value;
    query_history_walk *walk = argument;
    Fundflow__V1__GetHistoryResponse *page = walk->page;
    assert(page->n_events <= walk->page_size);
    /* The prefix ends with the name's zero byte, so every row under it is this name's. */
    assert(key.bytes == walk->prefix_bytes + LOG_KEY_BYTES);
    if (page->n_events == walk->page_size) {
        page->next_after_sequence = page->events[walk->page_size - 1]->sequence;
        *stop = true;
        return FF_OK;
    }
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + walk->prefix_bytes);
    ff_err err = query_event_read(walk->txn, walk->store, sequence, &page->events[page->n_events]);
    if (err == FF_OK) page->n_events++;
    return err;
}

static ff_err query_history_fill(const query_read *read, const void *request,
                                 ProtobufCMessage **response) {
    const Fundflow__V1__GetHistoryRequest *get = request;
    query_history_walk walk = {read->txn, read->store, 0, query_page_size(get->page_size),
                               (Fundflow__V1__GetHistoryResponse *)*response};
    walk.page->events = calloc(walk.page_size, sizeof *walk.page->events);
    if (walk.page->events == NULL) return FF_ERR_NO_MEMORY;
    if (get->after_sequence == UINT64_MAX) return FF_OK;
    uint8_t seek[FF_IDENTIFIER_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t seek_bytes = projection_history_key(get->name, get->after_sequence + 1, seek,
                                               sizeof seek);
    assert(seek_bytes > LOG_KEY_BYTES && seek_bytes <= sizeof seek);
    walk.prefix_bytes = seek_bytes - LOG_KEY_BYTES;
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(read->txn, read->store, STORE_TABLE_HISTORY, &cursor);
    store_slice key = STORE_SLICE(seek, seek_bytes);
    if (err == FF_OK) err = store_cursor_move(cursor, STORE_SEEK, &key, NULL);
    bool stop = false;
    while (err == FF_OK && !stop && key.bytes >= walk.prefix_bytes &&
           memcmp(key.data, seek, walk.prefix_bytes) == 0) {
        err = query_history_row(&walk, key, STORE_SLICE(NULL, 0), &stop);
        if (err == FF_OK && !stop) err = store_cursor_move(cursor, STORE_NEXT, &key, NULL);
    }
    store_cursor_close(cursor);
    return err == FF_ERR_NOT_FOUND ? FF_OK : err;
}

ff_err query_history(ff_ledger *ledger, const ProtobufCMessage *request,
                     ProtobufCMessage **response_out, ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_history_request__descriptor);
    const Fundflow__V1__GetHistoryRequest *get = (const Fundflow__V1__GetHistoryRequest *)request;
    ff_err err = command_identifier_check(get->name, "name", failure);
    if (err != FF_OK) return err;
    return query_read_run(ledger, &fundflow__v1__get_history_response__descriptor,
                          query_history_fill, get, "cannot read the history", response_out,
                          failure);
}

/* ---- verification ---- */

ff_err query_verify(ff_ledger *ledger, const ProtobufCMessage *request,
                    ProtobufCMessage **response_out, ff_failure *failure) {
    /* The server verifies off its event loop with no request: the RPC's request is empty. */
    assert(request == NULL ||
           request->descriptor == &fundflow__v1__verify_ledger_request__descriptor);
    Fundflow__V1__VerifyLedgerResponse *response = malloc(sizeof *response);
    if (response == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__verify_ledger_response__init(response);
    verify_report report;
    /* Verification reads the whole store in transactions of its own, so it holds the map lock
     * rather than one read transaction. */
    ledger_read_begin(ledger);
    ff_err err = verify_ledger(ledger_store(ledger), NULL, &report);
    ledger_read_end(ledger);
    response->ok = err == FF_OK;
    response->code = strdup(ff_err_name(err));
    response->sequence = report.sequence;
    response->reason = strdup(report.reason);
    response->events_checked = report.events_checked;
    if (response->code == NULL || response->reason == NULL) {
        fundflow__v1__verify_ledger_response__free_unpacked(response, NULL);
        return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    }
    *response_out = &response->base;
    return FF_OK;
}
