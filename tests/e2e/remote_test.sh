#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: what only `phenix --url` does. Usage errors; a server that is not there; a streamed
# answer (NDJSON, chunked, in pieces), one cut off and one ending in an error, from a stand-in
# server (fake_phenixd.py); ^C closing the connection of a running query; and, with a real
# phenixd on the data directory, the embedded shell's "in use" error that points to --url.
# Needs PHENIX_E2E_PHENIXD (the e2e.remote tests set it).
source "$(dirname "$0")/lib.sh" "$1"

# ---- usage ----
phx --url http://127.0.0.1:1 --data "$DATA" -c 'SHOW COLLECTIONS;'
expect_rc 2 "--url with --data"
expect_err_has "--data applies to a data directory opened by the shell" "--url with --data"
phx --url 127.0.0.1:8080 -c 'SHOW COLLECTIONS;'
expect_rc 2 "--url without http://"
expect_err_has "expected http[s]://HOST[:PORT]" "--url without http://"
# https:// is TLS (tests/integration/server/tls_test.py runs it); its files need an https URL.
"$PHENIX" --url http://127.0.0.1:8080 --cacert /dev/null -c 'SHOW COLLECTIONS;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "--cacert with http://"
expect_err_has "apply to an https:// --url only" "--cacert with http://"

# ---- nothing listens there ----
# A port that was free a moment ago: bind one, note it, close it.
FREE_PORT=$(/usr/bin/env python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PHENIX" --url "http://127.0.0.1:$FREE_PORT" -c 'SHOW COLLECTIONS;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_error Unavailable "no server at the URL"
expect_err_has "cannot connect to the server at http://127.0.0.1:$FREE_PORT" "the error names the URL"
expect_err_has "is phenixd running there?" "the error says what to check"
expect_empty_out "no server at the URL"

# ---- streamed answers, from a stand-in server ----
/usr/bin/env python3 "$E2E_DIR/fake_phenixd.py" "$TMP/fake.port" "$TMP/fake.events" \
    </dev/null >/dev/null 2>"$TMP/fake.err" &
BACKGROUND_PIDS+=($!)
for ((tries = 0; tries < 400; tries++)); do
    [[ -s "$TMP/fake.port" ]] && break
    sleep 0.025
done
FAKE="http://127.0.0.1:$(cat "$TMP/fake.port")"
"$PHENIX" --url "$FAKE" -c 'SELECT stream;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "a streamed answer"
expect_out " id | v           | m
----+-------------+---------------
 a  | [1, 2]      | {\"z\":1,\"a\":2}
 b  | [0.5, 0.25] | NULL
(2 rows)" "a streamed answer prints as a table"
"$PHENIX" --url "$FAKE" --format json -c 'SELECT stream;' -c 'INSERT message;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "a streamed answer as JSON"
expect_out '[{"id":"a","v":[1,2],"m":{"z":1,"a":2}},{"id":"b","v":[0.5,0.25],"m":null}]' \
    "a streamed answer as JSON, keys in the server's order"
"$PHENIX" --url "$FAKE" -c 'INSERT message;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_out "INSERT 2" "a statement without rows"
"$PHENIX" --url "$FAKE" --format csv -c 'SELECT failing;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_error InvalidArgument "an error line after rows"
expect_err_has "line 1, column 8: division by zero" "the error keeps its position"
expect_out "n
1" "the rows before the error are printed"
"$PHENIX" --url "$FAKE" -c 'SELECT cutoff;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_error Unavailable "an answer cut off"
expect_err_line "cut off|broke before the end" "a cut-off answer is reported"
expect_out_lacks "(1 row)" "a cut-off answer has no footer"

# ---- the bearer token: --token, else PHENIX_TOKEN; a 401 is one clear line; never printed ----
"$PHENIX" --url "$FAKE" --token s3cret-token -c 'SELECT authcheck;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--token is sent as Authorization: Bearer"
expect_out "AUTHORIZED" "--token is sent as Authorization: Bearer"
PHENIX_TOKEN=s3cret-token "$PHENIX" --url "$FAKE" -c 'SELECT authcheck;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "PHENIX_TOKEN is sent"
PHENIX_TOKEN=wrong-token-e2e "$PHENIX" --url "$FAKE" --token s3cret-token -c 'SELECT authcheck;' \
    </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--token wins over PHENIX_TOKEN"
"$PHENIX" --url "$FAKE" --token wrong-token-e2e -c 'SELECT authcheck;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 1 "a refused token"
expect_err_line "^phenix: authentication failed \(401\): check --token / PHENIX_TOKEN$" "a 401"
NUM_CHECKS=$((NUM_CHECKS + 1))
! grep -q wrong-token-e2e "$OUT" "$ERR" || fail "the token is never printed"
"$PHENIX" --url "$FAKE" -c 'SELECT authcheck;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 1 "no token"
expect_err_has "authentication failed (401)" "no token"
"$PHENIX" --url "$FAKE" --token 'two words' -c 'SELECT authcheck;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "a token with a space"
"$PHENIX" --token s3cret-token -c 'SHOW COLLECTIONS;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "--token without --url"
expect_err_has "--token applies to a server (--url)" "--token without --url"

# ---- ^C closes the connection of a running query (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    { printf 'SELECT stall;\n'; sleep 0.5; printf '\003'; sleep 0.5; printf 'SELECT stream;\n'; sleep 0.5; } |
        timeout 30 script -qec "$(printf '%q' "$PHENIX") --url $FAKE" /dev/null |
        tr -d '\r' >"$OUT" 2>"$ERR"
    expect_out_has "error: Cancelled: cancelled: the shell closed its connection" "^C cancels the query"
    expect_out_has " b  | [0.5, 0.25] | NULL" "the shell goes on after ^C"
    for ((tries = 0; tries < 200; tries++)); do
        grep -q disconnected "$TMP/fake.events" 2>/dev/null && break
        sleep 0.025
    done
    NUM_CHECKS=$((NUM_CHECKS + 1))
    grep -q disconnected "$TMP/fake.events" 2>/dev/null || fail "the server saw the connection close"
else
    echo "skipping the ^C check: util-linux script is not installed"
fi

# ---- two shells on one server: a write conflict at COMMIT (only possible remotely: embedded,
# one process has the directory) prints as the embedded shell prints a conflict ----
if is_remote; then
    phx -c 'CREATE COLLECTION held;' -c "INSERT INTO held (id, metadata) VALUES ('k', {\"v\": 0});"
    expect_rc 0 "phenixd serves the data directory"
    trap '' PIPE
    mkfifo "$TMP/a.in"
    "$PHENIX" --url "$SERVER_URL" <"$TMP/a.in" >"$TMP/a.out" 2>"$TMP/a.err" &
    A_PID=$!
    BACKGROUND_PIDS+=("$A_PID")
    exec 3>"$TMP/a.in"
    printf "BEGIN;\nUPDATE held SET metadata.v = 1 WHERE id = 'k';\n" >&3
    for ((tries = 0; tries < 400; tries++)); do
        grep -q '^UPDATE 1$' "$TMP/a.out" 2>/dev/null && break
        sleep 0.025
    done
    phx -c "UPDATE held SET metadata.v = 2 WHERE id = 'k';"
    expect_rc 0 "another shell writes the same entity first"
    printf 'COMMIT;\n' >&3
    exec 3>&-
    wait "$A_PID"
    RC=$?
    unset 'BACKGROUND_PIDS[-1]'  # A's (the stand-in server's stays, for cleanup)
    cp "$TMP/a.err" "$ERR"
    expect_error Aborted "the later COMMIT conflicts"
    expect_err_has "; the transaction was rolled back and can be retried: run it again from BEGIN" \
        "the conflict says what happened and what to do"
    phx -c "SELECT metadata.v FROM held WHERE id = 'k';"
    expect_out_has " 2" "the first writer's value stays"
fi

# ---- a real phenixd holds the data directory: the embedded shell says to use --url ----
if is_remote; then
    "$PHENIX" --data "$DATA" -c 'SHOW COLLECTIONS;' </dev/null >"$OUT" 2>"$ERR"; RC=$?
    expect_error Unavailable "the shell on a directory phenixd serves"
    expect_err_has "It is phenixd (pid $SERVER_PID): connect to it instead, with phenix --url" \
        "the error points to --url"
fi

finish
