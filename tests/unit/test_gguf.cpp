// The GGUF reader and writer on real files: the shipped model reads as
// llama.cpp describes it, writing it back gives the same bytes, every value
// type round-trips, and an unfinished write leaves nothing behind.
#include "common/error.hpp"
#include "gguf/gguf_file.hpp"
#include "gguf/writer.hpp"
#include "test_data.hpp"

#include <cstring>
#include <gtest/gtest.h>

namespace {

using namespace lb::gguf;

TEST(GgufReader, ReadsTheShippedModel) {
    GgufFile f(testdata::stories_path());
    const Header &h = f.header();
    EXPECT_EQ(h.version, 3u);
    EXPECT_EQ(h.alignment, 32u);
    EXPECT_EQ(h.kvs.size(), 19u);
    ASSERT_EQ(h.tensors.size(), 48u);
    EXPECT_EQ(h.tensors[0].name, "token_embd.weight");
    EXPECT_EQ(h.tensors[0].n_dims, 2u);
    EXPECT_EQ(h.tensors[0].ne[0], 64);
    EXPECT_EQ(h.tensors[0].ne[1], 512);
    EXPECT_EQ(h.tensors[0].type, 0u);
    const long arch = find_key(h.kvs, "general.architecture");
    ASSERT_GE(arch, 0);
    EXPECT_EQ(h.kvs[static_cast<size_t>(arch)].value.strings.at(0), "llama");
    const long tokens = find_key(h.kvs, "tokenizer.ggml.tokens");
    ASSERT_GE(tokens, 0);
    EXPECT_EQ(h.kvs[static_cast<size_t>(tokens)].value.count, 512u);
    EXPECT_EQ(h.kvs[static_cast<size_t>(tokens)].value.strings.at(1), "<s>");
    // the data section ends exactly at the end of the file
    const TensorInfo &last = h.tensors.back();
    EXPECT_EQ(h.data_offset + last.offset + last.size, f.file_size());
}

// Reading then writing an unmodified file gives identical bytes.
TEST(GgufWriter, RewritingTheShippedModelGivesIdenticalBytes) {
    GgufFile in(testdata::stories_path());
    testdata::TempDir dir;
    const std::string out = dir.file("copy.gguf");
    {
        Writer w(out, in.header().kvs, in.header().tensors);
        for (size_t i = 0; i < in.header().tensors.size(); ++i) {
            w.write(in.tensor_data(i), in.header().tensors[i].size);
            w.end_tensor();
        }
        w.commit();
    }
    EXPECT_EQ(testdata::read_file(out), testdata::read_file(testdata::stories_path()));
    EXPECT_EQ(dir.entries().size(), 1u);
}

Value numeric_array(ValueType type, std::vector<uint8_t> bytes, uint64_t count) {
    Value v;
    v.type = ValueType::ARRAY;
    v.elem_type = type;
    v.count = count;
    v.bytes = std::move(bytes);
    return v;
}

Value scalar(ValueType type, std::vector<uint8_t> bytes) {
    Value v;
    v.type = type;
    v.bytes = std::move(bytes);
    return v;
}

TEST(GgufWriter, EveryValueTypeRoundTrips) {
    std::vector<KeyValue> kvs = {
        {"t.u8", scalar(ValueType::U8, {200})},
        {"t.i8", scalar(ValueType::I8, {0x80})},
        {"t.u16", scalar(ValueType::U16, {1, 2})},
        {"t.i16", scalar(ValueType::I16, {0xff, 0xff})},
        {"t.u32", Value::u32(123456789)},
        {"t.i32", scalar(ValueType::I32, {1, 2, 3, 0x84})},
        {"t.f32", scalar(ValueType::F32, {0, 0, 0xc0, 0x3f})},
        {"t.bool", scalar(ValueType::BOOL, {1})},
        {"t.str", Value::string(std::string("with\0nul and \xe2\x82\xac", 16))},
        {"t.u64", scalar(ValueType::U64, {1, 2, 3, 4, 5, 6, 7, 8})},
        {"t.i64", scalar(ValueType::I64, {8, 7, 6, 5, 4, 3, 2, 0x81})},
        {"t.f64", scalar(ValueType::F64, {0, 0, 0, 0, 0, 0, 0xf0, 0x3f})},
        {"t.arr.u16", numeric_array(ValueType::U16, {1, 0, 2, 0, 3, 0}, 3)},
        {"t.arr.bool", numeric_array(ValueType::BOOL, {0, 1}, 2)},
        {"t.arr.empty", numeric_array(ValueType::F32, {}, 0)},
        {"general.alignment", Value::u32(64)},
    };
    Value strs;
    strs.type = ValueType::ARRAY;
    strs.elem_type = ValueType::STRING;
    strs.strings = {"a", "", "long string"};
    strs.count = 3;
    kvs.push_back({"t.arr.str", strs});

    std::vector<TensorInfo> tensors(2);
    tensors[0].name = "a.weight";
    tensors[0].n_dims = 2;
    tensors[0].ne[0] = 32;
    tensors[0].ne[1] = 3;
    tensors[0].type = 2; // Q4_0: 3 blocks of 18 bytes
    tensors[0].size = 54;
    tensors[1].name = "b";
    tensors[1].n_dims = 1;
    tensors[1].ne[0] = 5;
    tensors[1].type = 0;
    tensors[1].size = 20;

    testdata::TempDir dir;
    const std::string path = dir.file("values.gguf");
    {
        Writer w(path, kvs, tensors);
        std::vector<uint8_t> a(54, 0xab), b(20, 0xcd);
        w.write(a.data(), a.size());
        w.end_tensor();
        w.write(b.data(), b.size());
        w.end_tensor();
        w.commit();
    }
    GgufFile f(path);
    const Header &h = f.header();
    ASSERT_EQ(h.kvs.size(), kvs.size());
    for (size_t i = 0; i < kvs.size(); ++i) {
        SCOPED_TRACE(kvs[i].key);
        EXPECT_EQ(h.kvs[i].key, kvs[i].key);
        EXPECT_EQ(h.kvs[i].value.type, kvs[i].value.type);
        EXPECT_EQ(h.kvs[i].value.bytes, kvs[i].value.bytes);
        EXPECT_EQ(h.kvs[i].value.strings, kvs[i].value.strings);
        EXPECT_EQ(h.kvs[i].value.count, kvs[i].value.count);
    }
    EXPECT_EQ(h.alignment, 64u);
    EXPECT_EQ(h.data_offset % 64, 0u);
    EXPECT_EQ(h.tensors[1].offset, 64u); // 54 bytes padded to 64
    EXPECT_EQ(f.tensor_data(0)[0], 0xab);
    EXPECT_EQ(f.tensor_data(1)[19], 0xcd);
}

TEST(GgufReader, AcceptsVersion2) {
    std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    bytes[4] = 2;
    const Header h = parse(bytes.data(), bytes.size(), "v2.gguf");
    EXPECT_EQ(h.version, 2u);
    EXPECT_EQ(h.tensors.size(), 48u);
}

TEST(GgufReader, RejectsVersion1AndBigEndian) {
    std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    bytes[4] = 1;
    try {
        parse(bytes.data(), bytes.size(), "v1.gguf");
        FAIL() << "version 1 accepted";
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), LB_E_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("v1.gguf"), std::string::npos);
    }
    const uint8_t be[4] = {0, 0, 0, 3};
    std::memcpy(bytes.data() + 4, be, 4);
    try {
        parse(bytes.data(), bytes.size(), "be.gguf");
        FAIL() << "big-endian file accepted";
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), LB_E_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("big-endian"), std::string::npos);
    }
}

// A write that is never committed leaves neither the output nor a temporary.
TEST(GgufWriter, AbandonedWriteLeavesNothing) {
    GgufFile in(testdata::stories_path());
    testdata::TempDir dir;
    {
        Writer w(dir.file("out.gguf"), in.header().kvs, in.header().tensors);
        w.write(in.tensor_data(0), 100);
        EXPECT_TRUE(dir.entries().empty()); // written to an unnamed file
    }
    EXPECT_TRUE(dir.entries().empty());
}

} // namespace
