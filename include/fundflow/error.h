/* The one table of fundflow error codes, with each code's name, message and Twirp code.
 *
 * FF_ERROR_TABLE is an X-macro: every use expands X(symbol, number, name, message, twirp) once per
 * code. The enum, ff_err_name(), ff_strerror() and ff_err_twirp_code() are all generated from it,
 * so a code cannot exist in one place and be missing from another.
 *
 * Numbers are stored in results that clients may keep. Never renumber or reuse a code: add new
 * codes at the end of the table only.
 */
#ifndef FUNDFLOW_ERROR_H
#define FUNDFLOW_ERROR_H

#define FF_ERROR_TABLE(X)                                                                          \
    X(FF_OK, 0, "ok", "success", "")                                                               \
    X(FF_ERR_INTERNAL, 1, "internal", "internal error", "internal")                                \
    X(FF_ERR_NO_MEMORY, 2, "no_memory", "out of memory", "resource_exhausted")                     \
    X(FF_ERR_STORAGE, 3, "storage", "storage error", "internal")                                   \
    X(FF_ERR_MAP_LIMIT, 4, "map_limit", "database reached its configured maximum size",            \
      "resource_exhausted")                                                                        \
    X(FF_ERR_MONEY_EMPTY, 5, "money_empty", "amount is empty", "invalid_argument")                 \
    X(FF_ERR_MONEY_SYNTAX, 6, "money_syntax",                                                      \
      "amount is not a number of pounds such as 1234.56 or £1,234.56", "invalid_argument")        \
    X(FF_ERR_MONEY_PRECISION, 7, "money_precision", "amount has more than two decimal places",     \
      "invalid_argument")                                                                          \
    X(FF_ERR_MONEY_GROUPING, 8, "money_grouping",                                                  \
      "thousands separators must split the pounds into groups of three digits",                    \
      "invalid_argument")                                                                          \
    X(FF_ERR_MONEY_OVERFLOW, 9, "money_overflow", "amount is too large to hold in pence",          \
      "out_of_range")                                                                              \
    X(FF_ERR_AMOUNT_NOT_POSITIVE, 10, "amount_not_positive",                                       \
      "amount must be a positive number of pence", "invalid_argument")                             \
    X(FF_ERR_SUM_OVERFLOW, 11, "sum_overflow", "a running total would overflow 64-bit pence",      \
      "out_of_range")                                                                              \
    X(FF_ERR_FIELD_MISSING, 12, "field_missing", "a required field is missing",                    \
      "invalid_argument")                                                                          \
    X(FF_ERR_FIELD_TOO_LONG, 13, "field_too_long", "a field is longer than its limit",             \
      "invalid_argument")                                                                          \
    X(FF_ERR_CODE_INVALID, 14, "code_invalid",                                                     \
      "an organisation code must be 2 to 12 upper-case letters or digits", "invalid_argument")     \
    X(FF_ERR_DATE_INVALID, 15, "date_invalid", "a date must be a real calendar date YYYY-MM-DD",   \
      "invalid_argument")                                                                          \
    X(FF_ERR_YEAR_INVALID, 16, "year_invalid",                                                     \
      "a financial year must look like 2024/25 and lie within the supported range",               \
      "invalid_argument")                                                                          \
    X(FF_ERR_ENUM_INVALID, 17, "enum_invalid", "a field holds a value that is not allowed",        \
      "invalid_argument")                                                                          \
    X(FF_ERR_ORG_UNKNOWN, 18, "org_unknown", "no organisation has this code", "not_found")         \
    X(FF_ERR_ORG_EXISTS, 19, "org_exists", "an organisation with this code already exists",        \
      "already_exists")                                                                            \
    X(FF_ERR_ORG_KIND_NOT_ALLOWED, 20, "org_kind_not_allowed",                                     \
      "this kind of organisation cannot take part in this event", "failed_precondition")           \
    X(FF_ERR_SAME_ORG, 21, "same_org", "money cannot move from an organisation to itself",         \
      "invalid_argument")                                                                          \
    X(FF_ERR_INSUFFICIENT_HEADROOM, 22, "insufficient_headroom",                                   \
      "the budget account does not hold enough to cover this amount", "failed_precondition")       \
    X(FF_ERR_EVENT_UNKNOWN, 23, "event_unknown", "no event has this sequence number",              \
      "not_found")                                                                                 \
    X(FF_ERR_EVENT_ALREADY_REVERSED, 24, "event_already_reversed",                                 \
      "this event has already been reversed", "failed_precondition")                               \
    X(FF_ERR_EVENT_NOT_REVERSIBLE, 25, "event_not_reversible",                                     \
      "only events that move money can be reversed", "failed_precondition")                        \
    X(FF_ERR_IDEMPOTENCY_CONFLICT, 26, "idempotency_conflict",                                     \
      "this idempotency key was already used for a different command", "already_exists")           \
    X(FF_ERR_LINKED_COMMAND_FAILED, 27, "linked_command_failed",                                   \
      "another command in this all-or-nothing batch failed", "aborted")                            \
    X(FF_ERR_BATCH_TOO_LARGE, 28, "batch_too_large", "the batch holds too many commands",          \
      "resource_exhausted")                                                                        \
    X(FF_ERR_PAYLOAD_MISSING, 29, "payload_missing", "the command carries no event",               \
      "invalid_argument")                                                                          \
    X(FF_ERR_UNBALANCED, 30, "unbalanced", "an event's debits do not equal its credits",           \
      "internal")                                                                                  \
    X(FF_ERR_LOG_DECODE, 31, "log_decode", "a stored event cannot be decoded", "data_loss")        \
    X(FF_ERR_LOG_NOT_CANONICAL, 32, "log_not_canonical",                                           \
      "a stored event is not in canonical form", "data_loss")                                      \
    X(FF_ERR_HASH_MISMATCH, 33, "hash_mismatch", "a stored event's hash does not match its bytes", \
      "data_loss")                                                                                 \
    X(FF_ERR_CHAIN_BROKEN, 34, "chain_broken",                                                     \
      "a stored event does not follow the one before it", "data_loss")                             \
    X(FF_ERR_PROJECTION_MISMATCH, 35, "projection_mismatch",                                       \
      "a projection differs from a replay of the log", "data_loss")                                \
    X(FF_ERR_TEXT_INVALID, 36, "text_invalid",                                                     \
      "text must be UTF-8 without control characters", "invalid_argument")                         \
    X(FF_ERR_IO, 37, "io", "a file could not be read or written", "internal")                     \
    X(FF_ERR_MALFORMED, 38, "malformed", "the request body could not be decoded", "malformed")     \
    X(FF_ERR_BAD_ROUTE, 39, "bad_route", "no such method; use POST /twirp/fundflow.v1.Ledger/...",  \
      "bad_route")                                                                                 \
    X(FF_ERR_UNAUTHENTICATED, 40, "unauthenticated", "a valid bearer token is required",          \
      "unauthenticated")                                                                           \
    X(FF_ERR_PERMISSION_DENIED, 41, "permission_denied",                                           \
      "this principal may not call this method", "permission_denied")                             \
    X(FF_ERR_QUEUE_FULL, 42, "queue_full", "the write queue is full; retry shortly",               \
      "resource_exhausted")                                                                        \
    X(FF_ERR_TOO_LARGE, 43, "too_large", "the request is larger than the server accepts",         \
      "resource_exhausted")                                                                        \
    X(FF_ERR_SHUTTING_DOWN, 44, "shutting_down", "the server is shutting down", "unavailable")    \
    X(FF_ERR_CONNECTIONS_FULL, 45, "connections_full",                                             \
      "the server has as many connections as it accepts", "resource_exhausted")                   \
    X(FF_ERR_NOT_FOUND, 46, "not_found", "nothing matches the request", "not_found")             \
    X(FF_ERR_BUSY, 47, "busy", "a verification is already running; retry when it has finished",  \
      "resource_exhausted")                                                                        \
    X(FF_ERR_PERIOD_CLOSED, 48, "period_closed",                                                   \
      "the month is closed for this organisation", "failed_precondition")                          \
    X(FF_ERR_PERIOD_ALREADY_CLOSED, 49, "period_already_closed", "the month is already closed",    \
      "already_exists")                                                                            \
    X(FF_ERR_SERVICE_LINE_UNKNOWN, 50, "service_line_unknown", "no service line has this code",    \
      "not_found")                                                                                 \
    X(FF_ERR_SERVICE_LINE_EXISTS, 51, "service_line_exists",                                       \
      "a service line with this code already exists", "already_exists")                            \
    X(FF_ERR_SERVICE_LINE_RETAINED, 52, "service_line_retained",                                   \
      "this service line is retained nationally and cannot be delegated", "failed_precondition")   \
    X(FF_ERR_DELEGATION_UNKNOWN, 53, "delegation_unknown", "no delegation has this id",            \
      "not_found")                                                                                 \
    X(FF_ERR_DELEGATION_EXISTS, 54, "delegation_exists", "a delegation with this id already exists", \
      "already_exists")                                                                            \
    X(FF_ERR_DELEGATION_OVERLAP, 55, "delegation_overlap",                                         \
      "another delegation covers this service line for this population at the same time",         \
      "failed_precondition")                                                                       \
    X(FF_ERR_NOT_DELEGATED, 56, "not_delegated",                                                   \
      "the commissioner holds no delegation for this service line on this date",                  \
      "failed_precondition")                                                                       \
    X(FF_ERR_CONTRACT_UNKNOWN, 57, "contract_unknown", "no contract has this id", "not_found")     \
    X(FF_ERR_CONTRACT_EXISTS, 58, "contract_exists", "a contract with this id already exists",     \
      "already_exists")                                                                            \
    X(FF_ERR_OVERPAYMENT, 59, "overpayment",                                                       \
      "payments would exceed the contract's value less its withheld pot", "failed_precondition")   \
    X(FF_ERR_METRIC_UNKNOWN, 60, "metric_unknown", "the contract has no metric with this code",    \
      "not_found")                                                                                 \
    X(FF_ERR_OUTCOME_ALREADY_REPORTED, 61, "outcome_already_reported",                            \
      "this metric has already been reported; reverse that report first", "failed_precondition")  \
    X(FF_ERR_TERMS_INVALID, 62, "terms_invalid", "the contract's terms do not add up",             \
      "invalid_argument")                                                                          \
    X(FF_ERR_VALUE_BELOW_COMMITTED, 63, "value_below_committed",                                   \
      "the contract's value would fall below what is paid and withheld", "failed_precondition")    \
    X(FF_ERR_MEMBER_INVALID, 64, "member_invalid",                                                 \
      "a member or lead provider is not allowed here", "failed_precondition")                     \
    X(FF_ERR_VETOED, 65, "vetoed", "a reporting-rule plugin refused the command",                  \
      "failed_precondition")                                                                       \
    X(FF_ERR_PLUGIN_FAILED, 66, "plugin_failed", "the plugin could not build its report",          \
      "internal")                                                                                  \
    X(FF_ERR_KEY_EXISTS, 67, "key_exists", "a stored key that must be new already exists",         \
      "internal")                                                                                  \
    X(FF_ERR_STORAGE_FULL, 68, "storage_full", "the disk holding the ledger is full",              \
      "resource_exhausted")                                                                        \
    X(FF_ERR_PRINCIPAL_UNKNOWN, 69, "principal_unknown", "no principal has this name",             \
      "not_found")                                                                                 \
    X(FF_ERR_PRINCIPAL_EXISTS, 70, "principal_exists",                                             \
      "a principal with this name exists or once existed; names are never reused",                \
      "already_exists")                                                                            \
    X(FF_ERR_PRINCIPAL_REVOKED, 71, "principal_revoked", "the principal is already revoked",       \
      "failed_precondition")                                                                       \
    X(FF_ERR_OUT_OF_SCOPE, 72, "out_of_scope",                                                     \
      "the organisation is outside this principal's scope", "permission_denied")                 \
    X(FF_ERR_DATE_OUTSIDE_YEAR, 73, "date_outside_year",                                           \
      "the effective date falls outside the financial year", "invalid_argument")                  \
    X(FF_ERR_DATE_BEFORE_MONTH, 74, "date_before_month",                                           \
      "the payment is dated before the month it is for", "invalid_argument")                    \
    X(FF_ERR_SCOPE_NOT_ALLOWED, 75, "scope_not_allowed",                                           \
      "admins and auditors are national: they take no organisation scope", "invalid_argument")    \
    X(FF_ERR_AS_AT_BEYOND_HEAD, 90, "as_at_beyond_head",                                           \
      "the event asked to read as at has not been recorded yet", "failed_precondition")          \
    X(FF_ERR_ADDRESS_IN_USE, 91, "address_in_use",                                                 \
      "another program is already listening on the address", "unavailable")                     \
    X(FF_ERR_LISTEN_FAILED, 92, "listen_failed", "the server cannot listen on the address",       \
      "unavailable")                                                                        \
    X(FF_ERR_PLAN_MONTHS_INVALID, 100, "plan_months_invalid",                                      \
      "a plan has twelve monthly amounts, M1 to M12, each 0 or more", "invalid_argument")      \
    X(FF_ERR_RECONCILE_TOO_MANY_ROWS, 110, "reconcile_too_many_rows",                              \
      "a reconciliation holds more rows than the server compares at once", "invalid_argument")   \
    X(FF_ERR_MATCH_KEY_UNKNOWN, 111, "match_key_unknown",                                          \
      "a match key is not a key field of the reconciliation's kind", "invalid_argument")         \
    X(FF_ERR_TOLERANCE_NEGATIVE, 112, "tolerance_negative",                                        \
      "a tolerance is 0 (exact) or more pence", "invalid_argument")                               \
    X(FF_ERR_WINDOW_ORDER, 113, "window_order",                                                    \
      "a date window's first day is after its last", "invalid_argument")                          \
    X(FF_ERR_ROW_YEAR_MISMATCH, 114, "row_year_mismatch",                                          \
      "a row is for another financial year than the reconciliation's", "invalid_argument")   \
    X(FF_ERR_LAYOUT_NEWER, 130, "layout_newer",                                                    \
      "the data directory was written by a newer fundflow, whose storage layout this one cannot "  \
      "read", "failed_precondition") \
    X(FF_ERR_TREE_SHORTER, 150, "tree_shorter",                                                    \
      "the log's tree is shorter than a signed head already given out", "failed_precondition")  \
    X(FF_ERR_PROOF_MALFORMED, 151, "proof_malformed",                                              \
      "a proof has the wrong number of hashes for the sizes it is for", "data_loss")            \
    X(FF_ERR_PROOF_ROOT_MISMATCH, 152, "proof_root_mismatch",                                      \
      "a proof does not lead to the root it is checked against", "data_loss")                   \
    X(FF_ERR_TREE_SIZE_INVALID, 153, "tree_size_invalid",                                          \
      "a tree size or leaf is 0, or beyond the log's head, or in the wrong order", "out_of_range") \
    X(FF_ERR_SIGNATURE_INVALID, 154, "signature_invalid",                                          \
      "a signed tree head's signature does not verify with the public key", "data_loss")        \
    X(FF_ERR_SIGNING_KEY_UNUSABLE, 155, "signing_key_unusable",                                    \
      "the signing key cannot be read, is not Ed25519, or others may read its file", "internal") \
    X(FF_ERR_SIGNED_HEAD_MISSING, 156, "signed_head_missing",                                      \
      "no signed tree head is held yet", "unavailable")                                          \
    X(FF_ERR_KEY_MISMATCH, 157, "key_mismatch",                                                    \
      "a tree head is signed by another key than the one pinned", "data_loss")                  \
    X(FF_ERR_TREE_MISMATCH, 158, "tree_mismatch",                                                  \
      "the stored Merkle tree does not match the event log", "data_loss") \
    X(FF_ERR_BACKUP_NOT_CONFIGURED, 170, "backup_not_configured",                                  \
      "the server has no backup directory: set backup_dir or --backup-dir", "failed_precondition") \
    X(FF_ERR_BACKUP_HEAD_MISMATCH, 171, "backup_head_mismatch",                                    \
      "a backup does not hold the head recorded beside it", "data_loss")                          \
    X(FF_ERR_BACKUP_TOO_OLD, 172, "backup_too_old",                                                \
      "a backup does not hold the head it must hold at least", "failed_precondition")             \
    X(FF_ERR_RESTORE_TARGET_NOT_EMPTY, 173, "restore_target_not_empty",                            \
      "the directory to restore into is not empty (--force moves it aside)", "failed_precondition") \
    X(FF_ERR_HEAD_FILE_INVALID, 174, "head_file_invalid",                                          \
      "a head is 'sequence S' and 'hash HEX' lines, or SEQ:HASH", "invalid_argument")             \
    X(FF_ERR_BACKUP_BUSY, 175, "backup_busy",                                                      \
      "a backup is already running; retry when it has finished", "resource_exhausted") \
    X(FF_ERR_WATCHERS_FULL, 190, "watchers_full",                                                  \
      "too many WatchEvents requests are waiting already; retry shortly", "resource_exhausted") \
    X(FF_ERR_NOT_LEADER, 200, "not_leader",                                                        \
      "this node does not lead the cluster; send writes to the leader (meta.leader)", "unavailable") \
    X(FF_ERR_REPLICATION_UNKNOWN, 201, "replication_unknown",                                      \
      "leadership changed before the write was confirmed; retry with the same idempotency key",   \
      "unavailable")                                                                              \
    X(FF_ERR_CLUSTER_CONFIG, 203, "cluster_config",                                                \
      "the cluster configuration file is not valid", "invalid_argument")                        \
    X(FF_ERR_CLUSTER_START, 204, "cluster_start",                                                  \
      "the cluster engine could not start (its data directory or Raft address)", "internal")      \
    X(FF_ERR_CLUSTER_MEMBER, 205, "cluster_member",                                                \
      "no such node, or the ID or Raft address is already a member", "invalid_argument")          \
    X(FF_ERR_CLUSTER_BUSY, 206, "cluster_busy",                                                    \
      "a membership change or leadership transfer is already in progress; retry shortly",        \
      "unavailable")                                                                              \
    X(FF_ERR_REPLICA_ENTRY_INVALID, 210, "replica_entry_invalid",                                 \
      "a replicated entry is malformed (its magic, version, digest, count or lengths)",           \
      "internal")                                                                                 \
    X(FF_ERR_SNAPSHOT_INVALID, 211, "snapshot_invalid",                                           \
      "a replication snapshot cannot be restored: it is not a ledger of this layout", "internal") \
    X(FF_ERR_SEQUENCE_NOT_REACHED, 220, "sequence_not_reached",                                    \
      "this node's head did not reach the Fundflow-Min-Sequence asked for in time; retry, or ask " \
      "another node", "unavailable")                                                              \
    X(FF_ERR_MIN_SEQUENCE_INVALID, 221, "min_sequence_invalid",                                    \
      "the Fundflow-Min-Sequence header is not a whole number of 0 or more", "invalid_argument")  \
    X(FF_ERR_NOT_IN_CLUSTER, 222, "not_in_cluster",                                                \
      "this server is not part of a cluster", "failed_precondition")

typedef enum ff_err {
#define FF_ERROR_ENUM(symbol, number, name, message, twirp) symbol = number,
    FF_ERROR_TABLE(FF_ERROR_ENUM)
#undef FF_ERROR_ENUM
} ff_err;

/* The short stable name of a code, such as "insufficient_headroom". Never NULL: an unknown
 * number gives "unknown". Any thread. */
const char *ff_err_name(ff_err code);

/* A sentence describing a code for people. Never NULL. Any thread. */
const char *ff_strerror(ff_err code);

/* The Twirp error code a code maps to, such as "failed_precondition"; "" for FF_OK. Any thread. */
const char *ff_err_twirp_code(ff_err code);

#endif
