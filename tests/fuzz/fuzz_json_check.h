/* What the JSON fuzz targets check of the codec (proto/json_codec.c) once a message exists,
 * whichever way it came: text that decodes re-encodes to text that decodes again to the same
 * message, and encodes again to the same text. */
#ifndef FUNDFLOW_FUZZ_JSON_CHECK_H
#define FUNDFLOW_FUZZ_JSON_CHECK_H

#include <protobuf-c/protobuf-c.h>

/* Room for any decode error, as a server would give it to a client. */
#define FUZZ_ERROR_BYTES 512

/* Encodes message, decodes the text, and asserts that the two messages pack to the same bytes
 * (when same_bytes: a message that came from JSON, so has no unknown fields and valid UTF-8) and
 * that the second encodes to the same text. */
void fuzz_json_round_trip(const ProtobufCMessage *message, int same_bytes);

#endif
