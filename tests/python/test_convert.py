"""lowbit.convert: the same file as `lowbit convert` (which goes through the C
API directly), the result opened and run, progress and cancellation, and
errors naming what is wrong."""

import pathlib
import shutil

import lowbit
import pytest
from helpers import run_cli

CHECKPOINT = pathlib.Path(__file__).resolve().parent.parent.parent.parent / "shared" / "data" / "tinystories-656k"


def test_file_is_the_clis_byte_for_byte(tmp_path, cli):
    assert CHECKPOINT.is_dir(), f"the checkpoint {CHECKPOINT} is missing"
    run_cli(cli, "convert", CHECKPOINT, tmp_path / "cli.gguf", "--outtype", "bf16")
    seen = []
    lowbit.convert(CHECKPOINT, tmp_path / "python.gguf", "bf16", threads=2, progress=lambda *p: seen.append(p[2:]))
    assert (tmp_path / "python.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()
    assert len(seen) == 20 and seen[0] == (0, 20, "token_embd.weight") and seen[-1][0] == 19
    with lowbit.Model(tmp_path / "python.gguf") as m:
        assert m.metadata["general.architecture"] == "llama"
        assert m.tensor("blk.0.attn_q.weight").type == "BF16" and m.tensor("output_norm.weight").type == "F32"
    with lowbit.Session(tmp_path / "python.gguf") as s:
        assert s.vocab_size == 2048
        assert s.tokenize("Once upon a time").tolist()[0] == 1


def test_cancel_and_errors(tmp_path):
    out = tmp_path / "out.gguf"
    with pytest.raises(lowbit.CancelledError):
        lowbit.convert(CHECKPOINT, out, progress=lambda *p: True)
    assert not out.exists()
    with pytest.raises(lowbit.InvalidArgumentError, match="outtype"):
        lowbit.convert(CHECKPOINT, out, "Q4_0")
    broken = tmp_path / "broken"
    shutil.copytree(CHECKPOINT, broken)
    (broken / "config.json").write_text('{"architectures": ["BertModel"]}')
    with pytest.raises(lowbit.UnsupportedError, match="BertModel"):
        lowbit.convert(broken, out)
    with pytest.raises(lowbit.Error, match="nowhere"):
        lowbit.convert(tmp_path / "nowhere", out)
    assert not out.exists()


def test_the_folder_is_a_model(tmp_path, cli):
    with lowbit.Model(CHECKPOINT) as m:
        assert len(m.tensors) == 20 and m.metadata["llama.block_count"] == 2
        assert m.is_checkpoint and m.shard_count == 1
        q = m.tensor("blk.0.attn_q.weight")
        assert q.type == "F32" and q.shape == (128, 128)
    lowbit.quantize(CHECKPOINT, tmp_path / "python.gguf", "Q8_0")
    run_cli(cli, "quantize", CHECKPOINT, tmp_path / "cli.gguf", "Q8_0")
    assert (tmp_path / "python.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()
    with lowbit.Session(CHECKPOINT, context=256) as s:
        text = (pathlib.Path(__file__).resolve().parent.parent / "data" / "tinystories_val.txt").read_text()[:20000]
        assert s.perplexity(text, context=256).perplexity == pytest.approx(29.160, rel=1e-3)


def test_archives_and_synthetic_checkpoints(tmp_path, cli):
    # a checkpoint packed as Python's tarfile writes it: the same model
    packed = tmp_path / "tinystories.tar.gz"
    import tarfile

    with tarfile.open(packed, "w:gz") as t:
        t.add(CHECKPOINT, arcname="tinystories-656k")
    lowbit.quantize(packed, tmp_path / "packed.gguf", "Q8_0")
    lowbit.quantize(CHECKPOINT, tmp_path / "folder.gguf", "Q8_0")
    assert (tmp_path / "packed.gguf").read_bytes() == (tmp_path / "folder.gguf").read_bytes()
    with lowbit.Model(packed) as m:
        assert m.is_checkpoint and m.metadata["general.name"] == "tinystories-656k"
    # synthetic checkpoints: the CLI's folder, and the synthetic GGUF's tensors
    lowbit.synth_checkpoint(tmp_path / "py", arch="qwen2", type="BF16", seed=3)
    run_cli(cli, "synth", "--format", "safetensors", "--arch", "qwen2", "--type", "BF16", "--seed", "3", tmp_path / "cli")
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    lowbit.synth_model(tmp_path / "synth.gguf", arch="qwen2", type="BF16", seed=3)
    with lowbit.Model(tmp_path / "py") as a, lowbit.Model(tmp_path / "synth.gguf") as b:
        assert [t.name for t in a.tensors] != [] and len(a.tensors) == len(b.tensors)
        for t in b.tensors:
            assert bytes(a.tensor(t.name).data) == bytes(t.data), t.name
    with pytest.raises(lowbit.FileError, match="not an empty folder"):
        lowbit.synth_checkpoint(tmp_path / "py")
