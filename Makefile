# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake + Ninja (in the spirit of DuckDB's Makefile). Every target that builds
# first runs scripts/install-deps.sh, which installs missing Debian packages and is silent otherwise.
#
#   make            release build (build/release)
#   make run        build, then start the server phenixd on ./phenix-data (HTTP=127.0.0.1:8080) in
#                   the foreground (^C stops it); it prints how to connect
#   make shell      build, then open the Phenix shell on ./phenix-data in this process (not while
#                   `make run` serves that directory); make shell URL=http://127.0.0.1:8080 opens
#                   it on the server instead
#   make server     the same as make run (kept for scripts that use it)
#   make test       build, then run every test (CTest), then `make tsa` when clang++-14 is installed
#   make tsa        Clang's thread-safety analysis (-Wthread-safety as errors) over the library
#                   modules: clang++-14 -fsyntax-only over src/ only, in build/tsa (no code is
#                   generated: cmake/syntax_only.sh; clang from install-deps.sh --tsa;
#                   src/common/thread_annotations.h)
#   make debug      debug build (build/debug)
#   make asan       ASan+UBSan build, run the tests (build/asan; debug info is line tables only,
#                   -g1: what sanitizer reports need for file:line)
#   make asan-unit  the same build dir, but builds only the binaries the unit tests run (target
#                   phenix_unit_test_binaries) and runs those (ctest -L unit); what CI runs
#   make tsan       TSan build, run the unit tests (build/tsan; builds phenix_unit_test_binaries)
#   make bench      build and run the micro benchmarks (JSON in build/release/bench-results.json)
#   make bench-vector KIT=/tmp/phenix-data/data/medium [METRIC=l2] [BENCH_FLAGS="--filtered --int8"]
#                   Phenix's HNSW against hnswlib and FAISS on a data-kit set, in the same run
#   make bench-graph KIT=/tmp/phenix-data/data/medium [METRIC=l2] [BENCH_FLAGS="--seeds 1000"]
#                   filters, metadata indexes, graph traversal and hybrid search on a data-kit set
#   make bench-ql KIT=/tmp/phenix-data/data/medium [METRIC=l2] [BENCH_FLAGS="--skip-load"]
#                   PhenixQL: planner overhead, hybrid MATCH queries, filtered-search strategies
#   make bench-server KIT=/tmp/phenix-data/data/medium [METRIC=l2] [BENCH_FLAGS="--seconds 10 --rounds 2"]
#                   phenixd under load (bench/server/): point reads, search with a recall check, a
#                   90/10 search/upsert mix over 64 connections, single-connection latency, against
#                   the embedded Database::Get/Search in the same run (loaded DB cached in build/)
#   make bench-real [REAL_DATA=/tmp/phenix-data/data/debian] [BENCH_FLAGS="--phases load,knn"]
#                   the Debian package catalog (bench/real/): build the data set from apt's lists,
#                   then a new user's session through the shell beside hnswlib
#   make bench-peers KIT=/tmp/phenix-data/data/medium [METRIC=l2] [PEERS=kuzu,lancedb,chroma,milvus-lite]
#                   [PEERS_FLAGS="--timeout 3600"]  Phenix beside Kuzu, LanceDB, Chroma and Milvus Lite
#                   (each in its own pinned venv under build/peers-venv), in the same run
#   make bench-plots  the SVG charts in docs/benchmarks/ from the saved lines in docs/benchmarks/data/
#   make crash-test CRASH_ITERATIONS=500   the kill -9 loops (autocommit batches, transactions, COPY)
#   make fuzz [FUZZ_SECONDS=300]   libFuzzer (clang++-14, ASan+UBSan) on the PhenixQL parser, the
#                   JSON query form, the JWT verifier (tests/fuzz/jwt_fuzz.cc), whole statements
#                   against a live database and phenixd's HTTP request path
#                   (tests/fuzz/http_fuzz.cc), one after the other, from tests/fuzz/corpus
#                   (build/fuzz; clang from install-deps.sh --fuzz)
#   make format / format-check / tidy / clean

.DEFAULT_GOAL := release
SHELL := /bin/bash

JOBS ?= $(shell nproc)
DATA ?= ./phenix-data
HTTP ?= 127.0.0.1:8080
CRASH_ITERATIONS ?= 100
CMAKE_COMMON := -G Ninja -DPHENIX_WERROR=$(if $(CI),ON,OFF)
CTEST_FLAGS := --output-on-failure -j $(JOBS) --timeout 600

.PHONY: release debug run shell server test tsa asan tsan asan-unit bench bench-vector bench-graph bench-ql bench-server bench-real bench-peers bench-plots crash-test fuzz deps format format-check tidy clean

deps:
	@bash scripts/install-deps.sh

# configure(build dir, extra cmake args)
define configure
	@if [ ! -f $(1)/build.ninja ]; then cmake -S . -B $(1) $(CMAKE_COMMON) $(2); fi
endef

release: deps
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS)

debug: deps
	$(call configure,build/debug,-DCMAKE_BUILD_TYPE=Debug)
	@cmake --build build/debug -j $(JOBS)

# Builds only the server and the shell (not the tests and benchmarks) so the first `make run` is
# quick; the shell too, since what it prints tells how to connect with it.
run: deps
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS) --target phenixd phenix_shell
	@echo "phenixd: serving $(DATA) on http://$(HTTP) (^C stops it). From another terminal:"
	@echo "  the shell:  make shell URL=http://$(HTTP)"
	@echo "              (or build/release/tools/phenix/phenix --url http://$(HTTP))"
	@echo "  curl:       curl -s http://$(HTTP)/v1/query -H 'Content-Type: application/json' \\"
	@echo "                -d '{\"query\": \"SHOW COLLECTIONS;\"}'"
	@echo "              (streamed rows: add -H 'Accept: application/x-ndjson')"
	@echo "  the API:    docs/server.md, http://$(HTTP)/openapi.json"
	@exec build/release/tools/phenixd/phenixd --data $(DATA) --http $(HTTP)

server: run

# The shell on $(DATA) in this process (it takes the directory's lock: not while `make run`
# serves it), or with URL=http://HOST:PORT on that server.
URL ?=
shell: deps
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS) --target phenix_shell
	@exec build/release/tools/phenix/phenix $(if $(URL),--url $(URL),--data $(DATA))

test: release
	@cd build/release && ctest $(CTEST_FLAGS)
	@if command -v $(TSA_CXX) >/dev/null 2>&1; then $(MAKE) --no-print-directory tsa; \
	 else echo "make test: $(TSA_CXX) is not installed, so the thread-safety analysis did not run" \
	   "(scripts/install-deps.sh --tsa, then make tsa)"; fi

# Library modules only (no tests, tools or benchmarks). The analysis runs in Clang's front end
# (Sema), so build/tsa compiles with -fsyntax-only (-DPHENIX_SYNTAX_ONLY=ON, cmake/syntax_only.sh):
# the same diagnostics as a -O0 build for about 60% of its CPU time (docs/decisions/0026-ci-time.md);
# Ninja keeps it incremental (ccache cannot cache a syntax-only run). A build/tsa configured before
# this keeps its -O0 build; rm -rf build/tsa to switch.
TSA_CXX ?= clang++-14
tsa: deps
	$(call configure,build/tsa,-DCMAKE_CXX_COMPILER=$(TSA_CXX) -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 \
	  -DPHENIX_WERROR=OFF -DPHENIX_BUILD_TESTS=OFF -DPHENIX_BUILD_TOOLS=OFF -DPHENIX_BUILD_BENCH=OFF \
	  -DPHENIX_SYNTAX_ONLY=ON)
	@cmake --build build/tsa -j $(JOBS)

# build/asan: Debug with line tables only (-g1): ASan/UBSan reports still name function, file and
# line, and objects are several times smaller than with -g (faster to write and to link).
ASAN_CONFIG := -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DPHENIX_SANITIZE=address \
  -DPHENIX_BUILD_BENCH=OFF
asan: deps
	$(call configure,build/asan,$(ASAN_CONFIG))
	@cmake --build build/asan -j $(JOBS)
	@cd build/asan && ctest $(CTEST_FLAGS)

# The sanitizer run CI can afford: unit tests only (label "unit"), and only the binaries they run
# (tests/CMakeLists.txt: phenix_unit_test_binaries), not the tools, integration tests or examples.
asan-unit: deps
	$(call configure,build/asan,$(ASAN_CONFIG))
	@cmake --build build/asan -j $(JOBS) --target phenix_unit_test_binaries
	@cd build/asan && ctest $(CTEST_FLAGS) -L unit

tsan: deps
	$(call configure,build/tsan,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHENIX_SANITIZE=thread -DPHENIX_BUILD_BENCH=OFF)
	@cmake --build build/tsan -j $(JOBS) --target phenix_unit_test_binaries
	@cd build/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" ctest $(CTEST_FLAGS) -L unit

KIT ?= /tmp/phenix-data/data/medium
METRIC ?= l2
BENCH_FLAGS ?=
bench-vector: release
	@bash scripts/install-deps.sh --bench
	@/usr/bin/python3 bench/compare_vectors.py --data $(KIT) --metric $(METRIC) \
	  --bench build/release/bench/phenix_vector_bench --threads $(JOBS) $(BENCH_FLAGS) \
	  --out build/release/vector-bench-$(notdir $(KIT))-$(METRIC).jsonl --markdown build/release/vector-bench-$(notdir $(KIT))-$(METRIC).md

bench-graph: release
	@set -o pipefail; build/release/bench/phenix_graph_bench --data $(KIT) --metric $(METRIC) \
	  --db build/release/graph-bench-db $(BENCH_FLAGS) \
	  | tee build/release/graph-bench-$(notdir $(KIT))-$(METRIC).jsonl

bench-ql: release
	@set -o pipefail; build/release/bench/phenix_ql_bench --data $(KIT) --metric $(METRIC) \
	  --db build/release/ql-bench-db $(BENCH_FLAGS) \
	  | tee build/release/ql-bench-$(notdir $(KIT))-$(METRIC).jsonl

# Builds only phenixd and the driver; the loaded database is reused while the kit is unchanged.
bench-server: deps
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS) --target phenixd phenix_server_bench
	@set -o pipefail; build/release/bench/phenix_server_bench --data $(KIT) --metric $(METRIC) \
	  --db build/release/server-bench-db-$(notdir $(KIT))-$(METRIC) $(BENCH_FLAGS) \
	  | tee build/release/server-bench-$(notdir $(KIT))-$(METRIC).jsonl

REAL_DATA ?= /tmp/phenix-data/data/debian
bench-real: deps
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS) --target phenix_shell
	@bash scripts/install-deps.sh --bench
	@/usr/bin/python3 bench/real/debian_catalog.py --out $(REAL_DATA) --reuse
	@/usr/bin/python3 bench/real/scenario.py --data $(REAL_DATA) \
	  --shell build/release/tools/phenix/phenix --db build/release/real-bench-db $(BENCH_FLAGS) \
	  --out build/release/real-bench-debian.jsonl --markdown build/release/real-bench-debian.md
# Builds only the three drivers it runs. A peer that fails to install or crashes is reported and
# the others go on (bench/peers/run_peers.py); the lines and the Markdown land in build/.
PEERS ?= kuzu,lancedb,chroma,milvus-lite
PEERS_FLAGS ?=
bench-peers: deps
	@bash scripts/install-deps.sh --peers
	$(call configure,build/release,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build/release -j $(JOBS) --target phenix_copy_bench phenix_vector_engine_bench phenix_ql_bench
	@/usr/bin/python3 bench/peers/run_peers.py --data $(KIT) --metric $(METRIC) --peers $(PEERS) \
	  $(PEERS_FLAGS) --out build/peers-$(notdir $(KIT))-$(METRIC).jsonl \
	  --markdown build/peers-$(notdir $(KIT))-$(METRIC).md

bench-plots:
	@bash scripts/install-deps.sh --plots
	@/usr/bin/python3 bench/plot_benchmarks.py docs/benchmarks/data/*.jsonl --out docs/benchmarks

bench: release
	@build/release/bench/phenix_ingest_bench --benchmark_out=build/release/bench-results.json \
	  --benchmark_out_format=json

crash-test: release
	@build/release/tests/integration/phenix_kill9_test --iterations=$(CRASH_ITERATIONS)
	@build/release/tests/crash/phenix_crash_test --iterations=$(CRASH_ITERATIONS)
	@build/release/tests/crash/phenix_copy_crash_test --iterations=$(CRASH_ITERATIONS)

# libFuzzer targets: each runs FUZZ_SECONDS on one job (new inputs go to build/fuzz/corpus-*, the
# checked-in seeds stay as they are; crashes are written to build/fuzz/crash-*).
FUZZ_SECONDS ?= 300
FUZZ_CXX ?= clang++-14
FUZZ_FLAGS := -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
FUZZ_PARSER_SOURCES := src/query/lexer.cc src/query/parser.cc src/query/printer.cc src/common/status.cc \
                       src/common/utf8.cc
FUZZ_JSON_SOURCES := $(FUZZ_PARSER_SOURCES) src/query/json_query.cc src/document/json_path.cc \
                     src/document/value_key.cc
FUZZ_JWT_SOURCES := src/security/jose.cc src/security/jwks.cc src/security/jwt.cc \
                    src/security/principal.cc src/common/status.cc
fuzz:
	@bash scripts/install-deps.sh --fuzz
	@mkdir -p build/fuzz/corpus-parser build/fuzz/corpus-json_query build/fuzz/corpus-statement \
	  build/fuzz/corpus-jwt
	$(FUZZ_CXX) $(FUZZ_FLAGS) tests/fuzz/parser_fuzz.cc $(FUZZ_PARSER_SOURCES) -o build/fuzz/parser_fuzz
	$(FUZZ_CXX) $(FUZZ_FLAGS) tests/fuzz/json_query_fuzz.cc $(FUZZ_JSON_SOURCES) -o build/fuzz/json_query_fuzz
	$(FUZZ_CXX) $(FUZZ_FLAGS) -Itests tests/fuzz/jwt_fuzz.cc $(FUZZ_JWT_SOURCES) -lcrypto -o build/fuzz/jwt_fuzz
	build/fuzz/parser_fuzz -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/phenixql.dict \
	  -artifact_prefix=build/fuzz/crash-parser- build/fuzz/corpus-parser tests/fuzz/corpus/parser
	build/fuzz/json_query_fuzz -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/json_query.dict \
	  -artifact_prefix=build/fuzz/crash-json_query- build/fuzz/corpus-json_query tests/fuzz/corpus/json_query
	build/fuzz/jwt_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -artifact_prefix=build/fuzz/crash-jwt- build/fuzz/corpus-jwt tests/fuzz/corpus/jwt
	cmake -S . -B build/fuzz/cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DCMAKE_C_COMPILER=$(subst clang++,clang,$(FUZZ_CXX)) \
	  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DPHENIX_SANITIZE=address -DPHENIX_LIBFUZZER=ON \
	  -DPHENIX_BUILD_BENCH=OFF -DPHENIX_BUILD_TOOLS=OFF
	ninja -C build/fuzz/cmake phenix_statement_fuzz phenix_http_fuzz
	# detect_leaks=0: HNSW nodes keep their upper layers' pointers in mmap'd memory, which
	# LeakSanitizer does not scan, so a live index reads as leaked.
	build/fuzz/cmake/tests/fuzz/phenix_statement_fuzz -max_total_time=$(FUZZ_SECONDS) -detect_leaks=0 \
	  -max_len=8192 -timeout=30 -dict=tests/fuzz/phenixql.dict \
	  -artifact_prefix=build/fuzz/crash-statement- build/fuzz/corpus-statement tests/fuzz/corpus/statement
	@mkdir -p build/fuzz/corpus-http
	build/fuzz/cmake/tests/fuzz/phenix_http_fuzz -max_total_time=$(FUZZ_SECONDS) -detect_leaks=0 \
	  -max_len=8192 -timeout=30 -dict=tests/fuzz/json_query.dict \
	  -artifact_prefix=build/fuzz/crash-http- build/fuzz/corpus-http tests/fuzz/corpus/http

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	@git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror

tidy: release
	@git ls-files 'src/*.cc' | xargs clang-tidy -p build/release --quiet

clean:
	rm -rf build
