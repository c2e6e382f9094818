"""scripts/interfere.py, the noisy neighbour: it runs every generator, stops by itself at its
deadline or early on SIGTERM with its summary, and refuses bad options in one line."""
import pathlib
import re
import signal
import subprocess
import sys
import time

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "interfere.py"
SMALL = ["--cpu-duty", "0.3", "--cpu-burst-ms", "50", "--stream-duty", "0.3", "--stream-mib", "16",
         "--stream-burst-ms", "50", "--churn-gib", "0.05", "--churn-every-s", "0.5"]


def run(*args, timeout=60):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def test_every_generator_runs_and_it_stops_at_its_deadline():
    start = time.monotonic()
    r = run("--seconds", "2", *SMALL)
    took = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert 2 <= took < 10, took
    cpu = re.search(r"cpu: vCPU \d+ busy ([\d.]+) s in (\d+) bursts", r.stdout)
    stream = re.search(r"stream: ([\d.]+) s in (\d+) bursts", r.stdout)
    churn = re.search(r"churn: (\d+) cycles of 0.05 GiB, touched at ([\d., ]+) GB/s", r.stdout)
    assert cpu and stream and churn, r.stdout
    assert int(cpu.group(2)) > 0 and float(cpu.group(1)) < 2  # bursts, not the whole time
    assert int(stream.group(2)) > 0
    assert int(churn.group(1)) >= 3  # every 0.5 s over 2 s, the first at a random offset
    assert all(float(x) > 0 for x in churn.group(2).split(","))


def test_a_generator_at_zero_is_off():
    r = run("--seconds", "1", *SMALL, "--cpu-duty", "0", "--churn-gib", "0")
    assert r.returncode == 0, r.stderr
    assert "cpu:" not in r.stdout and "churn:" not in r.stdout and "stream:" in r.stdout


def test_sigterm_stops_it_early_with_its_summary():
    p = subprocess.Popen([sys.executable, str(SCRIPT), "--seconds", "60", *SMALL], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    sent = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert time.monotonic() - sent < 10
    assert "stopped early by a signal" in out and "cpu:" in out, out


def test_bad_options_are_one_line_errors():
    for args, what in ((["--seconds", "0"], "--seconds"), (["--seconds", "7200"], "--seconds"),
                       (["--seconds", "1", "--cpu-duty", "1"], "--cpu-duty"),
                       (["--seconds", "1", "--cpu", "4096"], "--cpu 4096"),
                       (["--seconds", "1", "--churn-gib", "1e6"], "--churn-gib"),
                       (["--seconds", "1", "--stream-burst-ms", "-1"], "--stream-burst-ms"), ([], "--seconds")):
        r = run(*args)
        assert r.returncode == 1, args
        assert r.stderr.count("\n") == 1 and what in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert r.stdout == ""
