/* Verifying the hash chain, comparing projections with a replay, and rebuilding projections. */
#include "verify.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "failure.h"
#include "fundflow/limits.h"
#include "log.h"
#include "projection.h"
#include "tree.h"

static ff_err verify_fail(verify_report *report, ff_err code, uint64_t sequence,
                          const char *reason) {
    report->code = code;
    report->sequence = sequence;
    snprintf(report->reason, sizeof report->reason, "%s", reason);
    return code;
}

/* What verify_log_walk calls for each event, after checking its hash and links. */
typedef ff_err (*verify_visit)(void *context, uint64_t sequence, store_slice value,
                               const Fundflow__V1__EventRecord *record, verify_report *report);

/* Where a walk of the log starts, how far it goes, and what it says as it goes. */
typedef struct verify_walk {
    log_head previous;                /* the event before the first to visit; zero for the start */
    uint64_t limit;                   /* visit at most this many events; 0 for no limit */
    bool finished;                    /* set when the walk ran off the end of the log */
    const verify_progress *progress;  /* NULL for none */
    verify_stage stage;
    uint64_t total;                   /* events in the log, for progress */
    const struct verify_piece *piece; /* when the chain thread has checked and decoded the
                                       * events: its piece, whose first event is piece_first */
    uint64_t piece_first;
} verify_walk;

/* A bump arena that the records of a piece are decoded into, through protobuf-c's allocator: no
 * malloc and free per field. What does not fit comes from the heap and goes back to it. */
typedef struct verify_arena {
    size_t used;
    size_t capacity;
    bool spilled; /* some of the record being decoded came from the heap */
    unsigned char *bytes;
} verify_arena;

static void *verify_arena_alloc(void *data, size_t bytes) {
    verify_arena *arena = data;
    size_t start = (arena->used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (start <= arena->capacity && bytes <= arena->capacity - start) {
        arena->used = start + bytes;
        return arena->bytes + start;
    }
    arena->spilled = true;
    return malloc(bytes);
}

static void verify_arena_free(void *data, void *pointer) {
    verify_arena *arena = data;
    /* Compared as addresses: only what came from the heap goes back to it. */
    uintptr_t at = (uintptr_t)pointer, start = (uintptr_t)arena->bytes;
    if (at < start || at >= start + arena->capacity) free(pointer);
}

struct verify_piece;
static Fundflow__V1__EventRecord *verify_piece_record(const struct verify_piece *piece,
                                                      uint64_t piece_first, uint64_t sequence);

/* The record at sequence: the chain thread's decoding, already checked, or (without a piece) the
 * row checked whole here, which the caller frees. */
static ff_err verify_record_take(verify_walk *walk, uint64_t sequence, store_slice value,
                                 Fundflow__V1__EventRecord **record, char *reason,
                                 size_t reason_bytes) {
    if (walk->piece == NULL) {
        return log_record_check(sequence, value, &walk->previous, record, reason, reason_bytes);
    }
    *record = verify_piece_record(walk->piece, walk->piece_first, sequence);
    walk->previous.sequence = sequence;
    memcpy(walk->previous.hash, (*record)->hash.data, DIGEST_BYTES);
    return FF_OK;
}

static void verify_progress_tell(const verify_progress *progress, verify_stage stage,
                                 uint64_t done, uint64_t total) {
    if (progress != NULL && progress->report != NULL) {
        progress->report(progress->context, stage, done, total);
    }
}

/* Checks one log row and hands it to visit. */
static ff_err verify_log_row(store_slice key, store_slice value, verify_walk *walk,
                             verify_visit visit, void *context, verify_report *report) {
    uint64_t sequence = key.bytes == LOG_KEY_BYTES ? log_key_decode(key.data) : 0;
    Fundflow__V1__EventRecord *record = NULL;
    char reason[sizeof report->reason];
    ff_err err = verify_record_take(walk, sequence, value, &record, reason, sizeof reason);
    if (err != FF_OK) {
        return verify_fail(report, err, sequence ? sequence : walk->previous.sequence + 1, reason);
    }
    report->events_checked++;
    if (visit != NULL) err = visit(context, sequence, value, record, report);
    if (walk->piece == NULL) fundflow__v1__event_record__free_unpacked(record, NULL);
    if (err == FF_OK && sequence % FF_PROGRESS_EVERY == 0) {
        verify_progress_tell(walk->progress, walk->stage, sequence, walk->total);
    }
    return err;
}

/* The first move of a walk: to the start of the log, or to the event after walk->previous. */
static ff_err verify_walk_first(store_cursor *cursor, const verify_walk *walk, store_slice *key,
                                store_slice *value) {
    if (walk->previous.sequence == 0) return store_cursor_move(cursor, STORE_FIRST, key, value);
    uint8_t next[LOG_KEY_BYTES];
    log_key_encode(walk->previous.sequence + 1, next);
    *key = STORE_SLICE(next, sizeof next);
    return store_cursor_move(cursor, STORE_SEEK, key, value);
}

/* Visits the log of txn in order from the event after walk->previous, checking each event's hash
 * and links, until walk->limit events or the end. Stops at the first failure. */
static ff_err verify_log_walk(store_txn *txn, ff_store *store, verify_walk *walk,
                              verify_visit visit, void *context, verify_report *report) {
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_LOG, &cursor);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot open a cursor on the log");
    store_slice key, value;
    uint64_t visited = 0;
    ff_err move_err;
    for (move_err = verify_walk_first(cursor, walk, &key, &value);
         move_err == FF_OK && err == FF_OK && (walk->limit == 0 || visited < walk->limit);
         move_err = store_cursor_move(cursor, STORE_NEXT, &key, &value)) {
        err = verify_log_row(key, value, walk, visit, context, report);
        if (++visited % FF_REPLAY_EVENTS_PER_TXN == 0) store_map_pages_release(store);
    }
    store_cursor_close(cursor);
    walk->finished = move_err == FF_ERR_NOT_FOUND;
    /* The walk ends cleanly only when the cursor runs off the end of the log or the limit. */
    if (err == FF_OK && move_err != FF_OK && move_err != FF_ERR_NOT_FOUND) {
        err = verify_fail(report, move_err, walk->previous.sequence + 1, "cannot read the log");
    }
    return err;
}

/* The log's head in txn, for progress: 0 if no progress is wanted, as reading costs a read. */
static uint64_t verify_progress_total(store_txn *txn, ff_store *store,
                                      const verify_progress *progress) {
    log_head head = {0};
    if (progress != NULL && progress->report != NULL) log_head_read(txn, store, &head);
    return head.sequence;
}

static ff_err verify_chain_watched(ff_store *store, const verify_progress *progress,
                                   verify_report *report) {
    memset(report, 0, sizeof *report);
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(store, NULL, STORE_TXN_READ, &txn);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot begin a read transaction");
    verify_walk walk = {.progress = progress, .stage = VERIFY_STAGE_CHAIN,
                        .total = verify_progress_total(txn, store, progress)};
    err = verify_log_walk(txn, store, &walk, NULL, NULL, report);
    if (err == FF_OK) verify_progress_tell(progress, walk.stage, walk.previous.sequence, walk.total);
    store_txn_abort(txn);
    return err;
}

ff_err verify_chain(ff_store *store, verify_report *report) {
    return verify_chain_watched(store, NULL, report);
}

/* ---- the chain thread: hashes checked on one core while the replay runs on another ---- */

/* The most Merkle tree rows a piece's events complete: at each stored height h (from
 * FF_TREE_STORED_HEIGHT_MIN) at most one every 2^h events, and one more, of 64 heights. */
#define VERIFY_PIECE_ROWS_MAX \
    (FF_REPLAY_EVENTS_PER_TXN / (1u << (FF_TREE_STORED_HEIGHT_MIN - 1)) + TREE_ROWS_PER_LEAF_MAX)

/* What the chain thread found in one piece of the log: the FF_REPLAY_EVENTS_PER_TXN events one
 * replay transaction takes, from sequence index * FF_REPLAY_EVENTS_PER_TXN + 1. */
typedef struct verify_piece {
    uint64_t checked;  /* events from the piece's first whose sequence and hash are right */
    bool log_ended;    /* the log ended after them */
    ff_err code;       /* else FF_OK, or why the event after them failed */
    uint64_t sequence; /* ... and the sequence verify names for it */
    char reason[sizeof(((verify_report *)0)->reason)];
    /* for a rebuild: the Merkle tree's rows these events complete, and its edge after them */
    size_t row_count;
    tree_row rows[VERIFY_PIECE_ROWS_MAX];
    tree_recount tree_after;
    /* the checked events decoded, into the arena (or partly the heap, where spilled says so) */
    Fundflow__V1__EventRecord *records[FF_REPLAY_EVENTS_PER_TXN];
    bool spilled[FF_REPLAY_EVENTS_PER_TXN];
    verify_arena arena;
} verify_piece;

static Fundflow__V1__EventRecord *verify_piece_record(const verify_piece *piece,
                                                      uint64_t piece_first, uint64_t sequence) {
    assert(sequence >= piece_first && sequence - piece_first < piece->checked);
    return piece->records[sequence - piece_first];
}

/* Frees what the piece's records took from the heap and empties its arena. */
static void verify_piece_records_free(verify_piece *piece) {
    ProtobufCAllocator allocator = {verify_arena_alloc, verify_arena_free, &piece->arena};
    for (uint64_t i = 0; i < piece->checked; i++) {
        if (piece->spilled[i]) fundflow__v1__event_record__free_unpacked(piece->records[i],
                                                                         &allocator);
    }
    piece->checked = 0;
    piece->arena.used = 0;
}

/* The chain thread walks the log in a read transaction of its own: every event's sequence, hash
 * trailer and hash (log_record_check_chain), its decoding into the piece's arena and its links
 * (log_record_check_decoded), and its Merkle leaf hash: the tree built in memory for a rebuild
 * (tree_recount_add), whose rows the replay writes a piece at a time, or the stored tree
 * checked (tree_recount_push) for fundflow-admin verify. It fills a ring of
 * FF_VERIFY_PIECES_AHEAD pieces and waits while the replay has not released the oldest: bounded
 * memory, whatever the ledger's size. The replay takes the pieces in order and reports a piece's
 * failure only after replaying the events before it, so the first failure in sequence order is
 * the one reported, as when one thread did both. */
typedef struct verify_checker {
    ff_store *store;
    bool rows_wanted; /* a rebuild's */
    bool tree_wanted; /* a check of the stored tree */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t produced; /* pieces filled, under lock */
    uint64_t released; /* pieces the replay is done with, under lock */
    bool stop;         /* the replay wants no more, under lock */
    /* the thread's own, read by others only after it is joined */
    log_head previous;
    bool moved;
    tree_recount recount;
    verify_tree_report tree;
    verify_piece pieces[FF_VERIFY_PIECES_AHEAD];
} verify_checker;

static bool verify_piece_fail(verify_piece *piece, ff_err code, uint64_t sequence,
                              const char *reason) {
    piece->code = code;
    piece->sequence = sequence;
    if (reason != NULL) snprintf(piece->reason, sizeof piece->reason, "%s", reason);
    return false;
}

/* The slot for the next piece, once the replay has released the one it held; NULL to stop. */
static verify_piece *verify_chain_claim(verify_checker *chain) {
    pthread_mutex_lock(&chain->lock);
    while (!chain->stop && chain->produced - chain->released >= FF_VERIFY_PIECES_AHEAD) {
        pthread_cond_wait(&chain->changed, &chain->lock);
    }
    verify_piece *piece = chain->stop ? NULL
                                      : &chain->pieces[chain->produced % FF_VERIFY_PIECES_AHEAD];
    pthread_mutex_unlock(&chain->lock);
    return piece;
}

static void verify_chain_publish(verify_checker *chain) {
    pthread_mutex_lock(&chain->lock);
    chain->produced++;
    pthread_cond_broadcast(&chain->changed);
    pthread_mutex_unlock(&chain->lock);
}

/* Checks one event of the walk into piece; false when the piece ends here. */
static bool verify_chain_event(verify_checker *chain, store_txn *txn, store_slice key,
                               store_slice value, verify_piece *piece) {
    uint64_t sequence = key.bytes == LOG_KEY_BYTES ? log_key_decode(key.data) : 0;
    log_head before = chain->previous;
    ff_err err = log_record_check_chain(sequence, value, &chain->previous, piece->reason,
                                        sizeof piece->reason);
    if (err != FF_OK) {
        return verify_piece_fail(piece, err, sequence ? sequence : before.sequence + 1, NULL);
    }
    merkle_hash leaf;
    if (chain->rows_wanted || chain->tree_wanted) {
        err = merkle_leaf_hash(value.data, value.bytes, &leaf);
        if (err != FF_OK) return verify_piece_fail(piece, err, sequence, "cannot hash the event");
    }
    if (chain->rows_wanted) {
        size_t added = 0;
        err = tree_recount_add(&chain->recount, &leaf, piece->rows + piece->row_count, &added);
        if (err != FF_OK) return verify_piece_fail(piece, err, sequence, "cannot hash the tree");
        piece->row_count += added;
        assert(piece->row_count <= VERIFY_PIECE_ROWS_MAX);
    }
    if (chain->tree_wanted && chain->tree.code == FF_OK) {
        chain->tree.code = tree_recount_push(txn, chain->store, &chain->recount, &leaf,
                                             chain->tree.reason, sizeof chain->tree.reason);
    }
    /* Decoded last, so that once decoded a record is the piece's to free. */
    ProtobufCAllocator allocator = {verify_arena_alloc, verify_arena_free, &piece->arena};
    piece->arena.spilled = false;
    Fundflow__V1__EventRecord *record = NULL;
    err = log_record_check_decoded(sequence, value, &before, &allocator, &record, piece->reason,
                                   sizeof piece->reason);
    if (err != FF_OK) return verify_piece_fail(piece, err, sequence, NULL);
    piece->records[piece->checked] = record;
    piece->spilled[piece->checked] = piece->arena.spilled;
    piece->checked++;
    /* The walk reads the whole log: its pages are handed back now and then, as the replay's are. */
    if (sequence % FF_REPLAY_EVENTS_PER_TXN == 0) store_map_pages_release(chain->store);
    return true;
}

/* Fills piece from where the walk is; false when the walk is over (a failure or the log's end). */
static bool verify_chain_fill(verify_checker *chain, store_txn *txn, store_cursor *cursor,
                              verify_piece *piece) {
    verify_piece_records_free(piece);
    piece->log_ended = false;
    piece->code = FF_OK;
    piece->sequence = 0;
    piece->reason[0] = '\0';
    piece->row_count = 0;
    while (piece->checked < FF_REPLAY_EVENTS_PER_TXN) {
        store_slice key, value;
        ff_err err = store_cursor_move(cursor, chain->moved ? STORE_NEXT : STORE_FIRST, &key,
                                       &value);
        chain->moved = true;
        if (err == FF_ERR_NOT_FOUND) {
            piece->log_ended = true;
            return false;
        }
        if (err != FF_OK) {
            return verify_piece_fail(piece, err, chain->previous.sequence + 1,
                                     "cannot read the log");
        }
        if (!verify_chain_event(chain, txn, key, value, piece)) return false;
    }
    return true;
}

/* The walk, piece by piece, and at the log's end the tree's size and right edge. */
static void verify_chain_walk(verify_checker *chain, store_txn *txn, store_cursor *cursor) {
    bool more = true;
    verify_piece *piece = NULL;
    while (more && (piece = verify_chain_claim(chain)) != NULL) {
        more = verify_chain_fill(chain, txn, cursor, piece);
        if (chain->rows_wanted) piece->tree_after = chain->recount;
        bool ended = !more && piece->log_ended && piece->code == FF_OK;
        if (ended && chain->tree_wanted && chain->tree.code == FF_OK) {
            chain->tree.code = tree_recount_end(txn, chain->store, &chain->recount,
                                                chain->tree.reason, sizeof chain->tree.reason);
        }
        chain->tree.checked = chain->tree_wanted && ended;
        verify_chain_publish(chain);
    }
}

static void *verify_chain_run(void *argument) {
    verify_checker *chain = argument;
    store_txn *txn = NULL;
    store_cursor *cursor = NULL;
    ff_err err = store_txn_begin(chain->store, NULL, STORE_TXN_READ, &txn);
    if (err == FF_OK) err = store_cursor_open(txn, chain->store, STORE_TABLE_LOG, &cursor);
    if (err == FF_OK) {
        verify_chain_walk(chain, txn, cursor);
    } else {
        verify_piece *piece = verify_chain_claim(chain);
        if (piece != NULL) {
            piece->log_ended = false;
            verify_piece_fail(piece, err, 0, txn ? "cannot open a cursor on the log"
                                                 : "cannot begin a read transaction on the log");
            verify_chain_publish(chain);
        }
    }
    store_cursor_close(cursor);
    if (txn != NULL) store_txn_abort(txn);
    return NULL;
}

/* Frees a chain thread's state, once it has ended (or never started). */
static void verify_chain_free(verify_checker *chain) {
    for (size_t i = 0; i < FF_VERIFY_PIECES_AHEAD; i++) {
        verify_piece_records_free(&chain->pieces[i]);
        free(chain->pieces[i].arena.bytes);
    }
    pthread_cond_destroy(&chain->changed);
    pthread_mutex_destroy(&chain->lock);
    free(chain);
}

/* Starts the chain thread on store's log; NULL if it cannot be started. */
static verify_checker *verify_chain_start(ff_store *store, bool rows_wanted, bool tree_wanted) {
    verify_checker *chain = calloc(1, sizeof *chain);
    if (chain == NULL) return NULL;
    chain->store = store;
    chain->rows_wanted = rows_wanted;
    chain->tree_wanted = tree_wanted;
    tree_recount_begin(&chain->recount);
    bool made = true;
    for (size_t i = 0; i < FF_VERIFY_PIECES_AHEAD; i++) {
        verify_arena *arena = &chain->pieces[i].arena;
        arena->capacity = FF_VERIFY_DECODE_ARENA_BYTES;
        arena->bytes = malloc(arena->capacity);
        made = made && arena->bytes != NULL;
    }
    pthread_mutex_init(&chain->lock, NULL);
    pthread_cond_init(&chain->changed, NULL);
    if (!made || pthread_create(&chain->thread, NULL, verify_chain_run, chain) != 0) {
        verify_chain_free(chain);
        return NULL;
    }
    return chain;
}

/* Stops the chain thread (wherever it is), joins it, hands over what it found of the tree (tree
 * may be NULL) and frees it. */
static void verify_chain_stop(verify_checker *chain, verify_tree_report *tree) {
    if (chain == NULL) return;
    pthread_mutex_lock(&chain->lock);
    chain->stop = true;
    pthread_cond_broadcast(&chain->changed);
    pthread_mutex_unlock(&chain->lock);
    pthread_join(chain->thread, NULL);
    if (tree != NULL) *tree = chain->tree;
    verify_chain_free(chain);
}

/* The piece numbered index, once the chain thread has filled it. */
static const verify_piece *verify_chain_piece(verify_checker *chain, uint64_t index) {
    pthread_mutex_lock(&chain->lock);
    assert(index >= chain->released && index < chain->released + FF_VERIFY_PIECES_AHEAD);
    while (chain->produced <= index) pthread_cond_wait(&chain->changed, &chain->lock);
    pthread_mutex_unlock(&chain->lock);
    return &chain->pieces[index % FF_VERIFY_PIECES_AHEAD];
}

/* The replay is done with the oldest piece it held (its transaction committed). */
static void verify_chain_release(verify_checker *chain) {
    pthread_mutex_lock(&chain->lock);
    chain->released++;
    pthread_cond_broadcast(&chain->changed);
    pthread_mutex_unlock(&chain->lock);
}

/* Where a replay writes: the scratch (or rebuilt) store, which takes a copy of the log too, as
 * some projections read earlier events. */
typedef struct verify_replay {
    store_txn *txn;
    ff_store *store;
} verify_replay;

/* verify_event_replay, with the Merkle tree appended to event by event or not (verify's
 * throwaway copy has none; a rebuild's gets the chain thread's rows a piece at a time). */
static ff_err verify_event_copy_apply(store_txn *txn, ff_store *store, bool with_tree,
                                      uint64_t sequence, store_slice value,
                                      const Fundflow__V1__EventRecord *record,
                                      ff_failure *failure, bool *copied_out) {
    *copied_out = false;
    ff_err err = with_tree ? log_append_raw(txn, store, sequence, value)
                           : log_append_raw_without_tree(txn, store, sequence, value);
    if (err != FF_OK) return err;
    *copied_out = true;
    return projection_apply(txn, store, record, failure);
}

ff_err verify_event_replay(store_txn *txn, ff_store *store, uint64_t sequence, store_slice value,
                          const Fundflow__V1__EventRecord *record, ff_failure *failure,
                          bool *copied_out) {
    return verify_event_copy_apply(txn, store, true, sequence, value, record, failure,
                                   copied_out);
}

static ff_err verify_replay_one(void *context, uint64_t sequence, store_slice value,
                                const Fundflow__V1__EventRecord *record, verify_report *report) {
    verify_replay *replay = context;
    ff_failure failure;
    failure_clear(&failure);
    bool copied = false;
    ff_err err = verify_event_copy_apply(replay->txn, replay->store, false, sequence, value,
                                         record, &failure, &copied);
    if (!copied) return verify_fail(report, err, sequence, "cannot copy the event");
    if (err == FF_OK) return FF_OK;
    /* A store that cannot be read or written says nothing about the projections: its error
     * stands. Any other failure means the log no longer replays as it was recorded. */
    verify_fail(report, store_error_is_failure(err) ? err : FF_ERR_PROJECTION_MISMATCH, sequence,
                "replaying the event failed: ");
    size_t used = strlen(report->reason);
    snprintf(report->reason + used, sizeof report->reason - used, "%s: %.160s", ff_err_name(err),
             failure.detail);
    return report->code;
}

/* The event a projection row was last written by, where the row records it; 0 otherwise. */
static uint64_t verify_row_sequence(store_table table, store_slice key, store_slice value) {
    if (table == STORE_TABLE_POSTINGS && key.bytes == sizeof(posting_key)) {
        return log_key_decode(((const posting_key *)key.data)->sequence_big_endian);
    }
    if (table == STORE_TABLE_BALANCES && value.bytes == sizeof(account_balance)) {
        account_balance balance;
        memcpy(&balance, value.data, sizeof balance);
        return balance.last_sequence;
    }
    if (table == STORE_TABLE_IDEMPOTENCY && value.bytes == LOG_KEY_BYTES) {
        return log_key_decode(value.data);
    }
    return 0;
}

static bool verify_slices_equal(store_slice left, store_slice right) {
    return left.bytes == right.bytes && (left.bytes == 0 ||
                                         memcmp(left.data, right.data, left.bytes) == 0);
}

/* Names the first row where a table and its replay part, with the event that wrote it. */
static ff_err verify_row_mismatch(store_table table, uint64_t row, bool live_found,
                                  store_slice live_key, store_slice live_value,
                                  verify_report *report) {
    char reason[sizeof report->reason];
    snprintf(reason, sizeof reason, "table %s differs from a replay at row %llu",
             store_table_name(table), (unsigned long long)row);
    uint64_t sequence = live_found ? verify_row_sequence(table, live_key, live_value) : 0;
    return verify_fail(report, FF_ERR_PROJECTION_MISMATCH, sequence, reason);
}

/* Compares one table in two transactions, key by key and byte by byte. */
static ff_err verify_table_compare(store_txn *live_txn, ff_store *live, store_txn *replay_txn,
                                   ff_store *replayed, store_table table, verify_report *report) {
    store_cursor *live_cursor = NULL, *replay_cursor = NULL;
    ff_err err = store_cursor_open(live_txn, live, table, &live_cursor);
    if (err == FF_OK) err = store_cursor_open(replay_txn, replayed, table, &replay_cursor);
    if (err != FF_OK) verify_fail(report, err, 0, "cannot open a cursor to compare tables");
    store_slice live_key, live_value, replay_key, replay_value;
    uint64_t row = 0;
    while (err == FF_OK) {
        store_move move = row == 0 ? STORE_FIRST : STORE_NEXT;
        ff_err live_err = store_cursor_move(live_cursor, move, &live_key, &live_value);
        ff_err replay_err = store_cursor_move(replay_cursor, move, &replay_key, &replay_value);
        /* A failed read is not a difference: it is an error of its own. */
        ff_err read_err = live_err != FF_OK && live_err != FF_ERR_NOT_FOUND ? live_err : replay_err;
        if (read_err != FF_OK && read_err != FF_ERR_NOT_FOUND) {
            err = verify_fail(report, read_err, 0, "cannot read a table to compare it");
            break;
        }
        if (live_err == FF_ERR_NOT_FOUND && replay_err == FF_ERR_NOT_FOUND) break;
        if (++row % FF_REPLAY_EVENTS_PER_TXN == 0) {
            store_map_pages_release(live);
            store_map_pages_release(replayed);
        }
        bool same = live_err == FF_OK && replay_err == FF_OK &&
                    verify_slices_equal(live_key, replay_key) &&
                    verify_slices_equal(live_value, replay_value);
        if (!same) {
            err = verify_row_mismatch(table, row, live_err == FF_OK, live_key, live_value,
                                      report);
        }
    }
    store_cursor_close(live_cursor);
    store_cursor_close(replay_cursor);
    return err;
}

/* One bounded piece of the replay into the scratch store, as store_write_run's work: it goes on
 * from the scratch log's head, so a retry after the map grows, or the next piece, starts where
 * the last commit left off. The chain thread's piece for those events is held until the commit. */
typedef struct verify_scratch_work_context {
    ff_store *live;
    store_txn *live_txn;
    ff_store *scratch;
    bool with_tree;
    verify_checker *chain;
    verify_walk walk;
    verify_report *report;
} verify_scratch_work_context;

/* After the replay of a piece's checked events: the piece's failure if it has one, and whether
 * the log ended there. */
static ff_err verify_piece_end(const verify_piece *piece, uint64_t piece_first, verify_walk *walk,
                               verify_report *report) {
    if (walk->previous.sequence + 1 != piece_first + piece->checked) {
        assert(walk->finished);
        return FF_OK; /* this snapshot's log ended before the chain thread's */
    }
    if (piece->code != FF_OK) {
        return verify_fail(report, piece->code, piece->sequence, piece->reason);
    }
    /* The walk may have run off the end as it reached the piece's last event. */
    walk->finished = walk->finished || piece->log_ended;
    return FF_OK;
}

/* A rebuild's tree rows for the piece just replayed, and the tree's edge after it. */
static ff_err verify_piece_tree_write(verify_scratch_work_context *work, const verify_piece *piece,
                                      store_txn *scratch_txn, uint64_t piece_first) {
    if (work->walk.previous.sequence + 1 != piece_first + piece->checked) {
        /* The chain thread's snapshot has events the replay's has not: a write came in. */
        return verify_fail(work->report, FF_ERR_STORAGE, work->walk.previous.sequence + 1,
                           "the log grew while rebuilding; nothing was changed: rebuild with "
                           "the server stopped");
    }
    ff_err err = tree_rows_write(scratch_txn, work->scratch, piece->rows, piece->row_count,
                                 &piece->tree_after);
    if (err != FF_OK) return verify_fail(work->report, err, 0, "cannot write the Merkle tree");
    return FF_OK;
}

static ff_err verify_scratch_work(void *argument, store_txn *scratch_txn) {
    verify_scratch_work_context *work = argument;
    memset(work->report, 0, sizeof *work->report);
    work->walk.finished = false;
    ff_err err = log_head_read(scratch_txn, work->scratch, &work->walk.previous);
    if (err != FF_OK) return verify_fail(work->report, err, 0, "cannot read the replay's head");
    /* The log is checked to run 1, 2, 3... so the events replayed so far are the head's, and
     * every transaction but the last replays a whole piece. */
    work->report->events_checked = work->walk.previous.sequence;
    assert(work->walk.previous.sequence % FF_REPLAY_EVENTS_PER_TXN == 0);
    uint64_t index = work->walk.previous.sequence / FF_REPLAY_EVENTS_PER_TXN;
    const verify_piece *piece = verify_chain_piece(work->chain, index);
    verify_replay replay = {scratch_txn, work->scratch};
    const uint64_t piece_first = work->walk.previous.sequence + 1;
    work->walk.limit = piece->checked;
    work->walk.piece = piece;
    work->walk.piece_first = piece_first;
    /* Every write of the replay stays in scratch_txn or the replay fails whole, so the balances
     * it meets may be kept in memory as a flat batch keeps them (account_balance_cache_begin). */
    account_balance_cache_begin(scratch_txn);
    if (piece->checked > 0) {
        err = verify_log_walk(work->live_txn, work->live, &work->walk, verify_replay_one,
                              &replay, work->report);
    }
    account_balance_cache_end();
    if (err == FF_OK) err = verify_piece_end(piece, piece_first, &work->walk, work->report);
    if (err == FF_OK && work->with_tree) {
        err = verify_piece_tree_write(work, piece, scratch_txn, piece_first);
    }
    return err;
}

/* Replays the whole log of live_txn into scratch, committing every FF_REPLAY_EVENTS_PER_TXN
 * events, while the chain thread checks the hashes; with_tree builds the copy's Merkle tree too,
 * which only a kept copy needs. tree, if not NULL, gets the chain thread's check of the live
 * store's Merkle tree. */
static ff_err verify_scratch_replay(ff_store *live, store_txn *live_txn, ff_store *scratch,
                                    bool with_tree, const verify_progress *progress,
                                    verify_report *report, verify_tree_report *tree) {
    verify_checker *chain = verify_chain_start(live, with_tree, tree != NULL);
    if (chain == NULL) {
        return verify_fail(report, FF_ERR_NO_MEMORY, 0, "cannot start the chain's thread");
    }
    verify_scratch_work_context work = {
        .live = live, .live_txn = live_txn, .scratch = scratch, .with_tree = with_tree,
        .chain = chain, .report = report,
        .walk = {.progress = progress, .stage = VERIFY_STAGE_REPLAY,
                 .total = verify_progress_total(live_txn, live, progress)}};
    ff_err err = FF_OK;
    do {
        err = store_write_run(scratch, verify_scratch_work, &work);
        if (err == FF_OK) verify_chain_release(chain);
        store_map_pages_release(scratch);
    } while (err == FF_OK && !work.walk.finished);
    verify_chain_stop(chain, tree);
    if (err != FF_OK && report->code == FF_OK) {
        verify_fail(report, err, 0, "cannot write the replay into the scratch store");
    }
    if (err == FF_OK) {
        verify_progress_tell(progress, VERIFY_STAGE_REPLAY, report->events_checked,
                             work.walk.total);
    }
    return err;
}

static ff_err verify_tables_compare(ff_store *live, store_txn *live_txn, ff_store *scratch,
                                    const verify_progress *progress, verify_report *report) {
    store_txn *scratch_txn = NULL;
    ff_err err = store_txn_begin(scratch, NULL, STORE_TXN_READ, &scratch_txn);
    const uint64_t tables = STORE_TABLE_FIRST_PLUGIN - STORE_TABLE_FIRST_PROJECTION;
    for (int table = STORE_TABLE_FIRST_PROJECTION; err == FF_OK && table < STORE_TABLE_FIRST_PLUGIN;
         table++) {
        err = verify_table_compare(live_txn, live, scratch_txn, scratch, (store_table)table,
                                   report);
        if (err == FF_OK) {
            verify_progress_tell(progress, VERIFY_STAGE_COMPARE,
                                 (uint64_t)(table - STORE_TABLE_FIRST_PROJECTION + 1), tables);
        }
    }
    if (err != FF_OK && report->code == FF_OK) {
        verify_fail(report, err, 0, "cannot read the scratch store");
    }
    store_txn_abort(scratch_txn);
    return err;
}

/* Makes the scratch directory for a replay under parent, or $TMPDIR or /tmp. */
static ff_err verify_scratch_dir_make(const char *parent, char *dir, size_t dir_bytes) {
    if (parent == NULL) parent = getenv("TMPDIR");
    int length = snprintf(dir, dir_bytes, "%s/fundflow-verify-XXXXXX", parent ? parent : "/tmp");
    if (length < 0 || (size_t)length >= dir_bytes) return FF_ERR_IO;
    return mkdtemp(dir) != NULL ? FF_OK : FF_ERR_IO;
}

static ff_err verify_projections_watched(ff_store *store, const char *scratch_parent_dir,
                                         const verify_progress *progress,
                                         verify_report *report, verify_tree_report *tree) {
    memset(report, 0, sizeof *report);
    if (tree != NULL) memset(tree, 0, sizeof *tree);
    char scratch_dir[4096];
    if (verify_scratch_dir_make(scratch_parent_dir, scratch_dir, sizeof scratch_dir) != FF_OK) {
        return verify_fail(report, FF_ERR_IO, 0, "cannot create a scratch directory");
    }
    struct ff_store *scratch = NULL;
    store_options options = {.data_dir = scratch_dir, .map_bytes = store_used_bytes(store) * 2};
    ff_err err = store_open(&options, &scratch);
    store_txn *live_txn = NULL;
    if (err == FF_OK) err = store_txn_begin(store, NULL, STORE_TXN_READ, &live_txn);
    if (err != FF_OK) {
        verify_fail(report, err, 0, scratch ? "cannot begin a read transaction on the ledger"
                                            : "cannot open the scratch store");
    }
    /* The scratch copy's tree would be thrown away unread: only the projection tables are
     * compared (the chain thread checks the live tree against the log when tree is wanted). */
    if (err == FF_OK) {
        err = verify_scratch_replay(store, live_txn, scratch, false, progress, report, tree);
    }
    if (err == FF_OK) err = verify_tables_compare(store, live_txn, scratch, progress, report);
    store_txn_abort(live_txn);
    store_close(scratch);
    store_remove(scratch_dir);
    return err;
}

ff_err verify_projections(ff_store *store, const char *scratch_parent_dir, verify_report *report) {
    return verify_projections_watched(store, scratch_parent_dir, NULL, report, NULL);
}

ff_err verify_ledger_watched(ff_store *store, const char *scratch_parent_dir,
                             const verify_progress *progress, verify_report *report) {
    /* The replay checks each event's links, and takes the chain thread's check of its hash,
     * before applying it, in order, so it finds a broken chain where a walk of the chain alone
     * would: one pass, not two. */
    return verify_projections_watched(store, scratch_parent_dir, progress, report, NULL);
}

ff_err verify_ledger_tree_watched(ff_store *store, const char *scratch_parent_dir,
                                  const verify_progress *progress, verify_report *report,
                                  verify_tree_report *tree) {
    return verify_projections_watched(store, scratch_parent_dir, progress, report, tree);
}

ff_err verify_ledger(ff_store *store, const char *scratch_parent_dir, verify_report *report) {
    return verify_ledger_watched(store, scratch_parent_dir, NULL, report);
}

/* Replays the log into a fresh store at rebuild_dir, from one snapshot of the live store, and
 * closes it. *head_out is the snapshot's head, to check that no write came in before the swap. */
static ff_err verify_rebuild_replay(ff_store *store, const char *rebuild_dir,
                                    const verify_progress *progress, log_head *head_out,
                                    verify_report *report) {
    ff_store *rebuilt = NULL;
    store_options options = {.data_dir = rebuild_dir, .map_bytes = store_used_bytes(store) * 2};
    ff_err err = store_open(&options, &rebuilt);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot open the rebuild's store");
    store_txn *live_txn = NULL;
    err = store_read_begin(store, &live_txn);
    if (err != FF_OK) {
        store_close(rebuilt);
        return verify_fail(report, err, 0, "cannot begin a read transaction on the ledger");
    }
    err = log_head_read(live_txn, store, head_out);
    if (err != FF_OK) verify_fail(report, err, 0, "cannot read the log's head");
    if (err == FF_OK) {
        err = verify_scratch_replay(store, live_txn, rebuilt, true, progress, report, NULL);
    }
    store_read_end(store, live_txn);
    store_close(rebuilt);
    return err;
}

/* Swaps the rebuilt file in, if the live log is still at head and nobody else has it open. */
static ff_err verify_rebuild_swap(ff_store *store, const char *rebuild_dir, const log_head *head,
                                  verify_report *report) {
    log_head now;
    store_txn *txn = NULL;
    ff_err err = store_read_begin(store, &txn);
    if (err == FF_OK) err = log_head_read(txn, store, &now);
    if (txn != NULL) store_read_end(store, txn);
    if (err != FF_OK) return verify_fail(report, err, 0, "cannot read the log's head");
    if (now.sequence != head->sequence) {
        return verify_fail(report, FF_ERR_STORAGE, now.sequence,
                           "the log grew while rebuilding; nothing was changed: rebuild with "
                           "the server stopped");
    }
    bool open_elsewhere = false;
    err = store_data_file_replace(store, rebuild_dir, &open_elsewhere);
    if (open_elsewhere) {
        return verify_fail(report, err, 0,
                           "another process has the data directory open; nothing was changed: "
                           "rebuild with the server stopped");
    }
    if (err != FF_OK) verify_fail(report, err, 0, "cannot swap the rebuilt data file in");
    return err;
}

ff_err verify_rebuild_watched(ff_store *store, const verify_progress *progress,
                              verify_report *report) {
    memset(report, 0, sizeof *report);
    char rebuild_dir[4096];
    int length = snprintf(rebuild_dir, sizeof rebuild_dir, "%s/" VERIFY_REBUILD_DIR_NAME,
                          store_data_dir(store));
    if (length < 0 || (size_t)length >= sizeof rebuild_dir) {
        return verify_fail(report, FF_ERR_IO, 0, "the data directory's path is too long");
    }
    /* A rebuild that stopped part way (a crash before its swap) left its store: start afresh. */
    store_remove(rebuild_dir);
    log_head head;
    ff_err err = verify_rebuild_replay(store, rebuild_dir, progress, &head, report);
    if (err == FF_OK) err = verify_rebuild_swap(store, rebuild_dir, &head, report);
    store_remove(rebuild_dir);
    return err;
}

ff_err verify_rebuild_projections(ff_store *store, verify_report *report) {
    return verify_rebuild_watched(store, NULL, report);
}
