/* fundflow reconcile: compares a file kept outside the ledger (a published allocation schedule, a
 * general ledger's export, a provider's receipts, a contract tracker) with the ledger through the
 * Reconcile RPC, which holds the matching rules, and writes its four sections (matched, matched
 * with a difference, in the file only, in the ledger only) with their totals through the
 * listings' export model, so a table, CSV, JSON or a workbook all carry the same figures. */
#include "cli_reconcile.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_export.h"
#include "cli_values.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"

/* The sections, in the order every format lists them. */
enum {
    CLI_RECONCILE_MATCHED,
    CLI_RECONCILE_DIFFERENCES,
    CLI_RECONCILE_FILE_ONLY,
    CLI_RECONCILE_LEDGER_ONLY,
    CLI_RECONCILE_SECTIONS
};

static const char *const cli_reconcile_section_titles[CLI_RECONCILE_SECTIONS] = {
    "Matched", "Matched with a difference", "In the file only", "In the ledger only"};

_Static_assert(CLI_RECONCILE_SECTIONS + 2 <= CLI_EXPORT_TABLES_MAX,
               "a reconciliation is a table of its comparison, a summary and four sections");

/* Bytes of a list of file lines or references in one cell, cut short with "..." beyond. */
#define CLI_RECONCILE_LIST_BYTES 512

/* The request ------------------------------------------------------------------------------- */

static void cli_reconcile_request_fill(const cli_options *options,
                                       const cli_reconcile_input *input,
                                       Fundflow__V1__ReconcileRequest *request) {
    request->kind = input->kind->kind;
    request->rows = input->rows;
    request->n_rows = input->row_count;
    request->financial_year = input->financial_year;
    request->as_at_sequence = options->as_at_sequence;
    request->tolerance_pence = input->tolerance_pence;
    request->date_from = input->date_from;
    request->date_to = input->date_to;
    request->match_keys = (char **)input->match_keys;
    request->n_match_keys = input->match_key_count;
    request->stream = (Fundflow__V1__Stream)input->stream_filter;
    request->provider_code = (char *)input->provider_code;
    request->commissioner_code = (char *)input->commissioner_code;
}

/* The sections ------------------------------------------------------------------------------ */

static const Fundflow__V1__ReconcileSection *
cli_reconcile_section(const Fundflow__V1__ReconcileResponse *response, size_t index) {
    const Fundflow__V1__ReconcileSection *sections[CLI_RECONCILE_SECTIONS] = {
        response->matched, response->differences, response->file_only, response->ledger_only};
    return sections[index];
}

static size_t cli_reconcile_section_lines(const Fundflow__V1__ReconcileResponse *response,
                                          size_t index) {
    const Fundflow__V1__ReconcileSection *section = cli_reconcile_section(response, index);
    return section ? section->n_lines : 0;
}

/* Whether anything did not match: a difference, or a line on one side only. */
static bool cli_reconcile_unmatched(const Fundflow__V1__ReconcileResponse *response) {
    return cli_reconcile_section_lines(response, CLI_RECONCILE_DIFFERENCES) +
               cli_reconcile_section_lines(response, CLI_RECONCILE_FILE_ONLY) +
               cli_reconcile_section_lines(response, CLI_RECONCILE_LEDGER_ONLY) >
           0;
}

/* A measure as people write it: "received", "passed on", "paid". */
static const char *cli_reconcile_measure_text(uint32_t measure, char *buffer, size_t bytes) {
    static const char prefix[] = "measure_";
    cli_enum_text(&fundflow__v1__position_measure__descriptor, (int)measure, buffer, bytes);
    if (strncmp(buffer, prefix, sizeof prefix - 1) == 0) {
        memmove(buffer, buffer + sizeof prefix - 1, strlen(buffer) - (sizeof prefix - 1) + 1);
    }
    for (char *c = buffer; *c; c++) {
        if (*c == '_') *c = ' ';
    }
    return buffer;
}

/* The text of one key of a line; "" where the match left the key out. */
static const char *cli_reconcile_key_text(const char *key,
                                          const Fundflow__V1__ReconcileLine *line, char *buffer,
                                          size_t bytes) {
    buffer[0] = '\0';
    if (strcmp(key, "org") == 0) return line->org_code;
    if (strcmp(key, "contract") == 0) return line->contract_id;
    if (strcmp(key, "stream") == 0 && line->stream != 0) {
        return cli_enum_text(&fundflow__v1__stream__descriptor, line->stream, buffer, bytes);
    }
    if (strcmp(key, "measure") == 0 && line->measure != 0) {
        return cli_reconcile_measure_text(line->measure, buffer, bytes);
    }
    if (strcmp(key, "month") == 0 && line->month != 0) {
        snprintf(buffer, bytes, "M%" PRIu32, line->month);
    }
    return buffer;
}

/* Appends text to a list cell, ending it with "..." once it is full. */
static void cli_reconcile_list_add(char *list, size_t bytes, const char *text) {
    size_t used = strlen(list);
    if (used >= 3 && strcmp(list + used - 3, "...") == 0) return;
    int length = snprintf(list + used, bytes - used, "%s%s", used ? ", " : "", text);
    if (length >= 0 && (size_t)length < bytes - used) return;
    snprintf(list + (used < bytes - 4 ? used : bytes - 4), 4, "...");
}

static bool cli_reconcile_line_add(cli_export_table *table, const cli_reconcile_kind *kind,
                                   const Fundflow__V1__ReconcileLine *line) {
    char keys[CLI_RECONCILE_KEYS_MAX][CLI_ENUM_NAME_BYTES_MAX];
    char lines[CLI_RECONCILE_LIST_BYTES] = "", references[CLI_RECONCILE_LIST_BYTES] = "";
    cli_export_cell cells[CLI_EXPORT_COLUMNS_MAX] = {{0}};
    size_t c = 0;
    for (size_t k = 0; k < kind->key_count; k++, c++) {
        cells[c].text = cli_reconcile_key_text(kind->keys[k], line, keys[k], sizeof keys[k]);
    }
    cells[c++].number = line->file_pence;
    cells[c++].number = line->ledger_pence;
    cells[c++].number = line->difference_pence;
    for (size_t l = 0; l < line->n_lines; l++) {
        char number[16];
        snprintf(number, sizeof number, "%" PRIu32, line->lines[l]);
        cli_reconcile_list_add(lines, sizeof lines, number);
    }
    for (size_t r = 0; r < line->n_references; r++) {
        if (line->references[r][0] != '\0') {
            cli_reconcile_list_add(references, sizeof references, line->references[r]);
        }
    }
    cells[c++].text = lines;
    cells[c++].text = references;
    return cli_export_row_add(table, cells);
}

static bool cli_reconcile_section_add(cli_export_document *document,
                                      const cli_reconcile_kind *kind, const char *title,
                                      const Fundflow__V1__ReconcileSection *section) {
    cli_export_column columns[CLI_EXPORT_COLUMNS_MAX];
    size_t count = 0;
    for (size_t k = 0; k < kind->key_count; k++) {
        columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN(kind->keys[k], CLI_EXPORT_TEXT);
    }
    columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN("file", CLI_EXPORT_MONEY);
    columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN("ledger", CLI_EXPORT_MONEY);
    columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN("difference", CLI_EXPORT_MONEY);
    columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN("file lines", CLI_EXPORT_TEXT);
    columns[count++] = (cli_export_column)CLI_EXPORT_COLUMN("references", CLI_EXPORT_TEXT);
    cli_export_table *table = cli_export_table_add(document, title, columns, count, true);
    for (size_t l = 0; section != NULL && l < section->n_lines; l++) {
        if (!cli_reconcile_line_add(table, kind, section->lines[l])) return false;
    }
    return true;
}

/* One row per section: its lines and its totals; the TOTAL row adds up the whole file and the
 * whole of the ledger's side. */
static bool cli_reconcile_summary_add(cli_export_document *document,
                                      const Fundflow__V1__ReconcileResponse *response) {
    static const cli_export_column columns[] = {
        CLI_EXPORT_COLUMN("section", CLI_EXPORT_TEXT),
        CLI_EXPORT_COLUMN("lines", CLI_EXPORT_INTEGER),
        CLI_EXPORT_COLUMN("file", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("ledger", CLI_EXPORT_MONEY),
        CLI_EXPORT_COLUMN("difference", CLI_EXPORT_MONEY)};
    cli_export_table *table = cli_export_table_add(document, "Summary", columns,
                                                   sizeof columns / sizeof columns[0], true);
    for (size_t s = 0; s < CLI_RECONCILE_SECTIONS; s++) {
        const Fundflow__V1__ReconcileSection *section = cli_reconcile_section(response, s);
        cli_export_cell cells[] = {
            {.text = cli_reconcile_section_titles[s]},
            {.number = (int64_t)cli_reconcile_section_lines(response, s)},
            {.number = section ? section->file_pence : 0},
            {.number = section ? section->ledger_pence : 0},
            {.number = section ? section->difference_pence : 0}};
        if (!cli_export_row_add(table, cells)) return false;
    }
    return true;
}

/* The comparison: what was compared with what, as at which event, by which rules. */
static bool cli_reconcile_comparison_add(cli_export_document *document,
                                         const cli_options *options,
                                         const cli_reconcile_input *input,
                                         const Fundflow__V1__ReconcileResponse *response) {
    static const cli_export_column columns[] = {CLI_EXPORT_COLUMN("item", CLI_EXPORT_TEXT),
                                                CLI_EXPORT_COLUMN("value", CLI_EXPORT_TEXT)};
    cli_export_table *table = cli_export_table_add(document, "Comparison", columns, 2, false);
    char year[16], sequence[24], hash[CLI_HASH_TEXT_BYTES], tolerance[FF_MONEY_TEXT_BYTES];
    char keys[128] = "", window[64] = "none", filters[128] = "", rows[64], outside[24];
    char from[CALENDAR_DATE_TEXT_BYTES], to[CALENDAR_DATE_TEXT_BYTES];
    snprintf(sequence, sizeof sequence, "%" PRIu64, response->as_at_sequence);
    cli_hex_text(response->head_hash.data, response->head_hash.len, hash, sizeof hash);
    money_format(response->tolerance_pence, tolerance, sizeof tolerance);
    for (size_t k = 0; k < response->n_match_keys; k++) {
        cli_reconcile_list_add(keys, sizeof keys, response->match_keys[k]);
    }
    if (input->date_from != 0) {
        calendar_date_format(input->date_from, from, sizeof from);
        calendar_date_format(input->date_to, to, sizeof to);
        snprintf(window, sizeof window, "%s to %s", from, to);
    }
    char stream[CLI_ENUM_NAME_BYTES_MAX], filter[64];
    if (input->stream_filter != 0) {
        snprintf(filter, sizeof filter, "stream %s",
                 cli_enum_text(&fundflow__v1__stream__descriptor, (int)input->stream_filter,
                               stream, sizeof stream));
        cli_reconcile_list_add(filters, sizeof filters, filter);
    }
    if (input->commissioner_code[0] != '\0') {
        snprintf(filter, sizeof filter, "commissioner %s", input->commissioner_code);
        cli_reconcile_list_add(filters, sizeof filters, filter);
    }
    if (input->provider_code[0] != '\0') {
        snprintf(filter, sizeof filter, "provider %s", input->provider_code);
        cli_reconcile_list_add(filters, sizeof filters, filter);
    }
    snprintf(rows, sizeof rows, "%zu", input->row_count);
    snprintf(outside, sizeof outside, "%" PRIu32, response->rows_outside_window);
    const char *const items[][2] = {
        {"file", input->file_name},
        {"file SHA-256", input->file_sha256},
        {"mapping", options->mapping_path},
        {"against", input->kind->name},
        {"year", cli_year_text(response->financial_year, year, sizeof year)},
        {"as at sequence", sequence},
        {"as at hash", hash},
        {"match on", keys},
        {"tolerance", tolerance},
        {"date window", window},
        {"ledger narrowed to", filters[0] ? filters : "none"},
        {"file rows", rows},
        {"rows outside the window", outside},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        cli_export_cell cells[] = {{.text = items[i][0]}, {.text = items[i][1]}};
        if (!cli_export_row_add(table, cells)) return false;
    }
    return true;
}

static int cli_reconcile_export(const cli_options *options, cli_session *session,
                                const cli_reconcile_input *input,
                                const Fundflow__V1__ReconcileResponse *response) {
    cli_export_document document;
    cli_export_document_init(&document, options);
    document.provenance.financial_year = response->financial_year;
    document.provenance.as_at_sequence = response->as_at_sequence;
    bool filled = cli_reconcile_comparison_add(&document, options, input, response) &&
                  cli_reconcile_summary_add(&document, response);
    for (size_t s = 0; filled && s < CLI_RECONCILE_SECTIONS; s++) {
        filled = cli_reconcile_section_add(&document, input->kind, cli_reconcile_section_titles[s],
                                           cli_reconcile_section(response, s));
    }
    int code = CLI_EXIT_FAILED;
    if (filled) code = cli_export_emit(&document, options, session);
    else fprintf(stderr, CLI_PROGRAM ": out of memory writing the reconciliation\n");
    cli_export_document_free(&document);
    return code;
}

int cli_reconcile_run(const cli_options *options, cli_session *session) {
    cli_reconcile_input input;
    int code = cli_reconcile_input_read(options, &input);
    if (code != CLI_EXIT_OK) {
        cli_reconcile_input_free(&input);
        return code;
    }
    Fundflow__V1__ReconcileRequest request = FUNDFLOW__V1__RECONCILE_REQUEST__INIT;
    cli_reconcile_request_fill(options, &input, &request);
    cli_reply reply;
    code = cli_rpc_run(session, "Reconcile", &request.base,
                       &fundflow__v1__reconcile_response__descriptor, &reply);
    if (code == CLI_EXIT_OK) {
        const Fundflow__V1__ReconcileResponse *response =
            (const Fundflow__V1__ReconcileResponse *)reply.message;
        if (cli_export_wanted(options)) {
            code = cli_reconcile_export(options, session, &input, response);
        }
        if (code == CLI_EXIT_OK && options->fail_on_difference &&
            cli_reconcile_unmatched(response)) {
            code = CLI_EXIT_FINDINGS;
        }
    }
    cli_reply_release(&reply);
    cli_reconcile_input_free(&input);
    return code;
}
