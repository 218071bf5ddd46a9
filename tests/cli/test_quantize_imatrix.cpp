// `lowbit quantize --imatrix` on synthetic models written by `lowbit synth`,
// and split inputs: the imatrix is used (its keys land in the output), and a
// wrong imatrix (another model's, truncated, holding NaN), a type that needs
// an imatrix without one, and a split set with a missing shard are clear
// errors that leave no output file.
#include "gguf_builder.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include "lowbit/lowbit.h"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using clitest::run_cli;

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

// A small synthetic llama model and its imatrix.
void synth(const std::string &model, const std::string &imatrix, const std::string &embd) {
    const auto o = run_cli({"synth", "--layers", "2", "--embd", embd, "--heads", "4", "--kv-heads", "2",
                            "--ff", "512", "--seed", "3", "--imatrix", imatrix, model},
                           60);
    ASSERT_EQ(o.exit_code, 0) << o.describe();
}

std::vector<uint8_t> read_bytes(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string &path, const std::vector<uint8_t> &b) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs a quantization that must fail: exit 1, the message, no output file.
void expect_failure(const std::vector<std::string> &args, const std::string &out,
                    const std::vector<std::string> &words) {
    const auto o = run_cli(args, 60);
    EXPECT_EQ(o.exit_code, 1) << o.describe();
    EXPECT_TRUE(contains(o.err, "lowbit: error:")) << o.err;
    for (const std::string &w : words)
        EXPECT_TRUE(contains(o.err, w)) << "expected \"" << w << "\" in: " << o.err;
    EXPECT_FALSE(testdata::file_exists(out)) << out;
}

TEST(QuantizeImatrix, UsedAndRecordedInTheOutput) {
    testdata::TempDir dir;
    synth(dir.file("m.gguf"), dir.file("m.imatrix.gguf"), "256");
    const std::string out = dir.file("q.gguf");
    const auto o = run_cli(
        {"quantize", "--imatrix", dir.file("m.imatrix.gguf"), dir.file("m.gguf"), out, "Q4_K_M", "2"}, 60);
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, out.c_str()), LB_OK) << lb_last_error();
    size_t k = 0;
    ASSERT_EQ(lb_model_kv_find(&k, m, "quantize.imatrix.file"), LB_OK);
    const char *file = nullptr;
    ASSERT_EQ(lb_model_kv_get_string(&file, nullptr, m, k), LB_OK);
    EXPECT_EQ(std::string(file), dir.file("m.imatrix.gguf"));
    ASSERT_EQ(lb_model_kv_find(&k, m, "quantize.imatrix.entries_count"), LB_OK);
    uint64_t entries = 0;
    ASSERT_EQ(lb_model_kv_get_uint(&entries, m, k), LB_OK);
    EXPECT_EQ(entries, 2u * 7u + 2u); // 7 matrices per layer, output and token_embd
    lb_model_close(m);

    // the imatrix changes the result: the same job without it gives other bytes
    const auto plain = run_cli({"quantize", dir.file("m.gguf"), dir.file("p.gguf"), "Q4_K_M", "2"}, 60);
    ASSERT_EQ(plain.exit_code, 0) << plain.describe();
    EXPECT_NE(read_bytes(out).size(), 0u);
    EXPECT_NE(read_bytes(out), read_bytes(dir.file("p.gguf")));
}

TEST(QuantizeImatrix, AnotherModelsImatrixNamesTheTensor) {
    testdata::TempDir dir;
    synth(dir.file("m.gguf"), dir.file("m.imatrix.gguf"), "256");
    synth(dir.file("wide.gguf"), dir.file("wide.imatrix.gguf"), "512");
    const std::string out = dir.file("q.gguf");
    expect_failure(
        {"quantize", "--imatrix", dir.file("wide.imatrix.gguf"), dir.file("m.gguf"), out, "Q4_K_M"}, out,
        {"wide.imatrix.gguf", "has 512 values but tensor", "needs 256", "another model"});
}

TEST(QuantizeImatrix, TruncatedImatrixIsRefused) {
    testdata::TempDir dir;
    synth(dir.file("m.gguf"), dir.file("m.imatrix.gguf"), "256");
    const std::vector<uint8_t> b = read_bytes(dir.file("m.imatrix.gguf"));
    ASSERT_GT(b.size(), 1000u);
    write_bytes(dir.file("cut.gguf"),
                std::vector<uint8_t>(b.begin(), b.end() - 100)); // the last 100 bytes cut
    const std::string out = dir.file("q.gguf");
    expect_failure({"quantize", "--imatrix", dir.file("cut.gguf"), dir.file("m.gguf"), out, "Q4_K_M"}, out,
                   {"cut.gguf"});
}

TEST(QuantizeImatrix, NanInImatrixNamesTheEntry) {
    testdata::TempDir dir;
    synth(dir.file("m.gguf"), dir.file("m.imatrix.gguf"), "256");
    // a legacy .dat whose entry for blk.0.ffn_up.weight holds a NaN
    gguf_builder::Bytes b;
    const std::string name = "blk.0.ffn_up.weight";
    b.u32(1).u32(static_cast<uint32_t>(name.size())).raw(name).u32(10).u32(256);
    for (int i = 0; i < 256; ++i) b.f32(i == 77 ? std::nanf("") : 1.0f);
    write_bytes(dir.file("nan.dat"), b);
    const std::string out = dir.file("q.gguf");
    expect_failure({"quantize", "--imatrix", dir.file("nan.dat"), dir.file("m.gguf"), out, "Q4_K_M"}, out,
                   {"nan.dat", name});
}

TEST(QuantizeImatrix, TypeThatNeedsAnImatrixWithoutOne) {
    // llama.cpp's Q2_K_S mixture requires an imatrix for its Q2_K tensors
    testdata::TempDir dir;
    synth(dir.file("m.gguf"), dir.file("m.imatrix.gguf"), "256");
    const std::string out = dir.file("q.gguf");
    expect_failure({"quantize", dir.file("m.gguf"), out, "Q2_K_S"}, out,
                   {"needs an importance matrix", "blk.0."});
    const auto ok =
        run_cli({"quantize", "--imatrix", dir.file("m.imatrix.gguf"), dir.file("m.gguf"), out, "Q2_K_S"}, 60);
    EXPECT_EQ(ok.exit_code, 0) << ok.describe();
}

// A split set of the shipped model written through the public API: the
// model quantized with --keep-split is a one-shard set; a three-shard set is
// built here from its tensors with the test's own GGUF builder.
TEST(QuantizeSplit, MissingShardIsAClearError) {
    testdata::TempDir dir;
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK) << lb_last_error();
    const size_t n = lb_model_tensor_count(m), shards = 3, per = (n + shards - 1) / shards;
    for (size_t s = 0; s < shards; ++s) {
        gguf_builder::Model g;
        // as llama.cpp's gguf-split writes them: u16, u16, i32
        g.kvs.push_back(
            {.key = "split.no", .value = gguf_builder::Bytes().u32(2).u16(static_cast<uint16_t>(s))});
        g.kvs.push_back(
            {.key = "split.count", .value = gguf_builder::Bytes().u32(2).u16(static_cast<uint16_t>(shards))});
        g.kvs.push_back({.key = "split.tensors.count",
                         .value = gguf_builder::Bytes().u32(5).u32(static_cast<uint32_t>(n))});
        if (s == 0) {
            g.kvs.push_back({.key = "general.architecture", .value = gguf_builder::string_value("llama")});
            g.kvs.push_back({.key = "llama.block_count", .value = gguf_builder::u32_value(5)});
        }
        for (size_t i = s * per; i < std::min(n, (s + 1) * per); ++i) {
            gguf_builder::Tensor t;
            t.name = lb_model_tensor_name(m, i);
            for (uint32_t d = 0; d < lb_model_tensor_n_dims(m, i); ++d)
                t.ne.push_back(lb_model_tensor_dim(m, i, d));
            t.type = static_cast<uint32_t>(lb_model_tensor_type(m, i));
            const void *data = nullptr;
            uint64_t size = 0;
            ASSERT_EQ(lb_model_tensor_data(&data, &size, m, i), LB_OK);
            t.data.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + size);
            g.tensors.push_back(t);
        }
        char name[64];
        std::snprintf(name, sizeof name, "st-%05zu-of-%05zu.gguf", s + 1, shards);
        write_bytes(dir.file(name), g.build());
    }
    lb_model_close(m);
    const std::string first = dir.file("st-00001-of-00003.gguf"), out = dir.file("q.gguf");
    // the complete set quantizes
    auto o = run_cli({"quantize", first, out, "Q8_0"}, 60);
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    ASSERT_EQ(std::remove(out.c_str()), 0);
    // without its second shard it is refused, naming the missing file
    ASSERT_EQ(std::remove(dir.file("st-00002-of-00003.gguf").c_str()), 0);
    expect_failure({"quantize", first, out, "Q8_0"}, out, {"st-00002-of-00003.gguf"});
}

} // namespace
