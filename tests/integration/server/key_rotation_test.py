#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data-key rotation end to end (issue 15 item 7; docs/security.md "Data-key rotation"; decision
0031).

One phenixd, encrypted at rest under a local master key, with an audit log. A tenant stores
entities with marker metadata and edges; the (auth-off, local) cluster administrator rotates its
key with ALTER TENANT ... ROTATE KEY while a writer keeps writing; phenixd is killed with SIGKILL
right after, before the rotation finished (the first run keeps a minute of history, so the old
key cannot go yet), and restarted with --history-retention-ms 0. Then:
  * GET /v1/admin/tenants/{t}/key-rotation and SHOW KEY ROTATION follow the background
    re-encryption to "finished" (it resumed after the kill);
  * every entity written before, during and after reads back;
  * the tenant's key record holds only the new generation and the old generation's named key is
    gone from the key store;
  * an unknown tenant is 404; the rotation and the progress reads are in the audit log; a second
    rotation starts over REST. (Other tenants' credentials get 403: isolation_test.py.)

Usage: key_rotation_test.py PHENIXD
"""
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402


def record_lines(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split(" ", 1) for line in f if " " in line)


class KeyRotationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-keyrot-")
        self.key = os.path.join(self.tmp, "master.key")
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, secrets.token_bytes(32))
        os.close(fd)
        self.data = os.path.join(self.tmp, "data")
        self.audit = os.path.join(self.tmp, "audit")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, retention_ms=0):
        self.server = phenixd_test.Server(self.data, "--encryption-kms", "local:" + self.key,
                                          "--history-retention-ms", str(retention_ms),
                                          "--audit-dir", self.audit)

    def call(self, method, path, body=None, tenant=None):
        headers = {"Phenix-Tenant": tenant} if tenant else {}
        return self.server.request(method, path, body=body, headers=headers)

    def query(self, text, tenant=None):
        status, _, body = self.call("POST", "/v1/query", {"query": text}, tenant)
        self.assertEqual(status, 200, body)
        return body

    def upsert(self, ids, tag):
        entities = [{"id": i, "vector": [1.0, float(n)], "metadata": {"m": f"{tag}-{i}"},
                     "edges": [] if i == "seed-0" else [{"label": "next", "target": "seed-0"}]}
                    for n, i in enumerate(ids)]
        status, _, body = self.call("POST", "/v1/collections/docs/entities",
                                    {"entities": entities}, "acme")
        self.assertIn(status, (200, 201), body)

    def rotation(self):
        status, _, body = self.call("GET", "/v1/admin/tenants/acme/key-rotation")
        self.assertEqual(status, 200, body)
        return body

    def test_rotation_survives_sigkill_and_destroys_the_old_key(self):
        # A minute of history before the kill: the old key cannot be destroyed before it, so the
        # kill always lands mid-rotation (re-encrypting or settling).
        self.start(retention_ms=60000)
        status, _, body = self.call("POST", "/v1/admin/tenants", {"name": "acme"})
        self.assertEqual(status, 201, body)
        status, _, body = self.call("PUT", "/v1/collections/docs", {"dimension": 2}, "acme")
        self.assertIn(status, (200, 201), body)
        self.upsert(["seed-0"], "seed")
        seeds = [f"seed-{n}" for n in range(1, 1500)]
        for start in range(0, len(seeds), 500):
            self.upsert(seeds[start:start + 500], "seed")
        self.assertEqual(self.rotation()["state"], "none")
        tenant_dir = os.path.join(self.data, "keys", "tenants")
        records = os.listdir(tenant_dir)
        self.assertEqual(len(records), 1, records)
        record_path = os.path.join(tenant_dir, records[0])
        old_named_key = record_lines(record_path)["kms-key"]
        self.assertTrue(os.path.exists(self.key + ".keys/" + old_named_key))

        # A writer keeps going while the rotation starts; phenixd is then killed mid-way.
        stop = threading.Event()
        written = []

        def writer():
            n = 0
            while not stop.is_set():
                ids = [f"live-{n}-{k}" for k in range(20)]
                try:
                    self.upsert(ids, "live")
                except (AssertionError, OSError):
                    return
                written.extend(ids)
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.2)
        body = self.query("ALTER TENANT acme ROTATE KEY")
        self.assertEqual(body["columns"][:4],
                         ["tenant", "state", "from_generation", "to_generation"])
        self.assertEqual(body["rows"][0][:4], ["acme", "re-encrypting", 1, 2])
        time.sleep(0.2)
        stop.set()
        thread.join()
        self.assertTrue(written)
        self.assertIn(self.rotation()["state"], ("re-encrypting", "settling"))
        self.server.stop(signal.SIGKILL)
        self.server = None

        self.start()
        after_restart = [f"after-{n}" for n in range(50)]
        self.upsert(after_restart, "after")
        deadline = time.monotonic() + 60
        state = self.rotation()
        while state["state"] != "finished" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = self.rotation()
        self.assertEqual(state["state"], "finished", state)
        self.assertEqual((state["from_generation"], state["to_generation"]), (1, 2))
        self.assertGreater(state["payloads_reencrypted"], 0)
        # No background step failed since the restart: no error shown.
        self.assertIsNone(state["last_error"], state)
        self.assertIsNone(state["last_error_at"], state)
        shown = self.query("SHOW KEY ROTATION FOR TENANT acme")
        self.assertEqual(shown["rows"][0][:4], ["acme", "finished", 1, 2])
        self.assertEqual(shown["columns"][-2:], ["last_error", "last_error_at"])
        self.assertEqual(shown["rows"][0][-2:], [None, None])

        # Everything reads back.
        rows = self.query("SELECT id, metadata FROM docs LIMIT 100000", "acme")["rows"]
        got = {row[0]: row[1] for row in rows}
        for eid in ["seed-0"] + seeds + after_restart:
            tag = "seed" if eid.startswith("seed") else "after"
            self.assertEqual(json_of(got.get(eid)), {"m": f"{tag}-{eid}"}, eid)
        for eid in written:  # acknowledged before the kill
            self.assertEqual(json_of(got.get(eid)), {"m": f"live-{eid}"}, eid)
        status, _, body = self.call("GET", "/v1/collections/docs/entities/seed-7", tenant="acme")
        self.assertEqual(status, 200, body)

        # The old key is destroyed: the record holds generation 2 only, the key store lost it.
        lines = record_lines(record_path)
        self.assertEqual(lines["phenix-tenant-key"], "2")
        self.assertEqual(lines["generation"], "2")
        self.assertNotIn("older", lines)
        self.assertNotEqual(lines["kms-key"], old_named_key)
        self.assertFalse(os.path.exists(self.key + ".keys/" + old_named_key))
        self.assertTrue(os.path.exists(self.key + ".keys/" + lines["kms-key"]))

        # Unknown tenants are 404; the rotation and its progress reads are audited.
        status, _, body = self.call("POST", "/v1/admin/tenants/nobody/key-rotation")
        self.assertEqual(status, 404, body)
        actions = [r["action"] for r in phenixd_test.audit_records(self.audit)]
        self.assertIn("tenant.key.rotate", actions)
        self.assertIn("tenant.key.rotation", actions)
        # A second rotation starts over REST from the new generation.
        status, _, body = self.call("POST", "/v1/admin/tenants/acme/key-rotation")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["from_generation"], body["to_generation"]), (2, 3))


def json_of(value):
    return json.loads(value) if isinstance(value, str) else value


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
