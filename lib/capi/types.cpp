// Type queries and the row API.
#include "capi/guard.hpp"
#include "common/finite.hpp"
#include "formats/type_traits.hpp"
#include "kernels/kernels.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;
namespace formats = lb::formats;

namespace {

const formats::TypeTraits &checked_traits(lb_type type, const char *function) {
    const formats::TypeTraits &t = formats::traits(static_cast<uint32_t>(type));
    if (t.block_size == 0)
        fail(LB_E_INVALID_ARG, "%s: %d is not a tensor type", function, static_cast<int>(type));
    return t;
}

size_t checked_row_size(const formats::TypeTraits &t, int64_t n_per_row, const char *function) {
    if (n_per_row < 0)
        fail(LB_E_INVALID_ARG, "%s: n_per_row is negative (%lld)", function,
             static_cast<long long>(n_per_row));
    if (n_per_row % t.block_size != 0)
        fail(LB_E_INVALID_ARG, "%s: n_per_row %lld is not a multiple of %s's block size %lld", function,
             static_cast<long long>(n_per_row), t.name, static_cast<long long>(t.block_size));
    return static_cast<size_t>(n_per_row / t.block_size) * t.block_bytes;
}

// rows * row_size, or an error if it overflows.
size_t checked_total(int64_t n_rows, size_t row_size, const char *function) {
    if (n_rows < 0)
        fail(LB_E_INVALID_ARG, "%s: n_rows is negative (%lld)", function, static_cast<long long>(n_rows));
    if (row_size != 0 && static_cast<uint64_t>(n_rows) > SIZE_MAX / row_size)
        fail(LB_E_INVALID_ARG, "%s: %lld rows are too many", function, static_cast<long long>(n_rows));
    return static_cast<size_t>(n_rows) * row_size;
}

// Block structs and binary16 values need 2-byte, float rows 4-byte alignment;
// rows at other addresses go through an aligned copy.
bool aligned(const void *p) {
    return reinterpret_cast<uintptr_t>(p) % 4 == 0;
}

} // namespace

extern "C" {

const char *lb_type_name(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).name;
}

lb_status lb_type_from_name(lb_type *out, const char *name) {
    return guard([&] {
        require(out, "lb_type_from_name", "out");
        require(name, "lb_type_from_name", "name");
        std::string upper(name);
        for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        auto match = [&](uint32_t id) {
            const char *n = formats::traits(id).name;
            if (n == nullptr || upper != n) return false;
            *out = static_cast<lb_type>(id);
            return true;
        };
        for (uint32_t id = 0; id < lb::formats::kTypeCount; ++id)
            if (match(id)) return;
        for (uint32_t i = 0; i < lb::formats::kExtensionTypeCount; ++i)
            if (match(lb::formats::kExtensionTypeFirst + i)) return;
        fail(LB_E_INVALID_ARG, "'%s' is not a tensor type name", name);
    });
}

int64_t lb_type_block_size(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).block_size;
}

size_t lb_type_block_bytes(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).block_bytes;
}

int lb_type_is_quantized(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).quantized ? 1 : 0;
}

int lb_type_can_quantize(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).quantize != nullptr ? 1 : 0;
}

int lb_type_can_dequantize(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).dequantize != nullptr ? 1 : 0;
}

int lb_type_requires_imatrix(lb_type type) {
    return formats::traits(static_cast<uint32_t>(type)).requires_imatrix ? 1 : 0;
}

lb_status lb_row_size(size_t *out, lb_type type, int64_t n_per_row) {
    return guard([&] {
        require(out, "lb_row_size", "out");
        *out = checked_row_size(checked_traits(type, "lb_row_size"), n_per_row, "lb_row_size");
    });
}

lb_status lb_quantize_rows(lb_type type, const float *src, int64_t n_rows, int64_t n_per_row,
                           const float *imatrix, void *dst, size_t dst_size) {
    return guard([&] {
        const char *fn = "lb_quantize_rows";
        const formats::TypeTraits &t = checked_traits(type, fn);
        const size_t row = checked_row_size(t, n_per_row, fn);
        const size_t total = checked_total(n_rows, row, fn);
        if (total > 0) {
            require(src, fn, "src");
            require(dst, fn, "dst");
        }
        if (dst_size < total)
            fail(LB_E_INVALID_ARG, "%s: dst_size %zu is too small: %lld rows of %s need %zu bytes", fn,
                 dst_size, static_cast<long long>(n_rows), t.name, total);
        if (t.quantize == nullptr) fail(LB_E_UNSUPPORTED, "%s: lowbit cannot quantize to %s yet", fn, t.name);
        if (t.requires_imatrix && imatrix == nullptr)
            fail(LB_E_UNSUPPORTED, "%s: type %s requires an importance matrix (lowbit imatrix makes one)", fn,
                 t.name);
        if (imatrix != nullptr) {
            for (int64_t j = 0; j < n_per_row; ++j)
                if (!std::isfinite(imatrix[j]) || imatrix[j] < 0.0f)
                    fail(LB_E_INVALID_ARG,
                         "%s: imatrix[%lld] is %g; importance weights must be finite and >= 0", fn,
                         static_cast<long long>(j), static_cast<double>(imatrix[j]));
        }
        std::vector<uint64_t> staged;
        const lb::kernels::KernelSet &set = lb::kernels::active();
        const lb::formats::SearchKernels &search = set.search;
        for (int64_t r = 0; r < n_rows; ++r) {
            const float *x = src + r * n_per_row;
            const int64_t j = set.first_non_finite(x, n_per_row);
            if (j >= 0)
                fail(LB_E_FORMAT, "%s: row %lld column %lld of src holds %s", fn, static_cast<long long>(r),
                     static_cast<long long>(j), std::isnan(x[j]) ? "NaN" : "an infinity");
            uint8_t *y = static_cast<uint8_t *>(dst) + static_cast<size_t>(r) * row;
            if (aligned(y)) {
                t.quantize(x, y, n_per_row, imatrix, search);
            } else { // blocks are written through their structs: stage them
                staged.resize((row + 7) / 8);
                t.quantize(x, staged.data(), n_per_row, imatrix, search);
                std::memcpy(y, staged.data(), row);
            }
        }
    });
}

lb_status lb_dequantize_rows(lb_type type, const void *src, size_t src_size, int64_t n_rows,
                             int64_t n_per_row, float *dst) {
    return guard([&] {
        const char *fn = "lb_dequantize_rows";
        const formats::TypeTraits &t = checked_traits(type, fn);
        const size_t row = checked_row_size(t, n_per_row, fn);
        const size_t total = checked_total(n_rows, row, fn);
        if (total > 0) {
            require(src, fn, "src");
            require(dst, fn, "dst");
        }
        if (src_size < total)
            fail(LB_E_INVALID_ARG, "%s: src_size %zu is too small: %lld rows of %s take %zu bytes", fn,
                 src_size, static_cast<long long>(n_rows), t.name, total);
        const formats::DequantizeRowFn dequantize = lb::kernels::dequantizer(lb::kernels::active(), type);
        if (dequantize == nullptr) fail(LB_E_UNSUPPORTED, "%s: lowbit cannot dequantize %s yet", fn, t.name);
        std::vector<uint64_t> staged;
        for (int64_t r = 0; r < n_rows; ++r) {
            const uint8_t *q = static_cast<const uint8_t *>(src) + static_cast<size_t>(r) * row;
            if (!aligned(q)) { // blocks are read through their structs: stage them
                staged.resize((row + 7) / 8);
                std::memcpy(staged.data(), q, row);
                q = reinterpret_cast<const uint8_t *>(staged.data());
            }
            dequantize(q, dst + r * n_per_row, n_per_row);
        }
    });
}

} // extern "C"
