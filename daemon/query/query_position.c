/* The read RPCs about accounts: an organisation's position (GetPosition), with what it released
 * on its contracts; for a rollup, the group of it and those under it with the flows inside the
 * group taken out; for an unspecified stream, one row per stream; and, asked for, its contracts
 * as provider. And one account's postings (GetAccountHistory). Both refuse an organisation
 * outside the asker's scope. The definitions every figure follows are in ledger.proto's
 * Position. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "command.h"
#include "log.h"
#include "projection.h"
#include "query_group.h"
#include "query_position_parts.h"
#include "query_read.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Checks an account request's code, stream (0, every stream, only where every_stream) and year. */
static ff_err query_account_check(const char *org_code, int stream, bool every_stream,
                                  uint32_t year, ff_failure *failure) {
    ff_err err = command_org_code_check(org_code, "org_code", true, failure);
    if (err == FF_OK && !(stream == 0 && every_stream) &&
        (stream == 0 ||
         !protobuf_c_enum_descriptor_get_value(&fundflow__v1__stream__descriptor, stream))) {
        err = failure_set(failure, FF_ERR_ENUM_INVALID, "stream", "stream %d is not valid",
                          stream);
    }
    if (err == FF_OK && !calendar_year_valid(year)) {
        err = failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                          "financial_year %u must start between %d and %d", year, FF_YEAR_FIRST,
                          FF_YEAR_LAST);
    }
    return err;
}

/* ---- what contracts released ---- */

static int64_t query_contract_released(const Fundflow__V1__ContractRecord *contract,
                                       uint32_t as_at_date) {
    if (as_at_date == 0) return contract->released_pence;
    int64_t released = 0;
    for (size_t i = 0; i < contract->n_metrics; i++) {
        const Fundflow__V1__MetricState *metric = contract->metrics[i];
        if (metric->reported && metric->reported_date <= as_at_date) {
            released += metric->released_pence;
        }
    }
    return released;
}

/* Adding up the releases on an organisation's contracts, one party_contracts row at a time. */
typedef struct query_released_walk {
    store_txn *txn;
    ff_store *store;
    const char *org_code;
    uint32_t stream;
    uint64_t as_at_sequence;
    uint32_t as_at_date;
    size_t prefix_bytes;
    int64_t *released_pence;
} query_released_walk;

static ff_err query_released_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value, (void)stop;
    const query_released_walk *walk = argument;
    assert(key.bytes >= walk->prefix_bytes);
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    size_t id_bytes = key.bytes - walk->prefix_bytes;
    if (id_bytes == 0 || id_bytes > FF_IDENTIFIER_BYTES_MAX) return FF_OK;
    memcpy(contract_id, (const uint8_t *)key.data + walk->prefix_bytes, id_bytes);
    contract_id[id_bytes] = '\0';
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->txn, walk->store, contract_id,
                                          walk->as_at_sequence, &contract);
    /* A contract agreed after the as-at sequence did not exist then; a failed read is no
     * reason to leave a contract out of the sum, so it fails the position. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    assert(strcmp(contract->contract_id, contract_id) == 0);
    if (strcmp(contract->commissioner_code, walk->org_code) == 0 &&
        (uint32_t)contract->stream == walk->stream) {
        err = money_add(*walk->released_pence,
                        query_contract_released(contract, walk->as_at_date), walk->released_pence);
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

/* Adds the outcome pots released on an organisation's contracts as commissioner (in a stream and
 * year, as at a sequence and, if not 0, an effective date) to *released_pence. */
static ff_err query_position_released(store_txn *txn, ff_store *store, const char *org_code,
                                      const Fundflow__V1__Position *position,
                                      int64_t *released_pence) {
    uint8_t prefix[FF_ORG_CODE_BYTES_MAX + 3];
    size_t code_bytes = strlen(org_code);
    assert(code_bytes <= FF_ORG_CODE_BYTES_MAX);
    uint32_t year = position->financial_year;
    memcpy(prefix, org_code, code_bytes);
    prefix[code_bytes] = 0;
    prefix[code_bytes + 1] = (uint8_t)(year >> 8), prefix[code_bytes + 2] = (uint8_t)year;
    query_released_walk walk = {txn, store, org_code, (uint32_t)position->stream,
                                position->as_at_sequence, position->as_at_date, code_bytes + 3,
                                released_pence};
    return store_each(txn, store, STORE_TABLE_PARTY_CONTRACTS, STORE_SLICE(prefix, code_bytes + 3),
                      query_released_row, &walk);
}

/* ---- positions ---- */

/* The purposes a position reads, and where each lands in the response. */
static int64_t *query_position_target(Fundflow__V1__Position *position, account_purpose purpose) {
    switch (purpose) {
    case ACCOUNT_PURPOSE_RECEIVED: return &position->received_pence;
    case ACCOUNT_PURPOSE_ONWARD: return &position->passed_on_pence;
    case ACCOUNT_PURPOSE_BUDGET: return &position->headroom_pence;
    case ACCOUNT_PURPOSE_FUNDING: return &position->funding_drawn_pence;
    case ACCOUNT_PURPOSE_COMMITTED: return &position->committed_pence;
    case ACCOUNT_PURPOSE_WITHHELD: return &position->withheld_pence;
    case ACCOUNT_PURPOSE_PAID: return &position->paid_pence;
    case ACCOUNT_PURPOSE_EARNED: return &position->earned_pence;
    }
    assert(0 && "every purpose is listed");
    return NULL;
}

/* Adds one organisation's figures to the position, as at its sequence and date. */
static ff_err query_position_fill_one(store_txn *txn, ff_store *store, const char *code,
                                      Fundflow__V1__Position *position) {
    for (int purpose = ACCOUNT_PURPOSE_FUNDING; purpose <= ACCOUNT_PURPOSE_LAST; purpose++) {
        account_key key;
        account_balance balance;
        account_key_make(&key, code, position->financial_year, (uint32_t)position->stream,
                         (account_purpose)purpose);
        ff_err err = position->as_at_date != 0
                         ? account_balance_read_by_date(txn, store, &key,
                                                        position->as_at_sequence,
                                                        position->as_at_date, &balance)
                         : account_balance_read_at(txn, store, &key, position->as_at_sequence,
                                                   &balance);
        /* A balance as at a sequence holds no posting after it. */
        assert(err != FF_OK || balance.last_sequence <= position->as_at_sequence);
        int64_t net = 0;
        if (err == FF_OK) err = account_balance_net(&key, &balance, &net);
        int64_t *target = query_position_target(position, (account_purpose)purpose);
        if (err == FF_OK) err = money_add(*target, net, target);
        if (err != FF_OK) return err;
    }
    return query_position_released(txn, store, code, position, &position->released_pence);
}

/* Takes a rollup's internal flows out of its members' sums, and records them. */
static ff_err query_position_eliminate(store_txn *txn, ff_store *store,
                                       Fundflow__V1__Position *position) {
    query_group_internal internal;
    ff_err err = query_group_internal_read(txn, store, position, &internal);
    const query_contract_figures *contracts = &internal.contracts;
    int64_t contract_paid = 0;
    if (err == FF_OK) err = money_add(contracts->paid_pence, contracts->earned_pence, &contract_paid);
    int64_t *const figures[] = {&position->received_pence,  &position->passed_on_pence,
                                &position->received_pence,  &position->committed_pence,
                                &position->paid_pence,      &position->withheld_pence,
                                &position->earned_pence,    &position->released_pence};
    const int64_t internal_parts[] = {internal.transfers_pence,  internal.transfers_pence,
                                      contract_paid,             contracts->unpaid_pence,
                                      contracts->paid_pence,     contracts->withheld_pence,
                                      contracts->earned_pence,   contracts->released_pence};
    static_assert(sizeof figures / sizeof figures[0] ==
                      sizeof internal_parts / sizeof internal_parts[0],
                  "every figure has its internal part");
    for (size_t i = 0; err == FF_OK && i < sizeof figures / sizeof figures[0]; i++) {
        err = money_subtract(*figures[i], internal_parts[i], figures[i]);
    }
    if (err == FF_OK) {
        err = query_contract_figures_value(contracts, &position->internal_contract_value_pence);
    }
    position->internal_transfers_pence = internal.transfers_pence;
    position->internal_contract_paid_pence = contract_paid;
    return err;
}

/* Works out held, contract value and uncommitted headroom from the other figures. For one
 * organisation the headroom so found is its BUDGET account's balance, since every posting
 * keeps the two equal; for a group it is the members' headroom plus what they have committed
 * to each other and not yet paid. */
static ff_err query_position_derive(Fundflow__V1__Position *position) {
    int64_t held = 0, value = 0, headroom = 0;
    ff_err err = money_add(position->received_pence, position->funding_drawn_pence, &held);
    if (err == FF_OK) err = money_subtract(held, position->passed_on_pence, &held);
    query_contract_figures parts = {position->committed_pence, position->paid_pence,
                                    position->withheld_pence, position->earned_pence,
                                    position->released_pence};
    if (err == FF_OK) err = query_contract_figures_value(&parts, &value);
    if (err == FF_OK) err = money_subtract(held, value, &headroom);
    if (err != FF_OK) return err;
    assert(position->rollup || headroom == position->headroom_pence);
    position->held_pence = held;
    position->contract_value_pence = value;
    position->headroom_pence = headroom;
    return FF_OK;
}

ff_err query_position_read(store_txn *txn, ff_store *store,
                           const Fundflow__V1__GetPositionRequest *get,
                           Fundflow__V1__Position *position, ff_failure *failure) {
    assert(strcmp(position->org_code, get->org_code) == 0 && position->n_included_codes == 0);
    Fundflow__V1__OrgRecord *org = NULL;
    ff_err err = projection_org_read(txn, store, get->org_code, &org);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(failure, err, "org_code", "no organisation has code %s",
                           get->org_code);
    }
    if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read the organisation");
    log_head head;
    err = log_head_read(txn, store, &head);
    if (err == FF_OK) {
        position->as_at_sequence = get->as_at_sequence != 0 && get->as_at_sequence < head.sequence
                                       ? get->as_at_sequence
                                       : head.sequence;
        /* The group as it stood on the date asked for (today's links if none). */
        query_group group = {&position->included_codes, &position->n_included_codes};
        err = query_group_form(txn, store, org, position->rollup, get->as_at_date, group);
    }
    for (size_t i = 0; err == FF_OK && i < position->n_included_codes; i++) {
        err = query_position_fill_one(txn, store, position->included_codes[i], position);
    }
    if (err == FF_OK && position->rollup) err = query_position_eliminate(txn, store, position);
    if (err == FF_OK) err = query_position_derive(position);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err != FF_OK ? failure_set(failure, err, NULL, "cannot read the position") : FF_OK;
}

/* The money figures of a position, for adding one stream's to the total. */
#define QUERY_POSITION_FIGURES 14
static void query_position_figures(Fundflow__V1__Position *position,
                                   int64_t *figures[QUERY_POSITION_FIGURES]) {
    int64_t *const all[QUERY_POSITION_FIGURES] = {
        &position->received_pence,       &position->passed_on_pence,
        &position->headroom_pence,       &position->funding_drawn_pence,
        &position->committed_pence,      &position->paid_pence,
        &position->withheld_pence,       &position->earned_pence,
        &position->released_pence,       &position->held_pence,
        &position->contract_value_pence, &position->internal_transfers_pence,
        &position->internal_contract_value_pence, &position->internal_contract_paid_pence};
    memcpy(figures, all, sizeof all);
}

/* A new position for the request in one stream, its codes unset; NULL if memory runs out. */
static Fundflow__V1__Position *query_position_new(const Fundflow__V1__GetPositionRequest *get,
                                                  Fundflow__V1__Stream stream) {
    Fundflow__V1__Position *position = malloc(sizeof *position);
    if (position == NULL) return NULL;
    fundflow__v1__position__init(position);
    position->org_code = strdup(get->org_code);
    if (position->org_code == NULL) {
        free(position);
        return NULL;
    }
    position->stream = stream;
    position->financial_year = get->financial_year;
    position->as_at_date = get->as_at_date;
    position->rollup = get->rollup;
    return position;
}

/* Adds one stream's position to the total and, if it has any figure, keeps it as a row. */
static ff_err query_position_stream_take(Fundflow__V1__Position *total,
                                         Fundflow__V1__Position *row) {
    int64_t *sums[QUERY_POSITION_FIGURES], *figures[QUERY_POSITION_FIGURES];
    query_position_figures(total, sums);
    query_position_figures(row, figures);
    bool any = false;
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < QUERY_POSITION_FIGURES; i++) {
        any = any || *figures[i] != 0;
        err = money_add(*sums[i], *figures[i], sums[i]);
    }
    total->as_at_sequence = row->as_at_sequence;
    /* Every stream's rollup has the same members: the total keeps the last one's list. */
    if (err == FF_OK && total->n_included_codes == 0) {
        total->included_codes = row->included_codes, total->n_included_codes = row->n_included_codes;
        row->included_codes = NULL, row->n_included_codes = 0;
    }
    if (err != FF_OK || !any) {
        fundflow__v1__position__free_unpacked(row, NULL);
        return err;
    }
    total->streams[total->n_streams++] = row;
    return FF_OK;
}

/* Every stream's position, one row each (those with any figure), and their total. */
static ff_err query_position_every_stream(const query_read *read,
                                          const Fundflow__V1__GetPositionRequest *get,
                                          Fundflow__V1__Position *total) {
    const ProtobufCEnumDescriptor *streams = &fundflow__v1__stream__descriptor;
    total->streams = calloc(streams->n_values, sizeof *total->streams);
    if (total->streams == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = FF_OK;
    for (unsigned i = 0; err == FF_OK && i < streams->n_values; i++) {
        Fundflow__V1__Stream stream = (Fundflow__V1__Stream)streams->values[i].value;
        if (stream == FUNDFLOW__V1__STREAM__STREAM_UNSPECIFIED) continue;
        Fundflow__V1__GetPositionRequest one = *get;
        one.stream = stream;
        Fundflow__V1__Position *row = query_position_new(get, stream);
        if (row == NULL) return FF_ERR_NO_MEMORY;
        err = query_position_read(read->txn, read->store, &one, row, read->failure);
        if (err == FF_OK) err = query_position_stream_take(total, row);
        else fundflow__v1__position__free_unpacked(row, NULL);
    }
    return err;
}

static ff_err query_position_fill(const query_read *read, const void *request,
                                  ProtobufCMessage **response) {
    const Fundflow__V1__GetPositionRequest *get = request;
    Fundflow__V1__Position *position = (Fundflow__V1__Position *)*response;
    position->org_code = strdup(get->org_code);
    if (position->org_code == NULL) return FF_ERR_NO_MEMORY;
    position->stream = get->stream;
    position->financial_year = get->financial_year;
    position->as_at_date = get->as_at_date;
    position->rollup = get->rollup;
    /* A rollup of a covered organisation is answered whole: its places or members are part of
     * it, as they stood on the date asked for. */
    ff_err err = query_org_in_scope(read, get->org_code, "org_code");
    if (err == FF_OK) err = query_as_at_check(read, get->as_at_sequence);
    if (err != FF_OK) return err;
    err = get->stream == FUNDFLOW__V1__STREAM__STREAM_UNSPECIFIED
              ? query_position_every_stream(read, get, position)
              : query_position_read(read->txn, read->store, get, position, read->failure);
    if (err == FF_OK && get->provider_contracts) err = query_provider_contracts_fill(read, position);
    return err;
}

ff_err query_position_get(ff_ledger *ledger, const access_principal *who,
                          const ProtobufCMessage *request, ProtobufCMessage **response_out,
                          ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_position_request__descriptor);
    const Fundflow__V1__GetPositionRequest *get =
        (const Fundflow__V1__GetPositionRequest *)request;
    ff_err err =
        query_account_check(get->org_code, get->stream, true, get->financial_year, failure);
    if (err == FF_OK && get->as_at_date != 0 && !calendar_date_valid(get->as_at_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                          "as_at_date %u is not a real date in YYYYMMDD form", get->as_at_date);
    }
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__position__descriptor,
                             query_position_fill, get, "cannot read the position", response_out,
                             failure);
}

/* ---- account history ---- */

typedef struct query_history_page {
    account_key key;
    Fundflow__V1__GetAccountHistoryResponse *response;
    size_t page_size;
    ff_err err;
} query_history_page;

static bool query_history_visit(void *context, uint64_t sequence, const posting_record *record) {
    query_history_page *page = context;
    Fundflow__V1__GetAccountHistoryResponse *response = page->response;
    assert(response->n_postings <= page->page_size);
    if (response->n_postings == page->page_size) {
        response->next_after_sequence = response->postings[page->page_size - 1]->sequence;
        return false;
    }
    /* Postings come in sequence order, so a page's token always moves forward. */
    assert(response->n_postings == 0 ||
           response->postings[response->n_postings - 1]->sequence < sequence);
    Fundflow__V1__AccountPosting *row = malloc(sizeof *row);
    if (row == NULL) {
        page->err = FF_ERR_NO_MEMORY;
        return false;
    }
    fundflow__v1__account_posting__init(row);
    row->sequence = sequence;
    row->effective_date = record->effective_date;
    row->debit_pence = record->debit_pence;
    row->credit_pence = record->credit_pence;
    page->err = account_balance_net(&page->key, &record->balance_after, &row->balance_pence);
    response->postings[response->n_postings++] = row;
    return page->err == FF_OK;
}

static ff_err query_account_history_fill(const query_read *read, const void *request,
                                         ProtobufCMessage **response) {
    const Fundflow__V1__GetAccountHistoryRequest *get = request;
    query_history_page page = {.page_size = query_page_size(get->page_size),
                               .response = (Fundflow__V1__GetAccountHistoryResponse *)*response};
    account_key_make(&page.key, get->org_code, get->financial_year, (uint32_t)get->stream,
                     (account_purpose)get->purpose);
    page.response->postings = calloc(page.page_size, sizeof *page.response->postings);
    if (page.response->postings == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = query_org_named(read, get->org_code, "org_code");
    if (err != FF_OK) return err;
    err = account_postings_visit(read->txn, read->store, &page.key, get->after_sequence,
                                        query_history_visit, &page);
    return err != FF_OK ? err : page.err;
}

ff_err query_account_history(ff_ledger *ledger, const access_principal *who,
                             const ProtobufCMessage *request, ProtobufCMessage **response_out,
                             ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_account_history_request__descriptor);
    const Fundflow__V1__GetAccountHistoryRequest *get =
        (const Fundflow__V1__GetAccountHistoryRequest *)request;
    ff_err err =
        query_account_check(get->org_code, get->stream, false, get->financial_year, failure);
    if (err == FF_OK && ((int)get->purpose < (int)ACCOUNT_PURPOSE_FUNDING ||
                         (int)get->purpose > (int)ACCOUNT_PURPOSE_LAST)) {
        err = failure_set(failure, FF_ERR_ENUM_INVALID, "purpose", "purpose %d is not valid",
                          get->purpose);
    }
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__get_account_history_response__descriptor,
                             query_account_history_fill, get,
                             "cannot read the account's postings", response_out, failure);
}
