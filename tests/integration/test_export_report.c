/* Integration tests of ExportReport, the report as a file for the web view: a real fundflowd with
 * the shipped plugins on 127.0.0.1:0 and a small ledger. Its CSV is byte for byte what
 * `fundflow report --format csv` writes; its XLSX is a workbook (unzip reads it) holding the
 * figures; refusals name the field; and RunReport's and GetOutturn's as_at_date leave out later
 * money.
 *
 * The ledger: NHS England (X24) sets a £10,000.00 core services limit and allocates QUE
 * £1,000.00 dated 2024-04-10 and £250.00 dated 2024-08-01, so system_balance's QUE received
 * £1,250.00 now and £1,000.00 as at 2024-07-01. QUE plans £50.00 a month (dated 2024-04-01) and
 * revises it to £60.00 a month (dated 2024-09-01); it agrees a £600.00 block contract QUE-C1 with
 * RGT (dated 2024-04-15) and pays £100.00 for M2 (dated 2024-05-10) and £150.00 for M6 (dated
 * 2024-09-10). So its outturn to M12 now has plan £720.00 (12 x £60.00) and actual £250.00; as
 * at 2024-07-01, plan £600.00 (12 x £50.00) and actual £100.00 (M6's payment not yet made). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_http.h"
#include "test_support.h"
#include "fundflow/v1/ledger.pb-c.h"

/* Bytes of a shell command or a path built here. */
#define COMMAND_BYTES 8192

/* Bytes read of a command's output at most: the reports here are a few hundred bytes. */
#define OUTPUT_BYTES_MAX (1 << 20)

static const char *fundflowd_path;
static const char *cli_path;
static const char *plugin_dir;

static test_server server;

/* The ledger of the comment at the top, in one linked batch. */
#define WORLD                                                                                   \
    "{\"linked\":true,\"commands\":["                                                            \
    "{\"idempotency_key\":\"e1\",\"effective_date\":20240401,\"event\":{\"org_registered\":"    \
    "{\"code\":\"X24\",\"name\":\"NHS England\",\"kind\":\"NHSE\"}}},"                           \
    "{\"idempotency_key\":\"e2\",\"effective_date\":20240401,\"event\":{\"org_registered\":"    \
    "{\"code\":\"QUE\",\"name\":\"NHS Cambridgeshire and Peterborough ICB\",\"kind\":\"ICB\","  \
    "\"parent_code\":\"X24\"}}},"                                                               \
    "{\"idempotency_key\":\"e3\",\"effective_date\":20240401,\"event\":{\"revenue_limit_set\":" \
    "{\"funder_code\":\"X24\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"            \
    "\"limit_pence\":\"1000000\"}}},"                                                           \
    "{\"idempotency_key\":\"e4\",\"effective_date\":20240410,\"event\":{\"allocation_issued\":" \
    "{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\",\"stream\":\"CORE_SERVICES\","         \
    "\"financial_year\":2024,\"amount_pence\":\"100000\"}}},"                                   \
    "{\"idempotency_key\":\"e5\",\"effective_date\":20240801,\"event\":{\"allocation_issued\":" \
    "{\"funder_code\":\"X24\",\"recipient_code\":\"QUE\",\"stream\":\"CORE_SERVICES\","         \
    "\"financial_year\":2024,\"amount_pence\":\"25000\"}}}]}"

/* A PlanSet of twelve equal months of the given pence, as JSON. */
#define PLAN(key, date, month)                                                                  \
    "{\"idempotency_key\":\"" key "\",\"effective_date\":" date ",\"event\":{\"plan_set\":"     \
    "{\"org_code\":\"QUE\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"             \
    "\"month_amounts_pence\":[" month "," month "," month "," month "," month "," month ","     \
    month "," month "," month "," month "," month "," month "]}}}"

/* A PaymentMade on QUE-C1, as JSON. */
#define PAYMENT(key, date, month, pence)                                                        \
    "{\"idempotency_key\":\"" key "\",\"effective_date\":" date ",\"event\":{\"payment_made\":" \
    "{\"contract_id\":\"QUE-C1\",\"month\":" month ",\"amount_pence\":\"" pence "\"}}}"

/* The plans, the contract and its payments of the comment at the top. */
#define SPENDING                                                                                \
    "{\"linked\":true,\"commands\":["                                                            \
    "{\"idempotency_key\":\"s1\",\"effective_date\":20240401,\"event\":{\"org_registered\":"    \
    "{\"code\":\"RGT\",\"name\":\"Cambridge University Hospitals\",\"kind\":\"TRUST\"}}},"       \
    PLAN("s2", "20240401", "5000") ","                                                          \
    "{\"idempotency_key\":\"s3\",\"effective_date\":20240415,\"event\":{\"contract_agreed\":"   \
    "{\"contract_id\":\"QUE-C1\",\"commissioner_code\":\"QUE\",\"provider_code\":\"RGT\","       \
    "\"type\":\"BLOCK\",\"financial_year\":2024,\"stream\":\"CORE_SERVICES\","                  \
    "\"annual_value_pence\":\"60000\"}}},"                                                     \
    PAYMENT("s4", "20240510", "2", "10000") "," PLAN("s5", "20240901", "6000") ","              \
    PAYMENT("s6", "20240910", "6", "15000") "]}"

static int server_setup(void **state) {
    (void)state;
    char config[COMMAND_BYTES];
    snprintf(config, sizeof config, "plugin_dir = %s\n", plugin_dir);
    test_server_start(fundflowd_path, config, &server);
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, "SubmitCommands", WORLD, &reply), 0);
    if (reply.status != 200) fail_msg("the ledger did not load: %s", reply.body);
    http_reply_free(&reply);
    assert_int_equal(http_twirp_json(server.port, "SubmitCommands", SPENDING, &reply), 0);
    if (reply.status != 200 || strstr((const char *)reply.body, "\"code\":\"ok\"") == NULL) {
        fail_msg("the spending did not load: %s", reply.body);
    }
    http_reply_free(&reply);
    return 0;
}

static int server_teardown(void **state) {
    (void)state;
    assert_int_equal(test_server_stop(&server), 0);
    test_server_cleanup(&server);
    return 0;
}

/* ExportReport in protobuf, so the file's bytes come as they are. */
static Fundflow__V1__ExportReportResponse *export_call(const char *plugin, const char *org_code,
                                                       Fundflow__V1__ExportFormat format) {
    Fundflow__V1__RunReportRequest report = FUNDFLOW__V1__RUN_REPORT_REQUEST__INIT;
    report.plugin = (char *)plugin;
    report.financial_year = 2024;
    report.org_code = (char *)org_code;
    Fundflow__V1__ExportReportRequest request = FUNDFLOW__V1__EXPORT_REPORT_REQUEST__INIT;
    request.report = &report;
    request.format = format;
    http_reply reply;
    assert_int_equal(http_twirp_protobuf(server.port, "ExportReport", &request.base, &reply), 0);
    if (reply.status != 200) fail_msg("ExportReport: status %d: %s", reply.status, reply.body);
    Fundflow__V1__ExportReportResponse *response =
        fundflow__v1__export_report_response__unpack(NULL, reply.body_bytes, reply.body);
    assert_non_null(response);
    http_reply_free(&reply);
    return response;
}

/* What command (a shell line) writes on stdout, NUL-terminated; fails unless it exits 0. */
static char *command_output(const char *command, size_t *bytes_out) {
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    char *output = calloc(1, OUTPUT_BYTES_MAX + 1);
    assert_non_null(output);
    size_t bytes = fread(output, 1, OUTPUT_BYTES_MAX, pipe);
    int status = pclose(pipe);
    if (status != 0) fail_msg("`%s` exited %d", command, status);
    if (bytes_out) *bytes_out = bytes;
    return output;
}

static void test_csv_is_the_clis_byte_for_byte(void **state) {
    (void)state;
    Fundflow__V1__ExportReportResponse *file =
        export_call("system_balance", "", FUNDFLOW__V1__EXPORT_FORMAT__EXPORT_FORMAT_CSV);
    assert_string_equal(file->content_type, "text/csv; charset=utf-8");
    assert_string_equal(file->file_name, "system_balance-2024-25.csv");
    char command[COMMAND_BYTES];
    snprintf(command, sizeof command,
             "FUNDFLOW_SERVER=http://127.0.0.1:%u '%s' report system_balance --year 2024/25 "
             "--format csv",
             server.port, cli_path);
    size_t bytes = 0;
    char *cli = command_output(command, &bytes);
    assert_int_equal(file->content.len, bytes);
    assert_memory_equal(file->content.data, cli, bytes);
    /* And it holds the figure: £1,000.00 + £250.00 received, as plain pounds. */
    assert_non_null(strstr(cli, "QUE,NHS Cambridgeshire and Peterborough ICB,0,1250.00,"));
    free(cli);
    fundflow__v1__export_report_response__free_unpacked(file, NULL);
}

static void test_xlsx_is_a_workbook_with_the_figures(void **state) {
    (void)state;
    Fundflow__V1__ExportReportResponse *file =
        export_call("system_balance", "QUE", FUNDFLOW__V1__EXPORT_FORMAT__EXPORT_FORMAT_XLSX);
    assert_string_equal(file->content_type,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_string_equal(file->file_name, "system_balance-2024-25-QUE.xlsx");
    assert_true(file->content.len > 2);
    assert_memory_equal(file->content.data, "PK", 2);
    char path[COMMAND_BYTES / 2], command[COMMAND_BYTES];
    snprintf(path, sizeof path, "%s/report.xlsx", server.directory);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(file->content.data, 1, file->content.len, out), file->content.len);
    assert_int_equal(fclose(out), 0);
    /* The sheets: the plugin's two tables, then the findings. */
    snprintf(command, sizeof command, "unzip -p '%s' xl/workbook.xml", path);
    char *workbook = command_output(command, NULL);
    assert_non_null(strstr(workbook, "name=\"systems\""));
    assert_non_null(strstr(workbook, "name=\"bodies\""));
    assert_non_null(strstr(workbook, "name=\"Findings\""));
    free(workbook);
    /* systems' row for QUE: received 1250 pounds as a number, in the £ format. */
    snprintf(command, sizeof command, "unzip -p '%s' xl/worksheets/sheet1.xml", path);
    char *sheet = command_output(command, NULL);
    assert_non_null(strstr(sheet, "<v>1250</v>"));
    free(sheet);
    snprintf(command, sizeof command, "unzip -p '%s' xl/styles.xml", path);
    char *styles = command_output(command, NULL);
    assert_non_null(strstr(styles, "formatCode=\"£#,##0.00\""));
    free(styles);
    fundflow__v1__export_report_response__free_unpacked(file, NULL);
}

/* A JSON call expected to be refused with status and code, naming field. */
static void expect_refused(const char *rpc, const char *json, int status, const char *code,
                           const char *field) {
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, rpc, json, &reply), 0);
    if (reply.status != status) fail_msg("%s: status %d: %s", rpc, reply.status, reply.body);
    json_t *document = json_loadb((const char *)reply.body, reply.body_bytes, 0, NULL);
    assert_non_null(document);
    assert_string_equal(json_string_value(json_object_get(document, "code")), code);
    if (field != NULL) {
        json_t *meta = json_object_get(document, "meta");
        assert_string_equal(json_string_value(json_object_get(meta, "field")), field);
    }
    json_decref(document);
    http_reply_free(&reply);
}

/* A JSON call expected to succeed; its reply parsed. */
static json_t *json_ok(const char *rpc, const char *json) {
    http_reply reply;
    assert_int_equal(http_twirp_json(server.port, rpc, json, &reply), 0);
    if (reply.status != 200) fail_msg("%s: status %d: %s", rpc, reply.status, reply.body);
    json_t *document = json_loadb((const char *)reply.body, reply.body_bytes, 0, NULL);
    assert_non_null(document);
    http_reply_free(&reply);
    return document;
}

/* system_balance's systems table, QUE's received (the fourth column), in pence. */
static const char *report_received(const char *as_at_date) {
    static char text[32];
    char request[256];
    snprintf(request, sizeof request,
             "{\"plugin\":\"system_balance\",\"financial_year\":2024,\"as_at_date\":%s}",
             as_at_date);
    json_t *report = json_ok("RunReport", request);
    json_t *row = json_array_get(
        json_object_get(json_array_get(json_object_get(report, "tables"), 0), "rows"), 0);
    json_t *cell = json_array_get(json_object_get(row, "cells"), 3);
    snprintf(text, sizeof text, "%s", json_string_value(json_object_get(cell, "number")));
    json_decref(report);
    return text;
}

static void test_report_as_at_a_date_leaves_out_later_money(void **state) {
    (void)state;
    /* £1,000.00 + £250.00 now; the £250.00 dated 2024-08-01 not yet as at 2024-07-01. */
    assert_string_equal(report_received("0"), "125000");
    assert_string_equal(report_received("20240701"), "100000");
    assert_string_equal(report_received("20240801"), "125000");
    json_t *file = json_ok("ExportReport",
                           "{\"report\":{\"plugin\":\"system_balance\",\"financial_year\":2024,"
                           "\"as_at_date\":20240701},\"format\":\"EXPORT_FORMAT_CSV\"}");
    assert_string_equal(json_string_value(json_object_get(file, "file_name")),
                        "system_balance-2024-25-asat-2024-07-01.csv");
    json_decref(file);
}

/* GetOutturn of QUE's core services to M12, as at the date (0: none): "plan actual". */
static const char *outturn_figures(const char *as_at_date) {
    static char text[64];
    char request[256];
    snprintf(request, sizeof request,
             "{\"org_code\":\"QUE\",\"stream\":\"CORE_SERVICES\",\"financial_year\":2024,"
             "\"to_month\":12,\"as_at_date\":%s}",
             as_at_date);
    json_t *outturn = json_ok("GetOutturn", request);
    snprintf(text, sizeof text, "%s %s",
             json_string_value(json_object_get(outturn, "full_year_plan_pence")),
             json_string_value(json_object_get(outturn, "ytd_actual_pence")));
    json_decref(outturn);
    return text;
}

static void test_outturn_as_at_a_date_leaves_out_later_plans_and_payments(void **state) {
    (void)state;
    /* Now: 12 x £60.00 planned, £100.00 + £150.00 paid. */
    assert_string_equal(outturn_figures("0"), "72000 25000");
    /* 2024-07-01: the first plan (12 x £50.00), and only M2's £100.00. */
    assert_string_equal(outturn_figures("20240701"), "60000 10000");
    /* 2024-09-01: the revised plan, but M6's payment comes on 2024-09-10. */
    assert_string_equal(outturn_figures("20240901"), "72000 10000");
    /* Before the contract was agreed (2024-04-15) nothing is paid or committed. */
    json_t *outturn = json_ok("GetOutturn", "{\"org_code\":\"QUE\",\"financial_year\":2024,"
                                            "\"to_month\":1,\"as_at_date\":20240410}");
    assert_string_equal(json_string_value(json_object_get(outturn, "remaining_commitment_pence")),
                        "0");
    json_decref(outturn);
}

static void test_refusals_name_the_field(void **state) {
    (void)state;
    expect_refused("ExportReport", "{\"format\":\"EXPORT_FORMAT_CSV\"}", 400, "invalid_argument",
                   "report");
    expect_refused("ExportReport",
                   "{\"report\":{\"plugin\":\"system_balance\",\"financial_year\":2024}}", 400,
                   "invalid_argument", "format");
    expect_refused("ExportReport",
                   "{\"report\":{\"plugin\":\"nope\",\"financial_year\":2024},"
                   "\"format\":\"EXPORT_FORMAT_XLSX\"}",
                   404, "not_found", NULL);
    expect_refused("RunReport",
                   "{\"plugin\":\"system_balance\",\"financial_year\":2024,"
                   "\"as_at_date\":20240231}",
                   400, "invalid_argument", "as_at_date");
    expect_refused("GetOutturn",
                   "{\"org_code\":\"QUE\",\"financial_year\":2024,\"to_month\":3,"
                   "\"as_at_date\":2024}",
                   400, "invalid_argument", "as_at_date");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    fundflowd_path = argv[1];
    cli_path = argv[2];
    plugin_dir = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_is_the_clis_byte_for_byte),
        cmocka_unit_test(test_xlsx_is_a_workbook_with_the_figures),
        cmocka_unit_test(test_report_as_at_a_date_leaves_out_later_money),
        cmocka_unit_test(test_outturn_as_at_a_date_leaves_out_later_plans_and_payments),
        cmocka_unit_test(test_refusals_name_the_field),
    };
    return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
