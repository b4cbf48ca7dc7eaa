/* Tables, key/value blocks and event descriptions for the fundflow client's human output. */
#include "cli_output.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_values.h"
#include "tool_text.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* Labels in a key/value block are padded to this many columns; the longest is 17. */
#define CLI_FIELD_LABEL_COLUMNS 18

/* Columns between two table columns. */
#define CLI_TABLE_GAP "  "

void cli_table_init(cli_table *table, size_t column_count, const char *const *headings,
                    const bool *right_aligned) {
    assert(column_count > 0 && column_count <= CLI_TABLE_COLUMNS_MAX);
    memset(table, 0, sizeof *table);
    table->column_count = column_count;
    for (size_t i = 0; i < column_count; i++) {
        table->headings[i] = headings[i];
        table->right_aligned[i] = right_aligned ? right_aligned[i] : false;
        table->widths[i] = tool_text_columns(headings[i]);
    }
}

static bool cli_table_grow(cli_table *table) {
    if (table->row_count < table->row_capacity) return true;
    if (table->row_capacity >= CLI_TABLE_ROWS_MAX) return false;
    size_t capacity = table->row_capacity ? table->row_capacity * 2 : 64;
    if (capacity > CLI_TABLE_ROWS_MAX) capacity = CLI_TABLE_ROWS_MAX;
    char **grown = realloc(table->cells, capacity * table->column_count * sizeof *grown);
    if (grown == NULL) return false;
    table->cells = grown;
    table->row_capacity = capacity;
    return true;
}

bool cli_table_row_add(cli_table *table, const char *const *cells) {
    if (!cli_table_grow(table)) return false;
    char **row = &table->cells[table->row_count * table->column_count];
    for (size_t i = 0; i < table->column_count; i++) {
        row[i] = strdup(cells[i]);
        if (row[i] == NULL) {
            while (i > 0) free(row[--i]);
            return false;
        }
    }
    for (size_t i = 0; i < table->column_count; i++) {
        size_t columns = tool_text_columns(row[i]);
        if (columns > table->widths[i]) table->widths[i] = columns;
    }
    table->row_count++;
    return true;
}

static void cli_table_line_write(const cli_table *table, const char *const *cells, FILE *out) {
    for (size_t i = 0; i < table->column_count; i++) {
        size_t padding = table->widths[i] - tool_text_columns(cells[i]);
        bool last = i + 1 == table->column_count;
        if (i > 0) fputs(CLI_TABLE_GAP, out);
        if (table->right_aligned[i]) fprintf(out, "%*s", (int)padding, "");
        fputs(cells[i], out);
        if (!table->right_aligned[i] && !last) fprintf(out, "%*s", (int)padding, "");
    }
    fputc('\n', out);
}

void cli_table_write(const cli_table *table, FILE *out) {
    cli_table_line_write(table, table->headings, out);
    for (size_t row = 0; row < table->row_count; row++) {
        cli_table_line_write(table, (const char *const *)&table->cells[row * table->column_count],
                             out);
    }
}

void cli_table_print(const cli_table *table) {
    cli_table_write(table, stdout);
}

void cli_table_free(cli_table *table) {
    for (size_t i = 0; i < table->row_count * table->column_count; i++) free(table->cells[i]);
    free(table->cells);
    memset(table, 0, sizeof *table);
}

void cli_field_print(const char *label, const char *format, ...) {
    size_t columns = tool_text_columns(label) + 1;
    printf("%s:%*s", label,
           (int)(columns < CLI_FIELD_LABEL_COLUMNS ? CLI_FIELD_LABEL_COLUMNS - columns : 1), "");
    va_list arguments;
    va_start(arguments, format);
    vprintf(format, arguments);
    va_end(arguments);
    fputc('\n', stdout);
}

void cli_money_field_print(const char *label, int64_t pence) {
    char money[FF_MONEY_TEXT_BYTES];
    money_format(pence, money, sizeof money);
    cli_field_print(label, "%s", money);
}

const char *cli_codes_text(char *const *codes, size_t count, char *buffer, size_t buffer_bytes) {
    static const char ellipsis[] = "...";
    assert(buffer_bytes > sizeof ellipsis);
    size_t used = 0;
    buffer[0] = '\0';
    if (count == 0) snprintf(buffer, buffer_bytes, "-");
    for (size_t i = 0; i < count; i++) {
        size_t needed = strlen(codes[i]) + (i > 0 ? 2 : 0);
        if (used + needed + sizeof ellipsis > buffer_bytes) {
            snprintf(buffer + used, buffer_bytes - used, "%s", ellipsis);
            break;
        }
        used += (size_t)snprintf(buffer + used, buffer_bytes - used, "%s%s", i > 0 ? ", " : "",
                                 codes[i]);
    }
    return buffer;
}

const char *cli_delegation_mode_text(int mode, char *buffer, size_t buffer_bytes) {
    static const char prefix[] = "delegation_";
    cli_enum_text(&fundflow__v1__delegation_mode__descriptor, mode, buffer, buffer_bytes);
    size_t prefix_bytes = sizeof prefix - 1;
    if (strncmp(buffer, prefix, prefix_bytes) == 0) {
        memmove(buffer, buffer + prefix_bytes, strlen(buffer + prefix_bytes) + 1);
    }
    return buffer;
}

/* The oneof's member names are the kinds' names, so new kinds need nothing here. */
const char *cli_event_kind_text(const Fundflow__V1__Event *event) {
    if (event == NULL || event->kind_case == FUNDFLOW__V1__EVENT__KIND__NOT_SET) return "none";
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(&fundflow__v1__event__descriptor,
                                                (unsigned)event->kind_case);
    return field != NULL ? field->name : "unknown";
}

/* "FROM -> TO stream year £amount", the part allocations and budgets share. */
static void cli_transfer_line(const char *verb, const char *from, const char *to, int stream,
                              uint32_t year, int64_t amount_pence, char *buffer,
                              size_t buffer_bytes) {
    char stream_text[CLI_ENUM_NAME_BYTES_MAX], year_text[16], money[FF_MONEY_TEXT_BYTES];
    cli_enum_text(&fundflow__v1__stream__descriptor, stream, stream_text, sizeof stream_text);
    cli_year_text(year, year_text, sizeof year_text);
    money_format(amount_pence, money, sizeof money);
    snprintf(buffer, buffer_bytes, "%s %s -> %s %s %s %s", verb, from, to, stream_text,
             year_text, money);
}

void cli_event_line(const Fundflow__V1__Event *event, char *buffer, size_t buffer_bytes) {
    char kind[CLI_ENUM_NAME_BYTES_MAX];
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED: {
        const Fundflow__V1__OrgRegistered *org = event->org_registered;
        char members[CLI_CODES_TEXT_BYTES];
        cli_enum_text(&fundflow__v1__org_kind__descriptor, org->kind, kind, sizeof kind);
        cli_codes_text(org->member_codes, org->n_member_codes, members, sizeof members);
        snprintf(buffer, buffer_bytes, "register %s (%s) \"%s\"%s%s%s%s%s%s", org->code, kind,
                 org->name, org->parent_code[0] ? " under " : "", org->parent_code,
                 org->n_member_codes ? " members " : "", org->n_member_codes ? members : "",
                 org->lead_provider_code[0] ? " lead " : "", org->lead_provider_code);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        cli_transfer_line(allocation->recurrent ? "allocate" : "allocate non-recurrent",
                          allocation->funder_code, allocation->recipient_code,
                          allocation->stream, allocation->financial_year,
                          allocation->amount_pence, buffer, buffer_bytes);
        if (allocation->delegation_id[0] != '\0') {
            size_t used = strlen(buffer);
            snprintf(buffer + used, buffer_bytes - used, " under delegation %s",
                     allocation->delegation_id);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        cli_transfer_line("budget", budget->from_code, budget->to_code, budget->stream,
                          budget->financial_year, budget->amount_pence, buffer, buffer_bytes);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        snprintf(buffer, buffer_bytes, "reverse event %" PRIu64 ": %s",
                 event->reversal->reversed_sequence, event->reversal->reason);
        return;
    default:
        if (!cli_domain_event_line(event, buffer, buffer_bytes)) {
            snprintf(buffer, buffer_bytes, "(no event)");
        }
    }
}

static void cli_transfer_fields_print(const char *from_label, const char *from,
                                      const char *to_label, const char *to, int stream,
                                      uint32_t year, int64_t amount_pence,
                                      const char *reference) {
    char stream_text[CLI_ENUM_NAME_BYTES_MAX], year_text[16], money[FF_MONEY_TEXT_BYTES];
    cli_field_print(from_label, "%s", from);
    cli_field_print(to_label, "%s", to);
    cli_field_print("stream", "%s", cli_enum_text(&fundflow__v1__stream__descriptor, stream,
                                                  stream_text, sizeof stream_text));
    cli_field_print("year", "%s", cli_year_text(year, year_text, sizeof year_text));
    money_format(amount_pence, money, sizeof money);
    cli_field_print("amount", "%s", money);
    cli_field_print("reference", "%s", reference[0] ? reference : "-");
}

void cli_event_fields_print(const Fundflow__V1__Event *event) {
    char kind[CLI_ENUM_NAME_BYTES_MAX];
    cli_field_print("event", "%s", cli_event_kind_text(event));
    switch (event ? event->kind_case : FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED: {
        const Fundflow__V1__OrgRegistered *org = event->org_registered;
        cli_field_print("code", "%s", org->code);
        cli_field_print("name", "%s", org->name);
        cli_field_print("kind", "%s", cli_enum_text(&fundflow__v1__org_kind__descriptor,
                                                    org->kind, kind, sizeof kind));
        cli_field_print("parent", "%s", org->parent_code[0] ? org->parent_code : "-");
        if (org->n_member_codes > 0) {
            char members[CLI_CODES_TEXT_BYTES];
            cli_field_print("members", "%s", cli_codes_text(org->member_codes,
                                                            org->n_member_codes, members,
                                                            sizeof members));
        }
        if (org->lead_provider_code[0] != '\0') {
            cli_field_print("lead provider", "%s", org->lead_provider_code);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        cli_transfer_fields_print("funder", allocation->funder_code, "recipient",
                                  allocation->recipient_code, allocation->stream,
                                  allocation->financial_year, allocation->amount_pence,
                                  allocation->reference);
        cli_field_print("recurrent", "%s", allocation->recurrent ? "yes" : "no");
        if (allocation->delegation_id[0] != '\0') {
            cli_field_print("delegation", "%s", allocation->delegation_id);
        }
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        cli_transfer_fields_print("from", budget->from_code, "to", budget->to_code,
                                  budget->stream, budget->financial_year, budget->amount_pence,
                                  budget->reference);
        return;
    }
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        cli_field_print("reverses event", "%" PRIu64, event->reversal->reversed_sequence);
        cli_field_print("reason", "%s", event->reversal->reason);
        return;
    default:
        cli_domain_event_fields_print(event);
        return;
    }
}
