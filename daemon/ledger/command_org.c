/* The checks of organisations' own events: registration and updates, the code format each kind
 * of organisation must have, and who may be a member of a grouping. */
#include "command.h"

#include <string.h>

#include "command_field.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

/* The code each kind of organisation must have, as a pattern the checker below reads: a literal
 * upper-case letter, 'a' for a letter or digit, 'd' for a digit; min_length lets the last
 * 'a's be optional. */
static const struct {
    Fundflow__V1__OrgKind kind;
    const char *pattern;
    size_t min_length;
    const char *example;
} command_code_formats[] = {
    {FUNDFLOW__V1__ORG_KIND__NHSE, "Xaa", 3, "X followed by two letters or digits, such as X24"},
    {FUNDFLOW__V1__ORG_KIND__REGION, "Ydd", 3, "Y followed by two digits, such as Y61"},
    {FUNDFLOW__V1__ORG_KIND__ICB, "Qaa", 3, "Q followed by two letters or digits, such as QWE"},
    {FUNDFLOW__V1__ORG_KIND__PLACE, "aaaaa", 3,
     "three to five letters or digits (a sub-ICB location code), such as 06H or M2L0M"},
    {FUNDFLOW__V1__ORG_KIND__TRUST, "Raaaa", 3, "R followed by two to four letters or digits"},
    {FUNDFLOW__V1__ORG_KIND__PRIMARY_CARE, "?aaaaa", 6,
     "a letter followed by five letters or digits, such as A81001"},
    {FUNDFLOW__V1__ORG_KIND__INDEPENDENT_PROVIDER, "?aaaa", 3,
     "a letter followed by two to four letters or digits"},
    {FUNDFLOW__V1__ORG_KIND__LOCAL_AUTHORITY, "Edddddddd", 9,
     "an ONS code: E followed by eight digits"},
};

static bool command_code_matches(const char *code, const char *pattern, size_t min_length) {
    size_t length = strlen(code);
    if (length < min_length || length > strlen(pattern)) return false;
    for (size_t i = 0; i < length; i++) {
        char want = pattern[i], c = code[i];
        bool digit = c >= '0' && c <= '9', letter = c >= 'A' && c <= 'Z';
        bool ok = want == 'a' ? digit || letter : want == 'd' ? digit : want == '?' ? letter
                                                                                    : c == want;
        if (!ok) return false;
    }
    return true;
}

ff_err command_org_code_kind_check(const char *code, Fundflow__V1__OrgKind kind,
                                   ff_failure *failure) {
    for (size_t i = 0; i < sizeof command_code_formats / sizeof command_code_formats[0]; i++) {
        if (command_code_formats[i].kind != kind) continue;
        if (command_code_matches(code, command_code_formats[i].pattern,
                                 command_code_formats[i].min_length)) {
            return FF_OK;
        }
        const ProtobufCEnumValue *name =
            protobuf_c_enum_descriptor_get_value(&fundflow__v1__org_kind__descriptor, kind);
        return failure_set(failure, FF_ERR_CODE_INVALID, "code", "code %s: a %s code is %s", code,
                           name ? name->name : "", command_code_formats[i].example);
    }
    return FF_OK;
}

static bool command_code_listed(const char *code, char *const *codes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(code, codes[i]) == 0) return true;
    }
    return false;
}

ff_err command_members_check(Fundflow__V1__OrgKind kind, char *const *members,
                             size_t member_count, const char *lead_provider_code,
                             ff_failure *failure) {
    bool has_lead = lead_provider_code != NULL && lead_provider_code[0] != '\0';
    bool grouping = kind == FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE ||
                    kind == FUNDFLOW__V1__ORG_KIND__JOINT_COMMITTEE;
    if ((member_count > 0 || has_lead) && !grouping) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "member_codes",
                           "only provider collaboratives and joint committees have members");
    }
    ff_err err = command_code_list_check(members, member_count, "member_codes", FF_MEMBERS_MAX,
                                         failure);
    if (err != FF_OK) return err;
    if (has_lead && kind != FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "lead_provider_code",
                           "only a provider collaborative has a lead provider");
    }
    if (has_lead && !command_code_listed(lead_provider_code, members, member_count)) {
        return failure_set(failure, FF_ERR_MEMBER_INVALID, "lead_provider_code",
                           "lead provider %s must be one of the members", lead_provider_code);
    }
    if (kind == FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE && member_count > 0 && !has_lead) {
        return failure_set(failure, FF_ERR_FIELD_MISSING, "lead_provider_code",
                           "a provider collaborative with members needs a lead provider");
    }
    return FF_OK;
}

static ff_err command_org_registered_check(const Fundflow__V1__Event *payload,
                                           ff_failure *failure) {
    const Fundflow__V1__OrgRegistered *event = payload->org_registered;
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

static ff_err command_org_updated_check(const Fundflow__V1__Event *payload, ff_failure *failure) {
    const Fundflow__V1__OrgUpdated *event = payload->org_updated;
    ff_err err = command_org_code_check(event->code, "code", true, failure);
    if (!err && event->name[0] != '\0') {
        err = command_text_check(event->name, "name", FF_ORG_NAME_BYTES_MAX, true, failure);
    }
    if (!err) err = command_org_code_check(event->parent_code, "parent_code", false, failure);
    if (!err && strcmp(event->code, event->parent_code) == 0) {
        err = failure_set(failure, FF_ERR_SAME_ORG, "parent_code",
                          "an organisation cannot be its own parent");
    }
    if (!err) {
        err = command_code_list_check(event->member_codes, event->n_member_codes, "member_codes",
                                      FF_MEMBERS_MAX, failure);
    }
    if (!err && !event->set_members && event->n_member_codes > 0) {
        err = failure_set(failure, FF_ERR_MEMBER_INVALID, "set_members",
                          "member_codes is only read when set_members is true");
    }
    if (!err) {
        err = command_org_code_check(event->lead_provider_code, "lead_provider_code", false,
                                     failure);
    }
    return err;
}

const command_event_rule command_org_rules[] = {
    {FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED, command_org_registered_check},
    {FUNDFLOW__V1__EVENT__KIND_ORG_UPDATED, command_org_updated_check},
    {FUNDFLOW__V1__EVENT__KIND__NOT_SET, NULL},
};
