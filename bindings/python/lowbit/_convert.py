"""lowbit.convert: a Hugging Face checkpoint folder to GGUF, as llama.cpp's
convert_hf_to_gguf.py writes it."""

import os

from . import lowbit_c as _c
from ._errors import check, error_for, integer, invalid_argument
from ._rows import type_id

_OUTTYPES = ("F32", "F16", "BF16", "Q8_0")


def convert(src, out_path, outtype="F16", threads=None, progress=None):
    """Writes the checkpoint in folder ``src`` (config.json, model.safetensors
    or its shards, tokenizer.json, tokenizer_config.json) to ``out_path`` as
    GGUF, atomically: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM
    and Qwen3ForCausalLM. ``src`` may also be an archive of such a folder
    (.tar, .tar.gz, .tar.zst, .tar.xz, .tar.bz2, .zip), read without unpacking
    it to disk; a file NAME.zst stands for NAME. ``outtype`` is the weights' type ("F32", "F16",
    "BF16" or "Q8_0"; norms stay F32). progress(done, total, tensor_index,
    tensor_count, tensor_name) is called after each tensor; a true result
    cancels (CancelledError, nothing written). The GIL is released while it
    works. Errors name the file, field or tensor (FormatError,
    UnsupportedError for an architecture, dtype or tokenizer lowbit does not
    convert, FileError)."""
    if not isinstance(outtype, str) or outtype.upper() not in _OUTTYPES:
        raise invalid_argument(f"outtype must be one of {', '.join(_OUTTYPES)}, not {outtype!r}")
    o = _c.lb_convert_options()
    check(_c.lb_convert_options_init(o, _c.LB_CONVERT_OPTIONS_VERSION))
    o.outtype = type_id(outtype.upper())
    o.n_threads = 0 if threads is None else integer(threads, "threads", 1, 1024)
    status, message = _c.lbpy_convert(os.fsdecode(os.fspath(src)), os.fsdecode(os.fspath(out_path)), o, progress)
    if status != _c.LB_OK:
        raise error_for(status, message)
