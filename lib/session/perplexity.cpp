// Perplexity as llama-perplexity scores it: the text tokenized with BOS,
// consecutive chunks of n_ctx tokens each evaluated alone with its first
// token replaced by BOS, and in each chunk the predictions of positions
// n_ctx/2 ... n_ctx - 2 (of the next token) scored.
#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "session/session.hpp"

#include <chrono>
#include <cmath>

namespace lb::session {

double negative_log_likelihood(const float *logits, int64_t n_vocab, int32_t target) {
    float max = logits[0];
    for (int64_t i = 1; i < n_vocab; ++i) max = std::max(max, logits[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max));
    return std::log(sum) + static_cast<double>(max - logits[target]);
}

PerplexityResult Session::perplexity(const std::string &text, int n_ctx, int max_chunks,
                                     const std::function<bool(const PerplexityResult &)> &progress) {
    const auto start = std::chrono::steady_clock::now();
    begin_work();
    if (n_ctx < 2) fail(LB_E_INVALID_ARG, "perplexity: the context must be at least 2 tokens, not %d", n_ctx);
    if (config_.n_ctx_train > 0 && n_ctx > config_.n_ctx_train)
        fail(LB_E_INVALID_ARG, "perplexity: a context of %d tokens is larger than the model's (%d)", n_ctx,
             config_.n_ctx_train);
    std::vector<int32_t> tokens = tokenizer_->tokenize(text, true, false);
    PerplexityResult r;
    r.n_tokens = tokens.size();
    if (tokens.size() < 2 * static_cast<size_t>(n_ctx))
        fail(LB_E_INVALID_ARG,
             "perplexity: the text is %zu tokens long; a context of %d needs at least %d (two contexts, as "
             "llama-perplexity asks)",
             tokens.size(), n_ctx, 2 * n_ctx);
    r.n_chunks = tokens.size() / static_cast<size_t>(n_ctx);
    if (max_chunks > 0) r.n_chunks = std::min<uint64_t>(r.n_chunks, static_cast<uint64_t>(max_chunks));
    const tokenizer::Vocab &v = tokenizer_->vocab();

    const int saved_ctx = params.n_ctx;
    params.n_ctx = n_ctx;
    const int first = n_ctx / 2;
    std::vector<uint8_t> want(static_cast<size_t>(n_ctx), 0);
    for (int i = first; i < n_ctx - 1; ++i) want[static_cast<size_t>(i)] = 1;
    double nll = 0.0, nll2 = 0.0;
    try {
        for (uint64_t c = 0; c < r.n_chunks; ++c) {
            std::vector<int32_t> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(c * n_ctx),
                                       tokens.begin() + static_cast<std::ptrdiff_t>((c + 1) * n_ctx));
            if (v.add_bos) chunk[0] = v.bos;
            clear();
            eval_step(chunk.data(), chunk.size(), want.data());
            // each position's -log p over the threads, summed in position order
            std::vector<double> x(static_cast<size_t>(n_ctx - 1 - first));
            parallel_for(threads(), static_cast<int64_t>(x.size()), 8, [&](int64_t b, int64_t e) {
                for (int64_t k = b; k < e; ++k)
                    x[static_cast<size_t>(k)] =
                        negative_log_likelihood(logits(static_cast<size_t>(k)), config_.n_vocab,
                                                tokens[c * n_ctx + static_cast<size_t>(first + k) + 1]);
            });
            for (const double xi : x) {
                nll += xi;
                nll2 += xi * xi;
            }
            r.n_scored += static_cast<uint64_t>(n_ctx - 1 - first);
            r.n_chunks_done = c + 1;
            const double count = static_cast<double>(r.n_scored);
            r.mean_nll = nll / count;
            r.perplexity = std::exp(r.mean_nll);
            const double var = nll2 / count - r.mean_nll * r.mean_nll;
            r.uncertainty = var > 0 && count > 1 ? std::sqrt(var / (count - 1)) * r.perplexity : 0.0;
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (progress && !progress(r)) fail(LB_E_CANCELLED, "perplexity cancelled");
        }
    } catch (...) {
        params.n_ctx = saved_ctx;
        throw;
    }
    params.n_ctx = saved_ctx;
    return r;
}

} // namespace lb::session
