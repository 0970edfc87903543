#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: data written by one shell process is there for the next one (default and
# --relaxed durability, -c, -f and stdin input), and tenants persist.
source "$(dirname "$0")/lib.sh" "$1"

phx -c 'create collection docs dim 2' -c 'insert docs {"id":"b","vector":[3,4]}' \
    -c 'insert docs {"id":"a","vector":[1,2],"metadata":{"k":"v"},"edges":[{"label":"next","target":"b"}]}'
expect_rc 0 "first process writes"

phx --format json -c 'get docs a'
expect_rc 0 "second process reads"
expect_out '{"id":"a","vector":[1,2],"metadata":{"k":"v"},"edges":[{"label":"next","target":"b","weight":1.0}]}' \
    "second process sees the entity"
phx -c 'edges docs b in'
expect_out_has " next  | docs              | a " "second process sees the in-edge"

phx --relaxed -c 'upsert docs {"id":"c","vector":[5,6]}' -c 'create tenant t1' \
    -c 'use tenant t1' -c 'create collection docs'
expect_rc 0 "relaxed write"
printf 'scan docs\nuse tenant t1\ncollections\n' >"$TMP/read.phx"
phx -f "$TMP/read.phx"
expect_rc 0 "reopen after --relaxed"
expect_out ' id | vector | metadata  | edges
----+--------+-----------+-------
 a  | [1, 2] | {"k":"v"} | 1
 b  | [3, 4] | {}        | 0
 c  | [5, 6] | {}        | 0
(3 rows)
OK
 name | dimension | metric | entities
------+-----------+--------+----------
 docs |           | l2     | 0
(1 row)' "reopen sees everything"

phx_stdin $'delete docs a\n'
expect_rc 0 "delete via stdin"
phx_stdin $'get docs a\n'
expect_error NotFound "the delete persisted"
phx_stdin $'edges docs b in\n'
expect_out_has "(0 rows)" "the deleted entity's edges are gone after reopen"

finish
