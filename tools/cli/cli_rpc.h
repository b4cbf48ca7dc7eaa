/* The fundflow client's calls to the Ledger service: encoding a request as protobuf or JSON,
 * posting it with http_client, decoding the reply, and reporting Twirp errors.
 *
 * Human mode sends application/protobuf; JSON mode (--json) sends application/json and prints
 * each reply on stdout exactly as the server sent it. Single-threaded.
 */
#ifndef FUNDFLOW_TOOLS_CLI_RPC_H
#define FUNDFLOW_TOOLS_CLI_RPC_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "http_client.h"

/* The connection to one server, and how to talk to it. A request a follower refuses with
 * not_leader naming the leader (meta.leader) is sent once more, to the leader, and the session
 * stays with the leader from then on; it says so on stderr. */
typedef struct cli_session {
    http_client *client;
    http_client_options client_options; /* to make a client for the leader */
    bool json;
    /* A write whose effective date defaulted to today (no --date): a refusal naming
     * effective_date then says so. */
    bool date_defaulted;
} cli_session;

/* One reply. body is the raw reply, valid until the session's next call. On HTTP 200 message is
 * the decoded reply; otherwise error is the Twirp error object, or NULL if the body was not one
 * (a proxy's page, say), and message is NULL. */
typedef struct cli_reply {
    int http_status;
    const char *body;
    size_t body_bytes;
    ProtobufCMessage *message;
    json_t *error;
    /* The reply's Fundflow-Sequence: the log's head it reflects, if the server said. */
    bool sequence_known;
    uint64_t sequence;
} cli_reply;

/* Makes a session for url, sending token (NULL or "" for none), with tls's files for an https
 * URL (NULL for none), and min_sequence (0: none) as Fundflow-Min-Sequence with every request.
 * Returns 0, or the usage exit code having printed what is wrong with the URL, the token or a
 * TLS file. Connects lazily, on the first call. token and tls's paths must outlive the session. */
int cli_session_open(cli_session *session, const char *url, const char *token,
                     const http_tls_files *tls, bool json, uint64_t min_sequence);

void cli_session_close(cli_session *session);

/* Calls the Ledger method with request and reads a reply of type output into *reply.
 *
 * Returns 0 when the server answered, whatever it said; the caller then looks at
 * reply->http_status. Otherwise prints why on stderr and returns 3 (cannot connect: nothing was
 * sent) or 4 (the request may have reached the server, but no usable reply came back). The
 * caller releases *reply with cli_reply_release in every case. */
int cli_rpc_call(cli_session *session, const char *method, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *output, cli_reply *reply);

/* cli_rpc_call, then the usual handling: a success is printed as received in JSON mode and left
 * in reply->message for the caller to print in human mode; a refusal is reported with
 * cli_reply_refusal_report. Returns 0 on success or the exit code to end with. */
int cli_rpc_run(cli_session *session, const char *method, const ProtobufCMessage *request,
                const ProtobufCMessageDescriptor *output, cli_reply *reply);

/* Prints a reply's message for people and returns an exit code. */
typedef int (*cli_reply_print)(const ProtobufCMessage *message);

/* cli_rpc_run for a read of one record: in human mode the reply's message goes to print, whose
 * exit code is returned. The reply is released before returning. */
int cli_rpc_read(cli_session *session, const char *method, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *output, cli_reply_print print);

/* Reports a Twirp error: in JSON mode the body as received on stdout; in human mode
 * "error: CODE: MESSAGE" and one indented line per meta entry on stderr. Returns 1. */
int cli_reply_refusal_report(const cli_session *session, const cli_reply *reply);

/* Prints the raw reply on stdout, followed by a newline if it has none. */
void cli_reply_json_print(const cli_reply *reply);

/* Writes the raw reply to out, followed by a newline if it has none. */
void cli_reply_json_write(const cli_reply *reply, FILE *out);

/* A string from the Twirp error: "code" or "msg" at the top, or a meta entry, or NULL. */
const char *cli_reply_error_field(const cli_reply *reply, const char *name);
const char *cli_reply_error_meta(const cli_reply *reply, const char *name);

/* Frees what the reply owns and clears it. Safe on a cleared reply. */
void cli_reply_release(cli_reply *reply);

#endif
