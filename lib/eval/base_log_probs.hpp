// The base model's distribution at one scored position, as KL-divergence
// needs it and as the saved-logits file stores it:
//   top      the largest log-probability (<= 0)
//   nll      -log p(correct next token), exact (so PPL(base) is exact)
//   kept     log of the probability the non-negligible tokens hold, exact
//   argmax   the most likely token
//   q[i]     16-bit fixed point: log p_i = top - q[i] / kLogProbScale, for
//            log p_i > top - kLogProbRange; kNegligible (65535) below that
// A step of 1/4096 nat (rounding error at most 1.2e-4 in a log-probability)
// over 16 nats, as llama.cpp's kld-base file keeps them; tokens 16 nats below
// the top hold less than 1.2e-7 of its probability each and are left out of
// the divergence, as llama.cpp leaves them. `kept` lets a reader renormalise
// the rounded log-probabilities to the exact mass they hold, which cancels the
// first-order effect of the rounding on the divergence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lb::eval {

constexpr double kLogProbScale = 4096.0;
constexpr uint16_t kNegligible = 65535;
constexpr double kLogProbRange = kNegligible / kLogProbScale; // 15.99976 nats

struct BasePosition {
    float top = 0.0f;
    float nll = 0.0f;
    float kept = 0.0f;
    int32_t argmax = 0;
    const uint16_t *q = nullptr; // n_vocab values
};

// The base rows of one chunk: n positions of n_vocab values each.
struct BaseChunk {
    int64_t n_vocab = 0;
    std::vector<float> top, nll, kept;
    std::vector<int32_t> argmax;
    std::vector<uint16_t> q; // n x n_vocab

    size_t size() const { return top.size(); }
    void resize(size_t n, int64_t vocab);
    BasePosition at(size_t k) const {
        return {top[k], nll[k], kept[k], argmax[k], q.data() + k * static_cast<size_t>(n_vocab)};
    }
    // Fills position k from a row of logits and the token that came next.
    void set(size_t k, const float *logits, int32_t target);
};

} // namespace lb::eval
