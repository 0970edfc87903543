#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An OTLP/HTTP endpoint that accepts and discards every POST (200, "{}"), for measuring
tracing's overhead with phenix_server_bench (docs/benchmarks.md):

  bench/server/otlp_sink.py PORT_FILE &    # writes the port it listens on to PORT_FILE
  phenix_server_bench ... --compare-phenixd PHENIXD \\
      --compare-server-args "--otlp-endpoint http://127.0.0.1:PORT/v1/traces --trace-sample-ratio 0.1"
"""
import http.server
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
