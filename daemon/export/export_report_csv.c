/* A plugin's report as text: the checks every rendering relies on, each cell's text for people
 * and for programs, the findings' order, and RFC 4180 CSV. Every number is written from its
 * integer, so no floating point rounds a figure. */
#include "export.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/money.h"

/* Basis points in one per cent. */
#define EXPORT_BASIS_POINTS_PER_PERCENT 100u

/* The finding levels in the order every rendering lists them, worst first; anything else last. */
static const Fundflow__V1__FindingLevel export_levels[] = {
    FUNDFLOW__V1__FINDING_LEVEL__FAIL, FUNDFLOW__V1__FINDING_LEVEL__WARN,
    FUNDFLOW__V1__FINDING_LEVEL__PASS};
#define EXPORT_LEVEL_COUNT (sizeof export_levels / sizeof export_levels[0])
_Static_assert(EXPORT_LEVEL_COUNT + 1 == EXPORT_FINDING_GROUPS, "a group per level and one more");

bool export_report_check(const Fundflow__V1__Report *report, char *why) {
    for (size_t t = 0; t < report->n_tables; t++) {
        const Fundflow__V1__ReportTable *table = report->tables[t];
        if (table->n_columns == 0) {
            snprintf(why, EXPORT_WHY_BYTES, "the report's table \"%s\" has no columns",
                     table->name);
            return false;
        }
        for (size_t r = 0; r < table->n_rows; r++) {
            if (table->rows[r]->n_cells == table->n_columns) continue;
            snprintf(why, EXPORT_WHY_BYTES,
                     "row %zu of the report's table \"%s\" has %zu cells for %zu columns", r + 1,
                     table->name, table->rows[r]->n_cells, table->n_columns);
            return false;
        }
    }
    return true;
}

/* Cell texts -------------------------------------------------------------------------------- */

/* Basis points as a percentage with two decimal places, "-12.34" then suffix, read from the
 * integer alone. */
static const char *export_percent_text(int64_t basis_points, const char *suffix, char *buffer,
                                       size_t buffer_bytes) {
    uint64_t magnitude =
        basis_points < 0 ? (uint64_t)0 - (uint64_t)basis_points : (uint64_t)basis_points;
    snprintf(buffer, buffer_bytes, "%s%" PRIu64 ".%02" PRIu64 "%s", basis_points < 0 ? "-" : "",
             magnitude / EXPORT_BASIS_POINTS_PER_PERCENT,
             magnitude % EXPORT_BASIS_POINTS_PER_PERCENT, suffix);
    return buffer;
}

/* A YYYYMMDD date as YYYY-MM-DD; none for 0; the bare number for a date that is not real. */
static const char *export_date_text(int64_t date, const char *none, char *buffer,
                                    size_t buffer_bytes) {
    if (date == 0) return none;
    if (date < 0 || date > UINT32_MAX || !calendar_date_valid((uint32_t)date)) {
        snprintf(buffer, buffer_bytes, "%" PRId64, date);
        return buffer;
    }
    calendar_date_format((uint32_t)date, buffer, buffer_bytes);
    return buffer;
}

const char *export_text_clean(const char *text, char *buffer, size_t buffer_bytes) {
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

const char *export_report_cell_text(const Fundflow__V1__ReportColumn *column,
                                    const Fundflow__V1__ReportCell *cell,
                                    export_cell_reader reader, char *buffer, size_t buffer_bytes) {
    bool people = reader == EXPORT_CELL_FOR_PEOPLE;
    int64_t number = cell->number;
    assert(buffer_bytes >= FF_MONEY_TEXT_BYTES && buffer_bytes >= 32);
    switch (column->type) {
    case FUNDFLOW__V1__COLUMN_TYPE__TEXT:
        return people ? export_text_clean(cell->text, buffer, buffer_bytes) : cell->text;
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
        return export_percent_text(number, people ? "%" : "", buffer, buffer_bytes);
    case FUNDFLOW__V1__COLUMN_TYPE__FLAG:
        if (people) return number != 0 ? "yes" : "no";
        return number != 0 ? "true" : "false";
    case FUNDFLOW__V1__COLUMN_TYPE__DATE:
        return export_date_text(number, people ? "-" : "", buffer, buffer_bytes);
    default:
        if (cell->text[0] != '\0') {
            return people ? export_text_clean(cell->text, buffer, buffer_bytes) : cell->text;
        }
        snprintf(buffer, buffer_bytes, "%" PRId64, number);
        return buffer;
    }
}

bool export_report_column_is_figure(const Fundflow__V1__ReportColumn *column) {
    return column->type == FUNDFLOW__V1__COLUMN_TYPE__MONEY ||
           column->type == FUNDFLOW__V1__COLUMN_TYPE__INTEGER ||
           column->type == FUNDFLOW__V1__COLUMN_TYPE__PERCENT;
}

const char *export_report_level_text(Fundflow__V1__FindingLevel level, char *buffer,
                                     size_t buffer_bytes) {
    const ProtobufCEnumValue *found =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__finding_level__descriptor, level);
    if (found != NULL && level != FUNDFLOW__V1__FINDING_LEVEL__FINDING_LEVEL_UNSPECIFIED) {
        return found->name;
    }
    snprintf(buffer, buffer_bytes, "%d", (int)level);
    return buffer;
}

/* Findings ---------------------------------------------------------------------------------- */

Fundflow__V1__FindingLevel export_report_group_level(size_t group) {
    assert(group < EXPORT_LEVEL_COUNT);
    return export_levels[group];
}

bool export_report_finding_in_group(const Fundflow__V1__ReportFinding *finding, size_t group) {
    if (group < EXPORT_LEVEL_COUNT) return finding->level == export_levels[group];
    for (size_t i = 0; i < EXPORT_LEVEL_COUNT; i++) {
        if (finding->level == export_levels[i]) return false;
    }
    return true;
}

void export_report_findings_order(const Fundflow__V1__Report *report,
                                  const Fundflow__V1__ReportFinding **ordered) {
    size_t count = 0;
    for (size_t group = 0; group < EXPORT_FINDING_GROUPS; group++) {
        for (size_t i = 0; i < report->n_findings; i++) {
            if (export_report_finding_in_group(report->findings[i], group)) {
                ordered[count++] = report->findings[i];
            }
        }
    }
    assert(count == report->n_findings);
}

/* CSV --------------------------------------------------------------------------------------- */

/* Writes one text field after a comma unless it is the first. */
static void export_csv_text_write(const char *field, bool first, FILE *out) {
    if (!first) fputc(',', out);
    export_csv_field_write(field, false, out);
}

/* A "# ..." line naming a section. Its text is a table's name, which must not end the line
 * early, so line breaks in it become spaces. */
static void export_csv_section_write(const char *prefix, const char *name, FILE *out) {
    fputs(prefix, out);
    for (const char *cursor = name; *cursor != '\0'; cursor++) {
        fputc(*cursor == '\r' || *cursor == '\n' ? ' ' : *cursor, out);
    }
    fputs(EXPORT_CSV_LINE_END, out);
}

static void export_csv_table_write(const Fundflow__V1__ReportTable *table, FILE *out) {
    export_csv_section_write("# table ", table->name, out);
    for (size_t c = 0; c < table->n_columns; c++) {
        export_csv_text_write(table->columns[c]->name, c == 0, out);
    }
    fputs(EXPORT_CSV_LINE_END, out);
    for (size_t r = 0; r < table->n_rows; r++) {
        const Fundflow__V1__ReportRow *row = table->rows[r];
        assert(row->n_cells == table->n_columns);
        for (size_t c = 0; c < table->n_columns; c++) {
            char text[EXPORT_CELL_BYTES];
            if (c > 0) fputc(',', out);
            export_csv_field_write(export_report_cell_text(table->columns[c], row->cells[c],
                                                           EXPORT_CELL_FOR_PROGRAMS, text,
                                                           sizeof text),
                                   export_report_column_is_figure(table->columns[c]), out);
        }
        fputs(EXPORT_CSV_LINE_END, out);
    }
}

/* The findings of one level group, in the server's order. */
static void export_csv_findings_write(const Fundflow__V1__Report *report, size_t group,
                                      FILE *out) {
    for (size_t i = 0; i < report->n_findings; i++) {
        const Fundflow__V1__ReportFinding *finding = report->findings[i];
        if (!export_report_finding_in_group(finding, group)) continue;
        char level[16];
        export_csv_text_write(export_report_level_text(finding->level, level, sizeof level), true,
                              out);
        export_csv_text_write(finding->org_code, false, out);
        export_csv_text_write(finding->message, false, out);
        fputs(EXPORT_CSV_LINE_END, out);
    }
}

void export_report_csv_write(const Fundflow__V1__Report *report, export_csv_preamble *preamble,
                             const void *context, FILE *out) {
    fputs(EXPORT_CSV_BOM, out);
    if (preamble != NULL) preamble(context, out);
    for (size_t t = 0; t < report->n_tables; t++) export_csv_table_write(report->tables[t], out);
    export_csv_section_write("# findings", "", out);
    export_csv_text_write("level", true, out);
    export_csv_text_write("org_code", false, out);
    export_csv_text_write("message", false, out);
    fputs(EXPORT_CSV_LINE_END, out);
    /* Findings worst first, walked level by level so no list of them is needed. */
    for (size_t group = 0; group < EXPORT_FINDING_GROUPS; group++) {
        export_csv_findings_write(report, group, out);
    }
}
