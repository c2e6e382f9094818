#!/usr/bin/env python3
"""How well two runs of the same rows agree: a noisy run against a quiet one, or a run against
itself minutes later.

Pairs the rows of two `roofbench run` CSVs on (op, impl, dtype, threads, batch, shape) and
prints, overall and per (op, impl, dtype, threads): the rows paired, the share whose measured_s
agree within ±5% and ±10%, the median and worst |second / first - 1|, and the median slowdown
each run lived through (column slowdown). With --repetitions, two CSVs from
`run --repetitions-csv` instead: the same comparison for other estimators applied to the same
repetitions (the least kept, the median of the kept, the lower quartile, the median of all),
which is how docs/noise.md chose measured_s.

    scripts/compare_runs.py quiet.csv noisy.csv [--worst 10]
    scripts/compare_runs.py --repetitions quiet.reps.csv noisy.reps.csv

Either file may be gzip-compressed (name ending in .gz), as the reference runs in results/ are.
"""
import argparse
import csv
import gzip
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "compare_runs.py"
KEY = tuple(run_columns("op", "impl", "dtype", "threads", "batch", "shape"))


def read(path, needed):
    try:
        with (gzip.open(path, "rt", newline="") if str(path).endswith(".gz") else open(path, newline="")) as f:
            reader = csv.DictReader(f)
            missing = [c for c in needed if c not in (reader.fieldnames or [])]
            if missing:
                raise rp.InputError(path, f"not a roofbench CSV of this kind (missing columns: {', '.join(missing)})")
            return list(reader)
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise rp.InputError(path, getattr(e, "strerror", None) or str(e)) from None


def number(path, line, row, col):
    try:
        v = float(row[col])
    except ValueError:
        raise rp.InputError(path, f"line {line}: {col} '{row[col]}' is not a number") from None
    if not v > 0:
        raise rp.InputError(path, f"line {line}: {col} must be positive, found {row[col]}")
    return v


def runs(path):
    table = {}
    for line, row in enumerate(read(path, KEY + ("measured_s", "status")), start=2):
        if row["status"] == "ok" and row["measured_s"]:
            slowdown = float(row["slowdown"]) if row.get("slowdown") else None
            table[tuple(row[k] for k in KEY)] = (number(path, line, row, "measured_s"), slowdown)
    return table


def quantile(v, q):
    v = sorted(v)
    x = q * (len(v) - 1)
    i = int(x)
    return v[i] if i + 1 >= len(v) else v[i] * (1 - (x - i)) + v[i + 1] * (x - i)


ESTIMATORS = {
    "least kept (measured_s)": lambda kept, every: min(kept),
    "median of the kept": lambda kept, every: quantile(kept, 0.5),
    "lower quartile of the kept": lambda kept, every: quantile(kept, 0.25),
    "median of every repetition": lambda kept, every: quantile(every, 0.5),
}


def repetitions(path):
    table = {}
    for line, row in enumerate(read(path, KEY + ("seconds", "kept")), start=2):
        kept, every = table.setdefault(tuple(row[k] for k in KEY), ([], []))
        s = number(path, line, row, "seconds")
        every.append(s)
        if row["kept"] == "yes":
            kept.append(s)
    return table


def agreement(pairs):
    """rows, % within 5, % within 10, median |diff| %, worst |diff| %."""
    d = [abs(b / a - 1) for a, b in pairs]
    eps = 1e-12
    return [len(d), 100 * sum(x <= 0.05 + eps for x in d) / len(d), 100 * sum(x <= 0.10 + eps for x in d) / len(d),
            100 * statistics.median(d), 100 * max(d)]


def cells(s):
    n, w5, w10, med, worst = s
    return [str(n), f"{w5:.1f}%", f"{w10:.1f}%", f"{med:.2f}%", f"{worst:.1f}%"]


def print_table(headers, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def run():
    p = rp.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", help="the reference run (a quiet one)")
    p.add_argument("second", help="the run to compare with it")
    p.add_argument("--repetitions", action="store_true",
                   help="the two files are --repetitions-csv outputs: compare estimators on the same repetitions")
    p.add_argument("--worst", type=int, default=5, metavar="N", help="list the N rows that differ most (default 5)")
    args = p.parse_args()
    if args.worst < 0:
        p.error("--worst must be 0 or more")

    if args.repetitions:
        a, b = repetitions(args.first), repetitions(args.second)
        common = [k for k in a if k in b]
        if not common:
            raise rp.InputError(args.second, f"no row in common with {args.first}")
        rows = []
        for name, f in ESTIMATORS.items():
            pairs = [(f(a[k][0] or a[k][1], a[k][1]), f(b[k][0] or b[k][1], b[k][1])) for k in common]
            rows.append([name] + cells(agreement(pairs)))
        print_table(["estimator", "rows", "within 5%", "within 10%", "median diff", "worst"], rows)
        return

    a, b = runs(args.first), runs(args.second)
    common = [k for k in a if k in b]
    if not common:
        raise rp.InputError(args.second, f"no row in common with {args.first}")
    groups = {}
    for k in common:
        groups.setdefault(k[:4], []).append(k)
    rows = [["all"] + cells(agreement([(a[k][0], b[k][0]) for k in common]))]
    for g in sorted(groups):
        rows.append(["/".join(g[:3]) + f" t{g[3]}"] + cells(agreement([(a[k][0], b[k][0]) for k in groups[g]])))
    print_table(["rows", "paired", "within 5%", "within 10%", "median diff", "worst"], rows)
    lived = [(a[k][1], b[k][1]) for k in common if a[k][1] and b[k][1]]
    if lived:
        print(f"slowdown lived (median over rows): first {statistics.median(x for x, _ in lived):.2f}x, "
              f"second {statistics.median(y for _, y in lived):.2f}x")
    if args.worst:
        print(f"\nthe {min(args.worst, len(common))} rows that differ most (second / first):")
        for k in sorted(common, key=lambda k: -abs(b[k][0] / a[k][0] - 1))[:args.worst]:
            print(f"  {b[k][0] / a[k][0]:.3f}  {' '.join(k[:4])} {k[5]}")


if __name__ == "__main__":
    rp.main(PROG, run)
