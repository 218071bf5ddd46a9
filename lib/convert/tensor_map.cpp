#include "convert/tensor_map.hpp"

#include "common/error.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace lb::convert {

namespace {

// Per-layer tensors: the Hugging Face suffix after model.layers.N., the
// GGUF suffix after blk.N., and which permutation applies.
enum class Permute { None, Q, K };
struct LayerTensor {
    const char *hf;
    const char *gguf;
    Permute permute;
};
constexpr LayerTensor kLayerTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight", Permute::None},
    {"self_attn.q_proj.weight", "attn_q.weight", Permute::Q},
    {"self_attn.k_proj.weight", "attn_k.weight", Permute::K},
    {"self_attn.v_proj.weight", "attn_v.weight", Permute::None},
    {"self_attn.o_proj.weight", "attn_output.weight", Permute::None},
    {"self_attn.q_proj.bias", "attn_q.bias", Permute::Q},
    {"self_attn.k_proj.bias", "attn_k.bias", Permute::K},
    {"self_attn.v_proj.bias", "attn_v.bias", Permute::None},
    {"self_attn.o_proj.bias", "attn_output.bias", Permute::None},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", Permute::None}, // qwen3
    {"self_attn.k_norm.weight", "attn_k_norm.weight", Permute::None}, // qwen3
    {"post_attention_layernorm.weight", "ffn_norm.weight", Permute::None},
    {"mlp.gate_proj.weight", "ffn_gate.weight", Permute::None},
    {"mlp.up_proj.weight", "ffn_up.weight", Permute::None},
    {"mlp.down_proj.weight", "ffn_down.weight", Permute::None},
};

struct GlobalTensor {
    const char *hf;
    const char *gguf;
};
constexpr GlobalTensor kGlobalTensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

} // namespace

std::optional<MappedName> map_name(const HfConfig &c, const std::string &hf) {
    for (const GlobalTensor &g : kGlobalTensors)
        if (hf == g.hf) return MappedName{g.gguf, -1, 0};
    if (hf.ends_with(".rotary_emb.inv_freq")) return std::nullopt; // recomputed by the runtime
    const std::string prefix = "model.layers.";
    if (hf.rfind(prefix, 0) == 0) {
        const size_t start = prefix.size(), dot = hf.find('.', start);
        const std::string digits = dot == std::string::npos ? "" : hf.substr(start, dot - start);
        const bool numeric = !digits.empty() && digits.size() <= 4 &&
                             digits.find_first_not_of("0123456789") == std::string::npos;
        if (numeric) {
            const int layer = std::atoi(digits.c_str());
            if (layer >= c.n_layer)
                fail(LB_E_FORMAT, "%s: tensor %s is in layer %d, but the config has %lld layers",
                     c.path.c_str(), hf.c_str(), layer, static_cast<long long>(c.n_layer));
            const std::string rest = hf.substr(dot + 1);
            for (const LayerTensor &t : kLayerTensors) {
                if (rest != t.hf) continue;
                MappedName m{"blk." + digits + "." + t.gguf, layer, 0};
                if (c.permute_qk && t.permute == Permute::Q) m.permute_heads = c.n_head;
                if (c.permute_qk && t.permute == Permute::K) m.permute_heads = c.n_head_kv;
                return m;
            }
        }
    }
    fail(LB_E_UNSUPPORTED, "tensor %s of a %s checkpoint has no GGUF name lowbit knows", hf.c_str(),
         c.hf_architecture.c_str());
}

std::optional<std::string> hf_name(const std::string &gguf_name, bool *permuted) {
    *permuted = false;
    for (const GlobalTensor &g : kGlobalTensors)
        if (gguf_name == g.gguf) return std::string(g.hf);
    if (gguf_name.rfind("blk.", 0) != 0) return std::nullopt;
    const size_t dot = gguf_name.find('.', 4);
    if (dot == std::string::npos) return std::nullopt;
    const std::string layer = gguf_name.substr(4, dot - 4), rest = gguf_name.substr(dot + 1);
    for (const LayerTensor &t : kLayerTensors)
        if (rest == t.gguf) {
            *permuted = t.permute != Permute::None;
            return "model.layers." + layer + "." + t.hf;
        }
    return std::nullopt;
}

std::vector<int64_t> expected_shape(const HfConfig &c, const std::string &name) {
    const int64_t E = c.n_embd, Q = c.n_head * c.head_dim, KV = c.n_head_kv * c.head_dim, F = c.n_ff;
    if (name == "token_embd.weight" || name == "output.weight") return {E, c.n_vocab};
    if (name == "output_norm.weight") return {E};
    const size_t dot = name.find('.', 4);
    const std::string t = dot == std::string::npos ? name : name.substr(dot + 1);
    struct Shape {
        const char *name;
        std::vector<int64_t> ne;
    };
    const Shape shapes[] = {
        {"attn_norm.weight", {E}},
        {"ffn_norm.weight", {E}},
        {"attn_q.weight", {E, Q}},
        {"attn_k.weight", {E, KV}},
        {"attn_v.weight", {E, KV}},
        {"attn_output.weight", {Q, E}},
        {"attn_q.bias", {Q}},
        {"attn_k.bias", {KV}},
        {"attn_v.bias", {KV}},
        {"attn_output.bias", {E}},
        {"attn_q_norm.weight", {c.head_dim}},
        {"attn_k_norm.weight", {c.head_dim}},
        {"ffn_gate.weight", {E, F}},
        {"ffn_up.weight", {E, F}},
        {"ffn_down.weight", {F, E}},
    };
    for (const Shape &s : shapes)
        if (t == s.name) return s.ne;
    fail(LB_E_UNSUPPORTED, "no shape is known for tensor %s", name.c_str());
}

} // namespace lb::convert
