# SPDX-License-Identifier: Apache-2.0
"""The pinned PyPI venvs some server tests run their tools in (schemathesis, opentelemetry-proto):
one under the build directory per requirements file, made once and remade when the requirements
or the base interpreter change. Without PyPI the first time the caller fails; it never skips."""
import hashlib
import os
import shutil
import subprocess
import sys


def base_python():
    """Debian's python3 when present (what CI has), else the interpreter running this script."""
    for candidate in ("/usr/bin/python3", sys.executable):
        if candidate and os.path.exists(candidate):
            return candidate
    return sys.executable


def ensure_venv(build_dir, name, requirements, what, fail, log_prefix):
    """The python of the venv BUILD_DIR/NAME holding `requirements` (pip --require-hashes);
    calls fail(message) when it cannot be made ("what": what pip installs, for the message)."""
    venv = os.path.join(build_dir, name)
    base = base_python()
    with open(requirements, "rb") as f:
        key = hashlib.sha256(f.read() + base.encode()).hexdigest()
    stamp = os.path.join(venv, "phenix-requirements.sha256")
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(stamp) and os.path.exists(python):
        with open(stamp) as f:
            if f.read().strip() == key:
                return python
    print(f"{log_prefix}: making {venv} from {requirements}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    if subprocess.run([base, "-m", "venv", venv]).returncode != 0:
        fail(f"'{base} -m venv' failed (install python3-venv: scripts/install-deps.sh)")
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--quiet", "--require-hashes", "--no-deps", "-r", requirements]
    if subprocess.run(pip).returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        fail(f"pip could not install the pinned {what} from PyPI (is PyPI reachable?); "
             "this test does not skip")
    with open(stamp, "w") as f:
        f.write(key + "\n")
    return python
