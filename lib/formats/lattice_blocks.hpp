// How the lattice I-quants with positive grid levels (IQ2_XXS, IQ2_XS, IQ2_S,
// IQ3_XXS, IQ3_S) store one sub-block of 32 weights, read into one shape
// (LatticeSub) for their dequantizers and dot products, the scalar references
// below and the SIMD kernels alike. Weight 8 l + j of sub-block ib is
//   x = d * scale[h] * kFactor * level * sign,   h = l / 2,
// level the grid point's coordinate: coordinate j of point[l] on the grids of
// 8 coordinates, coordinate j % 4 of point[2 l + j / 4] on those of 4; sign
// -1 where bit j of signs[l] is set. The bit layouts are blocks.hpp's.
#pragma once

#include "common/fp16.hpp"
#include "common/isa.hpp"
#include "formats/blocks.hpp"
#include "formats/lattice_grids.hpp"

#include <cstdint>
#include <cstring>

namespace lb::formats {

struct LatticeSub {
    uint16_t point[8]; // grid points: [l] (8 coordinates) or [2 l], [2 l + 1] (4)
    uint8_t signs[4];  // of group l: bit j set, weight 8 l + j negative
    int32_t scale[2];  // 2 ls + 1 (1 + 2 ls) of weights 0..15 and 16..31
};

// Per block type: the grid, its coordinates per point, and the constant factor.
template <typename Block> struct LatticeLayout;
template <> struct LatticeLayout<block_iq2_xxs> {
    static constexpr int kDims = 8;
    static constexpr float kFactor = 0.125f;
    static constexpr const LatticeGrid &(*grid)() = iq2xxs_grid;
};
template <> struct LatticeLayout<block_iq2_xs> {
    static constexpr int kDims = 8;
    static constexpr float kFactor = 0.125f;
    static constexpr const LatticeGrid &(*grid)() = iq2xs_grid;
};
template <> struct LatticeLayout<block_iq2_s> {
    static constexpr int kDims = 8;
    static constexpr float kFactor = 0.125f;
    static constexpr const LatticeGrid &(*grid)() = iq2s_grid;
};
template <> struct LatticeLayout<block_iq3_xxs> {
    static constexpr int kDims = 4;
    static constexpr float kFactor = 0.25f;
    static constexpr const LatticeGrid &(*grid)() = iq3xxs_grid;
};
template <> struct LatticeLayout<block_iq3_s> {
    static constexpr int kDims = 4;
    static constexpr float kFactor = 1.0f;
    static constexpr const LatticeGrid &(*grid)() = iq3s_grid;
};

inline namespace LOWBIT_ISA { // common/isa.hpp

// IQ2_XXS: the uint32 pair at qs + 4 ib holds the four points' bytes, then the
// groups' 7 sign bits at 7 l and ls at bits 28..31.
inline LatticeSub lattice_sub(const block_iq2_xxs &x, int ib) {
    uint32_t a[2];
    std::memcpy(a, x.qs + 4 * ib, sizeof a);
    LatticeSub s{};
    for (int l = 0; l < 4; ++l) {
        s.point[l] = static_cast<uint16_t>(a[0] >> 8 * l & 255u);
        s.signs[l] = even_signs(a[1] >> 7 * l);
    }
    s.scale[0] = s.scale[1] = static_cast<int32_t>(2 * (a[1] >> 28) + 1);
    return s;
}

// IQ2_XS: qs[4 ib + l] is point (bits 0..8) and 7 sign bits (9..15).
inline LatticeSub lattice_sub(const block_iq2_xs &x, int ib) {
    LatticeSub s{};
    for (int l = 0; l < 4; ++l) {
        const uint16_t q = x.qs[4 * ib + l];
        s.point[l] = static_cast<uint16_t>(q & 511u);
        s.signs[l] = even_signs(q >> 9);
    }
    s.scale[0] = 2 * (x.scales[ib] & 15) + 1;
    s.scale[1] = 2 * (x.scales[ib] >> 4) + 1;
    return s;
}

// IQ2_S: 10-bit points (2 high bits in qh[ib]), 8 free sign bits.
inline LatticeSub lattice_sub(const block_iq2_s &x, int ib) {
    LatticeSub s{};
    for (int l = 0; l < 4; ++l) {
        s.point[l] = static_cast<uint16_t>(x.qs[4 * ib + l] | (x.qh[ib] >> 2 * l & 3) << 8);
        s.signs[l] = x.qs[QK_K / 8 + 4 * ib + l];
    }
    s.scale[0] = 2 * (x.scales[ib] & 15) + 1;
    s.scale[1] = 2 * (x.scales[ib] >> 4) + 1;
    return s;
}

// IQ3_XXS: two 8-bit points per group; the uint32 at qs + 64 + 4 ib holds the
// groups' 7 sign bits at 7 l and ls at bits 28..31.
inline LatticeSub lattice_sub(const block_iq3_xxs &x, int ib) {
    uint32_t a;
    std::memcpy(&a, x.qs + QK_K / 4 + 4 * ib, sizeof a);
    LatticeSub s{};
    for (int p = 0; p < 8; ++p) s.point[p] = x.qs[8 * ib + p];
    for (int l = 0; l < 4; ++l) s.signs[l] = even_signs(a >> 7 * l);
    s.scale[0] = s.scale[1] = static_cast<int32_t>(2 * (a >> 28) + 1);
    return s;
}

// IQ3_S: two 9-bit points per group (the high bits in qh[ib]), 8 free sign
// bits, ls in nibble ib % 2 of scales[ib / 2].
inline LatticeSub lattice_sub(const block_iq3_s &x, int ib) {
    LatticeSub s{};
    for (int p = 0; p < 8; ++p)
        s.point[p] = static_cast<uint16_t>(x.qs[8 * ib + p] | (x.qh[ib] >> p & 1) << 8);
    for (int l = 0; l < 4; ++l) s.signs[l] = x.signs[4 * ib + l];
    s.scale[0] = s.scale[1] = 2 * (x.scales[ib / 2] >> 4 * (ib % 2) & 15) + 1;
    return s;
}

// Grid coordinate j (0..7) of group l of a sub-block.
template <typename Block> int lattice_level(const LatticeGrid &grid, const LatticeSub &s, int l, int j) {
    if constexpr (LatticeLayout<Block>::kDims == 8) return grid.value[8 * s.point[l] + j];
    return grid.value[4 * s.point[2 * l + j / 4] + j % 4];
}

// The scalar references of the dequantizer and of the dot product with Q8_K
// activations: factor * sum over blocks of (d_w d_a) times the exact integer
// sum over halves of scale sum(level sign q8), in ggml's order of float steps.
template <typename Block> void dequantize_lattice_row(const void *src, float *y, int64_t n) {
    const Block *x = static_cast<const Block *>(src);
    const LatticeGrid &grid = LatticeLayout<Block>::grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const LatticeSub s = lattice_sub(x[b], ib);
            const float db[2] = {d * static_cast<float>(s.scale[0]) * LatticeLayout<Block>::kFactor,
                                 d * static_cast<float>(s.scale[1]) * LatticeLayout<Block>::kFactor};
            for (int l = 0; l < 4; ++l)
                for (int j = 0; j < 8; ++j)
                    *y++ = db[l / 2] * static_cast<float>(lattice_level<Block>(grid, s, l, j)) *
                           (s.signs[l] >> j & 1u ? -1.0f : 1.0f);
        }
    }
}

template <typename Block> float vec_dot_lattice_q8_K(int64_t n, const void *w, const void *act) {
    const Block *x = static_cast<const Block *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = LatticeLayout<Block>::grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const LatticeSub s = lattice_sub(x[b], ib);
            for (int h = 0; h < 2; ++h) {
                int32_t half_sum = 0;
                for (int l = 2 * h; l < 2 * h + 2; ++l, q8 += 8)
                    for (int j = 0; j < 8; ++j) {
                        const int v = lattice_level<Block>(grid, s, l, j);
                        half_sum += (s.signs[l] >> j & 1u ? -v : v) * q8[j];
                    }
                bsum += half_sum * s.scale[h];
            }
        }
        sum += d * static_cast<float>(bsum);
    }
    return LatticeLayout<Block>::kFactor * sum;
}

} // namespace LOWBIT_ISA

} // namespace lb::formats
