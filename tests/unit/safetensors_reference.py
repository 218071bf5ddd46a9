#!/usr/bin/python3
"""An independent reader of a safetensors file, for test_safetensors.cpp.

Parses the header with Python's json module and reads the tensors with
numpy. Prints one line per metadata entry and per tensor (tab-separated):

  metadata KEY VALUE
  tensor NAME DTYPE SHAPE BEGIN END CHECKSUM FIRST LAST

SHAPE is the dimensions joined by "," ("" for a scalar); BEGIN and END are
file offsets; CHECKSUM is sum(byte[i] * (i % 65521 + 1)) over the tensor's
bytes; FIRST and LAST are the first and last elements as Python floats
(repr), "-" for an empty tensor.
"""
import json
import struct
import sys

import numpy as np


def values(raw, dtype):
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4")
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2")
    if dtype == "BF16":
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view("<f4")
    raise SystemExit(f"unexpected dtype {dtype}")


def main():
    with open(sys.argv[1], "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    start = 8 + n
    for key, value in header.pop("__metadata__", {}).items():
        print(f"metadata\t{key}\t{value}")
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        raw = blob[start + begin : start + end]
        weights = np.arange(len(raw), dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
        checksum = int((np.frombuffer(raw, dtype=np.uint8).astype(np.uint64) * weights).sum())
        v = values(raw, info["dtype"])
        first = repr(float(v[0])) if v.size else "-"
        last = repr(float(v[-1])) if v.size else "-"
        shape = ",".join(str(d) for d in info["shape"])
        print(f"tensor\t{name}\t{info['dtype']}\t{shape}\t{start + begin}\t{start + end}\t{checksum}\t{first}\t{last}")


main()
