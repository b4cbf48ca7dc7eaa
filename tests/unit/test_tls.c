/* Tests of fundflowd's TLS settings: which listen hosts count as loopback, when plain HTTP is
 * refused or warned about, and how the flags and the configuration file set TLS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tls.h"

static void test_loopback_hosts(void **state) {
    (void)state;
    const char *loopback[] = {"127.0.0.1", "127.0.0.0", "127.255.255.254", "127.1.2.3", "::1",
                              "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost",
                              "LocalHost"};
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
        if (!tls_host_is_loopback(loopback[i])) fail_msg("%s is loopback", loopback[i]);
    }
}

static void test_other_hosts(void **state) {
    (void)state;
    const char *others[] = {"0.0.0.0", "::", "[::]", "128.0.0.1", "126.255.255.255",
                            "10.0.0.1", "192.168.1.1", "::2", "::ffff:10.0.0.1", "fe80::1",
                            "localhost.example", "example.org", "127.0.0.1.example", "127.1",
                            "[127.0.0.1", ""};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (tls_host_is_loopback(others[i])) fail_msg("'%s' is not loopback", others[i]);
    }
}

static config test_settings(const char *host) {
    config settings;
    memset(&settings, 0, sizeof settings);
    snprintf(settings.listen_host, sizeof settings.listen_host, "%s", host);
    return settings;
}

static void test_plain_http_off_loopback_needs_insecure_listen(void **state) {
    (void)state;
    char error[512] = "";
    config settings = test_settings("0.0.0.0");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_ERR_PERMISSION_DENIED);
    assert_non_null(strstr(error, "0.0.0.0"));
    assert_non_null(strstr(error, "--insecure-listen"));
    settings.tls.insecure_listen = true;
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_OK);
    settings = test_settings("127.0.0.1");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_OK);
    settings = test_settings("10.1.2.3");
    snprintf(settings.tls.cert, sizeof settings.tls.cert, "server.crt");
    snprintf(settings.tls.key, sizeof settings.tls.key, "server.key");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_OK);
}

static void test_tls_files_go_together(void **state) {
    (void)state;
    char error[512] = "";
    config settings = test_settings("127.0.0.1");
    snprintf(settings.tls.key, sizeof settings.tls.key, "server.key");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_ERR_FIELD_MISSING);
    assert_non_null(strstr(error, "--tls-cert"));
    settings = test_settings("127.0.0.1");
    snprintf(settings.tls.client_ca, sizeof settings.tls.client_ca, "ca.crt");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_ERR_FIELD_MISSING);
    settings = test_settings("127.0.0.1");
    snprintf(settings.tls.cert, sizeof settings.tls.cert, "server.crt");
    assert_int_equal(tls_listen_check(&settings, error, sizeof error), FF_ERR_FIELD_MISSING);
    assert_non_null(strstr(error, "--tls-key"));
}

static void test_flags_set_tls(void **state) {
    (void)state;
    static config settings;
    char error[512] = "";
    char argv_text[][32] = {"fundflowd", "--data-dir", "/tmp/unused", "--tls-cert", "a.crt",
                            "--tls-key", "a.key", "--tls-client-ca", "ca.crt",
                            "--insecure-listen"};
    char *argv[10];
    for (size_t i = 0; i < 10; i++) argv[i] = argv_text[i];
    assert_int_equal(config_load(&settings, 10, argv, error, sizeof error), CONFIG_RUN);
    assert_string_equal(settings.tls.cert, "a.crt");
    assert_string_equal(settings.tls.key, "a.key");
    assert_string_equal(settings.tls.client_ca, "ca.crt");
    assert_true(settings.tls.insecure_listen);
    char *plain[] = {argv_text[0], argv_text[1], argv_text[2]};
    assert_int_equal(config_load(&settings, 3, plain, error, sizeof error), CONFIG_RUN);
    assert_string_equal(settings.tls.cert, "");
    assert_false(settings.tls.insecure_listen);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_hosts),
        cmocka_unit_test(test_other_hosts),
        cmocka_unit_test(test_plain_http_off_loopback_needs_insecure_listen),
        cmocka_unit_test(test_tls_files_go_together),
        cmocka_unit_test(test_flags_set_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
