/* Hot backups and restores: the copy, the head recorded beside it, and the checks a restore makes
 * before it puts a ledger in place (backup.h). */
#include "backup.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "fundflow/limits.h"
#include "tree.h"

#define BACKUP_PATH_BYTES 4200
#define BACKUP_SCRATCH_SUFFIX ".tmp.d"
#define BACKUP_COPY_CHUNK_BYTES 65536

/* ---- the head ---- */

/* The copy's tree root at exactly its log's size, in head->signed_tree. */
static ff_err backup_tree_root_read(store_txn *txn, ff_store *copy, backup_head *head) {
    uint64_t tree_size = 0;
    ff_err err = tree_size_read(txn, copy, &tree_size);
    if (err != FF_OK) return err;
    if (tree_size != head->log.sequence) return FF_ERR_TREE_MISMATCH;
    head->signed_tree.tree_size = tree_size;
    return tree_root(txn, copy, tree_size, &head->signed_tree.root);
}

ff_err backup_head_record(ff_store *copy, ff_signer *signer, backup_head *head_out) {
    memset(head_out, 0, sizeof *head_out);
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(copy, NULL, STORE_TXN_READ, &txn);
    if (err != FF_OK) return err;
    err = log_head_read(txn, copy, &head_out->log);
    if (err == FF_OK && signer != NULL) err = backup_tree_root_read(txn, copy, head_out);
    store_txn_abort(txn);
    if (err != FF_OK || signer == NULL) return err;
    err = signing_sign(signer, &head_out->signed_tree);
    if (err != FF_OK) return err;
    uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES];
    signing_public_key(signer, head_out->public_key, key_id);
    head_out->is_signed = true;
    return FF_OK;
}

/* bytes as lower-case hex; text holds 2 * bytes + 1. */
static void backup_hex_format(const uint8_t *data, size_t bytes, char *text) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < bytes; i++) {
        text[2 * i] = digits[data[i] >> 4];
        text[2 * i + 1] = digits[data[i] & 0x0F];
    }
    text[2 * bytes] = '\0';
}

static int backup_hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2 * bytes hex digits, then the end of text or of the line. */
static bool backup_hex_parse(const char *text, uint8_t *data, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) {
        int high = backup_hex_digit(text[2 * i]);
        int low = high < 0 ? -1 : backup_hex_digit(text[2 * i + 1]);
        if (low < 0) return false;
        data[i] = (uint8_t)(high << 4 | low);
    }
    char after = text[2 * bytes];
    return after == '\0' || after == '\n' || after == '\r';
}

/* Digits only, to the end of text, the line or a stop character. */
static bool backup_sequence_parse(const char *text, char stop, uint64_t *sequence_out,
                                  const char **rest_out) {
    uint64_t sequence = 0;
    const char *cursor = text;
    for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
        uint64_t digit = (uint64_t)(*cursor - '0');
        if (sequence > (UINT64_MAX - digit) / 10) return false;
        sequence = sequence * 10 + digit;
    }
    if (cursor == text) return false;
    if (*cursor != '\0' && *cursor != '\n' && *cursor != '\r' && *cursor != stop) return false;
    *sequence_out = sequence;
    *rest_out = cursor;
    return true;
}

/* The signed head's lines, as fundflow head save writes them. */
static void backup_signed_format(const backup_head *head, char *text, size_t text_bytes) {
    const signed_head *tree = &head->signed_tree;
    char root[2 * MERKLE_HASH_BYTES + 1], key_id[2 * SIGNED_HEAD_KEY_ID_BYTES + 1];
    char signature[2 * SIGNED_HEAD_SIGNATURE_BYTES + 1], key[2 * SIGNED_HEAD_KEY_BYTES + 1];
    backup_hex_format(tree->root.bytes, MERKLE_HASH_BYTES, root);
    backup_hex_format(tree->key_id, SIGNED_HEAD_KEY_ID_BYTES, key_id);
    backup_hex_format(tree->signature, SIGNED_HEAD_SIGNATURE_BYTES, signature);
    backup_hex_format(head->public_key, SIGNED_HEAD_KEY_BYTES, key);
    snprintf(text, text_bytes,
             "tree_size %" PRIu64 "\ntimestamp_us %" PRIu64 "\nroot_hash %s\nkey_id %s\n"
             "signature %s\npublic_key %s\n",
             tree->tree_size, tree->timestamp_us, root, key_id, signature, key);
}

void backup_head_format(const backup_head *head, char *text, size_t text_bytes) {
    assert(text_bytes >= BACKUP_HEAD_TEXT_BYTES);
    char hash[2 * DIGEST_BYTES + 1];
    backup_hex_format(head->log.hash, DIGEST_BYTES, hash);
    int length = snprintf(text, text_bytes, "sequence %" PRIu64 "\nhash %s\n",
                          head->log.sequence, hash);
    assert(length > 0 && (size_t)length < text_bytes);
    if (head->is_signed) backup_signed_format(head, text + length, text_bytes - (size_t)length);
}

/* The value after "name " at the start of line, or NULL. */
static const char *backup_line_value(const char *line, const char *name) {
    size_t length = strlen(name);
    return strncmp(line, name, length) == 0 && line[length] == ' ' ? line + length + 1 : NULL;
}

/* The six lines of a signed head, each a bit in BACKUP_SIGNED_LINES. */
#define BACKUP_SIGNED_LINES 0x3Fu
static const char *const backup_signed_names[] = {"tree_size", "timestamp_us", "root_hash",
                                                  "key_id",    "signature",    "public_key"};

/* Reads line if it is one of a signed head's; sets its bit in *seen. False for a bad value. */
static bool backup_signed_line(const char *line, backup_head *head, unsigned *seen) {
    signed_head *tree = &head->signed_tree;
    const char *rest = NULL;
    for (unsigned i = 0; i < sizeof backup_signed_names / sizeof backup_signed_names[0]; i++) {
        const char *value = backup_line_value(line, backup_signed_names[i]);
        if (value == NULL) continue;
        *seen |= 1u << i;
        switch (i) {
        case 0: return backup_sequence_parse(value, '\0', &tree->tree_size, &rest);
        case 1: return backup_sequence_parse(value, '\0', &tree->timestamp_us, &rest);
        case 2: return backup_hex_parse(value, tree->root.bytes, MERKLE_HASH_BYTES);
        case 3: return backup_hex_parse(value, tree->key_id, SIGNED_HEAD_KEY_ID_BYTES);
        case 4: return backup_hex_parse(value, tree->signature, SIGNED_HEAD_SIGNATURE_BYTES);
        default: return backup_hex_parse(value, head->public_key, SIGNED_HEAD_KEY_BYTES);
        }
    }
    return true;
}

ff_err backup_head_parse(const char *text, backup_head *head_out, char *reason,
                         size_t reason_bytes) {
    memset(head_out, 0, sizeof *head_out);
    bool have_sequence = false, have_hash = false;
    unsigned seen = 0;
    for (const char *line = text; *line != '\0';) {
        const char *rest = NULL;
        if (strncmp(line, "sequence ", 9) == 0) {
            have_sequence = backup_sequence_parse(line + 9, '\0', &head_out->log.sequence, &rest);
            if (!have_sequence) break;
        } else if (strncmp(line, "hash ", 5) == 0) {
            have_hash = backup_hex_parse(line + 5, head_out->log.hash, DIGEST_BYTES);
            if (!have_hash) break;
        } else if (!backup_signed_line(line, head_out, &seen)) {
            snprintf(reason, reason_bytes, "the line '%.*s' does not hold a valid value",
                     (int)strcspn(line, " \r\n"), line);
            return FF_ERR_HEAD_FILE_INVALID;
        }
        const char *end = strchr(line, '\n');
        line = end ? end + 1 : line + strlen(line);
    }
    if (seen != 0 && seen != BACKUP_SIGNED_LINES) {
        snprintf(reason, reason_bytes, "the signed head is incomplete: it needs tree_size, "
                                       "timestamp_us, root_hash, key_id, signature and "
                                       "public_key lines");
        return FF_ERR_HEAD_FILE_INVALID;
    }
    head_out->is_signed = seen == BACKUP_SIGNED_LINES;
    if (have_sequence && have_hash) return FF_OK;
    snprintf(reason, reason_bytes, "%s",
             !have_sequence ? "no line 'sequence S' with S a whole number"
                            : "no line 'hash HEX' with HEX 64 hexadecimal digits");
    return FF_ERR_HEAD_FILE_INVALID;
}

/* Reads a small text file (a head or a key) into text, FF_HEAD_FILE_BYTES_MAX + 1 bytes. */
static ff_err backup_small_text_read(const char *path, char *text, char *reason,
                                     size_t reason_bytes) {
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        snprintf(reason, reason_bytes, "cannot read %s: %s", path, strerror(errno));
        return FF_ERR_IO;
    }
    size_t length = fread(text, 1, FF_HEAD_FILE_BYTES_MAX, file);
    bool too_long = length == FF_HEAD_FILE_BYTES_MAX && fgetc(file) != EOF;
    fclose(file);
    text[length] = '\0';
    if (too_long || memchr(text, '\0', length) != NULL) {
        snprintf(reason, reason_bytes, "%s is not a head or key file (over %d bytes, or binary)",
                 path, FF_HEAD_FILE_BYTES_MAX);
        return FF_ERR_HEAD_FILE_INVALID;
    }
    return FF_OK;
}

ff_err backup_head_load(const char *path, backup_head *head_out, char *reason,
                        size_t reason_bytes) {
    char text[FF_HEAD_FILE_BYTES_MAX + 1];
    ff_err err = backup_small_text_read(path, text, reason, reason_bytes);
    if (err != FF_OK) return err;
    char why[256];
    err = backup_head_parse(text, head_out, why, sizeof why);
    if (err != FF_OK) snprintf(reason, reason_bytes, "%s: %s", path, why);
    return err;
}

ff_err backup_key_load(const char *path, uint8_t public_key[SIGNED_HEAD_KEY_BYTES], char *reason,
                       size_t reason_bytes) {
    char text[FF_HEAD_FILE_BYTES_MAX + 1];
    ff_err err = backup_small_text_read(path, text, reason, reason_bytes);
    if (err != FF_OK) return err;
    BIO *memory = BIO_new_mem_buf(text, -1);
    EVP_PKEY *key = memory ? PEM_read_bio_PUBKEY(memory, NULL, NULL, NULL) : NULL;
    bool found = key != NULL && signed_head_public_key(key, public_key) == FF_OK;
    EVP_PKEY_free(key);
    BIO_free(memory);
    for (const char *line = text; !found && *line != '\0';) {
        const char *value = backup_line_value(line, "public_key");
        found = value != NULL && backup_hex_parse(value, public_key, SIGNED_HEAD_KEY_BYTES);
        const char *end = strchr(line, '\n');
        line = end ? end + 1 : line + strlen(line);
    }
    if (found) return FF_OK;
    snprintf(reason, reason_bytes,
             "%s holds no Ed25519 public key (a PEM public key, or a 'public_key HEX' line as "
             "in a saved head or a backup's .head)",
             path);
    return FF_ERR_HEAD_FILE_INVALID;
}

bool backup_head_pair_parse(const char *text, log_head *head_out) {
    const char *rest = NULL;
    log_head head = {0};
    if (!backup_sequence_parse(text, ':', &head.sequence, &rest) || *rest != ':') return false;
    if (strlen(rest + 1) != 2 * DIGEST_BYTES ||
        !backup_hex_parse(rest + 1, head.hash, DIGEST_BYTES)) {
        return false;
    }
    *head_out = head;
    return true;
}

/* ---- files ---- */

static bool backup_path_join(char *path, size_t path_bytes, const char *first,
                             const char *second) {
    int length = snprintf(path, path_bytes, "%s%s", first, second);
    return length > 0 && (size_t)length < path_bytes;
}

/* The directory holding path, for syncing a rename in it. */
static void backup_parent_of(const char *path, char *parent, size_t parent_bytes) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) snprintf(parent, parent_bytes, ".");
    else if (slash == path) snprintf(parent, parent_bytes, "/");
    else snprintf(parent, parent_bytes, "%.*s", (int)(slash - path), path);
}

static ff_err backup_directory_sync(const char *path) {
    char parent[BACKUP_PATH_BYTES];
    backup_parent_of(path, parent, sizeof parent);
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return FF_ERR_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? FF_OK : FF_ERR_IO;
}

/* Writes text to path through path.tmp and a rename, synced. */
static ff_err backup_text_write(const char *path, const char *text) {
    char scratch[BACKUP_PATH_BYTES];
    if (!backup_path_join(scratch, sizeof scratch, path, ".tmp")) return FF_ERR_IO;
    int fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return FF_ERR_IO;
    size_t length = strlen(text);
    bool ok = write(fd, text, length) == (ssize_t)length && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(scratch, path) == 0;
    if (!ok) unlink(scratch);
    return ok ? backup_directory_sync(path) : FF_ERR_IO;
}

/* Copies a file's bytes to a new file, synced. */
static ff_err backup_file_copy(const char *from, const char *to) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return FF_ERR_IO;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return FF_ERR_IO;
    }
    static _Thread_local uint8_t chunk[BACKUP_COPY_CHUNK_BYTES];
    ff_err err = FF_OK;
    for (;;) {
        ssize_t got = read(in, chunk, sizeof chunk);
        if (got == 0) break;
        if (got < 0 || write(out, chunk, (size_t)got) != got) {
            err = errno == ENOSPC || errno == EDQUOT ? FF_ERR_STORAGE_FULL : FF_ERR_IO;
            break;
        }
    }
    if (err == FF_OK && fsync(out) != 0) err = FF_ERR_IO;
    if (close(out) != 0 && err == FF_OK) err = FF_ERR_IO;
    close(in);
    if (err != FF_OK) unlink(to);
    return err;
}

/* Makes an empty scratch directory at path, clearing one a crash left. */
static ff_err backup_scratch_make(const char *path) {
    store_remove(path);
    return mkdir(path, 0700) == 0 ? FF_OK : FF_ERR_IO;
}

/* ---- backup ---- */

/* Reads the head of the copy at scratch/data.mdb, signed by signer (NULL for none). */
static ff_err backup_copy_head(const char *scratch, ff_signer *signer, backup_head *head_out) {
    store_options options = {.data_dir = scratch};
    ff_store *copy = NULL;
    ff_err err = store_open(&options, &copy);
    if (err == FF_OK) err = backup_head_record(copy, signer, head_out);
    store_close(copy);
    return err;
}

ff_err backup_write(ff_store *store, const char *file, backup_head *head_out, char *reason,
                    size_t reason_bytes) {
    char scratch[BACKUP_PATH_BYTES], copy[BACKUP_PATH_BYTES], head_path[BACKUP_PATH_BYTES];
    if (!backup_path_join(scratch, sizeof scratch, file, BACKUP_SCRATCH_SUFFIX) ||
        !backup_path_join(copy, sizeof copy, scratch, "/data.mdb") ||
        !backup_path_join(head_path, sizeof head_path, file, BACKUP_HEAD_SUFFIX)) {
        snprintf(reason, reason_bytes, "the path %s is too long", file);
        return FF_ERR_IO;
    }
    if (access(file, F_OK) == 0) {
        snprintf(reason, reason_bytes, "%s exists already; a backup never overwrites", file);
        return FF_ERR_IO;
    }
    ff_err err = backup_scratch_make(scratch);
    if (err != FF_OK) {
        snprintf(reason, reason_bytes, "cannot make %s: %s", scratch, strerror(errno));
        return err;
    }
    err = store_copy_compact(store, copy);
    if (err == FF_OK) err = backup_copy_head(scratch, signing_of(store), head_out);
    /* link() will not replace a file that appeared meanwhile, as rename() would. */
    if (err == FF_OK && link(copy, file) != 0) err = FF_ERR_IO;
    char text[BACKUP_HEAD_TEXT_BYTES];
    if (err == FF_OK) {
        backup_head_format(head_out, text, sizeof text);
        err = backup_text_write(head_path, text);
        if (err != FF_OK) unlink(file);
    }
    store_remove(scratch);
    if (err != FF_OK) {
        snprintf(reason, reason_bytes, "cannot write the backup %s: %s", file, ff_strerror(err));
    }
    return err;
}

ff_err backup_to_directory(ff_store *store, const char *directory, char *name_out,
                           size_t name_bytes, backup_head *head_out, char *reason,
                           size_t reason_bytes) {
    char stamp[32], name[BACKUP_NAME_BYTES], file[BACKUP_PATH_BYTES];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    for (int attempt = 1; attempt <= FF_BACKUP_NAME_ATTEMPTS_MAX; attempt++) {
        if (attempt == 1) snprintf(name, sizeof name, BACKUP_NAME_PREFIX "%s" BACKUP_NAME_SUFFIX, stamp);
        else snprintf(name, sizeof name, BACKUP_NAME_PREFIX "%s-%d" BACKUP_NAME_SUFFIX, stamp, attempt);
        int length = snprintf(file, sizeof file, "%s/%s", directory, name);
        if (length < 0 || (size_t)length >= sizeof file) break;
        if (access(file, F_OK) == 0) continue;
        snprintf(name_out, name_bytes, "%s", name);
        return backup_write(store, file, head_out, reason, reason_bytes);
    }
    snprintf(reason, reason_bytes, "no free backup name in %s", directory);
    return FF_ERR_IO;
}

/* ---- restore ---- */

/* True if path is missing or an empty directory; false (with errno-free reason) otherwise. */
static bool backup_target_is_empty(const char *path, bool *exists_out) {
    DIR *directory = opendir(path);
    *exists_out = directory != NULL || errno != ENOENT;
    if (directory == NULL) return errno == ENOENT;
    bool empty = true;
    for (struct dirent *entry; empty && (entry = readdir(directory)) != NULL;) {
        empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
    }
    closedir(directory);
    return empty;
}

/* The head file's signed head, before anything is copied: that there is one (or only a warning),
 * that it covers the recorded head's events, is signed by the pinned key if one is given, and
 * that its signature verifies. */
static ff_err backup_signature_check(const backup_head *recorded,
                                     const backup_restore_options *options,
                                     backup_restore_report *report) {
    if (!recorded->is_signed) {
        if (!options->require_signed && options->pinned_key == NULL) {
            report->unsigned_backup = true;
            return FF_OK;
        }
        snprintf(report->reason, sizeof report->reason,
                 "the head file has no signed tree head (a backup made before signed heads), and "
                 "%s was given",
                 options->require_signed ? "--require-signed" : "a key to check it with");
        return FF_ERR_SIGNED_HEAD_MISSING;
    }
    const signed_head *tree = &recorded->signed_tree;
    if (tree->tree_size != recorded->log.sequence) {
        snprintf(report->reason, sizeof report->reason,
                 "the signed head covers %" PRIu64 " events but the head file records sequence "
                 "%" PRIu64, tree->tree_size, recorded->log.sequence);
        return FF_ERR_BACKUP_HEAD_MISMATCH;
    }
    if (options->pinned_key != NULL &&
        memcmp(options->pinned_key, recorded->public_key, SIGNED_HEAD_KEY_BYTES) != 0) {
        snprintf(report->reason, sizeof report->reason,
                 "the backup's head is signed by a different key than the pinned one");
        return FF_ERR_KEY_MISMATCH;
    }
    ff_err err = signed_head_verify(tree, recorded->public_key);
    if (err == FF_ERR_KEY_MISMATCH) {
        snprintf(report->reason, sizeof report->reason,
                 "the signed head's key_id is not the ID of its public_key");
    } else if (err != FF_OK) {
        snprintf(report->reason, sizeof report->reason,
                 "the signed head's signature does not verify with its public key");
    }
    return err;
}

/* The copy's tree recomputed from its log, and its root at the signed size against the signed
 * root. */
static ff_err backup_tree_check(ff_store *copy, const backup_head *recorded,
                                backup_restore_report *report) {
    store_txn *txn = NULL;
    ff_err err = store_txn_begin(copy, NULL, STORE_TXN_READ, &txn);
    if (err != FF_OK) return err;
    char why[512] = "";
    merkle_hash root;
    err = tree_check(txn, copy, why, sizeof why);
    if (err == FF_OK) err = tree_root(txn, copy, recorded->signed_tree.tree_size, &root);
    store_txn_abort(txn);
    if (err == FF_OK &&
        memcmp(root.bytes, recorded->signed_tree.root.bytes, MERKLE_HASH_BYTES) != 0) {
        snprintf(report->reason, sizeof report->reason,
                 "the tree root does not match the signed head: the root of the backup's %" PRIu64
                 " events, recomputed from its log, is not the one signed",
                 recorded->signed_tree.tree_size);
        return FF_ERR_TREE_MISMATCH;
    }
    if (err != FF_OK) {
        snprintf(report->reason, sizeof report->reason,
                 "the backup's Merkle tree does not match its log: %s",
                 why[0] ? why : ff_strerror(err));
    }
    return err;
}

/* The backup's own head against the recorded one, its tree against the signed head, and the
 * operator's older head. */
static ff_err backup_heads_check(ff_store *copy, const backup_head *recorded,
                                 const log_head *not_before, backup_restore_report *report) {
    ff_err err = backup_head_record(copy, NULL, &report->head);
    if (err != FF_OK) return err;
    if (report->head.log.sequence != recorded->log.sequence ||
        memcmp(report->head.log.hash, recorded->log.hash, DIGEST_BYTES) != 0) {
        snprintf(report->reason, sizeof report->reason,
                 "the backup holds head %" PRIu64 " but its head file records %" PRIu64
                 " (or another hash)",
                 report->head.log.sequence, recorded->log.sequence);
        return FF_ERR_BACKUP_HEAD_MISMATCH;
    }
    report->head = *recorded;
    if (recorded->is_signed) err = backup_tree_check(copy, recorded, report);
    if (err != FF_OK || not_before == NULL || not_before->sequence == 0) return err;
    if (report->head.log.sequence < not_before->sequence) {
        snprintf(report->reason, sizeof report->reason,
                 "the backup's head is %" PRIu64 ", older than the head %" PRIu64
                 " it must hold",
                 report->head.log.sequence, not_before->sequence);
        return FF_ERR_BACKUP_TOO_OLD;
    }
    store_txn *txn = NULL;
    Fundflow__V1__EventRecord *record = NULL;
    err = store_txn_begin(copy, NULL, STORE_TXN_READ, &txn);
    if (err == FF_OK) err = log_read(txn, copy, not_before->sequence, &record);
    store_txn_abort(txn);
    if (err != FF_OK) return err;
    bool same = record->hash.len == DIGEST_BYTES &&
                memcmp(record->hash.data, not_before->hash, DIGEST_BYTES) == 0;
    fundflow__v1__event_record__free_unpacked(record, NULL);
    if (same) return FF_OK;
    snprintf(report->reason, sizeof report->reason,
             "the backup's event %" PRIu64 " has another hash than the head given: it is "
             "another history",
             not_before->sequence);
    return FF_ERR_BACKUP_TOO_OLD;
}

/* Verifies the copy in scratch and checks its heads. */
static ff_err backup_scratch_check(const char *scratch, const backup_head *recorded,
                                   const log_head *not_before, backup_restore_report *report) {
    store_options options = {.data_dir = scratch};
    ff_store *copy = NULL;
    ff_err err = store_open(&options, &copy);
    if (err != FF_OK) {
        snprintf(report->reason, sizeof report->reason, "the backup cannot be opened: %s",
                 ff_strerror(err));
        return err;
    }
    err = verify_ledger(copy, NULL, &report->check);
    if (err != FF_OK) {
        snprintf(report->reason, sizeof report->reason,
                 "the backup fails verification at sequence %" PRIu64 ": %s: %s",
                 report->check.sequence, ff_err_name(report->check.code), report->check.reason);
    } else {
        err = backup_heads_check(copy, recorded, not_before, report);
    }
    store_close(copy);
    return err;
}

/* Moves a non-empty target aside (force), then renames scratch into its place. */
static ff_err backup_put_in_place(const char *scratch, const char *target, bool exists,
                                  backup_restore_report *report) {
    char lock[BACKUP_PATH_BYTES];
    if (backup_path_join(lock, sizeof lock, scratch, "/lock.mdb")) unlink(lock);
    if (exists && rmdir(target) != 0) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm utc;
        gmtime_r(&now, &utc);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
        snprintf(report->moved_aside, sizeof report->moved_aside, "%s" BACKUP_RESTORE_ASIDE_SUFFIX "%s",
                 target, stamp);
        if (rename(target, report->moved_aside) != 0) {
            snprintf(report->reason, sizeof report->reason, "cannot move %s aside: %s", target,
                     strerror(errno));
            report->moved_aside[0] = '\0';
            return FF_ERR_IO;
        }
    }
    if (rename(scratch, target) != 0) {
        snprintf(report->reason, sizeof report->reason, "cannot rename %s to %s: %s", scratch,
                 target, strerror(errno));
        return FF_ERR_IO;
    }
    return backup_directory_sync(target);
}

ff_err backup_restore(const backup_restore_options *options, backup_restore_report *report) {
    memset(report, 0, sizeof *report);
    char head_path[BACKUP_PATH_BYTES], scratch[BACKUP_PATH_BYTES], copy[BACKUP_PATH_BYTES];
    if (!backup_path_join(head_path, sizeof head_path, options->backup, BACKUP_HEAD_SUFFIX) ||
        !backup_path_join(scratch, sizeof scratch, options->data_dir,
                          BACKUP_RESTORE_SCRATCH_SUFFIX) ||
        !backup_path_join(copy, sizeof copy, scratch, "/data.mdb")) {
        snprintf(report->reason, sizeof report->reason, "a path is too long");
        return FF_ERR_IO;
    }
    backup_head recorded;
    ff_err err = backup_head_load(head_path, &recorded, report->reason, sizeof report->reason);
    if (err == FF_OK) err = backup_signature_check(&recorded, options, report);
    if (err != FF_OK) return err;
    bool exists = false;
    if (!backup_target_is_empty(options->data_dir, &exists) && !options->force) {
        snprintf(report->reason, sizeof report->reason,
                 "%s is not empty; restore into a new directory, or give --force to move it "
                 "aside",
                 options->data_dir);
        return FF_ERR_RESTORE_TARGET_NOT_EMPTY;
    }
    err = backup_scratch_make(scratch);
    if (err == FF_OK) err = backup_file_copy(options->backup, copy);
    if (err != FF_OK) {
        snprintf(report->reason, sizeof report->reason, "cannot copy %s beside %s: %s",
                 options->backup, options->data_dir, ff_strerror(err));
        store_remove(scratch);
        return err;
    }
    err = backup_scratch_check(scratch, &recorded, options->not_before, report);
    if (err == FF_OK) err = backup_put_in_place(scratch, options->data_dir, exists, report);
    if (err != FF_OK) store_remove(scratch);
    return err;
}
