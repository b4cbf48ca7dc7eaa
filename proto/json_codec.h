/* The proto3 JSON mapping for any protobuf-c message, driven by its descriptor, as Twirp's
 * application/json content type uses it.
 *
 * Writing uses the .proto field names, writes every scalar field even at its zero value, writes
 * 64-bit integers as strings, enums by name and bytes as padded standard base64, and leaves out
 * an unset sub-message or oneof. Reading accepts the .proto name or its lowerCamelCase form,
 * 64-bit integers as strings or numbers, enums by name or number, bytes in standard or URL-safe
 * base64 with or without padding, and null for "absent"; it ignores unknown fields and refuses
 * everything else with FF_ERR_MALFORMED and a sentence naming the JSON path of the field at fault.
 *
 * Both functions keep no state and may be called from any thread at once.
 */
#ifndef FUNDFLOW_JSON_CODEC_H
#define FUNDFLOW_JSON_CODEC_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "fundflow/error.h"

/* How deeply objects and arrays may nest in a document, counting the top-level object as one.
 * The deepest fundflow message (ListEventsResponse, events[], EventRecord, Event, AllocationIssued)
 * needs five; 32 leaves room for new messages while keeping every walk over a document, and every
 * recursion over a message, short and bounded. The limit applies to unknown fields too. */
#ifndef JSON_CODEC_DEPTH_MAX
#define JSON_CODEC_DEPTH_MAX 32
#endif

/* Elements in one repeated field of a decoded document. A request body is already bounded in
 * bytes by the server; this bounds the array each repeated field allocates whoever the caller is,
 * and sits far above FF_BATCH_COMMANDS_MAX so that the ledger, not the codec, refuses big batches. */
#ifndef JSON_CODEC_REPEATED_COUNT_MAX
#define JSON_CODEC_REPEATED_COUNT_MAX (1u << 20)
#endif

/* The JSON path quoted in a decode error, such as "commands[2].event.reversal.reason". Longer
 * paths are cut short; 256 bytes holds eight levels of long field names. */
#define JSON_CODEC_PATH_BYTES_MAX 256

/* How much of an offending value a decode error quotes, so that a huge string in a request
 * cannot crowd the path out of the message. */
#define JSON_CODEC_ERROR_VALUE_BYTES_MAX 48

/* The longest .proto field name the codec handles; protoc allows longer, but a name this long is
 * a mistake in the .proto, and the limit lets the lowerCamelCase form be built on the stack. */
#define JSON_CODEC_FIELD_NAME_BYTES_MAX 128

/* Writes message as compact JSON (no spaces or newlines), with fields in .proto order.
 *
 * On FF_OK, *text_out is a NUL-terminated UTF-8 string that the caller frees with free(), and
 * *length_out is its length without the terminator. A string field holding bytes that are not
 * UTF-8 is written with each bad byte replaced by U+FFFD, so that a response quoting a client's
 * bad text can still be sent. float and double fields are written as JSON numbers, and as the
 * strings "NaN", "Infinity" and "-Infinity" where JSON has no number for them.
 *
 * Errors: FF_ERR_NO_MEMORY; FF_ERR_MALFORMED if the message nests deeper than
 * JSON_CODEC_DEPTH_MAX, since the result could not be read back. On error *text_out is NULL and
 * *length_out is 0. */
ff_err json_codec_encode(const ProtobufCMessage *message, char **text_out, size_t *length_out);

/* Reads the JSON object in text[0..length) (which need not be NUL-terminated) as a message of the
 * type descriptor describes.
 *
 * On FF_OK, *message_out is a message allocated exactly as protobuf_c_message_unpack() would
 * allocate it, which the caller frees with protobuf_c_message_free_unpacked(message, NULL). Fields
 * that are absent or null keep their defaults.
 *
 * Errors: FF_ERR_MALFORMED for text that is not JSON, a top-level value that is not an object,
 * nesting deeper than JSON_CODEC_DEPTH_MAX, a field of the wrong JSON type or out of range, a
 * field given under both of its names, two members of one oneof, or more than
 * JSON_CODEC_REPEATED_COUNT_MAX elements in a repeated field; FF_ERR_NO_MEMORY. (jansson reports
 * some allocation failures inside its parser as syntax errors, so those come back as
 * FF_ERR_MALFORMED saying the body is not valid JSON.) On error
 * *message_out is NULL, nothing is left allocated, and, when error_bytes is not 0, error holds a
 * NUL-terminated UTF-8 sentence naming the JSON path at fault, such as
 * `commands[2].event.allocation_issued.amount_pence: "12x" is not an integer`. On FF_OK error is
 * left untouched. error may be NULL only when error_bytes is 0. */
ff_err json_codec_decode(const ProtobufCMessageDescriptor *descriptor, const char *text,
                         size_t length, ProtobufCMessage **message_out, char *error,
                         size_t error_bytes);

#endif
