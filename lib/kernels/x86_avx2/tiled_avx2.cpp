// The AVX2 kernel for the Q8R16 layout of formats/tiled_layouts.hpp. A
// 256-bit vector holds one 4-value chunk of 8 rows (the group taken as two
// halves of 8 rows), so each vpmaddubsw multiplies those rows with one
// broadcast piece of an activation row, and no sum crosses rows.
//
// Compiled without FMA and without contraction: each lane computes its row's
// sum as the scalar reference does (integer block sums, then
// sum += (float)isum * d_w * d_a block after block), so the products equal
// the reference's exactly.
//
// No Q4_K_4 kernel: one written the same way (two rows per vector, vpmaddubsw
// then vpmaddwd with the scales) ran at 0.78x the standard layout's for one
// token and 1.05-1.12x for 16-64 (bench/RESULTS.md): vpmaddubsw does the same
// work per instruction in either layout, so the AVX2 set keeps Q4_K standard.
#include "kernels/x86_avx2/tiled_avx2.hpp"

#include "formats/blocks.hpp"
#include "formats/tiled_layouts.hpp"

#include <cstring>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::block_q8_0;
using formats::block_q8_0x16;

constexpr int kTokens = 4; // activation rows per pass

inline int32_t load4(const int8_t *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline __m256i load256(const void *p) {
    return _mm256_loadu_si256(static_cast<const __m256i *>(p));
}

// --- Q8R16 x Q8_0 ------------------------------------------------------------

// sums[j] = the dot products of rows 8h .. 8h + 7 of the group with token j.
// The weights' magnitudes go in as the unsigned operand (|-128| = 128 too),
// the activations with the weights' signs as the signed one (a Q8_0
// activation is never -128).
template <int J>
void q8r16_half(int64_t n_blocks, const block_q8_0x16 *g, int h, const block_q8_0 *const *a, __m256 *sums) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(g[b].d + 8 * h)));
        __m256i isum[J];
        for (int j = 0; j < J; ++j) isum[j] = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k) {
            const __m256i w = load256(g[b].qs + 64 * k + 32 * h), u = _mm256_abs_epi8(w);
            for (int j = 0; j < J; ++j) {
                const __m256i s = _mm256_sign_epi8(_mm256_set1_epi32(load4(a[j][b].qs + 4 * k)), w);
                isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones));
            }
        }
        for (int j = 0; j < J; ++j) {
            const __m256 da = _mm256_set1_ps(_cvtsh_ss(a[j][b].d));
            acc[j] = _mm256_add_ps(acc[j], _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(isum[j]), dw), da));
        }
    }
    for (int j = 0; j < J; ++j) sums[j] = acc[j];
}

} // namespace

void tile_q8r16(const MatmulTile &t) {
    const int64_t nb = t.n / formats::QK8_0;
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokens) {
        const int nj = t.n_tokens - j0 < kTokens ? static_cast<int>(t.n_tokens - j0) : kTokens;
        const block_q8_0 *a[kTokens];
        for (int j = 0; j < nj; ++j)
            a[j] = reinterpret_cast<const block_q8_0 *>(t.a + static_cast<size_t>(j0 + j) * t.a_stride);
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += 16) {
            const auto *g =
                reinterpret_cast<const block_q8_0x16 *>(t.w + static_cast<size_t>(r0 / 16) * t.w_stride);
            for (int h = 0; h < 2; ++h) {
                __m256 sums[kTokens];
                if (nj == kTokens)
                    q8r16_half<kTokens>(nb, g, h, a, sums);
                else
                    for (int j = 0; j < nj; ++j) q8r16_half<1>(nb, g, h, &a[j], &sums[j]);
                for (int j = 0; j < nj; ++j)
                    _mm256_storeu_ps(t.out + (j0 + j) * t.out_stride + r0 + 8 * h, sums[j]);
            }
        }
    }
}

} // namespace lb::kernels::avx2
