# The commands users type. CMake does the building; output goes to build/.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure

.PHONY: all build configure check demo bench fuzz install clean deps

all: build

configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ] || [ -n "$(CMAKE_FLAGS)" ]; then \
	    cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null; fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	scripts/deps check

check:
	scripts/deps check
	$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS)

demo:
	scripts/deps demo
	$(MAKE) --no-print-directory build
	scripts/demo $(BUILD)

# make bench [BENCH_ARGS="--quick --only sftp,cat"]: bench/run.py against
# OpenSSH, libssh2, libssh, Paramiko, AsyncSSH (bench/run.py --help);
# make bench BENCH="packet transport": only those in-process benchmarks.
bench:
	scripts/deps bench
	$(MAKE) --no-print-directory build
	$(if $(BENCH),$(BUILD)/bench/amiko-bench $(BENCH),/usr/bin/python3 bench/run.py --build $(BUILD) $(BENCH_ARGS))

# make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="buf namelist"]
FUZZ_SECONDS ?= 60
fuzz:
	scripts/deps fuzz
	scripts/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) build-asan build-fuzz
