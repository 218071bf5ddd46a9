"""lowbit.imatrix: an importance matrix of a model over a text, collected as
llama-imatrix collects it, for lowbit.quantize(..., imatrix=path)."""

import os

from . import lowbit_c as _c
from ._errors import integer, invalid_argument
from ._kld import _session
from ._model import Model
from ._session import _finish, _text_bytes


def read_imatrix(path):
    """The entries of a GGUF importance matrix: a dict weight name -> dict of
    ``in_sum2`` (float32 array, one row per expert: the sums of the squared
    inputs per column), ``counts`` (float32 array: rows seen per expert) and,
    when the file has it, ``in_sum`` (the sums of the inputs). Copies, so the
    file may be removed afterwards."""
    out = {}
    with Model(path) as m:
        for t in m.tensors:
            for suffix in (".in_sum2", ".counts", ".in_sum"):
                if t.name.endswith(suffix):
                    name = t.name[: -len(suffix)]
                    data = t.data.copy()
                    out.setdefault(name, {})[suffix[1:]] = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data
                    break
    return out


def imatrix(model, text, path, context=512, chunks=0, process_output=False, in_files=(), save_frequency=0,
            format="gguf", in_sum=False, dataset=None, threads=None, progress=None):  # fmt: skip
    """Runs ``model`` (a Session, Model or path) over ``text`` and writes the
    importance matrix of its weight tensors to ``path`` (atomically) in
    llama.cpp's GGUF form, or ``format="dat"`` its legacy one, as
    ``lowbit imatrix`` does: chunks of ``context`` tokens (BOS first, at
    least two), at most ``chunks`` of them (0: all); ``process_output`` also
    collects output.weight; ``in_files`` are importance matrices of the same
    model merged in first; ``save_frequency`` N also writes ``path.at_K``
    each time the chunk count K reaches a multiple of N; ``in_sum`` also
    writes the sums of the inputs; ``dataset`` is recorded in
    imatrix.datasets. progress(ppl, uncertainty, chunks_done, chunks) is
    called after each chunk; a true result cancels (CancelledError, nothing
    written). The GIL is released while it runs.

    Returns a dict: ``chunks``, ``ctx``, ``chunk_count``, ``entries`` (the
    number of tensors), ``ppl`` (``value``, ``uncertainty``: the perplexity
    of the chunks' second halves), ``seconds``, ``path``, and for the GGUF
    form ``matrix``: read_imatrix(path)."""
    if format not in ("gguf", "dat"):
        raise invalid_argument(f"format must be 'gguf' or 'dat', not {format!r}")
    if in_sum and format == "dat":
        raise invalid_argument("in_sum needs the GGUF form")
    files = [os.fspath(f) for f in ([in_files] if isinstance(in_files, (str, os.PathLike)) else in_files)]
    session, own = _session(model, threads, "model")
    try:
        result = _finish(_c.lbpy_imatrix(session._p(), _text_bytes(text, "text"), os.fspath(path),
                                         integer(context, "context", 2), integer(chunks, "chunks", 0),
                                         int(bool(process_output)), int(bool(in_sum)),
                                         integer(save_frequency, "save_frequency", 0), int(format == "dat"),
                                         dataset, files, progress))  # fmt: skip
    finally:
        if own:
            session.close()
    result["path"] = os.fspath(path)
    if format == "gguf":
        result["matrix"] = read_imatrix(path)
    return result
