/* fundflow submit: reads newline-delimited JSON Commands, checks every line, then sends them in
 * SubmitCommands batches and sums up what became of each. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_output.h"
#include "json_codec.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* One line of the file. A Command's longest JSON, with every text field at its limit and every
 * character escaped, is under 8 KiB; 64 KiB leaves room for unknown fields and whitespace. */
#ifndef CLI_SUBMIT_LINE_BYTES_MAX
#define CLI_SUBMIT_LINE_BYTES_MAX (64u << 10)
#endif

/* Commands in one file. Every line is read and checked before the first is sent, so they are all
 * held in memory at once: a million commands is a few hundred MiB. */
#ifndef CLI_SUBMIT_COMMANDS_MAX
#define CLI_SUBMIT_COMMANDS_MAX (1u << 20)
#endif

/* How often a batch refused because the server's write queue is full is sent again, and the
 * first pause; each pause doubles, so the last of five waits 1.6 s. */
#define CLI_SUBMIT_RETRIES_MAX 5
#define CLI_SUBMIT_RETRY_PAUSE_MS_FIRST 100

/* Bytes kept of each text in a refusal made from a Twirp error. */
#define CLI_SUBMIT_TEXT_BYTES 256

/* A command result made on the client from a Twirp error, for a batch that was refused whole. */
typedef struct cli_made_result {
    Fundflow__V1__CommandResult result;
    char code[CLI_SUBMIT_TEXT_BYTES];
    char twirp_code[CLI_SUBMIT_TEXT_BYTES];
    char field[CLI_SUBMIT_TEXT_BYTES];
    char message[CLI_SUBMIT_TEXT_BYTES];
    char account[CLI_SUBMIT_TEXT_BYTES];
} cli_made_result;

typedef struct cli_submit_state {
    Fundflow__V1__Command **commands; /* decoded from the file, in order */
    size_t *line_numbers;             /* the line each command came from */
    size_t command_count;
    size_t command_capacity;
    Fundflow__V1__CommandResult **results; /* one per command sent, in order */
    size_t result_count;
    ProtobufCMessage **replies; /* decoded replies, which own most results */
    size_t reply_count;
    cli_made_result **made; /* results made from Twirp errors */
    size_t made_count;
    uint64_t head_sequence;
    bool stopped; /* a batch failed as a whole, or a linked batch was refused */
} cli_submit_state;

/* Reading ----------------------------------------------------------------------------------- */

static bool cli_submit_command_keep(cli_submit_state *state, Fundflow__V1__Command *command,
                                    size_t line_number) {
    if (state->command_count == state->command_capacity) {
        size_t capacity = state->command_capacity ? state->command_capacity * 2 : 256;
        Fundflow__V1__Command **commands = realloc(state->commands, capacity * sizeof *commands);
        if (commands != NULL) state->commands = commands;
        size_t *lines = realloc(state->line_numbers, capacity * sizeof *lines);
        if (lines != NULL) state->line_numbers = lines;
        if (commands == NULL || lines == NULL) return false;
        state->command_capacity = capacity;
    }
    state->commands[state->command_count] = command;
    state->line_numbers[state->command_count++] = line_number;
    return true;
}

static bool cli_line_blank(const char *line) {
    return line[strspn(line, " \t\r\n")] == '\0';
}

/* Decodes one line, or says what is wrong with it and returns the usage exit code. */
static int cli_submit_line_read(cli_submit_state *state, const char *path, const char *line,
                                size_t line_number) {
    if (state->command_count == CLI_SUBMIT_COMMANDS_MAX) {
        fprintf(stderr, CLI_PROGRAM " submit: %s line %zu: more than %u commands; split the "
                                    "file\n",
                path, line_number, CLI_SUBMIT_COMMANDS_MAX);
        return CLI_EXIT_USAGE;
    }
    ProtobufCMessage *decoded = NULL;
    char error[512] = "";
    if (json_codec_decode(&fundflow__v1__command__descriptor, line, strlen(line), &decoded, error,
                          sizeof error) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM " submit: %s line %zu is not a Command: %s\n", path,
                line_number, error[0] ? error : "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (!cli_submit_command_keep(state, (Fundflow__V1__Command *)decoded, line_number)) {
        protobuf_c_message_free_unpacked(decoded, NULL);
        fprintf(stderr, CLI_PROGRAM " submit: out of memory at line %zu\n", line_number);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

/* Reads every line of the file before anything is sent, so a bad line sends nothing. */
static int cli_submit_file_read(cli_submit_state *state, const char *path) {
    bool from_stdin = strcmp(path, "-") == 0;
    FILE *file = from_stdin ? stdin : fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, CLI_PROGRAM " submit: cannot open %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    static char line[CLI_SUBMIT_LINE_BYTES_MAX + 2];
    int code = CLI_EXIT_OK;
    size_t line_number = 0;
    while (code == CLI_EXIT_OK && fgets(line, sizeof line, file) != NULL) {
        line_number++;
        size_t length = strlen(line);
        if (length > CLI_SUBMIT_LINE_BYTES_MAX && line[length - 1] != '\n') {
            fprintf(stderr, CLI_PROGRAM " submit: %s line %zu is longer than %u bytes\n", path,
                    line_number, CLI_SUBMIT_LINE_BYTES_MAX);
            code = CLI_EXIT_USAGE;
        } else if (!cli_line_blank(line)) {
            code = cli_submit_line_read(state, path, line, line_number);
        }
    }
    if (code == CLI_EXIT_OK && ferror(file)) {
        fprintf(stderr, CLI_PROGRAM " submit: cannot read %s: %s\n", path, strerror(errno));
        code = CLI_EXIT_USAGE;
    }
    if (!from_stdin) fclose(file);
    return code;
}

/* Results ----------------------------------------------------------------------------------- */

static void cli_text_copy(char *target, const char *text) {
    snprintf(target, CLI_SUBMIT_TEXT_BYTES, "%s", text ? text : "");
}

/* A result made on the client; NULL if memory runs out. */
static Fundflow__V1__CommandResult *cli_made_result_add(cli_submit_state *state, const char *code,
                                                        const char *twirp_code,
                                                        const char *field, const char *message) {
    cli_made_result **made = realloc(state->made, (state->made_count + 1) * sizeof *made);
    if (made == NULL) return NULL;
    state->made = made;
    cli_made_result *added = calloc(1, sizeof *added);
    if (added == NULL) return NULL;
    state->made[state->made_count++] = added;
    fundflow__v1__command_result__init(&added->result);
    cli_text_copy(added->code, code);
    cli_text_copy(added->twirp_code, twirp_code);
    cli_text_copy(added->field, field);
    cli_text_copy(added->message, message);
    added->result.code = added->code;
    added->result.twirp_code = added->twirp_code;
    added->result.field = added->field;
    added->result.message = added->message;
    added->result.account = added->account;
    return &added->result;
}

/* Whether the error names a problem with the request as a whole rather than with one command.
 * Today fundflowd leaves meta "error" out of these; naming them here keeps the client right if
 * it starts to send it. */
static bool cli_error_is_batch_level(const char *error) {
    static const ff_err batch_level[] = {
        FF_ERR_QUEUE_FULL,        FF_ERR_CONNECTIONS_FULL, FF_ERR_TOO_LARGE,
        FF_ERR_BATCH_TOO_LARGE,   FF_ERR_SHUTTING_DOWN,    FF_ERR_UNAUTHENTICATED,
        FF_ERR_PERMISSION_DENIED, FF_ERR_MALFORMED,        FF_ERR_BAD_ROUTE,
    };
    for (size_t i = 0; i < sizeof batch_level / sizeof batch_level[0]; i++) {
        if (strcmp(error, ff_err_name(batch_level[i])) == 0) return true;
    }
    return false;
}

/* Turns a Twirp error naming one refused command (meta "error", and "index" in a batch of more
 * than one) into a result for each command of the batch. Returns false if the error names no
 * command, or memory runs out. */
static bool cli_refusal_spread(cli_submit_state *state, const cli_reply *reply, size_t count) {
    const char *error = cli_reply_error_meta(reply, "error");
    const char *index_text = cli_reply_error_meta(reply, "index");
    size_t index = index_text ? (size_t)strtoull(index_text, NULL, 10) : 0;
    if (error == NULL || cli_error_is_batch_level(error) || index >= count) return false;
    Fundflow__V1__CommandResult *refused = cli_made_result_add(
        state, error, cli_reply_error_field(reply, "code"), cli_reply_error_meta(reply, "field"),
        cli_reply_error_field(reply, "msg"));
    Fundflow__V1__CommandResult *aborted =
        count > 1 ? cli_made_result_add(state, ff_err_name(FF_ERR_LINKED_COMMAND_FAILED),
                                        ff_err_twirp_code(FF_ERR_LINKED_COMMAND_FAILED), "",
                                        ff_strerror(FF_ERR_LINKED_COMMAND_FAILED))
                  : NULL;
    if (refused == NULL || (count > 1 && aborted == NULL)) return false;
    cli_text_copy(((cli_made_result *)refused)->account, cli_reply_error_meta(reply, "account"));
    const char *headroom = cli_reply_error_meta(reply, "headroom_pence");
    if (headroom != NULL) refused->headroom_pence = strtoll(headroom, NULL, 10);
    for (size_t i = 0; i < count; i++) {
        state->results[state->result_count++] = i == index ? refused : aborted;
    }
    return true;
}

/* Keeps a 200 reply and its results. Returns false if it does not answer every command. */
static bool cli_reply_results_keep(cli_submit_state *state, cli_reply *reply, size_t count) {
    Fundflow__V1__SubmitCommandsResponse *response =
        (Fundflow__V1__SubmitCommandsResponse *)reply->message;
    if (response->n_results != count) return false;
    ProtobufCMessage **replies =
        realloc(state->replies, (state->reply_count + 1) * sizeof *replies);
    if (replies == NULL) return false;
    state->replies = replies;
    state->replies[state->reply_count++] = reply->message;
    reply->message = NULL;
    for (size_t i = 0; i < count; i++) state->results[state->result_count++] = response->results[i];
    if (response->head_sequence > state->head_sequence) {
        state->head_sequence = response->head_sequence;
    }
    return true;
}

/* Sending ----------------------------------------------------------------------------------- */

/* Whether a whole-batch refusal is the server asking for a pause: a full write queue or
 * connection table, which today answer resource_exhausted with empty meta. */
static bool cli_reply_asks_retry(const cli_reply *reply) {
    const char *code = cli_reply_error_field(reply, "code");
    const char *error = cli_reply_error_meta(reply, "error");
    json_t *meta = reply->error ? json_object_get(reply->error, "meta") : NULL;
    if (error != NULL) {
        return strcmp(error, ff_err_name(FF_ERR_QUEUE_FULL)) == 0 ||
               strcmp(error, ff_err_name(FF_ERR_CONNECTIONS_FULL)) == 0;
    }
    return code != NULL && strcmp(code, "resource_exhausted") == 0 &&
           (meta == NULL || json_object_size(meta) == 0);
}

static void cli_pause_ms(long pause_ms) {
    struct timespec pause = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) continue;
}

/* Sends commands [start, start + count) as one batch, retrying while the server is busy. */
static int cli_batch_send(cli_submit_state *state, const cli_options *options,
                          cli_session *session, size_t start, size_t count) {
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = &state->commands[start];
    request.n_commands = count;
    request.linked = options->linked;
    cli_reply reply = {0};
    int code = CLI_EXIT_OK;
    for (int attempt = 0; attempt <= CLI_SUBMIT_RETRIES_MAX; attempt++) {
        if (attempt > 0) cli_pause_ms(CLI_SUBMIT_RETRY_PAUSE_MS_FIRST << (attempt - 1));
        cli_reply_release(&reply);
        code = cli_rpc_call(session, "SubmitCommands", &request.base,
                            &fundflow__v1__submit_commands_response__descriptor, &reply);
        if (code != CLI_EXIT_OK || reply.http_status == 200 || !cli_reply_asks_retry(&reply)) {
            break;
        }
    }
    if (code == CLI_EXIT_OK && reply.http_status == 200) {
        if (!cli_reply_results_keep(state, &reply, count)) {
            fprintf(stderr, CLI_PROGRAM " submit: the reply for lines %zu to %zu does not "
                                        "answer each command\n",
                    state->line_numbers[start], state->line_numbers[start + count - 1]);
            code = CLI_EXIT_FAILED;
        }
    } else if (code == CLI_EXIT_OK && !cli_refusal_spread(state, &reply, count)) {
        /* The batch was refused as a whole, not for one command: nothing more can go. */
        fprintf(stderr, CLI_PROGRAM " submit: the batch of lines %zu to %zu was refused:\n",
                state->line_numbers[start], state->line_numbers[start + count - 1]);
        code = cli_reply_refusal_report(session, &reply);
        state->stopped = true;
    } else if (code == CLI_EXIT_OK && options->linked) {
        state->stopped = true;
    }
    cli_reply_release(&reply);
    return code;
}

static int cli_batches_send(cli_submit_state *state, const cli_options *options,
                            cli_session *session) {
    bool progress = isatty(STDERR_FILENO) != 0;
    int code = CLI_EXIT_OK;
    for (size_t start = 0; start < state->command_count && !state->stopped;
         start += options->batch_size) {
        size_t left = state->command_count - start;
        size_t count = left < options->batch_size ? left : (size_t)options->batch_size;
        code = cli_batch_send(state, options, session, start, count);
        if (progress) {
            fprintf(stderr, "\rsent %zu of %zu commands", start + count, state->command_count);
        }
        if (code != CLI_EXIT_OK) break;
    }
    if (progress) fputc('\n', stderr);
    return code;
}

/* Output ------------------------------------------------------------------------------------ */

typedef struct cli_submit_tally {
    size_t recorded;
    size_t already_present;
    size_t refused;
} cli_submit_tally;

static void cli_submit_tally_count(const cli_submit_state *state, cli_submit_tally *tally) {
    memset(tally, 0, sizeof *tally);
    for (size_t i = 0; i < state->result_count; i++) {
        const Fundflow__V1__CommandResult *result = state->results[i];
        if (strcmp(result->code, "ok") != 0) tally->refused++;
        else if (result->idempotent_replay) tally->already_present++;
        else tally->recorded++;
    }
    assert(tally->recorded + tally->already_present + tally->refused == state->result_count);
}

static void cli_submit_summary_print(const cli_submit_state *state,
                                     const cli_submit_tally *tally) {
    cli_field_print("commands read", "%zu", state->command_count);
    cli_field_print("sent", "%zu", state->result_count);
    cli_field_print("recorded", "%zu", tally->recorded);
    cli_field_print("already present", "%zu", tally->already_present);
    cli_field_print("refused", "%zu", tally->refused);
    if (state->result_count < state->command_count) {
        cli_field_print("not sent", "%zu", state->command_count - state->result_count);
    }
    if (state->head_sequence != 0) cli_field_print("head sequence", "%" PRIu64,
                                                   state->head_sequence);
    if (tally->refused == 0) return;
    printf("\nrefused commands:\n");
    for (size_t i = 0; i < state->result_count; i++) {
        const Fundflow__V1__CommandResult *result = state->results[i];
        if (strcmp(result->code, "ok") == 0) continue;
        printf("  line %zu: %s (%s), field %s: %s\n", state->line_numbers[i], result->code,
               result->twirp_code[0] ? result->twirp_code : "-",
               result->field[0] ? result->field : "-", result->message);
    }
}

/* Prints every result sent as one SubmitCommandsResponse, written as the server writes them. */
static int cli_submit_json_print(const cli_submit_state *state) {
    Fundflow__V1__SubmitCommandsResponse merged = FUNDFLOW__V1__SUBMIT_COMMANDS_RESPONSE__INIT;
    merged.results = state->results;
    merged.n_results = state->result_count;
    merged.head_sequence = state->head_sequence;
    char *text = NULL;
    size_t text_bytes = 0;
    if (json_codec_encode(&merged.base, &text, &text_bytes) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM " submit: out of memory\n");
        return CLI_EXIT_FAILED;
    }
    cli_reply combined = {.body = text, .body_bytes = text_bytes};
    cli_reply_json_print(&combined);
    free(text);
    return CLI_EXIT_OK;
}

static void cli_submit_state_free(cli_submit_state *state) {
    for (size_t i = 0; i < state->command_count; i++) {
        protobuf_c_message_free_unpacked(&state->commands[i]->base, NULL);
    }
    for (size_t i = 0; i < state->reply_count; i++) {
        protobuf_c_message_free_unpacked(state->replies[i], NULL);
    }
    for (size_t i = 0; i < state->made_count; i++) free(state->made[i]);
    free(state->commands);
    free(state->line_numbers);
    free(state->results);
    free(state->replies);
    free(state->made);
}

int cli_submit_run(const cli_options *options, cli_session *session) {
    assert(options->batch_size >= 1 && options->batch_size <= FF_BATCH_COMMANDS_MAX);
    cli_submit_state state;
    memset(&state, 0, sizeof state);
    int code = cli_submit_file_read(&state, options->operand);
    if (code != CLI_EXIT_OK) goto done;
    state.results = calloc(state.command_count ? state.command_count : 1, sizeof *state.results);
    if (state.results == NULL) {
        fprintf(stderr, CLI_PROGRAM " submit: out of memory\n");
        code = CLI_EXIT_FAILED;
        goto done;
    }
    code = cli_batches_send(&state, options, session);
    cli_submit_tally tally;
    cli_submit_tally_count(&state, &tally);
    /* A whole-batch refusal has already been printed as the one JSON document. */
    bool whole_batch_refused = state.stopped && code != CLI_EXIT_OK;
    if (session->json && !whole_batch_refused) {
        int printed = cli_submit_json_print(&state);
        if (code == CLI_EXIT_OK) code = printed;
    } else if (!session->json) {
        cli_submit_summary_print(&state, &tally);
    }
    if (code == CLI_EXIT_OK && tally.refused > 0) code = CLI_EXIT_REFUSED;
done:
    cli_submit_state_free(&state);
    return code;
}
