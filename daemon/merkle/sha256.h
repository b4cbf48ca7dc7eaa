/* SHA-256 of a message given in parts, through OpenSSL: the one hashing primitive under the
 * Merkle tree, the hash chain and the idempotency index's content check. */
#ifndef FUNDFLOW_SHA256_H
#define FUNDFLOW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

#define SHA256_DIGEST_BYTES 32

typedef struct sha256_part {
    const void *bytes;
    size_t size; /* may be 0 */
} sha256_part;

/* SHA-256 of parts[0] ++ parts[1] ++ ... Any thread. FF_ERR_NO_MEMORY if the thread's context
 * cannot be made, FF_ERR_INTERNAL if OpenSSL fails. */
ff_err sha256_parts(const sha256_part *parts, size_t part_count,
                    uint8_t digest_out[SHA256_DIGEST_BYTES]);

#endif
