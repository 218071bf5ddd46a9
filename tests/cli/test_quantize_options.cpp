// llama-quantize's options on the lowbit command line, on the shipped model:
// what each does to the output file, and the clear errors for bad values.
#include "run_cli.hpp"
#include "test_data.hpp"

#include "lowbit/lowbit.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <string>

namespace {

using clitest::run_cli;

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

std::map<std::string, lb_type> types_of(const std::string &path) {
    std::map<std::string, lb_type> out;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    if (m == nullptr) return out;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        out[lb_model_tensor_name(m, i)] = lb_model_tensor_type(m, i);
    lb_model_close(m);
    return out;
}

std::string string_key(const std::string &path, const char *key) {
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK);
    size_t k = 0;
    const char *s = "";
    if (lb_model_kv_find(&k, m, key) == LB_OK) lb_model_kv_get_string(&s, nullptr, m, k);
    std::string v = s;
    lb_model_close(m);
    return v;
}

uint64_t uint_key(const std::string &path, const char *key) {
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK);
    size_t k = 0;
    uint64_t v = 0;
    EXPECT_EQ(lb_model_kv_find(&k, m, key), LB_OK) << key;
    EXPECT_EQ(lb_model_kv_get_uint(&v, m, k), LB_OK) << key;
    EXPECT_EQ(lb_model_kv_type(m, k), LB_VALUE_U32) << key;
    lb_model_close(m);
    return v;
}

TEST(QuantizeOptions, DryRunPrintsThePlanAndWritesNothing) {
    testdata::TempDir dir;
    const auto o = run_cli({"quantize", "--dry-run", testdata::stories_path(), dir.file("x.gguf"), "Q4_K_M"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(contains(o.out, "dry run")) << o.out;
    EXPECT_TRUE(contains(o.out, "blk.0.attn_v.weight")) << o.out;
    EXPECT_TRUE(contains(o.out, "-> Q8_0")) << o.out; // attn_v: Q6_K falls back to Q8_0 at 64 wide
    EXPECT_TRUE(contains(o.out, "bits per weight")) << o.out;
    EXPECT_TRUE(dir.entries().empty());
}

TEST(QuantizeOptions, TensorTypePatternsPureAndLeaveOutput) {
    testdata::TempDir dir;
    auto o = run_cli({"quantize", "--tensor-type", "ATTN_V=q8_0", "--tensor-type", "ffn_(up|gate)=q5_0",
                      testdata::stories_path(), dir.file("a.gguf"), "q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    auto t = types_of(dir.file("a.gguf"));
    EXPECT_EQ(t["blk.2.attn_v.weight"], LB_TYPE_Q8_0); // the pattern is lowercased, as llama.cpp does
    EXPECT_EQ(t["blk.2.ffn_up.weight"], LB_TYPE_Q5_0);
    EXPECT_EQ(t["blk.2.ffn_gate.weight"], LB_TYPE_Q5_0);
    EXPECT_EQ(t["blk.2.attn_q.weight"], LB_TYPE_Q4_0);

    o = run_cli({"quantize", "--pure", testdata::stories_path(), dir.file("b.gguf"), "q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_EQ(types_of(dir.file("b.gguf"))["output.weight"], LB_TYPE_Q4_0); // no mixture: not Q6_K/Q8_0

    o = run_cli({"quantize", "--leave-output-tensor", testdata::stories_path(), dir.file("c.gguf"), "q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_EQ(types_of(dir.file("c.gguf"))["output.weight"], LB_TYPE_F32);

    o = run_cli({"quantize", "--output-tensor-type", "f16", "--token-embedding-type", "q8_0",
                 testdata::stories_path(), dir.file("d.gguf"), "q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    t = types_of(dir.file("d.gguf"));
    EXPECT_EQ(t["output.weight"], LB_TYPE_F16);
    EXPECT_EQ(t["token_embd.weight"], LB_TYPE_Q8_0);
}

TEST(QuantizeOptions, TensorTypeFile) {
    testdata::TempDir dir;
    const std::string spec = "attn_k=q8_0\n  blk\\.4\\.attn_q=q5_1 \n";
    testdata::write_file(dir.file("types.txt"), std::vector<uint8_t>(spec.begin(), spec.end()));
    const auto o = run_cli({"quantize", "--tensor-type-file", dir.file("types.txt"), testdata::stories_path(),
                            dir.file("a.gguf"), "Q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    const auto t = types_of(dir.file("a.gguf"));
    EXPECT_EQ(t.at("blk.0.attn_k.weight"), LB_TYPE_Q8_0);
    EXPECT_EQ(t.at("blk.4.attn_q.weight"), LB_TYPE_Q5_1);
    EXPECT_EQ(t.at("blk.3.attn_q.weight"), LB_TYPE_Q4_0);
}

TEST(QuantizeOptions, PruneLayersAndOverrideKv) {
    testdata::TempDir dir;
    const auto o = run_cli({"quantize", "--prune-layers", "1,3", "--override-kv", "general.name=str:pruned",
                            "--override-kv", "llama.context_length=int:-512", testdata::stories_path(),
                            dir.file("p.gguf"), "Q8_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    const auto t = types_of(dir.file("p.gguf"));
    EXPECT_EQ(t.size(), 48u - 2 * 9);
    EXPECT_TRUE(t.count("blk.2.attn_q.weight")); // old layer 4
    EXPECT_FALSE(t.count("blk.3.attn_q.weight"));
    EXPECT_EQ(uint_key(dir.file("p.gguf"), "llama.block_count"), 3u);
    EXPECT_EQ(string_key(dir.file("p.gguf"), "general.name"), "pruned");
    EXPECT_EQ(uint_key(dir.file("p.gguf"), "llama.context_length"), 512u); // llama.cpp stores |int| as u32
}

TEST(QuantizeOptions, CopyAndKeepSplit) {
    testdata::TempDir dir;
    auto o = run_cli({"quantize", testdata::stories_path(), dir.file("copy.gguf"), "COPY"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    for (const auto &[name, type] : types_of(dir.file("copy.gguf"))) EXPECT_EQ(type, LB_TYPE_F32) << name;
    o = run_cli({"quantize", "--keep-split", testdata::stories_path(), dir.file("kept.gguf"), "Q8_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(testdata::file_exists(dir.file("kept-00001-of-00001.gguf"))); // llama-quantize's naming
}

TEST(QuantizeOptions, BadValuesAreClearErrors) {
    testdata::TempDir dir;
    const std::string in = testdata::stories_path(), out = dir.file("x.gguf");
    struct Case {
        std::vector<std::string> args;
        const char *message;
    } cases[] = {
        {{"quantize", "--tensor-type", "attn_v(=q8_0", in, out, "Q4_0"}, "not a valid regular expression"},
        {{"quantize", "--tensor-type", "attn_v=q9_9", in, out, "Q4_0"},
         "'q9_9' in 'attn_v=q9_9' is not a tensor type"},
        {{"quantize", "--tensor-type", "attn_v", in, out, "Q4_0"}, "is not REGEX=TYPE"},
        {{"quantize", "--output-tensor-type", "q4_k", in, out, "Q4_0"}, "multiple of 256"},
        {{"quantize", "--output-tensor-type", "q8_k", in, out, "Q4_0"}, "cannot produce type Q8_K"},
        {{"quantize", "--token-embedding-type", "nope", in, out, "Q4_0"}, "'nope' is not a tensor type"},
        {{"quantize", "--prune-layers", "1,x", in, out, "Q4_0"}, "'x' is not a layer number"},
        {{"quantize", "--override-kv", "general.name=string:x", in, out, "Q4_0"}, "int, float, bool or str"},
        {{"quantize", "--override-kv", "general.flag=bool:yes", in, out, "Q4_0"}, "true or false"},
        {{"quantize", "--include-weights", "a", "--exclude-weights", "b", in, out, "Q4_0"},
         "cannot be used together"},
        {{"quantize", "--imatrix", dir.file("missing.dat"), in, out, "Q4_0"}, "missing.dat"},
        {{"quantize", "--tensor-type-file", dir.file("none.txt"), in, out, "Q4_0"}, "none.txt"},
        {{"quantize", in, out, "Q4_K_Q"}, "unknown quantization type 'Q4_K_Q'"},
    };
    for (const Case &c : cases) {
        const auto o = run_cli(c.args);
        EXPECT_EQ(o.exit_code, 1) << c.message << ": " << o.describe();
        EXPECT_TRUE(contains(o.err, "lowbit: error:")) << o.err;
        EXPECT_TRUE(contains(o.err, c.message)) << "expected \"" << c.message << "\" in: " << o.err;
        EXPECT_TRUE(dir.entries().empty()) << c.message;
    }
}

} // namespace

namespace {

// --types: one pass, OUT_PREFIX-TYPE.gguf per type, each the file of its own
// run with the same options (here a --tensor-type override);
// the dry run plans them all; bad lists are clear errors that write nothing.
TEST(QuantizeOptions, TypesWritesEveryTypeInOnePass) {
    testdata::TempDir dir;
    const std::string in = testdata::stories_path();
    const clitest::Outcome o = run_cli({"quantize", "--tensor-type", "attn_v=q8_0", in, "--types",
                                        "q4_0,Q8_0,q4_k_m", dir.file("out.gguf"), "2"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    std::vector<std::string> written = dir.entries();
    std::sort(written.begin(), written.end());
    EXPECT_EQ(written, (std::vector<std::string>{"out-Q4_0.gguf", "out-Q4_K_M.gguf", "out-Q8_0.gguf"}));
    EXPECT_TRUE(contains(o.out, "-> " + dir.file("out-Q4_K_M.gguf") + " (Q4_K_M)")) << o.out;
    EXPECT_TRUE(contains(o.out, "(the one pass for all types)")) << o.out;
    EXPECT_TRUE(contains(o.err, "Q4_0: ")) << "notices name their output: " << o.err;
    for (const char *t : {"Q4_0", "Q8_0", "Q4_K_M"}) {
        const std::string single = dir.file(std::string("single-") + t + ".gguf");
        const clitest::Outcome s = run_cli({"quantize", "--tensor-type", "attn_v=q8_0", in, single, t});
        ASSERT_EQ(s.exit_code, 0) << s.describe();
        EXPECT_EQ(testdata::read_file(dir.file(std::string("out-") + t + ".gguf")),
                  testdata::read_file(single))
            << t;
    }
    EXPECT_EQ(types_of(dir.file("out-Q4_0.gguf"))["blk.0.attn_v.weight"], LB_TYPE_Q8_0);

    const clitest::Outcome dry =
        run_cli({"quantize", "--dry-run", in, "--types", "Q4_0,Q8_0", dir.file("dry")});
    ASSERT_EQ(dry.exit_code, 0) << dry.describe();
    EXPECT_TRUE(contains(dry.out, "dry run of " + in + " as Q4_0")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "dry run of " + in + " as Q8_0")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "Q8_0")) << dry.out;

    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--types", "Q4_0,q4_0"}, "Q4_0 is given twice"},
        {{"--types", "Q4_0,COPY"}, "COPY cannot be combined"},
        {{"--types", "Q4_0,,Q8_0"}, "has an empty type"},
        {{"--types", "Q4_0,Q9_9"}, "unknown quantization type 'Q9_9'"},
        {{"--types"}, "--types needs a list"},
    };
    for (const auto &[args, message] : bad) {
        std::vector<std::string> full = {"quantize", in};
        full.insert(full.end(), args.begin(), args.end());
        if (args.size() > 1) full.push_back(dir.file("bad"));
        const clitest::Outcome b = run_cli(full);
        EXPECT_NE(b.exit_code, 0) << message;
        EXPECT_TRUE(contains(b.err, message)) << b.err;
    }
    const clitest::Outcome extra = run_cli({"quantize", in, "--types", "Q4_0", dir.file("p"), "4", "x"});
    EXPECT_NE(extra.exit_code, 0);
    EXPECT_TRUE(contains(extra.err, "expected IN --types")) << extra.err;
    const clitest::Outcome threads = run_cli({"quantize", in, "--types", "Q4_0", dir.file("p"), "four"});
    EXPECT_NE(threads.exit_code, 0);
    EXPECT_TRUE(contains(threads.err, "NTHREADS 'four' is not a number")) << threads.err;
    EXPECT_EQ(dir.entries().size(), 6u) << "nothing but the six files above";
}

} // namespace
