#!/usr/bin/env python3
"""Predicted against measured latency for a `roofbench run --profile` CSV.

Log-log; the y = x line with a shaded band where the prediction is within ±10% of the
measurement (predicted / measured - 1, as `roofbench evaluate` counts it). One colour per
impl, one marker per op: the fitted roofline (`predicted_s`) as filled markers, the classic
roofline (`classic_s`, when the CSV has it) as hollow markers of the same colour. The title
gives each model's share of rows within ±10%.

    scripts/plot_predicted.py results/<machine-id>/run.csv --out plots/predicted.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "plot_predicted.py"
REQUIRED = run_columns("op", "impl", "dtype", "threads", "measured_s", "predicted_s")
NUMERIC = run_columns("threads", "measured_s", "predicted_s")
BAND = 0.10


def parse_args():
    inputs = [("run", "RUN.csv", "a CSV written by `roofbench run --profile P.json`")]
    return rp.plot_parser(PROG, __doc__, inputs).parse_args()


def within(pred, meas, band=BAND):
    err = pred / meas - 1
    return float((err.abs() <= band + 1e-12).mean())


def load_rows(args):
    """The rows with both a measured and a predicted time, and whether they carry classic_s;
    refuses a run without predictions."""
    df = rp.load_csv(args.run, REQUIRED, NUMERIC, optional_numeric=["classic_s"])
    rows = rp.measured_rows(df, args.run)
    rows = rows[rows["predicted_s"].notna()]
    if rows.empty:
        raise rp.InputError(args.run, "no row has both measured_s and predicted_s (run with --profile P.json)")
    rp.positive(rows, "predicted_s", args.run)
    has_classic = "classic_s" in rows.columns and rows["classic_s"].notna().any()
    if has_classic:
        rp.positive(rows, "classic_s", args.run)
    return rows, has_classic


def draw_points(ax, rows, impls, ops, has_classic, ms):
    """A point per row: filled for the fitted prediction, hollow for the classic one."""
    all_impls, all_ops = list(rows["impl"].unique()), list(rows["op"].unique())
    for impl in impls:
        for op in ops:
            sel = rows[(rows["impl"] == impl) & (rows["op"] == op)]
            if sel.empty:
                continue
            color, marker = rp.impl_color(impl, all_impls), rp.op_marker(op, all_ops)
            if has_classic:
                c = sel[sel["classic_s"].notna()]
                ax.scatter(c["measured_s"] * ms, c["classic_s"] * ms, s=40, marker=marker, facecolors="none",
                           edgecolors=color, linewidths=1.1, alpha=0.85, zorder=3)
            ax.scatter(sel["measured_s"] * ms, sel["predicted_s"] * ms, s=40, marker=marker, color=color,
                       edgecolors="black", linewidths=0.4, alpha=0.85, zorder=4)


def legend_handles(rows, impls, ops, has_classic):
    """The legend's entries (impl colours, op markers, model fills, the diagonal and band) and
    its bold headers."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    all_impls, all_ops = list(rows["impl"].unique()), list(rows["op"].unique())
    handles = [Line2D([], [], linestyle="none", label="impl (colour)")]
    headers = {handles[0].get_label()}
    for impl in impls:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, label=impl,
                              color=rp.impl_color(impl, all_impls), markeredgecolor="black", markeredgewidth=0.4))
    handles.append(Line2D([], [], linestyle="none", label="op (marker)"))
    headers.add(handles[-1].get_label())
    for op in ops:
        handles.append(Line2D([], [], linestyle="none", marker=rp.op_marker(op, all_ops), markersize=7, label=op,
                              color="#bbbbbb", markeredgecolor="black", markeredgewidth=0.4))
    handles.append(Line2D([], [], linestyle="none", label="model (fill)"))
    headers.add(handles[-1].get_label())
    handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, color="#555555",
                          label="fitted (predicted_s)"))
    if has_classic:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="none",
                              markeredgecolor="#555555", label="classic (classic_s)"))
    handles.append(Line2D([], [], color="#1a7a1a", linewidth=0.9, label="predicted = measured"))
    handles.append(Patch(color="#2ca02c", alpha=0.3, label=f"within ±{BAND:.0%}"))
    return handles, headers


def title_of(rows, run_csv, has_classic):
    """The plot's title: how many rows, the share within the band per model, dtypes and threads."""
    fitted = within(rows["predicted_s"], rows["measured_s"])
    title = f"Predicted vs measured latency, {len(rows)} rows of {os.path.basename(run_csv)}\n" \
            f"within ±{BAND:.0%}: fitted {fitted:.0%}"
    if has_classic:
        c = rows[rows["classic_s"].notna()]
        title += f", classic {within(c['classic_s'], c['measured_s']):.0%}"
    dtypes = ", ".join(rp.dtype_order(rows["dtype"].unique()))
    threads = ", ".join(str(int(t)) for t in sorted(rows["threads"].unique()))
    title += f"  ({dtypes}; threads {threads})"
    return title


def run():
    args = parse_args()
    rows, has_classic = load_rows(args)
    out = rp.out_path(args.out)

    plt = rp.pyplot()
    import numpy as np

    fig, ax = plt.subplots(figsize=(9.5, 7))
    ms = 1e3  # plot in milliseconds
    vals = list(rows["measured_s"]) + list(rows["predicted_s"])
    if has_classic:
        vals += list(rows["classic_s"].dropna())
    lo, hi = min(vals) * ms / 2, max(vals) * ms * 2
    x = np.logspace(np.log10(lo), np.log10(hi), 50)
    ax.fill_between(x, x * (1 - BAND), x * (1 + BAND), color="#2ca02c", alpha=0.3, linewidth=0, zorder=1)
    ax.plot(x, x, color="#1a7a1a", linewidth=0.9, zorder=2)

    impls = rp.impl_order(rows["impl"].unique())
    ops = rp.op_order(rows["op"].unique())
    draw_points(ax, rows, impls, ops, has_classic, ms)
    handles, headers = legend_handles(rows, impls, ops, has_classic)
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                    borderaxespad=0.0)
    for text in leg.get_texts():
        if text.get_text() in headers:
            text.set_fontweight("bold")

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("measured latency (ms, median of the repetitions)")
    ax.set_ylabel("predicted latency (ms)")
    ax.set_title(title_of(rows, args.run, has_classic), fontsize=10.5)
    fig.tight_layout()
    rp.save_figure(fig, out)
    print(out)


if __name__ == "__main__":
    rp.main(PROG, run)
