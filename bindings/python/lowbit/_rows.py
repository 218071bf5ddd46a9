"""Tensor types and the row API: quantize and dequantize rows of floats."""

import numpy as np

from . import lowbit_c as _c
from ._errors import check, integer, invalid_argument


def type_id(name):
    """The lb_type id of a tensor type name such as "Q4_0" (case-insensitive,
    as ``lb_type_from_name`` reads it). Raises InvalidArgumentError for a name
    that names no type."""
    if not isinstance(name, str):
        raise invalid_argument(f"a tensor type is a name such as 'Q4_0', not {name!r}")
    status, value = _c.lb_type_from_name(name)
    check(status)
    return value


def type_name(value):
    """The canonical name of lb_type id ``value`` ("Q4_K"), or None."""
    return _c.lb_type_name(value)


def types():
    """The names of the tensor types this build can quantize to (and that
    ``quantize_rows`` accepts), in id order: "F32", "F16", "Q4_0", ..."""
    return [
        _c.lb_type_name(value)
        for value in range(256)
        if _c.lb_type_name(value) is not None and _c.lb_type_can_quantize(value)
    ]


def block_size(type):
    """Elements per block of a type: 1 for F32, F16 and BF16, 32 for Q4_0,
    256 for the K-quants. Rows must be a multiple of it."""
    return _c.lb_type_block_size(type_id(type))


def requires_imatrix(type):
    """True for the types that cannot be quantized without an importance
    matrix (IQ2_XXS, IQ2_XS, IQ1_S, as in llama.cpp): ``quantize_rows``
    raises UnsupportedError for them without ``imatrix``."""
    return bool(_c.lb_type_requires_imatrix(type_id(type)))


def _row_size(value, n_per_row):
    """Bytes of one row of n_per_row elements of lb_type id ``value``."""
    status, size = _c.lb_row_size(value, n_per_row)
    check(status)
    return size


def row_size(type, n_per_row):
    """Bytes taken by one row of ``n_per_row`` elements of ``type``. Raises
    InvalidArgumentError if n_per_row is negative or not a multiple of the
    type's block size."""
    return _row_size(type_id(type), integer(n_per_row, "n_per_row", 0, 2**63 - 1))


def _as_array(x, what, dtype=None):
    """x itself if it is a numpy array, else x converted to one (of dtype, if
    given); InvalidArgumentError if it cannot be."""
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as e:
        raise invalid_argument(f"{what} is not an array: {e}") from e


def as_float32(x, ndim, what):
    """x as a C-contiguous float32 array of ``ndim`` dimensions: x itself if it
    is one, else a converted copy. Real (float or integer) inputs only; anything
    else raises InvalidArgumentError."""
    x = _as_array(x, what)
    if x.dtype.kind not in "fiu":
        raise invalid_argument(f"{what} must hold real numbers, not {x.dtype}")
    if x.ndim != ndim:
        raise invalid_argument(f"{what} must be a {ndim}-D array, not {x.ndim}-D (shape {x.shape})")
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    return x


def quantize_rows(type, x, imatrix=None):
    """Quantizes the rows of ``x`` to ``type`` (a name from ``types()``).

    Args:
        type: the tensor type, e.g. "Q4_K" (case-insensitive).
        x: 2-D array of shape (n_rows, n_per_row), n_per_row a multiple of the
            type's block size. A C-contiguous float32 array is used in place;
            anything else real (float64, a strided view, nested lists) is
            converted to one first.
        imatrix: None, or n_per_row non-negative importance weights (the mean
            squared activation of each column, as llama.cpp's imatrix stores
            them): the quantizer then minimizes the importance-weighted error.
            Types that do not use it ignore it.

    Returns:
        A new uint8 array of shape (n_rows, row_size(type, n_per_row)): each
        row's blocks, as GGUF stores them. The bytes depend only on the inputs.

    Raises:
        InvalidArgumentError: an unknown type; x not 2-D or not real; a row
            width that is not a multiple of the block size; an imatrix of the
            wrong length or with negative or non-finite values.
        FormatError: x holds NaN or an infinity (the message gives the row and
            column).
        UnsupportedError: no quantizer for the type in this build, or a type
            that requires an imatrix without one.

    The GIL is released while the rows are quantized.
    """
    value = type_id(type)
    x = as_float32(x, 2, "x")
    n_rows, n_per_row = x.shape
    row_bytes = _row_size(value, n_per_row)
    if imatrix is not None:
        imatrix = as_float32(imatrix, 1, "imatrix")
        if imatrix.shape[0] != n_per_row:
            raise invalid_argument(
                f"imatrix has {imatrix.shape[0]} values but x has {n_per_row} columns (one weight per column)"
            )
    out = np.empty((n_rows, row_bytes), dtype=np.uint8)
    check(_c.lbpy_quantize_rows(value, x, imatrix, out))
    return out


def dequantize(value, q, n_per_row):
    """dequantize_rows() for lb_type id ``value`` and a uint8 array q whose
    shape is already checked: (n_rows, row bytes)."""
    out = np.empty((q.shape[0], n_per_row), dtype=np.float32)
    check(_c.lbpy_dequantize_rows(value, q, out))
    return out


def dequantize_rows(type, q, n_per_row):
    """Dequantizes rows of ``type`` back to floats.

    Args:
        type: the tensor type of the rows, e.g. "Q4_K" (case-insensitive).
        q: 2-D uint8 array of shape (n_rows, row_size(type, n_per_row)), as
            ``quantize_rows`` returns it. Used in place if C-contiguous.
        n_per_row: elements per row.

    Returns:
        A new float32 array of shape (n_rows, n_per_row), bit-exact with
        llama.cpp's dequantization.

    Raises:
        InvalidArgumentError: an unknown type; q not a 2-D uint8 array; rows
            of the wrong byte length; n_per_row not a multiple of the block size.
        UnsupportedError: no dequantizer for the type in this build.

    The GIL is released while the rows are dequantized.
    """
    value = type_id(type)
    n_per_row = integer(n_per_row, "n_per_row", 0, 2**63 - 1)
    row_bytes = _row_size(value, n_per_row)
    q = _as_array(q, "q", dtype=np.uint8)
    if q.dtype != np.uint8:
        raise invalid_argument(f"q must be a uint8 array (as quantize_rows returns), not {q.dtype}")
    if q.ndim != 2:
        raise invalid_argument(f"q must be a 2-D array (n_rows, row bytes), not {q.ndim}-D (shape {q.shape})")
    if q.shape[1] != row_bytes:
        raise invalid_argument(
            f"q has rows of {q.shape[1]} bytes, but a row of {n_per_row} elements of "
            f"{_c.lb_type_name(value)} takes {row_bytes}"
        )
    return dequantize(value, np.ascontiguousarray(q), n_per_row)
