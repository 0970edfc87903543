# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the shell's end-to-end tests. A test script sources this file with the path of
# the built `phenix` binary as its first argument:
#
#   source "$(dirname "$0")/lib.sh" "$1"
#   phx -c 'collections'            # runs the shell on a fresh data directory
#   expect_rc 0 "list collections"
#   expect_out "..." "list collections"
#   finish
#
# phx leaves stdout in $OUT, stderr in $ERR and the exit status in $RC. Every expect_* prints
# what differed and counts a failure; finish exits non-zero if any check failed.
#
# Remote mode (PHENIX_E2E_MODE=remote, PHENIX_E2E_PHENIXD=path of phenixd; the e2e.remote tests):
# phx starts phenixd on $DATA (port 0) the first time it runs, and again when $DATA changed, and
# runs `phenix --url` against it instead of `phenix --data`; the server is stopped (by its pid)
# at the end. Tests run the same checks in both modes; what only the embedded shell can do
# (--read-only, --copy-directory, ...) is under `if ! is_remote; then ... fi`.

set -u

PHENIX="${1:-}"
if [[ -z "$PHENIX" || ! -x "$PHENIX" ]]; then
    echo "usage: $0 PATH_TO_PHENIX_BINARY" >&2
    exit 2
fi
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/phenix-e2e.XXXXXX")"
DATA="$TMP/data"
OUT="$TMP/stdout"
ERR="$TMP/stderr"
RC=0
NUM_FAILURES=0
NUM_CHECKS=0
BACKGROUND_PIDS=()
E2E_MODE="${PHENIX_E2E_MODE:-embedded}"
SERVER_PID=""
SERVER_DATA=""
SERVER_URL=""
if [[ "$E2E_MODE" == remote && ! -x "${PHENIX_E2E_PHENIXD:-}" ]]; then
    echo "remote mode needs PHENIX_E2E_PHENIXD, the path of the built phenixd" >&2
    exit 2
fi

# The history file of any interactive session must not touch the real home directory.
export PHENIX_HISTORY="$TMP/history"

is_remote() {
    [[ "$E2E_MODE" == remote ]]
}

# stop_server: stops the phenixd that remote mode started (SIGTERM: a graceful shutdown).
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
        SERVER_DATA=""
    fi
}

# ensure_server: in remote mode, a phenixd serving $DATA (started, or restarted for a new $DATA).
ensure_server() {
    is_remote || return 0
    [[ -n "$SERVER_PID" && "$SERVER_DATA" == "$DATA" ]] && return 0
    stop_server
    local log="$TMP/phenixd.$RANDOM" tries
    # COPY on the server reads and writes the test's files, all under $TMP.
    "$PHENIX_E2E_PHENIXD" --data "$DATA" --http 127.0.0.1:0 --copy-directory "$TMP" \
        >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    SERVER_DATA="$DATA"
    # Ready once it logged "ready" (the database is open; /v1 answers 503 before).
    for ((tries = 0; tries < 800; tries++)); do
        SERVER_URL="$(sed -n 's/^phenixd: http listening on \(.*\)$/http:\/\/\1/p' "$log.out" 2>/dev/null)"
        if [[ -n "$SERVER_URL" ]] && grep -q '"msg":"ready"' "$log.err"; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.025
    done
    echo "phenixd did not start on $DATA:" >&2
    cat "$log.err" >&2
    exit 1
}

# phx_target: the arguments that point the shell at the test's database: --data $DATA, or in
# remote mode --url of the server on $DATA (started if need be).
phx_target() {
    if is_remote; then
        ensure_server
        printf '%s\n' --url "$SERVER_URL"
    else
        printf '%s\n' --data "$DATA"
    fi
}

# phx_cmdline: the shell's command line for the test's database, quoted for `script -c` and
# the like ('/path/phenix' --data '/tmp/...'; in remote mode --url).
phx_cmdline() {
    local target
    is_remote && ensure_server
    mapfile -t target < <(phx_target)
    printf '%q %q %q' "$PHENIX" "${target[@]}"
}

cleanup() {
    local pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT

# phx ARGS...: runs the shell on $DATA with stdin from /dev/null.
phx() {
    local target
    is_remote && ensure_server
    mapfile -t target < <(phx_target)
    "$PHENIX" "${target[@]}" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
}

# phx_stdin TEXT ARGS...: runs the shell on $DATA with TEXT on stdin.
phx_stdin() {
    local input="$1" target
    shift
    is_remote && ensure_server
    mapfile -t target < <(phx_target)
    printf '%s' "$input" | "$PHENIX" "${target[@]}" "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

fail() {
    NUM_FAILURES=$((NUM_FAILURES + 1))
    echo "FAIL: $*"
}

show_output() {
    echo "  --- stdout:"
    sed 's/^/  | /' "$OUT" | head -n 40
    echo "  --- stderr:"
    sed 's/^/  | /' "$ERR" | head -n 40
}

# expect_rc CODE WHAT
expect_rc() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if [[ "$RC" != "$1" ]]; then
        fail "$2: exit status $RC, expected $1"
        show_output
    fi
}

# expect_out TEXT WHAT: stdout must be exactly TEXT (plus a final newline).
expect_out() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    local diff_output
    if ! diff_output="$(diff -u <(printf '%s\n' "$1") "$OUT")"; then
        fail "$2: stdout differs (- expected, + actual)"
        printf '%s\n' "$diff_output" | sed 's/^/  /'
        echo "  --- stderr:"
        sed 's/^/  | /' "$ERR" | head -n 20
    fi
}

# expect_out_file FILE WHAT: stdout must equal the contents of FILE.
expect_out_file() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    local diff_output
    if ! diff_output="$(diff -u "$1" "$OUT")"; then
        fail "$2: stdout differs from $1 (- expected, + actual)"
        printf '%s\n' "$diff_output" | sed 's/^/  /'
        echo "  --- stderr:"
        sed 's/^/  | /' "$ERR" | head -n 20
    fi
}

# expect_empty_out WHAT / expect_empty_err WHAT
expect_empty_out() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if [[ -s "$OUT" ]]; then
        fail "$1: expected no output on stdout"
        show_output
    fi
}
expect_empty_err() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if [[ -s "$ERR" ]]; then
        fail "$1: expected nothing on stderr"
        show_output
    fi
}

# expect_out_has TEXT WHAT / expect_err_has TEXT WHAT: a fixed string must occur.
expect_out_has() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qF -- "$1" "$OUT"; then
        fail "$2: stdout lacks '$1'"
        show_output
    fi
}
expect_err_has() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qF -- "$1" "$ERR"; then
        fail "$2: stderr lacks '$1'"
        show_output
    fi
}

# expect_out_lacks TEXT WHAT: a fixed string must not occur on stdout.
expect_out_lacks() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if grep -qF -- "$1" "$OUT"; then
        fail "$2: stdout unexpectedly contains '$1'"
        show_output
    fi
}

# expect_err_line REGEX WHAT: some stderr line must match the extended regex.
expect_err_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qE -- "$1" "$ERR"; then
        fail "$2: no stderr line matches /$1/"
        show_output
    fi
}

# expect_error CODE WHAT: exit status 1 and an "error: CODE: ..." line on stderr.
expect_error() {
    expect_rc 1 "$2"
    expect_err_line "^error: $1: " "$2"
}

finish() {
    if ((NUM_FAILURES > 0)); then
        echo "$(basename "$0"): $NUM_FAILURES of $NUM_CHECKS checks failed"
        exit 1
    fi
    echo "$(basename "$0"): all $NUM_CHECKS checks passed"
    exit 0
}
