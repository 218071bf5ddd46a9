// How IQ1_S and IQ1_M store one sub-block of 32 weights, read into one shape
// (Iq1Sub) for their dequantizers and dot products, the scalar references
// below and the SIMD kernels alike. Weight 8 l + j of sub-block ib is
//   x = d * scale[l / 2] * (level + delta),   delta = -1/8 where bit l of
// negative is set, +1/8 elsewhere,
// level coordinate j of point[l] on the grid of {-1, 0, 1}^8 (iq1s_grid). IQ1_S
// shares its scale and delta over the 32 weights, IQ1_M has a scale per 16 and
// a delta per 8. The bit layouts are blocks.hpp's.
#pragma once

#include "common/fp16.hpp"
#include "common/isa.hpp"
#include "formats/blocks.hpp"
#include "formats/lattice_grids.hpp"

#include <cstdint>
#include <cstring>

namespace lb::formats {

constexpr float kIq1Delta = 0.125f;

struct Iq1Sub {
    uint16_t point[4]; // of group l, in kIq1sCodes
    uint8_t negative;  // bit l set: group l's delta is -1/8
    int32_t scale[2];  // 2 ls + 1 of weights 0..15 and 16..31
};

inline namespace LOWBIT_ISA { // common/isa.hpp

// IQ1_S: qh[ib] holds the points' high 3 bits at 3 l, ls at 12..14 and the
// sign of delta at bit 15.
inline Iq1Sub iq1_sub(const block_iq1_s &x, int ib) {
    Iq1Sub s{};
    const unsigned qh = x.qh[ib];
    for (int l = 0; l < 4; ++l) s.point[l] = static_cast<uint16_t>(x.qs[4 * ib + l] | (qh >> 3 * l & 7) << 8);
    s.negative = qh & 0x8000u ? 15 : 0;
    s.scale[0] = s.scale[1] = static_cast<int32_t>(2 * (qh >> 12 & 7) + 1);
    return s;
}

inline uint16_t iq1_scales_word(const block_iq1_m &x, int k) {
    uint16_t sc;
    std::memcpy(&sc, x.scales + 2 * k, sizeof sc);
    return sc;
}

// IQ1_M: nibble l % 2 of qh[2 ib + l / 2] holds group l's high 3 bits and, at
// its bit 3, the sign of its delta; the scales word ib / 2 the two ls at bits
// 6 (ib % 2) and 6 (ib % 2) + 3.
inline Iq1Sub iq1_sub(const block_iq1_m &x, int ib) {
    Iq1Sub s{};
    for (int l = 0; l < 4; ++l) {
        const unsigned nibble = x.qh[2 * ib + l / 2] >> 4 * (l % 2) & 15u;
        s.point[l] = static_cast<uint16_t>(x.qs[4 * ib + l] | (nibble & 7u) << 8);
        s.negative = static_cast<uint8_t>(s.negative | (nibble >> 3) << l);
    }
    const unsigned sc = iq1_scales_word(x, ib / 2);
    for (int h = 0; h < 2; ++h) s.scale[h] = static_cast<int32_t>(2 * (sc >> (6 * (ib % 2) + 3 * h) & 7) + 1);
    return s;
}

// The binary16 bits of d: IQ1_S's field, IQ1_M's four top nibbles.
inline uint16_t iq1_d_bits(const block_iq1_s &x) {
    return x.d;
}
inline uint16_t iq1_d_bits(const block_iq1_m &x) {
    return static_cast<uint16_t>((iq1_scales_word(x, 0) >> 12) | (iq1_scales_word(x, 1) >> 8 & 0x00f0) |
                                 (iq1_scales_word(x, 2) >> 4 & 0x0f00) | (iq1_scales_word(x, 3) & 0xf000));
}

// The scalar references of the dequantizer and of the dot product with Q8_K
// activations: per block (d_w d_a) (s + delta s_delta), s the exact integer
// sum of scale level q8 and s_delta that of scale (+-1) q8, in ggml's order of
// float steps.
template <typename Block> void dequantize_iq1_row(const void *src, float *y, int64_t n) {
    const Block *x = static_cast<const Block *>(src);
    const LatticeGrid &grid = iq1s_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(iq1_d_bits(x[b]));
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const Iq1Sub s = iq1_sub(x[b], ib);
            for (int l = 0; l < 4; ++l) {
                const float dl = d * static_cast<float>(s.scale[l / 2]);
                const float delta = s.negative >> l & 1u ? -kIq1Delta : kIq1Delta;
                const int8_t *g = grid.value + 8 * s.point[l];
                for (int j = 0; j < 8; ++j) *y++ = dl * (static_cast<float>(g[j]) + delta);
            }
        }
    }
}

template <typename Block> float vec_dot_iq1_q8_K(int64_t n, const void *w, const void *act) {
    const Block *x = static_cast<const Block *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq1s_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const int8_t *q8 = y[b].qs;
        int32_t s = 0, s_delta = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const Iq1Sub sub = iq1_sub(x[b], ib);
            for (int l = 0; l < 4; ++l, q8 += 8) {
                const int8_t *g = grid.value + 8 * sub.point[l];
                int32_t lsum = 0, qsum = 0;
                for (int j = 0; j < 8; ++j) lsum += g[j] * q8[j], qsum += q8[j];
                s += lsum * sub.scale[l / 2];
                s_delta += (sub.negative >> l & 1u ? -qsum : qsum) * sub.scale[l / 2];
            }
        }
        sum += fp16_to_fp32(iq1_d_bits(x[b])) * y[b].d *
               (static_cast<float>(s) + kIq1Delta * static_cast<float>(s_delta));
    }
    return sum;
}

} // namespace LOWBIT_ISA

} // namespace lb::formats
