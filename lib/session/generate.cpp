// Generation: the prompt evaluated, then one token at a time sampled from the
// logits: the most likely one (temperature 0), or at a temperature among the
// top_k most likely whose probabilities add up to top_p.
#include "common/error.hpp"
#include "session/session.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace lb::session {

namespace {

int32_t argmax(const float *logits, int64_t n) {
    return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

int32_t sample(const float *logits, int64_t n, const GenerateOptions &o, std::mt19937_64 &rng) {
    if (o.temperature <= 0.0f) return argmax(logits, n);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);
    const size_t k = o.top_k > 0 ? std::min<size_t>(static_cast<size_t>(o.top_k), ids.size()) : ids.size();
    std::partial_sort(
        ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
        [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    ids.resize(k);
    std::vector<double> p(k);
    const double max = logits[ids[0]];
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) sum += p[i] = std::exp((logits[ids[i]] - max) / o.temperature);
    // the nucleus: the fewest most likely tokens whose probability reaches top_p
    double kept = 0.0;
    size_t n_keep = 0;
    while (n_keep < k) {
        kept += p[n_keep++] / sum;
        if (kept >= static_cast<double>(o.top_p)) break;
    }
    std::discrete_distribution<size_t> pick(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n_keep));
    return ids[pick(rng)];
}

} // namespace

std::vector<int32_t> Session::generate(const std::string &prompt, const GenerateOptions &o,
                                       const std::function<bool(int32_t, const std::string &)> &on_token) {
    if (o.max_tokens < 0) fail(LB_E_INVALID_ARG, "generate: max_tokens is %d", o.max_tokens);
    if (!(o.temperature >= 0.0f) || !(o.top_p > 0.0f && o.top_p <= 1.0f) || o.top_k < 0)
        fail(LB_E_INVALID_ARG, "generate: temperature must be >= 0, top_p in (0, 1], top_k >= 0");
    std::vector<int32_t> tokens = tokenizer_->tokenize(prompt, true, false);
    if (tokens.empty()) fail(LB_E_INVALID_ARG, "generate: the prompt gives no tokens");
    ensure_cache();
    if (tokens.size() + static_cast<size_t>(o.max_tokens) > static_cast<size_t>(context()))
        fail(LB_E_INVALID_ARG,
             "generate: the prompt (%zu tokens) and %d more exceed the context of %d tokens", tokens.size(),
             o.max_tokens, context());
    clear();
    begin_work();
    eval_step(tokens.data(), tokens.size(), nullptr);
    std::mt19937_64 rng(o.seed);
    const tokenizer::Vocab &v = tokenizer_->vocab();
    std::vector<int32_t> out;
    for (int i = 0; i < o.max_tokens; ++i) {
        const int32_t t = sample(logits(0), config_.n_vocab, o, rng);
        if (o.stop_at_end && (t == v.eos || t == v.eot)) break;
        out.push_back(t);
        if (on_token && !on_token(t, tokenizer_->piece(t, false))) break;
        if (i + 1 < o.max_tokens) eval_step(&t, 1, nullptr);
    }
    return out;
}

} // namespace lb::session
