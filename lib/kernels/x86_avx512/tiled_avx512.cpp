// AVX-512 (with VNNI) kernels for the tiled layouts of
// formats/tiled_layouts.hpp. A vector holds one 4-value chunk of 16 rows
// (Q8R16) or one 16-byte chunk of 4 rows (Q4_K_4, a row per 128-bit lane), so
// each vpdpbusd multiplies every row of the group with one broadcast piece of
// an activation row, and no sum crosses rows until a row is done.
//
// Compiled without contraction of multiplies and adds (Q4_K_4 asks for its
// fused ones by name). For Q8R16 each lane
// computes its row's sum as the scalar reference does (integer block sums,
// then sum += (float)isum * d_w * d_a block after block), so the products
// equal the reference's exactly. For Q4_K_4 the integer sums are exact and
// the float additions run in another order (tests bound it).
#include "kernels/x86_avx512/tiled_avx512.hpp"

#include "formats/blocks.hpp"
#include "formats/tiled_layouts.hpp"
#include "kernels/x86_intrinsics.hpp"
#include "kernels/x86_kquant_parts.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace lb::kernels::avx512 {

namespace {

using formats::block_q4_Kx4;
using formats::block_q8_0;
using formats::block_q8_0x16;
using formats::block_q8_K;

// activation rows per pass: the weights of a group are decoded once for them
constexpr int kTokensQ8R16 = 8, kTokensQ4K4 = 8;

// A thread's scratch memory, grown as needed. Not std::vector: an out-of-line
// copy of a library template compiled with this file's instruction-set flags
// could be the one the linker keeps for the rest of the library
// (tests/abi/isa_check.sh).
template <typename T> class Scratch {
  public:
    ~Scratch() { std::free(data_); }
    T *get(size_t n) {
        if (n > size_) {
            void *p = std::realloc(data_, n * sizeof(T));
            if (p == nullptr) throw std::bad_alloc();
            data_ = static_cast<T *>(p);
            size_ = n;
        }
        return data_;
    }

  private:
    T *data_ = nullptr;
    size_t size_ = 0;
};

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

// --- Q4_K_4 x Q8_K ----------------------------------------------------------

// The sums of each pair of 16-value activation sums (one per 32-value
// sub-block) of every super-block of a row, for the mins.
void sub_block_sums(const block_q8_K *a, int64_t n_blocks, int16_t *sums) {
    for (int64_t b = 0; b < n_blocks; ++b)
        for (int s = 0; s < 8; ++s)
            sums[b * 8 + s] = static_cast<int16_t>(a[b].bsums[2 * s] + a[b].bsums[2 * s + 1]);
}

// The binary16 value of row i, widened, in the four 32-bit lanes of 128-bit
// lane i.
inline __m512 per_row(const uint16_t *halves) {
    const __m128 f = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(halves)));
    return _mm512_permutexvar_ps(_mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
                                 _mm512_castps128_ps512(f));
}

// sums[j] = the dot products of the 4 rows of g with token j, in lanes 0..3,
// for J tokens. Per super-block and token, in lane-wise int32 (four lanes per
// row): the sub-block sums of codes x activations by vpdpbusd, packed to 16
// bits and multiplied by the sub-block scales by vpdpwssd; the mins times the
// activation sums by vpmaddwd. The
// float sum of each row is kept in its four lanes and added up at the end.
template <int J>
void q4_k_4_pass(int64_t n_blocks, const block_q4_Kx4 *g, const block_q8_K *const *a,
                 const int16_t *const *pair_sums, float (*sums)[4]) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    __m512 acc[J];
    for (int j = 0; j < J; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
        const block_q4_Kx4 &x = g[b];
        // row i's eight scales (bytes 0..7) and mins (8..15) in 128-bit lane i;
        // the mins as 16-bit values, row i's eight in lane i
        const __m512i sm = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_set_m128i(scales_mins_k4(x.scales + 12), scales_mins_k4(x.scales))),
            _mm256_set_m128i(scales_mins_k4(x.scales + 36), scales_mins_k4(x.scales + 24)), 1);
        const __m512i m =
            _mm512_shuffle_epi8(sm, _mm512_broadcast_i32x4(_mm_set_epi8(-1, 15, -1, 14, -1, 13, -1, 12, -1,
                                                                        11, -1, 10, -1, 9, -1, 8)));
        __m512i total[J];
        for (int j = 0; j < J; ++j) total[j] = _mm512_setzero_si512();
        for (int c = 0; c < 8; c += 2) { // chunks c, c + 1: sub-blocks c (low nibbles) and c + 1 (high)
            const __m512i w0 = _mm512_loadu_si512(x.qs + 64 * c),
                          w1 = _mm512_loadu_si512(x.qs + 64 * (c + 1));
            const __m512i lo0 = _mm512_and_si512(w0, low4), lo1 = _mm512_and_si512(w1, low4);
            const __m512i hi0 = _mm512_and_si512(_mm512_srli_epi16(w0, 4), low4),
                          hi1 = _mm512_and_si512(_mm512_srli_epi16(w1, 4), low4);
            // per 128-bit lane (row i): scale c of row i in 16-bit lanes 0..3,
            // scale c + 1 in 4..7 (as _mm512_packs_epi32 places the sums below)
            const __m512i scale = _mm512_shuffle_epi8(
                sm, _mm512_broadcast_i32x4(_mm_set_epi8(
                        -1, static_cast<char>(c + 1), -1, static_cast<char>(c + 1), -1,
                        static_cast<char>(c + 1), -1, static_cast<char>(c + 1), -1, static_cast<char>(c), -1,
                        static_cast<char>(c), -1, static_cast<char>(c), -1, static_cast<char>(c))));
            for (int j = 0; j < J; ++j) {
                const int8_t *q = a[j][b].qs + 32 * c; // the 64 activations of chunks c, c + 1
                auto piece = [q](int off) {
                    return _mm512_broadcast_i32x4(
                        _mm_loadu_si128(reinterpret_cast<const __m128i *>(q + off)));
                };
                __m512i plo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo0, piece(0));
                plo = _mm512_dpbusd_epi32(plo, lo1, piece(16));
                __m512i phi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi0, piece(32));
                phi = _mm512_dpbusd_epi32(phi, hi1, piece(48));
                // the sums fit in 16 bits (2 x 4 products of at most 15 x 128)
                total[j] = _mm512_dpwssd_epi32(total[j], _mm512_packs_epi32(plo, phi), scale);
            }
        }
        const __m512 d = per_row(x.d), dmin = per_row(x.dmin);
        for (int j = 0; j < J; ++j) {
            const __m512i pairs = _mm512_broadcast_i32x4(
                _mm_loadu_si128(reinterpret_cast<const __m128i *>(pair_sums[j] + 8 * b)));
            const __m512i mm = _mm512_madd_epi16(m, pairs);
            const __m512 da = _mm512_set1_ps(a[j][b].d);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[j]), _mm512_mul_ps(d, da), acc[j]);
            acc[j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mm), _mm512_mul_ps(dmin, da), acc[j]);
        }
    }
    for (int j = 0; j < J; ++j) {
        // the four lanes of each row added: lane i of the result
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc[j]);
        for (int i = 0; i < 4; ++i)
            sums[j][i] = (lanes[4 * i] + lanes[4 * i + 1]) + (lanes[4 * i + 2] + lanes[4 * i + 3]);
    }
}

} // namespace

void tile_q8r16(const MatmulTile &t) {
    const int64_t nb = t.n / formats::QK8_0;
    thread_local Scratch<int32_t> scratch;
    int32_t *offsets = scratch.get(static_cast<size_t>(t.n_tokens * nb));
    const block_q8_0 *a[kTokensQ8R16];
    const int32_t *off[kTokensQ8R16];
    for (int64_t j = 0; j < t.n_tokens; ++j)
        code_offsets(reinterpret_cast<const block_q8_0 *>(t.a + static_cast<size_t>(j) * t.a_stride), nb,
                     offsets + j * nb);
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokensQ8R16) {
        const int nj = t.n_tokens - j0 < kTokensQ8R16 ? static_cast<int>(t.n_tokens - j0) : kTokensQ8R16;
        for (int j = 0; j < nj; ++j) {
            a[j] = reinterpret_cast<const block_q8_0 *>(t.a + static_cast<size_t>(j0 + j) * t.a_stride);
            off[j] = offsets + (j0 + j) * nb;
        }
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += 16) {
            const auto *g =
                reinterpret_cast<const block_q8_0x16 *>(t.w + static_cast<size_t>(r0 / 16) * t.w_stride);
            __m512 sums[kTokensQ8R16];
            if (nj == kTokensQ8R16)
                q8r16_pass<kTokensQ8R16>(nb, g, a, off, sums);
            else
                for (int j = 0; j < nj; ++j) q8r16_pass<1>(nb, g, &a[j], &off[j], &sums[j]);
            for (int j = 0; j < nj; ++j) _mm512_storeu_ps(t.out + (j0 + j) * t.out_stride + r0, sums[j]);
        }
    }
}

void tile_q4_k_4(const MatmulTile &t) {
    const int64_t nb = t.n / formats::QK_K;
    thread_local Scratch<int16_t> scratch;
    int16_t *pairs = scratch.get(static_cast<size_t>(t.n_tokens * nb * 8));
    for (int64_t j = 0; j < t.n_tokens; ++j)
        sub_block_sums(reinterpret_cast<const block_q8_K *>(t.a + static_cast<size_t>(j) * t.a_stride), nb,
                       pairs + j * nb * 8);
    const block_q8_K *a[kTokensQ4K4];
    const int16_t *ps[kTokensQ4K4];
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokensQ4K4) {
        const int nj = t.n_tokens - j0 < kTokensQ4K4 ? static_cast<int>(t.n_tokens - j0) : kTokensQ4K4;
        for (int j = 0; j < nj; ++j) {
            a[j] = reinterpret_cast<const block_q8_K *>(t.a + static_cast<size_t>(j0 + j) * t.a_stride);
            ps[j] = pairs + (j0 + j) * nb * 8;
        }
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += 4) {
            const auto *g =
                reinterpret_cast<const block_q4_Kx4 *>(t.w + static_cast<size_t>(r0 / 4) * t.w_stride);
            float sums[kTokensQ4K4][4];
            if (nj == kTokensQ4K4)
                q4_k_4_pass<kTokensQ4K4>(nb, g, a, ps, sums);
            else
                for (int j = 0; j < nj; ++j) q4_k_4_pass<1>(nb, g, &a[j], &ps[j], &sums[j]);
            for (int j = 0; j < nj; ++j)
                for (int i = 0; i < 4; ++i) t.out[(j0 + j) * t.out_stride + r0 + i] = sums[j][i];
        }
    }
}

} // namespace lb::kernels::avx512
