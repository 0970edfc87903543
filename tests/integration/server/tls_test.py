#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""phenixd over TLS (docs/security.md#tls): HTTPS, gRPC over TLS, mutual TLS (and client
certificates as credentials, --tls-client-map), certificate reload, and the shell's https:// --url.

Every key and certificate is generated at run time (python3-cryptography 38, Debian 12) into a
temporary directory: a CA, server certificates (SAN 127.0.0.1 and localhost) with known serials,
a client certificate, an expired client certificate and a key that matches none of them.

Usage: tls_test.py PHENIXD PHENIX_SHELL PROTOC GRPC_PYTHON_PLUGIN
"""
import datetime
import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402  (its Server class starts phenixd on 127.0.0.1:0)
import grpc_test  # noqa: E402  (the gRPC stubs, generated at test time)
import jwt_tokens  # noqa: E402  (JWTs for --auth jwt, python3-cryptography)

import grpc  # noqa: E402

PHENIX_SHELL = None
NOW = datetime.datetime.now(datetime.timezone.utc)


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Pki:
    """A CA and the certificates it signs, as PEM files under `directory`."""

    def __init__(self, directory):
        self.dir = directory
        self.ca_key = new_key()
        self.ca_cert = (x509.CertificateBuilder()
                        .subject_name(name("phenix test CA")).issuer_name(name("phenix test CA"))
                        .public_key(self.ca_key.public_key()).serial_number(1)
                        .not_valid_before(NOW - datetime.timedelta(days=1))
                        .not_valid_after(NOW + datetime.timedelta(days=30))
                        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                                     False, False), True)
                        .sign(self.ca_key, hashes.SHA256()))
        self.ca_path = self.write("ca.pem", cert_pem(self.ca_cert))

    def ca_bytes(self):
        return cert_pem(self.ca_cert)

    def write(self, file_name, data):
        path = os.path.join(self.dir, file_name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def issue(self, common_name, serial, server=True, expired=False, key=None, sans=None):
        """A certificate and its key (PEM bytes)."""
        key = key or new_key()
        if expired:
            not_before, not_after = NOW - datetime.timedelta(days=10), NOW - datetime.timedelta(
                days=1)
        else:
            not_before, not_after = NOW - datetime.timedelta(days=1), NOW + datetime.timedelta(
                days=30)
        builder = (x509.CertificateBuilder()
                   .subject_name(name(common_name)).issuer_name(self.ca_cert.subject)
                   .public_key(key.public_key()).serial_number(serial)
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                sans or [x509.DNSName("localhost"),
                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                     False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier("spiffe://phenix.test/" + common_name)]),
                False).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                     False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        return cert_pem(cert), key_pem(key)

    def install(self, cert_and_key, cert_path, key_path):
        """Replaces the files the way a certificate manager should: each by a rename."""
        cert, key = cert_and_key
        for data, path in ((key, key_path), (cert, cert_path)):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)


def client_context(pki, cert=None, minimum=None, maximum=None):
    context = ssl.create_default_context(cafile=pki.ca_path)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def peer_serial(sock):
    return x509.load_der_x509_certificate(sock.getpeercert(binary_form=True)).serial_number


class TlsServer(phenixd_test.Server):
    """phenixd with --tls-cert/--tls-key; `request` speaks HTTPS, verified against the CA."""

    def __init__(self, data_dir, context, *extra_args):
        self.context = context
        super().__init__(data_dir, *extra_args)
        self.grpc_port = self.read_grpc_port()

    def connection(self, host="127.0.0.1", context=None):
        return http.client.HTTPSConnection(host, self.port, timeout=30,
                                           context=context or self.context)


class TlsTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenix-tls-")
        self.pki = Pki(self.tmp)
        self.cert_path = os.path.join(self.tmp, "server.pem")
        self.key_path = os.path.join(self.tmp, "server.key")
        self.pki.install(self.pki.issue("phenixd", 1001), self.cert_path, self.key_path)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *extra_args, context=None, name="data"):
        server = TlsServer(os.path.join(self.tmp, name), context or client_context(self.pki),
                           "--tls-cert", self.cert_path, "--tls-key", self.key_path,
                           *extra_args)
        self.servers.append(server)
        return server

    def stop(self, server):
        self.assertEqual(server.stop(), 0, server.log_text())
        self.servers.remove(server)

    def test_https_health_and_query(self):
        server = self.start()
        status, _, body = server.request("GET", "/health")
        self.assertEqual(status, 200, body)
        status, _, body = server.request("POST", "/v1/query", {"query": "SHOW COLLECTIONS"})
        self.assertEqual(status, 200, body)
        # The certificate names localhost too.
        conn = server.connection(host="localhost")
        conn.request("GET", "/health")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        self.stop(server)

    def test_protocol_versions_and_ciphers(self):
        server = self.start()
        # TLS 1.3 works.
        conn = server.connection(context=client_context(
            self.pki, minimum=ssl.TLSVersion.TLSv1_3))
        conn.request("GET", "/health")
        self.assertEqual(conn.getresponse().status, 200)
        self.assertEqual(conn.sock.version(), "TLSv1.3")
        conn.close()
        # TLS 1.2 works, with an ECDHE + AEAD cipher.
        conn = server.connection(context=client_context(
            self.pki, maximum=ssl.TLSVersion.TLSv1_2))
        conn.request("GET", "/health")
        self.assertEqual(conn.getresponse().status, 200)
        self.assertEqual(conn.sock.version(), "TLSv1.2")
        self.assertTrue(conn.sock.cipher()[0].startswith("ECDHE-"), conn.sock.cipher())
        conn.close()
        # TLS 1.1 is refused by the server (the client offers it: security level 0).
        old = client_context(self.pki, minimum=ssl.TLSVersion.TLSv1,
                             maximum=ssl.TLSVersion.TLSv1_1)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with self.assertRaises(ssl.SSLError) as caught:
            conn = server.connection(context=old)
            conn.request("GET", "/health")
        self.assertIn("PROTOCOL_VERSION", str(caught.exception).upper().replace(" ", "_"))
        # A TLS 1.2 cipher without forward secrecy or AEAD is refused.
        cbc = client_context(self.pki, maximum=ssl.TLSVersion.TLSv1_2)
        cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA256:AES128-GCM-SHA256")
        with self.assertRaises(ssl.SSLError):
            conn = server.connection(context=cbc)
            conn.request("GET", "/health")
        self.stop(server)

    def test_min_version_1_3(self):
        server = self.start("--tls-min-version", "1.3")
        with self.assertRaises(ssl.SSLError):
            conn = server.connection(context=client_context(
                self.pki, maximum=ssl.TLSVersion.TLSv1_2))
            conn.request("GET", "/health")
        status, _, _ = server.request("GET", "/health")
        self.assertEqual(status, 200)
        self.stop(server)

    def test_plaintext_and_stalled_handshakes_are_closed(self):
        server = self.start("--tls-handshake-timeout-ms", "500", "--workers", "1")
        # A plaintext HTTP request to the TLS port: the connection is closed, promptly.
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            try:
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    received += chunk
            except ConnectionResetError:
                pass
        self.assertLess(time.monotonic() - started, 5)
        self.assertNotIn(b"HTTP/1.1 200", received)
        # Stalled handshakes (slowloris) are closed after tls_handshake_timeout_ms, and while
        # they wait the one worker still serves.
        stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=10)
                   for _ in range(8)]
        try:
            status, _, _ = server.request("GET", "/health")
            self.assertEqual(status, 200)
            status, _, _ = server.request("POST", "/v1/query", {"query": "SHOW COLLECTIONS"})
            self.assertEqual(status, 200)
            started = time.monotonic()
            for sock in stalled:
                try:
                    self.assertEqual(sock.recv(1), b"")
                except ConnectionResetError:
                    pass
            self.assertLess(time.monotonic() - started, 5)
        finally:
            for sock in stalled:
                sock.close()
        self.stop(server)

    def test_bad_configuration_fails_at_start(self):
        _, other_key = self.pki.issue("other", 5)
        wrong_key = self.pki.write("wrong.key", other_key)
        for args, expected in (
                (["--tls-cert", self.cert_path], "--tls-cert and --tls-key go together"),
                (["--tls-cert", self.cert_path, "--tls-key", wrong_key],
                 "does not match the certificate"),
                (["--tls-cert", self.cert_path, "--tls-key", self.key_path + ".missing"],
                 "cannot read the file"),
                (["--tls-cert", self.cert_path, "--tls-key", self.key_path,
                  "--tls-min-version", "1.1"], "expected 1.2 or 1.3")):
            run = subprocess.run(
                [phenixd_test.PHENIXD, "--data", os.path.join(self.tmp, "bad"), "--http",
                 "127.0.0.1:0", "--grpc", "", *args], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(run.returncode, 0, args)
            self.assertIn(expected, run.stderr, args)

    def test_mutual_tls(self):
        client = self.pki.issue("alice", 2001, server=False)
        expired = self.pki.issue("bob", 2002, server=False, expired=True)
        client_files = (self.pki.write("alice.pem", client[0]),
                        self.pki.write("alice.key", client[1]))
        expired_files = (self.pki.write("bob.pem", expired[0]),
                         self.pki.write("bob.key", expired[1]))
        server = self.start("--tls-client-ca", self.pki.ca_path, "--log-level", "debug",
                            context=client_context(self.pki, cert=client_files))
        status, _, _ = server.request("GET", "/health")
        self.assertEqual(status, 200)
        # The verified identity reaches the request (logged at debug level).
        self.assertIn('"subject":"CN=alice","sans":["URI:spiffe://phenix.test/alice"]',
                      server.log_text())
        # Without a client certificate, or with an expired one: refused (in TLS 1.3 the client
        # learns it on its first read).
        for context in (client_context(self.pki), client_context(self.pki, cert=expired_files)):
            conn = server.connection(context=context)
            with self.assertRaises((ssl.SSLError, ConnectionResetError, http.client.HTTPException)):
                conn.request("GET", "/health")
                conn.getresponse().read()
            conn.close()
        # gRPC: the same rule.
        good = grpc.ssl_channel_credentials(self.pki.ca_bytes(), client[1],
                                            client[0])
        with grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", good) as channel:
            grpc_test.stubs.PhenixStub(channel).Health(grpc_test.pb.HealthRequest(), timeout=30)
        anonymous = grpc.ssl_channel_credentials(self.pki.ca_bytes())
        with grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", anonymous) as channel:
            with self.assertRaises(grpc.RpcError) as caught:
                grpc_test.stubs.PhenixStub(channel).Health(grpc_test.pb.HealthRequest(),
                                                           timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        # The shell with and without its certificate.
        url = f"https://127.0.0.1:{server.port}"
        shell = subprocess.run([PHENIX_SHELL, "--url", url, "--cacert", self.pki.ca_path,
                                "--cert", client_files[0], "--key", client_files[1], "-c",
                                "SHOW COLLECTIONS;"], capture_output=True, text=True, timeout=60)
        self.assertEqual(shell.returncode, 0, shell.stderr)
        shell = subprocess.run([PHENIX_SHELL, "--url", url, "--cacert", self.pki.ca_path, "-c",
                                "SHOW COLLECTIONS;"], capture_output=True, text=True, timeout=60)
        self.assertEqual(shell.returncode, 1, shell.stdout)
        self.stop(server)

    def test_client_certificate_as_credential(self):
        """--tls-client-map: a verified client certificate whose CN or SAN a rule names
        authenticates as that rule's principal, tenant and roles (REST and gRPC); a bearer, when
        sent, takes precedence; an unmapped certificate alone is 401."""
        keys = jwt_tokens.KeySet()
        jwks = keys.write_jwks(os.path.join(self.tmp, "jwks.json"))
        rules = {"clients": [
            {"cn": "alice", "principal": "svc-alice", "tenant": "default", "roles": ["admin"]},
            {"san": "URI:spiffe://phenix.test/carol", "tenant": "default", "roles": ["reader"]},
        ]}
        client_map = self.pki.write("clients.json", json.dumps(rules).encode())
        files = {}
        for number, who in enumerate(("alice", "carol", "dave")):
            cert, key = self.pki.issue(who, 3001 + number, server=False)
            files[who] = (self.pki.write(f"{who}.pem", cert), self.pki.write(f"{who}.key", key),
                          cert, key)
        audit = os.path.join(self.tmp, "audit")
        server = self.start("--tls-client-ca", self.pki.ca_path, "--auth", "jwt", "--jwt-jwks",
                            jwks, "--tls-client-map", client_map, "--audit-dir", audit,
                            context=client_context(self.pki, cert=files["alice"][:2]))

        def rest(who, method, path, body=None, token=None):
            conn = server.connection(context=client_context(self.pki, cert=files[who][:2]))
            try:
                headers = {"Content-Type": "application/json"}
                if token is not None:
                    headers["Authorization"] = "Bearer " + token
                conn.request(method, path, body=json.dumps(body) if body else None,
                             headers=headers)
                response = conn.getresponse()
                return response.status, json.loads(response.read() or b"null")
            finally:
                conn.close()

        status, body = rest("alice", "PUT", "/v1/collections/certs", {"dimension": 2})
        self.assertEqual(status, 201, body)
        status, body = rest("carol", "GET", "/v1/collections")
        self.assertEqual((status, [c["name"] for c in body["collections"]]), (200, ["certs"]))
        status, body = rest("carol", "DELETE", "/v1/collections/certs")
        self.assertEqual((status, body["error"]["message"]),
                         (403, "permission 'schema' on collection 'certs' is required"))
        status, body = rest("dave", "GET", "/v1/collections")
        self.assertEqual((status, body["error"]["message"]), (401, "authentication required"))
        # A bearer takes precedence: dave with a reader token reads; alice with a bad one is 401.
        token = keys.token(sub="dave-token", tenant="default", roles=["reader"])
        self.assertEqual(rest("dave", "GET", "/v1/collections", token=token)[0], 200)
        status, body = rest("alice", "GET", "/v1/collections", token="x.y.z")
        self.assertEqual((status, body["error"]["message"]), (401, "invalid credentials"))
        # gRPC: the same map.
        for who, expected in (("alice", None), ("carol", None),
                              ("dave", grpc.StatusCode.UNAUTHENTICATED)):
            credentials = grpc.ssl_channel_credentials(self.pki.ca_bytes(), files[who][3],
                                                       files[who][2])
            with grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", credentials) as channel:
                stub = grpc_test.stubs.PhenixStub(channel)
                try:
                    answer = stub.ListCollections(grpc_test.pb.ListCollectionsRequest(),
                                                  timeout=30)
                    got = None
                    self.assertEqual([c.name for c in answer.collections], ["certs"])
                except grpc.RpcError as error:
                    got = error.code()
                self.assertEqual(got, expected, who)

        # SIGHUP reloads the map: a new rule for dave applies to the next request; a file that
        # does not load keeps the previous map (and the error is logged, naming the file).
        def reload_and_wait(message, occurrence):
            os.kill(server.proc.pid, signal.SIGHUP)
            deadline = time.monotonic() + 10
            while server.log_text().count(message) < occurrence:
                self.assertLess(time.monotonic(), deadline, server.log_text())
                time.sleep(0.05)

        rules["clients"].append({"cn": "dave", "tenant": "default", "roles": ["reader"]})
        self.pki.write("clients.json", json.dumps(rules).encode())
        reload_and_wait("client certificate map reloaded", 1)
        status, body = rest("dave", "GET", "/v1/collections")
        self.assertEqual((status, [c["name"] for c in body["collections"]]), (200, ["certs"]))
        self.assertIn('"rules":3', server.log_text())
        self.pki.write("clients.json", b'{"clients": [{"cn": "dave", "tenant": ""}]}')
        reload_and_wait("client certificate map reload failed; still using the previous one", 1)
        self.assertIn(client_map, server.log_text())
        self.assertEqual(rest("dave", "GET", "/v1/collections")[0], 200)
        self.assertEqual(rest("alice", "GET", "/v1/collections")[0], 200)
        os.remove(client_map)  # an unreadable file: the same
        reload_and_wait("client certificate map reload failed; still using the previous one", 2)
        self.assertEqual(rest("dave", "GET", "/v1/collections")[0], 200)
        # A map without dave again: his certificate alone is refused once more.
        del rules["clients"][-1]
        self.pki.write("clients.json", json.dumps(rules).encode())
        reload_and_wait("client certificate map reloaded", 2)
        self.assertEqual(rest("dave", "GET", "/v1/collections")[0], 401)
        self.stop(server)
        # The audit log names the certificate's principal and the unmapped certificate's subject.
        text = ""
        for file_name in sorted(n for n in os.listdir(audit) if n.endswith(".jsonl")):
            with open(os.path.join(audit, file_name), errors="replace") as f:
                text += f.read()
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        self.assertIn(("svc-alice", "collection.create", "ok"),
                      [(r["principal"], r["action"], r["outcome"]) for r in records])
        self.assertIn("client certificate 'CN=dave' matches no rule of --tls-client-map",
                      [r["reason"] for r in records])
        # The map needs --auth jwt and --tls-client-ca.
        run = subprocess.run(
            [phenixd_test.PHENIXD, "--data", os.path.join(self.tmp, "bad"), "--http",
             "127.0.0.1:0", "--grpc", "", "--tls-cert", self.cert_path, "--tls-key",
             self.key_path, "--tls-client-map", client_map], capture_output=True, text=True,
            timeout=30)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("--tls-client-map maps verified client certificates", run.stderr)

    def test_grpc_over_tls(self):
        server = self.start()
        credentials = grpc.ssl_channel_credentials(self.pki.ca_bytes())
        with grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", credentials) as channel:
            stub = grpc_test.stubs.PhenixStub(channel)
            stub.Health(grpc_test.pb.HealthRequest(), timeout=30)
            statements, _ = grpc_test.rows_of(
                stub.Query(grpc_test.pb.QueryRequest(query="SHOW COLLECTIONS"), timeout=30))
            self.assertEqual(len(statements), 1)
        # A plaintext channel to the TLS port fails cleanly.
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            with self.assertRaises(grpc.RpcError):
                grpc_test.stubs.PhenixStub(channel).Health(grpc_test.pb.HealthRequest(),
                                                           timeout=5)
        self.stop(server)

    def test_reload(self):
        server = self.start("--tls-reload-interval-ms", "200")
        old = server.connection()
        old.request("GET", "/health")
        self.assertEqual(old.getresponse().read() is not None, True)
        self.assertEqual(peer_serial(old.sock), 1001)

        def serial_of_new_connection():
            conn = server.connection()
            conn.request("GET", "/health")
            self.assertEqual(conn.getresponse().status, 200)
            serial = peer_serial(conn.sock)
            conn.close()
            return serial

        def wait_for_serial(expected):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if serial_of_new_connection() == expected:
                    return
                time.sleep(0.1)
            self.fail(f"new connections never saw serial {expected}; log: {server.log_text()}")

        # A new pair + SIGHUP: new connections get it, the open one goes on with the old.
        self.pki.install(self.pki.issue("phenixd", 1002), self.cert_path, self.key_path)
        os.kill(server.proc.pid, signal.SIGHUP)
        wait_for_serial(1002)
        old.request("GET", "/health")
        self.assertEqual(old.getresponse().status, 200)
        self.assertEqual(peer_serial(old.sock), 1001)
        old.close()
        # A certificate whose key is not in the key file: the previous pair stays.
        bad_cert, _ = self.pki.issue("phenixd", 1003)
        self.pki.install((bad_cert, key_pem(new_key())), self.cert_path, self.key_path)
        os.kill(server.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "TLS certificate reload failed" not in server.log_text():
            self.assertLess(time.monotonic(), deadline, server.log_text())
            time.sleep(0.05)
        self.assertIn(self.key_path, server.log_text())
        self.assertEqual(serial_of_new_connection(), 1002)
        # An unreadable replacement: the same.
        os.remove(self.key_path)
        os.kill(server.proc.pid, signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(serial_of_new_connection(), 1002)
        # Changed files are picked up without a signal (the poll).
        self.pki.install(self.pki.issue("phenixd", 1004), self.cert_path, self.key_path)
        wait_for_serial(1004)
        # gRPC (its own file watcher, every second here) serves the new certificate too.
        context = client_context(self.pki)
        context.set_alpn_protocols(["h2"])
        deadline = time.monotonic() + 15
        while True:
            # Until gRPC's watcher has the new pair (the key file was missing a moment ago), a
            # handshake may also be refused outright: the same "not yet".
            try:
                with socket.create_connection(("127.0.0.1", server.grpc_port), timeout=10) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        grpc_serial = peer_serial(tls)
            except (ssl.SSLError, ConnectionError) as error:
                grpc_serial = f"no handshake ({error})"
            if grpc_serial == 1004:
                break
            self.assertLess(time.monotonic(), deadline, f"gRPC still serves {grpc_serial}")
            time.sleep(0.2)
        credentials = grpc.ssl_channel_credentials(self.pki.ca_bytes())
        with grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", credentials) as channel:
            grpc_test.stubs.PhenixStub(channel).Health(grpc_test.pb.HealthRequest(), timeout=30)
        self.stop(server)

    def test_shell_over_https(self):
        server = self.start()
        for host_idx, host in enumerate(("127.0.0.1", "localhost")):
            shell = subprocess.run(
                [PHENIX_SHELL, "--url", f"https://{host}:{server.port}", "--cacert",
                 self.pki.ca_path, "-c", f"CREATE COLLECTION docs{host_idx};", "-c",
                 "SHOW COLLECTIONS;"], capture_output=True, text=True, timeout=60)
            self.assertEqual(shell.returncode, 0, shell.stderr)
            self.assertIn(f"docs{host_idx}", shell.stdout)
        # Not trusted without the CA (the system's CAs do not know it); never silently.
        shell = subprocess.run([PHENIX_SHELL, "--url", f"https://127.0.0.1:{server.port}", "-c",
                                "SHOW COLLECTIONS;"], capture_output=True, text=True, timeout=60)
        self.assertEqual(shell.returncode, 1)
        self.assertIn("not trusted", shell.stderr)
        self.assertIn("--cacert", shell.stderr)
        # --cacert without https is a usage error.
        shell = subprocess.run([PHENIX_SHELL, "--url", f"http://127.0.0.1:{server.port}",
                                "--cacert", self.pki.ca_path, "-c", "SHOW COLLECTIONS;"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(shell.returncode, 2)
        # A certificate that names another host (reloaded in): refused by the shell.
        self.pki.install(self.pki.issue("phenixd", 1010, sans=[x509.DNSName("elsewhere.test")]),
                         self.cert_path, self.key_path)
        os.kill(server.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "serial=03F2" not in server.log_text():
            self.assertLess(time.monotonic(), deadline, server.log_text())
            time.sleep(0.05)
        shell = subprocess.run([PHENIX_SHELL, "--url", f"https://127.0.0.1:{server.port}",
                                "--cacert", self.pki.ca_path, "-c", "SHOW COLLECTIONS;"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(shell.returncode, 1, shell.stdout)
        self.assertIn("IP address mismatch", shell.stderr)
        self.stop(server)


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    PHENIX_SHELL = os.path.abspath(sys.argv.pop(1))
    protoc, plugin = sys.argv.pop(1), sys.argv.pop(1)
    stub_dir = tempfile.mkdtemp(prefix="phenix-tls-stubs-")
    try:
        grpc_test.generate_stubs(protoc, plugin, stub_dir)
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)
