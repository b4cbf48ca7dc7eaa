/* fundflow import's kinds and fields, and one mapped CSV row made into a Command by the write
 * subcommand's own flag parsers and event builder: each field is the subcommand's flag of the
 * same name, so a row's values are read exactly as the command line reads them. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_import.h"

#include "cli_arguments.h"
#include "cli_flags.h"
#include "tool_values.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The most arguments a row becomes: the program, two words, an operand, a flag per field, the
 * reference and the key. */
#define CLI_IMPORT_ARGUMENTS_MAX (MAPPING_FIELDS_MAX + 6)

/* A flag's value_name that says the value is an amount of pounds, or a date. */
#define CLI_IMPORT_POUNDS_VALUE "POUNDS"
#define CLI_IMPORT_DATE_VALUE "YYYY-MM-DD"

/* The width help's lists of fields are wrapped to. */
#define CLI_IMPORT_HELP_COLUMNS 92

static const cli_import_kind cli_import_kinds[] = {
    {"allocations", CLI_SUBCOMMAND_ALLOCATE, NULL},
    {"budgets", CLI_SUBCOMMAND_BUDGET, NULL},
    {"contracts", CLI_SUBCOMMAND_CONTRACT_AGREE, "id"},
    {"payments", CLI_SUBCOMMAND_PAY, "contract"},
    {"outcomes", CLI_SUBCOMMAND_OUTCOME, "contract"},
    {"statements", CLI_SUBCOMMAND_STATEMENT, NULL},
    {"plans", CLI_SUBCOMMAND_PLAN_SET, "org"},
};
#define CLI_IMPORT_KIND_COUNT (sizeof cli_import_kinds / sizeof cli_import_kinds[0])

/* Kinds --------------------------------------------------------------------------------------- */

const cli_import_kind *cli_import_kind_find(const char *name) {
    /* "outcome reports", as the issue names them, is the same kind as "outcomes". */
    if (strcasecmp(name, "outcome reports") == 0 || strcasecmp(name, "outcome-reports") == 0) {
        name = "outcomes";
    }
    for (size_t i = 0; i < CLI_IMPORT_KIND_COUNT; i++) {
        if (strcasecmp(cli_import_kinds[i].name, name) == 0) return &cli_import_kinds[i];
    }
    return NULL;
}

const cli_import_kind *cli_import_kind_get(uint32_t kind) {
    return kind >= 1 && kind <= CLI_IMPORT_KIND_COUNT ? &cli_import_kinds[kind - 1] : NULL;
}

bool cli_import_kind_parse(const char *flag, const char *text, uint32_t *kind_out) {
    const cli_import_kind *kind = cli_import_kind_find(text);
    if (kind == NULL) {
        return tool_value_refuse(flag, text, "is not a kind: allocations, budgets, contracts, "
                                             "payments, outcomes, statements or plans");
    }
    *kind_out = (uint32_t)(kind - cli_import_kinds) + 1;
    return true;
}

/* Fields -------------------------------------------------------------------------------------- */

/* Whether flag is one of the kind's fields: the subcommand's own flags, less --key (import
 * makes the key) and --help. Global flags (--server and so on) are not fields. */
static bool cli_import_flag_is_field(const cli_import_kind *kind, const tool_flag *flag) {
    tool_subcommand_set every = cli_flag_table.every_subcommand;
    if ((flag->subcommands & CLI_FOR(kind->subcommand)) == 0) return false;
    if ((flag->subcommands & every) == every) return false;
    return strcmp(flag->name, "--key") != 0 && strcmp(flag->name, "--help") != 0;
}

/* The kind's flag for a field name, or NULL. */
static const tool_flag *cli_import_field_flag(const cli_import_kind *kind, const char *field) {
    char argument[MAPPING_TEXT_BYTES_MAX + 3];
    int length = snprintf(argument, sizeof argument, "--%s", field);
    if (length < 0 || (size_t)length >= sizeof argument) return NULL;
    const tool_flag *flag = tool_flag_find(&cli_flag_table, argument, (size_t)length,
                                           kind->subcommand);
    return flag != NULL && cli_import_flag_is_field(kind, flag) ? flag : NULL;
}

static bool cli_import_operand_required(const cli_import_kind *kind) {
    const char *operand = cli_subcommands[kind->subcommand].operand;
    return kind->operand_field != NULL && operand != NULL && operand[0] != '[';
}

static bool cli_import_is_field(const cli_import_kind *kind, const char *field) {
    if (kind->operand_field && strcmp(field, kind->operand_field) == 0) return true;
    return cli_import_field_flag(kind, field) != NULL;
}

/* Calls visit for each of the kind's fields once, the operand first, in the table's order. */
typedef void (*cli_import_field_visit)(void *context, const char *field, bool required);

static void cli_import_fields_each(const cli_import_kind *kind, cli_import_field_visit visit,
                                   void *context) {
    if (kind->operand_field) visit(context, kind->operand_field, cli_import_operand_required(kind));
    for (size_t i = 0; i < cli_flag_table.count; i++) {
        const tool_flag *flag = &cli_flag_table.flags[i];
        if (!cli_import_flag_is_field(kind, flag)) continue;
        /* A flag with two entries for one subcommand is one field. */
        if (cli_import_field_flag(kind, flag->name + 2) != flag) continue;
        visit(context, flag->name + 2, (flag->required & CLI_FOR(kind->subcommand)) != 0);
    }
}

typedef struct cli_import_field_list {
    char text[1024];
    size_t count;
    bool mark_required;
} cli_import_field_list;

static void cli_import_field_list_add(void *context, const char *field, bool required) {
    cli_import_field_list *list = context;
    size_t used = strlen(list->text);
    snprintf(list->text + used, sizeof list->text - used, "%s%s%s", list->count ? ", " : "",
             field, required && list->mark_required ? "*" : "");
    list->count++;
}

static void cli_import_fields_text(const cli_import_kind *kind, bool mark_required,
                                   cli_import_field_list *list) {
    memset(list, 0, sizeof *list);
    list->mark_required = mark_required;
    cli_import_fields_each(kind, cli_import_field_list_add, list);
}

/* "  KIND (as SUBCOMMAND): FIELD, FIELD, ..." broken after a comma before
 * CLI_IMPORT_HELP_COLUMNS, with continuation lines indented. */
static void cli_import_wrapped_print(FILE *out, const char *kind, const char *subcommand,
                                     const char *fields) {
    int column = fprintf(out, "  %s (as %s):", kind, subcommand);
    const char *cursor = fields;
    while (*cursor != '\0') {
        size_t word = strcspn(cursor, ",");
        bool more = cursor[word] == ',';
        if (column + 1 + (int)word + more > CLI_IMPORT_HELP_COLUMNS) {
            fputs("\n     ", out);
            column = 5;
        }
        column += fprintf(out, " %.*s%s", (int)word, cursor, more ? "," : "");
        cursor += word + more;
        if (*cursor == ' ') cursor++;
    }
    fputc('\n', out);
}

void cli_import_fields_help_print(FILE *out) {
    fprintf(out, "\nKinds and their fields (a mapping's \"column = field\" names these; * marks a\n"
                 "field every row needs; each is the subcommand's flag of that name, without\n"
                 "\"--\", so \"fundflow SUBCOMMAND --help\" says what it takes):\n");
    for (size_t i = 0; i < CLI_IMPORT_KIND_COUNT; i++) {
        char name[32];
        cli_subcommand_name(cli_import_kinds[i].subcommand, name, sizeof name);
        cli_import_field_list list;
        cli_import_fields_text(&cli_import_kinds[i], true, &list);
        cli_import_wrapped_print(out, cli_import_kinds[i].name, name, list.text);
    }
    fprintf(out, "A mapping's \"reference = COLUMN\" fills the field reference where the kind has\n"
                 "one. Amounts may be 1234.5, 1,234.50 or £1,234.50 (or pence, with \"amount\n"
                 "format = pence\"); dates YYYY-MM-DD or the mapping's \"date format\". A field\n"
                 "with no value (--non-recurrent) is given by yes, true or 1 and left out by no,\n"
                 "false, 0 or an empty cell.\n");
}

/* Mapping checks ---------------------------------------------------------------------------- */

static void cli_import_trim(char **start, char **end) {
    while (*start < *end && (**start == ' ' || **start == '\t')) (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r')) {
        (*end)--;
    }
}

/* Whether one mapping line names field: "COLUMN = field" or "set field = VALUE". */
static bool cli_import_line_names(char *line, const char *field) {
    char *equals = strchr(line, '=');
    if (equals == NULL) return false;
    char *left = line, *left_end = equals, *right = equals + 1;
    char *comment = strstr(right, " #");
    char *right_end = comment ? comment : right + strlen(right);
    cli_import_trim(&left, &left_end);
    cli_import_trim(&right, &right_end);
    size_t length = strlen(field);
    if ((size_t)(right_end - right) == length && strncasecmp(right, field, length) == 0) {
        return true;
    }
    if (left_end - left > 4 && strncasecmp(left, "set ", 4) == 0) {
        left += 4;
        cli_import_trim(&left, &left_end);
        return (size_t)(left_end - left) == length && strncasecmp(left, field, length) == 0;
    }
    return false;
}

/* The line of the mapping file that names field, or 0 if it cannot be found. */
static size_t cli_import_mapping_line(const char *path, const char *field) {
    FILE *file = fopen(path, "r");
    if (file == NULL) return 0;
    char line[MAPPING_LINE_BYTES_MAX + 2];
    size_t number = 0, found = 0;
    while (found == 0 && fgets(line, sizeof line, file) != NULL) {
        number++;
        line[strcspn(line, "\n")] = '\0';
        if (cli_import_line_names(line, field)) found = number;
    }
    fclose(file);
    return found;
}

typedef struct cli_import_required_check {
    const mapping *map;
    char missing[512];
} cli_import_required_check;

static void cli_import_required_visit(void *context, const char *field, bool required) {
    cli_import_required_check *check = context;
    if (!required) return;
    for (size_t i = 0; i < mapping_field_count(check->map); i++) {
        if (strcmp(mapping_field_name(check->map, i), field) == 0) return;
    }
    size_t used = strlen(check->missing);
    snprintf(check->missing + used, sizeof check->missing - used, "%s%s", used ? ", " : "",
             field);
}

bool cli_import_mapping_check(const cli_import_kind *kind, const mapping *map,
                              const char *mapping_path) {
    cli_import_field_list list;
    cli_import_fields_text(kind, false, &list);
    for (size_t i = 0; i < mapping_field_count(map); i++) {
        const char *field = mapping_field_name(map, i);
        if (cli_import_is_field(kind, field)) continue;
        size_t line = cli_import_mapping_line(mapping_path, field);
        char where[64] = "";
        if (line > 0) snprintf(where, sizeof where, " line %zu", line);
        fprintf(stderr, CLI_PROGRAM ": %s%s: \"%s\" is not a field of %s; its fields are: %s\n",
                mapping_path, where, field, kind->name, list.text);
        return false;
    }
    cli_import_required_check check = {map, ""};
    cli_import_fields_each(kind, cli_import_required_visit, &check);
    if (check.missing[0] != '\0') {
        fprintf(stderr, CLI_PROGRAM ": %s maps no column to %s, which every row of %s needs\n",
                mapping_path, check.missing, kind->name);
        return false;
    }
    return true;
}

/* Rows ---------------------------------------------------------------------------------------- */

/* A row on its way to being a command line: the arguments (each owned) and, for messages, the
 * row and kind. */
typedef struct cli_import_line {
    const cli_import_kind *kind;
    const mapping *map;
    const mapped_row *row;
    char *arguments[CLI_IMPORT_ARGUMENTS_MAX];
    int count;
    cli_import_parsed *parsed;
    bool refused; /* the sink has put a refusal in parsed */
    Fundflow__V1__Command *command;
} cli_import_line;

static bool cli_import_argument_add(cli_import_line *line, const char *prefix, const char *text) {
    assert(line->count < CLI_IMPORT_ARGUMENTS_MAX);
    size_t bytes = strlen(prefix) + strlen(text) + 1;
    char *argument = malloc(bytes);
    if (argument == NULL) return false;
    snprintf(argument, bytes, "%s%s", prefix, text);
    line->arguments[line->count++] = argument;
    return true;
}

static void cli_import_line_free(cli_import_line *line) {
    for (int i = 0; i < line->count; i++) free(line->arguments[i]);
    line->count = 0;
}

/* The column a field's value came from, as the file heads it, and its text as written. */
static const char *cli_import_column_of(const cli_import_line *line, const char *field,
                                        const char **value) {
    for (size_t i = 0; i < line->row->field_count; i++) {
        if (strcmp(line->row->names[i], field) == 0) {
            if (value) *value = line->row->values[i];
            return line->row->columns[i];
        }
    }
    if (strcmp(field, "reference") == 0 && line->row->reference != NULL) {
        if (value) *value = line->row->reference;
        const char *column = mapping_directive(line->map, "reference");
        return column ? column : "reference";
    }
    return NULL;
}

const char *cli_import_text_shorten(const char *text, char *shown, size_t shown_bytes) {
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
    assert(shown_bytes > sizeof ellipsis);
    size_t length = strlen(text);
    if (length < shown_bytes) {
        memcpy(shown, text, length + 1);
        return shown;
    }
    size_t keep = shown_bytes - sizeof ellipsis;
    /* Never cut a UTF-8 character in two: back off over continuation bytes. */
    while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80) keep--;
    memcpy(shown, text, keep);
    memcpy(shown + keep, ellipsis, sizeof ellipsis);
    return shown;
}

/* Records the first refusal of a row: the column and the reason, naming the line. */
static bool cli_import_refuse(cli_import_line *line, const char *column, const char *text,
                              const char *problem) {
    if (line->refused) return false;
    line->refused = true;
    cli_import_parsed *parsed = line->parsed;
    snprintf(parsed->field, sizeof parsed->field, "%s", column ? column : "");
    if (column && text) {
        char shown[CLI_IMPORT_VALUE_SHOWN_BYTES];
        snprintf(parsed->reason, sizeof parsed->reason, "line %zu, column \"%s\": \"%s\" %s",
                 line->row->line, column, cli_import_text_shorten(text, shown, sizeof shown),
                 problem);
    } else if (column) {
        snprintf(parsed->reason, sizeof parsed->reason, "line %zu, column \"%s\": %s",
                 line->row->line, column, problem);
    } else {
        snprintf(parsed->reason, sizeof parsed->reason, "line %zu: %s", line->row->line, problem);
    }
    return false;
}

/* The message sink while a row is parsed: a refusal names the flag, which is the field. */
static void cli_import_sink(void *context, const char *flag, const char *value,
                            const char *message) {
    cli_import_line *line = context;
    if (flag == NULL) {
        cli_import_refuse(line, NULL, NULL, message);
        return;
    }
    const char *field = strncmp(flag, "--", 2) == 0 ? flag + 2 : line->kind->operand_field;
    const char *written = NULL;
    const char *column = field ? cli_import_column_of(line, field, &written) : NULL;
    /* The cell as written, not as carried over (pence become pounds on the way). */
    cli_import_refuse(line, column ? column : field, written ? written : value, message);
}

static int cli_import_collect(void *context, const Fundflow__V1__Command *command) {
    cli_import_line *line = context;
    /* The command points into the run function's frame: a packed copy outlives it. */
    size_t bytes = fundflow__v1__command__get_packed_size(command);
    uint8_t *packed = malloc(bytes ? bytes : 1);
    if (packed == NULL) return CLI_EXIT_FAILED;
    fundflow__v1__command__pack(command, packed);
    line->command = fundflow__v1__command__unpack(NULL, bytes, packed);
    free(packed);
    return line->command ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static bool cli_import_boolean_add(cli_import_line *line, const tool_flag *flag,
                                   const char *column, const char *value) {
    if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
        strcmp(value, "1") == 0 || strcasecmp(value, "y") == 0) {
        return cli_import_argument_add(line, flag->name, "");
    }
    if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
        strcmp(value, "0") == 0 || strcasecmp(value, "n") == 0) {
        return true;
    }
    return cli_import_refuse(line, column, value, "is not yes or no");
}

/* Adds one field's value as "--field=value", carried over from the file's date or amount
 * format first; the flag's own parser reads it later. */
static bool cli_import_field_add(cli_import_line *line, const char *field, const char *column,
                                 const char *value) {
    if (line->kind->operand_field && strcmp(field, line->kind->operand_field) == 0) {
        /* The operand is a word on the command line, which a leading '-' would make a flag. */
        if (value[0] == '-') return cli_import_refuse(line, column, value, "must not start with -");
        return cli_import_argument_add(line, "", value);
    }
    const tool_flag *flag = cli_import_field_flag(line->kind, field);
    assert(flag != NULL); /* cli_import_mapping_check let only the kind's fields through */
    if (flag->value_name == NULL) return cli_import_boolean_add(line, flag, column, value);
    char carried[MAPPING_TEXT_BYTES_MAX * 2];
    const char *problem = NULL;
    if (strcmp(flag->value_name, CLI_IMPORT_DATE_VALUE) == 0) {
        if (!mapping_date_to_iso(line->map, value, carried, sizeof carried, &problem)) {
            return cli_import_refuse(line, column, value, problem ? problem : "is not a date");
        }
        value = carried;
    } else if (strcmp(flag->value_name, CLI_IMPORT_POUNDS_VALUE) == 0) {
        if (!mapping_amount_to_pounds(line->map, value, carried, sizeof carried, &problem)) {
            return cli_import_refuse(line, column, value,
                                     problem ? problem : "is not an amount");
        }
        value = carried;
    }
    char prefix[MAPPING_TEXT_BYTES_MAX + 4];
    snprintf(prefix, sizeof prefix, "%s=", flag->name);
    return cli_import_argument_add(line, prefix, value);
}

static bool cli_import_field_required(const cli_import_kind *kind, const char *field) {
    if (kind->operand_field && strcmp(field, kind->operand_field) == 0) {
        return cli_import_operand_required(kind);
    }
    const tool_flag *flag = cli_import_field_flag(kind, field);
    return flag && (flag->required & CLI_FOR(kind->subcommand)) != 0;
}

/* The subcommand's words, the operand, then each field with a value as a flag; the reference
 * column where the kind has a reference and the mapping does not map one; and the key. */
static bool cli_import_arguments_make(cli_import_line *line, const char *key) {
    const cli_subcommand *subcommand = &cli_subcommands[line->kind->subcommand];
    bool ok = cli_import_argument_add(line, "", CLI_PROGRAM);
    if (ok && subcommand->group) ok = cli_import_argument_add(line, "", subcommand->group);
    if (ok) ok = cli_import_argument_add(line, "", subcommand->name);
    const mapped_row *row = line->row;
    bool reference_mapped = false;
    /* The operand goes first, as a word, so that it can never be taken for a flag's value. */
    for (int pass = 0; ok && pass < 2; pass++) {
        for (size_t i = 0; ok && i < row->field_count; i++) {
            bool operand = line->kind->operand_field &&
                           strcmp(row->names[i], line->kind->operand_field) == 0;
            if (operand != (pass == 0)) continue;
            if (strcmp(row->names[i], "reference") == 0) reference_mapped = true;
            if (row->values[i][0] == '\0') {
                if (!cli_import_field_required(line->kind, row->names[i])) continue;
                return cli_import_refuse(line, row->columns[i], NULL, "is empty, and every row "
                                         "needs it");
            }
            ok = cli_import_field_add(line, row->names[i], row->columns[i], row->values[i]);
            if (!ok && line->refused) return false;
        }
    }
    if (ok && !reference_mapped && row->reference && row->reference[0] &&
        cli_import_field_flag(line->kind, "reference") != NULL) {
        ok = cli_import_field_add(line, "reference", cli_import_column_of(line, "reference", NULL),
                                  row->reference);
    }
    if (ok) ok = cli_import_argument_add(line, "--key=", key);
    return ok;
}

bool cli_import_row_parse(const cli_import_kind *kind, const mapping *map, const mapped_row *row,
                          const char *key, cli_session *session, cli_import_parsed *parsed) {
    memset(parsed, 0, sizeof *parsed);
    cli_import_line line = {.kind = kind, .map = map, .row = row, .parsed = parsed};
    bool ok = cli_import_arguments_make(&line, key);
    if (ok) {
        cli_options options;
        tool_message_sink_set(cli_import_sink, &line);
        int code = cli_arguments_read(line.count, line.arguments, &options);
        if (code == CLI_EXIT_OK && options.subcommand == kind->subcommand) {
            cli_command_collector_set(cli_import_collect, &line);
            code = cli_subcommands[kind->subcommand].run(&options, session);
            cli_command_collector_set(NULL, NULL);
        } else if (code == CLI_EXIT_OK) {
            code = CLI_EXIT_USAGE;
        }
        tool_message_sink_set(NULL, NULL);
        ok = code == CLI_EXIT_OK && line.command != NULL;
        if (!ok && !line.refused && code == CLI_EXIT_USAGE) {
            cli_import_refuse(&line, NULL, NULL, "refused by the command-line parser (its "
                                                 "message is on stderr above)");
        }
    }
    cli_import_line_free(&line);
    if (!ok && line.command) fundflow__v1__command__free_unpacked(line.command, NULL);
    parsed->command = ok ? line.command : NULL;
    return ok;
}
