/* fundflow events --follow: prints events as they commit, like tail -f, through the WatchEvents
 * long-poll, checking the hash chain as it reads: each event's previous_hash must be the hash of
 * the event before it. Reconnects a bounded number of times, resuming after the last event
 * printed; SIGINT and SIGTERM end it with exit 0, never in the middle of a line. */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_output_events.h"
#include "cli_report.h"
#include "cli_values.h"
#include "json_codec.h"

#define CLI_HASH_BYTES 32

/* Where the follow has got to: the last sequence read and, when known, that event's hash. */
typedef struct cli_follow {
    uint64_t after;
    uint8_t hash[CLI_HASH_BYTES];
    bool anchored; /* hash is event after's, so the next event's link can be checked */
    bool json;     /* one EventRecord in proto3 JSON per line, rather than text */
    unsigned failures; /* calls in a row that found no usable server */
} cli_follow;

/* Output is written whole lines at a time with these signals held, so ending here leaves no
 * line cut short. */
static void cli_follow_signal(int signal_number) {
    (void)signal_number;
    _exit(CLI_EXIT_OK);
}

static void cli_follow_signals_set(int how) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(how, &set, NULL);
}

static void cli_follow_signals_install(void) {
    struct sigaction action = {.sa_handler = cli_follow_signal};
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

/* Event after's hash, so that the first event read is checked too; unanchored if the event
 * cannot be read (outside a scoped principal's scope, say). Event 0's hash is 32 zero bytes. */
static void cli_follow_anchor(cli_follow *follow, cli_session *session) {
    memset(follow->hash, 0, sizeof follow->hash);
    follow->anchored = follow->after == 0;
    if (follow->after == 0) return;
    Fundflow__V1__GetEventRequest get = FUNDFLOW__V1__GET_EVENT_REQUEST__INIT;
    get.sequence = follow->after;
    cli_reply reply = {0};
    if (cli_rpc_call(session, "GetEvent", &get.base, &fundflow__v1__event_record__descriptor,
                     &reply) == CLI_EXIT_OK &&
        reply.http_status == 200) {
        const Fundflow__V1__EventRecord *record = (const Fundflow__V1__EventRecord *)reply.message;
        if (record->hash.len == CLI_HASH_BYTES) {
            memcpy(follow->hash, record->hash.data, CLI_HASH_BYTES);
            follow->anchored = true;
        }
    }
    cli_reply_release(&reply);
}

/* Takes the next event into the chain; false, having said why, if it does not belong there. */
static bool cli_follow_chain(cli_follow *follow, const Fundflow__V1__EventRecord *record) {
    if (record->sequence <= follow->after) {
        fprintf(stderr, CLI_PROGRAM ": the server sent event %" PRIu64 " after event %" PRIu64
                        ": events must come in sequence order\n",
                record->sequence, follow->after);
        return false;
    }
    bool linked = record->sequence == follow->after + 1 && follow->anchored;
    if (record->hash.len != CLI_HASH_BYTES || record->previous_hash.len != CLI_HASH_BYTES ||
        (linked && memcmp(record->previous_hash.data, follow->hash, CLI_HASH_BYTES) != 0)) {
        fprintf(stderr, CLI_PROGRAM ": the hash chain is broken at event %" PRIu64
                        ": its previous_hash is not the hash of event %" PRIu64 "\n",
                record->sequence, record->sequence - 1);
        return false;
    }
    memcpy(follow->hash, record->hash.data, CLI_HASH_BYTES);
    follow->after = record->sequence;
    follow->anchored = true;
    return true;
}

/* One event on one line: "SEQUENCE  DATE  KIND  what", or its EventRecord in JSON. */
static bool cli_follow_print(const cli_follow *follow, const Fundflow__V1__EventRecord *record) {
    if (follow->json) {
        char *text = NULL;
        size_t length = 0;
        if (json_codec_encode(&record->base, &text, &length) != FF_OK) return false;
        fwrite(text, 1, length, stdout);
        fputc('\n', stdout);
        free(text);
        return true;
    }
    char date[16], line[CLI_EVENT_LINE_BYTES];
    cli_event_line(record->event, line, sizeof line);
    printf("%" PRIu64 "  %s  %s  %s\n", record->sequence,
           cli_date_text(record->effective_date, date, sizeof date),
           cli_event_kind_text(record->event), line);
    return true;
}

/* Checks and prints a page; the exit code to end with, or CLI_EXIT_OK to go on. */
static int cli_follow_page(cli_follow *follow, const Fundflow__V1__WatchEventsResponse *page) {
    int code = CLI_EXIT_OK;
    cli_follow_signals_set(SIG_BLOCK);
    for (size_t i = 0; i < page->n_events && code == CLI_EXIT_OK; i++) {
        if (!cli_follow_chain(follow, page->events[i])) code = CLI_EXIT_REFUSED;
        else if (!cli_follow_print(follow, page->events[i])) code = CLI_EXIT_FAILED;
    }
    fflush(stdout);
    cli_follow_signals_set(SIG_UNBLOCK);
    /* Events the scope leaves out were passed over: the next one's link cannot be checked. */
    if (code == CLI_EXIT_OK && page->next_after_sequence > follow->after) {
        follow->after = page->next_after_sequence;
        follow->anchored = false;
    }
    return code;
}

/* A reply that says to come back later: the server is stopping, or too busy. */
static bool cli_follow_retryable(const cli_reply *reply) {
    return reply->http_status == 503 || reply->http_status == 429;
}

/* After a failed call: pauses before the next, longer each time, or gives up past the bound. */
static bool cli_follow_retry(cli_follow *follow) {
    if (++follow->failures > FF_FOLLOW_RECONNECTS_MAX) {
        fprintf(stderr, CLI_PROGRAM ": giving up after %d reconnects; resume with --after %" PRIu64
                        "\n",
                FF_FOLLOW_RECONNECTS_MAX, follow->after);
        return false;
    }
    uint64_t pause_ms = (uint64_t)FF_FOLLOW_RECONNECT_PAUSE_MS * follow->failures;
    struct timespec pause = {(time_t)(pause_ms / 1000), (long)(pause_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
    return true;
}

int cli_events_follow_run(const cli_options *options, cli_session *session) {
    cli_follow follow = {.after = options->after_sequence,
                         .json = options->json ||
                                 options->report_format == CLI_REPORT_FORMAT_JSON};
    cli_follow_signals_install();
    cli_follow_anchor(&follow, session);
    for (;;) {
        Fundflow__V1__WatchEventsRequest watch = FUNDFLOW__V1__WATCH_EVENTS_REQUEST__INIT;
        watch.after_sequence = follow.after;
        watch.wait_ms = FF_WATCH_WAIT_MS_MAX;
        cli_reply reply = {0};
        int code = cli_rpc_call(session, "WatchEvents", &watch.base,
                                &fundflow__v1__watch_events_response__descriptor, &reply);
        if (code == CLI_EXIT_OK && reply.http_status == 200) {
            follow.failures = 0;
            code = cli_follow_page(&follow, (const Fundflow__V1__WatchEventsResponse *)reply.message);
            cli_reply_release(&reply);
            if (code != CLI_EXIT_OK) return code;
            continue;
        }
        if (code == CLI_EXIT_OK && !cli_follow_retryable(&reply)) {
            code = cli_reply_refusal_report(session, &reply);
            cli_reply_release(&reply);
            return code;
        }
        cli_reply_release(&reply);
        if (!cli_follow_retry(&follow)) return code == CLI_EXIT_OK ? CLI_EXIT_FAILED : code;
    }
}
