#!/usr/bin/env bash
# The simulator over fleets in datacenters, rows and racks (docs/simulator.md,
# "Fleets in levels"): copies into each rack, row and datacenter, each level's
# peak uplink use, and the deploy time against the fleet's lower bound, for the
# tracker with the rack level only (the original's rule) and with levels.
#   docs/simulator-levels-amplification.png  max copies into a group, per level
#   docs/simulator-levels-deploy-time.png     deploy time and the lower bound
#   bench/simulate/levels.json                every run (p2ptracker simulate --json)
#   bench/simulate/levels.md                  the table docs/simulator.md quotes
# The fleet: racks of 40 hosts in rows of 10 racks in 4 datacenters; 1 Gbit/s
# NICs and rack uplinks, 4 Gbit/s row uplinks, 10 Gbit/s datacenter uplinks,
# 100 Mbit/s client caps (origin too), 1 GiB in 4 MiB pieces, seed 1.
#
# Usage: bench/simulate/levels.sh [BINARY]   (default build/p2ptracker; make simulate-levels)
#   SIZES="10000,50000,100000"
#   RANDOM_SIZES="10000"  the random-peers baseline only at these sizes: with
#                         every uplink saturated its deploys run for hours of
#                         simulated time, and the simulation with them
#   REPLOT=1  only redraw the plots and table from bench/simulate/levels.json
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/p2ptracker}
sizes=${SIZES:-10000,50000,100000}
random_sizes=${RANDOM_SIZES:-10000}
out_json=$here/levels.json
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
fleet=(--datacenters 4 --racks-per-row 10 --row-uplink 4Gbit --dc-uplink 10Gbit)

command -v gnuplot >/dev/null || {
  echo "levels.sh: gnuplot is not installed (scripts/install-deps.sh --sim)" >&2
  exit 1
}

run() {  # $1: output file; the rest: flags
  local out=$1
  shift
  echo "levels.sh: $bin simulate ${fleet[*]} $*" >&2
  "$bin" simulate "${fleet[@]}" "$@" --json >"$out"
}

if [[ -z ${REPLOT:-} ]]; then
  run "$data/random.json" --fleet-sizes "$random_sizes" --policies random
  # Two representatives per group at every level, as the config's defaults...
  run "$data/k2.json" --fleet-sizes "$sizes" --max-repr-levels 2,2 \
    --policies original/2,original/2+levels,relay/2+levels
  # ...and one above racks: a copy into each row and datacenter.
  run "$data/k1.json" --fleet-sizes "$sizes" --max-repr-levels 1,1 \
    --policies original/1+levels,original/2+levels,relay/2+levels
  /usr/bin/python3 - "$data" "$out_json.tmp" <<'PY'
import json, sys
runs = []
for name in ("random", "k2", "k1"):
    runs += json.load(open("%s/%s.json" % (sys.argv[1], name)))["runs"]
json.dump({"runs": runs}, open(sys.argv[2], "w"), indent=2)
PY
  mv "$out_json.tmp" "$out_json"
fi

# One data file per policy: hosts, max copies into a rack, row, datacenter,
# deploy s, lower bound s; and the table.
/usr/bin/python3 - "$out_json" "$data" "$here/levels.md" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
data, table = sys.argv[2:4]


def name(r):
    if r["policy"] == "random":
        return "random (baseline)"
    if not r["tracker_levels"]:
        return r["policy"] + " (racks only)"
    return "%s, %d per row and datacenter" % (r["policy"], r["max_repr_up"][0])


def level(r, which):
    return next(l for l in r["levels"] if l["level"] == which)


order = []
for r in runs:
    if name(r) not in order:
        order.append(name(r))
with open(data + "/policies", "w") as f:
    f.write("\n".join(order) + "\n")
for i, p in enumerate(order):
    with open("%s/%d.dat" % (data, i), "w") as f:
        # An incomplete run (the time limit) has no deploy time to plot; the table says so.
        for r in sorted((r for r in runs if name(r) == p and r["complete"]),
                        key=lambda r: r["hosts"]):
            f.write("%d %.4f %.4f %.4f %.2f %.2f\n" % (
                r["hosts"], *(level(r, lv)["amplification"]["max"]
                              for lv in ("rack", "row", "datacenter")),
                r["deploy_seconds"], r["lower_bound_seconds"]))
with open(data + "/bound.dat", "w") as f:  # the same for every policy at a size
    for hosts in sorted({r["hosts"] for r in runs}):
        f.write("%d %.2f\n" % (hosts, next(r["lower_bound_seconds"] for r in runs
                                           if r["hosts"] == hosts)))
r0 = runs[0]
lines = [
    "Command: `bench/simulate/levels.sh` (`make simulate-levels`): `p2ptracker simulate "
    "--datacenters 4 --racks-per-row 10 --row-uplink 4Gbit --dc-uplink 10Gbit --fleet-sizes ... "
    "--max-repr-levels K,K --policies ... --json`, seed %d. Copies into a group: max / median "
    "over the level's groups; peak: the highest 1 s rate into a group's uplink over its "
    "capacity, max over groups." % r0["seed"],
    "",
    "| policy | hosts | level | groups | copies in, max / median | peak uplink in, max "
    "| deploy time | lower bound | deploy / bound | sim wall time |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for r in sorted(runs, key=lambda r: (r["hosts"], order.index(name(r)))):
    for k, lv in enumerate(r["levels"]):
        lines.append("| %s | %s | %s | %d | %.2f / %.2f | %.0f%% | %s | %s | %s | %s |" % (
            name(r) if k == 0 else "", format(r["hosts"], ",") if k == 0 else "", lv["level"],
            lv["groups"], lv["amplification"]["max"], lv["amplification"]["median"],
            100 * lv["peak_uplink_in"]["max"],
            ("%.0f s%s" % (r["deploy_seconds"], "" if r["complete"] else " (incomplete)"))
            if k == 0 else "",
            "%.0f s" % r["lower_bound_seconds"] if k == 0 else "",
            "%.2fx" % (r["deploy_seconds"] / r["lower_bound_seconds"]) if k == 0 else "",
            "%.0f s" % r["wall_seconds"] if k == 0 else ""))
open(table, "w").write("\n".join(lines) + "\n")
PY

mapfile -t names <"$data/policies"
style_of() {
  case $1 in
    random*) echo "lc rgb '#7b2cbf' pt 5 ps 1.4" ;;
    *"racks only"*) echo "lc rgb '#1d4ed8' pt 9 ps 1.4" ;;
    original/2,*) echo "lc rgb '#e07a00' pt 11 ps 1.4" ;;
    original/1,*) echo "lc rgb '#2b9348' pt 7 ps 1.4" ;;
    relay/2,\ 2*) echo "lc rgb '#6d4c41' pt 8 ps 1.6" ;;
    relay/2,\ 1*) echo "lc rgb '#d00000' pt 6 ps 1.6" ;;
    *) echo "pt 13 ps 1.4" ;;
  esac
}
plot_lines() {  # $1: column of y; $2: dash type
  local s="" i
  for i in "${!names[@]}"; do
    s+="${s:+, }'$data/$i.dat' using 1:$1 with linespoints lw 2 dt $2 $(style_of "${names[$i]}") title '${names[$i]}'"
  done
  echo "$s"
}
common="set terminal pngcairo size 1000,700 font 'DejaVu Sans,11' noenhanced
set logscale x; set grid; set key below box opaque maxcols 2 height 1
set xlabel 'fleet size (hosts; racks of 40, rows of 10 racks, 4 datacenters)'
set format x '%.0f'"

gnuplot <<GP
$common
set output '$root/docs/simulator-levels-amplification.png'
set title 'Copies into a group (max over groups): rack (solid), row (dashed), datacenter (dotted)'
set logscale y; set ytics (1, 1.2, 1.5, 2, 3, 5, 10, 20, 50, 100, 300, 1000); set yrange [0.8:2000]
set ylabel 'bytes into group / payload (log)'
plot $(plot_lines 2 1), $(plot_lines 3 2 | sed "s/title '[^']*'/notitle/g"), $(plot_lines 4 3 | sed "s/title '[^']*'/notitle/g")
GP

gnuplot <<GP
$common
set output '$root/docs/simulator-levels-deploy-time.png'
set title 'Deploy time (1 GiB, 100 Mbit/s clients) and the lower bound (black)'
set yrange [0:*]
set ylabel 'seconds'
plot $(plot_lines 5 1), '$data/bound.dat' using 1:2 with lines lw 2 lc rgb 'black' title 'lower bound'
GP

echo "levels.sh: wrote docs/simulator-levels-{amplification,deploy-time}.png," \
  "bench/simulate/levels.{json,md}" >&2
cat "$here/levels.md"
