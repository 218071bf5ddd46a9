// Dot products and matrix products: every kernel set's tiles, single dots
// and the matmul driver against the scalar reference (formats' vec_dot), and
// on random code bytes against the exact sum of the dequantized values (the
// reference against ggml's is test_dot_reference.cpp). Integer block sums are
// exact everywhere; what may differ is the order of float additions, so
// results are compared within a bound relative to the sum of |w_i a_i| (a few
// units of float rounding per term). Also built for ARM (tests/kernels_only).
#include "dot_testing.hpp"
#include "kernels/matmul.hpp"

#include <gtest/gtest.h>

namespace {

using namespace dottest;

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
    for (int s = 0; s < lb::kernels::set_count(); ++s) {
        const std::string set_name = lb::kernels::set_name(s);
        const lb::kernels::KernelSet *set = lb::kernels::find(set_name.c_str());
        if (set == nullptr) {
            EXPECT_TRUE(set_name == "avx2" || set_name == "avx512" || set_name == "neon" || set_name == "sve")
                << "only the x86 and ARM extensions may be missing, on CPUs without them: " << set_name;
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

// Weights as a file may hold them (dot_testing.hpp's random_blocks): every
// set's dot product must give the exact sum of the dequantized products.
TEST(DotRandomBlocks, EverySetGivesTheExactSum) {
    testdata::Rng rng(4242);
    for (const ScaleFields &f : kScaleFields) {
        const lb_type type = f.type;
        const int64_t n = 1024, rows = 9, tokens = 5;
        const size_t w_row = lb::formats::row_bytes(type, n);
        const std::vector<uint8_t> w = random_blocks(f, rows * w_row, rng);
        const std::vector<float> ax = random_rows(tokens, n, 500 + type);
        const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[type];
        const std::vector<uint8_t> a_ref = activations(ref, ax, n);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
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
