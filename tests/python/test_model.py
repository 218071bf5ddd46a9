"""lowbit.Model: header, metadata and tensors compared with an independent
GGUF reader (gguf_file.py), tensor data viewed in the mapped file without a
copy, and the lifetime of that mapping."""

import gc
import os
import shutil
import struct

import lowbit
import numpy as np
import pytest
from gguf_file import ARRAY, STRING, read_gguf, write_gguf


def mappings_of(path):
    """(start, end, file offset) of each mapping of the file in this process."""
    real = os.path.realpath(path)
    found = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].rstrip("\n") == real:
                start, end = (int(v, 16) for v in fields[0].split("-"))
                found.append((start, end, int(fields[2], 16)))
    return found


def file_offset_of(array, path):
    """The offset in the file at path that array's first byte is mapped from,
    or None if the array's memory is not a mapping of that file."""
    address = array.ctypes.data
    for start, end, offset in mappings_of(path):
        if start <= address < end:
            return address - start + offset
    return None


def test_header(model_path):
    ref = read_gguf(model_path)
    with lowbit.Model(model_path) as model:
        assert model.path == str(model_path)
        assert model.gguf_version == ref.version == 3
        assert model.alignment == ref.alignment == 32
        assert model.file_size == os.path.getsize(model_path)
        assert model.shard_count == 1
        assert model.data_offset == ref.data_offset
        assert len(model) == len(ref.tensors) == 48
        assert repr(model) == f"<lowbit.Model {str(model_path)!r} GGUF v3, 19 keys, 48 tensors>"


def test_metadata_matches_an_independent_reader(model_path):
    ref = read_gguf(model_path)
    with lowbit.Model(model_path) as model:
        metadata = model.metadata
    assert list(metadata) == list(ref.metadata)  # file order
    for key, expected in ref.metadata.items():
        value = metadata[key]
        if isinstance(expected, np.ndarray):
            assert isinstance(value, np.ndarray), key
            assert value.dtype == expected.dtype, key
            assert np.array_equal(value, expected), key
        else:
            assert type(value) is type(expected), key
            assert value == expected, key

    assert metadata["general.architecture"] == "llama"
    assert metadata["llama.block_count"] == 5
    assert metadata["tokenizer.ggml.seperator_token_id"] == 2**32 - 1
    tokens = metadata["tokenizer.ggml.tokens"]
    assert isinstance(tokens, list) and len(tokens) == 512
    assert all(isinstance(token, str) for token in tokens)
    assert tokens[:4] == ["<unk>", "<s>", "</s>", "<0x00>"]
    assert metadata["tokenizer.ggml.token_type"].dtype == np.int32
    assert metadata["tokenizer.ggml.scores"].shape == (512,)
    assert isinstance(metadata["llama.attention.layer_norm_rms_epsilon"], float)


def test_metadata_of_every_value_type(tmp_path):
    entries = [
        ("u8", 0, 200),
        ("i8", 1, -100),
        ("u16", 2, 60000),
        ("i16", 3, -30000),
        ("u32", 4, 4000000000),
        ("i32", 5, -2000000000),
        ("f32", 6, 0.25),
        ("bool", 7, True),
        ("str", STRING, "héllo wörld"),
        ("u64", 10, 2**64 - 1),
        ("i64", 11, -(2**63)),
        ("f64", 12, 1e300),
        ("invalid utf-8", STRING, b"a\xffb"),
        ("arr.u8", ARRAY, 0, [1, 2, 255]),
        ("arr.i16", ARRAY, 3, [-1, 2]),
        ("arr.u64", ARRAY, 10, [2**64 - 1]),
        ("arr.f64", ARRAY, 12, [0.5, -2.0]),
        ("arr.bool", ARRAY, 7, [True, False, True]),
        ("arr.str", ARRAY, STRING, ["a", "", "ß"]),
        ("arr.empty", ARRAY, 5, []),
    ]
    path = tmp_path / "kv.gguf"
    write_gguf(path, entries, [("t", (32,), "F32", bytes(128))])
    with lowbit.Model(path) as model:
        metadata = model.metadata
    assert list(metadata) == [entry[0] for entry in entries]
    expected_scalars = {
        "u8": 200,
        "i8": -100,
        "u16": 60000,
        "i16": -30000,
        "u32": 4000000000,
        "i32": -2000000000,
        "f32": 0.25,
        "bool": True,
        "str": "héllo wörld",
        "u64": 2**64 - 1,
        "i64": -(2**63),
        "f64": 1e300,
        "invalid utf-8": "a\ufffdb",
        "arr.str": ["a", "", "ß"],
    }
    for key, expected in expected_scalars.items():
        assert type(metadata[key]) is type(expected) and metadata[key] == expected, key
    expected_arrays = {
        "arr.u8": np.array([1, 2, 255], dtype=np.uint8),
        "arr.i16": np.array([-1, 2], dtype=np.int16),
        "arr.u64": np.array([2**64 - 1], dtype=np.uint64),
        "arr.f64": np.array([0.5, -2.0], dtype=np.float64),
        "arr.bool": np.array([True, False, True]),
        "arr.empty": np.array([], dtype=np.int32),
    }
    for key, expected in expected_arrays.items():
        value = metadata[key]
        assert value.dtype == expected.dtype and np.array_equal(value, expected), key


def test_tensors_match_an_independent_reader(model_path):
    ref = read_gguf(model_path)
    with lowbit.Model(model_path) as model:
        tensors = model.tensors
        assert [t.name for t in model] == [t.name for t in ref.tensors]
        for tensor, expected in zip(tensors, ref.tensors):
            assert tensor.shape == expected.dims
            assert tensor.type == expected.type == "F32"
            assert tensor.offset == expected.offset
            assert tensor.nbytes == expected.nbytes
            assert tensor.n_elements == int(np.prod(expected.dims))
            assert tensor.shard == 0
            assert model.tensor(expected.name).name == expected.name
        expected_repr = "<lowbit.Tensor 'blk.0.ffn_down.weight' F32 (172, 64)>"
        assert repr(model.tensor("blk.0.ffn_down.weight")) == expected_repr


def test_tensor_data_is_the_mapped_file_without_a_copy(model_path):
    raw = model_path.read_bytes()
    with lowbit.Model(model_path) as model:
        for tensor in model:
            data = tensor.data
            assert data.dtype == np.float32
            assert data.shape == tuple(reversed(tensor.shape))
            assert not data.flags.writeable and not data.flags.owndata
            assert data.flags.c_contiguous and data.flags.aligned
            expected = np.frombuffer(raw, dtype="<f4", count=tensor.n_elements, offset=tensor.offset)
            assert np.array_equal(data.reshape(-1), expected), tensor.name
            # the array's memory is the file's mapping, at the tensor's offset
            assert file_offset_of(data, model_path) == tensor.offset, tensor.name
            with pytest.raises(ValueError):
                data[(0,) * data.ndim] = 1.0
        # the base chain ends at the owner of the mapping, shared by all views
        first, second = model.tensors[0].data, model.tensors[1].data
        assert first.base is not None and not isinstance(first.base, np.ndarray)
        assert first.base is second.base


def test_data_outlives_close_and_the_last_owner_unmaps_the_file(model_path, tmp_path):
    path = tmp_path / "copy.gguf"
    shutil.copyfile(model_path, path)
    raw = path.read_bytes()
    model = lowbit.Model(path)
    tensor = model.tensor("output.weight")
    data = tensor.data
    norm = model.tensor("output_norm.weight")
    expected = np.frombuffer(raw, dtype="<f4", count=tensor.n_elements, offset=tensor.offset)
    model.close()
    del model
    gc.collect()
    assert np.array_equal(data.reshape(-1), expected)  # readable after close
    assert np.array_equal(norm.data, np.frombuffer(raw, dtype="<f4", count=64, offset=norm.offset))
    assert mappings_of(path)
    del tensor, norm
    gc.collect()
    assert mappings_of(path), "the array alone must keep the file mapped"
    assert np.array_equal(data.reshape(-1), expected)
    del data
    gc.collect()
    assert mappings_of(path) == [], "the model was not closed when its last owner went"


def test_context_manager_closes(model_path, tmp_path):
    path = tmp_path / "copy.gguf"
    shutil.copyfile(model_path, path)
    with lowbit.Model(path) as model:
        assert not model.closed
        assert mappings_of(path)
    assert model.closed
    assert mappings_of(path) == []
    assert repr(model) == f"<lowbit.Model {str(path)!r} (closed)>"
    model.close()  # harmless


def test_other_tensor_types(tmp_path):
    rng = np.random.default_rng(5)
    f32 = rng.standard_normal((3, 2, 64)).astype(np.float32)  # numpy shape: GGUF dims reversed
    f16 = f32.astype(np.float16)
    bf16 = (f32.view(np.uint32) >> 16).astype(np.uint16)  # truncated bfloat16 bits
    ints = {
        "I8": np.arange(-8, 8, dtype=np.int8).reshape(2, 8),
        "I16": np.arange(-8, 8, dtype=np.int16).reshape(2, 8),
        "I32": np.arange(-8, 8, dtype=np.int32).reshape(2, 8),
        "I64": np.arange(-8, 8, dtype=np.int64).reshape(2, 8),
        "F64": np.linspace(-1, 1, 16).reshape(2, 8),
    }
    q8 = lowbit.quantize_rows("Q8_0", f32.reshape(6, 64))  # 6 rows of 68 bytes
    tensors = [
        ("f16", (64, 2, 3), "F16", f16.tobytes()),
        ("bf16", (64, 2, 3), "BF16", bf16.tobytes()),
        ("q8", (64, 2, 3), "Q8_0", q8.tobytes()),
    ] + [(name.lower(), (8, 2), name, array.tobytes()) for name, array in ints.items()]
    path = tmp_path / "types.gguf"
    write_gguf(path, [("general.architecture", STRING, "test")], tensors)

    with lowbit.Model(path) as model:
        f16_tensor, bf16_tensor, q8_tensor = model.tensor("f16"), model.tensor("bf16"), model.tensor("q8")
        assert f16_tensor.data.dtype == np.float16 and np.array_equal(f16_tensor.data, f16)
        assert bf16_tensor.data.dtype == np.uint16 and np.array_equal(bf16_tensor.data, bf16)
        assert q8_tensor.type == "Q8_0"
        assert q8_tensor.data.dtype == np.uint8 and q8_tensor.data.shape == (3, 2, 68)
        assert np.array_equal(q8_tensor.data.reshape(6, 68), q8)
        for name, array in ints.items():
            data = model.tensor(name.lower()).data
            assert data.dtype == array.dtype and data.shape == (2, 8) and np.array_equal(data, array), name

        # dequantize(): float32 in numpy shape
        assert np.array_equal(f16_tensor.dequantize(), f16.astype(np.float32))
        assert np.array_equal(bf16_tensor.dequantize(), (bf16.astype(np.uint32) << 16).view(np.float32))
        expected = lowbit.dequantize_rows("Q8_0", q8, 64).reshape(3, 2, 64)
        assert q8_tensor.dequantize().shape == (3, 2, 64)
        assert np.array_equal(q8_tensor.dequantize(), expected)
        with pytest.raises(lowbit.UnsupportedError, match="I32"):
            model.tensor("i32").dequantize()


def test_warnings_for_what_ggml_accepts(model_path, tmp_path):
    """A bool byte other than 0 or 1 reads as true, as ggml reads it, with a
    warning naming the file and the key."""
    path = tmp_path / "odd.gguf"
    write_gguf(path, [("test.flag", 0, 74)], [("t", (32,), "F32", bytes(128))])
    raw = path.read_bytes()
    as_u8 = struct.pack("<Q", 9) + b"test.flag" + struct.pack("<I", 0)
    path.write_bytes(raw.replace(as_u8, struct.pack("<Q", 9) + b"test.flag" + struct.pack("<I", 7), 1))
    with lowbit.Model(path) as model:
        assert model.metadata["test.flag"] is True
        (warning,) = model.warnings
    assert str(path) in warning and "test.flag" in warning and "74" in warning
    with lowbit.Model(model_path) as model:
        assert model.warnings == []


def q8r16_from_standard(raw, rows, n):
    """docs/formats.md's Q8R16 bytes of a standard Q8_0 tensor, by numpy."""
    nb = n // 32
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows // 16, 16, nb, 34)
    d = blocks[:, :, :, :2].transpose(0, 2, 1, 3).reshape(rows // 16, nb, 32)
    qs = blocks[:, :, :, 2:].reshape(rows // 16, 16, nb, 8, 4).transpose(0, 2, 3, 1, 4)
    return np.concatenate([d, qs.reshape(rows // 16, nb, 512)], axis=2).tobytes()


def test_repack_writes_the_documented_layout_and_back(tmp_path):
    f16, q8, tiled, back = (tmp_path / name for name in ("f16.gguf", "q8.gguf", "q8r16.gguf", "back.gguf"))
    lowbit.synth_model(f16, n_layer=1)
    lowbit.quantize(f16, q8, "Q8_0")
    with lowbit.Model(q8) as model:
        n_tiled = model.repack(tiled, "q8r16")
    standard, packed = read_gguf(q8), read_gguf(tiled)
    assert packed.metadata["lowbit.layout"] == "q8r16"
    assert "lowbit.layout" not in standard.metadata
    raw_std, raw_tiled = q8.read_bytes(), tiled.read_bytes()
    count = 0
    for s, t in zip(standard.tensors, packed.tensors):
        assert s.name == t.name and s.dims == t.dims and s.nbytes == t.nbytes
        data_s = raw_std[s.offset : s.offset + s.nbytes]
        data_t = raw_tiled[t.offset : t.offset + t.nbytes]
        if s.type == "Q8_0" and len(s.dims) == 2 and s.dims[1] % 16 == 0 and s.name != "token_embd.weight":
            assert t.type == "Q8R16", s.name
            assert data_t == q8r16_from_standard(data_s, s.dims[1], s.dims[0]), s.name
            count += 1
        else:
            assert t.type == s.type, s.name
            assert data_t == data_s, s.name
    assert n_tiled == count > 0
    with lowbit.Model(tiled) as model:
        assert model.tensor("blk.0.attn_q.weight").type == "Q8R16"
        assert model.repack(back, "standard") == 0
        with pytest.raises(lowbit.InvalidArgumentError, match="q9"):
            model.repack(back, "q9")
    assert back.read_bytes() == raw_std
