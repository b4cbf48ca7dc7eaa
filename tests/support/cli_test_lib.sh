# Helpers shared by the shell tests that drive fundflow's programs: checks, running a program
# with its output captured, and starting and stopping fundflowd. Source it after setting $cli
# (the program run() runs), then make $scratch, the test's own directory, with scratch_begin
# (or set it yourself before run() is called). The HTTP helpers need curl. Optional:
# $cli_name names the program in messages (default fundflow); run_merges_streams=1 puts stderr
# into $output as well, in the order written, for tools whose messages tests read as one text.

checks=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

check() {
    checks=$((checks + 1))
    echo "check $checks: $*"
}

# A sanitizer build reports into stderr; any report fails the test, whatever the exit code.
sanitizer_check() {
    local what=$1 text=$2
    if [[ $text == *Sanitizer* || $text == *"runtime error:"* ]]; then
        fail "$what made a sanitizer report:"$'\n'"$text"
    fi
}

# Makes $scratch, a fresh directory named for the test (fundflow-NAME-test-XXXXXX), removed
# with any server still running (server_reap) however the script ends, and clears the
# environment the programs read, so nothing from the caller's shell leaks in.
scratch_begin() {
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-$1-test-XXXXXX")
    trap 'server_reap; rm -rf "$scratch"' EXIT
    unset FUNDFLOW_SERVER FUNDFLOW_TOKEN FUNDFLOW_DATA_DIR
}

# The value of a "name: value" line of the last run's $output, such as "head sequence".
field() {
    printf '%s\n' "$output" | sed -n "s/^$1:[[:space:]]*//p"
}

# The ledger's head sequence, as `$cli info` prints it (replaces $output).
head_sequence() {
    expect_status 0 info
    field "head sequence"
}

# Runs $cli, keeping stdout in $output (and the file $scratch/stdout), stderr in $errors and the
# exit code in $status, without letting set -e end the script when the code is not zero.
run() {
    status=0
    if [[ ${run_merges_streams:-0} == 1 ]]; then
        "$cli" "$@" >"$scratch/stdout" 2>&1 || status=$?
        : >"$scratch/stderr"
    else
        "$cli" "$@" >"$scratch/stdout" 2>"$scratch/stderr" || status=$?
    fi
    output=$(cat "$scratch/stdout")
    errors=$(cat "$scratch/stderr")
    sanitizer_check "${cli_name:-fundflow} $*" "$output"$'\n'"$errors"
}

expect_status() {
    local expected=$1
    shift
    run "$@"
    if [[ $status -ne $expected ]]; then
        fail "${cli_name:-fundflow} $* exited $status, expected $expected; stdout:"$'\n'"$output"$'\n'"stderr:"$'\n'"$errors"
    fi
}

expect_output() {
    local pattern=$1
    [[ $output == *"$pattern"* ]] || fail "stdout lacks \"$pattern\":"$'\n'"$output"
}

expect_errors() {
    local pattern=$1
    [[ $errors == *"$pattern"* ]] || fail "stderr lacks \"$pattern\":"$'\n'"$errors"
}

# HTTP ----------------------------------------------------------------------------------------------

# POSTs JSON to a Ledger method of the server server_launch started, with a bearer token if $2 is
# not empty; sets http_status and http_body. Needs curl.
http_post() {
    local method=$1 token=$2 body=$3
    local -a headers=(-H 'Content-Type: application/json')
    [[ -z $token ]] || headers+=(-H "Authorization: Bearer $token")
    http_status=$(curl -sS -o "$scratch/http_body" -w '%{http_code}' "${headers[@]}" \
        --data-binary "$body" "http://$server_address/twirp/fundflow.v1.Ledger/$method") \
        || fail "curl could not reach the server for $method"
    http_body=$(cat "$scratch/http_body")
}

expect_http() {
    local expected=$1 method=$2 token=$3 body=$4
    http_post "$method" "$token" "$body"
    [[ $http_status == "$expected" ]] \
        || fail "$method with token '${token}' answered $http_status, expected $expected: ${http_body:0:600}"
}

# Waits until the server's stderr holds at least $2 lines containing $1: the server writes the
# line once it has acted, so its appearance is the readiness to wait for.
log_wait() {
    local pattern=$1 wanted=$2 found=0
    local polls=$((server_wait_seconds * 20)) deadline=$((SECONDS + server_wait_seconds))
    while ((polls-- > 0 && SECONDS <= deadline)); do
        found=$(grep -cF -- "$pattern" "$server_err" || true)
        ((found >= wanted)) && return 0
        sleep 0.05
    done
    fail "the server logged \"$pattern\" $found times, not $wanted, within $server_wait_seconds s:"$'\n'"$(tail -n 20 "$server_err")"
}

# GETs a path (/metrics, /healthz) of the server, with a bearer token if $2 is not empty; sets
# http_status and http_body.
http_get() {
    local path=$1 token=$2
    local -a headers=()
    [[ -z $token ]] || headers+=(-H "Authorization: Bearer $token")
    http_status=$(curl -sS -o "$scratch/http_body" -w '%{http_code}' "${headers[@]}" \
        "http://$server_address$path") || fail "curl could not reach the server for $path"
    http_body=$(cat "$scratch/http_body")
}

expect_http_get() {
    local expected=$1 path=$2 token=$3
    http_get "$path" "$token"
    [[ $http_status == "$expected" ]] \
        || fail "GET $path with token '${token:0:6}...' answered $http_status, expected $expected: ${http_body:0:600}"
}

# Servers ---------------------------------------------------------------------------------------

# How long a server may take to say where it listens, or to exit after SIGTERM. Generous because
# sanitizer builds on a loaded machine are slow; the loops end as soon as the server is ready.
server_wait_seconds=${FF_TEST_SERVER_WAIT_SECONDS:-60}
server_starts=0
server_pid=""
server_address=""

# Starts the command "$@" (fundflowd with --listen 127.0.0.1:0 among its arguments) in the
# background, and waits for ITS "listening on HOST:PORT" line: every start writes to files of its
# own, $scratch/server.N.out and .err, created before the server starts, so no line of an earlier
# server can be read as this one's. Sets server_pid, server_address (HOST:PORT), server_out and
# server_err. Fails, with the server's log, if it exits first or the line does not come within
# $server_wait_seconds (polls are bounded in count as well as time).
server_launch() {
    server_starts=$((server_starts + 1))
    server_out="$scratch/server.$server_starts.out"
    server_err="$scratch/server.$server_starts.err"
    : >"$server_out"
    : >"$server_err"
    "$@" >"$server_out" 2>"$server_err" &
    server_pid=$!
    server_address=""
    local deadline=$((SECONDS + server_wait_seconds)) polls=$((server_wait_seconds * 20)) line
    while ((polls-- > 0 && SECONDS <= deadline)); do
        # read skips a last line not yet ended by its newline: only whole lines count.
        while IFS= read -r line; do
            if [[ $line =~ ^listening\ on\ ([^[:space:]]+:[0-9]+)$ ]]; then
                server_address=${BASH_REMATCH[1]}
                return 0
            fi
        done <"$server_out"
        if ! kill -0 "$server_pid" 2>/dev/null; then
            local exit_status=0
            wait "$server_pid" || exit_status=$?
            server_pid=""
            fail "$1 exited $exit_status before listening; its stdout:"$'\n'"$(cat "$server_out")"$'\n'"its stderr:"$'\n'"$(cat "$server_err")"
        fi
        sleep 0.05
    done
    fail "$1 did not print \"listening on\" within $server_wait_seconds s; its stderr:"$'\n'"$(cat "$server_err")"
}

# Sends SIGTERM to the server started by server_launch and waits for it to exit (bounded; after
# that it is killed and the test fails), so the next server never meets the old one on the same
# data directory. Fails unless it exited 0 without a sanitizer report.
server_stop() {
    [[ -n $server_pid ]] || fail "server_stop: no server is running"
    local pid=$server_pid exit_status=0 deadline=$((SECONDS + server_wait_seconds))
    local polls=$((server_wait_seconds * 20))
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((polls-- > 0 && SECONDS <= deadline)); do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        server_pid=""
        fail "the server (pid $pid) did not exit within $server_wait_seconds s of SIGTERM:"$'\n'"$(tail -n 20 "$server_err")"
    fi
    wait "$pid" || exit_status=$?
    server_pid=""
    sanitizer_check "the server" "$(cat "$server_err")"
    [[ $exit_status -eq 0 ]] || fail "the server exited $exit_status:"$'\n'"$(tail -n 20 "$server_err")"
}

# Polls, at most 2,000 times (every 20 ms), until the shell expression $1 is true; fails if it
# never is.
poll_until() {
    local polls=2000
    while ((polls-- > 0)); do
        eval "$1" && return 0
        sleep 0.02
    done
    fail "never true: $1"
}

# The other processes a test starts in the background (followers, stand-in servers): append
# each PID to started_pids. started_reap, for an EXIT trap, stops them by PID and the server
# (server_reap), and removes $scratch.
started_pids=()
started_reap() {
    local pid
    for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    server_reap
    rm -rf "$scratch"
}

# For an EXIT trap: stops a server still running, by its PID, and waits for it.
server_reap() {
    if [[ -n $server_pid ]]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
