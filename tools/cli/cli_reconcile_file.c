/* fundflow reconcile's reading of an outside file: the rules its mapping states (kind, keys,
 * tolerance, date window and filters) and each row's values, read by the client's own parsers
 * into the ReconcileRows the Reconcile RPC takes. Every refusal names the file, line and column,
 * or the mapping and its directive. */
#include "cli_reconcile.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_values.h"
#include "mapping.h"
#include "tool_help.h"
#include "tool_values.h"
#include "fundflow/calendar.h"
#include "fundflow/money.h"

/* Bytes of a label such as "receipts.csv line 12, column Amount Received". */
#define CLI_RECONCILE_LABEL_BYTES (sizeof ((cli_reconcile_input *)0)->file_name + \
                                   MAPPING_TEXT_BYTES_MAX + 64)

/* Bytes of an enum name written with spaces ("Primary medical care") as it is looked up. */
#define CLI_RECONCILE_NAME_BYTES (CLI_ENUM_NAME_BYTES_MAX + 16)

/* The column a constant comes from, as mapped_row names it. */
#define CLI_RECONCILE_CONSTANT_COLUMN "set"

/* Empty text for a row's unset strings, as protobuf-c's INIT leaves them; never freed. */
static char cli_reconcile_empty[] = "";

static const cli_reconcile_kind cli_reconcile_kinds[] = {
    {"allocations", FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_ALLOCATIONS, {"org", "stream"}, 2},
    {"positions", FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_POSITIONS,
     {"org", "stream", "measure"}, 3},
    {"payments", FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_PAYMENTS, {"contract", "month"}, 2},
    {"contracts", FUNDFLOW__V1__RECONCILE_KIND__RECONCILE_CONTRACTS, {"contract"}, 1},
};
#define CLI_RECONCILE_KIND_COUNT (sizeof cli_reconcile_kinds / sizeof cli_reconcile_kinds[0])

/* Fields every kind reads besides its keys: stream is a key of allocations and positions and a
 * filter of payments and contracts. */
static const char *const cli_reconcile_common_fields[] = {"amount",   "date",         "year",
                                                          "provider", "commissioner", "stream"};
#define CLI_RECONCILE_COMMON_COUNT \
    (sizeof cli_reconcile_common_fields / sizeof cli_reconcile_common_fields[0])

const cli_reconcile_kind *cli_reconcile_kind_find(const char *name) {
    for (size_t k = 0; k < CLI_RECONCILE_KIND_COUNT; k++) {
        if (strcasecmp(name, cli_reconcile_kinds[k].name) == 0) return &cli_reconcile_kinds[k];
    }
    return NULL;
}

const cli_reconcile_kind *cli_reconcile_kind_of(uint32_t kind) {
    for (size_t k = 0; k < CLI_RECONCILE_KIND_COUNT; k++) {
        if ((uint32_t)cli_reconcile_kinds[k].kind == kind) return &cli_reconcile_kinds[k];
    }
    assert(!"a reconcile kind");
    return &cli_reconcile_kinds[0];
}

static bool cli_reconcile_kind_has_key(const cli_reconcile_kind *kind, const char *field) {
    for (size_t k = 0; k < kind->key_count; k++) {
        if (strcmp(kind->keys[k], field) == 0) return true;
    }
    return false;
}

/* "contract, month, amount, date, year, provider, commissioner, stream" for a message. */
static void cli_reconcile_fields_text(const cli_reconcile_kind *kind, char *text, size_t bytes) {
    size_t used = 0;
    text[0] = '\0';
    for (size_t k = 0; k < kind->key_count + CLI_RECONCILE_COMMON_COUNT; k++) {
        const char *field = k < kind->key_count ? kind->keys[k]
                                                : cli_reconcile_common_fields[k - kind->key_count];
        if (k >= kind->key_count && cli_reconcile_kind_has_key(kind, field)) continue;
        int length = snprintf(text + used, bytes - used, "%s%s", used ? ", " : "", field);
        if (length < 0 || (size_t)length >= bytes - used) return;
        used += (size_t)length;
    }
}

static bool cli_reconcile_field_known(const cli_reconcile_kind *kind, const char *field) {
    if (cli_reconcile_kind_has_key(kind, field)) return true;
    for (size_t c = 0; c < CLI_RECONCILE_COMMON_COUNT; c++) {
        if (strcmp(cli_reconcile_common_fields[c], field) == 0) return true;
    }
    return false;
}

static bool cli_reconcile_mapped(const mapping *map, const char *field) {
    for (size_t f = 0; f < mapping_field_count(map); f++) {
        if (strcmp(mapping_field_name(map, f), field) == 0) return true;
    }
    return false;
}

/* Prints "fundflow: " and the message on stderr; returns the usage exit code. */
static int cli_reconcile_refuse(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int cli_reconcile_refuse(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", CLI_PROGRAM);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    return CLI_EXIT_USAGE;
}

/* The mapping's rules ------------------------------------------------------------------------ */

/* --against, or the mapping's "kind =", which must agree when both are given. */
static int cli_reconcile_kind_choose(const cli_options *options, const mapping *map,
                                     cli_reconcile_input *input) {
    const char *written = mapping_directive(map, "kind");
    const cli_reconcile_kind *mapped = written ? cli_reconcile_kind_find(written) : NULL;
    if (written != NULL && mapped == NULL) {
        return cli_reconcile_refuse("%s: kind = %s: reconcile compares allocations, positions, "
                                    "payments or contracts",
                                    options->mapping_path, written);
    }
    if (options->reconcile_kind != 0) {
        input->kind = cli_reconcile_kind_of(options->reconcile_kind);
        if (mapped != NULL && mapped != input->kind) {
            return cli_reconcile_refuse("--against %s, but %s says kind = %s", input->kind->name,
                                        options->mapping_path, written);
        }
        return CLI_EXIT_OK;
    }
    if (mapped == NULL) {
        return cli_reconcile_refuse("reconcile needs --against KIND (allocations, positions, "
                                    "payments or contracts), or kind = KIND in %s",
                                    options->mapping_path);
    }
    input->kind = mapped;
    return CLI_EXIT_OK;
}

/* Every field mapped is one the kind reads; amount and each key matched on are mapped (a month
 * may come from a date instead). */
static int cli_reconcile_fields_check(const cli_options *options, const mapping *map,
                                      const cli_reconcile_input *input) {
    char fields[256];
    cli_reconcile_fields_text(input->kind, fields, sizeof fields);
    for (size_t f = 0; f < mapping_field_count(map); f++) {
        const char *field = mapping_field_name(map, f);
        if (!cli_reconcile_field_known(input->kind, field)) {
            char message[512];
            snprintf(message, sizeof message, "reconcile --against %s reads the fields %s",
                     input->kind->name, fields);
            return cli_reconcile_refuse("%s: the field \"%s\" is not one %s", options->mapping_path,
                                        field, message);
        }
    }
    const char *required[CLI_RECONCILE_KEYS_MAX + 1] = {"amount"};
    size_t required_count = 1;
    if (input->match_key_count == 0) {
        for (size_t k = 0; k < input->kind->key_count; k++) {
            required[required_count++] = input->kind->keys[k];
        }
    } else {
        for (size_t k = 0; k < input->match_key_count; k++) {
            required[required_count++] = input->match_keys[k];
        }
    }
    for (size_t r = 0; r < required_count; r++) {
        if (cli_reconcile_mapped(map, required[r])) continue;
        if (strcmp(required[r], "month") == 0 && cli_reconcile_mapped(map, "date")) continue;
        return cli_reconcile_refuse("%s maps no column to the field \"%s\", which reconcile "
                                    "--against %s needs (write a line such as \"Heading = %s\")",
                                    options->mapping_path, required[r], input->kind->name,
                                    required[r]);
    }
    return CLI_EXIT_OK;
}

static char *cli_reconcile_trim(char *text) {
    while (isspace((unsigned char)*text)) text++;
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1])) text[--length] = '\0';
    return text;
}

/* "match = contract, month": key fields of the kind, split by commas. */
static int cli_reconcile_match_read(const char *mapping_path, const mapping *map,
                                    cli_reconcile_input *input) {
    const char *written = mapping_directive(map, "match");
    if (written == NULL) return CLI_EXIT_OK;
    char copy[MAPPING_LINE_BYTES_MAX + 1];
    snprintf(copy, sizeof copy, "%s", written);
    char *saved = NULL;
    for (char *key = strtok_r(copy, ",", &saved); key; key = strtok_r(NULL, ",", &saved)) {
        key = cli_reconcile_trim(key);
        for (char *c = key; *c; c++) *c = (char)tolower((unsigned char)*c);
        bool repeated = false;
        for (size_t k = 0; k < input->match_key_count; k++) {
            repeated = repeated || strcmp(input->match_keys[k], key) == 0;
        }
        if (!cli_reconcile_kind_has_key(input->kind, key) || repeated) {
            char keys[128] = "";
            for (size_t k = 0; k < input->kind->key_count; k++) {
                snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? ", " : "",
                         input->kind->keys[k]);
            }
            if (repeated) {
                return cli_reconcile_refuse("%s: match = %s: a key is named twice", mapping_path,
                                            written);
            }
            return cli_reconcile_refuse("%s: match = %s: \"%s\" is not a key of %s, whose keys "
                                        "are %s",
                                        mapping_path, written, key, input->kind->name, keys);
        }
        assert(input->match_key_count < CLI_RECONCILE_KEYS_MAX);
        input->match_keys[input->match_key_count] = strdup(key);
        if (input->match_keys[input->match_key_count] == NULL) {
            return cli_reconcile_refuse("out of memory");
        }
        input->match_key_count++;
    }
    if (input->match_key_count == 0) {
        return cli_reconcile_refuse("%s: match = %s names no key", mapping_path, written);
    }
    return CLI_EXIT_OK;
}

/* --tolerance, or else the mapping's "tolerance = 1.00", in pounds, 0 or more. */
static int cli_reconcile_tolerance_read(const cli_options *options, const mapping *map,
                                        cli_reconcile_input *input) {
    if (options->tolerance_given) {
        input->tolerance_pence = options->tolerance_pence;
        return CLI_EXIT_OK;
    }
    const char *written = mapping_directive(map, "tolerance");
    if (written == NULL) return CLI_EXIT_OK;
    char label[CLI_RECONCILE_LABEL_BYTES];
    snprintf(label, sizeof label, "%s: tolerance", options->mapping_path);
    return tool_amount_or_zero_parse(label, written, &input->tolerance_pence) ? CLI_EXIT_OK
                                                                              : CLI_EXIT_USAGE;
}

/* "date window = 2024-04-01 to 2024-09-30", both ends inclusive. */
static int cli_reconcile_window_read(const char *mapping_path, const mapping *map,
                                     cli_reconcile_input *input) {
    const char *written = mapping_directive(map, "date window");
    if (written == NULL) return CLI_EXIT_OK;
    char label[CLI_RECONCILE_LABEL_BYTES];
    snprintf(label, sizeof label, "%s: date window", mapping_path);
    char copy[MAPPING_LINE_BYTES_MAX + 1];
    snprintf(copy, sizeof copy, "%s", written);
    char *to = strstr(copy, " to ");
    if (to == NULL) {
        tool_value_refuse(label, written, "is not FROM to TO, such as 2024-04-01 to 2024-09-30");
        return CLI_EXIT_USAGE;
    }
    *to = '\0';
    if (!tool_date_parse(label, cli_reconcile_trim(copy), &input->date_from) ||
        !tool_date_parse(label, cli_reconcile_trim(to + 4), &input->date_to)) {
        return CLI_EXIT_USAGE;
    }
    if (input->date_from > input->date_to) {
        tool_value_refuse(label, written, "ends before it starts");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* One value ---------------------------------------------------------------------------------- */

/* What reading one row needs besides the row. */
typedef struct cli_reconcile_reading {
    const mapping *map;
    cli_reconcile_input *input;
    bool month_mapped;
    /* The columns the year and date come from, kept for refusals after the row is read. */
    char year_column[MAPPING_TEXT_BYTES_MAX + 1];
    char date_column[MAPPING_TEXT_BYTES_MAX + 1];
} cli_reconcile_reading;

/* An amount in the mapping's format and sign, then read as pounds by money_parse, the parser
 * under every amount flag; here any amount counts, nothing and less than nothing too. */
static bool cli_reconcile_amount_parse(const mapping *map, const char *label, const char *text,
                                       int64_t *pence_out) {
    char pounds[FF_MONEY_TEXT_BYTES * 2];
    const char *problem = NULL;
    if (!mapping_amount_to_pounds(map, text, pounds, sizeof pounds, &problem)) {
        return tool_value_refuse(label, text, problem ? problem : "is not an amount");
    }
    ff_err err = money_parse(pounds, pence_out);
    if (err != FF_OK) return tool_value_refuse(label, text, ff_strerror(err));
    return true;
}

static bool cli_reconcile_date_parse(const mapping *map, const char *label, const char *text,
                                     uint32_t *date_out) {
    char iso[CALENDAR_DATE_TEXT_BYTES + 8];
    const char *problem = NULL;
    if (!mapping_date_to_iso(map, text, iso, sizeof iso, &problem) ||
        calendar_date_parse(iso, date_out) != FF_OK) {
        return tool_value_refuse(label, text, problem ? problem
                                                      : "is not a real date in the mapping's "
                                                        "date format");
    }
    return true;
}

/* An enum value by its name, in any case, with spaces or '-' for '_' ("Primary medical care"),
 * also with prefix left off ("passed on" for MEASURE_PASSED_ON). */
static bool cli_reconcile_enum_parse(const ProtobufCEnumDescriptor *descriptor,
                                     const char *prefix, const char *label, const char *text,
                                     const char *problem, uint32_t *number_out) {
    char name[CLI_RECONCILE_NAME_BYTES];
    const ProtobufCEnumValue *found = NULL;
    for (int pass = 0; pass < 2 && found == NULL; pass++) {
        int length = snprintf(name, sizeof name, "%s%s", pass ? prefix : "", text);
        if (length < 0 || (size_t)length >= sizeof name) break;
        for (char *c = name; *c; c++) {
            if (*c == ' ') *c = '_';
        }
        found = tool_enum_find(descriptor, name);
    }
    if (found == NULL) return tool_value_refuse(label, text, problem);
    *number_out = (uint32_t)found->value;
    return true;
}

static bool cli_reconcile_text_copy(const char *label, const char *text, size_t bytes_max,
                                    char **out) {
    if (!tool_text_parse(label, text, bytes_max)) return false;
    *out = strdup(text);
    if (*out == NULL) return tool_value_refuse(label, text, "cannot be kept: out of memory");
    return true;
}

/* A filter (provider, commissioner, or the stream of payments and contracts) narrows the
 * ledger's side, so it is one value for the whole file: a constant. */
static bool cli_reconcile_filter_parse(const char *label, const char *field, const char *column,
                                       const char *text, char *code, size_t code_bytes) {
    if (strcmp(column, CLI_RECONCILE_CONSTANT_COLUMN) != 0) {
        fprintf(stderr, "%s: %s: %s narrows the ledger's side to one value, so it is given once "
                        "as \"set %s = ...\" in the mapping, not read from a column\n",
                CLI_PROGRAM, label, field, field);
        return false;
    }
    if (code == NULL) return true;
    if (!tool_text_parse(label, text, FF_ORG_CODE_BYTES_MAX)) return false;
    snprintf(code, code_bytes, "%s", text);
    return true;
}

static bool cli_reconcile_stream_parse(cli_reconcile_reading *reading, const char *label,
                                       const char *column, const char *text,
                                       Fundflow__V1__ReconcileRow *row) {
    uint32_t stream = 0;
    bool key = cli_reconcile_kind_has_key(reading->input->kind, "stream");
    if (!key && !cli_reconcile_filter_parse(label, "stream", column, text, NULL, 0)) return false;
    if (!cli_reconcile_enum_parse(&fundflow__v1__stream__descriptor, "", label, text,
                                  "is not a stream, such as core_services or \"Core services\" "
                                  "(fundflow allocate --help lists them)",
                                  &stream)) {
        return false;
    }
    if (key) row->stream = (Fundflow__V1__Stream)stream;
    if (strcmp(column, CLI_RECONCILE_CONSTANT_COLUMN) == 0) reading->input->stream_filter = stream;
    return true;
}

/* Reads the value of one mapped field into row. */
static bool cli_reconcile_value_parse(cli_reconcile_reading *reading, const char *field,
                                      const char *column, const char *label, const char *text,
                                      Fundflow__V1__ReconcileRow *row) {
    cli_reconcile_input *input = reading->input;
    if (strcmp(field, "amount") == 0) {
        return cli_reconcile_amount_parse(reading->map, label, text, &row->amount_pence);
    }
    if (strcmp(field, "org") == 0) {
        return cli_reconcile_text_copy(label, text, FF_ORG_CODE_BYTES_MAX, &row->org_code);
    }
    if (strcmp(field, "contract") == 0) {
        return cli_reconcile_text_copy(label, text, FF_IDENTIFIER_BYTES_MAX, &row->contract_id);
    }
    if (strcmp(field, "stream") == 0) {
        return cli_reconcile_stream_parse(reading, label, column, text, row);
    }
    if (strcmp(field, "month") == 0) return tool_month_parse(label, text, &row->month);
    if (strcmp(field, "measure") == 0) {
        uint32_t measure = 0;
        if (!cli_reconcile_enum_parse(&fundflow__v1__position_measure__descriptor, "measure_",
                                      label, text, "is not received, passed on or paid",
                                      &measure)) {
            return false;
        }
        row->measure = (Fundflow__V1__PositionMeasure)measure;
        return true;
    }
    if (strcmp(field, "date") == 0) {
        snprintf(reading->date_column, sizeof reading->date_column, "%s", column);
        return cli_reconcile_date_parse(reading->map, label, text, &row->date);
    }
    if (strcmp(field, "year") == 0) {
        snprintf(reading->year_column, sizeof reading->year_column, "%s", column);
        return tool_year_parse(label, text, &row->financial_year);
    }
    if (strcmp(field, "provider") == 0) {
        return cli_reconcile_filter_parse(label, field, column, text, input->provider_code,
                                          sizeof input->provider_code);
    }
    assert(strcmp(field, "commissioner") == 0);
    return cli_reconcile_filter_parse(label, field, column, text, input->commissioner_code,
                                      sizeof input->commissioner_code);
}

/* One row ------------------------------------------------------------------------------------ */

static void cli_reconcile_row_free(Fundflow__V1__ReconcileRow *row) {
    if (row == NULL) return;
    char *texts[] = {row->org_code, row->contract_id, row->reference};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        if (texts[t] != cli_reconcile_empty) free(texts[t]);
    }
    free(row);
}

static Fundflow__V1__ReconcileRow *cli_reconcile_row_new(void) {
    Fundflow__V1__ReconcileRow *row = malloc(sizeof *row);
    if (row == NULL) return NULL;
    fundflow__v1__reconcile_row__init(row);
    row->org_code = row->contract_id = row->reference = cli_reconcile_empty;
    return row;
}

/* "receipts.csv line 12, column Amount", or for a constant "receipts.map: set year". */
static void cli_reconcile_label(const cli_reconcile_input *input, const char *mapping_path,
                                size_t line, const char *field, const char *column, char *label,
                                size_t bytes) {
    if (strcmp(column, CLI_RECONCILE_CONSTANT_COLUMN) == 0) {
        snprintf(label, bytes, "%s: set %s", mapping_path, field);
    } else {
        snprintf(label, bytes, "%s line %zu, column %s", input->file_name, line, column);
    }
}

/* Reads every value of a mapped row into a new ReconcileRow. */
static Fundflow__V1__ReconcileRow *cli_reconcile_row_read(cli_reconcile_reading *reading,
                                                          const char *mapping_path,
                                                          const mapped_row *mapped) {
    Fundflow__V1__ReconcileRow *row = cli_reconcile_row_new();
    if (row == NULL) {
        fprintf(stderr, CLI_PROGRAM ": out of memory reading line %zu\n", mapped->line);
        return NULL;
    }
    row->line = mapped->line > UINT32_MAX ? UINT32_MAX : (uint32_t)mapped->line;
    char label[CLI_RECONCILE_LABEL_BYTES];
    for (size_t f = 0; f < mapped->field_count; f++) {
        cli_reconcile_label(reading->input, mapping_path, mapped->line, mapped->names[f],
                            mapped->columns[f], label, sizeof label);
        if (!cli_reconcile_value_parse(reading, mapped->names[f], mapped->columns[f], label,
                                       mapped->values[f], row)) {
            cli_reconcile_row_free(row);
            return NULL;
        }
    }
    if (mapped->reference != NULL && mapped->reference[0] != '\0') {
        snprintf(label, sizeof label, "%s line %zu, column %s", reading->input->file_name,
                 mapped->line, mapping_directive(reading->map, "reference"));
        if (!cli_reconcile_text_copy(label, mapped->reference, FF_REFERENCE_BYTES_MAX,
                                     &row->reference)) {
            row->reference = cli_reconcile_empty;
            cli_reconcile_row_free(row);
            return NULL;
        }
    }
    if (!reading->month_mapped && row->date != 0 &&
        cli_reconcile_kind_has_key(reading->input->kind, "month")) {
        row->month = calendar_month_of_date(row->date);
    }
    return row;
}

static bool cli_reconcile_row_keep(cli_reconcile_input *input, Fundflow__V1__ReconcileRow *row) {
    if (input->row_count == input->row_capacity) {
        size_t capacity = input->row_capacity ? input->row_capacity * 2 : 64;
        Fundflow__V1__ReconcileRow **rows = realloc(input->rows, capacity * sizeof *rows);
        if (rows == NULL) return false;
        input->rows = rows;
        input->row_capacity = capacity;
    }
    input->rows[input->row_count++] = row;
    return true;
}

/* The year: --year, or else the first row's (a year column, or "set year = 2024/25"). Every row
 * then is for that year: its year, if it has one, and its date, if it has one. */
static int cli_reconcile_year_check(const cli_options *options, const cli_reconcile_reading *reading,
                                    cli_reconcile_input *input) {
    input->financial_year = options->financial_year;
    for (size_t r = 0; r < input->row_count && input->financial_year == 0; r++) {
        input->financial_year = input->rows[r]->financial_year;
    }
    if (input->financial_year == 0) {
        return cli_reconcile_refuse("reconcile needs --year YYYY/YY, or a year in %s (such as "
                                    "\"set year = 2024/25\")",
                                    options->mapping_path);
    }
    char year[CALENDAR_YEAR_TEXT_BYTES], label[CLI_RECONCILE_LABEL_BYTES], text[32];
    calendar_year_format(input->financial_year, year, sizeof year);
    for (size_t r = 0; r < input->row_count; r++) {
        const Fundflow__V1__ReconcileRow *row = input->rows[r];
        bool year_wrong = row->financial_year != 0 && row->financial_year != input->financial_year;
        bool date_wrong = row->date != 0 && calendar_year_of_date(row->date) != input->financial_year;
        if (!year_wrong && !date_wrong) continue;
        cli_reconcile_label(input, options->mapping_path, row->line,
                            year_wrong ? "year" : "date",
                            year_wrong ? reading->year_column : reading->date_column, label,
                            sizeof label);
        if (year_wrong) calendar_year_format(row->financial_year, text, sizeof text);
        else calendar_date_format(row->date, text, sizeof text);
        char problem[96];
        snprintf(problem, sizeof problem, "is outside %s, the year reconciled", year);
        tool_value_refuse(label, text, problem);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Reads every row of the file. */
static int cli_reconcile_rows_read(const cli_options *options, const mapping *map,
                                   cli_reconcile_input *input) {
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = NULL;
    if (mapped_reader_open(options->operand, map, &reader, error, sizeof error) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_USAGE;
    }
    snprintf(input->file_name, sizeof input->file_name, "%s", mapped_reader_file_name(reader));
    cli_hex_text(mapped_reader_file_sha256(reader), 32, input->file_sha256,
                 sizeof input->file_sha256);
    cli_reconcile_reading reading = {.map = map, .input = input,
                                     .month_mapped = cli_reconcile_mapped(map, "month")};
    int code = CLI_EXIT_OK;
    mapped_row mapped;
    ff_err err;
    while (code == CLI_EXIT_OK && (err = mapped_reader_next(reader, &mapped)) == FF_OK) {
        Fundflow__V1__ReconcileRow *row = cli_reconcile_row_read(&reading, options->mapping_path,
                                                                 &mapped);
        if (row == NULL) code = CLI_EXIT_USAGE;
        else if (!cli_reconcile_row_keep(input, row)) {
            cli_reconcile_row_free(row);
            fprintf(stderr, CLI_PROGRAM ": out of memory at line %zu\n", mapped.line);
            code = CLI_EXIT_FAILED;
        }
    }
    if (code == CLI_EXIT_OK && err != FF_ERR_EVENT_UNKNOWN) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", mapped_reader_error(reader));
        code = CLI_EXIT_USAGE;
    }
    mapped_reader_close(reader);
    if (code == CLI_EXIT_OK && input->row_count == 0) {
        code = cli_reconcile_refuse("%s has no rows to reconcile", options->operand);
    }
    if (code == CLI_EXIT_OK) code = cli_reconcile_year_check(options, &reading, input);
    return code;
}

int cli_reconcile_input_read(const cli_options *options, cli_reconcile_input *input) {
    memset(input, 0, sizeof *input);
    char error[MAPPING_ERROR_BYTES];
    mapping *map = NULL;
    if (mapping_load(options->mapping_path, &map, error, sizeof error) != FF_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_USAGE;
    }
    int code = cli_reconcile_kind_choose(options, map, input);
    if (code == CLI_EXIT_OK) code = cli_reconcile_match_read(options->mapping_path, map, input);
    if (code == CLI_EXIT_OK) code = cli_reconcile_fields_check(options, map, input);
    if (code == CLI_EXIT_OK) code = cli_reconcile_tolerance_read(options, map, input);
    if (code == CLI_EXIT_OK) code = cli_reconcile_window_read(options->mapping_path, map, input);
    if (code == CLI_EXIT_OK) code = cli_reconcile_rows_read(options, map, input);
    mapping_free(map);
    return code;
}

void cli_reconcile_input_free(cli_reconcile_input *input) {
    for (size_t r = 0; r < input->row_count; r++) cli_reconcile_row_free(input->rows[r]);
    free(input->rows);
    for (size_t k = 0; k < input->match_key_count; k++) free(input->match_keys[k]);
    memset(input, 0, sizeof *input);
}
