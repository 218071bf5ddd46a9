#include "eval/chunks.hpp"

#include "common/error.hpp"

#include <algorithm>

namespace lb::eval {

Chunks cut_text(const session::Session &s, const std::string &text, int n_ctx, int max_chunks,
                const char *what) {
    if (n_ctx < 2) fail(LB_E_INVALID_ARG, "%s: the context must be at least 2 tokens, not %d", what, n_ctx);
    const int trained = s.config().n_ctx_train;
    if (trained > 0 && n_ctx > trained)
        fail(LB_E_INVALID_ARG, "%s: a context of %d tokens is larger than the model's (%d)", what, n_ctx,
             trained);
    const tokenizer::Vocab &v = s.tokenizer().vocab();
    Chunks c = chunks_of(s.tokenizer().tokenize(text, true, false), n_ctx, v.add_bos, v.bos);
    if (c.tokens.size() < 2 * static_cast<size_t>(n_ctx))
        fail(LB_E_INVALID_ARG,
             "%s: the text is %zu tokens long; a context of %d needs at least %d (two contexts, as "
             "llama-perplexity asks)",
             what, c.tokens.size(), n_ctx, 2 * n_ctx);
    if (max_chunks > 0) c.n_chunks = std::min<uint64_t>(c.n_chunks, static_cast<uint64_t>(max_chunks));
    c.tokens.resize(c.n_chunks * static_cast<uint64_t>(n_ctx));
    return c;
}

Chunks chunks_of(std::vector<int32_t> tokens, int n_ctx, bool add_bos, int32_t bos) {
    Chunks c;
    c.tokens = std::move(tokens);
    c.n_ctx = n_ctx;
    c.n_chunks = c.tokens.size() / static_cast<size_t>(n_ctx);
    c.first = n_ctx / 2;
    c.add_bos = add_bos;
    c.bos = bos;
    return c;
}

void eval_chunk(session::Session &s, const Chunks &chunks, uint64_t c, bool all_positions) {
    const size_t n = static_cast<size_t>(chunks.n_ctx);
    std::vector<int32_t> chunk(chunks.tokens.begin() + static_cast<std::ptrdiff_t>(c * n),
                               chunks.tokens.begin() + static_cast<std::ptrdiff_t>((c + 1) * n));
    if (chunks.add_bos) chunk[0] = chunks.bos;
    std::vector<uint8_t> want(n, all_positions ? 1 : 0);
    for (size_t i = static_cast<size_t>(chunks.first); i + 1 < n; ++i) want[i] = 1;
    s.clear();
    s.eval_step(chunk.data(), chunk.size(), want.data());
}

} // namespace lb::eval
