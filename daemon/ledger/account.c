/* Applying postings to accounts and reading balances, now or as at an earlier sequence. */
#include "account.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"
#include "fundflow/v1/events.pb-c.h"
#include "ledger_write.h"

static const char *const account_purpose_names[] = {
    [ACCOUNT_PURPOSE_FUNDING] = "funding",
    [ACCOUNT_PURPOSE_BUDGET] = "budget",
    [ACCOUNT_PURPOSE_RECEIVED] = "received",
    [ACCOUNT_PURPOSE_ONWARD] = "onward",
    [ACCOUNT_PURPOSE_COMMITTED] = "committed",
    [ACCOUNT_PURPOSE_WITHHELD] = "withheld",
    [ACCOUNT_PURPOSE_PAID] = "paid",
    [ACCOUNT_PURPOSE_EARNED] = "earned",
};

void account_key_make(account_key *key, const char *org_code, uint32_t financial_year,
                      uint32_t stream, account_purpose purpose) {
    size_t code_bytes = strlen(org_code);
    assert(code_bytes <= FF_ORG_CODE_BYTES_MAX);
    assert(financial_year <= UINT16_MAX && stream <= UINT8_MAX);
    memset(key->org_code, ' ', sizeof key->org_code);
    memcpy(key->org_code, org_code, code_bytes);
    key->year_big_endian[0] = (uint8_t)(financial_year >> 8);
    key->year_big_endian[1] = (uint8_t)(financial_year & 0xFF);
    key->stream = (uint8_t)stream;
    key->purpose = (uint8_t)purpose;
}

uint32_t account_key_year(const account_key *key) {
    return ((uint32_t)key->year_big_endian[0] << 8) | key->year_big_endian[1];
}

static bool account_debit_normal(const account_key *key) {
    return key->purpose != ACCOUNT_PURPOSE_FUNDING && key->purpose != ACCOUNT_PURPOSE_RECEIVED;
}

void account_key_describe(const account_key *key, char *buffer, size_t buffer_bytes) {
    int code_bytes = FF_ORG_CODE_BYTES_MAX;
    while (code_bytes > 0 && key->org_code[code_bytes - 1] == ' ') code_bytes--;
    char year[CALENDAR_YEAR_TEXT_BYTES];
    calendar_year_format(account_key_year(key), year, sizeof year);
    const ProtobufCEnumValue *stream =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__stream__descriptor, key->stream);
    const char *purpose = key->purpose >= ACCOUNT_PURPOSE_FUNDING &&
                                  key->purpose <= ACCOUNT_PURPOSE_LAST
                              ? account_purpose_names[key->purpose]
                              : "unknown";
    snprintf(buffer, buffer_bytes, "%.*s %s %s %s", code_bytes, key->org_code, year,
             stream ? stream->name : "UNKNOWN_STREAM", purpose);
}

ff_err account_balance_net(const account_key *key, const account_balance *balance,
                           int64_t *net_pence_out) {
    int64_t net = 0;
    ff_err err;
    if (account_debit_normal(key)) {
        err = money_subtract(balance->debits_posted_pence, balance->credits_posted_pence, &net);
        if (err == FF_OK) err = money_subtract(net, balance->credits_pending_pence, &net);
    } else {
        err = money_subtract(balance->credits_posted_pence, balance->debits_posted_pence, &net);
        if (err == FF_OK) err = money_subtract(net, balance->debits_pending_pence, &net);
    }
    if (err == FF_OK) *net_pence_out = net;
    return err;
}

/* What every stored balance is: non-negative totals, and a count of postings that is zero only
 * for an account never posted to. Checked before a balance is written and after it is read. */
static void account_balance_assert_valid(const account_balance *balance) {
    assert(balance->debits_posted_pence >= 0 && balance->credits_posted_pence >= 0);
    assert(balance->debits_pending_pence >= 0 && balance->credits_pending_pence >= 0);
    assert((balance->posting_count == 0) == (balance->last_sequence == 0));
    assert(balance->posting_count <= balance->last_sequence);
}

/* What every stored posting is: one side only, positive, and the totals after it hold it. */
static void account_posting_assert_valid(const posting_record *record, uint64_t sequence) {
    assert(sequence >= 1);
    assert(record->debit_pence >= 0 && record->credit_pence >= 0);
    assert(record->debit_pence > 0 || record->credit_pence > 0);
    assert(record->balance_after.last_sequence == sequence);
    assert(record->balance_after.debits_posted_pence >= record->debit_pence);
    assert(record->balance_after.credits_posted_pence >= record->credit_pence);
    account_balance_assert_valid(&record->balance_after);
}

/* Layout 3 keeps postings under their account key, the main part of their store key. */
static_assert(sizeof(account_key) == STORE_POSTING_MAIN_BYTES, "postings' main key");

static store_slice account_key_slice(const account_key *key) {
    return STORE_SLICE(key, sizeof *key);
}

static void posting_key_make(posting_key *key, const account_key *account, uint64_t sequence) {
    key->account = *account;
    log_key_encode(sequence, key->sequence_big_endian);
}

/* A stored posting (layout 2): five unsigned LEB128 varints, the debit, the credit, the account's
 * posted debits and credits after it and its count of postings, then the effective date. The
 * sequence and so the last sequence are the key's; pending totals are never posted, so they are
 * not stored. Each is written in its shortest form, so a replay writes the same bytes. */
enum { POSTING_STORED_FIELDS = 6, POSTING_VARINT_BYTES_MAX = 10,
       POSTING_STORED_BYTES_MAX = POSTING_STORED_FIELDS * POSTING_VARINT_BYTES_MAX };

static size_t posting_varint_put(uint64_t value, uint8_t *out) {
    size_t used = 0;
    while (value >= 0x80) {
        out[used++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[used++] = (uint8_t)value;
    return used;
}

/* Reads one varint of at most 64 bits in its shortest form; false if it runs off the end, is
 * too long or is not shortest. */
static bool posting_varint_get(const uint8_t **cursor, const uint8_t *end, uint64_t *value_out) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64 && *cursor < end; shift += 7) {
        uint8_t byte = *(*cursor)++;
        if (shift == 63 && byte > 1) return false;
        value |= (uint64_t)(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) {
            *value_out = value;
            return byte != 0 || shift == 0;
        }
    }
    return false;
}

static size_t posting_stored_encode(const posting_record *record,
                                    uint8_t out[POSTING_STORED_BYTES_MAX]) {
    assert(record->balance_after.debits_pending_pence == 0);
    assert(record->balance_after.credits_pending_pence == 0);
    const uint64_t fields[POSTING_STORED_FIELDS] = {
        (uint64_t)record->debit_pence, (uint64_t)record->credit_pence,
        (uint64_t)record->balance_after.debits_posted_pence,
        (uint64_t)record->balance_after.credits_posted_pence,
        record->balance_after.posting_count, record->effective_date};
    size_t used = 0;
    for (size_t i = 0; i < POSTING_STORED_FIELDS; i++) used += posting_varint_put(fields[i], out + used);
    return used;
}

/* Decodes a stored posting of the given sequence; false if its bytes are not one. */
static bool posting_stored_decode(store_slice value, uint64_t sequence, posting_record *out) {
    const uint8_t *cursor = value.data, *end = cursor + value.bytes;
    uint64_t fields[POSTING_STORED_FIELDS];
    for (size_t i = 0; i < POSTING_STORED_FIELDS; i++) {
        if (!posting_varint_get(&cursor, end, &fields[i])) return false;
        if (fields[i] > INT64_MAX) return false;
    }
    if (cursor != end || fields[5] > UINT32_MAX) return false;
    memset(out, 0, sizeof *out);
    out->debit_pence = (int64_t)fields[0];
    out->credit_pence = (int64_t)fields[1];
    out->balance_after.debits_posted_pence = (int64_t)fields[2];
    out->balance_after.credits_posted_pence = (int64_t)fields[3];
    out->balance_after.posting_count = fields[4];
    out->effective_date = (uint32_t)fields[5];
    out->balance_after.last_sequence = sequence;
    return true;
}

/* Decodes a posting read from the map, checking its key's size, its bytes and what it says. */
static ff_err account_posting_decode(store_slice key, store_slice value, posting_record *record_out,
                                     account_balance *balance_after_out) {
    if (key.bytes != sizeof(posting_key)) return FF_ERR_STORAGE;
    posting_key found;
    memcpy(&found, key.data, sizeof found);
    uint64_t sequence = log_key_decode(found.sequence_big_endian);
    posting_record record;
    if (sequence == 0 || !posting_stored_decode(value, sequence, &record)) return FF_ERR_STORAGE;
    account_posting_assert_valid(&record, sequence);
    if (record_out != NULL) *record_out = record;
    if (balance_after_out != NULL) *balance_after_out = record.balance_after;
    return FF_OK;
}

ff_err account_balance_read_at(store_txn *txn, ff_store *store, const account_key *key,
                               uint64_t as_at_sequence, account_balance *balance_out) {
    memset(balance_out, 0, sizeof *balance_out);
    if (as_at_sequence == 0) return FF_OK;
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_POSTINGS, &cursor);
    if (err != FF_OK) return err;
    /* The last posting at or before as_at_sequence, if it belongs to this account: in layout 3
     * its account's last row when as_at_sequence is the head or later. */
    posting_key seek;
    posting_key_make(&seek, key, as_at_sequence);
    store_slice found_key = STORE_SLICE(&seek, sizeof seek), value;
    err = store_cursor_move(cursor, STORE_SEEK_AT_OR_BEFORE, &found_key, &value);
    if (err == FF_OK && found_key.bytes == sizeof seek &&
        memcmp(found_key.data, key, sizeof *key) == 0) {
        err = account_posting_decode(found_key, value, NULL, balance_out);
    } else if (err == FF_OK || err == FF_ERR_NOT_FOUND) {
        err = FF_OK; /* the account had no posting by then */
    }
    store_cursor_close(cursor);
    return err;
}

/* The balances a run of flat writes has read or written, for account_balance_read: see
 * account_balance_cache_begin. Each thread has its own, as each writes in its own transactions. */
enum { ACCOUNT_BALANCE_CACHE_ENTRIES = 16 };
static _Thread_local struct {
    const store_txn *txn; /* NULL when no run is on */
    size_t count;
    size_t next; /* the entry to replace when all are in use */
    account_key keys[ACCOUNT_BALANCE_CACHE_ENTRIES];
    account_balance balances[ACCOUNT_BALANCE_CACHE_ENTRIES];
} account_balance_cache;

void account_balance_cache_begin(store_txn *txn) {
    assert(txn != NULL);
    account_balance_cache.txn = txn;
    account_balance_cache.count = 0;
    account_balance_cache.next = 0;
}

void account_balance_cache_end(void) { account_balance_cache.txn = NULL; }

/* The account's entry in the cache of txn's run, or NULL. */
static account_balance *account_balance_cached(const store_txn *txn, const account_key *key) {
    if (account_balance_cache.txn != txn || txn == NULL) return NULL;
    for (size_t i = 0; i < account_balance_cache.count; i++) {
        if (memcmp(&account_balance_cache.keys[i], key, sizeof *key) == 0) {
            return &account_balance_cache.balances[i];
        }
    }
    return NULL;
}

/* Records an account's balance as txn now holds it, if a run on txn is on. */
static void account_balance_cache_put(const store_txn *txn, const account_key *key,
                                      const account_balance *balance) {
    if (account_balance_cache.txn != txn || txn == NULL) return;
    account_balance *entry = account_balance_cached(txn, key);
    if (entry == NULL) {
        size_t slot = account_balance_cache.count < ACCOUNT_BALANCE_CACHE_ENTRIES
                          ? account_balance_cache.count++
                          : account_balance_cache.next++ % ACCOUNT_BALANCE_CACHE_ENTRIES;
        account_balance_cache.keys[slot] = *key;
        entry = &account_balance_cache.balances[slot];
    }
    *entry = *balance;
}

ff_err account_balance_read(store_txn *txn, ff_store *store, const account_key *key,
                            account_balance *balance_out) {
    const account_balance *cached = account_balance_cached(txn, key);
    if (cached != NULL) {
        *balance_out = *cached;
        return FF_OK;
    }
    /* An account's balance is its last posting's totals (layout 2: no balances table). */
    ff_err err = account_balance_read_at(txn, store, key, UINT64_MAX, balance_out);
    if (err == FF_OK) account_balance_cache_put(txn, key, balance_out);
    return err;
}

ff_err account_postings_visit(store_txn *txn, ff_store *store, const account_key *key,
                              uint64_t after_sequence, account_posting_visitor visit,
                              void *context) {
    if (after_sequence == UINT64_MAX) return FF_OK;
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_POSTINGS, &cursor);
    if (err != FF_OK) return err;
    posting_key seek;
    posting_key_make(&seek, key, after_sequence + 1);
    store_slice found_key = STORE_SLICE(&seek, sizeof seek), value;
    for (err = store_cursor_move(cursor, STORE_SEEK, &found_key, &value); err == FF_OK;
         err = store_cursor_move(cursor, STORE_NEXT, &found_key, &value)) {
        if (found_key.bytes != sizeof seek || memcmp(found_key.data, key, sizeof *key) != 0) break;
        posting_record record;
        err = account_posting_decode(found_key, value, &record, NULL);
        if (err != FF_OK) break;
        posting_key found;
        memcpy(&found, found_key.data, sizeof found);
        if (!visit(context, log_key_decode(found.sequence_big_endian), &record)) break;
    }
    store_cursor_close(cursor);
    return err == FF_ERR_NOT_FOUND ? FF_OK : err;
}

typedef struct account_date_filter {
    uint64_t as_at_sequence;
    uint32_t as_at_date;
    account_balance *balance;
    ff_err err;
} account_date_filter;

static bool account_date_filter_visit(void *context, uint64_t sequence,
                                      const posting_record *record) {
    account_date_filter *filter = context;
    if (sequence > filter->as_at_sequence) return false;
    if (record->effective_date > filter->as_at_date) return true;
    account_balance *balance = filter->balance;
    if (money_add(balance->debits_posted_pence, record->debit_pence,
                  &balance->debits_posted_pence) != FF_OK ||
        money_add(balance->credits_posted_pence, record->credit_pence,
                  &balance->credits_posted_pence) != FF_OK) {
        filter->err = FF_ERR_SUM_OVERFLOW;
        return false;
    }
    balance->last_sequence = sequence;
    balance->posting_count++;
    return true;
}

ff_err account_balance_read_by_date(store_txn *txn, ff_store *store, const account_key *key,
                                    uint64_t as_at_sequence, uint32_t as_at_date,
                                    account_balance *balance_out) {
    memset(balance_out, 0, sizeof *balance_out);
    account_date_filter filter = {as_at_sequence, as_at_date, balance_out, FF_OK};
    ff_err err = account_postings_visit(txn, store, key, 0, account_date_filter_visit, &filter);
    return err != FF_OK ? err : filter.err;
}

static ff_err account_postings_balanced(const posting *postings, size_t posting_count,
                                        ff_failure *failure) {
    /* Legs may each hold up to INT64_MAX, so their totals are summed in 128 bits: with at most
     * ACCOUNT_POSTINGS_PER_EVENT_MAX legs the sums cannot overflow, and the comparison is exact. */
    __int128 debits = 0, credits = 0;
    for (size_t i = 0; i < posting_count; i++) {
        if (postings[i].debit_pence < 0 || postings[i].credit_pence < 0) {
            return failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence",
                               "a posting holds a negative amount");
        }
        debits += postings[i].debit_pence;
        credits += postings[i].credit_pence;
    }
    if (debits != credits) {
        return failure_set(failure, FF_ERR_UNBALANCED, NULL,
                           "debits total %lld pence but credits total %lld pence",
                           (long long)debits, (long long)credits);
    }
    return FF_OK;
}

static ff_err account_totals_add(account_balance *balance, const posting *leg,
                                 ff_failure *failure) {
    if (money_add(balance->debits_posted_pence, leg->debit_pence, &balance->debits_posted_pence) ||
        money_add(balance->credits_posted_pence, leg->credit_pence,
                  &balance->credits_posted_pence)) {
        char account[FF_ACCOUNT_TEXT_BYTES];
        account_key_describe(&leg->account, account, sizeof account);
        return failure_set(failure, FF_ERR_SUM_OVERFLOW, "amount_pence",
                           "the totals of account %s would overflow 64-bit pence", account);
    }
    return FF_OK;
}

static ff_err account_headroom_check(const posting *leg, const account_balance *before,
                                     const account_balance *after, ff_failure *failure) {
    if (leg->account.purpose != ACCOUNT_PURPOSE_BUDGET) return FF_OK;
    int64_t available_after = 0;
    ff_err err = account_balance_net(&leg->account, after, &available_after);
    if (err != FF_OK) {
        return failure_set(failure, err, "amount_pence", "a budget balance would overflow");
    }
    if (available_after >= 0) return FF_OK;
    int64_t available_before = 0;
    (void)account_balance_net(&leg->account, before, &available_before);
    char held[FF_MONEY_TEXT_BYTES], asked[FF_MONEY_TEXT_BYTES];
    money_format(available_before, held, sizeof held);
    money_format(leg->credit_pence, asked, sizeof asked);
    account_key_describe(&leg->account, failure->account, sizeof failure->account);
    failure->headroom_pence = available_before;
    return failure_set(failure, FF_ERR_INSUFFICIENT_HEADROOM, "amount_pence",
                       "account %s holds %s, which cannot cover %s", failure->account, held,
                       asked);
}

/* True unless key is a budget whose balance has gone below zero, which the ledger never allows. */
static bool account_budget_not_negative(const account_key *key, const account_balance *balance) {
    if (key->purpose != ACCOUNT_PURPOSE_BUDGET) return true;
    int64_t available = 0;
    return account_balance_net(key, balance, &available) == FF_OK && available >= 0;
}

static ff_err account_open_if_new(store_txn *txn, ff_store *store, const account_key *key,
                                  uint64_t sequence) {
    account_record record;
    memset(&record, 0, sizeof record);
    record.opened_sequence = sequence;
    record.purpose = key->purpose;
    assert(sequence >= 1);
    assert(record.purpose >= ACCOUNT_PURPOSE_FUNDING && record.purpose <= ACCOUNT_PURPOSE_LAST);
    ff_err err = ledger_put(txn, store, STORE_TABLE_ACCOUNTS, account_key_slice(key),
                            STORE_SLICE(&record, sizeof record), STORE_PUT_NEW);
    return err == FF_ERR_KEY_EXISTS ? FF_OK : err;
}

static ff_err account_leg_write(store_txn *txn, ff_store *store, uint64_t sequence,
                                uint32_t effective_date, const posting *leg,
                                const account_balance *after) {
    account_balance_assert_valid(after);
    assert(after->last_sequence == sequence);
    /* An account is opened by its first posting; one with postings was opened then. */
    ff_err err = after->posting_count == 1
                     ? account_open_if_new(txn, store, &leg->account, sequence)
                     : FF_OK;
    if (err != FF_OK) return err;
    posting_key key;
    posting_key_make(&key, &leg->account, sequence);
    posting_record record;
    memset(&record, 0, sizeof record);
    record.debit_pence = leg->debit_pence;
    record.credit_pence = leg->credit_pence;
    record.effective_date = effective_date;
    record.balance_after = *after;
    account_posting_assert_valid(&record, sequence);
    uint8_t stored[POSTING_STORED_BYTES_MAX];
    size_t stored_bytes = posting_stored_encode(&record, stored);
    /* A posting's sequence is the account's latest, so it is appended after the account's
     * last posting (layout 3), filling the pages of its postings. */
    err = ledger_put(txn, store, STORE_TABLE_POSTINGS, STORE_SLICE(&key, sizeof key),
                     STORE_SLICE(stored, stored_bytes), STORE_PUT_NEW_LIKELY_LAST);
    /* One event posts to an account at most once; a second leg on the same account is a bug. */
    assert(err != FF_ERR_KEY_EXISTS);
    if (err == FF_OK) account_balance_cache_put(txn, &leg->account, after);
    return err;
}

/* Refuses a leg on an organisation whose month holding effective_date is closed. */
static ff_err account_period_open_check(store_txn *txn, ff_store *store, const posting *leg,
                                        uint32_t effective_date, ff_failure *failure) {
    uint8_t key[FF_ORG_CODE_BYTES_MAX + 3];
    uint32_t year = calendar_year_of_date(effective_date);
    uint32_t month = calendar_month_of_date(effective_date);
    memcpy(key, leg->account.org_code, FF_ORG_CODE_BYTES_MAX);
    key[FF_ORG_CODE_BYTES_MAX] = (uint8_t)(year >> 8);
    key[FF_ORG_CODE_BYTES_MAX + 1] = (uint8_t)year;
    key[FF_ORG_CODE_BYTES_MAX + 2] = (uint8_t)month;
    store_slice closing;
    ff_err err = store_get(txn, store, STORE_TABLE_PERIODS, STORE_SLICE(key, sizeof key), &closing);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return failure_set(failure, err, NULL, "periods");
    int code_bytes = FF_ORG_CODE_BYTES_MAX;
    while (code_bytes > 0 && leg->account.org_code[code_bytes - 1] == ' ') code_bytes--;
    char dated[CALENDAR_DATE_TEXT_BYTES], year_text[CALENDAR_YEAR_TEXT_BYTES];
    calendar_date_format(effective_date, dated, sizeof dated);
    calendar_year_format(year, year_text, sizeof year_text);
    return failure_set(failure, FF_ERR_PERIOD_CLOSED, "effective_date",
                       "M%u of %s is closed for %.*s, so nothing dated %s may post to it", month,
                       year_text, code_bytes, leg->account.org_code, dated);
}

/* True if a leg before leg i is on the same organisation, whose periods are then checked. */
static bool account_leg_org_seen(const posting *postings, size_t i) {
    for (size_t j = 0; j < i; j++) {
        if (memcmp(postings[j].account.org_code, postings[i].account.org_code,
                   sizeof postings[i].account.org_code) == 0) {
            return true;
        }
    }
    return false;
}

/* Works out the balance each leg leaves, refusing (with nothing written) a leg that would
 * overflow its totals or take a budget below zero. */
static ff_err account_postings_check(store_txn *txn, ff_store *store, uint64_t sequence,
                                     const posting *postings, size_t posting_count,
                                     account_balance *afters, ff_failure *failure) {
    for (size_t i = 0; i < posting_count; i++) {
        for (size_t j = 0; j < i; j++) {
            assert(memcmp(&postings[j].account, &postings[i].account, sizeof(account_key)) != 0);
        }
        account_balance before;
        ff_err err = account_balance_read(txn, store, &postings[i].account, &before);
        if (err != FF_OK) return failure_set(failure, err, NULL, "cannot read a balance");
        afters[i] = before;
        err = account_totals_add(&afters[i], &postings[i], failure);
        if (err == FF_OK) err = account_headroom_check(&postings[i], &before, &afters[i], failure);
        if (err != FF_OK) return err;
        afters[i].last_sequence = sequence;
        afters[i].posting_count++;
        /* The headroom check has kept every budget at or above zero. */
        assert(account_budget_not_negative(&postings[i].account, &afters[i]));
    }
    return FF_OK;
}

ff_err account_postings_apply(store_txn *txn, ff_store *store, uint64_t sequence,
                              uint32_t effective_date, const posting *postings,
                              size_t posting_count, ff_failure *failure) {
    assert(posting_count <= ACCOUNT_POSTINGS_PER_EVENT_MAX);
    assert(sequence >= 1 && (posting_count == 0 || postings != NULL));
    ff_err err = account_postings_balanced(postings, posting_count, failure);
    for (size_t i = 0; err == FF_OK && i < posting_count; i++) {
        if (account_leg_org_seen(postings, i)) continue;
        err = account_period_open_check(txn, store, &postings[i], effective_date, failure);
    }
    /* Every leg is checked before any is written, so a refusal leaves nothing to undo. One event
     * posts to an account at most once, so each leg's balance before is the stored one. */
    account_balance afters[ACCOUNT_POSTINGS_PER_EVENT_MAX];
    if (err == FF_OK) {
        err = account_postings_check(txn, store, sequence, postings, posting_count, afters,
                                     failure);
    }
    for (size_t i = 0; err == FF_OK && i < posting_count; i++) {
        err = account_leg_write(txn, store, sequence, effective_date, &postings[i], &afters[i]);
        if (err != FF_OK) return failure_set(failure, err, NULL, "cannot write a posting");
    }
    return err;
}
