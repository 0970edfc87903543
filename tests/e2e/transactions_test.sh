#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: transactions in the shell. begin / commit / rollback, read-only and `as of`
# transactions, what is refused inside a transaction, rollback of a transaction left open at
# exit (quit, end of input, an error that stops a script), `timestamp` and `verify`.
source "$(dirname "$0")/lib.sh" "$1"

# A commit timestamp: microseconds since the epoch, so 16 digits for the next few centuries.
TS_RE='[0-9]{16}'

# stdout with every timestamp replaced by TS, for exact comparisons.
normalize_ts() {
    sed -E "s/$TS_RE/TS/g" "$OUT" >"$OUT.normalized" && mv "$OUT.normalized" "$OUT"
}

# expect_only_line REGEX WHAT: stdout is exactly one line, matching REGEX in full.
expect_only_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if [[ "$(wc -l <"$OUT")" != 1 ]] || ! grep -qE -- "^$1\$" "$OUT"; then
        fail "$2: stdout is not one line matching /^$1\$/"
        show_output
    fi
}

phx -c 'create collection c' -c 'insert c {"id": "a", "metadata": {"v": 1}}'
expect_rc 0 "setup"

# ---- rollback leaves no trace ----
phx -c 'begin' \
    -c 'insert c {"id": "b", "metadata": {"v": 10}, "edges": [{"label": "to", "target": "a"}]}' \
    -c 'patch c a {"v": 99}' \
    -c 'get c a; get c b; edges c a in; scan c' \
    -c 'rollback' \
    -c 'get c a; scan c'
expect_rc 0 "rollback"
expect_empty_err "rollback"
normalize_ts
expect_out 'began read-write transaction (snapshot TS)
OK
OK
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {"v":99} | 0
(1 row)
 id | vector | metadata | edges
----+--------+----------+-------
 b  |        | {"v":10} | 1
(1 row)
 label | source_collection | source | target_collection | target | weight | properties
-------+-------------------+--------+-------------------+--------+--------+------------
 to    | c                 | b      | c                 | a      | 1      |
(1 row)
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {"v":99} | 0
 b  |        | {"v":10} | 1
(2 rows)
rolled back
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {"v":1}  | 0
(1 row)
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {"v":1}  | 0
(1 row)' "reads in a transaction see its writes; rollback discards them"
phx -c 'get c b'
expect_error NotFound "a rolled-back insert is not visible to a later process"
phx -c 'edges c a in'
expect_rc 0 "no edges after rollback"
expect_out_has "(0 rows)" "a rolled-back edge is not visible"

# ---- commit makes the writes visible, at the printed timestamp ----
phx -c 'begin; insert c {"id": "b", "metadata": {"v": 2}}; delete c a; commit; timestamp'
expect_rc 0 "commit"
expect_empty_err "commit"
committed_ts="$(sed -nE "s/^committed at ($TS_RE)\$/\\1/p" "$OUT")"
[[ -n "$committed_ts" ]] || { fail "commit did not print 'committed at TS'"; show_output; }
[[ "$(tail -n 1 "$OUT")" == "$committed_ts" ]] ||
    fail "timestamp after commit is '$(tail -n 1 "$OUT")', not the commit timestamp $committed_ts"
phx -c 'scan c'
expect_out ' id | vector | metadata | edges
----+--------+----------+-------
 b  |        | {"v":2}  | 0
(1 row)' "committed writes are visible to a later process"
phx -c 'insert c {"id": "a", "metadata": {"v": 1}}'
expect_rc 0 "re-insert a"

# ---- a read-only transaction rejects writes ----
phx -c 'begin read only' -c 'get c a' -c 'insert c {"id": "ro"}' -c 'commit'
expect_error FailedPrecondition "a write in a read-only transaction"
expect_err_has "read-only" "a write in a read-only transaction"
expect_err_line "^phenix: rolled back the open read-only transaction \\(snapshot $TS_RE\\)\$" \
    "the read-only transaction is rolled back at exit"
phx -c 'get c ro'
expect_error NotFound "nothing from the read-only transaction was written"

phx -c 'begin read only; get c a; commit'
expect_rc 0 "a read-only transaction commits"
expect_empty_err "a read-only transaction commits"
expect_out_has '{"v":1}' "a read-only transaction reads"
grep -qE "^committed at $TS_RE\$" "$OUT" || { fail "read-only commit output"; show_output; }

# ---- as of: a timestamp taken before an update still reads the old value ----
phx -c 'timestamp'
expect_rc 0 "timestamp"
expect_only_line "$TS_RE" "timestamp prints one timestamp"
before_ts="$(cat "$OUT")"
phx -c 'now'
expect_only_line "$TS_RE" "now is timestamp"
phx -c 'patch c a {"v": 3}'
expect_rc 0 "update after the timestamp"
phx -c "begin read only as of $before_ts; get c a; rollback; get c a"
expect_rc 0 "as of"
expect_empty_err "as of"
expect_out "began read-only transaction (snapshot $before_ts)
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {\"v\":1}  | 0
(1 row)
rolled back
 id | vector | metadata | edges
----+--------+----------+-------
 a  |        | {\"v\":3}  | 0
(1 row)" "as of reads the value before the update; after rollback the current one"
phx -c "begin as of $before_ts" -c 'patch c a {"v": 4}'
expect_error FailedPrecondition "as of implies read only"
phx -c 'get c a'
expect_out_has '{"v":3}' "the write in the as-of transaction did not happen"
phx -c 'begin as of 99999999999999999'
expect_error InvalidArgument "as of a timestamp in the future"
phx -c 'begin as of soon'
expect_error InvalidArgument "as of a non-number"
expect_err_has "usage: begin [read only] [as of TIMESTAMP]" "as of a non-number"

# ---- errors: no transaction open, one already open, refused commands ----
phx -c 'commit'
expect_error FailedPrecondition "commit without begin"
expect_err_has "no transaction is open (start one with 'begin')" "commit without begin"
phx -c 'rollback'
expect_error FailedPrecondition "rollback without begin"
expect_err_has "no transaction is open" "rollback without begin"

phx -c 'begin; insert c {"id": "x1"}; begin'
expect_error FailedPrecondition "begin inside a transaction"
expect_err_line "a transaction is already open: read-write transaction \\(snapshot $TS_RE, 1 uncommitted write\\); commit or rollback it first" \
    "begin inside a transaction names the open one"
expect_err_line "^phenix: rolled back the open read-write transaction \\(snapshot $TS_RE, 1 uncommitted write\\)\$" \
    "an error that stops a script rolls the transaction back"
phx -c 'get c x1'
expect_error NotFound "the transaction stopped by an error left nothing"

echo '{"id": "l1"}' >"$TMP/one.jsonl"
for refused in 'create collection:create collection d' 'drop collection:drop collection c' \
    'create tenant:create tenant t' "load:load c $TMP/one.jsonl"; do
    phx -c 'begin' -c "${refused#*:}"
    expect_error FailedPrecondition "'${refused#*:}' inside a transaction"
    expect_err_has "${refused%%:*} cannot run inside a transaction" \
        "'${refused#*:}' inside a transaction"
done
phx -c 'collections; tenants'
expect_out_lacks " d " "the refused create collection did nothing"
expect_out_has " c " "the refused drop collection did nothing"
expect_out_lacks " t " "the refused create tenant did nothing"
phx -c 'get c l1'
expect_error NotFound "the refused load did nothing"

# ---- an open transaction is rolled back at quit and at the end of input ----
phx -c 'begin; insert c {"id": "q1"}; upsert c {"id": "q2"}; quit; commit'
expect_rc 0 "quit with an open transaction"
expect_err_line "^phenix: rolled back the open read-write transaction \\(snapshot $TS_RE, 2 uncommitted writes\\)\$" \
    "quit rolls back"
phx_stdin $'begin\ninsert c {"id": "q3"}\n'
expect_rc 0 "end of stdin with an open transaction"
expect_err_has "phenix: rolled back the open read-write transaction" "end of stdin rolls back"
printf 'begin\nset-metadata c a {"w": 1}\n' >"$TMP/open.phx"
phx -f "$TMP/open.phx"
expect_rc 0 "end of a -f script with an open transaction"
expect_err_has "1 uncommitted write)" "end of a -f script rolls back"
phx -c 'scan c'
expect_out_lacks "q1" "nothing of the rolled-back transactions is visible"
expect_out_lacks "q3" "nothing of the rolled-back transactions is visible"
expect_out_lacks '"w"' "nothing of the rolled-back transactions is visible"

# A transaction spans -c and -f arguments: they share one session.
printf 'insert c {"id": "f1"}\n' >"$TMP/in_txn.phx"
phx -c 'begin' -f "$TMP/in_txn.phx" -c 'commit'
expect_rc 0 "a transaction across -c and -f"
phx -c 'get c f1'
expect_rc 0 "the write from the -f file committed"

# ---- the interactive prompt shows an open transaction (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    # The trailing sleep keeps the terminal open until the shell has read every line; then
    # end of input (^D) ends the session.
    { printf 'begin\nrollback\nbegin read only\n'; sleep 1; } |
        script -qec "$(printf '%q' "$PHENIX") --data $(printf '%q' "$DATA")" /dev/null |
        tr -d '\r' >"$OUT" 2>"$ERR"
    expect_out_has "phenix(txn)> rollback" "the prompt while a transaction is open"
    expect_out_has "phenix> begin read only" "the prompt after rollback"
    expect_out_has "phenix(ro txn)> " "the prompt while a read-only transaction is open"
    expect_out_has "phenix: rolled back the open read-only transaction" "^D rolls back"
else
    echo "skipping the interactive prompt checks: util-linux script is not installed"
fi

# ---- JSON output ----
phx --format json -c 'begin; insert c {"id": "j1"}; commit; timestamp; begin read only; rollback'
expect_rc 0 "json output"
normalize_ts
expect_out '{"began":true,"read_only":false,"snapshot":TS}
{"ok":true}
{"committed_at":TS}
{"timestamp":TS}
{"began":true,"read_only":true,"snapshot":TS}
{"rolled_back":true}' "json output of the transaction commands"

# ---- verify ----
phx -c 'verify'
expect_rc 0 "verify"
expect_out 'OK' "verify prints OK on a consistent database"
expect_empty_err "verify"

# ---- help ----
phx -c 'help'
for usage in "begin [read only] [as of TIMESTAMP]" "commit" "rollback" "timestamp" "verify"; do
    expect_out_has "  $usage" "help lists '$usage'"
done
phx -c 'help now'
expect_rc 0 "help now"
expect_out_has "timestamp" "help now shows timestamp"
phx -c 'comit'
expect_err_has "did you mean 'commit'?" "a misspelled commit"

finish
