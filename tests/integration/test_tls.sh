#!/usr/bin/env bash
# Integration test of TLS between fundflowd, curl and the fundflow client: HTTPS for /healthz,
# /metrics and Twirp; the client verifying the server's certificate against --cacert and the
# URL's IP address or name; plain HTTP refused on the TLS port; mutual TLS with --tls-client-ca;
# start-up refusals naming the file at fault; and the rule that plain HTTP off loopback needs
# --insecure-listen, which is warned about.
#
# Usage: test_tls.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Certificates are made with the openssl command in a scratch directory. Each server runs on a
# free port (127.0.0.1:0, or 0.0.0.0:0 for the non-loopback cases) and is stopped, by its PID,
# however the script ends; every wait polls the server's own output.
set -euo pipefail

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW (executables)" >&2
    exit 2
fi
fundflowd=$1
cli=$2
command -v openssl >/dev/null || { echo "openssl is missing: run tools/setup.sh" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing: run tools/setup.sh" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-tls-test-XXXXXX")
cleanup() {
    server_reap
    rm -rf "$scratch"
}
trap cleanup EXIT
unset FUNDFLOW_SERVER FUNDFLOW_TOKEN FUNDFLOW_CACERT FUNDFLOW_CERT FUNDFLOW_KEY

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"

# Certificates --------------------------------------------------------------------------------

pki=$scratch/pki
mkdir "$pki"

# Makes a P-256 key NAME.key and a certificate NAME.crt for SUBJECT, signed by the CA ISSUER with
# the extensions EXTENSIONS (one per line).
certificate_make() {
    local name=$1 subject=$2 issuer=$3 extensions=$4
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "$subject" 2>"$pki/openssl.err" \
        || fail "openssl could not make the key of $name: $(cat "$pki/openssl.err")"
    printf '%s\n' "$extensions" >"$pki/$name.ext"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$issuer.crt" -CAkey "$pki/$issuer.key" \
        -CAcreateserial -days 2 -extfile "$pki/$name.ext" -out "$pki/$name.crt" \
        2>"$pki/openssl.err" || fail "openssl could not sign $name: $(cat "$pki/openssl.err")"
}

# Makes a self-signed CA NAME.key and NAME.crt.
ca_make() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$pki/$1.key" -out "$pki/$1.crt" -subj "/CN=fundflow test $1" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        2>"$pki/openssl.err" || fail "openssl could not make the CA $1: $(cat "$pki/openssl.err")"
}

ca_make ca
ca_make other_ca
certificate_make server "/CN=localhost" ca \
    "subjectAltName=IP:127.0.0.1,DNS:localhost"$'\n'"extendedKeyUsage=serverAuth"
# A server certificate naming only localhost: an IP address URL must not match it.
certificate_make server_name_only "/CN=localhost" ca \
    "subjectAltName=DNS:localhost"$'\n'"extendedKeyUsage=serverAuth"
certificate_make client "/CN=fundflow test client" ca "extendedKeyUsage=clientAuth"
certificate_make stranger "/CN=fundflow test stranger" other_ca "extendedKeyUsage=clientAuth"
chmod 600 "$pki"/*.key

# Helpers -------------------------------------------------------------------------------------

data_dir=$scratch/data
port=""

# Starts fundflowd on 127.0.0.1:0 (or the --listen among the arguments) with the arguments given;
# sets port.
tls_server_start() {
    server_launch "$fundflowd" --data-dir "$data_dir" "$@"
    port=${server_address##*:}
}

# Runs curl with the arguments; keeps the status in curl_code, the HTTP status in http_status
# ("000" when no HTTP reply came) and the body in http_body.
curl_run() {
    curl_code=0
    http_status=$(curl -sS --max-time 30 -o "$scratch/curl_body" -w '%{http_code}' "$@" \
        2>"$scratch/curl_err") || curl_code=$?
    http_body=$(cat "$scratch/curl_body" 2>/dev/null || true)
    curl_errors=$(cat "$scratch/curl_err")
    rm -f "$scratch/curl_body"
}

expect_curl_ok() {
    local what=$1
    shift
    curl_run "$@"
    [[ $curl_code -eq 0 && $http_status == 200 ]] \
        || fail "$what: curl exited $curl_code with HTTP $http_status: $curl_errors ${http_body:0:300}"
}

expect_curl_refused() {
    local what=$1
    shift
    curl_run "$@"
    [[ $curl_code -ne 0 && $http_status == 000 ]] \
        || fail "$what: curl got HTTP $http_status (exit $curl_code), expected no HTTP reply"
}

server_info_json='-H Content-Type:application/json --data-binary {}'

# Starts fundflowd with ARGS and expects it to refuse to start with exit code 2 and a stderr
# holding PATTERN.
expect_start_refused() {
    local pattern=$1
    shift
    local status=0
    "$fundflowd" --data-dir "$data_dir" "$@" >"$scratch/refused.out" 2>"$scratch/refused.err" \
        || status=$?
    local errors
    errors=$(cat "$scratch/refused.err")
    sanitizer_check "fundflowd $*" "$errors"
    [[ $status -eq 2 ]] || fail "fundflowd $* exited $status, expected 2; stderr: $errors"
    [[ $errors == *"$pattern"* ]] || fail "fundflowd $* stderr lacks \"$pattern\": $errors"
}

warn_line='level=warn msg="listening without TLS on a non-loopback address"'

# HTTPS ---------------------------------------------------------------------------------------

check "fundflowd serves /healthz, /metrics and Twirp over TLS"
tls_server_start --listen 127.0.0.1:0 --tls-cert "$pki/server.crt" --tls-key "$pki/server.key"
expect_curl_ok "/healthz over https" --cacert "$pki/ca.crt" "https://127.0.0.1:$port/healthz"
[[ $http_body == ok* ]] || fail "/healthz answered: $http_body"
expect_curl_ok "/metrics over https" --cacert "$pki/ca.crt" "https://127.0.0.1:$port/metrics"
# shellcheck disable=SC2086
expect_curl_ok "ServerInfo over https" --cacert "$pki/ca.crt" $server_info_json \
    "https://localhost:$port/twirp/fundflow.v1.Ledger/ServerInfo"
[[ $http_body == *'"head_sequence"'* ]] || fail "ServerInfo answered: $http_body"

check "curl without the CA does not trust the server"
curl_run "https://127.0.0.1:$port/healthz"
[[ $curl_code -ne 0 && $http_status == 000 ]] || fail "curl trusted the server without the CA"

check "plain HTTP to the TLS port gets no HTTP reply"
expect_curl_refused "http:// to the TLS port" "http://127.0.0.1:$port/healthz"

check "the client with --cacert reads ServerInfo by IP address and by name"
expect_status 0 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" info
expect_output "head sequence:"
expect_status 0 --server "https://localhost:$port/" --cacert "$pki/ca.crt" info --json
expect_output '"head_sequence"'
FUNDFLOW_SERVER="https://127.0.0.1:$port" FUNDFLOW_CACERT="$pki/ca.crt" expect_status 0 info

check "the client writes over TLS too"
expect_status 0 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" org add X24 \
    --kind nhse --name "NHS England"
expect_status 0 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" org list
expect_output "X24"

check "the client without --cacert refuses the server's certificate (exit 3)"
expect_status 3 --server "https://127.0.0.1:$port" info
expect_errors "certificate is not trusted"

check "the client trusting another CA refuses it too"
expect_status 3 --server "https://127.0.0.1:$port" --cacert "$pki/other_ca.crt" info
expect_errors "certificate is not trusted"

check "the client speaking plain HTTP to the TLS port gets no reply"
run --server "http://127.0.0.1:$port" info
[[ $status -ne 0 ]] || fail "plain HTTP to the TLS port succeeded: $output"

check "TLS files given as flags with an http:// URL are a usage error"
expect_status 2 --server "http://127.0.0.1:$port" --cacert "$pki/ca.crt" info
expect_errors "use https://"
expect_status 2 --server "https://127.0.0.1:$port" --cacert "$scratch/missing.crt" info
expect_errors "missing.crt"
server_stop
[[ $(cat "$server_err") != *"$warn_line"* ]] || fail "TLS on loopback was warned about"

check "a TLS connection that sends no whole request is closed at the request deadline"
# The server's own deadline closes these; the client only waits for that close, bounded.
printf 'request_timeout_seconds = 1\n' >"$scratch/deadline.conf"
chmod 600 "$scratch/deadline.conf"
tls_server_start --config "$scratch/deadline.conf" --listen 127.0.0.1:0 \
    --tls-cert "$pki/server.crt" --tls-key "$pki/server.key"
python3 - "$port" "$pki/ca.crt" <<'PYTHON' || fail "an idle TLS connection was not closed"
import socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
for partial in (b"", b"POST /twirp/fundflow.v1.Ledger/ServerInfo HTTP/1.1\r\nHost: x\r\n"):
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
    connection = context.wrap_socket(raw, server_hostname="localhost")
    if partial:
        connection.sendall(partial)
    try:
        if connection.recv(100) != b"":
            sys.exit("the server answered a request that never arrived whole")
    except ConnectionResetError:
        pass
PYTHON
server_stop

check "a key file others can read is warned about at start"
cp "$pki/server.key" "$pki/shared.key"
chmod 640 "$pki/shared.key"
tls_server_start --listen 127.0.0.1:0 --tls-cert "$pki/server.crt" --tls-key "$pki/shared.key"
server_stop
grep -qF 'level=warn msg="TLS key file is readable or writable by other users"' "$server_err" \
    || fail "no warning about the key's mode:"$'\n'"$(cat "$server_err")"
[[ $(grep -c 'TLS key file' "$scratch/server.1.err") -eq 0 ]] || fail "a 600 key was warned about"

check "an IP address URL verifies against an IP subjectAltName, not the name"
tls_server_start --listen 127.0.0.1:0 --tls-cert "$pki/server_name_only.crt" \
    --tls-key "$pki/server_name_only.key"
expect_status 3 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" info
expect_errors "certificate is not trusted"
expect_status 0 --server "https://localhost:$port" --cacert "$pki/ca.crt" info
server_stop

check "TLS never falls back to plain HTTP, even when no TLS connection can be made"
# A stand-in SSL_new that always fails, preloaded: libevent then makes a plain connection, which
# the server must refuse rather than serve.
printf '%s\n' '#include <stddef.h>' 'void *SSL_new(void *context);' \
    'void *SSL_new(void *context) { (void)context; return NULL; }' >"$scratch/no_ssl_new.c"
"${CC:-cc}" -shared -fPIC -o "$scratch/no_ssl_new.so" "$scratch/no_ssl_new.c" \
    || fail "cannot build the SSL_new stand-in"
LD_PRELOAD="$scratch/no_ssl_new.so" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    tls_server_start --listen 127.0.0.1:0 --tls-cert "$pki/server.crt" --tls-key "$pki/server.key"
curl_run "http://127.0.0.1:$port/healthz"
[[ $http_status != 200 && $http_body != ok* ]] || fail "a plain connection was served: $http_body"
# shellcheck disable=SC2086
curl_run $server_info_json "http://127.0.0.1:$port/twirp/fundflow.v1.Ledger/ServerInfo"
[[ $http_status != 200 && $http_body == *"TLS is required"* ]] \
    || fail "a plain connection was served ServerInfo ($http_status): $http_body"
server_stop

# Mutual TLS ----------------------------------------------------------------------------------

check "with --tls-client-ca a client without a certificate is refused"
tls_server_start --listen 127.0.0.1:0 --tls-cert "$pki/server.crt" --tls-key "$pki/server.key" \
    --tls-client-ca "$pki/ca.crt"
expect_curl_refused "curl without a client certificate" --cacert "$pki/ca.crt" \
    "https://127.0.0.1:$port/healthz"
expect_status 3 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" info
expect_errors "refused the TLS connection"
log_polls=$((server_wait_seconds * 20))
until [[ $(grep -cF 'msg="TLS handshake refused" peer=127.0.0.1 alert="certificate required"' \
           "$server_err") -ge 2 ]]; do
    ((log_polls-- > 0)) || fail "the server logged no refusals:"$'\n'"$(cat "$server_err")"
    sleep 0.05
done

check "a client certificate from another CA is refused"
expect_curl_refused "curl with a stranger's certificate" --cacert "$pki/ca.crt" \
    --cert "$pki/stranger.crt" --key "$pki/stranger.key" "https://127.0.0.1:$port/healthz"
expect_status 3 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" \
    --cert "$pki/stranger.crt" --cert-key "$pki/stranger.key" info

check "a client certificate the CA signed gets through, with curl and with the client"
expect_curl_ok "curl with the client certificate" --cacert "$pki/ca.crt" \
    --cert "$pki/client.crt" --key "$pki/client.key" "https://127.0.0.1:$port/healthz"
expect_status 0 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" \
    --cert "$pki/client.crt" --cert-key "$pki/client.key" org list
expect_output "X24"
FUNDFLOW_CERT="$pki/client.crt" FUNDFLOW_KEY="$pki/client.key" FUNDFLOW_CACERT="$pki/ca.crt" \
    FUNDFLOW_SERVER="https://127.0.0.1:$port" expect_status 0 info

check "a client certificate without its key is a usage error"
expect_status 2 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" --cert "$pki/client.crt" info
expect_errors "needs its key"
expect_status 2 --server "https://127.0.0.1:$port" --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
    --cert-key "$pki/stranger.key" info
expect_errors "stranger.key: key values mismatch"
server_stop

# Start-up refusals ---------------------------------------------------------------------------

check "a key that does not match the certificate stops the start, naming the file (exit 2)"
expect_start_refused "stranger.key" --listen 127.0.0.1:0 --tls-cert "$pki/server.crt" \
    --tls-key "$pki/stranger.key"
expect_start_refused "does not match the certificate" --listen 127.0.0.1:0 \
    --tls-cert "$pki/server.crt" --tls-key "$pki/stranger.key"

check "an encrypted key is refused at start, not prompted for"
openssl pkey -in "$pki/server.key" -aes256 -passout pass:secret -out "$pki/encrypted.key" \
    2>"$pki/openssl.err" || fail "openssl could not encrypt the key: $(cat "$pki/openssl.err")"
# Said the same way whatever the empty pass phrase decrypts the key into (OpenSSL's own reason
# varies: "bad decrypt" mostly, "unsupported" about one time in 256).
encrypted_said="the private key is encrypted (fundflowd needs it unencrypted, mode 600, and never"
encrypted_said+=" prompts): --tls-key $pki/encrypted.key"
expect_start_refused "$encrypted_said" --listen 127.0.0.1:0 \
    --tls-cert "$pki/server.crt" --tls-key "$pki/encrypted.key" </dev/null

check "a certificate that cannot be read stops the start, naming the file"
expect_start_refused "missing.crt: No such file or directory" --listen 127.0.0.1:0 \
    --tls-cert "$scratch/missing.crt" --tls-key "$pki/server.key"
printf 'not a certificate\n' >"$scratch/garbage.crt"
expect_start_refused "garbage.crt" --listen 127.0.0.1:0 --tls-cert "$scratch/garbage.crt" \
    --tls-key "$pki/server.key"

check "--tls-key or --tls-client-ca without --tls-cert, or a certificate without a key, is refused"
expect_start_refused "needs --tls-cert" --listen 127.0.0.1:0 --tls-key "$pki/server.key"
expect_start_refused "needs --tls-cert" --listen 127.0.0.1:0 --tls-client-ca "$pki/ca.crt"
expect_start_refused "needs --tls-key" --listen 127.0.0.1:0 --tls-cert "$pki/server.crt"

# Plain HTTP off loopback ---------------------------------------------------------------------

check "plain HTTP on a non-loopback address is refused at start (exit 2)"
expect_start_refused "refusing to listen on 0.0.0.0 without TLS" --listen 0.0.0.0:0
expect_start_refused "--insecure-listen" --listen 0.0.0.0:0

check "--insecure-listen starts it, with one warning line"
tls_server_start --listen 0.0.0.0:0 --insecure-listen
expect_curl_ok "/healthz over plain HTTP" "http://127.0.0.1:$port/healthz"
[[ $(grep -cF -- "$warn_line" "$server_err") -eq 1 ]] \
    || fail "expected one warning line:"$'\n'"$(cat "$server_err")"
server_stop

check "insecure_listen = true in the configuration file does the same"
printf 'listen = 0.0.0.0:0\ninsecure_listen = true\n' >"$scratch/insecure.conf"
chmod 600 "$scratch/insecure.conf"
tls_server_start --config "$scratch/insecure.conf"
[[ $(grep -cF -- "$warn_line" "$server_err") -eq 1 ]] \
    || fail "expected one warning line:"$'\n'"$(cat "$server_err")"
server_stop
printf 'listen = 0.0.0.0:0\ninsecure_listen = maybe\n' >"$scratch/bad.conf"
chmod 600 "$scratch/bad.conf"
expect_start_refused "insecure_listen" --config "$scratch/bad.conf"

check "TLS on a non-loopback address starts without a warning, from the configuration file"
printf 'listen = 0.0.0.0:0\ntls_cert = %s\ntls_key = %s\n' "$pki/server.crt" "$pki/server.key" \
    >"$scratch/tls.conf"
chmod 600 "$scratch/tls.conf"
tls_server_start --config "$scratch/tls.conf"
expect_curl_ok "/healthz over https on 0.0.0.0" --cacert "$pki/ca.crt" \
    "https://127.0.0.1:$port/healthz"

check "SIGHUP does not reload TLS: a file without it leaves the server on HTTPS"
printf 'listen = 0.0.0.0:0\n' >"$scratch/tls.conf"
kill -HUP "$server_pid"
reread_polls=$((server_wait_seconds * 20))
until grep -qF 'msg="configuration re-read"' "$server_err"; do
    ((reread_polls-- > 0)) || fail "the server did not log the re-read:"$'\n'"$(cat "$server_err")"
    sleep 0.05
done
expect_curl_ok "/healthz over https after SIGHUP" --cacert "$pki/ca.crt" \
    "https://127.0.0.1:$port/healthz"
expect_curl_refused "http:// after SIGHUP" "http://127.0.0.1:$port/healthz"
server_stop
[[ $(cat "$server_err") != *"$warn_line"* ]] || fail "TLS off loopback was warned about"

check "plain HTTP on loopback stays allowed without a warning"
tls_server_start --listen 127.0.0.1:0
expect_curl_ok "/healthz on loopback" "http://127.0.0.1:$port/healthz"

check "the environment's TLS files are ignored for an http:// server"
FUNDFLOW_CACERT="$pki/ca.crt" FUNDFLOW_CERT="$pki/client.crt" FUNDFLOW_KEY="$pki/client.key" \
    expect_status 0 --server "http://127.0.0.1:$port" info
server_stop
[[ $(cat "$server_err") != *"$warn_line"* ]] || fail "loopback was warned about"

echo "PASS: $checks checks"
