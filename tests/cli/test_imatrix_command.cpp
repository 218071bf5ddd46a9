// lowbit imatrix: the file it writes (read back through the C API), its use by
// lowbit quantize --imatrix, --json, Ctrl-C, and bad input (a one-line error
// naming the file or flag, nothing written).
#include "cli_checks.hpp"
#include "lowbit/lowbit.h"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

using clitest::contains;
using clitest::failed_naming;

struct Files {
    testdata::TempDir dir;
    std::string text = dir.file("text.txt"), out = dir.file("imatrix.gguf");
    Files() {
        const std::string t = testdata::validation_text(20000);
        testdata::write_file(text, std::vector<uint8_t>(t.begin(), t.end()));
    }
};

// A metadata string or u32 of a GGUF file, through the C API.
std::string kv_string(lb_model *m, const char *key) {
    size_t i = 0;
    if (lb_model_kv_find(&i, m, key) != LB_OK) return "<missing>";
    const char *s = nullptr;
    size_t n = 0;
    if (lb_model_kv_get_string(&s, &n, m, i) != LB_OK) return "<not a string>";
    return std::string(s, n);
}
uint64_t kv_uint(lb_model *m, const char *key) {
    size_t i = 0;
    uint64_t v = 0;
    if (lb_model_kv_find(&i, m, key) != LB_OK || lb_model_kv_get_uint(&v, m, i) != LB_OK) return ~0ull;
    return v;
}

TEST(ImatrixCommand, WritesLlamaCppsImatrixThatQuantizeUses) {
    Files f;
    const Outcome r = run_cli({"imatrix", testdata::stories_path(), "-f", f.text, "-o", f.out, "--ctx", "128",
                               "--chunks", "4", "--threads", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "wrote " + f.out + ": 35 tensors, 4 chunks of 128 tokens")) << r.out;
    EXPECT_TRUE(contains(r.out, "PPL")) << r.out;

    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, f.out.c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(kv_string(m, "general.type"), "imatrix");
    EXPECT_EQ(kv_uint(m, "imatrix.chunk_count"), 4u);
    EXPECT_EQ(kv_uint(m, "imatrix.chunk_size"), 128u);
    EXPECT_EQ(lb_model_tensor_count(m), 70u); // in_sum2 and counts of 35 weights
    size_t i = 0;
    ASSERT_EQ(lb_model_tensor_find(&i, m, "blk.4.ffn_down.weight.counts"), LB_OK);
    const void *data = nullptr;
    uint64_t bytes = 0;
    ASSERT_EQ(lb_model_tensor_data(&data, &bytes, m, i), LB_OK);
    ASSERT_EQ(bytes, 4u);
    EXPECT_EQ(*static_cast<const float *>(data), 4.0f * 128.0f);
    lb_model_close(m);

    const std::string q = f.dir.file("q4_k_m.gguf");
    const Outcome qr = run_cli({"quantize", "--imatrix", f.out, testdata::stories_path(), q, "Q4_K_M"}, 60);
    ASSERT_EQ(qr.exit_code, 0) << qr.describe();
    ASSERT_EQ(lb_model_open(&m, q.c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(kv_uint(m, "quantize.imatrix.entries_count"), 35u);
    EXPECT_EQ(kv_uint(m, "quantize.imatrix.chunks_count"), 4u);
    lb_model_close(m);
}

TEST(ImatrixCommand, JsonAndTheLegacyForm) {
    Files f;
    const std::string dat = f.dir.file("imatrix.dat");
    const Outcome r = run_cli({"imatrix", testdata::stories_path(), "-f", f.text, "-o", dat, "--ctx", "64",
                               "--chunks", "3", "--output-format", "dat", "--process-output", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "\"format\": \"dat\"")) << r.out;
    EXPECT_TRUE(contains(r.out, "\"chunks\": 3")) << r.out;
    EXPECT_TRUE(contains(r.out, "\"entries\": 36")) << r.out; // output.weight too
    EXPECT_TRUE(contains(r.out, "\"ppl\": {\"value\": ")) << r.out;
    // llama.cpp's legacy form: i32 entry count first, then the entries
    const std::vector<uint8_t> bytes = testdata::read_file(dat);
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ(bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24, 36);
    // and lowbit converts it back to GGUF
    ASSERT_EQ(lb_imatrix_convert(dat.c_str(), f.out.c_str()), LB_OK) << lb_last_error();
}

TEST(ImatrixCommand, InterruptedLeavesNoFile) {
    Files f;
    // the whole validation text at ctx 32: about 6,000 chunks. Ctrl-C comes
    // once the second chunk's snapshot (--save-frequency 2) shows the run is
    // under way, long before its end on any machine: work done, not time.
    const std::string all = testdata::validation_text();
    testdata::write_file(f.text, std::vector<uint8_t>(all.begin(), all.end()));
    const std::string snapshot = f.out + ".at_2";
    bool seen = false;
    const Outcome r =
        clitest::run_cli_during({"imatrix", testdata::stories_path(), "-f", f.text, "-o", f.out, "--ctx",
                                 "32", "--threads", "1", "--save-frequency", "2"},
                                [&](pid_t pid) {
                                    for (int i = 0; i < 30000 && !seen; ++i) {
                                        seen = std::filesystem::exists(snapshot);
                                        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                    }
                                    ::kill(pid, SIGINT);
                                });
    ASSERT_TRUE(seen) << "no snapshot after the second chunk: " << r.describe();
    EXPECT_EQ(r.exit_code, 130) << r.describe();
    EXPECT_TRUE(contains(r.err, "interrupted")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(f.out));
}

TEST(ImatrixCommand, BadInputNamesTheFileOrFlag) {
    Files f;
    const std::string model = testdata::stories_path();
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model}), {"-f TEXT"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", "-f", f.text}), {"model"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model, "-f", f.text, "--output-format", "xml"}),
                              {"--output-format"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model, "-f", f.text, "--ctx", "1"}), {"--ctx"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model, "-f", f.text, "--frobnicate"}), {"--frobnicate"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model, "-f", f.dir.file("none.txt")}), {"none.txt"}));
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", f.dir.file("none.gguf"), "-f", f.text}), {"none.gguf"}));
    EXPECT_TRUE(failed_naming(
        run_cli({"imatrix", model, "-f", f.text, "-o", f.out, "--in-file", f.dir.file("old.gguf")}),
        {"old.gguf"}));
    // an imatrix of another model
    lb_synth_options so;
    ASSERT_EQ(lb_synth_options_init(&so, LB_SYNTH_OPTIONS_VERSION), LB_OK);
    ASSERT_EQ(lb_synth_write_imatrix(&so, f.dir.file("other.gguf").c_str()), LB_OK) << lb_last_error();
    EXPECT_TRUE(failed_naming(
        run_cli({"imatrix", model, "-f", f.text, "-o", f.out, "--in-file", f.dir.file("other.gguf")}),
        {"other.gguf", "another model"}));
    // an empty text
    const std::string empty = f.dir.file("empty.txt");
    testdata::write_file(empty, {});
    EXPECT_TRUE(failed_naming(run_cli({"imatrix", model, "-f", empty, "-o", f.out}), {"imatrix", "tokens"}));
    EXPECT_FALSE(std::filesystem::exists(f.out));
}

} // namespace
