// A session runs a model: its tokenizer, a key/value cache, and the forward
// pass over batches of tokens, with an observer that sees the input rows of
// every matrix product (the hook importance matrices and calibration use).
// Perplexity and generation are built on it.
#pragma once

#include "kernels/kernels.hpp"
#include "model/model.hpp"
#include "session/forward.hpp"
#include "session/model_config.hpp"
#include "session/weights.hpp"
#include "tokenizer/tokenizer.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lb::session {

struct SessionParams {
    int n_threads = 0;             // 0: every hardware thread
    int n_ctx = 0;                 // cache size in tokens; 0: min(trained context, 4096)
    int n_batch = 512;             // tokens per forward step
    lb_type kv_type = LB_TYPE_F16; // F16 (llama.cpp's default) or F32
    // at the first evaluation on a kernel set with tiled kernels, copy the
    // matrices they apply to into the tiled layout (repack_for)
    bool repack = true;
};

struct PerplexityResult {
    double perplexity = 0.0, uncertainty = 0.0, mean_nll = 0.0;
    uint64_t n_tokens = 0, n_chunks = 0, n_chunks_done = 0, n_scored = 0;
    double seconds = 0.0;
};

struct GenerateOptions {
    int max_tokens = 64;
    float temperature = 0.0f; // 0: greedy
    int top_k = 40;           // 0: off
    float top_p = 0.95f;      // 1: off
    uint64_t seed = 0;
    bool stop_at_end = true; // stop at the end-of-sequence (or -turn) token
};

// -log softmax(logits)[target], the sum in double.
double negative_log_likelihood(const float *logits, int64_t n_vocab, int32_t target);

class Session {
  public:
    // Checks that the model can be run: architecture, every tensor, the
    // vocabulary (its ids must lie inside the embedding). Throws lb::Error.
    explicit Session(const Model &model);

    const ModelConfig &config() const { return config_; }
    const tokenizer::Tokenizer &tokenizer() const { return *tokenizer_; }
    SessionParams params;
    // The kernel set the forward pass runs on; nullptr: kernels::active().
    const kernels::KernelSet *kernels = nullptr;

    // The context the cache holds (params.n_ctx resolved).
    int context() const;
    int n_past() const { return n_past_; }
    void clear() { n_past_ = 0; }

    // Evaluates tokens after the n_past() already in the cache, keeping the
    // logits of positions i with want[i] != 0 (want NULL: the last one).
    // Throws lb::Error (LB_E_INVALID_ARG: a token outside the vocabulary, the
    // context exceeded; LB_E_CANCELLED).
    void eval(const int32_t *tokens, size_t n, const uint8_t *want);
    size_t n_logits() const { return n_logits_; }
    const float *logits(size_t k) const { return logits_.data() + k * static_cast<size_t>(config_.n_vocab); }

    // A piece of work of many evaluations (perplexity, KL-divergence, an
    // importance matrix) starts with begin_work(), which clears an earlier
    // cancel(), and evaluates with eval_step(), which does not: a cancel
    // stops the whole piece.
    void begin_work() { cancelled_.store(false); }
    void eval_step(const int32_t *tokens, size_t n, const uint8_t *want);

    void set_observer(MatmulObserver observer) { observer_ = std::move(observer); }
    const MatmulObserver &observer() const { return observer_; }
    const Model &model() const { return model_; }
    const Weights &weights() const { return weights_; }
    // Safe from any thread: the running evaluation stops with LB_E_CANCELLED.
    void cancel() { cancelled_.store(true); }

    // llama-perplexity's score of text: chunks of n_ctx tokens (BOS first),
    // the second half of each scored. progress(so far) after each chunk;
    // returning false cancels. Throws lb::Error (LB_E_INVALID_ARG: a text
    // shorter than two contexts, a context larger than the model's).
    PerplexityResult perplexity(const std::string &text, int n_ctx, int max_chunks,
                                const std::function<bool(const PerplexityResult &)> &progress);

    // Tokenizes prompt (with BOS as the vocabulary asks), evaluates it and
    // samples up to max_tokens tokens, calling on_token(token, piece) for each;
    // returning false stops. Returns the tokens generated.
    std::vector<int32_t> generate(const std::string &prompt, const GenerateOptions &o,
                                  const std::function<bool(int32_t, const std::string &)> &on_token);

    // The worker threads an evaluation uses (params.n_threads resolved).
    int threads() const;

  private:
    void ensure_cache();
    void eval_batches(const int32_t *tokens, size_t n, const uint8_t *want, size_t batch,
                      const kernels::KernelSet &k, const MatmulObserver &observe);

    const Model &model_;
    ModelConfig config_;
    Weights weights_;
    std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
    std::unique_ptr<Forward> forward_;
    KvCache cache_;
    int n_past_ = 0;
    std::vector<float> logits_;
    size_t n_logits_ = 0;
    MatmulObserver observer_;
    std::atomic<bool> cancelled_{false};
};

} // namespace lb::session
