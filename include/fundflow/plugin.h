/* The fundflow plugin ABI: the one header a reporting-rule plugin includes.
 *
 * A plugin is a shared object that links nothing from fundflowd and exports one symbol,
 * FF_PLUGIN_ENTRY_SYMBOL, of type ff_plugin_entry. The host loads it with
 * dlopen(RTLD_NOW | RTLD_LOCAL), calls the entry with its function table, and gets back the
 * plugin's description. Build plugins with -fvisibility=hidden and define the entry with
 * FF_PLUGIN_ENTRY (below), which exports it and checks the host's version for you.
 *
 * Compatibility rules, after SQLite's sqlite3ext.h and Redis's redismodule.h:
 *   - Every struct that crosses the boundary starts with its size and the ABI version it was
 *     built against, so either side can tell what the other knows. (ff_plugin_metric and
 *     ff_plugin_cell are array elements: the record or call that carries them is versioned.)
 *   - The host's table and every struct only grow at their end. Fields are never removed,
 *     reordered or retyped within a major version.
 *   - A plugin built against another major version is refused with a message naming both.
 *   - A minor version adds fields at the end; a plugin must check host->size (or the minor
 *     version) before calling a function added after the minor it was built against.
 *
 * Threads: each callback is called from one thread at a time, but different callbacks may run at
 * once: report runs on a reader thread while veto and project run on the writer thread, inside
 * the write transaction. So state that changes after init must be guarded by the plugin, and veto
 * and project must be quick and call back into nothing but the host's functions.
 *
 * Projections (since ABI 1.2): a plugin with a project hook keeps data of its own in the ledger's
 * store, in a namespace no other plugin can read. The host calls project once for every event,
 * in order, inside the transaction that records the event, so the plugin's data and the ledger
 * never disagree. When a plugin is loaded after events exist, or its projection_version changes,
 * the host clears its data and replays the log into it before the plugin is used.
 *
 * Money is int64 pence throughout; use host->money_add so every sum is checked for overflow, and
 * the helpers of fundflow/plugin_util.h (included below) for differences, percentages and
 * configuration numbers.
 */
#ifndef FUNDFLOW_PLUGIN_H
#define FUNDFLOW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/limits.h"

#define FF_PLUGIN_ABI_MAJOR 1
#define FF_PLUGIN_ABI_MINOR 3
#define FF_PLUGIN_ENTRY_SYMBOL "fundflow_plugin_entry"

#if defined(__GNUC__)
#define FF_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FF_PLUGIN_EXPORT
#endif

/* Return codes of host functions and plugin callbacks. */
#define FF_PLUGIN_OK 0
#define FF_PLUGIN_STOP 1   /* a visitor asks the walk to stop early; not an error */
#define FF_PLUGIN_ERROR -1 /* something failed; the host has logged why */
#define FF_PLUGIN_NOT_FOUND 2 /* data_get: no value under that key; not an error */

/* The longest key and value of a plugin's projected data (since ABI 1.2). */
#define FF_PLUGIN_DATA_KEY_BYTES_MAX 256
#define FF_PLUGIN_DATA_VALUE_BYTES_MAX 65536

enum ff_plugin_log_level { FF_PLUGIN_LOG_INFO = 1, FF_PLUGIN_LOG_WARN = 2, FF_PLUGIN_LOG_ERROR = 3 };

/* Column types of report tables. Every number is an int64: pence for MONEY, basis points for
 * PERCENT (FF_BASIS_POINTS_WHOLE, 10000, is 100%), 0 or 1 for FLAG, YYYYMMDD for DATE. */
enum ff_plugin_column_type {
    FF_PLUGIN_COLUMN_TEXT = 1,
    FF_PLUGIN_COLUMN_MONEY = 2,
    FF_PLUGIN_COLUMN_INTEGER = 3,
    FF_PLUGIN_COLUMN_PERCENT = 4,
    FF_PLUGIN_COLUMN_FLAG = 5,
    FF_PLUGIN_COLUMN_DATE = 6,
};

enum ff_plugin_finding_level {
    FF_PLUGIN_FINDING_PASS = 1,
    FF_PLUGIN_FINDING_WARN = 2,
    FF_PLUGIN_FINDING_FAIL = 3,
};

/* Numbers of enums shared with the ledger's schema (proto/fundflow/v1/events.proto): org kinds,
 * streams, contract types, service categories and statement kinds are passed as those numbers. */

/* ---- records the host hands to plugins; valid only during the call that hands them ---- */

typedef struct ff_plugin_org {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *code;
    const char *name;
    int kind;
    const char *parent_code;            /* "" for none */
    size_t member_count;
    const char *const *member_codes;
    const char *lead_provider_code;     /* "" for none */
} ff_plugin_org;

typedef struct ff_plugin_position {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint64_t as_at_sequence;
    int64_t received_pence;
    int64_t passed_on_pence;
    int64_t committed_pence;
    int64_t paid_pence;
    int64_t withheld_pence;
    int64_t earned_pence;
    int64_t released_pence;
    int64_t headroom_pence;
} ff_plugin_position;

typedef struct ff_plugin_metric {
    const char *code;
    uint32_t weight_bp;
    int64_t share_pence;
    int reported;
    uint32_t achievement_bp;
    int64_t earned_pence;
    int64_t released_pence;
} ff_plugin_metric;

typedef struct ff_plugin_contract {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *contract_id;
    const char *commissioner_code;
    const char *provider_code;
    int type;
    uint32_t financial_year;
    int stream;
    int service_category;
    const char *service_line_code;      /* "" for none */
    int64_t value_pence;
    int64_t fixed_value_pence;
    int64_t withheld_pot_pence;
    int64_t paid_pence;
    int64_t earned_pence;
    int64_t released_pence;
    int64_t paid_by_month_pence[12];    /* M1 (April) to M12 (March) */
    size_t metric_count;
    const ff_plugin_metric *metrics;
} ff_plugin_contract;

typedef struct ff_plugin_statement {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *org_code;
    const char *counterparty_code;
    uint32_t financial_year;
    uint32_t month;
    int kind;                           /* 1 receivable, 2 payable, 3 income, 4 expenditure */
    int64_t amount_pence;
    uint64_t sequence;
} ff_plugin_statement;

typedef struct ff_plugin_delegation {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *delegation_id;
    const char *delegate_code;
    size_t service_line_count;
    const char *const *service_line_codes;
    size_t population_count;
    const char *const *population_codes;
    int mode;                           /* 1 joint committee, 2 full */
    uint32_t effective_from;
    uint32_t effective_to;              /* 0 while open-ended */
} ff_plugin_delegation;

/* A command about to be applied, as a veto sees it. Fields that do not apply are "" or 0. */
typedef struct ff_plugin_command {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *kind;                   /* the event's name, such as "contract_agreed" */
    uint32_t effective_date;
    const char *actor;
    const char *from_code;              /* funder, payer or commissioner */
    const char *to_code;                /* recipient, payee or provider */
    int stream;
    uint32_t financial_year;
    int64_t amount_pence;               /* allocation, budget, contract value, payment, change */
    const char *contract_id;
    int contract_type;
    int service_category;
    /* ---- added in ABI 1.2: check size before reading ---- */
    uint64_t reversed_sequence;         /* a reversal: the event it undoes */
    uint32_t month;                     /* a payment or statement: 1 (April) to 12 (March) */
} ff_plugin_command;

/* One account's totals (since ABI 1.1). purpose: 1 funding, 2 budget, 3 received, 4 onward,
 * 5 committed, 6 withheld, 7 paid, 8 earned. */
typedef struct ff_plugin_account {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t debits_pence;
    int64_t credits_pence;
    int64_t balance_pence;              /* on the account's normal side */
    uint64_t posting_count;
    uint64_t last_sequence;
} ff_plugin_account;

/* One recorded event (since ABI 1.1). The summary fields are as for ff_plugin_command; payload
 * holds the event as packed protobuf (fundflow.v1.Event) for plugins that decode it. */
typedef struct ff_plugin_event {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint64_t sequence;
    int64_t recorded_at_us;
    const ff_plugin_command *summary;
    const void *payload;
    size_t payload_bytes;
} ff_plugin_event;

/* What a report was asked for. */
typedef struct ff_plugin_report_request {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t financial_year;            /* 2024 is 2024/25 */
    const char *org_code;               /* "" for every organisation */
    uint64_t as_at_sequence;            /* the ledger as it stood after this event */
} ff_plugin_report_request;

/* One cell of a report row: text for TEXT columns, number for every other type. */
typedef struct ff_plugin_cell {
    const char *text;
    int64_t number;
} ff_plugin_cell;

/* Host-owned handles: a read view of the ledger for one call, and a report being built. */
typedef struct ff_plugin_context ff_plugin_context;
typedef struct ff_plugin_report ff_plugin_report;

typedef int (*ff_plugin_org_visitor)(void *argument, const ff_plugin_org *org);
typedef int (*ff_plugin_contract_visitor)(void *argument, const ff_plugin_contract *contract);
typedef int (*ff_plugin_statement_visitor)(void *argument, const ff_plugin_statement *statement);
typedef int (*ff_plugin_delegation_visitor)(void *argument,
                                            const ff_plugin_delegation *delegation);
typedef int (*ff_plugin_event_visitor)(void *argument, const ff_plugin_event *event);
typedef int (*ff_plugin_data_visitor)(void *argument, const void *key, size_t key_bytes,
                                      const void *value, size_t value_bytes);

/* The host's function table. Grows only at its end. */
typedef struct ff_plugin_host {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* Writes a line to fundflowd's log, prefixed with the plugin's name. Any thread. */
    void (*log)(const struct ff_plugin_host *host, int level, const char *message);

    /* The plugin's own configuration value for key (from "plugin.NAME.KEY = value" in
     * fundflowd's configuration file), or NULL. Valid until the plugin is unloaded. */
    const char *(*config_get)(const struct ff_plugin_host *host, const char *plugin_name,
                              const char *key);

    /* Checked addition: FF_PLUGIN_OK and *sum set, or FF_PLUGIN_ERROR on overflow. */
    int (*money_add)(int64_t a_pence, int64_t b_pence, int64_t *sum_pence);

    /* Reads. Each takes the context the host passed to report or veto, and sees the ledger as
     * at that call. Visitors return FF_PLUGIN_OK to go on or FF_PLUGIN_STOP to stop; the walk
     * then returns FF_PLUGIN_OK. Errors: FF_PLUGIN_ERROR (logged by the host). */

    /* Every organisation of kind (0 for all), in code order. */
    int (*orgs_each)(ff_plugin_context *context, int kind, ff_plugin_org_visitor visit,
                     void *argument);
    /* One organisation; FF_PLUGIN_ERROR if it is not registered. */
    int (*org_get)(ff_plugin_context *context, const char *code, ff_plugin_org_visitor visit,
                   void *argument);
    /* An organisation's position in a stream and year, as at the context's sequence and, if
     * not 0, an effective date (YYYYMMDD). */
    int (*position_get)(ff_plugin_context *context, const char *org_code, int stream,
                        uint32_t financial_year, uint32_t as_at_date,
                        ff_plugin_position *position_out);
    /* Every contract of a financial year (0 for all years), as at the context's sequence. */
    int (*contracts_each)(ff_plugin_context *context, uint32_t financial_year,
                          ff_plugin_contract_visitor visit, void *argument);
    /* Every Agreement of Balances statement of a year (the latest per body, counterparty,
     * month and kind). */
    int (*statements_each)(ff_plugin_context *context, uint32_t financial_year,
                           ff_plugin_statement_visitor visit, void *argument);
    /* Every delegation granted by the context's sequence, with the end date it had then (a
     * later revocation is not seen). */
    int (*delegations_each)(ff_plugin_context *context, ff_plugin_delegation_visitor visit,
                            void *argument);

    /* The report builder, for report callbacks only. A table is declared with its columns, then
     * rows follow; a new table ends the previous one. Strings are copied. Findings may come in
     * any order: the host orders them worst first. For a year with no money events the host
     * drops the PASS findings and adds a WARN saying so, so a plugin need not check for data. */
    int (*report_table)(ff_plugin_report *report, const char *name, size_t column_count,
                        const char *const *column_names, const int *column_types);
    int (*report_row)(ff_plugin_report *report, const ff_plugin_cell *cells, size_t cell_count);
    int (*report_finding)(ff_plugin_report *report, int level, const char *org_code,
                          const char *message);

    /* ---- added in ABI 1.1: check host->abi_minor >= 1 before calling ---- */

    /* Every event after after_sequence up to the context's sequence, in order. */
    int (*events_each)(ff_plugin_context *context, uint64_t after_sequence,
                       ff_plugin_event_visitor visit, void *argument);
    /* One contract as at the context's sequence; FF_PLUGIN_ERROR if there was none then. */
    int (*contract_get)(ff_plugin_context *context, const char *contract_id,
                        ff_plugin_contract_visitor visit, void *argument);
    /* One account's totals as at the context's sequence and, if not 0, an effective date. An
     * account never posted to reads as zero. */
    int (*account_get)(ff_plugin_context *context, const char *org_code, int stream,
                       uint32_t financial_year, int purpose, uint32_t as_at_date,
                       ff_plugin_account *account_out);
    /* Writes pence as "£1,234.56" or "-£0.01", NUL-terminated, cut to fit like snprintf;
     * returns the length it needed. 32 bytes always suffice. Any thread. */
    size_t (*money_format)(int64_t pence, char *buffer, size_t buffer_bytes);

    /* ---- added in ABI 1.2: check host->abi_minor >= 2 before calling ---- */

    /* The plugin's projected data: keys and values are bytes, keys compare as memcmp does, and
     * no other plugin can see them. Reads work in every callback that has a context and see the
     * data as the project hook left it after the latest event (not as at a report's sequence:
     * a plugin that needs history keeps it in its keys). Writes work in project only.
     * Keys are 1 to FF_PLUGIN_DATA_KEY_BYTES_MAX bytes; values 0 to
     * FF_PLUGIN_DATA_VALUE_BYTES_MAX. Errors: FF_PLUGIN_ERROR (logged) for a bad size, a write
     * outside project, or a storage failure, after which project must return FF_PLUGIN_ERROR. */

    /* Stores value under key, replacing what was there. project only. */
    int (*data_put)(ff_plugin_context *context, const void *key, size_t key_bytes,
                    const void *value, size_t value_bytes);
    /* Copies the value under key into value (cut to value_bytes) and sets *found_bytes to its
     * whole length. Returns FF_PLUGIN_OK, or FF_PLUGIN_NOT_FOUND if there is none. */
    int (*data_get)(ff_plugin_context *context, const void *key, size_t key_bytes, void *value,
                    size_t value_bytes, size_t *found_bytes);
    /* Removes key; removing a key that is not there is not an error. project only. */
    int (*data_delete)(ff_plugin_context *context, const void *key, size_t key_bytes);
    /* Visits every key that starts with prefix (prefix_bytes 0 for all), in key order. The
     * visitor must not write. */
    int (*data_each)(ff_plugin_context *context, const void *prefix, size_t prefix_bytes,
                     ff_plugin_data_visitor visit, void *argument);

    /* ---- added in ABI 1.3: check host->abi_minor >= 3 before calling ---- */

    /* An organisation's expenditure plan for a stream and year: the latest revision (PlanSet)
     * recorded by the context's sequence, as twelve amounts, M1 (April) to M12 (March). Sets
     * *found to 1, or to 0 with every month 0 when no plan had been set by then. */
    int (*plan_get)(ff_plugin_context *context, const char *org_code, int stream,
                    uint32_t financial_year, int64_t months_pence[12], int *found);
} ff_plugin_host;

/* What a plugin is and can do. Returned by the entry; the host reads it while the plugin is
 * loaded. Grows only at its end. */
typedef struct ff_plugin {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name;                   /* unique; lower case letters, digits and '_' */
    const char *version;
    const char *description;
    const uint32_t *financial_years;    /* the years whose rules it knows */
    size_t financial_year_count;

    /* Called once after loading. Return FF_PLUGIN_OK, or anything else to be skipped. *state is
     * handed back to every other callback. */
    int (*init)(const ff_plugin_host *host, void **state);
    /* Called once before unloading. May be NULL. */
    void (*fini)(void *state);
    /* Builds the report. Return FF_PLUGIN_OK, or FF_PLUGIN_ERROR (the report is discarded). */
    int (*report)(void *state, ff_plugin_context *context,
                  const ff_plugin_report_request *request, ff_plugin_report *report);
    /* Optional (NULL for none): refuse a command before it is applied by writing a reason into
     * reason and returning FF_PLUGIN_ERROR; return FF_PLUGIN_OK to let it through. */
    int (*veto)(void *state, ff_plugin_context *context, const ff_plugin_command *command,
                char *reason, size_t reason_bytes);

    /* ---- added in ABI 1.2 ---- */

    /* Optional (NULL for none): keeps the plugin's projected data up to date with one event,
     * through host->data_put and data_delete. It is called for every event in sequence order,
     * on the writer thread inside the event's transaction (the context sees the ledger with the
     * event applied), and again from the first event when the log is replayed. It must depend
     * only on the event, the ledger and the data, never on memory of earlier calls, because a
     * transaction that fails is tried again and calls it again.
     * Returns FF_PLUGIN_OK, or FF_PLUGIN_ERROR: the event is still recorded, but this plugin's
     * writes for it are discarded, its projection stops before that event, and its reports are
     * refused until it is reloaded (which resumes from where it stopped). */
    int (*project)(void *state, ff_plugin_context *context, const ff_plugin_event *event);
    /* The shape of the projected data. Change it when project starts writing differently: the
     * host then clears the data and replays the whole log into it on loading. */
    uint32_t projection_version;
} ff_plugin;

/* The one exported symbol. Returns the plugin's description, or NULL to refuse to load. */
typedef const ff_plugin *(*ff_plugin_entry)(const ff_plugin_host *host);

/* ---- the entry, written once (the idea of Redis's RedisModule_Init) ---- */

/* Whether a plugin built against this header may use host: the same major version, and a table
 * at least as long as the one this header describes, so every function the plugin calls without
 * a further check is there. A plugin that means to load into older minor versions writes its own
 * entry and checks host->size before each newer function instead. */
static inline int ff_plugin_host_usable(const ff_plugin_host *host) {
    return host != NULL && host->abi_major == FF_PLUGIN_ABI_MAJOR &&
           host->size >= sizeof(ff_plugin_host);
}

/* FF_PLUGIN_ENTRY(description) defines and exports the entry (named as FF_PLUGIN_ENTRY_SYMBOL
 * says): it returns &description to a host that ff_plugin_host_usable accepts and NULL, which
 * refuses to load, to any other. It keeps nothing: init is handed the same host to keep in the
 * plugin's state. Write it once at file scope, after the description, with no semicolon:
 *
 *     FF_PLUGIN_ENTRY(outcomes_plugin)
 */
#define FF_PLUGIN_ENTRY(description)                                                             \
    FF_PLUGIN_EXPORT const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host);         \
    const ff_plugin *fundflow_plugin_entry(const ff_plugin_host *host) {                         \
        return ff_plugin_host_usable(host) ? &(description) : NULL;                              \
    }

/* The fields every description starts with, stamped with this header's version:
 *
 *     static const ff_plugin outcomes_plugin = {FF_PLUGIN_DESCRIPTION_HEADER, .name = ...};
 */
#define FF_PLUGIN_DESCRIPTION_HEADER                                                             \
    .size = sizeof(ff_plugin), .abi_major = FF_PLUGIN_ABI_MAJOR, .abi_minor = FF_PLUGIN_ABI_MINOR

/* Last, because its helpers take the types above. */
#include "fundflow/plugin_util.h"

#endif
