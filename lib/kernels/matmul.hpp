// Matrix products of a weight tensor with a batch of activation rows, split
// over the thread pool: the activations are converted once to the layout the
// weight type's kernels want, then each thread multiplies a band of weight
// rows with all of them, tile by tile.
#pragma once

#include "kernels/dot_kernels.hpp"

#include <cstdint>
#include <vector>

namespace lb::kernels {

// A 2-D weight in GGUF order: `rows` rows of `n` values (ne[0] = n), each
// row_bytes long, at data (which must be aligned for the type's blocks). In a
// tiled layout (formats/tiled_layouts.hpp), type is the layout's base type,
// row_bytes that of its standard rows, and rows a multiple of the group's.
struct WeightMatrix {
    lb_type type;
    int64_t n;
    int64_t rows;
    const uint8_t *data;
    size_t row_bytes;
    formats::Layout layout = formats::Layout::standard;
};

// Scratch memory a caller keeps between products (the converted activations).
struct MatmulScratch {
    std::vector<uint8_t> activations;
};

// y[t * w.rows + r] = sum_k W[r][k] x[t * w.n + k] for t < n_tokens, with the
// weight type's kernels of `dot` (its tiled kernel for a tiled layout). Throws
// lb::Error (LB_E_UNSUPPORTED) if the set cannot multiply the type or layout.
void matmul(const DotKernels &dot, const WeightMatrix &w, const float *x, int64_t n_tokens, float *y,
            int n_threads, MatmulScratch &scratch);

} // namespace lb::kernels
