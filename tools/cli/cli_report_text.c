/* A plugin's report as text: the checks every rendering relies on, the terminal table and RFC 4180
 * CSV. Every number is written from its integer, so no floating point rounds a figure. */
#include "cli_report.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Bytes of one cell's text that the writers format into: holds any money, integer, percentage or
 * date. Text cells are used where they lie, unless a terminal needs them cleaned, when longer
 * text is cut to fit. */
#define CLI_REPORT_CELL_BYTES 256

/* Basis points in one per cent. */
#define CLI_REPORT_BASIS_POINTS_PER_PERCENT 100u

/* CSV ends each line with CRLF, as RFC 4180 section 2.1 asks. */
#define CLI_REPORT_CSV_LINE_END "\r\n"

/* A UTF-8 byte order mark, so that Excel reads the file as UTF-8 and shows "£". */
#define CLI_REPORT_CSV_BOM "\xEF\xBB\xBF"

/* The finding levels in the order the table lists them, worst first; anything else comes last. */
static const Fundflow__V1__FindingLevel cli_report_levels[] = {
    FUNDFLOW__V1__FINDING_LEVEL__FAIL, FUNDFLOW__V1__FINDING_LEVEL__WARN,
    FUNDFLOW__V1__FINDING_LEVEL__PASS};
#define CLI_REPORT_LEVEL_COUNT (sizeof cli_report_levels / sizeof cli_report_levels[0])

/* Who a cell's text is written for: people at a terminal, or programs reading CSV. */
typedef enum cli_cell_reader { CLI_CELL_FOR_PEOPLE, CLI_CELL_FOR_PROGRAMS } cli_cell_reader;

static const char *const cli_report_format_names[] = {
    [CLI_REPORT_FORMAT_TABLE] = "table",
    [CLI_REPORT_FORMAT_CSV] = "csv",
    [CLI_REPORT_FORMAT_JSON] = "json",
    [CLI_REPORT_FORMAT_XLSX] = "xlsx",
};

bool cli_report_format_find(const char *name, cli_report_format *format_out) {
    for (int i = CLI_REPORT_FORMAT_TABLE; i <= CLI_REPORT_FORMAT_XLSX; i++) {
        if (strcasecmp(name, cli_report_format_names[i]) == 0) {
            *format_out = (cli_report_format)i;
            return true;
        }
    }
    return false;
}

const char *cli_report_format_name(cli_report_format format) {
    assert(format >= CLI_REPORT_FORMAT_TABLE && format <= CLI_REPORT_FORMAT_XLSX);
    return cli_report_format_names[format];
}

bool cli_report_check(const Fundflow__V1__Report *report) {
    for (size_t t = 0; t < report->n_tables; t++) {
        const Fundflow__V1__ReportTable *table = report->tables[t];
        if (table->n_columns == 0) {
            fprintf(stderr, CLI_PROGRAM ": the report's table \"%s\" has no columns\n",
                    table->name);
            return false;
        }
        for (size_t r = 0; r < table->n_rows; r++) {
            if (table->rows[r]->n_cells == table->n_columns) continue;
            fprintf(stderr, CLI_PROGRAM ": row %zu of the report's table \"%s\" has %zu cells "
                            "for %zu columns\n",
                    r + 1, table->name, table->rows[r]->n_cells, table->n_columns);
            return false;
        }
    }
    return true;
}

/* Cell texts -------------------------------------------------------------------------------- */

/* Basis points as a percentage with two decimal places, "-12.34" then suffix, read from the
 * integer alone. */
static const char *cli_report_percent_text(int64_t basis_points, const char *suffix,
                                           char *buffer, size_t buffer_bytes) {
    uint64_t magnitude =
        basis_points < 0 ? (uint64_t)0 - (uint64_t)basis_points : (uint64_t)basis_points;
    snprintf(buffer, buffer_bytes, "%s%" PRIu64 ".%02" PRIu64 "%s", basis_points < 0 ? "-" : "",
             magnitude / CLI_REPORT_BASIS_POINTS_PER_PERCENT,
             magnitude % CLI_REPORT_BASIS_POINTS_PER_PERCENT, suffix);
    return buffer;
}

/* A YYYYMMDD date as YYYY-MM-DD; none for 0; the bare number for a date that is not real. */
static const char *cli_report_date_text(int64_t date, const char *none, char *buffer,
                                        size_t buffer_bytes) {
    if (date == 0) return none;
    if (date < 0 || date > UINT32_MAX) {
        snprintf(buffer, buffer_bytes, "%" PRId64, date);
        return buffer;
    }
    return cli_date_text((uint32_t)date, buffer, buffer_bytes);
}

/* Text for a terminal: control characters (a line break would split the table's row) become
 * spaces. Text without any is returned as it is, however long; other text is cut to the buffer
 * without splitting a UTF-8 character. */
static const char *cli_report_text_clean(const char *text, char *buffer, size_t buffer_bytes) {
    const unsigned char *bytes = (const unsigned char *)text;
    size_t i = 0;
    while (bytes[i] >= 0x20 && bytes[i] != 0x7F) i++;
    if (bytes[i] == '\0') return text;
    size_t length = strlen(text);
    if (length >= buffer_bytes) {
        length = buffer_bytes - 1;
        while (length > 0 && (bytes[length] & 0xC0) == 0x80) length--;
    }
    for (i = 0; i < length; i++) {
        buffer[i] = bytes[i] < 0x20 || bytes[i] == 0x7F ? ' ' : text[i];
    }
    buffer[length] = '\0';
    return buffer;
}

/* The cell's text for reader, written into buffer or, for text, perhaps the cell's own. */
static const char *cli_report_cell_text(const Fundflow__V1__ReportColumn *column,
                                        const Fundflow__V1__ReportCell *cell,
                                        cli_cell_reader reader, char *buffer,
                                        size_t buffer_bytes) {
    bool people = reader == CLI_CELL_FOR_PEOPLE;
    int64_t number = cell->number;
    assert(buffer_bytes >= FF_MONEY_TEXT_BYTES && buffer_bytes >= 32);
    switch (column->type) {
    case FUNDFLOW__V1__COLUMN_TYPE__TEXT:
        return people ? cli_report_text_clean(cell->text, buffer, buffer_bytes) : cell->text;
    case FUNDFLOW__V1__COLUMN_TYPE__MONEY:
        if (people) money_format(number, buffer, buffer_bytes);
        else money_format_plain(number, buffer, buffer_bytes);
        return buffer;
    case FUNDFLOW__V1__COLUMN_TYPE__INTEGER:
        /* Counts and identifiers such as event numbers: never grouped, so event 4409 reads as
         * the events listing prints it. Only money has thousands separators. */
        snprintf(buffer, buffer_bytes, "%" PRId64, number);
        return buffer;
    case FUNDFLOW__V1__COLUMN_TYPE__PERCENT:
        return cli_report_percent_text(number, people ? "%" : "", buffer, buffer_bytes);
    case FUNDFLOW__V1__COLUMN_TYPE__FLAG:
        if (people) return number != 0 ? "yes" : "no";
        return number != 0 ? "true" : "false";
    case FUNDFLOW__V1__COLUMN_TYPE__DATE:
        return cli_report_date_text(number, people ? "-" : "", buffer, buffer_bytes);
    default:
        if (cell->text[0] != '\0') {
            return people ? cli_report_text_clean(cell->text, buffer, buffer_bytes) : cell->text;
        }
        snprintf(buffer, buffer_bytes, "%" PRId64, number);
        return buffer;
    }
}

/* Whether the column's figures line up on the right. */
static bool cli_report_column_right_aligned(const Fundflow__V1__ReportColumn *column) {
    return column->type == FUNDFLOW__V1__COLUMN_TYPE__MONEY ||
           column->type == FUNDFLOW__V1__COLUMN_TYPE__INTEGER ||
           column->type == FUNDFLOW__V1__COLUMN_TYPE__PERCENT;
}

/* "FAIL", "WARN" or "PASS", or the level's number. */
static const char *cli_report_level_text(Fundflow__V1__FindingLevel level, char *buffer,
                                         size_t buffer_bytes) {
    const ProtobufCEnumValue *found =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__finding_level__descriptor, level);
    if (found != NULL && level != FUNDFLOW__V1__FINDING_LEVEL__FINDING_LEVEL_UNSPECIFIED) {
        return found->name;
    }
    snprintf(buffer, buffer_bytes, "%d", (int)level);
    return buffer;
}

/* The table --------------------------------------------------------------------------------- */

/* Whether every table fits a cli_table; otherwise says which does not and what to use. */
static bool cli_report_widths_check(const Fundflow__V1__Report *report) {
    for (size_t t = 0; t < report->n_tables; t++) {
        const Fundflow__V1__ReportTable *table = report->tables[t];
        if (table->n_columns <= CLI_TABLE_COLUMNS_MAX) continue;
        fprintf(stderr, CLI_PROGRAM ": the report's table \"%s\" has %zu columns and the table "
                        "format shows at most %d; use --format csv, json or xlsx\n",
                table->name, table->n_columns, CLI_TABLE_COLUMNS_MAX);
        return false;
    }
    return true;
}

/* Fills a cli_table with the report table's rows. Returns 0, or 4 when memory runs out. */
static int cli_report_table_fill(const Fundflow__V1__ReportTable *source, cli_table *table) {
    assert(source->n_columns > 0 && source->n_columns <= CLI_TABLE_COLUMNS_MAX);
    const char *headings[CLI_TABLE_COLUMNS_MAX];
    bool right[CLI_TABLE_COLUMNS_MAX];
    char heading_texts[CLI_TABLE_COLUMNS_MAX][CLI_REPORT_CELL_BYTES];
    for (size_t c = 0; c < source->n_columns; c++) {
        headings[c] = cli_report_text_clean(source->columns[c]->name, heading_texts[c],
                                            sizeof heading_texts[c]);
        right[c] = cli_report_column_right_aligned(source->columns[c]);
    }
    cli_table_init(table, source->n_columns, headings, right);
    for (size_t r = 0; r < source->n_rows; r++) {
        const Fundflow__V1__ReportRow *row = source->rows[r];
        char texts[CLI_TABLE_COLUMNS_MAX][CLI_REPORT_CELL_BYTES];
        const char *cells[CLI_TABLE_COLUMNS_MAX];
        assert(row->n_cells == source->n_columns);
        for (size_t c = 0; c < source->n_columns; c++) {
            cells[c] = cli_report_cell_text(source->columns[c], row->cells[c],
                                            CLI_CELL_FOR_PEOPLE, texts[c], sizeof texts[c]);
        }
        if (!cli_table_row_add(table, cells)) {
            fprintf(stderr, CLI_PROGRAM ": out of memory at row %zu of the report's table "
                            "\"%s\"\n",
                    r + 1, source->name);
            return CLI_EXIT_FAILED;
        }
    }
    return CLI_EXIT_OK;
}

static int cli_report_one_table_write(const Fundflow__V1__ReportTable *source, FILE *out) {
    char name[CLI_REPORT_CELL_BYTES];
    cli_table table;
    memset(&table, 0, sizeof table);
    int code = cli_report_table_fill(source, &table);
    if (code == CLI_EXIT_OK) {
        fprintf(out, "\n%s: %zu row%s\n", cli_report_text_clean(source->name, name, sizeof name),
                source->n_rows, source->n_rows == 1 ? "" : "s");
        cli_table_write(&table, out);
    }
    cli_table_free(&table);
    return code;
}

/* Whether the finding belongs to group, the index of its level in cli_report_levels or
 * CLI_REPORT_LEVEL_COUNT for every other level. */
static bool cli_report_finding_in_group(const Fundflow__V1__ReportFinding *finding, size_t group) {
    if (group < CLI_REPORT_LEVEL_COUNT) return finding->level == cli_report_levels[group];
    for (size_t i = 0; i < CLI_REPORT_LEVEL_COUNT; i++) {
        if (finding->level == cli_report_levels[i]) return false;
    }
    return true;
}

/* "findings: 2 FAIL, 1 WARN, 9 PASS", with ", 1 of another level" when the server sent one. */
static void cli_report_finding_counts_write(const Fundflow__V1__Report *report, FILE *out) {
    fprintf(out, "\nfindings:");
    for (size_t group = 0; group <= CLI_REPORT_LEVEL_COUNT; group++) {
        size_t count = 0;
        for (size_t i = 0; i < report->n_findings; i++) {
            if (cli_report_finding_in_group(report->findings[i], group)) count++;
        }
        if (group == CLI_REPORT_LEVEL_COUNT) {
            if (count > 0) fprintf(out, ", %zu of another level", count);
        } else {
            char level[16];
            fprintf(out, "%s %zu %s", group > 0 ? "," : "", count,
                    cli_report_level_text(cli_report_levels[group], level, sizeof level));
        }
    }
    fputc('\n', out);
}

/* The findings as one table, FAIL first, then WARN, then PASS, each in the server's order. */
static int cli_report_findings_write(const Fundflow__V1__Report *report, FILE *out) {
    cli_report_finding_counts_write(report, out);
    if (report->n_findings == 0) return CLI_EXIT_OK;
    static const char *const headings[] = {"level", "org", "message"};
    cli_table table;
    cli_table_init(&table, 3, headings, NULL);
    bool added = true;
    for (size_t group = 0; group <= CLI_REPORT_LEVEL_COUNT && added; group++) {
        for (size_t i = 0; i < report->n_findings && added; i++) {
            const Fundflow__V1__ReportFinding *finding = report->findings[i];
            if (!cli_report_finding_in_group(finding, group)) continue;
            char level[16], org[CLI_REPORT_CELL_BYTES], message[CLI_REPORT_CELL_BYTES * 4];
            const char *cells[] = {
                cli_report_level_text(finding->level, level, sizeof level),
                finding->org_code[0] ? cli_report_text_clean(finding->org_code, org, sizeof org)
                                     : "-",
                cli_report_text_clean(finding->message, message, sizeof message)};
            added = cli_table_row_add(&table, cells);
        }
    }
    if (added) cli_table_write(&table, out);
    else fprintf(stderr, CLI_PROGRAM ": out of memory listing the report's findings\n");
    cli_table_free(&table);
    return added ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cli_report_table_write(const Fundflow__V1__Report *report, const char *org_code, FILE *out) {
    if (!cli_report_widths_check(report)) return CLI_EXIT_REFUSED;
    char name[CLI_REPORT_CELL_BYTES], version[CLI_REPORT_CELL_BYTES], year[16];
    fprintf(out, "report %s %s for %s as at event %" PRIu64 ", %s%s\n",
            cli_report_text_clean(report->plugin, name, sizeof name),
            cli_report_text_clean(report->plugin_version, version, sizeof version),
            cli_year_text(report->financial_year, year, sizeof year), report->as_at_sequence,
            org_code ? "organisation " : "every organisation", org_code ? org_code : "");
    if (report->n_tables == 0) fprintf(out, "\nno tables\n");
    for (size_t t = 0; t < report->n_tables; t++) {
        int code = cli_report_one_table_write(report->tables[t], out);
        if (code != CLI_EXIT_OK) return code;
    }
    return cli_report_findings_write(report, out);
}

/* CSV --------------------------------------------------------------------------------------- */

/* Writes one text field after a comma unless it is the first (cli_csv_field_write). */
static void cli_report_csv_field_write(const char *field, bool first, FILE *out) {
    if (!first) fputc(',', out);
    cli_csv_field_write(field, false, out);
}

/* A "# ..." line naming a section. Its text is a table's name, which must not end the line
 * early, so line breaks in it become spaces. */
static void cli_report_csv_section_write(const char *prefix, const char *name, FILE *out) {
    fputs(prefix, out);
    for (const char *cursor = name; *cursor != '\0'; cursor++) {
        fputc(*cursor == '\r' || *cursor == '\n' ? ' ' : *cursor, out);
    }
    fputs(CLI_REPORT_CSV_LINE_END, out);
}

static void cli_report_csv_table_write(const Fundflow__V1__ReportTable *table, FILE *out) {
    cli_report_csv_section_write("# table ", table->name, out);
    for (size_t c = 0; c < table->n_columns; c++) {
        cli_report_csv_field_write(table->columns[c]->name, c == 0, out);
    }
    fputs(CLI_REPORT_CSV_LINE_END, out);
    for (size_t r = 0; r < table->n_rows; r++) {
        const Fundflow__V1__ReportRow *row = table->rows[r];
        assert(row->n_cells == table->n_columns);
        for (size_t c = 0; c < table->n_columns; c++) {
            char text[CLI_REPORT_CELL_BYTES];
            if (c > 0) fputc(',', out);
            cli_csv_field_write(cli_report_cell_text(table->columns[c], row->cells[c],
                                                     CLI_CELL_FOR_PROGRAMS, text, sizeof text),
                                cli_report_column_right_aligned(table->columns[c]), out);
        }
        fputs(CLI_REPORT_CSV_LINE_END, out);
    }
}

static void cli_report_csv_findings_write(const Fundflow__V1__Report *report, size_t group,
                                          FILE *out);

void cli_report_findings_order(const Fundflow__V1__Report *report,
                               const Fundflow__V1__ReportFinding **ordered) {
    size_t count = 0;
    for (size_t group = 0; group <= CLI_REPORT_LEVEL_COUNT; group++) {
        for (size_t i = 0; i < report->n_findings; i++) {
            if (cli_report_finding_in_group(report->findings[i], group)) {
                ordered[count++] = report->findings[i];
            }
        }
    }
    assert(count == report->n_findings);
}

void cli_report_csv_write(const Fundflow__V1__Report *report,
                          const cli_export_provenance *provenance, FILE *out) {
    fputs(CLI_REPORT_CSV_BOM, out);
    if (provenance != NULL) cli_export_provenance_csv_write(provenance, out);
    for (size_t t = 0; t < report->n_tables; t++) cli_report_csv_table_write(report->tables[t], out);
    cli_report_csv_section_write("# findings", "", out);
    cli_report_csv_field_write("level", true, out);
    cli_report_csv_field_write("org_code", false, out);
    cli_report_csv_field_write("message", false, out);
    fputs(CLI_REPORT_CSV_LINE_END, out);
    /* Findings worst first, walked level by level so no list of them is needed. */
    for (size_t group = 0; group <= CLI_REPORT_LEVEL_COUNT; group++) {
        cli_report_csv_findings_write(report, group, out);
    }
}

/* The findings of one level group, in the server's order. */
static void cli_report_csv_findings_write(const Fundflow__V1__Report *report, size_t group,
                                          FILE *out) {
    for (size_t i = 0; i < report->n_findings; i++) {
        const Fundflow__V1__ReportFinding *finding = report->findings[i];
        if (!cli_report_finding_in_group(finding, group)) continue;
        char level[16];
        cli_report_csv_field_write(cli_report_level_text(finding->level, level, sizeof level),
                                   true, out);
        cli_report_csv_field_write(finding->org_code, false, out);
        cli_report_csv_field_write(finding->message, false, out);
        fputs(CLI_REPORT_CSV_LINE_END, out);
    }
}
