"""scripts/columns.py against the binary: its list must be the header `roofbench run` writes
(predictor/csv_schema.cpp), and every column list a script checks a CSV with must name
columns of it."""
import csv
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
BINARY = pathlib.Path(os.environ.get("ROOFBENCH_BINARY", ROOT / "build" / "roofbench"))

sys.path.insert(0, str(SCRIPTS))
import columns  # noqa: E402


@pytest.mark.skipif(not BINARY.exists(), reason=f"{BINARY} is not built")
def test_the_list_is_the_header_the_binary_writes(tmp_path):
    out = tmp_path / "run.csv"
    p = subprocess.run([str(BINARY), "run", "--shapes", "smoke", "--impls", "naive", "--dtypes", "f32", "--threads",
                        "1", "--csv", str(out), "--benchmark_min_time=0.01", "--repetitions", "1"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    with open(out, newline="") as f:
        header = next(csv.reader(f))
    assert header == columns.RUN_COLUMNS


def test_contract_columns_come_first_in_their_order():
    assert columns.CONTRACT_COLUMNS == ["op", "impl", "dtype", "threads", "batch", "shape", "ops", "bytes",
                                        "measured_s", "predicted_s", "bound"]
    assert len(set(columns.RUN_COLUMNS)) == len(columns.RUN_COLUMNS)


def test_an_unknown_column_is_refused():
    assert columns.run_columns("op", "measured_s") == ["op", "measured_s"]
    with pytest.raises(ValueError, match="measured_seconds"):
        columns.run_columns("op", "measured_seconds")


# The module-level lists each script checks a run CSV with.
SCRIPT_LISTS = {
    "plot_batch": ["REQUIRED", "NUMERIC"],
    "plot_bitwidth": ["REQUIRED", "NUMERIC", "LAYER"],
    "plot_predicted": ["REQUIRED", "NUMERIC"],
    "plot_roofline": ["REQUIRED", "NUMERIC"],
    "report": ["REQUIRED", "NUMERIC"],
    "tidy": ["REQUIRED"],
    "compare_runs": ["KEY"],
    "ratios": ["KEY", "NEEDED"],
    "summary": ["REQUIRED"],
}


@pytest.mark.parametrize("script", sorted(SCRIPT_LISTS))
def test_every_script_names_columns_the_binary_writes(script):
    module = importlib.import_module(script)
    for name in SCRIPT_LISTS[script]:
        unknown = set(getattr(module, name)) - set(columns.RUN_COLUMNS)
        assert not unknown, f"{script}.{name}: {sorted(unknown)}"
