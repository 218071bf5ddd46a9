// The 32 levels of a Q4_0 / Q4_1 / Q5_0 / Q5_1 block in a 256-bit vector
// (element j in byte j), and 32 bits spread over 32 bytes, shared by the AVX2
// dot kernels and dequantizers. Each
// translation unit compiles them into its own namespace (common/isa.hpp).
#pragma once

#include "common/isa.hpp"

#include <cstdint>
#include <cstring>
#include <immintrin.h>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

// Elements 0..15 from the low nibbles of 16 bytes, 16..31 from the high ones.
inline __m256i nibbles32(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0f));
}

// -1 in byte j where bit j of the 32-bit little-endian word at `bytes` is set
// (bit j % 8 of byte j / 8), 0 elsewhere.
inline __m256i bit_bytes(const uint8_t *bytes) {
    uint32_t bits;
    std::memcpy(&bits, bytes, 4);
    const __m256i spread =
        _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                             2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// 0x10 in byte j where bit j of the 32-bit little-endian qh is set: the
// fifth bits of Q5_0 and Q5_1.
inline __m256i fifth_bits(const uint8_t *qh_bytes) {
    return _mm256_and_si256(bit_bytes(qh_bytes), _mm256_set1_epi8(0x10));
}

// -1 in byte j where bit j of the little-endian word at `bytes` is set, +1
// elsewhere: the signs of 32 values, as _mm256_sign_epi8 takes them.
inline __m256i sign_bytes(const uint8_t *bytes) {
    return _mm256_or_si256(bit_bytes(bytes), _mm256_set1_epi8(1));
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
