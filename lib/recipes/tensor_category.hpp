// Which tensors llama.cpp quantizes, and the broad role of each tensor that
// the per-file-type rules look at. Names follow llama.cpp's GGUF naming
// ("blk.N.attn_v.weight", "token_embd.weight", "output.weight").
#pragma once

#include <cstdint>
#include <string>

namespace lb::recipes {

enum class Category {
    TokenEmbd,
    AttentionQ,
    AttentionV,
    AttentionK,
    AttentionQkv,
    AttentionKvB,
    AttentionOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Output,
    Other,
};

Category category_of(const std::string &name);

// attn_v, attn_qkv and attn_kv_b: the tensors llama.cpp counts as "wv".
inline bool is_attn_v_like(Category c) {
    return c == Category::AttentionV || c == Category::AttentionQkv || c == Category::AttentionKvB;
}

// llama.cpp's tensor_allows_quantization: 2-D and 3-D tensors whose name ends
// in "weight", except norms and a list of small special tensors.
// quantize_output is false with --leave-output-tensor.
bool allows_quantization(const std::string &name, uint32_t n_dims, bool quantize_output);

// The layer index in "blk.N....", or -1 (sscanf("blk.%d.") semantics).
int layer_of(const std::string &name);

// llama.cpp's weight_name_comparer: by layer index (-1 first), then by name.
// The per-file-type counters advance in this order.
bool weight_name_less(const std::string &a, const std::string &b);

} // namespace lb::recipes
