#!/usr/bin/python3
"""Seeds for fuzz_safetensors and fuzz_json, from a Hugging Face checkpoint
folder (TinyStories-656K of ../shared/data).

  make_safetensors_seeds.py CHECKPOINT SAFETENSORS_SEEDS JSON_SEEDS

Safetensors seeds: the checkpoint's own header (its names, dtypes and
metadata) with every shape cut to 2 elements per dimension and the first
bytes of each real tensor as data, so the file is valid and small; the same
header with the tensors as F16 and BF16; a file with a scalar, empty tensors
and metadata; the first 4 KB of the real file (the header region, cut).
JSON seeds: the checkpoint's JSON files, its tokenizer.json cut to 256
tokens and merges (valid, and under libFuzzer's -max_len), and the real
safetensors header.
"""
import json
import os
import struct
import sys


def safetensors(header, data):
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)  # padded as the Rust crate pads
    return struct.pack("<Q", len(text)) + text.encode() + data


def shrunk(real_header, real, start, dtype=None):
    header, data = {}, b""
    if "__metadata__" in real_header:
        header["__metadata__"] = real_header["__metadata__"]
    for name, info in real_header.items():
        if name == "__metadata__":
            continue
        shape = [min(d, 2) for d in info["shape"]]
        n = 1
        for d in shape:
            n *= d
        t = dtype or info["dtype"]
        size = n * (4 if t == "F32" else 2)
        begin = start + info["data_offsets"][0]
        header[name] = {"dtype": t, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += real[begin : begin + size]
    return safetensors(header, data)


def main():
    folder, st_out, json_out = sys.argv[1:4]
    os.makedirs(st_out, exist_ok=True)
    os.makedirs(json_out, exist_ok=True)
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        real = f.read()
    (n,) = struct.unpack("<Q", real[:8])
    real_header = json.loads(real[8 : 8 + n])

    def write(path, blob):
        with open(path, "wb") as f:
            f.write(blob)

    write(os.path.join(st_out, "tinystories-shrunk.safetensors"), shrunk(real_header, real, 8 + n))
    write(os.path.join(st_out, "tinystories-f16.safetensors"), shrunk(real_header, real, 8 + n, "F16"))
    write(os.path.join(st_out, "tinystories-bf16.safetensors"), shrunk(real_header, real, 8 + n, "BF16"))
    write(os.path.join(st_out, "tinystories-head.safetensors"), real[:4096])
    small = {
        "__metadata__": {"format": "pt"},
        "s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
        "e": {"dtype": "F16", "shape": [0, 3], "data_offsets": [4, 4]},
        "h": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [4, 8]},
    }
    write(os.path.join(st_out, "small.safetensors"), safetensors(small, bytes(range(8))))

    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), "rb") as f:
                write(os.path.join(json_out, name), f.read())
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    tok["model"]["vocab"] = dict(list(tok["model"]["vocab"].items())[:256])
    tok["model"]["merges"] = tok["model"]["merges"][:256]
    write(os.path.join(json_out, "tokenizer-cut.json"), json.dumps(tok, ensure_ascii=False, indent=2).encode())
    write(os.path.join(json_out, "safetensors-header.json"), real[8 : 8 + n])


main()
