/* ExportReport's reply: a plugin's Report rendered as a file (CSV or an XLSX workbook) in memory,
 * with its media type and a name to save it under. libxlsxwriter (1.1.4) writes only to a path,
 * so a workbook goes through a private temporary file that is removed at once. */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fundflow/calendar.h"

#define EXPORT_CSV_MEDIA_TYPE "text/csv; charset=utf-8"
#define EXPORT_XLSX_MEDIA_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* The temporary workbook's name in $TMPDIR (or /tmp); mkstemp fills in the X's. */
#define EXPORT_TEMPORARY_NAME "fundflow-export-XXXXXX"

/* Bytes of a temporary path and of a file name. */
#define EXPORT_PATH_BYTES 4096
#define EXPORT_FILE_NAME_BYTES 256

/* The CSV as bytes in memory. Returns false when memory runs out. */
static bool export_reply_csv(const Fundflow__V1__Report *report, ProtobufCBinaryData *content) {
    char *bytes = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&bytes, &length);
    if (out == NULL) return false;
    export_report_csv_write(report, NULL, NULL, out);
    bool written = !ferror(out);
    if (fclose(out) != 0) written = false;
    if (!written) {
        free(bytes);
        return false;
    }
    content->data = (uint8_t *)bytes;
    content->len = length;
    return true;
}

/* Reads the whole file at path into content. */
static bool export_reply_file_read(const char *path, ProtobufCBinaryData *content) {
    FILE *in = fopen(path, "rb");
    if (in == NULL) return false;
    bool ok = fseek(in, 0, SEEK_END) == 0;
    long size = ok ? ftell(in) : -1;
    ok = size >= 0 && fseek(in, 0, SEEK_SET) == 0;
    content->data = ok ? malloc((size_t)size + 1) : NULL;
    ok = content->data != NULL && fread(content->data, 1, (size_t)size, in) == (size_t)size;
    fclose(in);
    if (!ok) {
        free(content->data);
        content->data = NULL;
        return false;
    }
    content->len = (size_t)size;
    return true;
}

/* The workbook as bytes in memory, through a temporary file. */
static ff_err export_reply_xlsx(const Fundflow__V1__Report *report, ProtobufCBinaryData *content,
                                ff_failure *failure) {
    const char *folder = getenv("TMPDIR");
    char path[EXPORT_PATH_BYTES], why[EXPORT_WHY_BYTES];
    snprintf(path, sizeof path, "%s/" EXPORT_TEMPORARY_NAME,
             folder && folder[0] == '/' ? folder : "/tmp");
    int descriptor = mkstemp(path);
    if (descriptor < 0) {
        return failure_set(failure, FF_ERR_IO, NULL, "cannot make a temporary workbook: %s",
                           strerror(errno));
    }
    close(descriptor);
    bool ok = export_report_xlsx_write(report, path, "the workbook", NULL, NULL, why);
    if (ok && !export_reply_file_read(path, content)) {
        snprintf(why, sizeof why, "cannot read the temporary workbook back");
        ok = false;
    }
    unlink(path);
    return ok ? FF_OK : failure_set(failure, FF_ERR_IO, NULL, "%s", why);
}

/* PLUGIN-2024-25[-ORG][-asat-2024-09-30].EXTENSION */
static char *export_reply_file_name(const Fundflow__V1__Report *report, const char *org_code,
                                    uint32_t as_at_date, const char *extension) {
    char year[16] = "", date[16] = "", name[EXPORT_FILE_NAME_BYTES];
    calendar_year_format(report->financial_year, year, sizeof year);
    for (char *cursor = year; *cursor; cursor++) {
        if (*cursor == '/') *cursor = '-';
    }
    if (as_at_date != 0 && calendar_date_valid(as_at_date)) {
        calendar_date_format(as_at_date, date, sizeof date);
    }
    snprintf(name, sizeof name, "%s-%s%s%s%s%s.%s", report->plugin, year, org_code[0] ? "-" : "",
             org_code, date[0] ? "-asat-" : "", date, extension);
    return strdup(name);
}

ff_err export_report_reply(const Fundflow__V1__ExportReportRequest *request,
                           const Fundflow__V1__Report *report,
                           Fundflow__V1__ExportReportResponse **reply_out, ff_failure *failure) {
    *reply_out = NULL;
    bool xlsx = request->format == FUNDFLOW__V1__EXPORT_FORMAT__EXPORT_FORMAT_XLSX;
    char why[EXPORT_WHY_BYTES];
    if (!export_report_check(report, why)) {
        return failure_set(failure, FF_ERR_PLUGIN_FAILED, NULL, "%s", why);
    }
    Fundflow__V1__ExportReportResponse *reply = malloc(sizeof *reply);
    if (reply == NULL) return failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    fundflow__v1__export_report_response__init(reply);
    ff_err err = FF_OK;
    if (xlsx) err = export_reply_xlsx(report, &reply->content, failure);
    else if (!export_reply_csv(report, &reply->content)) {
        err = failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory writing the CSV");
    }
    reply->content_type = strdup(xlsx ? EXPORT_XLSX_MEDIA_TYPE : EXPORT_CSV_MEDIA_TYPE);
    reply->file_name = export_reply_file_name(report, request->report->org_code,
                                              request->report->as_at_date, xlsx ? "xlsx" : "csv");
    reply->as_at_sequence = report->as_at_sequence;
    if (err == FF_OK && (reply->content_type == NULL || reply->file_name == NULL)) {
        err = failure_set(failure, FF_ERR_NO_MEMORY, NULL, "out of memory");
    }
    if (err != FF_OK) {
        fundflow__v1__export_report_response__free_unpacked(reply, NULL);
        return err;
    }
    *reply_out = reply;
    return FF_OK;
}

ff_err export_report_request_check(const Fundflow__V1__ExportReportRequest *request,
                                   ff_failure *failure) {
    if (request->report == NULL) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "report",
                           "report is required: the plugin, financial_year and org_code");
    }
    if (request->format != FUNDFLOW__V1__EXPORT_FORMAT__EXPORT_FORMAT_CSV &&
        request->format != FUNDFLOW__V1__EXPORT_FORMAT__EXPORT_FORMAT_XLSX) {
        return failure_set(failure, FF_ERR_ENUM_INVALID, "format",
                           "format must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_XLSX");
    }
    return FF_OK;
}
