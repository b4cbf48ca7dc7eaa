/* aob: a reporting rule for Agreement of Balances, which pairs each body's statement of its
 * balance with a counterparty with the counterparty's mirror statement and reports mismatches
 * and missing statements against the thresholds.
 *
 * A statement "A → B, receivable" is mirrored by "B → A, payable", and "income" by
 * "expenditure" (and the other way round). Each pair is one row, shown from its receivable or
 * income side; a statement without a mirror is a row of its own.
 *
 * Thresholds are those published for month 12: agreement is required where the two sides
 * differ by more than £300,000 (receivables and payables) or £3,000,000 (income and
 * expenditure), and a statement must be issued above £2,500 or £2,000,000 respectively. The
 * same thresholds are applied at M6 and M9 as at M12: the published figures are M12's and the
 * rule keeps one set of figures per year rather than invent others.
 *
 * Configuration (fundflowd's configuration file), every amount in whole pence, each key also
 * accepted with a ".YEAR" suffix (such as agree_receivable_pence.2024) that wins for that year:
 *     plugin.aob.month = 6                         6, 9 or 12; default the latest month with
 *                                                  statements in the year
 *     plugin.aob.agree_receivable_pence = 30000000      receivables and payables
 *     plugin.aob.agree_income_pence = 300000000         income and expenditure
 *     plugin.aob.statement_receivable_pence = 250000
 *     plugin.aob.statement_income_pence = 200000000
 *
 * It reads the ledger only through the host's table in fundflow/plugin.h and links nothing of
 * fundflowd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fundflow/plugin.h"

#define AOB_NAME "aob"

/* StatementKind in proto/fundflow/v1/events.proto. */
#define AOB_KIND_RECEIVABLE 1
#define AOB_KIND_PAYABLE 2
#define AOB_KIND_INCOME 3
#define AOB_KIND_EXPENDITURE 4

/* The published month-12 thresholds, in pence. */
#define AOB_AGREE_RECEIVABLE_PENCE_DEFAULT 30000000LL     /* £300,000.00 */
#define AOB_AGREE_INCOME_PENCE_DEFAULT 300000000LL        /* £3,000,000.00 */
#define AOB_STATEMENT_RECEIVABLE_PENCE_DEFAULT 250000LL   /* £2,500.00 */
#define AOB_STATEMENT_INCOME_PENCE_DEFAULT 200000000LL    /* £2,000,000.00 */

/* The months at which balances are agreed. */
#define AOB_MONTH_HALF_YEAR 6
#define AOB_MONTH_THREE_QUARTERS 9
#define AOB_MONTH_YEAR_END 12

/* The most statements one year may hold for this report. Every pair of NHS bodies, four kinds
 * and four months would be far more, but in practice each ICB agrees with a few dozen
 * counterparties; 200,000 statements (about 8 MB here) is ample and keeps a report bounded. */
#define AOB_STATEMENTS_MAX 200000
#define AOB_STATEMENTS_INITIAL 256

/* Organisation codes are at most 12 bytes (FF_ORG_CODE_BYTES_MAX in fundflow/limits.h). */
#define AOB_CODE_BYTES 16
/* A configuration key with a ".YEAR" suffix. */
#define AOB_KEY_BYTES_MAX 64
#define AOB_MESSAGE_BYTES_MAX 384

typedef struct aob_thresholds {
    int64_t agree_receivable_pence;
    int64_t agree_income_pence;
    int64_t statement_receivable_pence;
    int64_t statement_income_pence;
} aob_thresholds;

typedef struct aob_state {
    const ff_plugin_host *host;
    uint32_t month_configured; /* 0: the latest month with statements */
} aob_state;

typedef struct aob_statement {
    char org_code[AOB_CODE_BYTES];
    char counterparty_code[AOB_CODE_BYTES];
    int kind;
    uint32_t month;
    int64_t amount_pence;
} aob_statement;

/* The year's statements, copied out of the host's walk. */
typedef struct aob_statements {
    aob_statement *items;
    size_t count;
    size_t capacity;
    int too_many;
} aob_statements;

/* What the pairing needs: where rows and findings go, and the rules that apply. */
typedef struct aob_run {
    const ff_plugin_host *host;
    ff_plugin_report *report;
    const char *org_code;
    uint32_t month;
    aob_thresholds thresholds;
} aob_run;

static const uint32_t aob_financial_years[] = {2023, 2024};

/* ---- money and words ---- */

static const char *aob_kind_name(int kind) {
    switch (kind) {
    case AOB_KIND_RECEIVABLE: return "receivable";
    case AOB_KIND_PAYABLE: return "payable";
    case AOB_KIND_INCOME: return "income";
    case AOB_KIND_EXPENDITURE: return "expenditure";
    default: return "unknown";
    }
}

/* The kind the counterparty states for the same balance, or 0 for a kind with no mirror. */
static int aob_kind_mirror(int kind) {
    switch (kind) {
    case AOB_KIND_RECEIVABLE: return AOB_KIND_PAYABLE;
    case AOB_KIND_PAYABLE: return AOB_KIND_RECEIVABLE;
    case AOB_KIND_INCOME: return AOB_KIND_EXPENDITURE;
    case AOB_KIND_EXPENDITURE: return AOB_KIND_INCOME;
    default: return 0;
    }
}

static int aob_kind_is_balance_sheet(int kind) {
    return kind == AOB_KIND_RECEIVABLE || kind == AOB_KIND_PAYABLE;
}

/* ---- configuration ---- */

/* key.YEAR wins over key, which wins over the default. An unparsable value is an error, logged,
 * rather than quietly replaced by the default. */
static int aob_threshold_read(const ff_plugin_host *host, const char *key, uint32_t year,
                              int64_t default_pence, int64_t *pence_out) {
    char year_key[AOB_KEY_BYTES_MAX];
    snprintf(year_key, sizeof year_key, "%s.%u", key, year);
    const char *text = host->config_get(host, AOB_NAME, year_key);
    const char *used_key = year_key;
    if (text == NULL) text = host->config_get(host, AOB_NAME, key), used_key = key;
    *pence_out = default_pence;
    if (text == NULL || ff_plugin_whole_number_parse(text, INT64_MAX, pence_out)) {
        return FF_PLUGIN_OK;
    }
    char message[AOB_MESSAGE_BYTES_MAX];
    snprintf(message, sizeof message,
             "plugin.aob.%s must be a whole, non-negative number of pence, not \"%s\"", used_key,
             text);
    host->log(host, FF_PLUGIN_LOG_ERROR, message);
    return FF_PLUGIN_ERROR;
}

static int aob_thresholds_read(const ff_plugin_host *host, uint32_t year,
                               aob_thresholds *thresholds) {
    if (aob_threshold_read(host, "agree_receivable_pence", year,
                           AOB_AGREE_RECEIVABLE_PENCE_DEFAULT,
                           &thresholds->agree_receivable_pence) != FF_PLUGIN_OK ||
        aob_threshold_read(host, "agree_income_pence", year, AOB_AGREE_INCOME_PENCE_DEFAULT,
                           &thresholds->agree_income_pence) != FF_PLUGIN_OK ||
        aob_threshold_read(host, "statement_receivable_pence", year,
                           AOB_STATEMENT_RECEIVABLE_PENCE_DEFAULT,
                           &thresholds->statement_receivable_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return aob_threshold_read(host, "statement_income_pence", year,
                              AOB_STATEMENT_INCOME_PENCE_DEFAULT,
                              &thresholds->statement_income_pence);
}

static int aob_month_read(const ff_plugin_host *host, uint32_t *month_out) {
    const char *text = host->config_get(host, AOB_NAME, "month");
    *month_out = 0;
    if (text == NULL) return FF_PLUGIN_OK;
    if (strcmp(text, "6") == 0) *month_out = AOB_MONTH_HALF_YEAR;
    else if (strcmp(text, "9") == 0) *month_out = AOB_MONTH_THREE_QUARTERS;
    else if (strcmp(text, "12") == 0) *month_out = AOB_MONTH_YEAR_END;
    if (*month_out != 0) return FF_PLUGIN_OK;
    host->log(host, FF_PLUGIN_LOG_ERROR, "plugin.aob.month must be 6, 9 or 12");
    return FF_PLUGIN_ERROR;
}

/* ---- collecting the statements ---- */

static int aob_statements_grow(aob_statements *statements) {
    if (statements->capacity >= AOB_STATEMENTS_MAX) {
        statements->too_many = 1;
        return FF_PLUGIN_ERROR;
    }
    size_t capacity = statements->capacity ? statements->capacity * 2 : AOB_STATEMENTS_INITIAL;
    if (capacity > AOB_STATEMENTS_MAX) capacity = AOB_STATEMENTS_MAX;
    aob_statement *items = realloc(statements->items, capacity * sizeof *items);
    if (items == NULL) return FF_PLUGIN_ERROR;
    statements->items = items;
    statements->capacity = capacity;
    return FF_PLUGIN_OK;
}

static int aob_statement_collect(void *argument, const ff_plugin_statement *statement) {
    aob_statements *statements = argument;
    if (strlen(statement->org_code) >= AOB_CODE_BYTES ||
        strlen(statement->counterparty_code) >= AOB_CODE_BYTES) {
        return FF_PLUGIN_ERROR;
    }
    if (statements->count == statements->capacity &&
        aob_statements_grow(statements) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    aob_statement *copy = &statements->items[statements->count++];
    memset(copy, 0, sizeof *copy);
    strcpy(copy->org_code, statement->org_code);
    strcpy(copy->counterparty_code, statement->counterparty_code);
    copy->kind = statement->kind;
    copy->month = statement->month;
    copy->amount_pence = statement->amount_pence;
    return FF_PLUGIN_OK;
}

/* Keeps only the month's statements, and says which month that is. */
static uint32_t aob_statements_month_keep(aob_statements *statements, uint32_t month) {
    if (month == 0) {
        for (size_t i = 0; i < statements->count; i++) {
            if (statements->items[i].month > month) month = statements->items[i].month;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < statements->count; i++) {
        if (statements->items[i].month == month) statements->items[kept++] = statements->items[i];
    }
    statements->count = kept;
    return month;
}

/* Orders by body, counterparty and kind, so a mirror can be found by binary search. */
static int aob_statement_compare(const void *a, const void *b) {
    const aob_statement *left = a, *right = b;
    int order = strcmp(left->org_code, right->org_code);
    if (order == 0) order = strcmp(left->counterparty_code, right->counterparty_code);
    if (order == 0) order = (left->kind > right->kind) - (left->kind < right->kind);
    return order;
}

static const aob_statement *aob_mirror_find(const aob_statements *statements,
                                            const aob_statement *statement) {
    aob_statement key;
    memset(&key, 0, sizeof key);
    memcpy(key.org_code, statement->counterparty_code, sizeof key.org_code);
    memcpy(key.counterparty_code, statement->org_code, sizeof key.counterparty_code);
    key.kind = aob_kind_mirror(statement->kind);
    return bsearch(&key, statements->items, statements->count, sizeof key, aob_statement_compare);
}

/* ---- pairing ---- */

static int aob_row(const aob_run *run, const aob_statement *statement,
                   const aob_statement *mirror, int64_t difference_pence, const char *status) {
    const ff_plugin_cell cells[] = {
        {statement->org_code, 0},
        {statement->counterparty_code, 0},
        {aob_kind_name(statement->kind), 0},
        {NULL, statement->amount_pence},
        {NULL, mirror ? mirror->amount_pence : 0},
        {NULL, difference_pence},
        {status, 0}};
    return run->host->report_row(run->report, cells, FF_PLUGIN_COUNT(cells));
}

/* A statement and its mirror: agreed when they differ by no more than the threshold. */
static int aob_pair_report(const aob_run *run, const aob_statement *statement,
                           const aob_statement *mirror) {
    int64_t difference_pence = 0;
    if (ff_plugin_money_subtract(run->host, statement->amount_pence, mirror->amount_pence,
                                 &difference_pence) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    int64_t threshold_pence = aob_kind_is_balance_sheet(statement->kind)
                                  ? run->thresholds.agree_receivable_pence
                                  : run->thresholds.agree_income_pence;
    int mismatch = ff_plugin_magnitude(difference_pence) > (uint64_t)threshold_pence;
    const char *status = mismatch ? "mismatch" : difference_pence ? "agreed within threshold"
                                                                  : "agreed";
    if (aob_row(run, statement, mirror, difference_pence, status) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[AOB_MESSAGE_BYTES_MAX], difference[FF_MONEY_TEXT_BYTES],
        threshold[FF_MONEY_TEXT_BYTES];
    run->host->money_format(difference_pence, difference, sizeof difference);
    run->host->money_format(threshold_pence, threshold, sizeof threshold);
    snprintf(message, sizeof message, "M%u %s with %s (%s %s): differ by %s, %s the %s threshold",
             run->month, aob_kind_name(statement->kind), statement->counterparty_code,
             mirror->org_code, aob_kind_name(mirror->kind), difference,
             mismatch ? "above" : "within", threshold);
    return run->host->report_finding(run->report,
                                     mismatch ? FF_PLUGIN_FINDING_FAIL : FF_PLUGIN_FINDING_PASS,
                                     statement->org_code, message);
}

/* A statement whose counterparty stated nothing: the counterparty owes one above the threshold. */
static int aob_single_report(const aob_run *run, const aob_statement *statement) {
    int64_t threshold_pence = aob_kind_is_balance_sheet(statement->kind)
                                  ? run->thresholds.statement_receivable_pence
                                  : run->thresholds.statement_income_pence;
    int required = ff_plugin_magnitude(statement->amount_pence) > (uint64_t)threshold_pence;
    if (aob_row(run, statement, NULL, statement->amount_pence,
                required ? "counterpart missing" : "counterpart not required") != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char message[AOB_MESSAGE_BYTES_MAX], amount[FF_MONEY_TEXT_BYTES],
        threshold[FF_MONEY_TEXT_BYTES];
    run->host->money_format(statement->amount_pence, amount, sizeof amount);
    run->host->money_format(threshold_pence, threshold, sizeof threshold);
    snprintf(message, sizeof message,
             "M%u: %s has no %s statement with %s, whose %s is %s, %s the %s statement threshold",
             run->month, statement->counterparty_code,
             aob_kind_name(aob_kind_mirror(statement->kind)), statement->org_code,
             aob_kind_name(statement->kind), amount, required ? "above" : "within", threshold);
    return run->host->report_finding(run->report,
                                     required ? FF_PLUGIN_FINDING_WARN : FF_PLUGIN_FINDING_PASS,
                                     statement->counterparty_code, message);
}

static int aob_statement_wanted(const aob_run *run, const aob_statement *statement) {
    if (run->org_code[0] == '\0') return 1;
    return strcmp(statement->org_code, run->org_code) == 0 ||
           strcmp(statement->counterparty_code, run->org_code) == 0;
}

/* Each pair once, from its receivable or income side; each unmatched statement alone. */
static int aob_pairs_report(const aob_run *run, const aob_statements *statements) {
    for (size_t i = 0; i < statements->count; i++) {
        const aob_statement *statement = &statements->items[i];
        if (!aob_statement_wanted(run, statement)) continue;
        const aob_statement *mirror = aob_mirror_find(statements, statement);
        int result = FF_PLUGIN_OK;
        if (mirror == NULL) {
            result = aob_single_report(run, statement);
        } else if (statement->kind == AOB_KIND_RECEIVABLE || statement->kind == AOB_KIND_INCOME) {
            result = aob_pair_report(run, statement, mirror);
        }
        if (result != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    }
    return FF_PLUGIN_OK;
}

/* ---- tables ---- */

static int aob_settings_table(const aob_run *run, const char *month_source) {
    static const char *const names[] = {"month", "month chosen", "kinds", "agreement above",
                                        "statement above"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY};
    if (FF_PLUGIN_REPORT_TABLE(run->host, run->report, "thresholds", names, types) !=
        FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    char month[16];
    snprintf(month, sizeof month, "M%u", run->month);
    const ff_plugin_cell balance_sheet[] = {
        {month, 0}, {month_source, 0}, {"receivable and payable", 0},
        {NULL, run->thresholds.agree_receivable_pence},
        {NULL, run->thresholds.statement_receivable_pence}};
    const ff_plugin_cell income[] = {
        {month, 0}, {month_source, 0}, {"income and expenditure", 0},
        {NULL, run->thresholds.agree_income_pence},
        {NULL, run->thresholds.statement_income_pence}};
    if (run->host->report_row(run->report, balance_sheet, 5) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    return run->host->report_row(run->report, income, 5);
}

static int aob_pairs_table(const aob_run *run) {
    static const char *const names[] = {"org",        "counterparty",        "kind",
                                        "org amount", "counterparty amount", "difference",
                                        "status"};
    static const int types[] = {FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_TEXT,
                                FF_PLUGIN_COLUMN_TEXT,  FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_MONEY, FF_PLUGIN_COLUMN_MONEY,
                                FF_PLUGIN_COLUMN_TEXT};
    return FF_PLUGIN_REPORT_TABLE(run->host, run->report, "agreement of balances", names, types);
}

/* ---- callbacks ---- */

static int aob_statements_read(const aob_state *aob, ff_plugin_context *context, uint32_t year,
                               aob_statements *statements) {
    if (aob->host->statements_each(context, year, aob_statement_collect, statements) ==
        FF_PLUGIN_OK) {
        return FF_PLUGIN_OK;
    }
    if (statements->too_many) {
        aob->host->log(aob->host, FF_PLUGIN_LOG_ERROR,
                       "the year holds more statements than the aob report's limit of 200,000");
    }
    return FF_PLUGIN_ERROR;
}

static int aob_report_run(const aob_state *aob, ff_plugin_context *context,
                          const ff_plugin_report_request *request, ff_plugin_report *report,
                          aob_statements *statements) {
    aob_run run = {aob->host, report, request->org_code ? request->org_code : "", 0, {0}};
    if (aob_thresholds_read(aob->host, request->financial_year, &run.thresholds) !=
            FF_PLUGIN_OK ||
        aob_statements_read(aob, context, request->financial_year, statements) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    run.month = aob_statements_month_keep(statements, aob->month_configured);
    if (statements->count > 1) {
        qsort(statements->items, statements->count, sizeof *statements->items,
              aob_statement_compare);
    }
    const char *month_source = aob->month_configured ? "configured" : "latest with statements";
    if (aob_settings_table(&run, month_source) != FF_PLUGIN_OK ||
        aob_pairs_table(&run) != FF_PLUGIN_OK) {
        return FF_PLUGIN_ERROR;
    }
    if (statements->count == 0) {
        return aob->host->report_finding(report, FF_PLUGIN_FINDING_WARN, run.org_code,
                                         "no Agreement of Balances statements for the month");
    }
    return aob_pairs_report(&run, statements);
}

static int aob_report(void *state, ff_plugin_context *context,
                      const ff_plugin_report_request *request, ff_plugin_report *report) {
    aob_statements statements = {NULL, 0, 0, 0};
    int result = aob_report_run(state, context, request, report, &statements);
    free(statements.items);
    return result;
}

/* Reads every setting now, for every year the rule knows, so a mistake stops the plugin at
 * load time rather than at its first report. */
static int aob_init(const ff_plugin_host *host, void **state) {
    uint32_t month = 0;
    if (aob_month_read(host, &month) != FF_PLUGIN_OK) return FF_PLUGIN_ERROR;
    for (size_t i = 0; i < FF_PLUGIN_COUNT(aob_financial_years); i++) {
        aob_thresholds thresholds;
        if (aob_thresholds_read(host, aob_financial_years[i], &thresholds) != FF_PLUGIN_OK) {
            return FF_PLUGIN_ERROR;
        }
    }
    aob_state *aob = calloc(1, sizeof *aob);
    if (aob == NULL) return FF_PLUGIN_ERROR;
    aob->host = host;
    aob->month_configured = month;
    *state = aob;
    return FF_PLUGIN_OK;
}

static void aob_fini(void *state) { free(state); }

static const ff_plugin aob_plugin = {
    FF_PLUGIN_DESCRIPTION_HEADER,
    .name = AOB_NAME,
    .version = "1.0.0",
    .description = "Agreement of Balances: pairs each statement with its counterparty's mirror "
                   "and fails mismatches above the M12 thresholds, which it applies at M6 too.",
    .financial_years = aob_financial_years,
    .financial_year_count = FF_PLUGIN_COUNT(aob_financial_years),
    .init = aob_init,
    .fini = aob_fini,
    .report = aob_report,
    .veto = NULL,
};

/* Every function above is called without a further check, so the entry refuses a host older
 * than this plugin's header. */
FF_PLUGIN_ENTRY(aob_plugin)
