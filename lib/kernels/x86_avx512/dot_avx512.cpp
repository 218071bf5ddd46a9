// AVX-512 dot kernels (F, BW, VL, DQ and VNNI): compiled with those flags and
// used only on CPUs that have them. Everything here lives in
// lb::kernels::avx512, or in the isa_avx512 copy of the shared loops of
// kernels/row_tiles.hpp.
//
// Own kernels for the float weights (16 lanes); Q8_0, Q4_0, Q5_0, Q4_1, Q5_1
// and IQ4_NL (two blocks per vector, VNNI's vpdpbusd for the byte products);
// Q4_K, Q5_K and Q6_K (two sub-blocks per vector, vpdpwssd for the scales).
// Q2_K, Q3_K and the other newer formats keep the AVX2 set's.
//
// As in the AVX2 set, integer block sums are exact and each block's scale
// product is the reference's; only the order of float additions differs
// (tests bound it).
#include "formats/blocks.hpp"
#include "formats/kquant_scales.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/float_rows.hpp"
#include "kernels/kernels.hpp"
#include "kernels/row_tiles.hpp"
#include "kernels/x86_avx512/bf16_avx512.hpp"
#include "kernels/x86_avx512/tiled_avx512.hpp"
#include "kernels/x86_intrinsics.hpp"
#include "kernels/x86_kquant_parts.hpp"

#include <cstring>
#include <type_traits>

namespace lb::kernels::avx512 {

namespace {

using formats::block_q4_0;
using formats::block_q8_0;

inline float half(uint16_t h) {
    return _cvtsh_ss(h);
}

// --- Q8_0, Q4_0, Q5_0 x Q8_0 and Q4_1, Q5_1 x Q8_1 -----------------------------
// Blocks two at a time: block b in the low 256 bits (32-bit lanes 0..7),
// b + 1 in the high ones; an odd last block alone in the low half.

// The 32 nibbles of a 16-byte code array in element order: 0..15 from the
// low nibbles, 16..31 from the high ones.
inline __m256i nibbles(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0f));
}
inline __m512i nibbles(const uint8_t *qs0, const uint8_t *qs1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(nibbles(qs0)), nibbles(qs1), 1);
}
// 0x10 in byte j where bit j of the 32-bit little-endian qh is set (Q5_0, Q5_1)
inline uint32_t high_bits(const uint8_t *qh) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    return bits;
}
inline __m256i fifth_bits(const uint8_t *qh) {
    return _mm256_maskz_mov_epi8(high_bits(qh), _mm256_set1_epi8(0x10));
}
inline __m512i fifth_bits(const uint8_t *qh0, const uint8_t *qh1) {
    const __mmask64 bits = high_bits(qh0) | static_cast<uint64_t>(high_bits(qh1)) << 32;
    return _mm512_maskz_mov_epi8(bits, _mm512_set1_epi8(0x10));
}
inline __m256i load32(const void *p) {
    return _mm256_loadu_si256(static_cast<const __m256i *>(p));
}
inline __m512i load32x2(const void *p0, const void *p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(load32(p0)), load32(p1), 1);
}

// Signed weights (x Q8_0): values of blocks b, b + 1 and their scales.
struct Q8_0Weights {
    using Block = block_q8_0;
    static __m512i pair(const Block *x) { return load32x2(x[0].qs, x[1].qs); }
    static __m256i one(const Block &x) { return load32(x.qs); }
};
struct Q4_0Weights {
    using Block = block_q4_0;
    static __m512i pair(const Block *x) {
        return _mm512_sub_epi8(nibbles(x[0].qs, x[1].qs), _mm512_set1_epi8(8));
    }
    static __m256i one(const Block &x) { return _mm256_sub_epi8(nibbles(x.qs), _mm256_set1_epi8(8)); }
};
struct Q5_0Weights {
    using Block = formats::block_q5_0;
    static __m512i pair(const Block *x) {
        return _mm512_sub_epi8(_mm512_or_si512(nibbles(x[0].qs, x[1].qs), fifth_bits(x[0].qh, x[1].qh)),
                               _mm512_set1_epi8(16));
    }
    static __m256i one(const Block &x) {
        return _mm256_sub_epi8(_mm256_or_si256(nibbles(x.qs), fifth_bits(x.qh)), _mm256_set1_epi8(16));
    }
};
// IQ4_NL: the nibbles index its 16-entry table. (MXFP4, whose E8M0 scales this
// pass would decode one by one, keeps the AVX2 set's kernel, measured as fast.)
inline __m512i table16x4(const int8_t *levels) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i *>(levels)));
}
struct IQ4_NLWeights {
    using Block = formats::block_iq4_nl;
    static __m512i pair(const Block *x) {
        return _mm512_shuffle_epi8(table16x4(formats::kIq4nlLevels), nibbles(x[0].qs, x[1].qs));
    }
    static __m256i one(const Block &x) {
        return _mm256_shuffle_epi8(_mm512_castsi512_si256(table16x4(formats::kIq4nlLevels)), nibbles(x.qs));
    }
};
// Unsigned levels (x Q8_1), with a min m per block.
struct Q4_1Weights {
    using Block = formats::block_q4_1;
    static __m512i pair(const Block *x) { return nibbles(x[0].qs, x[1].qs); }
    static __m256i one(const Block &x) { return nibbles(x.qs); }
};
struct Q5_1Weights {
    using Block = formats::block_q5_1;
    static __m512i pair(const Block *x) {
        return _mm512_or_si512(nibbles(x[0].qs, x[1].qs), fifth_bits(x[0].qh, x[1].qh));
    }
    static __m256i one(const Block &x) { return _mm256_or_si256(nibbles(x.qs), fifth_bits(x.qh)); }
};

// A signed weight vector ready for vpdpbusd: |w| as unsigned bytes, and where w < 0.
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
inline __m256i signed_products(__m256i w, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w));
}

// The binary16 scales h0 in lanes 0..7, h1 in lanes 8..15, as floats: both
// converted by one vcvtph2ps and spread by one permute
inline __m512 pair_of_halves(uint16_t h0, uint16_t h1) {
    const __m128i both = _mm_cvtsi32_si128(static_cast<int>(h0 | static_cast<uint32_t>(h1) << 16));
    const __m512i spread = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_cvtph_ps(both)));
}

inline float hsum(__m512 v) {
    return _mm512_reduce_add_ps(v);
}

// R weight rows x J tokens (row_tiles.hpp's tile_by_groups). Per (row,
// token) each lane adds its block's products times the reference's product
// dw * dy; with Q8_1 the mins' term m_w * s_y (s_y = dy * sum(q_y), the
// activation block's stored sum) is added block after block beside it.
template <typename W, bool kMins> struct BlockPass {
    using A = std::conditional_t<kMins, formats::block_q8_1, block_q8_0>;

    template <int R, int J>
    static void run(int64_t nb, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        __m512 acc[R][J];
        float acc_min[R][J];
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) acc[i][j] = _mm512_setzero_ps(), acc_min[i][j] = 0.0f;
        // blocks b, b + 1 into the accumulators a
        auto pair_step = [&](int64_t b, __m512(&a)[R][J]) {
            // per weight row: its levels (signs) and scales, for all J tokens
            __m512i wq[R];
            SignedWeights ws[R];
            __m512 dw[R];
            float m0[R], m1[R];
            for (int i = 0; i < R; ++i) {
                const typename W::Block *x = reinterpret_cast<const typename W::Block *>(wr[i]) + b;
                wq[i] = W::pair(x);
                if constexpr (kMins)
                    m0[i] = half(x[0].m), m1[i] = half(x[1].m);
                else
                    ws[i] = signed_weights(wq[i]);
                dw[i] = pair_of_halves(x[0].d, x[1].d);
            }
            for (int j = 0; j < J; ++j) {
                const A *y = reinterpret_cast<const A *>(ar[j]) + b;
                const __m512i yq = load32x2(y[0].qs, y[1].qs);
                const __m512 dy = pair_of_halves(y[0].d, y[1].d);
                for (int i = 0; i < R; ++i) {
                    __m512i p;
                    if constexpr (kMins) {
                        p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[i], yq);
                        acc_min[i][j] += m0[i] * half(y[0].s);
                        acc_min[i][j] += m1[i] * half(y[1].s);
                    } else {
                        p = products(ws[i], yq);
                    }
                    a[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dy), _mm512_cvtepi32_ps(p), a[i][j]);
                }
            }
        };
        int64_t b = 0;
        if constexpr (R == 1 && J == 1) {
            // one sum: pairs alternate between two accumulators (one chain
            // of fused adds would bound the loop)
            __m512 other[R][J] = {{_mm512_setzero_ps()}};
            for (; b + 4 <= nb; b += 4) {
                pair_step(b, acc);
                pair_step(b + 2, other);
            }
            acc[0][0] = _mm512_add_ps(acc[0][0], other[0][0]);
        }
        for (; b + 2 <= nb; b += 2) pair_step(b, acc);
        if (b < nb) {
            for (int i = 0; i < R; ++i) {
                const typename W::Block &x = reinterpret_cast<const typename W::Block *>(wr[i])[b];
                const __m256i wq = W::one(x);
                const float dw = half(x.d);
                for (int j = 0; j < J; ++j) {
                    const A &y = reinterpret_cast<const A *>(ar[j])[b];
                    __m256i p;
                    if constexpr (kMins) {
                        p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wq, load32(y.qs));
                        acc_min[i][j] += half(x.m) * half(y.s);
                    } else {
                        p = signed_products(wq, load32(y.qs));
                    }
                    const __m512 scaled = _mm512_castps256_ps512(
                        _mm256_mul_ps(_mm256_set1_ps(dw * half(y.d)), _mm256_cvtepi32_ps(p)));
                    acc[i][j] = _mm512_add_ps(acc[i][j], _mm512_maskz_mov_ps(0x00ff, scaled));
                }
            }
        }
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) sums[i][j] = hsum(acc[i][j]) + acc_min[i][j];
    }
};

void tile_q8_0(const MatmulTile &t) {
    tile_by_groups<BlockPass<Q8_0Weights, false>, 4, 4>(t, 32);
}
void tile_q4_0(const MatmulTile &t) {
    tile_by_groups<BlockPass<Q4_0Weights, false>, 4, 4>(t, 32);
}
void tile_q5_0(const MatmulTile &t) {
    tile_by_groups<BlockPass<Q5_0Weights, false>, 4, 4>(t, 32);
}
void tile_iq4_nl(const MatmulTile &t) {
    tile_by_groups<BlockPass<IQ4_NLWeights, false>, 4, 4>(t, 32);
}
void tile_q4_1(const MatmulTile &t) {
    tile_by_groups<BlockPass<Q4_1Weights, true>, 4, 4>(t, 32);
}
void tile_q5_1(const MatmulTile &t) {
    tile_by_groups<BlockPass<Q5_1Weights, true>, 4, 4>(t, 32);
}

// --- Q4_K / Q5_K / Q6_K x Q8_K ---------------------------------------------------
// Two 32-value sub-blocks (Q4_K, Q5_K) or groups (Q6_K) per vector: the
// unsigned levels times the Q8_K bytes in 16-bit pairs (vpmaddubsw, exact:
// at most 63 * 127 * 2), then times the sub-blocks' scales into 32-bit lanes
// (VNNI's vpdpwssd). Each lane's sum stays below 2^24, so its float is exact;
// per super-block it is scaled by dw * dy and added, as in the AVX2 set.

// the 64 bytes at p (256-bit halves: p, p + 32)
inline __m512i load64(const void *p) {
    return _mm512_loadu_si512(p);
}

template <bool Q5, int J>
void q45_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m512i low = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
    __m512 acc[J];
    __m128 acc_min[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm512_setzero_ps(), acc_min[j] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t *qs, *scales, *qh = nullptr;
        uint16_t dh, dminh;
        if constexpr (Q5) {
            const formats::block_q5_K &x = reinterpret_cast<const formats::block_q5_K *>(w)[b];
            qs = x.qs, scales = x.scales, qh = x.qh, dh = x.d, dminh = x.dmin;
        } else {
            const formats::block_q4_K &x = reinterpret_cast<const formats::block_q4_K *>(w)[b];
            qs = x.qs, scales = x.scales, dh = x.d, dminh = x.dmin;
        }
        const __m128i scales_mins = scales_mins_k4(scales);
        const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(scales_mins));
        const formats::block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const formats::block_q8_K *>(ar[j]) + b;
        // the integer sums of the even and the odd pairs of sub-blocks (two
        // chains of vpdpwssd, not one), then their total: exact
        __m512i total[J], half_total[2][J];
        for (int j = 0; j < J; ++j) half_total[0][j] = half_total[1][j] = _mm512_setzero_si512();
        const __m256i hbits = Q5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qh)) : __m256i{};
        for (int p = 0; p < 4; ++p) {
            // sub-blocks 2p and 2p + 1: the low and the high nibbles of bytes
            // 32p ...; Q5_K: bit s of qh[l] is the fifth bit of value l of s
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qs + 32 * p));
            __m512i levels = _mm512_and_si512(
                _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), low);
            if constexpr (Q5) {
                const __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(hbits, 2 * p)),
                                                     _mm256_srli_epi16(hbits, 2 * p + 1), 1);
                levels = _mm512_or_si512(levels, _mm512_slli_epi16(_mm512_and_si512(h, one), 4));
            }
            // scale 2p in the low 256 bits, 2p + 1 in the high ones
            const __m512i scale = _mm512_shuffle_epi8(
                sc16, _mm512_inserti64x4(
                          _mm512_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * p))),
                          _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * p + 1))), 1));
            for (int j = 0; j < J; ++j)
                half_total[p % 2][j] = _mm512_dpwssd_epi32(
                    half_total[p % 2][j], _mm512_maddubs_epi16(levels, load64(y[j]->qs + 64 * p)), scale);
        }
        for (int j = 0; j < J; ++j) total[j] = _mm512_add_epi32(half_total[0][j], half_total[1][j]);
        const float dw = half(dh), dminw = half(dminh);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(dw * y[j]->d), _mm512_cvtepi32_ps(total[j]), acc[j]);
            acc_min[j] = _mm_fmadd_ps(_mm_set1_ps(dminw * y[j]->d),
                                      _mm_cvtepi32_ps(mins_dot_k4(y[j]->bsums, scales_mins)), acc_min[j]);
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - hsum_ps128(acc_min[j]);
}

template <bool Q5> void tile_q45_K(const MatmulTile &t) {
    tile_by_rows<q45_K_pass<Q5, kTokens>, q45_K_pass<Q5, 1>>(t, formats::QK_K);
}

template <int J> void q6_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const __m512i low = _mm512_set1_epi8(0x0f), three = _mm512_set1_epi8(3);
    // the 16-bit lane i of scale pair p takes group scale 4p + i / 8: a lane
    // of vpmaddubsw's output holds 2 values, a scale covers 16
    __m512i pick[4];
    for (int p = 0; p < 4; ++p) {
        alignas(64) int16_t idx[32];
        for (int i = 0; i < 32; ++i) idx[i] = static_cast<int16_t>(4 * p + i / 8);
        pick[p] = _mm512_load_si512(idx);
    }
    __m512 acc[J];
    float acc_offset[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm512_setzero_ps(), acc_offset[j] = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q6_K &x = reinterpret_cast<const formats::block_q6_K *>(w)[b];
        const formats::block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const formats::block_q8_K *>(ar[j]) + b;
        // the integer sums of the even and the odd pairs of sub-blocks (two
        // chains of vpdpwssd, not one), then their total: exact
        __m512i total[J], half_total[2][J];
        for (int j = 0; j < J; ++j) half_total[0][j] = half_total[1][j] = _mm512_setzero_si512();
        const __m256i scales16_256 =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.scales)));
        const __m512i scales16 = _mm512_castsi256_si512(scales16_256);
        for (int p = 0; p < 4; ++p) {
            // groups g = 2p and 2p + 1 of 32 values, in value order: half
            // h = p / 2 of the block; the 64 ql bytes from 64h, their low
            // nibbles for k = g % 4 < 2, else the high ones; two bits of qh
            // byte 32h + l at 2k
            const int h = p / 2, k = 2 * (p % 2);
            const __m512i l = load64(x.ql + 64 * h);
            const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qh + 32 * h));
            const __m512i high = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(hi, 2 * k)),
                                                    _mm256_srli_epi16(hi, 2 * k + 2), 1);
            const __m512i levels =
                _mm512_or_si512(_mm512_and_si512(k >= 2 ? _mm512_srli_epi16(l, 4) : l, low),
                                _mm512_slli_epi16(_mm512_and_si512(high, three), 4));
            const __m512i scale = _mm512_permutexvar_epi16(pick[p], scales16);
            for (int j = 0; j < J; ++j)
                half_total[p % 2][j] = _mm512_dpwssd_epi32(
                    half_total[p % 2][j], _mm512_maddubs_epi16(levels, load64(y[j]->qs + 64 * p)), scale);
        }
        for (int j = 0; j < J; ++j) total[j] = _mm512_add_epi32(half_total[0][j], half_total[1][j]);
        // the offset of 32: the sum of scale * bsum over the 16 groups
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(dw * y[j]->d), _mm512_cvtepi32_ps(total[j]), acc[j]);
            acc_offset[j] += dw * y[j]->d * static_cast<float>(32 * bsums_dot(y[j]->bsums, scales16_256));
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = hsum(acc[j]) - acc_offset[j];
}

void tile_q6_K(const MatmulTile &t) {
    tile_by_rows<q6_K_pass<kTokens>, q6_K_pass<1>>(t, formats::QK_K);
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
inline float widen_f16(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// 16-lane float vectors for float_rows.hpp's FloatPass
struct F32x16 {
    using T = __m512;
    static constexpr int kLanes = 16, kRows = 4;
    static T zero() { return _mm512_setzero_ps(); }
    static T load(const float *p) { return _mm512_loadu_ps(p); }
    static T fma(T a, T b, T acc) { return _mm512_fmadd_ps(a, b, acc); }
    static T add(T a, T b) { return _mm512_add_ps(a, b); }
    static float sum(T v) { return hsum(v); }
};

inline size_t bf16_row_bytes(int64_t n) {
    return static_cast<size_t>(n) * 2;
}

DotKernels make() {
    DotKernels k = avx2::dot_kernels(); // activations, and the types without their own code here
    use_tile<tile_float<F32x16, 4, load_f32, widen_f32>>(k.by_type[LB_TYPE_F32]);
    use_tile<tile_float<F32x16, 2, load_f16, widen_f16>>(k.by_type[LB_TYPE_F16]);
    use_tile<tile_float<F32x16, 2, load_bf16, widen_bf16>>(k.by_type[LB_TYPE_BF16]);
    if (has_bf16()) { // vdpbf16ps on BF16 activations, the reference's pairing
        k.by_type[LB_TYPE_BF16].quantize_activations = formats::traits(LB_TYPE_BF16).quantize_activations;
        k.by_type[LB_TYPE_BF16].activation_row_bytes = bf16_row_bytes;
        use_tile<tile_bf16>(k.by_type[LB_TYPE_BF16]);
    }
    use_tile<tile_q8_0>(k.by_type[LB_TYPE_Q8_0]);
    use_tile<tile_q4_0>(k.by_type[LB_TYPE_Q4_0]);
    use_tile<tile_q5_0>(k.by_type[LB_TYPE_Q5_0]);
    use_tile<tile_q4_1>(k.by_type[LB_TYPE_Q4_1]);
    use_tile<tile_q5_1>(k.by_type[LB_TYPE_Q5_1]);
    use_tile<tile_iq4_nl>(k.by_type[LB_TYPE_IQ4_NL]);
    use_tile<tile_q45_K<false>>(k.by_type[LB_TYPE_Q4_K]);
    use_tile<tile_q45_K<true>>(k.by_type[LB_TYPE_Q5_K]);
    use_tile<tile_q6_K>(k.by_type[LB_TYPE_Q6_K]);
    k.tiled[static_cast<int>(formats::Layout::q8r16)] = tile_q8r16;
    k.tiled[static_cast<int>(formats::Layout::q4_k_4)] = tile_q4_k_4;
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

} // namespace lb::kernels::avx512
