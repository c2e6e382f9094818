#!/usr/bin/env bash
# The main job: install what is missing, build Release into build/, then time the opt and
# OpenBLAS kernels in f32 over a shape set, write results/<machine-id>/run.csv and print the
# speed ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

usage() {
  cat <<USAGE
usage: scripts/run.sh [ROOFBENCH RUN FLAGS...]

Installs the Debian packages it lacks (as root, or with sudo) and the Python packages of
scripts/requirements.txt into .venv, builds Release into build/, then runs

  build/roofbench run --shapes "\${SHAPES:-perf-f32}" --impls opt,blas --dtypes f32 \\
                      --threads "\${THREADS:-\$(nproc)}" --csv results/<machine-id>/run.csv [FLAGS...]

<machine-id> is the lower-case CPU model name plus the CPU count; here: $(roofbench_machine_id)

Environment:
  SHAPES    shape file or built-in set of benchmarks/shapes/ (default perf-f32)
  THREADS   comma-separated thread counts (default \$(nproc) = $(nproc))

FLAGS are appended to the 'roofbench run' command line, e.g.
  scripts/run.sh --ops gemm --batch 1,8 --repetitions 3 --benchmark_filter=square
List options add to the defaults (--impls naive adds naive to opt and blas); set the shapes and
thread counts with SHAPES and THREADS instead of --shapes and --threads.
USAGE
}

for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    --shapes | --shapes=* | --threads | --threads=* | --csv | --csv=*)
      echo "run.sh: ${arg%%=*} is set by run.sh; use SHAPES=... or THREADS=... (the CSV always goes to results/<machine-id>/run.csv)" >&2
      exit 2
      ;;
  esac
done

roofbench_install_deps
roofbench_build

out_dir="results/$(roofbench_machine_id)"
mkdir -p "$out_dir"
csv="$out_dir/run.csv"

build/roofbench run --shapes "${SHAPES:-perf-f32}" --impls opt,blas --dtypes f32 \
  --threads "${THREADS:-$(nproc)}" --csv "$csv" "$@"

echo "run.sh: results in $ROOFBENCH_ROOT/$csv"
echo
echo "Speed of opt relative to OpenBLAS in this run (ratio of medians):"
python3 scripts/ratios.py "$csv" --impl opt --base blas
