#include "eval/base_log_probs.hpp"

#include <cmath>

namespace lb::eval {

void BaseChunk::resize(size_t n, int64_t vocab) {
    n_vocab = vocab;
    top.assign(n, 0.0f);
    nll.assign(n, 0.0f);
    kept.assign(n, 0.0f);
    argmax.assign(n, 0);
    q.assign(n * static_cast<size_t>(vocab), kNegligible);
}

void BaseChunk::set(size_t k, const float *logits, int32_t target) {
    const int64_t n = n_vocab;
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (logits[i] > logits[best]) best = i;
    const double max = logits[best];
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
    const double log_sum = std::log(sum);
    // log p_i = logits_i - max - log_sum; the top one is -log_sum
    top[k] = static_cast<float>(-log_sum);
    nll[k] = static_cast<float>(max + log_sum - static_cast<double>(logits[target]));
    argmax[k] = static_cast<int32_t>(best);
    uint16_t *out = q.data() + k * static_cast<size_t>(n);
    double kept_sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const double below = (max - static_cast<double>(logits[i])) * kLogProbScale; // >= 0
        out[i] = below < kNegligible - 0.5 ? static_cast<uint16_t>(std::lround(below)) : kNegligible;
        if (out[i] != kNegligible) kept_sum += std::exp(static_cast<double>(logits[i]) - max);
    }
    kept[k] = static_cast<float>(std::log(kept_sum) - log_sum);
}

} // namespace lb::eval
