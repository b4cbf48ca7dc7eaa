#!/usr/bin/env bash
# Installs the Debian packages fundflow needs to build, test and benchmark, and the web view's npm
# packages (tools/web, pinned by its package-lock.json); silent when all are already there. Safe
# to run again. Installing needs root: run it as root, or as a user who may use sudo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  cmake make gcc pkg-config          # the build
  liblmdb-dev lmdb-utils             # storage, and mdb_stat/mdb_dump for operators
  libprotobuf-c-dev protobuf-c-compiler
  libssl-dev                         # libcrypto's SHA-256 for the hash chain; TLS
  openssl                            # the TLS test makes its certificates with it
  libevent-dev libjansson-dev        # the server's HTTP and JSON
  libcmocka-dev                      # unit tests
  curl                               # integration tests and the README's examples
  clang libclang-rt-14-dev           # libFuzzer for the request-decoder fuzz target
  python3                            # JSON checks in the CLI integration test
  libxlsxwriter-dev                  # fundflow report --format xlsx
  libraft-dev libuv1-dev             # replication: canonical raft and its libuv I/O backend
  unzip                              # the report test looks inside an XLSX workbook
  chromium                           # the web view's browser tests (headless, via playwright-core)
  dpkg-dev                           # cpack -G DEB's dpkg-shlibdeps (the package's Depends)
  systemd                            # systemd-analyze verify of the package's unit
)
# Node and npm build the web view's assets and run its browser tests; Debian's only if there is
# no node already.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
      echo "setup: run this script as root, or: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    as_root=(sudo)
  fi

  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# The web view's packages (nhsuk-frontend, echarts, playwright-core, axe-core), exactly as
# package-lock.json pins them, when node_modules is missing or older than the lockfile.
web="$root/tools/web"
if [[ ! -d $web/node_modules || $web/package-lock.json -nt $web/node_modules ]]; then
  echo "setup: npm ci in tools/web"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$web/node_modules"
fi
