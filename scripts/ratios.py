#!/usr/bin/env python3
"""Speed ratios between two implementations in one `roofbench run` CSV.

For every (op, dtype, threads, batch, shape) measured by both, prints
speed(impl) / speed(base) = measured_s(base) / measured_s(impl), with each side's
median time, repetitions and coefficient of variation. Reads only the CSV the binary wrote.

    scripts/ratios.py results/<machine-id>/perf-f32.csv --impl opt --base blas
"""
import argparse
import csv
import sys

KEY = ("op", "dtype", "threads", "batch", "shape")
NEEDED = set(KEY) | {"impl", "measured_s", "repetitions", "cv", "status"}


def load(path):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = NEEDED - set(reader.fieldnames or [])
            if missing:
                sys.exit(f"ratios.py: error: {path}: not a roofbench run CSV (missing columns: {', '.join(sorted(missing))})")
            rows = list(reader)
    except OSError as e:
        sys.exit(f"ratios.py: error: {path}: {e.strerror}")
    table = {}
    for line, row in enumerate(rows, start=2):
        if row["status"] != "ok" or not row["measured_s"]:
            continue
        try:
            seconds = float(row["measured_s"])
        except ValueError:
            sys.exit(f"ratios.py: error: {path}:{line}: measured_s '{row['measured_s']}' is not a number")
        table[(row["impl"],) + tuple(row[k] for k in KEY)] = (seconds, row["repetitions"], row["cv"])
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", help="a CSV written by `roofbench run`")
    parser.add_argument("--impl", default="opt", help="the implementation to rate (default: opt)")
    parser.add_argument("--base", default="blas", help="the implementation to rate against (default: blas)")
    args = parser.parse_args()

    table = load(args.csv)
    pairs = []
    for key, (t_impl, reps, cv) in table.items():
        if key[0] != args.impl:
            continue
        base = table.get((args.base,) + key[1:])
        if base:
            pairs.append((key[1:], t_impl, reps, cv, base))
    if not pairs:
        sys.exit(f"ratios.py: error: {args.csv}: no row measured for both {args.impl} and {args.base}")
    print(f"{'op':7} {'dtype':5} {'thr':>3} {'batch':>5}  {args.impl + ' ms':>10} {'cv':>6}  "
          f"{args.base + ' ms':>10} {'cv':>6}  {'speed ratio':>11}  shape")
    for (op, dtype, threads, batch, shape), t_impl, reps, cv, (t_base, reps_b, cv_b) in pairs:
        print(f"{op:7} {dtype:5} {threads:>3} {batch:>5}  {t_impl * 1e3:10.3f} {float(cv):6.3f}  "
              f"{t_base * 1e3:10.3f} {float(cv_b):6.3f}  {t_base / t_impl:11.3f}  {shape}")


if __name__ == "__main__":
    main()
