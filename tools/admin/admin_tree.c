/* fundflow-admin verify's second half: the log's Merkle tree recomputed, and the latest signed
 * tree head held in the data directory checked against it. */
#include "admin_tree.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "signing.h"
#include "tree.h"

#define ADMIN_TREE_REASON_BYTES 512

static int admin_tree_failed(const char *reason) {
    printf("FAILED: %s\n", reason);
    return 1;
}

/* The tree's size and the root at the signed head's size, checked against the head. */
static int admin_tree_head_compare(ff_store *store, store_txn *txn, const signed_head *head,
                                   uint64_t size) {
    char reason[ADMIN_TREE_REASON_BYTES];
    if (head->tree_size > size) {
        snprintf(reason, sizeof reason,
                 "the log holds %" PRIu64 " events, fewer than the %" PRIu64
                 " of the signed head stored in the data directory: events were removed",
                 size, head->tree_size);
        return admin_tree_failed(reason);
    }
    merkle_hash root;
    ff_err err = tree_root(txn, store, head->tree_size, &root);
    if (err != FF_OK) return admin_tree_failed(ff_strerror(err));
    if (memcmp(root.bytes, head->root.bytes, MERKLE_HASH_BYTES) != 0) {
        snprintf(reason, sizeof reason,
                 "the root of the first %" PRIu64 " events is not the one the stored signed head "
                 "signed: events it covered have been changed",
                 head->tree_size);
        return admin_tree_failed(reason);
    }
    return 0;
}

/* The stored head's signature, with the data directory's key (if it holds the key). */
static int admin_tree_signature_check(const char *data_dir, const signed_head *head,
                                      bool *checked) {
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    char reason[ADMIN_TREE_REASON_BYTES];
    *checked = signing_key_file_public(data_dir, public_key, reason, sizeof reason) == FF_OK;
    if (!*checked) return 0;
    ff_err err = signed_head_verify(head, public_key);
    if (err == FF_OK) return 0;
    return admin_tree_failed(err == FF_ERR_KEY_MISMATCH
                                 ? "the stored signed head was signed by another key than the "
                                   "data directory's"
                                 : "the stored signed head's signature does not verify");
}

/* The tree against the log: verify's check if it made one, else tree_check in txn. */
static ff_err admin_tree_check(ff_store *store, store_txn *txn, const verify_tree_report *checked,
                               char *reason, size_t reason_bytes) {
    if (!checked->checked) return tree_check(txn, store, reason, reason_bytes);
    snprintf(reason, reason_bytes, "%s", checked->reason);
    return checked->code;
}

int admin_tree_verify(ff_ledger *ledger, const verify_tree_report *checked) {
    ff_store *store = ledger_store(ledger);
    store_txn *txn = NULL;
    ff_err err = store_read_begin(store, &txn);
    if (err != FF_OK) return admin_tree_failed(ff_strerror(err));
    char reason[ADMIN_TREE_REASON_BYTES] = "";
    uint64_t size = 0;
    err = admin_tree_check(store, txn, checked, reason, sizeof reason);
    if (err == FF_OK) err = tree_size_read(txn, store, &size);
    if (err != FF_OK) {
        store_read_end(store, txn);
        return admin_tree_failed(reason[0] ? reason : ff_strerror(err));
    }
    signed_head head;
    err = signing_head_file_read(store_data_dir(store), &head);
    int code = 0;
    if (err == FF_OK) code = admin_tree_head_compare(store, txn, &head, size);
    store_read_end(store, txn);
    if (err == FF_ERR_SIGNED_HEAD_MISSING) {
        printf("OK: the Merkle tree matches the log's %" PRIu64 " events; no signed head is "
               "stored yet\n", size);
        return 0;
    }
    if (err != FF_OK) return admin_tree_failed("the stored signed head cannot be read");
    bool signature_checked = false;
    if (code == 0) code = admin_tree_signature_check(store_data_dir(store), &head,
                                                     &signature_checked);
    if (code != 0) return code;
    printf("OK: the Merkle tree matches the log's %" PRIu64 " events, and the stored signed head "
           "of %" PRIu64 " events matches it%s\n",
           size, head.tree_size,
           signature_checked ? " and verifies with the data directory's key"
                             : " (its signature was not checked: the key is not in the data "
                               "directory)");
    return 0;
}
