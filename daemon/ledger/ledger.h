/* The ledger: applies batches of commands to the event log and its projections, and answers
 * position queries.
 *
 * A group of batches is one write transaction of the store and one commit. Commands are applied
 * flat, straight into that transaction: each is checked against what it reads before it writes,
 * so a refused command normally writes nothing and leaves no trace. If a command is refused after
 * it wrote (or a linked batch after an earlier command wrote), the flat try is abandoned and the
 * group applied again with a nested transaction per batch and per command, each rolled back
 * alone on failure. Dry-run batches always take the nested path. Either way the results, the
 * log's bytes and the projections are the same. A result is acknowledged only when
 * ledger_batch_apply returns FF_OK, which is after the commit, and so after fsync, has returned.
 *
 * Threads: one thread at a time may call ledger_batch_apply. Reads may come from any thread; the
 * store's map lock, which every read transaction here holds, keeps the map from growing under
 * them.
 */
#ifndef FUNDFLOW_LEDGER_H
#define FUNDFLOW_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "log.h"
#include "store.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

typedef struct ff_ledger ff_ledger;

/* Opens the ledger on a data directory. A data file of an older storage layout is migrated
 * first: its projections are rebuilt from the log into a fresh file of the current layout, which
 * is swapped in (verify_rebuild_projections), and one line on stderr says so. Errors as for
 * store_open, FF_ERR_LOG_DECODE if the log's last record is unreadable, and the rebuild's errors
 * (FF_ERR_STORAGE if another process has the directory open: a migration needs it alone). */
ff_err ledger_open(const store_options *options, ff_ledger **ledger_out);
void ledger_close(ff_ledger *ledger);
ff_store *ledger_store(ff_ledger *ledger);

typedef struct ledger_batch {
    Fundflow__V1__Command *const *commands;
    size_t command_count;     /* at most FF_BATCH_COMMANDS_MAX */
    bool linked;              /* all or nothing */
    const char *actor;        /* recorded on every event; required */
    /* Who asks: each command must pass access_command_check for it. NULL for the offline tools
     * and tests, which act without restriction. */
    const struct access_principal *principal;
    int64_t recorded_at_us;   /* the time to record; 0 means now */
    /* Check only: the batch is applied exactly as it would be (checks, projections, the
     * idempotency index, each command seeing those before it) and its results, with the
     * sequences its events would have had, are kept; then its changes are abandoned, leaving
     * the log, projections and the other batches of the group as if it had not been sent. */
    bool dry_run;
} ledger_batch;

typedef struct ledger_result {
    ff_failure failure;       /* failure.code is FF_OK for a command that was recorded */
    uint64_t sequence;        /* the event recorded, or recorded earlier under the same key */
    bool idempotent_replay;   /* true when the command repeated an earlier one */
} ledger_result;

/* Applies a batch, writing one result per command into results (command_count of them).
 * Returns FF_OK once the batch is durable; each result then says what became of its command.
 * Any other return means nothing in the batch was recorded and every result carries that error:
 * FF_ERR_BATCH_TOO_LARGE; FF_ERR_FIELD_MISSING, FF_ERR_FIELD_TOO_LONG or FF_ERR_TEXT_INVALID for
 * the actor; FF_ERR_MAP_LIMIT (the map is at its maximum); FF_ERR_STORAGE; FF_ERR_NO_MEMORY. If
 * the map fills, it is grown and the batch retried, transparently. */
ff_err ledger_batch_apply(ff_ledger *ledger, const ledger_batch *batch, ledger_result *results);

/* Applies several batches as one group: one write transaction and one commit for all of them,
 * which is how a server commits many clients' requests with one fsync. results[i] receives
 * batches[i].command_count results. Each batch keeps its own semantics: a linked batch that fails
 * leaves no trace and does not disturb the others. A batch that is malformed as a whole (too many
 * commands, a bad actor) is refused alone. Returns FF_OK once the group is durable; any other
 * return means nothing in the group was recorded. One thread at a time. */
ff_err ledger_batches_apply(ff_ledger *ledger, const ledger_batch *batches, size_t batch_count,
                            ledger_result *const *results);

/* Holds the store's map lock shared, for a caller that opens its own transactions (with
 * store_txn_begin) and must keep the writer from growing the map until it has closed them. */
void ledger_read_begin(ff_ledger *ledger);
void ledger_read_end(ff_ledger *ledger);

/* A read transaction inside ledger_read_begin and ledger_read_end. Every read of the ledger's
 * own functions goes through these. Any thread. */
ff_err ledger_read_txn_begin(ff_ledger *ledger, store_txn **txn_out);
void ledger_read_txn_end(ff_ledger *ledger, store_txn *txn);

/* A hook that may refuse a command before it is applied: it fills failure and returns its code,
 * or returns FF_OK. It runs on the writer thread inside the group's write transaction (or the
 * command's nested one when the group is replayed), which it may read, and must not write,
 * through txn: a refusal must leave nothing behind. It may run more than once for a command, as
 * when the map is grown and the group tried again. Vetoes apply to new commands only, never to
 * replays of the log, which must reproduce what was recorded. */
typedef ff_err (*ledger_veto)(void *argument, store_txn *txn,
                              const Fundflow__V1__EventRecord *record, ff_failure *failure);

/* Installs (or with NULL removes) the veto. Not while a batch is being applied. */
void ledger_veto_set(ff_ledger *ledger, ledger_veto veto, void *argument);

/* A hook that sees every new event once it has been applied to the projections, inside the same
 * transaction, so it can keep derived data of its own in step with the log. It returns
 * FF_OK, or an error that stops the whole group (a storage failure, such as FF_ERR_MAP_LIMIT,
 * which grows the map and tries the group again). Like the veto it runs for new commands only;
 * whoever installs it replays the log into its own data. */
typedef ff_err (*ledger_project)(void *argument, store_txn *txn,
                                 const Fundflow__V1__EventRecord *record);

/* Installs (or with NULL removes) the projection hook. Not while a batch is being applied. */
void ledger_project_set(ff_ledger *ledger, ledger_project project, void *argument);

/* Runs work inside a write transaction of its own, outside the writer's batches, and commits it.
 * If the map fills, the transaction is abandoned, the map grown and work run again from the
 * start, so work must do nothing outside the transaction it is given. Waits for a batch being
 * applied to commit. Any thread except the one applying batches. */
typedef ff_err (*ledger_write_work)(void *argument, store_txn *txn);
ff_err ledger_write_run(ff_ledger *ledger, ledger_write_work work, void *argument);

/* How a ledger applies its groups: flat (the default), replaying a group nested only when a
 * command is refused after it wrote; or always nested, a transaction per batch and per command,
 * which tests use to compare the two. Not while a batch is being applied. */
typedef enum ledger_write_path { LEDGER_WRITE_FLAT, LEDGER_WRITE_NESTED } ledger_write_path;
void ledger_write_path_set(ff_ledger *ledger, ledger_write_path path);

/* How many groups the flat path has had to replay nested since the ledger was opened. */
uint64_t ledger_nested_replay_count(const ff_ledger *ledger);

/* How many times the map has been grown since the ledger was opened. */
uint64_t ledger_map_growth_count(const ff_ledger *ledger);

/* The last event's sequence and hash. */
ff_err ledger_head_read(ff_ledger *ledger, log_head *head_out);

/* An organisation's position in one stream and financial year. */
typedef struct ledger_position {
    uint64_t as_at_sequence;     /* the sequence the figures are as at */
    int64_t received_pence;      /* allocations and budgets received; NHSE: its revenue limit */
    int64_t passed_on_pence;     /* allocations and budgets passed on */
    int64_t headroom_pence;      /* held and not passed on */
    int64_t funding_drawn_pence; /* FUNDING, no longer posted: 0 (NHSE allocates from budget) */
} ledger_position;

/* Reads a position as at a sequence number; UINT64_MAX (or any number past the head) means now.
 * Errors: FF_ERR_ORG_UNKNOWN, FF_ERR_STORAGE. */
ff_err ledger_position_read(ff_ledger *ledger, const char *org_code, uint32_t stream,
                            uint32_t financial_year, uint64_t as_at_sequence,
                            ledger_position *position_out);

/* Called once per organisation by ledger_orgs_visit. org is valid only during the call and is
 * freed afterwards, so copy any field that must outlive it. Return FF_OK to go on; any other
 * code stops the walk, and ledger_orgs_visit returns that code. */
typedef ff_err (*ledger_org_visitor)(void *context, const Fundflow__V1__OrgRecord *org);

/* Calls visitor for every registered organisation, in the byte order of their codes, all from
 * one read transaction, so the walk sees one consistent snapshot even while a writer commits.
 * context is passed to every call unchanged. The visitor must not apply batches or grow the map:
 * the read transaction is open while it runs. Returns FF_OK once every organisation has been
 * visited, the visitor's own code if it stopped the walk, FF_ERR_STORAGE if the table cannot be
 * read or a stored record does not decode (or its code is not its key), or FF_ERR_NO_MEMORY.
 * Any thread, under the same rule as other reads. */
ff_err ledger_orgs_visit(ff_ledger *ledger, ledger_org_visitor visitor, void *context);

#endif
