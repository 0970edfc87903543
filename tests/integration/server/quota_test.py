#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tenant quotas end to end (issue 15 item 4; docs/security.md "Quotas"; decision 0023).

One phenixd with --auth jwt (tokens minted by jwt_tokens.py) and --audit-dir. A cluster
administrator sets quotas over PUT /v1/admin/tenants/{tenant}/quota and ALTER TENANT ... SET QUOTA;
writers of the tenants then:
  * max_entities: fill the tenant to its quota (REST upserts, PhenixQL INSERT, gRPC Upsert); the
    write that would pass it is 403 PERMISSION_DENIED naming the quota, its limit and the use,
    and writes nothing; another tenant is not limited; raising the quota lets writes go on;
  * max_bytes: once RocksDB's estimate of the tenant's size reaches the quota, writes are 403;
  * requests_per_second / principal_requests_per_second: 429 with Retry-After on REST,
    RESOURCE_EXHAUSTED on gRPC, recovering after the wait; one principal's limit leaves the
    others of the tenant alone;
  * every refusal is in the audit log as a denial and in phenix_quota_rejected_total{kind};
  * quotas are cluster administration (a tenant administrator gets 403) and survive a restart.

Usage: quota_test.py PHENIXD PROTOC GRPC_PYTHON_PLUGIN
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402
import grpc_test  # noqa: E402  (stub generation, GrpcServer)
import jwt_tokens  # noqa: E402  (keys and tokens, python3-cryptography)

import grpc  # noqa: E402

KEYS = jwt_tokens.KeySet()
PHENIXD = PROTOC = PLUGIN = None


def mint(subject, tenant, roles):
    return KEYS.token(sub=subject, tenant=tenant, roles=list(roles), kid="rsa-1")


def entity(eid, size=0):
    return {"id": eid, "vector": [1.0, 2.0], "metadata": {"pad": "x" * size}}


class QuotaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-quota-")
        cls.pb = grpc_test.generate_stubs(PROTOC, PLUGIN, os.path.join(cls.tmp, "stubs"))
        cls.jwks = KEYS.write_jwks(os.path.join(cls.tmp, "jwks.json"), kids=["rsa-1"])
        cls.data = os.path.join(cls.tmp, "data")
        cls.audit = os.path.join(cls.tmp, "audit")
        cls.start()
        cls.root = mint("root", "*", ["admin"])
        for tenant in ("acme", "beta", "gamma", "delta", "bytes"):
            status, _, body = cls.call("POST", "/v1/admin/tenants", {"name": tenant}, cls.root)
            assert status == 201, body
            status, _, body = cls.call("PUT", "/v1/collections/docs", {"dimension": 2}, cls.root,
                                       tenant=tenant)
            assert status in (200, 201), body

    @classmethod
    def start(cls):
        cls.server = grpc_test.GrpcServer(cls.data, "--auth", "jwt", "--jwt-jwks", cls.jwks,
                                          "--audit-dir", cls.audit)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def call(cls, method, path, body=None, token=None, tenant=None):
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        if tenant is not None:
            headers["Phenix-Tenant"] = tenant
        return cls.server.request(method, path, body=body, headers=headers)

    def set_quota(self, tenant, **quota):
        status, _, body = self.call("PUT", f"/v1/admin/tenants/{tenant}/quota", quota, self.root)
        self.assertEqual(status, 200, body)
        return body

    def upsert(self, token, ids, size=0):
        status, _, body = self.call("POST", "/v1/collections/docs/entities",
                                    {"entities": [entity(i, size) for i in ids]}, token)
        return status, body

    def rpc(self, method, request, token):
        try:
            getattr(self.server.stub, method)(request, metadata=[("authorization",
                                                                   "Bearer " + token)])
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            return error.code(), error.details()

    def metric(self, kind):
        status, _, text = self.call("GET", "/metrics", token=self.root)
        self.assertEqual(status, 200)
        found = re.search(r'^phenix_quota_rejected_total\{kind="%s"\} (\S+)$' % kind, text, re.M)
        return float(found.group(1)) if found else 0.0

    def wait_audit(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = [r for r in phenixd_test.audit_records(self.audit) if predicate(r)]
            if records:
                return records
            time.sleep(0.1)
        self.fail(f"no audit record of {what}")

    # ------------------------------------------------------------ entities

    def test_entities_fill_refuse_raise(self):
        writer = mint("acme-writer", "acme", ["writer"])
        other = mint("beta-writer", "beta", ["writer"])
        rejected_before = self.metric("entities")
        answer = self.set_quota("acme", max_entities=5)
        self.assertEqual(answer["quota"], {"max_entities": 5, "max_bytes": None,
                                           "requests_per_second": None,
                                           "principal_requests_per_second": None})
        self.assertEqual(answer["usage"]["entities"], 0)
        status, body = self.upsert(writer, ["a1", "a2", "a3"])
        self.assertEqual(status, 200, body)
        # Three more would make 6 > 5: refused whole, nothing written.
        status, body = self.upsert(writer, ["a4", "a5", "a6"])
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "PERMISSION_DENIED")
        self.assertEqual(body["error"]["details"]["quota"], "max_entities")
        message = body["error"]["message"]
        self.assertIn("tenant 'acme' holds 3 entities", message)
        self.assertIn("adds up to 3", message)
        self.assertIn("max_entities quota of 5", message)
        self.assertIn("nothing was written", message)
        for eid in ("a4", "a5", "a6"):
            self.assertEqual(self.call("GET", f"/v1/collections/docs/entities/{eid}",
                                       token=writer)[0], 404)
        # Up to the quota exactly is fine; one past it is not, in every protocol.
        self.assertEqual(self.upsert(writer, ["a4", "a5"])[0], 200)
        status, _, body = self.call("POST", "/v1/query",
                                    {"query": "INSERT INTO docs (id, vector) VALUES ('a6', [1, 2])"},
                                    writer)
        self.assertEqual(status, 403, body)
        self.assertIn("quota exceeded (max_entities)", json.dumps(body))
        code, details = self.rpc("Upsert", self.pb.UpsertRequest(
            collection="docs", entities=[self.pb.Entity(id="a6", vector=[1.0, 2.0])]), writer)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
        self.assertIn("max_entities quota of 5", details)
        # Updates add no entity: still allowed at the quota.
        status, _, body = self.call("PATCH", "/v1/collections/docs/entities/a1", {"v": 1}, writer)
        self.assertEqual(status, 200, body)
        # Another tenant is not limited by acme's quota.
        status, body = self.upsert(other, [f"b{i}" for i in range(10)])
        self.assertEqual(status, 200, body)
        # The quota shows in the tenant list (beta has none) and GET.
        status, _, body = self.call("GET", "/v1/admin/tenants", token=self.root)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["quotas"]["acme"]["max_entities"], 5)
        self.assertNotIn("beta", body["quotas"])
        status, _, body = self.call("GET", "/v1/admin/tenants/acme/quota", token=self.root)
        self.assertEqual((status, body["usage"]["entities"]), (200, 5), body)
        # A tenant administrator cannot raise its own quota.
        acme_admin = mint("acme-admin", "acme", ["admin"])
        status, _, body = self.call("PUT", "/v1/admin/tenants/acme/quota", {"max_entities": 99},
                                    acme_admin)
        self.assertEqual(status, 403, body)
        status, _, body = self.call("POST", "/v1/query",
                                    {"query": "ALTER TENANT acme SET QUOTA (max_entities = 99)"},
                                    acme_admin)
        self.assertEqual(status, 403, body)
        # The cluster administrator raises it with PhenixQL; writes go on.
        status, _, body = self.call("POST", "/v1/query",
                                    {"query": "ALTER TENANT acme SET QUOTA (max_entities = 8)"},
                                    self.root)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["rows"][0][:2], ["acme", 8])
        # SHOW TENANTS shows each tenant's quotas (NULL: no limit; beta has none).
        status, _, body = self.call("POST", "/v1/query", {"query": "SHOW TENANTS"}, self.root)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["columns"], ["name", "current", "max_entities", "max_bytes",
                                           "requests_per_second",
                                           "principal_requests_per_second"])
        quotas = {row[0]: row[2:] for row in body["rows"]}
        self.assertEqual(quotas["acme"], [8, None, None, None])
        self.assertEqual(quotas["beta"], [None, None, None, None])
        self.assertEqual(self.upsert(writer, ["a6", "a7", "a8"])[0], 200)
        self.assertEqual(self.upsert(writer, ["a9"])[0], 403)
        # Refusals are counted and audited as denials with their message.
        self.assertGreaterEqual(self.metric("entities") - rejected_before, 4)
        records = self.wait_audit(
            lambda r: r.get("outcome") == "denied" and r.get("tenant") == "acme"
            and str(r.get("reason", "")).startswith("quota exceeded (max_entities)"),
            "an entity-quota denial")
        self.assertGreaterEqual(len(records), 3, records)
        self.assertIn("acme-writer", {r.get("principal") for r in records})

    # ------------------------------------------------------------ bytes

    def test_bytes(self):
        writer = mint("bytes-writer", "bytes", ["writer"])
        for batch in range(4):
            status, body = self.upsert(writer, [f"p{batch}-{i}" for i in range(50)], size=1000)
            self.assertEqual(status, 200, body)
        self.set_quota("bytes", max_bytes="20KB")
        # RocksDB's estimate is refreshed at most every 2 s: the refusal comes within that.
        deadline = time.monotonic() + 10
        status, body = 0, None
        while time.monotonic() < deadline:
            status, body = self.upsert(writer, ["more"], size=10)
            if status == 403:
                break
            time.sleep(0.5)
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["details"]["quota"], "max_bytes")
        self.assertIn("max_bytes quota of 20480", body["error"]["message"])
        status, _, body = self.call("GET", "/v1/admin/tenants/bytes/quota", token=self.root)
        self.assertGreaterEqual(body["usage"]["approximate_bytes"], 20480, body)
        self.set_quota("bytes", max_bytes="1GB")
        self.assertEqual(self.upsert(writer, ["more"], size=10)[0], 200)

    # ------------------------------------------------------------ request rate

    def hammer(self, token, count=30):
        """Statuses and headers of `count` quick reads."""
        out = []
        for _ in range(count):
            status, headers, body = self.call("GET", "/v1/collections", token=token)
            out.append((status, headers, body))
        return out

    def test_tenant_rate(self):
        reader = mint("gamma-reader", "gamma", ["reader"])
        other = mint("beta-reader", "beta", ["reader"])
        rejected_before = self.metric("rate")
        self.set_quota("gamma", requests_per_second=2)
        answers = self.hammer(reader)
        refused = [a for a in answers if a[0] == 429]
        self.assertTrue(refused, [a[0] for a in answers])
        self.assertEqual({a[0] for a in answers}, {200, 429})
        status, headers, body = refused[0]
        self.assertEqual(body["error"]["code"], "RESOURCE_EXHAUSTED")
        self.assertEqual(body["error"]["details"]["quota"], "requests_per_second")
        self.assertTrue(body["error"]["details"]["retryable"])
        self.assertIn("tenant 'gamma' may make 2 requests per second", body["error"]["message"])
        retry_after = int(headers["Retry-After"])
        self.assertGreaterEqual(retry_after, 1)
        # gRPC: RESOURCE_EXHAUSTED.
        codes = [self.rpc("ListCollections", self.pb.ListCollectionsRequest(), reader)[0]
                 for _ in range(10)]
        self.assertIn(grpc.StatusCode.RESOURCE_EXHAUSTED, codes)
        # Another tenant is not limited meanwhile.
        self.assertEqual({a[0] for a in self.hammer(other, 10)}, {200})
        # After the wait the tenant is served again.
        time.sleep(retry_after + 0.2)
        self.assertEqual(self.call("GET", "/v1/collections", token=reader)[0], 200)
        self.assertGreaterEqual(self.metric("rate") - rejected_before, len(refused))
        self.wait_audit(lambda r: r.get("action") == "quota.rate" and r.get("tenant") == "gamma"
                        and r.get("outcome") == "denied", "a rate denial")
        # The cluster administrator is never rate limited (it must be able to lift a quota).
        self.assertEqual({self.call("GET", "/v1/collections", token=self.root,
                                    tenant="gamma")[0] for _ in range(10)}, {200})
        self.set_quota("gamma")  # no quota: unlimited again
        self.assertEqual({a[0] for a in self.hammer(reader, 10)}, {200})

    def test_principal_rate(self):
        alice = mint("alice", "delta", ["reader"])
        bob = mint("bob", "delta", ["reader"])
        self.set_quota("delta", principal_requests_per_second=2)
        answers = self.hammer(alice)
        refused = [a for a in answers if a[0] == 429]
        self.assertTrue(refused, [a[0] for a in answers])
        self.assertEqual(refused[0][2]["error"]["details"]["quota"],
                         "principal_requests_per_second")
        # Bob's bucket is his own.
        self.assertEqual(self.call("GET", "/v1/collections", token=bob)[0], 200)

    # ------------------------------------------------------------ durability (last: restarts)

    def test_z_quotas_survive_restart(self):
        self.set_quota("beta", max_entities=123, max_bytes="1MB")
        self.server.stop()
        type(self).start()
        status, _, body = self.call("GET", "/v1/admin/tenants/beta/quota", token=self.root)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["quota"]["max_entities"], 123)
        self.assertEqual(body["quota"]["max_bytes"], 1 << 20)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    PHENIXD, PROTOC, PLUGIN = (os.path.abspath(a) for a in sys.argv[1:4])
    phenixd_test.PHENIXD = PHENIXD
    del sys.argv[1:4]
    unittest.main(verbosity=2)
