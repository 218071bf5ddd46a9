#!/usr/bin/env bash
# The ARM kernel sets, checked without ARM hardware: cross-builds the formats,
# the kernels and their tests for AArch64 (Debian's g++-aarch64-linux-gnu,
# LOWBIT_KERNELS_ONLY, statically linked) and runs the tests under
# qemu-aarch64 on five CPUs:
#   cortex-a53            NEON without the dot-product instructions: generic
#   max,sve=off           NEON with dotprod, no SVE: neon
#   max, SVE at 128, 256 and 512 bits: sve
# On each, every set the CPU runs must give the scalar reference's bytes
# (block searches) and its products (dot kernels, within their bound), and the
# dispatcher must pick the set the CPU model should get. The block searches,
# most of the time under emulation, are checked for the sve set alone on the
# SVE CPUs (LOWBIT_TEST_SETS): generic and neon are checked on their own CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null ||
    { echo "arm-check: $tool is needed (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
build=build/arm
mkdir -p build
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DLOWBIT_KERNELS_ONLY=ON \
  -DCMAKE_BUILD_TYPE=Release >"$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 || { tail -40 "$build.build.log" >&2; exit 1; }
tests=$PWD/$build/tests/kernels_only/kernel_tests

# cpu model | the set it must get | its SVE vector length in bytes
cpus=("cortex-a53|generic|none" "max,sve=off|neon|none" "max,sve-default-vector-length=16|sve|16"
  "max,sve-default-vector-length=32|sve|32" "max,sve-default-vector-length=64|sve|64")
run_cpu() { # index: exit status in build/arm/cpu-INDEX.status
  local i=$1 rc=0
  IFS='|' read -r model set bytes <<<"${cpus[$i]}"
  local only=""
  [[ $set == sve ]] && only=sve
  env -u LOWBIT_KERNELS LOWBIT_EXPECT_SET="$set" LOWBIT_EXPECT_SVE_BYTES="$bytes" LOWBIT_TEST_SETS="$only" \
    timeout 600 qemu-aarch64 -cpu "$model" "$tests" >"$build/cpu-$i.log" 2>&1 || rc=$?
  echo "$rc" >"$build/cpu-$i.status"
}
for i in "${!cpus[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  run_cpu "$i" &
done
wait
status=0
for i in "${!cpus[@]}"; do
  IFS='|' read -r model set bytes <<<"${cpus[$i]}"
  if [[ $(cat "$build/cpu-$i.status") != 0 ]]; then
    echo "arm-check: qemu-aarch64 -cpu $model FAILED (expected set $set); the end of its log:" >&2
    tail -40 "$build/cpu-$i.log" >&2
    status=1
  else
    echo "   -cpu $model: $(grep -c '^\[       OK' "$build/cpu-$i.log") tests passed, set $set" >&2
  fi
done
exit $status
