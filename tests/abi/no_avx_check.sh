#!/usr/bin/env bash
# lowbit on a CPU without AVX (qemu-x86_64 -cpu Nehalem: SSE4.2 at most):
# no illegal instruction, and the same bytes. A small synthetic model is
# quantized to every legacy and K file type, with and without an importance
# matrix (the two search paths), natively (the AVX2 kernels here) and under
# the emulated Nehalem (the generic kernels): the files must be identical.
# Then the emulated CPU runs perplexity and generation on one of them.
# Last, qemu's "max" CPU (AVX2, FMA and F16C but no AVX-512, which qemu does
# not emulate) must choose the AVX2 set and write the same bytes again: on a
# host with AVX-512 this is the run that would fault if an AVX-512 kernel were
# picked without the CPU reporting it.
#
# usage: no_avx_check.sh LOWBIT_CLI QEMU WORKDIR
set -euo pipefail
cli=$1 qemu=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
nehalem() { "$qemu" -cpu Nehalem "$@" 2> >(grep -v "TCG doesn't support" >&2); }
avx2_cpu() { "$qemu" -cpu max "$@" 2> >(grep -v "TCG doesn't support" >&2); }
"$cli" synth --layers 1 --embd 256 --heads 2 --kv-heads 1 --ff 256 --seed 4 \
  --imatrix "$work/model.imatrix.gguf" "$work/model.gguf" > /dev/null
nehalem "$cli" info "$work/model.gguf" > /dev/null
types="Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K"
# each CPU writes every type in one pass per search path (--types: the same
# files as single runs), so that qemu translates the kernels once per path
n=0
for im in none imatrix; do
  extra=()
  [[ $im == imatrix ]] && extra=(--imatrix "$work/model.imatrix.gguf")
  "$cli" quantize "${extra[@]}" "$work/model.gguf" --types "${types// /,}" "$work/native-$im" > /dev/null
  nehalem "$cli" quantize "${extra[@]}" "$work/model.gguf" --types "${types// /,}" "$work/nehalem-$im" > /dev/null
  for t in $types; do
    [[ -s $work/native-$im-$t.gguf ]] || { echo "no_avx_check: $work/native-$im-$t.gguf was not written" >&2; exit 1; }
    if ! cmp -s "$work/native-$im-$t.gguf" "$work/nehalem-$im-$t.gguf"; then
      echo "no_avx_check: $t ($im) differs between the native CPU and Nehalem" >&2
      exit 1
    fi
    n=$((n + 1))
  done
done
head -c 600 "$(dirname "$0")/../data/tinystories_val.txt" > "$work/text.txt"
nehalem "$cli" perplexity "$work/nehalem-none-Q4_K_M.gguf" -f "$work/text.txt" --ctx 32 > "$work/ppl.txt"
nehalem "$cli" generate "$work/nehalem-none-Q8_0.gguf" -p "Once" -n 4 > /dev/null
nehalem "$cli" info --cpu | grep -qx 'using: *generic .*' ||
  { echo "no_avx_check: Nehalem does not use the generic kernels:" >&2; nehalem "$cli" info --cpu >&2; exit 1; }
echo "no_avx_check: $n files byte-identical natively and on Nehalem; perplexity and generation ran there: $(grep -m1 "PPL" "$work/ppl.txt")"

avx2_cpu "$cli" info --cpu | grep -qx 'using: *avx2 .*' ||
  { echo "no_avx_check: qemu's max CPU does not use the AVX2 kernels:" >&2; avx2_cpu "$cli" info --cpu >&2; exit 1; }
for t in Q4_0 Q8_0 Q4_K_M; do
  avx2_cpu "$cli" quantize --imatrix "$work/model.imatrix.gguf" "$work/model.gguf" "$work/avx2-$t.gguf" "$t" > /dev/null
  cmp -s "$work/native-imatrix-$t.gguf" "$work/avx2-$t.gguf" ||
    { echo "no_avx_check: $t (imatrix) differs between the native CPU and an AVX2 CPU" >&2; exit 1; }
done
avx2_cpu "$cli" perplexity "$work/nehalem-none-Q4_K_M.gguf" -f "$work/text.txt" --ctx 32 > "$work/ppl-avx2.txt"
echo "no_avx_check: on an AVX2 CPU without AVX-512 the avx2 set runs, 3 files byte-identical, $(grep -m1 "PPL" "$work/ppl-avx2.txt")"
