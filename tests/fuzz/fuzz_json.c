/* A libFuzzer target for the JSON codec's encoding direction: protobuf bytes of every message the
 * server answers with (each RPC's output) and every stored record (EventRecord and the
 * projections' records) are unpacked, encoded as JSON, decoded again and encoded again.
 * (fuzz_requests drives the decoding direction, from JSON text.)
 *
 * The first byte chooses the message type; the rest are its protobuf bytes. Beyond "no crash, no
 * leak, no undefined behaviour", it checks that whatever protobuf-c accepts the codec can write,
 * that what it writes it reads back, and that the second writing is the first, byte for byte
 * (bytes that are not UTF-8 in a string become U+FFFD once, and stay so).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_json_check.h"
#include "fundflow/v1/events.pb-c.h"
#include "fundflow/v1/ledger.pb-c.h"
#include "fundflow/v1/projections.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stored records, beside the service's outputs. */
static const ProtobufCMessageDescriptor *const fuzz_records[] = {
    &fundflow__v1__event_record__descriptor,     &fundflow__v1__org_record__descriptor,
    &fundflow__v1__org_link_record__descriptor,  &fundflow__v1__service_line_record__descriptor,
    &fundflow__v1__delegation_record__descriptor, &fundflow__v1__contract_record__descriptor,
    &fundflow__v1__principal_record__descriptor, &fundflow__v1__plan_record__descriptor,
};
#define FUZZ_RECORD_COUNT (sizeof fuzz_records / sizeof fuzz_records[0])

static const ProtobufCMessageDescriptor *fuzz_descriptor(uint8_t choice) {
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    size_t index = choice % (service->n_methods + FUZZ_RECORD_COUNT);
    if (index < FUZZ_RECORD_COUNT) return fuzz_records[index];
    return service->methods[index - FUZZ_RECORD_COUNT].output;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const ProtobufCMessageDescriptor *descriptor = fuzz_descriptor(data[0]);
    ProtobufCMessage *message = protobuf_c_message_unpack(descriptor, NULL, size - 1, data + 1);
    if (message == NULL) return 0;
    assert(message->descriptor == descriptor);
    fuzz_json_round_trip(message, 0);
    protobuf_c_message_free_unpacked(message, NULL);
    return 0;
}
