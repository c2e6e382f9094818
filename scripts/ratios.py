#!/usr/bin/env python3
"""Speed ratios between two implementations in one `roofbench run` CSV.

For every (op, dtype, threads, batch, shape) measured by both, prints
speed(impl) / speed(base) = measured_s(base) / measured_s(impl), with each side's
median time, repetitions and coefficient of variation. Reads only the CSV the binary wrote.
IMPL/DTYPE pins a dtype on either side, to rate bit widths against each other (the rows
then pair on op, threads, batch and shape).

    scripts/ratios.py results/<machine-id>/perf-f32.csv --impl opt --base blas
    scripts/ratios.py bitwidth.csv --impl opt/i8 --base blas/f32
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

KEY = tuple(run_columns("op", "dtype", "threads", "batch", "shape"))
NEEDED = set(KEY) | set(run_columns("impl", "measured_s", "repetitions", "cv", "status"))


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
    parser = rp.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", help="a CSV written by `roofbench run`")
    parser.add_argument("--impl", default="opt", help="the implementation to rate, IMPL or IMPL/DTYPE (default: opt)")
    parser.add_argument("--base", default="blas", help="the implementation to rate against, IMPL or IMPL/DTYPE (default: blas)")
    args = parser.parse_args()

    table = load(args.csv)
    impl, _, impl_dtype = args.impl.partition("/")
    base, _, base_dtype = args.base.partition("/")
    pairs = []
    for key, (t_impl, reps, cv) in table.items():
        if key[0] != impl or (impl_dtype and key[2] != impl_dtype):
            continue
        base_key = (base, key[1], base_dtype or key[2]) + key[3:]
        if key[2] != base_key[2] and not (impl_dtype and base_dtype):
            continue
        found = table.get(base_key)
        if found:
            pairs.append((key[1:], t_impl, reps, cv, found))
    if not pairs:
        sys.exit(f"ratios.py: error: {args.csv}: no row measured for both {args.impl} and {args.base}")
    impl_label, base_label = args.impl.replace("/", " "), args.base.replace("/", " ")
    print(f"{'op':7} {'dtype':5} {'thr':>3} {'batch':>5}  {impl_label + ' ms':>10} {'cv':>6}  "
          f"{base_label + ' ms':>10} {'cv':>6}  {'speed ratio':>11}  shape")
    for (op, dtype, threads, batch, shape), t_impl, reps, cv, (t_base, reps_b, cv_b) in pairs:
        print(f"{op:7} {dtype:5} {threads:>3} {batch:>5}  {t_impl * 1e3:10.3f} {float(cv):6.3f}  "
              f"{t_base * 1e3:10.3f} {float(cv_b):6.3f}  {t_base / t_impl:11.3f}  {shape}")


if __name__ == "__main__":
    main()
