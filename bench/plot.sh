#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Plots ops/s and client CPU per request against requests in flight, for etcdpp and the Go
# client, from run-all runs made with --clients "1 8 64 256" (see BENCHMARKS.md).
#
#   bench/plot.sh OUT.png RUN_DIR...        (needs python3 and gnuplot: apt-get install gnuplot-nox)
#
# Each point is the median over the runs; the error bars span min to max. Not part of CI.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $0 OUT.png RUN_DIR..." >&2
  exit 2
fi
OUT="$1"
shift
command -v gnuplot >/dev/null || { echo "$0: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
DAT="$(mktemp)"
trap 'rm -f "$DAT"' EXIT
python3 "$HERE/summarize.py" --dat "$DAT" "$@" > /dev/null

# One data block per peer and op, in the order gnuplot's "index" expects.
BLOCKS="$(mktemp)"
trap 'rm -f "$DAT" "$BLOCKS"' EXIT
for peer in go etcdpp; do
  for op in put range; do
    awk -v p="$peer" -v o="$op" '$1 == p && $2 == o' "$DAT"
    printf '\n\n'
  done
done > "$BLOCKS"

gnuplot <<EOF
set terminal pngcairo size 1200,900 font "DejaVu Sans,11"
set output "$OUT"
set multiplot layout 2,2 title "etcd 3.4 on tmpfs, 2 shared cores, one connection: medians of the runs (bars: min-max)"
set logscale x 2
set xtics (1, 8, 64, 256)
set xrange [0.8:320]
set key top left
set grid
do for [op=0:1] {
  opname = (op == 0) ? "put" : "range"
  set title sprintf("%s: throughput", opname)
  set ylabel "requests/s"
  set yrange [0:*]
  plot "$BLOCKS" index (0 + op) using 3:4:6:7 with yerrorlines lw 2 pt 7 title "Go clientv3", \
       "$BLOCKS" index (2 + op) using 3:4:6:7 with yerrorlines lw 2 pt 5 title "etcdpp"
  set title sprintf("%s: client CPU per request", opname)
  set ylabel "microseconds of client CPU per request"
  plot "$BLOCKS" index (0 + op) using 3:5:8:9 with yerrorlines lw 2 pt 7 title "Go clientv3", \
       "$BLOCKS" index (2 + op) using 3:5:8:9 with yerrorlines lw 2 pt 5 title "etcdpp"
}
unset multiplot
EOF
echo "wrote $OUT"
