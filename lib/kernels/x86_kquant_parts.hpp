// Pieces of the x86 K-quant tiles, shared by the AVX2 and AVX-512
// translation units (both compiled with AVX2), each into its own namespace
// (common/isa.hpp).
#pragma once

#include "common/isa.hpp"

#include <cstdint>
// as in x86_avx512/dot_avx512.cpp: GCC 12's AVX-512 headers warn about their
// own "undefined" vectors; silenced for the header only
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

namespace lb::kernels {
inline namespace LOWBIT_ISA {

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

// the 16 int16 block sums of a Q8_K block times 16 int16 factors, summed
inline int bsums_dot(const int16_t *bsums, __m256i factors) {
    return hsum_i32(_mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(bsums)), factors));
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
