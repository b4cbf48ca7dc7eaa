/* Reading fundflowd's settings from defaults, a configuration file and the command line. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logline.h"

static void config_defaults(config *settings) {
    memset(settings, 0, sizeof *settings);
    snprintf(settings->listen_host, sizeof settings->listen_host, "%s", CONFIG_DEFAULT_HOST);
    settings->listen_port = CONFIG_DEFAULT_PORT;
    settings->connections_max = FF_CONNECTIONS_MAX;
    settings->queue_depth_max = FF_WRITE_QUEUE_DEPTH_MAX;
    settings->request_timeout_seconds = FF_REQUEST_TIMEOUT_SECONDS;
    settings->body_bytes_max = FF_REQUEST_BODY_BYTES_MAX;
    settings->min_sequence_wait_ms = FF_MIN_SEQUENCE_WAIT_MS;
}

const char *config_version(void) {
    return FUNDFLOW_VERSION;
}

const char *config_usage(void) {
    return "usage: fundflowd --data-dir DIR [--listen HOST:PORT] [--config FILE] [--map-bytes N]\n"
           "                 [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
           "                 [--insecure-listen] [--ui-dir DIR]\n"
           "\n"
           "fundflowd serves the fundflow ledger over Twirp (HTTP/1.1 or HTTPS, protobuf or\n"
           "JSON).\n"
           "\n"
           "  --data-dir DIR      the LMDB data directory; created if missing (required here or\n"
           "                      as data_dir in the configuration file)\n"
           "  --listen HOST:PORT  where to listen; default 127.0.0.1:7460. Port 0 picks a free\n"
           "                      port; the chosen one is printed as 'listening on HOST:PORT'\n"
           "  --config FILE       a file of 'key = value' lines: listen, data_dir, admin_token,\n"
           "                      metrics_role, map_bytes, max_connections, max_queue_depth,\n"
           "                      read_workers (reader threads, 0 = one per core),\n"
           "                      event_loops (event-loop threads, 0 = one per core),\n"
           "                      commit_overlap (true: flush a commit while the next group\n"
           "                      is applied; see docs/CONFIG.md; default false),\n"
           "                      request_timeout_seconds, max_body_bytes, tls_cert, tls_key,\n"
           "                      tls_client_ca, insecure_listen, ui_dir, signing_key,\n"
           "                      backup_dir, log_file, min_sequence_wait_ms, cluster_config\n"
           "                      (docs/CONFIG.md). Flags override it\n"
           "  --metrics-role ROLE GET /metrics needs a bearer token of a principal with this\n"
           "                      role (admin, writer, reader or auditor) or admin; default:\n"
           "                      open to anyone who can connect\n"
           "  --map-bytes N       the initial LMDB map size in bytes; it grows when full, up to\n"
           "                      map_bytes_max (in the file; default and most 64 GiB)\n"
           "  --plugin-dir DIR    load every *.so in DIR as a reporting-rule plugin (repeatable;\n"
           "                      also plugin_dir in the file; plugin.NAME.KEY = value configures\n"
           "                      plugin NAME). Without any, the installed plugins: bin/../\n"
           "                      " FUNDFLOW_PLUGIN_DIR_FROM_BIN " beside fundflowd, else\n"
           "                      " FUNDFLOW_PLUGIN_DIR_DEFAULT ", if there\n"
           "  --tls-cert FILE     serve HTTPS only: the server's certificate chain (PEM, its own\n"
           "                      certificate first); also tls_cert in the file\n"
           "  --tls-key FILE      the certificate's private key (PEM, not encrypted); also\n"
           "                      tls_key. Checked against the certificate at start; warned\n"
           "                      about unless mode 600\n"
           "  --tls-client-ca FILE  mutual TLS: accept only clients whose certificate a CA in\n"
           "                      FILE (PEM) signed; also tls_client_ca. Needs --tls-cert\n"
           "  --insecure-listen   allow plain HTTP on an address other than loopback (also\n"
           "                      insecure_listen = true); warned about at every start\n"
           "  --ui-dir DIR        serve the web view's files from DIR at /ui/ (GET / redirects\n"
           "                      there); also ui_dir in the file. Without it, the installed\n"
           "                      UI: " FUNDFLOW_UI_DIR_FROM_BIN " beside fundflowd, else\n"
           "                      " FUNDFLOW_UI_DIR_DEFAULT " if that is a directory; with\n"
           "                      neither, /ui/ answers 404 saying how to give one. A DIR\n"
           "                      that is not a directory is refused at start\n"
           "  --signing-key FILE  the Ed25519 private key (PEM) that signs tree heads; also\n"
           "                      signing_key. Refused if its group or others may read it.\n"
           "                      Without it, DATA_DIR/signing_key.pem, made (0600) at the\n"
           "                      first start\n"
           "  --backup-dir DIR    where BackupLedger ('fundflow backup') writes its backups;\n"
           "                      also backup_dir. Must be a directory fundflowd can write;\n"
           "                      without it BackupLedger is refused\n"
           "  --log-file FILE     append the log to FILE instead of stderr; also log_file.\n"
           "                      SIGHUP reopens it, for logrotate\n"
           "  --cluster-config FILE  run as one node of a Raft cluster that FILE describes\n"
           "                      (this node's ID, every node's Raft address and URL;\n"
           "                      docs/CLUSTER.md); also cluster_config. Without it, a\n"
           "                      single node. Read once at start\n"
           "  --check-config [FILE]  check the settings (FILE, or --config's, and the other\n"
           "                      flags) as a start would, print 'configuration OK' and exit\n"
           "                      0, or the error naming the setting and exit 2\n"
           "  --help              this text\n"
           "  --version           print \"fundflowd VERSION\" and exit\n"
           "\n"
           "TLS is 1.2 or later (TLS 1.3 with OpenSSL's defaults; TLS 1.2 with ECDHE and AES-GCM\n"
           "or ChaCha20 only), for /healthz, /metrics and Twirp alike. Without --tls-cert the\n"
           "server refuses to listen anywhere but loopback (127.0.0.0/8, ::1, localhost) unless\n"
           "--insecure-listen is given. The TLS settings are read once at start: SIGHUP does not\n"
           "reload them; restart to change a certificate.\n"
           "\n"
           "Every request needs 'Authorization: Bearer TOKEN' with a principal's token (see\n"
           "'fundflow principal add'), except /healthz and the web view's files, which are\n"
           "public: its pages read their data through the API with the token given in them.\n"
           "Until the first principal exists, admin_token (if set) is accepted as the\n"
           "national admin 'admin', and without it loopback clients are served as\n"
           "'local-admin'; once a principal exists both are refused. SIGTERM or\n"
           "SIGINT finishes the requests in flight and exits 0; SIGHUP reopens log_file,\n"
           "re-reads the configuration file's admin_token, metrics_role and plugin settings\n"
           "and reloads the plugins; a reload that would remove the token or metrics_role, or\n"
           "a file that does not parse, is refused and the old settings kept. Keep the file\n"
           "mode 600: it holds the token, and a file others can read or write is warned about.\n"
           "GET /healthz answers 200, or 503 with the reason when the data directory is not\n"
           "writable or the data file fills over 90% of map_bytes_max. docs/CONFIG.md\n"
           "documents every setting.\n"
           "\n"
           "Exit codes: 0 clean shutdown, 1 the server failed, 2 usage or configuration error.\n";
}

static bool config_number_parse(const char *text, uint64_t maximum, uint64_t *number_out) {
    if (text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    char *end = NULL;
    unsigned long long number = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || number > maximum) return false;
    *number_out = number;
    return true;
}

static bool config_listen_parse(config *settings, const char *text) {
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text) return false;
    size_t host_bytes = (size_t)(colon - text);
    if (host_bytes >= sizeof settings->listen_host) return false;
    uint64_t port = 0;
    if (!config_number_parse(colon + 1, UINT16_MAX, &port)) return false;
    memcpy(settings->listen_host, text, host_bytes);
    settings->listen_host[host_bytes] = '\0';
    settings->listen_port = (uint16_t)port;
    return true;
}

static bool config_text_copy(char *target, size_t target_bytes, const char *text) {
    size_t length = strlen(text);
    if (length == 0 || length >= target_bytes) return false;
    memcpy(target, text, length + 1);
    return true;
}

/* Reads a metrics_role: one of the roles by name, in lower case. */
static bool config_role_parse(const char *text, Fundflow__V1__PrincipalRole *role_out) {
    static const struct {
        const char *name;
        Fundflow__V1__PrincipalRole role;
    } roles[] = {{"admin", FUNDFLOW__V1__PRINCIPAL_ROLE__ADMIN},
                 {"writer", FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER},
                 {"reader", FUNDFLOW__V1__PRINCIPAL_ROLE__READER},
                 {"auditor", FUNDFLOW__V1__PRINCIPAL_ROLE__AUDITOR}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(text, roles[i].name) == 0) {
            *role_out = roles[i].role;
            return true;
        }
    }
    return false;
}

/* Records a plugin.NAME.KEY setting. */
static bool config_plugin_setting_apply(config *settings, const char *key, const char *value,
                                        char *error, size_t error_bytes) {
    const char *name = key + strlen("plugin.");
    const char *dot = strchr(name, '.');
    /* The bounds are the sizes of the setting's fields, which hold each with its terminator. */
    const plugins_setting *fields = NULL;
    if (dot == NULL || dot == name || dot[1] == '\0' ||
        (size_t)(dot - name) >= sizeof fields->plugin || strlen(dot + 1) >= sizeof fields->key ||
        strlen(value) >= sizeof fields->value) {
        snprintf(error, error_bytes,
                 "'%s' must be plugin.NAME.KEY, NAME and KEY under %zu bytes and the value "
                 "under %zu", key, sizeof fields->plugin, sizeof fields->value);
        return false;
    }
    if (settings->plugin_setting_count == FF_PLUGIN_SETTINGS_MAX) {
        snprintf(error, error_bytes, "more than %d plugin settings", FF_PLUGIN_SETTINGS_MAX);
        return false;
    }
    plugins_setting *setting = &settings->plugin_settings[settings->plugin_setting_count++];
    snprintf(setting->plugin, sizeof setting->plugin, "%.*s", (int)(dot - name), name);
    snprintf(setting->key, sizeof setting->key, "%s", dot + 1);
    snprintf(setting->value, sizeof setting->value, "%s", value);
    return true;
}

static bool config_plugin_directory_add(config *settings, const char *value) {
    if (settings->plugin_directory_count == FF_PLUGIN_DIRECTORIES_MAX) return false;
    return config_text_copy(settings->plugin_directories[settings->plugin_directory_count++],
                            CONFIG_PATH_BYTES, value);
}

/* Records tls_cert, tls_key, tls_client_ca or insecure_listen (true or false). */
static bool config_tls_setting_apply(config_tls *tls, const char *key, const char *value) {
    if (strcmp(key, "tls_cert") == 0) return config_text_copy(tls->cert, sizeof tls->cert, value);
    if (strcmp(key, "tls_key") == 0) return config_text_copy(tls->key, sizeof tls->key, value);
    if (strcmp(key, "tls_client_ca") == 0) {
        return config_text_copy(tls->client_ca, sizeof tls->client_ca, value);
    }
    bool yes = strcmp(value, "true") == 0;
    tls->insecure_listen = yes;
    return yes || strcmp(value, "false") == 0;
}

/* Records ui_dir, which must be a directory now, so that a mistyped path is found at start and
 * not as a 404 in a browser later. */
static bool config_ui_dir_apply(config *settings, const char *value, char *error,
                                size_t error_bytes) {
    if (!config_text_copy(settings->ui_dir, sizeof settings->ui_dir, value)) {
        snprintf(error, error_bytes, "the UI directory's path is empty or longer than %d bytes",
                 FF_PATH_BYTES_MAX);
        return false;
    }
    struct stat status;
    if (stat(value, &status) != 0) {
        snprintf(error, error_bytes, "the UI directory %s cannot be used: %s", value,
                 strerror(errno));
        return false;
    }
    if (!S_ISDIR(status.st_mode)) {
        snprintf(error, error_bytes, "the UI directory %s is not a directory", value);
        return false;
    }
    return true;
}

/* Records backup_dir, which must be a directory fundflowd can write into now, so that a backup
 * asked for months later does not fail on a typo. */
static bool config_backup_dir_apply(config *settings, const char *value, char *error,
                                    size_t error_bytes) {
    if (!config_text_copy(settings->backup_dir, sizeof settings->backup_dir, value)) {
        snprintf(error, error_bytes, "backup_dir: the path is empty or longer than %d bytes",
                 FF_PATH_BYTES_MAX);
        return false;
    }
    struct stat status;
    errno = 0;
    if (stat(value, &status) != 0 || !S_ISDIR(status.st_mode) ||
        access(value, W_OK | X_OK) != 0) {
        snprintf(error, error_bytes, "backup_dir: %s is not a directory fundflowd can write: %s",
                 value, errno ? strerror(errno) : "not a directory");
        return false;
    }
    return true;
}

/* An installed directory, if there is one: from_bin beside the running program (so that an
 * installed tree works wherever it was unpacked), else the absolute path under the prefix. */
static bool config_installed_dir(const char *from_bin, const char *absolute, char *path,
                                 size_t path_bytes) {
    char program[CONFIG_PATH_BYTES];
    ssize_t length = readlink("/proc/self/exe", program, sizeof program - 1);
    struct stat status;
    if (length > 0) {
        program[length] = '\0';
        char *slash = strrchr(program, '/');
        if (slash != NULL) *slash = '\0';
        int written = snprintf(path, path_bytes, "%s/%s", program, from_bin);
        if (written > 0 && (size_t)written < path_bytes && stat(path, &status) == 0 &&
            S_ISDIR(status.st_mode)) {
            return true;
        }
    }
    if (stat(absolute, &status) != 0 || !S_ISDIR(status.st_mode)) return false;
    snprintf(path, path_bytes, "%s", absolute);
    return true;
}

/* Without ui_dir, the installed UI if there is one. */
static void config_ui_dir_default(config *settings) {
    if (!config_installed_dir(FUNDFLOW_UI_DIR_FROM_BIN, FUNDFLOW_UI_DIR_DEFAULT, settings->ui_dir,
                              sizeof settings->ui_dir)) {
        settings->ui_dir[0] = '\0';
    }
}

/* Without plugin_dir, the installed plugins if there are any. */
static void config_plugin_dir_default(config *settings) {
    if (config_installed_dir(FUNDFLOW_PLUGIN_DIR_FROM_BIN, FUNDFLOW_PLUGIN_DIR_DEFAULT,
                             settings->plugin_directories[0], CONFIG_PATH_BYTES)) {
        settings->plugin_directory_count = 1;
    }
}

/* Applies one setting by its file key. Returns false with error set if the value is bad. */
static bool config_setting_apply(config *settings, const char *key, const char *value,
                                 char *error, size_t error_bytes) {
    uint64_t number = 0;
    bool ok;
    if (strncmp(key, "plugin.", strlen("plugin.")) == 0) {
        return config_plugin_setting_apply(settings, key, value, error, error_bytes);
    }
    if (strcmp(key, "ui_dir") == 0) {
        return config_ui_dir_apply(settings, value, error, error_bytes);
    } else if (strcmp(key, "backup_dir") == 0) {
        return config_backup_dir_apply(settings, value, error, error_bytes);
    } else if (strcmp(key, "log_file") == 0) {
        ok = config_text_copy(settings->log_file, sizeof settings->log_file, value);
    } else if (strcmp(key, "cluster_config") == 0) {
        ok = config_text_copy(settings->cluster_config, sizeof settings->cluster_config, value);
    } else if (strcmp(key, "tls_cert") == 0 || strcmp(key, "tls_key") == 0 ||
               strcmp(key, "tls_client_ca") == 0 || strcmp(key, "insecure_listen") == 0) {
        ok = config_tls_setting_apply(&settings->tls, key, value);
    } else if (strcmp(key, "plugin_dir") == 0) {
        ok = config_plugin_directory_add(settings, value);
    } else if (strcmp(key, "listen") == 0) {
        ok = config_listen_parse(settings, value);
    } else if (strcmp(key, "signing_key") == 0) {
        ok = config_text_copy(settings->signing_key, sizeof settings->signing_key, value);
    } else if (strcmp(key, "data_dir") == 0) {
        ok = config_text_copy(settings->data_dir, sizeof settings->data_dir, value);
    } else if (strcmp(key, "admin_token") == 0) {
        ok = config_text_copy(settings->admin_token, sizeof settings->admin_token, value);
    } else if (strcmp(key, "metrics_role") == 0) {
        ok = config_role_parse(value, &settings->metrics_role);
    } else if (strcmp(key, "map_bytes") == 0) {
        ok = config_number_parse(value, FF_MAP_BYTES_MAX, &settings->map_bytes);
    } else if (strcmp(key, "map_bytes_max") == 0) {
        ok = config_number_parse(value, FF_MAP_BYTES_MAX, &settings->map_bytes_max) &&
             settings->map_bytes_max >= FF_MAP_BYTES_MIN;
    } else if (strcmp(key, "max_connections") == 0) {
        ok = config_number_parse(value, FF_CONNECTIONS_SETTING_MAX, &number) && number > 0;
        settings->connections_max = (uint32_t)number;
    } else if (strcmp(key, "max_queue_depth") == 0) {
        ok = config_number_parse(value, FF_WRITE_QUEUE_DEPTH_SETTING_MAX, &number) && number > 0;
        settings->queue_depth_max = (uint32_t)number;
    } else if (strcmp(key, "commit_overlap") == 0) {
        settings->commit_overlap = strcmp(value, "true") == 0;
        ok = settings->commit_overlap || strcmp(value, "false") == 0;
    } else if (strcmp(key, "read_workers") == 0) {
        ok = config_number_parse(value, FF_READ_WORKERS_MAX, &number);
        settings->read_workers = (uint32_t)number;
    } else if (strcmp(key, "event_loops") == 0) {
        ok = config_number_parse(value, FF_EVENT_LOOPS_MAX, &number);
        settings->event_loops = (uint32_t)number;
    } else if (strcmp(key, "request_timeout_seconds") == 0) {
        ok = config_number_parse(value, FF_REQUEST_TIMEOUT_SECONDS_MAX, &number) && number > 0;
        settings->request_timeout_seconds = (uint32_t)number;
    } else if (strcmp(key, "min_sequence_wait_ms") == 0) {
        ok = config_number_parse(value, FF_MIN_SEQUENCE_WAIT_MS_MAX, &number);
        settings->min_sequence_wait_ms = (uint32_t)number;
    } else if (strcmp(key, "max_body_bytes") == 0) {
        ok = config_number_parse(value, FF_REQUEST_BODY_BYTES_SETTING_MAX,
                                 &settings->body_bytes_max) &&
             settings->body_bytes_max >= FF_REQUEST_BODY_BYTES_SETTING_MIN;
    } else {
        snprintf(error, error_bytes, "unknown setting '%s'", key);
        return false;
    }
    /* The token is a secret: the message, which ends up in the log, never repeats it. */
    bool secret = strcmp(key, "admin_token") == 0;
    if (!ok) {
        snprintf(error, error_bytes, "'%s' is not a valid value for %s",
                 secret ? "(hidden)" : value, key);
    }
    return ok;
}

static char *config_trim(char *text) {
    while (*text == ' ' || *text == '\t') text++;
    size_t length = strlen(text);
    while (length > 0 && strchr(" \t\r\n", text[length - 1]) != NULL) text[--length] = '\0';
    return text;
}

/* Applies one line of the file; blank lines and comments are skipped. */
static bool config_line_apply(config *settings, char *line, char *error, size_t error_bytes,
                              bool token_only) {
    char *text = config_trim(line);
    if (text[0] == '\0' || text[0] == '#') return true;
    char *equals = strchr(text, '=');
    if (equals == NULL) {
        snprintf(error, error_bytes, "expected 'key = value'");
        return false;
    }
    *equals = '\0';
    char *key = config_trim(text), *value = config_trim(equals + 1);
    if (token_only && strcmp(key, "admin_token") != 0 && strcmp(key, "metrics_role") != 0 &&
        strncmp(key, "plugin.", strlen("plugin.")) != 0) {
        return true;
    }
    return config_setting_apply(settings, key, value, error, error_bytes);
}

static ff_err config_file_read(config *settings, const char *path, bool token_only, char *error,
                               size_t error_bytes) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_bytes, "cannot read %s: %s", path, strerror(errno));
        return FF_ERR_IO;
    }
    /* Lines longer than the limit are refused, not truncated. */
    char line[FF_CONFIG_LINE_BYTES_MAX], reason[512];
    ff_err err = FF_OK;
    for (unsigned number = 1; err == FF_OK && fgets(line, sizeof line, file); number++) {
        if (strchr(line, '\n') == NULL && !feof(file)) {
            snprintf(error, error_bytes, "%s line %u: longer than %d bytes", path, number,
                     FF_CONFIG_LINE_BYTES_MAX);
            err = FF_ERR_FIELD_TOO_LONG;
        } else if (!config_line_apply(settings, line, reason, sizeof reason, token_only)) {
            snprintf(error, error_bytes, "%s line %u: %s", path, number, reason);
            err = FF_ERR_ENUM_INVALID;
        }
    }
    fclose(file);
    return err;
}

/* The flags, in the order they are looked for. Each takes a value. */
static const struct {
    const char *flag;
    const char *key;
} config_flags[] = {
    {"--listen", "listen"},
    {"--data-dir", "data_dir"},
    {"--map-bytes", "map_bytes"},
    {"--plugin-dir", "plugin_dir"},
    {"--metrics-role", "metrics_role"},
    {"--config", NULL},
    {"--tls-cert", "tls_cert"},
    {"--tls-key", "tls_key"},
    {"--tls-client-ca", "tls_client_ca"},
    {"--ui-dir", "ui_dir"},
    {"--signing-key", "signing_key"},
    {"--backup-dir", "backup_dir"},
    {"--log-file", "log_file"},
    {"--cluster-config", "cluster_config"},
};

static config_outcome config_arguments_apply(config *settings, int argc, char **argv,
                                             bool config_only, char *error,
                                             size_t error_bytes) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return CONFIG_HELP;
        if (strcmp(argv[i], "--version") == 0) return CONFIG_VERSION;
        /* The one flag without a value. */
        if (strcmp(argv[i], "--insecure-listen") == 0) {
            if (!config_only) settings->tls.insecure_listen = true;
            continue;
        }
        /* --check-config, and the file to check if a word (not a flag) follows it. */
        if (strcmp(argv[i], "--check-config") == 0) {
            settings->check_only = true;
            if (i + 1 < argc && argv[i + 1][0] != '-') {
                const char *path = argv[++i];
                if (config_only && !config_text_copy(settings->config_path,
                                                     sizeof settings->config_path, path)) {
                    snprintf(error, error_bytes, "--check-config: the path is empty or too long");
                    return CONFIG_ERROR;
                }
            }
            continue;
        }
        size_t flag = 0, flag_count = sizeof config_flags / sizeof config_flags[0];
        while (flag < flag_count && strcmp(argv[i], config_flags[flag].flag) != 0) flag++;
        if (flag == flag_count) {
            snprintf(error, error_bytes, "unknown flag '%s' (see --help)", argv[i]);
            return CONFIG_ERROR;
        }
        if (i + 1 >= argc) {
            snprintf(error, error_bytes, "%s needs a value", argv[i]);
            return CONFIG_ERROR;
        }
        const char *value = argv[++i];
        bool is_config = config_flags[flag].key == NULL;
        if (is_config != config_only) continue;
        char reason[512];
        bool ok = is_config ? config_text_copy(settings->config_path,
                                               sizeof settings->config_path, value)
                            : config_setting_apply(settings, config_flags[flag].key, value,
                                                   reason, sizeof reason);
        if (ok && !is_config && strcmp(config_flags[flag].key, "metrics_role") == 0) {
            settings->metrics_role_from_flag = true;
        }
        if (!ok) {
            snprintf(error, error_bytes, "%s: %s", config_flags[flag].flag,
                     is_config ? "the path is empty or too long" : reason);
            return CONFIG_ERROR;
        }
    }
    return CONFIG_RUN;
}

/* The file holds the admin token, so anyone else who can read it can act as admin, and anyone
 * else who can write it can choose the token. Only a warning: the operator may have reasons
 * (a group of administrators), and refusing to start would be worse than saying so. */
static void config_file_permissions_warn(const char *path) {
    struct stat status;
    if (stat(path, &status) != 0) return;
    mode_t open_to_others = S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;
    if ((status.st_mode & open_to_others) == 0) return;
    logline_write("level=warn msg=\"configuration file is readable or writable by other users\" "
                  "path=\"%s\" mode=%04o reason=\"it can hold the admin token; chmod 600 it\"",
                  path, (unsigned)(status.st_mode & 07777));
}

config_outcome config_load(config *settings, int argc, char **argv, char *error,
                           size_t error_bytes) {
    config_defaults(settings);
    config_outcome outcome = config_arguments_apply(settings, argc, argv, true, error,
                                                    error_bytes);
    if (outcome != CONFIG_RUN) return outcome;
    if (settings->config_path[0] != '\0' &&
        config_file_read(settings, settings->config_path, false, error, error_bytes) != FF_OK) {
        return CONFIG_ERROR;
    }
    if (settings->config_path[0] != '\0') config_file_permissions_warn(settings->config_path);
    outcome = config_arguments_apply(settings, argc, argv, false, error, error_bytes);
    if (outcome == CONFIG_RUN && settings->data_dir[0] == '\0') {
        snprintf(error, error_bytes, "--data-dir is required (or data_dir in --config)");
        return CONFIG_ERROR;
    }
    if (outcome == CONFIG_RUN && settings->ui_dir[0] == '\0') config_ui_dir_default(settings);
    if (outcome == CONFIG_RUN && settings->plugin_directory_count == 0) {
        config_plugin_dir_default(settings);
    }
    if (outcome == CONFIG_RUN && settings->check_only) return CONFIG_CHECK;
    return outcome;
}

/* A reload may only keep or raise security. Removing the admin token would serve every loopback
 * client as local-admin while no principal exists, so a file without one while the server has
 * one is refused; a new token is allowed, so that it can be rotated. Likewise a file without
 * metrics_role while the server has one would open /metrics to everyone; another role is
 * allowed. */
static bool config_reload_weakens(const config *running, const config *fresh, char *error,
                                  size_t error_bytes) {
    if (running->admin_token[0] != '\0' && fresh->admin_token[0] == '\0') {
        snprintf(error, error_bytes,
                 "%s has no admin_token but the server has one; removing it would serve "
                 "loopback clients unauthenticated, so the old settings are kept (restart to "
                 "remove it)",
                 running->config_path);
        return true;
    }
    if (running->metrics_role != FUNDFLOW__V1__PRINCIPAL_ROLE__PRINCIPAL_ROLE_UNSPECIFIED &&
        fresh->metrics_role == FUNDFLOW__V1__PRINCIPAL_ROLE__PRINCIPAL_ROLE_UNSPECIFIED) {
        snprintf(error, error_bytes,
                 "%s has no metrics_role but the server has one; removing it would open "
                 "/metrics to everyone, so the old settings are kept (restart to remove it)",
                 running->config_path);
        return true;
    }
    return false;
}

/* Refusals are logged here, at error level, so that a refused reload is never silent whoever
 * calls this. */
static void config_reload_refusal_log(const char *path, const char *reason) {
    logline_write("level=error msg=\"configuration reload refused\" path=\"%s\" reason=\"%s\"",
                  path, reason);
}

ff_err config_reload(config *settings, char *error, size_t error_bytes) {
    if (settings->config_path[0] == '\0') {
        snprintf(error, error_bytes, "no configuration file to re-read");
        return FF_ERR_FIELD_MISSING;
    }
    static config fresh;
    fresh = *settings;
    fresh.admin_token[0] = '\0';
    fresh.metrics_role = FUNDFLOW__V1__PRINCIPAL_ROLE__PRINCIPAL_ROLE_UNSPECIFIED;
    fresh.plugin_setting_count = 0;
    ff_err err = config_file_read(&fresh, settings->config_path, true, error, error_bytes);
    if (settings->metrics_role_from_flag) fresh.metrics_role = settings->metrics_role;
    if (err == FF_OK && config_reload_weakens(settings, &fresh, error, error_bytes)) {
        err = FF_ERR_PERMISSION_DENIED;
    }
    if (err == FF_OK) {
        config_file_permissions_warn(settings->config_path);
        memcpy(settings->admin_token, fresh.admin_token, sizeof fresh.admin_token);
        settings->metrics_role = fresh.metrics_role;
        memcpy(settings->plugin_settings, fresh.plugin_settings, sizeof fresh.plugin_settings);
        settings->plugin_setting_count = fresh.plugin_setting_count;
    } else {
        config_reload_refusal_log(settings->config_path, error);
    }
    /* The scratch copy is static: it should not keep a token the server no longer uses. */
    memset(fresh.admin_token, 0, sizeof fresh.admin_token);
    return err;
}
