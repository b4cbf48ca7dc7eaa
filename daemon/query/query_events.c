/* The read RPCs about the event log: a page of events (ListEvents), one event (GetEvent), the
 * events that touched an organisation or contract or that a principal recorded (GetHistory), and
 * verification (VerifyLedger). A scoped principal sees only the events its scope covers. */
#include "query.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "projection.h"
#include "query_read.h"
#include "verify.h"
#include "fundflow/limits.h"

static_assert(FF_SCAN_ROWS_MAX >= FF_PAGE_SIZE_MAX,
              "a national principal's page must fill before its scan budget runs out");

/* Reads one event for a page, checking the log handed back the event asked for. */
static ff_err query_event_read(store_txn *txn, ff_store *store, uint64_t sequence,
                               Fundflow__V1__EventRecord **record_out) {
    ff_err err = log_read(txn, store, sequence, record_out);
    assert(err != FF_OK || (*record_out)->sequence == sequence);
    return err;
}

/* Reads one event into *slot if the asker's scope covers it; otherwise leaves *slot NULL. */
static ff_err query_event_take(const query_read *read, uint64_t sequence,
                               Fundflow__V1__EventRecord **slot) {
    Fundflow__V1__EventRecord *record = NULL;
    ff_err err = query_event_read(read->txn, read->store, sequence, &record);
    bool covered = false;
    if (err == FF_OK) err = query_event_in_scope(read, record, &covered);
    if (err == FF_OK && covered) {
        *slot = record;
        return FF_OK;
    }
    if (record) fundflow__v1__event_record__free_unpacked(record, NULL);
    return err;
}

/* A page of the events after after_sequence that the asker's scope covers, as ListEvents and
 * WatchEvents list them: at most page_size events, examining at most FF_SCAN_ROWS_MAX. */
typedef struct query_events_page {
    Fundflow__V1__EventRecord **events; /* page_size slots, n_events of them filled */
    size_t n_events;
    uint64_t last_examined; /* the last sequence looked at; after_sequence if none */
    bool more;              /* events after last_examined were not looked at */
    log_head head;          /* the head the page was read at */
} query_events_page;

static ff_err query_events_page_fill(const query_read *read, uint64_t after_sequence,
                                     size_t page_size, query_events_page *page) {
    *page = (query_events_page){.last_examined = after_sequence};
    page->events = calloc(page_size, sizeof *page->events);
    if (page->events == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = log_head_read(read->txn, read->store, &page->head);
    /* No event follows the largest sequence, and adding one to it would wrap to the first. */
    if (after_sequence == UINT64_MAX) return err;
    size_t examined = 0;
    for (uint64_t sequence = after_sequence + 1; err == FF_OK && sequence <= page->head.sequence;
         sequence++) {
        /* More events follow: the next page starts after the last one looked at. */
        if (page->n_events == page_size || examined == FF_SCAN_ROWS_MAX) {
            page->more = true;
            break;
        }
        examined++;
        page->last_examined = sequence;
        err = query_event_take(read, sequence, &page->events[page->n_events]);
        if (err == FF_OK && page->events[page->n_events] != NULL) page->n_events++;
    }
    assert(page->n_events <= page_size && page->last_examined >= after_sequence);
    return err;
}

static ff_err query_events_fill(const query_read *read, const void *request,
                                ProtobufCMessage **response) {
    const Fundflow__V1__ListEventsRequest *list = request;
    Fundflow__V1__ListEventsResponse *reply = (Fundflow__V1__ListEventsResponse *)*response;
    query_events_page page;
    ff_err err = query_events_page_fill(read, list->after_sequence,
                                        query_page_size(list->page_size), &page);
    /* The response owns the events from here, even on failure, and frees them with itself. */
    reply->events = page.events;
    reply->n_events = page.n_events;
    if (page.more) reply->next_after_sequence = page.last_examined;
    return err;
}
ff_err query_events_list(ff_ledger *ledger, const access_principal *who,
                         const ProtobufCMessage *request, ProtobufCMessage **response_out,
                         ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__list_events_request__descriptor);
    return query_read_run_as(ledger, who, &fundflow__v1__list_events_response__descriptor,
                             query_events_fill, request, "cannot read the log", response_out,
                             failure);
}

/* WatchEvents' page: ListEvents' page with the head it was read at and where to go on from.
 * Waiting for a first event is the transport's: this answers at once. */
static ff_err query_events_watch_fill(const query_read *read, const void *request,
                                      ProtobufCMessage **response) {
    const Fundflow__V1__WatchEventsRequest *watch = request;
    Fundflow__V1__WatchEventsResponse *reply = (Fundflow__V1__WatchEventsResponse *)*response;
    query_events_page page;
    ff_err err = query_events_page_fill(read, watch->after_sequence,
                                        query_page_size(watch->max_events), &page);
    reply->events = page.events;
    reply->n_events = page.n_events;
    reply->head_sequence = page.head.sequence;
    reply->next_after_sequence = page.last_examined;
    return err;
}

ff_err query_events_watch(ff_ledger *ledger, const access_principal *who,
                          const ProtobufCMessage *request, ProtobufCMessage **response_out,
                          ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__watch_events_request__descriptor);
    return query_read_run_as(ledger, who, &fundflow__v1__watch_events_response__descriptor,
                             query_events_watch_fill, request, "cannot read the log",
                             response_out, failure);
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
    if (err != FF_OK) return err;
    *response = &record->base;
    bool covered = false;
    err = query_event_in_scope(read, record, &covered);
    if (err != FF_OK || covered) return err;
    char sequence[24];
    snprintf(sequence, sizeof sequence, "%llu", (unsigned long long)get->sequence);
    return query_out_of_scope(read, "sequence", sequence);
}

ff_err query_event_get(ff_ledger *ledger, const access_principal *who,
                       const ProtobufCMessage *request, ProtobufCMessage **response_out,
                       ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_event_request__descriptor);
    const Fundflow__V1__GetEventRequest *get = (const Fundflow__V1__GetEventRequest *)request;
    if (get->sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "sequence", "sequence is required");
    }
    return query_read_run_as(ledger, who, NULL, query_event_fill, get, "cannot read the event",
                             response_out, failure);
}

/* ---- history ----
 *
 * Two tables list events by a name: history (an organisation code or contract id) and
 * actor_events (the principal that recorded them). Both are keyed name ++ 0 ++ sequence, so one
 * walk pages either. */

/* The longest name either table is keyed by. */
#define QUERY_HISTORY_NAME_BYTES_MAX \
    (FF_IDENTIFIER_BYTES_MAX > FF_ACTOR_BYTES_MAX ? FF_IDENTIFIER_BYTES_MAX : FF_ACTOR_BYTES_MAX)

/* A page of one name's events being filled from its rows. */
typedef struct query_history_walk {
    const query_read *read;
    size_t prefix_bytes;
    size_t page_size;
    size_t examined;        /* rows looked at, at most FF_SCAN_ROWS_MAX */
    uint64_t last_sequence; /* the last row looked at */
    Fundflow__V1__GetHistoryResponse *page;
} query_history_walk;

static ff_err query_history_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value;
    query_history_walk *walk = argument;
    Fundflow__V1__GetHistoryResponse *page = walk->page;
    assert(page->n_events <= walk->page_size);
    /* The prefix ends with the name's zero byte, so every row under it is this name's. */
    assert(key.bytes == walk->prefix_bytes + LOG_KEY_BYTES);
    if (page->n_events == walk->page_size || walk->examined == FF_SCAN_ROWS_MAX) {
        page->next_after_sequence = walk->last_sequence;
        *stop = true;
        return FF_OK;
    }
    uint64_t sequence = log_key_decode((const uint8_t *)key.data + walk->prefix_bytes);
    assert(sequence > walk->last_sequence);
    walk->examined++;
    walk->last_sequence = sequence;
    ff_err err = query_event_take(walk->read, sequence, &page->events[page->n_events]);
    if (err == FF_OK && page->events[page->n_events] != NULL) page->n_events++;
    return err;
}

/* Fills a page of the events listed under name in table, after the request's sequence. */
static ff_err query_history_walk_rows(const query_read *read, store_table table, const char *name,
                                      const Fundflow__V1__GetHistoryRequest *get,
                                      Fundflow__V1__GetHistoryResponse *page) {
    query_history_walk walk = {read, 0, query_page_size(get->page_size), 0, 0, page};
    page->events = calloc(walk.page_size, sizeof *page->events);
    if (page->events == NULL) return FF_ERR_NO_MEMORY;
    if (get->after_sequence == UINT64_MAX) return FF_OK;
    uint8_t seek[QUERY_HISTORY_NAME_BYTES_MAX + 1 + LOG_KEY_BYTES];
    size_t seek_bytes = projection_history_key(name, get->after_sequence + 1, seek, sizeof seek);
    assert(seek_bytes > LOG_KEY_BYTES && seek_bytes <= sizeof seek);
    walk.prefix_bytes = seek_bytes - LOG_KEY_BYTES;
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(read->txn, read->store, table, &cursor);
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

/* FF_OK when the asker's scope covers the organisation or contract named; a name that is
 * neither is out of scope too, so that a scoped principal cannot probe which names exist. */
static ff_err query_history_name_in_scope(const query_read *read, const char *name) {
    bool covered = false;
    ff_err err = query_org_covered(read, name, &covered);
    if (err != FF_OK || covered) return err;
    Fundflow__V1__ContractRecord *contract = NULL;
    err = projection_contract_read(read->txn, read->store, name, UINT64_MAX, &contract);
    if (err == FF_OK) err = query_contract_in_scope(read, contract, &covered);
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    if (err == FF_ERR_CONTRACT_UNKNOWN || (err == FF_OK && !covered)) {
        return query_out_of_scope(read, "name", name);
    }
    return err;
}

/* FF_OK when name is a registered organisation or a contract; otherwise not_found naming the
 * field, so that a typo is not answered with an empty history. */
static ff_err query_history_name_known(const query_read *read, const char *name) {
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(read->txn, read->store, name, &org);
    if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
    if (err != FF_ERR_ORG_UNKNOWN) return err;
    Fundflow__V1__ContractRecord *contract = NULL;
    err = projection_contract_read(read->txn, read->store, name, UINT64_MAX, &contract);
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    if (err != FF_ERR_CONTRACT_UNKNOWN) return err;
    return failure_set(read->failure, FF_ERR_NOT_FOUND, "name",
                       "no organisation or contract is named %s", name);
}

/* A history by name or by actor. For a scoped principal every event listed is one its scope
 * covers, whichever table lists it. */
static ff_err query_history_fill(const query_read *read, const void *request,
                                 ProtobufCMessage **response) {
    const Fundflow__V1__GetHistoryRequest *get = request;
    Fundflow__V1__GetHistoryResponse *page = (Fundflow__V1__GetHistoryResponse *)*response;
    if (get->actor[0]) {
        return query_history_walk_rows(read, STORE_TABLE_ACTOR_EVENTS, get->actor, get, page);
    }
    /* A scoped principal is told the same of a name that is not there as of one that is not
     * its own; a national principal is told it is not there. */
    ff_err err = access_is_national(read->who) ? query_history_name_known(read, get->name)
                                                : query_history_name_in_scope(read, get->name);
    if (err != FF_OK) return err;
    return query_history_walk_rows(read, STORE_TABLE_HISTORY, get->name, get, page);
}

/* Checks a history request: a name or an actor, not both; and an actor's events only for an
 * admin, an auditor, or the actor itself. */
static ff_err query_history_check(const access_principal *who,
                                  const Fundflow__V1__GetHistoryRequest *get,
                                  ff_failure *failure) {
    if (get->name[0] && get->actor[0]) {
        return failure_set(failure, FF_ERR_ENUM_INVALID, "actor",
                           "give a name or an actor, not both");
    }
    if (!get->actor[0]) return command_identifier_check(get->name, "name", failure);
    ff_err err = command_text_check(get->actor, "actor", FF_ACTOR_BYTES_MAX, true, failure);
    if (err != FF_OK) return err;
    if (who->role == FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN ||
        who->role == FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR || strcmp(who->name, get->actor) == 0) {
        return FF_OK;
    }
    return failure_set(failure, FF_ERR_PERMISSION_DENIED, "actor",
                       "only an admin, an auditor or %s itself may list %s's events", get->actor,
                       get->actor);
}

ff_err query_history(ff_ledger *ledger, const access_principal *who,
                     const ProtobufCMessage *request, ProtobufCMessage **response_out,
                     ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_history_request__descriptor);
    const Fundflow__V1__GetHistoryRequest *get = (const Fundflow__V1__GetHistoryRequest *)request;
    ff_err err = query_history_check(who, get, failure);
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__get_history_response__descriptor,
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

ff_err query_verify_handler(ff_ledger *ledger, const access_principal *who,
                            const ProtobufCMessage *request, ProtobufCMessage **response_out,
                            ff_failure *failure) {
    /* The method table lets only admins and auditors verify, and verification has no scope. */
    (void)who;
    return query_verify(ledger, request, response_out, failure);
}
