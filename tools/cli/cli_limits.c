/* The fundflow client's write of NHS England's revenue limits: limit set records a
 * RevenueLimitSet for one stream and financial year. */
#include "cli.h"

#include "cli_values.h"
#include "fundflow/v1/events.pb-c.h"

int cli_limit_set_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__RevenueLimitSet limit = FUNDFLOW__V1__REVENUE_LIMIT_SET__INIT;
    limit.funder_code = (char *)(options->from_code ? options->from_code : CLI_NHS_ENGLAND_CODE);
    limit.stream = (Fundflow__V1__Stream)options->stream;
    limit.financial_year = options->financial_year;
    limit.limit_pence = options->amount_pence;
    limit.reference = cli_text_or_empty(options->reference);
    Fundflow__V1__Event event = FUNDFLOW__V1__EVENT__INIT;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET;
    event.revenue_limit_set = &limit;
    return cli_command_send(options, session, &event);
}
