"""Models: GGUF files opened for reading, their metadata and tensors."""

import math
import os

from . import lowbit_c as _c
from ._errors import InternalError, check, invalid_argument
from ._rows import dequantize, type_name

_SIGNED = (_c.LB_VALUE_I8, _c.LB_VALUE_I16, _c.LB_VALUE_I32, _c.LB_VALUE_I64)
_UNSIGNED = (_c.LB_VALUE_U8, _c.LB_VALUE_U16, _c.LB_VALUE_U32, _c.LB_VALUE_U64)
_FLOATS = (_c.LB_VALUE_F32, _c.LB_VALUE_F64)


def _text(raw):
    """A GGUF string (bytes, meant to be UTF-8) as str; invalid UTF-8 bytes
    become U+FFFD."""
    return raw.decode("utf-8", "replace")


class _ModelHandle:
    """Owns one lb_model and closes it (lb_model_close) when the last
    reference to the handle goes. The Model that opened it, its Tensor
    objects and the numpy arrays that view its data (as their base) hold
    one each, so the mapped data outlives Model.close() as long as needed."""

    __slots__ = ("pointer", "__weakref__")

    def __init__(self, pointer):
        """Takes ownership of ``pointer``, an lb_model from lbpy_model_open."""
        self.pointer = pointer

    def __del__(self, _close=_c.lb_model_close):
        """Closes the lb_model."""
        _close(self.pointer)


class Tensor:
    """One tensor of a Model.

    Attributes:
        name: the tensor's name, e.g. "blk.0.attn_q.weight".
        type: its type name, e.g. "F32" or "Q4_K".
        shape: its dimensions in GGUF order, as a tuple: shape[0] is the row
            width (the contiguous dimension). numpy shapes are the reverse.
        n_elements: the number of elements.
        nbytes: the size of its data in bytes.
        offset: where its data starts in its file (the shard ``shard``).
        shard: the file (0-based) of a split model that holds it.

    A Tensor keeps its model's data open: it, and the arrays ``data``
    returns, stay valid after ``Model.close()``; the file is unmapped when
    the Model, its Tensors and those arrays are all gone.
    """

    __slots__ = (
        "_handle", "_index", "_type_id", "name", "type", "shape", "n_elements", "nbytes", "offset", "shard",
    )  # fmt: skip

    def __init__(self, handle, index):
        """Describes tensor ``index`` of the model ``handle`` owns."""
        pointer = handle.pointer
        self._handle = handle
        self._index = index
        self._type_id = _c.lb_model_tensor_type(pointer, index)
        self.name = _c.lb_model_tensor_name(pointer, index)
        self.type = type_name(self._type_id)
        n_dims = _c.lb_model_tensor_n_dims(pointer, index)
        self.shape = tuple(_c.lb_model_tensor_dim(pointer, index, d) for d in range(n_dims))
        self.n_elements = _c.lb_model_tensor_n_elements(pointer, index)
        self.nbytes = _c.lb_model_tensor_size(pointer, index)
        self.offset = _c.lb_model_tensor_file_offset(pointer, index)
        self.shard = _c.lb_model_tensor_shard(pointer, index)

    def _view(self, raw):
        """lbpy_tensor_array: the data viewed in place, based on the handle."""
        status, array = _c.lbpy_tensor_array(self._handle.pointer, self._index, self._handle, raw)
        check(status)
        return array

    @property
    def data(self):
        """The tensor's bytes in the mapped file as a read-only numpy array,
        without a copy (the layout gguf-py uses).

        Types stored element by element get their numpy dtype: F32 float32,
        F16 float16, F64 float64, I8..I64 int8..int64, and BF16 uint16 (its
        raw bits: numpy has no bfloat16; ``dequantize()`` gives the values).
        Their numpy shape is ``shape`` reversed. Block types (Q4_0, Q4_K, ...)
        are uint8 with shape (reversed outer dimensions..., bytes per row).

        The array's base keeps the model's file mapped while the array lives,
        even after ``Model.close()``.
        """
        return self._view(0)

    def dequantize(self):
        """The tensor's values as a new float32 array of numpy shape
        ``shape`` reversed, converted by lb_dequantize_rows (bit-exact with
        llama.cpp). Works for F32, F16, BF16 and every block type this build
        can read; raises UnsupportedError for the others (integer types, ...).
        The GIL is released during the conversion."""
        n_per_row = self.shape[0]
        n_rows = math.prod(self.shape[1:])
        status, row_bytes = _c.lb_row_size(self._type_id, n_per_row)
        check(status)
        rows = self._view(1).reshape(n_rows, row_bytes)
        return dequantize(self._type_id, rows, n_per_row).reshape(tuple(reversed(self.shape)))

    def __repr__(self):
        """<lowbit.Tensor 'name' TYPE shape>"""
        return f"<lowbit.Tensor {self.name!r} {self.type} {self.shape}>"


class Model:
    """A GGUF model opened for reading: ``Model(path)``.

    Opening maps the file and validates all of it (header, every metadata key
    and value, every tensor's name, shape, type and data range); the first
    shard of a split model ("name-00001-of-00003.gguf") opens every shard as
    one model. The GIL is released while the file is opened.

    A Model is a context manager; ``close()`` (or leaving the ``with``
    block) releases it. Its Tensor objects and their data arrays keep the
    file mapped until they are gone too. Using a closed Model raises
    InvalidArgumentError.

    Raises (when opening):
        FileError: the file cannot be opened or mapped, or a shard is missing.
        FormatError: not GGUF, truncated, or a validation failed (the message
            names the file and the key or tensor).
        UnsupportedError: GGUF version 1 or newer than 3, big-endian file.
        InvalidArgumentError: a shard other than the first of a split model.
    """

    def __init__(self, path):
        """Opens the GGUF file at ``path`` (str or os.PathLike)."""
        path = os.fsdecode(os.fspath(path))
        self._path = path
        self._handle = None
        self._tensors = None
        status, pointer = _c.lbpy_model_open(path)
        check(status)
        self._handle = _ModelHandle(pointer)

    def _pointer(self):
        """The lb_model pointer; InvalidArgumentError if the model is closed."""
        if self._handle is None:
            raise invalid_argument(f"{self._path}: model is closed")
        return self._handle.pointer

    def close(self):
        """Releases the model. Its Tensors and data arrays that are still
        referenced keep the file mapped until they go. Closing twice is
        harmless."""
        self._handle = None
        self._tensors = None

    @property
    def closed(self):
        """True once ``close()`` was called."""
        return self._handle is None

    def __enter__(self):
        """Returns the model itself."""
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        """Closes the model."""
        self.close()

    @property
    def path(self):
        """The path the model was opened from."""
        return _c.lb_model_path(self._pointer())

    @property
    def gguf_version(self):
        """The GGUF format version of the file (2 or 3)."""
        return _c.lb_model_gguf_version(self._pointer())

    @property
    def alignment(self):
        """The data alignment of the file (general.alignment, default 32)."""
        return _c.lb_model_alignment(self._pointer())

    @property
    def file_size(self):
        """The size in bytes of the (first shard's) file."""
        return _c.lb_model_file_size(self._pointer())

    @property
    def shard_count(self):
        """The number of files the model was read from (1 unless split; a
        checkpoint's safetensors files)."""
        return _c.lb_model_shard_count(self._pointer())

    @property
    def is_checkpoint(self):
        """Whether the model is a Hugging Face checkpoint (a folder or an
        archive of one), read as the GGUF file lowbit.convert(..., "F32")
        would write."""
        return bool(_c.lb_model_is_checkpoint(self._pointer()))

    @property
    def data_offset(self):
        """The file offset where the tensor data section starts."""
        return _c.lb_model_data_offset(self._pointer())

    @property
    def warnings(self):
        """What the reader accepted, as ggml does, but found not quite right
        (a bool byte other than 0 or 1, a NUL byte in a key or tensor name):
        a list of messages naming the file and the key or tensor."""
        pointer = self._pointer()
        return [_c.lb_model_warning(pointer, i) for i in range(_c.lb_model_warning_count(pointer))]

    @property
    def metadata(self):
        """The metadata as a new dict, in file order.

        Integers (of every width), floats and bools are Python scalars,
        strings are str (invalid UTF-8 bytes become U+FFFD), arrays of strings
        are lists of str, and numeric or bool arrays are numpy arrays (copies)
        of the matching dtype (u32 -> uint32, f32 -> float32, bool -> bool...).
        GGUF has no nested arrays (the reader rejects arrays of arrays).
        """
        pointer = self._pointer()
        count = _c.lb_model_kv_count(pointer)
        return {_c.lb_model_kv_key(pointer, i): self._value(pointer, i) for i in range(count)}

    def _value(self, pointer, i):
        """Metadata value i as a Python object (see ``metadata``)."""
        kind = _c.lb_model_kv_type(pointer, i)
        if kind in _SIGNED:
            status, value = _c.lb_model_kv_get_int(pointer, i)
        elif kind in _UNSIGNED:
            status, value = _c.lb_model_kv_get_uint(pointer, i)
        elif kind in _FLOATS:
            status, value = _c.lb_model_kv_get_float(pointer, i)
        elif kind == _c.LB_VALUE_BOOL:
            status, value = _c.lb_model_kv_get_bool(pointer, i)
            value = bool(value)
        elif kind == _c.LB_VALUE_STRING:
            status, value = _c.lbpy_kv_string(pointer, i)
            value = _text(value) if status == _c.LB_OK else None
        elif kind == _c.LB_VALUE_ARRAY:
            status, element, _ = _c.lb_model_kv_get_array_info(pointer, i)
            check(status)
            if element == _c.LB_VALUE_STRING:
                status, value = _c.lbpy_kv_array_strings(pointer, i)
                value = [_text(item) for item in value] if status == _c.LB_OK else None
            else:
                status, value = _c.lbpy_kv_array_numeric(pointer, i)
        else:
            key = _c.lb_model_kv_key(pointer, i)
            raise InternalError(_c.LB_E_INTERNAL, f"{self._path}: key {key!r} has value type {kind}")
        check(status)
        return value

    @property
    def tensors(self):
        """The tensors, in file order, as a new list of Tensor."""
        return list(self._tensor_list())

    def _tensor_list(self):
        """The Tensor objects, made once."""
        pointer = self._pointer()
        if self._tensors is None:
            self._tensors = [Tensor(self._handle, i) for i in range(_c.lb_model_tensor_count(pointer))]
        return self._tensors

    def tensor(self, name):
        """The tensor called ``name``; NotFoundError (a KeyError) naming it
        and the file if there is none."""
        status, index = _c.lb_model_tensor_find(self._pointer(), name)
        check(status)
        return self._tensor_list()[index]

    def repack(self, path, layout):
        """Writes the model's file again to ``path`` (atomically; it may be the
        model's own) with its matrices in ``layout``: ``"q8r16"`` (Q8_0 matrices
        with a multiple of 16 rows as lowbit's Q8R16), ``"q4_k_4"`` (Q4_K, 4
        rows) or ``"standard"`` (every tensor in its GGUF type). Lossless both
        ways; only lowbit reads the tiled types (docs/formats.md). Returns the
        number of tiled tensors written. InvalidArgumentError for an unknown
        layout, UnsupportedError for a split model or a checkpoint."""
        status, tiled = _c.lb_model_repack(self._pointer(), os.fsdecode(os.fspath(path)), layout)
        check(status)
        return tiled

    def __len__(self):
        """The number of tensors."""
        return _c.lb_model_tensor_count(self._pointer())

    def __iter__(self):
        """Iterates over the tensors in file order."""
        return iter(self._tensor_list())

    def __repr__(self):
        """<lowbit.Model 'path' GGUF v3, N keys, M tensors>, or (closed)."""
        if self._handle is None:
            return f"<lowbit.Model {self._path!r} (closed)>"
        pointer = self._handle.pointer
        return (
            f"<lowbit.Model {self._path!r} GGUF v{_c.lb_model_gguf_version(pointer)}, "
            f"{_c.lb_model_kv_count(pointer)} keys, {_c.lb_model_tensor_count(pointer)} tensors>"
        )
