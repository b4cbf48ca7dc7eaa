/* Hot backups of a ledger and restoring one: the compacted copy, the head it holds recorded
 * beside it, and a restore that checks both before anything is put in place.
 *
 * A backup is two files: FILE, a compacted LMDB data file (store_copy_compact), and FILE.head,
 * the head the copy holds, in the text `fundflow-admin head` prints, then the signed tree head
 * of exactly the copy's events in the lines of a head `fundflow head save` writes:
 *
 *     sequence S
 *     hash HEX
 *     tree_size S
 *     timestamp_us T
 *     root_hash HEX          the copy's own Merkle root of its S events
 *     key_id HEX
 *     signature HEX          by the server's signing key (never itself inside a backup)
 *     public_key HEX
 *
 * The head is read from the copy itself once it is written, never from the live ledger, so it
 * is exactly the snapshot's. FILE.head is written last, so a backup without one is unfinished.
 * A restore checks the signed head's signature first, then copies FILE into a scratch directory
 * beside the target, verifies the chain and every projection there, checks that the copy's head
 * is the recorded one, that its tree recomputed from its log has the signed root (and, if the
 * operator gives one, that it holds an older head they kept), and only then renames it into
 * place. A backup made before signed heads (no such lines) restores with report->unsigned_backup
 * set, unless require_signed.
 */
#ifndef FUNDFLOW_BACKUP_H
#define FUNDFLOW_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "signed_head.h"
#include "signing.h"
#include "store.h"
#include "verify.h"

/* Beside FILE, the head it holds. */
#define BACKUP_HEAD_SUFFIX ".head"
/* A backup's name in a backup directory: the prefix, the UTC time (YYYYMMDDTHHMMSSZ), maybe -N. */
#define BACKUP_NAME_PREFIX "fundflow-backup-"
#define BACKUP_NAME_SUFFIX ".mdb"
#define BACKUP_NAME_BYTES 64
/* Restore's scratch directory, beside the target: DIR plus this. */
#define BACKUP_RESTORE_SCRATCH_SUFFIX ".restore-tmp"
/* Where --force moves a non-empty target: DIR plus this plus the UTC time. */
#define BACKUP_RESTORE_ASIDE_SUFFIX ".replaced-"

/* What a backup records about the ledger it holds. Filled by backup_head_record, the one place
 * that decides what is recorded, written and read by backup_head_format and backup_head_parse. */
typedef struct backup_head {
    log_head log;      /* the last event in the backup: its sequence and hash */
    bool is_signed;    /* false for a backup made before signed heads, or without a signer */
    signed_head signed_tree; /* the tree of the backup's log.sequence events, signed */
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES]; /* the key that signed it */
} backup_head;

/* Reads what a backup records from the copy, opened as a store: its log's head and, with a
 * signer (NULL for none), its tree's root at that size signed now. FF_ERR_TREE_MISMATCH if the
 * copy's tree does not hold exactly its log's events. */
ff_err backup_head_record(ff_store *copy, ff_signer *signer, backup_head *head_out);

/* A head as text, the lines above; text_bytes at least BACKUP_HEAD_TEXT_BYTES. */
#define BACKUP_HEAD_TEXT_BYTES 1024
void backup_head_format(const backup_head *head, char *text, size_t text_bytes);

/* Parses a head file's text. Unknown lines are skipped, so that a later head file still gives
 * what this one knows. The signed head is there (is_signed) when all six of its lines are; some
 * of them without the others is FF_ERR_HEAD_FILE_INVALID, with reason, as is a bad value. */
ff_err backup_head_parse(const char *text, backup_head *head_out, char *reason,
                         size_t reason_bytes);

/* Reads and parses a head file. FF_ERR_IO if it cannot be read. */
ff_err backup_head_load(const char *path, backup_head *head_out, char *reason,
                        size_t reason_bytes);

/* Parses "SEQ:HASH" (HASH 64 hex digits). */
bool backup_head_pair_parse(const char *text, log_head *head_out);

/* Reads a public key to pin: a PEM public key, or a file with a "public_key HEX" line (a head
 * fundflow head save wrote, or a backup's .head). FF_ERR_IO or FF_ERR_HEAD_FILE_INVALID with
 * reason. */
ff_err backup_key_load(const char *path, uint8_t public_key[SIGNED_HEAD_KEY_BYTES], char *reason,
                       size_t reason_bytes);

/* Writes a backup of store to file (which must not exist) and file.head, and says what it holds
 * in *head_out. The head is signed by store's signer (signing_of), if it has one. Works in a scratch directory beside file. On failure nothing is left and reason
 * says why. */
ff_err backup_write(ff_store *store, const char *file, backup_head *head_out, char *reason,
                    size_t reason_bytes);

/* backup_write into directory under a new name (BACKUP_NAME_PREFIX, the UTC time, and a -N if
 * that is taken), given back in name_out. */
ff_err backup_to_directory(ff_store *store, const char *directory, char *name_out,
                           size_t name_bytes, backup_head *head_out, char *reason,
                           size_t reason_bytes);

typedef struct backup_restore_options {
    const char *backup;         /* FILE, with FILE.head beside it */
    const char *data_dir;       /* the target: missing, empty, or (with force) moved aside */
    bool force;
    const log_head *not_before; /* NULL, or a head the backup must hold (same hash at its sequence) */
    const uint8_t *pinned_key;  /* NULL, or the SIGNED_HEAD_KEY_BYTES key that must have signed */
    bool require_signed;        /* refuse a backup whose head file has no signed head */
} backup_restore_options;

/* What a restore found; check.code is the verification's, when that was what failed. */
typedef struct backup_restore_report {
    backup_head head;          /* what the backup holds */
    bool unsigned_backup;      /* restored, but its head file has no signed head: warn */
    verify_report check;
    char moved_aside[4352];    /* where --force put the old directory, or empty */
    char reason[9216];         /* why it was refused, for people (it may name two paths) */
} backup_restore_report;

/* Restores a backup into options->data_dir as the top of this file says. Errors:
 * FF_ERR_HEAD_FILE_INVALID or FF_ERR_IO (the head file), FF_ERR_SIGNED_HEAD_MISSING (with
 * require_signed), FF_ERR_KEY_MISMATCH (not the pinned key, or a key ID not the public key's),
 * FF_ERR_SIGNATURE_INVALID, FF_ERR_RESTORE_TARGET_NOT_EMPTY, the verification's code
 * (report->check names the sequence), FF_ERR_BACKUP_HEAD_MISMATCH (also a signed size other than
 * the head's), FF_ERR_TREE_MISMATCH (the recomputed root is not the signed one),
 * FF_ERR_BACKUP_TOO_OLD, FF_ERR_IO or storage errors. On any error the target is untouched. */
ff_err backup_restore(const backup_restore_options *options, backup_restore_report *report);

#endif
