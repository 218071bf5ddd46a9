"""Fixtures of the lowbit Python tests.

The tests run against whichever lowbit package Python imports: the build
tree's (PYTHONPATH=build/release/python, as CTest sets it) or an installed
one. They find the repository's model relative to this file, liblowbit
through the imported module, and the lowbit CLI through $LOWBIT_CLI or PATH.
"""

import ctypes
import os
import pathlib
import shutil

import lowbit
import pytest

MODEL = pathlib.Path(__file__).resolve().parent.parent.parent / "models" / "stories260K.gguf"


@pytest.fixture(scope="session")
def model_path():
    """The shipped test model, stories260K.gguf (F32, 48 tensors)."""
    assert MODEL.is_file(), f"the test model {MODEL} is missing"
    return MODEL


@pytest.fixture(scope="session")
def lib():
    """liblowbit, loaded through ctypes from the file the lowbit module uses:
    an access to the C API that does not go through the bindings."""
    path = lowbit.library_path()
    assert path is not None, "lowbit.library_path() cannot tell where liblowbit is"
    lib = ctypes.CDLL(path)
    lib.lb_type_from_name.argtypes = [ctypes.POINTER(ctypes.c_int), ctypes.c_char_p]
    lib.lb_type_from_name.restype = ctypes.c_int
    lib.lb_type_name.argtypes = [ctypes.c_int]
    lib.lb_type_name.restype = ctypes.c_char_p
    lib.lb_type_can_quantize.argtypes = [ctypes.c_int]
    lib.lb_type_can_quantize.restype = ctypes.c_int
    lib.lb_type_block_size.argtypes = [ctypes.c_int]
    lib.lb_type_block_size.restype = ctypes.c_int64
    lib.lb_row_size.argtypes = [ctypes.POINTER(ctypes.c_size_t), ctypes.c_int, ctypes.c_int64]
    lib.lb_row_size.restype = ctypes.c_int
    lib.lb_quantize_rows.argtypes = [
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    lib.lb_quantize_rows.restype = ctypes.c_int
    lib.lb_dequantize_rows.argtypes = [
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_void_p,
    ]
    lib.lb_dequantize_rows.restype = ctypes.c_int
    lib.lb_last_error.argtypes = []
    lib.lb_last_error.restype = ctypes.c_char_p
    return lib


@pytest.fixture(scope="session")
def cli():
    """The lowbit command-line tool: $LOWBIT_CLI, else `lowbit` on PATH. The
    tests that compare with it fail (never skip) without it."""
    path = os.environ.get("LOWBIT_CLI") or shutil.which("lowbit")
    if not path:
        pytest.fail("the lowbit CLI is needed: set LOWBIT_CLI to its path or put `lowbit` on PATH")
    assert os.access(path, os.X_OK), f"LOWBIT_CLI={path} is not an executable"
    return path


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory):
    """A small synthetic model (2 layers, n_embd 256: K-quants without
    fallbacks) and its importance matrix."""
    folder = tmp_path_factory.mktemp("synth_small")
    model, imatrix = folder / "small.gguf", folder / "small.imatrix.gguf"
    lowbit.synth_model(model, n_layer=2, n_embd=256, n_ff=512, seed=7)
    lowbit.synth_imatrix(imatrix, n_layer=2, n_embd=256, n_ff=512, seed=7)
    return model, imatrix


@pytest.fixture(scope="session")
def synth_large(tmp_path_factory):
    """A synthetic model whose Q4_K_M run takes a few tenths of a second on
    one thread: long enough to act on it while it runs."""
    path = tmp_path_factory.mktemp("synth_large") / "large.gguf"
    lowbit.synth_model(path, n_layer=2, n_embd=512, n_ff=1536, seed=3)
    return path
