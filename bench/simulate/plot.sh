#!/usr/bin/env bash
# Regenerates the simulator's plots and results table (docs/simulator.md):
#   docs/simulator-amplification.png   rack uplink amplification vs fleet size
#   docs/simulator-deploy-time.png     deploy time vs fleet size
#   docs/simulator-peak-uplink.png     peak rack uplink use vs fleet size
#   bench/simulate/results.json        every run (p2ptracker simulate --json)
#   bench/simulate/results.md          the table docs/simulator.md quotes
# Each policy at each fleet size is one `p2ptracker simulate` run with the
# default datacenter model (racks of 40, 1 Gbit/s NICs and rack uplinks,
# 100 Mbit/s client caps, 1 GiB payload in 4 MiB pieces), seed 1.
#
# Usage: bench/simulate/plot.sh [BINARY]   (default build/p2ptracker; make simulate-plots)
#   SIZES="500,2000,10000,50000"
#   POLICIES="random,original/1,original/2,original/3,standby/2,progress/2,relay/2"
#   EXTRA="--seed 2"  (more flags for every run)
#   REPLOT=1  only redraw the plots and table from bench/simulate/results.json
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/p2ptracker}
sizes=${SIZES:-500,2000,10000,50000}
policies=${POLICIES:-random,original/1,original/2,original/3,standby/2,progress/2,relay/2}
out_json=$here/results.json
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

command -v gnuplot >/dev/null || {
  echo "plot.sh: gnuplot is not installed (scripts/install-deps.sh --sim)" >&2
  exit 1
}

if [[ -z ${REPLOT:-} ]]; then
  echo "plot.sh: $bin simulate --fleet-sizes $sizes --policies $policies ${EXTRA:-}" >&2
  # shellcheck disable=SC2086
  "$bin" simulate --fleet-sizes "$sizes" --policies "$policies" --json ${EXTRA:-} >"$out_json.tmp"
  mv "$out_json.tmp" "$out_json"
fi

# One data file per policy: hosts, amplification max, mean, deploy s, p50 s, peak uplink %.
/usr/bin/python3 - "$out_json" "$data" "$here/results.md" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
data, table = sys.argv[2:4]
order = []
for r in runs:
    if r["policy"] not in order:
        order.append(r["policy"])
with open(data + "/policies", "w") as f:
    f.write(" ".join(order) + "\n")
for i, p in enumerate(order):
    with open("%s/%d.dat" % (data, i), "w") as f:
        for r in runs:
            if r["policy"] == p:
                f.write("%d %.4f %.4f %.2f %.2f %.2f %.2f\n" % (
                    r["hosts"], r["amplification"]["max"], r["amplification"]["mean"],
                    r["deploy_seconds"], r["completion_p50"], 100 * r["peak_uplink_in"]["max"],
                    100 * r["peak_uplink_in"]["mean"]))
sizes = ",".join(str(h) for h in sorted({r["hosts"] for r in runs}))
lines = [
    "Command: `bench/simulate/plot.sh` (`make simulate-plots`): `p2ptracker simulate "
    "--fleet-sizes ... --policies %s --json`, seed %d; fleets of %s hosts"
    % (",".join(order), runs[0]["seed"], sizes),
    "",
    "| policy | hosts | racks | amplification max | mean | egress max | peak uplink in, max / mean "
    "| origin copies | deploy time | p50 host done | sim wall time |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]
for r in runs:
    lines.append("| %s | %s | %d | %.2f | %.2f | %.2f | %.0f%% / %.0f%% | %.2f | %.0f s%s | %.0f s | %.1f s |" % (
        r["policy"] if r["policy"] != "random" else "random (baseline)",
        format(r["hosts"], ","), r["racks"], r["amplification"]["max"],
        r["amplification"]["mean"], r["egress"]["max"], 100 * r["peak_uplink_in"]["max"],
        100 * r["peak_uplink_in"]["mean"], r["origin_copies"], r["deploy_seconds"],
        "" if r["complete"] else " (incomplete)", r["completion_p50"], r["wall_seconds"]))
open(table, "w").write("\n".join(lines) + "\n")
PY

read -r -a names <"$data/policies"
style_of() {  # a fixed look per policy, so every plot reads alike
  case $1 in
    random) echo "lc rgb '#7b2cbf' pt 5 ps 1.4 dt 1" ;;
    original/1) echo "lc rgb '#2b9348' pt 7 ps 1.4 dt 1" ;;
    original/2) echo "lc rgb '#1d4ed8' pt 9 ps 1.4 dt 1" ;;
    original/3) echo "lc rgb '#e07a00' pt 11 ps 1.4 dt 1" ;;
    standby/*) echo "lc rgb '#d00000' pt 6 ps 2 dt 2" ;;
    progress/*) echo "lc rgb '#00838f' pt 4 ps 1.6 dt 4" ;;
    relay/*) echo "lc rgb '#6d4c41' pt 8 ps 1.6 dt 5" ;;
    *) echo "pt 13 ps 1.4 dt 3" ;;
  esac
}
plot_lines() {  # $1: column of y
  local s="" i t
  for i in "${!names[@]}"; do
    t=${names[$i]}
    [[ $t == random ]] && t="random peers (baseline)"
    s+="${s:+, }'$data/$i.dat' using 1:$1 with linespoints lw 2 $(style_of "${names[$i]}") title '$t'"
  done
  echo "$s"
}
common="set terminal pngcairo size 900,560 font 'DejaVu Sans,12' noenhanced
set logscale x; set grid; set key box opaque
set xlabel 'fleet size (hosts; racks of 40)'
set format x '%.0f'"

gnuplot <<GP
$common
set output '$root/docs/simulator-amplification.png'
set title 'Rack uplink amplification (max over racks): copies of the payload into a rack'
set logscale y; set ytics (1, 1.5, 2, 3, 5, 10, 20, 40); set yrange [0.8:70]
set key right center
set ylabel 'bytes into rack / payload (log)'
plot $(plot_lines 2)
GP

gnuplot <<GP
$common
set output '$root/docs/simulator-deploy-time.png'
set title 'Deploy time: first start to last host complete (1 GiB, 100 Mbit/s clients)'
set yrange [0:*]
set key right bottom
set ylabel 'seconds'
plot $(plot_lines 4)
GP

gnuplot <<GP
$common
set output '$root/docs/simulator-peak-uplink.png'
set title 'Peak rack uplink use in (1 s windows; mean over racks of each rack''s peak)'
set yrange [0:105]
set key right center
set ylabel '% of a 1 Gbit/s rack uplink'
plot $(plot_lines 7)
GP

echo "plot.sh: wrote docs/simulator-{amplification,deploy-time,peak-uplink}.png," \
  "bench/simulate/results.{json,md}" >&2
cat "$here/results.md"
