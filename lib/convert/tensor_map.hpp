// Hugging Face tensor names and shapes to llama.cpp's, as convert_hf_to_gguf
// maps them for the llama family: model.layers.N.self_attn.q_proj.weight ->
// blk.N.attn_q.weight, and so on; shapes reversed (GGUF lists the row length
// first); Q and K rows permuted into llama.cpp's rotary order for llama and
// mistral (pairs (i, i + head_dim/2) of each head become (2i, 2i + 1)).
#pragma once

#include "convert/hf_config.hpp"
#include "lowbit/lowbit.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lb::convert {

struct MappedName {
    std::string gguf;          // blk.0.attn_q.weight
    int layer = -1;            // N of blk.N, -1 for the others
    int64_t permute_heads = 0; // > 0: rows permuted with this many heads (Q: n_head, K: n_head_kv)
};

// The GGUF name of a checkpoint tensor; std::nullopt for tensors llama.cpp
// drops (rotary_emb.inv_freq). Throws lb::Error (LB_E_UNSUPPORTED) naming a
// tensor it cannot map, and (LB_E_FORMAT) a layer index outside the config's.
std::optional<MappedName> map_name(const HfConfig &c, const std::string &hf_name);

// The other way: the checkpoint name of a GGUF tensor of the llama family
// (blk.N.attn_q.weight -> model.layers.N.self_attn.q_proj.weight), and in
// *permuted whether its rows are in llama.cpp's rotary order when the
// architecture permutes (Q and K). std::nullopt for a name it does not know.
std::optional<std::string> hf_name(const std::string &gguf_name, bool *permuted);

// The shape the config implies for a GGUF tensor, outermost last (GGUF
// order): {n_embd, n_head * head_dim} for attn_q.weight ... Throws lb::Error
// (LB_E_UNSUPPORTED) for a name it does not know.
std::vector<int64_t> expected_shape(const HfConfig &c, const std::string &gguf_name);

// Row r of the permuted tensor is row permuted_source_row(r) of the
// checkpoint's (rows = heads * head_dim).
inline int64_t permuted_source_row(int64_t r, int64_t head_dim) {
    const int64_t h = r / head_dim, k = r % head_dim, half = head_dim / 2;
    return h * head_dim + (k % 2) * half + k / 2;
}

} // namespace lb::convert
