// AVX-512 dot kernels (F, BW, VL, DQ and VNNI): compiled with those flags and
// used only on CPUs that have them. Everything here lives in
// lb::kernels::avx512 and calls no inline function of another namespace.
//
// Own kernels for the float weights (16 lanes) and for Q8_0 and Q4_0 (two
// blocks per vector, VNNI's vpdpbusd for the byte products); the other types
// keep the AVX2 set's kernels, which this CPU runs as well.
//
// As in the AVX2 set, integer block sums are exact and each block's scale
// product is the reference's; only the order of float additions differs
// (tests bound it).
#include "formats/blocks.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/kernels.hpp"

#include <cstring>
// GCC 12's AVX-512 headers start some intrinsics from a self-initialised
// "undefined" vector, which -Wuninitialized reports at every use (a GCC 12
// header issue, not a use of uninitialised data); the warning's location is
// the header, so it is silenced for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace lb::kernels::avx512 {

namespace {

using formats::block_q4_0;
using formats::block_q8_0;

inline float half(uint16_t h) {
    return _cvtsh_ss(h);
}
inline int64_t lesser(int64_t a, int64_t b) {
    return a < b ? a : b;
}
inline int lesser(int a, int b) {
    return a < b ? a : b;
}

// --- Q8_0 and Q4_0 x Q8_0 ---------------------------------------------------

// The signed weights of blocks b and b + 1 of a row (block b in the low
// 256 bits), and their scales.
struct Q8_0Weights {
    static __m512i pair(const uint8_t *row, int64_t b, float *d) {
        const block_q8_0 *x = reinterpret_cast<const block_q8_0 *>(row) + b;
        d[0] = half(x[0].d);
        d[1] = half(x[1].d);
        return _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[0].qs))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[1].qs)), 1);
    }
    static __m256i one(const uint8_t *row, int64_t b, float *d) {
        const block_q8_0 &x = reinterpret_cast<const block_q8_0 *>(row)[b];
        *d = half(x.d);
        return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs));
    }
};

// Q4_0: elements 0..15 from the low nibbles, 16..31 from the high ones, minus 8.
struct Q4_0Weights {
    static __m512i pair(const uint8_t *row, int64_t b, float *d) {
        const block_q4_0 *x = reinterpret_cast<const block_q4_0 *>(row) + b;
        d[0] = half(x[0].d);
        d[1] = half(x[1].d);
        const __m128i p0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x[0].qs));
        const __m128i p1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x[1].qs));
        // 128-bit lanes: p0, p0, p1, p1; the odd ones take the high nibbles
        const __m512i packed =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(p0, p0)), _mm256_set_m128i(p1, p1), 1);
        const __m512i nibbles = _mm512_and_si512(
            _mm512_mask_blend_epi64(0xcc, packed, _mm512_srli_epi16(packed, 4)), _mm512_set1_epi8(0x0f));
        return _mm512_sub_epi8(nibbles, _mm512_set1_epi8(8));
    }
    static __m256i one(const uint8_t *row, int64_t b, float *d) {
        const block_q4_0 &x = reinterpret_cast<const block_q4_0 *>(row)[b];
        *d = half(x.d);
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qs));
        const __m256i nibbles =
            _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0f));
        return _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8));
    }
};

inline __m512i q8_0_pair(const uint8_t *row, int64_t b) {
    const block_q8_0 *y = reinterpret_cast<const block_q8_0 *>(row) + b;
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[0].qs))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[1].qs)), 1);
}

// A weight vector ready for vpdpbusd: |w| as unsigned bytes, and where w < 0.
struct SignedWeights {
    __m512i magnitude;
    __mmask64 negative;
};
inline SignedWeights signed_weights(__m512i w) {
    return {_mm512_abs_epi8(w), _mm512_movepi8_mask(w)};
}

// sum over groups of 4 of w * y: |w| times y with w's sign
inline __m512i products(const SignedWeights &w, __m512i y) {
    const __m512i signed_y = _mm512_mask_sub_epi8(y, w.negative, _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.magnitude, signed_y);
}
inline __m256i products(__m256i w, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w));
}

// d0 in lanes 0..7, d1 in lanes 8..15
inline __m512 pair_of(float d0, float d1) {
    return _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(d0), _mm512_set1_ps(d1));
}

inline float hsum(__m512 v) {
    return _mm512_reduce_add_ps(v);
}

// R weight rows x J tokens per pass: blocks two at a time (block b in lanes
// 0..7, b + 1 in lanes 8..15), an odd last block in the low 8 lanes.
template <typename W, int R, int J>
void q8_0_pass(const MatmulTile &t, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
    const int64_t nb = t.n / 32;
    __m512 acc[R][J];
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < J; ++j) acc[i][j] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        // per weight row: its signs and its two scales, for all J tokens
        SignedWeights wq[R];
        __m512 dw[R];
        for (int i = 0; i < R; ++i) {
            float d[2];
            wq[i] = signed_weights(W::pair(wr[i], b, d));
            dw[i] = pair_of(d[0], d[1]);
        }
        for (int j = 0; j < J; ++j) {
            const __m512i yq = q8_0_pair(ar[j], b);
            const block_q8_0 *y = reinterpret_cast<const block_q8_0 *>(ar[j]) + b;
            const __m512 dy = pair_of(half(y[0].d), half(y[1].d));
            // each lane's scale is the reference's product dw * dy of its block
            for (int i = 0; i < R; ++i)
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dy), _mm512_cvtepi32_ps(products(wq[i], yq)),
                                            acc[i][j]);
        }
    }
    if (b < nb) {
        for (int i = 0; i < R; ++i) {
            float dw;
            const __m256i wq = W::one(wr[i], b, &dw);
            for (int j = 0; j < J; ++j) {
                const block_q8_0 &y = reinterpret_cast<const block_q8_0 *>(ar[j])[b];
                const __m256i p = products(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs)));
                const __m512 scaled = _mm512_castps256_ps512(
                    _mm256_mul_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p)));
                acc[i][j] = _mm512_add_ps(acc[i][j], _mm512_maskz_mov_ps(0x00ff, scaled));
            }
        }
    }
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < J; ++j) sums[i][j] = hsum(acc[i][j]);
}

template <typename W> void tile_q8_0_activations(const MatmulTile &t) {
    constexpr int R = 4, J = 4;
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += J) {
        const int nj = static_cast<int>(lesser(static_cast<int64_t>(J), t.n_tokens - j0));
        const uint8_t *ar[J];
        for (int j = 0; j < J; ++j) ar[j] = t.a + static_cast<size_t>(j0 + lesser(j, nj - 1)) * t.a_stride;
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += R) {
            const int nr = static_cast<int>(lesser(static_cast<int64_t>(R), t.n_rows - r0));
            const uint8_t *wr[R];
            for (int i = 0; i < R; ++i)
                wr[i] = t.w + static_cast<size_t>(r0 + lesser(i, nr - 1)) * t.w_stride;
            float sums[R][J];
            if (nr == R && nj == J) {
                q8_0_pass<W, R, J>(t, wr, ar, sums);
            } else {
                // edges: one row and one token at a time
                for (int i = 0; i < nr; ++i)
                    for (int j = 0; j < nj; ++j) {
                        float one[1][1];
                        q8_0_pass<W, 1, 1>(t, &wr[i], &ar[j], one);
                        sums[i][j] = one[0][0];
                    }
            }
            for (int i = 0; i < nr; ++i)
                for (int j = 0; j < nj; ++j) t.out[(j0 + j) * t.out_stride + r0 + i] = sums[i][j];
        }
    }
}

void tile_q8_0(const MatmulTile &t) {
    tile_q8_0_activations<Q8_0Weights>(t);
}
void tile_q4_0(const MatmulTile &t) {
    tile_q8_0_activations<Q4_0Weights>(t);
}

// --- F32 / F16 / BF16 weights x F32 activations ---------------------------------
// The activations are the AVX2 set's (F32, or rounded through F16 / BF16 and
// widened back), so only the products are here.

inline __m512 load_f32(const void *p) {
    return _mm512_loadu_ps(p);
}
inline __m512 load_f16(const void *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i *>(p)));
}
inline __m512 load_bf16(const void *p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(static_cast<const __m256i *>(p))), 16));
}
inline float widen_f32(const uint8_t *p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
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

// 4 weight rows x 4 tokens of 16-wide FMAs per step: 16 accumulators.
template <size_t kWidth, __m512 (*Load)(const void *), float (*Widen)(const uint8_t *)>
void tile_float(const MatmulTile &t) {
    constexpr int R = 4, J = 4;
    const int64_t n16 = t.n / 16 * 16;
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
            __m512 acc[R][J];
            for (int i = 0; i < R; ++i)
                for (int j = 0; j < J; ++j) acc[i][j] = _mm512_setzero_ps();
            for (int64_t k = 0; k < n16; k += 16) {
                __m512 wv[R];
                for (int i = 0; i < R; ++i) wv[i] = Load(wr[i] + k * kWidth);
                for (int j = 0; j < J; ++j) {
                    const __m512 av = _mm512_loadu_ps(act[j] + k);
                    for (int i = 0; i < R; ++i) acc[i][j] = _mm512_fmadd_ps(wv[i], av, acc[i][j]);
                }
            }
            for (int i = 0; i < nr; ++i)
                for (int j = 0; j < nj; ++j) {
                    float s = hsum(acc[i][j]);
                    for (int64_t k = n16; k < t.n; ++k) s += Widen(wr[i] + k * kWidth) * act[j][k];
                    t.out[(j0 + j) * t.out_stride + r0 + i] = s;
                }
        }
    }
}

// A single dot product through a tile function.
template <void (*Tile)(const MatmulTile &)> float dot_by_tile(int64_t n, const void *w, const void *a) {
    float out = 0.0f;
    Tile(
        MatmulTile{n, static_cast<const uint8_t *>(w), 0, 1, static_cast<const uint8_t *>(a), 0, 1, &out, 1});
    return out;
}

template <void (*Tile)(const MatmulTile &)> void set(WeightKernels &k) {
    k.dot = dot_by_tile<Tile>;
    k.tile = Tile;
}

DotKernels make() {
    DotKernels k = avx2::dot_kernels(); // activations, and the types without their own code here
    set<tile_float<4, load_f32, widen_f32>>(k.by_type[LB_TYPE_F32]);
    set<tile_float<2, load_f16, widen_f16>>(k.by_type[LB_TYPE_F16]);
    set<tile_float<2, load_bf16, widen_bf16>>(k.by_type[LB_TYPE_BF16]);
    set<tile_q8_0>(k.by_type[LB_TYPE_Q8_0]);
    set<tile_q4_0>(k.by_type[LB_TYPE_Q4_0]);
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

} // namespace lb::kernels::avx512
