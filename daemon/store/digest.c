/* The hash chain's SHA-256 (the merkle layer's sha256_parts), and the digest of a command's
 * content. */
#include "digest.h"

#include "sha256.h"

#include <assert.h>
#include <stdlib.h>

/* A command's packed content fits in this much stack for every ordinary event; a larger one (a
 * long name or many fields) is packed into the heap instead. Not a limit on anything. */
enum { DIGEST_CONTENT_STACK_BYTES = 1024 };

ff_err digest_two_parts(const uint8_t *first, size_t first_bytes, const uint8_t *second,
                        size_t second_bytes, uint8_t digest_out[DIGEST_BYTES]) {
    const sha256_part parts[] = {{first, first_bytes}, {second, second_bytes}};
    return sha256_parts(parts, 2, digest_out);
}

ff_err digest_command_content(uint32_t effective_date, const Fundflow__V1__Event *event,
                              uint8_t digest_out[DIGEST_BYTES]) {
    Fundflow__V1__Command content = FUNDFLOW__V1__COMMAND__INIT;
    content.effective_date = effective_date;
    content.event = (Fundflow__V1__Event *)event;
    size_t packed_bytes = fundflow__v1__command__get_packed_size(&content);
    uint8_t on_stack[DIGEST_CONTENT_STACK_BYTES];
    uint8_t *packed = packed_bytes <= sizeof on_stack ? on_stack : malloc(packed_bytes);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    size_t written = fundflow__v1__command__pack(&content, packed);
    assert(written == packed_bytes);
    ff_err err = digest_two_parts(packed, packed_bytes, NULL, 0, digest_out);
    if (packed != on_stack) free(packed);
    return err;
}
