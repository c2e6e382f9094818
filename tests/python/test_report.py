"""scripts/report.py on the fixtures in tests/python/fixtures/ (script_fixtures.py).
"""
import json
import sys

from script_fixtures import (PROFILE, RUN, SCRIPTS, assert_refused, no_temp_files, report_text, rows_of, run,
                             write_rows)


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
    assert "The profile has no latency figures" in report_text(out, tmp_path, profile=old)
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
    text = report_text(out, plots)
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
    text = report_text(out, plots, profile=prof)
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
    line = next(l for l in report_text(out, tmp_path).splitlines() if l.startswith("| fitted (predicted_s) |"))
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
    assert "| noise floor" not in report_text(out, tmp_path)


def test_report_refuses_missing_plots_dir(tmp_path):
    r = run("report.py", "--profile", PROFILE, "--run", RUN, "--plots", tmp_path / "nope", "--out", tmp_path / "r.md")
    assert_refused(r, "report.py", tmp_path / "nope", "no such directory")


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
    text = report_text(out, tmp_path, profile=p, run_csv=new)
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
