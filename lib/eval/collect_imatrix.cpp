#include "eval/collect_imatrix.hpp"

#include "common/error.hpp"
#include "eval/chunks.hpp"
#include "eval/imatrix_collector.hpp"
#include "imatrix/imatrix.hpp"
#include "session/observer_scope.hpp"

#include <cmath>

namespace lb::eval {

namespace {

void check_options(const ImatrixOptions &o) {
    if (o.save_frequency < 0)
        fail(LB_E_INVALID_ARG, "imatrix: the save frequency must not be negative, not %d", o.save_frequency);
    if (o.max_chunks < 0) fail(LB_E_INVALID_ARG, "imatrix: the chunk limit is %d", o.max_chunks);
}

// Every entry of an --in-file must name a weight of this model with its row
// length (and expert count): a matrix for another model is refused.
void check_matches_model(const imatrix::Imatrix &m, const Model &model) {
    for (const imatrix::Entry &e : m.entries) {
        const gguf::TensorInfo *t = nullptr;
        for (const Model::Tensor &mt : model.tensors())
            if (mt.info->name == e.name) t = mt.info;
        if (t == nullptr)
            fail(LB_E_INVALID_ARG,
                 "%s: imatrix entry %s names no tensor of %s: the file is for another model", m.path.c_str(),
                 e.name.c_str(), model.path().c_str());
        const uint64_t n_mat = static_cast<uint64_t>(t->ne[2] * t->ne[3]);
        if (static_cast<int64_t>(e.ne0()) != t->ne[0] || (e.counts.size() != 1 && e.counts.size() != n_mat))
            fail(LB_E_INVALID_ARG,
                 "%s: imatrix entry %s holds %zu x %zu values, but %s's tensor takes rows of %lld (x %llu): "
                 "the "
                 "file is for another model",
                 m.path.c_str(), e.name.c_str(), e.counts.size(), e.ne0(), model.path().c_str(),
                 static_cast<long long>(t->ne[0]), static_cast<unsigned long long>(n_mat));
    }
}

void write(const imatrix::Imatrix &m, const ImatrixOptions &o, const std::string &path) {
    if (o.legacy)
        imatrix::write_legacy(m, path);
    else
        imatrix::write_gguf(m, path);
}

} // namespace

ImatrixReport collect_imatrix(session::Session &s, const std::string &text, const ImatrixOptions &o,
                              const std::string &out_path, const ImatrixProgress &progress) {
    s.begin_work();
    check_options(o);
    const Chunks chunks = cut_text(s, text, o.n_ctx, o.max_chunks, "imatrix");
    ImatrixCollector collector(o.process_output, o.with_in_sum, static_cast<uint32_t>(o.n_ctx));
    for (const std::string &path : o.in_files) {
        const imatrix::Imatrix m = imatrix::read(path);
        check_matches_model(m, s.model());
        collector.merge(m);
    }

    ImatrixReport r;
    r.n_ctx = o.n_ctx;
    r.chunk_count = collector.chunk_count();
    r.n_chunks_total = chunks.n_chunks;
    const session::ObserverScope hook(s, [&](const session::Matrix &m, const float *rows, int64_t n_rows) {
        if (collector.wants(m.name, n_rows)) collector.add(m.name, rows, n_rows, m.w.n);
        return true;
    });
    const ContextFor context(s, o.n_ctx);
    const int64_t n_vocab = s.config().n_vocab;
    double nll = 0.0, nll2 = 0.0;
    for (uint64_t c = 0; c < chunks.n_chunks; ++c) {
        eval_chunk(s, chunks, c, true);
        for (size_t k = 0; k < chunks.scored(); ++k) {
            const double x = session::negative_log_likelihood(s.logits(static_cast<size_t>(chunks.first) + k),
                                                              n_vocab, chunks.target(c, k));
            nll += x;
            nll2 += x * x;
        }
        r.n_chunks = c + 1;
        r.n_scored += chunks.scored();
        const double n = static_cast<double>(r.n_scored), mean = nll / n;
        r.ppl = std::exp(mean);
        r.ppl_uncertainty = n > 1 ? r.ppl * std::sqrt(std::max(0.0, nll2 / n - mean * mean) / (n - 1)) : 0.0;
        r.n_entries = collector.size();
        const uint32_t before = r.chunk_count;
        r.chunk_count = collector.chunk_count();
        // llama-imatrix's snapshots: whenever its chunk count reaches a
        // multiple of the frequency (the last chunk included)
        if (o.save_frequency > 0 && r.chunk_count > before &&
            r.chunk_count % static_cast<uint32_t>(o.save_frequency) == 0)
            write(collector.result(o.dataset), o, out_path + ".at_" + std::to_string(r.chunk_count));
        if (progress && !progress(r)) fail(LB_E_CANCELLED, "imatrix: cancelled");
    }
    if (collector.size() == 0)
        fail(LB_E_INVALID_ARG,
             "imatrix: no matrix product had 16 rows or more (llama-imatrix ignores smaller ones): use a "
             "context of at least 16 tokens");
    write(collector.result(o.dataset), o, out_path);
    return r;
}

} // namespace lb::eval
