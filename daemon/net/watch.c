/* The change stream's waiting room: parked WatchEvents requests, woken by the head, their timer,
 * shutdown or their client's close (watch.h). */
#include "watch.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

struct watch_hub {
    struct event_base *base;
    size_t waiters_max, parked;
    size_t *parked_total; /* atomic: this hub's and any other's that shares it */
    uint64_t head; /* the highest head reported */
    bool closed;
    watch_wake_callback wake;
    void *argument;
    watch_waiter *first;
};

/* A hub's own count when it shares none. */
typedef struct watch_hub_alone {
    watch_hub hub;
    size_t parked_total;
} watch_hub_alone;

ff_err watch_hub_create(struct event_base *base, size_t waiters_max, size_t *shared_parked,
                        watch_wake_callback wake, void *argument, watch_hub **hub_out) {
    assert(base != NULL && waiters_max >= 1 && wake != NULL);
    watch_hub_alone *alone = calloc(1, sizeof *alone);
    if (alone == NULL) return FF_ERR_NO_MEMORY;
    watch_hub *hub = &alone->hub;
    *hub = (watch_hub){.base = base, .waiters_max = waiters_max,
                       .parked_total = shared_parked ? shared_parked : &alone->parked_total,
                       .wake = wake, .argument = argument};
    *hub_out = hub;
    return FF_OK;
}

/* Takes a waiter out of the list and frees its timer; the hub forgets it. */
static void watch_waiter_unlink(watch_waiter *waiter) {
    watch_hub *hub = waiter->hub;
    assert(hub != NULL && hub->parked > 0);
    if (waiter->previous) waiter->previous->next = waiter->next;
    else hub->first = waiter->next;
    if (waiter->next) waiter->next->previous = waiter->previous;
    event_free(waiter->timer);
    if (waiter->hang_up) event_free(waiter->hang_up);
    *waiter = (watch_waiter){0};
    hub->parked--;
    __atomic_sub_fetch(hub->parked_total, 1, __ATOMIC_RELAXED);
}

static void watch_waiter_hand_back(watch_waiter *waiter, watch_wake why) {
    watch_hub *hub = waiter->hub;
    watch_waiter_unlink(waiter);
    hub->wake(hub->argument, waiter, why);
}

/* The timer fired, or the park found the head already past: which one, the head tells. */
static void watch_waiter_timer(evutil_socket_t fd, short what, void *argument) {
    (void)fd, (void)what;
    watch_waiter *waiter = argument;
    bool passed = waiter->hub->head > waiter->after_sequence;
    watch_waiter_hand_back(waiter, passed ? WATCH_WAKE_HEAD : WATCH_WAKE_TIMER);
}

/* The client's socket is readable: at its end (or broken) the client has hung up. Bytes mean
 * it is still there, and are left for libevent to read once the reply is sent. */
static void watch_waiter_readable(evutil_socket_t socket, short what, void *argument) {
    (void)what;
    watch_waiter *waiter = argument;
    char byte;
    ssize_t peeked = recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        watch_waiter_hand_back(waiter, WATCH_WAKE_HUNG_UP);
        return;
    }
    if (peeked < 0) event_add(waiter->hang_up, NULL);
}

ff_err watch_hub_park(watch_hub *hub, watch_waiter *waiter, uint64_t after_sequence,
                      uint32_t wait_ms, const void *owner, int socket) {
    assert(waiter != NULL && waiter->hub == NULL);
    if (hub->closed) return FF_ERR_SHUTTING_DOWN;
    /* A place is taken before anything else, so that hubs sharing the count never pass the
     * limit together. */
    if (__atomic_add_fetch(hub->parked_total, 1, __ATOMIC_SEQ_CST) > hub->waiters_max) {
        __atomic_sub_fetch(hub->parked_total, 1, __ATOMIC_RELAXED);
        return FF_ERR_WATCHERS_FULL;
    }
    struct event *timer = evtimer_new(hub->base, watch_waiter_timer, waiter);
    struct event *hang_up =
        socket >= 0 ? event_new(hub->base, socket, EV_READ, watch_waiter_readable, waiter) : NULL;
    if (timer == NULL || (socket >= 0 && hang_up == NULL)) {
        if (timer) event_free(timer);
        if (hang_up) event_free(hang_up);
        __atomic_sub_fetch(hub->parked_total, 1, __ATOMIC_RELAXED);
        return FF_ERR_NO_MEMORY;
    }
    if (hang_up) event_add(hang_up, NULL);
    *waiter = (watch_waiter){.hub = hub, .timer = timer, .hang_up = hang_up,
                             .after_sequence = after_sequence, .owner = owner,
                             .next = hub->first};
    if (hub->first) hub->first->previous = waiter;
    hub->first = waiter;
    hub->parked++;
    if (hub->head > after_sequence) {
        event_active(timer, EV_TIMEOUT, 0);
    } else {
        struct timeval wait = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};
        evtimer_add(timer, &wait);
    }
    return FF_OK;
}

void watch_hub_head_advanced(watch_hub *hub, uint64_t head) {
    if (head <= hub->head) return;
    hub->head = head;
    for (watch_waiter *waiter = hub->first, *next; waiter != NULL; waiter = next) {
        next = waiter->next;
        if (waiter->after_sequence < head) watch_waiter_hand_back(waiter, WATCH_WAKE_HEAD);
    }
}

void watch_hub_owner_gone(watch_hub *hub, const void *owner) {
    for (watch_waiter *waiter = hub->first, *next; waiter != NULL; waiter = next) {
        next = waiter->next;
        if (waiter->owner == owner) watch_waiter_hand_back(waiter, WATCH_WAKE_GONE);
    }
}

void watch_hub_close(watch_hub *hub) {
    hub->closed = true;
    while (hub->first != NULL) watch_waiter_hand_back(hub->first, WATCH_WAKE_SHUTDOWN);
    assert(hub->parked == 0);
}

size_t watch_hub_parked(const watch_hub *hub) {
    return __atomic_load_n(hub->parked_total, __ATOMIC_SEQ_CST);
}

size_t watch_hub_limit(const watch_hub *hub) {
    return hub->waiters_max;
}

void watch_hub_free(watch_hub *hub) {
    if (hub == NULL) return;
    /* Shutdown closed the hub, so only a loop that stopped another way leaves waiters. */
    while (hub->first != NULL) watch_waiter_hand_back(hub->first, WATCH_WAKE_GONE);
    assert(hub->parked == 0);
    free((watch_hub_alone *)hub);
}
