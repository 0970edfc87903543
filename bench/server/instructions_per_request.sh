#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Instructions phenixd executes per point GET, counted by valgrind's callgrind: a measure of a
# server option's cost that a shared, noisy machine does not disturb (wall and CPU time do; this
# machine's VM exposes no hardware counters to `perf stat`). docs/benchmarks.md#observability-overhead.
#
#   bench/server/instructions_per_request.sh PHENIXD DB_DIR N [phenixd args...]
#
# DB_DIR: a database with a collection "kit" whose ids are 0..199999 (phenix_server_bench's
# database of the medium kit, e.g. build/release/server-bench-db-medium-l2). Starts phenixd under
# callgrind with instrumentation off, waits for /ready, sends 50 warm-up GETs, counts N GETs over
# one keep-alive connection, stops phenixd (its pid only) and prints one JSON line. Set
# BEARER_FILE to send `Authorization: Bearer` with the token in that file.
set -euo pipefail
PHENIXD=$1; DB=$2; N=$3; shift 3
PORT=${PORT:-18091}
OUT=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.out" "$PHENIXD" \
  --data "$DB" --http "127.0.0.1:$PORT" --grpc "" --workers 2 --io-threads 2 "$@" \
  > "$OUT/phenixd.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1200); do
  curl -sf -o /dev/null "127.0.0.1:$PORT/ready" && break
  kill -0 $PID 2>/dev/null || { cat "$OUT/phenixd.log" >&2; exit 1; }
  sleep 0.5
done
get() {
  /usr/bin/python3 - "$PORT" "$1" "${BEARER_FILE:-}" <<'PY'
import http.client, sys
port, n, token_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
headers = {"Authorization": "Bearer " + open(token_file).read().strip()} if token_file else {}
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(n):
    conn.request("GET", f"/v1/collections/kit/entities/{(i * 7919) % 200000}", headers=headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        sys.exit(f"GET answered {answer.status}")
PY
}
get 50
callgrind_control -i on $PID > /dev/null 2>&1
get "$N"
callgrind_control -i off $PID > /dev/null 2>&1
kill $PID; wait $PID 2>/dev/null || true
IR=$(grep -h "^summary:\|^totals:" "$OUT"/cg.out* | awk '{s += $2} END {print s}')
echo "{\"lib\":\"phenix-server\",\"phase\":\"instructions_per_get\",\"requests\":$N,\"instructions\":$IR,\"per_request\":$((IR / N)),\"args\":\"$*\"}"
