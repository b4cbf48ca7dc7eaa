/* What GET /healthz says: healthy while the server can go on taking writes; otherwise why not,
 * for a load balancer or a monitor (docs/CONFIG.md, "Health"). */
#ifndef FUNDFLOW_HEALTH_H
#define FUNDFLOW_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* True when the data directory can be written and the data file fills at most
 * FF_HEALTH_MAP_PERCENT_MAX percent of the largest map; otherwise false, with reason, a line for
 * people, saying which and naming the figures. Any thread; reads only. */
bool health_check(ff_store *store, char *reason, size_t reason_bytes);

#endif
