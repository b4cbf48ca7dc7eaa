/* The fundflow client's events described for people: in a line for the events table, or as a
 * key/value block for "fundflow event". Built on cli_output.h; single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_OUTPUT_EVENTS_H
#define FUNDFLOW_TOOLS_CLI_OUTPUT_EVENTS_H

#include <stddef.h>

#include "fundflow/v1/events.pb-c.h"

/* Bytes of one event described on a line, such as "allocate X24 -> QWE core_services 2024/25
 * £1,234.56". Names and references are cut short to fit. */
#define CLI_EVENT_LINE_BYTES 512

/* The event's kind in lower case, such as "allocation_issued", or "none". */
const char *cli_event_kind_text(const Fundflow__V1__Event *event);

/* The event in one line for the events table. */
void cli_event_line(const Fundflow__V1__Event *event, char *buffer, size_t buffer_bytes);

/* The event's fields as a key/value block on stdout, one field per line. */
void cli_event_fields_print(const Fundflow__V1__Event *event);

#endif
