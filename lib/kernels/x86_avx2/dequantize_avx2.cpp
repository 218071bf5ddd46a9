// AVX2 dequantizers for the formats whose scalar loops the compiler does not
// vectorize well (bench/compare_ggml measured them at 0.7-2.4x of ggml):
// F16, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K and Q6_K; and the lattice I-quants (IQ2_XXS ... IQ1_M), whose
// grid lookups it does not vectorize at all. Compiled with -mavx2 -mf16c and without
// FMA or contraction: each float is the format's reference computed with the
// same IEEE operations in the same order (the scale products first, as the
// scalar code forms them), so the outputs are the reference's bit for bit
// (tests compare every set on random blocks). The other formats' reference
// loops already vectorize.
#include "formats/blocks.hpp"
#include "formats/iq1_blocks.hpp"
#include "formats/kquant_scales.hpp"
#include "formats/lattice_blocks.hpp"
#include "kernels/kernels.hpp"
#include "kernels/x86_avx2/lattice_levels_avx2.hpp"
#include "kernels/x86_avx2/levels_avx2.hpp"

#include <cstring>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::QK_K;

inline float half(uint16_t h) {
    return _cvtsh_ss(h);
}

// The 8 signed bytes at p as floats.
inline __m256 bytes_to_floats(__m128i p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(p));
}

// y[i] = float(levels[i]) * (i < 16 ? d0 : d1) for the 32 signed bytes of levels.
inline void store_scaled(float *y, __m256i levels, float d0, float d1) {
    const __m128i lo = _mm256_castsi256_si128(levels), hi = _mm256_extracti128_si256(levels, 1);
    const __m256 s0 = _mm256_set1_ps(d0), s1 = _mm256_set1_ps(d1);
    _mm256_storeu_ps(y, _mm256_mul_ps(bytes_to_floats(lo), s0));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(bytes_to_floats(_mm_srli_si128(lo, 8)), s0));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(bytes_to_floats(hi), s1));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(bytes_to_floats(_mm_srli_si128(hi, 8)), s1));
}

// y[i] = float(levels[i]) * d + m (Add) or d * float(levels[i]) - m (!Add),
// with (d, m) = (d0, m0) for i < 16, (d1, m1) after.
template <bool Add>
inline void store_affine(float *y, __m256i levels, float d0, float m0, float d1, float m1) {
    const __m128i lo = _mm256_castsi256_si128(levels), hi = _mm256_extracti128_si256(levels, 1);
    const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; ++k) {
        const __m256 dv = _mm256_set1_ps(k < 2 ? d0 : d1), mv = _mm256_set1_ps(k < 2 ? m0 : m1);
        const __m256 v = _mm256_mul_ps(bytes_to_floats(parts[k]), dv);
        _mm256_storeu_ps(y + 8 * k, Add ? _mm256_add_ps(v, mv) : _mm256_sub_ps(v, mv));
    }
}

// 0x10 in byte l where qh[l] has any bit of mask (one bit) set.
inline __m256i bit_as_sixteen(__m256i qh, uint8_t mask) {
    const __m256i m = _mm256_set1_epi8(static_cast<char>(mask));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, m), m), _mm256_set1_epi8(0x10));
}

inline __m256i load32(const uint8_t *p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}

// Q5_0: float(level - 16) * d
void dequantize_q5_0(const void *src, float *y, int64_t n) {
    const formats::block_q5_0 *x = static_cast<const formats::block_q5_0 *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256i levels =
            _mm256_sub_epi8(_mm256_or_si256(nibbles32(x[b].qs), fifth_bits(x[b].qh)), _mm256_set1_epi8(16));
        const float d = half(x[b].d);
        store_scaled(y + 32 * b, levels, d, d);
    }
}

// Q5_1: float(level) * d + m
void dequantize_q5_1(const void *src, float *y, int64_t n) {
    const formats::block_q5_1 *x = static_cast<const formats::block_q5_1 *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        const float d = half(x[b].d), m = half(x[b].m);
        store_affine<true>(y + 32 * b, _mm256_or_si256(nibbles32(x[b].qs), fifth_bits(x[b].qh)), d, m, d, m);
    }
}

// Q5_K: chunk c of 64 values: d * sc * level - dmin * m for its two
// sub-blocks (the low nibbles of qs[32 c ...], then the high ones; the fifth
// bits 2c and 2c + 1 of qh[l])
void dequantize_q5_K(const void *src, float *y, int64_t n) {
    const formats::block_q5_K *x = static_cast<const formats::block_q5_K *>(src);
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d), dmin = half(x[b].dmin);
        const __m256i qh = load32(x[b].qh);
        for (int c = 0; c < 4; ++c) {
            int sc, m;
            formats::unpack_scale_min_k4(x[b].scales, 2 * c, &sc, &m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            formats::unpack_scale_min_k4(x[b].scales, 2 * c + 1, &sc, &m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            const __m256i q = load32(x[b].qs + 32 * c);
            const __m256i l1 = _mm256_or_si256(_mm256_and_si256(q, low),
                                               bit_as_sixteen(qh, static_cast<uint8_t>(1u << (2 * c))));
            const __m256i l2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
                                               bit_as_sixteen(qh, static_cast<uint8_t>(2u << (2 * c))));
            float *yc = y + b * QK_K + 64 * c;
            store_affine<false>(yc, l1, d1, m1, d1, m1);
            store_affine<false>(yc + 32, l2, d2, m2, d2, m2);
        }
    }
}

// Q6_K: half h, quarter k: level (0..63) - 32 times d * the scale of its 16
// values (value l + 32 k of the half takes scales[8 h + 2 k + l / 16])
void dequantize_q6_K(const void *src, float *y, int64_t n) {
    const formats::block_q6_K *x = static_cast<const formats::block_q6_K *>(src);
    const __m256i low = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3), offset = _mm256_set1_epi8(32);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = load32(x[b].ql + 64 * h), ql1 = load32(x[b].ql + 64 * h + 32);
            const __m256i qh = load32(x[b].qh + 32 * h);
            const int8_t *sc = x[b].scales + 8 * h;
            for (int k = 0; k < 4; ++k) {
                // low nibbles of ql[l] (k = 0) or ql[l + 32] (k = 1), high ones for k = 2, 3
                const __m256i l = k % 2 ? ql1 : ql0;
                const __m256i nib = _mm256_and_si256(k >= 2 ? _mm256_srli_epi16(l, 4) : l, low);
                const __m256i top =
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three), 4);
                const __m256i levels = _mm256_sub_epi8(_mm256_or_si256(nib, top), offset);
                store_scaled(y + b * QK_K + 128 * h + 32 * k, levels, d * static_cast<float>(sc[2 * k]),
                             d * static_cast<float>(sc[2 * k + 1]));
            }
        }
    }
}

// Q3_K: group (h, g) of 32: two bits of qs[32 h + l] at 2 g, minus 4 where
// bit 4 h + g of hmask[l] is clear, times d * (6-bit scale - 32) of its 16
void dequantize_q3_K(const void *src, float *y, int64_t n) {
    const formats::block_q3_K *x = static_cast<const formats::block_q3_K *>(src);
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d);
        int sc[16];
        for (int j = 0; j < 16; ++j) sc[j] = formats::q3_K_scale(x[b].scales, j);
        const __m256i hmask = load32(x[b].hmask);
        for (int h = 0; h < 2; ++h) {
            const __m256i q = load32(x[b].qs + 32 * h);
            for (int g = 0; g < 4; ++g) {
                const __m256i two = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three);
                const __m256i m = _mm256_set1_epi8(static_cast<char>(1u << (4 * h + g)));
                const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hmask, m), m);
                const __m256i levels = _mm256_sub_epi8(two, _mm256_andnot_si256(set, four));
                store_scaled(y + b * QK_K + 128 * h + 32 * g, levels,
                             d * static_cast<float>(sc[8 * h + 2 * g]),
                             d * static_cast<float>(sc[8 * h + 2 * g + 1]));
            }
        }
    }
}

// Q2_K: group (h, g) of 32: two bits of qs[32 h + l] at 2 g, times
// d * (scale & 15), minus dmin * (scale >> 4), per 16 values
void dequantize_q2_K(const void *src, float *y, int64_t n) {
    const formats::block_q2_K *x = static_cast<const formats::block_q2_K *>(src);
    const __m256i three = _mm256_set1_epi8(3);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d), dmin = half(x[b].dmin);
        for (int h = 0; h < 2; ++h) {
            const __m256i q = load32(x[b].qs + 32 * h);
            for (int g = 0; g < 4; ++g) {
                const uint8_t s0 = x[b].scales[8 * h + 2 * g], s1 = x[b].scales[8 * h + 2 * g + 1];
                store_affine<false>(y + b * QK_K + 128 * h + 32 * g,
                                    _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three),
                                    d * static_cast<float>(s0 & 0x0f), dmin * static_cast<float>(s0 >> 4),
                                    d * static_cast<float>(s1 & 0x0f), dmin * static_cast<float>(s1 >> 4));
            }
        }
    }
}

// The lattice I-quants with positive levels (formats/lattice_blocks.hpp): a
// sub-block's gathered grid levels with its signs applied, times
// d * scale * factor per 16 values (the reference's order of products)
template <typename Block> void dequantize_lattice(const void *src, float *y, int64_t n) {
    const Block *x = static_cast<const Block *>(src);
    const int8_t *grid = formats::LatticeLayout<Block>::grid().value;
    constexpr float kFactor = formats::LatticeLayout<Block>::kFactor;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const formats::LatticeSub s = formats::lattice_sub(x[b], ib);
            const __m256i levels = _mm256_sign_epi8(sub_levels<Block>(grid, s), sign_bytes(s.signs));
            store_scaled(y + b * QK_K + 32 * ib, levels, d * static_cast<float>(s.scale[0]) * kFactor,
                         d * static_cast<float>(s.scale[1]) * kFactor);
        }
    }
}

// IQ1_S and IQ1_M (formats/iq1_blocks.hpp): per group of 8, the grid row's
// levels plus the delta, times d * scale (the reference's order)
template <typename Block> void dequantize_iq1(const void *src, float *y, int64_t n) {
    const Block *x = static_cast<const Block *>(src);
    const int8_t *grid = formats::iq1s_grid().value;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(formats::iq1_d_bits(x[b]));
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const formats::Iq1Sub s = formats::iq1_sub(x[b], ib);
            for (int l = 0; l < 4; ++l) {
                const __m256 dl = _mm256_set1_ps(d * static_cast<float>(s.scale[l / 2]));
                const __m256 delta =
                    _mm256_set1_ps(s.negative >> l & 1u ? -formats::kIq1Delta : formats::kIq1Delta);
                const __m128i row = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(grid + 8 * s.point[l]));
                _mm256_storeu_ps(y + b * QK_K + 32 * ib + 8 * l,
                                 _mm256_mul_ps(dl, _mm256_add_ps(bytes_to_floats(row), delta)));
            }
        }
    }
}

// F16: F16C's conversion, exact as formats' fp16_to_fp32 (NaNs made quiet)
void dequantize_f16(const void *src, float *y, int64_t n) {
    const uint16_t *x = static_cast<const uint16_t *>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + i))));
    for (; i < n; ++i) y[i] = half(x[i]);
}

constexpr Dequantizers make() {
    Dequantizers k{};
    k.by_type[LB_TYPE_F16] = dequantize_f16;
    k.by_type[LB_TYPE_Q5_0] = dequantize_q5_0;
    k.by_type[LB_TYPE_Q5_1] = dequantize_q5_1;
    k.by_type[LB_TYPE_Q2_K] = dequantize_q2_K;
    k.by_type[LB_TYPE_Q3_K] = dequantize_q3_K;
    k.by_type[LB_TYPE_Q5_K] = dequantize_q5_K;
    k.by_type[LB_TYPE_Q6_K] = dequantize_q6_K;
    k.by_type[LB_TYPE_IQ2_XXS] = dequantize_lattice<formats::block_iq2_xxs>;
    k.by_type[LB_TYPE_IQ2_XS] = dequantize_lattice<formats::block_iq2_xs>;
    k.by_type[LB_TYPE_IQ2_S] = dequantize_lattice<formats::block_iq2_s>;
    k.by_type[LB_TYPE_IQ3_XXS] = dequantize_lattice<formats::block_iq3_xxs>;
    k.by_type[LB_TYPE_IQ3_S] = dequantize_lattice<formats::block_iq3_s>;
    k.by_type[LB_TYPE_IQ1_S] = dequantize_iq1<formats::block_iq1_s>;
    k.by_type[LB_TYPE_IQ1_M] = dequantize_iq1<formats::block_iq1_m>;
    return k;
}

} // namespace

constinit const Dequantizers kDequantizers = make();

} // namespace lb::kernels::avx2
