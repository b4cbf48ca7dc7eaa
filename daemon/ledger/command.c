/* Static checks on commands: everything that can be refused without reading the ledger. */
#include "command.h"

#include <string.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

bool command_org_code_valid(const char *code) {
    size_t length = strlen(code);
    if (length < FF_ORG_CODE_BYTES_MIN || length > FF_ORG_CODE_BYTES_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

/* The length of the UTF-8 sequence starting at text, or 0 if it is not a valid one. */
static size_t command_utf8_sequence_bytes(const unsigned char *text) {
    unsigned char lead = text[0];
    size_t bytes = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                                 : (lead >> 3) == 0x1E ? 4 : 0;
    if (bytes == 0 || (bytes == 2 && lead < 0xC2) || (bytes == 4 && lead > 0xF4)) return 0;
    for (size_t i = 1; i < bytes; i++) {
        if ((text[i] >> 6) != 0x2) return 0;
    }
    /* Refuse overlong three- and four-byte forms, surrogates and code points past U+10FFFF. */
    if (bytes == 3 && lead == 0xE0 && text[1] < 0xA0) return 0;
    if (bytes == 3 && lead == 0xED && text[1] >= 0xA0) return 0;
    if (bytes == 4 && lead == 0xF0 && text[1] < 0x90) return 0;
    if (bytes == 4 && lead == 0xF4 && text[1] >= 0x90) return 0;
    return bytes;
}

bool command_text_valid(const char *text) {
    const unsigned char *cursor = (const unsigned char *)text;
    while (*cursor != '\0') {
        if (*cursor < 0x20 || *cursor == 0x7F) return false;
        size_t bytes = command_utf8_sequence_bytes(cursor);
        if (bytes == 0) return false;
        cursor += bytes;
    }
    return true;
}

ff_err command_text_check(const char *text, const char *field, size_t bytes_max,
                                 bool required, ff_failure *failure) {
    if (text == NULL) text = "";
    size_t length = strlen(text);
    if (required && length == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    if (length > bytes_max) {
        return failure_set(failure, FF_ERR_FIELD_TOO_LONG, field,
                           "%s is %zu bytes long; the limit is %zu", field, length, bytes_max);
    }
    if (!command_text_valid(text)) {
        return failure_set(failure, FF_ERR_TEXT_INVALID, field,
                           "%s must be UTF-8 text without control characters", field);
    }
    return FF_OK;
}

ff_err command_org_code_check(const char *code, const char *field, bool required,
                              ff_failure *failure) {
    if (code == NULL || code[0] == '\0') {
        if (!required) return FF_OK;
        return failure_set(failure, FF_ERR_FIELD_MISSING, field, "%s is required", field);
    }
    if (!command_org_code_valid(code)) {
        return failure_set(failure, FF_ERR_CODE_INVALID, field,
                           "%s \"%.40s\" must be %d to %d upper-case letters or digits", field,
                           code, FF_ORG_CODE_BYTES_MIN, FF_ORG_CODE_BYTES_MAX);
    }
    return FF_OK;
}

ff_err command_enum_check(const ProtobufCEnumDescriptor *descriptor, int value,
                                 const char *field, ff_failure *failure) {
    if (value != 0 && protobuf_c_enum_descriptor_get_value(descriptor, value) != NULL) {
        return FF_OK;
    }
    return failure_set(failure, FF_ERR_ENUM_INVALID, field, "%s %d is not a valid %s", field,
                       value, descriptor->short_name);
}

static ff_err command_transfer_check(const char *from_code, const char *from_field,
                                     const char *to_code, const char *to_field, int stream,
                                     uint32_t financial_year, int64_t amount_pence,
                                     const char *reference, ff_failure *failure) {
    ff_err err = command_org_code_check(from_code, from_field, true, failure);
    if (!err) err = command_org_code_check(to_code, to_field, true, failure);
    if (!err && strcmp(from_code, to_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, to_field, "%s and %s are both %s", from_field,
                          to_field, to_code);
    }
    if (!err) {
        err = command_enum_check(&fundflow__v1__stream__descriptor, stream, "stream", failure);
    }
    if (!err && !calendar_year_valid(financial_year)) {
        err = failure_set(failure, FF_ERR_YEAR_INVALID, "financial_year",
                          "financial_year %u must start between %d and %d", financial_year,
                          FF_YEAR_FIRST, FF_YEAR_LAST);
    }
    if (!err && amount_pence <= 0) {
        err = failure_set(failure, FF_ERR_AMOUNT_NOT_POSITIVE, "amount_pence",
                          "amount_pence is %lld; it must be at least 1", (long long)amount_pence);
    }
    if (!err) err = command_text_check(reference, "reference", FF_REFERENCE_BYTES_MAX, false,
                                       failure);
    return err;
}

static ff_err command_org_registered_check(const Fundflow__V1__OrgRegistered *event,
                                           ff_failure *failure) {
    ff_err err = command_org_code_check(event->code, "code", true, failure);
    if (!err) err = command_text_check(event->name, "name", FF_ORG_NAME_BYTES_MAX, true, failure);
    if (!err) {
        err = command_enum_check(&fundflow__v1__org_kind__descriptor, event->kind, "kind",
                                 failure);
    }
    if (!err) err = command_org_code_check(event->parent_code, "parent_code", false, failure);
    if (!err && event->parent_code != NULL && strcmp(event->code, event->parent_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, "parent_code",
                          "an organisation cannot be its own parent");
    }
    if (!err) err = command_org_code_kind_check(event->code, event->kind, failure);
    if (!err) {
        err = command_members_check(event->kind, event->member_codes, event->n_member_codes,
                                    event->lead_provider_code, failure);
    }
    return err;
}

static ff_err command_reversal_check(const Fundflow__V1__Reversal *event, ff_failure *failure) {
    if (event->reversed_sequence == 0) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "reversed_sequence",
                           "reversed_sequence must name the event to reverse");
    }
    return command_text_check(event->reason, "reason", FF_REASON_BYTES_MAX, true, failure);
}

ff_err command_event_check_static(const Fundflow__V1__Event *event, ff_failure *failure) {
    switch (event == NULL ? FUNDFLOW__V1__EVENT__KIND__NOT_SET : event->kind_case) {
    case FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED:
        return command_org_registered_check(event->org_registered, failure);
    case FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED: {
        const Fundflow__V1__AllocationIssued *allocation = event->allocation_issued;
        ff_err err = command_transfer_check(allocation->funder_code, "funder_code",
                                            allocation->recipient_code, "recipient_code",
                                            allocation->stream, allocation->financial_year,
                                            allocation->amount_pence, allocation->reference,
                                            failure);
        if (!err && allocation->delegation_id[0] != '\0') {
            err = command_identifier_check(allocation->delegation_id, "delegation_id", failure);
        }
        return err;
    }
    case FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED: {
        const Fundflow__V1__BudgetDelegated *budget = event->budget_delegated;
        return command_transfer_check(budget->from_code, "from_code", budget->to_code, "to_code",
                                      budget->stream, budget->financial_year,
                                      budget->amount_pence, budget->reference, failure);
    }
    case FUNDFLOW__V1__EVENT__KIND_REVERSAL:
        return command_reversal_check(event->reversal, failure);
    case FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED:
        return command_org_updated_check(event->org_updated, failure);
    case FUNDFLOW__V1__EVENT__KIND_SERVICE_LINE_REGISTERED:
        return command_service_line_check(event->service_line_registered, failure);
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_GRANTED:
        return command_delegation_granted_check(event->delegation_granted, failure);
    case FUNDFLOW__V1__EVENT__KIND_DELEGATION_REVOKED:
        return command_delegation_revoked_check(event->delegation_revoked, failure);
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED:
        return command_contract_agreed_check(event->contract_agreed, failure);
    case FUNDFLOW__V1__EVENT__KIND_CONTRACT_VARIED:
        return command_contract_varied_check(event->contract_varied, failure);
    case FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE:
        return command_payment_check(event->payment_made, failure);
    case FUNDFLOW__V1__EVENT__KIND_OUTCOME_REPORTED:
        return command_outcome_check(event->outcome_reported, failure);
    case FUNDFLOW__V1__EVENT__KIND_STATEMENT_SUBMITTED:
        return command_statement_check(event->statement_submitted, failure);
    case FUNDFLOW__V1__EVENT__KIND_PERIOD_CLOSED:
        return command_period_check(event->period_closed, failure);
    default:
        return failure_set(failure, FF_ERR_PAYLOAD_MISSING, "event",
                           "the command carries no event");
    }
}

ff_err command_check_static(const Fundflow__V1__Command *command, ff_failure *failure) {
    ff_err err = command_text_check(command->idempotency_key, "idempotency_key",
                                    FF_IDEMPOTENCY_KEY_BYTES_MAX, true, failure);
    if (!err && !calendar_date_valid(command->effective_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "effective_date",
                          "effective_date %u is not a real date in YYYYMMDD form",
                          command->effective_date);
    }
    if (!err) err = command_event_check_static(command->event, failure);
    return err;
}
