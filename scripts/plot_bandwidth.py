#!/usr/bin/env python3
"""Memory bandwidth against working-set size, from a profile's calibration sweeps.

One line per (kernel, threads) of the profile's `curves` (read, copy, stream), log-x; a
dotted vertical line at each detected cache capacity (profile `bandwidth` entries with
capacity_bytes > 0, labelled L1/L2/L3 and the thread count they hold for), and a short
horizontal mark at each level's figure (`bandwidth` bytes_per_s) over the range of working
sets that level covers, in the colour of its curve.

    scripts/plot_bandwidth.py results/<machine-id>/profile.json --out plots/bandwidth.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402

PROG = "plot_bandwidth.py"
KERNEL_COLORS = {"read": "#1f77b4", "copy": "#ff7f0e", "stream": "#2ca02c"}
EXTRA = ["#9467bd", "#8c564b", "#e377c2"]
THREAD_STYLES = ["-", "--", ":", "-."]


def parse_args():
    return rp.plot_parser(PROG, __doc__, [rp.PROFILE_INPUT]).parse_args()


def mark_capacities(ax, prof, xmin, xmax):
    """Dotted lines at the cache capacities, labelled with the thread counts they hold at;
    returns the capacities by (threads, level) and the x range widened to show them all."""
    # Levels: capacities per thread count (L1/L2 grow with threads, a shared L3 does not).
    caps = {}  # (threads, level) -> capacity
    for b in prof["bandwidth"]:
        if b["capacity_bytes"] > 0 and b["level"] != "DRAM":
            caps[(b["threads"], b["level"])] = b["capacity_bytes"]
    by_cap = {}
    for (t, lv), cap in caps.items():
        by_cap.setdefault((lv, cap), []).append(t)
    trans = ax.get_xaxis_transform()
    for i, ((lv, cap), ts) in enumerate(sorted(by_cap.items(), key=lambda kv: kv[0][1])):
        ax.axvline(cap, color="#555555", linestyle=":", linewidth=1.0, zorder=1)
        ts_label = ",".join(str(t) for t in sorted(ts))
        ax.text(cap * 1.04, 0.99 - 0.05 * (i % 2), f"{lv} {rp.fmt_bytes(cap)}\n({ts_label} thr)",
                transform=trans, ha="left", va="top", fontsize=8, color="#333333")
        xmin, xmax = min(xmin, cap / 1.5), max(xmax, cap * 1.5)
    return caps, xmin, xmax


def mark_levels(ax, prof, caps, colors, styles, thread_counts, xmin, xmax):
    """Each level's figure as a shaded mark over the working sets it covers (the read ones
    labelled); returns the figures drawn, in GB/s."""
    ys = []
    # Horizontal marks: each level's figure over the working sets it covers.
    for b in prof["bandwidth"]:
        if b["kernel"] not in colors:
            continue
        t, lv = b["threads"], b["level"]
        order = rp.LEVELS.index(lv)
        lower = max([caps[(t, l)] for l in rp.LEVELS[:order] if (t, l) in caps] or [xmin])
        upper = caps.get((t, lv)) if lv != "DRAM" else xmax
        if upper is None or upper <= lower:
            lower, upper = xmin, xmax
        if lv == "DRAM":
            lower = max(lower, xmin)
        y = b["bytes_per_s"] / 1e9
        ys.append(y)
        ax.plot([lower, upper], [y, y], color=colors[b["kernel"]], linestyle=styles.get(t, "-"),
                linewidth=5, alpha=0.25, solid_capstyle="butt", zorder=0)
        if b["kernel"] == "read":  # the roofline's figures; labels of the other kernels would pile up
            frac = 0.25 + 0.5 * (thread_counts.index(t) % 2) if t in thread_counts else 0.5
            xl = lower * (upper / lower) ** frac
            ax.text(xl, y, f"{y:.0f}", fontsize=7.5, color=colors["read"], ha="center", va="bottom",
                    fontweight="bold", bbox=dict(facecolor="white", alpha=0.7, edgecolor="none", pad=0.6))
    return ys


def run():
    args = parse_args()
    prof = rp.load_profile(args.profile, need=("bandwidth", "curves"))
    out = rp.out_path(args.out)
    plt = rp.pyplot()

    kernels = []
    for c in prof["curves"]:
        if c["kernel"] not in kernels:
            kernels.append(c["kernel"])
    kernels.sort(key=lambda k: list(KERNEL_COLORS).index(k) if k in KERNEL_COLORS else 99)
    colors = {k: KERNEL_COLORS.get(k) or EXTRA[i % len(EXTRA)] for i, k in enumerate(kernels)}
    thread_counts = sorted({c["threads"] for c in prof["curves"]} | {b["threads"] for b in prof["bandwidth"]},
                           reverse=True)
    styles = {t: THREAD_STYLES[i % len(THREAD_STYLES)] for i, t in enumerate(thread_counts)}

    fig, ax = plt.subplots(figsize=(11, 6.2))
    xs, ys = [], []
    for c in sorted(prof["curves"], key=lambda c: (kernels.index(c["kernel"]), -c["threads"])):
        pts = sorted(c["points"], key=lambda p: p["bytes"])
        x = [p["bytes"] for p in pts]
        y = [p["bytes_per_s"] / 1e9 for p in pts]
        xs += x
        ys += y
        ax.plot(x, y, color=colors[c["kernel"]], linestyle=styles[c["threads"]], linewidth=1.5, marker=".",
                markersize=4, label=f"{c['kernel']}, {c['threads']} thread{'s' if c['threads'] > 1 else ''}")
    xmin, xmax = min(xs) / 1.5, max(xs) * 1.5

    caps, xmin, xmax = mark_capacities(ax, prof, xmin, xmax)
    ys += mark_levels(ax, prof, caps, colors, styles, thread_counts, xmin, xmax)

    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(0, max(ys) * 1.15)
    rp.byte_ticks(ax, xmin, xmax)
    ax.set_xlabel("working set (bytes, log scale; all threads together)")
    ax.set_ylabel("bandwidth (GB/s, 10⁹ bytes/s)")
    machine = prof.get("machine", {})
    cpu = machine.get("cpu", "")
    ax.set_title(f"Memory bandwidth against working set{' — ' + cpu if cpu else ''}\n"
                 f"curves: calibration sweeps; shaded marks: each level's figure (GB/s labelled for read); dotted: cache capacities "
                 f"({os.path.basename(args.profile)})", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0.0,
              title="kernel, threads")
    fig.tight_layout()
    rp.save_figure(fig, out)
    print(out)


if __name__ == "__main__":
    rp.main(PROG, run)
