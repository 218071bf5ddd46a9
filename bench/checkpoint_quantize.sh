#!/usr/bin/env bash
# Quantizing a Hugging Face checkpoint: straight from the folder
# (`lowbit quantize SRC OUT TYPE`, no intermediate file) against the two-step
# path (`lowbit convert SRC F32.gguf --outtype f32` then `lowbit quantize`):
# wall time, peak RSS (GNU time's maximum resident set) and the bytes each
# path writes, RUNS runs of each, alternating. The checkpoint is a synthetic
# Llama-3.2-1B-shaped model in BF16 (hidden 2048, 16 layers, 32/8 heads, FFN
# 8192, llama.cpp's llama-bpe vocabulary of 128,256 tokens, untied output:
# 1.50e9 weights, 3.0 GB), written once by tests/interop/make_hf_checkpoint.py.
#
# usage: bench/checkpoint_quantize.sh [TYPE] [RUNS] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-Q4_K_M}
runs=${2:-3}
work=${3:-build/bench-checkpoint}
lowbit=build/release/bin/lowbit
peer_src=${LOWBIT_PEER_SRC:-$HOME/.cache/lowbit/peer-3.22.1/llama.cpp}
mkdir -p "$work"
if [[ ! -f $work/llama-1b/model.safetensors ]]; then
  echo "writing the synthetic checkpoint to $work/llama-1b ..." >&2
  /usr/bin/python3 tests/interop/make_hf_checkpoint.py "$peer_src" llama-bpe "$work/llama-1b" LlamaForCausalLM BF16 \
    --dims 2048,16,32,8,8192
fi
src=$work/llama-1b
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; lowbit $($lowbit --version)"
echo "checkpoint: $src ($(du -b "$src/model.safetensors" | cut -f1) bytes of BF16 safetensors); $type, 2 threads"
cat "$src/model.safetensors" > /dev/null # in the page cache for both paths
measure() { # label, command...: prints wall seconds and peak RSS KiB
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2>&1
  read -r wall rss < "$work/time.txt"
  echo "$label $wall $rss"
}
printf '%-10s %4s %10s %14s %16s\n' path run "wall s" "peak RSS MiB" "bytes written"
for ((r = 1; r <= runs; ++r)); do
  rm -f "$work/direct.gguf" "$work/f32.gguf" "$work/two-step.gguf"
  read -r _ wall rss < <(measure direct "$lowbit" quantize "$src" "$work/direct.gguf" "$type" 2)
  printf '%-10s %4d %10s %14s %16s\n' direct "$r" "$wall" "$((rss / 1024))" "$(stat -c %s "$work/direct.gguf")"
  read -r _ w1 rss1 < <(measure convert "$lowbit" convert "$src" "$work/f32.gguf" --outtype f32 --threads 2)
  read -r _ w2 rss2 < <(measure quantize "$lowbit" quantize "$work/f32.gguf" "$work/two-step.gguf" "$type" 2)
  printf '%-10s %4d %10s %14s %16s\n' two-step "$r" "$(awk -v a="$w1" -v b="$w2" 'BEGIN { printf "%.2f", a + b }')" "$(( (rss1 > rss2 ? rss1 : rss2) / 1024 ))" \
    "$(( $(stat -c %s "$work/f32.gguf") + $(stat -c %s "$work/two-step.gguf") ))"
  cmp -s "$work/direct.gguf" "$work/two-step.gguf" || { echo "the two paths' outputs differ" >&2; exit 1; }
done
rm -f "$work/f32.gguf"
