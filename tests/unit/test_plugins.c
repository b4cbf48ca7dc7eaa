/* Tests of the plugin host with real shared objects: ABI mismatches, failing inits and missing
 * entries are skipped with a reason; so are directories and files writable by everyone or owned
 * by another user; duplicates are refused; a veto refuses a command and leaves
 * the ledger unchanged; reports are built and checked; reloading picks up a new plugin; a
 * projecting plugin's data follows the log, catches up, survives rebuilds byte for byte, stops
 * cleanly when its hook fails, and is replayed when its projection_version changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_host.h"
#include "test_support.h"
#include "verify.h"
#include "fundflow/limits.h"

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

static ff_plugins *plugins_configured(ff_ledger *ledger, const char *directory,
                                      const plugins_setting *settings, size_t setting_count) {
    const char *directories[] = {directory};
    plugins_options options = {directories, 1, settings, setting_count};
    ff_plugins *plugins = NULL;
    assert_int_equal(plugins_load(ledger, &options, &plugins), FF_OK);
    return plugins;
}

static ff_plugins *plugins_from(ff_ledger *ledger, const char *directory) {
    return plugins_configured(ledger, directory, NULL, 0);
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
    assert_string_equal(list->plugins[0]->abi_version, "1.3");
    assert_int_equal(list->plugins[0]->n_hooks, 2);
    assert_int_equal(list->n_load_errors, 3);
    /* The mismatch names both versions. */
    assert_true(load_error_mentions(list, "fixture_abi_mismatch", "ABI 2.0; this host speaks 1.3"));
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

/* Loads the plugins of directory and returns how many loaded, keeping the list for checks. */
static size_t plugins_loaded_from(ff_ledger *ledger, const char *directory,
                                  Fundflow__V1__ListPluginsResponse **list_out) {
    ff_plugins *plugins = plugins_from(ledger, directory);
    *list_out = plugins_listed(plugins);
    size_t count = plugins_count(plugins);
    plugins_unload(plugins);
    return count;
}

static void plugin_mode_set(const char *directory, const char *file, mode_t mode) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", directory, file ? "/" : "", file ? file : "");
    assert_int_equal(chmod(path, mode), 0);
}

static void test_a_world_writable_directory_is_skipped_with_a_reason(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    plugin_mode_set(directory, NULL, 0777);
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 0);
    assert_int_equal(list->n_load_errors, 1);
    assert_true(load_error_mentions(list, directory, "directory is writable by every user"));
    assert_true(load_error_mentions(list, directory, "mode 0777"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    /* Sticky, as /tmp is, is no better: anyone may still add a plugin. */
    plugin_mode_set(directory, NULL, 01777);
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 0);
    assert_true(load_error_mentions(list, directory, "writable by every user"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static void test_a_world_writable_plugin_is_skipped_and_the_rest_load(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    plugin_copy(fixtures_dir, "fixture_project", directory);
    plugin_mode_set(directory, "fixture_veto.so", 0666);
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 1);
    assert_string_equal(list->plugins[0]->name, "fixture_project");
    assert_int_equal(list->n_load_errors, 1);
    assert_true(load_error_mentions(list, "fixture_veto.so", "file is writable by every user"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* The usual install, a directory and plugins of mode 0755 owned by the server's user, loads. */
static void test_a_plugin_in_a_private_directory_loads(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    plugin_mode_set(directory, NULL, 0755);
    plugin_mode_set(directory, "fixture_veto.so", 0755);
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 1);
    assert_int_equal(list->n_load_errors, 0);
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* Only root can give a file away, so this runs only as root (as CI does here). */
static void test_a_directory_owned_by_another_user_is_skipped(void **state) {
    (void)state;
    if (geteuid() != 0) skip();
    test_fixture *f = test_fixture_open();
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    enum { SOMEONE_ELSE = 54321 };
    assert_int_equal(chown(directory, SOMEONE_ELSE, SOMEONE_ELSE), 0);
    Fundflow__V1__ListPluginsResponse *list = NULL;
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 0);
    assert_true(load_error_mentions(list, directory, "owned by uid 54321"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    assert_int_equal(chown(directory, 0, 0), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/fixture_veto.so", directory);
    assert_int_equal(chown(path, SOMEONE_ELSE, SOMEONE_ELSE), 0);
    assert_int_equal(plugins_loaded_from(f->ledger, directory, &list), 0);
    assert_true(load_error_mentions(list, "fixture_veto.so", "file is owned by uid 54321"));
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    test_dir_remove(directory);
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
    assert_int_equal(plugins_report_run(plugins, NULL, &request, &report, &failure), expected);
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
    /* Event TEST_WORLD_EVENTS + 1 allocates £5.00 to QUE, so the reads table sees that many
     * events, 1 allocation, and a budget of 500p. */
    assert_int_equal(test_submit(f->ledger, test_allocation("r8", "X24", "QUE", CORE, TEST_YEAR,
                                                            500), NULL), FF_OK);
    Fundflow__V1__Report *report = report_run(plugins, "fixture_veto", TEST_YEAR, FF_OK);
    assert_string_equal(report->plugin, "fixture_veto");
    assert_int_equal(report->as_at_sequence, TEST_WORLD_EVENTS + 1);
    assert_int_equal(report->n_tables, 2);
    assert_true(report->tables[0]->n_rows >= 1);
    assert_string_equal(report->tables[1]->name, "reads");
    Fundflow__V1__ReportCell **reads = report->tables[1]->rows[0]->cells;
    assert_int_equal(reads[0]->number, TEST_WORLD_EVENTS + 1);
    assert_int_equal(reads[1]->number, 1);
    assert_int_equal(reads[2]->number, 500);
    fundflow__v1__report__free_unpacked(report, NULL);
    report_run(plugins, "fixture_veto", 1999, FF_ERR_YEAR_INVALID);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* A read that fails under a plugin's report is the store's error, never the plugin's: each read
 * of a report (the host's and those the plugin asks for) is failed in turn until one run gets
 * through. */
static void test_a_read_fault_under_a_report_is_a_storage_error(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_veto", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    Fundflow__V1__RunReportRequest request = FUNDFLOW__V1__RUN_REPORT_REQUEST__INIT;
    request.plugin = (char *)"fixture_veto";
    request.financial_year = TEST_YEAR;
    uint64_t nth = 1;
    for (; nth <= 1000; nth++) {
        Fundflow__V1__Report *report = NULL;
        ff_failure failure;
        failure_clear(&failure);
        store_fault_inject(STORE_FAULT_READS, nth, FF_ERR_STORAGE, false);
        ff_err err = plugins_report_run(plugins, NULL, &request, &report, &failure);
        store_fault_clear();
        if (err == FF_OK) {
            fundflow__v1__report__free_unpacked(report, NULL);
            break;
        }
        assert_int_equal(err, FF_ERR_STORAGE);
        assert_null(report);
    }
    /* The reads table walks every event (seven) and reads an account, so a dozen reads or more
     * were each failed before one run got through. */
    assert_true(nth > 10 && nth <= 1000);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* ---- projections ---- */

/* The fixture's "projection" row: events counted, event rows, all rows, write refused, bad
 * prefix refused. */
typedef struct projection_row {
    int64_t counted, event_rows, rows, write_refused, bad_prefix_refused;
} projection_row;

static projection_row projection_report(ff_plugins *plugins) {
    Fundflow__V1__Report *report = report_run(plugins, "fixture_project", TEST_YEAR, FF_OK);
    assert_int_equal(report->n_tables, 2);
    assert_string_equal(report->tables[0]->name, "projection");
    Fundflow__V1__ReportCell **cells = report->tables[0]->rows[0]->cells;
    projection_row row = {cells[0]->number, cells[1]->number, cells[2]->number, cells[3]->number,
                          cells[4]->number};
    fundflow__v1__report__free_unpacked(report, NULL);
    return row;
}

/* The fixture's allocation total for one recipient, or -1 if it has none. */
static int64_t projection_allocated(ff_plugins *plugins, const char *recipient) {
    Fundflow__V1__Report *report = report_run(plugins, "fixture_project", TEST_YEAR, FF_OK);
    int64_t total = -1;
    const Fundflow__V1__ReportTable *table = report->tables[1];
    for (size_t i = 0; i < table->n_rows; i++) {
        if (strcmp(table->rows[i]->cells[0]->text, recipient) == 0) {
            total = table->rows[i]->cells[1]->number;
        }
    }
    fundflow__v1__report__free_unpacked(report, NULL);
    return total;
}

static uint64_t projection_listed_through(ff_plugins *plugins, const char *name) {
    Fundflow__V1__ListPluginsResponse *list = plugins_listed(plugins);
    uint64_t through = UINT64_MAX;
    for (size_t i = 0; i < list->n_plugins; i++) {
        if (strcmp(list->plugins[i]->name, name) != 0) continue;
        assert_string_equal(list->plugins[i]->hooks[list->plugins[i]->n_hooks - 1], "project");
        through = list->plugins[i]->projected_through_sequence;
    }
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    return through;
}

static void plugin_tables_dump(ff_ledger *ledger, uint8_t **bytes, size_t *count) {
    test_tables_dump(ledger_store(ledger), STORE_TABLE_FIRST_PLUGIN, STORE_TABLE_COUNT, bytes,
                     count);
}

static void test_a_projection_catches_up_then_follows_the_log(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    uint64_t head = test_world_register(f->ledger);
    assert_int_equal(test_submit(f->ledger, test_allocation("p1", "X24", "QUE", CORE, TEST_YEAR,
                                                            700), NULL), FF_OK);
    head++;
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_project", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    /* Loaded behind the log, it was replayed: one count, one row per event, QUE's 700p. */
    assert_int_equal(projection_listed_through(plugins, "fixture_project"), head);
    projection_row row = projection_report(plugins);
    assert_int_equal(row.counted, (int64_t)head);
    assert_int_equal(row.event_rows, (int64_t)head);
    assert_int_equal(row.rows, (int64_t)head + 2); /* count, events, one recipient */
    assert_int_equal(row.write_refused, 1);
    assert_int_equal(row.bad_prefix_refused, 1);
    assert_int_equal(projection_allocated(plugins, "QUE"), 700);
    /* New events are projected in their own transaction. */
    assert_int_equal(test_submit(f->ledger, test_allocation("p2", "X24", "QUE", CORE, TEST_YEAR,
                                                            50), NULL), FF_OK);
    assert_int_equal(test_submit(f->ledger, test_allocation("p3", "X24", "QJG", CORE, TEST_YEAR,
                                                            9), NULL), FF_OK);
    head += 2;
    assert_int_equal(projection_report(plugins).counted, (int64_t)head);
    assert_int_equal(projection_allocated(plugins, "QUE"), 750);
    assert_int_equal(projection_allocated(plugins, "QJG"), 9);
    /* A refused command projects nothing. */
    uint8_t *before = NULL, *after = NULL;
    size_t before_bytes = 0, after_bytes = 0;
    plugin_tables_dump(f->ledger, &before, &before_bytes);
    assert_int_equal(test_submit(f->ledger, test_allocation("p4", "X24", "NOPE", CORE, TEST_YEAR,
                                                            5), NULL), FF_ERR_ORG_UNKNOWN);
    plugin_tables_dump(f->ledger, &after, &after_bytes);
    assert_int_equal(before_bytes, after_bytes);
    assert_memory_equal(before, after, before_bytes);
    assert_int_equal(projection_listed_through(plugins, "fixture_project"), head);
    free(before);
    free(after);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static void test_a_projection_is_rebuilt_byte_for_byte(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    test_world_register(f->ledger);
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_project", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "b%d", i);
        assert_int_equal(test_submit(f->ledger, test_allocation(key, "X24", i % 2 ? "QUE" : "QJG",
                                                                CORE, TEST_YEAR, 100 + i), NULL),
                         FF_OK);
    }
    uint64_t head = test_head_sequence(f->ledger);
    uint8_t *live = NULL, *rebuilt = NULL;
    size_t live_bytes = 0, rebuilt_bytes = 0;
    plugin_tables_dump(f->ledger, &live, &live_bytes);
    /* Verification replays without plugins and still agrees with the ledger. */
    verify_report verified;
    assert_int_equal(verify_ledger(ledger_store(f->ledger), NULL, &verified), FF_OK);
    /* A rebuild drops the plugins' data with every projection; until the plugin is reloaded its
     * reports are refused rather than wrong, and new events leave it behind. */
    assert_int_equal(verify_rebuild_projections(ledger_store(f->ledger), &verified), FF_OK);
    report_run(plugins, "fixture_project", TEST_YEAR, FF_ERR_PLUGIN_FAILED);
    assert_int_equal(plugins_reload(plugins, NULL, 0), FF_OK);
    plugin_tables_dump(f->ledger, &rebuilt, &rebuilt_bytes);
    assert_int_equal(live_bytes, rebuilt_bytes);
    assert_memory_equal(live, rebuilt, live_bytes);
    assert_int_equal(projection_report(plugins).counted, (int64_t)head);
    free(live);
    free(rebuilt);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

static void test_a_failing_projection_stops_and_resumes(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    uint64_t head = test_world_register(f->ledger);
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_project", directory);
    plugins_setting fail = {"fixture_project", "fail_at_sequence", ""};
    snprintf(fail.value, sizeof fail.value, "%llu", (unsigned long long)head + 2);
    ff_plugins *plugins = plugins_configured(f->ledger, directory, &fail, 1);
    /* Every command is recorded although the hook fails on the second. */
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "f%d", i);
        assert_int_equal(test_submit(f->ledger, test_allocation(key, "X24", "QUE", CORE,
                                                                TEST_YEAR, 10), NULL), FF_OK);
    }
    assert_int_equal(test_head_sequence(f->ledger), head + 3);
    assert_int_equal(projection_listed_through(plugins, "fixture_project"), head + 1);
    report_run(plugins, "fixture_project", TEST_YEAR, FF_ERR_PLUGIN_FAILED);
    /* Reloaded without the fault, it resumes where it stopped; the failed event's writes
     * ("poison") were discarded. */
    assert_int_equal(plugins_reload(plugins, NULL, 0), FF_OK);
    assert_int_equal(plugins_reload(plugins, &fail, 0), FF_OK);
    assert_int_equal(projection_listed_through(plugins, "fixture_project"), head + 3);
    projection_row row = projection_report(plugins);
    assert_int_equal(row.counted, (int64_t)head + 3);
    assert_int_equal(row.rows, (int64_t)head + 3 + 2);
    assert_int_equal(projection_allocated(plugins, "QUE"), 30);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* Writes one raw row into the plugin data table, as a stray or another plugin's row. */
static void plugin_data_row_put(ff_ledger *ledger, const char *key, size_t key_bytes) {
    ff_store *store = ledger_store(ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_WRITE, &txn), FF_OK);
    assert_int_equal(store_put(txn, store, STORE_TABLE_PLUGIN_DATA, STORE_SLICE(key, key_bytes),
                               STORE_SLICE("x", 1), STORE_PUT_REPLACE),
                     FF_OK);
    assert_int_equal(store_txn_commit(txn), FF_OK);
}

static bool plugin_data_row_exists(ff_ledger *ledger, const char *key, size_t key_bytes) {
    ff_store *store = ledger_store(ledger);
    store_txn *txn = NULL;
    assert_int_equal(store_txn_begin(store, NULL, STORE_TXN_READ, &txn), FF_OK);
    store_slice value;
    ff_err err = store_get(txn, store, STORE_TABLE_PLUGIN_DATA, STORE_SLICE(key, key_bytes), &value);
    store_txn_abort(txn);
    assert_true(err == FF_OK || err == FF_ERR_NOT_FOUND);
    return err == FF_OK;
}

static void test_a_new_projection_version_replays_only_its_own_namespace(void **state) {
    (void)state;
    test_fixture *f = test_fixture_open();
    uint64_t head = test_world_register(f->ledger);
    char *directory = test_dir_make();
    plugin_copy(fixtures_dir, "fixture_project", directory);
    ff_plugins *plugins = plugins_from(f->ledger, directory);
    static const char stray[] = "fixture_project\0zz", other[] = "fixture_projected\0k",
                      neighbour[] = "fixture_proj\0k";
    plugin_data_row_put(f->ledger, stray, sizeof stray - 1);
    plugin_data_row_put(f->ledger, other, sizeof other - 1);
    plugin_data_row_put(f->ledger, neighbour, sizeof neighbour - 1);
    /* Its own walk sees the stray row in its namespace, and nothing of the neighbours'. */
    assert_int_equal(projection_report(plugins).rows, (int64_t)head + 1 + 1);
    /* Version 2: cleared and replayed, so the stray row is gone; other namespaces are kept. */
    plugins_setting version = {"fixture_project", "projection_version", "2"};
    assert_int_equal(plugins_reload(plugins, &version, 1), FF_OK);
    assert_false(plugin_data_row_exists(f->ledger, stray, sizeof stray - 1));
    assert_true(plugin_data_row_exists(f->ledger, other, sizeof other - 1));
    assert_true(plugin_data_row_exists(f->ledger, neighbour, sizeof neighbour - 1));
    projection_row row = projection_report(plugins);
    assert_int_equal(row.counted, (int64_t)head);
    assert_int_equal(row.rows, (int64_t)head + 1);
    Fundflow__V1__ListPluginsResponse *list = plugins_listed(plugins);
    assert_int_equal(list->plugins[0]->projection_version, 2);
    fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    plugins_unload(plugins);
    test_dir_remove(directory);
    void *fixture = f;
    test_fixture_teardown(&fixture);
}

/* A full map part way through projecting, live or in a catch-up, grows the map and projects the
 * whole group again: nothing is counted twice. */
static void test_a_full_map_while_projecting_grows_and_retries(void **state) {
    (void)state;
    char *data_dir = test_dir_make(), *directory = test_dir_make();
    ff_ledger *ledger = test_ledger_open(data_dir, FF_MAP_BYTES_MIN);
    test_world_register(ledger);
    plugin_copy(fixtures_dir, "fixture_project", directory);
    /* The catch-up's third write finds the map full. */
    uint64_t growths = ledger_map_growth_count(ledger);
    store_fault_inject(STORE_FAULT_WRITES, 3, FF_ERR_MAP_LIMIT, false);
    ff_plugins *plugins = plugins_from(ledger, directory);
    store_fault_clear();
    assert_true(ledger_map_growth_count(ledger) >= growths + 1);
    assert_int_equal(projection_report(plugins).counted, TEST_WORLD_EVENTS);
    enum { COMMANDS = 3000 };
    Fundflow__V1__Command **commands = calloc(COMMANDS, sizeof *commands);
    ledger_result *results = calloc(COMMANDS, sizeof *results);
    for (int i = 0; i < COMMANDS; i++) {
        char key[32];
        snprintf(key, sizeof key, "grow-%d", i);
        commands[i] = test_allocation(key, "X24", "QUE", CORE, TEST_YEAR, 1);
    }
    assert_int_equal(test_submit_batch(ledger, commands, COMMANDS, false, results), FF_OK);
    assert_true(ledger_map_growth_count(ledger) >= growths + 2);
    assert_int_equal(projection_report(plugins).counted, TEST_WORLD_EVENTS + COMMANDS);
    assert_int_equal(projection_allocated(plugins, "QUE"), COMMANDS);
    free(commands);
    free(results);
    plugins_unload(plugins);
    ledger_close(ledger);
    test_dir_remove(directory);
    test_dir_remove(data_dir);
}

int main(void) {
    if (access(fixtures_dir, R_OK) != 0 || access(plugins_dir, R_OK) != 0) {
        fprintf(stderr, "plugin directories missing: %s, %s\n", fixtures_dir, plugins_dir);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_plugins_are_skipped_with_a_reason),
        cmocka_unit_test(test_a_second_plugin_of_the_same_name_is_refused),
        cmocka_unit_test(test_a_world_writable_directory_is_skipped_with_a_reason),
        cmocka_unit_test(test_a_world_writable_plugin_is_skipped_and_the_rest_load),
        cmocka_unit_test(test_a_plugin_in_a_private_directory_loads),
        cmocka_unit_test(test_a_directory_owned_by_another_user_is_skipped),
        cmocka_unit_test(test_a_veto_refuses_and_leaves_the_ledger_unchanged),
        cmocka_unit_test(test_reports_and_reload),
        cmocka_unit_test(test_a_read_fault_under_a_report_is_a_storage_error),
        cmocka_unit_test(test_a_projection_catches_up_then_follows_the_log),
        cmocka_unit_test(test_a_projection_is_rebuilt_byte_for_byte),
        cmocka_unit_test(test_a_failing_projection_stops_and_resumes),
        cmocka_unit_test(test_a_new_projection_version_replays_only_its_own_namespace),
        cmocka_unit_test(test_a_full_map_while_projecting_grows_and_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
