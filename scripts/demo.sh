#!/usr/bin/env bash
# README command one: installs what is missing, builds lowbit, and runs the
# whole workflow on the shipped models, into build/demo/:
#  1. the Hugging Face checkpoint models/tinystories-656k: converted to GGUF
#     F16 (lowbit convert) and quantized straight from the folder to Q8_0 and
#     Q4_0 (no intermediate file); the perplexity of each on the first 20,000
#     characters of tests/data/tinystories_val.txt, and a story from the Q8_0
#     file;
#  2. the GGUF model models/stories260K.gguf: quantized to Q8_0, Q4_0 and
#     Q4_K_M, and to Q4_K_M again with an importance matrix lowbit collects on
#     the last 200,000 characters of tinystories_val.txt (lowbit imatrix); a
#     small synthetic llama model with its importance matrix, quantized to
#     Q4_K_M (its 512-wide rows take K-quants); then what quantizing cost on the
#     first 40 chunks of 256 tokens of the same text: one table (lowbit
#     compare) of each stories260K file's size, bits per weight, perplexity,
#     KL-divergence from the F32 model and same-top-token rate, a chart of it
#     (build/demo/compare.svg), the tensors the Q4_0 file hurts most, and the
#     greedy continuation of a prompt.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target lowbit_cli >/dev/null
mkdir -p build/demo
lowbit=./build/release/bin/lowbit
head -c 20000 tests/data/tinystories_val.txt > build/demo/text-20k.txt
$lowbit convert models/tinystories-656k build/demo/tinystories-656k-F16.gguf
for type in Q8_0 Q4_0; do
  $lowbit quantize models/tinystories-656k "build/demo/tinystories-656k-$type.gguf" "$type" 2>/dev/null | grep "output:"
done
for file in build/demo/tinystories-656k-{F16,Q8_0,Q4_0}.gguf; do
  printf '%-40s ' "$file"
  $lowbit perplexity "$file" -f build/demo/text-20k.txt --ctx 256 2>/dev/null | grep '^PPL'
done
$lowbit generate build/demo/tinystories-656k-Q8_0.gguf -p "Once upon a time" -n 48
for type in Q8_0 Q4_0 Q4_K_M; do
  ./build/release/bin/lowbit quantize models/stories260K.gguf "build/demo/stories260K-$type.gguf" "$type"
done
./build/release/bin/lowbit synth --layers 4 --embd 512 --heads 8 --kv-heads 2 --ff 1536 \
  --imatrix build/demo/synthetic.imatrix.gguf build/demo/synthetic-f16.gguf
./build/release/bin/lowbit quantize --imatrix build/demo/synthetic.imatrix.gguf \
  build/demo/synthetic-f16.gguf build/demo/synthetic-Q4_K_M.gguf Q4_K_M
tail -c 200000 tests/data/tinystories_val.txt > build/demo/calibration.txt
./build/release/bin/lowbit imatrix models/stories260K.gguf -f build/demo/calibration.txt \
  -o build/demo/stories260K.imatrix.gguf --ctx 256 2>/dev/null
./build/release/bin/lowbit quantize --imatrix build/demo/stories260K.imatrix.gguf \
  models/stories260K.gguf build/demo/stories260K-Q4_K_M-imatrix.gguf Q4_K_M
./build/release/bin/lowbit compare models/stories260K.gguf \
  build/demo/stories260K-{Q8_0,Q4_0,Q4_K_M,Q4_K_M-imatrix}.gguf \
  -f tests/data/tinystories_val.txt --ctx 256 --chunks 40 --svg build/demo/compare.svg 2>/dev/null
./build/release/bin/lowbit compare models/stories260K.gguf build/demo/stories260K-Q4_0.gguf \
  -f tests/data/tinystories_val.txt --ctx 256 --chunks 40 --per-tensor 2>/dev/null | head -12
./build/release/bin/lowbit generate build/demo/stories260K-Q4_K_M.gguf -p "Once upon a time" -n 48
