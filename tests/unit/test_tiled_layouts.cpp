// The tiled layouts (formats/tiled_layouts.hpp): where each byte of the
// standard blocks goes, that the conversion is lossless both ways, that every
// set's tiled matrix product gives the products of the standard layout, and
// that a session which repacks its weights gives the logits of one that does
// not.
#include "dot_testing.hpp"
#include "formats/tiled_layouts.hpp"
#include "kernels/matmul.hpp"
#include "model/model.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using namespace dottest;
using lb::formats::Layout;

const Layout kTiled[] = {Layout::q4_k_4, Layout::q8r16};

std::string layout_name(Layout l) {
    return lb::formats::layout_traits(l).name;
}

// A whole tensor converted group by group.
std::vector<uint8_t> interleave_all(Layout l, int64_t n, const std::vector<uint8_t> &rows) {
    const lb::formats::LayoutTraits &lt = lb::formats::layout_traits(l);
    const size_t group = lb::formats::row_bytes(lt.base, n) * static_cast<size_t>(lt.rows);
    std::vector<uint8_t> out(rows.size());
    for (size_t g = 0; g < rows.size() / group; ++g)
        lb::formats::interleave(l, n, rows.data() + g * group, out.data() + g * group);
    return out;
}

TEST(TiledLayouts, BytesGoWhereTheDefinitionSays) {
    testdata::Rng rng(77);
    const int64_t n = 512;
    for (Layout l : kTiled) {
        SCOPED_TRACE(layout_name(l));
        const lb::formats::LayoutTraits &lt = lb::formats::layout_traits(l);
        const size_t row = lb::formats::row_bytes(lt.base, n);
        std::vector<uint8_t> rows(row * static_cast<size_t>(lt.rows));
        for (uint8_t &b : rows) b = static_cast<uint8_t>(rng.next());
        std::vector<uint8_t> group(rows.size());
        lb::formats::interleave(l, n, rows.data(), group.data());
        for (int64_t b = 0; b < n / lt.block; ++b)
            for (int64_t i = 0; i < lt.rows; ++i) {
                const uint8_t *x = rows.data() + static_cast<size_t>(i) * row;
                if (l == Layout::q8r16) {
                    const auto &src = reinterpret_cast<const lb::formats::block_q8_0 *>(x)[b];
                    const auto &g = reinterpret_cast<const lb::formats::block_q8_0x16 *>(group.data())[b];
                    ASSERT_EQ(g.d[i], src.d);
                    for (int k = 0; k < 8; ++k)
                        for (int m = 0; m < 4; ++m) ASSERT_EQ(g.qs[64 * k + 4 * i + m], src.qs[4 * k + m]);
                } else {
                    const auto &src = reinterpret_cast<const lb::formats::block_q4_K *>(x)[b];
                    const auto &g = reinterpret_cast<const lb::formats::block_q4_Kx4 *>(group.data())[b];
                    ASSERT_EQ(g.d[i], src.d);
                    ASSERT_EQ(g.dmin[i], src.dmin);
                    ASSERT_EQ(std::memcmp(&g.scales[12 * i], src.scales, 12), 0);
                    for (int c = 0; c < 8; ++c)
                        for (int m = 0; m < 16; ++m) ASSERT_EQ(g.qs[64 * c + 16 * i + m], src.qs[16 * c + m]);
                }
            }
    }
}

TEST(TiledLayouts, RepackThenUnpackIsTheIdentity) {
    testdata::Rng rng(78);
    for (Layout l : kTiled)
        for (int64_t n : {256, 512, 1024}) {
            SCOPED_TRACE(layout_name(l) + " n=" + std::to_string(n));
            const lb::formats::LayoutTraits &lt = lb::formats::layout_traits(l);
            const size_t bytes = lb::formats::row_bytes(lt.base, n) * static_cast<size_t>(lt.rows);
            std::vector<uint8_t> rows(bytes), group(bytes), back(bytes), again(bytes);
            for (uint8_t &b : rows) b = static_cast<uint8_t>(rng.next());
            lb::formats::interleave(l, n, rows.data(), group.data());
            EXPECT_NE(group, rows); // the bytes did move
            lb::formats::deinterleave(l, n, group.data(), back.data());
            EXPECT_EQ(back, rows);
            lb::formats::interleave(l, n, back.data(), again.data());
            EXPECT_EQ(again, group);
        }
}

// Real weights: stories260K's output matrix (512 x 64 F32), read as rows of
// `n` values.
std::vector<float> real_weights(int64_t n) {
    const lb::Model m(testdata::stories_path());
    for (const lb::Model::Tensor &t : m.tensors())
        if (t.info->name == "output.weight") {
            std::vector<float> x(t.info->size / sizeof(float));
            std::memcpy(x.data(), t.data, t.info->size);
            x.resize(x.size() / static_cast<size_t>(n) * static_cast<size_t>(n));
            return x;
        }
    throw std::runtime_error("stories260K has no output.weight");
}

// Every set with a kernel for a tiled layout multiplies it as the standard
// layout is multiplied: against the scalar reference's dot products, within
// the bound of the float additions' order, on random and on real weights,
// through the matmul driver on 1 and 2 threads, tokens in odd numbers.
TEST(TiledLayouts, TiledMatmulGivesTheStandardProducts) {
    int kernels_tested = 0;
    for (Layout l : kTiled) {
        const lb_type type = lb::formats::layout_traits(l).base;
        const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[type];
        for (const bool real : {false, true}) {
            const int64_t n = real ? 256 : type == LB_TYPE_Q8_0 ? 544 : 512; // 544: an odd block count
            const std::vector<float> wx = real ? real_weights(n) : random_rows(64, n, 500 + type);
            const int64_t rows = static_cast<int64_t>(wx.size()) / n, tokens = 37;
            const std::vector<float> ax = random_rows(tokens, n, 600 + type);
            const std::vector<uint8_t> w = quantize_weights(type, wx, n), tiled = interleave_all(l, n, w);
            const std::vector<uint8_t> a = activations(ref, ax, n);
            const size_t w_row = lb::formats::row_bytes(type, n), a_row = ref.activation_row_bytes(n);
            for (int s = 0; s < lb::kernels::set_count(); ++s) {
                const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
                if (set == nullptr || set->dot().tiled[static_cast<int>(l)] == nullptr) continue;
                ++kernels_tested;
                SCOPED_TRACE(layout_name(l) + (real ? " real" : " random") + " weights, kernels " +
                             set->name);
                for (int threads : {1, 2}) {
                    std::vector<float> y(static_cast<size_t>(rows * tokens), -1.0f);
                    lb::kernels::MatmulScratch scratch;
                    lb::kernels::matmul(set->dot(),
                                        {.type = type,
                                         .n = n,
                                         .rows = rows,
                                         .data = tiled.data(),
                                         .row_bytes = w_row,
                                         .layout = l},
                                        ax.data(), tokens, y.data(), threads, scratch);
                    for (int64_t t = 0; t < tokens; ++t)
                        for (int64_t r = 0; r < rows; ++r) {
                            const uint8_t *wr = w.data() + r * w_row, *ar = a.data() + t * a_row;
                            const double want = ref.dot(n, wr, ar);
                            ASSERT_NEAR(y[static_cast<size_t>(t * rows + r)], want,
                                        kRelative * magnitude(type, wr, ar, n) + 1e-30)
                                << "row " << r << ", token " << t << ", " << threads << " threads";
                        }
                }
            }
        }
    }
    if (kernels_tested == 0) GTEST_SKIP() << "no kernel set of this CPU has tiled kernels";
}

// Weights as a file may hold them (dot_testing.hpp's random_blocks: every
// code byte random, so the largest levels, scales and mins and Q8_0's -128
// too): every tiled kernel gives the exact sum of the dequantized products.
TEST(TiledLayouts, RandomCodeBytesGiveTheExactSum) {
    testdata::Rng rng(4343);
    int kernels_tested = 0;
    for (const ScaleFields &f : kScaleFields) {
        const Layout l = lb::formats::tiled_layout_of(f.type);
        if (l == Layout::standard) continue;
        const int64_t n = 1024, rows = 32, tokens = 11;
        const size_t w_row = lb::formats::row_bytes(f.type, n);
        const std::vector<uint8_t> w = random_blocks(f, rows * w_row, rng), tiled = interleave_all(l, n, w);
        const std::vector<float> ax = random_rows(tokens, n, 800 + f.type);
        const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[f.type];
        const std::vector<uint8_t> a = activations(ref, ax, n);
        const size_t a_row = ref.activation_row_bytes(n);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
            if (set == nullptr || set->dot().tiled[static_cast<int>(l)] == nullptr) continue;
            ++kernels_tested;
            SCOPED_TRACE(layout_name(l) + " with kernels " + set->name);
            std::vector<float> got(static_cast<size_t>(rows * tokens));
            set->dot().tiled[static_cast<int>(l)](
                {.n = n,
                 .w = tiled.data(),
                 .w_stride = w_row * static_cast<size_t>(lb::formats::layout_traits(l).rows),
                 .n_rows = rows,
                 .a = a.data(),
                 .a_stride = a_row,
                 .n_tokens = tokens,
                 .out = got.data(),
                 .out_stride = rows});
            for (int64_t t = 0; t < tokens; ++t)
                for (int64_t r = 0; r < rows; ++r) {
                    const uint8_t *wr = w.data() + r * w_row, *ar = a.data() + t * a_row;
                    ASSERT_NEAR(got[static_cast<size_t>(t * rows + r)], exact_dot(f.type, wr, ar, n),
                                kRelative * magnitude(f.type, wr, ar, n) + 1e-30)
                        << "row " << r << " token " << t;
                }
        }
    }
    if (kernels_tested == 0) GTEST_SKIP() << "no kernel set of this CPU has tiled kernels";
}

// The Q8R16 kernels (AVX2, AVX-512) add as the reference does (integer block
// sums, then (isum * d_w) * d_a added block after block), so their products
// are the reference's to the last bit.
TEST(TiledLayouts, Q8R16ProductsAreTheReferenceSums) {
    const int64_t n = 544, rows = 32, tokens = 9;
    const std::vector<float> wx = random_rows(rows, n, 700), ax = random_rows(tokens, n, 701);
    const lb::kernels::WeightKernels &ref = lb::kernels::reference_dot().by_type[LB_TYPE_Q8_0];
    const std::vector<uint8_t> w = quantize_weights(LB_TYPE_Q8_0, wx, n),
                               tiled = interleave_all(Layout::q8r16, n, w), a = activations(ref, ax, n);
    const size_t w_row = lb::formats::row_bytes(LB_TYPE_Q8_0, n), a_row = ref.activation_row_bytes(n);
    int kernels_tested = 0;
    for (int s = 0; s < lb::kernels::set_count(); ++s) {
        const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
        if (set == nullptr || set->dot().tiled[static_cast<int>(Layout::q8r16)] == nullptr) continue;
        ++kernels_tested;
        SCOPED_TRACE(std::string("kernels ") + set->name);
        std::vector<float> y(static_cast<size_t>(rows * tokens));
        set->dot().tiled[static_cast<int>(Layout::q8r16)]({.n = n,
                                                           .w = tiled.data(),
                                                           .w_stride = 16 * w_row,
                                                           .n_rows = rows,
                                                           .a = a.data(),
                                                           .a_stride = a_row,
                                                           .n_tokens = tokens,
                                                           .out = y.data(),
                                                           .out_stride = rows});
        for (int64_t t = 0; t < tokens; ++t)
            for (int64_t r = 0; r < rows; ++r)
                ASSERT_EQ(y[static_cast<size_t>(t * rows + r)],
                          ref.dot(n, w.data() + r * w_row, a.data() + t * a_row))
                    << "row " << r << ", token " << t;
    }
    if (kernels_tested == 0) GTEST_SKIP() << "no kernel set of this CPU has a Q8R16 kernel";
}

} // namespace
