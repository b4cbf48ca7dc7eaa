/* The proto3 JSON codec: walks protobuf-c descriptors to turn any message into JSON and back. */
#include "json_codec.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Room for a formatted error before it is copied, cut to fit, into the caller's buffer. */
#define JSON_CODEC_ERROR_TEXT_BYTES (JSON_CODEC_PATH_BYTES_MAX + 512)

/* The decimal text of any 64-bit integer, with its sign and terminator. */
#define JSON_CODEC_INTEGER_TEXT_BYTES 24

/* U+FFFD REPLACEMENT CHARACTER, written in place of each byte of a string that is not UTF-8. */
static const char json_codec_replacement_character[] = "\xEF\xBF\xBD";

/* ---- Shared helpers ---- */

/* The length of the UTF-8 sequence at text, which has available bytes, or 0 if there is no
 * valid sequence there. Overlong forms, surrogates and code points past U+10FFFF are invalid,
 * as they are to jansson, so that whatever passes here jansson will also write. */
static size_t utf8_sequence_bytes(const unsigned char *text, size_t available) {
    assert(available > 0);
    unsigned char lead = text[0];
    if (lead < 0x80) return 1;
    size_t bytes = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (bytes == 0 || bytes > available || lead < 0xC2 || lead > 0xF4) return 0;
    for (size_t i = 1; i < bytes; i++) {
        if ((text[i] & 0xC0) != 0x80) return 0;
    }
    if (lead == 0xE0 && text[1] < 0xA0) return 0;
    if (lead == 0xED && text[1] >= 0xA0) return 0;
    if (lead == 0xF0 && text[1] < 0x90) return 0;
    if (lead == 0xF4 && text[1] >= 0x90) return 0;
    return bytes;
}

/* The bytes one element of a field of this type takes inside a message or a repeated array. */
static size_t field_element_bytes(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    /* protobuf-c forces every generated enum to the size of an int. */
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    assert(false && "a field descriptor has an unknown type");
    return 0;
}

/* The .proto spelling of a field's type, for error messages. */
static const char *field_type_name(ProtobufCType type) {
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
        [PROTOBUF_C_TYPE_MESSAGE] = "message",
    };
    assert((size_t)type < sizeof(names) / sizeof(names[0]) && names[type] != NULL);
    return names[type];
}

/* Builds the lowerCamelCase JSON name protoc derives from a .proto field name: each underscore is
 * dropped and the letter after it upper-cased. protobuf-c 1.4 keeps no json_name, so the codec
 * derives it the same way protoc does for fields without a json_name option. */
static void field_json_name_build(const char *name, char json_name[JSON_CODEC_FIELD_NAME_BYTES_MAX]) {
    size_t name_length = strlen(name);
    assert(name_length < JSON_CODEC_FIELD_NAME_BYTES_MAX);
    size_t written = 0;
    bool capitalise_next = false;
    for (size_t i = 0; i < name_length; i++) {
        char c = name[i];
        if (c == '_') {
            capitalise_next = true;
            continue;
        }
        if (capitalise_next && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        capitalise_next = false;
        json_name[written++] = c;
    }
    json_name[written] = '\0';
    assert(written <= name_length);
}

static void *message_member(ProtobufCMessage *message, unsigned offset) {
    return (char *)message + offset;
}

static const void *message_member_const(const ProtobufCMessage *message, unsigned offset) {
    return (const char *)message + offset;
}

/* ---- Base64 ---- */

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The six-bit value of a base64 digit from either the standard or the URL-safe alphabet, or -1. */
static int base64_digit_value(char digit) {
    if (digit >= 'A' && digit <= 'Z') return digit - 'A';
    if (digit >= 'a' && digit <= 'z') return digit - 'a' + 26;
    if (digit >= '0' && digit <= '9') return digit - '0' + 52;
    if (digit == '+' || digit == '-') return 62;
    if (digit == '/' || digit == '_') return 63;
    return -1;
}

/* Writes size bytes as padded standard base64 into a new JSON string, or returns NULL when out of
 * memory. */
static json_t *base64_encode(const uint8_t *data, size_t size) {
    assert(data != NULL || size == 0);
    assert(size < SIZE_MAX / 2);
    size_t text_length = (size + 2) / 3 * 4;
    char *text = malloc(text_length + 1);
    if (text == NULL) return NULL;
    size_t written = 0;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t group = (uint32_t)data[i] << 16;
        if (i + 1 < size) group |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < size) group |= data[i + 2];
        text[written++] = base64_alphabet[(group >> 18) & 0x3F];
        text[written++] = base64_alphabet[(group >> 12) & 0x3F];
        text[written++] = i + 1 < size ? base64_alphabet[(group >> 6) & 0x3F] : '=';
        text[written++] = i + 2 < size ? base64_alphabet[group & 0x3F] : '=';
    }
    assert(written == text_length);
    json_t *string = json_stringn_nocheck(text, text_length);
    free(text);
    return string;
}

/* Reads standard or URL-safe base64, padded or not, into a malloc'd buffer; empty input gives
 * NULL and 0, as protobuf-c's unpacker leaves empty bytes. Returns FF_ERR_MALFORMED for text that
 * is not base64, including bits left over at the end that are not zero, so that each byte string
 * has one spelling per alphabet. */
static ff_err base64_decode(const char *text, size_t length, ProtobufCBinaryData *out) {
    size_t padding = 0;
    while (padding < 2 && length > 0 && text[length - 1] == '=') {
        length--;
        padding++;
    }
    size_t remainder = length % 4;
    if (remainder == 1) return FF_ERR_MALFORMED;
    if (padding > 0 && remainder + padding != 4) return FF_ERR_MALFORMED;
    size_t size = length / 4 * 3 + (remainder == 0 ? 0 : remainder - 1);
    uint8_t *data = NULL;
    if (size > 0) {
        data = malloc(size);
        if (data == NULL) return FF_ERR_NO_MEMORY;
    }
    uint32_t bits = 0;
    unsigned bit_count = 0;
    size_t written = 0;
    for (size_t i = 0; i < length; i++) {
        int value = base64_digit_value(text[i]);
        if (value < 0) goto fail;
        bits = (bits << 6) | (uint32_t)value;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            data[written++] = (uint8_t)(bits >> bit_count);
            bits &= (1u << bit_count) - 1;
        }
    }
    if (bits != 0) goto fail;
    assert(written == size);
    out->data = data;
    out->len = size;
    return FF_OK;
fail:
    free(data);
    return FF_ERR_MALFORMED;
}

/* ---- Encoding ---- */

static ff_err encode_message(const ProtobufCMessage *message, size_t depth, json_t **out);

/* A JSON string holding text, with any byte that is not part of valid UTF-8 replaced by U+FFFD. */
static json_t *encode_text(const char *text) {
    if (text == NULL) text = "";
    const unsigned char *bytes = (const unsigned char *)text;
    size_t length = strlen(text);
    size_t valid = 0;
    while (valid < length) {
        size_t sequence = utf8_sequence_bytes(bytes + valid, length - valid);
        if (sequence == 0) break;
        valid += sequence;
    }
    if (valid == length) return json_stringn_nocheck(text, length);

    /* Each bad byte grows to the three bytes of U+FFFD at most. */
    char *repaired = malloc(length * 3 + 1);
    if (repaired == NULL) return NULL;
    size_t written = 0;
    for (size_t i = 0; i < length;) {
        size_t sequence = utf8_sequence_bytes(bytes + i, length - i);
        if (sequence == 0) {
            memcpy(repaired + written, json_codec_replacement_character, 3);
            written += 3;
            i++;
        } else {
            memcpy(repaired + written, text + i, sequence);
            written += sequence;
            i += sequence;
        }
    }
    assert(written <= length * 3);
    json_t *string = json_stringn_nocheck(repaired, written);
    free(repaired);
    return string;
}

/* A float or double as a JSON number, or as the string proto3 JSON uses where JSON has none. */
static json_t *encode_floating(double value) {
    if (isnan(value)) return json_string_nocheck("NaN");
    if (isinf(value)) return json_string_nocheck(value > 0 ? "Infinity" : "-Infinity");
    return json_real(value);
}

static json_t *encode_enum(const ProtobufCFieldDescriptor *field, int value) {
    const ProtobufCEnumDescriptor *enum_descriptor = field->descriptor;
    assert(enum_descriptor != NULL);
    for (unsigned i = 0; i < enum_descriptor->n_values; i++) {
        if (enum_descriptor->values[i].value == value) {
            return json_string(enum_descriptor->values[i].name);
        }
    }
    /* proto3 enums are open, so a number the descriptor does not name is still written. */
    return json_integer(value);
}

/* Encodes one value of field, stored at member, into *out. */
static ff_err encode_value(const ProtobufCFieldDescriptor *field, const void *member, size_t depth,
                           json_t **out) {
    char number[JSON_CODEC_INTEGER_TEXT_BYTES];
    json_t *value = NULL;
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: value = json_integer(*(const int32_t *)member); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: value = json_integer(*(const uint32_t *)member); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(number, sizeof number, "%" PRId64, *(const int64_t *)member);
        value = json_string_nocheck(number);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(number, sizeof number, "%" PRIu64, *(const uint64_t *)member);
        value = json_string_nocheck(number);
        break;
    case PROTOBUF_C_TYPE_FLOAT: value = encode_floating(*(const float *)member); break;
    case PROTOBUF_C_TYPE_DOUBLE: value = encode_floating(*(const double *)member); break;
    case PROTOBUF_C_TYPE_BOOL: value = json_boolean(*(const protobuf_c_boolean *)member); break;
    case PROTOBUF_C_TYPE_ENUM: value = encode_enum(field, *(const int *)member); break;
    case PROTOBUF_C_TYPE_STRING: value = encode_text(*(char *const *)member); break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *data = member;
        value = base64_encode(data->data, data->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub_message = *(ProtobufCMessage *const *)member;
        assert(sub_message != NULL);
        return encode_message(sub_message, depth, out);
    }
    }
    if (value == NULL) return FF_ERR_NO_MEMORY;
    *out = value;
    return FF_OK;
}

/* Encodes a repeated field as an array, one level deeper than the message holding it. */
static ff_err encode_repeated(const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field,
                              size_t depth, json_t **out) {
    assert(field->label == PROTOBUF_C_LABEL_REPEATED);
    if (depth > JSON_CODEC_DEPTH_MAX) return FF_ERR_MALFORMED;
    size_t count = *(const size_t *)message_member_const(message, field->quantifier_offset);
    const char *elements = *(char *const *)message_member_const(message, field->offset);
    assert(elements != NULL || count == 0);
    size_t element_bytes = field_element_bytes(field->type);
    json_t *array = json_array();
    if (array == NULL) return FF_ERR_NO_MEMORY;
    ff_err rc = FF_OK;
    for (size_t i = 0; i < count; i++) {
        json_t *element = NULL;
        rc = encode_value(field, elements + i * element_bytes, depth + 1, &element);
        if (rc != FF_OK) goto fail;
        if (json_array_append_new(array, element) != 0) {
            rc = FF_ERR_NO_MEMORY;
            goto fail;
        }
    }
    *out = array;
    return FF_OK;
fail:
    json_decref(array);
    return rc;
}

/* Whether a field appears in the output: scalars always do, as Twirp clients expect to see zero
 * values, while an unset sub-message, oneof or proto2-style optional field does not. */
static bool encode_field_present(const ProtobufCMessage *message,
                                 const ProtobufCFieldDescriptor *field) {
    const void *member = message_member_const(message, field->offset);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t selected = *(const uint32_t *)message_member_const(message, field->quantifier_offset);
        if (selected != field->id) return false;
    }
    if (field->label == PROTOBUF_C_LABEL_REPEATED) return true;
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) return *(ProtobufCMessage *const *)member != NULL;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) return true;
    if (field->label != PROTOBUF_C_LABEL_OPTIONAL) return true;
    if (field->type == PROTOBUF_C_TYPE_STRING) return *(char *const *)member != NULL;
    return *(const protobuf_c_boolean *)message_member_const(message, field->quantifier_offset);
}

static ff_err encode_message(const ProtobufCMessage *message, size_t depth, json_t **out) {
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    assert(descriptor != NULL && descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    if (depth > JSON_CODEC_DEPTH_MAX) return FF_ERR_MALFORMED;
    json_t *object = json_object();
    if (object == NULL) return FF_ERR_NO_MEMORY;
    ff_err rc = FF_OK;
    for (unsigned i = 0; i < descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
        if (!encode_field_present(message, field)) continue;
        json_t *value = NULL;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = encode_repeated(message, field, depth + 1, &value);
        } else {
            rc = encode_value(field, message_member_const(message, field->offset), depth + 1, &value);
        }
        if (rc != FF_OK) goto fail;
        /* json_object_set_new releases value itself when it fails. */
        if (json_object_set_new_nocheck(object, field->name, value) != 0) {
            rc = FF_ERR_NO_MEMORY;
            goto fail;
        }
    }
    *out = object;
    return FF_OK;
fail:
    json_decref(object);
    return rc;
}

ff_err json_codec_encode(const ProtobufCMessage *message, char **text_out, size_t *length_out) {
    assert(message != NULL && text_out != NULL && length_out != NULL);
    assert(message->descriptor != NULL);
    *text_out = NULL;
    *length_out = 0;
    json_t *document = NULL;
    ff_err rc = encode_message(message, 1, &document);
    if (rc != FF_OK) return rc;
    /* Insertion order is .proto order; the flag keeps it on jansson versions that sort. */
    char *text = json_dumps(document, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(document);
    if (text == NULL) return FF_ERR_NO_MEMORY;
    *text_out = text;
    *length_out = strlen(text);
    return FF_OK;
}

/* ---- Decoding ---- */

/* Where the decoder is in the document, and where its one error sentence goes. */
typedef struct json_codec_decoder {
    char path[JSON_CODEC_PATH_BYTES_MAX];
    size_t path_length;
    char *error;
    size_t error_bytes;
} json_codec_decoder;

/* Copies text into the caller's error buffer whole characters at a time, so that a message cut
 * short is still UTF-8, and turns control characters and stray bytes (which jansson's own parse
 * errors can quote from the input) into '?'. */
static void decoder_error_store(json_codec_decoder *decoder, const char *text) {
    if (decoder->error_bytes == 0) return;
    const unsigned char *bytes = (const unsigned char *)text;
    size_t length = strlen(text);
    size_t written = 0;
    for (size_t i = 0; i < length;) {
        size_t sequence = utf8_sequence_bytes(bytes + i, length - i);
        bool replace = sequence == 0 || bytes[i] < 0x20 || bytes[i] == 0x7F;
        size_t output_bytes = replace ? 1 : sequence;
        if (written + output_bytes >= decoder->error_bytes) break;
        if (replace) {
            decoder->error[written] = '?';
        } else {
            memcpy(decoder->error + written, text + i, sequence);
        }
        written += output_bytes;
        i += replace ? 1 : sequence;
    }
    decoder->error[written] = '\0';
    assert(written < decoder->error_bytes);
}

/* Records "path: sentence" and returns FF_ERR_MALFORMED, so a check can end with
 * `return decoder_fail(...)`. */
static ff_err decoder_fail(json_codec_decoder *decoder, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static ff_err decoder_fail(json_codec_decoder *decoder, const char *format, ...) {
    char text[JSON_CODEC_ERROR_TEXT_BYTES];
    int prefix = 0;
    if (decoder->path_length > 0) {
        prefix = snprintf(text, sizeof text, "%s: ", decoder->path);
        if (prefix < 0 || (size_t)prefix >= sizeof text) prefix = 0;
    }
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text + prefix, sizeof text - (size_t)prefix, format, arguments);
    va_end(arguments);
    decoder_error_store(decoder, text);
    return FF_ERR_MALFORMED;
}

static ff_err decoder_no_memory(json_codec_decoder *decoder) {
    char text[JSON_CODEC_ERROR_TEXT_BYTES];
    snprintf(text, sizeof text, "out of memory while decoding %s",
             decoder->path_length > 0 ? decoder->path : "the request");
    decoder_error_store(decoder, text);
    return FF_ERR_NO_MEMORY;
}

/* Appends to the path, cutting it short if it is full, and returns the length to restore with
 * decoder_path_pop. */
static size_t decoder_path_push_name(json_codec_decoder *decoder, const char *name) {
    size_t saved = decoder->path_length;
    size_t room = sizeof decoder->path - saved;
    int written = snprintf(decoder->path + saved, room, "%s%s", saved > 0 ? "." : "", name);
    if (written > 0) decoder->path_length += (size_t)written < room ? (size_t)written : room - 1;
    assert(decoder->path_length < sizeof decoder->path);
    return saved;
}

static size_t decoder_path_push_index(json_codec_decoder *decoder, size_t index) {
    size_t saved = decoder->path_length;
    size_t room = sizeof decoder->path - saved;
    int written = snprintf(decoder->path + saved, room, "[%zu]", index);
    if (written > 0) decoder->path_length += (size_t)written < room ? (size_t)written : room - 1;
    assert(decoder->path_length < sizeof decoder->path);
    return saved;
}

static void decoder_path_pop(json_codec_decoder *decoder, size_t saved) {
    assert(saved <= decoder->path_length);
    decoder->path_length = saved;
    decoder->path[saved] = '\0';
}

/* "a string", "an array" and so on, for sentences saying what was given instead. */
static const char *json_kind_phrase(const json_t *value) {
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or exponent";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "an unknown JSON value";
}

/* Quotes a string or number as JSON for an error sentence, cut at a character boundary to
 * JSON_CODEC_ERROR_VALUE_BYTES_MAX. Anything else is described by its kind. */
static void json_value_quote(const json_t *value, char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX]) {
    char *dumped = NULL;
    if (json_is_string(value) || json_is_number(value)) {
        dumped = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    }
    if (dumped == NULL) {
        snprintf(quoted, JSON_CODEC_ERROR_VALUE_BYTES_MAX, "%s", json_kind_phrase(value));
        return;
    }
    size_t length = strlen(dumped);
    if (length < JSON_CODEC_ERROR_VALUE_BYTES_MAX) {
        memcpy(quoted, dumped, length + 1);
    } else {
        /* Leave room for "..." and stop before a UTF-8 continuation byte. */
        size_t keep = JSON_CODEC_ERROR_VALUE_BYTES_MAX - 4;
        while (keep > 0 && ((unsigned char)dumped[keep] & 0xC0) == 0x80) keep--;
        memcpy(quoted, dumped, keep);
        memcpy(quoted + keep, "...", 4);
    }
    free(dumped);
}

/* Refuses every object or array nested deeper than JSON_CODEC_DEPTH_MAX, known field or not, so
 * that the walks that follow stay bounded. value sits at depth, the top-level object being 1. */
static ff_err decoder_depth_check(json_codec_decoder *decoder, json_t *value, size_t depth) {
    if (!json_is_object(value) && !json_is_array(value)) return FF_OK;
    if (depth > JSON_CODEC_DEPTH_MAX) {
        return decoder_fail(decoder, "the JSON nests deeper than %d levels",
                            (int)JSON_CODEC_DEPTH_MAX);
    }
    ff_err rc = FF_OK;
    if (json_is_object(value)) {
        const char *key;
        json_t *child;
        json_object_foreach(value, key, child) {
            size_t saved = decoder_path_push_name(decoder, key);
            rc = decoder_depth_check(decoder, child, depth + 1);
            if (rc != FF_OK) return rc;
            decoder_path_pop(decoder, saved);
        }
        return FF_OK;
    }
    size_t index;
    json_t *child;
    json_array_foreach(value, index, child) {
        size_t saved = decoder_path_push_index(decoder, index);
        rc = decoder_depth_check(decoder, child, depth + 1);
        if (rc != FF_OK) return rc;
        decoder_path_pop(decoder, saved);
    }
    return FF_OK;
}

/* An integer read from JSON, kept as sign and magnitude until its field's range is known. */
typedef struct json_codec_integer {
    bool negative;
    uint64_t magnitude;
} json_codec_integer;

typedef enum integer_text_result {
    INTEGER_TEXT_VALID,
    INTEGER_TEXT_NOT_INTEGER,
    INTEGER_TEXT_OUT_OF_RANGE,
} integer_text_result;

/* Reads a decimal integer string exactly as JSON would write the number: an optional '-', then
 * digits with no leading zero; no '+', spaces, fraction or exponent. */
static integer_text_result integer_text_parse(const char *text, size_t length,
                                              json_codec_integer *out) {
    size_t i = 0;
    out->negative = length > 0 && text[0] == '-';
    if (out->negative) i++;
    if (i == length) return INTEGER_TEXT_NOT_INTEGER;
    if (text[i] == '0' && length - i > 1) return INTEGER_TEXT_NOT_INTEGER;
    uint64_t magnitude = 0;
    bool overflow = false;
    for (; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') return INTEGER_TEXT_NOT_INTEGER;
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) overflow = true;
        magnitude = magnitude * 10 + digit;
    }
    out->magnitude = magnitude;
    return overflow ? INTEGER_TEXT_OUT_OF_RANGE : INTEGER_TEXT_VALID;
}

/* Reads an integer field's value from a JSON integer or a string of digits, without yet
 * checking it against the field's range. */
static ff_err decode_integer_read(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                                  const json_t *value, json_codec_integer *out) {
    char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
    if (json_is_integer(value)) {
        json_int_t number = json_integer_value(value);
        out->negative = number < 0;
        /* Negate through unsigned arithmetic so that the most negative number cannot overflow. */
        out->magnitude = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
        return FF_OK;
    }
    if (json_is_string(value)) {
        integer_text_result result =
            integer_text_parse(json_string_value(value), json_string_length(value), out);
        if (result == INTEGER_TEXT_VALID) return FF_OK;
        json_value_quote(value, quoted);
        if (result == INTEGER_TEXT_OUT_OF_RANGE) {
            return decoder_fail(decoder, "%s is out of range for %s", quoted,
                                field_type_name(field->type));
        }
        return decoder_fail(decoder, "%s is not an integer", quoted);
    }
    if (json_is_real(value)) {
        json_value_quote(value, quoted);
        return decoder_fail(decoder, "%s is not an integer", quoted);
    }
    return decoder_fail(decoder, "expected an integer, given %s", json_kind_phrase(value));
}

/* Reads any of the ten integer types, checks its range and stores it at member. */
static ff_err decode_integer(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                             const json_t *value, void *member) {
    json_codec_integer integer = {.negative = false, .magnitude = 0};
    ff_err rc = decode_integer_read(decoder, field, value, &integer);
    if (rc != FF_OK) return rc;
    bool is_signed = true;
    uint64_t positive_max = INT32_MAX;
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: positive_max = INT64_MAX; break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: is_signed = false; positive_max = UINT32_MAX; break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: is_signed = false; positive_max = UINT64_MAX; break;
    default: break;
    }
    /* A two's complement type reaches one further below zero than above it. */
    uint64_t negative_max = is_signed ? positive_max + 1 : 0;
    if (integer.magnitude > (integer.negative ? negative_max : positive_max)) {
        char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
        json_value_quote(value, quoted);
        return decoder_fail(decoder, "%s is out of range for %s", quoted,
                            field_type_name(field->type));
    }
    int64_t signed_value = 0;
    if (integer.negative && integer.magnitude > 0) {
        signed_value = -(int64_t)(integer.magnitude - 1) - 1;
    } else {
        signed_value = (int64_t)integer.magnitude;
    }
    switch (field_element_bytes(field->type)) {
    case sizeof(uint32_t):
        if (is_signed) {
            *(int32_t *)member = (int32_t)signed_value;
        } else {
            *(uint32_t *)member = (uint32_t)integer.magnitude;
        }
        break;
    case sizeof(uint64_t):
        if (is_signed) {
            *(int64_t *)member = signed_value;
        } else {
            *(uint64_t *)member = integer.magnitude;
        }
        break;
    default: assert(false && "an integer field is neither 32 nor 64 bits wide");
    }
    return FF_OK;
}

/* Reads a float or double from a JSON number or one of proto3's names for the values JSON
 * cannot write. */
static ff_err decode_floating(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                              const json_t *value, void *member) {
    double number = 0;
    if (json_is_number(value)) {
        number = json_number_value(value);
    } else if (json_is_string(value) && strcmp(json_string_value(value), "NaN") == 0) {
        number = NAN;
    } else if (json_is_string(value) && strcmp(json_string_value(value), "Infinity") == 0) {
        number = INFINITY;
    } else if (json_is_string(value) && strcmp(json_string_value(value), "-Infinity") == 0) {
        number = -INFINITY;
    } else {
        char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
        json_value_quote(value, quoted);
        return decoder_fail(decoder, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", "
                                     "given %s", quoted);
    }
    if (field->type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *)member = number;
        return FF_OK;
    }
    assert(field->type == PROTOBUF_C_TYPE_FLOAT);
    if (isfinite(number) && fabs(number) > FLT_MAX) {
        char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
        json_value_quote(value, quoted);
        return decoder_fail(decoder, "%s is out of range for float", quoted);
    }
    *(float *)member = (float)number;
    return FF_OK;
}

/* Reads an enum from one of its value names or from a number that one of its values has. */
static ff_err decode_enum(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                          const json_t *value, void *member) {
    const ProtobufCEnumDescriptor *enum_descriptor = field->descriptor;
    assert(enum_descriptor != NULL && enum_descriptor->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
    char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
    if (json_is_string(value)) {
        const char *name = json_string_value(value);
        for (unsigned i = 0; i < enum_descriptor->n_values; i++) {
            if (strcmp(enum_descriptor->values[i].name, name) == 0) {
                *(int *)member = enum_descriptor->values[i].value;
                return FF_OK;
            }
        }
    } else if (json_is_integer(value)) {
        json_int_t number = json_integer_value(value);
        bool fits_int = number >= INT32_MIN && number <= INT32_MAX;
        for (unsigned i = 0; fits_int && i < enum_descriptor->n_values; i++) {
            if (enum_descriptor->values[i].value == number) {
                *(int *)member = enum_descriptor->values[i].value;
                return FF_OK;
            }
        }
    } else {
        return decoder_fail(decoder, "expected the name or number of a %s value, given %s",
                            enum_descriptor->name, json_kind_phrase(value));
    }
    json_value_quote(value, quoted);
    return decoder_fail(decoder, "%s is not a value of %s", quoted, enum_descriptor->name);
}

static ff_err decode_string(json_codec_decoder *decoder, const json_t *value, char **member) {
    if (!json_is_string(value)) {
        return decoder_fail(decoder, "expected a string, given %s", json_kind_phrase(value));
    }
    /* jansson refuses \u0000 unless asked to allow it, so the text holds no NUL of its own. */
    size_t length = json_string_length(value);
    char *copy = malloc(length + 1);
    if (copy == NULL) return decoder_no_memory(decoder);
    memcpy(copy, json_string_value(value), length + 1);
    assert(copy[length] == '\0' && strlen(copy) == length);
    *member = copy;
    return FF_OK;
}

static ff_err decode_bytes(json_codec_decoder *decoder, const json_t *value,
                           ProtobufCBinaryData *member) {
    if (!json_is_string(value)) {
        return decoder_fail(decoder, "expected a base64 string, given %s", json_kind_phrase(value));
    }
    ff_err rc = base64_decode(json_string_value(value), json_string_length(value), member);
    if (rc == FF_ERR_NO_MEMORY) return decoder_no_memory(decoder);
    if (rc != FF_OK) {
        char quoted[JSON_CODEC_ERROR_VALUE_BYTES_MAX];
        json_value_quote(value, quoted);
        return decoder_fail(decoder, "%s is not base64", quoted);
    }
    return FF_OK;
}

static ff_err decode_message(json_codec_decoder *decoder,
                             const ProtobufCMessageDescriptor *descriptor, const json_t *object,
                             size_t depth, ProtobufCMessage **out);

/* Reads one value of field into member, writing member only on success so that a failure leaves
 * the message as protobuf_c_message_free_unpacked expects it. */
static ff_err decode_value(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                           const json_t *value, void *member, size_t depth) {
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return decode_integer(decoder, field, value, member);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: return decode_floating(decoder, field, value, member);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(value)) {
            return decoder_fail(decoder, "expected true or false, given %s", json_kind_phrase(value));
        }
        *(protobuf_c_boolean *)member = json_is_true(value);
        return FF_OK;
    case PROTOBUF_C_TYPE_ENUM: return decode_enum(decoder, field, value, member);
    case PROTOBUF_C_TYPE_STRING: return decode_string(decoder, value, member);
    case PROTOBUF_C_TYPE_BYTES: return decode_bytes(decoder, value, member);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_is_object(value)) {
            return decoder_fail(decoder, "expected an object, given %s", json_kind_phrase(value));
        }
        return decode_message(decoder, field->descriptor, value, depth, member);
    }
    assert(false && "a field descriptor has an unknown type");
    return decoder_fail(decoder, "has a type the codec does not know");
}

/* Reads an array into a new element array owned by message. The count grows only as each element
 * is complete, so that a failure part way through frees exactly what was made. */
static ff_err decode_repeated(json_codec_decoder *decoder, ProtobufCMessage *message,
                              const ProtobufCFieldDescriptor *field, const json_t *value,
                              size_t depth) {
    assert(field->label == PROTOBUF_C_LABEL_REPEATED);
    if (!json_is_array(value)) {
        return decoder_fail(decoder, "expected an array, given %s", json_kind_phrase(value));
    }
    size_t count = json_array_size(value);
    if (count > JSON_CODEC_REPEATED_COUNT_MAX) {
        return decoder_fail(decoder, "has %zu elements, more than the %u allowed", count,
                            (unsigned)JSON_CODEC_REPEATED_COUNT_MAX);
    }
    /* protobuf-c's unpacker leaves an empty repeated field with no array at all. */
    if (count == 0) return FF_OK;
    size_t element_bytes = field_element_bytes(field->type);
    char *elements = calloc(count, element_bytes);
    if (elements == NULL) return decoder_no_memory(decoder);
    size_t *decoded_count = message_member(message, field->quantifier_offset);
    assert(*decoded_count == 0);
    *(char **)message_member(message, field->offset) = elements;
    for (size_t i = 0; i < count; i++) {
        const json_t *element = json_array_get(value, i);
        size_t saved = decoder_path_push_index(decoder, i);
        ff_err rc = json_is_null(element)
                        ? decoder_fail(decoder, "null is not allowed in a repeated field")
                        : decode_value(decoder, field, element, elements + i * element_bytes,
                                       depth + 1);
        if (rc != FF_OK) return rc;
        decoder_path_pop(decoder, saved);
        (*decoded_count)++;
    }
    return FF_OK;
}

/* Reads one field that is present and not null into message. */
static ff_err decode_field(json_codec_decoder *decoder, ProtobufCMessage *message,
                           const ProtobufCFieldDescriptor *field, const json_t *value,
                           size_t depth) {
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        return decode_repeated(decoder, message, field, value, depth);
    }
    void *member = message_member(message, field->offset);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *selected = message_member(message, field->quantifier_offset);
        if (*selected != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(message->descriptor, *selected);
            assert(other != NULL);
            return decoder_fail(decoder, "cannot be set together with %s, which is in the same "
                                         "oneof", other->name);
        }
        ff_err rc = decode_value(decoder, field, value, member, depth);
        if (rc == FF_OK) *selected = field->id;
        return rc;
    }
    ff_err rc = decode_value(decoder, field, value, member, depth);
    /* proto2-style optional scalars, and proto3 `optional` ones, record their presence. */
    bool has_presence_flag = field->label == PROTOBUF_C_LABEL_OPTIONAL &&
                             field->type != PROTOBUF_C_TYPE_STRING &&
                             field->type != PROTOBUF_C_TYPE_MESSAGE;
    if (rc == FF_OK && has_presence_flag) {
        *(protobuf_c_boolean *)message_member(message, field->quantifier_offset) = 1;
    }
    return rc;
}

/* Finds field in object under its .proto name or its JSON name; *value_out is NULL when it is
 * under neither, and an error is returned when it is under both. */
static ff_err decode_field_find(json_codec_decoder *decoder, const ProtobufCFieldDescriptor *field,
                                const json_t *object, const json_t **value_out) {
    char json_name[JSON_CODEC_FIELD_NAME_BYTES_MAX];
    field_json_name_build(field->name, json_name);
    const json_t *by_name = json_object_get(object, field->name);
    const json_t *by_json_name =
        strcmp(json_name, field->name) != 0 ? json_object_get(object, json_name) : NULL;
    if (by_name != NULL && by_json_name != NULL) {
        size_t saved = decoder_path_push_name(decoder, field->name);
        ff_err rc = decoder_fail(decoder, "given twice, as \"%s\" and \"%s\"", field->name, json_name);
        decoder_path_pop(decoder, saved);
        return rc;
    }
    *value_out = by_name != NULL ? by_name : by_json_name;
    return FF_OK;
}

/* Builds a message from object as protobuf-c's unpacker would: system malloc, message_init for
 * the defaults, and every string, array and sub-message its own allocation. */
static ff_err decode_message(json_codec_decoder *decoder,
                             const ProtobufCMessageDescriptor *descriptor, const json_t *object,
                             size_t depth, ProtobufCMessage **out) {
    assert(descriptor != NULL && descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert(json_is_object(object) && depth <= JSON_CODEC_DEPTH_MAX);
    ProtobufCMessage *message = malloc(descriptor->sizeof_message);
    if (message == NULL) return decoder_no_memory(decoder);
    descriptor->message_init(message);
    ff_err rc = FF_OK;
    for (unsigned i = 0; i < descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
        const json_t *value = NULL;
        rc = decode_field_find(decoder, field, object, &value);
        if (rc != FF_OK) goto fail;
        /* null means the field is absent and keeps its default. */
        if (value == NULL || json_is_null(value)) continue;
        size_t saved = decoder_path_push_name(decoder, field->name);
        rc = decode_field(decoder, message, field, value, depth + 1);
        if (rc != FF_OK) goto fail;
        decoder_path_pop(decoder, saved);
    }
    *out = message;
    return FF_OK;
fail:
    protobuf_c_message_free_unpacked(message, NULL);
    return rc;
}

ff_err json_codec_decode(const ProtobufCMessageDescriptor *descriptor, const char *text,
                         size_t length, ProtobufCMessage **message_out, char *error,
                         size_t error_bytes) {
    assert(descriptor != NULL && descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert(message_out != NULL && (text != NULL || length == 0));
    assert(error != NULL || error_bytes == 0);
    *message_out = NULL;
    json_codec_decoder decoder = {.path = "", .path_length = 0, .error = error,
                                  .error_bytes = error_bytes};
    json_error_t json_error;
    /* JSON_DECODE_ANY lets a bare number or string through the parser so that the check below can
     * refuse it with a plainer sentence than jansson's. */
    json_t *document = json_loadb(text != NULL ? text : "", length,
                                  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &json_error);
    if (document == NULL) {
        /* jansson leaves the text empty in one case: when it cannot allocate its lexer. */
        if (json_error_code(&json_error) == json_error_out_of_memory ||
            json_error.text[0] == '\0') {
            return decoder_no_memory(&decoder);
        }
        return decoder_fail(&decoder, "the body is not valid JSON: %s at line %d, column %d",
                            json_error.text, json_error.line, json_error.column);
    }
    ProtobufCMessage *message = NULL;
    ff_err rc = FF_OK;
    if (!json_is_object(document)) {
        rc = decoder_fail(&decoder, "the body must be a JSON object, not %s",
                          json_kind_phrase(document));
        goto done;
    }
    rc = decoder_depth_check(&decoder, document, 1);
    if (rc != FF_OK) goto done;
    rc = decode_message(&decoder, descriptor, document, 1, &message);
    if (rc == FF_OK) *message_out = message;
done:
    json_decref(document);
    assert(rc == FF_OK || *message_out == NULL);
    return rc;
}
