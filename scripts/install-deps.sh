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
)
# Tests: unit test framework, a real Redis, real BitTorrent clients.
test_pkgs=(
  libgtest-dev libgmock-dev
  redis-server
  python3 python3-libtorrent
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
fi

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
