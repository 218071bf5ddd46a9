// A Hugging Face checkpoint's config.json, read for the architectures the
// session runs, with the hyper-parameters llama.cpp's converter
// (convert_hf_to_gguf.py) writes as <arch>.* keys. Missing optional fields
// get the defaults transformers gives them; a missing required field, a
// field of the wrong type or an architecture lowbit does not convert is an
// error naming the file and the field.
#pragma once

#include "source/source.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace lb::convert {

// rope_scaling (or rope_parameters) as the config gives it.
struct RopeScaling {
    std::string type;                  // "linear", "yarn", "llama3", ...
    double factor = 1.0;               // linear, yarn, llama3
    int64_t original_context = 0;      // yarn, llama3 (original_max_position_embeddings)
    double low_freq_factor = 1.0;      // llama3
    double high_freq_factor = 4.0;     // llama3
    std::optional<double> ext_factor;  // yarn extrapolation_factor
    std::optional<double> attn_factor; // yarn attention_factor
    std::optional<double> beta_fast, beta_slow;
};

struct HfConfig {
    std::string path;            // the config.json read
    std::string hf_architecture; // "LlamaForCausalLM", ...
    std::string arch;            // general.architecture: "llama", "qwen2", "qwen3"
    bool permute_qk = false;     // llama's rotary order (llama, mistral): Q/K rows permuted as llama.cpp does
    int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_vocab = 0;
    int64_t n_ctx = 0;           // max_position_embeddings (0: absent)
    int64_t head_dim = 0;        // config's head_dim, else n_embd / n_head
    bool head_dim_given = false; // the config names head_dim (then key/value lengths are written)
    double rms_eps = 1e-6;       // rms_norm_eps
    std::optional<double> rope_theta;
    std::optional<RopeScaling> rope_scaling;
    bool tied = false; // tie_word_embeddings
    std::optional<int64_t> bos_id, eos_id;
    std::string torch_dtype;  // "float32", "bfloat16", ... ("" if absent)
    std::string name_or_path; // _name_or_path ("" if absent)
};

// Reads config.json from a folder or archive. Throws lb::Error: LB_E_IO (missing), LB_E_FORMAT
// (invalid JSON, a missing or mistyped field, inconsistent head counts),
// LB_E_UNSUPPORTED (an architecture lowbit does not convert, naming it).
HfConfig read_config(const source::Source &src);

} // namespace lb::convert
