// lowbit kld's memory stays O(ctx x vocab), never O(text x vocab): peak RSS
// (the child's ru_maxrss) over a text many contexts long. An end-to-end run
// of seconds, and RSS means nothing under AddressSanitizer: not part of the
// sanitizer build's tests (label "slow").
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

// Memory O(ctx x vocab): scoring 12 times as many chunks costs no more than a
// few hundred KiB (the per-position figures), where keeping the base's
// distributions would cost 63 x 512 x 4 bytes per chunk (14 MB here).
TEST(KldMemory, DoesNotGrowWithTheText) {
    const testdata::TempDir dir;
    const std::string text = dir.file("long.txt"), quant = dir.file("q8_0.gguf"),
                      saved = dir.file("base.logits");
    const std::string t = testdata::validation_text(40000);
    testdata::write_file(text, std::vector<uint8_t>(t.begin(), t.end()));
    testdata::quantize_with_lowbit(testdata::stories_path(), quant, LB_FTYPE_Q8_0);
    auto rss = [&](const char *chunks, bool from_file) {
        std::vector<std::string> args = {"kld",       "--ctx", "256",     "--chunks", chunks,
                                         "--threads", "2",     "--model", quant};
        if (from_file) {
            args.insert(args.end(), {"--base-logits", saved});
        } else {
            args.insert(args.end(), {"--base", testdata::stories_path(), "-f", text});
        }
        const Outcome r = run_cli(args, 120);
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        return r.peak_rss_kib;
    };
    const Outcome save = run_cli({"kld", "--base", testdata::stories_path(), "-f", text, "--ctx", "256",
                                  "--chunks", "200", "--save-base", saved},
                                 120);
    ASSERT_EQ(save.exit_code, 0) << save.describe();
    for (bool from_file : {false, true}) {
        const long few = rss("10", from_file), many = rss("120", from_file);
        std::printf("%s: peak RSS %ld KiB for 10 chunks, %ld KiB for 120\n",
                    from_file ? "from the file" : "one step", few, many);
        EXPECT_GT(few, 0);
        EXPECT_LT(many - few, 3 * 1024) << (from_file ? "from the file" : "one step");
    }
}

} // namespace
