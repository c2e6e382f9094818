#!/usr/bin/env bash
# shellcheck shell=bash
# Helpers shared by scripts/run.sh, scripts/test.sh and scripts/fuzz.sh. Source this file, then call:
#   roofbench_install_deps   Debian packages that are missing (as root or via sudo), then the
#                            Python packages of scripts/requirements.txt into .venv
#   roofbench_install_debian_packages PKG...   those of PKG... that are missing
#   roofbench_build          configure and build Release into build/
#   roofbench_machine_id     print this machine's id, e.g. amd-epyc-7r13-processor-2c
# Sourcing sets no shell options; the caller chooses them (both scripts use set -euo pipefail).

# Every Debian package the build, the tests and the Python scripts need. libopenblas-openmp-dev
# pulls in libopenblas0-openmp: OpenBLAS must be the OpenMP build so that it and our OpenMP
# kernels share one thread pool (see CMakeLists.txt). libdnnl-dev is the optional onednn
# backend (its OpenMP build; CMake builds without it when it is absent).
ROOFBENCH_DEBIAN_PACKAGES=(
  cmake g++ make pkg-config
  libbenchmark-dev libgtest-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libopenblas-openmp-dev libhwloc-dev libgsl-dev libdnnl-dev
  python3 python3-venv
  clang-format
)

# scripts/fuzz.sh (and its seed-corpus step in scripts/test.sh) builds with clang: libFuzzer
# is in clang's runtime library package, and our OpenMP code needs clang's libomp.
ROOFBENCH_FUZZ_PACKAGES=(clang libclang-rt-dev libomp-dev)

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "scripts/deps.sh is a helper to source, not to run; use scripts/run.sh or scripts/test.sh" >&2
  exit 2
fi

# The repository root, whatever the caller's working directory.
ROOFBENCH_ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# True when dpkg knows the package as installed ("install ok installed", "hold ok installed").
roofbench_has_package() {
  local status
  # shellcheck disable=SC2016  # ${Status} is dpkg-query's field, not a shell variable
  status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" || return 1
  [[ "$status" == *"ok installed"* ]]
}

roofbench_install_deps() {
  roofbench_install_debian_packages "${ROOFBENCH_DEBIAN_PACKAGES[@]}" || return 1
  roofbench_install_python_deps
}

# The Debian packages named that are not installed yet.
roofbench_install_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    roofbench_has_package "$pkg" || missing+=("$pkg")
  done

  if ((${#missing[@]} == 0)); then
    echo "roofbench: all $# Debian packages needed are installed"
    return 0
  fi
  local as_root=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "roofbench: missing Debian packages: ${missing[*]}" >&2
      echo "roofbench: error: not root and sudo is not available; install them as root:" >&2
      echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
      return 1
    fi
    as_root=(sudo)
  fi
  echo "roofbench: installing missing Debian packages: ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

# Python packages of scripts/requirements.txt, into .venv. A stamp file holds the hash of the
# requirements it was built from, so an unchanged list costs one sha256sum.
roofbench_install_python_deps() {
  local req="$ROOFBENCH_ROOT/scripts/requirements.txt" venv="$ROOFBENCH_ROOT/.venv"
  local stamp="$venv/.requirements.sha256" hash
  if [[ ! -f "$req" ]] || ! grep -qvE '^[[:space:]]*(#|$)' "$req"; then
    return 0  # no requirements: no venv needed
  fi
  hash="$(sha256sum <"$req" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    echo "roofbench: Python packages in .venv are up to date"
    return 0
  fi
  echo "roofbench: installing Python packages of scripts/requirements.txt into .venv"
  python3 -m venv "$venv" || return 1
  "$venv/bin/pip" install -q -r "$req" || return 1
  echo "$hash" >"$stamp"
}

roofbench_build() {
  cmake -S "$ROOFBENCH_ROOT" -B "$ROOFBENCH_ROOT/build" -DCMAKE_BUILD_TYPE=Release || return 1
  cmake --build "$ROOFBENCH_ROOT/build" -j"$(nproc)" || return 1
}

# Lower-case CPU model name with every run of non-alphanumerics collapsed to '-', then the
# number of usable CPUs: "AMD EPYC 7R13 Processor" on 2 CPUs -> amd-epyc-7r13-processor-2c.
# A name without a model number (KVM guests show Zen 3 and Zen 5 alike as "AMD EPYC") gets
# the CPU family and model too: amd-epyc-f25m1-2c, amd-epyc-f26m2-2c.
roofbench_machine_id() {
  local model family number
  # sed quits at the first match itself: "| head -n1" could SIGPIPE sed and trip pipefail.
  model="$(sed -n '/^model name/{s/^model name[[:space:]]*:[[:space:]]*//;p;q}' /proc/cpuinfo 2>/dev/null)" || model=""
  [[ -n "$model" ]] || model="$(uname -m)"  # e.g. some ARM kernels print no "model name"
  if [[ ! "$model" =~ [0-9] ]]; then
    family="$(sed -n '/^cpu family/{s/^cpu family[[:space:]]*:[[:space:]]*//;p;q}' /proc/cpuinfo 2>/dev/null)" || family=""
    number="$(sed -n '/^model[[:space:]]*:/{s/^model[[:space:]]*:[[:space:]]*//;p;q}' /proc/cpuinfo 2>/dev/null)" || number=""
    [[ -n "$family" && -n "$number" ]] && model="$model f${family}m${number}"
  fi
  model="$(printf '%s' "$model" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-')"
  model="${model#-}"
  model="${model%-}"
  echo "${model}-$(nproc)c"
}
