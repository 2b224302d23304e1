# A thin front over CMake.  `make run` builds and starts errand; `make test`
# runs the whole suite twice: a normal build and one under ASan + UBSan;
# `make fuzz` runs every libFuzzer target for FUZZ_SECONDS (tests/fuzz/README.md).
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all run test test-fast bench soak deps deploy-deps build build-asan build-fuzz fuzz clean install

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/errand $(ARGS)

build-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DERRAND_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory deploy-deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	@$(MAKE) --no-print-directory build-asan
	cd $(ASAN_BUILD) && ctest $(CTEST_FLAGS)

# The npm packages of the `deploy` test (deploy/tests/check.mjs), from the
# committed lockfile; again only when the lockfile changes.
DEPLOY_MODULES = deploy/tests/node_modules/.package-lock.json
deploy-deps: $(DEPLOY_MODULES)
$(DEPLOY_MODULES): deploy/tests/package.json deploy/tests/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the deploy checks: apt-get install nodejs npm" >&2; exit 1; }
	cd deploy/tests && npm ci --no-audit --no-fund --loglevel=error

# The normal build only, for quick iterations.
test-fast: build deploy-deps
	cd $(BUILD) && ctest $(CTEST_FLAGS)

build-fuzz:
	@scripts/deps.sh fuzz
	@CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERRAND_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

# One target after the other (the machine is shared).  New inputs go to
# $(FUZZ_BUILD)/corpus/<name>, crashes to $(FUZZ_BUILD)/artifacts/<name>/;
# the seeds in tests/fuzz/corpus/<name> are only read.
fuzz: build-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t || exit 1; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/tests/fuzz/fuzz_$${t}_libfuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ $(FUZZ_ARGS) \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

bench: build
	bench/run.sh $(BUILD)

# Long fault-injection runs in networked mode (bench/soak/*.sh, one scenario a
# script; lib_*.sh are their shared set-up): figures printed, not tests.  Each
# starts its own throwaway servers unless DATABASE_URL, RABBITMQ_URL and
# REDIS_URL are set.
soak: build
	@for s in bench/soak/*.sh; do \
	  case "$${s##*/}" in lib_*) continue ;; esac; \
	  echo "== $$s"; $$s $(BUILD) || exit 1; \
	done

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
