// The rules that pick each tensor's type (recipes/): which tensors are
// quantized, the shape fallback, llama.cpp's visiting order. The end-to-end
// comparison with llama.cpp's own quantizer is in tests/interop.
#include "common/error.hpp"
#include "gguf/gguf_file.hpp"
#include "recipes/fallback.hpp"
#include "recipes/ftype.hpp"
#include "recipes/plan.hpp"
#include "recipes/tensor_category.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

namespace {

using namespace lb::recipes;

TEST(TensorSelection, FollowsLlamaCpp) {
    EXPECT_TRUE(allows_quantization("blk.0.attn_q.weight", 2, true));
    EXPECT_TRUE(allows_quantization("blk.3.ffn_down_exps.weight", 3, true));
    EXPECT_TRUE(allows_quantization("token_embd.weight", 2, true));
    EXPECT_FALSE(allows_quantization("blk.0.attn_norm.weight", 1, true));
    EXPECT_FALSE(allows_quantization("blk.0.attn_norm.weight", 2, true)); // norms never
    EXPECT_FALSE(allows_quantization("blk.0.attn_q.bias", 2, true));
    EXPECT_FALSE(allows_quantization("blk.0.ffn_gate_inp.weight", 2, true));
    EXPECT_FALSE(allows_quantization("blk.0.ssm_conv1d.weight", 2, true));
    EXPECT_FALSE(allows_quantization("position_embd.weight", 2, true));
    EXPECT_FALSE(allows_quantization("v.patch_embd.weight", 2, true));
    EXPECT_TRUE(allows_quantization("output.weight", 2, true));
    EXPECT_FALSE(allows_quantization("output.weight", 2, false));
    EXPECT_FALSE(allows_quantization("blk.0.attn_q.weight", 1, true));
}

TEST(TensorSelection, Categories) {
    EXPECT_EQ(category_of("output.weight"), Category::Output);
    EXPECT_EQ(category_of("token_embd.weight"), Category::TokenEmbd);
    EXPECT_EQ(category_of("blk.1.attn_v.weight"), Category::AttentionV);
    EXPECT_EQ(category_of("blk.1.attn_qkv.weight"), Category::AttentionQkv);
    EXPECT_EQ(category_of("blk.1.ffn_down_exps.weight"), Category::FfnDown);
    EXPECT_EQ(category_of("blk.1.ffn_gate_inp.weight"), Category::FfnGate);
    EXPECT_EQ(category_of("blk.1.attn_norm.weight"), Category::Other);
}

TEST(ShapeFallback, FollowsLlamaCppTable) {
    EXPECT_EQ(fallback_type(LB_TYPE_Q4_0, 4096), LB_TYPE_Q4_0);
    EXPECT_EQ(fallback_type(LB_TYPE_Q4_0, 172), LB_TYPE_F16);
    EXPECT_EQ(fallback_type(LB_TYPE_Q8_0, 96), LB_TYPE_Q8_0);
    EXPECT_EQ(fallback_type(LB_TYPE_Q6_K, 64), LB_TYPE_Q8_0);
    EXPECT_EQ(fallback_type(LB_TYPE_Q4_K, 96), LB_TYPE_Q5_0);
    EXPECT_EQ(fallback_type(LB_TYPE_Q5_K, 96), LB_TYPE_Q5_1);
    EXPECT_EQ(fallback_type(LB_TYPE_Q2_K, 96), LB_TYPE_Q4_0);
    EXPECT_EQ(fallback_type(LB_TYPE_IQ2_XS, 96), LB_TYPE_IQ4_NL);
    EXPECT_EQ(fallback_type(LB_TYPE_Q6_K, 172), LB_TYPE_F16);
    EXPECT_EQ(fallback_type(LB_TYPE_NVFP4, 96), LB_TYPE_NONE); // no fallback defined
}

TEST(VisitOrder, ByLayerThenName) {
    EXPECT_TRUE(weight_name_less("output.weight", "blk.0.attn_q.weight")); // no layer (-1) first
    EXPECT_TRUE(weight_name_less("blk.2.ffn_up.weight", "blk.10.attn_k.weight"));
    EXPECT_TRUE(weight_name_less("blk.2.attn_v.weight", "blk.2.ffn_up.weight"));
    EXPECT_EQ(layer_of("blk.17.attn_q.weight"), 17);
    EXPECT_EQ(layer_of("token_embd.weight"), -1);
}

TEST(Ftypes, NamesAndNumbers) {
    EXPECT_EQ(ftype_from_name("q4_k_m")->id, LB_FTYPE_Q4_K_M);
    EXPECT_EQ(ftype_from_name("Q4_K")->id, LB_FTYPE_Q4_K_M);
    EXPECT_EQ(ftype_from_name("7")->id, LB_FTYPE_Q8_0);
    EXPECT_EQ(ftype_from_name("F32")->id, LB_FTYPE_ALL_F32);
    EXPECT_EQ(ftype_from_name("Q9_X"), nullptr);
    EXPECT_EQ(ftype_from_name("4"), nullptr); // a removed file type
    EXPECT_EQ(ftype_info(LB_FTYPE_IQ2_S)->default_type, LB_TYPE_IQ2_XS);
}

TEST(Plan, ShippedModelAtQ4_0) {
    lb::gguf::GgufFile f(testdata::stories_path());
    PlanOptions o;
    o.ftype = LB_FTYPE_Q4_0;
    const std::vector<TensorPlan> plan =
        make_plan(f.header().tensors, model_facts(f.header().kvs, f.path()), o, f.path());
    int fallbacks = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
        const std::string &name = f.header().tensors[i].name;
        SCOPED_TRACE(name);
        lb_type expected = LB_TYPE_Q4_0;
        if (name == "output.weight")
            expected = LB_TYPE_Q8_0; // Q6_K, but 64 wide: falls back
        else if (name.find("ffn_down") != std::string::npos)
            expected = LB_TYPE_F16; // 172 wide
        else if (name.find("norm") != std::string::npos)
            expected = LB_TYPE_F32;
        EXPECT_EQ(plan[i].type, expected);
        fallbacks += plan[i].fallback;
    }
    EXPECT_EQ(fallbacks, 6);
}

} // namespace
