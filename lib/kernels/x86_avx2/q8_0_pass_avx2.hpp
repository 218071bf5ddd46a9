// What the AVX2 dot kernels of the 32-value blocks paired with Q8_0 share
// (dot_avx2.cpp, dot_newer_avx2.cpp): binary16 and horizontal-sum helpers
// and the pass of R weight rows x J tokens, for any weight type W with
//   static __m256i values(const uint8_t *row, int64_t b, float *d);
// giving block b's 32 signed values (each at most 127 in magnitude) and its
// scale. Compiled only into AVX2 translation units (lb::kernels::avx2).
#pragma once

#include "formats/blocks.hpp"

#include <cstdint>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::block_q8_0;

inline float half(uint16_t h) {
    return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
    const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// R weight rows x J tokens (row_tiles.hpp's tile_by_groups). Per (row,
// token) the sum is the one-at-a-time one: block products in 8 lanes, scaled
// by dw * dy, added block after block, then across lanes.
template <typename W> struct Q8_0Pass {
    // acc + block b of one row times one token
    static __m256 block(const uint8_t *w, const uint8_t *a, int64_t b, __m256 acc) {
        float dw;
        const __m256i wq = W::values(w, b, &dw);
        const block_q8_0 &y = reinterpret_cast<const block_q8_0 *>(a)[b];
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
        const __m256i p = _mm256_madd_epi16(
            _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(yq, wq)), _mm256_set1_epi16(1));
        return _mm256_fmadd_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p), acc);
    }

    template <int R, int J>
    static void run(int64_t nb, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        if constexpr (R == 1 && J == 1) {
            // one sum: blocks alternate between two accumulators (one chain
            // of dependent additions would set the pace)
            __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
            int64_t b = 0;
            for (; b + 1 < nb; b += 2) {
                even = block(wr[0], ar[0], b, even);
                odd = block(wr[0], ar[0], b + 1, odd);
            }
            if (b < nb) even = block(wr[0], ar[0], b, even);
            sums[0][0] = hsum(_mm256_add_ps(even, odd));
            return;
        }
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[R][J];
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) acc[i][j] = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; ++b) {
            __m256i wq[R], aw[R];
            float dw[R];
            for (int i = 0; i < R; ++i) {
                wq[i] = W::values(wr[i], b, &dw[i]);
                aw[i] = _mm256_sign_epi8(wq[i], wq[i]);
            }
            for (int j = 0; j < J; ++j) {
                const block_q8_0 &y = reinterpret_cast<const block_q8_0 *>(ar[j])[b];
                const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
                const float dy = half(y.d);
                for (int i = 0; i < R; ++i) {
                    const __m256i p =
                        _mm256_madd_epi16(_mm256_maddubs_epi16(aw[i], _mm256_sign_epi8(yq, wq[i])), ones);
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dw[i] * dy), _mm256_cvtepi32_ps(p), acc[i][j]);
                }
            }
        }
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) sums[i][j] = hsum(acc[i][j]);
    }
};

} // namespace

} // namespace lb::kernels::avx2
