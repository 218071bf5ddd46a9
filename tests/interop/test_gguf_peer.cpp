// Files lowbit writes, read by llama.cpp's own GGUF reader (libggml-base's
// gguf_init_from_file): it accepts them and sees the same keys, values and
// tensors lowbit wrote.
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <string>

namespace {

size_t value_size(int type) {
    switch (type) {
    case LB_VALUE_U8:
    case LB_VALUE_I8:
    case LB_VALUE_BOOL: return 1;
    case LB_VALUE_U16:
    case LB_VALUE_I16: return 2;
    case LB_VALUE_U32:
    case LB_VALUE_I32:
    case LB_VALUE_F32: return 4;
    default: return 8;
    }
}

// Everything ggml's reader sees in path equals what lowbit's reader sees.
void expect_same_view(const std::string &path) {
    SCOPED_TRACE(path);
    const peer::Ggml &g = peer::Ggml::get();
    void *ctx = g.gguf_init_from_file(path.c_str(), {true, nullptr});
    ASSERT_NE(ctx, nullptr) << "ggml's gguf reader rejected " << path;
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();

    EXPECT_EQ(g.gguf_get_version(ctx), lb_model_gguf_version(m));
    EXPECT_EQ(g.gguf_get_alignment(ctx), lb_model_alignment(m));
    EXPECT_EQ(g.gguf_get_data_offset(ctx), lb_model_data_offset(m));
    ASSERT_EQ(static_cast<size_t>(g.gguf_get_n_kv(ctx)), lb_model_kv_count(m));
    for (size_t i = 0; i < lb_model_kv_count(m); ++i) {
        const int64_t id = static_cast<int64_t>(i);
        SCOPED_TRACE(lb_model_kv_key(m, i));
        EXPECT_STREQ(g.gguf_get_key(ctx, id), lb_model_kv_key(m, i));
        const int type = g.gguf_get_kv_type(ctx, id);
        ASSERT_EQ(type, static_cast<int>(lb_model_kv_type(m, i)));
        if (type == LB_VALUE_STRING) {
            const char *s = nullptr;
            ASSERT_EQ(lb_model_kv_get_string(&s, nullptr, m, i), LB_OK);
            EXPECT_STREQ(g.gguf_get_val_str(ctx, id), s);
        } else if (type == LB_VALUE_ARRAY) {
            lb_value_type et;
            uint64_t count;
            ASSERT_EQ(lb_model_kv_get_array_info(&et, &count, m, i), LB_OK);
            ASSERT_EQ(g.gguf_get_arr_type(ctx, id), static_cast<int>(et));
            ASSERT_EQ(g.gguf_get_arr_n(ctx, id), count);
            if (et == LB_VALUE_STRING) {
                for (uint64_t j = 0; j < count; ++j) {
                    const char *s = nullptr;
                    ASSERT_EQ(lb_model_kv_get_array_string(&s, nullptr, m, i, j), LB_OK);
                    ASSERT_STREQ(g.gguf_get_arr_str(ctx, id, j), s) << "element " << j;
                }
            } else {
                const void *data = nullptr;
                ASSERT_EQ(lb_model_kv_get_array_data(&data, m, i), LB_OK);
                EXPECT_EQ(std::memcmp(g.gguf_get_arr_data(ctx, id), data, count * value_size(et)), 0);
            }
        } else {
            // scalars: compare the raw value through lowbit's typed getters
            const void *theirs = g.gguf_get_val_data(ctx, id);
            uint8_t ours[8] = {};
            if (type == LB_VALUE_F32 || type == LB_VALUE_F64) {
                double d;
                ASSERT_EQ(lb_model_kv_get_float(&d, m, i), LB_OK);
                if (type == LB_VALUE_F32) {
                    const float f = static_cast<float>(d);
                    std::memcpy(ours, &f, 4);
                } else {
                    std::memcpy(ours, &d, 8);
                }
            } else if (type == LB_VALUE_BOOL) {
                int b;
                ASSERT_EQ(lb_model_kv_get_bool(&b, m, i), LB_OK);
                ours[0] = static_cast<uint8_t>(b);
            } else {
                uint64_t u = 0;
                int64_t s = 0;
                if (lb_model_kv_get_uint(&u, m, i) != LB_OK) {
                    ASSERT_EQ(lb_model_kv_get_int(&s, m, i), LB_OK);
                    u = static_cast<uint64_t>(s);
                }
                std::memcpy(ours, &u, 8); // little-endian: the low bytes are the value
            }
            EXPECT_EQ(std::memcmp(theirs, ours, value_size(type)), 0);
        }
    }
    ASSERT_EQ(static_cast<size_t>(g.gguf_get_n_tensors(ctx)), lb_model_tensor_count(m));
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        const int64_t id = static_cast<int64_t>(i);
        SCOPED_TRACE(lb_model_tensor_name(m, i));
        EXPECT_STREQ(g.gguf_get_tensor_name(ctx, id), lb_model_tensor_name(m, i));
        EXPECT_EQ(g.gguf_get_tensor_type(ctx, id), static_cast<int>(lb_model_tensor_type(m, i)));
        EXPECT_EQ(g.gguf_get_tensor_offset(ctx, id) + g.gguf_get_data_offset(ctx),
                  lb_model_tensor_file_offset(m, i));
        EXPECT_EQ(g.gguf_get_tensor_size(ctx, id), lb_model_tensor_size(m, i));
        const int64_t *ne = g.gguf_get_tensor_ne(ctx, id);
        for (uint32_t d = 0; d < 4; ++d) EXPECT_EQ(ne[d], lb_model_tensor_dim(m, i, d));
    }
    lb_model_close(m);
    g.gguf_free(ctx);
}

TEST(GgufPeer, ReadsTheShippedModelAsLowbitDoes) {
    expect_same_view(testdata::stories_path());
}

TEST(GgufPeer, ReadsEveryFileLowbitWrites) {
    testdata::TempDir dir;
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK);
    for (lb_ftype f : {LB_FTYPE_ALL_F32, LB_FTYPE_F16, LB_FTYPE_BF16, LB_FTYPE_Q4_0, LB_FTYPE_Q4_1,
                       LB_FTYPE_Q5_0, LB_FTYPE_Q5_1, LB_FTYPE_Q8_0}) {
        lb_quantizer *q = nullptr;
        ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
        ASSERT_EQ(lb_quantizer_set_ftype(q, f), LB_OK);
        const std::string out = dir.file(std::string(lb_ftype_name(f)) + ".gguf");
        ASSERT_EQ(lb_quantizer_run(q, m, out.c_str()), LB_OK) << lb_last_error();
        lb_quantizer_free(q);
        expect_same_view(out);
    }
    lb_model_close(m);
}

} // namespace
