// lb_synth_write_checkpoint: synthetic models as Hugging Face checkpoints.
// Each checkpoint, read by an independent reader (safetensors_oracle.py:
// Python's json and numpy, Q/K rows permuted by llama.cpp's own formula),
// holds exactly the tensors lb_synth_write_model() writes for the same
// options; lb_convert() and lb_model_open() of it give them too; bad targets
// and a cancellation leave nothing behind.
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace {

struct Case {
    const char *name;
    lb_synth_arch arch;
    lb_type type;
    int tied;
    uint32_t n_head_kv;
};

// GGUF name -> (type, bytes) of every tensor of a model.
std::map<std::string, std::pair<lb_type, std::vector<uint8_t>>> tensors_of(const std::string &path) {
    std::map<std::string, std::pair<lb_type, std::vector<uint8_t>>> out;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    for (size_t i = 0; m != nullptr && i < lb_model_tensor_count(m); ++i) {
        const void *data = nullptr;
        uint64_t size = 0;
        EXPECT_EQ(lb_model_tensor_data(&data, &size, m, i), LB_OK);
        const auto *p = static_cast<const uint8_t *>(data);
        out[lb_model_tensor_name(m, i)] = {lb_model_tensor_type(m, i), std::vector<uint8_t>(p, p + size)};
    }
    lb_model_close(m);
    return out;
}

// transformers' name -> llama.cpp's (the test's own table).
std::string gguf_name(const std::string &hf) {
    static const std::map<std::string, std::string> globals = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"}};
    static const std::map<std::string, std::string> layer = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"},
        {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    if (globals.count(hf)) return globals.at(hf);
    const std::string prefix = "model.layers.";
    const size_t dot = hf.find('.', prefix.size());
    return "blk." + hf.substr(prefix.size(), dot - prefix.size()) + "." + layer.at(hf.substr(dot + 1));
}

lb_synth_options options_of(const Case &c) {
    lb_synth_options o;
    EXPECT_EQ(lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION), LB_OK);
    o.arch = c.arch;
    o.type = c.type;
    o.tied_output = c.tied;
    o.n_head_kv = c.n_head_kv;
    o.seed = 7;
    return o;
}

class SynthCheckpoint : public ::testing::TestWithParam<Case> {};

TEST_P(SynthCheckpoint, HoldsTheSyntheticModelsTensors) {
    const Case &c = GetParam();
    testdata::TempDir dir;
    const lb_synth_options o = options_of(c);
    const std::string ckpt = dir.file("ckpt"), gguf = dir.file("model.gguf");
    ASSERT_EQ(lb_synth_write_checkpoint(&o, ckpt.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
    ASSERT_EQ(lb_synth_write_model(&o, gguf.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
    const auto expected = tensors_of(gguf);

    // read independently
    const std::string oracle = dir.file("oracle");
    const std::string cmd = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                            "/tests/interop/safetensors_oracle.py '" + ckpt + "' '" + oracle +
                            "' > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    size_t n = 0;
    for (const auto &e : std::filesystem::directory_iterator(oracle)) {
        std::string hf = e.path().filename().string();
        hf.resize(hf.size() - 4); // ".bin"
        const std::string name = gguf_name(hf);
        ASSERT_TRUE(expected.count(name))
            << hf << " -> " << name << " is not a tensor of the synthetic model";
        EXPECT_EQ(testdata::read_file(e.path().string()), expected.at(name).second) << hf;
        ++n;
    }
    EXPECT_EQ(n, expected.size());

    // converted, and opened as a model
    lb_convert_options co;
    ASSERT_EQ(lb_convert_options_init(&co, LB_CONVERT_OPTIONS_VERSION), LB_OK);
    co.outtype = c.type;
    ASSERT_EQ(lb_convert(ckpt.c_str(), dir.file("converted.gguf").c_str(), &co, nullptr, nullptr), LB_OK)
        << lb_last_error();
    EXPECT_EQ(tensors_of(dir.file("converted.gguf")), expected);
    EXPECT_EQ(tensors_of(ckpt), expected);
}

INSTANTIATE_TEST_SUITE_P(Archs, SynthCheckpoint,
                         ::testing::Values(Case{"LlamaBF16", LB_SYNTH_LLAMA, LB_TYPE_BF16, 0, 4},
                                           Case{"LlamaF16TiedGqa4", LB_SYNTH_LLAMA, LB_TYPE_F16, 1, 2},
                                           Case{"Qwen2F16Tied", LB_SYNTH_QWEN2, LB_TYPE_F16, 1, 4},
                                           Case{"Qwen3F32", LB_SYNTH_QWEN3, LB_TYPE_F32, 0, 8}),
                         [](const auto &info) { return std::string(info.param.name); });

int cancel(const lb_progress *p, void *) {
    return p->tensor_index >= 3 ? 1 : 0;
}

TEST(SynthCheckpoint, BadTargetsAndCancellingLeaveNothing) {
    testdata::TempDir dir;
    const lb_synth_options o = options_of(Case{"", LB_SYNTH_LLAMA, LB_TYPE_F16, 0, 4});
    // a folder that is not empty: refused, untouched
    std::filesystem::create_directory(dir.file("full"));
    testdata::write_file(dir.file("full/keep.txt"), {'k'});
    EXPECT_EQ(lb_synth_write_checkpoint(&o, dir.file("full").c_str(), nullptr, nullptr), LB_E_IO);
    EXPECT_NE(std::string(lb_last_error()).find(dir.file("full")), std::string::npos) << lb_last_error();
    EXPECT_EQ(testdata::read_file(dir.file("full/keep.txt")), std::vector<uint8_t>{'k'});
    // a file
    testdata::write_file(dir.file("file"), {'f'});
    EXPECT_EQ(lb_synth_write_checkpoint(&o, dir.file("file").c_str(), nullptr, nullptr), LB_E_IO);
    // a tokenizer to copy
    lb_synth_options with_vocab = o;
    with_vocab.tokenizer_from = "some.gguf";
    EXPECT_EQ(lb_synth_write_checkpoint(&with_vocab, dir.file("v").c_str(), nullptr, nullptr),
              LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("tokenizer_from"), std::string::npos) << lb_last_error();
    // cancelled part way
    EXPECT_EQ(lb_synth_write_checkpoint(&o, dir.file("cancelled").c_str(), cancel, nullptr), LB_E_CANCELLED);
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"file", "full"}));
    // an empty folder is taken
    std::filesystem::create_directory(dir.file("empty"));
    EXPECT_EQ(lb_synth_write_checkpoint(&o, dir.file("empty").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    EXPECT_TRUE(testdata::file_exists(dir.file("empty/model.safetensors")));
    EXPECT_EQ(lb_synth_write_checkpoint(nullptr, dir.file("x").c_str(), nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_synth_write_checkpoint(&o, nullptr, nullptr, nullptr), LB_E_INVALID_ARG);
}

} // namespace
