#!/usr/bin/env bash
# Installs the reference peer from the npm registry: node-llama-cpp@3.22.1 and
# its prebuilt llama.cpp CPU libraries (@node-llama-cpp/linux-x64@3.22.1:
# libggml-base.so, libggml-cpu-*.so, libllama.so). Tests dlopen the libraries
# as an oracle; the node client test runs GGUF files with node-llama-cpp.
# Beside them, Hugging Face's tokenizers.js (@huggingface/tokenizers@0.2.0, pure
# JavaScript): an independent oracle for tokenizer.json vocabularies; and
# Hugging Face's GGUF reader (@huggingface/gguf@0.4.6): a second reader of the
# files lowbit writes.
#
# Installs into $LOWBIT_PEER_CACHE (default ~/.cache/lowbit/peer-3.22.1) and
# prints the folder that holds the libraries; llama.cpp's source at the same
# release goes to $LOWBIT_PEER_CACHE/llama.cpp. Does nothing if already there.
set -euo pipefail
VER=3.22.1
HF_VER=0.2.0
GGUF_VER=0.4.6
CACHE=${LOWBIT_PEER_CACHE:-$HOME/.cache/lowbit/peer-$VER}
LIBS=$CACHE/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64

if [[ ! -f $LIBS/libggml-base.so || ! -f $CACHE/node_modules/node-llama-cpp/package.json ]]; then
  command -v npm >/dev/null || { echo "install-peer: npm is not installed (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$CACHE"
  echo '{"name":"lowbit-peer","private":true}' > "$CACHE/package.json"
  # --omit=optional skips the CUDA and Vulkan builds (600 MB); the CPU build is
  # named explicitly. Install scripts are not needed (prebuilt binaries).
  (cd "$CACHE" && npm install --silent --no-audit --no-fund --omit=optional --ignore-scripts \
      "node-llama-cpp@$VER" "@node-llama-cpp/linux-x64@$VER" "@huggingface/tokenizers@$HF_VER") >&2
  [[ -f $LIBS/libggml-base.so ]] || { echo "install-peer: npm did not deliver $LIBS/libggml-base.so" >&2; exit 1; }
fi
if [[ ! -f $CACHE/node_modules/@huggingface/tokenizers/package.json ]]; then
  (cd "$CACHE" && npm install --silent --no-audit --no-fund --omit=optional --ignore-scripts \
      "@huggingface/tokenizers@$HF_VER") >&2
fi
if [[ ! -f $CACHE/node_modules/@huggingface/gguf/package.json ]]; then
  (cd "$CACHE" && npm install --silent --no-audit --no-fund --omit=optional --ignore-scripts \
      "@huggingface/gguf@$GGUF_VER") >&2
fi
# llama.cpp's source at the peer's exact release, shipped by node-llama-cpp as a
# git bundle: tests compile against its headers (struct layouts of llama.h)
# and read its test vocabularies (models/ggml-vocab-*.gguf). Never built.
SRC=$CACHE/llama.cpp
if [[ ! -f $SRC/include/llama.h ]]; then
  rm -rf "$SRC"
  git clone -q "$CACHE/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$SRC" 2>/dev/null ||
    { echo "install-peer: cannot clone llama.cpp's source from the node-llama-cpp bundle" >&2; exit 1; }
fi
# the names the libraries link each other by
ln -sf libggml.v0.5.0.so "$LIBS/libggml.so"
ln -sf libllama.v0.5.0.so "$LIBS/libllama.so"
echo "$LIBS"
