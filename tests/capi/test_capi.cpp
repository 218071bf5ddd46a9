// The public C API through the shared library: versions, errors, types, the
// row API, reading models.
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string last_error() {
    return lb_last_error();
}

TEST(CApi, Version) {
    EXPECT_STREQ(lb_version(), LB_VERSION_STRING);
    EXPECT_EQ(lb_version_number(), static_cast<uint32_t>(LB_VERSION_NUMBER));
}

TEST(CApi, StatusNames) {
    EXPECT_STREQ(lb_status_name(LB_OK), "LB_OK");
    EXPECT_STREQ(lb_status_name(LB_E_FORMAT), "LB_E_FORMAT");
    EXPECT_STREQ(lb_status_name(static_cast<lb_status>(-1000)), "LB_E_UNKNOWN");
}

TEST(CApi, LastErrorIsPerThreadAndNeverNull) {
    std::thread([] { EXPECT_STREQ(lb_last_error(), ""); }).join();
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, "/nonexistent/model.gguf"), LB_E_IO);
    EXPECT_NE(last_error().find("/nonexistent/model.gguf"), std::string::npos);
    std::thread([] { EXPECT_STREQ(lb_last_error(), ""); }).join();
}

TEST(CApi, NullArgumentsAreErrors) {
    EXPECT_EQ(lb_model_open(nullptr, "x"), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("out"), std::string::npos);
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, nullptr), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("path"), std::string::npos);
    EXPECT_EQ(lb_quantizer_new(nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantizer_set_threads(nullptr, 1), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantizer_run(nullptr, nullptr, nullptr), LB_E_INVALID_ARG);
    lb_model_close(nullptr);
    lb_quantizer_free(nullptr);
    lb_quantizer_cancel(nullptr);
}

TEST(CApi, Types) {
    EXPECT_STREQ(lb_type_name(LB_TYPE_Q4_0), "Q4_0");
    EXPECT_EQ(lb_type_name(static_cast<lb_type>(4)), nullptr); // removed id
    lb_type t;
    ASSERT_EQ(lb_type_from_name(&t, "q5_1"), LB_OK);
    EXPECT_EQ(t, LB_TYPE_Q5_1);
    EXPECT_EQ(lb_type_from_name(&t, "q9_9"), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("q9_9"), std::string::npos);
    EXPECT_EQ(lb_type_block_size(LB_TYPE_Q4_K), 256);
    EXPECT_EQ(lb_type_block_bytes(LB_TYPE_Q4_0), 18u);
    EXPECT_EQ(lb_type_is_quantized(LB_TYPE_Q8_0), 1);
    EXPECT_EQ(lb_type_is_quantized(LB_TYPE_BF16), 0);
    EXPECT_EQ(lb_type_can_quantize(LB_TYPE_Q5_0), 1);
    EXPECT_EQ(lb_type_can_dequantize(LB_TYPE_Q8_1), 1);
    EXPECT_EQ(lb_type_requires_imatrix(LB_TYPE_IQ2_XXS), 1);
    size_t size = 0;
    ASSERT_EQ(lb_row_size(&size, LB_TYPE_Q4_1, 4096), LB_OK);
    EXPECT_EQ(size, 4096u / 32 * 20);
    EXPECT_EQ(lb_row_size(&size, LB_TYPE_Q4_1, 100), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("block size"), std::string::npos);
}

// lowbit's extension types (the tiled layouts): named, the base type's
// geometry, no row functions (their rows depend on each other).
TEST(CApi, TiledExtensionTypes) {
    EXPECT_STREQ(lb_type_name(LB_TYPE_Q8R16), "Q8R16");
    EXPECT_STREQ(lb_type_name(LB_TYPE_Q4_K_4), "Q4_K_4");
    EXPECT_EQ(lb_type_name(static_cast<lb_type>(1026)), nullptr);
    lb_type t;
    ASSERT_EQ(lb_type_from_name(&t, "q8r16"), LB_OK);
    EXPECT_EQ(t, LB_TYPE_Q8R16);
    EXPECT_EQ(lb_type_block_bytes(LB_TYPE_Q8R16), lb_type_block_bytes(LB_TYPE_Q8_0));
    EXPECT_EQ(lb_type_block_size(LB_TYPE_Q4_K_4), 256);
    EXPECT_EQ(lb_type_can_quantize(LB_TYPE_Q8R16), 0);
    EXPECT_EQ(lb_type_can_dequantize(LB_TYPE_Q4_K_4), 0);
    std::vector<float> x(64, 1.0f);
    std::vector<uint8_t> q(2 * 34 * 16);
    EXPECT_NE(lb_quantize_rows(LB_TYPE_Q8R16, x.data(), 1, 64, nullptr, q.data(), q.size()), LB_OK);
}

TEST(CApi, RepackArgumentsAreChecked) {
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK) << lb_last_error();
    const testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    EXPECT_EQ(lb_model_repack(nullptr, out.c_str(), "q8r16", nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_model_repack(m, nullptr, "q8r16", nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_model_repack(m, out.c_str(), nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_model_repack(m, out.c_str(), "q8r32", nullptr), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("q8r32"), std::string::npos) << last_error();
    // an F32 model has nothing to tile: the same file is written, with no key added
    uint64_t tiled = 99;
    ASSERT_EQ(lb_model_repack(m, out.c_str(), "q8r16", &tiled), LB_OK) << lb_last_error();
    EXPECT_EQ(tiled, 0u);
    EXPECT_EQ(testdata::read_file(out), testdata::read_file(testdata::stories_path()));
    lb_model_close(m);
}

TEST(CApi, RowsRoundTrip) {
    const int64_t rows = 4, cols = 64;
    std::vector<float> x(rows * cols);
    testdata::Rng rng(3);
    for (float &v : x) v = static_cast<float>(rng.normal());
    size_t row = 0;
    ASSERT_EQ(lb_row_size(&row, LB_TYPE_Q8_0, cols), LB_OK);
    std::vector<uint8_t> q(rows * row);
    ASSERT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), rows, cols, nullptr, q.data(), q.size()), LB_OK);
    std::vector<float> y(x.size());
    ASSERT_EQ(lb_dequantize_rows(LB_TYPE_Q8_0, q.data(), q.size(), rows, cols, y.data()), LB_OK);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 0.03);
}

// Quantized bytes at any address (a numpy slice, a packed buffer): the same
// bytes and floats as at an aligned one. Found by tests/fuzz/fuzz_rows.
TEST(CApi, RowsAtUnalignedAddresses) {
    const int64_t rows = 3, cols = 512;
    std::vector<float> x(rows * cols);
    testdata::Rng rng(5);
    for (float &v : x) v = static_cast<float>(rng.normal());
    for (lb_type type : {LB_TYPE_F32, LB_TYPE_F16, LB_TYPE_BF16, LB_TYPE_Q4_0, LB_TYPE_Q5_1, LB_TYPE_Q8_0,
                         LB_TYPE_Q2_K, LB_TYPE_Q4_K, LB_TYPE_Q6_K}) {
        size_t row = 0;
        ASSERT_EQ(lb_row_size(&row, type, cols), LB_OK);
        std::vector<uint8_t> aligned(rows * row), buffer(rows * row + 8);
        ASSERT_EQ(lb_quantize_rows(type, x.data(), rows, cols, nullptr, aligned.data(), aligned.size()),
                  LB_OK);
        std::vector<float> want(x.size()), got(x.size());
        ASSERT_EQ(lb_dequantize_rows(type, aligned.data(), aligned.size(), rows, cols, want.data()), LB_OK);
        for (size_t offset : {1, 2, 3, 5}) {
            uint8_t *p = buffer.data() + offset;
            ASSERT_EQ(lb_quantize_rows(type, x.data(), rows, cols, nullptr, p, aligned.size()), LB_OK);
            EXPECT_EQ(std::memcmp(p, aligned.data(), aligned.size()), 0)
                << lb_type_name(type) << " +" << offset;
            ASSERT_EQ(lb_dequantize_rows(type, p, aligned.size(), rows, cols, got.data()), LB_OK);
            EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
                << lb_type_name(type) << " +" << offset;
        }
    }
}

// Weights large enough that block scales exceed 256 (the binary16 range
// still holds them): every quantizable format keeps them to within its
// usual relative error. Under the sanitizers this also checks that storing
// such a scale converts no out-of-range float to an integer (fuzz_rows found
// one in the scale encoding).
TEST(CApi, RowsWithLargeScales) {
    const int64_t rows = 4, cols = 512;
    std::vector<float> x(rows * cols);
    testdata::Rng rng(6);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>(rng.normal()) * (i < x.size() / 2 ? 3000.0f : 60.0f);
    for (lb_type type : {LB_TYPE_Q4_0, LB_TYPE_Q4_1, LB_TYPE_Q5_0, LB_TYPE_Q5_1, LB_TYPE_Q8_0, LB_TYPE_Q2_K,
                         LB_TYPE_Q3_K, LB_TYPE_Q4_K, LB_TYPE_Q5_K, LB_TYPE_Q6_K}) {
        size_t row = 0;
        ASSERT_EQ(lb_row_size(&row, type, cols), LB_OK);
        std::vector<uint8_t> q(rows * row);
        std::vector<float> back(x.size());
        ASSERT_EQ(lb_quantize_rows(type, x.data(), rows, cols, nullptr, q.data(), q.size()), LB_OK)
            << last_error();
        ASSERT_EQ(lb_dequantize_rows(type, q.data(), q.size(), rows, cols, back.data()), LB_OK);
        double err = 0.0, norm = 0.0;
        for (size_t i = 0; i < x.size(); ++i) {
            err += (back[i] - x[i]) * static_cast<double>(back[i] - x[i]);
            norm += x[i] * static_cast<double>(x[i]);
        }
        // Q2_K, the coarsest, stays near 0.3 relative RMS error on Gaussian rows
        EXPECT_LT(std::sqrt(err / norm), 0.4) << lb_type_name(type);
    }
}

TEST(CApi, RowsRejectBadArguments) {
    std::vector<float> x(64, 1.0f);
    std::vector<uint8_t> q(100);
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), 2, 32, nullptr, q.data(), 67), LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("dst_size"), std::string::npos);
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), 1, 33, nullptr, q.data(), q.size()), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), -1, 32, nullptr, q.data(), q.size()),
              LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantize_rows(static_cast<lb_type>(99), x.data(), 1, 32, nullptr, q.data(), q.size()),
              LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_IQ2_XXS, x.data(), 0, 256, nullptr, q.data(), q.size()),
              LB_E_UNSUPPORTED);
    x[7] = NAN;
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), 2, 32, nullptr, q.data(), q.size()), LB_E_FORMAT);
    EXPECT_NE(last_error().find("row 0 column 7"), std::string::npos);
    x[7] = 1.0f;
    std::vector<float> im(32, 1.0f);
    im[3] = -1.0f;
    EXPECT_EQ(lb_quantize_rows(LB_TYPE_Q8_0, x.data(), 2, 32, im.data(), q.data(), q.size()),
              LB_E_INVALID_ARG);
    EXPECT_NE(last_error().find("imatrix[3]"), std::string::npos);
    std::vector<float> y(64);
    EXPECT_EQ(lb_dequantize_rows(LB_TYPE_Q8_0, q.data(), 33, 1, 32, y.data()), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_dequantize_rows(LB_TYPE_I32, q.data(), q.size(), 0, 1, y.data()), LB_E_UNSUPPORTED);
}

class Stories : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK) << lb_last_error();
    }
    void TearDown() override { lb_model_close(m); }
    size_t key(const char *name) {
        size_t i = 0;
        EXPECT_EQ(lb_model_kv_find(&i, m, name), LB_OK) << name;
        return i;
    }
    lb_model *m = nullptr;
};

TEST_F(Stories, FileFacts) {
    EXPECT_EQ(lb_model_gguf_version(m), 3u);
    EXPECT_EQ(lb_model_alignment(m), 32u);
    EXPECT_EQ(lb_model_file_size(m), 1185376u);
    EXPECT_STREQ(lb_model_path(m), testdata::stories_path().c_str());
    EXPECT_EQ(lb_model_kv_count(m), 19u);
    EXPECT_EQ(lb_model_tensor_count(m), 48u);
}

TEST_F(Stories, TypedMetadata) {
    const char *s = nullptr;
    size_t len = 0;
    ASSERT_EQ(lb_model_kv_get_string(&s, &len, m, key("general.architecture")), LB_OK);
    EXPECT_STREQ(s, "llama");
    EXPECT_EQ(len, 5u);
    int64_t v = 0;
    ASSERT_EQ(lb_model_kv_get_int(&v, m, key("llama.block_count")), LB_OK);
    EXPECT_EQ(v, 5);
    uint64_t u = 0;
    ASSERT_EQ(lb_model_kv_get_uint(&u, m, key("tokenizer.ggml.padding_token_id")), LB_OK);
    EXPECT_EQ(u, 4294967295u);
    double f = 0;
    ASSERT_EQ(lb_model_kv_get_float(&f, m, key("llama.attention.layer_norm_rms_epsilon")), LB_OK);
    EXPECT_FLOAT_EQ(static_cast<float>(f), 1e-5f);
    // a value read as the wrong type is an error naming the key
    EXPECT_EQ(lb_model_kv_get_int(&v, m, key("general.architecture")), LB_E_TYPE);
    EXPECT_NE(last_error().find("general.architecture"), std::string::npos);
    EXPECT_EQ(lb_model_kv_get_string(&s, &len, m, key("llama.block_count")), LB_E_TYPE);
    EXPECT_EQ(lb_model_kv_get_float(&f, m, key("llama.block_count")), LB_E_TYPE);
    size_t missing = 0;
    EXPECT_EQ(lb_model_kv_find(&missing, m, "no.such.key"), LB_E_NOT_FOUND);
    EXPECT_NE(last_error().find("no.such.key"), std::string::npos);
    EXPECT_EQ(lb_model_kv_get_int(&v, m, 1000), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_model_kv_key(m, 1000), nullptr);
}

TEST_F(Stories, Arrays) {
    const size_t tokens = key("tokenizer.ggml.tokens");
    lb_value_type et;
    uint64_t count = 0;
    ASSERT_EQ(lb_model_kv_get_array_info(&et, &count, m, tokens), LB_OK);
    EXPECT_EQ(et, LB_VALUE_STRING);
    EXPECT_EQ(count, 512u);
    const char *s = nullptr;
    ASSERT_EQ(lb_model_kv_get_array_string(&s, nullptr, m, tokens, 2), LB_OK);
    EXPECT_STREQ(s, "</s>");
    EXPECT_EQ(lb_model_kv_get_array_string(&s, nullptr, m, tokens, 512), LB_E_INVALID_ARG);
    const void *data = nullptr;
    EXPECT_EQ(lb_model_kv_get_array_data(&data, m, tokens), LB_E_TYPE); // strings have no flat data
    const size_t types = key("tokenizer.ggml.token_type");
    ASSERT_EQ(lb_model_kv_get_array_info(&et, &count, m, types), LB_OK);
    EXPECT_EQ(et, LB_VALUE_I32);
    ASSERT_EQ(lb_model_kv_get_array_data(&data, m, types), LB_OK);
    EXPECT_EQ(static_cast<const int32_t *>(data)[0], 2); // <unk> is UNKNOWN
    EXPECT_EQ(static_cast<const int32_t *>(data)[3], 6); // <0x00> is BYTE
}

TEST_F(Stories, Tensors) {
    size_t i = 0;
    ASSERT_EQ(lb_model_tensor_find(&i, m, "blk.4.ffn_down.weight"), LB_OK);
    EXPECT_STREQ(lb_model_tensor_name(m, i), "blk.4.ffn_down.weight");
    EXPECT_EQ(lb_model_tensor_type(m, i), LB_TYPE_F32);
    EXPECT_EQ(lb_model_tensor_n_dims(m, i), 2u);
    EXPECT_EQ(lb_model_tensor_dim(m, i, 0), 172);
    EXPECT_EQ(lb_model_tensor_dim(m, i, 1), 64);
    EXPECT_EQ(lb_model_tensor_dim(m, i, 3), 1);
    EXPECT_EQ(lb_model_tensor_n_elements(m, i), 172 * 64);
    EXPECT_EQ(lb_model_tensor_size(m, i), 172u * 64 * 4);
    const void *data = nullptr;
    uint64_t size = 0;
    ASSERT_EQ(lb_model_tensor_data(&data, &size, m, i), LB_OK);
    EXPECT_EQ(size, 172u * 64 * 4);
    // the data is where the file offset says
    const std::vector<uint8_t> file = testdata::read_file(testdata::stories_path());
    EXPECT_EQ(std::memcmp(data, file.data() + lb_model_tensor_file_offset(m, i), size), 0);
    EXPECT_EQ(lb_model_tensor_find(&i, m, "nope"), LB_E_NOT_FOUND);
    EXPECT_EQ(lb_model_tensor_name(m, 48), nullptr);
    EXPECT_EQ(lb_model_tensor_data(&data, &size, m, 48), LB_E_INVALID_ARG);
}

} // namespace
