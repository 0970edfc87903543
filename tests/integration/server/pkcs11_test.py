#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Encryption at rest through phenixd with the master key in a PKCS#11 token (SoftHSM2).

A token is made in a temporary SOFTHSM2_CONF directory with softhsm2-util; the master key is
created in it by `phenix create-master-key pkcs11:...`; phenixd serves an encrypted data directory
with it (tenant data keys become token objects), survives a restart, refuses a wrong PIN and a
wrong key, and reopens after `phenix rotate-master-key` moved the data directory to a second
token key. The data files never hold a marker written through the API, while the same writes to
an unencrypted server do (so the check can fail). Skipped without softhsm2.

Usage: pkcs11_test.py PHENIXD PHENIX_SHELL
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phenixd_test import Server  # noqa: E402
import phenixd_test  # noqa: E402

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
MARKER = "okapi-7c1e-marker"


def query(server, text, tenant=None):
    headers = {"Phenix-Tenant": tenant} if tenant else None
    return server.request("POST", "/v1/query", {"query": text}, headers=headers)


def files_holding(root, needle):
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                if needle in f.read():
                    found.append(os.path.relpath(path, root))
    return found


@unittest.skipUnless(os.path.exists(MODULE) and shutil.which("softhsm2-util"),
                     "SoftHSM2 (softhsm2) is not installed")
class Pkcs11ServerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenix-pkcs11-")
        tokens = os.path.join(self.tmp, "tokens")
        os.makedirs(tokens)
        conf = os.path.join(self.tmp, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
        self.env = dict(os.environ, SOFTHSM2_CONF=conf)
        os.environ["SOFTHSM2_CONF"] = conf  # phenixd inherits it (Server uses os.environ)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "phenix-e2e",
                        "--pin", "1234", "--so-pin", "5678"], check=True, env=self.env,
                       capture_output=True)
        self.pin = os.path.join(self.tmp, "pin")
        with open(self.pin, "w") as f:
            f.write("1234\n")
        self.wrong_pin = os.path.join(self.tmp, "wrong-pin")
        with open(self.wrong_pin, "w") as f:
            f.write("9999\n")

    def tearDown(self):
        os.environ.pop("SOFTHSM2_CONF", None)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def uri(self, label):
        return f"pkcs11:module={MODULE};token=phenix-e2e;key={label}"

    def shell(self, *args):
        return subprocess.run([SHELL, *args], capture_output=True, text=True, env=self.env)

    def write_marked_data(self, server):
        status, _, body = server.request("PUT", "/v1/collections/docs", {"dimension": 3})
        self.assertEqual(status, 201, body)
        status, _, body = server.request("POST", "/v1/collections/docs/entities", {"entities": [
            {"id": f"{MARKER}-{i}", "vector": [1, i, 2],
             "metadata": {"note": f"{MARKER} number {i}"},
             "edges": [{"label": "next", "target": f"{MARKER}-{(i + 1) % 50}"}]}
            for i in range(50)]})
        self.assertEqual(status, 200, body)
        status, _, body = query(server, "CREATE TENANT acme")
        self.assertEqual(status, 200, body)
        status, _, body = query(server, "CREATE COLLECTION notes (DIMENSION 2)", tenant="acme")
        self.assertEqual(status, 200, body)
        status, _, body = query(
            server, f"INSERT INTO notes (id, vector, metadata) VALUES "
                    f"('n1', [1, 2], {{\"text\": \"{MARKER} in acme\"}})", tenant="acme")
        self.assertEqual(status, 200, body)

    def test_token_master_key_end_to_end(self):
        made = self.shell("create-master-key", self.uri("master-a"), "--pin-file", self.pin)
        self.assertEqual(made.returncode, 0, made.stderr)
        self.assertIn("created master key pkcs11:phenix-e2e/master-a", made.stdout)
        again = self.shell("create-master-key", self.uri("master-a"), "--pin-file", self.pin)
        self.assertEqual(again.returncode, 1, again.stdout)
        self.assertIn("master-a", again.stderr)
        bad = self.shell("create-master-key", self.uri("master-x"), "--pin-file", self.wrong_pin)
        self.assertNotEqual(bad.returncode, 0, bad.stdout)

        # The control: the same writes, unencrypted, leave the marker in the data files.
        plain_dir = os.path.join(self.tmp, "plain")
        plain = Server(plain_dir)
        try:
            self.write_marked_data(plain)
        finally:
            self.assertEqual(plain.stop(), 0)
        self.assertTrue(files_holding(plain_dir, MARKER.encode()))

        data = os.path.join(self.tmp, "data")
        key_a = ["--encryption-kms", self.uri("master-a"), "--encryption-pin-file", self.pin]
        server = Server(data, *key_a)
        try:
            self.write_marked_data(server)
            status, _, body = server.request("GET", f"/v1/collections/docs/entities/{MARKER}-7")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["metadata"]["note"], f"{MARKER} number 7")
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertEqual(files_holding(data, MARKER.encode()), [])
        # The wrapped data keys of the default tenant and of acme (token objects wrap them).
        tenant_keys = set(os.listdir(os.path.join(data, "keys", "tenants")))
        self.assertEqual(len(tenant_keys), 2, tenant_keys)

        # A wrong PIN and a key that is not the one in use are refused, naming why.
        for args, why in (
                (["--encryption-kms", self.uri("master-a"), "--encryption-pin-file",
                  self.wrong_pin], "PIN"),
                (["--encryption-kms", self.uri("no-such-key"), "--encryption-pin-file",
                  self.pin], "no-such-key")):
            refused = subprocess.run(
                [phenixd_test.PHENIXD, "--data", data, "--http", "127.0.0.1:0", "--grpc", "",
                 *args], capture_output=True, text=True, env=self.env, timeout=60)
            self.assertNotEqual(refused.returncode, 0, refused.stdout)
            self.assertIn(why, refused.stderr)

        # Rotation to a second token key, while stopped; then only the new key opens it.
        self.assertEqual(self.shell("create-master-key", self.uri("master-b"), "--pin-file",
                                    self.pin).returncode, 0)
        rotated = self.shell("rotate-master-key", "--data", data,
                             "--encryption-kms", self.uri("master-a"),
                             "--encryption-pin-file", self.pin,
                             "--new-kms", self.uri("master-b"), "--new-pin-file", self.pin)
        self.assertEqual(rotated.returncode, 0, rotated.stderr)
        self.assertIn("pkcs11:phenix-e2e/master-b", rotated.stdout)
        old = subprocess.run(
            [phenixd_test.PHENIXD, "--data", data, "--http", "127.0.0.1:0", "--grpc", "", *key_a],
            capture_output=True, text=True, env=self.env, timeout=60)
        self.assertNotEqual(old.returncode, 0, old.stdout)
        server = Server(data, "--encryption-kms", self.uri("master-b"),
                        "--encryption-pin-file", self.pin)
        try:
            status, _, body = server.request("GET", f"/v1/collections/docs/entities/{MARKER}-7")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["metadata"]["note"], f"{MARKER} number 7")
            status, _, body = query(server, "SELECT id, metadata.text FROM notes", tenant="acme")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["rows"], [["n1", f"{MARKER} in acme"]])
            # Search and the graph read through the token-wrapped keys too.
            status, _, body = server.request("POST", "/v1/collections/docs/search",
                                             {"vector": [1, 7, 2], "k": 1})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["results"][0]["id"], f"{MARKER}-7")
            # Dropping the tenant shreds its key (a token object): its data is gone for good.
            self.assertEqual(query(server, "DROP COLLECTION notes", tenant="acme")[0], 200)
            status, _, body = query(server, "DROP TENANT acme")
            self.assertEqual(status, 200, body)
        finally:
            self.assertEqual(server.stop(), 0)
        left = set(os.listdir(os.path.join(data, "keys", "tenants")))
        self.assertEqual(len(left), 1, left)  # acme's is gone, the default tenant's stays
        self.assertLess(left, tenant_keys)


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    SHELL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
