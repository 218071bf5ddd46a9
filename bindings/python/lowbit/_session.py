"""lowbit.Session: run a model (tokenize, evaluate, perplexity, generate)."""

import collections

import numpy as np

from . import lowbit_c as _c
from ._errors import check, error_for, integer, invalid_argument
from ._model import Model

Perplexity = collections.namedtuple(
    "Perplexity", "perplexity uncertainty mean_nll n_tokens n_chunks n_scored seconds"
)
Perplexity.__doc__ = """The result of Session.perplexity(): the perplexity,
its standard error as llama-perplexity prints it, the mean negative
log-likelihood, the tokens of the text (BOS included), the chunks and
predictions scored, and the seconds it took."""


def _text_bytes(text, what):
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    raise invalid_argument(f"{what} must be str or bytes, not {type(text).__name__}")


def _finish(result):
    """Raises the error of a (status, message, ...) result; returns the rest."""
    status, message = result[0], result[1]
    if status != _c.LB_OK:
        raise error_for(status, message)
    return result[2] if len(result) > 2 else None


class Session:
    """Runs a model: its tokenizer, a key/value cache and the forward pass.

    ``Session(model)`` takes a ``lowbit.Model`` (kept open while the session
    lives) or a path. Options (keyword arguments or attributes): ``threads``
    (0: all hardware threads), ``context`` (tokens the cache holds; 0: the
    model's, up to 4096), ``batch`` (tokens per forward step),
    ``cache_type`` ("F16" or "F32").

    Raises UnsupportedError for an architecture, tokenizer or tensor type it
    cannot run, FormatError for missing or misshapen tensors.
    """

    def __init__(self, model, threads=None, context=None, batch=None, cache_type=None):
        """Opens a session on ``model`` (a Model or a path)."""
        self._model = model if isinstance(model, Model) else Model(model)
        self._pointer = None
        status, pointer = _c.lbpy_session_new(self._model._pointer())
        check(status)
        self._pointer = pointer
        for name, value in (("threads", threads), ("context", context), ("batch", batch),
                            ("cache_type", cache_type)):  # fmt: skip
            if value is not None:
                setattr(self, name, value)

    def __del__(self):
        """Releases the session."""
        if getattr(self, "_pointer", None) is not None:
            _c.lb_session_free(self._pointer)
            self._pointer = None

    def close(self):
        """Releases the session now. Closing twice is harmless."""
        self.__del__()

    def __enter__(self):
        """Returns the session itself."""
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        """Closes the session."""
        self.close()

    def _p(self):
        if self._pointer is None:
            raise invalid_argument("session is closed")
        return self._pointer

    def _get(self, param):
        status, value = _c.lb_session_get_param(self._p(), param)
        check(status)
        return value

    def _set(self, param, value):
        check(_c.lb_session_set_param(self._p(), param, value))

    threads = property(lambda self: self._get(_c.LB_SESSION_THREADS),
                       lambda self, v: self._set(_c.LB_SESSION_THREADS, integer(v, "threads", 0)),
                       doc="Worker threads (0: all hardware threads).")
    context = property(lambda self: self._get(_c.LB_SESSION_CONTEXT),
                       lambda self, v: self._set(_c.LB_SESSION_CONTEXT, integer(v, "context", 0)),
                       doc="Tokens the cache holds (0: the model's, up to 4096). Setting it empties the cache.")
    batch = property(lambda self: self._get(_c.LB_SESSION_BATCH),
                     lambda self, v: self._set(_c.LB_SESSION_BATCH, integer(v, "batch", 1)),
                     doc="Tokens per forward step.")

    @property
    def cache_type(self):
        """The cache's element type, "F16" or "F32". Setting it empties the cache."""
        return _c.lb_type_name(self._get(_c.LB_SESSION_CACHE_TYPE))

    @cache_type.setter
    def cache_type(self, value):
        ids = {"F16": _c.LB_TYPE_F16, "F32": _c.LB_TYPE_F32}
        if str(value).upper() not in ids:
            raise invalid_argument(f"cache_type must be 'F16' or 'F32', not {value!r}")
        self._set(_c.LB_SESSION_CACHE_TYPE, ids[str(value).upper()])

    @property
    def vocab_size(self):
        """Tokens of the vocabulary: the width of a row of logits."""
        return _c.lb_session_vocab_size(self._p())

    @property
    def position(self):
        """Tokens in the cache: the position of the next token."""
        return _c.lb_session_position(self._p())

    def special_token(self, name):
        """The id of "bos", "eos", "unk", "pad" or "eot", or None."""
        ids = {"bos": _c.LB_TOKEN_BOS, "eos": _c.LB_TOKEN_EOS, "unk": _c.LB_TOKEN_UNK, "pad": _c.LB_TOKEN_PAD,
               "eot": _c.LB_TOKEN_EOT}  # fmt: skip
        if name not in ids:
            raise invalid_argument(f"special token must be one of {sorted(ids)}, not {name!r}")
        token = _c.lb_session_special_token(self._p(), ids[name])
        return None if token < 0 else token

    def tokenize(self, text, add_special=True, parse_special=False):
        """The token ids of ``text`` (str or bytes) as an int32 array, as
        llama.cpp's llama_tokenize gives them. add_special: BOS (and EOS) as
        the vocabulary asks; parse_special: text like "</s>" becomes the
        control token."""
        flags = (_c.LB_TOKENIZE_ADD_SPECIAL if add_special else 0) | (
            _c.LB_TOKENIZE_PARSE_SPECIAL if parse_special else 0
        )
        status, tokens = _c.lbpy_session_tokenize(self._p(), _text_bytes(text, "text"), flags)
        check(status)
        return tokens

    def _tokens(self, tokens):
        array = np.ascontiguousarray(tokens, dtype=np.int32)
        if array.ndim != 1:
            raise invalid_argument(f"tokens must be 1-D, not of shape {array.shape}")
        return array

    def detokenize(self, tokens, special=False, errors="replace"):
        """The text of ``tokens`` (str, invalid UTF-8 handled by ``errors``;
        errors=None gives bytes). special: control tokens as their text."""
        status, text = _c.lbpy_session_detokenize(self._p(), self._tokens(tokens), 1 if special else 0)
        check(status)
        return text if errors is None else text.decode("utf-8", errors)

    def clear(self):
        """Empties the cache."""
        check(_c.lb_session_clear(self._p()))

    def eval(self, tokens, outputs=None):
        """Evaluates ``tokens`` after those in the cache and returns the logits
        kept, as a float32 array (kept rows, vocab_size): of the last token, or
        with ``outputs`` (one bool per token, or True for all) of those marked.
        The GIL is released; Ctrl-C cancels (CancelledError is not raised,
        the KeyboardInterrupt is)."""
        tokens = self._tokens(tokens)
        if outputs is True:
            flags = np.ones(len(tokens), dtype=np.uint8)
        elif outputs is None:
            flags = None
        else:
            flags = np.ascontiguousarray(outputs, dtype=np.uint8)
            if flags.shape != tokens.shape:
                raise invalid_argument(f"outputs has {flags.size} flags for {tokens.size} tokens")
        _finish(_c.lbpy_session_eval(self._p(), tokens, flags))
        return _c.lbpy_session_logits(self._p())

    def logits(self, text, add_special=True):
        """The logits of every position of ``text`` evaluated from an empty
        cache: a float32 array (tokens, vocab_size)."""
        tokens = self.tokenize(text, add_special=add_special)
        self.clear()
        return self.eval(tokens, outputs=True)

    def perplexity(self, text, context=512, chunks=0, progress=None):
        """llama-perplexity's score of ``text``: chunks of ``context`` tokens
        (BOS first), the second half of each scored; ``chunks`` limits their
        number (0: all). progress(perplexity, uncertainty, chunks_done,
        chunks) is called after each chunk; a true result cancels. Returns a
        Perplexity."""
        context = integer(context, "context", 2)
        chunks = integer(chunks, "chunks", 0)
        result = _finish(_c.lbpy_session_perplexity(self._p(), _text_bytes(text, "text"), context, chunks,
                                                    progress))  # fmt: skip
        return Perplexity(*result)

    def generate(self, prompt, max_tokens=64, temperature=0.0, top_k=40, top_p=0.95, seed=0, stop_at_end=True,
                 on_token=None):
        """Continues ``prompt`` by up to ``max_tokens`` tokens (the most likely
        each time at temperature 0) and returns the text generated.
        on_token(token, piece bytes) is called for each; a true result
        stops."""
        o = _c.lb_generate_options()
        check(_c.lb_generate_options_init(o, _c.LB_GENERATE_OPTIONS_VERSION))
        o.max_tokens = integer(max_tokens, "max_tokens", 0)
        o.temperature = float(temperature)
        o.top_k = integer(top_k, "top_k", 0)
        o.top_p = float(top_p)
        o.seed = integer(seed, "seed", 0)
        o.stop_at_end = 1 if stop_at_end else 0
        tokens = _finish(_c.lbpy_session_generate(self._p(), _text_bytes(prompt, "prompt"), o, on_token))
        return self.detokenize(tokens)
