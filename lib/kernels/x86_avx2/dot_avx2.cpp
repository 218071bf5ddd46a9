// AVX2 dot kernels (with FMA and F16C): compiled with those flags and used
// only on CPUs that have them. Everything here lives in lb::kernels::avx2 and
// calls no inline function outside an instruction-set namespace (the shared
// loops of kernels/row_tiles.hpp are compiled into isa_avx2 here), so no AVX2
// copy of shared code can reach the rest of the library.
//
// Results equal the scalar reference up to the order of float additions:
// integer block sums are exact, and each block's scale product is the
// reference's; only the accumulation across blocks differs (tests bound it).
#include "formats/blocks.hpp"
#include "formats/kquant_scales.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/float_rows.hpp"
#include "kernels/row_tiles.hpp"
#include "kernels/x86_avx2/activations_avx2.hpp"
#include "kernels/x86_avx2/lattice_dots_avx2.hpp"
#include "kernels/x86_avx2/levels_avx2.hpp"
#include "kernels/x86_avx2/newer_dots_avx2.hpp"
#include "kernels/x86_avx2/q8_0_pass_avx2.hpp"
#include "kernels/x86_avx2/tiled_avx2.hpp"
#include "kernels/x86_kquant_parts.hpp"

#include <cstring>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::block_q4_0;
using formats::block_q4_K;
using formats::block_q5_K;
using formats::block_q6_K;
using formats::block_q8_0;
using formats::block_q8_K;
using formats::QK_K;

// --- Q8_0 and Q4_0 x Q8_0 ---------------------------------------------------

// The 32 signed weights of block b of a Q8_0 row, and its scale.
struct Q8_0Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d) {
        const block_q8_0 &x = reinterpret_cast<const block_q8_0 *>(row)[b];
        *d = half(x.d);
        return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs));
    }
};

// Q4_0: elements 0..15 from the low nibbles, 16..31 from the high ones, minus 8.
struct Q4_0Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d) {
        const block_q4_0 &x = reinterpret_cast<const block_q4_0 *>(row)[b];
        *d = half(x.d);
        const __m256i nibbles = nibbles32(x.qs);
        return _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8));
    }
};

// Q5_0: Q4_0's nibbles with a fifth bit, bit j of qh for element j, minus 16.
struct Q5_0Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d) {
        const formats::block_q5_0 &x = reinterpret_cast<const formats::block_q5_0 *>(row)[b];
        *d = half(x.d);
        const __m256i nibbles = nibbles32(x.qs);
        return _mm256_sub_epi8(_mm256_or_si256(nibbles, fifth_bits(x.qh)), _mm256_set1_epi8(16));
    }
};

// Q4_1 / Q5_1 x Q8_1: per block dw * dy * sum(q_w q_y) + m_w * s_y, where
// s_y = dy * sum(q_y) is the activation block's stored sum. The weights'
// levels are unsigned, so vpmaddubsw takes them as they are.
template <typename W> struct Q8_1Pass {
    // acc (and min) + block b of one row times one token
    static __m256 block(const uint8_t *w, const uint8_t *a, int64_t b, __m256 acc, float *min) {
        float dw, mw;
        const __m256i wq = W::values(w, b, &dw, &mw);
        const formats::block_q8_1 &y = reinterpret_cast<const formats::block_q8_1 *>(a)[b];
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wq, yq), _mm256_set1_epi16(1));
        *min += mw * half(y.s);
        return _mm256_fmadd_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p), acc);
    }

    template <int R, int J>
    static void run(int64_t nb, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        if constexpr (R == 1 && J == 1) { // as in Q8_0Pass
            __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
            float min_even = 0.0f, min_odd = 0.0f;
            int64_t b = 0;
            for (; b + 1 < nb; b += 2) {
                even = block(wr[0], ar[0], b, even, &min_even);
                odd = block(wr[0], ar[0], b + 1, odd, &min_odd);
            }
            if (b < nb) even = block(wr[0], ar[0], b, even, &min_even);
            sums[0][0] = hsum(_mm256_add_ps(even, odd)) + (min_even + min_odd);
            return;
        }
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[R][J];
        float acc_min[R][J];
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) acc[i][j] = _mm256_setzero_ps(), acc_min[i][j] = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
            __m256i wq[R];
            float dw[R], mw[R];
            for (int i = 0; i < R; ++i) wq[i] = W::values(wr[i], b, &dw[i], &mw[i]);
            for (int j = 0; j < J; ++j) {
                const formats::block_q8_1 &y = reinterpret_cast<const formats::block_q8_1 *>(ar[j])[b];
                const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs));
                const float dy = half(y.d), sy = half(y.s);
                for (int i = 0; i < R; ++i) {
                    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wq[i], yq), ones);
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dw[i] * dy), _mm256_cvtepi32_ps(p), acc[i][j]);
                    acc_min[i][j] += mw[i] * sy;
                }
            }
        }
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) sums[i][j] = hsum(acc[i][j]) + acc_min[i][j];
    }
};

// Q4_1: the nibbles as Q4_0 lays them out, without an offset.
struct Q4_1Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d, float *m) {
        const formats::block_q4_1 &x = reinterpret_cast<const formats::block_q4_1 *>(row)[b];
        *d = half(x.d);
        *m = half(x.m);
        return nibbles32(x.qs);
    }
};

// Q5_1: Q4_1's nibbles with a fifth bit, bit j of qh for element j.
struct Q5_1Weights {
    static __m256i values(const uint8_t *row, int64_t b, float *d, float *m) {
        const formats::block_q5_1 &x = reinterpret_cast<const formats::block_q5_1 *>(row)[b];
        *d = half(x.d);
        *m = half(x.m);
        const __m256i nibbles = nibbles32(x.qs);
        return _mm256_or_si256(nibbles, fifth_bits(x.qh));
    }
};

void tile_q8_0(const MatmulTile &t) {
    tile_by_groups<Q8_0Pass<Q8_0Weights>, 2, 4>(t, 32);
}
void tile_q4_0(const MatmulTile &t) {
    tile_by_groups<Q8_0Pass<Q4_0Weights>, 2, 4>(t, 32);
}
void tile_q5_0(const MatmulTile &t) {
    tile_by_groups<Q8_0Pass<Q5_0Weights>, 2, 4>(t, 32);
}
void tile_q4_1(const MatmulTile &t) {
    tile_by_groups<Q8_1Pass<Q4_1Weights>, 2, 4>(t, 32);
}
void tile_q5_1(const MatmulTile &t) {
    tile_by_groups<Q8_1Pass<Q5_1Weights>, 2, 4>(t, 32);
}

// --- Q4_K / Q5_K x Q8_K -------------------------------------------------------

// One weight row against J tokens: per super-block, each sub-block's levels
// are decoded once and multiplied into the J tokens' integer sums.
template <bool Q5, int J>
void q45_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i low = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    __m256 acc[J];
    __m128 acc_min[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps(), acc_min[j] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t *qs, *scales, *qh = nullptr;
        uint16_t dh, dminh;
        if constexpr (Q5) {
            const block_q5_K &x = reinterpret_cast<const block_q5_K *>(w)[b];
            qs = x.qs, scales = x.scales, qh = x.qh, dh = x.d, dminh = x.dmin;
        } else {
            const block_q4_K &x = reinterpret_cast<const block_q4_K *>(w)[b];
            qs = x.qs, scales = x.scales, dh = x.d, dminh = x.dmin;
        }
        const __m128i scales_mins = scales_mins_k4(scales);
        const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins));
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        __m256i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm256_setzero_si256();
        const __m256i hbits =
            Q5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qh)) : _mm256_setzero_si256();
        for (int s = 0; s < 8; ++s) {
            // sub-block s: the low (even s) or high (odd s) nibbles of bytes
            // 32 (s / 2) ...; Q5_K: bit s of qh[l] is the fifth bit of value l
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qs + 32 * (s / 2)));
            __m256i levels = _mm256_and_si256(s % 2 ? _mm256_srli_epi16(q, 4) : q, low);
            if constexpr (Q5)
                levels = _mm256_or_si256(
                    levels, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, s), one), 4));
            // the scale as a 16-bit factor of madd (the byte products fit in
            // 16 bits: levels < 32, |q8| <= 128)
            const __m256i scale =
                _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * s)));
            for (int j = 0; j < J; ++j) {
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 32 * s));
                total[j] =
                    _mm256_add_epi32(total[j], _mm256_madd_epi16(_mm256_maddubs_epi16(levels, q8), scale));
            }
        }
        const float dw = half(dh), dminw = half(dminh);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[j]->d), _mm256_cvtepi32_ps(total[j]), acc[j]);
            acc_min[j] = _mm_fmadd_ps(_mm_set1_ps(dminw * y[j]->d),
                                      _mm_cvtepi32_ps(mins_dot_k4(y[j]->bsums, scales_mins)), acc_min[j]);
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - hsum_ps128(acc_min[j]);
}

template <bool Q5> void tile_q45_K(const MatmulTile &t) {
    tile_by_rows<q45_K_pass<Q5, kTokens>, q45_K_pass<Q5, 1>>(t, QK_K);
}

// --- Q2_K / Q3_K x Q8_K --------------------------------------------------------
// Levels (h, g) of a super-block: values 128h + 32g + l, l < 32, from two
// bits of qs[32h + l] at 2g; their groups of 16 are 8h + 2g and 8h + 2g + 1.

// The factors of groups 8h + 2g (16-bit lanes 0..7) and 8h + 2g + 1 (lanes
// 8..15) for madd, from the 16-bit factors of groups 8h .. 8h + 7 in both
// 128-bit lanes of `eight`.
inline __m256i group_pair16(__m256i eight, int g) {
    return _mm256_shuffle_epi8(
        eight, _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * g + 1))),
                                _mm_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * g)))));
}

// The 16 group factors (16-bit) as the groups 0..7 and 8..15, each in both
// 128-bit lanes.
struct GroupFactors {
    __m256i all, half[2];
    explicit GroupFactors(__m256i factors16)
        : all(factors16), half{_mm256_permute2x128_si256(factors16, factors16, 0x00),
                               _mm256_permute2x128_si256(factors16, factors16, 0x11)} {}
};

// Q2_K: level (0..3) * d * (scale & 15) - dmin * (scale >> 4), per group.
template <int J> void q2_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc[J], acc_min[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps(), acc_min[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q2_K &x = reinterpret_cast<const formats::block_q2_K *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x.scales));
        const GroupFactors scales(_mm256_cvtepu8_epi16(_mm_and_si128(packed, _mm_set1_epi8(0x0f))));
        const __m256i mins16 = _mm256_cvtepu8_epi16(
            _mm_srli_epi16(_mm_and_si128(packed, _mm_set1_epi8(static_cast<char>(0xf0))), 4));
        __m256i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs + 32 * h));
            for (int g = 0; g < 4; ++g) {
                const __m256i levels = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three);
                const __m256i scale = group_pair16(scales.half[h], g);
                for (int j = 0; j < J; ++j) {
                    const __m256i q8 =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 128 * h + 32 * g));
                    total[j] = _mm256_add_epi32(total[j],
                                                _mm256_madd_epi16(_mm256_maddubs_epi16(levels, q8), scale));
                }
            }
        }
        const float dw = half(x.d), dminw = half(x.dmin);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[j]->d), _mm256_cvtepi32_ps(total[j]), acc[j]);
            acc_min[j] = _mm256_fmadd_ps(_mm256_set1_ps(dminw * y[j]->d),
                                         _mm256_cvtepi32_ps(bsums_madd(y[j]->bsums, mins16)), acc_min[j]);
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - hsum(acc_min[j]);
}

void tile_q2_K(const MatmulTile &t) {
    tile_by_rows<q2_K_pass<kTokens>, q2_K_pass<1>>(t, QK_K);
}

// Q3_K: level = two bits - (high bit ? 0 : 4), times d * (6-bit scale - 32).
// vpmaddubsw takes the level + 4 = two bits + 4 * high bit (0..7); the 4 is
// taken back through Q8_K's block sums: 4 * sum(scale * bsum).
template <int J> void q3_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc[J], acc_offset[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps(), acc_offset[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q3_K &x = reinterpret_cast<const formats::block_q3_K *>(w)[b];
        const GroupFactors scales(q3_K_scales16(x.scales));
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        __m256i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm256_setzero_si256();
        const __m256i hmask = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.hmask));
        for (int h = 0; h < 2; ++h) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs + 32 * h));
            for (int g = 0; g < 4; ++g) {
                const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + g), one);
                const __m256i levels = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three),
                                                       _mm256_slli_epi16(high, 2));
                const __m256i scale = group_pair16(scales.half[h], g);
                for (int j = 0; j < J; ++j) {
                    const __m256i q8 =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 128 * h + 32 * g));
                    total[j] = _mm256_add_epi32(total[j],
                                                _mm256_madd_epi16(_mm256_maddubs_epi16(levels, q8), scale));
                }
            }
        }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[j]->d), _mm256_cvtepi32_ps(total[j]), acc[j]);
            acc_offset[j] =
                _mm256_fmadd_ps(_mm256_set1_ps(4 * dw * y[j]->d),
                                _mm256_cvtepi32_ps(bsums_madd(y[j]->bsums, scales.all)), acc_offset[j]);
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - hsum(acc_offset[j]);
}

void tile_q3_K(const MatmulTile &t) {
    tile_by_rows<q3_K_pass<kTokens>, q3_K_pass<1>>(t, QK_K);
}

// --- Q6_K x Q8_K --------------------------------------------------------------

template <int J> void q6_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m256i low = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
    __m256 acc[J], acc_offset[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps(), acc_offset[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const block_q6_K &x = reinterpret_cast<const block_q6_K *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        const GroupFactors scales(
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.scales))));
        __m256i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            // levels q (0..63) of group g of 32, in value order: half h = g / 4
            // of the block; low nibbles of ql bytes 64 h (+ 32 for odd g), the
            // high ones for g % 4 >= 2; two bits of qh byte 32 h + l at 2 (g % 4)
            const int h = g / 4, k = g % 4;
            const __m256i l =
                _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.ql + 64 * h + 32 * (k % 2)));
            const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qh + 32 * h));
            const __m256i levels =
                _mm256_or_si256(_mm256_and_si256(k >= 2 ? _mm256_srli_epi16(l, 4) : l, low),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 2 * k), three), 4));
            // the group's two 16-value scales, as 16-bit lanes for madd
            const __m256i scale = group_pair16(scales.half[h], k);
            for (int j = 0; j < J; ++j) {
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 32 * g));
                total[j] =
                    _mm256_add_epi32(total[j], _mm256_madd_epi16(_mm256_maddubs_epi16(levels, q8), scale));
            }
        }
        // the offset of 32: 32 x the sum of scale * bsum over the 16 groups
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[j]->d), _mm256_cvtepi32_ps(total[j]), acc[j]);
            acc_offset[j] =
                _mm256_fmadd_ps(_mm256_set1_ps(32 * dw * y[j]->d),
                                _mm256_cvtepi32_ps(bsums_madd(y[j]->bsums, scales.all)), acc_offset[j]);
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - hsum(acc_offset[j]);
}

void tile_q6_K(const MatmulTile &t) {
    tile_by_rows<q6_K_pass<kTokens>, q6_K_pass<1>>(t, QK_K);
}

// --- F32 / F16 / BF16 weights x F32 activations ---------------------------------

// F16 activations rounded with F16C (float_rows.hpp has the others)
void f16_rounded_activations(const float *x, void *y, int64_t n) {
    float *out = static_cast<float *>(y);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i,
                         _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
    if (i < n) { // the tail, through a padded vector
        float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int64_t k = 0; i + k < n; ++k) tail[k] = x[i + k];
        _mm256_storeu_ps(tail,
                         _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(tail), _MM_FROUND_TO_NEAREST_INT)));
        for (int64_t k = 0; i + k < n; ++k) out[i + k] = tail[k];
    }
}

inline __m256 load_f32(const void *p) {
    return _mm256_loadu_ps(static_cast<const float *>(p));
}
inline __m256 load_f16(const void *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i *>(p)));
}
inline __m256 load_bf16(const void *p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(static_cast<const __m128i *>(p))), 16));
}
inline float widen_f16(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// 8-lane float vectors for float_rows.hpp's FloatPass
struct F32x8 {
    using T = __m256;
    static constexpr int kLanes = 8, kRows = 3;
    static T zero() { return _mm256_setzero_ps(); }
    static T load(const float *p) { return _mm256_loadu_ps(p); }
    static T fma(T a, T b, T acc) { return _mm256_fmadd_ps(a, b, acc); }
    static T add(T a, T b) { return _mm256_add_ps(a, b); }
    static float sum(T v) { return hsum(v); }
};

DotKernels make() {
    DotKernels k = reference_dot(); // the types without their own code below
    // the quantized activation rows from activations_avx2.cpp (the same bytes)
    for (uint32_t t = 0; t < formats::kTypeCount; ++t) {
        formats::QuantizeActivationsFn &q = k.by_type[t].quantize_activations;
        if (q == nullptr) continue;
        switch (formats::traits(t).vec_dot_type) {
        case LB_TYPE_Q8_0: q = quantize_q8_0_activations; break;
        case LB_TYPE_Q8_1: q = quantize_q8_1_activations; break;
        case LB_TYPE_Q8_K: q = quantize_q8_K_activations; break;
        default: break;
        }
    }
    use_float_tile<tile_float<F32x8, 4, load_f32, widen_f32>>(k.by_type[LB_TYPE_F32], f32_activations);
    use_float_tile<tile_float<F32x8, 2, load_f16, widen_f16>>(k.by_type[LB_TYPE_F16],
                                                              f16_rounded_activations);
    use_float_tile<tile_float<F32x8, 2, load_bf16, widen_bf16>>(k.by_type[LB_TYPE_BF16],
                                                                bf16_rounded_activations);
    use_tile<tile_q8_0>(k.by_type[LB_TYPE_Q8_0]);
    use_tile<tile_q4_0>(k.by_type[LB_TYPE_Q4_0]);
    use_tile<tile_q5_0>(k.by_type[LB_TYPE_Q5_0]);
    use_tile<tile_q4_1>(k.by_type[LB_TYPE_Q4_1]);
    use_tile<tile_q5_1>(k.by_type[LB_TYPE_Q5_1]);
    use_tile<tile_q45_K<false>>(k.by_type[LB_TYPE_Q4_K]);
    use_tile<tile_q45_K<true>>(k.by_type[LB_TYPE_Q5_K]);
    use_tile<tile_q6_K>(k.by_type[LB_TYPE_Q6_K]);
    use_tile<tile_q2_K>(k.by_type[LB_TYPE_Q2_K]);
    use_tile<tile_q3_K>(k.by_type[LB_TYPE_Q3_K]);
    use_newer_format_dots(k);
    use_lattice_dots(k);
    k.tiled[static_cast<int>(formats::Layout::q8r16)] = tile_q8r16;
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

} // namespace lb::kernels::avx2
