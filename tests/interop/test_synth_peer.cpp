// Synthetic models against llama.cpp: ggml's GGUF reader opens the model and
// its imatrix and sees the tensors lowbit wrote; llama.cpp's quantizer (which
// loads the hyperparameters through llama.cpp's model loader, so every
// required key must be there and consistent) accepts small models with the
// built-in vocabulary and with the shipped model's tokenizer, tied and
// untied, and gives every tensor the type lowbit's quantizer gives it.
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>

namespace {

std::string g_log;

lb_synth_options tiny(int tied, bool stories_vocab) {
    static const std::string stories = testdata::stories_path();
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    o.n_layer = 2;
    o.n_embd = 128;
    o.n_head = 4;
    o.n_head_kv = 1;
    o.n_ff = 172; // not a multiple of 32: ffn_down falls back
    o.tied_output = tied;
    o.tokenizer_from = stories_vocab ? stories.c_str() : nullptr;
    return o;
}

// What ggml's reader sees equals what lowbit's reader sees.
void expect_ggml_reads(const std::string &path) {
    SCOPED_TRACE(path);
    const peer::Ggml &g = peer::Ggml::get();
    void *ctx = g.gguf_init_from_file(path.c_str(), {true, nullptr});
    ASSERT_NE(ctx, nullptr) << "ggml's gguf reader rejected " << path;
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(static_cast<size_t>(g.gguf_get_n_kv(ctx)), lb_model_kv_count(m));
    for (size_t i = 0; i < lb_model_kv_count(m); ++i)
        EXPECT_STREQ(g.gguf_get_key(ctx, static_cast<int64_t>(i)), lb_model_kv_key(m, i));
    ASSERT_EQ(static_cast<size_t>(g.gguf_get_n_tensors(ctx)), lb_model_tensor_count(m));
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        const int64_t id = static_cast<int64_t>(i);
        SCOPED_TRACE(lb_model_tensor_name(m, i));
        EXPECT_STREQ(g.gguf_get_tensor_name(ctx, id), lb_model_tensor_name(m, i));
        EXPECT_EQ(g.gguf_get_tensor_type(ctx, id), static_cast<int>(lb_model_tensor_type(m, i)));
        EXPECT_EQ(g.gguf_get_tensor_size(ctx, id), lb_model_tensor_size(m, i));
        EXPECT_EQ(g.gguf_get_tensor_offset(ctx, id) + g.gguf_get_data_offset(ctx),
                  lb_model_tensor_file_offset(m, i));
        const int64_t *ne = g.gguf_get_tensor_ne(ctx, id);
        for (uint32_t d = 0; d < 4; ++d) EXPECT_EQ(ne[d], lb_model_tensor_dim(m, i, d));
    }
    lb_model_close(m);
    g.gguf_free(ctx);
}

std::map<std::string, lb_type> tensor_types(const std::string &path) {
    std::map<std::string, lb_type> out;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    if (m == nullptr) return out;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        out[lb_model_tensor_name(m, i)] = lb_model_tensor_type(m, i);
    lb_model_close(m);
    return out;
}

TEST(SynthPeer, GgufReaderOpensTheModelAndItsImatrix) {
    testdata::TempDir dir;
    for (lb_type type : {LB_TYPE_F32, LB_TYPE_F16, LB_TYPE_BF16}) {
        lb_synth_options o = tiny(0, false);
        o.type = type;
        const std::string model = dir.file(std::string(lb_type_name(type)) + ".gguf");
        ASSERT_EQ(lb_synth_write_model(&o, model.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
        expect_ggml_reads(model);
    }
    lb_synth_options o = tiny(0, true);
    ASSERT_EQ(lb_synth_write_imatrix(&o, dir.file("imatrix.gguf").c_str()), LB_OK) << lb_last_error();
    expect_ggml_reads(dir.file("imatrix.gguf"));
}

struct PeerCase {
    int tied;
    bool stories_vocab;
};

class SynthLlamaQuantize : public ::testing::TestWithParam<PeerCase> {};

TEST_P(SynthLlamaQuantize, LlamaCppQuantizesTheModelAsLowbitDoes) {
    const PeerCase c = GetParam();
    const peer::Llama &llama = peer::Llama::get();
    g_log.clear();
    llama.log_set([](int, const char *text, void *) { g_log += text; }, nullptr);
    testdata::TempDir dir;
    const lb_synth_options o = tiny(c.tied, c.stories_vocab);
    const std::string in = dir.file("synth.gguf"), theirs = dir.file("llama.gguf"),
                      ours = dir.file("lowbit.gguf");
    ASSERT_EQ(lb_synth_write_model(&o, in.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();

    peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
    p.ftype = LB_FTYPE_Q8_0;
    p.nthread = 1;
    const uint32_t rc = llama.model_quantize(in.c_str(), theirs.c_str(), &p);
    llama.log_set([](int, const char *, void *) {}, nullptr);
    ASSERT_EQ(rc, 0u) << "llama.cpp's quantizer rejected the synthetic model:\n" << g_log;

    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, in.c_str()), LB_OK) << lb_last_error();
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, LB_FTYPE_Q8_0), LB_OK);
    ASSERT_EQ(lb_quantizer_run(q, m, ours.c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);

    const auto expected = tensor_types(theirs), actual = tensor_types(ours), input = tensor_types(in);
    EXPECT_EQ(expected.size(), input.size());
    EXPECT_EQ(expected.count("output.weight"), c.tied ? 0u : 1u);
    EXPECT_EQ(expected.at("blk.0.attn_q.weight"), LB_TYPE_Q8_0);
    EXPECT_NE(expected.at("blk.0.ffn_down.weight"), LB_TYPE_Q8_0); // 172 wide
    EXPECT_EQ(expected.at("blk.0.attn_norm.weight"), LB_TYPE_F32);
    ASSERT_EQ(actual.size(), expected.size());
    for (const auto &[name, type] : expected) {
        ASSERT_TRUE(actual.count(name)) << name;
        EXPECT_EQ(actual.at(name), type)
            << name << ": lowbit " << lb_type_name(actual.at(name)) << ", llama.cpp " << lb_type_name(type);
    }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, SynthLlamaQuantize,
                         ::testing::Values(PeerCase{0, false}, PeerCase{1, false}, PeerCase{0, true},
                                           PeerCase{1, true}),
                         [](const ::testing::TestParamInfo<PeerCase> &info) {
                             return std::string(info.param.stories_vocab ? "StoriesVocab" : "BuiltinVocab") +
                                    (info.param.tied ? "Tied" : "Untied");
                         });

} // namespace
