/* Parses mapping files (mapping.h) and turns a file's dates and amounts into the CLI's forms. */
#include "mapping.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "mapping_internal.h"

/* The directives whose values are kept as written, in the order of mapping_directive's list. */
static const char *const mapping_directive_names[MAPPING_DIRECTIVES] = {
    "kind", "match", "tolerance", "date window", "reference",
    "date format", "amount format", "amount sign", "header",
};

/* What one statement's left side names. */
typedef enum mapping_target_kind {
    MAPPING_TARGET_DIRECTIVE,
    MAPPING_TARGET_CONSTANT,
    MAPPING_TARGET_COLUMN,
} mapping_target_kind;

/* The parser's state: the mapping it fills and where it is, for messages. */
typedef struct mapping_parser {
    mapping *map;
    const char *name;
    size_t line;
    char *error;
    size_t error_bytes;
} mapping_parser;

static ff_err mapping_fail(mapping_parser *parser, ff_err code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static ff_err mapping_fail(mapping_parser *parser, ff_err code, const char *format, ...) {
    assert(code != FF_OK);
    if (parser->error_bytes == 0) return code;
    int prefix = snprintf(parser->error, parser->error_bytes, "%s line %zu: ", parser->name,
                          parser->line);
    size_t used = prefix < 0 ? 0 : (size_t)prefix;
    if (used < parser->error_bytes) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(parser->error + used, parser->error_bytes - used, format, arguments);
        va_end(arguments);
    }
    return code;
}

/* Copies at most MAPPING_TEXT_BYTES_MAX bytes of text, NUL-terminated, into a new string. */
static char *mapping_text_copy(const char *text, size_t length) {
    assert(length <= MAPPING_TEXT_BYTES_MAX);
    char *copy = malloc(length + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

/* Trims spaces and tabs from both ends of [*start, *start + *length). */
static void mapping_trim(const char **start, size_t *length) {
    while (*length > 0 && (**start == ' ' || **start == '\t')) {
        (*start)++;
        (*length)--;
    }
    while (*length > 0 && ((*start)[*length - 1] == ' ' || (*start)[*length - 1] == '\t')) {
        (*length)--;
    }
}

/* Whether text of length bytes equals word, ignoring case and treating runs of spaces as one. */
static bool mapping_words_equal(const char *text, size_t length, const char *word) {
    size_t i = 0;
    for (const char *w = word; *w != '\0'; w++) {
        if (i >= length || tolower((unsigned char)text[i]) != tolower((unsigned char)*w)) {
            return false;
        }
        i++;
        if (*w == ' ') {
            while (i < length && text[i] == ' ') i++;
        }
    }
    return i == length;
}

/* Where a statement's comment starts: a '#' at the start or after a space, unless a digit
 * follows it (#3 names a column), and not inside double quotes. */
static size_t mapping_comment_start(const char *line, size_t length) {
    bool quoted = false;
    for (size_t i = 0; i < length; i++) {
        if (line[i] == '"') quoted = !quoted;
        if (quoted || line[i] != '#') continue;
        bool after_space = i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t';
        bool before_digit = i + 1 < length && isdigit((unsigned char)line[i + 1]);
        if (after_space && !before_digit) return i;
    }
    return length;
}

static int mapping_directive_index(const char *text, size_t length) {
    for (int i = 0; i < MAPPING_DIRECTIVES; i++) {
        if (mapping_words_equal(text, length, mapping_directive_names[i])) return i;
    }
    return -1;
}

/* The date formats' names as a mapping writes them. */
static const struct {
    const char *name;
    mapping_date_format format;
} mapping_date_format_names[] = {
    {"YYYY-MM-DD", MAPPING_DATE_ISO},         {"DD/MM/YYYY", MAPPING_DATE_DMY_SLASH},
    {"D/M/YYYY", MAPPING_DATE_DMY_SLASH},     {"DD-MM-YYYY", MAPPING_DATE_DMY_DASH},
    {"DD.MM.YYYY", MAPPING_DATE_DMY_DOT},     {"DD-MON-YYYY", MAPPING_DATE_DMON_YYYY},
    {"YYYYMMDD", MAPPING_DATE_COMPACT},
};

/* Applies a format directive's value, refusing one it does not know. */
static ff_err mapping_setting_apply(mapping_parser *parser, int directive, const char *value) {
    mapping *map = parser->map;
    size_t length = strlen(value);
    if (directive == MAPPING_DIRECTIVE_DATE_FORMAT) {
        for (size_t i = 0; i < sizeof mapping_date_format_names / sizeof *mapping_date_format_names;
             i++) {
            if (mapping_words_equal(value, length, mapping_date_format_names[i].name)) {
                map->date_format = mapping_date_format_names[i].format;
                return FF_OK;
            }
        }
        return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                            "date format \"%s\" is not one of YYYY-MM-DD, DD/MM/YYYY, D/M/YYYY, "
                            "DD-MM-YYYY, DD.MM.YYYY, DD-MON-YYYY, YYYYMMDD",
                            value);
    }
    if (directive == MAPPING_DIRECTIVE_AMOUNT_FORMAT) {
        if (mapping_words_equal(value, length, "pounds")) map->amount_format = MAPPING_AMOUNT_POUNDS;
        else if (mapping_words_equal(value, length, "pence")) map->amount_format = MAPPING_AMOUNT_PENCE;
        else {
            return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                                "amount format \"%s\" is not pounds or pence", value);
        }
    } else if (directive == MAPPING_DIRECTIVE_AMOUNT_SIGN) {
        if (mapping_words_equal(value, length, "negate")) map->negated = true;
        else if (mapping_words_equal(value, length, "as is")) map->negated = false;
        else {
            return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                                "amount sign \"%s\" is not negate or as is", value);
        }
    } else if (directive == MAPPING_DIRECTIVE_HEADER) {
        if (mapping_words_equal(value, length, "none")) map->has_header = false;
        else if (mapping_words_equal(value, length, "first line")) map->has_header = true;
        else {
            return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                                "header \"%s\" is not none or first line", value);
        }
    }
    return FF_OK;
}

static ff_err mapping_directive_set(mapping_parser *parser, int directive, const char *value,
                                    size_t value_length) {
    mapping *map = parser->map;
    if (map->directives[directive] != NULL) {
        return mapping_fail(parser, FF_ERR_TEXT_INVALID, "%s is given twice (first on line %zu)",
                            mapping_directive_names[directive], map->directive_lines[directive]);
    }
    map->directives[directive] = mapping_text_copy(value, value_length);
    if (map->directives[directive] == NULL) return FF_ERR_NO_MEMORY;
    map->directive_lines[directive] = parser->line;
    return mapping_setting_apply(parser, directive, map->directives[directive]);
}

/* Parses "#N" into a position from 1, or 0 if text is not one. */
static size_t mapping_position_parse(const char *text, size_t length) {
    if (length < 2 || text[0] != '#') return 0;
    size_t position = 0;
    for (size_t i = 1; i < length; i++) {
        if (!isdigit((unsigned char)text[i])) return 0;
        position = position * 10 + (size_t)(text[i] - '0');
        if (position > CSV_FIELDS_MAX) return CSV_FIELDS_MAX + 1;
    }
    return position;
}

/* Adds a field, mapped from a column or set to a constant, refusing a field named twice. */
static ff_err mapping_field_add(mapping_parser *parser, mapping_target_kind kind,
                                const char *source, size_t source_length, const char *field,
                                size_t field_length) {
    mapping *map = parser->map;
    for (size_t i = 0; i < map->field_count; i++) {
        const mapping_field *other = &map->fields[i];
        if (strlen(other->name) != field_length || strncmp(other->name, field, field_length) != 0) {
            continue;
        }
        bool both_columns = kind == MAPPING_TARGET_COLUMN && other->constant == NULL;
        bool both_set = kind == MAPPING_TARGET_CONSTANT && other->constant != NULL;
        return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                            both_columns ? "two columns for the field %s (also on line %zu)"
                            : both_set   ? "the field %s is set twice (also on line %zu)"
                                         : "the field %s is both mapped and set (also on line %zu)",
                            other->name, other->line);
    }
    if (map->field_count == MAPPING_FIELDS_MAX) {
        return mapping_fail(parser, FF_ERR_FIELD_TOO_LONG,
                            "more than %d fields (columns and constants together)",
                            MAPPING_FIELDS_MAX);
    }
    mapping_field *added = &map->fields[map->field_count];
    added->line = parser->line;
    added->name = mapping_text_copy(field, field_length);
    if (kind == MAPPING_TARGET_CONSTANT) {
        added->constant = mapping_text_copy(source, source_length);
    } else {
        added->position = mapping_position_parse(source, source_length);
        added->heading = mapping_text_copy(source, source_length);
    }
    map->field_count++;
    if (added->name == NULL || (added->constant == NULL && added->heading == NULL)) {
        return FF_ERR_NO_MEMORY;
    }
    return FF_OK;
}

/* Refuses text beyond MAPPING_TEXT_BYTES_MAX, naming what it is. */
static ff_err mapping_text_check(mapping_parser *parser, const char *what, size_t length) {
    if (length == 0) return mapping_fail(parser, FF_ERR_TEXT_INVALID, "the %s is empty", what);
    if (length > MAPPING_TEXT_BYTES_MAX) {
        return mapping_fail(parser, FF_ERR_FIELD_TOO_LONG, "the %s is longer than %u bytes", what,
                            MAPPING_TEXT_BYTES_MAX);
    }
    return FF_OK;
}

/* Unwraps a "quoted" name, which is always a column heading. */
static ff_err mapping_name_unquote(mapping_parser *parser, const char **name, size_t *length,
                                   bool *quoted) {
    *quoted = *length > 0 && (*name)[0] == '"';
    if (!*quoted) return FF_OK;
    if (*length < 2 || (*name)[*length - 1] != '"' || memchr(*name + 1, '"', *length - 2) != NULL) {
        return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                            "a quoted heading must be one \"...\" with no quote inside");
    }
    (*name)++;
    *length -= 2;
    mapping_trim(name, length);
    return FF_OK;
}

/* Applies one statement, NAME = VALUE, both trimmed. */
static ff_err mapping_statement_apply(mapping_parser *parser, const char *name,
                                      size_t name_length, const char *value,
                                      size_t value_length) {
    bool quoted = false;
    ff_err err = mapping_name_unquote(parser, &name, &name_length, &quoted);
    if (err == FF_OK) err = mapping_text_check(parser, "name before '='", name_length);
    if (err == FF_OK) err = mapping_text_check(parser, "value after '='", value_length);
    if (err != FF_OK) return err;
    int directive = quoted ? -1 : mapping_directive_index(name, name_length);
    if (directive >= 0) return mapping_directive_set(parser, directive, value, value_length);
    if (!quoted && name_length > 4 && mapping_words_equal(name, 4, "set ")) {
        const char *field = name + 4;
        size_t field_length = name_length - 4;
        mapping_trim(&field, &field_length);
        return mapping_field_add(parser, MAPPING_TARGET_CONSTANT, value, value_length, field,
                                 field_length);
    }
    if (!quoted && name[0] == '#') {
        size_t position = mapping_position_parse(name, name_length);
        if (position == 0 || position > CSV_FIELDS_MAX) {
            return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                                "column %.*s is not a position from #1 to #%d", (int)name_length,
                                name, CSV_FIELDS_MAX);
        }
    }
    return mapping_field_add(parser, MAPPING_TARGET_COLUMN, name, name_length, value,
                             value_length);
}

/* Parses one line (without its line end), ignoring blanks and comments. */
static ff_err mapping_line_parse(mapping_parser *parser, const char *line, size_t length) {
    if (length > MAPPING_LINE_BYTES_MAX) {
        return mapping_fail(parser, FF_ERR_FIELD_TOO_LONG, "the line is longer than %u bytes",
                            MAPPING_LINE_BYTES_MAX);
    }
    if (memchr(line, '\0', length) != NULL) {
        return mapping_fail(parser, FF_ERR_TEXT_INVALID, "a NUL byte; a mapping file is text");
    }
    length = mapping_comment_start(line, length);
    mapping_trim(&line, &length);
    if (length == 0) return FF_OK;
    const char *equals = memchr(line, '=', length);
    if (equals == NULL) {
        return mapping_fail(parser, FF_ERR_TEXT_INVALID,
                            "no '=': write NAME = VALUE, such as Amount = amount");
    }
    const char *name = line;
    size_t name_length = (size_t)(equals - line);
    const char *value = equals + 1;
    size_t value_length = length - name_length - 1;
    mapping_trim(&name, &name_length);
    mapping_trim(&value, &value_length);
    return mapping_statement_apply(parser, name, name_length, value, value_length);
}

/* Moves constants after columns, keeping each group's written order, as mapping.h promises. */
static void mapping_fields_order(mapping *map) {
    mapping_field ordered[MAPPING_FIELDS_MAX];
    size_t count = 0;
    for (int constants = 0; constants < 2; constants++) {
        for (size_t i = 0; i < map->field_count; i++) {
            if ((map->fields[i].constant != NULL) == (constants == 1)) {
                ordered[count++] = map->fields[i];
            }
        }
    }
    assert(count == map->field_count);
    memcpy(map->fields, ordered, count * sizeof *ordered);
}

ff_err mapping_parse(const char *text, size_t length, const char *name, mapping **mapping_out,
                     char *error, size_t error_bytes) {
    assert((text != NULL || length == 0) && name != NULL && mapping_out != NULL);
    assert(error != NULL || error_bytes == 0);
    *mapping_out = NULL;
    if (error_bytes > 0) error[0] = '\0';
    mapping_parser parser = {.name = name, .line = 1, .error = error, .error_bytes = error_bytes};
    if (length > MAPPING_FILE_BYTES_MAX) {
        parser.line = 0;
        if (error_bytes > 0) {
            snprintf(error, error_bytes, "%s: the mapping file is longer than %u bytes", name,
                     MAPPING_FILE_BYTES_MAX);
        }
        return FF_ERR_FIELD_TOO_LONG;
    }
    parser.map = calloc(1, sizeof *parser.map);
    if (parser.map == NULL) return mapping_fail(&parser, FF_ERR_NO_MEMORY, "out of memory");
    parser.map->has_header = true;
    size_t start = 0;
    if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) start = 3;
    ff_err err = FF_OK;
    while (err == FF_OK && start < length) {
        const char *line_end = memchr(text + start, '\n', length - start);
        size_t line_length = line_end == NULL ? length - start : (size_t)(line_end - text) - start;
        size_t next = start + line_length + 1;
        if (line_length > 0 && text[start + line_length - 1] == '\r') line_length--;
        err = mapping_line_parse(&parser, text + start, line_length);
        start = next;
        parser.line++;
    }
    if (err == FF_ERR_NO_MEMORY) mapping_fail(&parser, err, "out of memory");
    if (err != FF_OK) {
        mapping_free(parser.map);
        return err;
    }
    mapping_fields_order(parser.map);
    *mapping_out = parser.map;
    return FF_OK;
}

ff_err mapping_load(const char *path, mapping **mapping_out, char *error, size_t error_bytes) {
    assert(path != NULL && mapping_out != NULL);
    assert(error != NULL || error_bytes == 0);
    *mapping_out = NULL;
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        if (error_bytes > 0) snprintf(error, error_bytes, "%s: %s", path, strerror(errno));
        return FF_ERR_IO;
    }
    /* One byte more than the limit, to tell a file at the limit from one beyond it. */
    char *text = malloc(MAPPING_FILE_BYTES_MAX + 1);
    if (text == NULL) {
        fclose(file);
        if (error_bytes > 0) snprintf(error, error_bytes, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    size_t length = fread(text, 1, MAPPING_FILE_BYTES_MAX + 1, file);
    bool failed = ferror(file) != 0;
    fclose(file);
    ff_err err = FF_ERR_IO;
    if (failed) {
        if (error_bytes > 0) snprintf(error, error_bytes, "%s: cannot be read", path);
    } else {
        err = mapping_parse(text, length, path, mapping_out, error, error_bytes);
    }
    free(text);
    return err;
}

void mapping_free(mapping *map) {
    if (map == NULL) return;
    for (size_t i = 0; i < map->field_count; i++) {
        free(map->fields[i].name);
        free(map->fields[i].heading);
        free(map->fields[i].constant);
    }
    for (int i = 0; i < MAPPING_DIRECTIVES; i++) free(map->directives[i]);
    free(map);
}

const char *mapping_directive(const mapping *map, const char *directive) {
    assert(map != NULL && directive != NULL);
    int index = mapping_directive_index(directive, strlen(directive));
    return index < 0 ? NULL : map->directives[index];
}

mapping_date_format mapping_date_format_get(const mapping *map) { return map->date_format; }

mapping_amount_format mapping_amount_format_get(const mapping *map) {
    return map->amount_format;
}

bool mapping_amount_negated(const mapping *map) { return map->negated; }

bool mapping_has_header(const mapping *map) { return map->has_header; }

size_t mapping_field_count(const mapping *map) { return map->field_count; }

const char *mapping_field_name(const mapping *map, size_t index) {
    assert(index < map->field_count);
    return map->fields[index].name;
}

/* ---- dates and amounts ---- */

static bool mapping_problem(const char **problem, const char *reason) {
    if (problem != NULL) *problem = reason;
    return false;
}

/* Reads between min and max digits at *text into *value, moving past them. */
static bool mapping_digits_read(const char **text, size_t min, size_t max, unsigned *value) {
    size_t count = 0;
    *value = 0;
    while (count < max && isdigit((unsigned char)**text)) {
        *value = *value * 10 + (unsigned)(**text - '0');
        (*text)++;
        count++;
    }
    return count >= min && !isdigit((unsigned char)**text);
}

/* The month 1-12 for a three-letter name such as APR in any case, or 0. */
static unsigned mapping_month_name_parse(const char *text) {
    static const char names[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    char upper[3];
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)text[i])) return 0;
        upper[i] = (char)toupper((unsigned char)text[i]);
    }
    for (unsigned month = 0; month < 12; month++) {
        if (memcmp(names + 3 * month, upper, 3) == 0) return month + 1;
    }
    return 0;
}

/* Reads day, month and year in a day-first format with separator. */
static bool mapping_day_first_read(const char *text, char separator, bool month_named,
                                   unsigned *day, unsigned *month, unsigned *year) {
    if (!mapping_digits_read(&text, 1, 2, day) || *text++ != separator) return false;
    if (month_named) {
        *month = mapping_month_name_parse(text);
        if (*month == 0) return false;
        text += 3;
    } else if (!mapping_digits_read(&text, 1, 2, month)) {
        return false;
    }
    return *text++ == separator && mapping_digits_read(&text, 4, 4, year) && *text == '\0';
}

static bool mapping_year_first_read(const char *text, bool compact, unsigned *day,
                                    unsigned *month, unsigned *year) {
    if (compact) {
        if (strlen(text) != 8) return false;
        for (int i = 0; i < 8; i++) {
            if (!isdigit((unsigned char)text[i])) return false;
        }
        *year = (unsigned)atoi((char[]){text[0], text[1], text[2], text[3], '\0'});
        *month = (unsigned)((text[4] - '0') * 10 + (text[5] - '0'));
        *day = (unsigned)((text[6] - '0') * 10 + (text[7] - '0'));
        return true;
    }
    return mapping_digits_read(&text, 4, 4, year) && *text++ == '-' &&
           mapping_digits_read(&text, 2, 2, month) && *text++ == '-' &&
           mapping_digits_read(&text, 2, 2, day) && *text == '\0';
}

bool mapping_date_to_iso(const mapping *map, const char *text, char *out, size_t out_bytes,
                         const char **problem) {
    assert(map != NULL && text != NULL && out != NULL);
    if (out_bytes < 11) return mapping_problem(problem, "no room for the date");
    unsigned day = 0, month = 0, year = 0;
    bool read = false;
    const char *form = "YYYY-MM-DD";
    switch (map->date_format) {
    case MAPPING_DATE_ISO: read = mapping_year_first_read(text, false, &day, &month, &year); break;
    case MAPPING_DATE_COMPACT:
        form = "not in the form YYYYMMDD";
        read = mapping_year_first_read(text, true, &day, &month, &year);
        break;
    case MAPPING_DATE_DMY_SLASH:
        form = "not in the form DD/MM/YYYY";
        read = mapping_day_first_read(text, '/', false, &day, &month, &year);
        break;
    case MAPPING_DATE_DMY_DASH:
        form = "not in the form DD-MM-YYYY";
        read = mapping_day_first_read(text, '-', false, &day, &month, &year);
        break;
    case MAPPING_DATE_DMY_DOT:
        form = "not in the form DD.MM.YYYY";
        read = mapping_day_first_read(text, '.', false, &day, &month, &year);
        break;
    case MAPPING_DATE_DMON_YYYY:
        form = "not in the form DD-MON-YYYY, such as 01-APR-2024";
        read = mapping_day_first_read(text, '-', true, &day, &month, &year);
        break;
    }
    if (!read) {
        return mapping_problem(problem, map->date_format == MAPPING_DATE_ISO
                                            ? "not in the form YYYY-MM-DD"
                                            : form);
    }
    /* Each part is within its digits, so this fits; the CLI's parser checks the calendar. */
    snprintf(out, out_bytes, "%04u-%02u-%02u", year % 10000, month % 100, day % 100);
    return true;
}

/* Writes pence text (an optional sign and digits) as pounds: "123450" -> "1234.50". */
static bool mapping_pence_to_pounds(const char *text, bool negate, char *out, size_t out_bytes,
                                    const char **problem) {
    bool negative = false;
    if (*text == '-' || *text == '+') negative = *text++ == '-';
    if (negate) negative = !negative;
    while (*text == '0' && isdigit((unsigned char)text[1])) text++;
    size_t digits = strlen(text);
    if (digits == 0 || strspn(text, "0123456789") != digits) {
        return mapping_problem(problem, "pence must be a whole number, such as 123450");
    }
    /* Sign, at least "0.00"'s digits, the point and the terminator. */
    size_t whole = digits > 2 ? digits - 2 : 0;
    size_t needed = (negative ? 1 : 0) + (whole > 0 ? whole : 1) + 1 + 2 + 1;
    if (needed > out_bytes) return mapping_problem(problem, "too many digits");
    char padded[4] = "000";
    const char *fraction = text + whole;
    if (digits < 2) {
        padded[2] = text[0];
        fraction = padded + 1;
    }
    snprintf(out, out_bytes, "%s%.*s.%.2s", negative ? "-" : "", (int)(whole > 0 ? whole : 1),
             whole > 0 ? text : "0", fraction);
    return true;
}

bool mapping_amount_to_pounds(const mapping *map, const char *text, char *out,
                              size_t out_bytes, const char **problem) {
    assert(map != NULL && text != NULL && out != NULL);
    if (map->amount_format == MAPPING_AMOUNT_PENCE) {
        return mapping_pence_to_pounds(text, map->negated, out, out_bytes, problem);
    }
    /* Pounds go through as written, £ and commas included, for money_parse to judge. */
    const char *sign = "";
    if (map->negated && *text != '\0') {
        if (*text == '-' || *text == '+') sign = *text++ == '-' ? "" : "-";
        else sign = "-";
    }
    if (strlen(sign) + strlen(text) + 1 > out_bytes) {
        return mapping_problem(problem, "the amount is too long");
    }
    snprintf(out, out_bytes, "%s%s", sign, text);
    return true;
}
