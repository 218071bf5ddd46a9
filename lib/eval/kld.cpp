#include "eval/kld.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "eval/base_file.hpp"
#include "eval/chunks.hpp"

namespace lb::eval {

namespace {

// The base's distributions at the scored positions of the chunk just evaluated.
void take_base(const session::Session &base, const Chunks &chunks, uint64_t c, BaseChunk &out) {
    out.resize(chunks.scored(), base.config().n_vocab);
    parallel_for(base.threads(), static_cast<int64_t>(chunks.scored()), 8, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
            const size_t i = static_cast<size_t>(k);
            out.set(i, base.logits(i), chunks.target(c, i));
        }
    });
}

// Scores the chunk's positions on the session's threads, then adds them in
// order (so the figures do not depend on the number of threads).
void add_model(const session::Session &model, const Chunks &chunks, uint64_t c, const BaseChunk &base,
               KldAccumulator &acc) {
    std::vector<PositionScore> scores(chunks.scored());
    parallel_for(model.threads(), static_cast<int64_t>(scores.size()), 8, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
            const size_t i = static_cast<size_t>(k);
            scores[i] =
                score_position(model.logits(i), base.at(i), model.config().n_vocab, chunks.target(c, i));
        }
    });
    for (const PositionScore &s : scores) acc.add(s);
    acc.end_chunk();
}

void report_progress(const KldProgress &progress, const KldAccumulator &acc) {
    if (progress && !progress(acc.report())) fail(LB_E_CANCELLED, "KL-divergence cancelled");
}

} // namespace

KldReport kl_divergence(session::Session &base, session::Session &model, const std::string &text,
                        const KldOptions &o, const KldProgress &progress) {
    base.begin_work();
    model.begin_work();
    const Chunks chunks = cut_text(base, text, o.n_ctx, o.max_chunks, "kld");
    if (base.config().n_vocab != model.config().n_vocab ||
        vocab_hash(base.tokenizer().vocab()) != vocab_hash(model.tokenizer().vocab()))
        fail(LB_E_INVALID_ARG,
             "kld: the base model's vocabulary (%lld tokens) is not the model's (%lld tokens)",
             static_cast<long long>(base.config().n_vocab), static_cast<long long>(model.config().n_vocab));
    if (model.config().n_ctx_train > 0 && o.n_ctx > model.config().n_ctx_train)
        fail(LB_E_INVALID_ARG, "kld: a context of %d tokens is larger than the model's (%d)", o.n_ctx,
             model.config().n_ctx_train);
    const ContextFor base_ctx(base, o.n_ctx), model_ctx(model, o.n_ctx);
    KldAccumulator acc;
    acc.set_chunks(chunks.n_chunks, chunks.n_ctx);
    BaseChunk b;
    for (uint64_t c = 0; c < chunks.n_chunks; ++c) {
        eval_chunk(base, chunks, c);
        take_base(base, chunks, c, b);
        eval_chunk(model, chunks, c);
        add_model(model, chunks, c, b, acc);
        report_progress(progress, acc);
    }
    return acc.report();
}

uint64_t save_base_logits(session::Session &base, const std::string &text, const KldOptions &o,
                          const std::string &path, const ChunkProgress &progress) {
    base.begin_work();
    const Chunks chunks = cut_text(base, text, o.n_ctx, o.max_chunks, "kld");
    const ContextFor ctx(base, o.n_ctx);
    BaseFileHeader h;
    h.n_vocab = static_cast<uint32_t>(base.config().n_vocab);
    h.n_ctx = static_cast<uint32_t>(o.n_ctx);
    h.n_chunks = static_cast<uint32_t>(chunks.n_chunks);
    h.first = static_cast<uint32_t>(chunks.first);
    h.add_bos = chunks.add_bos;
    h.vocab_hash = vocab_hash(base.tokenizer().vocab());
    BaseFileWriter out(path, h, chunks.tokens);
    BaseChunk b;
    for (uint64_t c = 0; c < chunks.n_chunks; ++c) {
        eval_chunk(base, chunks, c);
        take_base(base, chunks, c, b);
        out.write_chunk(b);
        if (progress && !progress(c + 1, chunks.n_chunks))
            fail(LB_E_CANCELLED, "saving the base logits cancelled");
    }
    out.finish();
    return chunks.n_chunks;
}

KldReport kl_divergence_from_file(const std::string &path, session::Session &model,
                                  const KldProgress &progress) {
    model.begin_work();
    BaseFileReader in(path);
    const BaseFileHeader &h = in.header();
    const tokenizer::Vocab &v = model.tokenizer().vocab();
    if (static_cast<int64_t>(h.n_vocab) != model.config().n_vocab || h.vocab_hash != vocab_hash(v))
        fail(LB_E_INVALID_ARG,
             "kld: %s holds the logits of another vocabulary (%u tokens%s) than the model's (%lld tokens)",
             path.c_str(), h.n_vocab,
             static_cast<int64_t>(h.n_vocab) == model.config().n_vocab ? ", other texts" : "",
             static_cast<long long>(model.config().n_vocab));
    if (h.add_bos != v.add_bos)
        fail(LB_E_INVALID_ARG,
             "kld: %s was made %s BOS at the start of each chunk; the model's vocabulary %s", path.c_str(),
             h.add_bos ? "with" : "without", v.add_bos ? "adds one" : "does not");
    if (model.config().n_ctx_train > 0 && static_cast<int>(h.n_ctx) > model.config().n_ctx_train)
        fail(LB_E_INVALID_ARG, "kld: %s has chunks of %u tokens, more than the model's context (%d)",
             path.c_str(), h.n_ctx, model.config().n_ctx_train);
    const Chunks chunks = chunks_of(in.tokens(), static_cast<int>(h.n_ctx), h.add_bos, v.bos);
    const ContextFor ctx(model, static_cast<int>(h.n_ctx));
    KldAccumulator acc;
    acc.set_chunks(chunks.n_chunks, chunks.n_ctx);
    BaseChunk b;
    for (uint64_t c = 0; c < chunks.n_chunks; ++c) {
        in.read_chunk(b);
        eval_chunk(model, chunks, c);
        add_model(model, chunks, c, b, acc);
        report_progress(progress, acc);
    }
    in.finish();
    return acc.report();
}

} // namespace lb::eval
