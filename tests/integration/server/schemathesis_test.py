#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks phenixd against its own OpenAPI document with schemathesis (label server.schemathesis).

Makes (once per requirements file) a virtual environment under the build directory holding the
pinned schemathesis of schemathesis/requirements.txt (hash-checked), starts phenixd on
127.0.0.1:0 with a temporary data directory, and runs every schemathesis check - server errors,
status codes, content types, response schemas and headers, positive data acceptance and negative
data rejection, unsupported methods - over the examples, coverage, fuzzing and stateful phases
(the stateful phase follows the document's OpenAPI links). Generation is bounded and
deterministic, so a run is reproducible and takes a few minutes. Any failure fails the test; so does a venv that
cannot be made (no network to PyPI): the test never skips.

Usage: schemathesis_test.py PATH/TO/phenixd BUILD_DIR [extra `st run` arguments]
Environment: PHENIX_SCHEMATHESIS_EXAMPLES (default 150): examples per operation in the fuzzing
phase. Generation is deterministic (--generation-deterministic), so every run sends the same
requests; PHENIX_SCHEMATHESIS_SEED=N explores instead: random generation from seed N (by hand,
to look for new failures; a failure prints the seed's cases with curl lines).
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_DIR = os.path.join(HERE, "schemathesis")
REQUIREMENTS = os.path.join(CONFIG_DIR, "requirements.txt")
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
import venv_helper  # noqa: E402


def fail(message):
    print("schemathesis_test: FAIL: " + message, flush=True)
    sys.exit(1)


def ensure_venv(build_dir):
    """The venv's python, (re)made when the requirements file or the interpreter changed."""
    return venv_helper.ensure_venv(build_dir, "schemathesis-venv", REQUIREMENTS, "schemathesis",
                                   fail, "schemathesis_test")


class Server:
    def __init__(self, phenixd, data_dir, log_path):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [phenixd, "--data", data_dir, "--http", "127.0.0.1:0", "--grpc", ""],
            stdout=subprocess.PIPE, stderr=self.log)
        line = b""
        deadline = time.monotonic() + 60
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
        prefix = "phenixd: http listening on "
        text = line.decode().strip()
        if not text.startswith(prefix):
            self.stop()
            fail(f"phenixd printed {text!r}, not its listening line")
        self.address = text[len(prefix):]
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.address}/ready", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        fail("phenixd did not become ready")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def main():
    if len(sys.argv) < 3:
        fail("usage: schemathesis_test.py PATH/TO/phenixd BUILD_DIR [st run arguments]")
    phenixd, build_dir, extra = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3:]
    python = ensure_venv(build_dir)
    examples = os.environ.get("PHENIX_SCHEMATHESIS_EXAMPLES", "150")
    seed = os.environ.get("PHENIX_SCHEMATHESIS_SEED", "")
    work = tempfile.mkdtemp(prefix="phenix-schemathesis-")
    server = Server(phenixd, os.path.join(work, "data"), os.path.join(work, "phenixd.log"))
    report_dir = os.path.join(build_dir, "schemathesis-report")
    command = [
        python, "-m", "schemathesis.cli",
        "--config-file", os.path.join(CONFIG_DIR, "schemathesis.toml"),
        "run", f"http://{server.address}/openapi.json",
        "--checks", "all",
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", examples,
        *(["--seed", seed] if seed else ["--generation-deterministic"]),
        "--workers", "1",
        "--request-timeout", "30",
        "--no-color",
        "--report", "junit",
        "--report-dir", report_dir,
        *extra,
    ]
    print("schemathesis_test: " + " ".join(command), flush=True)
    start = time.monotonic()
    # Hypothesis keeps its files (unicode tables, examples) in the build directory, not in the
    # repository root it runs in.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               HYPOTHESIS_STORAGE_DIRECTORY=os.path.join(build_dir, "schemathesis-hypothesis"))
    result = subprocess.run(command, cwd=SOURCE_ROOT, env=env)
    elapsed = time.monotonic() - start
    exit_code = server.stop()
    print(f"schemathesis_test: schemathesis exited {result.returncode} after {elapsed:.1f} s; "
          f"phenixd exited {exit_code}", flush=True)
    if result.returncode != 0:
        with open(os.path.join(work, "phenixd.log"), errors="replace") as f:
            lines = f.readlines()
        errors = [line for line in lines if '"status":5' in line and '"/ready"' not in line]
        print("phenixd's 5xx log lines:\n" + "".join(errors[-20:]), flush=True)
        fail(f"schemathesis found failures (report: {report_dir}; data and log: {work})")
    if exit_code != 0:
        fail(f"phenixd exited {exit_code} after SIGTERM (log: {work}/phenixd.log)")
    shutil.rmtree(work, ignore_errors=True)
    print("schemathesis_test: passed", flush=True)


if __name__ == "__main__":
    main()
