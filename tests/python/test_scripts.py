"""The plotting and report scripts on the small fixtures in tests/python/fixtures/.

run.csv: 27 rows (mv, gemm, conv2d; opt, blas; f64, f32; threads 1, 2; batch 1, 4, 16; one
failed naive row) with predicted_s, classic_s, bound and level. profile.json: peaks, read/copy/
stream bandwidth at 1 and 2 threads, curves, a few kernel fits, the latency per level and its
sweep (latency, latency_curve) and a nominal clock (spec).
"""
import csv
import io
import json
import pathlib
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("script", ALL)
def test_help(script):
    r = run(script, "--help")
    assert r.returncode == 0 and "usage:" in r.stdout and "--out" in r.stdout, r.stderr


@pytest.mark.parametrize("script", ALL + ["tidy.py", "summary.py", "ratios.py"])
def test_bad_command_line_is_one_line_and_exit_2(script):
    r = run(script, "--no-such-option")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"{script}: error: "), r.stderr


# --- what each script writes --------------------------------------------------------------


def test_roofline_one_png_per_dtype(tmp_path):
    out = tmp_path / "plots"
    r = run("plot_roofline.py", PROFILE, RUN, "--out", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["roofline-f32.png", "roofline-f64.png"]
    for p in out.iterdir():
        assert_png(p)
    assert r.stderr == ""


def test_roofline_threads_option(tmp_path):
    r = run("plot_roofline.py", PROFILE, RUN, "--out", tmp_path, "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "roofline-f32.png")
    r = run("plot_roofline.py", PROFILE, RUN, "--out", tmp_path / "x", "--threads", "8")
    assert_refused(r, "plot_roofline.py", RUN, "no measured row at 8 threads")


def test_roofline_from_another_cwd(tmp_path):
    # scripts/<name>.py finds its shared module wherever it is started from
    r = subprocess.run([sys.executable, str(SCRIPTS / "plot_roofline.py"), str(PROFILE), str(RUN),
                        "--out", "rel"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "rel" / "roofline-f64.png")


def test_predicted(tmp_path):
    out = tmp_path / "sub" / "predicted.png"
    r = run("plot_predicted.py", RUN, "--out", out)
    assert r.returncode == 0, r.stderr
    assert_png(out)
    assert no_temp_files(out.parent)


def test_predicted_without_classic_column(tmp_path):
    rows = rows_of()
    fields = [f for f in rows[0] if f != "classic_s"]
    csv_ = write_rows(tmp_path / "run.csv", rows, fields)
    r = run("plot_predicted.py", csv_, "--out", tmp_path / "p.png")
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "p.png")


def test_predicted_refuses_a_run_without_predictions(tmp_path):
    rows = rows_of()
    for row in rows:
        row["predicted_s"] = ""
    csv_ = write_rows(tmp_path / "run.csv", rows)
    r = run("plot_predicted.py", csv_, "--out", tmp_path / "p.png")
    assert_refused(r, "plot_predicted.py", csv_, "predicted_s")
    assert not (tmp_path / "p.png").exists()


def test_batch(tmp_path):
    r = run("plot_batch.py", RUN, "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "batch.png")
    assert no_temp_files(tmp_path)


def test_batch_refuses_a_run_at_one_batch_size(tmp_path):
    csv_ = write_rows(tmp_path / "run.csv", [r for r in rows_of() if r["batch"] == "1"])
    r = run("plot_batch.py", csv_, "--out", tmp_path / "plots")
    assert_refused(r, "plot_batch.py", csv_, "two or more batch sizes")


def test_bitwidth(tmp_path):
    out = tmp_path / "bitwidth.png"
    r = run("plot_bitwidth.py", RUN, "--out", out)
    assert r.returncode == 0, r.stderr
    assert_png(out)


def test_bitwidth_without_bound_column(tmp_path):
    # chosen by intensity instead; the fixture has only f64 and f32
    rows = rows_of()
    csv_ = write_rows(tmp_path / "run.csv", rows, [f for f in rows[0] if f != "bound"])
    r = run("plot_bitwidth.py", csv_, "--out", tmp_path / "b.png")
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "b.png")


def test_bitwidth_refuses_a_single_dtype(tmp_path):
    csv_ = write_rows(tmp_path / "run.csv", [r for r in rows_of() if r["dtype"] == "f32"])
    r = run("plot_bitwidth.py", csv_, "--out", tmp_path / "b.png")
    assert_refused(r, "plot_bitwidth.py", csv_, "two or more dtypes")


def test_bandwidth(tmp_path):
    out = tmp_path / "bandwidth.png"
    r = run("plot_bandwidth.py", PROFILE, "--out", out)
    assert r.returncode == 0, r.stderr
    assert_png(out)


def test_latency_plot(tmp_path):
    out = tmp_path / "latency.png"
    r = run("plot_latency.py", PROFILE, "--out", out)
    assert r.returncode == 0, r.stderr
    assert_png(out)
    # the level markers alone (no sweep) are enough to plot
    prof = json.loads(PROFILE.read_text())
    prof.pop("latency_curve")
    only_levels = tmp_path / "levels.json"
    only_levels.write_text(json.dumps(prof))
    r = run("plot_latency.py", only_levels, "--out", tmp_path / "levels.png")
    assert r.returncode == 0, r.stderr
    assert_png(tmp_path / "levels.png")


@pytest.mark.parametrize("edit, words", [
    (lambda p: p.pop("latency"), "no \"latency\" list"),
    (lambda p: p["latency"][1].update(ns_per_load=-3), "latency[1]: ns_per_load, bytes and threads must be positive"),
    (lambda p: p["latency"][0].update(level="L9"), "latency[0].level is \"L9\""),
    (lambda p: p["latency"][2].pop("bytes"), "latency[2] has no \"bytes\""),
    (lambda p: p["latency_curve"][3].update(ns_per_load="slow"), "latency_curve[3].ns_per_load is \"slow\""),
])
def test_latency_plot_refuses_a_broken_latency(edit, words, tmp_path):
    prof = json.loads(PROFILE.read_text())
    edit(prof)
    bad = tmp_path / "profile.json"
    bad.write_text(json.dumps(prof))
    r = run("plot_latency.py", bad, "--out", tmp_path / "out" / "latency.png")
    assert_refused(r, "plot_latency.py", bad, words)
    assert not (tmp_path / "out" / "latency.png").exists()


def test_report_latency_table(tmp_path):
    out = tmp_path / "report.md"
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "## Memory latency per level" in text
    # level, working set, threads, ns per load, cycles at the spec's nominal 3 GHz
    assert "| L1 | 16 KiB | 1 | 1.2 | 4 |" in text
    assert "| DRAM | 64 MiB | 1 | 96.5 | 290 |" in text
    assert "TLB" in text
    # a profile calibrated before latency was measured still makes a report, and says why it has none
    prof = json.loads(PROFILE.read_text())
    prof.pop("latency")
    prof.pop("latency_curve")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(prof))
    r = run("report.py", "--profile", old, "--run", RUN, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "The profile has no latency figures" in out.read_text()
    # a broken latency entry is refused like any other broken section
    prof = json.loads(PROFILE.read_text())
    prof["latency"][0]["ns_per_load"] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(prof))
    r = run("report.py", "--profile", bad, "--run", RUN, "--plots", tmp_path, "--out", tmp_path / "bad.md")
    assert_refused(r, "report.py", bad, "latency[0]")


def test_report(tmp_path):
    plots = tmp_path / "plots"
    assert run("plot_bandwidth.py", PROFILE, "--out", plots / "bandwidth.png").returncode == 0
    assert run("plot_latency.py", PROFILE, "--out", plots / "latency.png").returncode == 0
    assert run("plot_predicted.py", RUN, "--out", plots / "predicted.png").returncode == 0
    out = tmp_path / "report.md"
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", plots, "--out", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    for heading in ("## Machine", "## Compute peaks", "## Bandwidth per memory level", "## Memory latency per level",
                    "## Prediction scores",
                    "## Kernel fits", "## Plots"):
        assert heading in text
    assert "Fixture CPU 9000" in text  # the profile's machine
    assert "| f32 | 2 | avx2+fma | 160.0 GFLOP/s | – | yes |" in text  # a peak of an older profile: no ops/cycle
    assert "| read | 2 | 220.0 | 170.0 | 110.0 | 24.0 |" in text  # bandwidth per level
    assert "best predicted rows" in text and "worst predicted rows" in text
    assert "| mv | dense | opt | f32 | 2 |" in text  # a kernel fit
    # image links, relative to the report
    assert "![bandwidth](plots/bandwidth.png)" in text
    assert "![latency](plots/latency.png)" in text
    assert text.index("![bandwidth]") < text.index("![latency]") < text.index("![predicted]")
    assert "![predicted](plots/predicted.png)" in text
    assert no_temp_files(tmp_path)


def units_profile(tmp_path):
    """The fixture profile with every bf16/f16 unit of a Sapphire Rapids core at 2 threads: the
    roof is the fastest that counts, the f16-accumulating unit is excluded."""
    prof = json.loads(PROFILE.read_text())
    prof["machine"]["measured_hz"] = 2.0e9
    prof["peaks"] += [
        {"dtype": "bf16", "threads": 2, "ops_per_s": 2.1e11, "isa": "avx512_bf16 (vdpbf16ps)", "spread": 0,
         "ops_per_cycle": 52.5, "roof": True},
        {"dtype": "bf16", "threads": 2, "ops_per_s": 3.9e12, "isa": "amx_bf16 (tdpbf16ps)", "spread": 0,
         "ops_per_cycle": 975.0, "roof": True},
        {"dtype": "f16", "threads": 2, "ops_per_s": 1.2e11, "isa": "f16c (vcvtph2ps + vfmadd231ps in the loop)",
         "spread": 0, "ops_per_cycle": 30.0, "roof": True},
        {"dtype": "f16", "threads": 2, "ops_per_s": 5.0e11, "isa": "avx512_fp16 (vfmadd231ph, f16 accumulation)",
         "spread": 0, "ops_per_cycle": 125.0, "roof": False},
    ]
    path = tmp_path / "units.json"
    path.write_text(json.dumps(prof))
    return path


def test_report_names_every_unit_and_its_roof(tmp_path):
    prof = units_profile(tmp_path)
    plots = tmp_path / "plots"
    plots.mkdir()
    out = tmp_path / "report.md"
    r = run("report.py", "--profile", prof, "--run", RUN, "--plots", plots, "--out", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "| bf16 | 2 | amx_bf16 (tdpbf16ps) | 3900.0 GFLOP/s | 975.0 | yes |" in text
    assert "| bf16 | 2 | avx512_bf16 (vdpbf16ps) | 210.0 GFLOP/s | 52.5 | no |" in text
    # Faster than the f16 roof, but accumulating in f16: listed, never the roof.
    assert "| f16 | 2 | avx512_fp16 (vfmadd231ph, f16 accumulation) | 500.0 GFLOP/s | 125.0 | excluded |" in text
    assert "| f16 | 2 | f16c (vcvtph2ps + vfmadd231ps in the loop) | 120.0 GFLOP/s | 30.0 | yes |" in text
    assert "2.00 GHz" in text


def test_roofline_legend_names_the_roofs_unit(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    import pandas as pd
    import roofbench_plots as rp
    import plot_roofline
    plt = rp.pyplot()
    prof = rp.load_profile(units_profile(tmp_path))
    rows = pd.DataFrame({"op": ["gemm"], "impl": ["opt"], "dtype": ["bf16"], "threads": [2], "ops": [2e9],
                         "bytes": [1e7], "measured_s": [0.01]})
    labels = [t.get_text() for t in plot_roofline.plot_dtype(plt, "bf16", rows, prof, 2, "run.csv", "units.json")
              .axes[0].get_legend().get_texts()]
    assert "bf16 roof 3900 GFLOP/s: amx_bf16 (tdpbf16ps)" in labels, labels
    labels = [t.get_text() for t in plot_roofline.plot_dtype(plt, "f16", rows.assign(dtype="f16"), prof, 2, "run.csv",
                                                             "units.json").axes[0].get_legend().get_texts()]
    assert "f16 roof 120 GFLOP/s: f16c (vcvtph2ps + vfmadd231ps in the loop)" in labels, labels


def test_report_scores(tmp_path):
    """The overall fitted score, recomputed here from the CSV."""
    rows = [r for r in rows_of() if r["status"] == "ok"]
    errs = sorted(abs(float(r["predicted_s"]) / float(r["measured_s"]) - 1) for r in rows)
    mape = 100 * sum(errs) / len(errs)
    w10 = 100 * sum(e <= 0.10 + 1e-12 for e in errs) / len(errs)
    out = tmp_path / "report.md"
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    line = next(l for l in out.read_text().splitlines() if l.startswith("| fitted (predicted_s) |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == str(len(rows))
    assert cells[2] == f"{mape:.1f}"
    assert cells[4] == f"{w10:.0f}"
    # the failed row (no measured_s) is left out, and said to be
    assert "1 without a time left out" in out.read_text()


def test_report_noise_floor(tmp_path):
    """With the halves of the repetitions in the CSV, the overall table has the run's own noise
    floor, scored like a prediction (second half against first); without them, no such row."""
    rows = rows_of()
    for i, r in enumerate(rows):
        # the second half 5 % slow on even rows, 20 % on odd ones: half the rows within 10 %
        r["measured_first_s"] = r["measured_s"] and "1.0"
        r["measured_second_s"] = r["measured_s"] and ("1.05" if i % 2 == 0 else "1.2")
    ok = [i for i, r in enumerate(rows) if r["status"] == "ok" and r["measured_s"]]
    w10 = 100 * sum(i % 2 == 0 for i in ok) / len(ok)
    csv_ = write_rows(tmp_path / "run.csv", rows)
    out = tmp_path / "report.md"
    r = run("report.py", "--profile", PROFILE, "--run", csv_, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    line = next(l for l in out.read_text().splitlines() if l.startswith("| noise floor"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == str(len(ok)) and cells[4] == f"{w10:.0f}", line
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0 and "| noise floor" not in out.read_text()


def test_report_refuses_missing_plots_dir(tmp_path):
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path / "nope", "--out", tmp_path / "r.md")
    assert_refused(r, "report.py", tmp_path / "nope", "no such directory")


# --- refusing malformed input -------------------------------------------------------------


@pytest.mark.parametrize("script", sorted(CSV_SCRIPTS))
def test_csv_missing_column(script, tmp_path):
    rows = rows_of()
    csv_ = write_rows(tmp_path / "run.csv", rows, [f for f in rows[0] if f != "measured_s"])
    r = run(script, *CSV_SCRIPTS[script](csv_, tmp_path))
    assert_refused(r, script, csv_, "missing columns: measured_s")


@pytest.mark.parametrize("script", sorted(CSV_SCRIPTS))
def test_csv_non_numeric_measured_s(script, tmp_path):
    rows = rows_of()
    rows[3]["measured_s"] = "fast"
    csv_ = write_rows(tmp_path / "run.csv", rows)
    r = run(script, *CSV_SCRIPTS[script](csv_, tmp_path))
    assert_refused(r, script, csv_, "line 5", "measured_s 'fast' is not a number")
    assert [p.name for p in tmp_path.iterdir()] == ["run.csv"]  # nothing written


@pytest.mark.parametrize("content, words", [
    ("", "empty file"),
    ("op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound\n", "no data rows"),
    ("this is not, a roofbench\nfile, at all\n", "missing columns"),
])
@pytest.mark.parametrize("script", ["plot_roofline.py", "plot_batch.py"])
def test_csv_empty_or_foreign(script, content, words, tmp_path):
    csv_ = tmp_path / "run.csv"
    csv_.write_text(content)
    r = run(script, *CSV_SCRIPTS[script](csv_, tmp_path))
    assert_refused(r, script, csv_, words)


def test_csv_missing_file(tmp_path):
    r = run("plot_predicted.py", tmp_path / "nope.csv", "--out", tmp_path / "p.png")
    assert_refused(r, "plot_predicted.py", tmp_path / "nope.csv", "no such file")


def test_csv_negative_time(tmp_path):
    rows = rows_of()
    rows[0]["measured_s"] = "-0.5"
    csv_ = write_rows(tmp_path / "run.csv", rows)
    r = run("plot_predicted.py", csv_, "--out", tmp_path / "p.png")
    assert_refused(r, "plot_predicted.py", csv_, "line 2", "not a positive time")


def broken_profiles():
    good = json.loads(PROFILE.read_text())

    def edit(fn):
        p = json.loads(json.dumps(good))
        fn(p)
        return json.dumps(p)

    return {
        "invalid-json": ('{"schema": 1, "peaks": [', "not valid JSON"),
        "empty": ("", "empty file"),
        "top-level-list": ("[1, 2]", "top level is not an object"),
        "schema-2": (edit(lambda p: p.update(schema=2)), "unsupported profile schema 2"),
        "no-schema": (edit(lambda p: p.pop("schema")), "no \"schema\" key"),
        "peak-without-ops": (edit(lambda p: p["peaks"][1].pop("ops_per_s")), "peaks[1] has no \"ops_per_s\""),
        "bandwidth-string": (edit(lambda p: p["bandwidth"][0].update(bytes_per_s="fast")),
                             "bandwidth[0].bytes_per_s is \"fast\", expected a number"),
        "bandwidth-level": (edit(lambda p: p["bandwidth"][0].update(level="L7")), "bandwidth[0].level is \"L7\""),
        "no-bandwidth": (edit(lambda p: p.pop("bandwidth")), "no \"bandwidth\" list"),
        "curve-point": (edit(lambda p: p["curves"][0]["points"][2].update(bytes=-1)), "curves[0].points[2].bytes"),
        "kernel-bytes": (edit(lambda p: p["kernels"][0]["bytes_per_s"].update(L2=None)),
                         "kernels[0].bytes_per_s.L2 is null"),
        "nan": (PROFILE.read_text().replace('"schema": 1', '"schema": NaN'), "NaN"),
    }


# Which broken profiles each script must notice (it reads only some sections).
PROFILE_CASES = [(s, c) for s in sorted(PROFILE_SCRIPTS) for c in broken_profiles()
                 if not (c == "curve-point" and s != "plot_bandwidth.py")
                 and not (c == "kernel-bytes" and s != "report.py")
                 and not (c == "peak-without-ops" and s == "plot_bandwidth.py")]


@pytest.mark.parametrize("script, case", PROFILE_CASES)
def test_broken_profile(script, case, tmp_path):
    text, words = broken_profiles()[case]
    prof = tmp_path / "profile.json"
    prof.write_text(text)
    out = tmp_path / "out"
    r = run(script, *PROFILE_SCRIPTS[script](prof, out))
    assert_refused(r, script, prof, words)
    assert not out.exists() or list(out.iterdir()) == []


def test_profile_missing_file(tmp_path):
    r = run("plot_bandwidth.py", tmp_path / "nope.json", "--out", tmp_path / "bw.png")
    assert_refused(r, "plot_bandwidth.py", tmp_path / "nope.json", "no such file")


def test_report_measurement_section(tmp_path):
    """The report says how the run measured: kept and rejected repetitions, rows that never came
    within ±2%, interval widths, the slowdown lived, and the profile's canary; a CSV from before
    the protocol says so instead."""
    import pandas as pd

    out = tmp_path / "report.md"
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "predates the measurement protocol" in out.read_text()

    df = pd.read_csv(RUN, dtype=str, keep_default_na=False)
    n = len(df)
    df["repetitions"] = "9"
    df["repetitions_rejected"] = ["3"] + ["0"] * (n - 1)
    df["converged"] = ["no"] + ["yes"] * (n - 1)
    m = pd.to_numeric(df["measured_s"], errors="coerce")
    df["measured_lo_s"] = (m * 0.99).map(lambda v: "" if pd.isna(v) else str(v))
    df["measured_hi_s"] = (m * 1.01).map(lambda v: "" if pd.isna(v) else str(v))
    df["lived_s"] = (m * 1.5).map(lambda v: "" if pd.isna(v) else str(v))
    df["slowdown"] = ["2.5"] + ["1.5"] * (n - 1)
    new = tmp_path / "run.csv"
    df.to_csv(new, index=False)
    k = int(m.notna().sum())  # the measured rows the report counts (a failed row has no time)
    assert m.notna().iloc[0]
    prof = json.loads(PROFILE.read_text())
    prof["canary"] = [{"threads": 2, "seconds": 1.25e-4}]
    p = tmp_path / "profile.json"
    p.write_text(json.dumps(prof))
    r = run("report.py", "--profile", p, "--run", new, "--plots", tmp_path, "--out", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "## Measurement" in text
    assert f"| repetitions kept / rejected | {9 * k} / 3 " in text
    assert "| rows with a rejected repetition | 1 |" in text
    assert f"| rows whose floor was met three times within ±2% | {k - 1} of {k} |" in text
    assert "| median / worst spread of the floor (third-least over least, half) | 1.0% / 1.0% |" in text
    assert "| slowdown lived (median / worst) | 1.50x / 2.50x |" in text
    assert "0.125 ms at 2 threads" in text
    # a broken canary entry is refused like any other broken section
    prof["canary"][0]["seconds"] = 0
    p.write_text(json.dumps(prof))
    r = run("report.py", "--profile", p, "--run", new, "--plots", tmp_path, "--out", tmp_path / "bad.md")
    assert_refused(r, "report.py", p, "canary[0]")


def test_report_says_what_doctor_saw_during_the_calibration(tmp_path):
    """The Measurement section ends with the calibration's doctor verdict and a row per probe;
    a profile from before doctor says it has no such record."""
    sys.path.insert(0, str(SCRIPTS))
    import report
    prof = json.loads(PROFILE.read_text())
    prof.setdefault("machine", {})["doctor"] = {
        "seconds": 10.2, "rounds": 20,
        "verdict": ["Measurements on this machine repeat to about ±3.1% (test).", "Why: slow phases (test)."],
        "probes": [{"name": "canary", "unit": "ms", "median": 0.45, "p10": 0.43, "p90": 0.61, "best": 0.42,
                    "rounds": 20, "slow_rounds": 6, "longest_slow_phase_s": 2.5, "repeat_pct": 3.1},
                   {"name": "steal cpu0", "unit": "%", "median": 0, "p10": 0, "p90": None, "best": 0,
                    "rounds": 20, "slow_rounds": 0, "longest_slow_phase_s": 0, "repeat_pct": None}]}
    text = report.doctor_section(prof)
    assert "probes ran for 10 s: Measurements on this machine repeat to about ±3.1% (test). Why: slow phases (test)." in text
    assert "| canary | ms | 0.45 | 0.43 – 0.61 | 6 of 20 | 2.5 |" in text
    assert "| steal cpu0 | % | 0 | 0 – – | 0 of 20 | 0 |" in text
    del prof["machine"]["doctor"]
    assert "no record of the machine's state during calibration" in report.doctor_section(prof)


def _run_csv(path, times, slowdown=None):
    head = "op,impl,dtype,threads,batch,shape,measured_s,status" + (",slowdown" if slowdown else "")
    lines = [head] + [f"gemm,opt,f32,2,1,gemm m={i + 1} n=8 k=8,{t},ok" + (f",{slowdown}" if slowdown else "")
                      for i, t in enumerate(times)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_compare_runs_scores_agreement_and_names_the_worst(tmp_path):
    """compare_runs.py: the share of rows within ±5% / ±10%, the median difference, the slowdown
    each run lived through, and the rows that differ most."""
    first = _run_csv(tmp_path / "a.csv", [1.0, 1.0, 1.0, 1.0], slowdown=1.0)
    # +3% (within 5), +8% (within 10 only), -20%, +0%
    second = _run_csv(tmp_path / "b.csv", [1.03, 1.08, 0.8, 1.0], slowdown=1.5)
    r = run("compare_runs.py", first, second, "--worst", "1")
    assert r.returncode == 0, r.stderr
    all_line = next(l for l in r.stdout.splitlines() if l.startswith("all"))
    assert all_line.split()[1:] == ["4", "50.0%", "75.0%", "5.50%", "20.0%"], all_line
    assert "first 1.00x, second 1.50x" in r.stdout
    assert "0.800  gemm opt f32 2 gemm m=3 n=8 k=8" in r.stdout


def test_compare_runs_estimators_on_the_same_repetitions(tmp_path):
    """--repetitions: each estimator applied to both runs' repetitions; the rejected ones count
    only for the median of every repetition."""
    def reps(path, rows):
        lines = ["op,impl,dtype,threads,batch,shape,index,seconds,canary_s,canary_ratio,others,kept,rejected_by"]
        for i, (s, kept) in enumerate(rows):
            lines.append(f"mv,opt,f32,1,1,mv m=8 k=8,{i},{s},0.0004,1.0,0.0,{kept},{'' if kept == 'yes' else 'canary'}")
        path.write_text("\n".join(lines) + "\n")
        return path
    a = reps(tmp_path / "a.csv", [(1.0, "yes"), (1.1, "yes"), (1.2, "yes")])
    b = reps(tmp_path / "b.csv", [(1.0, "yes"), (1.3, "yes"), (1.4, "yes"), (3.0, "no"), (3.0, "no")])
    r = run("compare_runs.py", "--repetitions", a, b)
    assert r.returncode == 0, r.stderr
    table = {l[:27].strip(): l[27:].split() for l in r.stdout.splitlines()[1:]}
    assert table["least kept (measured_s)"][:2] == ["1", "100.0%"]      # 1.0 vs 1.0
    assert table["median of the kept"][3] == "18.18%"                    # 1.3 vs 1.1
    assert table["median of every repetition"][3] == "27.27%"            # 1.4 vs 1.1


def test_compare_profiles_pairs_every_figure_and_the_predictions(tmp_path):
    """compare_profiles.py: peaks within ±2%, bandwidths within ±5%, the figures outside their
    tolerance listed worst first, and the two profiles' predictions for the same rows."""
    prof = json.loads(PROFILE.read_text())
    prof["peaks"] = [{"dtype": "f32", "isa": "fma", "threads": 1, "ops_per_s": 1e11, "roof": True},
                     {"dtype": "f32", "isa": "fma", "threads": 2, "ops_per_s": 2e11, "roof": True}]
    prof["bandwidth"] = [{"kernel": "read", "level": "L1", "threads": 1, "bytes_per_s": 1e11, "capacity_bytes": 32768},
                         {"kernel": "read", "level": "DRAM", "threads": 1, "bytes_per_s": 2e10,
                          "capacity_bytes": 1 << 30}]
    a = tmp_path / "a.json"
    a.write_text(json.dumps(prof))
    prof["peaks"][1]["ops_per_s"] = 2.03e11          # +1.5%: within 2%
    prof["bandwidth"][1]["bytes_per_s"] = 2.4e10     # +20%: outside 5%
    b = tmp_path / "b.json"
    b.write_text(json.dumps(prof))
    pa, pb = tmp_path / "pa.csv", tmp_path / "pb.csv"
    head = "op,impl,dtype,threads,batch,shape,predicted_s\n"
    pa.write_text(head + "mv,opt,f32,1,1,mv m=8 k=8,1.0\nmv,opt,f32,1,1,mv m=9 k=9,2.0\n")
    pb.write_text(head + "mv,opt,f32,1,1,mv m=8 k=8,1.02\nmv,opt,f32,1,1,mv m=9 k=9,2.2\n")
    r = run("compare_profiles.py", a, b, "--predictions", pa, pb)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "peaks: 2 of 2 within ±2%" in out, out
    assert "bandwidth: 1 of 2 within ±5%" in out and "worst +20.0% (read DRAM 1)" in out, out
    assert "+20.0%  read DRAM 1" in out
    assert "fma 2" not in out.split("peaks:")[0]  # within tolerance: not listed
    assert "predictions: 2 rows, median difference 6.00%, 50% within ±3%, worst +10.0%" in out, out
    bad = tmp_path / "bad.json"
    prof["peaks"][0]["ops_per_s"] = -1
    bad.write_text(json.dumps(prof))
    assert_refused(run("compare_profiles.py", a, bad), "compare_profiles.py", bad)
    missing = tmp_path / "missing.csv"
    r = run("compare_profiles.py", a, b, "--predictions", missing, pb)
    assert_refused(r, "compare_profiles.py", missing)
    assert r.stdout == ""  # nothing half-printed before the error


def test_compare_runs_refuses_bad_input(tmp_path):
    good = _run_csv(tmp_path / "a.csv", [1.0])
    r = run("compare_runs.py", good, tmp_path / "missing.csv")
    assert_refused(r, "compare_runs.py", tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("op,impl\nmv,opt\n")
    r = run("compare_runs.py", good, bad)
    assert_refused(r, "compare_runs.py", bad, "missing columns")
    nan = _run_csv(tmp_path / "nan.csv", ["fast"])
    r = run("compare_runs.py", good, nan)
    assert_refused(r, "compare_runs.py", nan, "measured_s", "not a number")
    other = tmp_path / "other.csv"
    other.write_text("op,impl,dtype,threads,batch,shape,measured_s,status\nmv,opt,f32,1,1,mv m=9 k=9,1.0,ok\n")
    r = run("compare_runs.py", good, other)
    assert_refused(r, "compare_runs.py", other, "no row in common")
