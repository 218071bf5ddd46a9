"""Synthetic models and importance matrices, and imatrix conversion."""

import os

from . import lowbit_c as _c
from ._errors import check, integer, invalid_argument
from ._rows import type_id

_UINT32_MAX = 2**32 - 1


def _path(path):
    """A path argument (str or os.PathLike) as str."""
    return os.fsdecode(os.fspath(path))


_ARCHS = {"llama": _c.LB_SYNTH_LLAMA, "qwen2": _c.LB_SYNTH_QWEN2, "qwen3": _c.LB_SYNTH_QWEN3}


def _options(n_layer, n_embd, n_head, n_head_kv, n_ff, tied_output, type, seed, arch=None):
    """An lb_synth_options with the library's defaults, then the given values."""
    o = _c.lb_synth_options()
    check(_c.lb_synth_options_init(o, _c.LB_SYNTH_OPTIONS_VERSION))
    if n_layer is not None:
        o.n_layer = integer(n_layer, "n_layer", 0, _UINT32_MAX)
    if n_embd is not None:
        o.n_embd = integer(n_embd, "n_embd", 0, _UINT32_MAX)
    if n_head is not None:
        o.n_head = integer(n_head, "n_head", 0, _UINT32_MAX)
    if n_head_kv is not None:
        o.n_head_kv = integer(n_head_kv, "n_head_kv", 0, _UINT32_MAX)
    if n_ff is not None:
        o.n_ff = integer(n_ff, "n_ff", 0, _UINT32_MAX)
    if tied_output is not None:
        o.tied_output = 1 if tied_output else 0
    if arch is not None:
        if arch not in _ARCHS:
            raise invalid_argument(f"arch must be one of {sorted(_ARCHS)}, not {arch!r}")
        o.arch = _ARCHS[arch]
    if type is not None:
        o.type = type_id(type)
    if seed is not None:
        o.seed = integer(seed, "seed", 0, 2**64 - 1)
    return o


def synth_model(
    path,
    *,
    n_layer=None,
    n_embd=None,
    n_head=None,
    n_head_kv=None,
    n_ff=None,
    tied_output=None,
    type=None,
    seed=None,
    tokenizer_from=None,
    arch=None,
):
    """Writes a llama-family model with random weights of realistic
    statistics to ``path`` (atomically), for tests and benchmarks. The same
    options give the same file.

    Options left at None take the library's defaults: n_layer 2 blocks,
    n_embd 256 (hidden size, a multiple of n_head), n_head 8, n_head_kv 4,
    n_ff 512, tied_output False (True: no output.weight), type "F16" ("F32",
    "F16" or "BF16"), seed 1, and tokenizer_from None: a built-in byte-level
    vocabulary of 259 tokens (or the path of a GGUF model whose tokenizer and
    vocabulary size to copy), arch "llama" ("qwen2": Q/K/V biases, "qwen3":
    Q/K norms).

    Raises InvalidArgumentError (impossible shapes: the message names the
    field), FileError, FormatError (a bad tokenizer_from). The GIL is
    released while the file is written.
    """
    o = _options(n_layer, n_embd, n_head, n_head_kv, n_ff, tied_output, type, seed, arch)
    tokenizer = None if tokenizer_from is None else _path(tokenizer_from)
    check(_c.lbpy_synth_write_model(o, tokenizer, _path(path)))


def synth_checkpoint(
    path,
    *,
    n_layer=None,
    n_embd=None,
    n_head=None,
    n_head_kv=None,
    n_ff=None,
    tied_output=None,
    type=None,
    seed=None,
    arch=None,
):
    """Writes the model ``synth_model`` writes with the same options as a
    Hugging Face checkpoint into the folder ``path`` (which must not exist or
    be empty): config.json, model.safetensors (transformers' names and rotary
    row order; norms F32, matrices in ``type``), tokenizer.json and
    tokenizer_config.json of the built-in byte vocabulary. Converting it
    (``convert`` with that outtype) gives the same tensors, bit for bit.

    Raises InvalidArgumentError (impossible shapes), FileError (a path that
    is a file or a folder that is not empty). The GIL is released while the
    files are written.
    """
    o = _options(n_layer, n_embd, n_head, n_head_kv, n_ff, tied_output, type, seed, arch)
    check(_c.lbpy_synth_write_checkpoint(o, _path(path)))


def synth_imatrix(
    path,
    *,
    n_layer=None,
    n_embd=None,
    n_head=None,
    n_head_kv=None,
    n_ff=None,
    tied_output=None,
    type=None,
    seed=None,
    tokenizer_from=None,
):
    """Writes a GGUF importance matrix for the model ``synth_model`` writes
    with the same options: one entry per quantizable weight, mean squared
    activations with a log-normal spread across columns. Options and errors
    as for ``synth_model``."""
    o = _options(n_layer, n_embd, n_head, n_head_kv, n_ff, tied_output, type, seed)
    tokenizer = None if tokenizer_from is None else _path(tokenizer_from)
    check(_c.lbpy_synth_write_imatrix(o, tokenizer, _path(path)))


def convert_imatrix(in_path, out_path):
    """Reads an importance matrix (llama.cpp's GGUF imatrix or legacy .dat)
    and writes it to ``out_path`` in the GGUF form llama.cpp's tools read,
    atomically. Raises FileError, FormatError (naming the file and entry) or
    InvalidArgumentError (out_path naming the input). The GIL is released
    while it works."""
    check(_c.lbpy_imatrix_convert(_path(in_path), _path(out_path)))
