/* Tests of the cluster configuration file's parser (cluster_config.h): a full file, the defaults,
 * and each kind of mistake refused with the file, line and setting named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_config.h"

/* Writes text to a fresh file and loads it; the error text lands in error. */
static ff_err load_text(const char *text, cluster_config *config, char *error, size_t bytes) {
    char path[] = "/tmp/fundflow-cluster-config.XXXXXX";
    int descriptor = mkstemp(path);
    assert_true(descriptor >= 0);
    assert_int_equal(write(descriptor, text, strlen(text)), (ssize_t)strlen(text));
    close(descriptor);
    error[0] = '\0';
    ff_err err = cluster_config_load(path, config, error, bytes);
    unlink(path);
    return err;
}

#define THREE_NODES                                                                          \
    "node = 1 127.0.0.1:7471 http://127.0.0.1:7461\n"                                        \
    "node = 2 127.0.0.1:7472 http://127.0.0.1:7462\n"                                        \
    "node = 3 127.0.0.1:7473 https://node3.example:7463\n"

static void test_full_file_and_defaults(void **state) {
    (void)state;
    cluster_config config;
    char error[512];
    assert_int_equal(load_text("# three nodes\nself = 2\n" THREE_NODES "\n", &config, error,
                               sizeof error), FF_OK);
    assert_int_equal(config.self_id, 2);
    assert_int_equal(config.node_count, 3);
    assert_string_equal(config.nodes[2].url, "https://node3.example:7463");
    assert_string_equal(cluster_config_self(&config)->raft_address, "127.0.0.1:7472");
    /* The defaults: Raft's own 1,000 ms and 100 ms, and a snapshot every 1,024 entries. */
    assert_int_equal(config.election_timeout_ms, 1000);
    assert_int_equal(config.heartbeat_timeout_ms, 100);
    assert_int_equal(config.snapshot_threshold, 1024);
    assert_int_equal(config.snapshot_trailing, 256);
    assert_false(config.join);
    assert_false(config.recover);
    assert_int_equal(load_text("self = 1\n" THREE_NODES "election_timeout_ms = 300\n"
                               "heartbeat_timeout_ms = 50\nsnapshot_threshold = 64\n"
                               "snapshot_trailing = 16\njoin = yes\n", &config, error,
                               sizeof error), FF_OK);
    assert_int_equal(config.election_timeout_ms, 300);
    assert_int_equal(config.snapshot_trailing, 16);
    assert_true(config.join);
}

/* Each bad file, and words its message must hold (the line and the setting). */
static const struct {
    const char *text;
    const char *expected;
} refusals[] = {
    {"self = 1\n" THREE_NODES "colour = blue\n", ":5: colour: unknown setting"},
    {"self = 0\n" THREE_NODES, ":1: self: '0' is not a whole number above 0"},
    {"self = 4\n" THREE_NODES, "self: no node line names ID 4"},
    {THREE_NODES, "self: missing"},
    {"self = 1\n", "node: missing"},
    {"self = 1\nnode = 1 127.0.0.1 http://x:1\n", ":2: node: Raft address '127.0.0.1' is not"},
    {"self = 1\nnode = 1 127.0.0.1:70000 http://x:1\n", "is not HOST:PORT"},
    {"self = 1\nnode = 1 127.0.0.1:7471 ftp://x:1\n", ":2: node: URL 'ftp://x:1'"},
    {"self = 1\nnode = 1 127.0.0.1:7471\n", ":2: node: expected 'ID HOST:PORT URL'"},
    {"self = 1\n" THREE_NODES "node = 2 127.0.0.1:7479 http://x:2\n", ":5: node: ID 2 is named twice"},
    {"self = 1\n" THREE_NODES "node = 4 127.0.0.1:7471 http://x:2\n",
     "Raft address 127.0.0.1:7471 is named twice"},
    {"self = 1\n" THREE_NODES "election_timeout_ms = 10\n",
     ":5: election_timeout_ms: '10' is not a whole number from 50 to 60000"},
    {"self = 1\n" THREE_NODES "heartbeat_timeout_ms = 1000\n",
     "heartbeat_timeout_ms: 1000 must be below election_timeout_ms (1000)"},
    {"self = 1\n" THREE_NODES "snapshot_threshold = 2\n", "snapshot_threshold: '2'"},
    {"self = 1\n" THREE_NODES "join = maybe\n", ":5: join: 'maybe' is not yes or no"},
    {"self = 1\n" THREE_NODES "join = yes\nrecover = yes\n", "recover: a joining node"},
    {"self = 1\n" THREE_NODES "node\n", ":5: node: expected 'key = value'"},
    {"self =\n", ":1: self: has no value"},
};

static void test_refusals_name_line_and_setting(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        cluster_config config;
        char error[512];
        assert_int_equal(load_text(refusals[i].text, &config, error, sizeof error),
                         FF_ERR_CLUSTER_CONFIG);
        if (strstr(error, refusals[i].expected) == NULL) {
            fail_msg("file %zu: '%s' lacks '%s'", i, error, refusals[i].expected);
        }
        assert_non_null(strstr(error, "/tmp/fundflow-cluster-config."));
    }
}

static void test_missing_file_names_it(void **state) {
    (void)state;
    cluster_config config;
    char error[512];
    assert_int_equal(cluster_config_load("/nonexistent/cluster.conf", &config, error,
                                         sizeof error), FF_ERR_IO);
    assert_non_null(strstr(error, "/nonexistent/cluster.conf"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file_and_defaults),
        cmocka_unit_test(test_refusals_name_line_and_setting),
        cmocka_unit_test(test_missing_file_names_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
