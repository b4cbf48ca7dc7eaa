/* Writes the fundflow client's values out for people, and makes the values it sends unasked:
 * today's date and an idempotency key derived from the command's content. */
#include "cli_values.h"

#include <assert.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"

/* Months in a financial year, and basis points in one per cent. */
#define CLI_MONTHS_PER_YEAR 12u
#define CLI_BASIS_POINTS_PER_PERCENT 100u

/* The bytes of the content's SHA-256 a derived idempotency key keeps: 128 bits, as the UUIDs
 * clients often use, so two different commands share a key only by a collision no one will see. */
#define CLI_KEY_DIGEST_BYTES 16

/* What a derived key starts with, telling it apart from a key a client chose. */
#define CLI_KEY_PREFIX "cli-"

/* What the digest starts with: naming the recipe lets a later recipe never meet this one's keys. */
#define CLI_KEY_RECIPE "fundflow cli idempotency key v1"

static const char cli_hex_digits[] = "0123456789abcdef";

char *cli_text_or_empty(const char *text) { return (char *)(text ? text : ""); }

uint32_t cli_date_today(void) {
    time_t now = time(NULL);
    struct tm local;
    if (localtime_r(&now, &local) == NULL) return 0;
    uint32_t date = (uint32_t)(local.tm_year + 1900) * 10000u +
                    (uint32_t)(local.tm_mon + 1) * 100u + (uint32_t)local.tm_mday;
    assert(calendar_date_valid(date));
    return date;
}

/* A ProtobufCBuffer that feeds what is packed into it to a digest, so the event is never held
 * whole. */
typedef struct cli_digest_buffer {
    ProtobufCBuffer base;
    EVP_MD_CTX *context;
    bool ok;
} cli_digest_buffer;

static void cli_digest_buffer_append(ProtobufCBuffer *buffer, size_t length,
                                     const uint8_t *data) {
    cli_digest_buffer *digest = (cli_digest_buffer *)buffer;
    if (digest->ok && length > 0) digest->ok = EVP_DigestUpdate(digest->context, data, length) == 1;
}

/* Feeds the recipe, the subcommand, the date and the packed event into context. protobuf-c packs
 * fields in field-number order and leaves out fields at their defaults, so one event always
 * packs to the same bytes. */
static bool cli_key_content_digest(EVP_MD_CTX *context, const char *subcommand,
                                   uint32_t effective_date, const ProtobufCMessage *event,
                                   uint8_t digest[EVP_MAX_MD_SIZE]) {
    char date[16];
    int date_bytes = snprintf(date, sizeof date, "%08u", effective_date);
    assert(date_bytes > 0 && (size_t)date_bytes < sizeof date);
    /* Each text goes in with its NUL, so that no two splits of one string digest alike. */
    bool ok = EVP_DigestInit_ex(context, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(context, CLI_KEY_RECIPE, sizeof CLI_KEY_RECIPE) == 1 &&
              EVP_DigestUpdate(context, subcommand, strlen(subcommand) + 1) == 1 &&
              EVP_DigestUpdate(context, date, (size_t)date_bytes + 1) == 1;
    cli_digest_buffer buffer = {{cli_digest_buffer_append}, context, ok};
    if (ok) protobuf_c_message_pack_to_buffer(event, &buffer.base);
    unsigned int digest_bytes = 0;
    return buffer.ok && EVP_DigestFinal_ex(context, digest, &digest_bytes) == 1 &&
           digest_bytes >= CLI_KEY_DIGEST_BYTES;
}

bool cli_key_derive(const char *subcommand, uint32_t effective_date,
                    const ProtobufCMessage *event, char *key, size_t key_bytes) {
    assert(subcommand != NULL && event != NULL);
    assert(key_bytes >= CLI_KEY_TEXT_BYTES);
    _Static_assert(sizeof CLI_KEY_PREFIX - 1 + 2 * CLI_KEY_DIGEST_BYTES + 1 == CLI_KEY_TEXT_BYTES,
                   "a derived key is the prefix, the digest's bytes in hex and a NUL");
    _Static_assert(CLI_KEY_TEXT_BYTES - 1 <= FF_IDEMPOTENCY_KEY_BYTES_MAX,
                   "the server takes a derived key");
    uint8_t digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    bool ok = context != NULL &&
              cli_key_content_digest(context, subcommand, effective_date, event, digest);
    EVP_MD_CTX_free(context);
    if (!ok) {
        fprintf(stderr, CLI_PROGRAM ": cannot make an idempotency key from the command; "
                                    "pass one with --key\n");
        return false;
    }
    memcpy(key, CLI_KEY_PREFIX, sizeof CLI_KEY_PREFIX - 1);
    cli_hex_text(digest, CLI_KEY_DIGEST_BYTES, key + sizeof CLI_KEY_PREFIX - 1,
                 key_bytes - (sizeof CLI_KEY_PREFIX - 1));
    return true;
}

const char *cli_enum_text(const ProtobufCEnumDescriptor *descriptor, int value, char *buffer,
                          size_t buffer_bytes) {
    assert(buffer_bytes > 0);
    const ProtobufCEnumValue *found = protobuf_c_enum_descriptor_get_value(descriptor, value);
    if (found == NULL) {
        snprintf(buffer, buffer_bytes, "%d", value);
        return buffer;
    }
    size_t i = 0;
    for (; found->name[i] != '\0' && i + 1 < buffer_bytes; i++) {
        buffer[i] = (char)tolower((unsigned char)found->name[i]);
    }
    buffer[i] = '\0';
    return buffer;
}

const char *cli_date_text(uint32_t date, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    if (date == 0) snprintf(buffer, buffer_bytes, "-");
    else if (!calendar_date_valid(date)) snprintf(buffer, buffer_bytes, "%u", date);
    else calendar_date_format(date, buffer, buffer_bytes);
    return buffer;
}

const char *cli_year_text(uint32_t start_year, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    if (start_year < 1900 || start_year > 9999) snprintf(buffer, buffer_bytes, "%u", start_year);
    else calendar_year_format(start_year, buffer, buffer_bytes);
    return buffer;
}

const char *cli_basis_points_text(uint32_t basis_points, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes >= 16);
    snprintf(buffer, buffer_bytes, "%u.%02u%%", basis_points / CLI_BASIS_POINTS_PER_PERCENT,
             basis_points % CLI_BASIS_POINTS_PER_PERCENT);
    return buffer;
}

const char *cli_month_name(uint32_t month) {
    static const char *const names[CLI_MONTHS_PER_YEAR] = {
        "April",   "May",      "June",     "July",    "August",   "September",
        "October", "November", "December", "January", "February", "March"};
    return month >= 1 && month <= CLI_MONTHS_PER_YEAR ? names[month - 1] : "?";
}

const char *cli_hex_text(const uint8_t *bytes, size_t count, char *buffer, size_t buffer_bytes) {
    assert(buffer_bytes > 0);
    size_t i = 0;
    for (; i < count && 2 * i + 2 < buffer_bytes; i++) {
        buffer[2 * i] = cli_hex_digits[bytes[i] >> 4];
        buffer[2 * i + 1] = cli_hex_digits[bytes[i] & 0x0F];
    }
    buffer[2 * i] = '\0';
    return buffer;
}

const char *cli_time_text(int64_t time_us, char *buffer, size_t buffer_bytes) {
    time_t seconds = (time_t)(time_us / 1000000);
    struct tm utc;
    if (gmtime_r(&seconds, &utc) == NULL ||
        strftime(buffer, buffer_bytes, "%Y-%m-%d %H:%M:%S UTC", &utc) == 0) {
        snprintf(buffer, buffer_bytes, "%lld us", (long long)time_us);
    }
    return buffer;
}
