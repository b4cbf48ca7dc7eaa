/* Batches of commands become events: checks, idempotency, a flat write path with a nested
 * replay when a command is refused after it wrote, one commit. */
#include "ledger.h"
#include "tree.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "account.h"
#include "command.h"
#include "digest.h"
#include "projection.h"
#include "projection_table.h"
#include "verify.h"
#include "fundflow/limits.h"
#include "ledger_group.h"
#include "ledger_write.h"

_Thread_local uint64_t ledger_writes_made;

struct ff_ledger {
    ff_store *store;
    ledger_write_path write_path;
    uint64_t nested_replay_count;
    ledger_veto veto;
    void *veto_argument;
    ledger_project project;
    void *project_argument;
};

void ledger_veto_set(ff_ledger *ledger, ledger_veto veto, void *argument) {
    ledger->veto = veto;
    ledger->veto_argument = argument;
}

void ledger_write_path_set(ff_ledger *ledger, ledger_write_path path) {
    assert(path == LEDGER_WRITE_FLAT || path == LEDGER_WRITE_NESTED);
    ledger->write_path = path;
}

uint64_t ledger_nested_replay_count(const ff_ledger *ledger) {
    return ledger->nested_replay_count;
}

void ledger_project_set(ff_ledger *ledger, ledger_project project, void *argument) {
    ledger->project = project;
    ledger->project_argument = argument;
}

/* Brings a data file of an older layout to the current one by rebuilding its projections from
 * the log into a fresh file and swapping it in: the log's bytes are copied as they are, so its
 * hashes cannot change, and a crash part way leaves the old file, to be migrated at the next
 * open. */
static ff_err ledger_layout_migrate(ff_store *store) {
    uint32_t from = store_layout_version(store);
    if (from >= STORE_LAYOUT_VERSION) return FF_OK;
    verify_report report;
    ff_err err = verify_rebuild_projections(store, &report);
    if (err != FF_OK) {
        fprintf(stderr, "fundflow: %s holds storage layout %u; migrating it to layout %u failed: "
                "%s (%s)\n", store_data_dir(store), from, STORE_LAYOUT_VERSION, report.reason,
                ff_err_name(err));
        return err;
    }
    assert(store_layout_version(store) == STORE_LAYOUT_VERSION);
    fprintf(stderr, "fundflow: %s held storage layout %u; rebuilt its projections from the log's "
            "%llu events into layout %u\n", store_data_dir(store), from,
            (unsigned long long)report.events_checked, STORE_LAYOUT_VERSION);
    return FF_OK;
}

ff_err ledger_open(const store_options *options, ff_ledger **ledger_out) {
    *ledger_out = NULL;
    ff_ledger *opened = calloc(1, sizeof *opened);
    if (opened == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = store_open(options, &opened->store);
    if (err == FF_OK) err = ledger_layout_migrate(opened->store);
    if (err == FF_OK) err = tree_ensure(opened->store);
    if (err == FF_OK) {
        log_head head;
        err = ledger_head_read(opened, &head);
    }
    if (err != FF_OK) {
        ledger_close(opened);
        return err;
    }
    *ledger_out = opened;
    return FF_OK;
}

void ledger_close(ff_ledger *ledger) {
    if (ledger == NULL) return;
    store_close(ledger->store);
    free(ledger);
}

ff_store *ledger_store(ff_ledger *ledger) { return ledger->store; }

uint64_t ledger_map_growth_count(const ff_ledger *ledger) {
    return store_map_growth_count(ledger->store);
}

ff_err ledger_head_read(ff_ledger *ledger, log_head *head_out) {
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    err = log_head_read(txn, ledger->store, head_out);
    ledger_read_txn_end(ledger, txn);
    return err;
}

/* Errors that say the batch as a whole cannot go on, as opposed to one command being refused. */
static bool ledger_error_is_fatal(ff_err err) {
    return store_error_is_failure(err) || err == FF_ERR_INTERNAL || err == FF_ERR_LOG_DECODE;
}

/* Answers a command whose key is already in the index: the original result if the content is
 * the same, a conflict if it is not. Returns FF_ERR_EVENT_UNKNOWN for a new key. */
static ff_err ledger_idempotency_check(store_txn *txn, ff_store *store,
                                       const Fundflow__V1__Command *command,
                                       ledger_result *result) {
    idempotency_record earlier;
    ff_err err = projection_idempotency_read(txn, store, command->idempotency_key, &earlier);
    if (err != FF_OK) return err;
    uint8_t digest[DIGEST_BYTES];
    err = digest_command_content(command->effective_date, command->event, digest);
    if (err != FF_OK) return err;
    if (memcmp(digest, earlier.content_digest, DIGEST_BYTES) != 0) {
        return failure_set(&result->failure, FF_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key",
                           "idempotency_key %.60s was used for a different command, event %llu",
                           command->idempotency_key, (unsigned long long)earlier.sequence);
    }
    result->sequence = earlier.sequence;
    result->idempotent_replay = true;
    return FF_OK;
}

ff_err ledger_project_run(ff_ledger *ledger, store_txn *txn,
                          const Fundflow__V1__EventRecord *record) {
    if (ledger->project == NULL) return FF_OK;
    return ledger->project(ledger->project_argument, txn, record);
}

/* Vetoes, projects and appends one event inside txn. On failure the caller throws away what
 * it wrote: a nested transaction is aborted, a flat group's is replayed nested. */
static ff_err ledger_event_write(ff_ledger *ledger, store_txn *txn,
                                 Fundflow__V1__EventRecord *record, log_head *next,
                                 ff_failure *failure) {
    ff_store *store = ledger->store;
    ff_err err = FF_OK;
    if (ledger->veto != NULL) err = ledger->veto(ledger->veto_argument, txn, record, failure);
    if (err == FF_OK) err = projection_apply(txn, store, record, failure);
    if (err == FF_OK) {
        err = ledger_project_run(ledger, txn, record);
        if (err != FF_OK) failure_set(failure, err, NULL, "cannot project the event");
    }
    if (err == FF_OK) {
        err = log_append(txn, store, record, next);
        if (err != FF_OK) failure_set(failure, err, NULL, "cannot append the event");
    }
    return err;
}

/* Records a new command as the next event: in a nested transaction of its own when nested, so
 * that a refusal rolls back alone; otherwise straight into txn. */
static ff_err ledger_command_record(ff_ledger *ledger, store_txn *txn, bool nested,
                                    const ledger_batch *batch, int64_t recorded_at_us,
                                    const Fundflow__V1__Command *command, log_head *head,
                                    ledger_result *result) {
    store_txn *child = txn;
    if (nested) {
        ff_err err = store_txn_begin(ledger->store, txn, STORE_TXN_WRITE, &child);
        if (err != FF_OK) return failure_set(&result->failure, err, NULL, "cannot begin a command");
    }
    Fundflow__V1__EventRecord record = FUNDFLOW__V1__EVENT_RECORD__INIT;
    record.sequence = head->sequence + 1;
    record.recorded_at_us = recorded_at_us;
    record.effective_date = command->effective_date;
    record.actor = (char *)batch->actor;
    record.idempotency_key = command->idempotency_key;
    record.event = command->event;
    log_head next = *head;
    ff_err err = ledger_event_write(ledger, child, &record, &next, &result->failure);
    if (nested && err != FF_OK) store_txn_abort(child);
    if (nested && err == FF_OK) {
        err = store_txn_commit(child);
        if (err != FF_OK) failure_set(&result->failure, err, NULL, "cannot commit a command");
    }
    if (err != FF_OK) return err;
    assert(next.sequence == record.sequence && next.sequence == head->sequence + 1);
    *head = next;
    result->sequence = next.sequence;
    return FF_OK;
}

/* Checks a command, answers it from the idempotency index if its key is known, and otherwise
 * records it. Everything before the recording only reads. */
static ff_err ledger_command_apply(ff_ledger *ledger, store_txn *txn, bool nested,
                                   const ledger_batch *batch, int64_t recorded_at_us,
                                   const Fundflow__V1__Command *command, log_head *head,
                                   ledger_result *result) {
    ff_store *store = ledger->store;
    memset(result, 0, sizeof *result);
    failure_clear(&result->failure);
    ff_err err = command_check_static(command, &result->failure);
    if (err != FF_OK) return err;
    /* Who asks is checked before the idempotency index is read, so that a principal learns
     * nothing of keys outside its scope. The check only reads: a refusal leaves no trace. */
    if (batch->principal != NULL) {
        err = access_command_check(txn, store, batch->principal, command, &result->failure);
        if (err != FF_OK) return err;
    }
    err = ledger_idempotency_check(txn, store, command, result);
    if (err != FF_ERR_EVENT_UNKNOWN) {
        if (err != FF_OK && result->failure.code == FF_OK) {
            failure_set(&result->failure, err, "idempotency_key", "cannot read the index");
        }
        return err;
    }
    return ledger_command_record(ledger, txn, nested, batch, recorded_at_us, command, head,
                                 result);
}

static void ledger_linked_failure_mark(const ledger_batch *batch, size_t failed_index,
                                       ledger_result *results) {
    for (size_t i = 0; i < batch->command_count; i++) {
        if (i == failed_index) continue;
        memset(&results[i], 0, sizeof results[i]);
        failure_set(&results[i].failure, FF_ERR_LINKED_COMMAND_FAILED, NULL,
                    "command %zu of this all-or-nothing batch failed, so none was recorded",
                    failed_index);
    }
}

/* Applies one batch inside the group's transaction, in a nested transaction of its own so that
 * a linked batch can be undone without touching its neighbours. A fatal error comes back as the
 * return value; refusals of single commands are in the results. */
static ff_err ledger_batch_nested_apply(ff_ledger *ledger, store_txn *group_txn,
                                        const ledger_batch *batch, int64_t recorded_at_us,
                                        log_head *head, ledger_result *results) {
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(ledger->store, group_txn, STORE_TXN_WRITE, &txn);
    if (err != FF_OK) return err;
    log_head batch_head = *head;
    for (size_t i = 0; i < batch->command_count; i++) {
        ff_err command_err = ledger_command_apply(ledger, txn, true, batch, recorded_at_us,
                                                  batch->commands[i], &batch_head, &results[i]);
        if (ledger_error_is_fatal(command_err)) {
            store_txn_abort(txn);
            return command_err;
        }
        if (command_err != FF_OK && batch->linked) {
            ledger_linked_failure_mark(batch, i, results);
            store_txn_abort(txn);
            return FF_OK;
        }
    }
    if (batch->dry_run) {
        /* The results are taken; what the batch wrote is abandoned, and the group's head stays
         * where it was, so the next batch numbers its events as if this one had not run. */
        store_txn_abort(txn);
        return FF_OK;
    }
    err = store_txn_commit(txn);
    if (err == FF_OK) *head = batch_head;
    return err;
}

/* Applies one batch straight into the group's transaction, with no nested transaction. A
 * command refused before it wrote anything leaves nothing behind, so the batch goes on (and a
 * linked batch stops with nothing written). A command refused after it wrote, or a linked batch
 * refused after an earlier command wrote, cannot be undone here: then *replay is set and
 * FF_ERR_INTERNAL returned, which aborts the group's transaction so that the whole group can be
 * applied again nested. A fatal error comes back as the return value. */
static ff_err ledger_batch_flat_apply(ff_ledger *ledger, store_txn *txn, const ledger_batch *batch,
                                      int64_t recorded_at_us, log_head *head,
                                      ledger_result *results, bool *replay) {
    uint64_t batch_writes = ledger_writes_made;
    for (size_t i = 0; i < batch->command_count; i++) {
        uint64_t command_writes = ledger_writes_made;
        ff_err command_err = ledger_command_apply(ledger, txn, false, batch, recorded_at_us,
                                                  batch->commands[i], head, &results[i]);
        if (ledger_error_is_fatal(command_err)) return command_err;
        if (command_err == FF_OK) continue;
        if (ledger_writes_made != (batch->linked ? batch_writes : command_writes)) {
            *replay = true;
            return FF_ERR_INTERNAL;
        }
        if (batch->linked) {
            /* Nothing of the batch was written, so none of it was recorded. */
            ledger_linked_failure_mark(batch, i, results);
            return FF_OK;
        }
    }
    return FF_OK;
}

static ff_err ledger_batch_check(const ledger_batch *batch) {
    if (batch->command_count > FF_BATCH_COMMANDS_MAX) return FF_ERR_BATCH_TOO_LARGE;
    if (batch->actor == NULL || batch->actor[0] == '\0') return FF_ERR_FIELD_MISSING;
    if (strlen(batch->actor) > FF_ACTOR_BYTES_MAX) return FF_ERR_FIELD_TOO_LONG;
    if (!command_text_valid(batch->actor)) return FF_ERR_TEXT_INVALID;
    return FF_OK;
}

/* A group of batches as store_write_run's work: it may run more than once if the map fills. */
typedef struct ledger_group {
    ff_ledger *ledger;
    const ledger_batch *batches;
    size_t batch_count;
    int64_t recorded_at_us;
    ledger_result *const *results;
    bool nested;          /* every batch with nested transactions, as the replay does */
    bool replay;          /* set by a flat try that must be replayed nested */
    log_head head_before; /* the log's head when the try that committed began */
    log_head head_after;  /* and when it ended */
    ledger_group_seal seal; /* NULL to commit the group; else called, and the group abandoned */
    void *seal_argument;
} ledger_group;

/* One try at a group of batches, inside the group's one write transaction. */
static ff_err ledger_group_work(void *argument, store_txn *txn) {
    ledger_group *group = argument;
    group->replay = false;
    ff_err err = log_head_read(txn, group->ledger->store, &group->head_before);
    log_head head = group->head_before;
    for (size_t i = 0; err == FF_OK && i < group->batch_count; i++) {
        /* An empty batch has nothing to do, and a malformed one was refused alone already. */
        if (group->batches[i].command_count == 0) continue;
        if (ledger_batch_check(&group->batches[i]) != FF_OK) continue;
        /* A dry run is abandoned once applied, which needs a transaction of its own. */
        if (group->nested || group->batches[i].dry_run) {
            err = ledger_batch_nested_apply(group->ledger, txn, &group->batches[i],
                                            group->recorded_at_us, &head, group->results[i]);
        } else {
            /* Every write of a flat batch stays in txn, or the group's try is abandoned: the
             * balances it meets, its flows and the tree's edge may be kept in memory until the
             * batch ends. */
            account_balance_cache_begin(txn);
            access_scope_keep_begin(txn);
            tree_edge_keep_begin(txn);
            projection_flows_keep_begin(txn);
            err = ledger_batch_flat_apply(group->ledger, txn, &group->batches[i],
                                          group->recorded_at_us, &head, group->results[i],
                                          &group->replay);
            /* What is kept is written back only when txn goes on; an abandoned try forgets. */
            ff_err kept_err = projection_flows_keep_end(txn, group->ledger->store, err == FF_OK);
            if (err == FF_OK) err = kept_err;
            kept_err = tree_edge_keep_end(txn, group->ledger->store, err == FF_OK);
            if (err == FF_OK) err = kept_err;
            account_balance_cache_end();
            access_scope_keep_end();
        }
    }
    /* What a principal's access check decoded is kept for the projection only until the next
     * is read; nothing is kept once the group's try is over. */
    projection_kept_release();
    group->head_after = head;
    if (err == FF_OK && group->seal != NULL) {
        err = group->seal(group->seal_argument, txn, group->ledger->store, &group->head_before,
                          &group->head_after);
    }
    return err;
}

static int64_t ledger_clock_now_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static void ledger_results_fail(const ledger_batch *batch, ledger_result *results, ff_err err) {
    for (size_t i = 0; i < batch->command_count; i++) {
        memset(&results[i], 0, sizeof results[i]);
        failure_set(&results[i].failure, err, NULL, "the batch was not recorded: %s",
                    ff_strerror(err));
    }
}

/* What a committed group's results must be: each command either recorded with a sequence in the
 * range the group appended, or answered from the index with one no later, or refused with a
 * code; and the sequences the group recorded strictly increasing in command order, batch after
 * batch, ending at the new head. */
static void ledger_group_results_assert_valid(const ledger_group *group) {
    uint64_t last_new = group->head_before.sequence;
    assert(group->head_after.sequence >= last_new);
    for (size_t b = 0; b < group->batch_count; b++) {
        /* A dry run's would-be sequences follow the head as it was when it ran. */
        uint64_t dry_last = last_new;
        for (size_t i = 0; i < group->batches[b].command_count; i++) {
            const ledger_result *result = &group->results[b][i];
            if (result->failure.code != FF_OK) {
                assert(!result->idempotent_replay);
                continue;
            }
            uint64_t *last = group->batches[b].dry_run ? &dry_last : &last_new;
            assert(result->sequence >= 1);
            assert(result->idempotent_replay ? result->sequence <= *last
                                             : result->sequence == *last + 1);
            if (!result->idempotent_replay) *last = result->sequence;
        }
    }
    assert(last_new == group->head_after.sequence);
}

ff_err ledger_batches_run(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                          ledger_result *const *results, ledger_group_seal seal,
                          void *seal_argument) {
    assert(batch_count == 0 || (batches != NULL && results != NULL));
    int64_t recorded_at_us = 0;
    for (size_t i = 0; i < batch_count; i++) {
        ff_err batch_err = ledger_batch_check(&batches[i]);
        if (batch_err != FF_OK) {
            /* A malformed batch is refused alone; its neighbours in the group go ahead. */
            ledger_results_fail(&batches[i], results[i], batch_err);
            if (batch_count == 1) return batch_err;
        }
        if (recorded_at_us == 0) recorded_at_us = batches[i].recorded_at_us;
    }
    if (recorded_at_us == 0) recorded_at_us = ledger_clock_now_us();
    /* If the map fills part way through, nothing is committed: the store grows it and runs the
     * whole group again from the start. */
    ledger_group group = {.ledger = ledger,
                          .batches = batches,
                          .batch_count = batch_count,
                          .recorded_at_us = recorded_at_us,
                          .results = results,
                          .nested = ledger->write_path == LEDGER_WRITE_NESTED,
                          .seal = seal,
                          .seal_argument = seal_argument};
    /* A sealed group is worked out exactly as a committed one, and then abandoned. */
    ff_err (*run)(ff_store *, store_write_work, void *) = seal ? store_write_try : store_write_run;
    ff_err err = run(ledger->store, ledger_group_work, &group);
    if (err == FF_ERR_INTERNAL && group.replay) {
        /* A command was refused after it wrote: the flat try was abandoned whole, and the group
         * is applied again from the start with a nested transaction per command. */
        ledger->nested_replay_count++;
        group.nested = true;
        err = run(ledger->store, ledger_group_work, &group);
        assert(!group.replay);
    }
    if (err != FF_OK) {
        for (size_t i = 0; i < batch_count; i++) ledger_results_fail(&batches[i], results[i], err);
        return err;
    }
    ledger_group_results_assert_valid(&group);
    return FF_OK;
}

ff_err ledger_batches_apply(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                            ledger_result *const *results) {
    return ledger_batches_run(ledger, batches, batch_count, results, NULL, NULL);
}

ff_err ledger_write_run(ff_ledger *ledger, ledger_write_work work, void *argument) {
    return store_write_run(ledger->store, work, argument);
}

ff_err ledger_batch_apply(ff_ledger *ledger, const ledger_batch *batch, ledger_result *results) {
    return ledger_batches_apply(ledger, batch, 1, &results);
}

void ledger_read_begin(ff_ledger *ledger) { store_map_hold(ledger->store); }

void ledger_read_end(ff_ledger *ledger) { store_map_release(ledger->store); }

ff_err ledger_read_txn_begin(ff_ledger *ledger, store_txn **txn_out) {
    return store_read_begin(ledger->store, txn_out);
}

void ledger_read_txn_end(ff_ledger *ledger, store_txn *txn) {
    store_read_end(ledger->store, txn);
}

static ff_err ledger_position_fill(store_txn *txn, ff_store *store, const char *org_code,
                                   uint32_t stream, uint32_t financial_year, uint64_t as_at,
                                   ledger_position *position) {
    static const account_purpose purposes[] = {ACCOUNT_PURPOSE_RECEIVED, ACCOUNT_PURPOSE_ONWARD,
                                               ACCOUNT_PURPOSE_BUDGET, ACCOUNT_PURPOSE_FUNDING};
    int64_t *targets[] = {&position->received_pence, &position->passed_on_pence,
                          &position->headroom_pence, &position->funding_drawn_pence};
    for (size_t i = 0; i < sizeof purposes / sizeof purposes[0]; i++) {
        account_key key;
        account_balance balance;
        account_key_make(&key, org_code, financial_year, stream, purposes[i]);
        ff_err err = account_balance_read_at(txn, store, &key, as_at, &balance);
        if (err == FF_OK) err = account_balance_net(&key, &balance, targets[i]);
        if (err != FF_OK) return err;
    }
    return FF_OK;
}

ff_err ledger_position_read(ff_ledger *ledger, const char *org_code, uint32_t stream,
                            uint32_t financial_year, uint64_t as_at_sequence,
                            ledger_position *position_out) {
    memset(position_out, 0, sizeof *position_out);
    if (!command_org_code_valid(org_code)) return FF_ERR_CODE_INVALID;
    if (financial_year > UINT16_MAX || stream > UINT8_MAX) return FF_ERR_ENUM_INVALID;
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    Fundflow__V1__OrgRecord *org = NULL;
    log_head head;
    err = projection_org_read(txn, ledger->store, org_code, &org);
    if (err == FF_OK) err = log_head_read(txn, ledger->store, &head);
    if (err == FF_OK) {
        position_out->as_at_sequence = as_at_sequence < head.sequence ? as_at_sequence
                                                                      : head.sequence;
        err = ledger_position_fill(txn, ledger->store, org_code, stream, financial_year,
                                   position_out->as_at_sequence, position_out);
    }
    if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
    ledger_read_txn_end(ledger, txn);
    return err;
}

/* Decodes one row of the orgs table and hands it to the visitor. A row that does not decode, or
 * whose code is not its key, means the table is damaged: that is a storage error, not a bug. */
typedef struct ledger_orgs_walk {
    ledger_org_visitor visitor;
    void *context;
} ledger_orgs_walk;

static ff_err ledger_orgs_visit_row(void *argument, store_slice key, store_slice value,
                                    bool *stop) {
    (void)stop;
    const ledger_orgs_walk *walk = argument;
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_ERR_STORAGE;
    ff_err err = FF_OK;
    if (org->code == NULL || strlen(org->code) != key.bytes ||
        memcmp(org->code, key.data, key.bytes) != 0) {
        err = FF_ERR_STORAGE;
    }
    if (err == FF_OK) err = walk->visitor(walk->context, org);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err;
}

ff_err ledger_orgs_visit(ff_ledger *ledger, ledger_org_visitor visitor, void *context) {
    assert(ledger != NULL && ledger->store != NULL);
    assert(visitor != NULL);
    store_txn *txn = NULL;
    ff_err err = ledger_read_txn_begin(ledger, &txn);
    if (err != FF_OK) return err;
    ledger_orgs_walk walk = {visitor, context};
    err = store_each(txn, ledger->store, STORE_TABLE_ORGS, STORE_SLICE(NULL, 0),
                     ledger_orgs_visit_row, &walk);
    ledger_read_txn_end(ledger, txn);
    return err;
}
