#!/usr/bin/env bash
# Fuzzes the four readers of user files with libFuzzer (clang, ASan + UBSan): shape files,
# model files, hardware profiles and run CSVs given to evaluate
# (tests/fuzz/fuzz_{shapes,model,profile,evaluate}.cpp).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   each target in turn for that long (default 60)
#   scripts/fuzz.sh --seeds-only           each target once over its seed corpus: a quick
#                                          regression check (a few seconds once built)
#
# Builds into build-fuzz/ (RelWithDebInfo, -DROOFBENCH_FUZZ=ON, no tests). New inputs go to
# build-fuzz/corpus/<target>/; the seeds in tests/fuzz/corpus/<target>/ are only read. A crash
# is saved as build-fuzz/artifacts/<target>-crash-<sha1> (replay it: build-fuzz/roofbench_fuzz_<target>
# FILE), the whole log in build-fuzz/logs/<target>.log. Exits non-zero when any target found
# something (a crash, a sanitizer report, a leak, a timeout).
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

seconds=60
seeds_only=0
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --seeds-only) seeds_only=1 ;;
  "") ;;
  *)
    if [[ ! "$1" =~ ^[1-9][0-9]*$ ]]; then
      echo "fuzz.sh: SECONDS_PER_TARGET must be a positive integer, not '$1' (see --help)" >&2
      exit 2
    fi
    seconds=$1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
roofbench_install_debian_packages "${ROOFBENCH_DEBIAN_PACKAGES[@]}" "${ROOFBENCH_FUZZ_PACKAGES[@]}"
build=build-fuzz
targets=(shapes model profile evaluate)
declare -A dict=([shapes]=tests/fuzz/dict/shapes.dict [model]=tests/fuzz/dict/shapes.dict
                 [profile]=tests/fuzz/dict/profile.dict [evaluate]=tests/fuzz/dict/evaluate.dict)

echo "== fuzz.sh: configure and build $build/ (clang, ASan + UBSan + libFuzzer)"
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOFBENCH_FUZZ=ON \
  -DROOFBENCH_TESTS=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/roofbench_fuzz_}"

mkdir -p "$build/artifacts" "$build/logs" "$build/tmp"
export TMPDIR="$root/$build/tmp"  # fuzz_profile's scratch file for read_profile
# UB already aborts (-fno-sanitize-recover); ask for the stack of a UBSan report too.
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
summary=()
for t in "${targets[@]}"; do
  bin="$build/roofbench_fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  log="$build/logs/$t.log"
  prefix="$build/artifacts/$t-"
  before=$(ls "$build/artifacts" | grep -c "^$t-" || true)
  start=$(date +%s)
  if ((seeds_only)); then
    echo "== fuzz.sh: $t over its seed corpus ($(ls "$seeds" | wc -l) inputs)"
    args=(-runs=0 -artifact_prefix="$prefix" "$seeds")
  else
    echo "== fuzz.sh: $t for ${seconds} s"
    mkdir -p "$build/corpus/$t"
    # The scratch corpus first: libFuzzer writes new inputs to the first directory only.
    args=(-max_total_time="$seconds" -timeout=30 -print_final_stats=1 -dict="${dict[$t]}"
          -artifact_prefix="$prefix" "$build/corpus/$t" "$seeds")
  fi
  rc=0
  # A 1 MiB stack (8 MiB by default): recursion that a deeply nested input drives (JSON copied
  # or printed recursively) then overflows at a nesting depth that fits in an input libFuzzer
  # writes, not only at one of megabytes.
  (ulimit -s 1024 && exec "$bin" "${args[@]}") >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [[ -n "$execs" ]] || execs=$(grep -oE '^(#[0-9]+|Done [0-9]+ runs)' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  corpus=$( ((seeds_only)) && ls "$seeds" | wc -l || ls "$build/corpus/$t" | wc -l)
  after=$(ls "$build/artifacts" | grep -c "^$t-" || true)
  if ((rc != 0)); then
    result="FOUND SOMETHING (exit $rc): $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|deadly signal|Test unit written' "$log" || echo "see $log")"
    new=$(ls -t "$build/artifacts" | grep "^$t-" | head -1 || true)
    ((after > before)) && [[ -n "$new" ]] && result+="; input: $build/artifacts/$new"
    failed+=("$t")
  else
    result="nothing found"
  fi
  line=$(printf '%-8s %6s s  %12s executions  corpus %5s  %s' "$t" "$elapsed" "$execs" "$corpus" "$result")
  echo "$line"
  summary+=("$line")
done

rm -f "$build"/tmp/roofbench-fuzz-profile-*  # left behind when libFuzzer exits without atexit

echo "== fuzz.sh: summary ($( ((seeds_only)) && echo "seed corpora only" || echo "${seconds} s per target"); logs in $build/logs/)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs in $build/artifacts/, logs in $build/logs/)" >&2
  exit 1
fi
