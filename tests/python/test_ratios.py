"""scripts/ratios.py on small hand-written CSVs."""
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "ratios.py"
HEADER = ("op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound,"
          "variant,repetitions,cv,achieved_ops_per_s,achieved_bytes_per_s,intensity,status,cache\n")


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_ratio_is_base_time_over_impl_time(tmp_path):
    csv = tmp_path / "run.csv"
    csv.write_text(HEADER
                   + "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1024,768,0.002,,,v,5,0.01,,,1.3,ok,warm\n"
                   + "gemm,blas,f32,2,1,gemm m=8 n=8 k=8,1024,768,0.003,,,v,5,0.02,,,1.3,ok,warm\n"
                   + "mv,opt,f32,2,1,mv m=8 k=8,128,320,0.001,,,v,5,0.01,,,0.4,ok,warm\n")
    r = run(csv)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2  # header + the one shape both impls measured
    assert "1.500" in lines[1] and "gemm m=8 n=8 k=8" in lines[1]


def test_dtypes_pinned_on_each_side_rate_bit_widths(tmp_path):
    csv = tmp_path / "run.csv"
    csv.write_text(HEADER
                   + "gemm,opt,i8,2,1,gemm m=8 n=8 k=8,1024,192,0.001,,,v,5,0.01,,,5.3,ok,warm\n"
                   + "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1024,768,0.002,,,v,5,0.01,,,1.3,ok,warm\n"
                   + "gemm,blas,f32,2,1,gemm m=8 n=8 k=8,1024,768,0.004,,,v,5,0.02,,,1.3,ok,warm\n")
    r = run(csv, "--impl", "opt/i8", "--base", "blas/f32")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and "4.000" in lines[1] and "i8" in lines[1]
    r = run(csv, "--impl", "opt/i8", "--base", "opt/f32")
    assert r.returncode == 0 and "2.000" in r.stdout.splitlines()[1]


def test_failed_rows_are_left_out(tmp_path):
    csv = tmp_path / "run.csv"
    csv.write_text(HEADER
                   + "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1024,768,,,,v,0,,,,1.3,mismatch against naive,warm\n"
                   + "gemm,blas,f32,2,1,gemm m=8 n=8 k=8,1024,768,0.003,,,v,5,0.02,,,1.3,ok,warm\n")
    r = run(csv)
    assert r.returncode != 0
    assert "no row measured for both" in r.stderr


def test_malformed_csv_is_refused_with_one_line(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b,c\n1,2,3\n")
    r = run(csv)
    assert r.returncode != 0
    assert r.stderr.startswith("ratios.py: error:") and r.stderr.count("\n") == 1
    assert "missing columns" in r.stderr


def test_missing_file(tmp_path):
    r = run(tmp_path / "nope.csv")
    assert r.returncode != 0 and "nope.csv" in r.stderr


def test_help():
    r = run("--help")
    assert r.returncode == 0 and "speed" in r.stdout
