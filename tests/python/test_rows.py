"""The row API: lowbit.quantize_rows / dequantize_rows compared bit for bit
with liblowbit's lb_quantize_rows / lb_dequantize_rows called through ctypes,
their shapes and dtypes, when they copy their input, their error, and the
GIL."""

import ctypes
import tracemalloc

import lowbit
import numpy as np
import pytest
from gguf_file import TYPES
from helpers import ticks_during_long_enough

N_PER_ROW = 512  # a multiple of every block size
ALL_TYPES = lowbit.types()

# Relative RMSE of a round trip of the Gaussian rows below: upper bounds,
# about 1.4 times the errors measured with the seeds used.
RMSE_BOUND = {
    "F32": 0.0,
    "F16": 5e-4,
    "BF16": 3e-3,
    "Q8_0": 0.01,
    "Q6_K": 0.03,
    "Q5_0": 0.08,
    "Q5_1": 0.065,
    "Q5_K": 0.06,
    "Q4_0": 0.155,
    "Q4_1": 0.13,
    "Q4_K": 0.12,
    "Q3_K": 0.25,
    "Q2_K": 0.42,
    "IQ4_NL": 0.125,
    "IQ4_XS": 0.125,
    "NVFP4": 0.12,
    "MXFP4": 0.175,
    "Q2_0": 0.59,
    "TQ1_0": 0.75,
    "TQ2_0": 0.75,
    "Q1_0": 0.985,
    "IQ3_S": 0.21,
    "IQ3_XXS": 0.27,
    "IQ2_S": 0.39,
    "IQ2_XS": 0.43,
    "IQ2_XXS": 0.5,
    "IQ1_M": 0.63,
    "IQ1_S": 0.71,
}


def rows(seed, n_rows=24, n_per_row=N_PER_ROW):
    """Gaussian rows with a spread of row and column scales."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, n_per_row))
    x *= np.exp(rng.normal(0.0, 0.5, size=(n_rows, 1)))
    x *= np.exp(rng.normal(0.0, 0.5, size=(1, n_per_row)))
    return x.astype(np.float32)


def importance(seed, n_per_row=N_PER_ROW):
    """Positive importance weights with a log-normal spread."""
    return np.exp(np.random.default_rng(seed).normal(0.0, 1.0, n_per_row)).astype(np.float32)


def c_type(lib, name):
    """The lb_type id of name, through ctypes."""
    out = ctypes.c_int(-1)
    assert lib.lb_type_from_name(ctypes.byref(out), name.encode()) == 0, lib.lb_last_error()
    return out.value


def c_row_size(lib, type_id, n_per_row):
    """lb_row_size through ctypes."""
    out = ctypes.c_size_t(0)
    assert lib.lb_row_size(ctypes.byref(out), type_id, n_per_row) == 0, lib.lb_last_error()
    return out.value


def c_quantize(lib, name, x, imatrix):
    """lb_quantize_rows through ctypes, on ctypes buffers: the bytes."""
    type_id = c_type(lib, name)
    n_rows, n_per_row = x.shape
    src = ctypes.create_string_buffer(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    weights = None if imatrix is None else ctypes.create_string_buffer(imatrix.astype(np.float32).tobytes())
    size = n_rows * c_row_size(lib, type_id, n_per_row)
    dst = ctypes.create_string_buffer(size)
    status = lib.lb_quantize_rows(type_id, src, n_rows, n_per_row, weights, dst, size)
    assert status == 0, lib.lb_last_error()
    return dst.raw[:size]


def c_dequantize(lib, name, q, n_rows, n_per_row):
    """lb_dequantize_rows through ctypes: the float32 bytes."""
    type_id = c_type(lib, name)
    src = ctypes.create_string_buffer(q)
    dst = ctypes.create_string_buffer(n_rows * n_per_row * 4)
    status = lib.lb_dequantize_rows(type_id, src, len(q), n_rows, n_per_row, dst)
    assert status == 0, lib.lb_last_error()
    return dst.raw[: n_rows * n_per_row * 4]


def test_types_are_those_the_library_can_quantize(lib):
    expected = []
    for type_id in range(64):
        name = lib.lb_type_name(type_id)
        if name is not None and lib.lb_type_can_quantize(type_id):
            expected.append(name.decode())
    assert ALL_TYPES == expected
    # the formats this release documents
    documented = "F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K".split()
    assert set(documented) <= set(ALL_TYPES)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_block_and_row_sizes_follow_ggml(name, lib):
    type_id = [i for i, (n, _, _) in TYPES.items() if n == name][0]
    _, block, block_bytes = TYPES[type_id]
    assert lowbit.block_size(name) == block
    assert lowbit.block_size(name.lower()) == block
    assert lowbit.row_size(name, 1024) == 1024 // block * block_bytes
    assert lowbit.row_size(name, 1024) == c_row_size(lib, c_type(lib, name), 1024)
    assert lowbit.row_size(name, 0) == 0


@pytest.mark.parametrize("with_imatrix", [False, True], ids=["plain", "imatrix"])
@pytest.mark.parametrize("name", ALL_TYPES)
def test_rows_match_the_c_library_bit_for_bit(name, with_imatrix, lib):
    x = rows(seed=11)
    imatrix = importance(seed=12) if with_imatrix else None
    if imatrix is None and lowbit.requires_imatrix(name):
        with pytest.raises(lowbit.UnsupportedError, match="importance matrix"):
            lowbit.quantize_rows(name, x)
        return
    q = lowbit.quantize_rows(name, x, imatrix=imatrix)
    assert q.dtype == np.uint8
    assert q.shape == (x.shape[0], lowbit.row_size(name, N_PER_ROW))
    assert q.flags.c_contiguous and q.flags.writeable
    assert q.tobytes() == c_quantize(lib, name, x, imatrix)

    y = lowbit.dequantize_rows(name, q, N_PER_ROW)
    assert y.dtype == np.float32
    assert y.shape == x.shape
    assert y.tobytes() == c_dequantize(lib, name, q.tobytes(), x.shape[0], N_PER_ROW)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_round_trip_error_is_within_the_format_bound(name):
    x = rows(seed=21, n_rows=64)
    # uniform importance for the types that need one
    imatrix = np.ones(N_PER_ROW, dtype=np.float32) if lowbit.requires_imatrix(name) else None
    y = lowbit.dequantize_rows(name, lowbit.quantize_rows(name, x, imatrix=imatrix), N_PER_ROW)
    relative_rmse = np.sqrt(np.mean((y - x) ** 2) / np.mean(x**2))
    assert relative_rmse <= RMSE_BOUND[name], f"{name}: relative RMSE {relative_rmse:.4f}"


def test_the_imatrix_changes_the_result_and_lowers_the_weighted_error():
    x = rows(seed=31, n_rows=64)
    imatrix = importance(seed=32)
    plain = lowbit.dequantize_rows("Q4_K", lowbit.quantize_rows("Q4_K", x), N_PER_ROW)
    weighted = lowbit.dequantize_rows("Q4_K", lowbit.quantize_rows("Q4_K", x, imatrix=imatrix), N_PER_ROW)
    assert not np.array_equal(plain, weighted)

    def weighted_error(y):
        return float(np.sum(imatrix * (y - x) ** 2))

    assert weighted_error(weighted) < weighted_error(plain)


def traced_peak(function):
    """The peak of memory traced by tracemalloc (numpy reports its array data
    to it) while function runs, above what was allocated before."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def test_c_contiguous_float32_rows_are_not_copied():
    x = rows(seed=41, n_rows=4096)  # 8 MiB
    out_bytes = 4096 * lowbit.row_size("Q8_0", N_PER_ROW)  # 2.1 MiB, allocated by quantize_rows
    peak = traced_peak(lambda: lowbit.quantize_rows("Q8_0", x))
    assert peak < out_bytes + x.nbytes // 4, f"{peak} bytes allocated: the input was copied"
    # the same measure sees the float32 copy that float64 and strided inputs need
    x64 = x.astype(np.float64)
    assert traced_peak(lambda: lowbit.quantize_rows("Q8_0", x64)) >= out_bytes + x.nbytes
    x_fortran = np.asfortranarray(x)
    assert traced_peak(lambda: lowbit.quantize_rows("Q8_0", x_fortran)) >= out_bytes + x.nbytes


def test_c_contiguous_uint8_rows_are_not_copied():
    q = lowbit.quantize_rows("Q8_0", rows(seed=42, n_rows=4096))
    out_bytes = 4096 * N_PER_ROW * 4
    peak = traced_peak(lambda: lowbit.dequantize_rows("Q8_0", q, N_PER_ROW))
    assert peak < out_bytes + q.nbytes // 4, f"{peak} bytes allocated: the input was copied"


def test_strided_and_converted_inputs_give_the_bytes_of_their_contiguous_float32_copy():
    wide = rows(seed=51, n_per_row=2 * N_PER_ROW)
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    expected = lowbit.quantize_rows("Q4_K", np.ascontiguousarray(strided))
    assert np.array_equal(lowbit.quantize_rows("Q4_K", strided), expected)

    x = rows(seed=52)
    expected = lowbit.quantize_rows("Q5_0", x)
    assert np.array_equal(lowbit.quantize_rows("Q5_0", np.asfortranarray(x)), expected)
    assert np.array_equal(lowbit.quantize_rows("Q5_0", x.astype(np.float64)), expected)
    assert np.array_equal(lowbit.quantize_rows("Q5_0", x.tolist()), expected)
    assert np.array_equal(lowbit.quantize_rows("Q5_0", x.astype(">f4")), expected)
    read_only = x.copy()
    read_only.setflags(write=False)
    assert np.array_equal(lowbit.quantize_rows("Q5_0", read_only), expected)
    # an imatrix of another dtype is converted too
    imatrix = importance(seed=53)
    assert np.array_equal(
        lowbit.quantize_rows("Q5_0", x, imatrix=imatrix.astype(np.float64)),
        lowbit.quantize_rows("Q5_0", x, imatrix=imatrix),
    )


def test_strided_quantized_rows_dequantize_like_their_contiguous_copy():
    x = rows(seed=61)
    q = lowbit.quantize_rows("Q6_K", x)
    spread = np.zeros((2 * q.shape[0], q.shape[1]), dtype=np.uint8)
    spread[::2] = q
    assert not spread[::2].flags.c_contiguous
    assert np.array_equal(
        lowbit.dequantize_rows("Q6_K", spread[::2], N_PER_ROW), lowbit.dequantize_rows("Q6_K", q, N_PER_ROW)
    )
    # any array-like of bytes works
    assert np.array_equal(
        lowbit.dequantize_rows("Q6_K", q.tolist(), N_PER_ROW), lowbit.dequantize_rows("Q6_K", q, N_PER_ROW)
    )


def test_no_rows():
    q = lowbit.quantize_rows("Q4_0", np.zeros((0, 64), dtype=np.float32))
    assert q.shape == (0, lowbit.row_size("Q4_0", 64)) and q.dtype == np.uint8
    y = lowbit.dequantize_rows("Q4_0", q, 64)
    assert y.shape == (0, 64) and y.dtype == np.float32


def test_quantize_rows_releases_the_gil():
    x = rows(seed=71, n_rows=256, n_per_row=1024)

    def work(scale):
        big = np.tile(x, (scale, 1))
        return lambda: lowbit.quantize_rows("Q4_K", big)

    duration, ticks = ticks_during_long_enough(work)
    assert ticks >= 10, f"the main thread ran {ticks} times in the middle of a {duration:.3f} s quantize_rows"


def test_dequantize_rows_releases_the_gil():
    q = lowbit.quantize_rows("Q4_K", rows(seed=72, n_rows=256, n_per_row=1024))

    def work(scale):
        big = np.tile(q, (8 * scale, 1))
        return lambda: lowbit.dequantize_rows("Q4_K", big, 1024)

    duration, ticks = ticks_during_long_enough(work)
    assert ticks >= 10, f"the main thread ran {ticks} times in the middle of {duration:.3f} s of dequantizing"
