"""scripts/compare_runs.py and scripts/compare_profiles.py on small hand-made inputs.
"""
import json

from script_fixtures import PROFILE, assert_refused, run


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
