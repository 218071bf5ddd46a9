// `lowbit synth`: writes a model (and its imatrix) with the requested shape,
// prints a summary, is deterministic for a seed, and rejects bad flags and
// values with a clear error and exit status 1.
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using clitest::run_cli;

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

TEST(SynthCommand, WritesTheRequestedModelAndImatrix) {
    testdata::TempDir dir;
    const std::string out = dir.file("m.gguf"), im = dir.file("m.imatrix.gguf");
    const clitest::Outcome o =
        run_cli({"synth", "--layers", "3", "--embd", "64", "--heads", "4", "--kv-heads", "1", "--ff", "172",
                 "--type", "bf16", "--seed", "9", "--imatrix", im, out});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(
        contains(o.out, "3 layers, embd 64, 4 heads (1 kv), ff 172, vocab 259, untied output, BF16, seed 9"))
        << o.out;
    // 2 * 64 * 259 + 64 + 3 * (64 * 64 * 2 + 64 * 16 * 2 + 64 * 172 * 3 + 64 * 2)
    EXPECT_TRUE(contains(o.out, "parameters:  163392 (163.4K) in 30 tensors")) << o.out;
    EXPECT_TRUE(contains(o.out, "imatrix:     " + im)) << o.out;
    EXPECT_TRUE(o.err.empty()) << o.err; // no progress bar without a terminal

    const clitest::Outcome info = run_cli({"info", out});
    ASSERT_EQ(info.exit_code, 0) << info.describe();
    EXPECT_TRUE(contains(info.out, "tensors:   30, 163392 weights")) << info.out;
    EXPECT_TRUE(contains(info.out, "blk.2.ffn_down.weight")) << info.out;
    EXPECT_TRUE(contains(info.out, "172 x 64")) << info.out;
    EXPECT_TRUE(contains(info.out, "BF16")) << info.out;
    const clitest::Outcome iminfo = run_cli({"info", im});
    ASSERT_EQ(iminfo.exit_code, 0) << iminfo.describe();
    EXPECT_TRUE(contains(iminfo.out, "\"imatrix\"")) << iminfo.out;
    EXPECT_TRUE(contains(iminfo.out, "tensors:   46,")) << iminfo.out; // 23 weights

    // Same options, same bytes; flag order does not matter.
    const clitest::Outcome again =
        run_cli({"synth", dir.file("n.gguf"), "--seed", "9", "--type", "BF16", "--ff", "172", "--kv-heads",
                 "1", "--heads", "4", "--embd", "64", "--layers", "3"});
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(testdata::read_file(dir.file("n.gguf")), testdata::read_file(out));
}

TEST(SynthCommand, TiedOutputAndCopiedTokenizer) {
    testdata::TempDir dir;
    const std::string out = dir.file("m.gguf");
    const clitest::Outcome o =
        run_cli({"synth", "--layers", "1", "--embd", "64", "--heads", "4", "--kv-heads", "2", "--ff", "128",
                 "--tied", "--tokenizer-from", testdata::stories_path(), out});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(contains(o.out, "vocab 512, tied output, F16")) << o.out;
    const clitest::Outcome info = run_cli({"info", out});
    EXPECT_TRUE(contains(info.out, "(512 items)")) << info.out;
    EXPECT_TRUE(contains(info.out, "tokenizer.ggml.padding_token_id")) << info.out;
    EXPECT_FALSE(contains(info.out, "  output.weight")) << info.out;
}

TEST(SynthCommand, SafetensorsCheckpointTokenizesAndRunsAsTheGguf) {
    testdata::TempDir dir;
    const std::string ckpt = dir.file("ckpt"), gguf = dir.file("m.gguf");
    const clitest::Outcome o =
        run_cli({"synth", "--format", "safetensors", "--arch", "qwen3", "--seed", "5", ckpt});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(contains(o.out, "qwen3 Hugging Face checkpoint, 2 layers")) << o.out;
    ASSERT_EQ(run_cli({"synth", "--arch", "qwen3", "--seed", "5", gguf}).exit_code, 0);
    // the built-in vocabulary, as tokenizer.json, converts to a vocabulary that tokenizes alike
    const std::string text = "Once upon a time, 42 caf\xc3\xa9s.";
    const clitest::Outcome a = run_cli({"tokenize", ckpt, text}), b = run_cli({"tokenize", gguf, text});
    ASSERT_EQ(a.exit_code, 0) << a.describe();
    ASSERT_EQ(b.exit_code, 0) << b.describe();
    EXPECT_EQ(a.out, b.out);
    const clitest::Outcome g1 = run_cli({"generate", ckpt, "-p", "Once", "-n", "6"});
    const clitest::Outcome g2 = run_cli({"generate", gguf, "-p", "Once", "-n", "6"});
    ASSERT_EQ(g1.exit_code, 0) << g1.describe();
    EXPECT_EQ(g1.out, g2.out);
    // refused: a copied tokenizer, an unknown format, a folder that is not empty
    EXPECT_EQ(
        run_cli({"synth", "--format", "safetensors", "--tokenizer-from", gguf, dir.file("x")}).exit_code, 1);
    const clitest::Outcome bad = run_cli({"synth", "--format", "npz", dir.file("y")});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(contains(bad.err, "--format")) << bad.err;
    const clitest::Outcome full = run_cli({"synth", "--format", "safetensors", ckpt});
    EXPECT_EQ(full.exit_code, 1);
    EXPECT_TRUE(contains(full.err, ckpt + ": exists and is not an empty folder")) << full.err;
}

TEST(SynthCommand, HelpAndUsageErrors) {
    const clitest::Outcome help = run_cli({"synth", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_TRUE(contains(help.out, "usage: lowbit synth")) << help.out;
    EXPECT_TRUE(contains(help.out, "--preset 1b")) << help.out;
    const clitest::Outcome top = run_cli({"--help"});
    EXPECT_TRUE(contains(top.out, "synth [options] OUT")) << top.out;

    testdata::TempDir dir;
    const std::string out = dir.file("m.gguf");
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"synth"}, "expected an output file"},
        {{"synth", "--layers", "two", out}, "--layers 'two' is not a positive number"},
        {{"synth", "--layers", "0", out}, "--layers '0' is not a positive number"},
        {{"synth", "--embd", "-5", out}, "--embd '-5' is not a positive number"},
        {{"synth", "--ff", "99999999999", out}, "--ff '99999999999' is not a positive number"},
        {{"synth", out, "--heads"}, "--heads needs a number"},
        {{"synth", "--type", "Q4_0", out}, "--type 'Q4_0' is not F32, F16 or BF16"},
        {{"synth", "--type", "F17", out}, "--type 'F17' is not F32, F16 or BF16"},
        {{"synth", "--seed", "x", out}, "--seed 'x' is not a number"},
        {{"synth", "--preset", "7b", out}, "unknown preset '7b'"},
        {{"synth", "--frobnicate", out}, "unknown option '--frobnicate'"},
        {{"synth", out, dir.file("other.gguf")}, "more than one output file"},
        {{"synth", "--imatrix", out, out}, "--imatrix names the model's output file"},
        // values the library rejects: the message names the field
        {{"synth", "--heads", "3", out}, "n_embd (256) is not a multiple of n_head (3)"},
        {{"synth", "--kv-heads", "3", out}, "n_head (8) is not a multiple of n_head_kv (3)"},
        {{"synth", "--layers", "100000", out}, "n_layer is 100000"},
        {{"synth", "--tokenizer-from", dir.file("missing.gguf"), out}, "missing.gguf"},
        {{"synth", dir.path()}, "is a folder"},
    };
    for (const Case &c : cases) {
        const clitest::Outcome o = run_cli(c.args);
        EXPECT_EQ(o.exit_code, 1) << c.message << ": " << o.describe();
        EXPECT_TRUE(contains(o.err, "lowbit: error: ")) << o.err;
        EXPECT_TRUE(contains(o.err, c.message)) << c.message << ": " << o.err;
    }
    EXPECT_TRUE(dir.entries().empty());
}

} // namespace
