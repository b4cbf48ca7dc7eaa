/* fundflow head save, verify --since and prove: the client's side of the signed tree heads.
 * The client checks every signature and proof itself (merkle/merkle.h, signed_head.h) and
 * trusts only a public key: the one in a saved head's file, or --key FILE.
 *
 * A saved head's file is text, one "name value" line each, '#' lines ignored:
 *
 *     tree_size 40
 *     root_hash <64 hex digits>
 *     timestamp_us <decimal>
 *     key_id <64 hex digits>
 *     signature <128 hex digits>
 *     public_key <64 hex digits>
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "cli.h"
#include "cli_output.h"
#include "cli_values.h"
#include "merkle.h"
#include "signed_head.h"
#include "fundflow/v1/ledger.pb-c.h"

#define CLI_TREE_LINE_BYTES 512
#define CLI_TREE_SIGNATURE_TEXT_BYTES (2 * SIGNED_HEAD_SIGNATURE_BYTES + 1)

/* A head as saved, with the key it is checked with. */
typedef struct cli_saved_head {
    signed_head head;
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    bool has_public_key;
} cli_saved_head;

static bool cli_tree_hex_read(const char *text, uint8_t *out, size_t bytes) {
    if (strlen(text) != 2 * bytes) return false;
    for (size_t i = 0; i < bytes; i++) {
        unsigned value;
        if (sscanf(text + 2 * i, "%2x", &value) != 1) return false;
        out[i] = (uint8_t)value;
    }
    return true;
}

/* Calls method and hands back its decoded reply, or reports the refusal; prints nothing on
 * success, whatever the output mode. */
static int cli_tree_call(cli_session *session, const char *method,
                         const ProtobufCMessage *request, const ProtobufCMessageDescriptor *output,
                         cli_reply *reply) {
    int code = cli_rpc_call(session, method, request, output, reply);
    if (code != CLI_EXIT_OK) return code;
    return reply->http_status == 200 && reply->message != NULL
               ? CLI_EXIT_OK
               : cli_reply_refusal_report(session, reply);
}

/* A head from its message; false if a field has the wrong length. */
static bool cli_tree_head_from(const Fundflow__V1__SignedTreeHead *message, signed_head *head) {
    memset(head, 0, sizeof *head);
    if (message == NULL || message->root_hash.len != MERKLE_HASH_BYTES ||
        message->key_id.len != SIGNED_HEAD_KEY_ID_BYTES ||
        message->signature.len != SIGNED_HEAD_SIGNATURE_BYTES) {
        return false;
    }
    head->tree_size = message->tree_size;
    head->timestamp_us = message->timestamp_us;
    memcpy(head->root.bytes, message->root_hash.data, MERKLE_HASH_BYTES);
    memcpy(head->key_id, message->key_id.data, SIGNED_HEAD_KEY_ID_BYTES);
    memcpy(head->signature, message->signature.data, SIGNED_HEAD_SIGNATURE_BYTES);
    return true;
}

/* Prints "FAILED: " with what and why (either may be "") and returns the refusal's exit code. */
static int cli_tree_failed(const char *what, const char *why) {
    printf("FAILED: %s%s\n", what, why);
    return CLI_EXIT_REFUSED;
}

/* ---- the files ---- */

static int cli_tree_file_line(cli_saved_head *saved, const char *name, const char *value,
                              unsigned *seen) {
    signed_head *head = &saved->head;
    char *end = NULL;
    if (strcmp(name, "tree_size") == 0) {
        errno = 0;
        head->tree_size = strtoull(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0') *seen |= 1;
    } else if (strcmp(name, "timestamp_us") == 0) {
        errno = 0;
        head->timestamp_us = strtoull(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0') *seen |= 2;
    } else if (strcmp(name, "root_hash") == 0) {
        if (cli_tree_hex_read(value, head->root.bytes, MERKLE_HASH_BYTES)) *seen |= 4;
    } else if (strcmp(name, "key_id") == 0) {
        if (cli_tree_hex_read(value, head->key_id, SIGNED_HEAD_KEY_ID_BYTES)) *seen |= 8;
    } else if (strcmp(name, "signature") == 0) {
        if (cli_tree_hex_read(value, head->signature, SIGNED_HEAD_SIGNATURE_BYTES)) *seen |= 16;
    } else if (strcmp(name, "public_key") == 0) {
        saved->has_public_key =
            cli_tree_hex_read(value, saved->public_key, SIGNED_HEAD_KEY_BYTES);
    }
    return CLI_EXIT_OK;
}

/* Reads a saved head's file. Says why and returns CLI_EXIT_USAGE if it is not one. */
static int cli_tree_file_read(const char *path, cli_saved_head *saved) {
    memset(saved, 0, sizeof *saved);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, CLI_PROGRAM ": cannot read %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char line[CLI_TREE_LINE_BYTES];
    unsigned seen = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *space = strchr(line, ' ');
        if (line[0] == '#' || space == NULL) continue;
        *space = '\0';
        cli_tree_file_line(saved, line, space + 1, &seen);
    }
    fclose(file);
    if (seen != 31) {
        fprintf(stderr,
                CLI_PROGRAM ": %s is not a saved signed head: it needs tree_size, timestamp_us, "
                            "root_hash, key_id and signature lines (fundflow head save FILE)\n",
                path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Reads a public key from --key FILE: a PEM public key, or a file with a line "public_key HEX"
 * (a saved head's) or of 64 hex digits alone. */
static int cli_tree_key_read(const char *path, uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, CLI_PROGRAM ": --key: cannot read %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    EVP_PKEY *key = PEM_read_PUBKEY(file, NULL, NULL, NULL);
    bool found = key != NULL && signed_head_public_key(key, public_key) == FF_OK;
    EVP_PKEY_free(key);
    rewind(file);
    char line[CLI_TREE_LINE_BYTES];
    while (!found && fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *hex = strncmp(line, "public_key ", 11) == 0 ? line + 11 : line;
        found = cli_tree_hex_read(hex, public_key, SIGNED_HEAD_KEY_BYTES);
    }
    fclose(file);
    if (!found) {
        fprintf(stderr,
                CLI_PROGRAM ": --key: %s holds no Ed25519 public key (PEM, a line of 64 hex "
                            "digits, or a saved head's public_key line)\n",
                path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int cli_tree_file_write(const char *path, const signed_head *head,
                               const uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    char root[CLI_HASH_TEXT_BYTES], key_id[CLI_HASH_TEXT_BYTES], key[CLI_HASH_TEXT_BYTES];
    char signature[CLI_TREE_SIGNATURE_TEXT_BYTES], when[CLI_TIME_TEXT_BYTES];
    FILE *file = fopen(path, "w");
    if (file == NULL) {
        fprintf(stderr, CLI_PROGRAM ": cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    fprintf(file,
            "# A fundflow signed tree head, saved by fundflow head save. Keep it: fundflow verify\n"
            "# --since THIS_FILE proves that the ledger has only grown since, trusting only the\n"
            "# public key below. Signed at %s.\n",
            cli_time_text((int64_t)head->timestamp_us, when, sizeof when));
    fprintf(file, "tree_size %" PRIu64 "\ntimestamp_us %" PRIu64 "\n", head->tree_size,
            head->timestamp_us);
    fprintf(file, "root_hash %s\n", cli_hex_text(head->root.bytes, MERKLE_HASH_BYTES, root,
                                                 sizeof root));
    fprintf(file, "key_id %s\n", cli_hex_text(head->key_id, SIGNED_HEAD_KEY_ID_BYTES, key_id,
                                              sizeof key_id));
    fprintf(file, "signature %s\n", cli_hex_text(head->signature, SIGNED_HEAD_SIGNATURE_BYTES,
                                                 signature, sizeof signature));
    fprintf(file, "public_key %s\n", cli_hex_text(public_key, SIGNED_HEAD_KEY_BYTES, key,
                                                  sizeof key));
    if (fclose(file) != 0) {
        fprintf(stderr, CLI_PROGRAM ": cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* ---- what the server says ---- */

/* The server's key, from ServerInfo. */
static int cli_tree_server_key(cli_session *session, uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    Fundflow__V1__ServerInfoRequest request = FUNDFLOW__V1__SERVER_INFO_REQUEST__INIT;
    cli_reply reply;
    int code = cli_tree_call(session, "ServerInfo", &request.base,
                             &fundflow__v1__server_info_response__descriptor, &reply);
    const Fundflow__V1__ServerInfoResponse *info =
        code == CLI_EXIT_OK ? (const Fundflow__V1__ServerInfoResponse *)reply.message : NULL;
    if (info != NULL && info->signing_public_key.len == SIGNED_HEAD_KEY_BYTES) {
        memcpy(public_key, info->signing_public_key.data, SIGNED_HEAD_KEY_BYTES);
    } else if (code == CLI_EXIT_OK) {
        fprintf(stderr, CLI_PROGRAM ": the server publishes no signing key\n");
        code = CLI_EXIT_FAILED;
    }
    cli_reply_release(&reply);
    return code;
}

/* The server's latest signed head. */
static int cli_tree_server_head(cli_session *session, signed_head *head) {
    Fundflow__V1__GetSignedHeadRequest request = FUNDFLOW__V1__GET_SIGNED_HEAD_REQUEST__INIT;
    cli_reply reply;
    int code = cli_tree_call(session, "GetSignedHead", &request.base,
                             &fundflow__v1__signed_tree_head__descriptor, &reply);
    if (code == CLI_EXIT_OK &&
        !cli_tree_head_from((const Fundflow__V1__SignedTreeHead *)reply.message, head)) {
        fprintf(stderr, CLI_PROGRAM ": the server's signed head is malformed\n");
        code = CLI_EXIT_FAILED;
    }
    cli_reply_release(&reply);
    return code;
}

/* Checks a head against the pinned key; prints what failed. */
static int cli_tree_head_check(const char *which, const signed_head *head,
                               const uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    ff_err err = signed_head_verify(head, public_key);
    if (err == FF_OK) return CLI_EXIT_OK;
    char id[CLI_HASH_TEXT_BYTES];
    cli_hex_text(head->key_id, SIGNED_HEAD_KEY_ID_BYTES, id, sizeof id);
    if (err == FF_ERR_KEY_MISMATCH) {
        printf("FAILED: %s is signed by a different key (key ID %s), not the pinned key\n",
               which, id);
    } else {
        printf("FAILED: %s's signature does not verify with the pinned key: the head was "
               "altered or forged\n",
               which);
    }
    return CLI_EXIT_REFUSED;
}

static void cli_tree_key_id_text(const uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                                 char text[CLI_HASH_TEXT_BYTES]) {
    uint8_t key_id[SIGNED_HEAD_KEY_ID_BYTES];
    signed_head_key_id(public_key, key_id);
    cli_hex_text(key_id, sizeof key_id, text, CLI_HASH_TEXT_BYTES);
}

/* ---- head save ---- */

int cli_head_save_run(const cli_options *options, cli_session *session) {
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    int code = options->key_path ? cli_tree_key_read(options->key_path, public_key)
                                 : cli_tree_server_key(session, public_key);
    signed_head head;
    if (code == CLI_EXIT_OK) code = cli_tree_server_head(session, &head);
    if (code == CLI_EXIT_OK) code = cli_tree_head_check("the server's head", &head, public_key);
    if (code == CLI_EXIT_OK) code = cli_tree_file_write(options->operand, &head, public_key);
    if (code != CLI_EXIT_OK) return code;
    char root[CLI_HASH_TEXT_BYTES], key_id[CLI_HASH_TEXT_BYTES];
    cli_tree_key_id_text(public_key, key_id);
    printf("saved the signed head of %" PRIu64 " events to %s\nroot %s\nkey ID %s%s\n",
           head.tree_size, options->operand,
           cli_hex_text(head.root.bytes, MERKLE_HASH_BYTES, root, sizeof root), key_id,
           options->key_path ? "" : " (the server's own; pin it with --key FILE)");
    return CLI_EXIT_OK;
}

/* ---- verify --since ---- */

/* The key to check with: --key FILE, else the saved head's own. */
static int cli_tree_pinned_key(const cli_options *options, const cli_saved_head *saved,
                               uint8_t public_key[SIGNED_HEAD_KEY_BYTES]) {
    if (options->key_path) return cli_tree_key_read(options->key_path, public_key);
    if (!saved->has_public_key) {
        fprintf(stderr, CLI_PROGRAM ": %s has no public_key line: give the key with --key FILE\n",
                options->since_path);
        return CLI_EXIT_USAGE;
    }
    memcpy(public_key, saved->public_key, SIGNED_HEAD_KEY_BYTES);
    return CLI_EXIT_OK;
}

/* Fetches and checks the consistency proof from the saved head to the current one. */
static int cli_tree_consistency_check(cli_session *session, const signed_head *saved,
                                      const signed_head *current) {
    Fundflow__V1__GetConsistencyProofRequest request =
        FUNDFLOW__V1__GET_CONSISTENCY_PROOF_REQUEST__INIT;
    request.first = saved->tree_size;
    request.second = current->tree_size;
    cli_reply reply;
    int code = cli_tree_call(session, "GetConsistencyProof", &request.base,
                             &fundflow__v1__get_consistency_proof_response__descriptor, &reply);
    if (code != CLI_EXIT_OK) {
        cli_reply_release(&reply);
        return code;
    }
    const Fundflow__V1__GetConsistencyProofResponse *answer =
        (const Fundflow__V1__GetConsistencyProofResponse *)reply.message;
    merkle_proof proof = {0};
    bool well_formed = answer->n_proof <= MERKLE_PROOF_HASHES_MAX;
    for (size_t i = 0; well_formed && i < answer->n_proof; i++) {
        well_formed = answer->proof[i].len == MERKLE_HASH_BYTES;
        if (well_formed) memcpy(proof.hashes[i].bytes, answer->proof[i].data, MERKLE_HASH_BYTES);
    }
    proof.count = well_formed ? answer->n_proof : 0;
    cli_reply_release(&reply);
    if (!well_formed) return cli_tree_failed("", "the server's consistency proof is malformed");
    const char *why = NULL;
    ff_err err = merkle_consistency_verify(saved->tree_size, current->tree_size, &saved->root,
                                           &current->root, &proof, &why);
    /* Unless it is the newer root that fails (the server's proof against its own head), the
     * events the saved head covered are not the ones it signed. */
    if (err == FF_ERR_PROOF_ROOT_MISMATCH && strstr(why, "newer") == NULL) {
        return cli_tree_failed("", "the saved head's root does not match the consistency "
                                     "proof: events it covered have been changed since");
    }
    return err == FF_OK ? CLI_EXIT_OK : cli_tree_failed("the consistency proof fails: ", why);
}

int cli_verify_since_run(const cli_options *options, cli_session *session) {
    cli_saved_head saved;
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    int code = cli_tree_file_read(options->since_path, &saved);
    if (code == CLI_EXIT_OK) code = cli_tree_pinned_key(options, &saved, public_key);
    if (code == CLI_EXIT_OK) code = cli_tree_head_check("the saved head", &saved.head, public_key);
    signed_head current;
    if (code == CLI_EXIT_OK) code = cli_tree_server_head(session, &current);
    if (code == CLI_EXIT_OK) code = cli_tree_head_check("the server's current head", &current,
                                                        public_key);
    if (code == CLI_EXIT_OK && current.tree_size < saved.head.tree_size) {
        printf("FAILED: the log is shorter than the saved head: %" PRIu64 " events now, %" PRIu64
               " when it was saved (events were removed, or an older copy was put back)\n",
               current.tree_size, saved.head.tree_size);
        return CLI_EXIT_REFUSED;
    }
    if (code == CLI_EXIT_OK) code = cli_tree_consistency_check(session, &saved.head, &current);
    if (code != CLI_EXIT_OK) return code;
    char key_id[CLI_HASH_TEXT_BYTES], when[CLI_TIME_TEXT_BYTES];
    cli_tree_key_id_text(public_key, key_id);
    printf("OK: the log has only grown since the saved head: %" PRIu64 " events then, %" PRIu64
           " now (signed at %s, key ID %s)\n",
           saved.head.tree_size, current.tree_size,
           cli_time_text((int64_t)current.timestamp_us, when, sizeof when), key_id);
    return CLI_EXIT_OK;
}

/* ---- prove ---- */

/* The key to check a proof's head with: --key FILE, the --since file's, or the server's. */
static int cli_prove_key(const cli_options *options, cli_session *session,
                         uint8_t public_key[SIGNED_HEAD_KEY_BYTES], bool *pinned) {
    *pinned = true;
    if (options->key_path) return cli_tree_key_read(options->key_path, public_key);
    if (options->since_path) {
        cli_saved_head saved;
        int code = cli_tree_file_read(options->since_path, &saved);
        return code == CLI_EXIT_OK ? cli_tree_pinned_key(options, &saved, public_key) : code;
    }
    *pinned = false;
    return cli_tree_server_key(session, public_key);
}

/* Checks the proof in answer for sequence against its signed head and the key. */
static int cli_prove_check(const Fundflow__V1__GetInclusionProofResponse *answer,
                           uint64_t sequence, const uint8_t public_key[SIGNED_HEAD_KEY_BYTES],
                           signed_head *head) {
    if (!cli_tree_head_from(answer->signed_head, head) || head->tree_size != answer->tree_size ||
        answer->n_audit_path > MERKLE_PROOF_HASHES_MAX) {
        return cli_tree_failed("", "the server's inclusion proof is malformed");
    }
    int code = cli_tree_head_check("the proof's head", head, public_key);
    if (code != CLI_EXIT_OK) return code;
    Fundflow__V1__EventRecord *record = fundflow__v1__event_record__unpack(
        NULL, answer->event_record.len, answer->event_record.data);
    bool same = record != NULL && record->sequence == sequence;
    if (record != NULL) fundflow__v1__event_record__free_unpacked(record, NULL);
    if (!same) return cli_tree_failed("", "the server sent another event than the one asked");
    merkle_proof proof = {.count = answer->n_audit_path};
    for (size_t i = 0; i < proof.count; i++) {
        if (answer->audit_path[i].len != MERKLE_HASH_BYTES) {
            return cli_tree_failed("", "the server's inclusion proof is malformed");
        }
        memcpy(proof.hashes[i].bytes, answer->audit_path[i].data, MERKLE_HASH_BYTES);
    }
    merkle_hash leaf;
    merkle_leaf_hash(answer->event_record.data, answer->event_record.len, &leaf);
    const char *why = NULL;
    ff_err err = merkle_inclusion_verify(sequence - 1, head->tree_size, &leaf, &proof,
                                         &head->root, &why);
    return err == FF_OK ? CLI_EXIT_OK : cli_tree_failed("the inclusion proof fails: ", why);
}

int cli_prove_run(const cli_options *options, cli_session *session) {
    uint8_t public_key[SIGNED_HEAD_KEY_BYTES];
    bool pinned = false;
    int code = cli_prove_key(options, session, public_key, &pinned);
    if (code != CLI_EXIT_OK) return code;
    Fundflow__V1__GetInclusionProofRequest request =
        FUNDFLOW__V1__GET_INCLUSION_PROOF_REQUEST__INIT;
    request.sequence = options->operand_number;
    cli_reply reply;
    code = cli_tree_call(session, "GetInclusionProof", &request.base,
                         &fundflow__v1__get_inclusion_proof_response__descriptor, &reply);
    signed_head head;
    if (code == CLI_EXIT_OK) {
        code = cli_prove_check((const Fundflow__V1__GetInclusionProofResponse *)reply.message,
                               options->operand_number, public_key, &head);
    }
    cli_reply_release(&reply);
    if (code != CLI_EXIT_OK) return code;
    char root[CLI_HASH_TEXT_BYTES], key_id[CLI_HASH_TEXT_BYTES];
    cli_tree_key_id_text(public_key, key_id);
    printf("OK: event %" PRIu64 " is in the signed tree of %" PRIu64 " events\nroot %s\n"
           "key ID %s%s\n",
           options->operand_number, head.tree_size,
           cli_hex_text(head.root.bytes, MERKLE_HASH_BYTES, root, sizeof root), key_id,
           pinned ? "" : " (the server's own key: pin one with --key FILE or --since FILE)");
    return CLI_EXIT_OK;
}
