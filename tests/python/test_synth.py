"""Synthetic models and importance matrices compared byte for byte with the
lowbit CLI's (`lowbit synth`), and imatrix conversion."""

import lowbit
from helpers import run_cli


def test_default_synthetic_model_is_the_clis(tmp_path, cli):
    run_cli(cli, "synth", tmp_path / "cli.gguf")
    lowbit.synth_model(tmp_path / "python.gguf")
    assert (tmp_path / "python.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()
    with lowbit.Model(tmp_path / "python.gguf") as model:
        metadata = model.metadata
        assert model.tensor("blk.0.attn_q.weight").shape == (256, 256)
        assert model.tensor("blk.0.attn_q.weight").type == "F16"
    assert metadata["llama.block_count"] == 2
    assert metadata["llama.embedding_length"] == 256
    assert metadata["llama.feed_forward_length"] == 512
    assert len(metadata["tokenizer.ggml.tokens"]) == 259


def test_synthetic_model_and_imatrix_with_options_are_the_clis(model_path, tmp_path, cli):
    run_cli(
        cli, "synth", "--layers", 1, "--embd", 128, "--heads", 4, "--kv-heads", 2, "--ff", 256, "--tied",
        "--type", "BF16", "--seed", 9, "--tokenizer-from", model_path,
        "--imatrix", tmp_path / "cli.imatrix.gguf", tmp_path / "cli.gguf",
    )  # fmt: skip
    options = dict(
        n_layer=1, n_embd=128, n_head=4, n_head_kv=2, n_ff=256, tied_output=True, type="BF16", seed=9,
        tokenizer_from=model_path,
    )  # fmt: skip
    lowbit.synth_model(tmp_path / "python.gguf", **options)
    lowbit.synth_imatrix(tmp_path / "python.imatrix.gguf", **options)
    assert (tmp_path / "python.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()
    assert (tmp_path / "python.imatrix.gguf").read_bytes() == (tmp_path / "cli.imatrix.gguf").read_bytes()

    with lowbit.Model(tmp_path / "python.gguf") as model, lowbit.Model(model_path) as tokenizer:
        names = [tensor.name for tensor in model]
        assert model.metadata["tokenizer.ggml.tokens"] == tokenizer.metadata["tokenizer.ggml.tokens"]
        assert model.tensor("blk.0.attn_k.weight").shape == (128, 64)  # 2 KV heads of 32
        assert model.tensor("blk.0.attn_k.weight").type == "BF16"
    assert "output.weight" not in names  # tied
    # another seed, other weights
    lowbit.synth_model(tmp_path / "seed10.gguf", **{**options, "seed": 10})
    assert (tmp_path / "seed10.gguf").read_bytes() != (tmp_path / "python.gguf").read_bytes()


def test_convert_imatrix(synth_small, tmp_path):
    model, imatrix = synth_small
    converted = tmp_path / "converted.imatrix.gguf"
    lowbit.convert_imatrix(imatrix, converted)
    with lowbit.Model(converted) as matrix:
        assert matrix.metadata["general.type"] == "imatrix"
        names = [tensor.name for tensor in matrix]
    entries = [name.removesuffix(".in_sum2") for name in names[::2]]
    assert entries and entries == sorted(entries)  # in entry name order
    assert names == [f"{entry}.{part}" for entry in entries for part in ("in_sum2", "counts")]
    # converting again changes nothing, and both quantize alike
    again = tmp_path / "again.imatrix.gguf"
    lowbit.convert_imatrix(converted, again)
    assert again.read_bytes() == converted.read_bytes()
    lowbit.quantize(model, tmp_path / "a.gguf", "Q4_K_M", imatrix=imatrix)
    lowbit.quantize(model, tmp_path / "b.gguf", "Q4_K_M", imatrix=converted)
    with lowbit.Model(tmp_path / "a.gguf") as a, lowbit.Model(tmp_path / "b.gguf") as b:
        for x, y in zip(a, b):
            assert x.name == y.name and x.type == y.type
            assert x.data.tobytes() == y.data.tobytes(), x.name
