/* The Twirp v7 wire protocol's pieces: content types, HTTP statuses for error codes, error bodies,
 * and message encoding in protobuf or JSON. No sockets here: the server calls these. */
#ifndef FUNDFLOW_TWIRP_H
#define FUNDFLOW_TWIRP_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

typedef enum twirp_content {
    TWIRP_CONTENT_UNKNOWN,
    TWIRP_CONTENT_PROTOBUF,
    TWIRP_CONTENT_JSON,
} twirp_content;

/* A key and value for an error's meta object. Twirp meta values are strings. */
typedef struct twirp_meta {
    const char *key;
    const char *value;
} twirp_meta;

/* Recognises application/protobuf and application/json, ignoring parameters such as charset. */
twirp_content twirp_content_parse(const char *content_type);

/* The header value for a content type. */
const char *twirp_content_name(twirp_content content);

/* The HTTP status the Twirp spec gives an error code; 500 for codes it does not know. */
int twirp_http_status(const char *twirp_code);

/* {"code": ..., "msg": ..., "meta": {...}} as malloc'd text, or NULL if memory runs out. */
char *twirp_error_json(const char *twirp_code, const char *message, const twirp_meta *meta,
                       size_t meta_count);

/* Decodes a request body. On failure returns FF_ERR_MALFORMED with error saying why. */
ff_err twirp_message_decode(twirp_content content, const ProtobufCMessageDescriptor *descriptor,
                            const uint8_t *body, size_t body_bytes,
                            ProtobufCMessage **message_out, char *error, size_t error_bytes);

/* Encodes a reply; *bytes_out is malloc'd. */
ff_err twirp_message_encode(twirp_content content, const ProtobufCMessage *message,
                            uint8_t **bytes_out, size_t *bytes_count_out);

#endif
