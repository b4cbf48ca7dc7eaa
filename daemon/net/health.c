/* The checks behind GET /healthz (health.h). */
#include "health.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fundflow/limits.h"

bool health_check(ff_store *store, char *reason, size_t reason_bytes) {
    const char *data_dir = store_data_dir(store);
    /* access() answers EROFS for a read-only mount even to root, and EACCES to others. */
    if (access(data_dir, W_OK | X_OK) != 0) {
        snprintf(reason, reason_bytes, "unhealthy: data directory %s is not writable: %s",
                 data_dir, strerror(errno));
        return false;
    }
    uint64_t used = store_used_bytes(store), largest = store_map_bytes_max(store);
    /* In 128 bits: used * 100 would overflow only past 184 PB, but cost nothing to rule out. */
    uint64_t percent = (uint64_t)((unsigned __int128)used * 100 / largest);
    if (percent > FF_HEALTH_MAP_PERCENT_MAX) {
        snprintf(reason, reason_bytes,
                 "unhealthy: the data file fills %" PRIu64 "%% of the largest map (%" PRIu64
                 " of %" PRIu64 " bytes, map_bytes_max; over %d%%)",
                 percent, used, largest, FF_HEALTH_MAP_PERCENT_MAX);
        return false;
    }
    snprintf(reason, reason_bytes, "ok");
    return true;
}
