/* fundflow reconcile's two halves: reading an outside file through its mapping into the rows and
 * rules of a ReconcileRequest (cli_reconcile_file.c), and sending it and writing the four
 * sections through the listings' export model (cli_reconcile.c). Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_RECONCILE_H
#define FUNDFLOW_TOOLS_CLI_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "fundflow/limits.h"
#include "fundflow/v1/ledger.pb-c.h"

/* The key fields a ReconcileRequest names: org, stream, measure, contract, month. */
#define CLI_RECONCILE_KEYS_MAX 5

/* What one kind of reconciliation compares, and the key fields of its rows in column order. */
typedef struct cli_reconcile_kind {
    const char *name; /* as --against and "kind =" write it: "payments" */
    Fundflow__V1__ReconcileKind kind;
    const char *keys[CLI_RECONCILE_KEYS_MAX];
    size_t key_count;
} cli_reconcile_kind;

/* The kind named name (any case), or NULL. */
const cli_reconcile_kind *cli_reconcile_kind_find(const char *name);

/* The kind whose ReconcileKind is kind; kind must be one of them (asserted). */
const cli_reconcile_kind *cli_reconcile_kind_of(uint32_t kind);

/* Everything read from the file and its mapping: the request's rules and its rows. The rows and
 * the texts they point at belong to the input until cli_reconcile_input_free. */
typedef struct cli_reconcile_input {
    const cli_reconcile_kind *kind;
    uint32_t financial_year;
    int64_t tolerance_pence;
    uint32_t date_from, date_to; /* 0 and 0: no window */
    char *match_keys[CLI_RECONCILE_KEYS_MAX];
    size_t match_key_count;
    uint32_t stream_filter; /* a Stream, 0 for every stream */
    char provider_code[FF_ORG_CODE_BYTES_MAX + 1];
    char commissioner_code[FF_ORG_CODE_BYTES_MAX + 1];
    Fundflow__V1__ReconcileRow **rows;
    size_t row_count;
    size_t row_capacity;
    char file_name[256];  /* without directories, as messages name it */
    char file_sha256[65]; /* hex */
} cli_reconcile_input;

/* Loads --mapping, opens FILE through it and reads every row, parsing each value with the
 * client's own parsers. Refuses, naming the file, line and column (or the mapping and its
 * directive), the first thing it cannot use, and returns CLI_EXIT_USAGE; nothing is sent then.
 * Returns CLI_EXIT_OK with input filled, which the caller frees in every case. */
int cli_reconcile_input_read(const cli_options *options, cli_reconcile_input *input);

void cli_reconcile_input_free(cli_reconcile_input *input);

#endif
