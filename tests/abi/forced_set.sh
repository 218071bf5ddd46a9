#!/usr/bin/env bash
# Runs the unit tests with the kernel set SET forced (LOWBIT_KERNELS), unless
# that is the set this CPU runs anyway (the fastest it has, or the one a set
# it lacks falls back to): the plain unit tests ran exactly that, and ctest
# reports the run as skipped (exit 77), not passed.
#
# usage: forced_set.sh SET LOWBIT_CLI UNIT_TESTS [GTEST ARGS...]
set -euo pipefail
set_name=$1 cli=$2 tests=$3
shift 3
using() { sed -n 's/^using: *\([a-z0-9_]*\).*/\1/p'; }
default=$(env -u LOWBIT_KERNELS "$cli" info --cpu | using)
forced=$(LOWBIT_KERNELS=$set_name "$cli" info --cpu | using)
[[ -n $default && -n $forced ]] || { echo "forced_set: lowbit info --cpu names no set in use" >&2; exit 1; }
if [[ $forced == "$default" ]]; then
  echo "forced_set: LOWBIT_KERNELS=$set_name runs $forced, the set this CPU uses by default: the unit tests ran it"
  exit 77
fi
LOWBIT_KERNELS=$set_name exec "$tests" "$@"
