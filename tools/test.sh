#!/usr/bin/env bash
# Installs what is missing, then builds fundflow twice, plainly and with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs the whole test suite through CTest in each build, and fuzzes
# with libFuzzer (the request decoders, the mapping and CSV readers, the JSON codec's encoding,
# the money and date parsers, the CSV writer's escaping, and stored records and verify) for
# FUZZ_SECONDS in all (default 60), split evenly. Every stage runs even when an
# earlier one failed, so one run shows every failure; at the end it lists each failed stage and
# test, and exits 1 if anything failed.
#
# No set -e: a failing stage must not stop the others. Each command's failure is recorded instead.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

failures=()
failed() {
  failures+=("$1")
  echo "== FAILED: $1" >&2
}

bash "$root/tools/setup.sh" || failed "setup: tools/setup.sh could not install the packages"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Configures, builds and tests one build directory; records the stage that failed and, for CTest,
# the names of the tests that failed (from CTest's LastTestsFailed.log).
run_suite() {
  local name=$1; shift
  local build="$root/build/$name"
  echo "== $name build"
  if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$build.configure.log" 2>&1; then
    cat "$build.configure.log" >&2
    failed "$name: cmake configure (log above)"
    return
  fi
  if ! cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; then
    grep -E 'error|Error' "$build.build.log" >&2 || tail -n 40 "$build.build.log" >&2
    failed "$name: build (see $build.build.log)"
    return
  fi
  local failed_log="$build/Testing/Temporary/LastTestsFailed.log"
  rm -f "$failed_log"
  if ! ctest --test-dir "$build" --output-on-failure -j "$jobs"; then
    local tests="(see the CTest output above)"
    if [[ -s $failed_log ]]; then
      tests=$(sed 's/^[0-9]*://' "$failed_log" | paste -sd ' ' -)
    fi
    failed "$name: ctest: $tests"
  fi
}

mkdir -p "$root/build"
run_suite tests
run_suite sanitize -DFF_SANITIZE=ON

# The fuzz targets under libFuzzer for a bounded time, FUZZ_SECONDS in all (default 60), split
# evenly between them (tests/fuzz/CMakeLists.txt says what each covers). Each starts from its
# seeds, the files of its folder in tests/fuzz/corpus (fuzz_requests: the top folder's own); a
# crash or sanitizer report fails the run. A long run, such as FUZZ_SECONDS=21600 (an hour a
# target), goes well past ten million executions a target; docs/BENCHMARKS.md has one's figures.
fuzz_targets=(
  "fuzz_requests:"
  "fuzz_mapping:mapping"
  "fuzz_json:json"
  "fuzz_values:values"
  "fuzz_csv_escape:csv_escape"
  "fuzz_log:log"
  "fuzz_merkle:merkle"
)
fuzz_build() {
  local build=$1
  if ! CC=clang cmake -S "$root" -B "$build" -DFF_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      >"$build.configure.log" 2>&1; then
    cat "$build.configure.log" >&2
    failed "fuzz: cmake configure (log above)"
    return 1
  fi
  if ! cmake --build "$build" -j "$jobs" --target "${fuzz_targets[@]%%:*}" \
      >"$build.build.log" 2>&1; then
    grep -E 'error|Error' "$build.build.log" >&2 || tail -n 40 "$build.build.log" >&2
    failed "fuzz: build (see $build.build.log)"
    return 1
  fi
}

# fuzz_target <target> <seconds> <seed dir>: the seed dir's files (not its subdirectories).
fuzz_target() {
  local target=$1 seconds=$2 seeds=$3 build="$root/build/fuzz" corpus log status=0
  corpus=$(mktemp -d)
  log="$build.$target.log"
  if ! find "$seeds" -maxdepth 1 -type f -exec cp {} "$corpus"/ \; ; then
    rm -rf "$corpus"
    failed "fuzz: cannot copy the seed corpus from $seeds"
    return
  fi
  # Into a file, then the tail: a pipe into tail would hide the fuzzer's exit status.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
  rm -rf "$corpus"
  if [[ $status -eq 0 ]]; then
    tail -n 12 "$log"
    echo "fuzz: $target ${seconds} s without a crash"
  else
    tail -n 60 "$log" >&2
    failed "fuzz: $target exited $status (log: $log)"
  fi
}

# Splits the seconds evenly, the first targets taking the remainder, each at least 1.
fuzz() {
  local seconds=$1 count=${#fuzz_targets[@]} index=0 share entry
  echo "== fuzz build (${seconds} s)"
  fuzz_build "$root/build/fuzz" || return
  for entry in "${fuzz_targets[@]}"; do
    share=$((seconds / count + (index < seconds % count ? 1 : 0)))
    [[ $share -gt 0 ]] || share=1
    fuzz_target "${entry%%:*}" "$share" "$root/tests/fuzz/corpus/${entry#*:}"
    index=$((index + 1))
  done
}

fuzz_seconds=${FUZZ_SECONDS:-60}
if [[ $fuzz_seconds -gt 0 ]]; then
  fuzz "$fuzz_seconds"
fi

echo
if [[ ${#failures[@]} -eq 0 ]]; then
  echo "== all stages passed: tests, sanitize$([[ $fuzz_seconds -gt 0 ]] && echo ", fuzz")"
  exit 0
fi
echo "== ${#failures[@]} stage(s) failed:" >&2
printf '  %s\n' "${failures[@]}" >&2
exit 1
