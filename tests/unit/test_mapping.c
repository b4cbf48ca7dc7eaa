/* Unit tests for mapping files and the mapped CSV reader (tools/common/mapping.h): every
 * directive, every refusal with its message, every date format, amounts, and hostile files; and
 * the CSV reader's carriage returns (tools/common/csv.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "mapping.h"
#include "test_support.h"

/* A fresh directory per test, holding the files it writes. */
typedef struct test_files {
    char *directory;
    char path[512];
} test_files;

static int test_files_setup(void **state) {
    test_files *files = calloc(1, sizeof *files);
    assert_non_null(files);
    files->directory = test_dir_make();
    *state = files;
    return 0;
}

static int test_files_teardown(void **state) {
    test_files *files = *state;
    test_dir_remove(files->directory);
    free(files);
    return 0;
}

/* Writes size bytes to name in the test's directory and returns its path. */
static const char *test_file_write(test_files *files, const char *name, const char *bytes,
                                   size_t size) {
    snprintf(files->path, sizeof files->path, "%s/%s", files->directory, name);
    FILE *file = fopen(files->path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
    return files->path;
}

static mapping *test_mapping(const char *text) {
    char error[MAPPING_ERROR_BYTES];
    mapping *map = NULL;
    ff_err err = mapping_parse(text, strlen(text), "t.map", &map, error, sizeof error);
    if (err != FF_OK) fail_msg("mapping refused: %s", error);
    return map;
}

/* Parses text expecting a refusal with code and exactly message. */
static void test_mapping_refused(const char *text, ff_err code, const char *message) {
    char error[MAPPING_ERROR_BYTES];
    mapping *map = (mapping *)1;
    assert_int_equal(mapping_parse(text, strlen(text), "t.map", &map, error, sizeof error), code);
    assert_null(map);
    assert_string_equal(error, message);
}

static void test_every_directive(void **state) {
    (void)state;
    mapping *map = test_mapping("\xEF\xBB\xBF# receipts from a provider\r\n"
                                "\r\n"
                                "Contract Ref = contract   # the contract's reference\r\n"
                                "#3 = amount\n"
                                "set stream = core\n"
                                "\"Kind\" = kind_column\n"
                                "Date Paid = date\n"
                                "kind = payments\n"
                                "Date  Format = dd/mm/yyyy\n"
                                "amount format = pence\n"
                                "amount sign = negate\n"
                                "reference = #2\n"
                                "header = first line\n"
                                "match = contract, month\n"
                                "tolerance = 1.00\n"
                                "date window = 2024-04-01 to 2024-09-30\n");
    assert_string_equal(mapping_directive(map, "kind"), "payments");
    assert_string_equal(mapping_directive(map, "match"), "contract, month");
    assert_string_equal(mapping_directive(map, "tolerance"), "1.00");
    assert_string_equal(mapping_directive(map, "date window"), "2024-04-01 to 2024-09-30");
    /* "#2" is a column, not the start of a comment. */
    assert_string_equal(mapping_directive(map, "reference"), "#2");
    assert_int_equal(mapping_date_format_get(map), MAPPING_DATE_DMY_SLASH);
    assert_int_equal(mapping_amount_format_get(map), MAPPING_AMOUNT_PENCE);
    assert_true(mapping_amount_negated(map));
    assert_true(mapping_has_header(map));
    /* Columns in the order written, then the constant. */
    assert_int_equal(mapping_field_count(map), 5);
    const char *expected[] = {"contract", "amount", "kind_column", "date", "stream"};
    for (size_t i = 0; i < 5; i++) assert_string_equal(mapping_field_name(map, i), expected[i]);
    mapping_free(map);
}

static void test_defaults(void **state) {
    (void)state;
    mapping *map = test_mapping("Amount = amount\n");
    assert_null(mapping_directive(map, "kind"));
    assert_null(mapping_directive(map, "reference"));
    assert_int_equal(mapping_date_format_get(map), MAPPING_DATE_ISO);
    assert_int_equal(mapping_amount_format_get(map), MAPPING_AMOUNT_POUNDS);
    assert_false(mapping_amount_negated(map));
    assert_true(mapping_has_header(map));
    mapping_free(map);
    map = test_mapping("header = none\namount sign = as is\namount format = pounds\n"
                       "date format = YYYYMMDD");
    assert_false(mapping_has_header(map));
    assert_false(mapping_amount_negated(map));
    assert_int_equal(mapping_date_format_get(map), MAPPING_DATE_COMPACT);
    assert_int_equal(mapping_field_count(map), 0);
    mapping_free(map);
}

static void test_mapping_refusals(void **state) {
    (void)state;
    test_mapping_refused("kind = payments\nAmount amount\n", FF_ERR_TEXT_INVALID,
                         "t.map line 2: no '=': write NAME = VALUE, such as Amount = amount");
    test_mapping_refused("date format = MM/DD/YYYY\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: date format \"MM/DD/YYYY\" is not one of YYYY-MM-DD, "
                         "DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD-MON-YYYY, YYYYMMDD");
    test_mapping_refused("amount format = euros\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: amount format \"euros\" is not pounds or pence");
    test_mapping_refused("amount sign = flip\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: amount sign \"flip\" is not negate or as is");
    test_mapping_refused("header = second line\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: header \"second line\" is not none or first line");
    test_mapping_refused("A = amount\n\nB = amount\n", FF_ERR_TEXT_INVALID,
                         "t.map line 3: two columns for the field amount (also on line 1)");
    test_mapping_refused("A = amount\nset amount = 5\n", FF_ERR_TEXT_INVALID,
                         "t.map line 2: the field amount is both mapped and set (also on line 1)");
    test_mapping_refused("set stream = core\nset stream = other\n", FF_ERR_TEXT_INVALID,
                         "t.map line 2: the field stream is set twice (also on line 1)");
    test_mapping_refused("kind = payments\nKIND = budgets\n", FF_ERR_TEXT_INVALID,
                         "t.map line 2: kind is given twice (first on line 1)");
    test_mapping_refused("Amount =\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: the value after '=' is empty");
    test_mapping_refused(" = amount\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: the name before '=' is empty");
    test_mapping_refused("#0 = amount\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: column #0 is not a position from #1 to #64");
    test_mapping_refused("#65 = amount\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: column #65 is not a position from #1 to #64");
    test_mapping_refused("\"Kind = kind\n", FF_ERR_TEXT_INVALID,
                         "t.map line 1: a quoted heading must be one \"...\" with no quote inside");

    char error[MAPPING_ERROR_BYTES];
    mapping *map = NULL;
    assert_int_equal(mapping_parse("k = v\na\0b = c\n", 12, "t.map", &map, error, sizeof error),
                     FF_ERR_TEXT_INVALID);
    assert_string_equal(error, "t.map line 2: a NUL byte; a mapping file is text");
}

static void test_mapping_limits(void **state) {
    (void)state;
    /* 33 fields: one beyond MAPPING_FIELDS_MAX (32). */
    char text[2048] = "";
    for (int i = 1; i <= 33; i++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "#%d = f%d\n", i, i);
    }
    test_mapping_refused(text, FF_ERR_FIELD_TOO_LONG,
                         "t.map line 33: more than 32 fields (columns and constants together)");

    char line[MAPPING_LINE_BYTES_MAX + 16];
    memset(line, 'a', sizeof line);
    line[sizeof line - 1] = '\0';
    test_mapping_refused(line, FF_ERR_FIELD_TOO_LONG,
                         "t.map line 1: the line is longer than 1024 bytes");

    char name[MAPPING_TEXT_BYTES_MAX + 16];
    memset(name, 'n', MAPPING_TEXT_BYTES_MAX + 1);
    snprintf(name + MAPPING_TEXT_BYTES_MAX + 1, 15, " = x");
    test_mapping_refused(name, FF_ERR_FIELD_TOO_LONG,
                         "t.map line 1: the name before '=' is longer than 128 bytes");

    size_t size = MAPPING_FILE_BYTES_MAX + 1;
    char *big = malloc(size);
    assert_non_null(big);
    memset(big, '\n', size);
    char error[MAPPING_ERROR_BYTES];
    mapping *map = NULL;
    assert_int_equal(mapping_parse(big, size, "big.map", &map, error, sizeof error),
                     FF_ERR_FIELD_TOO_LONG);
    assert_string_equal(error, "big.map: the mapping file is longer than 65536 bytes");
    free(big);
}

static void test_mapping_load(void **state) {
    test_files *files = *state;
    const char *path = test_file_write(files, "r.map", "Amount = amount\n", 16);
    char error[MAPPING_ERROR_BYTES];
    mapping *map = NULL;
    assert_int_equal(mapping_load(path, &map, error, sizeof error), FF_OK);
    assert_string_equal(mapping_field_name(map, 0), "amount");
    mapping_free(map);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.map", files->directory);
    assert_int_equal(mapping_load(missing, &map, error, sizeof error), FF_ERR_IO);
    assert_non_null(strstr(error, "none.map: No such file or directory"));
    path = test_file_write(files, "bad.map", "x\n", 2);
    assert_int_equal(mapping_load(path, &map, error, sizeof error), FF_ERR_TEXT_INVALID);
    assert_non_null(strstr(error, "bad.map line 1: no '='"));
}

/* Converts text with a mapping in the given date format, expecting want (NULL: refused). */
static void test_date(const char *format, const char *text, const char *want) {
    char mapping_text[64];
    snprintf(mapping_text, sizeof mapping_text, "date format = %s\n", format);
    mapping *map = test_mapping(mapping_text);
    char out[11];
    const char *problem = NULL;
    bool converted = mapping_date_to_iso(map, text, out, sizeof out, &problem);
    if (want == NULL) {
        assert_false(converted);
        assert_non_null(problem);
    } else {
        if (!converted) fail_msg("%s %s: %s", format, text, problem);
        assert_string_equal(out, want);
    }
    mapping_free(map);
}

static void test_date_formats(void **state) {
    (void)state;
    test_date("YYYY-MM-DD", "2024-04-01", "2024-04-01");
    test_date("YYYY-MM-DD", "2024-4-1", NULL);
    test_date("YYYY-MM-DD", "01/04/2024", NULL);
    test_date("DD/MM/YYYY", "01/04/2024", "2024-04-01");
    test_date("D/M/YYYY", "1/4/2024", "2024-04-01");
    test_date("DD/MM/YYYY", "31/03/2025", "2025-03-31");
    test_date("DD/MM/YYYY", "01/04/24", NULL);
    test_date("DD/MM/YYYY", "01-04-2024", NULL);
    test_date("DD/MM/YYYY", "001/04/2024", NULL);
    test_date("DD/MM/YYYY", "01/04/2024 00:00", NULL);
    test_date("DD-MM-YYYY", "15-09-2024", "2024-09-15");
    test_date("DD-MM-YYYY", "15/09/2024", NULL);
    test_date("DD.MM.YYYY", "15.09.2024", "2024-09-15");
    test_date("DD.MM.YYYY", "15.9.2024", "2024-09-15");
    test_date("DD-MON-YYYY", "01-APR-2024", "2024-04-01");
    test_date("DD-MON-YYYY", "1-apr-2024", "2024-04-01");
    test_date("DD-MON-YYYY", "28-Feb-2025", "2025-02-28");
    test_date("DD-MON-YYYY", "31-DEC-2024", "2024-12-31");
    test_date("DD-MON-YYYY", "01-JAN-2025", "2025-01-01");
    test_date("DD-MON-YYYY", "01-APRIL-2024", NULL);
    test_date("DD-MON-YYYY", "01-XYZ-2024", NULL);
    test_date("DD-MON-YYYY", "01-04-2024", NULL);
    test_date("YYYYMMDD", "20240401", "2024-04-01");
    test_date("YYYYMMDD", "2024041", NULL);
    test_date("YYYYMMDD", "2024-04-01", NULL);
    /* Only the form is checked here: the CLI's date parser refuses month 13. */
    test_date("DD/MM/YYYY", "01/13/2024", "2024-13-01");

    mapping *map = test_mapping("date format = DD/MM/YYYY\n");
    char small[10];
    const char *problem = NULL;
    assert_false(mapping_date_to_iso(map, "01/04/2024", small, sizeof small, &problem));
    assert_false(mapping_date_to_iso(map, "", small + 0, 11, NULL));
    mapping_free(map);
}

/* Converts an amount with mapping text, expecting want (NULL: refused). */
static void test_amount(const char *mapping_text, const char *text, const char *want) {
    mapping *map = test_mapping(mapping_text);
    char out[32];
    const char *problem = NULL;
    bool converted = mapping_amount_to_pounds(map, text, out, sizeof out, &problem);
    if (want == NULL) {
        assert_false(converted);
        assert_non_null(problem);
    } else {
        if (!converted) fail_msg("%s: %s", text, problem);
        assert_string_equal(out, want);
    }
    mapping_free(map);
}

static void test_amounts(void **state) {
    (void)state;
    const char *pounds = "amount format = pounds\n";
    const char *negated = "amount sign = negate\n";
    const char *pence = "amount format = pence\n";
    const char *pence_negated = "amount format = pence\namount sign = negate\n";
    /* Pounds go through untouched, £ and commas included, for money_parse to judge. */
    test_amount(pounds, "£1,234.50", "£1,234.50");
    test_amount(pounds, "1.234", "1.234");
    test_amount(pounds, "-12.5", "-12.5");
    test_amount(negated, "-1,234.50", "1,234.50");
    test_amount(negated, "1,234.50", "-1,234.50");
    test_amount(negated, "£5", "-£5");
    test_amount(negated, "+5", "-5");
    test_amount(negated, "", "");
    /* Pence: 123450 p = £1,234.50; 5 p = £0.05; 50 p = £0.50; 100 p = £1.00. */
    test_amount(pence, "123450", "1234.50");
    test_amount(pence, "5", "0.05");
    test_amount(pence, "50", "0.50");
    test_amount(pence, "100", "1.00");
    test_amount(pence, "0", "0.00");
    test_amount(pence, "000123", "1.23");
    test_amount(pence, "-5", "-0.05");
    test_amount(pence, "+250", "2.50");
    test_amount(pence_negated, "-123450", "1234.50");
    test_amount(pence_negated, "7", "-0.07");
    test_amount(pence, "1,234", NULL);
    test_amount(pence, "12.50", NULL);
    test_amount(pence, "", NULL);
    test_amount(pence, "-", NULL);
    test_amount(pence, "1e3", NULL);
    test_amount(pence, "12345678901234567890123456789012345", NULL);
}

/* Opens text as a CSV through mapping_text; returns the reader or NULL with error filled. */
static mapped_reader *test_reader(test_files *files, const char *mapping_text, const char *csv,
                                  size_t csv_size, mapping **map_out, ff_err *err_out,
                                  char *error) {
    *map_out = test_mapping(mapping_text);
    const char *path = test_file_write(files, "in.csv", csv, csv_size);
    mapped_reader *reader = NULL;
    *err_out = mapped_reader_open(path, *map_out, &reader, error, MAPPING_ERROR_BYTES);
    return reader;
}

/* Expects the file to be refused at opening with code and a message ending with tail. */
static void test_open_refused(test_files *files, const char *mapping_text, const char *csv,
                              size_t csv_size, ff_err code, const char *tail) {
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, mapping_text, csv, csv_size, &map, &err, error);
    assert_null(reader);
    assert_int_equal(err, code);
    char want[MAPPING_ERROR_BYTES];
    snprintf(want, sizeof want, "%s/in.csv%s", files->directory, tail);
    assert_string_equal(error, want);
    mapping_free(map);
}

static void test_read_rows(void **state) {
    test_files *files = *state;
    const char *mapping_text = "contract ref = contract\n\"Kind\" = kind\nAmount = amount\n"
                               "set stream = core\nreference = \"Invoice No\"\n";
    /* A BOM, CRLF, a quoted heading, a quoted cell holding a comma, quotes and a line break,
     * a formula-like cell, spaces around values, and a blank and an all-empty row. */
    const char csv[] = "\xEF\xBB\xBF"
                       "Invoice No, Contract Ref ,Kind,Amount,Notes\r\n"
                       "INV-1,C-001,payment,\"£1,234.50\",\"said \"\"hi\"\"\r\nthere\"\r\n"
                       "\r\n"
                       ",,,,\r\n"
                       "INV-2,  C-002  ,=cmd|'/c calc'!A1,-12.5,\r\n";
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, mapping_text, csv, sizeof csv - 1, &map, &err,
                                        error);
    if (reader == NULL) fail_msg("%s", error);
    assert_int_equal(mapped_reader_row_count(reader), 2);
    assert_string_equal(mapped_reader_file_name(reader), "in.csv");
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_int_equal(row.line, 2);
    assert_int_equal(row.field_count, 4);
    assert_string_equal(row.names[0], "contract");
    assert_string_equal(row.values[0], "C-001");
    assert_string_equal(row.columns[0], "Contract Ref");
    assert_string_equal(row.names[1], "kind");
    assert_string_equal(row.values[1], "payment");
    assert_string_equal(row.columns[1], "Kind");
    assert_string_equal(row.values[2], "£1,234.50");
    assert_string_equal(row.names[3], "stream");
    assert_string_equal(row.values[3], "core");
    assert_string_equal(row.columns[3], "set");
    assert_string_equal(row.reference, "INV-1");
    /* The quoted cell spanned lines 2-3; blank and empty rows 4-5 are skipped. */
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_int_equal(row.line, 6);
    assert_string_equal(row.values[0], "C-002");
    assert_string_equal(row.values[1], "=cmd|'/c calc'!A1");
    assert_string_equal(row.values[2], "-12.5");
    assert_string_equal(row.reference, "INV-2");
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_EVENT_UNKNOWN);
    mapped_reader_close(reader);
    mapping_free(map);
}

static void test_embedded_newline_value(void **state) {
    test_files *files = *state;
    const char csv[] = "Note\n\"a, \"\"b\"\"\nc\"\n";
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "Note = note\n", csv, sizeof csv - 1, &map, &err,
                                        error);
    assert_non_null(reader);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_string_equal(row.values[0], "a, \"b\"\nc");
    assert_null(row.reference);
    mapped_reader_close(reader);
    mapping_free(map);
}

static void test_header_none(void **state) {
    test_files *files = *state;
    const char csv[] = "C-001,2024-04-01,100.00\nC-002,2024-05-01,200.00\n";
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "header = none\n#3 = amount\n#1 = contract\n"
                                        "reference = #2\n", csv, sizeof csv - 1, &map, &err,
                                        error);
    if (reader == NULL) fail_msg("%s", error);
    assert_int_equal(mapped_reader_row_count(reader), 2);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_int_equal(row.line, 1);
    assert_string_equal(row.values[0], "100.00");
    assert_string_equal(row.columns[0], "#3");
    assert_string_equal(row.values[1], "C-001");
    assert_string_equal(row.reference, "2024-04-01");
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_string_equal(row.values[1], "C-002");
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_EVENT_UNKNOWN);
    mapped_reader_close(reader);
    mapping_free(map);

    test_open_refused(files, "header = none\nAmount = amount\n", csv, sizeof csv - 1,
                      FF_ERR_TEXT_INVALID,
                      ": the mapping says header = none, so column \"Amount\" (for amount) must "
                      "be named by position, such as #1");
}

static void test_short_row(void **state) {
    test_files *files = *state;
    const char csv[] = "A,B,C\n1,2,3\n4,5\n6,7,8\n";
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "C = c\n", csv, sizeof csv - 1, &map, &err,
                                        error);
    assert_non_null(reader);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_TEXT_INVALID);
    char want[MAPPING_ERROR_BYTES];
    snprintf(want, sizeof want, "%s/in.csv line 3, column C: the row has 2 cells, too few for c",
             files->directory);
    assert_string_equal(mapped_reader_error(reader), want);
    /* Every later call gives the same error. */
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_TEXT_INVALID);
    mapped_reader_close(reader);
    mapping_free(map);
}

static void test_missing_heading(void **state) {
    test_files *files = *state;
    const char csv[] = "Date,Amount\n2024-04-01,1\n";
    test_open_refused(files, "Contract = contract\n", csv, sizeof csv - 1, FF_ERR_TEXT_INVALID,
                      " line 1: no column headed \"Contract\" (for contract); the headings "
                      "are: \"Date\", \"Amount\"");
    test_open_refused(files, "#3 = x\n", csv, sizeof csv - 1, FF_ERR_TEXT_INVALID,
                      " line 1: column #3 (for x) is beyond the heading's 2 columns");
    test_open_refused(files, "reference = Invoice\n", csv, sizeof csv - 1, FF_ERR_TEXT_INVALID,
                      " line 1: no column headed \"Invoice\" (for reference); the headings "
                      "are: \"Date\", \"Amount\"");
    test_open_refused(files, "Amount = amount\n", "", 0, FF_ERR_TEXT_INVALID,
                      ": the file is empty; it has no heading row");
}

static void test_hostile_encodings(void **state) {
    test_files *files = *state;
    const char *map = "Amount = amount\n";
    const char zip[] = "PK\x03\x04\x14\x00\x06\x00";
    test_open_refused(files, map, zip, sizeof zip - 1, FF_ERR_TEXT_INVALID,
                      ": this is an XLSX or other ZIP file, not CSV; save it from Excel as CSV "
                      "UTF-8");
    const char utf16[] = "\xFF\xFE" "A\0m\0";
    test_open_refused(files, map, utf16, sizeof utf16 - 1, FF_ERR_TEXT_INVALID,
                      ": this is UTF-16 text (Excel's \"Unicode text\"), not UTF-8; save it from "
                      "Excel as CSV UTF-8");
    const char utf16be[] = "\xFE\xFF" "\0A";
    test_open_refused(files, map, utf16be, sizeof utf16be - 1, FF_ERR_TEXT_INVALID,
                      ": this is UTF-16 text (Excel's \"Unicode text\"), not UTF-8; save it from "
                      "Excel as CSV UTF-8");
    /* Windows-1252's £ is byte 0xA3, on line 3. */
    const char cp1252[] = "Amount\n1.00\n\xA3" "5.00\n";
    test_open_refused(files, map, cp1252, sizeof cp1252 - 1, FF_ERR_TEXT_INVALID,
                      " line 3: byte 0xA3 is not UTF-8 (Windows-1252's £ is the usual one); "
                      "save it from Excel as CSV UTF-8");
    const char overlong[] = "Amount\n\xC0\xAF\n";
    test_open_refused(files, map, overlong, sizeof overlong - 1, FF_ERR_TEXT_INVALID,
                      " line 2: byte 0xC0 is not UTF-8 (Windows-1252's £ is the usual one); "
                      "save it from Excel as CSV UTF-8");
    const char nul[] = "Amount\n1\0\n";
    test_open_refused(files, map, nul, sizeof nul - 1, FF_ERR_TEXT_INVALID,
                      " line 2: a NUL byte, so this is not a CSV text file");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/absent.csv", files->directory);
    mapping *parsed = test_mapping(map);
    mapped_reader *reader = NULL;
    char error[MAPPING_ERROR_BYTES];
    assert_int_equal(mapped_reader_open(missing, parsed, &reader, error, sizeof error), FF_ERR_IO);
    assert_non_null(strstr(error, "absent.csv: No such file or directory"));
    mapping_free(parsed);
}

static void test_huge_field(void **state) {
    test_files *files = *state;
    /* A heading, then one cell of CSV_FIELD_BYTES_MAX + 1 bytes. */
    size_t size = 7 + CSV_FIELD_BYTES_MAX + 1 + 1;
    char *csv = malloc(size);
    assert_non_null(csv);
    memcpy(csv, "Amount\n", 7);
    memset(csv + 7, '9', CSV_FIELD_BYTES_MAX + 1);
    csv[size - 1] = '\n';
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "Amount = amount\n", csv, size, &map, &err, error);
    assert_non_null(reader);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_FIELD_TOO_LONG);
    char want[MAPPING_ERROR_BYTES];
    snprintf(want, sizeof want, "%s/in.csv line 2: a field is longer than 1024 bytes",
             files->directory);
    assert_string_equal(mapped_reader_error(reader), want);
    mapped_reader_close(reader);
    mapping_free(map);
    free(csv);
}

static void test_malformed_record(void **state) {
    test_files *files = *state;
    const char csv[] = "Amount\n1\n\"2\n";
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "Amount = amount\n", csv, sizeof csv - 1, &map,
                                        &err, error);
    assert_non_null(reader);
    /* The count stops at the unclosed quote. */
    assert_int_equal(mapped_reader_row_count(reader), 1);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_int_equal(mapped_reader_next(reader, &row), FF_ERR_TEXT_INVALID);
    char want[MAPPING_ERROR_BYTES];
    snprintf(want, sizeof want,
             "%s/in.csv line 3: a quoted field is not closed before the end of the file",
             files->directory);
    assert_string_equal(mapped_reader_error(reader), want);
    mapped_reader_close(reader);
    mapping_free(map);
}

/* Opens the same bytes as a file and from memory, so both of the reader's sources are read. */
static void test_csv_open_both(test_files *files, const char *bytes, size_t size,
                               csv_reader *readers[2]) {
    char error[CSV_ERROR_BYTES];
    const char *path = test_file_write(files, "cr.csv", bytes, size);
    assert_int_equal(csv_reader_open(path, &readers[0], error, sizeof error), FF_OK);
    assert_int_equal(csv_reader_open_memory(bytes, size, "cr.csv", &readers[1], error,
                                            sizeof error),
                     FF_OK);
}

/* Inside quotes a carriage return, alone or before a line feed, is kept byte for byte (RFC 4180
 * allows both, and the CLI's writer quotes a cell holding one); only a line feed counts as a new
 * line. Record ends stay LF or CRLF. */
static void test_csv_quoted_carriage_returns(void **state) {
    test_files *files = *state;
    /* Line 1: "a\rb" and "c\r\nd", which runs onto line 2; line 3: "\r" alone, "x". */
    const char csv[] = "\"a\rb\",\"c\r\nd\"\r\n"
                       "\"\r\",x\n";
    csv_reader *readers[2];
    test_csv_open_both(files, csv, sizeof csv - 1, readers);
    for (int i = 0; i < 2; i++) {
        csv_record record;
        assert_int_equal(csv_reader_next(readers[i], &record), FF_OK);
        assert_int_equal(record.line, 1);
        assert_int_equal(record.field_count, 2);
        assert_string_equal(record.fields[0], "a\rb");
        assert_string_equal(record.fields[1], "c\r\nd");
        assert_int_equal(csv_reader_next(readers[i], &record), FF_OK);
        assert_int_equal(record.line, 3);
        assert_int_equal(record.field_count, 2);
        assert_string_equal(record.fields[0], "\r");
        assert_string_equal(record.fields[1], "x");
        assert_int_equal(csv_reader_next(readers[i], &record), FF_ERR_EVENT_UNKNOWN);
        csv_reader_close(readers[i]);
    }
}

/* Reads csv's records expecting the last to be refused with exactly message. */
static void test_csv_refused(test_files *files, const char *csv, const char *message) {
    csv_reader *readers[2];
    test_csv_open_both(files, csv, strlen(csv), readers);
    for (int i = 0; i < 2; i++) {
        csv_record record;
        ff_err err = FF_OK;
        while (err == FF_OK) err = csv_reader_next(readers[i], &record);
        assert_int_equal(err, FF_ERR_TEXT_INVALID);
        char want[CSV_ERROR_BYTES];
        snprintf(want, sizeof want, "%s%s", i == 0 ? files->path : "cr.csv", message);
        assert_string_equal(csv_reader_error(readers[i]), want);
        csv_reader_close(readers[i]);
    }
}

/* Outside quotes a carriage return must still end a line with its line feed. */
static void test_csv_bare_carriage_returns(void **state) {
    test_files *files = *state;
    test_csv_refused(files, "a,b\r\nc\rd\n",
                     " line 2: a carriage return is not followed by a line feed");
    test_csv_refused(files, "a\r", " line 1: a carriage return is not followed by a line feed");
    test_csv_refused(files, "x\n\"a\r\"\rb\n",
                     " line 2: a carriage return is not followed by a line feed");
    test_csv_refused(files, "\r\n\r", " line 2: a carriage return is not followed by a line feed");
}

static void test_sha256(void **state) {
    test_files *files = *state;
    /* FIPS 180-2's example: SHA-256("abc"). */
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "header = none\n#1 = x\n", "abc", 3, &map, &err,
                                        error);
    if (reader == NULL) fail_msg("%s", error);
    assert_memory_equal(mapped_reader_file_sha256(reader), abc, 32);
    assert_int_equal(mapped_reader_row_count(reader), 1);
    mapped_row row;
    assert_int_equal(mapped_reader_next(reader, &row), FF_OK);
    assert_string_equal(row.values[0], "abc");
    mapped_reader_close(reader);
    mapping_free(map);
}

static void test_row_count_large(void **state) {
    test_files *files = *state;
    /* 150,000 rows: more than the demo's CSV_LINES_MAX (100,000), within an import's. */
    size_t rows = 150000;
    size_t size = 7 + rows * 2;
    char *csv = malloc(size);
    assert_non_null(csv);
    memcpy(csv, "Amount\n", 7);
    for (size_t i = 0; i < rows; i++) memcpy(csv + 7 + 2 * i, "1\n", 2);
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "Amount = amount\n", csv, size, &map, &err, error);
    if (reader == NULL) fail_msg("%s", error);
    assert_int_equal(mapped_reader_row_count(reader), rows);
    mapped_row row;
    size_t read = 0;
    while (mapped_reader_next(reader, &row) == FF_OK) read++;
    assert_int_equal(read, rows);
    assert_int_equal(row.line, 0);
    mapped_reader_close(reader);
    mapping_free(map);
    free(csv);
}

static void test_line_limit(void **state) {
    test_files *files = *state;
    /* CSV_IMPORT_LINES_MAX lines of "1": the reader refuses on reaching the limit, naming it. */
    size_t lines = CSV_IMPORT_LINES_MAX;
    size_t size = 7 + lines * 2;
    char *csv = malloc(size);
    assert_non_null(csv);
    memcpy(csv, "Amount\n", 7);
    for (size_t i = 0; i < lines; i++) memcpy(csv + 7 + 2 * i, "1\n", 2);
    mapping *map = NULL;
    ff_err err = FF_OK;
    char error[MAPPING_ERROR_BYTES];
    mapped_reader *reader = test_reader(files, "Amount = amount\n", csv, size, &map, &err, error);
    if (reader == NULL) fail_msg("%s", error);
    mapped_row row;
    while ((err = mapped_reader_next(reader, &row)) == FF_OK) {
    }
    assert_int_equal(err, FF_ERR_FIELD_TOO_LONG);
    assert_non_null(strstr(mapped_reader_error(reader), "in.csv line 2000000: the file has more "
                                                         "than 2000000 lines"));
    mapped_reader_close(reader);
    mapping_free(map);
    free(csv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_directive),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_mapping_refusals),
        cmocka_unit_test(test_mapping_limits),
        cmocka_unit_test_setup_teardown(test_mapping_load, test_files_setup, test_files_teardown),
        cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test_setup_teardown(test_read_rows, test_files_setup, test_files_teardown),
        cmocka_unit_test_setup_teardown(test_embedded_newline_value, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_header_none, test_files_setup, test_files_teardown),
        cmocka_unit_test_setup_teardown(test_short_row, test_files_setup, test_files_teardown),
        cmocka_unit_test_setup_teardown(test_missing_heading, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_encodings, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_huge_field, test_files_setup, test_files_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_record, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_csv_quoted_carriage_returns, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_csv_bare_carriage_returns, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_sha256, test_files_setup, test_files_teardown),
        cmocka_unit_test_setup_teardown(test_row_count_large, test_files_setup,
                                        test_files_teardown),
        cmocka_unit_test_setup_teardown(test_line_limit, test_files_setup, test_files_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
