// NEON dequantizers for Q5_0, Q5_1, Q3_K, Q5_K and Q6_K, the formats whose
// scalar loops do not vectorize well (as x86_avx2/dequantize_avx2.cpp).
// Compiled for ARMv8.2 without contraction into FMA: each float is the
// format's reference computed with the same IEEE operations in the same order
// (the scale products first, as the scalar code forms them), so the outputs
// are the reference's bit for bit (tests compare every set on random blocks).
#include "formats/blocks.hpp"
#include "formats/kquant_scales.hpp"
#include "kernels/kernels.hpp"

#include <arm_neon.h>
#include <cstring>

namespace lb::kernels::neon {

namespace {

using formats::QK_K;

inline float half(uint16_t h) {
    __fp16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
}

// the 16 signed bytes of v as floats, in four vectors
inline void widen(int8x16_t v, float32x4_t *out) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(v)), hi = vmovl_s8(vget_high_s8(v));
    out[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    out[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
    out[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    out[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
}

// y[i] = float(levels[i]) * d for 16 levels
inline void store_scaled(float *y, int8x16_t levels, float d) {
    float32x4_t f[4];
    widen(levels, f);
    for (int k = 0; k < 4; ++k) vst1q_f32(y + 4 * k, vmulq_n_f32(f[k], d));
}

// y[i] = float(levels[i]) * d + m (Add) or d * float(levels[i]) - m (!Add), 16 levels
template <bool Add> inline void store_affine(float *y, int8x16_t levels, float d, float m) {
    float32x4_t f[4];
    widen(levels, f);
    const float32x4_t mv = vdupq_n_f32(m);
    for (int k = 0; k < 4; ++k) {
        const float32x4_t v = vmulq_n_f32(f[k], d);
        vst1q_f32(y + 4 * k, Add ? vaddq_f32(v, mv) : vsubq_f32(v, mv));
    }
}

// 0x10 in byte j of the result where bit (first + j) of the 32-bit qh is set, j < 16
inline uint8x16_t fifth_bits16(uint32_t qh, int first) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8_t b0 = static_cast<uint8_t>(qh >> first), b1 = static_cast<uint8_t>(qh >> (first + 8));
    const uint8x16_t bytes = vcombine_u8(vdup_n_u8(b0), vdup_n_u8(b1));
    return vandq_u8(vtstq_u8(bytes, vld1q_u8(bit)), vdupq_n_u8(0x10));
}

// Q5_0 / Q5_1 levels of one block: elements 0..15 (low nibbles) and 16..31 (high)
inline void q5_levels(const uint8_t *qs, const uint8_t *qh_bytes, uint8x16_t *lo, uint8x16_t *hi) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    const uint8x16_t packed = vld1q_u8(qs);
    *lo = vorrq_u8(vandq_u8(packed, vdupq_n_u8(0x0f)), fifth_bits16(qh, 0));
    *hi = vorrq_u8(vshrq_n_u8(packed, 4), fifth_bits16(qh, 16));
}

void dequantize_q5_0(const void *src, float *y, int64_t n) {
    const formats::block_q5_0 *x = static_cast<const formats::block_q5_0 *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        uint8x16_t lo, hi;
        q5_levels(x[b].qs, x[b].qh, &lo, &hi);
        const float d = half(x[b].d);
        const int8x16_t sixteen = vdupq_n_s8(16);
        store_scaled(y + 32 * b, vsubq_s8(vreinterpretq_s8_u8(lo), sixteen), d);
        store_scaled(y + 32 * b + 16, vsubq_s8(vreinterpretq_s8_u8(hi), sixteen), d);
    }
}

void dequantize_q5_1(const void *src, float *y, int64_t n) {
    const formats::block_q5_1 *x = static_cast<const formats::block_q5_1 *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        uint8x16_t lo, hi;
        q5_levels(x[b].qs, x[b].qh, &lo, &hi);
        const float d = half(x[b].d), m = half(x[b].m);
        store_affine<true>(y + 32 * b, vreinterpretq_s8_u8(lo), d, m);
        store_affine<true>(y + 32 * b + 16, vreinterpretq_s8_u8(hi), d, m);
    }
}

// Q5_K: chunk c of 64 values, its two sub-blocks: d * sc * level - dmin * m
void dequantize_q5_K(const void *src, float *y, int64_t n) {
    const formats::block_q5_K *x = static_cast<const formats::block_q5_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d), dmin = half(x[b].dmin);
        for (int c = 0; c < 4; ++c) {
            int sc, m;
            formats::unpack_scale_min_k4(x[b].scales, 2 * c, &sc, &m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            formats::unpack_scale_min_k4(x[b].scales, 2 * c + 1, &sc, &m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            const uint8x16_t u1 = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
            const uint8x16_t u2 = vdupq_n_u8(static_cast<uint8_t>(2u << (2 * c)));
            const uint8x16_t sixteen = vdupq_n_u8(0x10);
            float *yc = y + b * QK_K + 64 * c;
            for (int half16 = 0; half16 < 2; ++half16) {
                const uint8x16_t q = vld1q_u8(x[b].qs + 32 * c + 16 * half16);
                const uint8x16_t qh = vld1q_u8(x[b].qh + 16 * half16);
                const uint8x16_t l1 =
                    vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vandq_u8(vtstq_u8(qh, u1), sixteen));
                const uint8x16_t l2 = vorrq_u8(vshrq_n_u8(q, 4), vandq_u8(vtstq_u8(qh, u2), sixteen));
                store_affine<false>(yc + 16 * half16, vreinterpretq_s8_u8(l1), d1, m1);
                store_affine<false>(yc + 32 + 16 * half16, vreinterpretq_s8_u8(l2), d2, m2);
            }
        }
    }
}

// Q6_K: half h, quarter k: level (0..63) - 32 times d * the scale of its 16
// values (value l + 32 k of the half takes scales[8 h + 2 k + l / 16])
void dequantize_q6_K(const void *src, float *y, int64_t n) {
    const formats::block_q6_K *x = static_cast<const formats::block_q6_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const int8_t *sc = x[b].scales + 8 * h;
            for (int k = 0; k < 4; ++k)
                for (int half16 = 0; half16 < 2; ++half16) {
                    // low nibbles of ql[l] (k = 0) or ql[l + 32] (k = 1), high ones for k = 2, 3
                    const uint8x16_t l = vld1q_u8(x[b].ql + 64 * h + 32 * (k % 2) + 16 * half16);
                    const uint8x16_t hb = vld1q_u8(x[b].qh + 32 * h + 16 * half16);
                    const uint8x16_t nib = k >= 2 ? vshrq_n_u8(l, 4) : vandq_u8(l, vdupq_n_u8(0x0f));
                    const uint8x16_t top = vshlq_n_u8(
                        vandq_u8(vshlq_u8(hb, vdupq_n_s8(static_cast<int8_t>(-2 * k))), vdupq_n_u8(3)), 4);
                    const int8x16_t levels =
                        vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, top)), vdupq_n_s8(32));
                    store_scaled(y + b * QK_K + 128 * h + 32 * k + 16 * half16, levels,
                                 d * static_cast<float>(sc[2 * k + half16]));
                }
        }
    }
}

// Q3_K: group (h, g) of 32: two bits of qs[32 h + l] at 2 g, minus 4 where
// bit 4 h + g of hmask[l] is clear, times d * (6-bit scale - 32) of its 16
void dequantize_q3_K(const void *src, float *y, int64_t n) {
    const formats::block_q3_K *x = static_cast<const formats::block_q3_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = half(x[b].d);
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 4; ++g)
                for (int half16 = 0; half16 < 2; ++half16) {
                    const uint8x16_t q = vld1q_u8(x[b].qs + 32 * h + 16 * half16);
                    const uint8x16_t hm = vld1q_u8(x[b].hmask + 16 * half16);
                    const uint8x16_t two =
                        vandq_u8(vshlq_u8(q, vdupq_n_s8(static_cast<int8_t>(-2 * g))), vdupq_n_u8(3));
                    const uint8x16_t set = vtstq_u8(hm, vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + g))));
                    const int8x16_t levels =
                        vsubq_s8(vreinterpretq_s8_u8(two), vbicq_s8(vdupq_n_s8(4), vreinterpretq_s8_u8(set)));
                    const int j = 8 * h + 2 * g + half16;
                    store_scaled(y + b * QK_K + 128 * h + 32 * g + 16 * half16, levels,
                                 d * static_cast<float>(formats::q3_K_scale(x[b].scales, j)));
                }
    }
}

constexpr Dequantizers make() {
    Dequantizers k{};
    k.by_type[LB_TYPE_Q5_0] = dequantize_q5_0;
    k.by_type[LB_TYPE_Q5_1] = dequantize_q5_1;
    k.by_type[LB_TYPE_Q3_K] = dequantize_q3_K;
    k.by_type[LB_TYPE_Q5_K] = dequantize_q5_K;
    k.by_type[LB_TYPE_Q6_K] = dequantize_q6_K;
    return k;
}

} // namespace

constinit const Dequantizers kDequantizers = make();

} // namespace lb::kernels::neon
