#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of phenixd's audit log (labels "server", "audit"): --audit-dir writes a
hash-chained log whose first record is the server's start and whose last, on disk after a clean
SIGTERM stop, is its stop; a restart continues the chain; --audit-max-file-bytes rotates with the
chain carried across files; `phenix audit verify DIR` accepts the log phenixd wrote and, after
tampering, exits 1 naming the first broken record.

Usage: audit_test.py PATH/TO/phenixd PATH/TO/phenix   (stdlib only; reuses phenixd_test.py's Server)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phenixd_test  # noqa: E402
from phenixd_test import Server  # noqa: E402

PHENIX = None


def verify(audit_dir, *extra):
    return subprocess.run([PHENIX, "audit", "verify", audit_dir, *extra], capture_output=True,
                          text=True, timeout=60)


def audit_files(audit_dir):
    return sorted(name for name in os.listdir(audit_dir)
                  if name.startswith("audit-") and name.endswith(".jsonl"))


def records(audit_dir):
    out = []
    for name in audit_files(audit_dir):
        with open(os.path.join(audit_dir, name), "rb") as f:
            out.extend(json.loads(line) for line in f.read().splitlines())
    return out


class AuditLogTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenix-audit-test-")
        self.data = os.path.join(self.tmp, "data")
        self.audit = os.path.join(self.tmp, "audit")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_server(self, *extra):
        server = Server(self.data, "--audit-dir", self.audit, *extra)
        status, _, _ = server.request("GET", "/v1/collections")
        self.assertEqual(status, 200)
        self.assertEqual(server.stop(), 0, server.log_text())

    def test_start_and_stop_are_chained_on_disk_and_verify(self):
        self.run_server()
        # The stop event is on disk once phenixd has exited after SIGTERM: Close flushed it.
        log = records(self.audit)
        self.assertEqual([r["action"] for r in log], ["server.start", "server.stop"])
        self.assertEqual([r["seq"] for r in log], [1, 2])
        self.assertEqual(log[0]["prev"], "0" * 64)
        self.assertEqual(log[1]["prev"], log[0]["hash"])
        self.assertEqual(log[1]["outcome"], "ok")
        self.assertEqual(log[0]["target"], self.data)
        self.assertRegex(log[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        if hasattr(os, "stat"):
            self.assertEqual(os.stat(self.audit).st_mode & 0o777, 0o700)

        out = verify(self.audit)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(),
                         f"ok: 2 records in 1 files, last hash {log[1]['hash']}")

        # A restart continues the chain from the last record.
        self.run_server()
        log = records(self.audit)
        self.assertEqual([r["seq"] for r in log], [1, 2, 3, 4])
        self.assertEqual(log[2]["prev"], log[1]["hash"])
        out = verify(self.audit, "--last-hash", log[1]["hash"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("ok: 4 records in 1 files"), out.stdout)

    def test_tampering_is_named_by_verify(self):
        self.run_server()
        self.run_server()
        path = os.path.join(self.audit, "audit-000001.jsonl")
        with open(path, "rb") as f:
            original = f.read()
        lines = original.splitlines(keepends=True)
        self.assertEqual(len(lines), 4)

        # One byte of record 3.
        edited = list(lines)
        edited[2] = edited[2].replace(b"server.start", b"server.stark")
        with open(path, "wb") as f:
            f.write(b"".join(edited))
        out = verify(self.audit)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("broken: audit-000001.jsonl line 3 (seq 3): hash does not match",
                      out.stderr)

        # Record 2 deleted.
        with open(path, "wb") as f:
            f.write(b"".join(lines[:1] + lines[2:]))
        out = verify(self.audit)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("broken: audit-000001.jsonl line 2 (seq 3): seq gap: expected 2, found 3",
                      out.stderr)

        # Records 2 and 3 swapped.
        with open(path, "wb") as f:
            f.write(b"".join([lines[0], lines[2], lines[1], lines[3]]))
        out = verify(self.audit)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("line 2 (seq 3): seq gap", out.stderr)

        # The tail cut off: only a hash noted earlier shows it.
        with open(path, "wb") as f:
            f.write(b"".join(lines[:3]))
        self.assertEqual(verify(self.audit).returncode, 0)
        noted = json.loads(lines[3])["hash"]
        out = verify(self.audit, "--last-hash", noted)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("no record has hash " + noted, out.stderr)

        # A torn write at the end: phenixd truncates it on start and records the repair.
        with open(path, "wb") as f:
            f.write(original + b'{"seq":5,"ti')
        self.run_server()
        log = records(self.audit)
        self.assertEqual(log[4]["action"], "log.recovered")
        self.assertEqual(log[4]["target"], "audit-000001.jsonl")
        self.assertEqual(verify(self.audit).returncode, 0)

    def test_rotation_carries_the_chain_across_files(self):
        self.run_server("--audit-max-file-bytes", "300")  # every record starts a file
        self.assertEqual(audit_files(self.audit), ["audit-000001.jsonl", "audit-000002.jsonl"])
        log = records(self.audit)
        self.assertEqual(log[1]["prev"], log[0]["hash"])
        out = verify(self.audit)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("ok: 2 records in 2 files"), out.stdout)
        os.remove(os.path.join(self.audit, "audit-000001.jsonl"))
        out = verify(self.audit)
        self.assertEqual(out.returncode, 1)
        self.assertIn("broken: audit-000002.jsonl line 1 (seq 2): seq gap: expected 1, found 2 "
                      "(missing file audit-000001.jsonl)", out.stderr)

    def test_config_file_keys_and_an_unusable_audit_dir(self):
        config = os.path.join(self.tmp, "phenixd.toml")
        with open(config, "w") as f:
            f.write(f'audit_dir = "{self.audit}"\naudit_reads = true\n'
                    'audit_max_file_bytes = 1048576\n')
        printed = subprocess.run([phenixd_test.PHENIXD, "--config", config, "--print-config"],
                                 capture_output=True, text=True, check=True).stdout
        self.assertIn(f'audit_dir = "{self.audit}"', printed)
        self.assertIn("audit_reads = true", printed)
        self.assertIn("audit_max_file_bytes = 1048576", printed)
        server = Server(self.data, "--config", config)
        self.assertEqual(server.stop(), 0, server.log_text())
        self.assertEqual(len(records(self.audit)), 2)

        not_a_dir = os.path.join(self.tmp, "file")
        with open(not_a_dir, "w") as f:
            f.write("x")
        failed = subprocess.run([phenixd_test.PHENIXD, "--data", self.data, "--http",
                                 "127.0.0.1:0", "--grpc", "", "--audit-dir", not_a_dir],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("cannot open the audit log in " + not_a_dir, failed.stderr)

    def test_verify_usage_and_a_missing_log(self):
        out = verify(os.path.join(self.tmp, "nothing"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("does not exist", out.stderr)
        usage = subprocess.run([PHENIX, "audit"], capture_output=True, text=True)
        self.assertEqual(usage.returncode, 2)
        usage = subprocess.run([PHENIX, "audit", "verify"], capture_output=True, text=True)
        self.assertEqual(usage.returncode, 2)


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    PHENIX = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
