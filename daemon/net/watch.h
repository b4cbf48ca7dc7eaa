/* The change stream's waiting room: WatchEvents requests parked on the event loop until the
 * log's head passes the sequence they wait after, their wait ends, the server shuts down or their
 * client goes away.
 *
 * A parked request holds no thread and no read transaction: it is a timer and a place in a list.
 * The server reads a request's page on a reader thread; when the page is empty it parks the
 * request here with the last sequence the page examined, and on a wake queues the read again.
 * The writer's commits reach the hub through watch_hub_head_advanced, which the loop calls as it
 * hands back each finished write. Everything here runs on the loop thread of the hub's base,
 * except watch_hub_parked and watch_hub_limit.
 */
#ifndef FUNDFLOW_WATCH_H
#define FUNDFLOW_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

struct event;
struct event_base;

typedef struct watch_hub watch_hub;

/* Why a parked request is handed back. */
typedef enum watch_wake {
    WATCH_WAKE_HEAD,     /* the head passed after_sequence: read again */
    WATCH_WAKE_TIMER,    /* the wait ended: answer that nothing came */
    WATCH_WAKE_SHUTDOWN, /* the server is stopping: answer that nothing came, now */
    WATCH_WAKE_GONE,     /* its connection was closed: free it, answer nothing */
    WATCH_WAKE_HUNG_UP,  /* its client hung up: close the connection, free it, answer nothing */
} watch_wake;

/* A parked request's place in the hub, kept inside the caller's request. */
typedef struct watch_waiter {
    struct watch_waiter *previous, *next;
    watch_hub *hub;
    struct event *timer;
    struct event *hang_up; /* the client's socket readable: perhaps it hung up */
    uint64_t after_sequence; /* woken when the head passes this */
    const void *owner;       /* the client's connection, which watch_hub_owner_gone names */
} watch_waiter;

/* Receives a waiter once it has left the hub. */
typedef void (*watch_wake_callback)(void *argument, watch_waiter *waiter, watch_wake why);

/* A hub of at most waiters_max parked requests (at least 1), on base's loop. shared_parked,
 * when not NULL, is a count shared by several hubs (one per event loop, each on its own thread):
 * waiters_max then bounds their parked requests together, and watch_hub_parked gives the total.
 * FF_ERR_NO_MEMORY. */
ff_err watch_hub_create(struct event_base *base, size_t waiters_max, size_t *shared_parked,
                        watch_wake_callback wake, void *argument, watch_hub **hub_out);

/* Parks waiter until the head passes after_sequence or wait_ms pass. When the head has passed
 * it already, the waiter is woken on the loop's next turn, never inside this call. libevent 2.1
 * does not read a connection whose request awaits its reply, so it would not see the client hang
 * up: the hub watches socket (-1: none) itself, and hands the waiter back with
 * WATCH_WAKE_HUNG_UP when the client has closed it. A client that sends bytes instead (another
 * request, or TLS's closing alert) is no longer watched; its wait ends as usual.
 * FF_ERR_WATCHERS_FULL when waiters_max wait; FF_ERR_SHUTTING_DOWN once watch_hub_close has run;
 * FF_ERR_NO_MEMORY. On failure the waiter is not parked. */
ff_err watch_hub_park(watch_hub *hub, watch_waiter *waiter, uint64_t after_sequence,
                      uint32_t wait_ms, const void *owner, int socket);

/* The log's head is now head: wakes every waiter it has passed. A head at or below the last one
 * known changes nothing, so any finished write may report its head. */
void watch_hub_head_advanced(watch_hub *hub, uint64_t head);

/* Hands back owner's waiters with WATCH_WAKE_GONE. */
void watch_hub_owner_gone(watch_hub *hub, const void *owner);

/* Hands back every waiter with WATCH_WAKE_SHUTDOWN and refuses parking from now on. */
void watch_hub_close(watch_hub *hub);

/* How many requests are parked now (in every hub sharing the count), and the most that may be.
 * Any thread. */
size_t watch_hub_parked(const watch_hub *hub);
size_t watch_hub_limit(const watch_hub *hub);

/* Hands back any waiter left with WATCH_WAKE_GONE and frees the hub. NULL is allowed. */
void watch_hub_free(watch_hub *hub);

#endif
