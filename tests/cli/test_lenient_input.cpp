// Files that are not quite right but that ggml's GGUF reader accepts, so that
// every runtime (llama.cpp, Ollama, LM Studio, node-llama-cpp) loads them:
// lowbit must load and quantize them too, read them as ggml reads them, and
// say what was odd in a warning.
//
// For each case: ggml's gguf_init_from_file accepts the file (the premise);
// `lowbit info` and `lowbit quantize` succeed, printing the expected warnings
// and nothing else on stderr; the keys, bool values, tensor names and shapes
// lowbit reads are those ggml reads (its keys as the C strings runtimes look
// up, first match winning); the quantized file is accepted by ggml and holds
// the same keys and tensors.
#include "ggml_peer.hpp"
#include "gguf_builder.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace {

using namespace gguf_builder;
using clitest::Outcome;
using clitest::run_cli;

constexpr const char *kArch = "general.architecture";
constexpr const char *kBlocks = "llama.block_count";
constexpr const char *kAttnQ = "blk.0.attn_q.weight";
constexpr const char *kNorm = "output_norm.weight";

Model valid_model() {
    Model m;
    m.kvs = {
        {.key = kArch, .value = string_value("llama")},
        {.key = kBlocks, .value = u32_value(1)},
        {.key = "tokenizer.ggml.tokens", .value = string_array_value({"a", "b"})},
    };
    m.tensors = {
        {.name = kAttnQ, .ne = {32, 2}, .type = 0, .data = f32_data(64)},
        {.name = kNorm, .ne = {32}, .type = 0, .data = f32_data(32)},
    };
    return m;
}

struct Case {
    std::string name;
    std::function<void(Model &)> edit;
    // each warning line must mention these (one entry per expected warning)
    std::vector<std::vector<std::string>> warnings;
};

void PrintTo(const Case &c, std::ostream *os) {
    *os << c.name;
}

std::vector<Case> cases() {
    return {
        // ggml reads a bool as "byte != 0"
        {"BoolValue74",
         [](Model &m) { m.kvs.push_back({.key = "test.flag", .value = bool_value(74)}); },
         {{"test.flag", "74", "true"}}},
        {"BoolArrayValue255",
         [](Model &m) {
             m.kvs.push_back(
                 {.key = "test.flags", .value = Bytes().u32(kArray).u32(kBool).u64(3).u8(1).u8(0).u8(255)});
         },
         {{"test.flags", "255", "true"}}},
        // runtimes look keys up as C strings: the part before the NUL
        {"KeyWithNul",
         [](Model &m) { m.kvs.push_back({.key = std::string("tokenize\0r.x", 12), .value = u32_value(2)}); },
         {{"key 3", "NUL", "'tokenize'"}}},
        // ... so a key that reads as an earlier one is never found
        {"KeyWithNulRepeatsAnEarlierKey",
         [](Model &m) {
             m.kvs.push_back({.key = std::string("llama.block_count\0x", 19), .value = u32_value(7)});
         },
         {{"key 3", "NUL", "ignored"}}},
        {"KeyWithNulFirst",
         [](Model &m) { m.kvs.push_back({.key = std::string("\0abc", 4), .value = u32_value(7)}); },
         {{"key 3", "NUL", "empty", "ignored"}}},
        // ggml keeps a tensor's name as a C string
        {"TensorNameWithNul",
         [](Model &m) { m.tensor(kNorm).name = std::string("output\0norm", 11); },
         {{"tensor 1", "NUL", "'output'"}}},
        // no dimensions: a scalar, one element
        {"TensorDims0",
         [](Model &m) {
             m.tensor(kNorm).ne = {};
             m.tensor(kNorm).data = f32_data(1);
         },
         {}},
        // any power of two, when no tensor data has to start there
        {"Alignment2Pow31WithoutTensors",
         [](Model &m) {
             m.kvs.push_back({.key = "general.alignment", .value = u32_value(1u << 31)});
             m.tensors.clear();
         },
         {}},
    };
}

// What a GGUF reader saw: keys with the bytes of scalar values, tensors.
struct View {
    std::vector<std::string> keys;
    std::map<std::string, std::vector<uint8_t>> bools; // bool keys: their values
    std::vector<std::string> tensors;
    std::vector<std::vector<int64_t>> shapes;
};

// The file as a runtime reads it through ggml: keys as C strings, a repeated
// or empty one never found (ggml's gguf_find_key returns the first match).
View ggml_view(const std::string &path) {
    const peer::Ggml &g = peer::Ggml::get();
    View v;
    void *ctx = g.gguf_init_from_file(path.c_str(), {true, nullptr});
    if (ctx == nullptr) throw std::runtime_error("ggml refuses " + path);
    for (int64_t i = 0; i < g.gguf_get_n_kv(ctx); ++i) {
        const std::string key = g.gguf_get_key(ctx, i);
        if (key.empty() || std::find(v.keys.begin(), v.keys.end(), key) != v.keys.end()) continue;
        v.keys.push_back(key);
        const int type = g.gguf_get_kv_type(ctx, i);
        if (type == kBool) {
            const auto *b = static_cast<const uint8_t *>(g.gguf_get_val_data(ctx, i));
            v.bools[key] = {b[0]};
        } else if (type == kArray && g.gguf_get_arr_type(ctx, i) == kBool) {
            const auto *b = static_cast<const uint8_t *>(g.gguf_get_arr_data(ctx, i));
            v.bools[key] = std::vector<uint8_t>(b, b + g.gguf_get_arr_n(ctx, i));
        }
    }
    for (int64_t i = 0; i < g.gguf_get_n_tensors(ctx); ++i) {
        v.tensors.push_back(g.gguf_get_tensor_name(ctx, i));
        const int64_t *ne = g.gguf_get_tensor_ne(ctx, i);
        v.shapes.push_back({ne[0], ne[1], ne[2], ne[3]});
    }
    g.gguf_free(ctx);
    return v;
}

View lowbit_view(const std::string &path) {
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK) throw std::runtime_error(lb_last_error());
    View v;
    for (size_t i = 0; i < lb_model_kv_count(m); ++i) {
        const std::string key = lb_model_kv_key(m, i);
        v.keys.push_back(key);
        if (lb_model_kv_type(m, i) == LB_VALUE_BOOL) {
            int b = 0;
            lb_model_kv_get_bool(&b, m, i);
            v.bools[key] = {static_cast<uint8_t>(b)};
        } else if (lb_model_kv_type(m, i) == LB_VALUE_ARRAY) {
            lb_value_type elem;
            uint64_t n = 0;
            const void *data = nullptr;
            if (lb_model_kv_get_array_info(&elem, &n, m, i) == LB_OK && elem == LB_VALUE_BOOL &&
                lb_model_kv_get_array_data(&data, m, i) == LB_OK) {
                const auto *b = static_cast<const uint8_t *>(data);
                v.bools[key] = std::vector<uint8_t>(b, b + n);
            }
        }
    }
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        v.tensors.push_back(lb_model_tensor_name(m, i));
        std::vector<int64_t> shape;
        for (uint32_t d = 0; d < 4; ++d) shape.push_back(lb_model_tensor_dim(m, i, d));
        v.shapes.push_back(shape);
    }
    lb_model_close(m);
    return v;
}

// stderr holds exactly one "lowbit: warning:" line per expected warning, each
// naming the file and its fragments, and nothing else.
::testing::AssertionResult warned(const std::string &err, const std::string &input,
                                  const std::vector<std::vector<std::string>> &expected) {
    std::vector<std::string> lines;
    for (size_t begin = 0; begin < err.size();) {
        const size_t end = err.find('\n', begin);
        lines.push_back(err.substr(begin, end - begin));
        begin = end == std::string::npos ? err.size() : end + 1;
    }
    if (lines.size() != expected.size())
        return ::testing::AssertionFailure() << "expected " << expected.size() << " warning(s), stderr is:\n"
                                             << err;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("lowbit: warning: " + input, 0) != 0)
            return ::testing::AssertionFailure() << "not a warning naming the file: " << lines[i];
        for (const std::string &f : expected[i])
            if (lines[i].find(f) == std::string::npos)
                return ::testing::AssertionFailure()
                       << "the warning does not mention '" << f << "': " << lines[i];
    }
    return ::testing::AssertionSuccess();
}

class LenientInput : public ::testing::TestWithParam<Case> {};

TEST_P(LenientInput, LoadsAndQuantizesAsGgmlReadsIt) {
    const Case &c = GetParam();
    testdata::TempDir in_dir, out_dir;
    const std::string input = in_dir.file("odd.gguf"), out = out_dir.file("out.gguf");
    Model m = valid_model();
    c.edit(m);
    const std::vector<uint8_t> bytes = m.build();
    testdata::write_file(input, bytes);
    ASSERT_TRUE(peer::gguf_accepts(input)) << "the premise: ggml's gguf_init_from_file accepts the file";

    const Outcome info = run_cli({"info", input});
    ASSERT_TRUE(!info.timed_out && !info.signaled && info.exit_code == 0) << info.describe();
    EXPECT_TRUE(warned(info.err, input, c.warnings));

    const View want = ggml_view(input), got = lowbit_view(input);
    EXPECT_EQ(got.keys, want.keys);
    EXPECT_EQ(got.bools, want.bools);
    EXPECT_EQ(got.tensors, want.tensors);
    EXPECT_EQ(got.shapes, want.shapes);

    const Outcome q = run_cli({"quantize", input, out, "Q8_0"});
    ASSERT_TRUE(!q.timed_out && !q.signaled && q.exit_code == 0) << q.describe();
    EXPECT_TRUE(warned(q.err, input, c.warnings));
    EXPECT_EQ(out_dir.entries(), std::vector<std::string>{"out.gguf"});
    EXPECT_EQ(testdata::read_file(input), bytes) << "the input was modified";
    ASSERT_TRUE(peer::gguf_accepts(out)) << "ggml refuses lowbit's output";
    const View written = ggml_view(out);
    std::vector<std::string> keys = want.keys;
    for (const char *k : {"general.quantization_version", "general.file_type"})
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    EXPECT_EQ(written.keys, keys);
    EXPECT_EQ(written.bools, want.bools);
    EXPECT_EQ(written.tensors, want.tensors);
    EXPECT_EQ(written.shapes, want.shapes);
}

INSTANTIATE_TEST_SUITE_P(GgmlAccepts, LenientInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

} // namespace

namespace {

// The bytes of tensor `name` in a GGUF file, through the C API.
std::vector<uint8_t> tensor_bytes(const std::string &path, const std::string &name) {
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK) throw std::runtime_error(lb_last_error());
    size_t i = 0;
    const void *p = nullptr;
    uint64_t n = 0;
    std::vector<uint8_t> out;
    if (lb_model_tensor_find(&i, m, name.c_str()) == LB_OK && lb_model_tensor_data(&p, &n, m, i) == LB_OK)
        out.assign(static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
    lb_model_close(m);
    return out;
}

// general.alignment = 1 lets tensor data start at any address, here an odd
// one: the quantizer must read such rows (found by fuzz_model: a misaligned
// binary16 load) and give the bytes it gives for an aligned file.
TEST(LenientInputAlignment, RowsAtOddAddressesQuantizeAsAlignedOnes) {
    testdata::TempDir dir;
    Bytes f16;
    for (int i = 0; i < 64; ++i) f16.u16(static_cast<uint16_t>(0x3c00 + 37 * i)); // 1.0 and up
    auto model = [&](uint32_t alignment, int64_t pad) {
        Model m = valid_model();
        m.tensors[0] = {.name = kAttnQ, .ne = {32, 2}, .type = LB_TYPE_F16, .data = f16};
        m.tensors.insert(m.tensors.begin(), {.name = "pad",
                                             .ne = {pad},
                                             .type = LB_TYPE_I8,
                                             .data = std::vector<uint8_t>(static_cast<size_t>(pad), 0)});
        if (alignment != 32) m.kvs.push_back({.key = "general.alignment", .value = u32_value(alignment)});
        m.alignment = alignment;
        return m;
    };
    // pick the pad that puts blk.0.attn_q.weight at an odd file offset
    int64_t pad = 1;
    {
        const std::vector<uint8_t> b = model(1, 1).build();
        const size_t data_start = b.size() - (1 + 128 + 128);
        if ((data_start + 1) % 2 == 0) pad = 2;
    }
    const std::string odd = dir.file("odd.gguf"), even = dir.file("even.gguf");
    testdata::write_file(odd, model(1, pad).build());
    testdata::write_file(even, model(32, pad).build());
    ASSERT_TRUE(peer::gguf_accepts(odd));
    for (const char *type : {"Q8_0", "Q4_0", "F32"}) {
        const Outcome a = run_cli({"quantize", odd, dir.file("odd-out.gguf"), type});
        const Outcome b = run_cli({"quantize", even, dir.file("even-out.gguf"), type});
        ASSERT_EQ(a.exit_code, 0) << a.describe();
        ASSERT_EQ(b.exit_code, 0) << b.describe();
        EXPECT_EQ(tensor_bytes(dir.file("odd-out.gguf"), kAttnQ),
                  tensor_bytes(dir.file("even-out.gguf"), kAttnQ))
            << type;
    }
}

} // namespace
