#include "recipes/tensor_category.hpp"

#include <cstdlib>

namespace lb::recipes {

namespace {

bool contains(const std::string &s, const char *part) {
    return s.find(part) != std::string::npos;
}

// Substrings of tensors that llama.cpp never quantizes (small or special).
const char *const kNeverQuantized[] = {
    "_norm.weight",
    "ffn_gate_inp.weight",
    "ffn_gate_tid2eid.weight",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
    "time_mix_first.weight",
    "time_mix_w0.weight",
    "time_mix_w1.weight",
    "time_mix_w2.weight",
    "time_mix_v0.weight",
    "time_mix_v1.weight",
    "time_mix_v2.weight",
    "time_mix_a0.weight",
    "time_mix_a1.weight",
    "time_mix_a2.weight",
    "time_mix_g1.weight",
    "time_mix_g2.weight",
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
    "attn_rel_b.weight",
    ".position_embd",
    "sam.pos_embd",
    "sam.neck.",
    "sam.net_",
    ".rel_pos",
    ".patch_embd",
    ".patch_merger",
    "a.rvq.codebook",
    "mm.a.code_embd",
};

// Exact names never quantized: positional embeddings and token types (BERT).
const char *const kNeverQuantizedNames[] = {"position_embd.weight", "token_types.weight"};

} // namespace

Category category_of(const std::string &name) {
    if (name == "output.weight") return Category::Output;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Category::TokenEmbd;
    if (contains(name, "attn_qkv.weight")) return Category::AttentionQkv;
    if (contains(name, "attn_kv_b.weight")) return Category::AttentionKvB;
    if (contains(name, "attn_v.weight")) return Category::AttentionV;
    if (contains(name, "attn_k.weight")) return Category::AttentionK;
    if (contains(name, "attn_q.weight")) return Category::AttentionQ;
    if (contains(name, "attn_output.weight")) return Category::AttentionOutput;
    if (contains(name, "ffn_up")) return Category::FfnUp;
    if (contains(name, "ffn_gate")) return Category::FfnGate;
    if (contains(name, "ffn_down")) return Category::FfnDown;
    return Category::Other;
}

bool allows_quantization(const std::string &name, uint32_t n_dims, bool quantize_output) {
    if (n_dims < 2) return false;
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
    if (!quantize_output && name == "output.weight") return false;
    for (const char *part : kNeverQuantized)
        if (contains(name, part)) return false;
    for (const char *exact : kNeverQuantizedNames)
        if (name == exact) return false;
    return true;
}

int layer_of(const std::string &name) {
    if (name.compare(0, 4, "blk.") != 0) return -1;
    // sscanf("%d") semantics: optional sign, digits; then a literal '.'
    size_t i = 4;
    bool neg = false;
    if (i < name.size() && (name[i] == '-' || name[i] == '+')) neg = name[i++] == '-';
    const size_t digits = i;
    long v = 0;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && v < 100000000)
        v = v * 10 + (name[i++] - '0');
    if (i == digits) return -1;
    return static_cast<int>(neg ? -v : v);
}

bool weight_name_less(const std::string &a, const std::string &b) {
    const int la = layer_of(a), lb = layer_of(b);
    if (la != lb) return la < lb;
    return a < b;
}

} // namespace lb::recipes
