# Thin wrapper over CMake. `make demo` and `make check` do all set-up on a fresh Debian 12 box.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build build-asan check test test-asan demo clean fixtures bench soak fuzz

all: build

deps:
	./scripts/install-deps
	@if [ ! -d tests/browser/node_modules/playwright-core ]; then \
	  echo "deps: installing browser-test tools from the npm registry (tests/browser)"; \
	  cd tests/browser && npm ci --no-audit --no-fund; fi

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DIOHEME_SANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)

# A test that hangs fails after TEST_TIMEOUT seconds instead of ctest's default 25 minutes, which
# alone would take CI past its limit (the slowest test takes under 2 minutes under ASan).
TEST_TIMEOUT ?= 300

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout $(TEST_TIMEOUT) -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure --timeout $(TEST_TIMEOUT) -j $(JOBS)

# The whole suite twice: normal build, then AddressSanitizer + UndefinedBehaviorSanitizer.
check: test test-asan

demo: build
	./scripts/demo $(BUILD)/ioheme

# Regenerates the R oracle fixtures under tests/fixtures/ (needs R; tests never do).
fixtures:
	./scripts/make-fixtures

bench: build
	./bench/run $(BUILD)

# kill -9 under write load, long version: SOAK_RUNS runs per mode (API server, CLI writers),
# each killed at a random moment within SOAK_MAX_MS; `make check` runs 2 short ones.
SOAK_RUNS   ?= 25
SOAK_MAX_MS ?= 4000
soak: build
	IOHEME=$(BUILD)/ioheme IOHEME_SRC=$(CURDIR) IOHEME_CRASH_RUNS=$(SOAK_RUNS) \
	  IOHEME_CRASH_MAX_MS=$(SOAK_MAX_MS) node tests/crash/kill9.mjs

# libFuzzer (clang, installed here only when asked for): FUZZ_SECONDS per target, on scratch
# copies of tests/fuzz/corpus/; findings in $(BUILD_FUZZ)/fuzz-artifacts/ (tests/fuzz/README.md).
BUILD_FUZZ   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= http import expr dict derive redcap_xml
fuzz: deps
	IOHEME_FUZZ=1 ./scripts/install-deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DIOHEME_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	./scripts/fuzz $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
