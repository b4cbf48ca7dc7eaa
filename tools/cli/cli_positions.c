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

/* The table's columns: a code, a name, then the figures as position prints them, so that
 * received - passed on = held, paid + unpaid commitment + withheld + earned = contract value
 * and held - contract value = uncommitted headroom on every row; released, which is in none
 * of these, comes next; and, for rollups only, the internal transfers taken out of received and
 * passed on. */
#define CLI_POSITIONS_FIGURES 11u
/* The figures shown without --rollup: every one but the internal transfers. */
#define CLI_POSITIONS_FIGURES_ALONE (CLI_POSITIONS_FIGURES - 1u)
#define CLI_POSITIONS_COLUMNS (2u + CLI_POSITIONS_FIGURES)
_Static_assert(CLI_POSITIONS_COLUMNS <= CLI_TABLE_COLUMNS_MAX, "a cli_table holds every column");

static const char *const cli_positions_headings[CLI_POSITIONS_COLUMNS] = {
    "code",     "name",   "received", "passed on", "held", "contract value", "paid",
    "unpaid commitment", "withheld", "earned", "uncommitted headroom", "released",
    "internal transfers"};

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

/* The figures of one position in the table's order (NHS England's funding drawn counted as
 * received). */
static bool cli_positions_figures(const Fundflow__V1__Position *position,
                                  int64_t figures[CLI_POSITIONS_FIGURES]) {
    int64_t received = 0;
    if (money_add(position->received_pence, position->funding_drawn_pence, &received) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s's received and funding drawn overflow 64-bit pence\n",
                position->org_code);
        return false;
    }
    const int64_t all[CLI_POSITIONS_FIGURES] = {
        received,                       position->passed_on_pence, position->held_pence,
        position->contract_value_pence, position->paid_pence,      position->committed_pence,
        position->withheld_pence,       position->earned_pence,    position->headroom_pence,
        position->released_pence,       position->internal_transfers_pence};
    memcpy(figures, all, sizeof all);
    return true;
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
    if (!cli_positions_figures(position, figures)) return CLI_EXIT_REFUSED;
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
    static const bool right[CLI_POSITIONS_COLUMNS] = {false, false, true, true, true, true, true,
                                                      true,  true,  true, true, true, true};
    cli_positions positions = {
        .options = options,
        .session = session,
        .kind = options->kind != 0 ? options->kind : (uint32_t)FUNDFLOW__V1__ORG_KIND__ICB};
    size_t figures = options->rollup ? CLI_POSITIONS_FIGURES : CLI_POSITIONS_FIGURES_ALONE;
    cli_table_init(&positions.table, 2u + figures, cli_positions_headings, right);
    cli_export_document export;
    cli_export_document_init(&export, options);
    cli_export_figures_table_add(&export, "Positions", cli_positions_headings, figures);
    if (cli_export_rendered(options)) positions.export = &export;
    /* One more than the most read, so that too many is told apart from exactly enough. */
    int code = cli_orgs_fetch(session, positions.kind, (uint64_t)CLI_POSITIONS_ORGS_MAX + 1,
                              cli_positions_use, &positions);
    cli_table_free(&positions.table);
    cli_export_document_free(&export);
    free(positions.json);
    return code;
}

/* ---- one organisation's position (the position subcommand) ----
 *
 * Every figure follows the definitions in ledger.proto's Position:
 *   held = received + funding drawn - passed on;
 *   contract value = paid + unpaid commitment + withheld + earned;
 *   uncommitted headroom = held - contract value. */

/* Columns a position's labels are padded to: wide enough for "uncommitted headroom:". */
#define CLI_POSITION_LABEL_COLUMNS 23

static void cli_position_line(const char *label, const char *text) {
    int pad = CLI_POSITION_LABEL_COLUMNS - (int)strlen(label) - 1;
    printf("%s:%*s%s\n", label, pad > 1 ? pad : 1, "", text);
}

static void cli_position_money(const char *label, int64_t pence) {
    char money[FF_MONEY_TEXT_BYTES];
    money_format(pence, money, sizeof money);
    cli_position_line(label, money);
}

/* The figures of one position, labelled, in the order that makes the sums read down. */
static void cli_position_figures_print(const Fundflow__V1__Position *position) {
    cli_position_money("received", position->received_pence);
    /* Only NHS England draws on parliamentary funding; for everyone else the line is noise. */
    if (position->funding_drawn_pence != 0) {
        cli_position_money("funding drawn", position->funding_drawn_pence);
    }
    cli_position_money("passed on", position->passed_on_pence);
    cli_position_money("held", position->held_pence);
    cli_position_money("paid", position->paid_pence);
    cli_position_money("unpaid commitment", position->committed_pence);
    cli_position_money("withheld", position->withheld_pence);
    cli_position_money("earned", position->earned_pence);
    cli_position_money("contract value", position->contract_value_pence);
    cli_position_money("uncommitted headroom", position->headroom_pence);
    cli_position_money("released", position->released_pence);
    if (!position->rollup) return;
    cli_position_money("internal transfers", position->internal_transfers_pence);
    cli_position_money("internal contracts", position->internal_contract_value_pence);
    cli_position_money("internal paid", position->internal_contract_paid_pence);
    char included[CLI_CODES_TEXT_BYTES];
    cli_position_line("rollup of", cli_codes_text(position->included_codes,
                                                  position->n_included_codes, included,
                                                  sizeof included));
}

/* The per-stream table's columns: the stream, then the figures as positions prints them. */
#define CLI_STREAM_FIGURES CLI_POSITIONS_FIGURES
static const char *const cli_stream_headings[1 + CLI_STREAM_FIGURES] = {
    "stream",   "received", "passed on", "held",   "contract value",       "paid",
    "unpaid commitment", "withheld", "earned", "uncommitted headroom", "released",
    "internal transfers"};

static bool cli_stream_row_add(cli_table *table, const char *name,
                               const int64_t figures[CLI_STREAM_FIGURES]) {
    char amounts[CLI_STREAM_FIGURES][FF_MONEY_TEXT_BYTES];
    const char *cells[1 + CLI_STREAM_FIGURES] = {name};
    for (size_t i = 0; i < CLI_STREAM_FIGURES; i++) {
        money_format(figures[i], amounts[i], sizeof amounts[i]);
        cells[1 + i] = amounts[i];
    }
    return cli_table_row_add(table, cells);
}

/* One row per stream of position->streams and a TOTAL row (the position's own figures). */
static int cli_position_streams_print(const Fundflow__V1__Position *position) {
    static const bool right[1 + CLI_STREAM_FIGURES] = {false, true, true, true, true, true,
                                                       true,  true, true, true, true, true};
    cli_table table;
    size_t columns = 1u + (position->rollup ? CLI_STREAM_FIGURES : CLI_POSITIONS_FIGURES_ALONE);
    cli_table_init(&table, columns, cli_stream_headings, right);
    bool ok = true;
    int64_t figures[CLI_STREAM_FIGURES];
    for (size_t i = 0; ok && i < position->n_streams; i++) {
        char stream[CLI_ENUM_NAME_BYTES_MAX];
        ok = cli_positions_figures(position->streams[i], figures) &&
             cli_stream_row_add(&table,
                                cli_enum_text(&fundflow__v1__stream__descriptor,
                                              position->streams[i]->stream, stream,
                                              sizeof stream),
                                figures);
    }
    ok = ok && cli_positions_figures(position, figures) &&
         cli_stream_row_add(&table, "TOTAL", figures);
    if (ok) cli_table_print(&table);
    cli_table_free(&table);
    if (ok) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": cannot print the streams\n");
    return CLI_EXIT_FAILED;
}

/* The provider table's columns: value = paid + earned + outstanding (withheld is part of
 * outstanding). */
#define CLI_CONTRACT_FIGURES 5u
#define CLI_CONTRACT_COLUMNS (3u + CLI_CONTRACT_FIGURES)
static const char *const cli_contract_headings[CLI_CONTRACT_COLUMNS] = {
    "commissioner", "contract", "stream", "value", "paid", "earned", "outstanding",
    "of which withheld"};

static bool cli_contract_row_add(cli_table *table, const char *commissioner, const char *contract,
                                 const char *stream,
                                 const Fundflow__V1__ProviderContractLine *line) {
    const int64_t figures[CLI_CONTRACT_FIGURES] = {line->value_pence, line->paid_pence,
                                                   line->earned_pence, line->outstanding_pence,
                                                   line->withheld_pence};
    char amounts[CLI_CONTRACT_FIGURES][FF_MONEY_TEXT_BYTES];
    const char *cells[CLI_CONTRACT_COLUMNS] = {commissioner, contract, stream};
    for (size_t i = 0; i < CLI_CONTRACT_FIGURES; i++) {
        money_format(figures[i], amounts[i], sizeof amounts[i]);
        cells[3 + i] = amounts[i];
    }
    return cli_table_row_add(table, cells);
}

/* The contracts of a provider, each commissioner's followed by its total, then the TOTAL. */
static int cli_position_contracts_print(const Fundflow__V1__Position *position) {
    static const bool right[CLI_CONTRACT_COLUMNS] = {false, false, false, true,
                                                     true,  true,  true,  true};
    if (position->n_contracts == 0 || position->contracts_total == NULL) return CLI_EXIT_OK;
    cli_table table;
    cli_table_init(&table, CLI_CONTRACT_COLUMNS, cli_contract_headings, right);
    bool ok = true;
    size_t total = 0;
    for (size_t i = 0; ok && i < position->n_contracts; i++) {
        const Fundflow__V1__ProviderContractLine *line = position->contracts[i];
        char stream[CLI_ENUM_NAME_BYTES_MAX];
        ok = cli_contract_row_add(&table, line->commissioner_code, line->contract_id,
                                  cli_enum_text(&fundflow__v1__stream__descriptor, line->stream,
                                                stream, sizeof stream),
                                  line);
        bool last_of_commissioner =
            i + 1 == position->n_contracts ||
            strcmp(position->contracts[i + 1]->commissioner_code, line->commissioner_code) != 0;
        if (ok && last_of_commissioner && total < position->n_commissioner_totals) {
            const Fundflow__V1__ProviderContractLine *sum = position->commissioner_totals[total++];
            assert(strcmp(sum->commissioner_code, line->commissioner_code) == 0);
            ok = cli_contract_row_add(&table, sum->commissioner_code, "total", "", sum);
        }
    }
    if (ok) ok = cli_contract_row_add(&table, "TOTAL", "", "", position->contracts_total);
    if (ok) {
        printf("\ncontracts as provider (value = paid + earned + outstanding)\n\n");
        cli_table_print(&table);
    }
    cli_table_free(&table);
    if (ok) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": out of memory printing the contracts\n");
    return CLI_EXIT_FAILED;
}

static int cli_position_print(const ProtobufCMessage *message) {
    const Fundflow__V1__Position *position = (const Fundflow__V1__Position *)message;
    char stream[CLI_ENUM_NAME_BYTES_MAX], year[16], date[16];
    bool every_stream = position->stream == FUNDFLOW__V1__STREAM__STREAM_UNSPECIFIED;
    cli_position_line("organisation", position->org_code);
    cli_position_line("stream", every_stream
                                    ? "every stream"
                                    : cli_enum_text(&fundflow__v1__stream__descriptor,
                                                    position->stream, stream, sizeof stream));
    cli_position_line("year", cli_year_text(position->financial_year, year, sizeof year));
    char sequence[24];
    snprintf(sequence, sizeof sequence, "%" PRIu64, position->as_at_sequence);
    cli_position_line("as at sequence", sequence);
    if (position->as_at_date != 0) {
        cli_position_line("as at date", cli_date_text(position->as_at_date, date, sizeof date));
    }
    cli_position_figures_print(position);
    int code = CLI_EXIT_OK;
    if (every_stream) {
        printf("\n");
        code = cli_position_streams_print(position);
    }
    if (code == CLI_EXIT_OK) code = cli_position_contracts_print(position);
    return code;
}

int cli_position_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetPositionRequest request = FUNDFLOW__V1__GET_POSITION_REQUEST__INIT;
    request.org_code = (char *)options->operand;
    request.stream = (Fundflow__V1__Stream)options->stream;
    request.financial_year = options->financial_year;
    request.as_at_sequence = options->as_at_sequence;
    request.as_at_date = options->as_at_date;
    request.rollup = options->rollup;
    /* A provider's contracts are listed whatever its kind: an organisation that provides under
     * no contract has none to list. */
    request.provider_contracts = true;
    if (cli_export_rendered(options)) {
        return cli_position_export_run(options, session, &request.base);
    }
    return cli_rpc_read(session, "GetPosition", &request.base,
                        &fundflow__v1__position__descriptor, cli_position_print);
}
