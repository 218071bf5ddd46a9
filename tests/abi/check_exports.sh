#!/usr/bin/env bash
# liblowbit exports the public C API and nothing else: every function the
# header declares (LB_API) is a dynamic symbol of version LOWBIT_0, and every
# dynamic symbol is one of them (plus the version node itself).
#
#   check_exports.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
declared=$(grep -E '^LB_API' "$header" | grep -oE '\blb_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
[[ -n $declared ]] || { echo "check_exports: no LB_API functions found in $header" >&2; exit 1; }

status=0
while read -r sym; do
  case $sym in
    LOWBIT_0) ;;
    lb_*@@LOWBIT_0) grep -qx "${sym%@@LOWBIT_0}" <<<"$declared" ||
                      { echo "exported but not declared in the header: $sym" >&2; status=1; } ;;
    *) echo "exported symbol outside the public API: $sym" >&2; status=1 ;;
  esac
done <<<"$exported"
while read -r fn; do
  grep -qx "$fn@@LOWBIT_0" <<<"$exported" || { echo "declared but not exported (as $fn@@LOWBIT_0): $fn" >&2; status=1; }
done <<<"$declared"
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname == liblowbit.so.0 ]] || { echo "SONAME is '$soname', expected liblowbit.so.0" >&2; status=1; }
((status == 0)) && echo "ok: $(wc -l <<<"$declared") functions exported, nothing else"
exit $status
