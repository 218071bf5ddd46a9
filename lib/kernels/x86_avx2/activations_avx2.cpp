// AVX2 activation quantizers: Q8_0, Q8_1 and Q8_K rows, the right-hand side
// of the quantized dot products. Compiled with -mavx2 -mf16c and without FMA
// or contraction: each block gets the reference's bytes (formats/q8_0.cpp,
// q8_1.cpp, q8_k.cpp), its scale from the same scalar operations on the same
// maximum and its codes from the same IEEE products, rounded the same way.
// Tests compare every set's bytes with the reference on random rows.
#include "kernels/x86_avx2/activations_avx2.hpp"

#include "formats/blocks.hpp"

#include <cstring>
#include <immintrin.h>

namespace lb::kernels::avx2 {

namespace {

// float -> binary16, round to nearest even (F16C; clang's _cvtss_sh macro is
// a compound literal, which -Wpedantic refuses in C++)
inline uint16_t to_half(float v) {
    return static_cast<uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(v), _MM_FROUND_TO_NEAREST_INT), 0));
}

inline __m256 abs_ps(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// the largest |x| of 32 * n8 / 8 values (8 per vector); a NaN is passed over
// as the scalar std::max / > comparisons pass it over (maxps returns its
// second operand when either is NaN)
inline float max_abs(const float *x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j)), m);
    return hmax(m);
}

// std::round: to the nearest integer, halves away from zero (v - trunc(v)
// is exact)
inline __m256 round_half_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = abs_ps(_mm256_sub_ps(v, t));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
    return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

// 32 int32 lanes (in order in a[0..3]) to 32 signed bytes, saturating
inline void pack32(const __m256i *a, int8_t *out) {
    const __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(a[0], a[1]), _mm256_packs_epi32(a[2], a[3]));
    // the packs interleave the 128-bit lanes: put the eight 4-byte groups back in order
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out),
                        _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

// the 32 codes of a Q8_0 / Q8_1 block: round(x * id); their sum
inline int codes_q8(const float *x, float id, int8_t *qs) {
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), idv)));
        sum = _mm256_add_epi32(sum, q[k]);
    }
    pack32(q, qs);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

} // namespace

namespace {

// Q8_0 and Q8_1: d = max |x| / 127 and the codes of each 32; Q8_1 also
// keeps s = d * sum(codes)
template <typename Block, bool kSum> void quantize_blocks_of_32(const float *x, void *dst, int64_t n) {
    Block *y = static_cast<Block *>(dst);
    for (int64_t b = 0; b < n / 32; ++b) {
        const float *xb = x + 32 * b;
        const float d = max_abs(xb, 32) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = to_half(d);
        const int sum = codes_q8(xb, id, y[b].qs);
        if constexpr (kSum) y[b].s = to_half(static_cast<float>(sum) * d);
    }
}

} // namespace

void quantize_q8_0_activations(const float *x, void *dst, int64_t n) {
    quantize_blocks_of_32<formats::block_q8_0, false>(x, dst, n);
}

void quantize_q8_1_activations(const float *x, void *dst, int64_t n) {
    quantize_blocks_of_32<formats::block_q8_1, true>(x, dst, n);
}

void quantize_q8_K_activations(const float *x, void *dst, int64_t n) {
    formats::block_q8_K *y = static_cast<formats::block_q8_K *>(dst);
    for (int64_t b = 0; b < n / formats::QK_K; ++b) {
        const float *xb = x + formats::QK_K * b;
        const float amax = max_abs(xb, formats::QK_K);
        if (amax == 0.0f) {
            std::memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        // the value of the first largest |x|, as the scalar scan keeps it
        int first = 0;
        for (int j = 0; j < formats::QK_K; j += 8) {
            const __m256 hit =
                _mm256_cmp_ps(abs_ps(_mm256_loadu_ps(xb + j)), _mm256_set1_ps(amax), _CMP_EQ_OQ);
            const int mask = _mm256_movemask_ps(hit);
            if (mask != 0) {
                first = j + __builtin_ctz(static_cast<unsigned>(mask));
                break;
            }
        }
        const float iscale = -127.0f / xb[first];
        const __m256 is = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.0f);
        const __m256i top = _mm256_set1_epi32(127);
        for (int g = 0; g < formats::QK_K; g += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k) {
                // formats::nearest: (v + 1.5 * 2^23) - 1.5 * 2^23, ties to even
                const __m256 v = _mm256_mul_ps(is, _mm256_loadu_ps(xb + g + 8 * k));
                q[k] =
                    _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_sub_ps(_mm256_add_ps(v, magic), magic)), top);
            }
            pack32(q, y[b].qs + g);
        }
        for (int j = 0; j < formats::QK_K / 16; ++j) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = static_cast<int16_t>(sum);
        }
        y[b].d = 1.0f / iscale;
    }
}

} // namespace lb::kernels::avx2
