#!/usr/bin/env python3
"""The short summary scripts/run.sh prints: this machine's peaks and bandwidths (at the
largest thread count) and load latencies from the profile, and how well a run's predictions held: the score of
the fitted and the classic roofline and the best and worst predicted rows."""
import json
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

REQUIRED = run_columns("op", "impl", "dtype", "shape", "measured_s", "predicted_s", "classic_s")


def fail(msg: str) -> None:
    print(f"summary.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    ap = rp.ArgumentParser(description=__doc__)
    ap.add_argument("profile", help="profile JSON written by roofbench calibrate")
    ap.add_argument("run", help="CSV written by roofbench run --profile")
    args = ap.parse_args()
    for p in (args.profile, args.run):
        if not os.path.isfile(p):
            fail(f"{p}: no such file")
    try:
        prof = json.load(open(args.profile))
        peaks, bandwidth = prof["peaks"], prof["bandwidth"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as e:
        fail(f"{args.profile}: not a roofbench profile ({e.__class__.__name__}: {e})")
    try:
        run = pd.read_csv(args.run)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        fail(f"{args.run}: not a CSV ({str(e).splitlines()[0]})")
    for c in REQUIRED:
        if c not in run.columns:
            fail(f"{args.run}: missing column {c} (expected roofbench run --profile output)")

    t = max(p["threads"] for p in peaks)
    print(f"Machine: {prof.get('machine', {}).get('cpu', '?')}, figures at {t} threads")
    # One roof per dtype (the fastest unit that counts), named, not every unit measured.
    roofs = [rp.roof_peak(prof, d, t) for d in rp.dtype_order([p["dtype"] for p in peaks])]
    print("  peaks:     " + ", ".join(f"{r['dtype']} {r['ops_per_s'] / 1e9:.0f} G/s" + (f" ({r['isa']})" if r.get("isa") else "")
                                     for r in roofs if r))
    print("  bandwidth: " + ", ".join(f"{b['level']} {b['bytes_per_s'] / 1e9:.0f} GB/s"
                                     for b in bandwidth if b["threads"] == t and b.get("kernel", "read") == "read"))
    latency = [e for e in prof.get("latency") or [] if isinstance(e, dict)]
    if latency:  # profiles calibrated before latency was measured have none
        print("  latency:   " + ", ".join(f"{e.get('level', '?')} {e.get('ns_per_load', float('nan')):.1f} ns"
                                         for e in latency) + " per dependent load (1 thread)")

    ok = run[(run.measured_s > 0) & (run.predicted_s > 0)].copy()
    if ok.empty:
        fail(f"{args.run}: no row has both measured_s and predicted_s")
    ok["error"] = ok.predicted_s / ok.measured_s - 1
    ok["classic_error"] = ok.classic_s / ok.measured_s - 1
    for label, col in (("fitted roofline ", "error"), ("classic roofline", "classic_error")):
        e = ok[col].abs()
        print(f"  {label}: MAPE {100 * e.mean():.1f}%, within ±10% {100 * (e <= 0.1).mean():.0f}%, "
              f"within ±25% {100 * (e <= 0.25).mean():.0f}% of {len(ok)} rows")
    if "noisy" in run.columns:  # rows whose repetitions varied more than roofbench's --noise-threshold
        noisy = run.noisy.astype(str).eq("yes")
        print(f"  noisy rows: {int(noisy.sum())} of {len(run)} (column noisy: repetitions varied more than the "
              f"threshold; their errors say as much about the machine as about the model)")
    if "above_roof" in run.columns:  # rows faster than their dtype's calibrated peak: the profile is wrong
        above = run.above_roof.astype(str).eq("yes")
        if above.any():
            print(f"  above the roof: {int(above.sum())} of {len(run)} rows beat their dtype's calibrated peak by "
                  f"more than 10% (column above_roof): a calibration bug; recalibrate before trusting predictions")
    ok = ok.assign(abs_error=ok.error.abs()).sort_values("abs_error")
    for title, rows in (("best predicted", ok.head(3)), ("worst predicted", ok.tail(3)[::-1])):
        print(f"  {title}:")
        for r in rows.itertuples():
            print(f"    {r.op} {r.impl} {r.dtype}: measured {r.measured_s * 1e3:.3f} ms, predicted "
                  f"{r.predicted_s * 1e3:.3f} ms ({100 * r.error:+.0f}%)  {r.shape}")


if __name__ == "__main__":
    main()
