#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end on a real full disk: a 24 MiB tmpfs, mounted in a private mount namespace (so it
# needs root and `unshare`; without them the test is skipped with status 77). A COPY that fills
# the disk stops with ResourceExhausted; read-write opens then fail at once, say to free space or
# use --read-only, and change nothing (they used to eat the space that was left, and the second
# one aborted in RocksDB); --read-only reads, verifies and exports; once the disk is larger the
# database opens with every entity the COPY reported loaded.
if [[ -z "${PHENIX_E2E_IN_NAMESPACE:-}" ]]; then
    if [[ "$(id -u)" != 0 ]] || ! command -v unshare >/dev/null ||
        ! unshare -m --propagation private true 2>/dev/null; then
        echo "$(basename "$0"): skipped (needs root and unshare -m to mount a small tmpfs)"
        exit 77
    fi
    PHENIX_E2E_IN_NAMESPACE=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh" "$1"

DISK="$TMP/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=24m tmpfs "$DISK"; then
    echo "$(basename "$0"): skipped (cannot mount a tmpfs)"
    exit 77
fi
trap 'umount "$DISK" 2>/dev/null; cleanup' EXIT
DATA="$DISK/data"

# listing: every file and folder under the data directory with its size, mtime and checksum.
listing() {
    (cd "$DATA" && find . -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort)
}
# entities: the entity count SHOW COLLECTIONS prints for docs.
entities() {
    awk -F'|' '$1 ~ / docs / { gsub(/ /, "", $4); print $4 }' "$OUT"
}

# 240,000 entities: ~35 MiB of write-ahead log, more than the disk holds.
awk 'BEGIN { srand(1); for (i = 0; i < 240000; i++) {
    printf "{\"id\": \"e%d\", \"vector\": [", i
    for (d = 0; d < 8; d++) printf "%s%.6f", (d ? ", " : ""), rand()
    printf "], \"metadata\": {\"n\": %d}}\n", i } }' >"$TMP/load.jsonl"

phx -c 'CREATE COLLECTION docs (DIMENSION 8);'
expect_rc 0 "create the collection"
phx -c "COPY docs FROM '$TMP/load.jsonl';"
expect_error ResourceExhausted "the COPY that fills the disk"
LOADED="$(grep -oE '[0-9]+ entities from earlier lines were loaded' "$ERR" | grep -oE '^[0-9]+')"
if [[ -z "$LOADED" || "$LOADED" == 0 ]]; then
    fail "the COPY did not say how many entities it loaded"
    show_output
    finish
fi

listing >"$TMP/before"
for attempt in 1 2 3; do
    phx -c 'SHOW COLLECTIONS;'
    expect_error ResourceExhausted "read-write open $attempt on the full disk"
    expect_err_has "--read-only" "read-write open $attempt says what to do"
    expect_err_has "Nothing in the directory was changed" "read-write open $attempt"
done

phx --read-only -c 'SHOW COLLECTIONS;' -c 'VERIFY;' -c "COPY docs TO '$TMP/export.jsonl';"
expect_rc 0 "read-only open of the full disk"
[[ "$(entities)" == "$LOADED" ]] || fail "read-only: $(entities) entities, the COPY loaded $LOADED"
[[ "$(wc -l <"$TMP/export.jsonl")" == "$LOADED" ]] ||
    fail "the export has $(wc -l <"$TMP/export.jsonl") lines, the COPY loaded $LOADED"

listing >"$TMP/after"
if ! diff -u "$TMP/before" "$TMP/after" >"$TMP/listing.diff"; then
    fail "failed opens or the read-only open changed the data directory:"
    sed 's/^/  /' "$TMP/listing.diff"
fi

# The disk grows (space freed): the database opens, with everything the COPY acknowledged.
mount -o remount,size=128m "$DISK"
phx -c 'SHOW COLLECTIONS;' -c 'VERIFY;' -c "INSERT INTO docs (id, vector) VALUES ('after', [1, 2, 3, 4, 5, 6, 7, 8]);"
expect_rc 0 "read-write open after space was freed"
[[ "$(entities)" == "$LOADED" ]] || fail "after freeing space: $(entities) entities, not $LOADED"

finish
