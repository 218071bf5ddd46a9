// Dot-product kernels: the inner loops of a matrix multiply between weight
// rows (any type lowbit reads) and activation rows. A kernel set says, for
// each weight type, how it wants the activations (llama.cpp's pairing,
// formats::TypeTraits::vec_dot_type, or an exact equivalent: F16 weights may
// take their F16-rounded activations widened back to F32, which gives the same
// products without converting them in the inner loop) and how to multiply.
#pragma once

#include "formats/tiled_layouts.hpp"
#include "formats/type_traits.hpp"

#include <cstddef>
#include <cstdint>

namespace lb::kernels {

// One tile of a matrix product: for weight rows r in [0, n_rows) and
// activation rows t in [0, n_tokens),
//   out[t * out_stride + r] = dot(w + r * w_stride, a + t * a_stride)
// over n values. Row strides are in bytes.
struct MatmulTile {
    int64_t n;
    const uint8_t *w;
    size_t w_stride;
    int64_t n_rows;
    const uint8_t *a;
    size_t a_stride;
    int64_t n_tokens;
    float *out;
    int64_t out_stride;
};

// What one weight type needs: nullptr members mean the type cannot be
// multiplied by this set.
struct WeightKernels {
    // converts a row of n floats into the activation layout
    formats::QuantizeActivationsFn quantize_activations = nullptr;
    // bytes of an activation row of n values
    size_t (*activation_row_bytes)(int64_t n) = nullptr;
    // the dot product of one weight row with one activation row
    formats::VecDotFn dot = nullptr;
    // a whole tile (several rows and tokens at a time)
    void (*tile)(const MatmulTile &tile) = nullptr;
};

using TileFn = void (*)(const MatmulTile &tile);

struct DotKernels {
    WeightKernels by_type[formats::kTypeCount];
    // Tiles over weights in a tiled layout (formats/tiled_layouts.hpp), by
    // layout: tile.w is the first group of rows, tile.w_stride the bytes of a
    // group, tile.n_rows a multiple of the group's rows; the activations are
    // those of the base type (by_type[base]). nullptr: the set has none.
    TileFn tiled[formats::kLayoutCount] = {};
};

// The scalar reference: llama.cpp's pairings and formats' vec_dot functions,
// one dot product at a time.
const DotKernels &reference_dot();

// A tile computed one dot product at a time: the fallback for the types a
// set does not specialise.
void tile_by_dots(const MatmulTile &tile, formats::VecDotFn dot);

} // namespace lb::kernels
