"""The scripts refusing malformed input: one line on stderr naming the script and the file,
exit 1, nothing written.
"""
import json

import pytest

from script_fixtures import CSV_SCRIPTS, PROFILE, PROFILE_SCRIPTS, assert_refused, rows_of, run, write_rows


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
