/* Events as plugins see them: a command's summary, with the parties of the contract it names
 * filled in, and the event with its packed payload that project hooks and events_each receive. */
#include "plugin_events.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"

/* Fills the command's parties, stream and year from the contract it names. A contract that is
 * not there leaves them empty (the ledger refuses such a command itself); a store that cannot be
 * read is an error, so that no plugin decides on a summary with its parties missing. */
static ff_err plugin_command_contract(store_txn *txn, ff_store *store, const char *contract_id,
                                      ff_plugin_command *command,
                                      Fundflow__V1__ContractRecord **contract) {
    command->contract_id = contract_id;
    ff_err err = projection_contract_read(txn, store, contract_id, UINT64_MAX, contract);
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    /* The projection keys contracts by id, so the record read is the one named. */
    assert(strcmp((*contract)->contract_id, contract_id) == 0);
    command->from_code = (*contract)->commissioner_code;
    command->to_code = (*contract)->provider_code;
    command->stream = (*contract)->stream;
    command->financial_year = (*contract)->financial_year;
    command->contract_type = (*contract)->type;
    command->service_category = (*contract)->service_category;
    return FF_OK;
}

ff_err plugin_command_from(store_txn *txn, ff_store *store,
                           const Fundflow__V1__EventRecord *record, ff_plugin_command *command,
                           Fundflow__V1__ContractRecord **contract) {
    assert(record != NULL && record->event != NULL && contract != NULL && *contract == NULL);
    const Fundflow__V1__Event *event = record->event;
    ff_err err = FF_OK;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(&fundflow__v1__event__descriptor,
                                                (unsigned)event->kind_case);
    *command = (ff_plugin_command){.size = sizeof *command, .abi_major = FF_PLUGIN_ABI_MAJOR,
                                   .abi_minor = FF_PLUGIN_ABI_MINOR,
                                   .kind = field ? field->name : "",
                                   .effective_date = record->effective_date,
                                   .actor = record->actor, .from_code = "", .to_code = "",
                                   .contract_id = ""};
    switch (event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *a = event->allocation_issued;
        command->from_code = a->funder_code, command->to_code = a->recipient_code;
        command->stream = a->stream, command->financial_year = a->financial_year;
        command->amount_pence = a->amount_pence;
        break;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *b = event->budget_delegated;
        command->from_code = b->from_code, command->to_code = b->to_code;
        command->stream = b->stream, command->financial_year = b->financial_year;
        command->amount_pence = b->amount_pence;
        break;
    }
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED: {
        const Fundflow__V1__ContractAgreed *c = event->contract_agreed;
        command->from_code = c->commissioner_code, command->to_code = c->provider_code;
        command->stream = c->stream, command->financial_year = c->financial_year;
        command->amount_pence = c->annual_value_pence, command->contract_id = c->contract_id;
        command->contract_type = c->type, command->service_category = c->service_category;
        break;
    }
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        err = plugin_command_contract(txn, store, event->contract_varied->contract_id, command,
                                      contract);
        command->amount_pence = event->contract_varied->change_pence;
        break;
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        err = plugin_command_contract(txn, store, event->payment_made->contract_id, command,
                                      contract);
        command->amount_pence = event->payment_made->amount_pence;
        command->month = event->payment_made->month;
        break;
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        command->reversed_sequence = event->reversal->reversed_sequence;
        break;
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED: {
        const Fundflow__V1__StatementSubmitted *statement = event->statement_submitted;
        command->from_code = statement->org_code, command->to_code = statement->counterparty_code;
        command->financial_year = statement->financial_year, command->month = statement->month;
        command->amount_pence = statement->amount_pence;
        break;
    }
    default:
        break;
    }
    return err;
}

int plugin_event_deliver(ff_plugin_context *context, const Fundflow__V1__EventRecord *record,
                         ff_plugin_event_visitor visit, void *argument) {
    /* Only recorded events reach plugins: every one has a sequence and an event. */
    assert(record->sequence > 0 && record->event != NULL);
    size_t payload_bytes = fundflow__v1__event__get_packed_size(record->event);
    uint8_t *payload = malloc(payload_bytes ? payload_bytes : 1);
    if (payload == NULL) return FF_PLUGIN_ERROR;
    fundflow__v1__event__pack(record->event, payload);
    ff_plugin_command summary;
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = plugin_command_from(context->txn, context->store, record, &summary, &contract);
    if (err != FF_OK) {
        plugin_context_storage_failed(context, err);
        free(payload);
        return FF_PLUGIN_ERROR;
    }
    ff_plugin_event event = {.size = sizeof event, .abi_major = FF_PLUGIN_ABI_MAJOR,
                             .abi_minor = FF_PLUGIN_ABI_MINOR, .sequence = record->sequence,
                             .recorded_at_us = record->recorded_at_us, .summary = &summary,
                             .payload = payload, .payload_bytes = payload_bytes};
    int result = visit(argument, &event);
    if (contract) fundflow__v1__contract_record__free_unpacked(contract, NULL);
    free(payload);
    return result;
}
