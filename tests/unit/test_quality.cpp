// Quality against ggml: on a fixed set of tensors, lowbit's error is at most
// ggml_quantize_chunk's, both plainly (no importance matrix) and weighted by
// an importance matrix (both quantizers given it). Prints the table.
#include "formats/type_traits.hpp"
#include "ggml_peer.hpp"
#include "test_data.hpp"

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>

namespace {

using lb::formats::traits;

struct Errors {
    double rmse = 0, weighted_rmse = 0;
};

// RMSE and importance-weighted RMSE (sqrt of sum_j im_j e_j^2 / sum_j im_j,
// averaged over rows) of a reconstruction.
Errors errors_of(const testdata::TestTensor &t, const std::vector<float> &y) {
    double se = 0, wse = 0, wsum = 0;
    for (int64_t c = 0; c < t.cols; ++c) wsum += t.imatrix[static_cast<size_t>(c)];
    for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t c = 0; c < t.cols; ++c) {
            const size_t i = static_cast<size_t>(r * t.cols + c);
            const double e = static_cast<double>(t.data[i]) - static_cast<double>(y[i]);
            se += e * e;
            wse += t.imatrix[static_cast<size_t>(c)] * e * e;
        }
    const double n = static_cast<double>(t.rows * t.cols);
    return {std::sqrt(se / n), std::sqrt(wse / (wsum * static_cast<double>(t.rows)))};
}

std::vector<float> lowbit_roundtrip(lb_type type, const testdata::TestTensor &t, const float *imatrix) {
    const size_t row_bytes = lb::formats::row_bytes(type, t.cols);
    std::vector<uint8_t> q(static_cast<size_t>(t.rows) * row_bytes);
    std::vector<float> y(t.data.size());
    for (int64_t r = 0; r < t.rows; ++r) {
        traits(type).quantize(t.data.data() + r * t.cols, q.data() + r * row_bytes, t.cols, imatrix,
                              lb::formats::kReferenceSearch);
        traits(type).dequantize(q.data() + r * row_bytes, y.data() + r * t.cols, t.cols);
    }
    return y;
}

std::vector<float> ggml_roundtrip(lb_type type, const testdata::TestTensor &t, const float *imatrix) {
    const peer::Ggml &g = peer::Ggml::get();
    const size_t row_bytes = lb::formats::row_bytes(type, t.cols);
    std::vector<uint8_t> q(static_cast<size_t>(t.rows) * row_bytes);
    std::vector<float> y(t.data.size());
    // "plain" for the types ggml will not quantize without an importance
    // matrix: uniform importance
    const std::vector<float> ones(static_cast<size_t>(t.cols), 1.0f);
    if (imatrix == nullptr && traits(type).requires_imatrix) imatrix = ones.data();
    g.quantize_chunk(type, t.data.data(), q.data(), 0, t.rows, t.cols, imatrix);
    g.dequantize(type)(q.data(), y.data(), t.rows * t.cols);
    return y;
}

constexpr lb_type kFormats[] = {
    LB_TYPE_F16,    LB_TYPE_BF16,   LB_TYPE_Q4_0,    LB_TYPE_Q4_1,   LB_TYPE_Q5_0,    LB_TYPE_Q5_1,
    LB_TYPE_Q8_0,   LB_TYPE_Q2_K,   LB_TYPE_Q3_K,    LB_TYPE_Q4_K,   LB_TYPE_Q5_K,    LB_TYPE_Q6_K,
    LB_TYPE_IQ4_NL, LB_TYPE_IQ4_XS, LB_TYPE_TQ1_0,   LB_TYPE_TQ2_0,  LB_TYPE_MXFP4,   LB_TYPE_NVFP4,
    LB_TYPE_Q1_0,   LB_TYPE_Q2_0,   LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS, LB_TYPE_IQ3_XXS, LB_TYPE_IQ2_S,
    LB_TYPE_IQ3_S,  LB_TYPE_IQ1_S,  LB_TYPE_IQ1_M};

void expect_no_worse_than_ggml(lb_type type, const std::vector<testdata::TestTensor> &tensors) {
    std::printf("\n%-6s %-22s %12s %12s %8s | %14s %14s %8s\n", "type", "tensor", "rmse lowbit", "rmse ggml",
                "ratio", "w-rmse lowbit", "w-rmse ggml", "ratio");
    for (const testdata::TestTensor &t : tensors) {
        SCOPED_TRACE(std::string(traits(type).name) + " on " + t.name);
        const Errors ours = errors_of(t, lowbit_roundtrip(type, t, nullptr));
        const Errors theirs = errors_of(t, ggml_roundtrip(type, t, nullptr));
        const Errors ours_w = errors_of(t, lowbit_roundtrip(type, t, t.imatrix.data()));
        const Errors theirs_w = errors_of(t, ggml_roundtrip(type, t, t.imatrix.data()));
        std::printf("%-6s %-22s %12.4e %12.4e %8.4f | %14.4e %14.4e %8.4f\n", traits(type).name,
                    t.name.c_str(), ours.rmse, theirs.rmse, ours.rmse / theirs.rmse, ours_w.weighted_rmse,
                    theirs_w.weighted_rmse, ours_w.weighted_rmse / theirs_w.weighted_rmse);
        EXPECT_LE(ours.rmse, theirs.rmse);
        EXPECT_LE(ours_w.weighted_rmse, theirs_w.weighted_rmse);
    }
}

// One test per format (the lattice I-quants' searches, ggml's most of all,
// take seconds each).
class Quality : public ::testing::TestWithParam<lb_type> {};

// The set the searches were tuned on.
TEST_P(Quality, NoWorseThanGgml) {
    expect_no_worse_than_ggml(GetParam(), testdata::quality_tensors(256));
}

// Tensors no search was tuned on (TinyStories-656K's matrices).
TEST_P(Quality, HeldOutNoWorseThanGgml) {
    expect_no_worse_than_ggml(GetParam(), testdata::heldout_tensors(256));
}

INSTANTIATE_TEST_SUITE_P(Types, Quality, ::testing::ValuesIn(kFormats),
                         [](const ::testing::TestParamInfo<lb_type> &info) {
                             return std::string(traits(info.param).name);
                         });

} // namespace
