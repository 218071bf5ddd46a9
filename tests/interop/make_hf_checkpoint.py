"""Writes a small synthetic Hugging Face checkpoint for the conversion tests,
from the vocabulary of one of llama.cpp's test vocabularies
(models/ggml-vocab-*.gguf; its metadata read here): config.json,
tokenizer.json (byte-level BPE: the vocabulary, the merges, the split pattern
of that pre-tokenizer), tokenizer_config.json and model.safetensors (seeded
random weights, BF16 or F16, written here with numpy), the way transformers
lays them out. torch_reference.py evaluates it.

usage: make_hf_checkpoint.py PEER_SRC VOCAB OUT_DIR ARCH DTYPE
       make_hf_checkpoint.py PEER_SRC VOCAB OUT_DIR ARCH DTYPE --dims E,LAYERS,HEADS,KV_HEADS,FF
  (--dims: a large checkpoint of those dimensions for benchmarks, streamed)
  VOCAB: llama-bpe or qwen2; ARCH: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or
  Qwen3ForCausalLM; DTYPE: BF16 or F16
"""

import json
import pathlib
import struct
import sys

import numpy as np

SPLIT = {
    "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}


# GGUF metadata value types: fixed-size ones as struct formats, 8 string, 9 array
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_gguf_metadata(path):
    """The key/value section of a GGUF file (little-endian, version 2 or 3)
    as a dict: strings decoded, arrays as lists. llama.cpp's gguf-py reader
    took 11 s on a 128k-token vocabulary; this reads only the metadata."""
    data = pathlib.Path(path).read_bytes()
    magic, version, _n_tensors, n_kv = struct.unpack_from("<4sIQQ", data, 0)
    if magic != b"GGUF" or version not in (2, 3):
        raise ValueError(f"{path}: not a GGUF file of version 2 or 3")
    at = 24

    def string():
        nonlocal at
        (n,) = struct.unpack_from("<Q", data, at)
        at += 8 + n
        return data[at - n:at].decode("utf-8")

    def value(kind):
        nonlocal at
        if kind == 8:
            return string()
        if kind == 9:
            elem, count = struct.unpack_from("<IQ", data, at)
            at += 12
            if elem in _GGUF_SCALARS:
                fmt = "<%d%s" % (count, _GGUF_SCALARS[elem])
                items = list(struct.unpack_from(fmt, data, at))
                at += struct.calcsize(fmt)
                return items
            return [value(elem) for _ in range(count)]
        fmt = "<" + _GGUF_SCALARS[kind]
        (v,) = struct.unpack_from(fmt, data, at)
        at += struct.calcsize(fmt)
        return v

    kv = {}
    for _ in range(n_kv):
        key = string()
        (kind,) = struct.unpack_from("<I", data, at)
        at += 4
        kv[key] = value(kind)
    return kv


def read_vocab(peer_src, vocab):
    kv = read_gguf_metadata(pathlib.Path(peer_src) / "models" / f"ggml-vocab-{vocab}.gguf")
    return (kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.token_type"], kv["tokenizer.ggml.merges"],
            kv.get("tokenizer.ggml.bos_token_id"), kv.get("tokenizer.ggml.eos_token_id"))


MODEL_TYPES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2",
               "Qwen3ForCausalLM": "qwen3"}


def config_of(arch, n_vocab, bos, eos):
    """Each architecture's config tries other features: Llama linear rope
    scaling, untied; Mistral Llama 3.1-style rope scaling (rope_freqs), GQA
    4:1; Qwen2 Q/K/V biases, tied; Qwen3 Q/K norms and a head_dim that is not
    hidden_size / heads, tied."""
    c = config_base(arch, n_vocab, bos, eos)
    if arch == "MistralForCausalLM":
        c.update(num_key_value_heads=1, rope_theta=1000000.0, sliding_window=None,
                 rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 64})
    if arch == "Qwen3ForCausalLM":
        c.update(head_dim=32, attention_bias=False, rope_theta=1000000.0, tie_word_embeddings=True)
    return c


def config_base(arch, n_vocab, bos, eos):
    return {
        "architectures": [arch],
        "model_type": MODEL_TYPES[arch],
        "hidden_size": 64,
        "intermediate_size": 160,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 256,
        "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0 if arch == "LlamaForCausalLM" else 1000000.0,
        "rope_scaling": {"rope_type": "linear", "factor": 2.0} if arch == "LlamaForCausalLM" else None,
        "tie_word_embeddings": arch == "Qwen2ForCausalLM",
        "vocab_size": n_vocab,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "attention_bias": arch == "Qwen2ForCausalLM",
        "torch_dtype": "bfloat16",
    }


def shapes_of(c):
    """The checkpoint's tensors and shapes, in transformers' names."""
    E, F, H, KV, V = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"], c["vocab_size"]
    D = c.get("head_dim", E // H)
    out = {"model.embed_tokens.weight": (V, E), "model.norm.weight": (E,)}
    if not c["tie_word_embeddings"]:
        out["lm_head.weight"] = (V, E)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out.update({p + "input_layernorm.weight": (E,), p + "post_attention_layernorm.weight": (E,),
                    p + "self_attn.q_proj.weight": (H * D, E), p + "self_attn.k_proj.weight": (KV * D, E),
                    p + "self_attn.v_proj.weight": (KV * D, E), p + "self_attn.o_proj.weight": (E, H * D),
                    p + "mlp.gate_proj.weight": (F, E), p + "mlp.up_proj.weight": (F, E), p + "mlp.down_proj.weight": (E, F)})
        if c["model_type"] == "qwen3":
            out.update({p + "self_attn.q_norm.weight": (D,), p + "self_attn.k_norm.weight": (D,)})
    return out


def write_large(path, c, dtype, seed):
    """A large checkpoint for benchmarks, streamed tensor by tensor (float32
    normals, scaled by 1/sqrt(fan-in); norms near 1)."""
    shapes = shapes_of(c)
    size = 2 if dtype in ("BF16", "F16") else 4
    header, offset = {}, 0
    for name in sorted(shapes):
        n = int(np.prod(shapes[name])) * size
        header[name] = {"dtype": dtype, "shape": list(shapes[name]), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(shapes):
            shape = shapes[name]
            if len(shape) == 1:
                a = (1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
            else:
                a = rng.standard_normal(shape, dtype=np.float32) * np.float32(1.0 / np.sqrt(shape[1]))
            f.write(to_stored(a, dtype)[0])


def weights_of(c, seed):
    rng = np.random.default_rng(seed)
    E, F, H, KV, V = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"], c["vocab_size"]
    D = c.get("head_dim", E // H)
    w = {"model.embed_tokens.weight": rng.normal(0, 0.5, (V, E)), "model.norm.weight": rng.normal(1, 0.1, (E,))}
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 0.2, (V, E))
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = rng.normal(1, 0.1, (E,))
        w[p + "post_attention_layernorm.weight"] = rng.normal(1, 0.1, (E,))
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.3, (H * D, E))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.3, (KV * D, E))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.3, (KV * D, E))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.2, (E, H * D))
        if c["attention_bias"]:
            w[p + "self_attn.q_proj.bias"] = rng.normal(0, 0.2, (H * D,))
            w[p + "self_attn.k_proj.bias"] = rng.normal(0, 0.2, (KV * D,))
            w[p + "self_attn.v_proj.bias"] = rng.normal(0, 0.2, (KV * D,))
        if c["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = rng.normal(1, 0.1, (D,))
            w[p + "self_attn.k_norm.weight"] = rng.normal(1, 0.1, (D,))
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.2, (F, E))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 0.2, (F, E))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, 0.2, (E, F))
    return w


def to_stored(a, dtype):
    """The array as the checkpoint stores it (bits), and its exact float value."""
    a32 = a.astype(np.float32)
    if dtype == "F16":
        h = a32.astype(np.float16)
        return h.tobytes(), h.astype(np.float64)
    bits = (a32.view(np.uint32) >> 16).astype(np.uint16)  # truncated to BF16: exact values below
    back = (bits.astype(np.uint32) << 16).view(np.float32)
    return bits.tobytes(), back.astype(np.float64)


def write_safetensors(path, weights, dtype):
    header, blobs, offset, values = {}, [], 0, {}
    for name in sorted(weights):
        raw, exact = to_stored(weights[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(weights[name].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
        values[name] = exact
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return values


def tokenizer_json(tokens, types, merges, vocab):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, (t, ty) in enumerate(zip(tokens, types)) if ty == 3]
    return {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": SPLIT[vocab]}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": vocab == "llama-bpe",
                  "vocab": {t: i for i, (t, ty) in enumerate(zip(tokens, types)) if ty != 3}, "merges": merges},
    }


def main(argv):
    peer_src, vocab, out_dir, arch, dtype = argv[:5]
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokens, types, merges, bos, eos = read_vocab(peer_src, vocab)
    c = config_of(arch, len(tokens), bos, eos)
    if len(argv) > 5 and argv[5] == "--dims":  # E,L,H,KV,F: a large checkpoint for benchmarks
        E, L, H, KV, F = map(int, argv[6].split(","))
        c.update(hidden_size=E, num_hidden_layers=L, num_attention_heads=H, num_key_value_heads=KV, intermediate_size=F)
    (out / "config.json").write_text(json.dumps(c, indent=2))
    (out / "tokenizer.json").write_text(json.dumps(tokenizer_json(tokens, types, merges, vocab), ensure_ascii=False))
    tc = {"bos_token": tokens[bos] if bos is not None else None, "eos_token": tokens[eos], "add_bos_token": vocab == "llama-bpe",
          "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}
    (out / "tokenizer_config.json").write_text(json.dumps(tc))
    if len(argv) > 5 and argv[5] == "--dims":
        write_large(out / "model.safetensors", c, dtype, 1234)
        return
    write_safetensors(out / "model.safetensors", weights_of(c, 1234), dtype)


if __name__ == "__main__":
    main(sys.argv[1:])
