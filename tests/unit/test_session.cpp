// Sessions against llama.cpp's own forward pass (the peer's libllama, called
// through llama_decode / llama_get_logits): the same logits within a bound,
// stated as the largest absolute difference and the mean KL divergence between
// the two next-token distributions; and the known perplexity figures of
// ../shared/data/PROVENANCE.md.
#include "llama_peer.hpp"
#include "model/model.hpp"
#include "session/session.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace {

std::string read_text(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string validation_text() { return read_text(testdata::source_path("tests/data/tinystories_val.txt")); }

struct Agreement {
    double max_abs = 0.0, mean_kld = 0.0;
    size_t same_top = 0, positions = 0;
};

// KL(p || q) of the softmax distributions of two logit rows.
double kld(const float *p_logits, const float *q_logits, int64_t n) {
    auto log_softmax = [n](const float *l, std::vector<double> &out) {
        double max = l[0];
        for (int64_t i = 1; i < n; ++i) max = std::max<double>(max, l[i]);
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) sum += std::exp(l[i] - max);
        const double lse = max + std::log(sum);
        out.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = l[i] - lse;
    };
    std::vector<double> lp, lq;
    log_softmax(p_logits, lp);
    log_softmax(q_logits, lq);
    double k = 0.0;
    for (int64_t i = 0; i < n; ++i) k += std::exp(lp[static_cast<size_t>(i)]) * (lp[static_cast<size_t>(i)] - lq[static_cast<size_t>(i)]);
    return k;
}

Agreement compare(const std::vector<float> &ours, const std::vector<float> &theirs, int64_t n_vocab) {
    Agreement a;
    a.positions = ours.size() / static_cast<size_t>(n_vocab);
    for (size_t i = 0; i < ours.size(); ++i) a.max_abs = std::max(a.max_abs, std::fabs(double(ours[i]) - theirs[i]));
    for (size_t p = 0; p < a.positions; ++p) {
        const float *o = ours.data() + p * n_vocab, *t = theirs.data() + p * n_vocab;
        a.mean_kld += kld(t, o, n_vocab);
        a.same_top += std::max_element(o, o + n_vocab) - o == std::max_element(t, t + n_vocab) - t;
    }
    a.mean_kld /= static_cast<double>(a.positions);
    return a;
}

std::vector<float> lowbit_logits(const std::string &path, const std::vector<int32_t> &tokens, lb_type kv,
                                 int n_batch) {
    const lb::Model m(path);
    lb::session::Session s(m);
    s.params.n_ctx = static_cast<int>(tokens.size());
    s.params.kv_type = kv;
    s.params.n_batch = n_batch;
    s.params.n_threads = 2;
    std::vector<uint8_t> all(tokens.size(), 1);
    s.eval(tokens.data(), tokens.size(), all.data());
    std::vector<float> out;
    for (size_t k = 0; k < s.n_logits(); ++k) out.insert(out.end(), s.logits(k), s.logits(k) + s.config().n_vocab);
    return out;
}

TEST(Session, Stories260KLogitsMatchLlamaCpp) {
    const std::string path = testdata::stories_path();
    const peer::LlamaModel llama(path, false);
    const std::vector<int32_t> tokens = llama.tokenize(validation_text().substr(0, 1200), true, false);
    ASSERT_GE(tokens.size(), 200u);
    const std::vector<int32_t> first(tokens.begin(), tokens.begin() + 200);
    for (lb_type kv : {LB_TYPE_F32, LB_TYPE_F16}) {
        peer::LlamaRunOptions o;
        o.n_ctx = 256;
        o.f32_kv = kv == LB_TYPE_F32;
        const std::vector<float> theirs = llama.logits(first, o);
        // in one batch and in batches of 64 (the cache carries the rest)
        for (int batch : {512, 64}) {
            const Agreement a = compare(lowbit_logits(path, first, kv, batch), theirs, llama.n_vocab());
            // F32 cache: float rounding only (seen: 1.7e-5, KLD 5e-13). F16 cache:
            // a key, query or weight that rounds to binary16 the other way
            // moves a logit by up to ~1e-3 of its size (seen: 4e-3, KLD 1e-8)
            const bool f32 = kv == LB_TYPE_F32;
            EXPECT_LT(a.max_abs, f32 ? 1e-3 : 2e-2) << lb_type_name(kv) << " cache, batch " << batch;
            EXPECT_LT(a.mean_kld, f32 ? 1e-9 : 1e-6) << lb_type_name(kv) << " cache, batch " << batch;
            EXPECT_EQ(a.same_top, a.positions) << lb_type_name(kv) << " cache, batch " << batch;
            std::printf("stories260K, %s cache, batch %d: max |diff| %.3g, mean KLD %.3g\n", lb_type_name(kv), batch,
                        a.max_abs, a.mean_kld);
        }
    }
}

// PROVENANCE.md: F32 perplexity of stories260K on the first 20,000 characters
// of tinystories_val.txt at ctx 256 is 3.7783 (9,603 tokens, 4,699 scored).
TEST(Session, Stories260KPerplexityIsTheKnownFigure) {
    const lb::Model m(testdata::stories_path());
    lb::session::Session s(m);
    s.params.n_threads = 2;
    const lb::session::PerplexityResult r = s.perplexity(validation_text().substr(0, 20000), 256, 0, nullptr);
    EXPECT_EQ(r.n_tokens, 9603u);
    EXPECT_EQ(r.n_scored, 4699u);
    EXPECT_NEAR(r.perplexity, 3.7783, 3.7783 * 1e-3);
    std::printf("stories260K F32: PPL %.4f +/- %.5f\n", r.perplexity, r.uncertainty);
}

} // namespace
