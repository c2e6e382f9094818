#!/usr/bin/env python3
"""Speed by bit width for one compute-bound and one memory-bound layer of a run CSV.

Bars of achieved ops/s (ops / measured_s) per dtype, in the order f64, f32, bf16, f16, i8,
i4 (those measured), one bar per impl, each labelled with its latency. The two layers are
chosen among those measured in two or more dtypes (at the largest thread count, or
--threads): by the `bound` column when the CSV has one (the compute-bound layer with the
highest intensity, the memory-bound one with the lowest), else by intensity alone (the
highest and the lowest).

    scripts/plot_bitwidth.py results/<machine-id>/run.csv --out plots/bitwidth.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "plot_bitwidth.py"
REQUIRED = run_columns("op", "impl", "dtype", "threads", "batch", "shape", "ops", "bytes", "measured_s")
NUMERIC = run_columns("threads", "batch", "ops", "bytes", "measured_s")
LAYER = run_columns("op", "shape", "batch")


def parse_args():
    return rp.plot_parser(PROG, __doc__, [("run", "RUN.csv", "a CSV written by `roofbench run --dtypes LIST`")],
                          threads_help="thread count to plot (default: the largest)").parse_args()


def layer_table(rows):
    """One line per layer measured in >= 2 dtypes: its intensity (median over its rows) and
    its bound (the bound of most of its rows; '' when the CSV has none)."""
    has_bound = "bound" in rows.columns
    out = []
    for key, g in rows.groupby(LAYER, sort=False):
        if g["dtype"].nunique() < 2:
            continue
        bound = ""
        if has_bound:
            b = g["bound"].astype(str).str.strip()
            b = b[b != ""]
            if len(b):
                bound = "compute" if (b == "compute").mean() >= 0.5 else "memory"
        out.append({"key": key, "intensity": float((g["ops"] / g["bytes"]).median()), "bound": bound})
    return out


def choose(layers):
    """[(layer, why)] for the compute-bound and the memory-bound layer (one when only one
    layer qualifies)."""
    def intensity(x):
        return x["intensity"]

    compute = [x for x in layers if x["bound"] == "compute"]
    if compute:
        hi, hi_why = max(compute, key=intensity), "compute-bound (bound column), highest intensity"
    else:
        hi, hi_why = max(layers, key=intensity), "highest intensity"
    memory = [x for x in layers if x["bound"] == "memory" and x is not hi]
    if memory:
        lo, lo_why = min(memory, key=intensity), "memory-bound (bound column), lowest intensity"
    else:
        rest = [x for x in layers if x is not hi]
        if not rest:
            return [(hi, hi_why)]
        lo, lo_why = min(rest, key=intensity), "lowest intensity"
    return [(hi, hi_why), (lo, lo_why)]


def run():
    args = parse_args()
    _, rows = rp.counted_rows(args.run, REQUIRED, NUMERIC)
    threads = args.threads if args.threads is not None else int(rows["threads"].max())
    rows = rows[rows["threads"] == threads]
    if rows.empty:
        raise rp.InputError(args.run, f"no measured row at {threads} threads")
    layers = layer_table(rows)
    if not layers:
        have = ", ".join(rp.dtype_order(rows["dtype"].unique()))
        raise rp.InputError(args.run, f"no layer measured in two or more dtypes at {threads} threads "
                                      f"(the CSV has {have}; run with --dtypes f64,f32)")
    picks = choose(layers)
    out = rp.out_path(args.out)

    plt = rp.pyplot()
    import numpy as np

    impls = rp.impl_order(rows["impl"].unique())
    all_impls = list(rows["impl"].unique())
    all_dtypes = rp.dtype_order(rows["dtype"].unique())
    ints = any(d.startswith("i") for d in all_dtypes)
    floats = any(not d.startswith("i") for d in all_dtypes)
    unit = "GOP/s (FLOP/s for floats, integer OP/s for i8/i4)" if ints and floats else \
        ("GOP/s (integer)" if ints else "GFLOP/s")
    per_byte = "FLOP/byte" if not ints else ("ops/byte" if floats else "OP/byte")
    fig, axes = plt.subplots(1, len(picks), figsize=(6.2 * len(picks) + 1.6, 5.6), squeeze=False)
    for ax, (layer, why) in zip(axes[0], picks):
        op, shape, batch = layer["key"]
        g = rows[(rows["op"] == op) & (rows["shape"] == shape) & (rows["batch"] == batch)]
        dtypes = rp.dtype_order(g["dtype"].unique())
        present = [i for i in impls if i in set(g["impl"])]
        width = 0.8 / max(len(present), 1)
        top = 0.0
        for j, impl in enumerate(present):
            xs, ys, times = [], [], []
            for k, dt in enumerate(dtypes):
                r = g[(g["impl"] == impl) & (g["dtype"] == dt)]
                if r.empty:
                    continue
                t = float(r["measured_s"].median())
                xs.append(k - 0.4 + width * (j + 0.5))
                ys.append(float(r["ops"].iloc[0]) / t / 1e9)
                times.append(t)
            bars = ax.bar(xs, ys, width=width * 0.92, color=rp.impl_color(impl, all_impls), label=impl,
                          edgecolor="black", linewidth=0.4)
            for bar, t in zip(bars, times):
                ax.annotate(rp.fmt_seconds(t), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7.5,
                            rotation=90 if len(present) * len(dtypes) > 8 else 0)
            top = max([top] + ys)
        ax.set_xticks(np.arange(len(dtypes)))
        ax.set_xticklabels(dtypes)
        ax.set_xlim(-0.6, len(dtypes) - 0.4)
        ax.set_ylim(0, top * 1.18)
        ax.set_xlabel("dtype (widest to narrowest)")
        ax.set_ylabel(f"achieved {unit}")
        ax.grid(axis="x", visible=False)
        ax.set_title(f"{why}\n{rp.short_shape(shape, 56)}, batch {int(batch)}\n"
                     f"intensity {layer['intensity']:.3g} {per_byte} (median over dtypes)", fontsize=9.5)
    from matplotlib.patches import Patch

    shown = set()
    for layer, _ in picks:
        op, shape, batch = layer["key"]
        shown |= set(rows[(rows["op"] == op) & (rows["shape"] == shape) & (rows["batch"] == batch)]["impl"])
    handles = [Patch(facecolor=rp.impl_color(i, all_impls), edgecolor="black", linewidth=0.4, label=i)
               for i in impls if i in shown]
    axes[0][-1].legend(handles=handles, title="impl (bar label: latency)", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), frameon=False, borderaxespad=0.0)
    fig.suptitle(f"Speed by bit width, {threads} threads, {os.path.basename(args.run)}", fontsize=11)
    fig.tight_layout()
    rp.save_figure(fig, out)
    print(out)


if __name__ == "__main__":
    rp.main(PROG, run)
