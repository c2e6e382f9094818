#!/usr/bin/env python3
"""Roofline plots: the profile's roofs with every measured row of a run CSV on them.

One PNG per dtype in the CSV, OUT/roofline-<dtype>.png, log-log: the compute roof of that
dtype at T threads (profile `peaks`: the fastest unit that counts, named in the legend) and one slanted memory roof per level (profile
`bandwidth`, kernel "read": L1, L2, L3, DRAM), each bent at its ridge point; every measured
row at (intensity = ops / bytes, achieved = ops / measured_s), coloured by impl, marker by op.
T defaults to the largest thread count in the CSV; only rows at T are drawn.

    scripts/plot_roofline.py results/<machine-id>/profile.json results/<machine-id>/run.csv --out plots/
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "plot_roofline.py"
REQUIRED = run_columns("op", "impl", "dtype", "threads", "ops", "bytes", "measured_s")
NUMERIC = run_columns("threads", "ops", "bytes", "measured_s")
LEVEL_STYLE = {"L1": ("#b8860b", (0, (1, 1))), "L2": ("#8b5a2b", (0, (4, 2))),
               "L3": ("#556b2f", (0, (6, 2, 1, 2))), "DRAM": ("#2f2f2f", "-")}


def parse_args():
    p = rp.plot_parser(PROG, __doc__, [rp.PROFILE_INPUT, ("run", "RUN.csv", "a CSV written by `roofbench run`")],
                       out="DIR", out_help="directory for roofline-<dtype>.png (created)",
                       threads_help="thread count of the roofs and points (default: the largest in the CSV)")
    return p.parse_args()


def roofs_of(prof, dtype, threads, prof_name):
    """The compute roof (dtype it comes from, ops/s or None, unit) and the read bandwidths by
    level at threads; warns on stderr of a roof the plot will lack."""
    # i4 computes on the i8 units once unpacked (as the predictor's machine_peak says).
    # The roof is the fastest unit that counts (a bf16 roof may be AMX tiles, or f32 FMA after
    # converting while packing): the legend names it.
    roof_dtype = dtype
    roof = rp.roof_peak(prof, dtype, threads)
    if roof is None and dtype == "i4":
        roof_dtype = "i8"
        roof = rp.roof_peak(prof, "i8", threads)
    peak = roof["ops_per_s"] if roof else None
    roof_unit = (roof or {}).get("isa") or ""
    bws = {b["level"]: b["bytes_per_s"] for b in prof["bandwidth"]
           if b["kernel"] == "read" and b["threads"] == threads}
    levels = [lv for lv in rp.LEVELS if lv in bws]
    if peak is None:
        print(f"{PROG}: warning: {prof_name}: no {dtype} peak at {threads} threads; "
              f"roofline-{dtype}.png has no compute roof", file=sys.stderr)
    if not levels:
        print(f"{PROG}: warning: {prof_name}: no read bandwidth at {threads} threads; "
              f"roofline-{dtype}.png has no memory roof", file=sys.stderr)
    return roof_dtype, peak, roof_unit, bws, levels


def draw_points(ax, rows, intensity, achieved, handles, headers):
    """A point per row, coloured by impl and marked by op; adds their legend entries and
    headers to handles and headers."""
    from matplotlib.lines import Line2D

    impls = rp.impl_order(rows["impl"].unique())
    ops = rp.op_order(rows["op"].unique())
    all_impls, all_ops = list(rows["impl"].unique()), list(rows["op"].unique())
    for impl in impls:
        for op in ops:
            sel = ((rows["impl"] == impl) & (rows["op"] == op)).to_numpy()
            if sel.any():
                ax.scatter(intensity[sel], achieved[sel] / 1e9, s=42, alpha=0.8, zorder=3,
                           color=rp.impl_color(impl, all_impls), marker=rp.op_marker(op, all_ops),
                           edgecolors="black", linewidths=0.4)
    header = Line2D([], [], linestyle="none", label="impl (colour)")
    headers.append(header)
    handles.append(header)
    for impl in impls:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7,
                              color=rp.impl_color(impl, all_impls), markeredgecolor="black",
                              markeredgewidth=0.4, label=impl))
    header = Line2D([], [], linestyle="none", label="op (marker)")
    headers.append(header)
    handles.append(header)
    for op in ops:
        handles.append(Line2D([], [], linestyle="none", marker=rp.op_marker(op, all_ops), markersize=7,
                              color="#bbbbbb", markeredgecolor="black", markeredgewidth=0.4, label=op))


def plot_dtype(plt, dtype, rows, prof, threads, run_name, prof_name):
    from matplotlib.lines import Line2D
    import numpy as np

    unit = rp.ops_unit(dtype)
    roof_dtype, peak, roof_unit, bws, levels = roofs_of(prof, dtype, threads, prof_name)

    intensity = (rows["ops"] / rows["bytes"]).to_numpy()
    achieved = (rows["ops"] / rows["measured_s"]).to_numpy()
    xs = list(intensity) + ([peak / bws[lv] for lv in levels] if peak else [])
    xmin, xmax = min(xs) / 3, max(xs) * 3
    x = np.logspace(np.log10(xmin), np.log10(xmax), 400)

    fig, ax = plt.subplots(figsize=(10, 6.2))
    handles = [Line2D([], [], linestyle="none", label=f"roofs ({threads} threads)")]
    headers = [handles[0]]
    for lv in levels:
        color, style = LEVEL_STYLE[lv]
        y = bws[lv] * x if peak is None else np.minimum(bws[lv] * x, peak)
        (line,) = ax.plot(x, y / 1e9, color=color, linestyle=style, linewidth=1.6,
                          label=f"{lv} read {bws[lv] / 1e9:.0f} GB/s")
        handles.append(line)
    if peak:
        (line,) = ax.plot([xmin, xmax], [peak / 1e9] * 2, color="black", linewidth=2.2,
                          label=f"{roof_dtype} roof {peak / 1e9:.0f} G{unit}/s"
                                + (f": {roof_unit}" if roof_unit else ""))
        handles.append(line)

    draw_points(ax, rows, intensity, achieved, handles, headers)

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(xmin, xmax)
    ys = list(achieved / 1e9) + ([peak / 1e9] if peak else []) + [bws[lv] * xmin / 1e9 for lv in levels]
    ax.set_ylim(min(ys) / 2, max(ys) * 2)
    ax.set_xlabel(f"arithmetic intensity = ops / bytes ({unit}/byte)")
    ax.set_ylabel(f"performance (G{unit}/s)")
    cpu = prof.get("machine", {}).get("cpu", "")
    ax.set_title(f"Roofline, {dtype}, {threads} threads{' — ' + cpu if cpu else ''}\n"
                 f"{len(rows)} measured rows of {run_name}; roofs from {prof_name}", fontsize=10.5)
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                    handletextpad=0.6, borderaxespad=0.0)
    header_labels = {h.get_label() for h in headers}
    for text in leg.get_texts():
        if text.get_text() in header_labels:
            text.set_fontweight("bold")
    fig.tight_layout()
    return fig


def run():
    args = parse_args()
    prof = rp.load_profile(args.profile, need=("peaks", "bandwidth"))
    df, rows = rp.counted_rows(args.run, REQUIRED, NUMERIC)
    threads = args.threads if args.threads is not None else int(rows["threads"].max())
    rows = rows[rows["threads"] == threads]
    if rows.empty:
        raise rp.InputError(args.run, f"no measured row at {threads} threads "
                                      f"(the CSV has {', '.join(str(int(t)) for t in sorted(df['threads'].dropna().unique()))})")
    out = rp.out_path(args.out, is_dir=True)
    plt = rp.pyplot()
    run_name, prof_name = os.path.basename(args.run), os.path.basename(args.profile)
    for dtype in rp.dtype_order(rows["dtype"].unique()):
        fig = plot_dtype(plt, dtype, rows[rows["dtype"] == dtype], prof, threads, run_name, prof_name)
        path = out / f"roofline-{dtype}.png"
        rp.save_figure(fig, path)
        print(path)


if __name__ == "__main__":
    rp.main(PROG, run)
