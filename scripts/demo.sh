#!/usr/bin/env bash
# README command one: installs what is missing, builds lowbit, and quantizes the
# shipped model (models/stories260K.gguf) to Q8_0 and Q4_0 in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target lowbit_cli >/dev/null
mkdir -p build/demo
for type in Q8_0 Q4_0; do
  ./build/release/bin/lowbit quantize models/stories260K.gguf "build/demo/stories260K-$type.gguf" "$type"
done
