# p2ptracker: the two commands a new user needs, and a few more.
#   make run    install missing Debian packages, build, start on embedded defaults
#   make test   install missing packages (test ones too), build the tracker, fuzz each
#               libFuzzer target briefly (TEST_FUZZ_SECONDS each), then run every test
#               once: against the ASan + UBSan build (make test-asan), but for the three
#               the sanitizers only slow (RELEASE_TESTS), run against the release build
#   make test-asan  the unit and integration tests against an AddressSanitizer +
#               LeakSanitizer + UBSan build in build-asan; any report fails its test
#   make soak   minutes of mixed load on the real binary, RSS sampled (bench/soak/)
#   make install  build and install (PREFIX, default /usr/local; DESTDIR): the binary,
#               man pages, the systemd unit, a default config
#   make deb    build the Debian package (build/p2ptracker_<version>_<arch>.deb)
#   make fuzz   build the libFuzzer targets (clang, ASan + UBSan) and fuzz each one
#               for FUZZ_SECONDS (scripts/fuzz.sh --help)
#   make bench  install the benchmark packages, build, run bench/run.py against
#               opentracker and nginx (docs/performance.md); bench-quick: 1 rep of 3 s
#   make bench-deploy  real-client deploy benchmark (bench/deploy/run.py): rack uplink
#               amplification against opentracker, rtorrent + aria2c (docs/performance.md);
#               bench-deploy-uplink: the same with rack uplinks shaped by tc (needs root);
#               bench-cadence: each real client's announce cadence over 11 minutes;
#               bench-levels: a deploy in datacenters, rows and racks against opentracker;
#               bench-levels-uplink: the same with every level's uplink shaped by tc (root);
#               bench-concurrent: two deploys at once, repr_budget per_transfer and per_rack,
#               against opentracker (CONCURRENT_ARGS="--uplink": rack edges shaped, root)
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Extra arguments for `make run`, e.g. make run ARGS="--config etc/p2ptracker.toml"
ARGS ?=
# Extra arguments for bench/run.py, e.g. make bench BENCH_ARGS="--skip-memory"
BENCH_ARGS ?=
# Extra arguments for bench/deploy/run.py, e.g. make bench-deploy DEPLOY_ARGS="--runs 5"
DEPLOY_ARGS ?=
# Extra arguments for bench/deploy/cadence.py, e.g. CADENCE_ARGS="--before old/p2ptracker"
CADENCE_ARGS ?=
# Extra arguments for bench/deploy/levels.py, e.g. LEVELS_ARGS="--runs 3"
LEVELS_ARGS ?=
# Extra arguments for bench/deploy/concurrent.py, e.g. CONCURRENT_ARGS="--uplink --runs 2"
CONCURRENT_ARGS ?=
# The libFuzzer build (clang, instrumented core and wire only) and fuzzing time per
# target: a short run in every `make test`, a long one in `make fuzz`.
FUZZ_BUILD_DIR ?= build-fuzz
TEST_FUZZ_SECONDS ?= 10
FUZZ_SECONDS ?= 300
# The sanitizer build (g++, -fsanitize=address,undefined, every UB an abort; -Og: a
# quarter less compile time than -O1 (451 s against 604 s) for tests as fast, which
# wait on real clients more than on the tracker; -g1: the line tables a report's
# stack needs, a third less compile time than -g) and its
# test pass, where `make test` runs every test: the real-client deploy tests included,
# but RELEASE_TESTS: the shaped-levels deploy, which measures the kernel's shapers and
# drives the tracker as levels_deploy does (which the pass keeps); and docs_simulate
# and docs_simulator_commands, which run the docs' simulator commands and check their
# numbers (10,000-host fleets: minutes under the sanitizers, for code sim_test runs
# there). Those run against the release build, the binary `make run` and `make deb`
# ship. ASAN_EXCLUDE (a ctest -E regex) says what the pass leaves out. It builds no
# fuzz-corpus replays: scripts/fuzz.sh replays the same corpora under the same
# sanitizers before it fuzzes.
ASAN_BUILD_DIR ?= build-asan
RELEASE_TESTS = ^integration\.(levels_uplink|docs_simulate|docs_simulator_commands)$$
ASAN_EXCLUDE ?= $(RELEASE_TESTS)
# A report aborts the process (a failed test, a tracker the harness sees die or
# print it); leaks are checked at every exit.
ASAN_ENV = ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=print_suppressions=0
# Where to keep compiler output between builds, when ccache is installed.
CCACHE_LAUNCHER = $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# make soak's length and extra arguments (bench/soak/soak.py --help).
SOAK_SECONDS ?= 360
SOAK_ARGS ?=

.PHONY: all install deb deps test-deps fuzz-deps bench-deps configure build run test fuzz bench bench-quick \
	bench-build bench-configure clean format simulate-plots simulate-levels
.PHONY: deploy-deps bench-deploy bench-deploy-uplink bench-topology bench-topology-bulk bench-cadence bench-levels \
	bench-levels-uplink bench-concurrent test-asan asan-build soak

all: build

# Where `make install` puts things; DESTDIR (from the environment or the
# command line) stages them elsewhere, as for a package.
PREFIX ?= /usr/local

deps:
	@scripts/install-deps.sh

# The mixed-clients test runs rtorrent, aria2c and transmission: --deploy.
test-deps:
	@scripts/install-deps.sh --test --deploy

bench-deps:
	@scripts/install-deps.sh --bench

# RelWithDebInfo with line tables only (-g1): a backtrace still names file:line, the
# build takes less time (209 s against 228 s for what `make test` builds, on two
# cores), and the package is stripped either way.
$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DP2P_WERROR=ON

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/p2ptracker serve $(ARGS)

# Every test once, within 30 minutes on two cores. The sanitizer build runs the
# same tests and sees more (any memory error, leak or UB fails its test), so only
# RELEASE_TESTS run against the release build, and of it only the tracker and
# policy_bench (whose documented commands a test runs) are built here (`ninja -C
# build` builds the rest; `ctest` there runs every test without the sanitizers).
test: test-deps bench-configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker policy_bench
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS) -R '$(RELEASE_TESTS)'
	scripts/fuzz.sh --build-dir $(FUZZ_BUILD_DIR) --jobs $(JOBS) --seconds $(TEST_FUZZ_SECONDS)
	$(MAKE) --no-print-directory test-asan

$(ASAN_BUILD_DIR)/build.ninja:
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
		-DP2P_SANITIZE=ON -DP2P_BENCH=OFF -DP2P_WERROR=ON -DP2P_FUZZ_REPLAY=OFF $(CCACHE_LAUNCHER)

asan-build: $(ASAN_BUILD_DIR)/build.ninja
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

test-asan: test-deps asan-build
	cd $(ASAN_BUILD_DIR) && $(ASAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
		$(if $(ASAN_EXCLUDE),-E '$(ASAN_EXCLUDE)')

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

deb: build
	cd $(BUILD_DIR) && cpack -G DEB

fuzz-deps:
	@scripts/install-deps.sh --fuzz

# Prints each target's executions; crashing inputs land in $(FUZZ_BUILD_DIR)/artifacts/.
fuzz: fuzz-deps
	scripts/fuzz.sh --build-dir $(FUZZ_BUILD_DIR) --jobs $(JOBS) --seconds $(FUZZ_SECONDS)

# Configure again so a Google Benchmark installed since the last configure is
# found (bench/CMakeLists.txt builds policy_bench only when it is).
bench-configure: configure
	cmake -S . -B $(BUILD_DIR) -DP2P_BENCH=ON >/dev/null

bench-build: bench-deps bench-configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker udp_load policy_bench

bench: bench-build
	/usr/bin/python3 bench/run.py --build-dir $(BUILD_DIR) --command "make bench" $(BENCH_ARGS)

bench-quick: bench-build
	/usr/bin/python3 bench/run.py --build-dir $(BUILD_DIR) --reps 1 --duration 3 \
		--micro-min-time 0.05 --command "make bench-quick" $(BENCH_ARGS)

deploy-deps:
	@scripts/install-deps.sh --deploy

# Each topology lookup source's latency, uncached and cached (docs/topology.md).
bench-topology: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/topology/latency.py $(TOPOLOGY_ARGS)

# How long announces that wait for a lookup wait while a 200,000-address SMDB inventory is
# fetched and stored (bench/topology/bulk.py; docs/topology.md).
bench-topology-bulk: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/topology/bulk.py $(BULK_ARGS)

# Each real client's announce cadence over 11 minutes and what the tracker makes of it
# (bench/deploy/cadence.py); CADENCE_ARGS="--before OTHER_BINARY" compares another build.
bench-cadence: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/deploy/cadence.py $(CADENCE_ARGS)

# The deploy in levels (datacenter -> row -> rack): copies into each group, against
# opentracker (bench/deploy/levels.py); LEVELS_ARGS="--hosts 4 --runs 3".
bench-levels: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/deploy/levels.py $(LEVELS_ARGS)

# The same with every level's uplink real: a switch tree of network namespaces (rack, row,
# datacenter, core) whose links tc shapes both ways, bytes per uplink from the kernel's
# counters (bench/deploy/fabric.py; root, in a private namespace it creates and removes).
bench-levels-uplink: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/deploy/levels.py \
		--uplink $(LEVELS_ARGS)

# Two deploys at once through one tracker, repr_budget per_transfer and per_rack against
# opentracker: copies of one payload into each rack, the hosts that represented and pulled for
# it (bench/deploy/concurrent.py; docs/policy.md, "Concurrent deploys"). With
# CONCURRENT_ARGS="--uplink" every rack's edge is shaped by tc in a private network namespace
# and its bytes come from tc's counters (root).
bench-concurrent: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	P2PTRACKER_BIN=$(abspath $(BUILD_DIR))/p2ptracker /usr/bin/python3 bench/deploy/concurrent.py \
		--command "make bench-concurrent$(if $(CONCURRENT_ARGS), CONCURRENT_ARGS=\"$(CONCURRENT_ARGS)\")" \
		$(CONCURRENT_ARGS)

bench-deploy: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	/usr/bin/python3 bench/deploy/run.py --binary $(BUILD_DIR)/p2ptracker --mixed-clients \
		--command "make bench-deploy" $(DEPLOY_ARGS)

# The same with every rack's edge shaped by tc in a private network namespace (root).
bench-deploy-uplink: deploy-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	/usr/bin/python3 bench/deploy/run.py --binary $(BUILD_DIR)/p2ptracker --uplink \
		--command "make bench-deploy-uplink" $(DEPLOY_ARGS)

# The fleet simulator's plots and results table (docs/simulator.md): gnuplot
# PNGs in docs/, bench/simulate/results.{json,md}. SIZES/POLICIES/EXTRA pass
# through to bench/simulate/plot.sh.
simulate-plots: deps configure
	@scripts/install-deps.sh --sim
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	bench/simulate/plot.sh $(BUILD_DIR)/p2ptracker

simulate-levels: deps configure
	@scripts/install-deps.sh --sim
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker
	bench/simulate/levels.sh $(BUILD_DIR)/p2ptracker

# Sustained mixed load against build/p2ptracker, then a shorter run against the
# ASan/LSan build; RSS plot in docs/soak-rss.png (docs/performance.md, "Soak").
soak: build $(ASAN_BUILD_DIR)/build.ninja
	@scripts/install-deps.sh --sim
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target p2ptracker
	/usr/bin/python3 bench/soak/soak.py --binary $(BUILD_DIR)/p2ptracker --seconds $(SOAK_SECONDS) \
		--plot docs/soak-rss.png $(SOAK_ARGS)
	$(ASAN_ENV) /usr/bin/python3 bench/soak/soak.py --binary $(ASAN_BUILD_DIR)/p2ptracker \
		--seconds 120 --peers 2000 --no-rss-check $(SOAK_ARGS)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc')

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR) $(ASAN_BUILD_DIR)
