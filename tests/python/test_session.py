"""lowbit.Session: tokens, logits, perplexity and generation, compared with
the CLI (which goes through the C API directly), the GIL released while it
runs, Ctrl-C and callbacks stopping it, and its errors."""

import json
import signal
import threading

import lowbit
import numpy as np
import pytest
from helpers import run_cli, ticks_during_long_enough

TEXT = __import__("pathlib").Path(__file__).resolve().parent.parent / "data" / "tinystories_val.txt"


@pytest.fixture(scope="module")
def text():
    return TEXT.read_text(encoding="utf-8")[:20000]


def test_options_and_vocabulary(model_path):
    with lowbit.Session(model_path, threads=2, context=128, batch=64, cache_type="f32") as s:
        assert (s.threads, s.context, s.batch, s.cache_type) == (2, 128, 64, "F32")
        assert s.vocab_size == 512
        assert s.special_token("bos") == 1 and s.special_token("eos") == 2 and s.special_token("pad") is None
        with pytest.raises(lowbit.InvalidArgumentError, match="LB_SESSION_THREADS"):
            s.threads = 5000
        with pytest.raises(lowbit.InvalidArgumentError, match="cache_type"):
            s.cache_type = "Q8_0"
        with pytest.raises(lowbit.InvalidArgumentError, match="special token"):
            s.special_token("mask")


def test_tokens_equal_the_clis(model_path, cli):
    s = lowbit.Session(model_path)
    tokens = s.tokenize("Hello world")
    assert tokens.dtype == np.int32
    assert tokens.tolist() == json.loads(run_cli(cli, "tokenize", model_path, "Hello world", "--ids"))
    assert s.tokenize("Hello world", add_special=False).tolist() == tokens.tolist()[1:]
    assert s.tokenize("<s>", add_special=False, parse_special=True).tolist() == [1]
    assert s.detokenize(tokens) == " Hello world"
    assert s.detokenize([1], special=True) == "<s>" and s.detokenize([1]) == ""
    assert s.detokenize(s.tokenize("naïve “quotes”", add_special=False)) == " naïve “quotes”"
    with pytest.raises(lowbit.InvalidArgumentError, match="512"):
        s.detokenize([512])
    with pytest.raises(lowbit.InvalidArgumentError, match="str or bytes"):
        s.tokenize(42)


def test_logits_and_eval_in_steps(model_path):
    s = lowbit.Session(model_path, cache_type="F32")
    all_logits = s.logits("Once upon a time, there was")
    tokens = s.tokenize("Once upon a time, there was")
    assert all_logits.shape == (len(tokens), 512) and all_logits.dtype == np.float32
    s.clear()
    assert s.position == 0
    last = s.eval(tokens[:3])
    assert last.shape == (1, 512)
    np.testing.assert_allclose(last[0], all_logits[2], atol=1e-4)
    rest = s.eval(tokens[3:], outputs=[True] + [False] * (len(tokens) - 4))
    np.testing.assert_allclose(rest[0], all_logits[3], atol=1e-4)
    assert s.position == len(tokens)
    with pytest.raises(lowbit.InvalidArgumentError, match="outputs"):
        s.eval(tokens[:3], outputs=[True])
    with pytest.raises(lowbit.InvalidArgumentError, match="outside the vocabulary"):
        s.eval([1, 9999])


@pytest.mark.slow
def test_perplexity_equals_the_clis(model_path, text, cli, tmp_path):
    s = lowbit.Session(model_path, threads=2)
    seen = []
    r = s.perplexity(text, context=256, progress=lambda ppl, err, done, total: seen.append((done, total)))
    assert (r.n_tokens, r.n_chunks, r.n_scored) == (9603, 37, 4699)
    assert abs(r.perplexity - 3.7783) < 3.7783e-3
    assert seen[-1] == (37, 37) and len(seen) == 37
    (tmp_path / "t.txt").write_text(text, encoding="utf-8")
    out = json.loads(run_cli(cli, "perplexity", model_path, "-f", tmp_path / "t.txt", "--ctx", "256", "--json"))
    assert out["perplexity"] == pytest.approx(r.perplexity, rel=1e-7)  # the JSON has 8 digits
    assert s.perplexity(text, context=256, chunks=3).n_scored == 3 * 127
    with pytest.raises(lowbit.InvalidArgumentError, match="tokens long"):
        s.perplexity(text[:500], context=256)
    with pytest.raises(lowbit.CancelledError):
        s.perplexity(text, context=256, progress=lambda *a: True)
    with pytest.raises(ZeroDivisionError):
        s.perplexity(text, context=256, progress=lambda *a: 1 / 0)


def test_generate_equals_the_clis(model_path, cli):
    s = lowbit.Session(model_path)
    got = s.generate("Once upon a time", max_tokens=40)
    assert got == ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."
    assert run_cli(cli, "generate", model_path, "-p", "Once upon a time", "-n", "40") == "Once upon a time" + got + "\n"
    pieces = []
    s.generate("Once upon a time", max_tokens=40, on_token=lambda t, p: pieces.append(p) or len(pieces) == 3)
    assert len(pieces) == 3 and b"".join(pieces).decode() == got[: len(b"".join(pieces).decode())]
    a = s.generate("Lily", max_tokens=20, temperature=0.9, seed=5)
    assert a == s.generate("Lily", max_tokens=20, temperature=0.9, seed=5)
    with pytest.raises(lowbit.InvalidArgumentError, match="top_p"):
        s.generate("Lily", top_p=0)


def test_unsupported_architecture(tmp_path):
    from gguf_file import STRING, write_gguf

    path = tmp_path / "m.gguf"
    write_gguf(path, [("general.architecture", STRING, "mamba")], [("t", (32,), "F32", bytes(128))])
    with pytest.raises(lowbit.UnsupportedError, match="mamba"):
        lowbit.Session(path)


def test_perplexity_releases_the_gil(tmp_path):
    # a synthetic model whose evaluation takes long enough, sized by its layers
    def work(scale):
        model = tmp_path / f"m-{scale}.gguf"
        lowbit.synth_model(model, n_layer=scale, n_embd=256, n_ff=512, seed=3)
        s = lowbit.Session(model, threads=1)
        text = TEXT.read_text(encoding="utf-8")[:6000]
        return lambda: s.perplexity(text, context=128, chunks=4)

    duration, ticks = ticks_during_long_enough(work)
    assert ticks >= 10, f"the main thread ran {ticks} times in the middle of a {duration:.3f} s perplexity"


class Interrupted(Exception):
    """Raised by the test's SIGINT handler."""


def test_ctrl_c_stops_generation(model_path):
    s = lowbit.Session(model_path)
    main = threading.get_ident()
    started = threading.Event()

    def on_sigint(signum, frame):
        raise Interrupted()

    def on_token(token, piece):
        if not started.is_set():
            started.set()
            signal.pthread_kill(main, signal.SIGINT)  # handled at the next check, on this thread
        return False

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with pytest.raises(Interrupted):
            s.generate("Once upon a time", max_tokens=200, on_token=on_token)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert started.is_set()
