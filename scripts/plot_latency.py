#!/usr/bin/env python3
"""Latency of a dependent load against working-set size, from a profile's `latency` figures.

The calibration's sweep (`latency_curve`, when the profile has it) as a line, each level's
figure (`latency`: L1, L2, L3, DRAM) as a labelled marker, and a dotted vertical line at each
cache size of the profile's `machine.caches` (one core's view: one thread chases). Both axes
log scale: the figures span two orders of magnitude, about 1 ns in L1 to about 100 ns in DRAM.

    scripts/plot_latency.py results/<machine-id>/profile.json --out plots/latency.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roofbench_plots as rp  # noqa: E402

PROG = "plot_latency.py"
LEVEL_COLORS = {"L1": "#2ca02c", "L2": "#1f77b4", "L3": "#9467bd", "DRAM": "#d62728"}


def parse_args():
    return rp.plot_parser(PROG, __doc__, [rp.PROFILE_INPUT]).parse_args()


def run():
    args = parse_args()
    prof = rp.load_profile(args.profile, need=("latency",), optional=("latency_curve",))
    out = rp.out_path(args.out)
    plt = rp.pyplot()

    fig, ax = plt.subplots(figsize=(11, 6.2))
    xs, ys = [], []
    curve = sorted(prof.get("latency_curve") or [], key=lambda p: p["bytes"])
    if curve:
        x = [p["bytes"] for p in curve]
        y = [p["ns_per_load"] for p in curve]
        xs += x
        ys += y
        ax.plot(x, y, color="#555555", linewidth=1.5, marker=".", markersize=5, label="sweep, 1 thread")
    for e in sorted(prof["latency"], key=lambda e: (rp.LEVELS.index(e["level"]), e["bytes"])):
        color = LEVEL_COLORS[e["level"]]
        xs.append(e["bytes"])
        ys.append(e["ns_per_load"])
        ax.plot([e["bytes"]], [e["ns_per_load"]], marker="o", markersize=9, color=color, linestyle="none",
                label=f"{e['level']}: {rp.fmt_bytes(e['bytes'])}, {e['threads']} thread{'s' if e['threads'] > 1 else ''}")
        ax.annotate(f"{e['level']} {e['ns_per_load']:.1f} ns", (e["bytes"], e["ns_per_load"]), textcoords="offset points",
                    xytext=(6, 6), fontsize=9, color=color, fontweight="bold")
    xmin, xmax = min(xs) / 1.5, max(xs) * 1.5

    caches = prof.get("machine", {}).get("caches", {})
    trans = ax.get_xaxis_transform()
    for name, c in (caches.items() if isinstance(caches, dict) else []):
        size = c.get("bytes") if isinstance(c, dict) else None
        if not isinstance(size, (int, float)) or isinstance(size, bool) or size <= 0:
            continue
        ax.axvline(size, color="#888888", linestyle=":", linewidth=1.0, zorder=1)
        ax.text(size * 1.04, 0.02, f"{name} {rp.fmt_bytes(size)}", transform=trans, ha="left", va="bottom",
                fontsize=8, color="#333333")
        xmin, xmax = min(xmin, size / 1.5), max(xmax, size * 1.5)

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(min(ys) / 1.6, max(ys) * 1.6)
    rp.byte_ticks(ax, xmin, xmax)
    ax.set_xlabel("working set (bytes, log scale)")
    ax.set_ylabel("ns per dependent load (log scale)")
    cpu = prof.get("machine", {}).get("cpu", "")
    ax.set_title(f"Load-to-use latency against working set{' — ' + cpu if cpu else ''}\n"
                 "random pointer chase over 64-byte slots, one thread, best of the repetitions; dotted: cache sizes "
                 f"({os.path.basename(args.profile)})", fontsize=10)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    rp.save_figure(fig, out)
    print(out)


if __name__ == "__main__":
    rp.main(PROG, run)
