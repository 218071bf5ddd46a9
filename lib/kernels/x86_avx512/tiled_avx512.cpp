// AVX-512 (with VNNI) kernels for the tiled layouts of
// formats/tiled_layouts.hpp: a vector holds one 4-value chunk of 16 rows
// (Q8R16), so each vpdpbusd multiplies 16 rows with one broadcast piece of an
// activation row and no sum ever crosses lanes.
//
// Compiled without contraction of multiplies and adds: each lane computes
// its row's sum as the scalar reference does (integer block sums, then
// sum += (float)isum * d_w * d_a block after block), so the products equal
// the reference's exactly.
#include "kernels/x86_avx512/tiled_avx512.hpp"

#include "formats/blocks.hpp"
#include "formats/tiled_layouts.hpp"

#include <cstring>
#include <vector>
#if defined(__GNUC__) && !defined(__clang__) // see dot_avx512.cpp
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

namespace lb::kernels::avx512 {

namespace {

using formats::block_q8_0;
using formats::block_q8_0x16;

constexpr int kTokens = 4; // activation rows per pass

inline int32_t load4(const int8_t *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// 128 * (sum of the 32 codes) of every block of an activation row: vpdpbusd
// multiplies unsigned bytes, so the weights go in as q + 128 and this is
// taken off again.
void code_offsets(const block_q8_0 *a, int64_t n_blocks, int32_t *offsets) {
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t b = 0; b < n_blocks; ++b) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a[b].qs));
        const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, q);
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        offsets[b] = 128 * _mm_cvtsi128_si32(h);
    }
}

// sums[j][i] = dot(row i of the group, token j) for J tokens.
template <int J>
void q8r16_pass(int64_t n_blocks, const block_q8_0x16 *g, const block_q8_0 *const *a,
                const int32_t *const *offsets, __m512 *sums) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(g[b].d)));
        __m512i isum[J];
        for (int j = 0; j < J; ++j) isum[j] = _mm512_set1_epi32(-offsets[j][b]);
        for (int k = 0; k < 8; ++k) {
            const __m512i w = _mm512_xor_si512(_mm512_loadu_si512(g[b].qs + 64 * k), flip);
            for (int j = 0; j < J; ++j)
                isum[j] = _mm512_dpbusd_epi32(isum[j], w, _mm512_set1_epi32(load4(a[j][b].qs + 4 * k)));
        }
        for (int j = 0; j < J; ++j) {
            const __m512 da = _mm512_set1_ps(_cvtsh_ss(a[j][b].d));
            acc[j] = _mm512_add_ps(acc[j], _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(isum[j]), dw), da));
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = acc[j];
}

} // namespace

void tile_q8r16(const MatmulTile &t) {
    const int64_t nb = t.n / formats::QK8_0;
    thread_local std::vector<int32_t> offsets;
    offsets.resize(static_cast<size_t>(t.n_tokens * nb));
    const block_q8_0 *a[kTokens];
    const int32_t *off[kTokens];
    for (int64_t j = 0; j < t.n_tokens; ++j)
        code_offsets(reinterpret_cast<const block_q8_0 *>(t.a + static_cast<size_t>(j) * t.a_stride), nb,
                     offsets.data() + j * nb);
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokens) {
        const int nj = t.n_tokens - j0 < kTokens ? static_cast<int>(t.n_tokens - j0) : kTokens;
        for (int j = 0; j < nj; ++j) {
            a[j] = reinterpret_cast<const block_q8_0 *>(t.a + static_cast<size_t>(j0 + j) * t.a_stride);
            off[j] = offsets.data() + (j0 + j) * nb;
        }
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += 16) {
            const auto *g =
                reinterpret_cast<const block_q8_0x16 *>(t.w + static_cast<size_t>(r0 / 16) * t.w_stride);
            __m512 sums[kTokens];
            if (nj == kTokens)
                q8r16_pass<kTokens>(nb, g, a, off, sums);
            else
                for (int j = 0; j < nj; ++j) q8r16_pass<1>(nb, g, &a[j], &off[j], &sums[j]);
            for (int j = 0; j < nj; ++j) _mm512_storeu_ps(t.out + (j0 + j) * t.out_stride + r0, sums[j]);
        }
    }
}

} // namespace lb::kernels::avx512
