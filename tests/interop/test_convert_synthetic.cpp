// Synthetic Hugging Face checkpoints (make_hf_checkpoint.py: llama.cpp's test
// vocabularies as byte-level BPE tokenizer.json files, seeded BF16/F16
// weights) converted by lowbit (lb_convert) and run by libllama: its logits
// equal a float64 torch evaluation of the written checkpoint as transformers
// computes it (torch_reference.py: rotate-half rotary embeddings on the
// checkpoint's own Q/K order, GQA, linear and Llama 3 rope scaling, Q/K/V
// biases, Qwen3's Q/K norms and head_dim, tied and untied outputs, a sharded
// checkpoint; Llama, Mistral, Qwen2, Qwen3) within 1e-4 of the logits' range; quantizing the
// checkpoint folder directly gives the bytes of converting it to F32 and
// quantizing that; and its tokenizer on the converted vocabulary gives
// llama.cpp's own expected ids for its test texts
// (models/ggml-vocab-*.gguf.inp/.out).
#include "llama_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Case {
    const char *name, *vocab, *arch, *dtype;
    bool tokenizer_texts; // run llama.cpp's tokenizer tests on the vocabulary (once per vocabulary)
    int shards;           // > 1: split as transformers saves large models (shard_checkpoint.py)
};

std::string read_text(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<std::string> split(const std::string &s, const std::string &sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
        out.push_back(s.substr(start, at - start));
    out.push_back(s.substr(start));
    return out;
}

void quantize(const std::string &in, const std::string &out) {
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, in.c_str()), LB_OK) << lb_last_error();
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, LB_FTYPE_Q4_K_M), LB_OK);
    ASSERT_EQ(lb_quantizer_set_threads(q, 2), LB_OK);
    EXPECT_EQ(lb_quantizer_run(q, m, out.c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);
}

class ConvertSynthetic : public ::testing::TestWithParam<Case> {};

TEST_P(ConvertSynthetic, LibllamaRunsItAsTheCheckpointComputes) {
    const Case &c = GetParam();
    testdata::TempDir dir;
    const std::vector<int32_t> tokens = {791, 4062,  14198, 39935, 35308, 927,
                                         279, 16053, 5679,  13,    578,   2128};
    {
        std::ofstream ids(dir.file("ids.json"));
        ids << "[";
        for (size_t i = 0; i < tokens.size(); ++i) ids << (i ? ", " : "") << tokens[i];
        ids << "]";
    }
    const std::string ckpt = dir.file("ckpt"), logits_file = dir.file("reference.f32");
    const std::string make = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                             "/tests/interop/make_hf_checkpoint.py '" + LOWBIT_PEER_SRC + "' " + c.vocab +
                             " '" + ckpt + "' " + c.arch + " " + c.dtype;
    ASSERT_EQ(std::system(make.c_str()), 0) << make;
    if (c.shards > 1) {
        const std::string split = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                                  "/tests/interop/shard_checkpoint.py '" + ckpt + "' '" + ckpt +
                                  "-sharded' " + std::to_string(c.shards) + " && rm -r '" + ckpt +
                                  "' && mv '" + ckpt + "-sharded' '" + ckpt + "'";
        ASSERT_EQ(std::system(split.c_str()), 0) << split;
        ASSERT_FALSE(testdata::file_exists(ckpt + "/model.safetensors"));
    }
    // the float reference: torch over the written safetensors, as transformers computes
    const std::string torch_cmd = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                                  "/tests/interop/torch_reference.py '" + ckpt + "' '" +
                                  dir.file("ids.json") + "' '" + logits_file + "'";
    ASSERT_EQ(std::system(torch_cmd.c_str()), 0) << torch_cmd;

    lb_convert_options o;
    ASSERT_EQ(lb_convert_options_init(&o, LB_CONVERT_OPTIONS_VERSION), LB_OK);
    o.outtype = LB_TYPE_F32;
    const std::string gguf = dir.file("model.gguf");
    ASSERT_EQ(lb_convert(ckpt.c_str(), gguf.c_str(), &o, nullptr, nullptr), LB_OK) << lb_last_error();

    // the checkpoint quantizes directly (no intermediate file) to the bytes
    // of converting to F32 first: BF16 and F16 widen to F32 exactly
    const std::string direct = dir.file("direct.gguf"), two_step = dir.file("two-step.gguf");
    quantize(ckpt, direct);
    quantize(gguf, two_step);
    EXPECT_EQ(testdata::read_file(direct), testdata::read_file(two_step)) << c.vocab;

    const peer::LlamaModel llama(gguf, false);
    peer::LlamaRunOptions ro;
    ro.n_ctx = 64;
    ro.n_batch = 64;
    const std::vector<float> ours = llama.logits(tokens, ro);
    std::vector<float> reference(ours.size());
    {
        std::ifstream f(logits_file, std::ios::binary);
        f.read(reinterpret_cast<char *>(reference.data()),
               static_cast<std::streamsize>(reference.size() * 4));
        ASSERT_EQ(f.gcount(), static_cast<std::streamsize>(reference.size() * 4)) << "reference logits' size";
    }
    double range = 0.0, worst = 0.0;
    for (float r : reference) range = std::max(range, std::fabs(static_cast<double>(r)));
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, std::fabs(static_cast<double>(ours[i]) - reference[i]));
    std::printf("%s %s %s: libllama's logits on lowbit's conversion, largest difference from torch's float64 "
                "%.3g (logits up to %.3g)\n",
                c.vocab, c.arch, c.dtype, worst, range);
    EXPECT_GT(range, 1.0);
    EXPECT_LE(worst, 1e-4 * range);

    // llama.cpp's own tokenizer tests on the converted vocabulary
    if (!c.tokenizer_texts) return;
    const std::string base = std::string(LOWBIT_PEER_SRC) + "/models/ggml-vocab-" + c.vocab + ".gguf";
    const std::vector<std::string> inputs = split(read_text(base + ".inp"), "\n__ggml_vocab_test__\n");
    const std::vector<std::string> outputs = split(read_text(base + ".out"), "\n");
    ASSERT_GE(outputs.size(), inputs.size());
    ASSERT_GT(inputs.size(), 20u);
    const peer::LlamaModel vocab(gguf, true);
    size_t same = 0;
    for (size_t i = 0; i + 1 < inputs.size(); ++i) { // the file ends with a separator
        std::vector<int32_t> want;
        std::stringstream in(outputs[i]);
        for (int32_t id; in >> id;) want.push_back(id);
        const std::vector<int32_t> got = vocab.tokenize(inputs[i], false, false);
        EXPECT_EQ(got, want) << c.vocab << " test text " << i << ": \"" << inputs[i] << "\"";
        same += got == want;
    }
    std::printf("%s: %zu of %zu of llama.cpp's tokenizer test texts give its expected ids\n", c.vocab, same,
                inputs.size() - 1);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, ConvertSynthetic,
                         ::testing::Values(Case{"Llama3", "llama-bpe", "LlamaForCausalLM", "BF16", true, 1},
                                           Case{"Qwen2", "qwen2", "Qwen2ForCausalLM", "F16", true, 1},
                                           Case{"MistralSharded", "llama-bpe", "MistralForCausalLM", "F16",
                                                false, 3},
                                           Case{"Qwen3", "qwen2", "Qwen3ForCausalLM", "BF16", false, 1}),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
