#!/usr/bin/env bash
# README command one: installs what is missing, builds lowbit, and quantizes the
# shipped model (models/stories260K.gguf) to Q8_0, Q4_0 and Q4_K_M in build/demo/,
# then writes a small synthetic llama model with its importance matrix and
# quantizes it to Q4_K_M with the imatrix (its 512-wide rows take K-quants).
# Then it measures what quantizing cost: the perplexity of the F32 model and of
# each quantized file on the first 40 chunks of 256 tokens of
# tests/data/tinystories_val.txt, and the greedy continuation of a prompt.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target lowbit_cli >/dev/null
mkdir -p build/demo
for type in Q8_0 Q4_0 Q4_K_M; do
  ./build/release/bin/lowbit quantize models/stories260K.gguf "build/demo/stories260K-$type.gguf" "$type"
done
./build/release/bin/lowbit synth --layers 4 --embd 512 --heads 8 --kv-heads 2 --ff 1536 \
  --imatrix build/demo/synthetic.imatrix.gguf build/demo/synthetic-f16.gguf
./build/release/bin/lowbit quantize --imatrix build/demo/synthetic.imatrix.gguf \
  build/demo/synthetic-f16.gguf build/demo/synthetic-Q4_K_M.gguf Q4_K_M
for file in models/stories260K.gguf build/demo/stories260K-{Q8_0,Q4_0,Q4_K_M}.gguf; do
  printf '%-36s ' "$file"
  ./build/release/bin/lowbit perplexity "$file" -f tests/data/tinystories_val.txt --ctx 256 --chunks 40 2>/dev/null
done
./build/release/bin/lowbit generate build/demo/stories260K-Q4_K_M.gguf -p "Once upon a time" -n 48
