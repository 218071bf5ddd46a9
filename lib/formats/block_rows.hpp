// Quantizing a row of 32-blocks: the fast path (no importance matrix) through
// the kernel set given, the thorough path block by block. Formats pass a
// function that packs one block's scale(s) and levels into their layout.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/block_groups.hpp"
#include "formats/search_kernels.hpp"
#include "formats/symmetric_blocks.hpp"

#include <algorithm>
#include <cstring>

namespace lb::formats {

constexpr int64_t kRowChunkBlocks = 64;

// Calls group(x, w, first) on the blocks [0, count) of a chunk in groups of
// kGroupBlocks; a last, shorter group is padded with zero blocks of zero
// weight (group gets copies, and first says where its blocks start).
template <int N, typename Group>
void for_each_group(const float *x, const float *w, int64_t count, Group group) {
    for (int64_t g = 0; g < count; g += kGroupBlocks) {
        if (g + kGroupBlocks <= count) {
            group(x + g * N, w + g * N, g, kGroupBlocks);
            continue;
        }
        float xp[kGroupBlocks * N] = {}, wp[kGroupBlocks * N] = {};
        const int64_t k = count - g;
        std::memcpy(xp, x + g * N, static_cast<size_t>(k * N) * sizeof(float));
        std::memcpy(wp, w + g * N, static_cast<size_t>(k * N) * sizeof(float));
        group(xp, wp, g, k);
    }
}

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
            for_each_group<N>(xc, imatrix + b0 * N, count,
                              [&](const float *xg, const float *wg, int64_t first, int64_t n_real) {
                                  float dg[kGroupBlocks];
                                  uint8_t qg[kGroupBlocks * N];
                                  symmetric_thorough_group<N, LO, HI, OFFSET>(xg, wg, dg, qg, k.eval_lanes);
                                  for (int64_t i = 0; i < n_real; ++i) {
                                      d[first + i] = dg[i];
                                      std::memcpy(q + (first + i) * N, qg + i * N, N);
                                  }
                              });
            // blocks the importance says nothing about: the fast path
            for (int64_t b = 0; b < count; ++b)
                if (!has_weight<N>(imatrix + (b0 + b) * N))
                    d[b] = symmetric_quantize_fast<N, LO, HI, OFFSET>(xc + b * N, q + b * N);
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
            for_each_group<N>(xc, imatrix + b0 * N, count,
                              [&](const float *xg, const float *wg, int64_t first, int64_t n_real) {
                                  float dg[kGroupBlocks], mg[kGroupBlocks];
                                  uint8_t qg[kGroupBlocks * N];
                                  affine_thorough_group<N, NMAX>(xg, wg, dg, mg, qg, k.eval_lanes);
                                  for (int64_t i = 0; i < n_real; ++i) {
                                      d[first + i] = dg[i], m[first + i] = mg[i];
                                      std::memcpy(q + (first + i) * N, qg + i * N, N);
                                  }
                              });
            for (int64_t b = 0; b < count; ++b)
                if (!has_weight<N>(imatrix + (b0 + b) * N))
                    affine_quantize_fast<N, NMAX>(xc + b * N, q + b * N, d + b, m + b);
        }
        for (int64_t b = 0; b < count; ++b) pack(b0 + b, d[b], m[b], q + b * N);
    }
}

} // namespace lb::formats
