/* Reads the cluster configuration file (format in cluster_config.h and docs/CLUSTER.md) and
 * checks it whole, so a node never starts on a configuration it half understood. */
#include "cluster_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CLUSTER_ELECTION_TIMEOUT_MS_DEFAULT = 1000,
    CLUSTER_HEARTBEAT_TIMEOUT_MS_DEFAULT = 100,
    CLUSTER_SNAPSHOT_THRESHOLD_DEFAULT = 1024,
    CLUSTER_SNAPSHOT_TRAILING_DEFAULT = 256,
};

/* Where the parser is, for its messages. */
typedef struct config_reader {
    const char *path;
    unsigned line;
    char *error;
    size_t error_bytes;
} config_reader;

__attribute__((format(printf, 3, 4))) static ff_err reader_fail(const config_reader *reader,
                                                                const char *setting,
                                                                const char *format, ...) {
    char reason[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, sizeof reason, format, arguments);
    va_end(arguments);
    if (reader->line > 0) {
        snprintf(reader->error, reader->error_bytes, "%s:%u: %s: %s", reader->path, reader->line,
                 setting, reason);
    } else {
        snprintf(reader->error, reader->error_bytes, "%s: %s: %s", reader->path, setting, reason);
    }
    return FF_ERR_CLUSTER_CONFIG;
}

static char *text_trim(char *text) {
    while (isspace((unsigned char)*text)) text++;
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1])) text[--length] = '\0';
    return text;
}

/* A whole decimal number in [minimum, maximum]. */
static bool number_parse(const char *text, uint64_t minimum, uint64_t maximum, uint64_t *out) {
    if (!isdigit((unsigned char)text[0])) return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < minimum || value > maximum) return false;
    *out = value;
    return true;
}

static ff_err unsigned_setting(const config_reader *reader, const char *key, const char *value,
                               uint64_t minimum, uint64_t maximum, unsigned *out) {
    uint64_t number = 0;
    if (!number_parse(value, minimum, maximum, &number)) {
        return reader_fail(reader, key, "'%s' is not a whole number from %" PRIu64 " to %" PRIu64,
                           value, minimum, maximum);
    }
    *out = (unsigned)number;
    return FF_OK;
}

static ff_err yes_no_setting(const config_reader *reader, const char *key, const char *value,
                             bool *out) {
    if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
        return reader_fail(reader, key, "'%s' is not yes or no", value);
    }
    *out = strcmp(value, "yes") == 0;
    return FF_OK;
}

/* host:port with a port from 1 to 65535 and a non-empty host. */
static bool raft_address_valid(const char *address) {
    const char *colon = strrchr(address, ':');
    uint64_t port = 0;
    return colon != NULL && colon != address && number_parse(colon + 1, 1, 65535, &port);
}

static bool url_valid(const char *url) {
    return (strncmp(url, "http://", 7) == 0 && url[7] != '\0') ||
           (strncmp(url, "https://", 8) == 0 && url[8] != '\0');
}

/* node = ID RAFT_ADDRESS URL */
static ff_err node_setting(const config_reader *reader, char *value, cluster_config *config) {
    if (config->node_count == FF_CLUSTER_NODES_MAX) {
        return reader_fail(reader, "node", "at most %d nodes", FF_CLUSTER_NODES_MAX);
    }
    char *words[4] = {0};
    size_t count = 0;
    for (char *word = strtok(value, " \t"); word != NULL; word = strtok(NULL, " \t")) {
        if (count == 3) return reader_fail(reader, "node", "expected 'ID HOST:PORT URL', found more");
        words[count++] = word;
    }
    if (count != 3) return reader_fail(reader, "node", "expected 'ID HOST:PORT URL'");
    cluster_node_config *node = &config->nodes[config->node_count];
    if (!number_parse(words[0], 1, UINT64_MAX, &node->id)) {
        return reader_fail(reader, "node", "ID '%s' is not a whole number above 0", words[0]);
    }
    if (strlen(words[1]) >= sizeof node->raft_address || !raft_address_valid(words[1])) {
        return reader_fail(reader, "node", "Raft address '%s' is not HOST:PORT (port 1-65535, "
                           "under %d bytes)", words[1], FF_CLUSTER_ADDRESS_BYTES);
    }
    if (strlen(words[2]) >= sizeof node->url || !url_valid(words[2])) {
        return reader_fail(reader, "node", "URL '%s' is not http://HOST:PORT or https://HOST:PORT "
                           "(under %d bytes)", words[2], FF_CLUSTER_ADDRESS_BYTES);
    }
    for (size_t i = 0; i < config->node_count; i++) {
        if (config->nodes[i].id == node->id) {
            return reader_fail(reader, "node", "ID %" PRIu64 " is named twice", node->id);
        }
        if (strcmp(config->nodes[i].raft_address, words[1]) == 0) {
            return reader_fail(reader, "node", "Raft address %s is named twice", words[1]);
        }
    }
    strcpy(node->raft_address, words[1]);
    strcpy(node->url, words[2]);
    config->node_count++;
    return FF_OK;
}

static ff_err setting_apply(const config_reader *reader, const char *key, char *value,
                            cluster_config *config) {
    if (strcmp(key, "self") == 0) {
        if (!number_parse(value, 1, UINT64_MAX, &config->self_id)) {
            return reader_fail(reader, key, "'%s' is not a whole number above 0", value);
        }
        return FF_OK;
    }
    if (strcmp(key, "node") == 0) return node_setting(reader, value, config);
    if (strcmp(key, "election_timeout_ms") == 0) {
        return unsigned_setting(reader, key, value, FF_CLUSTER_ELECTION_TIMEOUT_MS_MIN,
                                FF_CLUSTER_ELECTION_TIMEOUT_MS_MAX, &config->election_timeout_ms);
    }
    if (strcmp(key, "heartbeat_timeout_ms") == 0) {
        return unsigned_setting(reader, key, value, FF_CLUSTER_HEARTBEAT_TIMEOUT_MS_MIN,
                                FF_CLUSTER_ELECTION_TIMEOUT_MS_MAX, &config->heartbeat_timeout_ms);
    }
    if (strcmp(key, "snapshot_threshold") == 0) {
        return unsigned_setting(reader, key, value, FF_CLUSTER_SNAPSHOT_ENTRIES_MIN,
                                FF_CLUSTER_SNAPSHOT_ENTRIES_MAX, &config->snapshot_threshold);
    }
    if (strcmp(key, "snapshot_trailing") == 0) {
        return unsigned_setting(reader, key, value, FF_CLUSTER_SNAPSHOT_ENTRIES_MIN,
                                FF_CLUSTER_SNAPSHOT_ENTRIES_MAX, &config->snapshot_trailing);
    }
    if (strcmp(key, "join") == 0) return yes_no_setting(reader, key, value, &config->join);
    if (strcmp(key, "recover") == 0) return yes_no_setting(reader, key, value, &config->recover);
    return reader_fail(reader, key, "unknown setting (known: self, node, election_timeout_ms, "
                       "heartbeat_timeout_ms, snapshot_threshold, snapshot_trailing, join, "
                       "recover)");
}

static ff_err line_apply(const config_reader *reader, char *line, cluster_config *config) {
    char *comment = strchr(line, '#');
    if (comment != NULL) *comment = '\0';
    char *text = text_trim(line);
    if (*text == '\0') return FF_OK;
    char *equals = strchr(text, '=');
    if (equals == NULL) return reader_fail(reader, text, "expected 'key = value'");
    *equals = '\0';
    char *key = text_trim(text);
    char *value = text_trim(equals + 1);
    if (*value == '\0') return reader_fail(reader, key, "has no value");
    return setting_apply(reader, key, value, config);
}

/* The checks that need the whole file. */
static ff_err config_check(const config_reader *reader, const cluster_config *config) {
    if (config->self_id == 0) return reader_fail(reader, "self", "missing: name this node's ID");
    if (config->node_count == 0) return reader_fail(reader, "node", "missing: name every node");
    if (cluster_config_self(config) == NULL) {
        return reader_fail(reader, "self", "no node line names ID %" PRIu64, config->self_id);
    }
    if (config->join && config->recover) {
        return reader_fail(reader, "recover", "a joining node (join = yes) has no log to recover");
    }
    if (config->heartbeat_timeout_ms >= config->election_timeout_ms) {
        return reader_fail(reader, "heartbeat_timeout_ms", "%u must be below election_timeout_ms "
                           "(%u)", config->heartbeat_timeout_ms, config->election_timeout_ms);
    }
    return FF_OK;
}

ff_err cluster_config_load(const char *path, cluster_config *config_out, char *error,
                           size_t error_bytes) {
    memset(config_out, 0, sizeof *config_out);
    config_out->election_timeout_ms = CLUSTER_ELECTION_TIMEOUT_MS_DEFAULT;
    config_out->heartbeat_timeout_ms = CLUSTER_HEARTBEAT_TIMEOUT_MS_DEFAULT;
    config_out->snapshot_threshold = CLUSTER_SNAPSHOT_THRESHOLD_DEFAULT;
    config_out->snapshot_trailing = CLUSTER_SNAPSHOT_TRAILING_DEFAULT;
    config_reader reader = {path, 0, error, error_bytes};
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_bytes, "cannot read the cluster configuration %s: %s", path,
                 strerror(errno));
        return FF_ERR_IO;
    }
    char line[FF_CLUSTER_CONFIG_LINE_BYTES + 2];
    ff_err err = FF_OK;
    while (err == FF_OK && fgets(line, sizeof line, file) != NULL) {
        reader.line++;
        if (strlen(line) > FF_CLUSTER_CONFIG_LINE_BYTES) {
            err = reader_fail(&reader, "line", "longer than %d bytes", FF_CLUSTER_CONFIG_LINE_BYTES);
        } else {
            err = line_apply(&reader, line, config_out);
        }
    }
    fclose(file);
    reader.line = 0;
    return err != FF_OK ? err : config_check(&reader, config_out);
}

const cluster_node_config *cluster_config_self(const cluster_config *config) {
    for (size_t i = 0; i < config->node_count; i++) {
        if (config->nodes[i].id == config->self_id) return &config->nodes[i];
    }
    return NULL;
}
