// Pieces of the x86 K-quant tiles, shared by the AVX2 and AVX-512
// translation units (both compiled with AVX2), each into its own namespace
// (common/isa.hpp).
#pragma once

#include "common/isa.hpp"
#include "formats/kquant_scales.hpp"
#include "kernels/x86_intrinsics.hpp"

#include <cstdint>
#include <cstring>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

// The four 32-bit words as a vector (built in registers: a 16-byte load of
// just-stored words would stall on store forwarding).
inline __m128i words128(const uint32_t *w) {
    return _mm_set_epi32(static_cast<int>(w[3]), static_cast<int>(w[2]), static_cast<int>(w[1]),
                         static_cast<int>(w[0]));
}

// Q4_K / Q5_K: the eight scales (bytes 0..7) and mins (bytes 8..15) of a
// packing (formats::scales_mins_k4_words)
inline __m128i scales_mins_k4(const uint8_t *scales) {
    uint32_t w[4];
    formats::scales_mins_k4_words(scales, w);
    return words128(w);
}

// Q3_K: the sixteen scales minus 32 as 16-bit values (formats::q3_K_scale_words)
inline __m256i q3_K_scales16(const uint8_t *scales) {
    uint32_t w[4];
    formats::q3_K_scale_words(scales, w);
    return _mm256_cvtepi8_epi16(_mm_sub_epi8(words128(w), _mm_set1_epi8(32)));
}

// sum_s mins[s] * (bsums[2s] + bsums[2s + 1]) of a Q8_K block, spread over
// four 32-bit lanes (the pair sums fit in 16 bits: |bsum| <= 16 x 128)
inline __m128i mins_dot_k4(const int16_t *bsums, __m128i scales_mins) {
    const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(bsums)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i *>(bsums + 8)));
    return _mm_madd_epi16(pairs, _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8)));
}

inline float hsum_ps128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

// mins[k / 2] for the 16 groups of 16 values whose block sums Q8_K keeps
inline __m256i mins_by_group(const int *m) {
    alignas(32) int16_t g[16];
    for (int k = 0; k < 16; ++k) g[k] = static_cast<int16_t>(m[k / 2]);
    return _mm256_load_si256(reinterpret_cast<const __m256i *>(g));
}

inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

// the 16 int16 block sums of a Q8_K block times 16 int16 factors, in pairs
// (eight 32-bit lanes)
inline __m256i bsums_madd(const int16_t *bsums, __m256i factors) {
    return _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(bsums)), factors);
}

// the 16 int16 block sums of a Q8_K block times 16 int16 factors, summed
inline int bsums_dot(const int16_t *bsums, __m256i factors) {
    return hsum_i32(_mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(bsums)), factors));
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
