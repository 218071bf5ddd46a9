// lowbit repack and lowbit quantize to a tiled type (Q8R16, Q4_K_4): the
// tiled file converts back to the standard file byte for byte, every matrix
// the layout applies to is tiled and nothing else, a session evaluates it to
// the standard file's figures, and bad input fails cleanly with no output.
#include "cli_checks.hpp"
#include "gguf_builder.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using clitest::contains;
using clitest::failed_naming;
using clitest::Outcome;
using clitest::run_cli;

std::vector<char> bytes_of(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct TensorRow {
    std::string type;
    long long rows = 1; // the second dimension of `lowbit info`'s shape ("256 x 512")
};

// The type and row count `lowbit info` shows for every weight tensor.
std::map<std::string, TensorRow> tensor_types(const std::string &path) {
    const Outcome r = run_cli({"info", path});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    std::map<std::string, TensorRow> types;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string index, name, type, width, x;
        TensorRow t;
        if (words >> index >> name >> t.type >> width >> x && name.find(".weight") != std::string::npos &&
            index.find_first_not_of("0123456789") == std::string::npos) {
            if (x == "x") words >> t.rows;
            types[name] = t;
        }
    }
    return types;
}

// A synthetic llama with 256-wide rows: its block matrices have a multiple of
// 16 rows, output.weight (259 rows, the byte vocabulary) does not.
std::string synth_f16(const testdata::TempDir &dir) {
    const std::string path = dir.file("f16.gguf");
    const Outcome r = run_cli(
        {"synth", "--layers", "2", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2", path},
        60);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return path;
}

TEST(RepackCommand, TiledFilesConvertBackByteForByte) {
    testdata::TempDir dir;
    const std::string f16 = synth_f16(dir);
    struct Case {
        const char *tiled, *standard, *layout, *tiled_type, *base_type;
        long long group;
    };
    for (const Case &c : {Case{"Q8R16", "Q8_0", "q8r16", "Q8R16", "Q8_0", 16},
                          Case{"Q4_K_4", "Q4_K_M", "q4_k_4", "Q4_K_4", "Q4_K", 4}}) {
        SCOPED_TRACE(c.tiled);
        const std::string tiled = dir.file(std::string(c.tiled) + ".gguf"),
                          standard = dir.file(std::string(c.standard) + ".gguf"),
                          back = dir.file(std::string(c.tiled) + "-back.gguf");
        Outcome r = run_cli({"quantize", f16, tiled, c.tiled}, 60);
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        r = run_cli({"quantize", f16, standard, c.standard}, 60);
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        // every matrix of the base type with whole groups of rows is tiled;
        // token_embd.weight and the rest are not
        const std::map<std::string, TensorRow> ts = tensor_types(tiled), ss = tensor_types(standard);
        ASSERT_EQ(ts.size(), ss.size());
        size_t n_tiled = 0, n_left = 0;
        for (const auto &[name, t] : ss) {
            const bool base = t.type == c.base_type && name != "token_embd.weight";
            const bool want = base && t.rows % c.group == 0;
            EXPECT_EQ(ts.at(name).type, want ? c.tiled_type : t.type) << name;
            n_tiled += want;
            n_left += base && !want;
        }
        EXPECT_GT(n_tiled, 0u);
        if (c.group == 16) {
            EXPECT_GT(n_left, 0u) << "output.weight's 259 rows are not whole groups of 16";
        }
        const Outcome info = run_cli({"info", tiled});
        EXPECT_TRUE(contains(info.out, std::string("lowbit.layout") +
                                           "                                str       \"" + c.layout + "\""))
            << info.out;
        // back to standard: the standard run's file, byte for byte
        r = run_cli({"repack", tiled, back, "--to", "standard"});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_TRUE(bytes_of(back) == bytes_of(standard));
        // and the tiled file again from the standard one
        r = run_cli({"repack", standard, back, "--to", c.layout});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_TRUE(bytes_of(back) == bytes_of(tiled));
        // a session gives the tiled file the standard one's figures
        const std::string text = testdata::source_path("tests/data/tinystories_val.txt");
        const Outcome pt = run_cli({"perplexity", tiled, "-f", text, "-c", "64", "--chunks", "2"}, 60);
        const Outcome ps = run_cli({"perplexity", standard, "-f", text, "-c", "64", "--chunks", "2"}, 60);
        ASSERT_EQ(pt.exit_code, 0) << pt.describe();
        ASSERT_EQ(ps.exit_code, 0) << ps.describe();
        const size_t at_t = pt.out.rfind("PPL"), at_s = ps.out.rfind("PPL");
        ASSERT_NE(at_t, std::string::npos) << pt.out;
        ASSERT_NE(at_s, std::string::npos) << ps.out;
        EXPECT_EQ(pt.out.substr(at_t, pt.out.find('\n', at_t) - at_t),
                  ps.out.substr(at_s, ps.out.find('\n', at_s) - at_s));
    }
}

TEST(RepackCommand, BadInputFailsCleanlyAndWritesNothing) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    EXPECT_TRUE(
        failed_naming(run_cli({"repack", testdata::stories_path(), out, "--to", "q9"}), {"--to", "q9"}));
    EXPECT_TRUE(failed_naming(run_cli({"repack", testdata::stories_path(), out}), {"--to"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"repack", dir.file("missing.gguf"), out, "--to", "q8r16"}), {"missing.gguf"}));
    EXPECT_FALSE(std::filesystem::exists(out));
    // a tiled tensor whose rows are not a whole number of groups
    gguf_builder::Model m;
    m.kvs = {{.key = "general.architecture", .value = gguf_builder::string_value("llama")}};
    m.tensors = {
        {.name = "blk.0.attn_q.weight", .ne = {32, 3}, .type = 1025, .data = std::vector<uint8_t>(3 * 34)}};
    const std::string bad = dir.file("bad.gguf");
    testdata::write_file(bad, m.build());
    EXPECT_TRUE(failed_naming(run_cli({"repack", bad, out, "--to", "standard"}),
                              {"bad.gguf", "blk.0.attn_q.weight", "Q8R16", "multiple of 16 rows"}));
    EXPECT_FALSE(std::filesystem::exists(out));
}

} // namespace
