/* The fundflow client's principal subcommands: principal add asks the server for a new principal
 * and prints its token once, principal list lists every principal, and principal revoke ends
 * one's access. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_output.h"
#include "cli_values.h"
#include "fundflow/v1/ledger.pb-c.h"

/* A time in microseconds as its UTC date YYYY-MM-DD, or "-" for 0. Returns buffer. */
static const char *cli_principal_date_text(int64_t time_us, char *buffer, size_t buffer_bytes) {
    if (time_us <= 0) return "-";
    time_t seconds = (time_t)(time_us / 1000000);
    struct tm utc;
    if (gmtime_r(&seconds, &utc) == NULL) return "-";
    strftime(buffer, buffer_bytes, "%Y-%m-%d", &utc);
    return buffer;
}

static void cli_principal_print(const Fundflow__V1__PrincipalRecord *principal) {
    char role[CLI_ENUM_NAME_BYTES_MAX], date[16];
    cli_field_print("name", "%s", principal->name);
    cli_field_print("role", "%s", cli_enum_text(&fundflow__v1__principal_role__descriptor,
                                                principal->role, role, sizeof role));
    cli_field_print("scope", "%s",
                    principal->scope_org_code[0] ? principal->scope_org_code : "national");
    cli_field_print("created", "%s by %s",
                    cli_principal_date_text(principal->granted_at_us, date, sizeof date),
                    principal->granted_by);
    if (principal->revoked_sequence != 0) {
        cli_field_print("revoked", "%s by %s",
                        cli_principal_date_text(principal->revoked_at_us, date, sizeof date),
                        principal->revoked_by);
    }
}

/* principal add --json prints only what a script needs: the name and the token. */
static int cli_principal_json_print(const Fundflow__V1__GrantPrincipalResponse *granted) {
    json_t *document = json_pack("{s:s,s:s}", "name",
                                 granted->principal ? granted->principal->name : "", "token",
                                 granted->token);
    char *text = document ? json_dumps(document, JSON_COMPACT) : NULL;
    json_decref(document);
    if (text == NULL) {
        fprintf(stderr, CLI_PROGRAM ": out of memory\n");
        return CLI_EXIT_FAILED;
    }
    printf("%s\n", text);
    memset(text, 0, strlen(text));
    free(text);
    return CLI_EXIT_OK;
}

int cli_principal_add_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__GrantPrincipalRequest request = FUNDFLOW__V1__GRANT_PRINCIPAL_REQUEST__INIT;
    request.name = (char *)options->operand;
    request.role = (Fundflow__V1__PrincipalRole)options->role;
    request.scope_org_code = cli_text_or_empty(options->org_code);
    cli_reply reply;
    int code = cli_rpc_call(session, "GrantPrincipal", &request.base,
                            &fundflow__v1__grant_principal_response__descriptor, &reply);
    if (code == CLI_EXIT_OK && reply.http_status != 200) {
        code = cli_reply_refusal_report(session, &reply);
    } else if (code == CLI_EXIT_OK) {
        Fundflow__V1__GrantPrincipalResponse *granted =
            (Fundflow__V1__GrantPrincipalResponse *)reply.message;
        if (session->json) {
            code = cli_principal_json_print(granted);
        } else {
            if (granted->principal) cli_principal_print(granted->principal);
            printf("\nThe token is shown only this once; keep it:\n%s\n", granted->token);
        }
        memset(granted->token, 0, strlen(granted->token));
    }
    cli_reply_release(&reply);
    return code;
}

static bool cli_principal_row_add(cli_table *table,
                                  const Fundflow__V1__PrincipalRecord *principal) {
    char role[CLI_ENUM_NAME_BYTES_MAX], created[16], revoked[16];
    const char *cells[] = {
        principal->name,
        cli_enum_text(&fundflow__v1__principal_role__descriptor, principal->role, role,
                      sizeof role),
        principal->scope_org_code[0] ? principal->scope_org_code : "national",
        cli_principal_date_text(principal->granted_at_us, created, sizeof created),
        principal->granted_by,
        principal->revoked_sequence
            ? cli_principal_date_text(principal->revoked_at_us, revoked, sizeof revoked)
            : "-"};
    return cli_table_row_add(table, cells);
}

static int cli_principals_print(const ProtobufCMessage *message) {
    const Fundflow__V1__ListPrincipalsResponse *list =
        (const Fundflow__V1__ListPrincipalsResponse *)message;
    if (list->n_principals == 0) {
        printf("no principals\n");
        return CLI_EXIT_OK;
    }
    static const char *const headings[] = {"name", "role", "scope", "created", "by", "revoked"};
    cli_table table;
    cli_table_init(&table, 6, headings, NULL);
    int code = CLI_EXIT_OK;
    for (size_t i = 0; code == CLI_EXIT_OK && i < list->n_principals; i++) {
        if (!cli_principal_row_add(&table, list->principals[i])) {
            fprintf(stderr, CLI_PROGRAM ": out of memory\n");
            code = CLI_EXIT_FAILED;
        }
    }
    if (code == CLI_EXIT_OK) cli_table_print(&table);
    cli_table_free(&table);
    return code;
}

int cli_principal_list_run(const cli_options *options, cli_session *session) {
    (void)options;
    Fundflow__V1__ListPrincipalsRequest request = FUNDFLOW__V1__LIST_PRINCIPALS_REQUEST__INIT;
    return cli_rpc_read(session, "ListPrincipals", &request.base,
                        &fundflow__v1__list_principals_response__descriptor,
                        cli_principals_print);
}

static int cli_principal_revoked_print(const ProtobufCMessage *message) {
    const Fundflow__V1__PrincipalRecord *principal =
        (const Fundflow__V1__PrincipalRecord *)message;
    printf("revoked principal %s\n\n", principal->name);
    cli_principal_print(principal);
    return CLI_EXIT_OK;
}

int cli_principal_revoke_run(const cli_options *options, cli_session *session) {
    Fundflow__V1__RevokePrincipalRequest request = FUNDFLOW__V1__REVOKE_PRINCIPAL_REQUEST__INIT;
    request.name = (char *)options->operand;
    request.reason = cli_text_or_empty(options->reason);
    return cli_rpc_read(session, "RevokePrincipal", &request.base,
                        &fundflow__v1__principal_record__descriptor,
                        cli_principal_revoked_print);
}
