#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages Phenix needs to build, test and benchmark, and nothing else.
# Idempotent: prints nothing and touches nothing when every package is already installed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git python3
  # engine dependencies
  librocksdb-dev nlohmann-json3-dev libsimdjson-dev
  # vector index: row-id bitmaps (CRoaring) and checkpoint checksums (xxHash)
  libroaring-dev libxxhash-dev
  # shell
  libedit-dev
  # server (phenixd): Boost.Beast on Asio (headers), flags, logs, the TOML config file, metrics
  libboost-dev libcli11-dev libspdlog-dev libtomlplusplus-dev prometheus-cpp-dev
  # security (src/security): JWT signatures, hashes and ciphers with OpenSSL 3
  libssl-dev
  # encryption at rest (src/crypto): the PKCS#11 header (the module is dlopened) and SoftHSM2,
  # the software token the PKCS#11 KMS tests run against
  libp11-kit-dev softhsm2
  # TLS: the openssl CLI for checking a listener by hand (docs/security.md#tls); the TLS test
  # makes its keys and certificates with python3-cryptography (below)
  openssl
  # phenixd's gRPC API: protoc and the C++ plugin (code generated at build time), gRPC C++
  # (grpc++), protobuf; the integration test's Python client (python3-grpcio; its stubs are
  # generated with protoc and grpc_python_plugin, since python3-grpc-tools' bundled protoc is too
  # old for proto3 `optional`)
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev python3-grpcio
  # tests and benchmarks (python3-venv: the schemathesis test makes its venv; python3-cryptography:
  # the JWT keys and tokens of the auth tests, tests/integration/server/jwt_tokens.py)
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev python3-venv python3-cryptography
  # /metrics and monitoring tests (Server.Metrics, Server.Monitoring): promtool and a Prometheus
  # server that the tests start themselves on 127.0.0.1 (the packaged daemon is kept from
  # starting: see below), and python3-yaml to read deploy/monitoring's rules
  prometheus python3-yaml
)

# --bench: also what the vector benchmarks' baselines need (bench/ann_baselines.py: hnswlib and
# FAISS on the data kit, which itself needs numpy; lz4 reads apt's package lists for
# bench/real/debian_catalog.py). --peers: what bench/peers/run_peers.py needs to make the peers'
# virtual environments (their packages come from PyPI, pinned in bench/peers/requirements/).
# --plots: matplotlib for bench/plot_benchmarks.py. --fuzz: clang 14 and its libFuzzer runtime for
# `make fuzz`. --tsa: clang 14 for `make tsa` (Clang's thread-safety analysis, which `make test`
# runs when clang++-14 is installed; CI installs it). None of them is needed to build or test
# Phenix.
for arg in "$@"; do
  case "$arg" in
    --bench) PACKAGES+=(python3-numpy libopenblas0-pthread python3-hnswlib python3-faiss lz4) ;;
    --peers) PACKAGES+=(python3-numpy python3-venv python3-pip) ;;
    --plots) PACKAGES+=(python3-matplotlib) ;;
    --fuzz) PACKAGES+=(clang-14 libclang-rt-14-dev) ;;
    --tsa) PACKAGES+=(clang-14) ;;
    *) echo "install-deps: unknown option $arg (--bench, --peers, --plots, --fuzz, --tsa)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing missing Debian packages: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they look absent or stale (older than a day).
lists=/var/lib/apt/lists
if [[ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]]; then
  $SUDO apt-get update -q
fi
# Packages with a daemon (prometheus) must not start one: the tests start their own. Where no
# policy-rc.d says otherwise (containers usually have one), a temporary one tells invoke-rc.d
# not to start services during this install.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# install-deps.sh: start no service while it installs packages\nexit 101\n' |
    $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  made_policy=1
  trap '$SUDO rm -f "$policy"' EXIT
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  # A package list that went stale in between is the usual cause; refresh once and retry.
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's prometheus package enables and starts a Prometheus server (port 9090), with systemd or
# its init script (unless a policy-rc.d forbids it, as above); Phenix needs only its binaries.
# Stop and disable the one this script just installed (never one installed before).
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  if [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/prometheus ]]; then
    $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi
if [[ -n "$made_policy" ]]; then
  $SUDO rm -f "$policy"
  trap - EXIT
fi
