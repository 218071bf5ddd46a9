// File-type mixtures: the type llama.cpp's llama-quantize gives each tensor
// of a file type (Q4_K_M: most tensors Q4_K, some attn_v and ffn_down Q6_K,
// output Q6_K, ...). The rules themselves are data, in mixture_rules.cpp;
// this is what they look at and how they are applied.
#pragma once

#include "lowbit/lowbit.h"
#include "recipes/tensor_category.hpp"

#include <cstdint>
#include <string>

namespace lb::recipes {

// What the model's metadata says about its shape.
struct ModelFacts {
    std::string arch;    // general.architecture
    int n_layer = 0;     // <arch>.block_count
    int n_head = 0;      // <arch>.attention.head_count (of layer 0 if per layer)
    int n_head_kv = 0;   // <arch>.attention.head_count_kv (likewise)
    int n_expert = 0;    // <arch>.expert_count
    bool is_70b = false; // llama.cpp's LLM_TYPE_70B (it bumps attn_v)

    int n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
    bool falcon() const { return arch == "falcon"; }
};

// Everything a rule may look at for one tensor.
struct RuleContext {
    lb_ftype ftype;
    lb_type default_type; // the file type's type for most tensors
    lb_type current;      // the type chosen so far (for the adjustments)
    Category category;
    const ModelFacts *model;
    bool has_imatrix;
    int64_t ncols;               // ne[0]
    int64_t n_experts_in_tensor; // ne[2]
    int i_layer, n_layer;        // ffn_* tensors: layer index and layer count
    int i_wv, n_wv;              // attn_v-like tensors: index among them and their count
    int i_ffn_down, n_ffn_down;  // the raw ffn_down counter (the IQ1/IQ2 rules use it)
};

// llama.cpp's use_more_bits: the layers that get more bits in the _M mixtures.
inline bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// The stage of llama.cpp's decision a tensor falls in, in order of priority.
enum class Stage {
    Output,    // output.weight, or token_embd.weight when the output is tied
    MoeFtype,  // everything else under MXFP4_MOE
    TokenEmbd, // token_embd.weight (untied)
    LowBit,    // everything else under the IQ1_* / IQ2_* file types
    Regular,   // everything else
};

Stage stage_of(lb_ftype ftype, Category category, bool tied_output);

// Applies the rules of the tensor's stage and category to ctx.default_type.
// The caller advances the counters (i_wv, i_ffn_down, ...) afterwards.
lb_type apply_mixture(Stage stage, const RuleContext &ctx);

} // namespace lb::recipes
