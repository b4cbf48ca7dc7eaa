/* fundflowd's settings: their defaults, the command line and the configuration file.
 *
 * The file holds `key = value` lines; `#` starts a comment. Command-line flags override the file.
 * Keys: listen, data_dir, admin_token, metrics_role, map_bytes, max_connections,
 * max_queue_depth, read_workers, event_loops, commit_overlap, request_timeout_seconds,
 * max_body_bytes, plugin_dir (repeatable), and plugin.NAME.KEY for a plugin's own settings; tls_cert, tls_key,
 * tls_client_ca and insecure_listen (see tls.h); ui_dir, the web view's files (see ui.h);
 * backup_dir, where BackupLedger writes; log_file; min_sequence_wait_ms, how long a request
 * carrying Fundflow-Min-Sequence may wait; cluster_config, the cluster this node is one of.
 * docs/CONFIG.md documents every setting.
 */
#ifndef FUNDFLOW_CONFIG_H
#define FUNDFLOW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_host.h"
#include "server_cluster.h"
#include "fundflow/error.h"
#include "fundflow/limits.h"
#include "fundflow/v1/events.pb-c.h"

#define CONFIG_PATH_BYTES (FF_PATH_BYTES_MAX + 1)
#define CONFIG_HOST_BYTES (FF_HOST_BYTES_MAX + 1)
#define CONFIG_DEFAULT_HOST "127.0.0.1"
#define CONFIG_DEFAULT_PORT 7460

/* tls_cert, tls_key and tls_client_ca (--tls-cert, --tls-key, --tls-client-ca), and
 * insecure_listen (--insecure-listen): plain HTTP on an address other machines can reach. */
typedef struct config_tls {
    char cert[CONFIG_PATH_BYTES];
    char key[CONFIG_PATH_BYTES];
    char client_ca[CONFIG_PATH_BYTES];
    bool insecure_listen;
} config_tls;

typedef struct config {
    char listen_host[CONFIG_HOST_BYTES];
    uint16_t listen_port;
    char data_dir[CONFIG_PATH_BYTES];
    char config_path[CONFIG_PATH_BYTES];
    /* A bootstrap: accepted as the national admin "admin" only while no principal exists.
     * Empty means none: then, until the first principal, only loopback clients are served. */
    char admin_token[FF_TOKEN_BYTES_MAX + 1];
    /* The role /metrics asks for (admin always passes); UNSPECIFIED leaves /metrics open. */
    Fundflow__V1__PrincipalRole metrics_role;
    bool metrics_role_from_flag; /* --metrics-role was given: it overrides the file, reloads too */
    uint64_t map_bytes;
    uint64_t map_bytes_max; /* map_bytes_max: the largest the map may grow to; 0: the limit */
    uint32_t connections_max;
    uint32_t queue_depth_max;
    /* Reader threads (read_workers); 0, the default, means one per online core. Read once. */
    uint32_t read_workers;
    /* Event loops (event_loops), each a thread with its own connections; 0, the default, means
     * one per online core, within FF_EVENT_LOOPS_MAX. Read once. */
    uint32_t event_loops;
    /* commit_overlap: the writer flushes a group's meta page on its sync thread while the next
     * group is applied (writer.h); false, the default, makes every commit durable before any
     * reader sees it. Read once. */
    bool commit_overlap;
    uint32_t request_timeout_seconds;
    uint64_t body_bytes_max;
    /* Directories of reporting-rule plugins (plugin_dir, --plugin-dir; repeatable). */
    char plugin_directories[FF_PLUGIN_DIRECTORIES_MAX][CONFIG_PATH_BYTES];
    size_t plugin_directory_count;
    /* plugin.NAME.KEY = value lines: each plugin's own settings. */
    plugins_setting plugin_settings[FF_PLUGIN_SETTINGS_MAX];
    size_t plugin_setting_count;
    /* TLS (tls.h): empty paths mean plain HTTP. Read once at start; SIGHUP never changes them. */
    config_tls tls;
    /* The longest a request with a Fundflow-Min-Sequence header waits for this node's head to
     * reach it (min_sequence_wait_ms, 0 to FF_MIN_SEQUENCE_WAIT_MS_MAX; 0 refuses at once). */
    uint32_t min_sequence_wait_ms;
    /* The cluster this node belongs to (server_cluster.h), set by fundflowd when it runs with
     * --cluster-config; NULL, the default: a single node, which leads itself. Not owned. */
    const server_cluster_ops *cluster;
    /* The web view's directory (ui_dir, --ui-dir), checked to be one at start; else the install
     * prefix's share/fundflow/ui if that is a directory; else empty: no web view. Read once. */
    char ui_dir[CONFIG_PATH_BYTES];
    /* The Ed25519 key that signs tree heads (signing_key, --signing-key); empty means
     * DATA_DIR/signing_key.pem, created at the first start. Read once at start. */
    char signing_key[CONFIG_PATH_BYTES];
    /* Where BackupLedger writes (backup_dir, --backup-dir): a directory fundflowd can write,
     * checked at start. Empty: BackupLedger is refused. Read once. */
    char backup_dir[CONFIG_PATH_BYTES];
    /* The log's file (log_file, --log-file), opened in place of stderr at start and again on
     * each SIGHUP (logfile.h); empty: stderr as it is. */
    char log_file[CONFIG_PATH_BYTES];
    /* The cluster configuration file (cluster_config, --cluster-config; docs/CLUSTER.md): this
     * node's ID and every node's Raft address and URL. Empty: a single node. Read once. */
    char cluster_config[CONFIG_PATH_BYTES];
    bool check_only; /* --check-config [FILE]: check the settings and exit */
    /* Not a setting: how the writer replicates groups when fundflowd runs as one node of a
     * cluster (writer.h), set by fundflowd; NULL, the default, for a single node. */
    const struct writer_replicator *replicator;
} config;

typedef enum config_outcome {
    CONFIG_RUN,   /* start the server */
    CONFIG_HELP,  /* --help was asked for: print config_usage and exit 0 */
    CONFIG_VERSION, /* --version was asked for: print "fundflowd " config_version() and exit 0 */
    CONFIG_ERROR, /* error holds why: print it and exit 2 */
    CONFIG_CHECK, /* --check-config: the settings read; check what start would, then exit */
} config_outcome;

/* Fills settings from defaults, then the file named by --config (if any), then the other flags.
 * On CONFIG_ERROR, error names the flag or the file and line. Logs a level=warn line on stderr
 * if the file is readable or writable by group or others, since it can hold the admin token. */
config_outcome config_load(config *settings, int argc, char **argv, char *error,
                           size_t error_bytes);

/* The project's version, from CMake, as ServerInfo reports it. */
const char *config_version(void);

/* Re-reads the configuration file for the settings that may change while running: the admin
 * token, metrics_role and the plugins' own settings. A reload never lowers security: a file
 * without admin_token while the server has one, or without metrics_role while the server has
 * one, is refused (FF_ERR_PERMISSION_DENIED), as is a file that
 * cannot be read (FF_ERR_IO) or parsed (FF_ERR_FIELD_..., FF_ERR_ENUM_INVALID); then settings are
 * left as they were, error says why, and a level=error line is logged on stderr. On success a
 * file readable or writable by group or others is warned about, as config_load does at start. */
ff_err config_reload(config *settings, char *error, size_t error_bytes);

/* The --help text. */
const char *config_usage(void);

#endif
