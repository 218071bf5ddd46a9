// Tensor types against llama.cpp's own quantizer (libllama's
// llama_model_quantize): for every file type lowbit supports, each tensor of
// the shipped model gets the same type from both, and the file type key
// matches.
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>

namespace {

std::map<std::string, lb_type> tensor_types(const std::string &path, uint64_t *file_type) {
    std::map<std::string, lb_type> out;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    if (m == nullptr) return out;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        out[lb_model_tensor_name(m, i)] = lb_model_tensor_type(m, i);
    size_t k = 0;
    EXPECT_EQ(lb_model_kv_find(&k, m, "general.file_type"), LB_OK);
    EXPECT_EQ(lb_model_kv_get_uint(file_type, m, k), LB_OK);
    lb_model_close(m);
    return out;
}

class LlamaTypes : public ::testing::TestWithParam<lb_ftype> {};

TEST_P(LlamaTypes, SameTypeForEveryTensor) {
    const lb_ftype ftype = GetParam();
    const peer::Llama &llama = peer::Llama::get();
    llama.log_set([](int, const char *, void *) {}, nullptr);
    testdata::TempDir dir;
    const std::string theirs = dir.file("llama.gguf"), ours = dir.file("lowbit.gguf");

    peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
    ASSERT_EQ(p.output_tensor_type, peer::kGgmlTypeCount) << "llama_model_quantize_params layout differs";
    ASSERT_TRUE(p.quantize_output_tensor) << "llama_model_quantize_params layout differs";
    p.ftype = ftype;
    p.nthread = 1;
    ASSERT_EQ(llama.model_quantize(testdata::stories_path().c_str(), theirs.c_str(), &p), 0u);

    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK);
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, ftype), LB_OK);
    ASSERT_EQ(lb_quantizer_run(q, m, ours.c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);

    uint64_t their_ftype = 0, our_ftype = 0;
    const auto expected = tensor_types(theirs, &their_ftype);
    const auto actual = tensor_types(ours, &our_ftype);
    EXPECT_EQ(our_ftype, their_ftype);
    ASSERT_EQ(actual.size(), expected.size());
    for (const auto &[name, type] : expected) {
        ASSERT_TRUE(actual.count(name)) << name;
        EXPECT_EQ(actual.at(name), type)
            << name << ": lowbit " << lb_type_name(actual.at(name)) << ", llama.cpp " << lb_type_name(type);
    }
}

INSTANTIATE_TEST_SUITE_P(SupportedFileTypes, LlamaTypes,
                         ::testing::Values(LB_FTYPE_ALL_F32, LB_FTYPE_F16, LB_FTYPE_BF16, LB_FTYPE_Q4_0,
                                           LB_FTYPE_Q4_1, LB_FTYPE_Q5_0, LB_FTYPE_Q5_1, LB_FTYPE_Q8_0),
                         [](const ::testing::TestParamInfo<lb_ftype> &info) {
                             return std::string(lb_ftype_name(info.param));
                         });

} // namespace
