/* The fundflow client's plugin subcommands: plugins lists (or reloads) the server's reporting-rule
 * plugins, and report runs one plugin's report and writes it as a table, CSV, JSON or XLSX, on
 * stdout or into a file that appears whole or not at all. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_export.h"
#include "cli_output.h"
#include "cli_report.h"
#include "cli_values.h"
#include "fundflow/calendar.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Bytes of a plugin's years as "2023/24, 2024/25", cut short with "..." past this. */
#define CLI_PLUGIN_YEARS_TEXT_BYTES 256

/* Bytes of a plugin's hooks as "report, veto", cut short with "..." past this. */
#define CLI_PLUGIN_HOOKS_TEXT_BYTES 256

/* The most years or hooks of one plugin joined into its row; past this the row ends "...". */
#define CLI_PLUGIN_LIST_ITEMS_MAX 32

/* The suffix mkstemp replaces to name the temporary file an --output is written to. */
#define CLI_OUTPUT_TEMPORARY_SUFFIX ".XXXXXX"

/* Files the output makes are readable by all, less what the umask takes away, as a shell's
 * redirection would make them. */
#define CLI_OUTPUT_FILE_MODE 0666

/* Plugins ----------------------------------------------------------------------------------- */

/* "-" for a plugin without a projection, "up to date", or where it stopped. */
static const char *cli_projection_text(const Fundflow__V1__PluginInfo *plugin,
                                       uint64_t head_sequence, char *text, size_t text_bytes) {
    bool projects = false;
    for (size_t i = 0; i < plugin->n_hooks; i++) {
        if (strcmp(plugin->hooks[i], "project") == 0) projects = true;
    }
    if (!projects) return "-";
    if (plugin->projected_through_sequence == head_sequence) return "up to date";
    snprintf(text, text_bytes, "stopped at event %llu",
             (unsigned long long)plugin->projected_through_sequence);
    return text;
}

static bool cli_plugin_row_add(cli_table *table, const Fundflow__V1__PluginInfo *plugin,
                               uint64_t head_sequence) {
    char year_texts[CLI_PLUGIN_LIST_ITEMS_MAX][16];
    char *years[CLI_PLUGIN_LIST_ITEMS_MAX];
    size_t year_count = plugin->n_financial_years;
    if (year_count > CLI_PLUGIN_LIST_ITEMS_MAX) year_count = CLI_PLUGIN_LIST_ITEMS_MAX;
    for (size_t i = 0; i < year_count; i++) {
        years[i] = (char *)cli_year_text(plugin->financial_years[i], year_texts[i],
                                         sizeof year_texts[i]);
    }
    size_t hook_count = plugin->n_hooks;
    if (hook_count > CLI_PLUGIN_LIST_ITEMS_MAX) hook_count = CLI_PLUGIN_LIST_ITEMS_MAX;
    char years_text[CLI_PLUGIN_YEARS_TEXT_BYTES], hooks_text[CLI_PLUGIN_HOOKS_TEXT_BYTES];
    char projection_text[64];
    const char *cells[] = {
        plugin->name,
        plugin->version[0] ? plugin->version : "-",
        plugin->abi_version[0] ? plugin->abi_version : "-",
        cli_codes_text(years, year_count, years_text, sizeof years_text),
        cli_codes_text(plugin->hooks, hook_count, hooks_text, sizeof hooks_text),
        cli_projection_text(plugin, head_sequence, projection_text, sizeof projection_text),
        plugin->description[0] ? plugin->description : "-"};
    return cli_table_row_add(table, cells);
}

static int cli_plugins_print(const ProtobufCMessage *message) {
    const Fundflow__V1__ListPluginsResponse *answer =
        (const Fundflow__V1__ListPluginsResponse *)message;
    if (answer->n_plugins == 0) {
        printf("no plugins loaded\n");
    } else {
        static const char *const headings[] = {"name",  "version", "ABI",        "years",
                                               "hooks", "projection", "description"};
        cli_table table;
        cli_table_init(&table, 7, headings, NULL);
        bool added = true;
        for (size_t i = 0; i < answer->n_plugins && added; i++) {
            added = cli_plugin_row_add(&table, answer->plugins[i], answer->head_sequence);
        }
        if (added) cli_table_print(&table);
        cli_table_free(&table);
        if (!added) {
            fprintf(stderr, CLI_PROGRAM ": out of memory\n");
            return CLI_EXIT_FAILED;
        }
    }
    if (answer->n_load_errors > 0) printf("\nload errors:\n");
    for (size_t i = 0; i < answer->n_load_errors; i++) printf("  %s\n", answer->load_errors[i]);
    return CLI_EXIT_OK;
}

int cli_plugins_run(const cli_options *options, cli_session *session) {
    const ProtobufCMessageDescriptor *output = &fundflow__v1__list_plugins_response__descriptor;
    if (options->reload) {
        Fundflow__V1__ReloadPluginsRequest request = FUNDFLOW__V1__RELOAD_PLUGINS_REQUEST__INIT;
        return cli_rpc_read(session, "ReloadPlugins", &request.base, output, cli_plugins_print);
    }
    Fundflow__V1__ListPluginsRequest request = FUNDFLOW__V1__LIST_PLUGINS_REQUEST__INIT;
    return cli_rpc_read(session, "ListPlugins", &request.base, output, cli_plugins_print);
}

/* Output files ------------------------------------------------------------------------------ */

/* A file being written beside the one asked for, renamed over it only once it is whole. */
typedef struct cli_output_file {
    const char *path;
    char temporary_path[PATH_MAX];
    FILE *stream; /* NULL when a library writes the file by its path */
} cli_output_file;

/* Creates the temporary file beside path, and a stream on it when stream is true. Returns 0, or 4
 * having said why. */
static int cli_output_file_create(cli_output_file *file, const char *path, bool stream) {
    memset(file, 0, sizeof *file);
    file->path = path;
    int length = snprintf(file->temporary_path, sizeof file->temporary_path,
                          "%s" CLI_OUTPUT_TEMPORARY_SUFFIX, path);
    if (length < 0 || (size_t)length >= sizeof file->temporary_path) {
        fprintf(stderr, CLI_PROGRAM ": --output: the path is longer than %d bytes\n", PATH_MAX);
        return CLI_EXIT_FAILED;
    }
    int descriptor = mkstemp(file->temporary_path);
    if (descriptor < 0) {
        fprintf(stderr, CLI_PROGRAM ": cannot create a temporary file beside %s: %s\n", path,
                strerror(errno));
        return CLI_EXIT_FAILED;
    }
    file->stream = stream ? fdopen(descriptor, "wb") : NULL;
    if (!stream) close(descriptor);
    if (stream && file->stream == NULL) {
        fprintf(stderr, CLI_PROGRAM ": cannot write %s: %s\n", file->temporary_path,
                strerror(errno));
        close(descriptor);
        unlink(file->temporary_path);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

/* Removes the temporary file, leaving whatever was at path before untouched. */
static void cli_output_file_abandon(cli_output_file *file) {
    if (file->stream != NULL) fclose(file->stream);
    file->stream = NULL;
    unlink(file->temporary_path);
}

/* Flushes the file to disk, gives it the usual mode and renames it over path. Returns 0, or 4
 * having said why and removed it. */
static int cli_output_file_commit(cli_output_file *file) {
    const char *failed = NULL;
    int error = 0;
    if (file->stream != NULL) {
        errno = 0;
        bool written = fflush(file->stream) == 0 && !ferror(file->stream) &&
                       fsync(fileno(file->stream)) == 0;
        error = errno;
        bool closed = fclose(file->stream) == 0;
        if (error == 0 && !closed) error = errno;
        file->stream = NULL;
        if (!written || !closed) failed = "cannot write";
    }
    mode_t mask = umask(0);
    umask(mask);
    if (failed == NULL && chmod(file->temporary_path, CLI_OUTPUT_FILE_MODE & ~mask) != 0) {
        failed = "cannot set the mode of";
        error = errno;
    }
    if (failed == NULL && rename(file->temporary_path, file->path) != 0) {
        failed = "cannot rename into place";
        error = errno;
    }
    if (failed == NULL) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": %s %s: %s\n", failed, file->temporary_path,
            error != 0 ? strerror(error) : "a write failed");
    cli_output_file_abandon(file);
    return CLI_EXIT_FAILED;
}

/* Report ------------------------------------------------------------------------------------ */

/* The format report writes: --format, or else json with --json and a table without. */
static cli_report_format cli_report_format_chosen(const cli_options *options) {
    if (options->report_format != CLI_REPORT_FORMAT_UNCHOSEN) {
        return (cli_report_format)options->report_format;
    }
    return options->json ? CLI_REPORT_FORMAT_JSON : CLI_REPORT_FORMAT_TABLE;
}

/* Writes a text rendering of the reply to out. Returns an exit code; write errors are left in
 * out's error flag. */
static int cli_report_stream_write(const cli_options *options, cli_report_format format,
                                   const cli_reply *reply, const cli_export_provenance *provenance,
                                   FILE *out) {
    const Fundflow__V1__Report *report = (const Fundflow__V1__Report *)reply->message;
    switch (format) {
    case CLI_REPORT_FORMAT_JSON:
        cli_reply_json_write(reply, out);
        return CLI_EXIT_OK;
    case CLI_REPORT_FORMAT_CSV:
        cli_report_csv_write(report, options->provenance ? provenance : NULL, out);
        return CLI_EXIT_OK;
    case CLI_REPORT_FORMAT_TABLE:
        return cli_report_table_write(report, options->org_code, out);
    default:
        assert(false && "xlsx is written by path, never to a stream");
        return CLI_EXIT_FAILED;
    }
}

/* Writes the report into --output through a temporary file. */
static int cli_report_file_write(const cli_options *options, cli_report_format format,
                                 const cli_reply *reply, const cli_export_provenance *provenance) {
    bool xlsx = format == CLI_REPORT_FORMAT_XLSX;
    cli_output_file file;
    int code = cli_output_file_create(&file, options->output_path, !xlsx);
    if (code != CLI_EXIT_OK) return code;
    if (xlsx) {
        code = cli_report_xlsx_write((const Fundflow__V1__Report *)reply->message, provenance,
                                     file.temporary_path, options->output_path);
    } else {
        code = cli_report_stream_write(options, format, reply, provenance, file.stream);
    }
    if (code != CLI_EXIT_OK) {
        cli_output_file_abandon(&file);
        return code;
    }
    return cli_output_file_commit(&file);
}

/* Asks for the report in JSON when it is to be printed as JSON, and in protobuf otherwise, and
 * reports a refusal as --json says, whatever the format. */
static int cli_report_fetch(const cli_options *options, cli_session *session,
                            cli_report_format format, cli_reply *reply) {
    Fundflow__V1__RunReportRequest request = FUNDFLOW__V1__RUN_REPORT_REQUEST__INIT;
    request.plugin = (char *)options->operand;
    request.financial_year = options->financial_year != 0
                                 ? options->financial_year
                                 : calendar_year_of_date(cli_date_today());
    request.org_code = cli_text_or_empty(options->org_code);
    request.as_at_sequence = options->as_at_sequence;
    request.as_at_date = options->as_at_date;
    cli_session asking = *session;
    asking.json = format == CLI_REPORT_FORMAT_JSON;
    int code = cli_rpc_call(&asking, "RunReport", &request.base,
                            &fundflow__v1__report__descriptor, reply);
    if (code != CLI_EXIT_OK) return code;
    if (reply->http_status != 200) return cli_reply_refusal_report(session, reply);
    /* JSON is printed as it came, so only the renderings need every row to fit its table. */
    if (format != CLI_REPORT_FORMAT_JSON &&
        !cli_report_check((const Fundflow__V1__Report *)reply->message)) {
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

/* With --fail-on, 5 when a finding is at that level or worse, having said how many on stderr;
 * otherwise 0. The report is written whole first either way. */
static int cli_report_fail_on_check(const cli_options *options,
                                    const Fundflow__V1__Report *report) {
    if (options->fail_on_level == 0) return CLI_EXIT_OK;
    size_t reached = 0;
    for (size_t i = 0; i < report->n_findings; i++) {
        if ((uint32_t)report->findings[i]->level >= options->fail_on_level) reached++;
    }
    if (reached == 0) return CLI_EXIT_OK;
    bool warn = options->fail_on_level == FUNDFLOW__V1__FINDING_LEVEL__WARN;
    fprintf(stderr, CLI_PROGRAM ": report %s: %zu finding%s at %s (--fail-on %s)\n",
            report->plugin, reached, reached == 1 ? "" : "s", warn ? "WARN or FAIL" : "FAIL",
            warn ? "warn" : "fail");
    return CLI_EXIT_FINDINGS;
}

int cli_report_run(const cli_options *options, cli_session *session) {
    cli_report_format format = cli_report_format_chosen(options);
    assert(format != CLI_REPORT_FORMAT_XLSX || options->output_path != NULL);
    cli_reply reply;
    int code = cli_report_fetch(options, session, format, &reply);
    /* The workbook and CSV with --provenance say what produced them (cli_export.h). */
    cli_export_provenance provenance;
    memset(&provenance, 0, sizeof provenance);
    if (code == CLI_EXIT_OK && (format == CLI_REPORT_FORMAT_XLSX ||
                                (format == CLI_REPORT_FORMAT_CSV && options->provenance))) {
        code = cli_export_provenance_make(&provenance, options, session);
        const Fundflow__V1__Report *report = (const Fundflow__V1__Report *)reply.message;
        provenance.financial_year = report->financial_year;
        provenance.as_at_sequence = report->as_at_sequence;
        provenance.as_at_date = options->as_at_date;
    }
    if (code == CLI_EXIT_OK && options->output_path != NULL) {
        code = cli_report_file_write(options, format, &reply, &provenance);
    } else if (code == CLI_EXIT_OK) {
        code = cli_report_stream_write(options, format, &reply, &provenance, stdout);
    }
    if (code == CLI_EXIT_OK) {
        code = cli_report_fail_on_check(options, (const Fundflow__V1__Report *)reply.message);
    }
    cli_reply_release(&reply);
    return code;
}
