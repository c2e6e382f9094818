#!/usr/bin/env python3
"""Latency and throughput against batch size for a few layers of a run CSV.

Picks up to four layers measured at two or more batch sizes (an mv and a gemm first, when
there are some) and draws OUT/batch.png with two panels, log-x: latency against batch, and
throughput (samples/s = batch / measured_s; also batch / predicted_s, dashed, when the CSV has
predictions) against batch, one line per (shape, impl). An mv with B right-hand vectors reads
its weights once for all B, so it turns into a GEMM as B grows: latency grows far slower than
the batch, and throughput is not 1 / latency.

    roofbench run --shapes bert-base --batch 1,2,4,8,16,32 ... --csv batch.csv
    scripts/plot_batch.py batch.csv --out plots/
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402
from columns import run_columns  # noqa: E402

PROG = "plot_batch.py"
REQUIRED = run_columns("op", "impl", "dtype", "threads", "batch", "shape", "measured_s")
NUMERIC = run_columns("threads", "batch", "measured_s")
IMPL_MARKERS = {"naive": "x", "opt": "o", "blas": "s", "onednn": "D"}
SHAPE_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
MAX_SHAPES = 4


def parse_args():
    p = rp.plot_parser(PROG, __doc__, [("run", "RUN.csv", "a CSV written by `roofbench run --batch LIST`")],
                       out="DIR", out_help="directory for batch.png (created)",
                       threads_help="thread count to plot (default: the largest)")
    p.add_argument("--dtype", metavar="D",
                   help="dtype to plot (default: f32 if measured, else the most measured)")
    return p.parse_args()


def pick_shapes(rows):
    """Up to MAX_SHAPES (op, shape) keys with >= 2 batch sizes: an mv and a gemm first (the
    one with the most batch sizes), then the others by number of batch sizes, in CSV order."""
    counts = rows.groupby(["op", "shape"], sort=False)["batch"].nunique()
    cands = [(key, n) for key, n in counts.items() if n >= 2]
    chosen = []
    for op in ("mv", "gemm"):
        of_op = [c for c in cands if c[0][0] == op]
        if of_op:
            chosen.append(max(of_op, key=lambda c: c[1])[0])
    rest = sorted((c for c in cands if c[0] not in chosen), key=lambda c: -c[1])
    chosen += [c[0] for c in rest][: MAX_SHAPES - len(chosen)]
    return chosen[:MAX_SHAPES]


def select_rows(args):
    """The measured rows to plot (one thread count, one dtype), whether they carry predictions,
    and the layers picked; refuses a run with nothing to plot."""
    df = rp.load_csv(args.run, REQUIRED, NUMERIC, optional_numeric=["predicted_s"])
    rows = rp.measured_rows(df, args.run)
    rp.int_column(rows, "threads", args.run)
    rp.int_column(rows, "batch", args.run)
    has_pred = "predicted_s" in rows.columns and rows["predicted_s"].notna().any()
    if has_pred:
        rp.positive(rows, "predicted_s", args.run)
    threads = args.threads if args.threads is not None else int(rows["threads"].max())
    rows = rows[rows["threads"] == threads]
    if rows.empty:
        raise rp.InputError(args.run, f"no measured row at {threads} threads")
    if args.dtype:
        dtype = args.dtype
    elif "f32" in set(rows["dtype"]):
        dtype = "f32"
    else:
        dtype = rows["dtype"].value_counts().index[0]
    rows = rows[rows["dtype"] == dtype]
    if rows.empty:
        raise rp.InputError(args.run, f"no measured {dtype} row at {threads} threads")
    shapes = pick_shapes(rows)
    if not shapes:
        raise rp.InputError(args.run, f"no layer measured at two or more batch sizes ({dtype}, {threads} threads; "
                                      "run with --batch 1,4,16)")
    return rows, has_pred, threads, dtype, shapes


def draw_lines(ax_lat, ax_thr, rows, shapes, impls, has_pred):
    """One line per (shape, impl) on both panels, predictions dashed; returns the batch sizes drawn."""
    batches = set()
    for i, (op, shape) in enumerate(shapes):
        color = SHAPE_COLORS[i % len(SHAPE_COLORS)]
        for impl in impls:
            sel = rows[(rows["op"] == op) & (rows["shape"] == shape) & (rows["impl"] == impl)]
            if sel.empty:
                continue
            sel = sel.groupby("batch", as_index=False).agg(
                measured_s=("measured_s", "median"),
                **({"predicted_s": ("predicted_s", "median")} if has_pred else {}))
            sel = sel.sort_values("batch")
            batches.update(sel["batch"])
            marker = IMPL_MARKERS.get(impl, "D")
            ax_lat.plot(sel["batch"], sel["measured_s"] * 1e3, color=color, marker=marker, linewidth=1.6,
                        markersize=6, markerfacecolor=color if marker != "x" else None)
            ax_thr.plot(sel["batch"], sel["batch"] / sel["measured_s"], color=color, marker=marker,
                        linewidth=1.6, markersize=6)
            if has_pred:
                p = sel[sel["predicted_s"].notna()]
                if not p.empty:
                    ax_lat.plot(p["batch"], p["predicted_s"] * 1e3, color=color, linestyle="--",
                                linewidth=1.0, alpha=0.8)
                    ax_thr.plot(p["batch"], p["batch"] / p["predicted_s"], color=color, linestyle="--",
                                linewidth=1.0, alpha=0.8)
    return batches


def legend_handles(shapes, impls, has_pred):
    """The legend's entries (layer colours, impl markers, line styles) and its bold headers."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none", label="layer (colour)")]
    headers = {handles[0].get_label()}
    for i, (_, shape) in enumerate(shapes):
        color = SHAPE_COLORS[i % len(SHAPE_COLORS)]
        handles.append(Line2D([], [], color=color, linewidth=2, label=rp.short_shape(shape, 44)))
    handles.append(Line2D([], [], linestyle="none", label="impl (marker)"))
    headers.add(handles[-1].get_label())
    for impl in impls:
        handles.append(Line2D([], [], linestyle="none", marker=IMPL_MARKERS.get(impl, "D"), color="#444444",
                              markersize=7, label=impl))
    handles.append(Line2D([], [], linestyle="none", label="line"))
    headers.add(handles[-1].get_label())
    handles.append(Line2D([], [], color="#444444", linewidth=1.6, label="measured"))
    if has_pred:
        handles.append(Line2D([], [], color="#444444", linewidth=1.0, linestyle="--", label="predicted (fitted)"))
    return handles, headers


def label_axes(ax_lat, ax_thr, batches):
    """Log axes with the batch sizes as ticks, and the panels' labels and titles."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = sorted(batches)
    for ax in (ax_lat, ax_thr):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{int(b)}" for b in ticks])
        ax.set_xlabel("batch size B (samples, log scale)")
    ax_lat.set_ylabel("latency per call (ms)")
    ax_lat.set_title("Latency per call against batch")
    ax_thr.set_ylabel("throughput = B / latency (samples/s)")
    ax_thr.set_title("Throughput = B / latency against batch (not 1 / latency)")


def run():
    args = parse_args()
    rows, has_pred, threads, dtype, shapes = select_rows(args)
    out = rp.out_path(args.out, is_dir=True)

    plt = rp.pyplot()
    fig, (ax_lat, ax_thr) = plt.subplots(1, 2, figsize=(14, 5.8))
    impls = rp.impl_order(rows["impl"].unique())
    batches = draw_lines(ax_lat, ax_thr, rows, shapes, impls, has_pred)
    handles, headers = legend_handles(shapes, impls, has_pred)
    label_axes(ax_lat, ax_thr, batches)
    leg = ax_thr.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                        borderaxespad=0.0)
    for text in leg.get_texts():
        if text.get_text() in headers:
            text.set_fontweight("bold")
    fig.suptitle(f"Batching, {dtype}, {threads} threads, {os.path.basename(args.run)}: "
                 "an mv with B vectors reads its weights once, so it turns into a GEMM as B grows",
                 fontsize=11)
    fig.tight_layout()
    path = out / "batch.png"
    rp.save_figure(fig, path)
    print(path)


if __name__ == "__main__":
    rp.main(PROG, run)
