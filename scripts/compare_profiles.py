#!/usr/bin/env python3
"""How well two calibrations of the same machine agree: every compute peak, every bandwidth
figure, every latency, the canary, and (with --predictions) what the two profiles predict for
the same rows.

Pairs the entries of two `roofbench calibrate` profiles by their keys — peaks by (dtype, unit,
threads), bandwidth by (kernel, level, threads), latency by (level, threads), the canary by
threads — and prints each pair's second / first − 1, then per section the share within the
section's tolerance (peaks ±2%, bandwidth ±5%, latency ±5%: what a calibration that repeats
should reach on a quiet machine) and the worst. With --predictions, two CSVs from
`roofbench predict` (one per profile, the same rows) are paired like compare_runs.py pairs
runs: the median and worst difference of predicted_s and the share within ±3%.

    scripts/compare_profiles.py a.json b.json
    scripts/compare_profiles.py a.json b.json --predictions pred-a.csv pred-b.csv

Exit status 0 whatever the agreement: this reports, it does not judge.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_runs  # noqa: E402  (its CSV reader: columns checked, .gz read)
import roofbench_plots as rp  # noqa: E402

PROG = "compare_profiles.py"
KEY = compare_runs.KEY

# (section, key fields, value field, tolerance, lower is better)
SECTIONS = [
    ("peaks", ("dtype", "isa", "threads"), "ops_per_s", 0.02),
    ("bandwidth", ("kernel", "level", "threads"), "bytes_per_s", 0.05),
    ("latency", ("level", "threads"), "ns_per_load", 0.05),
    ("canary", ("threads",), "seconds", 0.05),
]


def entries(prof, path, section, key, value):
    table = {}
    for i, e in enumerate(prof.get(section) or []):
        if not isinstance(e, dict) or any(k not in e for k in key + (value,)):
            raise rp.InputError(path, f"{section}[{i}] lacks one of {', '.join(key + (value,))}")
        v = e[value]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
            raise rp.InputError(path, f"{section}[{i}].{value} must be a positive number, found {v!r}")
        table[tuple(e[k] for k in key)] = float(v)
    return table


def predictions(path):
    table = {}
    for line, row in enumerate(compare_runs.read(path, KEY + ("predicted_s",)), start=2):
        if not row["predicted_s"]:
            continue
        try:
            v = float(row["predicted_s"])
        except ValueError:
            raise rp.InputError(path, f"line {line}: predicted_s '{row['predicted_s']}' is not a number") from None
        if v > 0:
            table[tuple(row[k] for k in KEY)] = v
    return table


def pct(x):
    return f"{100 * x:+.1f}%"


def run():
    p = rp.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", help="the reference profile")
    p.add_argument("second", help="the profile to compare with it")
    p.add_argument("--predictions", nargs=2, metavar=("FIRST.csv", "SECOND.csv"),
                   help="`roofbench predict` CSVs of the same rows, one from each profile")
    p.add_argument("--all", action="store_true", help="list every pair, not only those outside their tolerance")
    args = p.parse_args()
    a = rp.load_profile(args.first, need=("peaks", "bandwidth"))
    b = rp.load_profile(args.second, need=("peaks", "bandwidth"))
    # Read before anything is printed, so a bad file is one line and no half report.
    pa, pb = (predictions(args.predictions[0]), predictions(args.predictions[1])) if args.predictions else ({}, {})

    summary = []
    for section, key, value, tol in SECTIONS:
        ea, eb = entries(a, args.first, section, key, value), entries(b, args.second, section, key, value)
        common = [k for k in ea if k in eb]
        only = len(ea) + len(eb) - 2 * len(common)
        if not common:
            summary.append(f"{section}: nothing to pair" + (f" ({only} in only one profile)" if only else ""))
            continue
        diffs = {k: eb[k] / ea[k] - 1 for k in common}
        within = sum(abs(d) <= tol + 1e-12 for d in diffs.values())
        worst = max(common, key=lambda k: abs(diffs[k]))
        summary.append(f"{section}: {within} of {len(common)} within ±{100 * tol:.0f}%, median "
                       f"{100 * statistics.median(abs(d) for d in diffs.values()):.2f}%, worst {pct(diffs[worst])} "
                       f"({' '.join(str(x) for x in worst)})" + (f"; {only} in only one profile" if only else ""))
        listed = [k for k in common if args.all or abs(diffs[k]) > tol + 1e-12]
        if listed:
            print(f"{section} ({value}, second / first - 1){'' if args.all else f', outside ±{100 * tol:.0f}%'}:")
            for k in sorted(listed, key=lambda k: -abs(diffs[k])):
                print(f"  {pct(diffs[k]):>8}  {' '.join(str(x) for x in k)}: {ea[k]:.4g} -> {eb[k]:.4g}")

    if args.predictions:
        common = [k for k in pa if k in pb]
        if not common:
            raise rp.InputError(args.predictions[1], f"no row in common with {args.predictions[0]}")
        d = sorted(abs(pb[k] / pa[k] - 1) for k in common)
        worst = max(common, key=lambda k: abs(pb[k] / pa[k] - 1))
        summary.append(f"predictions: {len(common)} rows, median difference {100 * statistics.median(d):.2f}%, "
                       f"{100 * sum(x <= 0.03 + 1e-12 for x in d) / len(d):.0f}% within ±3%, worst "
                       f"{pct(pb[worst] / pa[worst] - 1)} ({' '.join(worst[:4])} {worst[5]})")
    print("\n".join(summary))


if __name__ == "__main__":
    rp.main(PROG, run)
