# A thin front over CMake.  `make run` builds and starts errand; `make test`
# runs the whole suite twice: a normal build and one under ASan + UBSan.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all run test test-fast bench deps build build-asan clean install

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
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	@$(MAKE) --no-print-directory build-asan
	cd $(ASAN_BUILD) && ctest $(CTEST_FLAGS)

# The normal build only, for quick iterations.
test-fast: build
	cd $(BUILD) && ctest $(CTEST_FLAGS)

bench: build
	bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
