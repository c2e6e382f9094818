"""Shared helpers of the plotting and report scripts: loading and checking what the
roofbench binary wrote (run/predict CSVs, the hardware profile JSON), atomic writes and one
plot style.

Every check failure raises InputError; `main()` turns it into one line on stderr,
"<script>: error: <file>: <what>", and exit status 1. No machine figure is typed in here:
peaks, bandwidths and capacities all come from the profile.
"""
import argparse
import json
import math
import os
import pathlib
import sys
import tempfile

DTYPE_ORDER = ["f64", "f32", "bf16", "f16", "i8", "i4"]
LEVELS = ["L1", "L2", "L3", "DRAM"]
IMPL_COLORS = {"naive": "#7f7f7f", "opt": "#1f77b4", "blas": "#d62728", "onednn": "#2ca02c"}
EXTRA_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#ff7f0e"]
OP_MARKERS = {"mv": "o", "gemm": "s", "conv2d": "^"}
EXTRA_MARKERS = ["D", "v", "P", "X", "*"]
DPI = 130


class InputError(Exception):
    """A refused input or an output that cannot be written: file and what is wrong."""

    def __init__(self, path, what):
        super().__init__(f"{path}: {what}")
        self.path = path
        self.what = what


class ArgumentParser(argparse.ArgumentParser):
    """argparse with roofbench's error contract: one line naming the problem (not argparse's
    usage block before it), exit status 2 as for the binary's bad command lines."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (--help shows the usage)", file=sys.stderr)
        sys.exit(2)


# The profile argument of the plot scripts that read one, for plot_parser.
PROFILE_INPUT = ("profile", "PROFILE.json", "a profile written by `roofbench calibrate`")


def plot_parser(prog, doc, inputs, out="FILE.png", out_help="the PNG to write", threads_help=None):
    """The command line of a plot script: its inputs ((name, metavar, help) each, positional),
    --out, and --threads when threads_help is given."""
    p = ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, metavar, help_ in inputs:
        p.add_argument(name, metavar=metavar, help=help_)
    p.add_argument("--out", required=True, metavar=out, help=out_help)
    if threads_help:
        p.add_argument("--threads", type=int, metavar="T", help=threads_help)
    return p


def counted_rows(path, required, numeric):
    """The run CSV at path (as load_csv) and its measured rows, threads as integers; refuses a
    row whose ops or bytes is empty or not positive, naming the line."""
    df = load_csv(path, required, numeric)
    rows = measured_rows(df, path)
    for col in ("ops", "bytes"):
        if rows[col].isna().any():
            raise InputError(path, f"line {rows.index[rows[col].isna()][0] + 2}: {col} is empty")
        positive(rows, col, path)
    int_column(rows, "threads", path)
    return df, rows


def main(prog, fn):
    """Run fn(), reporting an InputError (or any unexpected failure) as one line, exit 1.
    Set ROOFBENCH_DEBUG=1 to see the traceback of an unexpected failure."""
    try:
        fn()
    except InputError as e:
        print(f"{prog}: error: {e.path}: {' '.join(str(e.what).split())}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted was printed; no error, and no second
        # complaint from Python flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as e:  # noqa: BLE001 - one line instead of a traceback
        if os.environ.get("ROOFBENCH_DEBUG"):
            raise
        msg = " ".join(str(e).split()) or type(e).__name__
        print(f"{prog}: error: unexpected {type(e).__name__}: {msg} (ROOFBENCH_DEBUG=1 shows where)",
              file=sys.stderr)
        sys.exit(1)


def script_name(file):
    return pathlib.Path(file).name


# ---------------------------------------------------------------------------------------------
# CSV


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def load_csv(path, required, numeric=(), optional_numeric=()):
    """Read a run/predict CSV written by roofbench.

    required: columns that must exist. numeric: required columns whose non-empty cells must be
    numbers (empty cells become NaN: a failed row has no measured_s, a run without a profile
    no predicted_s). optional_numeric: the same check for columns used when present.
    Returns a pandas DataFrame; every other column stays text.
    """
    import pandas as pd

    p = pathlib.Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    if p.is_dir():
        raise InputError(path, "is a directory, not a CSV file")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty file (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(path, f"not a readable CSV ({first})") from None
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(path, f"not a roofbench CSV (missing columns: {', '.join(missing)})")
    if df.empty:
        raise InputError(path, "no data rows (only a header)")
    for col in list(numeric) + [c for c in optional_numeric if c in df.columns]:
        cells = df[col].astype(str).str.strip()
        bad = [(i, v) for i, v in cells.items() if v != "" and not _is_number(v)]
        if bad:
            i, v = bad[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise InputError(path, f"line {i + 2}: {col} '{v}' is not a number{more}")
        df[col] = pd.to_numeric(cells.replace("", float("nan")), errors="raise").astype(float)
    return df


def measured_rows(df, path):
    """The rows with a time: status ok (when that column exists) and a positive measured_s."""
    keep = df["measured_s"].notna()
    if "status" in df.columns:
        keep &= df["status"].astype(str).str.strip().isin(["ok", ""])
    out = df[keep]
    bad = out[~((out["measured_s"] > 0) & (out["measured_s"] < math.inf))]
    if len(bad):
        i = bad.index[0]
        raise InputError(path, f"line {i + 2}: measured_s '{df.loc[i, 'measured_s']}' is not a positive time")
    if out.empty:
        raise InputError(path, "no measured row (measured_s is empty everywhere: a `roofbench predict` CSV?)")
    return out.copy()


def positive(df, col, path):
    """Refuse a zero, negative or infinite value in a numeric column (empty cells pass)."""
    import numpy as np

    vals = df[col]
    bad = vals.notna() & ~((vals > 0) & np.isfinite(vals))
    if bad.any():
        i = vals[bad].index[0]
        raise InputError(path, f"line {i + 2}: {col} '{vals[i]:g}' must be a positive number")


def int_column(df, col, path):
    """A numeric column that must hold whole numbers (threads, batch)."""
    vals = df[col].dropna()
    bad = vals[(vals != vals.round()) | (vals < 1)]
    if len(bad):
        i = bad.index[0]
        raise InputError(path, f"line {i + 2}: {col} '{df.loc[i, col]:g}' is not a positive integer")


# ---------------------------------------------------------------------------------------------
# Profile JSON

_NUM = "number"
_INT = "integer"
_STR = "string"
_OBJ = "object"

# Only the fields the scripts read; the profile may hold more.
PROFILE_SCHEMA = {
    "peaks": {"dtype": _STR, "threads": _INT, "ops_per_s": _NUM},
    "bandwidth": {"level": _STR, "kernel": _STR, "threads": _INT, "bytes_per_s": _NUM,
                  "capacity_bytes": _INT},
    "curves": {"kernel": _STR, "threads": _INT, "points": list},
    "latency": {"level": _STR, "bytes": _INT, "threads": _INT, "ns_per_load": _NUM},
    "latency_curve": {"bytes": _INT, "ns_per_load": _NUM},
    "canary": {"threads": _INT, "seconds": _NUM},
    "kernels": {"op": _STR, "class": _STR, "impl": _STR, "dtype": _STR, "threads": _INT,
                "compute_ops_per_s": _NUM, "bytes_per_s": _OBJ, "overhead_s": _NUM,
                "blend": _NUM, "train_mape": _NUM},
}


def _check(value, kind):
    if kind == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STR:
        return isinstance(value, str)
    if kind == _OBJ:
        return isinstance(value, dict)
    return isinstance(value, kind)


def _kind_name(kind):
    return kind if isinstance(kind, str) else "list"


def load_profile(path, need=("peaks", "bandwidth"), optional=()):
    """Read and check a profile from `roofbench calibrate` (schema 1). `need`: the sections
    the caller uses; each must be a non-empty list whose entries carry the fields it reads.
    `optional`: sections checked the same way when the profile has them (non-empty)."""
    p = pathlib.Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, getattr(e, "strerror", None) or str(e)) from None
    if not text.strip():
        raise InputError(path, "empty file, not a profile")

    def no_constant(name):  # json accepts NaN/Infinity; calibrate never writes them
        raise ValueError(f"{name} is not valid JSON")

    try:
        prof = json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except ValueError as e:
        raise InputError(path, f"not valid JSON ({e})") from None
    if not isinstance(prof, dict):
        raise InputError(path, "not a roofbench profile (the top level is not an object)")
    if "schema" not in prof:
        raise InputError(path, "not a roofbench profile (no \"schema\" key)")
    if prof["schema"] != 1 or isinstance(prof["schema"], bool):
        raise InputError(path, f"unsupported profile schema {prof['schema']!r} (this script reads schema 1)")
    if "machine" in prof and not isinstance(prof["machine"], dict):
        raise InputError(path, "\"machine\" is not an object")
    present = [s for s in optional if s not in need and prof.get(s) not in (None, [])]
    for section in list(need) + present:
        if section == "machine":
            if not isinstance(prof.get("machine"), dict):
                raise InputError(path, "no \"machine\" object")
            continue
        entries = prof.get(section)
        if entries is None:
            raise InputError(path, f"no \"{section}\" list")
        if not isinstance(entries, list):
            raise InputError(path, f"\"{section}\" is not a list")
        if not entries:
            raise InputError(path, f"\"{section}\" is empty")
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict):
                raise InputError(path, f"{where} is not an object")
            for field, kind in PROFILE_SCHEMA[section].items():
                if field not in entry:
                    raise InputError(path, f"{where} has no \"{field}\"")
                if not _check(entry[field], kind):
                    raise InputError(path, f"{where}.{field} is {json.dumps(entry[field])[:40]}, expected a {_kind_name(kind)}")
            _check_entry(path, section, where, entry)
    return prof


def _check_entry(path, section, where, e):
    if section == "peaks":
        if e["ops_per_s"] <= 0 or e["threads"] < 1:
            raise InputError(path, f"{where}: ops_per_s and threads must be positive")
        # Optional (profiles from before every unit was measured lack them): roof defaults to
        # true, ops_per_cycle to unknown.
        if "roof" in e and not isinstance(e["roof"], bool):
            raise InputError(path, f"{where}.roof is {json.dumps(e['roof'])[:40]}, expected true or false")
        if "ops_per_cycle" in e and (not _check(e["ops_per_cycle"], _NUM) or e["ops_per_cycle"] < 0):
            raise InputError(path, f"{where}.ops_per_cycle is {json.dumps(e['ops_per_cycle'])[:40]}, "
                                   "expected a number >= 0")
    elif section == "bandwidth":
        if e["level"] not in LEVELS:
            raise InputError(path, f"{where}.level is \"{e['level']}\", expected one of {', '.join(LEVELS)}")
        if e["bytes_per_s"] <= 0 or e["threads"] < 1 or e["capacity_bytes"] < 0:
            raise InputError(path, f"{where}: bytes_per_s and threads must be positive, capacity_bytes not negative")
    elif section == "latency":
        if e["level"] not in LEVELS:
            raise InputError(path, f"{where}.level is \"{e['level']}\", expected one of {', '.join(LEVELS)}")
        if e["ns_per_load"] <= 0 or e["bytes"] < 1 or e["threads"] < 1:
            raise InputError(path, f"{where}: ns_per_load, bytes and threads must be positive")
    elif section == "canary":
        if e["seconds"] <= 0 or e["threads"] < 1:
            raise InputError(path, f"{where}: seconds and threads must be positive")
    elif section == "latency_curve":
        if e["ns_per_load"] <= 0 or e["bytes"] < 1:
            raise InputError(path, f"{where}: ns_per_load and bytes must be positive")
    elif section == "curves":
        if e["threads"] < 1:
            raise InputError(path, f"{where}.threads must be positive")
        if not e["points"]:
            raise InputError(path, f"{where}.points is empty")
        for j, pt in enumerate(e["points"]):
            w = f"{where}.points[{j}]"
            if not isinstance(pt, dict):
                raise InputError(path, f"{w} is not an object")
            for field in ("bytes", "bytes_per_s"):
                if field not in pt:
                    raise InputError(path, f"{w} has no \"{field}\"")
                if not _check(pt[field], _NUM) or pt[field] <= 0:
                    raise InputError(path, f"{w}.{field} is {json.dumps(pt[field])[:40]}, expected a positive number")
    elif section == "kernels":
        for level, v in e["bytes_per_s"].items():
            if level not in LEVELS:
                raise InputError(path, f"{where}.bytes_per_s has an unknown level \"{level}\"")
            if not _check(v, _NUM):
                raise InputError(path, f"{where}.bytes_per_s.{level} is {json.dumps(v)[:40]}, expected a number")


def roof_peak(prof, dtype, threads):
    """The dtype's roof at `threads` threads, as the predictor takes it (predictor/roofline.h
    machine_roof): the fastest peak entry that counts (`roof`, true when absent), whichever
    unit it is; None if there is none. i4 is the caller's business (it runs on i8's units)."""
    entries = [p for p in prof.get("peaks", []) if p["dtype"] == dtype and p["threads"] == threads
               and p.get("roof", True) is not False]
    return max(entries, key=lambda p: p["ops_per_s"]) if entries else None


# ---------------------------------------------------------------------------------------------
# Output


def out_path(path, is_dir=False):
    """Create the output directory (or the file's parent); refuse what cannot be written."""
    p = pathlib.Path(path)
    d = p if is_dir else p.parent
    if is_dir and p.exists() and not p.is_dir():
        raise InputError(path, "exists and is not a directory")
    if not is_dir and p.is_dir():
        raise InputError(path, "is a directory, expected a file name")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(d, f"cannot create the directory ({e.strerror or e})") from None
    return p


def _atomic(path, write):
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise InputError(path, f"cannot write ({e.strerror or e})") from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_figure(fig, path):
    """Write the figure as PNG to a temporary file next to `path`, then rename it."""
    import matplotlib.pyplot as plt

    _atomic(path, lambda f: fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight"))
    plt.close(fig)


def write_text(path, text):
    _atomic(path, lambda f: f.write(text.encode()))


# ---------------------------------------------------------------------------------------------
# Style and labels


def pyplot():
    """matplotlib's pyplot on the file-only backend, with the scripts' common style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 10, "axes.titlesize": 11,
        "axes.labelsize": 10, "legend.fontsize": 9, "axes.grid": True, "grid.alpha": 0.3,
        "grid.linestyle": "-", "axes.axisbelow": True,
    })
    return plt


def impl_color(impl, seen=None):
    if impl in IMPL_COLORS:
        return IMPL_COLORS[impl]
    seen = sorted(seen or [impl])
    return EXTRA_COLORS[seen.index(impl) % len(EXTRA_COLORS)] if impl in seen else EXTRA_COLORS[0]


def op_marker(op, seen=None):
    if op in OP_MARKERS:
        return OP_MARKERS[op]
    seen = sorted(seen or [op])
    return EXTRA_MARKERS[seen.index(op) % len(EXTRA_MARKERS)] if op in seen else EXTRA_MARKERS[0]


def impl_order(impls):
    known = [i for i in IMPL_COLORS if i in set(impls)]
    return known + sorted(set(impls) - set(known))


def dtype_order(dtypes):
    known = [d for d in DTYPE_ORDER if d in set(dtypes)]
    return known + sorted(set(dtypes) - set(known))


def op_order(ops):
    known = [o for o in OP_MARKERS if o in set(ops)]
    return known + sorted(set(ops) - set(known))


def ops_unit(dtype):
    """FLOP for the float types, integer OP for i8/i4 (docs/design.md, CSV columns: `ops`)."""
    return "OP" if str(dtype).startswith("i") else "FLOP"


def short_shape(shape, width=48):
    """A legend label for a shape descriptor: its name= label when it has one, else the
    descriptor itself, shortened."""
    parts = str(shape).split()
    for part in parts:
        if part.startswith("name="):
            name = part[len("name="):]
            dims = " ".join(p for p in parts[1:] if "=" in p and not p.startswith(("name=", "repeat=")))
            label = f"{parts[0]} {name}"
            if len(label) + len(dims) + 3 <= width:
                return f"{label} ({dims})"
            return label
    text = " ".join(p for p in parts if not p.startswith("repeat="))
    return text if len(text) <= width else text[: width - 1] + "…"


def byte_ticks(ax, xmin, xmax):
    """Log-scale x ticks at powers of 4 bytes between xmin and xmax, labelled KiB/MiB/GiB."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    lo_exp, hi_exp = math.floor(math.log(xmin, 4)), math.ceil(math.log(xmax, 4))
    ticks = [4 ** e for e in range(lo_exp, hi_exp + 1) if xmin <= 4 ** e <= xmax]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([fmt_bytes(t) for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())


def fmt_bytes(n):
    n = float(n)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            v = n / scale
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_seconds(s):
    if s != s:
        return "–"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.3g} µs"
    return f"{s * 1e9:.3g} ns"
