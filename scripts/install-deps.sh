#!/usr/bin/env bash
# Installs the Debian packages p2ptracker needs to build, run and test.
# Idempotent: asks apt only for what is missing, so `make run` and `make test`
# can call it every time at no cost once the machine is set up.
set -euo pipefail

# Build: compiler toolchain and the libraries src/ links against.
build_pkgs=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-system-dev    # Asio (event loops) and Beast (HTTP)
  libhiredis-dev                      # Redis store
  libtorrent-rasterbar-dev            # .torrent parsing and creation
  nlohmann-json3-dev                  # admin API JSON
  libtomlplusplus-dev                 # config files
  libcli11-dev                        # command line
  libspdlog-dev libfmt-dev            # logging and formatting
  libc-ares-dev                       # the dns topology source (TXT records)
  dpkg-dev file                       # make deb: CPack finds library dependencies with them
)
# Tests: unit test framework, a real Redis, real BitTorrent clients, a real browser.
test_pkgs=(
  libgtest-dev libgmock-dev
  redis-server
  dnsmasq-base                        # a real DNS server for the dns topology source
  python3 python3-libtorrent
  chromium                            # headless browser for the dashboard test
  prometheus                          # promtool: /metrics checked by a real parser
  libbenchmark-dev                    # the docs' policy_bench commands, run as written
)

# Fuzzing (make fuzz, and briefly in make test): libFuzzer, ASan and UBSan come
# with clang's runtime libraries, which Debian 12 packages apart from clang.
fuzz_pkgs=(
  clang libclang-rt-14-dev
)

# Benchmarks (make bench): the tracker we compare against, an HTTP load
# generator, the fixed-body HTTP ceiling, a profiler, Google Benchmark.
bench_pkgs=(
  opentracker                         # Debian's build: whitelist mode
  wrk                                 # HTTP load, Lua-scripted requests
  nginx-light                         # the tiny-HTTP-responder ceiling
  linux-perf                          # profiles of a missed target
  libbenchmark-dev                    # bench/micro (Google Benchmark)
)

# Real-client deploy benchmark (make bench-deploy, bench/deploy/): the
# random-peers baseline tracker, libtorrent's Python bindings, the original's
# client (rtorrent), aria2c, transmission and qBittorrent for the mixed-clients deploy; tc and unshare for
# --uplink (run.py: shaped rack uplinks in a private network namespace; levels.py and
# tests/integration/test_levels_uplink.py: every level's uplink, a tree of namespaces).
deploy_pkgs=(
  opentracker python3 python3-libtorrent
  rtorrent
  aria2
  transmission-cli                    # not -daemon: no service started on install
  qbittorrent-nox                     # no service either: started per host, Web API
  iproute2 util-linux
)

# Fleet simulator plots (make simulate-plots, bench/simulate/plot.sh).
sim_pkgs=(
  gnuplot-nox                         # PNG plots in docs/ (pngcairo terminal)
)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    --fuzz) want+=("${fuzz_pkgs[@]}") ;;
    --bench) want+=("${bench_pkgs[@]}") ;;
    --deploy) want+=("${deploy_pkgs[@]}") ;;
    --sim) want+=("${sim_pkgs[@]}") ;;
    *) echo "install-deps: unknown option $arg (known: --test, --fuzz, --bench, --deploy, --sim)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The tests need only promtool; the prometheus daemon the package enables is
# not wanted on a build machine, so it is stopped and disabled again.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [[ -d /run/systemd/system ]]; then
  $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
