#include "session/session.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"

#include <algorithm>

namespace lb::session {

Session::Session(const Model &model) : model_(model), config_(read_config(model.kvs(), model.path())) {
    weights_ = load_weights(model, config_);
    config_.n_vocab = weights_.token_embd.w.rows;
    tokenizer_ = std::make_unique<tokenizer::Tokenizer>(tokenizer::read_vocab(model.kvs(), model.path()));
    const tokenizer::Vocab &v = tokenizer_->vocab();
    if (static_cast<int64_t>(v.size()) > config_.n_vocab)
        fail(LB_E_FORMAT,
             "%s: the vocabulary has %zu tokens but token_embd.weight only %lld rows: token ids would point "
             "outside "
             "the embedding",
             model.path().c_str(), v.size(), static_cast<long long>(config_.n_vocab));
    forward_ = std::make_unique<Forward>(config_, weights_);
}

int Session::threads() const {
    return params.n_threads > 0 ? params.n_threads : hardware_threads();
}

int Session::context() const {
    if (params.n_ctx > 0) return params.n_ctx;
    return config_.n_ctx_train > 0 ? std::min(config_.n_ctx_train, 4096) : 4096;
}

void Session::ensure_cache() {
    if (cache_.n_ctx() != context() || cache_.type() != params.kv_type) {
        cache_.reset(config_, context(), params.kv_type);
        n_past_ = 0;
    }
}

void Session::eval(const int32_t *tokens, size_t n, const uint8_t *want) {
    begin_work(); // a cancel asked before this call is cleared
    eval_step(tokens, n, want);
}

void Session::eval_step(const int32_t *tokens, size_t n, const uint8_t *want) {
    if (cancelled_.load()) fail(LB_E_CANCELLED, "evaluation cancelled");
    ensure_cache();
    if (n == 0) fail(LB_E_INVALID_ARG, "no tokens to evaluate");
    if (static_cast<size_t>(n_past_) + n > static_cast<size_t>(cache_.n_ctx()))
        fail(LB_E_INVALID_ARG, "%zu tokens after the %d in the cache exceed the context of %d tokens", n,
             n_past_, cache_.n_ctx());
    for (size_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= config_.n_vocab)
            fail(LB_E_INVALID_ARG, "token %d (at %zu) is outside the vocabulary of %lld tokens", tokens[i], i,
                 static_cast<long long>(config_.n_vocab));
    size_t n_want = 0;
    for (size_t i = 0; i < n; ++i) n_want += want == nullptr ? (i + 1 == n) : (want[i] != 0);
    logits_.resize(n_want * static_cast<size_t>(config_.n_vocab));
    n_logits_ = 0;
    const kernels::KernelSet &k = kernels != nullptr ? *kernels : kernels::active();
    if (params.repack)
        repack_for(weights_, k.dot(), threads(), [this](const uint8_t *p, size_t bytes) {
            for (size_t i = 0; i < model_.shard_count(); ++i) model_.mapping(i).release(p, bytes);
        });
    else if (!weights_.repacked.empty())
        drop_repacked(weights_);
    const MatmulObserver observe = [&](const Matrix &m, const float *rows, int64_t n_rows) {
        if (cancelled_.load()) return false;
        return !observer_ || observer_(m, rows, n_rows);
    };
    const size_t batch = static_cast<size_t>(std::max(1, params.n_batch));
    const int n_past_before = n_past_;
    try {
        eval_batches(tokens, n, want, batch, k, observe);
    } catch (...) {
        n_past_ = n_past_before; // the cache holds what it held before
        n_logits_ = 0;
        throw;
    }
}

void Session::eval_batches(const int32_t *tokens, size_t n, const uint8_t *want, size_t batch,
                           const kernels::KernelSet &k, const MatmulObserver &observe) {
    for (size_t start = 0; start < n; start += batch) {
        const int count = static_cast<int>(std::min(batch, n - start));
        std::vector<int> outputs;
        for (int i = 0; i < count; ++i) {
            const size_t at = start + static_cast<size_t>(i);
            if (want == nullptr ? at + 1 == n : want[at] != 0) outputs.push_back(i);
        }
        forward_->eval(tokens + start, count, n_past_, outputs,
                       logits_.data() + n_logits_ * static_cast<size_t>(config_.n_vocab), cache_, k,
                       threads(), observe);
        n_past_ += count;
        n_logits_ += outputs.size();
    }
}

} // namespace lb::session
