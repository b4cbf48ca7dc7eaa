/* fundflowd: the fundflow ledger server. Parses its settings, opens the ledger, serves until
 * told to stop, and closes everything cleanly. With --cluster-config it is one node of a Raft
 * cluster (daemon/cluster): the writer replicates each group through it, and the server asks it
 * who leads. Each node signs its own tree heads with its own key, as a single node does. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cluster_bind.h"
#include "config.h"
#include "ledger.h"
#include "logfile.h"
#include "server.h"
#include "signing.h"
#include "tls.h"

enum { FUNDFLOWD_EXIT_OK = 0, FUNDFLOWD_EXIT_FAILED = 1, FUNDFLOWD_EXIT_USAGE = 2 };

/* Where the cluster's applied-entry notifications go: the server, told the ledger's new head. */
typedef struct applied_target {
    ff_ledger *ledger;
    ff_server *server;
} applied_target;

static void cluster_applied(void *argument) {
    applied_target *target = argument;
    log_head head;
    if (ledger_head_read(target->ledger, &head) == FF_OK) {
        server_events_applied(target->server, head.sequence);
    }
}

/* Starts the cluster engine when settings name a cluster configuration (NULL otherwise) and
 * binds it into settings. FF_OK, or an error already said on stderr. */
static ff_err cluster_join(config *settings, const cluster_config *cluster_settings,
                           ff_ledger *ledger, cluster_binding *binding, ff_cluster **cluster_out) {
    *cluster_out = NULL;
    if (settings->cluster_config[0] == '\0') return FF_OK;
    char error[1024];
    ff_err err = cluster_start(cluster_settings, settings->data_dir, ledger, cluster_out, error,
                               sizeof error);
    if (err != FF_OK) {
        fprintf(stderr, "fundflowd: %s\n", err == FF_ERR_NO_MEMORY ? ff_strerror(err) : error);
        return err;
    }
    cluster_bind(*cluster_out, binding);
    settings->cluster = &binding->ops;
    settings->replicator = &binding->replicator;
    fprintf(stderr, "level=info msg=\"cluster node started\" id=%llu nodes=%zu\n",
            (unsigned long long)cluster_settings->self_id, cluster_settings->node_count);
    return FF_OK;
}

int main(int argc, char **argv) {
    static config settings;
    static cluster_config cluster_settings;
    static cluster_binding binding;
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
    if (settings.cluster_config[0] != '\0' &&
        cluster_config_load(settings.cluster_config, &cluster_settings, error, sizeof error) !=
            FF_OK) {
        fprintf(stderr, "fundflowd: %s\n", error);
        tls_context_free(tls);
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
    ff_cluster *cluster = NULL;
    if (err == FF_OK) err = cluster_join(&settings, &cluster_settings, ledger, &binding, &cluster);
    ff_server *running = NULL;
    if (err == FF_OK) err = server_create(&settings, ledger, plugins, &running);
    applied_target target = {ledger, running};
    if (err == FF_OK && cluster != NULL) {
        cluster_applied_callback_set(cluster, cluster_applied, &target);
    }
    if (err == FF_OK && tls != NULL) {
        server_tls_use(running, tls);
        fprintf(stderr, "level=info msg=\"serving over TLS\" client_certificates=%s\n",
                settings.tls.client_ca[0] ? "required" : "not_asked");
    }
    if (err == FF_OK) err = server_run(running);
    /* The writer drains its queue as the server stops, and may still ask the plugins' vetoes,
     * so the plugins are unloaded only after it. */
    if (cluster != NULL) cluster_applied_callback_set(cluster, NULL, NULL);
    server_free(running);
    /* After the writer, which replicates through it; before the plugins, which its applies
     * run. */
    cluster_stop(cluster);
    plugins_unload(plugins);
    signing_close(signer);
    ledger_close(ledger);
    tls_context_free(tls);
    if (err != FF_OK) {
        /* A failure to listen was said in full, naming the address, where it happened. */
        if (err != FF_ERR_ADDRESS_IN_USE && err != FF_ERR_LISTEN_FAILED &&
            err != FF_ERR_CLUSTER_START) {
            fprintf(stderr, "fundflowd: %s\n", ff_strerror(err));
        }
        return FUNDFLOWD_EXIT_FAILED;
    }
    fprintf(stderr, "level=info msg=\"stopped cleanly\"\n");
    return FUNDFLOWD_EXIT_OK;
}
