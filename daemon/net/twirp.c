/* Twirp's content types, statuses and error bodies, and message encoding either way. */
#include "twirp.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_codec.h"

twirp_content twirp_content_parse(const char *content_type) {
    if (content_type == NULL) return TWIRP_CONTENT_UNKNOWN;
    size_t length = strcspn(content_type, ";");
    while (length > 0 && content_type[length - 1] == ' ') length--;
    if (length == strlen("application/protobuf") &&
        strncasecmp(content_type, "application/protobuf", length) == 0) {
        return TWIRP_CONTENT_PROTOBUF;
    }
    if (length == strlen("application/json") &&
        strncasecmp(content_type, "application/json", length) == 0) {
        return TWIRP_CONTENT_JSON;
    }
    return TWIRP_CONTENT_UNKNOWN;
}

const char *twirp_content_name(twirp_content content) {
    return content == TWIRP_CONTENT_PROTOBUF ? "application/protobuf" : "application/json";
}

static const struct {
    const char *code;
    int status;
} twirp_statuses[] = {
    {"canceled", 408},           {"unknown", 500},           {"invalid_argument", 400},
    {"malformed", 400},          {"deadline_exceeded", 408}, {"not_found", 404},
    {"bad_route", 404},          {"already_exists", 409},    {"permission_denied", 403},
    {"unauthenticated", 401},    {"resource_exhausted", 429}, {"failed_precondition", 412},
    {"aborted", 409},            {"out_of_range", 400},      {"unimplemented", 501},
    {"internal", 500},           {"unavailable", 503},       {"data_loss", 500},
};

int twirp_http_status(const char *twirp_code) {
    for (size_t i = 0; i < sizeof twirp_statuses / sizeof twirp_statuses[0]; i++) {
        if (strcmp(twirp_statuses[i].code, twirp_code) == 0) return twirp_statuses[i].status;
    }
    return 500;
}

char *twirp_error_json(const char *twirp_code, const char *message, const twirp_meta *meta,
                       size_t meta_count) {
    json_t *meta_object = json_object();
    for (size_t i = 0; meta_object != NULL && i < meta_count; i++) {
        json_object_set_new(meta_object, meta[i].key, json_string(meta[i].value));
    }
    json_t *error = json_pack("{s:s, s:s, s:o}", "code", twirp_code, "msg", message, "meta",
                              meta_object);
    char *text = error ? json_dumps(error, JSON_COMPACT) : NULL;
    json_decref(error);
    return text;
}

ff_err twirp_message_decode(twirp_content content, const ProtobufCMessageDescriptor *descriptor,
                            const uint8_t *body, size_t body_bytes,
                            ProtobufCMessage **message_out, char *error, size_t error_bytes) {
    *message_out = NULL;
    assert(descriptor != NULL && (body != NULL || body_bytes == 0));
    if (content == TWIRP_CONTENT_JSON) {
        ff_err err = json_codec_decode(descriptor, (const char *)body, body_bytes, message_out,
                                       error, error_bytes);
        /* Handlers cast what they are given to the method's request type. */
        assert(err != FF_OK || (*message_out)->descriptor == descriptor);
        return err;
    }
    *message_out = protobuf_c_message_unpack(descriptor, NULL, body_bytes, body);
    if (*message_out == NULL) {
        snprintf(error, error_bytes, "the body is not a valid protobuf %s", descriptor->name);
        return FF_ERR_MALFORMED;
    }
    assert((*message_out)->descriptor == descriptor);
    return FF_OK;
}

ff_err twirp_message_encode(twirp_content content, const ProtobufCMessage *message,
                            uint8_t **bytes_out, size_t *bytes_count_out) {
    if (content == TWIRP_CONTENT_JSON) {
        char *text = NULL;
        ff_err err = json_codec_encode(message, &text, bytes_count_out);
        *bytes_out = (uint8_t *)text;
        return err;
    }
    size_t packed_bytes = protobuf_c_message_get_packed_size(message);
    *bytes_out = malloc(packed_bytes ? packed_bytes : 1);
    if (*bytes_out == NULL) return FF_ERR_NO_MEMORY;
    *bytes_count_out = protobuf_c_message_pack(message, *bytes_out);
    assert(*bytes_count_out == packed_bytes);
    return FF_OK;
}
