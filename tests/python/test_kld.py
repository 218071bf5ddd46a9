"""lowbit.kld and lowbit.save_base_logits: the figures of `lowbit kld --json`
(which goes through the C API directly), the two-step form equal to the
one-step form, progress and cancellation, and errors naming what is wrong."""

import json
import pathlib

import lowbit
import pytest
from helpers import run_cli

TEXT = pathlib.Path(__file__).resolve().parent.parent / "data" / "tinystories_val.txt"


@pytest.fixture(scope="module")
def text():
    return TEXT.read_text(encoding="utf-8")[:6000]


@pytest.fixture(scope="module")
def q4_0(model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("kld") / "q4_0.gguf"
    lowbit.quantize(model_path, out, "Q4_0")
    return out


def test_figures_are_the_clis(model_path, q4_0, text, tmp_path, cli):
    text_file = tmp_path / "text.txt"
    text_file.write_text(text, encoding="utf-8")
    result = lowbit.kld(q4_0, base=model_path, text=text, context=128, chunks=6, threads=2)
    by_cli = json.loads(run_cli(cli, "kld", "--base", model_path, "--model", q4_0, "-f", text_file, "--ctx", 128,
                                "--chunks", 6, "--threads", 2, "--json"))  # fmt: skip
    for key in ("ppl", "ppl_base", "ppl_ratio", "kld", "delta_p", "same_top"):
        assert result[key]["value"] == pytest.approx(by_cli[key]["value"], rel=1e-12), key
        assert result[key]["uncertainty"] == pytest.approx(by_cli[key]["uncertainty"], rel=1e-12), key
    assert result["kld_quantiles"] == pytest.approx(by_cli["kld_quantiles"], rel=1e-12)
    assert (result["ctx"], result["chunks"]) == (128, 6)
    # a 4-bit model is measurably but not wildly off its base
    assert 0.01 < result["kld"]["value"] < 0.5
    assert 0.5 < result["same_top"]["value"] < 1.0
    assert result["kld_quantiles"]["min"] <= result["kld_quantiles"]["median"] <= result["kld_quantiles"]["max"]


def test_two_steps_equal_one(model_path, q4_0, text, tmp_path):
    path = tmp_path / "base.lblogits"
    seen = []
    chunks = lowbit.save_base_logits(model_path, text, path, context=128, chunks=4,
                                     progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert chunks == 4 and seen[-1] == (4, 4) and path.stat().st_size > 0
    two = lowbit.kld(q4_0, base_logits=path)
    one = lowbit.kld(q4_0, base=model_path, text=text, context=128, chunks=4)
    for key in ("ppl", "ppl_base", "kld", "delta_p", "same_top"):
        assert two[key] == one[key], key
    assert two["kld_quantiles"] == one["kld_quantiles"]


def test_sessions_are_accepted_and_stay_open(model_path, q4_0, text):
    with lowbit.Session(model_path, context=128) as base, lowbit.Session(q4_0, context=128) as model:
        self_kld = lowbit.kld(base, base=base, text=text, context=64, chunks=2)
        assert self_kld["kld"]["value"] < 1e-9 and self_kld["same_top"]["value"] == 1.0
        assert lowbit.kld(model, base=base, text=text, context=64, chunks=2)["kld"]["value"] > 0.001
        assert base.vocab_size == 512


def test_progress_and_cancel(model_path, q4_0, text, tmp_path):
    calls = []
    lowbit.kld(q4_0, base=model_path, text=text, context=64, chunks=3,
               progress=lambda kld, u, done, total: calls.append((done, total)))  # fmt: skip
    assert calls == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(lowbit.CancelledError):
        lowbit.kld(q4_0, base=model_path, text=text, context=64, chunks=3, progress=lambda *a: True)
    path = tmp_path / "cancelled.lblogits"
    with pytest.raises(lowbit.CancelledError):
        lowbit.save_base_logits(model_path, text, path, context=64, chunks=3, progress=lambda *a: True)
    assert not path.exists()


def test_errors(model_path, q4_0, text, tmp_path):
    with pytest.raises(lowbit.InvalidArgumentError, match="either base"):
        lowbit.kld(q4_0, text=text)
    with pytest.raises(lowbit.InvalidArgumentError, match="text is needed"):
        lowbit.kld(q4_0, base=model_path)
    with pytest.raises(lowbit.InvalidArgumentError, match="context"):
        lowbit.kld(q4_0, base=model_path, text=text, context=1)
    bad = tmp_path / "not-logits.bin"
    bad.write_bytes(b"lowbitLP" + b"\0" * 10)
    with pytest.raises(lowbit.Error, match="not-logits.bin"):
        lowbit.kld(q4_0, base_logits=bad)
    with pytest.raises(lowbit.Error, match="missing.lblogits"):
        lowbit.kld(q4_0, base_logits=tmp_path / "missing.lblogits")
