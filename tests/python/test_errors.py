"""Every failure raises the lowbit.Error subclass of its status, with a message
that names the file, tensor or argument at fault."""

import pickle
import re
import shutil

import lowbit
import numpy as np
import pytest
from lowbit import lowbit_c as c

CLASSES = [
    (lowbit.FileError, c.LB_E_IO, OSError),
    (lowbit.FormatError, c.LB_E_FORMAT, ValueError),
    (lowbit.UnsupportedError, c.LB_E_UNSUPPORTED, None),
    (lowbit.InvalidArgumentError, c.LB_E_INVALID_ARG, ValueError),
    (lowbit.OutOfMemoryError, c.LB_E_NOMEM, MemoryError),
    (lowbit.CancelledError, c.LB_E_CANCELLED, None),
    (lowbit.NotFoundError, c.LB_E_NOT_FOUND, KeyError),
    (lowbit.TypeMismatchError, c.LB_E_TYPE, TypeError),
    (lowbit.InternalError, c.LB_E_INTERNAL, None),
]


@pytest.mark.parametrize("cls, status, builtin", CLASSES, ids=[cls.__name__ for cls, _, _ in CLASSES])
def test_error_classes(cls, status, builtin):
    error = cls(status, "f.gguf: no tensor 'x'")
    assert isinstance(error, lowbit.Error)
    if builtin is not None:
        assert isinstance(error, builtin)
    assert error.status == status
    assert error.message == "f.gguf: no tensor 'x'"
    assert str(error) == "f.gguf: no tensor 'x'"  # never repr-quoted, not even by KeyError
    assert cls.__module__ == "lowbit"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and copy.status == status and copy.message == error.message


def expect(cls, *fragments):
    """pytest.raises(cls) whose message must contain every fragment (str() of
    it: paths too)."""
    return pytest.raises(cls, match="(?s)" + "".join(f"(?=.*{re.escape(str(f))})" for f in fragments))


# --- models ------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "missing.gguf"
    with expect(lowbit.FileError, path) as caught:
        lowbit.Model(path)
    assert caught.value.status == c.LB_E_IO
    assert isinstance(caught.value, OSError)


def test_garbage_file(tmp_path):
    path = tmp_path / "bad.gguf"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with expect(lowbit.FormatError, path):
        lowbit.Model(path)


def test_truncated_model(model_path, tmp_path):
    path = tmp_path / "truncated.gguf"
    path.write_bytes(model_path.read_bytes()[:600000])
    with expect(lowbit.FormatError, path):
        lowbit.Model(path)


def test_missing_tensor(model_path):
    with lowbit.Model(model_path) as model:
        with expect(lowbit.NotFoundError, "nope", model_path) as caught:
            model.tensor("nope")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == f"{model_path}: no tensor 'nope'"


def test_closed_model(model_path, tmp_path):
    model = lowbit.Model(model_path)
    model.close()
    for use in (
        lambda: model.metadata,
        lambda: model.tensors,
        lambda: model.tensor("output.weight"),
        lambda: len(model),
        lambda: model.path,
        lambda: lowbit.quantize(model, tmp_path / "out.gguf"),
    ):
        with expect(lowbit.InvalidArgumentError, model_path, "model is closed"):
            use()


# --- the row API -------------------------------------------------------------

X = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)


def test_unknown_type():
    with expect(lowbit.InvalidArgumentError, "Q9_X"):
        lowbit.quantize_rows("Q9_X", X)
    with expect(lowbit.InvalidArgumentError, "Q9_X"):
        lowbit.dequantize_rows("Q9_X", np.zeros((1, 18), np.uint8), 32)
    with expect(lowbit.InvalidArgumentError, "Q9_X"):
        lowbit.row_size("Q9_X", 32)
    with expect(lowbit.InvalidArgumentError, "8"):
        lowbit.quantize_rows(8, X)  # names, not ids


def test_rows_not_a_multiple_of_the_block():
    with expect(lowbit.InvalidArgumentError, "n_per_row 33 is not a multiple of Q4_0's block size 32"):
        lowbit.quantize_rows("Q4_0", np.zeros((2, 33), np.float32))
    with expect(lowbit.InvalidArgumentError, "n_per_row 100 is not a multiple of Q4_K's block size 256"):
        lowbit.dequantize_rows("Q4_K", np.zeros((2, 144), np.uint8), 100)
    with expect(lowbit.InvalidArgumentError, "n_per_row"):
        lowbit.row_size("Q8_0", -32)


@pytest.mark.parametrize(
    "x, fragment",
    [
        (np.zeros(64, np.float32), "2-D"),
        (np.zeros((2, 2, 64), np.float32), "2-D"),
        (np.zeros((2, 64), np.complex64), "real numbers"),
        (np.full((2, 64), "a"), "real numbers"),
        ([[1.0, 2.0], [3.0]], "not an array"),
    ],
    ids=["1-D", "3-D", "complex", "str", "ragged"],
)
def test_rows_of_the_wrong_kind(x, fragment):
    with expect(lowbit.InvalidArgumentError, "x", fragment):
        lowbit.quantize_rows("Q8_0", x)


def test_quantized_rows_of_the_wrong_kind():
    q = lowbit.quantize_rows("Q8_0", X)
    with expect(lowbit.InvalidArgumentError, "uint8", "float32"):
        lowbit.dequantize_rows("Q8_0", q.astype(np.float32), 64)
    with expect(lowbit.InvalidArgumentError, "2-D"):
        lowbit.dequantize_rows("Q8_0", q.reshape(-1), 64)
    with expect(lowbit.InvalidArgumentError, "rows of 68 bytes", "takes 136"):
        lowbit.dequantize_rows("Q8_0", q, 128)
    with expect(lowbit.InvalidArgumentError, "n_per_row must be an integer"):
        lowbit.dequantize_rows("Q8_0", q, 64.0)


def test_bad_imatrix():
    with expect(lowbit.InvalidArgumentError, "imatrix has 32 values", "64 columns"):
        lowbit.quantize_rows("Q4_0", X, imatrix=np.ones(32, np.float32))
    weights = np.ones(64, np.float32)
    weights[3] = -1.0
    with expect(lowbit.InvalidArgumentError, "imatrix[3]"):
        lowbit.quantize_rows("Q4_0", X, imatrix=weights)
    with expect(lowbit.InvalidArgumentError, "imatrix", "1-D"):
        lowbit.quantize_rows("Q4_0", X, imatrix=np.ones((1, 64), np.float32))


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_rows(value, word):
    x = X.copy()
    x[2, 5] = value
    with expect(lowbit.FormatError, "row 2 column 5", word):
        lowbit.quantize_rows("Q8_0", x)


# --- quantization ------------------------------------------------------------


def test_unknown_and_unsupported_file_types(model_path, tmp_path):
    with expect(lowbit.InvalidArgumentError, "Q9_X"):
        lowbit.quantize(model_path, tmp_path / "out.gguf", "Q9_X")
    with expect(lowbit.InvalidArgumentError, "99"):
        lowbit.quantize(model_path, tmp_path / "out.gguf", 99)
    with expect(lowbit.InvalidArgumentError, "True"):
        lowbit.Quantizer(True)
    with expect(lowbit.UnsupportedError, "NVFP4", "not a quantization target"):
        lowbit.Quantizer("NVFP4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options, fragments",
    [
        ({"output_tensor_type": "Q9_X"}, ["Q9_X"]),
        ({"token_embedding_type": "Q8_K"}, ["Q8_K", "cannot produce"]),
        ({"tensor_types": {"(": "Q8_0"}}, ["("]),
        ({"tensor_types": ["attn=Q8_0"]}, ["tensor_types", "pairs"]),
        ({"include_weights": ["attn"], "exclude_weights": ["ffn"]}, ["include", "exclude"]),
        ({"override_kv": ["nonsense"]}, ["nonsense"]),
        ({"threads": -1}, ["-1"]),
        ({"threads": 2000}, ["2000"]),
        ({"prune_layers": [-1]}, ["negative"]),
        ({"progress": "not callable"}, ["progress"]),
        ({"log": 3}, ["log"]),
    ],
)
def test_bad_options(options, fragments):
    error = lowbit.UnsupportedError if "token_embedding_type" in options else lowbit.InvalidArgumentError
    with expect(error, *fragments):
        lowbit.Quantizer("Q8_0", **options)


def test_missing_imatrix(model_path, tmp_path):
    path = tmp_path / "missing.imatrix.gguf"
    with expect(lowbit.FileError, path):
        lowbit.quantize(model_path, tmp_path / "out.gguf", "Q4_K_M", imatrix=path)


def test_requantizing_needs_allow_requantize(model_path, tmp_path):
    q8 = tmp_path / "q8.gguf"
    lowbit.quantize(model_path, q8, "Q8_0")
    with expect(lowbit.UnsupportedError, q8, "tensor 'token_embd.weight'", "already quantized"):
        lowbit.quantize(q8, tmp_path / "q4.gguf", "Q4_0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q8.gguf"]
    result = lowbit.quantize(q8, tmp_path / "q4.gguf", "Q4_0", allow_requantize=True)
    assert result.quantized > 0


def test_output_naming_the_input(model_path, tmp_path):
    path = tmp_path / "model.gguf"
    shutil.copyfile(model_path, path)
    with expect(lowbit.InvalidArgumentError, path):
        lowbit.quantize(path, path, "Q8_0")
    assert path.read_bytes() == model_path.read_bytes()


def test_output_in_a_missing_folder(model_path, tmp_path):
    out = tmp_path / "no" / "such" / "folder" / "out.gguf"
    with expect(lowbit.FileError, out.parent):
        lowbit.quantize(model_path, out, "Q8_0")


def test_nan_in_a_tensor(model_path, tmp_path):
    path = tmp_path / "nan.gguf"
    shutil.copyfile(model_path, path)
    with lowbit.Model(path) as model:
        offset = model.tensor("blk.1.attn_k.weight").offset
    raw = bytearray(path.read_bytes())
    raw[offset + 4 * (3 * 64 + 9) : offset + 4 * (3 * 64 + 10)] = np.array([np.nan], "<f4").tobytes()
    path.write_bytes(bytes(raw))
    with expect(lowbit.FormatError, path, "tensor 'blk.1.attn_k.weight' row 3 column 9", "NaN"):
        lowbit.quantize(path, tmp_path / "out.gguf", "Q8_0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.gguf"]


def test_impossible_synthetic_model(tmp_path):
    with expect(lowbit.InvalidArgumentError, "n_embd"):
        lowbit.synth_model(tmp_path / "synth.gguf", n_embd=100, n_head=8)
    with expect(lowbit.InvalidArgumentError, "n_layer", "-1"):
        lowbit.synth_model(tmp_path / "synth.gguf", n_layer=-1)
    assert list(tmp_path.iterdir()) == []
