// NEON dot kernels with the ARMv8.2 dot-product instructions (sdot):
// compiled with -march=armv8.2-a+dotprod and used only on CPUs that report
// them (HWCAP_ASIMDDP). Everything here lives in lb::kernels::neon, and the
// shared loops of kernels/row_tiles.hpp are compiled into isa_neon here.
//
// Results equal the scalar reference up to the order of float additions:
// integer block sums are exact, and each block's scale product is the
// reference's; only the accumulation across blocks differs (tests bound it).
#include "formats/blocks.hpp"
#include "formats/kquant_scales.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/float_rows.hpp"
#include "kernels/row_tiles.hpp"

#include <arm_neon.h>
#include <cstring>

namespace lb::kernels::neon {

namespace {

using formats::block_q8_K;
using formats::QK_K;

inline float half(uint16_t h) {
    __fp16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
}

// 32 signed 8-bit values: elements 0..15 and 16..31
struct I8x32 {
    int8x16_t lo, hi;
};

inline I8x32 load32(const int8_t *p) {
    return {vld1q_s8(p), vld1q_s8(p + 16)};
}

// sum of a[i] * b[i] over 32 bytes, in 4 lanes, added to acc
inline int32x4_t dot32(int32x4_t acc, const I8x32 &a, const I8x32 &b) {
    return vdotq_s32(vdotq_s32(acc, a.lo, b.lo), a.hi, b.hi);
}

// the 16 bytes of a Q4 block as two nibble vectors: low nibbles (elements
// 0..15), high nibbles (16..31)
inline I8x32 nibbles(const uint8_t *qs) {
    const uint8x16_t packed = vld1q_u8(qs);
    return {vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0f))),
            vreinterpretq_s8_u8(vshrq_n_u8(packed, 4))};
}

// 0x10 in byte j where bit j of the 32-bit little-endian qh is set: the
// fifth bits of Q5_0 and Q5_1.
inline I8x32 fifth_bits(const uint8_t *qh_bytes) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    const uint8x16_t bytes = vreinterpretq_u8_u32(vdupq_n_u32(qh));
    // byte j takes qh's byte j / 8, then its bit j % 8
    static const uint8_t lo_index[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t hi_index[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t b = vld1q_u8(bit), sixteen = vdupq_n_u8(0x10);
    const uint8x16_t lo = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(lo_index)), b), sixteen);
    const uint8x16_t hi = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(hi_index)), b), sixteen);
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi)};
}

inline I8x32 add(const I8x32 &a, const I8x32 &b) {
    return {vaddq_s8(a.lo, b.lo), vaddq_s8(a.hi, b.hi)};
}
inline I8x32 sub(const I8x32 &a, int8_t k) {
    return {vsubq_s8(a.lo, vdupq_n_s8(k)), vsubq_s8(a.hi, vdupq_n_s8(k))};
}

// --- Q8_0, Q4_0, Q5_0 x Q8_0 --------------------------------------------------

struct Q8_0Weights {
    static I8x32 values(const uint8_t *row, int64_t b, float *d) {
        const formats::block_q8_0 &x = reinterpret_cast<const formats::block_q8_0 *>(row)[b];
        *d = half(x.d);
        return load32(x.qs);
    }
};

// Q4_0: elements 0..15 from the low nibbles, 16..31 from the high ones, minus 8.
struct Q4_0Weights {
    static I8x32 values(const uint8_t *row, int64_t b, float *d) {
        const formats::block_q4_0 &x = reinterpret_cast<const formats::block_q4_0 *>(row)[b];
        *d = half(x.d);
        return sub(nibbles(x.qs), 8);
    }
};

// Q5_0: Q4_0's nibbles with a fifth bit, bit j of qh for element j, minus 16.
struct Q5_0Weights {
    static I8x32 values(const uint8_t *row, int64_t b, float *d) {
        const formats::block_q5_0 &x = reinterpret_cast<const formats::block_q5_0 *>(row)[b];
        *d = half(x.d);
        return sub(add(nibbles(x.qs), fifth_bits(x.qh)), 16);
    }
};

// R weight rows x J tokens (row_tiles.hpp's tile_by_groups): per block the
// integer sum of products, scaled by dw * dy, added in 4 lanes.
template <typename W> struct Q8_0Pass {
    template <int R, int J>
    static void run(int64_t nb, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        float32x4_t acc[R][J];
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) acc[i][j] = vdupq_n_f32(0.0f);
        for (int64_t b = 0; b < nb; ++b) {
            I8x32 wq[R];
            float dw[R];
            for (int i = 0; i < R; ++i) wq[i] = W::values(wr[i], b, &dw[i]);
            for (int j = 0; j < J; ++j) {
                const formats::block_q8_0 &y = reinterpret_cast<const formats::block_q8_0 *>(ar[j])[b];
                const I8x32 yq = load32(y.qs);
                const float dy = half(y.d);
                for (int i = 0; i < R; ++i) {
                    const int32x4_t p = dot32(vdupq_n_s32(0), wq[i], yq);
                    acc[i][j] = vfmaq_n_f32(acc[i][j], vcvtq_f32_s32(p), dw[i] * dy);
                }
            }
        }
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) sums[i][j] = vaddvq_f32(acc[i][j]);
    }
};

// Q4_1 / Q5_1 x Q8_1: per block dw * dy * sum(q_w q_y) + m_w * s_y, where
// s_y = dy * sum(q_y) is the activation block's stored sum. The weights'
// levels (below 32) are valid signed bytes as they are.
template <typename W> struct Q8_1Pass {
    template <int R, int J>
    static void run(int64_t nb, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        float32x4_t acc[R][J];
        float acc_min[R][J];
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) acc[i][j] = vdupq_n_f32(0.0f), acc_min[i][j] = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
            I8x32 wq[R];
            float dw[R], mw[R];
            for (int i = 0; i < R; ++i) wq[i] = W::values(wr[i], b, &dw[i], &mw[i]);
            for (int j = 0; j < J; ++j) {
                const formats::block_q8_1 &y = reinterpret_cast<const formats::block_q8_1 *>(ar[j])[b];
                const I8x32 yq = load32(y.qs);
                const float dy = half(y.d), sy = half(y.s);
                for (int i = 0; i < R; ++i) {
                    const int32x4_t p = dot32(vdupq_n_s32(0), wq[i], yq);
                    acc[i][j] = vfmaq_n_f32(acc[i][j], vcvtq_f32_s32(p), dw[i] * dy);
                    acc_min[i][j] += mw[i] * sy;
                }
            }
        }
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) sums[i][j] = vaddvq_f32(acc[i][j]) + acc_min[i][j];
    }
};

struct Q4_1Weights {
    static I8x32 values(const uint8_t *row, int64_t b, float *d, float *m) {
        const formats::block_q4_1 &x = reinterpret_cast<const formats::block_q4_1 *>(row)[b];
        *d = half(x.d);
        *m = half(x.m);
        return nibbles(x.qs);
    }
};

struct Q5_1Weights {
    static I8x32 values(const uint8_t *row, int64_t b, float *d, float *m) {
        const formats::block_q5_1 &x = reinterpret_cast<const formats::block_q5_1 *>(row)[b];
        *d = half(x.d);
        *m = half(x.m);
        return add(nibbles(x.qs), fifth_bits(x.qh));
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

// --- K-quants x Q8_K ------------------------------------------------------------
// One weight row against J tokens (row_tiles.hpp's tile_by_rows): per
// super-block the levels of each group are decoded once, multiplied into the
// J tokens' integer sums with the group's integer scale, and the super-block's
// sum is scaled by dw * dy.

// sum over the 16 groups of 16 of Q8_K's block sums times factor[k]
inline int bsums_dot(const int16_t *bsums, const int16_t *factor) {
    const int32x4_t lo = vmull_s16(vld1_s16(bsums), vld1_s16(factor));
    int32x4_t s = vmlal_s16(lo, vld1_s16(bsums + 4), vld1_s16(factor + 4));
    s = vmlal_s16(s, vld1_s16(bsums + 8), vld1_s16(factor + 8));
    s = vmlal_s16(s, vld1_s16(bsums + 12), vld1_s16(factor + 12));
    return vaddvq_s32(s);
}

// Q4_K / Q5_K: value = d * sc * level - dmin * m, per sub-block of 32.
template <bool Q5, int J>
void q45_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    float32x4_t acc[J];
    float acc_min[J];
    for (int j = 0; j < J; ++j) acc[j] = vdupq_n_f32(0.0f), acc_min[j] = 0.0f;
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
        int sc[8], m[8];
        formats::unpack_scales_mins_k4(scales, sc, m);
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        int32x4_t total[J];
        for (int j = 0; j < J; ++j) total[j] = vdupq_n_s32(0);
        uint8x16_t hbits_lo = vdupq_n_u8(0), hbits_hi = vdupq_n_u8(0);
        if constexpr (Q5) hbits_lo = vld1q_u8(qh), hbits_hi = vld1q_u8(qh + 16);
        for (int s = 0; s < 8; ++s) {
            // sub-block s: the low (even s) or high (odd s) nibbles of bytes
            // 32 (s / 2) ...; Q5_K: bit s of qh[l] is the fifth bit of value l
            const uint8x16_t q_lo = vld1q_u8(qs + 32 * (s / 2)), q_hi = vld1q_u8(qs + 32 * (s / 2) + 16);
            uint8x16_t l_lo = s % 2 ? vshrq_n_u8(q_lo, 4) : vandq_u8(q_lo, vdupq_n_u8(0x0f));
            uint8x16_t l_hi = s % 2 ? vshrq_n_u8(q_hi, 4) : vandq_u8(q_hi, vdupq_n_u8(0x0f));
            if constexpr (Q5) {
                const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << s)), sixteen = vdupq_n_u8(0x10);
                l_lo = vorrq_u8(l_lo, vandq_u8(vtstq_u8(hbits_lo, bit), sixteen));
                l_hi = vorrq_u8(l_hi, vandq_u8(vtstq_u8(hbits_hi, bit), sixteen));
            }
            const I8x32 levels{vreinterpretq_s8_u8(l_lo), vreinterpretq_s8_u8(l_hi)};
            for (int j = 0; j < J; ++j)
                total[j] =
                    vmlaq_n_s32(total[j], dot32(vdupq_n_s32(0), levels, load32(y[j]->qs + 32 * s)), sc[s]);
        }
        int16_t mins[16];
        for (int k = 0; k < 16; ++k) mins[k] = static_cast<int16_t>(m[k / 2]);
        const float dw = half(dh), dminw = half(dminh);
        for (int j = 0; j < J; ++j) {
            acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(total[j]), dw * y[j]->d);
            acc_min[j] += dminw * y[j]->d * static_cast<float>(bsums_dot(y[j]->bsums, mins));
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = vaddvq_f32(acc[j]) - acc_min[j];
}

template <bool Q5> void tile_q45_K(const MatmulTile &t) {
    tile_by_rows<q45_K_pass<Q5, kTokens>, q45_K_pass<Q5, 1>>(t, QK_K);
}

// Levels of Q2_K and Q3_K: values 128h + 32g + l, l < 32, from two bits of
// qs[32h + l] at 2g; their groups of 16 are 8h + 2g and 8h + 2g + 1.
inline I8x32 two_bits(const uint8_t *qs, int h, int g) {
    const uint8x16_t three = vdupq_n_u8(3);
    const int8_t shift = static_cast<int8_t>(-2 * g);
    const uint8x16_t lo = vandq_u8(vshlq_u8(vld1q_u8(qs + 32 * h), vdupq_n_s8(shift)), three);
    const uint8x16_t hi = vandq_u8(vshlq_u8(vld1q_u8(qs + 32 * h + 16), vdupq_n_s8(shift)), three);
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi)};
}

// the two groups' sums of 16 products, times their scales
inline int32x4_t scaled_pair(int32x4_t total, const I8x32 &levels, const int8_t *q8, int s0, int s1) {
    const int32x4_t p0 = vdotq_s32(vdupq_n_s32(0), levels.lo, vld1q_s8(q8));
    const int32x4_t p1 = vdotq_s32(vdupq_n_s32(0), levels.hi, vld1q_s8(q8 + 16));
    return vmlaq_n_s32(vmlaq_n_s32(total, p0, s0), p1, s1);
}

// Q2_K: level (0..3) * d * (scale & 15) - dmin * (scale >> 4), per group.
template <int J> void q2_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    float32x4_t acc[J];
    float acc_min[J];
    for (int j = 0; j < J; ++j) acc[j] = vdupq_n_f32(0.0f), acc_min[j] = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q2_K &x = reinterpret_cast<const formats::block_q2_K *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        int32x4_t total[J];
        for (int j = 0; j < J; ++j) total[j] = vdupq_n_s32(0);
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 4; ++g) {
                const I8x32 levels = two_bits(x.qs, h, g);
                const int k = 8 * h + 2 * g;
                for (int j = 0; j < J; ++j)
                    total[j] = scaled_pair(total[j], levels, y[j]->qs + 128 * h + 32 * g, x.scales[k] & 0x0f,
                                           x.scales[k + 1] & 0x0f);
            }
        int16_t mins[16];
        for (int k = 0; k < 16; ++k) mins[k] = static_cast<int16_t>(x.scales[k] >> 4);
        const float dw = half(x.d), dminw = half(x.dmin);
        for (int j = 0; j < J; ++j) {
            acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(total[j]), dw * y[j]->d);
            acc_min[j] += dminw * y[j]->d * static_cast<float>(bsums_dot(y[j]->bsums, mins));
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = vaddvq_f32(acc[j]) - acc_min[j];
}

void tile_q2_K(const MatmulTile &t) {
    tile_by_rows<q2_K_pass<kTokens>, q2_K_pass<1>>(t, QK_K);
}

// Q3_K: level = two bits - (high bit ? 0 : 4) (-4..3, a signed byte as it
// is), times d * (6-bit scale - 32).
template <int J> void q3_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    float32x4_t acc[J];
    for (int j = 0; j < J; ++j) acc[j] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q3_K &x = reinterpret_cast<const formats::block_q3_K *>(w)[b];
        int sc[16];
        for (int k = 0; k < 16; ++k) sc[k] = formats::q3_K_scale(x.scales, k);
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        int32x4_t total[J];
        for (int j = 0; j < J; ++j) total[j] = vdupq_n_s32(0);
        const uint8x16_t hmask_lo = vld1q_u8(x.hmask), hmask_hi = vld1q_u8(x.hmask + 16);
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 4; ++g) {
                // minus 4 where the high bit (bit 4h + g of hmask[l]) is clear
                const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + g)));
                const I8x32 low = two_bits(x.qs, h, g);
                const int8x16_t four = vdupq_n_s8(4);
                const I8x32 levels{
                    vsubq_s8(low.lo, vbicq_s8(four, vreinterpretq_s8_u8(vtstq_u8(hmask_lo, bit)))),
                    vsubq_s8(low.hi, vbicq_s8(four, vreinterpretq_s8_u8(vtstq_u8(hmask_hi, bit))))};
                const int k = 8 * h + 2 * g;
                for (int j = 0; j < J; ++j)
                    total[j] = scaled_pair(total[j], levels, y[j]->qs + 128 * h + 32 * g, sc[k], sc[k + 1]);
            }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(total[j]), dw * y[j]->d);
    }
    for (int j = 0; j < J; ++j) sums[j] = vaddvq_f32(acc[j]);
}

void tile_q3_K(const MatmulTile &t) {
    tile_by_rows<q3_K_pass<kTokens>, q3_K_pass<1>>(t, QK_K);
}

// Q6_K: level (0..63) - 32, a signed byte, times d * the group's signed scale.
template <int J> void q6_K_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    float32x4_t acc[J];
    for (int j = 0; j < J; ++j) acc[j] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; ++b) {
        const formats::block_q6_K &x = reinterpret_cast<const formats::block_q6_K *>(w)[b];
        const block_q8_K *y[J];
        for (int j = 0; j < J; ++j) y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
        int32x4_t total[J];
        for (int j = 0; j < J; ++j) total[j] = vdupq_n_s32(0);
        for (int g = 0; g < 8; ++g) {
            // levels of group g of 32, in value order: half h = g / 4 of the
            // block; low nibbles of ql bytes 64 h (+ 32 for odd g), the high
            // ones for g % 4 >= 2; two bits of qh byte 32 h + l at 2 (g % 4)
            const int h = g / 4, k = g % 4;
            const uint8_t *l = x.ql + 64 * h + 32 * (k % 2), *hi = x.qh + 32 * h;
            const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * k));
            uint8x16_t v[2];
            for (int half16 = 0; half16 < 2; ++half16) {
                const uint8x16_t lb = vld1q_u8(l + 16 * half16), hb = vld1q_u8(hi + 16 * half16);
                const uint8x16_t nib = k >= 2 ? vshrq_n_u8(lb, 4) : vandq_u8(lb, vdupq_n_u8(0x0f));
                v[half16] = vorrq_u8(nib, vshlq_n_u8(vandq_u8(vshlq_u8(hb, shift), vdupq_n_u8(3)), 4));
            }
            const I8x32 levels = sub({vreinterpretq_s8_u8(v[0]), vreinterpretq_s8_u8(v[1])}, 32);
            for (int j = 0; j < J; ++j)
                total[j] =
                    scaled_pair(total[j], levels, y[j]->qs + 32 * g, x.scales[2 * g], x.scales[2 * g + 1]);
        }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(total[j]), dw * y[j]->d);
    }
    for (int j = 0; j < J; ++j) sums[j] = vaddvq_f32(acc[j]);
}

void tile_q6_K(const MatmulTile &t) {
    tile_by_rows<q6_K_pass<kTokens>, q6_K_pass<1>>(t, QK_K);
}

// --- F32 / F16 / BF16 weights x F32 activations ---------------------------------

void f16_rounded_activations(const float *x, void *y, int64_t n) {
    float *out = static_cast<float *>(y);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; ++i) out[i] = static_cast<float>(static_cast<__fp16>(x[i]));
}

inline float32x4_t load_f32(const void *p) {
    return vld1q_f32(static_cast<const float *>(p));
}
inline float32x4_t load_f16(const void *p) {
    return vcvt_f32_f16(vld1_f16(static_cast<const float16_t *>(p)));
}
inline float32x4_t load_bf16(const void *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(static_cast<const uint16_t *>(p)), 16));
}
inline float widen_f16(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return half(h);
}

// 4-lane float vectors for float_rows.hpp's FloatPass
struct F32x4 {
    using T = float32x4_t;
    static constexpr int kLanes = 4, kRows = 3;
    static T zero() { return vdupq_n_f32(0.0f); }
    static T load(const float *p) { return vld1q_f32(p); }
    static T fma(T a, T b, T acc) { return vfmaq_f32(acc, a, b); }
    static T add(T a, T b) { return vaddq_f32(a, b); }
    static float sum(T v) { return vaddvq_f32(v); }
};

DotKernels make() {
    DotKernels k = reference_dot(); // the activation layouts of the quantized types
    use_float_tile<tile_float<F32x4, 4, load_f32, widen_f32>>(k.by_type[LB_TYPE_F32], f32_activations);
    use_float_tile<tile_float<F32x4, 2, load_f16, widen_f16>>(k.by_type[LB_TYPE_F16],
                                                              f16_rounded_activations);
    use_float_tile<tile_float<F32x4, 2, load_bf16, widen_bf16>>(k.by_type[LB_TYPE_BF16],
                                                                bf16_rounded_activations);
    use_tile<tile_q8_0>(k.by_type[LB_TYPE_Q8_0]);
    use_tile<tile_q4_0>(k.by_type[LB_TYPE_Q4_0]);
    use_tile<tile_q5_0>(k.by_type[LB_TYPE_Q5_0]);
    use_tile<tile_q4_1>(k.by_type[LB_TYPE_Q4_1]);
    use_tile<tile_q5_1>(k.by_type[LB_TYPE_Q5_1]);
    use_tile<tile_q2_K>(k.by_type[LB_TYPE_Q2_K]);
    use_tile<tile_q3_K>(k.by_type[LB_TYPE_Q3_K]);
    use_tile<tile_q45_K<false>>(k.by_type[LB_TYPE_Q4_K]);
    use_tile<tile_q45_K<true>>(k.by_type[LB_TYPE_Q5_K]);
    use_tile<tile_q6_K>(k.by_type[LB_TYPE_Q6_K]);
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

} // namespace lb::kernels::neon
