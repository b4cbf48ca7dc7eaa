/* SHA-256 digests: the event log's hash chain and the idempotency index's content check. */
#ifndef FUNDFLOW_DIGEST_H
#define FUNDFLOW_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"
#include "fundflow/v1/events.pb-c.h"

#define DIGEST_BYTES 32

/* SHA-256 of first followed by second (either may be empty). Any thread. */
ff_err digest_two_parts(const uint8_t *first, size_t first_bytes, const uint8_t *second,
                        size_t second_bytes, uint8_t digest_out[DIGEST_BYTES]);

/* The digest of what a command asks for: its effective date and event, but not its key. Two
 * commands with one key and equal digests are the same request retried. */
ff_err digest_command_content(uint32_t effective_date, const Fundflow__V1__Event *event,
                              uint8_t digest_out[DIGEST_BYTES]);

#endif
