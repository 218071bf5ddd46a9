// The statistics llama-perplexity --kl-divergence prints, accumulated one
// scored position at a time: perplexity of both models (their ratio,
// difference and correlation), the KL-divergence of the model from the base,
// the change of the correct token's probability (Δp) and how often both
// models rank the same token first, each mean with its standard error, and
// the quantiles of KLD and Δp.
#pragma once

#include "eval/base_log_probs.hpp"

#include <cstdint>
#include <vector>

namespace lb::eval {

struct Estimate {
    double value = 0.0, uncertainty = 0.0;
};

// Quantiles at the fractions llama.cpp prints (linear interpolation between
// the sorted values, as it does), and the extremes.
struct Quantiles {
    double min = 0, p0_1 = 0, p1 = 0, p5 = 0, p10 = 0, p25 = 0, median = 0, p75 = 0, p90 = 0, p95 = 0,
           p99 = 0, p99_9 = 0, max = 0;
};

struct KldReport {
    uint64_t n_scored = 0, n_chunks = 0, n_chunks_total = 0;
    int n_ctx = 0;
    Estimate ppl, ppl_base;           // PPL(Q), PPL(base)
    double ln_ppl_correlation = 0.0;  // of the per-token log-likelihoods of both
    Estimate ln_ppl_ratio, ppl_ratio; // ln(PPL(Q)/PPL(base)), PPL(Q)/PPL(base)
    Estimate ppl_difference;          // PPL(Q) - PPL(base)
    Estimate kld;                     // mean KL(base || Q), nats
    Quantiles kld_quantiles;
    Estimate delta_p; // mean p_Q - p_base of the correct token
    Quantiles delta_p_quantiles;
    Estimate delta_p_rms;
    Estimate same_top; // fraction of positions with the same most likely token
};

// What one scored position contributes.
struct PositionScore {
    double nll = 0, nll_base = 0; // -log p(correct token), model and base
    double kld = 0;               // KL(base || model) there
    double dp = 0;                // p_model - p_base of the correct token
    bool same_top = false;        // both rank the same token first
};

// Scores one position: the model's logits (n_vocab of them), the base's
// distribution there, and the correct next token. Depends on nothing else,
// so positions may be scored in parallel and added in order.
PositionScore score_position(const float *logits, const BasePosition &base, int64_t n_vocab, int32_t target);

class KldAccumulator {
  public:
    // Adds positions in order (the sums, and so the figures, depend on it).
    void add(const PositionScore &s);
    void add(const float *logits, const BasePosition &base, int64_t n_vocab, int32_t target) {
        add(score_position(logits, base, n_vocab, target));
    }
    void end_chunk() { ++n_chunks_; }
    void set_chunks(uint64_t n, int n_ctx) {
        n_chunks_total_ = n;
        n_ctx_ = n_ctx;
    }
    uint64_t count() const { return count_; }
    // The figures so far (quantiles need at least one position).
    KldReport report() const;

  private:
    double sum_nll_ = 0, sum_nll2_ = 0, sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
    double sum_kld_ = 0, sum_kld2_ = 0, sum_dp_ = 0, sum_dp2_ = 0, sum_dp4_ = 0;
    uint64_t same_top_ = 0, count_ = 0, n_chunks_ = 0, n_chunks_total_ = 0;
    int n_ctx_ = 0;
    std::vector<float> kld_values_, dp_values_;
};

} // namespace lb::eval
