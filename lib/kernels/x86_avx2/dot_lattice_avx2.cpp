// AVX2 dot kernels (with FMA and F16C) of the lattice I-quants with Q8_K:
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S, whose grid levels are positive,
// and IQ1_S and IQ1_M (levels -1, 0, 1 and a shift of +-1/8). Each type has a
// reader of its blocks (the layouts of formats/blocks.hpp, as
// formats/lattice_blocks.hpp and iq1_blocks.hpp read them), most splitting a
// super-block's point indices in vectors first.
// A sub-block's grid rows (four of 8 bytes, or eight of 4) are gathered into
// one vector, its signs applied to the activations (bytes from a table where
// the signs have even parity, the stored bits spread otherwise: each the
// faster here), and the products summed exactly in integers with the
// sub-block's scales. Each super-block's integer sum is the scalar
// reference's; its scale product and the sum over super-blocks are the
// reference's float steps (contraction aside: tests bound the difference).
#include "formats/blocks.hpp"
#include "formats/iq1_blocks.hpp"
#include "formats/lattice_blocks.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/float_rows.hpp"
#include "kernels/row_tiles.hpp"
#include "kernels/x86_avx2/lattice_dots_avx2.hpp"
#include "kernels/x86_avx2/lattice_levels_avx2.hpp"
#include "kernels/x86_avx2/levels_avx2.hpp"
#include "kernels/x86_avx2/q8_0_pass_avx2.hpp"
#include "kernels/x86_kquant_parts.hpp"

#include <cstring>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

using formats::block_q8_K;
using formats::LatticeLayout;
using formats::QK_K;

// The sign bytes of 8 values from 7 stored bits, the eighth for even parity
// (formats::even_signs), as _mm256_sign_epi8 takes them: 0xff where
// negative, 1 elsewhere.
struct EvenSignMasks {
    uint64_t mask[128] = {};
    constexpr EvenSignMasks() {
        for (unsigned i = 0; i < 128; ++i)
            for (unsigned j = 0; j < 8; ++j)
                mask[i] |= uint64_t{formats::kEvenSigns.signs[i] >> j & 1u ? 0xffu : 0x01u} << 8 * j;
    }
};
constexpr EvenSignMasks kEvenSignMasks{};

inline long long even_sign_mask(unsigned seven_bits) {
    return static_cast<long long>(kEvenSignMasks.mask[seven_bits & 127u]);
}

// A sub-block's scales in 16-bit lanes: weights 0..15 in the low 128 bits,
// 16..31 in the high.
inline __m256i scale_pair(int32_t first, int32_t second) {
    return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(second)),
                            _mm_set1_epi16(static_cast<int16_t>(first)));
}

// IQ2_XS and IQ2_S: ls of the first 16 weights in the low nibble, of the
// second in the high one.
inline __m256i nibble_scales(uint8_t scales) {
    return scale_pair(2 * (scales & 15) + 1, 2 * (scales >> 4) + 1);
}

// IQ2_XXS and IQ3_XXS: the uint32 at `word` holds the groups' 7-bit sign
// codes at 7 l and ls at bits 28..31; each code's sign bytes in one lookup.
inline void even_signs_and_scale(const uint8_t *word, __m256i &signs, __m256i &scale) {
    uint32_t a;
    std::memcpy(&a, word, sizeof a);
    signs = _mm256_set_epi64x(even_sign_mask(a >> 21), even_sign_mask(a >> 14), even_sign_mask(a >> 7),
                              even_sign_mask(a));
    const int32_t ls = static_cast<int32_t>(2 * (a >> 28) + 1);
    scale = scale_pair(ls, ls);
}

// Readers of a super-block: for sub-block ib, its grid levels, sign bytes
// and scales as vectors, the point indices of IQ2_XS, IQ2_S and IQ3_S split in
// vectors for the whole super-block first.

// IQ2_XXS: sub-block ib's bytes 8 ib .. 8 ib + 3 are its points, then its
// sign and scale word.
struct Iq2xxsReader {
    const uint8_t *qs;
    const int8_t *grid;
    Iq2xxsReader(const formats::block_iq2_xxs &x, const int8_t *g)
        : qs(reinterpret_cast<const uint8_t *>(x.qs)), grid(g) {}
    void sub(int ib, __m256i &levels, __m256i &signs, __m256i &scale) const {
        const uint8_t *p = qs + 8 * ib;
        levels = rows8(grid, p);
        even_signs_and_scale(p + 4, signs, scale);
    }
};

// IQ3_XXS: sub-block ib's eight 4-value points are qs[8 ib + p], its sign and
// scale word at qs + 64 + 4 ib.
struct Iq3xxsReader {
    const uint8_t *qs;
    const int8_t *grid;
    Iq3xxsReader(const formats::block_iq3_xxs &x, const int8_t *g) : qs(x.qs), grid(g) {}
    void sub(int ib, __m256i &levels, __m256i &signs, __m256i &scale) const {
        const uint8_t *p = qs + 8 * ib;
        levels = rows4(grid, p);
        even_signs_and_scale(qs + QK_K / 4 + 4 * ib, signs, scale);
    }
};

// IQ2_XS: qs[g] holds group g's point (bits 0..8) and sign code (9..15).
struct Iq2xsReader {
    const formats::block_iq2_xs &x;
    const int8_t *grid;
    alignas(32) uint16_t point[32], sign[32];
    Iq2xsReader(const formats::block_iq2_xs &block, const int8_t *g) : x(block), grid(g) {
        for (int h = 0; h < 2; ++h) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qs + 16 * h));
            _mm256_store_si256(reinterpret_cast<__m256i *>(point + 16 * h),
                               _mm256_and_si256(q, _mm256_set1_epi16(511)));
            _mm256_store_si256(reinterpret_cast<__m256i *>(sign + 16 * h), _mm256_srli_epi16(q, 9));
        }
    }
    void sub(int ib, __m256i &levels, __m256i &signs, __m256i &scale) const {
        const uint16_t *sg = sign + 4 * ib;
        levels = rows8(grid, point + 4 * ib);
        signs = _mm256_set_epi64x(even_sign_mask(sg[3]), even_sign_mask(sg[2]), even_sign_mask(sg[1]),
                                  even_sign_mask(sg[0]));
        scale = nibble_scales(x.scales[ib]);
    }
};

// IQ2_S: group g = 4 ib + l's point is qs[g] | (qh[ib] >> 2 l & 3) << 8: the
// high bits shifted into place by multiplying (by 2^(8 - 2 l)) and masked.
struct Iq2sReader {
    const formats::block_iq2_s &x;
    const int8_t *grid;
    alignas(32) uint16_t point[32];
    Iq2sReader(const formats::block_iq2_s &block, const int8_t *g) : x(block), grid(g) {
        const __m128i qh = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(x.qh));
        const __m256i shift =
            _mm256_set_epi16(4, 16, 64, 256, 4, 16, 64, 256, 4, 16, 64, 256, 4, 16, 64, 256);
        for (int h = 0; h < 2; ++h) {
            // qh[4 h + k] in the four lanes of sub-block 4 h + k
            const __m128i spread = _mm_shuffle_epi8(
                qh, _mm_setr_epi8(static_cast<char>(4 * h), static_cast<char>(4 * h),
                                  static_cast<char>(4 * h), static_cast<char>(4 * h),
                                  static_cast<char>(4 * h + 1), static_cast<char>(4 * h + 1),
                                  static_cast<char>(4 * h + 1), static_cast<char>(4 * h + 1),
                                  static_cast<char>(4 * h + 2), static_cast<char>(4 * h + 2),
                                  static_cast<char>(4 * h + 2), static_cast<char>(4 * h + 2),
                                  static_cast<char>(4 * h + 3), static_cast<char>(4 * h + 3),
                                  static_cast<char>(4 * h + 3), static_cast<char>(4 * h + 3)));
            const __m256i high = _mm256_and_si256(_mm256_mullo_epi16(_mm256_cvtepu8_epi16(spread), shift),
                                                  _mm256_set1_epi16(0x300));
            const __m256i low =
                _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qs + 16 * h)));
            _mm256_store_si256(reinterpret_cast<__m256i *>(point + 16 * h), _mm256_or_si256(low, high));
        }
    }
    void sub(int ib, __m256i &levels, __m256i &signs, __m256i &scale) const {
        levels = rows8(grid, point + 4 * ib);
        signs = sign_bytes(x.qs + QK_K / 8 + 4 * ib);
        scale = nibble_scales(x.scales[ib]);
    }
};

// IQ3_S: point p of sub-block ib (two per group) is qs[8 ib + p] with bit
// 8 ib + p of qh (as one 64-bit word) at bit 8.
struct Iq3sReader {
    const formats::block_iq3_s &x;
    const int8_t *grid;
    alignas(32) uint16_t point[64];
    Iq3sReader(const formats::block_iq3_s &block, const int8_t *g) : x(block), grid(g) {
        for (int h = 0; h < 2; ++h) {
            const __m256i high = _mm256_and_si256(bit_bytes(x.qh + 4 * h), _mm256_set1_epi8(1));
            for (int k = 0; k < 2; ++k) {
                const __m128i hk = k == 0 ? _mm256_castsi256_si128(high) : _mm256_extracti128_si256(high, 1);
                const __m256i low = _mm256_cvtepu8_epi16(
                    _mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qs + 32 * h + 16 * k)));
                _mm256_store_si256(reinterpret_cast<__m256i *>(point + 32 * h + 16 * k),
                                   _mm256_or_si256(low, _mm256_slli_epi16(_mm256_cvtepu8_epi16(hk), 8)));
            }
        }
    }
    void sub(int ib, __m256i &levels, __m256i &signs, __m256i &scale) const {
        const uint16_t *pt = point + 8 * ib;
        levels = rows4(grid, pt);
        signs = sign_bytes(x.signs + 4 * ib);
        const int32_t ls = 2 * (x.scales[ib / 2] >> 4 * (ib % 2) & 15) + 1;
        scale = scale_pair(ls, ls);
    }
};

// J tokens against one weight row: per super-block, sum over sub-blocks of
// scale * sum(level * sign * q8), the levels unsigned (at most 62) so that
// _mm256_maddubs_epi16's pairs stay below 2^15.
template <typename Block, typename Reader, int J>
void lattice_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const int8_t *grid = LatticeLayout<Block>::grid().value;
    float acc[J];
    for (int j = 0; j < J; ++j) acc[j] = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const Block &x = reinterpret_cast<const Block *>(w)[b];
        const Reader reader(x, grid);
        const block_q8_K *y[J];
        __m256i total[J];
        for (int j = 0; j < J; ++j) {
            y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
            total[j] = _mm256_setzero_si256();
        }
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            __m256i levels, signs, scale;
            reader.sub(ib, levels, signs, scale);
            for (int j = 0; j < J; ++j) {
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 32 * ib));
                const __m256i pairs = _mm256_maddubs_epi16(levels, _mm256_sign_epi8(q8, signs));
                total[j] = _mm256_add_epi32(total[j], _mm256_madd_epi16(pairs, scale));
            }
        }
        const float dw = half(x.d);
        for (int j = 0; j < J; ++j) acc[j] += dw * y[j]->d * static_cast<float>(hsum_i32(total[j]));
    }
    for (int j = 0; j < J; ++j) sums[j] = LatticeLayout<Block>::kFactor * acc[j];
}

template <typename Block, typename Reader> void tile_lattice(const MatmulTile &t) {
    tile_by_rows<lattice_pass<Block, Reader, kTokens>, lattice_pass<Block, Reader, 1>>(t, QK_K);
}

// --- IQ1_S and IQ1_M x Q8_K (formats/iq1_blocks.hpp) ----------------------------

// 0xff (-1) in the 8 bytes of group l where bit l of negative is set, 1 elsewhere.
inline __m256i delta_signs(unsigned negative) {
    const __m256i bit = _mm256_set_epi64x(8, 4, 2, 1);
    const __m256i set = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(negative), bit), bit);
    return _mm256_or_si256(set, _mm256_set1_epi8(1));
}

// A super-block's sub-blocks as formats::iq1_sub reads them, the points of
// all 32 groups split in vectors first. IQ1_S:
struct Iq1sReader {
    const formats::block_iq1_s &x;
    alignas(32) uint32_t point[32];
    // group 4 ib + l's point is qs[4 ib + l] | (qh[ib] >> 3 l & 7) << 8: qh[ib]
    // in the four lanes of its groups, shifted by 3 l
    explicit Iq1sReader(const formats::block_iq1_s &block) : x(block) {
        const __m256i qh = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qh)));
        const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9), seven = _mm256_set1_epi32(7);
        for (int v = 0; v < 4; ++v) {
            const __m256i lanes =
                _mm256_setr_epi32(2 * v, 2 * v, 2 * v, 2 * v, 2 * v + 1, 2 * v + 1, 2 * v + 1, 2 * v + 1);
            const __m256i high =
                _mm256_and_si256(_mm256_srlv_epi32(_mm256_permutevar8x32_epi32(qh, lanes), shifts), seven);
            const __m256i low =
                _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x.qs + 8 * v)));
            _mm256_store_si256(reinterpret_cast<__m256i *>(point + 8 * v),
                               _mm256_or_si256(low, _mm256_slli_epi32(high, 8)));
        }
    }
    float d() const { return half(x.d); }
    // ls at bits 12..14 of qh[ib], the sign of the sub-block's delta at bit 15
    formats::Iq1Sub sub(int ib) const {
        formats::Iq1Sub s;
        for (int l = 0; l < 4; ++l) s.point[l] = static_cast<uint16_t>(point[4 * ib + l]);
        const unsigned qh = x.qh[ib];
        s.negative = qh & 0x8000u ? 15 : 0;
        s.scale[0] = s.scale[1] = static_cast<int32_t>(2 * (qh >> 12 & 7) + 1);
        return s;
    }
};

// IQ1_M: the points and delta signs of all 32 groups split in vectors first
// (group g's nibble is nibble g % 2 of qh[g / 2]: its 3 high point bits and,
// at bit 3, the delta's sign), the scales from the four scale words.
struct Iq1mReader {
    alignas(32) uint16_t point[32];
    uint32_t negative;
    int32_t scale[16];
    float d_;
    explicit Iq1mReader(const formats::block_iq1_m &x) {
        const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qh)),
                      low4 = _mm_set1_epi8(0x0f);
        const __m128i even = _mm_and_si128(qh, low4), odd = _mm_and_si128(_mm_srli_epi16(qh, 4), low4);
        const __m128i first = _mm_unpacklo_epi8(even, odd), second = _mm_unpackhi_epi8(even, odd);
        const __m256i nibbles = _mm256_set_m128i(second, first), eight = _mm256_set1_epi8(8);
        negative = static_cast<uint32_t>(
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(nibbles, eight), eight)));
        const __m128i seven = _mm_set1_epi8(7);
        for (int h = 0; h < 2; ++h) {
            const __m256i lo =
                _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.qs + 16 * h)));
            const __m256i hi = _mm256_cvtepu8_epi16(_mm_and_si128(h == 0 ? first : second, seven));
            _mm256_store_si256(reinterpret_cast<__m256i *>(point + 16 * h),
                               _mm256_or_si256(lo, _mm256_slli_epi16(hi, 8)));
        }
        for (int k = 0; k < 4; ++k) {
            const unsigned sc = formats::iq1_scales_word(x, k);
            for (int m = 0; m < 4; ++m) scale[4 * k + m] = static_cast<int32_t>(2 * (sc >> 3 * m & 7) + 1);
        }
        d_ = half(formats::iq1_d_bits(x));
    }
    float d() const { return d_; }
    formats::Iq1Sub sub(int ib) const {
        formats::Iq1Sub s;
        for (int l = 0; l < 4; ++l) s.point[l] = point[4 * ib + l];
        s.negative = static_cast<uint8_t>(negative >> 4 * ib & 15u);
        s.scale[0] = scale[2 * ib];
        s.scale[1] = scale[2 * ib + 1];
        return s;
    }
};

// J tokens against one weight row: per super-block the exact integer
// t = sum of scale * (8 level + delta sign) * q8 = 8 s + s_delta (s the sum of
// scale * level * q8, s_delta that of scale * (+-1) q8). Its float times 1/8
// is s + s_delta / 8 exactly (|t| < 2^24), the value the reference's
// float(s) + 1/8 float(s_delta) rounds to: the same float. The values
// 8 level +- 1 are odd, never 0, so _mm256_sign_epi8 applies them whole.
template <typename Block, typename Reader, int J>
void iq1_pass(int64_t nb, const uint8_t *w, const uint8_t *const *ar, float *sums) {
    const int8_t *grid = formats::iq1s_grid().value;
    float acc[J];
    for (int j = 0; j < J; ++j) acc[j] = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const Reader reader(reinterpret_cast<const Block *>(w)[b]);
        const block_q8_K *y[J];
        __m256i total[J];
        for (int j = 0; j < J; ++j) {
            y[j] = reinterpret_cast<const block_q8_K *>(ar[j]) + b;
            total[j] = _mm256_setzero_si256();
        }
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const formats::Iq1Sub sub = reader.sub(ib);
            const __m256i levels = rows8(grid, sub.point);
            const __m256i two = _mm256_add_epi8(levels, levels), four = _mm256_add_epi8(two, two);
            const __m256i v = _mm256_add_epi8(_mm256_add_epi8(four, four), delta_signs(sub.negative));
            const __m256i magnitude = _mm256_sign_epi8(v, v);
            const __m256i scale = scale_pair(sub.scale[0], sub.scale[1]);
            for (int j = 0; j < J; ++j) {
                const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[j]->qs + 32 * ib));
                const __m256i p = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(q8, v));
                total[j] = _mm256_add_epi32(total[j], _mm256_madd_epi16(p, scale));
            }
        }
        for (int j = 0; j < J; ++j)
            acc[j] += reader.d() * y[j]->d * (static_cast<float>(hsum_i32(total[j])) * formats::kIq1Delta);
    }
    for (int j = 0; j < J; ++j) sums[j] = acc[j];
}

template <typename Block, typename Reader> void tile_iq1(const MatmulTile &t) {
    tile_by_rows<iq1_pass<Block, Reader, kTokens>, iq1_pass<Block, Reader, 1>>(t, QK_K);
}

} // namespace

void use_lattice_dots(DotKernels &k) {
    using formats::block_iq2_s, formats::block_iq2_xs, formats::block_iq2_xxs, formats::block_iq3_s,
        formats::block_iq3_xxs;
    use_tile<tile_lattice<block_iq2_xxs, Iq2xxsReader>>(k.by_type[LB_TYPE_IQ2_XXS]);
    use_tile<tile_lattice<block_iq2_xs, Iq2xsReader>>(k.by_type[LB_TYPE_IQ2_XS]);
    use_tile<tile_lattice<block_iq2_s, Iq2sReader>>(k.by_type[LB_TYPE_IQ2_S]);
    use_tile<tile_lattice<block_iq3_xxs, Iq3xxsReader>>(k.by_type[LB_TYPE_IQ3_XXS]);
    use_tile<tile_lattice<block_iq3_s, Iq3sReader>>(k.by_type[LB_TYPE_IQ3_S]);
    use_tile<tile_iq1<formats::block_iq1_s, Iq1sReader>>(k.by_type[LB_TYPE_IQ1_S]);
    use_tile<tile_iq1<formats::block_iq1_m, Iq1mReader>>(k.by_type[LB_TYPE_IQ1_M]);
}

} // namespace lb::kernels::avx2
