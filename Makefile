# gpuledger: `make demo` runs the main job, `make test` the whole suite. Both install
# the Debian packages they need first (scripts/install-deps.sh, once per build tree).
BUILD   ?= build
JOBS    ?= $(shell nproc)
SUDO    := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
CMAKE_FLAGS ?=

.PHONY: all deps build release demo test test-dev test-asan test-tsan tidy-changed fuzz-replay bench bench-ingest bench-agent lint fuzz clean

all: build

$(BUILD)/.deps: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	$(SUDO) ./scripts/install-deps.sh
	@touch $@

deps: $(BUILD)/.deps

# dev: optimised with debug info, tests and benchmarks.
$(BUILD)/dev/build.ninja: $(BUILD)/.deps CMakeLists.txt
	cmake -S . -B $(BUILD)/dev -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/dev/build.ninja
	cmake --build $(BUILD)/dev -j $(JOBS)

$(BUILD)/release/build.ninja: $(BUILD)/.deps CMakeLists.txt
	cmake -S . -B $(BUILD)/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPULEDGER_BUILD_TESTS=OFF -DGPULEDGER_BUILD_BENCH=OFF

release: $(BUILD)/release/build.ninja
	cmake --build $(BUILD)/release -j $(JOBS) --target gpuledger

# On a terminal (and not under CI) the demo then serves the dashboard with the live
# simulation streaming in; elsewhere it exits after the reports.
demo: release
	$(BUILD)/release/gpuledger demo --db $(BUILD)/demo.db $$( [ -t 1 ] && [ -z "$$CI" ] && echo --serve --live )

# asan: every test, the dashboard's browser test included, under ASan + UBSan. Line
# tables only (-g1): sanitizer reports still name file and line, and a fresh build is
# about a sixth faster than with full debug info.
$(BUILD)/asan/build.ninja: $(BUILD)/.deps CMakeLists.txt
	cmake -S . -B $(BUILD)/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
	  -DGPULEDGER_SANITIZE=ON -DGPULEDGER_BUILD_BENCH=OFF

# Both suites run with a throwaway PostgreSQL cluster (scripts/with-pg.sh) so the Ledger
# contract suite covers both backends.
test-dev: build
	./scripts/with-pg.sh bash -o pipefail -c 'cd $(BUILD)/dev && ctest --output-on-failure -j $(JOBS) | tee ctest.log'

test-asan: $(BUILD)/asan/build.ninja
	cmake --build $(BUILD)/asan -j $(JOBS)
	./scripts/with-pg.sh bash -o pipefail -c 'cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) | tee ctest.log'

# The threaded parts (server, ingest journal, HTTP/TLS front, agent queue and shipper)
# under ThreadSanitizer, built by clang, which also checks the lock annotations
# (common/mutex.h, -Wthread-safety as errors).
$(BUILD)/tsan/build.ninja: $(BUILD)/.deps CMakeLists.txt
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
	  -DGPULEDGER_TSAN=ON -DGPULEDGER_BUILD_BENCH=OFF -DGPULEDGER_WEB=OFF

TSAN_TESTS ?= Server|Journal|HttpFront|Tls|Shipper|DiskQueue|BooksCache|AccessLog|TokenCache|PostgresPool|DroppedConnection|Reachability|SimulatedClock
test-tsan: $(BUILD)/tsan/build.ninja
	cmake --build $(BUILD)/tsan -j $(JOBS) --target unit_tests integration_tests gpuledger
	./scripts/with-pg.sh bash -o pipefail -c 'cd $(BUILD)/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -R "$(TSAN_TESTS)" | tee ctest.log'

# The whole suite under ASan + UBSan, then the threaded parts under TSan: two builds, not
# three (the dev tree's suite is `make test-dev`, the same tests unsanitised). A failing
# suite stops make (pipefail); the summary prints only when all passed.
test: test-asan test-tsan
	@echo "== gpuledger test summary =="
	@printf 'asan+ubsan (Debug, every test): '; grep -E 'tests passed|tests failed' $(BUILD)/asan/ctest.log
	@printf 'tsan (clang, threaded parts): '; grep -E 'tests passed|tests failed' $(BUILD)/tsan/ctest.log

bench: build
	$(BUILD)/dev/bench/gpuledger_bench --benchmark_min_time=0.5

# Remote-write ingest side by side with Debian's VictoriaMetrics and Prometheus, and the
# node agent's CPU and memory (docs/PERFORMANCE.md). Keep the machine otherwise idle.
bench-ingest: build release
	bench/ingest_compare.sh

bench-agent: build release
	bench/agent_overhead.sh

# clang-format must be clean (fails otherwise); clang-tidy's findings are listed.
lint: build
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')
	run-clang-tidy -quiet -p $(BUILD)/dev $$(git ls-files 'src/*.cc' | grep -v _test.cc) 2>/dev/null | grep -E '(warning|error):' | sort | uniq -c | sort -rn | head -40

$(BUILD)/fuzz/build.ninja: $(BUILD)/.deps CMakeLists.txt
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPULEDGER_FUZZ=ON -DGPULEDGER_BUILD_TESTS=OFF -DGPULEDGER_BUILD_BENCH=OFF -DGPULEDGER_WEB=OFF

# Each libFuzzer target over its corpus once (clang, ASan + UBSan): what CI replays.
fuzz-replay: $(BUILD)/fuzz/build.ninja
	cmake --build $(BUILD)/fuzz -j $(JOBS)
	fail=""; for t in $(BUILD)/fuzz/fuzz/fuzz_*; do \
	  $$t -runs=0 fuzz/corpus/$$(basename $$t | sed 's/^fuzz_//') > $(BUILD)/fuzz/$$(basename $$t).replay.log 2>&1 \
	    || fail="$$fail $$(basename $$t)"; done; \
	if [ -n "$$fail" ]; then echo "fuzz-replay: failures in$$fail (logs under $(BUILD)/fuzz/)"; exit 1; fi; \
	echo "fuzz-replay: $$(ls $(BUILD)/fuzz/fuzz/fuzz_* | wc -l) targets replayed their corpora clean"

# clang-tidy, the project's checks as errors, on the sources changed since TIDY_BASE
# (.ci/tidy-base: the last commit whose changed sources were all checked clean; moved
# forward only after such a check, so CI reads what changed since).
# It reads the asan tree's compile commands (the tree `make test` builds).
tidy-changed: $(BUILD)/asan/build.ninja
	./scripts/tidy-changed.sh $(BUILD)/asan $$(cat .ci/tidy-base)

# Runs each libFuzzer target for FUZZ_SECONDS (default 30).
fuzz: $(BUILD)/fuzz/build.ninja
	cmake --build $(BUILD)/fuzz -j $(JOBS)
	fail=""; for t in $(BUILD)/fuzz/fuzz/fuzz_*; do mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$t); \
	  $$t -max_total_time=$${FUZZ_SECONDS:-30} -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus/$$(basename $$t) \
	    fuzz/corpus/$$(basename $$t | sed 's/^fuzz_//') || fail="$$fail $$(basename $$t)"; done; \
	if [ -n "$$fail" ]; then echo "fuzz: crashes in$$fail (inputs under $(BUILD)/fuzz/)"; exit 1; fi

clean:
	rm -rf $(BUILD)
