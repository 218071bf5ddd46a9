#!/usr/bin/env bash
# Builds tests/install/consumer.c against an installed lowbit twice, with
# `cc $(pkg-config --cflags --libs lowbit)` and as a CMake project using
# find_package(lowbit), and runs both on a real model.
#
#   run_consumers.sh PREFIX MODEL WORKDIR
#
# PREFIX is where lowbit is installed (/usr for the Debian packages, or a
# temporary prefix from `cmake --install`); WORKDIR is emptied first.
set -euo pipefail
prefix=$1 model=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"

if [[ $prefix != /usr ]]; then
  # a private prefix: point pkg-config, CMake and the loader at it
  pcdir=$(dirname "$(find "$prefix" -name lowbit.pc -print -quit)")
  [[ -n $pcdir && $pcdir != . ]] || { echo "run_consumers: no lowbit.pc under $prefix" >&2; exit 1; }
  export PKG_CONFIG_PATH=$pcdir
  export LD_LIBRARY_PATH=$(dirname "$(dirname "$pcdir")/liblowbit.so.0")
  export CMAKE_PREFIX_PATH=$prefix
fi

echo "== pkg-config: lowbit $(pkg-config --modversion lowbit)"
# shellcheck disable=SC2046 # the flags are words
cc -std=c99 -Wall -Wextra -Werror -o "$work/consumer-pc" "$here/consumer.c" $(pkg-config --cflags --libs lowbit)
"$work/consumer-pc" "$model" "$work/pc-q8_0.gguf"

echo "== cmake: find_package(lowbit)"
cmake -S "$here/cmake_project" -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer" "$model" "$work/cmake-q8_0.gguf"

cmp "$work/pc-q8_0.gguf" "$work/cmake-q8_0.gguf"
# the programs ran against the installed library, not a build tree's
expected="${prefix%/}/"
[[ $prefix != /usr ]] || expected="/(usr/)?lib/"
for program in "$work/consumer-pc" "$work/cmake/consumer"; do
  # ldd's whole output first: `ldd | grep -q` can fail under pipefail when
  # grep stops reading early and ldd gets SIGPIPE
  libraries=$(ldd "$program")
  grep -Eq "liblowbit.so.0 => $expected" <<<"$libraries" ||
    { echo "run_consumers: $program did not load liblowbit from $prefix:" >&2; echo "$libraries" >&2; exit 1; }
done
echo "== both consumers ok"
