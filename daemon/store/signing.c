/* The signing key's file, signing tree heads after commits, and the signed head's file. */
#include "signing.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "fundflow/limits.h"
#include "logline.h"
#include "tree.h"

#define SIGNING_REGISTRY_MAX 8
#define SIGNING_PATH_BYTES 4096

struct ff_signer {
    ff_store *store;
    EVP_PKEY *key;
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES];
    pthread_mutex_t lock; /* guards latest */
    signed_head latest;
};

static pthread_mutex_t signing_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ff_signer *signing_registry[SIGNING_REGISTRY_MAX];

static bool signing_path(char *path, const char *data_dir, const char *name) {
    int length = snprintf(path, SIGNING_PATH_BYTES, "%s/%s", data_dir, name);
    return length > 0 && length < SIGNING_PATH_BYTES;
}

/* Creates a new key in path, 0600, refusing to replace any file there. */
static ff_err signing_key_create(const char *path, char *reason, size_t reason_bytes) {
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    int fd = key ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    FILE *file = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = file != NULL && PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (file != NULL) ok = fclose(file) == 0 && ok;
    else if (fd >= 0) close(fd);
    EVP_PKEY_free(key);
    if (ok) {
        fprintf(stderr, "level=info msg=\"created the signing key\" file=\"%s\"\n", path);
        return FF_OK;
    }
    snprintf(reason, reason_bytes, "cannot create the signing key %s: %s", path,
             errno ? strerror(errno) : "key generation failed");
    return FF_ERR_IO;
}

/* Reads an Ed25519 private key from path, refusing a file others may read. */
static ff_err signing_key_read(const char *path, EVP_PKEY **key_out, char *reason,
                               size_t reason_bytes) {
    *key_out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat status;
    if (fd < 0 || fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        snprintf(reason, reason_bytes, "cannot read the signing key %s: %s", path,
                 fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) close(fd);
        return FF_ERR_SIGNING_KEY_UNUSABLE;
    }
    if (status.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(reason, reason_bytes,
                 "the signing key %s has mode %03o: its group or others may use it; "
                 "chmod 600 it",
                 path, (unsigned)(status.st_mode & 0777));
        close(fd);
        return FF_ERR_SIGNING_KEY_UNUSABLE;
    }
    FILE *file = fdopen(fd, "r");
    EVP_PKEY *key = file ? PEM_read_PrivateKey(file, NULL, NULL, NULL) : NULL;
    if (file) fclose(file);
    else close(fd);
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        snprintf(reason, reason_bytes, "the signing key %s is not an Ed25519 private key in PEM",
                 path);
        EVP_PKEY_free(key);
        return FF_ERR_SIGNING_KEY_UNUSABLE;
    }
    *key_out = key;
    return FF_OK;
}

/* The key a server uses: key_path, else the data directory's, made if it is not there. */
static ff_err signing_key_load(const char *data_dir, const char *key_path, EVP_PKEY **key_out,
                               char *reason, size_t reason_bytes) {
    char path[SIGNING_PATH_BYTES];
    if (key_path == NULL) {
        if (!signing_path(path, data_dir, FF_SIGNING_KEY_FILE_NAME)) {
            snprintf(reason, reason_bytes, "the data directory's path is too long");
            return FF_ERR_IO;
        }
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            ff_err err = signing_key_create(path, reason, reason_bytes);
            if (err != FF_OK) return err;
        }
        key_path = path;
    }
    return signing_key_read(key_path, key_out, reason, reason_bytes);
}

static uint64_t signing_now_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* Writes the head to DATA_DIR/signed_head through a temporary file and a rename. */
static ff_err signing_head_file_write(const char *data_dir, const signed_head *head) {
    char path[SIGNING_PATH_BYTES], temporary[SIGNING_PATH_BYTES];
    if (!signing_path(path, data_dir, FF_SIGNED_HEAD_FILE_NAME) ||
        !signing_path(temporary, data_dir, FF_SIGNED_HEAD_FILE_NAME ".new")) {
        return FF_ERR_IO;
    }
    uint8_t stored[SIGNED_HEAD_STORED_BYTES];
    signed_head_encode(head, stored);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return FF_ERR_IO;
    bool ok = write(fd, stored, sizeof stored) == (ssize_t)sizeof stored;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(temporary, path) == 0;
    if (!ok) unlink(temporary);
    return ok ? FF_OK : FF_ERR_IO;
}

/* The tree's root at *size leaves, or with *size SIGNING_SIZE_NOW its size and root now. */
static ff_err signing_tree_read(ff_store *store, uint64_t *size, merkle_hash *root) {
    store_txn *txn = NULL;
    ff_err err = store_read_begin(store, &txn);
    if (err != FF_OK) return err;
    if (*size == SIGNING_SIZE_NOW) err = tree_size_read(txn, store, size);
    if (err == FF_OK) err = tree_root(txn, store, *size, root);
    store_read_end(store, txn);
    return err;
}

ff_err signing_sign(ff_signer *signer, signed_head *head) {
    head->timestamp_us = signing_now_us();
    return signed_head_sign(head, signer->key);
}

/* Whether the latest signed head covers the first size leaves already. */
static bool signing_latest_covers(ff_signer *signer, uint64_t size) {
    pthread_mutex_lock(&signer->lock);
    bool covers = signer->latest.tree_size >= size;
    pthread_mutex_unlock(&signer->lock);
    return covers;
}

/* Signs the head of the first size leaves (SIGNING_SIZE_NOW: the tree as it is now) if the
 * tree has grown past the latest signed head (always when force). A size given is checked before
 * the tree is read, SIGNING_SIZE_NOW once it is known. */
static ff_err signing_head_refresh(ff_signer *signer, bool force, uint64_t size) {
    if (!force && size != SIGNING_SIZE_NOW && signing_latest_covers(signer, size)) return FF_OK;
    signed_head head;
    memset(&head, 0, sizeof head);
    head.tree_size = size;
    ff_err err = signing_tree_read(signer->store, &head.tree_size, &head.root);
    if (err != FF_OK) return err;
    if (!force && signing_latest_covers(signer, head.tree_size)) return FF_OK;
    err = signing_sign(signer, &head);
    if (err != FF_OK) return err;
    /* The file is for fundflow-admin verify; a full disk must not stop the server answering
     * with the head it signed, so a failed write is logged and tried again at the next commit. */
    if (signing_head_file_write(store_data_dir(signer->store), &head) != FF_OK) {
        logline_write("level=error msg=\"cannot write the signed head\" file=\"%s/%s\"",
                store_data_dir(signer->store), FF_SIGNED_HEAD_FILE_NAME);
    }
    pthread_mutex_lock(&signer->lock);
    signer->latest = head;
    pthread_mutex_unlock(&signer->lock);
    return FF_OK;
}

static ff_err signing_register(ff_signer *signer) {
    pthread_mutex_lock(&signing_registry_lock);
    ff_err err = FF_ERR_NO_MEMORY;
    for (size_t i = 0; i < SIGNING_REGISTRY_MAX && err != FF_OK; i++) {
        if (signing_registry[i] != NULL) continue;
        signing_registry[i] = signer;
        err = FF_OK;
    }
    pthread_mutex_unlock(&signing_registry_lock);
    return err;
}

ff_err signing_open(ff_store *store, const char *key_path, ff_signer **signer_out,
                    char *reason, size_t reason_bytes) {
    *signer_out = NULL;
    snprintf(reason, reason_bytes, "%s", "");
    ff_signer *signer = calloc(1, sizeof *signer);
    if (signer == NULL) return FF_ERR_NO_MEMORY;
    signer->store = store;
    pthread_mutex_init(&signer->lock, NULL);
    ff_err err = signing_key_load(store_data_dir(store), key_path, &signer->key, reason,
                                  reason_bytes);
    if (err == FF_OK) err = signed_head_public_key(signer->key, signer->public_key);
    if (err == FF_OK) err = signed_head_key_id(signer->public_key, signer->key_id);
    if (err == FF_OK) err = signing_head_refresh(signer, true, SIGNING_SIZE_NOW);
    if (err == FF_OK) err = signing_register(signer);
    if (err != FF_OK) {
        if (reason[0] == '\0') {
            snprintf(reason, reason_bytes, "cannot sign the tree's head: %s", ff_strerror(err));
        }
        EVP_PKEY_free(signer->key);
        pthread_mutex_destroy(&signer->lock);
        free(signer);
        return err;
    }
    *signer_out = signer;
    return FF_OK;
}

void signing_close(ff_signer *signer) {
    if (signer == NULL) return;
    pthread_mutex_lock(&signing_registry_lock);
    for (size_t i = 0; i < SIGNING_REGISTRY_MAX; i++) {
        if (signing_registry[i] == signer) signing_registry[i] = NULL;
    }
    pthread_mutex_unlock(&signing_registry_lock);
    EVP_PKEY_free(signer->key);
    pthread_mutex_destroy(&signer->lock);
    free(signer);
}

ff_signer *signing_of(ff_store *store) {
    ff_signer *found = NULL;
    pthread_mutex_lock(&signing_registry_lock);
    for (size_t i = 0; i < SIGNING_REGISTRY_MAX && found == NULL; i++) {
        if (signing_registry[i] != NULL && signing_registry[i]->store == store) {
            found = signing_registry[i];
        }
    }
    pthread_mutex_unlock(&signing_registry_lock);
    return found;
}

void signing_public_key(const ff_signer *signer, uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                        uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES]) {
    memcpy(public_key, signer->public_key, SIGNED_HEAD_KEY_BYTES);
    memcpy(key_id, signer->key_id, SIGNED_HEAD_KEY_ID_BYTES);
}

void signing_after_commit(ff_store *store, uint64_t tree_size) {
    ff_signer *signer = signing_of(store);
    ff_err err = signer == NULL ? FF_OK : signing_head_refresh(signer, false, tree_size);
    if (err != FF_OK) {
        logline_write("level=error msg=\"cannot sign the tree head\" error=%s",
                ff_err_name(err));
    }
}

void signing_head_latest(ff_signer *signer, signed_head *head_out) {
    pthread_mutex_lock(&signer->lock);
    *head_out = signer->latest;
    pthread_mutex_unlock(&signer->lock);
}

ff_err signing_head_file_read(const char *data_dir, signed_head *head_out) {
    char path[SIGNING_PATH_BYTES];
    if (!signing_path(path, data_dir, FF_SIGNED_HEAD_FILE_NAME)) return FF_ERR_IO;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return errno == ENOENT ? FF_ERR_SIGNED_HEAD_MISSING : FF_ERR_IO;
    uint8_t stored[SIGNED_HEAD_STORED_BYTES + 1];
    size_t bytes = fread(stored, 1, sizeof stored, file);
    fclose(file);
    return signed_head_decode(stored, bytes, head_out);
}

ff_err signing_key_file_public(const char *data_dir, uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                               char *reason, size_t reason_bytes) {
    char path[SIGNING_PATH_BYTES];
    if (!signing_path(path, data_dir, FF_SIGNING_KEY_FILE_NAME)) return FF_ERR_IO;
    EVP_PKEY *key = NULL;
    ff_err err = signing_key_read(path, &key, reason, reason_bytes);
    if (err == FF_OK) err = signed_head_public_key(key, public_key);
    EVP_PKEY_free(key);
    return err;
}
