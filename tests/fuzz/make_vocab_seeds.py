#!/usr/bin/env python3
"""Small vocabulary-only GGUF files to seed fuzz_tokenizer: the
SentencePiece vocabulary of stories260K as it is, and a byte-level BPE one cut
from a larger vocabulary (its first tokens and the merges among them), under
each pre-tokenizer name lowbit reads. usage: make_vocab_seeds.py SPM_MODEL
BPE_VOCAB OUT_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from gguf_file import ARRAY, STRING, read_gguf, write_gguf  # noqa: E402


def keys_of(path, prefix="tokenizer."):
    return {k: v for k, v in read_gguf(path).metadata.items() if k.startswith(prefix)}


def entry(key, value):
    """(key, type, value) or (key, ARRAY, element type, values) for the writer."""
    if isinstance(value, str):
        return (key, STRING, value)
    if isinstance(value, bool):
        return (key, 7, value)
    if isinstance(value, int):
        return (key, 4, value)
    if isinstance(value, float):
        return (key, 6, value)
    if isinstance(value, list) and value and isinstance(value[0], str):
        return (key, ARRAY, STRING, value)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    integral = kind in ("i", "u") if kind else all(isinstance(x, int) for x in value)
    return (key, ARRAY, 5 if integral else 6, [int(x) if integral else float(x) for x in value])


spm, bpe, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
meta = keys_of(spm)
write_gguf(os.path.join(out, "spm.gguf"), [entry(k, v) for k, v in meta.items()], [])

meta = keys_of(bpe)
keep = 600
tokens = meta["tokenizer.ggml.tokens"][:keep]
known = set(tokens)
merges = [m for m in meta["tokenizer.ggml.merges"] if "".join(m.split(" ", 1)) in known and all(p in known for p in m.split(" ", 1))]
for pre in ("gpt-2", "llama-bpe", "qwen2", "smollm", "default"):
    kvs = [
        ("tokenizer.ggml.model", STRING, "gpt2"),
        ("tokenizer.ggml.pre", STRING, pre),
        ("tokenizer.ggml.tokens", ARRAY, STRING, tokens),
        ("tokenizer.ggml.token_type", ARRAY, 5, [1] * (len(tokens) - 1) + [3]),
        ("tokenizer.ggml.merges", ARRAY, STRING, merges),
        ("tokenizer.ggml.bos_token_id", 4, len(tokens) - 1),
        ("tokenizer.ggml.eos_token_id", 4, len(tokens) - 1),
    ]
    write_gguf(os.path.join(out, f"bpe-{pre}.gguf"), kvs, [])
print(out, len(tokens), "BPE tokens,", len(merges), "merges")
