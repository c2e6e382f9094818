"""scripts/tidy.py and scripts/summary.py, the glue of scripts/run.sh, on the fixtures."""
import pathlib
import subprocess
import sys

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"


def run(script, *args):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)], capture_output=True, text=True)


def test_tidy_concatenates_with_a_suite_column(tmp_path):
    a, b = tmp_path / "first.csv", tmp_path / "second.csv"
    text = (FIXTURES / "run.csv").read_text()
    a.write_text(text)
    b.write_text(text)
    out = tmp_path / "all.csv"
    r = run("tidy.py", a, b, "--out", out)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    rows = len(text.splitlines()) - 1
    assert lines[0].startswith("suite,op,impl,dtype")
    assert len(lines) == 1 + 2 * rows
    assert sum(line.startswith("first,") for line in lines) == rows
    assert not list(tmp_path.glob("*.tmp"))


def test_tidy_refuses_a_csv_that_is_not_roofbenchs(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    r = run("tidy.py", bad, "--out", tmp_path / "all.csv")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "missing column" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "all.csv").exists()


def test_summary_prints_roofs_scores_and_rows():
    r = run("summary.py", FIXTURES / "profile.json", FIXTURES / "run.csv")
    assert r.returncode == 0, r.stderr
    for text in ("peaks:", "bandwidth:", "latency:   L1 1.2 ns", "fitted roofline", "classic roofline", "best predicted", "worst predicted"):
        assert text in r.stdout


def test_summary_refuses_a_broken_profile(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text("{\"schema\": 1")
    r = run("summary.py", bad, FIXTURES / "run.csv")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "not a roofbench profile" in r.stderr and "Traceback" not in r.stderr


def test_summary_counts_rows_above_the_roof(tmp_path):
    text = (FIXTURES / "run.csv").read_text().splitlines()
    # the fixture predates the columns: an old CSV says nothing about roofs
    r = run("summary.py", FIXTURES / "profile.json", FIXTURES / "run.csv")
    assert r.returncode == 0 and "above the roof" not in r.stdout, r.stderr
    rows = [text[0] + ",above_roof,roof_ratio"] + [line + (",yes,1.5" if i == 0 else ",no,0.5")
                                                  for i, line in enumerate(text[1:])]
    csv_ = tmp_path / "run.csv"
    csv_.write_text("\n".join(rows) + "\n")
    r = run("summary.py", FIXTURES / "profile.json", csv_)
    assert r.returncode == 0, r.stderr
    assert f"above the roof: 1 of {len(text) - 1} rows" in r.stdout, r.stdout
