"""An independent float reference for the conversion tests: reads a Hugging
Face checkpoint folder (config.json, model.safetensors or the shards of
model.safetensors.index.json; the safetensors parsed here with Python's json,
the tensors made with torch) and evaluates the causal LM as transformers'
modeling code does (Llama, Mistral, Qwen2, Qwen3) in float64 with torch
(Debian's python3-torch): RMSNorm, rotate-half rotary embeddings on the
checkpoint's own Q/K order with default, linear or Llama 3 frequency
scaling, Q/K/V biases, Qwen3's per-head Q/K norms, grouped-query attention
with a causal mask, SwiGLU, tied or untied output. Writes the logits of the
given tokens as float32.

usage: torch_reference.py CHECKPOINT_DIR TOKENS_JSON LOGITS_OUT
"""

import json
import math
import pathlib
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + begin : 8 + n + end]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).to(torch.float64)
    return out


def read_checkpoint(folder):
    index = folder / "model.safetensors.index.json"
    if (folder / "model.safetensors").exists() or not index.exists():
        return read_safetensors(folder / "model.safetensors")
    w = {}
    for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
        w.update(read_safetensors(folder / shard))
    return w


def inverse_frequencies(c, dim):
    """transformers' modeling_rope_utils: default, linear, llama3."""
    inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    s = c.get("rope_scaling") or {}
    kind = s.get("rope_type", s.get("type"))
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return torch.where(medium, smoothed, scaled)
    if kind not in (None, "default"):
        raise SystemExit(f"rope_scaling {kind} is not in this reference")
    return inv


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def logits(c, w, tokens):
    E, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    D = c.get("head_dim") or E // H
    eps = c["rms_norm_eps"]
    T = len(tokens)
    angles = torch.outer(torch.arange(T, dtype=torch.float64), inverse_frequencies(c, D))
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)] if "model.embed_tokens.weight" in w else w["lm_head.weight"][torch.tensor(tokens)]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, heads):
            y = torch.nn.functional.linear(h, w[p + f"self_attn.{name}.weight"], w.get(p + f"self_attn.{name}.bias"))
            return y.view(T, heads, D).transpose(0, 1)

        q, k, v = proj("q_proj", H), proj("k_proj", KV), proj("v_proj", KV)
        if p + "self_attn.q_norm.weight" in w:
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, dim=0), v.repeat_interleave(H // KV, dim=0)
        scores = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D) + mask, dim=-1)
        a = (scores @ v).transpose(0, 1).reshape(T, H * D)
        x = x + torch.nn.functional.linear(a, w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.linear(h, w[p + "mlp.gate_proj.weight"])
        up = torch.nn.functional.linear(h, w[p + "mlp.up_proj.weight"])
        x = x + torch.nn.functional.linear(torch.nn.functional.silu(gate) * up, w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], eps)
    out = w.get("lm_head.weight", w.get("model.embed_tokens.weight"))
    return x @ out.T


def main(folder, tokens_json, out_path):
    folder = pathlib.Path(folder)
    c = json.loads((folder / "config.json").read_text())
    tokens = json.loads(pathlib.Path(tokens_json).read_text())
    with torch.no_grad():
        result = logits(c, read_checkpoint(folder), tokens)
    pathlib.Path(out_path).write_bytes(result.to(torch.float32).contiguous().numpy().tobytes())


if __name__ == "__main__":
    main(*sys.argv[1:4])
