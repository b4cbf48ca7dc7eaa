#!/usr/bin/env bash
# Installs what is missing, then builds fundflow twice, plainly and with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite through CTest in each build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

bash "$root/tools/setup.sh"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_suite() {
  local name=$1; shift
  local build="$root/build/$name"
  echo "== $name build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$build" -j "$jobs" >/dev/null
  ctest --test-dir "$build" --output-on-failure -j "$jobs"
}

run_suite tests
run_suite sanitize -DFF_SANITIZE=ON
