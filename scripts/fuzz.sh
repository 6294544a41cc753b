#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang, ASan + UBSan) in their own
# build directory, replays each seed corpus, then fuzzes each target for a fixed
# time; fails on any crash, leak, UB, timeout or out-of-memory.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/fuzz.sh [options] [target...]

Builds <target>_libfuzzer for each target (default: every one in
tests/fuzz/CMakeLists.txt) with clang, -fsanitize=fuzzer,address,undefined and
-fno-sanitize-recover=all, configured with -DP2P_FUZZ_ONLY=ON so only what
the targets reach (src/core, src/wire, src/config, src/topology,
src/admin/torrent_file.cc, src/admin/data_files.cc, src/storage/key_model.cc,
for admin_api the admin API's handlers, src/swarm and the router, for
cli_views three files of src/cli) and tests/fuzz are compiled. Then, --jobs
targets at a time (each libFuzzer process is single-threaded):
  1. replays every file of tests/fuzz/corpus/<target>/ once;
  2. fuzzes for --seconds, starting from the seed corpus and the inputs earlier
     runs found (kept in <build-dir>/corpus/<target>/, never in the source tree).
Prints the executions of each target and exits non-zero if any target failed.
A crashing input is saved as <build-dir>/artifacts/<target>/crash-<sha1>: fix
the bug, add the input to tests/fuzz/corpus/<target>/ and a regression test
named for its issue.

Options:
  --seconds N        fuzzing time per target (default 10; 0: replay only)
  --build-dir DIR    build directory (default build-fuzz)
  --rss-limit-mb N   libFuzzer's memory limit per target (default 2048)
  --timeout N        seconds one input may take before it counts as a hang (default 10)
  --jobs N           parallel compile jobs, and targets fuzzed at once (default: nproc)
  -h, --help         this text

Needs clang and libclang-rt-14-dev (scripts/install-deps.sh --fuzz).
`make test` runs this with --seconds 10, `make fuzz` with FUZZ_SECONDS (300).
EOF
}

seconds=10
build_dir=build-fuzz
rss_limit_mb=2048
timeout=10
jobs=$(nproc)
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --rss-limit-mb) rss_limit_mb=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

cd "$(dirname "$0")/.."
src=$PWD
if ((${#targets[@]} == 0)); then
  read -r -a targets <<<"$(sed -n 's/^set(P2P_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)"
  if ((${#targets[@]} == 0)); then
    echo "fuzz: no targets: expected one line 'set(P2P_FUZZ_TARGETS ...)' in tests/fuzz/CMakeLists.txt" >&2
    exit 2
  fi
fi
for t in "${targets[@]}"; do
  if [[ ! -f tests/fuzz/${t}_fuzz.cc ]]; then
    echo "fuzz: no target '$t' (known: tests/fuzz/*_fuzz.cc)" >&2
    exit 2
  fi
done
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found; run scripts/install-deps.sh --fuzz" >&2
  exit 2
fi

start=$SECONDS
if [[ ! -f $build_dir/build.ninja ]]; then
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DP2P_FUZZ_ONLY=ON -DP2P_WERROR=ON "${launcher[@]}" >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]/%/_libfuzzer}"
build_seconds=$((SECONDS - start))

# libFuzzer reports ASan, UBSan and leak findings as crashes; symbolized stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target: replay its seeds, then fuzz it. Its summary line goes to
# <log>.summary, or the reason it failed (with the end of its log) to <log>.failed,
# so targets run side by side print nothing interleaved.
fuzz_target() {
  local t=$1
  local bin=$build_dir/tests/fuzz/${t}_libfuzzer
  local seeds=$src/tests/fuzz/corpus/$t
  local work=$build_dir/corpus/$t
  local artifacts=$build_dir/artifacts/$t/
  local log=$build_dir/logs/$t.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  rm -f "$log.summary" "$log.failed"
  local common=(-rss_limit_mb="$rss_limit_mb" -timeout="$timeout" -artifact_prefix="$artifacts")

  # Every seed once, by name, so a seed that crashes is named in the log.
  local files
  mapfile -t files < <(find "$seeds" -type f | sort)
  if ! "$bin" "${common[@]}" "${files[@]}" >"$log" 2>&1; then
    { echo "fuzz: $t: a seed of tests/fuzz/corpus/$t fails; the end of $log:"
      tail -n 40 "$log"; } >"$log.failed"
    return
  fi
  if ((seconds == 0)); then
    printf '%-10s %3d seeds replayed\n' "$t" "${#files[@]}" >"$log.summary"
    return
  fi

  # New inputs go to the first directory (the work corpus); the seeds are read.
  if ! "$bin" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    "$work" "$seeds" >>"$log" 2>&1; then
    { echo "fuzz: $t: crashed; the end of $log:"
      tail -n 60 "$log"; } >"$log.failed"
    return
  fi
  local execs rate rss corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  corpus=$(find "$work" -type f | wc -l)
  printf '%-10s %3d seeds replayed, %10s execs in %ss (%s/s), peak RSS %s MB, work corpus %d\n' \
    "$t" "${#files[@]}" "$execs" "$seconds" "$rate" "$rss" "$corpus" >"$log.summary"
}

running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true  # a target that failed is reported below, from its files
    running=$((running - 1))
  fi
  fuzz_target "$t" &
  running=$((running + 1))
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  log=$build_dir/logs/$t.log
  if [[ -f $log.summary ]]; then
    summary+=("$(cat "$log.summary")")
  else
    failed+=("$t")
    if [[ -f $log.failed ]]; then cat "$log.failed" >&2; else echo "fuzz: $t: ended without a result (see $log)" >&2; fi
  fi
done

echo "fuzz: built in ${build_seconds}s, total $((SECONDS - start))s; per target:"
for line in "${summary[@]}"; do echo "  $line"; done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
