#!/usr/bin/env bash
# Compares liblowbit's ABI with the baseline committed for its SONAME
# (tests/abi/<soname>.abi, written by abidw from a debug build) and fails on
# an incompatible change: a removed or changed function, a changed type. New
# functions are compatible and only reported. A library whose SONAME has no
# baseline (the SONAME was bumped) passes: record its baseline with --update.
#
#   scripts/abi-check.sh            build build/abi (debug, library only) and compare
#   scripts/abi-check.sh --update   rewrite the baseline from that build
# With LOWBIT_ABI_LIB set, the library compared is that one (a build with
# debug information, such as the sanitizer build's), and nothing is built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v abidiff >/dev/null || { echo "abi-check: abidiff is needed (apt-get install abigail-tools)" >&2; exit 1; }

mkdir -p build/abi
if [[ -n ${LOWBIT_ABI_LIB:-} && ${1:-} != --update ]]; then
  lib=$LOWBIT_ABI_LIB
  [[ -f $lib ]] || { echo "abi-check: LOWBIT_ABI_LIB=$lib does not exist" >&2; exit 1; }
else
  # A debug build of the library alone: abidw reads the types from its DWARF.
  cmake -S . -B build/abi -DCMAKE_BUILD_TYPE=Debug -DLOWBIT_BUILD_TESTS=OFF -DLOWBIT_BUILD_PYTHON=OFF >/dev/null
  cmake --build build/abi -j"$(nproc)" --target lowbit >/dev/null
  lib=build/abi/lib/liblowbit.so.0
fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
baseline=tests/abi/$soname.abi
dump() { abidw --headers-dir include/lowbit --drop-private-types --exported-interfaces-only --no-corpus-path --no-comp-dir-path --short-locs "$lib"; }

if [[ ${1:-} == --update ]]; then
  dump >"$baseline"
  echo "abi-check: wrote $baseline" >&2
  exit 0
fi
if [[ ! -f $baseline ]]; then
  echo "abi-check: $soname has no baseline (SONAME bumped?): record it with scripts/abi-check.sh --update" >&2
  exit 0
fi
dump >build/abi/current.abi
set +e
abidiff "$baseline" build/abi/current.abi >build/abi/abidiff.txt
rc=$?
set -e
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible change. It counts a changed struct member as a mere change,
# so the verdict is read from its summary: anything removed or changed fails,
# functions or variables added pass.
if ((rc & 3)); then
  cat build/abi/abidiff.txt >&2
  echo "abi-check: abidiff failed (status $rc)" >&2
  exit 1
fi
broken=$({ grep -E "changes summary: " build/abi/abidiff.txt || true; } |
  sed -E 's/.*summary: ([0-9]+) Removed[^,]*, ([0-9]+) Changed.*/\1 \2/' | awk '{n += $1 + $2} END {print n + 0}')
if ((rc & 8 || broken > 0)); then
  cat build/abi/abidiff.txt >&2
  echo "abi-check: incompatible ABI change against $baseline; keep the ABI or bump the SONAME" >&2
  exit 1
fi
if ((rc & 4)); then
  cat build/abi/abidiff.txt >&2
  echo "abi-check: compatible additions against $baseline (record them with --update when released)" >&2
fi
echo "abi-check: $soname is compatible with $baseline" >&2
