"""What the script tests (tests/python/test_*.py) share: the fixtures in tests/python/fixtures/,
running a script, and the checks of what it writes or refuses.

run.csv: 27 rows (mv, gemm, conv2d; opt, blas; f64, f32; threads 1, 2; batch 1, 4, 16; one
failed naive row) with predicted_s, classic_s, bound and level. profile.json: peaks, read/copy/
stream bandwidth at 1 and 2 threads, curves, a few kernel fits, the latency per level and its
sweep (latency, latency_curve) and a nominal clock (spec).
"""
import csv
import io
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
RUN = FIXTURES / "run.csv"
PROFILE = FIXTURES / "profile.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(script, *args, cwd=None):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def assert_png(path):
    data = pathlib.Path(path).read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000, path


def assert_refused(r, script, path, *words):
    """Exit 1, one line on stderr naming the script and the file, no traceback."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"{script}: error: {path}: "), r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def no_temp_files(d):
    return [p.name for p in pathlib.Path(d).iterdir() if p.name.startswith(".")] == []


def rows_of(path=RUN):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path, rows, fields=None):
    fields = fields or list(rows[0].keys())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())
    return path


# Every script that reads a run CSV: (script, args before the CSV, args after it).
CSV_SCRIPTS = {
    "plot_roofline.py": lambda csv_, out: [PROFILE, csv_, "--out", out],
    "plot_predicted.py": lambda csv_, out: [csv_, "--out", out / "p.png"],
    "plot_batch.py": lambda csv_, out: [csv_, "--out", out],
    "plot_bitwidth.py": lambda csv_, out: [csv_, "--out", out / "b.png"],
    "report.py": lambda csv_, out: ["--profile", PROFILE, "--run", csv_, "--plots", FIXTURES, "--out", out / "r.md"],
}
PROFILE_SCRIPTS = {
    "plot_roofline.py": lambda prof, out: [prof, RUN, "--out", out],
    "plot_bandwidth.py": lambda prof, out: [prof, "--out", out / "bw.png"],
    "report.py": lambda prof, out: ["--profile", prof, "--run", RUN, "--plots", FIXTURES, "--out", out / "r.md"],
}
ALL = sorted(set(CSV_SCRIPTS) | set(PROFILE_SCRIPTS) | {"plot_latency.py"})


def assert_plots(script, *args, png):
    """The script run with args succeeds and writes the PNG png."""
    r = run(script, *args)
    assert r.returncode == 0, r.stderr
    assert_png(png)
    return r


def assert_refuses_rows(tmp_path, script, keep, out, *words):
    """The script refuses the fixture run cut to the rows keep(row) accepts, naming words."""
    csv_ = write_rows(tmp_path / "run.csv", [r for r in rows_of() if keep(r)])
    r = run(script, csv_, "--out", out)
    assert_refused(r, script, csv_, *words)


def report_text(out, plots, profile=PROFILE, run_csv=RUN):
    """The report scripts/report.py writes to out from profile, run_csv and plots; it must succeed."""
    r = run("report.py", "--profile", profile, "--run", run_csv, "--plots", plots, "--out", out)
    assert r.returncode == 0, r.stderr
    return out.read_text()
