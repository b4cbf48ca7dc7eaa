/* Calls to the Ledger service over Twirp, in protobuf or JSON, with errors reported for people. */
#include "cli_rpc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "json_codec.h"

#define CLI_RPC_PATH_PREFIX "/twirp/fundflow.v1.Ledger/"
#define CLI_RPC_PATH_BYTES_MAX 128

/* How much of a reply that is not a Twirp error is quoted to say what came back instead. */
#define CLI_RPC_QUOTE_BYTES_MAX 200

static const char *cli_content_type(const cli_session *session) {
    return session->json ? "application/json" : "application/protobuf";
}

int cli_session_open(cli_session *session, const char *url, const char *token,
                     const http_tls_files *tls, bool json, uint64_t min_sequence) {
    assert(session != NULL && url != NULL);
    memset(session, 0, sizeof *session);
    http_client_options options = {.token = token, .min_sequence = min_sequence};
    if (tls != NULL) options.tls = *tls;
    session->client_options = options;
    char error[HTTP_CLIENT_ERROR_BYTES];
    http_result result = http_client_create(url, &options, &session->client, error,
                                            sizeof error);
    if (result == HTTP_ERR_URL) {
        fprintf(stderr, CLI_PROGRAM ": --server %s\n", error);
        return CLI_EXIT_USAGE;
    }
    if (result == HTTP_ERR_TLS_SETUP) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_USAGE;
    }
    if (result != HTTP_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s\n", error);
        return CLI_EXIT_FAILED;
    }
    session->json = json;
    return CLI_EXIT_OK;
}

void cli_session_close(cli_session *session) {
    http_client_free(session->client);
    session->client = NULL;
}

static int cli_request_encode(const cli_session *session, const ProtobufCMessage *request,
                              uint8_t **bytes_out, size_t *bytes_count_out) {
    if (session->json) {
        char *text = NULL;
        ff_err err = json_codec_encode(request, &text, bytes_count_out);
        *bytes_out = (uint8_t *)text;
        return err == FF_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    }
    size_t packed_bytes = protobuf_c_message_get_packed_size(request);
    *bytes_out = malloc(packed_bytes ? packed_bytes : 1);
    if (*bytes_out == NULL) return CLI_EXIT_FAILED;
    *bytes_count_out = protobuf_c_message_pack(request, *bytes_out);
    assert(*bytes_count_out == packed_bytes);
    return CLI_EXIT_OK;
}

static int cli_transport_report(const cli_session *session, const char *method,
                                http_result result) {
    const char *url = http_client_url(session->client);
    const char *why = http_client_error(session->client);
    if (result == HTTP_ERR_CONNECT) {
        fprintf(stderr, CLI_PROGRAM ": cannot connect to %s: %s\n", url, why);
        return CLI_EXIT_CONNECT;
    }
    fprintf(stderr, CLI_PROGRAM ": %s at %s failed: %s\n", method, url, why);
    return CLI_EXIT_FAILED;
}

/* Whether the reply's Content-Type is the one asked for, ignoring parameters and case. */
static bool cli_content_type_matches(const char *received, const char *expected) {
    size_t length = strcspn(received, ";");
    while (length > 0 && received[length - 1] == ' ') length--;
    return length == strlen(expected) && strncasecmp(received, expected, length) == 0;
}

static int cli_reply_decode(const cli_session *session, const char *method,
                            const char *content_type, const ProtobufCMessageDescriptor *output,
                            cli_reply *reply) {
    if (reply->http_status != 200) {
        json_t *error = json_loadb(reply->body, reply->body_bytes, 0, NULL);
        if (error != NULL && !json_is_object(error)) {
            json_decref(error);
            error = NULL;
        }
        reply->error = error;
        return CLI_EXIT_OK;
    }
    char why[512] = "";
    if (!cli_content_type_matches(content_type, cli_content_type(session))) {
        snprintf(why, sizeof why, "it is %s, not %s", content_type[0] ? content_type : "untyped",
                 cli_content_type(session));
    } else if (session->json) {
        if (json_codec_decode(output, reply->body, reply->body_bytes, &reply->message, why,
                              sizeof why) != FF_OK && why[0] == '\0') {
            snprintf(why, sizeof why, "out of memory");
        }
    } else {
        reply->message = protobuf_c_message_unpack(output, NULL, reply->body_bytes,
                                                   (const uint8_t *)reply->body);
        if (reply->message == NULL) snprintf(why, sizeof why, "it is not a valid %s",
                                             output->name);
    }
    if (reply->message != NULL) return CLI_EXIT_OK;
    fprintf(stderr, CLI_PROGRAM ": the reply to %s cannot be read: %s\n", method, why);
    return CLI_EXIT_FAILED;
}

/* Posts an encoded request and reads its reply into *reply; as cli_rpc_call. */
static int cli_rpc_exchange(cli_session *session, const char *method, const char *path,
                            const uint8_t *body, size_t body_bytes,
                            const ProtobufCMessageDescriptor *output, cli_reply *reply) {
    memset(reply, 0, sizeof *reply);
    http_response response;
    http_result result = http_client_post(session->client, path, cli_content_type(session), body,
                                          body_bytes, &response);
    if (result != HTTP_OK) return cli_transport_report(session, method, result);
    reply->http_status = response.status;
    reply->body = (const char *)response.body;
    reply->body_bytes = response.body_bytes;
    reply->sequence_known = response.sequence_known;
    reply->sequence = response.sequence;
    return cli_reply_decode(session, method, response.content_type, output, reply);
}

/* A refusal with not_leader naming the leader: moves the session to the leader, saying so on
 * stderr, and returns true, for the request to be sent there. False when the reply is another,
 * or the leader's URL cannot be used (then the refusal stands). */
static bool cli_leader_follow(cli_session *session, const cli_reply *reply) {
    const char *error = cli_reply_error_meta(reply, "error");
    const char *named = cli_reply_error_meta(reply, "leader");
    if (error == NULL || strcmp(error, "not_leader") != 0 || named == NULL || named[0] == '\0') {
        return false;
    }
    char leader[HTTP_CLIENT_HOST_BYTES_MAX * 2];
    snprintf(leader, sizeof leader, "%s", named);
    http_client *client = NULL;
    char why[HTTP_CLIENT_ERROR_BYTES];
    if (http_client_create(leader, &session->client_options, &client, why, sizeof why) !=
        HTTP_OK) {
        fprintf(stderr, CLI_PROGRAM ": %s names the leader %s, which cannot be used: %s\n",
                http_client_url(session->client), leader, why);
        return false;
    }
    fprintf(stderr, CLI_PROGRAM ": %s does not lead the cluster; sending the request to the "
                    "leader, %s\n",
            http_client_url(session->client), leader);
    http_client_free(session->client);
    session->client = client;
    return true;
}

int cli_rpc_call(cli_session *session, const char *method, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *output, cli_reply *reply) {
    assert(session != NULL && session->client != NULL && method != NULL && request != NULL);
    memset(reply, 0, sizeof *reply);
    char path[CLI_RPC_PATH_BYTES_MAX];
    int length = snprintf(path, sizeof path, CLI_RPC_PATH_PREFIX "%s", method);
    assert(length > 0 && (size_t)length < sizeof path);
    (void)length;
    uint8_t *body = NULL;
    size_t body_bytes = 0;
    if (cli_request_encode(session, request, &body, &body_bytes) != CLI_EXIT_OK) {
        fprintf(stderr, CLI_PROGRAM ": cannot encode the %s request: out of memory\n", method);
        return CLI_EXIT_FAILED;
    }
    int code = cli_rpc_exchange(session, method, path, body, body_bytes, output, reply);
    /* Followed once only: two nodes that name each other cannot send it round and round. */
    if (code == CLI_EXIT_OK && reply->http_status != 200 && cli_leader_follow(session, reply)) {
        cli_reply_release(reply);
        code = cli_rpc_exchange(session, method, path, body, body_bytes, output, reply);
    }
    free(body);
    return code;
}

int cli_rpc_run(cli_session *session, const char *method, const ProtobufCMessage *request,
                const ProtobufCMessageDescriptor *output, cli_reply *reply) {
    int code = cli_rpc_call(session, method, request, output, reply);
    if (code != CLI_EXIT_OK) return code;
    if (reply->http_status != 200) return cli_reply_refusal_report(session, reply);
    if (session->json) cli_reply_json_print(reply);
    return CLI_EXIT_OK;
}

int cli_rpc_read(cli_session *session, const char *method, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *output, cli_reply_print print) {
    cli_reply reply;
    int code = cli_rpc_run(session, method, request, output, &reply);
    if (code == CLI_EXIT_OK && !session->json) code = print(reply.message);
    cli_reply_release(&reply);
    return code;
}

void cli_reply_json_print(const cli_reply *reply) {
    cli_reply_json_write(reply, stdout);
}

void cli_reply_json_write(const cli_reply *reply, FILE *out) {
    fwrite(reply->body, 1, reply->body_bytes, out);
    if (reply->body_bytes == 0 || reply->body[reply->body_bytes - 1] != '\n') fputc('\n', out);
}

const char *cli_reply_error_field(const cli_reply *reply, const char *name) {
    if (reply->error == NULL) return NULL;
    return json_string_value(json_object_get(reply->error, name));
}

const char *cli_reply_error_meta(const cli_reply *reply, const char *name) {
    if (reply->error == NULL) return NULL;
    return json_string_value(json_object_get(json_object_get(reply->error, "meta"), name));
}

/* Quotes the first line of a reply that is not a Twirp error, so people can see what answered. */
static void cli_reply_unknown_report(const cli_reply *reply) {
    size_t length = strcspn(reply->body, "\r\n");
    if (length > reply->body_bytes) length = reply->body_bytes;
    if (length > CLI_RPC_QUOTE_BYTES_MAX) length = CLI_RPC_QUOTE_BYTES_MAX;
    fprintf(stderr, "error: HTTP %d: the reply is not a Twirp error: \"%.*s\"\n",
            reply->http_status, (int)length, reply->body);
}

int cli_reply_refusal_report(const cli_session *session, const cli_reply *reply) {
    assert(reply->http_status != 200);
    if (session->json) {
        cli_reply_json_print(reply);
        return CLI_EXIT_REFUSED;
    }
    if (reply->error == NULL) {
        cli_reply_unknown_report(reply);
        return CLI_EXIT_REFUSED;
    }
    const char *code = cli_reply_error_field(reply, "code");
    const char *message = cli_reply_error_field(reply, "msg");
    fprintf(stderr, "error: %s: %s\n", code ? code : "unknown", message ? message : "");
    json_t *meta = json_object_get(reply->error, "meta");
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach(meta, key, value) {
        if (json_is_string(value)) fprintf(stderr, "  %s: %s\n", key, json_string_value(value));
    }
    const char *field = json_string_value(json_object_get(meta, "field"));
    if (session->date_defaulted && field != NULL && strcmp(field, "effective_date") == 0) {
        fprintf(stderr, "  hint: no --date was given, so today was used; give --date "
                        "YYYY-MM-DD inside the financial year\n");
    }
    return CLI_EXIT_REFUSED;
}

void cli_reply_release(cli_reply *reply) {
    if (reply->message != NULL) protobuf_c_message_free_unpacked(reply->message, NULL);
    json_decref(reply->error);
    memset(reply, 0, sizeof *reply);
}
