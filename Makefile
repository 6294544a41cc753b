# p2ptracker: the two commands a new user needs, and a few more.
#   make run    install missing Debian packages, build, start on embedded defaults
#   make test   install missing packages (test ones too), build, fuzz each libFuzzer
#               target briefly (TEST_FUZZ_SECONDS each), then run every test
#   make install  build and install (PREFIX, default /usr/local; DESTDIR): the binary,
#               man pages, the systemd unit, a default config
#   make deb    build the Debian package (build/p2ptracker_<version>_<arch>.deb)
#   make fuzz   build the libFuzzer targets (clang, ASan + UBSan) and fuzz each one
#               for FUZZ_SECONDS (scripts/fuzz.sh --help)
#   make bench  install the benchmark packages, build, run bench/run.py against
#               opentracker and nginx (docs/performance.md); bench-quick: 1 rep of 3 s
#   make bench-deploy  real-client deploy benchmark (bench/deploy/run.py): rack uplink
#               amplification against opentracker, rtorrent + aria2c (docs/performance.md);
#               bench-deploy-uplink: the same with rack uplinks shaped by tc (needs root)
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Extra arguments for `make run`, e.g. make run ARGS="--config etc/p2ptracker.toml"
ARGS ?=
# Extra arguments for bench/run.py, e.g. make bench BENCH_ARGS="--skip-memory"
BENCH_ARGS ?=
# Extra arguments for bench/deploy/run.py, e.g. make bench-deploy DEPLOY_ARGS="--runs 5"
DEPLOY_ARGS ?=
# The libFuzzer build (clang, instrumented core and wire only) and fuzzing time per
# target: a short run in every `make test`, a long one in `make fuzz`.
FUZZ_BUILD_DIR ?= build-fuzz
TEST_FUZZ_SECONDS ?= 10
FUZZ_SECONDS ?= 300

.PHONY: all install deb deps test-deps fuzz-deps bench-deps configure build run test fuzz bench bench-quick \
	bench-build clean format simulate-plots
.PHONY: deploy-deps bench-deploy bench-deploy-uplink

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

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DP2P_WERROR=ON

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/p2ptracker serve $(ARGS)

test: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	scripts/fuzz.sh --build-dir $(FUZZ_BUILD_DIR) --jobs $(JOBS) --seconds $(TEST_FUZZ_SECONDS)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

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
bench-build: bench-deps configure
	cmake -S . -B $(BUILD_DIR) -DP2P_BENCH=ON
	cmake --build $(BUILD_DIR) -j $(JOBS) --target p2ptracker udp_load policy_bench

bench: bench-build
	/usr/bin/python3 bench/run.py --build-dir $(BUILD_DIR) --command "make bench" $(BENCH_ARGS)

bench-quick: bench-build
	/usr/bin/python3 bench/run.py --build-dir $(BUILD_DIR) --reps 1 --duration 3 \
		--micro-min-time 0.05 --command "make bench-quick" $(BENCH_ARGS)

deploy-deps:
	@scripts/install-deps.sh --deploy

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

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc')

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR)
