/* fundflow import: reads a CSV file through a mapping, makes every row a command with the write
 * subcommand's own parsers (cli_import_rows.c), sends them as one all-or-nothing batch or, with
 * --independent, in batches that record the good rows, and reports row by row what became of
 * each through the listings' export model. */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "cli_export.h"
#include "cli_import.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Rows from which progress is shown on a terminal: fewer are read and sent in a moment. */
#ifndef CLI_IMPORT_PROGRESS_ROWS_MIN
#define CLI_IMPORT_PROGRESS_ROWS_MIN 2000u
#endif

/* Rows read between updates of the progress line. */
#define CLI_IMPORT_PROGRESS_EVERY 500u

/* Bytes of a row's idempotency key: "import-", 32 hex digits, "-", the line and a NUL. */
#define CLI_IMPORT_KEY_BYTES 64
_Static_assert(CLI_IMPORT_KEY_BYTES - 1 <= FF_IDEMPOTENCY_KEY_BYTES_MAX,
               "an import key fits the ledger's limit");

/* Bytes of the digest of a file's name and content that its rows' keys share, in hex. */
#define CLI_IMPORT_KEY_DIGEST_HEX 32

typedef enum cli_import_outcome {
    CLI_IMPORT_PENDING = 0,   /* read, not yet sent */
    CLI_IMPORT_RECORDED,
    CLI_IMPORT_ALREADY,       /* recorded before under the same key */
    CLI_IMPORT_WOULD_RECORD,  /* --dry-run */
    CLI_IMPORT_REFUSED,
    CLI_IMPORT_NOT_RECORDED,  /* an all-or-nothing batch failed on another row */
} cli_import_outcome;

typedef struct cli_import_row {
    size_t line;
    char *reference;                 /* owned, or NULL */
    Fundflow__V1__Command *command;  /* owned; NULL for a row refused as it was read */
    cli_import_outcome outcome;
    uint64_t sequence;
    char *field;                     /* owned, or NULL */
    char *reason;                    /* owned, or NULL */
} cli_import_row;

typedef struct cli_import_state {
    const cli_options *options;
    cli_session *session;
    const cli_import_kind *kind;
    mapping *map;
    mapped_reader *reader;
    char key_digest[CLI_IMPORT_KEY_DIGEST_HEX + 1];
    cli_import_row *rows;
    size_t row_count, row_capacity;
    size_t refused_reading; /* rows refused before anything was sent */
    bool progress;
} cli_import_state;

/* Reading ------------------------------------------------------------------------------------- */

/* The digest every row's key starts from: SHA-256 of the file's name, a NUL and the file's own
 * SHA-256, so the same file under the same name always gives the same keys. */
static void cli_import_key_digest_make(cli_import_state *state) {
    const char *name = mapped_reader_file_name(state->reader);
    size_t name_bytes = strlen(name) + 1;
    uint8_t input[PATH_MAX + SHA256_DIGEST_LENGTH], digest[SHA256_DIGEST_LENGTH];
    if (name_bytes > PATH_MAX) name_bytes = PATH_MAX;
    memcpy(input, name, name_bytes);
    memcpy(input + name_bytes, mapped_reader_file_sha256(state->reader), SHA256_DIGEST_LENGTH);
    SHA256(input, name_bytes + SHA256_DIGEST_LENGTH, digest);
    for (size_t i = 0; i < CLI_IMPORT_KEY_DIGEST_HEX / 2; i++) {
        snprintf(state->key_digest + 2 * i, 3, "%02x", digest[i]);
    }
}

static char *cli_import_copy(const char *text) {
    return text ? strdup(text) : NULL;
}

static cli_import_row *cli_import_row_new(cli_import_state *state, size_t line) {
    if (state->row_count == state->row_capacity) {
        size_t capacity = state->row_capacity ? state->row_capacity * 2 : 256;
        cli_import_row *rows = realloc(state->rows, capacity * sizeof *rows);
        if (rows == NULL) return NULL;
        state->rows = rows;
        state->row_capacity = capacity;
    }
    cli_import_row *row = &state->rows[state->row_count++];
    memset(row, 0, sizeof *row);
    row->line = line;
    return row;
}

static bool cli_import_row_refuse(cli_import_row *row, cli_import_outcome outcome,
                                  const char *field, const char *reason) {
    row->outcome = outcome;
    free(row->field), free(row->reason);
    row->field = cli_import_copy(field);
    row->reason = cli_import_copy(reason);
    return row->reason != NULL;
}

static void cli_import_progress(const cli_import_state *state, const char *doing, size_t done,
                                size_t total) {
    if (state->progress) fprintf(stderr, "\r%s %zu of %zu rows", doing, done, total);
}

static int cli_import_row_read(cli_import_state *state, const mapped_row *mapped) {
    cli_import_row *row = cli_import_row_new(state, mapped->line);
    if (row == NULL) return CLI_EXIT_FAILED;
    if (mapped->reference != NULL) {
        char shown[CLI_IMPORT_VALUE_SHOWN_BYTES];
        row->reference = strdup(cli_import_text_shorten(mapped->reference, shown, sizeof shown));
        if (row->reference == NULL) return CLI_EXIT_FAILED;
    }
    char key[CLI_IMPORT_KEY_BYTES];
    snprintf(key, sizeof key, "import-%s-%zu", state->key_digest, mapped->line);
    cli_import_parsed parsed;
    if (cli_import_row_parse(state->kind, state->map, mapped, key, state->session, &parsed)) {
        row->command = parsed.command;
        return CLI_EXIT_OK;
    }
    if (parsed.reason[0] == '\0') return CLI_EXIT_FAILED;
    state->refused_reading++;
    return cli_import_row_refuse(row, CLI_IMPORT_REFUSED, parsed.field, parsed.reason)
               ? CLI_EXIT_OK
               : CLI_EXIT_FAILED;
}

static int cli_import_rows_read(cli_import_state *state) {
    size_t total = mapped_reader_row_count(state->reader);
    mapped_row mapped;
    ff_err err;
    while ((err = mapped_reader_next(state->reader, &mapped)) == FF_OK) {
        int code = cli_import_row_read(state, &mapped);
        if (code != CLI_EXIT_OK) {
            fprintf(stderr, CLI_PROGRAM ": out of memory reading line %zu\n", mapped.line);
            return code;
        }
        if (state->row_count % CLI_IMPORT_PROGRESS_EVERY == 0) {
            cli_import_progress(state, "read", state->row_count, total);
        }
    }
    if (err != FF_ERR_EVENT_UNKNOWN) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", mapped_reader_error(state->reader));
        return CLI_EXIT_USAGE;
    }
    if (state->row_count == 0) {
        fprintf(stderr, CLI_PROGRAM ": %s has no rows to import\n", state->options->operand);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Opening ------------------------------------------------------------------------------------- */

/* The kind from --kind or the mapping's "kind =" line; if both, they must agree. */
static int cli_import_kind_choose(cli_import_state *state) {
    const char *named = mapping_directive(state->map, "kind");
    const cli_import_kind *from_flag = cli_import_kind_get(state->options->import_kind);
    const cli_import_kind *from_mapping = named ? cli_import_kind_find(named) : NULL;
    if (named && from_mapping == NULL) {
        fprintf(stderr, CLI_PROGRAM ": %s: kind \"%s\" is not a kind of import: allocations, "
                        "budgets, contracts, payments, outcomes, statements or plans\n",
                state->options->mapping_path, named);
        return CLI_EXIT_USAGE;
    }
    if (from_flag && from_mapping && from_flag != from_mapping) {
        fprintf(stderr, CLI_PROGRAM ": --kind %s, but %s says kind = %s\n", from_flag->name,
                state->options->mapping_path, named);
        return CLI_EXIT_USAGE;
    }
    state->kind = from_flag ? from_flag : from_mapping;
    if (state->kind == NULL) {
        fprintf(stderr, CLI_PROGRAM ": import needs --kind KIND (or \"kind =\" in the mapping); "
                        "see " CLI_PROGRAM " import --help\n");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int cli_import_open(cli_import_state *state) {
    char error[MAPPING_ERROR_BYTES];
    const cli_options *options = state->options;
    if (mapping_load(options->mapping_path, &state->map, error, sizeof error) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_USAGE;
    }
    int code = cli_import_kind_choose(state);
    if (code != CLI_EXIT_OK) return code;
    if (!cli_import_mapping_check(state->kind, state->map, options->mapping_path)) {
        return CLI_EXIT_USAGE;
    }
    if (mapped_reader_open(options->operand, state->map, &state->reader, error, sizeof error) !=
        FF_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_USAGE;
    }
    size_t rows = mapped_reader_row_count(state->reader);
    if (!options->independent && rows > FF_BATCH_COMMANDS_MAX) {
        fprintf(stderr, CLI_PROGRAM ": %s has %zu rows, more than the %d one all-or-nothing "
                        "batch may hold; import it with --independent, or in parts\n",
                options->operand, rows, FF_BATCH_COMMANDS_MAX);
        return CLI_EXIT_USAGE;
    }
    state->progress = isatty(STDERR_FILENO) && rows > CLI_IMPORT_PROGRESS_ROWS_MIN;
    cli_import_key_digest_make(state);
    return CLI_EXIT_OK;
}

/* Sending ------------------------------------------------------------------------------------- */

static bool cli_import_result_take(const cli_import_state *state, cli_import_row *row,
                                   const Fundflow__V1__CommandResult *result) {
    if (strcmp(result->code, "ok") == 0) {
        row->outcome = result->idempotent_replay ? CLI_IMPORT_ALREADY
                       : state->options->dry_run ? CLI_IMPORT_WOULD_RECORD
                                                 : CLI_IMPORT_RECORDED;
        row->sequence = result->sequence;
        return true;
    }
    char reason[CLI_IMPORT_REASON_BYTES];
    snprintf(reason, sizeof reason, "line %zu: %s: %s", row->line, result->code, result->message);
    return cli_import_row_refuse(row, CLI_IMPORT_REFUSED, result->field, reason);
}

/* A batch refused as a whole: an all-or-nothing batch names the row that failed in meta
 * "index" (a batch of one is that row); anything else (no permission, say) refuses every row. */
static bool cli_import_error_take(cli_import_row **rows, size_t count, const cli_reply *reply) {
    const char *code = cli_reply_error_meta(reply, "error");
    const char *message = cli_reply_error_field(reply, "msg");
    const char *field = cli_reply_error_meta(reply, "field");
    const char *index_text = cli_reply_error_meta(reply, "index");
    if (code == NULL) code = cli_reply_error_field(reply, "code");
    size_t failed = count == 1 ? 0 : SIZE_MAX;
    if (index_text != NULL) {
        char *end = NULL;
        unsigned long long index = strtoull(index_text, &end, 10);
        if (end != index_text && *end == '\0' && index < count) failed = (size_t)index;
    }
    char reason[CLI_IMPORT_REASON_BYTES];
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        if (failed == SIZE_MAX || i == failed) {
            snprintf(reason, sizeof reason, "line %zu: %s: %s", rows[i]->line,
                     code ? code : "refused", message ? message : "the server refused the batch");
            ok = cli_import_row_refuse(rows[i], CLI_IMPORT_REFUSED, field, reason) && ok;
        } else {
            snprintf(reason, sizeof reason, "the row at line %zu was refused, and the import is "
                                            "all or nothing",
                     rows[failed]->line);
            ok = cli_import_row_refuse(rows[i], CLI_IMPORT_NOT_RECORDED, NULL, reason) && ok;
        }
    }
    return ok;
}

static int cli_import_batch_send(const cli_import_state *state, cli_import_row **rows,
                                 size_t count) {
    Fundflow__V1__Command **commands = calloc(count, sizeof *commands);
    if (commands == NULL) return CLI_EXIT_FAILED;
    for (size_t i = 0; i < count; i++) commands[i] = rows[i]->command;
    Fundflow__V1__SubmitCommandsRequest request = FUNDFLOW__V1__SUBMIT_COMMANDS_REQUEST__INIT;
    request.commands = commands;
    request.n_commands = count;
    request.linked = !state->options->independent;
    request.dry_run = state->options->dry_run;
    cli_reply reply;
    int code = cli_rpc_call(state->session, "SubmitCommands", &request.base,
                            &fundflow__v1__submit_commands_response__descriptor, &reply);
    free(commands);
    if (code == CLI_EXIT_OK && reply.http_status == 200) {
        const Fundflow__V1__SubmitCommandsResponse *response =
            (const Fundflow__V1__SubmitCommandsResponse *)reply.message;
        if (response->n_results != count) {
            fprintf(stderr, CLI_PROGRAM ": the server answered %zu commands with %zu results\n",
                    count, response->n_results);
            code = CLI_EXIT_FAILED;
        }
        for (size_t i = 0; code == CLI_EXIT_OK && i < count; i++) {
            if (!cli_import_result_take(state, rows[i], response->results[i])) {
                code = CLI_EXIT_FAILED;
            }
        }
    } else if (code == CLI_EXIT_OK) {
        if (!cli_import_error_take(rows, count, &reply)) code = CLI_EXIT_FAILED;
    }
    cli_reply_release(&reply);
    return code;
}

/* An all-or-nothing import with rows refused as they were read sends nothing. */
static bool cli_import_unsent_mark(cli_import_state *state) {
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < state->row_count && first == SIZE_MAX; i++) {
        if (state->rows[i].command == NULL) first = i;
    }
    char reason[CLI_IMPORT_REASON_BYTES];
    snprintf(reason, sizeof reason, "not sent: the row at line %zu was refused, and the import "
                                    "is all or nothing",
             state->rows[first].line);
    for (size_t i = 0; i < state->row_count; i++) {
        if (state->rows[i].command == NULL) continue;
        if (!cli_import_row_refuse(&state->rows[i], CLI_IMPORT_NOT_RECORDED, NULL, reason)) {
            return false;
        }
    }
    return true;
}

static int cli_import_send(cli_import_state *state) {
    if (!state->options->independent && state->refused_reading > 0) {
        return cli_import_unsent_mark(state) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    }
    cli_import_row **batch = calloc(FF_BATCH_COMMANDS_MAX, sizeof *batch);
    if (batch == NULL) return CLI_EXIT_FAILED;
    size_t count = 0, sent = 0, total = state->row_count - state->refused_reading;
    int code = CLI_EXIT_OK;
    for (size_t i = 0; code == CLI_EXIT_OK && i <= state->row_count; i++) {
        bool last = i == state->row_count;
        if (!last && state->rows[i].command != NULL) batch[count++] = &state->rows[i];
        if (count > 0 && (last || count == FF_BATCH_COMMANDS_MAX)) {
            code = cli_import_batch_send(state, batch, count);
            sent += count;
            count = 0;
            cli_import_progress(state, "sent", sent, total);
        }
    }
    free(batch);
    return code;
}

/* Reporting ----------------------------------------------------------------------------------- */

static const cli_export_column cli_import_columns[] = {
    CLI_EXPORT_COLUMN("line", CLI_EXPORT_INTEGER),
    CLI_EXPORT_COLUMN("reference", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("result", CLI_EXPORT_TEXT),
    {"event", CLI_EXPORT_INTEGER, true, false},
    CLI_EXPORT_COLUMN("field", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("reason", CLI_EXPORT_TEXT),
};
#define CLI_IMPORT_COLUMN_COUNT (sizeof cli_import_columns / sizeof cli_import_columns[0])

static const char *cli_import_outcome_text(cli_import_outcome outcome) {
    switch (outcome) {
    case CLI_IMPORT_RECORDED: return "recorded";
    case CLI_IMPORT_ALREADY: return "already recorded";
    case CLI_IMPORT_WOULD_RECORD: return "would record";
    case CLI_IMPORT_REFUSED: return "refused";
    case CLI_IMPORT_NOT_RECORDED: return "not recorded";
    case CLI_IMPORT_PENDING: break;
    }
    return "not sent";
}

typedef struct cli_import_counts {
    size_t outcomes[CLI_IMPORT_NOT_RECORDED + 1];
} cli_import_counts;

static int cli_import_report(const cli_import_state *state, cli_import_counts *counts) {
    cli_export_document document;
    cli_export_document_init(&document, state->options);
    char title[96];
    snprintf(title, sizeof title, "Import of %s", state->kind->name);
    cli_export_table *table = cli_export_table_add(&document, title, cli_import_columns,
                                                   CLI_IMPORT_COLUMN_COUNT, false);
    int code = CLI_EXIT_OK;
    memset(counts, 0, sizeof *counts);
    for (size_t i = 0; i < state->row_count; i++) {
        const cli_import_row *row = &state->rows[i];
        counts->outcomes[row->outcome]++;
        cli_export_cell cells[CLI_IMPORT_COLUMN_COUNT] = {
            {NULL, (int64_t)row->line},
            {row->reference ? row->reference : "", 0},
            {cli_import_outcome_text(row->outcome), 0},
            {NULL, (int64_t)row->sequence},
            {row->field ? row->field : "", 0},
            {row->reason ? row->reason : "", 0},
        };
        if (!cli_export_row_add(table, cells)) code = CLI_EXIT_FAILED;
    }
    if (code == CLI_EXIT_OK) code = cli_export_emit(&document, state->options, state->session);
    cli_export_document_free(&document);
    return code;
}

static void cli_import_summary_print(const cli_import_state *state,
                                     const cli_import_counts *counts) {
    /* After a table on the terminal the summary follows it; after an export, which may be
     * going into a pipe, it goes to stderr so the file stays whole. */
    bool table = cli_export_format(state->options) == CLI_REPORT_FORMAT_TABLE &&
                 state->options->output_path == NULL;
    FILE *out = table ? stdout : stderr;
    fprintf(out, "%s%zu rows: %zu %s, %zu already recorded, %zu refused", table ? "\n" : "",
            state->row_count,
            counts->outcomes[state->options->dry_run ? CLI_IMPORT_WOULD_RECORD
                                                     : CLI_IMPORT_RECORDED],
            state->options->dry_run ? "would be recorded (dry run: nothing was)" : "recorded",
            counts->outcomes[CLI_IMPORT_ALREADY], counts->outcomes[CLI_IMPORT_REFUSED]);
    if (counts->outcomes[CLI_IMPORT_NOT_RECORDED] > 0) {
        fprintf(out, ", %zu not recorded because another row was refused",
                counts->outcomes[CLI_IMPORT_NOT_RECORDED]);
    }
    fputc('\n', out);
}

static void cli_import_state_free(cli_import_state *state) {
    for (size_t i = 0; i < state->row_count; i++) {
        cli_import_row *row = &state->rows[i];
        if (row->command) fundflow__v1__command__free_unpacked(row->command, NULL);
        free(row->reference), free(row->field), free(row->reason);
    }
    free(state->rows);
    mapped_reader_close(state->reader);
    mapping_free(state->map);
}

int cli_import_run(const cli_options *options, cli_session *session) {
    cli_import_state state = {.options = options, .session = session};
    int code = cli_import_open(&state);
    if (code == CLI_EXIT_OK) code = cli_import_rows_read(&state);
    if (state.progress && state.row_count > 0) fputc('\n', stderr);
    if (code == CLI_EXIT_OK) {
        code = cli_import_send(&state);
        if (state.progress) fputc('\n', stderr);
        if (code == CLI_EXIT_FAILED) {
            fprintf(stderr, CLI_PROGRAM ": some rows may have been recorded; run the same import "
                            "again to find out: rows already recorded are reported as such and "
                            "not recorded twice\n");
        }
    }
    cli_import_counts counts;
    if (code == CLI_EXIT_OK) code = cli_import_report(&state, &counts);
    if (code == CLI_EXIT_OK) {
        cli_import_summary_print(&state, &counts);
        bool all_good = counts.outcomes[CLI_IMPORT_REFUSED] == 0 &&
                        counts.outcomes[CLI_IMPORT_NOT_RECORDED] == 0;
        code = all_good ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
    }
    cli_import_state_free(&state);
    return code;
}
