// The AVX-512 set's BF16 tile for CPUs with AVX512-BF16 (vdpbf16ps): BF16
// weights times BF16 activations, the reference's pairing (formats'
// vec_dot_bf16_bf16), 32 products per instruction. Compiled with
// -mavx512bf16 into its own namespace (isa_avx512bf16), and called only where
// the CPU has the extension (avx512::has_bf16()).
//
// Each product of two BF16 values is exact in binary32; vdpbf16ps adds them
// in pairs to the lanes with round-to-nearest-even and flushes subnormal
// inputs and results to zero (which moves a sum by less than 2^-126 per
// term). Only the order of the additions differs from the reference's
// (tests bound it).
#include "kernels/x86_avx512/bf16_avx512.hpp"

#include "kernels/row_tiles.hpp"
#include "kernels/x86_intrinsics.hpp"

#include <cstring>

namespace lb::kernels::avx512 {

namespace {

inline float widen(const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline __m512bh load32(const uint8_t *p) {
    return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
}

inline float hsum(__m512 v) {
    return _mm512_reduce_add_ps(v);
}

// R weight rows x J tokens (row_tiles.hpp's tile_by_groups; n_blocks is the
// row's length). With few sums at once each is split over U accumulators,
// so that the instructions' latency overlaps.
struct Bf16Pass {
    template <int R, int J>
    static void run(int64_t n, const uint8_t *const *wr, const uint8_t *const *ar, float (*sums)[J]) {
        constexpr int U = R * J >= 8 ? 1 : R * J >= 4 ? 2 : 4;
        constexpr int64_t L = 32; // values per vector
        __m512 acc[U][R][J];
        for (int u = 0; u < U; ++u)
            for (int i = 0; i < R; ++i)
                for (int j = 0; j < J; ++j) acc[u][i][j] = _mm512_setzero_ps();
        const auto step = [&](int u, int64_t k) {
            __m512bh wv[R];
            for (int i = 0; i < R; ++i) wv[i] = load32(wr[i] + 2 * k);
            for (int j = 0; j < J; ++j) {
                const __m512bh av = load32(ar[j] + 2 * k);
                for (int i = 0; i < R; ++i) acc[u][i][j] = _mm512_dpbf16_ps(acc[u][i][j], wv[i], av);
            }
        };
        const int64_t whole = n / (L * U) * (L * U), vectors = n / L * L;
        int64_t k = 0;
        for (; k < whole; k += L * U)
            for (int u = 0; u < U; ++u) step(u, k + L * u);
        for (; k < vectors; k += L) step(0, k);
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < J; ++j) {
                __m512 total = acc[0][i][j];
                for (int u = 1; u < U; ++u) total = _mm512_add_ps(total, acc[u][i][j]);
                float s = hsum(total);
                for (int64_t e = vectors; e < n; ++e) s += widen(wr[i] + 2 * e) * widen(ar[j] + 2 * e);
                sums[i][j] = s;
            }
    }
};

} // namespace

void tile_bf16(const MatmulTile &t) {
    tile_by_groups<Bf16Pass, 4, 4>(t, 1);
}

} // namespace lb::kernels::avx512
