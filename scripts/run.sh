#!/usr/bin/env bash
# The main job: install what is missing, build, calibrate this machine (or reuse its
# profile), run the default suite with predictions, then write tidy CSV, plots, a report and a
# short summary, all under results/<machine-id>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

usage() {
  cat <<USAGE
usage: scripts/run.sh [--quick] [--recalibrate]

Installs the Debian packages it lacks (as root, or with sudo) and the Python packages of
scripts/requirements.txt into .venv, builds Release into build/, then:

  1. calibrates:   results/<machine-id>/profile.json, reused when it exists and was measured
                   on this CPU with this many cores (--recalibrate measures anew)
  2. runs, each with --profile so every row carries its prediction:
       default.csv   the default set over every op, impl and dtype at batch 1
       heldout.csv   layers of networks the predictor never saw (opt, blas, f32), scored
       batch.csv     mv and gemm layers at growing batch (latency vs throughput)
  3. tidy CSV (all.csv), plots (plots/*.png), report.md, and a summary on stdout

<machine-id> is the lower-case CPU model name plus the CPU count; here: $(roofbench_machine_id)

  --quick        a quick calibration (when there is no profile yet) and fewer repetitions:
                 under 3 minutes instead of about 5 (15 with a full calibration) on 2 cores
  --recalibrate  measure the profile again even if one exists
USAGE
}

quick=0
recalibrate=0
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    --quick) quick=1 ;;
    --recalibrate) recalibrate=1 ;;
    *)
      echo "run.sh: error: unknown option '$arg' (see scripts/run.sh --help)" >&2
      exit 2
      ;;
  esac
done

start=$SECONDS
step() { echo "== run.sh [$(( SECONDS - start )) s] $*"; }

step "dependencies and build"
roofbench_install_deps
roofbench_build
python=python3
[[ -x .venv/bin/python ]] && python=.venv/bin/python

out="results/$(roofbench_machine_id)"
mkdir -p "$out/plots"
profile="$out/profile.json"
threads="$(nproc)"

# A profile is reused only when it describes this CPU: the same model and core count.
profile_matches() {
  [[ -f "$profile" ]] && "$python" - "$profile" <<'PY'
import json, os, sys
try:
    m = json.load(open(sys.argv[1]))["machine"]
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    sys.exit(0 if m.get("cpu") == cpu and m.get("logical_cpus") == os.cpu_count() else 1)
except Exception:
    sys.exit(1)
PY
}

if ((recalibrate == 0)) && profile_matches; then
  step "reusing $profile (scripts/run.sh --recalibrate measures it again)"
else
  step "calibrating this machine into $profile$( ((quick)) && echo " (quick)")"
  build/roofbench calibrate $( ((quick)) && echo --quick) --out "$profile"
fi

reps=(--repetitions 5 --min-time 0.1)
batches=1,2,4,8,16,32
if ((quick)); then
  reps=(--repetitions 3 --min-time 0.02)
  batches=1,4,16
fi

step "default set: every op, impl and dtype at batch 1"
build/roofbench run --shapes default --profile "$profile" "${reps[@]}" --csv "$out/default.csv" >"$out/default.log"

step "held-out layers (opt, blas, f32, $threads threads): the predictor's score"
build/roofbench run --shapes heldout --impls opt,blas --dtypes f32 --threads "$threads" --profile "$profile" \
  "${reps[@]}" --csv "$out/heldout.csv" >"$out/heldout.log"

step "batch sweep ($batches) of the default set's mv and gemm layers"
build/roofbench run --shapes default --ops mv,gemm --impls opt,blas --dtypes f32 --threads "$threads" \
  --batch "$batches" --profile "$profile" "${reps[@]}" --csv "$out/batch.csv" >"$out/batch.log"

step "tidy CSV, plots and report"
"$python" scripts/tidy.py "$out/default.csv" "$out/heldout.csv" "$out/batch.csv" --out "$out/all.csv"
"$python" scripts/plot_roofline.py "$profile" "$out/all.csv" --out "$out/plots"
"$python" scripts/plot_predicted.py "$out/heldout.csv" --out "$out/plots/predicted.png"
"$python" scripts/plot_batch.py "$out/batch.csv" --out "$out/plots"
"$python" scripts/plot_bitwidth.py "$out/default.csv" --out "$out/plots/bitwidth.png"
"$python" scripts/plot_bandwidth.py "$profile" --out "$out/plots/bandwidth.png"
# A profile reused from before calibrate measured latency has none to plot (--recalibrate measures it).
if "$python" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get("latency") else 1)' "$profile"; then
  "$python" scripts/plot_latency.py "$profile" --out "$out/plots/latency.png"
else
  echo "run.sh: $profile has no latency figures (calibrated before they existed): no latency plot; --recalibrate measures them"
fi
"$python" scripts/report.py --profile "$profile" --run "$out/heldout.csv" --plots "$out/plots" --out "$out/report.md"
build/roofbench evaluate "$out/heldout.csv" --worst 5 --csv "$out/heldout-scores.csv" >"$out/heldout-evaluate.txt"

step "done"
"$python" scripts/summary.py "$profile" "$out/heldout.csv"
echo
echo "Everything is in $ROOFBENCH_ROOT/$out/: report.md (start there), plots/*.png,"
echo "all.csv (every row of the three runs), heldout-evaluate.txt (the predictor's score),"
echo "profile.json (this machine's roofline and kernel fits). Wall time: $(( SECONDS - start )) s."
