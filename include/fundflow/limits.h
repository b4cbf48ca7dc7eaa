/* Every limit fundflow enforces, each named once and explained here.
 *
 * Each limit can be overridden at build time with -DNAME=value. Limits on client input exist so
 * that a bad or hostile request is refused with invalid_argument or resource_exhausted rather
 * than exhausting memory or disk; limits on storage keep a runaway writer from filling a disk.
 */
#ifndef FUNDFLOW_LIMITS_H
#define FUNDFLOW_LIMITS_H

/* An organisation code: ODS codes are 3 to 6 characters and ONS codes 9, so 12 leaves room
 * without letting a code become a name. Stored space-padded inside 16-byte account keys. */
#ifndef FF_ORG_CODE_BYTES_MAX
#define FF_ORG_CODE_BYTES_MAX 12
#endif
#ifndef FF_ORG_CODE_BYTES_MIN
#define FF_ORG_CODE_BYTES_MIN 2
#endif

/* An organisation's name. The longest ICB name is under 80 bytes; 160 allows trust names with
 * "NHS Foundation Trust" and UTF-8 punctuation. */
#ifndef FF_ORG_NAME_BYTES_MAX
#define FF_ORG_NAME_BYTES_MAX 160
#endif

/* A free-text reference on an allocation or budget, such as an allocation letter's number. */
#ifndef FF_REFERENCE_BYTES_MAX
#define FF_REFERENCE_BYTES_MAX 64
#endif

/* The reason given for a reversal. Long enough for a sentence, short enough to print. */
#ifndef FF_REASON_BYTES_MAX
#define FF_REASON_BYTES_MAX 240
#endif

/* A client's idempotency key. A UUID is 36 bytes; 128 allows prefixed or composite keys. */
#ifndef FF_IDEMPOTENCY_KEY_BYTES_MAX
#define FF_IDEMPOTENCY_KEY_BYTES_MAX 128
#endif

/* The actor recorded on every event: the authenticated principal's name. */
#ifndef FF_ACTOR_BYTES_MAX
#define FF_ACTOR_BYTES_MAX 64
#endif

/* Identifiers that clients choose: contract ids and delegation ids, such as "QWE-2024-MH-03". */
#ifndef FF_IDENTIFIER_BYTES_MAX
#define FF_IDENTIFIER_BYTES_MAX 32
#endif

/* Members of a provider collaborative or joint committee, and ICBs in a delegation's population.
 * The largest joint committee has under a dozen ICBs; 64 leaves room without letting a record
 * grow unbounded. */
#ifndef FF_MEMBERS_MAX
#define FF_MEMBERS_MAX 64
#endif

/* Service lines in one delegation: 59 lines were delegated in 2024 and 70 in 2025. */
#ifndef FF_DELEGATION_LINES_MAX
#define FF_DELEGATION_LINES_MAX 128
#endif

/* Outcome metrics on one contract, and the length of a metric's description. */
#ifndef FF_METRICS_MAX
#define FF_METRICS_MAX 16
#endif
#ifndef FF_DESCRIPTION_BYTES_MAX
#define FF_DESCRIPTION_BYTES_MAX 160
#endif

/* Commands in one batch. One batch is one write transaction, so this bounds how long a batch
 * holds the writer and how large its dirty page set can grow. */
#ifndef FF_BATCH_COMMANDS_MAX
#define FF_BATCH_COMMANDS_MAX 8192
#endif

/* Rows in one page of a listing (organisations, events, postings). A page is built in memory and
 * sent in one reply, so this bounds both. */
#ifndef FF_PAGE_SIZE_DEFAULT
#define FF_PAGE_SIZE_DEFAULT 100
#endif
#ifndef FF_PAGE_SIZE_MAX
#define FF_PAGE_SIZE_MAX 1000
#endif
/* Events one reply of ListEvents or GetHistory examines for a scoped principal, which sees only
 * the events its scope covers. Reads run on the server's event loop, so a principal whose events
 * are sparse in a long log gets a short page with a token to go on rather than one reply that
 * walks the whole log. */
#ifndef FF_SCAN_ROWS_MAX
#define FF_SCAN_ROWS_MAX 10000
#endif

/* fundflowd's network limits. Each can also be lowered or raised in the configuration file.
 *
 * A request body: a batch of FF_BATCH_COMMANDS_MAX commands in JSON is about 3 MiB, so 4 MiB
 * admits the largest batch and nothing much larger. */
#ifndef FF_REQUEST_BODY_BYTES_MAX
#define FF_REQUEST_BODY_BYTES_MAX (4u << 20)
#endif
/* All of a request's headers together; a bearer token and the usual headers need far less. */
#ifndef FF_REQUEST_HEADER_BYTES_MAX
#define FF_REQUEST_HEADER_BYTES_MAX (16u << 10)
#endif
/* Open client connections. Each costs buffers and a file descriptor; past this a request is
 * answered resource_exhausted and its connection closed. */
#ifndef FF_CONNECTIONS_MAX
#define FF_CONNECTIONS_MAX 1024
#endif
/* Write requests waiting for the writer. Past this SubmitCommands answers resource_exhausted at
 * once rather than letting latency grow without bound. */
#ifndef FF_WRITE_QUEUE_DEPTH_MAX
#define FF_WRITE_QUEUE_DEPTH_MAX 1024
#endif
/* Seconds a connection may take to send a request or accept a reply before it is closed. */
#ifndef FF_REQUEST_TIMEOUT_SECONDS
#define FF_REQUEST_TIMEOUT_SECONDS 30
#endif
/* Commands the writer puts in one group commit, across all the requests it drains. */
#ifndef FF_GROUP_COMMIT_COMMANDS_MAX
#define FF_GROUP_COMMIT_COMMANDS_MAX 8192
#endif
/* Replies the event loop sends per wake-up before it yields to other connections. */
#ifndef FF_REPLIES_PER_WAKEUP_MAX
#define FF_REPLIES_PER_WAKEUP_MAX 64
#endif
/* A principal's name, which every event it records carries as its actor. */
#ifndef FF_PRINCIPAL_NAME_BYTES_MAX
#define FF_PRINCIPAL_NAME_BYTES_MAX FF_ACTOR_BYTES_MAX
#endif
/* A principal's token: FF_TOKEN_PREFIX, then FF_TOKEN_RANDOM_BYTES random bytes in hex. */
#define FF_TOKEN_PREFIX "ff_"
#define FF_TOKEN_RANDOM_BYTES 32
#define FF_TOKEN_TEXT_BYTES (sizeof FF_TOKEN_PREFIX - 1 + 2 * FF_TOKEN_RANDOM_BYTES)
/* Principals ListPrincipals returns in one reply (it is not paged). */
#ifndef FF_PRINCIPALS_MAX
#define FF_PRINCIPALS_MAX 10000
#endif
/* Steps up the organisation tree a scope check takes before it gives up (NHS England, region,
 * ICB, place is three). */
#ifndef FF_SCOPE_DEPTH_MAX
#define FF_SCOPE_DEPTH_MAX 8
#endif
/* A bearer token in the configuration file. */
#ifndef FF_TOKEN_BYTES_MAX
#define FF_TOKEN_BYTES_MAX 128
#endif

/* Financial years the ledger accepts, by the calendar year they start in. */
#ifndef FF_YEAR_FIRST
#define FF_YEAR_FIRST 2000
#endif
#ifndef FF_YEAR_LAST
#define FF_YEAR_LAST 2199
#endif

/* The LMDB map: its starting size, and the ceiling that growth after the map fills never passes.
 * 64 GiB of events is decades of a national ledger; the ceiling stops a bug filling the disk. */
#ifndef FF_MAP_BYTES_DEFAULT
#define FF_MAP_BYTES_DEFAULT (64ULL << 20)
#endif
#ifndef FF_MAP_BYTES_MAX
#define FF_MAP_BYTES_MAX (64ULL << 30)
#endif
/* The smallest map accepted, so that a configuration typo cannot ask for a few bytes. */
#ifndef FF_MAP_BYTES_MIN
#define FF_MAP_BYTES_MIN (64ULL << 10)
#endif

/* Verify's replay and rebuild commit every this many events, so that the memory a write
 * transaction holds (LMDB keeps its dirty pages in the heap) does not grow with the ledger; and
 * walks over the log or a table hand the map's resident pages back every this many rows. */
#ifndef FF_REPLAY_EVENTS_PER_TXN
#define FF_REPLAY_EVENTS_PER_TXN 8192
#endif
/* Verify and rebuild report progress every this many events (and table rows when comparing). */
#ifndef FF_PROGRESS_EVERY
#define FF_PROGRESS_EVERY 16384
#endif

/* LMDB reader slots: one per concurrent read transaction across every process using the
 * environment. */
#ifndef FF_READERS_MAX
#define FF_READERS_MAX 126
#endif

/* Text of an amount as printed: "-£92,233,720,368,547,758.08" is 29 bytes with its terminator,
 * since "£" takes two bytes in UTF-8. */
#define FF_MONEY_TEXT_BYTES 32

/* A funding-flow walk: the most edges it returns, so that a reply stays a few hundred kilobytes;
 * the deepest it goes (NHS England, region, ICB, place or joint committee, collaborative,
 * provider, and one spare); and the depth when a request names none. The CLI checks --depth
 * against the same bound. */
#ifndef FF_FLOWS_MAX
#define FF_FLOWS_MAX 10000
#endif
#ifndef FF_FLOW_DEPTH_MAX
#define FF_FLOW_DEPTH_MAX 6
#endif
#ifndef FF_FLOW_DEPTH_DEFAULT
#define FF_FLOW_DEPTH_DEFAULT 3
#endif

/* Plugins loaded at once. Seven rules ship; 32 leaves room for local ones while keeping the
 * host's tables fixed in size. */
#ifndef FF_PLUGINS_MAX
#define FF_PLUGINS_MAX 32
#endif

/* The most rows one plugin report may hold across its tables: a row per organisation per month
 * for every provider fits, and a runaway plugin cannot build a reply of gigabytes. */
#ifndef FF_PLUGIN_REPORT_ROWS_MAX
#define FF_PLUGIN_REPORT_ROWS_MAX 100000
#endif

/* How long a shutdown waits for queued commits' replies to drain before it gives up on slow
 * clients; the commits themselves are already durable. */
#ifndef FF_SHUTDOWN_GRACE_SECONDS
#define FF_SHUTDOWN_GRACE_SECONDS 10
#endif

/* How often fundflowd looks for LMDB reader slots left by dead processes. */
#ifndef FF_READER_CHECK_SECONDS
#define FF_READER_CHECK_SECONDS 60
#endif

/* fundflowd's configuration. A path is PATH_MAX less its terminator, a host name 255 bytes as
 * DNS allows, and a line of the configuration file 8 KiB; longer ones are refused, never cut. */
#ifndef FF_PATH_BYTES_MAX
#define FF_PATH_BYTES_MAX 4095
#endif
#ifndef FF_HOST_BYTES_MAX
#define FF_HOST_BYTES_MAX 255
#endif
#ifndef FF_CONFIG_LINE_BYTES_MAX
#define FF_CONFIG_LINE_BYTES_MAX 8192
#endif

/* The most max_connections a configuration may ask for: past what one process's file
 * descriptors allow. */
#ifndef FF_CONNECTIONS_SETTING_MAX
#define FF_CONNECTIONS_SETTING_MAX 65536
#endif

/* The deepest max_queue_depth a configuration may ask for: a million waiting requests is
 * already minutes of commits. */
#ifndef FF_WRITE_QUEUE_DEPTH_SETTING_MAX
#define FF_WRITE_QUEUE_DEPTH_SETTING_MAX (1u << 20)
#endif

/* The longest request_timeout_seconds: an hour; anything longer is a hung client. */
#ifndef FF_REQUEST_TIMEOUT_SECONDS_MAX
#define FF_REQUEST_TIMEOUT_SECONDS_MAX 3600
#endif

/* max_body_bytes bounds: a body smaller than 1 KiB cannot hold a useful batch; one over 1 GiB
 * would be held in memory whole. */
#ifndef FF_REQUEST_BODY_BYTES_SETTING_MIN
#define FF_REQUEST_BODY_BYTES_SETTING_MIN 1024u
#endif
#ifndef FF_REQUEST_BODY_BYTES_SETTING_MAX
#define FF_REQUEST_BODY_BYTES_SETTING_MAX (1u << 30)
#endif

/* Plugin directories fundflowd loads from: shipped, local and a test's are plenty, and the
 * configuration keeps them in a fixed array. */
#ifndef FF_PLUGIN_DIRECTORIES_MAX
#define FF_PLUGIN_DIRECTORIES_MAX 8
#endif

/* A plugin's name: it prefixes every key of the plugin's projected data and names its settings,
 * so it is short; the host refuses a longer one at load and the CLI before it asks. */
#ifndef FF_PLUGIN_NAME_BYTES_MAX
#define FF_PLUGIN_NAME_BYTES_MAX 63
#endif

/* plugin.NAME.KEY = VALUE settings across every plugin, and the longest key and value: the
 * shipped rules use a handful each, and the configuration keeps them in fixed fields. */
#ifndef FF_PLUGIN_SETTINGS_MAX
#define FF_PLUGIN_SETTINGS_MAX 128
#endif
#ifndef FF_PLUGIN_SETTING_KEY_BYTES_MAX
#define FF_PLUGIN_SETTING_KEY_BYTES_MAX 63
#endif
#ifndef FF_PLUGIN_SETTING_VALUE_BYTES_MAX
#define FF_PLUGIN_SETTING_VALUE_BYTES_MAX 255
#endif

/* Columns in one plugin report table: a report is read by people, and a row's cells are
 * allocated at once. */
#ifndef FF_PLUGIN_REPORT_COLUMNS_MAX
#define FF_PLUGIN_REPORT_COLUMNS_MAX 64
#endif

/* The room under which a commit's EIO counts as a full disk. LMDB reports a write the file
 * system cut short as EIO, and a disk that fills in the middle of a write cuts it short; so an
 * EIO from a commit is storage_full when less than this is left free on the data directory's
 * file system, or below the process's file-size limit, and a storage fault otherwise. 1 MiB is
 * several of LMDB's largest ordinary writes (64 pages). */
#ifndef FF_STORAGE_ROOM_BYTES_MIN
#define FF_STORAGE_ROOM_BYTES_MIN (1u << 20)
#endif

/* Connections one peer address may hold at once, and never more than half of max_connections,
 * so that one address (a misbehaving client, or many behind one NAT) cannot take every slot.
 * 512 lets fundflow-bench run its most connections against the default table from loopback; a
 * proxy in front is one peer, so give it a max_connections of twice what it opens. */
#ifndef FF_CONNECTIONS_PER_PEER_MAX
#define FF_CONNECTIONS_PER_PEER_MAX 512
#endif

/* Seconds a request may take to arrive whole, head and body, counted from the connection's
 * accept or from the first byte of a later request on it. libevent's request timeout restarts
 * at every byte, so a client sending a header line a second would hold its connection for
 * ever. 10 s carries the largest default body at 3.4 Mbit/s; request_timeout_seconds lowers it. */
#ifndef FF_REQUEST_ARRIVAL_SECONDS_MAX
#define FF_REQUEST_ARRIVAL_SECONDS_MAX 10
#endif

/* The web view's static files (daemon/net/ui.c). A file is read whole on the event loop, so its
 * size bounds how long one request holds the loop; the largest, echarts.min.js, is about 1 MiB.
 * A larger file is refused with 500 and a log line naming it, not served in part. */
#ifndef FF_UI_FILE_BYTES_MAX
#define FF_UI_FILE_BYTES_MAX (4u << 20)
#endif

/* The longest file path under /ui/, percent-encoded as the request gives it. The UI's deepest
 * asset path is under 100 bytes. */
#ifndef FF_UI_PATH_BYTES_MAX
#define FF_UI_PATH_BYTES_MAX 1024
#endif

/* The most rows one Reconcile request may hold. A year of monthly payments on 8,000 contracts is
 * 96,000 rows, and the default request body (4 MiB) holds about 40,000 of them as JSON, so the
 * limit never refuses a file the body limit lets through by default; it bounds the reply (a line
 * and a reference per row at most) when request_body_bytes is raised. */
#ifndef FF_RECONCILE_ROWS_MAX
#define FF_RECONCILE_ROWS_MAX 100000
#endif

/* ---- fundflowd's readers and its request log (daemon/net) ---- */

/* The most reader threads read_workers may ask for. The default, 0, means one per online core;
 * past 64 threads more only contend for the same LMDB reader table and CPU. */
#ifndef FF_READ_WORKERS_MAX
#define FF_READ_WORKERS_MAX 64
#endif

/* Read requests waiting for a reader thread at most; past it a read is refused with queue_full.
 * A connection has one request in flight at a time, so with the default max_connections (1,024)
 * the queue never fills; the bound matters only when max_connections is raised past 4,096. */
#ifndef FF_READ_QUEUE_DEPTH_MAX
#define FF_READ_QUEUE_DEPTH_MAX 4096
#endif

/* The request log's buffer between the event loop and the thread that writes it out: 256 KiB is
 * about 1,500 request lines. When the log does not drain and the buffer is full, lines are
 * dropped and counted (fundflow_log_lines_dropped_total), never waited for. */
#ifndef FF_LOG_BUFFER_BYTES
#define FF_LOG_BUFFER_BYTES (256u * 1024u)
#endif

/* The longest log line kept; a longer one is cut here and still ends in a newline. */
#ifndef FF_LOG_LINE_BYTES_MAX
#define FF_LOG_LINE_BYTES_MAX 2048
#endif

/* How long the log thread waits for the log to take more bytes before it looks again whether
 * it is asked to stop, and so how long a stop may wait on a log that never drains. */
#ifndef FF_LOG_POLL_MILLISECONDS
#define FF_LOG_POLL_MILLISECONDS 100
#endif

/* ---- constants: units, not limits, so they cannot be overridden ---- */

/* Basis points in a whole: weights, shares and achievements are stored as integers out of this,
 * so that 100% is 10000 and no floating point touches a share of money. */
#define FF_BASIS_POINTS_WHOLE 10000

/* Months in a financial year, M1 (April) to M12 (March): a plan's amounts and an outturn's rows. */
#define FF_MONTHS_PER_YEAR 12

/* ---- the change stream (WatchEvents) ---- */

/* The longest a WatchEvents request waits for a first event, in milliseconds; a longer wait_ms is
 * cut to it. Below the 60 s that proxies commonly allow an idle request. */
#ifndef FF_WATCH_WAIT_MS_MAX
#define FF_WATCH_WAIT_MS_MAX 30000
#endif

/* WatchEvents requests waiting at once at most; past it the next is refused with watchers_full.
 * Each holds a connection, so the limit is never more than a quarter of max_connections either:
 * waiting consumers leave most slots to writers and readers. */
#ifndef FF_WATCHERS_MAX
#define FF_WATCHERS_MAX 256
#endif

/* fundflow events --follow: how many calls in a row may find no usable server (down, stopping,
 * or too busy) before it gives up, and the pause before the first retry, which grows by as much
 * with each. 5 retries span 0.5 + 1 + 1.5 + 2 + 2.5 = 7.5 s: a restart, not an outage. */
#ifndef FF_FOLLOW_RECONNECTS_MAX
#define FF_FOLLOW_RECONNECTS_MAX 5
#endif
#ifndef FF_FOLLOW_RECONNECT_PAUSE_MS
#define FF_FOLLOW_RECONNECT_PAUSE_MS 500
#endif

/* ---- the Merkle tree and signed tree heads (issue 15) ---- */

/* The merkle table stores the hash of every perfect subtree of 2^3 = 8 leaves and up; the lower
 * ones (the last few leaves of a tree of any size) are hashed again from the stored events when
 * a root or proof needs them, at most 7 events. Storing from height 3 costs 1/8 + 1/16 + ... =
 * 1/4 of a 32-byte hash per event; from height 0 it would be two per event. It is the layout of
 * the table, not a tunable: changing it needs `fundflow-admin rebuild`. */
#define FF_TREE_STORED_HEIGHT_MIN 3

/* The signing key's file, and the latest signed tree head's, in the data directory. */
#define FF_SIGNING_KEY_FILE_NAME "signing_key.pem"
#define FF_SIGNED_HEAD_FILE_NAME "signed_head"


/* ---- backup, restore and operations (backup.c, fundflowd's health and log settings) ---- */

/* How many names a backup tries in the backup directory when one taken in the same second
 * already exists (fundflow-backup-TIME.mdb, then -2 to -N). */
#ifndef FF_BACKUP_NAME_ATTEMPTS_MAX
#define FF_BACKUP_NAME_ATTEMPTS_MAX 100
#endif

/* The bytes of a head file (sequence and hash lines, and later a signed tree head) read. */
#ifndef FF_HEAD_FILE_BYTES_MAX
#define FF_HEAD_FILE_BYTES_MAX 8192
#endif

/* /healthz answers 503 once the data file fills more than this share of the largest map it may
 * grow to, in percent. */
#ifndef FF_HEALTH_MAP_PERCENT_MAX
#define FF_HEALTH_MAP_PERCENT_MAX 90
#endif

/* ---- metrics ---- */

/* The most methods the Ledger service may have: /metrics keeps a row of counters for each
 * (named from the service's descriptor) and one for "other"; fundflowd refuses to start if the
 * service outgrows it. */
#ifndef FF_RPC_METHODS_MAX
#define FF_RPC_METHODS_MAX 64
#endif

/* ---- the cluster (daemon/cluster, --cluster-config) ---- */

/* The most nodes a cluster's configuration may name. */
#ifndef FF_CLUSTER_NODES_MAX
#define FF_CLUSTER_NODES_MAX 16
#endif

/* The bytes of a node's Raft address (host:port) or RPC URL, with the terminating NUL. */
#ifndef FF_CLUSTER_ADDRESS_BYTES
#define FF_CLUSTER_ADDRESS_BYTES 256
#endif

/* Cluster engine (daemon/cluster, issue 16): the cluster configuration file and Raft timings. */

/* The longest line of a cluster configuration file, in bytes. */
#ifndef FF_CLUSTER_CONFIG_LINE_BYTES
#define FF_CLUSTER_CONFIG_LINE_BYTES 1024
#endif

/* Election timeout bounds, in milliseconds: Raft's election timeout, randomised between 1x and
 * 2x; a leader that hears from no majority for that long steps down. */
#ifndef FF_CLUSTER_ELECTION_TIMEOUT_MS_MIN
#define FF_CLUSTER_ELECTION_TIMEOUT_MS_MIN 50
#endif
#ifndef FF_CLUSTER_ELECTION_TIMEOUT_MS_MAX
#define FF_CLUSTER_ELECTION_TIMEOUT_MS_MAX 60000
#endif

/* Heartbeat timeout bounds, in milliseconds (it must also be below the election timeout). */
#ifndef FF_CLUSTER_HEARTBEAT_TIMEOUT_MS_MIN
#define FF_CLUSTER_HEARTBEAT_TIMEOUT_MS_MIN 10
#endif

/* Snapshot threshold and trailing entries: at least this many, at most the maximum. */
#ifndef FF_CLUSTER_SNAPSHOT_ENTRIES_MIN
#define FF_CLUSTER_SNAPSHOT_ENTRIES_MIN 4
#endif
#ifndef FF_CLUSTER_SNAPSHOT_ENTRIES_MAX
#define FF_CLUSTER_SNAPSHOT_ENTRIES_MAX 1000000
#endif

/* How often, in milliseconds, the cluster thread refreshes the status it shares with the
 * server and starts the barrier a new leader needs before it takes writes. */
#ifndef FF_CLUSTER_TICK_MS
#define FF_CLUSTER_TICK_MS 10
#endif

/* Stopping, the longest the cluster thread waits, in ticks, for the writes of Raft's log in
 * flight to finish before it closes Raft anyway (daemon/cluster/cluster.c says why it waits):
 * 500 ticks, 5 s, far above a healthy disk's milliseconds. */
#ifndef FF_CLUSTER_STOP_SETTLE_TICKS
#define FF_CLUSTER_STOP_SETTLE_TICKS 500
#endif

/* ---- nodes of a cluster: reads at a minimum sequence (issue 16, daemon/net) ---- */

/* How long a request carrying Fundflow-Min-Sequence waits, by default, for this node's head to
 * reach it (min_sequence_wait_ms), and the longest that setting may be: below the 60 s that
 * proxies commonly allow an idle request. */
#ifndef FF_MIN_SEQUENCE_WAIT_MS
#define FF_MIN_SEQUENCE_WAIT_MS 5000
#endif
#ifndef FF_MIN_SEQUENCE_WAIT_MS_MAX
#define FF_MIN_SEQUENCE_WAIT_MS_MAX 30000
#endif

/* ---- replicated apply (daemon/ledger/ledger_replica.c) ---- */

/* The most events one replicated entry (one sealed group) may hold: a group of several requests
 * holds at most FF_GROUP_COMMIT_COMMANDS_MAX commands, one request alone FF_BATCH_COMMANDS_MAX. */
#ifndef FF_REPLICA_ENTRY_EVENTS_MAX
#define FF_REPLICA_ENTRY_EVENTS_MAX 8192
#endif

/* ---- storage layout 3: duplicate tables (daemon/store/store.c) ---- */

/* The longest main part of a duplicate table's key, and the longest duplicate (its 8-byte
 * sequence and its value together): LMDB's largest key in its default build, which bounds both
 * (store_open checks the library agrees). */
#ifndef FF_STORE_DUPLICATE_KEY_BYTES_MAX
#define FF_STORE_DUPLICATE_KEY_BYTES_MAX 511
#endif

/* ---- verify and rebuild in parallel (issue 14, item 5; daemon/ledger/verify.c) ---- */

/* How many pieces of FF_REPLAY_EVENTS_PER_TXN events verify's and rebuild's chain thread may have
 * checked ahead of the replay: a fixed ring, so memory does not follow the ledger's size. */
#ifndef FF_VERIFY_PIECES_AHEAD
#define FF_VERIFY_PIECES_AHEAD 2
#endif

/* Bytes of the arena each of those pieces' records are decoded into on the chain thread, instead
 * of a malloc per field (an allocation's record takes about 500); a record that does not fit
 * takes what it needs from the heap. Pages are touched only as they are used. */
#ifndef FF_VERIFY_DECODE_ARENA_BYTES
#define FF_VERIFY_DECODE_ARENA_BYTES (8 * 1024 * 1024)
#endif

/* ---- reads and writes on every core: fundflowd's event loops (issue 14, item 4) ---- */

/* The most event loops fundflowd runs (event_loops; 0, the default, means one per online core
 * within this). Each loop thread keeps a read transaction, so an LMDB reader slot, for its life. */
#ifndef FF_EVENT_LOOPS_MAX
#define FF_EVENT_LOOPS_MAX 16
#endif

/* The largest request body a read may have and still be answered on the loop that received it
 * (GetPosition, GetOrg, GetEvent; docs/ARCHITECTURE.md, "Reads"): a larger one goes to the
 * reader threads, so decoding on the loop stays bounded too. */
#ifndef FF_LOOP_READ_BODY_BYTES_MAX
#define FF_LOOP_READ_BODY_BYTES_MAX 1024
#endif

/* How many more connections one event loop may hold than the loop holding fewest before it
 * stops accepting, so that a burst of connections is shared out between the loops. */
#ifndef FF_LOOP_CONNECTIONS_AHEAD_MAX
#define FF_LOOP_CONNECTIONS_AHEAD_MAX 1
#endif

/* How long the log thread lets lines gather after the first line on an empty ring wakes it, in
 * microseconds: one wake-up and one write per batch of lines instead of per request. At 30,000
 * requests a second this gathers about 4 kB, far below FF_LOG_BUFFER_BYTES. */
#ifndef FF_LOG_GATHER_MICROSECONDS
#define FF_LOG_GATHER_MICROSECONDS 1000
#endif

#endif
