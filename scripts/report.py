#!/usr/bin/env python3
"""A Markdown report of one machine: its profile, a run's prediction scores and the plots.

Tables: the machine (profile `machine`), compute peaks (`peaks`), bandwidth per memory level
(`bandwidth`), the latency of a dependent load per level (`latency`, when the profile has it), prediction scores of the fitted (`predicted_s`) and the classic (`classic_s`)
roofline overall and per (op, impl, dtype), the 5 best and 5 worst predicted rows, and the
kernel fits (`kernels`); then every PNG in the plots directory, linked by a path relative to
the report. Errors are counted as `roofbench evaluate` counts them: predicted / measured - 1.

    scripts/report.py --profile profile.json --run run.csv --plots plots/ --out report.md
"""
import argparse
import math
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "report.py"
REQUIRED = run_columns("op", "impl", "dtype", "threads", "batch", "shape", "measured_s", "predicted_s")
NUMERIC = run_columns("threads", "batch", "measured_s", "predicted_s")
PLOT_ORDER = ["bandwidth", "latency", "roofline", "predicted", "batch", "bitwidth"]


def parse_args():
    p = rp.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", required=True, metavar="P.json", help="a profile written by `roofbench calibrate`")
    p.add_argument("--run", required=True, metavar="RUN.csv", help="a CSV written by `roofbench run --profile P.json`")
    p.add_argument("--plots", required=True, metavar="DIR", help="directory whose PNGs the report embeds")
    p.add_argument("--out", required=True, metavar="REPORT.md", help="the Markdown file to write")
    return p.parse_args()


def cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def table(headers, rows, right=()):
    """A Markdown table; columns whose index is in `right` are right-aligned (numbers)."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def num(v, fmt):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def score(pred, meas):
    """rows, MAPE %, median |error| %, share within ±10 % and ±25 % (in %)."""
    err = (pred / meas - 1).abs()
    if err.empty:
        return [0, None, None, None, None]
    eps = 1e-12
    return [len(err), 100 * err.mean(), 100 * err.median(),
            100 * (err <= 0.10 + eps).mean(), 100 * (err <= 0.25 + eps).mean()]


def score_cells(s):
    n, mape, med, w10, w25 = s
    return [n, num(mape, ".1f"), num(med, ".1f"), num(w10, ".0f"), num(w25, ".0f")]


def machine_section(prof):
    m = prof.get("machine", {})
    rows = []
    for key in ("cpu", "logical_cpus", "isa", "caches", "compiler", "date", "host", "calibration"):
        if key not in m:
            continue
        v = m[key]
        if key == "caches" and isinstance(v, dict):
            parts = []
            for name, c in v.items():
                if isinstance(c, dict) and isinstance(c.get("bytes"), (int, float)):
                    shared = f", shared by {c['shared_by']}" if "shared_by" in c else ""
                    parts.append(f"{name} {rp.fmt_bytes(c['bytes'])}{shared}")
                else:
                    parts.append(f"{name} {c}")
            v = "; ".join(parts)
        elif isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        rows.append([key, v])
    for key, v in m.items():  # anything else calibrate recorded
        if key not in {r[0] for r in rows} and not isinstance(v, (dict, list)):
            rows.append([key, v])
    return table(["field", "value"], rows) if rows else "_The profile records no machine description._"


def peaks_section(prof):
    """Every unit measured, per dtype and thread count, fastest first; `roof` says which one is
    the dtype's roof (the fastest that counts), and which are excluded from it."""
    spec = {}
    for p in (prof.get("spec", {}) or {}).get("peaks", []):
        if isinstance(p, dict):  # older profiles' spec entries name no unit: one per dtype
            spec[(p.get("dtype"), p.get("threads"), p.get("isa"))] = p.get("ops_per_s")
    order = rp.dtype_order([x["dtype"] for x in prof["peaks"]])
    rows, excluded = [], False
    for p in sorted(prof["peaks"], key=lambda p: (order.index(p["dtype"]), p["threads"], -p["ops_per_s"])):
        sp = spec.get((p["dtype"], p["threads"], p.get("isa")), spec.get((p["dtype"], p["threads"], None)))
        unit = rp.ops_unit(p["dtype"])
        roof = rp.roof_peak(prof, p["dtype"], p["threads"])
        if p.get("roof", True) is False:
            is_roof, excluded = "excluded", True
        else:
            is_roof = "yes" if roof is p else "no"
        cycle = p.get("ops_per_cycle")
        rows.append([p["dtype"], p["threads"], p.get("isa", "") or "–", f"{p['ops_per_s'] / 1e9:.1f} G{unit}/s",
                     f"{cycle:.1f}" if isinstance(cycle, (int, float)) and cycle > 0 else "–", is_roof,
                     f"{sp / 1e9:.1f}" if isinstance(sp, (int, float)) and sp > 0 else "–"])
    text = table(["dtype", "threads", "unit", "measured peak", "ops/cycle", "roof", "spec sheet (G/s)"], rows,
                 right={1, 3, 4, 6})
    hz = (prof.get("machine") or {}).get("measured_hz")
    if isinstance(hz, (int, float)) and hz > 0:
        text += f"\n\nops/cycle: per core, at the clock calibrate measured ({hz / 1e9:.2f} GHz)."
    text += ("\n\nroof: `yes` is the dtype's roof, the fastest unit that counts (the predictor's "
             "peak); `no` a slower unit.")
    if excluded:
        text += (" `excluded`: measured but not the dtype roofbench means (vfmadd231ph accumulates in f16; "
                 "roofbench's f16 accumulates in f32), so it bounds no kernel.")
    return text


def bandwidth_section(prof):
    keys = []
    for b in prof["bandwidth"]:
        if (b["kernel"], b["threads"]) not in keys:
            keys.append((b["kernel"], b["threads"]))
    order = {"read": 0, "copy": 1, "stream": 2}
    keys.sort(key=lambda k: (order.get(k[0], 9), k[0], k[1]))
    levels = [lv for lv in rp.LEVELS if any(b["level"] == lv for b in prof["bandwidth"])]
    rows = []
    for kernel, t in keys:
        r = [kernel, t]
        for lv in levels:
            v = [b["bytes_per_s"] for b in prof["bandwidth"]
                 if b["kernel"] == kernel and b["threads"] == t and b["level"] == lv]
            r.append(f"{v[0] / 1e9:.1f}" if v else "–")
        rows.append(r)
    caps = []
    for t in sorted({b["threads"] for b in prof["bandwidth"]}):
        c = {b["level"]: b["capacity_bytes"] for b in prof["bandwidth"] if b["threads"] == t and b["capacity_bytes"] > 0}
        caps.append(f"{t} thread{'s' if t > 1 else ''}: " + ", ".join(
            f"{lv} {rp.fmt_bytes(c[lv])}" for lv in rp.LEVELS if lv in c))
    return (table(["kernel", "threads"] + [f"{lv} (GB/s)" for lv in levels], rows,
                  right=set(range(1, 2 + len(levels))))
            + "\n\nCapacities used for the levels: " + "; ".join(caps) + ".")


def latency_section(prof):
    entries = prof.get("latency") or []
    if not entries:
        return ("_The profile has no latency figures: it was calibrated before roofbench measured them "
                "(`roofbench calibrate` does)._")
    hz = (prof.get("spec", {}) or {}).get("nominal_hz")
    has_clock = isinstance(hz, (int, float)) and not isinstance(hz, bool) and hz > 0
    rows = []
    for e in sorted(entries, key=lambda e: (rp.LEVELS.index(e["level"]), e["bytes"], e["threads"])):
        r = [e["level"], rp.fmt_bytes(e["bytes"]), e["threads"], f"{e['ns_per_load']:.1f}"]
        if has_clock:
            r.append(f"{e['ns_per_load'] * 1e-9 * hz:.0f}")
        rows.append(r)
    headers = ["level", "working set", "threads", "ns per load"] + (["cycles at nominal clock"] if has_clock else [])
    thp = prof.get("machine", {}).get("transparent_hugepage")
    note = ("\n\nA random pointer chase over cache-line slots (one cycle, so every load depends on the "
            "previous one and no prefetcher can follow); best of the repetitions. The buffer asks for "
            "transparent huge pages; with 4 KiB pages the DRAM figure also includes TLB misses"
            + (f" (this machine's setting: `{thp}`)." if thp else "."))
    return table(headers, rows, right=set(range(2, len(headers)))) + note


def prediction_section(rows, has_classic):
    out = []
    fitted = score(rows["predicted_s"], rows["measured_s"])
    headers = ["model", "rows", "MAPE %", "median |err| %", "within ±10 %", "within ±25 %"]
    overall = [["fitted (predicted_s)"] + score_cells(fitted)]
    if has_classic:
        c = rows[rows["classic_s"].notna()]
        overall.append(["classic (classic_s)"] + score_cells(score(c["classic_s"], c["measured_s"])))
    # The noise floor: the run's own repetitions, last half against first, scored like a
    # prediction (roofbench evaluate does the same); a ±10 % score means little below it.
    if {"measured_first_s", "measured_second_s"} <= set(rows.columns):
        first, second = rows["measured_first_s"], rows["measured_second_s"]  # numeric: main() loads them so
        ok = first.notna() & second.notna() & (first > 0)
        if ok.any():
            floor = score(second[ok], first[ok])
            overall.append(["noise floor (second half of the repetitions vs first)"] + score_cells(floor))
    out.append("Overall:\n\n" + table(headers, overall, right={1, 2, 3, 4, 5}))

    per = []
    groups = rows.groupby(["op", "impl", "dtype"], sort=False)
    keys = sorted(groups.groups, key=lambda k: (rp.op_order(rows["op"].unique()).index(k[0]),
                                               rp.impl_order(rows["impl"].unique()).index(k[1]),
                                               rp.dtype_order(rows["dtype"].unique()).index(k[2])))
    for key in keys:
        g = groups.get_group(key)
        r = list(key) + score_cells(score(g["predicted_s"], g["measured_s"]))[:5]
        if has_classic:
            c = g[g["classic_s"].notna()]
            r += score_cells(score(c["classic_s"], c["measured_s"]))[1:]
        per.append(r)
    h = ["op", "impl", "dtype", "rows", "fitted MAPE %", "fitted median %", "fitted ±10 %", "fitted ±25 %"]
    if has_classic:
        h += ["classic MAPE %", "classic median %", "classic ±10 %", "classic ±25 %"]
    out.append("Per (op, impl, dtype):\n\n" + table(h, per, right=set(range(3, len(h)))))

    err = rows["predicted_s"] / rows["measured_s"] - 1
    ranked = rows.assign(_err=err, _abs=err.abs()).sort_values("_abs", kind="stable")
    n = min(5, len(ranked))

    def row_cells(r):
        cells = [r["op"], r["impl"], r["dtype"], int(r["threads"]), int(r["batch"]), rp.short_shape(r["shape"], 60),
                 rp.fmt_seconds(r["measured_s"]), rp.fmt_seconds(r["predicted_s"]), f"{100 * r['_err']:+.1f}"]
        if has_classic:
            cs = r["classic_s"]
            cells += [rp.fmt_seconds(cs), "–" if cs != cs else f"{100 * (cs / r['measured_s'] - 1):+.1f}"]
        cells.append(str(r.get("bound", "")) if "bound" in rows.columns else "")
        return cells

    h = ["op", "impl", "dtype", "threads", "batch", "shape", "measured", "predicted", "error %"]
    if has_classic:
        h += ["classic", "classic error %"]
    h.append("bound")
    right = {3, 4, 6, 7, 8} | ({9, 10} if has_classic else set())
    out.append(f"The {n} best predicted rows (smallest |predicted / measured − 1|):\n\n"
               + table(h, [row_cells(r) for _, r in ranked.head(n).iterrows()], right=right))
    out.append(f"The {n} worst predicted rows:\n\n"
               + table(h, [row_cells(r) for _, r in ranked.tail(n).iloc[::-1].iterrows()], right=right))
    return "\n\n".join(out)


def kernels_section(prof):
    ks = prof.get("kernels") or []
    if not ks:
        return "_The profile has no kernel fits (calibrated with `--no-fit`): every row is predicted by the classic roofline._"
    ops = rp.op_order([k["op"] for k in ks])
    impls = rp.impl_order([k["impl"] for k in ks])
    dtypes = rp.dtype_order([k["dtype"] for k in ks])
    ks = sorted(ks, key=lambda k: (ops.index(k["op"]), k["class"], impls.index(k["impl"]),
                                   dtypes.index(k["dtype"]), k["threads"]))
    peaks = {(p["dtype"], p["threads"]): rp.roof_peak(prof, p["dtype"], p["threads"])["ops_per_s"]
             for p in prof["peaks"] if rp.roof_peak(prof, p["dtype"], p["threads"])}
    read = {(b["level"], b["threads"]): b["bytes_per_s"] for b in prof["bandwidth"] if b["kernel"] == "read"}
    rows, flagged = [], 0

    def giga(v, limit):
        """v in G/s; marked † when above 1.25x the machine's own figure (limit), i.e. a
        parameter the training sweep did not pin down."""
        nonlocal flagged
        text = f"{v / 1e9:.1f}" if abs(v) < 1e14 else f"{v / 1e9:.3g}"
        if limit and v > 1.25 * limit:
            flagged += 1
            text += " †"
        return text

    def per_group(k):
        # Grouped and depthwise conv2d fits (per sample and group) and mv (per output row) have
        # the term; older profiles lack the key.
        g = k.get("group_overhead_s")
        counted = k["class"] in ("grouped", "depthwise") or k["op"] == "mv"
        return f"{g * 1e6:.3f}" if counted and isinstance(g, (int, float)) else "–"

    def per_region(k):
        # opt's fits from its own blocking (blocking: true); profiles before the term lack it.
        r = k.get("region_overhead_s")
        return f"{r * 1e6:.3f}" if k.get("blocking") and isinstance(r, (int, float)) and r > 0 else "–"

    def pack(k):
        # opt's packing pass (blocking fits that chose it); profiles before the term lack it.
        r = k.get("pack_elems_per_s")
        return f"{r / 1e9:.2f}" if isinstance(r, (int, float)) and r > 0 else "–"

    def halves(k):
        h = k.get("half_mnk")
        if k.get("blocking"):
            return "tiles"
        return "/".join(f"{v:.3g}" for v in h) if isinstance(h, list) and any(v > 0 for v in h) else "–"

    def cv(k):
        e = k.get("cv_mape")
        return f"{100 * e:.1f}" if isinstance(e, (int, float)) and e >= 0 else "–"

    for k in ks:
        bw, t = k["bytes_per_s"], k["threads"]
        rows.append([k["op"], k["class"], k["impl"], k["dtype"], t,
                     giga(k["compute_ops_per_s"], peaks.get((k["dtype"], t)))]
                    + [giga(bw[lv], read.get((lv, t))) if lv in bw else "–" for lv in rp.LEVELS]
                    + [f"{k['overhead_s'] * 1e6:.2f}", per_group(k), per_region(k), pack(k), halves(k), f"{k['blend']:g}",
                       cv(k), f"{100 * k['train_mape']:.1f}"])
    h = ["op", "class", "impl", "dtype", "threads", "compute (G/s)"] + [f"{lv} (GB/s)" for lv in rp.LEVELS] \
        + ["overhead (µs)", "per group (µs)", "per region (µs)", "pack (G el/s)", "half M/N/K", "blend", "cv MAPE %",
           "train MAPE %"]
    note = (f"\n\n† ({flagged} figures): more than 1.25× the machine's own measured figure at that thread count "
            "(profile `peaks` for the compute column, `bandwidth` read for the level columns), i.e. a term "
            "the training sweep barely constrained.") if flagged else ""
    return ("blend: 0 = hard max of the two terms, 1 = their sum, 2 or 4 = smooth max. Compute in GFLOP/s "
            "(integer GOP/s for i8/i4).\n\n" + table(h, rows, right=set(range(4, len(h)))) + note)


def measurement_section(rows, prof):
    """How the run measured: repetitions kept and rejected, rows that never converged, the spread
    of each row's floor, and how much slower the machine ran the rows than its own speed (docs/measurement.md,
    "Measurements that repeat")."""
    if "repetitions_rejected" not in rows.columns:
        return "_This run predates the measurement protocol: no record of rejected repetitions or intervals._"
    import pandas as pd

    kept = pd.to_numeric(rows["repetitions"], errors="coerce").fillna(0)
    rejected = pd.to_numeric(rows["repetitions_rejected"], errors="coerce").fillna(0)
    converged = rows["converged"] == "yes"
    half = ((rows["measured_hi_s"] - rows["measured_lo_s"]) / 2 / rows["measured_s"]).dropna()
    slow = rows["slowdown"].dropna()
    canary = ", ".join(f"{c['seconds'] * 1e3:.3f} ms at {c['threads']} threads" for c in prof.get("canary", []))
    h = ["figure", "value"]
    body = [
        ["rows", len(rows)],
        ["repetitions kept / rejected", f"{int(kept.sum())} / {int(rejected.sum())} "
                                        f"({num(100 * rejected.sum() / max(1.0, kept.sum() + rejected.sum()), '.1f')}%)"],
        ["rows with a rejected repetition", int((rejected > 0).sum())],
        ["rows whose floor was met three times within ±2%", f"{int(converged.sum())} of {len(rows)}"],
        ["median / worst spread of the floor (third-least over least, half)", f"{num(100 * half.median(), '.1f')}% / {num(100 * half.max(), '.1f')}%"
         if not half.empty else "–"],
        ["slowdown lived (median / worst)", f"{num(slow.median(), '.2f')}x / {num(slow.max(), '.2f')}x"
         if not slow.empty else "–"],
        ["the profile's canary (the machine's own speed)", canary or "–"],
    ]
    return ("A repetition taken while the canary ran over 25% slower than its best, or while others took over "
            "10% of the machine's CPU time, or while one of its threads waited for its vCPU over 5% of it, does not "
            "count; `measured_s` is the least of the rest, and a row is done "
            "when that floor was met three times within ±2%.\n\n"
            + table(h, body) + doctor_section(prof))


def doctor_section(prof):
    """What `roofbench doctor`'s probes saw during the calibration (profile machine.doctor)."""
    d = (prof.get("machine") or {}).get("doctor")
    if not isinstance(d, dict):
        return "\n\n_The profile has no record of the machine's state during calibration (made before `doctor`)._"
    verdict = " ".join(str(v) for v in d.get("verdict", []))
    rows = []
    for p in d.get("probes", []):
        if not isinstance(p, dict):
            continue
        f = lambda k: num(p.get(k), ".3g") if isinstance(p.get(k), (int, float)) else "–"
        rows.append([p.get("name", "?"), p.get("unit", ""), f("median"), f"{f('p10')} – {f('p90')}",
                     f"{p.get('slow_rounds', 0)} of {p.get('rounds', 0)}", f("longest_slow_phase_s")])
    seconds = d.get("seconds")
    head = (f"\n\nDuring the calibration, `roofbench doctor`'s probes ran for "
            f"{num(seconds, '.0f') if isinstance(seconds, (int, float)) else '?'} s: {verdict}\n\n")
    return head + table(["probe", "unit", "median", "p10 – p90", "slow rounds", "longest slow phase (s)"], rows,
                        right={2, 4, 5})


def plots_section(plots_dir, out):
    pngs = sorted(pathlib.Path(plots_dir).glob("*.png"),
                  key=lambda p: (next((i for i, n in enumerate(PLOT_ORDER) if p.stem.startswith(n)), 99), p.name))
    if not pngs:
        return f"_No PNG in {plots_dir}._"
    parts = []
    base = out.resolve().parent
    for p in pngs:
        rel = pathlib.Path(os.path.relpath(p.resolve(), base)).as_posix().replace(" ", "%20")
        parts.append(f"### {p.stem}\n\n![{p.stem}]({rel})")
    return "\n\n".join(parts)


def run():
    args = parse_args()
    prof = rp.load_profile(args.profile, need=("machine", "peaks", "bandwidth"),
                           optional=("kernels", "latency", "canary"))
    df = rp.load_csv(args.run, REQUIRED, NUMERIC,
                     optional_numeric=["classic_s", "measured_first_s", "measured_second_s", "measured_lo_s",
                                       "measured_hi_s", "slowdown", "lived_s"])
    rows = rp.measured_rows(df, args.run)
    rp.positive(rows, "predicted_s", args.run)
    has_classic = "classic_s" in rows.columns and rows["classic_s"].notna().any()
    if has_classic:
        rp.positive(rows, "classic_s", args.run)
    plots = pathlib.Path(args.plots)
    if not plots.is_dir():
        raise rp.InputError(args.plots, "no such directory")
    out = rp.out_path(args.out)

    cpu = prof["machine"].get("cpu", "")
    predicted = rows[rows["predicted_s"].notna()]
    if predicted.empty:
        scores = "_No row of the run has a prediction (run with `--profile P.json`)._"
    else:
        scores = prediction_section(predicted, has_classic)
    skipped = len(df) - len(rows)
    counts = (f"{len(rows)} measured rows" + (f" ({skipped} without a time left out)" if skipped else "")
              + f", {len(predicted)} with a prediction; dtypes {', '.join(rp.dtype_order(rows['dtype'].unique()))}; "
              f"threads {', '.join(str(int(t)) for t in sorted(rows['threads'].unique()))}; "
              f"batch {', '.join(str(int(b)) for b in sorted(rows['batch'].unique()))}.")
    text = "\n\n".join([
        f"# roofbench report{' — ' + cpu if cpu else ''}",
        f"Profile `{args.profile}`, run `{args.run}`, plots from `{args.plots}`. Every figure below is "
        "read from those files, which the roofbench binary wrote.",
        "## Machine", machine_section(prof),
        "## Compute peaks", peaks_section(prof),
        "## Bandwidth per memory level",
        "Best sustained rate of each calibration loop per level (`read`: sum; `copy`: STREAM counting; "
        "`stream`: non-temporal stores, DRAM only).",
        bandwidth_section(prof),
        "## Memory latency per level", latency_section(prof),
        "## Measurement", measurement_section(rows, prof),
        "## Prediction scores",
        f"{counts} Error = predicted / measured − 1; MAPE is the mean |error|.",
        scores,
        "## Kernel fits", kernels_section(prof),
        "## Plots", plots_section(args.plots, out),
    ]) + "\n"
    rp.write_text(out, text)
    print(out)


if __name__ == "__main__":
    rp.main(PROG, run)
