"""lowbit.imatrix and lowbit.read_imatrix: the same file as `lowbit imatrix`
(which goes through the C API directly), the matrix as numpy arrays, progress
and cancellation, and errors naming what is wrong."""

import pathlib

import lowbit
import numpy as np
import pytest
from helpers import run_cli

TEXT = pathlib.Path(__file__).resolve().parent.parent / "data" / "tinystories_val.txt"


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("imatrix") / "text.txt"
    path.write_text(TEXT.read_text(encoding="utf-8")[:8000], encoding="utf-8")
    return path


def test_file_is_the_clis_byte_for_byte(model_path, text_file, tmp_path, cli):
    by_cli = tmp_path / "cli.gguf"
    run_cli(cli, "imatrix", model_path, "-f", text_file, "-o", by_cli, "--ctx", 128, "--chunks", 5, "--process-output")
    by_python = tmp_path / "python.gguf"
    result = lowbit.imatrix(model_path, text_file.read_text(encoding="utf-8"), by_python, context=128, chunks=5,
                            process_output=True, dataset=str(text_file))  # fmt: skip
    assert by_python.read_bytes() == by_cli.read_bytes()
    assert (result["chunks"], result["ctx"], result["chunk_count"], result["entries"]) == (5, 128, 5, 36)
    assert 1.0 < result["ppl"]["value"] < 50.0 and result["ppl"]["uncertainty"] > 0
    matrix = result["matrix"]
    assert len(matrix) == 36 and "output.weight" in matrix
    q = matrix["blk.0.attn_q.weight"]
    assert q["in_sum2"].dtype == np.float32 and q["in_sum2"].shape == (64,)
    assert q["counts"].tolist() == [5 * 128]
    # ffn_down takes the feed-forward width (172 for stories260K)
    assert matrix["blk.0.ffn_down.weight"]["in_sum2"].shape == (172,)
    assert all((e["in_sum2"] >= 0).all() for e in matrix.values())
    assert lowbit.read_imatrix(by_cli).keys() == matrix.keys()


def test_in_sum_merge_and_legacy(model_path, text_file, tmp_path):
    text = text_file.read_text(encoding="utf-8")
    first = lowbit.imatrix(model_path, text, tmp_path / "a.gguf", context=64, chunks=3, in_sum=True)
    a = first["matrix"]["blk.1.ffn_up.weight"]
    assert a["in_sum"].shape == a["in_sum2"].shape and (a["in_sum"] < 0).any()
    # the mean square is at least the square of the mean (Cauchy-Schwarz)
    n = a["counts"][0]
    assert ((a["in_sum2"] / n) >= (a["in_sum"] / n) ** 2 * (1 - 1e-5)).all()
    merged = lowbit.imatrix(model_path, text, tmp_path / "b.gguf", context=64, chunks=3, in_files=[tmp_path / "a.gguf"])
    b = merged["matrix"]["blk.1.ffn_up.weight"]
    assert merged["chunk_count"] == 6 and b["counts"].tolist() == [2 * n]
    np.testing.assert_allclose(b["in_sum2"], 2 * a["in_sum2"], rtol=1e-6)
    dat = lowbit.imatrix(model_path, text, tmp_path / "c.dat", context=64, chunks=3, format="dat")
    assert "matrix" not in dat and (tmp_path / "c.dat").stat().st_size > 0


def test_progress_and_cancel(model_path, text_file, tmp_path):
    text = text_file.read_text(encoding="utf-8")
    calls = []
    lowbit.imatrix(model_path, text, tmp_path / "m.gguf", context=64, chunks=3,
                   progress=lambda ppl, u, done, total: calls.append((done, total)))  # fmt: skip
    assert calls == [(1, 3), (2, 3), (3, 3)]
    out = tmp_path / "cancelled.gguf"
    with pytest.raises(lowbit.CancelledError):
        lowbit.imatrix(model_path, text, out, context=64, chunks=3, progress=lambda *a: True)
    assert not out.exists()


def test_errors(model_path, text_file, tmp_path):
    text = text_file.read_text(encoding="utf-8")
    out = tmp_path / "out.gguf"
    with pytest.raises(lowbit.InvalidArgumentError, match="format"):
        lowbit.imatrix(model_path, text, out, format="xml")
    with pytest.raises(lowbit.InvalidArgumentError, match="two contexts"):
        lowbit.imatrix(model_path, text[:200], out, context=128)
    with pytest.raises(lowbit.Error, match="missing.gguf"):
        lowbit.imatrix(model_path, text, out, context=64, in_files=[tmp_path / "missing.gguf"])
    other = tmp_path / "other.gguf"
    lowbit.synth_imatrix(other)
    with pytest.raises(lowbit.InvalidArgumentError, match="another model"):
        lowbit.imatrix(model_path, text, out, context=64, in_files=[other])
    assert not out.exists()
