"""Exceptions: one class per lb_status code of the C library."""

import operator

from . import lowbit_c as _c


class Error(Exception):
    """A lowbit operation failed.

    Attributes:
        status: the C library's lb_status code (a negative int, e.g.
            ``lowbit_c.LB_E_FORMAT``).
        message: the library's message (``lb_last_error()``), which names the
            file, tensor, key or argument at fault. ``str(error)`` is this
            message.

    Each status has its own subclass, which also derives from the matching
    built-in exception where there is one (``FileError`` is an ``OSError``,
    ``NotFoundError`` a ``KeyError``, ...).
    """

    def __init__(self, status, message):
        """Makes the exception for ``status`` with ``message``."""
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self):
        """The message, as the library wrote it (never repr-quoted)."""
        return self.message

    def __reduce__(self):
        """Pickles as ``type(self)(status, message)``."""
        return (type(self), (self.status, self.message))


class FileError(Error, OSError):
    """A file could not be opened, mapped, read, written, synced or renamed
    (LB_E_IO). The message names the file."""


class FormatError(Error, ValueError):
    """The input is malformed: not GGUF, a failed validation, NaN or infinity
    in tensor data or rows, a malformed imatrix (LB_E_FORMAT)."""


class UnsupportedError(Error):
    """The input is valid but lowbit cannot handle it: a type without a
    (de)quantizer in this build, an already quantized tensor without
    ``allow_requantize``, a GGUF version from the future (LB_E_UNSUPPORTED)."""


class InvalidArgumentError(Error, ValueError):
    """A caller error: an unknown type name, a bad option value, an array of
    the wrong shape or dtype, a closed model (LB_E_INVALID_ARG)."""


class OutOfMemoryError(Error, MemoryError):
    """Memory could not be allocated (LB_E_NOMEM)."""


class CancelledError(Error):
    """The work was cancelled: by ``Quantizer.cancel()`` or by a progress
    callback that returned False (LB_E_CANCELLED)."""


class NotFoundError(Error, KeyError):
    """A metadata key or tensor looked up by name does not exist
    (LB_E_NOT_FOUND). The message names it and the file."""


class TypeMismatchError(Error, TypeError):
    """A metadata value was read as a type it does not have (LB_E_TYPE)."""


class InternalError(Error):
    """A bug in lowbit (LB_E_INTERNAL). Please report it with the message."""


_CLASSES = {
    _c.LB_E_IO: FileError,
    _c.LB_E_FORMAT: FormatError,
    _c.LB_E_UNSUPPORTED: UnsupportedError,
    _c.LB_E_INVALID_ARG: InvalidArgumentError,
    _c.LB_E_NOMEM: OutOfMemoryError,
    _c.LB_E_CANCELLED: CancelledError,
    _c.LB_E_NOT_FOUND: NotFoundError,
    _c.LB_E_TYPE: TypeMismatchError,
    _c.LB_E_INTERNAL: InternalError,
}


def error_for(status, message):
    """The exception for a failed status: an instance of its Error subclass
    (``Error`` itself for a code this module does not know)."""
    return _CLASSES.get(status, Error)(status, message)


def check(status):
    """Raises the exception for ``status`` with ``lb_last_error()``'s message
    unless it is LB_OK. Call it right after the failing C call, on the same
    thread: the message is the thread's last error."""
    if status != _c.LB_OK:
        raise error_for(status, _c.lb_last_error())


def invalid_argument(message):
    """An InvalidArgumentError raised by the Python layer itself (an argument
    checked before it reaches the C library)."""
    return InvalidArgumentError(_c.LB_E_INVALID_ARG, message)


def integer(value, what, low=None, high=None):
    """value as a Python int (from any integer type) within [low, high] (each
    bound optional); InvalidArgumentError naming ``what`` otherwise."""
    try:
        value = operator.index(value)
    except TypeError:
        raise invalid_argument(f"{what} must be an integer, not {value!r}") from None
    if low is not None and value < low:
        raise invalid_argument(f"{what} must be >= {low}, not {value}")
    if high is not None and value > high:
        raise invalid_argument(f"{what} must be <= {high}, not {value}")
    return value
