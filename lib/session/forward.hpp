// The forward pass of a llama-family decoder over a batch of tokens, with a
// key/value cache: embedding, then per layer RMSNorm, Q/K/V projections
// (biases for qwen2, per-head Q/K RMSNorm for qwen3), rotary embeddings,
// grouped-query causal attention, output projection and residual, RMSNorm,
// SwiGLU feed-forward and residual; final RMSNorm and the output projection
// for the positions whose logits are wanted.
//
// Numerics follow llama.cpp's CPU backend: matrix products on activations
// quantized to the weight type's pairing, RMSNorm sums in double, the rotary
// angles grown by repeated multiplication, and with an F16 cache the keys,
// values, queries and attention weights rounded to F16 where it rounds them.
#pragma once

#include "kernels/kernels.hpp"
#include "session/model_config.hpp"
#include "session/weights.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace lb::session {

// Keys and values of every layer for positions [0, n_ctx): keys as rows of
// n_head_kv * head_dim, values transposed (per key/value head and dimension,
// a row over positions), so both products of the attention are matrix
// products. F32 or F16 elements.
class KvCache {
  public:
    void reset(const ModelConfig &c, int n_ctx, lb_type type);
    int n_ctx() const { return n_ctx_; }
    lb_type type() const { return type_; }
    size_t element_bytes() const { return type_ == LB_TYPE_F16 ? 2 : 4; }
    uint8_t *keys(int layer) { return keys_.data() + static_cast<size_t>(layer) * layer_bytes_; }
    uint8_t *values(int layer) { return values_.data() + static_cast<size_t>(layer) * layer_bytes_; }
    size_t bytes() const { return keys_.size() + values_.size(); }

  private:
    int n_ctx_ = 0;
    lb_type type_ = LB_TYPE_F32;
    size_t layer_bytes_ = 0;
    std::vector<uint8_t> keys_, values_;
};

// Called with the input rows of each matrix product before it runs; returns
// false to stop the evaluation (it then throws LB_E_CANCELLED).
using MatmulObserver = std::function<bool(const Matrix &weight, const float *rows, int64_t n_rows)>;

class Forward {
  public:
    Forward(const ModelConfig &config, const Weights &weights);

    // Evaluates n tokens at positions [n_past, n_past + n) of the cache
    // (which must hold them) and writes, for each batch index in `outputs`
    // (ascending), n_vocab logits to logits (outputs.size() * n_vocab floats).
    void eval(const int32_t *tokens, int n, int n_past, const std::vector<int> &outputs, float *logits,
              KvCache &cache, const kernels::KernelSet &kernels, int n_threads,
              const MatmulObserver &observer);

  private:
    struct Scratch;
    void attention(int layer, int n, int n_past, KvCache &cache, const kernels::KernelSet &kernels,
                   int n_threads);

    const ModelConfig &c_;
    const Weights &w_;
    std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_;
    kernels::MatmulScratch matmul_scratch_;
};

} // namespace lb::session
