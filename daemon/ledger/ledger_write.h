/* The projections' writes, counted, so that the flat write path can tell a command refused
 * before it wrote anything (which leaves no trace in the group's transaction) from one refused
 * after it wrote (whose group must then be replayed with a nested transaction per command).
 *
 * Every file of daemon/ledger that writes a projection writes through these and includes this
 * header last: it poisons the store's own write calls, so a direct one cannot compile there.
 */
#ifndef FUNDFLOW_LEDGER_WRITE_H
#define FUNDFLOW_LEDGER_WRITE_H

#include <stdint.h>

#include "store.h"

/* How many projection writes this thread has made since it started; only differences count. */
extern _Thread_local uint64_t ledger_writes_made;

/* store_put, counted. A put refused because its key exists changed nothing (the store finds the
 * key before it changes a row; in a duplicate table it may have reshaped a page, not its rows),
 * so projections may use STORE_PUT_NEW as a check, such as "a code registers once", and still
 * refuse without a trace. Any other failure is counted:
 * it fails the group anyway. */
static inline ff_err ledger_put(store_txn *txn, ff_store *store, store_table table,
                                store_slice key, store_slice value, store_put_mode mode) {
    ff_err err = store_put(txn, store, table, key, value, mode);
    if (err != FF_ERR_KEY_EXISTS) ledger_writes_made++;
    return err;
}

/* store_delete, counted unless the key was not there to delete. */
static inline ff_err ledger_delete(store_txn *txn, ff_store *store, store_table table,
                                   store_slice key) {
    ff_err err = store_delete(txn, store, table, key);
    if (err != FF_ERR_NOT_FOUND) ledger_writes_made++;
    return err;
}

#pragma GCC poison store_put store_delete store_cursor_delete store_projections_drop

#endif
