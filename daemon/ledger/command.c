/* Static checks on commands: the envelope, and each event's own checks found through the rules
 * of the files that hold them. */
#include "command.h"

#include <stddef.h>

#include "fundflow/calendar.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

/* Every file's rules. A new file of checks adds its table here; a new event in an existing file
 * adds only a row to that file's table. */
static const command_event_rule *const command_rule_tables[] = {
    command_org_rules,        command_transfer_rules, command_delegation_rules,
    command_contract_rules,   command_period_rules,   command_principal_rules,
    command_plan_rules,       command_limit_rules,
};

static command_event_check command_check_find(Fundflow__V1__Event__KindCase kind) {
    size_t table_count = sizeof command_rule_tables / sizeof command_rule_tables[0];
    for (size_t table = 0; table < table_count; table++) {
        for (const command_event_rule *rule = command_rule_tables[table];
             rule->kind != FUNDFLOW__V1__EVENT__KIND__NOT_SET; rule++) {
            if (rule->kind == kind) return rule->check;
        }
    }
    return NULL;
}

ff_err command_event_check_static(const Fundflow__V1__Event *event, ff_failure *failure) {
    command_event_check check = NULL;
    if (event != NULL && event->kind_case != FUNDFLOW__V1__EVENT__KIND__NOT_SET) {
        check = command_check_find(event->kind_case);
    }
    if (check == NULL) {
        return failure_set(failure, FF_ERR_PAYLOAD_MISSING, "event",
                           "the command carries no event");
    }
    return check(event, failure);
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
