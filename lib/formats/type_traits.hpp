// What lowbit knows about each tensor type: block geometry, and the scalar
// reference quantizer and dequantizer that define the format's behaviour.
#pragma once

#include "common/isa.hpp"
#include "formats/search_kernels.hpp"
#include "lowbit/lowbit.h"

#include <cstddef>
#include <cstdint>

namespace lb::formats {

// Quantizes one row of n floats (n a multiple of the block size) into dst.
// imatrix is NULL or holds n non-negative importance weights. The search runs
// on kernels (kReferenceSearch, or a set of lib/kernels: the same bytes).
using QuantizeRowFn = void (*)(const float *src, void *dst, int64_t n, const float *imatrix,
                               const SearchKernels &kernels);
// Dequantizes one row of n elements from src into dst.
using DequantizeRowFn = void (*)(const void *src, float *dst, int64_t n);
// Quantizes one row of n activations (the right-hand side of a dot product).
using QuantizeActivationsFn = void (*)(const float *src, void *dst, int64_t n);
// The dot product of a weight row with an activation row of n values.
using VecDotFn = float (*)(int64_t n, const void *w, const void *a);

// Type ids run from 0 to kTypeCount - 1 (ggml's GGML_TYPE_COUNT at the peer's
// release); some in between were removed from the format.
constexpr uint32_t kTypeCount = 43;

// lowbit's extension types, far above ggml's ids: the tiled layouts of
// formats/tiled_layouts.hpp as they are stored in a file (docs/formats.md).
// Their blocks are the base type's, so the geometry is the base type's; rows
// depend on each other, so they have no row functions.
constexpr uint32_t kExtensionTypeFirst = 1024;
constexpr uint32_t kExtensionTypeCount = 2; // LB_TYPE_Q4_K_4, LB_TYPE_Q8R16

struct TypeTraits {
    const char *name;           // "Q4_0"; nullptr for ids that are not types
    int64_t block_size;         // elements per block; 0 for ids that are not types
    size_t block_bytes;         // bytes per block
    bool quantized;             // stores blocks with scales
    bool requires_imatrix;      // cannot be quantized without an importance matrix
    QuantizeRowFn quantize;     // nullptr if lowbit cannot produce the type
    DequantizeRowFn dequantize; // nullptr if lowbit cannot read the type
    // As weights in a dot product: the activation type they pair with and
    // the reference dot product (LB_TYPE_NONE / nullptr: not supported).
    lb_type vec_dot_type = LB_TYPE_NONE;
    VecDotFn vec_dot = nullptr;
    // As activations: their quantizer (nullptr: not an activation type).
    QuantizeActivationsFn quantize_activations = nullptr;
};

// Traits of a type id; ids out of range get the traits of "no type".
const TypeTraits &traits(uint32_t type);

inline namespace LOWBIT_ISA { // common/isa.hpp

// Whether the id names a type that may appear in a GGUF file.
inline bool is_valid_type(uint32_t type) {
    return traits(type).block_size != 0;
}

// Row size in bytes; n must be a multiple of the block size.
inline size_t row_bytes(uint32_t type, int64_t n) {
    const TypeTraits &t = traits(type);
    return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

} // namespace LOWBIT_ISA

} // namespace lb::formats
