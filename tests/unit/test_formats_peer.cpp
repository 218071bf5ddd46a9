// Every format against ggml (llama.cpp's libggml-base.so), bit for bit:
// block geometry, ggml's dequantization of lowbit's blocks, lowbit's
// dequantization of ggml's blocks and of arbitrary blocks, and the activation
// quantizers.
#include "formats/formats.hpp"
#include "formats/type_traits.hpp"
#include "ggml_peer.hpp"
#include "test_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <gtest/gtest.h>

namespace {

using lb::formats::traits;

const lb_type kFormats[] = {LB_TYPE_F16,     LB_TYPE_BF16,   LB_TYPE_Q4_0,    LB_TYPE_Q4_1,   LB_TYPE_Q5_0,
                            LB_TYPE_Q5_1,    LB_TYPE_Q8_0,   LB_TYPE_Q2_K,    LB_TYPE_Q3_K,   LB_TYPE_Q4_K,
                            LB_TYPE_Q5_K,    LB_TYPE_Q6_K,   LB_TYPE_IQ4_NL,  LB_TYPE_IQ4_XS, LB_TYPE_TQ1_0,
                            LB_TYPE_TQ2_0,   LB_TYPE_MXFP4,  LB_TYPE_NVFP4,   LB_TYPE_Q1_0,   LB_TYPE_Q2_0,
                            LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS, LB_TYPE_IQ3_XXS, LB_TYPE_IQ2_S,  LB_TYPE_IQ3_S,
                            LB_TYPE_IQ1_S,   LB_TYPE_IQ1_M};

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
    case LB_TYPE_TQ1_0: return {52};
    case LB_TYPE_TQ2_0: return {64};
    case LB_TYPE_MXFP4:
    case LB_TYPE_NVFP4: return {};
    default: return {0};
    }
}

// Byte offsets of the 8-bit scales (E8M0, UE4M3) within a block.
std::vector<size_t> byte_scale_offsets(lb_type type) {
    switch (type) {
    case LB_TYPE_MXFP4: return {0};
    case LB_TYPE_NVFP4: return {0, 1, 2, 3};
    default: return {};
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
    for (uint32_t id = 0; id < lb::formats::kTypeCount; ++id) {
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
            traits(type).quantize(x.data() + r * cols, q.data() + r * row_bytes, cols,
                                  with_imatrix ? im.data() : nullptr, lb::formats::kReferenceSearch);
        std::vector<float> ours(x.size()), theirs(x.size());
        for (int64_t r = 0; r < n_rows; ++r) {
            traits(type).dequantize(q.data() + r * row_bytes, ours.data() + r * cols, cols);
            g.dequantize(type)(q.data() + r * row_bytes, theirs.data() + r * cols, cols);
        }
        size_t at = 0;
        EXPECT_TRUE(same_bits(ours, theirs, &at))
            << "element " << at << ": " << ours[at] << " vs " << theirs[at];
        EXPECT_TRUE(g.validate_row_data(type, q.data(), q.size()));
    }
}

// ggml's blocks, read by lowbit, give ggml's floats.
TEST_P(FormatPeer, LowbitReadsGgmlBlocksExactly) {
    const lb_type type = GetParam();
    const peer::Ggml &g = peer::Ggml::get();
    // ggml's lattice searches take seconds for 32 rows: 8 (one of each kind) for those
    const bool slow = type == LB_TYPE_IQ2_XXS || type == LB_TYPE_IQ2_XS || type == LB_TYPE_IQ2_S ||
                      type == LB_TYPE_IQ1_S || type == LB_TYPE_IQ1_M;
    const int64_t cols = 4096, rows = slow ? 8 : 32;
    const std::vector<float> x = tricky_rows(rows, cols, 1234 + type);
    const size_t row_bytes = lb::formats::row_bytes(type, cols);
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row_bytes);
    // types ggml will not quantize without an importance matrix get uniform weights
    const std::vector<float> ones(static_cast<size_t>(cols), 1.0f);
    g.quantize_chunk(type, x.data(), q.data(), 0, rows, cols,
                     traits(type).requires_imatrix ? ones.data() : nullptr);
    std::vector<float> ours(x.size()), theirs(x.size());
    traits(type).dequantize(q.data(), ours.data(), rows * cols);
    g.dequantize(type)(q.data(), theirs.data(), rows * cols);
    size_t at = 0;
    EXPECT_TRUE(same_bits(ours, theirs, &at)) << "element " << at << ": " << ours[at] << " vs " << theirs[at];
}

// The high byte of a finite binary16 value: `sign` and exponent `exponent`
// (0..30; 0 is zero or subnormal), the top two mantissa bits from `bits`.
uint8_t f16_high_byte(bool sign, unsigned exponent, uint8_t bits) {
    return static_cast<uint8_t>((sign ? 0x80 : 0) | (exponent << 2) | (bits & 0x03));
}

// Arbitrary blocks (random bits, with finite binary16 scales) decode alike:
// this pins down every bit of the layout, not just what a quantizer emits.
// Block k's scales take every exponent 0..30 with both signs in turn.
TEST_P(FormatPeer, ArbitraryBlocksDecodeAlike) {
    const lb_type type = GetParam();
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t n = 256 * 128;
    std::vector<uint8_t> q(lb::formats::row_bytes(type, n));
    testdata::Rng rng(4242 + type);
    for (uint8_t &b : q) b = static_cast<uint8_t>(rng.next());
    const size_t bb = traits(type).block_bytes;
    std::vector<int> seen(62, 0); // (sign, exponent) of the first scale
    if (!byte_scale_offsets(type).empty()) {
        // every code of an 8-bit scale in turn
        std::vector<int> codes(256, 0);
        size_t k = 0;
        for (size_t off = 0; off < q.size(); off += bb)
            for (size_t s : byte_scale_offsets(type)) {
                q[off + s] = static_cast<uint8_t>(k++ % 256);
                codes[q[off + s]] = 1;
            }
        EXPECT_EQ(std::count(codes.begin(), codes.end(), 1), 256) << "not every code of a scale";
    } else if (traits(type).quantized) {
        size_t k = 0;
        for (size_t off = 0; off < q.size(); off += bb, ++k) {
            size_t which = 0;
            for (size_t s : scale_offsets(type)) {
                const size_t step = k + 17 * which++;
                const bool sign = (step / 31) % 2 == 1;
                const unsigned exponent = static_cast<unsigned>(step % 31);
                q[off + s + 1] = f16_high_byte(sign, exponent, q[off + s + 1]);
                if (which == 1) seen[(sign ? 31 : 0) + exponent] = 1;
            }
        }
        EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 62) << "not every sign and exponent of a scale";
    } else if (type == LB_TYPE_F16) {
        for (size_t off = 0; off < q.size(); off += 2)
            q[off + 1] = f16_high_byte(q[off + 1] & 0x80, (off / 2) % 31, q[off + 1]);
    } // BF16: every bit pattern, infinities and NaNs included
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
        traits(type).quantize(x.data() + r * cols, a.data() + r * row_bytes, cols, nullptr,
                              lb::formats::kReferenceSearch);
        traits(type).quantize(x.data() + r * cols, b.data() + r * row_bytes, cols, nullptr,
                              lb::formats::kReferenceSearch);
    }
    EXPECT_EQ(a, b);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatPeer, ::testing::ValuesIn(kFormats),
                         [](const ::testing::TestParamInfo<lb_type> &info) {
                             return std::string(traits(info.param).name);
                         });

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

// Q8_K (the K-quants' activations) against ggml's reference quantizer. ggml
// leaves the sums of an all-zero block unwritten, so both buffers start zeroed.
TEST(Activations, Q8_KMatchesGgmlReference) {
    const peer::Ggml &g = peer::Ggml::get();
    auto *ref = reinterpret_cast<void (*)(const float *, void *, int64_t)>(
        ::dlsym(g.handle, "quantize_row_q8_K_ref"));
    ASSERT_NE(ref, nullptr);
    const int64_t n = 4096 * 16;
    const std::vector<float> x = tricky_rows(16, 4096, 78); // zero rows and spikes among them
    std::vector<uint8_t> ours(lb::formats::row_bytes(LB_TYPE_Q8_K, n), 0), theirs(ours.size(), 0);
    lb::formats::quantize_row_q8_K_activations(x.data(), ours.data(), n);
    ref(x.data(), theirs.data(), n);
    EXPECT_EQ(ours, theirs);
}

// Q8_K blocks decode as ggml decodes them: lowbit's and arbitrary ones (a
// float scale of every sign and binary exponent that stays finite).
TEST(Activations, Q8_KDequantizesLikeGgml) {
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t n = 256 * 512;
    std::vector<uint8_t> q(lb::formats::row_bytes(LB_TYPE_Q8_K, n));
    testdata::Rng rng(79);
    for (uint8_t &b : q) b = static_cast<uint8_t>(rng.next());
    const size_t bb = traits(LB_TYPE_Q8_K).block_bytes;
    for (size_t off = 0, k = 0; off < q.size(); off += bb, ++k) {
        // d is the block's first 4 bytes: exponents 0..254 in turn, both signs
        const uint32_t sign = (k / 255) % 2, exponent = static_cast<uint32_t>(k % 255);
        const uint32_t bits = (sign << 31) | (exponent << 23) | static_cast<uint32_t>(rng.next() & 0x7fffff);
        std::memcpy(q.data() + off, &bits, 4);
    }
    std::vector<float> ours(static_cast<size_t>(n)), theirs(static_cast<size_t>(n));
    traits(LB_TYPE_Q8_K).dequantize(q.data(), ours.data(), n);
    g.dequantize(LB_TYPE_Q8_K)(q.data(), theirs.data(), n);
    size_t at = 0;
    EXPECT_TRUE(same_bits(ours, theirs, &at)) << "element " << at << ": " << ours[at] << " vs " << theirs[at];
}

// Q8_1 has no dequantizer in ggml: lowbit's is checked against the layout
// (binary16 d at byte 0, binary16 s at byte 2, 32 int8 quants; x = d * q),
// decoded here with ggml's binary16 conversion, on ggml's blocks and on
// blocks whose d takes every sign and exponent.
TEST(Activations, Q8_1DequantizesByItsLayout) {
    const peer::Ggml &g = peer::Ggml::get();
    const int64_t n = 32 * 256;
    std::vector<uint8_t> q(lb::formats::row_bytes(LB_TYPE_Q8_1, n));
    const std::vector<float> x = tricky_rows(2, n / 2, 80);
    g.quantize_row_q8_1_ref(x.data(), q.data(), n);
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1) { // arbitrary blocks
            testdata::Rng rng(81);
            for (uint8_t &b : q) b = static_cast<uint8_t>(rng.next());
            for (size_t off = 0, k = 0; off < q.size(); off += 36, ++k)
                q[off + 1] = f16_high_byte((k / 31) % 2 == 1, static_cast<unsigned>(k % 31), q[off + 1]);
        }
        std::vector<float> ours(static_cast<size_t>(n)), want(static_cast<size_t>(n));
        traits(LB_TYPE_Q8_1).dequantize(q.data(), ours.data(), n);
        for (int64_t b = 0; b < n / 32; ++b) {
            uint16_t d;
            std::memcpy(&d, q.data() + b * 36, 2);
            for (int j = 0; j < 32; ++j)
                want[static_cast<size_t>(b * 32 + j)] =
                    g.fp16_to_fp32(d) *
                    static_cast<float>(static_cast<int8_t>(q[static_cast<size_t>(b * 36 + 4 + j)]));
        }
        size_t at = 0;
        EXPECT_TRUE(same_bits(ours, want, &at))
            << "pass " << pass << ", element " << at << ": " << ours[at] << " vs " << want[at];
    }
}

} // namespace
