"""lowbit.quantize and lowbit.Quantizer: outputs compared byte for byte with
the lowbit CLI's, what a run reports, progress, cancellation (by the callback,
from another thread, by Ctrl-C), exceptions in callbacks, and the GIL."""

import os
import shutil
import signal
import threading
import time

import lowbit
import pytest
from helpers import run_cli, ticks_during_long_enough

N_TENSORS, N_WEIGHTS = 48, 292800  # of stories260K.gguf


@pytest.mark.parametrize(
    "ftype, file_type, attn_q_type",
    [("Q8_0", 7, "Q8_0"), ("Q4_K_M", 15, "Q5_0")],  # rows of 64 do not fit Q4_K's 256: Q5_0
)
def test_quantize_and_reopen(model_path, tmp_path, ftype, file_type, attn_q_type):
    out = tmp_path / f"{ftype}.gguf"
    notices = []
    result = lowbit.quantize(model_path, out, ftype, log=lambda *notice: notices.append(notice))

    assert result.output == str(out)
    assert not result.dry_run
    assert result.tensors == N_TENSORS == len(result.plan)
    assert result.elements == N_WEIGHTS
    assert result.input_bytes == N_WEIGHTS * 4
    assert result.output_files == 1
    assert result.output_file_bytes == os.path.getsize(out)
    assert result.output_bytes == sum(entry.bytes for entry in result.plan)
    assert result.quantized == sum(1 for entry in result.plan if entry.type != entry.input_type)
    assert result.elapsed_us > 0
    # each fallback was reported to the log callback, naming its tensor
    fallbacks = [message for level, message in notices if level == "warn" and "falling back" in message]
    assert result.fallbacks == len(fallbacks) > 0
    assert any(message.startswith("blk.0.ffn_down.weight:") for message in fallbacks)

    with lowbit.Model(out) as quantized:
        metadata = quantized.metadata
        types = {tensor.name: tensor.type for tensor in quantized}
    assert metadata["general.file_type"] == file_type
    assert metadata["general.quantization_version"] == 2
    assert metadata["general.architecture"] == "llama"
    assert [entry.name for entry in result.plan] == list(types)
    for entry in result.plan:
        assert entry.input_type == "F32"
        assert types[entry.name] == entry.type
    assert types["blk.0.attn_q.weight"] == attn_q_type
    assert types["blk.0.attn_norm.weight"] == "F32"


# (CLI options, the same as keyword arguments of lowbit.quantize), ftype
CLI_CASES = {
    "q8_0": ([], {}, "Q8_0"),
    "q4_k_m": ([], {}, "Q4_K_M"),
    "number": ([], {}, "15"),  # a number as a string (an int in test_default_output_is_the_clis)
    "copy": ([], {}, "COPY"),
    "options": (
        [
            "--tensor-type", "ATTN_V=Q8_0",
            "--tensor-type", "ffn_.*=Q4_1",
            "--token-embedding-type", "Q4_0",
            "--leave-output-tensor",
            "--override-kv", "general.name=str:python",
            "--override-kv", "llama.context_length=int:4096",
            "--prune-layers", "1,3",
            "--threads", "2",
        ],
        {
            "tensor_types": [("ATTN_V", "Q8_0"), ("ffn_.*", "Q4_1")],
            "token_embedding_type": "Q4_0",
            "leave_output_tensor": True,
            "override_kv": ["general.name=str:python", "llama.context_length=int:4096"],
            "prune_layers": [1, 3],
            "threads": 2,
        },
        "Q5_1",
    ),
    "pure": (
        ["--pure", "--output-tensor-type", "q8_0"],
        {"pure": True, "output_tensor_type": "q8_0"},
        "Q4_0",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_output_is_the_clis_byte_for_byte(case, model_path, tmp_path, cli):
    options, kwargs, ftype = CLI_CASES[case]
    by_cli, by_python = tmp_path / "cli.gguf", tmp_path / "python.gguf"
    run_cli(cli, "quantize", *options, model_path, by_cli, ftype)
    lowbit.quantize(model_path, by_python, ftype, **kwargs)
    assert by_python.read_bytes() == by_cli.read_bytes()


def test_options_reach_the_output(model_path, tmp_path):
    _, kwargs, ftype = CLI_CASES["options"]
    out = tmp_path / "options.gguf"
    lowbit.quantize(model_path, out, ftype, **kwargs)
    with lowbit.Model(out) as model:
        metadata = model.metadata
        types = {tensor.name: tensor.type for tensor in model}
    assert metadata["general.name"] == "python"
    assert metadata["llama.context_length"] == 4096
    assert metadata["llama.block_count"] == 3  # layers 1 and 3 pruned
    assert sorted({name.split(".")[1] for name in types if name.startswith("blk.")}) == ["0", "1", "2"]
    assert all(types[f"blk.{i}.attn_v.weight"] == "Q8_0" for i in range(3))  # the regex was lowercased
    assert types["blk.0.ffn_up.weight"] == "Q4_1"
    assert types["token_embd.weight"] == "Q4_0"
    assert types["output.weight"] == "F32"  # left as it is
    assert types["blk.0.attn_q.weight"] == "Q5_1"


@pytest.mark.parametrize(
    "options, kwargs, ftype",
    [
        (["--include-weights", "attn"], {"include_weights": ["attn"]}, "Q4_K_M"),
        (["--exclude-weights", "ffn_down"], {"exclude_weights": "ffn_down"}, "Q2_K"),
    ],
)
def test_imatrix_output_is_the_clis_byte_for_byte(options, kwargs, ftype, synth_small, tmp_path, cli):
    model, imatrix = synth_small
    by_cli, by_python = tmp_path / "cli.gguf", tmp_path / "python.gguf"
    run_cli(cli, "quantize", "--imatrix", imatrix, *options, model, by_cli, ftype)
    lowbit.quantize(model, by_python, ftype, imatrix=imatrix, **kwargs)
    assert by_python.read_bytes() == by_cli.read_bytes()
    with lowbit.Model(by_python) as quantized:
        assert quantized.metadata["quantize.imatrix.file"] == str(imatrix)
    # and the imatrix made a difference
    plain = tmp_path / "plain.gguf"
    lowbit.quantize(model, plain, ftype)
    assert plain.read_bytes() != by_python.read_bytes()


def test_keep_split_names_shards_like_the_cli(model_path, tmp_path, cli):
    (tmp_path / "cli").mkdir()
    (tmp_path / "python").mkdir()
    run_cli(cli, "quantize", "--keep-split", model_path, tmp_path / "cli" / "out.gguf", "Q8_0")
    result = lowbit.quantize(model_path, tmp_path / "python" / "out.gguf", "Q8_0", keep_split=True)
    assert result.output_files == 1
    names = sorted(os.listdir(tmp_path / "cli"))
    assert names == ["out-00001-of-00001.gguf"]
    assert sorted(os.listdir(tmp_path / "python")) == names
    assert (tmp_path / "python" / names[0]).read_bytes() == (tmp_path / "cli" / names[0]).read_bytes()


@pytest.mark.parametrize("ftype, name", [("q4_k", "Q4_K_M"), ("COPY", "COPY"), (7, "Q8_0")])
def test_default_output_is_the_clis(ftype, name, model_path, tmp_path, cli):
    for folder in ("cli", "python"):
        (tmp_path / folder).mkdir()
        shutil.copyfile(model_path, tmp_path / folder / "model.gguf")
    run_cli(cli, "quantize", tmp_path / "cli" / "model.gguf", str(ftype))
    result = lowbit.quantize(tmp_path / "python" / "model.gguf", ftype=ftype)
    expected = f"ggml-model-{name}.gguf"
    assert sorted(os.listdir(tmp_path / "cli")) == [expected, "model.gguf"]
    assert sorted(os.listdir(tmp_path / "python")) == [expected, "model.gguf"]
    assert result.output == str(tmp_path / "python" / expected)
    assert (tmp_path / "python" / expected).read_bytes() == (tmp_path / "cli" / expected).read_bytes()


def test_input_may_be_an_open_model_which_stays_open(model_path, tmp_path):
    with lowbit.Model(model_path) as model:
        result = lowbit.quantize(model, tmp_path / "out.gguf", "Q8_0")
        assert not model.closed
        assert len(model) == N_TENSORS
    assert result.output_file_bytes == os.path.getsize(tmp_path / "out.gguf")
    # a Model and a path give the same file
    lowbit.quantize(model_path, tmp_path / "from_path.gguf", "Q8_0")
    assert (tmp_path / "out.gguf").read_bytes() == (tmp_path / "from_path.gguf").read_bytes()


def test_dry_run_writes_nothing_and_returns_the_plan(model_path, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dry = lowbit.quantize(model_path, out_dir / "out.gguf", "Q4_K_M", dry_run=True)
    assert os.listdir(out_dir) == []
    assert dry.dry_run
    assert dry.output_files == 0 and dry.output_file_bytes == 0
    assert len(dry.plan) == N_TENSORS
    real = lowbit.quantize(model_path, out_dir / "out.gguf", "Q4_K_M")
    assert dry.plan == real.plan
    assert dry.output_bytes == real.output_bytes
    assert isinstance(dry.plan[0], lowbit.PlanEntry)


def test_progress_reports_every_tensor_up_to_the_total(model_path, tmp_path):
    calls = []
    result = lowbit.quantize(model_path, tmp_path / "out.gguf", "Q8_0", progress=calls.append)
    assert all(isinstance(call, lowbit.Progress) for call in calls)
    assert len(calls) >= N_TENSORS
    done = [call.done for call in calls]
    assert done == sorted(done)
    assert done[0] == 0 and done[-1] == N_WEIGHTS
    assert all(call.total == N_WEIGHTS and call.tensor_count == N_TENSORS for call in calls)
    indices = [call.tensor_index for call in calls]
    assert indices == sorted(indices) and set(indices) == set(range(N_TENSORS))
    names = [entry.name for entry in result.plan]
    assert all(call.tensor_name == names[call.tensor_index] for call in calls)


@pytest.mark.parametrize("answer", [None, True, 0, ""])
def test_only_false_cancels(answer, model_path, tmp_path):
    result = lowbit.quantize(model_path, tmp_path / "out.gguf", "Q8_0", progress=lambda p: answer)
    assert result.tensors == N_TENSORS
    assert os.listdir(tmp_path) == ["out.gguf"]


def test_returning_false_cancels_and_leaves_no_file(model_path, tmp_path):
    out = tmp_path / "out.gguf"
    out.write_bytes(b"an older output")
    seen = []

    def progress(p):
        seen.append(p.tensor_index)
        return False if p.tensor_index >= N_TENSORS // 2 else None

    with pytest.raises(lowbit.CancelledError, match="cancelled") as caught:
        lowbit.quantize(model_path, out, "Q4_K_M", progress=progress)
    assert caught.value.status == lowbit.lowbit_c.LB_E_CANCELLED
    assert max(seen) == N_TENSORS // 2  # no call after the cancel
    assert os.listdir(tmp_path) == ["out.gguf"]  # no temporary file left
    assert out.read_bytes() == b"an older output"  # untouched


class Boom(Exception):
    """Raised by the tests' callbacks."""


def test_an_exception_in_progress_cancels_and_propagates(model_path, tmp_path):
    boom = Boom("from progress")
    calls = []

    def progress(p):
        calls.append(p)
        if p.tensor_index == 3:
            raise boom

    with pytest.raises(Boom) as caught:
        lowbit.quantize(model_path, tmp_path / "out.gguf", "Q8_0", progress=progress)
    assert caught.value is boom
    assert calls[-1].tensor_index == 3  # not called again
    assert os.listdir(tmp_path) == []


def test_an_exception_in_log_cancels_and_propagates(model_path, tmp_path):
    def log(level, message):
        raise Boom(message)

    with pytest.raises(Boom, match="falling back"):
        lowbit.quantize(model_path, tmp_path / "out.gguf", "Q4_K_M", log=log)
    assert os.listdir(tmp_path) == []


def test_cancel_from_another_thread(model_path, tmp_path):
    started, resume = threading.Event(), threading.Event()

    def progress(p):
        if not started.is_set():
            started.set()
            assert resume.wait(30)

    quantizer = lowbit.Quantizer("Q4_K_M", progress=progress)
    failures = []

    def work():
        try:
            quantizer.run(model_path, tmp_path / "out.gguf")
        except BaseException as e:
            failures.append(e)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(30)
    quantizer.cancel()
    resume.set()
    thread.join(30)
    assert len(failures) == 1 and isinstance(failures[0], lowbit.CancelledError), failures
    assert os.listdir(tmp_path) == []
    # the next run starts uncancelled
    result = quantizer.run(model_path, tmp_path / "out.gguf")
    assert result.tensors == N_TENSORS
    assert os.listdir(tmp_path) == ["out.gguf"]


def open_files_in(folder):
    """The files in folder this process has open, named or not: the output
    is written to an unnamed file (O_TMPFILE), whose link in /proc/self/fd
    reads "FOLDER/#INODE (deleted)"."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith(f"{folder}/"):
            found.append(target)
    return found


def wait_for_output_open(folder, timeout=30.0):
    """Waits until this process has a file open in folder (a run's output
    being written)."""
    deadline = time.monotonic() + timeout
    while not open_files_in(folder):
        assert time.monotonic() < deadline, f"no file was opened in {folder}"
        time.sleep(0.001)


def test_cancel_a_run_without_callbacks(synth_large, tmp_path):
    quantizer = lowbit.Quantizer("Q4_K_M", threads=1)
    failures = []

    def work():
        try:
            quantizer.run(synth_large, tmp_path / "out.gguf")
        except BaseException as e:
            failures.append(e)

    thread = threading.Thread(target=work)
    thread.start()
    wait_for_output_open(tmp_path)  # the run is writing its output
    quantizer.cancel()
    thread.join(30)
    assert len(failures) == 1 and isinstance(failures[0], lowbit.CancelledError), failures
    assert os.listdir(tmp_path) == []


class Interrupted(Exception):
    """Raised by the test's SIGINT handler."""


def test_ctrl_c_cancels_a_run_and_raises(synth_large, tmp_path):
    def on_sigint(signum, frame):
        raise Interrupted()

    main = threading.get_ident()

    def send_sigint_once_the_run_writes():
        wait_for_output_open(tmp_path)
        signal.pthread_kill(main, signal.SIGINT)

    sender = threading.Thread(target=send_sigint_once_the_run_writes)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        try:
            sender.start()
            with pytest.raises(Interrupted):
                lowbit.quantize(synth_large, tmp_path / "out.gguf", "Q4_K_M", threads=1)
        finally:
            sender.join(30)  # before the handler goes: a late signal must not reach pytest
    finally:
        signal.signal(signal.SIGINT, previous)
    assert os.listdir(tmp_path) == []


def test_a_quantizer_runs_one_job_at_a_time(model_path, tmp_path):
    refused = []

    def progress(p):
        if not refused:
            try:
                quantizer.run(model_path, tmp_path / "inner.gguf")
            except lowbit.InvalidArgumentError as e:
                refused.append(e)

    quantizer = lowbit.Quantizer("Q8_0", progress=progress)
    quantizer.run(model_path, tmp_path / "out.gguf")
    assert len(refused) == 1 and "already running" in str(refused[0])
    assert os.listdir(tmp_path) == ["out.gguf"]


def test_a_quantizer_runs_again_with_the_same_result(model_path, tmp_path):
    quantizer = lowbit.Quantizer("q4_k_s", threads=1)
    assert quantizer.ftype == "Q4_K_S"
    assert repr(quantizer) == "<lowbit.Quantizer Q4_K_S>"
    first = quantizer.run(model_path, tmp_path / "a.gguf")
    second = quantizer.run(model_path, tmp_path / "b.gguf")
    assert first.plan == second.plan
    assert (tmp_path / "a.gguf").read_bytes() == (tmp_path / "b.gguf").read_bytes()


def test_quantize_releases_the_gil(tmp_path):
    def work(scale):
        model = tmp_path / f"model-{scale}.gguf"
        lowbit.synth_model(model, n_layer=scale, n_embd=512, n_ff=1536, seed=3)
        return lambda: lowbit.quantize(model, tmp_path / "out.gguf", "Q4_K_M", threads=1)

    duration, ticks = ticks_during_long_enough(work)
    assert ticks >= 10, f"the main thread ran {ticks} times in the middle of a {duration:.3f} s run"


@pytest.mark.slow
def test_run_many_writes_what_the_clis_types_writes(synth_small, tmp_path, cli):
    model, imatrix = synth_small
    types = ["Q4_K_M", "q8_0", 2]  # names in any case, or llama.cpp's numbers (2: Q4_0)
    run_cli(cli, "quantize", "--imatrix", imatrix, model, "--types", "Q4_K_M,Q8_0,Q4_0", tmp_path / "cli")
    outputs = [tmp_path / f"python-{i}.gguf" for i in range(3)]
    q = lowbit.Quantizer(imatrix=imatrix, threads=2)
    results = q.run_many(model, types, outputs)
    assert [r.output for r in results] == [str(o) for o in outputs]
    for name, out, result in zip(["Q4_K_M", "Q8_0", "Q4_0"], outputs, results):
        assert out.read_bytes() == (tmp_path / f"cli-{name}.gguf").read_bytes(), name
        single = lowbit.Quantizer(ftype=name, imatrix=imatrix).run(model, tmp_path / "single.gguf")
        assert single.plan == result.plan, name
        assert (single.tensors, single.quantized, single.output_bytes, single.output_file_bytes) == (
            result.tensors,
            result.quantized,
            result.output_bytes,
            result.output_file_bytes,
        ), name
    assert results[0].elapsed_us == results[2].elapsed_us  # the one pass
    assert {e.type for e in results[2].plan if e.name.startswith("blk.0.ffn_up")} == {"Q4_0"}


def test_run_many_defaults_and_refusals(model_path, tmp_path):
    shutil.copyfile(model_path, tmp_path / "model.gguf")
    results = lowbit.Quantizer().run_many(tmp_path / "model.gguf", ["Q8_0", "Q4_0"])
    assert [os.path.basename(r.output) for r in results] == ["ggml-model-Q8_0.gguf", "ggml-model-Q4_0.gguf"]
    q = lowbit.Quantizer()
    for ftypes, outputs, message in [
        ([], None, "empty"),
        ("Q8_0", None, "sequence"),
        (["Q8_0", "copy"], None, "COPY"),
        (["Q8_0", "q8_0"], None, "given twice"),
        (["Q8_0", "Q4_0"], [tmp_path / "one.gguf"], "1 outputs for 2"),
        (["Q8_0", "Q4_0"], [tmp_path / "same.gguf"] * 2, "two outputs"),
    ]:
        with pytest.raises(lowbit.InvalidArgumentError, match=message):
            q.run_many(model_path, ftypes, outputs)
    assert sorted(os.listdir(tmp_path)) == ["ggml-model-Q4_0.gguf", "ggml-model-Q8_0.gguf", "model.gguf"]
