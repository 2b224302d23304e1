# A thin front over CMake.  `make run` builds and starts errand; `make test`
# runs the whole suite twice: a normal build and one under ASan + UBSan, both
# with -Werror, after a warnings-only Release build with clang;
# `make fuzz` runs every libFuzzer target for FUZZ_SECONDS (tests/fuzz/README.md);
# `make soak` the crash soaks (bench/soak/); `make valgrind` memcheck over the
# unit tests; `make matrix` every build type with gcc and clang, -Werror.
BUILD ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
VALGRIND_BUILD ?= build-valgrind
FUZZ_BUILD ?= build-fuzz
# -Werror only where the code's own warnings are to be caught (make test, CI):
# a user's or packager's newer compiler must not stop their build.
WERROR ?= OFF
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Most tests wait on servers, browsers and fake clocks, not the CPU (a run at
# -j2 kept the load average near 3 on 2 cores): two tests per core.
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))
CTEST_FLAGS ?= --output-on-failure -j$(TEST_JOBS)

.PHONY: format all run test test-fast bench deps deploy-deps mcp-deps web build build-asan build-clang build-fuzz fuzz \
        clean install soak valgrind matrix fuzz-soak

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERRAND_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The web interface is optional for the terminal: without Node.js 20.19+ the
# build says so and errand still starts.
run: build
	-@$(MAKE) --no-print-directory web || echo "errand: the web interface (errand serve's /) is not built: it needs Node.js 20.19+ with npm; the terminal interface does not" >&2
	ERRAND_WEB_ROOT=$${ERRAND_WEB_ROOT:-$(CURDIR)/web/dist} ./$(BUILD)/errand $(ARGS)

build-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DERRAND_SANITIZE=ON \
	  -DERRAND_WERROR=$(WERROR) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# Release with clang, built only: a warning that only the other compiler or
# the optimiser sees (gcc -O2's maybe-uninitialized…) is caught here.
build-clang:
	@CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Release -DERRAND_WERROR=ON >/dev/null
	@cmake --build $(CLANG_BUILD) -j$(JOBS)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory deploy-deps
	@$(MAKE) --no-print-directory mcp-deps
	@$(MAKE) --no-print-directory web
	@$(MAKE) --no-print-directory build-clang
	@$(MAKE) --no-print-directory build WERROR=ON
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	@$(MAKE) --no-print-directory build-asan WERROR=ON
	cd $(ASAN_BUILD) && ctest $(CTEST_FLAGS)

# Rewrites the C sources as .clang-format says (the `format` test checks it).
format:
	@command -v clang-format >/dev/null || { echo "clang-format is needed: apt-get install clang-format" >&2; exit 1; }
	git ls-files '*.c' '*.h' | grep -v -e '^web/' -e 'node_modules/' | xargs clang-format -i

# The npm packages of the `deploy` test (deploy/tests/check.mjs), from the
# committed lockfile; again only when the lockfile changes.
DEPLOY_MODULES = deploy/tests/node_modules/.package-lock.json
deploy-deps: $(DEPLOY_MODULES)
$(DEPLOY_MODULES): deploy/tests/package.json deploy/tests/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the deploy checks: apt-get install nodejs npm" >&2; exit 1; }
	cd deploy/tests && npm ci --no-audit --no-fund --loglevel=error

# The reference MCP server and SDK client of the MCP tests (tests/mcp), from
# the committed lockfile: e2e.mcp_reference and e2e.mcp_http run them.
MCP_MODULES = tests/mcp/node_modules/.package-lock.json
mcp-deps: $(MCP_MODULES)
$(MCP_MODULES): tests/mcp/package.json tests/mcp/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the MCP tests: apt-get install nodejs npm" >&2; exit 1; }
	cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error

# The web interface (web/, served by errand serve at /): its npm packages
# from the committed lockfile (npm ci), then the build into web/dist, each
# only when its inputs change.  Vite 7 needs Node.js 20.19 or newer.
WEB_MODULES = web/node_modules/.package-lock.json
WEB_DIST = web/dist/index.html
WEB_INPUTS = $(shell find web/src web/public web/scripts -type f 2>/dev/null) \
             web/index.html web/vite.config.ts web/tsconfig.json
web: $(WEB_DIST)
$(WEB_MODULES): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the web interface: Node.js 20.19+ with npm" >&2; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' || \
	  { echo "the web interface needs Node.js 20.19 or newer (found $$(node --version))" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
$(WEB_DIST): $(WEB_MODULES) $(WEB_INPUTS)
	cd web && npm run --silent build

# Every build type with gcc and clang, -Werror, in build-matrix/<cc>-<type>
# (scripts/build_matrix.sh; builds only).
matrix:
	@scripts/deps.sh test
	scripts/build_matrix.sh

# The crash soaks (bench/soak/run.sh, README "Robustness"); long: not in make test.
# SOAK="kill_worker" picks scenarios.
SOAK ?=
soak: build
	bench/soak/run.sh $(BUILD) $(SOAK)

# memcheck over every unit test (scripts/valgrind.sh): 0 errors, 0 definite leaks.
valgrind:
	@scripts/deps.sh valgrind
	@cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(VALGRIND_BUILD) -j$(JOBS)
	scripts/valgrind.sh $(VALGRIND_BUILD)

# The normal build only, for quick iterations.
test-fast: build deploy-deps mcp-deps web
	cd $(BUILD) && ctest $(CTEST_FLAGS)

build-fuzz:
	@scripts/deps.sh fuzz
	@CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERRAND_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

# One target after the other, nice'd (the machine is shared).  New inputs go
# to $(FUZZ_BUILD)/corpus/<name>, crashes to $(FUZZ_BUILD)/artifacts/<name>/,
# each run's output to $(FUZZ_BUILD)/logs/<name>.log; the seeds in
# tests/fuzz/corpus/<name> are only read.  FUZZ_RUNS=N stops each target after
# N executions (FUZZ_SECONDS=0: no time limit); the last line of each run says
# how many it made.
FUZZ_RUNS ?=
fuzz: build-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t $(FUZZ_BUILD)/logs || exit 1; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s$(if $(FUZZ_RUNS), or $(FUZZ_RUNS) runs)"; \
	  nice -n 15 $(FUZZ_BUILD)/tests/fuzz/fuzz_$${t}_libfuzzer -max_total_time=$(FUZZ_SECONDS) \
	    $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ $(FUZZ_ARGS) \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/logs/$$t.log 2>&1; \
	  rc=$$?; grep -E '^(Done|stat::number_of_executed_units)' $(FUZZ_BUILD)/logs/$$t.log | tail -1; \
	  if [ $$rc -ne 0 ]; then tail -30 $(FUZZ_BUILD)/logs/$$t.log; exit 1; fi; \
	done

# The soak length: 10 million executions of every target (tests/fuzz/README.md
# has the time each takes here).
fuzz-soak:
	@$(MAKE) --no-print-directory fuzz FUZZ_RUNS=10000000 FUZZ_SECONDS=0

bench: build
	@scripts/deps.sh bench
	bench/run.sh $(BUILD)

install: build web
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(VALGRIND_BUILD) $(FUZZ_BUILD) build-matrix
