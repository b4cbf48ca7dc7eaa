/* fundflow-admin: the offline administration tool, which opens a data directory directly
 * through the core library and loads the demo, prints positions, verifies, rebuilds, shows the
 * head, or adds and lists principals. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_principal.h"
#include "admin_tree.h"
#include "backup.h"
#include "demo_data.h"
#include "tool_flags.h"
#include "tool_help.h"
#include "tool_text.h"
#include "tool_values.h"
#include "digest.h"
#include "ledger.h"
#include "plugin_host.h"
#include "verify.h"
#include "fundflow/calendar.h"
#include "fundflow/error.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"
#include "fundflow/v1/events.pb-c.h"

#ifndef FF_REFERENCE_DATA_DIR
#error "FF_REFERENCE_DATA_DIR must name the folder of reference CSV files (tools/CMakeLists.txt)"
#endif

#define ADMIN_PROGRAM "fundflow-admin"
#define ADMIN_DATA_DIR_ENVIRONMENT "FUNDFLOW_DATA_DIR"

/* Exit codes, as --help lists them. Scripts test these numbers, so never renumber one. */
#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAILED 1
#define ADMIN_EXIT_USAGE 2
#define ADMIN_EXIT_DATA_DIR 4

/* The most rows positions prints, so a huge ledger cannot make it allocate without bound. */
#define ADMIN_POSITION_ROWS_MAX 100000

/* Columns of the subcommand names in the usage list. */
#define ADMIN_SUBCOMMAND_NAME_COLUMNS 10

/* How many characters of a name the positions table shows before cutting it short. */
#define ADMIN_NAME_COLUMNS 44

#define ADMIN_HASH_TEXT_BYTES (2 * DIGEST_BYTES + 1)

typedef enum admin_subcommand_id {
    ADMIN_SUBCOMMAND_NONE = -1,
    ADMIN_SUBCOMMAND_DEMO,
    ADMIN_SUBCOMMAND_POSITIONS,
    ADMIN_SUBCOMMAND_VERIFY,
    ADMIN_SUBCOMMAND_REBUILD,
    ADMIN_SUBCOMMAND_HEAD,
    ADMIN_SUBCOMMAND_PRINCIPAL,
    ADMIN_SUBCOMMAND_BACKUP,
    ADMIN_SUBCOMMAND_RESTORE,
    ADMIN_SUBCOMMAND_COUNT
} admin_subcommand_id;

#define ADMIN_FOR(id) TOOL_FOR(id)
#define ADMIN_FOR_ALL TOOL_FOR_ALL(ADMIN_SUBCOMMAND_COUNT)

typedef struct admin_options {
    admin_subcommand_id subcommand;
    const char *data_dir;
    uint64_t map_bytes;
    const char *reference_dir;
    const char *ndjson_path; /* demo writes its commands here instead of applying them */
    uint64_t seed;
    uint32_t financial_year;
    uint32_t stream;
    uint64_t as_at_sequence;
    uint32_t kind;
    const char *plugin_dir;  /* rebuild replays the log into these plugins' projections */
    bool principal_add;      /* principal add NAME, rather than principal list */
    const char *principal_name;
    uint32_t role;
    const char *scope;       /* --org */
    bool json;
    const char *backup_file; /* backup FILE, restore BACKUP */
    const char *restore_dir; /* restore's DIR */
    bool force;              /* restore: move a non-empty DIR aside */
    bool not_before_given;
    log_head not_before;     /* restore --not-before: a head the backup must hold */
    bool key_given;          /* restore --key: the key the backup's head must be signed by */
    uint8_t pinned_key[SIGNED_HEAD_KEY_BYTES];
    bool require_signed;     /* restore --require-signed */
    const char *signing_key; /* backup --signing-key: the key file, as fundflowd's setting */
} admin_options;

typedef int (*admin_run)(const admin_options *options, ff_ledger *ledger);

typedef struct admin_subcommand {
    const char *name;
    const char *summary;
    const char *description;
    bool creates_data_dir;
    admin_run run;
} admin_subcommand;

/* Values ------------------------------------------------------------------------------------ */

/* Parses digits only, as far as they go: no sign, no spaces, no hex, and nothing past
 * UINT64_MAX. Leaves in *rest_out what follows them, such as a size's suffix. */
static bool admin_number_parse(const char *text, uint64_t *number_out, const char **rest_out) {
    uint64_t number = 0;
    const char *cursor = text;
    for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
        uint64_t digit = (uint64_t)(*cursor - '0');
        if (number > (UINT64_MAX - digit) / 10) return false;
        number = number * 10 + digit;
    }
    if (cursor == text) return false;
    *number_out = number;
    *rest_out = cursor;
    return true;
}

static bool admin_seed_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_number_parse(flag, value, 0, UINT64_MAX, &options->seed);
}

static bool admin_as_at_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_number_parse(flag, value, 0, UINT64_MAX, &options->as_at_sequence);
}

static bool admin_map_bytes_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    uint64_t number = 0;
    const char *rest = NULL;
    unsigned shift = 0;
    if (admin_number_parse(value, &number, &rest)) {
        if (strcmp(rest, "K") == 0 || strcmp(rest, "k") == 0) shift = 10;
        else if (strcmp(rest, "M") == 0 || strcmp(rest, "m") == 0) shift = 20;
        else if (strcmp(rest, "G") == 0 || strcmp(rest, "g") == 0) shift = 30;
        else if (*rest != '\0') rest = NULL;
    }
    if (rest == NULL) {
        return tool_value_refuse(flag, value, "is not a number of bytes such as 67108864 or 64M");
    }
    if (number > (FF_MAP_BYTES_MAX >> shift) || (number << shift) < FF_MAP_BYTES_MIN) {
        return tool_value_refuse(flag, value, "is outside the allowed range, 64K to 64G");
    }
    options->map_bytes = number << shift;
    return true;
}

/* A path, which only has to be there: the system says what is wrong with it when it is used. */
static bool admin_path_parse(const char *flag, const char *value, const char **path_out) {
    *path_out = value;
    return tool_text_parse(flag, value, SIZE_MAX);
}

static bool admin_data_dir_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return admin_path_parse(flag, value, &options->data_dir);
}

static bool admin_ndjson_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return admin_path_parse(flag, value, &options->ndjson_path);
}

static bool admin_reference_dir_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return admin_path_parse(flag, value, &options->reference_dir);
}

static bool admin_plugin_dir_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return admin_path_parse(flag, value, &options->plugin_dir);
}

static bool admin_year_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_year_parse(flag, value, &options->financial_year);
}

static bool admin_stream_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_enum_parse(&fundflow__v1__stream__descriptor, flag, value, &options->stream);
}

static bool admin_role_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_enum_parse(&fundflow__v1__principal_role__descriptor, flag, value, &options->role);
}

/* The scope's code is checked by the ledger, which names what is wrong with it. */
static bool admin_org_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    options->scope = value;
    return tool_text_parse(flag, value, FF_ORG_CODE_BYTES_MAX);
}

static bool admin_force_parse(void *context, const char *flag, const char *value) {
    (void)flag, (void)value;
    ((admin_options *)context)->force = true;
    return true;
}

/* --not-before SEQ:HASH, or a head file ("sequence S" and "hash HEX" lines, as head prints). */
static bool admin_not_before_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    options->not_before_given = true;
    if (backup_head_pair_parse(value, &options->not_before)) return true;
    backup_head head;
    char reason[512];
    if (backup_head_load(value, &head, reason, sizeof reason) == FF_OK) {
        options->not_before = head.log;
        return true;
    }
    return tool_value_refuse(flag, value, "is neither SEQ:HASH (HASH 64 hex digits) nor a head "
                                          "file of 'sequence S' and 'hash HEX' lines");
}

/* --key FILE: a PEM public key, or a saved head's or a backup head file's public_key line. */
static bool admin_key_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    char reason[512];
    options->key_given = true;
    if (backup_key_load(value, options->pinned_key, reason, sizeof reason) == FF_OK) return true;
    return tool_value_refuse(flag, value, reason);
}

static bool admin_require_signed_parse(void *context, const char *flag, const char *value) {
    (void)flag, (void)value;
    ((admin_options *)context)->require_signed = true;
    return true;
}

static bool admin_signing_key_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return admin_path_parse(flag, value, &options->signing_key);
}

static bool admin_json_parse(void *context, const char *flag, const char *value) {
    (void)flag, (void)value;
    admin_options *options = context;
    options->json = true;
    return true;
}

static bool admin_kind_parse(void *context, const char *flag, const char *value) {
    admin_options *options = context;
    return tool_enum_parse(&fundflow__v1__org_kind__descriptor, flag, value, &options->kind);
}

/* Tables ------------------------------------------------------------------------------------ */

static int admin_demo_run(const admin_options *options, ff_ledger *ledger);
static int admin_positions_run(const admin_options *options, ff_ledger *ledger);
static int admin_verify_run(const admin_options *options, ff_ledger *ledger);
static int admin_rebuild_run(const admin_options *options, ff_ledger *ledger);
static int admin_head_run(const admin_options *options, ff_ledger *ledger);
static int admin_principal_run(const admin_options *options, ff_ledger *ledger);
static int admin_backup_run(const admin_options *options, ff_ledger *ledger);

static const admin_subcommand admin_subcommands[ADMIN_SUBCOMMAND_COUNT] = {
    [ADMIN_SUBCOMMAND_DEMO] = {
        "demo", "load an illustrative England for 2023/24 and 2024/25",
        "Registers NHS England (X24), its regions, the ICBs and the sub-ICB locations (as\n"
        "places) from the reference files, about 200 invented providers, a mental health\n"
        "provider collaborative, four joint committees and specialised service lines. Delegates\n"
        "specialised commissioning as in 2024/25 (full delegation in East of England, Midlands\n"
        "and North West; joint committees elsewhere). Allocates core services (£107.6bn),\n"
        "primary medical care (£11.2bn), running cost allowances and specialised budgets;\n"
        "passes budgets on to places and local authorities; agrees contracts of every type;\n"
        "pays M1 to M6; reports some outcomes; submits Agreement of Balances statements (a few\n"
        "deliberately mismatched) and closes M1 for a few bodies. Before that, 2023/24: lower\n"
        "allocations and a full year of mental health contracts, for year-on-year rules such as\n"
        "MHIS. Every figure is illustrative.\n"
        "The same seed always gives the same head hash, and running demo again records nothing\n"
        "new. Refused commands are printed and make the exit code 1.",
        true, admin_demo_run},
    [ADMIN_SUBCOMMAND_POSITIONS] = {
        "positions", "print each organisation's position in one stream and year",
        "Prints one row per organisation of a kind, with a TOTAL row at the end, in columns\n"
        "that add up on every row:\n"
        "  received              allocations and budgets received, and for a provider what\n"
        "                        its contracts paid it (NHS England: funding drawn)\n"
        "  passed on             allocations and budgets passed on\n"
        "  held                  = received - passed on\n"
        "  contract value        what its contracts as commissioner cost: paid + unpaid\n"
        "                        commitment + withheld + earned (fundflow position shows the\n"
        "                        parts)\n"
        "  uncommitted headroom  = held - contract value: what it may still commit or pass on",
        false, admin_positions_run},
    [ADMIN_SUBCOMMAND_VERIFY] = {
        "verify", "check the hash chain and every projection",
        "Replays the log into a scratch store under $TMPDIR (or /tmp), recomputing the hash\n"
        "chain from the first event to the last as it goes, and compares every projection\n"
        "table with it. Its memory does not grow with the ledger; the scratch store takes about\n"
        "as much disk as the data file. Shows progress on stderr when it is a terminal.\n"
        "Prints \"OK: N events, head S, hash HEX\", or \"FAILED at sequence S: error: reason\"\n"
        "and exits 1.",
        false, admin_verify_run},
    [ADMIN_SUBCOMMAND_REBUILD] = {
        "rebuild", "rebuild the projections from the event log",
        "Replays the log into a fresh store in DIR/rebuild.tmp and then swaps its file in for\n"
        "the data file in one step, so a failure or a crash leaves the projections as they\n"
        "were or all rebuilt, and the data file no bigger than the ledger needs. Run it with\n"
        "the server stopped: it refuses, changing nothing, while another process has the\n"
        "directory open. It needs free disk about the size of the data file. The log's bytes\n"
        "are copied unchanged. Plugins' projected data goes too (so does that of plugins no\n"
        "longer installed); fundflowd replays the log into each projecting plugin when it next\n"
        "loads it, or --plugin-dir does so now. Shows progress on stderr when it is a terminal.",
        false, admin_rebuild_run},
    [ADMIN_SUBCOMMAND_HEAD] = {
        "head", "print the head sequence and hash",
        "Prints the last event's sequence number and its hash in hexadecimal, one per line:\n"
        "\"sequence S\" and \"hash HEX\". An empty log has sequence 0 and a hash of zeros.",
        false, admin_head_run},
    [ADMIN_SUBCOMMAND_PRINCIPAL] = {
        "principal", "add a principal (and its token), or list them",
        "\"principal add NAME --role ROLE [--org CODE]\" grants NAME access to the ledger: it\n"
        "records a PrincipalGranted event (actor " ADMIN_PRINCIPAL_ACTOR ") with the SHA-256 of\n"
        "a new random token, and prints the token alone on the last line. The token is shown\n"
        "only then and stored nowhere; fundflowd takes it as \"Authorization: Bearer TOKEN\".\n"
        "NAME is 1 to 64 letters, digits and . _ @ -, and is never granted twice, even after\n"
        "it is revoked. --org scopes the principal to an organisation and what is below it;\n"
        "without it the principal is national. add creates the data directory if it is\n"
        "missing, so the first admin can be made before fundflowd first starts.\n"
        "\"principal list\" prints every principal by name, revoked ones included.",
        false, admin_principal_run},
    [ADMIN_SUBCOMMAND_BACKUP] = {
        "backup", "write a compacted copy of the ledger, and the head it holds",
        "\"backup --data-dir DIR FILE\" writes a compacted copy of the ledger to FILE (which\n"
        "must not exist) and the head the copy holds to FILE.head, in the lines head prints,\n"
        "then the copy's signed tree head: its Merkle root at exactly that size, signed now\n"
        "with the data directory's signing key (or --signing-key's), as fundflowd opens it,\n"
        "in the lines \"fundflow head save\" writes. The key is never put in the backup.\n"
        "It reads one consistent snapshot, so it may run while fundflowd writes (which\n"
        "BackupLedger, \"fundflow backup\", does from the server itself). Prints the file,\n"
        "its head and its size.",
        false, admin_backup_run},
    [ADMIN_SUBCOMMAND_RESTORE] = {
        "restore", "check a backup and put it in place as a data directory",
        "\"restore BACKUP DIR\" first checks the signature of the signed tree head in\n"
        "BACKUP.head (with its public key, or the one --key pins), then copies BACKUP into\n"
        "DIR.restore-tmp beside DIR, checks there the hash chain and every projection (as\n"
        "verify does), that the copy's head is the one recorded in BACKUP.head and that its\n"
        "Merkle tree, recomputed from its log, has the signed root, and only then renames it\n"
        "to DIR. A backup that fails is refused naming the cause (the first bad sequence, a\n"
        "signature that does not verify, a tree root that does not match the signed head,\n"
        "another key than the pinned one), and DIR is left as it was. A backup made before\n"
        "signed heads restores with a warning, unless --require-signed or --key. DIR must\n"
        "be missing or empty; --force moves a non-empty DIR aside to DIR.replaced-TIME\n"
        "first. --not-before refuses a backup that does not hold a head you kept (older, or\n"
        "another history). Needs no --data-dir; to --force over a live data directory, stop\n"
        "fundflowd first. Exits 1 if the backup fails a check, 2 if DIR is not empty, 4 if\n"
        "the backup or its head file cannot be read.",
        false, NULL},
};

static const tool_flag admin_flags[] = {
    {"--data-dir", "DIR", ADMIN_FOR_ALL, 0, admin_data_dir_parse,
     "The data directory holding the ledger. Required, unless the " ADMIN_DATA_DIR_ENVIRONMENT
     "\nenvironment variable names it. demo creates the directory if it is missing; every\n"
     "other subcommand needs a directory that already holds a ledger.", NULL},
    {"--map-bytes", "N", ADMIN_FOR_ALL, 0, admin_map_bytes_parse,
     "The LMDB map size to open with: a number of bytes, or with a K, M or G suffix for\n"
     "KiB, MiB or GiB, from 64K to 64G. The map grows by itself when it fills, so this\n"
     "only sets where it starts. Default: 64M.", NULL},
    {"--reference-dir", "DIR", ADMIN_FOR(ADMIN_SUBCOMMAND_DEMO), 0, admin_reference_dir_parse,
     "The folder holding " DEMO_REGIONS_FILE ", " DEMO_ICBS_FILE " and " DEMO_PLACES_FILE ".\n"
     "Default: " FF_REFERENCE_DATA_DIR, NULL},
    {"--seed", "N", ADMIN_FOR(ADMIN_SUBCOMMAND_DEMO), 0, admin_seed_parse,
     "Seeds the illustrative split: a whole number from 0 to 18446744073709551615.\n"
     "Default: 2024. Loading a different seed into a directory that already holds the\n"
     "demo is refused, command by command, as an idempotency conflict.", NULL},
    {"--ndjson", "FILE", ADMIN_FOR(ADMIN_SUBCOMMAND_DEMO), 0, admin_ndjson_parse,
     "Write the demo's commands to FILE ('-' for stdout) instead of applying them: one\n"
     "Command per line in proto3 JSON, ready for \"fundflow submit FILE\" against a running\n"
     "fundflowd. No data directory is needed. The server records its own clock and\n"
     "principal on each event, so its head hash differs from an offline demo's.", NULL},
    {"--year", "YYYY/YY", ADMIN_FOR(ADMIN_SUBCOMMAND_POSITIONS), 0, admin_year_parse,
     "The financial year, such as 2024/25. Default: 2024/25.", NULL},
    {"--stream", "NAME", ADMIN_FOR(ADMIN_SUBCOMMAND_POSITIONS), 0, admin_stream_parse,
     "The allocation stream, by name in any case. Default: core_services.",
     &fundflow__v1__stream__descriptor},
    {"--as-at", "SEQ", ADMIN_FOR(ADMIN_SUBCOMMAND_POSITIONS), 0, admin_as_at_parse,
     "Show the positions as they stood once event SEQ was recorded, leaving out\n"
     "organisations registered after it. Default: the head.", NULL},
    {"--kind", "NAME", ADMIN_FOR(ADMIN_SUBCOMMAND_POSITIONS), 0, admin_kind_parse,
     "The kind of organisation to list, by name in any case. Default: icb.",
     &fundflow__v1__org_kind__descriptor},
    {"--plugin-dir", "DIR", ADMIN_FOR(ADMIN_SUBCOMMAND_REBUILD), 0, admin_plugin_dir_parse,
     "After rebuilding, load every plugin in DIR and replay the log into the projected\n"
     "data of each that keeps one, then unload them. Plugins get no configuration here.",
     NULL},
    {"--role", "ROLE", ADMIN_FOR(ADMIN_SUBCOMMAND_PRINCIPAL), 0, admin_role_parse,
     "For add: what the principal may do. admin: everything; writer: commands whose acting\n"
     "organisation is in scope; reader: reads in scope; auditor: reads everything and\n"
     "verifies, never writes. Required for add.",
     &fundflow__v1__principal_role__descriptor},
    {"--org", "CODE", ADMIN_FOR(ADMIN_SUBCOMMAND_PRINCIPAL), 0, admin_org_parse,
     "For add: the organisation the principal is scoped to, registered already. Default:\n"
     "none (national).", NULL},
    {"--force", NULL, ADMIN_FOR(ADMIN_SUBCOMMAND_RESTORE), 0, admin_force_parse,
     "Restore into DIR even if it is not empty: DIR is first moved aside to\n"
     "DIR.replaced-TIME (nothing is deleted).", NULL},
    {"--not-before", "SEQ:HASH|FILE", ADMIN_FOR(ADMIN_SUBCOMMAND_RESTORE), 0,
     admin_not_before_parse,
     "Refuse a backup that does not hold this head: its head is older than SEQ, or its\n"
     "event SEQ has another hash. FILE holds \"sequence S\" and \"hash HEX\" lines, as\n"
     "head or a backup's .head file gives them.", NULL},
    {"--key", "FILE", ADMIN_FOR(ADMIN_SUBCOMMAND_RESTORE), 0, admin_key_parse,
     "Refuse a backup whose head is not signed by this key: FILE is a PEM public key, or a\n"
     "file with a \"public_key HEX\" line (a head \"fundflow head save\" wrote, or a\n"
     "backup's .head you trust). Default: the public key in BACKUP.head.", NULL},
    {"--require-signed", NULL, ADMIN_FOR(ADMIN_SUBCOMMAND_RESTORE), 0,
     admin_require_signed_parse,
     "Refuse a backup whose .head has no signed tree head (one made before signed heads),\n"
     "rather than restoring it with a warning.", NULL},
    {"--signing-key", "FILE", ADMIN_FOR(ADMIN_SUBCOMMAND_BACKUP), 0, admin_signing_key_parse,
     "The signing key to sign the backup's head with, when fundflowd is configured with\n"
     "one outside the data directory (signing_key). Default: DIR/" FF_SIGNING_KEY_FILE_NAME ",\n"
     "made if it is missing, as fundflowd does.", NULL},
    {"--json", NULL, ADMIN_FOR(ADMIN_SUBCOMMAND_PRINCIPAL), 0, admin_json_parse,
     "Print JSON: for add, {\"name\": NAME, \"token\": TOKEN}; for list, the principals as\n"
     "ListPrincipals answers them.", NULL},
    {"--help", NULL, ADMIN_FOR_ALL, 0, NULL, "Print this help and exit.", NULL},
};

_Static_assert(sizeof admin_flags / sizeof admin_flags[0] <= TOOL_FLAGS_MAX,
               "TOOL_FLAGS_MAX holds every flag");

static const tool_flag_table admin_flag_table = {
    ADMIN_PROGRAM, admin_flags, sizeof admin_flags / sizeof admin_flags[0], ADMIN_FOR_ALL};

/* Help -------------------------------------------------------------------------------------- */

static void admin_exit_codes_print(FILE *out) {
    fprintf(out, "\nExit codes:\n"
                 "  0  success\n"
                 "  1  the ledger refused a command, a check failed, or reading the ledger or\n"
                 "     the reference files failed\n"
                 "  2  usage error: an unknown subcommand or flag, a missing value, or a bad\n"
                 "     number, year or name (the message names the flag)\n"
                 "  4  the data directory cannot be opened (the message names it and says why)\n");
}

static void admin_usage_print(FILE *out) {
    fprintf(out, "Usage: " ADMIN_PROGRAM " <subcommand> --data-dir DIR [flags]\n"
                 "       " ADMIN_PROGRAM " --version\n\n"
                 "Administers a fundflow data directory offline: it opens the ledger directly\n"
                 "through the core library, with no server and no network.\n\nSubcommands:\n");
    for (int i = 0; i < ADMIN_SUBCOMMAND_COUNT; i++) {
        fputs("  ", out);
        tool_text_pad_write(out, admin_subcommands[i].name, ADMIN_SUBCOMMAND_NAME_COLUMNS);
        fprintf(out, " %s\n", admin_subcommands[i].summary);
    }
    fprintf(out, "\nFlags for every subcommand:\n");
    tool_flags_help_print(out, &admin_flag_table, ADMIN_FOR_ALL, TOOL_FLAGS_SHOWN_GLOBAL);
    admin_exit_codes_print(out);
    fprintf(out, "\nRun \"" ADMIN_PROGRAM " <subcommand> --help\" for a subcommand's own flags.\n");
}

static void admin_subcommand_help_print(FILE *out, admin_subcommand_id id) {
    const admin_subcommand *subcommand = &admin_subcommands[id];
    static const char *const operands[ADMIN_SUBCOMMAND_COUNT] = {
        [ADMIN_SUBCOMMAND_BACKUP] = " FILE", [ADMIN_SUBCOMMAND_RESTORE] = " BACKUP DIR"};
    fprintf(out, "Usage: " ADMIN_PROGRAM " %s%s%s", subcommand->name,
            id == ADMIN_SUBCOMMAND_RESTORE ? "" : " --data-dir DIR",
            operands[id] ? operands[id] : "");
    tool_flags_synopsis_print(out, &admin_flag_table, id);
    fprintf(out, "\n\n");
    tool_lines_print(out, subcommand->description, "");
    fprintf(out, "\nFlags:\n");
    tool_flags_help_print(out, &admin_flag_table, ADMIN_FOR(id), TOOL_FLAGS_SHOWN_ALL);
    admin_exit_codes_print(out);
}

/* Arguments --------------------------------------------------------------------------------- */

static admin_subcommand_id admin_subcommand_find(const char *name) {
    for (int i = 0; i < ADMIN_SUBCOMMAND_COUNT; i++) {
        if (strcmp(admin_subcommands[i].name, name) == 0) return (admin_subcommand_id)i;
    }
    return ADMIN_SUBCOMMAND_NONE;
}

static void admin_options_default(admin_options *options, admin_subcommand_id subcommand) {
    memset(options, 0, sizeof *options);
    options->subcommand = subcommand;
    options->seed = DEMO_SEED_DEFAULT;
    options->financial_year = DEMO_FINANCIAL_YEAR;
    options->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    options->as_at_sequence = UINT64_MAX;
    options->kind = FUNDFLOW__V1__ORG_KIND__ICB;
}

/* principal's own words: "add NAME" or "list". Returns how many positionals it read, or 0 after
 * saying what is wrong. */
static size_t admin_principal_words(char **argv, const tool_positionals *positionals,
                                    admin_options *options) {
    const char *action = positionals->count > 1 ? argv[positionals->indexes[1]] : "";
    if (strcmp(action, "list") == 0) return 2;
    if (strcmp(action, "add") == 0 && positionals->count > 2) {
        options->principal_add = true;
        options->principal_name = argv[positionals->indexes[2]];
        return 3;
    }
    fprintf(stderr, ADMIN_PROGRAM " principal: say \"add NAME --role ROLE\" or \"list\"\n");
    return 0;
}

/* backup's FILE, or restore's BACKUP and DIR. Returns how many positionals it read, or 0 after
 * saying what is missing. */
static size_t admin_backup_words(char **argv, const tool_positionals *positionals,
                                 admin_options *options) {
    bool restore = options->subcommand == ADMIN_SUBCOMMAND_RESTORE;
    size_t needed = restore ? 3 : 2;
    if (positionals->count < needed) {
        fprintf(stderr, ADMIN_PROGRAM " %s: say %s\n", restore ? "restore" : "backup",
                restore ? "\"restore BACKUP DIR\"" : "\"backup --data-dir DIR FILE\"");
        return 0;
    }
    options->backup_file = argv[positionals->indexes[1]];
    if (restore) options->restore_dir = argv[positionals->indexes[2]];
    return needed;
}

/* What principal needs beyond the flag table: a role for add, and neither role nor scope for
 * list. */
static int admin_principal_options_check(const admin_options *options) {
    if (options->principal_add && options->role == 0) {
        fprintf(stderr, ADMIN_PROGRAM " principal add: --role is required\n");
        return ADMIN_EXIT_USAGE;
    }
    if (!options->principal_add && (options->role != 0 || options->scope != NULL)) {
        fprintf(stderr, ADMIN_PROGRAM " principal list: --role and --org are for add\n");
        return ADMIN_EXIT_USAGE;
    }
    return ADMIN_EXIT_OK;
}

/* Reads every argument except the subcommand into options, then, if no flag named the data
 * directory, takes it from the environment. */
static int admin_arguments_parse(int argc, char **argv, const tool_positionals *positionals,
                                 admin_options *options) {
    size_t used = 1;
    if (options->subcommand == ADMIN_SUBCOMMAND_PRINCIPAL) {
        used = admin_principal_words(argv, positionals, options);
        if (used == 0) return ADMIN_EXIT_USAGE;
    }
    if (options->subcommand == ADMIN_SUBCOMMAND_BACKUP ||
        options->subcommand == ADMIN_SUBCOMMAND_RESTORE) {
        used = admin_backup_words(argv, positionals, options);
        if (used == 0) return ADMIN_EXIT_USAGE;
        if (options->subcommand == ADMIN_SUBCOMMAND_RESTORE) {
            tool_flags_context context = {options->subcommand, "restore", used};
            return tool_flags_apply(&admin_flag_table, argc, argv, positionals, &context, options)
                       ? ADMIN_EXIT_OK
                       : ADMIN_EXIT_USAGE;
        }
    }
    tool_flags_context context = {options->subcommand, admin_subcommands[options->subcommand].name,
                                  used};
    if (!tool_flags_apply(&admin_flag_table, argc, argv, positionals, &context, options)) {
        return ADMIN_EXIT_USAGE;
    }
    if (options->subcommand == ADMIN_SUBCOMMAND_PRINCIPAL) {
        int code = admin_principal_options_check(options);
        if (code != ADMIN_EXIT_OK) return code;
    }
    if (options->data_dir == NULL) {
        const char *from_environment = getenv(ADMIN_DATA_DIR_ENVIRONMENT);
        if (from_environment != NULL && from_environment[0] != '\0') {
            options->data_dir = from_environment;
        }
    }
    if (options->data_dir == NULL && options->ndjson_path == NULL) {
        fprintf(stderr, ADMIN_PROGRAM ": --data-dir is required (or set "
                        ADMIN_DATA_DIR_ENVIRONMENT ")\n");
        return ADMIN_EXIT_USAGE;
    }
    return ADMIN_EXIT_OK;
}

/* Opening ----------------------------------------------------------------------------------- */

static int admin_data_dir_fail(const char *data_dir, const char *reason) {
    fprintf(stderr, ADMIN_PROGRAM ": cannot open data directory %s: %s\n", data_dir, reason);
    return ADMIN_EXIT_DATA_DIR;
}

/* Checks the directory before LMDB sees it, so that the message can say what is wrong. Only demo
 * may create one: the other subcommands would otherwise leave an empty ledger behind a typo. */
static int admin_data_dir_check(const char *data_dir, bool create) {
    if (create && mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        return admin_data_dir_fail(data_dir, strerror(errno));
    }
    struct stat status;
    if (stat(data_dir, &status) != 0) return admin_data_dir_fail(data_dir, strerror(errno));
    if (!S_ISDIR(status.st_mode)) return admin_data_dir_fail(data_dir, "it is not a directory");
    /* LMDB writes its lock file even to read, so every subcommand needs write access. */
    if (access(data_dir, R_OK | W_OK | X_OK) != 0) {
        return admin_data_dir_fail(data_dir, strerror(errno));
    }
    char data_file[4096];
    int length = snprintf(data_file, sizeof data_file, "%s/data.mdb", data_dir);
    if (length < 0 || (size_t)length >= sizeof data_file) {
        return admin_data_dir_fail(data_dir, "the path is too long");
    }
    if (!create && access(data_file, F_OK) != 0) {
        return admin_data_dir_fail(data_dir, "it holds no ledger (there is no data.mdb)");
    }
    return ADMIN_EXIT_OK;
}

static int admin_ledger_open(const admin_options *options, ff_ledger **ledger_out) {
    const admin_subcommand *subcommand = &admin_subcommands[options->subcommand];
    bool create = subcommand->creates_data_dir || options->principal_add;
    int code = admin_data_dir_check(options->data_dir, create);
    if (code != ADMIN_EXIT_OK) return code;
    store_options store = {.data_dir = options->data_dir, .map_bytes = options->map_bytes};
    ff_err err = ledger_open(&store, ledger_out);
    if (err != FF_OK) {
        char reason[256];
        snprintf(reason, sizeof reason, "%s (%s)", ff_strerror(err), ff_err_name(err));
        return admin_data_dir_fail(options->data_dir, reason);
    }
    return ADMIN_EXIT_OK;
}

/* Subcommands ------------------------------------------------------------------------------- */

static void admin_hash_format(const uint8_t hash[DIGEST_BYTES], char text[ADMIN_HASH_TEXT_BYTES]) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < DIGEST_BYTES; i++) {
        text[2 * i] = digits[hash[i] >> 4];
        text[2 * i + 1] = digits[hash[i] & 0x0F];
    }
    text[2 * DIGEST_BYTES] = '\0';
}

static int admin_demo_run(const admin_options *options, ff_ledger *ledger) {
    demo_options demo = {.reference_dir = options->reference_dir ? options->reference_dir
                                                                 : FF_REFERENCE_DATA_DIR,
                         .seed = options->seed,
                         .refusals = stderr};
    demo_summary summary;
    ff_err err = demo_load(ledger, &demo, &summary);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " demo: %s\n", summary.error);
        return ADMIN_EXIT_FAILED;
    }
    char hash[ADMIN_HASH_TEXT_BYTES];
    admin_hash_format(summary.head.hash, hash);
    printf("Demo for 2023/24 and 2024/25, seed %" PRIu64 ", reference files in %s\n", options->seed,
           demo.reference_dir);
    printf("Organisations registered: %zu (%zu new)\n", summary.organisations,
           summary.organisations_new);
    printf("Events recorded:          %" PRIu64 "\n", summary.events_recorded);
    printf("Events already present:   %" PRIu64 "\n", summary.events_already_present);
    printf("Commands refused:         %" PRIu64 "\n", summary.commands_refused);
    demo_summary_kinds_write(&summary, stdout);
    printf("Head sequence:            %" PRIu64 "\n", summary.head.sequence);
    printf("Head hash:                %s\n", hash);
    printf("Every figure is illustrative: the organisations are real, but each amount is made "
           "up from the seed to match published 2024/25 national totals.\n");
    if (summary.commands_refused > 0) {
        fprintf(stderr, ADMIN_PROGRAM " demo: the ledger refused %" PRIu64 " of %" PRIu64
                        " commands\n",
                summary.commands_refused, summary.commands);
        return ADMIN_EXIT_FAILED;
    }
    return ADMIN_EXIT_OK;
}

/* demo --ndjson: writes the demo's commands to a file, or stdout, and opens no ledger. */
static int admin_demo_ndjson_run(const admin_options *options) {
    demo_options demo = {.reference_dir = options->reference_dir ? options->reference_dir
                                                                 : FF_REFERENCE_DATA_DIR,
                         .seed = options->seed};
    bool to_stdout = strcmp(options->ndjson_path, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(options->ndjson_path, "w");
    if (out == NULL) {
        fprintf(stderr, ADMIN_PROGRAM " demo: cannot create %s: %s\n", options->ndjson_path,
                strerror(errno));
        return ADMIN_EXIT_FAILED;
    }
    demo_summary summary;
    ff_err err = demo_ndjson_write(&demo, out, &summary);
    /* A full disk shows up only when the file is flushed, so closing is part of writing. */
    if ((to_stdout ? fflush(out) : fclose(out)) != 0 && err == FF_OK) {
        err = FF_ERR_IO;
        snprintf(summary.error, sizeof summary.error, "cannot write %s: %s",
                 options->ndjson_path, strerror(errno));
    }
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " demo: %s\n", summary.error);
        return ADMIN_EXIT_FAILED;
    }
    fprintf(stderr, ADMIN_PROGRAM " demo: wrote %" PRIu64 " commands for 2023/24 and 2024/25, seed %" PRIu64
                    ", to %s; every figure is illustrative\n",
            summary.commands, options->seed, to_stdout ? "stdout" : options->ndjson_path);
    demo_summary_kinds_write(&summary, stderr);
    return ADMIN_EXIT_OK;
}

static int admin_check_failed(const verify_report *report) {
    printf("FAILED at sequence %" PRIu64 ": %s: %s\n", report->sequence,
           ff_err_name(report->code), report->reason);
    return ADMIN_EXIT_FAILED;
}

static int admin_head_failed(ff_err err) {
    fprintf(stderr, ADMIN_PROGRAM ": cannot read the log's head: %s\n", ff_strerror(err));
    return ADMIN_EXIT_FAILED;
}

/* Reads the head and writes its hash as hex. Returns ADMIN_EXIT_OK, or what
 * admin_head_failed returns after saying why. */
static int admin_head_describe(ff_ledger *ledger, log_head *head,
                               char hash[ADMIN_HASH_TEXT_BYTES]) {
    ff_err err = ledger_head_read(ledger, head);
    if (err != FF_OK) return admin_head_failed(err);
    admin_hash_format(head->hash, hash);
    return ADMIN_EXIT_OK;
}

/* Progress of verify and rebuild on stderr, one line rewritten in place: only when stderr is a
 * terminal, so that scripts and logs see none of it. */
static void admin_progress_show(void *context, verify_stage stage, uint64_t done, uint64_t total) {
    (void)context;
    static const char *const stage_names[] = {
        [VERIFY_STAGE_CHAIN] = "checking the hash chain",
        [VERIFY_STAGE_REPLAY] = "checking the chain and replaying the log",
        [VERIFY_STAGE_COMPARE] = "comparing projection tables",
    };
    const char *unit = stage == VERIFY_STAGE_COMPARE ? "tables" : "events";
    if (total > 0) {
        fprintf(stderr, "\r%s: %" PRIu64 " of %" PRIu64 " %s (%" PRIu64 "%%)\033[K",
                stage_names[stage], done, total, unit, done * 100 / total);
    } else {
        fprintf(stderr, "\r%s: %" PRIu64 " %s\033[K", stage_names[stage], done, unit);
    }
    fflush(stderr);
}

/* The progress reporter for a terminal, or NULL when stderr is not one. */
static const verify_progress *admin_progress(void) {
    static const verify_progress on_terminal = {admin_progress_show, NULL};
    return isatty(STDERR_FILENO) ? &on_terminal : NULL;
}

/* Clears the progress line, if there is one, before the result is printed. */
static void admin_progress_end(const verify_progress *progress) {
    if (progress != NULL) fprintf(stderr, "\r\033[K");
}

static int admin_verify_run(const admin_options *options, ff_ledger *ledger) {
    (void)options;
    verify_report report;
    verify_tree_report tree;
    const verify_progress *progress = admin_progress();
    ff_err err = verify_ledger_tree_watched(ledger_store(ledger), NULL, progress, &report, &tree);
    admin_progress_end(progress);
    if (err != FF_OK) return admin_check_failed(&report);
    log_head head;
    char hash[ADMIN_HASH_TEXT_BYTES];
    int code = admin_head_describe(ledger, &head, hash);
    if (code != ADMIN_EXIT_OK) return code;
    printf("OK: %" PRIu64 " events, head %" PRIu64 ", hash %s\n", report.events_checked,
           head.sequence, hash);
    return admin_tree_verify(ledger, &tree) == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAILED;
}

/* Loads the plugins in options->plugin_dir, which replays the log into every projecting
 * plugin's data, and says how many did so. */
static int admin_plugins_replay(const admin_options *options, ff_ledger *ledger) {
    const char *directories[] = {options->plugin_dir};
    plugins_options plugin_options = {directories, 1, NULL, 0};
    ff_plugins *plugins = NULL;
    ff_err err = plugins_load(ledger, &plugin_options, &plugins);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM ": cannot replay the log into the plugins in %s: %s\n",
                options->plugin_dir, ff_strerror(err));
        return ADMIN_EXIT_FAILED;
    }
    Fundflow__V1__ListPluginsResponse *list = NULL;
    err = plugins_list(plugins, &list);
    size_t projecting = 0, stopped = 0, skipped = list ? list->n_load_errors : 0;
    for (size_t i = 0; list && i < list->n_plugins; i++) {
        const Fundflow__V1__PluginInfo *plugin = list->plugins[i];
        for (size_t h = 0; h < plugin->n_hooks; h++) {
            if (strcmp(plugin->hooks[h], "project") != 0) continue;
            projecting++;
            if (plugin->projected_through_sequence == list->head_sequence) continue;
            stopped++;
            fprintf(stderr, ADMIN_PROGRAM ": plugin %s's projection stopped at event %" PRIu64
                            " (see above)\n",
                    plugin->name, plugin->projected_through_sequence);
        }
    }
    if (list) fundflow__v1__list_plugins_response__free_unpacked(list, NULL);
    plugins_unload(plugins);
    if (err != FF_OK) return ADMIN_EXIT_FAILED;
    printf("Replayed the log into %zu projecting plugin%s from %s\n", projecting - stopped,
           projecting - stopped == 1 ? "" : "s", options->plugin_dir);
    if (skipped == 0 && stopped == 0) return ADMIN_EXIT_OK;
    if (skipped != 0) {
        fprintf(stderr, ADMIN_PROGRAM ": %zu plugin%s in %s could not be loaded (see above)\n",
                skipped, skipped == 1 ? "" : "s", options->plugin_dir);
    }
    return ADMIN_EXIT_FAILED;
}

static int admin_rebuild_run(const admin_options *options, ff_ledger *ledger) {
    verify_report report;
    const verify_progress *progress = admin_progress();
    ff_err err = verify_rebuild_watched(ledger_store(ledger), progress, &report);
    admin_progress_end(progress);
    if (err != FF_OK) return admin_check_failed(&report);
    log_head head;
    char hash[ADMIN_HASH_TEXT_BYTES];
    int code = admin_head_describe(ledger, &head, hash);
    if (code != ADMIN_EXIT_OK) return code;
    printf("Rebuilt every projection by replaying %" PRIu64 " events; head %" PRIu64
           ", hash %s\n",
           report.events_checked, head.sequence, hash);
    return options->plugin_dir ? admin_plugins_replay(options, ledger) : ADMIN_EXIT_OK;
}

static int admin_head_run(const admin_options *options, ff_ledger *ledger) {
    (void)options;
    log_head head;
    char hash[ADMIN_HASH_TEXT_BYTES];
    int code = admin_head_describe(ledger, &head, hash);
    if (code != ADMIN_EXIT_OK) return code;
    printf("sequence %" PRIu64 "\nhash %s\n", head.sequence, hash);
    return ADMIN_EXIT_OK;
}

static int admin_backup_run(const admin_options *options, ff_ledger *ledger) {
    backup_head head;
    char reason[4608], hash[ADMIN_HASH_TEXT_BYTES];
    ff_signer *signer = NULL;
    ff_err err = signing_open(ledger_store(ledger), options->signing_key, &signer, reason,
                              sizeof reason);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " backup: %s\n", reason);
        return ADMIN_EXIT_DATA_DIR;
    }
    err = backup_write(ledger_store(ledger), options->backup_file, &head, reason, sizeof reason);
    signing_close(signer);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " backup: %s\n", reason);
        return ADMIN_EXIT_FAILED;
    }
    struct stat status;
    uint64_t bytes = stat(options->backup_file, &status) == 0 ? (uint64_t)status.st_size : 0;
    admin_hash_format(head.log.hash, hash);
    printf("Backed up to %s (%" PRIu64 " bytes): head %" PRIu64 ", hash %s; head recorded in "
           "%s" BACKUP_HEAD_SUFFIX ", signed\n",
           options->backup_file, bytes, head.log.sequence, hash, options->backup_file);
    return ADMIN_EXIT_OK;
}

/* Exit 1 for a backup that fails a check, 2 for a target that needs --force or a bad head
 * file, 4 for a directory or file that cannot be used. */
static int admin_restore_run(const admin_options *options) {
    backup_restore_options restore = {options->backup_file, options->restore_dir, options->force,
                                      options->not_before_given ? &options->not_before : NULL,
                                      options->key_given ? options->pinned_key : NULL,
                                      options->require_signed};
    backup_restore_report report;
    ff_err err = backup_restore(&restore, &report);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " restore: refused (%s): %s\n", ff_err_name(err),
                report.reason);
        if (err == FF_ERR_RESTORE_TARGET_NOT_EMPTY) return ADMIN_EXIT_USAGE;
        return err == FF_ERR_IO ? ADMIN_EXIT_DATA_DIR : ADMIN_EXIT_FAILED;
    }
    char hash[ADMIN_HASH_TEXT_BYTES];
    admin_hash_format(report.head.log.hash, hash);
    if (report.unsigned_backup) {
        fprintf(stderr, ADMIN_PROGRAM " restore: warning: %s" BACKUP_HEAD_SUFFIX " carries no "
                        "signed tree head (a backup made before signed heads): only its hash "
                        "chain and projections were checked; --require-signed refuses such a "
                        "backup\n",
                options->backup_file);
    }
    if (report.moved_aside[0] != '\0') {
        printf("Moved the old %s aside to %s\n", options->restore_dir, report.moved_aside);
    }
    printf("Restored %s into %s: verified %" PRIu64 " events, head %" PRIu64 ", hash %s%s\n",
           options->backup_file, options->restore_dir, report.check.events_checked,
           report.head.log.sequence, hash,
           report.head.is_signed ? "; its signed tree head verifies and matches its tree" : "");
    return ADMIN_EXIT_OK;
}

static int admin_principal_run(const admin_options *options, ff_ledger *ledger) {
    if (!options->principal_add) return admin_principal_list(ledger, options->json);
    admin_principal_request request = {options->principal_name, options->role, options->scope,
                                       options->json};
    return admin_principal_add(ledger, &request);
}

/* Positions --------------------------------------------------------------------------------- */

/* The columns of a positions row, under the definitions in ledger.proto's Position: received
 * (NHS England's funding drawn counted in) - passed on = held, and held - contract value =
 * uncommitted headroom. The ledger reads no contract figures, but its postings keep the BUDGET
 * account (the headroom) equal to held less contract value, so contract value is held less the
 * headroom. */
#define ADMIN_FIGURE_COUNT 5
typedef struct admin_position_figures {
    int64_t pence[ADMIN_FIGURE_COUNT]; /* received, passed on, held, contract value, headroom */
} admin_position_figures;

typedef struct admin_position_row {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    admin_position_figures figures;
} admin_position_row;

typedef struct admin_position_table {
    admin_position_row *rows;
    size_t row_count;
    size_t row_capacity;
    uint32_t kind;
    uint64_t as_at_sequence;
    admin_position_figures total;
} admin_position_table;

#define ADMIN_COLUMN_COUNT (2 + ADMIN_FIGURE_COUNT)

/* Keeps the organisations of the table's kind that existed at its sequence. */
static ff_err admin_org_collect(void *context, const Fundflow__V1__OrgRecord *org) {
    admin_position_table *table = context;
    if ((uint32_t)org->kind != table->kind) return FF_OK;
    if (org->registered_sequence > table->as_at_sequence) return FF_OK;
    if (table->row_count == ADMIN_POSITION_ROWS_MAX) return FF_ERR_FIELD_TOO_LONG;
    if (table->row_count == table->row_capacity) {
        size_t capacity = table->row_capacity ? table->row_capacity * 2 : 64;
        if (capacity > ADMIN_POSITION_ROWS_MAX) capacity = ADMIN_POSITION_ROWS_MAX;
        admin_position_row *grown = realloc(table->rows, capacity * sizeof *grown);
        if (grown == NULL) return FF_ERR_NO_MEMORY;
        table->rows = grown;
        table->row_capacity = capacity;
    }
    admin_position_row *row = &table->rows[table->row_count++];
    memset(row, 0, sizeof *row);
    snprintf(row->code, sizeof row->code, "%s", org->code);
    snprintf(row->name, sizeof row->name, "%s", org->name);
    return FF_OK;
}

/* A row's figures from the ledger's position, every sum overflow-checked. */
static ff_err admin_position_figures_make(const ledger_position *position,
                                          admin_position_figures *figures) {
    int64_t received = 0, held = 0, value = 0;
    ff_err err = money_add(position->received_pence, position->funding_drawn_pence, &received);
    if (err == FF_OK) err = money_subtract(received, position->passed_on_pence, &held);
    if (err == FF_OK) err = money_subtract(held, position->headroom_pence, &value);
    const int64_t all[ADMIN_FIGURE_COUNT] = {received, position->passed_on_pence, held, value,
                                             position->headroom_pence};
    memcpy(figures->pence, all, sizeof all);
    return err;
}

static ff_err admin_position_total_add(admin_position_figures *total,
                                       const admin_position_figures *figures) {
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < ADMIN_FIGURE_COUNT; i++) {
        err = money_add(total->pence[i], figures->pence[i], &total->pence[i]);
    }
    return err;
}

static int admin_positions_fill(ff_ledger *ledger, const admin_options *options,
                                admin_position_table *table) {
    for (size_t i = 0; i < table->row_count; i++) {
        admin_position_row *row = &table->rows[i];
        ledger_position position;
        ff_err err = ledger_position_read(ledger, row->code, options->stream,
                                          options->financial_year, table->as_at_sequence,
                                          &position);
        if (err == FF_OK) err = admin_position_figures_make(&position, &row->figures);
        if (err == FF_OK) err = admin_position_total_add(&table->total, &row->figures);
        if (err != FF_OK) {
            fprintf(stderr, ADMIN_PROGRAM " positions: cannot add up the position of %s: %s\n",
                    row->code, ff_strerror(err));
            return ADMIN_EXIT_FAILED;
        }
    }
    return ADMIN_EXIT_OK;
}

/* Copies name, cut to ADMIN_NAME_COLUMNS characters with "..." at the end if it is longer. */
static void admin_name_cut(const char *name, char *cut, size_t cut_bytes) {
    static const char ellipsis[] = "...";
    assert(cut_bytes > sizeof ellipsis);
    size_t length = strlen(name);
    if (tool_text_columns(name) <= ADMIN_NAME_COLUMNS && length < cut_bytes) {
        memcpy(cut, name, length + 1);
        return;
    }
    /* Stop at the start of a character, so no UTF-8 sequence is split. */
    size_t kept = 0, columns = 0;
    while (name[kept] != '\0' && kept + sizeof ellipsis < cut_bytes) {
        if (((unsigned char)name[kept] & 0xC0) != 0x80 &&
            ++columns > ADMIN_NAME_COLUMNS - (sizeof ellipsis - 1)) {
            break;
        }
        kept++;
    }
    while (kept > 0 && ((unsigned char)name[kept] & 0xC0) == 0x80) kept--;
    memcpy(cut, name, kept);
    memcpy(cut + kept, ellipsis, sizeof ellipsis);
}

static void admin_row_print(const char *const cells[ADMIN_COLUMN_COUNT],
                            const size_t widths[ADMIN_COLUMN_COUNT]) {
    for (size_t i = 0; i < ADMIN_COLUMN_COUNT; i++) {
        size_t padding = widths[i] - tool_text_columns(cells[i]);
        /* Codes and names read left to right; amounts line up on their pence. */
        bool right = i >= 2;
        if (i > 0) fputs("  ", stdout);
        if (right) printf("%*s", (int)padding, "");
        fputs(cells[i], stdout);
        if (!right && i + 1 < ADMIN_COLUMN_COUNT) printf("%*s", (int)padding, "");
    }
    fputc('\n', stdout);
}

/* Fills one row's cells; money is the caller's space for the amounts. */
static void admin_row_cells(const char *code, const char *name,
                            const admin_position_figures *figures,
                            char money[ADMIN_FIGURE_COUNT][FF_MONEY_TEXT_BYTES],
                            const char *cells[ADMIN_COLUMN_COUNT]) {
    cells[0] = code;
    cells[1] = name;
    for (size_t i = 0; i < ADMIN_FIGURE_COUNT; i++) {
        money_format(figures->pence[i], money[i], FF_MONEY_TEXT_BYTES);
        cells[2 + i] = money[i];
    }
}

static void admin_widths_widen(size_t widths[ADMIN_COLUMN_COUNT],
                               const char *const cells[ADMIN_COLUMN_COUNT]) {
    for (size_t i = 0; i < ADMIN_COLUMN_COUNT; i++) {
        size_t columns = tool_text_columns(cells[i]);
        if (columns > widths[i]) widths[i] = columns;
    }
}

/* Prints the header, every row and the total, measuring every cell first so columns line up. */
static void admin_position_rows_print(const admin_position_table *table,
                                      const char *total_label) {
    static const char *const headings[ADMIN_COLUMN_COUNT] = {
        "code", "name", "received", "passed on", "held", "contract value",
        "uncommitted headroom"};
    size_t widths[ADMIN_COLUMN_COUNT] = {0};
    char money[ADMIN_FIGURE_COUNT][FF_MONEY_TEXT_BYTES], name[FF_ORG_NAME_BYTES_MAX + 1];
    const char *cells[ADMIN_COLUMN_COUNT];
    admin_widths_widen(widths, headings);
    admin_row_cells("TOTAL", total_label, &table->total, money, cells);
    admin_widths_widen(widths, cells);
    for (size_t i = 0; i < table->row_count; i++) {
        admin_name_cut(table->rows[i].name, name, sizeof name);
        admin_row_cells(table->rows[i].code, name, &table->rows[i].figures, money, cells);
        admin_widths_widen(widths, cells);
    }
    admin_row_print(headings, widths);
    for (size_t i = 0; i < table->row_count; i++) {
        admin_name_cut(table->rows[i].name, name, sizeof name);
        admin_row_cells(table->rows[i].code, name, &table->rows[i].figures, money, cells);
        admin_row_print(cells, widths);
    }
    admin_row_cells("TOTAL", total_label, &table->total, money, cells);
    admin_row_print(cells, widths);
}

static void admin_positions_print(const admin_options *options,
                                  const admin_position_table *table, uint64_t head_sequence,
                                  bool illustrative) {
    const ProtobufCEnumValue *kind =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__org_kind__descriptor,
                                             (int)options->kind);
    const ProtobufCEnumValue *stream =
        protobuf_c_enum_descriptor_get_value(&fundflow__v1__stream__descriptor,
                                             (int)options->stream);
    /* Both were looked up by name when the flags were read, so both exist. */
    assert(kind != NULL && stream != NULL);
    char year[CALENDAR_YEAR_TEXT_BYTES], total_label[64];
    calendar_year_format(options->financial_year, year, sizeof year);
    printf("Positions of kind %s in stream %s for %s, as at sequence %" PRIu64
           " (head %" PRIu64 ")\n\n",
           kind->name, stream->name, year, table->as_at_sequence, head_sequence);
    snprintf(total_label, sizeof total_label, "%zu organisation%s", table->row_count,
             table->row_count == 1 ? "" : "s");
    admin_position_rows_print(table, total_label);
    if (illustrative) {
        printf("\nThis ledger holds the fundflow-admin demo: its figures are illustrative, made "
               "up to match national totals, and are not real allocations.\n");
    }
}

static int admin_positions_run(const admin_options *options, ff_ledger *ledger) {
    admin_position_table table;
    memset(&table, 0, sizeof table);
    table.kind = options->kind;
    int code = ADMIN_EXIT_FAILED;
    log_head head;
    bool illustrative = false;
    ff_err err = ledger_head_read(ledger, &head);
    if (err != FF_OK) {
        code = admin_head_failed(err);
        goto done;
    }
    /* Every figure is read as at one sequence, so the table is consistent even if a server
     * records events while it is printed. */
    table.as_at_sequence = options->as_at_sequence < head.sequence ? options->as_at_sequence
                                                                   : head.sequence;
    err = ledger_orgs_visit(ledger, admin_org_collect, &table);
    if (err == FF_ERR_FIELD_TOO_LONG) {
        fprintf(stderr, ADMIN_PROGRAM " positions: more than %d organisations to list\n",
                ADMIN_POSITION_ROWS_MAX);
        goto done;
    }
    if (err == FF_OK) err = demo_presence_read(ledger, &illustrative);
    if (err != FF_OK) {
        fprintf(stderr, ADMIN_PROGRAM " positions: cannot read the organisations: %s\n",
                ff_strerror(err));
        goto done;
    }
    code = admin_positions_fill(ledger, options, &table);
    if (code == ADMIN_EXIT_OK) admin_positions_print(options, &table, head.sequence, illustrative);
done:
    free(table.rows);
    return code;
}

/* Main -------------------------------------------------------------------------------------- */

/* "fundflow-admin help [subcommand]" prints the same help as --help. */
static int admin_help_subcommand_run(int argc, char **argv, int index) {
    admin_subcommand_id id = index + 1 < argc ? admin_subcommand_find(argv[index + 1])
                                              : ADMIN_SUBCOMMAND_NONE;
    if (id == ADMIN_SUBCOMMAND_NONE) admin_usage_print(stdout);
    else admin_subcommand_help_print(stdout, id);
    return ADMIN_EXIT_OK;
}

static int admin_subcommand_execute(const admin_options *options) {
    if (options->subcommand == ADMIN_SUBCOMMAND_RESTORE) return admin_restore_run(options);
    ff_ledger *ledger = NULL;
    int code = admin_ledger_open(options, &ledger);
    if (code != ADMIN_EXIT_OK) return code;
    code = admin_subcommands[options->subcommand].run(options, ledger);
    ledger_close(ledger);
    /* A full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, ADMIN_PROGRAM ": cannot write the output: %s\n", strerror(errno));
        code = ADMIN_EXIT_FAILED;
    }
    return code;
}

int main(int argc, char **argv) {
    tool_program_name_set(ADMIN_PROGRAM);
    if (tool_version_print_if_asked(ADMIN_PROGRAM, argc, argv)) return ADMIN_EXIT_OK;
    /* The subcommand is the first word; flags may come before it as well as after. */
    tool_positionals positionals;
    tool_positionals_collect(&admin_flag_table, argc, argv, &positionals);
    bool help = positionals.help;
    if (positionals.count == 0) {
        admin_usage_print(help ? stdout : stderr);
        return help ? ADMIN_EXIT_OK : ADMIN_EXIT_USAGE;
    }
    int index = positionals.indexes[0];
    if (strcmp(argv[index], "help") == 0) return admin_help_subcommand_run(argc, argv, index);
    admin_subcommand_id id = admin_subcommand_find(argv[index]);
    if (id == ADMIN_SUBCOMMAND_NONE) {
        fprintf(stderr, ADMIN_PROGRAM ": unknown subcommand \"%s\"; run " ADMIN_PROGRAM
                        " --help for the list\n",
                argv[index]);
        return ADMIN_EXIT_USAGE;
    }
    if (help) {
        admin_subcommand_help_print(stdout, id);
        return ADMIN_EXIT_OK;
    }
    admin_options options;
    admin_options_default(&options, id);
    int code = admin_arguments_parse(argc, argv, &positionals, &options);
    if (code != ADMIN_EXIT_OK) return code;
    if (options.ndjson_path != NULL) return admin_demo_ndjson_run(&options);
    return admin_subcommand_execute(&options);
}
