#!/usr/bin/env bash
# The shipped library holds instruction-set code only where the dispatcher
# chooses it: every function with a VEX- or EVEX-encoded instruction (AVX,
# AVX2, FMA, F16C, AVX-512: mnemonics v..., registers xmm/ymm/zmm or the k
# masks) must be in an instruction-set namespace (common/isa.hpp's
# isa_avx2, or lb::kernels::avx2). A copy of a shared inline function or
# template built with -mavx2 anywhere else could be linked into the generic
# path and raise SIGILL on a CPU without AVX. Prints the offenders.
#
# usage: isa_check.sh LIBRARY
set -euo pipefail
lib=$1
command -v objdump >/dev/null || { echo "isa_check: objdump is needed (binutils)" >&2; exit 1; }
objdump -d --no-show-raw-insn -C "$lib" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn); next }
  # an instruction line: address, tab, mnemonic, operands
  /^ +[0-9a-f]+:\t/ {
    split($0, parts, "\t"); insn = parts[2]
    if (insn ~ /^v[a-z0-9]+ / && insn ~ /%[xyz]mm|%k[0-7]/) {
      if (fn !~ /::isa_avx2::|::isa_avx512::|::isa_avx512bf16::|lb::kernels::avx2::|lb::kernels::avx512::/) bad[fn]++
      else ok[fn]++
    }
  }
  END {
    n = 0; for (f in bad) { print "isa_check: " bad[f] " VEX/EVEX instructions outside an ISA namespace in " f; n++ }
    m = 0; for (f in ok) m++
    printf "isa_check: %d functions with VEX/EVEX code, all in ISA namespaces: %s\n", m, (n == 0 ? "yes" : "NO")
    exit n > 0 ? 1 : 0
  }'
