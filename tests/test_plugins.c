/* Tests of the plugin host with real shared objects: ABI mismatches, failing inits and missing
 * entries are skipped with a reason; duplicates are refused; a veto refuses a command and leaves
 * the ledger unchanged; reports are built and checked; reloading picks up a new plugin. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_host.h"
#include "test_support.h"

#define CORE FUNDFLOW__V1__STREAM__CORE_SERVICES

static const char *fixtures_dir = FF_PLUGIN_FIXTURES_DIR;
static const char *plugins_dir = FF_PLUGINS_DIR;

/* Copies a built plugin into a directory of its own, so each test loads exactly what it means. */
static void plugin_copy(const char *from_dir, const char *name, const char *to_dir) {
    char from[4096], to[4096], command[9000];
    snprintf(from, sizeof from, "%s/%s.so", from_dir, name);
    snprintf(to, sizeof to, "%s/%s.so", to_dir, name);
    snprintf(command, sizeof command, "cp '%s' '%s'", from, to);
    assert_int_equal(system(command), 0);
}

static ff_plugins *plugins_from(ff_ledger *ledger, const char *directory) {
    const char *directories[] = {directory};
    plugins_options options = {directories, 1, NULL, 0};
    ff_plugins *plugins = NULL;
    assert_int_equal(plugins_load(ledger, &options, &plugins), FF_OK);
    return plugins;
}

static Fundflow__V1__ListPluginsResponse *plugins_listed(ff_plugins *plugins) {
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_list(plugins, &list), FF_OK);
    return list;
}

static bool load_error_mentions(const Fundflow__V1__ListPluginsResponse *list, const char *file,
                                const char *words) {
    for (size_t i = 0; i < list->n_load_errors; i++) {
        if (strstr(list->load_errors[i], file) && strstr(list->load_errors[i], words)) return true;
    }
    return false;
}

static void test_bad_plugins_are_skipped_with_a_reason(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_abi_mismatch", directory);
    plugin_copy(fixtures_dir, "fixture_init_fails", directory);
    plugin_copy(fixtures_dir, "fixture_no_entry", directory);
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    Fundflow__V1__ListPluginsResponse *list = plugins_listed(plugins);
    assert_int_equal(list->n_plugins, 1);
    assert_string_equal(list->plugins[0]->name, "fixture_veto");
    assert_string_equal(list->plugins[0]->abi_version, "1.1");
    assert_int_equal(list->plugins[0]->n_hooks, 2);
    assert_int_equal(list->n_load_errors, 3);
    /* The mismatch names both versions. */
    assert_true(load_error_mentions(list, "fixture_abi_mismatch", "ABI 2.0; this host speaks 1.1"));
    assert_true(load_error_mentions(list, "fixture_init_fails", "init failed"));
    assert_true(load_error_mentions(list, "fixture_no_entry", "fundflow_plugin_entry"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static void test_a_second_plugin_of_the_same_name_is_refused(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    char *first = test_dir_make(), *second = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", first);
    plugin_copy(fixtures_dir, "fixture_veto", second);
    const char *directories[] = {first, second};
    plugins_options options = {directories, 2, NULL, 0};
    ff_plugins *plugins = NULL;
    assert_int_equal(plugins_load(f->ledger, &options, &plugins), FF_OK);
    Fundflow__V1__ListPluginsResponse *list = plugins_listed(plugins);
    assert_int_equal(list->n_plugins, 1);
    assert_true(load_error_mentions(list, second, "already loaded"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    plugins_unload(plugins);
    test_dir_remove(first);
    test_dir_remove(second);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static void test_a_veto_refuses_and_leaves_the_ledger_unchanged(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    uint64_t head = test_head_sequence(f->ledger);
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    test_projections_dump(ledger_store(f->ledger), &before, &before_bytes);
    ledger_result result;
    assert_int_equal(test_submit(f->ledger, test_allocation("v1", "X24", "QUE", CORE, TEST_YEAR,
                                                            1313), &result), FF_ERR_VETOED);
    assert_string_equal(result.failure.plugin, "fixture_veto");
    assert_non_null(strstr(result.failure.detail, "fixture refuses 13.13"));
    assert_int_equal(test_head_sequence(f->ledger), head);
    test_projections_dump(ledger_store(f->ledger), &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    /* Other amounts pass, and once unloaded the veto is gone. */
    assert_int_equal(test_submit(f->ledger, test_allocation("v2", "X24", "QUE", CORE, TEST_YEAR,
                                                            1314), NULL), FF_OK);
    plugins_unload(plugins);
    assert_int_equal(test_submit(f->ledger, test_allocation("v3", "X24", "QUE", CORE, TEST_YEAR,
                                                            1313), NULL), FF_OK);
    free(before);
    free(after);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static Fundflow__V1__Report *report_run(ff_plugins *plugins, const char *name, uint32_t year,
                                        ff_err expected) {
    Fundflow__V1__RunReportRequest request = FUNDFLOW__V1__RUN_REPORT_REQUEST__INIT;
    request.plugin = (char *)name;
    request.financial_year = year;
    Fundflow__V1__Report *report = NULL;
    ff_failure failure;
    failure_clear(&failure);
    assert_int_equal(plugins_report_run(plugins, &request, &report, &failure), expected);
    return report;
}

static void test_reports_and_reload(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    char *directory = test_dir_make();
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    assert_int_equal(plugins_count(plugins), 0);
    report_run(plugins, "fixture_veto", TEST_YEAR, FF_ERR_NOT_FOUND);
    /* A plugin copied in later is picked up by a reload. */
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    assert_int_equal(plugins_reload(plugins, NULL, 0), FF_OK);
    assert_int_equal(plugins_count(plugins), 1);
    /* Event 8 allocates £5.00 to QUE, so the reads table sees 8 events, 1 allocation, and a
     * budget of 500p. */
    assert_int_equal(test_submit(f->ledger, test_allocation("r8", "X24", "QUE", CORE, TEST_YEAR,
                                                            500), NULL), FF_OK);
    Fundflow__V1__Report *report = report_run(plugins, "fixture_veto", TEST_YEAR, FF_OK);
    assert_string_equal(report->plugin, "fixture_veto");
    assert_int_equal(report->as_at_sequence, 8);
    assert_int_equal(report->n_tables, 2);
    assert_true(report->tables[0]->n_rows >= 1);
    assert_string_equal(report->tables[1]->name, "reads");
    Fundflow__V1__ReportCell **reads = report->tables[1]->rows[0]->cells;
    assert_int_equal(reads[0]->number, 8);
    assert_int_equal(reads[1]->number, 1);
    assert_int_equal(reads[2]->number, 500);
    fundflow__v1__report__free_unpacked(report, NULL);
    report_run(plugins, "fixture_veto", 1999, FF_ERR_YEAR_INVALID);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

int main(void) {
    if (access(fixtures_dir, R_OK) != 0 || access(plugins_dir, R_OK) != 0) {
        fprintf(stderr, "plugin directories missing: %s, %s\n", fixtures_dir, plugins_dir);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_plugins_are_skipped_with_a_reason),
        cmocka_unit_test(test_a_second_plugin_of_the_same_name_is_refused),
        cmocka_unit_test(test_a_veto_refuses_and_leaves_the_ledger_unchanged),
        cmocka_unit_test(test_reports_and_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
