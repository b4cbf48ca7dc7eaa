/* Events as plugins see them: the summary of a command (ff_plugin_command) and the event a
 * project hook or events_each receives. Vetoes, projections and reads all build them here, so
 * each of those files depends on this one and on no other. */
#ifndef FUNDFLOW_PLUGIN_EVENTS_H
#define FUNDFLOW_PLUGIN_EVENTS_H

#include "plugin_host_internal.h"

/* Summarises an event for plugins; *contract (freed by the caller, also on error) holds the
 * contract a variation or payment names, whose parties and stream fill the summary. Returns
 * FF_OK, or the store's error if that contract cannot be read. */
ff_err plugin_command_from(store_txn *txn, ff_store *store,
                           const Fundflow__V1__EventRecord *record, ff_plugin_command *command,
                           Fundflow__V1__ContractRecord **contract);

/* Hands visit one event as plugins see it: its summary and packed payload. Returns what visit
 * returned, or FF_PLUGIN_ERROR if the payload cannot be packed. */
int plugin_event_deliver(ff_plugin_context *context, const Fundflow__V1__EventRecord *record,
                         ff_plugin_event_visitor visit, void *argument);

#endif
