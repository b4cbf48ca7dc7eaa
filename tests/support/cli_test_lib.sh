# Helpers shared by the shell tests that drive the fundflow CLI. Source it after setting $cli
# (the fundflow binary) and $scratch (a scratch directory).

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

# Runs fundflow, keeping stdout in $output (and the file $scratch/stdout), stderr in $errors and
# the exit code in $status, without letting set -e end the script when the code is not zero.
run() {
    status=0
    "$cli" "$@" >"$scratch/stdout" 2>"$scratch/stderr" || status=$?
    output=$(cat "$scratch/stdout")
    errors=$(cat "$scratch/stderr")
    sanitizer_check "fundflow $*" "$errors"
}

expect_status() {
    local expected=$1
    shift
    run "$@"
    if [[ $status -ne $expected ]]; then
        fail "fundflow $* exited $status, expected $expected; stdout:"$'\n'"$output"$'\n'"stderr:"$'\n'"$errors"
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
