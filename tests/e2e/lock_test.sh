#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: while one shell holds a data directory (reading statements from a pipe), a second
# process gets the "in use" error and exit status 1, and the first keeps working.
source "$(dirname "$0")/lib.sh" "$1"

# wait_for_line FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_for_line() {
    local tries
    for ((tries = 0; tries < 200; tries++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# If the holder dies, writing to its pipe must fail the check, not kill this script.
trap '' PIPE

mkfifo "$TMP/fifo"
"$PHENIX" --data "$DATA" <"$TMP/fifo" >"$TMP/holder.out" 2>"$TMP/holder.err" &
HOLDER_PID=$!
BACKGROUND_PIDS+=("$HOLDER_PID")
exec 3>"$TMP/fifo"  # the holder's stdin; it runs until this is closed

echo 'CREATE COLLECTION held;' >&3
if ! wait_for_line "$TMP/holder.out" "CREATE COLLECTION"; then
    fail "the holder shell did not start: $(cat "$TMP/holder.err")"
    finish
fi

phx -c 'SHOW COLLECTIONS;'
expect_error Unavailable "second process on a held directory"
expect_err_has "in use" "second process on a held directory"
expect_empty_out "second process on a held directory"
phx --format json -f /dev/null
expect_error Unavailable "second process with -f"

echo '\dt' >&3
wait_for_line "$TMP/holder.out" " held " || fail "the holder stopped working: $(cat "$TMP/holder.err")"

exec 3>&-  # end of the holder's input: it exits
wait "$HOLDER_PID"
HOLDER_RC=$?
BACKGROUND_PIDS=()
[[ "$HOLDER_RC" == 0 ]] || fail "the holder exited with $HOLDER_RC: $(cat "$TMP/holder.err")"

phx -c 'SHOW COLLECTIONS;'
expect_rc 0 "open after the holder exited"
expect_out_has " held " "the holder's writes are visible"

finish
