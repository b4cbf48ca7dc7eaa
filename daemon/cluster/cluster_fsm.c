/* The ledger as Raft's state machine (cluster_fsm.h). */
#include "cluster_fsm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger_replica.h"
#include "logline.h"
#include "signing.h"

#define SNAPSHOT_MAGIC "FFSNAP01"
enum { SNAPSHOT_MAGIC_BYTES = 8, SNAPSHOT_HEADER_BYTES = 16, ENTRY_LENGTH_BYTES = 8 };

/* What apply hands to the apply callback when the entry recorded events. */
static int entry_recorded;

/* After an entry or snapshot recorded events here: this node signs its own new head with its
 * own key (each node of a cluster signs what it holds, as a single node does), then tells the
 * server. */
static void notify_applied(cluster_fsm *state) {
    signing_after_commit(ledger_store(state->ledger), SIGNING_SIZE_NOW);
    pthread_mutex_lock(&state->notify_lock);
    if (state->notify != NULL) state->notify(state->notify_argument);
    pthread_mutex_unlock(&state->notify_lock);
}

static void u64_put(void *destination, uint64_t value) {
    uint8_t *bytes = destination;
    for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(value >> (8 * i));
}

static uint64_t u64_get(const void *source) {
    const uint8_t *bytes = source;
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value |= (uint64_t)bytes[i] << (8 * i);
    return value;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buffer, void **result) {
    cluster_fsm *state = fsm->data;
    /* replicationApply sets last_applied only after apply returns: this entry is the next. */
    uint64_t index = raft_last_applied(state->raft) + 1;
    bool recorded = false;
    const uint8_t *entry = NULL;
    size_t entry_size = 0;
    ff_err err = cluster_entry_unwrap(buffer->base, buffer->len, &entry, &entry_size);
    if (err == FF_OK) err = ledger_sealed_apply(state->ledger, index, entry, entry_size, &recorded);
    if (err != FF_OK) {
        /* Every node applies the same entries; one that cannot must stop rather than diverge. */
        fprintf(stderr, "level=error msg=\"cluster: cannot apply a committed entry; stopping\" "
                "index=%" PRIu64 " error=%s\n", index, ff_err_name(err));
        abort();
    }
    *result = recorded ? &entry_recorded : NULL;
    if (recorded) notify_applied(state);
    return 0;
}

/* Reads the whole file at path into a raft_malloc'd buffer after header_bytes of room. */
static int file_read_after(const char *path, size_t header_bytes, struct raft_buffer *out) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return RAFT_IOERR;
    int rv = RAFT_IOERR;
    if (fseek(file, 0, SEEK_END) == 0) {
        long size = ftell(file);
        if (size >= 0 && fseek(file, 0, SEEK_SET) == 0) {
            out->len = header_bytes + (size_t)size;
            out->base = raft_malloc(out->len);
            rv = out->base == NULL ? RAFT_NOMEM : 0;
            if (rv == 0 && fread((uint8_t *)out->base + header_bytes, 1, (size_t)size, file) !=
                               (size_t)size) {
                raft_free(out->base);
                rv = RAFT_IOERR;
            }
        }
    }
    fclose(file);
    return rv;
}

int cluster_entry_wrap(const uint8_t *entry, size_t entry_size, struct raft_buffer *out) {
    size_t padded = (ENTRY_LENGTH_BYTES + entry_size + 7) / 8 * 8;
    out->base = raft_calloc(1, padded);
    if (out->base == NULL) return RAFT_NOMEM;
    out->len = padded;
    u64_put(out->base, entry_size);
    if (entry_size > 0) memcpy((uint8_t *)out->base + ENTRY_LENGTH_BYTES, entry, entry_size);
    return 0;
}

ff_err cluster_entry_unwrap(const void *bytes, size_t size, const uint8_t **entry_out,
                            size_t *entry_size_out) {
    if (size < ENTRY_LENGTH_BYTES) return FF_ERR_REPLICA_ENTRY_INVALID;
    uint64_t entry_size = u64_get(bytes);
    if (entry_size > size - ENTRY_LENGTH_BYTES) return FF_ERR_REPLICA_ENTRY_INVALID;
    *entry_out = (const uint8_t *)bytes + ENTRY_LENGTH_BYTES;
    *entry_size_out = (size_t)entry_size;
    return FF_OK;
}

/* On the loop: nothing to do there; the copy is taken off the loop, in fsm_snapshot_async. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *buffers[], unsigned *count) {
    (void)fsm;
    *buffers = NULL;
    *count = 0;
    return 0;
}

/* In libuv's thread pool, while the loop goes on applying entries and sending heartbeats: the
 * copy may therefore hold entries past the index Raft labels the snapshot with. That is
 * harmless: the copy records its own applied index, the header's (read before the copy) is at
 * or below it, and entries a restored ledger already holds are skipped when Raft replays them. */
static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *buffers[],
                              unsigned *count) {
    cluster_fsm *state = fsm->data;
    uint64_t applied = 0;
    unlink(state->snapshot_path);
    ff_err err = ledger_applied_index_read(state->ledger, &applied);
    if (err == FF_OK) err = ledger_snapshot_write(state->ledger, state->snapshot_path);
    if (err != FF_OK) {
        logline_write("level=warn msg=\"cluster: snapshot not written\" error=%s",
                      ff_err_name(err));
        unlink(state->snapshot_path);
        return RAFT_IOERR;
    }
    struct raft_buffer whole = {0};
    int rv = file_read_after(state->snapshot_path, SNAPSHOT_HEADER_BYTES, &whole);
    unlink(state->snapshot_path);
    if (rv != 0) return rv;
    memcpy(whole.base, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_BYTES);
    u64_put((uint8_t *)whole.base + SNAPSHOT_MAGIC_BYTES, applied);
    *buffers = raft_malloc(sizeof **buffers);
    if (*buffers == NULL) {
        raft_free(whole.base);
        return RAFT_NOMEM;
    }
    (*buffers)[0] = whole;
    *count = 1;
    logline_write("level=info msg=\"cluster: snapshot taken\" applied_index=%" PRIu64
                  " bytes=%zu", applied, whole.len);
    return 0;
}

/* After the snapshot is stored (or not): the buffers are the state machine's to free. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *buffers[],
                                 unsigned *count) {
    (void)fsm;
    if (*buffers != NULL) {
        for (unsigned i = 0; i < *count; i++) raft_free((*buffers)[i].base);
        raft_free(*buffers);
    }
    *buffers = NULL;
    *count = 0;
    return 0;
}

static int file_write(const char *path, const uint8_t *bytes, size_t size) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) return RAFT_IOERR;
    bool written = fwrite(bytes, 1, size, file) == size;
    bool flushed = fflush(file) == 0 && fsync(fileno(file)) == 0;
    return fclose(file) == 0 && written && flushed ? 0 : RAFT_IOERR;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buffer) {
    cluster_fsm *state = fsm->data;
    const uint8_t *bytes = buffer->base;
    if (buffer->len < SNAPSHOT_HEADER_BYTES ||
        memcmp(bytes, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_BYTES) != 0) {
        logline_write("level=error msg=\"cluster: snapshot is not fundflow's\"");
        return RAFT_MALFORMED;
    }
    uint64_t index = u64_get(bytes + SNAPSHOT_MAGIC_BYTES);
    uint64_t applied = 0;
    if (ledger_applied_index_read(state->ledger, &applied) != FF_OK) return RAFT_IOERR;
    if (index > applied) {
        int rv = file_write(state->snapshot_path, bytes + SNAPSHOT_HEADER_BYTES,
                            buffer->len - SNAPSHOT_HEADER_BYTES);
        ff_err err = rv == 0 ? ledger_snapshot_restore(state->ledger, state->snapshot_path)
                             : FF_ERR_IO;
        unlink(state->snapshot_path);
        if (err != FF_OK) {
            logline_write("level=error msg=\"cluster: snapshot not restored\" error=%s",
                          ff_err_name(err));
            return RAFT_IOERR;
        }
        logline_write("level=info msg=\"cluster: snapshot restored\" applied_index=%" PRIu64,
                      index);
        notify_applied(state);
    }
    raft_free(buffer->base); /* on success the buffer is the state machine's to free */
    return 0;
}

ff_err cluster_fsm_init(cluster_fsm *state, struct raft_fsm *fsm, ff_ledger *ledger,
                        struct raft *raft, const char *data_dir) {
    memset(state, 0, sizeof *state);
    pthread_mutex_init(&state->notify_lock, NULL);
    int written = snprintf(state->snapshot_path, sizeof state->snapshot_path,
                           "%s/raft-snapshot.tmp", data_dir);
    if (written < 0 || (size_t)written >= sizeof state->snapshot_path) {
        return FF_ERR_CLUSTER_START;
    }
    state->ledger = ledger;
    state->raft = raft;
    memset(fsm, 0, sizeof *fsm);
    fsm->version = 3;
    fsm->data = state;
    fsm->apply = fsm_apply;
    fsm->snapshot = fsm_snapshot;
    fsm->restore = fsm_restore;
    fsm->snapshot_finalize = fsm_snapshot_finalize;
    fsm->snapshot_async = fsm_snapshot_async;
    return FF_OK;
}

void cluster_fsm_notify_set(cluster_fsm *state, cluster_applied_callback callback,
                            void *argument) {
    pthread_mutex_lock(&state->notify_lock);
    state->notify = callback;
    state->notify_argument = argument;
    pthread_mutex_unlock(&state->notify_lock);
}

void cluster_fsm_close(cluster_fsm *state) {
    pthread_mutex_destroy(&state->notify_lock);
}
