/* fixture_no_entry: a shared object for the host's tests that exports no entry symbol, only a
 * decoy, so the host must log that FF_PLUGIN_ENTRY_SYMBOL is missing, dlclose it and go on. */
#include "fundflow/plugin.h"

/* A visible symbol, so the object is a plausible plugin in every respect but the entry. */
FF_PLUGIN_EXPORT const char *fixture_no_entry_describe(void);

const char *fixture_no_entry_describe(void) { return "a shared object with no plugin entry"; }
