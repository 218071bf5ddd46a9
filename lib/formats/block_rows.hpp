// Quantizing a row of 32-blocks: the fast path (no importance matrix) through
// the kernel set given, the thorough path block by block. Formats pass a
// function that packs one block's scale(s) and levels into their layout.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/search_kernels.hpp"
#include "formats/symmetric_blocks.hpp"

#include <algorithm>

namespace lb::formats {

constexpr int64_t kRowChunkBlocks = 64;

// Whether an importance vector says anything about this block.
template <int N> inline bool has_weight(const float *w) {
    float s = 0.0f;
    for (int j = 0; j < N; ++j) s += w[j];
    return s > 0.0f;
}

// pack(block_index, d, levels)
template <int N, int LO, int HI, int OFFSET, typename Pack>
void quantize_symmetric_row(const float *x, int64_t n, const float *imatrix, const SymmetricKernels &k,
                            Pack pack) {
    float d[kRowChunkBlocks];
    uint8_t q[kRowChunkBlocks * N];
    const int64_t n_blocks = n / N;
    for (int64_t b0 = 0; b0 < n_blocks; b0 += kRowChunkBlocks) {
        const int64_t count = std::min(kRowChunkBlocks, n_blocks - b0);
        const float *xc = x + b0 * N;
        if (imatrix == nullptr) {
            k.quantize_fast(xc, count, d, q);
        } else {
            for (int64_t b = 0; b < count; ++b) {
                const float *xb = xc + b * N, *wb = imatrix + (b0 + b) * N;
                d[b] = has_weight<N>(wb)
                           ? symmetric_quantize_thorough<N, LO, HI, OFFSET>(xb, wb, q + b * N, k.eval_all)
                           : symmetric_quantize_fast<N, LO, HI, OFFSET>(xb, q + b * N);
            }
        }
        for (int64_t b = 0; b < count; ++b) pack(b0 + b, d[b], q + b * N);
    }
}

// pack(block_index, d, m, levels)
template <int N, int NMAX, typename Pack>
void quantize_affine_row(const float *x, int64_t n, const float *imatrix, const AffineKernels &k, Pack pack) {
    float d[kRowChunkBlocks], m[kRowChunkBlocks];
    uint8_t q[kRowChunkBlocks * N];
    const int64_t n_blocks = n / N;
    for (int64_t b0 = 0; b0 < n_blocks; b0 += kRowChunkBlocks) {
        const int64_t count = std::min(kRowChunkBlocks, n_blocks - b0);
        const float *xc = x + b0 * N;
        if (imatrix == nullptr) {
            k.quantize_fast(xc, count, d, m, q);
        } else {
            for (int64_t b = 0; b < count; ++b) {
                const float *xb = xc + b * N, *wb = imatrix + (b0 + b) * N;
                if (has_weight<N>(wb))
                    affine_quantize_thorough<N, NMAX>(xb, wb, q + b * N, d + b, m + b, k.eval_all);
                else
                    affine_quantize_fast<N, NMAX>(xb, q + b * N, d + b, m + b);
            }
        }
        for (int64_t b = 0; b < count; ++b) pack(b0 + b, d[b], m[b], q + b * N);
    }
}

} // namespace lb::formats
