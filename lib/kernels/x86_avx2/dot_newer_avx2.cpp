// AVX2 dot kernels (with FMA and F16C) of the newer formats: those whose values
// are looked up in a 16-entry table (IQ4_NL, MXFP4 and NVFP4 with Q8_0;
// IQ4_XS with Q8_K), the ternary TQ2_0 (with Q8_K) and the 1- and 2-bit Q1_0
// and Q2_0 (with Q8_0). As in dot_avx2.cpp: the integer block sums are exact,
// each block's (or sub-block's) scale product is the scalar reference's, and
// only the order of float additions differs (tests bound it). TQ1_0 keeps the
// scalar reference's dot.
#include "common/fp8_scales.hpp"
#include "formats/blocks.hpp"
#include "formats/iq4_xs_scales.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/float_rows.hpp"
#include "kernels/row_tiles.hpp"
#include "kernels/x86_avx2/levels_avx2.hpp"
#include "kernels/x86_avx2/newer_dots_avx2.hpp"
#include "kernels/x86_avx2/q8_0_pass_avx2.hpp"

#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::block_iq4_nl;
using formats::block_iq4_xs;
using formats::block_mxfp4;
using formats::block_nvfp4;
using formats::block_q1_0;
using formats::block_q2_0;
using formats::block_q8_K;
using formats::block_tq2_0;
using formats::QK_K;

// A 16-entry signed table in both 128-bit lanes, for vpshufb.
inline __m256i table16(const int8_t *levels) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i *>(levels));
    return _mm256_set_m128i(t, t);
}

// IQ4_NL: element j in the low nibble of qs[j], j + 16 in the high one; each
// nibble indexes kIq4nlLevels.
struct IQ4_NLWeights {
    static __m256i values(const uint8_t *row, int64_t b, float *d) {
        const block_iq4_nl &x = reinterpret_cast<const block_iq4_nl *>(row)[b];
        *d = half(x.d);
        return _mm256_shuffle_epi8(table16(formats::kIq4nlLevels), nibbles32(x.qs));
    }
};

// MXFP4: the same nibble order, indexing the doubled E2M1 levels, with the
// E8M0 exponent decoded at half its value.
struct MXFP4Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d) {
        const block_mxfp4 &x = reinterpret_cast<const block_mxfp4 *>(row)[b];
        *d = e8m0_to_fp32_half(x.e);
        return _mm256_shuffle_epi8(table16(formats::kFp4Levels), nibbles32(x.qs));
    }
};

void tile_iq4_nl(const MatmulTile &t) {
    tile_by_groups<Q8_0Pass<IQ4_NLWeights>, 2, 4>(t, 32);
}
void tile_mxfp4(const MatmulTile &t) {
    tile_by_groups<Q8_0Pass<MXFP4Weights>, 2, 4>(t, 32);
}

// --- IQ4_XS x Q8_K ---------------------------------------------------------------

// Per super-block: d_w d_a times the exact sum over sub-blocks of l times
// sum(level q8).
template <int J> void iq4_xs_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i table = table16(formats::kIq4nlLevels);
    __m256 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const block_iq4_xs &x = reinterpret_cast<const block_iq4_xs *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        __m256i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm256_setzero_si256();
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            // elements 32 ib + j and 32 ib + 16 + j from qs[16 ib + j]
            const __m256i v = _mm256_shuffle_epi8(table, nibbles32(x.qs + 16 * ib));
            const __m256i magnitude = _mm256_sign_epi8(v, v);
            const __m256i scale = _mm256_set1_epi16(static_cast<int16_t>(formats::iq4_xs_sub_scale(x, ib)));
            for (int j = 0; j < J; ++j) {
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 32 * ib));
                const __m256i pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(q8, v));
                total[j] = _mm256_add_epi32(total[j], _mm256_madd_epi16(pairs, scale));
            }
        }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j)
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[j]->d), _mm256_cvtepi32_ps(total[j]), acc[j]);
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]);
}

void tile_iq4_xs(const MatmulTile &t) {
    tile_by_rows<iq4_xs_pass<kTokens>, iq4_xs_pass<1>>(t, QK_K);
}

// --- TQ2_0 x Q8_K ----------------------------------------------------------------

// Per super-block: d_a d_w times the exact sum(q q8) - sum(q8), q in [0, 3]
// the stored code: bits 2 k of byte 32 c + m hold element 128 c + 32 k + m.
// The activations' sum comes from Q8_K's 16-value sums.
template <int J> void tq2_0_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i three = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    __m256 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const block_tq2_0 &x = reinterpret_cast<const block_tq2_0 *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        __m256i total[J];
        for (int j = 0; j < J; ++j)
            total[j] = _mm256_sub_epi32(
                _mm256_setzero_si256(),
                _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->bsums)), ones));
        for (int c = 0; c < 2; ++c) {
            const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs + 32 * c));
            for (int k = 0; k < 4; ++k) {
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * k), three);
                for (int j = 0; j < J; ++j) {
                    const __m256i q8 =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 128 * c + 32 * k));
                    total[j] =
                        _mm256_add_epi32(total[j], _mm256_madd_epi16(_mm256_maddubs_epi16(q, q8), ones));
                }
            }
        }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j)
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(y[j]->d * dw), _mm256_cvtepi32_ps(total[j]), acc[j]);
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]);
}

void tile_tq2_0(const MatmulTile &t) {
    tile_by_rows<tq2_0_pass<kTokens>, tq2_0_pass<1>>(t, QK_K);
}

// --- NVFP4 x Q8_0 ------------------------------------------------------------------

// Per Q8_0 block k of a 64-block: its two 16-value sub-blocks 2 k, 2 k + 1, each
// (d_a s) times the exact sum(level q8). Sub-block s's 16 elements are the low
// then the high nibbles of bytes 8 s .. 8 s + 7.
template <int J> void nvfp4_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i table = table16(formats::kFp4Levels), ones = _mm256_set1_epi16(1);
    const __m128i low = _mm_set1_epi8(0x0f);
    __m256 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const block_nvfp4 &x = reinterpret_cast<const block_nvfp4 *>(w)[b];
        for (int k = 0; k < 2; ++k) {
            const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qs + 16 * k));
            const __m128i lo = _mm_and_si128(packed, low), hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
            const __m256i v = _mm256_shuffle_epi8(
                table, _mm256_set_m128i(_mm_unpackhi_epi64(lo, hi), _mm_unpacklo_epi64(lo, hi)));
            const __m256i magnitude = _mm256_sign_epi8(v, v);
            // 32-bit lanes 0..3 hold sub-block 2 k's sums, 4..7 those of 2 k + 1
            const float s0 = ue4m3_to_fp32_half(x.d[2 * k]), s1 = ue4m3_to_fp32_half(x.d[2 * k + 1]);
            for (int j = 0; j < J; ++j) {
                const block_q8_0 &y = reinterpret_cast<const block_q8_0 *>(ar[j])[2 * b + k];
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
                const __m256i p =
                    _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(q8, v)), ones);
                const float dy = half(y.d);
                const __m256 scale = _mm256_set_m128(_mm_set1_ps(dy * s1), _mm_set1_ps(dy * s0));
                acc[j] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(p), acc[j]);
            }
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]);
}

void tile_nvfp4(const MatmulTile &t) {
    tile_by_rows<nvfp4_pass<kTokens>, nvfp4_pass<1>>(t, formats::QK_NVFP4);
}

// --- Q1_0 and Q2_0 x Q8_0 ---------------------------------------------------------

// +1 or -1 for elements 32 k .. 32 k + 31 of a Q1_0 block, from bytes 4 k ..
// 4 k + 3 of qs: +1 where bit e % 8 of byte e / 8 is set.
inline __m256i q1_0_signs(const uint8_t *bytes) {
    return _mm256_sub_epi8(_mm256_setzero_si256(), sign_bytes(bytes));
}

// The codes q of elements 32 k .. 32 k + 31 of a Q2_0 block, from bytes 8 k ..
// 8 k + 7 of qs: element 4 m + p at bits 2 p of byte m.
inline __m256i q2_0_codes(const uint8_t *bytes) {
    const __m128i packed = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(bytes));
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set_m128i(packed, packed), _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4,
                                                           4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7));
    const __m256i three = _mm256_set1_epi8(3);
    const __m256i position = _mm256_set1_epi32(0x03020100); // p = j % 4
    __m256i q = _mm256_and_si256(spread, three);
    for (int p = 1; p < 4; ++p)
        q = _mm256_blendv_epi8(q, _mm256_and_si256(_mm256_srli_epi16(spread, 2 * p), three),
                               _mm256_cmpeq_epi8(position, _mm256_set1_epi8(static_cast<char>(p))));
    return q;
}

// Per Q8_0 block k of a weight block: (d_w d_a) times the exact sum, Q1_0's
// sum(+-q8) or Q2_0's sum(q q8) - sum(q8).
template <bool kTwoBit, int J>
void low_bit_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    constexpr int kSubs = kTwoBit ? formats::QK2_0 / 32 : formats::QK1_0 / 32;
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        float dw;
        const uint8_t *qs;
        if constexpr (kTwoBit) {
            const block_q2_0 &x = reinterpret_cast<const block_q2_0 *>(w)[b];
            dw = half(x.d), qs = x.qs;
        } else {
            const block_q1_0 &x = reinterpret_cast<const block_q1_0 *>(w)[b];
            dw = half(x.d), qs = x.qs;
        }
        for (int k = 0; k < kSubs; ++k) {
            const __m256i v = kTwoBit ? q2_0_codes(qs + 8 * k) : q1_0_signs(qs + 4 * k);
            for (int j = 0; j < J; ++j) {
                const block_q8_0 &y = reinterpret_cast<const block_q8_0 *>(ar[j])[kSubs * b + k];
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
                __m256i s;
                if constexpr (kTwoBit)
                    s = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(v, q8), ones16),
                                         _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q8), ones16));
                else
                    s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_sign_epi8(q8, v)), ones16);
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(s), acc[j]);
            }
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]);
}

void tile_q1_0(const MatmulTile &t) {
    tile_by_rows<low_bit_pass<false, kTokens>, low_bit_pass<false, 1>>(t, formats::QK1_0);
}
void tile_q2_0(const MatmulTile &t) {
    tile_by_rows<low_bit_pass<true, kTokens>, low_bit_pass<true, 1>>(t, formats::QK2_0);
}

} // namespace

void use_newer_format_dots(DotKernels &k) {
    use_tile<tile_iq4_nl>(k.by_type[LB_TYPE_IQ4_NL]);
    use_tile<tile_mxfp4>(k.by_type[LB_TYPE_MXFP4]);
    use_tile<tile_iq4_xs>(k.by_type[LB_TYPE_IQ4_XS]);
    use_tile<tile_tq2_0>(k.by_type[LB_TYPE_TQ2_0]);
    use_tile<tile_nvfp4>(k.by_type[LB_TYPE_NVFP4]);
    use_tile<tile_q1_0>(k.by_type[LB_TYPE_Q1_0]);
    use_tile<tile_q2_0>(k.by_type[LB_TYPE_Q2_0]);
}

} // namespace lb::kernels::avx2
