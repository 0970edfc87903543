#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: data written by one shell process is there for the next one (default and
# --relaxed durability, -c, -f and stdin input), and tenants persist.
source "$(dirname "$0")/lib.sh" "$1"

phx -c 'CREATE COLLECTION docs (DIMENSION 2);' -c "INSERT INTO docs (id, vector) VALUES ('b', [3, 4]);" \
    -c "INSERT INTO docs (id, vector, metadata, edges) VALUES ('a', [1, 2], {\"k\": \"v\"}, [{\"label\": \"next\", \"target\": \"b\"}]);"
expect_rc 0 "first process writes"

phx --format json -c "SELECT * FROM docs WHERE id = 'a';"
expect_rc 0 "second process reads"
expect_out '[{"id":"a","vector":[1,2],"metadata":{"k":"v"},"edges":[{"label":"next","target":"b","weight":1.0}]}]' \
    "second process sees the entity"
phx -c "SELECT * FROM edges('docs', 'b', direction = 'in');"
expect_out_has " next  | docs   | a " "second process sees the in-edge"

phx --relaxed -c "INSERT INTO docs (id, vector) VALUES ('c', [5, 6]) ON CONFLICT (id) DO UPDATE;" \
    -c 'CREATE TENANT t1;' -c 'USE TENANT t1;' -c 'CREATE COLLECTION docs;'
expect_rc 0 "relaxed write"
printf 'SELECT id, vector, metadata FROM docs ORDER BY id;\nUSE TENANT t1;\nSHOW COLLECTIONS;\n' >"$TMP/read.phx"
phx -f "$TMP/read.phx"
expect_rc 0 "reopen after --relaxed"
expect_out ' id | vector | metadata
----+--------+-----------
 a  | [1, 2] | {"k":"v"}
 b  | [3, 4] | {}
 c  | [5, 6] | {}
(3 rows)
USE TENANT t1
 name | dimension | metric | entities | indexes
------+-----------+--------+----------+---------
 docs | NULL      | NULL   | 0        | 0
(1 row)' "reopen sees everything"

phx_stdin $'DELETE FROM docs WHERE id = \'a\';\n'
expect_rc 0 "delete via stdin"
expect_out "DELETE 1" "delete via stdin"
phx_stdin $'SELECT count(*) FROM docs WHERE id = \'a\';\n'
expect_out_has " 0" "the delete persisted"
phx_stdin $'SELECT * FROM edges(\'docs\', \'b\', direction = \'in\');\n'
expect_out_has "(0 rows)" "the deleted entity's edges are gone after reopen"

finish
