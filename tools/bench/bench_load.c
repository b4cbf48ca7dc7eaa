/* fundflow-bench: a load generator that sends SubmitCommands batches of 1p allocations to a running
 * fundflowd over several keep-alive connections and reports throughput and latency per batch
 * size; or, with --reads, GetPosition requests for the benchmark's recipient. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "tool_help.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

#define BENCH_PROGRAM "fundflow-bench"

/* Exit codes, as --help lists them. */
#define BENCH_EXIT_OK 0
#define BENCH_EXIT_FAILED 1
#define BENCH_EXIT_USAGE 2
#define BENCH_EXIT_CONNECT 3

#define BENCH_SERVER_DEFAULT "http://127.0.0.1:7460"

/* Threads, each with its own connection. The server accepts 1024 connections by default. */
#define BENCH_CONNECTIONS_DEFAULT 4
#define BENCH_CONNECTIONS_MAX 512

/* Batch sizes in one run, and the default list. */
#define BENCH_BATCH_SIZES_MAX 16
#define BENCH_BATCH_SIZES_DEFAULT "1,100,1000"

/* Seconds each setting runs, by default and at most. */
#define BENCH_SECONDS_DEFAULT 5
#define BENCH_SECONDS_MAX 3600

/* Requests each setting sends at most, across its threads, unless --requests-max says fewer or
 * more. Each request's latency is kept, so this also bounds memory: 4 bytes a request. */
#define BENCH_REQUESTS_MAX_DEFAULT 10000000u
#define BENCH_REQUESTS_MAX_LIMIT 100000000u

/* A worker gives up after this many transport failures in a row, so a dead server ends the run
 * instead of spinning until the deadline. */
#define BENCH_TRANSPORT_FAILURES_IN_A_ROW_MAX 3

/* The organisations the benchmark allocates between. Their codes follow no ODS pattern, so they
 * cannot clash with the demo's or any real organisation's. */
#define BENCH_FUNDER_CODE "XBN"
#define BENCH_RECIPIENT_CODE "QBN"
#define BENCH_FINANCIAL_YEAR 2024u
#define BENCH_EFFECTIVE_DATE 20240401u

/* An idempotency key such as "bench-0123456789abcdef-b1000-w12-4294967295-999"; under 64. */
#define BENCH_KEY_BYTES 64

/* Bytes of the first error a worker keeps, to print at the end. */
#define BENCH_ERROR_BYTES 256

#define BENCH_SUBMIT_PATH "/twirp/fundflow.v1.Ledger/SubmitCommands"
#define BENCH_POSITION_PATH "/twirp/fundflow.v1.Ledger/GetPosition"
#define BENCH_CONTENT_TYPE "application/protobuf"

typedef struct bench_options {
    const char *server_url;
    const char *token;
    uint32_t connections;
    uint32_t batch_sizes[BENCH_BATCH_SIZES_MAX];
    size_t batch_size_count;
    uint32_t seconds;
    uint64_t requests_max;
    bool reads; /* GetPosition requests instead of writes */
} bench_options;

/* One batch size's run, shared by its workers. */
typedef struct bench_setting {
    const bench_options *options;
    uint32_t batch_size;
    int64_t deadline_ms;
    atomic_uint_fast64_t requests_claimed;
    const char *run_id;
} bench_setting;

/* One worker thread's connection, counts and latencies. */
typedef struct bench_worker {
    bench_setting *setting;
    unsigned index;
    pthread_t thread;
    uint32_t *latencies_us;
    size_t latency_count;
    size_t latency_capacity;
    uint64_t requests;
    uint64_t commands_recorded;
    uint64_t commands_refused;
    uint64_t transport_failures;
    char first_error[BENCH_ERROR_BYTES];
} bench_worker;

/* What one setting measured, for its row of the table. */
typedef struct bench_row {
    uint32_t batch_size;
    uint64_t requests;
    uint64_t commands_recorded;
    uint64_t commands_refused;
    uint64_t transport_failures;
    double seconds;
    double p50_ms, p99_ms, max_ms;
} bench_row;

static int64_t bench_monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* Arguments ------------------------------------------------------------------------------- */

static void bench_usage_print(FILE *out) {
    fprintf(out,
            "Usage: " BENCH_PROGRAM " [--server URL] [--token TOKEN] [--connections N]\n"
            "                      [--batch-sizes 1,100,1000] [--seconds S] [--requests-max N]\n"
            "                      [--reads]\n"
            "\n"
            "Loads a running fundflowd. First registers two organisations of its own,\n"
            "idempotently: " BENCH_FUNDER_CODE " (kind nhse) and " BENCH_RECIPIENT_CODE
            " (kind icb), and the first's core services\n"
            "2024/25 limit, as high as it goes. Then, for each batch size,\n"
            "runs N threads, each with its own keep-alive connection, sending non-linked\n"
            "SubmitCommands requests (protobuf) of 1p allocations from " BENCH_FUNDER_CODE
            " to " BENCH_RECIPIENT_CODE ",\n"
            "core_services 2024/25, each under a fresh key, until S seconds pass or the\n"
            "setting has sent --requests-max requests. Prints, per batch size: connections,\n"
            "requests, commands recorded, commands/s, and p50, p99 and max request latency.\n"
            "Every run adds events to the ledger: point it at a scratch server.\n"
            "\n"
            "  --server URL        http://HOST:PORT. Default: $FUNDFLOW_SERVER or\n"
            "                      " BENCH_SERVER_DEFAULT "\n"
            "  --token TOKEN       bearer token. Default: $FUNDFLOW_TOKEN\n"
            "  --connections N     threads and connections, 1 to %d. Default: %d\n"
            "  --batch-sizes LIST  commands per request, comma-separated, each 1 to %d, at most\n"
            "                      %d sizes. Default: " BENCH_BATCH_SIZES_DEFAULT "\n"
            "  --seconds S         seconds per batch size, 1 to %d. Default: %d\n"
            "  --requests-max N    requests per batch size at most, 1 to %u. Default: %u\n"
            "  --reads             send GetPosition requests (protobuf) for " BENCH_RECIPIENT_CODE
            "'s core\n"
            "                      services 2024/25 instead of writes, for S seconds; the\n"
            "                      batch sizes are ignored and the table has one row, \"read\",\n"
            "                      counting answered reads as commands\n"
            "  --help              print this help\n"
            "  --version           print \"" BENCH_PROGRAM " VERSION\" (the only argument)\n"
            "\n"
            "Exit codes: 0 every command recorded; 1 a command was refused or a request failed\n"
            "(counted in the table); 2 usage error; 3 cannot connect to the server.\n",
            BENCH_CONNECTIONS_MAX, BENCH_CONNECTIONS_DEFAULT, FF_BATCH_COMMANDS_MAX,
            BENCH_BATCH_SIZES_MAX, BENCH_SECONDS_MAX, BENCH_SECONDS_DEFAULT,
            BENCH_REQUESTS_MAX_LIMIT, BENCH_REQUESTS_MAX_DEFAULT);
}

static bool bench_number_parse(const char *flag, const char *text, uint64_t minimum,
                               uint64_t maximum, uint64_t *number_out) {
    uint64_t number = 0;
    const char *cursor = text;
    for (; *cursor >= '0' && *cursor <= '9' && number <= maximum; cursor++) {
        number = number * 10 + (uint64_t)(*cursor - '0');
    }
    if (cursor == text || *cursor != '\0' || number < minimum || number > maximum) {
        fprintf(stderr, BENCH_PROGRAM ": %s: \"%s\" is not a whole number from %" PRIu64
                                      " to %" PRIu64 "\n",
                flag, text, minimum, maximum);
        return false;
    }
    *number_out = number;
    return true;
}

static bool bench_batch_sizes_parse(bench_options *options, const char *flag, const char *text) {
    char copy[256];
    if (strlen(text) >= sizeof copy) {
        fprintf(stderr, BENCH_PROGRAM ": %s: the list is too long\n", flag);
        return false;
    }
    memcpy(copy, text, strlen(text) + 1);
    options->batch_size_count = 0;
    char *saved = NULL;
    for (char *item = strtok_r(copy, ",", &saved); item != NULL;
         item = strtok_r(NULL, ",", &saved)) {
        uint64_t size = 0;
        if (options->batch_size_count == BENCH_BATCH_SIZES_MAX) {
            fprintf(stderr, BENCH_PROGRAM ": %s: more than %d sizes\n", flag,
                    BENCH_BATCH_SIZES_MAX);
            return false;
        }
        if (!bench_number_parse(flag, item, 1, FF_BATCH_COMMANDS_MAX, &size)) return false;
        options->batch_sizes[options->batch_size_count++] = (uint32_t)size;
    }
    if (options->batch_size_count == 0) {
        fprintf(stderr, BENCH_PROGRAM ": %s: \"%s\" lists no sizes\n", flag, text);
        return false;
    }
    return true;
}

/* Applies one flag and its value; returns false, having said why, if either is bad. */
static bool bench_flag_apply(bench_options *options, const char *flag, const char *value) {
    uint64_t number = 0;
    if (strcmp(flag, "--server") == 0) options->server_url = value;
    else if (strcmp(flag, "--token") == 0) options->token = value;
    else if (strcmp(flag, "--batch-sizes") == 0) {
        return bench_batch_sizes_parse(options, flag, value);
    } else if (strcmp(flag, "--connections") == 0) {
        if (!bench_number_parse(flag, value, 1, BENCH_CONNECTIONS_MAX, &number)) return false;
        options->connections = (uint32_t)number;
    } else if (strcmp(flag, "--seconds") == 0) {
        if (!bench_number_parse(flag, value, 1, BENCH_SECONDS_MAX, &number)) return false;
        options->seconds = (uint32_t)number;
    } else if (strcmp(flag, "--requests-max") == 0) {
        if (!bench_number_parse(flag, value, 1, BENCH_REQUESTS_MAX_LIMIT, &number)) return false;
        options->requests_max = number;
    } else {
        fprintf(stderr, BENCH_PROGRAM ": unknown flag %s; see " BENCH_PROGRAM " --help\n", flag);
        return false;
    }
    return true;
}

/* Reads the command line. Returns -1 to run, or the exit code to end with at once. */
static int bench_arguments_parse(int argc, char **argv, bench_options *options) {
    memset(options, 0, sizeof *options);
    const char *server = getenv("FUNDFLOW_SERVER"), *token = getenv("FUNDFLOW_TOKEN");
    options->server_url = server && server[0] ? server : BENCH_SERVER_DEFAULT;
    options->token = token && token[0] ? token : NULL;
    options->connections = BENCH_CONNECTIONS_DEFAULT;
    options->seconds = BENCH_SECONDS_DEFAULT;
    options->requests_max = BENCH_REQUESTS_MAX_DEFAULT;
    bool parsed = bench_batch_sizes_parse(options, "default", BENCH_BATCH_SIZES_DEFAULT);
    assert(parsed);
    (void)parsed;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            bench_usage_print(stdout);
            return BENCH_EXIT_OK;
        }
        if (strcmp(argv[i], "--reads") == 0) {
            options->reads = true;
            continue;
        }
        char flag[32];
        const char *equals = strchr(argv[i], '=');
        size_t name_length = equals ? (size_t)(equals - argv[i]) : strlen(argv[i]);
        snprintf(flag, sizeof flag, "%.*s", (int)name_length, argv[i]);
        const char *value = equals ? equals + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (value == NULL) {
            fprintf(stderr, BENCH_PROGRAM ": %s needs a value\n", flag);
            return BENCH_EXIT_USAGE;
        }
        if (!bench_flag_apply(options, flag, value)) return BENCH_EXIT_USAGE;
    }
    return -1;
}

/* Setup ----------------------------------------------------------------------------------- */

/* 64 random bits in hex, so that keys never repeat an earlier run's. */
static bool bench_run_id_make(char *run_id, size_t run_id_bytes) {
    uint64_t random = 0;
    FILE *source = fopen("/dev/urandom", "rb");
    size_t got = source ? fread(&random, sizeof random, 1, source) : 0;
    if (source != NULL) fclose(source);
    if (got != 1) {
        fprintf(stderr, BENCH_PROGRAM ": cannot read /dev/urandom\n");
        return false;
    }
    snprintf(run_id, run_id_bytes, "%016" PRIx64, random);
    return true;
}

static int bench_client_create(const bench_options *options, http_client **client_out) {
    http_client_options client_options = {.token = options->token};
    char error[HTTP_CLIENT_ERROR_BYTES];
    if (http_client_create(options->server_url, &client_options, client_out, error,
                           sizeof error) != HTTP_OK) {
        fprintf(stderr, BENCH_PROGRAM ": --server %s\n", error);
        return BENCH_EXIT_USAGE;
    }
    return BENCH_EXIT_OK;
}

static void bench_org_command_fill(Fundflow__V1__Command *command, Fundflow__V1__Event *event,
                                   Fundflow__V1__OrgRegistered *org, const char *key,
                                   const char *code, const char *name,
                                   Fundflow__V1__OrgKind kind) {
    fundflow__v1__org_registered__init(org);
    org->code = (char *)code;
    org->name = (char *)name;
    org->kind = kind;
    fundflow__v1__event__init(event);
    event->kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    event->org_registered = org;
    fundflow__v1__command__init(command);
    command->idempotency_key = (char *)key;
    command->effective_date = BENCH_EFFECTIVE_DATE;
    command->event = event;
}

/* Checks the reply to the registrations: each recorded now or before under the same key. */
static int bench_orgs_reply_check(const http_response *response) {
    if (response->status != 200) {
        fprintf(stderr, BENCH_PROGRAM ": the server refused the registrations: HTTP %d: %.*s\n",
                response->status, (int)(response->body_bytes < 400 ? response->body_bytes : 400),
                (const char *)response->body);
        return BENCH_EXIT_FAILED;
    }
    Fundflow__V1__SubmitCommandsResponse *reply = fundflow__v1__submit_commands_response__unpack(
        NULL, response->body_bytes, response->body);
    static const char *const what[] = {BENCH_FUNDER_CODE, BENCH_RECIPIENT_CODE,
                                       BENCH_FUNDER_CODE "'s limit"};
    int code = reply != NULL && reply->n_results == 3 ? BENCH_EXIT_OK : BENCH_EXIT_FAILED;
    for (size_t i = 0; code == BENCH_EXIT_OK && i < reply->n_results; i++) {
        const Fundflow__V1__CommandResult *result = reply->results[i];
        if (strcmp(result->code, "ok") != 0) {
            fprintf(stderr, BENCH_PROGRAM ": registering %s was refused: %s: %s\n", what[i],
                    result->code, result->message);
            code = BENCH_EXIT_FAILED;
        }
    }
    if (reply == NULL) fprintf(stderr, BENCH_PROGRAM ": the registration reply is unreadable\n");
    if (reply != NULL) fundflow__v1__submit_commands_response__free_unpacked(reply, NULL);
    return code;
}

/* Registers the funder, the recipient and the funder's core services limit (as high as it goes,
 * so that no run exhausts it) under fixed keys, so every run after the first finds them already
 * recorded. */
static int bench_orgs_register(const bench_options *options) {
    http_client *client = NULL;
    int code = bench_client_create(options, &client);
    if (code != BENCH_EXIT_OK) return code;
    Fundflow__V1__Command commands[2];
    Fundflow__V1__Event events[2];
    Fundflow__V1__OrgRegistered orgs[2];
    bench_org_command_fill(&commands[0], &events[0], &orgs[0], "bench-org-" BENCH_FUNDER_CODE,
                           BENCH_FUNDER_CODE, "fundflow-bench funder",
                           FUNDFLOW__V1__ORG_KIND__NHSE);
    bench_org_command_fill(&commands[1], &events[1], &orgs[1], "bench-org-" BENCH_RECIPIENT_CODE,
                           BENCH_RECIPIENT_CODE, "fundflow-bench recipient ICB",
                           FUNDFLOW__V1__ORG_KIND__ICB);
    Fundflow__V1__Command limit_command = FUNDFLOW__V1__COMMAND__INIT;
    Fundflow__V1__Event limit_event = FUNDFLOW__V1__EVENT__INIT;
    Fundflow__V1__RevenueLimitSet limit = FUNDFLOW__V1__REVENUE_LIMIT_SET__INIT;
    limit.funder_code = (char *)BENCH_FUNDER_CODE;
    limit.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    limit.financial_year = BENCH_FINANCIAL_YEAR;
    limit.limit_pence = INT64_MAX;
    limit_event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET;
    limit_event.revenue_limit_set = &limit;
    limit_command.idempotency_key = (char *)"bench-limit-" BENCH_FUNDER_CODE;
    limit_command.effective_date = BENCH_EFFECTIVE_DATE;
    limit_command.event = &limit_event;
    Fundflow__V1__Command *pointers[3] = {&commands[0], &commands[1], &limit_command};
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = pointers;
    request.n_commands = 3;
    uint8_t packed[1024];
    assert(fundflow__v1__submit_commands_request__get_packed_size(&request) <= sizeof packed);
    size_t packed_bytes = fundflow__v1__submit_commands_request__pack(&request, packed);
    http_response response;
    http_result result = http_client_post(client, BENCH_SUBMIT_PATH, BENCH_CONTENT_TYPE, packed,
                                          packed_bytes, &response);
    if (result == HTTP_OK) {
        code = bench_orgs_reply_check(&response);
    } else {
        fprintf(stderr, BENCH_PROGRAM ": %s %s: %s\n",
                result == HTTP_ERR_CONNECT ? "cannot connect to" : "cannot register at",
                options->server_url, http_client_error(client));
        code = result == HTTP_ERR_CONNECT ? BENCH_EXIT_CONNECT : BENCH_EXIT_FAILED;
    }
    http_client_free(client);
    return code;
}

/* Workers --------------------------------------------------------------------------------- */

/* One request's worth of commands, built once and given fresh keys for every request. */
typedef struct bench_batch {
    Fundflow__V1__Command *commands;
    Fundflow__V1__Command **pointers;
    Fundflow__V1__Event *events;
    Fundflow__V1__AllocationIssued *allocations;
    char *keys;
    Fundflow__V1__SubmitCommandsRequest request;
    uint8_t *packed;
    size_t packed_capacity;
} bench_batch;

static void bench_batch_free(bench_batch *batch) {
    free(batch->commands);
    free(batch->pointers);
    free(batch->events);
    free(batch->allocations);
    free(batch->keys);
    free(batch->packed);
}

static bool bench_batch_make(bench_batch *batch, uint32_t size) {
    memset(batch, 0, sizeof *batch);
    batch->commands = calloc(size, sizeof *batch->commands);
    batch->pointers = calloc(size, sizeof *batch->pointers);
    batch->events = calloc(size, sizeof *batch->events);
    batch->allocations = calloc(size, sizeof *batch->allocations);
    batch->keys = calloc(size, BENCH_KEY_BYTES);
    if (!batch->commands || !batch->pointers || !batch->events || !batch->allocations ||
        !batch->keys) {
        bench_batch_free(batch);
        return false;
    }
    for (uint32_t i = 0; i < size; i++) {
        Fundflow__V1__AllocationIssued *allocation = &batch->allocations[i];
        fundflow__v1__allocation_issued__init(allocation);
        allocation->funder_code = (char *)BENCH_FUNDER_CODE;
        allocation->recipient_code = (char *)BENCH_RECIPIENT_CODE;
        allocation->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
        allocation->financial_year = BENCH_FINANCIAL_YEAR;
        allocation->amount_pence = 1;
        allocation->recurrent = true;
        fundflow__v1__event__init(&batch->events[i]);
        batch->events[i].kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
        batch->events[i].allocation_issued = allocation;
        fundflow__v1__command__init(&batch->commands[i]);
        batch->commands[i].idempotency_key = &batch->keys[(size_t)i * BENCH_KEY_BYTES];
        batch->commands[i].effective_date = BENCH_EFFECTIVE_DATE;
        batch->commands[i].event = &batch->events[i];
        batch->pointers[i] = &batch->commands[i];
    }
    fundflow__v1__submit_commands_request__init(&batch->request);
    batch->request.commands = batch->pointers;
    batch->request.n_commands = size;
    return true;
}

/* Packs the one GetPosition request a read worker sends again and again. */
static bool bench_read_pack(bench_batch *batch, size_t *packed_bytes_out) {
    Fundflow__V1__GetPositionRequest get = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    get.org_code = (char *)BENCH_RECIPIENT_CODE;
    get.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    get.financial_year = BENCH_FINANCIAL_YEAR;
    size_t needed = fundflow__v1__get_position_request__get_packed_size(&get);
    if (batch->packed == NULL) {
        batch->packed = malloc(needed);
        if (batch->packed == NULL) return false;
        batch->packed_capacity = needed;
        fundflow__v1__get_position_request__pack(&get, batch->packed);
    }
    *packed_bytes_out = needed;
    return true;
}

/* Gives every command of the batch a key no other request of any run has used, and packs it. */
static bool bench_batch_pack(bench_batch *batch, const bench_setting *setting, unsigned worker,
                             uint64_t request_number, size_t *packed_bytes_out) {
    for (size_t i = 0; i < batch->request.n_commands; i++) {
        int length = snprintf(&batch->keys[i * BENCH_KEY_BYTES], BENCH_KEY_BYTES,
                              "bench-%s-b%" PRIu32 "-w%u-%" PRIu64 "-%zu", setting->run_id,
                              setting->batch_size, worker, request_number, i);
        assert(length > 0 && length < BENCH_KEY_BYTES);
        (void)length;
    }
    size_t needed = fundflow__v1__submit_commands_request__get_packed_size(&batch->request);
    if (needed > batch->packed_capacity) {
        uint8_t *grown = realloc(batch->packed, needed);
        if (grown == NULL) return false;
        batch->packed = grown;
        batch->packed_capacity = needed;
    }
    *packed_bytes_out = fundflow__v1__submit_commands_request__pack(&batch->request, batch->packed);
    assert(*packed_bytes_out == needed);
    return true;
}

static void bench_error_keep(bench_worker *worker, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void bench_error_keep(bench_worker *worker, const char *format, ...) {
    if (worker->first_error[0] != '\0') return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(worker->first_error, sizeof worker->first_error, format, arguments);
    va_end(arguments);
}

static bool bench_latency_record(bench_worker *worker, int64_t latency_us) {
    if (worker->latency_count == worker->latency_capacity) {
        size_t capacity = worker->latency_capacity ? worker->latency_capacity * 2 : 4096;
        uint32_t *grown = realloc(worker->latencies_us, capacity * sizeof *grown);
        if (grown == NULL) return false;
        worker->latencies_us = grown;
        worker->latency_capacity = capacity;
    }
    worker->latencies_us[worker->latency_count++] =
        latency_us > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_us;
    return true;
}

/* Counts what became of one answered request's commands. */
static void bench_response_count(bench_worker *worker, const http_response *response,
                                 size_t command_count) {
    if (response->status != 200) {
        worker->commands_refused += command_count;
        bench_error_keep(worker, "HTTP %d: %.*s", response->status,
                         (int)(response->body_bytes < 200 ? response->body_bytes : 200),
                         (const char *)response->body);
        return;
    }
    Fundflow__V1__SubmitCommandsResponse *reply = fundflow__v1__submit_commands_response__unpack(
        NULL, response->body_bytes, response->body);
    if (reply == NULL || reply->n_results != command_count) {
        worker->commands_refused += command_count;
        bench_error_keep(worker, "a reply that does not answer each command");
    } else {
        for (size_t i = 0; i < reply->n_results; i++) {
            const Fundflow__V1__CommandResult *result = reply->results[i];
            bool recorded = strcmp(result->code, "ok") == 0 && !result->idempotent_replay;
            if (recorded) worker->commands_recorded++;
            else worker->commands_refused++;
            if (!recorded) bench_error_keep(worker, "%s: %s", result->code, result->message);
        }
    }
    if (reply != NULL) fundflow__v1__submit_commands_response__free_unpacked(reply, NULL);
}

/* Counts one answered read: a 200 with a Position in it. */
static void bench_read_count(bench_worker *worker, const http_response *response) {
    Fundflow__V1__Position *position =
        response->status == 200
            ? fundflow__v1__position__unpack(NULL, response->body_bytes, response->body)
            : NULL;
    if (position != NULL) worker->commands_recorded++;
    else worker->commands_refused++;
    if (position == NULL) {
        bench_error_keep(worker, "GetPosition: HTTP %d: %.*s", response->status,
                         (int)(response->body_bytes < 200 ? response->body_bytes : 200),
                         (const char *)response->body);
    }
    if (position != NULL) fundflow__v1__position__free_unpacked(position, NULL);
}

/* Sends one request and counts it. Returns false when the worker should stop. */
static bool bench_request_send(bench_worker *worker, http_client *client, bench_batch *batch,
                               unsigned *failures_in_a_row) {
    size_t packed_bytes = 0;
    bool reads = worker->setting->options->reads;
    bool packed = reads ? bench_read_pack(batch, &packed_bytes)
                        : bench_batch_pack(batch, worker->setting, worker->index,
                                           worker->requests, &packed_bytes);
    if (!packed) {
        bench_error_keep(worker, "out of memory");
        return false;
    }
    http_response response;
    int64_t started_us = bench_monotonic_us();
    http_result result =
        http_client_post(client, reads ? BENCH_POSITION_PATH : BENCH_SUBMIT_PATH,
                         BENCH_CONTENT_TYPE, batch->packed, packed_bytes, &response);
    int64_t latency_us = bench_monotonic_us() - started_us;
    worker->requests++;
    if (result != HTTP_OK) {
        worker->transport_failures++;
        bench_error_keep(worker, "%s", http_client_error(client));
        return ++*failures_in_a_row < BENCH_TRANSPORT_FAILURES_IN_A_ROW_MAX;
    }
    *failures_in_a_row = 0;
    if (worker->setting->options->reads) bench_read_count(worker, &response);
    else bench_response_count(worker, &response, batch->request.n_commands);
    if (!bench_latency_record(worker, latency_us)) {
        bench_error_keep(worker, "out of memory for latencies");
        return false;
    }
    return true;
}

static void *bench_worker_main(void *argument) {
    bench_worker *worker = argument;
    bench_setting *setting = worker->setting;
    http_client *client = NULL;
    bench_batch batch;
    if (!bench_batch_make(&batch, setting->batch_size)) {
        bench_error_keep(worker, "out of memory");
        return NULL;
    }
    http_client_options client_options = {.token = setting->options->token};
    char error[HTTP_CLIENT_ERROR_BYTES];
    if (http_client_create(setting->options->server_url, &client_options, &client, error,
                           sizeof error) != HTTP_OK) {
        bench_error_keep(worker, "%s", error);
        goto done;
    }
    unsigned failures_in_a_row = 0;
    /* Bounded twice: by the setting's deadline, and by the requests it may claim in all. */
    while (bench_monotonic_us() / 1000 < setting->deadline_ms) {
        uint64_t claimed = atomic_fetch_add(&setting->requests_claimed, 1);
        if (claimed >= setting->options->requests_max) break;
        if (!bench_request_send(worker, client, &batch, &failures_in_a_row)) break;
    }
done:
    http_client_free(client);
    bench_batch_free(&batch);
    return NULL;
}

/* Settings -------------------------------------------------------------------------------- */

static int bench_latency_compare(const void *left, const void *right) {
    uint32_t a = *(const uint32_t *)left, b = *(const uint32_t *)right;
    return (a > b) - (a < b);
}

/* The nearest-rank percentile of sorted latencies, in milliseconds. */
static double bench_percentile_ms(const uint32_t *sorted, size_t count, unsigned percent) {
    if (count == 0) return 0.0;
    size_t rank = ((size_t)percent * count + 99) / 100;
    if (rank == 0) rank = 1;
    return (double)sorted[rank - 1] / 1000.0;
}

/* Adds up the workers into the setting's row. */
static bool bench_row_fill(bench_row *row, const bench_worker *workers, size_t worker_count) {
    size_t latency_count = 0;
    for (size_t i = 0; i < worker_count; i++) {
        row->requests += workers[i].requests;
        row->commands_recorded += workers[i].commands_recorded;
        row->commands_refused += workers[i].commands_refused;
        row->transport_failures += workers[i].transport_failures;
        latency_count += workers[i].latency_count;
    }
    uint32_t *all = malloc((latency_count ? latency_count : 1) * sizeof *all);
    if (all == NULL) return false;
    size_t filled = 0;
    for (size_t i = 0; i < worker_count; i++) {
        memcpy(all + filled, workers[i].latencies_us, workers[i].latency_count * sizeof *all);
        filled += workers[i].latency_count;
    }
    assert(filled == latency_count);
    qsort(all, latency_count, sizeof *all, bench_latency_compare);
    row->p50_ms = bench_percentile_ms(all, latency_count, 50);
    row->p99_ms = bench_percentile_ms(all, latency_count, 99);
    row->max_ms = latency_count ? (double)all[latency_count - 1] / 1000.0 : 0.0;
    free(all);
    return true;
}

static void bench_workers_report(const bench_worker *workers, size_t worker_count) {
    for (size_t i = 0; i < worker_count; i++) {
        if (workers[i].first_error[0] != '\0') {
            fprintf(stderr, BENCH_PROGRAM ": batch %" PRIu32 ", connection %zu: first problem: "
                            "%s\n",
                    workers[i].setting->batch_size, i, workers[i].first_error);
        }
    }
}

/* Runs one batch size on every connection and fills its row. Failed requests are counted in the
 * row, not returned: the exit code says only whether the setting could run at all. */
static int bench_setting_run(const bench_options *options, uint32_t batch_size,
                             const char *run_id, bench_row *row) {
    memset(row, 0, sizeof *row);
    row->batch_size = batch_size;
    bench_worker *workers = calloc(options->connections, sizeof *workers);
    if (workers == NULL) return BENCH_EXIT_FAILED;
    bench_setting setting = {.options = options, .batch_size = batch_size, .run_id = run_id};
    atomic_init(&setting.requests_claimed, 0);
    int64_t started_us = bench_monotonic_us();
    setting.deadline_ms = started_us / 1000 + (int64_t)options->seconds * 1000;
    size_t started = 0;
    for (; started < options->connections; started++) {
        workers[started].setting = &setting;
        workers[started].index = (unsigned)started;
        if (pthread_create(&workers[started].thread, NULL, bench_worker_main,
                           &workers[started]) != 0) {
            break;
        }
    }
    for (size_t i = 0; i < started; i++) pthread_join(workers[i].thread, NULL);
    row->seconds = (double)(bench_monotonic_us() - started_us) / 1e6;
    bool filled = bench_row_fill(row, workers, started);
    bench_workers_report(workers, started);
    for (size_t i = 0; i < started; i++) free(workers[i].latencies_us);
    free(workers);
    if (started < options->connections || !filled) {
        fprintf(stderr, BENCH_PROGRAM ": could not start %u threads or sum their results\n",
                options->connections);
        return BENCH_EXIT_FAILED;
    }
    return BENCH_EXIT_OK;
}

static void bench_rows_print(const bench_options *options, const bench_row *rows,
                             size_t row_count) {
    printf("%6s %11s %9s %10s %11s %9s %9s %9s %8s %8s\n", "batch", "connections", "requests",
           "commands", "commands/s", "p50 ms", "p99 ms", "max ms", "refused", "failed");
    for (size_t i = 0; i < row_count; i++) {
        const bench_row *row = &rows[i];
        double rate = row->seconds > 0 ? (double)row->commands_recorded / row->seconds : 0.0;
        if (options->reads) printf("%6s", "read");
        else printf("%6" PRIu32, row->batch_size);
        printf(" %11" PRIu32 " %9" PRIu64 " %10" PRIu64 " %11.0f %9.3f %9.3f %9.3f "
               "%8" PRIu64 " %8" PRIu64 "\n",
               options->connections, row->requests, row->commands_recorded,
               rate, row->p50_ms, row->p99_ms, row->max_ms, row->commands_refused,
               row->transport_failures);
    }
}

int main(int argc, char **argv) {
    if (tool_version_print_if_asked(BENCH_PROGRAM, argc, argv)) return BENCH_EXIT_OK;
    bench_options options;
    int code = bench_arguments_parse(argc, argv, &options);
    if (code >= 0) return code;
    char run_id[24];
    if (!bench_run_id_make(run_id, sizeof run_id)) return BENCH_EXIT_FAILED;
    code = bench_orgs_register(&options);
    if (code != BENCH_EXIT_OK) return code;
    printf(BENCH_PROGRAM " against %s: %u connections, up to %u s or %" PRIu64 " requests per "
                         "batch size; %s, run %s\n\n",
           options.server_url, options.connections, options.seconds, options.requests_max,
           options.reads ? "GetPosition of " BENCH_RECIPIENT_CODE
                         : "1p allocations " BENCH_FUNDER_CODE " -> " BENCH_RECIPIENT_CODE,
           run_id);
    /* Reads have no batch size: one setting, whose "batch" is the one request. */
    if (options.reads) options.batch_size_count = 1, options.batch_sizes[0] = 1;
    fflush(stdout);
    bench_row rows[BENCH_BATCH_SIZES_MAX];
    size_t row_count = 0;
    for (size_t i = 0; i < options.batch_size_count && code == BENCH_EXIT_OK; i++) {
        code = bench_setting_run(&options, options.batch_sizes[i], run_id, &rows[row_count]);
        row_count++;
    }
    bench_rows_print(&options, rows, row_count);
    for (size_t i = 0; i < row_count && code == BENCH_EXIT_OK; i++) {
        if (rows[i].commands_refused > 0 || rows[i].transport_failures > 0) {
            code = BENCH_EXIT_FAILED;
        }
    }
    return code;
}
