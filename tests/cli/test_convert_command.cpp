// lowbit convert: a Hugging Face checkpoint folder to GGUF from the command
// line, the output quantized and run by the other commands, and bad input
// (a one-line error naming the file or flag, nothing written).
#include "archive_writer.hpp"
#include "cli_checks.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

using clitest::contains;
using clitest::failed_naming;

const std::string kCheckpoint = testdata::shared_data_path("tinystories-656k");

TEST(ConvertCommand, ConvertsAndTheResultQuantizesAndRuns) {
    testdata::TempDir dir;
    const std::string f16 = dir.file("ts-f16.gguf"), q8 = dir.file("ts-q8_0.gguf");
    const Outcome r = run_cli({"convert", kCheckpoint, f16});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "wrote " + f16 + " (F16)")) << r.out;
    const Outcome info = run_cli({"info", f16});
    ASSERT_EQ(info.exit_code, 0) << info.describe();
    EXPECT_TRUE(contains(info.out, "general.architecture                         str       \"llama\""))
        << info.out;
    EXPECT_TRUE(contains(info.out, "blk.1.ffn_down.weight")) << info.out;
    EXPECT_TRUE(contains(info.out, "F16      384 x 128")) << info.out;
    const Outcome q = run_cli({"quantize", f16, q8, "Q8_0"}, 60);
    ASSERT_EQ(q.exit_code, 0) << q.describe();
    const Outcome gen = run_cli({"generate", q8, "-p", "Once upon a time", "-n", "8"});
    ASSERT_EQ(gen.exit_code, 0) << gen.describe();
    EXPECT_GT(gen.out.size(), std::string("Once upon a time").size()) << gen.out;
    // the other output types
    for (const char *t : {"f32", "bf16", "q8_0"}) {
        const Outcome o =
            run_cli({"convert", kCheckpoint, dir.file(std::string("ts-") + t + ".gguf"), "--outtype", t});
        EXPECT_EQ(o.exit_code, 0) << t << ": " << o.describe();
    }
}

TEST(ConvertCommand, QuantizePerplexityAndInfoTakeTheFolder) {
    testdata::TempDir dir;
    const Outcome q = run_cli({"quantize", kCheckpoint, dir.file("q8_0.gguf"), "Q8_0"}, 60);
    ASSERT_EQ(q.exit_code, 0) << q.describe();
    const std::string t = testdata::validation_text(20000);
    testdata::write_file(dir.file("text.txt"), std::vector<uint8_t>(t.begin(), t.end()));
    const Outcome ppl =
        run_cli({"perplexity", kCheckpoint, "-f", dir.file("text.txt"), "--ctx", "256", "--json"});
    ASSERT_EQ(ppl.exit_code, 0) << ppl.describe();
    EXPECT_TRUE(contains(ppl.out, "\"perplexity\": 29.1")) << ppl.out; // PROVENANCE: 29.160
    const Outcome info = run_cli({"info", kCheckpoint});
    ASSERT_EQ(info.exit_code, 0) << info.describe();
    EXPECT_TRUE(contains(info.out, "blk.0.attn_q.weight")) << info.out;
    EXPECT_TRUE(contains(info.out, "format:    Hugging Face checkpoint, 1 safetensors file(s)")) << info.out;
}

TEST(ConvertCommand, ArchivesConvertAndBadOnesWriteNothing) {
    testdata::TempDir dir;
    const std::string packed = dir.file("ts.tar.gz"), out = dir.file("out.gguf");
    ASSERT_TRUE(testarchive::write_archive(packed, testarchive::Packing::TarGz,
                                           testarchive::folder_members(kCheckpoint, "tinystories-656k")));
    const Outcome r = run_cli({"convert", packed, out, "--outtype", "q8_0"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const Outcome info = run_cli({"info", out});
    EXPECT_TRUE(
        contains(info.out, "general.name                                 str       \"tinystories-656k\""))
        << info.out;
    // a link in the archive: refused naming the member, no output
    std::vector<testarchive::Member> members = testarchive::folder_members(kCheckpoint, "");
    members.push_back({"tokenizer.model", {}, testarchive::Kind::Symlink, "/etc/passwd"});
    const std::string evil = dir.file("evil.zip"), evil_out = dir.file("evil.gguf");
    ASSERT_TRUE(testarchive::write_archive(evil, testarchive::Packing::Zip, members));
    EXPECT_TRUE(failed_naming(run_cli({"convert", evil, evil_out}), {evil + ":tokenizer.model", "link"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"quantize", evil, evil_out, "Q8_0"}), {evil + ":tokenizer.model", "link"}));
    EXPECT_FALSE(std::filesystem::exists(evil_out));
    // cut short
    std::vector<uint8_t> bytes = testdata::read_file(packed);
    bytes.resize(bytes.size() / 2);
    const std::string cut = dir.file("cut.tar.gz");
    testdata::write_file(cut, bytes);
    EXPECT_TRUE(failed_naming(run_cli({"convert", cut, evil_out}), {cut}));
    EXPECT_FALSE(std::filesystem::exists(evil_out));
}

TEST(ConvertCommand, BadInputNamesTheFileOrFlag) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    EXPECT_TRUE(failed_naming(run_cli({"convert", kCheckpoint}), {"SRC and OUT.gguf"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"convert", kCheckpoint, out, "--outtype", "q4_0"}), {"--outtype", "q4_0"}));
    EXPECT_TRUE(failed_naming(run_cli({"convert", kCheckpoint, out, "--frobnicate"}), {"--frobnicate"}));
    EXPECT_TRUE(failed_naming(run_cli({"convert", dir.file("none"), out}), {"none"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"convert", kCheckpoint, dir.file("missing/out.gguf")}), {"missing/out.gguf"}));
    EXPECT_FALSE(std::filesystem::exists(out));
}

} // namespace
