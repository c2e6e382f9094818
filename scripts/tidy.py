#!/usr/bin/env python3
"""Concatenate roofbench run/predict CSVs into one tidy CSV: one row per measured
combination, a `suite` column naming the file each row came from (its stem)."""
import os
import sys
import tempfile

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

REQUIRED = run_columns("op", "impl", "dtype", "threads", "batch", "shape", "ops", "bytes", "measured_s", "predicted_s", "bound")


def fail(msg: str) -> None:
    print(f"tidy.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path: str) -> pd.DataFrame:
    if not os.path.isfile(path):
        fail(f"{path}: no such file")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        fail(f"{path}: not a CSV ({str(e).splitlines()[0]})")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        fail(f"{path}: missing column(s) {', '.join(missing)} (expected a CSV written by roofbench run)")
    for c in ["ops", "bytes", "measured_s", "predicted_s"]:
        if not pd.api.types.is_numeric_dtype(df[c]) and not df[c].isna().all():
            fail(f"{path}: column {c} has non-numeric values")
    df.insert(0, "suite", os.path.splitext(os.path.basename(path))[0])
    return df


def main() -> None:
    ap = rp.ArgumentParser(description=__doc__)
    ap.add_argument("csv", nargs="+", help="CSV files written by roofbench run or predict")
    ap.add_argument("--out", required=True, help="the combined CSV")
    args = ap.parse_args()
    out = pd.concat([load(p) for p in args.csv], ignore_index=True, sort=False)
    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory):
        fail(f"{args.out}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        out.to_csv(f, index=False)
    os.replace(tmp, args.out)
    print(f"tidy.py: {len(out)} rows from {len(args.csv)} files -> {args.out}")


if __name__ == "__main__":
    main()
