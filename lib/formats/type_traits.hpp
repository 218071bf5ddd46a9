// What lowbit knows about each tensor type: block geometry, and the scalar
// reference quantizer and dequantizer that define the format's behaviour.
#pragma once

#include "lowbit/lowbit.h"

#include <cstddef>
#include <cstdint>

namespace lb::formats {

// Quantizes one row of n floats (n a multiple of the block size) into dst.
// imatrix is NULL or holds n non-negative importance weights.
using QuantizeRowFn = void (*)(const float *src, void *dst, int64_t n, const float *imatrix);
// Dequantizes one row of n elements from src into dst.
using DequantizeRowFn = void (*)(const void *src, float *dst, int64_t n);

struct TypeTraits {
    const char *name;         // "Q4_0"; nullptr for ids that are not types
    int64_t block_size;       // elements per block; 0 for ids that are not types
    size_t block_bytes;       // bytes per block
    bool quantized;           // stores blocks with scales
    bool requires_imatrix;    // cannot be quantized without an importance matrix
    QuantizeRowFn quantize;   // nullptr if lowbit cannot produce the type
    DequantizeRowFn dequantize; // nullptr if lowbit cannot read the type
};

// Traits of a type id; ids out of range get the traits of "no type".
const TypeTraits &traits(uint32_t type);

// Whether the id names a type that may appear in a GGUF file.
inline bool is_valid_type(uint32_t type) { return traits(type).block_size != 0; }

// Row size in bytes; n must be a multiple of the block size.
inline size_t row_bytes(uint32_t type, int64_t n) {
    const TypeTraits &t = traits(type);
    return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

} // namespace lb::formats
