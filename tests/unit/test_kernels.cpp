// Every kernel set this CPU runs produces the scalar reference's bytes, for
// every format, with and without an importance matrix. Also built for ARM
// (tests/kernels_only).
#include "dot_testing.hpp"
#include "formats/type_traits.hpp"
#include "kernels/kernels.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>

namespace {

std::vector<uint8_t> quantize_all(lb_type type, const std::vector<float> &x, int64_t cols,
                                  const float *imatrix, const lb::kernels::KernelSet &set) {
    const size_t row_bytes = lb::formats::row_bytes(type, cols);
    const int64_t rows = static_cast<int64_t>(x.size()) / cols;
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row_bytes);
    for (int64_t r = 0; r < rows; ++r)
        lb::formats::traits(type).quantize(x.data() + r * cols, q.data() + r * row_bytes, cols, imatrix,
                                           set.search);
    return q;
}

// LOWBIT_TEST_SETS (a comma-separated list) narrows the block-search test to
// those sets: scripts/arm-check.sh checks the sve set alone on its three SVE
// CPUs, as generic and neon have their own CPUs there. A set it names must
// exist on this CPU. Empty when unset: every set.
std::vector<std::string> named_test_sets() {
    std::vector<std::string> names;
    const char *only = std::getenv("LOWBIT_TEST_SETS");
    if (only == nullptr || *only == '\0') return names;
    const std::string list = std::string(only) + ",";
    for (size_t begin = 0, comma; (comma = list.find(',', begin)) != std::string::npos; begin = comma + 1)
        names.push_back(list.substr(begin, comma - begin));
    return names;
}

TEST(Kernels, EverySetMatchesTheScalarReference) {
    const std::vector<std::string> only = named_test_sets();
    for (const std::string &name : only)
        ASSERT_NE(lb::kernels::find(name.c_str()), nullptr)
            << "LOWBIT_TEST_SETS names " << name << ", which this CPU lacks";
    // 4096-wide rows of assorted scales plus a width (96) that leaves a tail of
    // blocks outside the vector groups
    testdata::Rng rng(31337);
    std::vector<float> wide, narrow;
    for (int r = 0; r < 24; ++r) {
        const double scale = std::pow(10.0, -5.0 + 6.0 * rng.uniform());
        for (int c = 0; c < 4096; ++c) {
            double v = scale * rng.normal();
            if (r % 6 == 1 && c % 5 == 0) v = 0.0;
            if (r % 6 == 2) v = scale;                // constant blocks
            if (r % 6 == 3 && c % 97 == 0) v *= 40.0; // outliers
            if (r % 6 == 4) v = std::abs(v);          // one-signed blocks
            wide.push_back(static_cast<float>(v));
        }
    }
    for (int i = 0; i < 96 * 8 * 7; ++i) narrow.push_back(static_cast<float>(rng.normal()));
    std::vector<float> im(4096);
    for (float &v : im) v = static_cast<float>(std::exp(1.5 * rng.normal()));
    // blocks the importance says nothing about take the fast path, inside the
    // groups the thorough path takes
    for (size_t i = 0; i < im.size(); ++i)
        if ((i / 32) % 7 == 3) im[i] = 0.0f;
    for (int c = 0; c < 32; ++c) im[64 + c] = 0.0f; // a block without importance

    for (lb_type type : {LB_TYPE_Q4_0, LB_TYPE_Q4_1, LB_TYPE_Q5_0, LB_TYPE_Q5_1, LB_TYPE_Q8_0, LB_TYPE_Q2_K,
                         LB_TYPE_Q3_K, LB_TYPE_Q4_K, LB_TYPE_Q5_K, LB_TYPE_Q6_K}) {
        std::vector<uint8_t> ref_fast, ref_thorough, ref_narrow;
        const lb::kernels::KernelSet &ref = lb::kernels::kScalarKernels;
        ref_fast = quantize_all(type, wide, 4096, nullptr, ref);
        ref_thorough = quantize_all(type, wide, 4096, im.data(), ref);
        // a K-quant row is whole 256-value super-blocks
        const int64_t narrow_cols = lb::formats::traits(type).block_size == 256 ? 256 : 96;
        ref_narrow = quantize_all(type, narrow, narrow_cols, nullptr, ref);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const std::string name = lb::kernels::set_name(s);
            if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
            const lb::kernels::KernelSet *set = lb::kernels::find(name.c_str());
            if (set == nullptr) {
                // only the x86 and ARM extensions may be missing, on CPUs without them
                EXPECT_TRUE(name == "avx2" || name == "avx512" || name == "neon" || name == "sve") << name;
                continue;
            }
            SCOPED_TRACE(std::string(lb::formats::traits(type).name) + " with kernels " + name);
            EXPECT_EQ(quantize_all(type, wide, 4096, nullptr, *set), ref_fast);
            EXPECT_EQ(quantize_all(type, wide, 4096, im.data(), *set), ref_thorough);
            EXPECT_EQ(quantize_all(type, narrow, narrow_cols, nullptr, *set), ref_narrow);
        }
    }
}

// The lattice I-quants' searches (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S)
// through every set give the scalar reference's bytes, with and without an
// importance matrix: rows of assorted scales, zeros, constants, outliers and
// one-signed values (fewer than above: these searches are slower).
TEST(Kernels, EverySetSearchesTheLatticeAsTheReference) {
    testdata::Rng rng(2718);
    const int64_t cols = 512; // two super-blocks a row (these run under qemu in the ARM check)
    std::vector<float> x;
    for (int r = 0; r < 5; ++r) {
        const double scale = std::pow(10.0, -4.0 + 5.0 * rng.uniform());
        for (int64_t c = 0; c < cols; ++c) {
            double v = scale * rng.normal();
            if (r == 1 && c % 5 == 0) v = 0.0;
            if (r == 2 && c >= 256) v = scale;    // a constant super-block
            if (r == 3 && c % 97 == 0) v *= 40.0; // outliers
            if (r == 4) v = std::abs(v);          // one-signed
            x.push_back(static_cast<float>(v));
        }
    }
    std::vector<float> im(static_cast<size_t>(cols));
    for (float &v : im) v = static_cast<float>(std::exp(1.5 * rng.normal()));
    for (int c = 0; c < 256; ++c) im[static_cast<size_t>(256 + c)] = 0.0f; // a super-block without importance
    const lb::kernels::KernelSet &ref = lb::kernels::kScalarKernels;
    for (lb_type type : {LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS, LB_TYPE_IQ2_S, LB_TYPE_IQ3_XXS, LB_TYPE_IQ3_S}) {
        const std::vector<uint8_t> ref_plain = quantize_all(type, x, cols, nullptr, ref);
        const std::vector<uint8_t> ref_im = quantize_all(type, x, cols, im.data(), ref);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
            if (set == nullptr) continue; // a set this CPU lacks (checked above)
            SCOPED_TRACE(std::string(lb::formats::traits(type).name) + " with kernels " + set->name);
            EXPECT_EQ(quantize_all(type, x, cols, nullptr, *set), ref_plain);
            EXPECT_EQ(quantize_all(type, x, cols, im.data(), *set), ref_im);
        }
    }
}

// The lattice loops themselves against the reference on keys that tie
// exactly (small integers), and with infinite and NaN keys: the same tables,
// the same first lowest point and key, the same shortlists.
TEST(Kernels, EverySetFindsTheLatticeLowestAsTheReference) {
    const lb::formats::LatticeKernels &ref = lb::kernels::kScalarKernels.search.lattice;
    constexpr int kPoints = 256;
    const float inf = INFINITY, nan = std::nanf("");
    testdata::Rng rng(99);
    std::vector<float> by_dim(8 * kPoints);
    for (float &v : by_dim) v = static_cast<float>(1 + 2 * static_cast<int>(rng.uniform() * 8));
    const float a[8] = {0.5f, 0.0f, 3.0f, 1.25f, 2.0f, 0.75f, 0.0f, 4.0f};
    const float w[8] = {1.0f, 2.0f, 0.5f, 1.0f, 3.0f, 0.25f, 1.0f, 2.0f};
    for (int s = 0; s < lb::kernels::set_count(); ++s) {
        const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
        if (set == nullptr) continue;
        const lb::formats::LatticeKernels &k = set->search.lattice;
        SCOPED_TRACE(set->name);
        for (int dims : {4, 8}) {
            std::vector<float> q0(kPoints), r0(kPoints), f0(kPoints), q1(kPoints), r1(kPoints), f1(kPoints);
            ref.tabulate(by_dim.data(), dims, kPoints, a, w, q0.data(), r0.data(), f0.data());
            k.tabulate(by_dim.data(), dims, kPoints, a, w, q1.data(), r1.data(), f1.data());
            EXPECT_EQ(std::memcmp(q0.data(), q1.data(), sizeof(float) * kPoints), 0) << dims;
            EXPECT_EQ(std::memcmp(r0.data(), r1.data(), sizeof(float) * kPoints), 0) << dims;
            EXPECT_EQ(std::memcmp(f0.data(), f1.data(), sizeof(float) * kPoints), 0) << dims;
        }
        for (int trial = 0; trial < 6; ++trial) {
            std::vector<float> q(kPoints), r(kPoints);
            for (int p = 0; p < kPoints; ++p) { // few distinct keys: many exact ties
                q[static_cast<size_t>(p)] = static_cast<float>((p * 7 + trial) % 5);
                r[static_cast<size_t>(p)] = static_cast<float>((p * 3) % 4 + trial);
            }
            if (trial == 1) r[200] = inf; // one key of minus infinity, late
            if (trial == 2)
                for (int p = 0; p < kPoints; ++p) q[static_cast<size_t>(p)] = p % 3 == 0 ? nan : inf;
            if (trial == 3)
                for (int p = 0; p < 40; ++p) r[static_cast<size_t>(p)] = nan; // the first lanes' keys NaN
            for (float sc : {0.0f, 0.5f, 1.0f, 3.0f}) {
                const lb::formats::LatticeLowest want = ref.lowest(q.data(), r.data(), kPoints, sc);
                const lb::formats::LatticeLowest got = k.lowest(q.data(), r.data(), kPoints, sc);
                EXPECT_EQ(got.point, want.point) << "trial " << trial << " s " << sc;
                EXPECT_EQ(std::memcmp(&got.key, &want.key, sizeof(float)), 0)
                    << "trial " << trial << " s " << sc;
            }
            std::vector<uint16_t> want(kPoints), got(kPoints);
            const int nw = ref.shortlist(q.data(), r.data(), kPoints, 0.5f, 2.0f, want.data());
            const int ng = k.shortlist(q.data(), r.data(), kPoints, 0.5f, 2.0f, got.data());
            ASSERT_EQ(ng, nw) << "trial " << trial;
            want.resize(static_cast<size_t>(nw));
            got.resize(static_cast<size_t>(ng));
            EXPECT_EQ(got, want) << "trial " << trial;
            if (trial == 0 ||
                trial >= 4) // finite keys: the shortlist holds the lowest point of every s in range
                for (float sc : {0.5f, 0.75f, 1.25f, 2.0f}) {
                    lb::formats::LatticeLowest best{inf, 0};
                    for (uint16_t p : want) {
                        const float key = sc * q[p] - r[p];
                        if (key < best.key) best = {key, p};
                    }
                    EXPECT_EQ(best.point, ref.lowest(q.data(), r.data(), kPoints, sc).point)
                        << trial << " " << sc;
                }
        }
    }
}

// Every set's dequantizers give the format's reference floats bit for bit,
// on random blocks (every code byte, random scales of both signs), and F16 /
// BF16 / IQ1_M rows of random bits (infinities and NaNs included).
TEST(Kernels, EverySetDequantizesAsTheReference) {
    testdata::Rng rng(777);
    std::vector<dottest::ScaleFields> formats(std::begin(dottest::kScaleFields),
                                              std::end(dottest::kScaleFields));
    formats.push_back({LB_TYPE_F16, {}});
    formats.push_back({LB_TYPE_BF16, {}});
    formats.push_back({LB_TYPE_IQ1_M, {}}); // its d spread over the scales' nibbles: any bits
    for (const dottest::ScaleFields &f : formats) {
        const int64_t n = 4096, rows = 5;
        const std::vector<uint8_t> w =
            dottest::random_blocks(f, rows * lb::formats::row_bytes(f.type, n), rng);
        std::vector<float> want(static_cast<size_t>(rows * n));
        lb::formats::traits(f.type).dequantize(w.data(), want.data(), rows * n);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
            if (set == nullptr) continue; // a set this CPU lacks (checked above)
            SCOPED_TRACE(std::string(lb::formats::traits(f.type).name) + " with kernels " + set->name);
            std::vector<float> got(want.size(), -1.0f);
            lb::kernels::dequantizer(*set, f.type)(w.data(), got.data(), rows * n);
            EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0);
        }
    }
}

// Every set's quantized activation rows are the reference's bytes (Q8_0,
// Q8_1 and Q8_K, for every weight type that takes them): rows of assorted
// scales with outliers, zero blocks and blocks of a single value.
TEST(Kernels, EverySetQuantizesActivationsAsTheReference) {
    const int64_t n = 4096;
    std::vector<float> x = dottest::random_rows(6, n, 99);
    for (int64_t i = 0; i < 256; ++i) x[static_cast<size_t>(n + i)] = 0.0f;      // a zero Q8_K block
    for (int64_t i = 256; i < 512; ++i) x[static_cast<size_t>(n + i)] = -0.375f; // one value, repeated
    for (int64_t i = 512; i < 544; ++i)
        x[static_cast<size_t>(n + i)] = i == 530 ? 2.5f : 0.0f; // a lone value
    for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(2 * n + i)] = static_cast<float>(i % 9) - 4.0f;
    const lb::kernels::DotKernels &ref = lb::kernels::reference_dot();
    for (uint32_t type = 0; type < lb::formats::kTypeCount; ++type) {
        const lb_type at = lb::formats::traits(type).vec_dot_type;
        if (ref.by_type[type].quantize_activations == nullptr || !lb::formats::traits(at).quantized) continue;
        const std::vector<uint8_t> want = dottest::activations(ref.by_type[type], x, n);
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
            if (set == nullptr) continue; // a set this CPU lacks (checked above)
            SCOPED_TRACE(std::string(lb::formats::traits(type).name) + " weights with kernels " + set->name);
            const lb::kernels::WeightKernels &k = set->dot().by_type[type];
            ASSERT_EQ(k.activation_row_bytes(n), ref.by_type[type].activation_row_bytes(n));
            EXPECT_TRUE(dottest::activations(k, x, n) == want);
        }
    }
}

// Every set finds the first NaN or infinity where a plain std::isfinite scan
// does, for every length (tails outside the vectors and the 256-value chunks
// included) and position.
TEST(Kernels, EverySetFindsTheFirstNonFiniteValue) {
    testdata::Rng rng(4242);
    const float specials[] = {std::nanf(""), -std::nanf(""), INFINITY, -INFINITY};
    for (int s = 0; s < lb::kernels::set_count(); ++s) {
        const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
        if (set == nullptr) continue; // not on this CPU
        for (int64_t n : {0, 1, 3, 15, 16, 17, 255, 256, 257, 600, 4096}) {
            std::vector<float> x(static_cast<size_t>(n));
            for (float &v : x) v = static_cast<float>(1e30 * rng.normal()); // large, finite
            for (int trial = 0; trial < 6; ++trial) {
                std::vector<float> y = x;
                if (trial > 0 && n > 0) // one or two specials at random places
                    for (int k = 0; k < (trial % 2) + 1; ++k)
                        y[static_cast<size_t>(rng.uniform() * static_cast<double>(n)) % y.size()] =
                            specials[(trial + k) % 4];
                int64_t expected = -1;
                for (int64_t i = 0; i < n && expected < 0; ++i)
                    if (!std::isfinite(y[static_cast<size_t>(i)])) expected = i;
                EXPECT_EQ(set->first_non_finite(y.data(), n), expected)
                    << set->name << " n=" << n << " trial " << trial;
            }
        }
        const float big = 3.4e38f; // the largest finite values are not flagged
        std::vector<float> edge(300, big);
        edge[7] = -big;
        EXPECT_EQ(set->first_non_finite(edge.data(), 300), -1) << set->name;
    }
}

// The fastest set this CPU runs, unless LOWBIT_KERNELS names another.
TEST(Kernels, ActiveSetIsTheFastestAvailableOrTheForcedOne) {
    const char *forced = std::getenv("LOWBIT_KERNELS");
    const lb::kernels::KernelSet *expected = lb::kernels::find(forced);
    for (const char *fastest_first : {"avx512", "avx2", "sve", "neon", "generic"})
        if (expected == nullptr) expected = lb::kernels::find(fastest_first);
    ASSERT_NE(expected, nullptr);
    EXPECT_STREQ(lb::kernels::active().name, expected->name);
}

} // namespace
