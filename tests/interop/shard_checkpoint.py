"""Splits a checkpoint's model.safetensors into N shards as transformers
saves large models (model-0000i-of-0000N.safetensors and
model.safetensors.index.json with its weight_map), copying the other files:
the conversion tests' sharded checkpoint. Plain json and byte slicing.

usage: shard_checkpoint.py SRC_DIR OUT_DIR N
"""

import json
import pathlib
import shutil
import struct
import sys


def main(src, out, n):
    src, out = pathlib.Path(src), pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.name != "model.safetensors":
            shutil.copy(f, out / f.name)
    raw = (src / "model.safetensors").read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    names = sorted(k for k in header if k != "__metadata__")
    weight_map = {}
    for i in range(n):
        part = names[i::n]
        shard = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        h, blobs, offset = {}, [], 0
        for name in part:
            b, e = header[name]["data_offsets"]
            data = raw[8 + size + b : 8 + size + e]
            h[name] = {"dtype": header[name]["dtype"], "shape": header[name]["shape"], "data_offsets": [offset, offset + len(data)]}
            blobs.append(data)
            offset += len(data)
            weight_map[name] = shard
        text = json.dumps(h).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        (out / shard).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    index = {"metadata": {"total_size": sum(header[k]["data_offsets"][1] - header[k]["data_offsets"][0] for k in names)},
             "weight_map": weight_map}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
