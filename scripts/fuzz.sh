#!/usr/bin/env bash
# Builds the libFuzzer targets (part of the clang ASan + UBSan build of the
# sanitize preset, build/sanitize/fuzz) and runs each for
# LOWBIT_FUZZ_SECONDS (default 60), or for LOWBIT_FUZZ_RUNS inputs when that
# is set (repeatable: the same inputs every time, as CI needs), with a fixed
# seed, starting from small
# valid inputs: models written by `lowbit synth`, their imatrices, a legacy
# .dat imatrix, random blocks, vocabularies, a saved base-logits file, the
# safetensors and JSON files of TinyStories-656K (../shared/data), and small
# tar and zip archives. Any crash, sanitizer report, leak or hang
# (over 10 s for one input) fails the run; the input that caused it is left
# in build/fuzz/ (crash-*, leak-*, timeout-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${LOWBIT_FUZZ_SECONDS:-60}
if [[ -n ${LOWBIT_FUZZ_RUNS:-} ]]; then
  budget=(-runs="$LOWBIT_FUZZ_RUNS")
  what="$LOWBIT_FUZZ_RUNS inputs"
else
  budget=(-max_total_time="$seconds")
  what="$seconds s"
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is needed (apt-get install clang)" >&2; exit 1; }

# (the sanitizer build's tests need the reference peer to configure)
peer=$(./scripts/install-peer.sh)
cmake --preset sanitize -DLOWBIT_PEER_DIR="$peer" >/dev/null
cmake --build --preset fuzz -j"$(nproc)"
# the seeds are written by the release CLI (built if missing)
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target lowbit_cli >/dev/null
cli=build/release/bin/lowbit
work=build/fuzz/work
rm -rf "$work"
mkdir -p "$work"/model "$work"/imatrix "$work"/rows

"$cli" synth --layers 1 --embd 32 --heads 2 --kv-heads 1 --ff 64 --seed 1 \
  --imatrix "$work/imatrix/synth.imatrix.gguf" "$work/model/synth-f16.gguf" >/dev/null
"$cli" synth --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 96 --tied --type f32 --seed 2 \
  --imatrix "$work/imatrix/synth2.imatrix.gguf" "$work/model/synth-f32.gguf" >/dev/null
"$cli" quantize "$work/model/synth-f16.gguf" "$work/model/synth-q8_0.gguf" Q8_0 >/dev/null 2>&1
# the imatrix of the model fuzz_imatrix applies imatrices to (its options)
"$cli" synth --layers 1 --embd 256 --heads 2 --kv-heads 1 --ff 256 --seed 1 \
  --imatrix "$work/imatrix/applied.imatrix.gguf" "$work/applied-model.gguf" >/dev/null
# a legacy .dat imatrix: 1 entry "a.weight", ncall 2, 4 values, trailer (chunk count 1, dataset "d")
printf '\x01\x00\x00\x00\x08\x00\x00\x00a.weight\x02\x00\x00\x00\x04\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x01\x00\x00\x00\x01\x00\x00\x00d' \
  > "$work/imatrix/legacy.dat"
# vocabularies: stories260K's SentencePiece one, a cut of llama.cpp's gpt-2 BPE
# one under each pre-tokenizer name (the peer's source, see install-peer.sh)
mkdir -p "$work/tokenizer"
peer_src=$peer/../../../../../llama.cpp
/usr/bin/python3 tests/fuzz/make_vocab_seeds.py models/stories260K.gguf "$peer_src/models/ggml-vocab-gpt-2.gguf" \
  "$work/tokenizer" >/dev/null
# a base-logits file of the model fuzz_base_logits runs (the first synth above)
mkdir -p "$work/base_logits"
head -c 400 tests/data/tinystories_val.txt > "$work/base-text.txt"
"$cli" kld --base "$work/model/synth-f16.gguf" -f "$work/base-text.txt" --ctx 16 --chunks 3 \
  --save-base "$work/base_logits/seed.logits" 2>/dev/null
# safetensors files made from TinyStories-656K's header and tensors, and its
# JSON files (config, tokenizer, a cut tokenizer under -max_len)
hf=../shared/data/tinystories-656k
[[ -f $hf/model.safetensors ]] || { echo "fuzz.sh: $hf/model.safetensors is missing (see ../shared/data/PROVENANCE.md)" >&2; exit 1; }
/usr/bin/python3 tests/fuzz/make_safetensors_seeds.py "$hf" "$work/safetensors" "$work/json" >/dev/null
# small archives as Python's tarfile and zipfile write them
/usr/bin/python3 tests/fuzz/make_archive_seeds.py "$work/archive" >/dev/null
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
  { printf "\\x$(printf %02x "$i")"; head -c 1200 /dev/zero | tr '\0' '\125'; } > "$work/rows/type$i"
done

# The targets run side by side, one per core (each is single-threaded and
# deterministic: its own seed, corpus and log), the longest runs first,
# reported in a fixed order.
targets=(model rows imatrix base_logits json tokenizer safetensors archive)
# the sanitizer runtime, preloaded so that it comes first (tests/fuzz/CMakeLists.txt)
asan_runtime=$(cat build/sanitize/fuzz/preload)
run_target() { # target: exit status in work/fuzz_TARGET.status
  local target=$1 rc=0
  mkdir -p "$work/corpus-$target"
  (cd build/fuzz && LD_PRELOAD=$asan_runtime ../sanitize/fuzz/fuzz_"$target" -seed=1 "${budget[@]}" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "work/corpus-$target" "work/$target" 2>"work/fuzz_$target.log") || rc=$?
  echo "$rc" > "$work/fuzz_$target.status"
}
jobs_max=$(nproc)
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
  run_target "$target" &
done
wait
status=0
for target in "${targets[@]}"; do
  echo "== fuzz_$target: $what" >&2
  if [[ $(cat "$work/fuzz_$target.status" 2>/dev/null) != 0 ]]; then
    echo "fuzz_$target FAILED; the end of its log (build/fuzz/work/fuzz_$target.log):" >&2
    tail -40 "build/fuzz/work/fuzz_$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "build/fuzz/work/fuzz_$target.log" | tail -2 >&2
  fi
done
exit $status
