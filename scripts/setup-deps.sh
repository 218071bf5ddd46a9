#!/usr/bin/env bash
# Installs the Debian 12 packages lowbit needs, if missing (through sudo when
# not root). Safe to run again: does nothing when all are present.
#
#   setup-deps.sh         what the release build needs (library, CLI, tests,
#                         Python module)
#   setup-deps.sh --all   also what the whole test run needs: Node.js for the
#                         peer, clang-format, the ABI tools, clang's libFuzzer,
#                         Debian packaging, headless Chromium, the AArch64
#                         cross compiler
set -euo pipefail
packages=(g++ cmake make pkg-config libzstd-dev nlohmann-json3-dev libsentencepiece-dev libarchive-dev libgtest-dev libgmock-dev libbenchmark-dev git python3
  # the Python module and its tests
  swig python3-dev python3-numpy python3-pytest
  # the float reference of the checkpoint-conversion tests
  python3-torch
  # a CPU without AVX, emulated, for the no-stray-instructions test
  qemu-user)
if [[ ${1:-} == --all ]]; then
  # the format check, ABI checks, libFuzzer, the Debian packages
  packages+=(clang-format abigail-tools clang libclang-rt-14-dev debhelper dh-python dpkg-dev fakeroot lintian man-db)
  # the ARM kernel sets, cross-built and run under qemu-aarch64 (scripts/arm-check.sh)
  packages+=(g++-aarch64-linux-gnu googletest)
  # lowbit compare's SVG chart, rendered by headless Chromium in its test
  packages+=(chromium)
  command -v npm >/dev/null || packages+=(nodejs npm)
elif [[ -n ${1:-} ]]; then
  echo "usage: setup-deps.sh [--all]" >&2
  exit 2
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
