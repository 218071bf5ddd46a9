// Checkpoint sources (lib/source): a folder, or an archive of one read into
// memory with libarchive, .zst files decompressed with libzstd. The archives
// are written here with libarchive's writer; a folder's bytes are the
// oracle: every member a checkpoint reads maps to exactly the bytes packed,
// the rest is skipped, and hostile or damaged archives are refused naming
// the archive and the member.
#include "archive_writer.hpp"
#include "common/error.hpp"
#include "source/source.hpp"
#include "test_data.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

using lb::source::Source;
using testarchive::Kind;
using testarchive::Member;
using testarchive::Packing;

void expect_error(const std::function<void()> &f, lb_status status, const std::vector<std::string> &words) {
    try {
        f();
        ADD_FAILURE() << "no error; expected " << lb_status_name(status) << " naming " << words.front();
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), status) << e.what();
        const std::string msg = e.what();
        for (const std::string &w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "no '" << w << "' in: " << msg;
    }
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> out(n);
    for (uint8_t &b : out) b = static_cast<uint8_t>(rng() % 7); // compressible
    return out;
}

std::vector<uint8_t> text(const std::string &s) {
    return {s.begin(), s.end()};
}

std::vector<uint8_t> mapped_bytes(const Source &src, const std::string &name) {
    const std::unique_ptr<lb::MappedFile> m = src.map(name);
    return {m->data(), m->data() + m->size()};
}

TEST(Source, FolderMapsItsFilesAndDecompressesZstFiles) {
    testdata::TempDir dir;
    const std::vector<uint8_t> weights = random_bytes(200000, 1);
    testdata::write_file(dir.file("config.json"), text("{}"));
    testdata::write_file(dir.file("model.safetensors.zst"), testarchive::zstd_compress(weights));
    const Source src(dir.path() + "/");
    EXPECT_FALSE(src.is_archive());
    EXPECT_EQ(src.path(), dir.path());
    EXPECT_TRUE(src.has("config.json"));
    EXPECT_TRUE(src.has("model.safetensors"));
    EXPECT_FALSE(src.has("tokenizer.json"));
    EXPECT_EQ(mapped_bytes(src, "config.json"), text("{}"));
    EXPECT_EQ(mapped_bytes(src, "model.safetensors"), weights);
    EXPECT_EQ(src.where("model.safetensors"), dir.file("model.safetensors.zst"));
    EXPECT_EQ(src.where("config.json"), dir.file("config.json"));
    expect_error([&] { src.map("tokenizer.json"); }, LB_E_IO, {dir.file("tokenizer.json")});
}

TEST(Source, TruncatedOrCorruptZstFilesAreErrorsNamingThem) {
    testdata::TempDir dir;
    testdata::write_file(dir.file("config.json"), text("{}"));
    std::vector<uint8_t> packed = testarchive::zstd_compress(random_bytes(300000, 2));
    packed.resize(packed.size() / 2);
    testdata::write_file(dir.file("model.safetensors.zst"), packed);
    testdata::write_file(dir.file("tokenizer.json.zst"), text("not zstd at all"));
    testdata::write_file(dir.file("tokenizer_config.json.zst"), {});
    const Source src(dir.path());
    expect_error([&] { src.map("model.safetensors"); }, LB_E_FORMAT,
                 {dir.file("model.safetensors.zst"), "truncated"});
    expect_error([&] { src.map("tokenizer.json"); }, LB_E_FORMAT,
                 {dir.file("tokenizer.json.zst"), "not valid zstd"});
    expect_error([&] { src.map("tokenizer_config.json"); }, LB_E_FORMAT,
                 {dir.file("tokenizer_config.json.zst"), "empty"});
}

struct Packed {
    Packing packing;
    const char *suffix;
};

class SourceArchive : public ::testing::TestWithParam<std::tuple<Packed, const char *>> {};

TEST_P(SourceArchive, MembersMapToThePackedBytesAndTheRestIsSkipped) {
    const auto [packed, top_name] = GetParam();
    const std::string top = top_name;
    const std::string prefix = top.empty() ? "" : top + "/";
    const std::vector<uint8_t> weights = random_bytes(300000, 3), shard = random_bytes(70000, 4);
    const std::vector<uint8_t> config = text("{\"architectures\": [\"LlamaForCausalLM\"]}");
    const std::vector<uint8_t> spm = random_bytes(5000, 5);
    std::vector<Member> members;
    if (!top.empty()) members.push_back({top, {}, Kind::Dir});
    members.push_back({"./" + prefix + "config.json", config});
    members.push_back({prefix + "model.safetensors", weights});
    members.push_back({prefix + "tokenizer.model", spm});
    members.push_back({prefix + "shard-2.safetensors.zst", testarchive::zstd_compress(shard)});
    members.push_back({prefix + "README.md", text("# a model card")});
    members.push_back({prefix + "original/params.json", text("{}")});
    members.push_back({prefix + "pytorch_model.bin", random_bytes(1000, 6)});
    testdata::TempDir dir;
    const std::string path = dir.file(std::string("ckpt") + packed.suffix);
    ASSERT_TRUE(testarchive::write_archive(path, packed.packing, members));
    ASSERT_TRUE(lb::source::is_archive_path(path));

    const Source src(path);
    EXPECT_TRUE(src.is_archive());
    EXPECT_EQ(src.stem(), top.empty() ? "ckpt" : top);
    EXPECT_EQ(mapped_bytes(src, "config.json"), config);
    EXPECT_EQ(mapped_bytes(src, "model.safetensors"), weights);
    EXPECT_EQ(mapped_bytes(src, "tokenizer.model"), spm);
    EXPECT_EQ(mapped_bytes(src, "shard-2.safetensors"), shard);
    EXPECT_EQ(src.where("config.json"), path + ":" + prefix + "config.json");
    EXPECT_EQ(src.where("shard-2.safetensors"), path + ":" + prefix + "shard-2.safetensors.zst");
    for (const char *skipped : {"README.md", "pytorch_model.bin", "params.json", "original/params.json"})
        EXPECT_FALSE(src.has(skipped)) << skipped;
    expect_error([&] { src.map("tokenizer.json"); }, LB_E_IO, {path + ":" + prefix + "tokenizer.json"});
    // nothing was unpacked next to the archive
    EXPECT_EQ(dir.entries(), std::vector<std::string>{std::string("ckpt") + packed.suffix});
}

INSTANTIATE_TEST_SUITE_P(
    Packings, SourceArchive,
    ::testing::Combine(::testing::Values(Packed{Packing::Tar, ".tar"}, Packed{Packing::TarGz, ".tar.gz"},
                                         Packed{Packing::TarZst, ".tar.zst"},
                                         Packed{Packing::TarXz, ".tar.xz"}, Packed{Packing::Zip, ".zip"}),
                       ::testing::Values("", "Llama-3.2-1B")),
    [](const auto &info) {
        std::string s = std::get<0>(info.param).suffix + 1;
        for (char &c : s)
            if (c == '.') c = '_';
        return s + (std::string(std::get<1>(info.param)).empty() ? "_Top" : "_InAFolder");
    });

struct Hostile {
    const char *label;
    std::vector<Member> members;
    std::vector<std::string> words; // after the archive's path
    bool tar_only = false;          // zip has no hard links or FIFOs
};

std::vector<Hostile> hostile_archives() {
    const std::vector<uint8_t> cfg = text("{}");
    return {
        {"DotDot", {{"config.json", cfg}, {"../model.safetensors", cfg}}, {"../model.safetensors", "\"..\""}},
        {"DotDotInside", {{"a/config.json", cfg}, {"a/../../x.json", cfg}}, {"a/../../x.json", "\"..\""}},
        {"Absolute",
         {{"config.json", cfg}, {"/etc/model.safetensors", cfg}},
         {"/etc/model.safetensors", "absolute"}},
        {"Symlink",
         {{"config.json", cfg}, {"model.safetensors", {}, Kind::Symlink, "/etc/passwd"}},
         {":model.safetensors", "symbolic link", "/etc/passwd"}},
        {"Hardlink",
         {{"config.json", cfg}, {"model.safetensors", {}, Kind::Hardlink, "config.json"}},
         {":model.safetensors", "hard link"},
         true},
        {"Fifo",
         {{"config.json", cfg}, {"model.safetensors", {}, Kind::Fifo}},
         {":model.safetensors", "not a regular file"},
         true},
        {"Twice", {{"config.json", cfg}, {"config.json", cfg}}, {"\"config.json\"", "twice"}},
        {"PlainAndZst",
         {{"config.json", cfg}, {"config.json.zst", testarchive::zstd_compress(cfg)}},
         {"\"config.json\"", "twice"}},
        {"TwoCheckpoints",
         {{"a/config.json", cfg}, {"b/config.json", cfg}},
         {"several checkpoints", "a/", "b/"}},
        {"NoConfig", {{"model.safetensors", cfg}}, {"no config.json"}},
        {"BadZstMember",
         {{"config.json", cfg}, {"model.safetensors.zst", text("garbage, not zstd")}},
         {":model.safetensors.zst", "zstd"}},
    };
}

TEST(SourceArchive, HostileArchivesAreRefusedNamingTheMember) {
    for (const Hostile &h : hostile_archives())
        for (const Packed packed : {Packed{Packing::Tar, ".tar"}, Packed{Packing::Zip, ".zip"}}) {
            if (h.tar_only && packed.packing == Packing::Zip) continue;
            SCOPED_TRACE(std::string(h.label) + packed.suffix);
            testdata::TempDir dir;
            const std::string path = dir.file(std::string("evil") + packed.suffix);
            ASSERT_TRUE(testarchive::write_archive(path, packed.packing, h.members));
            std::vector<std::string> words = {path};
            words.insert(words.end(), h.words.begin(), h.words.end());
            expect_error([&] { Source s(path); }, LB_E_FORMAT, words);
            EXPECT_EQ(dir.entries().size(), 1u);
        }
}

TEST(SourceArchive, DamagedArchivesAreErrorsNamingThem) {
    testdata::TempDir dir;
    const std::vector<Member> members = {{"config.json", text("{}")},
                                         {"model.safetensors", random_bytes(400000, 7)}};
    for (const Packed packed : {Packed{Packing::TarZst, ".tar.zst"}, Packed{Packing::TarGz, ".tar.gz"},
                                Packed{Packing::Tar, ".tar"}, Packed{Packing::Zip, ".zip"}}) {
        SCOPED_TRACE(packed.suffix);
        const std::string path = dir.file(std::string("whole") + packed.suffix);
        ASSERT_TRUE(testarchive::write_archive(path, packed.packing, members));
        std::vector<uint8_t> bytes = testdata::read_file(path);
        bytes.resize(bytes.size() * 2 / 3);
        const std::string cut = dir.file(std::string("cut") + packed.suffix);
        testdata::write_file(cut, bytes);
        expect_error([&] { Source s(cut); }, LB_E_FORMAT, {cut});
    }
    const std::string garbage = dir.file("garbage.tar.zst");
    testdata::write_file(garbage, text("this is not an archive"));
    expect_error([&] { Source s(garbage); }, LB_E_FORMAT, {garbage});
    expect_error([&] { Source s(dir.file("none.tar")); }, LB_E_IO, {dir.file("none.tar"), "cannot open"});
    testdata::write_file(dir.file("model.gguf"), text("GGUF"));
    expect_error([&] { Source s(dir.file("model.gguf")); }, LB_E_IO,
                 {dir.file("model.gguf"), "not a folder"});
}

} // namespace
