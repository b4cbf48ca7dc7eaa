/* fundflow import's pieces shared between its files and the flag tables: the kinds of file it
 * reads, each the rows of one write subcommand, and how a mapped CSV row becomes that
 * subcommand's Command through the subcommand's own flag parsers and event builder.
 *
 * cli_import_rows.c knows the kinds and their fields and turns rows into commands; cli_import.c
 * reads the file, sends the commands and reports what became of each row. Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_IMPORT_H
#define FUNDFLOW_TOOLS_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "mapping.h"

/* Bytes of a refusal's reason, such as
 * line 12, column "Amount": "1e3" is not an amount of pounds. */
#define CLI_IMPORT_REASON_BYTES 768

/* Bytes of the field or column a refusal names. */
#define CLI_IMPORT_FIELD_BYTES (MAPPING_TEXT_BYTES_MAX + 1)

/* Bytes of a cell's text quoted in a reason, or of a reference shown in a result: enough for
 * any value the ledger takes, short enough that a huge cell does not swamp the result. */
#define CLI_IMPORT_VALUE_SHOWN_BYTES 128

/* text, or if it does not fit shown_bytes its start and "…", cut between UTF-8 characters, in
 * shown. Returns shown. */
const char *cli_import_text_shorten(const char *text, char *shown, size_t shown_bytes);

typedef struct cli_import_kind {
    const char *name;              /* "payments", as --kind and "kind =" take it */
    cli_subcommand_id subcommand;  /* the write each row is: CLI_SUBCOMMAND_PAY */
    const char *operand_field;     /* the field holding the subcommand's operand, or NULL */
} cli_import_kind;

/* Reads --kind's value into kind_out (the kind's index + 1), or refuses it listing the kinds. */
bool cli_import_kind_parse(const char *flag, const char *text, uint32_t *kind_out);

/* The kind of a cli_options.import_kind or of a "kind =" value; NULL for none. */
const cli_import_kind *cli_import_kind_get(uint32_t kind);
const cli_import_kind *cli_import_kind_find(const char *name);

/* Prints, for import --help, each kind's subcommand and fields, the required ones marked. */
void cli_import_fields_help_print(FILE *out);

/* Checks the mapping's fields against the kind: each must be one of its fields, and each field
 * the kind needs must be mapped or set. Prints why on stderr, naming the mapping file's line
 * where it can, and returns false. */
bool cli_import_mapping_check(const cli_import_kind *kind, const mapping *map,
                              const char *mapping_path);

/* What reading a row gives: the command, or why the row was refused. */
typedef struct cli_import_parsed {
    Fundflow__V1__Command *command; /* owned by the caller (free with command__free_unpacked) */
    char field[CLI_IMPORT_FIELD_BYTES];   /* the column refused, or "" */
    char reason[CLI_IMPORT_REASON_BYTES]; /* the whole refusal, naming the line */
} cli_import_parsed;

/* Turns one mapped row into the kind's command under idempotency key, as the subcommand would
 * from the same values given as flags. Returns true with parsed->command, or false with the
 * refusal in parsed (or, with parsed->reason empty, out of memory). session is handed to the
 * subcommand's run function, which sends nothing while import collects. */
bool cli_import_row_parse(const cli_import_kind *kind, const mapping *map, const mapped_row *row,
                          const char *key, cli_session *session, cli_import_parsed *parsed);

#endif
