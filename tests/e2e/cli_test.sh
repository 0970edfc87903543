#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: command-line flags, exit codes, script control flow (comments, ';', quit, the
# first error stops a script) and the messages for commands that cannot be parsed.
source "$(dirname "$0")/lib.sh" "$1"

# ---- flags ----
"$PHENIX" --help >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--help"
expect_out_has "Usage: phenix" "--help"
expect_out_has "--format table|json" "--help"

"$PHENIX" --version >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--version"
[[ "$(cat "$OUT")" =~ ^phenix\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    fail "--version printed '$(cat "$OUT")'"

for args in "--bogus" "--format xml" "--data" "-c" "stray-argument" "--relaxed=yes"; do
    # shellcheck disable=SC2086  # word splitting intended
    "$PHENIX" --data "$DATA" $args </dev/null >"$OUT" 2>"$ERR"; RC=$?
    expect_rc 2 "usage error for '$args'"
    expect_err_has "phenix --help" "usage error for '$args'"
done
[[ ! -e "$DATA" ]] || fail "a usage error created the data directory"

phx -f "$TMP/no-such-script.phx"
expect_rc 1 "-f of a missing file"
expect_err_line "^error: IOError: cannot open .*no-such-script.phx" "-f of a missing file"
[[ ! -e "$DATA" ]] || fail "a missing script file created the data directory"

# ---- empty input and comments ----
phx_stdin ""
expect_rc 0 "empty stdin"
expect_empty_out "empty stdin"
expect_empty_err "empty stdin"
[[ -d "$DATA" ]] || fail "the data directory was not created"

phx -c ""
expect_rc 0 "empty -c"
expect_empty_out "empty -c"

phx_stdin $'# a comment\n\n   \n-- another; drop collection x\n\t# indented comment\n'
expect_rc 0 "comments and blank lines"
expect_empty_out "comments and blank lines"
expect_empty_err "comments and blank lines"

# ---- several commands, keywords in any case ----
phx -c 'CREATE Collection c1 DIM 2 Metric L2; create collection c2;;' -c 'Collections'
expect_rc 0 "';' separates commands"
expect_out 'OK
OK
 name | dimension | metric | entities
------+-----------+--------+----------
 c1   | 2         | l2     | 0
 c2   |           | l2     | 0
(2 rows)' "';' separates commands"

# ---- quit and errors stop a script ----
phx_stdin $'create collection q\nquit\ncreate collection after_quit\n'
expect_rc 0 "quit on stdin"
phx -c 'collections'
expect_out_lacks "after_quit" "nothing runs after quit"

printf 'create collection s1\nget s1 missing\ncreate collection s2\n' >"$TMP/script.phx"
phx -f "$TMP/script.phx"
expect_error NotFound "-f stops at the first error"
expect_err_has "at $TMP/script.phx line 2" "-f names the failing line"
phx_stdin "$(cat "$TMP/script.phx")"
expect_error AlreadyExists "stdin stops at the first error"
expect_err_has "at stdin line 1" "stdin names the failing line"
phx -c 'collections'
expect_out_has " s1 " "commands before the error ran"
expect_out_lacks " s2 " "commands after the error did not run"

phx -c 'exit' -c 'create collection after_exit'
expect_rc 0 "exit in -c"
phx -c '\q; create collection after_q'
expect_rc 0 "\\q in -c"
phx -c 'collections'
expect_out_lacks "after_" "nothing runs after exit or \\q"

# ---- unknown and malformed commands ----
phx -c 'insrt c1 {"id":"a"}'
expect_error InvalidArgument "unknown command"
expect_err_has "unknown command 'insrt'" "unknown command"
expect_err_has "did you mean 'insert'?" "misspelled command suggestion"
phx -c 'colections'
expect_err_has "did you mean 'collections'?" "misspelled command suggestion"
phx -c 'frobnicate everything'
expect_error InvalidArgument "unknown command without suggestion"
expect_err_has "type 'help'" "unknown command points at help"
phx -c 'create colection x'
expect_error InvalidArgument "misspelled object"
expect_err_has "did you mean 'collection'?" "misspelled object suggestion"
phx -c 'get c1'
expect_error InvalidArgument "missing id"
expect_err_has "usage: get NAME ID" "missing id usage hint"
phx -c 'scan c1 limit many'
expect_err_has "usage: scan NAME [limit N] [after ID]" "bad limit usage hint"
phx -c 'insert c1 not-json'
expect_err_has "usage: insert NAME {entity json}" "non-JSON entity usage hint"
phx -c 'get c1 "unterminated'
expect_err_has "unterminated" "unterminated quote"
phx -c 'edges c1 a sideways'
expect_err_has "usage: edges NAME ID [out|in|both]" "bad direction usage hint"

# ---- help ----
phx -c 'help'
expect_rc 0 "help"
for word in "create collection" "load NAME FILE" "scan NAME" "set-metadata" "\\timing" \
    "use tenant"; do
    expect_out_has "$word" "help lists '$word'"
done
phx -c '\?'
expect_out_has "describe NAME" "\\? is help"
phx -c 'help patch'
expect_out_has "patch NAME ID {merge patch json}" "help for one command"

# ---- \timing ----
phx -c '\timing' -c 'collections'
expect_rc 0 "\\timing"
expect_out_has "Timing is on." "\\timing"
expect_err_line "^Time: [0-9.]+ ms$" "\\timing prints the elapsed time"

# ---- never crash on odd input ----
head -c 20000 /dev/urandom >"$TMP/garbage"
"$PHENIX" --data "$DATA" <"$TMP/garbage" >"$OUT" 2>"$ERR"; RC=$?
[[ "$RC" == 0 || "$RC" == 1 ]] || fail "random bytes on stdin: exit status $RC"
{ printf 'get c1 '; head -c 3000000 /dev/zero | tr '\0' 'y'; echo; } >"$TMP/huge"
"$PHENIX" --data "$DATA" <"$TMP/huge" >"$OUT" 2>"$ERR"; RC=$?
expect_error InvalidArgument "a 3 MB line (an id over the 512-byte limit)"
printf 'insert c1 %s\n' "$(printf '[%.0s' {1..50000})" >"$TMP/deep"
"$PHENIX" --data "$DATA" <"$TMP/deep" >"$OUT" 2>"$ERR"; RC=$?
expect_error InvalidArgument "deeply nested JSON"

# ---- interactive history: a statement typed over several lines is one entry ----
# (a terminal is needed for line editing: `script` gives the shell a pseudo-terminal)
if command -v script >/dev/null; then
    printf 'SELECT id\nFROM nope;\n\\q\n' |
        PHENIX_HISTORY="$TMP/history" timeout 60 script -qec "'$PHENIX' --data '$DATA'" /dev/null \
            >"$OUT" 2>&1
    grep -qF 'SELECT\040id\012FROM\040nope;' "$TMP/history" ||
        fail "a multi-line statement is one history entry: $(cat -A "$TMP/history")"
    ! grep -qx 'FROM\\040nope;' "$TMP/history" || fail "the statement's second line has its own entry"
fi

# ---- --memory-limit ----
phx --memory-limit 0 -c "SELECT 1"
[[ "$RC" == 2 ]] || fail "--memory-limit 0: exit status $RC, expected 2"
expect_err_has "--memory-limit takes a number of MiB" "--memory-limit 0"

finish
