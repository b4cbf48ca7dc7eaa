/* The fundflow client's listings (org list, contract list, history, events): every page fetched
 * in turn, then printed as one table, or as one JSON document. Also the fetch of every
 * organisation of a kind that positions walks. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_output_events.h"
#include "cli_values.h"
#include "json_codec.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The most rows a listing fetches without --limit. A million events is a report, not a screen:
 * past this the listing stops and says how to go on with --after. */
#ifndef CLI_LISTING_ROWS_MAX
#define CLI_LISTING_ROWS_MAX 1000000u
#endif

/* In every listing response the rows are field 1 and the next page's token field 2. */
#define CLI_LISTING_ROWS_FIELD 1
#define CLI_LISTING_TOKEN_FIELD 2

/* Sets request up for the page after previous (NULL for the first page) with page_size rows.
 * Returns false when previous was the last page. */
typedef bool (*cli_listing_advance)(ProtobufCMessage *request, const ProtobufCMessage *previous,
                                    uint32_t page_size);

/* Adds one row of the listing to the export's table. */
typedef bool (*cli_listing_row_add)(cli_export_table *table, const ProtobufCMessage *row);

/* What a listing's rows become: a table with a title and columns, and what to say of none. */
typedef struct cli_listing_shape {
    const char *title;
    const cli_export_column *columns;
    size_t column_count;
    cli_listing_row_add row_add;
    const char *empty;
} cli_listing_shape;

typedef struct cli_listing {
    const char *method;
    const ProtobufCMessageDescriptor *output;
    uint64_t rows_max;
    ProtobufCMessage **pages;
    size_t page_count;
    size_t row_count;
    char *first_body; /* the first page as received, for JSON mode */
    size_t first_body_bytes;
} cli_listing;

static const ProtobufCFieldDescriptor *cli_listing_field(const cli_listing *listing,
                                                         unsigned number) {
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(listing->output, number);
    assert(field != NULL);
    return field;
}

static size_t cli_page_row_count(const cli_listing *listing, const ProtobufCMessage *page) {
    const ProtobufCFieldDescriptor *field = cli_listing_field(listing, CLI_LISTING_ROWS_FIELD);
    assert(field->label == PROTOBUF_C_LABEL_REPEATED && field->type == PROTOBUF_C_TYPE_MESSAGE);
    /* Fields are reached through the descriptor's offsets, and copied out so that no pointer of
     * the wrong alignment is ever formed. */
    size_t count = 0;
    memcpy(&count, (const char *)page + field->quantifier_offset, sizeof count);
    return count;
}

static ProtobufCMessage *const *cli_page_rows(const cli_listing *listing,
                                              const ProtobufCMessage *page) {
    const ProtobufCFieldDescriptor *field = cli_listing_field(listing, CLI_LISTING_ROWS_FIELD);
    ProtobufCMessage **rows = NULL;
    memcpy(&rows, (const char *)page + field->offset, sizeof rows);
    return rows;
}

/* Keeps the reply's page, and the first page's raw text for JSON mode. */
static bool cli_listing_page_keep(cli_listing *listing, cli_reply *reply) {
    if (listing->page_count == 0) {
        listing->first_body = malloc(reply->body_bytes + 1);
        if (listing->first_body == NULL) return false;
        memcpy(listing->first_body, reply->body, reply->body_bytes);
        listing->first_body[reply->body_bytes] = '\0';
        listing->first_body_bytes = reply->body_bytes;
    }
    ProtobufCMessage **grown =
        realloc(listing->pages, (listing->page_count + 1) * sizeof *listing->pages);
    if (grown == NULL) return false;
    listing->pages = grown;
    listing->pages[listing->page_count++] = reply->message;
    listing->row_count += cli_page_row_count(listing, reply->message);
    reply->message = NULL;
    return true;
}

/* Fetches page after page until the last, --limit rows, or CLI_LISTING_ROWS_MAX rows. */
static int cli_listing_fetch(cli_listing *listing, cli_session *session,
                             ProtobufCMessage *request, cli_listing_advance advance) {
    const ProtobufCMessage *previous = NULL;
    /* Every page but the last holds at least one row, so rows_max bounds the pages too. */
    while (listing->row_count < listing->rows_max) {
        uint64_t wanted = listing->rows_max - listing->row_count;
        uint32_t page_size = wanted < FF_PAGE_SIZE_MAX ? (uint32_t)wanted : FF_PAGE_SIZE_MAX;
        if (!advance(request, previous, page_size)) return CLI_EXIT_OK;
        cli_reply reply;
        int code = cli_rpc_call(session, listing->method, request, listing->output, &reply);
        if (code == CLI_EXIT_OK && reply.http_status != 200) {
            code = cli_reply_refusal_report(session, &reply);
        }
        if (code == CLI_EXIT_OK && !cli_listing_page_keep(listing, &reply)) {
            fprintf(stderr, CLI_PROGRAM ": out of memory after %zu rows\n", listing->row_count);
            code = CLI_EXIT_FAILED;
        }
        cli_reply_release(&reply);
        if (code != CLI_EXIT_OK) return code;
        previous = listing->pages[listing->page_count - 1];
        if (cli_page_row_count(listing, previous) == 0) return CLI_EXIT_OK;
    }
    return CLI_EXIT_OK;
}

/* Prints one document: the page as received when there was one, or else every page's rows
 * under the last page's token, written by the same codec the server uses. */
static int cli_listing_json_print(const cli_listing *listing) {
    if (listing->page_count == 1) {
        cli_reply single = {.body = listing->first_body, .body_bytes = listing->first_body_bytes};
        cli_reply_json_print(&single);
        return CLI_EXIT_OK;
    }
    assert(listing->page_count > 1);
    const ProtobufCFieldDescriptor *rows_field = cli_listing_field(listing, CLI_LISTING_ROWS_FIELD);
    const ProtobufCFieldDescriptor *token_field =
        cli_listing_field(listing, CLI_LISTING_TOKEN_FIELD);
    size_t shown = listing->row_count < listing->rows_max ? listing->row_count
                                                          : (size_t)listing->rows_max;
    ProtobufCMessage *merged = calloc(1, listing->output->sizeof_message);
    ProtobufCMessage **rows = calloc(shown ? shown : 1, sizeof *rows);
    char *text = NULL;
    size_t text_bytes = 0;
    int code = CLI_EXIT_FAILED;
    if (merged == NULL || rows == NULL) goto fail;
    protobuf_c_message_init(listing->output, merged);
    size_t count = 0;
    for (size_t page = 0; page < listing->page_count; page++) {
        ProtobufCMessage *const *page_rows = cli_page_rows(listing, listing->pages[page]);
        size_t page_count = cli_page_row_count(listing, listing->pages[page]);
        for (size_t i = 0; i < page_count && count < shown; i++) rows[count++] = page_rows[i];
    }
    memcpy((char *)merged + rows_field->quantifier_offset, &count, sizeof count);
    memcpy((char *)merged + rows_field->offset, &rows, sizeof rows);
    /* The token is a string or a uint64; either way its bytes copy across unchanged. */
    size_t token_bytes = token_field->type == PROTOBUF_C_TYPE_STRING ? sizeof(char *)
                                                                     : sizeof(uint64_t);
    memcpy((char *)merged + token_field->offset,
           (const char *)listing->pages[listing->page_count - 1] + token_field->offset,
           token_bytes);
    if (json_codec_encode(merged, &text, &text_bytes) != FF_OK) goto fail;
    cli_reply combined = {.body = text, .body_bytes = text_bytes};
    cli_reply_json_print(&combined);
    code = CLI_EXIT_OK;
fail:
    if (code != CLI_EXIT_OK) fprintf(stderr, CLI_PROGRAM ": out of memory\n");
    free(text);
    free(rows);
    free(merged);
    return code;
}

/* Renders every row, up to --limit, in the chosen format, with --sort and a totals row. */
static int cli_listing_export(const cli_options *options, cli_session *session,
                              const cli_listing *listing, const cli_listing_shape *shape) {
    cli_export_document document;
    cli_export_document_init(&document, options);
    cli_export_table *table = cli_export_table_add(&document, shape->title, shape->columns,
                                                   shape->column_count, true);
    int code = CLI_EXIT_OK;
    for (size_t page = 0; page < listing->page_count && code == CLI_EXIT_OK; page++) {
        ProtobufCMessage *const *rows = cli_page_rows(listing, listing->pages[page]);
        size_t count = cli_page_row_count(listing, listing->pages[page]);
        for (size_t i = 0; i < count && table->row_count < listing->rows_max; i++) {
            if (!shape->row_add(table, rows[i])) {
                fprintf(stderr, CLI_PROGRAM ": out of memory after %zu rows\n", table->row_count);
                code = CLI_EXIT_FAILED;
                break;
            }
        }
    }
    bool table_format = cli_export_format(options) == CLI_REPORT_FORMAT_TABLE;
    if (code == CLI_EXIT_OK && table->row_count == 0 && table_format &&
        options->output_path == NULL) {
        printf("%s\n", shape->empty);
    } else if (code == CLI_EXIT_OK) {
        code = cli_export_emit(&document, options, session);
    }
    cli_export_document_free(&document);
    return code;
}

static void cli_listing_release(cli_listing *listing) {
    for (size_t i = 0; i < listing->page_count; i++) {
        protobuf_c_message_free_unpacked(listing->pages[i], NULL);
    }
    free(listing->pages);
    free(listing->first_body);
    memset(listing, 0, sizeof *listing);
}

/* Runs a whole listing: fetch, then print the server's JSON (--json) or render it. */
static int cli_listing_run(const cli_options *options, cli_session *session,
                           cli_listing *listing, ProtobufCMessage *request,
                           cli_listing_advance advance, const cli_listing_shape *shape) {
    int code = cli_listing_fetch(listing, session, request, advance);
    if (code == CLI_EXIT_OK && listing->page_count > 0) {
        code = cli_export_wanted(options) ? cli_listing_export(options, session, listing, shape)
                                          : cli_listing_json_print(listing);
    }
    if (code == CLI_EXIT_OK && listing->row_count >= CLI_LISTING_ROWS_MAX &&
        listing->rows_max == CLI_LISTING_ROWS_MAX) {
        fprintf(stderr, CLI_PROGRAM ": stopped after %u rows; use --limit, or --after where "
                        "the subcommand takes it, to page on\n",
                CLI_LISTING_ROWS_MAX);
    }
    cli_listing_release(listing);
    return code;
}

static uint64_t cli_listing_rows_max(const cli_options *options) {
    return options->limit != 0 && options->limit < CLI_LISTING_ROWS_MAX ? options->limit
                                                                         : CLI_LISTING_ROWS_MAX;
}

/* Page cursors --------------------------------------------------------------------------------- */

/* Moves a token-paged request on to the next page. False at the end, and for a token that does
 * not move forward, which would fetch the same page for ever. */
static bool cli_token_page_next(char **page_token, char *next_page_token) {
    if (next_page_token[0] == '\0' || strcmp(next_page_token, *page_token) <= 0) return false;
    *page_token = next_page_token;
    return true;
}

/* Moves a sequence-paged request on to the next page. False at the end (0), and for a cursor
 * that does not move forward. */
static bool cli_sequence_page_next(uint64_t *after_sequence, uint64_t next_after_sequence) {
    if (next_after_sequence <= *after_sequence) return false;
    *after_sequence = next_after_sequence;
    return true;
}

/* Organisations ------------------------------------------------------------------------------ */

static bool cli_orgs_advance(ProtobufCMessage *request, const ProtobufCMessage *previous,
                             uint32_t page_size) {
    Fundflow__V1__ListOrgsRequest *list = (Fundflow__V1__ListOrgsRequest *)request;
    const Fundflow__V1__ListOrgsResponse *page = (const Fundflow__V1__ListOrgsResponse *)previous;
    list->page_size = page_size;
    if (page == NULL) return true;
    return cli_token_page_next(&list->page_token, page->next_page_token);
}

static bool cli_org_row_add(cli_export_table *table, const ProtobufCMessage *row) {
    const Fundflow__V1__OrgRecord *org = (const Fundflow__V1__OrgRecord *)row;
    char kind[CLI_ENUM_NAME_BYTES_MAX];
    const cli_export_cell cells[] = {
        {.text = org->code},
        {.text = org->name},
        {.text = cli_enum_text(&fundflow__v1__org_kind__descriptor, org->kind, kind,
                               sizeof kind)},
        {.text = org->parent_code[0] ? org->parent_code : "-"},
        {.number = (int64_t)org->registered_sequence},
        {.number = org->registered_date}};
    return cli_export_row_add(table, cells);
}

int cli_org_list_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__ListOrgsRequest request = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    request.kind = (Fundflow__V1__OrgKind)options->kind;
    request.parent_code = cli_text_or_empty(options->parent_code);
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("code", CLI_EXPORT_TEXT),   CLI_EXPORT_COLUMN("name", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("kind", CLI_EXPORT_TEXT),   CLI_EXPORT_COLUMN("parent", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("event", CLI_EXPORT_INTEGER), CLI_EXPORT_COLUMN("date", CLI_EXPORT_DATE)};
    static const cli_listing_shape shape = {"Organisations", columns, 6, cli_org_row_add,
                                            "no organisations match"};
    cli_listing listing = {.method = "ListOrgs",
                           .output = &fundflow__v1__list_orgs_response__descriptor,
                           .rows_max = cli_listing_rows_max(options)};
    return cli_listing_run(options, session, &listing, &request.base, cli_orgs_advance, &shape);
}

/* Gathers every fetched organisation, up to rows_max, into one array for cli_orgs_fetch's use. */
static int cli_orgs_fetch_use(const cli_listing *listing, cli_orgs_use use, void *context) {
    size_t shown = listing->row_count < listing->rows_max ? listing->row_count
                                                          : (size_t)listing->rows_max;
    const Fundflow__V1__OrgRecord **orgs = calloc(shown ? shown : 1, sizeof *orgs);
    if (orgs == NULL) {
        fprintf(stderr, CLI_PROGRAM ": out of memory after %zu organisations\n", shown);
        return CLI_EXIT_FAILED;
    }
    size_t count = 0;
    for (size_t page = 0; page < listing->page_count; page++) {
        ProtobufCMessage *const *rows = cli_page_rows(listing, listing->pages[page]);
        size_t page_count = cli_page_row_count(listing, listing->pages[page]);
        for (size_t i = 0; i < page_count && count < shown; i++) {
            orgs[count++] = (const Fundflow__V1__OrgRecord *)rows[i];
        }
    }
    assert(count == shown);
    int code = use(context, orgs, count);
    free(orgs);
    return code;
}

int cli_orgs_fetch(cli_session *session, uint32_t kind, uint64_t rows_max, cli_orgs_use use,
                   void *context) {
    assert(rows_max > 0 && use != NULL);
    Fundflow__V1__ListOrgsRequest request = FUNDFLOW__V1__LIST_ORGS_REQUEST__INIT;
    request.kind = (Fundflow__V1__OrgKind)kind;
    cli_listing listing = {.method = "ListOrgs",
                           .output = &fundflow__v1__list_orgs_response__descriptor,
                           .rows_max = rows_max};
    int code = cli_listing_fetch(&listing, session, &request.base, cli_orgs_advance);
    if (code == CLI_EXIT_OK) code = cli_orgs_fetch_use(&listing, use, context);
    cli_listing_release(&listing);
    return code;
}

/* Account history ---------------------------------------------------------------------------- */

static bool cli_history_advance(ProtobufCMessage *request, const ProtobufCMessage *previous,
                                uint32_t page_size) {
    Fundflow__V1__GetAccountHistoryRequest *get = (Fundflow__V1__GetAccountHistoryRequest *)request;
    const Fundflow__V1__GetAccountHistoryResponse *page =
        (const Fundflow__V1__GetAccountHistoryResponse *)previous;
    get->page_size = page_size;
    if (page == NULL) return true;
    return cli_sequence_page_next(&get->after_sequence, page->next_after_sequence);
}

static bool cli_posting_row_add(cli_export_table *table, const ProtobufCMessage *row) {
    const Fundflow__V1__AccountPosting *posting = (const Fundflow__V1__AccountPosting *)row;
    const cli_export_cell cells[] = {{.number = (int64_t)posting->sequence},
                                     {.number = posting->effective_date},
                                     {.number = posting->debit_pence},
                                     {.number = posting->credit_pence},
                                     {.number = posting->balance_pence}};
    return cli_export_row_add(table, cells);
}

static int cli_actor_history_run(const cli_options *options, cli_session *session);

int cli_history_run(const cli_options *options, cli_session *session) {
    if (options->actor != NULL) return cli_actor_history_run(options, session);
    Fundflow__V1__GetAccountHistoryRequest request =
        FUNDFLOW__V1__GET_ACCOUNT_HISTORY_REQUEST__INIT;
    request.org_code = (char *)options->operand;
    request.stream = (Fundflow__V1__Stream)options->stream;
    request.financial_year = options->financial_year;
    request.purpose = (Fundflow__V1__AccountPurpose)options->purpose;
    request.after_sequence = options->after_sequence;
    if (cli_export_format(options) == CLI_REPORT_FORMAT_TABLE && options->output_path == NULL &&
        cli_export_wanted(options)) {
        char stream[CLI_ENUM_NAME_BYTES_MAX], year[16], purpose[CLI_ENUM_NAME_BYTES_MAX];
        printf("%s %s %s %s account\n\n", options->operand,
               cli_enum_text(&fundflow__v1__stream__descriptor, (int)options->stream, stream,
                             sizeof stream),
               cli_year_text(options->financial_year, year, sizeof year),
               cli_enum_text(&fundflow__v1__account_purpose__descriptor, (int)options->purpose,
                             purpose, sizeof purpose));
    }
    /* The balance is a running figure, so its total would mean nothing; debits and credits
     * total. */
    static const cli_export_column columns[] = {CLI_EXPORT_COLUMN("event", CLI_EXPORT_INTEGER),
                                                CLI_EXPORT_COLUMN("date", CLI_EXPORT_DATE),
                                                {"debit", CLI_EXPORT_MONEY, true, false},
                                                {"credit", CLI_EXPORT_MONEY, true, false},
                                                {"balance", CLI_EXPORT_MONEY, false, true}};
    static const cli_listing_shape shape = {"Account history", columns, 5, cli_posting_row_add,
                                            "no postings"};
    cli_listing listing = {.method = "GetAccountHistory",
                           .output = &fundflow__v1__get_account_history_response__descriptor,
                           .rows_max = cli_listing_rows_max(options)};
    return cli_listing_run(options, session, &listing, &request.base, cli_history_advance,
                           &shape);
}

/* Events ------------------------------------------------------------------------------------- */

static bool cli_events_advance(ProtobufCMessage *request, const ProtobufCMessage *previous,
                               uint32_t page_size) {
    Fundflow__V1__ListEventsRequest *list = (Fundflow__V1__ListEventsRequest *)request;
    const Fundflow__V1__ListEventsResponse *page =
        (const Fundflow__V1__ListEventsResponse *)previous;
    list->page_size = page_size;
    if (page == NULL) return true;
    return cli_sequence_page_next(&list->after_sequence, page->next_after_sequence);
}

static bool cli_event_row_add(cli_export_table *table, const ProtobufCMessage *row) {
    const Fundflow__V1__EventRecord *record = (const Fundflow__V1__EventRecord *)row;
    char line[CLI_EVENT_LINE_BYTES];
    cli_event_line(record->event, line, sizeof line);
    const cli_export_cell cells[] = {{.number = (int64_t)record->sequence},
                                     {.number = record->effective_date},
                                     {.text = cli_event_kind_text(record->event)},
                                     {.text = line}};
    return cli_export_row_add(table, cells);
}

/* The columns of a listing of events; the actor's listing adds the actor before "what". */
static const cli_export_column cli_event_columns[] = {CLI_EXPORT_COLUMN("event", CLI_EXPORT_INTEGER),
                                                      CLI_EXPORT_COLUMN("date", CLI_EXPORT_DATE),
                                                      CLI_EXPORT_COLUMN("kind", CLI_EXPORT_TEXT),
                                                      CLI_EXPORT_COLUMN("what", CLI_EXPORT_TEXT)};

/* The events that concern one organisation or contract, from GetHistory. */
static bool cli_named_history_advance(ProtobufCMessage *request, const ProtobufCMessage *previous,
                                      uint32_t page_size) {
    Fundflow__V1__GetHistoryRequest *get = (Fundflow__V1__GetHistoryRequest *)request;
    const Fundflow__V1__GetHistoryResponse *page =
        (const Fundflow__V1__GetHistoryResponse *)previous;
    get->page_size = page_size;
    if (page == NULL) return true;
    return cli_sequence_page_next(&get->after_sequence, page->next_after_sequence);
}

int cli_events_run(const cli_options *options, cli_session *session) {
    if (options->follow) return cli_events_follow_run(options, session);
    Fundflow__V1__ListEventsRequest list = FUNDFLOW__V1__LIST_EVENTS_REQUEST__INIT;
    list.after_sequence = options->after_sequence;
    Fundflow__V1__GetHistoryRequest named = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    named.name = (char *)(options->org_code ? options->org_code : options->contract_id);
    named.after_sequence = options->after_sequence;
    bool by_name = named.name != NULL;
    static const cli_listing_shape shape = {"Events", cli_event_columns, 4, cli_event_row_add,
                                            "no events"};
    cli_listing listing = {
        .method = by_name ? "GetHistory" : "ListEvents",
        .output = by_name ? &fundflow__v1__get_history_response__descriptor
                          : &fundflow__v1__list_events_response__descriptor,
        .rows_max = cli_listing_rows_max(options)};
    return cli_listing_run(options, session, &listing, by_name ? &named.base : &list.base,
                           by_name ? cli_named_history_advance : cli_events_advance, &shape);
}

/* The events one principal recorded ----------------------------------------------------------- */

static bool cli_actor_event_row_add(cli_export_table *table, const ProtobufCMessage *row) {
    const Fundflow__V1__EventRecord *record = (const Fundflow__V1__EventRecord *)row;
    char line[CLI_EVENT_LINE_BYTES];
    cli_event_line(record->event, line, sizeof line);
    const cli_export_cell cells[] = {{.number = (int64_t)record->sequence},
                                     {.number = record->effective_date},
                                     {.text = cli_event_kind_text(record->event)},
                                     {.text = record->actor},
                                     {.text = line}};
    return cli_export_row_add(table, cells);
}

static int cli_actor_history_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetHistoryRequest request = FUNDFLOW__V1__GET_HISTORY_REQUEST__INIT;
    request.actor = (char *)options->actor;
    request.after_sequence = options->after_sequence;
    static const cli_export_column columns[] = {CLI_EXPORT_COLUMN("event", CLI_EXPORT_INTEGER),
                                                CLI_EXPORT_COLUMN("date", CLI_EXPORT_DATE),
                                                CLI_EXPORT_COLUMN("kind", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("actor", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("what", CLI_EXPORT_TEXT)};
    static const cli_listing_shape shape = {"Events by actor", columns, 5,
                                            cli_actor_event_row_add, "no events"};
    cli_listing listing = {.method = "GetHistory",
                           .output = &fundflow__v1__get_history_response__descriptor,
                           .rows_max = cli_listing_rows_max(options)};
    return cli_listing_run(options, session, &listing, &request.base, cli_named_history_advance,
                           &shape);
}

/* Contracts ---------------------------------------------------------------------------------- */

static bool cli_contracts_advance(ProtobufCMessage *request, const ProtobufCMessage *previous,
                                  uint32_t page_size) {
    Fundflow__V1__ListContractsRequest *list = (Fundflow__V1__ListContractsRequest *)request;
    const Fundflow__V1__ListContractsResponse *page =
        (const Fundflow__V1__ListContractsResponse *)previous;
    list->page_size = page_size;
    if (page == NULL) return true;
    return cli_token_page_next(&list->page_token, page->next_page_token);
}

static bool cli_contract_row_add(cli_export_table *table, const ProtobufCMessage *row) {
    const Fundflow__V1__ContractRecord *contract = (const Fundflow__V1__ContractRecord *)row;
    char type[CLI_ENUM_NAME_BYTES_MAX], year[16], stream[CLI_ENUM_NAME_BYTES_MAX];
    const cli_export_cell cells[] = {
        {.text = contract->contract_id},
        {.text = contract->commissioner_code},
        {.text = contract->provider_code},
        {.text = cli_enum_text(&fundflow__v1__contract_type__descriptor, contract->type, type,
                               sizeof type)},
        {.text = cli_year_text(contract->financial_year, year, sizeof year)},
        {.text = cli_enum_text(&fundflow__v1__stream__descriptor, contract->stream, stream,
                               sizeof stream)},
        {.number = contract->value_pence},
        {.number = contract->paid_pence},
        {.number = contract->withheld_pot_pence},
        {.number = contract->earned_pence},
        {.number = contract->released_pence}};
    return cli_export_row_add(table, cells);
}

int cli_contract_list_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__ListContractsRequest request = FUNDFLOW__V1__LIST_CONTRACTS_REQUEST__INIT;
    request.commissioner_code = (char *)(options->commissioner_code ? options->commissioner_code
                                                                    : "");
    request.provider_code = cli_text_or_empty(options->provider_code);
    request.collaborative_code =
        cli_text_or_empty(options->collaborative_code);
    request.type = (Fundflow__V1__ContractType)options->contract_type;
    request.financial_year = options->financial_year;
    request.stream = (Fundflow__V1__Stream)options->stream;
    /* withheld is the contract's withheld pot: what --sort withheld ranks. */
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("contract", CLI_EXPORT_TEXT), CLI_EXPORT_COLUMN("commissioner", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("provider", CLI_EXPORT_TEXT), CLI_EXPORT_COLUMN("type", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("year", CLI_EXPORT_TEXT),     CLI_EXPORT_COLUMN("stream", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("value", CLI_EXPORT_MONEY),   CLI_EXPORT_COLUMN("paid", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("withheld", CLI_EXPORT_MONEY), CLI_EXPORT_COLUMN("earned", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("released", CLI_EXPORT_MONEY)};
    static const cli_listing_shape shape = {"Contracts", columns, 11, cli_contract_row_add,
                                            "no contracts match"};
    cli_listing listing = {.method = "ListContracts",
                           .output = &fundflow__v1__list_contracts_response__descriptor,
                           .rows_max = cli_listing_rows_max(options)};
    return cli_listing_run(options, session, &listing, &request.base, cli_contracts_advance,
                           &shape);
}
