// Bad input: a corpus of broken GGUF files, each of which must make both
// `lowbit info FILE` and `lowbit quantize FILE OUT Q8_0` fail cleanly: exit
// code 1 (not a crash, a signal, a sanitizer report or a hang), a one-line
// message starting "lowbit: error:" that names the file (and, for many cases,
// the key or tensor at fault), nothing on stdout, no output file and no
// leftover temporary file, and the input left as it was.
//
// Every case is a small valid model (built below by an independent GGUF
// writer) with one thing broken, so each failure points at one check.
#include "ggml_peer.hpp"
#include "gguf_builder.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using namespace gguf_builder;
using clitest::Outcome;
using clitest::run_cli;

constexpr const char *kArch = "general.architecture";
constexpr const char *kBlocks = "llama.block_count";
constexpr const char *kTokens = "tokenizer.ggml.tokens";
constexpr const char *kAlignment = "general.alignment";
constexpr const char *kAttnQ = "blk.0.attn_q.weight"; // 32 x 2 F32, quantized by Q8_0
constexpr const char *kNorm = "output_norm.weight";   // 32 F32, kept as is
constexpr uint64_t kTwoPow63 = 1ull << 63;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();

// A small valid model, with a string, an integer and a string array in the
// metadata and one tensor that Q8_0 converts: 672 bytes.
Model valid_model() {
    Model m;
    m.kvs = {
        {.key = kArch, .value = string_value("llama")},
        {.key = kBlocks, .value = u32_value(1)},
        {.key = kTokens, .value = string_array_value({"a", "b"})},
    };
    m.tensors = {
        {.name = kAttnQ, .ne = {32, 2}, .type = LB_TYPE_F32, .data = f32_data(64)},
        {.name = kNorm, .ne = {32}, .type = LB_TYPE_F32, .data = f32_data(32)},
    };
    return m;
}

std::vector<uint8_t> valid_bytes() {
    return valid_model().build();
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

// A fragment is a string the message must contain, or several separated by
// '|' of which it must contain one.
bool mentions(const std::string &message, const std::string &fragment) {
    for (size_t begin = 0;;) {
        const size_t end = std::min(fragment.find('|', begin), fragment.size());
        if (contains(message, fragment.substr(begin, end - begin))) return true;
        if (end == fragment.size()) return false;
        begin = end + 1;
    }
}

// The run failed the way a bad input must make it fail: see the top of the
// file. `fragments` are what the message must mention besides the file.
::testing::AssertionResult failed_cleanly(const Outcome &r, const std::string &input,
                                          const std::vector<std::string> &fragments) {
    auto bad = [&](const std::string &why) {
        return ::testing::AssertionFailure() << why << "; the run " << r.describe();
    };
    if (r.timed_out) return bad("hang");
    if (r.signaled) return bad("crash");
    for (const char *report : {"AddressSanitizer", "LeakSanitizer", "runtime error:"})
        if (contains(r.err, report)) return bad(std::string("sanitizer report (") + report + ")");
    if (r.exit_code != 1) return bad("exit code is not 1");
    if (r.err.rfind("lowbit: error:", 0) != 0) return bad("stderr does not start with 'lowbit: error:'");
    if (r.err.empty() || r.err.back() != '\n' || std::count(r.err.begin(), r.err.end(), '\n') != 1)
        return bad("the error is not exactly one line");
    if (!contains(r.err, input)) return bad("the message does not name the input file " + input);
    // look for the fragments in the message without the path, which could
    // contain any of them by chance (the temporary folder's name is random)
    std::string message = r.err;
    for (size_t at; (at = message.find(input)) != std::string::npos;) message.erase(at, input.size());
    for (const std::string &f : fragments)
        if (!mentions(message, f)) return bad("the message does not mention '" + f + "'");
    if (!r.out.empty()) return bad("something was printed on stdout");
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult folder_is_empty(const testdata::TempDir &dir) {
    const std::vector<std::string> entries = dir.entries();
    if (entries.empty()) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure() << "the output folder is not empty:";
    for (const std::string &e : entries) failure << " " << e;
    return failure;
}

// Runs info and quantize on `input` (whose bytes were `bytes`, if a file),
// quantizing into `out_dir`, and checks both failed cleanly and left nothing
// behind.
::testing::AssertionResult both_fail_cleanly(const std::string &input, const std::vector<uint8_t> *bytes,
                                             const testdata::TempDir &out_dir,
                                             const std::vector<std::string> &fragments) {
    const Outcome info = run_cli({"info", input});
    if (auto r = failed_cleanly(info, input, fragments); !r)
        return ::testing::AssertionFailure() << "info: " << r.message();
    const Outcome quantize = run_cli({"quantize", input, out_dir.file("out.gguf"), "Q8_0"});
    if (auto r = failed_cleanly(quantize, input, fragments); !r)
        return ::testing::AssertionFailure() << "quantize: " << r.message();
    if (auto r = folder_is_empty(out_dir); !r)
        return ::testing::AssertionFailure() << "quantize: " << r.message();
    if (bytes != nullptr && testdata::read_file(input) != *bytes)
        return ::testing::AssertionFailure() << "the input file was modified";
    return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

// What the input path names: a file holding the case's bytes, or something
// that is not a regular file.
enum class InputKind { File, Directory, Missing, Fifo, CharDevice };

struct Case {
    std::string name;                           // the test's name
    std::function<std::vector<uint8_t>()> make; // the file's bytes (InputKind::File)
    std::vector<std::string> fragments;         // the message must mention these
    InputKind kind = InputKind::File;
    // ggml's gguf_init_from_file (without loading data) accepts the file,
    // but reading its tensor data would go past the end of the file: lowbit
    // refuses it for memory safety (llama.cpp's loader checks it later)
    bool data_out_of_bounds = false;
};

void PrintTo(const Case &c, std::ostream *os) {
    *os << c.name;
}

// The valid model with one edit.
std::function<std::vector<uint8_t>()> edited(std::function<void(Model &)> edit) {
    return [edit] {
        Model m = valid_model();
        edit(m);
        return m.build();
    };
}

// The valid file with its last `n` bytes cut off.
std::function<std::vector<uint8_t>()> cut(size_t n) {
    return [n] {
        std::vector<uint8_t> b = valid_bytes();
        b.resize(b.size() - n);
        return b;
    };
}

std::vector<Case> corpus() {
    return {
        // --- Not a GGUF file at all -----------------------------------------
        {"EmptyFile", [] { return std::vector<uint8_t>{}; }, {"not a GGUF file"}},
        {"BadMagic", edited([](Model &m) { m.magic[3] = 'X'; }), {"magic", "GGUX"}},
        // what a writer that stored the magic as a big-endian u32 would produce
        {"MagicByteSwapped", edited([](Model &m) { std::reverse(m.magic, m.magic + 4); }), {"magic"}},
        {"Directory", nullptr, {"not a Hugging Face checkpoint", "config.json"}, InputKind::Directory},
        {"NonexistentPath", nullptr, {"No such file"}, InputKind::Missing},
        // a named pipe nobody writes to: opening it must not block forever
        {"NamedPipe", nullptr, {"not a regular file"}, InputKind::Fifo},
        {"CharacterDevice", nullptr, {"not a regular file"}, InputKind::CharDevice},

        // --- Header: version and counts ------------------------------------
        {"Version0", edited([](Model &m) { m.version = 0; }), {"version 0"}},
        // version 1 had 32-bit counts; lowbit (like llama.cpp) refuses it
        {"Version1", edited([](Model &m) { m.version = 1; }), {"version 1"}},
        {"Version4FromTheFuture", edited([](Model &m) { m.version = 4; }), {"version 4"}},
        {"VersionU32Max", edited([](Model &m) { m.version = kU32Max; }), {"version"}},
        // version 3 written big-endian: (version & 0xffff) == 0
        {"VersionByteSwapped", edited([](Model &m) { m.version = 0x03000000; }), {"big-endian"}},
        {"TensorCount2Pow62", edited([](Model &m) { m.n_tensors = int64_t{1} << 62; }), {"tensor count"}},
        {"TensorCountMinus1", edited([](Model &m) { m.n_tensors = -1; }), {"tensor count"}},
        {"TensorCountInt64Max", edited([](Model &m) { m.n_tensors = kInt64Max; }), {"tensor count"}},
        {"TensorCountInt64Min", edited([](Model &m) { m.n_tensors = kInt64Min; }), {"tensor count"}},
        {"MetadataCount2Pow62", edited([](Model &m) { m.n_kv = int64_t{1} << 62; }), {"metadata count"}},
        {"MetadataCountMinus1", edited([](Model &m) { m.n_kv = -1; }), {"metadata count"}},
        {"MetadataCountInt64Max", edited([](Model &m) { m.n_kv = kInt64Max; }), {"metadata count"}},
        {"MetadataCountInt64Min", edited([](Model &m) { m.n_kv = kInt64Min; }), {"metadata count"}},
        // plausible counts that disagree with the content: the reader walks
        // into the next section and must fail on whatever it finds there
        {"TensorCountOneTooMany", edited([](Model &m) { m.n_tensors = 3; }), {}},
        {"MetadataCountOneTooMany", edited([](Model &m) { m.n_kv = 4; }), {}},
        // the last key is read as a tensor info: its value type (9) becomes
        // the dimension count
        {"MetadataCountOneTooFew", edited([](Model &m) { m.n_kv = 2; }), {"dimensions"}},

        // --- Metadata: strings and arrays -----------------------------------
        {"KeyLength2Pow63", edited([](Model &m) { m.kvs[0].key_length = kTwoPow63; }), {"key 0", "limit"}},
        {"KeyLength2Pow30Plus1", edited([](Model &m) { m.kvs[0].key_length = (1ull << 30) + 1; }), {"limit"}},
        // below the 1 GiB limit but past the end of the file
        {"KeyLengthPastEnd", edited([](Model &m) { m.kvs[0].key_length = 100000; }), {"truncated"}},
        {"StringLength2Pow63",
         edited([](Model &m) { m.kv(kArch).value = Bytes().u32(kString).u64(kTwoPow63).raw("llama"); }),
         {kArch, "limit"}},
        {"StringLengthPastEnd",
         edited([](Model &m) { m.kv(kArch).value = Bytes().u32(kString).u64(100000).raw("llama"); }),
         {kArch, "truncated"}},
        {"ArrayCount2Pow40",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kString).u64(1ull << 40); }),
         {kTokens, "limit"}},
        {"ArrayCount2Pow30Plus1",
         edited(
             [](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kString).u64((1ull << 30) + 1); }),
         {kTokens, "limit"}},
        {"ArrayCountU64Max",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kString).u64(~0ull); }),
         {kTokens, "limit"}},
        // at the limit, so only the bytes that remain can reject it
        {"StringArrayCount2Pow30",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kString).u64(1ull << 30); }),
         {kTokens, "truncated"}},
        // 2^29 u64 = 4 GiB of values in a 700-byte file (count * size must
        // not overflow or be trusted)
        {"NumericArrayCountPastEnd",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kU64).u64(1ull << 29).u64(7); }),
         {kTokens, "truncated"}},
        {"NestedArray",
         edited([](Model &m) {
             m.kv(kTokens).value = Bytes().u32(kArray).u32(kArray).u64(1).u32(kU8).u64(1).u8(0);
         }),
         {kTokens, "array of arrays"}},
        {"ValueType13",
         edited([](Model &m) { m.kv(kBlocks).value = Bytes().u32(13).u32(1); }),
         {kBlocks, "invalid value type 13"}},
        {"ValueTypeU32Max",
         edited([](Model &m) { m.kv(kBlocks).value = Bytes().u32(kU32Max).u32(1); }),
         {kBlocks, "4294967295"}},
        {"ArrayElementType13",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(13).u64(1).u32(0); }),
         {kTokens, "invalid value type 13"}},
        {"ArrayElementTypeU32Max",
         edited([](Model &m) { m.kv(kTokens).value = Bytes().u32(kArray).u32(kU32Max).u64(1).u32(0); }),
         {kTokens, "4294967295"}},

        // --- Metadata: keys and values --------------------------------------
        {"DuplicateKey",
         edited([](Model &m) { m.kvs.push_back({.key = kBlocks, .value = u32_value(2)}); }),
         {"duplicate key", kBlocks}},
        {"DuplicateKeyOtherType",
         edited([](Model &m) { m.kvs.push_back({.key = kArch, .value = u32_value(2)}); }),
         {"duplicate key", kArch}},
        {"EmptyKey",
         edited([](Model &m) { m.kvs.push_back({.key = "", .value = u32_value(2)}); }),
         {"empty"}},
        // --- general.alignment: must be a u32 power of two ---------------------
        {"AlignmentU64",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u64_value(32)}); }),
         {kAlignment, "u32"}},
        {"AlignmentString",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = string_value("32")}); }),
         {kAlignment, "u32"}},
        {"AlignmentArray",
         edited([](Model &m) {
             m.kvs.push_back({.key = kAlignment, .value = Bytes().u32(kArray).u32(kU32).u64(1).u32(32)});
         }),
         {kAlignment, "u32"}},
        {"Alignment0",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u32_value(0)}); }),
         {kAlignment, "power of two"}},
        {"Alignment3",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u32_value(3)}); }),
         {kAlignment, "power of two"}},
        // legal alignments, but the data section would start 2 GiB / 1 GiB in
        {"Alignment2Pow31",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u32_value(1u << 31)}); }),
         {"truncated"}},
        {"AlignmentU32Max",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u32_value(kU32Max)}); }),
         {kAlignment, "power of two"}},
        {"Alignment2Pow30",
         edited([](Model &m) { m.kvs.push_back({.key = kAlignment, .value = u32_value(1u << 30)}); }),
         {"truncated"}},

        // --- Tensor infos: names --------------------------------------------
        {"DuplicateTensorName",
         edited([](Model &m) { m.tensor(kNorm).name = kAttnQ; }),
         {"duplicate tensor name", kAttnQ}},
        // ggml's GGML_MAX_NAME is 64 with the NUL, so 63 bytes is the most
        {"TensorName64Bytes",
         edited([](Model &m) { m.tensor(kNorm).name = std::string(64, 'n'); }),
         {"name", "64 bytes"}},
        {"TensorName1000Bytes",
         edited([](Model &m) { m.tensor(kNorm).name = std::string(1000, 'n'); }),
         {"name", "1000 bytes"}},
        {"TensorNameLength2Pow63",
         edited([](Model &m) { m.tensor(kNorm).name_length = kTwoPow63; }),
         {"name of tensor 1", "limit"}},
        {"TensorNameLengthPastEnd",
         edited([](Model &m) { m.tensor(kNorm).name_length = 100000; }),
         {"name of tensor 1", "truncated"}},
        // --- Tensor infos: shapes and types ---------------------------------
        {"TensorDims5",
         edited([](Model &m) {
             m.tensor(kNorm).ne = {32, 1, 1, 1, 1};
         }),
         {kNorm, "dimensions"}},
        {"TensorDimsU32Max",
         edited([](Model &m) { m.tensor(kNorm).n_dims = kU32Max; }),
         {kNorm, "dimensions"}},
        {"TensorNegativeDim",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {32, -2};
         }),
         {kAttnQ, "negative"}},
        {"TensorDimInt64Min",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {kInt64Min, 1};
         }),
         {kAttnQ, "negative"}},
        // 2^40 * 2^40 overflows int64
        {"TensorElementCountOverflow",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {1ll << 40, 1ll << 40};
         }),
         {kAttnQ, "too many elements"}},
        {"TensorElementCountOverflow4D",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {1ll << 16, 1ll << 16, 1ll << 16, 1ll << 16};
         }),
         {kAttnQ, "too many elements"}},
        // no elements, but the other extents' product overflows int64 (found by fuzz_imatrix)
        {"TensorEmptyWithOverflowingExtents",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {1ll << 40, 1ll << 40, 0};
         }),
         {kAttnQ, "too many elements"}},
        // 2^62 elements fit int64, 2^62 * 4 bytes do not fit uint64
        {"TensorByteSizeOverflow",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {1ll << 31, 1ll << 31};
         }),
         {kAttnQ, "too large"}},
        // 4 TiB of data in a 700-byte file
        {"TensorHugeButRepresentable",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {1ll << 30, 1ll << 10};
         }),
         {kAttnQ, "truncated"}},
        {"TensorType43", edited([](Model &m) { m.tensor(kNorm).type = 43; }), {kNorm, "type id 43"}},
        {"TensorType1000", edited([](Model &m) { m.tensor(kNorm).type = 1000; }), {kNorm, "type id 1000"}},
        {"TensorTypeU32Max", edited([](Model &m) { m.tensor(kNorm).type = kU32Max; }), {kNorm, "4294967295"}},
        // Q4_2 and Q4_3, removed from ggml long ago
        {"TensorTypeRemoved4", edited([](Model &m) { m.tensor(kNorm).type = 4; }), {kNorm, "removed"}},
        // Q4_0_4_4, removed when repacking moved into the CPU backend
        {"TensorTypeRemoved31", edited([](Model &m) { m.tensor(kNorm).type = 31; }), {kNorm, "removed"}},
        // Q4_0 blocks hold 32 weights; a row of 17 cannot be stored
        {"RowNotMultipleOfBlock",
         edited([](Model &m) {
             Tensor &t = m.tensor(kNorm);
             t.type = LB_TYPE_Q4_0;
             t.ne = {17};
             t.data.resize(18);
         }),
         {kNorm, "block size"}},

        // --- Tensor data: offsets must be the padded running sum ----------------
        {"TensorOffsetPastEnd",
         edited([](Model &m) { m.tensor(kNorm).offset = 1ull << 40; }),
         {kNorm, "offset"}},
        {"TensorOffsetU64Max", edited([](Model &m) { m.tensor(kNorm).offset = ~0ull; }), {kNorm, "offset"}},
        {"FirstTensorOffsetNot0", edited([](Model &m) { m.tensor(kAttnQ).offset = 32; }), {kAttnQ, "offset"}},
        // both tensors claim the same bytes
        {"TensorsOverlap", edited([](Model &m) { m.tensor(kNorm).offset = 0; }), {kNorm, "offset"}},
        {"TensorsOverlapPartly", edited([](Model &m) { m.tensor(kNorm).offset = 128; }), {kNorm, "offset"}},
        // a 32-byte hole between the tensors
        {"TensorOffsetGap", edited([](Model &m) { m.tensor(kNorm).offset = 288; }), {kNorm, "offset"}},
        {"TensorOffsetMisaligned", edited([](Model &m) { m.tensor(kNorm).offset = 260; }), {kNorm, "offset"}},
        // written back to back without padding: the first tensor is 264
        // bytes, so the second should start at 288, not 264
        {"TensorDataNotPadded",
         edited([](Model &m) {
             m.tensor(kAttnQ).ne = {33, 2};
             m.tensor(kAttnQ).data = f32_data(66);
             m.pad_tensors = false;
         }),
         {kNorm, "offset"}},
        // data stored in the other order than the infos
        {"TensorOffsetsOutOfOrder",
         edited([](Model &m) {
             m.tensor(kNorm).offset = 0;
             m.tensor(kAttnQ).offset = 128;
         }),
         {kAttnQ, "offset"}},
        {"TensorDataTruncated", cut(4), {kNorm, "truncated"}, InputKind::File, true},
        {"TensorDataMissing", cut(256 + 128), {"truncated"}, InputKind::File, true},
    };
}

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, InfoAndQuantizeFailCleanly) {
    const Case &c = GetParam();
    testdata::TempDir in_dir, out_dir;
    std::string input;
    std::vector<uint8_t> bytes;
    switch (c.kind) {
    case InputKind::File:
        input = in_dir.file("bad.gguf");
        bytes = c.make();
        testdata::write_file(input, bytes);
        break;
    case InputKind::Directory: input = in_dir.path(); break;
    case InputKind::Missing: input = in_dir.file("does-not-exist.gguf"); break;
    case InputKind::Fifo:
        input = in_dir.file("fifo.gguf");
        ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
        break;
    case InputKind::CharDevice: input = "/dev/null"; break;
    }
    EXPECT_TRUE(both_fail_cleanly(input, c.kind == InputKind::File ? &bytes : nullptr, out_dir, c.fragments));
    // lowbit refuses what ggml refuses, and more only for memory safety
    if (c.kind == InputKind::File) {
        const bool ggml_accepts = peer::gguf_accepts(input);
        if (c.data_out_of_bounds)
            EXPECT_TRUE(ggml_accepts) << "ggml refuses this file too: drop data_out_of_bounds";
        else
            EXPECT_FALSE(ggml_accepts)
                << "ggml's gguf_init_from_file accepts this file, so every runtime loads "
                   "it: lowbit must accept it too (see test_lenient_input.cpp)";
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

// Every proper prefix of the valid file, from 0 bytes to all but the last.
// The offsets are shared among a few threads (each mostly waits for its
// child); every failing offset is reported, up to a limit, then a count.
TEST(BadInputTruncated, EveryOffsetFailsCleanly) {
    const std::vector<uint8_t> full = valid_bytes();
    const size_t n_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    std::vector<std::vector<std::pair<size_t, std::string>>> failures(n_threads); // per thread: offset, why

    auto check_offsets = [&](size_t first) {
        testdata::TempDir in_dir, out_dir;
        const std::string input = in_dir.file("prefix.gguf");
        for (size_t n = first; n < full.size(); n += n_threads) {
            try {
                const std::vector<uint8_t> prefix(full.begin(),
                                                  full.begin() + static_cast<std::ptrdiff_t>(n));
                testdata::write_file(input, prefix);
                // Shorter than the magic it is not recognisably GGUF at all.
                // Cut within the key/value pairs or tensor infos, the counts
                // in the header are rejected up front as too large for the
                // file's size, which names the size instead of "truncated".
                const std::vector<std::string> fragments{n < 4 ? "not a GGUF file"
                                                               : "truncated|impossible for a file of " +
                                                                     std::to_string(n) + " bytes"};
                if (auto r = both_fail_cleanly(input, &prefix, out_dir, fragments); !r) {
                    failures[first].emplace_back(n, r.message());
                    for (const std::string &e : out_dir.entries()) ::unlink(out_dir.file(e).c_str());
                }
            } catch (const std::exception &e) {
                failures[first].emplace_back(n, e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (size_t k = 0; k < n_threads; ++k) threads.emplace_back(check_offsets, k);
    for (std::thread &t : threads) t.join();

    std::vector<std::pair<size_t, std::string>> all;
    for (const auto &f : failures) all.insert(all.end(), f.begin(), f.end());
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < std::min<size_t>(all.size(), 20); ++i)
        ADD_FAILURE() << "truncated at offset " << all[i].first << " of " << full.size() << ": "
                      << all[i].second;
    EXPECT_EQ(all.size(), 0u) << "truncated files (of " << full.size() << ") failed the checks";
}

// ---------------------------------------------------------------------------
// Positive controls: the builder's files are valid, so the failures above are
// caused by the one thing each case breaks.
// ---------------------------------------------------------------------------

Outcome write_and_run(const testdata::TempDir &dir, const Model &m, const std::vector<std::string> &command) {
    testdata::write_file(dir.file("model.gguf"), m.build());
    std::vector<std::string> args{command[0], dir.file("model.gguf")};
    args.insert(args.end(), command.begin() + 1, command.end());
    return run_cli(args);
}

TEST(ValidInput, InfoSucceeds) {
    testdata::TempDir dir;
    ASSERT_EQ(valid_bytes().size(), 672u);
    const Outcome r = write_and_run(dir, valid_model(), {"info"});
    ASSERT_TRUE(!r.timed_out && !r.signaled && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(contains(r.out, kAttnQ)) << r.out;
    EXPECT_TRUE(contains(r.out, kNorm)) << r.out;
    EXPECT_TRUE(contains(r.out, kTokens)) << r.out;
}

TEST(ValidInput, QuantizeSucceeds) {
    testdata::TempDir dir, out_dir;
    const std::string out = out_dir.file("out.gguf");
    const Outcome r = write_and_run(dir, valid_model(), {"quantize", out, "Q8_0"});
    ASSERT_TRUE(!r.timed_out && !r.signaled && r.exit_code == 0) << r.describe();
    EXPECT_EQ(out_dir.entries(), std::vector<std::string>{"out.gguf"});
    const Outcome info = run_cli({"info", out, "--json"});
    ASSERT_EQ(info.exit_code, 0) << info.describe();
    EXPECT_TRUE(contains(info.out, "\"name\": \"blk.0.attn_q.weight\", \"type\": \"Q8_0\"")) << info.out;
}

// The limits the corpus probes are exact: one less is accepted.
TEST(ValidInput, BoundaryValuesAreAccepted) {
    testdata::TempDir dir;
    Model name63 = valid_model();
    name63.tensor(kNorm).name = std::string(63, 'n');
    Model aligned = valid_model();
    aligned.kvs.push_back({.key = kAlignment, .value = u32_value(64)});
    aligned.alignment = 64;
    Model bools = valid_model();
    bools.kvs.push_back({.key = "test.flag", .value = bool_value(1)});
    for (const Model *m : {&name63, &aligned, &bools}) {
        const Outcome r = write_and_run(dir, *m, {"info"});
        EXPECT_TRUE(!r.timed_out && !r.signaled && r.exit_code == 0) << r.describe();
    }
}

// ---------------------------------------------------------------------------
// quantize never touches its input, nor an existing output when it fails
// ---------------------------------------------------------------------------

TEST(QuantizeSafety, OutputSameAsInputIsRefused) {
    testdata::TempDir dir;
    const std::string input = dir.file("model.gguf");
    const std::vector<uint8_t> bytes = valid_bytes();
    testdata::write_file(input, bytes);
    const Outcome r = run_cli({"quantize", input, input, "Q8_0"});
    EXPECT_TRUE(failed_cleanly(r, input, {"input"}));
    EXPECT_EQ(testdata::read_file(input), bytes);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.gguf"});
}

// The same file under another name: a symbolic link to the input.
TEST(QuantizeSafety, OutputLinkedToInputIsRefused) {
    testdata::TempDir dir;
    const std::string input = dir.file("model.gguf"), link = dir.file("link.gguf");
    const std::vector<uint8_t> bytes = valid_bytes();
    testdata::write_file(input, bytes);
    ASSERT_EQ(::symlink(input.c_str(), link.c_str()), 0);
    const Outcome r = run_cli({"quantize", input, link, "Q8_0"});
    EXPECT_TRUE(failed_cleanly(r, link, {"input"}));
    EXPECT_EQ(testdata::read_file(input), bytes);
    struct stat st;
    ASSERT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced";
    std::vector<std::string> entries = dir.entries();
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"link.gguf", "model.gguf"}));
}

// A broken input is rejected before the output is opened.
TEST(QuantizeSafety, FailureKeepsExistingOutput) {
    testdata::TempDir in_dir, out_dir;
    const std::string input = in_dir.file("bad.gguf"), out = out_dir.file("out.gguf");
    testdata::write_file(input, cut(100)());
    const std::vector<uint8_t> previous{'k', 'e', 'e', 'p', ' ', 'm', 'e', '\n'};
    testdata::write_file(out, previous);
    const Outcome r = run_cli({"quantize", input, out, "Q8_0"});
    EXPECT_TRUE(failed_cleanly(r, input, {"truncated"}));
    EXPECT_EQ(testdata::read_file(out), previous);
    EXPECT_EQ(out_dir.entries(), std::vector<std::string>{"out.gguf"});
}

// A valid file whose weights hold a NaN: info shows it, quantize fails
// part-way, after it has started writing, and must still leave the existing
// output as it was and no temporary file.
TEST(QuantizeSafety, FailurePartWayKeepsExistingOutput) {
    testdata::TempDir in_dir, out_dir;
    Model m = valid_model();
    Tensor &q = m.tensor(kAttnQ);
    const std::vector<uint8_t> nan = Bytes().f32(std::numeric_limits<float>::quiet_NaN());
    std::copy(nan.begin(), nan.end(), q.data.begin() + 4 * 40); // row 1, column 8
    const std::string input = in_dir.file("nan.gguf"), out = out_dir.file("out.gguf");
    testdata::write_file(input, m.build());
    const Outcome info = run_cli({"info", input});
    EXPECT_EQ(info.exit_code, 0) << info.describe();

    const std::vector<uint8_t> previous{'k', 'e', 'e', 'p', ' ', 'm', 'e', '\n'};
    testdata::write_file(out, previous);
    const Outcome r = run_cli({"quantize", input, out, "Q8_0"});
    EXPECT_TRUE(failed_cleanly(r, input, {kAttnQ, "row 1", "column 8"}));
    EXPECT_EQ(testdata::read_file(out), previous);
    EXPECT_EQ(out_dir.entries(), std::vector<std::string>{"out.gguf"});
}

} // namespace
