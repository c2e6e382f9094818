#!/usr/bin/env bash
# The tests: install what is missing, build Release into build/, then run
#   1. the GoogleTest suite through ctest,
#   2. a smoke run of `roofbench run` whose CSV is checked,
#   3. the GoogleTest suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer
#      into build-asan/ (ROOFBENCH_SANITIZERS=0 skips it),
#   4. the libFuzzer targets over their seed corpora, built with clang into build-fuzz/
#      (ROOFBENCH_FUZZ_SEEDS=0 skips it),
#   5. pytest on tests/python, when that folder has test_*.py files (among them the layout
#      check, tests/python/test_layout.py: no source file over 600 lines, no function outside
#      tests/ over 80).
# Exits non-zero, naming the step that failed, on any failure.
# -E: the ERR trap below also fires for a failure inside a function of deps.sh.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

step="setup"
trap 'echo "test.sh: FAILED in step \"$step\" (command: $BASH_COMMAND)" >&2' ERR
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

begin() {
  step="$1"
  echo
  echo "== test.sh: $step"
}

begin "install dependencies"
roofbench_install_deps

begin "build"
roofbench_build

# -j1: the kernel tests already use both cores; running tests side by side would only make
# the multi-threaded ones slower and noisier.
# The tree keeps one style (.clang-format). Checked with the clang-format 14 of Debian 12 that
# the style was written for: another version formats some lines differently, so there the
# check says so and passes rather than fail a correct tree.
begin "check the C++ style (.clang-format)"
scripts/check_style.sh

begin "ctest"
ctest --test-dir build --output-on-failure -j1

begin "smoke run of roofbench"
build/roofbench run --shapes smoke --impls naive,opt,blas --dtypes f32,f64 --threads 1,2 \
  --csv "$tmp/smoke.csv" --benchmark_min_time=0.01 --repetitions 2

begin "check the smoke CSV"
header="op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound"
if [[ ! -s "$tmp/smoke.csv" ]]; then
  echo "test.sh: roofbench wrote no CSV (or an empty one) at $tmp/smoke.csv" >&2
  false
fi
awk -v want="$header" '
  { sub(/\r$/, "") }
  NR == 1 {
    if (index($0, want) != 1) { print "test.sh: bad CSV header: " $0 > "/dev/stderr"; bad = 1; exit }
    next
  }
  NF { rows++ }
  END {
    if (bad) exit 1
    if (rows < 2) { print "test.sh: expected more than one data row, found " rows + 0 > "/dev/stderr"; exit 1 }
    print "test.sh: smoke CSV has the contract header and " rows " data rows"
  }' "$tmp/smoke.csv"

if [[ "${ROOFBENCH_SANITIZERS:-1}" != 0 ]]; then
  begin "build with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" >/dev/null
  cmake --build build-asan -j"$(nproc)"
  # Leak checking is off: OpenBLAS and oneDNN keep allocations to process exit by design. The
  # quick-calibration test is left out: it checks fit quality, which instrumented kernels
  # (memory accesses slowed unevenly) do not have; so is the killed-calibration test, two quick
  # calibrations end to end (the crash, hang and skip tests take the same supervisor and
  # journal code through the sanitizers in seconds); every other test runs.
  begin "ctest under the sanitizers"
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2 -E 'QuickCalibrationWritesAProfileThatReadsBack|KilledCalibrationPicksUpWhereItStopped'
fi

if [[ "${ROOFBENCH_FUZZ_SEEDS:-1}" != 0 ]]; then
  # Every seed once through the libFuzzer targets (clang, ASan + UBSan; built into
  # build-fuzz/): the inputs fuzzing once crashed on stay fixed. Fuzzing itself (minutes per
  # target) is scripts/fuzz.sh SECONDS.
  begin "fuzz targets over their seed corpora (scripts/fuzz.sh --seeds-only)"
  scripts/fuzz.sh --seeds-only
fi

if compgen -G "tests/python/test_*.py" >/dev/null; then
  begin "pytest tests/python"
  if [[ ! -x .venv/bin/python ]]; then
    echo "test.sh: .venv is missing; is pytest listed in scripts/requirements.txt?" >&2
    false
  fi
  .venv/bin/python -m pytest -q tests/python
fi

echo
echo "test.sh: all tests passed"
