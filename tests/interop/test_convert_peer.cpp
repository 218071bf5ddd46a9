// Hugging Face checkpoints converted by lowbit (lb_convert) against
// independent oracles: TinyStories-656K (../shared/data) as GGUF F32 gives
// libllama the perplexity PROVENANCE.md records (29.160 on the first 20,000
// characters of tinystories_val.txt at ctx 256) within 0.1%, and the same
// bytes from the folder, a .tar.zst and a .zip of it; every tensor's
// bytes equal the checkpoint's as Python and numpy read them, Q/K rows
// permuted by llama.cpp's own formula in numpy (safetensors_oracle.py); F16
// and BF16 outputs equal ggml's conversions of those values; and bad
// checkpoints are refused naming the file and field, writing nothing.
#include "archive_writer.hpp"
#include "ggml_peer.hpp"
#include "llama_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace {

std::string checkpoint() {
    return testdata::shared_data_path("tinystories-656k");
}

lb_status convert(const std::string &src, const std::string &out, lb_type outtype) {
    lb_convert_options o;
    EXPECT_EQ(lb_convert_options_init(&o, LB_CONVERT_OPTIONS_VERSION), LB_OK);
    o.outtype = outtype;
    o.n_threads = 2;
    return lb_convert(src.c_str(), out.c_str(), &o, nullptr, nullptr);
}

// llama-perplexity's score with libllama's own logits: chunks of n_ctx
// tokens, BOS first, the second half of each scored.
double llama_perplexity(const std::string &model, const std::string &text, int n_ctx, size_t *n_tokens) {
    const peer::LlamaModel llama(model, false);
    const std::vector<int32_t> tokens = llama.tokenize(text, true, false);
    *n_tokens = tokens.size();
    const int n_vocab = llama.n_vocab();
    peer::LlamaRunOptions o;
    o.n_ctx = n_ctx;
    o.n_batch = n_ctx;
    double nll = 0.0;
    size_t count = 0;
    for (size_t c = 0; (c + 1) * static_cast<size_t>(n_ctx) <= tokens.size(); ++c) {
        std::vector<int32_t> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(c * n_ctx),
                                   tokens.begin() + static_cast<std::ptrdiff_t>((c + 1) * n_ctx));
        chunk[0] = llama.bos();
        const std::vector<float> logits = llama.logits(chunk, o);
        for (int i = n_ctx / 2; i < n_ctx - 1; ++i) {
            const float *l = logits.data() + static_cast<size_t>(i) * n_vocab;
            double max = l[0], sum = 0.0;
            for (int v = 1; v < n_vocab; ++v) max = std::max(max, static_cast<double>(l[v]));
            for (int v = 0; v < n_vocab; ++v) sum += std::exp(l[v] - max);
            nll += std::log(sum) + max - l[tokens[c * n_ctx + static_cast<size_t>(i) + 1]];
            ++count;
        }
    }
    return std::exp(nll / static_cast<double>(count));
}

void quantize(const std::string &in, const std::string &out, lb_ftype ftype) {
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, in.c_str()), LB_OK) << lb_last_error();
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, ftype), LB_OK);
    EXPECT_EQ(lb_quantizer_run(q, m, out.c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);
}

TEST(ConvertPeer, TinyStories656KGivesLibllamaTheKnownPerplexity) {
    testdata::TempDir dir;
    const std::string out = dir.file("ts656k-f32.gguf");
    ASSERT_EQ(convert(checkpoint(), out, LB_TYPE_F32), LB_OK) << lb_last_error();
    // quantizing the folder directly gives the bytes of quantizing the F32 file
    for (lb_ftype ftype : {LB_FTYPE_Q8_0, LB_FTYPE_Q4_K_M}) {
        quantize(checkpoint(), dir.file("direct.gguf"), ftype);
        quantize(out, dir.file("two-step.gguf"), ftype);
        EXPECT_EQ(testdata::read_file(dir.file("direct.gguf")),
                  testdata::read_file(dir.file("two-step.gguf")))
            << lb_ftype_name(ftype);
    }
    // and so does the checkpoint packed: a .tar.zst of its folder (libarchive's
    // writer) and a .zip (Python's zipfile), read without unpacking to disk
    const std::string tar_zst = dir.file("tinystories-656k.tar.zst"), zip = dir.file("tinystories-656k.zip");
    ASSERT_TRUE(testarchive::write_archive(tar_zst, testarchive::Packing::TarZst,
                                           testarchive::folder_members(checkpoint(), "tinystories-656k")));
    const std::string zip_cmd =
        std::string(LOWBIT_PYTHON) + " -m zipfile -c '" + zip + "' '" + checkpoint() + "'";
    ASSERT_EQ(std::system(zip_cmd.c_str()), 0) << zip_cmd;
    quantize(out, dir.file("two-step.gguf"), LB_FTYPE_Q4_K_M);
    for (const std::string &packed : {tar_zst, zip}) {
        quantize(packed, dir.file("packed.gguf"), LB_FTYPE_Q4_K_M);
        EXPECT_EQ(testdata::read_file(dir.file("packed.gguf")),
                  testdata::read_file(dir.file("two-step.gguf")))
            << packed;
        ASSERT_EQ(convert(packed, dir.file("packed-f32.gguf"), LB_TYPE_F32), LB_OK) << lb_last_error();
        EXPECT_EQ(testdata::read_file(dir.file("packed-f32.gguf")), testdata::read_file(out)) << packed;
    }

    size_t n_tokens = 0;
    const double ppl = llama_perplexity(out, testdata::validation_text(20000), 256, &n_tokens);
    std::printf("TinyStories-656K converted by lowbit, libllama: %zu tokens, PPL %.4f (PROVENANCE: 29.160)\n",
                n_tokens, ppl);
    EXPECT_EQ(n_tokens, 4343u); // PROVENANCE's token count: the vocabulary converts exactly
    EXPECT_NEAR(ppl, 29.160, 29.160 * 1e-3);
}

// The tensors of a GGUF file by name: type, shape (GGUF order) and bytes.
struct GgufTensor {
    lb_type type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
};

std::map<std::string, GgufTensor> read_gguf(const std::string &path) {
    std::map<std::string, GgufTensor> out;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    for (size_t i = 0; m != nullptr && i < lb_model_tensor_count(m); ++i) {
        GgufTensor t;
        t.type = lb_model_tensor_type(m, i);
        for (uint32_t d = 0; d < lb_model_tensor_n_dims(m, i); ++d)
            t.ne.push_back(lb_model_tensor_dim(m, i, d));
        const void *data = nullptr;
        uint64_t size = 0;
        EXPECT_EQ(lb_model_tensor_data(&data, &size, m, i), LB_OK);
        t.bytes.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + size);
        out.emplace(lb_model_tensor_name(m, i), std::move(t));
    }
    lb_model_close(m);
    return out;
}

// Hugging Face names to llama.cpp's, restated for the test (llama.cpp's
// gguf-py tensor map): the tied checkpoint's only matrix, lm_head, is the
// embedding.
std::string gguf_name(const std::string &hf) {
    static const std::map<std::string, std::string> globals = {{"lm_head.weight", "token_embd.weight"},
                                                               {"model.norm.weight", "output_norm.weight"}};
    if (const auto it = globals.find(hf); it != globals.end()) return it->second;
    static const std::map<std::string, std::string> layer = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    const std::string prefix = "model.layers.";
    const size_t dot = hf.find('.', prefix.size());
    return "blk." + hf.substr(prefix.size(), dot - prefix.size()) + "." + layer.at(hf.substr(dot + 1));
}

// The oracle's tensors: name -> bytes, written by safetensors_oracle.py.
std::map<std::string, std::vector<uint8_t>> oracle_tensors(const std::string &dir) {
    const std::string cmd = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                            "/tests/interop/safetensors_oracle.py '" + checkpoint() + "' '" + dir +
                            "' > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::map<std::string, std::vector<uint8_t>> out;
    for (const auto &e : std::filesystem::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        name.resize(name.size() - 4); // ".bin"
        out[name] = testdata::read_file(e.path().string());
    }
    return out;
}

TEST(ConvertPeer, EveryTensorIsTheCheckpointsAsNumpyReadsIt) {
    testdata::TempDir dir;
    ASSERT_EQ(convert(checkpoint(), dir.file("f32.gguf"), LB_TYPE_F32), LB_OK) << lb_last_error();
    ASSERT_EQ(convert(checkpoint(), dir.file("f16.gguf"), LB_TYPE_F16), LB_OK) << lb_last_error();
    ASSERT_EQ(convert(checkpoint(), dir.file("bf16.gguf"), LB_TYPE_BF16), LB_OK) << lb_last_error();
    const auto expected = oracle_tensors(dir.file("oracle"));
    const auto f32 = read_gguf(dir.file("f32.gguf")), f16 = read_gguf(dir.file("f16.gguf")),
               bf16 = read_gguf(dir.file("bf16.gguf"));
    ASSERT_EQ(expected.size(), 20u);
    ASSERT_EQ(f32.size(), expected.size());
    const peer::Ggml &g = peer::Ggml::get();
    for (const auto &[hf, bytes] : expected) {
        const std::string name = gguf_name(hf);
        ASSERT_TRUE(f32.count(name)) << name;
        EXPECT_EQ(f32.at(name).type, LB_TYPE_F32) << name;
        EXPECT_EQ(f32.at(name).bytes, bytes) << name << " (from " << hf << ") differs from the checkpoint";
        // F16 and BF16: ggml's conversions of the same values; norms stay F32
        std::vector<float> values(bytes.size() / 4);
        std::memcpy(values.data(), bytes.data(), bytes.size());
        const bool matrix = f32.at(name).ne.size() == 2;
        EXPECT_EQ(f16.at(name).type, matrix ? LB_TYPE_F16 : LB_TYPE_F32) << name;
        EXPECT_EQ(bf16.at(name).type, matrix ? LB_TYPE_BF16 : LB_TYPE_F32) << name;
        if (!matrix) {
            EXPECT_EQ(f16.at(name).bytes, bytes) << name;
            continue;
        }
        std::vector<uint16_t> h(values.size()), b(values.size());
        for (size_t i = 0; i < values.size(); ++i) {
            h[i] = g.fp32_to_fp16(values[i]);
            const peer::Bf16 x = g.fp32_to_bf16(values[i]);
            std::memcpy(&b[i], &x, 2);
        }
        ASSERT_EQ(f16.at(name).bytes.size(), h.size() * 2) << name;
        EXPECT_EQ(std::memcmp(f16.at(name).bytes.data(), h.data(), h.size() * 2), 0) << name;
        EXPECT_EQ(std::memcmp(bf16.at(name).bytes.data(), b.data(), b.size() * 2), 0) << name;
    }
}

TEST(ConvertPeer, AShardedCheckpointConvertsAsTheSingleFile) {
    testdata::TempDir dir;
    const std::string sharded = dir.file("tinystories-656k"); // the same name: general.name comes from it
    const std::string cmd = std::string(LOWBIT_PYTHON) + " " + LOWBIT_SOURCE_DIR +
                            "/tests/interop/shard_checkpoint.py '" + checkpoint() + "' '" + sharded + "' 3";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    ASSERT_TRUE(std::filesystem::exists(sharded + "/model-00003-of-00003.safetensors"));
    ASSERT_EQ(convert(checkpoint(), dir.file("single.gguf"), LB_TYPE_F16), LB_OK) << lb_last_error();
    ASSERT_EQ(convert(sharded, dir.file("sharded.gguf"), LB_TYPE_F16), LB_OK) << lb_last_error();
    EXPECT_EQ(testdata::read_file(dir.file("sharded.gguf")), testdata::read_file(dir.file("single.gguf")));
    // and the folder opens as a model of three shards
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, sharded.c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_model_shard_count(m), 3u);
    EXPECT_EQ(lb_model_tensor_count(m), 20u);
    lb_model_close(m);
}

// A copy of the checkpoint with one file changed.
struct BrokenCheckpoint {
    testdata::TempDir dir;
    std::string path = dir.file("ckpt");
    BrokenCheckpoint() {
        std::filesystem::create_directory(path);
        for (const auto &e : std::filesystem::directory_iterator(checkpoint()))
            std::filesystem::copy_file(e.path(), path + "/" + e.path().filename().string());
        for (const auto &e : std::filesystem::directory_iterator(path))
            std::filesystem::permissions(e.path(), std::filesystem::perms::owner_write,
                                         std::filesystem::perm_options::add);
    }
    void replace(const std::string &file, const std::string &from, const std::string &to) {
        std::vector<uint8_t> b = testdata::read_file(path + "/" + file);
        std::string s(b.begin(), b.end());
        const size_t at = s.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        s.replace(at, from.size(), to);
        testdata::write_file(path + "/" + file, std::vector<uint8_t>(s.begin(), s.end()));
    }
    std::string convert_error() {
        const std::string out = dir.file("out.gguf");
        const lb_status st = convert(path, out, LB_TYPE_F16);
        EXPECT_NE(st, LB_OK);
        EXPECT_FALSE(std::filesystem::exists(out));
        return st == LB_OK ? "" : lb_last_error();
    }
};

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

TEST(ConvertPeer, BadCheckpointsAreRefusedNamingTheFileAndField) {
    {
        BrokenCheckpoint b;
        b.replace("config.json", "LlamaForCausalLM", "GPTNeoXForCausalLM");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "GPTNeoXForCausalLM") && contains(e, "config.json")) << e;
    }
    {
        BrokenCheckpoint b;
        b.replace("config.json", "\"hidden_size\": 128,", "");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "hidden_size") && contains(e, "config.json")) << e;
    }
    {
        BrokenCheckpoint b;
        b.replace("config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"two\"");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "num_hidden_layers")) << e;
    }
    {
        BrokenCheckpoint b; // the config's width disagrees with the tensors'
        b.replace("config.json", "\"intermediate_size\": 384", "\"intermediate_size\": 512");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "mlp.") && contains(e, "384")) << e;
    }
    {
        BrokenCheckpoint b;
        b.replace("tokenizer.json", "\"type\": \"BPE\"", "\"type\": \"WordPiece\"");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "WordPiece") && contains(e, "tokenizer.json")) << e;
    }
    {
        BrokenCheckpoint b;
        std::filesystem::remove(b.path + "/tokenizer.json");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "tokenizer.json")) << e;
    }
    {
        BrokenCheckpoint b;
        std::filesystem::remove(b.path + "/model.safetensors");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "safetensors")) << e;
    }
    {
        BrokenCheckpoint b;
        b.replace("config.json", "{", "{{");
        const std::string e = b.convert_error();
        EXPECT_TRUE(contains(e, "config.json") && contains(e, "JSON")) << e;
    }
    // an output type convert does not write
    lb_convert_options o;
    ASSERT_EQ(lb_convert_options_init(&o, LB_CONVERT_OPTIONS_VERSION), LB_OK);
    o.outtype = LB_TYPE_Q4_0;
    testdata::TempDir dir;
    EXPECT_EQ(lb_convert(checkpoint().c_str(), dir.file("q4.gguf").c_str(), &o, nullptr, nullptr),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(contains(lb_last_error(), "Q4_0")) << lb_last_error();
    EXPECT_EQ(lb_convert(nullptr, "x", nullptr, nullptr, nullptr), LB_E_INVALID_ARG);
}

} // namespace
