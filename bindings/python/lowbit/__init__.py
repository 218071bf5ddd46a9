"""lowbit: quantize large language models into GGUF files.

The Python interface of liblowbit (include/lowbit/lowbit.h)::

    import lowbit

    with lowbit.Model("model-f16.gguf") as model:
        print(model.metadata["general.architecture"], len(model))
        weights = model.tensor("blk.0.attn_q.weight").data   # numpy, no copy

    result = lowbit.quantize("model-f16.gguf", "model-q4_k_m.gguf", "Q4_K_M")

    q = lowbit.quantize_rows("Q8_0", x)                 # x: (n_rows, n_per_row)
    y = lowbit.dequantize_rows("Q8_0", q, x.shape[1])

Everything that fails raises a subclass of ``lowbit.Error`` whose message
names the file, tensor, key or argument at fault. Long operations (opening a
model, quantizing, the row API) release the GIL.
"""

from . import lowbit_c as _c
from ._errors import (
    CancelledError,
    Error,
    FileError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfMemoryError,
    TypeMismatchError,
    UnsupportedError,
)
from ._compare import compare, tensor_errors
from ._convert import convert
from ._imatrix import imatrix, read_imatrix
from ._kld import kld, save_base_logits
from ._model import Model, Tensor
from ._quantize import PlanEntry, Progress, QuantizeResult, Quantizer, quantize
from ._rows import block_size, dequantize_rows, quantize_rows, requires_imatrix, row_size, types
from ._session import Perplexity, Session
from ._synth import convert_imatrix, synth_checkpoint, synth_imatrix, synth_model

__all__ = [
    "CancelledError",
    "Error",
    "FileError",
    "FormatError",
    "InternalError",
    "InvalidArgumentError",
    "Model",
    "NotFoundError",
    "OutOfMemoryError",
    "Perplexity",
    "PlanEntry",
    "Progress",
    "QuantizeResult",
    "Quantizer",
    "Session",
    "Tensor",
    "TypeMismatchError",
    "UnsupportedError",
    "block_size",
    "convert",
    "compare",
    "convert_imatrix",
    "dequantize_rows",
    "imatrix",
    "kld",
    "kernels",
    "ftypes",
    "library_path",
    "quantize",
    "quantize_rows",
    "read_imatrix",
    "requires_imatrix",
    "save_base_logits",
    "row_size",
    "synth_checkpoint",
    "synth_imatrix",
    "synth_model",
    "tensor_errors",
    "types",
    "version",
]

# The public classes present themselves as lowbit.X (in reprs, tracebacks
# and pickles), not as the private module that defines them.
for _cls in (
    CancelledError,
    Error,
    FileError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfMemoryError,
    TypeMismatchError,
    UnsupportedError,
    Model,
    Tensor,
    PlanEntry,
    Progress,
    QuantizeResult,
    Quantizer,
    Perplexity,
    Session,
):
    _cls.__module__ = __name__
del _cls


def version():
    """The version of the liblowbit actually loaded, "MAJOR.MINOR.PATCH"."""
    return _c.lb_version()


__version__ = version()


def kernels():
    """The kernel sets of liblowbit on this machine, as a dict:

    - "active": the set in use ("avx512", "avx2", "generic" or "scalar"), the
      fastest this CPU runs unless the environment variable LOWBIT_KERNELS
      named another one that runs here when the library first needed one;
    - "available": the sets of this build that run on this CPU, slowest first;
    - "cpu_features": the instruction-set extensions the sets use that this
      CPU and its operating system offer ("avx2", "fma", "avx512f", ...).

    Every set writes the same bytes; dot products agree within float rounding.
    """
    names = [_c.lb_kernels_name(i) for i in range(_c.lb_kernels_count())]
    return {
        "active": _c.lb_kernels_active(),
        "available": [n for n in names if _c.lb_kernels_available(n)],
        "cpu_features": _c.lb_cpu_features().split(),
    }


def library_path():
    """The file of the liblowbit shared library this module uses, as the
    dynamic loader found it (e.g. /usr/lib/x86_64-linux-gnu/liblowbit.so.0),
    or None if it cannot be told."""
    return _c.lbpy_library_path()


def ftypes():
    """The names of the file types ``quantize`` can produce in this build,
    in llama.cpp's id order ("F32", "F16", "Q4_0", ..., "Q4_K_M", ...), as
    ``lowbit quantize`` lists them (without "COPY", which is also accepted)."""
    names = []
    for value in range(64):
        name = _c.lb_ftype_name(value)
        if name is not None and _c.lb_ftype_is_supported(value):
            names.append(name)
    return names
