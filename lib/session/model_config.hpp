// What a session needs to know of a llama-family model, read from its GGUF
// metadata (<arch>.* keys) as llama.cpp reads it: the architecture, the
// shapes, the normalisation epsilon and the rotary embedding's parameters
// (frequency base, linear or YaRN scaling).
#pragma once

#include "gguf/gguf.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::session {

enum class Arch {
    Llama, // llama: Llama 2/3, Mistral, TinyLlama, SmolLM
    Qwen2, // qwen2: biases on the Q, K and V projections
    Qwen3, // qwen3: RMSNorm of Q and K, per head
};

enum class RopeOrder {
    Normal, // pairs (x[2i], x[2i + 1]): llama
    Neox,   // pairs (x[i], x[i + n_rot / 2]): qwen2, qwen3
};

// ggml's rope_ext parameters, as llama.cpp derives them from the metadata.
struct Rope {
    RopeOrder order = RopeOrder::Normal;
    int n_rot = 0; // dimensions rotated (rope.dimension_count)
    float freq_base = 10000.0f;
    float freq_scale = 1.0f; // 1 / rope.scaling.factor
    int n_ctx_orig = 0;      // YaRN: rope.scaling.original_context_length
    float ext_factor = 0.0f; // YaRN: 1 for YaRN scaling, else 0
    float attn_factor = 1.0f;
    float beta_fast = 32.0f, beta_slow = 1.0f;
};

struct ModelConfig {
    Arch arch = Arch::Llama;
    std::string arch_name;
    int n_layer = 0;
    int n_embd = 0;
    int n_head = 0, n_head_kv = 0;
    int head_dim = 0; // attention.key_length (= value_length)
    int n_ff = 0;
    int n_ctx_train = 0;
    int64_t n_vocab = 0; // rows of token_embd.weight
    float rms_eps = 1e-5f;
    Rope rope;
};

// Reads the configuration. Throws lb::Error naming the file and the key: an
// architecture lowbit cannot run (LB_E_UNSUPPORTED, naming it), a missing or
// inconsistent shape key (LB_E_FORMAT).
ModelConfig read_config(const std::vector<gguf::KeyValue> &kvs, const std::string &path);

} // namespace lb::session
