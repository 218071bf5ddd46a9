// Split models: the shards of "name-0000i-of-0000n.gguf" read as one model,
// quantized into one file or (--keep-split) into shards again; broken sets
// (a missing shard, a shard opened out of order) are clear errors.
#include "common/error.hpp"
#include "gguf/gguf_file.hpp"
#include "gguf/writer.hpp"
#include "lowbit/lowbit.h"
#include "model/model.hpp"
#include "test_data.hpp"

#include <cstring>
#include <gtest/gtest.h>

namespace {

using namespace lb::gguf;

Value u16(uint16_t v) {
    Value x;
    x.type = ValueType::U16;
    x.bytes.resize(2);
    std::memcpy(x.bytes.data(), &v, 2);
    return x;
}

Value i32(int32_t v) {
    Value x;
    x.type = ValueType::I32;
    x.bytes.resize(4);
    std::memcpy(x.bytes.data(), &v, 4);
    return x;
}

// Splits the shipped model into n shards named prefix-0000i-of-0000n.gguf, as
// llama.cpp's gguf-split does: every shard carries split.no, split.count and
// split.tensors.count; the first also carries the model's metadata.
void write_split(const std::string &prefix, int n) {
    GgufFile in(testdata::stories_path());
    const auto &tensors = in.header().tensors;
    const size_t per = (tensors.size() + n - 1) / n;
    for (int s = 0; s < n; ++s) {
        std::vector<KeyValue> kvs;
        if (s == 0) kvs = in.header().kvs;
        kvs.push_back({"split.no", u16(static_cast<uint16_t>(s))});
        kvs.push_back({"split.count", u16(static_cast<uint16_t>(n))});
        kvs.push_back({"split.tensors.count", i32(static_cast<int32_t>(tensors.size()))});
        std::vector<TensorInfo> part;
        std::vector<size_t> index;
        for (size_t i = s * per; i < std::min(tensors.size(), (s + 1) * per); ++i) {
            part.push_back(tensors[i]);
            index.push_back(i);
        }
        Writer w(lb::split_path(prefix, s + 1, n), kvs, part);
        for (size_t i : index) {
            w.write(in.tensor_data(i), tensors[i].size);
            w.end_tensor();
        }
        w.commit();
    }
}

TEST(SplitModels, ShardsReadAsOneModel) {
    testdata::TempDir dir;
    write_split(dir.file("stories"), 3);
    lb::Model split(lb::split_path(dir.file("stories"), 1, 3));
    lb::Model whole(testdata::stories_path());
    ASSERT_EQ(split.shard_count(), 3u);
    ASSERT_EQ(split.tensors().size(), whole.tensors().size());
    for (size_t i = 0; i < whole.tensors().size(); ++i) {
        EXPECT_EQ(split.tensors()[i].info->name, whole.tensors()[i].info->name);
        EXPECT_EQ(
            std::memcmp(split.tensors()[i].data, whole.tensors()[i].data, whole.tensors()[i].info->size), 0);
    }
    EXPECT_EQ(split.tensors().back().shard, 2u);
}

TEST(SplitModels, QuantizedIntoOneFileOrIntoShards) {
    testdata::TempDir dir;
    write_split(dir.file("stories"), 2);
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, lb::split_path(dir.file("stories"), 1, 2).c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_model_shard_count(m), 2u);
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, LB_FTYPE_Q8_0), LB_OK);
    ASSERT_EQ(lb_quantizer_run(q, m, dir.file("one.gguf").c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_quantizer_stat(q, LB_STAT_OUTPUT_FILES), 1u);
    // the same bytes as quantizing the unsplit model
    {
        lb_model *whole = nullptr;
        ASSERT_EQ(lb_model_open(&whole, testdata::stories_path().c_str()), LB_OK);
        ASSERT_EQ(lb_quantizer_run(q, whole, dir.file("whole.gguf").c_str()), LB_OK) << lb_last_error();
        lb_model_close(whole);
        EXPECT_EQ(testdata::read_file(dir.file("one.gguf")), testdata::read_file(dir.file("whole.gguf")));
    }
    // --keep-split: one shard per input shard, a split set again
    ASSERT_EQ(lb_quantizer_set_keep_split(q, 1), LB_OK);
    ASSERT_EQ(lb_quantizer_run(q, m, dir.file("kept.gguf").c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_quantizer_stat(q, LB_STAT_OUTPUT_FILES), 2u);
    EXPECT_TRUE(testdata::file_exists(dir.file("kept-00001-of-00002.gguf")));
    EXPECT_TRUE(testdata::file_exists(dir.file("kept-00002-of-00002.gguf")));
    lb::Model kept(dir.file("kept-00001-of-00002.gguf"));
    lb::Model one(dir.file("one.gguf"));
    ASSERT_EQ(kept.tensors().size(), one.tensors().size());
    for (size_t i = 0; i < one.tensors().size(); ++i) {
        EXPECT_EQ(kept.tensors()[i].info->type, one.tensors()[i].info->type);
        EXPECT_EQ(std::memcmp(kept.tensors()[i].data, one.tensors()[i].data, one.tensors()[i].info->size), 0);
    }
    lb_quantizer_free(q);
    lb_model_close(m);
}

TEST(SplitModels, MissingShardIsAClearError) {
    testdata::TempDir dir;
    write_split(dir.file("stories"), 3);
    ::unlink(lb::split_path(dir.file("stories"), 2, 3).c_str());
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, lb::split_path(dir.file("stories"), 1, 3).c_str()), LB_E_IO);
    EXPECT_NE(std::string(lb_last_error()).find("stories-00002-of-00003.gguf"), std::string::npos)
        << lb_last_error();
    EXPECT_NE(std::string(lb_last_error()).find("missing"), std::string::npos) << lb_last_error();
}

TEST(SplitModels, OpeningALaterShardIsAClearError) {
    testdata::TempDir dir;
    write_split(dir.file("stories"), 2);
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, lb::split_path(dir.file("stories"), 2, 2).c_str()), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("open the first shard"), std::string::npos)
        << lb_last_error();
}

} // namespace
