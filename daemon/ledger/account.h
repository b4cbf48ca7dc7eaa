/* Accounts, balances and postings: the double-entry side of the ledger.
 *
 * Every organisation has accounts per (financial year, stream, purpose). An account's key is a
 * fixed 16 bytes, ordered so that one organisation's accounts for one year sit together:
 *
 *     org code (12 bytes, space padded) ++ year (2 bytes big-endian) ++ stream ++ purpose
 *
 * Postings are keyed by account key ++ sequence and carry the account's totals after the posting,
 * so the balance as at any sequence number is one cursor seek, and the balance now is the
 * account's last posting (storage layout 2 keeps no separate balances).
 *
 * Purposes and how allocations and onward budgets post (A is the amount):
 *
 *     funder pays out:     debit  funder ONWARD A,  credit funder BUDGET A
 *     recipient receives:  debit  recipient BUDGET A, credit recipient RECEIVED A
 *     NHSE's limit up D:   debit  NHSE BUDGET D,      credit NHSE RECEIVED D  (down: swapped)
 *
 * BUDGET is what an organisation holds and may pass on; it may never go below zero. NHS
 * England's comes from its revenue limits (projection_limit.c), so its allocations are bounded
 * like any other body's budget passed on. FUNDING is no longer posted; its number stays.
 *
 * Contracts (V its value, P its withheld pot) post on the commissioner and the provider:
 *
 *     agreed:    debit COMMITTED V-P, debit WITHHELD P, credit BUDGET V
 *     varied:    debit COMMITTED D, credit BUDGET D   (reversed sides for a decrease)
 *     payment A: debit PAID A, credit COMMITTED A;   provider: debit BUDGET A, credit RECEIVED A
 *     outcome:   debit EARNED E, debit BUDGET R, credit WITHHELD E+R;
 *                provider: debit BUDGET E, credit RECEIVED E   (E earned, R released)
 */
#ifndef FUNDFLOW_ACCOUNT_H
#define FUNDFLOW_ACCOUNT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "store.h"
#include "fundflow/limits.h"

typedef enum account_purpose {
    ACCOUNT_PURPOSE_FUNDING = 1,  /* no longer posted (NHSE allocates from BUDGET); credit-normal */
    ACCOUNT_PURPOSE_BUDGET = 2,   /* held and available; debit-normal; never below zero */
    ACCOUNT_PURPOSE_RECEIVED = 3, /* allocations and budgets received; credit-normal */
    ACCOUNT_PURPOSE_ONWARD = 4,   /* allocations and budgets passed on; debit-normal */
    ACCOUNT_PURPOSE_COMMITTED = 5, /* contract value committed and not yet paid; debit-normal */
    ACCOUNT_PURPOSE_WITHHELD = 6, /* outcome pots awaiting reports; debit-normal */
    ACCOUNT_PURPOSE_PAID = 7,     /* payments made under contracts; debit-normal */
    ACCOUNT_PURPOSE_EARNED = 8,   /* outcome pots earned by providers; debit-normal */
} account_purpose;

#define ACCOUNT_PURPOSE_LAST ACCOUNT_PURPOSE_EARNED
/* The RPC schema's AccountPurpose enum uses the same numbers. */

typedef struct account_key {
    char org_code[FF_ORG_CODE_BYTES_MAX];
    uint8_t year_big_endian[2];
    uint8_t stream;
    uint8_t purpose;
} account_key;
static_assert(sizeof(account_key) == 16, "account keys are stored: their size is fixed");

/* Totals of one account. Every total is non-negative and every addition is checked. */
typedef struct account_balance {
    int64_t debits_posted_pence;
    int64_t credits_posted_pence;
    int64_t debits_pending_pence;
    int64_t credits_pending_pence;
    uint64_t last_sequence;
    uint64_t posting_count;
} account_balance;
/* Layout 1 stored it in the balances table; layout 2 reads it from the account's last posting. */
static_assert(sizeof(account_balance) == 48, "layout 1 stored balances: their size was fixed");

typedef struct account_record {
    uint64_t opened_sequence;
    uint8_t purpose;
    uint8_t reserved[7];
} account_record;
static_assert(sizeof(account_record) == 16, "account records are stored: their size is fixed");

typedef struct posting_key {
    account_key account;
    uint8_t sequence_big_endian[8];
} posting_key;
static_assert(sizeof(posting_key) == 24, "posting keys are stored: their size is fixed");

typedef struct posting_record {
    int64_t debit_pence;
    int64_t credit_pence;
    uint32_t effective_date;
    uint32_t reserved;
    account_balance balance_after;
} posting_record;
/* In memory; layout 2 stores it compact, in 6 to 60 bytes (account.c), and layout 1 stored these
 * 72 bytes as they are. */
static_assert(sizeof(posting_record) == 72, "layout 1 stored postings: their size was fixed");

/* One leg of an event, before it is applied. */
typedef struct posting {
    account_key account;
    int64_t debit_pence;
    int64_t credit_pence;
} posting;

/* The most postings one event produces. */
#define ACCOUNT_POSTINGS_PER_EVENT_MAX 8

void account_key_make(account_key *key, const char *org_code, uint32_t financial_year,
                      uint32_t stream, account_purpose purpose);
uint32_t account_key_year(const account_key *key);

/* Writes "QWE 2024/25 stream 1 budget"-style text naming the account. */
void account_key_describe(const account_key *key, char *buffer, size_t buffer_bytes);

/* The account's balance on its normal side: debits less credits for debit-normal accounts,
 * credits less debits for credit-normal ones. Pending amounts reduce what is available. */
ff_err account_balance_net(const account_key *key, const account_balance *balance,
                           int64_t *net_pence_out);

/* Reads an account's current totals; an account never posted to reads as all zero. */
ff_err account_balance_read(store_txn *txn, ff_store *store, const account_key *key,
                            account_balance *balance_out);

/* A run of writes straight into one write transaction (the flat write path's batch) may keep the
 * balances it reads and writes in memory, so that account_balance_read finds an account it has
 * met again without a seek in the postings (the same few accounts recur in every command of a
 * batch). Only while every write since account_balance_cache_begin(txn) stays in txn: end the
 * run before txn is committed or aborted, and before any nested transaction of it that could
 * post is begun, since aborting that would undo postings the cache still holds. The cache holds
 * a few accounts and forgets the oldest. One run per thread. */
void account_balance_cache_begin(store_txn *txn);
void account_balance_cache_end(void);

/* Reads an account's totals as they stood once event as_at_sequence was recorded. */
ff_err account_balance_read_at(store_txn *txn, ff_store *store, const account_key *key,
                               uint64_t as_at_sequence, account_balance *balance_out);

/* Reads an account's totals counting only postings at or before as_at_sequence whose effective
 * date is on or before as_at_date (YYYYMMDD). Scans the account's postings, so its cost grows
 * with the account's history; use account_balance_read_at when no date is asked for. */
ff_err account_balance_read_by_date(store_txn *txn, ff_store *store, const account_key *key,
                                    uint64_t as_at_sequence, uint32_t as_at_date,
                                    account_balance *balance_out);

/* Calls visit for each posting of an account after after_sequence, in sequence order, until it
 * returns false or the postings run out. Returns FF_OK or a storage error. */
typedef bool (*account_posting_visitor)(void *context, uint64_t sequence,
                                        const posting_record *record);
ff_err account_postings_visit(store_txn *txn, ff_store *store, const account_key *key,
                              uint64_t after_sequence, account_posting_visitor visit,
                              void *context);

/* Applies one event's postings: checks debits equal credits, adds to each account's totals with
 * overflow checks, refuses a BUDGET account going below zero, and writes accounts, balances and
 * postings. On failure, failure says why and the caller must abort the transaction. */
ff_err account_postings_apply(store_txn *txn, ff_store *store, uint64_t sequence,
                              uint32_t effective_date, const posting *postings,
                              size_t posting_count, ff_failure *failure);

#endif
