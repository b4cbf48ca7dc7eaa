/* fundflowd's Ed25519 signing key and its latest signed tree head.
 *
 * The key is DATA_DIR/signing_key.pem (PKCS#8 PEM), created 0600 the first time a server opens
 * the data directory, or a file the configuration names (signing_key). A key file that its
 * group or others may read is refused, naming the file and its mode. The writer's sync thread
 * calls signing_after_commit once for the groups it hands back (in a cluster, the state machine
 * calls it after each entry it applies, on every node): if the tree has grown, its head is signed
 * and kept in memory and in DATA_DIR/signed_head (signed_head.h's stored form, written to a
 * temporary file and renamed over the old one, so a reader sees one head or the other). A
 * signer is registered for its store, so that the writer and the server find it from the
 * ledger they hold. Any thread.
 */
#ifndef FUNDFLOW_SIGNING_H
#define FUNDFLOW_SIGNING_H

#include <stddef.h>
#include <stdint.h>

#include "signed_head.h"
#include "store.h"

typedef struct ff_signer ff_signer;

/* Opens (or, with key_path NULL and no key in the data directory, creates) the key, signs the
 * tree's current head and registers the signer for store. On failure reason says why, naming
 * the file. Errors: FF_ERR_SIGNING_KEY_UNUSABLE, FF_ERR_IO, FF_ERR_NO_MEMORY, store errors. */
ff_err signing_open(ff_store *store, const char *key_path, ff_signer **signer_out,
                    char *reason, size_t reason_bytes);

/* Unregisters and frees the signer. NULL is allowed. */
void signing_close(ff_signer *signer);

/* The signer registered for store, or NULL. */
ff_signer *signing_of(ff_store *store);

void signing_public_key(const ff_signer *signer, uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                        uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES]);

/* Signs a head of head->tree_size and head->root (a backup's, for one) with the signer's key,
 * at the time now: sets its timestamp, key ID and signature. */
ff_err signing_sign(ff_signer *signer, signed_head *head);

/* tree_size for "the tree as it is now". */
#define SIGNING_SIZE_NOW UINT64_MAX

/* Signs the head of the first tree_size leaves if the tree has grown past the last signed head,
 * for store's signer (nothing without one). After a commit, with its tree's size: a commit made
 * since, which may not be durable yet (commit_overlap), is left out. SIGNING_SIZE_NOW signs the
 * tree as the newest snapshot has it (in a cluster, where every entry applied is durable). The
 * group is committed whatever happens here, so a failure is logged (level=error) and the next
 * commit signs again. */
void signing_after_commit(ff_store *store, uint64_t tree_size);

/* The latest signed head. */
void signing_head_latest(ff_signer *signer, signed_head *head_out);

/* Reads the signed head stored in a data directory. FF_ERR_SIGNED_HEAD_MISSING without one;
 * FF_ERR_PROOF_MALFORMED if it is not a stored head. */
ff_err signing_head_file_read(const char *data_dir, signed_head *head_out);

/* Reads the public key of the signing key in a data directory (the key file, checked as
 * signing_open checks it). */
ff_err signing_key_file_public(const char *data_dir, uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                               char *reason, size_t reason_bytes);

#endif
