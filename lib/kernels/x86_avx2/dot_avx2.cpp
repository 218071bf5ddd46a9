// AVX2 dot kernels (with FMA and F16C): compiled with those flags and used
// only on CPUs that have them. Everything here lives in lb::kernels::avx2 and
// calls no inline function of another namespace, so no AVX2 copy of shared
// code can reach the rest of the library.
//
// Results equal the scalar reference up to the order of float additions:
// integer block sums are exact, and each block's scale product is the
// reference's; only the accumulation across blocks differs (tests bound it).
#include "formats/blocks.hpp"
#include "kernels/dot_kernels.hpp"

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

inline float half(uint16_t h) {
    return _cvtsh_ss(h);
}
inline int64_t lesser(int64_t a, int64_t b) {
    return a < b ? a : b;
}
inline int lesser(int a, int b) {
    return a < b ? a : b;
}

inline float hsum(__m256 v) {
    const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// sum over pairs of signed bytes x y, as 8 int32 (each the sum of 4 products)
inline __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// unsigned bytes x (< 128) times signed bytes y, as 8 int32
inline __m256i dot_u8_i8(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

// The tiles below take up to kTokens activation rows per pass over a weight
// row, so each weight block is decoded once for them all.
constexpr int kTokens = 4;

template <typename Tile> void by_token_groups(const MatmulTile &t, Tile tile) {
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokens) {
        const int nt = static_cast<int>(lesser(static_cast<int64_t>(kTokens), t.n_tokens - j0));
        for (int64_t r = 0; r < t.n_rows; ++r) {
            float sums[kTokens];
            tile(t.w + static_cast<size_t>(r) * t.w_stride, t.a + static_cast<size_t>(j0) * t.a_stride, nt,
                 sums);
            for (int j = 0; j < nt; ++j) t.out[(j0 + j) * t.out_stride + r] = sums[j];
        }
    }
}

// --- Q8_0 x Q8_0 ------------------------------------------------------------

void tile_q8_0(const MatmulTile &t) {
    const int64_t nb = t.n / 32;
    by_token_groups(t, [&](const uint8_t *w, const uint8_t *a, int nt, float *sums) {
        const block_q8_0 *x = reinterpret_cast<const block_q8_0 *>(w);
        __m256 acc[kTokens] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                               _mm256_setzero_ps()};
        for (int64_t b = 0; b < nb; ++b) {
            const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qs));
            const float dw = half(x[b].d);
            for (int j = 0; j < nt; ++j) {
                const block_q8_0 &y =
                    reinterpret_cast<const block_q8_0 *>(a + static_cast<size_t>(j) * t.a_stride)[b];
                const __m256i p = dot_i8(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs)));
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p), acc[j]);
            }
        }
        for (int j = 0; j < nt; ++j) sums[j] = hsum(acc[j]);
    });
}

// --- Q4_0 x Q8_0 ------------------------------------------------------------

void tile_q4_0(const MatmulTile &t) {
    const int64_t nb = t.n / 32;
    const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    by_token_groups(t, [&](const uint8_t *w, const uint8_t *a, int nt, float *sums) {
        const block_q4_0 *x = reinterpret_cast<const block_q4_0 *>(w);
        __m256 acc[kTokens] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                               _mm256_setzero_ps()};
        for (int64_t b = 0; b < nb; ++b) {
            // elements 0..15 from the low nibbles, 16..31 from the high ones
            const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x[b].qs));
            const __m256i nibbles =
                _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
            const __m256i wq = _mm256_sub_epi8(nibbles, eight);
            const float dw = half(x[b].d);
            for (int j = 0; j < nt; ++j) {
                const block_q8_0 &y =
                    reinterpret_cast<const block_q8_0 *>(a + static_cast<size_t>(j) * t.a_stride)[b];
                const __m256i p = dot_i8(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs)));
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p), acc[j]);
            }
        }
        for (int j = 0; j < nt; ++j) sums[j] = hsum(acc[j]);
    });
}

// --- Q4_K / Q5_K x Q8_K -------------------------------------------------------

// The 6-bit scales and mins of Q4_K / Q5_K (formats/kquant_scales.hpp's packing).
inline void scales_mins_k4(const uint8_t *s, int *sc, int *m) {
    for (int j = 0; j < 4; ++j) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 0x0f) | ((s[j] >> 6) << 4);
        m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
}

// sum of mins[j / 2] * bsums[j] over the 16 groups of 16 (sub-blocks of 32)
inline int mins_dot(const int *m, const int16_t *bsums) {
    int s = 0;
    for (int j = 0; j < 16; ++j) s += m[j / 2] * bsums[j];
    return s;
}

template <bool Q5> void tile_q45_K(const MatmulTile &t) {
    const int64_t nb = t.n / QK_K;
    const __m256i low = _mm256_set1_epi8(0x0f);
    by_token_groups(t, [&](const uint8_t *w, const uint8_t *a, int nt, float *sums) {
        __m256 acc[kTokens] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                               _mm256_setzero_ps()};
        float acc_min[kTokens] = {0, 0, 0, 0};
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
            int sc[8], m[8];
            scales_mins_k4(scales, sc, m);
            // the 8 sub-blocks' levels, 32 bytes each
            __m256i levels[8];
            const __m256i hbits =
                Q5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qh)) : _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qs + 32 * c));
                levels[2 * c] = _mm256_and_si256(q, low);
                levels[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                if constexpr (Q5) {
                    // bit 2c (2c + 1) of qh[l] is the fifth bit of value l of sub-block 2c (2c + 1)
                    const __m256i b0 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c), _mm256_set1_epi8(1));
                    const __m256i b1 =
                        _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c + 1), _mm256_set1_epi8(1));
                    levels[2 * c] = _mm256_or_si256(levels[2 * c], _mm256_slli_epi16(b0, 4));
                    levels[2 * c + 1] = _mm256_or_si256(levels[2 * c + 1], _mm256_slli_epi16(b1, 4));
                }
            }
            const float dw = half(dh), dminw = half(dminh);
            for (int j = 0; j < nt; ++j) {
                const block_q8_K &y =
                    reinterpret_cast<const block_q8_K *>(a + static_cast<size_t>(j) * t.a_stride)[b];
                __m256i total = _mm256_setzero_si256();
                for (int s = 0; s < 8; ++s) {
                    const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs + 32 * s));
                    total = _mm256_add_epi32(
                        total, _mm256_mullo_epi32(dot_u8_i8(levels[s], q8), _mm256_set1_epi32(sc[s])));
                }
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y.d), _mm256_cvtepi32_ps(total), acc[j]);
                acc_min[j] += dminw * y.d * static_cast<float>(mins_dot(m, y.bsums));
            }
        }
        for (int j = 0; j < nt; ++j) sums[j] = hsum(acc[j]) - acc_min[j];
    });
}

// --- Q6_K x Q8_K --------------------------------------------------------------

void tile_q6_K(const MatmulTile &t) {
    const int64_t nb = t.n / QK_K;
    const __m256i low = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
    by_token_groups(t, [&](const uint8_t *w, const uint8_t *a, int nt, float *sums) {
        __m256 acc[kTokens] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                               _mm256_setzero_ps()};
        for (int64_t b = 0; b < nb; ++b) {
            const block_q6_K &x = reinterpret_cast<const block_q6_K *>(w)[b];
            // levels q (0..63) of the 8 groups of 32, in value order
            __m256i levels[8];
            for (int h = 0; h < 2; ++h) {
                const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.ql + 64 * h + 32));
                const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qh + 32 * h));
                auto high = [&](int shift) {
                    return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, shift), three), 4);
                };
                levels[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, low), high(0));
                levels[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, low), high(2));
                levels[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), high(4));
                levels[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), high(6));
            }
            // per group of 32: the two 16-value scales, as 16-bit lanes for madd
            __m256i scales[8];
            for (int g = 0; g < 8; ++g)
                scales[g] =
                    _mm256_set_m128i(_mm_set1_epi16(x.scales[2 * g + 1]), _mm_set1_epi16(x.scales[2 * g]));
            int scale_sum = 0; // for the offset of 32: sum of scale * bsum
            const float dw = half(x.d);
            for (int j = 0; j < nt; ++j) {
                const block_q8_K &y =
                    reinterpret_cast<const block_q8_K *>(a + static_cast<size_t>(j) * t.a_stride)[b];
                __m256i total = _mm256_setzero_si256();
                for (int g = 0; g < 8; ++g) {
                    const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs + 32 * g));
                    const __m256i p16 = _mm256_maddubs_epi16(levels[g], q8);
                    total = _mm256_add_epi32(total, _mm256_madd_epi16(p16, scales[g]));
                }
                scale_sum = 0;
                for (int k = 0; k < 16; ++k) scale_sum += x.scales[k] * y.bsums[k];
                const __m256i offset = _mm256_setr_epi32(32 * scale_sum, 0, 0, 0, 0, 0, 0, 0);
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y.d),
                                         _mm256_cvtepi32_ps(_mm256_sub_epi32(total, offset)), acc[j]);
            }
        }
        for (int j = 0; j < nt; ++j) sums[j] = hsum(acc[j]);
    });
}

// --- F32 / F16 / BF16 weights x F32 activations ---------------------------------

// F16 and BF16 weights take their activations rounded through F16 / BF16 and
// widened back to F32: the same products as ggml's F16 x F16, without
// conversions in the inner loop.
void f32_activations(const float *x, void *y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * 4);
}
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
void bf16_rounded_activations(const float *x, void *y, int64_t n) {
    // round to nearest even on the top 16 bits (NaN stays NaN), as fp32_to_bf16
    uint32_t *out = static_cast<uint32_t *>(y);
    for (int64_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        if ((u & 0x7fffffffu) > 0x7f800000u)
            out[i] = (u | 0x00400000u) & 0xffff0000u;
        else
            out[i] = (u + (0x7fffu + ((u >> 16) & 1u))) & 0xffff0000u;
    }
}
size_t f32_row_bytes(int64_t n) {
    return static_cast<size_t>(n) * 4;
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
inline float widen_bf16(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline float widen_f32(const uint8_t *p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}

// 3 weight rows x 4 tokens of 8-wide FMAs per step: 12 accumulators.
template <size_t kWidth, __m256 (*Load)(const void *), float (*Widen)(const uint8_t *)>
void tile_float(const MatmulTile &t) {
    constexpr int R = 3, J = 4;
    const int64_t n8 = t.n / 8 * 8;
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += J) {
        const int nj = static_cast<int>(lesser(static_cast<int64_t>(J), t.n_tokens - j0));
        const float *act[J];
        for (int j = 0; j < J; ++j)
            act[j] = reinterpret_cast<const float *>(t.a + static_cast<size_t>(j0 + lesser(j, nj - 1)) *
                                                               t.a_stride);
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += R) {
            const int nr = static_cast<int>(lesser(static_cast<int64_t>(R), t.n_rows - r0));
            const uint8_t *wr[R];
            for (int i = 0; i < R; ++i)
                wr[i] = t.w + static_cast<size_t>(r0 + lesser(i, nr - 1)) * t.w_stride;
            __m256 acc[R][J];
            for (int i = 0; i < R; ++i)
                for (int j = 0; j < J; ++j) acc[i][j] = _mm256_setzero_ps();
            for (int64_t k = 0; k < n8; k += 8) {
                __m256 wv[R];
                for (int i = 0; i < R; ++i) wv[i] = Load(wr[i] + k * kWidth);
                for (int j = 0; j < J; ++j) {
                    const __m256 av = _mm256_loadu_ps(act[j] + k);
                    for (int i = 0; i < R; ++i) acc[i][j] = _mm256_fmadd_ps(wv[i], av, acc[i][j]);
                }
            }
            for (int i = 0; i < nr; ++i)
                for (int j = 0; j < nj; ++j) {
                    float s = hsum(acc[i][j]);
                    for (int64_t k = n8; k < t.n; ++k) s += Widen(wr[i] + k * kWidth) * act[j][k];
                    t.out[(j0 + j) * t.out_stride + r0 + i] = s;
                }
        }
    }
}

template <size_t kWidth, __m256 (*Load)(const void *), float (*Widen)(const uint8_t *)>
float dot_float(int64_t n, const void *w, const void *a) {
    float out = 0.0f;
    const MatmulTile t{n, static_cast<const uint8_t *>(w), 0, 1, static_cast<const uint8_t *>(a), 0, 1, &out,
                       1};
    tile_float<kWidth, Load, Widen>(t);
    return out;
}

// A single dot product through a tile function.
template <void (*Tile)(const MatmulTile &)> float dot_by_tile(int64_t n, const void *w, const void *a) {
    float out = 0.0f;
    Tile(
        MatmulTile{n, static_cast<const uint8_t *>(w), 0, 1, static_cast<const uint8_t *>(a), 0, 1, &out, 1});
    return out;
}

DotKernels make() {
    DotKernels k = reference_dot(); // the types without their own code below
    k.by_type[LB_TYPE_F32] = {f32_activations, f32_row_bytes, dot_float<4, load_f32, widen_f32>,
                              tile_float<4, load_f32, widen_f32>};
    k.by_type[LB_TYPE_F16] = {f16_rounded_activations, f32_row_bytes, dot_float<2, load_f16, widen_f16>,
                              tile_float<2, load_f16, widen_f16>};
    k.by_type[LB_TYPE_BF16] = {bf16_rounded_activations, f32_row_bytes, dot_float<2, load_bf16, widen_bf16>,
                               tile_float<2, load_bf16, widen_bf16>};
    k.by_type[LB_TYPE_Q8_0].dot = dot_by_tile<tile_q8_0>;
    k.by_type[LB_TYPE_Q8_0].tile = tile_q8_0;
    k.by_type[LB_TYPE_Q4_0].dot = dot_by_tile<tile_q4_0>;
    k.by_type[LB_TYPE_Q4_0].tile = tile_q4_0;
    k.by_type[LB_TYPE_Q4_K].dot = dot_by_tile<tile_q45_K<false>>;
    k.by_type[LB_TYPE_Q4_K].tile = tile_q45_K<false>;
    k.by_type[LB_TYPE_Q5_K].dot = dot_by_tile<tile_q45_K<true>>;
    k.by_type[LB_TYPE_Q5_K].tile = tile_q45_K<true>;
    k.by_type[LB_TYPE_Q6_K].dot = dot_by_tile<tile_q6_K>;
    k.by_type[LB_TYPE_Q6_K].tile = tile_q6_K;
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

} // namespace lb::kernels::avx2
