// lowbit's scalar reference dot products against ggml's own reference
// (ggml_vec_dot_*_generic of the peer's CPU backend) on the same blocks, and
// against the exact sum of the dequantized values.
#include "dot_testing.hpp"
#include "ggml_peer.hpp"

#include <gtest/gtest.h>

namespace {

using namespace dottest;

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

} // namespace
