/* A libFuzzer target for fundflow's request decoders: protobuf SubmitCommandsRequest bodies
 * through the static command checks, and JSON bodies for every request type of the Ledger service.
 *
 * An input's first byte chooses what the rest is: 0 a protobuf SubmitCommandsRequest, N (1 to the
 * service's method count) a JSON body of method N-1's request, and larger bytes wrap around. One
 * decode an input, not one per request type, is what lets a long run reach ten million
 * executions; the seeds in tests/fuzz/corpus carry their byte (methods are only ever added at the
 * end of the service, so a seed's byte keeps its meaning).
 *
 * Beyond "no crash, no leak, no undefined behaviour", it checks the JSON codec's own promises: a
 * refusal is FF_ERR_MALFORMED with a sentence and no message, and whatever decodes re-encodes to
 * text that decodes again to a message with the same protobuf bytes.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "fundflow/v1/ledger.pb-c.h"
#include "fuzz_json_check.h"
#include "json_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the checks a server runs on its network thread before a command reaches the writer. */
static void fuzz_commands_check(Fundflow__V1__Command *const *commands, size_t count) {
    for (size_t i = 0; i < count; i++) {
        assert(commands[i] != NULL);
        ff_failure failure;
        failure_clear(&failure);
        ff_err rc = command_check_static(commands[i], &failure);
        assert(rc == FF_OK || failure.code == rc);
        assert(memchr(failure.detail, '\0', sizeof failure.detail) != NULL);
    }
}

static void fuzz_protobuf_request(const uint8_t *data, size_t size) {
    Fundflow__V1__SubmitCommandsRequest *request =
        fundflow__v1__submit_commands_request__unpack(NULL, size, data);
    if (request == NULL) return;
    fuzz_commands_check(request->commands, request->n_commands);
    fundflow__v1__submit_commands_request__free_unpacked(request, NULL);
}

static void fuzz_json_request(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                              size_t size) {
    char error[FUZZ_ERROR_BYTES] = "";
    ProtobufCMessage *message = NULL;
    ff_err rc = json_codec_decode(descriptor, (const char *)data, size, &message, error, sizeof error);
    if (rc != FF_OK) {
        assert(rc == FF_ERR_MALFORMED || rc == FF_ERR_NO_MEMORY);
        assert(message == NULL && error[0] != '\0' && strlen(error) < sizeof error);
        return;
    }
    assert(message != NULL && message->descriptor == descriptor);
    assert(protobuf_c_message_check(message));
    if (descriptor == &fundflow__v1__submit_commands_request__descriptor) {
        const Fundflow__V1__SubmitCommandsRequest *request =
            (const Fundflow__V1__SubmitCommandsRequest *)message;
        fuzz_commands_check(request->commands, request->n_commands);
    }
    fuzz_json_round_trip(message, 1);
    protobuf_c_message_free_unpacked(message, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const ProtobufCServiceDescriptor *service = &fundflow__v1__ledger__descriptor;
    unsigned choice = data[0] % (service->n_methods + 1u);
    if (choice == 0) fuzz_protobuf_request(data + 1, size - 1);
    else fuzz_json_request(service->methods[choice - 1].input, data + 1, size - 1);
    return 0;
}
