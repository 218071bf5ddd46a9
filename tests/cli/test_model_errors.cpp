// Models whose GGUF is valid but whose content cannot be quantized as
// llama.cpp would (metadata it requires, tensors that name no layer), and
// split sets that do not fit together. `lowbit info` shows what it can (a
// broken split set is refused outright); `lowbit quantize` fails with one line
// naming the file and the key, tensor or shard, and leaves nothing.
#include "gguf_builder.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace gguf_builder;
using clitest::Outcome;
using clitest::run_cli;

constexpr const char *kArch = "general.architecture";
constexpr const char *kBlocks = "llama.block_count";

Model valid_model() {
    Model m;
    m.kvs = {{.key = kArch, .value = string_value("llama")}, {.key = kBlocks, .value = u32_value(1)}};
    m.tensors = {
        {.name = "blk.0.attn_q.weight", .ne = {32, 2}, .type = 0, .data = f32_data(64)},
        {.name = "blk.0.ffn_down.weight", .ne = {32, 2}, .type = 0, .data = f32_data(64)},
        {.name = "output_norm.weight", .ne = {32}, .type = 0, .data = f32_data(32)},
    };
    return m;
}

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

::testing::AssertionResult failed_cleanly(const Outcome &r, const std::string &file,
                                          const std::vector<std::string> &fragments) {
    if (r.timed_out || r.signaled || r.exit_code != 1)
        return ::testing::AssertionFailure() << "not a clean failure: " << r.describe();
    if (r.err.rfind("lowbit: error:", 0) != 0 || std::count(r.err.begin(), r.err.end(), '\n') != 1)
        return ::testing::AssertionFailure() << "not one error line: " << r.describe();
    if (!contains(r.err, file))
        return ::testing::AssertionFailure() << "does not name " << file << ": " << r.err;
    for (const std::string &f : fragments)
        if (!contains(r.err, f))
            return ::testing::AssertionFailure() << "does not mention '" << f << "': " << r.err;
    return ::testing::AssertionSuccess();
}

// --- Metadata and tensor names ----------------------------------------------

struct MetaCase {
    std::string name;
    std::function<void(Model &)> edit;
    std::vector<std::string> fragments;
};

void PrintTo(const MetaCase &c, std::ostream *os) {
    *os << c.name;
}

std::vector<MetaCase> meta_cases() {
    auto drop = [](Model &m, const std::string &key) {
        std::erase_if(m.kvs, [&](const KeyValue &k) { return k.key == key; });
    };
    return {
        {"NoArchitecture", [=](Model &m) { drop(m, kArch); }, {"general.architecture"}},
        {"ArchitectureNotAString",
         [](Model &m) { m.kv(kArch).value = u32_value(1); },
         {"general.architecture"}},
        {"EmptyArchitecture",
         [](Model &m) { m.kv(kArch).value = string_value(""); },
         {"general.architecture"}},
        {"BlockCountMissing", [=](Model &m) { drop(m, kBlocks); }, {kBlocks, "missing"}},
        {"BlockCountAString",
         [](Model &m) { m.kv(kBlocks).value = string_value("1"); },
         {kBlocks, "unsigned"}},
        {"BlockCountNegative",
         [](Model &m) { m.kv(kBlocks).value = Bytes().u32(kI32).u32(0xffffffffu); },
         {kBlocks, "unsigned"}},
        {"BlockCountHuge",
         [](Model &m) { m.kv(kBlocks).value = u32_value(4294967295u); },
         {kBlocks, "at most 512"}},
        {"BlockCount513", [](Model &m) { m.kv(kBlocks).value = u32_value(513); }, {kBlocks, "at most 512"}},
        {"TensorInALayerBeyondTheCount",
         [](Model &m) { m.tensors[1].name = "blk.3.ffn_down.weight"; },
         {"blk.3.ffn_down.weight", "layer 3", kBlocks}},
        {"TensorNamesNoLayer",
         [](Model &m) { m.tensors[1].name = "blk.x.ffn_down.weight"; },
         {"blk.x.ffn_down.weight", "names no layer"}},
    };
}

class ModelMetadata : public ::testing::TestWithParam<MetaCase> {};

TEST_P(ModelMetadata, InfoShowsItQuantizeRefusesIt) {
    const MetaCase &c = GetParam();
    testdata::TempDir in_dir, out_dir;
    const std::string input = in_dir.file("model.gguf"), out = out_dir.file("out.gguf");
    Model m = valid_model();
    c.edit(m);
    testdata::write_file(input, m.build());
    const Outcome info = run_cli({"info", input});
    EXPECT_EQ(info.exit_code, 0) << info.describe();
    const std::vector<uint8_t> previous{'o', 'l', 'd'};
    testdata::write_file(out, previous);
    for (const char *type : {"Q8_0", "Q4_K_M", "COPY"}) {
        EXPECT_TRUE(failed_cleanly(run_cli({"quantize", input, out, type}), input, c.fragments)) << type;
        EXPECT_TRUE(failed_cleanly(run_cli({"quantize", "--dry-run", input, out, type}), input, c.fragments))
            << type;
    }
    EXPECT_EQ(testdata::read_file(out), previous);
    EXPECT_EQ(out_dir.entries(), std::vector<std::string>{"out.gguf"});
}

INSTANTIATE_TEST_SUITE_P(Cases, ModelMetadata, ::testing::ValuesIn(meta_cases()),
                         [](const ::testing::TestParamInfo<MetaCase> &info) { return info.param.name; });

// The positive control: the unedited model quantizes.
TEST(ModelMetadataControl, TheValidModelQuantizes) {
    testdata::TempDir dir;
    testdata::write_file(dir.file("model.gguf"), valid_model().build());
    const Outcome r = run_cli({"quantize", dir.file("model.gguf"), dir.file("out.gguf"), "Q8_0"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
}

// --- Split sets ---------------------------------------------------------------

// The valid model as a 3-shard set "set-0000i-of-00003.gguf", one tensor each,
// as gguf-split writes it: split keys in every shard, the metadata in the first.
struct SplitSet {
    std::vector<Model> shards;
    uint16_t count = 3;

    SplitSet() {
        const Model whole = valid_model();
        for (uint16_t s = 0; s < count; ++s) {
            Model shard;
            if (s == 0) shard.kvs = whole.kvs;
            shard.kvs.push_back({.key = "split.no", .value = Bytes().u32(kU16).u16(s)});
            shard.kvs.push_back({.key = "split.count", .value = Bytes().u32(kU16).u16(count)});
            shard.kvs.push_back({.key = "split.tensors.count", .value = Bytes().u32(kI32).u32(3)});
            shard.tensors = {whole.tensors[s]};
            shards.push_back(shard);
        }
    }
    KeyValue &key(size_t shard, const std::string &k) { return shards[shard].kv(k); }

    static std::string name(const testdata::TempDir &dir, int index, int count = 3) {
        char tail[64];
        std::snprintf(tail, sizeof tail, "set-%05d-of-%05d.gguf", index, count);
        return dir.file(tail);
    }
    void write(const testdata::TempDir &dir) const {
        for (size_t s = 0; s < shards.size(); ++s)
            testdata::write_file(name(dir, static_cast<int>(s + 1)), shards[s].build());
    }
};

struct SplitCase {
    std::string name;
    // edits the set before it is written, then the folder after
    std::function<void(SplitSet &)> edit;
    std::function<void(const testdata::TempDir &)> after;
    int named_shard; // the shard the message names (1-based)
    std::vector<std::string> fragments;
};

void PrintTo(const SplitCase &c, std::ostream *os) {
    *os << c.name;
}

std::vector<SplitCase> split_cases() {
    auto nothing = [](SplitSet &) {};
    auto as_is = [](const testdata::TempDir &) {};
    return {
        {"MissingShard",
         nothing,
         [](const testdata::TempDir &d) { ::unlink(SplitSet::name(d, 2).c_str()); },
         2,
         {"missing"}},
        // the second shard's file holds a copy of the third
        {"DuplicatedShard",
         nothing,
         [](const testdata::TempDir &d) {
             testdata::write_file(SplitSet::name(d, 2), testdata::read_file(SplitSet::name(d, 3)));
         },
         2,
         {"not shard 2 of 3"}},
        {"ShardsOutOfOrder",
         nothing,
         [](const testdata::TempDir &d) {
             ::rename(SplitSet::name(d, 2).c_str(), SplitSet::name(d, 9).c_str());
             ::rename(SplitSet::name(d, 3).c_str(), SplitSet::name(d, 2).c_str());
             ::rename(SplitSet::name(d, 9).c_str(), SplitSet::name(d, 3).c_str());
         },
         2,
         {"not shard 2 of 3"}},
        // a shard of another split (of four)
        {"ShardOfAnotherSet",
         [](SplitSet &s) { s.key(2, "split.count").value = Bytes().u32(kU16).u16(4); },
         as_is,
         3,
         {"not shard 3 of 3"}},
        {"TensorInTwoShards",
         [](SplitSet &s) { s.shards[2].tensors.push_back(s.shards[1].tensors[0]); },
         as_is,
         3,
         {"blk.0.ffn_down.weight", "more than one shard"}},
        {"TensorCountDisagrees",
         [](SplitSet &s) { s.key(0, "split.tensors.count").value = Bytes().u32(kI32).u32(5); },
         as_is,
         1,
         {"split.tensors.count", "5"}},
        {"SplitCountTooLarge",
         [](SplitSet &s) { s.key(0, "split.count").value = Bytes().u32(kU16).u16(65535); },
         as_is,
         1,
         {"split.count", "too large"}},
        {"SplitNoNotAnInteger",
         [](SplitSet &s) { s.key(1, "split.no").value = string_value("1"); },
         as_is,
         2,
         {"split.no", "integer"}},
    };
}

class SplitSets : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitSets, InfoAndQuantizeFailNamingTheShard) {
    const SplitCase &c = GetParam();
    testdata::TempDir dir, out_dir;
    SplitSet set;
    c.edit(set);
    set.write(dir);
    c.after(dir);
    const std::string first = SplitSet::name(dir, 1), named = SplitSet::name(dir, c.named_shard);
    EXPECT_TRUE(failed_cleanly(run_cli({"info", first}), named, c.fragments));
    for (const std::vector<std::string> &extra : {std::vector<std::string>{}, {"--keep-split"}}) {
        std::vector<std::string> args{"quantize"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {first, out_dir.file("out.gguf"), "Q8_0"});
        EXPECT_TRUE(failed_cleanly(run_cli(args), named, c.fragments));
    }
    EXPECT_TRUE(out_dir.entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, SplitSets, ::testing::ValuesIn(split_cases()),
                         [](const ::testing::TestParamInfo<SplitCase> &info) { return info.param.name; });

TEST(SplitSetsControl, TheValidSetQuantizes) {
    testdata::TempDir dir;
    SplitSet().write(dir);
    const Outcome r = run_cli({"quantize", SplitSet::name(dir, 1), dir.file("out.gguf"), "Q8_0"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
}

// A later shard named on the command line: refused, pointing at the first.
TEST(SplitSetsControl, ALaterShardIsRefused) {
    testdata::TempDir dir;
    SplitSet().write(dir);
    const std::string second = SplitSet::name(dir, 2);
    EXPECT_TRUE(failed_cleanly(run_cli({"quantize", second, dir.file("out.gguf"), "Q8_0"}), second,
                               {"open the first shard"}));
}

} // namespace
