#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for phenixd for remote_test.sh: answers GET /health and POST /v1/query with
canned NDJSON streams (chunked, in several pieces; "authcheck" only with the bearer token
AUTH_TOKEN), so that the shell's client is tested on the
streamed wire format and on broken answers a real server does not send on demand.

    fake_phenixd.py PORT_FILE EVENT_FILE

Writes its port to PORT_FILE once listening; appends "disconnected" to EVENT_FILE when a client
closes the connection of a stalled query. The query text picks the answer: see ANSWERS."""
import json
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    # rows in two pieces, a header line and the end lines
    "stream": ['{"statement":0,"columns":["id","v","m"]}\n["a",[1,2],{"z":1,"a":2}]\n',
               '["b",[0.5,0.25],null]\n{"statement":0,"rows":2}\n{"done":{"statements":1}}\n'],
    "message": ['{"statement":0,"message":"INSERT 2","affected":2}\n{"done":{"statements":1}}\n'],
    # an error after a row
    "failing": ['{"statement":0,"columns":["n"]}\n[1]\n',
                '{"error":{"code":"INVALID_ARGUMENT","message":"line 1, column 8: division by '
                'zero","statement":0,"line":1,"column":8}}\n'],
    # the connection closes in the middle (no "done")
    "cutoff": ['{"statement":0,"columns":["n"]}\n[1]\n'],
    # answered only with `Authorization: Bearer s3cret-token` (else 401, as phenixd says it)
    "authcheck": ['{"statement":0,"message":"AUTHORIZED","affected":0}\n{"done":{"statements":1}}\n'],
}
AUTH_TOKEN = "s3cret-token"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        query = json.loads(self.rfile.read(length))["query"]
        if "stall" in query:
            # Wait for the client to go away (the shell's ^C closes the connection).
            self.connection.settimeout(30)
            try:
                if self.connection.recv(1) == b"":
                    with open(sys.argv[2], "a") as events:
                        events.write("disconnected\n")
            except OSError:
                pass
            self.close_connection = True
            return
        name = next((key for key in ANSWERS if key in query), None)
        if name == "authcheck" and self.headers.get("Authorization") != "Bearer " + AUTH_TOKEN:
            body = json.dumps({"error": {"code": "UNAUTHENTICATED",
                                         "message": "authentication required"}})
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        if name is None:
            body = json.dumps({"error": {"code": "NOT_FOUND", "message": "no canned answer"}})
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in ANSWERS[name]:
            self.send_chunk(piece)
            time.sleep(0.01)
        if name == "cutoff":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as port_file:
        port_file.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
