"""lowbit.kld and lowbit.save_base_logits: how far a model's next-token
distributions are from a base model's, as llama-perplexity --kl-divergence
measures it."""

from . import lowbit_c as _c
from ._errors import check, integer, invalid_argument
from ._session import Session, _finish, _text_bytes


def _options(context, chunks):
    o = _c.lb_kld_options()
    check(_c.lb_kld_options_init(o, _c.LB_KLD_OPTIONS_VERSION))
    o.n_ctx = integer(context, "context", 2)
    o.max_chunks = integer(chunks, "chunks", 0)
    return o


def _session(x, threads, what):
    """A Session for x (a Session, a Model or a path) and whether it is ours."""
    if x is None:
        raise invalid_argument(f"{what} is needed")
    if isinstance(x, Session):
        return x, False
    return Session(x, threads=threads), True


def kld(model, base=None, text=None, base_logits=None, context=512, chunks=0, threads=None, progress=None):
    """The KL-divergence of ``model`` from ``base`` over ``text`` (or from the
    base distributions saved in ``base_logits`` by save_base_logits(), on the
    tokens saved with them), scored as llama-perplexity --kl-divergence
    scores. ``model`` and ``base`` are Sessions, Models or paths.

    Returns a dict with the keys of ``lowbit kld --json``: ``ppl``,
    ``ppl_base``, ``ln_ppl_ratio``, ``ppl_ratio``, ``ppl_difference``,
    ``kld``, ``delta_p``, ``delta_p_rms``, ``same_top`` (each a dict of
    ``value`` and ``uncertainty``), ``ln_ppl_correlation``, ``kld_quantiles``
    and ``delta_p_quantiles`` (``min``, ``0.1%`` ... ``median`` ... ``max``),
    ``ctx``, ``chunks``, ``scored``, ``seconds``. progress(kld, uncertainty,
    chunks_done, chunks) is called after each chunk; a true result cancels
    (CancelledError). The GIL is released while it runs."""
    if (base is None) == (base_logits is None):
        raise invalid_argument("give either base (with text) or base_logits")
    if base_logits is not None and text is not None:
        raise invalid_argument("base_logits holds the text's tokens: give no text with it")
    model_session, own_model = _session(model, threads, "model")
    try:
        if base_logits is not None:
            return _finish(_c.lbpy_kld_from_file(model_session._p(), str(base_logits), progress))
        if text is None:
            raise invalid_argument("text is needed with base")
        base_session, own_base = _session(base, threads, "base")
        try:
            return _finish(_c.lbpy_kld(base_session._p(), model_session._p(), _text_bytes(text, "text"),
                                       _options(context, chunks), progress))  # fmt: skip
        finally:
            if own_base:
                base_session.close()
    finally:
        if own_model:
            model_session.close()


def save_base_logits(base, text, path, context=512, chunks=0, threads=None, progress=None):
    """Evaluates ``base`` (a Session, Model or path) over ``text`` and writes
    its distributions at the scored positions to ``path`` (written
    atomically), for kld(model, base_logits=path). Returns the chunks
    written. progress(chunks_done, chunks) after each chunk; a true result
    cancels."""
    session, own = _session(base, threads, "base")
    try:
        return _finish(_c.lbpy_kld_save_base(session._p(), _text_bytes(text, "text"), _options(context, chunks),
                                             str(path), progress))  # fmt: skip
    finally:
        if own:
            session.close()
