/* The fundflow client's positions subcommand: the position of every organisation of one kind,
 * read with one GetPosition call each and all as at one event, printed as one table with a TOTAL
 * row, or as one JSON document holding every reply as the server wrote it. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Columns a name is cut to, "..." included: with a code and eight amounts beside it, a whole ICB
 * name ("NHS Lancashire and South Cumbria Integrated Care Board") would push each row past any
 * terminal. */
#define CLI_POSITIONS_NAME_COLUMNS_MAX 32u

/* Bytes of a cut name: each column is at most a 4-byte UTF-8 character, and a NUL ends it. */
#define CLI_POSITIONS_NAME_BYTES (CLI_POSITIONS_NAME_COLUMNS_MAX * 4u + 1u)

/* The table's columns: a code, a name, then the figures in the order position prints them
 * after received, with headroom last so the row reads from what came in to what is left. */
#define CLI_POSITIONS_FIGURES 8u
#define CLI_POSITIONS_COLUMNS (2u + CLI_POSITIONS_FIGURES)
_Static_assert(CLI_POSITIONS_COLUMNS <= CLI_TABLE_COLUMNS_MAX, "a cli_table holds every column");

static const char *const cli_positions_headings[CLI_POSITIONS_COLUMNS] = {
    "code", "name", "received", "passed on", "committed", "paid", "withheld", "earned",
    "released", "headroom"};

/* The JSON document around the replies, which are kept as received, split by commas. */
#define CLI_POSITIONS_JSON_OPEN "{\"positions\":["
#define CLI_POSITIONS_JSON_CLOSE "]}\n"

/* The first size of the buffer the JSON replies are kept in; it doubles as it fills. */
#define CLI_POSITIONS_JSON_BYTES_FIRST 4096u

typedef struct cli_positions {
    const cli_options *options;
    cli_session *session;
    uint32_t kind;
    uint64_t as_at_sequence; /* the first reply's, asked of every later call */
    size_t count;            /* positions read so far */
    int64_t totals_pence[CLI_POSITIONS_FIGURES];
    cli_table table; /* human mode: every row so far */
    cli_export_document *export; /* --format, --output or --sort: rows go here (cli_export.h) */
    char *json;      /* JSON mode: every reply so far, split by commas */
    size_t json_bytes;
    size_t json_capacity;
} cli_positions;

/* The figures of one position in the table's order. */
static void cli_positions_figures(const Fundflow__V1__Position *position,
                                  int64_t figures[CLI_POSITIONS_FIGURES]) {
    figures[0] = position->received_pence;
    figures[1] = position->passed_on_pence;
    figures[2] = position->committed_pence;
    figures[3] = position->paid_pence;
    figures[4] = position->withheld_pence;
    figures[5] = position->earned_pence;
    figures[6] = position->released_pence;
    figures[7] = position->headroom_pence;
}

/* The name cut to CLI_POSITIONS_NAME_COLUMNS_MAX columns, ending "..." when cut, without
 * splitting a UTF-8 character. Returns buffer. */
static const char *cli_positions_name_fit(const char *name, char *buffer, size_t buffer_bytes) {
    static const char ellipsis[] = "...";
    assert(buffer_bytes >= CLI_POSITIONS_NAME_BYTES);
    size_t columns = 0, cut_bytes = 0;
    for (size_t i = 0; name[i] != '\0'; i++) {
        if (((unsigned char)name[i] & 0xC0) == 0x80) continue;
        if (columns == CLI_POSITIONS_NAME_COLUMNS_MAX - (sizeof ellipsis - 1)) cut_bytes = i;
        columns++;
    }
    if (columns <= CLI_POSITIONS_NAME_COLUMNS_MAX) {
        snprintf(buffer, buffer_bytes, "%s", name);
    } else {
        snprintf(buffer, buffer_bytes, "%.*s%s", (int)cut_bytes, name, ellipsis);
    }
    return buffer;
}

/* Adds one row of amounts, the TOTAL row too, to the table. */
static int cli_positions_amounts_add(cli_positions *positions, const char *code,
                                     const char *name, const int64_t *figures) {
    char amounts[CLI_POSITIONS_FIGURES][FF_MONEY_TEXT_BYTES];
    const char *cells[CLI_POSITIONS_COLUMNS] = {code, name};
    for (size_t i = 0; i < CLI_POSITIONS_FIGURES; i++) {
        money_format(figures[i], amounts[i], sizeof amounts[i]);
        cells[2 + i] = amounts[i];
    }
    if (cli_table_row_add(&positions->table, cells)) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": out of memory after %zu positions\n", positions->count);
    return CLI_EXIT_FAILED;
}

/* Adds the organisation's row and its figures to the totals, refusing a total that would not
 * fit in 64-bit pence rather than print a wrong one. */
static int cli_positions_row_add(cli_positions *positions, const Fundflow__V1__OrgRecord *org,
                                 const Fundflow__V1__Position *position) {
    int64_t figures[CLI_POSITIONS_FIGURES];
    cli_positions_figures(position, figures);
    for (size_t i = 0; i < CLI_POSITIONS_FIGURES; i++) {
        if (money_add(positions->totals_pence[i], figures[i], &positions->totals_pence[i]) !=
            FF_OK) {
            fprintf(stderr, CLI_PROGRAM ": the total %s overflows 64-bit pence at %s, so no "
                            "total can be printed\n",
                    cli_positions_headings[2 + i], org->code);
            return CLI_EXIT_REFUSED;
        }
    }
    if (positions->export != NULL) {
        return cli_export_figures_row_add(&positions->export->tables[0], org->code, org->name,
                                          figures) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    }
    char name[CLI_POSITIONS_NAME_BYTES];
    return cli_positions_amounts_add(positions, org->code,
                                     cli_positions_name_fit(org->name, name, sizeof name),
                                     figures);
}

/* Keeps bytes of a reply in the JSON buffer. Returns false if memory runs out. */
static bool cli_positions_json_append(cli_positions *positions, const char *bytes,
                                      size_t count) {
    /* Both are far below these bounds in practice; the check keeps the doubling from wrapping. */
    if (count > SIZE_MAX / 4 || positions->json_bytes > SIZE_MAX / 4) return false;
    size_t needed = positions->json_bytes + count;
    if (needed > positions->json_capacity) {
        size_t capacity = positions->json_capacity ? positions->json_capacity
                                                   : CLI_POSITIONS_JSON_BYTES_FIRST;
        while (capacity < needed) capacity *= 2;
        char *grown = realloc(positions->json, capacity);
        if (grown == NULL) return false;
        positions->json = grown;
        positions->json_capacity = capacity;
    }
    memcpy(positions->json + positions->json_bytes, bytes, count);
    positions->json_bytes = needed;
    return true;
}

/* Keeps the reply as the server wrote it, less its closing newline, after a comma if need be. */
static int cli_positions_json_keep(cli_positions *positions, const cli_reply *reply) {
    size_t bytes = reply->body_bytes;
    while (bytes > 0 && strchr(" \t\r\n", reply->body[bytes - 1]) != NULL) bytes--;
    bool kept = (positions->json_bytes == 0 || cli_positions_json_append(positions, ",", 1)) &&
                cli_positions_json_append(positions, reply->body, bytes);
    if (kept) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": out of memory after %zu positions\n", positions->count);
    return CLI_EXIT_FAILED;
}

/* Takes in one organisation's position: the first sets the sequence every later one is read
 * at, so the table is one moment of the ledger even while commands are being recorded. */
static int cli_positions_reply_keep(cli_positions *positions, const Fundflow__V1__OrgRecord *org,
                                    const cli_reply *reply) {
    const Fundflow__V1__Position *position = (const Fundflow__V1__Position *)reply->message;
    assert(position != NULL);
    if (positions->count == 0) positions->as_at_sequence = position->as_at_sequence;
    if (position->as_at_sequence != positions->as_at_sequence) {
        fprintf(stderr, CLI_PROGRAM ": the server gave %s's position as at sequence %" PRIu64
                        ", not %" PRIu64 " as asked\n",
                org->code, position->as_at_sequence, positions->as_at_sequence);
        return CLI_EXIT_FAILED;
    }
    positions->count++;
    return positions->session->json ? cli_positions_json_keep(positions, reply)
                                     : cli_positions_row_add(positions, org, position);
}

static int cli_positions_read_one(cli_positions *positions, const Fundflow__V1__OrgRecord *org) {
    const cli_options *options = positions->options;
    Fundflow__V1__GetPositionRequest request = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    request.org_code = org->code;
    request.stream = (Fundflow__V1__Stream)options->stream;
    request.financial_year = options->financial_year;
    request.as_at_sequence = positions->count > 0 ? positions->as_at_sequence
                                                  : options->as_at_sequence;
    request.as_at_date = options->as_at_date;
    request.rollup = options->rollup;
    cli_reply reply;
    int code = cli_rpc_call(positions->session, "GetPosition", &request.base,
                            &fundflow__v1__position__descriptor, &reply);
    if (code == CLI_EXIT_OK && reply.http_status != 200) {
        code = cli_reply_refusal_report(positions->session, &reply);
    }
    if (code == CLI_EXIT_OK) code = cli_positions_reply_keep(positions, org, &reply);
    cli_reply_release(&reply);
    return code;
}

static int cli_positions_table_print(cli_positions *positions) {
    const cli_options *options = positions->options;
    char stream[CLI_ENUM_NAME_BYTES_MAX], year[16], kind[CLI_ENUM_NAME_BYTES_MAX], date[16];
    cli_enum_text(&fundflow__v1__org_kind__descriptor, (int)positions->kind, kind, sizeof kind);
    printf("%s %s positions of every %s%s\n\n",
           cli_enum_text(&fundflow__v1__stream__descriptor, (int)options->stream, stream,
                         sizeof stream),
           cli_year_text(options->financial_year, year, sizeof year), kind,
           options->rollup ? ", each with those under it" : "");
    if (positions->count == 0) {
        printf("no organisations of kind %s\n", kind);
        return CLI_EXIT_OK;
    }
    int code = cli_positions_amounts_add(positions, "TOTAL", "", positions->totals_pence);
    if (code != CLI_EXIT_OK) return code;
    cli_table_print(&positions->table);
    printf("\n");
    cli_field_print("as at sequence", "%" PRIu64, positions->as_at_sequence);
    if (options->as_at_date != 0) {
        cli_field_print("as at date", "%s", cli_date_text(options->as_at_date, date, sizeof date));
    }
    return CLI_EXIT_OK;
}

static void cli_positions_json_print(const cli_positions *positions) {
    fputs(CLI_POSITIONS_JSON_OPEN, stdout);
    if (positions->json_bytes > 0) fwrite(positions->json, 1, positions->json_bytes, stdout);
    fputs(CLI_POSITIONS_JSON_CLOSE, stdout);
}

/* Reads every organisation's position, then prints them all; nothing reaches stdout until the
 * last has been read, so a failure part of the way never leaves half a table or document. */
static int cli_positions_use(void *context, const Fundflow__V1__OrgRecord *const *orgs,
                             size_t count) {
    cli_positions *positions = context;
    if (count > CLI_POSITIONS_ORGS_MAX) {
        char kind[CLI_ENUM_NAME_BYTES_MAX];
        fprintf(stderr, CLI_PROGRAM ": there are more than %u organisations of kind %s, the "
                        "most positions reads; no position was read\n",
                (unsigned)CLI_POSITIONS_ORGS_MAX,
                cli_enum_text(&fundflow__v1__org_kind__descriptor, (int)positions->kind, kind,
                              sizeof kind));
        return CLI_EXIT_REFUSED;
    }
    for (size_t i = 0; i < count; i++) {
        int code = cli_positions_read_one(positions, orgs[i]);
        if (code != CLI_EXIT_OK) return code;
    }
    assert(positions->count == count);
    if (positions->export != NULL) {
        positions->export->provenance.as_at_sequence = positions->as_at_sequence;
        return cli_export_emit(positions->export, positions->options, positions->session);
    }
    if (!positions->session->json) return cli_positions_table_print(positions);
    cli_positions_json_print(positions);
    return CLI_EXIT_OK;
}

int cli_positions_run(const cli_options *options, cli_session *session) {
    static const bool right[CLI_POSITIONS_COLUMNS] = {false, false, true, true, true,
                                                      true,  true,  true, true, true};
    cli_positions positions = {
        .options = options,
        .session = session,
        .kind = options->kind != 0 ? options->kind : (uint32_t)FUNDFLOW__V1__ORG_KIND__ICB};
    cli_table_init(&positions.table, CLI_POSITIONS_COLUMNS, cli_positions_headings, right);
    cli_export_document export;
    cli_export_document_init(&export, options);
    cli_export_figures_table_add(&export, "Positions", cli_positions_headings,
                                 CLI_POSITIONS_FIGURES);
    if (cli_export_rendered(options)) positions.export = &export;
    /* One more than the most read, so that too many is told apart from exactly enough. */
    int code = cli_orgs_fetch(session, positions.kind, (uint64_t)CLI_POSITIONS_ORGS_MAX + 1,
                              cli_positions_use, &positions);
    cli_table_free(&positions.table);
    cli_export_document_free(&export);
    free(positions.json);
    return code;
}
