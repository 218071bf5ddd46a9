"""An independent reading of a Hugging Face checkpoint for the conversion
tests: each tensor of model.safetensors parsed with Python's json and numpy
(not lowbit's reader), Q/K rows permuted as llama.cpp's convert_hf_to_gguf.py
permutes them (LlamaModel.permute: reshape, swapaxes, reshape), and written
to OUT_DIR/<name>.bin; the shapes and dtypes printed as JSON: name ->
{"shape": [...], "dtype": ...}.

usage: python3 safetensors_oracle.py CHECKPOINT_DIR OUT_DIR
"""

import json
import pathlib
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def permute(w, n_head, n_head_kv):
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(folder, out_dir):
    folder, out_dir = pathlib.Path(folder), pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads((folder / "config.json").read_text())
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads", n_head)
    llama_order = config["architectures"][0] in ("LlamaForCausalLM", "MistralForCausalLM")
    raw = (folder / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        a = np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        if llama_order and name.endswith(("q_proj.weight", "q_proj.bias")):
            a = permute(a, n_head, n_head)
        if llama_order and name.endswith(("k_proj.weight", "k_proj.bias")):
            a = permute(a, n_head, n_kv)
        (out_dir / (name + ".bin")).write_bytes(np.ascontiguousarray(a).tobytes())
        out[name] = {"shape": list(info["shape"]), "dtype": info["dtype"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
