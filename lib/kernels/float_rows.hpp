// Pieces every instruction set's dot kernels share, compiled by each of
// their translation units into its own namespace (common/isa.hpp): the
// float-activation layouts of the F32 / F16 / BF16 tiles, the scalar widening
// of a float tail, the float tiles' pass over a set's vectors, and a single
// dot product through a tile.
#pragma once

#include "common/isa.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/row_tiles.hpp"

#include <cstdint>
#include <cstring>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

// F16 and BF16 weights take their activations rounded through F16 / BF16 and
// widened back to F32: the same products as ggml's F16 x F16, without
// conversions in the inner loop. F32 weights take them as they are.
inline void f32_activations(const float *x, void *y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * 4);
}
inline void bf16_rounded_activations(const float *x, void *y, int64_t n) {
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
inline size_t f32_row_bytes(int64_t n) {
    return static_cast<size_t>(n) * 4;
}

inline float widen_f32(const uint8_t *p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}
inline float widen_bf16(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// The float tiles' pass, for one instruction set's float vectors V:
//   using T;                          the vector type
//   static constexpr int kLanes;      floats per vector
//   static constexpr int kRows;       weight rows per pass (tile_by_groups' R)
//   static T zero();  static T load(const float *);  static T fma(T a, T b, T acc);
//   static T add(T, T);  static float sum(T);         sum: across the lanes
// R weight rows x J tokens of FMAs (row_tiles.hpp's tile_by_groups; n_blocks
// is the row's length). Weights of kWidth bytes per value are loaded as floats
// by Load (a function const void * -> V::T) and, past the last whole vector,
// widened one at a time by Widen. With few sums at once each is split over U
// accumulators, added at the end, so that the FMAs' latency overlaps.
template <typename V, size_t kWidth, auto Load, float (*Widen)(const uint8_t *)> struct FloatPass {
    using T = typename V::T;
    template <int R, int J>
    static void run(int64_t n, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        constexpr int U = R * J >= 8 ? 1 : R * J >= 4 ? 2 : 4;
        constexpr int64_t L = V::kLanes;
        const float *act[J];
        for (int j = 0; j < J; ++j) act[j] = reinterpret_cast<const float *>(ar[j]);
        T acc[U][R][J];
        for (int u = 0; u < U; ++u)
            for (int i = 0; i < R; ++i)
                for (int j = 0; j < J; ++j) acc[u][i][j] = V::zero();
        const auto step = [&](int u, int64_t k) {
            T wv[R];
            for (int i = 0; i < R; ++i) wv[i] = Load(wr[i] + k * kWidth);
            for (int j = 0; j < J; ++j) {
                const T av = V::load(act[j] + k);
                for (int i = 0; i < R; ++i) acc[u][i][j] = V::fma(wv[i], av, acc[u][i][j]);
            }
        };
        const int64_t whole = n / (L * U) * (L * U), vectors = n / L * L;
        int64_t k = 0;
        for (; k < whole; k += L * U)
            for (int u = 0; u < U; ++u) step(u, k + L * u);
        for (; k < vectors; k += L) step(0, k);
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) {
                T total = acc[0][i][j];
                for (int u = 1; u < U; ++u) total = V::add(total, acc[u][i][j]);
                float s = V::sum(total);
                for (int64_t e = vectors; e < n; ++e) s += Widen(wr[i] + e * kWidth) * act[j][e];
                sums[i][j] = s;
            }
    }
};

template <typename V, size_t kWidth, auto Load, float (*Widen)(const uint8_t *)>
void tile_float(const MatmulTile &t) {
    tile_by_groups<FloatPass<V, kWidth, Load, Widen>, V::kRows, 4>(t, 1);
}

// A single dot product through a tile function.
template <void (*Tile)(const MatmulTile &)> float dot_by_tile(int64_t n, const void *w, const void *a) {
    float out = 0.0f;
    Tile(
        MatmulTile{n, static_cast<const uint8_t *>(w), 0, 1, static_cast<const uint8_t *>(a), 0, 1, &out, 1});
    return out;
}

// A weight type's tile, and its single dot product through it.
template <void (*Tile)(const MatmulTile &)> void use_tile(WeightKernels &k) {
    k.dot = dot_by_tile<Tile>;
    k.tile = Tile;
}

// A float weight type's tile, taking its activations as F32 rows made by
// `activations`.
template <void (*Tile)(const MatmulTile &)>
void use_float_tile(WeightKernels &k, formats::QuantizeActivationsFn activations) {
    k.quantize_activations = activations;
    k.activation_row_bytes = f32_row_bytes;
    use_tile<Tile>(k);
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
