/* fundflowd: the fundflow ledger server. Parses its settings, opens the ledger, serves until
 * told to stop, and closes everything cleanly. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ledger.h"
#include "logfile.h"
#include "server.h"
#include "signing.h"
#include "tls.h"

enum { FUNDFLOWD_EXIT_OK = 0, FUNDFLOWD_EXIT_FAILED = 1, FUNDFLOWD_EXIT_USAGE = 2 };

int main(int argc, char **argv) {
    static config settings;
    char error[1024];
    switch (config_load(&settings, argc, argv, error, sizeof error)) {
    case CONFIG_HELP:
        fputs(config_usage(), stdout);
        return FUNDFLOWD_EXIT_OK;
    case CONFIG_VERSION:
        printf("fundflowd %s\n", config_version());
        return FUNDFLOWD_EXIT_OK;
    case CONFIG_ERROR:
        fprintf(stderr, "fundflowd: %s\n", error);
        return FUNDFLOWD_EXIT_USAGE;
    case CONFIG_RUN:
    case CONFIG_CHECK:
        break;
    }
    /* Before the ledger opens: a TLS or listen setting that will not do is a configuration
     * error, found at once. */
    SSL_CTX *tls = NULL;
    if (tls_listen_check(&settings, error, sizeof error) != FF_OK ||
        tls_context_create(&settings, &tls, error, sizeof error) != FF_OK) {
        fprintf(stderr, "fundflowd: %s\n", error);
        return FUNDFLOWD_EXIT_USAGE;
    }
    if (settings.check_only) {
        tls_context_free(tls);
        printf("configuration OK%s%s\n", settings.config_path[0] ? ": " : "",
               settings.config_path);
        return FUNDFLOWD_EXIT_OK;
    }
    /* From here every line goes to log_file, if there is one. */
    if (settings.log_file[0] != '\0' &&
        logfile_open(settings.log_file, error, sizeof error) != FF_OK) {
        fprintf(stderr, "fundflowd: %s\n", error);
        tls_context_free(tls);
        return FUNDFLOWD_EXIT_USAGE;
    }
    /* A client that hangs up mid-reply must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    store_options options = {.data_dir = settings.data_dir, .map_bytes = settings.map_bytes,
                             .map_bytes_max = settings.map_bytes_max};
    ff_ledger *ledger = NULL;
    ff_err err = ledger_open(&options, &ledger);
    if (err != FF_OK) {
        fprintf(stderr, "fundflowd: cannot open the ledger in %s: %s\n", settings.data_dir,
                ff_strerror(err));
        tls_context_free(tls);
        return FUNDFLOWD_EXIT_FAILED;
    }
    ff_signer *signer = NULL;
    char signing_error[512];
    err = signing_open(ledger_store(ledger), settings.signing_key[0] ? settings.signing_key : NULL,
                       &signer, signing_error, sizeof signing_error);
    if (err != FF_OK) {
        fprintf(stderr, "fundflowd: %s\n", signing_error);
        ledger_close(ledger);
        tls_context_free(tls);
        return FUNDFLOWD_EXIT_FAILED;
    }
    int cleared = store_stale_readers_cleared_at_open(ledger_store(ledger));
    if (cleared > 0) fprintf(stderr, "level=warn msg=\"stale LMDB readers cleared\" count=%d\n",
                             cleared);
    const char *directories[FF_PLUGIN_DIRECTORIES_MAX];
    for (size_t i = 0; i < settings.plugin_directory_count; i++) {
        directories[i] = settings.plugin_directories[i];
    }
    plugins_options plugin_options = {directories, settings.plugin_directory_count,
                                      settings.plugin_settings, settings.plugin_setting_count};
    ff_plugins *plugins = NULL;
    err = plugins_load(ledger, &plugin_options, &plugins);
    ff_server *running = NULL;
    if (err == FF_OK) err = server_create(&settings, ledger, plugins, &running);
    if (err == FF_OK && tls != NULL) {
        server_tls_use(running, tls);
        fprintf(stderr, "level=info msg=\"serving over TLS\" client_certificates=%s\n",
                settings.tls.client_ca[0] ? "required" : "not_asked");
    }
    if (err == FF_OK) err = server_run(running);
    /* The writer drains its queue as the server stops, and may still ask the plugins' vetoes,
     * so the plugins are unloaded only after it. */
    server_free(running);
    plugins_unload(plugins);
    signing_close(signer);
    ledger_close(ledger);
    tls_context_free(tls);
    if (err != FF_OK) {
        /* A failure to listen was said in full, naming the address, where it happened. */
        if (err != FF_ERR_ADDRESS_IN_USE && err != FF_ERR_LISTEN_FAILED) {
            fprintf(stderr, "fundflowd: %s\n", ff_strerror(err));
        }
        return FUNDFLOWD_EXIT_FAILED;
    }
    fprintf(stderr, "level=info msg=\"stopped cleanly\"\n");
    return FUNDFLOWD_EXIT_OK;
}
