"""lowbit.compare and lowbit.tensor_errors: the figures of `lowbit compare
--json` and `--per-tensor --json` (which go through the C API directly),
bits per weight from the files' tensors, progress and cancellation, no
temporary file left behind, and errors naming what is wrong."""

import json
import os
import pathlib

import lowbit
import numpy as np
import pytest
from helpers import run_cli

TEXT = pathlib.Path(__file__).resolve().parent.parent / "data" / "tinystories_val.txt"


@pytest.fixture(scope="module")
def text():
    return TEXT.read_text(encoding="utf-8")[:12000]


@pytest.fixture(scope="module")
def quantized(model_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    out = {}
    for ftype in ("Q8_0", "Q4_0", "F32"):
        out[ftype] = folder / f"{ftype.lower()}.gguf"
        lowbit.quantize(model_path, out[ftype], ftype)
    return out


def test_figures_are_the_clis(model_path, quantized, text, tmp_path, cli):
    text_file = tmp_path / "text.txt"
    text_file.write_text(text, encoding="utf-8")
    models = [quantized["Q8_0"], quantized["Q4_0"]]
    rows = lowbit.compare(model_path, models, text, context=128, chunks=5, threads=2)
    by_cli = json.loads(run_cli(cli, "compare", model_path, *models, "-f", text_file, "--ctx", 128, "--chunks", 5,
                                "--threads", 2, "--json"))  # fmt: skip
    assert [r["file"] for r in rows] == [str(m) for m in models]
    for row, cli_row in zip(rows, by_cli["models"]):
        for key in ("ppl", "kld", "same_top"):
            assert row[key] == cli_row[key], key
        assert row["kld_99"] == cli_row["kld_99"]
        assert row["size"] == cli_row["size"] == os.path.getsize(row["file"])
        assert row["bpw"] == pytest.approx(cli_row["bpw"], rel=1e-15)
        assert row["ppl_base"] == by_cli["base"]["ppl"]
        assert row["tokens_per_second"] == pytest.approx(5 * 128 / row["seconds"], rel=1e-12)
    # bits per weight: the tensors' data bits over their elements
    with lowbit.Model(quantized["Q8_0"]) as m:
        bits = sum(8 * t.nbytes for t in m.tensors)
        elements = sum(t.n_elements for t in m.tensors)
        assert all(8 * t.nbytes == 8.5 * t.n_elements for t in m.tensors if t.type == "Q8_0")
    assert rows[0]["bpw"] == pytest.approx(bits / elements, rel=1e-15)
    assert rows[1]["kld"]["value"] > 10 * rows[0]["kld"]["value"] > 0


def test_sessions_and_models_are_accepted(model_path, quantized, text):
    with lowbit.Session(model_path) as base, lowbit.Model(quantized["Q4_0"]) as q4:
        rows = lowbit.compare(base, [q4], text, context=64, chunks=2)
        assert base.vocab_size == 512  # still open
        assert not q4.closed
    assert len(rows) == 1 and rows[0]["kld"]["value"] > 0.001


def test_progress_cancel_and_no_temporary_file(model_path, quantized, text, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    seen = []
    lowbit.compare(model_path, [quantized["Q8_0"]], text, context=64, chunks=3,
                   progress=lambda file, done, total: seen.append((pathlib.Path(file).name, done, total)))  # fmt: skip
    assert seen == [("stories260K.gguf", 1, 3), ("stories260K.gguf", 2, 3), ("stories260K.gguf", 3, 3),
                    ("q8_0.gguf", 1, 3), ("q8_0.gguf", 2, 3), ("q8_0.gguf", 3, 3)]  # fmt: skip
    with pytest.raises(lowbit.CancelledError):
        lowbit.compare(model_path, [quantized["Q8_0"]], text, context=64, chunks=3, progress=lambda *a: True)
    assert list(tmp_path.iterdir()) == []


def test_tensor_errors_are_the_clis(model_path, quantized, text, tmp_path, cli):
    text_file = tmp_path / "text.txt"
    text_file.write_text(text, encoding="utf-8")
    errors = lowbit.tensor_errors(model_path, quantized["Q4_0"], text, context=128, chunks=4, threads=2)
    by_cli = json.loads(run_cli(cli, "compare", model_path, quantized["Q4_0"], "-f", text_file, "--ctx", 128,
                                "--chunks", 4, "--per-tensor", "--json"))  # fmt: skip
    assert list(errors) == [t["name"] for t in by_cli["tensors"]]
    assert list(errors.values()) == [t["relative"] for t in by_cli["tensors"]]
    assert len(errors) == 36 and all(e > 0 for e in errors.values())
    assert list(errors.values()) == sorted(errors.values(), reverse=True)
    details = lowbit.tensor_errors(model_path, quantized["Q4_0"], text, context=128, chunks=4, details=True)
    assert details[0]["relative"] == max(errors.values())
    assert details[0]["error"] / details[0]["reference"] == pytest.approx(details[0]["relative"], rel=1e-15)
    q = next(d for d in details if d["name"] == "blk.0.attn_q.weight")
    assert (q["layer"], q["base_type"], q["type"], q["rows"]) == (0, "F32", "Q4_0", 4 * 128)


def test_tensor_errors_recomputed_in_numpy(model_path, quantized, text):
    # output.weight: its inputs are the final norm of the scored positions;
    # check instead a first-layer product, whose inputs are the embeddings'
    # RMS norm: attn_q's error for one chunk, recomputed from the weights
    base = lowbit.Model(model_path)
    q4 = lowbit.Model(quantized["Q4_0"])
    with lowbit.Session(base, context=64) as s:
        tokens = s.tokenize(text)[:64]
        tokens[0] = s.special_token("bos")
        embd = base.tensor("token_embd.weight").dequantize()[tokens].astype(np.float64)
    norm = base.tensor("blk.0.attn_norm.weight").dequantize().astype(np.float64)
    x = embd / np.sqrt(np.mean(embd * embd, axis=1, keepdims=True) + 1e-5) * norm
    w = base.tensor("blk.0.attn_q.weight").dequantize().astype(np.float64)
    wq = q4.tensor("blk.0.attn_q.weight").dequantize().astype(np.float64)
    ref = x @ w.T
    expected = np.sum((x @ wq.T - ref) ** 2) / np.sum(ref**2)
    errors = lowbit.tensor_errors(base, q4, text, context=64, chunks=1)
    assert errors["blk.0.attn_q.weight"] == pytest.approx(expected, rel=1e-3)
    # an identical copy: no error anywhere
    same = lowbit.tensor_errors(base, quantized["F32"], text, context=64, chunks=1)
    assert len(same) == 36 and set(same.values()) == {0.0}


def test_errors(model_path, quantized, text, tmp_path):
    with pytest.raises(lowbit.InvalidArgumentError, match="list"):
        lowbit.compare(model_path, quantized["Q8_0"], text)
    with pytest.raises(lowbit.InvalidArgumentError, match="at least one"):
        lowbit.compare(model_path, [], text)
    with pytest.raises(lowbit.InvalidArgumentError, match="empty"):
        lowbit.compare(model_path, [quantized["Q8_0"]], "")
    with pytest.raises(lowbit.FileError, match="missing.gguf"):
        lowbit.compare(model_path, [tmp_path / "missing.gguf"], text)
    other = tmp_path / "other.gguf"
    lowbit.synth_model(other)
    with pytest.raises(lowbit.InvalidArgumentError, match="other.gguf.*vocabulary"):
        lowbit.compare(model_path, [quantized["Q8_0"], other], text, context=64)
    with pytest.raises(lowbit.InvalidArgumentError, match="blk.0.attn_q.weight"):
        lowbit.tensor_errors(model_path, other, text, context=64)
    with pytest.raises(lowbit.InvalidArgumentError, match="tokens long"):
        lowbit.tensor_errors(model_path, quantized["Q8_0"], "Once", context=64)
    with pytest.raises(lowbit.CancelledError):
        lowbit.tensor_errors(model_path, quantized["Q8_0"], text, context=64, chunks=2, progress=lambda *a: True)
