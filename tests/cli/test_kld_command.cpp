// lowbit kld: the report in text and JSON, one step against two steps
// (--save-base, --base-logits), and bad input (each a one-line error naming the file or flag, no file left).
#include "cli_checks.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

using clitest::contains;
using clitest::failed_naming;

struct Files {
    testdata::TempDir dir;
    std::string text = dir.file("text.txt"), quant = dir.file("q4_0.gguf");
    Files() {
        const std::string t = testdata::validation_text(20000);
        testdata::write_file(text, std::vector<uint8_t>(t.begin(), t.end()));
        testdata::quantize_with_lowbit(testdata::stories_path(), quant, LB_FTYPE_Q4_0);
    }
};

// The JSON object's figures (everything after "scored"), for comparison.
std::string figures(const std::string &json) {
    return json.substr(json.find("\"ppl\""), json.find("\"seconds\"") - json.find("\"ppl\""));
}

TEST(KldCommand, ReportsWhatLlamaPerplexityPrints) {
    const Files f;
    const Outcome r = run_cli({"kld", "--base", testdata::stories_path(), "--model", f.quant, "-f", f.text,
                               "--ctx", "256", "--threads", "2"},
                              60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    for (const char *row : {"Mean PPL(Q)",
                            "Mean PPL(base)",
                            "Cor(ln(PPL(Q)), ln(PPL(base)))",
                            "Mean ln(PPL(Q)/PPL(base))",
                            "Mean PPL(Q)/PPL(base)",
                            "Mean PPL(Q)-PPL(base)",
                            "Mean    KLD",
                            "Maximum KLD",
                            "99.9%   KLD",
                            "99.0%   KLD",
                            "95.0%   KLD",
                            "90.0%   KLD",
                            "Median  KLD",
                            "10.0%   KLD",
                            " 5.0%   KLD",
                            " 1.0%   KLD",
                            " 0.1%   KLD",
                            "Minimum KLD",
                            "Mean    dp",
                            "Maximum dp",
                            "Median  dp",
                            "Minimum dp",
                            "RMS dp",
                            "Same top p"})
        EXPECT_TRUE(contains(r.out, row)) << row << "\n" << r.out;
    double base_ppl = 0, kld = 0, kld_err = 0;
    ASSERT_EQ(
        std::sscanf(r.out.substr(r.out.find("Mean PPL(base)")).c_str(), "Mean PPL(base) : %lf", &base_ppl),
        1);
    ASSERT_EQ(
        std::sscanf(r.out.substr(r.out.find("Mean    KLD")).c_str(), "Mean KLD: %lf +/- %lf", &kld, &kld_err),
        2);
    EXPECT_NEAR(base_ppl, 3.7783, 3.7783e-3); // PROVENANCE.md, F32
    EXPECT_GT(kld, 0.05);
    EXPECT_LT(kld, 0.1);
    EXPECT_GT(kld_err, 0.0);
    EXPECT_TRUE(contains(r.out, "37 chunks, 4699 positions scored")) << r.out;
}

TEST(KldCommand, SavedBaseGivesTheSameFigures) {
    const Files f;
    const std::string saved = f.dir.file("base.logits");
    const std::vector<std::string> common = {"--ctx", "128", "--chunks", "12", "--threads", "2", "--json"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), common.begin(), common.end());
        return run_cli(args, 60);
    };
    const Outcome one = with({"kld", "--base", testdata::stories_path(), "--model", f.quant, "-f", f.text});
    ASSERT_EQ(one.exit_code, 0) << one.describe();
    const Outcome save =
        with({"kld", "--base", testdata::stories_path(), "-f", f.text, "--save-base", saved});
    ASSERT_EQ(save.exit_code, 0) << save.describe();
    EXPECT_TRUE(save.out.empty()) << save.out;
    const Outcome two = with({"kld", "--base-logits", saved, "--model", f.quant});
    ASSERT_EQ(two.exit_code, 0) << two.describe();
    EXPECT_EQ(figures(one.out), figures(two.out));
    const Outcome both = with(
        {"kld", "--base", testdata::stories_path(), "--model", f.quant, "-f", f.text, "--save-base", saved});
    ASSERT_EQ(both.exit_code, 0) << both.describe();
    EXPECT_EQ(figures(one.out), figures(both.out));
    // valid JSON with the fields a script reads
    testdata::write_file(f.dir.file("k.json"), std::vector<uint8_t>(two.out.begin(), two.out.end()));
    const std::string check = "python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
                              "assert d['chunks']==12 and d['scored']==12*63 and d['ctx']==128; "
                              "assert 0 < d['kld']['value'] < 1 and d['kld']['uncertainty'] > 0; "
                              "q=d['kld_quantiles']; assert q['min'] <= q['median'] <= q['99%'] <= q['max']; "
                              "assert 0 < d['same_top']['value'] < 1 and d['ppl_base']['value'] > 1\" " +
                              f.dir.file("k.json");
    EXPECT_EQ(std::system(check.c_str()), 0) << two.out;
}

TEST(KldCommand, BadInput) {
    const Files f;
    const std::string saved = f.dir.file("base.logits"), base = testdata::stories_path();
    ASSERT_EQ(
        run_cli({"kld", "--base", base, "-f", f.text, "--ctx", "128", "--save-base", saved}, 60).exit_code,
        0);
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base-logits", saved, "--model", f.quant, "-f", f.text}),
                              {"--base-logits"}));
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base-logits", saved}), {"--model"}));
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--model", f.quant, "-f", f.text}), {"--base"}));
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base", base, "-f", f.text}), {"--model or --save-base"}));
    EXPECT_TRUE(failed_naming(
        run_cli({"kld", "--base", base, "--model", f.quant, "-f", f.text, "--ctx", "1"}), {"--ctx"}));
    EXPECT_TRUE(failed_naming(
        run_cli({"kld", "--base", base, "--model", f.quant, "-f", f.dir.file("none.txt")}), {"none.txt"}));
    // empty text
    testdata::write_file(f.dir.file("empty.txt"), {});
    EXPECT_TRUE(
        failed_naming(run_cli({"kld", "--base", base, "--model", f.quant, "-f", f.dir.file("empty.txt")}),
                      {"tokens long"}));
    // a truncated base file, and one that is not a base file at all
    const std::vector<uint8_t> good = testdata::read_file(saved);
    testdata::write_file(
        f.dir.file("cut.logits"),
        std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base-logits", f.dir.file("cut.logits"), "--model", f.quant}),
                              {"cut.logits", "truncated"}));
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base-logits", f.quant, "--model", f.quant}),
                              {"q4_0.gguf", "not a lowbit base-logits file"}));
    // a model of another vocabulary
    const std::string other = f.dir.file("other.gguf");
    ASSERT_EQ(run_cli({"synth", other}).exit_code, 0);
    EXPECT_TRUE(
        failed_naming(run_cli({"kld", "--base-logits", saved, "--model", other}), {"another vocabulary"}));
    EXPECT_TRUE(failed_naming(
        run_cli({"kld", "--base", base, "--model", other, "-f", f.text, "--ctx", "128"}), {"vocabulary"}));
    // --save-base into a folder that does not exist: an error naming it, nothing written
    EXPECT_TRUE(failed_naming(run_cli({"kld", "--base", base, "-f", f.text, "--ctx", "128", "--save-base",
                                       f.dir.file("no/x.logits")}),
                              {"no/x.logits"}));
    EXPECT_EQ(f.dir.entries().size(), 6u) << "text, q4_0, base.logits, empty, cut, other: nothing else";
}

} // namespace
