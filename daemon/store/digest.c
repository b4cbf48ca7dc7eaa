/* SHA-256 through OpenSSL's EVP interface, and the digest of a command's content. */
#include "digest.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdlib.h>

ff_err digest_two_parts(const uint8_t *first, size_t first_bytes, const uint8_t *second,
                        size_t second_bytes, uint8_t digest_out[DIGEST_BYTES]) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) return FF_ERR_NO_MEMORY;
    unsigned digest_bytes = 0;
    int ok = EVP_DigestInit_ex(context, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(context, first, first_bytes) &&
             EVP_DigestUpdate(context, second, second_bytes) &&
             EVP_DigestFinal_ex(context, digest_out, &digest_bytes);
    EVP_MD_CTX_free(context);
    if (!ok) return FF_ERR_INTERNAL;
    assert(digest_bytes == DIGEST_BYTES);
    return FF_OK;
}

ff_err digest_command_content(uint32_t effective_date, const Fundflow__V1__Event *event,
                              uint8_t digest_out[DIGEST_BYTES]) {
    Fundflow__V1__Command content = FUNDFLOW__V1__COMMAND__INIT;
    content.effective_date = effective_date;
    content.event = (Fundflow__V1__Event *)event;
    size_t packed_bytes = fundflow__v1__command__get_packed_size(&content);
    uint8_t *packed = malloc(packed_bytes ? packed_bytes : 1);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    fundflow__v1__command__pack(&content, packed);
    ff_err err = digest_two_parts(packed, packed_bytes, NULL, 0, digest_out);
    free(packed);
    return err;
}
