/* Raw LMDB appends, the anchor the benchmarks measure the ledger against (store_anchor.c). */
#ifndef FUNDFLOW_STORE_ANCHOR_H
#define FUNDFLOW_STORE_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "fundflow/error.h"

/* Opens a fresh LMDB environment in data_dir (an existing, empty directory) as store_open would,
 * and appends count records of record_bytes bytes under 8-byte increasing keys, batch records to
 * a transaction, each transaction one commit with LMDB's full sync. *seconds_out is the time the
 * appends took, opening excluded. The caller removes the directory's files. */
ff_err store_anchor_appends_run(const char *data_dir, uint64_t count, uint64_t batch,
                                size_t record_bytes, double *seconds_out);

#endif
