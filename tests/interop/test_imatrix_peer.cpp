// Importance matrices through the public API against llama.cpp's own imatrix
// loader (common_imatrix_load from the peer's libllama-common.so, the loader
// llama-quantize uses): what lb_imatrix_convert writes loads there with all
// metadata, entries, sums and counts, and converting a legacy .dat gives
// llama-quantize the same per-column importances as the .dat itself.
#include "imatrix_files.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using imatrix_files::GgufEntry;
using imatrix_files::LegacyEntry;
using imatrix_files::PeerImatrix;

std::vector<float> ramp(size_t n, float scale) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 5) % 11 + 1);
    return v;
}

void expect_same_entries(const PeerImatrix &a, const PeerImatrix &b) {
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (const auto &[name, e] : a.entries) {
        const auto it = b.entries.find(name);
        ASSERT_NE(it, b.entries.end()) << name;
        EXPECT_EQ(it->second.sums, e.sums) << name;
        EXPECT_EQ(it->second.counts, e.counts) << name;
    }
}

// A GGUF imatrix made by the test (as llama.cpp's imatrix tool lays it out),
// converted by lowbit, i.e. rewritten by lowbit's writer: llama.cpp loads
// the result with its metadata, and every entry as the test made it,
// including a stack of experts one of which saw no tokens.
TEST(ImatrixPeer, GgufWrittenByLowbitLoadsInLlamaCpp) {
    testdata::TempDir dir;
    const std::vector<GgufEntry> entries = {
        {"blk.0.attn_q.weight", 16, ramp(16, 40.0f), {512.0f}},
        {"blk.0.ffn_down_exps.weight", 8, ramp(32, 2.5f), {300.0f, 0.0f, 12.0f, 200.0f}},
        {"blk.0.ffn_gate_inp.weight", 16, ramp(16, 1.0f), {1024.0f}},
        {"output.weight", 4, std::vector<float>(4, 0.0f), {0.0f}},
    };
    const std::vector<std::string> datasets = {"wiki.train.raw", "code.txt"};
    testdata::write_file(dir.file("made.gguf"),
                         imatrix_files::ggml_bytes(imatrix_files::gguf_model(entries, datasets, 31, 512)));
    ASSERT_EQ(lb_imatrix_convert(dir.file("made.gguf").c_str(), dir.file("lowbit.gguf").c_str()), LB_OK)
        << lb_last_error();

    const PeerImatrix m = imatrix_files::peer_load(dir.file("lowbit.gguf"));
    EXPECT_TRUE(m.has_metadata);
    EXPECT_FALSE(m.is_legacy);
    EXPECT_EQ(m.datasets, datasets);
    EXPECT_EQ(m.chunk_count, 31);
    EXPECT_EQ(m.chunk_size, 512);
    ASSERT_EQ(m.entries.size(), entries.size());
    for (const GgufEntry &g : entries) {
        const auto it = m.entries.find(g.name);
        ASSERT_NE(it, m.entries.end()) << g.name;
        EXPECT_EQ(it->second.sums, g.sums) << g.name;
        std::vector<int64_t> counts;
        for (float c : g.counts) counts.push_back(static_cast<int64_t>(c));
        EXPECT_EQ(it->second.counts, counts) << g.name;
    }
    // the expert without data gets importance 1 in llama-quantize
    const std::vector<float> experts = imatrix_files::quantize_means(m).at("blk.0.ffn_down_exps.weight");
    for (size_t i = 8; i < 16; ++i) EXPECT_EQ(experts[i], 1.0f);
    // and the file the test made loads the same way
    expect_same_entries(imatrix_files::peer_load(dir.file("made.gguf")), m);
}

// A legacy .dat written by the test loads in llama.cpp as the test wrote it;
// lowbit's GGUF conversion of it loads with the same sums, the ncall as the
// count, the dataset and chunk count, and gives llama-quantize the same
// importances, bit for bit.
TEST(ImatrixPeer, LegacyDatConvertedByLowbitGivesLlamaQuantizeTheSameMeans) {
    testdata::TempDir dir;
    const std::vector<LegacyEntry> entries = {
        {"blk.1.attn_k.weight", 3, ramp(16, 0.7f)},
        {"blk.0.attn_k.weight", 100, ramp(16, 13.0f)},
        {"blk.0.ffn_up_exps.weight", 7, ramp(64, 0.013f)},
        {"token_embd.weight", 1, ramp(8, 1.0f / 3.0f)},
    };
    testdata::write_file(dir.file("in.dat"),
                         imatrix_files::legacy_bytes(entries, true, 64, "calibration.txt"));
    const PeerImatrix dat = imatrix_files::peer_load(dir.file("in.dat"));
    EXPECT_TRUE(dat.is_legacy);
    EXPECT_EQ(dat.chunk_count, 64);
    EXPECT_EQ(dat.datasets, std::vector<std::string>{"calibration.txt"});
    ASSERT_EQ(dat.entries.size(), entries.size());
    for (const LegacyEntry &e : entries) {
        const auto it = dat.entries.find(e.name);
        ASSERT_NE(it, dat.entries.end()) << e.name;
        EXPECT_EQ(it->second.sums, e.values) << e.name;
        EXPECT_EQ(it->second.counts, std::vector<int64_t>{e.ncall}) << e.name;
    }

    ASSERT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.file("out.gguf").c_str()), LB_OK)
        << lb_last_error();
    const PeerImatrix gguf = imatrix_files::peer_load(dir.file("out.gguf"));
    EXPECT_FALSE(gguf.is_legacy);
    EXPECT_TRUE(gguf.has_metadata);
    EXPECT_EQ(gguf.datasets, dat.datasets);
    EXPECT_EQ(gguf.chunk_count, dat.chunk_count);
    expect_same_entries(dat, gguf);
    const auto want = imatrix_files::quantize_means(dat), got = imatrix_files::quantize_means(gguf);
    ASSERT_EQ(got.size(), want.size());
    for (const auto &[name, v] : want) EXPECT_EQ(got.at(name), v) << name;
}

} // namespace
