// Importance matrices: lowbit's readers of llama.cpp's legacy .dat and GGUF
// imatrix files, its GGUF writer, the means the quantizer uses, every
// malformed input (with the status and a message naming the file and the
// entry), legacy files cut at every byte, lb_imatrix_convert, and agreement
// with llama.cpp's own loader (the peer's common_imatrix_load).
#include "common/error.hpp"
#include "gguf/gguf_file.hpp"
#include "imatrix/imatrix.hpp"
#include "imatrix_files.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using imatrix_files::GgufEntry;
using imatrix_files::LegacyEntry;
namespace im = lb::imatrix;
namespace gb = gguf_builder;

std::vector<float> ramp(size_t n, float scale, float offset = 0.0f) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>((i * 7) % 13 + 1);
    return v;
}

// Three entries, not in name order, one of them a stacked-experts weight.
std::vector<LegacyEntry> legacy_entries() {
    return {
        {"blk.1.ffn_down.weight", 10, ramp(8, 0.37f)},
        {"blk.0.attn_q.weight", 3, ramp(8, 1.25f, 0.5f)},
        {"blk.0.ffn_up_exps.weight", 7, ramp(32, 0.011f)},
    };
}

// A GGUF imatrix with a single-matrix entry, a four-expert entry whose second
// expert saw no tokens, and an entry whose only count is 0.
std::vector<GgufEntry> gguf_entries() {
    return {
        {"blk.0.attn_k.weight", 8, ramp(8, 3.5f), {100.0f}},
        {"blk.0.ffn_down_exps.weight", 8, ramp(32, 0.75f), {5.0f, 0.0f, 7.0f, 3.0f}},
        {"output.weight", 4, std::vector<float>(4, 0.0f), {0.0f}},
    };
}

void write(const std::string &path, const std::vector<uint8_t> &bytes) {
    testdata::write_file(path, bytes);
}

// read() must throw lb::Error with this status and a message naming the
// file and containing every one of `words`.
void expect_read_error(const std::string &path, lb_status status, const std::vector<std::string> &words) {
    try {
        im::read(path);
        ADD_FAILURE() << path << ": read() succeeded, expected " << lb_status_name(status);
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), status) << e.what();
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
        for (const std::string &w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "no '" << w << "' in: " << msg;
    }
}

void expect_legacy_error(const std::vector<uint8_t> &bytes, const std::vector<std::string> &words) {
    testdata::TempDir dir;
    const std::string path = dir.file("bad.dat");
    write(path, bytes);
    expect_read_error(path, LB_E_FORMAT, words);
}

void expect_gguf_error(const gb::Model &m, const std::vector<std::string> &words) {
    testdata::TempDir dir;
    const std::string path = dir.file("bad.gguf");
    write(path, m.build());
    expect_read_error(path, LB_E_FORMAT, words);
}

// --- Legacy .dat -----------------------------------------------------------

TEST(ImatrixLegacy, ReadsEntriesAndTrailerSortedByName) {
    testdata::TempDir dir;
    const std::string path = dir.file("imatrix.dat");
    write(path, imatrix_files::legacy_bytes(legacy_entries(), true, 42, "wiki.train.raw"));
    const im::Imatrix m = im::read(path);
    EXPECT_TRUE(m.legacy);
    EXPECT_EQ(m.path, path);
    EXPECT_EQ(m.chunk_count, 42u);
    EXPECT_EQ(m.chunk_size, 0u);
    EXPECT_EQ(m.datasets, std::vector<std::string>{"wiki.train.raw"});
    ASSERT_EQ(m.entries.size(), 3u);
    EXPECT_EQ(m.entries[0].name, "blk.0.attn_q.weight");
    EXPECT_EQ(m.entries[1].name, "blk.0.ffn_up_exps.weight");
    EXPECT_EQ(m.entries[2].name, "blk.1.ffn_down.weight");
    EXPECT_EQ(m.entries[0].sums, ramp(8, 1.25f, 0.5f));
    EXPECT_EQ(m.entries[0].counts, std::vector<float>{3.0f});
    EXPECT_EQ(m.entries[1].sums, ramp(32, 0.011f));
    EXPECT_EQ(m.entries[1].counts, std::vector<float>{7.0f});
    EXPECT_EQ(m.entries[2].counts, std::vector<float>{10.0f});
}

TEST(ImatrixLegacy, TrailerIsOptionalAndAnEmptyDatasetIsNone) {
    testdata::TempDir dir;
    write(dir.file("a.dat"), imatrix_files::legacy_bytes(legacy_entries(), false));
    const im::Imatrix a = im::read(dir.file("a.dat"));
    EXPECT_EQ(a.chunk_count, 0u);
    EXPECT_TRUE(a.datasets.empty());
    EXPECT_EQ(a.entries.size(), 3u);
    write(dir.file("b.dat"), imatrix_files::legacy_bytes(legacy_entries(), true, 5, ""));
    const im::Imatrix b = im::read(dir.file("b.dat"));
    EXPECT_EQ(b.chunk_count, 5u);
    EXPECT_TRUE(b.datasets.empty());
}

// --- Round trips -----------------------------------------------------------

TEST(ImatrixRoundTrip, LegacyToGgufToReadKeepsEverything) {
    testdata::TempDir dir;
    write(dir.file("in.dat"), imatrix_files::legacy_bytes(legacy_entries(), true, 42, "wiki.train.raw"));
    const im::Imatrix a = im::read(dir.file("in.dat"));
    im::write_gguf(a, dir.file("out.gguf"));
    const im::Imatrix b = im::read(dir.file("out.gguf"));
    EXPECT_FALSE(b.legacy);
    EXPECT_EQ(b.datasets, a.datasets);
    EXPECT_EQ(b.chunk_count, a.chunk_count);
    EXPECT_EQ(b.chunk_size, 0u);
    ASSERT_EQ(b.entries.size(), a.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i) {
        EXPECT_EQ(b.entries[i].name, a.entries[i].name);
        EXPECT_EQ(b.entries[i].sums, a.entries[i].sums) << a.entries[i].name;
        EXPECT_EQ(b.entries[i].counts, a.entries[i].counts) << a.entries[i].name;
        // the GGUF form gives the quantizer the same importances
        EXPECT_EQ(im::means(b.entries[i], false), im::means(a.entries[i], true)) << a.entries[i].name;
    }
}

TEST(ImatrixRoundTrip, GgufWithExpertsKeepsEverythingInLlamaCppsLayout) {
    testdata::TempDir dir;
    write(dir.file("in.gguf"),
          imatrix_files::gguf_model(gguf_entries(), {"a.txt", "b.txt"}, 12, 512).build());
    const im::Imatrix a = im::read(dir.file("in.gguf"));
    EXPECT_FALSE(a.legacy);
    EXPECT_EQ(a.datasets, (std::vector<std::string>{"a.txt", "b.txt"}));
    EXPECT_EQ(a.chunk_count, 12u);
    EXPECT_EQ(a.chunk_size, 512u);
    ASSERT_EQ(a.entries.size(), 3u);
    const std::vector<GgufEntry> want = gguf_entries();
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(a.entries[i].name, want[i].name);
        EXPECT_EQ(a.entries[i].sums, want[i].sums);
        EXPECT_EQ(a.entries[i].counts, want[i].counts);
        EXPECT_EQ(a.entries[i].ne0(), static_cast<size_t>(want[i].ne0));
    }

    im::write_gguf(a, dir.file("out.gguf"));
    // lowbit writes what ggml's writer would: the same keys, types, order,
    // shapes, data and padding, byte for byte
    EXPECT_EQ(testdata::read_file(dir.file("out.gguf")), imatrix_files::ggml_bytes(imatrix_files::gguf_model(
                                                             gguf_entries(), {"a.txt", "b.txt"}, 12, 512)));

    const lb::gguf::GgufFile f(dir.file("out.gguf"));
    const lb::gguf::Header &h = f.header();
    ASSERT_EQ(h.kvs.size(), 4u);
    EXPECT_EQ(h.kvs[0].key, "general.type");
    EXPECT_EQ(h.kvs[0].value.type, lb::gguf::ValueType::STRING);
    EXPECT_EQ(h.kvs[0].value.strings.at(0), "imatrix");
    EXPECT_EQ(h.kvs[1].key, "imatrix.datasets");
    EXPECT_EQ(h.kvs[1].value.type, lb::gguf::ValueType::ARRAY);
    EXPECT_EQ(h.kvs[1].value.elem_type, lb::gguf::ValueType::STRING);
    EXPECT_EQ(h.kvs[2].key, "imatrix.chunk_count");
    EXPECT_EQ(h.kvs[2].value.type, lb::gguf::ValueType::U32);
    EXPECT_EQ(h.kvs[3].key, "imatrix.chunk_size");
    EXPECT_EQ(h.kvs[3].value.type, lb::gguf::ValueType::U32);
    ASSERT_EQ(h.tensors.size(), 6u);
    EXPECT_EQ(h.tensors[2].name, "blk.0.ffn_down_exps.weight.in_sum2");
    EXPECT_EQ(h.tensors[2].n_dims, 2u);
    EXPECT_EQ(h.tensors[2].ne[0], 8);
    EXPECT_EQ(h.tensors[2].ne[1], 4);
    EXPECT_EQ(h.tensors[3].name, "blk.0.ffn_down_exps.weight.counts");
    EXPECT_EQ(h.tensors[3].n_dims, 2u);
    EXPECT_EQ(h.tensors[3].ne[0], 1);
    EXPECT_EQ(h.tensors[3].ne[1], 4);
    EXPECT_EQ(h.tensors[4].name, "output.weight.in_sum2");
    EXPECT_EQ(h.tensors[4].n_dims, 1u);
    EXPECT_EQ(h.tensors[5].name, "output.weight.counts");
    EXPECT_EQ(h.tensors[5].n_dims, 1u);
    for (const auto &t : h.tensors) EXPECT_EQ(t.type, static_cast<uint32_t>(LB_TYPE_F32)) << t.name;
}

TEST(ImatrixRoundTrip, EntriesAreWrittenInNameOrder) {
    im::Imatrix m;
    m.entries = {{"z.weight", {1, 2}, {1}}, {"a.weight", {3, 4}, {2}}};
    testdata::TempDir dir;
    im::write_gguf(m, dir.file("out.gguf"));
    const lb::gguf::GgufFile f(dir.file("out.gguf"));
    ASSERT_EQ(f.header().tensors.size(), 4u);
    EXPECT_EQ(f.header().tensors[0].name, "a.weight.in_sum2");
    EXPECT_EQ(f.header().tensors[1].name, "a.weight.counts");
    EXPECT_EQ(f.header().tensors[2].name, "z.weight.in_sum2");
    const im::Imatrix back = im::read(dir.file("out.gguf"));
    EXPECT_EQ(back.entries[0].sums, (std::vector<float>{3, 4}));
}

// --- Means -----------------------------------------------------------------

TEST(ImatrixMeans, GgufDividesEachExpertByItsCountAndGivesOneWithoutData) {
    const im::Entry e{"blk.0.ffn_down_exps.weight", {2, 4, 6, 9, 9, 9, 10, 20, 30}, {2, 0, 10}};
    const std::vector<float> m = im::means(e, false);
    const std::vector<float> want = {1, 2, 3, 1, 1, 1, 1, 2, 3};
    EXPECT_EQ(m, want);
    // one count for the whole entry
    EXPECT_EQ(im::means({"x", {3, 6}, {3}}, false), (std::vector<float>{1, 2}));
    // a single zero count: every column gets 1 whatever the sums say
    EXPECT_EQ(im::means({"x", {0, 5}, {0}}, false), (std::vector<float>{1, 1}));
}

TEST(ImatrixMeans, GgufCountsAreRoundedAsLlamaCppsLoaderRoundsThem) {
    // common_imatrix_load stores std::lround(count): 2.5 -> 3, 0.4 -> 0
    EXPECT_EQ(im::means({"x", {6, 9}, {2.5f}}, false), (std::vector<float>{2, 3}));
    EXPECT_EQ(im::means({"x", {6, 9}, {0.4f}}, false), (std::vector<float>{1, 1}));
    EXPECT_EQ(im::means({"x", {6, 9}, {3.49f}}, false), (std::vector<float>{2, 3}));
}

TEST(ImatrixMeans, LegacyDividesByNcallOrKeepsTheValuesWhenItIsZero) {
    EXPECT_EQ(im::means({"x", {4, 8, 12}, {4}}, true), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(im::means({"x", {4, 8, 12}, {0}}, true), (std::vector<float>{4, 8, 12}));
    // a division, not a multiplication by the reciprocal
    const float s = 1.0f, n = 3.0f;
    EXPECT_EQ(im::means({"x", {s}, {n}}, true)[0], s / n);
}

TEST(ImatrixMeans, LegacyNcallZeroBecomesCountOneInGgufWithTheSameMeans) {
    testdata::TempDir dir;
    write(dir.file("in.dat"),
          imatrix_files::legacy_bytes({{"a.weight", 0, {0.5f, 2.0f, 0.0f}}}, true, 1, "d"));
    const im::Imatrix a = im::read(dir.file("in.dat"));
    EXPECT_EQ(a.entries[0].counts, std::vector<float>{0.0f});
    im::write_gguf(a, dir.file("out.gguf"));
    const im::Imatrix b = im::read(dir.file("out.gguf"));
    EXPECT_EQ(b.entries[0].counts, std::vector<float>{1.0f});
    EXPECT_EQ(im::means(b.entries[0], false), im::means(a.entries[0], true));
    EXPECT_EQ(im::means(b.entries[0], false), (std::vector<float>{0.5f, 2.0f, 0.0f}));
}

// --- Malformed legacy files -------------------------------------------------

// Raw little-endian int32 / float sequences for hand-made files.
struct Raw {
    gb::Bytes b;
    Raw &i32(int32_t v) {
        b.u32(static_cast<uint32_t>(v));
        return *this;
    }
    Raw &str(const std::string &s) {
        b.raw(s);
        return *this;
    }
    Raw &f32(float v) {
        b.f32(v);
        return *this;
    }
    Raw &entry(const std::string &name, int32_t ncall, int32_t nval, float value = 1.0f) {
        i32(static_cast<int32_t>(name.size())).str(name).i32(ncall).i32(nval);
        for (int32_t i = 0; i < nval; ++i) f32(value);
        return *this;
    }
    std::vector<uint8_t> bytes() const { return b; }
};

TEST(ImatrixErrors, LegacyHeaderAndNames) {
    expect_legacy_error(std::vector<uint8_t>{1, 0}, {"only 2 bytes"});
    expect_legacy_error(Raw().i32(0).bytes(), {"0 entries"});
    expect_legacy_error(Raw().i32(-3).bytes(), {"-3 entries"});
    expect_legacy_error(Raw().i32(1000000).entry("a", 1, 1).bytes(), {"claims 1000000 entries"});
    expect_legacy_error(Raw().i32(1).i32(0).i32(1).i32(1).f32(1).f32(1).bytes(),
                        {"entry 1 of 1", "empty name"});
    expect_legacy_error(Raw().i32(1).i32(-5).i32(1).i32(1).f32(1).f32(1).bytes(),
                        {"entry 1 of 1", "negative name"});
    expect_legacy_error(Raw().i32(1).i32(100).str(std::string(100, 'a')).i32(1).i32(1).f32(1).bytes(),
                        {"entry 1 of 1", "100 bytes", "longer than any tensor name"});
    expect_legacy_error(Raw().i32(1).entry(std::string("ab\0c", 4), 1, 1).bytes(), {"NUL", "ab\\x00c"});
    expect_legacy_error(Raw().i32(2).entry("x.weight", 1, 2).entry("x.weight", 1, 2).bytes(),
                        {"'x.weight'", "more than once"});
}

TEST(ImatrixErrors, LegacyCountsAndValues) {
    expect_legacy_error(Raw().i32(1).entry("blk.3.ffn_up.weight", -1, 2).bytes(),
                        {"'blk.3.ffn_up.weight'", "negative call count"});
    expect_legacy_error(Raw().i32(1).entry("blk.3.ffn_up.weight", 1, 0).bytes(),
                        {"'blk.3.ffn_up.weight'", "zero value count"});
    expect_legacy_error(Raw().i32(1).entry("blk.3.ffn_up.weight", 1, -7).bytes(),
                        {"'blk.3.ffn_up.weight'", "negative value count"});
    // a value count far beyond the file: refused before allocating
    expect_legacy_error(
        Raw().i32(1).i32(1).str("a").i32(1).i32(0x7fffffff).f32(1).f32(1).f32(1).f32(1).bytes(),
        {"'a'", "truncated", "2147483647 values"});
    expect_legacy_error(Raw().i32(1).entry("w.weight", 1, 3, std::nanf("")).bytes(), {"'w.weight'", "NaN"});
    expect_legacy_error(Raw().i32(1).entry("w.weight", 1, 3, std::numeric_limits<float>::infinity()).bytes(),
                        {"'w.weight'", "infinite"});
    expect_legacy_error(Raw().i32(1).entry("w.weight", 1, 3, -0.5f).bytes(), {"'w.weight'", "negative"});
}

TEST(ImatrixErrors, LegacyTrailer) {
    const Raw entries = Raw().i32(1).entry("w.weight", 1, 2);
    expect_legacy_error(Raw(entries).i32(3).bytes(), {"trailer"});
    std::vector<uint8_t> three = entries.bytes();
    three.insert(three.end(), {1, 2, 3});
    expect_legacy_error(three, {"trailer"});
    expect_legacy_error(Raw(entries).i32(-2).i32(0).bytes(), {"negative chunk count"});
    expect_legacy_error(Raw(entries).i32(2).i32(-1).bytes(), {"negative dataset name length"});
    expect_legacy_error(Raw(entries).i32(2).i32(50).str("short").bytes(), {"truncated", "dataset name"});
    expect_legacy_error(Raw(entries).i32(2).i32(3).str(std::string("a\0b", 3)).bytes(), {"dataset", "NUL"});
    expect_legacy_error(Raw(entries).i32(2).i32(1).str("d").i32(0).bytes(), {"4 unexpected bytes"});
}

// A legacy file cut at every byte offset is refused with LB_E_FORMAT, except
// where the cut leaves a whole file: right after the last entry (no trailer).
TEST(ImatrixErrors, LegacyTruncatedAtEveryByteFailsCleanly) {
    const std::vector<uint8_t> full =
        imatrix_files::legacy_bytes(legacy_entries(), true, 42, "wiki.train.raw");
    const size_t entries_end = full.size() - 8 - std::strlen("wiki.train.raw");
    testdata::TempDir dir;
    const std::string path = dir.file("cut.dat");
    size_t refused = 0;
    for (size_t n = 0; n < full.size(); ++n) {
        write(path, std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(n)));
        try {
            const im::Imatrix m = im::read(path);
            EXPECT_EQ(n, entries_end) << "a file cut to " << n << " bytes was accepted";
            EXPECT_EQ(m.entries.size(), 3u);
        } catch (const lb::Error &e) {
            ++refused;
            EXPECT_EQ(e.status(), LB_E_FORMAT) << n << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(refused, full.size() - 1);
    write(path, full);
    EXPECT_EQ(im::read(path).entries.size(), 3u);
}

// --- Malformed GGUF files ---------------------------------------------------

gb::Model good_gguf() {
    return imatrix_files::gguf_model(gguf_entries(), {"d.txt"}, 3, 512);
}

TEST(ImatrixErrors, GgufTensorsMustBeF32) {
    gb::Model m = good_gguf();
    gb::Tensor &s = m.tensor("blk.0.attn_k.weight.in_sum2");
    s.type = LB_TYPE_F16;
    s.data.resize(16);
    expect_gguf_error(m, {"'blk.0.attn_k.weight'", "F16", "F32"});
    m = good_gguf();
    gb::Tensor &c = m.tensor("blk.0.ffn_down_exps.weight.counts");
    c.type = LB_TYPE_F16;
    c.data.resize(8);
    expect_gguf_error(m, {"'blk.0.ffn_down_exps.weight'", "F16", "F32"});
}

TEST(ImatrixErrors, GgufSumsAndCountsComeInPairs) {
    gb::Model m = good_gguf();
    m.tensors.erase(m.tensors.begin() + 1); // blk.0.attn_k.weight.counts
    expect_gguf_error(m, {"'blk.0.attn_k.weight'", "no <name>.counts"});
    m = good_gguf();
    m.tensors.erase(m.tensors.begin() + 4); // output.weight.in_sum2
    expect_gguf_error(m, {"'output.weight'", "no <name>.in_sum2"});
}

TEST(ImatrixErrors, GgufShapesMustAgree) {
    gb::Model m = good_gguf();
    // counts for 3 experts, sums for 4
    gb::Tensor &c = m.tensor("blk.0.ffn_down_exps.weight.counts");
    c.ne = {1, 3};
    c.data.resize(12);
    expect_gguf_error(m, {"'blk.0.ffn_down_exps.weight'", "shapes disagree", "[8, 4]", "[1, 3]"});
    // counts with a row of 2
    m = good_gguf();
    m.tensor("blk.0.attn_k.weight.counts").ne = {2};
    m.tensor("blk.0.attn_k.weight.counts").data.resize(8);
    expect_gguf_error(m, {"'blk.0.attn_k.weight'", "shapes disagree"});
    // three-dimensional sums
    m = good_gguf();
    m.tensor("blk.0.ffn_down_exps.weight.in_sum2").ne = {8, 2, 2};
    m.tensor("blk.0.ffn_down_exps.weight.counts").ne = {1, 2};
    m.tensor("blk.0.ffn_down_exps.weight.counts").data.resize(8);
    expect_gguf_error(m, {"'blk.0.ffn_down_exps.weight'", "shapes disagree"});
}

TEST(ImatrixErrors, GgufValuesMustBeFiniteAndNonNegative) {
    auto with_sum = [](float v) {
        std::vector<GgufEntry> e = gguf_entries();
        e[1].sums[9] = v;
        return imatrix_files::gguf_model(e, {}, 1, 1);
    };
    expect_gguf_error(with_sum(std::nanf("")), {"'blk.0.ffn_down_exps.weight'", "sum value 9 is NaN"});
    expect_gguf_error(with_sum(-std::numeric_limits<float>::infinity()),
                      {"'blk.0.ffn_down_exps.weight'", "infinite"});
    expect_gguf_error(with_sum(-1.0f), {"'blk.0.ffn_down_exps.weight'", "negative"});
    auto with_count = [](float v) {
        std::vector<GgufEntry> e = gguf_entries();
        e[1].counts[2] = v;
        return imatrix_files::gguf_model(e, {}, 1, 1);
    };
    expect_gguf_error(with_count(-3.0f), {"'blk.0.ffn_down_exps.weight'", "count value 2 is negative"});
    expect_gguf_error(with_count(std::numeric_limits<float>::infinity()),
                      {"'blk.0.ffn_down_exps.weight'", "infinite"});
    expect_gguf_error(with_count(1e30f), {"'blk.0.ffn_down_exps.weight'", "absurd"});
}

TEST(ImatrixErrors, GgufModelsAndEmptyFilesAreNotImatrices) {
    // a model: general.type "model", weights but no <name>.in_sum2
    gb::Model m;
    m.kvs.push_back({"general.type", gb::string_value("model")});
    m.kvs.push_back({"general.architecture", gb::string_value("llama")});
    m.tensors.push_back({"token_embd.weight", {4, 2}, 0, gb::f32_data(8)});
    expect_gguf_error(m, {"not an importance matrix", "'model'", "model?"});
    // the shipped model has no general.type at all
    expect_read_error(testdata::stories_path(), LB_E_FORMAT, {"not an importance matrix"});
    // an imatrix without entries
    gb::Model empty = imatrix_files::gguf_model({}, {"d"}, 1, 1);
    expect_gguf_error(empty, {"no entries"});
    // a broken GGUF is refused by the GGUF reader
    std::vector<uint8_t> cut = good_gguf().build();
    cut.resize(cut.size() - 10);
    testdata::TempDir dir;
    write(dir.file("cut.gguf"), cut);
    expect_read_error(dir.file("cut.gguf"), LB_E_FORMAT, {"truncated"});
}

TEST(ImatrixErrors, GgufKeysMustHaveLlamaCppsTypes) {
    gb::Model m = good_gguf();
    m.kv("imatrix.chunk_count").value = gb::Bytes().u32(gb::kI32).u32(3);
    expect_gguf_error(m, {"imatrix.chunk_count", "u32", "i32"});
    m = good_gguf();
    m.kv("imatrix.chunk_size").value = gb::u64_value(512);
    expect_gguf_error(m, {"imatrix.chunk_size", "u32"});
    m = good_gguf();
    m.kv("imatrix.datasets").value = gb::string_value("d.txt");
    expect_gguf_error(m, {"imatrix.datasets", "array of strings"});
    m = good_gguf();
    m.kv("general.type").value = gb::u32_value(1);
    expect_gguf_error(m, {"general.type", "string"});
}

TEST(ImatrixErrors, GgufEntryNamesMustBeNonEmptyAndUnique) {
    gb::Model m = good_gguf();
    m.tensors.push_back({".in_sum2", {2}, 0, gb::f32_data(2)});
    m.tensors.push_back({".counts", {1}, 0, gb::f32_data(1)});
    expect_gguf_error(m, {"'.in_sum2'", "empty entry name"});
    // a second blk.0.attn_k.weight (the GGUF reader refuses duplicate tensors)
    m = good_gguf();
    m.tensors.push_back(m.tensors[0]);
    m.tensors.push_back(m.tensors[1]);
    expect_gguf_error(m, {"duplicate", "blk.0.attn_k.weight.in_sum2"});
}

TEST(ImatrixErrors, GgufOtherTensorsAreIgnoredAsLlamaCppIgnoresThem) {
    gb::Model m = good_gguf();
    m.tensors.push_back({"blk.0.attn_k.weight.in_sum", {8}, 0, gb::f32_data(8)});
    testdata::TempDir dir;
    write(dir.file("extra.gguf"), m.build());
    EXPECT_EQ(im::read(dir.file("extra.gguf")).entries.size(), 3u);
}

TEST(ImatrixErrors, MissingFileIsAnIoError) {
    testdata::TempDir dir;
    expect_read_error(dir.file("nope.dat"), LB_E_IO, {"cannot open"});
}

TEST(ImatrixErrors, WriteRefusesWhatGgufCannotHold) {
    testdata::TempDir dir;
    const std::string name(60, 'w');
    write(dir.file("long.dat"), imatrix_files::legacy_bytes({{name, 1, {1.0f}}}));
    const im::Imatrix m = im::read(dir.file("long.dat")); // a legacy name may be 63 bytes
    try {
        im::write_gguf(m, dir.file("out.gguf"));
        ADD_FAILURE() << "a 60-byte entry name was written";
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), LB_E_FORMAT);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("63"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(testdata::file_exists(dir.file("out.gguf")));
    EXPECT_THROW(im::write_gguf(im::Imatrix{}, dir.file("out.gguf")), lb::Error);
    im::Imatrix odd;
    odd.entries = {{"a.weight", {1, 2, 3}, {1, 1}}};
    EXPECT_THROW(im::write_gguf(odd, dir.file("out.gguf")), lb::Error);
    EXPECT_EQ(dir.entries().size(), 1u);
}

// --- lb_imatrix_convert -----------------------------------------------------

TEST(ImatrixConvert, ConvertsLegacyToGguf) {
    testdata::TempDir dir;
    write(dir.file("in.dat"), imatrix_files::legacy_bytes(legacy_entries(), true, 42, "wiki.train.raw"));
    ASSERT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.file("out.gguf").c_str()), LB_OK)
        << lb_last_error();
    const im::Imatrix a = im::read(dir.file("in.dat")), b = im::read(dir.file("out.gguf"));
    ASSERT_EQ(b.entries.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(im::means(b.entries[i], false), im::means(a.entries[i], true));
    // and again, over the existing output
    ASSERT_EQ(lb_imatrix_convert(dir.file("out.gguf").c_str(), dir.file("out2.gguf").c_str()), LB_OK);
    EXPECT_EQ(testdata::read_file(dir.file("out2.gguf")), testdata::read_file(dir.file("out.gguf")));
    ASSERT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.file("out2.gguf").c_str()), LB_OK);
    EXPECT_EQ(dir.entries().size(), 3u);
}

TEST(ImatrixConvert, RefusesBadArgumentsAndLeavesNoOutput) {
    testdata::TempDir dir;
    const std::vector<uint8_t> in = imatrix_files::legacy_bytes(legacy_entries());
    write(dir.file("in.dat"), in);
    EXPECT_EQ(lb_imatrix_convert(nullptr, dir.file("o.gguf").c_str()), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("in_path"), std::string::npos);
    EXPECT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), nullptr), LB_E_INVALID_ARG);
    // the input itself, also under another spelling and through a hard link
    EXPECT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.file("in.dat").c_str()), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("input"), std::string::npos) << lb_last_error();
    EXPECT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), (dir.path() + "/./in.dat").c_str()),
              LB_E_INVALID_ARG);
    ASSERT_EQ(::link(dir.file("in.dat").c_str(), dir.file("link.dat").c_str()), 0);
    EXPECT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.file("link.dat").c_str()), LB_E_INVALID_ARG);
    EXPECT_EQ(testdata::read_file(dir.file("in.dat")), in);
    // a folder
    EXPECT_EQ(lb_imatrix_convert(dir.file("in.dat").c_str(), dir.path().c_str()), LB_E_INVALID_ARG);
    // a missing input
    EXPECT_EQ(lb_imatrix_convert(dir.file("none.dat").c_str(), dir.file("o.gguf").c_str()), LB_E_IO);
    EXPECT_NE(std::string(lb_last_error()).find("none.dat"), std::string::npos);
    // a malformed input: the message names the file and the entry
    write(dir.file("bad.dat"), Raw().i32(1).entry("blk.9.attn_v.weight", 1, 2, -1.0f).bytes());
    EXPECT_EQ(lb_imatrix_convert(dir.file("bad.dat").c_str(), dir.file("o.gguf").c_str()), LB_E_FORMAT);
    EXPECT_NE(std::string(lb_last_error()).find("bad.dat"), std::string::npos) << lb_last_error();
    EXPECT_NE(std::string(lb_last_error()).find("'blk.9.attn_v.weight'"), std::string::npos)
        << lb_last_error();
    // an existing output is left as it was
    write(dir.file("keep.gguf"), {1, 2, 3});
    EXPECT_EQ(lb_imatrix_convert(dir.file("bad.dat").c_str(), dir.file("keep.gguf").c_str()), LB_E_FORMAT);
    EXPECT_EQ(testdata::read_file(dir.file("keep.gguf")), (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(dir.entries().size(), 4u); // in.dat, link.dat, bad.dat, keep.gguf
}

// --- Agreement with llama.cpp's loader (the peer) ---------------------------

// lowbit reads a legacy file as llama.cpp's loader does, and its means are
// llama-quantize's, bit for bit, from the .dat and from lowbit's conversion.
TEST(ImatrixPeer, LegacyReadAndMeansAgreeWithLlamaCpp) {
    testdata::TempDir dir;
    std::vector<LegacyEntry> entries = legacy_entries();
    entries.push_back({"blk.2.attn_output.weight", 0, ramp(8, 0.3f)}); // ncall 0: the values are the means
    write(dir.file("in.dat"), imatrix_files::legacy_bytes(entries, true, 42, "wiki.train.raw"));
    const im::Imatrix ours = im::read(dir.file("in.dat"));
    const imatrix_files::PeerImatrix theirs = imatrix_files::peer_load(dir.file("in.dat"));
    EXPECT_TRUE(theirs.is_legacy);
    EXPECT_EQ(theirs.chunk_count, 42);
    EXPECT_EQ(theirs.datasets, ours.datasets);
    const auto peer_means = imatrix_files::quantize_means(theirs);
    ASSERT_EQ(theirs.entries.size(), ours.entries.size());
    for (const im::Entry &e : ours.entries) {
        const auto it = theirs.entries.find(e.name);
        ASSERT_NE(it, theirs.entries.end()) << e.name;
        EXPECT_EQ(it->second.sums, e.sums) << e.name;
        ASSERT_EQ(it->second.counts.size(), 1u);
        EXPECT_EQ(static_cast<float>(it->second.counts[0]), e.counts[0]) << e.name;
        EXPECT_EQ(peer_means.at(e.name), im::means(e, true)) << e.name;
    }
    im::write_gguf(ours, dir.file("out.gguf"));
    const imatrix_files::PeerImatrix converted = imatrix_files::peer_load(dir.file("out.gguf"));
    EXPECT_FALSE(converted.is_legacy);
    EXPECT_TRUE(converted.has_metadata);
    const auto converted_means = imatrix_files::quantize_means(converted);
    for (const im::Entry &e : ours.entries)
        EXPECT_EQ(converted_means.at(e.name), im::means(e, true)) << e.name;
}

// What lowbit writes from a GGUF with experts (one without data) loads in
// llama.cpp's loader as it was, and llama-quantize's means are lowbit's.
TEST(ImatrixPeer, GgufWrittenByLowbitLoadsInLlamaCppWithTheSameMeans) {
    testdata::TempDir dir;
    im::Imatrix m;
    for (const GgufEntry &g : gguf_entries()) m.entries.push_back({g.name, g.sums, g.counts});
    m.entries.push_back(
        {"blk.1.ffn_gate_exps.weight", ramp(24, 0.5f), {3.4f, 0.6f, 0.2f}}); // rounded: 3, 1, 0
    m.datasets = {"one.txt", "two.txt"};
    m.chunk_count = 17;
    m.chunk_size = 256;
    im::write_gguf(m, dir.file("out.gguf"));
    const imatrix_files::PeerImatrix theirs = imatrix_files::peer_load(dir.file("out.gguf"));
    EXPECT_TRUE(theirs.has_metadata);
    EXPECT_FALSE(theirs.is_legacy);
    EXPECT_EQ(theirs.datasets, m.datasets);
    EXPECT_EQ(theirs.chunk_count, 17);
    EXPECT_EQ(theirs.chunk_size, 256);
    const auto peer_means = imatrix_files::quantize_means(theirs);
    ASSERT_EQ(theirs.entries.size(), m.entries.size());
    for (const im::Entry &e : m.entries) {
        const auto it = theirs.entries.find(e.name);
        ASSERT_NE(it, theirs.entries.end()) << e.name;
        EXPECT_EQ(it->second.sums, e.sums) << e.name;
        ASSERT_EQ(it->second.counts.size(), e.counts.size()) << e.name;
        for (size_t j = 0; j < e.counts.size(); ++j)
            EXPECT_EQ(it->second.counts[j], static_cast<int64_t>(std::lround(e.counts[j]))) << e.name;
        EXPECT_EQ(peer_means.at(e.name), im::means(e, false)) << e.name;
    }
}

} // namespace
