#!/usr/bin/env bash
# README command two (and CI): installs what is missing and the reference
# peer, then builds and runs every test twice: a release build (with the
# Python module), and an AddressSanitizer + UndefinedBehaviorSanitizer build
# with clang (the Python suite too, with the sanitizer runtime preloaded),
# which also builds the libFuzzer targets.
# First every C and C++ file is checked against .clang-format.
# Then: the ABI against its baseline, the ARM kernel sets (cross-built, run
# under qemu-aarch64), a fixed fuzzing run (30000 inputs) of each libFuzzer
# target, and the Debian packages built, installed, tested and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh --all
LOWBIT_PEER_DIR=$(./scripts/install-peer.sh)
export LOWBIT_PEER_DIR
jobs=$(nproc)
start=$SECONDS
stage() { echo "== $* (at $((SECONDS - start)) s)" >&2; }
stage format
git ls-files -z '*.c' '*.cpp' '*.h' '*.hpp' | xargs -0 clang-format --dry-run -Werror
for preset in release sanitize; do
  stage "$preset: build"
  cmake --preset "$preset" -DLOWBIT_PEER_DIR="$LOWBIT_PEER_DIR" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  stage "$preset: test"
  ctest --preset "$preset" -j"$jobs"
done
stage ABI
# the sanitizer build's library has the DWARF abidw reads
LOWBIT_ABI_LIB=build/sanitize/lib/liblowbit.so.0 ./scripts/abi-check.sh
stage ARM
./scripts/arm-check.sh
stage fuzz
LOWBIT_FUZZ_RUNS=${LOWBIT_FUZZ_RUNS:-30000} ./scripts/fuzz.sh
stage "Debian packages"
./scripts/test-debs.sh
echo "== all tests passed in $((SECONDS - start)) s" >&2
