// Dot products and matrix products, for every weight type lowbit multiplies:
//  - the scalar reference (formats' vec_dot) against ggml's own reference
//    (ggml_vec_dot_*_generic of the peer's CPU backend) on the same blocks,
//    and against the exact sum of the dequantized values;
//  - every kernel set's tiles and the matmul driver against the reference.
// Integer block sums are exact everywhere; what may differ is the order of
// float additions, so results are compared within a bound relative to the
// sum of |w_i a_i| (a few units of float rounding per term).
#include "formats/formats.hpp"
#include "formats/type_traits.hpp"
#include "ggml_peer.hpp"
#include "kernels/kernels.hpp"
#include "kernels/matmul.hpp"
#include "test_data.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using lb::formats::traits;

const lb_type kWeightTypes[] = {LB_TYPE_F32,  LB_TYPE_F16,  LB_TYPE_BF16, LB_TYPE_Q4_0, LB_TYPE_Q4_1,
                                LB_TYPE_Q5_0, LB_TYPE_Q5_1, LB_TYPE_Q8_0, LB_TYPE_Q2_K, LB_TYPE_Q3_K,
                                LB_TYPE_Q4_K, LB_TYPE_Q5_K, LB_TYPE_Q6_K};

std::string name(lb_type t) {
    return traits(t).name;
}

// Rows of Gaussian values at spread scales, some with outliers.
std::vector<float> random_rows(int64_t rows, int64_t n, uint64_t seed) {
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

std::vector<uint8_t> quantize_weights(lb_type type, const std::vector<float> &x, int64_t n) {
    const size_t row = lb::formats::row_bytes(type, n);
    const int64_t rows = static_cast<int64_t>(x.size()) / n;
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row);
    for (int64_t r = 0; r < rows; ++r)
        traits(type).quantize(x.data() + r * n, q.data() + r * row, n, nullptr,
                              lb::formats::kReferenceSearch);
    return q;
}

// Activations in the layout a weight type's kernels of `dot` want.
std::vector<uint8_t> activations(const lb::kernels::WeightKernels &k, const std::vector<float> &x,
                                 int64_t n) {
    const size_t row = k.activation_row_bytes(n);
    const int64_t rows = static_cast<int64_t>(x.size()) / n;
    std::vector<uint8_t> a(static_cast<size_t>(rows) * row);
    for (int64_t r = 0; r < rows; ++r) k.quantize_activations(x.data() + r * n, a.data() + r * row, n);
    return a;
}

// sum |w_i a_i| of the dequantized values: the scale of the rounding bound
double magnitude(lb_type type, const uint8_t *w, const uint8_t *a, int64_t n) {
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
double exact_dot(lb_type type, const uint8_t *w, const uint8_t *a, int64_t n) {
    std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
    traits(type).dequantize(w, wf.data(), n);
    traits(traits(type).vec_dot_type).dequantize(a, af.data(), n);
    double s = 0.0;
    if (traits(type).vec_dot_type != LB_TYPE_Q8_1) {
        for (int64_t i = 0; i < n; ++i) s += static_cast<double>(wf[i]) * af[i];
        return s;
    }
    const peer::Ggml &g = peer::Ggml::get();
    const size_t wb = traits(type).block_bytes;
    for (int64_t b = 0; b < n / 32; ++b) {
        uint16_t m_bits, s_bits;
        std::memcpy(&m_bits, w + b * wb + 2, 2); // Q4_1 / Q5_1: d, then m
        std::memcpy(&s_bits, a + b * 36 + 2, 2); // Q8_1: d, then s
        const double m = g.fp16_to_fp32(m_bits);
        for (int64_t i = 32 * b; i < 32 * b + 32; ++i) s += (static_cast<double>(wf[i]) - m) * af[i];
        s += m * g.fp16_to_fp32(s_bits);
    }
    return s;
}

constexpr double kRelative = 2e-6; // of sum |w a|, for n up to 4096

class DotReference : public ::testing::TestWithParam<lb_type> {};

// lowbit's reference dot product is ggml's, block for block, and the exact sum.
TEST_P(DotReference, MatchesGgmlAndTheExactSum) {
    const lb_type type = GetParam();
    const peer::GgmlCpu &cpu = peer::GgmlCpu::get();
    const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[type];
    ASSERT_NE(ref.dot, nullptr);
    for (int64_t n : {256, 4096}) {
        const std::vector<float> wx = random_rows(6, n, 100 + type), ax = random_rows(6, n, 200 + type);
        const std::vector<uint8_t> w = quantize_weights(type, wx, n), a = activations(ref, ax, n);
        const size_t w_row = lb::formats::row_bytes(type, n), a_row = ref.activation_row_bytes(n);
        for (int r = 0; r < 6; ++r) {
            const uint8_t *wr = w.data() + r * w_row, *ar = a.data() + r * a_row;
            const float ours = ref.dot(n, wr, ar);
            const double bound = kRelative * magnitude(type, wr, ar, n) + 1e-30;
            EXPECT_NEAR(ours, exact_dot(type, wr, ar, n), bound) << name(type) << " n " << n << " row " << r;
            peer::GgmlCpu::VecDot theirs =
                cpu.generic[type] != nullptr ? cpu.generic[type] : cpu.vec_dot[type];
            float s = 0.0f;
            theirs(static_cast<int>(n), &s, 0, wr, 0, ar, 0, 1);
            EXPECT_NEAR(ours, s, bound) << name(type) << " n " << n << " row " << r << " vs ggml";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, DotReference, ::testing::ValuesIn(kWeightTypes),
                         [](const ::testing::TestParamInfo<lb_type> &info) { return name(info.param); });

class DotKernelSets : public ::testing::TestWithParam<lb_type> {};

// Every set's tiles (odd numbers of rows and tokens) and the matmul driver
// give the reference's products.
TEST_P(DotKernelSets, TilesAndMatmulMatchTheReference) {
    const lb_type type = GetParam();
    const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[type];
    // widths that leave an odd block (Q8_0 and Q4_0 take blocks in pairs) and
    // a float tail outside the 8- and 16-lane steps
    const int64_t block = traits(type).block_size;
    const int64_t n = block == 256 ? 512 : block == 32 ? 544 : 555, rows = 53, tokens = 37;
    const std::vector<float> wx = random_rows(rows, n, 300 + type), ax = random_rows(tokens, n, 400 + type);
    const std::vector<uint8_t> w = quantize_weights(type, wx, n), a_ref = activations(ref, ax, n);
    const size_t w_row = lb::formats::row_bytes(type, n), a_row = ref.activation_row_bytes(n);
    std::vector<float> want(static_cast<size_t>(rows * tokens));
    std::vector<double> bound(want.size());
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t *wr = w.data() + r * w_row, *ar = a_ref.data() + t * a_row;
            want[static_cast<size_t>(t * rows + r)] = ref.dot(n, wr, ar);
            bound[static_cast<size_t>(t * rows + r)] = kRelative * magnitude(type, wr, ar, n) + 1e-30;
        }
    for (int s = 0; s < lb::kernels::kSetCount; ++s) {
        const std::string set_name = lb::kernels::kSetNames[s];
        const lb::kernels::KernelSet *set = lb::kernels::find(set_name.c_str());
        if (set == nullptr) {
            EXPECT_TRUE(set_name == "avx2" || set_name == "avx512")
                << "only the x86 extensions may be missing, on CPUs without them: " << set_name;
            continue;
        }
        SCOPED_TRACE(name(type) + " with kernels " + set_name);
        const lb::kernels::WeightKernels &k = set->dot().by_type[type];
        ASSERT_NE(k.tile, nullptr);
        const std::vector<uint8_t> a = activations(k, ax, n);
        std::vector<float> got(want.size(), -1.0f);
        const lb::kernels::MatmulTile tile{
            n, w.data(), w_row, rows, a.data(), k.activation_row_bytes(n), tokens, got.data(), rows};
        k.tile(tile);
        for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], bound[i]) << "tile, element " << i;
        for (int64_t t = 0; t < 3; ++t)
            ASSERT_NEAR(k.dot(n, w.data() + 5 * w_row, a.data() + t * k.activation_row_bytes(n)),
                        want[static_cast<size_t>(t * rows + 5)], bound[static_cast<size_t>(t * rows + 5)])
                << "dot, token " << t;
        // the driver, on 1 and 2 threads, from the float activations
        for (int threads : {1, 2}) {
            std::vector<float> y(want.size(), -1.0f);
            lb::kernels::MatmulScratch scratch;
            lb::kernels::matmul(set->dot(), {type, n, rows, w.data(), w_row}, ax.data(), tokens, y.data(),
                                threads, scratch);
            for (size_t i = 0; i < want.size(); ++i)
                ASSERT_NEAR(y[i], want[i], bound[i]) << "matmul on " << threads << " threads, element " << i;
        }
    }
}

// Weights as a file may hold them: every code byte random (the largest
// levels, scales and mins included, which the kernels' integer lanes must hold
// exactly), the binary16 scale fields random finite values. Every set's dot
// product must give the exact sum of the dequantized products.
struct ScaleFields {
    lb_type type;
    std::vector<size_t> offsets; // of the binary16 fields in a block (blocks.hpp)
};
const ScaleFields kScaleFields[] = {
    {LB_TYPE_Q4_0, {0}},    {LB_TYPE_Q4_1, {0, 2}},   {LB_TYPE_Q5_0, {0}},   {LB_TYPE_Q5_1, {0, 2}},
    {LB_TYPE_Q8_0, {0}},    {LB_TYPE_Q2_K, {80, 82}}, {LB_TYPE_Q3_K, {108}}, {LB_TYPE_Q4_K, {0, 2}},
    {LB_TYPE_Q5_K, {0, 2}}, {LB_TYPE_Q6_K, {208}},
};

TEST(DotRandomBlocks, EverySetGivesTheExactSum) {
    const peer::Ggml &g = peer::Ggml::get();
    testdata::Rng rng(4242);
    for (const ScaleFields &f : kScaleFields) {
        const lb_type type = f.type;
        const int64_t n = 1024, rows = 9, tokens = 5;
        const size_t w_row = lb::formats::row_bytes(type, n), bb = traits(type).block_bytes;
        std::vector<uint8_t> w(rows * w_row);
        for (uint8_t &byte : w) byte = static_cast<uint8_t>(rng.next());
        for (size_t b = 0; b < w.size() / bb; ++b)
            for (size_t off : f.offsets) {
                // a finite scale from 2^-14 to 2 in magnitude, either sign
                const double v =
                    std::ldexp(0.5 + 0.5 * rng.uniform(), -13 + static_cast<int>(rng.next() % 15));
                const uint16_t h = g.fp32_to_fp16(static_cast<float>(rng.next() % 2 ? -v : v));
                std::memcpy(w.data() + b * bb + off, &h, 2);
            }
        const std::vector<float> ax = random_rows(tokens, n, 500 + type);
        const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[type];
        const std::vector<uint8_t> a_ref = activations(ref, ax, n);
        for (int s = 0; s < lb::kernels::kSetCount; ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::kSetNames[s]);
            if (set == nullptr) continue; // a set this CPU lacks (checked above)
            SCOPED_TRACE(name(type) + " with kernels " + set->name);
            const lb::kernels::WeightKernels &k = set->dot().by_type[type];
            const std::vector<uint8_t> a = activations(k, ax, n);
            const size_t a_row = k.activation_row_bytes(n);
            std::vector<float> got(static_cast<size_t>(rows * tokens));
            k.tile({n, w.data(), w_row, rows, a.data(), a_row, tokens, got.data(), rows});
            for (int64_t t = 0; t < tokens; ++t)
                for (int64_t r = 0; r < rows; ++r) {
                    // the set's activations are the reference's, or give the same products
                    const uint8_t *wr = w.data() + r * w_row,
                                  *ar = a_ref.data() + t * ref.activation_row_bytes(n);
                    const double want = exact_dot(type, wr, ar, n);
                    const double bound = kRelative * magnitude(type, wr, ar, n) + 1e-30;
                    ASSERT_NEAR(got[static_cast<size_t>(t * rows + r)], want, bound)
                        << "row " << r << " token " << t;
                }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, DotKernelSets, ::testing::ValuesIn(kWeightTypes),
                         [](const ::testing::TestParamInfo<lb_type> &info) { return name(info.param); });

} // namespace
