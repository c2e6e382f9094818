"""The plotting scripts on the fixtures in tests/python/fixtures/ (script_fixtures.py): the
command line, and what each script writes.
"""
import json
import subprocess
import sys

import pytest

from script_fixtures import (ALL, PROFILE, RUN, SCRIPTS, assert_plots, assert_png, assert_refused, assert_refuses_rows,
                             no_temp_files, rows_of, run, write_rows)


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
    assert_plots("plot_predicted.py", csv_, "--out", tmp_path / "p.png", png=tmp_path / "p.png")


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


@pytest.mark.parametrize("script, keep, out, words", [
    ("plot_batch.py", lambda r: r["batch"] == "1", "plots", "two or more batch sizes"),
    ("plot_bitwidth.py", lambda r: r["dtype"] == "f32", "b.png", "two or more dtypes"),
], ids=["batch_refuses_a_run_at_one_batch_size", "bitwidth_refuses_a_single_dtype"])
def test_refuses_a_run_it_cannot_draw(script, keep, out, words, tmp_path):
    assert_refuses_rows(tmp_path, script, keep, tmp_path / out, words)


def test_bitwidth(tmp_path):
    out = tmp_path / "bitwidth.png"
    assert_plots("plot_bitwidth.py", RUN, "--out", out, png=out)


def test_bitwidth_without_bound_column(tmp_path):
    # chosen by intensity instead; the fixture has only f64 and f32
    rows = rows_of()
    csv_ = write_rows(tmp_path / "run.csv", rows, [f for f in rows[0] if f != "bound"])
    assert_plots("plot_bitwidth.py", csv_, "--out", tmp_path / "b.png", png=tmp_path / "b.png")


def test_bandwidth(tmp_path):
    out = tmp_path / "bandwidth.png"
    assert_plots("plot_bandwidth.py", PROFILE, "--out", out, png=out)


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
