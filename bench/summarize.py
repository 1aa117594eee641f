#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Medians and spread over several runs of the peer harness (run-all --out DIR; BENCHMARKS.md).

usage: bench/summarize.py [--ref go] [--dat FILE] RUN_DIR...

Reads RUN_DIR/results.tsv of each run and prints markdown tables: for each peer, op and
number of requests in flight, the median over the runs of ops/s, p50, client CPU per request and
etcd CPU, with their range (min-max), and the median of the per-run ratios to the reference peer
(ratios are taken within one run, then the median over runs: the machine may be shared).
--dat writes the medians as a whitespace table for bench/plot.sh.
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict


def load(run_dir):
    rows = {}
    with open(f"{run_dir}/results.tsv") as f:
        for line in f:
            name, op, c, rc, ecpu, esys, wall, busy, js = line.rstrip("\n").split("\t", 8)
            try:
                j = json.loads(js)
            except ValueError:
                j = {}
            if "ops_per_s" not in j:
                continue
            n = j.get("completed", j.get("total")) or 0
            rows[(name, op, int(c))] = {
                "ops": j["ops_per_s"],
                "p50": j.get("p50_ms"),
                "p99": j.get("p99_ms"),
                "cpu_us": j["cpu_s"] / n * 1e6 if n else None,
                "etcd_us": float(ecpu) / n * 1e6 if n else None,
                "etcd_sys": int(esys) / n if n else None,
                "threads": j.get("threads"),
                "busy": float(busy) * 100,
                "ok": int(rc) == 0 and not j.get("errors"),
            }
    return rows


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return (fmt % min(xs)) + "-" + (fmt % max(xs))


def f(x, fmt):
    return "-" if x is None else fmt % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="go")
    ap.add_argument("--dat")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    runs = [load(r) for r in a.runs]
    keys = sorted({k for r in runs for k in r},
                  key=lambda k: (["put", "range", "range-serializable", "txn-put", "watch"].index(k[1])
                                 if k[1] in ["put", "range", "range-serializable", "txn-put", "watch"] else 9,
                                 k[2], k[0] != a.ref, k[0]))
    print(f"Medians over {len(runs)} runs (range min-max in brackets); x {a.ref} = median of the "
          f"per-run ratios to {a.ref} in the same run. CPU in microseconds per request.\n")
    print(f"| peer | op | in flight | ops/s | ops/s x {a.ref} | p50 ms | p50 x {a.ref} | "
          f"client CPU us/req | CPU x {a.ref} | etcd CPU us/req | etcd syscalls/req | host busy % | "
          f"threads | all ok |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    dat = defaultdict(dict)
    for k in keys:
        name, op, c = k
        vals = [r[k] for r in runs if k in r]
        refs = [(r[k], r.get((a.ref, op, c))) for r in runs if k in r]
        ratio = lambda field: med([v[field] / rv[field] for v, rv in refs
                                   if rv and v[field] is not None and rv[field]])
        ops = [v["ops"] for v in vals]
        cpu = [v["cpu_us"] for v in vals]
        p50 = [v["p50"] for v in vals]
        print("| %s | %s | %d | %s [%s] | %s | %s [%s] | %s | %s [%s] | %s | %s | %s | %s | %s | %s |" % (
            name, op, c, f(med(ops), "%.0f"), spread(ops, "%.0f"), f(ratio("ops"), "%.2f"),
            f(med(p50), "%.3f"), spread(p50, "%.2f"), f(ratio("p50"), "%.2f"),
            f(med(cpu), "%.1f"), spread(cpu, "%.1f"), f(ratio("cpu_us"), "%.2f"),
            f(med([v["etcd_us"] for v in vals]), "%.1f"),
            f(med([v["etcd_sys"] for v in vals]), "%.2f"),
            f(med([v["busy"] for v in vals]), "%.0f"),
            f(med([v["threads"] for v in vals]), "%.0f"),
            "yes" if all(v["ok"] for v in vals) else "NO"))
        dat[(name, op)][c] = (med(ops), med(cpu), min(ops), max(ops), min(cpu), max(cpu))
    if a.dat:
        with open(a.dat, "w") as out:
            out.write("# peer op in_flight ops_median cpu_us_median ops_min ops_max cpu_min cpu_max\n")
            for (name, op), by_c in sorted(dat.items()):
                for c in sorted(by_c):
                    out.write("%s %s %d %s\n" % (name, op, c, " ".join("%.2f" % x for x in by_c[c])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
