// What the dot-product tests share: random rows, weights quantized by the
// scalar reference, activations in a kernel set's layout, the exact sum of the
// dequantized products and the bound the kernels' float sums must keep.
#pragma once

#include "formats/formats.hpp"
#include "formats/type_traits.hpp"
#include "hardware_half.hpp"
#include "kernels/kernels.hpp"
#include "rng.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace dottest {

using lb::formats::traits;

inline const lb_type kWeightTypes[] = {
    LB_TYPE_F32,   LB_TYPE_F16,    LB_TYPE_BF16,   LB_TYPE_Q4_0,    LB_TYPE_Q4_1,   LB_TYPE_Q5_0,
    LB_TYPE_Q5_1,  LB_TYPE_Q8_0,   LB_TYPE_Q2_K,   LB_TYPE_Q3_K,    LB_TYPE_Q4_K,   LB_TYPE_Q5_K,
    LB_TYPE_Q6_K,  LB_TYPE_IQ4_NL, LB_TYPE_IQ4_XS, LB_TYPE_TQ1_0,   LB_TYPE_TQ2_0,  LB_TYPE_MXFP4,
    LB_TYPE_NVFP4, LB_TYPE_Q1_0,   LB_TYPE_Q2_0,   LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS, LB_TYPE_IQ3_XXS,
    LB_TYPE_IQ2_S, LB_TYPE_IQ3_S,  LB_TYPE_IQ1_S,  LB_TYPE_IQ1_M};

inline std::string name(lb_type t) {
    return traits(t).name;
}

// Rows of Gaussian values at spread scales, some with outliers.
inline std::vector<float> random_rows(int64_t rows, int64_t n, uint64_t seed) {
    testdata::Rng rng(seed);
    std::vector<float> x(static_cast<size_t>(rows * n));
    for (int64_t r = 0; r < rows; ++r) {
        const double scale = std::pow(10.0, -2.0 + 3.0 * rng.uniform());
        for (int64_t i = 0; i < n; ++i) {
            double v = scale * rng.normal();
            if (i % 61 == 7) v *= 8.0;
            x[static_cast<size_t>(r * n + i)] = static_cast<float>(v);
        }
    }
    return x;
}

inline std::vector<uint8_t> quantize_weights(lb_type type, const std::vector<float> &x, int64_t n) {
    const size_t row = lb::formats::row_bytes(type, n);
    const int64_t rows = static_cast<int64_t>(x.size()) / n;
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row);
    for (int64_t r = 0; r < rows; ++r)
        traits(type).quantize(x.data() + r * n, q.data() + r * row, n, nullptr,
                              lb::formats::kReferenceSearch);
    return q;
}

// Activations in the layout a weight type's kernels of `dot` want.
inline std::vector<uint8_t> activations(const lb::kernels::WeightKernels &k, const std::vector<float> &x,
                                        int64_t n) {
    const size_t row = k.activation_row_bytes(n);
    const int64_t rows = static_cast<int64_t>(x.size()) / n;
    std::vector<uint8_t> a(static_cast<size_t>(rows) * row);
    for (int64_t r = 0; r < rows; ++r) k.quantize_activations(x.data() + r * n, a.data() + r * row, n);
    return a;
}

// sum |w_i a_i| of the dequantized values: the scale of the rounding bound
inline double magnitude(lb_type type, const uint8_t *w, const uint8_t *a, int64_t n) {
    std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
    traits(type).dequantize(w, wf.data(), n);
    const lb_type at = traits(type).vec_dot_type;
    traits(at).dequantize(a, af.data(), n);
    double m = 0.0;
    for (int64_t i = 0; i < n; ++i) m += std::fabs(static_cast<double>(wf[i]) * af[i]);
    return m;
}

// The exact sum of products of the dequantized values. Q8_1 activations carry
// s = d * sum(q) rounded to binary16, which the affine weights' min term uses
// (in ggml too): for those, the min term is m * s per block.
inline double exact_dot(lb_type type, const uint8_t *w, const uint8_t *a, int64_t n) {
    std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
    traits(type).dequantize(w, wf.data(), n);
    traits(traits(type).vec_dot_type).dequantize(a, af.data(), n);
    double s = 0.0;
    if (traits(type).vec_dot_type != LB_TYPE_Q8_1) {
        for (int64_t i = 0; i < n; ++i) s += static_cast<double>(wf[i]) * af[i];
        return s;
    }
    const size_t wb = traits(type).block_bytes;
    for (int64_t b = 0; b < n / 32; ++b) {
        uint16_t m_bits, s_bits;
        std::memcpy(&m_bits, w + b * wb + 2, 2); // Q4_1 / Q5_1: d, then m
        std::memcpy(&s_bits, a + b * 36 + 2, 2); // Q8_1: d, then s
        const double m = testdata::hardware_half_to_float(m_bits);
        for (int64_t i = 32 * b; i < 32 * b + 32; ++i) s += (static_cast<double>(wf[i]) - m) * af[i];
        s += m * testdata::hardware_half_to_float(s_bits);
    }
    return s;
}

constexpr double kRelative = 2e-6; // of sum |w a|, for n up to 4096

// Weights as a file may hold them: every code byte random (the largest
// levels, scales and mins included, which the kernels' integer lanes must hold
// exactly), the binary16 scale fields random finite values.
struct ScaleFields {
    lb_type type;
    std::vector<size_t> offsets; // of the binary16 fields in a block (blocks.hpp)
};
inline const ScaleFields kScaleFields[] = {
    {LB_TYPE_Q4_0, {0}},
    {LB_TYPE_Q4_1, {0, 2}},
    {LB_TYPE_Q5_0, {0}},
    {LB_TYPE_Q5_1, {0, 2}},
    {LB_TYPE_Q8_0, {0}},
    {LB_TYPE_Q2_K, {80, 82}},
    {LB_TYPE_Q3_K, {108}},
    {LB_TYPE_Q4_K, {0, 2}},
    {LB_TYPE_Q5_K, {0, 2}},
    {LB_TYPE_Q6_K, {208}},
    // the newer formats with binary16 scales (TQ2_0's code 3, +2d, included),
    // and NVFP4 with every UE4M3 scale byte (0x7f and 0xff read as 0)
    {LB_TYPE_IQ4_NL, {0}},
    {LB_TYPE_IQ4_XS, {0}},
    {LB_TYPE_TQ1_0, {52}},
    {LB_TYPE_TQ2_0, {64}},
    {LB_TYPE_Q1_0, {0}},
    {LB_TYPE_Q2_0, {0}},
    {LB_TYPE_NVFP4, {}},
    // the lattice I-quants (every grid index, sign pattern and sub-block scale;
    // IQ1_M, whose binary16 d is spread over four nibbles, is not here)
    {LB_TYPE_IQ2_XXS, {0}},
    {LB_TYPE_IQ2_XS, {0}},
    {LB_TYPE_IQ3_XXS, {0}},
    {LB_TYPE_IQ2_S, {0}},
    {LB_TYPE_IQ3_S, {0}},
    {LB_TYPE_IQ1_S, {0}},
};

// `bytes` bytes of whole blocks of f.type filled so.
inline std::vector<uint8_t> random_blocks(const ScaleFields &f, size_t bytes, testdata::Rng &rng) {
    const size_t bb = traits(f.type).block_bytes;
    std::vector<uint8_t> w(bytes);
    for (uint8_t &byte : w) byte = static_cast<uint8_t>(rng.next());
    for (size_t b = 0; b < w.size() / bb; ++b)
        for (size_t off : f.offsets) {
            // a finite scale from 2^-14 to 2 in magnitude, either sign
            const double v = std::ldexp(0.5 + 0.5 * rng.uniform(), -13 + static_cast<int>(rng.next() % 15));
            const uint16_t h = testdata::hardware_float_to_half(static_cast<float>(rng.next() % 2 ? -v : v));
            std::memcpy(w.data() + b * bb + off, &h, 2);
        }
    return w;
}

} // namespace dottest
