"""lowbit.compare and lowbit.tensor_errors: quantized files side by side
against their base over a text, as ``lowbit compare`` measures them, and
which weight tensors of one of them hurt most (``--per-tensor``)."""

import os
import tempfile

from . import lowbit_c as _c
from ._errors import invalid_argument
from ._kld import _options, _session, kld, save_base_logits
from ._model import Model
from ._session import Session, _finish, _text_bytes


def _model_of(x):
    """The Model behind x (a Session, Model or path) and whether it is ours."""
    if isinstance(x, Session):
        return x._model, False
    if isinstance(x, Model):
        return x, False
    return Model(x), True


def _files_size(model):
    """Bytes of the model's files (every shard of a split model)."""
    if model.shard_count <= 1:
        return model.file_size
    path, first = model.path, "-00001-of-"
    at = path.rfind(first)
    total = 0
    for k in range(1, model.shard_count + 1):
        shard = path[: at + 1] + f"{k:05d}" + path[at + 6 :] if at >= 0 else path
        total += os.path.getsize(shard) if os.path.exists(shard) else 0
    return total


def _bits_per_weight(model):
    """All tensors' data bits over their elements, as llama.cpp's BPW."""
    tensors = model.tensors
    elements = sum(t.n_elements for t in tensors)
    return 8.0 * sum(t.nbytes for t in tensors) / elements if elements else 0.0


def compare(base, models, text, context=512, chunks=0, threads=None, progress=None):
    """Measures each of ``models`` (Sessions, Models or paths: quantized
    versions of ``base``, a Session, Model or path) against ``base`` over
    ``text``, as ``lowbit compare`` does: the base runs once and its
    distributions are saved to a temporary file (removed afterwards), then
    each model is scored against them (chunks of ``context`` tokens, at most
    ``chunks``; 0: all).

    Returns a list with a dict per model, in order, with the keys of
    ``lowbit compare --json``'s models: ``file``, ``size`` (bytes of its
    files), ``bpw`` (bits per weight: all tensors' data bits over their
    elements, as llama.cpp's BPW), ``ppl``, ``kld`` and ``same_top`` (each a
    dict of ``value`` and ``uncertainty``), ``kld_99`` (the 99th percentile
    of the KL-divergence), ``tokens_per_second`` (the model's, over the
    chunks' tokens) and ``seconds``; also ``ppl_base``. progress(file,
    chunks_done, chunks) is called after each chunk, for the base's file
    first; a true result cancels (CancelledError)."""
    if isinstance(models, (str, bytes, os.PathLike, Model, Session)):
        raise invalid_argument("models must be a list of models")
    models = list(models)
    if not models:
        raise invalid_argument("models is empty: give at least one model to compare with the base")
    text = _text_bytes(text, "text")
    if not text:
        raise invalid_argument("text is empty: there is no text to score")
    opened = []
    try:
        base_session, own_base = _session(base, threads, "base")
        if own_base:
            opened.append(base_session)
        sessions = []
        for m in models:
            s, own = _session(m, threads, "model")
            if own:
                opened.append(s)
            if s.vocab_size != base_session.vocab_size:
                raise invalid_argument(f"{s._model.path}: a vocabulary of {s.vocab_size} tokens; the base "
                                       f"{base_session._model.path} has {base_session.vocab_size}")  # fmt: skip
            sessions.append(s)

        def report(path):
            if progress is None:
                return None
            return lambda *figures: progress(path, figures[-2], figures[-1])

        with tempfile.TemporaryDirectory(prefix="lowbit-compare-") as folder:
            saved = os.path.join(folder, "base.logits")
            save_base_logits(base_session, text, saved, context=context, chunks=chunks,
                             progress=report(base_session._model.path))  # fmt: skip
            rows = []
            for s in sessions:
                r = kld(s, base_logits=saved, progress=report(s._model.path))
                seconds = r["seconds"]
                rows.append({
                    "file": s._model.path,
                    "size": _files_size(s._model),
                    "bpw": _bits_per_weight(s._model),
                    "ppl": r["ppl"],
                    "ppl_base": r["ppl_base"],
                    "kld": r["kld"],
                    "kld_99": r["kld_quantiles"]["99%"],
                    "same_top": r["same_top"],
                    "tokens_per_second": r["chunks"] * r["ctx"] / seconds if seconds > 0 else 0.0,
                    "seconds": seconds,
                })  # fmt: skip
        return rows
    finally:
        for s in opened:
            s.close()


def tensor_errors(base, model, text, context=512, chunks=0, threads=None, progress=None, details=False):
    """Each weight tensor's relative output error in ``model`` (a quantized
    ``base``; a Session, Model or path, only read) on ``text``, as
    ``lowbit compare --per-tensor`` measures it: ``base`` (a Session, Model
    or path) runs over the text, and for every product of a weight W with
    input rows x, the tensor W_q of the same name in ``model`` gives
    sum ||W_q x - W x||^2 / sum ||W x||^2 (the inputs are the base's, so each
    tensor's error is its own).

    Returns a dict tensor name -> relative error, worst first; with
    ``details`` a list of dicts (``name``, ``layer``, ``base_type``, ``type``,
    ``rows``, ``error``, ``reference``, ``relative``), worst first.
    progress(chunks_done, chunks) is called after each chunk; a true result
    cancels (CancelledError). The GIL is released while it runs."""
    session, own_session = _session(base, threads, "base")
    try:
        quantized, own_model = _model_of(model)
        try:
            entries = _finish(_c.lbpy_tensor_errors(session._p(), quantized._pointer(), _text_bytes(text, "text"),
                                                    _options(context, chunks), progress))  # fmt: skip
        finally:
            if own_model:
                quantized.close()
    finally:
        if own_session:
            session.close()
    if details:
        return entries
    return {e["name"]: e["relative"] for e in entries}
