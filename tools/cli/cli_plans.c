/* The fundflow client's plan subcommands: "plan set", which records an organisation's monthly
 * expenditure plan (PlanSet), and "outturn", which prints plan against actual month by month and
 * the forecast outturn (GetOutturn) as one table and the forecast lines under it, or exports
 * the table (--format, --output, --sort). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/ledger.pb-c.h"

/* ---- plan set ---- */

int cli_plan_set_run(const cli_options *options, cli_session *session) {
    int64_t amounts[FF_MONTHS_PER_YEAR];
    for (size_t m = 0; m < FF_MONTHS_PER_YEAR; m++) {
        amounts[m] = options->month_amounts_given ? options->month_amounts_pence[m]
                                                  : options->amount_each_pence;
    }
    Fundflow__V1__PlanSet plan = FUNDFLOW__V1__PLAN_SET__INIT;
    plan.org_code = (char *)options->operand;
    plan.stream = (Fundflow__V1__Stream)options->stream;
    plan.financial_year = options->financial_year;
    plan.n_month_amounts_pence = FF_MONTHS_PER_YEAR;
    plan.month_amounts_pence = amounts;
    plan.reason = cli_text_or_empty(options->reason);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_PLAN_SET;
    event.plan_set = &plan;
    return cli_command_send(options, session, &event);
}

/* ---- outturn ---- */

enum {
    CLI_OUTTURN_MONTH,
    CLI_OUTTURN_PLAN,
    CLI_OUTTURN_ACTUAL,
    CLI_OUTTURN_VARIANCE,
    CLI_OUTTURN_YTD_PLAN,
    CLI_OUTTURN_YTD_ACTUAL,
    CLI_OUTTURN_YTD_VARIANCE,
    CLI_OUTTURN_COMMITTED,
    CLI_OUTTURN_FORECAST,
    CLI_OUTTURN_COLUMNS
};
_Static_assert(CLI_OUTTURN_COLUMNS <= CLI_TABLE_COLUMNS_MAX, "a cli_table holds every column");

static const char *const cli_outturn_headings[CLI_OUTTURN_COLUMNS] = {
    "month", "plan", "actual", "variance", "YTD plan", "YTD actual", "YTD variance",
    "committed", "forecast"};

/* One row's cells, each its own buffer. */
typedef struct cli_outturn_row {
    char cells[CLI_OUTTURN_COLUMNS][FF_MONEY_TEXT_BYTES];
} cli_outturn_row;

static void cli_outturn_money(cli_outturn_row *row, int column, int64_t pence) {
    money_format(pence, row->cells[column], sizeof row->cells[column]);
}

static void cli_outturn_dash(cli_outturn_row *row, int column) {
    snprintf(row->cells[column], sizeof row->cells[column], "-");
}

/* The running year-to-date sums; the server's own totals are checked against them. */
typedef struct cli_outturn_sums {
    int64_t ytd_plan, ytd_actual;
} cli_outturn_sums;

static bool cli_outturn_month_row(const Fundflow__V1__Outturn *outturn,
                                  const Fundflow__V1__OutturnMonth *month,
                                  cli_outturn_sums *sums, cli_outturn_row *row) {
    snprintf(row->cells[CLI_OUTTURN_MONTH], sizeof row->cells[0], "M%" PRIu32, month->month);
    cli_outturn_money(row, CLI_OUTTURN_PLAN, month->plan_pence);
    cli_outturn_money(row, CLI_OUTTURN_FORECAST, month->forecast_pence);
    if (month->committed_pence != 0 || month->month > outturn->to_month) {
        cli_outturn_money(row, CLI_OUTTURN_COMMITTED, month->committed_pence);
    } else {
        cli_outturn_dash(row, CLI_OUTTURN_COMMITTED);
    }
    if (month->month > outturn->to_month) {
        for (int column = CLI_OUTTURN_ACTUAL; column <= CLI_OUTTURN_YTD_VARIANCE; column++) {
            cli_outturn_dash(row, column);
        }
        return true;
    }
    int64_t ytd_variance = 0;
    if (money_add(sums->ytd_plan, month->plan_pence, &sums->ytd_plan) != FF_OK ||
        money_add(sums->ytd_actual, month->actual_pence, &sums->ytd_actual) != FF_OK ||
        money_subtract(sums->ytd_actual, sums->ytd_plan, &ytd_variance) != FF_OK) {
        return false;
    }
    cli_outturn_money(row, CLI_OUTTURN_ACTUAL, month->actual_pence);
    cli_outturn_money(row, CLI_OUTTURN_VARIANCE, month->variance_pence);
    cli_outturn_money(row, CLI_OUTTURN_YTD_PLAN, sums->ytd_plan);
    cli_outturn_money(row, CLI_OUTTURN_YTD_ACTUAL, sums->ytd_actual);
    cli_outturn_money(row, CLI_OUTTURN_YTD_VARIANCE, ytd_variance);
    return true;
}

/* TOTAL: the full-year plan, actual and variance to date, the remaining commitment and the
 * forecast outturn. */
static void cli_outturn_total_row(const Fundflow__V1__Outturn *outturn, cli_outturn_row *row) {
    snprintf(row->cells[CLI_OUTTURN_MONTH], sizeof row->cells[0], "TOTAL");
    cli_outturn_money(row, CLI_OUTTURN_PLAN, outturn->full_year_plan_pence);
    cli_outturn_money(row, CLI_OUTTURN_ACTUAL, outturn->ytd_actual_pence);
    cli_outturn_money(row, CLI_OUTTURN_VARIANCE, outturn->ytd_variance_pence);
    cli_outturn_money(row, CLI_OUTTURN_YTD_PLAN, outturn->ytd_plan_pence);
    cli_outturn_money(row, CLI_OUTTURN_YTD_ACTUAL, outturn->ytd_actual_pence);
    cli_outturn_money(row, CLI_OUTTURN_YTD_VARIANCE, outturn->ytd_variance_pence);
    cli_outturn_money(row, CLI_OUTTURN_COMMITTED, outturn->remaining_commitment_pence);
    cli_outturn_money(row, CLI_OUTTURN_FORECAST, outturn->forecast_outturn_pence);
}

static int cli_outturn_table_print(const Fundflow__V1__Outturn *outturn) {
    static const bool right[CLI_OUTTURN_COLUMNS] = {false, true, true, true, true,
                                                    true,  true, true, true};
    cli_table table;
    cli_table_init(&table, CLI_OUTTURN_COLUMNS, cli_outturn_headings, right);
    cli_outturn_sums sums = {0, 0};
    bool ok = true;
    for (size_t m = 0; ok && m < outturn->n_months; m++) {
        cli_outturn_row row;
        ok = cli_outturn_month_row(outturn, outturn->months[m], &sums, &row);
        const char *cells[CLI_OUTTURN_COLUMNS];
        for (int column = 0; column < CLI_OUTTURN_COLUMNS; column++) {
            cells[column] = row.cells[column];
        }
        ok = ok && cli_table_row_add(&table, cells);
    }
    if (ok) {
        cli_outturn_row total;
        cli_outturn_total_row(outturn, &total);
        const char *cells[CLI_OUTTURN_COLUMNS];
        for (int column = 0; column < CLI_OUTTURN_COLUMNS; column++) {
            cells[column] = total.cells[column];
        }
        ok = cli_table_row_add(&table, cells);
    }
    if (ok) cli_table_print(&table);
    cli_table_free(&table);
    if (ok) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": the outturn's year-to-date sums do not fit in 64-bit pence, "
                                "or memory ran out\n");
    return CLI_EXIT_FAILED;
}

/* The header lines; outturn_as_at_date is the date asked (the reply does not echo it). */
static void cli_outturn_header_print(const Fundflow__V1__Outturn *outturn,
                                     uint32_t outturn_as_at_date) {
    char stream[CLI_ENUM_NAME_BYTES_MAX], year[16];
    cli_field_print("organisation", "%s", outturn->org_code);
    cli_field_print("stream", "%s",
                    outturn->stream == 0
                        ? "every stream"
                        : cli_enum_text(&fundflow__v1__stream__descriptor, outturn->stream, stream,
                                        sizeof stream));
    cli_field_print("year", "%s", cli_year_text(outturn->financial_year, year, sizeof year));
    cli_field_print("actuals to", "M%" PRIu32 " (%s)", outturn->to_month,
                    cli_month_name(outturn->to_month));
    cli_field_print("as at sequence", "%" PRIu64, outturn->as_at_sequence);
    if (outturn_as_at_date != 0) {
        char date[16];
        cli_field_print("as at date", "%s", cli_date_text(outturn_as_at_date, date, sizeof date));
    }
    if (outturn->rollup) {
        char included[CLI_CODES_TEXT_BYTES];
        cli_field_print("rollup of", "%s", cli_codes_text(outturn->included_codes,
                                                          outturn->n_included_codes, included,
                                                          sizeof included));
    }
    char plans[CLI_CODES_TEXT_BYTES] = "none";
    size_t used = 0;
    for (size_t i = 0; i < outturn->n_plan_sequences && used < sizeof plans; i++) {
        used += (size_t)snprintf(plans + used, sizeof plans - used, "%s%" PRIu64,
                                 i ? ", " : "event ", outturn->plan_sequences[i]);
    }
    cli_field_print("plans", "%s", plans);
    printf("\n");
}

static int cli_outturn_print(const ProtobufCMessage *message, uint32_t as_at_date) {
    const Fundflow__V1__Outturn *outturn = (const Fundflow__V1__Outturn *)message;
    cli_outturn_header_print(outturn, as_at_date);
    int code = cli_outturn_table_print(outturn);
    if (code != CLI_EXIT_OK) return code;
    char forecast[FF_MONEY_TEXT_BYTES], actual[FF_MONEY_TEXT_BYTES];
    char committed[FF_MONEY_TEXT_BYTES], uncommitted[FF_MONEY_TEXT_BYTES];
    money_format(outturn->forecast_outturn_pence, forecast, sizeof forecast);
    money_format(outturn->ytd_actual_pence, actual, sizeof actual);
    money_format(outturn->remaining_commitment_pence, committed, sizeof committed);
    money_format(outturn->uncommitted_plan_pence, uncommitted, sizeof uncommitted);
    printf("\n");
    cli_field_print("forecast outturn", "%s = actual to M%" PRIu32 " %s + remaining commitment %s"
                                        " + plan beyond commitment %s",
                    forecast, outturn->to_month, actual, committed, uncommitted);
    char variance[FF_MONEY_TEXT_BYTES], plan[FF_MONEY_TEXT_BYTES];
    money_format(outturn->forecast_variance_pence, variance, sizeof variance);
    money_format(outturn->full_year_plan_pence, plan, sizeof plan);
    const char *side = outturn->forecast_variance_pence > 0   ? "over plan"
                       : outturn->forecast_variance_pence < 0 ? "under plan"
                                                              : "on plan";
    cli_field_print("forecast variance", "%s (%s) against the full-year plan of %s", variance,
                    side, plan);
    if (outturn->rollup) {
        cli_money_field_print("internal", outturn->internal_pence);
    }
    return CLI_EXIT_OK;
}

/* The exported table has the printed table's columns. Its totals row sums plan, actual,
 * variance, committed and forecast, which gives the printed TOTAL: the server leaves a month's
 * actual and variance 0 after --to and its committed 0 to --to, so they add up to the year to
 * date and the remaining commitment, and the forecasts to the forecast outturn. The YTD columns
 * are running sums, so they have no total; after --to, where the table shows "-", every actual,
 * variance and YTD cell is 0. */
static const cli_export_column cli_outturn_columns[CLI_OUTTURN_COLUMNS] = {
    CLI_EXPORT_COLUMN("month", CLI_EXPORT_TEXT),
    CLI_EXPORT_COLUMN("plan", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("actual", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("variance", CLI_EXPORT_MONEY),
    {"YTD plan", CLI_EXPORT_MONEY, false, true},
    {"YTD actual", CLI_EXPORT_MONEY, false, true},
    {"YTD variance", CLI_EXPORT_MONEY, false, true},
    CLI_EXPORT_COLUMN("committed", CLI_EXPORT_MONEY),
    CLI_EXPORT_COLUMN("forecast", CLI_EXPORT_MONEY)};

static bool cli_outturn_month_export(cli_export_table *table, const Fundflow__V1__Outturn *outturn,
                                     const Fundflow__V1__OutturnMonth *month,
                                     cli_outturn_sums *sums) {
    char label[8];
    snprintf(label, sizeof label, "M%" PRIu32, month->month);
    cli_export_cell cells[CLI_OUTTURN_COLUMNS] = {
        [CLI_OUTTURN_MONTH] = {.text = label},
        [CLI_OUTTURN_PLAN] = {.number = month->plan_pence},
        [CLI_OUTTURN_ACTUAL] = {.number = month->actual_pence},
        [CLI_OUTTURN_VARIANCE] = {.number = month->variance_pence},
        [CLI_OUTTURN_COMMITTED] = {.number = month->committed_pence},
        [CLI_OUTTURN_FORECAST] = {.number = month->forecast_pence}};
    if (month->month <= outturn->to_month) {
        if (money_add(sums->ytd_plan, month->plan_pence, &sums->ytd_plan) != FF_OK ||
            money_add(sums->ytd_actual, month->actual_pence, &sums->ytd_actual) != FF_OK ||
            money_subtract(sums->ytd_actual, sums->ytd_plan,
                           &cells[CLI_OUTTURN_YTD_VARIANCE].number) != FF_OK) {
            return false;
        }
        cells[CLI_OUTTURN_YTD_PLAN].number = sums->ytd_plan;
        cells[CLI_OUTTURN_YTD_ACTUAL].number = sums->ytd_actual;
    }
    return cli_export_row_add(table, cells);
}

static int cli_outturn_export(const cli_options *options, cli_session *session,
                              const Fundflow__V1__Outturn *outturn) {
    cli_export_document document;
    cli_export_document_init(&document, options);
    document.provenance.financial_year = outturn->financial_year;
    document.provenance.as_at_sequence = outturn->as_at_sequence;
    cli_export_table *table = cli_export_table_add(&document, "Outturn", cli_outturn_columns,
                                                   CLI_OUTTURN_COLUMNS, true);
    cli_outturn_sums sums = {0, 0};
    bool filled = true;
    for (size_t m = 0; filled && m < outturn->n_months; m++) {
        filled = cli_outturn_month_export(table, outturn, outturn->months[m], &sums);
    }
    int code = CLI_EXIT_FAILED;
    if (filled) code = cli_export_emit(&document, options, session);
    else fprintf(stderr, CLI_PROGRAM ": the outturn's year-to-date sums do not fit in 64-bit "
                                     "pence, or memory ran out\n");
    cli_export_document_free(&document);
    return code;
}

int cli_outturn_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GetOutturnRequest request = FUNDFLOW__V1__GET_OUTTURN_REQUEST__INIT;
    request.org_code = (char *)options->operand;
    request.stream = (Fundflow__V1__Stream)options->stream;
    request.financial_year = options->financial_year;
    request.to_month = options->to_month;
    request.rollup = options->rollup;
    request.as_at_sequence = options->as_at_sequence;
    request.as_at_date = options->as_at_date;
    cli_reply reply;
    int code = cli_rpc_run(session, "GetOutturn", &request.base,
                           &fundflow__v1__outturn__descriptor, &reply);
    if (code == CLI_EXIT_OK && !session->json) {
        const Fundflow__V1__Outturn *outturn = (const Fundflow__V1__Outturn *)reply.message;
        code = cli_export_rendered(options) ? cli_outturn_export(options, session, outturn)
                                            : cli_outturn_print(reply.message, options->as_at_date);
    }
    cli_reply_release(&reply);
    return code;
}
