// Every format against ggml (llama.cpp's libggml-base.so), bit for bit:
// block geometry, ggml's dequantization of lowbit's blocks, lowbit's
// dequantization of ggml's blocks and of arbitrary blocks, and the activation
// quantizers.
#include "formats/formats.hpp"
#include "formats/type_traits.hpp"
#include "ggml_peer.hpp"
#include "test_data.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>

namespace {

using lb::formats::traits;

const lb_type kFormats[] = {LB_TYPE_F16,  LB_TYPE_BF16, LB_TYPE_Q4_0, LB_TYPE_Q4_1, LB_TYPE_Q5_0, LB_TYPE_Q5_1,
                            LB_TYPE_Q8_0, LB_TYPE_Q2_K, LB_TYPE_Q3_K, LB_TYPE_Q4_K, LB_TYPE_Q5_K, LB_TYPE_Q6_K};

// Byte offsets of the binary16 scale fields within a block.
std::vector<size_t> scale_offsets(lb_type type) {
    switch (type) {
    case LB_TYPE_Q4_1:
    case LB_TYPE_Q5_1:
    case LB_TYPE_Q4_K:
    case LB_TYPE_Q5_K: return {0, 2};
    case LB_TYPE_Q2_K: return {80, 82};
    case LB_TYPE_Q3_K: return {108};
    case LB_TYPE_Q6_K: return {208};
    default: return {0};
    }
}

// Rows that exercise the scale search: Gaussian rows at several scales, rows
// with zeros, constant rows, a single spike, tiny and large magnitudes.
std::vector<float> tricky_rows(int64_t rows, int64_t cols, uint64_t seed) {
    testdata::Rng rng(seed);
    std::vector<float> x(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
        float *row = x.data() + r * cols;
        const int kind = static_cast<int>(r % 8);
        const double scale = std::pow(10.0, -6.0 + 8.0 * rng.uniform());
        for (int64_t c = 0; c < cols; ++c) {
            double v = scale * rng.normal();
            if (kind == 1 && c % 3 == 0) v = 0.0;
            if (kind == 2) v = 0.0;
            if (kind == 3) v = 0.5;
            if (kind == 4) v = (c == 5 ? 100.0 : 1e-3 * rng.normal());
            if (kind == 5) v = std::ldexp(rng.normal(), -30);
            if (kind == 6) v = 1000.0 * rng.normal();
            row[c] = static_cast<float>(v);
        }
    }
    return x;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b, size_t *first_diff) {
    for (size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], 4) != 0) {
            *first_diff = i;
            return false;
        }
    return true;
}

TEST(FormatsPeer, BlockGeometryMatchesGgml) {
    const peer::Ggml &g = peer::Ggml::get();
    for (uint32_t id = 0; id < LB_TYPE_COUNT; ++id) {
        SCOPED_TRACE(id);
        EXPECT_EQ(traits(id).block_size, g.blck_size(static_cast<int>(id)));
        if (traits(id).block_size == 0) continue;
        EXPECT_EQ(traits(id).block_bytes, g.type_size(static_cast<int>(id)));
        EXPECT_EQ(traits(id).requires_imatrix, g.quantize_requires_imatrix(static_cast<int>(id)));
    }
}

class FormatPeer : public ::testing::TestWithParam<lb_type> {};

// lowbit's blocks, read by ggml and by lowbit, give the same floats; ggml's
// validator accepts them.
TEST_P(FormatPeer, GgmlReadsLowbitBlocksExactly) {
    const lb_type type = GetParam();
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t cols = 256, rows = 64;
    const size_t row_bytes = lb::formats::row_bytes(type, cols);
    for (bool with_imatrix : {false, true}) {
        SCOPED_TRACE(with_imatrix ? "with imatrix" : "without imatrix");
        std::vector<float> x = tricky_rows(rows, cols, 7 + type);
        const std::vector<float> real = testdata::stories_weights();
        x.insert(x.end(), real.begin(), real.begin() + 64 * cols);
        const int64_t n_rows = static_cast<int64_t>(x.size()) / cols;
        std::vector<float> im(static_cast<size_t>(cols));
        testdata::Rng rng(99);
        for (float &v : im) v = static_cast<float>(std::exp(rng.normal()));
        std::vector<uint8_t> q(static_cast<size_t>(n_rows) * row_bytes);
        for (int64_t r = 0; r < n_rows; ++r)
            traits(type).quantize(x.data() + r * cols, q.data() + r * row_bytes, cols, with_imatrix ? im.data() : nullptr);
        std::vector<float> ours(x.size()), theirs(x.size());
        for (int64_t r = 0; r < n_rows; ++r) {
            traits(type).dequantize(q.data() + r * row_bytes, ours.data() + r * cols, cols);
            g.dequantize(type)(q.data() + r * row_bytes, theirs.data() + r * cols, cols);
        }
        size_t at = 0;
        EXPECT_TRUE(same_bits(ours, theirs, &at)) << "element " << at << ": " << ours[at] << " vs " << theirs[at];
        EXPECT_TRUE(g.validate_row_data(type, q.data(), q.size()));
    }
}

// ggml's blocks, read by lowbit, give ggml's floats.
TEST_P(FormatPeer, LowbitReadsGgmlBlocksExactly) {
    const lb_type type = GetParam();
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t cols = 4096, rows = 32;
    const std::vector<float> x = tricky_rows(rows, cols, 1234 + type);
    const size_t row_bytes = lb::formats::row_bytes(type, cols);
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row_bytes);
    g.quantize_chunk(type, x.data(), q.data(), 0, rows, cols, nullptr);
    std::vector<float> ours(x.size()), theirs(x.size());
    traits(type).dequantize(q.data(), ours.data(), rows * cols);
    g.dequantize(type)(q.data(), theirs.data(), rows * cols);
    size_t at = 0;
    EXPECT_TRUE(same_bits(ours, theirs, &at)) << "element " << at << ": " << ours[at] << " vs " << theirs[at];
}

// Arbitrary blocks (random bits, with finite binary16 scales) decode alike:
// this pins down every bit of the layout, not just what a quantizer emits.
TEST_P(FormatPeer, ArbitraryBlocksDecodeAlike) {
    const lb_type type = GetParam();
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t n = 256 * 64;
    std::vector<uint8_t> q(lb::formats::row_bytes(type, n));
    testdata::Rng rng(4242 + type);
    for (uint8_t &b : q) b = static_cast<uint8_t>(rng.next());
    const size_t bb = traits(type).block_bytes;
    if (traits(type).quantized) {
        // keep the binary16 scale fields finite: exponent below 0x1f
        for (size_t off = 0; off < q.size(); off += bb)
            for (size_t s : scale_offsets(type)) q[off + s + 1] &= 0x7b;
    } else {
        for (size_t off = 0; off < q.size(); off += 2) q[off + 1] &= (type == LB_TYPE_F16 ? 0x7b : 0x7f) | 0x80;
    }
    std::vector<float> ours(static_cast<size_t>(n)), theirs(static_cast<size_t>(n));
    traits(type).dequantize(q.data(), ours.data(), n);
    g.dequantize(type)(q.data(), theirs.data(), n);
    size_t at = 0;
    EXPECT_TRUE(same_bits(ours, theirs, &at)) << "element " << at << ": " << ours[at] << " vs " << theirs[at];
}

TEST_P(FormatPeer, QuantizingIsDeterministic) {
    const lb_type type = GetParam();
    const int64_t cols = 512;
    const std::vector<float> x = tricky_rows(16, cols, 5);
    const size_t row_bytes = lb::formats::row_bytes(type, cols);
    std::vector<uint8_t> a(16 * row_bytes), b(16 * row_bytes);
    for (int64_t r = 0; r < 16; ++r) {
        traits(type).quantize(x.data() + r * cols, a.data() + r * row_bytes, cols, nullptr);
        traits(type).quantize(x.data() + r * cols, b.data() + r * row_bytes, cols, nullptr);
    }
    EXPECT_EQ(a, b);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatPeer, ::testing::ValuesIn(kFormats),
                         [](const ::testing::TestParamInfo<lb_type> &info) { return std::string(traits(info.param).name); });

// The activation quantizers are llama.cpp's, byte for byte.
TEST(Activations, Q8_0AndQ8_1MatchGgmlReference) {
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t n = 4096 * 8;
    const std::vector<float> x = tricky_rows(8, 4096, 77);
    std::vector<uint8_t> ours(lb::formats::row_bytes(LB_TYPE_Q8_0, n)), theirs(ours.size());
    lb::formats::quantize_row_q8_0_activations(x.data(), ours.data(), n);
    g.quantize_row_q8_0_ref(x.data(), theirs.data(), n);
    EXPECT_EQ(ours, theirs);
    std::vector<uint8_t> ours1(lb::formats::row_bytes(LB_TYPE_Q8_1, n)), theirs1(ours1.size());
    lb::formats::quantize_row_q8_1_activations(x.data(), ours1.data(), n);
    g.quantize_row_q8_1_ref(x.data(), theirs1.data(), n);
    EXPECT_EQ(ours1, theirs1);
}

} // namespace
