"""A minimal GGUF reader and writer written from the format's specification,
independent of lowbit: the tests compare what lowbit reports with what the
reader finds, and give lowbit files the writer made."""

import dataclasses
import struct

import numpy as np

# GGUF metadata value types: id -> (struct format, numpy dtype) for scalars.
SCALARS = {
    0: ("<B", np.uint8),
    1: ("<b", np.int8),
    2: ("<H", np.uint16),
    3: ("<h", np.int16),
    4: ("<I", np.uint32),
    5: ("<i", np.int32),
    6: ("<f", np.float32),
    7: ("<?", np.bool_),
    10: ("<Q", np.uint64),
    11: ("<q", np.int64),
    12: ("<d", np.float64),
}
STRING, ARRAY = 8, 9

# ggml tensor types: id -> (name, elements per block, bytes per block).
TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
    42: ("Q2_0", 64, 18),
    # lowbit's extension types (docs/formats.md): the tiled layouts
    1024: ("Q4_K_4", 256, 144),
    1025: ("Q8R16", 32, 34),
}
TYPE_IDS = {name: type_id for type_id, (name, _, _) in TYPES.items()}


@dataclasses.dataclass
class TensorInfo:
    """One tensor: name, dims (GGUF order), type name, file offset, bytes."""

    name: str
    dims: tuple
    type: str
    offset: int
    nbytes: int


@dataclasses.dataclass
class GGUF:
    """What read_gguf() found in a file."""

    version: int
    alignment: int
    data_offset: int
    metadata: dict  # key -> value, in file order
    value_types: dict  # key -> GGUF value type id
    tensors: list  # TensorInfo in file order


class _Cursor:
    """Reads little-endian values from bytes."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def scalar(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.scalar("<Q")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", "replace")

    def value(self, type_id):
        if type_id == STRING:
            return self.string()
        if type_id == ARRAY:
            element = self.scalar("<I")
            count = self.scalar("<Q")
            if element == STRING:
                return [self.string() for _ in range(count)]
            fmt, dtype = SCALARS[element]
            size = struct.calcsize(fmt)
            little_endian = np.dtype(dtype).newbyteorder("<")
            array = np.frombuffer(self.data, dtype=little_endian, count=count, offset=self.pos)
            self.pos += size * count
            return array.astype(dtype)
        fmt, _ = SCALARS[type_id]
        value = self.scalar(fmt)
        return float(value) if type_id in (6, 12) else value


def read_gguf(path):
    """Parses the header, metadata and tensor table of the GGUF file at path."""
    with open(path, "rb") as f:
        data = f.read()
    cur = _Cursor(data)
    if data[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    cur.pos = 4
    version = cur.scalar("<I")
    n_tensors = cur.scalar("<Q")
    n_kv = cur.scalar("<Q")
    metadata, value_types = {}, {}
    for _ in range(n_kv):
        key = cur.string()
        type_id = cur.scalar("<I")
        metadata[key] = cur.value(type_id)
        value_types[key] = type_id
    infos = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.scalar("<I")
        dims = tuple(cur.scalar("<Q") for _ in range(n_dims))
        type_id = cur.scalar("<I")
        offset = cur.scalar("<Q")
        infos.append((name, dims, type_id, offset))
    alignment = metadata.get("general.alignment", 32)
    data_offset = (cur.pos + alignment - 1) // alignment * alignment
    tensors = []
    for name, dims, type_id, offset in infos:
        type_name, block, block_bytes = TYPES[type_id]
        rows = int(np.prod(dims[1:], dtype=np.int64))
        nbytes = rows * dims[0] // block * block_bytes
        tensors.append(TensorInfo(name, dims, type_name, data_offset + offset, nbytes))
    return GGUF(version, alignment, data_offset, metadata, value_types, tensors)


def _pack_string(text):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _pack_value(type_id, value):
    if type_id == STRING:
        return _pack_string(value)
    return struct.pack(SCALARS[type_id][0], value)


def write_gguf(path, metadata, tensors, alignment=32):
    """Writes a GGUF version 3 file.

    metadata: (key, type id, value) for scalars and strings, (key, ARRAY,
        element type id, values) for arrays.
    tensors: (name, dims in GGUF order, type name, data bytes).
    """
    header = bytearray(b"GGUF")
    header += struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for entry in metadata:
        header += _pack_string(entry[0]) + struct.pack("<I", entry[1])
        if entry[1] == ARRAY:
            element, values = entry[2], entry[3]
            header += struct.pack("<IQ", element, len(values))
            header += b"".join(_pack_value(element, v) for v in values)
        else:
            header += _pack_value(entry[1], entry[2])
    data = bytearray()
    for name, dims, type_name, raw in tensors:
        header += _pack_string(name) + struct.pack("<I", len(dims))
        header += b"".join(struct.pack("<Q", d) for d in dims)
        header += struct.pack("<IQ", TYPE_IDS[type_name], len(data))
        data += raw
        data += bytes(-len(data) % alignment)
    header += bytes(-len(header) % alignment)
    with open(path, "wb") as f:
        f.write(bytes(header) + bytes(data))
