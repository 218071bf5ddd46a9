// W-lane vectors (GCC/Clang vector extensions) and the lane-wise versions of
// the operations the block quantizers use. Every lane computes exactly what
// the scalar reference computes for one block or one candidate, with the same
// IEEE operations in the same order, so kernels built on these produce the
// scalar reference's bytes. W = 4 (16-byte vectors: SSE2, NEON), 8 (AVX2) or 16 (AVX-512).
#pragma once

#include "common/isa.hpp"
#include "formats/block_search.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include "kernels/x86_intrinsics.hpp"
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace lb::kernels {
inline namespace LOWBIT_ISA {

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));

template <int W> struct LaneTypes;
template <> struct LaneTypes<4> {
    using F = f32x4;
    using I = i32x4;
    using U = u32x4;
};
template <> struct LaneTypes<8> {
    using F = f32x8;
    using I = i32x8;
    using U = u32x8;
};
template <> struct LaneTypes<16> {
    using F = f32x16;
    using I = i32x16;
    using U = u32x16;
};

// Element c of the two-source shuffle that swaps the off-diagonal K x K
// blocks of rows a (r) and b (r + K): the new row r if !kUpper, else r + K.
template <int W, int K, bool kUpper> constexpr int block_swap_index(int c) {
    return kUpper ? ((c & K) != 0 ? W + c : c + K) : ((c & K) != 0 ? W + c - K : c);
}
template <int W, int K, bool kUpper, typename F, size_t... C>
inline F block_swap(F a, F b, std::index_sequence<C...>) {
    return __builtin_shufflevector(a, b, block_swap_index<W, K, kUpper>(static_cast<int>(C))...);
}

template <int W> struct Lanes {
    using F = typename LaneTypes<W>::F;
    using I = typename LaneTypes<W>::I; // comparison masks: -1 or 0
    using U = typename LaneTypes<W>::U;

    // v - 0 is v for every float (-0 included), and compiles to a broadcast
    // where an element-wise fill may become a chain of inserts
    static F splat(float v) { return v - F{}; }
    static F load(const float *p) {
        F r;
        for (int i = 0; i < W; ++i) r[i] = p[i];
        return r;
    }
    static void store(float *p, F v) {
        for (int i = 0; i < W; ++i) p[i] = v[i];
    }
    // p[0], p[stride], p[2 stride], ...: element j of W consecutive blocks
    static F gather(const float *p, int stride) {
        F r;
        for (int i = 0; i < W; ++i) r[i] = p[i * stride];
        return r;
    }
    // rows[0, W) of a W x W matrix, transposed in place: log2(W) rounds of
    // block swaps, each row a shuffle of two
    template <int K = W / 2> static void transpose(F *rows) {
        if constexpr (K >= 1) {
            for (int r = 0; r < W; ++r) {
                if ((r & K) != 0) continue;
                const F a = rows[r], b = rows[r + K];
                rows[r] = block_swap<W, K, false>(a, b, std::make_index_sequence<W>{});
                rows[r + K] = block_swap<W, K, true>(a, b, std::make_index_sequence<W>{});
            }
            transpose<K / 2>(rows);
        }
    }
    // mask lanes are -1 or 0 (comparison results); the vector ?: lets the
    // compiler use a blend, or min / max where those are the same choice
    static F select(I mask, F a, F b) { return mask ? a : b; }
    static U select(I mask, U a, U b) { return mask ? a : b; }
    static F clamp(F v, F lo, F hi) {
        v = select(v < lo, lo, v);
        return select(v > hi, hi, v);
    }
    static F nearest(F v) {
        const F magic = splat(12582912.0f);
        return (v + magic) - magic;
    }
    // 1 / d, or 0 where d is 0 (scalar: formats::inverse_or_zero)
    static F inverse_or_zero(F d) {
        const F zero = splat(0.0f);
        const I nonzero = d != zero;
        const F safe = select(nonzero, d, splat(1.0f));
        return select(nonzero, splat(1.0f) / safe, zero);
    }
    // scalar: formats::storable_scale
    static F storable_scale(F d) {
        d = clamp(d, splat(-formats::kMaxScale), splat(formats::kMaxScale));
        const U u = (U)d;
        const U sign = u & 0x80000000u, a = u & 0x7fffffffu;
        const U normal = (a + 0x0fffu + ((a >> 13) & 1u)) & ~0x1fffu;
        const U subnormal = (U)(((F)a + splat(0.5f)) - splat(0.5f));
        return (F)(sign | select((I)(a < 0x38800000u), subnormal, normal));
    }
    static I to_int(F v) { return __builtin_convertvector(v, I); }
    // bit l set where lane l of a mask is set (-1): a move-mask of the lanes'
    // sign bits where the instruction set has one
    static uint32_t bits(I mask) {
#if defined(__AVX512DQ__)
        if constexpr (W == 16) return _mm512_movepi32_mask(reinterpret_cast<__m512i>(mask));
#endif
#if defined(__AVX__)
        if constexpr (W == 8)
            return static_cast<uint32_t>(_mm256_movemask_ps(reinterpret_cast<__m256>(mask)));
#endif
#if defined(__SSE2__)
        if constexpr (W == 4) return static_cast<uint32_t>(_mm_movemask_ps(reinterpret_cast<__m128>(mask)));
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
        if constexpr (W == 4) {
            const uint32x4_t weight = {1, 2, 4, 8};
            return vaddvq_u32(vandq_u32(reinterpret_cast<uint32x4_t>(mask), weight));
        }
#endif
        uint32_t b = 0;
        for (int l = 0; l < W; ++l) b |= (mask[l] != 0 ? 1u : 0u) << l;
        return b;
    }
};

} // namespace LOWBIT_ISA
} // namespace lb::kernels
